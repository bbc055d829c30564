/* test_audit.c - the audit chain, its anchor and its verifier, on SQLite and
 * (with QL_TEST_PG) PostgreSQL: each test tampers with the log the way an
 * attacker with database access could, and checks what verification reports. */
#include "testutil.h"

#include "audit/audit.h"
#include "core/buf.h"
#include "store/store.h"

#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int nkeys;
static char keys_dir[512];

/* --- helpers ------------------------------------------------------------ */

static void init_audit(const char *algo)
{
    ql_err err = {0};
    if (audit_init(keys_dir, algo, &err)) fail_msg("audit_init(%s): %s", algo, err.en);
}

static void new_keys_dir(void)
{
    snprintf(keys_dir, sizeof keys_dir, "%s/keys-%d", tu_tmpdir(), ++nkeys);
}

static store *open_url(const char *url, long busy_ms, long retries)
{
    store *s = NULL;
    ql_err err = {0};
    store_opts o = {.busy_timeout_ms = busy_ms, .retries = retries};
    if (store_open(url, &o, &s, &err)) fail_msg("store_open: %s", err.en);
    return s;
}

/* A migrated store of its own and a keys directory of its own; url (may be
 * NULL) receives the store's URL for further connections. */
static store *fresh_at(const char *algo, char url[600])
{
    const char *u = tu_fresh_store_url();
    if (url) snprintf(url, 600, "%s", u);
    store *s = open_url(u, 5000, 8);
    ql_err err = {0};
    if (store_migrate(s, NULL, &err)) fail_msg("store_migrate: %s", err.en);
    new_keys_dir();
    init_audit(algo);
    return s;
}

static store *fresh(const char *algo)
{
    return fresh_at(algo, NULL);
}

static void exec_ok(store *s, const char *sql, const store_val *args, int nargs)
{
    int64_t changes = 0;
    int rc = store_exec(s, sql, args, nargs, &changes);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(s));
    if (changes < 1) fail_msg("%s changed nothing", sql);
}

static int64_t query_int(store *s, const char *sql, const store_val *args, int nargs)
{
    int64_t v = -1;
    int rc = store_query_int(s, sql, args, nargs, &v);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(s));
    return v;
}

/* The stored hash of row seq. */
static void row_hash_of(store *s, int64_t seq, char out[65])
{
    store_rows *r;
    assert_int_equal(store_query(s, "SELECT hash FROM audit_log WHERE seq = $1",
                                 (store_val[]){SV_INT(seq)}, 1, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    snprintf(out, 65, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
}

struct batch {
    int n;
    int first; /* number of the first event, for its detail */
    int fail;  /* returned by the body after appending: nonzero rolls back */
    int64_t last_seq;
    ql_err err;
};

static int append_body(store *s, void *ctx)
{
    struct batch *b = ctx;
    for (int i = 0; i < b->n; i++) {
        int k = b->first + i;
        json_t *detail = json_pack("{s:i, s:s, s:{s:s, s:b}}", "n", k, "phone", "138****0000",
                                   "nested", "z", "last", "a", k % 2);
        json_t *before = json_pack("{s:s, s:i}", "name", "张三", "v", k);
        json_t *after = json_pack("{s:s, s:i}", "name", "张三", "v", k + 1);
        char oid[32];
        snprintf(oid, sizeof oid, "%d", k);
        audit_event ev = {
            .actor_id = k % 3 ? 7 : 0,
            .actor = k % 3 ? "管理员admin" : "anonymous",
            .action = k % 2 ? "user.update" : "auth.signin",
            .object_type = "user",
            .object_id = oid,
            .before = k % 4 ? before : NULL,
            .after = after,
            .detail = k % 5 ? detail : NULL,
            .ip = k % 2 ? "10.0.0.1" : NULL,
            .request_id = "req-1",
        };
        int rc = audit_append(s, &ev, &b->last_seq, &b->err);
        json_decref(detail);
        json_decref(before);
        json_decref(after);
        if (rc) return rc;
    }
    return b->fail;
}

static void committed(store *s)
{
    ql_err err = {0};
    int rc = audit_committed(s, &err);
    if (rc) fail_msg("audit_committed: %d %s", rc, err.en);
}

/* Appends n events in one committed transaction, then moves the anchor. */
static void append_n(store *s, int n, int first)
{
    struct batch b = {.n = n, .first = first};
    int rc = store_tx(s, STORE_TX_WRITE, append_body, &b);
    if (rc) fail_msg("append: %d %s (%s)", rc, b.err.en, store_errmsg(s));
    committed(s);
}

static audit_report verify(store *s)
{
    audit_report rep;
    ql_err err = {0};
    int rc = audit_verify(s, &rep, &err);
    if (rc) fail_msg("audit_verify: %d %s", rc, err.en);
    return rep;
}

static void expect_ok(store *s, int64_t rows)
{
    audit_report rep = verify(s);
    if (!rep.ok) fail_msg("verify failed at %" PRId64 ": %s", rep.broken_seq, rep.reason_en);
    assert_int_equal(rep.broken_seq, 0);
    assert_int_equal(rep.rows, rows);
    assert_int_equal(rep.head_seq, rows);
}

static void expect_broken(store *s, int64_t seq, const char *word, const char *word2)
{
    audit_report rep = verify(s);
    assert_false(rep.ok);
    if (rep.broken_seq != seq)
        fail_msg("broken at %" PRId64 ", expected %" PRId64 ": %s", rep.broken_seq, seq,
                 rep.reason_en);
    if (!strstr(rep.reason_en, word) || (word2 && !strstr(rep.reason_en, word2)))
        fail_msg("reason '%s' does not say '%s'", rep.reason_en, word);
    assert_non_null(strstr(rep.reason_zh, "行"));
}

static char *anchor_text(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/audit.anchor", keys_dir);
    return tu_slurp(path, NULL);
}

static void expect_anchor(store *s, int64_t seq)
{
    char hash[65], want[128];
    row_hash_of(s, seq, hash);
    snprintf(want, sizeof want, "%" PRId64 " %s\n", seq, hash);
    char *got = anchor_text();
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void read_key(unsigned char key[32])
{
    char path[600];
    snprintf(path, sizeof path, "%s/audit.key", keys_dir);
    size_t n = 0;
    char *k = tu_slurp(path, &n);
    assert_non_null(k);
    assert_int_equal(n, 32);
    memcpy(key, k, 32);
    free(k);
}

/* --- the documented message format, implemented again from audit.c's comment */

static void item(buf *b, const char *p, size_t n)
{
    buf_printf(b, "%zu:", n);
    buf_append(b, p, n);
}

/* Builds the message of row seq as stored; *sm3 receives whether its algo is sm3. */
static void row_message(store *s, int64_t seq, buf *b, int *sm3)
{
    store_rows *r;
    assert_int_equal(
        store_query(s,
                    "SELECT seq, at_ms, actor_id, actor, action, object_type, object_id, "
                    "before_digest, after_digest, detail, ip, request_id, algo, prev_hash "
                    "FROM audit_log WHERE seq = $1",
                    (store_val[]){SV_INT(seq)}, 1, &r),
        0);
    assert_int_equal(store_step(r), 1);
    buf_reset(b);
    item(b, "qianlima-audit-v1", 17);
    for (int c = 0; c < 14; c++) {
        char num[32];
        size_t n;
        const char *p;
        if (c <= 2) {
            if (store_col_isnull(r, c)) {
                num[0] = '\0';
            } else {
                snprintf(num, sizeof num, "%" PRId64, store_col_int(r, c));
            }
            p = num;
            n = strlen(num);
        } else {
            p = store_col_text(r, c, &n);
        }
        item(b, p, n);
        if (c == 12) *sm3 = strcmp(p, "sm3") == 0;
    }
    store_rows_close(r);
}

static void hex(const unsigned char h[32], char out[65])
{
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The hash of a message: BLAKE2b-256 keyed with key (unkeyed when key is
 * NULL) or HMAC-SM3. */
static void mac(const buf *b, int sm3, const unsigned char *key, char out[65])
{
    unsigned char h[32];
    if (sm3) {
        size_t outl = 0;
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SM3", NULL, key, 32,
                                  (const unsigned char *)b->data, b->len, h, sizeof h, &outl));
        assert_int_equal(outl, 32);
    } else {
        crypto_generichash(h, 32, (const unsigned char *)b->data, b->len, key, key ? 32 : 0);
    }
    hex(h, out);
}

/* An attacker who can write the database but lacks the key: re-links and
 * re-hashes rows from..head with their own guess of the key (NULL: unkeyed). */
static void attacker_rechain(store *s, int64_t from, const unsigned char *key)
{
    int64_t head = query_int(s, "SELECT max(seq) FROM audit_log", NULL, 0);
    char prev[65];
    row_hash_of(s, from - 1, prev);
    buf b = BUF_INIT;
    for (int64_t seq = from; seq <= head; seq++) {
        if (seq > from)
            exec_ok(s, "UPDATE audit_log SET prev_hash = $1 WHERE seq = $2",
                    (store_val[]){SV_TEXT(prev), SV_INT(seq)}, 2);
        int sm3 = 0;
        row_message(s, seq, &b, &sm3);
        char h[65];
        mac(&b, 0, key, h);
        exec_ok(s, "UPDATE audit_log SET hash = $1, algo = 'blake2b' WHERE seq = $2",
                (store_val[]){SV_TEXT(h), SV_INT(seq)}, 2);
        memcpy(prev, h, sizeof prev);
    }
    buf_free(&b);
}

/* --- tests -------------------------------------------------------------- */

/* 20 events, the first 10 with BLAKE2b and the rest with HMAC-SM3. */
static void test_append_and_verify(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    expect_ok(s, 0); /* an empty log is fine */
    append_n(s, 4, 1);
    append_n(s, 6, 5);
    expect_anchor(s, 10);
    init_audit("sm3");
    append_n(s, 5, 11);
    struct batch b = {.n = 5, .first = 16};
    assert_int_equal(store_tx(s, STORE_TX_WRITE, append_body, &b), 0);
    assert_int_equal(b.last_seq, 20);
    committed(s);

    audit_report rep = verify(s);
    assert_true(rep.ok);
    assert_int_equal(rep.rows, 20);
    assert_int_equal(rep.head_seq, 20);
    assert_int_equal(rep.broken_seq, 0);
    char h[65];
    row_hash_of(s, 20, h);
    assert_string_equal(rep.head_hash, h);
    expect_anchor(s, 20);
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit_log WHERE algo = 'blake2b'", NULL, 0),
                     10);
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit_log WHERE algo = 'sm3'", NULL, 0),
                     10);
    /* Row 1 starts the chain; each row links to the one before. */
    store_rows *r;
    assert_int_equal(store_query(s, "SELECT prev_hash FROM audit_log WHERE seq = 1", NULL, 0, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    assert_string_equal(store_col_text(r, 0, NULL),
                        "0000000000000000000000000000000000000000000000000000000000000000");
    store_rows_close(r);
    assert_int_equal(query_int(s,
                               "SELECT count(*) FROM audit_log a JOIN audit_log b "
                               "ON b.seq = a.seq + 1 WHERE b.prev_hash = a.hash",
                               NULL, 0),
                     19);
    /* No actor is NULL, not 0; detail is compact JSON with sorted keys; NULLs are "". */
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit_log WHERE actor_id IS NULL", NULL, 0),
                     6);
    assert_int_equal(store_query(s, "SELECT detail, before_digest, ip FROM audit_log WHERE seq = 1",
                                 NULL, 0, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    assert_string_equal(store_col_text(r, 0, NULL),
                        "{\"n\":1,\"nested\":{\"a\":true,\"z\":\"last\"},"
                        "\"phone\":\"138****0000\"}");
    assert_int_equal(strlen(store_col_text(r, 1, NULL)), 64);
    assert_string_equal(store_col_text(r, 2, NULL), "10.0.0.1");
    store_rows_close(r);
    assert_int_equal(store_query(s, "SELECT detail, before_digest, ip FROM audit_log WHERE seq = 4",
                                 NULL, 0, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    assert_string_equal(store_col_text(r, 1, NULL), "");
    assert_string_equal(store_col_text(r, 2, NULL), "");
    store_rows_close(r);
    assert_int_equal(store_query(s, "SELECT detail FROM audit_log WHERE seq = 5", NULL, 0, &r), 0);
    assert_int_equal(store_step(r), 1);
    assert_string_equal(store_col_text(r, 0, NULL), "{}");
    store_rows_close(r);
    store_close(s);
}

/* The message format documented in audit.c, implemented again here, gives
 * the stored hashes with the key from the key file, for both algorithms. */
static void test_documented_encoding(void **state)
{
    (void)state;
    store *s = fresh("sm3");
    append_n(s, 3, 1);
    init_audit("blake2b");
    append_n(s, 3, 4);
    unsigned char key[32];
    read_key(key);
    buf b = BUF_INIT;
    for (int64_t seq = 1; seq <= 6; seq++) {
        int sm3 = 0;
        row_message(s, seq, &b, &sm3);
        assert_int_equal(sm3, seq <= 3);
        char want[65], got[65];
        mac(&b, sm3, key, want);
        row_hash_of(s, seq, got);
        assert_string_equal(got, want);
    }
    buf_free(&b);
    store_close(s);
}

static void test_edited_row(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 20, 1);
    exec_ok(s, "UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 13", NULL, 0);
    expect_broken(s, 13, "row 13 was changed", NULL);
    store_close(s);

    /* Any field counts, including the time and a NULL actor set to 0. */
    s = fresh("sm3");
    append_n(s, 6, 1);
    exec_ok(s, "UPDATE audit_log SET at_ms = at_ms + 1 WHERE seq = 2", NULL, 0);
    expect_broken(s, 2, "row 2 was changed", NULL);
    exec_ok(s, "UPDATE audit_log SET at_ms = at_ms - 1 WHERE seq = 2", NULL, 0);
    expect_ok(s, 6);
    exec_ok(s, "UPDATE audit_log SET actor_id = 0 WHERE seq = 3", NULL, 0);
    expect_broken(s, 3, "row 3 was changed", NULL);
    store_close(s);
}

static void test_deleted_middle_row(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 20, 1);
    exec_ok(s, "DELETE FROM audit_log WHERE seq = 8", NULL, 0);
    expect_broken(s, 8, "row 8 is missing", "deleted");
    exec_ok(s, "DELETE FROM audit_log WHERE seq <= 3", NULL, 0);
    expect_broken(s, 1, "row 1 is missing", "deleted");
    store_close(s);
}

static void test_reordered_rows(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 20, 1);
    exec_ok(s, "UPDATE audit_log SET seq = 1000 WHERE seq = 6", NULL, 0);
    exec_ok(s, "UPDATE audit_log SET seq = 6 WHERE seq = 11", NULL, 0);
    exec_ok(s, "UPDATE audit_log SET seq = 11 WHERE seq = 1000", NULL, 0);
    expect_broken(s, 6, "row 6 does not link to row 5", "reordered");
    store_close(s);

    /* Neighbours swapped. */
    s = fresh("sm3");
    append_n(s, 5, 1);
    exec_ok(s, "UPDATE audit_log SET seq = 1000 WHERE seq = 1", NULL, 0);
    exec_ok(s, "UPDATE audit_log SET seq = 1 WHERE seq = 2", NULL, 0);
    exec_ok(s, "UPDATE audit_log SET seq = 2 WHERE seq = 1000", NULL, 0);
    expect_broken(s, 1, "row 1 does not start the chain", "reordered");
    store_close(s);
}

static void test_deleted_tail(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 20, 1);
    expect_anchor(s, 20);
    exec_ok(s, "DELETE FROM audit_log WHERE seq = 20", NULL, 0);
    expect_broken(s, 20, "rows after 19 were deleted", "anchor records row 20");
    /* The anchor does not follow the database backwards. */
    committed(s);
    char *a = anchor_text();
    assert_non_null(a);
    assert_true(strncmp(a, "20 ", 3) == 0);
    free(a);
    exec_ok(s, "DELETE FROM audit_log WHERE seq >= 18", NULL, 0);
    expect_broken(s, 18, "rows after 17 were deleted", "anchor records row 20");
    exec_ok(s, "DELETE FROM audit_log", NULL, 0);
    expect_broken(s, 1, "all rows were deleted", "anchor records row 20");
    store_close(s);
}

/* Tail rows deleted and new ones appended over them: the chain is whole
 * again, but the anchor still records the old row 20 and is not moved. */
static void test_rewritten_tail(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 20, 1);
    char *before = anchor_text();
    exec_ok(s, "DELETE FROM audit_log WHERE seq >= 19", NULL, 0);
    struct batch b = {.n = 3, .first = 100};
    assert_int_equal(store_tx(s, STORE_TX_WRITE, append_body, &b), 0);
    ql_err err = {0};
    assert_int_equal(audit_committed(s, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "row 20"));
    char *after = anchor_text();
    assert_string_equal(before, after);
    free(before);
    free(after);
    expect_broken(s, 20, "row 20 differs from the anchor", "rewritten");
    store_close(s);
}

/* Editing a row and recomputing the chain without the key is still caught. */
static void test_attacker_without_key(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 20, 1);
    exec_ok(s, "UPDATE audit_log SET detail = '{\"n\":1}', actor = 'someone' WHERE seq = 7", NULL,
            0);
    attacker_rechain(s, 7, NULL);
    expect_broken(s, 7, "row 7 was changed", NULL);

    unsigned char guess[32];
    randombytes_buf(guess, sizeof guess);
    attacker_rechain(s, 7, guess);
    expect_broken(s, 7, "row 7 was changed", NULL);

    /* With the real key the same rewrite would pass the chain check: the
     * key is what protects it (and the anchor, which this rewrite keeps). */
    unsigned char key[32];
    read_key(key);
    attacker_rechain(s, 7, key);
    expect_broken(s, 20, "row 20 differs from the anchor", NULL);
    store_close(s);
}

static void test_algo_changed(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 8, 1);
    exec_ok(s, "UPDATE audit_log SET algo = 'sm3' WHERE seq = 4", NULL, 0);
    expect_broken(s, 4, "row 4 was changed", NULL);
    store_close(s);

    s = fresh("sm3");
    append_n(s, 8, 1);
    exec_ok(s, "UPDATE audit_log SET algo = 'blake2b' WHERE seq = 8", NULL, 0);
    expect_broken(s, 8, "row 8 was changed", NULL);
    store_close(s);
}

/* A transaction that appended and rolled back leaves no trace in the anchor. */
/* Appends b's rows in a store_tx of its own (nested in the caller's), says
 * they committed as a service does, then rolls the outer transaction back. */
static int nested_body(store *s, void *ctx)
{
    struct batch *b = ctx;
    int rc = store_tx(s, STORE_TX_WRITE, append_body, b);
    if (rc) return rc;
    ql_err err = {0};
    if (audit_committed(s, &err)) fail_msg("audit_committed: %s", err.en);
    return QL_ECONFLICT;
}

static void test_rollback_keeps_anchor(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    /* The very first transaction rolls back: there is no anchor at all. */
    struct batch b = {.n = 2, .first = 1, .fail = QL_ECONFLICT};
    assert_int_equal(store_tx(s, STORE_TX_WRITE, append_body, &b), QL_ECONFLICT);
    assert_int_equal(b.last_seq, 2);
    committed(s); /* harmless after a rollback too */
    assert_null(anchor_text());
    expect_ok(s, 0);

    append_n(s, 5, 1);
    char *a1 = anchor_text();
    b = (struct batch){.n = 3, .first = 6, .fail = QL_EINVAL};
    assert_int_equal(store_tx(s, STORE_TX_WRITE, append_body, &b), QL_EINVAL);
    assert_int_equal(b.last_seq, 8);
    committed(s);
    char *a2 = anchor_text();
    assert_string_equal(a1, a2);
    free(a1);
    free(a2);
    expect_ok(s, 5);
    /* The seqs the rolled-back rows had are used again. */
    append_n(s, 3, 6);
    expect_ok(s, 8);
    expect_anchor(s, 8);
    /* A service run inside an outer transaction (its store_tx nests) calls
     * audit_committed before anything committed: the anchor stays. */
    b = (struct batch){.n = 3, .first = 9};
    assert_int_equal(store_tx(s, STORE_TX_WRITE, nested_body, &b), QL_ECONFLICT);
    assert_int_equal(b.last_seq, 11);
    expect_anchor(s, 8);
    expect_ok(s, 8);
    store_close(s);
}

struct worker {
    const char *url;
    int done;
    int rc;
    ql_err err;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    store *s = NULL;
    store_opts o = {.busy_timeout_ms = 5000, .retries = 200};
    w->rc = store_open(w->url, &o, &s, &w->err);
    if (w->rc) return NULL;
    for (int i = 0; i < 25; i++) {
        struct batch b = {.n = 1, .first = i};
        w->rc = store_tx(s, STORE_TX_WRITE, append_body, &b);
        if (w->rc) {
            w->err = b.err;
            break;
        }
        w->rc = audit_committed(s, &w->err);
        if (w->rc) break;
        w->done++;
    }
    store_close(s);
    return NULL;
}

static void test_concurrent_appends(void **state)
{
    (void)state;
    char url[600];
    store *s = fresh_at("blake2b", url);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.url = url};
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc) fail_msg("worker %d: %d %s", i, w[i].rc, w[i].err.en);
        assert_int_equal(w[i].done, 25);
    }
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit_log", NULL, 0), 100);
    expect_ok(s, 100);
    expect_anchor(s, 100);
    store_close(s);
}

/* Two appends racing for the same seq: the one that loses gets QL_EBUSY
 * (so that store_tx runs its transaction again), not a duplicate-key error.
 * Holder appends row 1 in an open transaction; racer, outside a transaction,
 * reads the log (still empty to it) and tries row 1 as well. */
struct race {
    const char *url;
    int appended;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int hold_body(store *s, void *ctx)
{
    struct race *x = ctx;
    audit_event ev = {.actor = "holder", .action = "test.hold"};
    ql_err err = {0};
    int rc = audit_append(s, &ev, NULL, &err);
    pthread_mutex_lock(&x->mu);
    x->appended = 1;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    sleep_ms(400);
    return rc;
}

static void *holder_main(void *arg)
{
    struct race *x = arg;
    store *s = NULL;
    ql_err err = {0};
    store_opts o = {.busy_timeout_ms = 5000, .retries = 1};
    if (store_open(x->url, &o, &s, &err) == 0) {
        if (store_tx(s, STORE_TX_WRITE, hold_body, x) != 0) x->appended = -1;
    }
    store_close(s);
    return NULL;
}

static void test_race_for_seq(void **state)
{
    (void)state;
    char url[600];
    store *s = fresh_at("blake2b", url);
    struct race x = {.url = url};
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    pthread_t th;
    pthread_create(&th, NULL, holder_main, &x);
    pthread_mutex_lock(&x.mu);
    while (!x.appended) pthread_cond_wait(&x.cv, &x.mu);
    pthread_mutex_unlock(&x.mu);
    audit_event ev = {.actor = "racer", .action = "test.race"};
    ql_err err = {0};
    int64_t seq = 0;
    int rc = audit_append(s, &ev, &seq, &err);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&x.mu);
    pthread_cond_destroy(&x.cv);
    assert_int_equal(x.appended, 1);
    assert_int_equal(rc, QL_EBUSY);
    assert_int_equal(seq, 0);
    committed(s);
    expect_ok(s, 1);
    expect_anchor(s, 1);
    store_close(s);
}

static void test_digest(void **state)
{
    (void)state;
    new_keys_dir();
    init_audit("blake2b");
    json_t *a = json_loads("{\"b\":[1,{\"y\":2,\"x\":1}],\"a\":\"张三\",\"c\":null}", 0, NULL);
    json_t *b = json_loads("{\"a\":\"张三\",\"c\":null,\"b\":[1,{\"x\":1,\"y\":2}]}", 0, NULL);
    json_t *c = json_loads("{\"a\":\"张三\",\"c\":null,\"b\":[{\"x\":1,\"y\":2},1]}", 0, NULL);
    json_t *d = json_loads("{\"a\":\"张四\",\"c\":null,\"b\":[1,{\"x\":1,\"y\":2}]}", 0, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    char da[65], db[65], dc[65], dd[65], dn[65];
    audit_digest(a, da);
    audit_digest(b, db);
    audit_digest(c, dc);
    audit_digest(d, dd);
    audit_digest(NULL, dn);
    assert_int_equal(strlen(da), 64);
    assert_string_equal(da, db);
    assert_string_not_equal(da, dc);
    assert_string_not_equal(da, dd);
    assert_string_equal(dn, "");
    /* A scalar has a digest too. */
    json_t *n = json_integer(5);
    audit_digest(n, dc);
    assert_int_equal(strlen(dc), 64);
    json_decref(n);
    /* Keyed: another installation's key gives other digests. */
    new_keys_dir();
    init_audit("blake2b");
    audit_digest(b, dc);
    assert_string_not_equal(da, dc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

static void write_file(const char *path, const void *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
    chmod(path, mode);
}

static void test_init_errors(void **state)
{
    (void)state;
    new_keys_dir();
    ql_err err = {0};
    assert_int_equal(audit_init(keys_dir, "md5", &err), QL_EINVAL);
    assert_string_equal(err.field, "security.audit_hash");
    assert_non_null(strstr(err.en, "security.audit_hash"));
    assert_non_null(strstr(err.en, "md5"));
    assert_true(strlen(err.zh) > 0);
    assert_int_equal(audit_init(keys_dir, "BLAKE2B", &err), QL_EINVAL);
    assert_int_equal(audit_init(keys_dir, NULL, &err), QL_EINVAL);

    char path[600];
    new_keys_dir();
    mkdir(keys_dir, 0700);
    snprintf(path, sizeof path, "%s/audit.key", keys_dir);
    write_file(path, "0123456789abcdef", 16, 0600);
    err = (ql_err){0};
    assert_int_equal(audit_init(keys_dir, "blake2b", &err), QL_EINVAL);
    assert_non_null(strstr(err.en, path));

    new_keys_dir();
    mkdir(keys_dir, 0700);
    snprintf(path, sizeof path, "%s/audit.key", keys_dir);
    write_file(path, "0123456789abcdef0123456789abcdef", 32, 0644);
    err = (ql_err){0};
    assert_int_equal(audit_init(keys_dir, "sm3", &err), QL_EINVAL);
    assert_non_null(strstr(err.en, path));
    assert_non_null(strstr(err.en, "600"));
    chmod(path, 0600);
    assert_int_equal(audit_init(keys_dir, "sm3", &err), 0);
}

/* A damaged anchor file is an error naming it, not a verdict about rows. */
static void test_damaged_anchor(void **state)
{
    (void)state;
    store *s = fresh("blake2b");
    append_n(s, 3, 1);
    char path[600];
    snprintf(path, sizeof path, "%s/audit.anchor", keys_dir);
    write_file(path, "3 nothex\n", 9, 0600);
    audit_report rep;
    ql_err err = {0};
    assert_int_equal(audit_verify(s, &rep, &err), QL_EINVAL);
    assert_non_null(strstr(err.en, path));
    /* Without an anchor the chain alone is checked. */
    unlink(path);
    expect_ok(s, 3);
    committed(s);
    expect_anchor(s, 3);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_verify),
        cmocka_unit_test(test_documented_encoding),
        cmocka_unit_test(test_edited_row),
        cmocka_unit_test(test_deleted_middle_row),
        cmocka_unit_test(test_reordered_rows),
        cmocka_unit_test(test_deleted_tail),
        cmocka_unit_test(test_rewritten_tail),
        cmocka_unit_test(test_attacker_without_key),
        cmocka_unit_test(test_algo_changed),
        cmocka_unit_test(test_rollback_keeps_anchor),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_race_for_seq),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_damaged_anchor),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "audit (postgres)" : "audit (sqlite)", tests,
                                       NULL, NULL);
}
