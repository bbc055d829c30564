/* test_cycle_cli.c - `qianlima cycle` as scripts see it, on SQLite and (with
 * QL_TEST_PG) PostgreSQL: help, usage errors (exit 2), a month computed on
 * the demo district and computed again without change, a month shown as
 * JSON, an unknown month (exit 1); approved by a second person, exported
 * as fixed-width files (mode 0600) and again without change, its payments
 * listed, a result file with mismatches reported, re-queue, collect and
 * close refused with their reasons; the audit chain intact afterwards. */
#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "auth/session.h"
#include "core/date.h"
#include "ledger/cycle.h"
#include "store/store.h"

#include <sys/stat.h>

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
    /* approving names the approver: --as an account, its password on
     * standard input; the command line by itself approves nothing */
    const char *const approve[] = {"cycle", "approve", "2026-10", NULL};
    assert_int_equal(tu_cli(&srv, approve, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "--as USERNAME is required"));
    assert_non_null(strstr(err, "须提供 --as"));
    /* confirmed by tu.security */
    tu_add_user_keep(&srv, "fin.one", "finance", NULL, "Ledger-Finch-2026");
    tu_add_user_keep(&srv, "rev.one", "reviewer", NULL, "Review-Heron-2026");
    const char *const as_fin[] = {"cycle", "approve", "2026-10", "--as", "fin.one", NULL};
    assert_int_equal(tu_cli(&srv, as_fin, "Wrong-Finch-2026\n", out, sizeof out, err, sizeof err),
                     1);
    assert_non_null(strstr(err, "password"));
    assert_int_equal(tu_cli(&srv, as_fin, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "no password on standard input"));
    const char *const as_rev[] = {"cycle", "approve", "2026-10", "--as", "rev.one", NULL};
    assert_int_equal(tu_cli(&srv, as_rev, "Review-Heron-2026\n", out, sizeof out, err, sizeof err),
                     1);
    assert_non_null(strstr(err, "ledger.approve"));
    assert_int_equal(tu_cli(&srv, show, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "\"state\": \"computed\""));
    assert_int_equal(tu_cli(&srv, as_fin, "Ledger-Finch-2026\n", out, sizeof out, err, sizeof err),
                     0);
    assert_non_null(strstr(out, "cycle 2026-10: approved"));
    assert_int_equal(tu_cli(&srv, show, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "\"approved_by\": \"fin.one\""));
    /* four eyes: a month computed by fin.one (here in process) is not
     * approved by fin.one on the command line */
    store *st;
    ql_err e;
    assert_int_equal(store_open(srv.store_url, NULL, &st, &e), 0);
    assert_int_equal(audit_init(srv.keys_dir, "blake2b", &e), 0);
    actor fin;
    memset(&fin, 0, sizeof fin);
    int64_t fin_id = 0;
    assert_int_equal(store_query_int(st, "SELECT id FROM users WHERE username = 'fin.one'", NULL, 0,
                                     &fin_id),
                     0);
    assert_int_equal(auth_load_user(st, fin_id, &fin, NULL), 0);
    fin.via = VIA_SESSION;
    fin.perms = roles_perms(fin.roles);
    assert_true(actor_can(&fin, P_LEDGER_RUN));
    int32_t nov;
    assert_int_equal(date_parse_month("2026-11", &nov), 0);
    struct cycle_report rep;
    assert_int_equal(cycle_run(st, &fin, nov, NULL, NULL, &rep, &e), 0);
    store_close(st);
    const char *const again[] = {"cycle", "approve", "2026-11", "--as", "fin.one", NULL};
    assert_int_equal(tu_cli(&srv, again, "Ledger-Finch-2026\n", out, sizeof out, err, sizeof err),
                     1);
    assert_non_null(strstr(err, "a second person approves it"));

    /* export: usage errors, then fixed-width files in batches of 20 */
    char dir[400], file[500];
    snprintf(dir, sizeof dir, "%s/bank", srv.dir);
    mkdir(dir, 0700);
    const char *const noout[] = {"cycle", "export", "2026-10", NULL};
    assert_int_equal(tu_cli(&srv, noout, NULL, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "--out DIR"));
    const char *const xml[] = {"cycle", "export", "2026-10", "--out", dir, "--format", "xml", NULL};
    assert_int_equal(tu_cli(&srv, xml, NULL, out, sizeof out, err, sizeof err), 2);
    const char *const zero[] = {"cycle", "export",       "2026-10", "--out",
                                dir,     "--batch-size", "0",       NULL};
    assert_int_equal(tu_cli(&srv, zero, NULL, out, sizeof out, err, sizeof err), 2);
    const char *const exp[] = {"cycle",    "export", "2026-10",      "--out", dir,
                               "--format", "fixed",  "--batch-size", "20",    NULL};
    assert_int_equal(tu_cli(&srv, exp, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "cycle 2026-10: exported;"));
    snprintf(file, sizeof file, "%s/QLM202610-0001.txt", dir);
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(tu_cli(&srv, exp, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "exported before, nothing changed"));
    const char *const pays[] = {"cycle", "payments", "2026-10", "--state", "sent", NULL};
    assert_int_equal(tu_cli(&srv, pays, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, " sent "));
    assert_non_null(strstr(out, "QLM202610-0001"));

    /* a result file naming an unknown payment: listed, nothing changed */
    snprintf(file, sizeof file, "%s/result.csv", srv.dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("batch_no,request_id,account,amount,status,message\n"
          "QLM202610-0001,202610-999999-1,6222021001000000011,1.00,S,\n",
          f);
    fclose(f);
    const char *const imp[] = {"cycle", "import", "2026-10", file, NULL};
    assert_int_equal(tu_cli(&srv, imp, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "1 rows: 0 paid, 0 failed, 0 taken in before,"));
    assert_non_null(strstr(out, "[unknown_id]"));
    assert_non_null(strstr(out, "[missing]")); /* the batch's payments no row named */
    assert_int_equal(tu_cli(&srv, imp, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "taken in before, nothing changed"));
    const char *const rq[] = {"cycle", "requeue", "202610-999999-1", "--reason", "retry", NULL};
    assert_int_equal(tu_cli(&srv, rq, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "no payment has request id"));
    const char *const col[] = {"cycle", "collect", "person:1", "1.00", "--reference", "R1", NULL};
    assert_int_equal(tu_cli(&srv, col, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "owes 0.00 yuan"));
    const char *const cl[] = {"cycle", "close", "2026-10", NULL};
    assert_int_equal(tu_cli(&srv, cl, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "payments not settled"));

    /* a month that cannot be paid yet, asked for on the command line */
    const char *const ahead[] = {"cycle", "run", "2099-01", NULL};
    assert_int_equal(tu_cli(&srv, ahead, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "cannot be paid yet"));
    assert_non_null(strstr(err, "尚不能发放"));
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
