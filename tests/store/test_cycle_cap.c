/* test_cycle_cap.c - the yearly cap in the monthly cycle, on SQLite and
 * (with QL_TEST_PG) PostgreSQL: a version of the district programme that
 * pays at most 5,000.00 a calendar year; a tier-A subsidy (2,000.00 a
 * month) from 1 October 2026 is paid 2,000.00 in October and November,
 * 1,000.00 in December (what the cap leaves); in 2027 the same again from
 * January, and nothing in April; each entitlement freezes what the year
 * paid before it (read by the talent's applications from the earlier
 * cycles). Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "auth/perm.h"
#include "core/date.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static actor CLI;
static int64_t EMP;

/* The shipped district policy with another version that caps the year. */
static int activate_capped(void)
{
    size_t len;
    char *text = tu_slurp("policies/district-rent.policy", &len);
    if (!text) return -1;
    const char *ver = strstr(text, "version 2026.1\n"), *cap = strstr(text, "cap months 36\n");
    if (!ver || !cap || cap < ver) {
        free(text);
        return -1;
    }
    size_t n = len + 64;
    char *capped = malloc(n);
    int w = snprintf(capped, n, "%.*sversion 2026.2\n%.*scap months 36\ncap year 5000.00\n%s",
                     (int)(ver - text), text, (int)(cap - ver - strlen("version 2026.1\n")),
                     ver + strlen("version 2026.1\n"), cap + strlen("cap months 36\n"));
    free(text);
    struct policy_saved *sv = malloc(sizeof *sv); /* large: the checks' findings */
    struct policy_activated act;
    ql_err err = {0};
    int rc = !sv || w < 0 || (size_t)w >= n ||
             policy_save(S, &CLI, capped, (size_t)w, "district-rent-capped.policy", sv, &err) ||
             policy_activate(S, &CLI, sv->id, &act, &err);
    if (rc) print_error("capped policy: %s\n", err.en);
    free(sv);
    free(capped);
    return rc ? -1 : 0;
}

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    EMP = fx_employer(S, "91310104MA1FL00001");
    return activate_capped();
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

/* The entitlement of app in month: its amount, version and the year's
 * payments before it as frozen in its inputs. */
static void entitlement(int64_t app, const char *month, int64_t *fen, char version[16],
                        int64_t *year_before)
{
    store_rows *r;
    assert_int_equal(store_query(S,
                                 "SELECT e.amount_fen, e.policy_version, e.inputs FROM "
                                 "entitlements e JOIN cycles c ON c.id = e.cycle_id WHERE "
                                 "e.application_id = $1 AND c.month = $2",
                                 (store_val[]){SV_INT(app), SV_TEXT(month)}, 2, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    *fen = store_col_int(r, 0);
    snprintf(version, 16, "%s", store_col_text(r, 1, NULL));
    json_t *in = json_loads(store_col_text(r, 2, NULL), 0, NULL);
    assert_non_null(in);
    *year_before = json_integer_value(json_object_get(in, "paid_year_before_fen"));
    assert_true(json_is_integer(json_object_get(in, "paid_year_before_fen")));
    json_decref(in);
    store_rows_close(r);
}

static void test_year_cap(void **state)
{
    (void)state;
    int64_t app =
        fx_active_subsidy(S, EMP, "王甲", "A", "6222021001000000011", date_from_ymd(2026, 10, 1));
    static const struct {
        int y, m;
        const char *month;
        int64_t fen, before;
    } want[] = {
        {2026, 10, "2026-10", 200000, 0},      {2026, 11, "2026-11", 200000, 200000},
        {2026, 12, "2026-12", 100000, 400000}, {2027, 1, "2027-01", 200000, 0},
        {2027, 2, "2027-02", 200000, 200000},  {2027, 3, "2027-03", 100000, 400000},
        {2027, 4, "2027-04", 0, 500000},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct cycle_report rep;
        ql_err err;
        if (cycle_run(S, &CLI, date_from_ymd(want[i].y, want[i].m, 1), NULL, NULL, &rep, &err))
            fail_msg("cycle %s: %s", want[i].month, err.en);
        int64_t fen = -1, before = -1;
        char version[16];
        entitlement(app, want[i].month, &fen, version, &before);
        if (fen != want[i].fen || before != want[i].before)
            fail_msg("%s: %lld fen with %lld paid in the year before, want %lld and %lld",
                     want[i].month, (long long)fen, (long long)before, (long long)want[i].fen,
                     (long long)want[i].before);
        assert_string_equal(version, "2026.2");
        assert_int_equal(rep.total_fen, want[i].fen);
    }
    int64_t sum = -1, transfers = 0;
    ql_err err;
    assert_int_equal(ledger_check(S, &sum, &transfers, &err), 0);
    assert_int_equal(sum, 0);
    assert_int_equal(transfers, 6); /* April 2027 paid nothing: no transfer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_year_cap),
    };
    return cmocka_run_group_tests_name("cycle cap", tests, setup, teardown);
}
