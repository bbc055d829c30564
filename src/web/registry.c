/* registry.c - the console's registry pages: talents and employers (list
 * with filters, detail with history, forms), exports, and CSV import with a
 * checked preview before anything is stored. Every page calls the registry
 * service with the signed-in account, so scope and permissions are the
 * service's. */
#include "web/web.h"

#include "web/forms.h"

#include "api/api.h"
#include "auth/session.h"
#include "core/buf.h"
#include "http/multipart.h"
#include "registry/export.h"
#include "registry/import.h"
#include "registry/registry.h"
#include "web/uploads.h"

#include <event2/http.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_PAGE 20

/* ---- small helpers ---------------------------------------------------- */

static const char *yes_no(http_req *r, const json_t *v)
{
    return web_t(r, json_is_true(v) ? "common.yes" : "common.no");
}

static const char *const educations[] = {"bachelor", "master", "doctor", "other"};
static const char *const levels[] = {"A", "B", "C"};
static const char *const industries[] = {"ai",
                                         "life_health",
                                         "fintech",
                                         "advanced_manufacturing",
                                         "digital_economy",
                                         "culture_creative",
                                         "other"};
static const char *const yes_no_values[] = {"no", "yes"};

/* ---- talents: list ---------------------------------------------------- */

static const char *const talent_keys[] = {"q", "education", "level", "employer_id", "sort"};

int web_talents(http_req *r)
{
    struct talent_filter f;
    int rc = api_talent_filter(r, &f);
    if (rc) return rc;
    f.per_page = PER_PAGE;
    json_t *rows;
    int64_t total;
    rc = registry_talent_list(r->db, &r->who, &f, &rows, &total, &r->err);
    if (rc) return rc;
    size_t i;
    json_t *t;
    json_array_foreach(rows, i, t)
    {
        json_object_set_new(t, "sex_text", json_string(web_code_text(r, "sex", web_str(t, "sex"))));
        json_object_set_new(t, "education_text",
                            json_string(web_code_text(r, "education", web_str(t, "education"))));
        json_object_set_new(t, "created_at_text", web_time(json_object_get(t, "created_at")));
    }
    json_t *d = web_page(r, web_t(r, "registry.talents.title"), AREA_TALENTS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "registry.talents.title"));
    json_object_set_new(d, "talents", rows);
    json_object_set_new(d, "f", json_pack("{s:s}", "q", f.q ? f.q : ""));
    json_object_set_new(d, "education_options",
                        web_options(r, "education", educations, COUNT(educations), f.education,
                                web_t(r, "common.all")));
    json_object_set_new(d, "level_options",
                        web_options(r, NULL, levels, COUNT(levels), f.level, web_t(r, "common.all")));
    static const char *const sorts[] = {"-id", "id", "name"};
    static const char *const sort_keys[] = {"registry.talents.sort_newest",
                                            "registry.talents.sort_oldest",
                                            "registry.talents.sort_name"};
    json_t *so = json_array();
    for (size_t k = 0; k < COUNT(sorts); k++)
        json_array_append_new(so, json_pack("{s:s, s:s, s:b}", "value", sorts[k], "label",
                                            web_t(r, sort_keys[k]), "selected",
                                            strcmp(f.sort && *f.sort ? f.sort : "-id", sorts[k]) == 0));
    json_object_set_new(d, "sort_options", so);
    if (f.employer_id) {
        json_t *e;
        if (registry_employer_get(r->db, &r->who, f.employer_id, &e, &r->err) == 0) {
            json_object_set_new(d, "employer_filter",
                                json_string(web_tf(r, "registry.talents.employer_filter", "name",
                                                   web_str(e, "name"), (const char *)NULL)));
            json_decref(e);
        }
        json_object_set_new(d, "employer_id", json_integer(f.employer_id));
    }
    json_t *hidden = json_array();
    const char *keep = web_keep_query(r, talent_keys, COUNT(talent_keys), hidden);
    json_object_set_new(d, "keep", json_string(keep));
    json_object_set_new(d, "hidden", hidden);
    json_object_set_new(d, "can_write", json_boolean(actor_can(&r->who, P_REGISTRY_WRITE)));
    json_object_set_new(d, "can_unmask", json_boolean(actor_can(&r->who, P_PERSONAL_UNMASK)));
    web_pager(r, d, "/registry/talents", keep, f.page, PER_PAGE, total);
    web_results_text(r, d, total);
    return web_render(r, 200, "talents", d);
}

/* ---- talents: detail -------------------------------------------------- */

/* The detail page; unmasked (label, value) shown once when given, errors
 * of the unmask form when page_in is given. */
static int render_talent(http_req *r, int64_t id, json_t *page_in, int status,
                         const char *unmask_label, const char *unmask_value, const reg_report *rep)
{
    json_t *t;
    int rc = registry_talent_get(r->db, &r->who, id, &t, &r->err);
    if (rc) {
        json_decref(page_in);
        return rc;
    }
    json_t *d = page_in ? page_in : web_page(r, web_str(t, "name"), AREA_TALENTS);
    json_object_set_new(d, "title", json_string(web_str(t, "name")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/talents", web_t(r, "registry.talents.title"));
    web_crumb(d, NULL, web_str(t, "name"));
    json_object_set_new(d, "sex_text", json_string(web_code_text(r, "sex", web_str(t, "sex"))));
    json_object_set_new(d, "id_kind_text", json_string(web_code_text(r, "id_kind", web_str(t, "id_kind"))));
    json_object_set_new(d, "education_text",
                        json_string(web_code_text(r, "education", web_str(t, "education"))));
    json_object_set_new(d, "owns_housing_text",
                        json_string(yes_no(r, json_object_get(t, "owns_housing"))));
    json_object_set_new(d, "created_at_text", web_time(json_object_get(t, "created_at")));
    json_object_set_new(d, "updated_at_text", web_time(json_object_get(t, "updated_at")));
    json_object_set_new(d, "has_employments",
                        json_boolean(json_array_size(json_object_get(t, "employments")) > 0));
    json_object_set_new(d, "talent", t);
    json_object_set_new(d, "can_write", json_boolean(actor_can(&r->who, P_REGISTRY_WRITE)));
    json_object_set_new(d, "can_unmask", json_boolean(actor_can(&r->who, P_PERSONAL_UNMASK)));
    /* payee data: district and department staff (registry/payee.h) */
    json_object_set_new(
        d, "can_payee",
        json_boolean(r->who.scope == SCOPE_DISTRICT || r->who.scope == SCOPE_DEPARTMENT));
    if (unmask_value)
        json_object_set_new(d, "unmasked", json_pack("{s:s, s:s}", "label", unmask_label, "value",
                                                     unmask_value));
    web_warnings(r, d, rep);
    json_t *history;
    rc = registry_history(r->db, &r->who, "talent", id, &history, &r->err);
    if (rc) {
        json_decref(d);
        return rc;
    }
    web_history(r, d, history, "field");
    return web_render(r, status, "talent", d);
}

int web_talent(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_talent(r, id, NULL, 200, NULL, NULL, NULL);
}

int web_talent_unmask(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *field = http_form(r, "field"), *reason = http_form(r, "reason");
    char value[128];
    ql_err err = {0};
    rc = registry_talent_unmask(r->db, &r->who, id, field, reason, value, sizeof value, &err);
    if (rc == QL_EINVAL) {
        json_t *d = web_page(r, "", AREA_TALENTS);
        web_field(d, "reason", reason);
        web_error(r, d, &err);
        return render_talent(r, id, d, 400, NULL, NULL, NULL);
    }
    if (rc) {
        r->err = err;
        return rc;
    }
    char key[64];
    snprintf(key, sizeof key, "registry.field.%s", field);
    rc = render_talent(r, id, NULL, 200, web_t(r, key), value, NULL);
    sodium_memzero(value, sizeof value);
    return rc;
}

/* ---- talents: forms --------------------------------------------------- */

/* The talent form on page d: values from d.fields; editing (masked: the
 * stored masked values, shown as hints) or creating. */
static void talent_fields(http_req *r, json_t *d, const json_t *masked)
{
    int hr = r->who.scope == SCOPE_EMPLOYER;
    const char *date_hint = web_t(r, "registry.hint.date");
    const char *id_hint = masked ? web_tf(r, "registry.hint.id_number_keep", "masked",
                                          web_str(masked, "id_masked"), (const char *)NULL)
                                 : web_t(r, "registry.hint.id_number");
    const char *phone_hint = masked && *web_str(masked, "phone_masked")
                                 ? web_tf(r, "registry.hint.phone_keep", "masked",
                                          web_str(masked, "phone_masked"), (const char *)NULL)
                                 : web_t(r, "registry.hint.phone");
    const char *bank_hint = masked && *web_str(masked, "bank_masked")
                                ? web_tf(r, "registry.hint.bank_keep", "masked",
                                         web_str(masked, "bank_masked"), (const char *)NULL)
                                : web_t(r, "registry.hint.bank_account");
    /* editing: the name is shown, the ID number and card are not asked for
     * (registry/payee.h: they change elsewhere; the intro says where) */
    const struct fdef defs[] = {
        {"name", "registry.field.name", 1, "text", masked ? web_t(r, "payee.name_fixed") : NULL,
         NULL, NULL, 0, masked != NULL},
        {"id_number", "registry.field.id_number", !masked, "text", id_hint, NULL, NULL, 1, 0},
        {"phone", "registry.field.phone", 0, "tel", phone_hint, "numeric", NULL, 0, 0},
        {"education", "registry.field.education", 1, NULL, NULL, NULL,
         web_options(r, "education", educations, COUNT(educations), NULL, NULL), 0, 0},
        {"graduation_date", "registry.field.graduation_date", 0, "date", date_hint, NULL, NULL, 0, 0},
        {"category", "registry.field.category", 0, "text", NULL, NULL, NULL, 0, 0},
        {"level", "registry.field.level", 0, NULL, NULL, NULL,
         web_options(r, NULL, levels, COUNT(levels), NULL, "—"), 0, 0},
        {"employer", "registry.field.employer", hr, "text",
         web_t(r, hr ? "registry.hint.employer_hr" : "registry.hint.employer"), NULL, NULL, 1, 0},
        {"employed_since", "registry.field.employed_since", 0, "date", date_hint, NULL, NULL, 0, 0},
        {"insurance_months", "registry.field.insurance_months", 0, "text",
         web_t(r, "registry.hint.insurance_months"), "numeric", NULL, 0, 0},
        {"owns_housing", "registry.field.owns_housing", 0, NULL, NULL, NULL,
         web_options(r, NULL, yes_no_values, COUNT(yes_no_values), NULL, NULL), 0, 0},
        {"owns_housing_since", "registry.field.owns_housing_since", 0, "date",
         web_t(r, "registry.hint.owns_housing_since"), NULL, NULL, 0, 0},
        {"bank_account", "registry.field.bank_account", 0, "text", bank_hint, "numeric", NULL, 1, 0},
    };
    /* Yes/no options read as the page's language. */
    json_t *yn = defs[10].options;
    json_object_set_new(json_array_get(yn, 0), "label", json_string(web_t(r, "common.no")));
    json_object_set_new(json_array_get(yn, 1), "label", json_string(web_t(r, "common.yes")));
    for (size_t i = 0; i < COUNT(defs); i++)
        if (!masked || (strcmp(defs[i].name, "id_number") && strcmp(defs[i].name, "bank_account")))
            web_add_field(r, d, &defs[i]);
        else json_decref(defs[i].options);
    if (masked) json_object_set_new(d, "intro", json_string(web_t(r, "payee.edit_intro")));
    const struct fdef until = {"employed_until", "registry.field.employed_until", 0, "date",
                               web_t(r, "registry.hint.employed_until"), NULL, NULL, 0, 0};
    if (masked) web_add_field(r, d, &until); /* ends a stored employment */
}

static const char *const talent_form_names[] = {
    "name",           "id_number",        "phone",        "education",
    "graduation_date", "category",        "level",        "employer",
    "employed_since", "insurance_months", "owns_housing", "bank_account",
    "owns_housing_since", "employed_until"};

/* The form as typed: every field, for the service and for showing again. */
static void talent_form_input(http_req *r, struct talent_input *in, int editing)
{
    const char **slots[] = {&in->name,     &in->id_number,       &in->phone,
                            &in->education, &in->graduation_date, &in->category,
                            &in->level,    &in->employer,        &in->employed_since,
                            &in->insurance_months, &in->owns_housing, &in->bank_account,
                            &in->owns_housing_since, &in->employed_until};
    for (size_t i = 0; i < COUNT(talent_form_names); i++) {
        const char *v = http_form(r, talent_form_names[i]);
        *slots[i] = v ? v : "";
    }
    /* Editing: personal data left empty stays as stored. */
    if (editing) {
        if (!*in->id_number) in->id_number = NULL;
        if (!*in->phone) in->phone = NULL;
        if (!*in->bank_account) in->bank_account = NULL;
    }
}

static void keep_typed(http_req *r, json_t *d)
{
    for (size_t i = 0; i < COUNT(talent_form_names); i++)
        web_field(d, talent_form_names[i], http_form(r, talent_form_names[i]));
}

static json_t *talent_form_page(http_req *r, const char *title, const char *action,
                                const char *cancel)
{
    json_t *d = web_page(r, title, AREA_TALENTS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/talents", web_t(r, "registry.talents.title"));
    web_crumb(d, NULL, title);
    json_object_set_new(d, "heading", json_string(title));
    json_object_set_new(d, "action", json_string(action));
    json_object_set_new(d, "cancel", json_string(cancel));
    return d;
}

int web_talent_new(http_req *r)
{
    int rc = actor_require(&r->who, P_REGISTRY_WRITE, &r->err);
    if (rc) return rc;
    json_t *d = talent_form_page(r, web_t(r, "registry.talents.new_title"), "/registry/talents",
                                 "/registry/talents");
    if (r->who.scope == SCOPE_EMPLOYER) web_field(d, "employer", r->who.scope_id);
    web_field(d, "owns_housing", "no");
    talent_fields(r, d, NULL);
    return web_render(r, 200, "record_form", d);
}

int web_talent_create(http_req *r)
{
    struct talent_input in = {0};
    talent_form_input(r, &in, 0);
    reg_report rep;
    int64_t id = 0;
    ql_err err = {0};
    int rc = registry_talent_create(r->db, &r->who, &in, &id, &rep, &err);
    if (rc) {
        if (!web_form_can_show(rc)) {
            r->err = err;
            return rc;
        }
        json_t *d = talent_form_page(r, web_t(r, "registry.talents.new_title"),
                                     "/registry/talents", "/registry/talents");
        keep_typed(r, d);
        int status = web_report_errors(r, d, rc, &rep, &err);
        talent_fields(r, d, NULL);
        return web_render(r, status, "record_form", d);
    }
    json_t *d = web_page(r, "", AREA_TALENTS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.talents.created")));
    return render_talent(r, id, d, 201, NULL, NULL, &rep);
}

/* Loads the stored talent into the form fields. */
static void talent_stored_fields(json_t *d, const json_t *t)
{
    web_field(d, "name", web_str(t, "name"));
    web_field(d, "education", web_str(t, "education"));
    web_field(d, "graduation_date", web_str(t, "graduation_date"));
    web_field(d, "category", web_str(t, "category"));
    web_field(d, "level", web_str(t, "level"));
    const json_t *e = json_object_get(t, "employer");
    web_field(d, "employer", json_is_object(e) ? web_str(e, "credit_code") : "");
    web_field(d, "employed_since", web_str(t, "employed_since"));
    char months[24];
    snprintf(months, sizeof months, "%lld",
             (long long)json_integer_value(json_object_get(t, "insurance_months")));
    web_field(d, "insurance_months", months);
    web_field(d, "owns_housing", json_is_true(json_object_get(t, "owns_housing")) ? "yes" : "no");
    web_field(d, "owns_housing_since", web_str(t, "owns_housing_since"));
}

int web_talent_edit(http_req *r)
{
    int64_t id;
    json_t *t;
    int rc = api_path_id(r, &id);
    if (!rc) rc = actor_require(&r->who, P_REGISTRY_WRITE, &r->err);
    if (!rc) rc = registry_talent_get(r->db, &r->who, id, &t, &r->err);
    if (rc) return rc;
    json_t *d = talent_form_page(r, web_t(r, "registry.talents.edit_title"),
                                 arena_printf(r->arena, "/registry/talents/%lld", (long long)id),
                                 arena_printf(r->arena, "/registry/talents/%lld", (long long)id));
    talent_stored_fields(d, t);
    talent_fields(r, d, t);
    json_decref(t);
    return web_render(r, 200, "record_form", d);
}

int web_talent_update(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct talent_input in = {0};
    talent_form_input(r, &in, 1);
    reg_report rep;
    ql_err err = {0};
    rc = registry_talent_update(r->db, &r->who, id, &in, &rep, &err);
    if (rc) {
        json_t *t;
        /* a name, ID number or card sent changed: refused at its field */
        int show = web_form_can_show(rc) || (rc == QL_EFORBIDDEN && rep.errors.n);
        if (!show || registry_talent_get(r->db, &r->who, id, &t, &r->err) != 0) {
            if (!show) r->err = err;
            return show ? QL_ENOTFOUND : rc;
        }
        const char *self = arena_printf(r->arena, "/registry/talents/%lld", (long long)id);
        json_t *d = talent_form_page(r, web_t(r, "registry.talents.edit_title"), self, self);
        keep_typed(r, d);
        int status = rc == QL_EFORBIDDEN ? (web_report_errors(r, d, rc, &rep, &err), 403)
                                         : web_report_errors(r, d, rc, &rep, &err);
        talent_fields(r, d, t);
        json_decref(t);
        return web_render(r, status, "record_form", d);
    }
    json_t *d = web_page(r, "", AREA_TALENTS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.talents.updated")));
    return render_talent(r, id, d, 200, NULL, NULL, &rep);
}

/* ---- talents: export -------------------------------------------------- */

int web_talents_export(http_req *r)
{
    return api_talents_export(r);
}

/* The unmasked export: the filters come back as hidden form fields. */
int web_talents_export_unmasked(http_req *r)
{
    struct talent_filter f = {.q = http_form(r, "q"),
                              .education = http_form(r, "education"),
                              .level = http_form(r, "level"),
                              .sort = http_form(r, "sort"),
                              .page = 1,
                              .per_page = 1,
                              .unmask = 1};
    const char *emp = http_form(r, "employer_id");
    if (emp && *emp) {
        char *end;
        long long v = strtoll(emp, &end, 10);
        if (*end || v < 0)
            return ql_errf(&r->err, QL_EINVAL, "employer_id", "employer_id must be a number",
                           "employer_id 必须是数字");
        f.employer_id = v;
    }
    enum export_format fmt;
    int rc = api_export_format(r, http_form(r, "format"), &fmt);
    if (rc) return rc;
    return api_send_export(r, IMPORT_TALENTS, &f, NULL, http_form(r, "reason"), fmt);
}

/* ---- employers -------------------------------------------------------- */

static void decorate_employer(http_req *r, json_t *e)
{
    json_object_set_new(e, "industry_text",
                        json_string(web_code_text(r, "industry", web_str(e, "industry"))));
    json_object_set_new(e, "registered_text", json_string(yes_no(r, json_object_get(e, "registered"))));
    json_object_set_new(e, "taxed_text", json_string(yes_no(r, json_object_get(e, "taxed"))));
    json_object_set_new(e, "key_enterprise_text",
                        json_string(yes_no(r, json_object_get(e, "key_enterprise"))));
}

static const char *const employer_keys[] = {"q", "industry", "sort"};

int web_employers(http_req *r)
{
    struct employer_filter f = {.q = http_query(r, "q"),
                                .industry = http_query(r, "industry"),
                                .sort = http_query(r, "sort"),
                                .per_page = PER_PAGE};
    int rc = api_query_int(r, "page", 1, 1, 1000000, &f.page);
    json_t *rows;
    int64_t total;
    if (!rc) rc = registry_employer_list(r->db, &r->who, &f, &rows, &total, &r->err);
    if (rc) return rc;
    size_t i;
    json_t *e;
    json_array_foreach(rows, i, e) { decorate_employer(r, e); }
    json_t *d = web_page(r, web_t(r, "registry.employers.title"), AREA_EMPLOYERS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "registry.employers.title"));
    json_object_set_new(d, "employers", rows);
    json_object_set_new(d, "f", json_pack("{s:s}", "q", f.q ? f.q : ""));
    json_object_set_new(d, "industry_options",
                        web_options(r, "industry", industries, COUNT(industries), f.industry,
                                web_t(r, "common.all")));
    json_t *so = json_array();
    int newest = f.sort && !strcmp(f.sort, "-created");
    json_array_append_new(so, json_pack("{s:s, s:s, s:b}", "value", "name", "label",
                                        web_t(r, "registry.employers.sort_name"), "selected", !newest));
    json_array_append_new(so, json_pack("{s:s, s:s, s:b}", "value", "-created", "label",
                                        web_t(r, "registry.employers.sort_newest"), "selected", newest));
    json_object_set_new(d, "sort_options", so);
    const char *keep = web_keep_query(r, employer_keys, COUNT(employer_keys), NULL);
    web_export_links(d, "/registry/employers/export", keep, 0);
    json_object_set_new(d, "can_write", json_boolean(actor_can(&r->who, P_REGISTRY_WRITE) &&
                                                     (r->who.scope == SCOPE_DISTRICT ||
                                                      r->who.scope == SCOPE_DEPARTMENT)));
    web_pager(r, d, "/registry/employers", keep, f.page, PER_PAGE, total);
    web_results_text(r, d, total);
    return web_render(r, 200, "employers", d);
}

static int render_employer(http_req *r, int64_t id, json_t *page_in, int status)
{
    json_t *e;
    int rc = registry_employer_get(r->db, &r->who, id, &e, &r->err);
    if (rc) {
        json_decref(page_in);
        return rc;
    }
    json_t *d = page_in ? page_in : web_page(r, "", AREA_EMPLOYERS);
    json_object_set_new(d, "title", json_string(web_str(e, "name")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/employers", web_t(r, "registry.employers.title"));
    web_crumb(d, NULL, web_str(e, "name"));
    decorate_employer(r, e);
    static const char *const copy[] = {"industry_text", "registered_text", "taxed_text",
                                       "key_enterprise_text"};
    for (size_t i = 0; i < COUNT(copy); i++)
        json_object_set(d, copy[i], json_object_get(e, copy[i]));
    json_object_set_new(d, "created_at_text", web_time(json_object_get(e, "created_at")));
    json_object_set_new(d, "updated_at_text", web_time(json_object_get(e, "updated_at")));
    json_object_set_new(d, "employer", e);
    json_object_set_new(d, "can_write", json_boolean(actor_can(&r->who, P_REGISTRY_WRITE) &&
                                                     (r->who.scope == SCOPE_DISTRICT ||
                                                      r->who.scope == SCOPE_DEPARTMENT)));
    json_t *history;
    rc = registry_history(r->db, &r->who, "employer", id, &history, &r->err);
    if (rc) {
        json_decref(d);
        return rc;
    }
    web_history(r, d, history, "field");
    return web_render(r, status, "employer", d);
}

int web_employer(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_employer(r, id, NULL, 200);
}

static const char *const employer_form_names[] = {"credit_code", "name",  "industry",
                                                  "registered",  "taxed", "key_enterprise"};

static void employer_fields(http_req *r, json_t *d)
{
    const struct fdef defs[] = {
        {"credit_code", "registry.field.credit_code", 1, "text",
         web_t(r, "registry.hint.credit_code"), NULL, NULL, 1, 0},
        {"name", "registry.field.employer_title", 1, "text", NULL, NULL, NULL, 1, 0},
        {"industry", "registry.field.industry", 1, NULL, NULL, NULL,
         web_options(r, "industry", industries, COUNT(industries), NULL, NULL), 0, 0},
        {"registered", "registry.field.registered", 0, NULL, NULL, NULL,
         web_options(r, NULL, yes_no_values, COUNT(yes_no_values), NULL, NULL), 0, 0},
        {"taxed", "registry.field.taxed", 0, NULL, NULL, NULL,
         web_options(r, NULL, yes_no_values, COUNT(yes_no_values), NULL, NULL), 0, 0},
        {"key_enterprise", "registry.field.key_enterprise", 0, NULL, NULL, NULL,
         web_options(r, NULL, yes_no_values, COUNT(yes_no_values), NULL, NULL), 0, 0},
    };
    for (size_t i = 3; i < COUNT(defs); i++) {
        json_object_set_new(json_array_get(defs[i].options, 0), "label",
                            json_string(web_t(r, "common.no")));
        json_object_set_new(json_array_get(defs[i].options, 1), "label",
                            json_string(web_t(r, "common.yes")));
    }
    for (size_t i = 0; i < COUNT(defs); i++) web_add_field(r, d, &defs[i]);
}

static json_t *employer_form_page(http_req *r, const char *title, const char *action,
                                  const char *cancel)
{
    json_t *d = web_page(r, title, AREA_EMPLOYERS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/employers", web_t(r, "registry.employers.title"));
    web_crumb(d, NULL, title);
    json_object_set_new(d, "heading", json_string(title));
    json_object_set_new(d, "action", json_string(action));
    json_object_set_new(d, "cancel", json_string(cancel));
    return d;
}

static void employer_form_input(http_req *r, struct employer_input *in)
{
    const char **slots[] = {&in->credit_code, &in->name,  &in->industry,
                            &in->registered,  &in->taxed, &in->key_enterprise};
    for (size_t i = 0; i < COUNT(employer_form_names); i++) {
        const char *v = http_form(r, employer_form_names[i]);
        *slots[i] = v ? v : "";
    }
}

int web_employer_new(http_req *r)
{
    int rc = actor_require(&r->who, P_REGISTRY_WRITE, &r->err);
    if (rc) return rc;
    json_t *d = employer_form_page(r, web_t(r, "registry.employers.new_title"),
                                   "/registry/employers", "/registry/employers");
    employer_fields(r, d);
    return web_render(r, 200, "record_form", d);
}

static int employer_form_failed(http_req *r, int rc, const reg_report *rep, const ql_err *err,
                                const char *title, const char *action, const char *cancel)
{
    if (!web_form_can_show(rc)) {
        r->err = *err;
        return rc;
    }
    json_t *d = employer_form_page(r, title, action, cancel);
    for (size_t i = 0; i < COUNT(employer_form_names); i++)
        web_field(d, employer_form_names[i], http_form(r, employer_form_names[i]));
    int status = web_report_errors(r, d, rc, rep, err);
    employer_fields(r, d);
    return web_render(r, status, "record_form", d);
}

int web_employer_create(http_req *r)
{
    struct employer_input in = {0};
    employer_form_input(r, &in);
    reg_report rep;
    int64_t id = 0;
    ql_err err = {0};
    int rc = registry_employer_create(r->db, &r->who, &in, &id, &rep, &err);
    if (rc)
        return employer_form_failed(r, rc, &rep, &err, web_t(r, "registry.employers.new_title"),
                                    "/registry/employers", "/registry/employers");
    json_t *d = web_page(r, "", AREA_EMPLOYERS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.employers.created")));
    return render_employer(r, id, d, 201);
}

int web_employer_edit(http_req *r)
{
    int64_t id;
    json_t *e;
    int rc = api_path_id(r, &id);
    if (!rc) rc = actor_require(&r->who, P_REGISTRY_WRITE, &r->err);
    if (!rc) rc = registry_employer_get(r->db, &r->who, id, &e, &r->err);
    if (rc) return rc;
    const char *self = arena_printf(r->arena, "/registry/employers/%lld", (long long)id);
    json_t *d = employer_form_page(r, web_t(r, "registry.employers.edit_title"), self, self);
    web_field(d, "credit_code", web_str(e, "credit_code"));
    web_field(d, "name", web_str(e, "name"));
    web_field(d, "industry", web_str(e, "industry"));
    web_field(d, "registered", json_is_true(json_object_get(e, "registered")) ? "yes" : "no");
    web_field(d, "taxed", json_is_true(json_object_get(e, "taxed")) ? "yes" : "no");
    web_field(d, "key_enterprise", json_is_true(json_object_get(e, "key_enterprise")) ? "yes" : "no");
    json_decref(e);
    employer_fields(r, d);
    return web_render(r, 200, "record_form", d);
}

int web_employer_update(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct employer_input in = {0};
    employer_form_input(r, &in);
    reg_report rep;
    ql_err err = {0};
    rc = registry_employer_update(r->db, &r->who, id, &in, &rep, &err);
    if (rc) {
        const char *self = arena_printf(r->arena, "/registry/employers/%lld", (long long)id);
        return employer_form_failed(r, rc, &rep, &err, web_t(r, "registry.employers.edit_title"),
                                    self, self);
    }
    json_t *d = web_page(r, "", AREA_EMPLOYERS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.employers.updated")));
    return render_employer(r, id, d, 200);
}

int web_employers_export(http_req *r)
{
    return api_employers_export(r);
}

/* ---- import ----------------------------------------------------------- */

static int can_import_employers(const http_req *r)
{
    return r->who.scope == SCOPE_DISTRICT || r->who.scope == SCOPE_DEPARTMENT;
}

/* The rows of an import report's problem or warning list, for the page:
 * row, column, message in the page's language. */
static json_t *import_rows(http_req *r, const json_t *from)
{
    json_t *list = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(from, i, p)
    {
        json_array_append_new(
            list, json_pack("{s:O, s:s, s:s}", "row", json_object_get(p, "row"), "column",
                            web_str(p, "column"),
                            "message", web_str(p, r->lang == LANG_EN ? "message_en" : "message_zh")));
    }
    return list;
}

static json_t *import_page(http_req *r, const char *title, const char *kind)
{
    json_t *d = web_page(r, title, AREA_IMPORT);
    web_crumb(d, "/", web_t(r, "nav.home"));
    if (strcmp(title, web_t(r, "registry.import.title")) != 0) {
        web_crumb(d, "/registry/import", web_t(r, "registry.import.title"));
    }
    web_crumb(d, NULL, title);
    json_t *ko = json_array();
    json_array_append_new(ko, json_pack("{s:s, s:s, s:b}", "value", "talents", "label",
                                        web_t(r, "registry.import.kind_talents"), "selected",
                                        strcmp(kind, "employers") != 0));
    if (can_import_employers(r))
        json_array_append_new(ko, json_pack("{s:s, s:s, s:b}", "value", "employers", "label",
                                            web_t(r, "registry.import.kind_employers"),
                                            "selected", strcmp(kind, "employers") == 0));
    json_object_set_new(d, "kind_options", ko);
    json_object_set_new(d, "can_employers", json_boolean(can_import_employers(r)));
    return d;
}

int web_import_form(http_req *r)
{
    int rc = actor_require(&r->who, P_REGISTRY_WRITE, &r->err);
    if (rc) return rc;
    return web_render(r, 200, "import", import_page(r, web_t(r, "registry.import.title"), "talents"));
}

static const char *encoding_text(enum csv_encoding e)
{
    return e == CSV_GB18030 ? "GBK / GB18030" : e == CSV_UTF8_BOM ? "UTF-8 (BOM)" : "UTF-8";
}

static const char *num(http_req *r, int64_t v)
{
    return arena_printf(r->arena, "%lld", (long long)v);
}

/* Runs the import of data (a dry run unless commit) and shows the result;
 * on a clean dry run, keeps the file for the confirmation. */
/* An import reads, checks and seals every row (and stores them): seconds
 * for a large file, so it runs on the server's pool, and the page is made
 * back on the worker. */
struct import_job {
    enum import_kind kind;
    const char *name;
    const void *data;
    size_t len;
    int commit;
    void *owned; /* data to wipe and free when done (a kept upload), or NULL */
    const actor *who;
    struct import_report rep;
    ql_err err;
};

static int import_work(store *s, void *arg)
{
    struct import_job *j = arg;
    FILE *f = fmemopen((void *)j->data, j->len, "rb");
    if (!f) {
        memset(&j->rep, 0, sizeof j->rep);
        return ql_errf(&j->err, QL_EINTERNAL, NULL, "cannot read the upload",
                       "无法读取上传的文件");
    }
    int rc = registry_import(s, j->who, j->kind, f, j->name, j->commit, &j->rep, &j->err);
    fclose(f);
    return rc;
}

static int import_done(http_req *r, void *arg, int rc)
{
    struct import_job *j = arg;
    enum import_kind kind = j->kind;
    const char *name = j->name;
    const void *data = j->data;
    size_t len = j->len;
    int commit = j->commit;
    const char *kind_s = kind == IMPORT_TALENTS ? "talents" : "employers";
    struct import_report rep = j->rep;
    ql_err err = j->err;
    if (j->owned) {
        sodium_memzero(j->owned, j->len);
        free(j->owned);
        data = NULL;
    }
    if (rc == QL_EUNAVAIL) return rc; /* the server stopped before it ran */
    if (rc) {
        import_report_free(&rep);
        if (rc != QL_EINVAL) {
            r->err = err;
            return rc;
        }
        /* The file cannot be read as an import at all: back to the form. */
        json_t *d = import_page(r, web_t(r, "registry.import.title"), kind_s);
        ql_err fe = err;
        snprintf(fe.field, sizeof fe.field, "file");
        web_error(r, d, &fe);
        return web_render(r, 400, "import", d);
    }
    json_t *d = import_page(r, web_t(r, "registry.import.preview_title"), kind_s);
    json_object_set_new(d, "read_text",
                        json_string(web_tf(r, "registry.import.read", "file", name, "rows",
                                           num(r, rep.rows), "encoding",
                                           encoding_text(rep.encoding), (const char *)NULL)));
    int status = 200;
    if (rep.bad_rows) {
        status = 422;
        json_object_set_new(d, "bad_text",
                            json_string(web_tf(r, "registry.import.bad", "bad", num(r, rep.bad_rows),
                                               "problems", num(r, rep.problems),
                                               (const char *)NULL)));
        json_object_set_new(d, "problems", import_rows(r, rep.list));
        int64_t more = rep.problems - (int64_t)json_array_size(rep.list);
        if (more > 0)
            json_object_set_new(d, "more_text",
                                json_string(web_tf(r, "registry.import.more", "count", num(r, more),
                                                   (const char *)NULL)));
    } else if (!commit) {
        char token[UPLOAD_TOKEN_LEN + 1];
        if (uploads_put(r->who.user_id, kind_s, name, data, len, auth_now(), token) != 0) {
            import_report_free(&rep);
            return ql_errf(&r->err, QL_ETOOBIG, "file", "the file is too large to keep",
                           "文件过大，无法暂存");
        }
        json_object_set_new(d, "token", json_string(token));
        json_object_set_new(d, "good_text",
                            json_string(web_tf(r, "registry.import.good", "rows", num(r, rep.rows),
                                               (const char *)NULL)));
        json_object_set_new(d, "confirm_text",
                            json_string(web_tf(r, "registry.import.confirm", "rows",
                                               num(r, rep.rows), (const char *)NULL)));
        if (rep.warnings) {
            json_object_set_new(d, "warnings_text",
                                json_string(web_tf(r, "registry.import.warnings", "count",
                                                   num(r, rep.warnings), (const char *)NULL)));
            json_object_set_new(d, "warning_rows", import_rows(r, rep.warning_list));
        }
    } else {
        json_object_set_new(d, "done_text",
                            json_string(web_tf(r, "registry.import.done", "rows",
                                               num(r, rep.imported), (const char *)NULL)));
        json_object_set_new(d, "done_href", json_string(kind == IMPORT_TALENTS
                                                            ? "/registry/talents"
                                                            : "/registry/employers"));
        json_object_set_new(d, "done_link",
                            json_string(web_t(r, kind == IMPORT_TALENTS
                                                     ? "registry.talents.title"
                                                     : "registry.employers.title")));
    }
    import_report_free(&rep);
    return web_render(r, status, "import_result", d);
}

/* Runs an import of data (len bytes, named name) on the pool; owned (or
 * NULL) is freed once it has run. Returns what http_defer returns. */
static int import_run(http_req *r, enum import_kind kind, const char *name, const void *data,
                      size_t len, int commit, void *owned)
{
    struct import_job *j = arena_calloc(r->arena, 1, sizeof *j);
    j->kind = kind;
    j->name = arena_strdup(r->arena, name);
    j->data = data;
    j->len = len;
    j->commit = commit;
    j->owned = owned;
    j->who = &r->who;
    int rc = http_defer_bulk(r, import_work, import_done, j);
    if (rc < 0 && owned) {
        sodium_memzero(owned, len);
        free(owned);
    }
    return rc;
}

int web_import_check(http_req *r)
{
    const char *kind_s = http_form(r, "kind");
    enum import_kind kind;
    if (!kind_s || import_kind_parse(kind_s, &kind))
        return ql_errf(&r->err, QL_EINVAL, "kind", "choose talents or employers",
                       "请选择导入人才或用人单位");
    const struct multipart_part *file = http_file(r, "file");
    if (!file || !file->len) {
        json_t *d = import_page(r, web_t(r, "registry.import.title"), kind_s);
        ql_err e;
        ql_errf(&e, QL_EINVAL, "file", "file: choose the CSV file to upload",
                "file：请选择要上传的 CSV 文件");
        web_error(r, d, &e);
        return web_render(r, 400, "import", d);
    }
    const char *name = file->filename && *file->filename ? file->filename : "upload.csv";
    if (!http_clean_utf8((const unsigned char *)name, strlen(name))) name = "upload.csv";
    return import_run(r, kind, name, file->data, file->len, 0, NULL);
}

int web_import_commit(http_req *r)
{
    const char *token = http_param(r, "token");
    void *data = NULL;
    size_t len = 0;
    char kind_s[16], name[256];
    if (!token || uploads_take(r->who.user_id, token, auth_now(), &data, &len, kind_s,
                               sizeof kind_s, name, sizeof name) != 0) {
        json_t *d = import_page(r, web_t(r, "registry.import.title"), "talents");
        ql_err e;
        ql_errf(&e, QL_ENOTFOUND, "file", "%s", "%s", web_t(r, "registry.import.expired"));
        web_error(r, d, &e);
        return web_render(r, 410, "import", d);
    }
    enum import_kind kind;
    if (import_kind_parse(kind_s, &kind) != 0) {
        sodium_memzero(data, len);
        free(data);
        return ql_errf(&r->err, QL_EINVAL, "kind", "choose talents or employers",
                       "请选择导入人才或用人单位");
    }
    return import_run(r, kind, name, data, len, 1, data);
}

int web_import_template(http_req *r)
{
    return api_import_template(r);
}
