/* test_registry_io.c - registry files over the JSON API on a real server:
 * import templates, CSV imports (dry run, all or nothing, exactly the bad
 * row reported, GBK), and exports (.xlsx and CSV, masked, filtered, within
 * an employer's scope), on SQLite and (with QL_TEST_PG) PostgreSQL. */
#include "testutil.h"

#include "core/buf.h"

#include <iconv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPLOYER_A "91350100M000100Y43"

static struct tu_server srv;
static char admin_auth[256], hr_auth[256], audit_auth[256];
static char employer_b[24];

/* ---- valid identifiers ------------------------------------------------ */

/* A GB 11643 ID number: area 310104, birth 1990-01-01 plus day days, the
 * sequence seq (0-999). */
static void id_number(int day, int seq, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    int y = 1990, m = 1, d = 1 + day;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    while (d > mdays[m - 1]) {
        d -= mdays[m - 1];
        if (++m > 12) m = 1, y++;
    }
    char digits[64];
    snprintf(digits, sizeof digits, "310104%04d%02d%02d%03d", y, m, d, seq % 1000);
    memcpy(out, digits, 17);
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (out[i] - '0') * w[i];
    out[17] = check[sum % 11];
    out[18] = '\0';
}

/* A GB 32100 credit code from 17 characters. */
static void credit_code(const char *first17, char out[19])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (int)(strchr(alphabet, first17[i]) - alphabet) * w[i];
    memcpy(out, first17, 17);
    out[17] = alphabet[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* ---- HTTP helpers ----------------------------------------------------- */

static json_t *body_json(const struct tu_resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    if (!j) fail_msg("status %d, body is not JSON (%s): %.300s", r->status, e.text, r->body);
    return j;
}

static void request(const char *method, const char *path, const char *auth, const char *ctype,
                    const char *body, struct tu_resp *r)
{
    char h[512];
    snprintf(h, sizeof h, "%s%s%s%s", auth, ctype ? "Content-Type: " : "", ctype ? ctype : "",
             ctype ? "\r\n" : "");
    tu_request(srv.port, method, path, h, body, r);
}

/* POSTs a CSV import and returns the report (status in *status). */
static json_t *import(const char *kind, int commit, const char *auth, const char *csv, int *status)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/imports/%s?commit=%d", kind, commit);
    struct tu_resp r;
    request("POST", path, auth, "text/csv", csv, &r);
    *status = r.status;
    json_t *j = body_json(&r);
    tu_resp_free(&r);
    return j;
}

static long header_long(const struct tu_resp *r, const char *name)
{
    const char *v = tu_header(r, name);
    if (!v) fail_msg("no %s header", name);
    return strtol(v, NULL, 10);
}

static int64_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Talents visible to auth (the count as the list reports it). */
static int64_t talent_total(const char *auth)
{
    struct tu_resp r;
    request("GET", "/api/v1/talents?per_page=1", auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    int64_t n = num(j, "total");
    json_decref(j);
    tu_resp_free(&r);
    return n;
}

static int setup(void **state)
{
    (void)state;
    tu_server_start(&srv, NULL);
    credit_code("91310104MA1FL0000", employer_b);
    /* a window clerk who also reviews (an administrator may not review:
     * separation of duties); the log read by an auditor */
    tu_add_user(&srv, "io.admin", "window_clerk,reviewer", NULL, "Wide-Harbor-Lights-26");
    char *tok = tu_token(&srv, "io.admin", "registry.read registry.write personal.unmask");
    snprintf(admin_auth, sizeof admin_auth, "Authorization: Bearer %s\r\n", tok);
    free(tok);
    tu_add_user(&srv, "io.auditor", "auditor", NULL, "Wide-Harbor-Lights-26");
    tok = tu_token(&srv, "io.auditor", "audit.read");
    snprintf(audit_auth, sizeof audit_auth, "Authorization: Bearer %s\r\n", tok);
    free(tok);
    tu_add_user(&srv, "io.hr", "employer_hr", "employer:" EMPLOYER_A, "Quiet-Paper-Boat-48");
    tok = tu_token(&srv, "io.hr", "registry.read registry.write");
    snprintf(hr_auth, sizeof hr_auth, "Authorization: Bearer %s\r\n", tok);
    free(tok);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------ */

static void test_templates(void **state)
{
    (void)state;
    struct tu_resp r;
    request("GET", "/api/v1/imports/talents/template", admin_auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/csv"));
    assert_non_null(strstr(tu_header(&r, "Content-Disposition"), "attachment"));
    assert_memory_equal(r.body, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(r.body, "身份证号码"));
    tu_resp_free(&r);
    request("GET", "/api/v1/imports/leases/template", admin_auth, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);
    /* The templates themselves import: employers first, then the talent. */
    request("GET", "/api/v1/imports/employers/template", admin_auth, NULL, NULL, &r);
    int status;
    json_t *rep = import("employers", 1, admin_auth, r.body, &status);
    assert_int_equal(status, 200);
    assert_int_equal(num(rep, "imported"), 1);
    json_decref(rep);
    tu_resp_free(&r);
    request("GET", "/api/v1/imports/talents/template", admin_auth, NULL, NULL, &r);
    rep = import("talents", 0, admin_auth, r.body, &status);
    assert_int_equal(status, 200);
    assert_true(json_is_true(json_object_get(rep, "dry_run")));
    assert_int_equal(num(rep, "imported"), 0);
    assert_int_equal(num(rep, "rows"), 1);
    json_decref(rep);
    assert_int_equal(talent_total(admin_auth), 0); /* a dry run stores nothing */
    rep = import("talents", 1, admin_auth, r.body, &status);
    assert_int_equal(status, 200);
    assert_int_equal(num(rep, "imported"), 1);
    assert_string_equal(json_string_value(json_object_get(rep, "encoding")), "utf-8-bom");
    json_decref(rep);
    assert_int_equal(talent_total(admin_auth), 1);
    /* The same file again: the person is registered; reported, nothing stored. */
    rep = import("talents", 1, admin_auth, r.body, &status);
    assert_int_equal(status, 422);
    assert_int_equal(num(rep, "bad_rows"), 1);
    json_t *p = json_array_get(json_object_get(rep, "problem_list"), 0);
    assert_int_equal(num(p, "row"), 2);
    assert_string_equal(json_string_value(json_object_get(p, "field")), "id_number");
    json_decref(rep);
    tu_resp_free(&r);
}

/* A file of n talents of employer_b, with row bad_row (1-based data row)
 * given an impossible birth date when bad_row > 0. */
static char *talent_file(int n, int first, int bad_row)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "姓名,身份证号码,手机号码,学历,用人单位统一社会信用代码,入职日期,银行卡号\r\n");
    for (int i = 0; i < n; i++) {
        char id[19];
        int k = first + i;
        id_number(k / 1000, k % 1000, id);
        if (i + 1 == bad_row) memcpy(id + 10, "1332", 4); /* 13 月 32 日 */
        buf_printf(&b, "测试%d,%s,139%08d,%s,%s,2024-03-01,\r\n", k, id, k,
                   i % 3 == 0 ? "本科" : i % 3 == 1 ? "硕士" : "博士", employer_b);
    }
    return b.data;
}

static void test_all_or_nothing_10000(void **state)
{
    (void)state;
    struct tu_resp r;
    char emp[256];
    snprintf(emp, sizeof emp,
             "统一社会信用代码,单位名称,行业\r\n%s,某生命健康科技有限公司,生命健康\r\n", employer_b);
    int status;
    json_t *rep = import("employers", 1, admin_auth, emp, &status);
    assert_int_equal(status, 200);
    json_decref(rep);
    int64_t before = talent_total(admin_auth);

    char *bad = talent_file(10000, 1000, 5000);
    rep = import("talents", 1, admin_auth, bad, &status);
    assert_int_equal(status, 422);
    assert_int_equal(num(rep, "rows"), 10000);
    assert_int_equal(num(rep, "bad_rows"), 1);
    assert_int_equal(num(rep, "problems"), 1);
    assert_int_equal(num(rep, "imported"), 0);
    json_t *list = json_object_get(rep, "problem_list");
    assert_int_equal(json_array_size(list), 1);
    json_t *p = json_array_get(list, 0);
    assert_int_equal(num(p, "row"), 5001); /* data row 5000 is spreadsheet row 5001 */
    assert_string_equal(json_string_value(json_object_get(p, "column")), "身份证号码");
    assert_string_equal(json_string_value(json_object_get(p, "field")), "id_number");
    assert_true(json_string_length(json_object_get(p, "message_zh")) > 0);
    assert_true(json_string_length(json_object_get(p, "message_en")) > 0);
    json_decref(rep);
    free(bad);
    assert_int_equal(talent_total(admin_auth), before); /* nothing stored */

    /* The same file fixed: every row. */
    char *good = talent_file(10000, 1000, 0);
    rep = import("talents", 1, admin_auth, good, &status);
    assert_int_equal(status, 200);
    assert_int_equal(num(rep, "imported"), 10000);
    json_decref(rep);
    free(good);
    request("GET", "/api/v1/talents?per_page=1&q=%E6%B5%8B%E8%AF%951000", admin_auth, NULL, NULL,
            &r); /* q=测试1000: names start with it */
    json_t *j = body_json(&r);
    assert_true(num(j, "total") >= 1);
    json_decref(j);
    tu_resp_free(&r);
    request("GET", "/api/v1/talents?per_page=1", admin_auth, NULL, NULL, &r);
    j = body_json(&r);
    /* Past the count cap the list says "more" rather than counting on. */
    assert_true(json_is_true(json_object_get(j, "more")));
    json_decref(j);
    tu_resp_free(&r);
}

static void test_gbk_file(void **state)
{
    (void)state;
    char *utf8 = talent_file(3, 20000, 0);
    iconv_t cd = iconv_open("GBK", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t inleft = strlen(utf8), outleft = inleft * 2 + 1;
    char *gbk = calloc(1, outleft + 1), *in = utf8, *out = gbk;
    assert_true(iconv(cd, &in, &inleft, &out, &outleft) != (size_t)-1);
    iconv_close(cd);
    int status;
    json_t *rep = import("talents", 1, admin_auth, gbk, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(rep, "encoding")), "gb18030");
    assert_int_equal(num(rep, "imported"), 3);
    json_decref(rep);
    free(gbk);
    free(utf8);
    /* The names arrived as UTF-8. */
    struct tu_resp r;
    request("GET", "/api/v1/talents?q=%E6%B5%8B%E8%AF%9520001", admin_auth, NULL, NULL, &r);
    json_t *j = body_json(&r);
    assert_int_equal(num(j, "total"), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "talents"), 0), "name")),
                        "测试20001");
    json_decref(j);
    tu_resp_free(&r);
}

static void test_import_refusals(void **state)
{
    (void)state;
    struct tu_resp r;
    request("POST", "/api/v1/imports/talents", admin_auth, "text/csv", "", &r);
    assert_int_equal(r.status, 400);
    tu_resp_free(&r);
    request("POST", "/api/v1/imports/talents?commit=2", admin_auth, "text/csv", "a\r\n", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "commit"));
    tu_resp_free(&r);
    /* A header the import does not know: the whole file is refused, naming the column. */
    request("POST", "/api/v1/imports/talents", admin_auth, "text/csv", "姓名,鞋码\r\n张三,42\r\n", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "鞋码"));
    tu_resp_free(&r);
    /* An employer's HR account imports its own staff only, and no employers. */
    char *other = talent_file(1, 30000, 0);
    int status;
    json_t *rep = import("talents", 1, hr_auth, other, &status);
    assert_int_equal(status, 422);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(rep, "problem_list"), 0), "field")),
                        "employer");
    json_decref(rep);
    free(other);
    request("POST", "/api/v1/imports/employers?commit=1", hr_auth, "text/csv",
            "统一社会信用代码,单位名称\r\n" EMPLOYER_A ",x\r\n", &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
}

static void test_exports(void **state)
{
    (void)state;
    struct tu_resp r;
    /* CSV of a filter: exactly the matching rows, masked. */
    request("GET", "/api/v1/talents/export?format=csv&q=%E6%B5%8B%E8%AF%952000", admin_auth, NULL,
            NULL, &r); /* 测试2000: 测试2000 and 测试20000-20002 */
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/csv"));
    assert_non_null(strstr(tu_header(&r, "Content-Disposition"), "talents-"));
    long rows = header_long(&r, "X-Export-Rows");
    assert_int_equal(rows, 4);
    char id[19];
    id_number(2000 / 1000, 2000 % 1000, id);
    assert_null(strstr(r.body, id)); /* never the plain ID number */
    char masked[40];
    snprintf(masked, sizeof masked, "%.6s********%.4s", id, id + 14);
    assert_non_null(strstr(r.body, masked));
    int lines = 0;
    for (size_t i = 0; i < r.body_len; i++) lines += r.body[i] == '\n';
    assert_int_equal(lines, 1 + rows);
    tu_resp_free(&r);

    /* .xlsx: a zip file. */
    request("GET", "/api/v1/talents/export?education=doctor", admin_auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "spreadsheetml"));
    assert_memory_equal(r.body, "PK\x03\x04", 4);
    assert_true(header_long(&r, "X-Export-Rows") >= 3333);
    tu_resp_free(&r);

    request("GET", "/api/v1/talents/export?format=pdf", admin_auth, NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"format\""));
    tu_resp_free(&r);

    /* An employer's HR account exports its own staff only. */
    request("GET", "/api/v1/talents/export?format=csv", hr_auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(header_long(&r, "X-Export-Rows"), 1); /* the template's person */
    assert_null(strstr(r.body, employer_b));
    assert_non_null(strstr(r.body, EMPLOYER_A));
    tu_resp_free(&r);
    request("GET", "/api/v1/employers/export?format=csv", hr_auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(header_long(&r, "X-Export-Rows"), 1);
    tu_resp_free(&r);
    request("GET", "/api/v1/employers/export?format=csv", admin_auth, NULL, NULL, &r);
    assert_int_equal(header_long(&r, "X-Export-Rows"), 2);
    tu_resp_free(&r);

    /* Every export is in the audit log, which still verifies. */
    request("GET", "/api/v1/audit?action=registry.export", audit_auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_int_equal(num(j, "total"), 5);
    json_decref(j);
    tu_resp_free(&r);
    char out[65536], err[4096];
    int rc = tu_cli(&srv, (const char *const[]){"audit", "verify", NULL}, NULL, out, sizeof out,
                    err, sizeof err);
    if (rc) fail_msg("audit verify: %s%s", out, err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_all_or_nothing_10000),
        cmocka_unit_test(test_gbk_file),
        cmocka_unit_test(test_import_refusals),
        cmocka_unit_test(test_exports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
