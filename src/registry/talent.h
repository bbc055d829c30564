/* talent.h - the talent checks and insert shared by the registry service
 * and the importer. Not for use outside src/registry. */
#ifndef QL_REGISTRY_TALENT_H
#define QL_REGISTRY_TALENT_H

#include "core/buf.h"
#include "core/pii.h"
#include "core/validate.h"
#include "registry/internal.h"

/* Employer ids by credit code, remembered during one import or bulk load
 * (and remembered missing, as id 0): a hash table that grows with the
 * employers met, up to EMPLOYER_CACHE_MAX of them (then the rest are looked
 * up each time). Start it zeroed; free it with employer_cache_free. */
#define EMPLOYER_CACHE_MAX (1 << 20)
struct employer_cache_slot {
    char code[20];
    int64_t id;
};
struct employer_cache {
    size_t n, cap;
    struct employer_cache_slot *slots;
};

/* Finds an employer id by credit code (through the cache when given).
 * QL_ENOTFOUND if none is registered. */
int employer_cache_find(store *s, struct employer_cache *cache, const char *credit_code,
                        int64_t *id);

/* Forgets every entry (keeping the memory) / frees the memory. */
void employer_cache_clear(struct employer_cache *cache);
void employer_cache_free(struct employer_cache *cache);

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
    int has_housing_from; /* owns_housing_since given; else housing_from is today */
    int32_t housing_from;
    int has_employed_until;
    int32_t employed_until;
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

/* Rewrites talent id with t, and its employment as
 * talent_employment_change does. old_employer is its employer until now (0
 * for none). The name, ID number and bank card are left as stored: they
 * change only through registry/payee.h. No audit row, no scope check. */
int talent_store_update(store *s, int64_t id, int64_t old_employer, const struct talent_rec *t,
                        int64_t now);

/* The employment side of a change to talent id, from old_employer (0 for
 * none) to t's employer: a new employer closes the open employment the day
 * before the new one begins and opens the new one; the same employer with
 * another date moves the open employment's start. */
int talent_employment_change(store *s, int64_t id, int64_t old_employer,
                             const struct talent_rec *t, int64_t now);

/* The dated fields of a talent (talent_dates.c): owns_housing_since (a
 * date not after today, only with owns_housing yes; not given, housing_from
 * is today and has_housing_from 0) and employed_until (a date not after
 * today). Adds every bad field to report->errors and returns 1 when there
 * is one, else 0. Called by talent_check once owns_housing is read. */
int talent_check_dates(const struct talent_input *in, int32_t today, struct talent_rec *t,
                       reg_report *report);

/* Sets talent id's owns_housing and housing_from from t: none without
 * housing; the day given; else the day stored (owned before) or t's
 * default (today). Both columns at once: the schema keeps a day only with
 * owns_housing. */
int talent_housing_store(store *s, int64_t id, const struct talent_rec *t);

/* Whether t's employed_until fits talent id's employments, going from
 * old_employer (0 for none) to t's employer: it ends the current
 * employment (removed or changed: not before it began, before a new one
 * begins), or with no employer before or after the last one (not before
 * it began). QL_EINVAL naming employed_until otherwise; 0 when not given. */
int talent_end_fits(store *s, int64_t id, int64_t old_employer, const struct talent_rec *t,
                    ql_err *err);

/* Moves talent id from old_employer to t's employer and start date: only
 * those columns of the row change (the bulk load), then the employment as
 * talent_employment_change. */
int talent_move(store *s, int64_t id, int64_t old_employer, const struct talent_rec *t,
                int64_t now);

#endif
