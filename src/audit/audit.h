/* audit.h - the tamper-evident audit log.
 *
 * Every change of state, every sign-in and every failed sign-in appends one
 * row to audit_log inside the same transaction as the change itself. Rows
 * are numbered 1, 2, 3, ... (seq) and chained: each row's hash is a keyed
 * hash over all its fields and the previous row's hash (64 zeros for row 1).
 * The key lives in a file outside the database (security.keys_dir/audit.key),
 * so someone who can edit the database cannot recompute the chain.
 *
 * Two hash algorithms, recorded per row: "blake2b" (keyed BLAKE2b-256,
 * libsodium) and "sm3" (HMAC-SM3, OpenSSL 3). New rows use the one chosen at
 * audit_init; verification uses each row's own.
 *
 * Removing rows from the end cannot be seen from the chain alone: after each
 * transaction that appended rows commits, the process writes the head (seq
 * and hash) to an anchor file (security.keys_dir/audit.anchor) and to the
 * application log (audit_committed), and verification compares the database
 * with the anchor.
 *
 * Rows never hold personal data: before and after states are stored as
 * digests only, and detail must carry ids and masked values.
 */
#ifndef QL_AUDIT_AUDIT_H
#define QL_AUDIT_AUDIT_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

enum audit_algo { AUDIT_BLAKE2B = 1, AUDIT_SM3 = 2 };

/* Loads (creating on first use) the audit key from keys_dir and chooses the
 * algorithm for new rows ("blake2b" or "sm3"). Call once at start-up, before
 * any thread appends. Returns 0 or an error naming the key file or option. */
int audit_init(const char *keys_dir, const char *algo, ql_err *err);

/* One event. Strings may be NULL (stored as ""). */
typedef struct audit_event {
    int64_t actor_id;        /* users.id, or 0 when there is none */
    const char *actor;       /* username, "cli:<unix user>", or "anonymous" */
    const char *action;      /* e.g. "user.create", "auth.signin", "auth.signin_failed" */
    const char *object_type; /* e.g. "user" */
    const char *object_id;
    const json_t *before;    /* the object's state before and after, or NULL: */
    const json_t *after;     /* only their digests are stored */
    const json_t *detail;    /* an object, stored as JSON; ids and masked values only */
    const char *ip;
    const char *request_id;
} audit_event;

/* Appends a row for a change made by a (NULL: anonymous): its label
 * (actor_label), user id, address and request id; object_id 0 for none. The JSON values are only
 * read. Same transaction rule as audit_append. */
int audit_by(store *s, const actor *a, const char *action, const char *object_type,
             int64_t object_id, const json_t *before, const json_t *after, const json_t *detail,
             int64_t *seq, ql_err *err);

/* Appends ev after the current last row. Must run inside a write
 * transaction (store_tx STORE_TX_WRITE), so the row commits or rolls back
 * with the change it records. Two appends racing for the same seq make one
 * transaction retry (QL_EBUSY). *seq (may be NULL) receives the new row's seq. */
int audit_append(store *s, const audit_event *ev, int64_t *seq, ql_err *err);

/* Canonical digest of a JSON value (sorted keys, compact), as 64 hex
 * characters plus NUL in out ("" for NULL). Used for before/after states.
 * Keyed with a key derived from the audit key (unkeyed before audit_init),
 * so a reader of the database cannot confirm a guessed record. */
void audit_digest(const json_t *value, char out[65]);

/* Moves the anchor forward once rows have committed. Call it after store_tx
 * (STORE_TX_WRITE) returned 0 for a transaction that appended, on a
 * connection that is not inside a transaction: it reads the committed head
 * of audit_log and, if that is past the anchor, writes it to the anchor file
 * and logs "audit head seq=N hash=H". audit_append itself leaves the anchor
 * alone, because its transaction may still roll back. The anchor never moves
 * backwards, and is not moved at all if the row it records no longer has the
 * recorded hash (QL_ECONFLICT: the log was rewritten; the anchor is kept as
 * evidence). Safe from several threads and processes. Returns 0 or an error;
 * an error does not undo the committed transaction. Inside a transaction (a
 * service's store_tx nested in its caller's) it does nothing and returns 0:
 * the outermost caller calls it once its transaction has committed. */
int audit_committed(store *s, ql_err *err);

/* What audit_verify found. */
typedef struct audit_report {
    int ok;              /* 1 if the whole chain and the anchor agree */
    int64_t rows;        /* rows checked */
    int64_t head_seq;    /* last seq in the database */
    char head_hash[65];
    int64_t broken_seq;  /* first row that fails (0 if ok); for deleted tail rows, the first missing seq */
    char reason_en[256]; /* what is wrong with it */
    char reason_zh[256];
} audit_report;

/* Recomputes the chain in seq order and checks it against the anchor file.
 * Reports the first broken row: a seq that is missing (a row deleted), a
 * row whose previous-hash link does not match (rows deleted or reordered), a
 * row whose hash does not match its contents (a row edited), or a database
 * that ends before the anchor (rows deleted from the end). Call it outside a
 * transaction (or first thing in one): the anchor is read before the rows.
 * Returns 0 when it could check (report->ok says the verdict), or a store
 * error, or an error naming a damaged anchor file. */
int audit_verify(store *s, audit_report *report, ql_err *err);

#endif
