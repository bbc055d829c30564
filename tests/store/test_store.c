/* test_store.c - the store contract: the same cases run against SQLite and,
 * when QL_TEST_PG names a database, against PostgreSQL (tests/run.sh runs
 * this program once for each). */
#include "testutil.h"

#include "store/store.h"
#include "store/store_impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static store *open_fresh(void)
{
    store *s = NULL;
    ql_err err = {0};
    int rc = store_open(tu_fresh_store_url(), NULL, &s, &err);
    if (rc) fail_msg("store_open: %s", err.en);
    return s;
}

static store *open_same(const char *url, long busy_ms, long retries)
{
    store *s = NULL;
    ql_err err = {0};
    store_opts o = {.busy_timeout_ms = busy_ms, .retries = retries};
    if (store_open(url, &o, &s, &err)) fail_msg("store_open: %s", err.en);
    return s;
}

static void exec_ok(store *s, const char *sql)
{
    int rc = store_exec(s, sql, NULL, 0, NULL);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(s));
}

static int64_t count_rows(store *s, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    int64_t n = -1;
    int rc = store_query_int(s, sql, NULL, 0, &n);
    if (rc) fail_msg("%s: %s", sql, store_errmsg(s));
    return n;
}

static void test_placeholders(void **state)
{
    (void)state;
    assert_int_equal(store_max_placeholder("SELECT 1"), 0);
    assert_int_equal(store_max_placeholder("SELECT $1, $2 WHERE a = $2"), 2);
    assert_int_equal(store_max_placeholder("SELECT '$9', \"$8\" -- $7\n, $3 /* $6 */"), 3);
    assert_int_equal(store_max_placeholder("SELECT 'it''s $5' || $12"), 12);
    assert_int_equal(store_max_placeholder("SELECT '$1"), 0); /* unterminated string */
}

static void test_open_and_kind(void **state)
{
    (void)state;
    store *s = open_fresh();
    assert_int_equal(store_kind_of(s), tu_pg_url() ? STORE_POSTGRES : STORE_SQLITE);
    assert_string_equal(store_kind_name(s), tu_pg_url() ? "postgres" : "sqlite");
    assert_int_equal(store_ping(s), 0);
    store_close(s);
}

static void test_open_errors(void **state)
{
    (void)state;
    store *s = (store *)1;
    ql_err err = {0};
    int rc = store_open("/nonexistent-dir/sub/x.db", NULL, &s, &err);
    assert_int_equal(rc, QL_EUNAVAIL);
    assert_null(s);
    assert_string_equal(err.field, "store.url");
    assert_non_null(strstr(err.en, "/nonexistent-dir/sub/x.db"));
    assert_true(strlen(err.zh) > 0);

    char path[400];
    snprintf(path, sizeof path, "%s/not-a-db.db", tu_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("this is a text file, not a database, and it is long enough to have a header", f);
    fclose(f);
    rc = store_open(path, NULL, &s, &err);
    assert_true(rc < 0);

    rc = store_open("postgres://qluser:secret-pw@127.0.0.1:1/none?connect_timeout=2", NULL, &s,
                    &err);
    assert_int_equal(rc, QL_EUNAVAIL);
    assert_null(strstr(err.en, "secret-pw"));
    assert_non_null(strstr(err.en, "PostgreSQL"));

    rc = store_open("", NULL, &s, &err);
    assert_int_equal(rc, QL_EINVAL);
}

static void test_url_kind(void **state)
{
    (void)state;
    assert_true(store_url_is_postgres("postgres://u@h/db"));
    assert_true(store_url_is_postgres("postgresql://u@h/db"));
    assert_false(store_url_is_postgres("var/qianlima.db"));
    assert_false(store_url_is_postgres("postgres.db"));
}

static int nstatus, last_version;
static void on_status(const struct store_migration_status *st, void *ctx)
{
    (void)ctx;
    nstatus++;
    assert_true(st->version > last_version); /* in order; numbers may skip */
    last_version = st->version;
    assert_true(st->applied);
    assert_true(strlen(st->applied_at) >= 19);
}

static void test_migrate(void **state)
{
    (void)state;
    store *s = open_fresh();
    ql_err err = {0};
    int applied = -1;
    assert_int_equal(store_migrate(s, &applied, &err), 0);
    assert_true(applied >= 1);
    assert_int_equal(count_rows(s, "schema_version"), applied);
    assert_int_equal(count_rows(s, "app_setting"), 0);
    /* A second run finds nothing to do. */
    assert_int_equal(store_migrate(s, &applied, &err), 0);
    assert_int_equal(applied, 0);
    /* Every migration the binary knows was applied, up to the latest. */
    nstatus = last_version = 0;
    assert_int_equal(store_migrate_status(s, on_status, NULL, &err), 0);
    assert_int_equal(nstatus, count_rows(s, "schema_version"));
    assert_int_equal(last_version, store_schema_latest(s));
    store_close(s);
}

static void test_migrate_refuses_newer_schema(void **state)
{
    (void)state;
    store *s = open_fresh();
    ql_err err = {0};
    assert_int_equal(store_migrate(s, NULL, &err), 0);
    exec_ok(s, "INSERT INTO schema_version (version, name, checksum, applied_at) "
               "VALUES (99999, 'future', 'x', '2030-01-01T00:00:00+08:00')");
    assert_int_equal(store_migrate(s, NULL, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "newer"));
    assert_non_null(strstr(err.en, "99999"));
    store_close(s);
}

/* A database that has a later migration but not an earlier one (0006
 * applied by a binary that had no 0005 yet) gets the earlier one on the
 * next run, and nothing else. */
static void test_migrate_fills_a_gap(void **state)
{
    (void)state;
    store *s = open_fresh();
    ql_err err = {0};
    assert_int_equal(store_migrate(s, NULL, &err), 0);
    int64_t all = count_rows(s, "schema_version");
    const char *has_index =
        store_kind_of(s) == STORE_POSTGRES
            ? "SELECT count(*) FROM pg_indexes WHERE indexname = 'talents_education_level'"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
              "'talents_education_level'";
    int64_t n = -1;
    assert_int_equal(store_query_int(s, has_index, NULL, 0, &n), 0);
    assert_int_equal(n, 1);
    /* As main's binary left it: 0006 applied, 0005 never. */
    exec_ok(s, "DROP INDEX talents_employer_education");
    exec_ok(s, "DROP INDEX talents_employer_level");
    exec_ok(s, "DROP INDEX talents_education_level");
    exec_ok(s, "DELETE FROM schema_version WHERE version = 5");
    assert_int_equal(count_rows(s, "schema_version"), all - 1);
    int applied = -1;
    assert_int_equal(store_migrate(s, &applied, &err), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(count_rows(s, "schema_version"), all);
    assert_int_equal(store_query_int(s, has_index, NULL, 0, &n), 0);
    assert_int_equal(n, 1);
    store_close(s);
}

static void test_migrate_detects_edited_migration(void **state)
{
    (void)state;
    store *s = open_fresh();
    ql_err err = {0};
    assert_int_equal(store_migrate(s, NULL, &err), 0);
    exec_ok(s, "UPDATE schema_version SET checksum = '0000000000000000' WHERE version = 1");
    assert_int_equal(store_migrate(s, NULL, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "changed after it was applied"));
    store_close(s);
}

static void test_typed_binding(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, n BIGINT, txt TEXT, b BYTEA, f BOOLEAN)");
    const unsigned char blob[] = {0, 1, 2, 255, 0, 7};
    const char *zh = "千里马 人才租房补贴 ✓";
    int64_t changes = 0;
    int rc = store_exec(s, "INSERT INTO t (id, n, txt, b, f) VALUES ($1, $2, $3, $4, $5)",
                        (store_val[]){SV_INT(1), SV_INT(INT64_MAX), SV_TEXT(zh),
                                      SV_BLOB(blob, sizeof blob), SV_BOOL(1)},
                        5, &changes);
    assert_int_equal(rc, 0);
    assert_int_equal(changes, 1);
    rc = store_exec(s, "INSERT INTO t (id, n, txt, b, f) VALUES ($1, $2, $3, $4, $5)",
                    (store_val[]){SV_INT(2), SV_INT(INT64_MIN), SV_TEXTN("abcdef", 3), SV_NULL,
                                  SV_BOOL(0)},
                    5, NULL);
    assert_int_equal(rc, 0);

    store_rows *r;
    assert_int_equal(store_query(s, "SELECT id, n, txt, b, f FROM t WHERE id >= $1 ORDER BY id",
                                 (store_val[]){SV_INT(1)}, 1, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    assert_int_equal(store_ncols(r), 5);
    assert_int_equal(store_col_int(r, 0), 1);
    assert_true(store_col_int(r, 1) == INT64_MAX);
    size_t len;
    assert_string_equal(store_col_text(r, 2, &len), zh);
    assert_int_equal(len, strlen(zh));
    const void *b = store_col_blob(r, 3, &len);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(b, blob, sizeof blob);
    assert_int_equal(store_col_int(r, 4), 1);
    assert_false(store_col_isnull(r, 3));

    assert_int_equal(store_step(r), 1);
    assert_true(store_col_int(r, 1) == INT64_MIN);
    assert_string_equal(store_col_text(r, 2, NULL), "abc");
    assert_true(store_col_isnull(r, 3));
    assert_string_equal(store_col_text(r, 3, NULL), "");
    assert_int_equal(store_col_int(r, 3), 0);
    assert_int_equal(store_col_int(r, 4), 0);
    assert_int_equal(store_step(r), 0);
    store_rows_close(r);

    /* The same parameter may appear twice. */
    int64_t v = 0;
    assert_int_equal(store_query_int(s, "SELECT count(*) FROM t WHERE id = $1 OR n = $1",
                                     (store_val[]){SV_INT(2)}, 1, &v),
                     0);
    assert_int_equal(v, 1);
    store_close(s);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, txt TEXT)");
    /* Too few and too many parameters are refused alike on both backends. */
    assert_int_equal(store_exec(s, "INSERT INTO t (id, txt) VALUES ($1, $2)",
                                (store_val[]){SV_INT(1)}, 1, NULL),
                     QL_EINVAL);
    assert_int_equal(store_exec(s, "INSERT INTO t (id) VALUES ($1)",
                                (store_val[]){SV_INT(1), SV_INT(2)}, 2, NULL),
                     QL_EINVAL);
    assert_non_null(strstr(store_errmsg(s), "parameters"));
    /* Text with a NUL byte cannot be stored faithfully: refused. */
    assert_int_equal(store_exec(s, "INSERT INTO t (id, txt) VALUES ($1, $2)",
                                (store_val[]){SV_INT(1), SV_TEXTN("a\0b", 3)}, 2, NULL),
                     QL_EINVAL);
    assert_int_equal(count_rows(s, "t"), 0);
    /* A syntax error is a store error. */
    assert_int_equal(store_exec(s, "INSERT INTO nowhere VALUES ($1)", (store_val[]){SV_INT(1)}, 1,
                                NULL),
                     QL_EDB);
    assert_true(strlen(store_errmsg(s)) > 0);
    store_close(s);
}

static void test_constraints(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE parent (id INTEGER PRIMARY KEY)");
    exec_ok(s, "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
               "REFERENCES parent(id), amount BIGINT NOT NULL CHECK (amount >= 0), "
               "key TEXT UNIQUE)");
    exec_ok(s, "INSERT INTO parent (id) VALUES (1)");
    const char *ins = "INSERT INTO child (id, parent_id, amount, key) VALUES ($1, $2, $3, $4)";
    assert_int_equal(store_exec(s, ins,
                                (store_val[]){SV_INT(1), SV_INT(1), SV_INT(100), SV_TEXT("k1")},
                                4, NULL),
                     0);
    assert_int_equal(store_exec(s, ins,
                                (store_val[]){SV_INT(2), SV_INT(1), SV_INT(100), SV_TEXT("k1")},
                                4, NULL),
                     QL_ECONFLICT);
    assert_int_equal(store_exec(s, ins,
                                (store_val[]){SV_INT(3), SV_INT(9), SV_INT(100), SV_TEXT("k3")},
                                4, NULL),
                     QL_ECONFLICT);
    assert_int_equal(store_exec(s, ins,
                                (store_val[]){SV_INT(4), SV_INT(1), SV_INT(-1), SV_TEXT("k4")},
                                4, NULL),
                     QL_EINVAL);
    assert_int_equal(
        store_exec(s, ins, (store_val[]){SV_INT(5), SV_INT(1), SV_NULL, SV_TEXT("k5")}, 4, NULL),
        QL_EINVAL);
    assert_int_equal(count_rows(s, "child"), 1);
    store_close(s);
}

/* store_insert gives the new row's id, QL_ECONFLICT when ON CONFLICT DO
 * NOTHING inserted nothing, and the store's own errors otherwise. */
static void test_insert_id(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE parent (id INTEGER PRIMARY KEY)");
    exec_ok(s, store_kind_of(s) == STORE_POSTGRES
                   ? "CREATE TABLE item (id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
                     "parent_id INTEGER REFERENCES parent(id), n INTEGER CHECK (n >= 0))"
                   : "CREATE TABLE item (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
                     "parent_id INTEGER REFERENCES parent(id), n INTEGER CHECK (n >= 0))");
    exec_ok(s, "INSERT INTO parent (id) VALUES (1)");
    const char *ins = "INSERT INTO item (key, parent_id, n) VALUES ($1, $2, $3) "
                      "ON CONFLICT (key) DO NOTHING";
    int64_t a = 0, b = 0, c = -5;
    assert_int_equal(store_insert(s, ins, (store_val[]){SV_TEXT("a"), SV_INT(1), SV_INT(1)}, 3, &a), 0);
    assert_int_equal(store_insert(s, ins, (store_val[]){SV_TEXT("b"), SV_NULL, SV_INT(2)}, 3, &b), 0);
    assert_true(a > 0 && b > a);
    assert_int_equal(store_query_int(s, "SELECT id FROM item WHERE key = 'b'", NULL, 0, &c), 0);
    assert_int_equal(c, b);
    /* A duplicate key: nothing inserted, the id left alone. */
    c = -5;
    assert_int_equal(store_insert(s, ins, (store_val[]){SV_TEXT("a"), SV_INT(1), SV_INT(3)}, 3, &c),
                     QL_ECONFLICT);
    assert_int_equal(c, -5);
    /* Other constraints fail as store_exec fails. */
    assert_int_equal(store_insert(s, ins, (store_val[]){SV_TEXT("c"), SV_INT(9), SV_INT(1)}, 3, &c),
                     QL_ECONFLICT);
    assert_int_equal(store_insert(s, ins, (store_val[]){SV_TEXT("d"), SV_INT(1), SV_INT(-1)}, 3, &c),
                     QL_EINVAL);
    assert_int_equal(store_insert(s, ins, (store_val[]){SV_TEXT("e")}, 1, &c), QL_EINVAL);
    assert_int_equal(store_insert(s, "INSERT INTO nowhere (key) VALUES ($1)",
                                  (store_val[]){SV_TEXT("f")}, 1, &c),
                     QL_EDB);
    assert_int_equal(c, -5);
    assert_int_equal(count_rows(s, "item"), 2);
    /* The connection is still usable after the failures. */
    assert_int_equal(store_insert(s, ins, (store_val[]){SV_TEXT("g"), SV_NULL, SV_NULL}, 3, &c), 0);
    assert_true(c > b);
    store_close(s);
}

/* store_set_cache changes SQLite's page cache and back; PostgreSQL ignores it. */
static void test_set_cache(void **state)
{
    (void)state;
    store *s = open_fresh();
    int64_t kib = 0;
    assert_int_equal(store_set_cache(s, (int64_t)64 << 20), 0);
    if (store_kind_of(s) == STORE_SQLITE) {
        assert_int_equal(store_query_int(s, "PRAGMA cache_size", NULL, 0, &kib), 0);
        assert_int_equal(kib, -65536);
    }
    assert_int_equal(store_set_cache(s, 0), 0);
    if (store_kind_of(s) == STORE_SQLITE) {
        assert_int_equal(store_query_int(s, "PRAGMA cache_size", NULL, 0, &kib), 0);
        assert_int_equal(kib, -2000);
    }
    assert_int_equal(store_ping(s), 0);
    store_close(s);
}

static int insert_then(store *s, void *ctx)
{
    int rc = store_exec(s, "INSERT INTO t (id) VALUES ($1)", (store_val[]){SV_INT(7)}, 1, NULL);
    if (rc) return rc;
    return *(int *)ctx;
}

static int nested_outer(store *s, void *ctx)
{
    int ok = 0;
    int rc = store_tx(s, STORE_TX_WRITE, insert_then, &ok); /* joins this transaction */
    if (rc) return rc;
    return *(int *)ctx;
}

static void test_transactions(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
    int fail = QL_ECONFLICT, ok = 0;
    assert_int_equal(store_tx(s, STORE_TX_WRITE, insert_then, &fail), QL_ECONFLICT);
    assert_int_equal(count_rows(s, "t"), 0);
    assert_int_equal(store_tx(s, STORE_TX_WRITE, insert_then, &ok), 0);
    assert_int_equal(count_rows(s, "t"), 1);
    exec_ok(s, "DELETE FROM t");
    /* A nested store_tx runs inside the outer one: the outer rollback undoes it. */
    assert_int_equal(store_tx(s, STORE_TX_WRITE, nested_outer, &fail), QL_ECONFLICT);
    assert_int_equal(count_rows(s, "t"), 0);
    assert_int_equal(store_tx(s, STORE_TX_WRITE, nested_outer, &ok), 0);
    assert_int_equal(count_rows(s, "t"), 1);
    /* A statement error inside the body rolls back what came before it. */
    assert_int_equal(store_tx(s, STORE_TX_WRITE, insert_then, &ok), QL_ECONFLICT);
    assert_int_equal(count_rows(s, "t"), 1);
    store_close(s);
}

static int leave_rows_open(store *s, void *ctx)
{
    (void)ctx;
    store_rows *r;
    int rc = store_query(s, "SELECT id FROM t", NULL, 0, &r);
    if (rc) return rc;
    return 0; /* forgets to close r */
}

static void test_step_after_end_and_error_count(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
    /* Stepping past the end keeps answering 0: the statement is not run again. */
    store_rows *r;
    assert_int_equal(store_query(s, "INSERT INTO t (id, v) VALUES (1, $1) RETURNING id",
                                 (store_val[]){SV_TEXT("once")}, 1, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    assert_int_equal(store_step(r), 0);
    assert_int_equal(store_step(r), 0);
    store_rows_close(r);
    assert_int_equal(count_rows(s, "t"), 1);
    /* Each failed call counts one error, whatever the backend recorded. */
    struct store_stats a, b;
    store_stats_get(s, &a);
    assert_int_equal(store_exec(s, "INSERT INTO t (id, v) VALUES (2, 'once')", NULL, 0, NULL),
                     QL_ECONFLICT);
    store_stats_get(s, &b);
    assert_int_equal(b.errors, a.errors + 1);
    assert_int_equal(store_script(s, "SELECT * FROM no_such_table"), QL_EDB);
    store_stats_get(s, &a);
    assert_int_equal(a.errors, b.errors + 1);
    assert_true(a.statements > b.statements);
    store_close(s);
}

struct migrator {
    const char *url;
    int rc;
    int applied;
};

static void *migrate_main(void *arg)
{
    struct migrator *m = arg;
    store *s = open_same(m->url, 5000, 8);
    ql_err err;
    m->rc = store_migrate(s, &m->applied, &err);
    if (m->rc) fprintf(stderr, "migrate: %s\n", err.en);
    store_close(s);
    return NULL;
}

/* Several processes starting at once against a new database: one applies
 * the migrations, the others find them applied. */
static void test_concurrent_migrations(void **state)
{
    (void)state;
    for (int trial = 0; trial < 3; trial++) {
        const char *url = tu_fresh_store_url();
        struct migrator m[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            m[i] = (struct migrator){.url = url, .rc = -99, .applied = -1};
            pthread_create(&th[i], NULL, migrate_main, &m[i]);
        }
        int total = 0;
        for (int i = 0; i < 3; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(m[i].rc, 0);
            total += m[i].applied;
        }
        store *s = open_same(url, 1000, 3);
        ql_err err;
        nstatus = last_version = 0;
        assert_int_equal(store_migrate_status(s, on_status, NULL, &err), 0);
        assert_int_equal(total, nstatus);
        assert_int_equal(count_rows(s, "schema_version"), nstatus);
        assert_int_equal(last_version, store_schema_latest(s));
        store_close(s);
    }
}

static void test_one_result_set_at_a_time(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
    exec_ok(s, "INSERT INTO t (id) VALUES (1)");
    store_rows *r;
    assert_int_equal(store_query(s, "SELECT id FROM t", NULL, 0, &r), 0);
    assert_int_equal(store_exec(s, "INSERT INTO t (id) VALUES (2)", NULL, 0, NULL),
                     QL_EINTERNAL);
    store_rows_close(r);
    assert_int_equal(store_exec(s, "INSERT INTO t (id) VALUES (2)", NULL, 0, NULL), 0);
    /* A transaction body that leaves a result set open is rolled back. */
    assert_int_equal(store_tx(s, STORE_TX_WRITE, leave_rows_open, NULL), QL_EINTERNAL);
    assert_int_equal(store_ping(s), 0);
    int64_t n;
    assert_int_equal(store_query_int(s, "SELECT id FROM t WHERE id = $1",
                                     (store_val[]){SV_INT(99)}, 1, &n),
                     QL_ENOTFOUND);
    store_close(s);
}

struct stream_ctx {
    int64_t seen;
};

static int read_some_then_write(store *s, void *arg)
{
    struct stream_ctx *x = arg;
    store_rows *r;
    int rc = store_query(s, "SELECT id FROM big ORDER BY id", NULL, 0, &r);
    if (rc) return rc;
    while (x->seen < 10 && (rc = store_step(r)) == 1) x->seen++;
    store_rows_close(r); /* early, inside a transaction */
    return store_exec(s, "INSERT INTO big (id) VALUES (-1)", NULL, 0, NULL);
}

static int fill_big(store *s, void *arg)
{
    int64_t n = *(int64_t *)arg;
    for (int64_t i = 1; i <= n; i++) {
        int rc = store_exec(s, "INSERT INTO big (id, pad) VALUES ($1, $2)",
                            (store_val[]){SV_INT(i), SV_TEXT("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")},
                            2, NULL);
        if (rc) return rc;
    }
    return 0;
}

static void test_streaming_and_early_close(void **state)
{
    (void)state;
    store *s = open_fresh();
    exec_ok(s, "CREATE TABLE big (id BIGINT PRIMARY KEY, pad TEXT)");
    int64_t n = 20000;
    assert_int_equal(store_tx(s, STORE_TX_WRITE, fill_big, &n), 0);

    store_rows *r;
    assert_int_equal(store_query(s, "SELECT id, pad FROM big ORDER BY id", NULL, 0, &r), 0);
    int64_t seen = 0, sum = 0;
    int rc;
    while ((rc = store_step(r)) == 1) {
        seen++;
        sum += store_col_int(r, 0);
    }
    assert_int_equal(rc, 0);
    store_rows_close(r);
    assert_int_equal(seen, n);
    assert_int_equal(sum, n * (n + 1) / 2);

    /* Closing early outside a transaction, then using the connection again. */
    assert_int_equal(store_query(s, "SELECT id FROM big ORDER BY id", NULL, 0, &r), 0);
    assert_int_equal(store_step(r), 1);
    store_rows_close(r);
    assert_int_equal(store_ping(s), 0);

    /* Closing early inside a transaction must not spoil the transaction. */
    struct stream_ctx x = {0};
    assert_int_equal(store_tx(s, STORE_TX_WRITE, read_some_then_write, &x), 0);
    assert_int_equal(x.seen, 10);
    assert_int_equal(count_rows(s, "big"), n + 1);
    store_close(s);
}

/* --- conflicts and retries ------------------------------------------- */

struct holder {
    const char *url;
    int hold_ms;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int hold_lock(store *s, void *arg)
{
    struct holder *h = arg;
    int rc = store_exec(s, "INSERT INTO t (id) VALUES (1)", NULL, 0, NULL);
    pthread_mutex_lock(&h->mu);
    h->started = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    sleep_ms(h->hold_ms);
    return rc;
}

static void *holder_main(void *arg)
{
    struct holder *h = arg;
    store *s = open_same(h->url, 5000, 3);
    int rc = store_tx(s, STORE_TX_WRITE, hold_lock, h);
    assert_int_equal(rc, 0);
    store_close(s);
    return NULL;
}

static int insert_two(store *s, void *arg)
{
    (void)arg;
    return store_exec(s, "INSERT INTO t (id) VALUES (2)", NULL, 0, NULL);
}

/* SQLite: a writer that finds the database locked beyond its busy timeout
 * retries the whole transaction and succeeds once the lock is gone. */
static void test_sqlite_busy_retry(void **state)
{
    (void)state;
    const char *url = tu_fresh_store_url();
    store *s = open_same(url, 20, 50);
    exec_ok(s, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
    struct holder h = {.url = url, .hold_ms = 300};
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    pthread_t th;
    pthread_create(&th, NULL, holder_main, &h);
    pthread_mutex_lock(&h.mu);
    while (!h.started) pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);

    struct store_stats before, after;
    store_stats_get(s, &before);
    assert_int_equal(store_tx(s, STORE_TX_WRITE, insert_two, NULL), 0);
    store_stats_get(s, &after);
    assert_true(after.retries > before.retries);
    pthread_join(th, NULL);
    assert_int_equal(count_rows(s, "t"), 2);

    /* With too few attempts the caller gets QL_EBUSY, not a hang. */
    store *few = open_same(url, 10, 2);
    h.started = 0;
    h.hold_ms = 500;
    exec_ok(s, "DELETE FROM t");
    pthread_create(&th, NULL, holder_main, &h);
    pthread_mutex_lock(&h.mu);
    while (!h.started) pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    assert_int_equal(store_tx(few, STORE_TX_WRITE, insert_two, NULL), QL_EBUSY);
    pthread_join(th, NULL);
    assert_int_equal(count_rows(s, "t"), 1);
    store_close(few);
    store_close(s);
}

/* PostgreSQL: two SERIALIZABLE transactions that read what the other writes;
 * the loser fails with SQLSTATE 40001 and store_tx runs it again. */
struct ser_ctx {
    store *other;
    int attempts;
};

static int sum_then_insert(store *s, void *arg)
{
    (void)arg;
    int64_t total = 0;
    int rc = store_query_int(s, "SELECT COALESCE(SUM(v), 0) FROM acct", NULL, 0, &total);
    if (rc) return rc;
    return store_exec(s, "INSERT INTO acct (v) VALUES ($1)", (store_val[]){SV_INT(total + 1)}, 1,
                      NULL);
}

static int conflicting(store *s, void *arg)
{
    struct ser_ctx *x = arg;
    x->attempts++;
    int64_t total = 0;
    int rc = store_query_int(s, "SELECT COALESCE(SUM(v), 0) FROM acct", NULL, 0, &total);
    if (rc) return rc;
    if (x->attempts == 1) {
        /* Another session commits the same read-then-write in between. */
        rc = store_tx(x->other, STORE_TX_WRITE, sum_then_insert, NULL);
        assert_int_equal(rc, 0);
    }
    return store_exec(s, "INSERT INTO acct (v) VALUES ($1)", (store_val[]){SV_INT(total + 1)}, 1,
                      NULL);
}

static void test_pg_serialization_retry(void **state)
{
    (void)state;
    const char *url = tu_fresh_store_url();
    store *a = open_same(url, 1000, 5), *b = open_same(url, 1000, 5);
    exec_ok(a, "CREATE TABLE acct (id BIGSERIAL PRIMARY KEY, v BIGINT NOT NULL)");
    struct ser_ctx x = {.other = b};
    struct store_stats before, after;
    store_stats_get(a, &before);
    assert_int_equal(store_tx(a, STORE_TX_WRITE, conflicting, &x), 0);
    store_stats_get(a, &after);
    assert_int_equal(x.attempts, 2);
    assert_int_equal(after.retries, before.retries + 1);
    /* Serial outcome: values 1 (b) and 2 (a after its retry). */
    int64_t sum = 0;
    assert_int_equal(store_query_int(a, "SELECT SUM(v) FROM acct", NULL, 0, &sum), 0);
    assert_int_equal(sum, 3);
    store_close(a);
    store_close(b);
}

/* PostgreSQL: a connection killed by the server is re-established. */
static void test_pg_reconnect(void **state)
{
    (void)state;
    const char *url = tu_fresh_store_url();
    store *a = open_same(url, 1000, 3), *killer = open_same(url, 1000, 3);
    int64_t pid = 0;
    assert_int_equal(store_query_int(a, "SELECT pg_backend_pid()", NULL, 0, &pid), 0);
    int64_t ok = 0;
    assert_int_equal(store_query_int(killer, "SELECT CASE WHEN pg_terminate_backend($1::int) "
                                             "THEN 1 ELSE 0 END",
                                     (store_val[]){SV_INT(pid)}, 1, &ok),
                     0);
    assert_int_equal(ok, 1);
    sleep_ms(100);
    int rc = store_ping(a);
    assert_true(rc == QL_EUNAVAIL || rc == 0);
    assert_int_equal(store_ping(a), 0);
    int64_t pid2 = 0;
    assert_int_equal(store_query_int(a, "SELECT pg_backend_pid()", NULL, 0, &pid2), 0);
    assert_true(pid2 != pid);
    /* Session settings survive the reconnection. */
    store_rows *r;
    assert_int_equal(store_query(a, "SELECT current_setting('TimeZone'), "
                                    "current_setting('client_encoding')",
                                 NULL, 0, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    assert_string_equal(store_col_text(r, 0, NULL), "Asia/Shanghai");
    assert_string_equal(store_col_text(r, 1, NULL), "UTF8");
    store_rows_close(r);
    store_close(a);
    store_close(killer);
}

/* A database in another encoding still talks UTF-8 with us, also after a
 * reconnection. */
static void test_pg_encoding_after_reconnect(void **state)
{
    (void)state;
    const char *url = tu_fresh_store_url();
    store *admin = open_same(url, 1000, 3);
    store_script(admin, "DROP DATABASE IF EXISTS ql_latin1");
    assert_int_equal(store_script(admin, "CREATE DATABASE ql_latin1 ENCODING 'LATIN1' "
                                         "LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"),
                     0);
    /* Same server, other database: replace the path of the URL. */
    char other[600];
    const char *slash = strstr(url, "@/"), *q = strchr(url, '?');
    assert_non_null(slash);
    snprintf(other, sizeof other, "%.*sql_latin1%s", (int)(slash + 2 - url), url, q ? q : "");
    store *a = open_same(other, 1000, 3);
    int64_t pid = 0;
    assert_int_equal(store_query_int(a, "SELECT pg_backend_pid()", NULL, 0, &pid), 0);
    assert_int_equal(store_query_int(admin, "SELECT count(pg_terminate_backend($1::int))",
                                     (store_val[]){SV_INT(pid)}, 1, &pid),
                     0);
    sleep_ms(100);
    store_ping(a); /* may report the lost connection */
    store_rows *r;
    assert_int_equal(store_query(a, "SELECT current_setting('client_encoding'), $1::text",
                                 (store_val[]){SV_TEXT("é")}, 1, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    assert_string_equal(store_col_text(r, 0, NULL), "UTF8");
    assert_string_equal(store_col_text(r, 1, NULL), "é");
    store_rows_close(r);
    store_close(a);
    assert_int_equal(store_script(admin, "DROP DATABASE ql_latin1"), 0);
    store_close(admin);
}

int main(void)
{
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_url_kind),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_open_and_kind),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_migrate),
        cmocka_unit_test(test_migrate_refuses_newer_schema),
        cmocka_unit_test(test_migrate_detects_edited_migration),
        cmocka_unit_test(test_migrate_fills_a_gap),
        cmocka_unit_test(test_typed_binding),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_insert_id),
        cmocka_unit_test(test_set_cache),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_one_result_set_at_a_time),
        cmocka_unit_test(test_step_after_end_and_error_count),
        cmocka_unit_test(test_concurrent_migrations),
        cmocka_unit_test(test_streaming_and_early_close),
    };
    /* Cases that exercise one backend's way of failing. */
    const struct CMUnitTest sqlite_only[] = {
        cmocka_unit_test(test_sqlite_busy_retry),
    };
    const struct CMUnitTest pg_only[] = {
        cmocka_unit_test(test_pg_serialization_retry),
        cmocka_unit_test(test_pg_reconnect),
        cmocka_unit_test(test_pg_encoding_after_reconnect),
    };
    size_t nc = sizeof common / sizeof common[0];
    const struct CMUnitTest *extra = tu_pg_url() ? pg_only : sqlite_only;
    size_t ne = tu_pg_url() ? sizeof pg_only / sizeof pg_only[0]
                            : sizeof sqlite_only / sizeof sqlite_only[0];
    struct CMUnitTest all[32];
    memcpy(all, common, nc * sizeof common[0]);
    memcpy(all + nc, extra, ne * sizeof extra[0]);
    return _cmocka_run_group_tests(tu_pg_url() ? "store (postgres)" : "store (sqlite)", all,
                                   nc + ne, NULL, NULL);
}
