/* test_policy_api.c - subsidy policies as scripts and other systems see
 * them, on SQLite and (with QL_TEST_PG) PostgreSQL: `qianlima policy`
 * (help, exit codes, check with line and column, load, activate refused
 * while a file has errors, list, show, decide, simulate) and the JSON API
 * (list and read for any signed-in caller; check, save, activate, simulate
 * for policy.manage only; the decision preview for reviewers; bad bodies
 * named by field, nothing stored). Run from the repository root. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[65536], err[65536];

static const char *write_file(const char *name, const char *text)
{
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static const char *OVERLAP = "programme district-rent\nzh 区\nen District\n"
                             "version a\nfrom 2026-01-01\nto 2026-12-31\n"
                             "tier t\nclause 1\nwhen true\npay 1.00 for 1 month\nzh 档\nen T\n"
                             "version b\nfrom 2026-06-01\n"
                             "tier t\nclause 1\nwhen true\npay 1.00 for 1 month\nzh 档\nen T\n";

static void test_cli(void **state)
{
    (void)state;
    const char *const help[] = {"policy", "--help", NULL};
    assert_int_equal(tu_run(help, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "simulate --policy FILE --month YYYY-MM"));
    const char *const none[] = {"policy", NULL};
    assert_int_equal(tu_run(none, NULL, out, sizeof out, err, sizeof err), 2);
    const char *const frob[] = {"policy", "frob", NULL};
    assert_int_equal(tu_run(frob, NULL, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "unknown action 'frob'"));

    /* check: a good file, a file with check errors (exit 1), a broken one */
    const char *const good[] = {"policy", "check", "policies/district-rent.policy", NULL};
    assert_int_equal(tu_run(good, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "programme district-rent, 1 version(s) (2026.1 2026-01-01..open): "
                                "0 error(s), 0 warning(s)"));
    const char *overlap = write_file("overlap.policy", OVERLAP);
    const char *const bad[] = {"policy", "check", overlap, NULL};
    assert_int_equal(tu_run(bad, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(out, "overlap.policy:14:1: error: version b (from 2026-06-01) overlaps "
                                "version a (2026-01-01 to 2026-12-31)"));
    assert_non_null(strstr(out, "错误：版本 b"));
    const char *broken = write_file("broken.policy", "programme x\nzh 甲\nen A\nversion 1\n"
                                                     "from 2026-01-01\ncriterion c\nclause 1\n"
                                                     "require level >= \"B\"\n");
    const char *const brk[] = {"policy", "check", broken, NULL};
    assert_int_equal(tu_run(brk, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "broken.policy:8:15: level has no order"));
    assert_non_null(strstr(err, "broken.policy:8:15：level 没有大小顺序"));

    /* against a server's store: load, activate, decide, simulate */
    struct tu_server srv;
    tu_server_start(&srv, NULL);
    const char *const demo[] = {"demo", "--people", "400", "--seed", "3", NULL};
    assert_int_equal(tu_cli(&srv, demo, NULL, out, sizeof out, err, sizeof err), 0);
    const char *const load_bad[] = {"policy", "load", overlap, "--activate", NULL};
    assert_int_equal(tu_cli(&srv, load_bad, NULL, out, sizeof out, err, sizeof err), 1);
    /* the demo stored and activated the shipped policies: files 1 to 3,
     * district-rent is file 2 */
    assert_non_null(strstr(out, "stored as policy file 4: 1 error(s)"));
    assert_non_null(
        strstr(err, "policy file 4 cannot be activated: 1 error(s), the first at line 14"));
    const char *const load[] = {"policy", "load", "policies/district-rent.policy", "--activate",
                                NULL};
    assert_int_equal(tu_cli(&srv, load, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "stored as policy file 2 (already stored): 0 error(s)"));
    assert_non_null(strstr(out, "is active already: nothing changed"));
    const char *const list[] = {"policy", "list", NULL};
    assert_int_equal(tu_cli(&srv, list, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "2     district-rent        active   0"));
    assert_non_null(strstr(out, "4     district-rent        draft    1"));
    assert_non_null(strstr(out, "1     degree-3plus3        active   0"));
    const char *const show[] = {"policy", "show", "4", NULL};
    assert_int_equal(tu_cli(&srv, show, NULL, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "# line 14:1: error: version b"));
    const char *const act_bad[] = {"policy", "activate", "x1", NULL};
    assert_int_equal(tu_cli(&srv, act_bad, NULL, out, sizeof out, err, sizeof err), 2);

    const char *const decide[] = {"policy", "decide", "1", "--date", "2026-10-01", NULL};
    assert_int_equal(tu_cli(&srv, decide, NULL, out, sizeof out, err, sizeof err), 0);
    json_t *trace = json_loads(out, 0, NULL);
    assert_non_null(trace);
    assert_string_equal(json_string_value(json_object_get(trace, "version")), "2026.1");
    assert_int_equal(json_array_size(json_object_get(trace, "criteria")), 9);
    assert_int_equal(json_integer_value(json_object_get(trace, "policy_file")), 2);
    json_decref(trace);
    const char *const decide_none[] = {"policy", "decide", "99999", NULL};
    assert_int_equal(tu_cli(&srv, decide_none, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "there is no talent 99999"));

    /* the same text as the active one: nobody gains or loses */
    const char *const same[] = {"policy",  "simulate", "--policy", "policies/district-rent.policy",
                                "--month", "2026-10",  "--json",   NULL};
    assert_int_equal(tu_cli(&srv, same, NULL, out, sizeof out, err, sizeof err), 0);
    json_t *res = json_loads(out, 0, NULL);
    assert_non_null(res);
    assert_int_equal(json_integer_value(json_object_get(res, "people")), 400);
    assert_int_equal(json_integer_value(json_object_get(res, "gain")), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "lose")), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "budget_change_fen")), 0);
    json_decref(res);
    const char *const sim_bad[] = {"policy",  "simulate", "--policy", overlap,
                                   "--month", "2026-10",  NULL};
    assert_int_equal(tu_cli(&srv, sim_bad, NULL, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "has 1 error(s): fix them first"));
    const char *const sim_month[] = {
        "policy",  "simulate", "--policy", "policies/district-rent.policy",
        "--month", "2026-13",  NULL};
    assert_int_equal(tu_cli(&srv, sim_month, NULL, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "--month must be YYYY-MM"));

    const char *const verify[] = {"audit", "verify", NULL};
    assert_int_equal(tu_cli(&srv, verify, NULL, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(tu_server_stop(&srv), 0);
}

static char *body_with_source(const char *text, const char *extra)
{
    json_t *o = json_pack("{ss}", "source", text);
    if (extra) {
        json_t *e = json_loads(extra, 0, NULL);
        assert_non_null(e);
        json_object_update(o, e);
        json_decref(e);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static json_t *reply(struct tu_resp *r, int status)
{
    if (r->status != status) fail_msg("status %d, want %d: %s", r->status, status, r->body);
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    assert_non_null(j);
    tu_resp_free(r);
    return j;
}

static void test_api(void **state)
{
    (void)state;
    struct tu_server srv;
    tu_server_start(&srv, NULL);
    const char *const demo[] = {"demo", "--people", "300", "--seed", "5", NULL};
    assert_int_equal(tu_cli(&srv, demo, NULL, out, sizeof out, err, sizeof err), 0);
    tu_add_user(&srv, "pol.admin", "admin", "district", "Harbor-Lantern-2026");
    tu_add_user(&srv, "pol.reviewer", "reviewer", "district", "Harbor-Lantern-2026");
    tu_add_user(&srv, "pol.talent", "talent", "self", "Harbor-Lantern-2026");
    char *ta = tu_token(&srv, "pol.admin", "policy.manage");
    char *tr = tu_token(&srv, "pol.reviewer", "subsidy.review");
    char *tt = tu_token(&srv, "pol.talent", "registry.read");
    char ha[300], hr[300], ht[300];
    snprintf(ha, sizeof ha,
             "Authorization: Bearer %s\r\nAccept-Language: en\r\n"
             "Content-Type: application/json\r\n",
             ta);
    snprintf(hr, sizeof hr, "Authorization: Bearer %s\r\nAccept-Language: en\r\n", tr);
    snprintf(ht, sizeof ht,
             "Authorization: Bearer %s\r\nAccept-Language: en\r\n"
             "Content-Type: application/json\r\n",
             tt);
    free(ta);
    free(tr);
    free(tt);
    size_t len;
    char *district = tu_slurp("policies/district-rent.policy", &len);
    assert_non_null(district);
    struct tu_resp r;

    /* check: findings with their places; nothing stored */
    char *b = body_with_source(OVERLAP, NULL);
    tu_request(srv.port, "POST", "/api/v1/policies/check", ha, b, &r);
    json_t *j = reply(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "errors")), 1);
    json_t *is = json_array_get(json_object_get(j, "issues"), 0);
    assert_int_equal(json_integer_value(json_object_get(is, "line")), 14);
    assert_non_null(strstr(json_string_value(json_object_get(is, "zh")), "时间重叠"));
    json_decref(j);
    /* the talent may not check, save or simulate */
    tu_request(srv.port, "POST", "/api/v1/policies/check", ht, b, &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    tu_request(srv.port, "POST", "/api/v1/policies", ht, b, &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    free(b);
    /* the demo's three shipped policies */
    tu_request(srv.port, "GET", "/api/v1/policies", hr, NULL, &r);
    j = reply(&r, 200);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
    json_decref(j);

    /* bad bodies name their field and store nothing */
    static const struct {
        const char *body, *field, *what;
    } bad[] = {
        {"{}", "body.source", "policy text"},
        {"{\"source\": 5}", "body.source", "policy text"},
        {"{\"source\": \"programme x\\nzh 甲\\nen A\\nversion 1\\nfrom 2026-02-30\\n\"}",
         "body.source", "source:5:6: 2026-02-30 is not a real date"},
        {"{\"source\": \"programme x\\nzh 甲\\nen A\\n\", \"file_name\": 3}", "body.file_name",
         "must be a string"},
        {"[1]", "", "JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_request(srv.port, "POST", "/api/v1/policies", ha, bad[i].body, &r);
        if (r.status != 400 || !strstr(r.body, bad[i].what) ||
            (bad[i].field[0] && !strstr(r.body, bad[i].field)))
            fail_msg("bad %zu: %d %s", i, r.status, r.body);
        tu_resp_free(&r);
    }

    /* save: a draft with errors, then the district policy; again: unchanged */
    b = body_with_source(OVERLAP, "{\"file_name\": \"overlap.policy\"}");
    tu_request(srv.port, "POST", "/api/v1/policies", ha, b, &r);
    free(b);
    j = reply(&r, 201);
    int64_t bad_id = json_integer_value(json_object_get(j, "id"));
    assert_int_equal(json_integer_value(json_object_get(j, "errors")), 1);
    json_decref(j);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/policies/%lld/activate", (long long)bad_id);
    tu_request(srv.port, "POST", path, ha, "{}", &r);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "cannot be activated"));
    tu_resp_free(&r);
    /* the shipped text is stored already (by the demo) */
    b = body_with_source(district, "{\"file_name\": \"district-rent.policy\"}");
    tu_request(srv.port, "POST", "/api/v1/policies", ha, b, &r);
    j = reply(&r, 200);
    assert_true(json_is_true(json_object_get(j, "unchanged")));
    int64_t shipped = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    free(b);
    /* a revised text: a new draft, activated in the shipped one's place */
    char *revised = malloc(len + 32);
    assert_non_null(revised);
    snprintf(revised, len + 32, "%s# revised\n", district);
    b = body_with_source(revised, "{\"file_name\": \"district-rent.policy\"}");
    tu_request(srv.port, "POST", "/api/v1/policies", ha, b, &r);
    j = reply(&r, 201);
    int64_t id = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    tu_request(srv.port, "POST", "/api/v1/policies", ha, b, &r);
    j = reply(&r, 200);
    assert_true(json_is_true(json_object_get(j, "unchanged")));
    assert_int_equal(json_integer_value(json_object_get(j, "id")), id);
    json_decref(j);
    free(b);
    snprintf(path, sizeof path, "/api/v1/policies/%lld/activate", (long long)id);
    tu_request(srv.port, "POST", path, ht, "{}", &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    tu_request(srv.port, "POST", path, ha, "{}", &r);
    j = reply(&r, 200);
    assert_false(json_is_true(json_object_get(j, "unchanged")));
    assert_int_equal(json_integer_value(json_object_get(j, "retired_id")), shipped);
    json_decref(j);
    tu_request(srv.port, "POST", path, ha, "{}", &r);
    j = reply(&r, 200);
    assert_true(json_is_true(json_object_get(j, "unchanged")));
    json_decref(j);
    tu_request(srv.port, "POST", "/api/v1/policies/999/activate", ha, "{}", &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);

    /* any signed-in caller reads the published ones; drafts are for
     * policy.manage */
    tu_request(srv.port, "GET", "/api/v1/policies", ht, NULL, &r);
    j = reply(&r, 200);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 4);
    json_decref(j);
    tu_request(srv.port, "GET", "/api/v1/policies", ha, NULL, &r);
    j = reply(&r, 200);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 5);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/policies/%lld", (long long)bad_id);
    tu_request(srv.port, "GET", path, ht, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);
    tu_request(srv.port, "GET", path, ha, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/policies/%lld", (long long)id);
    tu_request(srv.port, "GET", path, ht, NULL, &r);
    j = reply(&r, 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "active");
    assert_string_equal(json_string_value(json_object_get(j, "source")), revised);
    json_decref(j);
    tu_request(srv.port, "GET", "/api/v1/policies/999", ht, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);

    /* the reviewer's preview of a decision; the talent may not */
    tu_request(srv.port, "GET", "/api/v1/talents/1/decision?date=2026-10-01", hr, NULL, &r);
    j = reply(&r, 200);
    assert_string_equal(json_string_value(json_object_get(j, "programme")), "district-rent");
    assert_string_equal(json_string_value(json_object_get(j, "date")), "2026-10-01");
    json_t *c0 = json_array_get(json_object_get(j, "criteria"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "clause")), "第五条第（一）项");
    json_decref(j);
    tu_request(srv.port, "GET", "/api/v1/talents/1/decision?date=2026-10-32", hr, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"field\":\"date\""));
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/api/v1/talents/1/decision?programme=none", hr, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/api/v1/talents/1/decision", ht, NULL, &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);

    /* simulate: a proposal that drops tier C; against the active file */
    char *prop = strdup(district);
    assert_non_null(prop);
    char *c = strstr(prop, "when level == \"C\"");
    assert_non_null(c);
    memcpy(c, "when level == \"X\"", 17); /* not a level: refused with its place */
    b = body_with_source(prop, "{\"month\": \"2026-10\"}");
    tu_request(srv.port, "POST", "/api/v1/policies/simulate", ha, b, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\\\"X\\\" is not a value of level"));
    tu_resp_free(&r);
    free(b);
    memcpy(c, "when level == \"B\"", 17); /* tier C can no longer be reached: an error */
    b = body_with_source(prop, "{\"month\": \"2026-10\"}");
    tu_request(srv.port, "POST", "/api/v1/policies/simulate", ha, b, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "tier C is unreachable"));
    tu_resp_free(&r);
    free(b);
    b = body_with_source(district, "{\"month\": \"2026-1\"}");
    tu_request(srv.port, "POST", "/api/v1/policies/simulate", ha, b, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "body.month"));
    tu_resp_free(&r);
    free(b);
    b = body_with_source(district, "{\"month\": \"2026-10\", \"against\": 999}");
    tu_request(srv.port, "POST", "/api/v1/policies/simulate", ha, b, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "body.against"));
    tu_resp_free(&r);
    free(b);
    b = body_with_source(district, "{\"month\": \"2026-10\"}");
    tu_request(srv.port, "POST", "/api/v1/policies/simulate", ha, b, &r);
    j = reply(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "people")), 300);
    assert_int_equal(json_integer_value(json_object_get(j, "against")), id);
    assert_int_equal(json_integer_value(json_object_get(j, "budget_change_fen")), 0);
    json_decref(j);
    free(b);
    free(prop);
    free(district);
    free(revised);
    tu_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests_name("policy cli and api", tests, NULL, NULL);
}
