/* text.c - UTF-8 validity, counting and cutting. */
#include "core/text.h"

#include <string.h>

size_t text_char_len(const unsigned char *s, size_t n)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000, cp = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static int is_control(unsigned c, int newlines)
{
    if (c == 0x7F) return 1;
    if (c >= 0x20) return 0;
    return !(newlines && (c == '\t' || c == '\n' || c == '\r'));
}

int text_valid(const char *str, size_t n, int newlines)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        if (is_control(s[i], newlines)) return 0;
        size_t k = text_char_len(s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

size_t text_chars(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), i = 0, chars = 0;
    while (i < n) {
        size_t k = text_char_len(s + i, n - i);
        i += k ? k : 1;
        chars++;
    }
    return chars;
}

size_t text_cut(const char *str, size_t max)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), i = 0;
    while (i < n) {
        size_t k = text_char_len(s + i, n - i);
        if (!k) k = 1;
        if (i + k > max) break;
        i += k;
    }
    return i;
}

void text_copy_clean(char *out, size_t n, const char *str)
{
    if (n == 0) return;
    const unsigned char *s = (const unsigned char *)str;
    size_t len = strlen(str), i = 0, o = 0;
    while (i < len) {
        size_t k = text_char_len(s + i, len - i);
        if (!k || is_control(s[i], 0)) {
            if (o + 2 > n) break;
            out[o++] = '?';
            i += k ? k : 1;
            continue;
        }
        if (o + k + 1 > n) break;
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
}
