/* registry.h - the registry service: employers and talents (with their
 * employment), in the store, within the actor's scope. Operators, housing
 * units and leases: registry/housing.h.
 *
 * Every function takes the acting account and checks its permission
 * (registry.read / registry.write) and scope: an employer's HR account sees
 * and changes its own staff only, a talent only their own record, a housing
 * operator only its tenants. District and department accounts see all.
 *
 * Input arrives as text, as people type it in forms and CSV files; the
 * service checks every field against the standards (GB 11643 ID numbers,
 * GB 32100 credit codes, mobile numbers, UnionPay cards) and reports every
 * bad field at once, each naming the field in English and Chinese.
 * Personal data (ID number, phone, bank account) is sealed before it is
 * stored (core/pii.h) and shown masked; the plain value is shown only to an
 * account with personal.unmask that gives a reason, and that view is
 * audited.
 */
#ifndef QL_REGISTRY_REGISTRY_H
#define QL_REGISTRY_REGISTRY_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

/* What a change found wrong (errors: nothing was stored) and what it
 * merely noticed (warnings: stored all the same, e.g. a card number that
 * fails the Luhn check). */
typedef struct reg_report {
    ql_errs errors;
    ql_errs warnings;
} reg_report;

/* What a's scope names, for other services: *kind is its kind, *id the
 * employer, operator or talent it names (0 for a district or department
 * scope, -1 when the named record does not exist: then nothing is in
 * scope). Returns 0 or a store error. */
int registry_scope(store *s, const actor *a, enum scope_kind *kind, int64_t *id);

/* ---- employers -------------------------------------------------------- */

struct employer_input {
    const char *credit_code;   /* GB 32100, required */
    const char *name;          /* required, at most 200 characters */
    const char *industry;      /* ai, life_health, fintech, advanced_manufacturing,
                                  digital_economy, culture_creative, other (or the Chinese name) */
    const char *registered;    /* registered in the district: yes/no (是/否, 1/0, true/false) */
    const char *taxed;         /* taxed in the district: yes/no */
    const char *key_enterprise;/* on a key-enterprise list: yes/no */
};

/* Creates an employer. Needs registry.write and a district or department
 * scope. Fields: credit_code, name, industry, registered, taxed,
 * key_enterprise. QL_EINVAL with report->errors, QL_ECONFLICT for a credit
 * code already registered. */
int registry_employer_create(store *s, const actor *a, const struct employer_input *in,
                             int64_t *id, reg_report *report, ql_err *err);

/* Changes an employer (all fields given again). Needs registry.write and a
 * district or department scope: an employer's HR account cannot change how
 * its own employer is registered. */
int registry_employer_update(store *s, const actor *a, int64_t id,
                             const struct employer_input *in, reg_report *report, ql_err *err);

/* One employer as JSON: id, credit_code, name, industry, registered,
 * taxed, key_enterprise, staff (current talents), created_at, updated_at. */
int registry_employer_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err);

struct employer_filter {
    const char *q;        /* name contains, or an exact credit code */
    const char *industry; /* NULL or "" for all */
    const char *sort;     /* "name" (default), "-created" */
    int64_t page, per_page;
};

/* Lists employers (an HR account: its own only). *total is capped at
 * REGISTRY_COUNT_CAP + 1 ("more than"). */
int registry_employer_list(store *s, const actor *a, const struct employer_filter *f,
                           json_t **rows, int64_t *total, ql_err *err);

/* ---- talents ---------------------------------------------------------- */

struct talent_input {
    const char *name;             /* required */
    const char *id_number;        /* required: GB 11643, or the foreigner permanent-residence ID */
    const char *phone;            /* mobile, optional */
    const char *education;        /* bachelor, master, doctor, other (or 本科, 硕士, 博士, 其他) */
    const char *graduation_date;  /* YYYY-MM-DD, optional */
    const char *category;         /* talent category, e.g. 光启人才, optional */
    const char *level;            /* A, B, C or empty */
    const char *employer;         /* the employer's credit code, optional */
    const char *employed_since;   /* YYYY-MM-DD, required with employer */
    const char *insurance_months; /* months of social insurance paid in the district */
    const char *owns_housing;     /* the person, spouse or minor children own housing in
                                     Shanghai: yes/no */
    const char *bank_account;     /* UnionPay card, optional */
    const char *owns_housing_since; /* YYYY-MM-DD, optional, only with owns_housing yes: the day
                                       from which the person owns housing (not given: the day
                                       stored, or today when newly yes) */
    const char *employed_until;     /* YYYY-MM-DD, optional, on a change only: the last day of the
                                       current employment when the employer is removed (default
                                       today) or changed (default the day before the new one);
                                       with no employer before or after, moves the end of the
                                       last employment */
};

/* Creates a talent. Needs registry.write; an employer's HR account may only
 * register its own staff (employer must be its own). Errors name the fields
 * above. QL_ECONFLICT (field id_number) when the ID number is registered. */
int registry_talent_create(store *s, const actor *a, const struct talent_input *in, int64_t *id,
                           reg_report *report, ql_err *err);

/* Changes a talent (all fields given again, except that name, id_number,
 * phone and bank_account left NULL keep their stored values: a form can
 * change a record without showing its personal data; "" clears phone). The
 * name, ID number and bank card are not changed here: a value given that
 * differs from the stored one is refused (QL_EFORBIDDEN, each named in
 * report->errors with the path that changes it: registry/payee.h). A
 * change of employer closes the current employment and opens a new one. */
int registry_talent_update(store *s, const actor *a, int64_t id, const struct talent_input *in,
                           reg_report *report, ql_err *err);

/* One talent as JSON, personal data masked: id, name, id_masked, id_kind,
 * birth_year (never the date: with the masked number it would give the
 * whole number back), sex, phone_masked, education, graduation_date, category,
 * level, employer {id, name, credit_code} or null, employed_since,
 * insurance_months, owns_housing, bank_masked, employments [..],
 * created_at, updated_at. */
int registry_talent_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err);

/* Shows one personal field unmasked: field is "id_number", "phone" or
 * "bank_account". Needs personal.unmask and a reason of at least 4
 * characters (field "reason"); appends an audit row personal.unmask with
 * who, whom, which field and why. out receives the value. */
int registry_talent_unmask(store *s, const actor *a, int64_t id, const char *field,
                           const char *reason, char *out, size_t n, ql_err *err);

#define REGISTRY_COUNT_CAP 10000

struct talent_filter {
    const char *q;          /* name starts with, or an exact ID number, mobile or card number */
    int64_t employer_id;    /* 0 for all */
    const char *education;  /* NULL or "" for all */
    const char *level;      /* NULL or "" for all */
    const char *sort;       /* "-id" (default, newest first), "id", "name" */
    int64_t page, per_page; /* page from 1, per_page 1-200; page * per_page at most
                               REGISTRY_COUNT_CAP + per_page */
    int64_t after_id;       /* with sort "id": rows after this id (for reading everything) */
    int unmask;             /* registry_talent_each only: add id_number, phone and
                               bank_account unmasked (needs personal.unmask) */
};

/* Lists talents within the actor's scope, masked. *total counts matches up
 * to REGISTRY_COUNT_CAP + 1 (shown as "more than 10,000"). */
int registry_talent_list(store *s, const actor *a, const struct talent_filter *f,
                         json_t **rows, int64_t *total, ql_err *err);

/* Calls fn for every matching talent (page and per_page ignored), one row
 * at a time, without holding them all: for exports. Stops when fn returns
 * non-zero and returns that. */
typedef int (*talent_row_fn)(const json_t *row, void *ctx);
int registry_talent_each(store *s, const actor *a, const struct talent_filter *f,
                         talent_row_fn fn, void *ctx, ql_err *err);

/* Calls fn for every employer the actor may see, ordered by name, one at a
 * time (filter page and per_page ignored). */
typedef int (*employer_row_fn)(const json_t *row, void *ctx);
int registry_employer_each(store *s, const actor *a, const struct employer_filter *f,
                           employer_row_fn fn, void *ctx, ql_err *err);

/* The audited history of one record: object_type "talent", "employer",
 * "operator", "unit" or "lease" (registry/housing.h).
 * Rows: at, actor, action, changed (field names). Needs registry.read and
 * the record within scope. */
int registry_history(store *s, const actor *a, const char *object_type, int64_t id,
                     json_t **rows, ql_err *err);

/* Reads yes/no as people write it: yes/no, y/n, true/false, 1/0, 是/否, 有/无.
 * Empty is no. Returns 0 or QL_EINVAL naming field. */
int registry_yes_no(const char *field, const char *s, int *out, ql_err *err);

#endif
