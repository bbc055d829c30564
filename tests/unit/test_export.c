/* test_export.c - CSV and .xlsx exports read back: hostile text, limits, errors, streaming. */
#include "testutil.h"

#include "core/buf.h"
#include "core/date.h"
#include "core/export.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static export_cell txt(const char *s)
{
    return (export_cell){CELL_TEXT, s, 0};
}

static export_cell integer(int64_t v)
{
    return (export_cell){CELL_INT, NULL, v};
}

static export_cell money(int64_t fen)
{
    return (export_cell){CELL_MONEY, NULL, fen};
}

static export_cell day(int64_t days)
{
    return (export_cell){CELL_DATE, NULL, days};
}

static export_cell empty(void)
{
    return (export_cell){CELL_EMPTY, NULL, 0};
}

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tu_tmpdir(), name);
    return p;
}

/* Output of a shell command (malloc'd, NUL-terminated). */
static char *command_output(const char *cmd, size_t *len)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *d = malloc(cap);
    assert_non_null(d);
    size_t k;
    while ((k = fread(d + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            cap *= 2;
            char *bigger = realloc(d, cap);
            assert_non_null(bigger);
            d = bigger;
        }
    }
    pclose(f);
    d[n] = '\0';
    if (len) *len = n;
    return d;
}

static char *unzip_member(const char *file, const char *member)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "unzip -p '%s' '%s' 2>/dev/null", file, member);
    return command_output(cmd, NULL);
}

#ifdef __SANITIZE_ADDRESS__
/* AddressSanitizer keeps freed memory in a quarantine of up to 256 MB, which would show in
 * the peak resident size as if the exporter held it. A small quarantine keeps the memory
 * test meaningful; ASAN_OPTIONS still overrides this. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=8";
}
#endif

/* A field of /proc/self/status in kB, or -1. */
static long proc_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

/* Resets the peak resident size to the current one (Linux 4.0+) and returns it in kB; where
 * that is not possible, returns the peak so far. */
static long reset_peak_kb(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        int ok = fputs("5", f) >= 0;
        if (fclose(f) == 0 && ok) return proc_status_kb("VmHWM");
    }
    return proc_status_kb("VmHWM");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_rows(exporter *x, const export_cell *rows, int nrows, int ncols)
{
    ql_err e;
    for (int r = 0; r < nrows; r++)
        if (export_row(x, rows + (size_t)r * (size_t)ncols, ncols, &e) != 0)
            fail_msg("row %d: %s", r, e.en);
}

/* ---- CSV -------------------------------------------------------------------------------- */

static void test_csv_content(void **state)
{
    (void)state;
    const char *path = tmp_path("content.csv");
    exporter *x;
    ql_err e;
    assert_int_equal(export_open(EXPORT_CSV, path, NULL, &x, &e), 0);
    const char *titles[] = {"姓名", "备注", "金额", "日期", "数量"};
    assert_int_equal(export_header(x, titles, 5, &e), 0);
    const export_cell rows[][5] = {
        {txt("张三"), txt("a,b"), money(0), day(0), integer(0)},
        {txt("say \"hi\""), txt("line1\nline2"), money(5), day(date_from_ymd(2024, 2, 29)),
         integer(-42)},
        {txt("=SUM(A1)"), txt("+1"), money(-5), day(date_from_ymd(1, 1, 1)), integer(INT64_MAX)},
        {txt("-2+3"), txt("@cmd"), money(123456), day(date_from_ymd(9999, 12, 31)),
         integer(INT64_MIN)},
        {txt("\tx"), txt("\rx"), money(INT64_MAX), empty(), txt(NULL)},
        {empty(), txt(""), money(INT64_MIN), money(-100), money(99)},
    };
    write_rows(x, &rows[0][0], 6, 5);
    assert_int_equal(export_row(x, NULL, 0, &e), 0); /* an empty row */
    const export_cell last[] = {txt("=a,\"b\""), txt("上海市 黄浦区"), txt("a\r\nb")};
    assert_int_equal(export_row(x, last, 3, &e), 0);
    assert_int_equal(export_rows(x), 8);
    assert_int_equal(export_close(x, &e), 0);

    size_t len;
    char *got = tu_slurp(path, &len);
    assert_non_null(got);
    const char want[] = "\xEF\xBB\xBF"
                        "姓名,备注,金额,日期,数量\r\n"
                        "张三,\"a,b\",0.00,1970-01-01,0\r\n"
                        "\"say \"\"hi\"\"\",\"line1\nline2\",0.05,2024-02-29,-42\r\n"
                        "\"'=SUM(A1)\",\"'+1\",-0.05,0001-01-01,9223372036854775807\r\n"
                        "\"'-2+3\",\"'@cmd\",1234.56,9999-12-31,-9223372036854775808\r\n"
                        "\"'\tx\",\"'\rx\",92233720368547758.07,,\r\n"
                        ",,-92233720368547758.08,-1.00,0.99\r\n"
                        "\r\n"
                        "\"'=a,\"\"b\"\"\",上海市 黄浦区,\"a\r\nb\"\r\n";
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(got, want, sizeof want - 1);
    free(got);
}

/* export_csv_text (for other CSV files people open, e.g. the bank's batch
 * files) writes a text field byte for byte as an export writes the cell. */
static void test_csv_text_in_a_buffer(void **state)
{
    (void)state;
    static const char *const cells[] = {"张三",
                                        "a,b",
                                        "say \"hi\"",
                                        "line1\nline2",
                                        "=SUM(A1)",
                                        "+1",
                                        "-2+3",
                                        "@cmd",
                                        "\tx",
                                        "\rx",
                                        "=a,\"b\"",
                                        "a\r\nb",
                                        "bad \xFF\xC0 bytes",
                                        "",
                                        "=HYPERLINK(\"http://x\",\"y\")"};
    enum { N = sizeof cells / sizeof cells[0] };
    const char *path = tmp_path("fields.csv");
    exporter *x;
    ql_err e;
    assert_int_equal(export_open(EXPORT_CSV, path, NULL, &x, &e), 0);
    buf want;
    buf_init(&want, 0);
    buf_puts(&want, "\xEF\xBB\xBF");
    for (int i = 0; i < N; i++) {
        assert_int_equal(export_row(x, (export_cell[]){txt(cells[i])}, 1, &e), 0);
        export_csv_text(&want, cells[i]);
        buf_puts(&want, "\r\n");
    }
    assert_int_equal(export_close(x, &e), 0);
    size_t len;
    char *got = tu_slurp(path, &len);
    assert_non_null(got);
    assert_int_equal(len, want.len);
    assert_memory_equal(got, want.data, len);
    assert_non_null(strstr(want.data, "\r\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n"));
    assert_non_null(strstr(want.data, "\r\nbad \xEF\xBF\xBD\xEF\xBF\xBD bytes\r\n"));
    free(got);
    buf_free(&want);
}

static void test_csv_money(void **state)
{
    (void)state;
    struct {
        int64_t fen;
        const char *yuan;
    } cases[] = {
        {0, "0.00"},
        {5, "0.05"},
        {-5, "-0.05"},
        {10, "0.10"},
        {100, "1.00"},
        {-100, "-1.00"},
        {123456, "1234.56"},
        {-123456, "-1234.56"},
        {100000000000, "1000000000.00"},
        {INT64_MAX, "92233720368547758.07"},
        {INT64_MIN, "-92233720368547758.08"},
        {INT64_MIN + 1, "-92233720368547758.07"},
    };
    const char *path = tmp_path("money.csv");
    exporter *x;
    ql_err e;
    assert_int_equal(export_open(EXPORT_CSV, path, NULL, &x, &e), 0);
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        export_cell c = money(cases[i].fen);
        assert_int_equal(export_row(x, &c, 1, &e), 0);
    }
    assert_int_equal(export_close(x, &e), 0);
    char *got = tu_slurp(path, NULL);
    assert_non_null(got);
    char *p = got + 3;
    for (size_t i = 0; i < n; i++) {
        char line[64];
        snprintf(line, sizeof line, "%s\r\n", cases[i].yuan);
        if (strncmp(p, line, strlen(line)) != 0)
            fail_msg("fen %" PRId64 ": want %s, got %.24s", cases[i].fen, cases[i].yuan, p);
        p += strlen(line);
    }
    assert_string_equal(p, "");
    free(got);
}

static void test_csv_invalid_utf8(void **state)
{
    (void)state;
    const char *path = tmp_path("utf8.csv");
    exporter *x;
    ql_err e;
    assert_int_equal(export_open(EXPORT_CSV, path, NULL, &x, &e), 0);
    const export_cell row[] = {txt("ok\xff中"), txt("a\xfe\"q"), txt("cut\xe4\xb8")};
    assert_int_equal(export_row(x, row, 3, &e), 0);
    assert_int_equal(export_close(x, &e), 0);
    char *got = tu_slurp(path, NULL);
    assert_string_equal(got,
                        "\xEF\xBB\xBF"
                        "ok\xEF\xBF\xBD中,\"a\xEF\xBF\xBD\"\"q\",cut\xEF\xBF\xBD\xEF\xBF\xBD\r\n");
    free(got);
}

static void test_bad_cells_write_nothing(void **state)
{
    (void)state;
    enum export_format formats[] = {EXPORT_CSV, EXPORT_XLSX};
    for (int f = 0; f < 2; f++) {
        const char *path = tmp_path(f ? "bad.xlsx" : "bad.csv");
        exporter *x;
        ql_err e;
        assert_int_equal(export_open(formats[f], path, "名单", &x, &e), 0);
        const export_cell good[] = {txt("first"), integer(1)};
        assert_int_equal(export_row(x, good, 2, &e), 0);

        const export_cell late[] = {txt("x"), day(date_from_ymd(9999, 12, 31) + 1)};
        assert_int_equal(export_row(x, late, 2, &e), QL_EINVAL);
        assert_non_null(strstr(e.en, "row 2, column 2"));
        assert_non_null(strstr(e.zh, "第 2 行第 2 列"));
        const export_cell early[] = {day(date_from_ymd(1, 1, 1) - 1)};
        assert_int_equal(export_row(x, early, 1, &e), QL_EINVAL);
        export_cell odd[] = {txt("x"), empty()};
        odd[1].type = (enum export_cell_type)99;
        assert_int_equal(export_row(x, odd, 2, &e), QL_EINVAL);
        assert_int_equal(export_row(x, good, -1, &e), QL_EINVAL);
        assert_int_equal(export_row(x, NULL, 2, &e), QL_EINVAL);
        const char *titles[] = {"late"};
        assert_int_equal(export_header(x, titles, 1, &e), QL_EINVAL);
        assert_int_equal(export_rows(x), 1);

        const export_cell second[] = {txt("second"), integer(2)};
        assert_int_equal(export_row(x, second, 2, &e), 0);
        assert_int_equal(export_rows(x), 2);
        assert_int_equal(export_close(x, &e), 0);

        if (formats[f] == EXPORT_CSV) {
            char *got = tu_slurp(path, NULL);
            assert_string_equal(got, "\xEF\xBB\xBF"
                                     "first,1\r\nsecond,2\r\n");
            free(got);
        } else {
            char *sheet = unzip_member(path, "xl/worksheets/sheet1.xml");
            assert_non_null(strstr(sheet, "<row r=\"2\""));
            assert_non_null(strstr(sheet, "<t>second</t>"));
            assert_null(strstr(sheet, "<row r=\"3\""));
            assert_null(strstr(sheet, "<t>x</t>"));
            free(sheet);
        }
    }
}

/* An export holds personal data: only its owner reads the file (mode 0600), whatever the umask. */
static void test_files_private(void **state)
{
    (void)state;
    mode_t old = umask(022);
    enum export_format formats[] = {EXPORT_CSV, EXPORT_XLSX};
    for (int f = 0; f < 2; f++) {
        const char *path = tmp_path(f ? "private.xlsx" : "private.csv");
        unlink(path);
        exporter *x;
        ql_err e;
        assert_int_equal(export_open(formats[f], path, "名单", &x, &e), 0);
        const export_cell row[] = {txt("张三"), integer(1)};
        assert_int_equal(export_row(x, row, 2, &e), 0);
        assert_int_equal(export_close(x, &e), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_true(st.st_size > 0);
    }
    umask(old);
}

static void test_csv_disk_full(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0) skip();
    exporter *x;
    ql_err e;
    /* Small: the error shows when the buffer is flushed at close. */
    assert_int_equal(export_open(EXPORT_CSV, "/dev/full", NULL, &x, &e), 0);
    const export_cell row[] = {txt("张三"), money(100)};
    assert_int_equal(export_row(x, row, 2, &e), 0);
    assert_int_equal(export_close(x, &e), QL_EIO);
    assert_non_null(strstr(e.en, "/dev/full"));
    assert_non_null(strstr(e.zh, "/dev/full"));

    /* Large: a row reports it, and so does everything after. */
    assert_int_equal(export_open(EXPORT_CSV, "/dev/full", NULL, &x, &e), 0);
    char text[1000];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    const export_cell big[] = {txt(text)};
    int rc = 0, i;
    for (i = 0; i < 10000 && rc == 0; i++) rc = export_row(x, big, 1, &e);
    assert_int_equal(rc, QL_EIO);
    assert_true(i < 1000);
    assert_non_null(strstr(e.en, "cannot write export file '/dev/full'"));
    assert_int_equal(export_row(x, big, 1, &e), QL_EIO);
    assert_int_equal(export_close(x, &e), QL_EIO);
    assert_non_null(strstr(e.en, "/dev/full"));
}

/* ---- Errors common to both formats ------------------------------------------------------ */

static void test_unwritable_path(void **state)
{
    (void)state;
    enum export_format formats[] = {EXPORT_CSV, EXPORT_XLSX};
    for (int f = 0; f < 2; f++) {
        const char *path = tmp_path(f ? "no-such-dir/out.xlsx" : "no-such-dir/out.csv");
        static char dummy;
        exporter *x = (exporter *)(void *)&dummy;
        ql_err e;
        assert_int_equal(export_open(formats[f], path, "Sheet", &x, &e), QL_EIO);
        assert_null(x);
        assert_non_null(strstr(e.en, path));
        assert_non_null(strstr(e.zh, path));
        assert_non_null(strstr(e.en, "No such file or directory"));
    }
    /* A directory is not a file either. */
    exporter *x;
    ql_err e;
    assert_int_equal(export_open(EXPORT_XLSX, tu_tmpdir(), NULL, &x, &e), QL_EIO);
    assert_int_equal(export_open(EXPORT_CSV, "", NULL, &x, &e), QL_EINVAL);
    assert_int_equal(export_open((enum export_format)7, tmp_path("x"), NULL, &x, &e), QL_EINVAL);
    assert_int_equal(export_close(NULL, &e), 0);
    assert_int_equal(export_rows(NULL), 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(export_content_type(EXPORT_CSV), "text/csv; charset=utf-8");
    assert_string_equal(export_content_type(EXPORT_XLSX),
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_string_equal(export_extension(EXPORT_CSV), ".csv");
    assert_string_equal(export_extension(EXPORT_XLSX), ".xlsx");
}

/* ---- .xlsx ------------------------------------------------------------------------------ */

/* The attribute attr="..." of the <c r="ref"> element, copied into out ("" if absent). */
static void cell_attr(const char *sheet, const char *ref, const char *attr, char *out, size_t n)
{
    char key[64];
    snprintf(key, sizeof key, "<c r=\"%s\"", ref);
    const char *c = strstr(sheet, key);
    if (!c) fail_msg("no cell %s", ref);
    const char *end = strchr(c, '>');
    snprintf(key, sizeof key, " %s=\"", attr);
    const char *a = strstr(c, key);
    out[0] = '\0';
    if (!a || a > end) return;
    a += strlen(key);
    snprintf(out, n, "%.*s", (int)strcspn(a, "\""), a);
}

/* The value of a cell: the text of <v> or of the inline string's <t>. */
static void cell_value(const char *sheet, const char *ref, char *out, size_t n)
{
    char key[64];
    snprintf(key, sizeof key, "<c r=\"%s\"", ref);
    const char *c = strstr(sheet, key);
    if (!c) fail_msg("no cell %s", ref);
    const char *end = strstr(c, "</c>");
    const char *v = strstr(c, "<v>");
    const char *t = strstr(c, "<t");
    out[0] = '\0';
    if (v && v < end) {
        v += 3;
    } else if (t && t < end) {
        v = strchr(t, '>') + 1;
    } else {
        return;
    }
    snprintf(out, n, "%.*s", (int)strcspn(v, "<"), v);
}

/* Index in cellXfs of the style whose number format has formatCode code. */
static int style_with_format(const char *styles, const char *code)
{
    char key[128];
    snprintf(key, sizeof key, "formatCode=\"%s\"", code);
    const char *fmt = strstr(styles, key);
    if (!fmt) fail_msg("no number format %s", code);
    const char *id = fmt;
    while (id > styles && strncmp(id, "numFmtId=\"", 10) != 0) id--;
    long num = strtol(id + 10, NULL, 10);
    const char *xfs = strstr(styles, "<cellXfs");
    assert_non_null(xfs);
    snprintf(key, sizeof key, "numFmtId=\"%ld\"", num);
    int index = 0;
    for (const char *xf = strstr(xfs, "<xf "); xf; xf = strstr(xf + 1, "<xf "), index++) {
        const char *end = strchr(xf, '>');
        const char *hit = strstr(xf, key);
        if (hit && hit < end) return index;
    }
    fail_msg("no cell style with number format %s", code);
    return -1;
}

static void assert_cell(const char *sheet, const char *ref, const char *want)
{
    char got[256];
    cell_value(sheet, ref, got, sizeof got);
    if (strcmp(got, want) != 0) fail_msg("cell %s: want '%s', got '%s'", ref, want, got);
}

static void assert_style(const char *sheet, const char *ref, int style)
{
    char got[32], want[32];
    cell_attr(sheet, ref, "s", got, sizeof got);
    snprintf(want, sizeof want, "%d", style);
    if (strcmp(got, want) != 0) fail_msg("cell %s: want style %s, got '%s'", ref, want, got);
}

static void assert_inline(const char *sheet, const char *ref)
{
    char got[32];
    cell_attr(sheet, ref, "t", got, sizeof got);
    if (strcmp(got, "inlineStr") != 0) fail_msg("cell %s: not a string (t='%s')", ref, got);
}

static void assert_money(const char *sheet, const char *ref, int style, const char *yuan)
{
    char got[64], shown[64];
    cell_value(sheet, ref, got, sizeof got);
    char *end;
    double v = strtod(got, &end);
    if (!*got || *end) fail_msg("cell %s: '%s' is not a number", ref, got);
    snprintf(shown, sizeof shown, "%.2f", v);
    if (strcmp(shown, yuan) != 0)
        fail_msg("cell %s: %s shows as %s, not %s", ref, got, shown, yuan);
    assert_true(v == strtod(yuan, NULL)); /* the same double Excel reads from "1234.56" */
    assert_style(sheet, ref, style);
}

static void test_xlsx_content(void **state)
{
    (void)state;
    const char *path = tmp_path("content.xlsx");
    exporter *x;
    ql_err e;
    assert_int_equal(export_open(EXPORT_XLSX, path, "人才名单", &x, &e), 0);
    const char *titles[] = {"姓名", "备注", "金额", "入职日期", "人数", "其他"};
    assert_int_equal(export_header(x, titles, 6, &e), 0);
    const export_cell rows[][6] = {
        {txt("张三"), txt("=SUM(A1:A3)"), money(123456), day(date_from_ymd(2024, 2, 29)),
         integer(42), empty()},
        {txt("a & <b> \"c\""), txt("+86 138"), money(-5), day(date_from_ymd(1900, 1, 1)),
         integer(-7), txt("")},
        {txt("-1"), txt("@x"), money(0), day(date_from_ymd(1899, 12, 31)),
         integer(INT64_C(1234567890123456789)), txt(NULL)},
        {txt("_x0041_ 和 cr\r"), txt("bad\xff"), money(7), day(date_from_ymd(1900, 3, 1)),
         integer(INT64_C(999999999999999)), txt("ctl\x01")},
        {txt("  空格  "), txt("=HYPERLINK(\"http://x\")"), money(INT64_C(999999999999999)),
         day(date_from_ymd(9999, 12, 31)), integer(0), money(INT64_MIN)},
    };
    write_rows(x, &rows[0][0], 5, 6);
    assert_int_equal(export_rows(x), 5);
    assert_int_equal(export_close(x, &e), 0);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "unzip -tq '%s' >/dev/null 2>&1", path);
    assert_int_equal(system(cmd), 0);

    char *sheet = unzip_member(path, "xl/worksheets/sheet1.xml");
    char *styles = unzip_member(path, "xl/styles.xml");
    char *shared = unzip_member(path, "xl/sharedStrings.xml");
    char *book = unzip_member(path, "xl/workbook.xml");
    assert_non_null(strstr(sheet, "<sheetData>"));

    /* No formulas anywhere; formula-looking text is a plain string. */
    assert_null(strstr(sheet, "<f>"));
    assert_null(strstr(sheet, "<f "));
    assert_cell(sheet, "B2", "=SUM(A1:A3)");
    assert_inline(sheet, "B2");
    assert_cell(sheet, "B3", "+86 138");
    assert_cell(sheet, "A4", "-1");
    assert_inline(sheet, "A4");
    assert_cell(sheet, "B4", "@x");
    assert_cell(sheet, "B6", "=HYPERLINK(\"http://x\")");
    /* Constant-memory mode writes strings inline; a shared-strings part, if any, holds none. */
    assert_null(strstr(shared, "SUM"));

    /* Header: bold, frozen. */
    assert_non_null(strstr(sheet, "<pane ySplit=\"1\""));
    assert_non_null(strstr(sheet, "state=\"frozen\""));
    assert_cell(sheet, "A1", "姓名");
    assert_cell(sheet, "D1", "入职日期");
    assert_non_null(strstr(styles, "<b/>"));
    char bold[16];
    cell_attr(sheet, "A1", "s", bold, sizeof bold);
    assert_true(strtol(bold, NULL, 10) > 0);
    assert_non_null(strstr(book, "name=\"人才名单\""));

    /* Text: Chinese intact, XML special characters escaped, Excel's _xHHHH_ kept literal. */
    assert_cell(sheet, "A2", "张三");
    assert_cell(sheet, "A3", "a &amp; &lt;b&gt; \"c\"");
    assert_cell(sheet, "A5", "_x005F_x0041_ 和 cr_x000D_");
    assert_cell(sheet, "B5", "bad\xEF\xBF\xBD");
    assert_cell(sheet, "F5", "ctl_x0001_");
    assert_cell(sheet, "A6", "  空格  ");
    assert_non_null(strstr(sheet, "<t xml:space=\"preserve\">  空格  </t>"));

    /* Money: numbers styled 0.00; beyond 15 digits, exact text. */
    int money = style_with_format(styles, "0.00");
    assert_money(sheet, "C2", money, "1234.56");
    assert_money(sheet, "C3", money, "-0.05");
    assert_money(sheet, "C4", money, "0.00");
    assert_money(sheet, "C5", money, "0.07");
    assert_money(sheet, "C6", money, "9999999999999.99");
    assert_cell(sheet, "F6", "-92233720368547758.08");
    assert_inline(sheet, "F6");

    /* Dates: serial numbers styled yyyy-mm-dd (Excel counts a 1900-02-29). */
    int date = style_with_format(styles, "yyyy-mm-dd");
    assert_cell(sheet, "D2", "45351");
    assert_style(sheet, "D2", date);
    assert_cell(sheet, "D3", "1");
    assert_style(sheet, "D3", date);
    assert_cell(sheet, "D5", "61");
    assert_cell(sheet, "D6", "2958465");
    assert_cell(sheet, "D4", "1899-12-31"); /* before Excel's calendar: text */
    assert_inline(sheet, "D4");

    /* Integers: whole-number format; beyond 15 digits, exact text. */
    int whole = style_with_format(styles, "0");
    assert_cell(sheet, "E2", "42");
    assert_style(sheet, "E2", whole);
    assert_cell(sheet, "E3", "-7");
    assert_cell(sheet, "E5", "999999999999999");
    assert_style(sheet, "E5", whole);
    assert_cell(sheet, "E4", "1234567890123456789");
    assert_inline(sheet, "E4");

    /* Empty cells are absent. */
    assert_null(strstr(sheet, "<c r=\"F2\""));
    assert_null(strstr(sheet, "<c r=\"F3\""));
    assert_null(strstr(sheet, "<c r=\"F4\""));

    /* Column widths: set, wider for the longer CJK header. */
    assert_non_null(strstr(sheet, "<cols>"));
    const char col4_key[] = "<col min=\"4\" max=\"4\" width=\"";
    const char *col4 = strstr(sheet, col4_key);
    assert_non_null(col4);
    assert_non_null(strstr(sheet, "<col min=\"1\" max=\"1\" width=\""));
    assert_true(strtod(col4 + sizeof col4_key - 1, NULL) >= 10);
    free(sheet);
    free(styles);
    free(shared);
    free(book);
}

static void test_xlsx_limits(void **state)
{
    (void)state;
    exporter *x;
    ql_err e;
    assert_int_equal(export_open(EXPORT_XLSX, tmp_path("name.xlsx"), "a:b", &x, &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "'a:b'"));
    assert_non_null(strstr(e.zh, "不能包含"));
    assert_int_equal(
        export_open(EXPORT_XLSX, tmp_path("name.xlsx"), "abcdefghijklmnopqrstuvwxyz012345", &x, &e),
        QL_EINVAL);
    assert_non_null(strstr(e.en, "31 characters"));
    assert_int_equal(export_open(EXPORT_XLSX, tmp_path("name.xlsx"), "'quoted'", &x, &e),
                     QL_EINVAL);

    const char *path = tmp_path("limits.xlsx");
    /* 31 Chinese characters are a valid name. */
    assert_int_equal(export_open(EXPORT_XLSX, path,
                                 "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一",
                                 &x, &e),
                     0);

    char *text = malloc(32768 * 4 + 1);
    assert_non_null(text);
    memset(text, 'a', 32767);
    text[32767] = '\0';
    export_cell c = txt(text);
    assert_int_equal(export_row(x, &c, 1, &e), 0);
    text[32767] = 'a';
    text[32768] = '\0';
    export_cell row[] = {integer(1), txt(text)};
    assert_int_equal(export_row(x, row, 2, &e), QL_ETOOBIG);
    assert_non_null(strstr(e.en, "row 2, column 2"));
    assert_non_null(strstr(e.en, "32768 characters"));
    /* 32,767 Chinese characters (3 bytes each) fit. */
    for (int i = 0; i < 32767; i++) memcpy(text + 3 * i, "中", 3);
    text[3 * 32767] = '\0';
    assert_int_equal(export_row(x, &c, 1, &e), 0);
    /* 16,384 characters outside the BMP are 32,768 UTF-16 units, as Excel counts. */
    for (int i = 0; i < 16384; i++) memcpy(text + 4 * i, "\xF0\x9F\x98\x80", 4);
    text[4 * 16384] = '\0';
    assert_int_equal(export_row(x, &c, 1, &e), QL_ETOOBIG);
    free(text);

    export_cell *wide = calloc(16385, sizeof *wide);
    assert_non_null(wide);
    assert_int_equal(export_row(x, wide, 16385, &e), QL_ETOOBIG);
    assert_non_null(strstr(e.en, "16384"));
    assert_int_equal(export_row(x, wide, 16384, &e), 0);
    free(wide);
    assert_int_equal(export_rows(x), 3);
    assert_int_equal(export_close(x, &e), 0);

    char *sheet = unzip_member(path, "xl/worksheets/sheet1.xml");
    assert_non_null(strstr(sheet, "<row r=\"2\""));
    assert_null(strstr(sheet, "<row r=\"3\"")); /* the all-empty row */
    assert_null(strstr(sheet, "<row r=\"4\""));
    free(sheet);
}

/* Header plus 1,048,575 rows fill a sheet; the next row is refused, not dropped. */
static void test_xlsx_row_limit(void **state)
{
    (void)state;
    const char *path = tmp_path("full.xlsx");
    exporter *x;
    ql_err e;
    double t0 = now_s();
    assert_int_equal(export_open(EXPORT_XLSX, path, "Full", &x, &e), 0);
    const char *titles[] = {"序号"};
    assert_int_equal(export_header(x, titles, 1, &e), 0);
    for (int64_t i = 0; i < 1048575; i++) {
        export_cell c = integer(i);
        if (export_row(x, &c, 1, &e) != 0) fail_msg("row %" PRId64 ": %s", i, e.en);
    }
    export_cell c = integer(-1);
    assert_int_equal(export_row(x, &c, 1, &e), QL_ETOOBIG);
    assert_non_null(strstr(e.en, "1048576 rows"));
    assert_non_null(strstr(e.en, path));
    assert_non_null(strstr(e.zh, "CSV"));
    assert_int_equal(export_row(x, &c, 1, &e), QL_ETOOBIG);
    assert_int_equal(export_rows(x), 1048575);
    assert_int_equal(export_close(x, &e), 0);
    print_message("# 1,048,576-row .xlsx in %.1f s\n", now_s() - t0);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/worksheets/sheet1.xml | tail -c 300", path);
    char *tail = command_output(cmd, NULL);
    assert_non_null(strstr(tail, "<row r=\"1048576\""));
    assert_non_null(strstr(tail, "<v>1048574</v>"));
    free(tail);
    unlink(path);
}

/* 200,000 rows of 8 columns: memory stays flat because rows go straight to disk. */
static void test_large_exports_stream(void **state)
{
    (void)state;
    enum export_format formats[] = {EXPORT_XLSX, EXPORT_CSV};
    const int nrows = 200000;
    for (int f = 0; f < 2; f++) {
        const char *path = tmp_path(f ? "large.csv" : "large.xlsx");
        long before = reset_peak_kb();
        double t0 = now_s();
        exporter *x;
        ql_err e;
        assert_int_equal(export_open(formats[f], path, "数据", &x, &e), 0);
        const char *titles[] = {"编号", "姓名", "单位", "金额", "日期", "人数", "备注", "公式"};
        assert_int_equal(export_header(x, titles, 8, &e), 0);
        char name[64], note[64];
        for (int i = 0; i < nrows; i++) {
            snprintf(name, sizeof name, "人才%d号", i);
            snprintf(note, sizeof note, "备注,第%d行 \"引号\"", i);
            const export_cell row[] = {
                integer(i),
                txt(name),
                txt("上海市某区人才服务中心"),
                money((int64_t)i * 12345 - 5000),
                day(19000 + i % 3000),
                integer(i % 97),
                txt(note),
                txt("=1+1"),
            };
            if (export_row(x, row, 8, &e) != 0) fail_msg("row %d: %s", i, e.en);
        }
        assert_int_equal(export_rows(x), nrows);
        assert_int_equal(export_close(x, &e), 0);
        double secs = now_s() - t0;
        long after = proc_status_kb("VmHWM");
        size_t size = 0;
        char *tail = NULL;
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        fseek(fp, 0, SEEK_END);
        size = (size_t)ftell(fp);
        fclose(fp);
        print_message("# %s: %d rows in %.2f s (%.0f rows/s), %zu bytes, peak RSS %ld -> %ld kB\n",
                      f ? "CSV" : "xlsx", nrows, secs, nrows / secs, size, before, after);
        assert_true(before > 0);
        assert_true(after - before < 50 * 1024);
        if (formats[f] == EXPORT_XLSX) {
            char cmd[600];
            snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/worksheets/sheet1.xml | tail -c 1500",
                     path);
            tail = command_output(cmd, NULL);
            assert_non_null(strstr(tail, "<row r=\"200001\""));
        } else {
            snprintf(note, sizeof note, "tail -c 200 '%s'", path);
            tail = command_output(note, NULL);
            assert_non_null(strstr(tail, "\r\n199999,人才199999号,"));
            assert_non_null(strstr(tail, ",\"'=1+1\"\r\n"));
        }
        free(tail);
        unlink(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_content),
        cmocka_unit_test(test_csv_text_in_a_buffer),
        cmocka_unit_test(test_csv_money),
        cmocka_unit_test(test_csv_invalid_utf8),
        cmocka_unit_test(test_bad_cells_write_nothing),
        cmocka_unit_test(test_files_private),
        cmocka_unit_test(test_csv_disk_full),
        cmocka_unit_test(test_unwritable_path),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_xlsx_content),
        cmocka_unit_test(test_xlsx_limits),
        cmocka_unit_test(test_xlsx_row_limit),
        cmocka_unit_test(test_large_exports_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
