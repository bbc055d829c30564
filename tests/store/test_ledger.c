/* test_ledger.c - the double-entry ledger, on SQLite and (with QL_TEST_PG)
 * PostgreSQL: transfers balance by construction (the balances of all
 * accounts sum to zero), the same idempotency key posts once (and with
 * other content is refused), the schema refuses what the service refuses
 * (no amount, one account twice, a duplicate key) and refuses any update or
 * delete of a posted transfer; balances are derived from the transfers. */
#include "fixtures.h"
#include "testutil.h"

#include "ledger/ledger.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

static store *S;
static int64_t BUDGET, PAYABLE, CLEARING, PAID;

static int setup(void **state)
{
    (void)state;
    ql_err err = {0};
    if (!(S = fx_store())) return -1;
    struct ledger_account a[] = {
        {"budget:district-rent:2026", LK_BUDGET, "district-rent", "", 0},
        {"payable:person:7", LK_PAYABLE, "district-rent", "person", 7},
        {"clearing:bank", LK_CLEARING, "", "", 0},
        {"paid:person:7", LK_PAID, "district-rent", "person", 7},
    };
    int64_t *ids[] = {&BUDGET, &PAYABLE, &CLEARING, &PAID};
    for (int i = 0; i < 4; i++)
        if (ledger_account_id(S, &a[i], ids[i], &err)) {
            print_error("account: %s\n", err.en);
            return -1;
        }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

static int64_t balance(int64_t account)
{
    int64_t fen = -1;
    ql_err err;
    if (ledger_balance(S, account, &fen, &err)) fail_msg("balance: %s", err.en);
    return fen;
}

static void post(const char *key, int64_t debit, int64_t credit, int64_t fen, int want_dup)
{
    struct ledger_transfer t = {key, debit, credit, fen, "2026-11", 0, "test"};
    int64_t id = 0;
    int dup = -1;
    ql_err err;
    if (ledger_post(S, &t, &id, &dup, &err)) fail_msg("post %s: %s", key, err.en);
    assert_true(id > 0);
    assert_int_equal(dup, want_dup);
}

static void test_transfers_balance(void **state)
{
    (void)state;
    /* an entitlement of 2,000.00, sent to the bank, confirmed paid */
    post("entitlement:2026-11:7", BUDGET, PAYABLE, 200000, 0);
    post("export:2026-11:7", PAYABLE, CLEARING, 200000, 0);
    post("paid:2026-11:7", CLEARING, PAID, 200000, 0);
    /* the same request again changes nothing */
    post("entitlement:2026-11:7", BUDGET, PAYABLE, 200000, 1);
    assert_int_equal(balance(BUDGET), -200000);
    assert_int_equal(balance(PAYABLE), 0);
    assert_int_equal(balance(CLEARING), 0);
    assert_int_equal(balance(PAID), 200000);
    /* a recovery of 483.87 posted the other way */
    post("recovery:2026-12:7", PAID, BUDGET, 48387, 0);
    assert_int_equal(balance(BUDGET), -151613);
    assert_int_equal(balance(PAID), 151613);
    int64_t sum = -1, n = 0;
    ql_err err;
    assert_int_equal(ledger_check(S, &sum, &n, &err), 0);
    assert_int_equal(sum, 0);
    assert_int_equal(n, 4);
}

/* ledger_account_new inserts first: a new code makes an account, a code that
 * exists answers its id as ledger_account_id does (another kind refused,
 * nothing made). */
static void test_account_new(void **state)
{
    (void)state;
    ql_err err;
    int64_t id = 0, again = 0, before = 0, after = 0;
    assert_int_equal(store_query_int(S, "SELECT count(*) FROM ledger_accounts", NULL, 0, &before),
                     0);
    struct ledger_account fresh = {"payable:employer:31", LK_PAYABLE, "", "employer", 31};
    assert_int_equal(ledger_account_new(S, &fresh, &id, &err), 0);
    assert_true(id > 0);
    assert_int_equal(ledger_account_new(S, &fresh, &again, &err), 0);
    assert_int_equal(again, id);
    int64_t found = 0;
    assert_int_equal(ledger_account_id(S, &fresh, &found, &err), 0);
    assert_int_equal(found, id);
    assert_int_equal(ledger_account_new(
                         S,
                         &(struct ledger_account){"payable:person:7", LK_PAYABLE, "", "person", 7},
                         &found, &err),
                     0);
    assert_int_equal(found, PAYABLE);
    struct ledger_account wrong = {"payable:person:7", LK_PAID, "", "person", 7};
    assert_int_equal(ledger_account_new(S, &wrong, &found, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "code");
    struct ledger_account bad = {"", LK_PAYABLE, "", "person", 7};
    assert_int_equal(ledger_account_new(S, &bad, &found, &err), QL_EINVAL);
    assert_int_equal(store_query_int(S, "SELECT count(*) FROM ledger_accounts", NULL, 0, &after),
                     0);
    assert_int_equal(after, before + 1);
}

static void test_refusals(void **state)
{
    (void)state;
    int64_t id;
    int dup;
    ql_err err;
    int64_t n0 = 0, sum;
    assert_int_equal(ledger_check(S, &sum, &n0, &err), 0);
    /* the same key with another amount or other accounts */
    struct ledger_transfer t = {
        "entitlement:2026-11:7", BUDGET, PAYABLE, 200001, "2026-11", 0, NULL};
    assert_int_equal(ledger_post(S, &t, &id, &dup, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "key");
    t.amount_fen = 200000;
    t.credit = CLEARING;
    assert_int_equal(ledger_post(S, &t, &id, &dup, &err), QL_ECONFLICT);
    /* no amount, a negative one, one account twice, an unknown account, no key */
    struct ledger_transfer bad[] = {
        {"k1", BUDGET, PAYABLE, 0, "", 0, NULL},  {"k2", BUDGET, PAYABLE, -5, "", 0, NULL},
        {"k3", BUDGET, BUDGET, 100, "", 0, NULL}, {"k4", BUDGET, 99999, 100, "", 0, NULL},
        {"", BUDGET, PAYABLE, 100, "", 0, NULL},
    };
    const char *fields[] = {"amount_fen", "amount_fen", "credit", "account", "key"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ledger_post(S, &bad[i], &id, &dup, &err), QL_EINVAL);
        assert_string_equal(err.field, fields[i]);
    }
    /* the schema refuses the same, whatever writes to it */
    const char *ins = "INSERT INTO ledger_transfers (idempotency_key, debit_account, "
                      "credit_account, amount_fen, created_at) VALUES ($1, $2, $3, $4, 0)";
    assert_int_not_equal(
        store_exec(S, ins, (store_val[]){SV_TEXT("x1"), SV_INT(BUDGET), SV_INT(PAYABLE), SV_INT(0)},
                   4, NULL),
        0);
    assert_int_not_equal(
        store_exec(S, ins,
                   (store_val[]){SV_TEXT("x2"), SV_INT(BUDGET), SV_INT(BUDGET), SV_INT(100)}, 4,
                   NULL),
        0);
    assert_int_not_equal(store_exec(S, ins,
                                    (store_val[]){SV_TEXT("entitlement:2026-11:7"), SV_INT(BUDGET),
                                                  SV_INT(PAYABLE), SV_INT(200000)},
                                    4, NULL),
                         0);
    /* nothing posted is updated or deleted */
    assert_int_not_equal(store_exec(S, "UPDATE ledger_transfers SET amount_fen = 1", NULL, 0, NULL),
                         0);
    assert_int_not_equal(store_exec(S, "DELETE FROM ledger_transfers", NULL, 0, NULL), 0);
    int64_t n = 0;
    assert_int_equal(ledger_check(S, &sum, &n, &err), 0);
    assert_int_equal(n, n0);
    assert_int_equal(sum, 0);
    /* an account's code names one kind */
    struct ledger_account wrong = {"payable:person:7", LK_PAID, "", "person", 7};
    int64_t aid;
    assert_int_equal(ledger_account_id(S, &wrong, &aid, &err), QL_ECONFLICT);
    struct ledger_account same = {"payable:person:7", LK_PAYABLE, "district-rent", "person", 7};
    assert_int_equal(ledger_account_id(S, &same, &aid, &err), 0);
    assert_int_equal(aid, PAYABLE);
    struct ledger_account badtype = {"x", LK_PAID, "", "bank", 0};
    assert_int_equal(ledger_account_id(S, &badtype, &aid, &err), QL_EINVAL);
    assert_string_equal(err.field, "payee_type");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfers_balance),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_account_new),
    };
    return cmocka_run_group_tests_name("ledger", tests, setup, teardown);
}
