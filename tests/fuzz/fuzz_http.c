/* fuzz_http.c - libFuzzer target: request paths and query strings as a
 * client may send them (percent-decoding, the "." / ".." refusal, route
 * matching and query lookup). */
#include "core/arena.h"
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static arena *a;
    if (!a) a = arena_new(0);
    /* The input is "path?query" as it appears on the request line. */
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    size_t plen = strcspn(s, "?");
    const char *path;
    ql_err err;
    if (http_decode_path(s, plen, a, &path, &err) == 0) {
        const char *names[HTTP_MAX_PARAMS], *values[HTTP_MAX_PARAMS];
        int n;
        unsigned allowed;
        static const enum http_method methods[] = {HTTP_GET, HTTP_POST, HTTP_DELETE};
        for (size_t i = 0; i < 3; i++)
            http_route_match(methods[i], path, names, values, &n, &allowed, a);
    }
    if (s[plen] == '?') {
        http_req r;
        memset(&r, 0, sizeof r);
        r.arena = a;
        r.query = s + plen + 1;
        static const char *const keys[] = {"q", "page", "", "a b", "千"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) http_query(&r, keys[i]);
    }
    free(s);
    arena_reset(a);
    return 0;
}
