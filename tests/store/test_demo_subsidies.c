/* test_demo_subsidies.c - active subsidies made in bulk by the demo
 * (demo_active_subsidies), on SQLite and (with QL_TEST_PG) PostgreSQL: a
 * district of 300 talents whose first 200 are drawn as applicants, 200
 * subsidies decided by the policy engine and written as the workflow
 * would have left them (state, decision, trace, notice, start day, eight
 * events, a filed lease each), then the cycle of November 2026 checked by
 * hand: 200 entitlements, each the whole month of its tier (the tier being
 * the talent's level: 2,000.00, 1,500.00 or 1,000.00 yuan), the third month
 * of the subsidy, the ledger summing to zero. Asking for more people than
 * qualify writes nothing; the permission and the command line are
 * checked. Run from the repository root. */
#include "testutil.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/pii.h"
#include "demo/demo.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static actor CLI;
static char URL[600], KEYS[512];
static char out[65536], errbuf[65536];

static int setup(void **state)
{
    (void)state;
    ql_err err = {0};
    snprintf(URL, sizeof URL, "%s", tu_fresh_store_url());
    snprintf(KEYS, sizeof KEYS, "%s/keys", tu_tmpdir());
    if (store_open(URL, NULL, &S, &err) || store_migrate(S, NULL, &err) ||
        audit_init(KEYS, "blake2b", &err) || pii_init(KEYS, &err)) {
        print_error("store: %s\n", err.en);
        return -1;
    }
    actor_cli(&CLI);
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

static int32_t D(const char *s)
{
    int32_t d = 0;
    if (date_parse(s, &d)) fail_msg("not a date: %s", s);
    return d;
}

static void test_bulk_and_cycle(void **state)
{
    (void)state;
    enum { PEOPLE = 300, SUBSIDIES = 200 };
    struct demo_params p = {.seed = 11, .people = PEOPLE, .applicants = SUBSIDIES};
    demo *d;
    ql_err err = {0};
    assert_int_equal(demo_open(&p, &d, &err), 0);
    struct demo_stored st;
    assert_int_equal(demo_store(S, &CLI, d, NULL, NULL, &st, &err), 0);
    demo_close(d);
    struct demo_rules_loaded rl;
    assert_int_equal(demo_rules(S, &CLI, &rl, &err), 0);
    int64_t leases_before = count("SELECT count(*) FROM leases");

    /* without subsidy.review, or asking for more than qualify: nothing */
    actor clerk = CLI;
    clerk.perms = role_perms(ROLE_WINDOW_CLERK);
    struct demo_subsidies ds;
    assert_int_equal(demo_active_subsidies(S, &clerk, 10, NULL, NULL, &ds, &err), QL_EFORBIDDEN);
    assert_int_equal(demo_active_subsidies(S, &CLI, PEOPLE + 1, NULL, NULL, &ds, &err),
                     QL_ECONFLICT);
    assert_string_equal(err.field, "active_subsidies");
    assert_int_equal(count("SELECT count(*) FROM applications"), 0);
    assert_int_equal(count("SELECT count(*) FROM leases"), leases_before);

    assert_int_equal(demo_active_subsidies(S, &CLI, SUBSIDIES, NULL, NULL, &ds, &err), 0);
    assert_int_equal(ds.made, SUBSIDIES);
    assert_int_equal(ds.start, D("2026-09-01"));
    assert_int_equal(count("SELECT count(*) FROM leases") - leases_before, ds.leases);
    assert_true(ds.leases > SUBSIDIES / 2); /* most people rent outside the platform */

    /* the first 200 talents (the applicants), each active once */
    assert_int_equal(count("SELECT count(*) FROM applications WHERE state = 'active'"), SUBSIDIES);
    assert_int_equal(count("SELECT count(DISTINCT talent_id) FROM applications WHERE talent_id <= "
                           "(SELECT min(id) + 199 FROM talents)"),
                     SUBSIDIES);
    /* the decision the cycle reads, as the review and activation store it:
     * the tier is the talent's level, the notice the 5 working days after
     * publication on 11 August 2026 (12 to 18 August), paid from 1 September */
    char sql[1200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applications a JOIN talents t ON t.id = a.talent_id "
             "WHERE a.eligible = 1 AND a.tier = t.level AND a.payee = 'person' "
             "AND a.policy_version = '2026.1' AND a.employer_id = t.employer_id "
             "AND a.policy_file_id = (SELECT id FROM policy_files WHERE programme = "
             "'district-rent' AND status = 'active') AND a.start_date = %d AND a.end_date IS NULL "
             "AND a.notice_from = %d AND a.notice_to = %d AND a.declared = 1 "
             "AND a.monthly_fen = CASE t.level WHEN 'A' THEN 200000 WHEN 'B' THEN 150000 "
             "ELSE 100000 END",
             D("2026-09-01"), D("2026-08-12"), D("2026-08-18"));
    assert_int_equal(count(sql), SUBSIDIES);
    /* each trace is a decision with months_received; the reference names the id */
    store_rows *r;
    assert_int_equal(store_query(S, "SELECT trace, tier, id, ref FROM applications", NULL, 0, &r),
                     0);
    int traces = 0;
    while (store_step(r) == 1) {
        char ref[40];
        snprintf(ref, sizeof ref, "RS2026-%06lld", (long long)store_col_int(r, 2));
        assert_string_equal(store_col_text(r, 3, NULL), ref);
        json_t *t = json_loads(store_col_text(r, 0, NULL), 0, NULL);
        assert_non_null(t);
        assert_true(json_is_true(json_object_get(t, "eligible")));
        assert_string_equal(json_string_value(json_object_get(t, "tier")),
                            store_col_text(r, 1, NULL));
        assert_string_equal(json_string_value(json_object_get(t, "date")), DEMO_BULK_REVIEWED);
        assert_int_equal(json_integer_value(json_object_get(t, "months_received")), 0);
        assert_true(json_array_size(json_object_get(t, "criteria")) >= 9);
        json_decref(t);
        traces++;
    }
    store_rows_close(r);
    assert_int_equal(traces, SUBSIDIES);
    /* eight events each, the activation with its effective day */
    assert_int_equal(count("SELECT count(*) FROM application_events"), 8 * SUBSIDIES);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM application_events WHERE action = 'activate' AND "
             "from_state = 'approved' AND to_state = 'active' AND effective = %d",
             D("2026-09-01"));
    assert_int_equal(count(sql), SUBSIDIES);
    /* a filed lease covering November for each, and a bank account */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applications a WHERE EXISTS (SELECT 1 FROM leases l WHERE "
             "l.talent_id = a.talent_id AND l.filing_no IS NOT NULL AND l.start_date <= %d AND "
             "COALESCE(l.ended_on, l.end_date) >= %d)",
             D("2026-08-10"), D("2026-11-30"));
    assert_int_equal(count(sql), SUBSIDIES);
    assert_int_equal(count("SELECT count(*) FROM applications a JOIN talents t ON t.id = "
                           "a.talent_id WHERE t.bank_enc IS NOT NULL AND t.bank_masked <> ''"),
                     SUBSIDIES);
    int64_t a = count("SELECT count(*) FROM applications WHERE tier = 'A'");
    int64_t b = count("SELECT count(*) FROM applications WHERE tier = 'B'");
    int64_t c = count("SELECT count(*) FROM applications WHERE tier = 'C'");
    assert_int_equal(a + b + c, SUBSIDIES);
    assert_true(a > 0 && b > 0 && c > 0);
    assert_int_equal(ds.monthly_fen, a * 200000 + b * 150000 + c * 100000);
    /* one audit row per batch; the chain holds */
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'subsidy.bulk_active'"),
                     1);
    audit_report rep;
    assert_int_equal(audit_verify(S, &rep, &err), 0);
    assert_true(rep.ok);
    /* everyone qualifying has one now */
    assert_int_equal(demo_active_subsidies(S, &CLI, PEOPLE - SUBSIDIES + 1, NULL, NULL, &ds, &err),
                     QL_ECONFLICT);

    /* November: the third month of each, the whole month of its tier */
    struct cycle_report cr;
    assert_int_equal(cycle_run(S, &CLI, D("2026-11-01"), NULL, NULL, &cr, &err), 0);
    assert_int_equal(cr.entitlements, SUBSIDIES);
    assert_int_equal(cr.paid, SUBSIDIES);
    assert_int_equal(cr.total_fen, a * 200000 + b * 150000 + c * 100000);
    assert_int_equal(count("SELECT count(*) FROM entitlements WHERE month_index = 3 AND days = 30 "
                           "AND amount_fen = CASE tier WHEN 'A' THEN 200000 WHEN 'B' THEN 150000 "
                           "WHEN 'C' THEN 100000 END AND payee_type = 'person' AND payee_id = "
                           "talent_id AND transfer_id IS NOT NULL"),
                     SUBSIDIES);
    int64_t sum = -1, transfers = 0;
    assert_int_equal(ledger_check(S, &sum, &transfers, &err), 0);
    assert_int_equal(sum, 0);
    assert_int_equal(transfers, SUBSIDIES);
}

static int run(const char *const *args)
{
    return tu_run(args, NULL, out, sizeof out, errbuf, sizeof errbuf);
}

static void expect_usage(const char *const *args, const char *words)
{
    int rc = run(args);
    if (rc != 2) fail_msg("exit %d, expected 2: %s", rc, errbuf);
    assert_non_null(strstr(errbuf, "--active-subsidies"));
    if (words) assert_non_null(strstr(errbuf, words));
}

static void test_command(void **state)
{
    (void)state;
    store_close(S); /* the command opens the store itself */
    S = NULL;
    assert_int_equal(run((const char *[]){"demo", "--help", NULL}), 0);
    assert_non_null(strstr(out, "--active-subsidies M"));
    expect_usage((const char *[]){"demo", "--people", "10", "--active-subsidies", "11", NULL},
                 "number of people");
    expect_usage((const char *[]){"demo", "--active-subsidies", "x", NULL}, NULL);
    expect_usage((const char *[]){"demo", "--active-subsidies", "-1", NULL}, NULL);
    expect_usage(
        (const char *[]){"demo", "--people", "10", "--active-subsidies", "5", "--csv", "x", NULL},
        "--csv");
    const char *args[] = {"demo", "--people",   "120", "--active-subsidies", "60",   "--store",
                          URL,    "--keys-dir", KEYS,  "--log-level",        "warn", NULL};
    int rc = run(args);
    if (rc) fail_msg("demo: exit %d: %s", rc, errbuf);
    assert_non_null(strstr(out, "made 60 active subsidies of district-rent"));
    assert_non_null(strstr(out, "paid from 2026-09-01"));
    assert_non_null(strstr(out, "made 0 subsidy applications"));
    const char *cycle[] = {"cycle",      "run", "2026-11",     "--store", URL,
                           "--keys-dir", KEYS,  "--log-level", "warn",    NULL};
    rc = run(cycle);
    if (rc) fail_msg("cycle: exit %d: %s", rc, errbuf);
    assert_non_null(strstr(out, "60 subsidies, 60 paid"));
    /* a year's budget above 100,000,000 yuan, as a million subsidies need */
    const char *budget[] = {"cycle",   "budget", "district-rent", "2026", "20000000000",
                            "--store", URL,      "--keys-dir",    KEYS,   "--log-level",
                            "warn",    NULL};
    rc = run(budget);
    if (rc) fail_msg("budget: exit %d: %s", rc, errbuf);
    assert_non_null(strstr(out, "20000000000.00 yuan"));
    budget[4] = "1000000000000.01";
    assert_int_equal(run(budget), 2);
    assert_non_null(strstr(errbuf, "at most 1000000000000.00"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {T(test_bulk_and_cycle), T(test_command)};
    return cmocka_run_group_tests_name(
        tu_pg_url() ? "demo subsidies (PostgreSQL)" : "demo subsidies (SQLite)", tests, NULL, NULL);
}
