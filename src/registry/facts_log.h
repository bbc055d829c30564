/* facts_log.h - the index of registry changes that reach back (table
 * fact_changes, migration 0019; docs/ledger.md, "Registry changes that
 * reach back").
 *
 * The monthly cycle reads three registry facts that have dates: a person's
 * lease (its period and rent), their employment (the days they are
 * employed) and the day from which they own housing in Shanghai. Every
 * write of one of them calls these functions inside its own transaction:
 * they read the facts after the write, compare them with the facts read
 * before it, and when they differ from a day that falls in a month a cycle
 * has reached already (a cycle of that month or a later one exists,
 * computed or being computed) they append a row to fact_changes: the
 * person, the fact, the effective day (the first day whose facts differ),
 * the record changed, the facts before and after, a sentence in both
 * languages, who and when. The next cycle corrects the months already
 * paid from those rows (ledger/corrections.h) and marks them consumed. A
 * change from a day no cycle has reached appends nothing: that month's
 * cycle reads it. A person registered just now has no month paid, so
 * registering one appends nothing either. */
#ifndef QL_REGISTRY_FACTS_LOG_H
#define QL_REGISTRY_FACTS_LOG_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Whether a change effective from day would reach back: a cycle of its
 * month or a later one exists (*yes). Returns 0 or a store error. A bulk
 * writer whose rows all begin on one day asks once. */
int facts_reaches_back(store *s, int32_t day, bool *yes);

/* The facts of one lease the cycle reads. */
struct facts_lease {
    bool exists;
    int64_t talent;
    int32_t start, end; /* end: the day it ended, or its planned end */
    int64_t rent;       /* fen a month */
};

/* Reads lease's facts into *out (out->exists false when there is no such
 * lease). Returns 0 or a store error. */
int facts_lease_read(store *s, int64_t lease, struct facts_lease *out);

/* After lease was created (was NULL) or changed (was read before the
 * change): appends the changes that reach back for its tenant (for both
 * tenants when it moved from one to another). action names the write
 * ("lease.create", "lease.update", "lease.end", "lease.bulk_create").
 * Returns 0, or a store error with err set. */
int facts_lease_log(store *s, const actor *a, const char *action, int64_t lease,
                    const struct facts_lease *was, ql_err *err);

/* A person's employments and housing, as the cycle reads them: the periods
 * of the employments table and the current employer of the talent's row
 * (from employed_since, open), each with its employer; the day from which
 * they own housing. Owned: free with facts_talent_free. */
struct facts_talent {
    int n, cap;
    int32_t *from, *to; /* to INT32_MAX while open */
    int64_t *employer;
    int32_t housing_from; /* INT32_MAX: none */
};

int facts_talent_read(store *s, int64_t talent, struct facts_talent *out);
void facts_talent_free(struct facts_talent *f);

/* The employer of f on day (the period that began last among those
 * covering it), or 0 when none covers it. */
int64_t facts_talent_employer_on(const struct facts_talent *f, int32_t day);

/* After talent's record was changed (was read before): appends a change of
 * employment (from the first day its employer differs) and of housing
 * (from the earlier of the two days) when they reach back. Returns 0, or a
 * store error with err set. */
int facts_talent_log(store *s, const actor *a, const char *action, int64_t talent,
                     const struct facts_talent *was, ql_err *err);

#endif
