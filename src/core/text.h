/* text.h - UTF-8 text: validity, character counts, cutting without splitting
 * a character. The one place the project decodes UTF-8. */
#ifndef QL_CORE_TEXT_H
#define QL_CORE_TEXT_H

#include <stddef.h>

/* Length in bytes of the well-formed UTF-8 character at s (at most n bytes
 * available), or 0 if the bytes there are not one (overlong forms,
 * surrogates and code points above U+10FFFF are not). */
size_t text_char_len(const unsigned char *s, size_t n);

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
