/* registry.c - JSON views of the registry: employers and talents. */
#include "api/api.h"

#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads member name of the body as text: strings as they are, whole
 * numbers and booleans as text ("12", "yes"), absent or null as NULL. Any
 * other type is an error naming body.<name>. */
static int body_text(http_req *r, const char *name, const char **out)
{
    json_t *v = json_object_get(r->json, name);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    char field[96];
    snprintf(field, sizeof field, "body.%s", name);
    if (json_is_string(v)) {
        if (json_string_length(v) > 4096)
            return ql_errf(&r->err, QL_EINVAL, field, "%s is too long", "%s 过长", field);
        *out = json_string_value(v);
    } else if (json_is_integer(v)) {
        *out = arena_printf(r->arena, "%lld", (long long)json_integer_value(v));
    } else if (json_is_boolean(v)) {
        *out = json_is_true(v) ? "yes" : "no";
    } else {
        return ql_errf(&r->err, QL_EINVAL, field, "%s must be text, a number or true/false",
                       "%s 必须是文本、数字或 true/false", field);
    }
    return 0;
}

/* Errors of a record: the first becomes the uniform error, all are listed
 * under "errors", each field named as body.<field>. A record not found
 * keeps its field ("id", the path parameter). */
static int report_error(http_req *r, int rc, reg_report *rep)
{
    for (int i = 0; i < rep->errors.n; i++) api_body_field(&rep->errors.e[i]);
    if (rep->errors.n) {
        /* Copied: the server writes the error body after the handler (and
         * its report on the stack) is gone. */
        ql_errs *copy = arena_alloc(r->arena, sizeof *copy);
        *copy = rep->errors;
        r->err = rep->errors.e[0];
        r->errs = copy;
    } else if (rc != QL_ENOTFOUND) {
        api_body_field(&r->err);
    }
    return rc;
}

static void add_warnings(http_req *r, json_t *obj, const reg_report *rep)
{
    json_object_set_new(obj, "warnings", http_errs_json(r, &rep->warnings));
}

/* ---- employers ------------------------------------------------------- */

static int employer_input(http_req *r, struct employer_input *in)
{
    int rc = body_text(r, "credit_code", &in->credit_code);
    if (!rc) rc = body_text(r, "name", &in->name);
    if (!rc) rc = body_text(r, "industry", &in->industry);
    if (!rc) rc = body_text(r, "registered", &in->registered);
    if (!rc) rc = body_text(r, "taxed", &in->taxed);
    if (!rc) rc = body_text(r, "key_enterprise", &in->key_enterprise);
    return rc;
}

int api_employers_list(http_req *r)
{
    struct employer_filter f = {.q = http_query(r, "q"), .industry = http_query(r, "industry"),
                                .sort = http_query(r, "sort")};
    int rc = api_query_int(r, "page", 1, 1, 1000000, &f.page);
    if (!rc) rc = api_query_int(r, "per_page", 50, 1, 200, &f.per_page);
    json_t *rows;
    int64_t total;
    if (!rc) rc = registry_employer_list(r->db, &r->who, &f, &rows, &total, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:o, s:I, s:b}", "employers", rows, "total",
                                     (json_int_t)(total > REGISTRY_COUNT_CAP ? REGISTRY_COUNT_CAP
                                                                             : total),
                                     "more", total > REGISTRY_COUNT_CAP));
}

int api_employer_get(http_req *r)
{
    int64_t id;
    json_t *e;
    int rc = api_path_id(r, &id);
    if (!rc) rc = registry_employer_get(r->db, &r->who, id, &e, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, e);
}

int api_employers_create(http_req *r)
{
    struct employer_input in;
    reg_report rep;
    int64_t id = 0;
    int rc = employer_input(r, &in);
    if (rc) return rc;
    rc = registry_employer_create(r->db, &r->who, &in, &id, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *e;
    rc = registry_employer_get(r->db, &r->who, id, &e, &r->err);
    if (rc) return rc;
    http_set_header(r, "Location", arena_printf(r->arena, "/api/v1/employers/%lld", (long long)id));
    return http_reply_json(r, 201, e);
}

int api_employer_update(http_req *r)
{
    int64_t id;
    struct employer_input in;
    reg_report rep;
    int rc = api_path_id(r, &id);
    if (!rc) rc = employer_input(r, &in);
    if (rc) return rc;
    rc = registry_employer_update(r->db, &r->who, id, &in, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *e;
    rc = registry_employer_get(r->db, &r->who, id, &e, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, e);
}

/* ---- talents --------------------------------------------------------- */

static int talent_input(http_req *r, struct talent_input *in)
{
    static const char *const names[] = {"name",     "id_number",       "phone",
                                        "education", "graduation_date", "category",
                                        "level",    "employer",        "employed_since",
                                        "insurance_months", "owns_housing", "bank_account",
                                        "owns_housing_since", "employed_until"};
    const char **slots[] = {&in->name,     &in->id_number,       &in->phone,
                            &in->education, &in->graduation_date, &in->category,
                            &in->level,    &in->employer,        &in->employed_since,
                            &in->insurance_months, &in->owns_housing, &in->bank_account,
                            &in->owns_housing_since, &in->employed_until};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = body_text(r, names[i], slots[i]);
        if (rc) return rc;
    }
    return 0;
}

int api_talent_filter(http_req *r, struct talent_filter *f)
{
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->education = http_query(r, "education");
    f->level = http_query(r, "level");
    f->sort = http_query(r, "sort");
    int rc = api_query_int(r, "page", 1, 1, 1000000, &f->page);
    if (!rc) rc = api_query_int(r, "per_page", 50, 1, 200, &f->per_page);
    if (!rc) rc = api_query_int(r, "employer_id", 0, 0, INT64_MAX, &f->employer_id);
    if (!rc) rc = api_query_int(r, "after_id", 0, 0, INT64_MAX, &f->after_id);
    return rc;
}

int api_talents_list(http_req *r)
{
    struct talent_filter f;
    int rc = api_talent_filter(r, &f);
    json_t *rows;
    int64_t total;
    if (!rc) rc = registry_talent_list(r->db, &r->who, &f, &rows, &total, &r->err);
    if (rc) return rc;
    return api_reply_page(r, "talents", rows, total, f.page, f.per_page);
}

int api_talent_get(http_req *r)
{
    int64_t id;
    json_t *t;
    int rc = api_path_id(r, &id);
    if (!rc) rc = registry_talent_get(r->db, &r->who, id, &t, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, t);
}

int api_talents_create(http_req *r)
{
    struct talent_input in;
    reg_report rep;
    int64_t id = 0;
    int rc = talent_input(r, &in);
    if (rc) return rc;
    rc = registry_talent_create(r->db, &r->who, &in, &id, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *t;
    rc = registry_talent_get(r->db, &r->who, id, &t, &r->err);
    if (rc) return rc;
    add_warnings(r, t, &rep);
    http_set_header(r, "Location", arena_printf(r->arena, "/api/v1/talents/%lld", (long long)id));
    return http_reply_json(r, 201, t);
}

int api_talent_update(http_req *r)
{
    int64_t id;
    struct talent_input in;
    reg_report rep;
    int rc = api_path_id(r, &id);
    if (!rc) rc = talent_input(r, &in);
    if (rc) return rc;
    rc = registry_talent_update(r->db, &r->who, id, &in, &rep, &r->err);
    if (rc) return report_error(r, rc, &rep);
    json_t *t;
    rc = registry_talent_get(r->db, &r->who, id, &t, &r->err);
    if (rc) return rc;
    add_warnings(r, t, &rep);
    return http_reply_json(r, 200, t);
}

int api_talent_unmask(http_req *r)
{
    int64_t id;
    const char *field, *reason;
    int rc = api_path_id(r, &id);
    if (!rc) rc = api_body_string(r, "field", 32, &field);
    if (!rc) rc = api_body_string(r, "reason", 1000, &reason);
    if (rc) return rc;
    char value[128];
    rc = registry_talent_unmask(r->db, &r->who, id, field, reason, value, sizeof value, &r->err);
    if (rc == QL_EINVAL) api_body_field(&r->err); /* "reason", "field": members of the body */
    if (rc) return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "field", field,
                                     "value", value, "notice",
                                     "this view is logged / 本次查看已记录"));
}

int api_reply_page(http_req *r, const char *name, json_t *rows, int64_t total, int64_t page,
                   int64_t per_page)
{
    return http_reply_json(
        r, 200,
        json_pack("{s:o, s:I, s:b, s:I, s:I}", name, rows, "total",
                  (json_int_t)(total > REGISTRY_COUNT_CAP ? REGISTRY_COUNT_CAP : total), "more",
                  total > REGISTRY_COUNT_CAP, "page", (json_int_t)page, "per_page",
                  (json_int_t)per_page));
}

int api_record_history(http_req *r, const char *type)
{
    int64_t id;
    json_t *rows;
    int rc = api_path_id(r, &id);
    if (!rc) rc = registry_history(r->db, &r->who, type, id, &rows, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, json_pack("{s:o}", "history", rows));
}

int api_talent_history(http_req *r)
{
    return api_record_history(r, "talent");
}

int api_employer_history(http_req *r)
{
    return api_record_history(r, "employer");
}
