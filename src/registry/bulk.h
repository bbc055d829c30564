/* bulk.h - loading many registry records at once (the demo district, a
 * first load from another system).
 *
 * Every record goes through the same checks, sealing and insert as
 * registry_employer_create / registry_talent_create, but many records share
 * one transaction, and each transaction is audited as one row
 * (registry.bulk_load: the source, how many employers, talents, operators,
 * units and leases, the first and last talent id) instead of one row per
 * employer or talent. Housing records keep the housing service's own
 * audit rows as well (see below).
 */
#ifndef QL_REGISTRY_BULK_H
#define QL_REGISTRY_BULK_H

#include "registry/housing.h"
#include "registry/registry.h"

typedef struct registry_bulk registry_bulk;

/* Starts a load by a, recorded under source (e.g. "demo", at most 40
 * characters). Needs registry.write and a district or department scope (a
 * load spans employers). Free with registry_bulk_close. */
int registry_bulk_open(store *s, const actor *a, const char *source, registry_bulk **out,
                       ql_err *err);

void registry_bulk_close(registry_bulk *b);

/* The body of one transaction of a load: calls registry_bulk_employer and
 * registry_bulk_talent; returns 0 to commit or an error to roll back. It
 * may run more than once (the transaction is retried whole after a
 * conflict), so it must not have effects outside the store. */
typedef int (*registry_bulk_fn)(registry_bulk *b, void *ctx);

/* Runs fn in one write transaction, with one audit row for what it stored,
 * and moves the audit anchor after the commit. Returns fn's code or a store
 * error; nothing of the transaction is kept then. */
int registry_bulk_tx(registry_bulk *b, registry_bulk_fn fn, void *ctx, ql_err *err);

/* Checks and stores one employer (inside registry_bulk_tx). Returns 0,
 * QL_EINVAL with every bad field in report->errors, QL_ECONFLICT (field
 * credit_code) for a code already registered, or a store error. */
int registry_bulk_employer(registry_bulk *b, const struct employer_input *in, int64_t *id,
                           reg_report *report);

/* An employment the talent had before the current one. */
struct registry_employment {
    const char *employer; /* credit code of a registered employer */
    const char *since;    /* YYYY-MM-DD, before in->employed_since */
};

/* Checks and stores one talent (inside registry_bulk_tx). With previous
 * (may be NULL), the talent is stored as employed there first and then
 * moved to in->employer as registry_talent_update moves a person, which
 * closes the earlier employment the day before the new one begins.
 * Returns 0, QL_EINVAL with every bad field in report->errors (fields of
 * previous are named previous_employer and previous_since; previous needs
 * in->employer and must begin earlier), QL_ECONFLICT (field id_number) for
 * an ID number already registered, (field bank_account) for a card on
 * record for another person, or a store error. */
int registry_bulk_talent(registry_bulk *b, const struct talent_input *in,
                         const struct registry_employment *previous, int64_t *id,
                         reg_report *report);

/* ---- housing ------------------------------------------------------------
 * Operators, units and leases go through the housing service itself
 * (registry_operator_create, registry_unit_create, registry_lease_create,
 * registry_lease_end: the same permission checks, field checks, conflict
 * checks inside the transaction, unit status and per-record audit rows),
 * run inside the load's transaction instead of one transaction each. Each
 * returns 0, QL_EINVAL or QL_ECONFLICT with the reasons in report->errors
 * (a refused record writes nothing), QL_EFORBIDDEN, or a store error. */

int registry_bulk_operator(registry_bulk *b, const struct operator_input *in, int64_t *id,
                           reg_report *report);
int registry_bulk_unit(registry_bulk *b, const struct unit_input *in, int64_t *id,
                       reg_report *report);
int registry_bulk_lease(registry_bulk *b, const struct lease_input *in, int64_t *id,
                        reg_report *report);
int registry_bulk_lease_end(registry_bulk *b, int64_t lease_id, const char *ended_on,
                            const char *reason, reg_report *report);

/* What a load stored so far (committed transactions only). */
struct registry_bulk_counts {
    int64_t employers, talents, operators, units, leases, leases_ended;
};
void registry_bulk_counts(const registry_bulk *b, struct registry_bulk_counts *out);

#endif
