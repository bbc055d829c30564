/* fuzz_import.c - libFuzzer target: the registry's CSV import (talents and
 * employers) of any bytes, through a real store: a SQLite file made once
 * per process holding a small demo district (seed 1, 12 talents, so
 * rows can be "already registered" and employers known), each input
 * checked as `qianlima import ... FILE` without --commit does, in a
 * transaction rolled back. A file is read to the end or refused with a
 * message in both languages; the report adds up (every listed problem has
 * a row, a column title, a field and both messages, in valid UTF-8); the
 * store is left as it was. */
#include "fuzz_store.h"

#include "auth/perm.h"
#include "demo/demo.h"
#include "registry/import.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static actor CLI;
static int64_t talents0, employers0, audit0;

static int64_t count(store *s, const char *sql)
{
    int64_t n = -1;
    if (store_query_int(s, sql, NULL, 0, &n)) __builtin_trap();
    return n;
}

static store *setup(void)
{
    static store *s;
    if (s) return s;
    s = fuzz_store();
    actor_cli(&CLI);
    struct demo_params p = {.seed = 1, .people = 12};
    demo *d;
    struct demo_stored st;
    ql_err err = {0};
    if (demo_open(&p, &d, &err) || demo_store(s, &CLI, d, NULL, NULL, &st, &err)) {
        fprintf(stderr, "fuzz_import: demo: %s\n", err.en);
        abort();
    }
    demo_close(d);
    talents0 = count(s, "SELECT count(*) FROM talents");
    employers0 = count(s, "SELECT count(*) FROM employers");
    audit0 = count(s, "SELECT count(*) FROM audit_log");
    return s;
}

static int valid_text(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL; /* jansson holds only valid UTF-8 strings */
}

static void check_list(const json_t *list, int64_t counted)
{
    size_t n = json_array_size(list);
    if ((int64_t)n != (counted < IMPORT_PROBLEMS_MAX ? counted : IMPORT_PROBLEMS_MAX))
        __builtin_trap();
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        if (json_integer_value(json_object_get(p, "row")) < 2) __builtin_trap();
        if (!valid_text(p, "column") || !valid_text(p, "field")) __builtin_trap();
        const char *en = json_string_value(json_object_get(p, "message_en"));
        const char *zh = json_string_value(json_object_get(p, "message_zh"));
        if (!en || !zh || !en[0] || !zh[0]) __builtin_trap();
    }
}

struct run {
    enum import_kind kind;
    const uint8_t *data;
    size_t size;
};

static int body(store *s, void *vctx)
{
    struct run *x = vctx;
    FILE *f = fmemopen((void *)x->data, x->size, "rb");
    if (!f) return FUZZ_ROLL_BACK; /* fmemopen refuses 0 bytes on older glibc */
    struct import_report rep;
    ql_err err = {0};
    int rc = registry_import(s, &CLI, x->kind, f, "fuzz.csv", 0, &rep, &err);
    fclose(f);
    if (rc) {
        if (rc != QL_EINVAL || !err.en[0] || !err.zh[0]) {
            fprintf(stderr, "fuzz_import: %d %s: %s\n", rc, err.field, err.en);
            __builtin_trap();
        }
    } else {
        if (rep.imported || rep.bad_rows > rep.rows || rep.problems < rep.bad_rows ||
            (rep.bad_rows == 0) != (rep.problems == 0) || rep.warnings > rep.rows)
            __builtin_trap();
        check_list(rep.list, rep.problems);
        if ((int64_t)json_array_size(rep.warning_list) < (rep.warnings ? 1 : 0)) __builtin_trap();
    }
    import_report_free(&rep);
    return FUZZ_ROLL_BACK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store *s = setup();
    for (int k = IMPORT_TALENTS; k <= IMPORT_EMPLOYERS; k++) {
        struct run x = {(enum import_kind)k, data, size};
        fuzz_rolled_back(s, body, &x);
    }
    if (count(s, "SELECT count(*) FROM talents") != talents0 ||
        count(s, "SELECT count(*) FROM employers") != employers0 ||
        count(s, "SELECT count(*) FROM audit_log") != audit0)
        __builtin_trap();
    return 0;
}
