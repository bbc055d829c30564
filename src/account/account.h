/* account.h - the accounts service: signing in and out, passwords, user
 * administration and API tokens.
 *
 * Every function that changes state takes the acting actor, checks its
 * permission and scope, makes the change and appends the audit row in one
 * transaction. The JSON API, the console and the CLI all call these, so
 * they cannot disagree about who may do what. Errors name the field, in
 * English and Chinese.
 */
#ifndef QL_ACCOUNT_ACCOUNT_H
#define QL_ACCOUNT_ACCOUNT_H

#include "auth/perm.h"
#include "auth/session.h"
#include "core/config.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

/* Takes the password and session settings from cfg (security.*). Call once
 * at start-up, before threads start. */
void account_init(const ql_config *cfg);

/* The session limits in force (for the HTTP layer). */
const struct session_limits *account_session_limits(void);

struct signin_result {
    int64_t user_id;
    int64_t session_id;
    int must_change_password;
    char token[AUTH_TOKEN_CHARS]; /* the session cookie's value */
    char csrf[AUTH_TOKEN_CHARS];
};

/* Signs in with username and password. Returns 0 and a new session;
 * QL_EUNAUTH for a wrong username or password (one message for both, so
 * the answer does not tell which usernames exist); QL_EFORBIDDEN for a
 * locked account (the message says until when, Shanghai time) or a disabled
 * one. Failed attempts count towards the lock-out; every attempt is audited.
 * ip and user_agent describe the client (the user agent is kept with the
 * session, the ip in the audit row). */
int account_signin(store *s, const char *username, const char *password, const char *ip,
                   const char *user_agent, const char *request_id, struct signin_result *out,
                   ql_err *err);

/* Ends the actor's session, or every session of the actor's account. */
int account_signout(store *s, const actor *a, int everywhere, ql_err *err);

/* Changes the actor's own password. Fields: current_password, new_password,
 * confirm_password. Ends the account's other sessions. */
int account_change_password(store *s, actor *a, const char *current, const char *new_password,
                            const char *confirm, ql_err *err);

/* A new account. roles is a set of bits 1 << role; scope_id as the scope
 * needs it (empty for district, the unified social credit code for an
 * employer, ...). password NULL or "" generates one. */
struct user_input {
    const char *username;
    const char *display_name;
    unsigned roles;
    enum scope_kind scope;
    const char *scope_id;
    const char *password;
    int keep_password; /* 1: a given password need not be changed at first sign-in */
};

/* Creates an account that must change its password at first sign-in
 * (unless keep_password is set and a password was given).
 * Needs user.manage. *id receives its id; when the password was generated
 * it is written to temp_password (else temp_password is ""). Errors name
 * the field: username, display_name, roles, scope, scope_id, password. */
int account_user_create(store *s, const actor *a, const struct user_input *in, int64_t *id,
                        char temp_password[24], ql_err *err);

/* Disables (ending its sessions) or enables an account. Needs user.manage;
 * nobody can disable their own account. */
int account_user_set_disabled(store *s, const actor *a, int64_t id, int disabled, ql_err *err);

/* Sets a generated password that must be changed at next sign-in, unlocks
 * the account and ends its sessions. Needs user.manage. */
int account_user_reset_password(store *s, const actor *a, int64_t id, char temp_password[24],
                                ql_err *err);

/* What an administrator can do to an existing account. */
enum user_action { USER_ENABLE, USER_DISABLE, USER_RESET_PASSWORD };

/* Applies one of them (as account_user_set_disabled or
 * account_user_reset_password); temp_password receives the new temporary
 * password for USER_RESET_PASSWORD, else "". */
int account_user_apply(store *s, const actor *a, int64_t id, enum user_action what,
                       char temp_password[24], ql_err *err);

/* One account as JSON: id, username, display_name, roles [names], scope,
 * scope_id, disabled, locked (bool), must_change_password, created_at,
 * updated_at (ISO 8601, Shanghai). Needs user.read. */
int account_user_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err);

/* Finds an account id by username. QL_ENOTFOUND if none. */
int account_user_id(store *s, const char *username, int64_t *id, ql_err *err);

/* Lists accounts whose username or display name contains q (NULL or "" for
 * all), ordered by username, page (from 1) of per_page (1-100). *rows
 * receives a JSON array of accounts as account_user_get gives them, *total
 * the number of matches. Needs user.read. */
int account_user_list(store *s, const actor *a, const char *q, int64_t page, int64_t per_page,
                      json_t **rows, int64_t *total, ql_err *err);

/* Creates an API token acting as username with at most perms, valid for
 * days (1-3650). token receives it (shown once). Needs token.manage. */
int account_token_create(store *s, const actor *a, const char *username, const char *name,
                         permset perms, long days, char token[64], int64_t *id, ql_err *err);

/* Revokes a token. Needs token.manage. */
int account_token_revoke(store *s, const actor *a, int64_t id, ql_err *err);

/* Lists tokens (never their values): id, name, prefix, username,
 * permissions, created_at, expires_at, revoked (bool), last_used_at.
 * Needs token.manage. */
int account_token_list(store *s, const actor *a, json_t **rows, ql_err *err);

/* Formats Unix seconds as ISO 8601 in Shanghai time ("2026-11-29T08:00:00+08:00"). */
void account_time_text(int64_t t, char out[32]);

#endif
