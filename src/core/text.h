/* text.h - UTF-8 text: validity, character counts, cutting without splitting
 * a character. The one place the project decodes UTF-8. */
#ifndef QL_CORE_TEXT_H
#define QL_CORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

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

/* What makes a character unfit for a name, or for a line of text that
 * other programs show or read (a spreadsheet, a bank's batch file, a log):
 * characters that are not seen but change what is seen, or that end a
 * line or a field. */
enum text_flaw {
    TEXT_FINE = 0,
    TEXT_MALFORMED, /* not well-formed UTF-8 (text_char_len) */
    TEXT_CONTROL,   /* C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F, e.g. U+0085 NEL) */
    TEXT_SEPARATOR, /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR */
    TEXT_BIDI,      /* bidirectional controls: U+061C, U+200E, U+200F, U+202A-U+202E,
                       U+2066-U+2069 */
    TEXT_INVISIBLE, /* zero-width and other default-ignorable characters: U+00AD,
                       U+034F, U+115F, U+1160, U+17B4, U+17B5, U+180B-U+180F,
                       U+200B-U+200D, U+2060-U+2065, U+206A-U+206F, U+3164,
                       U+FE00-U+FE0F, U+FEFF, U+FFA0, U+FFF0-U+FFFB,
                       U+1BCA0-U+1BCA3, U+1D173-U+1D17A, U+E0000-U+E0FFF */
    TEXT_NONCHAR    /* noncharacters: U+FDD0-U+FDEF and U+nFFFE, U+nFFFF of every plane */
};

/* The flaw of code point cp (TEXT_FINE for any other; never TEXT_MALFORMED). */
enum text_flaw text_char_flaw(uint32_t cp);

/* The first flawed character of s (n bytes): returns its flaw, with its
 * position in characters from 1 in *pos and its code point in *cp (the byte
 * for TEXT_MALFORMED); TEXT_FINE when there is none. Tab, line feed and
 * carriage return are fine when newlines is set. pos and cp may be NULL. */
enum text_flaw text_first_flaw(const char *s, size_t n, int newlines, size_t *pos, uint32_t *cp);

/* A copy of s (malloc'd, the caller frees it) with each flawed character
 * (newlines not allowed) and each malformed byte replaced by '?': what a
 * file for another program may carry of a value stored before the checks
 * at input refused such characters. */
char *text_dup_fine(const char *s);

#endif
