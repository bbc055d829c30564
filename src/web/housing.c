/* housing.c - the console's rental-housing pages: operators (住房租赁企业),
 * housing units (房源) and leases (租赁合同): lists with filters, detail
 * pages with their history, the forms that register and change them, and
 * ending a lease. Every page calls the registry service with the signed-in
 * account (registry/housing.h), so scope and permissions are the
 * service's; the pages only leave out the buttons an account cannot use. */
#include "web/web.h"

#include "api/api.h"
#include "registry/housing.h"
#include "web/forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_PAGE    20
#define CHOICES_MAX 200 /* a select offers at most this many records; past it, the code is typed */

static const char *const unit_statuses[] = {"draft", "listed", "leased", "withdrawn"};
static const char *const unit_kinds[] = {"talent_apartment", "affordable_rental", "market"};
static const char *const lease_statuses[] = {"active", "ended", "terminated"};
static const char *const filed_values[] = {"yes", "no"};

/* ---- who sees which buttons ------------------------------------------- */

static int scope_all(const http_req *r)
{
    return r->who.scope == SCOPE_DISTRICT || r->who.scope == SCOPE_DEPARTMENT;
}

/* Operator records are read by district staff and by an operator's own
 * accounts (its own record). */
static int sees_operators(const http_req *r)
{
    return scope_all(r) || r->who.scope == SCOPE_OPERATOR;
}

static int writes_operators(const http_req *r)
{
    return actor_can(&r->who, P_REGISTRY_WRITE) && scope_all(r);
}

static int manages_housing(const http_req *r)
{
    return actor_can(&r->who, P_HOUSING_MANAGE) && sees_operators(r);
}

static int forbidden_operators(http_req *r)
{
    return ql_errf(&r->err, QL_EFORBIDDEN, NULL,
                   "only district or department staff register and change operators",
                   "只有区级或部门工作人员可以登记和修改住房租赁企业");
}

/* ---- small helpers ---------------------------------------------------- */

static const char *num(http_req *r, int64_t v)
{
    return arena_printf(r->arena, "%lld", (long long)v);
}

/* "2 室", or "开间" for a studio. */
static const char *rooms_text(http_req *r, int64_t rooms)
{
    if (rooms == 0) return web_t(r, "registry.units.studio");
    return web_tf(r, "registry.units.rooms_text", "n", num(r, rooms), (const char *)NULL);
}

/* Sort options: values with the strings at labels, the current one selected
 * (the first when sort is empty). */
static json_t *sort_options(http_req *r, const char *const *values, const char *const *labels,
                            size_t n, const char *sort)
{
    json_t *so = json_array();
    const char *cur = sort && *sort ? sort : values[0];
    for (size_t k = 0; k < n; k++)
        json_array_append_new(so, json_pack("{s:s, s:s, s:b}", "value", values[k], "label",
                                            web_t(r, labels[k]), "selected",
                                            strcmp(cur, values[k]) == 0));
    return so;
}

/* A list whose filters the service refused (a rent typed as "abc", a
 * status that does not exist): the error beside the filters and no rows.
 * The error stays inside the results region, which htmx swaps; htmx swaps
 * only 2xx answers, so a request from it gets 200, a page load 400. */
static int list_refused(http_req *r, json_t *d, const ql_err *e)
{
    const char *msg = r->lang == LANG_EN ? e->en : e->zh;
    if (!msg[0]) msg = r->lang == LANG_EN ? ql_err_default_en(e->code) : ql_err_default_zh(e->code);
    json_t *fe = json_pack("{s:s}", "message", msg);
    if (e->field[0]) {
        json_object_set_new(fe, "field", json_string(e->field));
        json_object_set_new(json_object_get(d, "fields"), e->field,
                            json_pack("{s:s}", "error", msg));
    }
    json_object_set_new(d, "filter_error", fe);
    return http_header(r, "HX-Request") ? 200 : 400;
}

/* A chip naming a filter that came from a link ("房源：…  显示全部"). */
static void add_chip(http_req *r, json_t *d, const char *text, const char *clear_href,
                     const char *name, int64_t value)
{
    json_t *chips = json_object_get(d, "chips");
    if (!chips) {
        chips = json_array();
        json_object_set_new(d, "chips", chips);
    }
    json_array_append_new(chips, json_pack("{s:s, s:s, s:s, s:s}", "text", text, "clear",
                                           clear_href, "name", name, "value", num(r, value)));
}

/* Operators as select options, the value being the code (by_id 0) or the
 * id; NULL when there are more than CHOICES_MAX (then the code is typed). */
static json_t *operator_choices(http_req *r, int by_id, const char *selected,
                                const char *first_label)
{
    struct operator_filter f = {.sort = "name", .page = 1, .per_page = CHOICES_MAX};
    json_t *rows;
    int64_t total;
    ql_err err = {0};
    if (registry_operator_list(r->db, &r->who, &f, &rows, &total, &err) != 0) return NULL;
    if (total > CHOICES_MAX) {
        json_decref(rows);
        return NULL;
    }
    json_t *list = json_array();
    if (!selected) selected = "";
    if (first_label)
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", "", "label", first_label,
                                              "selected", !selected[0]));
    size_t i;
    json_t *o;
    json_array_foreach(rows, i, o)
    {
        const char *value = by_id ? num(r, json_integer_value(json_object_get(o, "id")))
                                  : web_str(o, "code");
        const char *label =
            arena_printf(r->arena, "%s（%s）", web_str(o, "name"), web_str(o, "code"));
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", value, "label", label,
                                              "selected", strcmp(value, selected) == 0));
    }
    json_decref(rows);
    return list;
}

/* ====================================================================== */
/* operators                                                              */
/* ====================================================================== */

static const char *const operator_keys[] = {"q", "sort"};

int web_operators(http_req *r)
{
    struct operator_filter f;
    int rc = api_operator_filter(r, &f);
    if (rc) return rc;
    f.per_page = PER_PAGE;
    json_t *d = web_page(r, web_t(r, "registry.operators.title"), AREA_OPERATORS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "registry.operators.title"));
    json_t *rows = NULL;
    int64_t total = 0;
    ql_err err = {0};
    int status = 200;
    rc = registry_operator_list(r->db, &r->who, &f, &rows, &total, &err);
    if (rc == QL_EINVAL) {
        status = list_refused(r, d, &err);
        rows = json_array();
    } else if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    size_t i;
    json_t *o;
    json_array_foreach(rows, i, o)
    {
        json_object_set_new(o, "created_at_text", web_time(json_object_get(o, "created_at")));
    }
    json_object_set_new(d, "operators", rows);
    json_object_set_new(d, "f", json_pack("{s:s}", "q", f.q ? f.q : ""));
    static const char *const sorts[] = {"name", "code", "-created"};
    static const char *const labels[] = {"registry.operators.sort_name",
                                         "registry.operators.sort_code",
                                         "registry.operators.sort_newest"};
    json_object_set_new(d, "sort_options", sort_options(r, sorts, labels, COUNT(sorts), f.sort));
    const char *keep = web_keep_query(r, operator_keys, COUNT(operator_keys), NULL);
    web_export_links(d, "/registry/operators/export", keep, 0);
    json_object_set_new(d, "can_write", json_boolean(writes_operators(r)));
    web_pager(r, d, "/registry/operators", keep, f.page, PER_PAGE, total);
    web_results_text(r, d, total);
    return web_render(r, status, "operators", d);
}

static int render_operator(http_req *r, int64_t id, json_t *page_in, int status)
{
    json_t *o;
    int rc = registry_operator_get(r->db, &r->who, id, &o, &r->err);
    if (rc) {
        json_decref(page_in);
        return rc;
    }
    json_t *d = page_in ? page_in : web_page(r, "", AREA_OPERATORS);
    json_object_set_new(d, "title", json_string(web_str(o, "name")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/operators", web_t(r, "registry.operators.title"));
    web_crumb(d, NULL, web_str(o, "name"));
    /* Units by status, each a link to the list filtered by it. */
    json_t *by = json_array();
    const json_t *counts = json_object_get(o, "units_by_status");
    for (size_t i = 0; i < COUNT(unit_statuses); i++)
        json_array_append_new(
            by, json_pack("{s:s, s:I, s:s}", "label",
                          web_code_text(r, "unit_status", unit_statuses[i]), "count",
                          (json_int_t)json_integer_value(json_object_get(counts, unit_statuses[i])),
                          "href",
                          arena_printf(r->arena, "/registry/units?operator_id=%lld&status=%s",
                                       (long long)id, unit_statuses[i])));
    json_object_set_new(d, "units_by_status", by);
    json_object_set_new(d, "created_at_text", web_time(json_object_get(o, "created_at")));
    json_object_set_new(d, "updated_at_text", web_time(json_object_get(o, "updated_at")));
    json_object_set_new(d, "operator", o);
    json_object_set_new(d, "can_write", json_boolean(writes_operators(r)));
    json_object_set_new(d, "can_add_unit", json_boolean(manages_housing(r)));
    json_t *history;
    rc = registry_history(r->db, &r->who, "operator", id, &history, &r->err);
    if (rc) {
        json_decref(d);
        return rc;
    }
    web_history(r, d, history, "operator_field");
    return web_render(r, status, "operator", d);
}

int web_operator(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_operator(r, id, NULL, 200);
}

static const char *const operator_form_names[] = {"code", "name", "credit_code", "contact_name",
                                                  "contact_phone"};

static void operator_fields(http_req *r, json_t *d, int editing)
{
    const struct fdef defs[] = {
        {.name = "code",
         .label = "registry.operator_field.code",
         .required = 1,
         .hint = web_t(r, editing ? "registry.hint.operator_code_fixed"
                                  : "registry.hint.operator_code"),
         .readonly = editing},
        {.name = "name", .label = "registry.operator_field.name", .required = 1, .wide = 1},
        {.name = "credit_code",
         .label = "registry.operator_field.credit_code",
         .required = 1,
         .hint = web_t(r, "registry.hint.credit_code"),
         .wide = 1},
        {.name = "contact_name", .label = "registry.operator_field.contact_name"},
        {.name = "contact_phone",
         .label = "registry.operator_field.contact_phone",
         .type = "tel",
         .hint = web_t(r, "registry.hint.contact_phone")},
    };
    for (size_t i = 0; i < COUNT(defs); i++) web_add_field(r, d, &defs[i]);
}

static json_t *operator_form_page(http_req *r, const char *title, const char *action)
{
    json_t *d = web_page(r, title, AREA_OPERATORS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/operators", web_t(r, "registry.operators.title"));
    web_crumb(d, NULL, title);
    json_object_set_new(d, "heading", json_string(title));
    json_object_set_new(d, "action", json_string(action));
    json_object_set_new(d, "cancel", json_string(action));
    return d;
}

static void operator_form_input(http_req *r, struct operator_input *in)
{
    const char **slots[] = {&in->code, &in->name, &in->credit_code, &in->contact_name,
                            &in->contact_phone};
    for (size_t i = 0; i < COUNT(operator_form_names); i++) {
        const char *v = http_form(r, operator_form_names[i]);
        *slots[i] = v ? v : "";
    }
}

static int operator_form_failed(http_req *r, int rc, const reg_report *rep, const ql_err *err,
                                const char *title, const char *action, int editing)
{
    if (!web_form_can_show(rc)) {
        r->err = *err;
        return rc;
    }
    json_t *d = operator_form_page(r, title, action);
    for (size_t i = 0; i < COUNT(operator_form_names); i++)
        web_field(d, operator_form_names[i], http_form(r, operator_form_names[i]));
    int status = web_report_errors(r, d, rc, rep, err);
    operator_fields(r, d, editing);
    return web_render(r, status, "record_form", d);
}

int web_operator_new(http_req *r)
{
    if (!writes_operators(r)) return forbidden_operators(r);
    json_t *d = operator_form_page(r, web_t(r, "registry.operators.new_title"), "/registry/operators");
    operator_fields(r, d, 0);
    return web_render(r, 200, "record_form", d);
}

int web_operator_create(http_req *r)
{
    struct operator_input in = {0};
    operator_form_input(r, &in);
    reg_report rep;
    int64_t id = 0;
    ql_err err = {0};
    int rc = registry_operator_create(r->db, &r->who, &in, &id, &rep, &err);
    if (rc)
        return operator_form_failed(r, rc, &rep, &err, web_t(r, "registry.operators.new_title"),
                                    "/registry/operators", 0);
    json_t *d = web_page(r, "", AREA_OPERATORS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.operators.created")));
    return render_operator(r, id, d, 201);
}

int web_operator_edit(http_req *r)
{
    int64_t id;
    json_t *o;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    if (!writes_operators(r)) return forbidden_operators(r);
    rc = registry_operator_get(r->db, &r->who, id, &o, &r->err);
    if (rc) return rc;
    const char *self = arena_printf(r->arena, "/registry/operators/%lld", (long long)id);
    json_t *d = operator_form_page(r, web_t(r, "registry.operators.edit_title"), self);
    for (size_t i = 0; i < COUNT(operator_form_names); i++)
        web_field(d, operator_form_names[i], web_str(o, operator_form_names[i]));
    json_decref(o);
    operator_fields(r, d, 1);
    return web_render(r, 200, "record_form", d);
}

int web_operator_update(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct operator_input in = {0};
    operator_form_input(r, &in);
    reg_report rep;
    ql_err err = {0};
    rc = registry_operator_update(r->db, &r->who, id, &in, &rep, &err);
    if (rc) {
        const char *self = arena_printf(r->arena, "/registry/operators/%lld", (long long)id);
        return operator_form_failed(r, rc, &rep, &err, web_t(r, "registry.operators.edit_title"),
                                    self, 1);
    }
    json_t *d = web_page(r, "", AREA_OPERATORS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.operators.updated")));
    return render_operator(r, id, d, 200);
}

/* ====================================================================== */
/* housing units                                                          */
/* ====================================================================== */

/* Display texts of a unit row: kind, status, rooms. */
static void decorate_unit(http_req *r, json_t *u)
{
    json_object_set_new(u, "kind_text", json_string(web_code_text(r, "unit_kind", web_str(u, "kind"))));
    json_object_set_new(u, "status_text",
                        json_string(web_code_text(r, "unit_status", web_str(u, "status"))));
    json_object_set_new(u, "rooms_text",
                        json_string(rooms_text(r, json_integer_value(json_object_get(u, "rooms")))));
}

static const char *const unit_keys[] = {"q",        "status",   "kind",     "district", "operator_id",
                                        "rooms_min", "rent_min", "rent_max", "sort"};

int web_units(http_req *r)
{
    struct unit_filter f;
    int rc = api_unit_filter(r, &f);
    if (rc) return rc;
    f.per_page = PER_PAGE;
    json_t *d = web_page(r, web_t(r, "registry.units.title"), AREA_UNITS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "registry.units.title"));
    json_t *rows = NULL;
    int64_t total = 0;
    ql_err err = {0};
    int status = 200;
    rc = registry_unit_list(r->db, &r->who, &f, &rows, &total, &err);
    if (rc == QL_EINVAL) {
        status = list_refused(r, d, &err);
        rows = json_array();
    } else if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    size_t i;
    json_t *u;
    json_array_foreach(rows, i, u) { decorate_unit(r, u); }
    json_object_set_new(d, "units", rows);
    json_object_set_new(d, "f", json_pack("{s:s, s:s, s:s, s:s}", "q", f.q ? f.q : "", "district",
                                          f.district ? f.district : "", "rent_min",
                                          f.rent_min ? f.rent_min : "", "rent_max",
                                          f.rent_max ? f.rent_max : ""));
    json_object_set_new(d, "status_options",
                        web_options(r, "unit_status", unit_statuses, COUNT(unit_statuses), f.status,
                                    web_t(r, "common.all")));
    json_object_set_new(d, "kind_options", web_options(r, "unit_kind", unit_kinds, COUNT(unit_kinds),
                                                       f.kind, web_t(r, "common.all")));
    /* Rooms: any, or at least 1 to 4. */
    json_t *ro = json_array();
    json_array_append_new(ro, json_pack("{s:s, s:s, s:b}", "value", "", "label",
                                        web_t(r, "common.all"), "selected", f.rooms_min == 0));
    for (int64_t k = 1; k <= 4; k++)
        json_array_append_new(
            ro, json_pack("{s:s, s:s, s:b}", "value", num(r, k), "label",
                          web_tf(r, "registry.units.rooms_at_least", "n", num(r, k),
                                 (const char *)NULL),
                          "selected", f.rooms_min == k));
    json_object_set_new(d, "rooms_options", ro);
    /* The operator: a select for district staff (when the operators are
     * few enough), or the chip of a link from an operator's page. */
    json_t *ops = scope_all(r) ? operator_choices(r, 1, f.operator_id ? num(r, f.operator_id) : "",
                                                  web_t(r, "common.all"))
                               : NULL;
    if (ops) {
        json_object_set_new(d, "operator_options", ops);
        json_object_set_new(d, "has_operator_filter", json_true());
    } else if (f.operator_id) {
        json_t *o;
        const char *name = num(r, f.operator_id);
        ql_err ignore = {0};
        if (registry_operator_get(r->db, &r->who, f.operator_id, &o, &ignore) == 0) {
            name = arena_strdup(r->arena, web_str(o, "name"));
            json_decref(o);
        }
        add_chip(r, d,
                 web_tf(r, "registry.units.operator_filter", "name", name, (const char *)NULL),
                 "/registry/units", "operator_id", f.operator_id);
    }
    static const char *const sorts[] = {"-id", "id", "rent", "-rent", "area", "-area", "address"};
    static const char *const labels[] = {
        "registry.units.sort_newest", "registry.units.sort_oldest", "registry.units.sort_rent",
        "registry.units.sort_rent_desc", "registry.units.sort_area", "registry.units.sort_area_desc",
        "registry.units.sort_address"};
    json_object_set_new(d, "sort_options", sort_options(r, sorts, labels, COUNT(sorts), f.sort));
    const char *keep = web_keep_query(r, unit_keys, COUNT(unit_keys), NULL);
    web_export_links(d, "/registry/units/export", keep, 0);
    json_object_set_new(d, "can_manage", json_boolean(manages_housing(r)));
    json_object_set_new(d, "sees_operators", json_boolean(sees_operators(r)));
    web_pager(r, d, "/registry/units", keep, f.page, PER_PAGE, total);
    web_results_text(r, d, total);
    return web_render(r, status, "units", d);
}

static int render_unit(http_req *r, int64_t id, json_t *page_in, int status)
{
    json_t *u;
    int rc = registry_unit_get(r->db, &r->who, id, &u, &r->err);
    if (rc) {
        json_decref(page_in);
        return rc;
    }
    json_t *d = page_in ? page_in : web_page(r, "", AREA_UNITS);
    json_object_set_new(d, "title", json_string(web_str(u, "address")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/units", web_t(r, "registry.units.title"));
    web_crumb(d, NULL, web_str(u, "address"));
    decorate_unit(r, u);
    json_t *leases = json_object_get(u, "leases");
    if (leases) {
        size_t i;
        json_t *l;
        json_array_foreach(leases, i, l)
        {
            json_object_set_new(l, "status_text",
                                json_string(web_code_text(r, "lease_status", web_str(l, "status"))));
        }
        json_object_set_new(d, "sees_leases", json_true());
        json_object_set_new(d, "has_leases", json_boolean(json_array_size(leases) > 0));
    }
    const char *st = web_str(u, "status");
    int manage = manages_housing(r);
    json_object_set_new(d, "created_at_text", web_time(json_object_get(u, "created_at")));
    json_object_set_new(d, "updated_at_text", web_time(json_object_get(u, "updated_at")));
    json_object_set_new(d, "unit", u);
    json_object_set_new(d, "can_manage", json_boolean(manage));
    json_object_set_new(d, "can_lease", json_boolean(manage && (!strcmp(st, "listed") ||
                                                                !strcmp(st, "leased"))));
    json_object_set_new(d, "sees_operators", json_boolean(sees_operators(r)));
    json_t *history;
    rc = registry_history(r->db, &r->who, "unit", id, &history, &r->err);
    if (rc) {
        json_decref(d);
        return rc;
    }
    web_history(r, d, history, "unit_field");
    return web_render(r, status, "unit", d);
}

int web_unit(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_unit(r, id, NULL, 200);
}

static const char *const unit_form_names[] = {"operator", "address", "district",
                                              "community", "area",    "rooms",
                                              "rent",     "kind",    "verification_code",
                                              "status"};

/* The unit form. District staff name the operator (a select, or its code
 * when there are many); an operator's account registers its own units and
 * is not asked. The status "leased" is offered only to a unit that has it. */
static void unit_fields(http_req *r, json_t *d, int leased)
{
    const char *op_value = web_str(json_object_get(json_object_get(d, "fields"), "operator"), "value");
    json_t *ops = scope_all(r) ? operator_choices(r, 0, op_value,
                                                  web_t(r, "registry.units.operator_choose"))
                               : NULL;
    static const char *const settable[] = {"draft", "listed", "withdrawn"};
    static const char *const all[] = {"draft", "listed", "withdrawn", "leased"};
    const struct fdef defs[] = {
        {.name = "operator",
         .label = "registry.unit_field.operator",
         .required = 1,
         .type = ops ? NULL : "text",
         .hint = ops ? NULL : web_t(r, "registry.hint.unit_operator"),
         .options = ops},
        {.name = "address", .label = "registry.unit_field.address", .required = 1, .wide = 1},
        {.name = "district",
         .label = "registry.unit_field.district",
         .hint = web_t(r, "registry.hint.district")},
        {.name = "community", .label = "registry.unit_field.community", .wide = 1},
        {.name = "area",
         .label = "registry.unit_field.area",
         .required = 1,
         .hint = web_t(r, "registry.hint.area"),
         .inputmode = "decimal"},
        {.name = "rooms",
         .label = "registry.unit_field.rooms",
         .required = 1,
         .hint = web_t(r, "registry.hint.rooms"),
         .inputmode = "numeric"},
        {.name = "rent",
         .label = "registry.unit_field.rent",
         .required = 1,
         .hint = web_t(r, "registry.hint.money"),
         .inputmode = "decimal"},
        {.name = "kind",
         .label = "registry.unit_field.kind",
         .required = 1,
         .options = web_options(r, "unit_kind", unit_kinds, COUNT(unit_kinds), NULL, NULL)},
        {.name = "verification_code",
         .label = "registry.unit_field.verification_code",
         .hint = web_t(r, "registry.hint.verification_code")},
        {.name = "status",
         .label = "registry.unit_field.status",
         .required = 1,
         .hint = web_t(r, "registry.hint.unit_status"),
         .options = leased ? web_options(r, "unit_status", all, COUNT(all), NULL, NULL)
                           : web_options(r, "unit_status", settable, COUNT(settable), NULL, NULL)},
    };
    for (size_t i = scope_all(r) ? 0 : 1; i < COUNT(defs); i++) web_add_field(r, d, &defs[i]);
}

static json_t *unit_form_page(http_req *r, const char *title, const char *action)
{
    json_t *d = web_page(r, title, AREA_UNITS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/units", web_t(r, "registry.units.title"));
    web_crumb(d, NULL, title);
    json_object_set_new(d, "heading", json_string(title));
    json_object_set_new(d, "action", json_string(action));
    json_object_set_new(d, "cancel", json_string(action));
    return d;
}

static void unit_form_input(http_req *r, struct unit_input *in)
{
    const char **slots[] = {&in->operator, &in->address, &in->district,          &in->community,
                            &in->area,     &in->rooms,   &in->rent,              &in->kind,
                            &in->verification_code,      &in->status};
    for (size_t i = 0; i < COUNT(unit_form_names); i++) {
        const char *v = http_form(r, unit_form_names[i]);
        *slots[i] = v ? v : "";
    }
    /* An operator's account is not asked: its own. */
    if (!scope_all(r)) in->operator = "";
}

static int unit_form_failed(http_req *r, int rc, const reg_report *rep, const ql_err *err,
                            const char *title, const char *action, int leased)
{
    if (!web_form_can_show(rc)) {
        r->err = *err;
        return rc;
    }
    json_t *d = unit_form_page(r, title, action);
    for (size_t i = 0; i < COUNT(unit_form_names); i++)
        web_field(d, unit_form_names[i], http_form(r, unit_form_names[i]));
    int status = web_report_errors(r, d, rc, rep, err);
    unit_fields(r, d, leased);
    return web_render(r, status, "record_form", d);
}

int web_unit_new(http_req *r)
{
    int rc = actor_require(&r->who, P_HOUSING_MANAGE, &r->err);
    if (rc) return rc;
    json_t *d = unit_form_page(r, web_t(r, "registry.units.new_title"), "/registry/units");
    web_field(d, "status", "draft");
    web_field(d, "kind", "talent_apartment");
    const char *op = http_query(r, "operator");
    if (op) web_field(d, "operator", op);
    unit_fields(r, d, 0);
    return web_render(r, 200, "record_form", d);
}

int web_unit_create(http_req *r)
{
    struct unit_input in = {0};
    unit_form_input(r, &in);
    reg_report rep;
    int64_t id = 0;
    ql_err err = {0};
    int rc = registry_unit_create(r->db, &r->who, &in, &id, &rep, &err);
    if (rc)
        return unit_form_failed(r, rc, &rep, &err, web_t(r, "registry.units.new_title"),
                                "/registry/units", 0);
    json_t *d = web_page(r, "", AREA_UNITS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.units.created")));
    return render_unit(r, id, d, 201);
}

/* Whether the stored unit id is leased (for the status options); 0 when it
 * cannot be read. */
static int unit_is_leased(http_req *r, int64_t id)
{
    json_t *u;
    ql_err ignore = {0};
    if (registry_unit_get(r->db, &r->who, id, &u, &ignore) != 0) return 0;
    int leased = !strcmp(web_str(u, "status"), "leased");
    json_decref(u);
    return leased;
}

int web_unit_edit(http_req *r)
{
    int64_t id;
    json_t *u;
    int rc = api_path_id(r, &id);
    if (!rc) rc = actor_require(&r->who, P_HOUSING_MANAGE, &r->err);
    if (!rc) rc = registry_unit_get(r->db, &r->who, id, &u, &r->err);
    if (rc) return rc;
    const char *self = arena_printf(r->arena, "/registry/units/%lld", (long long)id);
    json_t *d = unit_form_page(r, web_t(r, "registry.units.edit_title"), self);
    web_field(d, "operator", web_str(json_object_get(u, "operator"), "code"));
    static const char *const copy[] = {"address", "district", "community", "area",
                                       "rent",    "kind",     "verification_code", "status"};
    for (size_t i = 0; i < COUNT(copy); i++) web_field(d, copy[i], web_str(u, copy[i]));
    web_field(d, "rooms", num(r, json_integer_value(json_object_get(u, "rooms"))));
    int leased = !strcmp(web_str(u, "status"), "leased");
    json_decref(u);
    unit_fields(r, d, leased);
    return web_render(r, 200, "record_form", d);
}

int web_unit_update(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct unit_input in = {0};
    unit_form_input(r, &in);
    reg_report rep;
    ql_err err = {0};
    rc = registry_unit_update(r->db, &r->who, id, &in, &rep, &err);
    if (rc) {
        const char *self = arena_printf(r->arena, "/registry/units/%lld", (long long)id);
        return unit_form_failed(r, rc, &rep, &err, web_t(r, "registry.units.edit_title"), self,
                                unit_is_leased(r, id));
    }
    json_t *d = web_page(r, "", AREA_UNITS);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.units.updated")));
    return render_unit(r, id, d, 200);
}

/* ====================================================================== */
/* leases                                                                 */
/* ====================================================================== */

/* Display texts of a lease row: status, period, filing. */
static void decorate_lease(http_req *r, json_t *l)
{
    json_object_set_new(l, "status_text",
                        json_string(web_code_text(r, "lease_status", web_str(l, "status"))));
    json_object_set_new(l, "period_text",
                        json_string(web_tf(r, "registry.leases.period", "start",
                                           web_str(l, "start_date"), "end", web_str(l, "end_date"),
                                           (const char *)NULL)));
    json_object_set_new(l, "active", json_boolean(!strcmp(web_str(l, "status"), "active")));
    if (!json_is_true(json_object_get(l, "filed")))
        json_object_set_new(l, "due_text",
                            json_string(web_tf(r,
                                               json_is_true(json_object_get(l, "filing_overdue"))
                                                   ? "registry.leases.overdue"
                                                   : "registry.leases.due",
                                               "due", web_str(l, "filing_due"),
                                               (const char *)NULL)));
}

static const char *const lease_keys[] = {"q",       "status",      "filed",     "ends_before",
                                         "unit_id", "operator_id", "talent_id", "sort"};

int web_leases(http_req *r)
{
    struct lease_filter f;
    int rc = api_lease_filter(r, &f);
    if (rc) return rc;
    f.per_page = PER_PAGE;
    json_t *d = web_page(r, web_t(r, "registry.leases.title"), AREA_LEASES);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "registry.leases.title"));
    json_t *rows = NULL;
    int64_t total = 0;
    ql_err err = {0};
    int status = 200;
    rc = registry_lease_list(r->db, &r->who, &f, &rows, &total, &err);
    if (rc == QL_EINVAL) {
        status = list_refused(r, d, &err);
        rows = json_array();
    } else if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    size_t i;
    json_t *l;
    json_array_foreach(rows, i, l) { decorate_lease(r, l); }
    json_object_set_new(d, "leases", rows);
    json_object_set_new(d, "f", json_pack("{s:s, s:s}", "q", f.q ? f.q : "", "ends_before",
                                          f.ends_before ? f.ends_before : ""));
    json_object_set_new(d, "status_options",
                        web_options(r, "lease_status", lease_statuses, COUNT(lease_statuses),
                                    f.status, web_t(r, "common.all")));
    json_object_set_new(d, "filed_options", web_options(r, "filed", filed_values,
                                                        COUNT(filed_values), f.filed,
                                                        web_t(r, "common.all")));
    /* Filters that come from links: a unit, an operator, a tenant. */
    ql_err ignore = {0};
    json_t *o;
    if (f.unit_id) {
        const char *what = num(r, f.unit_id);
        if (registry_unit_get(r->db, &r->who, f.unit_id, &o, &ignore) == 0) {
            what = arena_strdup(r->arena, web_str(o, "address"));
            json_decref(o);
        }
        add_chip(r, d, web_tf(r, "registry.leases.unit_filter", "address", what, (const char *)NULL),
                 "/registry/leases", "unit_id", f.unit_id);
    }
    if (f.operator_id) {
        const char *what = num(r, f.operator_id);
        if (registry_operator_get(r->db, &r->who, f.operator_id, &o, &ignore) == 0) {
            what = arena_strdup(r->arena, web_str(o, "name"));
            json_decref(o);
        }
        add_chip(r, d,
                 web_tf(r, "registry.leases.operator_filter", "name", what, (const char *)NULL),
                 "/registry/leases", "operator_id", f.operator_id);
    }
    if (f.talent_id) {
        const char *what = num(r, f.talent_id);
        if (registry_talent_get(r->db, &r->who, f.talent_id, &o, &ignore) == 0) {
            what = arena_strdup(r->arena, web_str(o, "name"));
            json_decref(o);
        }
        add_chip(r, d, web_tf(r, "registry.leases.talent_filter", "name", what, (const char *)NULL),
                 "/registry/leases", "talent_id", f.talent_id);
    }
    static const char *const sorts[] = {"-id", "id", "start_date", "-start_date", "end_date",
                                        "-end_date"};
    static const char *const labels[] = {
        "registry.leases.sort_newest", "registry.leases.sort_oldest", "registry.leases.sort_start",
        "registry.leases.sort_start_desc", "registry.leases.sort_end",
        "registry.leases.sort_end_desc"};
    json_object_set_new(d, "sort_options", sort_options(r, sorts, labels, COUNT(sorts), f.sort));
    const char *keep = web_keep_query(r, lease_keys, COUNT(lease_keys), NULL);
    web_export_links(d, "/registry/leases/export", keep, 1);
    json_object_set_new(d, "can_manage", json_boolean(manages_housing(r)));
    web_pager(r, d, "/registry/leases", keep, f.page, PER_PAGE, total);
    web_results_text(r, d, total);
    return web_render(r, status, "leases", d);
}

/* The lease page; the end form's errors when page_in carries them, the
 * filing warnings of a change when rep has any. */
static int render_lease(http_req *r, int64_t id, json_t *page_in, int status, const reg_report *rep)
{
    json_t *l;
    int rc = registry_lease_get(r->db, &r->who, id, &l, &r->err);
    if (rc) {
        json_decref(page_in);
        return rc;
    }
    json_t *d = page_in ? page_in : web_page(r, "", AREA_LEASES);
    const char *title = web_tf(r, "registry.leases.item_title", "name",
                               web_str(json_object_get(l, "talent"), "name"), (const char *)NULL);
    json_object_set_new(d, "title", json_string(title));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/leases", web_t(r, "registry.leases.title"));
    web_crumb(d, NULL, title);
    decorate_lease(r, l);
    int active = json_is_true(json_object_get(l, "active"));
    json_object_set_new(d, "heading", json_string(title));
    json_object_set_new(d, "created_at_text", web_time(json_object_get(l, "created_at")));
    json_object_set_new(d, "updated_at_text", web_time(json_object_get(l, "updated_at")));
    json_object_set_new(d, "lease", l);
    json_object_set_new(d, "can_change", json_boolean(manages_housing(r) && active));
    json_object_set_new(d, "sees_operators", json_boolean(sees_operators(r)));
    web_warnings(r, d, rep);
    json_t *history;
    rc = registry_history(r->db, &r->who, "lease", id, &history, &r->err);
    if (rc) {
        json_decref(d);
        return rc;
    }
    web_history(r, d, history, "lease_field");
    return web_render(r, status, "lease", d);
}

int web_lease(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_lease(r, id, NULL, 200, NULL);
}

static const char *const lease_form_names[] = {"talent_id_number", "unit_id",   "address",
                                               "start_date",       "end_date",  "signed_date",
                                               "rent",             "deposit",   "filing_no",
                                               "filed_date"};

/* The units a lease may be recorded on (listed or leased, within scope) as
 * select options; NULL when there are more than CHOICES_MAX of either. */
static json_t *unit_choices(http_req *r)
{
    json_t *list = json_array();
    json_array_append_new(list, json_pack("{s:s, s:s}", "value", "", "label",
                                          web_t(r, scope_all(r) ? "registry.leases.unit_outside"
                                                                : "registry.leases.unit_choose")));
    static const char *const states[] = {"listed", "leased"};
    for (size_t k = 0; k < COUNT(states); k++) {
        struct unit_filter f = {.status = states[k], .sort = "address", .page = 1,
                                .per_page = CHOICES_MAX};
        json_t *rows = NULL;
        int64_t total = 0;
        ql_err err = {0};
        int rc = registry_unit_list(r->db, &r->who, &f, &rows, &total, &err);
        if (!rc && total > CHOICES_MAX) {
            json_decref(rows);
            rc = QL_ETOOBIG;
        }
        if (rc) {
            json_decref(list);
            return NULL;
        }
        size_t i;
        json_t *u;
        json_array_foreach(rows, i, u)
        {
            const char *label = arena_printf(r->arena, "%s · %s · %s", web_str(u, "address"),
                                             web_code_text(r, "unit_status", states[k]),
                                             web_tf(r, "registry.leases.unit_rent", "rent",
                                                    web_str(u, "rent"), (const char *)NULL));
            json_array_append_new(
                list, json_pack("{s:s, s:s}", "value",
                                num(r, json_integer_value(json_object_get(u, "id"))), "label",
                                label));
        }
        json_decref(rows);
    }
    return list;
}

/* The lease form. The tenant is named by ID number, as the service takes
 * it; editing, the field may stay empty to keep the tenant (tenant: the
 * stored {name, id_masked}). District staff may record a lease of a home
 * outside the platform (no unit, an address); an operator's account picks
 * one of its own units. */
static void lease_fields(http_req *r, json_t *d, const json_t *tenant)
{
    const char *date_hint = web_t(r, "registry.hint.date");
    const char *id_hint =
        tenant ? web_tf(r, "registry.hint.tenant_keep", "name", web_str(tenant, "name"), "masked",
                        web_str(tenant, "id_masked"), (const char *)NULL)
               : web_t(r, "registry.hint.tenant");
    json_t *units = unit_choices(r);
    const struct fdef defs[] = {
        {.name = "talent_id_number",
         .label = "registry.lease_field.talent_id_number",
         .required = !tenant,
         .hint = id_hint,
         .wide = 1},
        {.name = "unit_id",
         .label = "registry.lease_field.unit_id",
         .required = !scope_all(r),
         .type = units ? NULL : "text",
         .hint = web_t(r, units ? (scope_all(r) ? "registry.hint.lease_unit_outside"
                                                : "registry.hint.lease_unit")
                                : "registry.hint.lease_unit_id"),
         .inputmode = units ? NULL : "numeric",
         .options = units},
        {.name = "address",
         .label = "registry.lease_field.address",
         .hint = web_t(r, "registry.hint.lease_address"),
         .wide = 1},
        {.name = "start_date",
         .label = "registry.lease_field.start_date",
         .required = 1,
         .type = "date",
         .hint = date_hint},
        {.name = "end_date",
         .label = "registry.lease_field.end_date",
         .required = 1,
         .type = "date",
         .hint = date_hint},
        {.name = "signed_date",
         .label = "registry.lease_field.signed_date",
         .required = 1,
         .type = "date",
         .hint = date_hint},
        {.name = "rent",
         .label = "registry.lease_field.rent",
         .required = 1,
         .hint = web_t(r, "registry.hint.money"),
         .inputmode = "decimal"},
        {.name = "deposit",
         .label = "registry.lease_field.deposit",
         .hint = web_t(r, "registry.hint.deposit"),
         .inputmode = "decimal"},
        {.name = "filing_no",
         .label = "registry.lease_field.filing_no",
         .hint = web_t(r, "registry.hint.filing_no")},
        {.name = "filed_date",
         .label = "registry.lease_field.filed_date",
         .type = "date",
         .hint = web_t(r, "registry.hint.filed_date")},
    };
    for (size_t i = 0; i < COUNT(defs); i++)
        if (scope_all(r) || strcmp(defs[i].name, "address") != 0) web_add_field(r, d, &defs[i]);
}

static json_t *lease_form_page(http_req *r, const char *title, const char *action)
{
    json_t *d = web_page(r, title, AREA_LEASES);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/registry/leases", web_t(r, "registry.leases.title"));
    web_crumb(d, NULL, title);
    json_object_set_new(d, "heading", json_string(title));
    json_object_set_new(d, "action", json_string(action));
    json_object_set_new(d, "cancel", json_string(action));
    json_object_set_new(d, "intro", json_string(web_t(r, "registry.leases.form_intro")));
    return d;
}

/* The form as typed. Editing (talent_id: the stored tenant), an empty ID
 * number keeps the tenant. */
static void lease_form_input(http_req *r, struct lease_input *in, const char *talent_id)
{
    const char **slots[] = {&in->talent_id_number, &in->unit_id,     &in->address,
                            &in->start_date,       &in->end_date,    &in->signed_date,
                            &in->rent,             &in->deposit,     &in->filing_no,
                            &in->filed_date};
    for (size_t i = 0; i < COUNT(lease_form_names); i++) {
        const char *v = http_form(r, lease_form_names[i]);
        *slots[i] = v ? v : "";
    }
    if (!scope_all(r)) in->address = "";
    if (talent_id && !*in->talent_id_number) {
        in->talent_id_number = NULL;
        in->talent_id = talent_id;
    }
}

/* The form has no talent_id field: the tenant is the ID number's. */
static void tenant_field(ql_err *e)
{
    if (!strcmp(e->field, "talent_id")) snprintf(e->field, sizeof e->field, "talent_id_number");
}

static int lease_form_failed(http_req *r, int rc, reg_report *rep, ql_err *err, const char *title,
                             const char *action, const json_t *tenant)
{
    if (!web_form_can_show(rc)) {
        r->err = *err;
        return rc;
    }
    for (int i = 0; i < rep->errors.n; i++) tenant_field(&rep->errors.e[i]);
    tenant_field(err);
    json_t *d = lease_form_page(r, title, action);
    for (size_t i = 0; i < COUNT(lease_form_names); i++)
        web_field(d, lease_form_names[i], http_form(r, lease_form_names[i]));
    int status = web_report_errors(r, d, rc, rep, err);
    lease_fields(r, d, tenant);
    return web_render(r, status, "record_form", d);
}

int web_lease_new(http_req *r)
{
    int rc = actor_require(&r->who, P_HOUSING_MANAGE, &r->err);
    if (rc) return rc;
    json_t *d = lease_form_page(r, web_t(r, "registry.leases.new_title"), "/registry/leases");
    /* From a unit's page: that unit, and its rent to start from. */
    int64_t unit_id = 0;
    rc = api_query_int(r, "unit_id", 0, 0, INT64_MAX, &unit_id);
    if (rc) {
        json_decref(d);
        return rc;
    }
    json_t *u;
    ql_err ignore = {0};
    if (unit_id && registry_unit_get(r->db, &r->who, unit_id, &u, &ignore) == 0) {
        web_field(d, "unit_id", num(r, unit_id));
        web_field(d, "rent", web_str(u, "rent"));
        json_decref(u);
    }
    lease_fields(r, d, NULL);
    return web_render(r, 200, "record_form", d);
}

int web_lease_create(http_req *r)
{
    struct lease_input in = {0};
    lease_form_input(r, &in, NULL);
    reg_report rep;
    int64_t id = 0;
    ql_err err = {0};
    int rc = registry_lease_create(r->db, &r->who, &in, &id, &rep, &err);
    if (rc)
        return lease_form_failed(r, rc, &rep, &err, web_t(r, "registry.leases.new_title"),
                                 "/registry/leases", NULL);
    json_t *d = web_page(r, "", AREA_LEASES);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.leases.created")));
    return render_lease(r, id, d, 201, &rep);
}

int web_lease_edit(http_req *r)
{
    int64_t id;
    json_t *l;
    int rc = api_path_id(r, &id);
    if (!rc) rc = actor_require(&r->who, P_HOUSING_MANAGE, &r->err);
    if (!rc) rc = registry_lease_get(r->db, &r->who, id, &l, &r->err);
    if (rc) return rc;
    if (strcmp(web_str(l, "status"), "active") != 0) {
        json_decref(l);
        return ql_errf(&r->err, QL_ECONFLICT, "status",
                       "the lease has ended; an ended lease is not changed",
                       "该租赁合同已结束，不能再修改");
    }
    const char *self = arena_printf(r->arena, "/registry/leases/%lld", (long long)id);
    json_t *d = lease_form_page(r, web_t(r, "registry.leases.edit_title"), self);
    const json_t *unit = json_object_get(l, "unit");
    if (json_is_object(unit)) {
        web_field(d, "unit_id", num(r, json_integer_value(json_object_get(unit, "id"))));
    } else {
        web_field(d, "address", web_str(l, "address"));
    }
    static const char *const copy[] = {"start_date", "end_date",  "signed_date", "rent",
                                       "deposit",    "filing_no", "filed_date"};
    for (size_t i = 0; i < COUNT(copy); i++) web_field(d, copy[i], web_str(l, copy[i]));
    lease_fields(r, d, json_object_get(l, "talent"));
    json_decref(l);
    return web_render(r, 200, "record_form", d);
}

int web_lease_update(http_req *r)
{
    int64_t id;
    json_t *l;
    int rc = api_path_id(r, &id);
    if (!rc) rc = registry_lease_get(r->db, &r->who, id, &l, &r->err);
    if (rc) return rc;
    json_t *tenant = json_incref(json_object_get(l, "talent"));
    json_decref(l);
    struct lease_input in = {0};
    lease_form_input(r, &in, num(r, json_integer_value(json_object_get(tenant, "id"))));
    reg_report rep;
    ql_err err = {0};
    rc = registry_lease_update(r->db, &r->who, id, &in, &rep, &err);
    if (rc) {
        const char *self = arena_printf(r->arena, "/registry/leases/%lld", (long long)id);
        rc = lease_form_failed(r, rc, &rep, &err, web_t(r, "registry.leases.edit_title"), self,
                               tenant);
        json_decref(tenant);
        return rc;
    }
    json_decref(tenant);
    json_t *d = web_page(r, "", AREA_LEASES);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.leases.updated")));
    return render_lease(r, id, d, 200, &rep);
}

int web_lease_end(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *ended_on = http_form(r, "ended_on"), *reason = http_form(r, "reason");
    reg_report rep;
    ql_err err = {0};
    rc = registry_lease_end(r->db, &r->who, id, ended_on ? ended_on : "", reason ? reason : "",
                            &rep, &err);
    if (rc) {
        if (!web_form_can_show(rc)) {
            r->err = err;
            return rc;
        }
        json_t *d = web_page(r, "", AREA_LEASES);
        web_field(d, "ended_on", ended_on);
        web_field(d, "reason", reason);
        int status = web_report_errors(r, d, rc, &rep, &err);
        json_object_set_new(d, "end_open", json_true());
        return render_lease(r, id, d, status, NULL);
    }
    json_t *d = web_page(r, "", AREA_LEASES);
    json_object_set_new(d, "notice", json_string(web_t(r, "registry.leases.ended")));
    return render_lease(r, id, d, 200, NULL);
}
