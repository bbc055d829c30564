/* test_router.c - route matching against the real route table, path
 * decoding and query strings. */
#include "testutil.h"

#include "core/arena.h"
#include "http/http.h"

#include <string.h>

static void test_match(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    const char *names[HTTP_MAX_PARAMS], *values[HTTP_MAX_PARAMS];
    int n = -1;
    unsigned allowed = 0;
    int idx = http_route_match(HTTP_GET, "/healthz", names, values, &n, &allowed, a);
    assert_true(idx >= 0);
    assert_string_equal(http_routes[idx].pattern, "/healthz");
    assert_int_equal(n, 0);
    /* HEAD is served by the GET route. */
    assert_int_equal(http_route_match(HTTP_HEAD, "/healthz", names, values, &n, &allowed, a), idx);
    /* A parameter that takes the rest of the path. */
    idx = http_route_match(HTTP_GET, "/static/css/app.css", names, values, &n, &allowed, a);
    assert_true(idx >= 0);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "path");
    assert_string_equal(values[0], "css/app.css");
    /* Empty parameters and unknown paths do not match. */
    assert_int_equal(http_route_match(HTTP_GET, "/static/", names, values, &n, &allowed, a), -1);
    assert_int_equal(http_route_match(HTTP_GET, "/healthz/", names, values, &n, &allowed, a), -1);
    assert_int_equal(http_route_match(HTTP_GET, "/health", names, values, &n, &allowed, a), -1);
    assert_int_equal(http_route_match(HTTP_GET, "", names, values, &n, &allowed, a), -1);
    /* Known path, other method: 405 with the allowed set. */
    assert_int_equal(http_route_match(HTTP_POST, "/healthz", names, values, &n, &allowed, a), -2);
    assert_int_equal(allowed, HTTP_GET | HTTP_HEAD | HTTP_OPTIONS);
    assert_int_equal(
        http_route_match(HTTP_GET, "/api/v1/validate", names, values, &n, &allowed, a), -2);
    assert_int_equal(allowed, HTTP_POST | HTTP_OPTIONS);
    char text[96];
    http_methods_text(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_OPTIONS, text, sizeof text);
    assert_string_equal(text, "GET, HEAD, POST, OPTIONS");
    arena_free(a);
}

static void test_route_table_is_sound(void **state)
{
    (void)state;
    /* Every pattern is absolute, parameters are well formed, and no two
     * routes share method and pattern. */
    for (size_t i = 0; i < http_nroutes; i++) {
        const http_route *r = &http_routes[i];
        assert_non_null(r->handler);
        assert_int_equal(r->pattern[0], '/');
        int depth = 0;
        for (const char *p = r->pattern; *p; p++) {
            if (*p == '{') depth++;
            if (*p == '}') depth--;
            assert_true(depth == 0 || depth == 1);
        }
        assert_int_equal(depth, 0);
        if (r->flags & ROUTE_JSON) assert_true(r->body_limit > 0);
        for (size_t j = i + 1; j < http_nroutes; j++)
            if (http_routes[j].method == r->method &&
                strcmp(http_routes[j].pattern, r->pattern) == 0)
                fail_msg("duplicate route %s", r->pattern);
    }
}

static void test_decode_path(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    const char *out;
    ql_err e;
    assert_int_equal(http_decode_path("/a%20b/%E5%8D%83", 16, a, &out, &e), 0);
    assert_string_equal(out, "/a b/千");
    assert_int_equal(http_decode_path("/x?y", 2, a, &out, &e), 0);
    assert_string_equal(out, "/x");
    assert_int_equal(http_decode_path("/..hidden/x..y", 14, a, &out, &e), 0);
    static const char *const bad[] = {"",        "x/y",     "/a/../b", "/a/..",   "/./a",
                                      "/%2e%2E", "/a%00",   "/a%0a",   "/a%",     "/a%4",
                                      "/a%g0",   "/\x01",   "/%ff",    "/%c0%af", "/%ed%a0%80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = http_decode_path(bad[i], strlen(bad[i]), a, &out, &e);
        if (rc != QL_EINVAL) fail_msg("accepted path '%s'", bad[i]);
        assert_string_equal(e.field, "path");
    }
    arena_free(a);
}

static void test_query(void **state)
{
    (void)state;
    http_req r;
    memset(&r, 0, sizeof r);
    r.arena = arena_new(0);
    r.query = "q=%E5%8D%83%E9%87%8C+%E9%A9%AC&page=2&empty=&flag&bad=%zz&nul=a%00b&q=second";
    assert_string_equal(http_query(&r, "q"), "千里 马");
    assert_string_equal(http_query(&r, "page"), "2");
    assert_string_equal(http_query(&r, "empty"), "");
    assert_string_equal(http_query(&r, "flag"), "");
    assert_null(http_query(&r, "bad"));
    assert_null(http_query(&r, "nul"));
    assert_null(http_query(&r, "missing"));
    assert_null(http_query(&r, "pag"));
    r.query = NULL;
    assert_null(http_query(&r, "q"));
    arena_free(r.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_route_table_is_sound),
        cmocka_unit_test(test_decode_path),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
