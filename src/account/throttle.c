/* throttle.c - counting failed sign-ins per username (without an account),
 * per client address and per known device, and pruning what has expired.
 *
 * A throttle row (signin_throttle) counts failures in a row under one key:
 * a username that has no account (its hash, as before) or a client address
 * ("a:" and a hash). A row quiet for longer than security.lockout_minutes
 * counts as none: its count has lapsed and any lock it held has ended. So
 * what a sign-in sees never depends on whether such a row was deleted yet,
 * and several processes may prune at once. */
#include "account/internal.h"

#include "core/log.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

void throttle_name_key(const char *lower, char out[THROTTLE_KEY])
{
    /* the key of 0003_signin_throttle: the hash of the name, unprefixed */
    auth_token_hash(lower, out);
}

void throttle_address_text(const char *ip, char out[64])
{
    unsigned char a6[16];
    struct in_addr a4;
    if (ip && inet_pton(AF_INET, ip, &a4) == 1) {
        inet_ntop(AF_INET, &a4, out, 64);
    } else if (ip && inet_pton(AF_INET6, ip, a6) == 1) {
        /* one subscriber gets a /64: its addresses are one client */
        memset(a6 + 8, 0, 8);
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, a6, text, sizeof text);
        snprintf(out, 64, "%s/64", text);
    } else {
        snprintf(out, 64, "%.63s", ip ? ip : "");
    }
}

void throttle_address_key(const char *ip, char out[THROTTLE_KEY])
{
    char text[64], h[65];
    throttle_address_text(ip, text);
    char tagged[80];
    snprintf(tagged, sizeof tagged, "address %s", text);
    auth_token_hash(tagged, h);
    snprintf(out, THROTTLE_KEY, "a:%s", h);
}

int throttle_read(store *s, const char *key, int64_t now, struct throttle_state *out)
{
    memset(out, 0, sizeof *out);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT failed, locked_until, updated_at FROM signin_throttle "
                         "WHERE key = $1",
                         (store_val[]){SV_TEXT(key)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1 && now - store_col_int(r, 2) <= account_cfg.lockout_s) {
        out->failed = store_col_int(r, 0);
        int64_t until = store_col_isnull(r, 1) ? 0 : store_col_int(r, 1);
        out->locked_until = until > now ? until : 0;
    }
    store_rows_close(r);
    return rc < 0 ? rc : 0;
}

int throttle_fail(store *s, const char *key, int64_t now, long limit, int64_t *failed,
                  int64_t *locked_until)
{
    struct throttle_state st;
    int rc = throttle_read(s, key, now, &st);
    if (rc) return rc;
    *failed = st.failed + 1;
    int lock = limit > 0 && *failed >= limit;
    *locked_until = lock ? now + account_cfg.lockout_s : 0;
    rc = store_exec(s, "DELETE FROM signin_throttle WHERE key = $1", (store_val[]){SV_TEXT(key)}, 1,
                    NULL);
    if (!rc)
        rc = store_exec(s,
                        "INSERT INTO signin_throttle (key, failed, locked_until, updated_at) "
                        "VALUES ($1, $2, $3, $4)",
                        (store_val[]){SV_TEXT(key), SV_INT(lock ? 0 : *failed),
                                      lock ? SV_INT(*locked_until) : SV_NULL, SV_INT(now)},
                        4, NULL);
    return rc;
}

/* ---- known devices ----------------------------------------------------- */

#define DEVICE_DAYS  90
#define DEVICES_KEPT 20

int device_check(store *s, const char *token, int64_t user_id, int64_t now, int *ok)
{
    *ok = 0;
    if (!token || strlen(token) != 43 || !user_id) return 0; /* auth_random_token's */
    char hash[65];
    auth_token_hash(token, hash);
    store_rows *r;
    int rc = store_query(s, "SELECT user_id, expires_at FROM signin_devices WHERE token_hash = $1",
                         (store_val[]){SV_TEXT(hash)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) *ok = store_col_int(r, 0) == user_id && store_col_int(r, 1) > now;
    store_rows_close(r);
    return rc < 0 ? rc : 0;
}

int device_fail(store *s, const char *token)
{
    char hash[65];
    auth_token_hash(token, hash);
    int rc = store_exec(s, "UPDATE signin_devices SET failed = failed + 1 WHERE token_hash = $1",
                        (store_val[]){SV_TEXT(hash)}, 1, NULL);
    if (!rc)
        rc = store_exec(s, "DELETE FROM signin_devices WHERE token_hash = $1 AND failed >= $2",
                        (store_val[]){SV_TEXT(hash), SV_INT(account_cfg.lockout_after)}, 2, NULL);
    return rc;
}

int device_remember(store *s, int64_t user_id, const char *known, int64_t now,
                    char out[AUTH_TOKEN_CHARS])
{
    int64_t expires = now + (int64_t)DEVICE_DAYS * 86400;
    char hash[65];
    int rc;
    if (known) {
        snprintf(out, AUTH_TOKEN_CHARS, "%s", known);
        auth_token_hash(known, hash);
        rc = store_exec(s,
                        "UPDATE signin_devices SET failed = 0, last_used_at = $1, expires_at = $2 "
                        "WHERE token_hash = $3",
                        (store_val[]){SV_INT(now), SV_INT(expires), SV_TEXT(hash)}, 3, NULL);
    } else {
        auth_random_token(out);
        auth_token_hash(out, hash);
        rc = store_exec(s,
                        "INSERT INTO signin_devices (token_hash, user_id, created_at, "
                        "last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
                        (store_val[]){SV_TEXT(hash), SV_INT(user_id), SV_INT(now), SV_INT(expires)},
                        4, NULL);
    }
    if (rc) return rc;
    /* the newest few per account: a browser that never keeps the cookie
     * (a script) does not fill the table */
    return store_exec(s,
                      "DELETE FROM signin_devices WHERE user_id = $1 AND token_hash NOT IN "
                      "(SELECT token_hash FROM signin_devices WHERE user_id = $1 "
                      "ORDER BY last_used_at DESC, token_hash LIMIT $2)",
                      (store_val[]){SV_INT(user_id), SV_INT(DEVICES_KEPT)}, 2, NULL);
}

/* ---- pruning ----------------------------------------------------------- */

#define PRUNE_BATCH 1000

struct prune_ctx {
    int64_t now;
    int64_t removed;
};

static int prune_body(store *s, void *arg)
{
    struct prune_ctx *x = arg;
    int64_t n = 0, m = 0;
    /* at most a batch per transaction, so that a long-neglected table does
     * not hold a write lock for long */
    int rc = store_exec(s,
                        "DELETE FROM signin_throttle WHERE key IN (SELECT key FROM "
                        "signin_throttle WHERE updated_at < $1 LIMIT $2)",
                        (store_val[]){SV_INT(x->now - account_cfg.lockout_s), SV_INT(PRUNE_BATCH)},
                        2, &n);
    if (!rc)
        rc = store_exec(s,
                        "DELETE FROM signin_devices WHERE token_hash IN (SELECT token_hash FROM "
                        "signin_devices WHERE expires_at <= $1 LIMIT $2)",
                        (store_val[]){SV_INT(x->now), SV_INT(PRUNE_BATCH)}, 2, &m);
    x->removed = n + m;
    return rc;
}

int account_throttle_prune(store *s, int64_t now, int64_t *removed, ql_err *err)
{
    int64_t total = 0;
    for (;;) {
        struct prune_ctx x = {now, 0};
        int rc = store_tx(s, STORE_TX_WRITE, prune_body, &x);
        if (rc)
            return ql_errf(err, rc, NULL, "cannot prune the sign-in throttle: %s",
                           "无法清理登录限制记录：%s", store_errmsg(s));
        total += x.removed;
        if (x.removed < PRUNE_BATCH) break;
    }
    if (removed) *removed = total;
    return 0;
}

/* Once a minute per process at most, after a sign-in: enough to keep the
 * tables small, rare enough to cost nothing. */
static _Atomic int64_t last_prune;

void account_throttle_maybe_prune(store *s, int64_t now)
{
    int64_t last = atomic_load(&last_prune);
    if (now - last < 60 || !atomic_compare_exchange_strong(&last_prune, &last, now)) return;
    ql_err err;
    int64_t n = 0;
    if (account_throttle_prune(s, now, &n, &err))
        log_warn("%s", err.en);
    else if (n)
        log_debug("sign-in throttle: pruned %lld dead row(s)", (long long)n);
}
