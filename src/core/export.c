/* export.c - row-by-row table export to .xlsx (libxlsxwriter, constant memory) or CSV. */
#include "core/export.h"

#include "core/buf.h"
#include "core/date.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define XLSX_MAX_ROWS  ((uint32_t)LXW_ROW_MAX)  /* 1,048,576 per sheet, header included */
#define XLSX_MAX_COLS  LXW_COL_MAX              /* 16,384 */
#define XLSX_MAX_CHARS 32767                    /* per cell, counted in UTF-16 units */
#define XLSX_MAX_EXACT INT64_C(999999999999999) /* Excel keeps 15 significant digits */
#define CSV_BUF_SIZE   (256 * 1024)
#define COL_WIDTH_MIN  8
#define COL_WIDTH_MAX  60
#define FERROR_EVERY   1024 /* rows between checks of the library's temporary file */

/* Day numbers of 0001-01-01, 9999-12-31, and of 1900-01-01 and 1900-03-01 (Excel's
 * serial dates start at 1900-01-01 = 1 and count a 29 February 1900 that never was). */
#define DAY_MIN           (-719162)
#define DAY_MAX           2932896
#define DAY_1900_01_01    (-25567)
#define DAY_1900_03_01    (-25508)
#define EXCEL_SERIAL_1970 25569

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* What one pass over a text cell learned. */
typedef struct text_scan {
    size_t len;        /* bytes */
    size_t units;      /* UTF-16 code units: Excel's character count */
    size_t width;      /* display columns, 2 for a wide (CJK) character */
    uint8_t csv_quote; /* contains a comma, quote, CR or LF */
    uint8_t invalid;   /* contains malformed UTF-8 */
    uint8_t xml_fix;   /* must be rewritten for .xlsx (see xlsx_clean) */
} text_scan;

struct exporter {
    enum export_format format;
    char *path;
    int64_t rows;
    int header_done;
    int failed; /* sticky: after an I/O error every call returns it */
    ql_err fail;
    /* CSV */
    int fd;
    int io_errno;
    char *out;
    size_t out_len;
    /* .xlsx */
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *f_bold, *f_int, *f_money, *f_date;
    char *tmpdir;
    uint32_t next_row;
    uint16_t *widths;
    int nwidths;
    text_scan *scans;
    int nscans;
    buf scratch;
};

/* ---- Text ------------------------------------------------------------------------------ */

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Does p (NUL-terminated) start with _xHHHH_, which Excel would decode as one character? */
static int is_xml_escape(const unsigned char *p)
{
    return p[0] == '_' && (p[1] == 'x' || p[1] == 'X') && is_hex(p[2]) && is_hex(p[3]) &&
           is_hex(p[4]) && is_hex(p[5]) && p[6] == '_';
}

static uint32_t decode(const unsigned char *p, size_t k)
{
    if (k == 2) return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    if (k == 3) return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
           (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

static int is_wide(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
           (cp >= 0x20000 && cp <= 0x3FFFD);
}

static void scan_text(const char *s, text_scan *ts)
{
    memset(ts, 0, sizeof *ts);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    ts->len = n;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c == ',' || c == '"' || c == '\n') {
                ts->csv_quote = 1;
            } else if (c == '\r') {
                ts->csv_quote = 1;
                ts->xml_fix = 1; /* XML would turn a bare CR into LF */
            } else if (c == '_' && is_xml_escape(p + i)) {
                ts->xml_fix = 1;
            }
            ts->units++;
            ts->width++;
            i++;
            continue;
        }
        size_t k = text_char_len(p + i, n - i);
        if (k == 0) {
            ts->invalid = 1;
            ts->xml_fix = 1;
            ts->units++;
            ts->width++;
            i++;
            continue;
        }
        uint32_t cp = decode(p + i, k);
        if (cp == 0xFFFE || cp == 0xFFFF) ts->xml_fix = 1; /* not allowed in XML */
        ts->units += k == 4 ? 2 : 1;
        ts->width += is_wide(cp) ? 2 : 1;
        i += k;
    }
}

/* Would a spreadsheet take this text for a formula? */
static int looks_like_formula(const char *s)
{
    return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
}

/* ---- Numbers and dates as text --------------------------------------------------------- */

/* Writes the decimal digits of v backwards ending at end; returns the start. */
static char *u64_digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* Formats v into out (at least 24 bytes); returns the length. */
static size_t fmt_int(char *out, int64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = u64_digits(end, magnitude(v));
    if (v < 0) *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    return n;
}

/* Formats fen as yuan with two decimals ("-0.05", "1234.56") into out (at least 32 bytes). */
static size_t fmt_money(char *out, int64_t fen)
{
    char tmp[32];
    char *end = tmp + sizeof tmp;
    uint64_t a = magnitude(fen);
    *--end = (char)('0' + a % 10);
    *--end = (char)('0' + a / 10 % 10);
    *--end = '.';
    char *p = u64_digits(end, a / 100);
    if (fen < 0) *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    return n;
}

/* Formats a day number (DAY_MIN..DAY_MAX) as yyyy-mm-dd into out (at least 11 bytes). */
static size_t fmt_date(char *out, int32_t days)
{
    int y, m, d;
    date_to_ymd(days, &y, &m, &d);
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
    return 10;
}

/* ---- Errors ---------------------------------------------------------------------------- */

static int fail_sticky(exporter *x, ql_err *err)
{
    if (err) *err = x->fail;
    return x->failed;
}

static int set_io_error(exporter *x, ql_err *err, const char *why)
{
    x->failed = ql_errf(&x->fail, QL_EIO, "export.path", "cannot write export file '%s': %s",
                        "写入导出文件“%s”失败：%s", x->path, why);
    return fail_sticky(x, err);
}

/* Checks the cells of one row before anything of it is written, so that a refused row
 * leaves no half-row behind. For .xlsx also scans the text cells into x->scans. */
static int check_row(exporter *x, const export_cell *cells, int n, ql_err *err)
{
    if (n < 0 || (n > 0 && !cells))
        return ql_errf(err, QL_EINVAL, "export.cells", "row %" PRId64 ": %d cells",
                       "第 %" PRId64 " 行：单元格数 %d 无效", x->rows + 1, n);
    int xlsx = x->format == EXPORT_XLSX;
    if (xlsx && n > XLSX_MAX_COLS)
        return ql_errf(err, QL_ETOOBIG, "export.cells",
                       "row %" PRId64 " has %d columns; an .xlsx sheet holds at most %d",
                       "第 %" PRId64 " 行有 %d 列，.xlsx 工作表最多 %d 列", x->rows + 1, n,
                       XLSX_MAX_COLS);
    if (xlsx && n > x->nscans) {
        x->scans = xrealloc(x->scans, (size_t)n * sizeof *x->scans);
        x->nscans = n;
    }
    for (int i = 0; i < n; i++) {
        const export_cell *c = &cells[i];
        switch (c->type) {
        case CELL_EMPTY:
        case CELL_INT:
        case CELL_MONEY:
            break;
        case CELL_TEXT:
            if (!xlsx || !c->text) break;
            scan_text(c->text, &x->scans[i]);
            if (x->scans[i].units > XLSX_MAX_CHARS)
                return ql_errf(err, QL_ETOOBIG, "export.cells",
                               "row %" PRId64 ", column %d: text of %zu characters is longer "
                               "than the %d an .xlsx cell can hold",
                               "第 %" PRId64 " 行第 %d 列：文本有 %zu 个字符，超过 .xlsx 单元格"
                               "上限 %d",
                               x->rows + 1, i + 1, x->scans[i].units, XLSX_MAX_CHARS);
            break;
        case CELL_DATE:
            if (c->i < DAY_MIN || c->i > DAY_MAX)
                return ql_errf(err, QL_EINVAL, "export.cells",
                               "row %" PRId64 ", column %d: day number %" PRId64
                               " is not a date between 0001-01-01 and 9999-12-31",
                               "第 %" PRId64 " 行第 %d 列：日期序号 %" PRId64
                               " 不在 0001-01-01 至 9999-12-31 之间",
                               x->rows + 1, i + 1, c->i);
            break;
        default:
            return ql_errf(
                err, QL_EINVAL, "export.cells", "row %" PRId64 ", column %d: unknown cell type %d",
                "第 %" PRId64 " 行第 %d 列：未知的单元格类型 %d", x->rows + 1, i + 1, (int)c->type);
        }
    }
    return 0;
}

/* ---- CSV ------------------------------------------------------------------------------- */

static void csv_write_all(exporter *x, const char *p, size_t n)
{
    while (n > 0 && !x->io_errno) {
        ssize_t k = write(x->fd, p, n);
        if (k < 0) {
            if (errno != EINTR) x->io_errno = errno;
            continue;
        }
        if (k == 0) {
            x->io_errno = EIO;
            break;
        }
        p += k;
        n -= (size_t)k;
    }
}

static void csv_flush(exporter *x)
{
    if (x->out_len) csv_write_all(x, x->out, x->out_len);
    x->out_len = 0;
}

/* Appends bytes to the output buffer; write errors are kept in x->io_errno. */
static void csv_put(exporter *x, const void *p, size_t n)
{
    if (x->out_len + n > CSV_BUF_SIZE) {
        csv_flush(x);
        if (n >= CSV_BUF_SIZE) {
            csv_write_all(x, p, n);
            return;
        }
    }
    memcpy(x->out + x->out_len, p, n);
    x->out_len += n;
}

static void csv_putc(exporter *x, char c)
{
    if (x->out_len == CSV_BUF_SIZE) csv_flush(x);
    x->out[x->out_len++] = c;
}

/* Where a CSV text field goes: the exporter's output (x) or a buffer (b). */
typedef struct csv_sink {
    exporter *x;
    buf *b;
} csv_sink;

static void sink_put(const csv_sink *k, const void *p, size_t n)
{
    if (k->x)
        csv_put(k->x, p, n);
    else
        buf_append(k->b, p, n);
}

static void sink_putc(const csv_sink *k, char c)
{
    if (k->x)
        csv_putc(k->x, c);
    else
        buf_putc(k->b, c);
}

/* Writes one text field: quoted when it must be (RFC 4180), with an apostrophe in front of
 * anything a spreadsheet would run as a formula, malformed UTF-8 replaced by U+FFFD. */
static void csv_encode(const csv_sink *k, const char *s)
{
    if (!s || !*s) return;
    text_scan ts;
    scan_text(s, &ts);
    int formula = looks_like_formula(s);
    int quote = ts.csv_quote || formula;
    if (quote) sink_putc(k, '"');
    if (formula) sink_putc(k, '\'');
    if (!ts.invalid && !ts.csv_quote) {
        sink_put(k, s, ts.len);
    } else {
        const unsigned char *p = (const unsigned char *)s;
        size_t run = 0, i = 0;
        while (i < ts.len) {
            if (p[i] == '"') {
                sink_put(k, p + run, i + 1 - run); /* the quote itself, then once more */
                sink_putc(k, '"');
                run = ++i;
            } else if (p[i] < 0x80) {
                i++;
            } else {
                size_t n = text_char_len(p + i, ts.len - i);
                if (n) {
                    i += n;
                    continue;
                }
                sink_put(k, p + run, i - run);
                sink_put(k, replacement, 3);
                run = ++i;
            }
        }
        sink_put(k, p + run, ts.len - run);
    }
    if (quote) sink_putc(k, '"');
}

static void csv_text(exporter *x, const char *s)
{
    csv_encode(&(csv_sink){x, NULL}, s);
}

void export_csv_text(struct buf *b, const char *s)
{
    csv_encode(&(csv_sink){NULL, b}, s);
}

static int csv_end_row(exporter *x, ql_err *err)
{
    csv_put(x, "\r\n", 2);
    if (x->io_errno) return set_io_error(x, err, strerror(x->io_errno));
    return 0;
}

static int csv_header(exporter *x, const char *const *titles, int n, ql_err *err)
{
    for (int i = 0; i < n; i++) {
        if (i) csv_putc(x, ',');
        csv_text(x, titles[i]);
    }
    return csv_end_row(x, err);
}

static int csv_row(exporter *x, const export_cell *cells, int n, ql_err *err)
{
    char tmp[32];
    for (int i = 0; i < n; i++) {
        if (i) csv_putc(x, ',');
        const export_cell *c = &cells[i];
        switch (c->type) {
        case CELL_TEXT:
            csv_text(x, c->text);
            break;
        case CELL_INT:
            csv_put(x, tmp, fmt_int(tmp, c->i));
            break;
        case CELL_MONEY:
            csv_put(x, tmp, fmt_money(tmp, c->i));
            break;
        case CELL_DATE:
            csv_put(x, tmp, fmt_date(tmp, (int32_t)c->i));
            break;
        default:
            break;
        }
    }
    return csv_end_row(x, err);
}

/* ---- .xlsx ----------------------------------------------------------------------------- */

/* Rewrites text for an .xlsx cell: a CR becomes _x000D_ (XML would read it as LF), an
 * underscore that starts _xHHHH_ becomes _x005F_ (so Excel shows it as written), U+FFFE,
 * U+FFFF and malformed bytes become U+FFFD. Other control characters are escaped by
 * libxlsxwriter itself. */
static const char *xlsx_clean(exporter *x, const char *s, const text_scan *ts)
{
    buf *b = &x->scratch;
    buf_reset(b);
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    while (i < ts->len) {
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t skip = 1;
        if (c == '\r') {
            rep = "_x000D_";
        } else if (c == '_' && is_xml_escape(p + i)) {
            rep = "_x005F_";
        } else if (c >= 0x80) {
            size_t k = text_char_len(p + i, ts->len - i);
            if (k == 0) {
                rep = replacement;
            } else {
                uint32_t cp = decode(p + i, k);
                if (cp == 0xFFFE || cp == 0xFFFF) rep = replacement;
                skip = k;
            }
        }
        if (rep) {
            buf_append(b, p + run, i - run);
            buf_puts(b, rep);
            run = i + skip;
        }
        i += skip;
    }
    buf_append(b, p + run, ts->len - run);
    return b->data ? b->data : "";
}

static void note_width(exporter *x, int col, size_t width)
{
    if (col >= x->nwidths) {
        int n = x->nwidths ? x->nwidths : 16;
        while (n <= col) n *= 2;
        if (n > XLSX_MAX_COLS) n = XLSX_MAX_COLS;
        x->widths = xrealloc(x->widths, (size_t)n * sizeof *x->widths);
        memset(x->widths + x->nwidths, 0, (size_t)(n - x->nwidths) * sizeof *x->widths);
        x->nwidths = n;
    }
    if (width > COL_WIDTH_MAX) width = COL_WIDTH_MAX;
    if (width > x->widths[col]) x->widths[col] = (uint16_t)width;
}

static int xlsx_lib_error(exporter *x, lxw_error rc, int64_t row, int col, ql_err *err)
{
    if (rc == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED)
        return ql_errf(err, QL_ETOOBIG, "export.cells",
                       "row %" PRId64 ", column %d: text is longer than an .xlsx cell can hold",
                       "第 %" PRId64 " 行第 %d 列：文本超过 .xlsx 单元格上限", row, col + 1);
    return set_io_error(x, err, lxw_strerror(rc));
}

static lxw_error xlsx_string(exporter *x, int col, const char *s, const text_scan *ts,
                             lxw_format *f)
{
    note_width(x, col, ts->width);
    if (ts->len == 0) return LXW_NO_ERROR;
    const char *text = ts->xml_fix ? xlsx_clean(x, s, ts) : s;
    return worksheet_write_string(x->ws, x->next_row, (lxw_col_t)col, text, f);
}

/* A value Excel cannot hold exactly (or at all) goes in as text. */
static lxw_error xlsx_plain(exporter *x, int col, const char *s, size_t n)
{
    note_width(x, col, n);
    return worksheet_write_string(x->ws, x->next_row, (lxw_col_t)col, s, NULL);
}

static lxw_error xlsx_cell(exporter *x, int col, const export_cell *c)
{
    char tmp[32];
    size_t n;
    switch (c->type) {
    case CELL_TEXT:
        if (!c->text) return LXW_NO_ERROR;
        return xlsx_string(x, col, c->text, &x->scans[col], NULL);
    case CELL_INT:
        n = fmt_int(tmp, c->i);
        tmp[n] = '\0';
        if (c->i < -XLSX_MAX_EXACT || c->i > XLSX_MAX_EXACT) return xlsx_plain(x, col, tmp, n);
        note_width(x, col, n);
        return worksheet_write_number(x->ws, x->next_row, (lxw_col_t)col, (double)c->i, x->f_int);
    case CELL_MONEY:
        n = fmt_money(tmp, c->i);
        tmp[n] = '\0';
        if (c->i < -XLSX_MAX_EXACT || c->i > XLSX_MAX_EXACT) return xlsx_plain(x, col, tmp, n);
        note_width(x, col, n);
        /* fen is exact in a double, and so the quotient is the double nearest the yuan */
        return worksheet_write_number(x->ws, x->next_row, (lxw_col_t)col, (double)c->i / 100.0,
                                      x->f_money);
    case CELL_DATE:
        if (c->i < DAY_1900_01_01) { /* before Excel's calendar: shown as text */
            n = fmt_date(tmp, (int32_t)c->i);
            return xlsx_plain(x, col, tmp, n);
        }
        note_width(x, col, 10);
        return worksheet_write_number(
            x->ws, x->next_row, (lxw_col_t)col,
            (double)(c->i + (c->i < DAY_1900_03_01 ? EXCEL_SERIAL_1970 - 1 : EXCEL_SERIAL_1970)),
            x->f_date);
    default:
        return LXW_NO_ERROR;
    }
}

static int xlsx_check_room(exporter *x, ql_err *err)
{
    if (x->next_row < XLSX_MAX_ROWS) return 0;
    return ql_errf(err, QL_ETOOBIG, "export.rows",
                   "'%s': an .xlsx sheet holds at most %" PRIu32
                   " rows including the header; export as CSV instead",
                   "“%s”：.xlsx 工作表最多 %" PRIu32 " 行（含表头），请改用 CSV 导出", x->path,
                   XLSX_MAX_ROWS);
}

static int xlsx_tmp_check(exporter *x, ql_err *err)
{
    if (x->ws && x->ws->optimize_tmpfile && ferror(x->ws->optimize_tmpfile)) {
        x->failed =
            ql_errf(&x->fail, QL_EIO, "export.path", "cannot write temporary data for '%s' in %s",
                    "无法写入“%s”的临时数据（目录 %s）", x->path, x->tmpdir);
        return fail_sticky(x, err);
    }
    return 0;
}

static int xlsx_header(exporter *x, const char *const *titles, int n, ql_err *err)
{
    if (n > XLSX_MAX_COLS)
        return ql_errf(err, QL_ETOOBIG, "export.titles",
                       "%d columns; an .xlsx sheet holds at most %d",
                       "共 %d 列，.xlsx 工作表最多 %d 列", n, XLSX_MAX_COLS);
    for (int i = 0; i < n; i++) {
        if (!titles[i]) continue;
        text_scan ts;
        scan_text(titles[i], &ts);
        if (ts.units > XLSX_MAX_CHARS)
            return ql_errf(err, QL_ETOOBIG, "export.titles",
                           "column %d: title longer than %d characters",
                           "第 %d 列：标题超过 %d 个字符", i + 1, XLSX_MAX_CHARS);
    }
    for (int i = 0; i < n; i++) {
        if (!titles[i]) continue;
        text_scan ts;
        scan_text(titles[i], &ts);
        ts.width += ts.width / 8 + 1; /* bold is wider */
        lxw_error rc = xlsx_string(x, i, titles[i], &ts, x->f_bold);
        if (rc) return xlsx_lib_error(x, rc, 0, i, err);
    }
    worksheet_freeze_panes(x->ws, 1, 0);
    x->next_row = 1;
    return 0;
}

static int xlsx_row(exporter *x, const export_cell *cells, int n, ql_err *err)
{
    for (int i = 0; i < n; i++) {
        lxw_error lrc = xlsx_cell(x, i, &cells[i]);
        if (lrc) return xlsx_lib_error(x, lrc, x->rows + 1, i, err);
    }
    x->next_row++;
    if (x->next_row % FERROR_EVERY == 0) return xlsx_tmp_check(x, err);
    return 0;
}

static void xlsx_set_widths(exporter *x)
{
    for (int c = 0; c < x->nwidths; c++) {
        if (!x->widths[c]) continue;
        int w = x->widths[c] + 2;
        if (w < COL_WIDTH_MIN) w = COL_WIDTH_MIN;
        if (w > COL_WIDTH_MAX) w = COL_WIDTH_MAX;
        worksheet_set_column(x->ws, (lxw_col_t)c, (lxw_col_t)c, w, NULL);
    }
}

/* Sheet names Excel refuses: libxlsxwriter knows the rules, the messages are ours. */
static int check_sheet_name(lxw_workbook *wb, const char *name, ql_err *err)
{
    lxw_error rc = workbook_validate_sheet_name(wb, name);
    if (rc == LXW_NO_ERROR) return 0;
    const char *en = lxw_strerror(rc), *zh = "名称无效";
    if (rc == LXW_ERROR_SHEETNAME_LENGTH_EXCEEDED) {
        en = "longer than 31 characters";
        zh = "超过 31 个字符";
    } else if (rc == LXW_ERROR_INVALID_SHEETNAME_CHARACTER) {
        en = "must not contain [ ] : * ? / \\";
        zh = "不能包含 [ ] : * ? / \\";
    } else if (rc == LXW_ERROR_SHEETNAME_START_END_APOSTROPHE) {
        en = "must not start or end with an apostrophe";
        zh = "不能以单引号开头或结尾";
    }
    return ql_errf(err, QL_EINVAL, "export.sheet_name", "invalid sheet name '%s': %s%.0s",
                   "工作表名称“%s”无效：%.0s%s", name, en, zh);
}

static int xlsx_open(exporter *x, const char *sheet_name, ql_err *err)
{
    /* libxlsxwriter keeps its working files (nameless) beside the output,
     * or in TMPDIR when the output is an open descriptor (/proc/self/fd/N). */
    const char *slash = strrchr(x->path, '/');
    const char *env_tmp = getenv("TMPDIR");
    if (!strncmp(x->path, "/proc/self/fd/", 14))
        x->tmpdir = xstrdup(env_tmp && *env_tmp ? env_tmp : "/tmp");
    else if (!slash)
        x->tmpdir = xstrdup(".");
    else if (slash == x->path)
        x->tmpdir = xstrdup("/");
    else
        x->tmpdir = xstrndup(x->path, (size_t)(slash - x->path));

    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = x->tmpdir};
    x->wb = workbook_new_opt(x->path, &opt);
    if (!x->wb)
        return ql_errf(err, QL_EINTERNAL, "export.path", "cannot start workbook '%s'",
                       "无法创建工作簿“%s”", x->path);
    const char *name = sheet_name && *sheet_name ? sheet_name : "Sheet1";
    int rc = check_sheet_name(x->wb, name, err);
    if (rc) return rc;

    /* libxlsxwriter creates the file only when it closes: make sure now that it can. */
    int fd = open(x->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ql_errf(err, QL_EIO, "export.path", "cannot create export file '%s': %s",
                       "无法创建导出文件“%s”：%s", x->path, strerror(errno));
    close(fd);

    x->ws = workbook_add_worksheet(x->wb, name);
    if (!x->ws) {
        unlink(x->path);
        return ql_errf(err, QL_EIO, "export.path", "cannot create a temporary file in %s for '%s'",
                       "无法在 %s 中为“%s”创建临时文件", x->tmpdir, x->path);
    }
    x->f_bold = workbook_add_format(x->wb);
    x->f_int = workbook_add_format(x->wb);
    x->f_money = workbook_add_format(x->wb);
    x->f_date = workbook_add_format(x->wb);
    if (!x->f_bold || !x->f_int || !x->f_money || !x->f_date) {
        unlink(x->path);
        return ql_errf(err, QL_EINTERNAL, "export.path", "cannot add formats to '%s'",
                       "无法为“%s”添加格式", x->path);
    }
    format_set_bold(x->f_bold);
    format_set_num_format(x->f_int, "0");
    format_set_num_format(x->f_money, "0.00");
    format_set_num_format(x->f_date, "yyyy-mm-dd");
    return 0;
}

/* ---- Public ---------------------------------------------------------------------------- */

static void exporter_free(exporter *x)
{
    if (x->fd >= 0) close(x->fd);
    free(x->out);
    free(x->path);
    free(x->tmpdir);
    free(x->widths);
    free(x->scans);
    buf_free(&x->scratch);
    free(x);
}

int export_open(enum export_format format, const char *path, const char *sheet_name, exporter **out,
                ql_err *err)
{
    if (!out) return ql_errf(err, QL_EINVAL, NULL, "no place for the exporter", "缺少输出参数");
    *out = NULL;
    if (format != EXPORT_CSV && format != EXPORT_XLSX)
        return ql_errf(err, QL_EINVAL, "export.format", "unknown export format %d",
                       "未知的导出格式 %d", (int)format);
    if (!path || !*path)
        return ql_errf(err, QL_EINVAL, "export.path", "no export file name given",
                       "未指定导出文件名");
    exporter *x = xcalloc(1, sizeof *x);
    x->format = format;
    x->path = xstrdup(path);
    x->fd = -1;
    buf_init(&x->scratch, 0);
    int rc = 0;
    if (format == EXPORT_CSV) {
        x->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (x->fd < 0) {
            rc = ql_errf(err, QL_EIO, "export.path", "cannot create export file '%s': %s",
                         "无法创建导出文件“%s”：%s", path, strerror(errno));
        } else {
            x->out = xmalloc(CSV_BUF_SIZE);
            csv_put(x, "\xEF\xBB\xBF", 3); /* byte-order mark: Excel then reads UTF-8 */
        }
    } else {
        rc = xlsx_open(x, sheet_name, err);
        if (rc && x->wb) lxw_workbook_free(x->wb);
    }
    if (rc) {
        exporter_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

int export_header(exporter *x, const char *const *titles, int n, ql_err *err)
{
    if (!x) return ql_errf(err, QL_EINVAL, NULL, "no exporter", "导出器为空");
    if (x->failed) return fail_sticky(x, err);
    if (n < 0 || (n > 0 && !titles))
        return ql_errf(err, QL_EINVAL, "export.titles", "%d titles", "标题数 %d 无效", n);
    if (x->header_done || x->rows > 0)
        return ql_errf(err, QL_EINVAL, "export.titles",
                       "the header must be written once, before the rows",
                       "表头只能写一次，且须在数据行之前");
    int rc =
        x->format == EXPORT_CSV ? csv_header(x, titles, n, err) : xlsx_header(x, titles, n, err);
    if (rc == 0) x->header_done = 1;
    return rc;
}

int export_row(exporter *x, const export_cell *cells, int n, ql_err *err)
{
    if (!x) return ql_errf(err, QL_EINVAL, NULL, "no exporter", "导出器为空");
    if (x->failed) return fail_sticky(x, err);
    int rc = x->format == EXPORT_XLSX ? xlsx_check_room(x, err) : 0;
    if (rc == 0) rc = check_row(x, cells, n, err);
    if (rc == 0)
        rc = x->format == EXPORT_CSV ? csv_row(x, cells, n, err) : xlsx_row(x, cells, n, err);
    if (rc == 0) x->rows++;
    return rc;
}

int64_t export_rows(const exporter *x)
{
    return x ? x->rows : 0;
}

int export_close(exporter *x, ql_err *err)
{
    if (!x) return 0;
    int rc = x->failed;
    if (rc && err) *err = x->fail;
    if (x->format == EXPORT_CSV) {
        if (!rc) {
            csv_flush(x);
            if (x->io_errno) rc = set_io_error(x, err, strerror(x->io_errno));
        }
        int fd = x->fd;
        x->fd = -1;
        if (close(fd) != 0 && !rc) rc = set_io_error(x, err, strerror(errno));
    } else {
        if (!rc) rc = xlsx_tmp_check(x, err);
        xlsx_set_widths(x);
        lxw_error lrc = workbook_close(x->wb); /* also frees the workbook */
        x->wb = NULL;
        if (lrc && !rc) rc = set_io_error(x, err, lxw_strerror(lrc));
    }
    exporter_free(x);
    return rc;
}

const char *export_content_type(enum export_format format)
{
    switch (format) {
    case EXPORT_CSV:
        return "text/csv; charset=utf-8";
    case EXPORT_XLSX:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    }
    return "application/octet-stream";
}

const char *export_extension(enum export_format format)
{
    switch (format) {
    case EXPORT_CSV:
        return ".csv";
    case EXPORT_XLSX:
        return ".xlsx";
    }
    return "";
}
