/* audit.c - the tamper-evident audit log: keyed hash chain, anchor file and verifier. */
#include "audit/audit.h"

#include "core/buf.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/*
 * The hashed message of one row (format version 1)
 * ------------------------------------------------
 * Each row's hash is a keyed hash over a message that encodes, in this order,
 * the tag "qianlima-audit-v1" and the row's fourteen stored fields:
 *
 *    tag, seq, at_ms, actor_id, actor, action, object_type, object_id,
 *    before_digest, after_digest, detail, ip, request_id, algo, prev_hash
 *
 * Every item is written as its length in bytes in decimal ASCII (no sign, no
 * leading zeros), a colon, then the bytes themselves, with nothing between
 * items. Integers (seq, at_ms, actor_id) are their shortest decimal form
 * ("-" for negatives); a NULL actor_id is the empty item "0:". Text is the
 * column's bytes exactly as stored (UTF-8, no terminator). Row 14 written at
 * 1767225600000 ms by user 7 "ops" begins
 *
 *    17:qianlima-audit-v1 2:14 13:1767225600000 1:7 3:ops ...
 *
 * (spaces added here for reading only). The hash is
 *
 *    algo "blake2b": BLAKE2b with a 32-byte output, keyed with the 32-byte key
 *                    in security.keys_dir/audit.key (libsodium crypto_generichash);
 *    algo "sm3":     HMAC-SM3 with the same key (RFC 2104 over GB/T 32905);
 *
 * stored as 64 lower-case hex characters. Row 1's prev_hash is 64 '0's; every
 * other row's prev_hash is the hash column of the row before it.
 *
 * The anchor file security.keys_dir/audit.anchor holds one line, "SEQ HASH\n"
 * (decimal seq, one space, 64 hex characters): the highest committed row
 * known to this installation. It only moves forward (audit_committed), is
 * replaced by rename so it is never half-written, and its writers take an
 * flock on security.keys_dir/audit.anchor.lock.
 */

#define HASH_HEX       64
#define MSG_TAG        "qianlima-audit-v1"
#define DIGEST_KEY_TAG "qianlima-audit-digest-v1"

static const char zero_hash[HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Set by audit_init before any thread appends; read-only afterwards. */
static int g_ready;
static enum audit_algo g_algo;
static unsigned char g_key[KEY_BYTES];
static unsigned char g_digest_key[KEY_BYTES];
static char g_anchor_path[4200];
static char g_lock_path[4200];
static char g_tmp_template[4200];

typedef struct text {
    const char *p;
    size_t n;
} text;

/* One row as stored (or about to be). */
struct row {
    int64_t seq;
    int64_t at_ms;
    int has_actor_id;
    int64_t actor_id;
    text actor, action, object_type, object_id, before, after, detail, ip, request_id, algo,
        prev_hash;
};

static const char *algo_name(enum audit_algo a)
{
    return a == AUDIT_SM3 ? "sm3" : "blake2b";
}

/* 0 for a name that is not an algorithm. */
static int algo_parse(const char *p, size_t n)
{
    if (n == 7 && memcmp(p, "blake2b", 7) == 0) return AUDIT_BLAKE2B;
    if (n == 3 && memcmp(p, "sm3", 3) == 0) return AUDIT_SM3;
    return 0;
}

static text txt(const char *s)
{
    return (text){s ? s : "", s ? strlen(s) : 0};
}

/* --- the hashed message ------------------------------------------------- */

static void put_item(buf *b, const char *p, size_t n)
{
    (void)buf_printf(b, "%zu:", n);
    (void)buf_append(b, p, n);
}

static void put_text(buf *b, text t)
{
    put_item(b, t.p, t.n);
}

static void put_int(buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    put_item(b, tmp, (size_t)n);
}

static void encode_row(buf *b, const struct row *r)
{
    buf_reset(b);
    put_item(b, MSG_TAG, strlen(MSG_TAG));
    put_int(b, r->seq);
    put_int(b, r->at_ms);
    if (r->has_actor_id)
        put_int(b, r->actor_id);
    else
        put_item(b, "", 0);
    put_text(b, r->actor);
    put_text(b, r->action);
    put_text(b, r->object_type);
    put_text(b, r->object_id);
    put_text(b, r->before);
    put_text(b, r->after);
    put_text(b, r->detail);
    put_text(b, r->ip);
    put_text(b, r->request_id);
    put_text(b, r->algo);
    put_text(b, r->prev_hash);
}

static int hmac_sm3(const unsigned char *key, const void *msg, size_t n, unsigned char out[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SM3";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    size_t outl = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, KEY_BYTES, params) && EVP_MAC_update(ctx, msg, n) &&
             EVP_MAC_final(ctx, out, &outl, 32) && outl == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

/* Keyed hash of msg as 64 hex characters. Returns 0, or -1 if the
 * algorithm is not available. */
static int keyed_hash(enum audit_algo algo, const void *msg, size_t n, char out[HASH_HEX + 1])
{
    unsigned char h[32];
    if (algo == AUDIT_SM3) {
        if (hmac_sm3(g_key, msg, n, h) != 0) return -1;
    } else {
        crypto_generichash(h, sizeof h, msg, n, g_key, KEY_BYTES);
    }
    sodium_bin2hex(out, HASH_HEX + 1, h, sizeof h);
    return 0;
}

static int is_hash(const char *p, size_t n)
{
    if (n != HASH_HEX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return 0;
    return 1;
}

static int text_eq(text a, const char *b, size_t bn)
{
    return a.n == bn && memcmp(a.p, b, bn) == 0;
}

/* --- set-up ------------------------------------------------------------- */

static int not_ready(ql_err *err)
{
    return ql_errf(err, QL_EINTERNAL, NULL, "the audit log is not initialised (audit_init)",
                   "审计日志尚未初始化（audit_init）");
}

int audit_init(const char *keys_dir, const char *algo, ql_err *err)
{
    int a = algo ? algo_parse(algo, strlen(algo)) : 0;
    if (!a)
        return ql_errf(err, QL_EINVAL, "security.audit_hash",
                       "security.audit_hash must be blake2b or sm3, not '%.64s'",
                       "security.audit_hash（审计哈希算法）必须是 blake2b 或 sm3，而不是“%.64s”",
                       algo ? algo : "");
    if (!keys_dir || !*keys_dir)
        return ql_errf(err, QL_EINVAL, "security.keys_dir", "security.keys_dir is empty",
                       "security.keys_dir（密钥目录）为空");
    char anchor[sizeof g_anchor_path], lock[sizeof g_lock_path], tmpl[sizeof g_tmp_template];
    if ((size_t)snprintf(anchor, sizeof anchor, "%s/audit.anchor", keys_dir) >= sizeof anchor ||
        (size_t)snprintf(lock, sizeof lock, "%s/audit.anchor.lock", keys_dir) >= sizeof lock ||
        (size_t)snprintf(tmpl, sizeof tmpl, "%s/.audit.anchor.XXXXXX", keys_dir) >= sizeof tmpl)
        return ql_errf(err, QL_EINVAL, "security.keys_dir", "security.keys_dir is too long",
                       "security.keys_dir（密钥目录）过长");
    unsigned char key[KEY_BYTES];
    int rc = keys_load(keys_dir, "audit.key", 1, key, err);
    if (rc) return rc;
    if (a == AUDIT_SM3) {
        unsigned char probe[32];
        if (hmac_sm3(key, "probe", 5, probe) != 0) {
            sodium_memzero(key, sizeof key);
            return ql_errf(
                err, QL_EUNAVAIL, "security.audit_hash",
                "security.audit_hash is sm3 but HMAC-SM3 is not available in this "
                "OpenSSL",
                "security.audit_hash（审计哈希算法）为 sm3，但此 OpenSSL 不支持 HMAC-SM3");
        }
    }
    memcpy(g_key, key, sizeof key);
    /* before/after digests use a key of their own derived from the audit key. */
    crypto_generichash(g_digest_key, sizeof g_digest_key, (const unsigned char *)DIGEST_KEY_TAG,
                       strlen(DIGEST_KEY_TAG), key, sizeof key);
    sodium_memzero(key, sizeof key);
    memcpy(g_anchor_path, anchor, sizeof anchor);
    memcpy(g_lock_path, lock, sizeof lock);
    memcpy(g_tmp_template, tmpl, sizeof tmpl);
    g_algo = (enum audit_algo)a;
    g_ready = 1;
    return 0;
}

/* --- digests ------------------------------------------------------------ */

/* Keyed BLAKE2b-256 of the value's compact JSON with sorted keys, using a key
 * derived from the audit key, so that someone who can read the database
 * cannot confirm a guessed personal record against a digest. Before
 * audit_init the hash is unkeyed. A NULL value gives "". */
void audit_digest(const json_t *value, char out[65])
{
    out[0] = '\0';
    if (!value) return;
    char *s = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s) abort(); /* only on allocation failure */
    unsigned char h[32];
    if (g_ready) {
        crypto_generichash(h, sizeof h, (const unsigned char *)s, strlen(s), g_digest_key,
                           sizeof g_digest_key);
    } else {
        if (sodium_init() < 0) abort();
        crypto_generichash(h, sizeof h, (const unsigned char *)s, strlen(s), NULL, 0);
    }
    free(s);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* --- appending ---------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int store_fail(store *s, int rc, const char *what, ql_err *err)
{
    return ql_errf(err, rc, NULL, "audit log: cannot %s: %s", "审计日志：无法%s：%s", what,
                   store_errmsg(s));
}

int audit_append(store *s, const audit_event *ev, int64_t *seq_out, ql_err *err)
{
    if (!g_ready) return not_ready(err);
    if (ev->detail && !json_is_object(ev->detail))
        return ql_errf(err, QL_EINVAL, NULL, "audit detail must be a JSON object",
                       "审计详情必须是 JSON 对象");

    store_rows *r;
    int rc =
        store_query(s, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", NULL, 0, &r);
    if (rc) return store_fail(s, rc, "read the last row", err);
    int64_t last = 0;
    char *prev = NULL;
    rc = store_step(r);
    if (rc == 1) {
        size_t n;
        const char *h = store_col_text(r, 1, &n);
        last = store_col_int(r, 0);
        prev = xstrndup(h, n);
    }
    store_rows_close(r);
    if (rc < 0) return store_fail(s, rc, "read the last row", err);

    char before[65], after[65], hash[HASH_HEX + 1];
    audit_digest(ev->before, before);
    audit_digest(ev->after, after);
    char *detail =
        ev->detail ? json_dumps(ev->detail, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
    if (!detail) abort(); /* only on allocation failure */
    const char *algo = algo_name(g_algo);

    struct row row = {
        .seq = last + 1,
        .at_ms = now_ms(),
        .has_actor_id = ev->actor_id != 0,
        .actor_id = ev->actor_id,
        .actor = txt(ev->actor),
        .action = txt(ev->action),
        .object_type = txt(ev->object_type),
        .object_id = txt(ev->object_id),
        .before = txt(before),
        .after = txt(after),
        .detail = txt(detail),
        .ip = txt(ev->ip),
        .request_id = txt(ev->request_id),
        .algo = txt(algo),
        .prev_hash = txt(prev ? prev : zero_hash),
    };
    buf msg = BUF_INIT;
    encode_row(&msg, &row);
    rc = keyed_hash(g_algo, msg.data, msg.len, hash);
    buf_free(&msg);
    if (rc != 0) {
        free(detail);
        free(prev);
        return ql_errf(err, QL_EUNAVAIL, "security.audit_hash", "%s is not available", "%s 不可用",
                       "HMAC-SM3");
    }

    store_val args[] = {
        SV_INT(row.seq),
        SV_INT(row.at_ms),
        row.has_actor_id ? SV_INT(row.actor_id) : SV_NULL,
        SV_TEXTN(row.actor.p, row.actor.n),
        SV_TEXTN(row.action.p, row.action.n),
        SV_TEXTN(row.object_type.p, row.object_type.n),
        SV_TEXTN(row.object_id.p, row.object_id.n),
        SV_TEXTN(row.before.p, row.before.n),
        SV_TEXTN(row.after.p, row.after.n),
        SV_TEXTN(row.detail.p, row.detail.n),
        SV_TEXTN(row.ip.p, row.ip.n),
        SV_TEXTN(row.request_id.p, row.request_id.n),
        SV_TEXTN(row.algo.p, row.algo.n),
        SV_TEXTN(row.prev_hash.p, row.prev_hash.n),
        SV_TEXT(hash),
    };
    rc = store_exec(s,
                    "INSERT INTO audit_log (seq, at_ms, actor_id, actor, action, object_type, "
                    "object_id, before_digest, after_digest, detail, ip, request_id, algo, "
                    "prev_hash, hash) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    args, (int)(sizeof args / sizeof args[0]), NULL);
    free(detail);
    free(prev);
    if (rc == QL_ECONFLICT) {
        /* Another transaction took this seq first: run the whole transaction again. */
        return ql_errf(err, QL_EBUSY, NULL, "audit log: row %" PRId64 " was taken, retrying",
                       "审计日志：第 %" PRId64 " 行已被占用，将重试", row.seq);
    }
    if (rc) return store_fail(s, rc, "append a row", err);
    if (seq_out) *seq_out = row.seq;
    return 0;
}

/* --- the anchor --------------------------------------------------------- */

struct anchor {
    int64_t seq;
    char hash[HASH_HEX + 1];
};

static int anchor_damaged(ql_err *err)
{
    return ql_errf(err, QL_EINVAL, "security.keys_dir",
                   "the audit anchor %s is damaged: it must hold one line \"SEQ HASH\"",
                   "审计锚点文件 %s 已损坏：应只有一行“序号 哈希”", g_anchor_path);
}

/* Reads the anchor file: 1 = read into a, 0 = there is none, < 0 = error. */
static int anchor_read(struct anchor *a, ql_err *err)
{
    int fd = open(g_anchor_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) return 0;
    if (fd < 0)
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot open the audit anchor %s: %s",
                       "无法打开审计锚点文件 %s：%s", g_anchor_path, strerror(errno));
    char data[128];
    size_t n = 0;
    while (n < sizeof data - 1) {
        ssize_t k = read(fd, data + n, sizeof data - 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            return ql_errf(err, QL_EIO, "security.keys_dir", "cannot read the audit anchor %s: %s",
                           "无法读取审计锚点文件 %s：%s", g_anchor_path, strerror(e));
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    data[n] = '\0';
    /* Exactly: 1 to 18 digits, a space, 64 hex characters, a newline. */
    size_t i = 0;
    int64_t seq = 0;
    while (i < n && i < 18 && data[i] >= '0' && data[i] <= '9') seq = seq * 10 + (data[i++] - '0');
    if (i == 0 || data[0] == '0' || i + 1 + HASH_HEX + 1 != n || data[i] != ' ' ||
        !is_hash(data + i + 1, HASH_HEX) || data[n - 1] != '\n')
        return anchor_damaged(err);
    a->seq = seq;
    memcpy(a->hash, data + i + 1, HASH_HEX);
    a->hash[HASH_HEX] = '\0';
    return 1;
}

/* Replaces the anchor file with a complete new one (temporary file, fsync,
 * rename): readers see the old anchor or the new one, never a part. */
static int anchor_write(int64_t seq, const char *hash, ql_err *err)
{
    char tmp[sizeof g_tmp_template];
    memcpy(tmp, g_tmp_template, sizeof tmp);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot write the audit anchor %s: %s",
                       "无法写入审计锚点文件 %s：%s", g_anchor_path, strerror(errno));
    char line[HASH_HEX + 32];
    int n = snprintf(line, sizeof line, "%" PRId64 " %s\n", seq, hash);
    size_t done = 0;
    int ok = 1;
    while (ok && done < (size_t)n) {
        ssize_t k = write(fd, line + done, (size_t)n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            ok = 0;
        else
            done += (size_t)k;
    }
    if (ok && fsync(fd) != 0) ok = 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, g_anchor_path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot write the audit anchor %s: %s",
                       "无法写入审计锚点文件 %s：%s", g_anchor_path, strerror(e));
    }
    return 0;
}

/* Reads the committed head of the log: 1 = found, 0 = the log is empty, < 0 = error. */
static int read_head(store *s, int64_t *seq, char hash[HASH_HEX + 1], ql_err *err)
{
    store_rows *r;
    int rc =
        store_query(s, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", NULL, 0, &r);
    if (rc) return store_fail(s, rc, "read the last row", err);
    rc = store_step(r);
    int valid = 1;
    if (rc == 1) {
        size_t n;
        const char *h = store_col_text(r, 1, &n);
        *seq = store_col_int(r, 0);
        valid = is_hash(h, n);
        if (valid) {
            memcpy(hash, h, HASH_HEX);
            hash[HASH_HEX] = '\0';
        }
    }
    store_rows_close(r);
    if (rc < 0) return store_fail(s, rc, "read the last row", err);
    if (!valid)
        return ql_errf(err, QL_ECONFLICT, NULL,
                       "audit log: row %" PRId64 " has a malformed hash; the anchor is kept",
                       "审计日志：第 %" PRId64 " 行的哈希格式错误；锚点保持不变", *seq);
    return rc;
}

/* 1 if row seq exists with this hash, 0 if not, < 0 on a store error. */
static int row_has_hash(store *s, int64_t seq, const char *hash, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s, "SELECT hash FROM audit_log WHERE seq = $1", (store_val[]){SV_INT(seq)},
                         1, &r);
    if (rc) return store_fail(s, rc, "read a row", err);
    rc = store_step(r);
    int same = 0;
    if (rc == 1) {
        size_t n;
        const char *h = store_col_text(r, 0, &n);
        same = n == HASH_HEX && memcmp(h, hash, HASH_HEX) == 0;
    }
    store_rows_close(r);
    if (rc < 0) return store_fail(s, rc, "read a row", err);
    return same;
}

int audit_committed(store *s, ql_err *err)
{
    if (!g_ready) return not_ready(err);
    /* Inside a transaction (a service's store_tx nested in its caller's):
     * nothing has committed yet; the outermost caller moves the anchor. */
    if (store_in_tx(s)) return 0;
    int64_t head = 0;
    char hash[HASH_HEX + 1];
    int rc = read_head(s, &head, hash, err);
    if (rc <= 0) return rc;

    /* One writer at a time across threads and processes (flock locks belong
     * to the open file, so two opens in one process exclude each other too). */
    int lfd = open(g_lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lfd < 0)
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot open %s: %s", "无法打开 %s：%s",
                       g_lock_path, strerror(errno));
    do {
        rc = flock(lfd, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int e = errno;
        close(lfd);
        return ql_errf(err, QL_EIO, "security.keys_dir", "cannot lock %s: %s", "无法锁定 %s：%s",
                       g_lock_path, strerror(e));
    }
    struct anchor a;
    rc = anchor_read(&a, err);
    if (rc >= 0 && (rc == 0 || head > a.seq)) {
        if (rc == 1) {
            /* The row the anchor records must still be there unchanged;
             * otherwise the log was rewritten and the anchor is the evidence. */
            rc = row_has_hash(s, a.seq, a.hash, err);
            if (rc == 0) {
                log_error("audit: row %" PRId64 " no longer matches the anchor %s; "
                          "the anchor is kept (run the audit verification)",
                          a.seq, g_anchor_path);
                rc = ql_errf(err, QL_ECONFLICT, NULL,
                             "audit log: row %" PRId64 " no longer matches the anchor; "
                             "the anchor is kept",
                             "审计日志：第 %" PRId64 " 行与锚点不符；锚点保持不变", a.seq);
            }
        }
        if (rc >= 0) {
            rc = anchor_write(head, hash, err);
            /* Logged under the lock, so the log lists heads in order. */
            if (rc == 0) log_info("audit head seq=%" PRId64 " hash=%s", head, hash);
        }
    }
    flock(lfd, LOCK_UN);
    close(lfd);
    if (rc < 0) return rc;
    return 0;
}

/* --- verification ------------------------------------------------------- */

static void fail_at(audit_report *rep, int64_t seq, const char *fmt_en, const char *fmt_zh, ...)
    __attribute__((format(printf, 3, 5), format(printf, 4, 5)));

static void fail_at(audit_report *rep, int64_t seq, const char *fmt_en, const char *fmt_zh, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt_zh);
    va_copy(ap2, ap);
    vsnprintf(rep->reason_en, sizeof rep->reason_en, fmt_en, ap);
    vsnprintf(rep->reason_zh, sizeof rep->reason_zh, fmt_zh, ap2);
    va_end(ap2);
    va_end(ap);
    rep->ok = 0;
    rep->broken_seq = seq;
}

static text col(store_rows *r, int c)
{
    text t;
    t.p = store_col_text(r, c, &t.n);
    return t;
}

/* Checks one row against the one before it (prev, the previous row's stored
 * hash) and the anchor; records the first failure in rep. */
static void check_row(audit_report *rep, const struct row *row, text hash, int64_t expect,
                      const buf *prev, const struct anchor *a, buf *msg)
{
    if (row->seq != expect) {
        if (row->seq > expect)
            fail_at(rep, expect, "row %" PRId64 " is missing (deleted)",
                    "第 %" PRId64 " 行缺失（已被删除）", expect);
        else
            fail_at(rep, row->seq, "row %" PRId64 " is out of order", "第 %" PRId64 " 行顺序错误",
                    row->seq);
        return;
    }
    int algo = algo_parse(row->algo.p, row->algo.n);
    if (!algo) {
        fail_at(rep, row->seq, "row %" PRId64 " has an unknown hash algorithm '%.*s'",
                "第 %" PRId64 " 行的哈希算法“%.*s”未知", row->seq,
                (int)(row->algo.n > 16 ? 16 : row->algo.n), row->algo.p);
        return;
    }
    if (!text_eq(row->prev_hash, prev->data ? prev->data : "", prev->len)) {
        if (row->seq == 1)
            fail_at(rep, 1, "row 1 does not start the chain: rows deleted or reordered",
                    "第 1 行不是链的开头：有行被删除或顺序被调换");
        else
            fail_at(rep, row->seq,
                    "row %" PRId64 " does not link to row %" PRId64 ": rows deleted or reordered",
                    "第 %" PRId64 " 行未链接到第 %" PRId64 " 行：有行被删除或顺序被调换", row->seq,
                    row->seq - 1);
        return;
    }
    char want[HASH_HEX + 1];
    encode_row(msg, row);
    if (keyed_hash((enum audit_algo)algo, msg->data, msg->len, want) != 0) {
        fail_at(rep, row->seq, "row %" PRId64 " cannot be checked: %s is not available",
                "第 %" PRId64 " 行无法校验：%s 不可用", row->seq, "HMAC-SM3");
        return;
    }
    if (!text_eq(hash, want, HASH_HEX)) {
        fail_at(rep, row->seq, "row %" PRId64 " was changed after it was written",
                "第 %" PRId64 " 行在写入后被修改", row->seq);
        return;
    }
    if (a && row->seq == a->seq && !text_eq(hash, a->hash, HASH_HEX))
        fail_at(rep, row->seq,
                "row %" PRId64 " differs from the anchor: the log was rewritten from here on",
                "第 %" PRId64 " 行与锚点不符：日志从此处起被改写", row->seq);
}

int audit_verify(store *s, audit_report *rep, ql_err *err)
{
    memset(rep, 0, sizeof *rep);
    rep->ok = 1;
    if (!g_ready) return not_ready(err);
    /* The anchor is read before the rows: it only records committed rows, so
     * every row it names is in the snapshot the query below reads. */
    struct anchor a;
    int have = anchor_read(&a, err);
    if (have < 0) return have;

    store_rows *r;
    int rc = store_query(s,
                         "SELECT seq, at_ms, actor_id, actor, action, object_type, object_id, "
                         "before_digest, after_digest, detail, ip, request_id, algo, prev_hash, "
                         "hash FROM audit_log ORDER BY seq",
                         NULL, 0, &r);
    if (rc) return store_fail(s, rc, "read the log", err);
    buf prev = BUF_INIT, msg = BUF_INIT;
    (void)buf_append(&prev, zero_hash, HASH_HEX);
    int64_t expect = 1;
    while ((rc = store_step(r)) == 1) {
        struct row row = {
            .seq = store_col_int(r, 0),
            .at_ms = store_col_int(r, 1),
            .has_actor_id = !store_col_isnull(r, 2),
            .actor_id = store_col_int(r, 2),
            .actor = col(r, 3),
            .action = col(r, 4),
            .object_type = col(r, 5),
            .object_id = col(r, 6),
            .before = col(r, 7),
            .after = col(r, 8),
            .detail = col(r, 9),
            .ip = col(r, 10),
            .request_id = col(r, 11),
            .algo = col(r, 12),
            .prev_hash = col(r, 13),
        };
        text hash = col(r, 14);
        rep->rows++;
        rep->head_seq = row.seq;
        snprintf(rep->head_hash, sizeof rep->head_hash, "%.*s",
                 (int)(hash.n > HASH_HEX ? HASH_HEX : hash.n), hash.p);
        if (rep->ok) check_row(rep, &row, hash, expect, &prev, have ? &a : NULL, &msg);
        expect = row.seq + 1;
        buf_reset(&prev);
        (void)buf_append(&prev, hash.p, hash.n);
    }
    store_rows_close(r);
    buf_free(&prev);
    buf_free(&msg);
    if (rc < 0) return store_fail(s, rc, "read the log", err);

    if (rep->ok && have && a.seq > rep->head_seq) {
        if (rep->head_seq == 0)
            fail_at(rep, 1, "all rows were deleted (the anchor records row %" PRId64 ")",
                    "所有行均已被删除（锚点记录到第 %" PRId64 " 行）", a.seq);
        else
            fail_at(rep, rep->head_seq + 1,
                    "rows after %" PRId64 " were deleted (the anchor records row %" PRId64 ")",
                    "第 %" PRId64 " 行之后的行已被删除（锚点记录到第 %" PRId64 " 行）",
                    rep->head_seq, a.seq);
    }
    return 0;
}

int audit_by(store *s, const actor *a, const char *action, const char *object_type,
             int64_t object_id, const json_t *before, const json_t *after, const json_t *detail,
             int64_t *seq, ql_err *err)
{
    char oid[24] = "", who[128];
    if (object_id) snprintf(oid, sizeof oid, "%lld", (long long)object_id);
    actor_label(a, who);
    audit_event ev = {.actor_id = a ? a->user_id : 0,
                      .actor = who,
                      .action = action,
                      .object_type = object_type,
                      .object_id = oid,
                      .before = before,
                      .after = after,
                      .detail = detail,
                      .ip = a ? a->ip : "",
                      .request_id = a ? a->request_id : ""};
    return audit_append(s, &ev, seq, err);
}
