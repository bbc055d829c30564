/* simulate.h - applicants' facts read from the registry, and the what-if
 * simulation: a proposed policy run against every talent in the registry as
 * it stands, compared with the active one.
 *
 * Facts from the registry (pol_facts): education, level, age on the day,
 * the employer's registration, tax, key-enterprise flag and industry, whole
 * months with that employer, months of social insurance, owns_housing; the
 * lease covering the day (the latest starting, when two do), whether it is
 * filed, its unit's kind (a lease without a platform unit is "market") and
 * its rent. What the registry does not hold is the applicant's declaration
 * (family_owns_housing, other_housing_benefit): false unless an application
 * says otherwise. months_received is 0 here; the simulation counts the
 * months of earlier subsidy periods of the programme (applications'
 * start and end dates) before the month. */
#ifndef QL_POLICY_SIMULATE_H
#define QL_POLICY_SIMULATE_H

#include "auth/perm.h"
#include "core/err.h"
#include "policy/rules.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

/* What the facts of one talent came with. */
struct policy_subject {
    int64_t talent_id;
    int64_t employer_id; /* 0 without one */
    int32_t lease_end;   /* last day of the lease covering the day, or POL_OPEN_END */
    int64_t operator_id; /* that lease's unit's operator, 0 for none */
};

/* Called once per talent, in id order; a non-zero return stops the walk
 * and is returned. */
typedef int (*policy_facts_fn)(const struct policy_subject *who, const pol_facts *facts, void *ctx);

/* Walks every talent's facts on day. Three reads (employers, the leases
 * covering day, talents) and no per-talent query; memory grows with the
 * employers and leases, not the talents. Returns 0, fn's non-zero value,
 * or a store error. No permission check: callers check. */
int policy_registry_facts(store *s, int32_t day, policy_facts_fn fn, void *ctx, ql_err *err);

/* The facts of one talent on day. QL_ENOTFOUND for no such talent. */
int policy_talent_facts(store *s, int64_t talent_id, int32_t day, pol_facts *facts,
                        struct policy_subject *who, ql_err *err);

/* The amount one talent would get for the month beginning month_first
 * under p: 0 when no version is in force then, a criterion fails or no
 * tier holds; else the tier's amount for the first month of the
 * subsidy (months_received puts it later in the schedule), pro-rated when
 * the lease ends within the month. *tier receives the tier index or -1;
 * *failed (may be NULL) the failing criterion or -1. */
int64_t policy_month_for(const pol_programme *p, int32_t month_first, const pol_facts *facts,
                         int32_t lease_end, int *tier, int *failed);

/* Runs proposed against every talent for the month "YYYY-MM" (month_first
 * is its first day), beside current (NULL: nobody is paid now). *out:
 *   {"month","people","current":{"programme","version","eligible","budget_fen","budget_yuan",
 *    "by_tier":{id:count}}, "proposed":{... the same},
 *    "gain","lose","same","start","stop","budget_change_fen","budget_change_yuan",
 *    "by_employer":[{"employer_id","name","current","proposed","change_fen","change_yuan"}]
 *        (the 20 largest changes), "examples":[{"talent_id","current_fen","proposed_fen",
 *        "reason"}] (up to 10 who lose, then 10 who gain)}
 * Needs policy.manage. Nothing is written. */
int policy_simulate(store *s, const actor *a, const pol_programme *current,
                    const pol_programme *proposed, int32_t month_first, json_t **out, ql_err *err);

/* policy_simulate for a proposed text (len bytes) against stored file
 * against (0: its programme's active file, or nothing when there is none).
 * The text must parse and pass the static checks: otherwise QL_EINVAL (or
 * QL_ETOOBIG) with field "source", naming the place or the first error; an
 * unknown against is QL_ENOTFOUND, field "against". *out also has
 * "against": the file compared with, or null. Needs policy.manage. */
int policy_simulate_text(store *s, const actor *a, const char *text, size_t len,
                         int32_t month_first, int64_t against, json_t **out, ql_err *err);

#endif
