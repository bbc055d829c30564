/* employer.h - the employer checks and insert shared by the registry service
 * and the importer. Not for use outside src/registry. */
#ifndef QL_REGISTRY_EMPLOYER_H
#define QL_REGISTRY_EMPLOYER_H

#include "registry/internal.h"

struct employer_rec {
    char credit_code[64];
    char name[601];
    const char *industry;
    int registered, taxed, key_enterprise;
};

/* Checks every field of in; fills rec. Returns 0 or QL_EINVAL with every
 * bad field in report->errors. */
int employer_check(const struct employer_input *in, struct employer_rec *rec, reg_report *report);

/* Inserts rec and returns its id. QL_ECONFLICT when the credit code is
 * already registered (without aborting a PostgreSQL transaction). No audit
 * row, no scope check. */
int employer_insert(store *s, const struct employer_rec *rec, int64_t now, int64_t *id);

#endif
