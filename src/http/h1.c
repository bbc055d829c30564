/* h1.c - strict HTTP/1.1 request heads and chunked bodies (RFC 9112). */
#include "http/h1.h"

#include <string.h>
#include <strings.h>

#define MAX_METHOD        20
#define MAX_LENGTH_DIGITS 18   /* Content-Length below 10^18 */
#define MAX_CHUNK_DIGITS  15   /* a chunk below 2^60 bytes */
#define MAX_CHUNK_LINE    1024 /* a chunk size line with its extensions */
#define MAX_TRAILER       8192 /* trailer fields, all together */

static int fail(struct h1_error *err, int status, const char *en, const char *zh)
{
    err->status = status;
    err->en = en;
    err->zh = zh;
    return H1_ERROR;
}

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Skips empty lines before the request line. Returns the offset of its
 * first byte, or len when more bytes are needed to tell. */
static size_t skip_leading_empty(const char *b, size_t len)
{
    size_t p = 0;
    while (p < len) {
        if (b[p] == '\n')
            p++;
        else if (b[p] == '\r') {
            if (p + 1 >= len) return len;
            if (b[p + 1] != '\n') return p; /* a bare CR: the parser refuses it */
            p += 2;
        } else
            return p;
    }
    return len;
}

size_t h1_head_end(const char *b, size_t len, size_t *scan)
{
    size_t start = skip_leading_empty(b, len);
    if (start >= len) return 0;
    size_t i = *scan > start ? *scan : start;
    for (; i < len; i++) {
        if (b[i] != '\n') continue;
        /* A line ended at i; the head ends if the next line is empty. */
        if (i + 1 >= len) break;
        if (b[i + 1] == '\n') return i + 2;
        if (b[i + 1] == '\r') {
            if (i + 2 >= len) break;
            if (b[i + 2] == '\n') return i + 3;
        }
    }
    *scan = i; /* look at this line end again when more has arrived */
    return 0;
}

/* The line starting at *p: its content b[*p..end) and *p moved past its
 * terminator (LF or CR LF). Returns 0, or -1 for a bare CR in it or no
 * terminator before len. */
static int next_line(const char *b, size_t len, size_t *p, size_t *end)
{
    size_t i = *p;
    while (i < len && b[i] != '\n') {
        if (b[i] == '\r' && !(i + 1 < len && b[i + 1] == '\n')) return -1;
        i++;
    }
    if (i >= len) return -1;
    *end = (i > *p && b[i - 1] == '\r') ? i - 1 : i;
    *p = i + 1;
    return 0;
}

static int ieq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Walks a comma-separated list of tokens (each possibly with ";params"),
 * calling back with each token's name. */
typedef int (*list_cb)(const char *tok, size_t n, void *arg);

static int each_token(const char *v, size_t n, list_cb cb, void *arg)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t s = i;
        while (i < n && is_tchar((unsigned char)v[i])) i++;
        size_t e = i;
        while (i < n && v[i] != ',') i++; /* parameters, white space */
        if (e > s) {
            int rc = cb(v + s, e - s, arg);
            if (rc) return rc;
        } else if (s < n && v[s] != ',') {
            return -1; /* something that is not a token */
        }
    }
    return 0;
}

struct te_state {
    int n, chunked_at, chunked_count;
};

static int te_token(const char *tok, size_t n, void *arg)
{
    struct te_state *st = arg;
    if (ieq(tok, n, "chunked")) {
        st->chunked_at = st->n;
        st->chunked_count++;
    }
    st->n++;
    return 0;
}

struct conn_state {
    int close, keep_alive;
};

static int conn_token(const char *tok, size_t n, void *arg)
{
    struct conn_state *st = arg;
    if (ieq(tok, n, "close"))
        st->close = 1;
    else if (ieq(tok, n, "keep-alive"))
        st->keep_alive = 1;
    return 0;
}

int h1_parse_head(const char *b, size_t len, struct h1_head *h, struct h1_error *err)
{
    memset(h, 0, sizeof *h);
    size_t line_start = skip_leading_empty(b, len), p = line_start, end;
    if (next_line(b, len, &p, &end) != 0)
        return fail(err, 400, "the request line is malformed", "请求行格式错误");

    /* method SP request-target SP HTTP-version */
    size_t i = line_start;
    while (i < end && is_tchar((unsigned char)b[i])) i++;
    if (i == line_start || i - line_start > MAX_METHOD || i >= end || b[i] != ' ')
        return fail(err, 400, "the request line is malformed (method)", "请求行格式错误（方法）");
    h->method = b + line_start;
    h->method_len = i - line_start;
    size_t t = ++i;
    while (i < end && (unsigned char)b[i] > 0x20 && (unsigned char)b[i] < 0x7F) i++;
    if (i == t || i >= end || b[i] != ' ')
        return fail(err, 400, "the request line is malformed (target)",
                    "请求行格式错误（请求目标）");
    h->target = b + t;
    h->target_len = i - t;
    i++;
    if (end - i != 8 || memcmp(b + i, "HTTP/", 5) != 0 || b[i + 6] != '.' || b[i + 5] < '0' ||
        b[i + 5] > '9' || b[i + 7] < '0' || b[i + 7] > '9')
        return fail(err, 400, "the request line is malformed (version)",
                    "请求行格式错误（协议版本）");
    if (b[i + 5] != '1')
        return fail(err, 505, "only HTTP/1.0 and HTTP/1.1 are served",
                    "仅支持 HTTP/1.0 和 HTTP/1.1");
    h->minor = b[i + 7] == '0' ? 0 : 1;

    int hosts = 0, lengths = 0, encodings = 0;
    struct te_state te = {0, -1, 0};
    struct conn_state cs = {0, 0};
    for (;;) {
        size_t s = p;
        if (next_line(b, len, &p, &end) != 0)
            return fail(err, 400, "a header line is malformed", "请求头格式错误");
        if (end == s) break; /* the empty line */
        if (b[s] == ' ' || b[s] == '\t')
            return fail(err, 400, "a header line is folded onto the next (obs-fold)",
                        "请求头不得折行");
        size_t k = s;
        while (k < end && is_tchar((unsigned char)b[k])) k++;
        if (k == s || k >= end || b[k] != ':')
            return fail(err, 400, "a header name is malformed", "请求头名称格式错误");
        size_t v = k + 1, ve = end;
        while (v < ve && (b[v] == ' ' || b[v] == '\t')) v++;
        while (ve > v && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) ve--;
        for (size_t c = v; c < ve; c++) {
            unsigned char ch = (unsigned char)b[c];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7F)
                return fail(err, 400, "a header value holds a control character",
                            "请求头的值含有控制字符");
        }
        if (h->nheaders >= H1_MAX_HEADERS)
            return fail(err, 431, "the request has too many header lines", "请求头行数过多");
        struct h1_header *hd = &h->headers[h->nheaders++];
        hd->name = b + s;
        hd->name_len = k - s;
        hd->value = b + v;
        hd->value_len = ve - v;

        const char *val = b + v;
        size_t vn = ve - v;
        if (ieq(hd->name, hd->name_len, "host")) {
            hosts++;
        } else if (ieq(hd->name, hd->name_len, "content-length")) {
            if (++lengths > 1)
                return fail(err, 400, "Content-Length is sent more than once",
                            "Content-Length 出现了不止一次");
            if (vn == 0 || vn > MAX_LENGTH_DIGITS)
                return fail(err, 400, "Content-Length is not a number of bytes",
                            "Content-Length 不是字节数");
            uint64_t n = 0;
            for (size_t c = 0; c < vn; c++) {
                if (val[c] < '0' || val[c] > '9')
                    return fail(err, 400, "Content-Length is not a number of bytes",
                                "Content-Length 不是字节数");
                n = n * 10 + (uint64_t)(val[c] - '0');
            }
            h->has_length = 1;
            h->content_length = n;
        } else if (ieq(hd->name, hd->name_len, "transfer-encoding")) {
            if (++encodings > 1)
                return fail(err, 400, "Transfer-Encoding is sent more than once",
                            "Transfer-Encoding 出现了不止一次");
            if (each_token(val, vn, te_token, &te) != 0 || te.n == 0)
                return fail(err, 400, "Transfer-Encoding is malformed",
                            "Transfer-Encoding 格式错误");
        } else if (ieq(hd->name, hd->name_len, "connection")) {
            if (each_token(val, vn, conn_token, &cs) != 0)
                return fail(err, 400, "Connection is malformed", "Connection 格式错误");
        } else if (ieq(hd->name, hd->name_len, "expect")) {
            if (h->minor == 0) continue; /* HTTP/1.0 knows no Expect: ignored */
            if (!ieq(val, vn, "100-continue"))
                return fail(err, 417, "only Expect: 100-continue is understood",
                            "仅支持 Expect: 100-continue");
            h->expect_continue = 1;
        }
    }
    h->head_len = p;

    if (encodings) {
        if (h->minor == 0)
            return fail(err, 400, "Transfer-Encoding is not allowed in HTTP/1.0",
                        "HTTP/1.0 请求不得使用 Transfer-Encoding");
        if (lengths)
            return fail(err, 400, "Content-Length and Transfer-Encoding are both sent",
                        "不得同时发送 Content-Length 和 Transfer-Encoding");
        if (te.chunked_count != 1 || te.chunked_at != te.n - 1)
            return fail(err, 400, "Transfer-Encoding must end in chunked",
                        "Transfer-Encoding 须以 chunked 结尾");
        if (te.n > 1)
            return fail(err, 501, "no transfer coding but chunked is understood",
                        "仅支持 chunked 传输编码");
        h->chunked = 1;
    }
    if (h->minor == 1 && hosts != 1)
        return fail(err, 400, "an HTTP/1.1 request needs exactly one Host header",
                    "HTTP/1.1 请求须有且仅有一个 Host 请求头");
    if (hosts > 1) return fail(err, 400, "Host is sent more than once", "Host 出现了不止一次");
    h->keep_alive = h->minor == 1 ? !cs.close : (cs.keep_alive && !cs.close);
    return H1_DONE;
}

const char *h1_header(const struct h1_head *h, const char *name, size_t *len)
{
    for (int i = 0; i < h->nheaders; i++)
        if (ieq(h->headers[i].name, h->headers[i].name_len, name)) {
            if (len) *len = h->headers[i].value_len;
            return h->headers[i].value;
        }
    return NULL;
}

/* ---- chunked bodies ---------------------------------------------------- */

enum {
    C_SIZE = 0,   /* hex digits of a chunk size */
    C_SIZE_WS,    /* white space after the digits */
    C_EXT,        /* ";name=value" extensions, skipped */
    C_SIZE_LF,    /* the LF after the size line's CR */
    C_DATA,       /* chunk data */
    C_DATA_END,   /* CR LF or LF after the data */
    C_DATA_LF,    /* the LF after that CR */
    C_TRAILER,    /* at the start of a trailer line (or the final empty line) */
    C_TRAILER_LN, /* inside a trailer line */
    C_TRAILER_LF, /* the LF after a trailer line's CR */
    C_END_LF,     /* the LF of the final empty line */
    C_DONE
};

static int hexdig(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int bad_chunk(struct h1_error *err)
{
    return fail(err, 400, "a chunk of the body is malformed", "分块请求体格式错误");
}

/* The size line has ended: data follows, or the trailer after the last chunk. */
static void size_line_done(struct h1_chunked *st)
{
    st->state = st->left ? C_DATA : C_TRAILER;
    st->line = 0;
}

int h1_chunked_feed(struct h1_chunked *st, const char *in, size_t n, char *out, size_t out_room,
                    size_t *used, size_t *out_len, struct h1_error *err)
{
    size_t i = 0, o = 0;
    while (i < n && st->state != C_DONE) {
        char c = in[i];
        switch (st->state) {
        case C_SIZE: {
            int d = hexdig(c);
            if (d >= 0) {
                if (++st->digits > MAX_CHUNK_DIGITS) return bad_chunk(err);
                st->left = st->left * 16 + (uint64_t)d;
                i++;
                break;
            }
            if (st->digits == 0) return bad_chunk(err);
            if (c == ' ' || c == '\t')
                st->state = C_SIZE_WS;
            else if (c == ';')
                st->state = C_EXT;
            else if (c == '\r')
                st->state = C_SIZE_LF;
            else if (c == '\n')
                size_line_done(st);
            else
                return bad_chunk(err);
            i++;
            break;
        }
        case C_SIZE_WS:
            if (c == ';')
                st->state = C_EXT;
            else if (c != ' ' && c != '\t')
                return bad_chunk(err);
            i++;
            break;
        case C_EXT:
            if (++st->line > MAX_CHUNK_LINE) return bad_chunk(err);
            if (c == '\r')
                st->state = C_SIZE_LF;
            else if (c == '\n')
                size_line_done(st);
            else if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7F)
                return bad_chunk(err);
            i++;
            break;
        case C_SIZE_LF:
            if (c != '\n') return bad_chunk(err);
            size_line_done(st);
            i++;
            break;
        case C_DATA: {
            size_t k = n - i;
            if (k > st->left) k = (size_t)st->left;
            if (k > out_room - o) k = out_room - o;
            if (k == 0) goto out; /* out is full */
            memcpy(out + o, in + i, k);
            o += k;
            i += k;
            st->left -= k;
            if (st->left == 0) st->state = C_DATA_END;
            break;
        }
        case C_DATA_END:
            if (c == '\r')
                st->state = C_DATA_LF;
            else if (c == '\n')
                st->state = C_SIZE, st->digits = 0;
            else
                return bad_chunk(err);
            i++;
            break;
        case C_DATA_LF:
            if (c != '\n') return bad_chunk(err);
            st->state = C_SIZE;
            st->digits = 0;
            i++;
            break;
        case C_TRAILER:
            if (c == '\r')
                st->state = C_END_LF;
            else if (c == '\n')
                st->state = C_DONE;
            else {
                st->state = C_TRAILER_LN;
                continue; /* the same byte, as part of the line */
            }
            i++;
            break;
        case C_TRAILER_LN:
            if (++st->trailer > MAX_TRAILER) return bad_chunk(err);
            if (c == '\r')
                st->state = C_TRAILER_LF;
            else if (c == '\n')
                st->state = C_TRAILER;
            else if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7F)
                return bad_chunk(err);
            i++;
            break;
        case C_TRAILER_LF:
        case C_END_LF:
            if (c != '\n') return bad_chunk(err);
            st->state = st->state == C_END_LF ? C_DONE : C_TRAILER;
            i++;
            break;
        default:
            return bad_chunk(err);
        }
    }
out:
    *used = i;
    *out_len = o;
    return st->state == C_DONE ? H1_DONE : H1_MORE;
}
