/* buf.h - a growable byte buffer with an optional hard cap.
 *
 * A buf always keeps its data NUL-terminated (the NUL is not counted in len),
 * so buf.data can be passed where a C string is expected. Allocation failure
 * aborts the process. When a cap is set, an append that would pass it fails
 * with QL_ETOOBIG and leaves the buffer unchanged: nothing is silently cut.
 */
#ifndef QL_CORE_BUF_H
#define QL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;   /* bytes allocated */
    size_t limit; /* 0 = unlimited, otherwise the largest len allowed */
} buf;

#define BUF_INIT {0}

/* Initialises b as empty with the given limit (0 for none). */
void buf_init(buf *b, size_t limit);

/* Frees the memory and resets b to empty (the limit is kept). */
void buf_free(buf *b);

/* Empties b but keeps its memory for reuse. */
void buf_reset(buf *b);

/* Appends n bytes. Returns 0 or QL_ETOOBIG. */
int buf_append(buf *b, const void *p, size_t n);

/* Appends a C string. Returns 0 or QL_ETOOBIG. */
int buf_puts(buf *b, const char *s);

/* Appends one byte. Returns 0 or QL_ETOOBIG. */
int buf_putc(buf *b, char c);

/* Appends formatted text. Returns 0 or QL_ETOOBIG. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Appends s with JSON string escaping (without the surrounding quotes).
 * Invalid UTF-8 bytes are replaced by U+FFFD. Returns 0 or QL_ETOOBIG. */
int buf_json_escape(buf *b, const char *s, size_t n);

/* Makes sure at least n more bytes fit without reallocating; returns a pointer
 * to the free space. Call buf_commit(b, k) after writing k <= n bytes there.
 * Returns NULL if the limit does not allow n more bytes. */
char *buf_reserve(buf *b, size_t n);
void buf_commit(buf *b, size_t n);

/* Allocates room for exactly n more bytes at once, for data whose size is
 * known ahead (a request body of known length), instead of doubling as it
 * arrives. Returns 0 or QL_ETOOBIG (over the limit). */
int buf_presize(buf *b, size_t n);

/* Hands the data to the caller (who frees it with free()) and empties b.
 * Never returns NULL: an empty buffer yields "". */
char *buf_steal(buf *b);

#endif
