/* test_multipart.c - multipart/form-data bodies as browsers send them, every
 * refusal, and the in-memory holder of uploads awaiting confirmation. */
#include "testutil.h"

#include "core/arena.h"
#include "http/multipart.h"
#include "web/uploads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B "----WebKitFormBoundary7MA4YWxkTrZu0gW"

static arena *A;

static int setup(void **state)
{
    (void)state;
    A = arena_new(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(A);
    return 0;
}

static int parse(const char *body, size_t len, multipart_part *parts, int max, int *n, ql_err *e)
{
    return multipart_parse(B, body, len, A, parts, max, n, e);
}

static void test_boundary(void **state)
{
    (void)state;
    char b[80];
    ql_err e;
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=" B, b, sizeof b, &e), 0);
    assert_string_equal(b, B);
    assert_int_equal(multipart_boundary("Multipart/Form-Data;boundary=\"a b\"", b, sizeof b, &e), 0);
    assert_string_equal(b, "a b");
    assert_int_equal(multipart_boundary("multipart/form-data; charset=utf-8; boundary=xyz", b,
                                        sizeof b, &e),
                     0);
    assert_string_equal(b, "xyz");
    /* Not multipart: 415. No or bad boundary: 400 naming Content-Type. */
    assert_int_equal(multipart_boundary("application/json", b, sizeof b, &e), QL_EMEDIA);
    assert_int_equal(multipart_boundary(NULL, b, sizeof b, &e), QL_EMEDIA);
    assert_int_equal(multipart_boundary("multipart/form-datax; boundary=a", b, sizeof b, &e),
                     QL_EMEDIA);
    assert_int_equal(multipart_boundary("multipart/form-data", b, sizeof b, &e), QL_EINVAL);
    assert_string_equal(e.field, "Content-Type");
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b, sizeof b, &e), QL_EINVAL);
    char longb[120] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'x', 71);
    assert_int_equal(multipart_boundary(longb, b, sizeof b, &e), QL_EINVAL);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"open", b, sizeof b, &e),
                     QL_EINVAL);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=a\x01z", b, sizeof b, &e),
                     QL_EINVAL);
}

static void test_browser_body(void **state)
{
    (void)state;
    /* What Chromium sends for a form with a token, a radio and a file. */
    static const char body[] =
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"_csrf\"\r\n\r\n"
        "tok123\r\n"
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"kind\"\r\n\r\n"
        "talents\r\n"
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\Users\\\\张\\\\人才.csv\"\r\n"
        "Content-Type: text/csv\r\n\r\n"
        "姓名,身份证号码\r\n李四,1\r\n\r\n"
        "--" B "--\r\n";
    multipart_part p[8];
    int n;
    ql_err e;
    assert_int_equal(parse(body, sizeof body - 1, p, 8, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(p[0].name, "_csrf");
    assert_null(p[0].filename);
    assert_int_equal(p[0].len, 6);
    assert_memory_equal(p[0].data, "tok123", 6);
    assert_string_equal(p[1].name, "kind");
    assert_string_equal(p[2].name, "file");
    /* The path is cut to the file's own name; the content keeps its last line end. */
    assert_string_equal(p[2].filename, "人才.csv");
    assert_string_equal(p[2].type, "text/csv");
    const char *want = "姓名,身份证号码\r\n李四,1\r\n";
    assert_int_equal(p[2].len, strlen(want));
    assert_memory_equal(p[2].data, want, strlen(want));
}

static void test_edges(void **state)
{
    (void)state;
    multipart_part p[4];
    int n;
    ql_err e;
    /* A preamble before the first boundary and an epilogue after the last. */
    static const char pre[] = "ignored preamble\r\n--" B "\r\nContent-Disposition: form-data; "
                              "name=a\r\n\r\n1\r\n--" B "--\r\nepilogue";
    assert_int_equal(parse(pre, sizeof pre - 1, p, 4, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(p[0].name, "a");
    assert_int_equal(p[0].len, 1);
    /* An empty file and an empty form. */
    static const char empty_file[] = "--" B "\r\nContent-Disposition: form-data; name=\"file\"; "
                                     "filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                                     "\r\n--" B "--\r\n";
    assert_int_equal(parse(empty_file, sizeof empty_file - 1, p, 4, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(p[0].filename, "");
    assert_int_equal(p[0].len, 0);
    static const char none[] = "--" B "--\r\n";
    assert_int_equal(parse(none, sizeof none - 1, p, 4, &n, &e), 0);
    assert_int_equal(n, 0);
    /* Content that holds the boundary text without a line end before it. */
    static const char inner[] = "--" B "\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"
                                "a--" B "b\r\n--" B "--";
    assert_int_equal(parse(inner, sizeof inner - 1, p, 4, &n, &e), 0);
    assert_int_equal(p[0].len, strlen("a--" B "b"));
    /* Escaped quotes in a name. */
    static const char esc[] = "--" B "\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\n"
                              "v\r\n--" B "--";
    assert_int_equal(parse(esc, sizeof esc - 1, p, 4, &n, &e), 0);
    assert_string_equal(p[0].name, "a\"b");
}

static void test_refusals(void **state)
{
    (void)state;
    multipart_part p[2];
    int n;
    ql_err e;
    static const struct {
        const char *body;
        int code;
    } cases[] = {
        {"", QL_EINVAL},                                         /* nothing at all */
        {"no boundary here", QL_EINVAL},                         /* no delimiter */
        {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated", QL_EINVAL},
        {"--" B "\r\nContent-Disposition: form-data\r\n\r\nv\r\n--" B "--", QL_EINVAL}, /* no name */
        {"--" B "\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--" B "--", QL_EINVAL},
        {"--" B "\r\nbad header\r\n\r\nv\r\n--" B "--", QL_EINVAL},          /* no colon */
        {"--" B "\r\nContent-Disposition: form-data; name=a\r\n", QL_EINVAL}, /* headers never end */
        {"--" B "garbage\r\n", QL_EINVAL},                                    /* no line end */
        {"--" B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--" B "--", QL_EINVAL},
        {"--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--" B
         "\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--" B
         "\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n--" B "--",
         QL_ETOOBIG}, /* more parts than allowed */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&e, 0, sizeof e);
        int rc = parse(cases[i].body, strlen(cases[i].body), p, 2, &n, &e);
        if (rc != cases[i].code) fail_msg("case %zu: %d, expected %d", i, rc, cases[i].code);
        assert_string_equal(e.field, "body");
        assert_true(e.en[0] && e.zh[0]);
    }
    /* Too many header lines in one part. */
    char many[4096];
    int k = snprintf(many, sizeof many, "--" B "\r\nContent-Disposition: form-data; name=a\r\n");
    for (int i = 0; i < 20; i++) k += snprintf(many + k, sizeof many - (size_t)k, "X-H: %d\r\n", i);
    snprintf(many + k, sizeof many - (size_t)k, "\r\nv\r\n--" B "--");
    assert_int_equal(parse(many, strlen(many), p, 2, &n, &e), QL_EINVAL);
}

static void test_uploads(void **state)
{
    (void)state;
    char tok[UPLOAD_TOKEN_LEN + 1], tok2[UPLOAD_TOKEN_LEN + 1];
    void *data;
    size_t len;
    char kind[16], name[64];
    assert_int_equal(uploads_put(7, "talents", "a.csv", "abc", 3, 1000, tok), 0);
    assert_int_equal(strlen(tok), UPLOAD_TOKEN_LEN);
    /* Another account cannot take it; a wrong token finds nothing. */
    assert_int_equal(uploads_take(8, tok, 1001, &data, &len, kind, sizeof kind, name, sizeof name), -1);
    assert_int_equal(uploads_take(7, "0123", 1001, &data, &len, kind, sizeof kind, name, sizeof name), -1);
    assert_int_equal(uploads_take(7, tok, 1001, &data, &len, kind, sizeof kind, name, sizeof name), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "abc", 3);
    assert_string_equal(kind, "talents");
    assert_string_equal(name, "a.csv");
    free(data);
    /* Taken once only. */
    assert_int_equal(uploads_take(7, tok, 1001, &data, &len, kind, sizeof kind, name, sizeof name), -1);
    /* A second upload by the same account replaces the first. */
    assert_int_equal(uploads_put(7, "talents", "a.csv", "1", 1, 1000, tok), 0);
    assert_int_equal(uploads_put(7, "employers", "b.csv", "22", 2, 1000, tok2), 0);
    assert_int_equal(uploads_take(7, tok, 1001, &data, &len, kind, sizeof kind, name, sizeof name), -1);
    assert_int_equal(uploads_take(7, tok2, 1001, &data, &len, kind, sizeof kind, name, sizeof name), 0);
    assert_string_equal(kind, "employers");
    free(data);
    /* Expired after UPLOAD_TTL_S. */
    assert_int_equal(uploads_put(9, "talents", "c.csv", "x", 1, 1000, tok), 0);
    assert_int_equal(uploads_take(9, tok, 1000 + UPLOAD_TTL_S + 1, &data, &len, kind, sizeof kind,
                                  name, sizeof name),
                     -1);
    /* Bounded: more accounts than slots push out the oldest. */
    char first[UPLOAD_TOKEN_LEN + 1];
    assert_int_equal(uploads_put(100, "talents", "0.csv", "x", 1, 2000, first), 0);
    for (int i = 1; i <= UPLOADS_MAX; i++)
        assert_int_equal(uploads_put(100 + i, "talents", "n.csv", "x", 1, 2000 + i, tok), 0);
    assert_int_equal(uploads_take(100, first, 2100, &data, &len, kind, sizeof kind, name, sizeof name), -1);
    assert_int_equal(uploads_take(100 + UPLOADS_MAX, tok, 2100, &data, &len, kind, sizeof kind,
                                  name, sizeof name),
                     0);
    free(data);
    uploads_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_browser_body),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_uploads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
