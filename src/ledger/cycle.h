/* cycle.h - monthly disbursement cycles (tables cycles, entitlements;
 * sql/<dialect>/0012_cycles.sql).
 *
 * Computing a month's cycle freezes the inputs of every subsidy that pays in
 * the month (an application active, suspended or ended whose paid period
 * meets the month), computes each entitlement with the policy file, version
 * and tier stored at its review (policy/rules.h, pol_month_amount: the days
 * covered up to the end of the subsidy and of the lease, less the days
 * suspended; the month's place in the schedule from the months paid before;
 * the caps), keeps the steps, and posts it to the ledger: budget of the
 * programme's year -> payable to the payee, key entitlement:<month>:<id>.
 * Entitlements are written in batches, each batch one transaction; a run
 * that stops (a crash, a kill) is run again and goes on where it stopped,
 * and a cycle computed already is not computed again.
 *
 * The cycle then moves draft -> computed -> approved (a second person) ->
 * exported -> reconciled -> closed; approval and the bank files are the
 * next steps of this module. */
#ifndef QL_LEDGER_CYCLE_H
#define QL_LEDGER_CYCLE_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CYCLE_BATCH 500 /* entitlements per transaction */

struct cycle_report {
    int64_t cycle_id;
    bool unchanged;       /* computed before: nothing was done */
    int64_t entitlements; /* subsidies that pay in the month */
    int64_t paid;         /* of them with an amount above 0 */
    int64_t total_fen;
    int64_t new_rows;      /* written by this run (a resumed run writes the rest) */
    int64_t corrections;   /* earlier months corrected (adjustments rows) */
    int64_t arrears_fen;   /* paid more for them */
    int64_t recovered_fen; /* to be recovered for them */
    char state[16];        /* the cycle's state after the run */
};

/* Called after each batch: done of total subsidies. */
typedef void (*cycle_progress_fn)(int64_t done, int64_t total, void *ctx);

/* Whether the month whose first day is month_first may be computed, asked
 * when it is asked for (the console, the API, the command line), before
 * anything is written: a month after the month of today cannot be paid yet
 * (QL_EINVAL, field month); a month with no cycle before a month that has
 * one is refused, since months are computed in order (QL_ECONFLICT, field
 * month, naming the later month). Returns 0 when it may. */
int cycle_may_open(store *s, int32_t month_first, int32_t today, ql_err *err);

/* Computes the cycle of the month whose first day is month_first. Needs
 * ledger.run. Returns 0 with *out, QL_EINVAL for a day that is not a
 * month's first, or the error of a batch (the batches before it stay, and
 * a run again goes on). progress may be NULL. Audit row cycle.compute. */
int cycle_run(store *s, const actor *a, int32_t month_first, cycle_progress_fn progress, void *ctx,
              struct cycle_report *out, ql_err *err);

/* A cycle and its totals: {"month","state","entitlements","total_fen",
 * "total_yuan","computed_by","computed_at","approved_by"}; with
 * entitlements set, "items": the first 200 entitlements
 * [{"application_id","talent_id","tier","payee_type","payee_id",
 *   "month_index","days","amount_fen","amount_yuan"}]. Needs ledger.run,
 * ledger.approve or ledger.export. QL_ENOTFOUND for no such cycle. */
int cycle_get(store *s, const actor *a, const char *month, bool entitlements, json_t **out,
              ql_err *err);

/* The steps of the amount of application_id's entitlement in month
 * ("YYYY-MM"): [{"step","fen","yuan","en","zh"}], owned by the caller. A
 * cycle stores each entitlement's frozen inputs with its policy file,
 * version and tier; the steps are derived from them again (and must give
 * the amount stored: QL_EINTERNAL otherwise). QL_ENOTFOUND when there is
 * no such entitlement. The caller checks who may see it. */
int cycle_steps(store *s, int64_t application_id, const char *month, json_t **steps, ql_err *err);

/* Sets programme's budget for year (amount in fen, 0 or more), replacing
 * the one before, with an audit row cycle.budget. Needs ledger.approve. */
int cycle_budget_set(store *s, const actor *a, const char *programme, int year, int64_t fen,
                     ql_err *err);

struct cycle_approval {
    bool unchanged; /* approved before */
};

/* Approves the computed cycle of month ("YYYY-MM"): by a second person (an
 * account other than the one that computed it: QL_EFORBIDDEN, field
 * "approved_by"), and only when, for each programme the cycle pays, what
 * the year's cycles pay with this one stays within the year's budget
 * (QL_ECONFLICT, field "budget", naming the programme, the budget and the
 * amount; no budget set is refused the same way). Needs ledger.approve.
 * Approving an approved cycle changes nothing. Audit row cycle.approve. */
int cycle_approve(store *s, const actor *a, const char *month, struct cycle_approval *out,
                  ql_err *err);

#endif
