/* account.c - signing in and out, passwords, user administration, tokens. */
#include "account/account.h"

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

static struct {
    long min_len;
    char cost[16];
    long lockout_after;
    long lockout_s;
    struct session_limits lim;
} settings = {10, "interactive", 5, 15 * 60, {30 * 60, 12 * 3600}};

void account_init(const ql_config *cfg)
{
    settings.min_len = cfg->password_min_length;
    snprintf(settings.cost, sizeof settings.cost, "%s", cfg->password_hash);
    settings.lockout_after = cfg->lockout_after;
    settings.lockout_s = cfg->lockout_minutes * 60;
    settings.lim.idle_s = cfg->session_idle * 60;
    settings.lim.max_s = cfg->session_max * 3600;
}

const struct session_limits *account_session_limits(void)
{
    return &settings.lim;
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

static int audit(store *s, const actor *a, const char *action, const char *object_type,
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

/* Runs a write transaction that appends audit rows, then moves the audit
 * anchor forward once it has committed. */
static int write_tx(store *s, store_tx_fn fn, void *ctx)
{
    int rc = store_tx(s, STORE_TX_WRITE, fn, ctx);
    if (rc == 0) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

/* The state of an account as audited and shown (never the password hash). */
static int user_state(store *s, int64_t id, json_t **out)
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
    *out = u;
    return 0;
}

/* ---- signing in ------------------------------------------------------ */

struct signin_ctx {
    const char *username;
    const char *ip, *ua, *request_id;
    int64_t user_id;
    int password_ok;
    const char *rehash; /* a new hash to store, when the cost changed */
    const char *verified; /* the hash the password was checked against */
    int too_long;       /* the username was too long to be real */
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
    return ql_errf(err, QL_EFORBIDDEN, "username",
                   "too many failed sign-ins: this account is locked until %s (Beijing time); "
                   "try again then or ask the administrator to unlock it",
                   "登录失败次数过多：该账户已锁定至 %s（北京时间）；请届时再试或联系管理员解锁", hm);
}

/* A failed sign-in for a username without an account. It counts and locks
 * exactly as for a real account (signin_throttle), so that neither the
 * messages nor the lock-out tell which usernames exist. */
static int unknown_user_failure(store *s, struct signin_ctx *x, const actor *who,
                                const char *typed)
{
    /* What was typed may be a password typed into the wrong field: the log
     * keeps only a keyed digest of a name that has no account. */
    char digest[65];
    json_t *name = json_string(typed);
    audit_digest(name, digest);
    json_decref(name);
    char lower[201], key[65];
    size_t n = strlen(x->username) < 200 ? strlen(x->username) : 200;
    for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)x->username[i]);
    lower[n] = '\0';
    auth_token_hash(lower, key);
    int64_t failed = 0, locked_until = 0;
    store_rows *r;
    int rc = store_query(s, "SELECT failed, locked_until FROM signin_throttle WHERE key = $1",
                         (store_val[]){SV_TEXT(key)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        failed = store_col_int(r, 0);
        locked_until = store_col_isnull(r, 1) ? 0 : store_col_int(r, 1);
    }
    store_rows_close(r);
    if (rc < 0) return rc;
    const char *reason = x->too_long ? "too_long" : "unknown_user";
    if (locked_until > x->now) {
        rc = audit(s, who, "auth.signin_failed", "user", 0, NULL, NULL,
                   json_pack("{s:s, s:s}", "username_digest", digest, "reason", "locked"),
                   x->err);
        if (!rc) x->outcome = locked_message(x->err, locked_until);
        return rc;
    }
    failed++;
    int lock = failed >= settings.lockout_after;
    int64_t until = x->now + settings.lockout_s;
    rc = store_exec(s, "DELETE FROM signin_throttle WHERE key = $1", (store_val[]){SV_TEXT(key)},
                    1, NULL);
    if (!rc)
        rc = store_exec(s,
                        "INSERT INTO signin_throttle (key, failed, locked_until, updated_at) "
                        "VALUES ($1, $2, $3, $4)",
                        (store_val[]){SV_TEXT(key), SV_INT(lock ? 0 : failed),
                                      lock ? SV_INT(until) : SV_NULL, SV_INT(x->now)},
                        4, NULL);
    if (!rc)
        rc = audit(s, who, "auth.signin_failed", "user", 0, NULL, NULL,
                   json_pack("{s:s, s:s, s:I}", "username_digest", digest, "reason", reason,
                             "failed_in_a_row", (json_int_t)failed),
                   x->err);
    if (!rc) x->outcome = lock ? locked_message(x->err, until) : wrong_credentials(x->err);
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
    if (!x->user_id) return unknown_user_failure(s, x, &who, typed);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT failed_signins, locked_until, disabled, must_change_password, "
                         "password_hash FROM users WHERE id = $1",
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
    store_rows_close(r);
    if (stale) x->password_ok = 0;
    who.user_id = x->user_id;
    snprintf(who.username, sizeof who.username, "%s", typed);

    if (locked_until > x->now) {
        rc = audit(s, &who, "auth.signin_failed", "user", x->user_id, NULL, NULL,
                   json_pack("{s:s}", "reason", "locked"), x->err);
        if (!rc) x->outcome = locked_message(x->err, locked_until);
        return rc;
    }
    if (!x->password_ok) {
        failed++;
        int lock = failed >= settings.lockout_after;
        int64_t until = x->now + settings.lockout_s;
        rc = store_exec(s,
                        "UPDATE users SET failed_signins = $1, locked_until = $2 WHERE id = $3",
                        (store_val[]){SV_INT(lock ? 0 : failed), lock ? SV_INT(until) : SV_NULL,
                                      SV_INT(x->user_id)},
                        3, NULL);
        if (rc) return rc;
        rc = audit(s, &who, "auth.signin_failed", "user", x->user_id, NULL, NULL,
                   json_pack("{s:s, s:I}", "reason", lock ? "locked_now" : "wrong_password",
                             "failed_in_a_row", (json_int_t)failed),
                   x->err);
        if (!rc) x->outcome = lock ? locked_message(x->err, until) : wrong_credentials(x->err);
        return rc;
    }
    if (disabled) {
        rc = audit(s, &who, "auth.signin_failed", "user", x->user_id, NULL, NULL,
                   json_pack("{s:s}", "reason", "disabled"), x->err);
        if (!rc)
            x->outcome = ql_errf(x->err, QL_EFORBIDDEN, "username",
                                 "this account is disabled; ask the administrator",
                                 "该账户已停用，请联系管理员");
        return rc;
    }
    rc = store_exec(s, "UPDATE users SET failed_signins = 0, locked_until = NULL WHERE id = $1",
                    (store_val[]){SV_INT(x->user_id)}, 1, NULL);
    if (!rc && x->rehash)
        rc = store_exec(s, "UPDATE users SET password_hash = $1 WHERE id = $2",
                        (store_val[]){SV_TEXT(x->rehash), SV_INT(x->user_id)}, 2, NULL);
    if (rc) return rc;
    struct signin_result *o = x->out;
    rc = session_create(s, x->user_id, x->ip, x->ua, &settings.lim, x->now, o->token, o->csrf,
                        &o->session_id);
    if (rc) return rc;
    o->user_id = x->user_id;
    o->must_change_password = must_change;
    return audit(s, &who, "auth.signin", "session", o->session_id, NULL, NULL,
                 json_pack("{s:I}", "user_id", (json_int_t)x->user_id), x->err);
}

int account_signin(store *s, const char *username, const char *password, const char *ip,
                   const char *user_agent, const char *request_id, struct signin_result *out,
                   ql_err *err)
{
    memset(out, 0, sizeof *out);
    if (!username || !*username)
        return ql_errf(err, QL_EINVAL, "username", "enter your username", "请输入用户名");
    if (!password || !*password)
        return ql_errf(err, QL_EINVAL, "password", "enter your password", "请输入口令");
    /* Usernames are lower case: "ALICE" is alice, and counts against her
     * account like any other attempt (else upper case would probe which
     * names exist through the lock-out). */
    char lower[201];
    size_t ulen = strlen(username);
    struct signin_ctx x = {.username = lower, .ip = ip, .ua = user_agent,
                           .request_id = request_id, .now = auth_now(), .out = out, .err = err};
    for (size_t i = 0; i < ulen && i < 200; i++) lower[i] = (char)tolower((unsigned char)username[i]);
    lower[ulen < 200 ? ulen : 200] = '\0';
    if (ulen > 200) {
        /* No account has such a name: counted and audited all the same. */
        x.too_long = 1;
        password_verify_dummy("x", settings.cost);
        int rc = write_tx(s, signin_body, &x);
        if (rc == 0) rc = x.outcome;
        memset(out, 0, sizeof *out);
        return rc;
    }
    int overlong_password = strlen(password) > 1024;

    /* Read the account and check the password outside any transaction:
     * Argon2id takes tens of milliseconds and must not hold a write lock. */
    char hash[PASSWORD_HASH_MAX] = "";
    store_rows *r;
    int rc = store_query(s, "SELECT id, password_hash FROM users WHERE username = $1",
                         (store_val[]){SV_TEXT(lower)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        x.user_id = store_col_int(r, 0);
        snprintf(hash, sizeof hash, "%s", store_col_text(r, 1, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return rc;
    char rehash[PASSWORD_HASH_MAX];
    if (x.user_id && overlong_password) {
        /* Wrong for certain, but it takes as long as a real check. */
        password_verify_dummy("x", settings.cost);
        x.password_ok = 0;
    } else if (x.user_id) {
        x.password_ok = password_verify(hash, password);
        x.verified = hash;
        ql_err ignore;
        if (x.password_ok && password_needs_rehash(hash, settings.cost) &&
            password_hash(password, settings.cost, rehash, &ignore) == 0)
            x.rehash = rehash;
    } else {
        password_verify_dummy(overlong_password ? "x" : password, settings.cost);
    }
    rc = write_tx(s, signin_body, &x);
    sodium_memzero(hash, sizeof hash);
    if (rc == 0) rc = x.outcome;
    if (rc == 0) return 0;
    memset(out, 0, sizeof *out);
    if (err && !err->en[0]) ql_errf(err, rc, NULL, "sign-in failed: %s", "登录失败：%s", ql_err_name(rc));
    return rc;
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
    return audit(s, x->a, x->everywhere ? "auth.signout_all" : "auth.signout", "session",
                 x->a->session_id, NULL, NULL, json_pack("{s:I}", "sessions_ended", (json_int_t)n),
                 x->err);
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
    return write_tx(s, signout_body, &x);
}

struct password_ctx {
    actor *a;
    const char *hash;
    ql_err *err;
    int locked;           /* wrong_current_body: the error when this attempt locked the account */
    const char *verified; /* the stored hash the current password was checked against */
};

static int wrong_current_body(store *s, void *arg)
{
    struct password_ctx *x = arg;
    int64_t now = auth_now(), failed = 0;
    int rc = store_query_int(s, "SELECT failed_signins FROM users WHERE id = $1",
                             (store_val[]){SV_INT(x->a->user_id)}, 1, &failed);
    if (rc) return rc;
    failed++;
    int lock = failed >= settings.lockout_after;
    int64_t until = now + settings.lockout_s;
    rc = store_exec(s, "UPDATE users SET failed_signins = $1, locked_until = $2 WHERE id = $3",
                    (store_val[]){SV_INT(lock ? 0 : failed), lock ? SV_INT(until) : SV_NULL,
                                  SV_INT(x->a->user_id)},
                    3, NULL);
    if (!rc && lock) rc = session_revoke_user(s, x->a->user_id, 0, now, NULL);
    if (!rc)
        rc = audit(s, x->a, "auth.password_change_failed", "user", x->a->user_id, NULL, NULL,
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
                         "SELECT u.password_hash, s.revoked_at FROM users u "
                         "JOIN sessions s ON s.user_id = u.id WHERE u.id = $1 AND s.id = $2",
                         (store_val[]){SV_INT(x->a->user_id), SV_INT(x->a->session_id)}, 2, &r);
    if (rc) return rc;
    rc = store_step(r);
    int live = rc == 1 && store_col_isnull(r, 1) &&
               strcmp(store_col_text(r, 0, NULL), x->verified ? x->verified : "") == 0;
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
    if (rc) return rc;
    int64_t ended = 0;
    rc = session_revoke_user(s, x->a->user_id, x->a->session_id, now, &ended);
    if (rc) return rc;
    return audit(s, x->a, "auth.password_change", "user", x->a->user_id, NULL, NULL,
                 json_pack("{s:I}", "other_sessions_ended", (json_int_t)ended), x->err);
}

int account_change_password(store *s, actor *a, const char *current, const char *new_password,
                            const char *confirm, ql_err *err)
{
    if (a->via != VIA_SESSION) return no_session(a, err);
    if (!current || !*current)
        return ql_errf(err, QL_EINVAL, "current_password", "enter your current password",
                       "请输入当前口令");
    if (!new_password || !*new_password)
        return ql_errf(err, QL_EINVAL, "new_password", "enter a new password", "请输入新口令");
    if (!confirm || strcmp(new_password, confirm) != 0)
        return ql_errf(err, QL_EINVAL, "confirm_password",
                       "the two new passwords are not the same", "两次输入的新口令不一致");
    int rc = password_check(new_password, a->username, settings.min_len, "new_password", err);
    if (rc) return rc;
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
        struct password_ctx f = {a, NULL, err, 0, NULL};
        int frc = write_tx(s, wrong_current_body, &f);
        if (frc) return frc;
        if (f.locked) return f.locked;
        return ql_errf(err, QL_EINVAL, "current_password", "the current password is wrong",
                       "当前口令不正确");
    }
    char hash[PASSWORD_HASH_MAX];
    rc = password_hash(new_password, settings.cost, hash, err);
    if (rc) {
        sodium_memzero(stored, sizeof stored);
        return rc;
    }
    struct password_ctx x = {a, hash, err, 0, stored};
    rc = write_tx(s, change_password_body, &x);
    sodium_memzero(stored, sizeof stored);
    if (rc == 0) a->must_change_password = 0;
    return rc;
}

/* ---- user administration --------------------------------------------- */

static int may_manage_roles(const actor *a, unsigned roles, ql_err *err);
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
 * operator. */
static int check_roles_scope(unsigned roles, enum scope_kind scope, const char *scope_id,
                             ql_err *err)
{
    if (!roles || roles >= (1u << ROLE_COUNT))
        return ql_errf(err, QL_EINVAL, "roles", "choose at least one role", "请至少选择一个角色");
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
    case SCOPE_OPERATOR:
        if (!*id)
            return ql_errf(err, QL_EINVAL, "scope_id", "enter the %s this account belongs to",
                           "请填写该账户所属的%s",
                           scope == SCOPE_DEPARTMENT ? "department code" : "operator code");
        break;
    case SCOPE_SELF: break;
    }
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

static int create_body(store *s, void *arg)
{
    struct create_ctx *x = arg;
    int64_t now = auth_now();
    int rc = store_exec(s,
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
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (!(x->in->roles & (1u << i))) continue;
        rc = store_exec(s, "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                        (store_val[]){SV_INT(x->id), SV_TEXT(role_name((enum role)i))}, 2, NULL);
        if (rc) return rc;
    }
    json_t *after = NULL;
    rc = user_state(s, x->id, &after);
    if (rc) return rc;
    rc = audit(s, x->a, "user.create", "user", x->id, NULL, after, json_object(), x->err);
    json_decref(after);
    return rc;
}

int account_user_create(store *s, const actor *a, const struct user_input *in, int64_t *id,
                        char temp_password[24], ql_err *err)
{
    temp_password[0] = '\0';
    int rc = actor_require(a, P_USER_MANAGE, err);
    if (!rc) rc = check_username(in->username, err);
    if (!rc) rc = check_display_name(in->display_name, err);
    if (!rc) rc = check_roles_scope(in->roles, in->scope, in->scope_id, err);
    if (!rc) rc = may_manage_roles(a, in->roles, err);
    if (rc) return rc;
    const char *pw = in->password;
    if (pw && *pw) {
        rc = password_check(pw, in->username, settings.min_len, "password", err);
        if (rc) return rc;
    } else {
        password_generate(temp_password, 24);
        pw = temp_password;
    }
    char hash[PASSWORD_HASH_MAX];
    rc = password_hash(pw, settings.cost, hash, err);
    if (rc) return rc;
    struct create_ctx x = {a, in, hash, !(in->keep_password && !temp_password[0]), 0, err};
    rc = write_tx(s, create_body, &x);
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
static int may_manage_roles(const actor *a, unsigned roles, ql_err *err)
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
    return may_manage_roles(a, target.roles, err);
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
    rc = user_state(s, x->id, &before);
    if (rc == QL_ENOTFOUND)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no account %lld", "没有编号为 %lld 的账户",
                       (long long)x->id);
    if (rc) return rc;
    int64_t now = auth_now();
    rc = store_exec(s, "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3",
                    (store_val[]){SV_INT(x->disabled), SV_INT(now), SV_INT(x->id)}, 3, NULL);
    if (!rc && x->disabled) rc = session_revoke_user(s, x->id, 0, now, NULL);
    if (!rc) rc = user_state(s, x->id, &after);
    if (!rc)
        rc = audit(s, x->a, x->disabled ? "user.disable" : "user.enable", "user", x->id, before,
                   after, json_object(), x->err);
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
    return write_tx(s, set_disabled_body, &x);
}

static int reset_body(store *s, void *arg)
{
    struct change_ctx *x = arg;
    json_t *before = NULL, *after = NULL;
    int rc = may_manage_user(s, x->a, x->id, x->err);
    if (rc) return rc;
    rc = user_state(s, x->id, &before);
    if (rc == QL_ENOTFOUND)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no account %lld", "没有编号为 %lld 的账户",
                       (long long)x->id);
    if (rc) return rc;
    int64_t now = auth_now();
    rc = store_exec(s,
                    "UPDATE users SET password_hash = $1, must_change_password = 1, "
                    "failed_signins = 0, locked_until = NULL, password_changed_at = $2, "
                    "updated_at = $2 WHERE id = $3",
                    (store_val[]){SV_TEXT(x->hash), SV_INT(now), SV_INT(x->id)}, 3, NULL);
    if (!rc) rc = session_revoke_user(s, x->id, 0, now, NULL);
    if (!rc) rc = user_state(s, x->id, &after);
    if (!rc)
        rc = audit(s, x->a, "user.password_reset", "user", x->id, before, after, json_object(),
                   x->err);
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
    rc = password_hash(pw, settings.cost, hash, err);
    if (rc) return rc;
    struct change_ctx x = {.a = a, .id = id, .hash = hash, .err = err};
    rc = write_tx(s, reset_body, &x);
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
    rc = user_state(s, id, out);
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
        rc = user_state(s, ids[i], &u);
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
    return audit(s, x->a, "token.create", "api_token", x->id, NULL, NULL,
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
    if (a->via == VIA_TOKEN && x.user_id != a->user_id)
        return ql_errf(err, QL_EFORBIDDEN, "username",
                       "an API token can make tokens for its own account only",
                       "接口令牌只能为其自身账户创建令牌");
    x.expires_at = auth_now() + (int64_t)days * 86400;
    rc = write_tx(s, token_create_body, &x);
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
    return audit(s, x->a, "token.revoke", "api_token", x->id, NULL, NULL, json_object(), x->err);
}

int account_token_revoke(store *s, const actor *a, int64_t id, ql_err *err)
{
    int rc = actor_require(a, P_TOKEN_MANAGE, err);
    if (rc) return rc;
    struct revoke_ctx x = {a, id, err};
    return write_tx(s, token_revoke_body, &x);
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
