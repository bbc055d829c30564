/* cycle_list.h - reading the monthly cycles for the console and the API:
 * the months with their state and totals, the budgets, a cycle's
 * corrections of earlier months, the bank result files taken in with every
 * mismatch, and the batch files an export wrote (listed, and opened for a
 * download that the audit log records: the files hold bank accounts in
 * full).
 *
 * Each function needs ledger.run, ledger.approve or ledger.export unless
 * it says otherwise, and answers QL_EINVAL (field "month") for a month not
 * written YYYY-MM and QL_ENOTFOUND (field "month") for a month without a
 * cycle. Returned JSON belongs to the caller. */
#ifndef QL_LEDGER_CYCLE_LIST_H
#define QL_LEDGER_CYCLE_LIST_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* 1 when a may read cycles (any of the three ledger permissions). */
int cycle_may_read(const actor *a);

/* The cycles, newest month first, limit (1..500) from offset:
 * [{"month","state","entitlements","total_fen","total_yuan","corrections",
 *   "arrears_fen","arrears_yuan","recovered_fen","recovered_yuan",
 *   "payments","paid","failed","held_back","paid_fen","paid_yuan",
 *   "computed_by","approved_by"}] (payments: the cycle's payments in any
 * state; paid and failed: in those states; held_back: queued or sent).
 * *total receives the number of cycles. */
int cycle_list(store *s, const actor *a, int64_t offset, int limit, json_t **out, int64_t *total,
               ql_err *err);

/* Every budget, latest year first: [{"programme","year","amount_fen",
 * "amount_yuan","set_by","set_at"}]. */
int cycle_budgets(store *s, const actor *a, json_t **out, ql_err *err);

/* The corrections of earlier months that the cycle of month posted, the
 * first limit (1..500) by application: [{"id","application_id","talent_id",
 * "programme","for_month","kind" (arrears or recovery),"was_fen",
 * "was_yuan","due_fen","due_yuan","amount_fen","amount_yuan","payee_type",
 * "payee_id","causes"}] (causes: the registry changes it follows from,
 * corr_causes in ledger/corrections.h); *total receives how many there are. */
int cycle_adjustments(store *s, const actor *a, const char *month, int limit, json_t **out,
                      int64_t *total, ql_err *err);

/* The bank result files taken in for the cycle of month, newest first:
 * [{"id","file_name","records","paid","failed","mismatches","imported_by",
 *   "imported_at","items"}], items the listed mismatches as bank_import
 * reports them ([{"line","request_id","problem","en","zh"}]). */
int cycle_imports(store *s, const actor *a, const char *month, json_t **out, ql_err *err);

/* The batch files of the cycle of month that are in dir (an export wrote
 * them there as <batch_no>.csv or <batch_no>.txt), in batch order:
 * [{"name","batch_no","format" (csv or fixed),"records","total_fen",
 *   "total_yuan","bytes"}]. A missing dir is no file. */
int cycle_files(store *s, const actor *a, const char *dir, const char *month, json_t **out,
                ql_err *err);

/* Opens the batch file name of the cycle of month in dir for reading:
 * *fd (the caller closes it) and *len. Needs ledger.export. Only a name an
 * export writes is opened: "<batch_no>.csv" or "<batch_no>.txt" of a batch
 * of this cycle, a regular file in dir itself (no other directory, no
 * link); anything else is QL_ENOTFOUND (field "name"). Writes the audit
 * row cycle.file_download (month, name, bytes): the file holds the payees'
 * accounts unmasked. */
int cycle_file_open(store *s, const actor *a, const char *dir, const char *month, const char *name,
                    int *fd, size_t *len, ql_err *err);

#endif
