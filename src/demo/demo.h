/* demo.h - a realistic district generated from a seed: employers across the
 * industry clusters and talents with valid personal data, for the demo
 * (`make run`), for tests and for benchmarks at a million rows.
 *
 * What is generated:
 * - Employers: the demo anchor employer (DEMO_ANCHOR_CREDIT_CODE, the one
 *   the demo HR account of `make run` belongs to), then employers spread
 *   over the seven industry clusters, large, medium and small, most of them
 *   registered and taxed in the district (Xuhui, 310104), with unified
 *   social credit codes that pass GB 32100 (and an organization code that
 *   passes GB 11714 inside), unique names and codes.
 * - Talents: Chinese names (surnames by frequency, given names by sex), ID
 *   numbers that pass GB 11643 with real birth dates and real area codes
 *   (Shanghai districts weighted up, other provinces), about 0.5 % with the
 *   foreigner permanent-residence ID (2023 form, starting with 9), mobile
 *   numbers, Luhn-valid UnionPay card numbers (62...), education with a
 *   graduation date that fits the age, talent category and level,
 *   employment (about 6 % without an employer; about 1 in 6 of the others
 *   with an earlier employer), months of social insurance in the district,
 *   and home ownership. ID numbers, mobile numbers, card numbers, credit
 *   codes and employer names are unique by construction (keyed
 *   permutations), not by retrying.
 *
 * Determinism: every record is a function of the seed, the sizes and its
 * index only, computed with integer arithmetic (splitmix64 and Feistel
 * permutations; no rand(), no floating point, no clock): the same seed and
 * sizes give byte-identical records and files on every run. Dates are as of
 * DEMO_AS_OF, not today, for the same reason.
 *
 * Records are text, as people type them into forms and CSV files (Chinese
 * words for education, industry and yes/no), so they pass through the
 * registry's own checks like any other input.
 */
#ifndef QL_DEMO_DEMO_H
#define QL_DEMO_DEMO_H

#include "auth/perm.h"
#include "core/err.h"
#include "registry/registry.h"
#include "store/store.h"

#include <stdint.h>

#define DEMO_PEOPLE_MAX 10000000
#define DEMO_EMPLOYERS_MAX 50000
#define DEMO_AS_OF "2025-12-31" /* no date in the data is later */
#define DEMO_ANCHOR_CREDIT_CODE "91350100M000100Y43"

struct demo_params {
    uint64_t seed;
    int64_t people;    /* talents, 0 to DEMO_PEOPLE_MAX */
    int64_t employers; /* 1 to DEMO_EMPLOYERS_MAX, or 0 for the default: one per 100
                          talents, at least 10, at most DEMO_EMPLOYERS_MAX */
    int64_t batch;     /* demo_store: talents per transaction, 0 for 100,000 (employers
                          go 5,000 to a transaction); does not change the data. Each
                          commit writes again every index page its transaction touched,
                          and the blind indexes are touched all over, so larger
                          transactions write less */
};

struct demo_employer {
    char credit_code[19];
    char name[96];
    const char *industry;                      /* Chinese name, e.g. 人工智能 */
    const char *registered, *taxed, *key_enterprise; /* 是 / 否 */
};

struct demo_talent {
    char name[64];
    char id_number[19];
    int foreign;            /* foreigner permanent-residence ID */
    char phone[12];         /* "" for none */
    const char *education;  /* 本科, 硕士, 博士, 其他 */
    char graduation_date[11];
    const char *category;   /* "" for none */
    char level[2];          /* A, B, C or "" */
    char employer[19];      /* credit code, "" for none */
    char employed_since[11];
    char previous_employer[19]; /* an earlier employer, "" for none */
    char previous_since[11];    /* when that employment began */
    char insurance_months[8];
    const char *owns_housing; /* 是 / 否 */
    char bank_account[20];  /* "" for none */
};

typedef struct demo demo;

/* Prepares a generator for p (the employer table is built here). Returns 0,
 * or QL_EINVAL naming "people" or "employers" when out of range. Free it
 * with demo_close. */
int demo_open(const struct demo_params *p, demo **out, ql_err *err);
void demo_close(demo *d);

int64_t demo_people(const demo *d);
int64_t demo_employer_count(const demo *d);
int64_t demo_batch(const demo *d); /* talents per transaction of demo_store */

/* Employer i (0 to demo_employer_count - 1; 0 is the anchor). The record
 * belongs to d. */
const struct demo_employer *demo_employer(const demo *d, int64_t i);

/* Talent i (0 to demo_people - 1) into out. */
void demo_talent(const demo *d, int64_t i, struct demo_talent *out);

/* The records as registry input (pointing into the records). The talent's
 * input is its current state; the earlier employment is not part of it. */
void demo_employer_input(const struct demo_employer *e, struct employer_input *in);
void demo_talent_input(const struct demo_talent *t, struct talent_input *in);

/* Called now and then during long runs: what ("employers" or "talents"),
 * how many are done and how many there are in all. */
typedef void (*demo_progress_fn)(const char *what, int64_t done, int64_t total, void *ctx);

/* Writes DIR/employers.csv and DIR/talents.csv in the import format (the
 * column titles of the import templates, UTF-8 with BOM, CRLF), for
 * `qianlima import employers|talents FILE`. The directory must exist.
 * The CSV files hold each talent's current employer only (the import
 * format has no employment history). progress may be NULL. Returns 0 or
 * QL_EIO naming the file. */
int demo_write_csv(const demo *d, const char *dir, demo_progress_fn progress, void *ctx,
                   ql_err *err);

/* What demo_store stored. */
struct demo_stored {
    int64_t employers, talents;
    int64_t moved;   /* talents stored with an earlier employment, closed */
    int64_t batches; /* transactions (one audit row each) */
};

/* Stores the whole district through the registry's bulk load (every record
 * checked and sealed as the service does), many records to a transaction,
 * each transaction audited as one row. Talents with an earlier employer are
 * stored as employed there first and then moved, which closes the earlier
 * employment. The registry must be empty: QL_ECONFLICT (field "store")
 * when it already holds employers or talents. a needs registry.write with a
 * district scope. A record the registry rejects is a bug in the generator:
 * QL_EINTERNAL naming the record and the field. An interrupted run keeps
 * the transactions committed so far. progress may be NULL. */
int demo_store(store *s, const actor *a, const demo *d, demo_progress_fn progress, void *ctx,
               struct demo_stored *out, ql_err *err);

/* ---- housing ------------------------------------------------------------
 * Housing operators, units and leases (tables operators, housing_units,
 * leases) are not generated yet: they come with the housing service. The
 * place for them is marked "HOUSING" in demo.c (generator and demo_store). */

#endif
