/* session.h - console sessions and API tokens, and the actor they carry.
 *
 * A session is a random 256-bit token in an HttpOnly cookie; the database
 * keeps only its BLAKE2b-256 hash, so a copy of the database does not let
 * anyone sign in. Each session has its own CSRF token for forms. Sessions
 * end after security.session_idle minutes without use or
 * security.session_max hours in all, on sign-out, on "sign out everywhere",
 * and when the account is disabled or its password reset.
 *
 * API tokens ("qlt_" + 43 characters) act as one user, with at most the
 * permissions named when the token was created, until they expire or are
 * revoked. They are shown once at creation and stored hashed.
 */
#ifndef QL_AUTH_SESSION_H
#define QL_AUTH_SESSION_H

#include "auth/perm.h"
#include "store/store.h"

#include <stdint.h>

#define AUTH_TOKEN_CHARS 48     /* room for a token and its NUL */
#define API_TOKEN_PREFIX "qlt_"

struct session_limits {
    int64_t idle_s; /* a session unused this long has ended */
    int64_t max_s;  /* a session this old has ended */
};

/* Writes 43 random base64url characters and a NUL into out. */
void auth_random_token(char out[AUTH_TOKEN_CHARS]);

/* BLAKE2b-256 of token as 64 hex characters and a NUL. */
void auth_token_hash(const char *token, char out[65]);

/* Constant-time comparison of two NUL-terminated strings; 1 if equal. */
int auth_equal(const char *a, const char *b);

/* Current time in Unix seconds. */
int64_t auth_now(void);

/* Fills a with the user's identity, roles, permissions and scope. Returns
 * QL_ENOTFOUND if there is no such user. Does not check disabled. */
int auth_load_user(store *s, int64_t user_id, actor *a, int *disabled);

/* Starts a session for user_id. token_out receives the cookie value and
 * csrf_out the session's form token. *id (may be NULL) gets the session id. */
int session_create(store *s, int64_t user_id, const char *ip, const char *user_agent,
                   const struct session_limits *lim, int64_t now, char token_out[AUTH_TOKEN_CHARS],
                   char csrf_out[AUTH_TOKEN_CHARS], int64_t *id);

/* Finds the live session of token and fills a (via VIA_SESSION). Returns
 * QL_EUNAUTH for an unknown, revoked, expired or idle session or a disabled
 * user. Records use (last_seen_at) at most once a minute. */
int session_actor(store *s, const char *token, const struct session_limits *lim, int64_t now,
                  actor *a);

/* Ends one session, or every live session of a user except keep_id (0 for
 * none). *count (may be NULL) receives how many ended. */
int session_revoke(store *s, int64_t session_id, int64_t now);
int session_revoke_user(store *s, int64_t user_id, int64_t keep_id, int64_t now, int64_t *count);

/* Gives a live session a new token and a new form token (the old ones stop
 * working at once). QL_ENOTFOUND if it is not live. */
int session_rotate(store *s, int64_t session_id, char token_out[AUTH_TOKEN_CHARS],
                   char csrf_out[AUTH_TOKEN_CHARS]);

/* Creates an API token acting as user_id with at most perms, valid until
 * expires_at. token_out receives the token (shown once). */
int token_create(store *s, int64_t user_id, const char *name, permset perms, int64_t expires_at,
                 const char *created_by, int64_t now, char token_out[64], int64_t *id);

/* Finds the live token and fills a (via VIA_TOKEN; permissions are the
 * user's within the token's). QL_EUNAUTH if unknown, revoked, expired, or
 * its user disabled. Records use at most once a minute. */
int token_actor(store *s, const char *token, int64_t now, actor *a);

/* Revokes a token. QL_ENOTFOUND if there is no live token with that id. */
int token_revoke(store *s, int64_t id, int64_t now);

#endif
