/* policy.c - the console's policy pages (policy.manage): the stored files,
 * one file with its findings and the button that activates it, an editor
 * that checks a text (every finding at its line, the parse error in the
 * error summary) and saves it as a draft, and the what-if page; and the
 * working-day calendar of a year for every signed-in account. */
#include "web/web.h"

#include "api/api.h"
#include "calendar/holidays.h"
#include "core/buf.h"
#include "core/calendar.h"
#include "core/date.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "web/forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_en(const http_req *r)
{
    return r->lang == LANG_EN;
}

static void decorate_file(http_req *r, json_t *o)
{
    const char *st = web_str(o, "status");
    json_object_set_new(o, "status_text",
                        json_string(web_t(r, !strcmp(st, "active")    ? "policy.status.active"
                                             : !strcmp(st, "retired") ? "policy.status.retired"
                                                                      : "policy.status.draft")));
    const char *e =
        arena_printf(r->arena, "%lld", (long long)json_integer_value(json_object_get(o, "errors")));
    const char *w = arena_printf(r->arena, "%lld",
                                 (long long)json_integer_value(json_object_get(o, "warnings")));
    json_object_set_new(
        o, "checks_text",
        json_string(web_tf(r, "policy.checks", "errors", e, "warnings", w, (const char *)NULL)));
    json_object_set_new(o, "name", json_string(web_str(o, is_en(r) ? "name_en" : "name_zh")));
}

int web_policies(http_req *r)
{
    json_t *list;
    ql_err err = {0};
    int rc = policy_list(r->db, true, &list, &err);
    if (rc) {
        r->err = err;
        return rc;
    }
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        decorate_file(r, o);
    }
    json_t *d = web_page(r, web_t(r, "policy.title"), AREA_POLICIES);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "policy.title"));
    json_object_set_new(d, "has_rows", json_boolean(json_array_size(list) > 0));
    json_object_set_new(d, "files", list);
    return web_render(r, 200, "policies", d);
}

static json_t *issues_rows(http_req *r, const json_t *issues)
{
    json_t *rows = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(issues, i, it)
    {
        int warning = json_is_true(json_object_get(it, "warning"));
        json_array_append_new(
            rows,
            json_pack("{s:I, s:I, s:b, s:s, s:s}", "line",
                      json_integer_value(json_object_get(it, "line")), "col",
                      json_integer_value(json_object_get(it, "col")), "warning", warning, "kind",
                      web_t(r, warning ? "policy.issue.warning" : "policy.issue.error"), "text",
                      web_str(it, is_en(r) ? "en" : "zh")));
    }
    return rows;
}

static int render_file(http_req *r, int64_t id, json_t *d, int status)
{
    json_t *o;
    ql_err err = {0};
    int rc = policy_get(r->db, id, true, &o, &err);
    if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    decorate_file(r, o);
    json_t *rows = issues_rows(r, json_object_get(o, "issues"));
    json_object_set_new(d, "has_issues", json_boolean(json_array_size(rows) > 0));
    json_object_set_new(d, "issues", rows);
    int errors = (int)json_integer_value(json_object_get(o, "errors"));
    json_object_set_new(d, "can_activate",
                        json_boolean(errors == 0 && !json_is_true(json_object_get(o, "active"))));
    json_object_set_new(d, "title", json_string(web_str(o, "name")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/policies", web_t(r, "policy.title"));
    web_crumb(d, NULL, arena_printf(r->arena, "%s #%lld", web_str(o, "programme"), (long long)id));
    json_object_set_new(d, "file", o);
    return web_render(r, status, "policy", d);
}

int web_policy(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    json_t *d = web_page(r, "", AREA_POLICIES);
    const char *saved = http_query(r, "saved"), *act = http_query(r, "activated");
    if (saved)
        json_object_set_new(
            d, "notice",
            json_string(web_tf(r, !strcmp(saved, "again") ? "policy.saved_already" : "policy.saved",
                               "id", arena_printf(r->arena, "%lld", (long long)id),
                               (const char *)NULL)));
    if (act)
        json_object_set_new(d, "notice",
                            json_string(web_t(r, !strcmp(act, "again") ? "policy.activated_already"
                                                                       : "policy.activated")));
    return render_file(r, id, d, 200);
}

int web_policy_activate(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct policy_activated act;
    ql_err err = {0};
    rc = policy_activate(r->db, &r->who, id, &act, &err);
    if (!rc)
        return http_redirect(r, arena_printf(r->arena, "/policies/%lld?activated=%s", (long long)id,
                                             act.unchanged ? "again" : "1"));
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    json_t *d = web_page(r, "", AREA_POLICIES);
    web_error(r, d, &err);
    return render_file(r, id, d, 409);
}

/* The editor, with the text in fields.source.value. */
static int render_editor(http_req *r, json_t *d, int status)
{
    json_object_set_new(d, "title", json_string(web_t(r, "policy.new")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/policies", web_t(r, "policy.title"));
    web_crumb(d, NULL, web_t(r, "policy.new"));
    return web_render(r, status, "policy_edit", d);
}

/* The text of stored file ?from=ID, for editing a copy. */
static void source_of(http_req *r, json_t *d, const char *from_s)
{
    int64_t from = from_s ? strtoll(from_s, NULL, 10) : 0;
    json_t *o;
    ql_err err;
    if (from > 0 && !policy_get(r->db, from, true, &o, &err)) {
        web_field(d, "source", web_str(o, "source"));
        web_field(d, "file_name", web_str(o, "file_name"));
        json_decref(o);
    }
}

int web_policy_new(http_req *r)
{
    json_t *d = web_page(r, "", AREA_POLICIES);
    source_of(r, d, http_query(r, "from"));
    return render_editor(r, d, 200);
}

/* A parse error "source:LINE:COL: ..." links to the text area. */
static void source_error(http_req *r, json_t *d, ql_err *err)
{
    if (err->code == QL_EINVAL || err->code == QL_ETOOBIG)
        snprintf(err->field, sizeof err->field, "source");
    web_error(r, d, err);
}

int web_policy_save(http_req *r)
{
    const char *source = http_form(r, "source"), *name = http_form(r, "file_name"),
               *op = http_form(r, "op");
    if (!source) source = "";
    if (!name) name = "";
    json_t *d = web_page(r, "", AREA_POLICIES);
    web_field(d, "source", source);
    web_field(d, "file_name", name);
    ql_err err = {0};
    if (op && !strcmp(op, "save")) {
        struct policy_saved *sv = arena_alloc(r->arena, sizeof *sv);
        int rc = policy_save(r->db, &r->who, source, strlen(source), name, sv, &err);
        if (!rc) {
            json_decref(d);
            return http_redirect(r, arena_printf(r->arena, "/policies/%lld?saved=%s",
                                                 (long long)sv->id, sv->unchanged ? "again" : "1"));
        }
        if (!web_form_can_show(rc)) {
            json_decref(d);
            r->err = err;
            return rc;
        }
        source_error(r, d, &err);
        return render_editor(r, d, 400);
    }
    /* check only */
    pol_issues *is = arena_alloc(r->arena, sizeof *is);
    int rc = policy_check_text(source, strlen(source), name[0] ? name : "source", NULL, is, &err);
    if (rc) {
        source_error(r, d, &err);
        return render_editor(r, d, 400);
    }
    json_t *list = policy_issues_json(is);
    json_t *rows = issues_rows(r, list);
    json_decref(list);
    json_object_set_new(d, "checked", json_true());
    json_object_set_new(d, "check_ok", json_boolean(is->nerrors == 0));
    json_object_set_new(d, "has_issues", json_boolean(json_array_size(rows) > 0));
    json_object_set_new(d, "issues", rows);
    return render_editor(r, d, 200);
}

/* ---- what-if ----------------------------------------------------------- */

static int render_simulate(http_req *r, json_t *d, int status)
{
    json_object_set_new(d, "title", json_string(web_t(r, "policy.simulate_title")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/policies", web_t(r, "policy.title"));
    web_crumb(d, NULL, web_t(r, "policy.simulate"));
    return web_render(r, status, "policy_simulate", d);
}

int web_policy_simulate_form(http_req *r)
{
    json_t *d = web_page(r, "", AREA_POLICIES);
    source_of(r, d, http_query(r, "from"));
    int y, m, dd;
    date_to_ymd(date_today(), &y, &m, &dd);
    web_field(d, "month", arena_printf(r->arena, "%04d-%02d", y, m));
    return render_simulate(r, d, 200);
}

static void side_view(http_req *r, json_t *side)
{
    if (!json_is_object(side)) return;
    buf b;
    buf_init(&b, 0);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(side, "by_tier"), k, v)
    {
        buf_printf(&b, "%s%s: %lld", b.len ? ", " : "", k, (long long)json_integer_value(v));
    }
    json_object_set_new(side, "tiers_text",
                        json_string(arena_strdup(r->arena, b.data ? b.data : "")));
    buf_free(&b);
}

int web_policy_simulate(http_req *r)
{
    const char *source = http_form(r, "source"), *month_s = http_form(r, "month");
    if (!source) source = "";
    json_t *d = web_page(r, "", AREA_POLICIES);
    web_field(d, "source", source);
    web_field(d, "month", month_s);
    ql_err err = {0};
    int32_t month = 0;
    if (date_parse_month(month_s, &month)) {
        ql_errf(&err, QL_EINVAL, "month", "the month must be like 2026-10", "月份格式应如 2026-10");
        web_error(r, d, &err);
        return render_simulate(r, d, 400);
    }
    json_t *res = NULL;
    int rc = policy_simulate_text(r->db, &r->who, source, strlen(source), month, 0, &res, &err);
    if (rc == QL_EINVAL || rc == QL_ETOOBIG) { /* the text, at its place */
        web_error(r, d, &err);
        return render_simulate(r, d, 400);
    }
    if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    side_view(r, json_object_get(res, "current"));
    side_view(r, json_object_get(res, "proposed"));
    json_object_set_new(d, "has_employers",
                        json_boolean(json_array_size(json_object_get(res, "by_employer")) > 0));
    json_object_set_new(d, "result", res);
    return render_simulate(r, d, 200);
}

/* ---- the calendar ------------------------------------------------------ */

int web_calendar(http_req *r)
{
    int64_t year;
    int y0, m0, d0;
    date_to_ymd(date_today(), &y0, &m0, &d0);
    int rc = api_query_int(r, "year", y0, 1900, 9999, &year);
    if (rc) return rc;
    json_t *d = web_page(r, web_t(r, "calendar.title"), AREA_CALENDAR);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "calendar.title"));
    const char *ys = arena_printf(r->arena, "%lld", (long long)year);
    json_object_set_new(d, "year", json_string(ys));
    json_object_set_new(d, "prev",
                        json_string(arena_printf(r->arena, "%lld", (long long)year - 1)));
    json_object_set_new(d, "next",
                        json_string(arena_printf(r->arena, "%lld", (long long)year + 1)));
    cal_year *cy = arena_alloc(r->arena, sizeof *cy);
    struct holidays_year_info info;
    ql_err err = {0};
    rc = holidays_read_year(r->db, (int)year, cy, &err);
    if (!rc) rc = holidays_year_info(r->db, (int)year, &info, &err);
    if (rc == QL_ENOTFOUND) {
        json_object_set_new(
            d, "missing",
            json_string(web_tf(r, "calendar.not_loaded", "year", ys, (const char *)NULL)));
        return web_render(r, 200, "calendar", d);
    }
    if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    json_t *months = json_array();
    int working = 0;
    for (int m = 1; m <= 12; m++) {
        int32_t first = date_from_ymd((int)year, m, 1);
        int32_t next =
            m == 12 ? date_from_ymd((int)year + 1, 1, 1) : date_from_ymd((int)year, m + 1, 1);
        json_t *weeks = json_array(), *week = json_array();
        int wd = (int)(((first % 7) + 7 + 3) % 7); /* 0 = Monday; 1970-01-01 was a Thursday */
        for (int k = 0; k < wd; k++) json_array_append_new(week, json_pack("{s:b}", "blank", 1));
        for (int32_t day = first; day < next; day++) {
            enum cal_kind kind = cal_year_kind(cy, day);
            int weekend = cal_is_weekend(day);
            int work = kind == CAL_WORK || (kind == CAL_NORMAL && !weekend);
            working += work;
            int yy, mm, dd;
            date_to_ymd(day, &yy, &mm, &dd);
            json_t *cell =
                json_pack("{s:i, s:b, s:b, s:b, s:b}", "d", dd, "off", kind == CAL_OFF, "work",
                          kind == CAL_WORK, "weekend", weekend && kind != CAL_WORK, "blank", 0);
            if (kind != CAL_NORMAL)
                json_object_set_new(cell, "name", json_string(cy->name[day - cy->first]));
            json_array_append_new(week, cell);
            if (json_array_size(week) == 7) {
                json_array_append_new(weeks, json_pack("{s:o}", "days", week));
                week = json_array();
            }
        }
        if (json_array_size(week))
            json_array_append_new(weeks, json_pack("{s:o}", "days", week));
        else
            json_decref(week);
        json_array_append_new(months,
                              json_pack("{s:s, s:o}", "label",
                                        web_tf(r, "calendar.month", "month",
                                               arena_printf(r->arena, "%d", m), (const char *)NULL),
                                        "weeks", weeks));
    }
    json_object_set_new(d, "months", months);
    json_t *wds = json_array();
    const char *names = web_t(r, "calendar.weekdays");
    for (const char *p = names; *p;) { /* seven names separated by blanks */
        size_t n = strcspn(p, " ");
        if (n) json_array_append_new(wds, json_stringn(p, n));
        p += n;
        p += strspn(p, " ");
    }
    json_object_set_new(d, "weekdays", wds);
    json_object_set_new(d, "summary",
                        json_string(web_tf(r, "calendar.summary", "year", ys, "off",
                                           arena_printf(r->arena, "%d", info.off), "work",
                                           arena_printf(r->arena, "%d", info.work), "working",
                                           arena_printf(r->arena, "%d", working), "source",
                                           info.source, (const char *)NULL)));
    return web_render(r, 200, "calendar", d);
}
