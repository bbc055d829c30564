/* store_impl.h - what the SQLite and PostgreSQL backends share with store.c.
 * Nothing outside src/store includes this file. */
#ifndef QL_STORE_IMPL_H
#define QL_STORE_IMPL_H

#include "store/store.h"

#include <stdatomic.h>

struct store_ops {
    int (*exec)(store *s, const char *sql, const store_val *args, int nargs, int64_t *changes);
    int (*query)(store *s, const char *sql, const store_val *args, int nargs, store_rows **out);
    int (*step)(store_rows *r);
    int (*ncols)(const store_rows *r);
    int (*isnull)(const store_rows *r, int col);
    int64_t (*col_int)(const store_rows *r, int col);
    const char *(*col_text)(const store_rows *r, int col, size_t *len);
    const void *(*col_blob)(store_rows *r, int col, size_t *len);
    void (*rows_close)(store_rows *r);
    int (*script)(store *s, const char *sql);
    int (*begin)(store *s, enum store_tx_mode mode);
    int (*commit)(store *s);
    void (*rollback)(store *s);
    void (*close)(store *s);
    /* The id of the row the last INSERT made, or NULL when the backend
     * reads it with RETURNING instead (store_insert). */
    int64_t (*last_id)(store *s);
};

/* The common part; each backend's connection struct starts with it. */
struct store {
    const struct store_ops *ops;
    store_kind kind;
    store_opts opts;
    int in_tx;     /* inside store_tx */
    store_rows *open_rows; /* the result set now open, if any */
    _Atomic uint64_t n_statements, n_errors, n_retries;
    char errmsg[512];
};

/* Each result set starts with this. */
struct store_rows {
    store *s;
};

int store_sqlite_open(const char *path, const store_opts *opts, store **out, ql_err *err);
int store_pg_open(const char *url, const store_opts *opts, store **out, ql_err *err);

/* Records a driver message for store_errmsg. Errors are counted once per
 * failed call by store.c, not here. */
void store_set_error(store *s, const char *msg);

/* The highest n of the $n placeholders in sql, skipping quoted strings,
 * quoted identifiers and comments; 0 if there are none. */
int store_max_placeholder(const char *sql);

/* 64-bit FNV-1a of a string, used for statement caches and migration checksums. */
uint64_t store_hash(const char *s, size_t n);

#endif
