/* text.c - UTF-8 validity, counting and cutting. */
#include "core/text.h"

#include <string.h>

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
