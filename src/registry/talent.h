/* talent.h - the talent checks and insert shared by the registry service
 * and the importer. Not for use outside src/registry. */
#ifndef QL_REGISTRY_TALENT_H
#define QL_REGISTRY_TALENT_H

#include "core/buf.h"
#include "core/pii.h"
#include "core/validate.h"
#include "registry/internal.h"

/* Employer ids by credit code, remembered during one import (and
 * remembered missing, as id 0). */
#define EMPLOYER_CACHE_MAX 4096
struct employer_cache {
    int n;
    char codes[EMPLOYER_CACHE_MAX][20];
    int64_t ids[EMPLOYER_CACHE_MAX];
};

/* Finds an employer id by credit code (through the cache when given).
 * QL_ENOTFOUND if none is registered. */
int employer_cache_find(store *s, struct employer_cache *cache, const char *credit_code,
                        int64_t *id);

/* A talent as checked and ready to store: typed values, sealed personal
 * data, blind indexes and masks. */
struct talent_rec {
    char name[401];
    char id_norm[40];
    struct id_info idinfo;
    char id_index[PII_INDEX_HEX];
    char id_masked[40];
    buf id_sealed;
    int has_phone;
    char phone_norm[24];
    char phone_index[PII_INDEX_HEX];
    char phone_masked[24];
    buf phone_sealed;
    const char *education;
    int has_graduation;
    int32_t graduation;
    char category[121];
    char level[2];
    int has_employer;
    int64_t employer_id;
    int32_t employed_since;
    int64_t insurance_months;
    int owns_housing;
    int has_bank;
    int luhn_ok;
    char bank_norm[32];
    char bank_index[PII_INDEX_HEX];
    char bank_masked[32];
    buf bank_sealed;
};

/* Checks every field of in (today is the day number births and dates are
 * checked against); fills t, sealing the personal data. Returns 0,
 * QL_EINVAL with every bad field in report->errors (t is then empty), or a
 * store error. Free t with talent_rec_free. */
int talent_check(store *s, const struct talent_input *in, struct employer_cache *cache,
                 int32_t today, struct talent_rec *t, reg_report *report);

void talent_rec_free(struct talent_rec *t);

/* Inserts t (and its employment) and returns the new id. No audit row, no
 * scope check: the callers do those. QL_ECONFLICT for an ID number already
 * registered, without aborting a PostgreSQL transaction. */
int talent_insert(store *s, const struct talent_rec *t, int64_t now, int64_t *id);

#endif
