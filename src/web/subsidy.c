/* subsidy.c - the console's subsidy pages: the staff queue and an
 * application's page (the registry facts beside the decision's trace, the
 * history, objections, and a button for each action the account may take
 * now), the public notice list, and the applicant's pages made for a phone:
 * a task list, the declarations, "check your answers", and a confirmation
 * with the reference number and what happens next. Every action goes
 * through subsidy_transition, with a request key made when the page was
 * drawn, so a form sent twice does the action once. */
#include "web/web.h"

#include "api/api.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/validate.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "subsidy/subsidy.h"
#include "web/forms.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int is_en(const http_req *r)
{
    return r->lang == LANG_EN;
}

static const char *state_text(const http_req *r, const char *name)
{
    int st = subsidy_state_find(name);
    if (st < 0) return name;
    return is_en(r) ? subsidy_state_en((enum app_state)st) : subsidy_state_zh((enum app_state)st);
}

static const char *action_text(const http_req *r, const char *name)
{
    int a = subsidy_action_find(name);
    if (a < 0) return name;
    return is_en(r) ? subsidy_action_en((enum app_action)a) : subsidy_action_zh((enum app_action)a);
}

/* A fresh request key for the forms of one page. */
static const char *request_key(http_req *r)
{
    unsigned char b[12];
    char hex[25];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(hex, sizeof hex, b, sizeof b);
    return arena_printf(r->arena, "form-%s", hex);
}

static const char *date_text(http_req *r, const json_t *o, const char *from, const char *to)
{
    const char *a = web_str(o, from), *b = web_str(o, to);
    if (!a[0]) return "";
    return arena_printf(r->arena, "%s – %s", a, b[0] ? b : (is_en(r) ? "open" : "至今"));
}

static void decorate(http_req *r, json_t *o)
{
    json_object_set_new(o, "state_text", json_string(state_text(r, web_str(o, "state"))));
    json_object_set_new(o, "notice_text", json_string(date_text(r, o, "notice_from", "notice_to")));
    json_object_set_new(o, "period_text", json_string(date_text(r, o, "start_date", "end_date")));
}

/* The decision's trace as rows for templates/subsidy_decision.mustache. */
static void decision_view(http_req *r, json_t *d, json_t *app)
{
    json_t *dec = json_object_get(app, "decision");
    if (!json_is_object(dec)) return;
    json_t *rows = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(dec, "criteria"), i, c)
    {
        buf in;
        buf_init(&in, 0);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(c, "inputs"), k, v)
        {
            buf_printf(&in, "%s%s = %s", in.len ? "; " : "", k, json_string_value(v));
        }
        int passed = json_is_true(json_object_get(c, "passed"));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", web_str(c, "id"),
                                              "clause", web_str(c, "clause"), "text",
                                              web_str(c, is_en(r) ? "en" : "zh"), "inputs",
                                              arena_strdup(r->arena, in.data ? in.data : ""),
                                              "passed", passed));
        buf_free(&in);
    }
    json_t *sched = json_array();
    json_t *tt = json_object_get(dec, "tier_trace");
    json_array_foreach(json_object_get(tt, "schedule"), i, c)
    {
        const char *from = arena_printf(
            r->arena, "%lld", (long long)json_integer_value(json_object_get(c, "from_month")));
        const char *months = arena_printf(
            r->arena, "%lld", (long long)json_integer_value(json_object_get(c, "months")));
        json_array_append_new(
            sched, json_string(web_tf(r, "subsidy.schedule_step", "from", from, "months", months,
                                      "yuan", web_str(c, "yuan"), (const char *)NULL)));
    }
    json_t *view =
        json_pack("{s:b, s:o, s:o, s:s, s:b}", "has_schedule", json_array_size(sched) > 0,
                  "criteria", rows, "schedule", sched, "basis",
                  web_tf(r, "subsidy.decision_version", "programme", web_str(dec, "programme"),
                         "version", web_str(dec, "version"), "basis", web_str(dec, "basis"), "date",
                         web_str(dec, "date"), (const char *)NULL),
                  "eligible", json_is_true(json_object_get(app, "eligible")));
    if (json_is_true(json_object_get(app, "eligible")))
        json_object_set_new(
            view, "summary",
            json_string(web_tf(r, "subsidy.eligible", "tier", web_str(app, "tier"), "amount",
                               web_str(app, "monthly_yuan"), (const char *)NULL)));
    else
        json_object_set_new(view, "summary",
                            json_string(web_tf(r, "subsidy.not_eligible", "reasons",
                                               web_str(app, "reasons"), (const char *)NULL)));
    json_object_set_new(d, "decision", view);
}

/* The registry facts of the applicant now, for the reviewer. */
static void facts_view(http_req *r, json_t *d, int64_t talent_id)
{
    pol_facts f;
    struct policy_subject who;
    ql_err err;
    if (policy_talent_facts(r->db, talent_id, date_today(), &f, &who, &err)) return;
    json_t *rows = json_array();
    for (int i = 0; i < F_COUNT; i++) {
        if (i == F_FAMILY_OWNS_HOUSING || i == F_OTHER_BENEFIT || i == F_MONTHS_RECEIVED)
            continue; /* declared, or counted at review */
        char v[64];
        pol_fact_text(i, &f, v, sizeof v);
        const pol_fact_info *fi = pol_fact(i);
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s}", "name", fi->name, "label",
                                              is_en(r) ? fi->en : fi->zh, "value", v));
    }
    json_object_set_new(d, "has_facts", json_boolean(json_array_size(rows) > 0));
    json_object_set_new(d, "facts", rows);
}

static void events_view(http_req *r, json_t *app)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(app, "events"), i, e)
    {
        char when[32];
        time_t t = (time_t)json_integer_value(json_object_get(e, "at")) + 8 * 3600;
        struct tm tm;
        when[0] = '\0';
        if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        json_object_set_new(e, "at_text", json_string(when));
        json_object_set_new(e, "action_text",
                            json_string(!strcmp(web_str(e, "action"), "create")
                                            ? (is_en(r) ? "Created" : "创建")
                                            : action_text(r, web_str(e, "action"))));
        json_object_set_new(e, "to_text", json_string(state_text(r, web_str(e, "to"))));
    }
    json_array_foreach(json_object_get(app, "objections"), i, e)
    {
        const char *o = web_str(e, "outcome");
        json_object_set_new(
            e, "outcome_text",
            json_string(web_t(r, !o[0]                  ? "subsidy.objection.open"
                                 : !strcmp(o, "upheld") ? "subsidy.objection.upheld"
                                                        : "subsidy.objection.dismissed")));
        json_object_set_new(e, "open", json_boolean(!o[0]));
    }
}

/* The buttons for the actions the account may take now. */
static void actions_view(http_req *r, json_t *d, json_t *app)
{
    json_t *list = json_array();
    size_t i;
    json_t *a;
    int needs_date = 0;
    json_array_foreach(json_object_get(app, "allowed"), i, a)
    {
        const char *name = json_string_value(a);
        int danger = !strcmp(name, "reject") || !strcmp(name, "end") || !strcmp(name, "withdraw") ||
                     !strcmp(name, "suspend") || !strcmp(name, "return");
        needs_date |= !strcmp(name, "activate") || !strcmp(name, "suspend") || !strcmp(name, "end");
        json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:b}", "name", name, "label",
                                              action_text(r, name), "danger", danger, "submit",
                                              !strcmp(name, "submit")));
    }
    json_object_set_new(d, "has_actions", json_boolean(json_array_size(list) > 0));
    json_object_set_new(d, "actions", list);
    json_object_set_new(d, "needs_date", json_boolean(needs_date));
    json_object_set_new(d, "request_key", json_string(request_key(r)));
}

static int can_review(const http_req *r)
{
    return actor_can(&r->who, P_SUBSIDY_REVIEW) &&
           (r->who.scope == SCOPE_DISTRICT || r->who.scope == SCOPE_DEPARTMENT);
}

/* Reads application id for a page into *app, with its display texts. On
 * an error, releases d and leaves the error for the error page. */
static int page_app(http_req *r, int64_t id, json_t *d, json_t **app)
{
    ql_err err = {0};
    int rc = subsidy_get(r->db, &r->who, id, date_today(), app, &err);
    if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    decorate(r, *app);
    events_view(r, *app);
    return 0;
}

/* Draws an application's staff page into d (which it consumes). */
static int render_app(http_req *r, int64_t id, json_t *d, int status)
{
    json_t *app;
    int rc = page_app(r, id, d, &app);
    if (rc) return rc;
    json_object_set_new(d, "title",
                        json_string(web_tf(r, "subsidy.app_title", "ref", web_str(app, "ref"),
                                           (const char *)NULL)));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/subsidy", web_t(r, "subsidy.title"));
    web_crumb(d, NULL, web_str(app, "ref"));
    decision_view(r, d, app);
    if (can_review(r) || actor_can(&r->who, P_WINDOW_ACCEPT))
        facts_view(r, d, json_integer_value(json_object_get(app, "talent_id")));
    actions_view(r, d, app);
    json_object_set_new(d, "has_objections",
                        json_boolean(json_array_size(json_object_get(app, "objections")) > 0));
    int notice = !strcmp(web_str(app, "state"), "notice");
    json_object_set_new(
        d, "can_object",
        json_boolean(notice && (can_review(r) || (actor_can(&r->who, P_WINDOW_ACCEPT) &&
                                                  r->who.scope == SCOPE_DISTRICT))));
    json_object_set_new(d, "can_settle", json_boolean(can_review(r)));
    char today[16];
    date_format(date_today(), today, sizeof today);
    json_object_set_new(d, "today", json_string(today));
    json_object_set_new(d, "app", app);
    return web_render(r, status, "subsidy_app", d);
}

/* After an action (?done=ACTION, &unchanged=1 when it was a repeat): the
 * notice that says what was done. */
static void done_notice(http_req *r, json_t *d)
{
    const char *done = http_query(r, "done");
    if (done && subsidy_action_find(done) >= 0)
        json_object_set_new(d, "notice",
                            json_string(http_query(r, "unchanged")
                                            ? web_t(r, "subsidy.unchanged")
                                            : web_tf(r, "subsidy.done", "action",
                                                     action_text(r, done), (const char *)NULL)));
}

/* Lists the applications f selects into d.apps, with their display texts.
 * On an error leaves it in r->err and returns it. */
static int list_apps(http_req *r, json_t *d, const struct app_filter *f, int64_t *total)
{
    json_t *rows;
    ql_err err = {0};
    int rc = subsidy_list(r->db, &r->who, f, &rows, total, &err);
    if (rc) {
        r->err = err;
        return rc;
    }
    size_t i;
    json_t *o;
    json_array_foreach(rows, i, o)
    {
        decorate(r, o);
    }
    json_object_set_new(d, "apps", rows);
    return 0;
}

int web_subsidy_list(http_req *r)
{
    struct app_filter f = {-1, 0, 1, 50};
    const char *st = http_query(r, "state");
    if (st && *st) f.state = subsidy_state_find(st);
    /* without a choice, each account starts at its own queue: the employer
     * what is to attest, a window what is to accept, a reviewer what is to
     * review ("state=" asks for all) */
    if (!st) {
        if (actor_can(&r->who, P_SUBSIDY_REVIEW))
            f.state = AS_ACCEPTED;
        else if (actor_can(&r->who, P_WINDOW_ACCEPT))
            f.state = AS_ATTESTED;
        else if (actor_can(&r->who, P_SUBSIDY_ATTEST))
            f.state = AS_SUBMITTED;
    }
    int64_t page = 1;
    if (api_query_int(r, "page", 1, 1, 100000, &page)) page = 1;
    f.page = page;
    json_t *d = web_page(r, web_t(r, "subsidy.title"), AREA_SUBSIDY);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "subsidy.title"));
    int64_t total = 0;
    int rc = list_apps(r, d, &f, &total);
    if (rc) {
        json_decref(d);
        return rc;
    }
    json_t *opts = json_array();
    json_array_append_new(opts, json_pack("{s:s, s:s, s:b}", "value", "", "label",
                                          web_t(r, "common.all"), "selected", f.state < 0));
    for (int k = 0; k < AS_COUNT; k++)
        json_array_append_new(opts, json_pack("{s:s, s:s, s:b}", "value",
                                              subsidy_state_name((enum app_state)k), "label",
                                              state_text(r, subsidy_state_name((enum app_state)k)),
                                              "selected", f.state == k));
    json_object_set_new(d, "state_options", opts);
    web_pager(r, d, "/subsidy",
              f.state >= 0
                  ? arena_printf(r->arena, "&state=%s", subsidy_state_name((enum app_state)f.state))
                  : "&state=",
              f.page, f.per_page, total);
    return web_render(r, 200, "subsidy_list", d);
}

int web_subsidy_app(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    json_t *d = web_page(r, "", AREA_SUBSIDY);
    done_notice(r, d);
    return render_app(r, id, d, 200);
}

static int web_applicant_page(http_req *r, int64_t id, json_t *d, int status);

int web_subsidy_action(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *action = http_form(r, "action"), *reason = http_form(r, "reason"),
               *effective = http_form(r, "effective"), *key = http_form(r, "request_key");
    int act = action ? subsidy_action_find(action) : -1;
    ql_err err = {0};
    int32_t eff = 0;
    if (act < 0) {
        rc = ql_errf(&err, QL_EINVAL, "action", "choose an action", "请选择要办理的事项");
    } else if (effective && *effective && date_parse(effective, &eff)) {
        rc = ql_errf(&err, QL_EINVAL, "effective", "the date must be like 2026-10-01",
                     "日期格式应如 2026-10-01");
    } else {
        /* one key per page and button: the same button sent twice is one
         * request, another button on the same page another */
        const char *k = key && *key ? arena_printf(r->arena, "%.60s/%s", key, action) : NULL;
        struct app_step st = {(enum app_action)act, reason, k, date_today(), eff};
        struct app_result res;
        rc = subsidy_transition(r->db, &r->who, id, &st, &res, &err);
        if (!rc) /* back to the applicant's own pages, or to staff's */
            return http_redirect(r, arena_printf(r->arena, "%s/%lld?done=%s%s",
                                                 r->who.scope == SCOPE_SELF ? "/apply" : "/subsidy",
                                                 (long long)id, action,
                                                 res.unchanged ? "&unchanged=1" : ""));
    }
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    json_t *d = web_page(r, "", r->who.scope == SCOPE_SELF ? AREA_APPLY : AREA_SUBSIDY);
    web_field(d, "reason", reason);
    web_field(d, "effective", effective);
    web_error(r, d, &err);
    int status = rc == QL_ECONFLICT ? 409 : 400;
    if (r->who.scope == SCOPE_SELF) return web_applicant_page(r, id, d, status);
    return render_app(r, id, d, status);
}

int web_subsidy_object(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *source = http_form(r, "source"), *text = http_form(r, "text"),
               *on = http_form(r, "received_on");
    int32_t day = date_today();
    ql_err err = {0};
    int64_t oid;
    if (on && *on && date_parse(on, &day))
        rc = ql_errf(&err, QL_EINVAL, "received_on", "the date must be like 2026-10-09",
                     "日期格式应如 2026-10-09");
    else
        rc = subsidy_object(r->db, &r->who, id, source, text, day, &oid, &err);
    if (!rc)
        return http_redirect(r, arena_printf(r->arena, "/subsidy/%lld#objections", (long long)id));
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    json_t *d = web_page(r, "", AREA_SUBSIDY);
    web_field(d, "source", source);
    web_field(d, "text", text);
    web_field(d, "received_on", on);
    web_error(r, d, &err);
    return render_app(r, id, d, rc == QL_ECONFLICT ? 409 : 400);
}

int web_subsidy_settle(http_req *r)
{
    int64_t oid;
    int rc = api_path_id(r, &oid);
    if (rc) return rc;
    const char *outcome = http_form(r, "outcome"), *resolution = http_form(r, "resolution"),
               *app_s = http_form(r, "application_id");
    int64_t app = app_s ? strtoll(app_s, NULL, 10) : 0;
    ql_err err = {0};
    if (!outcome || (strcmp(outcome, "upheld") && strcmp(outcome, "dismissed")))
        rc = ql_errf(&err, QL_EINVAL, "outcome", "choose upheld or dismissed",
                     "请选择异议成立或不成立");
    else
        rc = subsidy_settle(r->db, &r->who, oid, !strcmp(outcome, "upheld"), resolution, &err);
    if (!rc && app > 0)
        return http_redirect(r, arena_printf(r->arena, "/subsidy/%lld#objections", (long long)app));
    if (!rc) return http_redirect(r, "/subsidy");
    if (!web_form_can_show(rc) || app <= 0) {
        r->err = err;
        return rc;
    }
    json_t *d = web_page(r, "", AREA_SUBSIDY);
    web_error(r, d, &err);
    return render_app(r, app, d, rc == QL_ECONFLICT ? 409 : 400);
}

int web_notices(http_req *r)
{
    json_t *list;
    ql_err err = {0};
    int rc = subsidy_notices(r->db, date_today(), &list, &err);
    if (rc) {
        r->err = err;
        return rc;
    }
    json_t *d = web_page(r, web_t(r, "subsidy.notices_title"), AREA_NOTICES);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "subsidy.notices_title"));
    json_object_set_new(d, "has_rows", json_boolean(json_array_size(list) > 0));
    json_object_set_new(d, "notices", list);
    return web_render(r, 200, "notices", d);
}

/* ---- the applicant's pages --------------------------------------------- */

/* The programmes open for applications (an active policy each). */
static json_t *open_programmes(http_req *r)
{
    json_t *all, *out = json_array();
    ql_err err;
    if (policy_list(r->db, false, &all, &err)) return out;
    size_t i;
    json_t *p;
    json_array_foreach(all, i, p)
    {
        if (!json_is_true(json_object_get(p, "active"))) continue;
        json_array_append_new(out,
                              json_pack("{s:s, s:s}", "value", web_str(p, "programme"), "label",
                                        web_str(p, is_en(r) ? "name_en" : "name_zh")));
    }
    json_decref(all);
    return out;
}

/* The applicant's home page into d (consumed): their applications and
 * the programmes open. */
static int render_apply_home(http_req *r, json_t *d, int status)
{
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "apply.title"));
    struct app_filter f = {-1, 0, 1, 50};
    int64_t total = 0;
    int rc = list_apps(r, d, &f, &total);
    if (rc) {
        json_decref(d);
        return rc;
    }
    json_object_set_new(d, "has_apps", json_boolean(total > 0));
    json_t *progs = open_programmes(r);
    json_object_set_new(d, "has_programmes", json_boolean(json_array_size(progs) > 0));
    json_object_set_new(d, "programmes", progs);
    return web_render(r, status, "apply_home", d);
}

int web_apply_home(http_req *r)
{
    return render_apply_home(r, web_page(r, web_t(r, "apply.title"), AREA_APPLY), 200);
}

int web_apply_start(http_req *r)
{
    const char *programme = http_form(r, "programme");
    struct app_declare dec = {0, 0, 0};
    int64_t id;
    char ref[24];
    ql_err err = {0};
    int rc = subsidy_create(r->db, &r->who, programme ? programme : "", 0, &dec, date_today(), &id,
                            ref, &err);
    if (!rc) return http_redirect(r, arena_printf(r->arena, "/apply/%lld", (long long)id));
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    json_t *d = web_page(r, web_t(r, "apply.title"), AREA_APPLY);
    web_error(r, d, &err);
    return render_apply_home(r, d, rc == QL_ECONFLICT ? 409 : 400);
}

/* The applicant's facts for their own pages: degree, employer, lease. */
static void applicant_facts(http_req *r, json_t *d, json_t *app)
{
    pol_facts f;
    struct policy_subject who;
    ql_err err;
    if (policy_talent_facts(r->db, json_integer_value(json_object_get(app, "talent_id")),
                            date_today(), &f, &who, &err))
        return;
    char edu[32];
    pol_fact_text(F_EDUCATION, &f, edu, sizeof edu);
    json_object_set_new(d, "education", json_string(web_code_text(r, "education", edu)));
    const char *lease = web_t(
        r, f.v[F_LEASE_ACTIVE] ? (f.v[F_LEASE_FILED] ? "apply.lease_ok" : "apply.lease_not_filed")
                               : "apply.lease_none");
    json_object_set_new(d, "lease_text", json_string(lease));
    json_object_set_new(d, "lease_ok", json_boolean(f.v[F_LEASE_ACTIVE] && f.v[F_LEASE_FILED]));
}

/* The applicant's page of application id: the task list of a draft, or
 * its progress and decision in plain words. */
static int web_applicant_page(http_req *r, int64_t id, json_t *d, int status)
{
    json_t *app;
    int rc = page_app(r, id, d, &app);
    if (rc) return rc;
    json_object_set_new(d, "title",
                        json_string(web_tf(r, "apply.tasks_title", "ref", web_str(app, "ref"),
                                           (const char *)NULL)));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/apply", web_t(r, "apply.title"));
    web_crumb(d, NULL, web_str(app, "ref"));
    applicant_facts(r, d, app);
    int draft = !strcmp(web_str(app, "state"), "draft");
    int declared = json_is_true(json_object_get(app, "declared"));
    json_object_set_new(d, "draft", json_boolean(draft));
    json_object_set_new(d, "declared", json_boolean(declared));
    const char *st = web_str(app, "state");
    int decided = !strcmp(st, "notice") || !strcmp(st, "approved") || !strcmp(st, "active") ||
                  !strcmp(st, "suspended") || !strcmp(st, "ended") || !strcmp(st, "rejected");
    json_object_set_new(d, "decided", json_boolean(decided));
    json_object_set_new(d, "rejected", json_boolean(!strcmp(st, "rejected")));
    if (decided) decision_view(r, d, app);
    if (json_is_true(json_object_get(app, "eligible")))
        json_object_set_new(
            d, "result_ok",
            json_string(web_tf(r, "apply.result_ok", "tier", web_str(app, "tier"), "amount",
                               web_str(app, "monthly_yuan"), (const char *)NULL)));
    actions_view(r, d, app);
    json_object_set_new(d, "app", app);
    return web_render(r, status, "apply_tasks", d);
}

int web_apply_app(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    json_t *d = web_page(r, "", AREA_APPLY);
    done_notice(r, d);
    return web_applicant_page(r, id, d, 200);
}

/* The declarations form (GET) of a draft. */
static int render_declare(http_req *r, int64_t id, json_t *d, int status)
{
    json_t *app;
    int rc = page_app(r, id, d, &app);
    if (rc) return rc;
    json_object_set_new(d, "title", json_string(web_t(r, "apply.declare_title")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/apply", web_t(r, "apply.title"));
    web_crumb(d, arena_printf(r->arena, "/apply/%lld", (long long)id), web_str(app, "ref"));
    web_crumb(d, NULL, web_t(r, "apply.declare_title"));
    json_t *fields = json_object_get(d, "fields");
    /* the stored answers, unless the form was just sent */
    if (!json_object_get(fields, "family")) {
        int answered = json_is_true(json_object_get(app, "declared"));
        if (answered) {
            web_field(d, "family",
                      json_is_true(json_object_get(app, "family_owns_housing")) ? "yes" : "no");
            web_field(d, "other",
                      json_is_true(json_object_get(app, "other_benefit")) ? "yes" : "no");
            web_field(d, "declared", "yes");
        }
    }
    fields = json_object_get(d, "fields");
    static const char *const qs[] = {"family", "other"};
    for (size_t i = 0; i < COUNT(qs); i++) {
        const char *v = web_str(json_object_get(fields, qs[i]), "value");
        json_object_set_new(d, arena_printf(r->arena, "%s_yes", qs[i]),
                            json_boolean(!strcmp(v, "yes")));
        json_object_set_new(d, arena_printf(r->arena, "%s_no", qs[i]),
                            json_boolean(!strcmp(v, "no")));
    }
    json_object_set_new(
        d, "declared_checked",
        json_boolean(!strcmp(web_str(json_object_get(fields, "declared"), "value"), "yes")));
    json_object_set_new(d, "app", app);
    return web_render(r, status, "apply_declare", d);
}

int web_apply_declare_form(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_declare(r, id, web_page(r, "", AREA_APPLY), 200);
}

int web_apply_declare(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *family = http_form(r, "family"), *other = http_form(r, "other"),
               *declared = http_form(r, "declared");
    json_t *d = web_page(r, "", AREA_APPLY);
    web_field(d, "family", family);
    web_field(d, "other", other);
    web_field(d, "declared", declared);
    int bad = 0;
    ql_err err = {0};
    if (!family || (strcmp(family, "yes") && strcmp(family, "no"))) {
        ql_errf(&err, QL_EINVAL, "family",
                "answer whether your spouse or a minor child owns housing",
                "请回答配偶或未成年子女是否有住房");
        web_error(r, d, &err);
        bad = 1;
    }
    if (!other || (strcmp(other, "yes") && strcmp(other, "no"))) {
        ql_errf(&err, QL_EINVAL, "other", "answer whether you receive another housing benefit",
                "请回答是否享受其他住房保障");
        web_error(r, d, &err);
        bad = 1;
    }
    if (!declared || strcmp(declared, "yes")) {
        ql_errf(&err, QL_EINVAL, "declared", "confirm that the information is true",
                "请确认所填信息真实");
        web_error(r, d, &err);
        bad = 1;
    }
    if (bad) return render_declare(r, id, d, 400);
    struct app_declare dec = {!strcmp(family, "yes"), !strcmp(other, "yes"), 1};
    rc = subsidy_declare(r->db, &r->who, id, &dec, &err);
    if (rc) {
        if (!web_form_can_show(rc)) {
            json_decref(d);
            r->err = err;
            return rc;
        }
        web_error(r, d, &err);
        return render_declare(r, id, d, rc == QL_ECONFLICT ? 409 : 400);
    }
    json_decref(d);
    return http_redirect(r, arena_printf(r->arena, "/apply/%lld/check", (long long)id));
}

static int render_check(http_req *r, int64_t id, json_t *d, int status, const char *view)
{
    json_t *app;
    int rc = page_app(r, id, d, &app);
    if (rc) return rc;
    json_object_set_new(d, "title",
                        json_string(web_t(r, !strcmp(view, "apply_done") ? "apply.done_title"
                                                                         : "apply.check_title")));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/apply", web_t(r, "apply.title"));
    web_crumb(d, NULL, web_str(app, "ref"));
    applicant_facts(r, d, app);
    json_object_set_new(d, "request_key", json_string(request_key(r)));
    json_object_set_new(d, "app", app);
    return web_render(r, status, view, d);
}

int web_apply_check(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_check(r, id, web_page(r, "", AREA_APPLY), 200, "apply_check");
}

int web_apply_submit(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *key = http_form(r, "request_key");
    struct app_step st = {AA_SUBMIT, NULL, key && *key ? key : NULL, date_today(), 0};
    struct app_result res;
    ql_err err = {0};
    rc = subsidy_transition(r->db, &r->who, id, &st, &res, &err);
    if (!rc) return http_redirect(r, arena_printf(r->arena, "/apply/%lld/done", (long long)id));
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    json_t *d = web_page(r, "", AREA_APPLY);
    web_error(r, d, &err);
    return render_check(r, id, d, rc == QL_ECONFLICT ? 409 : 400, "apply_check");
}

int web_apply_done(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_check(r, id, web_page(r, "", AREA_APPLY), 200, "apply_done");
}
