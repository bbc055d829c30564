/* test_registry_api.c - the registry as other systems and scripts see it:
 * the /api/v1/employers and /api/v1/talents routes on a real server, and
 * the `qianlima import` / `qianlima export` commands on its store. Runs on
 * SQLite, and on PostgreSQL when QL_TEST_PG is set. */
#include "testutil.h"
#include "idgen.h"

#include "core/date.h"

#include <errno.h>
#include <iconv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CODE1 "91350100M000100Y43"

static struct tu_server srv;
/* Request headers (token and content type) of each account. */
static char h_admin[300], h_rev[300], h_hr1[300], h_hr2[300], h_aud[300];
static char code2[19];
static long long e1, e2;
static char out[65536], err[65536];

/* --- helpers ------------------------------------------------------------ */

static json_t *body_json(const struct tu_resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    if (!j) fail_msg("response body is not JSON (%s): %.300s", e.text, r->body);
    return j;
}

/* Sends a request as the account whose headers are h and expects status;
 * returns the JSON body (NULL for none). */
static json_t *call(const char *h, const char *method, const char *path, const char *body,
                    int status)
{
    struct tu_resp r;
    tu_request(srv.port, method, path, h, body, &r);
    if (r.status != status)
        fail_msg("%s %s: %d, expected %d: %.600s", method, path, r.status, status, r.body);
    json_t *j = r.body_len ? body_json(&r) : NULL;
    tu_resp_free(&r);
    return j;
}

static int has_non_ascii(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80) return 1;
    return 0;
}

/* The uniform error body: code, both messages, the field (or null). */
static void check_error(const json_t *j, const char *code, const char *field)
{
    json_t *e = json_object_get(j, "error");
    if (!e) fail_msg("no error object");
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_true(json_string_length(json_object_get(e, "message_en")) > 0);
    assert_true(has_non_ascii(json_string_value(json_object_get(e, "message_zh"))));
    json_t *f = json_object_get(e, "field");
    if (field) {
        if (!json_is_string(f) || strcmp(json_string_value(f), field) != 0)
            fail_msg("error field %s, expected %s (%s)", json_string_value(f), field,
                     json_string_value(json_object_get(e, "message_en")));
    }
}

/* The error's "errors" list names exactly these fields (NULL-terminated),
 * each in both languages. */
static void check_errors(const json_t *j, const char *const *fields)
{
    json_t *list = json_object_get(j, "errors");
    if (!json_is_array(list)) fail_msg("no errors list");
    size_t n = 0;
    for (; fields[n]; n++) {
        int found = 0;
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e)
        {
            if (strcmp(json_string_value(json_object_get(e, "field")), fields[n]) != 0) continue;
            found = 1;
            assert_true(json_string_length(json_object_get(e, "message_en")) > 0);
            assert_true(has_non_ascii(json_string_value(json_object_get(e, "message_zh"))));
        }
        if (!found) fail_msg("errors do not name %s", fields[n]);
    }
    if (json_array_size(list) != n) fail_msg("%zu errors, expected %zu", json_array_size(list), n);
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v) fail_msg("no text member '%s'", key);
    return v;
}

static long long jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) fail_msg("no integer member '%s'", key);
    return (long long)json_integer_value(v);
}

/* A talent's JSON body from person i. */
static char *talent_body(int i, const char *employer, const char *card)
{
    char id[19], phone[12], defcard[20];
    tu_gen_id(i, id);
    tu_gen_phone(i, phone);
    tu_gen_card(i, defcard);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:s}", "name", "接口人才",
                          "id_number", id, "phone", phone, "education", "硕士", "graduation_date",
                          "2016-07-01", "category", "光启人才", "level", "B", "insurance_months",
                          12, "owns_housing", 0, "bank_account", card ? card : defcard);
    if (employer) {
        json_object_set_new(j, "employer", json_string(employer));
        json_object_set_new(j, "employed_since", json_string("2024-05-01"));
    }
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static long long create_talent(const char *h, int i, const char *employer)
{
    char *body = talent_body(i, employer, NULL);
    json_t *j = call(h, "POST", "/api/v1/talents", body, 201);
    free(body);
    long long id = jint(j, "id");
    json_decref(j);
    return id;
}

static void make_token(const char *user, const char *roles, const char *scope, const char *perms,
                       char *h, size_t n)
{
    tu_add_user(&srv, user, roles, scope, "Registry-Test-Pass-26");
    char *tok = tu_token(&srv, user, perms);
    snprintf(h, n, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", tok);
    free(tok);
}

static long long count_talents(const char *h)
{
    json_t *j = call(h, "GET", "/api/v1/talents?per_page=1", NULL, 200);
    long long n = jint(j, "total");
    json_decref(j);
    return n;
}

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tu_tmpdir(), name);
    return p;
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s", path);
    if (n && fwrite(text, 1, n, f) != n) fail_msg("short write to %s", path);
    fclose(f);
}

static int cli(const char *const *args)
{
    return tu_cli(&srv, args, NULL, out, sizeof out, err, sizeof err);
}

/* --- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    /* Under AddressSanitizer the server also reports a response built from
     * memory of a handler that has returned. */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%sdetect_stack_use_after_return=1", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    tu_server_start(&srv, NULL);
    make_token("reg.admin", "admin", NULL, "registry.read registry.write", h_admin, sizeof h_admin);
    make_token("reg.reviewer", "reviewer", NULL, "registry.read personal.unmask", h_rev,
               sizeof h_rev);
    make_token("reg.auditor", "auditor", NULL, "audit.read", h_aud, sizeof h_aud);
    tu_gen_credit(2, code2);
    char body[300];
    snprintf(body, sizeof body,
             "{\"credit_code\":\"%s\",\"name\":\"接口单位一\",\"industry\":\"ai\","
             "\"registered\":true,\"taxed\":\"是\",\"key_enterprise\":0}",
             CODE1);
    json_t *j = call(h_admin, "POST", "/api/v1/employers", body, 201);
    e1 = jint(j, "id");
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"credit_code\":\"%s\",\"name\":\"接口单位二\",\"industry\":\"生命健康\"}", code2);
    j = call(h_admin, "POST", "/api/v1/employers", body, 201);
    e2 = jint(j, "id");
    json_decref(j);
    char scope[64];
    snprintf(scope, sizeof scope, "employer:%s", CODE1);
    make_token("hr.one", "employer_hr", scope, "registry.read registry.write", h_hr1, sizeof h_hr1);
    snprintf(scope, sizeof scope, "employer:%s", code2);
    make_token("hr.two", "employer_hr", scope, "registry.read registry.write", h_hr2, sizeof h_hr2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* The audit chain holds after everything the suite did. */
    const char *args[] = {"audit", "verify", NULL};
    int vrc = cli(args);
    if (vrc != 0) fprintf(stderr, "audit verify: %d\n%s%s\n", vrc, out, err);
    int rc = tu_server_stop(&srv);
    if (rc != 0) {
        char *log = tu_slurp(srv.log_path, NULL);
        fprintf(stderr, "server exit status %d; its log:\n%s\n", rc, log ? log : "");
        free(log);
        return -1;
    }
    return vrc == 0 ? 0 : -1;
}

/* --- employers ------------------------------------------------------------ */

static void test_employers(void **state)
{
    (void)state;
    /* Created in setup: 201 gave the record with its id. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/employers/%lld", e1);
    json_t *j = call(h_admin, "GET", path, NULL, 200);
    assert_string_equal(jstr(j, "credit_code"), CODE1);
    assert_string_equal(jstr(j, "industry"), "ai");
    assert_true(json_is_true(json_object_get(j, "registered")));
    assert_true(json_is_true(json_object_get(j, "taxed")));
    assert_true(json_is_false(json_object_get(j, "key_enterprise")));
    json_decref(j);
    /* Location of a new one. */
    char code[19], body[400];
    tu_gen_credit(3, code);
    snprintf(body, sizeof body, "{\"credit_code\":\"%s\",\"name\":\"接口单位三\"}", code);
    struct tu_resp r;
    tu_request(srv.port, "POST", "/api/v1/employers", h_admin, body, &r);
    assert_int_equal(r.status, 201);
    j = body_json(&r);
    char loc[128];
    snprintf(loc, sizeof loc, "/api/v1/employers/%lld", jint(j, "id"));
    assert_string_equal(tu_header(&r, "Location"), loc);
    assert_string_equal(jstr(j, "industry"), "other");
    json_decref(j);
    tu_resp_free(&r);
    /* Every bad field at once. */
    j = call(h_admin, "POST", "/api/v1/employers",
             "{\"credit_code\":\"91350100M000100Y44\",\"name\":\"\",\"industry\":\"采矿\","
             "\"registered\":\"也许\",\"taxed\":true}",
             400);
    check_error(j, "invalid", "body.credit_code");
    check_errors(j, (const char *[]){"body.credit_code", "body.name", "body.industry",
                                     "body.registered", NULL});
    json_decref(j);
    /* A value of the wrong type. */
    j = call(h_admin, "POST", "/api/v1/employers", "{\"credit_code\":[1],\"name\":\"x\"}", 400);
    check_error(j, "invalid", "body.credit_code");
    json_decref(j);
    j = call(h_admin, "POST", "/api/v1/employers", "[1,2]", 400);
    json_decref(j);
    /* Registered already. */
    snprintf(body, sizeof body, "{\"credit_code\":\"%s\",\"name\":\"又一个\"}", CODE1);
    j = call(h_admin, "POST", "/api/v1/employers", body, 409);
    check_error(j, "conflict", "body.credit_code");
    json_decref(j);
    /* A change, and its history. */
    snprintf(body, sizeof body,
             "{\"credit_code\":\"%s\",\"name\":\"接口单位一（更名）\",\"industry\":\"ai\","
             "\"registered\":\"yes\",\"taxed\":\"yes\",\"key_enterprise\":\"yes\"}",
             CODE1);
    j = call(h_admin, "PUT", path, body, 200);
    assert_string_equal(jstr(j, "name"), "接口单位一（更名）");
    assert_true(json_is_true(json_object_get(j, "key_enterprise")));
    json_decref(j);
    char hpath[160];
    snprintf(hpath, sizeof hpath, "%s/history", path);
    j = call(h_admin, "GET", hpath, NULL, 200);
    json_t *h = json_object_get(j, "history");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(jstr(json_array_get(h, 0), "action"), "employer.update");
    assert_non_null(strstr(jstr(json_array_get(h, 0), "actor"), "reg.admin (token "));
    json_t *changed = json_object_get(json_array_get(h, 0), "changed");
    assert_true(json_array_size(changed) >= 2);
    json_decref(j);
    /* A bad update changes nothing. */
    j = call(h_admin, "PUT", path, "{\"credit_code\":\"x\",\"name\":\"新名\"}", 400);
    check_errors(j, (const char *[]){"body.credit_code", NULL});
    json_decref(j);
    j = call(h_admin, "GET", path, NULL, 200);
    assert_string_equal(jstr(j, "name"), "接口单位一（更名）");
    json_decref(j);
    /* Not there. */
    j = call(h_admin, "GET", "/api/v1/employers/999999", NULL, 404);
    check_error(j, "not_found", "id");
    json_decref(j);
    j = call(h_admin, "GET", "/api/v1/employers/abc", NULL, 404);
    json_decref(j);
    j = call(h_admin, "PUT", "/api/v1/employers/999999", body, 404);
    json_decref(j);
    /* Lists: filters, sort, pages, and their errors. */
    j = call(h_admin, "GET", "/api/v1/employers?q=%E6%8E%A5%E5%8F%A3&sort=-created&per_page=2",
             NULL, 200);
    assert_int_equal(jint(j, "total"), 3);
    assert_true(json_is_false(json_object_get(j, "more")));
    assert_int_equal(json_array_size(json_object_get(j, "employers")), 2);
    assert_string_equal(jstr(json_array_get(json_object_get(j, "employers"), 0), "name"),
                        "接口单位三");
    json_decref(j);
    j = call(h_admin, "GET", "/api/v1/employers?industry=life_health", NULL, 200);
    assert_int_equal(jint(j, "total"), 1);
    json_decref(j);
    static const struct {
        const char *query, *field;
    } bad[] = {{"industry=mining", "industry"}, {"page=0", "page"},
               {"per_page=500", "per_page"},    {"page=x", "page"},
               {"sort=size", "sort"},           {"page=52&per_page=200", "page"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char q[128];
        snprintf(q, sizeof q, "/api/v1/employers?%s", bad[i].query);
        j = call(h_admin, "GET", q, NULL, 400);
        check_error(j, "invalid", bad[i].field);
        json_decref(j);
    }
    /* An employer's HR account: its own employer only, and no changes. */
    j = call(h_hr1, "GET", path, NULL, 200);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/employers/%lld", e2);
    j = call(h_hr1, "GET", path, NULL, 404);
    check_error(j, "not_found", "id");
    json_decref(j);
    snprintf(hpath, sizeof hpath, "%s/history", path);
    j = call(h_hr1, "GET", hpath, NULL, 404);
    json_decref(j);
    j = call(h_hr1, "GET", "/api/v1/employers", NULL, 200);
    assert_int_equal(jint(j, "total"), 1);
    assert_int_equal(jint(json_array_get(json_object_get(j, "employers"), 0), "id"), e1);
    json_decref(j);
    tu_gen_credit(4, code);
    snprintf(body, sizeof body, "{\"credit_code\":\"%s\",\"name\":\"冒名单位\"}", code);
    j = call(h_hr1, "POST", "/api/v1/employers", body, 403);
    json_decref(j);
}

/* --- talents -------------------------------------------------------------- */

static void test_talent_create(void **state)
{
    (void)state;
    long long before = count_talents(h_admin);
    char *body = talent_body(1, CODE1, NULL);
    struct tu_resp r;
    tu_request(srv.port, "POST", "/api/v1/talents", h_admin, body, &r);
    free(body);
    assert_int_equal(r.status, 201);
    json_t *j = body_json(&r);
    long long id = jint(j, "id");
    char loc[128];
    snprintf(loc, sizeof loc, "/api/v1/talents/%lld", id);
    assert_string_equal(tu_header(&r, "Location"), loc);
    tu_resp_free(&r);
    char idn[19];
    tu_gen_id(1, idn);
    char masked[40];
    snprintf(masked, sizeof masked, "310104********%.4s", idn + 14);
    assert_string_equal(jstr(j, "id_masked"), masked);
    assert_string_equal(jstr(j, "education"), "master");
    assert_int_equal(jint(j, "insurance_months"), 12);
    assert_int_equal(jint(json_object_get(j, "employer"), "id"), e1);
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, idn));
    free(text);
    json_decref(j);
    assert_int_equal(count_talents(h_admin), before + 1);

    /* A card failing the Luhn check: stored, with a warning. */
    char card[20];
    tu_gen_card(2, card);
    card[15] = card[15] == '9' ? '0' : (char)(card[15] + 1);
    body = talent_body(2, NULL, card);
    j = call(h_admin, "POST", "/api/v1/talents", body, 201);
    free(body);
    json_t *w = json_object_get(j, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_string_equal(jstr(json_array_get(w, 0), "field"), "bank_account");
    assert_true(has_non_ascii(jstr(json_array_get(w, 0), "message_zh")));
    json_decref(j);

    /* Every bad field listed; nothing stored. */
    j = call(h_admin, "POST", "/api/v1/talents",
             "{\"name\":\"\",\"id_number\":\"11010519491231002Y\",\"phone\":\"12345\","
             "\"education\":\"大专\",\"graduation_date\":\"2020-02-30\",\"level\":\"Z\","
             "\"employer\":\"91350100M000100Y43\",\"insurance_months\":-3,"
             "\"owns_housing\":\"maybe\",\"bank_account\":\"4111111111111111\"}",
             400);
    check_error(j, "invalid", "body.name");
    check_errors(j, (const char *[]){"body.name", "body.id_number", "body.phone", "body.education",
                                     "body.graduation_date", "body.level", "body.employed_since",
                                     "body.insurance_months", "body.owns_housing",
                                     "body.bank_account", NULL});
    json_decref(j);
    /* Values of the wrong type name their field. */
    j = call(h_admin, "POST", "/api/v1/talents", "{\"name\":{\"a\":1},\"id_number\":\"x\"}", 400);
    check_error(j, "invalid", "body.name");
    json_decref(j);
    j = call(h_admin, "POST", "/api/v1/talents", "{\"name\":\"x\",\"insurance_months\":1.5}", 400);
    check_error(j, "invalid", "body.insurance_months");
    json_decref(j);
    /* Too long for any field. */
    char big[5200] = "{\"name\":\"";
    size_t n = strlen(big);
    memset(big + n, 'a', 4100);
    snprintf(big + n + 4100, sizeof big - n - 4100, "\",\"id_number\":\"x\"}");
    j = call(h_admin, "POST", "/api/v1/talents", big, 400);
    check_error(j, "invalid", "body.name");
    json_decref(j);
    j = call(h_admin, "POST", "/api/v1/talents", "{\"name\":", 400);
    json_decref(j);
    /* A body over the route's limit (16 KiB), and one that is not JSON at all. */
    char *huge = malloc(20000);
    memset(huge, ' ', 19999);
    memcpy(huge, "{\"name\":\"", 9);
    memcpy(huge + 19996, "\"}", 3);
    struct tu_resp r2;
    tu_request(srv.port, "POST", "/api/v1/talents", h_admin, huge, &r2);
    assert_int_equal(r2.status, 413);
    tu_resp_free(&r2);
    free(huge);
    char hform[400];
    snprintf(hform, sizeof hform, "%.*sContent-Type: text/plain\r\n",
             (int)(strstr(h_admin, "Content-Type") - h_admin), h_admin);
    j = call(hform, "POST", "/api/v1/talents", "name=x", 415);
    json_decref(j);
    assert_int_equal(count_talents(h_admin), before + 2);
    /* A name with a right-to-left override (as JSON's \u202e escape) or a
     * zero-width space, or one a spreadsheet would run: refused, naming the
     * field and the character. */
    static const char *const names[][2] = {{"\\u5f20\\u202e\\u4e09", "U+202E"},
                                           {"\\u5f20\\u200b\\u4e09", "U+200B"},
                                           {"=1+1", "formula"}};
    for (size_t k = 0; k < 3; k++) {
        body = talent_body(9, NULL, NULL);
        char *at = strstr(body, "接口人才"), with[1024];
        snprintf(with, sizeof with, "%.*s%s%s", (int)(at - body), body, names[k][0],
                 at + strlen("接口人才"));
        free(body);
        j = call(h_admin, "POST", "/api/v1/talents", with, 400);
        check_error(j, "invalid", "body.name");
        check_errors(j, (const char *[]){"body.name", NULL});
        if (!strstr(jstr(json_object_get(j, "error"), "message_en"), names[k][1]))
            fail_msg("%s: %s", names[k][1], jstr(json_object_get(j, "error"), "message_en"));
        json_decref(j);
    }
    assert_int_equal(count_talents(h_admin), before + 2);
    /* Registered already. */
    body = talent_body(1, NULL, NULL);
    j = call(h_admin, "POST", "/api/v1/talents", body, 409);
    free(body);
    check_error(j, "conflict", "body.id_number");
    check_errors(j, (const char *[]){"body.id_number", NULL});
    json_decref(j);
    /* In English when asked. */
    char hen[400];
    snprintf(hen, sizeof hen, "%sAccept-Language: en\r\n", h_admin);
    j = call(hen, "POST", "/api/v1/talents", "{\"name\":\"x\",\"id_number\":\"1\"}", 400);
    json_t *e = json_object_get(j, "error");
    assert_string_equal(jstr(e, "message"), jstr(e, "message_en"));
    json_decref(j);
    assert_int_equal(count_talents(h_admin), before + 2);
}

/* An employer's HR account: its own staff, and nothing else exists. */
static void test_talent_hr_scope(void **state)
{
    (void)state;
    long long mine = create_talent(h_hr1, 10, CODE1);
    long long theirs = create_talent(h_admin, 11, code2);
    char path[128], body_path[160];
    /* A record out of scope answers exactly as one that does not exist. */
    json_t *missing = call(h_hr1, "GET", "/api/v1/talents/999999", NULL, 404);
    check_error(missing, "not_found", "id");
    snprintf(path, sizeof path, "/api/v1/talents/%lld", theirs);
    json_t *j = call(h_hr1, "GET", path, NULL, 404);
    check_error(j, "not_found", "id");
    json_decref(j);
    char *body = talent_body(11, code2, NULL);
    j = call(h_hr1, "PUT", path, body, 404);
    check_error(j, "not_found", "id");
    json_decref(j);
    j = call(h_hr1, "PUT", path, "{\"name\":\"\"}", 404);
    json_decref(j);
    snprintf(body_path, sizeof body_path, "%s/history", path);
    j = call(h_hr1, "GET", body_path, NULL, 404);
    json_decref(j);
    json_decref(missing);
    /* It cannot register another's staff, nor move its own away. */
    free(body);
    body = talent_body(12, code2, NULL);
    j = call(h_hr1, "POST", "/api/v1/talents", body, 403);
    check_error(j, "forbidden", "body.employer");
    json_decref(j);
    free(body);
    snprintf(path, sizeof path, "/api/v1/talents/%lld", mine);
    body = talent_body(10, code2, NULL);
    j = call(h_hr1, "PUT", path, body, 403);
    check_error(j, "forbidden", "body.employer");
    json_decref(j);
    free(body);
    /* Its list, and the other employer's. */
    j = call(h_hr1, "GET", "/api/v1/talents?per_page=200", NULL, 200);
    json_t *rows = json_object_get(j, "talents");
    size_t i;
    json_t *row;
    int found = 0;
    json_array_foreach(rows, i, row)
    {
        assert_int_equal(jint(json_object_get(row, "employer"), "id"), e1);
        found |= jint(row, "id") == mine;
    }
    assert_true(found);
    json_decref(j);
    j = call(h_hr2, "GET", "/api/v1/talents?per_page=200", NULL, 200);
    json_array_foreach(json_object_get(j, "talents"), i, row)
    {
        assert_true(jint(row, "id") != mine);
    }
    json_decref(j);
    /* It reads and changes its own. */
    j = call(h_hr1, "GET", path, NULL, 200);
    json_decref(j);
    body = talent_body(10, CODE1, NULL);
    j = call(h_hr1, "PUT", path, body, 200);
    free(body);
    json_decref(j);
    /* No unmasking without the permission: the route refuses. */
    snprintf(body_path, sizeof body_path, "%s/unmask", path);
    j = call(h_hr1, "POST", body_path, "{\"field\":\"id_number\",\"reason\":\"核对本单位员工\"}",
             403);
    json_decref(j);
}

static void test_talent_unmask(void **state)
{
    (void)state;
    long long id = create_talent(h_admin, 20, CODE1);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/talents/%lld/unmask", id);
    char idn[19], phone[12];
    tu_gen_id(20, idn);
    tu_gen_phone(20, phone);
    json_t *j =
        call(h_rev, "POST", path, "{\"field\":\"id_number\",\"reason\":\"核对申请材料\"}", 200);
    assert_string_equal(jstr(j, "value"), idn);
    assert_string_equal(jstr(j, "field"), "id_number");
    assert_true(has_non_ascii(jstr(j, "notice")));
    json_decref(j);
    j = call(h_rev, "POST", path, "{\"field\":\"phone\",\"reason\":\"电话回访\"}", 200);
    assert_string_equal(jstr(j, "value"), phone);
    json_decref(j);
    static const struct {
        const char *body, *field;
        int status;
    } bad[] = {
        {"{\"field\":\"id_number\"}", "body.reason", 400},
        {"{\"field\":\"id_number\",\"reason\":\"看\"}", "body.reason", 400},
        {"{\"field\":\"id_number\",\"reason\":7}", "body.reason", 400},
        {"{\"field\":\"name\",\"reason\":\"核对申请材料\"}", "body.field", 400},
        {"{\"reason\":\"核对申请材料\"}", "body.field", 400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = call(h_rev, "POST", path, bad[i].body, bad[i].status);
        check_error(j, "invalid", bad[i].field);
        assert_null(json_object_get(j, "value"));
        json_decref(j);
    }
    j = call(h_rev, "POST", "/api/v1/talents/999999/unmask",
             "{\"field\":\"id_number\",\"reason\":\"核对申请材料\"}", 404);
    json_decref(j);
    /* An account without personal.unmask. */
    j = call(h_admin, "POST", path, "{\"field\":\"id_number\",\"reason\":\"核对申请材料\"}", 403);
    check_error(j, "forbidden", NULL);
    json_decref(j);
    /* Each view is in the operation log with who, whom and why: two views,
     * none for the refusals, and never the value. */
    struct tu_resp r;
    tu_request(srv.port, "GET", "/api/v1/audit?action=personal.unmask", h_aud, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, idn));
    assert_null(strstr(r.body, phone));
    j = body_json(&r);
    tu_resp_free(&r);
    assert_int_equal(jint(j, "total"), 2);
    json_t *last = json_array_get(json_object_get(j, "entries"), 0);
    assert_non_null(strstr(jstr(last, "actor"), "reg.reviewer"));
    char oid[32];
    snprintf(oid, sizeof oid, "%lld", id);
    assert_string_equal(jstr(last, "object_id"), oid);
    assert_string_equal(jstr(json_object_get(last, "detail"), "field"), "phone");
    assert_string_equal(jstr(json_object_get(last, "detail"), "reason"), "电话回访");
    json_decref(j);
    const char *args[] = {"audit", "verify", NULL};
    assert_int_equal(cli(args), 0);
}

static void test_talent_list(void **state)
{
    (void)state;
    long long ids[5];
    for (int i = 0; i < 5; i++) ids[i] = create_talent(h_admin, 30 + i, i % 2 ? code2 : CODE1);
    char idn[19], q[256];
    tu_gen_id(32, idn);
    snprintf(q, sizeof q, "/api/v1/talents?q=%s", idn);
    json_t *j = call(h_admin, "GET", q, NULL, 200);
    assert_int_equal(jint(j, "total"), 1);
    assert_int_equal(jint(json_array_get(json_object_get(j, "talents"), 0), "id"), ids[2]);
    json_decref(j);
    /* Name prefix, employer, sort by id, pages. */
    snprintf(q, sizeof q,
             "/api/v1/talents?q=%%E6%%8E%%A5%%E5%%8F%%A3&employer_id=%lld&sort=id"
             "&per_page=1&page=2",
             e2);
    j = call(h_admin, "GET", q, NULL, 200);
    assert_int_equal(jint(j, "page"), 2);
    assert_int_equal(jint(j, "per_page"), 1);
    assert_true(jint(j, "total") >= 2);
    json_t *rows = json_object_get(j, "talents");
    assert_int_equal(json_array_size(rows), 1);
    long long second_at_e2 = jint(json_array_get(rows, 0), "id");
    json_decref(j);
    snprintf(q, sizeof q, "/api/v1/talents?employer_id=%lld&sort=id&after_id=%lld&per_page=200", e2,
             ids[1]);
    j = call(h_admin, "GET", q, NULL, 200);
    assert_int_equal(jint(json_array_get(json_object_get(j, "talents"), 0), "id"), ids[3]);
    json_decref(j);
    assert_true(second_at_e2 >= ids[1]);
    j = call(h_admin, "GET", "/api/v1/talents?education=%E7%A1%95%E5%A3%AB&level=B&sort=name", NULL,
             200);
    assert_true(jint(j, "total") >= 5);
    json_decref(j);
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"per_page=0", "per_page"}, {"per_page=201", "per_page"},
        {"page=abc", "page"},       {"page=0", "page"},
        {"sort=oldest", "sort"},    {"education=PhD", "education"},
        {"level=Z", "level"},       {"employer_id=-1", "employer_id"},
        {"after_id=x", "after_id"}, {"page=1000&per_page=200", "page"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(q, sizeof q, "/api/v1/talents?%s", bad[i].query);
        j = call(h_admin, "GET", q, NULL, 400);
        check_error(j, "invalid", bad[i].field);
        json_decref(j);
    }
}

static void test_talent_history(void **state)
{
    (void)state;
    long long id = create_talent(h_admin, 40, CODE1);
    char path[128], hpath[160];
    snprintf(path, sizeof path, "/api/v1/talents/%lld", id);
    snprintf(hpath, sizeof hpath, "%s/history", path);
    /* A new employment dated the day the old one began would overlap it:
     * refused at the field. */
    char *body = talent_body(40, code2, NULL);
    json_t *j = call(h_admin, "PUT", path, body, 409);
    check_error(j, "conflict", "body.employed_since");
    json_decref(j);
    json_t *b = json_loads(body, 0, NULL);
    free(body);
    json_object_set_new(b, "employed_since", json_string("2025-03-01"));
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    j = call(h_admin, "PUT", path, body, 200);
    free(body);
    json_t *jobs = json_object_get(j, "employments");
    assert_int_equal(json_array_size(jobs), 2);
    /* The old one ends the day before the new one begins. */
    assert_string_equal(jstr(json_array_get(jobs, 0), "end_date"), "2025-02-28");
    json_decref(j);
    j = call(h_admin, "GET", hpath, NULL, 200);
    json_t *h = json_object_get(j, "history");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(jstr(json_array_get(h, 0), "action"), "talent.update");
    assert_string_equal(jstr(json_array_get(h, 1), "action"), "talent.create");
    char *changed = json_dumps(json_object_get(json_array_get(h, 0), "changed"), JSON_COMPACT);
    assert_non_null(strstr(changed, "employer"));
    free(changed);
    json_decref(j);
    /* The old employer's HR no longer sees it, the new one does. */
    j = call(h_hr1, "GET", hpath, NULL, 404);
    json_decref(j);
    j = call(h_hr2, "GET", hpath, NULL, 200);
    json_decref(j);
    j = call(h_admin, "GET", "/api/v1/talents/999999/history", NULL, 404);
    json_decref(j);
}

/* The dated facts through the API: the day a home was bought, and the last
 * day of an employment; each bad one refused at its field, nothing stored. */
static void test_talent_dated_fields(void **state)
{
    (void)state;
    long long id = create_talent(h_admin, 41, CODE1);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/talents/%lld", id);
    char *body = talent_body(41, CODE1, NULL);
    json_t *b = json_loads(body, 0, NULL);
    free(body);
    const struct {
        const char *owns, *since, *until, *field;
    } bad[] = {
        {"no", "2025-05-01", NULL, "body.owns_housing_since"},  /* no home */
        {"yes", "2099-05-01", NULL, "body.owns_housing_since"}, /* in the future */
        {"yes", "2025-02-30", NULL, "body.owns_housing_since"}, /* no such day */
        {"yes", NULL, "2025-05-01", "body.employed_until"},     /* the same employer */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object_set_new(b, "owns_housing", json_string(bad[i].owns));
        json_object_set_new(b, "owns_housing_since",
                            bad[i].since ? json_string(bad[i].since) : json_null());
        json_object_set_new(b, "employed_until",
                            bad[i].until ? json_string(bad[i].until) : json_null());
        body = json_dumps(b, JSON_COMPACT);
        json_t *j = call(h_admin, "PUT", path, body, 400);
        free(body);
        check_error(j, "invalid", bad[i].field);
        json_decref(j);
    }
    json_t *j = call(h_admin, "GET", path, NULL, 200);
    assert_false(json_is_true(json_object_get(j, "owns_housing")));
    assert_string_equal(jstr(j, "owns_housing_since"), "");
    json_decref(j);
    /* a home from 1 May 2025; the employment ended on 31 May 2025 */
    json_object_set_new(b, "owns_housing", json_string("yes"));
    json_object_set_new(b, "owns_housing_since", json_string("2025-05-01"));
    json_object_set_new(b, "employer", json_string(""));
    json_object_set_new(b, "employed_since", json_string(""));
    json_object_set_new(b, "employed_until", json_string("2025-05-31"));
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    j = call(h_admin, "PUT", path, body, 200);
    free(body);
    assert_true(json_is_true(json_object_get(j, "owns_housing")));
    assert_string_equal(jstr(j, "owns_housing_since"), "2025-05-01");
    json_t *jobs = json_object_get(j, "employments");
    assert_int_equal(json_array_size(jobs), 1);
    assert_string_equal(jstr(json_array_get(jobs, 0), "end_date"), "2025-05-31");
    json_decref(j);
}

/* --- qianlima import / export ---------------------------------------------- */

#define HEADER                                                                                                                             \
    "姓名,身份证号码,手机号码,学历,毕业日期,人才类别,人才层次,用人单位统一社会信用代码,入职日期," \
    "本区社保缴纳月数,本人配偶或未成年子女在沪有住房,银行卡号\r\n"

/* A CSV of people first..first+n-1 at CODE1; the one at bad (if >= 0) has
 * a wrong check character. Returns its malloc'd text. */
static char *people_csv(int first, int n, int bad)
{
    size_t cap = 256 + (size_t)n * 160, used = 0;
    char *s = malloc(cap);
    used += (size_t)snprintf(s, cap, "%s", HEADER);
    for (int i = 0; i < n; i++) {
        char id[19], phone[12], card[20];
        tu_gen_id(first + i, id);
        tu_gen_phone(first + i, phone);
        tu_gen_card(first + i, card);
        if (i == bad) id[17] = id[17] == '1' ? '2' : '1';
        used += (size_t)snprintf(s + used, cap - used,
                                 "命令行%05d,%s,%s,本科,2018-07-01,,C,%s,2024-01-01,6,否,%s\r\n",
                                 first + i, id, phone, CODE1, card);
    }
    return s;
}

/* An employment that begins after today is refused on every path that
 * writes employed_since: POST and PUT, and a CSV file (the command line and
 * the API's import); the error names the field and nothing is stored. */
static void test_employed_since_not_in_future(void **state)
{
    (void)state;
    char tomorrow[11], today[11];
    int32_t d = date_today();
    date_format(d + 1, tomorrow, sizeof tomorrow);
    date_format(d, today, sizeof today);
    long long before = count_talents(h_admin);
    char *body = talent_body(61, CODE1, NULL);
    json_t *b = json_loads(body, 0, NULL);
    free(body);
    json_object_set_new(b, "employed_since", json_string(tomorrow));
    body = json_dumps(b, JSON_COMPACT);
    json_t *j = call(h_admin, "POST", "/api/v1/talents", body, 400);
    free(body);
    check_error(j, "invalid", "body.employed_since");
    json_decref(j);
    assert_int_equal(count_talents(h_admin), before);
    /* today is fine; moving it to tomorrow is refused and changes nothing */
    json_object_set_new(b, "employed_since", json_string(today));
    body = json_dumps(b, JSON_COMPACT);
    j = call(h_admin, "POST", "/api/v1/talents", body, 201);
    free(body);
    long long id = jint(j, "id");
    json_decref(j);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/talents/%lld", id);
    json_object_set_new(b, "employed_since", json_string(tomorrow));
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    j = call(h_admin, "PUT", path, body, 400);
    free(body);
    check_error(j, "invalid", "body.employed_since");
    json_decref(j);
    j = call(h_admin, "GET", path, NULL, 200);
    assert_string_equal(jstr(j, "employed_since"), today);
    json_decref(j);
    /* a CSV file on the command line: the row named, nothing stored */
    char id_no[19], phone[12], card[20], csv[1024];
    tu_gen_id(62, id_no);
    tu_gen_phone(62, phone);
    tu_gen_card(62, card);
    snprintf(csv, sizeof csv, HEADER "未来入职,%s,%s,本科,2018-07-01,,C,%s,%s,6,否,%s\r\n", id_no,
             phone, CODE1, tomorrow, card);
    const char *file = tmp_path("future.csv");
    write_file(file, csv, strlen(csv));
    before = count_talents(h_admin);
    assert_int_equal(cli((const char *[]){"import", "talents", file, "--commit", NULL}), 1);
    assert_non_null(strstr(out, "employed_since: the date is in the future"));
    assert_non_null(strstr(out, "日期晚于今天"));
    assert_int_equal(count_talents(h_admin), before);
    /* the same file through the API */
    char h[600];
    snprintf(h, sizeof h, "%.*sContent-Type: text/csv\r\n",
             (int)(strstr(h_admin, "\r\n") - h_admin + 2), h_admin);
    struct tu_resp r;
    tu_request(srv.port, "POST", "/api/v1/imports/talents?commit=1", h, csv, &r);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"field\":\"employed_since\""));
    tu_resp_free(&r);
    assert_int_equal(count_talents(h_admin), before);
    /* graduated before being born: refused, naming the field */
    body = talent_body(63, CODE1, NULL);
    b = json_loads(body, 0, NULL);
    free(body);
    json_object_set_new(b, "graduation_date", json_string("1901-06-30"));
    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    j = call(h_admin, "POST", "/api/v1/talents", body, 400);
    free(body);
    check_error(j, "invalid", "body.graduation_date");
    json_decref(j);
    assert_int_equal(count_talents(h_admin), before);
}

static void test_cli_import(void **state)
{
    (void)state;
    long long before = count_talents(h_admin);
    char *csv = people_csv(100, 30, 12);
    const char *path = tmp_path("cli-bad.csv");
    write_file(path, csv, strlen(csv));
    free(csv);
    /* One bad row: exit 1, that row named, nothing stored. */
    assert_int_equal(cli((const char *[]){"import", "talents", path, "--commit", NULL}), 1);
    assert_non_null(strstr(out, "30 row(s) read (UTF-8)"));
    assert_non_null(
        strstr(out, "row 14, 身份证号码: id_number: the check character does not match"));
    assert_non_null(strstr(out, "校验位不符"));
    assert_non_null(strstr(out, "1 bad row(s), 1 problem(s): nothing was stored"));
    assert_non_null(strstr(out, "未导入任何数据"));
    assert_int_equal(count_talents(h_admin), before);
    /* The fixed file: a dry run stores nothing, --commit stores all. */
    csv = people_csv(100, 30, -1);
    path = tmp_path("cli.csv");
    write_file(path, csv, strlen(csv));
    assert_int_equal(cli((const char *[]){"import", "talents", path, NULL}), 0);
    assert_non_null(strstr(out, "every row is good; run again with --commit"));
    assert_non_null(strstr(out, "所有行均无问题"));
    assert_int_equal(count_talents(h_admin), before);
    assert_int_equal(cli((const char *[]){"import", "talents", path, "--commit", NULL}), 0);
    assert_non_null(strstr(out, "stored 30 row(s)"));
    assert_non_null(strstr(out, "已导入 30 行"));
    assert_int_equal(count_talents(h_admin), before + 30);
    /* Again: every row is registered already. */
    assert_int_equal(cli((const char *[]){"import", "talents", path, "--commit", NULL}), 1);
    assert_non_null(strstr(out, "30 bad row(s), 30 problem(s)"));
    assert_non_null(strstr(out, "already registered"));
    /* A card failing the Luhn check: a warning, and stored only with --commit. */
    free(csv);
    csv = people_csv(400, 2, -1);
    char *card = strstr(csv, "否,6222") + strlen("否,");
    card[15] = card[15] == '9' ? '0' : (char)(card[15] + 1);
    path = tmp_path("cli-luhn.csv");
    write_file(path, csv, strlen(csv));
    assert_int_equal(cli((const char *[]){"import", "talents", path, NULL}), 0);
    assert_non_null(strstr(out, "1 row(s) with a warning\n"));
    assert_non_null(strstr(out, "1 行有警告\n"));
    assert_int_equal(cli((const char *[]){"import", "talents", path, "--commit", NULL}), 0);
    assert_non_null(strstr(out, "1 row(s) with a warning (stored)"));
    assert_non_null(strstr(out, "（已导入）"));
    assert_int_equal(count_talents(h_admin), before + 32);
    /* GBK, as Excel saves it. */
    free(csv);
    csv = people_csv(200, 5, -1);
    iconv_t cd = iconv_open("GBK", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    char gbk[4096], *in = csv, *o = gbk;
    size_t inleft = strlen(csv), oleft = sizeof gbk;
    assert_true(iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1);
    iconv_close(cd);
    path = tmp_path("cli-gbk.csv");
    write_file(path, gbk, sizeof gbk - oleft);
    free(csv);
    assert_int_equal(cli((const char *[]){"import", "人才", path, "--commit", NULL}), 0);
    assert_non_null(strstr(out, "5 row(s) read (GB18030 (GBK))"));
    assert_int_equal(count_talents(h_admin), before + 37);
    /* Files that cannot be imported: exit 1, the reason in both languages. */
    path = tmp_path("cli-columns.csv");
    write_file(path, "姓名,身份证号码,学位\r\n", strlen("姓名,身份证号码,学位\r\n"));
    assert_int_equal(cli((const char *[]){"import", "talents", path, NULL}), 1);
    assert_non_null(strstr(err, "'学位'"));
    assert_non_null(strstr(err, "不认识列名"));
    assert_int_equal(cli((const char *[]){"import", "talents", "/nonexistent/x.csv", NULL}), 1);
    assert_non_null(strstr(err, "cannot open /nonexistent/x.csv"));
    assert_non_null(strstr(err, "无法打开"));
    path = tmp_path("cli-quote.csv");
    write_file(path, HEADER "\"张三,1\r\n", strlen(HEADER "\"张三,1\r\n"));
    assert_int_equal(cli((const char *[]){"import", "talents", path, NULL}), 1);
    assert_true(err[0] != '\0');
    /* Usage errors: exit 2. */
    assert_int_equal(cli((const char *[]){"import", NULL}), 2);
    assert_non_null(strstr(err, "usage: qianlima import"));
    assert_non_null(strstr(err, "用法"));
    assert_int_equal(cli((const char *[]){"import", "leases", path, NULL}), 2);
    assert_non_null(strstr(err, "talents or employers"));
    assert_int_equal(cli((const char *[]){"import", "talents", path, "--bogus", NULL}), 2);
    assert_int_equal(cli((const char *[]){"import", "talents", "--commit", NULL}), 2);
    /* Help and the template. */
    assert_int_equal(cli((const char *[]){"import", "--help", NULL}), 0);
    assert_non_null(strstr(out, "--commit"));
    assert_int_equal(cli((const char *[]){"import", "employers", "--template", NULL}), 0);
    assert_non_null(strstr(out, "统一社会信用代码,单位名称"));
    /* Employers: registered by district staff, which the command acts as. */
    char code[19];
    tu_gen_credit(9, code);
    char ecsv[300];
    snprintf(ecsv, sizeof ecsv, "统一社会信用代码,单位名称,行业\r\n%s,命令行单位,金融科技\r\n",
             code);
    path = tmp_path("cli-employers.csv");
    write_file(path, ecsv, strlen(ecsv));
    assert_int_equal(cli((const char *[]){"import", "employers", path, "--commit", NULL}), 0);
    json_t *j = call(h_admin, "GET", "/api/v1/employers?industry=fintech", NULL, 200);
    assert_int_equal(jint(j, "total"), 1);
    json_decref(j);
}

static void test_cli_export(void **state)
{
    (void)state;
    create_talent(h_admin, 300, CODE1);
    long long total = count_talents(h_admin);
    const char *path = tmp_path("all.csv");
    assert_int_equal(cli((const char *[]){"export", "talents", path, NULL}), 0);
    char want[600];
    snprintf(want, sizeof want, "%s: %lld row(s)", path, total);
    assert_non_null(strstr(out, want));
    size_t len;
    char *text = tu_slurp(path, &len);
    assert_non_null(text);
    assert_memory_equal(text, "\xEF\xBB\xBF", 3);
    char idn[19], masked[40];
    tu_gen_id(300, idn);
    snprintf(masked, sizeof masked, "310104********%.4s", idn + 14);
    assert_non_null(strstr(text, masked));
    assert_null(strstr(text, idn));
    size_t lines = 0;
    for (char *c = text; *c; c++) lines += *c == '\n';
    assert_int_equal(lines, (size_t)total + 1);
    free(text);
    /* One person by ID number, as .xlsx. */
    path = tmp_path("one.xlsx");
    assert_int_equal(cli((const char *[]){"export", "talents", path, "--q", idn, NULL}), 0);
    snprintf(want, sizeof want, "%s: 1 row(s)", path);
    assert_non_null(strstr(out, want));
    text = tu_slurp(path, &len);
    assert_memory_equal(text, "PK", 2);
    free(text);
    /* --format wins over the name. */
    path = tmp_path("employers.xlsx");
    assert_int_equal(cli((const char *[]){"export", "employers", path, "--format", "csv", NULL}),
                     0);
    text = tu_slurp(path, &len);
    assert_memory_equal(text, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(text, CODE1));
    free(text);
    /* Errors: bad format and kind are usage errors (2); a file that cannot
     * be written fails (1), leaving nothing behind. */
    assert_int_equal(cli((const char *[]){"export", "talents", path, "--format", "pdf", NULL}), 2);
    assert_non_null(strstr(err, "--format must be xlsx or csv"));
    assert_non_null(strstr(err, "必须是"));
    assert_int_equal(cli((const char *[]){"export", "leases", path, NULL}), 2);
    assert_int_equal(cli((const char *[]){"export", NULL}), 2);
    assert_non_null(strstr(err, "usage: qianlima export"));
    assert_int_equal(cli((const char *[]){"export", "talents", "/nonexistent/dir/x.csv", NULL}), 1);
    assert_true(err[0] != '\0');
    assert_true(has_non_ascii(err));
    assert_int_equal(access("/nonexistent/dir/x.csv", F_OK), -1);
    assert_int_equal(cli((const char *[]){"export", "--help", NULL}), 0);
    assert_non_null(strstr(out, "--format"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_employers),       cmocka_unit_test(test_talent_create),
        cmocka_unit_test(test_talent_hr_scope), cmocka_unit_test(test_talent_unmask),
        cmocka_unit_test(test_talent_list),     cmocka_unit_test(test_talent_history),
        cmocka_unit_test(test_talent_dated_fields),
        cmocka_unit_test(test_employed_since_not_in_future),
        cmocka_unit_test(test_cli_import),      cmocka_unit_test(test_cli_export),
    };
    return cmocka_run_group_tests_name(
        tu_pg_url() ? "registry api (postgres)" : "registry api (sqlite)", tests, setup, teardown);
}
