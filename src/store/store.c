/* store.c - backend dispatch, transactions with retry, shared helpers. */
#include "store/store_impl.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int store_url_is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

int store_open(const char *url, const store_opts *opts, store **out, ql_err *err)
{
    store_opts o = {.busy_timeout_ms = 5000, .retries = 8};
    if (opts) o = *opts;
    if (o.retries < 1) o.retries = 1;
    *out = NULL;
    if (!url || !*url)
        return ql_errf(err, QL_EINVAL, "store.url", "store.url is empty",
                       "store.url（数据库地址）为空");
    if (store_url_is_postgres(url)) return store_pg_open(url, &o, out, err);
    return store_sqlite_open(url, &o, out, err);
}

void store_close(store *s)
{
    if (s) s->ops->close(s);
}

store_kind store_kind_of(const store *s)
{
    return s->kind;
}

const char *store_kind_name(const store *s)
{
    return s->kind == STORE_POSTGRES ? "postgres" : "sqlite";
}

void store_set_error(store *s, const char *msg)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s", msg ? msg : "unknown error");
    size_t n = strlen(s->errmsg);
    while (n && (s->errmsg[n - 1] == '\n' || s->errmsg[n - 1] == ' ')) s->errmsg[--n] = '\0';
}

/* Counts a failed call (once, whatever the backend recorded) and returns rc. */
static int counted(store *s, int rc)
{
    if (rc < 0) atomic_fetch_add_explicit(&s->n_errors, 1, memory_order_relaxed);
    return rc;
}

const char *store_errmsg(const store *s)
{
    return s->errmsg;
}

int store_failure(const store *s, int rc, const char *field, ql_err *err)
{
    return ql_errf(err, rc, field, "the store failed: %s", "数据库出错：%s", store_errmsg(s));
}

uint64_t store_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int store_max_placeholder(const char *sql)
{
    int max = 0;
    const char *p = sql;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            while (*p && *p != q) p++;
            if (*p) p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n') p++;
        } else if (p[0] == '/' && p[1] == '*') {
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/')) p++;
            if (*p) p += 2;
        } else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int n = 0;
            p++;
            while (*p >= '0' && *p <= '9' && n < 100000) n = n * 10 + (*p++ - '0');
            if (n > max) max = n;
        } else {
            p++;
        }
    }
    return max;
}

/* A statement run while a result set is open is a programming error that
 * PostgreSQL cannot serve; refuse it on both backends alike. */
static int check_idle(store *s)
{
    if (s->open_rows) {
        store_set_error(s, "a result set is still open on this connection");
        return counted(s, QL_EINTERNAL);
    }
    atomic_fetch_add_explicit(&s->n_statements, 1, memory_order_relaxed);
    return 0;
}

int store_exec(store *s, const char *sql, const store_val *args, int nargs, int64_t *changes)
{
    int rc = check_idle(s);
    if (rc) return rc;
    if (changes) *changes = 0;
    return counted(s, s->ops->exec(s, sql, args, nargs, changes));
}

int store_query(store *s, const char *sql, const store_val *args, int nargs, store_rows **out)
{
    *out = NULL;
    int rc = check_idle(s);
    if (rc) return rc;
    rc = s->ops->query(s, sql, args, nargs, out);
    if (rc == 0) s->open_rows = *out;
    return counted(s, rc);
}

int store_step(store_rows *r)
{
    return counted(r->s, r->s->ops->step(r));
}

int store_ncols(const store_rows *r)
{
    return r->s->ops->ncols(r);
}

int store_col_isnull(const store_rows *r, int col)
{
    return r->s->ops->isnull(r, col);
}

int64_t store_col_int(const store_rows *r, int col)
{
    return r->s->ops->col_int(r, col);
}

const char *store_col_text(const store_rows *r, int col, size_t *len)
{
    return r->s->ops->col_text(r, col, len);
}

const void *store_col_blob(store_rows *r, int col, size_t *len)
{
    return r->s->ops->col_blob(r, col, len);
}

void store_rows_close(store_rows *r)
{
    if (!r) return;
    store *s = r->s;
    s->ops->rows_close(r);
    s->open_rows = NULL;
}

int store_insert(store *s, const char *sql, const store_val *args, int nargs, int64_t *id)
{
    if (s->ops->last_id) {
        int64_t changes = 0;
        int rc = store_exec(s, sql, args, nargs, &changes);
        if (rc) return rc;
        if (changes == 0) return QL_ECONFLICT;
        *id = s->ops->last_id(s);
        return 0;
    }
    size_t n = strlen(sql) + sizeof " RETURNING id";
    char *q = xmalloc(n);
    snprintf(q, n, "%s RETURNING id", sql);
    store_rows *r;
    int rc = store_query(s, q, args, nargs, &r);
    free(q);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) *id = store_col_int(r, 0);
    store_rows_close(r);
    if (rc < 0) return rc;
    return rc == 1 ? 0 : QL_ECONFLICT;
}

int store_query_int(store *s, const char *sql, const store_val *args, int nargs, int64_t *out)
{
    store_rows *r;
    int rc = store_query(s, sql, args, nargs, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        *out = store_col_int(r, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    return rc;
}

int store_script(store *s, const char *sql)
{
    int rc = check_idle(s);
    if (rc) return rc;
    return counted(s, s->ops->script(s, sql));
}

int store_set_cache(store *s, int64_t bytes)
{
    if (s->kind != STORE_SQLITE) return 0;
    /* A negative cache_size counts KiB; -2000 is SQLite's default. */
    long long kib = bytes > 0 ? bytes / 1024 : 2000;
    if (kib < 1) kib = 1;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%lld", kib);
    return store_script(s, sql);
}

int store_in_tx(const store *s)
{
    return s->in_tx;
}

int store_ping(store *s)
{
    int64_t one = 0;
    int rc = store_query_int(s, "SELECT 1", NULL, 0, &one);
    if (rc == 0 && one != 1) rc = QL_EDB;
    return rc;
}

/* Sleeps a random time that grows with the attempt number, at most ~100 ms,
 * so that two retrying writers do not collide again in lock step. */
static void backoff(long attempt)
{
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (unsigned)attempt * 7919u;
    long cap_us = 1000L << (attempt < 7 ? attempt : 7); /* 2 ms .. 128 ms */
    if (cap_us > 100000) cap_us = 100000;
    long us = 500 + (long)(r % (unsigned long)cap_us);
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int store_tx(store *s, enum store_tx_mode mode, store_tx_fn fn, void *ctx)
{
    if (s->in_tx) return fn(s, ctx);
    if (s->open_rows) {
        store_set_error(s, "a result set is still open on this connection");
        return counted(s, QL_EINTERNAL);
    }
    int rc = QL_EBUSY;
    for (long attempt = 1; attempt <= s->opts.retries; attempt++) {
        if (attempt > 1) {
            atomic_fetch_add_explicit(&s->n_retries, 1, memory_order_relaxed);
            backoff(attempt);
        }
        rc = counted(s, s->ops->begin(s, mode));
        if (rc == QL_EBUSY) continue;
        if (rc) return rc;
        s->in_tx = 1;
        rc = fn(s, ctx);
        if (s->open_rows) {
            /* The body left a result set open: a bug, but do not leak it. */
            log_error("store_tx: transaction body returned with a result set open");
            store_rows_close(s->open_rows);
            rc = rc ? rc : QL_EINTERNAL;
        }
        if (rc == 0) rc = counted(s, s->ops->commit(s));
        if (rc) s->ops->rollback(s);
        s->in_tx = 0;
        if (rc != QL_EBUSY) return rc;
    }
    return rc;
}

void store_stats_get(const store *s, struct store_stats *out)
{
    out->statements = atomic_load_explicit(&s->n_statements, memory_order_relaxed);
    out->errors = atomic_load_explicit(&s->n_errors, memory_order_relaxed);
    out->retries = atomic_load_explicit(&s->n_retries, memory_order_relaxed);
}
