/* csv.c - RFC 4180 records from UTF-8 or GB 18030 text, read and converted in pieces. */
#include "core/csv.h"

#include "core/text.h"
#include "core/xalloc.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The fuzz build uses tiny pieces so that short inputs cross every boundary. */
#ifdef QL_FUZZING
enum { CHUNK = 7, SAMPLE = 24, DEC_CAP = 9 };
#else
enum {
    CHUNK = 64 * 1024,  /* bytes read (and checked as UTF-8) at a time */
    SAMPLE = 64 * 1024, /* bytes looked at to detect the encoding */
    DEC_CAP = 2 * CHUNK /* UTF-8 made from GB 18030 per conversion */
};
#endif
enum {
    /* A piece plus the few bytes of a character cut at the end of the last one;
     * also holds the sample with the rest of a character cut at its end. */
    RAW_CAP = (CHUNK > SAMPLE ? CHUNK : SAMPLE) + 8,
    MAX_FIELD = 64 * 1024,
    MAX_FIELDS = 1000
};

enum bad_text { BAD_NONE, BAD_UTF8, BAD_GB };

struct csv_reader {
    FILE *f; /* NULL when reading memory */
    char *name;
    enum csv_encoding enc;
    iconv_t cd; /* (iconv_t)-1 unless GB 18030 */

    /* Source bytes: the caller's memory, or rawbuf filled from f. Bytes before
     * rpos have been checked (UTF-8) or converted (GB 18030); bytes up to rn
     * have been read. */
    const unsigned char *raw;
    unsigned char *rawbuf;
    size_t rpos, rn;
    int eof;           /* nothing more will come after rn */
    enum bad_text bad; /* the text at rpos is malformed: reported once reached */

    /* UTF-8 not yet parsed: in raw (UTF-8 input) or in dec (converted). */
    const unsigned char *p, *lim;
    unsigned char *dec;
    long line;   /* physical line at p */
    int skip_lf; /* the last record ended with CR: a LF right after it belongs to it */

    /* The record being returned: its fields one after another, each NUL-terminated. */
    char *rec;
    size_t rec_len, rec_cap;
    size_t offs[MAX_FIELDS];
    char *ptrs[MAX_FIELDS + 1];

    int failed; /* the error code once csv_next has failed; err holds its message */
    ql_err err;
};

/* Bytes that end a run of plain field text: ',', '"', CR, LF and NUL; and
 * inside quotes: '"', CR, LF and NUL. */
static const unsigned char plain_stop[256] = {
    [0] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1, [','] = 1};
static const unsigned char quoted_stop[256] = {[0] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1};

/* Checks the characters of s that start in [from, stop) for well-formed UTF-8
 * (n bytes of s are there). Returns where the checked text ends: at stop or
 * up to 3 bytes past it; before a character cut off by n while more bytes may
 * come (!eof); or before a malformed character, with *bad set. */
static size_t check_utf8(const unsigned char *s, size_t from, size_t stop, size_t n, int eof,
                         enum bad_text *bad)
{
    size_t i = from;
    while (i < stop) {
        if (stop - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = text_char_len(s + i, n - i);
        if (!k) {
            if (!eof && n - i < 4) return i;
            *bad = BAD_UTF8;
            return i;
        }
        i += k;
    }
    return i;
}

static int fail_read(csv_reader *r)
{
    return ql_errf(&r->err, QL_EIO, "file", "%s line %ld: reading the file failed: %s",
                   "%s 第 %ld 行：读取文件失败：%s", r->name, r->line, strerror(errno));
}

static int fail_text(csv_reader *r)
{
    unsigned byte = r->rpos < r->rn ? r->raw[r->rpos] : 0;
    if (r->bad == BAD_UTF8)
        return ql_errf(&r->err, QL_EINVAL, "file",
                       "%s line %ld: the text is not valid UTF-8 (byte 0x%02X); save the file "
                       "as CSV in UTF-8 or GBK",
                       "%s 第 %ld 行：不是有效的 UTF-8 文本（字节 0x%02X），请将文件另存为 UTF-8 "
                       "或 GBK 编码的 CSV",
                       r->name, r->line, byte);
    return ql_errf(&r->err, QL_EINVAL, "file",
                   "%s line %ld: the text is neither UTF-8 nor valid GBK/GB 18030 (byte 0x%02X); "
                   "save the file as CSV in UTF-8 or GBK",
                   "%s 第 %ld 行：既不是 UTF-8 也不是有效的 GBK/GB 18030 文本（字节 0x%02X），"
                   "请将文件另存为 UTF-8 或 GBK 编码的 CSV",
                   r->name, r->line, byte);
}

/* Keeps the raw bytes not yet used (a character cut at the end of the last
 * piece) and reads the next piece after them. Returns 0 or QL_EIO. */
static int fill(csv_reader *r)
{
    size_t keep = r->rn - r->rpos;
    memmove(r->rawbuf, r->rawbuf + r->rpos, keep);
    r->rpos = 0;
    r->rn = keep;
    size_t want = RAW_CAP - keep > CHUNK ? CHUNK : RAW_CAP - keep;
    size_t got = fread(r->rawbuf + keep, 1, want, r->f);
    r->rn += got;
    if (got < want) {
        if (ferror(r->f)) return fail_read(r);
        r->eof = 1;
    }
    return 0;
}

/* More UTF-8 input: the next piece of raw, once checked. */
static int more_utf8(csv_reader *r)
{
    for (;;) {
        if (r->bad) return fail_text(r);
        if (r->rpos < r->rn) {
            size_t stop = r->rn - r->rpos > CHUNK ? r->rpos + CHUNK : r->rn;
            size_t end = check_utf8(r->raw, r->rpos, stop, r->rn, r->eof, &r->bad);
            if (end > r->rpos) {
                r->p = r->raw + r->rpos;
                r->lim = r->raw + end;
                r->rpos = end;
                return 1;
            }
            if (r->bad) continue;
            /* Only a character cut by the end of the piece: read on. */
        }
        if (r->eof) return 0;
        int rc = fill(r);
        if (rc < 0) return rc;
        r->p = r->lim = r->raw;
    }
}

/* More UTF-8 converted from GB 18030. */
static int more_gb(csv_reader *r)
{
    for (;;) {
        if (r->bad) return fail_text(r);
        if (r->rpos < r->rn) {
            char *in = (char *)r->raw + r->rpos, *out = (char *)r->dec;
            size_t inleft = r->rn - r->rpos, outleft = DEC_CAP;
            size_t rc = iconv(r->cd, &in, &inleft, &out, &outleft);
            int e = errno;
            r->rpos = r->rn - inleft;
            size_t made = DEC_CAP - outleft;
            /* EINVAL: a character cut by the end of what has been read; more may come. */
            if (rc == (size_t)-1 && e != E2BIG && (e != EINVAL || r->eof)) r->bad = BAD_GB;
            if (made) {
                r->p = r->dec;
                r->lim = r->dec + made;
                return 1;
            }
            if (r->bad) continue;
            if (rc == (size_t)-1 && e == E2BIG)
                return ql_errf(&r->err, QL_EINTERNAL, "file",
                               "%s line %ld: the GB 18030 converter made no progress",
                               "%s 第 %ld 行：GB 18030 转换没有进展", r->name, r->line);
        }
        if (r->eof) return 0;
        int rc = fill(r);
        if (rc < 0) return rc;
    }
}

/* Stores the parse position, makes more text available and reloads the
 * window. Returns 1, 0 at the end of the input, or an error. */
static int refill(csv_reader *r, const unsigned char **p, const unsigned char **lim, long line)
{
    r->p = *p;
    r->line = line;
    int rc = r->cd == (iconv_t)-1 ? more_utf8(r) : more_gb(r);
    *p = r->p;
    *lim = r->lim;
    return rc;
}

static void rec_grow(csv_reader *r, size_t need)
{
    size_t cap = r->rec_cap ? r->rec_cap : 4096;
    while (cap < need) cap *= 2;
    r->rec = xrealloc(r->rec, cap);
    r->rec_cap = cap;
}

/* The error paths of append and end_field, kept out of the parsing loop. */
__attribute__((cold, noinline)) static int fail_long(csv_reader *r, int nf, long start)
{
    return ql_errf(&r->err, QL_EINVAL, "file", "%s line %ld: field %d is longer than %d bytes",
                   "%s 第 %ld 行：第 %d 个字段超过 %d 字节", r->name, start, nf + 1, MAX_FIELD);
}

__attribute__((cold, noinline)) static int fail_many(csv_reader *r, long start)
{
    return ql_errf(&r->err, QL_EINVAL, "file", "%s line %ld: more than %d fields",
                   "%s 第 %ld 行：字段超过 %d 个", r->name, start, MAX_FIELDS);
}

/* Appends n bytes to field number nf (0-based) that starts at fstart. */
static inline int append(csv_reader *r, size_t fstart, const unsigned char *s, size_t n, int nf,
                         long start)
{
    if (r->rec_len - fstart + n > MAX_FIELD) return fail_long(r, nf, start);
    if (r->rec_len + n + 1 > r->rec_cap) rec_grow(r, r->rec_len + n + 1);
    memcpy(r->rec + r->rec_len, s, n);
    r->rec_len += n;
    return 0;
}

static inline int end_field(csv_reader *r, int *nf, size_t *fstart, long start)
{
    if (*nf == MAX_FIELDS) return fail_many(r, start);
    if (r->rec_len + 1 > r->rec_cap) rec_grow(r, r->rec_len + 1);
    r->rec[r->rec_len++] = '\0';
    r->offs[(*nf)++] = *fstart;
    *fstart = r->rec_len;
    return 0;
}

static int fail_nul(csv_reader *r, long line)
{
    return ql_errf(&r->err, QL_EINVAL, "file",
                   "%s line %ld: the text holds a NUL byte (is it UTF-16? save the file as CSV "
                   "in UTF-8 or GBK)",
                   "%s 第 %ld 行：文本中含有 NUL 字节（是否为 UTF-16 编码？请另存为 UTF-8 或 GBK "
                   "编码的 CSV）",
                   r->name, line);
}

static int parse_record(csv_reader *r, char ***fields, int *nfields, long *line_out)
{
    const unsigned char *p = r->p, *lim = r->lim;
    long line = r->line;
    int rc;

    if (r->skip_lf) {
        if (p == lim && (rc = refill(r, &p, &lim, line)) <= 0) return rc;
        if (*p == '\n') p++;
        r->skip_lf = 0;
    }
    if (p == lim && (rc = refill(r, &p, &lim, line)) <= 0) return rc;

    const long start = line;
    long qline = line;
    int nf = 0, cr = 0;
    size_t fstart = 0;
    enum { S_FIELD, S_PLAIN, S_QUOTED, S_QUOTE } st = S_FIELD;
    r->rec_len = 0;
    for (;;) {
        if (p == lim) {
            rc = refill(r, &p, &lim, line);
            if (rc < 0) return rc;
            if (rc == 0) {
                if (st == S_QUOTED)
                    return ql_errf(&r->err, QL_EINVAL, "file",
                                   "%s line %ld: the quoted field starting here is never closed",
                                   "%s 第 %ld 行：从此处开始的带引号字段没有结束引号", r->name,
                                   qline);
                if ((rc = end_field(r, &nf, &fstart, start)) < 0) return rc;
                break;
            }
        }
        if (st == S_FIELD) {
            if (*p == '"') {
                p++;
                st = S_QUOTED;
                qline = line;
                cr = 0;
                continue;
            }
            st = S_PLAIN;
        }
        if (st == S_PLAIN) {
            const unsigned char *q = p;
            while (q < lim && !plain_stop[*q]) q++;
            if (q > p) {
                if ((rc = append(r, fstart, p, (size_t)(q - p), nf, start)) < 0) return rc;
                p = q;
            }
            if (p == lim) continue;
            unsigned c = *p++;
            if (c == ',') {
                if ((rc = end_field(r, &nf, &fstart, start)) < 0) return rc;
                st = S_FIELD;
                continue;
            }
            if (c == '\n' || c == '\r') {
                line++;
                r->skip_lf = c == '\r';
                if ((rc = end_field(r, &nf, &fstart, start)) < 0) return rc;
                break;
            }
            if (c == '"')
                return ql_errf(&r->err, QL_EINVAL, "file",
                               "%s line %ld: a quote inside field %d, which does not start with "
                               "one (write a quote inside a quoted field as \"\")",
                               "%s 第 %ld 行：第 %d 个字段不以引号开头，其中却有引号（带引号的"
                               "字段中的引号应写作 \"\"）",
                               r->name, line, nf + 1);
            return fail_nul(r, line);
        }
        if (st == S_QUOTED) {
            const unsigned char *q = p;
            for (;;) {
                while (q < lim && !quoted_stop[*q]) q++;
                if (q == lim) break;
                if (*q == '\n') {
                    if (!(q > p ? q[-1] == '\r' : cr)) line++;
                } else if (*q == '\r') {
                    line++;
                } else {
                    break;
                }
                q++;
            }
            if (q > p) {
                cr = q[-1] == '\r';
                if ((rc = append(r, fstart, p, (size_t)(q - p), nf, start)) < 0) return rc;
                p = q;
            }
            if (p == lim) continue;
            if (*p++ == '"') {
                st = S_QUOTE;
                continue;
            }
            return fail_nul(r, line);
        }
        /* S_QUOTE: after a quote inside a quoted field. */
        unsigned c = *p++;
        if (c == '"') {
            if ((rc = append(r, fstart, p - 1, 1, nf, start)) < 0) return rc;
            st = S_QUOTED;
            cr = 0;
        } else if (c == ',') {
            if ((rc = end_field(r, &nf, &fstart, start)) < 0) return rc;
            st = S_FIELD;
        } else if (c == '\n' || c == '\r') {
            line++;
            r->skip_lf = c == '\r';
            if ((rc = end_field(r, &nf, &fstart, start)) < 0) return rc;
            break;
        } else {
            return ql_errf(&r->err, QL_EINVAL, "file",
                           "%s line %ld: text after the closing quote of field %d (write a quote "
                           "inside a quoted field as \"\")",
                           "%s 第 %ld 行：第 %d 个字段的结束引号后还有文字（带引号的字段中的引号"
                           "应写作 \"\"）",
                           r->name, line, nf + 1);
        }
    }
    r->p = p;
    r->lim = lim;
    r->line = line;
    for (int i = 0; i < nf; i++) r->ptrs[i] = r->rec + r->offs[i];
    r->ptrs[nf] = NULL;
    *fields = r->ptrs;
    *nfields = nf;
    *line_out = start;
    return 1;
}

int csv_next(csv_reader *r, char ***fields, int *nfields, long *line, ql_err *err)
{
    int rc = r->failed ? r->failed : parse_record(r, fields, nfields, line);
    if (rc < 0) {
        r->failed = rc;
        if (err) *err = r->err;
    }
    return rc;
}

static csv_reader *reader_new(const char *name)
{
    csv_reader *r = xcalloc(1, sizeof *r);
    r->name = xstrdup(name ? name : "CSV");
    r->cd = (iconv_t)-1;
    r->line = 1;
    return r;
}

/* Detects the encoding from the sample at the start of raw (rn bytes: the
 * sample plus the rest of a character cut at its end, or the whole input). */
static int start(csv_reader *r, csv_reader **out, ql_err *err)
{
    const unsigned char *s = r->raw;
    size_t n = r->rn;
    enum bad_text bad = BAD_NONE;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        r->enc = CSV_UTF8_BOM;
        r->rpos = 3;
    } else {
        check_utf8(s, 0, n < SAMPLE ? n : SAMPLE, n, 1, &bad);
        r->enc = bad ? CSV_GB18030 : CSV_UTF8;
    }
    if (r->enc == CSV_GB18030) {
        r->cd = iconv_open("UTF-8", "GB18030");
        if (r->cd == (iconv_t)-1) {
            int rc = ql_errf(err, QL_EIO, "file",
                             "%s: the file is not UTF-8 and the GB 18030 converter is not "
                             "available: %s",
                             "%s：文件不是 UTF-8 编码，且无法使用 GB 18030 转换：%s", r->name,
                             strerror(errno));
            csv_close(r);
            *out = NULL;
            return rc;
        }
        r->dec = xmalloc(DEC_CAP);
    }
    r->p = r->lim = r->raw + r->rpos;
    *out = r;
    return 0;
}

int csv_open_file(FILE *f, const char *name, csv_reader **out, ql_err *err)
{
    csv_reader *r = reader_new(name);
    r->f = f;
    r->rawbuf = xmalloc(RAW_CAP);
    r->raw = r->rawbuf;
    size_t want = SAMPLE + 3;
    r->rn = fread(r->rawbuf, 1, want, f);
    if (r->rn < want) {
        if (ferror(f)) {
            int rc = ql_errf(err, QL_EIO, "file", "%s: reading the file failed: %s",
                             "%s：读取文件失败：%s", r->name, strerror(errno));
            csv_close(r);
            *out = NULL;
            return rc;
        }
        r->eof = 1;
    }
    return start(r, out, err);
}

int csv_open_mem(const char *data, size_t len, const char *name, csv_reader **out, ql_err *err)
{
    csv_reader *r = reader_new(name);
    r->raw = (const unsigned char *)(data ? data : "");
    r->rn = data ? len : 0;
    r->eof = 1;
    return start(r, out, err);
}

enum csv_encoding csv_encoding_of(const csv_reader *r)
{
    return r->enc;
}

void csv_close(csv_reader *r)
{
    if (!r) return;
    if (r->cd != (iconv_t)-1) iconv_close(r->cd);
    free(r->name);
    free(r->rawbuf);
    free(r->dec);
    free(r->rec);
    free(r);
}
