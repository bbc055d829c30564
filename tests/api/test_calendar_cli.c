/* test_calendar_cli.c - `qianlima calendar` as scripts see it, on SQLite and
 * (with QL_TEST_PG) PostgreSQL: help, exit codes 0/1/2, --check stores
 * nothing, load prints what changed, a bad file is reported with its line
 * and column and changes nothing, show and add-workdays answer from the
 * store, and an unloaded year is an error. Run from the repository root. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[65536], err[65536];
static char url[600], keys[600];

static int cal(const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *args[12];
    int n = 0;
    args[n++] = "calendar";
    if (a1) args[n++] = a1;
    if (a2) args[n++] = a2;
    if (a3) args[n++] = a3;
    if (a4) args[n++] = a4;
    args[n++] = "--store";
    args[n++] = url;
    args[n++] = "--keys-dir";
    args[n++] = keys;
    args[n++] = "--log-level=warn";
    args[n] = NULL;
    return tu_run(args, NULL, out, sizeof out, err, sizeof err);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_help_and_usage(void **state)
{
    (void)state;
    assert_int_equal(
        tu_run((const char *[]){"--help", NULL}, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "calendar"));
    assert_int_equal(tu_run((const char *[]){"calendar", "--help", NULL}, NULL, out, sizeof out,
                            err, sizeof err),
                     0);
    assert_non_null(strstr(out, "add-workdays DATE N"));
    assert_int_equal(
        tu_run((const char *[]){"calendar", NULL}, NULL, out, sizeof out, err, sizeof err), 2);
    static const char *verbs[] = {"load", "show", "add-workdays"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tu_run((const char *[]){"calendar", verbs[i], "--help", NULL}, NULL, out,
                                sizeof out, err, sizeof err),
                         0);
        assert_non_null(strstr(out, "--store"));
    }
    assert_non_null(strstr(out, "DATE itself not counted"));
    assert_int_equal(cal("frob", NULL, NULL, NULL), 2);
    assert_non_null(strstr(err, "unknown action 'frob'"));
    assert_int_equal(cal("load", NULL, NULL, NULL), 2);
    assert_int_equal(cal("add-workdays", "2026-01-01", NULL, NULL), 2);
    assert_int_equal(cal("add-workdays", "2026-13-01", "1", NULL), 2);
    assert_non_null(strstr(err, "YYYY-MM-DD"));
    assert_int_equal(cal("add-workdays", "2026-01-01", "0", NULL), 2);
    assert_int_equal(cal("add-workdays", "2026-01-01", "1x", NULL), 2);
    assert_int_equal(cal("show", "20x6", NULL, NULL), 2);
    assert_int_equal(cal("show", "2026", "--bogus", NULL), 2);
}

static void test_load_show_count(void **state)
{
    (void)state;
    /* Nothing loaded: every answer is an error, not weekday arithmetic. */
    assert_int_equal(cal("add-workdays", "2026-03-02", "1", NULL), 1);
    assert_non_null(strstr(err, "2026 is not loaded"));
    assert_non_null(strstr(err, "2026 年的节假日安排尚未加载"));
    assert_int_equal(cal("show", "2026", NULL, NULL), 1);

    /* --check parses and stores nothing. */
    assert_int_equal(cal("load", "data/calendar/2026.txt", "--check", NULL), 0);
    assert_non_null(strstr(out, "33 day(s) off, 6 worked weekend day(s)"));
    assert_int_equal(cal("show", "2026", NULL, NULL), 1);

    /* A bad file: its line and column, exit 1, nothing stored. */
    const char *bad = write_file("bad.txt", "year 2026\noff 2026-01-01 2026-01-03 元旦\n"
                                            "work 2026-01-05 调休\n");
    assert_int_equal(cal("load", bad, NULL, NULL), 1);
    assert_non_null(strstr(err, "bad.txt:3:6: "));
    assert_non_null(strstr(err, "Monday to Friday"));
    assert_non_null(strstr(err, "bad.txt:3:6："));
    assert_int_equal(cal("load", bad, "--check", NULL), 1);
    assert_int_equal(cal("show", "2026", NULL, NULL), 1);
    assert_int_equal(cal("load", "/nonexistent/2026.txt", NULL, NULL), 1);
    assert_non_null(strstr(err, "cannot open"));

    /* Load: every day is new. */
    assert_int_equal(cal("load", "data/calendar/2026.txt", NULL, NULL), 0);
    assert_non_null(strstr(out, "  + 2026-10-10 Sat  work  国庆节调休"));
    assert_non_null(strstr(out,
                           "loaded 2026 from 2026.txt: 33 day(s) off, 6 worked weekend day(s); "
                           "39 day(s) changed"));
    assert_int_equal(cal("show", "2026", NULL, NULL), 0);
    assert_non_null(strstr(out, "2026: 33 day(s) off, 6 worked weekend day(s)"));
    assert_non_null(strstr(out, "  2026-02-14 Sat  work  春节调休"));
    assert_non_null(strstr(out, "  2026-02-23 Mon  off   春节"));
    assert_non_null(strstr(out, "by cli:"));

    /* Hand-checked answers (see tests/unit/test_calendar.c). */
    assert_int_equal(cal("add-workdays", "2026-09-30", "1", NULL), 0);
    assert_string_equal(out, "2026-10-08\n");
    assert_int_equal(cal("add-workdays", "2026-04-30", "5", NULL), 0);
    assert_string_equal(out, "2026-05-11\n");
    assert_int_equal(cal("add-workdays", "2026-02-13", "1", NULL), 0);
    assert_string_equal(out, "2026-02-14\n");
    assert_int_equal(cal("add-workdays", "2026-12-31", "1", NULL), 1);
    assert_non_null(strstr(err, "2027 is not loaded"));

    /* The same file again changes nothing. */
    assert_int_equal(cal("load", "data/calendar/2026.txt", NULL, NULL), 0);
    assert_non_null(strstr(out, "nothing changed"));

    /* A changed file: only the differences are listed. */
    size_t len;
    char *text = tu_slurp("data/calendar/2026.txt", &len);
    assert_non_null(text);
    char *at = strstr(text, "work 2026-10-10");
    assert_non_null(at);
    *at = '\0';
    char *changed = malloc(len + 64);
    assert_non_null(changed);
    snprintf(changed, len + 64, "%soff 2026-12-31 测试\n", text);
    const char *path = write_file("2026b.txt", changed);
    assert_int_equal(cal("load", path, NULL, NULL), 0);
    assert_non_null(strstr(out, "  - 2026-10-10 Sat  work  国庆节调休"));
    assert_non_null(strstr(out, "  + 2026-12-31 Thu  off   测试"));
    assert_null(strstr(out, "2026-01-01"));
    assert_non_null(strstr(out, "replaced 2026 from 2026b.txt: 34 day(s) off, 5 worked weekend "
                                "day(s); 2 day(s) changed"));
    assert_int_equal(cal("add-workdays", "2026-10-09", "1", NULL), 0);
    assert_string_equal(out, "2026-10-12\n");
    free(text);
    free(changed);

    /* Every load that changed something is in the audit chain. */
    const char *args[] = {"audit", "verify", "--store", url, "--keys-dir", keys, NULL};
    assert_int_equal(tu_run(args, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "intact: 2 row(s)"));
}

/* The same calendar through the API, for other systems: a year, and the
 * n-th working day after a date; any signed-in caller, nobody else. */
static void test_api(void **state)
{
    (void)state;
    struct tu_server srv;
    tu_server_start(&srv, NULL);
    tu_add_user(&srv, "someone", "talent", "self", "Harbor-Lantern-2026");
    char *tok = tu_token(&srv, "someone", "registry.read");
    char h[300];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\nAccept-Language: en\r\n", tok);
    free(tok);
    struct tu_resp r;
    /* Not loaded: 404 naming the year, never a guess. */
    tu_request(srv.port, "GET", "/api/v1/calendar/2026", h, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"field\":\"year\""));
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/api/v1/calendar/workdays?from=2026-09-30&n=1", h, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);

    const char *load[] = {"calendar", "load", "data/calendar/2026.txt", NULL};
    assert_int_equal(tu_cli(&srv, load, NULL, out, sizeof out, err, sizeof err), 0);
    tu_request(srv.port, "GET", "/api/v1/calendar/2026", h, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    tu_resp_free(&r);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "off")), 33);
    assert_int_equal(json_array_size(json_object_get(j, "work")), 6);
    assert_int_equal(json_integer_value(json_object_get(j, "working_days")), 248);
    json_t *first = json_array_get(json_object_get(j, "work"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "date")), "2026-01-04");
    json_decref(j);
    /* After the National Day holiday: the next working day is 8 October. */
    tu_request(srv.port, "GET", "/api/v1/calendar/workdays?from=2026-09-30&n=1", h, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"date\":\"2026-10-08\""));
    tu_resp_free(&r);
    /* Bad questions name their field; a year not loaded is 404. */
    tu_request(srv.port, "GET", "/api/v1/calendar/workdays?from=2026-09-30&n=0", h, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"field\":\"n\""));
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/api/v1/calendar/workdays?from=30.9.2026", h, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"field\":\"from\""));
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/api/v1/calendar/workdays?from=2026-12-30&n=5", h, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/api/v1/calendar/2027", h, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);
    /* Without a token: 401. */
    tu_request(srv.port, "GET", "/api/v1/calendar/2026", "", NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    assert_int_equal(tu_server_stop(&srv), 0);
}

int main(void)
{
    snprintf(url, sizeof url, "%s", tu_fresh_store_url());
    snprintf(keys, sizeof keys, "%s/keys", tu_tmpdir());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_load_show_count),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests_name("calendar_cli", tests, NULL, NULL);
}
