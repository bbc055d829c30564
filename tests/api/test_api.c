/* test_api.c - the HTTP server as a client sees it: a real qianlima process
 * on an ephemeral loopback port, good requests and hostile ones. Runs on
 * SQLite, and on PostgreSQL when QL_TEST_PG is set. */
#include "testutil.h"

#include "http/http.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct tu_server srv;
static char access_log[400];
static char auth[200]; /* "Authorization: Bearer ...\r\n" of a service account */

static int setup(void **state)
{
    (void)state;
    snprintf(access_log, sizeof access_log, "%s/access.log", tu_tmpdir());
    const char *args[] = {"--access-log", access_log, "--timeout", "2", "--workers", "2", NULL};
    tu_server_start(&srv, args);
    /* Another government system: an account with a token for the
     * identifier checks and the metrics. */
    tu_add_user(&srv, "gateway", "admin", NULL, "Wide-Harbor-Lights-26");
    char *tok = tu_token(&srv, "gateway", "service.validate system.metrics");
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", tok);
    free(tok);
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

static json_t *body_json(const struct tu_resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    if (!j) fail_msg("response body is not JSON (%s): %.200s", e.text, r->body);
    return j;
}

/* Checks the uniform error body and returns error.code (static copy). */
static const char *check_error(const struct tu_resp *r, int status, const char *field)
{
    static char code[64];
    assert_int_equal(r->status, status);
    const char *ct = tu_header(r, "Content-Type");
    assert_non_null(ct);
    assert_non_null(strstr(ct, "application/json"));
    char rid[128];
    const char *h = tu_header(r, "X-Request-Id");
    assert_non_null(h);
    snprintf(rid, sizeof rid, "%s", h);
    json_t *j = body_json(r);
    json_t *e = json_object_get(j, "error");
    assert_non_null(e);
    assert_true(json_is_string(json_object_get(e, "code")));
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    assert_true(json_string_length(json_object_get(e, "message_zh")) > 0);
    assert_true(json_string_length(json_object_get(e, "message_en")) > 0);
    assert_string_equal(json_string_value(json_object_get(e, "request_id")), rid);
    json_t *f = json_object_get(e, "field");
    if (field) assert_string_equal(json_string_value(f), field);
    else assert_true(json_is_null(f));
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(e, "code")));
    json_decref(j);
    return code;
}

static void expect_healthy(void)
{
    struct tu_resp r;
    tu_request(srv.port, "GET", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
}

static void test_healthz(void **state)
{
    (void)state;
    struct tu_resp r;
    tu_request(srv.port, "GET", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "store")),
                        tu_pg_url() ? "postgres" : "sqlite");
    assert_true(json_integer_value(json_object_get(j, "schema_version")) >= 1);
    json_decref(j);
    /* Security headers and a request id on every response. */
    assert_string_equal(tu_header(&r, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(tu_header(&r, "X-Frame-Options"), "DENY");
    assert_non_null(strstr(tu_header(&r, "Content-Security-Policy"), "default-src 'self'"));
    assert_string_equal(tu_header(&r, "Cache-Control"), "no-store");
    assert_true(strlen(tu_header(&r, "X-Request-Id")) >= 16);
    tu_resp_free(&r);

    tu_request(srv.port, "HEAD", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    tu_resp_free(&r);
}

static void test_healthz_reports_store_failure(void **state)
{
    (void)state;
    store *s;
    ql_err e;
    if (store_open(srv.store_url, NULL, &s, &e)) fail_msg("%s", e.en);
    struct tu_resp r;
    tu_request(srv.port, "GET", "/healthz?deep=1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    /* Take away what the check reads: the deep check reports it at once. */
    assert_int_equal(store_exec(s, "ALTER TABLE schema_version RENAME TO schema_version_away",
                                NULL, 0, NULL),
                     0);
    for (int i = 0; i < 4; i++) { /* whichever worker answers */
        tu_request(srv.port, "GET", "/healthz?deep=1", NULL, NULL, &r);
        assert_string_equal(check_error(&r, 503, "store"), "unavailable");
        tu_resp_free(&r);
    }
    assert_int_equal(store_exec(s, "ALTER TABLE schema_version_away RENAME TO schema_version",
                                NULL, 0, NULL),
                     0);
    store_close(s);
    tu_request(srv.port, "GET", "/healthz?deep=1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
}

static void test_request_id(void **state)
{
    (void)state;
    struct tu_resp r;
    /* The server names every request itself; a gateway's own id goes to the
     * access log beside it (see test_access_log), never into the audit log. */
    tu_request(srv.port, "GET", "/healthz", "X-Request-Id: gateway-42.abc_DEF\r\n", NULL, &r);
    assert_string_not_equal(tu_header(&r, "X-Request-Id"), "gateway-42.abc_DEF");
    assert_true(strlen(tu_header(&r, "X-Request-Id")) >= 16);
    tu_resp_free(&r);
    /* An unsafe id is replaced by one of the server's own. */
    tu_request(srv.port, "GET", "/healthz", "X-Request-Id: <script>\"\r\n", NULL, &r);
    const char *rid = tu_header(&r, "X-Request-Id");
    assert_null(strchr(rid, '<'));
    assert_true(strlen(rid) >= 16);
    tu_resp_free(&r);
    /* Two requests get different ids. */
    char first[80];
    tu_request(srv.port, "GET", "/healthz", NULL, NULL, &r);
    snprintf(first, sizeof first, "%s", tu_header(&r, "X-Request-Id"));
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/healthz", NULL, NULL, &r);
    assert_string_not_equal(first, tu_header(&r, "X-Request-Id"));
    tu_resp_free(&r);
}

static void test_not_found_and_languages(void **state)
{
    (void)state;
    struct tu_resp r;
    tu_request(srv.port, "GET", "/no/such/page", NULL, NULL, &r);
    assert_string_equal(check_error(&r, 404, "path"), "not_found");
    json_t *j = body_json(&r);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    assert_non_null(strstr(msg, "没有")); /* Chinese by default */
    json_decref(j);
    tu_resp_free(&r);

    tu_request(srv.port, "GET", "/no/such/page", "Accept-Language: en-GB,en;q=0.8\r\n", NULL, &r);
    j = body_json(&r);
    msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    assert_non_null(strstr(msg, "no such"));
    json_decref(j);
    tu_resp_free(&r);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    struct tu_resp r;
    tu_request(srv.port, "DELETE", "/healthz", NULL, NULL, &r);
    assert_string_equal(check_error(&r, 405, "method"), "method_not_allowed");
    assert_string_equal(tu_header(&r, "Allow"), "GET, HEAD, OPTIONS");
    tu_resp_free(&r);

    tu_request(srv.port, "GET", "/api/v1/validate", NULL, NULL, &r);
    assert_string_equal(check_error(&r, 405, "method"), "method_not_allowed");
    assert_string_equal(tu_header(&r, "Allow"), "POST, OPTIONS");
    tu_resp_free(&r);

    tu_request(srv.port, "OPTIONS", "/api/v1/validate", NULL, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(tu_header(&r, "Allow"), "POST, OPTIONS");
    tu_resp_free(&r);
}

static void post_json(const char *body, struct tu_resp *r)
{
    char h[300];
    snprintf(h, sizeof h, "Content-Type: application/json\r\n%s", auth);
    tu_request(srv.port, "POST", "/api/v1/validate", h, body, r);
}

static void test_malformed_json(void **state)
{
    (void)state;
    struct tu_resp r;
    post_json("{\"type\": \"id_number\", \"value\": ", &r);
    assert_string_equal(check_error(&r, 400, "body"), "invalid");
    json_t *j = body_json(&r);
    const char *en =
        json_string_value(json_object_get(json_object_get(j, "error"), "message_en"));
    assert_non_null(strstr(en, "line 1"));
    assert_non_null(strstr(en, "column"));
    json_decref(j);
    tu_resp_free(&r);

    post_json("[1, 2, 3]", &r);
    check_error(&r, 400, "body");
    tu_resp_free(&r);
    post_json("{\"type\": \"mobile\", \"type\": \"id_number\", \"value\": \"x\"}", &r);
    check_error(&r, 400, "body"); /* duplicate keys */
    tu_resp_free(&r);
    post_json("{\"type\": \"mobile\", \"value\": \"13800000000\"} trailing", &r);
    check_error(&r, 400, "body");
    tu_resp_free(&r);
    post_json("\xff\xfe{}", &r);
    check_error(&r, 400, "body");
    tu_resp_free(&r);

    char h[300];
    snprintf(h, sizeof h, "Content-Type: text/plain\r\n%s", auth);
    tu_request(srv.port, "POST", "/api/v1/validate", h,
               "{\"type\":\"mobile\",\"value\":\"13800000000\"}", &r);
    assert_string_equal(check_error(&r, 415, "Content-Type"), "unsupported_media_type");
    tu_resp_free(&r);
    expect_healthy();
}

static void test_validate_fields(void **state)
{
    (void)state;
    struct tu_resp r;
    post_json("{\"type\": \"id_number\"}", &r);
    check_error(&r, 400, "body.value");
    tu_resp_free(&r);
    post_json("{\"type\": \"id_number\", \"value\": 110105}", &r);
    check_error(&r, 400, "body.value");
    tu_resp_free(&r);
    post_json("{\"type\": \"passport\", \"value\": \"E12345678\"}", &r);
    check_error(&r, 400, "body.type");
    tu_resp_free(&r);
    post_json("{\"type\": \"id_number\", \"value\": "
              "\"11010519491231002X11010519491231002X11010519491231002X11010519491231002X\"}",
              &r);
    check_error(&r, 400, "body.value");
    tu_resp_free(&r);
}

static void test_validate_answers(void **state)
{
    (void)state;
    struct tu_resp r;
    post_json("{\"type\": \"id_number\", \"value\": \"11010519491231002X\"}", &r);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "valid")));
    assert_string_equal(json_string_value(json_object_get(j, "value_masked")),
                        "110105********002X");
    json_t *facts = json_object_get(j, "facts");
    assert_string_equal(json_string_value(json_object_get(facts, "birth_date")), "1949-12-31");
    assert_string_equal(json_string_value(json_object_get(facts, "sex")), "female");
    /* The answer never echoes the whole number. */
    assert_null(strstr(r.body, "11010519491231002X"));
    json_decref(j);
    tu_resp_free(&r);

    post_json("{\"type\": \"id_number\", \"value\": \"110105194912310021\"}", &r);
    j = body_json(&r);
    assert_true(json_is_false(json_object_get(j, "valid")));
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(j, "error"), "message_en")),
        "check character"));
    json_decref(j);
    tu_resp_free(&r);

    post_json("{\"type\": \"credit_code\", \"value\": \"91350100M000100Y43\"}", &r);
    j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "valid")));
    json_decref(j);
    tu_resp_free(&r);

    /* Non-ASCII input gets a well-formed answer that says why it is invalid. */
    static const char *const odd[] = {
        "{\"type\": \"mobile\", \"value\": \"一二三四五\"}",
        "{\"type\": \"id_number\", \"value\": \"一二三四五六七八九十\"}",
        "{\"type\": \"credit_code\", \"value\": \"统123456789012345\"}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        post_json(odd[i], &r);
        assert_int_equal(r.status, 200);
        j = body_json(&r);
        assert_true(json_is_false(json_object_get(j, "valid")));
        assert_true(json_string_length(
                        json_object_get(json_object_get(j, "error"), "message_en")) > 0);
        json_decref(j);
        tu_resp_free(&r);
    }

    post_json("{\"type\": \"bank_card\", \"value\": \"6222000000000000001\"}", &r);
    j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "valid")));
    json_t *w = json_object_get(j, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "code")), "luhn");
    json_decref(j);
    tu_resp_free(&r);
}

static void test_body_limits(void **state)
{
    (void)state;
    struct tu_resp r;
    /* Over the route's own limit (4 KiB): the uniform 413. */
    size_t n = 5000;
    char *big = malloc(n + 64);
    int k = snprintf(big, n + 64, "{\"type\":\"mobile\",\"value\":\"");
    memset(big + k, 'a', n - (size_t)k - 2);
    memcpy(big + n - 2, "\"}", 3);
    post_json(big, &r);
    assert_string_equal(check_error(&r, 413, "body"), "too_large");
    tu_resp_free(&r);
    free(big);

    /* A body on a route that takes none. */
    tu_request(srv.port, "GET", "/healthz", NULL, "unexpected", &r);
    check_error(&r, 413, "body");
    tu_resp_free(&r);

    /* 20 MB: over the server-wide limit (16 MB); refused before the body is read. */
    n = 20u * 1024 * 1024;
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: %zu\r\n\r\n",
                      n);
    char *req = malloc((size_t)hl + n);
    memcpy(req, head, (size_t)hl);
    memset(req + hl, '{', n);
    assert_int_equal(tu_raw(srv.port, req, (size_t)hl + n, 20000, &r), 0);
    assert_int_equal(r.status, 413);
    tu_resp_free(&r);
    free(req);
    expect_healthy();
}

static void test_hostile_paths(void **state)
{
    (void)state;
    struct tu_resp r;
    static const char *const bad[] = {
        "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/./css/app.css",
        "/static/a%00b",            "/static/%ff%fe",                   "/healthz%0d%0aX:1",
        "/static/%zz",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_request(srv.port, "GET", bad[i], NULL, NULL, &r);
        if (r.status != 400) fail_msg("%s answered %d, not 400", bad[i], r.status);
        check_error(&r, 400, "path");
        tu_resp_free(&r);
    }
    /* A raw NUL byte in the request line. */
    static const char nul_req[] = "GET /static/a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(tu_raw(srv.port, nul_req, sizeof nul_req - 1, 5000, &r), 0);
    assert_int_equal(r.status, 400);
    tu_resp_free(&r);
    /* Garbage instead of a request line. */
    static const char junk[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";
    if (tu_raw(srv.port, junk, sizeof junk - 1, 5000, &r) == 0) {
        assert_int_equal(r.status, 400);
        tu_resp_free(&r);
    }
    expect_healthy();
}

static void test_many_headers(void **state)
{
    (void)state;
    size_t cap = 10000 * 24 + 128, n = 0;
    char *req = malloc(cap);
    n += (size_t)snprintf(req + n, cap - n, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 10000; i++) n += (size_t)snprintf(req + n, cap - n, "X-H%d: v\r\n", i);
    n += (size_t)snprintf(req + n, cap - n, "\r\n");
    struct tu_resp r;
    assert_int_equal(tu_raw(srv.port, req, n, 10000, &r), 0);
    /* Refused by the header limit (libevent answers 400 for it). */
    assert_true(r.status == 400 || r.status == 413 || r.status == 431);
    tu_resp_free(&r);
    free(req);
    expect_healthy();
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void test_slow_client(void **state)
{
    (void)state;
    /* Several clients send half a request and stall. Others are served
     * meanwhile, and the stalled connections are closed after the timeout
     * (2 s in this suite). */
    int stalled[8];
    for (int i = 0; i < 8; i++) {
        stalled[i] = tu_connect(srv.port);
        const char part[] = "POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nContent-Le";
        assert_true(send(stalled[i], part, sizeof part - 1, MSG_NOSIGNAL) > 0);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20; i++) expect_healthy();
    assert_true(elapsed_ms(&t0) < 1500);

    for (int i = 0; i < 8; i++) {
        struct pollfd p = {.fd = stalled[i], .events = POLLIN};
        int pr = poll(&p, 1, 6000);
        assert_int_equal(pr, 1);
        char b[256];
        ssize_t k = recv(stalled[i], b, sizeof b, 0);
        assert_true(k <= 0 || (k > 0 && strncmp(b, "HTTP/1.1 4", 10) == 0));
        close(stalled[i]);
    }
    assert_true(elapsed_ms(&t0) >= 1500);
    expect_healthy();
}

static void test_static_files(void **state)
{
    (void)state;
    struct tu_resp r;
    tu_request(srv.port, "GET", "/static/css/app.css", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/css"));
    assert_non_null(strstr(r.body, "Qianlima"));
    char etag[80], hdr[128];
    snprintf(etag, sizeof etag, "%s", tu_header(&r, "ETag"));
    tu_resp_free(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", etag);
    tu_request(srv.port, "GET", "/static/css/app.css", hdr, NULL, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/static/css/missing.css", NULL, NULL, &r);
    check_error(&r, 404, "path");
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/static/.hidden", NULL, NULL, &r);
    check_error(&r, 404, "path");
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/static/css", NULL, NULL, &r); /* a directory */
    check_error(&r, 404, "path");
    tu_resp_free(&r);
}

static void test_signin_page(void **state)
{
    (void)state;
    struct tu_resp r;
    /* The console's home sends a visitor who is not signed in to sign in. */
    tu_request(srv.port, "GET", "/", NULL, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_string_equal(tu_header(&r, "Location"), "/signin?next=%2F");
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/signin", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/html"));
    assert_non_null(strstr(r.body, "<html lang=\"zh-CN\">"));
    assert_non_null(strstr(r.body, "千里马人才服务平台"));
    assert_non_null(strstr(r.body, "</html>"));
    assert_non_null(strstr(tu_header(&r, "Set-Cookie"), "ql_csrf="));
    assert_non_null(strstr(tu_header(&r, "Content-Security-Policy"), "default-src 'self'"));
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/signin", "Accept-Language: en\r\n", NULL, &r);
    assert_non_null(strstr(r.body, "<html lang=\"en\">"));
    assert_non_null(strstr(r.body, "Sign in to Qianlima"));
    tu_resp_free(&r);
    /* An unknown path asked for by a browser gets the HTML error page. */
    tu_request(srv.port, "GET", "/no/such/page", "Accept: text/html\r\n", NULL, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/html"));
    assert_non_null(strstr(r.body, "页面不存在"));
    tu_resp_free(&r);
}

static void test_metrics(void **state)
{
    (void)state;
    struct tu_resp r;
    expect_healthy();
    tu_request(srv.port, "GET", "/nope", NULL, NULL, &r);
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/metrics", NULL, NULL, &r);
    check_error(&r, 401, NULL); /* not public: a token with system.metrics is needed */
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/metrics", auth, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/plain"));
    const char *b = r.body;
    assert_non_null(strstr(b, "# TYPE qianlima_http_requests_total counter"));
    const char *line =
        strstr(b, "qianlima_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} ");
    assert_non_null(line);
    assert_true(strtol(strchr(line, '}') + 2, NULL, 10) >= 1);
    assert_non_null(strstr(b, "route=\"(none)\",status=\"404\"}"));
    assert_non_null(strstr(
        b, "qianlima_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\","
           "le=\"+Inf\"}"));
    assert_non_null(strstr(b, "qianlima_http_request_duration_seconds_count{method=\"GET\","
                              "route=\"/healthz\"}"));
    assert_non_null(strstr(b, "# TYPE qianlima_store_errors_total counter"));
    assert_non_null(strstr(b, "qianlima_store_statements_total "));
    assert_non_null(strstr(b, "qianlima_http_workers 2\n"));
    tu_resp_free(&r);
}

static void test_access_log(void **state)
{
    (void)state;
    struct tu_resp r;
    tu_request(srv.port, "GET", "/healthz?id_number=310104199001011234", "X-Request-Id: log-probe-1\r\n",
               NULL, &r);
    tu_resp_free(&r);
    /* Lines are flushed at least every 200 ms. */
    char *log = NULL;
    for (int i = 0; i < 50; i++) {
        free(log);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        log = tu_slurp(access_log, NULL);
        if (log && strstr(log, "log-probe-1")) break;
    }
    assert_non_null(log);
    assert_non_null(strstr(log, "log-probe-1"));
    /* Query strings are not logged: they may carry personal data. */
    assert_null(strstr(log, "310104199001011234"));
    /* Every line is a JSON object with the expected fields. */
    int lines = 0;
    for (char *p = log, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        json_error_t e;
        json_t *j = json_loads(p, 0, &e);
        if (!j) fail_msg("access log line is not JSON: %s", p);
        assert_true(json_is_string(json_object_get(j, "rid")));
        assert_true(json_is_integer(json_object_get(j, "status")));
        assert_true(json_is_string(json_object_get(j, "path")));
        assert_true(json_is_number(json_object_get(j, "ms")));
        json_t *crid = json_object_get(j, "crid");
        if (crid && strcmp(json_string_value(crid), "log-probe-1") == 0) {
            assert_string_equal(json_string_value(json_object_get(j, "path")), "/healthz");
            assert_string_equal(json_string_value(json_object_get(j, "route")), "/healthz");
            assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
            assert_true(json_integer_value(json_object_get(j, "bytes")) > 0);
        }
        json_decref(j);
        lines++;
    }
    assert_true(lines >= 1);
    free(log);
}

/* The route table and docs/openapi.json describe the same operations. */
static void test_openapi_matches_routes(void **state)
{
    (void)state;
    struct tu_resp r;
    tu_request(srv.port, "GET", "/api/openapi.json", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *doc = body_json(&r);
    tu_resp_free(&r);
    assert_true(strncmp(json_string_value(json_object_get(doc, "openapi")), "3.1", 3) == 0);
    assert_true(json_is_string(json_object_get(json_object_get(doc, "info"), "title")));
    json_t *paths = json_object_get(doc, "paths");
    assert_true(json_is_object(paths));

    /* Every route but the console's pages is documented... */
    for (size_t i = 0; i < http_nroutes; i++) {
        const http_route *rt = &http_routes[i];
        if (rt->flags & ROUTE_HTML) {
            if (json_object_get(paths, rt->pattern))
                fail_msg("console page %s should not be in openapi.json", rt->pattern);
            continue;
        }
        json_t *item = json_object_get(paths, rt->pattern);
        if (!item) fail_msg("route %s is not in openapi.json", rt->pattern);
        char method[16];
        snprintf(method, sizeof method, "%s", http_method_name(rt->method));
        for (char *c = method; *c; c++) *c = (char)(*c - 'A' + 'a');
        json_t *op = json_object_get(item, method);
        if (!op) fail_msg("%s %s is not in openapi.json", method, rt->pattern);
        if (!json_is_object(json_object_get(op, "responses")))
            fail_msg("%s %s has no responses", method, rt->pattern);
        /* Public routes say so; the others name how to authenticate and the
         * permission they need. */
        json_t *sec = json_object_get(op, "security");
        int public_doc = json_is_array(sec) && json_array_size(sec) == 0;
        if ((rt->perm == ROUTE_PUBLIC) != public_doc)
            fail_msg("%s %s: security in openapi.json does not match the route (%s)", method,
                     rt->pattern, rt->perm == ROUTE_PUBLIC ? "public" : "not public");
        if (rt->perm >= 0) {
            json_t *need = json_object_get(op, "x-permission");
            if (!json_is_string(need) || strcmp(json_string_value(need), perm_name(rt->perm)))
                fail_msg("%s %s needs %s; openapi.json says x-permission %s", method,
                         rt->pattern, perm_name(rt->perm),
                         json_is_string(need) ? json_string_value(need) : "nothing");
        }
    }
    /* ...and every documented operation is a route. */
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op)
        {
            if (strcmp(m, "parameters") == 0 || strcmp(m, "summary") == 0) continue;
            int found = 0;
            for (size_t i = 0; i < http_nroutes; i++) {
                if (!(http_routes[i].flags & ROUTE_HTML) &&
                    strcmp(http_routes[i].pattern, path) == 0 &&
                    strcasecmp(http_method_name(http_routes[i].method), m) == 0)
                    found = 1;
            }
            if (!found) fail_msg("openapi.json documents %s %s but no route serves it", m, path);
        }
    }
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_healthz_reports_store_failure),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_not_found_and_languages),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_validate_fields),
        cmocka_unit_test(test_validate_answers),
        cmocka_unit_test(test_body_limits),
        cmocka_unit_test(test_hostile_paths),
        cmocka_unit_test(test_many_headers),
        cmocka_unit_test(test_slow_client),
        cmocka_unit_test(test_static_files),
        cmocka_unit_test(test_signin_page),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_openapi_matches_routes),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "api (postgres)" : "api (sqlite)", tests,
                                       setup, teardown);
}
