/* housing.c - JSON views of the registry's rental housing: operators, units
 * and leases. */
#include "api/api.h"

#include "registry/export.h"
#include "registry/housing.h"

#include <stdio.h>
#include <string.h>

/* One member of a record's body, read as text into *slot. */
struct member {
    const char *name;
    const char **slot;
};

/* Reads the members of the body into their slots: strings as they are,
 * whole numbers as text, absent or null as NULL. A number with decimals (not
 * exact: write money and areas as text), any other type, and a member the
 * record does not have are errors naming body.<member>; all of them are
 * collected in rep->errors. Returns 0 or QL_EINVAL. */
static int read_members(http_req *r, const struct member *m, size_t n, reg_report *rep)
{
    memset(rep, 0, sizeof *rep);
    for (size_t i = 0; i < n; i++) *m[i].slot = NULL;
    const char *key;
    json_t *v;
    ql_err e;
    json_object_foreach(r->json, key, v)
    {
        const struct member *hit = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(key, m[i].name)) hit = &m[i];
        char field[96];
        snprintf(field, sizeof field, "body.%.80s", key);
        if (!hit) {
            ql_errs_add(&rep->errors, (ql_errf(&e, QL_EINVAL, field, "%s: no such field",
                                               "%s：没有这个字段", field),
                                       &e));
            continue;
        }
        if (json_is_null(v)) continue;
        if (json_is_string(v) && json_string_length(v) <= 4096) {
            *hit->slot = json_string_value(v);
        } else if (json_is_string(v)) {
            ql_errs_add(&rep->errors,
                        (ql_errf(&e, QL_EINVAL, field, "%s is too long", "%s 过长", field), &e));
        } else if (json_is_integer(v)) {
            *hit->slot = arena_printf(r->arena, "%lld", (long long)json_integer_value(v));
        } else if (json_is_real(v)) {
            ql_errs_add(&rep->errors,
                        (ql_errf(&e, QL_EINVAL, field,
                                 "%s: write a number with decimals as text, e.g. \"4500.50\"",
                                 "%s：带小数的数值请写成文本，如 \"4500.50\"", field),
                         &e));
        } else {
            ql_errs_add(&rep->errors, (ql_errf(&e, QL_EINVAL, field, "%s must be text or a number",
                                               "%s 必须是文本或数字", field),
                                       &e));
        }
    }
    return rep->errors.n ? QL_EINVAL : 0;
}

/* Errors of a record: the first becomes the uniform error, all are listed
 * under "errors", each field named as body.<field>. The list is copied
 * into the request's arena: the server writes the error body after the
 * handler (and its report) is gone. */
static int report_error(http_req *r, int rc, reg_report *rep)
{
    for (int i = 0; i < rep->errors.n; i++) {
        ql_err *e = &rep->errors.e[i];
        size_t n = strlen(e->field);
        if (n && n + 5 < sizeof e->field && strncmp(e->field, "body.", 5) != 0) {
            memmove(e->field + 5, e->field, n + 1);
            memcpy(e->field, "body.", 5);
        }
    }
    if (rep->errors.n) {
        ql_errs *copy = arena_alloc(r->arena, sizeof *copy);
        *copy = rep->errors;
        r->err = rep->errors.e[0];
        r->errs = copy;
    }
    return rc;
}

/* Answers 201 with the record, its Location and its warnings. */
static int reply_created(http_req *r, const char *kind, int64_t id, json_t *rec,
                         const reg_report *rep)
{
    json_object_set_new(rec, "warnings", http_errs_json(r, &rep->warnings));
    http_set_header(r, "Location", arena_printf(r->arena, "/api/v1/%s/%lld", kind, (long long)id));
    return http_reply_json(r, 201, rec);
}

/* ---- operators ------------------------------------------------------- */

static int operator_input(http_req *r, struct operator_input *in, reg_report *rep)
{
    const struct member m[] = {{"code", &in->code},
                               {"name", &in->name},
                               {"credit_code", &in->credit_code},
                               {"contact_name", &in->contact_name},
                               {"contact_phone", &in->contact_phone}};
    return read_members(r, m, sizeof m / sizeof m[0], rep);
}

int api_operator_filter(http_req *r, struct operator_filter *f)
{
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->sort = http_query(r, "sort");
    int rc = api_query_int(r, "page", 1, 1, 1000000, &f->page);
    if (!rc) rc = api_query_int(r, "per_page", 50, 1, 200, &f->per_page);
    return rc;
}

int api_operators_list(http_req *r)
{
    struct operator_filter f;
    json_t *rows;
    int64_t total;
    int rc = api_operator_filter(r, &f);
    if (!rc) rc = registry_operator_list(r->db, &r->who, &f, &rows, &total, &r->err);
    if (rc) return rc;
    return api_reply_page(r, "operators", rows, total, f.page, f.per_page);
}

int api_operator_get(http_req *r)
{
    int64_t id;
    json_t *o;
    int rc = api_path_id(r, &id);
    if (!rc) rc = registry_operator_get(r->db, &r->who, id, &o, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, o);
}

int api_operators_create(http_req *r)
{
    struct operator_input in;
    reg_report rep;
    int64_t id = 0;
    int rc = operator_input(r, &in, &rep);
    if (!rc) rc = registry_operator_create(r->db, &r->who, &in, &id, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *o;
    rc = registry_operator_get(r->db, &r->who, id, &o, &r->err);
    if (rc) return rc;
    return reply_created(r, "operators", id, o, &rep);
}

int api_operator_update(http_req *r)
{
    int64_t id;
    struct operator_input in;
    reg_report rep;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    rc = operator_input(r, &in, &rep);
    if (!rc) rc = registry_operator_update(r->db, &r->who, id, &in, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *o;
    rc = registry_operator_get(r->db, &r->who, id, &o, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, o);
}

int api_operator_history(http_req *r)
{
    return api_record_history(r, "operator");
}

/* ---- units ----------------------------------------------------------- */

static int unit_input(http_req *r, struct unit_input *in, reg_report *rep)
{
    const struct member m[] = {{"operator", &in->operator},
                                {"address", &in->address},
                                {"district", &in->district},
                                {"community", &in->community},
                                {"area", &in->area},
                                {"rooms", &in->rooms},
                                {"rent", &in->rent},
                                {"kind", &in->kind},
                                {"verification_code", &in->verification_code},
                                {"status", &in->status}};
    return read_members(r, m, sizeof m / sizeof m[0], rep);
}

int api_unit_filter(http_req *r, struct unit_filter *f)
{
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->status = http_query(r, "status");
    f->kind = http_query(r, "kind");
    f->district = http_query(r, "district");
    f->rent_min = http_query(r, "rent_min");
    f->rent_max = http_query(r, "rent_max");
    f->sort = http_query(r, "sort");
    int rc = api_query_int(r, "page", 1, 1, 1000000, &f->page);
    if (!rc) rc = api_query_int(r, "per_page", 50, 1, 200, &f->per_page);
    if (!rc) rc = api_query_int(r, "operator_id", 0, 0, INT64_MAX, &f->operator_id);
    if (!rc) rc = api_query_int(r, "rooms_min", 0, 0, 20, &f->rooms_min);
    if (!rc) rc = api_query_int(r, "after_id", 0, 0, INT64_MAX, &f->after_id);
    return rc;
}

int api_units_list(http_req *r)
{
    struct unit_filter f;
    json_t *rows;
    int64_t total;
    int rc = api_unit_filter(r, &f);
    if (!rc) rc = registry_unit_list(r->db, &r->who, &f, &rows, &total, &r->err);
    if (rc) return rc;
    return api_reply_page(r, "units", rows, total, f.page, f.per_page);
}

int api_unit_get(http_req *r)
{
    int64_t id;
    json_t *u;
    int rc = api_path_id(r, &id);
    if (!rc) rc = registry_unit_get(r->db, &r->who, id, &u, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, u);
}

int api_units_create(http_req *r)
{
    struct unit_input in;
    reg_report rep;
    int64_t id = 0;
    int rc = unit_input(r, &in, &rep);
    if (!rc) rc = registry_unit_create(r->db, &r->who, &in, &id, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *u;
    rc = registry_unit_get(r->db, &r->who, id, &u, &r->err);
    if (rc) return rc;
    return reply_created(r, "units", id, u, &rep);
}

int api_unit_update(http_req *r)
{
    int64_t id;
    struct unit_input in;
    reg_report rep;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    rc = unit_input(r, &in, &rep);
    if (!rc) rc = registry_unit_update(r->db, &r->who, id, &in, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *u;
    rc = registry_unit_get(r->db, &r->who, id, &u, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, u);
}

int api_unit_history(http_req *r)
{
    return api_record_history(r, "unit");
}

/* ---- leases ---------------------------------------------------------- */

static int lease_input(http_req *r, struct lease_input *in, reg_report *rep)
{
    const struct member m[] = {
        {"talent_id", &in->talent_id},     {"talent_id_number", &in->talent_id_number},
        {"unit_id", &in->unit_id},         {"address", &in->address},
        {"start_date", &in->start_date},   {"end_date", &in->end_date},
        {"signed_date", &in->signed_date}, {"rent", &in->rent},
        {"deposit", &in->deposit},         {"filing_no", &in->filing_no},
        {"filed_date", &in->filed_date}};
    return read_members(r, m, sizeof m / sizeof m[0], rep);
}

int api_lease_filter(http_req *r, struct lease_filter *f)
{
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->status = http_query(r, "status");
    f->filed = http_query(r, "filed");
    f->ends_before = http_query(r, "ends_before");
    f->sort = http_query(r, "sort");
    int rc = api_query_int(r, "page", 1, 1, 1000000, &f->page);
    if (!rc) rc = api_query_int(r, "per_page", 50, 1, 200, &f->per_page);
    if (!rc) rc = api_query_int(r, "talent_id", 0, 0, INT64_MAX, &f->talent_id);
    if (!rc) rc = api_query_int(r, "unit_id", 0, 0, INT64_MAX, &f->unit_id);
    if (!rc) rc = api_query_int(r, "operator_id", 0, 0, INT64_MAX, &f->operator_id);
    if (!rc) rc = api_query_int(r, "after_id", 0, 0, INT64_MAX, &f->after_id);
    return rc;
}

int api_leases_list(http_req *r)
{
    struct lease_filter f;
    json_t *rows;
    int64_t total;
    int rc = api_lease_filter(r, &f);
    if (!rc) rc = registry_lease_list(r->db, &r->who, &f, &rows, &total, &r->err);
    if (rc) return rc;
    return api_reply_page(r, "leases", rows, total, f.page, f.per_page);
}

int api_lease_get(http_req *r)
{
    int64_t id;
    json_t *l;
    int rc = api_path_id(r, &id);
    if (!rc) rc = registry_lease_get(r->db, &r->who, id, &l, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, l);
}

int api_leases_create(http_req *r)
{
    struct lease_input in;
    reg_report rep;
    int64_t id = 0;
    int rc = lease_input(r, &in, &rep);
    if (!rc) rc = registry_lease_create(r->db, &r->who, &in, &id, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *l;
    rc = registry_lease_get(r->db, &r->who, id, &l, &r->err);
    if (rc) return rc;
    return reply_created(r, "leases", id, l, &rep);
}

int api_lease_update(http_req *r)
{
    int64_t id;
    struct lease_input in;
    reg_report rep;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    rc = lease_input(r, &in, &rep);
    if (!rc) rc = registry_lease_update(r->db, &r->who, id, &in, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *l;
    rc = registry_lease_get(r->db, &r->who, id, &l, &r->err);
    if (rc) return rc;
    json_object_set_new(l, "warnings", http_errs_json(r, &rep.warnings));
    return http_reply_json(r, 200, l);
}

int api_lease_end(http_req *r)
{
    int64_t id;
    const char *ended_on = NULL, *reason = NULL;
    reg_report rep;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const struct member m[] = {{"ended_on", &ended_on}, {"reason", &reason}};
    rc = read_members(r, m, sizeof m / sizeof m[0], &rep);
    if (!rc) rc = registry_lease_end(r->db, &r->who, id, ended_on, reason, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *l;
    rc = registry_lease_get(r->db, &r->who, id, &l, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, l);
}

int api_lease_history(http_req *r)
{
    return api_record_history(r, "lease");
}

/* ---- exports: the list's filters, as .xlsx (default) or CSV ----------- */

enum housing_list { LIST_OPERATORS, LIST_UNITS, LIST_LEASES };

struct housing_export {
    enum housing_list list;
    const void *filter;
};

static int write_housing(http_req *r, store *s, const char *path, enum export_format format,
                         int64_t *rows, void *ctx)
{
    const struct housing_export *x = ctx;
    switch (x->list) {
    case LIST_OPERATORS:
        return registry_export_operators(s, &r->who, x->filter, format, path, rows, &r->err);
    case LIST_UNITS:
        return registry_export_units(s, &r->who, x->filter, format, path, rows, &r->err);
    case LIST_LEASES:
        return registry_export_leases(s, &r->who, x->filter, format, path, rows, &r->err);
    }
    return QL_EINTERNAL;
}

/* filter (filter_size bytes, in the caller's frame) is copied into the
 * arena: the writer reads it later, on the pool. */
static int send_housing(http_req *r, enum housing_list list, const void *filter,
                        size_t filter_size, const char *ascii, const char *utf8)
{
    enum export_format fmt;
    int rc = api_export_format(r, http_query(r, "format"), &fmt);
    if (rc) return rc;
    void *copy = arena_alloc(r->arena, filter_size);
    memcpy(copy, filter, filter_size);
    struct housing_export x = {list, copy};
    return api_send_file(r, ascii, utf8, fmt, write_housing, &x, sizeof x);
}

int api_operators_export(http_req *r)
{
    struct operator_filter f;
    int rc = api_operator_filter(r, &f);
    return rc ? rc : send_housing(r, LIST_OPERATORS, &f, sizeof f, "operators", "住房租赁企业");
}

int api_units_export(http_req *r)
{
    struct unit_filter f;
    int rc = api_unit_filter(r, &f);
    return rc ? rc : send_housing(r, LIST_UNITS, &f, sizeof f, "units", "房源");
}

int api_leases_export(http_req *r)
{
    struct lease_filter f;
    int rc = api_lease_filter(r, &f);
    return rc ? rc : send_housing(r, LIST_LEASES, &f, sizeof f, "leases", "租约");
}
