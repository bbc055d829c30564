/* fuzz_bank_result.c - libFuzzer target: the bank's result file of any
 * bytes, read alone (bank_result_open / _next: every refusal says why in
 * both languages, every value is valid UTF-8 within its field, lines go
 * forward) and taken in through a real store (bank_import) in a
 * transaction rolled back. The store, made once per process: a demo
 * district (seed 1, 40 talents) with 6 active district-rent subsidies, the
 * cycle 2026-09 computed, approved by a second person and exported in
 * batches of 4 (two batches). Whatever the file, the import answers with a
 * report that adds up (each mismatch listed with a known problem, its
 * line and both messages) or refuses the file naming a column; it never
 * fails in the store, and no payment is settled twice.
 *
 * The seed file that matches every payment (tests/fuzz/seeds/
 * fuzz_bank_result/paid.csv) is the one this target builds at start and
 * checks: run it once with FUZZ_BANK_RESULT_SEED=FILE -runs=0 to write it
 * again. */
#include "fuzz_store.h"

#include "auth/perm.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/text.h"
#include "core/validate.h"
#include "demo/demo.h"
#include "ledger/bank_impl.h"
#include "ledger/cycle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MONTH "2026-09"
static actor CLI, FIN;
static int64_t payments;

static void die(const char *what, const ql_err *err)
{
    fprintf(stderr, "fuzz_bank_result: %s: %s\n", what, err->en);
    abort();
}

struct run {
    const char *data;
    size_t size;
    int rc;
    struct bank_import_report rep;
    ql_err err;
};

static int body(store *s, void *vctx)
{
    struct run *x = vctx;
    x->rc = bank_import(s, &CLI, MONTH, x->data, x->size, "fuzz.csv", &x->rep, &x->err);
    return FUZZ_ROLL_BACK;
}

/* The result file the bank would send if it paid every payment. */
static void matching_file(store *s, buf *b)
{
    buf_puts(b, "batch_no,request_id,account,amount,status,message\r\n");
    store_rows *r;
    if (store_query(s,
                    "SELECT b.batch_no, p.request_id, t.bank_enc, p.amount_fen FROM payments p "
                    "JOIN bank_batches b ON b.id = p.batch_id JOIN talents t ON t.id = "
                    "p.payee_id AND p.payee_type = 'person' ORDER BY p.id",
                    NULL, 0, &r))
        abort();
    while (store_step(r) == 1) {
        size_t slen;
        const void *sealed = store_col_blob(r, 2, &slen);
        char plain[64], yuan[32];
        ql_err err;
        if (pii_open(PII_BANK_ACCOUNT, sealed, slen, plain, sizeof plain, &err))
            die("account", &err);
        validate_money_text(store_col_int(r, 3), yuan, sizeof yuan);
        buf_printf(b, "%s,%s,%s,%s,S,\r\n", store_col_text(r, 0, NULL), store_col_text(r, 1, NULL),
                   plain, yuan);
    }
    store_rows_close(r);
}

static store *setup(void)
{
    static store *s;
    if (s) return s;
    s = fuzz_store();
    actor_cli(&CLI);
    FIN = CLI;
    snprintf(FIN.username, sizeof FIN.username, "finance.two");
    FIN.perms = role_perms(ROLE_FINANCE);
    struct demo_params p = {.seed = 1, .people = 40, .applicants = 8};
    demo *d;
    struct demo_stored st;
    struct demo_rules_loaded rl;
    struct demo_subsidies ds;
    struct cycle_report cr;
    struct cycle_approval ap;
    struct bank_export_report xr;
    struct bank_export_opts o = {BANK_CSV, NULL, 4, NULL};
    ql_err err = {0};
    if (demo_open(&p, &d, &err) || demo_store(s, &CLI, d, NULL, NULL, &st, &err)) die("demo", &err);
    demo_close(d);
    if (demo_rules(s, &CLI, &rl, &err) || demo_active_subsidies(s, &CLI, 6, NULL, NULL, &ds, &err))
        die("subsidies", &err);
    if (cycle_run(s, &CLI, date_from_ymd(2026, 9, 1), NULL, NULL, &cr, &err) ||
        cycle_budget_set(s, &FIN, "district-rent", 2026, 100000000, &err) ||
        cycle_approve(s, &FIN, MONTH, &ap, &err) ||
        bank_export(s, &CLI, MONTH, &o, NULL, NULL, &xr, &err))
        die("cycle", &err);
    payments = xr.payments;
    if (payments != 6 || xr.all_batches != 2) {
        fprintf(stderr, "fuzz_bank_result: %lld payments in %lld batches, not 6 in 2\n",
                (long long)payments, (long long)xr.all_batches);
        abort();
    }
    /* The fixture works: the bank's file of every payment paid settles them all. */
    buf b;
    buf_init(&b, 0);
    matching_file(s, &b);
    struct run x = {b.data, b.len, 0, {0}, {0}};
    fuzz_rolled_back(s, body, &x);
    if (x.rc || x.rep.paid != payments || x.rep.mismatches) die("the matching file", &x.err);
    json_decref(x.rep.items);
    const char *out = getenv("FUZZ_BANK_RESULT_SEED");
    FILE *f = out && *out ? fopen(out, "wb") : NULL;
    if (f) {
        fwrite(b.data, 1, b.len, f);
        fclose(f);
    }
    buf_free(&b);
    return s;
}

/* The file read alone. Returns the data rows, or -1 when it is refused. */
static int64_t read_alone(const char *data, size_t size)
{
    bank_result *r;
    ql_err err = {0};
    int rc = bank_result_open(data, size, "fuzz.csv", &r, &err);
    if (rc) {
        if (rc != QL_EINVAL || !err.en[0] || !err.zh[0] || !err.field[0]) __builtin_trap();
        return -1;
    }
    struct bank_result_row w;
    int64_t rows = 0;
    long last = 0;
    while ((rc = bank_result_next(r, &w, &err)) == 1) {
        rows++;
        if (w.line <= last) __builtin_trap();
        last = w.line;
        const char *v[] = {w.batch, w.rid, w.account, w.amount, w.status, w.message};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            if (text_first_flaw(v[i], strlen(v[i]), 1, NULL, NULL) == TEXT_MALFORMED)
                __builtin_trap();
    }
    if (rc < 0 && (rc != QL_EINVAL || !err.en[0] || !err.zh[0])) __builtin_trap();
    bank_result_close(r);
    return rc < 0 ? -1 : rows;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store *s = setup();
    int64_t rows = read_alone((const char *)data, size);
    struct run x = {(const char *)data, size, 0, {0}, {0}};
    fuzz_rolled_back(s, body, &x);
    struct bank_import_report *o = &x.rep;
    if (x.rc) {
        /* refused as a whole: the file cannot be read as a result file */
        if ((x.rc != QL_EINVAL && x.rc != QL_ETOOBIG) || !x.err.en[0] || !x.err.zh[0] ||
            rows >= 0) {
            fprintf(stderr, "fuzz_bank_result: %d %s: %s\n", x.rc, x.err.field, x.err.en);
            __builtin_trap();
        }
    } else {
        if (rows < 0 || o->rows != rows || o->unchanged) __builtin_trap();
        if (o->paid + o->failed > payments || o->paid < 0 || o->failed < 0) __builtin_trap();
        /* each row settles, was settled before, or is a mismatch; payments
         * no row names are mismatches too */
        if (o->paid + o->failed + o->already + o->mismatches < o->rows) __builtin_trap();
        size_t n = json_array_size(o->items);
        if ((int64_t)n != (o->mismatches < BANK_MISMATCH_LIST ? o->mismatches : BANK_MISMATCH_LIST))
            __builtin_trap();
        static const char *const problems[] = {"unknown_id", "other_cycle", "account",
                                               "amount",     "duplicate",   "status",
                                               "conflict",   "missing",     "batch"};
        size_t i;
        json_t *m;
        json_array_foreach(o->items, i, m)
        {
            const char *p = json_string_value(json_object_get(m, "problem"));
            const char *en = json_string_value(json_object_get(m, "en"));
            const char *zh = json_string_value(json_object_get(m, "zh"));
            if (!p || !en || !zh || !en[0] || !zh[0] ||
                !json_string_value(json_object_get(m, "request_id")))
                __builtin_trap();
            int known = 0;
            for (size_t k = 0; k < sizeof problems / sizeof problems[0]; k++)
                known |= !strcmp(p, problems[k]);
            if (!known) __builtin_trap();
        }
    }
    json_decref(o->items);
    return 0;
}
