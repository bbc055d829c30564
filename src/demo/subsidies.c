/* subsidies.c - many active subsidies at once, decided by the policy engine,
 * written as the workflow would have left them (demo.h,
 * demo_active_subsidies). */
#include "demo/demo.h"

#include "audit/audit.h"
#include "calendar/holidays.h"
#include "core/calendar.h"
#include "core/date.h"
#include "core/xalloc.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "registry/facts_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROGRAMME "district-rent"

/* The market lease a person without a filed one records (March 2026 to
 * February 2027, as demo_applications gives its applicants). */
#define LEASE_START     "2026-03-01"
#define LEASE_END       "2027-02-28"
#define LEASE_SIGNED    "2026-02-20"
#define LEASE_FILED     "2026-02-26"
#define LEASE_NEEDED_TO "2026-12-31" /* a filed lease to this day is enough */

static int64_t market_rent(int64_t talent)
{
    return (3800 + (talent * 130) % 4200) * 100; /* fen */
}

/* One person chosen: what the application needs besides the decision. */
struct chosen {
    int64_t talent, employer;
    int32_t facts[F_COUNT]; /* the registry's facts on the review day (pass two) */
    uint8_t lease;          /* needs a market lease */
    uint8_t seen;           /* facts read in pass two */
};

struct bulk {
    store *s;
    const actor *a;
    ql_err *err;
    const pol_programme *p;
    const pol_version *v;
    int64_t file_id;
    int64_t want;
    int32_t reviewed, applied, published, notice_from, notice_to, approved, activated, start;
    int32_t needed_to; /* a filed lease to this day needs no other */
    int64_t *skip;     /* talents with an application of the programme, sorted */
    size_t nskip, skip_i;
    struct chosen *c;
    size_t n, walk_i;
    int market;      /* the enum value of a market flat */
    size_t from, to; /* the batch being written */
    int64_t first_id, last_id;
    struct demo_subsidies *out;
    int64_t batch_monthly, batch_tier[16];
    struct work *work; /* two, for the decisions of a transaction */
};

#define STOP_WALK 1 /* a callback's "enough" (store errors are negative) */

/* Pass one: the first people the policy takes given a filed lease. */
static int choose(const struct policy_subject *who, const pol_facts *facts, void *ctx)
{
    struct bulk *x = ctx;
    while (x->skip_i < x->nskip && x->skip[x->skip_i] < who->talent_id) x->skip_i++;
    if (x->skip_i < x->nskip && x->skip[x->skip_i] == who->talent_id) return 0;
    pol_facts f = *facts;
    int has = f.v[F_LEASE_ACTIVE] && f.v[F_LEASE_FILED] && who->lease_end >= x->needed_to;
    if (!has) { /* the market lease it will have */
        f.v[F_LEASE_ACTIVE] = 1;
        f.v[F_LEASE_FILED] = 1;
        f.v[F_LEASE_KIND] = x->market;
        f.v[F_RENT] = market_rent(who->talent_id);
    }
    if (pol_match(x->p, x->v, &f, NULL) < 0) return 0;
    struct chosen *c = &x->c[x->n++]; /* room for want (pages taken as used) */
    memset(c, 0, sizeof *c);
    c->talent = who->talent_id;
    c->lease = (uint8_t)!has;
    return (int64_t)x->n == x->want ? STOP_WALK : 0;
}

/* Pass two: the facts of the chosen, as the registry now holds them. */
static int keep_facts(const struct policy_subject *who, const pol_facts *facts, void *ctx)
{
    struct bulk *x = ctx;
    while (x->walk_i < x->n && x->c[x->walk_i].talent < who->talent_id) x->walk_i++;
    if (x->walk_i == x->n) return STOP_WALK;
    struct chosen *c = &x->c[x->walk_i];
    if (c->talent != who->talent_id) return 0;
    for (int k = 0; k < F_COUNT; k++) {
        if (facts->v[k] < INT32_MIN || facts->v[k] > INT32_MAX)
            return ql_errf(x->err, QL_EINTERNAL, "active_subsidies",
                           "talent %lld: fact %s out of range", "人才 %lld：事实 %s 超出范围",
                           (long long)who->talent_id, pol_fact(k)->name);
        c->facts[k] = (int32_t)facts->v[k];
    }
    c->employer = who->employer_id;
    c->seen = 1;
    return 0;
}

static int talents_with_applications(struct bulk *x)
{
    store_rows *r;
    int rc = store_query(x->s,
                         "SELECT DISTINCT talent_id FROM applications WHERE programme = $1 "
                         "ORDER BY talent_id",
                         (store_val[]){SV_TEXT(PROGRAMME)}, 1, &r);
    if (rc) return store_failure(x->s, rc, "", x->err);
    size_t cap = 0;
    while ((rc = store_step(r)) == 1) {
        if (x->nskip == cap) {
            cap = cap ? cap * 2 : 256;
            x->skip = xrealloc(x->skip, cap * sizeof *x->skip);
        }
        x->skip[x->nskip++] = store_col_int(r, 0);
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(x->s, rc, "", x->err) : 0;
}

/* ---- leases ------------------------------------------------------------ */

static int leases_body(store *s, void *ctx)
{
    struct bulk *x = ctx;
    static const char *const roads[] = {"漕溪北路", "天钥桥路", "宜山路", "虹桥路",
                                        "龙华中路", "中山西路", "凯旋路", "钦州路"};
    int32_t start, end, signed_on, filed;
    date_parse(LEASE_START, &start);
    date_parse(LEASE_END, &end);
    date_parse(LEASE_SIGNED, &signed_on);
    date_parse(LEASE_FILED, &filed);
    int64_t now = (int64_t)time(NULL), n = 0, first = 0, last = 0;
    bool back = false; /* a cycle has reached the leases' first month: each is a change */
    int rc = facts_reaches_back(s, start, &back);
    if (rc) return store_failure(s, rc, "", x->err);
    for (size_t i = x->from; i < x->to; i++) {
        if (!x->c[i].lease) continue;
        int64_t t = x->c[i].talent;
        char address[160], filing[32];
        snprintf(address, sizeof address, "徐汇区%s %lld 弄 %lld 号 %lld 室",
                 roads[t % (int64_t)(sizeof roads / sizeof roads[0])], (long long)(100 + t % 700),
                 (long long)(1 + t % 30), (long long)(101 + (t * 7) % 1500));
        /* WQ2026-1xxxxxxx: apart from the generator's (signed by 2025) and
         * demo_applications' (WQ2026-9xxxxxxx) */
        snprintf(filing, sizeof filing, "WQ2026-%08lld", (long long)(10000000 + t));
        int64_t rent = market_rent(t), id;
        store_val v[] = {SV_INT(t),     SV_TEXT(address), SV_INT(start),     SV_INT(end),
                         SV_INT(rent),  SV_INT(rent),     SV_INT(signed_on), SV_TEXT(filing),
                         SV_INT(filed), SV_INT(now)};
        rc = store_insert(s,
                          "INSERT INTO leases (talent_id, unit_id, address, start_date, "
                          "end_date, rent_fen, deposit_fen, signed_date, filing_no, "
                          "filed_date, status, created_at, updated_at) VALUES ($1, NULL, $2, "
                          "$3, $4, $5, $6, $7, $8, $9, 'active', $10, $10)",
                          v, 10, &id);
        if (rc) return store_failure(s, rc, "", x->err);
        if (back && (rc = facts_lease_log(s, x->a, "lease.bulk_create", id, NULL, x->err)))
            return rc;
        if (!n) first = t;
        last = t;
        n++;
    }
    if (!n) return 0;
    json_t *detail = json_pack("{sssIsIsIssss}", "source", "demo", "leases", (json_int_t)n,
                               "first_talent", (json_int_t)first, "last_talent", (json_int_t)last,
                               "start_date", LEASE_START, "end_date", LEASE_END);
    rc = audit_by(s, x->a, "lease.bulk_create", "lease", 0, NULL, NULL, detail, NULL, x->err);
    json_decref(detail);
    return rc;
}

/* ---- applications ------------------------------------------------------ */

/* The events of an application walked to active by the demo, as the
 * workflow writes them ($1 application, $2 applicant, $3 staff, $4 time,
 * $5 day of publication, $6 first day paid; keys as the workflow makes
 * them for requests without one). A second person approves what the staff
 * reviewed, as the workflow demands (demo:approver, as demo_applications). */
static const char events_sql[] =
    "INSERT INTO application_events (application_id, action, from_state, to_state, actor, "
    "actor_id, reason, request_key, at, effective) VALUES "
    "($1, 'create', 'draft', 'draft', $2, 0, '', 'auto:create', $4, NULL), "
    "($1, 'submit', 'draft', 'submitted', $2, 0, '', 'auto:submit:draft:2', $4, NULL), "
    "($1, 'attest', 'submitted', 'attested', $3, 0, '', 'auto:attest:submitted:3', $4, NULL), "
    "($1, 'accept', 'attested', 'accepted', $3, 0, '', 'auto:accept:attested:4', $4, NULL), "
    "($1, 'review', 'accepted', 'reviewed', $3, 0, '', 'auto:review:accepted:5', $4, NULL), "
    "($1, 'publish', 'reviewed', 'notice', $3, 0, '', 'auto:publish:reviewed:6', $4, $5), "
    "($1, 'approve', 'notice', 'approved', 'demo:approver', 0, '', 'auto:approve:notice:7', $4, "
    "NULL), "
    "($1, 'activate', 'approved', 'active', $3, 0, '', 'auto:activate:approved:8', $4, $6)";

/* The decision on c's facts, as the review stores it: the trace with the
 * policy file, months received and monthly amount. */
struct decided {
    int tier;
    int64_t monthly;
    char *trace; /* JSON text */
};

static int decide(const struct bulk *x, const struct chosen *c, struct decided *out, ql_err *err)
{
    pol_facts f;
    for (int k = 0; k < F_COUNT; k++) f.v[k] = c->facts[k];
    f.v[F_FAMILY_OWNS_HOUSING] = 0; /* declared: none */
    f.v[F_OTHER_BENEFIT] = 0;
    f.v[F_MONTHS_RECEIVED] = 0; /* no application of the programme before */
    int version = -1;
    json_t *trace = NULL;
    int rc = pol_decide(x->p, x->reviewed, &f, &version, &out->tier, &trace, err);
    if (rc) return rc;
    if (out->tier < 0 || !json_is_true(json_object_get(trace, "eligible")) ||
        &x->p->ver[version] != x->v) {
        json_decref(trace);
        return ql_errf(err, QL_EINTERNAL, "active_subsidies",
                       "talent %lld was chosen, but the decision does not take them",
                       "人才 %lld 已选中，但认定结果为不符合", (long long)c->talent);
    }
    /* a whole month at the start of the schedule, as the review computes it */
    pol_month_in in = {
        x->reviewed, date_month_first(x->reviewed), POL_OPEN_END, 0, 0, f.v[F_RENT], 0, 0};
    pol_month_out mo;
    out->monthly = 0;
    if (!pol_month_amount(x->v, out->tier, &in, false, &mo, err)) out->monthly = mo.fen;
    json_object_set_new(trace, "policy_file", json_integer(x->file_id));
    json_object_set_new(trace, "months_received", json_integer(0));
    json_object_set_new(trace, "monthly_fen", json_integer(out->monthly));
    out->trace = json_dumps(trace, JSON_COMPACT);
    json_decref(trace);
    return 0;
}

/* The decisions of one batch, made on a thread of their own while the
 * batch before is written (the engine and jansson keep no shared state). */
struct work {
    const struct bulk *x;
    size_t from, to;
    struct decided *d; /* to - from of them */
    int rc;
    ql_err err;
    pthread_t thread;
    int running;
};

static void *decide_batch(void *arg)
{
    struct work *w = arg;
    w->rc = 0;
    for (size_t i = w->from; !w->rc && i < w->to; i++)
        w->rc = decide(w->x, &w->x->c[i], &w->d[i - w->from], &w->err);
    return NULL;
}

#define DECIDE_BATCH 1000 /* decisions made ahead on the second thread */

static void work_start(struct work *w, const struct bulk *x, size_t from, size_t to)
{
    for (size_t i = 0; i < DECIDE_BATCH; i++) {
        free(w->d[i].trace);
        w->d[i].trace = NULL;
    }
    w->x = x;
    w->from = from;
    w->to = to;
    w->rc = 0;
    ql_err_clear(&w->err);
    if (pthread_create(&w->thread, NULL, decide_batch, w) == 0) {
        w->running = 1;
    } else {
        decide_batch(w); /* no thread: here */
        w->running = 0;
    }
}

static void work_wait(struct work *w)
{
    if (w->running) pthread_join(w->thread, NULL);
    w->running = 0;
}

/* Writes the applications of w (decided) inside the transaction of x. */
static int write_rows(store *s, struct bulk *x, const struct work *w)
{
    char applicant[128] = "demo:applicant", staff[128];
    actor_label(x->a, staff);
    int64_t now = (int64_t)time(NULL);
    int y, m, d;
    date_to_ymd(x->applied, &y, &m, &d);
    /* the reference names the id (RS<year>-<id>): written with the id the
     * row is expected to get, and corrected when it gets another */
    int64_t next = 0;
    int rc = store_query_int(s, "SELECT COALESCE(MAX(id), 0) FROM applications", NULL, 0, &next);
    if (rc) return store_failure(s, rc, "", x->err);
    next++;
    for (size_t i = w->from; i < w->to; i++) {
        const struct chosen *c = &x->c[i];
        const struct decided *dc = &w->d[i - w->from];
        char ref[40];
        int64_t id = 0;
        snprintf(ref, sizeof ref, "RS%04d-%06lld", y, (long long)next);
        store_val row[] = {SV_TEXT(ref),           SV_TEXT(PROGRAMME),
                           SV_INT(c->talent),      c->employer ? SV_INT(c->employer) : SV_NULL,
                           SV_INT(x->file_id),     SV_TEXT(x->v->id),
                           SV_TEXT(dc->trace),     SV_TEXT(x->v->tier[dc->tier].id),
                           SV_INT(dc->monthly),    SV_TEXT(pol_payee_name(x->v->payee)),
                           SV_INT(x->notice_from), SV_INT(x->notice_to),
                           SV_INT(x->start),       SV_INT(now)};
        rc = store_insert(s,
                          "INSERT INTO applications (ref, programme, talent_id, employer_id, "
                          "state, family_owns_housing, other_benefit, declared, policy_file_id, "
                          "policy_version, trace, eligible, tier, monthly_fen, payee, reasons, "
                          "notice_from, notice_to, start_date, end_date, appeals, months_received, "
                          "created_at, updated_at, submitted_at) VALUES ($1, $2, $3, $4, "
                          "'active', 0, 0, 1, $5, $6, $7, 1, $8, $9, $10, '', $11, $12, $13, "
                          "NULL, 0, 0, $14, $14, $14)",
                          row, 14, &id);
        if (!rc && id != next) {
            snprintf(ref, sizeof ref, "RS%04d-%06lld", y, (long long)id);
            rc = store_exec(s, "UPDATE applications SET ref = $1 WHERE id = $2",
                            (store_val[]){SV_TEXT(ref), SV_INT(id)}, 2, NULL);
        }
        next = id + 1;
        if (!rc)
            rc = store_exec(s, events_sql,
                            (store_val[]){SV_INT(id), SV_TEXT(applicant), SV_TEXT(staff),
                                          SV_INT(now), SV_INT(x->published), SV_INT(x->start)},
                            6, NULL);
        if (rc) return store_failure(s, rc, "", x->err);
        if (!x->first_id) x->first_id = id;
        x->last_id = id;
        x->batch_monthly += dc->monthly;
        if (dc->tier < 16) x->batch_tier[dc->tier]++;
    }
    return 0;
}

/* One transaction: the applications x->from to x->to, decided DECIDE_BATCH
 * at a time on a second thread while those before are written. Decided
 * anew when the transaction is run again. */
static int applications_body(store *s, void *ctx)
{
    struct bulk *x = ctx;
    struct work *w = x->work;
    x->first_id = x->last_id = 0;
    x->batch_monthly = 0;
    memset(x->batch_tier, 0, sizeof x->batch_tier);
    int rc = 0;
    work_start(&w[0], x, x->from, x->from + DECIDE_BATCH < x->to ? x->from + DECIDE_BATCH : x->to);
    for (int k = 0;; k ^= 1) {
        struct work *cur = &w[k], *nxt = &w[k ^ 1];
        work_wait(cur);
        if (cur->rc) {
            *x->err = cur->err;
            rc = cur->rc;
            break;
        }
        if (cur->to < x->to)
            work_start(nxt, x, cur->to,
                       cur->to + DECIDE_BATCH < x->to ? cur->to + DECIDE_BATCH : x->to);
        if ((rc = write_rows(s, x, cur)) || cur->to == x->to) break;
    }
    for (int k = 0; k < 2; k++) work_wait(&w[k]);
    if (rc) return rc;
    json_t *detail =
        json_pack("{sssIsssIsIsIss}", "programme", PROGRAMME, "policy_file", (json_int_t)x->file_id,
                  "version", x->v->id, "applications", (json_int_t)(x->to - x->from), "first_id",
                  (json_int_t)x->first_id, "last_id", (json_int_t)x->last_id, "state", "active");
    rc = audit_by(s, x->a, "subsidy.bulk_active", "application", 0, NULL, NULL, detail, NULL,
                  x->err);
    json_decref(detail);
    return rc;
}

/* The days of the walk: the notice from the calendar, as the workflow
 * counts it, approval the day after it and payments from the first of the
 * next month. */
static int walk_days(struct bulk *x)
{
    date_parse(DEMO_BULK_APPLIED, &x->applied);
    date_parse(DEMO_BULK_REVIEWED, &x->reviewed);
    date_parse(DEMO_BULK_PUBLISHED, &x->published);
    date_parse(LEASE_NEEDED_TO, &x->needed_to);
    calendar c;
    calendar_init(&c);
    int rc = holidays_read_all(x->s, &c, x->err);
    if (!rc) rc = calendar_add_workdays(&c, x->published, 1, &x->notice_from, x->err);
    if (!rc) rc = calendar_add_workdays(&c, x->published, 5, &x->notice_to, x->err);
    calendar_free(&c);
    x->approved = x->notice_to + 1;
    x->activated = x->notice_to + 2;
    x->start = date_month_last(x->approved) + 1;
    return rc;
}

int demo_active_subsidies(store *s, const actor *a, int64_t count, demo_progress_fn progress,
                          void *ctx, struct demo_subsidies *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_SUBSIDY_REVIEW, err);
    if (!rc) rc = actor_require(a, P_HOUSING_MANAGE, err);
    if (rc) return rc;
    if (a->scope != SCOPE_DISTRICT)
        return ql_errf(err, QL_EFORBIDDEN, "", "bulk subsidies need a district scope",
                       "批量生成补贴须具有全区数据范围");
    if (count < 0 || count > DEMO_PEOPLE_MAX)
        return ql_errf(err, QL_EINVAL, "active_subsidies", "from 0 to %d", "应在 0 到 %d 之间",
                       DEMO_PEOPLE_MAX);
    if (!count) return 0;
    pol_programme p;
    struct bulk x;
    memset(&x, 0, sizeof x);
    x.s = s;
    x.a = a;
    x.err = err;
    x.out = out;
    x.want = count;
    x.p = &p;
    x.market = pol_enum_find(PE_UNIT_KIND, "market", 6);
    rc = policy_load_active(s, PROGRAMME, &p, &x.file_id, err);
    if (rc) {
        pol_free(&p);
        return rc;
    }
    if (!(rc = walk_days(&x)) && !(x.v = pol_version_on(&p, x.reviewed)))
        rc = ql_errf(err, QL_ENOTFOUND, "policy",
                     "the district policy has no version in force on %s",
                     "区补贴政策在 %s 没有生效的版本", DEMO_BULK_REVIEWED);
    out->start = x.start;
    /* pass one: who; nothing is written unless there are enough */
    x.c = xmalloc((size_t)count * sizeof *x.c);
    if (!rc) rc = talents_with_applications(&x);
    if (!rc && (rc = policy_registry_facts(s, x.reviewed, choose, &x, err)) == STOP_WALK) rc = 0;
    if (!rc && (int64_t)x.n < count)
        rc = ql_errf(
            err, QL_ECONFLICT, "active_subsidies",
            "the registry has %lld people the district policy takes (with a filed "
            "lease) and no application of it, fewer than %lld: generate the district "
            "with as many applicants",
            "登记库中符合区补贴政策（有备案租约时）且未申请的人员只有 %lld 名，少于 %lld 名",
            (long long)x.n, (long long)count);
    /* the leases they lack */
    int64_t nleases = 0;
    for (size_t i = 0; !rc && i < x.n; i++) nleases += x.c[i].lease;
    for (x.from = 0; !rc && x.from < x.n; x.from = x.to) {
        /* DEMO_LEASE_BATCH leases to a transaction */
        int64_t k = 0;
        for (x.to = x.from; x.to < x.n && k < DEMO_LEASE_BATCH; x.to++) k += x.c[x.to].lease;
        if (!k) continue;
        rc = store_tx(s, STORE_TX_WRITE, leases_body, &x);
        if (!rc) {
            out->leases += k;
            if (progress) progress("leases", out->leases, nleases, ctx);
        }
    }
    if (!rc && out->leases) {
        ql_err e;
        audit_committed(s, &e);
    }
    /* pass two: the facts the decisions are made on */
    if (!rc && (rc = policy_registry_facts(s, x.reviewed, keep_facts, &x, err)) == STOP_WALK)
        rc = 0;
    for (size_t i = 0; !rc && i < x.n; i++)
        if (!x.c[i].seen)
            rc = ql_errf(err, QL_EINTERNAL, "active_subsidies", "talent %lld has gone",
                         "人才 %lld 已不存在", (long long)x.c[i].talent);
    out->ntiers = x.v ? x.v->ntier : 0;
    for (int t = 0; t < out->ntiers && t < 16; t++)
        snprintf(out->tier[t], sizeof out->tier[t], "%s", x.v->tier[t].id);
    /* the applications, DEMO_SUBSIDY_BATCH to a transaction, with a page
     * cache that holds the indexes they touch (the employer index takes
     * them in no order) */
    struct work w[2];
    memset(w, 0, sizeof w);
    for (int k = 0; k < 2; k++) w[k].d = xcalloc(DECIDE_BATCH, sizeof *w[k].d);
    x.work = w;
    if (!rc) (void)store_set_cache(s, DEMO_BULK_CACHE);
    for (x.from = 0; !rc && x.from < x.n; x.from = x.to) {
        x.to = x.from + DEMO_SUBSIDY_BATCH < x.n ? x.from + DEMO_SUBSIDY_BATCH : x.n;
        rc = store_tx(s, STORE_TX_WRITE, applications_body, &x);
        if (!rc) {
            out->made += (int64_t)(x.to - x.from);
            out->monthly_fen += x.batch_monthly;
            for (int t = 0; t < 16; t++) out->by_tier[t] += x.batch_tier[t];
            if (progress) progress("subsidies", out->made, (int64_t)x.n, ctx);
        }
    }
    (void)store_set_cache(s, 0);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < DECIDE_BATCH; i++) free(w[k].d[i].trace);
        free(w[k].d);
    }
    if (out->made) {
        ql_err e;
        audit_committed(s, &e);
    }
    free(x.c);
    free(x.skip);
    pol_free(&p);
    if (rc && !err->en[0])
        ql_errf(err, rc, "store", "the store failed while writing the subsidies: %s",
                "写入补贴时数据库出错：%s", store_errmsg(s));
    return rc;
}
