/* sqlite.c - the SQLite backend: WAL, foreign keys, busy timeout, a cache of
 * prepared statements, $1..$n bound by name. */
#include "store/store_impl.h"

#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_SLOTS 256 /* power of two */
#define CACHE_MAX 192   /* entries before the cache is emptied */
#define MAX_PARAMS 999

struct cached {
    uint64_t hash;
    char *sql;
    sqlite3_stmt *st;
    int nparams;
    int *map; /* map[i] = SQLite index of "$<i+1>" */
};

struct lite_rows {
    struct store_rows base;
    struct cached *c;
    int done; /* sqlite3_step after SQLITE_DONE would run the statement again */
};

struct lite {
    struct store base;
    sqlite3 *db;
    struct cached cache[CACHE_SLOTS];
    int ncached;
    struct lite_rows rows;
};

static int map_error(struct lite *l, int rc)
{
    store_set_error(&l->base, sqlite3_errmsg(l->db));
    int ext = sqlite3_extended_errcode(l->db);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return QL_EBUSY;
    case SQLITE_CONSTRAINT:
        if (ext == SQLITE_CONSTRAINT_CHECK || ext == SQLITE_CONSTRAINT_NOTNULL) return QL_EINVAL;
        return QL_ECONFLICT;
    default: return QL_EDB;
    }
}

static void cache_clear(struct lite *l)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct cached *c = &l->cache[i];
        if (!c->sql) continue;
        sqlite3_finalize(c->st);
        free(c->sql);
        free(c->map);
        memset(c, 0, sizeof *c);
    }
    l->ncached = 0;
}

/* Returns the cached statement for sql, preparing it on first use. */
static int prepare(struct lite *l, const char *sql, struct cached **out)
{
    size_t n = strlen(sql);
    uint64_t h = store_hash(sql, n);
    unsigned slot = (unsigned)h & (CACHE_SLOTS - 1);
    for (;;) {
        struct cached *c = &l->cache[slot];
        if (!c->sql) break;
        if (c->hash == h && strcmp(c->sql, sql) == 0) {
            *out = c;
            return 0;
        }
        slot = (slot + 1) & (CACHE_SLOTS - 1);
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v3(l->db, sql, (int)n, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) return map_error(l, rc);
    if (!st) {
        store_set_error(&l->base, "empty statement");
        return QL_EINVAL;
    }
    int np = sqlite3_bind_parameter_count(st);
    int *map = xcalloc((size_t)np + 1, sizeof *map);
    for (int i = 0; i < np; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        map[i] = sqlite3_bind_parameter_index(st, name);
        if (map[i] == 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "statement must use placeholders $1..$%d in order", np);
            store_set_error(&l->base, msg);
            sqlite3_finalize(st);
            free(map);
            return QL_EINVAL;
        }
    }
    if (l->ncached >= CACHE_MAX) {
        cache_clear(l);
        slot = (unsigned)h & (CACHE_SLOTS - 1);
    }
    struct cached *c = &l->cache[slot];
    c->hash = h;
    c->sql = xstrndup(sql, n);
    c->st = st;
    c->nparams = np;
    c->map = map;
    l->ncached++;
    *out = c;
    return 0;
}

static int bind(struct lite *l, struct cached *c, const store_val *args, int nargs, int copy)
{
    if (nargs != c->nparams) {
        char msg[128];
        snprintf(msg, sizeof msg, "statement takes %d parameters, %d given", c->nparams, nargs);
        store_set_error(&l->base, msg);
        return QL_EINVAL;
    }
    sqlite3_destructor_type how = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
    for (int i = 0; i < nargs; i++) {
        int idx = c->map[i], rc;
        const store_val *v = &args[i];
        switch (v->type) {
        case ST_NULL: rc = sqlite3_bind_null(c->st, idx); break;
        case ST_INT:
        case ST_BOOL: rc = sqlite3_bind_int64(c->st, idx, v->i); break;
        case ST_TEXT: {
            size_t len = v->n == SIZE_MAX ? strlen(v->p) : v->n;
            if (memchr(v->p, '\0', len)) {
                /* PostgreSQL cannot store it either: refuse on both. */
                sqlite3_clear_bindings(c->st);
                store_set_error(&l->base, "text parameter contains a NUL byte");
                return QL_EINVAL;
            }
            rc = sqlite3_bind_text64(c->st, idx, v->p, len, how, SQLITE_UTF8);
            break;
        }
        case ST_BLOB: rc = sqlite3_bind_blob64(c->st, idx, v->p ? v->p : "", v->n, how); break;
        default: rc = SQLITE_MISUSE;
        }
        if (rc != SQLITE_OK) {
            sqlite3_clear_bindings(c->st);
            return map_error(l, rc);
        }
    }
    return 0;
}

static void finish(struct cached *c)
{
    sqlite3_reset(c->st);
    sqlite3_clear_bindings(c->st);
}

static int lite_exec(store *s, const char *sql, const store_val *args, int nargs, int64_t *changes)
{
    struct lite *l = (struct lite *)s;
    struct cached *c;
    int rc = prepare(l, sql, &c);
    if (rc) return rc;
    rc = bind(l, c, args, nargs, 0);
    if (rc) return rc;
    int src;
    while ((src = sqlite3_step(c->st)) == SQLITE_ROW) {}
    if (src != SQLITE_DONE) rc = map_error(l, src);
    else if (changes) *changes = sqlite3_changes64(l->db);
    finish(c);
    return rc;
}

static int lite_query(store *s, const char *sql, const store_val *args, int nargs,
                      store_rows **out)
{
    struct lite *l = (struct lite *)s;
    struct cached *c;
    int rc = prepare(l, sql, &c);
    if (rc) return rc;
    rc = bind(l, c, args, nargs, 1);
    if (rc) return rc;
    l->rows.base.s = s;
    l->rows.c = c;
    l->rows.done = 0;
    *out = &l->rows.base;
    return 0;
}

static int lite_step(store_rows *r)
{
    struct lite_rows *lr = (struct lite_rows *)r;
    if (lr->done) return 0;
    int rc = sqlite3_step(lr->c->st);
    if (rc == SQLITE_ROW) return 1;
    lr->done = 1;
    if (rc == SQLITE_DONE) return 0;
    return map_error((struct lite *)r->s, rc);
}

static int lite_ncols(const store_rows *r)
{
    return sqlite3_column_count(((const struct lite_rows *)r)->c->st);
}

static int lite_isnull(const store_rows *r, int col)
{
    return sqlite3_column_type(((const struct lite_rows *)r)->c->st, col) == SQLITE_NULL;
}

static int64_t lite_col_int(const store_rows *r, int col)
{
    return sqlite3_column_int64(((const struct lite_rows *)r)->c->st, col);
}

static const char *lite_col_text(const store_rows *r, int col, size_t *len)
{
    sqlite3_stmt *st = ((const struct lite_rows *)r)->c->st;
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (len) *len = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
    return t ? t : "";
}

static const void *lite_col_blob(store_rows *r, int col, size_t *len)
{
    sqlite3_stmt *st = ((struct lite_rows *)r)->c->st;
    const void *b = sqlite3_column_blob(st, col);
    *len = b ? (size_t)sqlite3_column_bytes(st, col) : 0;
    return b;
}

static void lite_rows_close(store_rows *r)
{
    finish(((struct lite_rows *)r)->c);
}

static int lite_script(store *s, const char *sql)
{
    struct lite *l = (struct lite *)s;
    char *msg = NULL;
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int code = map_error(l, rc);
        if (msg) store_set_error(s, msg); /* more precise than sqlite3_errmsg here */
        sqlite3_free(msg);
        return code;
    }
    return 0;
}

static int lite_begin(store *s, enum store_tx_mode mode)
{
    return lite_exec(s, mode == STORE_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", NULL, 0, NULL);
}

static int lite_commit(store *s)
{
    return lite_exec(s, "COMMIT", NULL, 0, NULL);
}

static void lite_rollback(store *s)
{
    struct lite *l = (struct lite *)s;
    if (!sqlite3_get_autocommit(l->db)) lite_exec(s, "ROLLBACK", NULL, 0, NULL);
}

static void lite_close(store *s)
{
    struct lite *l = (struct lite *)s;
    lite_rollback(s);
    cache_clear(l);
    sqlite3_close_v2(l->db);
    free(l);
}

static int64_t lite_last_id(store *s)
{
    return sqlite3_last_insert_rowid(((struct lite *)s)->db);
}

static const struct store_ops lite_ops = {
    .exec = lite_exec,
    .query = lite_query,
    .step = lite_step,
    .ncols = lite_ncols,
    .isnull = lite_isnull,
    .col_int = lite_col_int,
    .col_text = lite_col_text,
    .col_blob = lite_col_blob,
    .rows_close = lite_rows_close,
    .script = lite_script,
    .begin = lite_begin,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .close = lite_close,
    .last_id = lite_last_id,
};

/* Process-wide settings, applied once before the first connection:
 * without memory statistics SQLite takes no global mutex per allocation. */
static void configure_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Creates the database file readable by its owner only, before SQLite
 * would create it 0644 less the umask: it holds the accounts, the audit log
 * and sealed personal data. SQLite gives its -wal and -shm files the
 * database file's mode. An existing file is left as it is. */
static int create_private(const char *path, ql_err *err)
{
    if (!strcmp(path, ":memory:") || !strncmp(path, "file:", 5) || !*path) return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) return close(fd) == 0 ? 0 : QL_EUNAVAIL;
    if (errno == EEXIST) return 0;
    return ql_errf(err, QL_EUNAVAIL, "store.url", "cannot create SQLite database '%s': %s",
                   "无法创建 SQLite 数据库“%s”：%s", path, strerror(errno));
}

int store_sqlite_open(const char *path, const store_opts *opts, store **out, ql_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_once);
    if (create_private(path, err)) return QL_EUNAVAIL;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        ql_errf(err, QL_EUNAVAIL, "store.url", "cannot open SQLite database '%s': %s",
                "无法打开 SQLite 数据库“%s”：%s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return QL_EUNAVAIL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, (int)opts->busy_timeout_ms);
    struct lite *l = xcalloc(1, sizeof *l);
    l->base.ops = &lite_ops;
    l->base.kind = STORE_SQLITE;
    l->base.opts = *opts;
    l->db = db;
    /* WAL lets readers work while one writer commits; FULL makes each commit
     * durable against power loss, which the ledger needs. */
    static const char *const pragmas = "PRAGMA journal_mode=WAL;"
                                       "PRAGMA synchronous=FULL;"
                                       "PRAGMA foreign_keys=ON;";
    rc = lite_script(&l->base, pragmas);
    if (rc) {
        ql_errf(err, rc, "store.url", "cannot set up SQLite database '%s': %s",
                "无法初始化 SQLite 数据库“%s”：%s", path, l->base.errmsg);
        lite_close(&l->base);
        return rc;
    }
    *out = &l->base;
    return 0;
}
