/* store.h - the only interface to the database. Two backends implement it:
 * SQLite (the default: a file path) and PostgreSQL (a postgres:// URL).
 *
 * Queries are written once, with $1..$n placeholders, and run unchanged on
 * both. Values are bound by type (store_val); results are read column by
 * column. A connection (store) belongs to one thread at a time.
 *
 * At most one result set (store_rows) may be open on a connection at a time:
 * close it before running the next statement. PostgreSQL streams rows one at
 * a time, so a query over a million rows does not hold them all in memory;
 * SQLite is held to the same rule so code that works on one works on both.
 *
 * Errors: functions return 0 or a negative QL_E* code:
 *   QL_ECONFLICT  unique or foreign-key violation
 *   QL_EINVAL     CHECK or NOT NULL violation, wrong number of parameters
 *   QL_EBUSY      database locked, serialization failure or deadlock: retry
 *   QL_EUNAVAIL   the connection is lost and could not be re-established
 *   QL_EDB        anything else
 * store_errmsg() has the driver's message for the log.
 */
#ifndef QL_STORE_STORE_H
#define QL_STORE_STORE_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum store_kind { STORE_SQLITE = 1, STORE_POSTGRES = 2 } store_kind;

typedef enum store_type { ST_NULL, ST_INT, ST_TEXT, ST_BLOB, ST_BOOL } store_type;

/* One bound parameter. Text and blobs are not copied: they must stay valid
 * until the call that receives them returns. */
typedef struct store_val {
    store_type type;
    int64_t i;     /* ST_INT, ST_BOOL */
    const void *p; /* ST_TEXT, ST_BLOB */
    size_t n;      /* length in bytes; for ST_TEXT, SIZE_MAX means strlen(p) */
} store_val;

#define SV_NULL ((store_val){.type = ST_NULL})
#define SV_INT(v) ((store_val){.type = ST_INT, .i = (int64_t)(v)})
#define SV_BOOL(v) ((store_val){.type = ST_BOOL, .i = (v) ? 1 : 0})
#define SV_TEXT(s) ((store_val){.type = ST_TEXT, .p = (s), .n = SIZE_MAX})
#define SV_TEXTN(s, len) ((store_val){.type = ST_TEXT, .p = (s), .n = (len)})
#define SV_BLOB(b, len) ((store_val){.type = ST_BLOB, .p = (b), .n = (len)})
/* A text value, or NULL when s is NULL. */
#define SV_TEXT_OR_NULL(s) ((s) ? SV_TEXT(s) : SV_NULL)

typedef struct store store;
typedef struct store_rows store_rows;

typedef struct store_opts {
    long busy_timeout_ms; /* SQLite: wait this long for a lock (default 5000) */
    long retries;         /* attempts for store_tx on QL_EBUSY (default 8) */
} store_opts;

/* Opens a connection. url is a file path for SQLite (created if missing;
 * WAL, foreign keys on, busy timeout) or a postgres:// or postgresql:// URL.
 * opts may be NULL for the defaults. On success *out owns the connection. */
int store_open(const char *url, const store_opts *opts, store **out, ql_err *err);

/* Closes the connection (an open transaction is rolled back). NULL is allowed. */
void store_close(store *s);

store_kind store_kind_of(const store *s);

/* "sqlite" or "postgres". */
const char *store_kind_name(const store *s);

/* Returns 1 if url names a PostgreSQL database, else 0 (a SQLite file). */
int store_url_is_postgres(const char *url);

/* Runs one statement that returns no rows. *changes (may be NULL) receives
 * the number of rows inserted, updated or deleted. */
int store_exec(store *s, const char *sql, const store_val *args, int nargs, int64_t *changes);

/* Runs one statement and opens its result set in *out (close it with
 * store_rows_close, also after an error from store_step). */
int store_query(store *s, const char *sql, const store_val *args, int nargs, store_rows **out);

/* Advances to the next row: 1 = a row is ready, 0 = no more rows, < 0 = error. */
int store_step(store_rows *r);

/* Number of columns in the result. */
int store_ncols(const store_rows *r);

/* Column accessors for the current row; col counts from 0. Text and blob
 * pointers stay valid until the next store_step or store_rows_close.
 * store_col_text never returns NULL ("" for NULL values); store_col_int
 * returns 0 for NULL and parses PostgreSQL booleans as 1/0. */
int store_col_isnull(const store_rows *r, int col);
int64_t store_col_int(const store_rows *r, int col);
const char *store_col_text(const store_rows *r, int col, size_t *len);
const void *store_col_blob(store_rows *r, int col, size_t *len);

/* Finishes the result set (on PostgreSQL, cancels the rest of a stream).
 * NULL is allowed. */
void store_rows_close(store_rows *r);

/* Runs an INSERT of one row into a table whose key is an integer column
 * named id, written without RETURNING, and stores the new row's id in *id.
 * With ON CONFLICT ... DO NOTHING, QL_ECONFLICT when no row was inserted.
 * (SQLite reads the row id of the insert: RETURNING would make it journal
 * every statement to a temporary file, which triples the time of a bulk
 * load. PostgreSQL adds RETURNING id.) */
int store_insert(store *s, const char *sql, const store_val *args, int nargs, int64_t *id);

/* Runs a query and stores the first column of its first row in *out.
 * Returns QL_ENOTFOUND if there is no row. */
int store_query_int(store *s, const char *sql, const store_val *args, int nargs, int64_t *out);

/* Runs several statements without parameters (migrations). */
int store_script(store *s, const char *sql);

enum store_tx_mode { STORE_TX_READ, STORE_TX_WRITE };

/* The body of a transaction: returns 0 to commit, or a negative code to roll
 * back. Returning QL_EBUSY (as the store functions do on lock or
 * serialization conflicts) makes store_tx retry the whole body, so the body
 * must not have effects outside the database. */
typedef int (*store_tx_fn)(store *s, void *ctx);

/* Runs fn inside a transaction: SQLite BEGIN IMMEDIATE for writes (deferred
 * for reads); PostgreSQL SERIALIZABLE for writes, REPEATABLE READ READ ONLY
 * for reads. Retries with a short random back-off on QL_EBUSY, up to
 * opts.retries attempts, then returns QL_EBUSY. Called inside another
 * store_tx, runs fn directly in the outer transaction. Returns fn's code, or
 * a store error from BEGIN/COMMIT. */
int store_tx(store *s, enum store_tx_mode mode, store_tx_fn fn, void *ctx);

/* Sets how many bytes of database pages the connection may keep in memory:
 * SQLite's page cache (0 restores SQLite's default of about 2 MB; memory is
 * taken only as pages are read). A large load runs several times faster
 * when the indexes it fills fit. No effect on PostgreSQL, whose server
 * settings decide. Returns 0 or a store error. */
int store_set_cache(store *s, int64_t bytes);

/* 1 while a store_tx body runs on this connection (a nested store_tx then
 * runs its body inside the outer transaction), else 0. */
int store_in_tx(const store *s);

/* Checks the connection with a trivial query. Returns 0 or an error. */
int store_ping(store *s);

/* The driver's message for the most recent error ("" if none). */
const char *store_errmsg(const store *s);

/* Fills err (if non-NULL) with code rc, field and "the store failed:" and the
 * driver's message, in English and Chinese; returns rc. For services whose
 * store call failed. */
int store_failure(const store *s, int rc, const char *field, ql_err *err);

/* Counters, safe to read from another thread. */
struct store_stats {
    uint64_t statements; /* statements run */
    uint64_t errors;     /* statements that failed */
    uint64_t retries;    /* transactions retried after QL_EBUSY */
};
void store_stats_get(const store *s, struct store_stats *out);

/* Migrations (migrate.c): applies every migration for this backend's dialect
 * that the database has not recorded in schema_version, in one transaction.
 * *applied (may be NULL) receives how many were applied. Refuses a database
 * whose schema is newer than this binary or whose applied migrations were
 * edited afterwards (their recorded checksum differs). */
int store_migrate(store *s, int *applied, ql_err *err);

/* One migration as known to the binary and the database. */
struct store_migration_status {
    int version;
    const char *name;
    int applied;            /* 1 if recorded in schema_version */
    char applied_at[40];    /* when, if applied */
};

/* Calls fn for each migration the binary knows, in order. Returns 0 or an error. */
int store_migrate_status(store *s, void (*fn)(const struct store_migration_status *, void *),
                         void *ctx, ql_err *err);

/* Highest migration version this binary knows for the backend's dialect. */
int store_schema_latest(const store *s);

#endif
