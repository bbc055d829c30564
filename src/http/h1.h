/* h1.h - a strict parser of HTTP/1.1 request heads and chunked bodies
 * (RFC 9112), for the server's connections. Pure functions over bytes: no
 * I/O, no allocation; fuzzed by tests/fuzz/fuzz_h1.c.
 *
 * What is refused, and with which status:
 *   400  a malformed request line or header line; a bare CR; a header line
 *        folded onto the next (obs-fold); white space between a field name
 *        and its colon; a control character in a value; a missing or second
 *        Host on HTTP/1.1; Content-Length that is not digits, or sent twice
 *        (even with the same value), or sent with Transfer-Encoding;
 *        Transfer-Encoding on HTTP/1.0, or sent twice, or not ending in
 *        chunked; a malformed chunk
 *   417  an Expect other than 100-continue
 *   431  more than H1_MAX_HEADERS header lines
 *   501  a transfer coding other than chunked (gzip, ...)
 *   505  a version other than HTTP/1.0 and HTTP/1.1
 * One request is always one request: a message whose length could be read
 * two ways is refused before anything of it is answered (request smuggling).
 */
#ifndef QL_HTTP_H1_H
#define QL_HTTP_H1_H

#include <stddef.h>
#include <stdint.h>

#define H1_MAX_HEADERS 100

struct h1_header {
    const char *name; /* points into the parsed bytes; not NUL-terminated */
    size_t name_len;
    const char *value; /* without the surrounding white space */
    size_t value_len;
};

struct h1_head {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int minor; /* HTTP/1.<minor>: 0 or 1 */
    int nheaders;
    struct h1_header headers[H1_MAX_HEADERS];
    int has_length;          /* a Content-Length was sent */
    uint64_t content_length; /* its value */
    int chunked;             /* Transfer-Encoding: chunked */
    int keep_alive;          /* the connection may carry another request after this one */
    int expect_continue;     /* Expect: 100-continue */
    size_t head_len;         /* bytes of the head, its final empty line included */
};

struct h1_error {
    int status;          /* 400, 417, 431, 501 or 505 */
    const char *en, *zh; /* what was wrong, static text */
};

enum { H1_MORE = 1, H1_DONE = 0, H1_ERROR = -1 };

/* Finds the end of a request head in buf[0..len): the offset just past the
 * empty line that ends it, or 0 while it is not there yet. *scan keeps the
 * position reached between calls on a growing buffer (start it at 0), so
 * that a head arriving a byte at a time is scanned once. Empty lines before
 * the request line are skipped, as RFC 9112 §2.2 allows. */
size_t h1_head_end(const char *buf, size_t len, size_t *scan);

/* Parses the complete head buf[0..len) (len as h1_head_end found it).
 * Returns H1_DONE with out filled (pointers into buf), or H1_ERROR with err
 * filled. */
int h1_parse_head(const char *buf, size_t len, struct h1_head *out, struct h1_error *err);

/* A chunked body being decoded. Start it zeroed. */
struct h1_chunked {
    int state;
    uint64_t left;   /* bytes of the current chunk still to come */
    unsigned digits; /* hex digits of the size line so far */
    size_t line;     /* bytes of the current extension or trailer line */
    size_t trailer;  /* bytes of trailer fields so far */
};

/* Decodes in[0..n): chunk data is written to out (at most out_room bytes;
 * *out_len receives how many), *used how many input bytes were consumed.
 * Returns H1_DONE when the last chunk and the trailer have been read (the
 * rest of in belongs to the next request), H1_MORE when more input is
 * needed (or out is full: call again with room), H1_ERROR with err filled
 * for a malformed chunk. */
int h1_chunked_feed(struct h1_chunked *st, const char *in, size_t n, char *out, size_t out_room,
                    size_t *used, size_t *out_len, struct h1_error *err);

/* Returns the value of the first header named name (case-insensitive), or
 * NULL; *len receives its length. */
const char *h1_header(const struct h1_head *h, const char *name, size_t *len);

#endif
