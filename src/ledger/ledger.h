/* ledger.h - the double-entry ledger (tables ledger_accounts,
 * ledger_transfers; sql/<dialect>/0011_ledger.sql).
 *
 * Money moves as transfers: each debits one account and credits another by
 * the same amount in fen (more than 0), so every entry balances by
 * construction and the balances of all accounts sum to zero. An account's
 * balance is derived from the transfers (credits minus debits), never
 * stored. Each transfer carries a unique idempotency key: posting the same
 * key again with the same accounts and amount answers with the transfer
 * already there, with other content it is refused. Nothing posted is
 * updated or deleted (the schema refuses both): a correction is another
 * transfer.
 *
 * These are building blocks of the disbursement service, which checks who
 * may post; they take no actor. */
#ifndef QL_LEDGER_LEDGER_H
#define QL_LEDGER_LEDGER_H

#include "core/err.h"
#include "store/store.h"

#include <stdint.h>

enum ledger_kind {
    LK_BUDGET = 0, /* a programme's budget of a year */
    LK_PAYABLE,    /* owed to a payee */
    LK_CLEARING,   /* sent to the bank, not yet confirmed */
    LK_PAID,       /* confirmed paid */
    LK_RECEIVABLE, /* to be recovered from a payee */
    LK_COUNT
};

const char *ledger_kind_name(enum ledger_kind k);

/* One account: code names it uniquely ("payable:person:123"). */
struct ledger_account {
    const char *code; /* 1-100 bytes */
    enum ledger_kind kind;
    const char *programme;  /* may be "" */
    const char *payee_type; /* "", "person", "employer" or "operator" */
    int64_t payee_id;       /* 0 for none */
};

/* The id of the account named a->code, created with a's fields on first
 * use (the same code with another kind is QL_ECONFLICT, field "code").
 * Returns 0, QL_EINVAL naming the field, or a store error. */
int ledger_account_id(store *s, const struct ledger_account *a, int64_t *id, ql_err *err);

/* ledger_account_id for an account the caller expects not to exist yet (a
 * payee's first payable account): inserts first and looks the code up only
 * when it exists after all; the same answers. */
int ledger_account_new(store *s, const struct ledger_account *a, int64_t *id, ql_err *err);

struct ledger_transfer {
    const char *key;        /* idempotency key, 1-120 bytes */
    int64_t debit, credit;  /* account ids, different */
    int64_t amount_fen;     /* more than 0 */
    const char *cycle;      /* "YYYY-MM" or "" */
    int64_t application_id; /* 0 for none */
    const char *memo;       /* at most 500 bytes, may be NULL */
};

/* Posts t. Returns 0 with *id; when t->key was posted before with the same
 * debit, credit and amount, 0 with that transfer's id and *duplicate set;
 * with other content QL_ECONFLICT (field "key"). QL_EINVAL naming the field
 * for an amount not above 0, the same account twice, an unknown account or
 * a key or memo out of bounds. Runs in the caller's write transaction when
 * there is one, else in its own. */
int ledger_post(store *s, const struct ledger_transfer *t, int64_t *id, int *duplicate,
                ql_err *err);

/* ledger_post for accounts known to exist (ids ledger_account_id gave in
 * this transaction): inserts first and looks at the key only when it was
 * posted before; the same answers. The fast path of the cycle. */
int ledger_post_known(store *s, const struct ledger_transfer *t, int64_t *id, int *duplicate,
                      ql_err *err);

/* Account id's balance: credits minus debits, in fen. */
int ledger_balance(store *s, int64_t account, int64_t *fen, ql_err *err);

/* The whole ledger: *sum, the sum of every account's balance (0 unless the
 * data were changed behind the schema), and *transfers, how many there are. */
int ledger_check(store *s, int64_t *sum, int64_t *transfers, ql_err *err);

#endif
