/* internal.h - what the files of the accounts service share: the settings,
 * the audit and transaction helpers, an account's state, and the sign-in
 * throttle (throttle.c). Not for use outside src/account. */
#ifndef QL_ACCOUNT_INTERNAL_H
#define QL_ACCOUNT_INTERNAL_H

#include "account/account.h"

#include <jansson.h>
#include <stdint.h>

struct account_settings {
    long min_len;
    char cost[16];
    long lockout_after;
    long lockout_s;
    long address_after; /* 0: no throttle per address */
    struct session_limits lim;
};

/* Set by account_init; read-only afterwards. */
extern struct account_settings account_cfg;

/* Appends an audit row for a (detail is taken over, NULL for none). */
int account_audit(store *s, const actor *a, const char *action, const char *object_type,
                  int64_t object_id, const json_t *before, const json_t *after, json_t *detail,
                  ql_err *err);

/* Runs a write transaction that appends audit rows, then moves the audit
 * anchor forward once it has committed. */
int account_write_tx(store *s, store_tx_fn fn, void *ctx);

/* The state of an account as audited and shown (account_user_get). */
int account_user_state(store *s, int64_t id, json_t **out);

/* Records hash as the account's latest chosen password, keeping the last
 * ACCOUNT_PASSWORD_HISTORY (in a transaction). */
int account_history_add(store *s, int64_t user_id, const char *hash, int64_t now);

/* Roles and scope must fit together; duty roles are exclusive. Errors name
 * roles, scope or scope_id. */
int account_check_roles_scope(unsigned roles, enum scope_kind scope, const char *scope_id,
                              ql_err *err);

/* An API token may only manage accounts whose roles give no permission it
 * lacks. */
int account_may_manage_roles(const actor *a, unsigned roles, ql_err *err);

/* 1 if an account of scope and scope_id is bound to a person (the scope
 * self with a talent id). */
int account_binds_person(enum scope_kind scope, const char *scope_id);

/* 0 if no account other than self (0 for none) is bound to the person of
 * scope and scope_id, else QL_ECONFLICT naming scope_id (one account per
 * person). In a transaction. */
int account_person_free(store *s, enum scope_kind scope, const char *scope_id, int64_t self,
                        ql_err *err);

/* Splits the duty roles of roles into those a may grant alone (*alone) and
 * those that wait for a second person (*requested); so too the role talent
 * when bound (1: the grant binds the account to a person). Other roles go
 * to *alone. In a transaction (the command line's first security
 * administrator is looked up). */
int account_split_grants(store *s, const actor *a, unsigned roles, int bound, unsigned *alone,
                         unsigned *requested);

/* Records pending grants of requested for user id, asked for by a (in the
 * transaction). */
int account_request_roles(store *s, const actor *a, int64_t id, unsigned requested, int64_t now);

/* Withdraws every pending grant of account id (decided by a), *withdrawn
 * receiving their roles (in the transaction). */
/* Unbinds a personal account that holds no confirmed binding (scope_id
 * ''), when its binding is withdrawn or refused. */
int account_unbind_person(store *s, int64_t id, int64_t now);

int account_withdraw_requests(store *s, const actor *a, int64_t id, int64_t now,
                              unsigned *withdrawn);

/* 0 unless account id is the last enabled account holding security_admin
 * (then QL_ECONFLICT: removing, demoting or disabling it would leave no
 * one to grant roles), err naming field. In the transaction. */
int account_keeps_security_admin(store *s, int64_t id, const char *field, ql_err *err);

/* ---- the sign-in throttle (throttle.c) --------------------------------- */

#define THROTTLE_KEY 72

/* The throttle key of a username that has no account (lower case). */
void throttle_name_key(const char *lower, char out[THROTTLE_KEY]);
/* The throttle key of a client address: an IPv4 address, the /64 of an IPv6
 * one, or the text itself when it is no address ("cli:root"). */
void throttle_address_key(const char *ip, char out[THROTTLE_KEY]);
/* The client address as the sign-in form token binds it (same prefix). */
void throttle_address_text(const char *ip, char out[64]);

struct throttle_state {
    int64_t failed;       /* failures in a row that still count */
    int64_t locked_until; /* 0 unless locked now */
};

/* Reads a throttle row; a row quiet for longer than the lock-out counts as
 * none (so nothing depends on when dead rows are pruned). */
int throttle_read(store *s, const char *key, int64_t now, struct throttle_state *out);

/* Counts one failure under key; at limit failures (limit > 0) the key is
 * locked for the lock-out time, *locked_until set (else 0). *failed gets the
 * count including this one. */
int throttle_fail(store *s, const char *key, int64_t now, long limit, int64_t *failed,
                  int64_t *locked_until);

/* 1 in *ok if token is a live known device of user_id (not expired). */
int device_check(store *s, const char *token, int64_t user_id, int64_t now, int *ok);

/* A wrong password from a known device: counted; at security.lockout_after
 * the device is forgotten. */
int device_fail(store *s, const char *token);

/* Remembers the browser after a successful sign-in: the known token again
 * (its life extended) or a new one in out; keeps the newest 20 per account. */
int device_remember(store *s, int64_t user_id, const char *known, int64_t now,
                    char out[AUTH_TOKEN_CHARS]);

/* Prunes the throttle at most once a minute per process (errors logged). */
void account_throttle_maybe_prune(store *s, int64_t now);

#endif
