/* test_csv.c - CSV records, line ends, encodings (UTF-8, BOM, GBK across read pieces), limits
 * and every refusal, from memory and from files. */
#include "testutil.h"

#include "core/buf.h"
#include "core/csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (64 * 1024) /* the reader's piece and sample size */

/* Appends every record to out as "line:field|field|...\n". Returns what the
 * last csv_next returned (0 at the end, or the error). */
static int dump(csv_reader *r, buf *out, ql_err *e)
{
    char **f;
    int n, rc;
    long line;
    while ((rc = csv_next(r, &f, &n, &line, e)) == 1) {
        assert_null(f[n]);
        buf_printf(out, "%ld:", line);
        for (int i = 0; i < n; i++) {
            if (i) buf_putc(out, '|');
            buf_puts(out, f[i]);
        }
        buf_putc(out, '\n');
    }
    return rc;
}

static FILE *file_with(const void *data, size_t n)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    rewind(f);
    return f;
}

/* Reads data from memory and from a file. Both must detect enc, give the
 * records in want (as dump writes them), and end with rc; for an error, a
 * message in both languages whose English contains msg. */
static void check_both(const char *data, size_t n, enum csv_encoding enc, const char *want,
                       int want_rc, const char *msg)
{
    for (int from_file = 0; from_file < 2; from_file++) {
        csv_reader *r = NULL;
        ql_err e = {0};
        FILE *f = NULL;
        if (from_file) {
            f = file_with(data, n);
            assert_int_equal(csv_open_file(f, "t.csv", &r, &e), 0);
        } else {
            assert_int_equal(csv_open_mem(data, n, "t.csv", &r, &e), 0);
        }
        assert_int_equal(csv_encoding_of(r), enc);
        buf out = BUF_INIT;
        int rc = dump(r, &out, &e);
        if (strcmp(out.data ? out.data : "", want))
            fail_msg("%s: got\n%.2000s\nwant\n%.2000s", from_file ? "file" : "memory",
                     out.data ? out.data : "", want);
        assert_int_equal(rc, want_rc);
        if (rc < 0) {
            if (!strstr(e.en, msg)) fail_msg("message '%s' lacks '%s'", e.en, msg);
            assert_true(strlen(e.zh) > 0);
            assert_int_equal(e.code, rc);
            /* The error stays. */
            char **fl;
            int nf;
            long line;
            ql_err again = {0};
            assert_int_equal(csv_next(r, &fl, &nf, &line, &again), rc);
            assert_string_equal(again.en, e.en);
        } else {
            /* The end stays the end. */
            char **fl;
            int nf;
            long line;
            assert_int_equal(csv_next(r, &fl, &nf, &line, &e), 0);
        }
        buf_free(&out);
        csv_close(r);
        if (f) fclose(f);
    }
}

static void check_ok(const char *data, enum csv_encoding enc, const char *want)
{
    check_both(data, strlen(data), enc, want, 0, NULL);
}

/* UTF-8 to GB 18030, as Excel in China saves. The caller frees the result. */
static char *to_gbk(const char *utf8, size_t n, size_t *outn)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t cap = n * 2 + 16, left = cap;
    char *out = malloc(cap), *o = out;
    char *in = (char *)utf8;
    size_t inleft = n;
    assert_non_null(out);
    assert_true(iconv(cd, &in, &inleft, &o, &left) != (size_t)-1);
    iconv_close(cd);
    *outn = cap - left;
    return out;
}

static void test_simple(void **state)
{
    (void)state;
    check_ok("name,city\n张三,上海市徐汇区\n李四,浦东新区\n", CSV_UTF8,
             "1:name|city\n2:张三|上海市徐汇区\n3:李四|浦东新区\n");
    check_ok("", CSV_UTF8, "");
    check_ok("x", CSV_UTF8, "1:x\n");

    /* The API itself: fields, count, line. */
    const char text[] = "a,bb,\nccc\n";
    csv_reader *r;
    ql_err e;
    assert_int_equal(csv_open_mem(text, sizeof text - 1, "t.csv", &r, &e), 0);
    char **f;
    int n;
    long line;
    assert_int_equal(csv_next(r, &f, &n, &line, &e), 1);
    assert_int_equal(n, 3);
    assert_int_equal(line, 1);
    assert_string_equal(f[0], "a");
    assert_string_equal(f[1], "bb");
    assert_string_equal(f[2], "");
    assert_int_equal(csv_next(r, &f, &n, &line, &e), 1);
    assert_int_equal(n, 1);
    assert_int_equal(line, 2);
    assert_string_equal(f[0], "ccc");
    assert_int_equal(csv_next(r, &f, &n, &line, &e), 0);
    csv_close(r);
    csv_close(NULL);
}

static void test_quoted(void **state)
{
    (void)state;
    check_ok("\"a,b\",\"he said \"\"hi\"\"\",\"l1\r\nl2\",\"x\ny\"\nnext,\"\",\"\"\"\"\n", CSV_UTF8,
             "1:a,b|he said \"hi\"|l1\r\nl2|x\ny\n4:next||\"\n");
    /* A quoted field at the end of the input, and one holding only line ends. */
    check_ok("1,\"徐汇区,漕河泾\"", CSV_UTF8, "1:1|徐汇区,漕河泾\n");
    check_ok("\"\n\n\r\n\r\",z\nw\n", CSV_UTF8, "1:\n\n\r\n\r|z\n6:w\n");
}

static void test_line_ends(void **state)
{
    (void)state;
    check_ok("a,b\r\nc,d\r\n", CSV_UTF8, "1:a|b\n2:c|d\n");
    check_ok("a,b\nc,d\n", CSV_UTF8, "1:a|b\n2:c|d\n");
    check_ok("a\nb\r\nc\rd\r", CSV_UTF8, "1:a\n2:b\n3:c\n4:d\n");
    check_ok("\"q\"\r\n\"r\"\r\"s\"\n", CSV_UTF8, "1:q\n2:r\n3:s\n");
}

static void test_final_line(void **state)
{
    (void)state;
    check_ok("a,b\nc,d", CSV_UTF8, "1:a|b\n2:c|d\n");
    check_ok("a,", CSV_UTF8, "1:a|\n");
    check_ok("\"q\"", CSV_UTF8, "1:q\n");
    check_ok("a\n\"q\",", CSV_UTF8, "1:a\n2:q|\n");
}

static void test_empty_fields_and_blank_lines(void **state)
{
    (void)state;
    check_ok(",,\n\nx\n\r\n,\n", CSV_UTF8, "1:||\n2:\n3:x\n4:\n5:|\n");
    check_ok("\n", CSV_UTF8, "1:\n");
    check_ok("\r\n\r\n", CSV_UTF8, "1:\n2:\n");
}

static void test_bom(void **state)
{
    (void)state;
    check_ok("\xEF\xBB\xBFname,city\n张三,上海\n", CSV_UTF8_BOM, "1:name|city\n2:张三|上海\n");
    check_ok("\xEF\xBB\xBF", CSV_UTF8_BOM, "");
    check_ok("\xEF\xBB\xBF\"a\"", CSV_UTF8_BOM, "1:a\n");
    /* A BOM does not make bad text good. */
    const char bad[] = "\xEF\xBB\xBFok\n\xC3\x28\n";
    check_both(bad, sizeof bad - 1, CSV_UTF8_BOM, "1:ok\n", QL_EINVAL,
               "t.csv line 2: the text is not valid UTF-8 (byte 0xC3)");
}

static void test_gbk(void **state)
{
    (void)state;
    /* Two-byte GBK and four-byte GB 18030 characters (U+20000, U+1F600). */
    const char utf8[] = "姓名,地址,备注\n张三,上海市徐汇区,\"漕河泾,开发区\"\n李四,浦东新区,𠀀😀\n";
    size_t n;
    char *gbk = to_gbk(utf8, sizeof utf8 - 1, &n);
    assert_true(n < sizeof utf8 - 1);
    check_both(gbk, n, CSV_GB18030,
               "1:姓名|地址|备注\n2:张三|上海市徐汇区|漕河泾,开发区\n3:李四|浦东新区|𠀀😀\n", 0,
               NULL);
    free(gbk);

    /* A byte that is not GB 18030, and a character cut by the end of the file. */
    const char utf8b[] = "张三,徐汇\n李四,浦东\n";
    gbk = to_gbk(utf8b, sizeof utf8b - 1, &n);
    char *bad = malloc(n + 16);
    assert_non_null(bad);
    memcpy(bad, gbk, n);
    memcpy(bad + n, "x,\xFF\xFF\n", 5);
    check_both(bad, n + 5, CSV_GB18030, "1:张三|徐汇\n2:李四|浦东\n", QL_EINVAL,
               "t.csv line 3: the text is neither UTF-8 nor valid GBK/GB 18030 (byte 0xFF)");
    memcpy(bad + n, "x,\xD5", 3);
    check_both(bad, n + 3, CSV_GB18030, "1:张三|徐汇\n2:李四|浦东\n", QL_EINVAL,
               "t.csv line 3: the text is neither UTF-8 nor valid GBK/GB 18030 (byte 0xD5)");
    free(bad);
    free(gbk);
}

/* Lines of Chinese text well over three read pieces, after a first line of pad
 * bytes that moves every character across the piece boundaries by one byte. */
static void big_text(buf *text, buf *want, size_t pad, size_t size)
{
    buf_printf(text, "pad,%.*s\n", (int)pad, "xxxxxxxxxxxxxxxx");
    buf_printf(want, "1:pad|%.*s\n", (int)pad, "xxxxxxxxxxxxxxxx");
    for (long i = 2; text->len < size; i++) {
        if (i % 97 == 0) {
            /* A quoted field over several lines now and then. */
            buf_printf(text, "%ld,\"多行\r\n备注,𠀀\n😀\",上海市\n", i);
            buf_printf(want, "%ld:%ld|多行\r\n备注,𠀀\n😀|上海市\n", i, i);
            i += 2;
            continue;
        }
        buf_printf(text, "%ld,张三丰,上海市徐汇区漕河泾开发区𠀀,浦东新区陆家嘴😀\n", i);
        buf_printf(want, "%ld:%ld|张三丰|上海市徐汇区漕河泾开发区𠀀|浦东新区陆家嘴😀\n", i, i);
    }
}

static void test_gbk_across_pieces(void **state)
{
    (void)state;
    for (size_t pad = 0; pad < 8; pad++) {
        buf text = BUF_INIT, want = BUF_INIT;
        big_text(&text, &want, pad, 5 * CHUNK);
        size_t n;
        char *gbk = to_gbk(text.data, text.len, &n);
        assert_true(n > 3 * CHUNK);
        check_both(gbk, n, CSV_GB18030, want.data, 0, NULL);
        free(gbk);
        buf_free(&text);
        buf_free(&want);
    }
}

static void test_utf8_across_pieces(void **state)
{
    (void)state;
    /* For some pad a character straddles the end of the 64 KiB sample: still UTF-8. */
    for (size_t pad = 0; pad < 8; pad++) {
        buf text = BUF_INIT, want = BUF_INIT;
        big_text(&text, &want, pad, 4 * CHUNK);
        check_both(text.data, text.len, CSV_UTF8, want.data, 0, NULL);
        buf_free(&text);
        buf_free(&want);
    }
    /* A four-byte character cut exactly at 64 KiB, in lines of 50 bytes. */
    size_t n = CHUNK + 100;
    char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) s[i] = i % 50 == 49 ? '\n' : 'a';
    memcpy(s + CHUNK - 2, "\xF0\x9F\x98\x80", 4);
    s[n - 1] = '\n';
    buf want = BUF_INIT;
    for (size_t i = 0, line = 1; i < n; line++) {
        size_t end = i;
        while (s[end] != '\n') end++;
        buf_printf(&want, "%zu:", line);
        buf_append(&want, s + i, end - i);
        buf_putc(&want, '\n');
        i = end + 1;
    }
    check_both(s, n, CSV_UTF8, want.data, 0, NULL);
    buf_free(&want);
    free(s);
}

static void test_utf8_bad_after_sample(void **state)
{
    (void)state;
    buf text = BUF_INIT, want = BUF_INIT;
    long bad_line = 0;
    for (long i = 1; text.len < 3 * CHUNK; i++) {
        if (!bad_line && text.len > CHUNK + 5000) {
            bad_line = i;
            buf_printf(&text, "%ld,正常\xFF文字\n", i);
            continue;
        }
        buf_printf(&text, "%ld,正常的一行文字\n", i);
        if (!bad_line) buf_printf(&want, "%ld:%ld|正常的一行文字\n", i, i);
    }
    char msg[128];
    snprintf(msg, sizeof msg, "t.csv line %ld: the text is not valid UTF-8 (byte 0xFF)", bad_line);
    check_both(text.data, text.len, CSV_UTF8, want.data, QL_EINVAL, msg);

    /* A character cut by the end of the file. */
    buf_reset(&text);
    buf_reset(&want);
    long i = 1;
    for (; text.len < 2 * CHUNK; i++) {
        buf_printf(&text, "%ld,正常的一行文字\n", i);
        buf_printf(&want, "%ld:%ld|正常的一行文字\n", i, i);
    }
    buf_puts(&text, "end,\xE5\xBC");
    snprintf(msg, sizeof msg, "t.csv line %ld: the text is not valid UTF-8 (byte 0xE5)", i);
    check_both(text.data, text.len, CSV_UTF8, want.data, QL_EINVAL, msg);
    buf_free(&text);
    buf_free(&want);
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    check_ok("a,b\n", CSV_UTF8, "1:a|b\n");
    const char t[] = "a,b\nc,\"open\nmore\nlines\n";
    check_both(t, sizeof t - 1, CSV_UTF8, "1:a|b\n", QL_EINVAL,
               "t.csv line 2: the quoted field starting here is never closed");
    const char t2[] = "\"x\ny\",1\n\"";
    check_both(t2, sizeof t2 - 1, CSV_UTF8, "1:x\ny|1\n", QL_EINVAL, "t.csv line 3: the quoted");
}

static void test_stray_quote(void **state)
{
    (void)state;
    const char t[] = "id,na\"me\n";
    check_both(t, sizeof t - 1, CSV_UTF8, "", QL_EINVAL, "t.csv line 1: a quote inside field 2");
    const char t2[] = "\"x\ny\",1\nab\"c\n";
    check_both(t2, sizeof t2 - 1, CSV_UTF8, "1:x\ny|1\n", QL_EINVAL,
               "t.csv line 3: a quote inside field 1");
    const char t3[] = "ok\n\"ab\"c,d\n";
    check_both(t3, sizeof t3 - 1, CSV_UTF8, "1:ok\n", QL_EINVAL,
               "t.csv line 2: text after the closing quote of field 1");
    const char t4[] = "a,\"b\" ,c\n";
    check_both(t4, sizeof t4 - 1, CSV_UTF8, "", QL_EINVAL, "closing quote of field 2");
    const char nul[] = "a\nb\0c\n";
    check_both(nul, sizeof nul - 1, CSV_UTF8, "1:a\n", QL_EINVAL,
               "t.csv line 2: the text holds a NUL");
    const char nulq[] = "\"b\0c\"\n";
    check_both(nulq, sizeof nulq - 1, CSV_UTF8, "", QL_EINVAL, "line 1: the text holds a NUL");
}

/* "a\nb," and then a field of len bytes, plain or quoted (made of doubled quotes). */
static size_t field_text(char *t, int quoted, size_t len)
{
    size_t n = 4;
    memcpy(t, "a\nb,", 4);
    if (quoted) {
        t[n++] = '"';
        for (size_t i = 0; i < len; i++) {
            t[n++] = '"';
            t[n++] = '"';
        }
        t[n++] = '"';
    } else {
        memset(t + n, 'x', len);
        n += len;
    }
    t[n++] = '\n';
    return n;
}

static void test_field_size(void **state)
{
    (void)state;
    size_t max = 64 * 1024;
    char *t = malloc(2 * max + 64);
    assert_non_null(t);
    for (int quoted = 0; quoted < 2; quoted++) {
        /* Exactly 64 KiB is fine. */
        size_t n = field_text(t, quoted, max);
        csv_reader *r;
        ql_err e;
        assert_int_equal(csv_open_mem(t, n, "t.csv", &r, &e), 0);
        char **f;
        int nf;
        long line;
        assert_int_equal(csv_next(r, &f, &nf, &line, &e), 1);
        assert_int_equal(csv_next(r, &f, &nf, &line, &e), 1);
        assert_int_equal(nf, 2);
        assert_int_equal(line, 2);
        assert_int_equal(strlen(f[1]), max);
        assert_int_equal(f[1][max - 1], quoted ? '"' : 'x');
        assert_int_equal(csv_next(r, &f, &nf, &line, &e), 0);
        csv_close(r);
        /* One byte more is not. */
        n = field_text(t, quoted, max + 1);
        check_both(t, n, CSV_UTF8, "1:a\n", QL_EINVAL,
                   "t.csv line 2: field 2 is longer than 65536 bytes");
    }
    free(t);
}

static void test_field_count(void **state)
{
    (void)state;
    char t[4096];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) t[n++] = 'v', t[n++] = ',';
    t[n - 1] = '\n';
    csv_reader *r;
    ql_err e;
    assert_int_equal(csv_open_mem(t, n, "t.csv", &r, &e), 0);
    char **f;
    int nf;
    long line;
    assert_int_equal(csv_next(r, &f, &nf, &line, &e), 1);
    assert_int_equal(nf, 1000);
    assert_string_equal(f[999], "v");
    csv_close(r);
    t[n - 1] = ',';
    t[n++] = '\n';
    check_both(t, n, CSV_UTF8, "", QL_EINVAL, "t.csv line 1: more than 1000 fields");
    memcpy(t + n - 1, "\"x\"\n", 4);
    check_both(t, n + 3, CSV_UTF8, "", QL_EINVAL, "t.csv line 1: more than 1000 fields");
}

static void test_mem_and_file_agree(void **state)
{
    (void)state;
    /* Every construct, repeated past several pieces, read both ways. */
    buf text = BUF_INIT;
    while (text.len < 5 * CHUNK)
        buf_puts(&text, "a,\"b,c\",\"d\"\"e\"\r\n,\"多\r\n行\",\n\n\"\"\r\n徐汇区,浦东\r");
    buf got[2] = {BUF_INIT, BUF_INIT};
    for (int i = 0; i < 2; i++) {
        csv_reader *r;
        ql_err e;
        FILE *f = NULL;
        if (i) {
            f = file_with(text.data, text.len);
            assert_int_equal(csv_open_file(f, "t.csv", &r, &e), 0);
        } else {
            assert_int_equal(csv_open_mem(text.data, text.len, "t.csv", &r, &e), 0);
        }
        assert_int_equal(dump(r, &got[i], &e), 0);
        csv_close(r);
        if (f) fclose(f);
    }
    assert_true(got[0].len > text.len / 2);
    assert_string_equal(got[0].data, got[1].data);
    assert_non_null(strstr(got[0].data, "\n7:a|b,c|d\"e\n"));
    buf_free(&got[0]);
    buf_free(&got[1]);
    buf_free(&text);

    /* A stream that cannot be read. */
    FILE *dir = fopen(tu_tmpdir(), "r");
    if (dir) {
        csv_reader *r = NULL;
        ql_err e = {0};
        assert_int_equal(csv_open_file(dir, "dir.csv", &r, &e), QL_EIO);
        assert_null(r);
        assert_non_null(strstr(e.en, "dir.csv: reading the file failed"));
        fclose(dir);
    }
}

static void test_many_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs("序号,姓名,身份证号,地址\n", f);
    for (int i = 1; i <= 200000; i++)
        fprintf(f, "%d,姓名%d,31010419900101%04d,\"上海市徐汇区, %d 号\"\n", i, i, i % 10000, i);
    rewind(f);
    csv_reader *r;
    ql_err e;
    assert_int_equal(csv_open_file(f, "big.csv", &r, &e), 0);
    assert_int_equal(csv_encoding_of(r), CSV_UTF8);
    char **fl;
    int nf, rc;
    long line, count = 0;
    while ((rc = csv_next(r, &fl, &nf, &line, &e)) == 1) {
        count++;
        assert_int_equal(nf, 4);
        assert_int_equal(line, count);
        if (count == 1) assert_string_equal(fl[1], "姓名");
        if (count == 2 || count == 100001 || count == 200001) {
            char want[64];
            snprintf(want, sizeof want, "姓名%ld", count - 1);
            assert_string_equal(fl[1], want);
            snprintf(want, sizeof want, "上海市徐汇区, %ld 号", count - 1);
            assert_string_equal(fl[3], want);
        }
    }
    assert_int_equal(rc, 0);
    assert_int_equal(count, 200001);
    csv_close(r);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_final_line),
        cmocka_unit_test(test_empty_fields_and_blank_lines),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_gbk_across_pieces),
        cmocka_unit_test(test_utf8_across_pieces),
        cmocka_unit_test(test_utf8_bad_after_sample),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_stray_quote),
        cmocka_unit_test(test_field_size),
        cmocka_unit_test(test_field_count),
        cmocka_unit_test(test_mem_and_file_agree),
        cmocka_unit_test(test_many_lines),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
