/* cycle.c - monthly disbursement cycles: computing (cycle.h). */
#include "ledger/cycle.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/log.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "ledger/corrections.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A subsidy, with its lease on the first of the month computed. */
struct payable {
    int64_t app, talent, employer, policy_file;
    char programme[41], version[41], tier[41], payee[12];
    int32_t start, end;  /* end POL_OPEN_END while open */
    int months_received; /* under earlier applications, at its review */
    int64_t rent, operator_id;
    int32_t lease_end;
    bool done;           /* has its entitlement in this cycle already */
    bool suspended_ever; /* has a suspension (else none to look up) */
    int64_t payable_id;  /* the payee's payable account, 0 when not made yet */
    bool employed_first; /* employed by the talent's current employer from the
                            month's first day (else the employments are read) */
    int32_t housing_from; /* owns housing from then on; POL_OPEN_END: none */
};

#define NPROG 16

struct run {
    store *s;
    const actor *a;
    int32_t first, last;
    char month[8];
    int64_t cycle;
    int64_t after; /* keyset: the last application of the page before */
    struct payable *p;
    int n;
    struct cycle_report *out; /* the totals, when finished */
    /* policy files in use, and each programme's active file */
    int64_t file_id[NPROG];
    pol_programme prog[NPROG];
    int nprog;
    char active_prog[NPROG][41];
    int64_t active_file[NPROG];
    int nactive;
    /* budget accounts of the cycle's year, by programme */
    char budget_prog[NPROG][41];
    int64_t budget_id[NPROG];
    int nbudget;
    /* earlier cycles (months), for corrections */
    char (*earlier)[8];
    int nearlier;
    int64_t since; /* corrections look at changes from then on; -1 for none */
    ql_err *err;
};

/* The columns of a payable, then the lease covering $1 (the latest start
 * wins, as in the registry facts). */
#define PAYABLE_COLUMNS                                                                            \
    "a.id, a.talent_id, COALESCE(a.employer_id, 0), COALESCE(a.policy_file_id, 0), a.programme, "  \
    "COALESCE(a.policy_version, ''), COALESCE(a.tier, ''), COALESCE(a.payee, 'person'), "          \
    "a.start_date, a.end_date, a.months_received, l.id, COALESCE(l.ended_on, l.end_date), "        \
    "COALESCE(l.rent_fen, 0), COALESCE(u.operator_id, 0), EXISTS (SELECT 1 FROM "                  \
    "application_events ev WHERE ev.application_id = a.id AND ev.action = 'suspend'), (SELECT "    \
    "pa.id FROM ledger_accounts pa WHERE pa.code = 'payable:' || COALESCE(a.payee, 'person') || "  \
    "':' || CAST(CASE a.payee WHEN 'employer' THEN a.employer_id WHEN 'operator' THEN "            \
    "u.operator_id ELSE a.talent_id END AS TEXT)), CASE WHEN tf.employer_id IS NOT NULL AND "      \
    "COALESCE(tf.employed_since, 0) <= $1 THEN 1 ELSE 0 END, tf.housing_from "
#define PAYABLE_NCOLS 19
/* ... and the talent's row, for their employment and housing (corrections.h) */
#define LEASE_JOIN                                                                                 \
    "LEFT JOIN leases l ON l.id = (SELECT l2.id FROM leases l2 WHERE l2.talent_id = "              \
    "a.talent_id AND l2.start_date <= $1 AND COALESCE(l2.ended_on, l2.end_date) >= $1 ORDER BY "   \
    "l2.start_date DESC, l2.id DESC LIMIT 1) LEFT JOIN housing_units u ON u.id = l.unit_id "       \
    "LEFT JOIN talents tf ON tf.id = a.talent_id "

static void read_payable(store_rows *r, int32_t first, struct payable *p)
{
    memset(p, 0, sizeof *p);
    p->app = store_col_int(r, 0);
    p->talent = store_col_int(r, 1);
    p->employer = store_col_int(r, 2);
    p->policy_file = store_col_int(r, 3);
    snprintf(p->programme, sizeof p->programme, "%s", store_col_text(r, 4, NULL));
    snprintf(p->version, sizeof p->version, "%s", store_col_text(r, 5, NULL));
    snprintf(p->tier, sizeof p->tier, "%s", store_col_text(r, 6, NULL));
    snprintf(p->payee, sizeof p->payee, "%s", store_col_text(r, 7, NULL));
    p->start = (int32_t)store_col_int(r, 8);
    p->end = store_col_isnull(r, 9) ? POL_OPEN_END : (int32_t)store_col_int(r, 9);
    p->months_received = (int)store_col_int(r, 10);
    p->lease_end = store_col_isnull(r, 11) ? first - 1 : (int32_t)store_col_int(r, 12);
    p->rent = store_col_int(r, 13);
    p->operator_id = store_col_int(r, 14);
    p->suspended_ever = store_col_int(r, 15) != 0;
    p->payable_id = store_col_isnull(r, 16) ? 0 : store_col_int(r, 16);
    p->employed_first = store_col_int(r, 17) != 0;
    p->housing_from = store_col_isnull(r, 18) ? POL_OPEN_END : (int32_t)store_col_int(r, 18);
}

static const pol_programme *programme_of(struct run *x, int64_t file)
{
    for (int i = 0; i < x->nprog; i++)
        if (x->file_id[i] == file) return &x->prog[i];
    if (x->nprog == NPROG) return NULL;
    ql_err e;
    if (policy_load_file(x->s, file, &x->prog[x->nprog], &e)) {
        pol_free(&x->prog[x->nprog]);
        return NULL;
    }
    x->file_id[x->nprog] = file;
    return &x->prog[x->nprog++];
}

/* The programme's active policy file (0 for none). */
static int64_t active_file(struct run *x, const char *programme)
{
    for (int i = 0; i < x->nactive; i++)
        if (!strcmp(x->active_prog[i], programme)) return x->active_file[i];
    int64_t id = 0;
    if (store_query_int(x->s,
                        "SELECT id FROM policy_files WHERE programme = $1 AND status = "
                        "'active'",
                        (store_val[]){SV_TEXT(programme)}, 1, &id))
        id = 0;
    if (x->nactive < NPROG) {
        snprintf(x->active_prog[x->nactive], sizeof x->active_prog[0], "%s", programme);
        x->active_file[x->nactive++] = id;
    }
    return id;
}

/* The rules of p for the month of first: the version of the programme's
 * active file in force on the month's first day when it has p's tier (a
 * rule change applies to the months it covers), else the version and tier
 * of p's review. */
static int rules_for(struct run *x, const struct payable *p, int32_t first, const pol_version **v,
                     int *tier, int64_t *file)
{
    int64_t af = active_file(x, p->programme);
    const pol_programme *prog = af ? programme_of(x, af) : NULL;
    for (int i = 0; prog && i < prog->nver; i++) {
        const pol_version *c = &prog->ver[i];
        if (c->from > first || c->to < first) continue;
        for (int t = 0; t < c->ntier; t++)
            if (!strcmp(c->tier[t].id, p->tier)) {
                *v = c;
                *tier = t;
                *file = af;
                return 0;
            }
    }
    prog = programme_of(x, p->policy_file);
    *v = NULL;
    *tier = -1;
    for (int i = 0; prog && i < prog->nver; i++)
        if (!strcmp(prog->ver[i].id, p->version)) *v = &prog->ver[i];
    for (int i = 0; *v && i < (*v)->ntier; i++)
        if (!strcmp((*v)->tier[i].id, p->tier)) *tier = i;
    *file = p->policy_file;
    if (!*v || *tier < 0)
        return ql_errf(x->err, QL_EINTERNAL, "policy",
                       "application %lld: tier %s of version %s of policy file %lld is not there",
                       "申请 %lld：档次 %s（版本 %s，政策文件 %lld）不存在", (long long)p->app,
                       p->tier, p->version, (long long)p->policy_file);
    return 0;
}

struct susp {
    int32_t from[32], to[32];
    int n;
};

/* Months of start..end paid at least one day: those not wholly suspended. */
static int paid_months(const struct susp *su, int32_t start, int32_t end)
{
    int months = 0;
    for (int32_t m = date_month_first(start); m <= end; m = date_month_last(m) + 1) {
        int32_t a = m > start ? m : start, b = date_month_last(m) < end ? date_month_last(m) : end;
        int paid = 1;
        for (int k = 0; k < su->n && paid; k++)
            if (su->from[k] <= a && b <= su->to[k]) paid = 0;
        months += paid;
    }
    return months;
}

struct month_calc {
    pol_month_out out;
    pol_month_in in;
    int64_t file;
    const pol_version *v;
    int tier;
    int32_t housing_from; /* the day of the home that ended the days covered, or POL_OPEN_END */
};

/* The days covered from start to end, the subsidy's, the lease's and the
 * home's ends taken already, into in: a period that ends before it starts
 * covers no day of the month of first. */
static void period_in(pol_month_in *in, int32_t first, int32_t start, int32_t end)
{
    in->start = start;
    in->end = end;
    if (end < start) in->start = in->end = first - 1;
}

/* What p is due for the month of first (its last day last), with the
 * suspensions su and year_before paid earlier in the year, by the rules
 * rules_for found for the month (c->v, c->tier, c->file). The days from
 * the one p's talent owns housing are not covered when the rules read
 * owns_housing, nor the days without an employment when they read it
 * (cov: the talent's employments; NULL when p->employed_first says the
 * current one covers the month). */
static int due_for(struct run *x, const struct payable *p, int32_t first, int32_t last,
                   const struct susp *su, int64_t year_before, const struct facts_talent *cov,
                   bool steps, struct month_calc *c)
{
    int32_t end = p->end < p->lease_end ? p->end : p->lease_end;
    c->housing_from = POL_OPEN_END;
    if (p->housing_from != POL_OPEN_END && corr_reads_housing(c->v)) {
        c->housing_from = p->housing_from;
        if (p->housing_from - 1 < end) end = p->housing_from - 1;
    }
    int32_t a = p->start > first ? p->start : first, b = end < last ? end : last;
    int excluded = 0;
    for (int k = 0; k < su->n && b >= a; k++) {
        int32_t lo = su->from[k] > a ? su->from[k] : a, hi = su->to[k] < b ? su->to[k] : b;
        if (hi >= lo) excluded += (int)(hi - lo + 1);
    }
    int unemployed = 0;
    if (cov && b >= a && corr_reads_employment(c->v))
        unemployed = corr_unemployed_days(cov, a, b, su->from, su->to, su->n);
    int before = p->start < first ? paid_months(su, p->start, first - 1) : 0;
    pol_month_in in = {first,       p->start, end,      p->months_received + before,
                       year_before, p->rent,  excluded, unemployed};
    period_in(&in, first, p->start, end);
    c->in = in;
    return pol_month_amount(c->v, c->tier, &c->in, steps, &c->out, x->err);
}

static int64_t payee_of(const struct payable *p)
{
    return !strcmp(p->payee, "employer")   ? p->employer
           : !strcmp(p->payee, "operator") ? p->operator_id
                                           : p->talent;
}

/* The budget account of programme for the cycle's year (cached). */
static int budget_account(store *s, struct run *x, const char *programme, int64_t *id)
{
    for (int i = 0; i < x->nbudget; i++)
        if (!strcmp(x->budget_prog[i], programme)) {
            *id = x->budget_id[i];
            return 0;
        }
    char code[64];
    snprintf(code, sizeof code, "budget:%s:%.4s", programme, x->month);
    struct ledger_account ba = {code, LK_BUDGET, programme, "", 0};
    int rc = ledger_account_id(s, &ba, id, x->err);
    if (!rc && x->nbudget < NPROG) {
        snprintf(x->budget_prog[x->nbudget], sizeof x->budget_prog[0], "%s", programme);
        x->budget_id[x->nbudget++] = *id;
    }
    return rc;
}

/* Posts fen between the programme's budget and the payee's payable account
 * (to the payee unless back), under key. */
static int post_payee(store *s, struct run *x, const struct payable *p, int64_t payee_id,
                      const char *key, int64_t fen, bool back, const char *memo, int64_t *tid)
{
    char payable[64];
    snprintf(payable, sizeof payable, "payable:%s:%lld", p->payee, (long long)payee_id);
    struct ledger_account pa = {payable, LK_PAYABLE, "", p->payee, payee_id};
    int64_t bid = 0, pid = p->payable_id;
    int dup, rc;
    if ((rc = budget_account(s, x, p->programme, &bid)) ||
        (!pid && (rc = ledger_account_new(s, &pa, &pid, x->err))))
        return rc;
    struct ledger_transfer t = {key, back ? pid : bid, back ? bid : pid, fen, x->month, p->app,
                                memo};
    return ledger_post_known(s, &t, tid, &dup, x->err);
}

static int load_suspensions(store *s, struct run *x, int64_t app, int32_t until, struct susp *su)
{
    return subsidy_suspensions(s, app, until, su->from, su->to, 32, &su->n, x->err);
}

/* Computes and writes the entitlement of payable p (inside a transaction). */
static int one(store *s, struct run *x, const struct payable *p)
{
    ql_err *err = x->err;
    struct susp su;
    su.n = 0;
    int rc = p->suspended_ever ? load_suspensions(s, x, p->app, x->last, &su) : 0;
    if (rc) return rc;
    int64_t year_before = 0;
    char jan[8];
    snprintf(jan, sizeof jan, "%.4s-01", x->month);
    store_val yv[] = {SV_INT(p->talent), SV_TEXT(p->programme), SV_TEXT(jan), SV_TEXT(x->month)};
    struct month_calc c;
    memset(&c, 0, sizeof c);
    if ((rc = rules_for(x, p, x->first, &c.v, &c.tier, &c.file))) return rc;
    if (c.v->cap_year &&
        (rc = store_query_int(s,
                              /* by the talent's applications: entitlements and
                               * adjustments are indexed by application */
                              "SELECT COALESCE(SUM(e.amount_fen), 0) + COALESCE((SELECT "
                              "SUM(CASE WHEN d.kind = 'arrears' THEN d.amount_fen ELSE "
                              "-d.amount_fen END) FROM applications a2 JOIN adjustments d ON "
                              "d.application_id = a2.id WHERE a2.talent_id = $1 AND "
                              "d.programme = $2 AND d.for_month >= $3 AND d.for_month < $4), 0) "
                              "FROM applications a1 JOIN entitlements e ON e.application_id = "
                              "a1.id JOIN cycles c ON c.id = e.cycle_id WHERE a1.talent_id = $1 "
                              "AND e.programme = $2 AND c.month >= $3 AND c.month < $4",
                              yv, 4, &year_before)))
        return store_failure(s, rc, "", err);
    struct facts_talent cov = {0}; /* read only when the current employer does not cover */
    bool read_cov = !p->employed_first && corr_reads_employment(c.v);
    if (read_cov && (rc = facts_talent_read(s, p->talent, &cov))) {
        facts_talent_free(&cov);
        return store_failure(s, rc, "", err);
    }
    rc = due_for(x, p, x->first, x->last, &su, year_before, read_cov ? &cov : NULL, false, &c);
    facts_talent_free(&cov);
    if (rc) return rc;
    int64_t payee_id = payee_of(p);
    int64_t amount = c.out.fen;
    if (amount > 0 && payee_id <= 0) amount = 0; /* no employer or operator to pay */
    /* the inputs, frozen; the steps follow from them (cycle_steps) */
    char d1[16], d2[16] = "open", d3[16] = "open", in_text[512], more[96] = "";
    date_format(p->start, d1, sizeof d1);
    if (p->end != POL_OPEN_END) date_format(p->end, d2, sizeof d2);
    if (p->lease_end != POL_OPEN_END) date_format(p->lease_end, d3, sizeof d3);
    char rent[32];
    validate_money_text(p->rent, rent, sizeof rent);
    /* the registry's employment and housing, when they take days: absent, none */
    size_t k = 0;
    if (c.in.unemployed_days)
        k += (size_t)snprintf(more, sizeof more, ",\"not_employed_days\":%d", c.in.unemployed_days);
    if (c.housing_from != POL_OPEN_END && k < sizeof more) {
        char h[16];
        date_format(c.housing_from, h, sizeof h);
        snprintf(more + k, sizeof more - k, ",\"housing_from\":\"%s\"", h);
    }
    snprintf(in_text, sizeof in_text,
             "{\"start\":\"%s\",\"end\":\"%s\",\"lease_end\":\"%s\",\"rent_fen\":%lld,"
             "\"rent_yuan\":\"%s\",\"months_before\":%d,\"suspended_days\":%d,"
             "\"paid_year_before_fen\":%lld%s}",
             d1, d2, d3, (long long)p->rent, rent, c.in.months_before, c.in.excluded_days,
             (long long)year_before, more);
    const char *steps = "";
    int64_t transfer = 0;
    if (amount > 0) {
        char key[64];
        snprintf(key, sizeof key, "entitlement:%s:%lld", x->month, (long long)p->app);
        rc = post_payee(s, x, p, payee_id, key, amount, false, "entitlement", &transfer);
    }
    if (!rc) {
        store_val row[] = {SV_INT(x->cycle),
                           SV_INT(p->app),
                           SV_INT(p->talent),
                           SV_TEXT(p->programme),
                           SV_INT(c.file),
                           SV_TEXT(c.v->id),
                           SV_TEXT(p->tier),
                           SV_TEXT(p->payee),
                           payee_id > 0 ? SV_INT(payee_id) : SV_NULL,
                           SV_INT(c.out.index),
                           SV_INT(c.out.days),
                           SV_INT(amount),
                           SV_TEXT(in_text),
                           SV_TEXT(steps),
                           transfer ? SV_INT(transfer) : SV_NULL,
                           SV_INT((int64_t)time(NULL))};
        int64_t id;
        rc = store_insert(
            s,
            "INSERT INTO entitlements (cycle_id, application_id, talent_id, programme, "
            "policy_file_id, policy_version, tier, payee_type, payee_id, month_index, "
            "days, amount_fen, inputs, steps, transfer_id, created_at) VALUES ($1, $2, "
            "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            row, 16, &id);
        if (rc) rc = store_failure(s, rc, "", err);
    }
    return rc;
}

/* ---- corrections of earlier months --------------------------------------- */

/* An entitlement's frozen inputs, as one() writes them. */
struct frozen {
    int32_t start, end, lease_end; /* end and lease_end POL_OPEN_END when open */
    int64_t rent, year_before;
    int months_before, suspended;
    int unemployed;       /* not_employed_days: 0 when absent */
    int32_t housing_from; /* POL_OPEN_END when absent */
};

/* Reads the inputs text into *f: 0, or -1 when a date is missing or not a
 * date (the fields read are kept; an unreadable end counts as open). */
static int frozen_read(const char *text, struct frozen *f)
{
    json_t *in = json_loads(text, 0, NULL);
    const char *ds = json_string_value(json_object_get(in, "start"));
    const char *de = json_string_value(json_object_get(in, "end"));
    const char *dl = json_string_value(json_object_get(in, "lease_end"));
    f->rent = json_integer_value(json_object_get(in, "rent_fen"));
    f->year_before = json_integer_value(json_object_get(in, "paid_year_before_fen"));
    f->months_before = (int)json_integer_value(json_object_get(in, "months_before"));
    f->suspended = (int)json_integer_value(json_object_get(in, "suspended_days"));
    f->unemployed = (int)json_integer_value(json_object_get(in, "not_employed_days"));
    const char *dh = json_string_value(json_object_get(in, "housing_from"));
    f->housing_from = POL_OPEN_END;
    f->start = 0;
    int bad = !ds || date_parse(ds, &f->start);
    if (!de || !strcmp(de, "open") || date_parse(de, &f->end)) {
        bad |= !de || strcmp(de, "open");
        f->end = POL_OPEN_END;
    }
    if (!dl || !strcmp(dl, "open") || date_parse(dl, &f->lease_end)) {
        bad |= !dl || strcmp(dl, "open");
        f->lease_end = POL_OPEN_END;
    }
    if (dh && date_parse(dh, &f->housing_from)) {
        bad = 1;
        f->housing_from = POL_OPEN_END;
    }
    json_decref(in);
    return bad ? -1 : 0;
}

/* What p was paid for each earlier cycle month (entitlement and
 * corrections), and to whom its entitlement paid (0: none). */
struct paid_month {
    int64_t fen;
    int64_t payee_id;
};

static int paid_before(store *s, struct run *x, const struct payable *p, struct paid_month *pm)
{
    for (int i = 0; i < x->nearlier; i++) memset(&pm[i], 0, sizeof pm[i]);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT c.month, e.amount_fen, COALESCE(e.payee_id, 0) FROM "
                         "entitlements e JOIN cycles "
                         "c ON c.id = e.cycle_id WHERE e.application_id = $1 AND c.month < $2",
                         (store_val[]){SV_INT(p->app), SV_TEXT(x->month)}, 2, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    while ((rc = store_step(r)) == 1) {
        const char *m = store_col_text(r, 0, NULL);
        for (int i = 0; i < x->nearlier; i++) {
            if (strcmp(x->earlier[i], m)) continue;
            pm[i].fen += store_col_int(r, 1);
            pm[i].payee_id = store_col_int(r, 2);
        }
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", x->err);
    rc = store_query(s,
                     "SELECT for_month, SUM(CASE WHEN kind = 'arrears' THEN amount_fen ELSE "
                     "-amount_fen END) FROM adjustments WHERE application_id = $1 GROUP BY "
                     "for_month",
                     (store_val[]){SV_INT(p->app)}, 1, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    while ((rc = store_step(r)) == 1) {
        const char *m = store_col_text(r, 0, NULL);
        for (int i = 0; i < x->nearlier; i++)
            if (!strcmp(x->earlier[i], m)) pm[i].fen += store_col_int(r, 1);
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", x->err) : 0;
}

/* The lease of p's talent on day, as the registry has it now. */
static int lease_on(store *s, struct run *x, struct payable *p, int32_t day)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT COALESCE(l.ended_on, l.end_date), l.rent_fen, "
                         "COALESCE(u.operator_id, 0) FROM leases l LEFT JOIN housing_units u ON "
                         "u.id = l.unit_id WHERE l.talent_id = $2 AND l.start_date <= $1 AND "
                         "COALESCE(l.ended_on, l.end_date) >= $1 ORDER BY l.start_date DESC, "
                         "l.id DESC LIMIT 1",
                         (store_val[]){SV_INT(day), SV_INT(p->talent)}, 2, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    p->lease_end = day - 1;
    p->rent = 0;
    p->operator_id = 0;
    if ((rc = store_step(r)) == 1) {
        p->lease_end = (int32_t)store_col_int(r, 0);
        p->rent = store_col_int(r, 1);
        p->operator_id = store_col_int(r, 2);
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", x->err) : 0;
}

/* Recomputes each earlier cycle month of p as things stand now (the
 * application's decision and events; the registry's lease, employment and
 * housing) and posts the difference: arrears or a recovery, linked to the
 * registry changes waiting for a correction that took effect by the end
 * of that month. */
static int correct(store *s, struct run *x, const struct payable *p0)
{
    struct paid_month *pm = xcalloc((size_t)x->nearlier, sizeof *pm);
    struct susp su;
    struct facts_talent cov = {0};
    struct corr_pending pend;
    int rc = paid_before(s, x, p0, pm);
    if (!rc) rc = load_suspensions(s, x, p0->app, x->first - 1, &su);
    if (!rc && (rc = facts_talent_read(s, p0->talent, &cov))) rc = store_failure(s, rc, "", x->err);
    if (!rc) rc = corr_pending_read(s, p0->talent, x->first, &pend, x->err);
    int64_t year_due = 0;
    char year[5] = "";
    for (int i = 0; !rc && i < x->nearlier; i++) {
        int32_t first;
        date_parse_month(x->earlier[i], &first);
        int32_t last = date_month_last(first);
        if (strncmp(year, x->earlier[i], 4)) {
            snprintf(year, sizeof year, "%.4s", x->earlier[i]);
            year_due = 0;
        }
        struct payable p = *p0;
        if ((rc = lease_on(s, x, &p, first))) break;
        int64_t due = 0;
        struct month_calc c;
        memset(&c, 0, sizeof c);
        bool in_period = p.start <= last && (p.end == POL_OPEN_END || p.end >= first);
        if (in_period) {
            if ((rc = rules_for(x, &p, first, &c.v, &c.tier, &c.file)) ||
                (rc = due_for(x, &p, first, last, &su, year_due, &cov, true, &c)))
                break;
            due = c.out.fen;
        }
        /* the payee the month's entitlement paid, else the one of its lease now */
        int64_t payee_id = pm[i].payee_id > 0 ? pm[i].payee_id : payee_of(&p);
        if (payee_id != payee_of(p0)) p.payable_id = 0; /* another payee's account */
        if (payee_id <= 0) due = 0;
        year_due += due;
        int64_t was = pm[i].fen, diff = due - was;
        if (diff != 0) {
            bool arrears = diff > 0;
            int64_t fen = arrears ? diff : -diff, tid = 0, id;
            char key[80];
            snprintf(key, sizeof key, "adjust:%s:%lld:%s", x->month, (long long)p.app,
                     x->earlier[i]);
            rc = post_payee(s, x, &p, payee_id, key, fen, !arrears,
                            arrears ? "arrears" : "recovery", &tid);
            char *steps = c.out.steps ? json_dumps(c.out.steps, JSON_COMPACT) : NULL;
            store_val row[] = {SV_INT(x->cycle),
                               SV_INT(p.app),
                               SV_INT(p.talent),
                               SV_TEXT(p.programme),
                               SV_TEXT(x->earlier[i]),
                               SV_TEXT(arrears ? "arrears" : "recovery"),
                               SV_INT(was < 0 ? 0 : was),
                               SV_INT(due),
                               SV_INT(fen),
                               SV_TEXT(p.payee),
                               SV_INT(payee_id),
                               SV_TEXT(steps ? steps : "[]"),
                               SV_INT(tid),
                               SV_INT((int64_t)time(NULL))};
            if (!rc &&
                (rc = store_insert(s,
                                   "INSERT INTO adjustments (cycle_id, application_id, talent_id, "
                                   "programme, for_month, kind, was_fen, due_fen, amount_fen, "
                                   "payee_type, payee_id, steps, transfer_id, created_at) VALUES "
                                   "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                                   row, 14, &id)))
                rc = store_failure(s, rc, "", x->err);
            if (!rc) rc = corr_link(s, id, &pend, last, x->err);
            free(steps);
        }
        json_decref(c.out.steps);
    }
    facts_talent_free(&cov);
    free(pm);
    return rc;
}

struct cpage {
    struct run *x;
    int64_t seen;
    int64_t last; /* the page's last application: x->after once it commits */
};

/* A page of applications changed since the last cycle: corrections. */
static int correct_page(store *s, void *vctx)
{
    struct cpage *cp = vctx;
    struct run *x = cp->x;
    store_rows *r;
    int rc =
        store_query(s,
                    "SELECT " PAYABLE_COLUMNS "FROM applications a " LEASE_JOIN
                    "WHERE a.id > $2 AND a.start_date IS NOT NULL AND a.eligible = 1 AND "
                    "(a.state || '') IN ('active', 'suspended', 'ended') AND (EXISTS (SELECT 1 "
                    "FROM application_events ev WHERE ev.application_id = a.id AND ev.at >= $3) OR "
                    "a.programme IN (SELECT programme FROM policy_files WHERE activated_at "
                    ">= $3)) ORDER BY a.id LIMIT 500",
                    (store_val[]){SV_INT(x->first), SV_INT(x->after), SV_INT(x->since)}, 3, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    x->n = 0;
    while ((rc = store_step(r)) == 1) read_payable(r, x->first, &x->p[x->n++]);
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", x->err);
    cp->seen = x->n;
    cp->last = x->n ? x->p[x->n - 1].app : x->after;
    for (int i = 0; i < x->n && !rc; i++) {
        /* corrected by an earlier run of this cycle that stopped */
        int64_t done = 0;
        if ((rc = store_query_int(s,
                                  "SELECT count(*) FROM adjustments WHERE cycle_id = $1 AND "
                                  "application_id = $2",
                                  (store_val[]){SV_INT(x->cycle), SV_INT(x->p[i].app)}, 2, &done)))
            return store_failure(s, rc, "", x->err);
        if (!done) rc = correct(s, x, &x->p[i]);
    }
    return rc;
}

/* A page of people with registry changes waiting for a correction (the
 * index fact_changes_pending, not a walk of every subsidy): each of their
 * subsidies not corrected in this cycle yet is corrected, and the changes
 * are marked as taken in, in the page's transaction. Changes from the
 * cycle's month on wait: this cycle's entitlements read them, and the next
 * cycle corrects whatever it computed before they were recorded. */
static int change_page(store *s, void *vctx)
{
    struct cpage *cp = vctx;
    struct run *x = cp->x;
    int64_t talents[100];
    int nt = 0;
    int rc = corr_talents_page(s, x->first, x->after, talents, 100, &nt, x->err);
    if (rc) return rc;
    cp->seen = nt;
    cp->last = nt ? talents[nt - 1] : x->after;
    for (int t = 0; t < nt && !rc; t++) {
        store_rows *r;
        rc = store_query(s,
                         "SELECT " PAYABLE_COLUMNS "FROM applications a " LEASE_JOIN
                         "WHERE a.talent_id = $2 AND a.start_date IS NOT NULL AND a.eligible = 1 "
                         "AND a.state IN ('active', 'suspended', 'ended') ORDER BY a.id LIMIT 500",
                         (store_val[]){SV_INT(x->first), SV_INT(talents[t])}, 2, &r);
        if (rc) return store_failure(s, rc, "", x->err);
        x->n = 0;
        while ((rc = store_step(r)) == 1) read_payable(r, x->first, &x->p[x->n++]);
        store_rows_close(r);
        if (rc < 0) return store_failure(s, rc, "", x->err);
        rc = 0;
        for (int i = 0; i < x->n && !rc; i++) {
            int64_t done = 0; /* corrected already: an event, or a run that stopped */
            if ((rc = store_query_int(s,
                                      "SELECT count(*) FROM adjustments WHERE cycle_id = $1 AND "
                                      "application_id = $2",
                                      (store_val[]){SV_INT(x->cycle), SV_INT(x->p[i].app)}, 2,
                                      &done)))
                return store_failure(s, rc, "", x->err);
            if (!done) rc = correct(s, x, &x->p[i]);
        }
        if (!rc) rc = corr_consume(s, talents[t], x->first, x->cycle, x->err);
    }
    return rc;
}

/* ---- the month's entitlements --------------------------------------------- */

/* (a.state || '') keeps SQLite from reading by the state index, which would
 * sort every remaining row for each page: pages walk the primary key. */
#define PAYABLE_WHERE                                                                              \
    "a.start_date IS NOT NULL AND a.start_date <= $2 AND (a.end_date IS NULL OR a.end_date >= "    \
    "$1) AND (a.state || '') IN ('active', 'suspended', 'ended') AND a.eligible = 1 "

struct epage {
    struct run *x;
    int64_t written;
    int64_t last; /* the page's last application: x->after once it commits */
};

static int entitlement_page(store *s, void *vctx)
{
    struct epage *ep = vctx;
    struct run *x = ep->x;
    ep->written = 0;
    store_rows *r;
    int rc = store_query(
        s,
        "SELECT " PAYABLE_COLUMNS ", EXISTS (SELECT 1 FROM entitlements e WHERE "
        "e.cycle_id = $3 AND e.application_id = a.id) FROM applications a " LEASE_JOIN
        "WHERE " PAYABLE_WHERE "AND a.id > $4 ORDER BY a.id LIMIT 500",
        (store_val[]){SV_INT(x->first), SV_INT(x->last), SV_INT(x->cycle), SV_INT(x->after)}, 4,
        &r);
    if (rc) return store_failure(s, rc, "", x->err);
    x->n = 0;
    while ((rc = store_step(r)) == 1) {
        read_payable(r, x->first, &x->p[x->n]);
        x->p[x->n++].done = store_col_int(r, PAYABLE_NCOLS) != 0;
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", x->err);
    for (int i = 0; i < x->n; i++) {
        if (x->p[i].done) continue; /* written by an earlier run that stopped */
        if ((rc = one(s, x, &x->p[i]))) return rc;
        ep->written++;
    }
    ep->last = x->n ? x->p[x->n - 1].app : x->after;
    return 0;
}

/* A cycle's entitlements and corrections: counts and totals in fen. */
static int totals(store *s, int64_t cycle, struct cycle_report *out, ql_err *err)
{
    store_val c[] = {SV_INT(cycle)};
    int rc = store_query_int(s, "SELECT count(*) FROM entitlements WHERE cycle_id = $1", c, 1,
                             &out->entitlements);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT count(*) FROM entitlements WHERE cycle_id = $1 AND "
                             "amount_fen > 0",
                             c, 1, &out->paid);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM entitlements WHERE "
                             "cycle_id = $1",
                             c, 1, &out->total_fen);
    if (!rc)
        rc = store_query_int(s, "SELECT count(*) FROM adjustments WHERE cycle_id = $1", c, 1,
                             &out->corrections);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM adjustments WHERE "
                             "cycle_id = $1 AND kind = 'arrears'",
                             c, 1, &out->arrears_fen);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM adjustments WHERE "
                             "cycle_id = $1 AND kind = 'recovery'",
                             c, 1, &out->recovered_fen);
    return rc ? store_failure(s, rc, "", err) : 0;
}

static int finish(store *s, void *vctx)
{
    struct run *x = vctx;
    int rc = totals(s, x->cycle, x->out, x->err);
    if (rc) return rc;
    int64_t n = x->out->entitlements, paid = x->out->paid, total = x->out->total_fen;
    char who[128];
    actor_label(x->a, who);
    rc = store_exec(s,
                    "UPDATE cycles SET state = 'computed', entitlements = $1, total_fen = $2, "
                    "computed_by = $3, computed_at = $4, computed_account = $6 WHERE id = $5 AND "
                    "state = 'draft'",
                    (store_val[]){SV_INT(n), SV_INT(total), SV_TEXT(who),
                                  SV_INT((int64_t)time(NULL)), SV_INT(x->cycle),
                                  SV_TEXT(x->a->username)},
                    6, NULL);
    if (rc) return store_failure(s, rc, "", x->err);
    json_t *detail =
        json_pack("{sssIsIsIsIsIsI}", "month", x->month, "entitlements", (json_int_t)n, "paid",
                  (json_int_t)paid, "total_fen", (json_int_t)total, "corrections",
                  (json_int_t)x->out->corrections, "arrears_fen", (json_int_t)x->out->arrears_fen,
                  "recovered_fen", (json_int_t)x->out->recovered_fen);
    rc = audit_by(s, x->a, "cycle.compute", "cycle", x->cycle, NULL, NULL, detail, NULL, x->err);
    json_decref(detail);
    return rc;
}

int cycle_may_open(store *s, int32_t month_first, int32_t today, ql_err *err)
{
    char month[16], now[16];
    date_format(month_first, month, sizeof month);
    date_format(date_month_first(today), now, sizeof now);
    month[7] = now[7] = '\0';
    if (month_first > date_month_first(today))
        return ql_errf(err, QL_EINVAL, "month",
                       "month: %s cannot be paid yet: a month is computed from its first day on "
                       "(this month is %s)",
                       "month：%s 尚不能发放：月份自其首日起方可计算（本月为 %s）", month, now);
    int64_t here = 0;
    int rc = store_query_int(s, "SELECT count(*) FROM cycles WHERE month = $1",
                             (store_val[]){SV_TEXT(month)}, 1, &here);
    if (rc) return store_failure(s, rc, "", err);
    if (here) return 0;
    store_rows *r;
    if ((rc = store_query(s, "SELECT month FROM cycles WHERE month > $1 ORDER BY month DESC LIMIT 1",
                          (store_val[]){SV_TEXT(month)}, 1, &r)))
        return store_failure(s, rc, "", err);
    char later[16] = "";
    if ((rc = store_step(r)) == 1) snprintf(later, sizeof later, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (later[0])
        return ql_errf(err, QL_ECONFLICT, "month",
                       "month: %s has a cycle already and %s has none: cycles are computed in "
                       "order",
                       "month：%s 已有发放批次，而 %s 没有：须按月份顺序计算", later, month);
    return 0;
}

/* The cycle of x->month, created once; its state into state. */
static int open_cycle(store *s, struct run *x, char state[16])
{
    ql_err *err = x->err;
    int64_t later = 0;
    int rc = store_query_int(s, "SELECT count(*) FROM cycles WHERE month > $1",
                             (store_val[]){SV_TEXT(x->month)}, 1, &later);
    if (rc) return store_failure(s, rc, "", err);
    rc = store_insert(s,
                      "INSERT INTO cycles (month, created_at) VALUES ($1, $2) "
                      "ON CONFLICT (month) DO NOTHING",
                      (store_val[]){SV_TEXT(x->month), SV_INT((int64_t)time(NULL))}, 2, &x->cycle);
    if (rc && rc != QL_ECONFLICT) return store_failure(s, rc, "", err);
    bool created = rc == 0;
    store_rows *r;
    if ((rc = store_query(s, "SELECT id, state FROM cycles WHERE month = $1",
                          (store_val[]){SV_TEXT(x->month)}, 1, &r)))
        return store_failure(s, rc, "", err);
    if ((rc = store_step(r)) == 1) {
        x->cycle = store_col_int(r, 0);
        snprintf(state, 16, "%s", store_col_text(r, 1, NULL));
    }
    store_rows_close(r);
    if (rc != 1) return store_failure(s, rc < 0 ? rc : QL_EDB, "", err);
    if (later && created) /* months are computed in order: refuse, and leave nothing */
        return ql_errf(err, QL_ECONFLICT, "month",
                       "a later month has a cycle already: cycles are computed in order",
                       "已有更晚月份的发放批次：须按月份顺序计算");
    return 0;
}

static int open_body(store *s, void *vctx)
{
    struct run *x = vctx;
    return open_cycle(s, x, x->out->state);
}

/* The earlier cycles' months, and when the latest of them started. */
static int load_earlier(store *s, struct run *x)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT month, created_at FROM cycles WHERE month < $1 AND state <> "
                         "'draft' ORDER BY month",
                         (store_val[]){SV_TEXT(x->month)}, 1, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    int cap = 0;
    x->since = -1;
    while ((rc = store_step(r)) == 1) {
        if (x->nearlier == cap) {
            cap = cap ? cap * 2 : 16;
            x->earlier = xrealloc(x->earlier, (size_t)cap * sizeof *x->earlier);
        }
        snprintf(x->earlier[x->nearlier++], sizeof x->earlier[0], "%s", store_col_text(r, 0, NULL));
        x->since = store_col_int(r, 1);
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", x->err) : 0;
}

int cycle_run(store *s, const actor *a, int32_t month_first, cycle_progress_fn progress, void *ctx,
              struct cycle_report *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_LEDGER_RUN, err);
    if (rc) return rc;
    if (date_month_first(month_first) != month_first)
        return ql_errf(err, QL_EINVAL, "month", "a cycle is for a month (its first day)",
                       "发放批次须按月（每月第一天）");
    struct run x;
    memset(&x, 0, sizeof x);
    x.s = s;
    x.a = a;
    x.first = month_first;
    x.last = date_month_last(month_first);
    x.err = err;
    x.out = out;
    int y, m, d;
    date_to_ymd(month_first, &y, &m, &d);
    snprintf(x.month, sizeof x.month, "%04d-%02d", y, m);
    if ((rc = store_tx(s, STORE_TX_WRITE, open_body, &x))) return rc;
    out->cycle_id = x.cycle;
    if (strcmp(out->state, "draft")) {
        out->unchanged = true;
        return totals(s, x.cycle, out, err);
    }
    /* the progress counts against the subsidies in a paying state, from the
     * state index: counting by the dates would read every application row
     * (its dates lie beyond the trace, in overflow pages) */
    int64_t total = 0;
    rc = store_query_int(s,
                         "SELECT count(*) FROM applications WHERE state IN ('active', "
                         "'suspended', 'ended')",
                         NULL, 0, &total);
    if (rc) return store_failure(s, rc, "", err);
    x.p = xmalloc(500 * sizeof *x.p);
    if (!(rc = load_earlier(s, &x)) && x.since >= 0) {
        struct cpage cp = {&x, 0, 0};
        /* the keyset moves once a page has committed: a transaction run
         * again (QL_EBUSY, PostgreSQL's serialization failures at commit
         * among them) reads the same page */
        do {
            rc = store_tx(s, STORE_TX_WRITE, correct_page, &cp);
            if (!rc) x.after = cp.last;
            if (!rc && progress) progress(0, total, ctx); /* corrections: still at work */
        } while (!rc && cp.seen == 500);
        /* then the registry's changes that reach back, from their index */
        x.after = 0;
        while (!rc) {
            cp.seen = 0;
            rc = store_tx(s, STORE_TX_WRITE, change_page, &cp);
            if (rc) break;
            x.after = cp.last;
            if (progress) progress(0, total, ctx);
            if (cp.seen < 100) break;
        }
    }
    x.after = 0;
    int64_t done = 0;
    while (!rc) {
        struct epage ep = {&x, 0, 0};
        rc = store_tx(s, STORE_TX_WRITE, entitlement_page, &ep);
        if (rc) break;
        x.after = ep.last;
        out->new_rows += ep.written;
        done += x.n;
        if (progress) progress(done < total ? done : total, total, ctx);
        if (x.n < 500) break;
    }
    if (!rc && progress && done < total) progress(done, done, ctx);
    if (!rc) rc = store_tx(s, STORE_TX_WRITE, finish, &x);
    if (!rc) {
        snprintf(out->state, sizeof out->state, "computed");
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    for (int i = 0; i < x.nprog; i++) pol_free(&x.prog[i]);
    free(x.p);
    free(x.earlier);
    return rc;
}

int cycle_get(store *s, const actor *a, const char *month, bool entitlements, json_t **out,
              ql_err *err)
{
    if (!actor_can(a, P_LEDGER_RUN) && !actor_can(a, P_LEDGER_APPROVE) &&
        !actor_can(a, P_LEDGER_EXPORT))
        return actor_require(a, P_LEDGER_RUN, err);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, month, state, entitlements, total_fen, computed_by, "
                         "COALESCE(computed_at, 0), approved_by FROM cycles WHERE month = $1",
                         (store_val[]){SV_TEXT(month ? month : "")}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *o = NULL;
    int64_t id = 0;
    if ((rc = store_step(r)) == 1) {
        id = store_col_int(r, 0);
        o = json_pack("{sssssIsIsosssIss}", "month", store_col_text(r, 1, NULL), "state",
                      store_col_text(r, 2, NULL), "entitlements", (json_int_t)store_col_int(r, 3),
                      "total_fen", (json_int_t)store_col_int(r, 4), "total_yuan",
                      pol_yuan_json(store_col_int(r, 4)), "computed_by", store_col_text(r, 5, NULL),
                      "computed_at", (json_int_t)store_col_int(r, 6), "approved_by",
                      store_col_text(r, 7, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (!o)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       month ? month : "");
    struct cycle_report t;
    memset(&t, 0, sizeof t);
    if ((rc = totals(s, id, &t, err))) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "paid", json_integer(t.paid));
    json_object_set_new(o, "corrections", json_integer(t.corrections));
    json_object_set_new(o, "arrears_fen", json_integer(t.arrears_fen));
    json_object_set_new(o, "arrears_yuan", pol_yuan_json(t.arrears_fen));
    json_object_set_new(o, "recovered_fen", json_integer(t.recovered_fen));
    json_object_set_new(o, "recovered_yuan", pol_yuan_json(t.recovered_fen));
    if (entitlements) {
        json_t *items = json_array();
        if (!(rc = store_query(s,
                               "SELECT application_id, talent_id, tier, payee_type, "
                               "COALESCE(payee_id, 0), month_index, days, amount_fen FROM "
                               "entitlements WHERE cycle_id = $1 ORDER BY application_id LIMIT 200",
                               (store_val[]){SV_INT(id)}, 1, &r))) {
            while ((rc = store_step(r)) == 1)
                json_array_append_new(
                    items,
                    json_pack(
                        "{sIsIsssssIsIsIsIso}", "application_id", (json_int_t)store_col_int(r, 0),
                        "talent_id", (json_int_t)store_col_int(r, 1), "tier",
                        store_col_text(r, 2, NULL), "payee_type", store_col_text(r, 3, NULL),
                        "payee_id", (json_int_t)store_col_int(r, 4), "month_index",
                        (json_int_t)store_col_int(r, 5), "days", (json_int_t)store_col_int(r, 6),
                        "amount_fen", (json_int_t)store_col_int(r, 7), "amount_yuan",
                        pol_yuan_json(store_col_int(r, 7))));
            store_rows_close(r);
        }
        json_object_set_new(o, "items", items);
        if (rc < 0) {
            json_decref(o);
            return store_failure(s, rc, "", err);
        }
    }
    *out = o;
    return 0;
}

int cycle_steps(store *s, int64_t application_id, const char *month, json_t **out, ql_err *err)
{
    *out = NULL;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT e.steps, e.inputs, COALESCE(e.policy_file_id, 0), "
                         "e.policy_version, e.tier, e.amount_fen FROM entitlements e JOIN cycles c "
                         "ON c.id = e.cycle_id WHERE e.application_id = $1 AND c.month = $2",
                         (store_val[]){SV_INT(application_id), SV_TEXT(month ? month : "")}, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    char version[41] = "", tier[41] = "";
    json_t *stored = NULL;
    struct frozen in;
    int unread = -1;
    int64_t file = 0, fen = -1;
    if ((rc = store_step(r)) == 1) {
        const char *st = store_col_text(r, 0, NULL);
        if (st[0]) stored = json_loads(st, 0, NULL);
        unread = frozen_read(store_col_text(r, 1, NULL), &in);
        file = store_col_int(r, 2);
        snprintf(version, sizeof version, "%s", store_col_text(r, 3, NULL));
        snprintf(tier, sizeof tier, "%s", store_col_text(r, 4, NULL));
        fen = store_col_int(r, 5);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (fen < 0)
        return ql_errf(err, QL_ENOTFOUND, "month", "application %lld has no entitlement in %s",
                       "申请 %lld 在 %s 没有应发记录", (long long)application_id,
                       month ? month : "");
    if (stored) {
        *out = stored;
        return 0;
    }
    pol_programme prog;
    memset(&prog, 0, sizeof prog);
    rc = policy_load_file(s, file, &prog, err);
    const pol_version *v = NULL;
    int t = -1;
    for (int i = 0; !rc && i < prog.nver; i++)
        if (!strcmp(prog.ver[i].id, version)) v = &prog.ver[i];
    for (int i = 0; v && i < v->ntier; i++)
        if (!strcmp(v->tier[i].id, tier)) t = i;
    int32_t first = 0;
    if (!rc && (!v || t < 0 || date_parse_month(month, &first) || unread))
        rc = ql_errf(err, QL_EINTERNAL, "inputs",
                     "the entitlement of application %lld in %s cannot be traced: its rules or "
                     "inputs are not there",
                     "申请 %lld 在 %s 的应发记录无法追溯：规则或输入缺失",
                     (long long)application_id, month);
    pol_month_out o;
    memset(&o, 0, sizeof o);
    if (!rc) {
        int32_t end = in.end < in.lease_end ? in.end : in.lease_end;
        if (in.housing_from != POL_OPEN_END && in.housing_from - 1 < end) end = in.housing_from - 1;
        pol_month_in mi = {first,          in.start, end,          in.months_before,
                           in.year_before, in.rent,  in.suspended, in.unemployed};
        period_in(&mi, first, in.start, end);
        rc = pol_month_amount(v, t, &mi, true, &o, err);
    }
    if (!rc && o.fen > 0 && fen == 0)
        json_array_append_new(o.steps,
                              json_pack("{sssIssssss}", "step", "payee", "fen", (json_int_t)0,
                                        "yuan", "0.00", "en", "no payee to pay: nothing posted",
                                        "zh", "无收款方：不入账"));
    else if (!rc && o.fen != fen)
        rc = ql_errf(err, QL_EINTERNAL, "amount",
                     "the entitlement of application %lld in %s does not follow from its inputs",
                     "申请 %lld 在 %s 的应发金额与其输入不符", (long long)application_id, month);
    pol_free(&prog);
    if (rc) {
        json_decref(o.steps);
        return rc;
    }
    *out = o.steps;
    return 0;
}

/* ---- budgets and approval ---------------------------------------------- */

struct budget_ctx {
    const actor *a;
    const char *programme;
    int year;
    int64_t fen;
    ql_err *err;
};

static int budget_body(store *s, void *vctx)
{
    struct budget_ctx *x = vctx;
    char who[128];
    actor_label(x->a, who);
    int64_t before = -1;
    store_val key[] = {SV_TEXT(x->programme), SV_INT(x->year)};
    int rc = store_query_int(s, "SELECT amount_fen FROM budgets WHERE programme = $1 AND year = $2",
                             key, 2, &before);
    if (rc && rc != QL_ENOTFOUND) return store_failure(s, rc, "", x->err);
    store_val v[] = {SV_TEXT(x->programme), SV_INT(x->year), SV_INT(x->fen), SV_TEXT(who),
                     SV_INT((int64_t)time(NULL))};
    rc = rc == QL_ENOTFOUND
             ? store_exec(s,
                          "INSERT INTO budgets (programme, year, amount_fen, set_by, set_at) "
                          "VALUES ($1, $2, $3, $4, $5)",
                          v, 5, NULL)
             : store_exec(s,
                          "UPDATE budgets SET amount_fen = $3, set_by = $4, set_at = $5 "
                          "WHERE programme = $1 AND year = $2",
                          v, 5, NULL);
    if (rc) return store_failure(s, rc, "", x->err);
    json_t *b = before >= 0 ? json_pack("{sI}", "amount_fen", (json_int_t)before) : NULL;
    json_t *after = json_pack("{sI}", "amount_fen", (json_int_t)x->fen);
    json_t *detail = json_pack("{sssi}", "programme", x->programme, "year", x->year);
    rc = audit_by(s, x->a, "cycle.budget", "budget", 0, b, after, detail, NULL, x->err);
    json_decref(b);
    json_decref(after);
    json_decref(detail);
    return rc;
}

int cycle_budget_set(store *s, const actor *a, const char *programme, int year, int64_t fen,
                     ql_err *err)
{
    int rc = actor_require(a, P_LEDGER_APPROVE, err);
    if (rc) return rc;
    size_t n = programme ? strlen(programme) : 0;
    if (n < 1 || n > 40)
        return ql_errf(err, QL_EINVAL, "programme", "name the programme (1 to 40 bytes)",
                       "请指定补贴项目（1 至 40 字节）");
    if (year < 2000 || year > 9999)
        return ql_errf(err, QL_EINVAL, "year", "the year must be from 2000 to 9999",
                       "年度须在 2000 至 9999 之间");
    if (fen < 0)
        return ql_errf(err, QL_EINVAL, "amount", "a budget is 0 or more", "预算不能为负数");
    struct budget_ctx x = {a, programme, year, fen, err};
    rc = store_tx(s, STORE_TX_WRITE, budget_body, &x);
    if (!rc) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

struct approve_ctx {
    const actor *a;
    const char *month;
    struct cycle_approval *out;
    ql_err *err;
};

static int approve_body(store *s, void *vctx)
{
    struct approve_ctx *x = vctx;
    ql_err *err = x->err;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, state, computed_by, computed_account FROM cycles WHERE "
                         "month = $1",
                         (store_val[]){SV_TEXT(x->month)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    int64_t id = 0;
    char state[16] = "", by[128] = "", account[128] = "";
    if ((rc = store_step(r)) == 1) {
        id = store_col_int(r, 0);
        snprintf(state, sizeof state, "%s", store_col_text(r, 1, NULL));
        snprintf(by, sizeof by, "%s", store_col_text(r, 2, NULL));
        snprintf(account, sizeof account, "%s", store_col_text(r, 3, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (rc == 0)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       x->month);
    if (strcmp(state, "computed")) {
        if (!strcmp(state, "draft"))
            return ql_errf(err, QL_ECONFLICT, "state",
                           "cycle %s is not computed yet: compute it, then approve it",
                           "发放批次 %s 尚未计算：请先计算，再复核", x->month);
        x->out->unchanged = true; /* approved (and maybe further) before */
        return 0;
    }
    char who[128];
    actor_label(x->a, who);
    /* accounts, not labels: a label names an API token too */
    if (!strcmp(x->a->username, account) || !strcmp(who, by))
        return ql_errf(err, QL_EFORBIDDEN, "approved_by",
                       "cycle %s was computed by %s: a second person approves it",
                       "发放批次 %s 由 %s 计算：须由另一人复核", x->month, by);
    /* each programme within its year's budget, the year's earlier cycles with it */
    char jan[8], year[8];
    snprintf(year, sizeof year, "%.4s", x->month);
    int y = (year[0] - '0') * 1000 + (year[1] - '0') * 100 + (year[2] - '0') * 10 + (year[3] - '0');
    snprintf(jan, sizeof jan, "%.4s-01", x->month);
    rc = store_query(s,
                     "SELECT t.programme, COALESCE(SUM(t.fen), 0) FROM (SELECT programme, "
                     "amount_fen AS fen, cycle_id FROM entitlements UNION ALL SELECT programme, "
                     "CASE WHEN kind = 'arrears' THEN amount_fen ELSE -amount_fen END, cycle_id "
                     "FROM adjustments) t JOIN cycles c ON c.id = t.cycle_id WHERE c.month >= $1 "
                     "AND c.month <= $2 AND (c.id = $3 OR c.state <> 'computed') AND c.state <> "
                     "'draft' AND t.programme IN (SELECT programme FROM entitlements WHERE "
                     "cycle_id = $3 UNION SELECT programme FROM adjustments WHERE cycle_id = $3) "
                     "GROUP BY t.programme ORDER BY t.programme",
                     (store_val[]){SV_TEXT(jan), SV_TEXT(x->month), SV_INT(id)}, 3, &r);
    if (rc) return store_failure(s, rc, "", err);
    char programmes[16][41];
    int64_t spent[16];
    int np = 0;
    while ((rc = store_step(r)) == 1 && np < 16) {
        snprintf(programmes[np], sizeof programmes[np], "%s", store_col_text(r, 0, NULL));
        spent[np++] = store_col_int(r, 1);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    for (int i = 0; i < np; i++) {
        int64_t budget = -1;
        rc = store_query_int(s, "SELECT amount_fen FROM budgets WHERE programme = $1 AND year = $2",
                             (store_val[]){SV_TEXT(programmes[i]), SV_INT(y)}, 2, &budget);
        if (rc && rc != QL_ENOTFOUND) return store_failure(s, rc, "", err);
        char b[32] = "none", sp[32];
        if (budget >= 0) validate_money_text(budget, b, sizeof b);
        validate_money_text(spent[i], sp, sizeof sp);
        if (budget < 0 || spent[i] > budget)
            return ql_errf(err, QL_ECONFLICT, "budget",
                           "%s in %s: the year's cycles would pay %s yuan, the budget is %s",
                           "%s %s 年：本年各批次将发放 %s 元，预算为 %s", programmes[i], year, sp,
                           b);
    }
    /* the payees frozen: the cycle pays each person the card confirmed
     * before this value of the payee clock (registry/payee.h) */
    int64_t payee_seq = 0;
    rc = store_exec(s, "UPDATE payee_clock SET seq = seq + 1 WHERE id = 1", NULL, 0, NULL);
    if (!rc)
        rc = store_query_int(s, "SELECT seq FROM payee_clock WHERE id = 1", NULL, 0, &payee_seq);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE cycles SET state = 'approved', approved_by = $1, approved_at = $2, "
                        "approved_account = $4, payee_seq = $5 WHERE id = $3 AND state = "
                        "'computed'",
                        (store_val[]){SV_TEXT(who), SV_INT((int64_t)time(NULL)), SV_INT(id),
                                      SV_TEXT(x->a->username), SV_INT(payee_seq)},
                        5, NULL);
    if (rc) return store_failure(s, rc, "", err);
    json_t *detail = json_pack("{ssss}", "month", x->month, "computed_by", by);
    rc = audit_by(s, x->a, "cycle.approve", "cycle", id, NULL, NULL, detail, NULL, err);
    json_decref(detail);
    return rc;
}

int cycle_approve(store *s, const actor *a, const char *month, struct cycle_approval *out,
                  ql_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_LEDGER_APPROVE, err);
    if (rc) return rc;
    int32_t first;
    if (date_parse_month(month, &first))
        return ql_errf(err, QL_EINVAL, "month", "the month must be YYYY-MM",
                       "月份格式应为 YYYY-MM");
    struct approve_ctx x = {a, month, out, err};
    rc = store_tx(s, STORE_TX_WRITE, approve_body, &x);
    if (!rc && !out->unchanged) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}
