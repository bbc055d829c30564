/* test_core.c - buf, arena, err, the JSON escaping used by the logs, and the
 * log's holding back of repeated warnings. */
#include "testutil.h"

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_buf_append_and_limit(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "hello"), 0);
    assert_int_equal(buf_printf(&b, "%d", 1234), 0);
    assert_string_equal(b.data, "hello1234");
    /* Over the limit: refused, and nothing is appended. */
    assert_int_equal(buf_puts(&b, "xy"), QL_ETOOBIG);
    assert_string_equal(b.data, "hello1234");
    assert_int_equal(buf_printf(&b, "%s", "long text"), QL_ETOOBIG);
    assert_int_equal(b.len, 9);
    assert_int_equal(buf_putc(&b, '!'), 0);
    assert_int_equal(b.len, 10);
    assert_int_equal(buf_putc(&b, '!'), QL_ETOOBIG);
    assert_null(buf_reserve(&b, 1));
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    char *stolen;
    buf_puts(&b, "abc");
    stolen = buf_steal(&b);
    assert_string_equal(stolen, "abc");
    free(stolen);
    assert_null(b.data);
    stolen = buf_steal(&b);
    assert_string_equal(stolen, "");
    free(stolen);
    buf_free(&b);
}

static void test_buf_grows(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 100000; i++) assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.data[99999], 'a' + 99999 % 26);
    assert_int_equal(b.data[100000], '\0');
    char *p = buf_reserve(&b, 5);
    memcpy(p, "12345", 5);
    buf_commit(&b, 5);
    assert_int_equal(b.len, 100005);
    assert_memory_equal(b.data + 100000, "12345", 6);
    buf_free(&b);
}

static void test_json_escape(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    const char in[] = "a\"b\\c\n\t\x01\x7f 千里马 \xff\xc3(";
    assert_int_equal(buf_json_escape(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.data,
                        "a\\\"b\\\\c\\n\\t\\u0001\\u007f 千里马 \xEF\xBF\xBD\xEF\xBF\xBD(");
    buf_reset(&b);
    /* At the limit, nothing of the escaped text is left behind. */
    buf limited;
    buf_init(&limited, 10);
    buf_puts(&limited, "ab");
    assert_int_equal(buf_json_escape(&limited, "abcdefgh\"ijkl", 13), QL_ETOOBIG);
    assert_string_equal(limited.data, "ab");
    assert_int_equal(limited.len, 2);
    buf_free(&limited);
    /* Overlong and surrogate encodings are not valid UTF-8 either. */
    const char bad[] = "\xc0\xaf\xed\xa0\x80";
    assert_int_equal(buf_json_escape(&b, bad, sizeof bad - 1), 0);
    assert_null(strstr(b.data, "\xc0"));
    assert_null(strstr(b.data, "\xed"));
    buf_free(&b);
}

static void test_arena(void **state)
{
    (void)state;
    arena *a = arena_new(1024);
    char *s = arena_strdup(a, "千里马");
    assert_string_equal(s, "千里马");
    int *xs = arena_calloc(a, 100, sizeof *xs);
    for (int i = 0; i < 100; i++) assert_int_equal(xs[i], 0);
    /* Allocations are aligned and do not overlap. */
    void *p1 = arena_alloc(a, 3), *p2 = arena_alloc(a, 3);
    assert_int_equal((uintptr_t)p1 % 16, 0);
    assert_int_equal((uintptr_t)p2 % 16, 0);
    assert_true((char *)p2 >= (char *)p1 + 3 || (char *)p1 >= (char *)p2 + 3);
    /* A large allocation gets its own block and is fully usable. */
    char *big = arena_alloc(a, 100000);
    memset(big, 'x', 100000);
    char *after = arena_alloc(a, 8);
    memset(after, 'y', 8);
    assert_int_equal(big[99999], 'x');
    assert_string_equal(arena_printf(a, "%s-%d", "n", 42), "n-42");
    assert_true(arena_used(a) >= 100000);
    arena_reset(a);
    assert_int_equal(arena_used(a), 0);
    for (int i = 0; i < 1000; i++) arena_alloc(a, 100);
    arena_reset(a);
    assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
    arena_free(a);
    arena_free(NULL);
}

/* Runs fn with the application log (stderr) going to a file; returns what
 * was written (malloc'd). */
static char *log_of(void (*fn)(void))
{
    char path[] = "/tmp/qltest-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    char *text = malloc((size_t)n + 1);
    assert_int_equal(pread(fd, text, (size_t)n, 0), n);
    text[n] = '\0';
    close(fd);
    return text;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++) n++;
    return n;
}

static void spam(void)
{
    for (int i = 0; i < 500; i++) log_warn("cannot accept a connection (test %d)", i);
    for (int i = 0; i < 500; i++) log_error("another failing thing %d", i);
    for (int i = 0; i < 300; i++) log_info("audit head seq=%d hash=00", i);
}

static void test_log_repeats_are_held_back(void **state)
{
    (void)state;
    char *text = log_of(spam);
    /* each repeated warning or error at most 10 times in its 10 s window
     * (the loop may cross a window's edge: at most twice that) */
    int warns = count(text, "cannot accept a connection"), errors = count(text, "another failing");
    if (warns < 10 || warns > 20 || errors < 10 || errors > 20)
        fail_msg("%d warnings and %d errors written", warns, errors);
    /* information lines, the audit chain's heads among them, all of them */
    assert_int_equal(count(text, "audit head seq="), 300);
    assert_non_null(strstr(text, "audit head seq=299 "));
    free(text);
}

static void test_err_table(void **state)
{
    (void)state;
    ql_err e;
    int rc = ql_errf(&e, QL_EINVAL, "body.value", "bad %s %d", "坏 %s %d", "x", 3);
    assert_int_equal(rc, QL_EINVAL);
    assert_string_equal(e.field, "body.value");
    assert_string_equal(e.en, "bad x 3");
    assert_string_equal(e.zh, "坏 x 3");
    assert_int_equal(ql_errf(NULL, QL_ENOTFOUND, NULL, "a", "b"), QL_ENOTFOUND);
    ql_err_clear(&e);
    assert_string_equal(e.field, "");
    static const struct {
        int code, status;
        const char *name;
    } want[] = {
        {QL_EINVAL, 400, "invalid"},         {QL_ENOTFOUND, 404, "not_found"},
        {QL_ECONFLICT, 409, "conflict"},     {QL_EFORBIDDEN, 403, "forbidden"},
        {QL_EUNAUTH, 401, "unauthenticated"}, {QL_EDB, 500, "store_error"},
        {QL_EBUSY, 503, "busy"},             {QL_ETOOBIG, 413, "too_large"},
        {QL_EMETHOD, 405, "method_not_allowed"}, {QL_EMEDIA, 415, "unsupported_media_type"},
        {QL_EUNAVAIL, 503, "unavailable"},   {QL_EINTERNAL, 500, "internal"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(ql_err_http_status(want[i].code), want[i].status);
        assert_string_equal(ql_err_name(want[i].code), want[i].name);
        assert_true(strlen(ql_err_default_en(want[i].code)) > 0);
        assert_true(strlen(ql_err_default_zh(want[i].code)) > 0);
    }
    /* Every code from QL_ECODE_MIN up has its own entry. */
    for (int c = QL_ECODE_MIN; c < 0; c++) assert_string_not_equal(ql_err_name(c), "");
    /* An unknown code is reported as internal, never crashes. */
    assert_int_equal(ql_err_http_status(-999), 500);
    assert_string_equal(ql_err_name(-999), "internal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_limit), cmocka_unit_test(test_buf_grows),
        cmocka_unit_test(test_json_escape),          cmocka_unit_test(test_arena),
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_log_repeats_are_held_back),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
