/* test_housing_api.c - operators, housing units and leases through the JSON
 * API, as each kind of account sees them: a real qianlima process on a
 * loopback port, API tokens of real accounts, good requests and bad ones.
 * Runs on SQLite, and on PostgreSQL when QL_TEST_PG is set. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct tu_server srv;

/* "Authorization: Bearer ...\r\n" of each account. */
static char clerk[200], op1[200], op2[200], hr1[200], hr2[200], tal1[200], boss[200];
static char auditor[200];
static long long t1, t2, o1;
static const char e1[] = "91350100M000100Y43";
static char e2[20];
static char id1[20], id2[20];

/* A unified social credit code with its check character (GB 32100). */
static void credit_code(const char *first17, char out[20])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (int)(strchr(cs, first17[i]) - cs) * w[i];
    int c = 31 - sum % 31;
    snprintf(out, 20, "%.17s%c", first17, cs[c == 31 ? 0 : c]);
}

/* A resident ID number with its check character (GB 11643). */
static void id_number(const char *first17, char out[20])
{
    static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (first17[i] - '0') * w[i];
    snprintf(out, 20, "%.17s%c", first17, "10X98765432"[sum % 11]);
}

static void token_for(const char *user, const char *roles, const char *scope, char *out, size_t n)
{
    tu_add_user(&srv, user, roles, scope, "Harbor-Lantern-2026");
    char *tok = tu_token(&srv, user, "registry.read registry.write housing.manage");
    snprintf(out, n, "Authorization: Bearer %s\r\n", tok);
    free(tok);
}

/* A JSON request in English; body may be NULL. */
static void call(const char *who, const char *method, const char *path, const char *body,
                 struct tu_resp *r)
{
    char h[512];
    snprintf(h, sizeof h, "%sContent-Type: application/json\r\nAccept-Language: en\r\n", who);
    tu_request(srv.port, method, path, h, body, r);
}

static json_t *body_json(const struct tu_resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    if (!j) fail_msg("response body is not JSON (%s): %.200s", e.text, r->body);
    return j;
}

/* Calls and expects status; returns the body as JSON (the caller frees). */
static json_t *expect(const char *who, const char *method, const char *path, const char *body,
                      int status)
{
    struct tu_resp r;
    call(who, method, path, body, &r);
    if (r.status != status)
        fail_msg("%s %s: %d, expected %d: %.400s", method, path, r.status, status, r.body);
    json_t *j = body_json(&r);
    tu_resp_free(&r);
    return j;
}

/* The uniform error: status, error.field, and every field in fields
 * (NULL-terminated, may be NULL) listed under "errors". */
static void expect_error(const char *who, const char *method, const char *path, const char *body,
                         int status, const char *field, const char *const *fields)
{
    json_t *j = expect(who, method, path, body, status);
    json_t *e = json_object_get(j, "error");
    if (!e) fail_msg("%s %s: no error body", method, path);
    json_t *f = json_object_get(e, "field");
    if (field && (!json_is_string(f) || strcmp(json_string_value(f), field) != 0))
        fail_msg("%s %s: field %s, expected %s (%s)", method, path,
                 json_is_string(f) ? json_string_value(f) : "null", field,
                 json_string_value(json_object_get(e, "message_en")));
    assert_true(json_string_length(json_object_get(e, "message_zh")) > 0);
    assert_true(json_string_length(json_object_get(e, "message_en")) > 0);
    json_t *list = json_object_get(j, "errors");
    for (int i = 0; fields && fields[i]; i++) {
        int found = 0;
        size_t k;
        json_t *item;
        json_array_foreach(list, k, item)
        {
            if (!strcmp(json_string_value(json_object_get(item, "field")), fields[i])) found = 1;
        }
        if (!found) {
            char *dump = json_dumps(list, JSON_COMPACT);
            fail_msg("%s %s: %s not listed in errors %s", method, path, fields[i], dump);
        }
    }
    if (fields) assert_true(json_array_size(list) >= 1);
    json_decref(j);
}

static long long id_of(const json_t *j)
{
    return (long long)json_integer_value(json_object_get(j, "id"));
}

static const char *str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v) fail_msg("no string member %s", key);
    return v;
}

static long long create(const char *who, const char *path, const char *body)
{
    json_t *j = expect(who, "POST", path, body, 201);
    long long id = id_of(j);
    json_decref(j);
    return id;
}

static int setup(void **state)
{
    (void)state;
    tu_server_start(&srv, (const char *[]){"--workers", "2", NULL});
    credit_code("91310104MA1FL0000", e2);
    id_number("11010519491231002", id1);
    id_number("31010419900307123", id2);
    token_for("clerk", "window_clerk", NULL, clerk, sizeof clerk);
    char scope[64];
    snprintf(scope, sizeof scope, "employer:%s", e1);
    token_for("hr1", "employer_hr", scope, hr1, sizeof hr1);
    snprintf(scope, sizeof scope, "employer:%s", e2);
    token_for("hr2", "employer_hr", scope, hr2, sizeof hr2);
    token_for("op1", "housing_operator", "operator:OP-1", op1, sizeof op1);
    token_for("op2", "housing_operator", "operator:OP-2", op2, sizeof op2);
    token_for("boss", "leadership", NULL, boss, sizeof boss);
    tu_add_user(&srv, "auditor", "auditor", NULL, "Harbor-Lantern-2026");
    char *tok = tu_token(&srv, "auditor", "audit.read");
    snprintf(auditor, sizeof auditor, "Authorization: Bearer %s\r\n", tok);
    free(tok);

    char body[512];
    snprintf(body, sizeof body, "{\"credit_code\":\"%s\",\"name\":\"徐汇智能科技有限公司\"}", e1);
    create(clerk, "/api/v1/employers", body);
    snprintf(body, sizeof body, "{\"credit_code\":\"%s\",\"name\":\"漕河泾生命健康有限公司\"}", e2);
    create(clerk, "/api/v1/employers", body);
    snprintf(body, sizeof body,
             "{\"name\":\"张三\",\"id_number\":\"%s\",\"education\":\"master\",\"employer\":\"%s\","
             "\"employed_since\":\"2024-03-01\",\"owns_housing\":false}",
             id1, e1);
    t1 = create(clerk, "/api/v1/talents", body);
    snprintf(body, sizeof body,
             "{\"name\":\"李四\",\"id_number\":\"%s\",\"education\":\"doctor\",\"employer\":\"%s\","
             "\"employed_since\":\"2024-03-01\"}",
             id2, e2);
    t2 = create(clerk, "/api/v1/talents", body);
    snprintf(scope, sizeof scope, "self:%lld", t1);
    token_for("tal1", "talent", scope, tal1, sizeof tal1);

    char c1[20], c2[20];
    credit_code("91310104MA1HHPRT1", c1);
    credit_code("91310104MA1HHPRT2", c2);
    snprintf(body, sizeof body,
             "{\"code\":\"OP-1\",\"name\":\"徐汇人才安居有限公司\",\"credit_code\":\"%s\","
             "\"contact_name\":\"王经理\",\"contact_phone\":\"021-64871234\"}",
             c1);
    o1 = create(clerk, "/api/v1/operators", body);
    snprintf(body, sizeof body,
             "{\"code\":\"OP-2\",\"name\":\"漕河泾租赁住房有限公司\",\"credit_code\":\"%s\"}", c2);
    create(clerk, "/api/v1/operators", body);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = tu_server_stop(&srv);
    if (rc != 0) {
        char *log = tu_slurp(srv.log_path, NULL);
        fprintf(stderr, "server exit status %d; its log:\n%s\n", rc, log ? log : "");
        free(log);
        return -1;
    }
    return 0;
}

/* ---- operators --------------------------------------------------------- */

static void test_operators(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/api/v1/operators/%lld", o1);
    json_t *j = expect(op1, "GET", path, NULL, 200);
    assert_string_equal(str(j, "code"), "OP-1");
    assert_string_equal(str(j, "contact_phone"), "021-64871234");
    assert_int_equal(json_integer_value(json_object_get(j, "units")), 0);
    json_decref(j);

    /* Every bad field at once, named as body.<field>. */
    expect_error(clerk, "POST", "/api/v1/operators",
                 "{\"code\":\"bad code!\",\"name\":\"\",\"credit_code\":\"91350100M000100Y44\","
                 "\"contact_phone\":\"12345\"}",
                 400, "body.code",
                 (const char *const[]){"body.code", "body.name", "body.credit_code",
                                       "body.contact_phone", NULL});
    /* Fields the record does not have, and wrongly typed ones, all listed. */
    expect_error(clerk, "POST", "/api/v1/operators",
                 "{\"code\":\"OP-3\",\"nmae\":\"typo\",\"credit_code\":[1],\"contact_name\":{}}",
                 400, "body.nmae",
                 (const char *const[]){"body.nmae", "body.credit_code", "body.contact_name", NULL});
    expect_error(clerk, "POST", "/api/v1/operators", "[1,2]", 400, NULL, NULL);
    expect_error(clerk, "POST", "/api/v1/operators", "{\"code\":", 400, NULL, NULL);
    /* Taken code: 409 naming it. */
    char c3[20], body[512];
    credit_code("91310104MA1HHPRT3", c3);
    snprintf(body, sizeof body, "{\"code\":\"OP-1\",\"name\":\"重复\",\"credit_code\":\"%s\"}", c3);
    expect_error(clerk, "POST", "/api/v1/operators", body, 409, "body.code",
                 (const char *const[]){"body.code", NULL});
    /* Who may: district staff only. */
    snprintf(body, sizeof body, "{\"code\":\"OP-3\",\"name\":\"新企业\",\"credit_code\":\"%s\"}",
             c3);
    expect_error(op1, "POST", "/api/v1/operators", body, 403, NULL, NULL);
    expect_error(hr1, "POST", "/api/v1/operators", body, 403, NULL, NULL);
    expect_error("", "POST", "/api/v1/operators", body, 401, NULL, NULL);
    struct tu_resp r;
    call(clerk, "POST", "/api/v1/operators", body, &r);
    assert_int_equal(r.status, 201);
    json_t *made = body_json(&r);
    char loc[128];
    snprintf(loc, sizeof loc, "/api/v1/operators/%lld", id_of(made));
    assert_string_equal(tu_header(&r, "Location"), loc);
    json_decref(made);
    tu_resp_free(&r);

    /* Change, and read the history of the change. */
    char c1[20];
    credit_code("91310104MA1HHPRT1", c1);
    snprintf(body, sizeof body,
             "{\"code\":\"OP-1\",\"name\":\"徐汇人才安居集团\",\"credit_code\":\"%s\","
             "\"contact_phone\":\"13912345678\"}",
             c1);
    j = expect(clerk, "PUT", path, body, 200);
    assert_string_equal(str(j, "name"), "徐汇人才安居集团");
    assert_string_equal(str(j, "contact_name"), "");
    json_decref(j);
    expect_error(op1, "PUT", path, body, 403, NULL, NULL);
    expect_error(clerk, "PUT", "/api/v1/operators/999999", body, 404, "id", NULL);
    snprintf(loc, sizeof loc, "%s/history", path);
    j = expect(op1, "GET", loc, NULL, 200);
    json_t *h = json_object_get(j, "history");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(str(json_array_get(h, 0), "action"), "operator.update");
    assert_string_equal(str(json_array_get(h, 0), "actor"), "clerk (token 1)");
    json_decref(j);
    expect_error(op2, "GET", loc, NULL, 404, "id", NULL);

    /* Lists: scope, filters, pages, bad parameters. */
    j = expect(clerk, "GET", "/api/v1/operators?sort=code&per_page=2&page=1", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 3);
    assert_false(json_is_true(json_object_get(j, "more")));
    assert_int_equal(json_array_size(json_object_get(j, "operators")), 2);
    assert_string_equal(str(json_array_get(json_object_get(j, "operators"), 0), "code"), "OP-1");
    json_decref(j);
    j = expect(clerk, "GET", "/api/v1/operators?q=%E6%BC%95%E6%B2%B3%E6%B3%BE", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1); /* 漕河泾 */
    json_decref(j);
    j = expect(op2, "GET", "/api/v1/operators", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    j = expect(hr1, "GET", "/api/v1/operators", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
    json_decref(j);
    expect_error(clerk, "GET", "/api/v1/operators?sort=size", NULL, 400, "sort", NULL);
    expect_error(clerk, "GET", "/api/v1/operators?page=0", NULL, 400, "page", NULL);
    expect_error(clerk, "GET", "/api/v1/operators?per_page=x", NULL, 400, "per_page", NULL);
    expect_error(boss, "GET", "/api/v1/operators", NULL, 403, NULL, NULL);
}

/* ---- units -------------------------------------------------------------- */

static long long unit_u1, unit_u2, unit_u3;

static void test_units(void **state)
{
    (void)state;
    /* An operator registers its own units without naming itself. */
    json_t *j = expect(op1, "POST", "/api/v1/units",
                       "{\"address\":\"上海市徐汇区宜山路 700 号 1201 室\",\"district\":\"徐汇区\","
                       "\"community\":\"漕河泾人才公寓\",\"area\":\"45.5\",\"rooms\":1,"
                       "\"rent\":\"4500\",\"kind\":\"人才公寓\",\"verification_code\":"
                       "\"hy2026000001\",\"status\":\"listed\"}",
                       201);
    unit_u1 = id_of(j);
    assert_string_equal(str(j, "area"), "45.50");
    assert_string_equal(str(j, "rent"), "4500.00");
    assert_string_equal(str(j, "verification_code"), "HY2026000001");
    assert_string_equal(str(json_object_get(j, "operator"), "code"), "OP-1");
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    json_decref(j);
    unit_u2 = create(op1, "/api/v1/units",
                     "{\"address\":\"上海市徐汇区宜山路 700 号 1202 室\",\"area\":\"60\","
                     "\"rooms\":\"2\",\"rent\":\"5500\",\"kind\":\"market\"}");
    unit_u3 = create(clerk, "/api/v1/units",
                     "{\"operator\":\"OP-2\",\"address\":\"上海市徐汇区桂平路 418 号 502 室\","
                     "\"area\":\"80\",\"rooms\":\"3\",\"rent\":\"6000\",\"kind\":\"market\","
                     "\"verification_code\":\"HY2026000003\",\"status\":\"listed\"}");

    /* Bad input: all fields at once; money as a JSON number with decimals
     * is refused (not exact); a listing needs its verification code. */
    expect_error(clerk, "POST", "/api/v1/units",
                 "{\"operator\":\"OP-404\",\"address\":\"\",\"area\":\"0\",\"rooms\":\"21\","
                 "\"rent\":\"abc\",\"kind\":\"villa\",\"status\":\"sold\"}",
                 400, "body.operator",
                 (const char *const[]){"body.operator", "body.address", "body.area", "body.rooms",
                                       "body.rent", "body.kind", "body.status", NULL});
    expect_error(op1, "POST", "/api/v1/units",
                 "{\"address\":\"某路 1 号\",\"area\":45.5,\"rooms\":1,\"rent\":4500.5,"
                 "\"kind\":\"market\"}",
                 400, "body.area", (const char *const[]){"body.area", "body.rent", NULL});
    expect_error(op1, "POST", "/api/v1/units",
                 "{\"address\":\"某路 1 号\",\"area\":\"45\",\"rooms\":1,\"rent\":\"4500\","
                 "\"kind\":\"market\",\"status\":\"listed\"}",
                 400, "body.verification_code",
                 (const char *const[]){"body.verification_code", NULL});
    expect_error(op1, "POST", "/api/v1/units",
                 "{\"operator\":\"OP-2\",\"address\":\"某路 1 号\",\"area\":\"45\",\"rooms\":1,"
                 "\"rent\":\"4500\",\"kind\":\"market\"}",
                 403, "operator", NULL);
    expect_error(clerk, "POST", "/api/v1/units",
                 "{\"operator\":\"OP-2\",\"address\":\"某路 2 号\",\"area\":\"45\",\"rooms\":1,"
                 "\"rent\":\"4500\",\"kind\":\"market\",\"verification_code\":\"HY2026000001\"}",
                 409, "body.verification_code",
                 (const char *const[]){"body.verification_code", NULL});
    expect_error(hr1, "POST", "/api/v1/units", "{}", 403, NULL, NULL);

    /* Out of scope is not found, like a unit that does not exist. */
    char path[64], other[64];
    snprintf(path, sizeof path, "/api/v1/units/%lld", unit_u3);
    expect_error(op1, "GET", path, NULL, 404, "id", NULL);
    expect_error(op1, "PUT", path, "{}", 404, "id", NULL);
    snprintf(other, sizeof other, "/api/v1/units/%lld", unit_u2);
    expect_error(hr1, "GET", other, NULL, 404, "id", NULL); /* a draft is not published */
    expect_error(clerk, "GET", "/api/v1/units/987654", NULL, 404, "id", NULL);
    expect_error(clerk, "GET", "/api/v1/units/abc", NULL, 404, "id", NULL);
    j = expect(hr1, "GET", path, NULL, 200);
    assert_null(json_object_get(j, "leases"));
    json_decref(j);

    /* Lists with filters as a console list asks for them. */
    j = expect(clerk, "GET", "/api/v1/units?status=listed&sort=-rent", NULL, 200);
    json_t *rows = json_object_get(j, "units");
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    assert_int_equal(id_of(json_array_get(rows, 0)), unit_u3);
    json_decref(j);
    j = expect(clerk, "GET", "/api/v1/units?kind=market&rooms_min=2&rent_max=5,800", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    assert_int_equal(id_of(json_array_get(json_object_get(j, "units"), 0)), unit_u2);
    json_decref(j);
    j = expect(op1, "GET", "/api/v1/units?per_page=1&page=2&sort=id", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    assert_int_equal(id_of(json_array_get(json_object_get(j, "units"), 0)), unit_u2);
    assert_int_equal(json_integer_value(json_object_get(j, "page")), 2);
    json_decref(j);
    j = expect(tal1, "GET", "/api/v1/units?q=%E6%A1%82%E5%B9%B3", NULL, 200); /* 桂平 */
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    expect_error(clerk, "GET", "/api/v1/units?status=sold", NULL, 400, "status", NULL);
    expect_error(clerk, "GET", "/api/v1/units?rent_max=cheap", NULL, 400, "rent_max", NULL);
    expect_error(clerk, "GET", "/api/v1/units?rooms_min=99", NULL, 400, "rooms_min", NULL);
    expect_error(clerk, "GET", "/api/v1/units?operator_id=-1", NULL, 400, "operator_id", NULL);

    /* Change: the operator lists its draft once it has the code. */
    j = expect(op1, "PUT", other,
               "{\"address\":\"上海市徐汇区宜山路 700 号 1202 室\",\"area\":\"60\",\"rooms\":2,"
               "\"rent\":\"5,600\",\"kind\":\"market\",\"verification_code\":\"HY2026000002\","
               "\"status\":\"listed\"}",
               200);
    assert_string_equal(str(j, "status"), "listed");
    assert_string_equal(str(j, "rent"), "5600.00");
    json_decref(j);
    snprintf(other, sizeof other, "/api/v1/units/%lld/history", unit_u2);
    j = expect(op1, "GET", other, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "history")), 2);
    json_decref(j);
}

/* ---- leases ------------------------------------------------------------- */

static void test_leases(void **state)
{
    (void)state;
    if (!unit_u1) skip(); /* needs the units above */
    char body[1024], path[96];
    /* The operator names its new tenant by ID number; filed late: a warning. */
    snprintf(body, sizeof body,
             "{\"talent_id_number\":\"%s\",\"unit_id\":%lld,\"start_date\":\"2026-01-01\","
             "\"end_date\":\"2026-12-31\",\"signed_date\":\"2025-11-01\",\"rent\":\"4500\","
             "\"deposit\":\"9000\",\"filing_no\":\"WQ-2025-1\",\"filed_date\":\"2025-12-20\"}",
             id1, unit_u1);
    struct tu_resp r;
    call(op1, "POST", "/api/v1/leases", body, &r);
    if (r.status != 201) fail_msg("lease: %d %s", r.status, r.body);
    json_t *j = body_json(&r);
    long long a = id_of(j);
    snprintf(path, sizeof path, "/api/v1/leases/%lld", a);
    assert_string_equal(tu_header(&r, "Location"), path);
    tu_resp_free(&r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "talent"), "id")), t1);
    assert_string_equal(str(j, "status"), "active");
    json_t *w = json_object_get(j, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_string_equal(str(json_array_get(w, 0), "field"), "filed_date");
    assert_non_null(strstr(str(json_array_get(w, 0), "message_zh"), "备案"));
    json_decref(j);
    /* The unit is leased now. */
    char upath[64];
    snprintf(upath, sizeof upath, "/api/v1/units/%lld", unit_u1);
    j = expect(op1, "GET", upath, NULL, 200);
    assert_string_equal(str(j, "status"), "leased");
    assert_int_equal(json_array_size(json_object_get(j, "leases")), 1);
    json_decref(j);

    /* An overlapping lease of the same unit: 409 naming the date. */
    snprintf(body, sizeof body,
             "{\"talent_id\":%lld,\"unit_id\":\"%lld\",\"start_date\":\"2026-06-01\","
             "\"end_date\":\"2027-05-31\",\"signed_date\":\"2026-05-01\",\"rent\":\"4600\"}",
             t1, unit_u1);
    expect_error(op1, "POST", "/api/v1/leases", body, 409, "body.start_date",
                 (const char *const[]){"body.start_date", NULL});
    /* Bad input: every field named. */
    expect_error(clerk, "POST", "/api/v1/leases",
                 "{\"unit_id\":\"x\",\"start_date\":\"2026-02-30\",\"end_date\":\"2025-01-01\","
                 "\"signed_date\":\"soon\",\"rent\":\"0\",\"filing_no\":\"WQ-9\"}",
                 400, "body.talent_id",
                 (const char *const[]){"body.talent_id", "body.unit_id", "body.start_date",
                                       "body.signed_date", "body.rent", "body.filed_date", NULL});
    expect_error(clerk, "POST", "/api/v1/leases", "{\"rent\":4500.5}", 400, "body.rent", NULL);
    expect_error(clerk, "POST", "/api/v1/leases", "{\"tenant\":\"x\"}", 400, "body.tenant", NULL);
    /* Another operator, an employer's account, a talent cannot record it. */
    expect_error(op2, "POST", "/api/v1/leases", body, 400, "body.talent_id",
                 (const char *const[]){"body.talent_id", "body.unit_id", NULL});
    expect_error(hr1, "POST", "/api/v1/leases", body, 403, NULL, NULL);
    expect_error(tal1, "POST", "/api/v1/leases", body, 403, NULL, NULL);

    /* A lease outside the platform, recorded at a window for T2. */
    snprintf(body, sizeof body,
             "{\"talent_id\":%lld,\"address\":\"上海市徐汇区天钥桥路 100 弄 2 号\","
             "\"start_date\":\"2026-02-01\",\"end_date\":\"2027-01-31\","
             "\"signed_date\":\"2026-01-10\",\"rent\":\"3800\"}",
             t2);
    long long b = create(clerk, "/api/v1/leases", body);
    char bpath[64];
    snprintf(bpath, sizeof bpath, "/api/v1/leases/%lld", b);

    /* Who sees which. */
    struct {
        const char *who, *name;
        long long want_a, want_b;
    } views[] = {{clerk, "clerk", 1, 1}, {op1, "op1", 1, 0}, {op2, "op2", 0, 0},
                 {hr1, "hr1", 1, 0},     {hr2, "hr2", 0, 1}, {tal1, "tal1", 1, 0}};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        j = expect(views[i].who, "GET", "/api/v1/leases?sort=id", NULL, 200);
        long long total = (long long)json_integer_value(json_object_get(j, "total"));
        if (total != views[i].want_a + views[i].want_b)
            fail_msg("%s sees %lld leases", views[i].name, total);
        json_decref(j);
        if (views[i].want_a)
            json_decref(expect(views[i].who, "GET", path, NULL, 200));
        else
            expect_error(views[i].who, "GET", path, NULL, 404, "id", NULL);
        if (views[i].want_b)
            json_decref(expect(views[i].who, "GET", bpath, NULL, 200));
        else
            expect_error(views[i].who, "GET", bpath, NULL, 404, "id", NULL);
    }
    expect_error(boss, "GET", "/api/v1/leases", NULL, 403, NULL, NULL);
    expect_error(boss, "GET", path, NULL, 403, NULL, NULL);

    /* Filters. */
    j = expect(clerk, "GET", "/api/v1/leases?filed=no", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    assert_int_equal(id_of(json_array_get(json_object_get(j, "leases"), 0)), b);
    json_decref(j);
    snprintf(body, sizeof body, "/api/v1/leases?operator_id=%lld&status=active", o1);
    j = expect(clerk, "GET", body, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    j = expect(clerk, "GET", "/api/v1/leases?q=wq-2025-1", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    expect_error(clerk, "GET", "/api/v1/leases?status=open", NULL, 400, "status", NULL);
    expect_error(clerk, "GET", "/api/v1/leases?ends_before=tomorrow", NULL, 400, "ends_before",
                 NULL);
    expect_error(clerk, "GET", "/api/v1/leases?talent_id=x", NULL, 400, "talent_id", NULL);

    /* Change the rent, then end it early. */
    snprintf(body, sizeof body,
             "{\"talent_id\":%lld,\"unit_id\":%lld,\"start_date\":\"2026-01-01\","
             "\"end_date\":\"2026-12-31\",\"signed_date\":\"2025-11-01\",\"rent\":\"4700\","
             "\"filing_no\":\"WQ-2025-1\",\"filed_date\":\"2025-12-20\"}",
             t1, unit_u1);
    j = expect(op1, "PUT", path, body, 200);
    assert_string_equal(str(j, "rent"), "4700.00");
    json_decref(j);
    expect_error(op2, "PUT", path, body, 404, "id", NULL);
    char end[128];
    snprintf(end, sizeof end, "%s/end", path);
    expect_error(op1, "POST", end, "{\"ended_on\":\"2027-01-01\",\"reason\":\"退租\"}", 400,
                 "body.ended_on", (const char *const[]){"body.ended_on", NULL});
    expect_error(op1, "POST", end, "{\"ended_on\":\"\",\"reason\":\"\"}", 400, "body.ended_on",
                 (const char *const[]){"body.ended_on", "body.reason", NULL});
    expect_error(op1, "POST", end, "{\"ended_on\":\"2026-06-30\",\"why\":\"x\"}", 400, "body.why",
                 NULL);
    expect_error(op2, "POST", end, "{\"ended_on\":\"2026-06-30\",\"reason\":\"退租\"}", 404, "id",
                 NULL);
    expect_error(hr1, "POST", end, "{\"ended_on\":\"2026-06-30\",\"reason\":\"退租\"}", 403, NULL,
                 NULL);
    j = expect(op1, "POST", end, "{\"ended_on\":\"2026-06-30\",\"reason\":\"提前退租\"}", 200);
    assert_string_equal(str(j, "status"), "terminated");
    assert_string_equal(str(j, "ended_on"), "2026-06-30");
    json_decref(j);
    expect_error(op1, "POST", end, "{\"ended_on\":\"2026-06-30\",\"reason\":\"again\"}", 409,
                 "body.status", (const char *const[]){"body.status", NULL});
    expect_error(op1, "PUT", path, body, 409, "body.status", NULL);
    j = expect(op1, "GET", upath, NULL, 200);
    assert_string_equal(str(j, "status"), "listed");
    json_decref(j);

    /* The history, as the tenant sees it too. */
    snprintf(end, sizeof end, "%s/history", path);
    j = expect(tal1, "GET", end, NULL, 200);
    json_t *h = json_object_get(j, "history");
    assert_int_equal(json_array_size(h), 3);
    assert_string_equal(str(json_array_get(h, 0), "action"), "lease.end");
    assert_string_equal(str(json_array_get(h, 1), "action"), "lease.update");
    assert_string_equal(str(json_array_get(h, 2), "action"), "lease.create");
    json_decref(j);
    expect_error(op2, "GET", end, NULL, 404, "id", NULL);
}

/* Exports of the housing lists: CSV and .xlsx, the list's filters, within
 * the account's scope, tenants' ID numbers masked, each one audited. */
static void test_exports(void **state)
{
    (void)state;
    if (!unit_u1) skip();
    struct tu_resp r;
    call(op1, "GET", "/api/v1/units/export?format=csv", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/csv"));
    assert_non_null(strstr(tu_header(&r, "Content-Disposition"), "units-"));
    assert_int_equal(memcmp(r.body, "\xEF\xBB\xBF", 3), 0);
    assert_non_null(strstr(r.body, "房源核验码"));
    assert_non_null(strstr(r.body, "宜山路 700 号 1201 室"));
    assert_non_null(strstr(r.body, "4500.00"));
    assert_non_null(strstr(r.body, "45.50"));
    assert_null(strstr(r.body, "桂平路")); /* OP-2's unit */
    assert_string_equal(tu_header(&r, "X-Export-Rows"), "2");
    tu_resp_free(&r);
    /* The list's filters: the clerk's market units of OP-2. */
    call(clerk, "GET", "/api/v1/units/export?format=csv&q=%E6%A1%82%E5%B9%B3%E8%B7%AF", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(tu_header(&r, "X-Export-Rows"), "1");
    assert_non_null(strstr(r.body, "桂平路"));
    tu_resp_free(&r);
    expect_error(clerk, "GET", "/api/v1/units/export?rent_min=abc", NULL, 400, "rent_min", NULL);
    expect_error(clerk, "GET", "/api/v1/units/export?format=pdf", NULL, 400, "format", NULL);

    /* Leases: the tenant's ID number masked, never whole. */
    call(op1, "GET", "/api/v1/leases/export?format=csv", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "承租人证件号码"));
    char masked[24];
    snprintf(masked, sizeof masked, "%.6s********%.4s", id1, id1 + 14);
    assert_non_null(strstr(r.body, masked));
    assert_null(strstr(r.body, id1));
    tu_resp_free(&r);
    call(op2, "GET", "/api/v1/leases/export?format=csv", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(tu_header(&r, "X-Export-Rows"), "0");
    assert_null(strstr(r.body, masked));
    tu_resp_free(&r);

    /* Operators as .xlsx (a zip); an operator's account gets its own. */
    json_t *list = expect(clerk, "GET", "/api/v1/operators", NULL, 200);
    char total[24];
    snprintf(total, sizeof total, "%lld",
             (long long)json_integer_value(json_object_get(list, "total")));
    json_decref(list);
    call(clerk, "GET", "/api/v1/operators/export", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(memcmp(r.body, "PK", 2), 0);
    assert_string_equal(tu_header(&r, "X-Export-Rows"), total);
    tu_resp_free(&r);
    call(op2, "GET", "/api/v1/operators/export?format=csv", NULL, &r);
    assert_string_equal(tu_header(&r, "X-Export-Rows"), "1");
    assert_non_null(strstr(r.body, "OP-2"));
    assert_null(strstr(r.body, "OP-1"));
    tu_resp_free(&r);

    /* Each export is an audit row of its kind. */
    json_t *j = expect(auditor, "GET", "/api/v1/audit?action=registry.export&per_page=50", NULL,
                       200);
    int units = 0, leases = 0, operators = 0;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(j, "entries"), i, row)
    {
        const char *type = str(row, "object_type");
        units += !strcmp(type, "unit");
        leases += !strcmp(type, "lease");
        operators += !strcmp(type, "operator");
    }
    json_decref(j);
    assert_int_equal(units, 2);
    assert_int_equal(leases, 2);
    assert_int_equal(operators, 2);
}

/* Chinese by default: the same refusal in the other language. */
static void test_chinese_errors(void **state)
{
    (void)state;
    char h[512];
    snprintf(h, sizeof h, "%sContent-Type: application/json\r\n", clerk);
    struct tu_resp r;
    tu_request(srv.port, "POST", "/api/v1/units", h,
               "{\"operator\":\"OP-1\",\"address\":\"某路\",\"area\":\"45\",\"rooms\":1,"
               "\"rent\":\"4500\",\"kind\":\"market\",\"status\":\"listed\"}",
               &r);
    assert_int_equal(r.status, 400);
    json_t *j = body_json(&r);
    tu_resp_free(&r);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    assert_non_null(strstr(msg, "房源核验码"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_leases),
        cmocka_unit_test(test_exports),
        cmocka_unit_test(test_chinese_errors),
    };
    return cmocka_run_group_tests_name(
        tu_pg_url() ? "housing api (postgres)" : "housing api (sqlite)", tests, setup, teardown);
}
