/* cycle.c - monthly disbursement cycles: computing (cycle.h). */
#include "ledger/cycle.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/log.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A subsidy that pays in the month, with what the registry says of it. */
struct payable {
    int64_t app, talent, employer, policy_file;
    char programme[41], version[41], tier[41], payee[12];
    int32_t start, end;  /* end POL_OPEN_END while open */
    int months_received; /* under earlier applications, at its review */
    int64_t rent, operator_id;
    int32_t lease_end;
};

struct run {
    store *s;
    const actor *a;
    int32_t first, last;
    char month[16];
    int64_t cycle;
    struct payable *p;
    size_t n, cap, walk_i;
    int64_t *done; /* applications with an entitlement in this cycle already, sorted */
    size_t ndone;
    /* policy files in use */
    struct cycle_report *out; /* the totals, when finished */
    int64_t file_id[16];
    pol_programme prog[16];
    int nprog;
    ql_err *err;
};

static int load_payables(struct run *x)
{
    store_rows *r;
    int rc = store_query(x->s,
                         "SELECT id, talent_id, COALESCE(employer_id, 0), "
                         "COALESCE(policy_file_id, 0), programme, COALESCE(policy_version, ''), "
                         "COALESCE(tier, ''), COALESCE(payee, 'person'), start_date, end_date, "
                         "COALESCE(trace, '') FROM applications WHERE start_date IS NOT NULL AND "
                         "start_date <= $2 AND (end_date IS NULL OR end_date >= $1) AND "
                         "state IN ('active', 'suspended', 'ended') AND eligible = 1 "
                         "ORDER BY talent_id, id",
                         (store_val[]){SV_INT(x->first), SV_INT(x->last)}, 2, &r);
    if (rc) return store_failure(x->s, rc, "", x->err);
    while ((rc = store_step(r)) == 1) {
        if (x->n == x->cap) {
            x->cap = x->cap ? x->cap * 2 : 256;
            x->p = xrealloc(x->p, x->cap * sizeof *x->p);
        }
        struct payable *p = &x->p[x->n++];
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
        json_t *tr = json_loads(store_col_text(r, 10, NULL), 0, NULL);
        p->months_received = (int)json_integer_value(json_object_get(tr, "months_received"));
        json_decref(tr);
        p->lease_end = POL_OPEN_END;
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(x->s, rc, "", x->err) : 0;
}

/* The lease and rent of each payable's talent on the first of the month. */
static int take_facts(const struct policy_subject *who, const pol_facts *f, void *ctx)
{
    struct run *x = ctx;
    while (x->walk_i < x->n && x->p[x->walk_i].talent < who->talent_id) x->walk_i++;
    for (size_t i = x->walk_i; i < x->n && x->p[i].talent == who->talent_id; i++) {
        x->p[i].rent = f->v[F_RENT];
        x->p[i].lease_end = f->v[F_LEASE_ACTIVE] ? who->lease_end : x->first - 1;
        x->p[i].operator_id = who->operator_id;
    }
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int load_done(struct run *x)
{
    store_rows *r;
    int rc = store_query(x->s, "SELECT application_id FROM entitlements WHERE cycle_id = $1",
                         (store_val[]){SV_INT(x->cycle)}, 1, &r);
    if (rc) return store_failure(x->s, rc, "", x->err);
    size_t cap = 0;
    while ((rc = store_step(r)) == 1) {
        if (x->ndone == cap) {
            cap = cap ? cap * 2 : 256;
            x->done = xrealloc(x->done, cap * sizeof *x->done);
        }
        x->done[x->ndone++] = store_col_int(r, 0);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(x->s, rc, "", x->err);
    if (x->ndone) qsort(x->done, x->ndone, sizeof *x->done, cmp_id);
    return 0;
}

static const pol_programme *programme_of(struct run *x, int64_t file)
{
    for (int i = 0; i < x->nprog; i++)
        if (x->file_id[i] == file) return &x->prog[i];
    if (x->nprog == 16) return NULL;
    ql_err e;
    if (policy_load_file(x->s, file, &x->prog[x->nprog], &e)) {
        pol_free(&x->prog[x->nprog]);
        return NULL;
    }
    x->file_id[x->nprog] = file;
    return &x->prog[x->nprog++];
}

/* Computes and writes the entitlement of payable p (inside a transaction). */
static int one(store *s, struct run *x, const struct payable *p)
{
    ql_err *err = x->err;
    const pol_programme *prog = programme_of(x, p->policy_file);
    const pol_version *v = NULL;
    int tier = -1;
    for (int i = 0; prog && i < prog->nver; i++)
        if (!strcmp(prog->ver[i].id, p->version)) v = &prog->ver[i];
    for (int i = 0; v && i < v->ntier; i++)
        if (!strcmp(v->tier[i].id, p->tier)) tier = i;
    if (!v || tier < 0)
        return ql_errf(err, QL_EINTERNAL, "policy",
                       "application %lld: tier %s of version %s of policy file %lld is not there",
                       "申请 %lld：档次 %s（版本 %s，政策文件 %lld）不存在", (long long)p->app,
                       p->tier, p->version, (long long)p->policy_file);
    /* the days covered: up to the subsidy's end and the lease's */
    int32_t end = p->end < p->lease_end ? p->end : p->lease_end;
    int32_t a = p->start > x->first ? p->start : x->first, b = end < x->last ? end : x->last;
    int32_t sfrom[32], sto[32];
    int ns = 0, excluded = 0, before = 0, rc;
    if ((rc = subsidy_suspensions(s, p->app, x->last, sfrom, sto, 32, &ns, err))) return rc;
    for (int k = 0; k < ns && b >= a; k++) {
        int32_t lo = sfrom[k] > a ? sfrom[k] : a, hi = sto[k] < b ? sto[k] : b;
        if (hi >= lo) excluded += (int)(hi - lo + 1);
    }
    if (p->start < x->first &&
        (rc = subsidy_paid_months(s, p->app, p->start, x->first - 1, &before, err)))
        return rc;
    int64_t year_before = 0;
    if (v->cap_year) {
        char jan[8];
        snprintf(jan, sizeof jan, "%.4s-01", x->month);
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(e.amount_fen), 0) FROM entitlements e JOIN "
                             "cycles c ON c.id = e.cycle_id WHERE e.talent_id = $1 AND "
                             "e.programme = $2 AND c.month >= $3 AND c.month < $4",
                             (store_val[]){SV_INT(p->talent), SV_TEXT(p->programme), SV_TEXT(jan),
                                           SV_TEXT(x->month)},
                             4, &year_before);
        if (rc) return store_failure(s, rc, "", err);
    }
    pol_month_in in = {x->first,    p->start, end,     p->months_received + before,
                       year_before, p->rent,  excluded};
    pol_month_out out;
    if ((rc = pol_month_amount(v, tier, &in, true, &out, err))) return rc;
    int64_t payee_id = !strcmp(p->payee, "employer")   ? p->employer
                       : !strcmp(p->payee, "operator") ? p->operator_id
                                                       : p->talent;
    int64_t amount = out.fen;
    if (amount > 0 && payee_id <= 0) { /* no employer or operator to pay */
        json_array_append_new(out.steps,
                              json_pack("{sssIssssss}", "step", "payee", "fen", (json_int_t)0,
                                        "yuan", "0.00", "en", "no payee to pay: nothing posted",
                                        "zh", "无收款方：不入账"));
        amount = 0;
    }
    char d1[16], d2[16] = "open", d3[16] = "open";
    date_format(p->start, d1, sizeof d1);
    if (p->end != POL_OPEN_END) date_format(p->end, d2, sizeof d2);
    if (p->lease_end != POL_OPEN_END) date_format(p->lease_end, d3, sizeof d3);
    json_t *inputs = json_pack("{sssssssIsosisisI}", "start", d1, "end", d2, "lease_end", d3,
                               "rent_fen", (json_int_t)p->rent, "rent_yuan", pol_yuan_json(p->rent),
                               "months_before", in.months_before, "suspended_days", excluded,
                               "paid_year_before_fen", (json_int_t)year_before);
    char *in_text = json_dumps(inputs, JSON_COMPACT);
    char *steps = json_dumps(out.steps, JSON_COMPACT);
    json_decref(inputs);
    json_decref(out.steps);
    int64_t transfer = 0;
    if (amount > 0) {
        char budget[64], payable[64], key[64];
        snprintf(budget, sizeof budget, "budget:%s:%.4s", p->programme, x->month);
        snprintf(payable, sizeof payable, "payable:%s:%lld", p->payee, (long long)payee_id);
        struct ledger_account ba = {budget, LK_BUDGET, p->programme, "", 0};
        struct ledger_account pa = {payable, LK_PAYABLE, "", p->payee, payee_id};
        int64_t bid = 0, pid = 0;
        int dup;
        snprintf(key, sizeof key, "entitlement:%s:%lld", x->month, (long long)p->app);
        struct ledger_transfer t = {key, 0, 0, amount, x->month, p->app, "entitlement"};
        if (!(rc = ledger_account_id(s, &ba, &bid, err)) &&
            !(rc = ledger_account_id(s, &pa, &pid, err))) {
            t.debit = bid;
            t.credit = pid;
            rc = ledger_post(s, &t, &transfer, &dup, err);
        }
    }
    if (!rc) {
        store_val row[] = {SV_INT(x->cycle),
                           SV_INT(p->app),
                           SV_INT(p->talent),
                           SV_TEXT(p->programme),
                           SV_INT(p->policy_file),
                           SV_TEXT(p->version),
                           SV_TEXT(p->tier),
                           SV_TEXT(p->payee),
                           payee_id > 0 ? SV_INT(payee_id) : SV_NULL,
                           SV_INT(out.index),
                           SV_INT(out.days),
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
    free(in_text);
    free(steps);
    return rc;
}

struct batch {
    struct run *x;
    size_t from, to;
    int64_t written;
};

static int batch_body(store *s, void *vctx)
{
    struct batch *b = vctx;
    b->written = 0;
    for (size_t i = b->from; i < b->to; i++) {
        const struct payable *p = &b->x->p[i];
        if (b->x->ndone && bsearch(&p->app, b->x->done, b->x->ndone, sizeof *b->x->done, cmp_id))
            continue; /* written by an earlier run that stopped */
        int rc = one(s, b->x, p);
        if (rc) return rc;
        b->written++;
    }
    return 0;
}

/* A cycle's entitlements: how many, how many pay, the total in fen. */
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
                    "computed_by = $3, computed_at = $4 WHERE id = $5 AND state = 'draft'",
                    (store_val[]){SV_INT(n), SV_INT(total), SV_TEXT(who),
                                  SV_INT((int64_t)time(NULL)), SV_INT(x->cycle)},
                    5, NULL);
    if (rc) return store_failure(s, rc, "", x->err);
    json_t *detail = json_pack("{sssIsIsI}", "month", x->month, "entitlements", (json_int_t)n,
                               "paid", (json_int_t)paid, "total_fen", (json_int_t)total);
    rc = audit_by(s, x->a, "cycle.compute", "cycle", x->cycle, NULL, NULL, detail, NULL, x->err);
    json_decref(detail);
    return rc;
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
    /* the cycle, created once */
    rc = store_insert(s,
                      "INSERT INTO cycles (month, created_at) VALUES ($1, $2) "
                      "ON CONFLICT (month) DO NOTHING",
                      (store_val[]){SV_TEXT(x.month), SV_INT((int64_t)time(NULL))}, 2, &x.cycle);
    if (rc && rc != QL_ECONFLICT) return store_failure(s, rc, "", err);
    store_rows *r;
    if ((rc = store_query(s, "SELECT id, state FROM cycles WHERE month = $1",
                          (store_val[]){SV_TEXT(x.month)}, 1, &r)))
        return store_failure(s, rc, "", err);
    char state[16] = "";
    if ((rc = store_step(r)) == 1) {
        x.cycle = store_col_int(r, 0);
        snprintf(state, sizeof state, "%s", store_col_text(r, 1, NULL));
    }
    store_rows_close(r);
    if (rc != 1) return store_failure(s, rc < 0 ? rc : QL_EDB, "", err);
    out->cycle_id = x.cycle;
    if (strcmp(state, "draft")) {
        out->unchanged = true;
        return totals(s, x.cycle, out, err);
    }
    if (!(rc = load_payables(&x)) && !(rc = load_done(&x)))
        rc = policy_registry_facts(s, month_first, take_facts, &x, err);
    for (size_t from = 0; !rc && from < x.n; from += CYCLE_BATCH) {
        struct batch b = {&x, from, from + CYCLE_BATCH < x.n ? from + CYCLE_BATCH : x.n, 0};
        rc = store_tx(s, STORE_TX_WRITE, batch_body, &b);
        if (!rc) {
            out->new_rows += b.written;
            if (progress) progress((int64_t)b.to, (int64_t)x.n, ctx);
        }
    }
    if (!rc) rc = store_tx(s, STORE_TX_WRITE, finish, &x);
    if (!rc) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    for (int i = 0; i < x.nprog; i++) pol_free(&x.prog[i]);
    free(x.p);
    free(x.done);
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
    int rc = store_query(s, "SELECT id, state, computed_by FROM cycles WHERE month = $1",
                         (store_val[]){SV_TEXT(x->month)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    int64_t id = 0;
    char state[16] = "", by[128] = "";
    if ((rc = store_step(r)) == 1) {
        id = store_col_int(r, 0);
        snprintf(state, sizeof state, "%s", store_col_text(r, 1, NULL));
        snprintf(by, sizeof by, "%s", store_col_text(r, 2, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (rc == 0)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       x->month);
    if (strcmp(state, "computed")) {
        if (!strcmp(state, "draft"))
            return ql_errf(err, QL_ECONFLICT, "state",
                           "cycle %s is not computed yet: qianlima cycle run %s",
                           "发放批次 %s 尚未计算：qianlima cycle run %s", x->month, x->month);
        x->out->unchanged = true; /* approved (and maybe further) before */
        return 0;
    }
    char who[128];
    actor_label(x->a, who);
    if (!strcmp(who, by))
        return ql_errf(err, QL_EFORBIDDEN, "approved_by",
                       "cycle %s was computed by %s: a second person approves it",
                       "发放批次 %s 由 %s 计算：须由另一人复核", x->month, by);
    /* each programme within its year's budget, the year's earlier cycles with it */
    char jan[8], year[8];
    snprintf(year, sizeof year, "%.4s", x->month);
    int y = (year[0] - '0') * 1000 + (year[1] - '0') * 100 + (year[2] - '0') * 10 + (year[3] - '0');
    snprintf(jan, sizeof jan, "%.4s-01", x->month);
    rc = store_query(s,
                     "SELECT e.programme, COALESCE(SUM(e.amount_fen), 0) FROM entitlements e "
                     "JOIN cycles c ON c.id = e.cycle_id WHERE c.month >= $1 AND c.month <= $2 "
                     "AND (c.id = $3 OR c.state <> 'computed') AND c.state <> 'draft' "
                     "AND e.programme IN (SELECT programme FROM entitlements WHERE cycle_id = $3) "
                     "GROUP BY e.programme ORDER BY e.programme",
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
    rc = store_exec(s,
                    "UPDATE cycles SET state = 'approved', approved_by = $1, approved_at = $2 "
                    "WHERE id = $3 AND state = 'computed'",
                    (store_val[]){SV_TEXT(who), SV_INT((int64_t)time(NULL)), SV_INT(id)}, 3, NULL);
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
