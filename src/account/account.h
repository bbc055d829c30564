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

/* The password printed by make run for the demo accounts: never accepted
 * as a password someone chooses. */
#define ACCOUNT_DEMO_PASSWORD "Demo-Pass-2026!"
/* How many of an account's last passwords a new one may not repeat. */
#define ACCOUNT_PASSWORD_HISTORY 5

struct signin_result {
    int64_t user_id;
    int64_t session_id;
    int must_change_password;
    char token[AUTH_TOKEN_CHARS]; /* the session cookie's value */
    char csrf[AUTH_TOKEN_CHARS];
    char device[AUTH_TOKEN_CHARS]; /* the known-device cookie's value (set it again) */
};

/* Signs in with username and password. Returns 0 and a new session;
 * QL_EUNAUTH for a wrong username or password (one message for both, so
 * the answer does not tell which usernames exist); QL_EFORBIDDEN for a
 * locked account or client address (the message says until when, Shanghai
 * time) or a disabled account. Every attempt is audited.
 *
 * Failures count per username (security.lockout_after in a row lock it for
 * security.lockout_minutes, for names without an account too) and per
 * client address ip (security.lockout_address_after; an IPv6 address by its
 * /64). A lock refuses browsers that are not known devices of the account;
 * device is the value of the known-device cookie the browser sent (NULL or
 * "" for none): one that signed in to this account before may still sign
 * in with the right password, so guessing from elsewhere cannot lock the
 * owner out (its own wrong passwords count, and after lockout_after of them
 * it is a known device no more). out->device is the cookie to keep.
 * user_agent is kept with the session, ip in the audit row. Callable from
 * any thread with its own store connection. */
int account_signin(store *s, const char *username, const char *password, const char *ip,
                   const char *user_agent, const char *device, const char *request_id,
                   struct signin_result *out, ql_err *err);

/* Signs in for one command-line action as username (for example to confirm
 * a grant as the security administrator): the password is checked, counted
 * and audited as at the console (the "address" is the command line's unix
 * user), but no session starts, and an account that must still choose its
 * password is refused. On success *out is that account acting through the
 * command line (VIA_CLI, its own user id, roles and permissions); cli is the
 * command line's own actor (actor_cli). */
int account_signin_cli(store *s, const char *username, const char *password, const actor *cli,
                       actor *out, ql_err *err);

/* The sign-in form's double-submit token (cookie and form field carry the
 * same value): a random pre-session id, the time, and a MAC keyed from the
 * audit key over both and the client's address. */
#define SIGNIN_FORM_TOKEN_CHARS 96
#define SIGNIN_FORM_MAX_AGE     7200 /* seconds a sign-in form stays good */
void account_signin_form_token(const char *ip, int64_t now, char out[SIGNIN_FORM_TOKEN_CHARS]);
/* 1 if token was made by account_signin_form_token for a client at ip (the
 * same IPv4 address or IPv6 /64) at most SIGNIN_FORM_MAX_AGE ago, else 0. */
int account_signin_form_valid(const char *token, const char *ip, int64_t now);

/* Deletes sign-in throttle rows that have lapsed (quiet for longer than the
 * lock-out) and expired known devices, in batches; safe while other
 * processes sign in and prune. account_signin calls it at most once a
 * minute per process. *removed (may be NULL) gets the count. */
int account_throttle_prune(store *s, int64_t now, int64_t *removed, ql_err *err);

/* Ends the actor's session, or every session of the actor's account. */
int account_signout(store *s, const actor *a, int everywhere, ql_err *err);

/* Changes the actor's own password. Fields: current_password, new_password,
 * confirm_password. The new password follows the rules, is not the demo
 * password and is none of the account's last ACCOUNT_PASSWORD_HISTORY. Ends
 * the account's other sessions; this one goes on under a new token
 * (session_token, the cookie to set) and a new form token (a->csrf). */
int account_change_password(store *s, actor *a, const char *current, const char *new_password,
                            const char *confirm, char session_token[AUTH_TOKEN_CHARS], ql_err *err);

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
 * Needs user.manage. Duty roles the actor may not grant alone
 * (account_user_set_roles) are asked for and wait for a second person. *id receives its id; when
 * the password was generated it is written to temp_password (else temp_password is ""). Errors name
 * the field: username, display_name, roles, scope, scope_id, password. */
int account_user_create(store *s, const actor *a, const struct user_input *in, int64_t *id,
                        char temp_password[24], ql_err *err);

/* Disables (ending its sessions) or enables an account. Needs user.manage;
 * nobody can disable their own account. */
int account_user_set_disabled(store *s, const actor *a, int64_t id, int disabled, ql_err *err);

/* Sets a generated password that must be changed at next sign-in, unlocks
 * the account and ends its sessions. Needs user.manage; the password of an
 * account holding a duty role, a window clerk's, or an account bound to a
 * person is reset only from the command line (whoever resets learns it).
 * Grants waiting for the account are withdrawn. */
int account_user_reset_password(store *s, const actor *a, int64_t id, char temp_password[24],
                                ql_err *err);

/* What an administrator can do to an existing account. */
enum user_action { USER_ENABLE, USER_DISABLE, USER_RESET_PASSWORD };

/* Applies one of them (as account_user_set_disabled or
 * account_user_reset_password); temp_password receives the new temporary
 * password for USER_RESET_PASSWORD, else "". */
int account_user_apply(store *s, const actor *a, int64_t id, enum user_action what,
                       char temp_password[24], ql_err *err);

/* ---- roles and the separation of duties --------------------------------
 *
 * The duty roles (perm.h ROLE_DUTIES: admin, security_admin, auditor,
 * finance, reviewer) are held one to an account. Who grants them:
 *   - a security administrator (role.confirm): at once, on any account but
 *     its own;
 *   - a system administrator (role.grant without role.confirm): as a request
 *     that waits until another account confirms it: a security
 *     administrator, or another system administrator (never the one who
 *     asked: accounts are compared, not names);
 *   - the command line (cli:<unix user>, no account): admin and auditor at
 *     once (it sets the system up), security_admin at once only while no
 *     enabled account holds it (the first one), finance, reviewer and further
 *     security administrators as requests that a security administrator
 *     confirms.
 * Other roles are granted at once by whoever holds role.grant. Removing a
 * role is never held back. Nobody changes their own roles. */

struct role_change {
    unsigned granted; /* took effect */
    unsigned removed;
    unsigned requested; /* wait for a second person */
    unsigned withdrawn; /* pending requests the new set leaves out */
};

/* The names of a set of roles (bit 1 << role) as a JSON array (new reference). */
json_t *account_roles_json(unsigned roles);

/* Sets the roles and scope of account id to roles, scope and scope_id
 * (checked as for account_user_create). Needs role.grant. Roles added are
 * granted or requested as above; roles left out are removed, and pending
 * requests for them withdrawn. The audit row (user.roles) names the roles
 * granted, requested, removed and withdrawn and the scope before and after.
 * *out (may be NULL) says what happened. Errors name roles, scope, scope_id
 * or id. */
int account_user_set_roles(store *s, const actor *a, int64_t id, unsigned roles,
                           enum scope_kind scope, const char *scope_id, struct role_change *out,
                           ql_err *err);

/* Pending grants as a JSON array, oldest first: id, user_id, username,
 * display_name, role, requested_by, requested_at, and may_confirm (bool: a
 * may confirm it). user_id 0 for all. Needs role.grant or user.read. */
int account_role_requests(store *s, const actor *a, int64_t user_id, json_t **rows, ql_err *err);

/* Confirms (confirm 1: the role is granted) or refuses (0) a pending
 * grant. Confirming needs a person with an account (not an API token, not
 * the command line by itself) other than the one who asked and than the
 * account itself, holding role.confirm, or role.grant when the one who
 * asked was another account. Refusing needs role.grant. QL_ENOTFOUND for a
 * request that is not pending; QL_ECONFLICT if the grant no longer fits the
 * account's roles. Audited as user.role_confirm or user.role_refuse. */
int account_role_decide(store *s, const actor *a, int64_t request_id, int confirm, ql_err *err);

/* One account as JSON: id, username, display_name, roles [names],
 * pending_roles [names of duty roles waiting for a second person], scope,
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
 * days (1-3650). token receives it (shown once). Needs token.manage.
 * username must be a's own account unless a is the command line by itself
 * (actor_cli): a token acts as its account in every four-eyes check, so
 * nobody else makes one for it over the API (QL_EFORBIDDEN, field
 * username). */
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
