/* test_h1.c - the strict HTTP/1.1 head and chunked-body parser
 * (src/http/h1.c): what it accepts, and each way a request could be read
 * twice that it refuses. */
#include "testutil.h"

#include "core/buf.h"
#include "http/h1.h"
#include "http/server_impl.h"

#include <string.h>

/* Parses a whole head given as a C string; returns the status (0 = ok). */
static int parse(const char *text, struct h1_head *h)
{
    struct h1_error e = {0};
    size_t len = strlen(text), scan = 0;
    size_t end = h1_head_end(text, len, &scan);
    if (end == 0) return -1; /* incomplete */
    return h1_parse_head(text, end, h, &e) == H1_DONE ? 0 : e.status;
}

static void test_head_end(void **state)
{
    (void)state;
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT";
    size_t scan = 0, n = strlen(req);
    /* Fed a byte at a time, the end is found exactly once, at the right place. */
    size_t found = 0;
    for (size_t k = 1; k <= n; k++) {
        size_t e = h1_head_end(req, k, &scan);
        if (e) {
            found = e;
            break;
        }
    }
    assert_int_equal(found, n - 4);
    /* Bare LF line ends, and empty lines before the request line. */
    scan = 0;
    assert_int_equal(h1_head_end("\r\n\nGET / HTTP/1.1\nHost: x\n\n", 27, &scan), 27);
    scan = 0;
    assert_int_equal(h1_head_end("GET / HTTP/1.1\r\nHost: x\r\n", 25, &scan), 0);
    scan = 0;
    assert_int_equal(h1_head_end("\r\n\r\n", 4, &scan), 0); /* only empty lines: no head yet */
}

static void test_good_heads(void **state)
{
    (void)state;
    struct h1_head h;
    assert_int_equal(parse("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Y:  v w \t\r\n\r\n", &h), 0);
    assert_int_equal(h.method_len, 3);
    assert_memory_equal(h.target, "/a?b=1", 6);
    assert_int_equal(h.minor, 1);
    assert_true(h.keep_alive);
    size_t vl;
    const char *v = h1_header(&h, "x-y", &vl);
    assert_non_null(v);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "v w", 3);

    assert_int_equal(
        parse("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\n", &h),
        0);
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 12);
    assert_false(h.keep_alive);

    assert_int_equal(parse("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
                           "Expect: 100-Continue\r\n\r\n",
                           &h),
                     0);
    assert_true(h.chunked);
    assert_true(h.expect_continue);

    /* HTTP/1.0: no Host needed, keep-alive only when asked for. */
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), 0);
    assert_int_equal(h.minor, 0);
    assert_false(h.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), 0);
    assert_true(h.keep_alive);
    /* UTF-8 (obs-text) in a value is kept as it is. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nX-Name: \xe5\xbc\xa0\r\n\r\n", &h), 0);
}

static void test_smuggling_refused(void **state)
{
    (void)state;
    struct h1_head h;
    /* Two lengths, even equal ones; a length with a transfer coding. */
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                           "Content-Length: 5\r\n\r\n",
                           &h),
                     400);
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                           "Content-Length: 6\r\n\r\n",
                           &h),
                     400);
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           &h),
                     400);
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           "Content-Length: 5\r\n\r\n",
                           &h),
                     400);
    /* Lengths that are not plain digits. */
    static const char *const lengths[] = {"5, 5", "+5",  "-1",  " ",
                                          "0x10", "5 5", "1e3", "9999999999999999999"};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        char req[200];
        snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\n",
                 lengths[i]);
        if (parse(req, &h) != 400) fail_msg("Content-Length '%s' was accepted", lengths[i]);
    }
    /* Transfer codings: chunked must be last and once; others are not served. */
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", &h), 400);
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", &h),
        400);
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h), 501);
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           &h),
                     400);
    assert_int_equal(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &h), 400);
    /* Folded lines, white space before the colon, bare CR, controls. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n", &h), 400);
    /* Host: exactly one on HTTP/1.1. */
    assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &h), 400);
    /* Request lines. */
    assert_int_equal(parse("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", &h), 400);
    assert_int_equal(parse("G(ET / HTTP/1.1\r\nHost: x\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n", &h), 505);
    assert_int_equal(parse("GET / HTTPS/1.1\r\nHost: x\r\n\r\n", &h), 400);
    assert_int_equal(parse("GET /\r\n\r\n", &h), 400); /* HTTP/0.9 */
    /* Expect other than 100-continue. */
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", &h), 417);
    /* Too many header lines. */
    buf b = BUF_INIT;
    buf_puts(&b, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < H1_MAX_HEADERS; i++) buf_printf(&b, "X-%d: v\r\n", i);
    buf_puts(&b, "\r\n");
    assert_int_equal(parse(b.data, &h), 431);
    buf_free(&b);
}

/* Decodes body in pieces of step bytes into out; returns H1_* and the
 * decoded length in *n. */
static int feed_all(const char *body, size_t len, size_t step, char *out, size_t room, size_t *n,
                    size_t *rest)
{
    struct h1_chunked st = {0};
    struct h1_error e;
    size_t pos = 0, o = 0;
    int rc = H1_MORE;
    while (pos < len && rc == H1_MORE) {
        size_t k = len - pos < step ? len - pos : step;
        size_t used = 0, got = 0;
        rc = h1_chunked_feed(&st, body + pos, k, out + o, room - o, &used, &got, &e);
        if (rc == H1_ERROR) return rc;
        pos += used;
        o += got;
        if (used == 0 && got == 0) break;
    }
    *n = o;
    *rest = len - pos;
    return rc;
}

static void test_chunked(void **state)
{
    (void)state;
    static const char body[] = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nGET";
    char out[64];
    size_t n, rest;
    for (size_t step = 1; step <= sizeof body; step++) {
        assert_int_equal(feed_all(body, sizeof body - 1, step, out, sizeof out, &n, &rest),
                         H1_DONE);
        assert_int_equal(n, 11);
        assert_memory_equal(out, "hello world", 11);
        assert_int_equal(rest, 3); /* the next request's bytes are left alone */
    }
    /* Bare LF line ends are accepted. */
    assert_int_equal(feed_all("3\nabc\n0\n\n", 9, 4, out, sizeof out, &n, &rest), H1_DONE);
    assert_int_equal(n, 3);
    /* Malformed chunks. */
    static const char *const bad[] = {"x\r\n",           "\r\n",
                                      "5\r\nhelloX\r\n", "1000000000000000\r\n",
                                      "5 x\r\n",         "3\r\nabc\r\n0\r\nX\x01\r\n\r\n",
                                      "3\rabc\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (feed_all(bad[i], strlen(bad[i]), 2, out, sizeof out, &n, &rest) != H1_ERROR)
            fail_msg("chunked body %zu was accepted", i);
    /* No room: the decoder stops and waits, nothing is lost. */
    assert_int_equal(feed_all("5\r\nhello\r\n0\r\n\r\n", 15, 15, out, 2, &n, &rest), H1_MORE);
    assert_int_equal(n, 2);
}

static void test_log_path_masks_numbers(void **state)
{
    (void)state;
    struct {
        const char *uri, *want;
    } cases[] = {
        {"/api/v1/talents/42?id=310104199001011234", "/api/v1/talents/42"},
        {"/x/310104199001011234/y", "/x/******************/y"},
        {"/x/11010519491231002X", "/x/******************"},
        {"/m/13800138000", "/m/***********"},
        {"/c/6222021234567890123/", "/c/*******************/"},
        {"/x/%33%31%30%31%30%34%31%39%39%30%30", "/x/*********************************"},
        {"/api/v1/cycles/2026-11", "/api/v1/cycles/2026-11"},
        {"/d/1234567890", "/d/1234567890"},
        {"/c/6222-0202-1234-5678-901", "/c/***********************"},
        {"/c/6222%200202%201234%205678", "/c/*************************"},
        {"/m/138.0013.8000", "/m/*************"},
        {"/m/\xef\xbc\x91\xef\xbc\x93\xef\xbc\x98\xef\xbc\x90\xef\xbc\x90\xef\xbc\x91"
         "\xef\xbc\x93\xef\xbc\x98\xef\xbc\x90\xef\xbc\x90\xef\xbc\x90",
         "/m/*********************************"},
        {"/d/2026-12-07", "/d/2026-12-07"},
        {"/d/1-2-3-4-5-6-7-8-9-10", "/d/********************"},
    };
    /* a path cut to its first bytes is masked before the cut */
    buf cutb = BUF_INIT;
    req_log_path(&cutb, "/a/310104199001011234", 8);
    assert_string_equal(cutb.data, "/a/*****...");
    buf_free(&cutb);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf b = BUF_INIT;
        req_log_path(&b, cases[i].uri, 1024);
        if (strcmp(b.data ? b.data : "", cases[i].want) != 0)
            fail_msg("%s logged as %s, not %s", cases[i].uri, b.data, cases[i].want);
        buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_end),
        cmocka_unit_test(test_good_heads),
        cmocka_unit_test(test_smuggling_refused),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_log_path_masks_numbers),
    };
    return cmocka_run_group_tests_name("h1", tests, NULL, NULL);
}
