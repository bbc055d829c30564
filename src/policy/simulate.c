/* simulate.c - registry facts and the what-if simulation (simulate.h). */
#include "policy/simulate.h"

#include "policy/policy.h"

#include "core/date.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- facts ------------------------------------------------------------- */

struct employer_row {
    int64_t id;
    uint8_t registered, taxed, key;
    int8_t industry;
};

struct lease_row {
    int64_t talent_id;
    int64_t operator_id;
    int64_t rent;
    int32_t end;
    uint8_t filed;
    int8_t kind;
};

struct fact_tables {
    struct employer_row *emp;
    size_t nemp, capemp;
    struct lease_row *lease;
    size_t nlease, caplease;
};

static void tables_free(struct fact_tables *t)
{
    free(t->emp);
    free(t->lease);
}

static int enum_of(enum pol_enum e, const char *s, int fallback)
{
    int v = pol_enum_find(e, s, strlen(s));
    return v < 0 ? fallback : v;
}

static int load_employers(store *s, struct fact_tables *t, const char *where, store_val *args,
                          int nargs, ql_err *err)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT id, registered_in_district, taxed_in_district, key_enterprise, industry "
             "FROM employers %s ORDER BY id",
             where);
    store_rows *r;
    int rc = store_query(s, sql, args, nargs, &r);
    if (rc) return store_failure(s, rc, "policy", err);
    int other = pol_enum_find(PE_INDUSTRY, "other", 5);
    while ((rc = store_step(r)) == 1) {
        if (t->nemp == t->capemp) {
            t->capemp = t->capemp ? t->capemp * 2 : 1024;
            t->emp = xrealloc(t->emp, t->capemp * sizeof *t->emp);
        }
        struct employer_row *e = &t->emp[t->nemp++];
        e->id = store_col_int(r, 0);
        e->registered = store_col_int(r, 1) != 0;
        e->taxed = store_col_int(r, 2) != 0;
        e->key = store_col_int(r, 3) != 0;
        e->industry = (int8_t)enum_of(PE_INDUSTRY, store_col_text(r, 4, NULL), other);
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "policy", err) : 0;
}

/* The leases covering day, by talent, latest start last. */
static int load_leases(store *s, struct fact_tables *t, int32_t day, const char *and_where,
                       int64_t talent, ql_err *err)
{
    char sql[700];
    snprintf(sql, sizeof sql,
             "SELECT l.talent_id, l.filing_no IS NOT NULL, u.kind, l.rent_fen, "
             "COALESCE(l.ended_on, l.end_date), COALESCE(u.operator_id, 0) FROM leases l "
             "LEFT JOIN housing_units u ON u.id = l.unit_id "
             "WHERE l.start_date <= $1 AND COALESCE(l.ended_on, l.end_date) >= $1 %s "
             "ORDER BY l.talent_id, l.start_date, l.id",
             and_where);
    store_val args[] = {SV_INT(day), SV_INT(talent)};
    store_rows *r;
    int rc = store_query(s, sql, args, and_where[0] ? 2 : 1, &r);
    if (rc) return store_failure(s, rc, "policy", err);
    int market = pol_enum_find(PE_UNIT_KIND, "market", 6);
    while ((rc = store_step(r)) == 1) {
        int64_t tid = store_col_int(r, 0);
        struct lease_row *l;
        if (t->nlease && t->lease[t->nlease - 1].talent_id == tid) {
            l = &t->lease[t->nlease - 1]; /* a later lease of the same talent wins */
        } else {
            if (t->nlease == t->caplease) {
                t->caplease = t->caplease ? t->caplease * 2 : 1024;
                t->lease = xrealloc(t->lease, t->caplease * sizeof *t->lease);
            }
            l = &t->lease[t->nlease++];
        }
        l->talent_id = tid;
        l->filed = store_col_int(r, 1) != 0;
        l->kind = (int8_t)(store_col_isnull(r, 2)
                               ? market
                               : enum_of(PE_UNIT_KIND, store_col_text(r, 2, NULL), market));
        l->rent = store_col_int(r, 3);
        l->end = (int32_t)store_col_int(r, 4);
        l->operator_id = store_col_int(r, 5);
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "policy", err) : 0;
}

static const struct employer_row *find_employer(const struct fact_tables *t, int64_t id)
{
    size_t lo = 0, hi = t->nemp;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->emp[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->nemp && t->emp[lo].id == id ? &t->emp[lo] : NULL;
}

struct day_parts {
    int32_t day;
    int y, m, d;
};

static int full_years(const struct day_parts *on, int32_t since)
{
    int y, m, d;
    date_to_ymd(since, &y, &m, &d);
    int years = on->y - y - ((on->m < m || (on->m == m && on->d < d)) ? 1 : 0);
    return years < 0 ? 0 : years;
}

static int whole_months(const struct day_parts *on, int32_t since)
{
    int y, m, d;
    date_to_ymd(since, &y, &m, &d);
    int months = (on->y - y) * 12 + (on->m - m) - (on->d < d ? 1 : 0);
    return months < 0 ? 0 : months;
}

#define TALENT_COLUMNS                                                                             \
    "SELECT id, birth_date, education, level, employer_id, employed_since, insurance_months, "     \
    "owns_housing FROM talents "

/* Facts of the talent in the current row of r (TALENT_COLUMNS); *lease_i
 * walks t->lease in step with the talents' ids. */
static void row_facts(store_rows *r, const struct fact_tables *t, size_t *lease_i,
                      const struct day_parts *on, pol_facts *f, struct policy_subject *who)
{
    static int none_level = -1, other_degree, none_industry, none_kind;
    if (none_level < 0) {
        none_level = pol_enum_find(PE_LEVEL, "none", 4);
        other_degree = pol_enum_find(PE_DEGREE, "other", 5);
        none_industry = pol_enum_find(PE_INDUSTRY, "none", 4);
        none_kind = pol_enum_find(PE_UNIT_KIND, "none", 4);
    }
    memset(f, 0, sizeof *f);
    who->talent_id = store_col_int(r, 0);
    f->v[F_AGE] = full_years(on, (int32_t)store_col_int(r, 1));
    f->v[F_EDUCATION] = enum_of(PE_DEGREE, store_col_text(r, 2, NULL), other_degree);
    const char *level = store_col_text(r, 3, NULL);
    f->v[F_LEVEL] = level[0] ? enum_of(PE_LEVEL, level, none_level) : none_level;
    who->employer_id = store_col_int(r, 4);
    const struct employer_row *e = who->employer_id ? find_employer(t, who->employer_id) : NULL;
    int32_t since = (int32_t)store_col_int(r, 5);
    f->v[F_EMPLOYER_INDUSTRY] = none_industry;
    if (e && (store_col_isnull(r, 5) || since <= on->day)) {
        f->v[F_EMPLOYED] = 1;
        f->v[F_EMPLOYER_REGISTERED] = e->registered;
        f->v[F_EMPLOYER_TAXED] = e->taxed;
        f->v[F_EMPLOYER_KEY] = e->key;
        f->v[F_EMPLOYER_INDUSTRY] = e->industry;
        f->v[F_EMPLOYED_MONTHS] = store_col_isnull(r, 5) ? 0 : whole_months(on, since);
    }
    f->v[F_INSURANCE_MONTHS] = store_col_int(r, 6);
    f->v[F_OWNS_HOUSING] = store_col_int(r, 7) != 0;
    while (*lease_i < t->nlease && t->lease[*lease_i].talent_id < who->talent_id) (*lease_i)++;
    f->v[F_LEASE_KIND] = none_kind;
    who->lease_end = POL_OPEN_END;
    who->operator_id = 0;
    if (*lease_i < t->nlease && t->lease[*lease_i].talent_id == who->talent_id) {
        const struct lease_row *l = &t->lease[*lease_i];
        f->v[F_LEASE_ACTIVE] = 1;
        f->v[F_LEASE_FILED] = l->filed;
        f->v[F_LEASE_KIND] = l->kind;
        f->v[F_RENT] = l->rent;
        who->lease_end = l->end;
        who->operator_id = l->operator_id;
    }
}

static void day_parts_of(int32_t day, struct day_parts *on)
{
    on->day = day;
    date_to_ymd(day, &on->y, &on->m, &on->d);
}

int policy_registry_facts(store *s, int32_t day, policy_facts_fn fn, void *ctx, ql_err *err)
{
    struct fact_tables t;
    memset(&t, 0, sizeof t);
    struct day_parts on;
    day_parts_of(day, &on);
    int rc = load_employers(s, &t, "", NULL, 0, err);
    if (!rc) rc = load_leases(s, &t, day, "", 0, err);
    if (rc) {
        tables_free(&t);
        return rc;
    }
    store_rows *r;
    rc = store_query(s, TALENT_COLUMNS "ORDER BY id", NULL, 0, &r);
    if (rc) {
        tables_free(&t);
        return store_failure(s, rc, "policy", err);
    }
    size_t lease_i = 0;
    pol_facts f;
    struct policy_subject who;
    int stop = 0;
    while ((rc = store_step(r)) == 1) {
        row_facts(r, &t, &lease_i, &on, &f, &who);
        if ((stop = fn(&who, &f, ctx))) break;
    }
    store_rows_close(r);
    tables_free(&t);
    if (stop) return stop;
    return rc < 0 ? store_failure(s, rc, "policy", err) : 0;
}

int policy_talent_facts(store *s, int64_t talent_id, int32_t day, pol_facts *facts,
                        struct policy_subject *who, ql_err *err)
{
    struct fact_tables t;
    memset(&t, 0, sizeof t);
    struct day_parts on;
    day_parts_of(day, &on);
    store_val id[] = {SV_INT(talent_id)};
    int rc = load_employers(s, &t, "WHERE id = (SELECT employer_id FROM talents WHERE id = $1)", id,
                            1, err);
    if (!rc) rc = load_leases(s, &t, day, "AND l.talent_id = $2", talent_id, err);
    store_rows *r = NULL;
    if (!rc && (rc = store_query(s, TALENT_COLUMNS "WHERE id = $1", id, 1, &r)))
        rc = store_failure(s, rc, "policy", err);
    if (!rc) {
        rc = store_step(r);
        if (rc == 1) {
            size_t lease_i = 0;
            row_facts(r, &t, &lease_i, &on, facts, who);
            rc = 0;
        } else if (rc == 0) {
            rc = ql_errf(err, QL_ENOTFOUND, "talent_id", "there is no talent %lld",
                         "不存在编号为 %lld 的人才", (long long)talent_id);
        } else {
            rc = store_failure(s, rc, "policy", err);
        }
    }
    store_rows_close(r);
    tables_free(&t);
    return rc;
}

/* ---- one month --------------------------------------------------------- */

int64_t policy_month_for(const pol_programme *p, int32_t month_first, const pol_facts *facts,
                         int32_t lease_end, int *tier, int *failed)
{
    *tier = -1;
    if (failed) *failed = -1;
    const pol_version *v = pol_version_on(p, month_first);
    if (!v) return 0;
    int t = pol_match(p, v, facts, failed);
    if (t < 0) return 0;
    *tier = t;
    pol_month_in in = {month_first, month_first,      lease_end, (int)facts->v[F_MONTHS_RECEIVED],
                       0,           facts->v[F_RENT], 0,         0};
    pol_month_out out;
    ql_err err;
    if (pol_month_amount(v, t, &in, false, &out, &err)) return 0;
    return out.fen;
}

/* ---- simulation -------------------------------------------------------- */

struct emp_agg {
    int64_t id; /* 0: empty slot */
    int64_t cur_n, new_n, cur_fen, new_fen;
};

/* Months of the programme each person was paid before the month (each
 * month a subsidy period touched), by talent id. */
struct received {
    int64_t talent;
    int months;
};

static int load_received(store *s, const char *programme, int32_t month_first,
                         struct received **out, size_t *n, ql_err *err)
{
    *out = NULL;
    *n = 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT talent_id, start_date, end_date FROM applications "
                         "WHERE programme = $1 AND start_date IS NOT NULL AND start_date < $2 "
                         "ORDER BY talent_id",
                         (store_val[]){SV_TEXT(programme), SV_INT(month_first)}, 2, &r);
    if (rc) return store_failure(s, rc, "policy", err);
    size_t cap = 0;
    while ((rc = store_step(r)) == 1) {
        int64_t t = store_col_int(r, 0);
        int32_t from = (int32_t)store_col_int(r, 1);
        int32_t to = store_col_isnull(r, 2) ? month_first - 1 : (int32_t)store_col_int(r, 2);
        if (to > month_first - 1) to = month_first - 1;
        int m = date_months_touched(from, to);
        if (*n && (*out)[*n - 1].talent == t) {
            (*out)[*n - 1].months += m;
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = (struct received){t, m};
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "policy", err) : 0;
}

struct sim {
    struct received *received;
    size_t nreceived, ri;
    const pol_programme *cur, *prop;
    int32_t month;
    int64_t people, cur_n, new_n, cur_fen, new_fen, gain, lose, same, start, stop;
    int64_t cur_tier[POL_TIERS_MAX], new_tier[POL_TIERS_MAX];
    int cur_ver, new_ver;
    struct emp_agg *emp;
    size_t emp_cap, emp_n;
    json_t *lose_ex, *gain_ex;
};

static struct emp_agg *emp_slot(struct sim *x, int64_t id)
{
    if ((x->emp_n + 1) * 2 > x->emp_cap) { /* grow and rehash */
        size_t cap = x->emp_cap ? x->emp_cap * 2 : 1024;
        struct emp_agg *n = xcalloc(cap, sizeof *n);
        for (size_t i = 0; i < x->emp_cap; i++) {
            if (!x->emp[i].id) continue;
            size_t h = (size_t)((uint64_t)x->emp[i].id * 0x9E3779B97F4A7C15u) & (cap - 1);
            while (n[h].id) h = (h + 1) & (cap - 1);
            n[h] = x->emp[i];
        }
        free(x->emp);
        x->emp = n;
        x->emp_cap = cap;
    }
    size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15u) & (x->emp_cap - 1);
    while (x->emp[h].id && x->emp[h].id != id) h = (h + 1) & (x->emp_cap - 1);
    if (!x->emp[h].id) {
        x->emp[h].id = id;
        x->emp_n++;
    }
    return &x->emp[h];
}

static const char *reason(const pol_programme *p, int32_t month, int tier, int failed)
{
    const pol_version *v = pol_version_on(p, month);
    if (!v) return "no version in force";
    if (tier >= 0) return v->tier[tier].id;
    if (failed >= 0) return v->crit[failed].id;
    return "no tier";
}

static int sim_one(const struct policy_subject *who, const pol_facts *facts, void *vctx)
{
    struct sim *x = vctx;
    pol_facts fx = *facts;
    const pol_facts *f = &fx;
    while (x->ri < x->nreceived && x->received[x->ri].talent < who->talent_id) x->ri++;
    if (x->ri < x->nreceived && x->received[x->ri].talent == who->talent_id)
        fx.v[F_MONTHS_RECEIVED] = x->received[x->ri].months;
    int ct = -1, nt = -1, cf = -1, nf = -1;
    int64_t cur = x->cur ? policy_month_for(x->cur, x->month, f, who->lease_end, &ct, &cf) : 0;
    int64_t now = policy_month_for(x->prop, x->month, f, who->lease_end, &nt, &nf);
    x->people++;
    if (ct >= 0) {
        x->cur_n++;
        x->cur_tier[ct]++;
        x->cur_fen += cur;
    }
    if (nt >= 0) {
        x->new_n++;
        x->new_tier[nt]++;
        x->new_fen += now;
    }
    if (now > cur)
        x->gain++;
    else if (now < cur)
        x->lose++;
    else if (now > 0)
        x->same++;
    if (cur == 0 && now > 0) x->start++;
    if (cur > 0 && now == 0) x->stop++;
    if (who->employer_id && (cur || now)) {
        struct emp_agg *e = emp_slot(x, who->employer_id);
        e->cur_n += cur > 0;
        e->new_n += now > 0;
        e->cur_fen += cur;
        e->new_fen += now;
    }
    json_t *ex = now < cur ? x->lose_ex : now > cur ? x->gain_ex : NULL;
    if (ex && json_array_size(ex) < 10) {
        /* why, under the proposed policy: the failing criterion or the tier */
        const char *why = reason(x->prop, x->month, nt, nf);
        json_array_append_new(ex, json_pack("{sIsIsIss}", "talent_id", (json_int_t)who->talent_id,
                                            "current_fen", (json_int_t)cur, "proposed_fen",
                                            (json_int_t)now, "reason", why));
    }
    return 0;
}

static json_t *side_json(const pol_programme *p, int32_t month, int64_t eligible, int64_t fen,
                         const int64_t *by_tier)
{
    if (!p) return json_null();
    const pol_version *v = pol_version_on(p, month);
    json_t *tiers = json_object();
    for (int i = 0; v && i < v->ntier; i++)
        json_object_set_new(tiers, v->tier[i].id, json_integer(by_tier[i]));
    return json_pack("{sssosIsIsoso}", "programme", p->code, "version",
                     v ? json_string(v->id) : json_null(), "eligible", (json_int_t)eligible,
                     "budget_fen", (json_int_t)fen, "budget_yuan", pol_yuan_json(fen), "by_tier",
                     tiers);
}

static int by_change(const void *a, const void *b)
{
    const struct emp_agg *x = a, *y = b;
    int64_t dx = llabs(x->new_fen - x->cur_fen), dy = llabs(y->new_fen - y->cur_fen);
    if (dx != dy) return dx > dy ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int policy_simulate(store *s, const actor *a, const pol_programme *current,
                    const pol_programme *proposed, int32_t month_first, json_t **out, ql_err *err)
{
    *out = NULL;
    int rc = actor_require(a, P_POLICY_MANAGE, err);
    if (rc) return rc;
    struct sim x;
    memset(&x, 0, sizeof x);
    x.cur = current;
    x.prop = proposed;
    x.month = month_first;
    x.lose_ex = json_array();
    x.gain_ex = json_array();
    rc = load_received(s, proposed->code, month_first, &x.received, &x.nreceived, err);
    if (!rc) rc = policy_registry_facts(s, month_first, sim_one, &x, err);
    free(x.received);
    if (rc) {
        json_decref(x.lose_ex);
        json_decref(x.gain_ex);
        free(x.emp);
        return rc;
    }
    /* the employers with the largest changes, with their names */
    size_t n = 0;
    for (size_t i = 0; i < x.emp_cap; i++)
        if (x.emp[i].id &&
            (x.emp[i].cur_fen != x.emp[i].new_fen || x.emp[i].cur_n != x.emp[i].new_n))
            x.emp[n++] = x.emp[i];
    if (n) qsort(x.emp, n, sizeof *x.emp, by_change);
    json_t *emps = json_array();
    for (size_t i = 0; i < n && i < 20; i++) {
        const struct emp_agg *e = &x.emp[i];
        char name[256] = "";
        store_rows *r;
        if (!store_query(s, "SELECT name FROM employers WHERE id = $1",
                         (store_val[]){SV_INT(e->id)}, 1, &r)) {
            if (store_step(r) == 1) snprintf(name, sizeof name, "%s", store_col_text(r, 0, NULL));
            store_rows_close(r);
        }
        json_array_append_new(emps, json_pack("{sIsssIsIsIso}", "employer_id", (json_int_t)e->id,
                                              "name", name, "current", (json_int_t)e->cur_n,
                                              "proposed", (json_int_t)e->new_n, "change_fen",
                                              (json_int_t)(e->new_fen - e->cur_fen), "change_yuan",
                                              pol_yuan_json(e->new_fen - e->cur_fen)));
    }
    free(x.emp);
    char month[16];
    int y, m, d;
    date_to_ymd(month_first, &y, &m, &d);
    snprintf(month, sizeof month, "%04d-%02d", y, m);
    json_t *examples = x.lose_ex;
    json_array_extend(examples, x.gain_ex);
    json_decref(x.gain_ex);
    *out =
        json_pack("{sssIsosos IsIsIsIsI sIso soso}", "month", month, "people", (json_int_t)x.people,
                  "current", side_json(current, month_first, x.cur_n, x.cur_fen, x.cur_tier),
                  "proposed", side_json(proposed, month_first, x.new_n, x.new_fen, x.new_tier),
                  "gain", (json_int_t)x.gain, "lose", (json_int_t)x.lose, "same",
                  (json_int_t)x.same, "start", (json_int_t)x.start, "stop", (json_int_t)x.stop,
                  "budget_change_fen", (json_int_t)(x.new_fen - x.cur_fen), "budget_change_yuan",
                  pol_yuan_json(x.new_fen - x.cur_fen), "by_employer", emps, "examples", examples);
    return *out ? 0 : ql_errf(err, QL_EINTERNAL, "", "could not build the result", "无法生成结果");
}

int policy_simulate_text(store *s, const actor *a, const char *text, size_t len,
                         int32_t month_first, int64_t against, json_t **out, ql_err *err)
{
    *out = NULL;
    int rc = actor_require(a, P_POLICY_MANAGE, err);
    if (rc) return rc;
    pol_programme prop, cur;
    memset(&cur, 0, sizeof cur);
    pol_issues *is = xmalloc(sizeof *is);
    rc = policy_check_text(text, len, "source", &prop, is, err);
    if (!rc && is->nerrors) {
        const pol_issue *first = pol_first_error(is);
        rc = ql_errf(err, QL_EINVAL, "source",
                     "the proposed policy has %d error(s); the first at line %d: %s%.0s",
                     "拟议政策有 %d 处错误，第一处在第 %d 行：%.0s%s", is->nerrors,
                     first ? first->line : 0, first ? first->en : "", first ? first->zh : "");
    } else if (rc) {
        snprintf(err->field, sizeof err->field, "source");
    }
    free(is);
    int have_cur = 0;
    int64_t cur_id = against;
    if (!rc && against) {
        rc = policy_load_file(s, against, &cur, err);
        if (rc == QL_ENOTFOUND) snprintf(err->field, sizeof err->field, "against");
        have_cur = !rc;
    } else if (!rc) {
        rc = policy_load_active(s, prop.code, &cur, &cur_id, err);
        if (rc == QL_ENOTFOUND)
            rc = 0;
        else
            have_cur = !rc;
    }
    if (!rc) rc = policy_simulate(s, a, have_cur ? &cur : NULL, &prop, month_first, out, err);
    pol_free(&prop);
    pol_free(&cur);
    if (!rc) json_object_set_new(*out, "against", have_cur ? json_integer(cur_id) : json_null());
    return rc;
}
