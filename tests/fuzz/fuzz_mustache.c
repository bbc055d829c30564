/* fuzz_mustache.c - libFuzzer target: compiles and renders arbitrary Mustache template sources. */
#include "core/buf.h"
#include "core/err.h"
#include "web/mustache.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Data with every JSON type, nesting, lists and names that select partials. */
static const char context_json[] =
    "{\"name\": \"<b>Ann & 'Bo'\\\"</b>\", \"n\": 42, \"pi\": 3.14159, \"big\": 1e300,"
    " \"yes\": true, \"no\": false, \"none\": null, \"empty\": \"\", \"zero\": 0,"
    " \"list\": [1, \"two\", {\"name\": \"three\", \"list\": []}, [4, 5]],"
    " \"obj\": {\"a\": {\"b\": {\"c\": \"deep\"}}, \"list\": [true, false]},"
    " \"partial\": \"item\", \"self\": \"rec\", \"missing\": \"nope\","
    " \"rows\": [{\"x\": 1}, {\"x\": 2}, {\"x\": 3}]}";

/* Two partials: one ordinary (with a block, so it can serve as a parent) and
 * one that includes itself, which only the nesting limit stops. */
static const char partial_item[] = "<li>{{name}}</li>\n  {{$slot}}default {{.}}{{/slot}}\n"
                                   "{{#list}}\n  - {{.}}\n{{/list}}\n";
static const char partial_rec[] = "[{{n}}\n  {{>rec}}\n]";

static const char *fuzz_loader(void *ctx, const char *name, size_t len, size_t *src_len)
{
    (void)ctx;
    if (len == 4 && memcmp(name, "item", 4) == 0) {
        *src_len = sizeof partial_item - 1;
        return partial_item;
    }
    if (len == 3 && memcmp(name, "rec", 3) == 0) {
        *src_len = sizeof partial_rec - 1;
        return partial_rec;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Built once and kept: the environment's cache only ever holds the two
     * partials, whatever the input. */
    static json_t *context;
    static mus_env *env;
    if (!context) {
        context = json_loads(context_json, 0, NULL);
        if (!context) __builtin_trap();
        env = mus_env_new(fuzz_loader, NULL);
    }

    buf out;
    buf_init(&out, 1u << 20);
    ql_err err;
    ql_err_clear(&err);
    int rc = mus_render_source(env, (const char *)data, size, context, &out, &err);
    /* Only these results are possible, and each error carries a message. */
    if (rc != 0 && rc != QL_EINVAL && rc != QL_ETOOBIG) __builtin_trap();
    if (rc != 0 && (err.code != rc || err.en[0] == '\0' || err.zh[0] == '\0')) __builtin_trap();
    if (out.len > (1u << 20)) __builtin_trap();
    buf_free(&out);
    return 0;
}
