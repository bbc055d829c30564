/* test_bank.c - paying a cycle, on SQLite and (with QL_TEST_PG)
 * PostgreSQL: five people paid 2,000.00 / 1,500.00 / 1,000.00 for October
 * 2026, one with no bank account (held); batches of two (three files);
 * the files byte for byte (CSV and the fixed-width layout); exporting again
 * changes nothing; result files with every kind of mismatch (unknown id,
 * duplicate, amount, account, batch, status, missing), which change
 * nothing; the same file twice; a failed payment held from later exports,
 * re-queued with a new request id, failed again and written off; the cycle
 * reconciled and closed; after every step the ledger sums to zero and each
 * payee's paid account equals entitlements less what was written off or
 * is still owed. Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/buf.h"
#include "core/date.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static store *S;
static actor CLI, FIN, REVIEWER;
static int64_t APP[5];
static char DIR1[512], DIR2[512], DIR3[512];

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    FIN = CLI;
    snprintf(FIN.username, sizeof FIN.username, "finance.two");
    FIN.perms = role_perms(ROLE_FINANCE);
    REVIEWER = CLI;
    REVIEWER.perms = role_perms(ROLE_REVIEWER);
    int64_t emp = fx_employer(S, "91310104MA1FL00001");
    int32_t oct = date_from_ymd(2026, 10, 1);
    APP[0] = fx_active_subsidy(S, emp, "张甲", "A", "6222021001000000011", oct);
    APP[1] = fx_active_subsidy(S, emp, "李乙", "B", "6222021001000000029", oct);
    APP[2] = fx_active_subsidy(S, emp, "王丙", "C", "6222021001000000037", oct);
    APP[3] = fx_active_subsidy(S, emp, "赵丁", "A", "6222021001000000045", oct);
    APP[4] = fx_active_subsidy(S, emp, "钱戊", "B", NULL, oct); /* no bank account */
    snprintf(DIR1, sizeof DIR1, "%s/bank-csv", tu_tmpdir());
    snprintf(DIR2, sizeof DIR2, "%s/bank-fixed", tu_tmpdir());
    snprintf(DIR3, sizeof DIR3, "%s/bank-again", tu_tmpdir());
    mkdir(DIR1, 0700);
    mkdir(DIR2, 0700);
    mkdir(DIR3, 0700);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

static int64_t count(const char *sql)
{
    int64_t n = -1;
    if (store_query_int(S, sql, NULL, 0, &n)) fail_msg("%s: %s", sql, store_errmsg(S));
    return n;
}

static int64_t balance_of(const char *code)
{
    int64_t id = 0, fen = 0;
    store_val v[] = {SV_TEXT(code)};
    if (store_query_int(S, "SELECT id FROM ledger_accounts WHERE code = $1", v, 1, &id)) return 0;
    ql_err err;
    if (ledger_balance(S, id, &fen, &err)) fail_msg("balance: %s", err.en);
    return fen;
}

static void text_of(const char *sql, char *out, size_t n)
{
    store_rows *r;
    out[0] = '\0';
    if (store_query(S, sql, NULL, 0, &r)) fail_msg("%s: %s", sql, store_errmsg(S));
    if (store_step(r) == 1) snprintf(out, n, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
}

/* The ledger sums to zero, and for each person: paid + payable + in the
 * bank's hands = entitled - written off. */
static void ledger_holds(void)
{
    int64_t sum = -1, n = 0;
    ql_err err;
    assert_int_equal(ledger_check(S, &sum, &n, &err), 0);
    assert_int_equal(sum, 0);
    store_rows *r;
    assert_int_equal(store_query(S,
                                 "SELECT a.talent_id, COALESCE(SUM(e.amount_fen), 0) FROM "
                                 "applications a JOIN entitlements e ON e.application_id = a.id "
                                 "GROUP BY a.talent_id ORDER BY a.talent_id",
                                 NULL, 0, &r),
                     0);
    int64_t tid[8], ent[8];
    int k = 0;
    while (store_step(r) == 1 && k < 8) {
        tid[k] = store_col_int(r, 0);
        ent[k++] = store_col_int(r, 1);
    }
    store_rows_close(r);
    for (int i = 0; i < k; i++) {
        char code[64], sql[400];
        snprintf(code, sizeof code, "paid:person:%lld", (long long)tid[i]);
        int64_t paid = balance_of(code);
        snprintf(code, sizeof code, "payable:person:%lld", (long long)tid[i]);
        int64_t payable = balance_of(code);
        int64_t inbank = 0, off = 0;
        snprintf(sql, sizeof sql,
                 "SELECT COALESCE(SUM(amount_fen), 0) FROM payments WHERE payee_id = %lld AND "
                 "state IN ('queued', 'sent')",
                 (long long)tid[i]);
        inbank = count(sql);
        snprintf(sql, sizeof sql,
                 "SELECT COALESCE(SUM(amount_fen), 0) FROM payments WHERE payee_id = %lld AND "
                 "state = 'written_off'",
                 (long long)tid[i]);
        off = count(sql);
        assert_int_equal(paid + payable + inbank, ent[i] - off);
    }
}

static char *slurp(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    return tu_slurp(path, &len);
}

static int64_t import_month(const char *month, const char *text, struct bank_import_report *r)
{
    ql_err err;
    int rc = bank_import(S, &CLI, month, text, strlen(text), "result.csv", r, &err);
    if (rc) fail_msg("import: %s", err.en);
    return r->mismatches;
}

static int64_t import(const char *text, struct bank_import_report *r)
{
    return import_month("2026-10", text, r);
}

static bool has_problem(const struct bank_import_report *r, const char *problem, const char *rid)
{
    size_t i;
    json_t *m;
    json_array_foreach(r->items, i, m)
    {
        if (!strcmp(json_string_value(json_object_get(m, "problem")), problem) &&
            !strcmp(json_string_value(json_object_get(m, "request_id")), rid))
            return true;
    }
    return false;
}

static void test_layouts(void **state)
{
    (void)state;
    bank_layout *l = NULL;
    ql_err err;
    assert_int_equal(bank_layout_default(&l, &err), 0);
    bank_layout_free(l);
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"detail request_id 32 left space\nbody x 1\n", "t.layout:2: the record is header"},
        {"detail request_id\n", "t.layout:1: write RECORD FIELD WIDTH"},
        {"detail request_id 0\n", "t.layout:1: the width is a number from 1 to 500: 0"},
        {"# only\nheader \"TOOLONG\" 3\ndetail seq 8\n", "t.layout:2: the literal is wider"},
        {"detail colour 8\n", "t.layout:1: no such field: colour"},
        {"header name 8\n", "t.layout:1: this field belongs to detail records: name"},
        {"detail amount_fen 8 cut\n", "t.layout:1: options are left, right"},
        {"header batch_no 20\n", "t.layout:1: a layout needs detail fields"},
        {"detail seq 8\ndetail \"A\rB\" 3\n", "t.layout:2: a literal may hold no control"},
        {"detail \"\xE2\x80\xAE\" 3\n", "t.layout:1: a literal may hold no control"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        l = NULL;
        assert_int_equal(bank_layout_parse(bad[i].text, strlen(bad[i].text), "t.layout", &l, &err),
                         QL_EINVAL);
        assert_null(l);
        assert_string_equal(err.field, "layout");
        if (!strstr(err.en, bad[i].want)) fail_msg("%s: got %s", bad[i].want, err.en);
    }
}

static void test_pay_a_cycle(void **state)
{
    (void)state;
    ql_err err;
    struct cycle_report rep;
    struct cycle_approval ap;
    struct bank_export_report xr;
    struct bank_export_opts csv = {BANK_CSV, NULL, 2, DIR1};

    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 10, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.paid, 5);
    assert_int_equal(rep.total_fen, 200000 + 150000 + 100000 + 200000 + 150000);
    /* not before approval */
    assert_int_equal(bank_export(S, &CLI, "2026-10", &csv, NULL, NULL, &xr, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "state");
    assert_int_equal(cycle_budget_set(S, &FIN, "district-rent", 2026, 10000000, &err), 0);
    assert_int_equal(cycle_approve(S, &FIN, "2026-10", &ap, &err), 0);

    /* who may, and bad options */
    assert_int_equal(bank_export(S, &REVIEWER, "2026-10", &csv, NULL, NULL, &xr, &err),
                     QL_EFORBIDDEN);
    struct bank_export_opts big = {BANK_CSV, NULL, BANK_BATCH_MAX + 1, DIR1};
    assert_int_equal(bank_export(S, &CLI, "2026-10", &big, NULL, NULL, &xr, &err), QL_EINVAL);
    assert_string_equal(err.field, "batch_size");
    struct bank_export_opts nodir = {BANK_CSV, NULL, 2, "/nonexistent/dir"};
    assert_int_equal(bank_export(S, &CLI, "2026-10", &nodir, NULL, NULL, &xr, &err), QL_EINVAL);
    assert_string_equal(err.field, "dir");
    assert_int_equal(bank_export(S, &CLI, "2030-01", &csv, NULL, NULL, &xr, &err), QL_ENOTFOUND);
    assert_int_equal(count("SELECT count(*) FROM payments"), 0);

    /* a name of 60 characters (180 bytes), written whole in the CSV file and
     * cut at a character boundary in the fixed-width one */
    char longname[256];
    size_t ln = 0;
    for (int i = 0; i < 58; i++) ln += (size_t)snprintf(longname + ln, sizeof longname - ln, "张");
    snprintf(longname + ln, sizeof longname - ln, "赵丁");
    assert_int_equal(store_exec(S, "UPDATE talents SET name = $1 WHERE name = '赵丁'",
                                (store_val[]){SV_TEXT(longname)}, 1, NULL),
                     0);

    /* four payments in batches of two; the fifth person has no account */
    assert_int_equal(bank_export(S, &CLI, "2026-10", &csv, NULL, NULL, &xr, &err), 0);
    assert_false(xr.unchanged);
    assert_int_equal(xr.queued, 4);
    assert_int_equal(xr.batches, 2);
    assert_int_equal(xr.files, 2);
    assert_int_equal(xr.held, 1);
    assert_int_equal(xr.held_fen, 150000);
    assert_int_equal(xr.total_fen, 650000);
    char state_now[32];
    text_of("SELECT state FROM cycles WHERE month = '2026-10'", state_now, sizeof state_now);
    assert_string_equal(state_now, "exported");
    ledger_holds();

    char rid[4][33];
    store_rows *r;
    assert_int_equal(store_query(S, "SELECT request_id FROM payments ORDER BY id", NULL, 0, &r), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_step(r), 1);
        snprintf(rid[i], sizeof rid[i], "%s", store_col_text(r, 0, NULL));
        assert_int_equal(strncmp(rid[i], "202610-", 7), 0);
        assert_int_equal(strcmp(rid[i] + strlen(rid[i]) - 2, "-1"), 0);
    }
    store_rows_close(r);
    char *f1 = slurp(DIR1, "QLM202610-0001.csv");
    assert_non_null(f1);
    char want[1024];
    snprintf(want, sizeof want,
             "batch_no,seq,request_id,account,name,amount,currency,purpose\r\n"
             "QLM202610-0001,1,%s,6222021001000000011,张甲,2000.00,CNY,人才租房补贴 2026-10\r\n"
             "QLM202610-0001,2,%s,6222021001000000029,李乙,1500.00,CNY,人才租房补贴 2026-10\r\n",
             rid[0], rid[1]);
    assert_string_equal(f1, want);
    free(f1);
    char *f2 = slurp(DIR1, "QLM202610-0002.csv");
    assert_non_null(strstr(f2, "QLM202610-0002,2,"));
    char whole[300];
    snprintf(whole, sizeof whole, ",%s,2000.00", longname);
    assert_non_null(strstr(f2, whole));

    /* again: nothing changes, no file is written */
    int64_t transfers = count("SELECT count(*) FROM ledger_transfers");
    assert_int_equal(bank_export(S, &CLI, "2026-10", &csv, NULL, NULL, &xr, &err), 0);
    assert_true(xr.unchanged);
    assert_int_equal(xr.files, 0);
    assert_int_equal(xr.payments, 4);
    assert_int_equal(count("SELECT count(*) FROM ledger_transfers"), transfers);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'cycle.export'"), 1);

    /* files lost after the export are written again from the store: the
     * bytes the export wrote from memory */
    char lost[4200];
    snprintf(lost, sizeof lost, "%s/QLM202610-0001.csv", DIR1);
    assert_int_equal(unlink(lost), 0);
    snprintf(lost, sizeof lost, "%s/QLM202610-0002.csv", DIR1);
    assert_int_equal(unlink(lost), 0);
    assert_int_equal(bank_export(S, &CLI, "2026-10", &csv, NULL, NULL, &xr, &err), 0);
    assert_true(xr.unchanged);
    assert_int_equal(xr.files, 2);
    f1 = slurp(DIR1, "QLM202610-0001.csv");
    assert_non_null(f1);
    assert_string_equal(f1, want);
    free(f1);
    char *again = slurp(DIR1, "QLM202610-0002.csv");
    assert_non_null(again);
    assert_string_equal(again, f2);
    free(again);
    free(f2);
    assert_int_equal(count("SELECT count(*) FROM ledger_transfers"), transfers);

    /* the same batches in the fixed-width layout, elsewhere */
    struct bank_export_opts fixed = {BANK_FIXED, NULL, 2, DIR2};
    assert_int_equal(bank_export(S, &CLI, "2026-10", &fixed, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.files, 2);
    char *t1 = slurp(DIR2, "QLM202610-0001.txt");
    assert_non_null(t1);
    /* header 1+32+6+8+8+15, detail 1+8+32+32+60+15+3+40 bytes (names are UTF-8:
     * two characters of three bytes and 54 spaces), trailer 1+32+8+15 */
    char *line = t1, *next;
    int lines = 0;
    int widths[] = {70, 191, 191, 56};
    while ((next = strstr(line, "\r\n"))) {
        assert_true(lines < 4);
        assert_int_equal((int)(next - line), widths[lines]);
        lines++;
        line = next + 2;
    }
    assert_int_equal(lines, 4);
    char head[64];
    snprintf(head, sizeof head, "H%-32s202610", "QLM202610-0001");
    assert_int_equal(strncmp(t1, head, strlen(head)), 0);
    assert_non_null(strstr(t1, "00000002000000000350000\r\n")); /* 2 records, 3,500.00 */
    assert_non_null(strstr(t1, "D00000001"));
    assert_non_null(strstr(t1, "000000000200000CNY"));
    free(t1);
    /* a layout too narrow for the data is refused, naming the value */
    bank_layout *narrow;
    const char *nl = "detail account 10\n";
    assert_int_equal(bank_layout_parse(nl, strlen(nl), "narrow", &narrow, &err), 0);
    struct bank_export_opts nar = {BANK_FIXED, narrow, 2, DIR3};
    assert_int_equal(bank_export(S, &CLI, "2026-10", &nar, NULL, NULL, &xr, &err), QL_EINVAL);
    assert_non_null(strstr(err.en, "is wider than its field of 10 bytes"));
    bank_layout_free(narrow);

    /* results: every mismatch listed, none of them changing anything */
    char file[4096];
    struct bank_import_report ir;
    snprintf(file, sizeof file,
             "\xEF\xBB\xBF"
             "batch_no,request_id,account,amount,status,message\r\n"
             "QLM202610-0001,%s,6222021001000000011,2000.00,S,\r\n"           /* paid */
             "QLM202610-0001,%s,6222021001000000011,2000.00,S,\r\n"           /* duplicate */
             "QLM202610-0001,%s,6222021001000000029,1.00,S,\r\n"              /* amount */
             "QLM202610-0001,202610-999-1,6222021001000000011,1.00,S,\r\n"    /* unknown */
             "QLM202610-0002,%s,6222021001000000037,1000.00,F,账户已销户\r\n" /* failed */
             "QLM202610-0002,%s,6222021001000000011,2000.00,S,\r\n",          /* account */
             rid[0], rid[0], rid[1], rid[2], rid[3]);
    assert_int_equal(import(file, &ir), 4);
    assert_false(ir.unchanged);
    assert_int_equal(ir.rows, 6);
    assert_int_equal(ir.paid, 1);
    assert_int_equal(ir.failed, 1);
    assert_true(has_problem(&ir, "duplicate", rid[0]));
    assert_true(has_problem(&ir, "amount", rid[1]));
    assert_true(has_problem(&ir, "unknown_id", "202610-999-1"));
    assert_true(has_problem(&ir, "account", rid[3]));
    json_decref(ir.items);
    ledger_holds();
    text_of("SELECT state FROM cycles WHERE month = '2026-10'", state_now, sizeof state_now);
    assert_string_equal(state_now, "exported");
    text_of("SELECT result_message FROM payments WHERE state = 'failed'", state_now,
            sizeof state_now);
    assert_string_equal(state_now, "账户已销户");

    /* the same file again changes nothing */
    transfers = count("SELECT count(*) FROM ledger_transfers");
    assert_int_equal(import(file, &ir), 4);
    assert_true(ir.unchanged);
    json_decref(ir.items);
    assert_int_equal(count("SELECT count(*) FROM ledger_transfers"), transfers);
    assert_int_equal(count("SELECT count(*) FROM bank_imports"), 1);

    /* a failed payment's money waits for a decision: the next export leaves it */
    assert_int_equal(bank_export(S, &CLI, "2026-10", &csv, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.queued, 0);

    /* a second file: rid[1] paid, rid[2] repeated (taken in before), rid[3]
     * missing from its batch, a row of another batch, a bad status */
    snprintf(file, sizeof file,
             "request_id,batch_no,amount,account,status\n"
             "%s,QLM202610-0001,1500.00,6222 0210 0100 0000 029,SUCCESS\n"
             "%s,QLM202610-0002,1000.00,6222021001000000037,F\n"
             "%s,QLM202610-0009,2000.00,6222021001000000011,S\n",
             rid[1], rid[2], rid[0]);
    assert_int_equal(import(file, &ir), 2);
    assert_int_equal(ir.paid, 1);
    assert_int_equal(ir.already, 1);
    assert_true(has_problem(&ir, "missing", rid[3]));
    assert_true(has_problem(&ir, "batch", rid[0]));
    json_decref(ir.items);
    snprintf(file, sizeof file,
             "batch_no,request_id,account,amount,status\n"
             "QLM202610-0002,%s,6222021001000000045,2000.00,maybe\n",
             rid[3]);
    assert_int_equal(import(file, &ir), 1);
    assert_true(has_problem(&ir, "status", rid[3]));
    json_decref(ir.items);
    snprintf(file, sizeof file,
             "batch_no,request_id,account,amount,status\n"
             "QLM202610-0002,%s,6222021001000000045,2000.00,成功\n",
             rid[3]);
    assert_int_equal(import(file, &ir), 0);
    assert_int_equal(ir.paid, 1);
    json_decref(ir.items);
    text_of("SELECT state FROM cycles WHERE month = '2026-10'", state_now, sizeof state_now);
    assert_string_equal(state_now, "reconciled");
    ledger_holds();

    /* a file that is not a result file */
    const char *junk = "name,amount\nx,1\n";
    assert_int_equal(bank_import(S, &CLI, "2026-10", junk, strlen(junk), "junk.csv", &ir, &err),
                     QL_EINVAL);
    assert_string_equal(err.field, "batch_no");
    json_decref(ir.items);

    /* close refuses while the failed payment waits */
    bool same;
    assert_int_equal(cycle_close(S, &FIN, "2026-10", &same, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "1 payments not settled"));

    /* re-queue: a new request id, the next export sends it in a third batch */
    char nid[33];
    assert_int_equal(bank_requeue(S, &CLI, rid[0], "retry", nid, &err), QL_ECONFLICT);
    assert_int_equal(bank_requeue(S, &CLI, rid[2], "", nid, &err), QL_EINVAL);
    assert_string_equal(err.field, "reason");
    assert_int_equal(bank_requeue(S, &CLI, "nope", "retry", nid, &err), QL_ENOTFOUND);
    assert_int_equal(bank_requeue(S, &CLI, rid[2], "账户已更正", nid, &err), 0);
    assert_int_equal(strcmp(nid + strlen(nid) - 2, "-2"), 0);
    assert_int_equal(strncmp(nid, rid[2], strlen(rid[2]) - 1), 0);
    text_of("SELECT state FROM cycles WHERE month = '2026-10'", state_now, sizeof state_now);
    assert_string_equal(state_now, "exported");
    ledger_holds();
    assert_int_equal(bank_export(S, &CLI, "2026-10", &csv, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.batches, 1);
    assert_int_equal(xr.files, 1);
    assert_int_equal(xr.all_batches, 3);
    char *f3 = slurp(DIR1, "QLM202610-0003.csv");
    assert_non_null(strstr(f3, nid));
    free(f3);

    /* it fails again; written off by finance, not by a reviewer */
    snprintf(file, sizeof file,
             "batch_no,request_id,account,amount,status,message\n"
             "QLM202610-0003,%s,6222021001000000037,1000.00,F,户名不符\n",
             nid);
    assert_int_equal(import(file, &ir), 0);
    assert_int_equal(ir.failed, 1);
    json_decref(ir.items);
    assert_int_equal(bank_write_off(S, &REVIEWER, nid, "无法联系", &err), QL_EFORBIDDEN);
    assert_int_equal(bank_write_off(S, &FIN, nid, "无法联系", &err), 0);
    assert_int_equal(bank_write_off(S, &FIN, nid, "无法联系", &err), QL_ECONFLICT);
    ledger_holds();
    assert_int_equal(balance_of("budget:written-off"), 100000);

    /* every payment settled: the cycle closes, once */
    assert_int_equal(cycle_close(S, &FIN, "2026-10", &same, &err), 0);
    assert_false(same);
    assert_int_equal(cycle_close(S, &FIN, "2026-10", &same, &err), 0);
    assert_true(same);
    text_of("SELECT state FROM cycles WHERE month = '2026-10'", state_now, sizeof state_now);
    assert_string_equal(state_now, "closed");

    /* the held person's money is still payable; payments list masked accounts */
    json_t *o;
    assert_int_equal(bank_payments(S, &FIN, "2026-10", "written_off", 0, 10, &o, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "total")), 1);
    const char *acct = json_string_value(
        json_object_get(json_array_get(json_object_get(o, "items"), 0), "account"));
    assert_null(strstr(acct, "6222021001000000037"));
    json_decref(o);
    assert_int_equal(bank_payments(S, &FIN, "2026-10", "lost", 0, 10, &o, &err), QL_EINVAL);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action IN ('cycle.import', "
                           "'payment.requeue', 'payment.write_off', 'cycle.close')"),
                     8); /* five files, a re-queue, a write-off, a close */
    ledger_holds();
}

/* Names stored before the rule at input refused them (or that came another
 * way) reach a bank file harmless: in CSV a name starting with '=' is
 * written as the registry's exports write it (a quoted cell with an
 * apostrophe, no formula), and in either format a control, separator,
 * bidirectional or invisible character is '?', so no record is split and
 * no text turned around; a lost file written again from the store is the
 * same, byte for byte. */
static void test_hostile_names(void **state)
{
    (void)state;
    ql_err err;
    const char *formula = "=HYPERLINK(\"http://evil.example\",\"x\")";
    assert_int_equal(store_exec(S, "UPDATE talents SET name = $1 WHERE name = '张甲'",
                                (store_val[]){SV_TEXT(formula)}, 1, NULL),
                     0);
    assert_int_equal(store_exec(S, "UPDATE talents SET name = $1 WHERE name = '李乙'",
                                (store_val[]){SV_TEXT("李\r\n乙\xE2\x80\xAE\xC2\x85")}, 1, NULL),
                     0);
    struct cycle_report rep;
    struct cycle_approval ap;
    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 11, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(cycle_approve(S, &FIN, "2026-11", &ap, &err), 0);
    char csvdir[600], fixdir[600];
    snprintf(csvdir, sizeof csvdir, "%s/hostile-csv", tu_tmpdir());
    snprintf(fixdir, sizeof fixdir, "%s/hostile-fixed", tu_tmpdir());
    mkdir(csvdir, 0700);
    mkdir(fixdir, 0700);
    struct bank_export_report xr;
    struct bank_export_opts csv = {BANK_CSV, NULL, 1000, csvdir};
    assert_int_equal(bank_export(S, &CLI, "2026-11", &csv, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.files, 1);
    char *f = slurp(csvdir, "QLM202611-0001.csv");
    assert_non_null(f);
    assert_non_null(strstr(f, ",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",2000.00,"));
    assert_non_null(strstr(f, ",李??乙??,1500.00,"));
    int lines = 0;
    for (const char *p = f; (p = strstr(p, "\r\n")); p += 2) lines++;
    assert_int_equal(lines, 1 + 4); /* the header and four payments: no record split */
    for (const unsigned char *p = (const unsigned char *)f; *p; p++)
        if (*p < 0x20 && *p != '\r' && *p != '\n') fail_msg("control byte 0x%02X in the file", *p);
    assert_null(strstr(f, "\xE2\x80\xAE"));
    assert_null(strstr(f, "\xC2\x85"));
    /* lost and written again from the store: the same bytes */
    char path[700];
    snprintf(path, sizeof path, "%s/QLM202611-0001.csv", csvdir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(bank_export(S, &CLI, "2026-11", &csv, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.files, 1);
    char *again = slurp(csvdir, "QLM202611-0001.csv");
    assert_non_null(again);
    assert_string_equal(again, f);
    free(again);
    free(f);

    /* fixed width: every record its width, the name's flaws as '?' */
    struct bank_export_opts fixed = {BANK_FIXED, NULL, 1000, fixdir};
    assert_int_equal(bank_export(S, &CLI, "2026-11", &fixed, NULL, NULL, &xr, &err), 0);
    f = slurp(fixdir, "QLM202611-0001.txt");
    assert_non_null(f);
    int widths[] = {70, 191, 191, 191, 191, 56}, n = 0;
    const char *line = f, *next;
    while ((next = strstr(line, "\r\n"))) {
        assert_true(n < 6);
        for (const char *p = line; p < next; p++)
            if ((unsigned char)*p < 0x20) fail_msg("control byte in record %d", n);
        assert_int_equal((int)(next - line), widths[n++]);
        line = next + 2;
    }
    assert_int_equal(n, 6);
    assert_non_null(strstr(f, formula)); /* a fixed-width field is no spreadsheet cell */
    assert_non_null(strstr(f, "李??乙?? "));
    assert_null(strstr(f, "\xE2\x80\xAE"));
    free(f);

    /* A result file's value longer than its field is not cut to match: an
     * account with a tail past 47 bytes is another account, a request id
     * over 32 bytes is no payment's; the bank's long message is kept to a
     * whole character (PostgreSQL refuses half of one). */
    char rid[2][33];
    store_rows *r;
    assert_int_equal(store_query(S,
                                 "SELECT p.request_id FROM payments p JOIN cycles c ON c.id = "
                                 "p.cycle_id WHERE c.month = '2026-11' ORDER BY p.id",
                                 NULL, 0, &r),
                     0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_step(r), 1);
        snprintf(rid[i], sizeof rid[i], "%s", store_col_text(r, 0, NULL));
    }
    store_rows_close(r);
    char message[400] = "";
    for (int i = 0; i < 100; i++) snprintf(message + 3 * i, sizeof message - 3 * (size_t)i, "户");
    char file[2048];
    snprintf(file, sizeof file,
             "batch_no,request_id,account,amount,status,message\n"
             "QLM202611-0001,%s,6222021001000000011%28s999,2000.00,S,\n"
             "QLM202611-0001,%s,6222021001000000029,1500.00,F,%s\n"
             "QLM202611-0001,202611-%040d,6222021001000000029,1500.00,S,\n",
             rid[0], "", rid[1], message, 9);
    struct bank_import_report ir;
    assert_int_equal(import_month("2026-11", file, &ir), 4); /* and two missing from the file */
    assert_int_equal(ir.failed, 1);
    assert_int_equal(ir.paid, 0);
    assert_true(has_problem(&ir, "account", rid[0]));
    bool said = false;
    size_t i;
    json_t *m;
    json_array_foreach(ir.items, i, m)
    {
        said |= !strcmp(json_string_value(json_object_get(m, "problem")), "unknown_id") &&
                strstr(json_string_value(json_object_get(m, "en")), "longer than 32 bytes");
    }
    assert_true(said);
    json_decref(ir.items);
    char stored[400];
    text_of("SELECT result_message FROM payments WHERE state = 'failed' AND cycle_id = (SELECT id "
            "FROM cycles WHERE month = '2026-11')",
            stored, sizeof stored);
    assert_int_equal(strlen(stored), 66 * 3);
    assert_int_equal(strncmp(stored, message, 66 * 3), 0);

    /* A file that cannot be read to its end settles nothing, though its
     * first page (500 rows) would: a row paying the third payment, 500
     * unknown ones, then a stray quote. */
    char third[33];
    text_of("SELECT p.request_id FROM payments p JOIN cycles c ON c.id = p.cycle_id WHERE "
            "c.month = '2026-11' ORDER BY p.id LIMIT 1 OFFSET 2",
            third, sizeof third); /* 王丙's, sent to 6222021001000000037 */
    buf big;
    buf_init(&big, 0);
    buf_printf(&big,
               "batch_no,request_id,account,amount,status\n"
               "QLM202611-0001,%s,6222021001000000037,1000.00,S\n",
               third);
    for (int k = 0; k < 500; k++)
        buf_printf(&big, "QLM202611-0001,202611-%d-9,6222021001000000037,1.00,S\n", 1000 + k);
    buf_puts(&big, "QLM202611-0001,202611-1-1,62220\"21,1.00,S\n");
    int64_t transfers = count("SELECT count(*) FROM ledger_transfers");
    char pstate[16];
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT state FROM payments WHERE request_id = '%s'", third);
    text_of(sql, pstate, sizeof pstate);
    assert_string_equal(pstate, "sent");
    assert_int_equal(bank_import(S, &CLI, "2026-11", big.data, big.len, "broken.csv", &ir, &err),
                     QL_EINVAL);
    json_decref(ir.items);
    assert_non_null(strstr(err.en, "503"));
    assert_int_equal(count("SELECT count(*) FROM ledger_transfers"), transfers);
    text_of(sql, pstate, sizeof pstate);
    assert_string_equal(pstate, "sent");
    /* the same rows without the broken one: the third payment is paid */
    big.len -= strlen("QLM202611-0001,202611-1-1,62220\"21,1.00,S\n");
    big.data[big.len] = '\0';
    assert_int_equal(import_month("2026-11", big.data, &ir), 500 + 2); /* and two missing */
    json_decref(ir.items);
    text_of(sql, pstate, sizeof pstate);
    assert_string_equal(pstate, "paid");
    buf_free(&big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_pay_a_cycle),
        cmocka_unit_test(test_hostile_names),
    };
    return cmocka_run_group_tests_name("bank", tests, setup, teardown);
}
