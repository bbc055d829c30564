/* migrate.c - numbered migrations per dialect (sql/sqlite, sql/postgres),
 * compiled into the binary, applied in one transaction and recorded in
 * schema_version with a checksum of each file. */
#include "store/store_impl.h"

#include "core/embed.h"
#include "core/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MIGRATIONS 256
#define MIGRATE_LOCK "7316580019" /* advisory lock key for migrations on PostgreSQL */

struct migration {
    int version;
    char name[64];
    const char *sql;
    char checksum[17];
};

static const char *dialect_dir(const store *s)
{
    return s->kind == STORE_POSTGRES ? "sql/postgres/" : "sql/sqlite/";
}

static int by_version(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* Lists the embedded migrations of s's dialect in version order. Returns the
 * count, or -1 if a file name is malformed or a version repeats. */
static int list_migrations(const store *s, struct migration *out, int max)
{
    const char *dir = dialect_dir(s);
    size_t dlen = strlen(dir);
    int n = 0;
    for (unsigned long i = 0; i < embedded_count; i++) {
        const struct embedded_file *f = &embedded_files[i];
        if (strncmp(f->path, dir, dlen) != 0) continue;
        const char *base = f->path + dlen;
        char *end;
        long v = strtol(base, &end, 10);
        if (end == base || *end != '_' || v <= 0 || v > 100000 || n >= max) return -1;
        const char *dot = strstr(end + 1, ".sql");
        if (!dot) return -1;
        struct migration *m = &out[n++];
        m->version = (int)v;
        snprintf(m->name, sizeof m->name, "%.*s", (int)(dot - end - 1), end + 1);
        m->sql = f->data;
        snprintf(m->checksum, sizeof m->checksum, "%016" PRIx64, store_hash(f->data, f->len));
    }
    qsort(out, (size_t)n, sizeof *out, by_version);
    for (int i = 1; i < n; i++)
        if (out[i].version == out[i - 1].version) return -1;
    return n;
}

int store_schema_latest(const store *s)
{
    struct migration ms[MAX_MIGRATIONS];
    int n = list_migrations(s, ms, MAX_MIGRATIONS);
    return n > 0 ? ms[n - 1].version : 0;
}

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)";

struct mctx {
    struct migration *ms;
    int n;
    int applied;
    ql_err *err;
};

static void now_text(char *out, size_t n)
{
    time_t t = time(NULL) + 8 * 3600; /* Asia/Shanghai */
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

static int migrate_body(store *s, void *arg)
{
    struct mctx *x = arg;
    x->applied = 0;
    int rc = store_script(s, create_table);
    if (rc) return rc;

    /* Compare what the database has applied with what the binary knows. */
    store_rows *r;
    rc = store_query(s, "SELECT version, name, checksum FROM schema_version ORDER BY version",
                     NULL, 0, &r);
    if (rc) return rc;
    int done_max = 0;
    while ((rc = store_step(r)) == 1) {
        int v = (int)store_col_int(r, 0);
        const char *sum = store_col_text(r, 2, NULL);
        if (v > done_max) done_max = v;
        const struct migration *m = NULL;
        for (int i = 0; i < x->n; i++)
            if (x->ms[i].version == v) m = &x->ms[i];
        if (m && strcmp(m->checksum, sum) != 0) {
            rc = ql_errf(x->err, QL_ECONFLICT, "schema_version",
                         "migration %04d_%s was changed after it was applied to this database "
                         "(checksum %s, file now %s); add a new migration instead",
                         "迁移 %04d_%s 在应用到本数据库之后被修改（原校验和 %s，现为 %s）；"
                         "请新增迁移而不是修改旧迁移",
                         v, m->name, sum, m->checksum);
            break;
        }
    }
    store_rows_close(r);
    if (rc < 0) return rc;
    int latest = x->n ? x->ms[x->n - 1].version : 0;
    if (done_max > latest)
        return ql_errf(x->err, QL_ECONFLICT, "schema_version",
                       "the database is at schema version %d, newer than this binary knows (%d); "
                       "run a newer qianlima",
                       "数据库结构版本为 %d，高于本程序所知的版本 %d；请使用更新的 qianlima", done_max,
                       latest);

    char now[40];
    now_text(now, sizeof now);
    for (int i = 0; i < x->n; i++) {
        const struct migration *m = &x->ms[i];
        int64_t have = 0;
        rc = store_query_int(s, "SELECT count(*) FROM schema_version WHERE version = $1",
                             (store_val[]){SV_INT(m->version)}, 1, &have);
        if (rc) return rc;
        if (have) continue;
        rc = store_script(s, m->sql);
        if (rc) {
            if (rc == QL_EBUSY) return rc;
            return ql_errf(x->err, rc, "schema_version", "migration %04d_%s failed: %s",
                           "迁移 %04d_%s 失败：%s", m->version, m->name, store_errmsg(s));
        }
        rc = store_exec(s,
                        "INSERT INTO schema_version (version, name, checksum, applied_at) "
                        "VALUES ($1, $2, $3, $4)",
                        (store_val[]){SV_INT(m->version), SV_TEXT(m->name), SV_TEXT(m->checksum),
                                      SV_TEXT(now)},
                        4, NULL);
        if (rc) return rc;
        x->applied++;
    }
    return 0;
}

int store_migrate(store *s, int *applied, ql_err *err)
{
    struct migration ms[MAX_MIGRATIONS];
    int n = list_migrations(s, ms, MAX_MIGRATIONS);
    if (n < 0)
        return ql_errf(err, QL_EINTERNAL, "schema_version",
                       "the migrations compiled into this binary are malformed "
                       "(names must be NNNN_name.sql with unique numbers)",
                       "程序内置的迁移文件不合规（文件名应为 NNNN_名称.sql 且编号唯一）");
    struct mctx x = {.ms = ms, .n = n, .err = err};
    ql_err_clear(err);
    int rc;
    if (s->kind == STORE_POSTGRES) {
        /* Several processes may start at once: one migrates at a time. The
         * lock is taken before the transaction begins, so the transaction's
         * snapshot sees what the previous holder committed. */
        rc = store_exec(s, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", NULL, 0, NULL);
        if (rc)
            return ql_errf(err, rc, "schema_version", "cannot lock for migration: %s",
                           "无法获得迁移锁：%s", store_errmsg(s));
    }
    rc = store_tx(s, STORE_TX_WRITE, migrate_body, &x);
    if (s->kind == STORE_POSTGRES)
        store_exec(s, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", NULL, 0, NULL);
    if (rc && err && !err->en[0])
        ql_errf(err, rc, "schema_version", "migration failed: %s", "迁移失败：%s",
                store_errmsg(s));
    if (applied) *applied = rc ? 0 : x.applied;
    if (rc == 0 && x.applied)
        log_info("store: applied %d migration(s), schema now at version %d", x.applied,
                 n ? ms[n - 1].version : 0);
    return rc;
}

struct sctx {
    struct migration *ms;
    int n;
    void (*fn)(const struct store_migration_status *, void *);
    void *ctx;
};

static int status_body(store *s, void *arg)
{
    struct sctx *x = arg;
    int64_t exists = 0;
    int rc;
    if (s->kind == STORE_POSTGRES)
        rc = store_query_int(s, "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_version'",
                             NULL, 0, &exists);
    else
        rc = store_query_int(
            s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
            NULL, 0, &exists);
    if (rc) return rc;
    for (int i = 0; i < x->n; i++) {
        struct store_migration_status st = {.version = x->ms[i].version, .name = x->ms[i].name};
        if (exists) {
            store_rows *r;
            rc = store_query(s, "SELECT applied_at FROM schema_version WHERE version = $1",
                             (store_val[]){SV_INT(st.version)}, 1, &r);
            if (rc) return rc;
            rc = store_step(r);
            if (rc == 1) {
                st.applied = 1;
                snprintf(st.applied_at, sizeof st.applied_at, "%s", store_col_text(r, 0, NULL));
            }
            store_rows_close(r);
            if (rc < 0) return rc;
        }
        x->fn(&st, x->ctx);
    }
    return 0;
}

int store_migrate_status(store *s, void (*fn)(const struct store_migration_status *, void *),
                         void *ctx, ql_err *err)
{
    struct migration ms[MAX_MIGRATIONS];
    int n = list_migrations(s, ms, MAX_MIGRATIONS);
    if (n < 0)
        return ql_errf(err, QL_EINTERNAL, "schema_version", "malformed embedded migrations",
                       "程序内置的迁移文件不合规");
    struct sctx x = {.ms = ms, .n = n, .fn = fn, .ctx = ctx};
    int rc = store_tx(s, STORE_TX_READ, status_body, &x);
    if (rc)
        ql_errf(err, rc, "schema_version", "cannot read schema_version: %s",
                "无法读取 schema_version：%s", store_errmsg(s));
    return rc;
}
