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
 * - Housing: operators, units and leases (see "housing" below).
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
#include "registry/housing.h"
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
    int64_t applicants; /* 0 to people: talents 0 to applicants - 1 are drawn as people
                           the district policy takes once they rent a filed flat (see
                           "applicants" below); with any, every ID number of the
                           district has a birth date from 1983 to mid-2002 */
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
    int64_t operators, units, leases;
    int64_t leases_ended; /* leases stored and then ended (the earlier ones) */
    int64_t batches;      /* transactions (one registry.bulk_load audit row each) */
};

/* Stores the whole district through the registry's bulk load (every record
 * checked and sealed as the service does), many records to a transaction,
 * each transaction audited as one row. Talents with an earlier employer are
 * stored as employed there first and then moved, which closes the earlier
 * employment. Then the operators, units and leases, through the housing
 * service inside the load's transactions (its checks and its audit rows);
 * an earlier lease is recorded and then ended. The registry must be empty:
 * QL_ECONFLICT (field "store") when it already holds employers, talents,
 * operators or units. a needs registry.write and housing.manage with a
 * district scope. A record the registry rejects is a bug in the generator:
 * QL_EINTERNAL naming the record and the field. An interrupted run keeps
 * the transactions committed so far. progress may be NULL. */
int demo_store(store *s, const actor *a, const demo *d, demo_progress_fn progress, void *ctx,
               struct demo_stored *out, ql_err *err);

/* ---- applicants ---------------------------------------------------------
 * With demo_params.applicants = A, talents 0 to A - 1 are not drawn from
 * the district's mix (where about one in eight would qualify) but as people
 * who apply for the district rent subsidy and meet the terms of
 * policies/district-rent.policy, for demo_active_subsidies at scale: a
 * bachelor up to 35, a master up to 40 or a doctor up to 45 years old at
 * the end of 2026, a talent level (A for 9 % of them and 29 % of the
 * doctors, B up to 46 % in all, C for the other 54 %), employed since at
 * least 200 days before DEMO_AS_OF by an employer registered in the
 * district (so at least 6 months of social insurance there), owning no
 * housing, with a UnionPay card. What they lack is a filed lease, which
 * demo_active_subsidies records. The other talents and the employers,
 * operators, units and leases are drawn as without applicants (the tenants
 * of platform leases include applicants). The policy itself still decides
 * each application. */

/* ---- housing ------------------------------------------------------------
 * Rental-housing operators, their units and the units' leases, generated
 * with the rest (same seed, same data) and stored by demo_store through the
 * housing service; not part of the CSV files (the importer takes employers
 * and talents only).
 *
 * - Operators: 3, and one more per 50,000 talents (at most 40). The first
 *   has the code DEMO_ANCHOR_OPERATOR_CODE, the operator of the demo
 *   account `operator` of `make run`, and lets talent apartments mostly.
 *   Each has a GB 32100 credit code (none equal to an employer's), a
 *   contact and a Shanghai landline.
 * - Units: one per 16 talents, in projects (estates) of 4 to 60 units on
 *   real roads of Xuhui (most), Changning and Minhang, each address unique
 *   (road, lane, building, room). Kinds: talent apartments, government-
 *   supported rental housing (保障性租赁住房) and market flats; studios to
 *   three rooms, 22 to 140 m²; monthly rent from the area at Shanghai rates
 *   of 2025 (market flats in Xuhui 130-175 yuan/m², Changning 120-160,
 *   Minhang 85-115; talent apartments 75 % and supported rental 68 % of
 *   the market rate), rounded to 10 yuan. About 92 % are listed with a
 *   unique verification code (房源核验码), 5 % drafts (half of them with
 *   a code), 3 % withdrawn.
 * - Leases: about 80 % of the listed units are let now (start before
 *   DEMO_AS_OF, 12, 24 or 36 months), and half of the listed units have
 *   one or two earlier leases, ended at their end date or terminated early,
 *   before the next began: one unit never has two leases whose periods
 *   overlap. Each tenant is a generated talent who has an employer and owns
 *   no housing in Shanghai, and is the tenant of one lease only. Rent is
 *   the unit's (a little lower for earlier leases), the deposit one or two
 *   months' rent; most leases are filed (网签备案) within 30 days with a
 *   unique filing number, some late, some not at all.
 */
#define DEMO_ANCHOR_OPERATOR_CODE "OP-001"
#define DEMO_OPERATORS_MAX 40
#define DEMO_UNIT_LEASES_MAX 3 /* two earlier leases and the current one */

struct demo_operator {
    char code[8];
    char name[96];
    char credit_code[19];
    char contact_name[64];
    char contact_phone[16];
};

struct demo_unit {
    int64_t operator_index; /* demo_operator */
    char address[200];
    const char *district;   /* 徐汇区, 长宁区, 闵行区 */
    char community[64];
    char area[24];           /* m², two decimals */
    char rooms[4];           /* 0 for a studio */
    char rent[24];           /* yuan a month */
    const char *kind;        /* 人才公寓, 保障性租赁住房, 市场化租赁住房 */
    char verification_code[20]; /* "" for a draft without one */
    const char *status;      /* 已发布, 草稿, 已下架: as registered; a lease makes it leased */
};

struct demo_lease {
    int64_t tenant;             /* talent index */
    char tenant_id_number[19];
    char start_date[11], end_date[11], signed_date[11];
    char rent[24], deposit[24];
    char filing_no[24], filed_date[11]; /* both "" when not filed */
    char ended_on[11];          /* "" while in force (the unit's current lease) */
    const char *end_reason;     /* NULL while in force */
};

int64_t demo_operator_count(const demo *d);
const struct demo_operator *demo_operator(const demo *d, int64_t i);
int64_t demo_unit_count(const demo *d);
int64_t demo_lease_count(const demo *d); /* over all units */

/* Unit i (0 to demo_unit_count - 1) into out. */
void demo_unit(const demo *d, int64_t i, struct demo_unit *out);

/* The leases of unit i into out, oldest first; every one but the last has
 * ended (ended_on set), and the last may be in force. Returns how many (0
 * to DEMO_UNIT_LEASES_MAX). */
int demo_unit_leases(const demo *d, int64_t i, struct demo_lease out[DEMO_UNIT_LEASES_MAX]);

/* The records as housing service input (pointing into the records and d).
 * unit_id is the stored unit's id as text. */
void demo_operator_input(const struct demo_operator *o, struct operator_input *in);
void demo_unit_input(const demo *d, const struct demo_unit *u, struct unit_input *in);
void demo_lease_input(const struct demo_lease *l, const char *unit_id, struct lease_input *in);

/* ---- rules and applications --------------------------------------------
 * What the subsidy workflow needs, and applications in every state. */

/* What demo_rules loaded. */
struct demo_rules_loaded {
    int years;    /* calendar years loaded (those not stored before) */
    int policies; /* policy files stored and activated */
};

/* Loads the calendar years shipped in the binary (data/calendar/YEAR.txt)
 * that are not stored yet, and stores and activates each shipped policy
 * (policies/NAME.policy) whose programme has no active file. a needs
 * policy.manage. */
int demo_rules(store *s, const actor *a, struct demo_rules_loaded *out, ql_err *err);

#define DEMO_APPS_DEFAULT_MAX 2000 /* applications made by default, at most */

/* What demo_applications made. */
struct demo_apps {
    int64_t applications;
    int64_t by_state[16]; /* enum app_state */
    int64_t leases;       /* filed market leases recorded for applicants without one */
};

/* Makes count applications to the district programme through the
 * workflow (every transition by the service, with its checks, events and
 * audit rows), on days of 2026 after DEMO_AS_OF, in every state: most of
 * them from people the district policy takes (found by the policy engine
 * itself, as if they had a filed lease; those without one get a filed lease
 * of a market flat outside the platform, which is how most applicants rent),
 * the rejected ones from people it does not take. The same seed gives the
 * same applications. Needs the district policy active and the 2026
 * calendar (demo_rules). a: the CLI actor (every permission, district). */
int demo_applications(store *s, const actor *a, uint64_t seed, int64_t count,
                      struct demo_apps *out, ql_err *err);

/* ---- active subsidies in bulk -------------------------------------------
 * Many subsidies for benchmarks of the monthly cycle: the workflow takes
 * about 18 ms an application (each transition checked, with its event and
 * audit row), hours for a million. demo_active_subsidies writes what the
 * workflow would have left, decided by the policy engine itself:
 *
 * - the people: the first count talents, by id, whom the active
 *   district-rent policy takes on the review day (DEMO_BULK_REVIEWED) given
 *   a filed lease, and who have no application of the programme;
 * - for each one without a filed lease covering the review day and the
 *   rest of 2026: a filed lease of a market flat outside the platform,
 *   March 2026 to February 2027 (as demo_applications does), rent 3,800 to
 *   7,990 yuan by talent id; leases written many to a transaction with one
 *   audit row (lease.bulk_create) each;
 * - for each person, the decision of pol_decide on the registry's facts on
 *   the review day (read after the leases are in; declarations "none"; no
 *   month received before), with the trace, version, tier, monthly amount
 *   and payee the review stores; an application in state active with
 *   employer, notice and start day 1 September 2026, and its eight events
 *   (create, submit, attest, accept, review, publish, approve, activate with
 *   its effective day) on the days below, DEMO_SUBSIDY_BATCH applications
 *   to a transaction with one audit row (subsidy.bulk_active) each instead
 *   of one per transition.
 *
 * Refuses (QL_ECONFLICT, field "active_subsidies", nothing written) when
 * fewer than count people qualify; QL_EINTERNAL if a decision does not take
 * a person chosen for it. Needs the district policy active and the 2026
 * calendar (demo_rules); a needs subsidy.review and housing.manage with a
 * district scope. An interrupted run keeps its committed batches. */
#define DEMO_BULK_APPLIED   "2026-08-03" /* created and submitted */
#define DEMO_BULK_REVIEWED  "2026-08-10" /* attested 08-04, accepted 08-06 */
#define DEMO_BULK_PUBLISHED "2026-08-11" /* notice: the 5 working days after */
#define DEMO_SUBSIDY_BATCH  20000        /* applications to a transaction */
#define DEMO_LEASE_BATCH    20000
#define DEMO_BULK_CACHE     ((int64_t)256 << 20) /* page cache while writing them */

struct demo_subsidies {
    int64_t made;        /* active subsidies */
    int64_t leases;      /* market leases recorded */
    int64_t by_tier[16]; /* made, by tier of the version in force */
    char tier[16][41];   /* the tiers' ids */
    int ntiers;
    int64_t monthly_fen; /* the sum of their monthly amounts */
    int32_t start;       /* the first day paid */
};

int demo_active_subsidies(store *s, const actor *a, int64_t count, demo_progress_fn progress,
                          void *ctx, struct demo_subsidies *out, ql_err *err);

#endif
