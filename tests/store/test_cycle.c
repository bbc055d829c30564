/* test_cycle.c - computing a month's disbursement cycle, on SQLite and
 * (with QL_TEST_PG) PostgreSQL, with amounts worked out by hand: a subsidy
 * that starts on 15 October (17 of 31 days at 2,000.00 = 1,096.77), one
 * paid the whole month (1,500.00) and suspended from 11 to 20 November
 * (20 of 30 days = 1,000.00), one ended on 20 October (20 of 31 days at
 * 1,000.00 = 645.16) and nothing after; every amount posted once to the
 * ledger (budget -> payable), the ledger summing to zero; running a cycle
 * again changes nothing; only ledger.run computes; the schema keeps the
 * approver apart from the computer. Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/date.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static actor CLI;
static int64_t EMP;

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

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    EMP = fx_employer(S, "91310104MA1FL00001");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

static int64_t active_subsidy(const char *name, const char *level, int32_t activate)
{
    return fx_active_subsidy(S, EMP, name, level, NULL, activate);
}

static int64_t amount(int64_t app, const char *month)
{
    int64_t fen = -1;
    store_val v[] = {SV_INT(app), SV_TEXT(month)};
    if (store_query_int(
            S,
            "SELECT e.amount_fen FROM entitlements e JOIN cycles c ON c.id = e.cycle_id "
            "WHERE e.application_id = $1 AND c.month = $2",
            v, 2, &fen))
        return -1; /* no entitlement */
    return fen;
}

static int64_t count(const char *sql)
{
    int64_t n = -1;
    if (store_query_int(S, sql, NULL, 0, &n)) fail_msg("%s: %s", sql, store_errmsg(S));
    return n;
}

static void test_cycles_by_hand(void **state)
{
    (void)state;
    int64_t a = active_subsidy("甲", "A", D(2026, 10, 15));
    int64_t b = active_subsidy("乙", "B", D(2026, 10, 1));
    int64_t c = active_subsidy("丙", "C", D(2026, 10, 1));
    ql_err err;
    struct app_step end = {AA_END, "已购房", NULL, D(2026, 10, 21), D(2026, 10, 20)};
    struct app_result res;
    assert_int_equal(subsidy_transition(S, &CLI, c, &end, &res, &err), 0);
    struct app_step sus = {AA_SUSPEND, "租约核查", NULL, D(2026, 11, 10), D(2026, 11, 11)};
    assert_int_equal(subsidy_transition(S, &CLI, b, &sus, &res, &err), 0);
    struct app_step resume = {AA_RESUME, NULL, NULL, D(2026, 11, 20), D(2026, 11, 21)};
    assert_int_equal(subsidy_transition(S, &CLI, b, &resume, &res, &err), 0);

    /* only ledger.run computes */
    actor reviewer = CLI;
    reviewer.perms = role_perms(ROLE_REVIEWER);
    struct cycle_report rep;
    assert_int_equal(cycle_run(S, &reviewer, D(2026, 10, 1), NULL, NULL, &rep, &err),
                     QL_EFORBIDDEN);
    assert_int_equal(cycle_run(S, &CLI, D(2026, 10, 2), NULL, NULL, &rep, &err), QL_EINVAL);

    assert_int_equal(cycle_run(S, &CLI, D(2026, 10, 1), NULL, NULL, &rep, &err), 0);
    assert_false(rep.unchanged);
    assert_int_equal(rep.entitlements, 3);
    assert_int_equal(amount(a, "2026-10"), 109677); /* 2000 x 17 / 31 */
    assert_int_equal(amount(b, "2026-10"), 150000);
    assert_int_equal(amount(c, "2026-10"), 64516); /* 1000 x 20 / 31 */
    assert_int_equal(rep.total_fen, 109677 + 150000 + 64516);
    /* the steps follow from the frozen inputs */
    json_t *steps = NULL;
    assert_int_equal(cycle_steps(S, a, "2026-10", &steps, &err), 0);
    char *text = json_dumps(steps, 0);
    assert_non_null(strstr(text, "covered 2026-10-15 to 2026-10-31, 17 of 31 days"));
    assert_non_null(strstr(text, "\"fen\": 109677"));
    free(text);
    json_decref(steps);
    assert_int_equal(cycle_steps(S, c, "2026-10", &steps, &err), 0);
    text = json_dumps(steps, 0);
    assert_non_null(strstr(text, "2026-10-01 to 2026-10-20, 20 of 31 days"));
    free(text);
    json_decref(steps);
    assert_int_equal(cycle_steps(S, c, "2026-11", &steps, &err), QL_ENOTFOUND);

    /* again: nothing changes */
    int64_t transfers = count("SELECT count(*) FROM ledger_transfers");
    assert_int_equal(cycle_run(S, &CLI, D(2026, 10, 1), NULL, NULL, &rep, &err), 0);
    assert_true(rep.unchanged);
    assert_int_equal(count("SELECT count(*) FROM ledger_transfers"), transfers);

    /* November: the whole month for a (its 2nd month), 20 of 30 days for b
     * (suspended 11 to 20 November), nothing for c (ended) */
    assert_int_equal(cycle_run(S, &CLI, D(2026, 11, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.entitlements, 2);
    assert_int_equal(amount(a, "2026-11"), 200000);
    assert_int_equal(amount(b, "2026-11"), 100000);
    assert_int_equal(amount(c, "2026-11"), -1);
    assert_int_equal(count("SELECT month_index FROM entitlements WHERE amount_fen = 200000"), 2);

    /* the ledger: every amount posted once, the whole summing to zero */
    int64_t sum = -1, n = 0;
    assert_int_equal(ledger_check(S, &sum, &n, &err), 0);
    assert_int_equal(sum, 0);
    assert_int_equal(n, 5);
    struct ledger_account budget = {"budget:district-rent:2026", LK_BUDGET, "district-rent", "", 0};
    int64_t bid, bal;
    assert_int_equal(ledger_account_id(S, &budget, &bid, &err), 0);
    assert_int_equal(ledger_balance(S, bid, &bal, &err), 0);
    assert_int_equal(bal, -(109677 + 150000 + 64516 + 200000 + 100000));

    /* what a cycle shows; the approver is never the one who computed it */
    json_t *o;
    assert_int_equal(cycle_get(S, &CLI, "2026-11", true, &o, &err), 0);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "computed");
    assert_string_equal(json_string_value(json_object_get(o, "total_yuan")), "3000.00");
    assert_int_equal(json_array_size(json_object_get(o, "items")), 2);
    json_decref(o);
    assert_int_equal(cycle_get(S, &CLI, "2030-01", false, &o, &err), QL_ENOTFOUND);
    assert_int_not_equal(store_exec(S,
                                    "UPDATE cycles SET approved_by = computed_by, "
                                    "state = 'approved' WHERE month = '2026-11'",
                                    NULL, 0, NULL),
                         0);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'cycle.compute'"), 2);

    /* a run that stopped after a's December entitlement goes on with b */
    store_val m[] = {SV_TEXT("2026-12")};
    int64_t cyc = ins("INSERT INTO cycles (month, created_at) VALUES ($1, 0)", m, 1);
    struct ledger_account pay = {"payable:person:x", LK_PAYABLE, "", "person", 0};
    int64_t pid, tid;
    int dup;
    assert_int_equal(ledger_account_id(S, &pay, &pid, &err), 0);
    char key[64];
    snprintf(key, sizeof key, "entitlement:2026-12:%lld", (long long)a);
    struct ledger_transfer t = {key, bid, pid, 200000, "2026-12", a, "entitlement"};
    assert_int_equal(ledger_post(S, &t, &tid, &dup, &err), 0);
    store_val row[] = {SV_INT(cyc), SV_INT(a), SV_INT(tid)};
    ins("INSERT INTO entitlements (cycle_id, application_id, talent_id, programme, policy_version, "
        "tier, payee_type, month_index, days, amount_fen, inputs, steps, transfer_id, created_at) "
        "SELECT $1, $2, talent_id, programme, policy_version, tier, 'person', 3, 31, 200000, '{}', "
        "'[]', $3, 0 FROM applications WHERE id = $2",
        row, 3);
    assert_int_equal(cycle_run(S, &CLI, D(2026, 12, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.new_rows, 1);
    assert_int_equal(rep.entitlements, 2);
    assert_int_equal(amount(b, "2026-12"), 150000);
    assert_int_equal(rep.total_fen, 350000);
    assert_int_equal(ledger_check(S, &sum, &n, &err), 0);
    assert_int_equal(sum, 0);
    assert_int_equal(n, 7);

    /* approval: a second person, within the year's budget */
    actor finance = CLI;
    snprintf(finance.username, sizeof finance.username, "finance.two");
    finance.perms = role_perms(ROLE_FINANCE);
    struct cycle_approval ap;
    assert_int_equal(cycle_approve(S, &reviewer, "2026-10", &ap, &err), QL_EFORBIDDEN);
    assert_int_equal(cycle_approve(S, &finance, "2026-10", &ap, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "budget"); /* no budget set */
    /* October pays 3,241.93; a budget of 3,000.00 is too small */
    assert_int_equal(cycle_budget_set(S, &finance, "district-rent", 2026, 300000, &err), 0);
    assert_int_equal(cycle_approve(S, &finance, "2026-10", &ap, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en,
                           "district-rent in 2026: the year's cycles would pay 3241.93 yuan, "
                           "the budget is 3000.00"));
    assert_int_equal(cycle_budget_set(S, &reviewer, "district-rent", 2026, 900000, &err),
                     QL_EFORBIDDEN);
    assert_int_equal(cycle_budget_set(S, &finance, "district-rent", 2026, -1, &err), QL_EINVAL);
    assert_int_equal(cycle_budget_set(S, &finance, "district-rent", 2026, 600000, &err), 0);
    /* the one who computed it may not approve it */
    assert_int_equal(cycle_approve(S, &CLI, "2026-10", &ap, &err), QL_EFORBIDDEN);
    assert_string_equal(err.field, "approved_by");
    assert_int_equal(cycle_approve(S, &finance, "2026-10", &ap, &err), 0);
    assert_false(ap.unchanged);
    assert_int_equal(cycle_approve(S, &finance, "2026-10", &ap, &err), 0);
    assert_true(ap.unchanged);
    /* November with October: 3,241.93 + 3,000.00 > 6,000.00 */
    assert_int_equal(cycle_approve(S, &finance, "2026-11", &ap, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "6241.93"));
    assert_int_equal(cycle_approve(S, &finance, "2030-01", &ap, &err), QL_ENOTFOUND);
    /* a cycle whose run stopped before it was computed (left in draft) */
    assert_int_equal(store_exec(S,
                                "INSERT INTO cycles (month, state, created_at) VALUES "
                                "('2029-01', 'draft', 0)",
                                NULL, 0, NULL),
                     0);
    assert_int_equal(cycle_approve(S, &finance, "2029-01", &ap, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "state");
    assert_string_equal(err.en, "cycle 2029-01 is not computed yet: compute it, then approve it");
    assert_int_equal(store_exec(S, "DELETE FROM cycles WHERE month = '2029-01'", NULL, 0, NULL), 0);
    assert_int_equal(cycle_approve(S, &finance, "2026-1", &ap, &err), QL_EINVAL);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action IN ('cycle.approve', "
                           "'cycle.budget')"),
                     3);

    /* the same account through an API token is the same person */
    actor token = finance;
    token.via = VIA_TOKEN;
    token.token_id = 7;
    token.perms |= role_perms(ROLE_FINANCE) | (permset)1 << P_LEDGER_RUN;
    assert_int_equal(cycle_run(S, &token, D(2027, 1, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(cycle_approve(S, &finance, "2027-01", &ap, &err), QL_EFORBIDDEN);
    assert_string_equal(err.field, "approved_by");
    assert_int_not_equal(store_exec(S,
                                    "UPDATE cycles SET approved_account = computed_account "
                                    "WHERE month = '2027-01'",
                                    NULL, 0, NULL),
                         0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycles_by_hand),
    };
    return cmocka_run_group_tests_name("cycle", tests, setup, teardown);
}
