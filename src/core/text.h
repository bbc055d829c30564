/* text.h - UTF-8 text: validity, character counts, cutting without splitting
 * a character. The one place the project decodes UTF-8. */
#ifndef QL_CORE_TEXT_H
#define QL_CORE_TEXT_H

#include <stddef.h>

/* Length in bytes of the well-formed UTF-8 character at s (at most n bytes
 * available), or 0 if the bytes there are not one (overlong forms,
 * surrogates and code points above U+10FFFF are not). Inline: parsers call
 * it once per character. */
static inline size_t text_char_len(const unsigned char *s, size_t n)
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

/* Returns 1 if s (n bytes) is well-formed UTF-8 without control characters
 * (tab, line feed and carriage return are allowed when newlines is set). */
int text_valid(const char *s, size_t n, int newlines);

/* Number of characters in the NUL-terminated s (each malformed byte counts
 * as one). */
size_t text_chars(const char *s);

/* The longest prefix of s, at most max bytes, that does not end inside a
 * character: its length in bytes. */
size_t text_cut(const char *s, size_t max);

/* Copies s into out (n bytes), cut at a character boundary, with each
 * malformed byte or control character replaced by '?'. Never splits a
 * character; always NUL-terminates when n > 0. */
void text_copy_clean(char *out, size_t n, const char *s);

#endif
