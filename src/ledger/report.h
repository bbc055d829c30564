/* report.h - disbursement reports: the totals of a cycle or a year grouped
 * by programme, tier, employer or payee type (on screen, as JSON, or written
 * to .xlsx or CSV), and the ledger of one person with every posting traced
 * back to what made it.
 *
 * Totals are summed by the store (GROUP BY over the entitlements and the
 * adjustments of the period's cycles) and streamed a group at a time, so a
 * report never holds the rows of a district in memory. Per group:
 *   paying     entitlements with an amount above 0
 *   entitled   what those entitlements pay
 *   arrears    adjustments found in the period that pay more for an earlier
 *              month (budget -> payable)
 *   recovered  adjustments found in the period that take back what an earlier
 *              month paid too much (payable -> budget)
 *   net        entitled + arrears - recovered
 * An entitlement counts under its own programme, tier and payee type, and
 * the employer of its application; an adjustment under its programme and
 * payee type, and the tier and employer of its application (the decision the
 * correction follows).
 *
 * Reports need ledger.run, ledger.approve or ledger.export; a person's
 * ledger is open to those and to the person (an account of scope self:<id>
 * with subsidy.apply). No ID number, phone or bank account appears unmasked:
 * payments show the masked account they were paid to. */
#ifndef QL_LEDGER_REPORT_H
#define QL_LEDGER_REPORT_H

#include "auth/perm.h"
#include "core/err.h"
#include "core/export.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum report_by { REPORT_PROGRAMME = 0, REPORT_TIER, REPORT_EMPLOYER, REPORT_PAYEE_TYPE };

/* "programme", "tier", "employer", "payee_type". */
const char *report_by_name(enum report_by by);

/* Reads a grouping by its name; NULL or "" is programme. QL_EINVAL, field
 * "by", for anything else. */
int report_by_parse(const char *s, enum report_by *out, ql_err *err);

/* The cycles a report covers: one month, or the months of a year. */
struct report_period {
    char label[8];       /* "2026-11" or "2026" */
    char from[8], to[8]; /* first and last month, "YYYY-MM" */
    bool year;
};

/* A month "YYYY-MM" (QL_EINVAL, field "month"), a year "YYYY" from 2000 to
 * 9999 (QL_EINVAL, field "year"), or either (report_period_parse: the field
 * named by the form of the text, "period" when it has neither form). */
int report_month(const char *s, struct report_period *out, ql_err *err);
int report_year(const char *s, struct report_period *out, ql_err *err);
int report_period_parse(const char *s, struct report_period *out, ql_err *err);

/* One group of a report (or its total row). Strings stay valid during the
 * callback only. */
struct report_row {
    const char *key;       /* the programme, tier, employer id or payee type; "total" */
    const char *programme; /* REPORT_TIER: the tier's programme; else "" */
    const char *label;     /* what to show: the programme's name (Chinese), the tier,
                              the employer's name, the payee type; "合计" for the total */
    const char *label_en;  /* the same in English ("" for an employer, whose name is its own) */
    int64_t employer_id;   /* REPORT_EMPLOYER: the employer, 0 for applications without one */
    int64_t paying, entitled_fen, arrears_fen, recovered_fen, net_fen;
};

/* Called for each group in order (programme, tier within programme,
 * employer name, payee type). It must not use the store (a result set is
 * open). Returns 0 to go on, or an error to stop with. */
typedef int (*report_row_fn)(const struct report_row *row, void *ctx);

/* The cycles of p, as the report names them: calls fn(month, state, ctx)
 * for each in order of month. A month period without its cycle is
 * QL_ENOTFOUND (field "month"); a year without cycles has none. Needs the
 * report permission. */
typedef void (*report_cycle_fn)(const char *month, const char *state, void *ctx);
int report_cycles(store *s, const actor *a, const struct report_period *p, report_cycle_fn fn,
                  void *ctx, ql_err *err);

/* The totals of p grouped by by: fn for each group, then *total (key
 * "total", label "合计"; its strings are static). Sums are checked for
 * overflow (QL_EINTERNAL). Needs ledger.run, ledger.approve or
 * ledger.export; QL_ENOTFOUND (field "month") for a month without a cycle. */
int report_totals(store *s, const actor *a, const struct report_period *p, enum report_by by,
                  report_row_fn fn, void *ctx, struct report_row *total, ql_err *err);

/* The report as JSON: {"period","year","by","cycles":[{"month","state"}],
 * "rows":[{"key","label","label_en", "programme" (tier), "employer_id"
 * (employer), "paying","entitled_fen","entitled_yuan","arrears_fen",
 * "arrears_yuan","recovered_fen","recovered_yuan","net_fen","net_yuan"}],
 * "total":{the same}}. Errors as report_totals. */
int report_json(store *s, const actor *a, const struct report_period *p, enum report_by by,
                json_t **out, ql_err *err);

/* Writes the report to path as .xlsx or CSV (core/export.h; a header row,
 * one row per group, the total row last; money in yuan) and appends an
 * audit row ledger.report_export {period, by, format, rows}. *rows receives
 * the groups written. On error the caller removes the file. */
int report_export(store *s, const actor *a, const struct report_period *p, enum report_by by,
                  enum export_format format, const char *path, int64_t *rows, ql_err *err);

/* The ledger of talent talent_id: every transfer that touched the person's
 * accounts (payable:person:<id>, paid:person:<id>) or carries one of their
 * applications' ids, in the order posted, read in one snapshot:
 * {"talent":{"id","name"}, "accounts":[codes],
 *  "postings":[{"id","date","key","kind","debit","credit","amount_fen",
 *    "amount_yuan","cycle","application_id","own","trace"}],
 *  "totals":{"entitled_fen","arrears_fen","recovered_fen","written_off_fen",
 *    "sent_fen","returned_fen","paid_fen","collected_fen","outstanding_fen",
 *    "in_clearing_fen","other_fen" (each with its *_yuan), "other_payees":
 *    {"entitled_fen","arrears_fen","recovered_fen"} (what the person's
 *    applications pay an employer or operator)},
 *  "check":{"holds","paid_fen","expected_fen","en","zh"}}.
 * kind, from the accounts moved and the key (docs/ledger.md):
 *   entitlement  budget -> payable     entitlement:<month>:<application>
 *   arrears      budget -> payable     adjust:<cycle>:<application>:<month>
 *   recovery     payable -> budget     adjust:<cycle>:<application>:<month>
 *   sent         payable -> clearing   send:<request id>
 *   paid         clearing -> paid      paid:<request id>
 *   returned     clearing -> payable   return:<request id>
 *   written_off  payable -> budget     writeoff:<request id>
 *   collected    paid -> payable       collect:<reference> (money paid back)
 *   other        anything else
 * own is true when the posting moves the person's own payable or paid
 * account. trace names what the posting comes from:
 *   {"type":"entitlement","month","application_id","policy_file_id",
 *    "policy_version","tier","month_index","days","inputs","steps"} (the
 *    steps as stored, or derived again from the frozen inputs by
 *    cycle_steps; when they cannot be, "steps" is null and "steps_error"
 *    {"en","zh"} says why),
 *   {"type":"adjustment","adjustment_id","kind","application_id","for_month",
 *    "was_fen","was_yuan","due_fen","due_yuan","steps","causes"} (causes: the
 *    registry changes the correction follows from, corr_causes in
 *    ledger/corrections.h; empty when it follows from the application's own
 *    decision or events),
 *   {"type":"payment","request_id","attempt","cycle","batch_no","state",
 *    "result_code","result_message","account_masked"},
 *   {"type":"collection","reference"},
 * or null when nothing is recorded for it.
 * The totals cover the person's own accounts; the check is
 *   paid - collected = entitled + arrears - recovered - written off
 *                      - outstanding - in clearing
 * (check.paid_fen is the left side, expected_fen the right) where
 * outstanding is the balance of payable:person:<id> (below 0 while the
 * person owes a recovery) and in clearing the amount of the person's
 * payments queued or sent without a result. Needs ledger.run,
 * ledger.approve or ledger.export, or the person's own account;
 * QL_ENOTFOUND (field "id") for no such talent or one out of the account's
 * scope. */
int report_person(store *s, const actor *a, int64_t talent_id, json_t **out, ql_err *err);

#endif
