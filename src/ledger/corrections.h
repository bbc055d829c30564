/* corrections.h - what the monthly cycle reads of the registry besides a
 * person's lease: the facts with dates that a policy's criteria name (the
 * person's employment, the day from which they own housing), and the
 * registry changes that reach back into months already paid (table
 * fact_changes, registry/facts_log.h), which the next cycle corrects and
 * which each correction names as its causes (table adjustment_causes,
 * migration 0019). Used by cycle.c, report.c and cycle_list.c. */
#ifndef QL_LEDGER_CORRECTIONS_H
#define QL_LEDGER_CORRECTIONS_H

#include "core/err.h"
#include "policy/rules.h"
#include "registry/facts_log.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Whether version v's criteria read the person's employment (employed,
 * the employer's facts, the months employed): the days without an
 * employment are then not paid. */
bool corr_reads_employment(const pol_version *v);

/* Whether v's criteria read owns_housing: the days from the one the person
 * owns housing are then not paid. */
bool corr_reads_housing(const pol_version *v);

/* The days of a..b on which no employment of f covers the person, leaving
 * out those within the n suspensions from[k]..to[k] (counted already). */
int corr_unemployed_days(const struct facts_talent *f, int32_t a, int32_t b, const int32_t *from,
                         const int32_t *to, int n);

#define CORR_PENDING_MAX 64

/* The changes of a talent waiting for a correction (not consumed) that
 * take effect before day: their ids and effective days (at most
 * CORR_PENDING_MAX, the earliest first; the rest are consumed with them). */
struct corr_pending {
    int n;
    int64_t id[CORR_PENDING_MAX];
    int32_t effective[CORR_PENDING_MAX];
};

int corr_pending_read(store *s, int64_t talent, int32_t before, struct corr_pending *out,
                      ql_err *err);

/* Records that adjustment follows from the changes of p that take effect
 * on or before last (the last day of the month it corrects). */
int corr_link(store *s, int64_t adjustment, const struct corr_pending *p, int32_t last,
              ql_err *err);

/* The talents after talent id after (keyset) with changes waiting for a
 * correction that take effect before day, by id, at most max into ids. */
int corr_talents_page(store *s, int32_t before, int64_t after, int64_t *ids, int max, int *n,
                      ql_err *err);

/* Marks talent's waiting changes that take effect before day as taken in by
 * cycle. */
int corr_consume(store *s, int64_t talent, int32_t before, int64_t cycle, ql_err *err);

/* The causes of adjustment, as a JSON array owned by the caller (empty for
 * a correction that follows from a decision of the application alone):
 * [{"change_id","fact","effective","source_type","source_id","recorded_by",
 *   "recorded_at","en","zh"}], en and zh saying what changed, when it was
 * recorded and by whom, e.g. "租约 #123 于 2026-11-10 终止（2026-12-02 由
 * clerk1 登记）". */
int corr_causes(store *s, int64_t adjustment, json_t **out, ql_err *err);

#endif
