/* facts_log.c - the index of registry changes that reach back
 * (facts_log.h). */
#include "registry/facts_log.h"

#include "core/date.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NONE INT32_MAX

static void day_text(int32_t day, char out[16])
{
    if (day == NONE)
        snprintf(out, 16, "open");
    else
        date_format(day, out, 16);
}

int facts_reaches_back(store *s, int32_t effective, bool *yes)
{
    int y, m, d;
    date_to_ymd(effective, &y, &m, &d);
    char month[16];
    snprintf(month, sizeof month, "%04d-%02d", y, m);
    int64_t n = 0;
    int rc = store_query_int(s, "SELECT count(*) FROM cycles WHERE month >= $1",
                             (store_val[]){SV_TEXT(month)}, 1, &n);
    *yes = n > 0;
    return rc;
}

struct change {
    int64_t talent;
    const char *fact;
    int32_t effective;
    const char *source_type;
    int64_t source_id;
    const char *action;
    json_t *was, *now; /* stolen */
    char en[1000], zh[1000];
};

static void change_init(struct change *c, int64_t talent, const char *fact, int32_t effective,
                        int64_t source_id, const char *source_type, const char *action, json_t *was,
                        json_t *now)
{
    memset(c, 0, sizeof *c);
    c->talent = talent;
    c->fact = fact;
    c->effective = effective;
    c->source_type = source_type;
    c->source_id = source_id;
    c->action = action;
    c->was = was;
    c->now = now;
}

/* Appends c when it reaches back. Frees c->was and c->now. */
static int put(store *s, const actor *a, struct change *c, ql_err *err)
{
    bool back = false;
    int rc = facts_reaches_back(s, c->effective, &back);
    char *was = NULL, *now = NULL;
    if (!rc && back) {
        char who[128];
        actor_label(a, who);
        was = json_dumps(c->was, JSON_COMPACT | JSON_SORT_KEYS);
        now = json_dumps(c->now, JSON_COMPACT | JSON_SORT_KEYS);
        store_val v[] = {SV_INT(c->talent),
                         SV_TEXT(c->fact),
                         SV_INT(c->effective),
                         SV_TEXT(c->source_type),
                         SV_INT(c->source_id),
                         SV_TEXT(c->action),
                         SV_TEXT(was ? was : "{}"),
                         SV_TEXT(now ? now : "{}"),
                         SV_TEXT(c->en),
                         SV_TEXT(c->zh),
                         SV_TEXT(who),
                         SV_INT((int64_t)time(NULL))};
        rc = store_exec(s,
                        "INSERT INTO fact_changes (talent_id, fact, effective, source_type, "
                        "source_id, action, facts_was, facts_now, summary_en, summary_zh, "
                        "recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                        "$10, $11, $12)",
                        v, 12, NULL);
    }
    free(was);
    free(now);
    json_decref(c->was);
    json_decref(c->now);
    c->was = c->now = NULL;
    return rc ? store_failure(s, rc, "", err) : 0;
}

/* Appends "; " (or "；") and the formatted text to c's sentences. */
__attribute__((format(printf, 3, 5), format(printf, 4, 5))) static void
say(struct change *c, int first, const char *en, const char *zh, ...)
{
    char e[600], z[600];
    va_list ap;
    va_start(ap, zh);
    ql_vformat2(e, sizeof e, z, sizeof z, en, zh, ap);
    va_end(ap);
    size_t ne = strlen(c->en), nz = strlen(c->zh);
    snprintf(c->en + ne, sizeof c->en - ne, "%s%s", first ? "" : "; ", e);
    snprintf(c->zh + nz, sizeof c->zh - nz, "%s%s", first ? "" : "；", z);
}

/* ---- leases ------------------------------------------------------------ */

int facts_lease_read(store *s, int64_t lease, struct facts_lease *out)
{
    memset(out, 0, sizeof *out);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT talent_id, start_date, COALESCE(ended_on, end_date), rent_fen "
                         "FROM leases WHERE id = $1",
                         (store_val[]){SV_INT(lease)}, 1, &r);
    if (rc) return rc;
    if ((rc = store_step(r)) == 1) {
        out->exists = true;
        out->talent = store_col_int(r, 0);
        out->start = (int32_t)store_col_int(r, 1);
        out->end = (int32_t)store_col_int(r, 2);
        out->rent = store_col_int(r, 3);
    }
    store_rows_close(r);
    return rc < 0 ? rc : 0;
}

static json_t *lease_json(int64_t id, const struct facts_lease *l)
{
    if (!l->exists) return json_object();
    char a[16], b[16];
    day_text(l->start, a);
    day_text(l->end, b);
    return json_pack("{sIsssssI}", "lease", (json_int_t)id, "start", a, "end", b, "rent_fen",
                     (json_int_t)l->rent);
}

static int lease_recorded(store *s, const actor *a, const char *action, int64_t id,
                          const struct facts_lease *was, const struct facts_lease *now, ql_err *err)
{
    struct change c;
    change_init(&c, now->talent, "lease", now->start, id, "lease", action, lease_json(id, was),
                lease_json(id, now));
    char a1[16], b1[16];
    day_text(now->start, a1);
    day_text(now->end, b1);
    say(&c, 1, "lease #%lld recorded, %s to %s", "登记租约 #%lld（%s 至 %s）", (long long)id, a1,
        b1);
    return put(s, a, &c, err);
}

int facts_lease_log(store *s, const actor *a, const char *action, int64_t lease,
                    const struct facts_lease *was, ql_err *err)
{
    struct facts_lease now;
    int rc = facts_lease_read(s, lease, &now);
    if (rc) return store_failure(s, rc, "", err);
    if (!now.exists) return 0;
    struct facts_lease none = {0};
    if (!was || !was->exists) return lease_recorded(s, a, action, lease, &none, &now, err);
    if (was->talent != now.talent) {
        struct change c;
        change_init(&c, was->talent, "lease", was->start, lease, "lease", action,
                    lease_json(lease, was), json_object());
        say(&c, 1, "lease #%lld moved to another tenant", "租约 #%lld 改登记于他人名下",
            (long long)lease);
        rc = put(s, a, &c, err);
        return rc ? rc : lease_recorded(s, a, action, lease, was, &now, err);
    }
    struct change c;
    change_init(&c, now.talent, "lease", NONE, lease, "lease", action, lease_json(lease, was),
                lease_json(lease, &now));
    int first = 1;
    char d0[16], d1[16];
    if (was->start != now.start) {
        c.effective = was->start < now.start ? was->start : now.start;
        day_text(now.start, d1);
        day_text(was->start, d0);
        say(&c, first, "lease #%lld starts on %s (was %s)", "租约 #%lld 起租日改为 %s（原为 %s）",
            (long long)lease, d1, d0);
        first = 0;
    }
    if (was->end != now.end) {
        int32_t e = (was->end < now.end ? was->end : now.end) + 1;
        if (e < c.effective) c.effective = e;
        day_text(now.end, d1);
        day_text(was->end, d0);
        if (now.end < was->end)
            say(&c, first, "lease #%lld ended on %s", "租约 #%lld 于 %s 终止", (long long)lease,
                d1);
        else
            say(&c, first, "lease #%lld runs to %s (was to %s)", "租约 #%lld 延至 %s（原至 %s）",
                (long long)lease, d1, d0);
        first = 0;
    }
    if (was->rent != now.rent) {
        int32_t e = was->start < now.start ? was->start : now.start;
        if (e < c.effective) c.effective = e;
        char r0[32], r1[32];
        validate_money_text(was->rent, r0, sizeof r0);
        validate_money_text(now.rent, r1, sizeof r1);
        say(&c, first, "lease #%lld rent %s yuan a month (was %s)",
            "租约 #%lld 月租改为 %s 元（原为 %s 元）", (long long)lease, r1, r0);
        first = 0;
    }
    if (first) { /* nothing the cycle reads changed */
        json_decref(c.was);
        json_decref(c.now);
        return 0;
    }
    return put(s, a, &c, err);
}

/* ---- employment and housing -------------------------------------------- */

static void add_period(struct facts_talent *f, int32_t from, int32_t to, int64_t employer)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->from = xrealloc(f->from, (size_t)f->cap * sizeof *f->from);
        f->to = xrealloc(f->to, (size_t)f->cap * sizeof *f->to);
        f->employer = xrealloc(f->employer, (size_t)f->cap * sizeof *f->employer);
    }
    f->from[f->n] = from;
    f->to[f->n] = to;
    f->employer[f->n++] = employer;
}

void facts_talent_free(struct facts_talent *f)
{
    free(f->from);
    free(f->to);
    free(f->employer);
    memset(f, 0, sizeof *f);
}

int facts_talent_read(store *s, int64_t talent, struct facts_talent *out)
{
    memset(out, 0, sizeof *out);
    out->housing_from = NONE;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT start_date, end_date, employer_id FROM employments WHERE "
                         "talent_id = $1 ORDER BY start_date, id",
                         (store_val[]){SV_INT(talent)}, 1, &r);
    if (rc) return rc;
    while ((rc = store_step(r)) == 1)
        add_period(out, (int32_t)store_col_int(r, 0),
                   store_col_isnull(r, 1) ? NONE : (int32_t)store_col_int(r, 1),
                   store_col_int(r, 2));
    store_rows_close(r);
    if (rc < 0) return rc;
    rc = store_query(s,
                     "SELECT COALESCE(employer_id, 0), COALESCE(employed_since, 0), housing_from "
                     "FROM talents WHERE id = $1",
                     (store_val[]){SV_INT(talent)}, 1, &r);
    if (rc) return rc;
    if ((rc = store_step(r)) == 1) {
        if (store_col_int(r, 0)) /* the current employer, from the day given */
            add_period(out, (int32_t)store_col_int(r, 1), NONE, store_col_int(r, 0));
        if (!store_col_isnull(r, 2)) out->housing_from = (int32_t)store_col_int(r, 2);
    }
    store_rows_close(r);
    return rc < 0 ? rc : 0;
}

int64_t facts_talent_employer_on(const struct facts_talent *f, int32_t day)
{
    int64_t who = 0;
    int32_t since = 0;
    for (int i = 0; i < f->n; i++)
        if (f->from[i] <= day && day <= f->to[i] && (!who || f->from[i] >= since)) {
            who = f->employer[i];
            since = f->from[i];
        }
    return who;
}

/* The first day on which a and b name different employers, or NONE. The
 * employer changes only at a period's first day or the day after its last,
 * so those days are the ones to compare. */
static int32_t first_difference(const struct facts_talent *a, const struct facts_talent *b)
{
    int32_t best = NONE;
    const struct facts_talent *both[2] = {a, b};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < both[k]->n; i++) {
            int32_t days[2] = {both[k]->from[i],
                               both[k]->to[i] == NONE ? NONE : both[k]->to[i] + 1};
            for (int j = 0; j < 2; j++)
                if (days[j] < best &&
                    facts_talent_employer_on(a, days[j]) != facts_talent_employer_on(b, days[j]))
                    best = days[j];
        }
    return best;
}

static int employer_name(store *s, int64_t id, char *out, size_t n)
{
    snprintf(out, n, "#%lld", (long long)id);
    store_rows *r;
    int rc = store_query(s, "SELECT name FROM employers WHERE id = $1", (store_val[]){SV_INT(id)},
                         1, &r);
    if (rc) return rc;
    if ((rc = store_step(r)) == 1) snprintf(out, n, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    return rc < 0 ? rc : 0;
}

static json_t *employer_json(int64_t employer, int32_t day)
{
    char d[16];
    day_text(day, d);
    return json_pack("{ssso}", "on", d, "employer_id",
                     employer ? json_integer((json_int_t)employer) : json_null());
}

static json_t *housing_json(int32_t from)
{
    char d[16];
    day_text(from, d);
    return json_pack("{ss}", "owns_housing_from", from == NONE ? "none" : d);
}

int facts_talent_log(store *s, const actor *a, const char *action, int64_t talent,
                     const struct facts_talent *was, ql_err *err)
{
    struct facts_talent now;
    int rc = facts_talent_read(s, talent, &now);
    if (rc) {
        facts_talent_free(&now);
        return store_failure(s, rc, "", err);
    }
    int32_t e = first_difference(was, &now);
    if (e != NONE) {
        int64_t x = facts_talent_employer_on(was, e), y = facts_talent_employer_on(&now, e);
        char nx[801] = "", ny[801] = "", day[16];
        if (x) rc = employer_name(s, x, nx, sizeof nx);
        if (!rc && y) rc = employer_name(s, y, ny, sizeof ny);
        if (rc) {
            facts_talent_free(&now);
            return store_failure(s, rc, "", err);
        }
        struct change c;
        change_init(&c, talent, "employment", e, talent, "talent", action, employer_json(x, e),
                    employer_json(y, e));
        if (x && !y) {
            day_text(e - 1, day);
            say(&c, 1, "employment at %s ended on %s", "在%s的任职于 %s 结束", nx, day);
        } else if (!x) {
            day_text(e, day);
            say(&c, 1, "employed by %s from %s", "在%s任职（自 %s 起）", ny, day);
        } else {
            day_text(e, day);
            say(&c, 1, "employer from %s: %s (was %s)", "自 %s 起任职单位为%s（原为%s）", day, ny,
                nx);
        }
        rc = put(s, a, &c, err);
    }
    if (!rc && was->housing_from != now.housing_from) {
        int32_t h = was->housing_from < now.housing_from ? was->housing_from : now.housing_from;
        struct change c;
        change_init(&c, talent, "housing", h, talent, "talent", action,
                    housing_json(was->housing_from), housing_json(now.housing_from));
        char d0[16], d1[16];
        day_text(was->housing_from, d0);
        day_text(now.housing_from, d1);
        if (was->housing_from == NONE)
            say(&c, 1, "owns housing in Shanghai from %s", "自 %s 起本人在沪有房", d1);
        else if (now.housing_from == NONE)
            say(&c, 1, "no longer recorded as owning housing in Shanghai (was from %s)",
                "不再登记为在沪有房（原自 %s 起）", d0);
        else
            say(&c, 1, "owns housing in Shanghai from %s (was from %s)",
                "在沪有房日期改为 %s（原为 %s）", d1, d0);
        rc = put(s, a, &c, err);
    }
    facts_talent_free(&now);
    return rc;
}
