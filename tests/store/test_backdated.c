/* test_backdated.c - registry changes that reach back into months already
 * paid (issue 12, item 3), on SQLite and (with QL_TEST_PG) PostgreSQL.
 *
 * The district policy pays tier A 2,000.00, B 1,500.00 and C 1,000.00 a
 * month by days covered (November has 30 days). Eight people, registered
 * and leased through the registry services, get subsidies from 1 October
 * 2026; October and November are computed, paid and reconciled. Then, in
 * December, the registry is changed with dates in November:
 *
 *   P1 (C)  lease ended on 10 November: due 1,000 x 10/30 = 333.33, so
 *           666.67 recovered (the figure, for a 1,000.00 month);
 *   P2 (C)  subsidy suspended 16-30 November (an application event, as
 *           before): 1,000 x 15/30 = 500.00 due, 500.00 recovered;
 *   P3 (B)  employment ended on 20 November: 1,500 x 20/30 = 1,000.00 due,
 *           500.00 recovered;
 *   P4 (A)  owns housing from 16 November: 2,000 x 15/30 = 1,000.00 due,
 *           1,000.00 recovered;
 *   P5 (A)  lease planned to end on 10 November (November paid
 *           2,000 x 10/30 = 666.67) extended to June 2027: 1,333.33 arrears;
 *   P6 (B)  left the employer on 31 October (recorded before November's
 *           cycle, which therefore paid nothing), now employed by another
 *           from 1 November: 1,500.00 arrears;
 *   P7 (C)  lease ended on 5 December, a month no cycle has reached: no
 *           correction, December pays 1,000 x 5/31 = 161.29;
 *   P8 (C)  lease ended on 10 November behind the services (no change
 *           recorded): not corrected, since corrections are found through
 *           the index of changes, not by reading every subsidy; December
 *           pays nothing.
 *
 * December's cycle posts the six corrections, each traced to the change
 * that caused it (the person's ledger names it), and December's
 * entitlements from the facts as they are; January corrects nothing more.
 * Run from the repository root. */
#include "fixtures.h"
#include "idgen.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/date.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "ledger/report.h"
#include "ledger/verify.h"
#include "policy/policy.h"
#include "registry/housing.h"
#include "registry/registry.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static store *S;
static actor CLI, FIN;
static char EMP_A[19], EMP_B[19];

enum { NP = 8 };
static const char *const LEVEL[NP] = {"C", "C", "B", "A", "A", "B", "C", "C"};
static int64_t TALENT[NP], APP[NP], LEASE[NP];

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    FIN = CLI;
    snprintf(FIN.username, sizeof FIN.username, "finance.two");
    FIN.perms = role_perms(ROLE_FINANCE);
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

static void employer(int i, char code[19])
{
    tu_gen_credit(700 + i, code);
    struct employer_input in = {.credit_code = code,
                                .name = i ? "上海乙生物科技有限公司" : "上海甲智能科技有限公司",
                                .industry = "ai",
                                .registered = "yes",
                                .taxed = "yes"};
    reg_report rep;
    ql_err err = {0};
    int64_t id;
    if (registry_employer_create(S, &CLI, &in, &id, &rep, &err)) fail_msg("employer: %s", err.en);
}

/* Person i's registry record, with employer code (NULL: none) from since. */
struct person {
    char name[16], id[19], card[20];
    struct talent_input in;
};

static void person_input(int i, struct person *p, const char *code, const char *since)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "测试人%d", i + 1);
    tu_gen_id(4100 + i, p->id);
    tu_gen_card(4100 + i, p->card);
    struct talent_input in = {.name = p->name,
                              .id_number = p->id,
                              .education = "master",
                              .level = LEVEL[i % NP],
                              .employer = code ? code : "",
                              .employed_since = code ? since : "",
                              .insurance_months = "24",
                              .owns_housing = "no",
                              .bank_account = p->card};
    p->in = in;
}

static void update(int i, const struct talent_input *in)
{
    reg_report rep;
    ql_err err = {0};
    if (registry_talent_update(S, &CLI, TALENT[i], in, &rep, &err))
        fail_msg("update P%d: %s: %s", i + 1, err.field, err.en);
}

static int64_t lease(int64_t talent, int i, const char *end)
{
    char tid[24], filing[24];
    snprintf(tid, sizeof tid, "%lld", (long long)talent);
    snprintf(filing, sizeof filing, "WQ2026-7%06d", i);
    struct lease_input in = {.talent_id = tid,
                             .address = "徐汇区虹桥路 100 号",
                             .start_date = "2026-01-01",
                             .end_date = end,
                             .signed_date = "2026-01-01",
                             .rent = "4500",
                             .filing_no = filing,
                             .filed_date = "2026-01-05"};
    reg_report rep;
    ql_err err = {0};
    int64_t id;
    if (registry_lease_create(S, &CLI, &in, &id, &rep, &err))
        fail_msg("lease P%d: %s: %s", i + 1, err.field, err.en);
    return id;
}

static void end_lease(int i, const char *day)
{
    reg_report rep;
    ql_err err = {0};
    if (registry_lease_end(S, &CLI, LEASE[i], day, "提前退租", &rep, &err))
        fail_msg("end lease P%d: %s", i + 1, err.en);
}

static int64_t adjustment(int i, const char *kind)
{
    store_val v[] = {SV_INT(APP[i]), SV_TEXT(kind)};
    return query("SELECT COALESCE(SUM(amount_fen), 0) FROM adjustments WHERE application_id = $1 "
                 "AND kind = $2",
                 v, 2);
}

static int64_t entitled(int i, const char *month)
{
    store_val v[] = {SV_INT(APP[i]), SV_TEXT(month)};
    return query("SELECT COALESCE(SUM(e.amount_fen), -1) FROM entitlements e JOIN cycles c ON "
                 "c.id = e.cycle_id WHERE e.application_id = $1 AND c.month = $2",
                 v, 2);
}

static int64_t balance(const char *kind, int i)
{
    char code[64];
    snprintf(code, sizeof code, "%s:person:%lld", kind, (long long)TALENT[i]);
    int64_t id = 0, fen = 0;
    store_val v[] = {SV_TEXT(code)};
    if (store_query_int(S, "SELECT id FROM ledger_accounts WHERE code = $1", v, 1, &id)) return 0;
    ql_err err;
    assert_int_equal(ledger_balance(S, id, &fen, &err), 0);
    return fen;
}

/* The ledger sums to zero, verify finds nothing, and each person's paid +
 * payable + in the bank = entitlements + arrears - recoveries. */
static void ledger_holds(void)
{
    int64_t sum = -1, count = 0;
    ql_err err;
    assert_int_equal(ledger_check(S, &sum, &count, &err), 0);
    assert_int_equal(sum, 0);
    struct ledger_verify_report vr;
    assert_int_equal(ledger_verify(S, &CLI, NULL, NULL, &vr, &err), 0);
    assert_int_equal(vr.violations, 0);
    for (int i = 0; i < NP; i++) {
        store_val v[] = {SV_INT(APP[i]), SV_INT(TALENT[i])};
        int64_t ent = query("SELECT COALESCE(SUM(amount_fen), 0) FROM entitlements WHERE "
                            "application_id = $1",
                            v, 1);
        int64_t inbank = query("SELECT COALESCE(SUM(amount_fen), 0) FROM payments WHERE "
                               "payee_type = 'person' AND payee_id = $2 AND state IN ('queued', "
                               "'sent') AND $1 > 0",
                               v, 2);
        assert_int_equal(balance("paid", i) + balance("payable", i) + inbank,
                         ent + adjustment(i, "arrears") - adjustment(i, "recovery"));
    }
}

/* Computes, approves, exports and reconciles month, the bank paying every
 * record of the file. */
static void pay(const char *month)
{
    ql_err err;
    int32_t first;
    assert_int_equal(date_parse_month(month, &first), 0);
    struct cycle_report rep;
    if (cycle_run(S, &CLI, first, NULL, NULL, &rep, &err)) fail_msg("run %s: %s", month, err.en);
    struct cycle_approval ap;
    if (cycle_approve(S, &FIN, month, &ap, &err)) fail_msg("approve: %s", err.en);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/pay-%s", tu_tmpdir(), month);
    mkdir(dir, 0700);
    struct bank_export_opts o = {BANK_CSV, NULL, 0, dir};
    struct bank_export_report xr;
    if (bank_export(S, &CLI, month, &o, NULL, NULL, &xr, &err)) fail_msg("export: %s", err.en);
    if (!xr.payments) return;
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
}

static int64_t pending(void)
{
    return query("SELECT count(*) FROM fact_changes WHERE consumed_by IS NULL", NULL, 0);
}

/* The change recorded for person i (exactly one): its fact, effective day
 * and English summary. */
static void change_of(int i, const char *fact, const char *effective, const char *en)
{
    store_val v[] = {SV_INT(TALENT[i])};
    assert_int_equal(query("SELECT count(*) FROM fact_changes WHERE talent_id = $1", v, 1), 1);
    store_rows *r;
    assert_int_equal(store_query(S,
                                 "SELECT fact, effective, summary_en FROM fact_changes WHERE "
                                 "talent_id = $1",
                                 v, 1, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    char day[16];
    date_format((int32_t)store_col_int(r, 1), day, sizeof day);
    assert_string_equal(store_col_text(r, 0, NULL), fact);
    assert_string_equal(day, effective);
    assert_string_equal(store_col_text(r, 2, NULL), en);
    store_rows_close(r);
}

/* The trace of person i's only correction in their ledger. */
static json_t *correction_trace(int i, json_t **ledger)
{
    ql_err err;
    assert_int_equal(report_person(S, &CLI, TALENT[i], ledger, &err), 0);
    assert_true(json_is_true(json_object_get(json_object_get(*ledger, "check"), "holds")));
    json_t *found = NULL, *p;
    size_t k;
    json_array_foreach(json_object_get(*ledger, "postings"), k, p)
    {
        const char *kind = json_string_value(json_object_get(p, "kind"));
        if (!strcmp(kind, "arrears") || !strcmp(kind, "recovery")) {
            assert_null(found);
            found = json_object_get(p, "trace");
        }
    }
    assert_non_null(found);
    return found;
}

static void test_registry_changes_reach_back(void **state)
{
    (void)state;
    ql_err err;
    employer(0, EMP_A);
    employer(1, EMP_B);
    struct person p[NP];
    for (int i = 0; i < NP; i++) {
        person_input(i, &p[i], EMP_A, "2024-03-01");
        reg_report rep;
        if (registry_talent_create(S, &CLI, &p[i].in, &TALENT[i], &rep, &err))
            fail_msg("talent P%d: %s: %s", i + 1, err.field, err.en);
        LEASE[i] = lease(TALENT[i], i, i == 4 ? "2026-11-10" : "2027-12-31");
        APP[i] = fx_walk_subsidy(S, TALENT[i], "district-rent", date_from_ymd(2026, 10, 1));
    }
    /* the workflow ran in September, not in the second before the cycles:
     * a cycle corrects the subsidies with events (or a policy activated)
     * since the cycle before, and within one second everything would be */
    assert_int_equal(store_exec(S, "UPDATE application_events SET at = at - 864000", NULL, 0, NULL),
                     0);
    assert_int_equal(store_exec(S, "UPDATE policy_files SET activated_at = activated_at - 864000 "
                                   "WHERE activated_at IS NOT NULL",
                                NULL, 0, NULL),
                     0);
    assert_int_equal(cycle_budget_set(S, &FIN, "district-rent", 2026, 10000000, &err), 0);
    assert_int_equal(cycle_budget_set(S, &FIN, "district-rent", 2027, 10000000, &err), 0);
    pay("2026-10");
    assert_int_equal(entitled(0, "2026-10"), 100000);
    assert_int_equal(entitled(3, "2026-10"), 200000);

    /* before November's cycle: P6 leaves the employer on 31 October; no
     * cycle has reached November, so no change is recorded, and November's
     * cycle reads it */
    struct person q;
    person_input(5, &q, NULL, NULL);
    q.in.employed_until = "2026-10-31";
    update(5, &q.in);
    assert_int_equal(query("SELECT count(*) FROM fact_changes", NULL, 0), 0);
    pay("2026-11");
    int64_t nov[NP] = {100000, 100000, 150000, 200000, 66667, 0, 100000, 100000};
    for (int i = 0; i < NP; i++) assert_int_equal(entitled(i, "2026-11"), nov[i]);
    assert_int_equal(query("SELECT count(*) FROM adjustments", NULL, 0), 0);
    ledger_holds();

    /* December: the registry learns what happened in November */
    end_lease(0, "2026-11-10");
    struct app_step st = {AA_SUSPEND, "核查", NULL, date_from_ymd(2026, 12, 2),
                          date_from_ymd(2026, 11, 16)};
    struct app_result res;
    assert_int_equal(subsidy_transition(S, &CLI, APP[1], &st, &res, &err), 0);
    st.action = AA_RESUME;
    st.effective = date_from_ymd(2026, 12, 1);
    assert_int_equal(subsidy_transition(S, &CLI, APP[1], &st, &res, &err), 0);
    person_input(2, &q, NULL, NULL);
    q.in.employed_until = "2026-11-20";
    update(2, &q.in);
    person_input(3, &q, EMP_A, "2024-03-01");
    q.in.owns_housing = "yes";
    q.in.owns_housing_since = "2026-11-16";
    update(3, &q.in);
    {
        char tid[24], filing[24];
        snprintf(tid, sizeof tid, "%lld", (long long)TALENT[4]);
        snprintf(filing, sizeof filing, "WQ2026-7%06d", 4);
        struct lease_input in = {.talent_id = tid,
                                 .address = "徐汇区虹桥路 100 号",
                                 .start_date = "2026-01-01",
                                 .end_date = "2027-06-30",
                                 .signed_date = "2026-01-01",
                                 .rent = "4500",
                                 .filing_no = filing,
                                 .filed_date = "2026-01-05"};
        reg_report rep;
        if (registry_lease_update(S, &CLI, LEASE[4], &in, &rep, &err))
            fail_msg("extend: %s", err.en);
    }
    person_input(5, &q, EMP_B, "2026-11-01");
    update(5, &q.in);
    end_lease(6, "2026-12-05");
    store_val l8[] = {SV_INT(LEASE[7]), SV_INT(date_from_ymd(2026, 11, 10))};
    assert_int_equal(store_exec(S,
                                "UPDATE leases SET status = 'terminated', ended_on = $2 WHERE "
                                "id = $1",
                                l8, 2, NULL),
                     0);

    /* the index holds the five changes that reach back, each once */
    assert_int_equal(query("SELECT count(*) FROM fact_changes", NULL, 0), 5);
    assert_int_equal(pending(), 5);
    char text[200];
    snprintf(text, sizeof text, "lease #%lld ended on 2026-11-10", (long long)LEASE[0]);
    change_of(0, "lease", "2026-11-11", text);
    change_of(2, "employment", "2026-11-21",
              "employment at 上海甲智能科技有限公司 ended on 2026-11-20");
    change_of(3, "housing", "2026-11-16", "owns housing in Shanghai from 2026-11-16");
    snprintf(text, sizeof text, "lease #%lld runs to 2027-06-30 (was to 2026-11-10)",
             (long long)LEASE[4]);
    change_of(4, "lease", "2026-11-11", text);
    change_of(5, "employment", "2026-11-01", "employed by 上海乙生物科技有限公司 from 2026-11-01");

    pay("2026-12");
    /* November corrected, each once */
    assert_int_equal(query("SELECT count(*) FROM adjustments", NULL, 0), 6);
    assert_int_equal(adjustment(0, "recovery"), 66667);  /* 1000 - 1000 x 10/30 */
    assert_int_equal(adjustment(1, "recovery"), 50000);  /* 1000 x 15/30 */
    assert_int_equal(adjustment(2, "recovery"), 50000);  /* 1500 - 1500 x 20/30 */
    assert_int_equal(adjustment(3, "recovery"), 100000); /* 2000 - 2000 x 15/30 */
    assert_int_equal(adjustment(4, "arrears"), 133333);  /* 2000 - 666.67 */
    assert_int_equal(adjustment(5, "arrears"), 150000);  /* nothing paid, all due */
    assert_int_equal(adjustment(6, "arrears") + adjustment(6, "recovery"), 0);
    assert_int_equal(adjustment(7, "arrears") + adjustment(7, "recovery"), 0);
    store_val a1[] = {SV_INT(APP[0])};
    assert_int_equal(query("SELECT due_fen FROM adjustments WHERE application_id = $1", a1, 1),
                     33333);
    assert_int_equal(query("SELECT was_fen FROM adjustments WHERE application_id = $1", a1, 1),
                     100000);
    /* every change taken in by December's cycle, each traced */
    assert_int_equal(pending(), 0);
    assert_int_equal(query("SELECT count(*) FROM fact_changes f JOIN cycles c ON c.id = "
                           "f.consumed_by WHERE c.month = '2026-12'",
                           NULL, 0),
                     5);
    assert_int_equal(query("SELECT count(*) FROM adjustment_causes", NULL, 0), 5);
    store_val a2[] = {SV_INT(APP[1])};
    assert_int_equal(query("SELECT count(*) FROM adjustment_causes c JOIN adjustments a ON a.id "
                           "= c.adjustment_id WHERE a.application_id = $1",
                           a2, 1),
                     0); /* a suspension is the application's own event */
    json_t *o;
    assert_int_equal(cycle_get(S, &FIN, "2026-12", false, &o, &err), 0);
    assert_string_equal(json_string_value(json_object_get(o, "arrears_yuan")), "2833.33");
    assert_string_equal(json_string_value(json_object_get(o, "recovered_yuan")), "2666.67");
    json_decref(o);
    /* December from the facts as they are */
    int64_t dec[NP] = {0, 100000, 0, 0, 200000, 150000, 16129, 0};
    for (int i = 0; i < NP; i++) assert_int_equal(entitled(i, "2026-12"), dec[i]);
    ledger_holds();

    /* the person's ledger names the change */
    char who[128], today[16], zh[300];
    actor_label(&CLI, who);
    date_format(date_today(), today, sizeof today);
    json_t *ledger;
    json_t *tr = correction_trace(0, &ledger);
    assert_string_equal(json_string_value(json_object_get(tr, "kind")), "recovery");
    assert_string_equal(json_string_value(json_object_get(tr, "for_month")), "2026-11");
    json_t *causes = json_object_get(tr, "causes");
    assert_int_equal(json_array_size(causes), 1);
    snprintf(zh, sizeof zh, "租约 #%lld 于 2026-11-10 终止（%s 由 %s 登记）", (long long)LEASE[0],
             today, who);
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "zh")), zh);
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "effective")),
                        "2026-11-11");
    char zh0[300];
    snprintf(zh0, sizeof zh0, "%s", zh);
    json_decref(ledger);
    tr = correction_trace(3, &ledger);
    causes = json_object_get(tr, "causes");
    assert_int_equal(json_array_size(causes), 1);
    snprintf(zh, sizeof zh, "自 2026-11-16 起本人在沪有房（%s 由 %s 登记）", today, who);
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "zh")), zh);
    /* the steps say why: 15 days covered */
    json_t *steps = json_object_get(tr, "steps");
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "en")),
                        "2026-11: covered 2026-11-01 to 2026-11-15, 15 of 30 days (0 suspended)");
    json_decref(ledger);
    tr = correction_trace(2, &ledger);
    steps = json_object_get(tr, "steps");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(steps, 0), "en")),
        "2026-11: covered 2026-11-01 to 2026-11-30, 20 of 30 days (0 suspended, 10 not employed)");
    json_decref(ledger);
    tr = correction_trace(1, &ledger);
    assert_int_equal(json_array_size(json_object_get(tr, "causes")), 0);
    json_decref(ledger);
    /* and so does the command line */
    {
        static char out[65536], errout[65536];
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)TALENT[0]);
        const char *args[] = {"ledger",     "person",      id,  "--store", fx_store_url(),
                              "--keys-dir", fx_keys_dir(), NULL};
        assert_int_equal(tu_run(args, NULL, out, sizeof out, errout, sizeof errout), 0);
        char line[400];
        snprintf(line, sizeof line,
                 "because: lease #%lld ended on 2026-11-10 (recorded on %s by %s)",
                 (long long)LEASE[0], today, who);
        if (!strstr(out, line)) fail_msg("no \"%s\" in:\n%s", line, out);
        snprintf(line, sizeof line, "原因：%s", zh0);
        if (!strstr(out, line)) fail_msg("no \"%s\" in:\n%s", line, out);
    }
    /* December's entitlement of P3 keeps why it is 0, and its steps follow */
    json_t *st3;
    assert_int_equal(cycle_steps(S, APP[2], "2026-12", &st3, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(st3, 0), "en")),
                        "2026-12: no day of the month is covered (0 suspended, 31 not employed)");
    json_decref(st3);

    /* January: nothing more to correct */
    pay("2027-01");
    assert_int_equal(query("SELECT count(*) FROM adjustments", NULL, 0), 6);
    int64_t jan[NP] = {0, 100000, 0, 0, 200000, 150000, 0, 0};
    for (int i = 0; i < NP; i++) assert_int_equal(entitled(i, "2027-01"), jan[i]);
    ledger_holds();
}

/* The dated fields: checked, refused with the field named, and nothing
 * stored by a refused change. */
static void test_dated_fields(void **state)
{
    (void)state;
    ql_err err;
    struct person p;
    person_input(20, &p, EMP_A, "2024-03-01");
    reg_report rep;
    int64_t id;
    /* a date for a home that is not owned; in the future; not a date */
    p.in.owns_housing_since = "2026-05-01";
    assert_int_equal(registry_talent_create(S, &CLI, &p.in, &id, &rep, &err), QL_EINVAL);
    assert_string_equal(err.field, "owns_housing_since");
    p.in.owns_housing = "yes";
    p.in.owns_housing_since = "2099-01-01";
    assert_int_equal(registry_talent_create(S, &CLI, &p.in, &id, &rep, &err), QL_EINVAL);
    assert_string_equal(err.field, "owns_housing_since");
    p.in.owns_housing_since = "2026-13-01";
    assert_int_equal(registry_talent_create(S, &CLI, &p.in, &id, &rep, &err), QL_EINVAL);
    assert_string_equal(err.field, "owns_housing_since");
    /* a new record has no employment to end */
    p.in.owns_housing_since = "2025-05-01";
    p.in.employed_until = "2025-06-01";
    assert_int_equal(registry_talent_create(S, &CLI, &p.in, &id, &rep, &err), QL_EINVAL);
    assert_string_equal(err.field, "employed_until");
    p.in.employed_until = NULL;
    assert_int_equal(registry_talent_create(S, &CLI, &p.in, &id, &rep, &err), 0);
    json_t *t;
    assert_int_equal(registry_talent_get(S, &CLI, id, &t, &err), 0);
    assert_string_equal(json_string_value(json_object_get(t, "owns_housing_since")), "2025-05-01");
    json_decref(t);
    store_val v[] = {SV_INT(id)};
    int64_t audits = query("SELECT count(*) FROM audit_log", NULL, 0);
    int64_t updated = query("SELECT updated_at FROM talents WHERE id = $1", v, 1);
    /* an employment that goes on cannot end; one cannot end before it began */
    p.in.employed_until = "2025-06-01";
    assert_int_equal(registry_talent_update(S, &CLI, id, &p.in, &rep, &err), QL_EINVAL);
    assert_string_equal(err.field, "employed_until");
    p.in.employer = "";
    p.in.employed_since = "";
    p.in.employed_until = "2024-02-01";
    assert_int_equal(registry_talent_update(S, &CLI, id, &p.in, &rep, &err), QL_EINVAL);
    assert_string_equal(err.field, "employed_until");
    assert_non_null(strstr(err.en, "2024-03-01"));
    /* a change of employer ends the current one before the new one begins */
    p.in.employer = EMP_B;
    p.in.employed_since = "2025-06-01";
    p.in.employed_until = "2025-06-01";
    assert_int_equal(registry_talent_update(S, &CLI, id, &p.in, &rep, &err), QL_EINVAL);
    assert_string_equal(err.field, "employed_until");
    /* nothing changed by the refusals */
    assert_int_equal(query("SELECT count(*) FROM audit_log", NULL, 0), audits);
    assert_int_equal(query("SELECT updated_at FROM talents WHERE id = $1", v, 1), updated);
    assert_int_equal(query("SELECT count(*) FROM employments WHERE talent_id = $1 AND end_date IS "
                           "NULL",
                           v, 1),
                     1);
    /* a gap between two employers: the first ends on 31 May, the next from 10 June */
    p.in.employed_until = "2025-05-31";
    p.in.employed_since = "2025-06-10";
    assert_int_equal(registry_talent_update(S, &CLI, id, &p.in, &rep, &err), 0);
    assert_int_equal(registry_talent_get(S, &CLI, id, &t, &err), 0);
    json_t *emp = json_object_get(t, "employments");
    assert_int_equal(json_array_size(emp), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(emp, 0), "end_date")),
                        "2025-05-31");
    assert_string_equal(json_string_value(json_object_get(json_array_get(emp, 1), "start_date")),
                        "2025-06-10");
    /* the day of the home stays when it is not given again; no home, no day */
    assert_string_equal(json_string_value(json_object_get(t, "owns_housing_since")), "2025-05-01");
    json_decref(t);
    p.in.employed_until = NULL;
    p.in.owns_housing_since = NULL;
    assert_int_equal(registry_talent_update(S, &CLI, id, &p.in, &rep, &err), 0);
    assert_int_equal(query("SELECT housing_from FROM talents WHERE id = $1", v, 1),
                     date_from_ymd(2025, 5, 1));
    p.in.owns_housing = "no";
    assert_int_equal(registry_talent_update(S, &CLI, id, &p.in, &rep, &err), 0);
    assert_int_equal(
        query("SELECT count(*) FROM talents WHERE id = $1 AND housing_from IS NULL", v, 1), 1);
    /* newly yes without a day: from today */
    p.in.owns_housing = "yes";
    assert_int_equal(registry_talent_update(S, &CLI, id, &p.in, &rep, &err), 0);
    assert_int_equal(query("SELECT housing_from FROM talents WHERE id = $1", v, 1), date_today());
    /* the schema keeps a day only with a home */
    assert_int_not_equal(
        store_exec(S, "UPDATE talents SET owns_housing = 0 WHERE id = $1", v, 1, NULL), 0);
}

/* ---- paid to the apartment's operator ------------------------------------ */

/* A store of its own: the talent-apartment programme (1,200.00 a month,
 * never more than the rent, paid to the apartment's operator) for two
 * tenants of an operator's apartments from 1 October; October and
 * November computed. In December the registry learns that P1's lease ended
 * on 10 November (1,200 x 10/30 = 400.00 due: 800.00 recovered from the
 * operator's account, though no lease names the operator now) and that
 * P2's rent was 1,000.00 from the lease's start (cap rent: 200.00
 * recovered for October and for November, both naming the change). */
static int64_t OPERATOR;

static int setup_operator(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    size_t len;
    char *text = tu_slurp("policies/talent-apartment.policy", &len);
    struct policy_saved sv;
    struct policy_activated act;
    ql_err err = {0};
    int rc = !text || policy_save(S, &CLI, text, len, "talent-apartment.policy", &sv, &err) ||
             policy_activate(S, &CLI, sv.id, &act, &err);
    free(text);
    if (rc) return -1;
    if (store_insert(S,
                     "INSERT INTO operators (code, name, bank_account, created_at, updated_at) "
                     "VALUES ('op-1', '上海人才公寓运营有限公司', '310066771018010123456', 0, 0)",
                     NULL, 0, &OPERATOR))
        return -1;
    return 0;
}

static int64_t insert(const char *sql, store_val *v, int n)
{
    int64_t id = 0;
    if (store_insert(S, sql, v, n, &id)) fail_msg("%s: %s", sql, store_errmsg(S));
    return id;
}

static void test_operator_payee(void **state)
{
    (void)state;
    ql_err err;
    int64_t emp = fx_employer(S, "91310104MA1FL00001"), unit[2], talent[2], lease[2], app[2];
    for (int i = 0; i < 2; i++) {
        char code[32], name[32], idx[32], filing[32];
        snprintf(code, sizeof code, "HY-%04d", i + 1);
        snprintf(name, sizeof name, "公寓租客%d", i + 1);
        snprintf(idx, sizeof idx, "index-op-%d", i);
        snprintf(filing, sizeof filing, "WQ2026-8%06d", i);
        store_val u[] = {SV_INT(OPERATOR), SV_TEXT(code)};
        unit[i] = insert("INSERT INTO housing_units (operator_id, address, area_cm2, rooms, "
                         "rent_fen, kind, verification_code, status, created_at, updated_at) "
                         "VALUES ($1, '徐汇区人才公寓 1 号', 450000, 1, 450000, "
                         "'talent_apartment', $2, 'leased', 0, 0)",
                         u, 2);
        store_val t[] = {SV_TEXT(name), SV_TEXT(idx), SV_INT(date_from_ymd(1992, 3, 4)),
                         SV_INT(emp)};
        talent[i] = insert("INSERT INTO talents (name, id_enc, id_index, id_masked, id_kind, "
                           "birth_date, sex, education, level, employer_id, employed_since, "
                           "insurance_months, owns_housing, created_at, updated_at) VALUES ($1, "
                           "'x', $2, '1101**********0000', 'resident', $3, 'm', 'master', 'C', "
                           "$4, 19000, 24, 0, 0, 0)",
                           t, 4);
        store_val l[] = {SV_INT(talent[i]), SV_TEXT(filing), SV_INT(date_from_ymd(2026, 1, 1)),
                         SV_INT(date_from_ymd(2027, 12, 31)), SV_INT(unit[i])};
        lease[i] = insert("INSERT INTO leases (talent_id, unit_id, address, start_date, end_date, "
                          "rent_fen, signed_date, filing_no, filed_date, created_at, updated_at) "
                          "VALUES ($1, $5, '徐汇区人才公寓 1 号', $3, $4, 450000, $3, $2, $3, 0, "
                          "0)",
                          l, 5);
        app[i] = fx_walk_subsidy(S, talent[i], "talent-apartment", date_from_ymd(2026, 10, 1));
    }
    assert_int_equal(store_exec(S, "UPDATE application_events SET at = at - 864000", NULL, 0, NULL),
                     0);
    struct cycle_report rep;
    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 10, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 11, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.total_fen, 240000);

    reg_report rr;
    assert_int_equal(registry_lease_end(S, &CLI, lease[0], "2026-11-10", "退租", &rr, &err), 0);
    char tid[24], uid[24], filing[24];
    snprintf(tid, sizeof tid, "%lld", (long long)talent[1]);
    snprintf(uid, sizeof uid, "%lld", (long long)unit[1]);
    snprintf(filing, sizeof filing, "WQ2026-8%06d", 1);
    struct lease_input in = {.talent_id = tid,
                             .unit_id = uid,
                             .start_date = "2026-01-01",
                             .end_date = "2027-12-31",
                             .signed_date = "2026-01-01",
                             .rent = "1000",
                             .filing_no = filing,
                             .filed_date = "2026-01-01"};
    if (registry_lease_update(S, &CLI, lease[1], &in, &rr, &err))
        fail_msg("rent: %s: %s", err.field, err.en);
    assert_int_equal(pending(), 2);

    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 12, 1), NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.corrections, 3);
    store_val a0[] = {SV_INT(app[0])}, a1[] = {SV_INT(app[1])};
    assert_int_equal(query("SELECT amount_fen FROM adjustments WHERE application_id = $1 AND "
                           "kind = 'recovery' AND for_month = '2026-11'",
                           a0, 1),
                     80000); /* 1200 - 1200 x 10/30 */
    /* from the operator that was paid, though no lease names it now */
    char code[64];
    snprintf(code, sizeof code, "payable:operator:%lld", (long long)OPERATOR);
    store_val c[] = {SV_INT(app[0]), SV_TEXT(code)};
    assert_int_equal(query("SELECT count(*) FROM adjustments a JOIN ledger_transfers t ON t.id = "
                           "a.transfer_id JOIN ledger_accounts d ON d.id = t.debit_account WHERE "
                           "a.application_id = $1 AND d.code = $2",
                           c, 2),
                     1);
    assert_int_equal(query("SELECT count(*) FROM ledger_accounts WHERE code = "
                           "'payable:operator:0'",
                           NULL, 0),
                     0);
    assert_int_equal(query("SELECT COALESCE(SUM(amount_fen), 0) FROM adjustments WHERE "
                           "application_id = $1 AND kind = 'recovery'",
                           a1, 1),
                     40000); /* 200.00 for October and for November */
    assert_int_equal(query("SELECT count(*) FROM adjustment_causes x JOIN adjustments a ON a.id "
                           "= x.adjustment_id JOIN fact_changes f ON f.id = x.change_id WHERE "
                           "a.application_id = $1 AND f.summary_en = 'lease #' || CAST(f.source_id "
                           "AS TEXT) || ' rent 1000.00 yuan a month (was 4500.00)'",
                           a1, 1),
                     2);
    assert_int_equal(pending(), 0);
    store_val e0[] = {SV_INT(app[0])}, e1[] = {SV_INT(app[1])};
    assert_int_equal(query("SELECT e.amount_fen FROM entitlements e JOIN cycles c ON c.id = "
                           "e.cycle_id WHERE c.month = '2026-12' AND e.application_id = $1",
                           e0, 1),
                     0);
    assert_int_equal(query("SELECT e.amount_fen FROM entitlements e JOIN cycles c ON c.id = "
                           "e.cycle_id WHERE c.month = '2026-12' AND e.application_id = $1",
                           e1, 1),
                     100000); /* never more than the rent */
    int64_t sum = -1, count = 0;
    assert_int_equal(ledger_check(S, &sum, &count, &err), 0);
    assert_int_equal(sum, 0);
    struct ledger_verify_report vr;
    assert_int_equal(ledger_verify(S, &CLI, NULL, NULL, &vr, &err), 0);
    assert_int_equal(vr.violations, 0);
}

/* ---- a home bought before the subsidy began --------------------------------- */

/* A store of its own: one person (tier C) paid from 15 October (October
 * 1,000 x 17/31 = 548.39, November 1,000.00). In December the registry
 * learns that they have owned a home since 1 October, before the subsidy
 * began: no day of either month was due (the days covered end before they
 * start), both are recovered, and December pays nothing. */
static void test_home_before_start(void **state)
{
    (void)state;
    ql_err err;
    employer(0, EMP_A);
    struct person p;
    person_input(30, &p, EMP_A, "2024-03-01");
    reg_report rep;
    int64_t talent, app;
    if (registry_talent_create(S, &CLI, &p.in, &talent, &rep, &err))
        fail_msg("talent: %s: %s", err.field, err.en);
    lease(talent, 30, "2027-12-31");
    app = fx_walk_subsidy(S, talent, "district-rent", date_from_ymd(2026, 10, 15));
    assert_int_equal(store_exec(S, "UPDATE application_events SET at = at - 864000", NULL, 0, NULL),
                     0);
    struct cycle_report cr;
    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 10, 1), NULL, NULL, &cr, &err), 0);
    assert_int_equal(cr.total_fen, 54839);
    assert_int_equal(cycle_run(S, &CLI, date_from_ymd(2026, 11, 1), NULL, NULL, &cr, &err), 0);
    assert_int_equal(cr.total_fen, 100000);
    p.in.owns_housing = "yes";
    p.in.owns_housing_since = "2026-10-01";
    if (registry_talent_update(S, &CLI, talent, &p.in, &rep, &err))
        fail_msg("update: %s: %s", err.field, err.en);
    if (cycle_run(S, &CLI, date_from_ymd(2026, 12, 1), NULL, NULL, &cr, &err))
        fail_msg("december: %s", err.en);
    assert_int_equal(cr.corrections, 2);
    assert_int_equal(cr.recovered_fen, 54839 + 100000);
    assert_int_equal(cr.total_fen, 0);
    json_t *st;
    assert_int_equal(cycle_steps(S, app, "2026-12", &st, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(st, 0), "en")),
                        "2026-12: no day of the month is covered");
    json_decref(st);
    assert_int_equal(pending(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_changes_reach_back),
        cmocka_unit_test(test_dated_fields),
    };
    const struct CMUnitTest operator_tests[] = {
        cmocka_unit_test(test_operator_payee),
    };
    const struct CMUnitTest start_tests[] = {
        cmocka_unit_test(test_home_before_start),
    };
    int failed = cmocka_run_group_tests_name("backdated", tests, setup, teardown);
    failed +=
        cmocka_run_group_tests_name("backdated_operator", operator_tests, setup_operator, teardown);
    return failed + cmocka_run_group_tests_name("backdated_start", start_tests, setup, teardown);
}
