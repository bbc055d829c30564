/* fuzz_h1.c - libFuzzer target: request heads and chunked bodies as a
 * client may send them, through the strict HTTP/1.1 parser (src/http/h1.c),
 * the head fed a byte at a time and whole, the body in uneven pieces. Checks
 * that the parser never reads or writes outside what it was given, that the
 * end of a head is found the same way whatever the pieces, and that a head
 * it accepts has one length at most. */
#include "http/h1.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    /* A copy of exactly size bytes, so ASan sees any read past the end. */
    char *b = malloc(size ? size : 1);
    memcpy(b, in, size);

    size_t scan = 0, end = h1_head_end(b, size, &scan);
    size_t scan2 = 0, end2 = 0;
    for (size_t k = 1; k <= size && !end2; k++) end2 = h1_head_end(b, k, &scan2);
    if (end != end2) abort(); /* the end of a head does not depend on how it arrived */
    if (end) {
        struct h1_head h;
        struct h1_error e;
        if (h1_parse_head(b, end, &h, &e) == H1_DONE) {
            if (h.chunked && h.has_length) abort();
            if (h.head_len != end) abort();
            for (int i = 0; i < h.nheaders; i++)
                if (h.headers[i].name < b || h.headers[i].value + h.headers[i].value_len > b + end)
                    abort();
        } else if (e.status < 400 || e.status > 505 || !e.en || !e.zh) {
            abort();
        }
    }

    /* The rest (or all of it) as a chunked body, in pieces of 1..7 bytes
     * into an output that is small on purpose. */
    size_t pos = end, o = 0;
    char out[64];
    struct h1_chunked st = {0};
    struct h1_error e;
    unsigned piece = size ? (unsigned)data[0] % 7 + 1 : 1;
    while (pos < size) {
        size_t n = size - pos < piece ? size - pos : piece;
        size_t used = 0, got = 0;
        int rc = h1_chunked_feed(&st, b + pos, n, out + o, sizeof out - o, &used, &got, &e);
        if (rc == H1_ERROR) break;
        if (used > n || got > sizeof out - o) abort();
        pos += used;
        o += got;
        if (o == sizeof out) o = 0; /* the body was taken away; room again */
        if (rc == H1_DONE || (used == 0 && got == 0)) break;
    }
    free(b);
    return 0;
}
