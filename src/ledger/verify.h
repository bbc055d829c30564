/* verify.h - checks the whole ledger against the rows whose money it moves
 * (qianlima ledger verify).
 *
 * The rules, each reported under its name:
 *   balance      the balances of all accounts sum to 0 (ledger_check);
 *   entitlement  an entitlement above 0 fen has exactly one transfer, key
 *                entitlement:<month>:<application>, of its amount, budget ->
 *                payable of its payee, and the row names that transfer; one
 *                of 0 fen has none; no transfer with such a key lacks its row;
 *   adjustment   an adjustment has its transfer of its amount, key
 *                adjust:<month>:<application>:<for_month>: arrears budget ->
 *                payable, a recovery payable -> budget; no such transfer lacks
 *                its row (the transfer carries its application, as the
 *                entitlement's does);
 *   payment      a payment has its send transfer payable -> clearing of its
 *                amount (send:<request_id>, from the payment's account), and
 *                a settling transfer by its state: paid clearing -> paid
 *                (paid:<request_id>); failed or requeued clearing -> payable
 *                (return:<request_id>); written off, the return and payable ->
 *                budget (writeoff:<request_id>); no other of these keys, and
 *                no such transfer without its payment;
 *   duplicate    a cycle has at most one payment queued, sent or paid for a
 *                payee account (whatever the attempt);
 *   payee        for each payee, what its payable and paid accounts hold and
 *                what its queued and sent payments hold in clearing equals
 *                its entitlements plus arrears, less recoveries and write-offs;
 *   cycle        a computed cycle's entitlement count and total are those of
 *                its rows.
 *
 * Everything is read in one read transaction, so a cycle being computed at
 * the same time is seen before or after a batch, never within one. */
#ifndef QL_LEDGER_VERIFY_H
#define QL_LEDGER_VERIFY_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <stdint.h>

/* One violation. Every string is valid only during the callback. */
struct ledger_violation {
    const char *check;   /* the rule: "balance", "entitlement", ... (above) */
    const char *subject; /* what it concerns: a transfer key, "payee:person:7",
                          * "cycle:2026-11", "payments:2026-11:<account>" or "" */
    const char *en, *zh; /* what is wrong, in English and Chinese */
};

/* Receives each violation as it is found. It runs while a result set is
 * open on the store: it must not use the store. */
typedef void (*ledger_violation_fn)(const struct ledger_violation *v, void *ctx);

/* What was checked. */
struct ledger_verify_report {
    int64_t transfers;    /* transfers in the ledger */
    int64_t sum_fen;      /* the sum of all balances: 0 when the ledger balances */
    int64_t entitlements; /* entitlement rows checked */
    int64_t adjustments;  /* adjustment rows checked */
    int64_t payments;     /* payment rows checked */
    int64_t payees;       /* payees whose totals were compared */
    int64_t cycles;       /* computed cycles whose totals were compared */
    int64_t violations;   /* how many times fn was called */
};

/* Checks the whole ledger, calling fn (may be NULL) for every violation in
 * the order of the rules above. Needs ledger.run, ledger.approve,
 * ledger.export or audit.verify. Returns 0 with *out when it could check
 * (out->violations is the verdict: 0 is clean), or a store error. */
int ledger_verify(store *s, const actor *a, ledger_violation_fn fn, void *ctx,
                  struct ledger_verify_report *out, ql_err *err);

#endif
