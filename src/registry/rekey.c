/* rekey.c - re-sealing personal data under the current key. */
#include "registry/rekey.h"

#include "auth/session.h"
#include "core/buf.h"
#include "core/pii.h"
#include "registry/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sealed columns of each table (at most NCOLS a table): a person's
 * record, and the history of their payee data (registry/payee.h). */
#define NCOLS 3
static const struct {
    const char *table;
    int n;
    struct {
        enum pii_kind kind;
        const char *column;
    } col[NCOLS];
} tables[] = {
    {"talents",
     3,
     {{PII_ID_NUMBER, "id_enc"}, {PII_PHONE, "phone_enc"}, {PII_BANK_ACCOUNT, "bank_enc"}}},
    {"payee_changes", 2, {{PII_BANK_ACCOUNT, "bank_enc"}, {PII_BANK_ACCOUNT, "old_enc"}}},
    {"identity_corrections", 2, {{PII_NAME, "old_name_enc"}, {PII_ID_NUMBER, "old_id_enc"}}},
};
#define NTABLES (sizeof tables / sizeof tables[0])

/* "a, b, c": the sealed columns of table t. */
static void column_list(size_t t, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < tables[t].n && used < n; i++)
        used +=
            (size_t)snprintf(out + used, n - used, "%s%s", i ? ", " : "", tables[t].col[i].column);
}

struct batch_ctx {
    size_t table;     /* tables[table] */
    int64_t after;    /* the last id of the previous batch */
    int64_t last;     /* the last id seen in this batch */
    int64_t scanned, resealed;
    int rows;
    char current[9];
    ql_err *err;
};

/* One value: re-sealed into out when it is under another key (returns 1),
 * left alone (0), or an error. */
static int reseal_value(enum pii_kind kind, const void *blob, size_t len, const char *current,
                        buf *out, ql_err *err)
{
    char fp[9];
    pii_sealed_key(blob, len, fp);
    if (strcmp(fp, current) == 0) return 0;
    char plain[128];
    int rc = pii_open(kind, blob, len, plain, sizeof plain, err);
    if (!rc) rc = pii_seal(kind, plain, out);
    sodium_memzero(plain, sizeof plain);
    return rc ? rc : 1;
}

static int batch_body(store *s, void *arg)
{
    struct batch_ctx *x = arg;
    x->rows = 0;
    x->last = x->after;
    int64_t resealed = 0;
    store_rows *r;
    char cols[128], sql[256];
    column_list(x->table, cols, sizeof cols);
    snprintf(sql, sizeof sql, "SELECT id, %s FROM %s WHERE id > $1 ORDER BY id LIMIT $2", cols,
             tables[x->table].table);
    const int ncols = tables[x->table].n;
    int rc = store_query(s, sql, (store_val[]){SV_INT(x->after), SV_INT(RESEAL_BATCH)}, 2, &r);
    if (rc) return rc;
    /* Collect the changes first: one statement at a time on a connection. */
    struct change {
        int64_t id;
        buf sealed[NCOLS];
        int changed[NCOLS];
    } *changes = calloc(RESEAL_BATCH, sizeof *changes);
    int n = 0;
    if (!changes) {
        store_rows_close(r);
        return QL_EINTERNAL;
    }
    while ((rc = store_step(r)) == 1) {
        struct change *c = &changes[n];
        c->id = store_col_int(r, 0);
        x->last = c->id;
        x->rows++;
        int any = 0;
        for (int i = 0; i < NCOLS; i++) buf_init(&c->sealed[i], 0);
        for (int i = 0; i < ncols && rc >= 0; i++) {
            size_t len = 0;
            const void *b = store_col_blob(r, 1 + i, &len);
            if (!b) continue;
            int v = reseal_value(tables[x->table].col[i].kind, b, len, x->current, &c->sealed[i],
                                 x->err);
            if (v < 0) rc = v;
            else if (v == 1) c->changed[i] = any = 1;
        }
        if (rc < 0) {
            n++;
            break;
        }
        if (any) n++;
        else
            for (int i = 0; i < NCOLS; i++) buf_free(&c->sealed[i]);
    }
    store_rows_close(r);
    for (int k = 0; k < n && rc >= 0; k++) {
        struct change *c = &changes[k];
        for (int i = 0; i < NCOLS && rc >= 0; i++) {
            if (!c->changed[i]) continue;
            char up[128];
            snprintf(up, sizeof up, "UPDATE %s SET %s = $1 WHERE id = $2", tables[x->table].table,
                     tables[x->table].col[i].column);
            rc = store_exec(
                s, up, (store_val[]){SV_BLOB(c->sealed[i].data, c->sealed[i].len), SV_INT(c->id)},
                2, NULL);
            if (!rc) resealed++;
        }
    }
    for (int k = 0; k < n; k++)
        for (int i = 0; i < NCOLS; i++) buf_free(&changes[k].sealed[i]);
    free(changes);
    if (rc < 0) return rc;
    x->scanned += x->rows;
    x->resealed += resealed;
    return 0;
}

struct audit_ctx {
    const actor *a;
    int64_t scanned, resealed;
    const char *current;
    ql_err *err;
};

static int audit_body(store *s, void *arg)
{
    struct audit_ctx *c = arg;
    return reg_audit(s, c->a, "keys.reseal", "talent", 0, NULL, NULL,
                     json_pack("{s:I, s:I, s:s}", "rows_scanned", (json_int_t)c->scanned,
                               "values_resealed", (json_int_t)c->resealed, "key", c->current),
                     c->err);
}

int registry_reseal(store *s, const actor *a, reseal_progress_fn progress, void *ctx,
                    int64_t *scanned, int64_t *resealed, ql_err *err)
{
    int rc = actor_require(a, P_REGISTRY_WRITE, err);
    if (!rc) rc = actor_require(a, P_PERSONAL_UNMASK, err);
    if (rc) return rc;
    if (a->scope != SCOPE_DISTRICT)
        return ql_errf(err, QL_EFORBIDDEN, NULL, "only district administration re-seals keys",
                       "只有区级管理可以重新加密");
    struct batch_ctx x = {.err = err};
    pii_current_key(x.current);
    for (x.table = 0; x.table < NTABLES; x.table++) {
        x.after = 0;
        for (;;) {
            rc = store_tx(s, STORE_TX_WRITE, batch_body, &x);
            if (rc) return rc;
            if (progress) progress(x.scanned, x.resealed, ctx);
            if (x.rows < RESEAL_BATCH) break;
            x.after = x.last;
        }
    }
    struct audit_ctx ac = {a, x.scanned, x.resealed, x.current, err};
    rc = reg_write_tx(s, audit_body, &ac);
    if (rc) return rc;
    *scanned = x.scanned;
    *resealed = x.resealed;
    return 0;
}

int registry_key_usage(store *s, json_t **out, char current[9], ql_err *err)
{
    (void)err;
    pii_current_key(current);
    json_t *usage = json_object();
    json_object_set_new(usage, current, json_integer(0));
    int rc = 0;
    for (size_t t = 0; t < NTABLES && rc >= 0; t++) {
        char cols[128], sql[256];
        column_list(t, cols, sizeof cols);
        snprintf(sql, sizeof sql, "SELECT %s FROM %s", cols, tables[t].table);
        store_rows *r;
        if ((rc = store_query(s, sql, NULL, 0, &r))) break;
        while ((rc = store_step(r)) == 1) {
            for (int i = 0; i < tables[t].n; i++) {
                size_t len = 0;
                const void *b = store_col_blob(r, i, &len);
                if (!b) continue;
                char fp[9];
                pii_sealed_key(b, len, fp);
                json_int_t n = json_integer_value(json_object_get(usage, fp));
                json_object_set_new(usage, fp, json_integer(n + 1));
            }
        }
        store_rows_close(r);
    }
    if (rc < 0) {
        json_decref(usage);
        return rc;
    }
    *out = usage;
    return 0;
}
