/* session.c - sessions and API tokens over the store. */
#include "auth/session.h"

#include "core/text.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOUCH_EVERY_S 60

void auth_random_token(char out[AUTH_TOKEN_CHARS])
{
    unsigned char raw[32];
    if (sodium_init() < 0) abort();
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, AUTH_TOKEN_CHARS, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void auth_token_hash(const char *token, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

int auth_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb || la == 0) return 0;
    return sodium_memcmp(a, b, la) == 0;
}

int64_t auth_now(void)
{
    return (int64_t)time(NULL);
}

static void copy_text(char *dst, size_t n, store_rows *r, int col)
{
    snprintf(dst, n, "%s", store_col_text(r, col, NULL));
}

int auth_load_user(store *s, int64_t user_id, actor *a, int *disabled)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT username, display_name, scope_kind, scope_id, disabled, "
                         "must_change_password FROM users WHERE id = $1",
                         (store_val[]){SV_INT(user_id)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        a->user_id = user_id;
        copy_text(a->username, sizeof a->username, r, 0);
        copy_text(a->display_name, sizeof a->display_name, r, 1);
        enum scope_kind sk = SCOPE_SELF;
        scope_parse(store_col_text(r, 2, NULL), &sk);
        a->scope = sk;
        copy_text(a->scope_id, sizeof a->scope_id, r, 3);
        if (disabled) *disabled = (int)store_col_int(r, 4);
        a->must_change_password = (int)store_col_int(r, 5);
        rc = 0;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    if (rc) return rc;
    rc = store_query(s, "SELECT role FROM user_roles WHERE user_id = $1",
                     (store_val[]){SV_INT(user_id)}, 1, &r);
    if (rc) return rc;
    a->roles = 0;
    while ((rc = store_step(r)) == 1) {
        enum role role;
        if (role_parse(store_col_text(r, 0, NULL), &role) == 0) a->roles |= 1u << role;
    }
    store_rows_close(r);
    if (rc < 0) return rc;
    a->perms = roles_perms(a->roles);
    return 0;
}

int session_create(store *s, int64_t user_id, const char *ip, const char *user_agent,
                   const struct session_limits *lim, int64_t now, char token_out[AUTH_TOKEN_CHARS],
                   char csrf_out[AUTH_TOKEN_CHARS], int64_t *id)
{
    char hash[65];
    auth_random_token(token_out);
    auth_random_token(csrf_out);
    auth_token_hash(token_out, hash);
    /* The header is the client's: keep 255 bytes at most, whole characters,
     * with anything malformed replaced. */
    char ua[256];
    text_copy_clean(ua, sizeof ua, user_agent ? user_agent : "");
    int rc = store_exec(s,
                        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, "
                        "last_seen_at, expires_at, ip, user_agent) "
                        "VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
                        (store_val[]){SV_TEXT(hash), SV_INT(user_id), SV_TEXT(csrf_out),
                                      SV_INT(now), SV_INT(now + lim->max_s),
                                      SV_TEXT(ip ? ip : ""), SV_TEXT(ua)},
                        7, NULL);
    if (rc || !id) return rc;
    return store_query_int(s, "SELECT id FROM sessions WHERE token_hash = $1",
                           (store_val[]){SV_TEXT(hash)}, 1, id);
}

int session_actor(store *s, const char *token, const struct session_limits *lim, int64_t now,
                  actor *a)
{
    char hash[65];
    auth_token_hash(token, hash);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, user_id, csrf_token, last_seen_at, expires_at, revoked_at "
                         "FROM sessions WHERE token_hash = $1",
                         (store_val[]){SV_TEXT(hash)}, 1, &r);
    if (rc) return rc;
    int64_t sid = 0, uid = 0, seen = 0, expires = 0;
    int revoked = 0;
    rc = store_step(r);
    if (rc == 1) {
        sid = store_col_int(r, 0);
        uid = store_col_int(r, 1);
        copy_text(a->csrf, sizeof a->csrf, r, 2);
        seen = store_col_int(r, 3);
        expires = store_col_int(r, 4);
        revoked = !store_col_isnull(r, 5);
        rc = 0;
    } else if (rc == 0) {
        rc = QL_EUNAUTH;
    }
    store_rows_close(r);
    if (rc) return rc;
    if (revoked || now >= expires || now - seen >= lim->idle_s) return QL_EUNAUTH;
    int disabled = 0;
    rc = auth_load_user(s, uid, a, &disabled);
    if (rc == QL_ENOTFOUND || disabled) return QL_EUNAUTH;
    if (rc) return rc;
    a->via = VIA_SESSION;
    a->session_id = sid;
    if (now - seen >= TOUCH_EVERY_S)
        store_exec(s, "UPDATE sessions SET last_seen_at = $1 WHERE id = $2",
                   (store_val[]){SV_INT(now), SV_INT(sid)}, 2, NULL);
    return 0;
}

int session_revoke(store *s, int64_t session_id, int64_t now)
{
    return store_exec(s, "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                      (store_val[]){SV_INT(now), SV_INT(session_id)}, 2, NULL);
}

int session_revoke_user(store *s, int64_t user_id, int64_t keep_id, int64_t now, int64_t *count)
{
    return store_exec(s,
                      "UPDATE sessions SET revoked_at = $1 "
                      "WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL",
                      (store_val[]){SV_INT(now), SV_INT(user_id), SV_INT(keep_id)}, 3, count);
}

int token_create(store *s, int64_t user_id, const char *name, permset perms, int64_t expires_at,
                 const char *created_by, int64_t now, char token_out[64], int64_t *id)
{
    char body[AUTH_TOKEN_CHARS], hash[65], prefix[16], names[1024];
    auth_random_token(body);
    snprintf(token_out, 64, "%s%s", API_TOKEN_PREFIX, body);
    auth_token_hash(token_out, hash);
    snprintf(prefix, sizeof prefix, "%.12s", token_out);
    perms_format(perms, names, sizeof names);
    int rc = store_exec(s,
                        "INSERT INTO api_tokens (name, token_hash, prefix, user_id, permissions, "
                        "created_by, created_at, expires_at) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        (store_val[]){SV_TEXT(name), SV_TEXT(hash), SV_TEXT(prefix),
                                      SV_INT(user_id), SV_TEXT(names), SV_TEXT(created_by),
                                      SV_INT(now), SV_INT(expires_at)},
                        8, NULL);
    if (rc || !id) return rc;
    return store_query_int(s, "SELECT id FROM api_tokens WHERE token_hash = $1",
                           (store_val[]){SV_TEXT(hash)}, 1, id);
}

int token_actor(store *s, const char *token, int64_t now, actor *a)
{
    if (strncmp(token, API_TOKEN_PREFIX, strlen(API_TOKEN_PREFIX)) != 0) return QL_EUNAUTH;
    char hash[65];
    auth_token_hash(token, hash);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, user_id, permissions, expires_at, revoked_at, last_used_at "
                         "FROM api_tokens WHERE token_hash = $1",
                         (store_val[]){SV_TEXT(hash)}, 1, &r);
    if (rc) return rc;
    int64_t tid = 0, uid = 0, expires = 0, used = 0;
    int revoked = 0;
    char names[1024] = "";
    rc = store_step(r);
    if (rc == 1) {
        tid = store_col_int(r, 0);
        uid = store_col_int(r, 1);
        copy_text(names, sizeof names, r, 2);
        expires = store_col_int(r, 3);
        revoked = !store_col_isnull(r, 4);
        used = store_col_int(r, 5);
        rc = 0;
    } else if (rc == 0) {
        rc = QL_EUNAUTH;
    }
    store_rows_close(r);
    if (rc) return rc;
    if (revoked || now >= expires) return QL_EUNAUTH;
    int disabled = 0;
    rc = auth_load_user(s, uid, a, &disabled);
    if (rc == QL_ENOTFOUND || disabled) return QL_EUNAUTH;
    if (rc) return rc;
    permset allowed = 0;
    if (perms_parse(names, &allowed, NULL)) allowed = 0;
    a->perms &= allowed;
    a->via = VIA_TOKEN;
    a->token_id = tid;
    a->must_change_password = 0; /* a token's user does not sign in with a password */
    if (now - used >= TOUCH_EVERY_S)
        store_exec(s, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
                   (store_val[]){SV_INT(now), SV_INT(tid)}, 2, NULL);
    return 0;
}

int token_revoke(store *s, int64_t id, int64_t now)
{
    int64_t n = 0;
    int rc = store_exec(s,
                        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                        (store_val[]){SV_INT(now), SV_INT(id)}, 2, &n);
    if (rc) return rc;
    return n ? 0 : QL_ENOTFOUND;
}

int session_rotate(store *s, int64_t session_id, char token_out[AUTH_TOKEN_CHARS],
                   char csrf_out[AUTH_TOKEN_CHARS])
{
    char hash[65];
    auth_random_token(token_out);
    auth_random_token(csrf_out);
    auth_token_hash(token_out, hash);
    int64_t n = 0;
    int rc = store_exec(s,
                        "UPDATE sessions SET token_hash = $1, csrf_token = $2 "
                        "WHERE id = $3 AND revoked_at IS NULL",
                        (store_val[]){SV_TEXT(hash), SV_TEXT(csrf_out), SV_INT(session_id)}, 3, &n);
    if (!rc && n != 1) rc = QL_ENOTFOUND;
    if (rc) token_out[0] = csrf_out[0] = '\0';
    return rc;
}
