/* account.c - signing in and out, passwords, user administration, tokens. */
#include "account/account.h"

#include "account/internal.h"
#include "audit/audit.h"
#include "auth/password.h"
#include "core/log.h"
#include "core/text.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct account_settings account_cfg = {10, "interactive", 5, 15 * 60, 30, {30 * 60, 12 * 3600}};

void account_init(const ql_config *cfg)
{
    account_cfg.min_len = cfg->password_min_length;
    snprintf(account_cfg.cost, sizeof account_cfg.cost, "%s", cfg->password_hash);
    account_cfg.lockout_after = cfg->lockout_after;
    account_cfg.lockout_s = cfg->lockout_minutes * 60;
    account_cfg.address_after = cfg->lockout_address_after;
    account_cfg.lim.idle_s = cfg->session_idle * 60;
    account_cfg.lim.max_s = cfg->session_max * 3600;
}

const struct session_limits *account_session_limits(void)
{
    return &account_cfg.lim;
}

void account_time_text(int64_t t, char out[32])
{
    time_t sh = (time_t)t + 8 * 3600;
    struct tm tm;
    gmtime_r(&sh, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

/* "10:45" in Shanghai time, for messages. */
static void clock_text(int64_t t, char out[8])
{
    time_t sh = (time_t)t + 8 * 3600;
    struct tm tm;
    gmtime_r(&sh, &tm);
    strftime(out, 8, "%H:%M", &tm);
}

/* ---- audit helper ---------------------------------------------------- */

int account_audit(store *s, const actor *a, const char *action, const char *object_type,
                  int64_t object_id, const json_t *before, const json_t *after, json_t *detail,
                  ql_err *err)
{
    json_t *unavailable = detail ? NULL : json_pack("{s:s}", "detail", "unavailable");
    int rc = audit_by(s, a, action, object_type, object_id, before, after,
                      detail ? detail : unavailable, NULL, err);
    json_decref(detail);
    json_decref(unavailable);
    return rc;
}

int account_write_tx(store *s, store_tx_fn fn, void *ctx)
{
    int rc = store_tx(s, STORE_TX_WRITE, fn, ctx);
    if (rc == 0) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

/* The state of an account as audited and shown (never the password hash). */
int account_user_state(store *s, int64_t id, json_t **out)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT username, display_name, scope_kind, scope_id, disabled, "
                         "must_change_password, locked_until, created_at, updated_at "
                         "FROM users WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc != 1) {
        store_rows_close(r);
        return rc == 0 ? QL_ENOTFOUND : rc;
    }
    char created[32], updated[32];
    account_time_text(store_col_int(r, 7), created);
    account_time_text(store_col_int(r, 8), updated);
    int64_t locked_until = store_col_isnull(r, 6) ? 0 : store_col_int(r, 6);
    json_t *u = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:s}", "id",
                          (json_int_t)id, "username", store_col_text(r, 0, NULL), "display_name",
                          store_col_text(r, 1, NULL), "scope", store_col_text(r, 2, NULL),
                          "scope_id", store_col_text(r, 3, NULL), "disabled",
                          (int)store_col_int(r, 4), "must_change_password",
                          (int)store_col_int(r, 5), "locked", locked_until > auth_now(),
                          "created_at", created, "updated_at", updated);
    store_rows_close(r);
    if (!u) return QL_EINTERNAL;
    rc = store_query(s, "SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role",
                     (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) {
        json_decref(u);
        return rc;
    }
    json_t *roles = json_array();
    while ((rc = store_step(r)) == 1) json_array_append_new(roles, json_string(store_col_text(r, 0, NULL)));
    store_rows_close(r);
    json_object_set_new(u, "roles", roles);
    if (rc < 0) {
        json_decref(u);
        return rc;
    }
    /* duty roles asked for and waiting for a second person */
    rc = store_query(s,
                     "SELECT role FROM role_requests WHERE user_id = $1 AND state = 'pending' "
                     "ORDER BY role",
                     (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) {
        json_decref(u);
        return rc;
    }
    json_t *pending = json_array();
    while ((rc = store_step(r)) == 1)
        json_array_append_new(pending, json_string(store_col_text(r, 0, NULL)));
    store_rows_close(r);
    json_object_set_new(u, "pending_roles", pending);
    if (rc < 0) {
        json_decref(u);
        return rc;
    }
    *out = u;
    return 0;
}

/* ---- signing in ------------------------------------------------------ */

struct signin_ctx {
    const char *username;
    const char *ip, *ua, *request_id;
    const char *device; /* the known-device cookie sent, or NULL */
    const char *cli;    /* account_signin_cli: the command line's label; no session */
    int64_t user_id;
    int password_ok;
    const char *rehash;   /* a new hash to store, when the cost changed */
    const char *verified; /* the hash the password was checked against */
    int too_long;         /* the username was too long to be real */
    int64_t now;
    struct signin_result *out;
    int outcome; /* a refused sign-in is committed (counted, audited), then returned */
    ql_err *err;
};

static int wrong_credentials(ql_err *err)
{
    return ql_errf(err, QL_EUNAUTH, "password", "wrong username or password",
                   "用户名或口令错误");
}

static int locked_message(ql_err *err, int64_t until)
{
    char hm[8];
    clock_text(until, hm);
    return ql_errf(
        err, QL_EFORBIDDEN, "username",
        "too many failed sign-ins: this account is locked until %s (Beijing time) for "
        "browsers that have not signed in to it before; try again then, sign in from "
        "a browser you used before, or ask the administrator to unlock it",
        "登录失败次数过多：该账户已锁定至 %s（北京时间），此前未登录过该账户的浏览器暂不能登录；"
        "请届时再试、使用以前登录过的浏览器，或联系管理员解锁",
        hm);
}

static int address_locked_message(ql_err *err, int64_t until)
{
    char hm[8];
    clock_text(until, hm);
    return ql_errf(err, QL_EFORBIDDEN, "username",
                   "too many failed sign-ins from your network address: new sign-ins from it "
                   "are paused until %s (Beijing time); a browser that signed in to your account "
                   "before can still sign in",
                   "您所在网络地址的登录失败次数过多：在 %s（北京时间）之前暂停从该地址新登录；"
                   "以前登录过您账户的浏览器仍可登录",
                   hm);
}

/* The refusal while the name or the address is locked, for a browser that
 * is not a known device of the account. */
static int refuse_locked(store *s, struct signin_ctx *x, const actor *who, int64_t object,
                         json_t *digest, int64_t name_until, int64_t addr_until)
{
    json_t *d = json_pack("{s:s}", "reason", name_until ? "locked" : "address_locked");
    if (digest) json_object_set(d, "username_digest", digest);
    int rc = account_audit(s, who, "auth.signin_failed", "user", object, NULL, NULL, d, x->err);
    if (!rc)
        x->outcome = name_until ? locked_message(x->err, name_until)
                                : address_locked_message(x->err, addr_until);
    return rc;
}

/* One more failure from this client address (unless that is off). */
static int address_failure(store *s, const struct signin_ctx *x, const char *akey)
{
    if (account_cfg.address_after <= 0) return 0;
    int64_t n, until;
    return throttle_fail(s, akey, x->now, account_cfg.address_after, &n, &until);
}

/* A failed sign-in for a username without an account. It counts and locks
 * exactly as for a real account (signin_throttle), so that neither the
 * messages nor the lock-out tell which usernames exist. */
static int unknown_user_failure(store *s, struct signin_ctx *x, const actor *who, const char *typed,
                                const char *akey, int64_t addr_until)
{
    /* What was typed may be a password typed into the wrong field: the log
     * keeps only a keyed digest of a name that has no account. */
    char digest[65];
    json_t *name = json_string(typed);
    audit_digest(name, digest);
    json_decref(name);
    char lower[201], key[THROTTLE_KEY];
    size_t n = strlen(x->username) < 200 ? strlen(x->username) : 200;
    for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)x->username[i]);
    lower[n] = '\0';
    throttle_name_key(lower, key);
    struct throttle_state st;
    int rc = throttle_read(s, key, x->now, &st);
    if (rc) return rc;
    if (st.locked_until || addr_until) {
        json_t *d = json_string(digest);
        rc = refuse_locked(s, x, who, 0, d, st.locked_until, addr_until);
        json_decref(d);
        return rc;
    }
    const char *reason = x->too_long ? "too_long" : "unknown_user";
    int64_t failed, until;
    rc = throttle_fail(s, key, x->now, account_cfg.lockout_after, &failed, &until);
    if (!rc) rc = address_failure(s, x, akey);
    if (!rc)
        rc = account_audit(s, who, "auth.signin_failed", "user", 0, NULL, NULL,
                           json_pack("{s:s, s:s, s:I}", "username_digest", digest, "reason", reason,
                                     "failed_in_a_row", (json_int_t)failed),
                           x->err);
    if (!rc) x->outcome = until ? locked_message(x->err, until) : wrong_credentials(x->err);
    return rc;
}

static int signin_body(store *s, void *arg)
{
    struct signin_ctx *x = arg;
    actor who;
    memset(&who, 0, sizeof who);
    snprintf(who.ip, sizeof who.ip, "%s", x->ip ? x->ip : "");
    snprintf(who.request_id, sizeof who.request_id, "%s", x->request_id ? x->request_id : "");
    /* The username someone typed is not personal data in itself, but it
     * may be a mistyped password: keep at most 64 characters of it. */
    char typed[65];
    text_copy_clean(typed, sizeof typed, x->username);

    x->outcome = 0;
    char akey[THROTTLE_KEY];
    throttle_address_key(x->cli ? x->cli : x->ip, akey);
    struct throttle_state addr = {0, 0};
    int rc = account_cfg.address_after > 0 ? throttle_read(s, akey, x->now, &addr) : 0;
    if (rc) return rc;
    if (!x->user_id) return unknown_user_failure(s, x, &who, typed, akey, addr.locked_until);
    store_rows *r;
    rc = store_query(s,
                     "SELECT failed_signins, locked_until, disabled, must_change_password, "
                     "password_hash, failed_at FROM users WHERE id = $1",
                     (store_val[]){SV_INT(x->user_id)}, 1, &r);
    if (rc) return rc;
    if ((rc = store_step(r)) != 1) {
        store_rows_close(r);
        if (rc == 0) x->outcome = wrong_credentials(x->err);
        return rc < 0 ? rc : 0;
    }
    int64_t failed = store_col_int(r, 0);
    int64_t locked_until = store_col_isnull(r, 1) ? 0 : store_col_int(r, 1);
    int disabled = (int)store_col_int(r, 2);
    int must_change = (int)store_col_int(r, 3);
    /* The password was checked before this transaction: if the account's
     * password changed meanwhile (a reset), that check no longer counts. */
    int stale = x->verified && strcmp(store_col_text(r, 4, NULL), x->verified) != 0;
    /* failures in a row lapse as a throttle row does */
    int64_t failed_at = store_col_isnull(r, 5) ? 0 : store_col_int(r, 5);
    store_rows_close(r);
    if (x->now - failed_at > account_cfg.lockout_s) failed = 0;
    if (locked_until <= x->now) locked_until = 0;
    if (stale) x->password_ok = 0;
    who.user_id = x->user_id;
    snprintf(who.username, sizeof who.username, "%s", typed);

    /* A lock stops browsers that never signed in to the account: guessing
     * from elsewhere cannot lock the owner out of a browser they use. */
    int known = 0;
    if ((rc = device_check(s, x->device, x->user_id, x->now, &known))) return rc;
    if ((locked_until || addr.locked_until) && !known)
        return refuse_locked(s, x, &who, x->user_id, NULL, locked_until, addr.locked_until);
    if (!x->password_ok) {
        int lock = 0;
        int64_t until = x->now + account_cfg.lockout_s;
        if (!locked_until) {
            failed++;
            lock = failed >= account_cfg.lockout_after;
            rc = store_exec(s,
                            "UPDATE users SET failed_signins = $1, locked_until = $2, "
                            "failed_at = $3 WHERE id = $4",
                            (store_val[]){SV_INT(lock ? 0 : failed), lock ? SV_INT(until) : SV_NULL,
                                          SV_INT(x->now), SV_INT(x->user_id)},
                            4, NULL);
        }
        if (!rc && known) rc = device_fail(s, x->device);
        if (!rc) rc = address_failure(s, x, akey);
        if (rc) return rc;
        rc = account_audit(s, &who, "auth.signin_failed", "user", x->user_id, NULL, NULL,
                           json_pack("{s:s, s:I, s:b}", "reason",
                                     lock ? "locked_now" : "wrong_password", "failed_in_a_row",
                                     (json_int_t)failed, "known_device", known),
                           x->err);
        if (!rc) x->outcome = lock ? locked_message(x->err, until) : wrong_credentials(x->err);
        return rc;
    }
    if (disabled) {
        rc = account_audit(s, &who, "auth.signin_failed", "user", x->user_id, NULL, NULL,
                           json_pack("{s:s}", "reason", "disabled"), x->err);
        if (!rc)
            x->outcome = ql_errf(x->err, QL_EFORBIDDEN, "username",
                                 "this account is disabled; ask the administrator",
                                 "该账户已停用，请联系管理员");
        return rc;
    }
    if (x->cli && must_change) {
        rc = account_audit(s, &who, "auth.signin_failed", "user", x->user_id, NULL, NULL,
                           json_pack("{s:s, s:s}", "reason", "must_change_password", "via", x->cli),
                           x->err);
        if (!rc)
            x->outcome = ql_errf(x->err, QL_EFORBIDDEN, "password",
                                 "%s must choose its own password first: sign in to the console",
                                 "%s 须先设置自己的口令：请先登录控制台", typed);
        return rc;
    }
    /* A lock stays while it lasts: the owner coming in from a known browser
     * does not reopen the account to the one guessing. */
    if (!locked_until)
        rc =
            store_exec(s,
                       "UPDATE users SET failed_signins = 0, locked_until = NULL, failed_at = NULL "
                       "WHERE id = $1",
                       (store_val[]){SV_INT(x->user_id)}, 1, NULL);
    if (!rc && x->rehash)
        rc = store_exec(s, "UPDATE users SET password_hash = $1 WHERE id = $2",
                        (store_val[]){SV_TEXT(x->rehash), SV_INT(x->user_id)}, 2, NULL);
    if (rc) return rc;
    struct signin_result *o = x->out;
    o->user_id = x->user_id;
    o->must_change_password = must_change;
    if (x->cli)
        return account_audit(
            s, &who, "auth.signin", "user", x->user_id, NULL, NULL,
            json_pack("{s:I, s:s}", "user_id", (json_int_t)x->user_id, "via", x->cli), x->err);
    rc = device_remember(s, x->user_id, known ? x->device : NULL, x->now, o->device);
    if (!rc)
        rc = session_create(s, x->user_id, x->ip, x->ua, &account_cfg.lim, x->now, o->token,
                            o->csrf, &o->session_id);
    if (rc) return rc;
    return account_audit(
        s, &who, "auth.signin", "session", o->session_id, NULL, NULL,
        json_pack("{s:I, s:b}", "user_id", (json_int_t)x->user_id, "known_device", known), x->err);
}

/* Checks the password outside any transaction (Argon2id takes tens of
 * milliseconds and must not hold a write lock), then counts, audits and
 * starts the session in one. */
static int signin_run(store *s, const char *username, const char *password, struct signin_ctx *x)
{
    ql_err *err = x->err;
    if (!username || !*username)
        return ql_errf(err, QL_EINVAL, "username", "enter your username", "请输入用户名");
    if (!password || !*password)
        return ql_errf(err, QL_EINVAL, "password", "enter your password", "请输入口令");
    /* Usernames are lower case: "ALICE" is alice, and counts against her
     * account like any other attempt (else upper case would probe which
     * names exist through the lock-out). */
    char lower[201];
    size_t ulen = strlen(username);
    x->username = lower;
    x->now = auth_now();
    for (size_t i = 0; i < ulen && i < 200; i++) lower[i] = (char)tolower((unsigned char)username[i]);
    lower[ulen < 200 ? ulen : 200] = '\0';
    if (ulen > 200) {
        /* No account has such a name: counted and audited all the same. */
        x->too_long = 1;
        password_verify_dummy("x", account_cfg.cost);
        int rc = account_write_tx(s, signin_body, x);
        return rc ? rc : x->outcome;
    }
    int overlong_password = strlen(password) > 1024;

    char hash[PASSWORD_HASH_MAX] = "";
    store_rows *r;
    int rc = store_query(s, "SELECT id, password_hash FROM users WHERE username = $1",
                         (store_val[]){SV_TEXT(lower)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        x->user_id = store_col_int(r, 0);
        snprintf(hash, sizeof hash, "%s", store_col_text(r, 1, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return rc;
    char rehash[PASSWORD_HASH_MAX];
    if (x->user_id && overlong_password) {
        /* Wrong for certain, but it takes as long as a real check. */
        password_verify_dummy("x", account_cfg.cost);
        x->password_ok = 0;
    } else if (x->user_id) {
        x->password_ok = password_verify(hash, password);
        x->verified = hash;
        ql_err ignore;
        if (x->password_ok && password_needs_rehash(hash, account_cfg.cost) &&
            password_hash(password, account_cfg.cost, rehash, &ignore) == 0)
            x->rehash = rehash;
    } else {
        password_verify_dummy(overlong_password ? "x" : password, account_cfg.cost);
    }
    rc = account_write_tx(s, signin_body, x);
    sodium_memzero(hash, sizeof hash);
    account_throttle_maybe_prune(s, x->now);
    return rc ? rc : x->outcome;
}

int account_signin(store *s, const char *username, const char *password, const char *ip,
                   const char *user_agent, const char *device, const char *request_id,
                   struct signin_result *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    struct signin_ctx x = {.ip = ip,
                           .ua = user_agent,
                           .device = device,
                           .request_id = request_id,
                           .out = out,
                           .err = err};
    int rc = signin_run(s, username, password, &x);
    if (rc == 0) return 0;
    memset(out, 0, sizeof *out);
    if (err && !err->en[0]) ql_errf(err, rc, NULL, "sign-in failed: %s", "登录失败：%s", ql_err_name(rc));
    return rc;
}

int account_signin_cli(store *s, const char *username, const char *password, const actor *cli,
                       actor *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    struct signin_result res;
    memset(&res, 0, sizeof res);
    /* counted against the command line's own "address": its unix user */
    struct signin_ctx x = {.ip = cli->ip,
                           .cli = cli->username,
                           .request_id = cli->request_id,
                           .out = &res,
                           .err = err};
    int rc = signin_run(s, username, password, &x);
    if (!rc) rc = auth_load_user(s, res.user_id, out, NULL);
    if (rc) {
        memset(out, 0, sizeof *out);
        if (err && !err->en[0])
            ql_errf(err, rc, NULL, "sign-in failed: %s", "登录失败：%s", ql_err_name(rc));
        return rc;
    }
    /* the account acting on the command line: its own roles and name, never
     * the command line's every permission */
    out->via = VIA_CLI;
    snprintf(out->ip, sizeof out->ip, "%s", cli->ip);
    snprintf(out->request_id, sizeof out->request_id, "%s", cli->request_id);
    return 0;
}

/* ---- the sign-in form's token ------------------------------------------ */

/* Keyed with a key derived from the audit key (audit_digest), over a random
 * pre-session id, the time it was made and the client's address: a value
 * planted as a cookie from a sibling domain is not one this server made for
 * this client, and one fetched by someone else works from their address
 * only. */
static void form_mac(const char *id, long long made, const char *ip, char out[33])
{
    char addr[64], digest[65];
    throttle_address_text(ip, addr);
    json_t *v = json_pack("[s, s, I, s]", "signin-form", id, (json_int_t)made, addr);
    audit_digest(v, digest);
    json_decref(v);
    snprintf(out, 33, "%.32s", digest);
}

void account_signin_form_token(const char *ip, int64_t now, char out[SIGNIN_FORM_TOKEN_CHARS])
{
    unsigned char raw[16];
    char id[32], mac[33];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(id, sizeof id, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    form_mac(id, (long long)now, ip, mac);
    snprintf(out, SIGNIN_FORM_TOKEN_CHARS, "%s.%lld.%s", id, (long long)now, mac);
}

int account_signin_form_valid(const char *token, const char *ip, int64_t now)
{
    if (!token || strlen(token) >= SIGNIN_FORM_TOKEN_CHARS) return 0;
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2 || dot1 - token != 22 || dot2 - dot1 < 2 || dot2 - dot1 > 20) return 0;
    char id[32];
    snprintf(id, sizeof id, "%.*s", (int)(dot1 - token), token);
    long long made = 0;
    for (const char *c = dot1 + 1; c < dot2; c++) {
        if (*c < '0' || *c > '9') return 0;
        made = made * 10 + (*c - '0');
    }
    if (made > now || now - made > SIGNIN_FORM_MAX_AGE) return 0;
    char mac[33];
    form_mac(id, made, ip, mac);
    return strlen(dot2 + 1) == 32 && sodium_memcmp(mac, dot2 + 1, 32) == 0;
}

/* ---- signing out and passwords --------------------------------------- */

struct signout_ctx {
    const actor *a;
    int everywhere;
    ql_err *err;
};

static int signout_body(store *s, void *arg)
{
    struct signout_ctx *x = arg;
    int64_t now = auth_now(), n = 1;
    int rc = x->everywhere ? session_revoke_user(s, x->a->user_id, 0, now, &n)
                           : session_revoke(s, x->a->session_id, now);
    if (rc) return rc;
    return account_audit(s, x->a, x->everywhere ? "auth.signout_all" : "auth.signout", "session",
                         x->a->session_id, NULL, NULL,
                         json_pack("{s:I}", "sessions_ended", (json_int_t)n), x->err);
}

/* For a caller that is not a console session (an API token). */
static int no_session(const actor *a, ql_err *err)
{
    if (a->via == VIA_NONE) return ql_errf(err, QL_EUNAUTH, NULL, "not signed in", "尚未登录");
    return ql_errf(err, QL_EINVAL, NULL,
                   "an API token has no session or password of its own; revoke or replace the "
                   "token instead",
                   "接口令牌没有会话或口令；请吊销或更换令牌");
}

int account_signout(store *s, const actor *a, int everywhere, ql_err *err)
{
    if (a->via != VIA_SESSION) return no_session(a, err);
    struct signout_ctx x = {a, everywhere, err};
    return account_write_tx(s, signout_body, &x);
}

struct password_ctx {
    actor *a;
    const char *hash;
    ql_err *err;
    int locked;           /* wrong_current_body: the error when this attempt locked the account */
    const char *verified; /* the stored hash the current password was checked against */
    char *token;          /* change_password_body: the session's new token */
};

static int wrong_current_body(store *s, void *arg)
{
    struct password_ctx *x = arg;
    int64_t now = auth_now(), failed = 0, failed_at = 0;
    store_rows *r;
    int rc = store_query(s, "SELECT failed_signins, failed_at FROM users WHERE id = $1",
                         (store_val[]){SV_INT(x->a->user_id)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        failed = store_col_int(r, 0);
        failed_at = store_col_isnull(r, 1) ? 0 : store_col_int(r, 1);
    }
    store_rows_close(r);
    if (rc != 1) return rc < 0 ? rc : QL_ENOTFOUND;
    if (now - failed_at > account_cfg.lockout_s) failed = 0;
    failed++;
    int lock = failed >= account_cfg.lockout_after;
    int64_t until = now + account_cfg.lockout_s;
    rc = store_exec(s,
                    "UPDATE users SET failed_signins = $1, locked_until = $2, failed_at = $3 "
                    "WHERE id = $4",
                    (store_val[]){SV_INT(lock ? 0 : failed), lock ? SV_INT(until) : SV_NULL,
                                  SV_INT(now), SV_INT(x->a->user_id)},
                    4, NULL);
    if (!rc && lock) rc = session_revoke_user(s, x->a->user_id, 0, now, NULL);
    if (!rc)
        rc = account_audit(
            s, x->a, "auth.password_change_failed", "user", x->a->user_id, NULL, NULL,
            json_pack("{s:s, s:I}", "reason", lock ? "locked_now" : "wrong_current_password",
                      "failed_in_a_row", (json_int_t)failed),
            x->err);
    if (!rc && lock) x->locked = locked_message(x->err, until);
    return rc;
}

static int change_password_body(store *s, void *arg)
{
    struct password_ctx *x = arg;
    int64_t now = auth_now();
    /* The current password was checked before this transaction. If the
     * password was reset or the session ended meanwhile, that check no
     * longer counts: a reset must not be undone by a request in flight. */
    store_rows *r;
    int rc = store_query(s,
                         "SELECT u.password_hash, s.revoked_at, u.must_change_password, "
                         "u.password_changed_at, (SELECT count(*) FROM password_history h "
                         "WHERE h.user_id = u.id) FROM users u "
                         "JOIN sessions s ON s.user_id = u.id WHERE u.id = $1 AND s.id = $2",
                         (store_val[]){SV_INT(x->a->user_id), SV_INT(x->a->session_id)}, 2, &r);
    if (rc) return rc;
    rc = store_step(r);
    int live = rc == 1 && store_col_isnull(r, 1) &&
               strcmp(store_col_text(r, 0, NULL), x->verified ? x->verified : "") == 0;
    /* a password chosen before the history was kept (0018) starts it */
    int start_history = live && store_col_int(r, 2) == 0 && store_col_int(r, 4) == 0;
    int64_t chosen_at = live ? store_col_int(r, 3) : 0;
    store_rows_close(r);
    if (rc < 0) return rc;
    if (!live)
        return ql_errf(x->err, QL_EUNAUTH, NULL,
                       "your session ended or your password was reset meanwhile; sign in again",
                       "您的会话已结束或口令已被重置，请重新登录");
    rc = store_exec(s,
                        "UPDATE users SET password_hash = $1, must_change_password = 0, "
                        "password_changed_at = $2, updated_at = $2 WHERE id = $3",
                        (store_val[]){SV_TEXT(x->hash), SV_INT(now), SV_INT(x->a->user_id)}, 3,
                        NULL);
    /* the passwords the owner chose, which the next may not repeat */
    if (!rc && start_history) rc = account_history_add(s, x->a->user_id, x->verified, chosen_at);
    if (!rc) rc = account_history_add(s, x->a->user_id, x->hash, now);
    if (rc) return rc;
    int64_t ended = 0;
    rc = session_revoke_user(s, x->a->user_id, x->a->session_id, now, &ended);
    /* this session goes on under a new token and form token: one seen
     * before the change (a shoulder, a proxy log) no longer opens it */
    char csrf[AUTH_TOKEN_CHARS];
    if (!rc) rc = session_rotate(s, x->a->session_id, x->token, csrf);
    if (rc) return rc;
    rc = account_audit(s, x->a, "auth.password_change", "user", x->a->user_id, NULL, NULL,
                       json_pack("{s:I, s:b}", "other_sessions_ended", (json_int_t)ended,
                                 "session_token_rotated", 1),
                       x->err);
    if (!rc) snprintf(x->a->csrf, sizeof x->a->csrf, "%s", csrf);
    return rc;
}

/* 1 in *used if pw is one of the account's last passwords (their hashes in
 * password_history); checked outside any transaction (Argon2id). */
static int password_used_before(store *s, int64_t user_id, const char *pw, int *used)
{
    char hashes[ACCOUNT_PASSWORD_HISTORY][PASSWORD_HASH_MAX];
    int n = 0;
    *used = 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT password_hash FROM password_history WHERE user_id = $1 "
                         "ORDER BY id DESC LIMIT $2",
                         (store_val[]){SV_INT(user_id), SV_INT(ACCOUNT_PASSWORD_HISTORY)}, 2, &r);
    if (rc) return rc;
    while (n < ACCOUNT_PASSWORD_HISTORY && (rc = store_step(r)) == 1)
        snprintf(hashes[n++], PASSWORD_HASH_MAX, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (rc < 0) return rc;
    for (int i = 0; i < n && !*used; i++) *used = password_verify(hashes[i], pw);
    sodium_memzero(hashes, sizeof hashes);
    return 0;
}

int account_history_add(store *s, int64_t user_id, const char *hash, int64_t now)
{
    int rc = store_exec(s,
                        "INSERT INTO password_history (user_id, password_hash, set_at) "
                        "VALUES ($1, $2, $3)",
                        (store_val[]){SV_INT(user_id), SV_TEXT(hash), SV_INT(now)}, 3, NULL);
    if (rc) return rc;
    return store_exec(s,
                      "DELETE FROM password_history WHERE user_id = $1 AND id NOT IN (SELECT id "
                      "FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)",
                      (store_val[]){SV_INT(user_id), SV_INT(ACCOUNT_PASSWORD_HISTORY)}, 2, NULL);
}

int account_change_password(store *s, actor *a, const char *current, const char *new_password,
                            const char *confirm, char session_token[AUTH_TOKEN_CHARS], ql_err *err)
{
    session_token[0] = '\0';
    if (a->via != VIA_SESSION) return no_session(a, err);
    if (!current || !*current)
        return ql_errf(err, QL_EINVAL, "current_password", "enter your current password",
                       "请输入当前口令");
    if (!new_password || !*new_password)
        return ql_errf(err, QL_EINVAL, "new_password", "enter a new password", "请输入新口令");
    if (!confirm || strcmp(new_password, confirm) != 0)
        return ql_errf(err, QL_EINVAL, "confirm_password",
                       "the two new passwords are not the same", "两次输入的新口令不一致");
    int rc = password_check(new_password, a->username, account_cfg.min_len, "new_password", err);
    if (rc) return rc;
    /* printed by make run and in the README: known to everyone */
    if (strcmp(new_password, ACCOUNT_DEMO_PASSWORD) == 0)
        return ql_errf(err, QL_EINVAL, "new_password",
                       "this is the demo accounts' published password: choose your own",
                       "这是公开的演示账户口令，请设置您自己的口令");
    if (strcmp(current, new_password) == 0)
        return ql_errf(err, QL_EINVAL, "new_password",
                       "the new password must differ from the current one", "新口令不能与当前口令相同");
    char stored[PASSWORD_HASH_MAX] = "";
    store_rows *r;
    rc = store_query(s, "SELECT password_hash FROM users WHERE id = $1",
                     (store_val[]){SV_INT(a->user_id)}, 1, &r);
    if (rc) return rc;
    if ((rc = store_step(r)) == 1) snprintf(stored, sizeof stored, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (rc != 1) return rc < 0 ? rc : QL_ENOTFOUND;
    int ok = password_verify(stored, current);
    if (!ok) {
        sodium_memzero(stored, sizeof stored);
        /* Guessing the current password from a session counts towards the
         * lock-out like guessing at the sign-in page. */
        struct password_ctx f = {a, NULL, err, 0, NULL, NULL};
        int frc = account_write_tx(s, wrong_current_body, &f);
        if (frc) return frc;
        if (f.locked) return f.locked;
        return ql_errf(err, QL_EINVAL, "current_password", "the current password is wrong",
                       "当前口令不正确");
    }
    int used = 0;
    rc = password_used_before(s, a->user_id, new_password, &used);
    if (!rc && used)
        rc = ql_errf(err, QL_EINVAL, "new_password",
                     "the new password must differ from your last %d passwords",
                     "新口令不能与最近 %d 次使用过的口令相同", ACCOUNT_PASSWORD_HISTORY);
    char hash[PASSWORD_HASH_MAX];
    if (!rc) rc = password_hash(new_password, account_cfg.cost, hash, err);
    if (rc) {
        sodium_memzero(stored, sizeof stored);
        return rc;
    }
    struct password_ctx x = {a, hash, err, 0, stored, session_token};
    rc = account_write_tx(s, change_password_body, &x);
    sodium_memzero(stored, sizeof stored);
    if (rc == 0) a->must_change_password = 0;
    else
        session_token[0] = '\0';
    return rc;
}

/* ---- user administration --------------------------------------------- */

static int may_manage_user(store *s, const actor *a, int64_t id, ql_err *err);

static int check_username(const char *u, ql_err *err)
{
    size_t n = u ? strlen(u) : 0;
    if (n < 3 || n > 64)
        return ql_errf(err, QL_EINVAL, "username", "the username must have 3 to 64 characters",
                       "用户名须为 3 到 64 个字符");
    if (!isalnum((unsigned char)u[0]))
        return ql_errf(err, QL_EINVAL, "username",
                       "the username must start with a letter or digit",
                       "用户名须以字母或数字开头");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-'))
            return ql_errf(err, QL_EINVAL, "username",
                           "the username may contain lower-case letters, digits, '.', '_' and '-' "
                           "only",
                           "用户名只能包含小写字母、数字、“.”、“_”和“-”");
    }
    return 0;
}

static int check_display_name(const char *d, ql_err *err)
{
    size_t n = d ? strlen(d) : 0;
    if (n == 0)
        return ql_errf(err, QL_EINVAL, "display_name", "enter the person's name",
                       "请输入姓名");
    if (text_chars(d) > 100 || n > 400)
        return ql_errf(err, QL_EINVAL, "display_name", "the name must have at most 100 characters",
                       "姓名最多 100 个字符");
    return validate_name("display_name", d, err); /* controls, bidi, invisible, = + - @ */
}

/* Roles and scope must fit together: an employer's HR account is scoped to
 * that employer, a talent's account to the person, an operator's to the
 * operator. An account holds at most one duty role (perm.h ROLE_DUTIES):
 * the system administrator, the security administrator and the auditor
 * are three people (三员分立), and none of them decides or pays; who
 * decides does not pay. */
int account_check_roles_scope(unsigned roles, enum scope_kind scope, const char *scope_id,
                              ql_err *err)
{
    if (!roles || roles >= (1u << ROLE_COUNT))
        return ql_errf(err, QL_EINVAL, "roles", "choose at least one role", "请至少选择一个角色");
    unsigned duties = roles & ROLE_DUTIES;
    if (duties & (duties - 1)) {
        int first = -1, second = -1;
        for (int i = 0; i < ROLE_COUNT; i++)
            if (duties & (1u << i)) {
                if (first < 0)
                    first = i;
                else if (second < 0)
                    second = i;
            }
        return ql_errf(err, QL_EINVAL, "roles",
                       "separation of duties: one account cannot be both %s and %s (system "
                       "administration, security administration, audit, review and finance "
                       "are held by different people)%.0s%.0s",
                       "职责分离：同一账户不能既是“%.0s%.0s%s”又是“%"
                       "s”（系统管理、安全管理、审计、审核与财务须由不同人员担任）",
                       role_name((enum role)first), role_name((enum role)second),
                       role_title((enum role)first, 0), role_title((enum role)second, 0));
    }
    /* A window clerk changes a person's bank card with the person present
     * (payee data, registry/payee.h); the system administrator manages
     * the accounts whose changes a second window clerk confirms. One
     * person holding both could make a clerk account and confirm their
     * own card change, so the two are apart as administrator and finance
     * are. */
    if ((roles & (1u << ROLE_ADMIN)) && (roles & (1u << ROLE_WINDOW_CLERK)))
        return ql_errf(err, QL_EINVAL, "roles",
                       "separation of duties: one account cannot be both admin and window_clerk "
                       "(a window clerk changes payee data; the system administrator manages the "
                       "accounts)",
                       "职责分离：同一账户不能既是“系统管理员”又是“窗口受理人员”（窗口受理人员变更"
                       "收款信息，系统管理员管理账户）");
    const char *id = scope_id ? scope_id : "";
    if (strlen(id) > 64)
        return ql_errf(err, QL_EINVAL, "scope_id", "the scope id must have at most 64 characters",
                       "范围标识最多 64 个字符");
    switch (scope) {
    case SCOPE_DISTRICT:
        if (*id)
            return ql_errf(err, QL_EINVAL, "scope_id", "a district-wide account has no scope id",
                           "全区范围的账户不需要范围标识");
        break;
    case SCOPE_EMPLOYER: {
        int rc = validate_credit_code("scope_id", id, err);
        if (rc) return rc;
        break;
    }
    case SCOPE_DEPARTMENT:
    case SCOPE_OPERATOR: {
        if (!*id)
            return ql_errf(err, QL_EINVAL, "scope_id", "enter the %s this account belongs to",
                           "请填写该账户所属的%s",
                           scope == SCOPE_DEPARTMENT ? "department code" : "operator code");
        /* shown in lists and printed on the operator's terminal */
        int rc = validate_name("scope_id", id, err);
        if (rc) return rc;
        break;
    }
    case SCOPE_SELF:
        /* the person's talent id, written one way only (the unique index
         * on bound accounts compares the text), or "" for none yet */
        if (*id && !scope_person_id(id))
            return ql_errf(err, QL_EINVAL, "scope_id",
                           "a personal account's scope id is the person's talent id (a whole "
                           "number from 1), or empty",
                           "个人账户的范围标识须为本人的人才编号（从 1 开始的整数），或留空");
        break;
    }
    /* an account bound to a person is that person's and nobody's desk:
     * no other role reaches the person's data through the binding */
    if (scope == SCOPE_SELF && (roles & ~ROLE_PERSON))
        return ql_errf(err, QL_EINVAL, "roles",
                       "a personal account (scope self) holds the role talent only",
                       "个人账户（本人范围）只能拥有“人才（申请人）”角色");
    static const struct {
        enum role role;
        enum scope_kind scope;
    } bound[] = {{ROLE_EMPLOYER_HR, SCOPE_EMPLOYER},
                 {ROLE_TALENT, SCOPE_SELF},
                 {ROLE_HOUSING_OPERATOR, SCOPE_OPERATOR}};
    for (size_t i = 0; i < sizeof bound / sizeof bound[0]; i++) {
        int has = (roles & (1u << bound[i].role)) != 0;
        if (has && scope != bound[i].scope)
            return ql_errf(err, QL_EINVAL, "scope", "the role %s needs the scope '%s'",
                           "角色“%s”需要“%s”范围", role_name(bound[i].role),
                           scope_name(bound[i].scope));
        if (!has && scope == bound[i].scope)
            return ql_errf(err, QL_EINVAL, "roles", "the scope '%2$s' is for the role %1$s",
                           "“%2$s”范围仅用于角色“%1$s”", role_name(bound[i].role),
                           scope_name(bound[i].scope));
    }
    return 0;
}

struct create_ctx {
    const actor *a;
    const struct user_input *in;
    const char *hash;
    int must_change;
    int64_t id;
    ql_err *err;
};

int account_person_free(store *s, enum scope_kind scope, const char *scope_id, int64_t self,
                        ql_err *err)
{
    if (scope != SCOPE_SELF || !scope_id || !*scope_id) return 0;
    /* the person is one the registry holds */
    int64_t held = 0;
    int rc = store_query_int(s, "SELECT count(*) FROM talents WHERE id = $1",
                             (store_val[]){SV_INT(scope_person_id(scope_id))}, 1, &held);
    if (rc) return rc;
    if (!held)
        return ql_errf(err, QL_EINVAL, "scope_id",
                       "the registry holds no talent number %s: bind the account to a person "
                       "the registry holds",
                       "人才库中没有编号为 %s 的人才：账户只能绑定人才库中已有的人", scope_id);
    store_rows *r;
    rc = store_query(s,
                     "SELECT id, username FROM users WHERE scope_kind = 'self' AND "
                     "scope_id = $1 AND id <> $2",
                     (store_val[]){SV_TEXT(scope_id), SV_INT(self)}, 2, &r);
    if (rc) return rc;
    char other[72] = "";
    if ((rc = store_step(r)) == 1) snprintf(other, sizeof other, "%s", store_col_text(r, 1, NULL));
    store_rows_close(r);
    if (rc < 0) return rc;
    if (rc == 0) return 0;
    return ql_errf(err, QL_ECONFLICT, "scope_id",
                   "person %s has an account already (%s): one account per person",
                   "人才 %s 已有账户（%s）：每人只能有一个账户", scope_id, other);
}

static int create_body(store *s, void *arg)
{
    struct create_ctx *x = arg;
    int64_t now = auth_now();
    /* one account per person, before the username (whose conflict the
     * insert reports) */
    int rc = account_person_free(s, x->in->scope, x->in->scope_id, 0, x->err);
    if (rc) return rc;
    rc = store_exec(s,
                        "INSERT INTO users (username, display_name, password_hash, scope_kind, "
                        "scope_id, must_change_password, password_changed_at, created_at, "
                        "updated_at) VALUES ($1, $2, $3, $4, $5, $7, $6, $6, $6)",
                        (store_val[]){SV_TEXT(x->in->username), SV_TEXT(x->in->display_name),
                                      SV_TEXT(x->hash), SV_TEXT(scope_name(x->in->scope)),
                                      SV_TEXT(x->in->scope_id ? x->in->scope_id : ""),
                                      SV_INT(now), SV_INT(x->must_change)},
                        7, NULL);
    if (rc == QL_ECONFLICT)
        return ql_errf(x->err, QL_ECONFLICT, "username", "the username '%s' is taken",
                       "用户名“%s”已被使用", x->in->username);
    if (rc) return rc;
    rc = store_query_int(s, "SELECT id FROM users WHERE username = $1",
                         (store_val[]){SV_TEXT(x->in->username)}, 1, &x->id);
    if (rc) return rc;
    /* duty roles the creator may not grant alone wait for a second person */
    unsigned alone = 0, requested = 0;
    rc = account_split_grants(s, x->a, x->in->roles, account_binds_person(x->in->scope, x->in->scope_id),
                              &alone, &requested);
    for (int i = 0; !rc && i < ROLE_COUNT; i++) {
        if (!(alone & (1u << i))) continue;
        rc = store_exec(s, "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                        (store_val[]){SV_INT(x->id), SV_TEXT(role_name((enum role)i))}, 2, NULL);
    }
    if (!rc) rc = account_request_roles(s, x->a, x->id, requested, now);
    /* a password given to keep is the owner's choice (a demo or service
     * account): it counts in the history */
    if (!rc && !x->must_change) rc = account_history_add(s, x->id, x->hash, now);
    if (rc) return rc;
    json_t *after = NULL;
    rc = account_user_state(s, x->id, &after);
    if (rc) return rc;
    json_t *d =
        json_pack("{s:o, s:o, s:s, s:s}", "roles_granted", account_roles_json(alone),
                  "roles_requested", account_roles_json(requested), "scope",
                  scope_name(x->in->scope), "scope_id", x->in->scope_id ? x->in->scope_id : "");
    rc = account_audit(s, x->a, "user.create", "user", x->id, NULL, after, d, x->err);
    json_decref(after);
    return rc;
}

/* What an account holds, for the audit row of a change that grants and
 * removes nothing (disable, enable, password reset). */
static json_t *holding(const json_t *state, unsigned withdrawn)
{
    return json_pack("{s:O, s:O, s:O, s:O, s:[], s:[], s:o}", "roles",
                     json_object_get(state, "roles"), "pending_roles",
                     json_object_get(state, "pending_roles"), "scope",
                     json_object_get(state, "scope"), "scope_id",
                     json_object_get(state, "scope_id"), "roles_granted", "roles_removed",
                     "requests_withdrawn", account_roles_json(withdrawn));
}

int account_user_create(store *s, const actor *a, const struct user_input *in, int64_t *id,
                        char temp_password[24], ql_err *err)
{
    temp_password[0] = '\0';
    int rc = actor_require(a, P_USER_MANAGE, err);
    if (!rc) rc = check_username(in->username, err);
    if (!rc) rc = check_display_name(in->display_name, err);
    if (!rc) rc = account_check_roles_scope(in->roles, in->scope, in->scope_id, err);
    if (!rc) rc = account_may_manage_roles(a, in->roles, err);
    if (rc) return rc;
    const char *pw = in->password;
    if (pw && *pw) {
        rc = password_check(pw, in->username, account_cfg.min_len, "password", err);
        if (rc) return rc;
    } else {
        password_generate(temp_password, 24);
        pw = temp_password;
    }
    char hash[PASSWORD_HASH_MAX];
    rc = password_hash(pw, account_cfg.cost, hash, err);
    if (rc) return rc;
    struct create_ctx x = {a, in, hash, !(in->keep_password && !temp_password[0]), 0, err};
    rc = account_write_tx(s, create_body, &x);
    if (rc) {
        temp_password[0] = '\0';
        return rc;
    }
    if (id) *id = x.id;
    return 0;
}

/* An API token acting for another system may only create or change
 * accounts whose roles give no permission the token itself lacks; else a
 * token limited to user.manage could make an administrator and sign in as
 * it. People signed in (and the CLI) manage every role: that is their job,
 * and it is audited under their name. */
int account_may_manage_roles(const actor *a, unsigned roles, ql_err *err)
{
    if (a->via != VIA_TOKEN) return 0;
    permset extra = roles_perms(roles) & ~a->perms;
    if (!extra) return 0;
    char names[512];
    perms_format(extra, names, sizeof names);
    return ql_errf(err, QL_EFORBIDDEN, "roles",
                   "an API token cannot manage accounts with permissions it lacks (%s)",
                   "接口令牌不能管理拥有其自身所无权限的账户（%s）", names);
}

/* The same check for an existing account, by id (in the transaction). */
static int may_manage_user(store *s, const actor *a, int64_t id, ql_err *err)
{
    if (a->via != VIA_TOKEN) return 0;
    actor target;
    memset(&target, 0, sizeof target);
    int rc = auth_load_user(s, id, &target, NULL);
    if (rc == QL_ENOTFOUND) return 0; /* reported as not found by the caller */
    if (rc) return rc;
    return account_may_manage_roles(a, target.roles, err);
}

struct change_ctx {
    const actor *a;
    int64_t id;
    int disabled;       /* for set_disabled */
    const char *hash;   /* for reset */
    ql_err *err;
};

static int set_disabled_body(store *s, void *arg)
{
    struct change_ctx *x = arg;
    json_t *before = NULL, *after = NULL;
    int rc = may_manage_user(s, x->a, x->id, x->err);
    if (rc) return rc;
    rc = account_user_state(s, x->id, &before);
    if (rc == QL_ENOTFOUND)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no account %lld", "没有编号为 %lld 的账户",
                       (long long)x->id);
    if (rc) return rc;
    if (x->disabled && (rc = account_keeps_security_admin(s, x->id, "id", x->err))) {
        json_decref(before);
        return rc;
    }
    int64_t now = auth_now();
    unsigned withdrawn = 0;
    rc = store_exec(s, "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3",
                    (store_val[]){SV_INT(x->disabled), SV_INT(now), SV_INT(x->id)}, 3, NULL);
    if (!rc && x->disabled) rc = session_revoke_user(s, x->id, 0, now, NULL);
    /* a disabled account's waiting grants are withdrawn: enabled again, it
     * is asked for anew */
    if (!rc && x->disabled) rc = account_withdraw_requests(s, x->a, x->id, now, &withdrawn);
    if (!rc) rc = account_user_state(s, x->id, &after);
    if (!rc)
        rc = account_audit(s, x->a, x->disabled ? "user.disable" : "user.enable", "user", x->id,
                           before, after, holding(after, withdrawn), x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

int account_user_set_disabled(store *s, const actor *a, int64_t id, int disabled, ql_err *err)
{
    int rc = actor_require(a, P_USER_MANAGE, err);
    if (rc) return rc;
    if (disabled && a->user_id == id)
        return ql_errf(err, QL_ECONFLICT, "id", "you cannot disable your own account",
                       "不能停用自己的账户");
    struct change_ctx x = {.a = a, .id = id, .disabled = disabled ? 1 : 0, .err = err};
    return account_write_tx(s, set_disabled_body, &x);
}

static int reset_body(store *s, void *arg)
{
    struct change_ctx *x = arg;
    json_t *before = NULL, *after = NULL;
    int rc = may_manage_user(s, x->a, x->id, x->err);
    if (rc) return rc;
    rc = account_user_state(s, x->id, &before);
    if (rc == QL_ENOTFOUND)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no account %lld", "没有编号为 %lld 的账户",
                       (long long)x->id);
    if (rc) return rc;
    /* Who resets a password learns it and can sign in as the account: an
     * administrator doing that to a holder of a duty role (another
     * administrator, the security administrator, the auditor, a reviewer,
     * a finance officer) would be the second person of their own four-eyes
     * check. Such accounts are reset on the server's command line. */
    actor target;
    memset(&target, 0, sizeof target);
    rc = auth_load_user(s, x->id, &target, NULL);
    if (rc) {
        json_decref(before);
        return rc;
    }
    /* the same for a window clerk (ROLE_VOUCHED) and for an account bound
     * to a person: whoever resets it could act as the person */
    unsigned vouched = ROLE_VOUCHED;
    if (target.scope == SCOPE_SELF && target.scope_id[0]) vouched |= ROLE_PERSON;
    unsigned duties = target.roles & vouched;
    if (duties && !(x->a->via == VIA_CLI && x->a->user_id == 0)) {
        int r = 0;
        while (!(duties & (1u << r))) r++;
        json_decref(before);
        return ql_errf(x->err, QL_EFORBIDDEN, "id",
                       "%s holds the role %s%.0s: the password of an account with a duty role, "
                       "a window clerk's or a person's own is reset on the server's command line "
                       "(qianlima user reset-password), not by another administrator",
                       "%s 拥有“%.0s%s”角色：担任职责角色、窗口受理人员及本人账户的口令须在服务器"
                       "命令行上重置（qianlima user reset-password），不能由其他管理员重置",
                       target.username, role_name((enum role)r), role_title((enum role)r, 0));
    }
    int64_t now = auth_now();
    unsigned withdrawn = 0;
    rc = store_exec(s,
                    "UPDATE users SET password_hash = $1, must_change_password = 1, "
                    "failed_signins = 0, locked_until = NULL, failed_at = NULL, "
                    "password_changed_at = $2, updated_at = $2 WHERE id = $3",
                    (store_val[]){SV_TEXT(x->hash), SV_INT(now), SV_INT(x->id)}, 3, NULL);
    if (!rc) rc = session_revoke_user(s, x->id, 0, now, NULL);
    /* whoever resets learns the password: a grant waiting for a second
     * person (a duty role, a person's binding) would reach an account the
     * resetter can sign in as, so it is withdrawn and asked for anew once
     * the owner has chosen a password */
    if (!rc) rc = account_withdraw_requests(s, x->a, x->id, now, &withdrawn);
    if (!rc) rc = account_user_state(s, x->id, &after);
    if (!rc)
        rc = account_audit(s, x->a, "user.password_reset", "user", x->id, before, after,
                           holding(after, withdrawn), x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

int account_user_reset_password(store *s, const actor *a, int64_t id, char temp_password[24],
                                ql_err *err)
{
    temp_password[0] = '\0';
    int rc = actor_require(a, P_USER_MANAGE, err);
    if (rc) return rc;
    char pw[24], hash[PASSWORD_HASH_MAX];
    password_generate(pw, sizeof pw);
    rc = password_hash(pw, account_cfg.cost, hash, err);
    if (rc) return rc;
    struct change_ctx x = {.a = a, .id = id, .hash = hash, .err = err};
    rc = account_write_tx(s, reset_body, &x);
    if (rc == 0) snprintf(temp_password, 24, "%s", pw);
    sodium_memzero(pw, sizeof pw);
    return rc;
}

int account_user_apply(store *s, const actor *a, int64_t id, enum user_action what,
                       char temp_password[24], ql_err *err)
{
    temp_password[0] = '\0';
    if (what == USER_RESET_PASSWORD) return account_user_reset_password(s, a, id, temp_password, err);
    return account_user_set_disabled(s, a, id, what == USER_DISABLE, err);
}

int account_user_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err)
{
    /* Whoever may change an account may read what the change made. */
    int rc = actor_can(a, P_USER_MANAGE) ? 0 : actor_require(a, P_USER_READ, err);
    if (rc) return rc;
    rc = account_user_state(s, id, out);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "id", "there is no account %lld", "没有编号为 %lld 的账户",
                       (long long)id);
    return rc;
}

int account_user_id(store *s, const char *username, int64_t *id, ql_err *err)
{
    int rc = store_query_int(s, "SELECT id FROM users WHERE username = $1",
                             (store_val[]){SV_TEXT(username)}, 1, id);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "username", "there is no account '%s'",
                       "没有用户名为“%s”的账户", username);
    return rc;
}

/* Escapes % and _ for a LIKE pattern with ESCAPE '\'. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q);
    char *p = xmalloc(2 * n + 3);
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '%' || q[i] == '_' || q[i] == '\\') p[j++] = '\\';
        p[j++] = q[i];
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

struct list_ctx {
    const char *pattern;
    int64_t offset, limit;
    json_t *rows;
    int64_t total;
};

static int list_body(store *s, void *arg)
{
    struct list_ctx *x = arg;
    /* lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's
     * does not; this way both answer alike. */
    static const char where[] =
        " FROM users WHERE ($1 = '%' OR lower(username) LIKE lower($1) ESCAPE '\\' OR "
        "lower(display_name) LIKE lower($1) ESCAPE '\\')";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*)%s", where);
    int rc = store_query_int(s, sql, (store_val[]){SV_TEXT(x->pattern)}, 1, &x->total);
    if (rc) return rc;
    snprintf(sql, sizeof sql, "SELECT id%s ORDER BY username LIMIT $2 OFFSET $3", where);
    store_rows *r;
    rc = store_query(s, sql,
                     (store_val[]){SV_TEXT(x->pattern), SV_INT(x->limit), SV_INT(x->offset)}, 3,
                     &r);
    if (rc) return rc;
    int64_t ids[100];
    int n = 0;
    while (n < 100 && (rc = store_step(r)) == 1) ids[n++] = store_col_int(r, 0);
    store_rows_close(r);
    if (rc < 0) return rc;
    x->rows = json_array();
    for (int i = 0; i < n; i++) {
        json_t *u;
        rc = account_user_state(s, ids[i], &u);
        if (rc) return rc;
        json_array_append_new(x->rows, u);
    }
    return 0;
}

int account_user_list(store *s, const actor *a, const char *q, int64_t page, int64_t per_page,
                      json_t **rows, int64_t *total, ql_err *err)
{
    int rc = actor_require(a, P_USER_READ, err);
    if (rc) return rc;
    if (page < 1 || page > 1000000)
        return ql_errf(err, QL_EINVAL, "page", "page must be a whole number from 1",
                       "页码必须是从 1 开始的整数");
    if (per_page < 1 || per_page > 100)
        return ql_errf(err, QL_EINVAL, "per_page", "per_page must be from 1 to 100",
                       "每页条数必须在 1 到 100 之间");
    if (q && text_chars(q) > 100)
        return ql_errf(err, QL_EINVAL, "q", "the search text must have at most 100 characters",
                       "搜索内容最多 100 个字符");
    char *pattern = like_pattern(q ? q : "");
    struct list_ctx x = {.pattern = pattern, .offset = (page - 1) * per_page, .limit = per_page};
    rc = store_tx(s, STORE_TX_READ, list_body, &x);
    free(pattern);
    if (rc) {
        json_decref(x.rows);
        return rc;
    }
    *rows = x.rows;
    *total = x.total;
    return 0;
}

/* ---- API tokens ------------------------------------------------------ */

struct token_ctx {
    const actor *a;
    int64_t user_id;
    const char *name;
    permset perms;
    int64_t expires_at;
    char *token;
    int64_t id;
    ql_err *err;
};

static int token_create_body(store *s, void *arg)
{
    struct token_ctx *x = arg;
    int64_t now = auth_now();
    int rc = token_create(s, x->user_id, x->name, x->perms, x->expires_at, x->a->username, now,
                          x->token, &x->id);
    if (rc) return rc;
    char names[1024];
    perms_format(x->perms, names, sizeof names);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%.12s", x->token);
    return account_audit(s, x->a, "token.create", "api_token", x->id, NULL, NULL,
                         json_pack("{s:s, s:I, s:s, s:s, s:I}", "name", x->name, "user_id",
                                   (json_int_t)x->user_id, "permissions", names, "prefix", prefix,
                                   "expires_at", (json_int_t)x->expires_at),
                         x->err);
}

int account_token_create(store *s, const actor *a, const char *username, const char *name,
                         permset perms, long days, char token[64], int64_t *id, ql_err *err)
{
    token[0] = '\0';
    int rc = actor_require(a, P_TOKEN_MANAGE, err);
    if (rc) return rc;
    if (!name || !*name || text_chars(name) > 100)
        return ql_errf(err, QL_EINVAL, "name",
                       "give the token a name of 1 to 100 characters without control characters",
                       "请为令牌填写 1 到 100 个字符的名称（不含控制字符）");
    if ((rc = validate_text_line("name", name, err))) return rc;
    if (days < 1 || days > 3650)
        return ql_errf(err, QL_EINVAL, "days", "a token lasts from 1 to 3650 days",
                       "令牌有效期应为 1 到 3650 天");
    if (!perms)
        return ql_errf(err, QL_EINVAL, "permissions", "name at least one permission",
                       "请至少指定一项权限");
    if (perms & ~a->perms) {
        char names[512];
        perms_format(perms & ~a->perms, names, sizeof names);
        return ql_errf(err, QL_EFORBIDDEN, "permissions",
                       "a token cannot be given permissions you do not hold yourself (%s)",
                       "不能授予令牌您自己没有的权限（%s）", names);
    }
    struct token_ctx x = {.a = a, .name = name, .perms = perms, .token = token, .err = err};
    rc = account_user_id(s, username, &x.user_id, err);
    if (rc) return rc;
    /* A token acts as its account in every check of four eyes: whoever
     * could make one for another account could act as that person. Over
     * the API and in the console a token is made for one's own account
     * only; the operator on the server's command line makes them for other
     * accounts (qianlima token create --user). */
    if (!(a->via == VIA_CLI && a->user_id == 0) && x.user_id != a->user_id)
        return ql_errf(err, QL_EFORBIDDEN, "username",
                       "a token is made for your own account only; a token for another account "
                       "is made on the server's command line (qianlima token create --user)",
                       "只能为自己的账户创建令牌；为其他账户创建令牌须在服务器命令行上进行"
                       "（qianlima token create --user）");
    x.expires_at = auth_now() + (int64_t)days * 86400;
    rc = account_write_tx(s, token_create_body, &x);
    if (rc) {
        token[0] = '\0';
        return rc;
    }
    if (id) *id = x.id;
    return 0;
}

struct revoke_ctx {
    const actor *a;
    int64_t id;
    ql_err *err;
};

static int token_revoke_body(store *s, void *arg)
{
    struct revoke_ctx *x = arg;
    int rc = token_revoke(s, x->id, auth_now());
    if (rc == QL_ENOTFOUND)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no live token %lld",
                       "没有编号为 %lld 的有效令牌", (long long)x->id);
    if (rc) return rc;
    return account_audit(s, x->a, "token.revoke", "api_token", x->id, NULL, NULL, json_object(),
                         x->err);
}

int account_token_revoke(store *s, const actor *a, int64_t id, ql_err *err)
{
    int rc = actor_require(a, P_TOKEN_MANAGE, err);
    if (rc) return rc;
    struct revoke_ctx x = {a, id, err};
    return account_write_tx(s, token_revoke_body, &x);
}

int account_token_list(store *s, const actor *a, json_t **rows, ql_err *err)
{
    int rc = actor_require(a, P_TOKEN_MANAGE, err);
    if (rc) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT t.id, t.name, t.prefix, u.username, t.permissions, t.created_at, "
                     "t.expires_at, t.revoked_at, t.last_used_at FROM api_tokens t "
                     "JOIN users u ON u.id = t.user_id ORDER BY t.id",
                     NULL, 0, &r);
    if (rc) return rc;
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1) {
        char created[32], expires[32], used[32] = "";
        account_time_text(store_col_int(r, 5), created);
        account_time_text(store_col_int(r, 6), expires);
        if (!store_col_isnull(r, 8)) account_time_text(store_col_int(r, 8), used);
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "id",
                            (json_int_t)store_col_int(r, 0), "name", store_col_text(r, 1, NULL),
                            "prefix", store_col_text(r, 2, NULL), "username",
                            store_col_text(r, 3, NULL), "permissions", store_col_text(r, 4, NULL),
                            "created_at", created, "expires_at", expires, "revoked",
                            !store_col_isnull(r, 7), "last_used_at", used));
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *rows = list;
    return 0;
}
