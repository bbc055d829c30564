/* test_report_api.c - disbursement reports and a person's ledger over the
 * JSON API and the command line, on SQLite and (with QL_TEST_PG)
 * PostgreSQL, against a server holding the demo district with its October
 * and November 2026 cycles computed (`qianlima cycle run`): the totals
 * agree with what `cycle show` says of the same cycles, by every grouping;
 * .xlsx and CSV downloads; a person's ledger for finance and for the person
 * (and no one else's); bad month, year, by and format named in a 400;
 * accounts without the right refused; the audit chain intact afterwards.
 * Run from the repository root. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW "Harbor-Lantern-2026"

static char out[65536], err[65536];
static struct tu_server srv;
static char h_fin[300], h_rev[300], h_talent[300];

static void header(char *h, size_t n, const char *user, const char *perms)
{
    char *tok = tu_token(&srv, user, perms);
    snprintf(h, n, "Authorization: Bearer %s\r\nAccept-Language: en\r\n", tok);
    free(tok);
}

static json_t *call(const char *h, const char *path, int want)
{
    struct tu_resp r;
    tu_request(srv.port, "GET", path, h, NULL, &r);
    if (r.status != want) fail_msg("GET %s: %d, want %d: %s", path, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    tu_resp_free(&r);
    if (!j) fail_msg("GET %s: not JSON", path);
    return j;
}

static void refused(const char *h, const char *path, int want, const char *field)
{
    json_t *j = call(h, path, want);
    const char *f = json_string_value(json_object_get(json_object_get(j, "error"), "field"));
    if (field && (!f || strcmp(f, field)))
        fail_msg("GET %s: field %s, want %s", path, f ? f : "(none)", field);
    json_decref(j);
}

static int64_t num(const json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static json_t *cli_json(const char *const *args)
{
    if (tu_cli(&srv, args, NULL, out, sizeof out, err, sizeof err))
        fail_msg("%s %s: %s", args[0], args[1], err);
    json_t *j = json_loads(out, 0, NULL);
    if (!j) fail_msg("%s %s: not JSON: %s", args[0], args[1], out);
    return j;
}

/* The sum of a report's rows' field k. */
static int64_t rows_sum(const json_t *rep, const char *k)
{
    int64_t s = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(rep, "rows"), i, r) s += num(r, k);
    return s;
}

static void test_reports_over_api_and_cli(void **state)
{
    (void)state;
    tu_server_start(&srv, NULL);
    const char *demo[] = {"demo", "--people", "300", "--seed", "1", NULL};
    assert_int_equal(tu_cli(&srv, demo, NULL, out, sizeof out, err, sizeof err), 0);
    const char *run10[] = {"cycle", "run", "2026-10", NULL};
    const char *run11[] = {"cycle", "run", "2026-11", NULL};
    assert_int_equal(tu_cli(&srv, run10, NULL, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(tu_cli(&srv, run11, NULL, out, sizeof out, err, sizeof err), 0);
    const char *show10[] = {"cycle", "show", "2026-10", NULL};
    const char *show11[] = {"cycle", "show", "2026-11", NULL};
    json_t *oct = cli_json(show10), *nov = cli_json(show11);
    int64_t oct_fen = num(oct, "total_fen"), nov_fen = num(nov, "total_fen");
    assert_true(nov_fen > 0);
    /* a person paid in November, and what both cycles owe them */
    json_t *items = json_object_get(nov, "items");
    int64_t tid = 0, paying = 0, owed = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (num(it, "amount_fen") > 0) paying++;
        if (!tid && num(it, "amount_fen") > 0 &&
            !strcmp(json_string_value(json_object_get(it, "payee_type")), "person"))
            tid = num(it, "talent_id");
    }
    assert_true(tid > 0);
    json_t *both[] = {oct, nov};
    for (int c = 0; c < 2; c++) {
        json_array_foreach(json_object_get(both[c], "items"), i, it)
        {
            if (num(it, "talent_id") == tid) owed += num(it, "amount_fen");
        }
    }
    json_decref(oct);
    json_decref(nov);

    tu_add_user(&srv, "api.fin", "finance", "district", PW);
    tu_add_user(&srv, "api.rev", "reviewer", "district", PW);
    char scope[40];
    snprintf(scope, sizeof scope, "self:%lld", (long long)tid);
    tu_add_user(&srv, "api.talent", "talent", scope, PW);
    header(h_fin, sizeof h_fin, "api.fin", "ledger.export");
    header(h_rev, sizeof h_rev, "api.rev", "subsidy.review");
    header(h_talent, sizeof h_talent, "api.talent", "subsidy.apply");

    /* November by each grouping: the rows add up to the total, which is
     * what the cycle says it pays */
    static const char *const groupings[] = {"programme", "tier", "employer", "payee_type"};
    for (int g = 0; g < 4; g++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/cycles/2026-11/report?by=%s", groupings[g]);
        json_t *j = call(h_fin, path, 200);
        assert_string_equal(json_string_value(json_object_get(j, "by")), groupings[g]);
        json_t *total = json_object_get(j, "total");
        assert_int_equal(num(total, "entitled_fen"), nov_fen);
        assert_int_equal(num(total, "paying"), paying);
        assert_int_equal(num(total, "net_fen"), nov_fen); /* no adjustments in the demo */
        assert_int_equal(rows_sum(j, "entitled_fen"), nov_fen);
        assert_int_equal(rows_sum(j, "paying"), paying);
        assert_true(json_array_size(json_object_get(j, "rows")) > 0);
        json_decref(j);
    }
    json_t *j = call(h_fin, "/api/v1/cycles/2026-11/report", 200); /* programme by default */
    assert_string_equal(json_string_value(json_object_get(j, "by")), "programme");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "rows"), 0), "label")),
        "区人才租房补贴");
    json_decref(j);
    /* the year: both cycles */
    j = call(h_fin, "/api/v1/reports/2026?by=employer", 200);
    assert_int_equal(json_array_size(json_object_get(j, "cycles")), 2);
    assert_int_equal(num(json_object_get(j, "total"), "entitled_fen"), oct_fen + nov_fen);
    assert_int_equal(rows_sum(j, "entitled_fen"), oct_fen + nov_fen);
    json_decref(j);
    j = call(h_fin, "/api/v1/reports/2025", 200);
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 0);
    json_decref(j);

    /* files */
    struct tu_resp r;
    tu_request(srv.port, "GET", "/api/v1/cycles/2026-11/report?by=tier&format=xlsx", h_fin, NULL,
               &r);
    assert_int_equal(r.status, 200);
    assert_true(r.body_len > 100 && r.body[0] == 'P' && r.body[1] == 'K');
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "spreadsheetml"));
    assert_non_null(strstr(tu_header(&r, "Content-Disposition"), "report-2026-11-tier-"));
    assert_non_null(tu_header(&r, "X-Export-Rows"));
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/api/v1/reports/2026?format=csv", h_fin, NULL, &r);
    assert_int_equal(r.status, 200);
    static const char csv_head[] = "\xEF\xBB\xBF年度,补贴项目,项目名称,发放笔数";
    assert_true(r.body_len > sizeof csv_head);
    assert_memory_equal(r.body, csv_head, sizeof csv_head - 1);
    assert_non_null(strstr(r.body, "\r\n2026,合计,,"));
    tu_resp_free(&r);

    /* bad input names its field */
    refused(h_fin, "/api/v1/cycles/2026-11/report?by=salary", 400, "by");
    refused(h_fin, "/api/v1/cycles/2026-11/report?format=pdf", 400, "format");
    refused(h_fin, "/api/v1/reports/2026?by=", 200, NULL); /* empty: the default */
    refused(h_fin, "/api/v1/reports/2026?by=%27%3B--", 400, "by");
    refused(h_fin, "/api/v1/cycles/2026-13/report", 400, "month");
    refused(h_fin, "/api/v1/cycles/11-2026/report", 400, "month");
    refused(h_fin, "/api/v1/cycles/2026-11-01/report", 400, "month");
    refused(h_fin, "/api/v1/reports/26", 400, "year");
    refused(h_fin, "/api/v1/reports/2026-11", 400, "year");
    refused(h_fin, "/api/v1/cycles/2030-01/report", 404, "month");
    /* who may read */
    refused(h_rev, "/api/v1/cycles/2026-11/report", 403, NULL);
    refused(h_rev, "/api/v1/reports/2026?format=xlsx", 403, NULL);
    refused(h_talent, "/api/v1/reports/2026", 403, NULL);
    refused(NULL, "/api/v1/reports/2026", 401, NULL);

    /* the person's ledger: finance, and the person; no one else */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/talents/%lld/ledger", (long long)tid);
    j = call(h_fin, path, 200);
    json_t *totals = json_object_get(j, "totals");
    assert_int_equal(num(totals, "entitled_fen"), owed);
    assert_int_equal(num(totals, "outstanding_fen"), owed); /* nothing paid yet */
    assert_int_equal(num(totals, "paid_fen"), 0);
    assert_true(json_is_true(json_object_get(json_object_get(j, "check"), "holds")));
    json_t *first = json_array_get(json_object_get(j, "postings"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "kind")), "entitlement");
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "trace"), "type")),
                        "entitlement");
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, "id_number"));
    assert_null(strstr(text, "phone"));
    free(text);
    json_decref(j);
    j = call(h_talent, path, 200);
    assert_int_equal(num(json_object_get(j, "totals"), "entitled_fen"), owed);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/talents/%lld/ledger", (long long)tid + 1);
    refused(h_talent, path, 404, "id");
    refused(h_rev, path, 403, NULL);
    refused(h_fin, "/api/v1/talents/99999999/ledger", 404, "id");
    refused(h_fin, "/api/v1/talents/abc/ledger", 404, NULL);

    /* the command line */
    const char *const rep_text[] = {"cycle", "report", "2026-11", "--by", "employer", NULL};
    assert_int_equal(tu_cli(&srv, rep_text, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "disbursement report 2026-11 by employer; cycles: 2026-11"));
    assert_non_null(strstr(out, "total 合计"));
    const char *const rep_json[] = {"cycle", "report", "2026", "--format", "json", NULL};
    j = cli_json(rep_json);
    assert_int_equal(num(json_object_get(j, "total"), "entitled_fen"), oct_fen + nov_fen);
    json_decref(j);
    char file[600];
    snprintf(file, sizeof file, "%s/november.xlsx", tu_tmpdir());
    const char *const rep_xlsx[] = {"cycle", "report", "2026-11", "--out", file, NULL};
    assert_int_equal(tu_cli(&srv, rep_xlsx, NULL, out, sizeof out, err, sizeof err), 0);
    size_t len;
    char *bytes = tu_slurp(file, &len);
    assert_non_null(bytes);
    assert_true(len > 100 && bytes[0] == 'P' && bytes[1] == 'K');
    free(bytes);
    const char *const rep_csv_stdout[] = {"cycle", "report", "2026-11", "--format", "csv", NULL};
    assert_int_equal(tu_cli(&srv, rep_csv_stdout, NULL, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "--out"));
    const char *const rep_bad_by[] = {"cycle", "report", "2026-11", "--by", "salary", NULL};
    assert_int_equal(tu_cli(&srv, rep_bad_by, NULL, out, sizeof out, err, sizeof err), 2);
    const char *const rep_bad_period[] = {"cycle", "report", "26", NULL};
    assert_int_equal(tu_cli(&srv, rep_bad_period, NULL, out, sizeof out, err, sizeof err), 2);
    const char *const rep_missing[] = {"cycle", "report", "2030-01", NULL};
    assert_int_equal(tu_cli(&srv, rep_missing, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "there is no cycle for 2030-01"));
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)tid);
    const char *const person[] = {"ledger", "person", id, NULL};
    assert_int_equal(tu_cli(&srv, person, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "entitlement"));
    assert_non_null(strstr(out, ": holds\n"));
    const char *const person_json[] = {"ledger", "person", id, "--json", NULL};
    j = cli_json(person_json);
    assert_int_equal(num(json_object_get(j, "totals"), "entitled_fen"), owed);
    json_decref(j);
    const char *const person_bad[] = {"ledger", "person", "0", NULL};
    assert_int_equal(tu_cli(&srv, person_bad, NULL, out, sizeof out, err, sizeof err), 2);
    const char *const person_none[] = {"ledger", "person", "99999999", NULL};
    assert_int_equal(tu_cli(&srv, person_none, NULL, out, sizeof out, err, sizeof err), 1);
    const char *const ledger_help[] = {"ledger", "--help", NULL};
    assert_int_equal(tu_cli(&srv, ledger_help, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "qianlima ledger person TALENT_ID"));

    const char *const verify[] = {"audit", "verify", NULL};
    assert_int_equal(tu_cli(&srv, verify, NULL, out, sizeof out, err, sizeof err), 0);
    tu_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_over_api_and_cli),
    };
    return cmocka_run_group_tests_name("report api", tests, NULL, NULL);
}
