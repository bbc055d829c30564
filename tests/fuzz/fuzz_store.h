/* fuzz_store.h - for fuzz targets that run a service over a real store: a
 * SQLite file in a directory of its own under $TMPDIR (or /tmp), migrated,
 * with its audit and personal-data keys there, made once per process and
 * removed when the process exits. Each input's work is rolled back
 * (fuzz_rolled_back), so every input meets the same store and a crash
 * found is reproduced from its input alone. */
#ifndef QL_FUZZ_STORE_H
#define QL_FUZZ_STORE_H

#include "audit/audit.h"
#include "core/log.h"
#include "core/pii.h"
#include "store/store.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[512];

static int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fuzz_cleanup(void)
{
    if (fuzz_dir[0]) nftw(fuzz_dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The store, made on the first call (an error here is fatal: the target
 * cannot do anything useful without it). */
static store *fuzz_store(void)
{
    static store *s;
    if (s) return s;
    log_set_level(LOG_OFF);
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/qianlima-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_cleanup);
    char path[600], keys[600];
    snprintf(path, sizeof path, "%s/fuzz.db", fuzz_dir);
    snprintf(keys, sizeof keys, "%s/keys", fuzz_dir);
    ql_err err = {0};
    if (store_open(path, NULL, &s, &err) || store_migrate(s, NULL, &err) ||
        audit_init(keys, "blake2b", &err) || pii_init(keys, &err)) {
        fprintf(stderr, "fuzz: cannot make the store: %s\n", err.en);
        abort();
    }
    return s;
}

/* Runs fn(s, ctx) in a write transaction that is always rolled back (the
 * services' own transactions nest in it). */
#define FUZZ_ROLL_BACK 1
static void fuzz_rolled_back(store *s, store_tx_fn fn, void *ctx)
{
    int rc = store_tx(s, STORE_TX_WRITE, fn, ctx);
    if (rc != FUZZ_ROLL_BACK) {
        fprintf(stderr, "fuzz: the transaction ended with %d, not rolled back\n", rc);
        __builtin_trap();
    }
}

#endif
