/* test_report.c - disbursement reports and a person's ledger, on SQLite and
 * (with QL_TEST_PG) PostgreSQL, with every figure worked out by hand.
 *
 * Four subsidies computed by the real cycle (cycle_run) for October and
 * November 2026, under two programmes and two employers:
 *   a  district-rent, tier A, employer 甲, from 1 October: 2,000.00 a month
 *   b  district-rent, tier B, employer 乙, from 15 October: 1,500 x 17 / 31
 *      = 822.58, then 1,500.00
 *   c  talent-apartment (paid to the apartment's operator), employer 甲:
 *      1,200.00 a month
 *   d  district-rent, tier C, employer 乙, 1,000.00 in October, suspended
 *      from 1 November: 0.00 (an entitlement that pays nothing)
 * and, found in November for October, arrears of 677.42 for b (was 822.58,
 * due 1,500.00) and a recovery of 500.00 from d (was 1,000.00, due 500.00).
 *
 * The adjustments and the payments (sent, paid, returned, re-queued,
 * written off) are posted here with ledger_post and written to their tables
 * directly, with the keys and account moves of docs/ledger.md, because the
 * service that makes them (src/ledger/bank.c) is not part of this tree yet.
 * Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/date.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "ledger/report.h"
#include "policy/policy.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static actor CLI;
static int64_t EMP1, EMP2, OPERATOR, UNIT;
static int64_t A, B, C, D_;    /* applications */
static int64_t TA, TB, TC, TD; /* their talents */
static int64_t RENT_FILE;

static int32_t D(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

static int64_t ins(const char *sql, store_val *v, int n)
{
    int64_t id;
    if (store_insert(S, sql, v, n, &id)) fail_msg("%s: %s", sql, store_errmsg(S));
    return id;
}

static int64_t count(const char *sql)
{
    int64_t n = -1;
    if (store_query_int(S, sql, NULL, 0, &n)) fail_msg("%s: %s", sql, store_errmsg(S));
    return n;
}

static int load_policy(const char *path)
{
    size_t len;
    char *text = tu_slurp(path, &len);
    struct policy_saved *sv = malloc(sizeof *sv);
    struct policy_activated act;
    ql_err err = {0};
    int rc = !text || !sv || policy_save(S, &CLI, text, len, path, sv, &err) ||
             policy_activate(S, &CLI, sv->id, &act, &err);
    free(text);
    free(sv);
    if (rc) print_error("%s: %s\n", path, err.en);
    return rc ? -1 : 0;
}

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    if (load_policy("policies/talent-apartment.policy")) return -1;
    if (store_query_int(S, "SELECT id FROM policy_files WHERE programme = 'district-rent'", NULL, 0,
                        &RENT_FILE))
        return -1;
    EMP1 = ins("INSERT INTO employers (credit_code, name, registered_in_district, "
               "taxed_in_district, industry, created_at, updated_at) VALUES "
               "('91310104MA1FL00001', '上海甲科技有限公司', 1, 1, 'ai', 0, 0)",
               NULL, 0);
    EMP2 = ins("INSERT INTO employers (credit_code, name, registered_in_district, "
               "taxed_in_district, industry, created_at, updated_at) VALUES "
               "('91310104MA1FL00002', '上海乙生物有限公司', 1, 1, 'life_health', 0, 0)",
               NULL, 0);
    OPERATOR = ins("INSERT INTO operators (code, name, created_at, updated_at) VALUES "
                   "('op-1', '上海人才公寓运营有限公司', 0, 0)",
                   NULL, 0);
    store_val u[] = {SV_INT(OPERATOR)};
    UNIT = ins("INSERT INTO housing_units (operator_id, address, area_cm2, rooms, rent_fen, kind, "
               "verification_code, status, created_at, updated_at) VALUES ($1, '徐汇区人才公寓 "
               "1 号 101 室', 450000, 1, 450000, 'talent_apartment', 'HY-0001', 'leased', 0, 0)",
               u, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

/* A talent of level at employer with a filed lease for 2026 and 2027 (of
 * the apartment when unit is set), whose application of programme is walked
 * to active from `activate`. */
static int64_t active_subsidy(const char *name, const char *level, int64_t employer,
                              const char *programme, int64_t unit, int32_t activate, int64_t *tid)
{
    char idx[40], filing[32];
    snprintf(idx, sizeof idx, "index-%s", name);
    snprintf(filing, sizeof filing, "F-%s", name);
    store_val t[] = {SV_TEXT(name),         SV_BLOB("x", 1), SV_TEXT(idx),
                     SV_INT(D(1992, 3, 4)), SV_TEXT(level),  SV_INT(employer)};
    *tid = ins("INSERT INTO talents (name, id_enc, id_index, id_masked, id_kind, birth_date, "
               "sex, education, level, employer_id, employed_since, insurance_months, "
               "owns_housing, created_at, updated_at) VALUES ($1, $2, $3, '1101**********"
               "0000', 'resident', $4, 'm', 'master', $5, $6, 19000, 24, 0, 0, 0)",
               t, 6);
    store_val l[] = {SV_INT(*tid), SV_TEXT(filing), SV_INT(D(2026, 1, 1)), SV_INT(D(2027, 12, 31)),
                     unit ? SV_INT(unit) : SV_NULL};
    ins("INSERT INTO leases (talent_id, address, start_date, end_date, rent_fen, signed_date, "
        "filing_no, filed_date, unit_id, created_at, updated_at) VALUES ($1, '徐汇区虹桥路 1 号', "
        "$3, $4, 450000, $3, $2, $3, $5, 0, 0)",
        l, 5);
    actor self = CLI;
    self.scope = SCOPE_SELF;
    self.roles = 1u << ROLE_TALENT;
    self.perms = role_perms(ROLE_TALENT);
    snprintf(self.scope_id, sizeof self.scope_id, "%lld", (long long)*tid);
    struct app_declare d = {0, 0, 1};
    int64_t id;
    char ref[24];
    ql_err err;
    int32_t day = D(2026, 9, 1);
    if (subsidy_create(S, &self, programme, 0, &d, day, &id, ref, &err))
        fail_msg("create: %s", err.en);
    struct {
        const actor *who;
        enum app_action a;
        int32_t today, effective;
    } steps[] = {
        {&self, AA_SUBMIT, day, 0},
        {&CLI, AA_ATTEST, day, 0},
        {&CLI, AA_ACCEPT, day, 0},
        {&CLI, AA_REVIEW, day, 0},
        {&CLI, AA_PUBLISH, day, 0},
        {&CLI, AA_APPROVE, D(2026, 9, 14), 0},
        {&CLI, AA_ACTIVATE, D(2026, 9, 14), activate},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct app_step st = {steps[i].a, NULL, NULL, steps[i].today, steps[i].effective};
        struct app_result res;
        if (subsidy_transition(S, steps[i].who, id, &st, &res, &err))
            fail_msg("%s: %s", subsidy_action_name(steps[i].a), err.en);
    }
    return id;
}

/* ---- stand-ins for the bank service's postings (see the top) ----------- */

static int64_t account(const char *kind, enum ledger_kind k, const char *payee_type,
                       int64_t payee_id, const char *programme)
{
    char code[64];
    if (payee_type)
        snprintf(code, sizeof code, "%s:%s:%lld", kind, payee_type, (long long)payee_id);
    else if (programme)
        snprintf(code, sizeof code, "%s:%s:2026", kind, programme);
    else
        snprintf(code, sizeof code, "%s", kind);
    struct ledger_account a = {code, k, programme ? programme : "", payee_type ? payee_type : "",
                               payee_type ? payee_id : 0};
    int64_t id;
    ql_err err;
    if (ledger_account_id(S, &a, &id, &err)) fail_msg("account %s: %s", code, err.en);
    return id;
}

static int64_t post(const char *key, int64_t debit, int64_t credit, int64_t fen, const char *cycle,
                    int64_t app)
{
    struct ledger_transfer t = {key, debit, credit, fen, cycle, app, NULL};
    int64_t id;
    int dup;
    ql_err err;
    if (ledger_post(S, &t, &id, &dup, &err)) fail_msg("post %s: %s", key, err.en);
    return id;
}

static int64_t cycle_id(const char *month)
{
    int64_t id = 0;
    store_val v[] = {SV_TEXT(month)};
    if (store_query_int(S, "SELECT id FROM cycles WHERE month = $1", v, 1, &id))
        fail_msg("no cycle %s", month);
    return id;
}

/* An adjustment found in cycle month for for_month of application app. */
static void adjust(const char *month, int64_t app, int64_t talent, const char *kind, int64_t was,
                   int64_t due)
{
    char key[80];
    snprintf(key, sizeof key, "adjust:%s:%lld:2026-10", month, (long long)app);
    int64_t budget = account("budget", LK_BUDGET, NULL, 0, "district-rent");
    int64_t payable = account("payable", LK_PAYABLE, "person", talent, NULL);
    bool arrears = !strcmp(kind, "arrears");
    int64_t amount = arrears ? due - was : was - due;
    int64_t tr = arrears ? post(key, budget, payable, amount, month, app)
                         : post(key, payable, budget, amount, month, app);
    store_val v[] = {SV_INT(cycle_id(month)), SV_INT(app), SV_INT(talent),
                     SV_TEXT(kind),           SV_INT(was), SV_INT(due),
                     SV_INT(amount),          SV_INT(tr)};
    ins("INSERT INTO adjustments (cycle_id, application_id, talent_id, programme, for_month, kind, "
        "was_fen, due_fen, amount_fen, payee_type, payee_id, steps, transfer_id, created_at) "
        "VALUES ($1, $2, $3, 'district-rent', '2026-10', $4, $5, $6, $7, 'person', $3, "
        "'[{\"step\":\"difference\"}]', $8, 0)",
        v, 8);
}

static int64_t batch(const char *month, const char *no, int64_t fen)
{
    store_val v[] = {SV_INT(cycle_id(month)), SV_TEXT(no), SV_INT(fen)};
    return ins("INSERT INTO bank_batches (cycle_id, batch_no, records, total_fen, created_at) "
               "VALUES ($1, $2, 1, $3, 0)",
               v, 3);
}

/* A payment of fen to talent in month's cycle, sent in batch; then, by
 * outcome: "paid", "failed" (returned and re-queued), "written_off"
 * (returned, then written off) or "sent" (no result yet). */
static int64_t pay(const char *month, int64_t talent, const char *request, int attempt,
                   int64_t previous, int64_t fen, int64_t batch_id, const char *outcome,
                   const char *code, const char *message)
{
    int64_t payable = account("payable", LK_PAYABLE, "person", talent, NULL);
    int64_t clearing = account("clearing:bank", LK_CLEARING, NULL, 0, NULL);
    int64_t paid = account("paid", LK_PAID, "person", talent, NULL);
    int64_t budget = account("budget", LK_BUDGET, NULL, 0, "district-rent");
    char key[64];
    snprintf(key, sizeof key, "send:%s", request);
    int64_t send = post(key, payable, clearing, fen, month, 0), settle = 0;
    const char *state = "sent";
    if (!strcmp(outcome, "paid")) {
        snprintf(key, sizeof key, "paid:%s", request);
        settle = post(key, clearing, paid, fen, month, 0);
        state = "paid";
    } else if (strcmp(outcome, "sent")) {
        snprintf(key, sizeof key, "return:%s", request);
        settle = post(key, clearing, payable, fen, month, 0);
        state = "requeued";
        if (!strcmp(outcome, "written_off")) {
            snprintf(key, sizeof key, "writeoff:%s", request);
            post(key, payable, budget, fen, month, 0);
            state = "written_off";
        }
    }
    store_val v[] = {SV_TEXT(request),
                     SV_INT(cycle_id(month)),
                     SV_INT(payable),
                     SV_INT(talent),
                     SV_INT(attempt),
                     previous ? SV_INT(previous) : SV_NULL,
                     SV_INT(fen),
                     SV_TEXT(state),
                     SV_INT(batch_id),
                     SV_INT(send),
                     settle ? SV_INT(settle) : SV_NULL,
                     SV_TEXT(code),
                     SV_TEXT(message)};
    return ins("INSERT INTO payments (request_id, cycle_id, account_id, payee_type, payee_id, "
               "attempt, previous_id, amount_fen, bank_index, bank_masked, state, batch_id, "
               "send_transfer_id, settle_transfer_id, result_code, result_message, created_at) "
               "VALUES ($1, $2, $3, 'person', $4, $5, $6, $7, 'idx', '6222 **** **** 0001', $8, "
               "$9, $10, $11, $12, $13, 0)",
               v, 13);
}

/* ---- reading reports back ---------------------------------------------- */

static json_t *report(const char *period, const char *by)
{
    struct report_period p;
    enum report_by g;
    ql_err err;
    json_t *o = NULL;
    if (report_period_parse(period, &p, &err) || report_by_parse(by, &g, &err) ||
        report_json(S, &CLI, &p, g, &o, &err))
        fail_msg("report %s by %s: %s", period, by, err.en);
    return o;
}

/* Asserts a report row: paying, entitled, arrears, recovered, net (fen). */
static void row_is(json_t *row, int64_t paying, int64_t entitled, int64_t arrears,
                   int64_t recovered, int64_t net)
{
    assert_non_null(row);
    assert_int_equal(json_integer_value(json_object_get(row, "paying")), paying);
    assert_int_equal(json_integer_value(json_object_get(row, "entitled_fen")), entitled);
    assert_int_equal(json_integer_value(json_object_get(row, "arrears_fen")), arrears);
    assert_int_equal(json_integer_value(json_object_get(row, "recovered_fen")), recovered);
    assert_int_equal(json_integer_value(json_object_get(row, "net_fen")), net);
}

/* The row of a report whose key (and, for tiers, programme) is given. */
static json_t *row_of(json_t *rep, const char *key, const char *programme)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(rep, "rows"), i, r)
    {
        const char *k = json_string_value(json_object_get(r, "key"));
        const char *p = json_string_value(json_object_get(r, "programme"));
        if (k && !strcmp(k, key) && (!programme || (p && !strcmp(p, programme)))) return r;
    }
    fail_msg("no row %s", key);
    return NULL;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static json_t *totals_of(json_t *ledger)
{
    return json_object_get(ledger, "totals");
}

static int64_t tot(json_t *ledger, const char *k)
{
    return json_integer_value(json_object_get(totals_of(ledger), k));
}

static char *slurp_cmd(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p) fail_msg("cannot run %s", cmd);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            assert_non_null(bigger);
            buf = bigger;
            cap *= 2;
        }
    }
    buf[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return buf;
}

static void test_reports_and_ledgers(void **state)
{
    (void)state;
    A = active_subsidy("甲一", "A", EMP1, "district-rent", 0, D(2026, 10, 1), &TA);
    B = active_subsidy("乙二", "B", EMP2, "district-rent", 0, D(2026, 10, 15), &TB);
    C = active_subsidy("丙三", "C", EMP1, "talent-apartment", UNIT, D(2026, 10, 1), &TC);
    D_ = active_subsidy("丁四", "C", EMP2, "district-rent", 0, D(2026, 10, 1), &TD);
    ql_err err;
    struct app_step sus = {AA_SUSPEND, "租约核查", NULL, D(2026, 10, 25), D(2026, 11, 1)};
    struct app_result res;
    assert_int_equal(subsidy_transition(S, &CLI, D_, &sus, &res, &err), 0);

    /* October: computed, approved by a second person, paid */
    struct cycle_report rep;
    assert_int_equal(cycle_run(S, &CLI, D(2026, 10, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.total_fen, 200000 + 82258 + 120000 + 100000);
    actor finance = CLI;
    snprintf(finance.username, sizeof finance.username, "finance.two");
    finance.perms = role_perms(ROLE_FINANCE);
    assert_int_equal(cycle_budget_set(S, &finance, "district-rent", 2026, 10000000, &err), 0);
    assert_int_equal(cycle_budget_set(S, &finance, "talent-apartment", 2026, 10000000, &err), 0);
    struct cycle_approval ap;
    assert_int_equal(cycle_approve(S, &finance, "2026-10", &ap, &err), 0);
    int64_t b1 = batch("2026-10", "B202610-001", 282258);
    pay("2026-10", TA, "Q1", 1, 0, 200000, b1, "paid", "0000", "成功");
    pay("2026-10", TB, "Q4", 1, 0, 82258, b1, "paid", "0000", "成功");

    /* November: computed; b's arrears and d's recovery for October; a's
     * payment returned and sent again, b's returned and written off */
    assert_int_equal(cycle_run(S, &CLI, D(2026, 11, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.entitlements, 4);
    assert_int_equal(rep.paid, 3);
    assert_int_equal(rep.total_fen, 200000 + 150000 + 120000);
    adjust("2026-11", B, TB, "arrears", 82258, 150000);
    adjust("2026-11", D_, TD, "recovery", 100000, 50000);
    int64_t b2 = batch("2026-11", "B202611-001", 417742);
    int64_t q2 = pay("2026-11", TA, "Q2", 1, 0, 200000, b2, "failed", "E101", "户名不符");
    pay("2026-11", TB, "Q5", 1, 0, 217742, b2, "written_off", "E102", "账户已销户");
    int64_t b3 = batch("2026-11", "B202611-002", 200000);
    pay("2026-11", TA, "Q3", 2, q2, 200000, b3, "sent", "", "");

    /* November by programme: district-rent pays a and b (d's 0.00 does not
     * count), with b's arrears and d's recovery */
    json_t *o = report("2026-11", "programme");
    assert_string_equal(str(o, "by"), "programme");
    assert_int_equal(json_array_size(json_object_get(o, "cycles")), 1);
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 2);
    row_is(row_of(o, "district-rent", NULL), 2, 350000, 67742, 50000, 367742);
    assert_string_equal(str(row_of(o, "district-rent", NULL), "label"), "区人才租房补贴");
    assert_string_equal(str(row_of(o, "district-rent", NULL), "net_yuan"), "3677.42");
    row_is(row_of(o, "talent-apartment", NULL), 1, 120000, 0, 0, 120000);
    row_is(json_object_get(o, "total"), 3, 470000, 67742, 50000, 487742);
    json_decref(o);

    /* by tier: an adjustment counts under its application's tier */
    o = report("2026-11", "tier");
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 4);
    row_is(row_of(o, "A", "district-rent"), 1, 200000, 0, 0, 200000);
    row_is(row_of(o, "B", "district-rent"), 1, 150000, 67742, 0, 217742);
    row_is(row_of(o, "C", "district-rent"), 0, 0, 0, 50000, -50000);
    row_is(row_of(o, "apartment", "talent-apartment"), 1, 120000, 0, 0, 120000);
    row_is(json_object_get(o, "total"), 3, 470000, 67742, 50000, 487742);
    json_decref(o);

    /* by employer, with the employer's name */
    o = report("2026-11", "employer");
    char k1[24], k2[24];
    snprintf(k1, sizeof k1, "%lld", (long long)EMP1);
    snprintf(k2, sizeof k2, "%lld", (long long)EMP2);
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 2);
    row_is(row_of(o, k1, NULL), 2, 320000, 0, 0, 320000);
    assert_string_equal(str(row_of(o, k1, NULL), "label"), "上海甲科技有限公司");
    row_is(row_of(o, k2, NULL), 1, 150000, 67742, 50000, 167742);
    assert_string_equal(str(row_of(o, k2, NULL), "label"), "上海乙生物有限公司");
    json_decref(o);

    /* by payee type */
    o = report("2026-11", "payee_type");
    row_is(row_of(o, "person", NULL), 2, 350000, 67742, 50000, 367742);
    assert_string_equal(str(row_of(o, "person", NULL), "label"), "个人");
    row_is(row_of(o, "operator", NULL), 1, 120000, 0, 0, 120000);
    json_decref(o);

    /* the year: October and November */
    o = report("2026", "programme");
    assert_true(json_is_true(json_object_get(o, "year")));
    json_t *cy = json_object_get(o, "cycles");
    assert_int_equal(json_array_size(cy), 2);
    assert_string_equal(str(json_array_get(cy, 0), "month"), "2026-10");
    assert_string_equal(str(json_array_get(cy, 0), "state"), "approved");
    assert_string_equal(str(json_array_get(cy, 1), "state"), "computed");
    row_is(row_of(o, "district-rent", NULL), 5, 732258, 67742, 50000, 750000);
    row_is(row_of(o, "talent-apartment", NULL), 2, 240000, 0, 0, 240000);
    row_is(json_object_get(o, "total"), 7, 972258, 67742, 50000, 990000);
    json_decref(o);
    o = report("2026", "tier");
    row_is(row_of(o, "A", "district-rent"), 2, 400000, 0, 0, 400000);
    row_is(row_of(o, "B", "district-rent"), 2, 232258, 67742, 0, 300000);
    row_is(row_of(o, "C", "district-rent"), 1, 100000, 0, 50000, 50000);
    row_is(row_of(o, "apartment", "talent-apartment"), 2, 240000, 0, 0, 240000);
    json_decref(o);
    o = report("2026", "employer");
    row_is(row_of(o, k1, NULL), 4, 640000, 0, 0, 640000);
    row_is(row_of(o, k2, NULL), 3, 332258, 67742, 50000, 350000);
    row_is(json_object_get(o, "total"), 7, 972258, 67742, 50000, 990000);
    json_decref(o);
    o = report("2026", "payee_type");
    row_is(row_of(o, "person", NULL), 5, 732258, 67742, 50000, 750000);
    row_is(row_of(o, "operator", NULL), 2, 240000, 0, 0, 240000);
    json_decref(o);
    /* a year without cycles is an empty report; a month without one is not found */
    o = report("2025", "programme");
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 0);
    row_is(json_object_get(o, "total"), 0, 0, 0, 0, 0);
    json_decref(o);
    struct report_period p;
    assert_int_equal(report_month("2026-05", &p, &err), 0);
    assert_int_equal(report_json(S, &CLI, &p, REPORT_PROGRAMME, &o, &err), QL_ENOTFOUND);
    assert_string_equal(err.field, "month");

    /* .xlsx: a zip whose sheet holds the names and the amounts in yuan */
    char xlsx[600], csv[600];
    snprintf(xlsx, sizeof xlsx, "%s/report.xlsx", tu_tmpdir());
    snprintf(csv, sizeof csv, "%s/report.csv", tu_tmpdir());
    assert_int_equal(report_month("2026-11", &p, &err), 0);
    int64_t rows = 0;
    assert_int_equal(report_export(S, &CLI, &p, REPORT_EMPLOYER, EXPORT_XLSX, xlsx, &rows, &err),
                     0);
    assert_int_equal(rows, 2);
    size_t len;
    char *bytes = tu_slurp(xlsx, &len);
    assert_non_null(bytes);
    assert_true(len > 4 && bytes[0] == 'P' && bytes[1] == 'K');
    free(bytes);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/worksheets/sheet1.xml", xlsx);
    char *sheet = slurp_cmd(cmd);
    assert_non_null(strstr(sheet, "上海甲科技有限公司"));
    assert_non_null(strstr(sheet, "上海乙生物有限公司"));
    assert_non_null(strstr(sheet, "<v>3200</v>"));    /* 甲: 3,200.00 */
    assert_non_null(strstr(sheet, "<v>1677.42</v>")); /* 乙: net 1,677.42 */
    assert_non_null(strstr(sheet, "<v>677.42</v>"));  /* 乙: arrears */
    assert_non_null(strstr(sheet, "<v>4877.42</v>")); /* the total */
    assert_non_null(strstr(sheet, "合计"));
    free(sheet);
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/workbook.xml", xlsx);
    sheet = slurp_cmd(cmd);
    assert_non_null(strstr(sheet, "2026-11 按用人单位"));
    free(sheet);

    /* CSV of the year by tier, the total last */
    assert_int_equal(report_year("2026", &p, &err), 0);
    assert_int_equal(report_export(S, &CLI, &p, REPORT_TIER, EXPORT_CSV, csv, &rows, &err), 0);
    assert_int_equal(rows, 4);
    char *text = tu_slurp(csv, &len);
    assert_non_null(text);
    assert_memory_equal(text, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(text, "年度,补贴项目,档次,发放笔数,应发金额（元）,补发金额（元）,"
                                 "追回金额（元）,净额（元）\r\n"));
    assert_non_null(strstr(text, "2026,district-rent,A,2,4000.00,0.00,0.00,4000.00\r\n"));
    assert_non_null(strstr(text, "2026,district-rent,B,2,2322.58,677.42,0.00,3000.00\r\n"));
    assert_non_null(strstr(text, "2026,district-rent,C,1,1000.00,0.00,500.00,500.00\r\n"));
    assert_non_null(strstr(text, "2026,合计,,7,9722.58,677.42,500.00,9900.00\r\n"));
    free(text);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'ledger.report_export'"),
                     2);

    /* a's ledger: two entitlements, a payment paid, one returned and sent again */
    json_t *l;
    assert_int_equal(report_person(S, &CLI, TA, &l, &err), 0);
    assert_string_equal(str(json_object_get(l, "talent"), "name"), "甲一");
    json_t *ps = json_object_get(l, "postings");
    assert_int_equal(json_array_size(ps), 7);
    static const char *const a_kinds[] = {"entitlement", "sent",     "paid", "entitlement",
                                          "sent",        "returned", "sent"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(str(json_array_get(ps, i), "kind"), a_kinds[i]);
    json_t *p0 = json_array_get(ps, 0), *tr = json_object_get(p0, "trace");
    char key[64], payable[48];
    snprintf(key, sizeof key, "entitlement:2026-10:%lld", (long long)A);
    snprintf(payable, sizeof payable, "payable:person:%lld", (long long)TA);
    assert_string_equal(str(p0, "key"), key);
    assert_string_equal(str(p0, "debit"), "budget:district-rent:2026");
    assert_string_equal(str(p0, "credit"), payable);
    assert_string_equal(str(p0, "amount_yuan"), "2000.00");
    assert_string_equal(str(p0, "cycle"), "2026-10");
    assert_string_equal(str(tr, "type"), "entitlement");
    assert_int_equal(json_integer_value(json_object_get(tr, "application_id")), A);
    assert_int_equal(json_integer_value(json_object_get(tr, "policy_file_id")), RENT_FILE);
    assert_string_equal(str(tr, "policy_version"), "2026.1");
    assert_string_equal(str(tr, "tier"), "A");
    assert_int_equal(json_integer_value(json_object_get(tr, "month_index")), 1);
    assert_int_equal(json_integer_value(json_object_get(tr, "days")), 31);
    assert_true(json_array_size(json_object_get(tr, "steps")) > 0);
    tr = json_object_get(json_array_get(ps, 3), "trace");
    assert_int_equal(json_integer_value(json_object_get(tr, "month_index")), 2);
    tr = json_object_get(json_array_get(ps, 2), "trace");
    assert_string_equal(str(tr, "type"), "payment");
    assert_string_equal(str(tr, "request_id"), "Q1");
    assert_string_equal(str(tr, "batch_no"), "B202610-001");
    assert_string_equal(str(tr, "state"), "paid");
    assert_string_equal(str(tr, "account_masked"), "6222 **** **** 0001");
    tr = json_object_get(json_array_get(ps, 5), "trace");
    assert_string_equal(str(tr, "request_id"), "Q2");
    assert_string_equal(str(tr, "state"), "requeued");
    assert_string_equal(str(tr, "result_code"), "E101");
    assert_string_equal(str(tr, "result_message"), "户名不符");
    tr = json_object_get(json_array_get(ps, 6), "trace");
    assert_string_equal(str(tr, "request_id"), "Q3");
    assert_int_equal(json_integer_value(json_object_get(tr, "attempt")), 2);
    assert_string_equal(str(tr, "batch_no"), "B202611-002");
    assert_int_equal(tot(l, "entitled_fen"), 400000);
    assert_int_equal(tot(l, "sent_fen"), 600000);
    assert_int_equal(tot(l, "returned_fen"), 200000);
    assert_int_equal(tot(l, "paid_fen"), 200000);
    assert_int_equal(tot(l, "outstanding_fen"), 0);
    assert_int_equal(tot(l, "in_clearing_fen"), 200000);
    json_t *check = json_object_get(l, "check");
    assert_true(json_is_true(json_object_get(check, "holds")));
    assert_string_equal(str(check, "en"),
                        "paid 2000.00 = entitled 4000.00 + arrears 0.00 - recovered 0.00 - "
                        "written off 0.00 - outstanding 0.00 - in clearing 2000.00: holds");
    json_decref(l);

    /* b's ledger: arrears traced to its adjustment, a payment written off */
    assert_int_equal(report_person(S, &CLI, TB, &l, &err), 0);
    ps = json_object_get(l, "postings");
    static const char *const b_kinds[] = {"entitlement", "sent", "paid",     "entitlement",
                                          "arrears",     "sent", "returned", "written_off"};
    assert_int_equal(json_array_size(ps), 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(str(json_array_get(ps, i), "kind"), b_kinds[i]);
    tr = json_object_get(json_array_get(ps, 4), "trace");
    assert_string_equal(str(tr, "type"), "adjustment");
    assert_string_equal(str(tr, "for_month"), "2026-10");
    assert_int_equal(json_integer_value(json_object_get(tr, "was_fen")), 82258);
    assert_int_equal(json_integer_value(json_object_get(tr, "due_fen")), 150000);
    tr = json_object_get(json_array_get(ps, 7), "trace");
    assert_string_equal(str(tr, "request_id"), "Q5");
    assert_string_equal(str(tr, "state"), "written_off");
    assert_int_equal(tot(l, "entitled_fen"), 232258);
    assert_int_equal(tot(l, "arrears_fen"), 67742);
    assert_int_equal(tot(l, "written_off_fen"), 217742);
    assert_int_equal(tot(l, "paid_fen"), 82258);
    assert_int_equal(tot(l, "outstanding_fen"), 0);
    assert_true(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    json_decref(l);

    /* d's: 1,000.00 entitled, 500.00 recovered, 500.00 outstanding */
    assert_int_equal(report_person(S, &CLI, TD, &l, &err), 0);
    ps = json_object_get(l, "postings");
    assert_int_equal(json_array_size(ps), 2);
    assert_string_equal(str(json_array_get(ps, 1), "kind"), "recovery");
    assert_int_equal(tot(l, "recovered_fen"), 50000);
    assert_int_equal(tot(l, "outstanding_fen"), 50000);
    assert_true(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    json_decref(l);

    /* c's: paid to the operator, so nothing on the person's own accounts */
    assert_int_equal(report_person(S, &CLI, TC, &l, &err), 0);
    ps = json_object_get(l, "postings");
    assert_int_equal(json_array_size(ps), 2);
    assert_false(json_is_true(json_object_get(json_array_get(ps, 0), "own")));
    char op[48];
    snprintf(op, sizeof op, "payable:operator:%lld", (long long)OPERATOR);
    assert_string_equal(str(json_array_get(ps, 0), "credit"), op);
    assert_int_equal(tot(l, "entitled_fen"), 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(totals_of(l), "other_payees"), "entitled_fen")),
                     240000);
    json_decref(l);

    /* a posting the ledger cannot explain makes the check fail */
    int64_t other = account("receivable", LK_RECEIVABLE, "person", TD, NULL);
    post("manual:1", account("payable", LK_PAYABLE, "person", TD, NULL), other, 100, "", 0);
    assert_int_equal(report_person(S, &CLI, TD, &l, &err), 0);
    assert_false(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    assert_non_null(strstr(str(json_object_get(l, "check"), "en"), "does not hold"));
    assert_string_equal(str(json_array_get(json_object_get(l, "postings"), 2), "kind"), "other");
    json_decref(l);
    assert_int_equal(report_person(S, &CLI, 999999, &l, &err), QL_ENOTFOUND);
    assert_string_equal(err.field, "id");
}

static void test_refusals(void **state)
{
    (void)state;
    ql_err err;
    struct report_period p;
    enum report_by by;
    json_t *o = NULL;
    assert_int_equal(report_by_parse("salary", &by, &err), QL_EINVAL);
    assert_string_equal(err.field, "by");
    assert_int_equal(report_by_parse(NULL, &by, &err), 0);
    assert_int_equal(by, REPORT_PROGRAMME);
    assert_int_equal(report_month("2026-13", &p, &err), QL_EINVAL);
    assert_string_equal(err.field, "month");
    assert_int_equal(report_month("2026", &p, &err), QL_EINVAL);
    assert_int_equal(report_year("26", &p, &err), QL_EINVAL);
    assert_string_equal(err.field, "year");
    assert_int_equal(report_year("1999", &p, &err), QL_EINVAL);
    assert_int_equal(report_year("20a6", &p, &err), QL_EINVAL);
    assert_int_equal(report_period_parse("2026-1", &p, &err), QL_EINVAL);
    assert_string_equal(err.field, "period");
    assert_int_equal(report_period_parse("2026-11", &p, &err), 0);
    assert_false(p.year);

    /* reports need ledger.run, ledger.approve or ledger.export */
    actor reviewer = CLI;
    reviewer.perms = role_perms(ROLE_REVIEWER);
    assert_int_equal(report_json(S, &reviewer, &p, REPORT_PROGRAMME, &o, &err), QL_EFORBIDDEN);
    assert_non_null(strstr(err.en, "ledger.export"));
    char path[600];
    snprintf(path, sizeof path, "%s/refused.csv", tu_tmpdir());
    int64_t rows;
    assert_int_equal(report_export(S, &reviewer, &p, REPORT_TIER, EXPORT_CSV, path, &rows, &err),
                     QL_EFORBIDDEN);
    assert_int_equal(report_person(S, &reviewer, TA, &o, &err), QL_EFORBIDDEN);
    actor export_only = CLI;
    export_only.perms = PERM_BIT(P_LEDGER_EXPORT);
    assert_int_equal(report_json(S, &export_only, &p, REPORT_PROGRAMME, &o, &err), 0);
    json_decref(o);
    actor nobody;
    memset(&nobody, 0, sizeof nobody);
    assert_int_equal(report_json(S, &nobody, &p, REPORT_PROGRAMME, &o, &err), QL_EUNAUTH);

    /* a talent reads their own ledger, and no one else's, and no report */
    actor self = CLI;
    self.scope = SCOPE_SELF;
    self.roles = 1u << ROLE_TALENT;
    self.perms = role_perms(ROLE_TALENT);
    snprintf(self.scope_id, sizeof self.scope_id, "%lld", (long long)TB);
    assert_int_equal(report_person(S, &self, TB, &o, &err), 0);
    assert_int_equal(json_array_size(json_object_get(o, "postings")), 8);
    json_decref(o);
    assert_int_equal(report_person(S, &self, TA, &o, &err), QL_ENOTFOUND);
    assert_int_equal(report_json(S, &self, &p, REPORT_PROGRAMME, &o, &err), QL_EFORBIDDEN);
    /* an employer's HR account reads no ledger */
    actor hr = CLI;
    hr.scope = SCOPE_EMPLOYER;
    hr.perms = role_perms(ROLE_EMPLOYER_HR);
    assert_int_equal(report_person(S, &hr, TA, &o, &err), QL_EFORBIDDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_and_ledgers),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("report", tests, setup, teardown);
}
