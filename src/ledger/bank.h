/* bank.h - payments to the bank: batch files out, result files in
 * (tables payments, bank_batches, bank_imports; sql/<dialect>/0014).
 *
 * Exporting an approved cycle pays every payee whose payable account holds
 * money for the cycle or earlier (entitlements and arrears, less
 * recoveries, less money of failed payments still waiting for a decision):
 * one payment per payee account, request id "<YYYYMM>-<account>-<attempt>",
 * posted payable -> clearing under send:<request id>. Payees with no bank
 * account on record are held (their money stays payable, and is counted).
 * The queued payments are then grouped into batches of at most batch_size
 * records, each with a batch number unique for ever ("QLM<YYYYMM>-<seq>"),
 * and each batch is written as a file: CSV or a fixed-width layout. Every
 * step is one transaction per page of payments; a run that stops is run
 * again and goes on; a run with nothing left to do changes nothing (files
 * are written again, byte for byte the same).
 *
 * The bank's result file (CSV, see bank_import) settles each payment: paid
 * (clearing -> paid:<payee>, key paid:<request id>) or failed (clearing ->
 * payable, key return:<request id>; the money waits for a decision: re-queue
 * it as a new payment with a new request id, or write it off, payable ->
 * budget:written-off, key writeoff:<request id>). Reconciliation checks each
 * row's request id, account and amount and lists every mismatch; rows that
 * do not match change nothing. The same file twice changes nothing. */
#ifndef QL_LEDGER_BANK_H
#define QL_LEDGER_BANK_H

#include "auth/perm.h"
#include "core/err.h"
#include "ledger/cycle.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BANK_BATCH_DEFAULT 1000 /* records in a batch file unless configured */
#define BANK_BATCH_MAX     100000

/* ---- fixed-width layouts ------------------------------------------------ */

/* A fixed-width layout: which fields each record has, in order, with width,
 * alignment and padding. The text form (docs/ledger.md; the shipped one is
 * layouts/bank-fixed.layout):
 *
 *   # comment
 *   header  "H"        1                 a literal
 *   header  batch_no   20  left  space
 *   detail  amount_fen 15  right zero
 *   detail  name       40  left  space cut   (text longer than the width is
 *                                             cut at a character boundary)
 *   trailer records     8  right zero
 *
 * Fields: header and trailer: batch_no, records, total_fen, total_yuan,
 * date (YYYYMMDD, the day written), cycle (YYYYMM); detail: request_id,
 * account, name, amount_fen, amount_yuan, purpose, payee_type, seq (1..n in
 * the batch), and any of the header's. A value wider than its field is an
 * error naming the field, except text fields marked cut. Widths are bytes. */
typedef struct bank_layout bank_layout;

/* Parses text (len bytes; name for messages). Returns 0 with *out, or
 * QL_EINVAL with "name:line: ..." in err (field "layout"). */
int bank_layout_parse(const char *text, size_t len, const char *name, bank_layout **out,
                      ql_err *err);

/* The shipped layout (layouts/bank-fixed.layout, embedded). */
int bank_layout_default(bank_layout **out, ql_err *err);

void bank_layout_free(bank_layout *l);

/* ---- export ------------------------------------------------------------- */

enum bank_format { BANK_CSV = 1, BANK_FIXED = 2 };

struct bank_export_opts {
    enum bank_format format;   /* 0 is BANK_CSV */
    const bank_layout *layout; /* BANK_FIXED; NULL for the shipped one */
    int batch_size;            /* 1..BANK_BATCH_MAX; 0 for BANK_BATCH_DEFAULT */
    const char *dir;           /* the directory the files go to; NULL: none written */
};

/* Why an export held a payee's money (it stays payable; a later export pays
 * it once the reason is gone). The holds of a cycle's latest export are
 * kept (table payment_holds) and listed by bank_holds. */
enum bank_hold {
    BANK_HOLD_NO_ACCOUNT = 1,      /* "no_account": no bank account on record */
    BANK_HOLD_CARD_AFTER_APPROVAL, /* "card_after_approval": the person had no card in force
                                      when the cycle was approved (one was confirmed later) */
    BANK_HOLD_IDENTITY,            /* "identity_review": name or ID number corrected, not yet
                                      reviewed by another reviewer (registry/payee.h) */
    BANK_HOLD_SHARED_CARD,         /* "shared_card": the card is on record for another person */
    BANK_HOLD_COUNT
};

/* The name ("no_account") and the reason in English or Chinese; "" for
 * none. */
const char *bank_hold_name(enum bank_hold h);
const char *bank_hold_text(enum bank_hold h, int english);

struct bank_export_report {
    bool unchanged;   /* nothing was queued or batched by this run */
    int64_t queued;   /* payments made by this run */
    int64_t held;     /* payees with money due that were held (see enum bank_hold) */
    int64_t held_fen; /* what they are due */
    int64_t held_by[BANK_HOLD_COUNT]; /* held, by reason (index 0 unused) */
    int64_t holds_changed;            /* rows of payment_holds written by this run */
    int64_t batches;                  /* batches made by this run */
    int64_t payments;                 /* the cycle's payments in batches, all runs */
    int64_t total_fen;                /* their amount */
    int64_t files;                    /* files written by this run */
    int64_t all_batches;              /* the cycle's batches, all runs */
};

/* "held: N payees, X yuan (reason n; ...)" in both languages (n bytes
 * each), for a command's or a job's summary of rep. */
void bank_hold_summary(const struct bank_export_report *rep, char *en, char *zh, size_t n);

/* Exports the cycle of month ("YYYY-MM"): approved, exported or reconciled
 * (a reconciled cycle with re-queued payments goes back to exported).
 * Needs ledger.export. QL_ENOTFOUND for no cycle, QL_ECONFLICT (field
 * "state") for a cycle in another state, QL_EINVAL naming the field for a
 * bad batch size or directory, QL_EIO for a file that cannot be written.
 * progress (may be NULL) is called after each batch's transaction (done:
 * the transactions so far; total 0). Audit row cycle.export
 * unless nothing changed. */
int bank_export(store *s, const actor *a, const char *month, const struct bank_export_opts *o,
                cycle_progress_fn progress, void *ctx, struct bank_export_report *out, ql_err *err);

/* ---- results and reconciliation ---------------------------------------- */

struct bank_import_report {
    bool unchanged;     /* this file (by its SHA-256) was taken in before */
    int64_t import_id;  /* the bank_imports row */
    int64_t rows;       /* data rows in the file */
    int64_t paid;       /* payments settled paid by this file */
    int64_t failed;     /* payments settled failed by this file */
    int64_t already;    /* rows matching a result another file gave before */
    int64_t mismatches; /* rows (and missing payments) that did not match */
    json_t *items;      /* the mismatches, at most BANK_MISMATCH_LIST of them: [{"line",
                         * "request_id","problem","en","zh"}]; problem is unknown_id,
                         * other_cycle, account, amount, duplicate, status, conflict or
                         * missing (a payment of a batch in the file that no row names);
                         * owned by the caller */
};

#define BANK_MISMATCH_LIST 1000

/* Takes in the bank's result file for the cycle of month: CSV, UTF-8 (a
 * byte-order mark is allowed), a header row naming the columns batch_no,
 * request_id, account, amount (yuan, two decimals), status (S, success,
 * paid, 成功 / F, failed, 失败) and optionally message; data at most
 * 64 MiB. Each matching row settles its payment; every mismatch is listed
 * and changes nothing; the cycle becomes reconciled when none of its
 * payments waits for a result. Needs ledger.run. Returns 0 with *out (also
 * when there were mismatches), QL_EINVAL naming the column for a file that
 * cannot be read as a result file, QL_ENOTFOUND for no such cycle,
 * QL_ECONFLICT (field "state") for a cycle not exported. Audit row
 * cycle.import. */
int bank_import(store *s, const actor *a, const char *month, const char *data, size_t len,
                const char *file_name, struct bank_import_report *out, ql_err *err);

/* The payees the latest export of the cycle of month held: {"total",
 * "total_fen","total_yuan","by_reason": {"no_account": n, ...},"items":
 * [{"payee_type","payee_id","name","amount_fen","amount_yuan","reason",
 * "en","zh"}]} ordered by payee account, offset/limit (limit 1..500).
 * Needs ledger.run, ledger.approve or ledger.export. */
int bank_holds(store *s, const actor *a, const char *month, int64_t offset, int limit, json_t **out,
               ql_err *err);

/* Re-queues the failed payment request_id as a new payment (the next
 * attempt, a new request id written to new_id, to the payee's bank account
 * on record now) for the cycle's next export. Needs ledger.run; reason 1 to
 * 500 bytes. QL_ECONFLICT (field "state") unless the payment failed;
 * QL_ECONFLICT (field "account") when the payee has no bank account now,
 * or is a person whose name or ID number correction awaits review.
 * Audit row payment.requeue. */
int bank_requeue(store *s, const actor *a, const char *request_id, const char *reason,
                 char new_id[33], ql_err *err);

/* Writes off the failed payment request_id: its money leaves the payee's
 * payable account for budget:written-off. Needs ledger.approve; reason 1 to
 * 500 bytes. QL_ECONFLICT (field "state") unless the payment failed. Audit
 * row payment.write_off. */
int bank_write_off(store *s, const actor *a, const char *request_id, const char *reason,
                   ql_err *err);

/* Records money a payee paid back (a recovery collected): fen (more than
 * 0, at most what the payee owes: a payable balance below zero after
 * corrections) moves paid -> payable, key collect:<reference>, so the
 * payee's paid total falls by what was recovered. payee is "person:<id>",
 * "employer:<id>" or "operator:<id>"; reference is the bank's receipt (1 to
 * 60 bytes; the same reference again with the same amount changes
 * nothing). Needs ledger.run. QL_ECONFLICT (field "amount") for more than
 * is owed. Audit row payment.collect. */
int bank_collect(store *s, const actor *a, const char *payee, int64_t fen, const char *reference,
                 bool *unchanged, ql_err *err);

/* Closes the reconciled cycle of month: every payment paid, re-queued and
 * paid, or written off. QL_ECONFLICT (field "state") naming what is still
 * open. Needs ledger.approve. Closing a closed cycle changes nothing (*unchanged). */
int cycle_close(store *s, const actor *a, const char *month, bool *unchanged, ql_err *err);

/* The payments of the cycle of month, state "" for all: {"total": n,
 * "items": [{"request_id","attempt","payee_type","payee_id","account"
 * (masked),"amount_fen","amount_yuan","state","batch_no","result_code",
 * "result_message"}]} ordered by id, offset/limit (limit 1..500). Needs
 * ledger.run, ledger.approve or ledger.export. */
int bank_payments(store *s, const actor *a, const char *month, const char *state, int64_t offset,
                  int limit, json_t **out, ql_err *err);

#endif
