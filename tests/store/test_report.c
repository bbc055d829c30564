/* test_report.c - disbursement reports and a person's ledger, on SQLite and
 * (with QL_TEST_PG) PostgreSQL, with every figure worked out by hand and
 * every posting made by the services themselves (cycle_run, cycle_approve,
 * bank_export, bank_import, bank_requeue, bank_write_off, bank_collect).
 *
 * October 2026, computed, approved, exported and all paid:
 *   a  district-rent, tier A, employer 甲, from 1 October: 2,000.00
 *   b  district-rent, tier B, employer 乙, from 15 October: 1,500 x 17 / 31
 *      = 822.58
 *   c  talent-apartment (paid to the apartment's operator), employer 甲:
 *      1,200.00
 *   d  district-rent, tier C, employer 乙: 1,000.00
 *   g  district-rent, tier C, employer 乙: 1,000.00
 * Then d's subsidy is ended back-dated to 15 October (due 1,000 x 15 / 31
 * = 483.87: 516.13 to recover), g's is suspended from 1 November, and e
 * (tier B, employer 甲) is activated from 1 October. November: a 2,000.00,
 * b 1,500.00, c 1,200.00, e 1,500.00, g 0.00 (an entitlement that pays
 * nothing), with e's arrears of 1,500.00 and d's recovery of 516.13 for
 * October. The bank pays c and e and returns a and b: a's payment is sent
 * again (and waits for its result), b's is written off; d pays back what
 * they owe. Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/date.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "ledger/report.h"
#include "policy/policy.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static store *S;
static actor CLI, FIN;
static int64_t EMP1, EMP2, OPERATOR, UNIT, RENT_FILE;
static int64_t A, B, C, D_, E, G;      /* applications */
static int64_t TA, TB, TC, TD, TE, TG; /* their talents */

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
    FIN = CLI;
    snprintf(FIN.username, sizeof FIN.username, "finance.two");
    FIN.perms = role_perms(ROLE_FINANCE);
    if (load_policy("policies/talent-apartment.policy")) return -1;
    if (store_query_int(S,
                        "SELECT id FROM policy_files WHERE programme = 'district-rent' AND "
                        "status = 'active'",
                        NULL, 0, &RENT_FILE))
        return -1;
    EMP1 = fx_employer(S, "91310104MA1FL00001"); /* 上海甲科技有限公司 */
    EMP2 = ins("INSERT INTO employers (credit_code, name, registered_in_district, "
               "taxed_in_district, industry, created_at, updated_at) VALUES "
               "('91310104MA1FL00002', '上海乙生物有限公司', 1, 1, 'life_health', 0, 0)",
               NULL, 0);
    OPERATOR = ins("INSERT INTO operators (code, name, bank_account, created_at, updated_at) "
                   "VALUES ('op-1', '上海人才公寓运营有限公司', '310066771018010123456', 0, 0)",
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

/* A talent at employer with a filed lease of the apartment UNIT for 2026
 * and 2027, whose talent-apartment application is walked to active from
 * `activate` (fx_active_subsidy does the same for district-rent). */
static int64_t active_subsidy(const char *name, int64_t employer, int32_t activate, int64_t *tid)
{
    const char *level = "C", *programme = "talent-apartment";
    int64_t unit = UNIT;
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
                     SV_INT(unit)};
    ins("INSERT INTO leases (talent_id, address, start_date, end_date, rent_fen, signed_date, "
        "filing_no, filed_date, unit_id, created_at, updated_at) VALUES ($1, '徐汇区虹桥路 1 号', "
        "$3, $4, 450000, $3, $2, $3, $5, 0, 0)",
        l, 5);
    actor self = CLI;
    self.scope = SCOPE_SELF;
    self.roles = 1u << ROLE_TALENT;
    self.perms = role_perms(ROLE_TALENT);
    snprintf(self.scope_id, sizeof self.scope_id, "%lld", (long long)*tid);
    actor approver = CLI; /* a second person approves what was reviewed */
    snprintf(approver.username, sizeof approver.username, "cli:approver");
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
        {&approver, AA_APPROVE, D(2026, 9, 14), 0},
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

static int64_t talent_of(int64_t app)
{
    int64_t t = 0;
    store_val v[] = {SV_INT(app)};
    if (store_query_int(S, "SELECT talent_id FROM applications WHERE id = $1", v, 1, &t))
        fail_msg("no application %lld", (long long)app);
    return t;
}

static void step(int64_t app, enum app_action a, int32_t today, int32_t effective)
{
    struct app_step st = {a, "核查", NULL, today, effective};
    struct app_result res;
    ql_err err;
    if (subsidy_transition(S, &CLI, app, &st, &res, &err))
        fail_msg("%s: %s", subsidy_action_name(a), err.en);
}

/* The request id of talent's payment of month, attempt. */
static void request_of(int64_t talent, const char *month, int attempt, char rid[40])
{
    store_rows *r;
    store_val v[] = {SV_INT(talent), SV_TEXT(month), SV_INT(attempt)};
    rid[0] = '\0';
    if (store_query(S,
                    "SELECT p.request_id FROM payments p JOIN cycles c ON c.id = p.cycle_id "
                    "WHERE p.payee_type = 'person' AND p.payee_id = $1 AND c.month = $2 AND "
                    "p.attempt = $3",
                    v, 3, &r))
        fail_msg("payments: %s", store_errmsg(S));
    if (store_step(r) == 1) snprintf(rid, 40, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (!rid[0]) fail_msg("no payment of %lld in %s", (long long)talent, month);
}

/* Exports month's approved cycle into tu_tmpdir()/bank-<month> and answers
 * for the bank with the batch this run made: every payment paid except
 * those to the talents in failed (0-ended), which fail with message. */
static void bank_round(const char *month, const int64_t *failed, const char *message)
{
    ql_err err;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/bank-%s", tu_tmpdir(), month);
    mkdir(dir, 0700);
    struct bank_export_opts o = {BANK_CSV, NULL, 0, dir};
    struct bank_export_report xr;
    if (bank_export(S, &CLI, month, &o, NULL, NULL, &xr, &err)) fail_msg("export: %s", err.en);
    assert_int_equal(xr.held, 0);
    char name[700];
    snprintf(name, sizeof name, "%s/QLM%.4s%.2s-%04lld.csv", dir, month, month + 5,
             (long long)xr.all_batches);
    size_t len;
    char *csv = tu_slurp(name, &len);
    if (!csv) fail_msg("no batch file %s", name);
    char result[8192] = "batch_no,request_id,account,amount,status,message\n";
    char *line = strstr(csv, "\r\n") + 2;
    for (char *next; (next = strstr(line, "\r\n")); line = next + 2) {
        char batch[40], seq[16], rid[40], acct[40], who[200], amount[40];
        *next = '\0';
        assert_int_equal(sscanf(line, "%39[^,],%15[^,],%39[^,],%39[^,],%199[^,],%39[^,]", batch,
                                seq, rid, acct, who, amount),
                         6);
        int64_t payee = 0;
        store_val v[] = {SV_TEXT(rid)};
        assert_int_equal(store_query_int(S,
                                         "SELECT CASE WHEN payee_type = 'person' THEN payee_id "
                                         "ELSE 0 END FROM payments WHERE request_id = $1",
                                         v, 1, &payee),
                         0);
        bool fails = false;
        for (const int64_t *f = failed; f && *f; f++) fails = fails || *f == payee;
        size_t k = strlen(result);
        snprintf(result + k, sizeof result - k, "%s,%s,%s,%s,%s,%s\n", batch, rid, acct, amount,
                 fails ? "F" : "S", fails ? message : "");
    }
    free(csv);
    struct bank_import_report ir;
    if (bank_import(S, &CLI, month, result, strlen(result), "result.csv", &ir, &err))
        fail_msg("import: %s", err.en);
    assert_int_equal(ir.mismatches, 0);
    json_decref(ir.items);
}

static void run_cycle(const char *month)
{
    ql_err err;
    int32_t first;
    assert_int_equal(date_parse_month(month, &first), 0);
    struct cycle_report rep;
    if (cycle_run(S, &CLI, first, NULL, NULL, &rep, &err)) fail_msg("run: %s", err.en);
    struct cycle_approval ap;
    if (cycle_approve(S, &FIN, month, &ap, &err)) fail_msg("approve: %s", err.en);
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
    ql_err err;
    int32_t oct = D(2026, 10, 1);
    A = fx_active_subsidy(S, EMP1, "甲一", "A", "6222021001000000011", oct);
    B = fx_active_subsidy(S, EMP2, "乙二", "B", "6222021001000000029", D(2026, 10, 15));
    C = active_subsidy("丙三", EMP1, oct, &TC);
    D_ = fx_active_subsidy(S, EMP2, "丁四", "C", "6222021001000000037", oct);
    G = fx_active_subsidy(S, EMP2, "庚七", "C", "6222021001000000052", oct);
    TA = talent_of(A), TB = talent_of(B), TD = talent_of(D_), TG = talent_of(G);
    assert_int_equal(cycle_budget_set(S, &FIN, "district-rent", 2026, 10000000, &err), 0);
    assert_int_equal(cycle_budget_set(S, &FIN, "talent-apartment", 2026, 10000000, &err), 0);

    /* October: computed, approved, paid in full */
    run_cycle("2026-10");
    bank_round("2026-10", NULL, "");

    /* what changed since: d ended back-dated, g suspended from November,
     * e activated from October */
    int32_t nov3 = D(2026, 11, 3);
    step(D_, AA_END, nov3, D(2026, 10, 15));
    step(G, AA_SUSPEND, nov3, D(2026, 11, 1));
    E = fx_active_subsidy(S, EMP1, "戊五", "B", "6222021001000000045", oct);
    TE = talent_of(E);

    /* November: the bank returns a's and b's payments; a's is sent again,
     * b's written off; d pays back what they owe */
    run_cycle("2026-11");
    assert_int_equal(count("SELECT count(*) FROM adjustments"), 2);
    int64_t failed[] = {TA, TB, 0};
    bank_round("2026-11", failed, "户名不符");
    char rid_a[40], rid_b[40], again[33];
    request_of(TA, "2026-11", 1, rid_a);
    request_of(TB, "2026-11", 1, rid_b);
    assert_int_equal(bank_requeue(S, &CLI, rid_a, "户名已更正", again, &err), 0);
    assert_int_equal(bank_write_off(S, &FIN, rid_b, "账户已销户", &err), 0);
    struct bank_export_opts o = {BANK_CSV, NULL, 0, NULL};
    struct bank_export_report xr;
    assert_int_equal(bank_export(S, &CLI, "2026-11", &o, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.payments, 5); /* a's second payment in a batch of its own */

    /* November by programme: district-rent pays a, b and e (g's 0.00 does
     * not count), with e's arrears and d's recovery */
    json_t *o1 = report("2026-11", "programme");
    assert_string_equal(str(o1, "by"), "programme");
    assert_int_equal(json_array_size(json_object_get(o1, "cycles")), 1);
    assert_int_equal(json_array_size(json_object_get(o1, "rows")), 2);
    row_is(row_of(o1, "district-rent", NULL), 3, 500000, 150000, 51613, 598387);
    assert_string_equal(str(row_of(o1, "district-rent", NULL), "label"), "区人才租房补贴");
    assert_string_equal(str(row_of(o1, "district-rent", NULL), "net_yuan"), "5983.87");
    row_is(row_of(o1, "talent-apartment", NULL), 1, 120000, 0, 0, 120000);
    row_is(json_object_get(o1, "total"), 4, 620000, 150000, 51613, 718387);
    json_decref(o1);

    /* by tier: an adjustment counts under its application's tier */
    o1 = report("2026-11", "tier");
    assert_int_equal(json_array_size(json_object_get(o1, "rows")), 4);
    row_is(row_of(o1, "A", "district-rent"), 1, 200000, 0, 0, 200000);
    row_is(row_of(o1, "B", "district-rent"), 2, 300000, 150000, 0, 450000);
    row_is(row_of(o1, "C", "district-rent"), 0, 0, 0, 51613, -51613);
    row_is(row_of(o1, "apartment", "talent-apartment"), 1, 120000, 0, 0, 120000);
    row_is(json_object_get(o1, "total"), 4, 620000, 150000, 51613, 718387);
    json_decref(o1);

    /* by employer, with the employer's name */
    o1 = report("2026-11", "employer");
    char k1[24], k2[24];
    snprintf(k1, sizeof k1, "%lld", (long long)EMP1);
    snprintf(k2, sizeof k2, "%lld", (long long)EMP2);
    assert_int_equal(json_array_size(json_object_get(o1, "rows")), 2);
    row_is(row_of(o1, k1, NULL), 3, 470000, 150000, 0, 620000);
    assert_string_equal(str(row_of(o1, k1, NULL), "label"), "上海甲科技有限公司");
    row_is(row_of(o1, k2, NULL), 1, 150000, 0, 51613, 98387);
    assert_string_equal(str(row_of(o1, k2, NULL), "label"), "上海乙生物有限公司");
    json_decref(o1);

    /* by payee type */
    o1 = report("2026-11", "payee_type");
    row_is(row_of(o1, "person", NULL), 3, 500000, 150000, 51613, 598387);
    assert_string_equal(str(row_of(o1, "person", NULL), "label"), "个人");
    row_is(row_of(o1, "operator", NULL), 1, 120000, 0, 0, 120000);
    json_decref(o1);

    /* the year: October and November */
    o1 = report("2026", "programme");
    assert_true(json_is_true(json_object_get(o1, "year")));
    json_t *cy = json_object_get(o1, "cycles");
    assert_int_equal(json_array_size(cy), 2);
    assert_string_equal(str(json_array_get(cy, 0), "month"), "2026-10");
    assert_string_equal(str(json_array_get(cy, 0), "state"), "reconciled");
    assert_string_equal(str(json_array_get(cy, 1), "state"), "exported");
    row_is(row_of(o1, "district-rent", NULL), 7, 982258, 150000, 51613, 1080645);
    row_is(row_of(o1, "talent-apartment", NULL), 2, 240000, 0, 0, 240000);
    row_is(json_object_get(o1, "total"), 9, 1222258, 150000, 51613, 1320645);
    json_decref(o1);
    o1 = report("2026", "tier");
    row_is(row_of(o1, "A", "district-rent"), 2, 400000, 0, 0, 400000);
    row_is(row_of(o1, "B", "district-rent"), 3, 382258, 150000, 0, 532258);
    row_is(row_of(o1, "C", "district-rent"), 2, 200000, 0, 51613, 148387);
    row_is(row_of(o1, "apartment", "talent-apartment"), 2, 240000, 0, 0, 240000);
    json_decref(o1);
    o1 = report("2026", "employer");
    row_is(row_of(o1, k1, NULL), 5, 790000, 150000, 0, 940000);
    row_is(row_of(o1, k2, NULL), 4, 432258, 0, 51613, 380645);
    row_is(json_object_get(o1, "total"), 9, 1222258, 150000, 51613, 1320645);
    json_decref(o1);
    o1 = report("2026", "payee_type");
    row_is(row_of(o1, "person", NULL), 7, 982258, 150000, 51613, 1080645);
    row_is(row_of(o1, "operator", NULL), 2, 240000, 0, 0, 240000);
    json_decref(o1);
    /* a year without cycles is an empty report; a month without one is not found */
    o1 = report("2025", "programme");
    assert_int_equal(json_array_size(json_object_get(o1, "rows")), 0);
    row_is(json_object_get(o1, "total"), 0, 0, 0, 0, 0);
    json_decref(o1);
    struct report_period p;
    assert_int_equal(report_month("2026-05", &p, &err), 0);
    assert_int_equal(report_json(S, &CLI, &p, REPORT_PROGRAMME, &o1, &err), QL_ENOTFOUND);
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
    assert_non_null(strstr(sheet, "<v>6200</v>"));    /* 甲: net 6,200.00 */
    assert_non_null(strstr(sheet, "<v>983.87</v>"));  /* 乙: net 983.87 */
    assert_non_null(strstr(sheet, "<v>516.13</v>"));  /* 乙: recovered */
    assert_non_null(strstr(sheet, "<v>7183.87</v>")); /* the total */
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
    assert_non_null(strstr(text, "2026,district-rent,B,3,3822.58,1500.00,0.00,5322.58\r\n"));
    assert_non_null(strstr(text, "2026,district-rent,C,2,2000.00,0.00,516.13,1483.87\r\n"));
    assert_non_null(
        strstr(text, "2026,talent-apartment,apartment,2,2400.00,0.00,0.00,2400.00\r\n"));
    assert_non_null(strstr(text, "2026,合计,,9,12222.58,1500.00,516.13,13206.45\r\n"));
    free(text);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'ledger.report_export'"),
                     2);

    /* a's ledger: two entitlements, a payment paid, one returned and sent again */
    json_t *l;
    assert_int_equal(report_person(S, &CLI, TA, &l, &err), 0);
    assert_string_equal(str(json_object_get(l, "talent"), "name"), "甲一");
    json_t *ps = json_object_get(l, "postings");
    static const char *const a_kinds[] = {"entitlement", "sent",     "paid", "entitlement",
                                          "sent",        "returned", "sent"};
    assert_int_equal(json_array_size(ps), 7);
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
    assert_string_equal(str(tr, "month"), "2026-10");
    json_t *steps = json_object_get(tr, "steps"); /* derived again from the frozen inputs */
    json_t *last = json_array_get(steps, json_array_size(steps) - 1);
    assert_string_equal(str(last, "step"), "total");
    assert_int_equal(json_integer_value(json_object_get(last, "fen")), 200000);
    tr = json_object_get(json_array_get(ps, 3), "trace");
    assert_int_equal(json_integer_value(json_object_get(tr, "month_index")), 2);
    tr = json_object_get(json_array_get(ps, 2), "trace");
    assert_string_equal(str(tr, "type"), "payment");
    assert_string_equal(str(tr, "batch_no"), "QLM202610-0001");
    assert_string_equal(str(tr, "state"), "paid");
    assert_string_equal(str(tr, "account_masked"), "622202*********0011");
    char sent_key[64];
    snprintf(sent_key, sizeof sent_key, "return:%s", rid_a);
    assert_string_equal(str(json_array_get(ps, 5), "key"), sent_key);
    tr = json_object_get(json_array_get(ps, 5), "trace");
    assert_string_equal(str(tr, "request_id"), rid_a);
    assert_string_equal(str(tr, "state"), "requeued");
    assert_string_equal(str(tr, "result_code"), "F");
    assert_string_equal(str(tr, "result_message"), "户名不符");
    tr = json_object_get(json_array_get(ps, 6), "trace");
    assert_string_equal(str(tr, "request_id"), again);
    assert_int_equal(json_integer_value(json_object_get(tr, "attempt")), 2);
    assert_string_equal(str(tr, "state"), "sent");
    assert_string_equal(str(tr, "batch_no"), "QLM202611-0002");
    assert_int_equal(tot(l, "entitled_fen"), 400000);
    assert_int_equal(tot(l, "sent_fen"), 600000);
    assert_int_equal(tot(l, "returned_fen"), 200000);
    assert_int_equal(tot(l, "paid_fen"), 200000);
    assert_int_equal(tot(l, "outstanding_fen"), 0);
    assert_int_equal(tot(l, "in_clearing_fen"), 200000);
    json_t *check = json_object_get(l, "check");
    assert_true(json_is_true(json_object_get(check, "holds")));
    assert_string_equal(str(check, "en"),
                        "paid 2000.00 - paid back 0.00 = entitled 4000.00 + arrears 0.00 - "
                        "recovered 0.00 - written off 0.00 - outstanding 0.00 - in clearing "
                        "2000.00: holds");
    json_decref(l);

    /* b's: the returned payment written off */
    assert_int_equal(report_person(S, &CLI, TB, &l, &err), 0);
    ps = json_object_get(l, "postings");
    static const char *const b_kinds[] = {"entitlement", "sent",     "paid",       "entitlement",
                                          "sent",        "returned", "written_off"};
    assert_int_equal(json_array_size(ps), 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(str(json_array_get(ps, i), "kind"), b_kinds[i]);
    assert_string_equal(str(json_array_get(ps, 6), "credit"), "budget:written-off");
    tr = json_object_get(json_array_get(ps, 0), "trace"); /* 17 of October's 31 days */
    assert_non_null(
        strstr(str(json_array_get(json_object_get(tr, "steps"), 0), "en"), "17 of 31 days"));
    steps = json_object_get(tr, "steps");
    last = json_array_get(steps, json_array_size(steps) - 1);
    assert_int_equal(json_integer_value(json_object_get(last, "fen")), 82258);
    tr = json_object_get(json_array_get(ps, 6), "trace");
    assert_string_equal(str(tr, "request_id"), rid_b);
    assert_string_equal(str(tr, "state"), "written_off");
    assert_int_equal(tot(l, "entitled_fen"), 232258);
    assert_int_equal(tot(l, "written_off_fen"), 150000);
    assert_int_equal(tot(l, "paid_fen"), 82258);
    assert_int_equal(tot(l, "outstanding_fen"), 0);
    assert_true(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    json_decref(l);

    /* e's: October's arrears traced to the adjustment, then November */
    assert_int_equal(report_person(S, &CLI, TE, &l, &err), 0);
    ps = json_object_get(l, "postings");
    static const char *const e_kinds[] = {"arrears", "entitlement", "sent", "paid"};
    assert_int_equal(json_array_size(ps), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(str(json_array_get(ps, i), "kind"), e_kinds[i]);
    snprintf(key, sizeof key, "adjust:2026-11:%lld:2026-10", (long long)E);
    assert_string_equal(str(json_array_get(ps, 0), "key"), key);
    tr = json_object_get(json_array_get(ps, 0), "trace");
    assert_string_equal(str(tr, "type"), "adjustment");
    assert_string_equal(str(tr, "kind"), "arrears");
    assert_string_equal(str(tr, "for_month"), "2026-10");
    assert_int_equal(json_integer_value(json_object_get(tr, "was_fen")), 0);
    assert_int_equal(json_integer_value(json_object_get(tr, "due_fen")), 150000);
    assert_int_equal(tot(l, "arrears_fen"), 150000);
    assert_int_equal(tot(l, "paid_fen"), 300000);
    assert_true(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    json_decref(l);

    /* d's: owes the recovery, then pays it back */
    assert_int_equal(report_person(S, &CLI, TD, &l, &err), 0);
    assert_int_equal(json_array_size(json_object_get(l, "postings")), 4);
    tr = json_object_get(json_array_get(json_object_get(l, "postings"), 3), "trace");
    assert_string_equal(str(tr, "kind"), "recovery");
    assert_int_equal(json_integer_value(json_object_get(tr, "was_fen")), 100000);
    assert_int_equal(json_integer_value(json_object_get(tr, "due_fen")), 48387);
    assert_int_equal(tot(l, "recovered_fen"), 51613);
    assert_int_equal(tot(l, "outstanding_fen"), -51613);
    assert_true(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    json_decref(l);
    char payee[40];
    bool same;
    snprintf(payee, sizeof payee, "person:%lld", (long long)TD);
    assert_int_equal(bank_collect(S, &CLI, payee, 51613, "HX2026112801", &same, &err), 0);
    assert_int_equal(report_person(S, &CLI, TD, &l, &err), 0);
    ps = json_object_get(l, "postings");
    assert_int_equal(json_array_size(ps), 5);
    assert_string_equal(str(json_array_get(ps, 4), "kind"), "collected");
    tr = json_object_get(json_array_get(ps, 4), "trace");
    assert_string_equal(str(tr, "type"), "collection");
    assert_string_equal(str(tr, "reference"), "HX2026112801");
    assert_int_equal(tot(l, "collected_fen"), 51613);
    assert_int_equal(tot(l, "outstanding_fen"), 0);
    check = json_object_get(l, "check");
    assert_true(json_is_true(json_object_get(check, "holds")));
    assert_int_equal(json_integer_value(json_object_get(check, "paid_fen")), 48387);
    json_decref(l);

    /* g's: November's 0.00 posts nothing */
    assert_int_equal(report_person(S, &CLI, TG, &l, &err), 0);
    assert_int_equal(json_array_size(json_object_get(l, "postings")), 3);
    assert_int_equal(tot(l, "paid_fen"), 100000);
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
    assert_true(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    json_decref(l);

    /* a posting nothing explains makes the check fail (written here by
     * hand: no service posts payable -> receivable) */
    struct ledger_account ra = {"receivable:person:x", LK_RECEIVABLE, "", "person", TG};
    struct ledger_account pa = {"", LK_PAYABLE, "", "person", TG};
    char pcode[48];
    snprintf(pcode, sizeof pcode, "payable:person:%lld", (long long)TG);
    pa.code = pcode;
    int64_t rid, pid, tid;
    int dup;
    assert_int_equal(ledger_account_id(S, &ra, &rid, &err), 0);
    assert_int_equal(ledger_account_id(S, &pa, &pid, &err), 0);
    struct ledger_transfer t = {"manual:1", pid, rid, 100, "", 0, NULL};
    assert_int_equal(ledger_post(S, &t, &tid, &dup, &err), 0);
    assert_int_equal(report_person(S, &CLI, TG, &l, &err), 0);
    assert_false(json_is_true(json_object_get(json_object_get(l, "check"), "holds")));
    assert_non_null(strstr(str(json_object_get(l, "check"), "en"), "does not hold"));
    assert_string_equal(str(json_array_get(json_object_get(l, "postings"), 3), "kind"), "other");
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
    assert_int_equal(json_array_size(json_object_get(o, "postings")), 7);
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
