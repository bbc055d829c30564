/* pg.c - the PostgreSQL backend through libpq: named prepared statements
 * cached per connection, typed parameters, results streamed in single-row
 * mode, reconnection after a lost connection. */
#include "store/store_impl.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 256
#define CACHE_MAX 192
#define MAX_PARAMS 256

/* OIDs of the built-in types used for parameters. */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20

struct cached {
    uint64_t hash;
    char *sql;
    char name[24];
    int nparams;
};

struct pg_rows {
    struct store_rows base;
    PGresult *res;        /* the current row (single-row mode) */
    unsigned char *blob;  /* unescaped bytea of the last col_blob call */
    int done;
};

struct pg {
    struct store base;
    PGconn *conn;
    struct cached cache[CACHE_SLOTS];
    int ncached;
    unsigned long next_name;
    struct pg_rows rows;
};

static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    size_t n = strlen(message);
    while (n && message[n - 1] == '\n') n--;
    log_debug("postgres: %.*s", (int)n, message);
}

/* Maps a failed result (or a connection failure when res is NULL). */
static int map_error(struct pg *p, const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage((PGresult *)res) : "";
    store_set_error(&p->base, msg[0] ? msg : PQerrorMessage(p->conn));
    if (PQstatus(p->conn) == CONNECTION_BAD) return QL_EUNAVAIL;
    const char *state = res ? PQresultErrorField((PGresult *)res, PG_DIAG_SQLSTATE) : NULL;
    if (!state) return QL_EDB;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return QL_EBUSY;
    if (!strcmp(state, "23505") || !strcmp(state, "23503")) return QL_ECONFLICT;
    if (!strcmp(state, "23514") || !strcmp(state, "23502") || !strcmp(state, "22P02") ||
        !strcmp(state, "22003") || !strcmp(state, "22001") || !strcmp(state, "22007") ||
        !strcmp(state, "22008"))
        return QL_EINVAL;
    return QL_EDB;
}

static void cache_clear(struct pg *p, int deallocate)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct cached *c = &p->cache[i];
        if (!c->sql) continue;
        free(c->sql);
        memset(c, 0, sizeof *c);
    }
    if (deallocate && PQstatus(p->conn) == CONNECTION_OK && !p->base.in_tx) {
        PGresult *r = PQexec(p->conn, "DEALLOCATE ALL");
        PQclear(r);
    }
    p->ncached = 0;
}

/* Re-establishes a lost connection. Prepared statements do not survive it. */
static int ensure_connected(struct pg *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK) return 0;
    if (p->base.in_tx) {
        store_set_error(&p->base, "connection lost inside a transaction");
        return QL_EUNAVAIL;
    }
    log_warn("postgres: connection lost, reconnecting");
    PQreset(p->conn);
    cache_clear(p, 0);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        store_set_error(&p->base, PQerrorMessage(p->conn));
        return QL_EUNAVAIL;
    }
    return 0;
}

static Oid param_type(const store_val *v)
{
    switch (v->type) {
    case ST_INT: return OID_INT8;
    case ST_BOOL: return OID_BOOL;
    case ST_BLOB: return OID_BYTEA;
    default: return 0; /* text and NULL: let the server infer from context */
    }
}

static int prepare(struct pg *p, const char *sql, const store_val *args, int nargs,
                   struct cached **out)
{
    size_t n = strlen(sql);
    uint64_t h = store_hash(sql, n);
    unsigned slot = (unsigned)h & (CACHE_SLOTS - 1);
    for (;;) {
        struct cached *c = &p->cache[slot];
        if (!c->sql) break;
        if (c->hash == h && strcmp(c->sql, sql) == 0) {
            *out = c;
            return 0;
        }
        slot = (slot + 1) & (CACHE_SLOTS - 1);
    }
    int np = store_max_placeholder(sql);
    if (np > MAX_PARAMS) {
        store_set_error(&p->base, "too many parameters");
        return QL_EINVAL;
    }
    if (p->ncached >= CACHE_MAX) {
        cache_clear(p, 1);
        slot = (unsigned)h & (CACHE_SLOTS - 1);
    }
    /* Declare the types of the parameters given (the rest are inferred);
     * a statement is prepared once, with the types of its first use. */
    Oid types[MAX_PARAMS];
    for (int i = 0; i < np; i++) types[i] = i < nargs ? param_type(&args[i]) : 0;
    char name[24];
    snprintf(name, sizeof name, "q%lu", ++p->next_name);
    PGresult *r = PQprepare(p->conn, name, sql, np, types);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = map_error(p, r);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    struct cached *c = &p->cache[slot];
    c->hash = h;
    c->sql = xstrndup(sql, n);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->nparams = np;
    p->ncached++;
    *out = c;
    return 0;
}

/* Converts args to libpq's arrays. Text goes as text, blobs as binary.
 * Strings the conversion creates are kept in scratch (freed by the caller). */
static int convert(struct pg *p, struct cached *c, const store_val *args, int nargs,
                   const char **values, int *lengths, int *formats, buf *scratch,
                   size_t *offsets)
{
    if (nargs != c->nparams) {
        char msg[128];
        snprintf(msg, sizeof msg, "statement takes %d parameters, %d given", c->nparams, nargs);
        store_set_error(&p->base, msg);
        return QL_EINVAL;
    }
    /* First pass: write converted values into scratch and remember offsets
     * (scratch may move while it grows). */
    for (int i = 0; i < nargs; i++) {
        const store_val *v = &args[i];
        offsets[i] = SIZE_MAX;
        lengths[i] = 0;
        formats[i] = 0;
        switch (v->type) {
        case ST_INT:
            offsets[i] = scratch->len;
            buf_printf(scratch, "%" PRId64, v->i);
            buf_putc(scratch, '\0');
            break;
        case ST_BOOL:
            offsets[i] = scratch->len;
            buf_puts(scratch, v->i ? "t" : "f");
            buf_putc(scratch, '\0');
            break;
        case ST_TEXT: {
            size_t len = v->n == SIZE_MAX ? strlen(v->p) : v->n;
            if (memchr(v->p, '\0', len)) {
                store_set_error(&p->base, "text parameter contains a NUL byte");
                return QL_EINVAL;
            }
            offsets[i] = scratch->len;
            buf_append(scratch, v->p, len);
            buf_putc(scratch, '\0');
            break;
        }
        case ST_BLOB:
            formats[i] = 1;
            lengths[i] = (int)v->n;
            break;
        case ST_NULL: break;
        }
    }
    for (int i = 0; i < nargs; i++) {
        if (args[i].type == ST_BLOB) values[i] = args[i].p ? args[i].p : "";
        else if (offsets[i] == SIZE_MAX) values[i] = NULL;
        else values[i] = scratch->data + offsets[i];
    }
    return 0;
}

struct call {
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    size_t offsets[MAX_PARAMS];
    buf scratch;
};

static int pg_begin_call(struct pg *p, const char *sql, const store_val *args, int nargs,
                         struct cached **c, struct call *call)
{
    int rc = ensure_connected(p);
    if (rc) return rc;
    rc = prepare(p, sql, args, nargs, c);
    if (rc) return rc;
    buf_init(&call->scratch, 0);
    rc = convert(p, *c, args, nargs, call->values, call->lengths, call->formats, &call->scratch,
                 call->offsets);
    if (rc) buf_free(&call->scratch);
    return rc;
}

static int pg_exec(store *s, const char *sql, const store_val *args, int nargs, int64_t *changes)
{
    struct pg *p = (struct pg *)s;
    struct cached *c;
    struct call call;
    int rc = pg_begin_call(p, sql, args, nargs, &c, &call);
    if (rc) return rc;
    PGresult *r = PQexecPrepared(p->conn, c->name, nargs, call.values, call.lengths,
                                 call.formats, 0);
    buf_free(&call.scratch);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (changes) {
            const char *t = PQcmdTuples(r);
            *changes = *t ? strtoll(t, NULL, 10) : 0;
        }
    } else {
        rc = map_error(p, r);
    }
    PQclear(r);
    return rc;
}

static int pg_query(store *s, const char *sql, const store_val *args, int nargs,
                    store_rows **out)
{
    struct pg *p = (struct pg *)s;
    struct cached *c;
    struct call call;
    int rc = pg_begin_call(p, sql, args, nargs, &c, &call);
    if (rc) return rc;
    int ok = PQsendQueryPrepared(p->conn, c->name, nargs, call.values, call.lengths,
                                 call.formats, 0);
    buf_free(&call.scratch);
    if (!ok) return map_error(p, NULL);
    PQsetSingleRowMode(p->conn);
    p->rows.base.s = s;
    p->rows.res = NULL;
    p->rows.blob = NULL;
    p->rows.done = 0;
    *out = &p->rows.base;
    return 0;
}

static void drop_row(struct pg_rows *r)
{
    PQclear(r->res);
    r->res = NULL;
    PQfreemem(r->blob);
    r->blob = NULL;
}

/* Reads and discards what is left of the current command's results. */
static void drain(struct pg *p)
{
    PGresult *r;
    while ((r = PQgetResult(p->conn)) != NULL) PQclear(r);
}

static int pg_step(store_rows *rows)
{
    struct pg_rows *r = (struct pg_rows *)rows;
    struct pg *p = (struct pg *)rows->s;
    drop_row(r);
    if (r->done) return 0;
    PGresult *res = PQgetResult(p->conn);
    if (!res) {
        r->done = 1;
        return 0;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_SINGLE_TUPLE) {
        r->res = res;
        return 1;
    }
    r->done = 1;
    int rc = 0;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) rc = map_error(p, res);
    PQclear(res);
    drain(p);
    return rc;
}

static int pg_ncols(const store_rows *rows)
{
    const struct pg_rows *r = (const struct pg_rows *)rows;
    return r->res ? PQnfields(r->res) : 0;
}

static int pg_isnull(const store_rows *rows, int col)
{
    const struct pg_rows *r = (const struct pg_rows *)rows;
    return !r->res || col >= PQnfields(r->res) || PQgetisnull(r->res, 0, col);
}

static int64_t pg_col_int(const store_rows *rows, int col)
{
    const struct pg_rows *r = (const struct pg_rows *)rows;
    if (pg_isnull(rows, col)) return 0;
    const char *v = PQgetvalue(r->res, 0, col);
    if (v[0] == 't' && !v[1]) return 1;
    if (v[0] == 'f' && !v[1]) return 0;
    return strtoll(v, NULL, 10);
}

static const char *pg_col_text(const store_rows *rows, int col, size_t *len)
{
    const struct pg_rows *r = (const struct pg_rows *)rows;
    if (pg_isnull(rows, col)) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = (size_t)PQgetlength(r->res, 0, col);
    return PQgetvalue(r->res, 0, col);
}

static const void *pg_col_blob(store_rows *rows, int col, size_t *len)
{
    struct pg_rows *r = (struct pg_rows *)rows;
    *len = 0;
    if (pg_isnull(rows, col)) return NULL;
    PQfreemem(r->blob);
    r->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(r->res, 0, col), len);
    return r->blob;
}

static void pg_rows_close(store_rows *rows)
{
    struct pg_rows *r = (struct pg_rows *)rows;
    struct pg *p = (struct pg *)rows->s;
    drop_row(r);
    if (!r->done) {
        /* Outside a transaction the rest of the stream can be cancelled;
         * inside one a cancel would abort the transaction, so read it out. */
        if (!p->base.in_tx) {
            PGcancel *cancel = PQgetCancel(p->conn);
            char errbuf[256];
            if (cancel) {
                PQcancel(cancel, errbuf, sizeof errbuf);
                PQfreeCancel(cancel);
            }
        }
        drain(p);
        r->done = 1;
    }
}

static int pg_script(store *s, const char *sql)
{
    struct pg *p = (struct pg *)s;
    int rc = ensure_connected(p);
    if (rc) return rc;
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = map_error(p, r);
    PQclear(r);
    return rc;
}

static int pg_begin(store *s, enum store_tx_mode mode)
{
    return pg_exec(s,
                   mode == STORE_TX_WRITE ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                          : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                   NULL, 0, NULL);
}

static int pg_commit(store *s)
{
    return pg_exec(s, "COMMIT", NULL, 0, NULL);
}

static void pg_rollback(store *s)
{
    struct pg *p = (struct pg *)s;
    if (PQstatus(p->conn) != CONNECTION_OK) return;
    if (PQtransactionStatus(p->conn) == PQTRANS_IDLE) return;
    PGresult *r = PQexec(p->conn, "ROLLBACK");
    PQclear(r);
}

static void pg_close(store *s)
{
    struct pg *p = (struct pg *)s;
    cache_clear(p, 0);
    PQfinish(p->conn);
    free(p);
}

static const struct store_ops pg_ops = {
    .exec = pg_exec,
    .query = pg_query,
    .step = pg_step,
    .ncols = pg_ncols,
    .isnull = pg_isnull,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .rows_close = pg_rows_close,
    .script = pg_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .close = pg_close,
};

int store_pg_open(const char *url, const store_opts *opts, store **out, ql_err *err)
{
    /* Session settings go with the connection parameters, so that PQreset
     * after a lost connection applies them again. */
    static const char *const keys[] = {"dbname", "client_encoding", "options",
                                        "application_name", NULL};
    const char *const vals[] = {url, "UTF8", "-c TimeZone=Asia/Shanghai", "qianlima", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", conn ? PQerrorMessage(conn) : "out of memory");
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
        PQfinish(conn);
        /* The URL may hold a password: name the field, not the value. */
        return ql_errf(err, QL_EUNAVAIL, "store.url", "cannot connect to PostgreSQL: %s",
                       "无法连接 PostgreSQL：%s", msg);
    }
    PQsetNoticeProcessor(conn, notice_to_log, NULL);
    struct pg *p = xcalloc(1, sizeof *p);
    p->base.ops = &pg_ops;
    p->base.kind = STORE_POSTGRES;
    p->base.opts = *opts;
    p->conn = conn;
    *out = &p->base;
    return 0;
}
