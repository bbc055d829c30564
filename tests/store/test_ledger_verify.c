/* test_ledger_verify.c - qianlima ledger verify (src/ledger/verify.h), on
 * SQLite and (with QL_TEST_PG) PostgreSQL.
 *
 * Entitlements and cycles come from real cycle runs: a clean ledger passes
 * (also through the CLI, as text and JSON); then faults made behind the
 * services (an amount changed, a transfer without its entitlement, one for
 * an entitlement of 0 fen, one to another payee, a row naming another
 * transfer, a cycle's count changed, a transfer to an account that does not
 * exist) are each reported, all of them in one run, exit status 1.
 *
 * Adjustments and payments come from the services too: October exported
 * and its results taken in (paid; failed, re-queued, failed again and
 * written off), November with the corrections of a back-dated suspension,
 * a back-dated end and a late activation, exported and waiting for the
 * bank, a recovery paid back. That passes; then faults behind the services (a second live
 * payment, a deleted adjustment, a payment's state changed, a send transfer
 * without its payment) are each reported. */
#include "fixtures.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/date.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static store *S;
static actor CLI;
static int64_t EMP;
static int64_t A, B, C, D;     /* applications */
static int64_t TA, TB, TC, TD; /* their talents */
static char out[1 << 16], err_out[1 << 16];

static int32_t day(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

static int64_t num(const char *sql, store_val *v, int n)
{
    int64_t x = -1;
    if (store_query_int(S, sql, v, n, &x)) fail_msg("%s: %s", sql, store_errmsg(S));
    return x;
}

static void exec(const char *sql, store_val *v, int n)
{
    if (store_exec(S, sql, v, n, NULL)) fail_msg("%s: %s", sql, store_errmsg(S));
}

static int64_t talent_of(int64_t app)
{
    return num("SELECT talent_id FROM applications WHERE id = $1", (store_val[]){SV_INT(app)}, 1);
}

/* A fresh store with four subsidies computed for October and November
 * 2026: A from 15 October (1,096.77, then 2,000.00), B all along (1,500.00
 * twice), C ended on 20 October (645.16, then nothing), D suspended from 1
 * November (1,000.00, then 0 fen: a row without a transfer). */
static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    EMP = fx_employer(S, "91310104MA1FL00001");
    A = fx_active_subsidy(S, EMP, "甲", "A", NULL, day(2026, 10, 15));
    B = fx_active_subsidy(S, EMP, "乙", "B", NULL, day(2026, 10, 1));
    C = fx_active_subsidy(S, EMP, "丙", "C", NULL, day(2026, 10, 1));
    D = fx_active_subsidy(S, EMP, "丁", "C", NULL, day(2026, 10, 1));
    ql_err err;
    struct app_result res;
    struct app_step end = {AA_END, "已购房", NULL, day(2026, 10, 21), day(2026, 10, 20)};
    struct app_step sus = {AA_SUSPEND, "租约核查", NULL, day(2026, 10, 28), day(2026, 11, 1)};
    struct cycle_report rep;
    if (subsidy_transition(S, &CLI, C, &end, &res, &err) ||
        subsidy_transition(S, &CLI, D, &sus, &res, &err) ||
        cycle_run(S, &CLI, day(2026, 10, 1), NULL, NULL, &rep, &err) ||
        cycle_run(S, &CLI, day(2026, 11, 1), NULL, NULL, &rep, &err)) {
        print_error("setup: %s\n", err.en);
        return -1;
    }
    TA = talent_of(A);
    TB = talent_of(B);
    TC = talent_of(C);
    TD = talent_of(D);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    S = NULL;
    return 0;
}

/* Violations as "check|subject", in the order reported. */
struct seen {
    int n;
    char v[64][160];
};

static void collect(const struct ledger_violation *v, void *ctx)
{
    struct seen *s = ctx;
    print_message("# %s %s: %s / %s\n", v->check, v->subject, v->en, v->zh);
    assert_true(v->en[0] && v->zh[0]);
    if (s->n < 64) snprintf(s->v[s->n++], sizeof s->v[0], "%s|%s", v->check, v->subject);
}

static int seen_has(const struct seen *s, const char *check, const char *subject)
{
    char want[160];
    snprintf(want, sizeof want, "%s|%s", check, subject);
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], want)) return 1;
    return 0;
}

#define assert_seen(s, check, ...)                                                                 \
    do {                                                                                           \
        char subj_[120];                                                                           \
        snprintf(subj_, sizeof subj_, __VA_ARGS__);                                                \
        if (!seen_has(s, check, subj_)) fail_msg("not reported: %s %s", check, subj_);             \
    } while (0)

static void verify(struct seen *s, struct ledger_verify_report *rep)
{
    ql_err err;
    memset(s, 0, sizeof *s);
    if (ledger_verify(S, &CLI, collect, s, rep, &err)) fail_msg("verify: %s", err.en);
    assert_int_equal(rep->violations, s->n);
}

/* qianlima ledger verify [--json] on the store: the exit status. */
static int cli_verify(int json)
{
    const char *args[] = {"ledger",
                          "verify",
                          "--store",
                          fx_store_url(),
                          "--keys-dir",
                          fx_keys_dir(),
                          json ? "--json" : NULL,
                          NULL};
    return tu_run(args, NULL, out, sizeof out, err_out, sizeof err_out);
}

static json_t *cli_json(int want_exit)
{
    assert_int_equal(cli_verify(1), want_exit);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON (%s): %s", je.text, out);
    return j;
}

static void test_clean(void **state)
{
    (void)state;
    struct seen s;
    struct ledger_verify_report rep;
    verify(&s, &rep);
    assert_int_equal(rep.violations, 0);
    assert_int_equal(rep.sum_fen, 0);
    assert_int_equal(rep.transfers, 6);    /* 4 in October, 2 in November */
    assert_int_equal(rep.entitlements, 7); /* D's November of 0 fen included */
    assert_int_equal(rep.payees, 4);
    assert_int_equal(rep.cycles, 2);
    assert_int_equal(num("SELECT count(*) FROM entitlements WHERE amount_fen = 0", NULL, 0), 1);

    /* who may verify: finance and auditors, not reviewers */
    actor a = CLI;
    a.perms = role_perms(ROLE_AUDITOR);
    ql_err err;
    assert_int_equal(ledger_verify(S, &a, NULL, NULL, &rep, &err), 0);
    a.perms = role_perms(ROLE_FINANCE);
    assert_int_equal(ledger_verify(S, &a, NULL, NULL, &rep, &err), 0);
    a.perms = role_perms(ROLE_REVIEWER);
    assert_int_equal(ledger_verify(S, &a, NULL, NULL, &rep, &err), QL_EFORBIDDEN);

    /* the command */
    assert_int_equal(cli_verify(0), 0);
    assert_non_null(strstr(out, "ledger: 6 transfers, balances sum to 0.00 yuan; checked 7 "
                                "entitlements, 0 adjustments, 0 payments, 4 payees, 2 cycles: 0 "
                                "violation(s)"));
    json_t *j = cli_json(0);
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(json_array_size(json_object_get(j, "violations")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "entitlements")), 7);
    json_decref(j);
    const char *const bad[] = {"ledger", "verify", "extra", NULL};
    assert_int_equal(tu_run(bad, NULL, out, sizeof out, err_out, sizeof err_out), 2);
    const char *const unknown[] = {"ledger", "nothing", NULL};
    assert_int_equal(tu_run(unknown, NULL, out, sizeof out, err_out, sizeof err_out), 2);
}

static int64_t account(const char *code, enum ledger_kind kind, const char *ptype, int64_t pid)
{
    struct ledger_account a = {code, kind, kind == LK_BUDGET ? "district-rent" : "", ptype, pid};
    int64_t id;
    ql_err err;
    if (ledger_account_id(S, &a, &id, &err)) fail_msg("account %s: %s", code, err.en);
    return id;
}

static int64_t payable(int64_t talent)
{
    char code[64];
    snprintf(code, sizeof code, "payable:person:%lld", (long long)talent);
    return account(code, LK_PAYABLE, "person", talent);
}

static int64_t budget(void)
{
    return account("budget:district-rent:2026", LK_BUDGET, "", 0);
}

static int64_t clearing(void)
{
    return account("clearing:bank", LK_CLEARING, "", 0);
}

static int64_t post(const char *key, int64_t debit, int64_t credit, int64_t fen, const char *cycle,
                    int64_t app)
{
    struct ledger_transfer t = {key, debit, credit, fen, cycle, app, "test"};
    int64_t id;
    int dup;
    ql_err err;
    if (ledger_post(S, &t, &id, &dup, &err)) fail_msg("post %s: %s", key, err.en);
    return id;
}

static void test_entitlement_faults(void **state)
{
    (void)state;
    char key[80];
    store_val nov[] = {SV_TEXT("2026-11")};
    int64_t nov_id = num("SELECT id FROM cycles WHERE month = $1", nov, 1);
    /* 1. B's November amount changed behind the ledger: the transfer's
     * amount, B's totals and November's total disagree with it */
    exec("UPDATE entitlements SET amount_fen = amount_fen + 1 WHERE application_id = $1 AND "
         "cycle_id = $2",
         (store_val[]){SV_INT(B), SV_INT(nov_id)}, 2);
    /* 2. a transfer under A's December key without an entitlement */
    snprintf(key, sizeof key, "entitlement:2026-12:%lld", (long long)A);
    post(key, budget(), payable(TA), 200000, "2026-12", A);
    /* 3. D's November of 0 fen given a transfer */
    snprintf(key, sizeof key, "entitlement:2026-11:%lld", (long long)D);
    int64_t dt = post(key, budget(), payable(TD), 100000, "2026-11", D);
    /* 4. a January entitlement of B whose transfer pays C */
    store_val jan[] = {SV_TEXT("2027-01")};
    int64_t jan_id = 0;
    if (store_insert(S, "INSERT INTO cycles (month, created_at) VALUES ($1, 0)", jan, 1, &jan_id))
        fail_msg("cycle: %s", store_errmsg(S));
    snprintf(key, sizeof key, "entitlement:2027-01:%lld", (long long)B);
    int64_t wrong = post(key, budget(), payable(TC), 150000, "2027-01", B);
    exec("INSERT INTO entitlements (cycle_id, application_id, talent_id, programme, "
         "policy_version, tier, payee_type, payee_id, month_index, days, amount_fen, inputs, "
         "steps, transfer_id, created_at) VALUES ($1, $2, $3, 'district-rent', 'x', 'B', "
         "'person', $3, 4, 31, 150000, '{}', '[]', $4, 0)",
         (store_val[]){SV_INT(jan_id), SV_INT(B), SV_INT(TB), SV_INT(wrong)}, 4);
    /* 5. A's November row names D's transfer */
    exec("UPDATE entitlements SET transfer_id = $1 WHERE application_id = $2 AND cycle_id = $3",
         (store_val[]){SV_INT(dt), SV_INT(A), SV_INT(nov_id)}, 3);
    /* 6. October's count changed */
    exec("UPDATE cycles SET entitlements = entitlements + 1 WHERE month = '2026-10'", NULL, 0);
    /* 7. a transfer to an account that does not exist (foreign keys off) */
    int pg = store_kind_of(S) == STORE_POSTGRES;
    exec(pg ? "SET session_replication_role = replica" : "PRAGMA foreign_keys = OFF", NULL, 0);
    exec("INSERT INTO ledger_transfers (idempotency_key, debit_account, credit_account, "
         "amount_fen, created_at) VALUES ('test:dangling', $1, 999999, 700, 0)",
         (store_val[]){SV_INT(budget())}, 1);
    exec(pg ? "SET session_replication_role = DEFAULT" : "PRAGMA foreign_keys = ON", NULL, 0);

    struct seen s;
    struct ledger_verify_report rep;
    verify(&s, &rep);
    assert_int_equal(rep.sum_fen, -700);
    assert_seen(&s, "balance", "%s", "");
    assert_seen(&s, "entitlement", "entitlement:2026-11:%lld", (long long)B); /* amount */
    assert_seen(&s, "payee", "payee:person:%lld", (long long)TB);
    assert_seen(&s, "cycle", "cycle:%s", "2026-11");
    assert_seen(&s, "entitlement", "entitlement:2026-12:%lld", (long long)A); /* no row */
    assert_seen(&s, "payee", "payee:person:%lld", (long long)TA);
    assert_seen(&s, "entitlement", "entitlement:2026-11:%lld", (long long)D); /* 0 fen */
    assert_seen(&s, "payee", "payee:person:%lld", (long long)TD);
    assert_seen(&s, "entitlement", "entitlement:2027-01:%lld", (long long)B); /* payee */
    assert_seen(&s, "payee", "payee:person:%lld", (long long)TC);
    assert_seen(&s, "entitlement", "entitlement:2026-11:%lld", (long long)A); /* link */
    assert_seen(&s, "cycle", "cycle:%s", "2026-10");
    /* exactly these: five entitlements (B's November amount, A's December
     * without a row, D's 0 fen with a transfer, B's January paying C, A's
     * November naming D's transfer), the payees A, B, C and D, two cycles,
     * the balance */
    assert_int_equal(rep.violations, 12);
    assert_int_equal(rep.entitlements, 8);

    /* the command lists every one of them and exits 1 */
    assert_int_equal(cli_verify(0), 1);
    assert_non_null(strstr(out, "12 violation(s)"));
    assert_non_null(strstr(out, "balance: the balances of all accounts sum to -7.00 yuan, not 0"));
    assert_non_null(strstr(out, "全部账户余额之和为 -7.00 元，而非 0"));
    json_t *j = cli_json(1);
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_int_equal(json_array_size(json_object_get(j, "violations")), 12);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 12);
    assert_int_equal(json_integer_value(json_object_get(j, "sum_fen")), -700);
    json_t *first = json_array_get(json_object_get(j, "violations"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "check")), "balance");
    json_decref(j);
}

/* ---- adjustments and payments, made by the services ------------------- */

static actor FIN;
static int64_t E; /* activated late, from 1 October */
static int64_t TE;

/* The bank's answer to the batch files in dir from number first on: every
 * payment paid, except those from the accounts in failed (0-terminated). */
static void answer(const char *month, const char *dir, int first, const int64_t *failed)
{
    char result[16384] = "batch_no,request_id,account,amount,status\n";
    int rows = 0;
    for (int seq = first; seq < 16; seq++) {
        char name[800];
        snprintf(name, sizeof name, "%s/QLM%.4s%.2s-%04d.csv", dir, month, month + 5, seq);
        size_t len;
        char *csv = tu_slurp(name, &len);
        if (!csv) break;
        char *line = strstr(csv, "\r\n") + 2;
        for (char *next; (next = strstr(line, "\r\n")); line = next + 2) {
            char batch[40], seqs[16], rid[40], acct[40], who[40], amount[40];
            *next = '\0';
            assert_int_equal(sscanf(line, "%39[^,],%15[^,],%39[^,],%39[^,],%39[^,],%39[^,]", batch,
                                    seqs, rid, acct, who, amount),
                             6);
            long long account = 0;
            sscanf(rid, "%*[^-]-%lld", &account);
            int fail = 0;
            for (int i = 0; failed && failed[i]; i++) fail |= failed[i] == account;
            size_t k = strlen(result);
            snprintf(result + k, sizeof result - k, "%s,%s,%s,%s,%s\n", batch, rid, acct, amount,
                     fail ? "F" : "S");
            rows++;
        }
        free(csv);
    }
    assert_true(rows > 0);
    struct bank_import_report ir;
    ql_err err;
    if (bank_import(S, &CLI, month, result, strlen(result), "result.csv", &ir, &err))
        fail_msg("import: %s", err.en);
    assert_int_equal(ir.mismatches, 0);
    json_decref(ir.items);
}

static void export_to(const char *month, const char *dir)
{
    mkdir(dir, 0700);
    struct bank_export_opts o = {BANK_CSV, NULL, 0, dir};
    struct bank_export_report xr;
    ql_err err;
    if (bank_export(S, &CLI, month, &o, NULL, NULL, &xr, &err)) fail_msg("export: %s", err.en);
}

static const char *request_of(int64_t talent, const char *state)
{
    static char rid[40];
    store_val v[] = {SV_INT(talent), SV_TEXT(state)};
    store_rows *r;
    if (store_query(S,
                    "SELECT request_id FROM payments WHERE payee_id = $1 AND state = $2 ORDER BY "
                    "id",
                    v, 2, &r))
        fail_msg("payments: %s", store_errmsg(S));
    rid[0] = '\0';
    if (store_step(r) == 1) snprintf(rid, sizeof rid, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (!rid[0]) fail_msg("no %s payment to talent %lld", state, (long long)talent);
    return rid;
}

/* October: A, B and C with bank accounts, D without (held); B's payment
 * fails, is re-queued, fails again and is written off. November: A's
 * suspension from 11 to 20 October recorded late and C's end on 15 October
 * (recoveries), E activated from 1 October (arrears); exported, the bank not
 * answered yet; C pays back what it owes. */
static int setup_bank(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    FIN = CLI;
    snprintf(FIN.username, sizeof FIN.username, "finance.two");
    FIN.perms = role_perms(ROLE_FINANCE);
    EMP = fx_employer(S, "91310104MA1FL00001");
    int32_t oct = day(2026, 10, 1);
    A = fx_active_subsidy(S, EMP, "甲", "A", "6222021001000000011", oct);
    B = fx_active_subsidy(S, EMP, "乙", "B", "6222021001000000029", oct);
    C = fx_active_subsidy(S, EMP, "丙", "C", "6222021001000000037", oct);
    D = fx_active_subsidy(S, EMP, "丁", "C", NULL, oct);
    TA = talent_of(A);
    TB = talent_of(B);
    TC = talent_of(C);
    TD = talent_of(D);
    ql_err err;
    struct cycle_report rep;
    struct cycle_approval ap;
    if (cycle_budget_set(S, &FIN, "district-rent", 2026, 100000000, &err) ||
        cycle_run(S, &CLI, oct, NULL, NULL, &rep, &err) ||
        cycle_approve(S, &FIN, "2026-10", &ap, &err)) {
        print_error("october: %s\n", err.en);
        return -1;
    }
    static int run; /* each test's own directories */
    run++;
    char dir[600], new_id[33];
    snprintf(dir, sizeof dir, "%s/bank-oct-%d", tu_tmpdir(), run);
    export_to("2026-10", dir);
    int64_t failed[] = {payable(TB), 0};
    answer("2026-10", dir, 1, failed);
    if (bank_requeue(S, &CLI, request_of(TB, "failed"), "账户已更正", new_id, &err))
        fail_msg("requeue: %s", err.en);
    export_to("2026-10", dir);
    answer("2026-10", dir, 2, failed);
    if (bank_write_off(S, &FIN, request_of(TB, "failed"), "账户注销", &err))
        fail_msg("write off: %s", err.en);

    struct app_result res;
    struct app_step sus = {AA_SUSPEND, "核查", NULL, day(2026, 11, 3), day(2026, 10, 11)};
    struct app_step resume = {AA_RESUME, "核查", NULL, day(2026, 11, 3), day(2026, 10, 21)};
    if (subsidy_transition(S, &CLI, A, &sus, &res, &err) ||
        subsidy_transition(S, &CLI, A, &resume, &res, &err))
        fail_msg("suspension: %s", err.en);
    struct app_step end = {AA_END, "已购房", NULL, day(2026, 11, 3), day(2026, 10, 15)};
    if (subsidy_transition(S, &CLI, C, &end, &res, &err)) fail_msg("end: %s", err.en);
    E = fx_active_subsidy(S, EMP, "戊", "B", "6222021001000000045", oct);
    TE = talent_of(E);
    if (cycle_run(S, &CLI, day(2026, 11, 1), NULL, NULL, &rep, &err) ||
        cycle_approve(S, &FIN, "2026-11", &ap, &err))
        fail_msg("november: %s", err.en);
    snprintf(dir, sizeof dir, "%s/bank-nov-%d", tu_tmpdir(), run);
    export_to("2026-11", dir);
    /* C, paid all of October, owes 1000 - 1000 x 15/31 = 516.13 and pays it back */
    char payee[40];
    bool same;
    snprintf(payee, sizeof payee, "person:%lld", (long long)TC);
    if (bank_collect(S, &CLI, payee, 51613, "HX2026112801", &same, &err))
        fail_msg("collect: %s", err.en);
    return 0;
}

static void test_bank_clean(void **state)
{
    (void)state;
    struct seen s;
    struct ledger_verify_report rep;
    verify(&s, &rep);
    assert_int_equal(rep.violations, 0);
    assert_int_equal(rep.sum_fen, 0);
    /* A's and C's recoveries, E's arrears for October */
    assert_int_equal(rep.adjustments, 3);
    assert_int_equal(num("SELECT count(*) FROM adjustments WHERE kind = 'recovery'", NULL, 0), 2);
    assert_int_equal(num("SELECT count(*) FROM ledger_transfers WHERE "
                         "substr(idempotency_key, 1, 8) = 'collect:'",
                         NULL, 0),
                     1);
    /* October: A, B twice, C; November: A, B, E (C owes; D has no account) */
    assert_int_equal(rep.payments, 7);
    assert_int_equal(num("SELECT count(*) FROM payments WHERE state = 'written_off'", NULL, 0), 1);
    assert_int_equal(num("SELECT count(*) FROM payments WHERE state = 'requeued'", NULL, 0), 1);
    assert_int_equal(num("SELECT count(*) FROM payments WHERE state = 'sent'", NULL, 0), 3);
    assert_int_equal(cli_verify(0), 0);
}

static void test_bank_faults(void **state)
{
    (void)state;
    int64_t nov = num("SELECT id FROM cycles WHERE month = '2026-11'", NULL, 0);
    /* a second payment to A in November, sent, with its send transfer */
    post("send:202611-dup-2", payable(TA), clearing(), 100, "2026-11", 0);
    int64_t tid = num("SELECT id FROM ledger_transfers WHERE idempotency_key = "
                      "'send:202611-dup-2'",
                      NULL, 0);
    store_val p[] = {SV_INT(nov), SV_INT(payable(TA)), SV_INT(TA), SV_INT(tid)};
    exec("INSERT INTO payments (request_id, cycle_id, account_id, payee_type, payee_id, attempt, "
         "amount_fen, bank_index, state, batch_id, send_transfer_id, created_at) SELECT "
         "'202611-dup-2', $1, $2, 'person', $3, 2, 100, 'ix', 'sent', MIN(id), $4, 0 FROM "
         "bank_batches WHERE cycle_id = $1",
         p, 4);
    /* E's arrears row lost */
    exec("DELETE FROM adjustments WHERE kind = 'arrears'", NULL, 0);
    /* C's October payment, paid, said to have failed */
    char c_paid[40];
    snprintf(c_paid, sizeof c_paid, "%s", request_of(TC, "paid"));
    exec("UPDATE payments SET state = 'failed' WHERE request_id = $1",
         (store_val[]){SV_TEXT(c_paid)}, 1);
    /* a send transfer of D's without a payment */
    post("send:202611-999-1", payable(TD), clearing(), 300, "2026-11", 0);

    struct seen s;
    struct ledger_verify_report rep;
    verify(&s, &rep);
    assert_seen(&s, "duplicate", "payments:2026-11:%lld", (long long)payable(TA));
    assert_seen(&s, "adjustment", "adjust:2026-11:%lld:2026-10", (long long)E);
    assert_seen(&s, "payee", "payee:person:%lld", (long long)TE);
    assert_seen(&s, "payment", "paid:%s", c_paid);
    assert_seen(&s, "payment", "return:%s", c_paid);
    assert_seen(&s, "payment", "%s", "send:202611-999-1");
    assert_seen(&s, "payee", "payee:person:%lld", (long long)TD);
    /* exactly these: the duplicate, the adjustment and E's totals, C's paid
     * transfer and missing return, D's orphan send and D's totals */
    assert_int_equal(rep.violations, 7);
    assert_int_equal(cli_verify(0), 1);
    assert_non_null(strstr(out, "7 violation(s)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entitlement_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bank_clean, setup_bank, teardown),
        cmocka_unit_test_setup_teardown(test_bank_faults, setup_bank, teardown),
    };
    return cmocka_run_group_tests_name("ledger verify", tests, NULL, NULL);
}
