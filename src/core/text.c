/* text.c - UTF-8 validity, counting and cutting. */
#include "core/text.h"

#include "core/xalloc.h"

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

/* The code point of the well-formed character of k bytes at s. */
static uint32_t decode(const unsigned char *s, size_t k)
{
    if (k == 1) return s[0];
    uint32_t cp = s[0] & (k == 2 ? 0x1F : k == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < k; i++) cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

enum text_flaw text_char_flaw(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return TEXT_CONTROL;
    if (cp < 0xAD) return TEXT_FINE; /* the common case, quickly */
    if (cp == 0x2028 || cp == 0x2029) return TEXT_SEPARATOR;
    if (cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return TEXT_BIDI;
    if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) return TEXT_NONCHAR;
    static const uint32_t invisible[][2] = {
        {0x00AD, 0x00AD},   {0x034F, 0x034F},   {0x115F, 0x1160},   {0x17B4, 0x17B5},
        {0x180B, 0x180F},   {0x200B, 0x200D},   {0x2060, 0x206F},   {0x3164, 0x3164},
        {0xFE00, 0xFE0F},   {0xFEFF, 0xFEFF},   {0xFFA0, 0xFFA0},   {0xFFF0, 0xFFFB},
        {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
    };
    for (size_t i = 0; i < sizeof invisible / sizeof invisible[0]; i++)
        if (cp >= invisible[i][0] && cp <= invisible[i][1]) return TEXT_INVISIBLE;
    return TEXT_FINE;
}

enum text_flaw text_first_flaw(const char *str, size_t n, int newlines, size_t *pos, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, chars = 0;
    while (i < n) {
        chars++;
        size_t k = text_char_len(s + i, n - i);
        uint32_t c = k ? decode(s + i, k) : s[i];
        enum text_flaw f = k ? text_char_flaw(c) : TEXT_MALFORMED;
        if (f == TEXT_CONTROL && newlines && (c == '\t' || c == '\n' || c == '\r')) f = TEXT_FINE;
        if (f != TEXT_FINE) {
            if (pos) *pos = chars;
            if (cp) *cp = c;
            return f;
        }
        i += k;
    }
    return TEXT_FINE;
}

char *text_dup_fine(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = strlen(str), i = 0, o = 0;
    char *out = xmalloc(len + 1); /* a flawed character becomes one byte, never more */
    while (i < len) {
        size_t k = text_char_len(s + i, len - i);
        if (!k || text_char_flaw(decode(s + i, k)) != TEXT_FINE) {
            out[o++] = '?';
            i += k ? k : 1;
            continue;
        }
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
    return out;
}
