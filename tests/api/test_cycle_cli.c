/* test_cycle_cli.c - `qianlima cycle` as scripts see it, on SQLite and (with
 * QL_TEST_PG) PostgreSQL: help, usage errors (exit 2), a month computed on
 * the demo district and computed again without change, a month shown as
 * JSON, an unknown month (exit 1); the audit chain intact afterwards. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[65536], err[65536];

static void test_cycle_cli(void **state)
{
    (void)state;
    const char *const help[] = {"cycle", "--help", NULL};
    assert_int_equal(tu_run(help, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "qianlima cycle run YYYY-MM"));
    const char *const none[] = {"cycle", NULL};
    assert_int_equal(tu_run(none, NULL, out, sizeof out, err, sizeof err), 2);
    struct tu_server srv;
    tu_server_start(&srv, NULL);
    const char *const bad[] = {"cycle", "run", "2026-13", NULL};
    assert_int_equal(tu_cli(&srv, bad, NULL, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "YYYY-MM"));
    const char *const demo[] = {"demo", "--people", "300", "--seed", "1", NULL};
    assert_int_equal(tu_cli(&srv, demo, NULL, out, sizeof out, err, sizeof err), 0);
    const char *const run[] = {"cycle", "run", "2026-10", NULL};
    assert_int_equal(tu_cli(&srv, run, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "cycle 2026-10: computed;"));
    assert_int_equal(tu_cli(&srv, run, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "computed before, nothing changed"));
    const char *const show[] = {"cycle", "show", "2026-10", NULL};
    assert_int_equal(tu_cli(&srv, show, NULL, out, sizeof out, err, sizeof err), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "computed");
    assert_true(json_integer_value(json_object_get(j, "total_fen")) > 0);
    assert_true(json_array_size(json_object_get(j, "items")) > 0);
    json_decref(j);
    /* the account that computed it cannot approve it; budgets are set in yuan */
    const char *const budget[] = {"cycle", "budget", "district-rent", "2026", "500000", NULL};
    assert_int_equal(tu_cli(&srv, budget, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "budget of district-rent for 2026: 500000.00 yuan"));
    const char *const badbudget[] = {"cycle", "budget", "district-rent", "26", "1", NULL};
    assert_int_equal(tu_cli(&srv, badbudget, NULL, out, sizeof out, err, sizeof err), 2);
    const char *const approve[] = {"cycle", "approve", "2026-10", NULL};
    assert_int_equal(tu_cli(&srv, approve, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "a second person approves it"));
    const char *const missing[] = {"cycle", "show", "2030-01", NULL};
    assert_int_equal(tu_cli(&srv, missing, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "there is no cycle for 2030-01"));
    const char *const verify[] = {"audit", "verify", NULL};
    assert_int_equal(tu_cli(&srv, verify, NULL, out, sizeof out, err, sizeof err), 0);
    tu_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle_cli),
    };
    return cmocka_run_group_tests_name("cycle cli", tests, NULL, NULL);
}
