/* cycle.c - the console's pages of the monthly cycles: the months with
 * their totals (and the forms to compute a month and to set a budget), and
 * a month's page: the steps from draft to closed, the background job with
 * its progress (polled by htmx every second while it runs; a plain link
 * without JavaScript), the totals, the first entitlements with a link to
 * each application's trace, the corrections of earlier months, the
 * payments (masked accounts, a state filter, re-send and write-off of the
 * failed ones), the batch files, the bank result files with every
 * mismatch, and a button for each step the account may take now. The
 * services check permission and state (src/ledger/, src/jobs/); these
 * handlers parse, call and draw. */
#include "web/web.h"

#include "api/api.h"
#include "core/date.h"
#include "core/validate.h"
#include "http/multipart.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/cycle_list.h"
#include "policy/policy.h"
#include "web/forms.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CYCLES_PER_PAGE   24
#define PAYMENTS_PER_PAGE 20
#define CORRECTIONS_SHOWN 100

static const char *const states[] = {"draft",    "computed",   "approved",
                                     "exported", "reconciled", "closed"};
static const char *const pay_states[] = {"queued", "sent",     "paid",
                                         "failed", "requeued", "written_off"};

/* The text at "cycle.<group>.<code>", or code itself. */
static const char *code_text(http_req *r, const char *group, const char *code)
{
    const char *key = arena_printf(r->arena, "cycle.%s.%s", group, code ? code : "");
    const char *t = web_t(r, key);
    return t == key ? (code ? code : "") : t;
}

/* Unix seconds as "2026-11-29 09:25", Beijing time; "" for 0. */
static const char *unix_text(http_req *r, int64_t t)
{
    if (t <= 0) return "";
    time_t bj = (time_t)t + 8 * 3600;
    struct tm tm;
    char out[32] = "";
    if (gmtime_r(&bj, &tm)) strftime(out, sizeof out, "%Y-%m-%d %H:%M", &tm);
    return arena_strdup(r->arena, out);
}

static int is_one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(s, list[i])) return 1;
    return 0;
}

/* The {month} path parameter. */
static int path_month(http_req *r, const char **month)
{
    const char *m = http_param(r, "month");
    int32_t first;
    if (!m || strlen(m) != 7 || date_parse_month(m, &first))
        return ql_errf(&r->err, QL_ENOTFOUND, "month", "no cycle for this month",
                       "没有这个月份的发放批次");
    *month = m;
    return 0;
}

/* Whether by (a cycle's computed_by, as actor_label writes it) names the
 * signed-in account, directly or through one of its API tokens. */
static int is_me(http_req *r, const char *by)
{
    size_t n = strlen(r->who.username);
    return n && !strncmp(by, r->who.username, n) &&
           (by[n] == '\0' || !strncmp(by + n, " (token ", 8));
}

/* Puts a service's error on the page, pointing it at the element that
 * takes the value: fields of the page's forms keep their names, refusals
 * of a step (state, budget, second person) point at the actions. */
static void page_error(http_req *r, json_t *d, ql_err *err, const char *const *form_fields,
                       const char *fallback)
{
    int known = 0;
    for (size_t i = 0; form_fields && form_fields[i]; i++)
        known |= !strcmp(err->field, form_fields[i]);
    if (!known) snprintf(err->field, sizeof err->field, "%s", fallback);
    web_error(r, d, err);
}

/* The name of programme code in the page's language, from the policy
 * files published for it (the newest with a name); code itself when there
 * is none. */
static const char *programme_name(http_req *r, const char *code)
{
    json_t *list;
    ql_err err;
    if (!code || policy_list(r->db, false, &list, &err)) return code ? code : "";
    const char *name = code;
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *n = web_str(p, r->lang == LANG_EN ? "name_en" : "name_zh");
        if (strcmp(web_str(p, "programme"), code) || !n[0]) continue;
        name = arena_strdup(r->arena, n);
        break;
    }
    json_decref(list);
    return name;
}

/* The approval's refusal for a programme over its budget or without one,
 * in words for the page: the service writes "<programme> in <year>: the
 * year's cycles would pay <yuan> yuan, the budget is <yuan | none>". */
static void budget_text(http_req *r, ql_err *e)
{
    char prog[41], year[5], pay[32], budget[32];
    if (strcmp(e->field, "budget") ||
        sscanf(e->en, "%40s in %4s: the year's cycles would pay %31s yuan, the budget is %31s",
               prog, year, pay, budget) != 4)
        return;
    const char *name = programme_name(r, prog);
    const char *text =
        !strcmp(budget, "none")
            ? web_tf(r, "cycle.budget.missing", "programme", name, "year", year, "pay", pay,
                     (const char *)NULL)
            : web_tf(r, "cycle.budget.over", "programme", name, "year", year, "pay", pay,
                     "budget", budget, (const char *)NULL);
    snprintf(r->lang == LANG_EN ? e->en : e->zh, sizeof e->en, "%s", text);
}

/* ---- the job ------------------------------------------------------------ */

/* "1 payment", "3 payments": the text at "cycle.n.<what>.one" for 1 and
 * ".other" otherwise (Chinese has one form; its files say it twice). */
static const char *count_of(http_req *r, const char *what, json_int_t n)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)n);
    return web_tf(r, arena_printf(r->arena, "cycle.n.%s.%s", what, n == 1 ? "one" : "other"), "n",
                  num, (const char *)NULL);
}

static json_int_t int_of(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Why the latest export of month held payees, in words: "identity under
 * review: 1; no bank account on record: 2", or "" when it cannot be read. */
static const char *hold_reasons(http_req *r, const char *month)
{
    json_t *o;
    ql_err err;
    if (bank_holds(r->db, &r->who, month, 0, 1, &o, &err)) return "";
    const char *out = "";
    json_t *by = json_object_get(o, "by_reason");
    for (int k = 1; k < BANK_HOLD_COUNT; k++) {
        json_int_t n = int_of(by, bank_hold_name((enum bank_hold)k));
        if (!n) continue;
        const char *name = bank_hold_name((enum bank_hold)k);
        const char *key = arena_printf(r->arena, "cycle.hold.%s", name);
        const char *words = web_t(r, key);
        if (words == key) words = bank_hold_text((enum bank_hold)k, r->lang == LANG_EN);
        out = arena_printf(r->arena, "%s%s%s%s%lld", out, *out ? web_t(r, "cycle.job.sep") : "",
                           words, web_t(r, "cycle.job.colon"), (long long)n);
    }
    json_decref(o);
    return out;
}

/* What a finished job did, in the page's language, from its result: the
 * job's own message (written in English and Chinese when it ended) is
 * kept for a failure, whose words come from the service. */
static const char *job_summary(http_req *r, const char *month, json_t *job, int export)
{
    json_t *res = json_object_get(job, "result");
    if (strcmp(web_str(job, "state"), "done") || !json_is_object(res) ||
        !json_object_get(res, export ? "payments" : "entitlements"))
        return web_str(job, r->lang == LANG_EN ? "message_en" : "message_zh");
    int unchanged = json_is_true(json_object_get(res, "unchanged"));
    if (!export)
        return unchanged ? web_tf(r, "cycle.job.run_unchanged", "month", month, (const char *)NULL)
                         : web_tf(r, "cycle.job.run_done", "month", month, "subsidies",
                                  count_of(r, "subsidy", int_of(res, "entitlements")), "paid",
                                  count_of(r, "payment", int_of(res, "paid")), "total",
                                  web_str(res, "total_yuan"), (const char *)NULL);
    const char *text =
        web_tf(r, unchanged ? "cycle.job.export_unchanged" : "cycle.job.export_done", "month",
               month, "payments", count_of(r, "payment", int_of(res, "payments")), "batches",
               count_of(r, "batch", int_of(res, "all_batches")), "total",
               web_str(res, "total_yuan"), (const char *)NULL);
    json_int_t held = int_of(res, "held");
    if (!held) return text;
    const char *why = hold_reasons(r, month);
    return arena_printf(
        r->arena, "%s%s", text,
        web_tf(r, *why ? "cycle.job.held_why" : "cycle.job.held", "payees",
               count_of(r, "payee", held), "amount", web_str(res, "held_yuan"), "why", why,
               (const char *)NULL));
}

/* The data of templates/cycle_job.mustache for a job (or none). */
static json_t *job_view(http_req *r, const char *month, json_t *job)
{
    json_t *v = json_pack("{ss}", "month", month);
    if (!job) return v;
    const char *state = web_str(job, "state");
    int running = !strcmp(state, "running");
    int stale = json_is_true(json_object_get(job, "stale"));
    int64_t done = json_integer_value(json_object_get(job, "done"));
    int64_t total = json_integer_value(json_object_get(job, "total"));
    const char *kind = !strcmp(web_str(job, "kind"), "cycle.export") ? "export" : "run";
    char d[24], t[24];
    snprintf(d, sizeof d, "%lld", (long long)done);
    snprintf(t, sizeof t, "%lld", (long long)total);
    json_t *o =
        json_pack("{sIsssssssbsbsbsbsb}", "id", json_integer_value(json_object_get(job, "id")),
                  "kind_text", code_text(r, "job.kind", kind), "state", state, "state_text",
                  code_text(r, "job.state", state), "running", running && !stale, "stale",
                  running && stale, "failed", !strcmp(state, "failed"), "finished", !running,
                  "has_total", total > 0 || !running);
    /* a finished job fills its bar; a running one without a known total
     * (an export counts pages) shows an indeterminate bar */
    json_object_set_new(o, "max", json_integer(total > 0 ? total : 1));
    json_object_set_new(o, "value",
                        json_integer(total > 0  ? (done < total ? done : total)
                                     : !running ? 1
                                                : 0));
    json_object_set_new(
        o, "count_text",
        json_string(total > 0
                        ? web_tf(r, "cycle.job.count", "done", d, "total", t, (const char *)NULL)
                        : count_of(r, "page_done", done)));
    json_object_set_new(o, "message",
                        json_string(job_summary(r, month, job, !strcmp(kind, "export"))));
    json_object_set_new(
        o, "started_text",
        json_string(web_tf(r, "cycle.job.started", "who", web_str(job, "started_by"), "at",
                           unix_text(r, json_integer_value(json_object_get(job, "started_at"))),
                           (const char *)NULL)));
    json_object_set_new(v, "job", o);
    json_object_set_new(v, "polling", json_boolean(running && !stale));
    return v;
}

int web_cycle_progress(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    /* the fragment is for htmx; a browser without it gets the page */
    if (!http_header(r, "HX-Request"))
        return http_redirect(r, arena_printf(r->arena, "/cycles/%s#job", month));
    json_t *job = NULL;
    ql_err err;
    rc = jobs_latest(r->db, &r->who, month, &job, &err);
    if (rc && rc != QL_ENOTFOUND) {
        r->err = err;
        return rc;
    }
    json_t *v = job_view(r, month, job);
    json_decref(job);
    /* once the job has ended, the whole page is drawn again: its state,
     * totals and actions have changed with it */
    if (!json_is_true(json_object_get(v, "polling"))) http_set_header(r, "HX-Refresh", "true");
    return web_render(r, 200, "cycle_job", v);
}

/* ---- the months ---------------------------------------------------------- */

/* The month after the newest cycle, or this month when there is none. */
static const char *next_month(http_req *r, json_t *items)
{
    const char *newest = web_str(json_array_get(items, 0), "month");
    int32_t first;
    if (!newest[0] || date_parse_month(newest, &first))
        first = date_month_first(date_today());
    else
        first = date_month_first(date_month_last(first) + 1);
    char ymd[16];
    date_format(first, ymd, sizeof ymd);
    return arena_printf(r->arena, "%.7s", ymd);
}

static int render_cycles(http_req *r, json_t *d, int status)
{
    int64_t page = 1, total = 0;
    if (api_query_int(r, "page", 1, 1, 100000, &page)) page = 1;
    json_t *items, *budgets;
    ql_err err = {0};
    int rc = cycle_list(r->db, &r->who, (page - 1) * CYCLES_PER_PAGE, CYCLES_PER_PAGE, &items,
                        &total, &err);
    if (!rc) rc = cycle_budgets(r->db, &r->who, &budgets, &err);
    if (rc) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        json_object_set_new(o, "state_text",
                            json_string(code_text(r, "state", web_str(o, "state"))));
    }
    json_array_foreach(budgets, i, o)
    {
        json_object_set_new(
            o, "set_at_text",
            json_string(unix_text(r, json_integer_value(json_object_get(o, "set_at")))));
        const char *name = programme_name(r, web_str(o, "programme"));
        json_object_set_new(o, "programme_name", json_string(name));
        json_object_set_new(o, "same_name", json_boolean(!strcmp(name, web_str(o, "programme"))));
    }
    json_object_set_new(d, "cycles", items);
    json_object_set_new(d, "budgets", budgets);
    json_object_set_new(d, "has_budgets", json_boolean(json_array_size(budgets) > 0));
    json_object_set_new(d, "can_run", json_boolean(actor_can(&r->who, P_LEDGER_RUN)));
    json_object_set_new(d, "can_budget", json_boolean(actor_can(&r->who, P_LEDGER_APPROVE)));
    json_t *fields = json_object_get(d, "fields");
    if (!json_object_get(fields, "month")) web_field(d, "month", next_month(r, items));
    if (!json_object_get(fields, "programme")) web_field(d, "programme", "district-rent");
    if (!json_object_get(fields, "year")) {
        char y[8];
        int yy, mm, dd;
        date_to_ymd(date_today(), &yy, &mm, &dd);
        snprintf(y, sizeof y, "%d", yy);
        web_field(d, "year", y);
    }
    web_pager(r, d, "/cycles", "", page, CYCLES_PER_PAGE, total);
    return web_render(r, status, "cycles", d);
}

static json_t *cycles_page(http_req *r)
{
    json_t *d = web_page(r, web_t(r, "cycle.title"), AREA_CYCLES);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "cycle.title"));
    const char *done = http_query(r, "done");
    if (done && !strcmp(done, "budget"))
        json_object_set_new(d, "notice", json_string(web_t(r, "cycle.done.budget")));
    return d;
}

int web_cycles(http_req *r)
{
    return render_cycles(r, cycles_page(r), 200);
}

static void job_environment(http_req *r, struct job_env *env)
{
    const ql_config *cfg = http_config(r);
    env->store_url = cfg->store_url;
    env->opts.busy_timeout_ms = cfg->store_busy_timeout;
    env->opts.retries = cfg->store_retries;
    env->data_dir = cfg->data_dir;
}

int web_cycle_start(http_req *r)
{
    const char *month = http_form(r, "month");
    char m[16] = "";
    if (month) {
        while (*month == ' ') month++;
        snprintf(m, sizeof m, "%.10s", month);
        for (size_t n = strlen(m); n && m[n - 1] == ' ';) m[--n] = '\0';
    }
    struct job_env env;
    job_environment(r, &env);
    struct job_spec spec = {JOB_CYCLE_RUN, m, 0, 0};
    int64_t id;
    ql_err err = {0};
    int rc = jobs_start(r->db, &r->who, &env, &spec, &id, &err);
    if (!rc) return http_redirect(r, arena_printf(r->arena, "/cycles/%s?done=compute#job", m));
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    json_t *d = cycles_page(r);
    web_field(d, "month", month);
    page_error(r, d, &err, (const char *const[]){"month", NULL}, "month");
    return render_cycles(r, d, rc == QL_ECONFLICT ? 409 : 400);
}

int web_budget_save(http_req *r)
{
    const char *programme = http_form(r, "programme"), *year = http_form(r, "year"),
               *amount = http_form(r, "amount");
    int64_t y = 0, fen = 0;
    ql_err err = {0};
    int rc = validate_int("year", year ? year : "", 2000, 9999, &y, &err);
    if (!rc) rc = validate_money("amount", amount ? amount : "", &fen, &err);
    if (!rc) rc = cycle_budget_set(r->db, &r->who, programme ? programme : "", (int)y, fen, &err);
    if (!rc) return http_redirect(r, "/cycles?done=budget");
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    json_t *d = cycles_page(r);
    web_field(d, "programme", programme);
    web_field(d, "year", year);
    web_field(d, "amount", amount);
    page_error(r, d, &err, (const char *const[]){"programme", "year", "amount", NULL}, "amount");
    return render_cycles(r, d, 400);
}

/* ---- a month ---------------------------------------------------------------- */

/* The steps draft -> ... -> closed, those before state done. */
static json_t *steps_view(http_req *r, const char *state)
{
    int at = -1;
    for (int i = 0; i < (int)COUNT(states); i++)
        if (!strcmp(states[i], state)) at = i;
    json_t *a = json_array();
    for (int i = 0; i < (int)COUNT(states); i++)
        json_array_append_new(a,
                              json_pack("{sssbsb}", "label", code_text(r, "state", states[i]),
                                        "done", i < at || (i == at && i == 5), "current", i == at));
    return a;
}

static void entitlements_view(http_req *r, json_t *d, json_t *c)
{
    json_t *items = json_object_get(c, "items");
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        json_object_set_new(
            o, "payee_text",
            json_string(
                arena_printf(r->arena, "%s %lld", code_text(r, "payee", web_str(o, "payee_type")),
                             (long long)json_integer_value(json_object_get(o, "payee_id")))));
        /* month_index counts from 1 already (the policy's place of the month) */
        json_object_set_new(o, "month_no",
                            json_integer(json_integer_value(json_object_get(o, "month_index"))));
    }
    char shown[24], total[24];
    snprintf(shown, sizeof shown, "%zu", json_array_size(items));
    snprintf(total, sizeof total, "%lld",
             (long long)json_integer_value(json_object_get(c, "entitlements")));
    json_object_set_new(d, "has_items", json_boolean(json_array_size(items) > 0));
    json_object_set_new(d, "items_note",
                        json_string(web_tf(r, "cycle.items.note", "shown", shown, "total", total,
                                           (const char *)NULL)));
}

static void corrections_view(http_req *r, json_t *d, const char *month)
{
    json_t *rows;
    int64_t total = 0;
    ql_err err;
    if (cycle_adjustments(r->db, &r->who, month, CORRECTIONS_SHOWN, &rows, &total, &err)) return;
    size_t i;
    json_t *o;
    json_array_foreach(rows, i, o)
    {
        json_object_set_new(o, "kind_text",
                            json_string(code_text(r, "corrections", web_str(o, "kind"))));
        json_object_set_new(o, "recovery", json_boolean(!strcmp(web_str(o, "kind"), "recovery")));
        size_t k; /* the registry changes it follows from, in the page's language */
        json_t *c;
        json_array_foreach(json_object_get(o, "causes"), k, c)
        {
            json_object_set_new(c, "text",
                                json_string(web_str(c, r->lang == LANG_EN ? "en" : "zh")));
        }
    }
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)total);
    json_object_set_new(d, "corrections", rows);
    json_object_set_new(d, "has_corrections", json_boolean(total > 0));
    json_object_set_new(
        d, "corrections_note",
        json_string(web_tf(r, "cycle.corrections.note", "total", t, (const char *)NULL)));
}

/* The payments of the state chosen (?state=), a page at a time (?page=). */
static void payments_view(http_req *r, json_t *d, const char *month)
{
    /* after a refused re-send or write-off, the failed payments (payments_state) */
    const char *st = http_query(r, "state");
    if (!st) st = web_str(d, "payments_state");
    if (!is_one_of(st, pay_states, COUNT(pay_states))) st = "";
    int64_t page = 1;
    if (api_query_int(r, "page", 1, 1, 1000000, &page)) page = 1;
    json_t *o;
    ql_err err;
    if (bank_payments(r->db, &r->who, month, st, (page - 1) * PAYMENTS_PER_PAGE, PAYMENTS_PER_PAGE,
                      &o, &err))
        return;
    int can_requeue = actor_can(&r->who, P_LEDGER_RUN),
        can_write_off = actor_can(&r->who, P_LEDGER_APPROVE);
    json_t *items = json_object_get(o, "items"), *p;
    size_t i;
    json_array_foreach(items, i, p)
    {
        int failed = !strcmp(web_str(p, "state"), "failed");
        json_object_set_new(p, "state_text",
                            json_string(code_text(r, "payment_state", web_str(p, "state"))));
        json_object_set_new(
            p, "payee_text",
            json_string(
                arena_printf(r->arena, "%s %lld", code_text(r, "payee", web_str(p, "payee_type")),
                             (long long)json_integer_value(json_object_get(p, "payee_id")))));
        json_object_set_new(p, "can_fix", json_boolean(failed && (can_requeue || can_write_off)));
        json_object_set_new(p, "can_requeue", json_boolean(failed && can_requeue));
        json_object_set_new(p, "can_write_off", json_boolean(failed && can_write_off));
        /* a reason typed for this payment and refused is kept beside it */
        json_t *f = json_object_get(json_object_get(d, "fields"),
                                    arena_printf(r->arena, "reason-%s", web_str(p, "request_id")));
        if (f) json_object_set(p, "reason", f);
    }
    json_t *opts = json_array();
    json_array_append_new(opts, json_pack("{sssssb}", "value", "", "label", web_t(r, "common.all"),
                                          "selected", !st[0]));
    for (size_t k = 0; k < COUNT(pay_states); k++)
        json_array_append_new(opts, json_pack("{sssssb}", "value", pay_states[k], "label",
                                              code_text(r, "payment_state", pay_states[k]),
                                              "selected", !strcmp(st, pay_states[k])));
    json_object_set_new(d, "payment_states", opts);
    json_object_set(d, "payments", items);
    web_pager(r, d, arena_printf(r->arena, "/cycles/%s", month),
              arena_printf(r->arena, "&state=%s#payments", st), page, PAYMENTS_PER_PAGE,
              json_integer_value(json_object_get(o, "total")));
    json_decref(o);
    json_object_set_new(d, "has_payments_page", json_true());
}

static void files_view(http_req *r, json_t *d, const char *month)
{
    char dir[PATH_MAX];
    json_t *files;
    ql_err err;
    if (jobs_bank_dir(http_config(r)->data_dir, month, dir, sizeof dir, &err) ||
        cycle_files(r->db, &r->who, dir, month, &files, &err))
        return;
    json_object_set_new(d, "has_files", json_boolean(json_array_size(files) > 0));
    json_object_set_new(d, "files", files);
    json_object_set_new(d, "can_download", json_boolean(actor_can(&r->who, P_LEDGER_EXPORT)));
}

static void imports_view(http_req *r, json_t *d, const char *month)
{
    json_t *imports;
    ql_err err;
    if (cycle_imports(r->db, &r->who, month, &imports, &err)) return;
    size_t i, k;
    json_t *o, *m;
    json_array_foreach(imports, i, o)
    {
        char rows[24], paid[24], failed[24], mism[24];
        snprintf(rows, sizeof rows, "%lld",
                 (long long)json_integer_value(json_object_get(o, "records")));
        snprintf(paid, sizeof paid, "%lld",
                 (long long)json_integer_value(json_object_get(o, "paid")));
        snprintf(failed, sizeof failed, "%lld",
                 (long long)json_integer_value(json_object_get(o, "failed")));
        int64_t nm = json_integer_value(json_object_get(o, "mismatches"));
        snprintf(mism, sizeof mism, "%lld", (long long)nm);
        json_object_set_new(
            o, "summary",
            json_string(web_tf(r, "cycle.results.import", "file", web_str(o, "file_name"), "rows",
                               rows, "paid", paid, "failed", failed, "mismatches", mism, "who",
                               web_str(o, "imported_by"), "at",
                               unix_text(r, json_integer_value(json_object_get(o, "imported_at"))),
                               (const char *)NULL)));
        json_t *items = json_object_get(o, "items");
        json_array_foreach(items, k, m)
        {
            json_object_set_new(m, "problem_text",
                                json_string(code_text(r, "problem", web_str(m, "problem"))));
            json_object_set_new(m, "detail",
                                json_string(web_str(m, r->lang == LANG_EN ? "en" : "zh")));
        }
        json_object_set_new(o, "has_mismatches", json_boolean(json_array_size(items) > 0));
        json_object_set_new(o, "open", json_boolean(i == 0));
        int64_t more = nm - (int64_t)json_array_size(items);
        if (more > 0) {
            char mo[24];
            snprintf(mo, sizeof mo, "%lld", (long long)more);
            json_object_set_new(
                o, "more",
                json_string(web_tf(r, "cycle.results.more", "more", mo, (const char *)NULL)));
        }
    }
    json_object_set_new(d, "has_imports", json_boolean(json_array_size(imports) > 0));
    json_object_set_new(d, "imports", imports);
}

static json_t *yuan_text(http_req *r, json_t *c, const char *key)
{
    return json_string(
        web_tf(r, "cycle.summary.yuan", "amount", web_str(c, key), (const char *)NULL));
}

/* Draws the page of month into d (which it consumes). */
static int render_cycle(http_req *r, const char *month, json_t *d, int status)
{
    json_t *c = NULL, *job = NULL;
    ql_err err = {0}, jerr;
    int rc = cycle_get(r->db, &r->who, month, true, &c, &err);
    int jrc = jobs_latest(r->db, &r->who, month, &job, &jerr);
    if (rc && !(rc == QL_ENOTFOUND && !jrc)) {
        json_decref(job);
        json_decref(d);
        r->err = err;
        return rc;
    }
    const char *title = web_tf(r, "cycle.month_title", "month", month, (const char *)NULL);
    json_object_set_new(d, "title", json_string(title));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/cycles", web_t(r, "cycle.title"));
    web_crumb(d, NULL, month);
    json_object_set_new(d, "month", json_string(month));
    json_t *jv = job_view(r, month, job);
    int job_running = json_is_true(json_object_get(jv, "polling"));
    json_object_set_new(d, "jobv", jv);
    json_object_set_new(d, "has_job", json_boolean(job != NULL));
    json_decref(job);
    const char *state = c ? web_str(c, "state") : "";
    json_object_set_new(d, "steps", steps_view(r, state));
    int run = actor_can(&r->who, P_LEDGER_RUN), approve = actor_can(&r->who, P_LEDGER_APPROVE),
        export = actor_can(&r->who, P_LEDGER_EXPORT);
    int mine = c && is_me(r, web_str(c, "computed_by"));
    int can_compute = run && !job_running && (!c || !strcmp(state, "draft"));
    int can_approve = approve && !strcmp(state, "computed") && !mine;
    int approve_self = approve && !strcmp(state, "computed") && mine;
    int can_export =
        export && !job_running &&
        (!strcmp(state, "approved") || !strcmp(state, "exported") || !strcmp(state, "reconciled"));
    int can_upload = run && !strcmp(state, "exported");
    int can_close = approve && !strcmp(state, "reconciled");
    json_object_set_new(d, "can_compute", json_boolean(can_compute));
    json_object_set_new(d, "can_approve", json_boolean(can_approve));
    json_object_set_new(d, "approve_self", json_boolean(approve_self));
    json_object_set_new(d, "can_export", json_boolean(can_export));
    json_object_set_new(d, "can_upload", json_boolean(can_upload));
    json_object_set_new(d, "can_close", json_boolean(can_close));
    json_object_set_new(
        d, "has_actions",
        json_boolean(can_compute || can_approve || approve_self || can_export || can_close));
    json_object_set_new(
        d, "fixed",
        json_boolean(!strcmp(
            web_str(json_object_get(json_object_get(d, "fields"), "format"), "value"), "fixed")));
    if (c) {
        json_object_set_new(c, "state_text", json_string(code_text(r, "state", state)));
        json_object_set_new(c, "total_text", yuan_text(r, c, "total_yuan"));
        json_object_set_new(c, "arrears_text", yuan_text(r, c, "arrears_yuan"));
        json_object_set_new(c, "recovered_text", yuan_text(r, c, "recovered_yuan"));
        json_object_set_new(
            c, "computed_at_text",
            json_string(unix_text(r, json_integer_value(json_object_get(c, "computed_at")))));
        entitlements_view(r, d, c);
        corrections_view(r, d, month);
        payments_view(r, d, month);
        web_cycle_holds(r, d, month);
        files_view(r, d, month);
        imports_view(r, d, month);
        json_object_set_new(d, "cycle", c);
    }
    return web_render(r, status, "cycle", d);
}

/* After a step (?done=STEP, &unchanged=1 when nothing changed). */
static void done_notice(http_req *r, json_t *d)
{
    static const char *const steps[] = {"compute", "approve", "export",   "results",
                                        "close",   "requeue", "write_off"};
    const char *done = http_query(r, "done");
    if (!done || !is_one_of(done, steps, COUNT(steps))) return;
    json_object_set_new(d, "notice",
                        json_string(http_query(r, "unchanged") ? web_t(r, "cycle.done.unchanged")
                                                               : code_text(r, "done", done)));
}

int web_cycle(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    json_t *d = web_page(r, "", AREA_CYCLES);
    done_notice(r, d);
    return render_cycle(r, month, d, 200);
}

/* The page again with err on it (the fields of the forms, or the
 * actions), or the error page for what a form cannot show. */
static int step_failed(http_req *r, const char *month, int rc, ql_err *err,
                       const char *const *fields, const char *fallback)
{
    if (!web_form_can_show(rc) &&
        !(rc == QL_EFORBIDDEN && err->field[0] && actor_can(&r->who, P_LEDGER_APPROVE))) {
        r->err = *err;
        return rc;
    }
    json_t *d = web_page(r, "", AREA_CYCLES);
    for (size_t i = 0; fields && fields[i]; i++) web_field(d, fields[i], http_form(r, fields[i]));
    page_error(r, d, err, fields, fallback);
    return render_cycle(r, month, d, ql_err_http_status(rc));
}

static int done_redirect(http_req *r, const char *month, const char *step, int unchanged,
                         const char *anchor)
{
    return http_redirect(r, arena_printf(r->arena, "/cycles/%s?done=%s%s#%s", month, step,
                                         unchanged ? "&unchanged=1" : "", anchor));
}

int web_cycle_approve(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    struct cycle_approval ap;
    ql_err err = {0};
    rc = cycle_approve(r->db, &r->who, month, &ap, &err);
    if (!rc) return done_redirect(r, month, "approve", ap.unchanged, "summary");
    budget_text(r, &err);
    return step_failed(r, month, rc, &err, NULL, "actions");
}

int web_cycle_close(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    bool same;
    ql_err err = {0};
    rc = cycle_close(r->db, &r->who, month, &same, &err);
    if (!rc) return done_redirect(r, month, "close", same, "summary");
    return step_failed(r, month, rc, &err, NULL, "actions");
}

int web_cycle_export(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    const char *format = http_form(r, "format"), *batch = http_form(r, "batch_size");
    struct job_spec spec = {JOB_CYCLE_EXPORT, month, BANK_CSV, 0};
    ql_err err = {0};
    int64_t n = 0;
    if (format && !strcmp(format, "fixed"))
        spec.format = BANK_FIXED;
    else if (format && *format && strcmp(format, "csv"))
        rc = ql_errf(&err, QL_EINVAL, "format", "choose CSV or fixed-width text",
                     "请选择 CSV 或定长文本");
    if (!rc && batch && *batch &&
        !(rc = validate_int("batch_size", batch, 1, BANK_BATCH_MAX, &n, &err)))
        spec.batch_size = (int)n;
    if (!rc) {
        struct job_env env;
        job_environment(r, &env);
        int64_t id;
        rc = jobs_start(r->db, &r->who, &env, &spec, &id, &err);
    }
    if (!rc) return done_redirect(r, month, "export", 0, "job");
    return step_failed(r, month, rc, &err, (const char *const[]){"format", "batch_size", NULL},
                       "actions");
}

int web_cycle_results(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    const struct multipart_part *file = http_file(r, "file");
    ql_err err = {0};
    if (!file || !file->len) {
        rc = ql_errf(&err, QL_EINVAL, "file", "choose the bank's result file (CSV) to upload",
                     "请选择要上传的银行回盘文件（CSV）");
        return step_failed(r, month, rc, &err, (const char *const[]){"file", NULL}, "file");
    }
    const char *name = file->filename && *file->filename ? file->filename : "upload.csv";
    if (strlen(name) > 200 || !http_clean_utf8((const unsigned char *)name, strlen(name)))
        name = "upload.csv";
    struct bank_import_report rep;
    memset(&rep, 0, sizeof rep);
    rc = bank_import(r->db, &r->who, month, file->data, file->len, name, &rep, &err);
    json_decref(rep.items);
    if (!rc) return done_redirect(r, month, "results", rep.unchanged, "reconciliation");
    /* a file that is not a result file: the message names the column */
    if (rc == QL_EINVAL) snprintf(err.field, sizeof err.field, "file");
    return step_failed(r, month, rc, &err, (const char *const[]){"file", NULL}, "file");
}

/* Re-send or write off the failed payment {request_id}. */
static int fix_payment(http_req *r, int requeue)
{
    const char *month, *rid = http_param(r, "request_id"), *reason = http_form(r, "reason");
    int rc = path_month(r, &month);
    if (rc) return rc;
    char nid[33];
    ql_err err = {0};
    rc = requeue ? bank_requeue(r->db, &r->who, rid, reason, nid, &err)
                 : bank_write_off(r->db, &r->who, rid, reason, &err);
    if (!rc)
        return http_redirect(r, arena_printf(r->arena, "/cycles/%s?done=%s&state=failed#payments",
                                             month, requeue ? "requeue" : "write_off"));
    if (!web_form_can_show(rc)) {
        r->err = err;
        return rc;
    }
    /* the reason field of this payment's row */
    const char *field = arena_printf(r->arena, "reason-%s", rid ? rid : "");
    json_t *d = web_page(r, "", AREA_CYCLES);
    json_object_set_new(d, "payments_state", json_string("failed"));
    web_field(d, field, reason);
    if (!strcmp(err.field, "reason"))
        snprintf(err.field, sizeof err.field, "%s", field);
    else
        snprintf(err.field, sizeof err.field, "payments");
    web_error(r, d, &err);
    return render_cycle(r, month, d, ql_err_http_status(rc));
}

int web_payment_requeue(http_req *r)
{
    return fix_payment(r, 1);
}

int web_payment_write_off(http_req *r)
{
    return fix_payment(r, 0);
}
