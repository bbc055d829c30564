/* housing.h - the registry's rental-housing records: operators (住房租赁企业),
 * housing units (房源) and leases (租赁合同), in the store, within the
 * actor's scope.
 *
 * Who sees what (registry.read; anything else is answered as not found):
 *   district and department accounts: everything;
 *   an operator's account (scope operator:CODE): its own operator record,
 *     its own units and the leases of its own units;
 *   an employer's HR account: the leases of its current staff, and the units
 *     that are listed (published);
 *   a talent (scope self): their own leases, and the listed units.
 * Who changes what:
 *   operators: registry.write and a district or department scope;
 *   units and leases: housing.manage with a district or department scope (any
 *     unit or lease), or an operator's scope (its own units and the leases of
 *     its own units only).
 *
 * The rules (DOMAIN.md §2, §6): areas are square metres with at most two
 * decimals (stored in cm²), money is yuan with at most two decimals (stored
 * in fen), dates are YYYY-MM-DD. A unit is listed (status listed or leased)
 * only with its verification code (房源核验码). A lease ends after it starts
 * and runs at most 20 years (Civil Code art. 705); its filing number
 * (网签备案号) and filing date come together; filing is due within 30 days of
 * signing (a late or missing filing is a warning, not a refusal). One unit
 * never has two leases whose periods overlap: an active lease counts from its
 * start to its end date, an ended one to the day it ended. Recording a lease
 * on a unit marks the unit leased; ending its last active lease lists it
 * again. Every change appends an audit row; registry_history shows them for
 * object types "operator", "unit" and "lease".
 *
 * Input arrives as text, as people type it; every bad field is reported at
 * once in report->errors, each naming its field (the member names of the
 * input structs) in English and Chinese, and nothing is stored.
 */
#ifndef QL_REGISTRY_HOUSING_H
#define QL_REGISTRY_HOUSING_H

#include "registry/registry.h"

/* Called for each row of an _each function; a non-zero return stops the
 * walk and is returned by it. The row belongs to the caller of fn. */
typedef int (*housing_row_fn)(const json_t *row, void *ctx);

/* ---- operators -------------------------------------------------------- */

struct operator_input {
    const char *code;          /* required: 1-40 of A-Z a-z 0-9 . _ -; the scope id of the
                                  operator's accounts (operator:CODE), so it cannot change */
    const char *name;          /* required, 1-200 characters */
    const char *credit_code;   /* GB 32100, required, one operator per code */
    const char *contact_name;  /* optional, at most 50 characters */
    const char *contact_phone; /* optional: a mobile, a landline with its area code
                                  (021-64871234) or a 400/800 number */
};

/* Registers an operator. Needs registry.write and a district or department
 * scope. QL_EINVAL with report->errors; QL_ECONFLICT (field code or
 * credit_code, also in report->errors) when either is taken. */
int registry_operator_create(store *s, const actor *a, const struct operator_input *in, int64_t *id,
                             reg_report *report, ql_err *err);

/* Changes an operator (all fields given again; code must stay the same). */
int registry_operator_update(store *s, const actor *a, int64_t id, const struct operator_input *in,
                             reg_report *report, ql_err *err);

/* One operator as JSON: id, code, name, credit_code, contact_name,
 * contact_phone, units (count), units_by_status {draft, listed, leased,
 * withdrawn}, active_leases, created_at, updated_at. */
int registry_operator_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err);

struct operator_filter {
    const char *q;    /* name contains, or an exact code or credit code */
    const char *sort; /* "name" (default), "code", "-created" */
    int64_t page, per_page;
};

/* Lists operators within scope: rows as registry_operator_get without
 * units_by_status and active_leases. *total counts matches up to
 * REGISTRY_COUNT_CAP + 1. Page rules as registry_talent_list. */
int registry_operator_list(store *s, const actor *a, const struct operator_filter *f, json_t **rows,
                           int64_t *total, ql_err *err);

/* Calls fn for every matching operator, one row at a time (page ignored). */
int registry_operator_each(store *s, const actor *a, const struct operator_filter *f,
                           housing_row_fn fn, void *ctx, ql_err *err);

/* ---- housing units ---------------------------------------------------- */

struct unit_input {
    const char *operator;          /* the operator's code; required of district staff, an
                                      operator's account may leave it empty (its own) */
    const char *address;           /* required, 1-200 characters */
    const char *district;          /* optional, e.g. 徐汇区, at most 20 characters */
    const char *community;         /* optional, the estate (小区), at most 100 characters */
    const char *area;              /* square metres, e.g. 45.5, required */
    const char *rooms;             /* 0 (a studio) to 20, required */
    const char *rent;              /* monthly rent in yuan, more than 0, required */
    const char *kind;              /* talent_apartment, affordable_rental, market
                                      (人才公寓, 保障性租赁住房, 市场化租赁住房) */
    const char *verification_code; /* 房源核验码: 6-32 of A-Z 0-9 -; needed to list */
    const char *status;            /* draft (default), listed, withdrawn; "leased" only
                                      while the unit has an active lease, which sets it */
};

/* Registers a unit. Needs housing.manage; an operator's account registers
 * its own units only (field operator, QL_EFORBIDDEN). QL_ECONFLICT (field
 * verification_code) when another unit has the code. */
int registry_unit_create(store *s, const actor *a, const struct unit_input *in, int64_t *id,
                         reg_report *report, ql_err *err);

/* Changes a unit (all fields given again). A unit with an active lease
 * keeps the status leased (QL_ECONFLICT, field status, otherwise). */
int registry_unit_update(store *s, const actor *a, int64_t id, const struct unit_input *in,
                         reg_report *report, ql_err *err);

/* One unit as JSON: id, operator {id, code, name, contact_name,
 * contact_phone}, address, district, community, area ("45.50"), area_cm2,
 * rooms, rent ("4500.00"), rent_fen, kind, verification_code, status,
 * created_at, updated_at; and leases [{id, talent_name, start_date,
 * end_date, status}] (active ones) when the actor may see the unit's
 * leases. */
int registry_unit_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err);

struct unit_filter {
    const char *q;        /* address or community contains, or an exact verification code */
    int64_t operator_id;  /* 0 for all */
    const char *status;   /* draft, listed, leased, withdrawn; NULL or "" for all */
    const char *kind;     /* NULL or "" for all */
    const char *district; /* exact; NULL or "" for all */
    int64_t rooms_min;    /* at least this many rooms; 0 for all */
    const char *rent_min; /* yuan; NULL or "" for no bound */
    const char *rent_max;
    const char *sort; /* "-id" (default), "id", "rent", "-rent", "area", "-area", "address" */
    int64_t page, per_page;
    int64_t after_id; /* with sort "id": rows after this id */
};

/* Lists units within scope, rows as registry_unit_get without leases. */
int registry_unit_list(store *s, const actor *a, const struct unit_filter *f, json_t **rows,
                       int64_t *total, ql_err *err);

int registry_unit_each(store *s, const actor *a, const struct unit_filter *f, housing_row_fn fn,
                       void *ctx, ql_err *err);

/* ---- leases ----------------------------------------------------------- */

struct lease_input {
    const char *talent_id;        /* the tenant's talent id, within the actor's scope; or */
    const char *talent_id_number; /* the tenant's ID number (how an operator names a new
                                     tenant): exactly one of the two */
    const char *unit_id;          /* a unit on the platform (listed, within scope); empty for
                                     an address outside it (district staff only) */
    const char *address;          /* required without unit_id; with it, empty or the unit's */
    const char *start_date;       /* required */
    const char *end_date;         /* required, after start_date, at most 20 years on */
    const char *signed_date;      /* required, not in the future */
    const char *rent;             /* monthly rent in yuan, more than 0 */
    const char *deposit;          /* yuan, optional (0) */
    const char *filing_no;        /* 网签备案号, 4-40 of A-Z 0-9 -; with filed_date */
    const char *filed_date;       /* with filing_no; not before signing, not in the future */
};

/* Records a lease (status active). Needs housing.manage. QL_ECONFLICT
 * (field start_date or end_date) when its period overlaps another lease of
 * the unit, (field filing_no) when the filing number is taken. Warnings:
 * filed more than 30 days after signing, or not filed and 30 days past. */
int registry_lease_create(store *s, const actor *a, const struct lease_input *in, int64_t *id,
                          reg_report *report, ql_err *err);

/* Changes an active lease (all fields given again). QL_ECONFLICT (field
 * status) for a lease that has ended. */
int registry_lease_update(store *s, const actor *a, int64_t id, const struct lease_input *in,
                          reg_report *report, ql_err *err);

/* Ends an active lease on ended_on (YYYY-MM-DD, from its start to its end
 * date): status "ended" on its end date, "terminated" before it. reason:
 * 1-200 characters (field reason). Needs housing.manage. */
int registry_lease_end(store *s, const actor *a, int64_t id, const char *ended_on,
                       const char *reason, reg_report *report, ql_err *err);

/* One lease as JSON: id, talent {id, name, id_masked}, unit {id, operator
 * {id, code, name}} or null, address, start_date, end_date, rent, rent_fen,
 * deposit, deposit_fen, signed_date, filing_no, filed_date, filed,
 * filing_due (signed_date + 30 days), filing_overdue, status, ended_on,
 * end_reason, in_force (today within its period), created_at, updated_at. */
int registry_lease_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err);

struct lease_filter {
    const char *q;           /* address contains, or an exact filing number */
    int64_t talent_id;       /* 0 for all */
    int64_t unit_id;         /* 0 for all */
    int64_t operator_id;     /* 0 for all */
    const char *status;      /* active, ended, terminated; NULL or "" for all */
    const char *filed;       /* yes / no; NULL or "" for all */
    const char *ends_before; /* YYYY-MM-DD: end date on or before it; NULL or "" for all */
    const char *sort;        /* "-id" (default), "id", "start_date", "-start_date", "end_date",
                                "-end_date" */
    int64_t page, per_page;
    int64_t after_id; /* with sort "id": rows after this id */
};

int registry_lease_list(store *s, const actor *a, const struct lease_filter *f, json_t **rows,
                        int64_t *total, ql_err *err);

int registry_lease_each(store *s, const actor *a, const struct lease_filter *f, housing_row_fn fn,
                        void *ctx, ql_err *err);

#endif
