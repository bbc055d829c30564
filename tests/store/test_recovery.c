/* test_recovery.c - corrections of months already paid, on SQLite and
 * (with QL_TEST_PG) PostgreSQL. October 2026 is computed, paid and
 * reconciled for A (tier A, 2,000.00), B (tier B, 1,500.00) and C (tier C,
 * 1,000.00). Then, in November: B's suspension from 11 to 20 October is
 * recorded (paid 21 of 31 days: 1,016.13, so 483.87 to recover); C's
 * subsidy is ended back-dated to 15 October (483.87 due, 516.13 to
 * recover); D's subsidy is activated from 1 October (arrears); and the
 * district's policy is corrected, tier A paying 2,200.00. The November
 * cycle posts the corrections (A +200.00, B -483.87, C -516.13, D
 * +2,200.00) and November's entitlements (A 2,200.00, B 1,500.00, D
 * 2,200.00); its export pays what is owed net of recoveries (A 2,400.00,
 * B 1,016.13, D 4,400.00) and nothing to C, who owes 516.13 until it is
 * collected. December corrects nothing. Every posting is kept; the ledger
 * sums to zero; each person's paid total is their entitlements plus
 * arrears less recoveries. Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/date.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static store *S;
static actor CLI, FIN;
static int64_t EMP;

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    FIN = CLI;
    snprintf(FIN.username, sizeof FIN.username, "finance.two");
    FIN.perms = role_perms(ROLE_FINANCE);
    EMP = fx_employer(S, "91310104MA1FL00001");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

static int64_t query(const char *sql, store_val *v, int n)
{
    int64_t x = -1;
    if (store_query_int(S, sql, v, n, &x)) fail_msg("%s: %s", sql, store_errmsg(S));
    return x;
}

static int64_t talent_of(int64_t app)
{
    store_val v[] = {SV_INT(app)};
    return query("SELECT talent_id FROM applications WHERE id = $1", v, 1);
}

static int64_t balance(const char *kind, int64_t app)
{
    char code[64];
    snprintf(code, sizeof code, "%s:person:%lld", kind, (long long)talent_of(app));
    int64_t id = 0, fen = 0;
    store_val v[] = {SV_TEXT(code)};
    if (store_query_int(S, "SELECT id FROM ledger_accounts WHERE code = $1", v, 1, &id)) return 0;
    ql_err err;
    assert_int_equal(ledger_balance(S, id, &fen, &err), 0);
    return fen;
}

static int64_t adjustment(int64_t app, const char *kind)
{
    store_val v[] = {SV_INT(app), SV_TEXT(kind)};
    return query("SELECT COALESCE(SUM(amount_fen), 0) FROM adjustments WHERE application_id = $1 "
                 "AND kind = $2",
                 v, 2);
}

static int64_t entitled(int64_t app, const char *month)
{
    store_val v[] = {SV_INT(app), SV_TEXT(month)};
    return query("SELECT COALESCE(SUM(e.amount_fen), -1) FROM entitlements e JOIN cycles c ON "
                 "c.id = e.cycle_id WHERE e.application_id = $1 AND c.month = $2",
                 v, 2);
}

/* The ledger sums to zero; each person's paid total + payable + in the
 * bank = entitlements + arrears - recoveries. */
static void ledger_holds(const int64_t *apps, int n)
{
    int64_t sum = -1, count = 0;
    ql_err err;
    assert_int_equal(ledger_check(S, &sum, &count, &err), 0);
    assert_int_equal(sum, 0);
    for (int i = 0; i < n; i++) {
        store_val v[] = {SV_INT(apps[i]), SV_INT(talent_of(apps[i]))};
        int64_t ent = query("SELECT COALESCE(SUM(amount_fen), 0) FROM entitlements WHERE "
                            "application_id = $1",
                            v, 1);
        int64_t inbank = query("SELECT COALESCE(SUM(amount_fen), 0) FROM payments WHERE "
                               "payee_type = 'person' AND payee_id = $2 AND state IN ('queued', "
                               "'sent') AND $1 > 0",
                               v, 2);
        assert_int_equal(balance("paid", apps[i]) + balance("payable", apps[i]) + inbank,
                         ent + adjustment(apps[i], "arrears") - adjustment(apps[i], "recovery"));
    }
}

/* Computes, approves, exports and reconciles month with every payment paid;
 * returns the amount paid to each of apps (in *paid). */
static void pay(const char *month, const int64_t *apps, int n, int64_t *paid)
{
    ql_err err;
    int32_t first;
    assert_int_equal(date_parse_month(month, &first), 0);
    struct cycle_report rep;
    assert_int_equal(cycle_run(S, &CLI, first, NULL, NULL, &rep, &err), 0);
    struct cycle_approval ap;
    if (cycle_approve(S, &FIN, month, &ap, &err)) fail_msg("approve: %s", err.en);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/pay-%s", tu_tmpdir(), month);
    mkdir(dir, 0700);
    struct bank_export_opts o = {BANK_CSV, NULL, 0, dir};
    struct bank_export_report xr;
    if (bank_export(S, &CLI, month, &o, NULL, NULL, &xr, &err)) fail_msg("export: %s", err.en);
    for (int i = 0; i < n; i++) paid[i] = 0;
    if (!xr.payments) return;
    /* the bank pays everything in the file */
    char name[700];
    snprintf(name, sizeof name, "%s/QLM%.4s%.2s-0001.csv", dir, month, month + 5);
    size_t len;
    char *csv = tu_slurp(name, &len);
    assert_non_null(csv);
    char result[8192] = "batch_no,request_id,account,amount,status\n";
    char *line = strstr(csv, "\r\n") + 2;
    for (char *next; (next = strstr(line, "\r\n")); line = next + 2) {
        char batch[40], seq[16], rid[40], acct[40], who[40], amount[40];
        *next = '\0';
        assert_int_equal(sscanf(line, "%39[^,],%15[^,],%39[^,],%39[^,],%39[^,],%39[^,]", batch, seq,
                                rid, acct, who, amount),
                         6);
        size_t k = strlen(result);
        snprintf(result + k, sizeof result - k, "%s,%s,%s,%s,S\n", batch, rid, acct, amount);
    }
    free(csv);
    struct bank_import_report ir;
    if (bank_import(S, &CLI, month, result, strlen(result), "result.csv", &ir, &err))
        fail_msg("import: %s", err.en);
    assert_int_equal(ir.mismatches, 0);
    json_decref(ir.items);
    for (int i = 0; i < n; i++) {
        store_val v[] = {SV_INT(talent_of(apps[i])), SV_TEXT(month)};
        paid[i] = query("SELECT COALESCE(SUM(p.amount_fen), 0) FROM payments p JOIN cycles c ON "
                        "c.id = p.cycle_id WHERE p.payee_id = $1 AND c.month = $2 AND p.state = "
                        "'paid'",
                        v, 2);
    }
}

static void step(int64_t app, enum app_action a, int32_t today, int32_t effective)
{
    struct app_step st = {a, "核查", NULL, today, effective};
    struct app_result res;
    ql_err err;
    if (subsidy_transition(S, &CLI, app, &st, &res, &err))
        fail_msg("%s: %s", subsidy_action_name(a), err.en);
}

static void test_corrections(void **state)
{
    (void)state;
    ql_err err;
    int32_t oct = date_from_ymd(2026, 10, 1);
    int64_t app[4];
    app[0] = fx_active_subsidy(S, EMP, "张甲", "A", "6222021001000000011", oct);
    app[1] = fx_active_subsidy(S, EMP, "李乙", "B", "6222021001000000029", oct);
    app[2] = fx_active_subsidy(S, EMP, "王丙", "C", "6222021001000000037", oct);
    assert_int_equal(cycle_budget_set(S, &FIN, "district-rent", 2026, 10000000, &err), 0);
    int64_t paid[4];
    pay("2026-10", app, 3, paid);
    assert_int_equal(paid[0], 200000);
    assert_int_equal(paid[1], 150000);
    assert_int_equal(paid[2], 100000);
    ledger_holds(app, 3);

    /* November: what changed about October */
    int32_t nov3 = date_from_ymd(2026, 11, 3);
    step(app[1], AA_SUSPEND, nov3, date_from_ymd(2026, 10, 11));
    step(app[1], AA_RESUME, nov3, date_from_ymd(2026, 10, 21));
    step(app[2], AA_END, nov3, date_from_ymd(2026, 10, 15));
    app[3] = fx_active_subsidy(S, EMP, "赵丁", "A", "6222021001000000045", oct);
    size_t len;
    char *text = tu_slurp("policies/district-rent.policy", &len);
    assert_non_null(text);
    char *at = strstr(text, "pay 2000.00 for 36 months");
    assert_non_null(at);
    memcpy(at, "pay 2200.00", 11);
    struct policy_saved sv;
    struct policy_activated act;
    assert_int_equal(policy_save(S, &CLI, text, len, "district-rent.policy", &sv, &err), 0);
    assert_int_equal(policy_activate(S, &CLI, sv.id, &act, &err), 0);
    free(text);

    pay("2026-11", app, 4, paid);
    /* corrections of October: each once, with was and due */
    assert_int_equal(adjustment(app[0], "arrears"), 20000);
    assert_int_equal(adjustment(app[1], "recovery"), 48387); /* 1500 x 10/31 */
    assert_int_equal(adjustment(app[2], "recovery"), 51613); /* 1000 - 1000 x 15/31 */
    assert_int_equal(adjustment(app[3], "arrears"), 220000);
    store_val b[] = {SV_INT(app[1])};
    assert_int_equal(query("SELECT due_fen FROM adjustments WHERE application_id = $1", b, 1),
                     101613);
    assert_int_equal(query("SELECT was_fen FROM adjustments WHERE application_id = $1", b, 1),
                     150000);
    assert_int_equal(query("SELECT count(*) FROM adjustments", NULL, 0), 4);
    /* November's entitlements */
    assert_int_equal(entitled(app[0], "2026-11"), 220000);
    assert_int_equal(entitled(app[1], "2026-11"), 150000);
    assert_int_equal(entitled(app[2], "2026-11"), -1);
    assert_int_equal(entitled(app[3], "2026-11"), 220000);
    /* what was paid: net of what is recovered */
    assert_int_equal(paid[0], 240000);
    assert_int_equal(paid[1], 101613);
    assert_int_equal(paid[2], 0);
    assert_int_equal(paid[3], 440000);
    assert_int_equal(balance("payable", app[2]), -51613); /* C owes */
    ledger_holds(app, 4);
    json_t *o;
    assert_int_equal(cycle_get(S, &FIN, "2026-11", false, &o, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "corrections")), 4);
    assert_string_equal(json_string_value(json_object_get(o, "arrears_yuan")), "2400.00");
    assert_string_equal(json_string_value(json_object_get(o, "recovered_yuan")), "1000.00");
    json_decref(o);

    /* C pays back: more than owed is refused; the same receipt twice counts once */
    char payee[40];
    snprintf(payee, sizeof payee, "person:%lld", (long long)talent_of(app[2]));
    bool same;
    assert_int_equal(bank_collect(S, &CLI, payee, 60000, "HX2026112801", &same, &err),
                     QL_ECONFLICT);
    assert_string_equal(err.field, "amount");
    assert_int_equal(bank_collect(S, &CLI, "nobody:1", 100, "R", &same, &err), QL_EINVAL);
    assert_string_equal(err.field, "payee");
    assert_int_equal(bank_collect(S, &CLI, payee, 51613, "HX2026112801", &same, &err), 0);
    assert_false(same);
    assert_int_equal(bank_collect(S, &CLI, payee, 51613, "HX2026112801", &same, &err), 0);
    assert_true(same);
    assert_int_equal(balance("payable", app[2]), 0);
    assert_int_equal(balance("paid", app[2]), 100000 - 51613);
    ledger_holds(app, 4);

    /* December: nothing more to correct; every posting is still there */
    int64_t transfers = query("SELECT count(*) FROM ledger_transfers", NULL, 0);
    pay("2026-12", app, 4, paid);
    assert_int_equal(query("SELECT count(*) FROM adjustments", NULL, 0), 4);
    assert_int_equal(paid[0], 220000);
    assert_int_equal(paid[1], 150000);
    assert_int_equal(paid[3], 220000);
    assert_int_equal(query("SELECT count(*) FROM ledger_transfers", NULL, 0),
                     transfers + 9); /* three entitlements, sent, paid */
    ledger_holds(app, 4);
    /* a cycle for an earlier month than the latest is refused, leaving nothing */
    struct cycle_report rep;
    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 9, 1), NULL, NULL, &rep, &err),
                     QL_ECONFLICT);
    assert_int_equal(query("SELECT count(*) FROM cycles WHERE month = '2026-09'", NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corrections),
    };
    return cmocka_run_group_tests_name("recovery", tests, setup, teardown);
}
