/* buf.c - growable byte buffer. */
#include "core/buf.h"

#include "core/err.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

/* Grows so that len + n + 1 (the NUL) fits. Returns 0 or QL_ETOOBIG. */
static int grow(buf *b, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len) return QL_ETOOBIG;
    size_t need = b->len + n;
    if (b->limit && need > b->limit) return QL_ETOOBIG;
    if (need + 1 <= b->cap) return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need + 1) ncap *= 2;
    b->data = xrealloc(b->data, ncap);
    b->cap = ncap;
    return 0;
}

int buf_append(buf *b, const void *p, size_t n)
{
    if (grow(b, n)) return QL_ETOOBIG;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0) return QL_EINVAL;
    if (grow(b, (size_t)n)) return QL_ETOOBIG;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_json_escape(buf *b, const char *str, size_t n)
{
    size_t start = b->len;
    int rc = 0;
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char tmp[8];
        size_t seq = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7F) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        } else if (c >= 0x80) {
            seq = text_char_len(s + i, n - i);
            if (seq == 0) {
                esc = "\xEF\xBF\xBD";
                seq = 1;
            }
        }
        if (esc) {
            if ((run && buf_append(b, s + i - run, run)) || buf_puts(b, esc)) {
                rc = QL_ETOOBIG;
                break;
            }
            run = 0;
            i += seq;
        } else {
            run += seq;
            i += seq;
        }
    }
    if (!rc && run && buf_append(b, s + n - run, run)) rc = QL_ETOOBIG;
    if (rc && b->data) {
        /* Leave the buffer as it was, as every capped append does. */
        b->len = start;
        b->data[start] = '\0';
    }
    return rc;
}

char *buf_reserve(buf *b, size_t n)
{
    if (grow(b, n)) return NULL;
    return b->data + b->len;
}

int buf_presize(buf *b, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len) return QL_ETOOBIG;
    size_t need = b->len + n;
    if (b->limit && need > b->limit) return QL_ETOOBIG;
    if (need + 1 > b->cap) {
        b->data = xrealloc(b->data, need + 1);
        b->cap = need + 1;
        b->data[b->len] = '\0';
    }
    return 0;
}

void buf_commit(buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

char *buf_steal(buf *b)
{
    char *p = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
