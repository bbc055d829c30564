/* test_subsidy_api.c - rental-subsidy applications over the JSON API, on
 * SQLite and (with QL_TEST_PG) PostgreSQL, against a server holding the
 * demo district (`qianlima demo`: the shipped calendar and policies, and
 * applications in every state): an applicant with a filed lease applies,
 * the declarations are needed to submit, the employer attests (the same
 * Idempotency-Key twice does it once), a window accepts, a reviewer reviews
 * (the decision's trace comes back) and publishes the notice, an objection
 * is recorded and settled, approval waits for the notice to end; every list
 * is scoped; bad bodies name their field and change nothing. Run from the
 * repository root. */
#include "idgen.h"
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW     "Harbor-Lantern-2026"
#define ANCHOR "91350100M000100Y43" /* the demo's first employer */

static char out[65536], err[65536];
static struct tu_server srv;
static char h_admin[300], h_clerk[300], h_rev[300], h_rev2[300], h_hr[300], h_app[300];

static void header(char *h, size_t n, const char *user, const char *perms)
{
    char *tok = tu_token(&srv, user, perms);
    snprintf(
        h, n,
        "Authorization: Bearer %s\r\nAccept-Language: en\r\nContent-Type: application/json\r\n",
        tok);
    free(tok);
}

static json_t *call(const char *h, const char *method, const char *path, const char *body, int want)
{
    struct tu_resp r;
    tu_request(srv.port, method, path, h, body, &r);
    if (r.status != want) fail_msg("%s %s: %d, want %d: %s", method, path, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    tu_resp_free(&r);
    if (!j) fail_msg("%s %s: not JSON", method, path);
    return j;
}

/* The error's field of a refused call. */
static void refused(const char *h, const char *method, const char *path, const char *body, int want,
                    const char *field)
{
    json_t *j = call(h, method, path, body, want);
    const char *f = json_string_value(json_object_get(json_object_get(j, "error"), "field"));
    if (field && (!f || strcmp(f, field)))
        fail_msg("%s %s: field %s, want %s", method, path, f ? f : "(none)", field);
    json_decref(j);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t count_apps(void)
{
    json_t *j = call(h_rev, "GET", "/api/v1/applications?per_page=1", NULL, 200);
    int64_t n = json_integer_value(json_object_get(j, "total"));
    json_decref(j);
    return n;
}

static void test_workflow_over_api(void **state)
{
    (void)state;
    tu_server_start(&srv, NULL);
    const char *demo[] = {"demo", "--people", "300", "--seed", "1", NULL};
    assert_int_equal(tu_cli(&srv, demo, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "3 policy file(s)"));
    /* a calendar for the year after 2026 (no holidays: a test fixture, not
     * data), so that a notice published in late December can end */
    char cal[600];
    snprintf(cal, sizeof cal, "%s/2027-test.txt", tu_tmpdir());
    FILE *f = fopen(cal, "w");
    assert_non_null(f);
    fputs("year 2027\n", f);
    fclose(f);
    const char *load[] = {"calendar", "load", cal, NULL};
    assert_int_equal(tu_cli(&srv, load, NULL, out, sizeof out, err, sizeof err), 0);

    tu_add_user(&srv, "api.admin", "admin", "district", PW);
    tu_add_user(&srv, "api.clerk", "window_clerk", "district", PW);
    tu_add_user(&srv, "api.rev", "reviewer", "district", PW);
    tu_add_user(&srv, "api.rev2", "reviewer", "district", PW);
    tu_add_user(&srv, "api.hr", "employer_hr", "employer:" ANCHOR, PW);
    header(h_admin, sizeof h_admin, "api.admin", "registry.read,registry.write");
    header(h_clerk, sizeof h_clerk, "api.clerk", "window.accept,housing.manage,registry.read");
    header(h_rev, sizeof h_rev, "api.rev", "subsidy.review");
    header(h_rev2, sizeof h_rev2, "api.rev2", "subsidy.review");
    header(h_hr, sizeof h_hr, "api.hr", "subsidy.attest");

    /* a talent of the first employer, with a filed lease */
    char id[19], body[1024];
    tu_gen_id(900, id);
    snprintf(body, sizeof body,
             "{\"name\":\"接口人才\",\"id_number\":\"%s\",\"education\":\"硕士\",\"level\":\"B\","
             "\"insurance_months\":12,\"owns_housing\":0,\"employer\":\"" ANCHOR "\","
             "\"employed_since\":\"2024-05-01\"}",
             id);
    json_t *j = call(h_admin, "POST", "/api/v1/talents", body, 201);
    long long tid = (long long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"talent_id\":%lld,\"address\":\"徐汇区漕溪北路 9 号 101 室\","
             "\"start_date\":\"2026-01-01\",\"end_date\":\"2027-12-31\","
             "\"signed_date\":\"2025-12-20\",\"rent\":\"4000\",\"filing_no\":\"WQ-API-1\","
             "\"filed_date\":\"2025-12-25\"}",
             tid);
    json_decref(call(h_clerk, "POST", "/api/v1/leases", body, 201));
    char scope[40];
    snprintf(scope, sizeof scope, "self:%lld", tid);
    tu_add_user(&srv, "api.talent", "talent", scope, PW);
    header(h_app, sizeof h_app, "api.talent", "subsidy.apply");

    /* the applicant starts a draft; a second one is refused */
    int64_t before = count_apps();
    j = call(h_app, "POST", "/api/v1/applications", "{\"declared\":false}", 201);
    long long aid = (long long)json_integer_value(json_object_get(j, "id"));
    char ref[32];
    snprintf(ref, sizeof ref, "%s", str(j, "ref"));
    assert_string_equal(str(j, "state"), "draft");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "allowed"), 0)),
                        "withdraw");
    json_decref(j);
    refused(h_app, "POST", "/api/v1/applications", "{}", 409, "body.programme");
    refused(h_app, "POST", "/api/v1/applications", "{\"programme\":\"nothing\"}", 400,
            "body.programme");
    refused(h_app, "POST", "/api/v1/applications", "{\"declared\":\"yes\"}", 400, "body.declared");
    refused(h_app, "POST", "/api/v1/applications", "{\"talent_id\":1}", 403, "body.talent_id");
    assert_int_equal(count_apps(), before + 1);

    char path[128], apath[128];
    snprintf(path, sizeof path, "/api/v1/applications/%lld/actions", aid);
    snprintf(apath, sizeof apath, "/api/v1/applications/%lld", aid);
    /* submit needs the declaration */
    refused(h_app, "POST", path, "{\"action\":\"submit\"}", 400, "body.declared");
    char dpath[128];
    snprintf(dpath, sizeof dpath, "/api/v1/applications/%lld/declarations", aid);
    j = call(h_app, "POST", dpath, "{\"declared\":true}", 200);
    assert_true(json_is_true(json_object_get(j, "declared")));
    json_decref(j);
    j = call(h_app, "POST", path, "{\"action\":\"submit\"}", 200);
    assert_string_equal(str(j, "state"), "submitted");
    json_decref(j);
    refused(h_app, "POST", dpath, "{\"declared\":true}", 409, "body.state");

    /* the employer attests; the same key again does nothing */
    char hk[400];
    snprintf(hk, sizeof hk, "%sIdempotency-Key: attest-%lld\r\n", h_hr, aid);
    j = call(hk, "POST", path, "{\"action\":\"attest\"}", 200);
    assert_string_equal(str(j, "state"), "attested");
    assert_false(json_is_true(json_object_get(j, "unchanged")));
    int64_t ev = json_integer_value(json_object_get(j, "event_id"));
    json_decref(j);
    j = call(hk, "POST", path, "{\"action\":\"attest\"}", 200);
    assert_true(json_is_true(json_object_get(j, "unchanged")));
    assert_int_equal(json_integer_value(json_object_get(j, "event_id")), ev);
    json_decref(j);
    refused(h_app, "POST", path, "{\"action\":\"accept\"}", 403, NULL);
    refused(h_rev, "POST", path, "{\"action\":\"review\"}", 409, "body.state");
    j = call(h_clerk, "POST", path, "{\"action\":\"accept\"}", 200);
    assert_string_equal(str(j, "state"), "accepted");
    json_decref(j);

    /* the review: the decision with its trace */
    j = call(h_rev, "POST", path, "{\"action\":\"review\",\"request_key\":\"rev-1\"}", 200);
    assert_string_equal(str(j, "state"), "reviewed");
    json_t *dec = json_object_get(j, "decision");
    if (!json_is_true(json_object_get(j, "eligible"))) {
        char *t = json_dumps(dec, JSON_COMPACT);
        fail_msg("not eligible: %s", t);
    }
    assert_string_equal(str(j, "tier"), "B");
    assert_int_equal(json_integer_value(json_object_get(j, "monthly_fen")), 150000);
    json_t *c1 = json_array_get(json_object_get(dec, "criteria"), 1);
    assert_string_equal(str(c1, "id"), "age");
    assert_string_equal(str(json_object_get(c1, "inputs"), "education"), "master");
    json_decref(j);

    /* the notice: 5 working days from the calendar; approval waits for its end */
    j = call(h_rev, "POST", path, "{\"action\":\"publish\"}", 200);
    assert_string_equal(str(j, "state"), "notice");
    char from[16], to[16];
    snprintf(from, sizeof from, "%s", str(j, "notice_from"));
    snprintf(to, sizeof to, "%s", str(j, "notice_to"));
    assert_true(strcmp(from, to) < 0);
    json_decref(j);
    refused(h_rev2, "POST", path, "{\"action\":\"approve\"}", 409, "body.notice");
    /* who reviewed does not approve (four eyes) */
    refused(h_rev, "POST", path, "{\"action\":\"approve\"}", 403, NULL);
    j = call(h_rev, "GET", "/api/v1/notices", NULL, 200);
    int seen = 0;
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(j, "items"), i, n)
    {
        if (!strcmp(str(n, "ref"), ref)) {
            seen = 1;
            assert_string_equal(str(n, "name"), "接***");
            assert_string_equal(str(n, "monthly_yuan"), "1500.00");
        }
    }
    assert_true(seen);
    json_decref(j);

    /* an objection during the notice, and its settlement */
    char opath[128];
    snprintf(opath, sizeof opath, "/api/v1/applications/%lld/objections", aid);
    refused(h_clerk, "POST", opath, "{\"source\":\"来信\"}", 400, "body.text");
    refused(h_clerk, "POST", opath,
            "{\"source\":\"来信\",\"text\":\"x\",\"received_on\":\"2020-01-01\"}", 400,
            "body.received_on");
    refused(h_hr, "POST", opath, "{\"source\":\"来信\",\"text\":\"x\"}", 403, NULL);
    snprintf(body, sizeof body,
             "{\"source\":\"来信\",\"text\":\"反映其配偶有房\",\"received_on\":\"%s\"}", from);
    j = call(h_clerk, "POST", opath, body, 201);
    long long oid = (long long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    char spath[96];
    snprintf(spath, sizeof spath, "/api/v1/objections/%lld/settle", oid);
    refused(h_rev, "POST", spath, "{\"upheld\":\"no\",\"resolution\":\"x\"}", 400, "body.upheld");
    refused(h_clerk, "POST", spath, "{\"upheld\":false,\"resolution\":\"x\"}", 403, NULL);
    /* nor settles the objections to the decision */
    refused(h_rev, "POST", spath, "{\"upheld\":false,\"resolution\":\"经核实无房\"}", 403, NULL);
    j = call(h_rev2, "POST", spath, "{\"upheld\":false,\"resolution\":\"经核实无房\"}", 200);
    json_decref(j);
    refused(h_rev2, "POST", spath, "{\"upheld\":true,\"resolution\":\"again\"}", 409, NULL);
    refused(h_rev, "POST", "/api/v1/objections/99999/settle",
            "{\"upheld\":true,\"resolution\":\"x\"}", 404, NULL);
    j = call(h_app, "GET", apath, NULL, 200);
    json_t *ob = json_array_get(json_object_get(j, "objections"), 0);
    assert_string_equal(str(ob, "outcome"), "dismissed");
    assert_int_equal(json_array_size(json_object_get(j, "events")), 6); /* create..publish */
    json_decref(j);

    /* bad actions name their field and change nothing */
    refused(h_rev, "POST", path, "{}", 400, "body.action");
    refused(h_rev, "POST", path, "{\"action\":\"frob\"}", 400, "body.action");
    refused(h_rev, "POST", path, "{\"action\":\"end\",\"effective\":\"soon\"}", 400,
            "body.effective");
    refused(h_rev, "POST", path, "{\"action\":\"reject\",\"reason\":5}", 400, "body.reason");
    refused(h_rev, "POST", path, "{\"action\":\"withdraw\",\"request_key\":\"\"}", 400,
            "body.request_key");
    refused(h_rev, "POST", "/api/v1/applications/99999/actions", "{\"action\":\"review\"}", 404,
            NULL);
    j = call(h_rev, "GET", apath, NULL, 200);
    assert_string_equal(str(j, "state"), "notice");
    json_decref(j);

    /* scopes: the applicant sees its own; the employer its staff's; an
     * account with no part in the workflow nothing */
    j = call(h_app, "GET", "/api/v1/applications", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    j = call(h_hr, "GET", "/api/v1/applications?per_page=200", NULL, 200);
    json_array_foreach(json_object_get(j, "items"), i, n)
    {
        assert_string_equal(str(n, "employer_name"),
                            str(json_array_get(json_object_get(j, "items"), 0), "employer_name"));
    }
    json_decref(j);
    refused(h_admin, "GET", "/api/v1/applications", NULL, 403, NULL);
    refused(h_rev, "GET", "/api/v1/applications?state=frob", NULL, 400, "state");
    j = call(h_rev, "GET", "/api/v1/applications?state=active", NULL, 200);
    assert_true(json_integer_value(json_object_get(j, "total")) >= 1);
    json_decref(j);
    refused(h_app, "GET", "/api/v1/applications/1", NULL, 404, NULL);

    const char *verify[] = {"audit", "verify", NULL};
    assert_int_equal(tu_cli(&srv, verify, NULL, out, sizeof out, err, sizeof err), 0);
    tu_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workflow_over_api),
    };
    return cmocka_run_group_tests_name("subsidy api", tests, NULL, NULL);
}
