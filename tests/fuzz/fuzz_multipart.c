/* fuzz_multipart.c - libFuzzer target: a Content-Type line and a body of
 * any bytes (split at the first newline). Every part must lie inside the
 * body, every refusal must say why in both languages. */
#include "core/arena.h"
#include "http/multipart.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    if (!nl) return 0;
    char ct[256];
    size_t ctlen = (size_t)(nl - p);
    if (ctlen >= sizeof ct) return 0;
    memcpy(ct, p, ctlen);
    ct[ctlen] = '\0';
    const char *body = nl + 1;
    size_t len = size - ctlen - 1;
    char boundary[80];
    ql_err e = {0};
    if (multipart_boundary(ct, boundary, sizeof boundary, &e)) {
        if (!e.en[0] || !e.zh[0]) __builtin_trap();
        return 0;
    }
    arena *a = arena_new(0);
    multipart_part parts[16];
    int n = 0;
    int rc = multipart_parse(boundary, body, len, a, parts, 16, &n, &e);
    if (rc && (!e.en[0] || !e.zh[0])) __builtin_trap();
    if (n < 0 || n > 16) __builtin_trap();
    for (int i = 0; i < n; i++) {
        if (!parts[i].name) __builtin_trap();
        if (parts[i].data < body || parts[i].data + parts[i].len > body + len) __builtin_trap();
    }
    arena_free(a);
    return 0;
}
