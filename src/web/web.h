/* web.h - HTML views: the console's pages, rendered from the Mustache
 * templates and the strings of both languages compiled into the binary
 * (templates/NAME.mustache, i18n/zh-CN.json, i18n/en.json). */
#ifndef QL_WEB_WEB_H
#define QL_WEB_WEB_H

#include "http/http.h"

#include <stdint.h>

/* Prepares the templates and strings and checks that every embedded
 * template parses. Call once before serving. Returns 0 or QL_EINVAL with
 * err naming the template, line and column. */
int web_init(ql_err *err);

/* Frees the templates and strings. */
void web_shutdown(void);

/* The string at path ("users.heading") in the request's language; the path
 * itself when there is none. */
const char *web_t(const http_req *r, const char *path);

/* The same with {{name}} placeholders replaced: name/value pairs follow,
 * ended by NULL. Returns an arena string. */
char *web_tf(http_req *r, const char *path, ...) __attribute__((sentinel));

/* Areas of the console, for the menu's current item. */
enum web_area {
    AREA_NONE,
    AREA_HOME,
    AREA_TALENTS,
    AREA_EMPLOYERS,
    AREA_IMPORT,
    AREA_UNITS,
    AREA_LEASES,
    AREA_OPERATORS,
    AREA_USERS,
    AREA_ROLES,
    AREA_ROLE_REQUESTS,
    AREA_AUDIT,
    AREA_SIGNINS,
    AREA_APPLY,
    AREA_SUBSIDY,
    AREA_NOTICES,
    AREA_POLICIES,
    AREA_CALENDAR,
    AREA_CYCLES,
    AREA_PAYEE
};

/* The data every page starts from: title, strings (t), the signed-in
 * account (me), its form token (csrf), the menu built from its permissions
 * (nav), the current address (here, for the language switch), and empty
 * errors, fields and breadcrumb. Owned by the caller (a reference). */
json_t *web_page(http_req *r, const char *title, enum web_area current);

/* "2026-11-29T09:25:41+08:00" as "2026-11-29 09:25" (Beijing time), for
 * tables. */
json_t *web_time(const json_t *iso);

/* Adds a breadcrumb step; href NULL for the current page. */
void web_crumb(json_t *page, const char *href, const char *label);

/* Keeps what the user typed in a form field (fields.NAME.value). */
void web_field(json_t *page, const char *name, const char *value);

/* The message of err in the request's language, for a person at a form:
 * a leading "FIELD：" or "FIELD: " (a service names the field by its key)
 * becomes the field's label (the page's form_fields, else the strings
 * "registry.field.FIELD" or "field.FIELD"). Returns err's own text, or out
 * (n bytes, WEB_ERR_MESSAGE_MAX is enough) when relabelled. */
#define WEB_ERR_MESSAGE_MAX 512
const char *web_err_message(http_req *r, json_t *page, const ql_err *err, char *out, size_t n);

/* Adds err to the page's error summary (errors[], linking to the field) and
 * beside its field (fields.FIELD.error), in the request's language, the
 * field named by its label (web_err_message). */
void web_error(http_req *r, json_t *page, const ql_err *err);

/* Sets pager (text, prev, next links), results ("N in all") and has_rows.
 * base is the page's path, extra_query more "&k=v" to keep (may be ""). */
char *web_pager(http_req *r, json_t *page, const char *base, const char *extra_query,
                int64_t page_no, int64_t per_page, int64_t total);

/* Renders template name with data (a reference is stolen) and answers with
 * it as text/html. */
int web_render(http_req *r, int status, const char *name, json_t *data);

/* Answers with the console's error page for status and message. */
int web_error_page(http_req *r, int status, const char *message);

/* Console routes (console.c). */
int web_signin_form(http_req *r);
int web_signin(http_req *r);
int web_signout(http_req *r);
int web_signout_all(http_req *r);
int web_password_form(http_req *r);
int web_password(http_req *r);
int web_lang(http_req *r);
int web_home(http_req *r);
int web_users(http_req *r);
int web_user_new(http_req *r);
int web_user_create(http_req *r);
int web_user(http_req *r);
int web_user_disable(http_req *r);
int web_user_enable(http_req *r);
int web_user_reset(http_req *r);
int web_roles(http_req *r);
/* duties.c: an account's roles and scope, and the grants of duty roles that
 * wait for a second person. */
int web_user_roles(http_req *r);
int web_role_requests(http_req *r);
int web_role_request_confirm(http_req *r);
int web_role_request_refuse(http_req *r);
/* Adds to an account's page d (user: its state) what the roles form needs:
 * pending_titles, can_grant, grant_role_options, grant_scope_options. */
void web_user_roles_data(http_req *r, json_t *d, const json_t *user);
/* console.c: an account's page (status, a notice, a temporary password to
 * show once, errors of its roles form), for duties.c too. */
int web_user_page(http_req *r, int64_t id, int status, const char *notice,
                  const char *temp_password, const ql_err *err);
int web_audit(http_req *r);
int web_signins(http_req *r);

/* registry.c: talents, employers, exports and imports */
int web_talents(http_req *r);
int web_talent(http_req *r);
int web_talent_new(http_req *r);
int web_talent_create(http_req *r);
int web_talent_edit(http_req *r);
int web_talent_update(http_req *r);
int web_talent_unmask(http_req *r);
int web_talents_export(http_req *r);
int web_talents_export_unmasked(http_req *r);
int web_employers(http_req *r);
int web_employer(http_req *r);
int web_employer_new(http_req *r);
int web_employer_create(http_req *r);
int web_employer_edit(http_req *r);
int web_employer_update(http_req *r);
int web_employers_export(http_req *r);
int web_import_form(http_req *r);
int web_import_check(http_req *r);
int web_import_commit(http_req *r);
int web_import_template(http_req *r);

/* housing.c: operators, housing units and leases */
int web_operators(http_req *r);
int web_operator(http_req *r);
int web_operator_new(http_req *r);
int web_operator_create(http_req *r);
int web_operator_edit(http_req *r);
int web_operator_update(http_req *r);
int web_units(http_req *r);
int web_unit(http_req *r);
int web_unit_new(http_req *r);
int web_unit_create(http_req *r);
int web_unit_edit(http_req *r);
int web_unit_update(http_req *r);
int web_leases(http_req *r);
int web_lease(http_req *r);
int web_lease_new(http_req *r);
int web_lease_create(http_req *r);
int web_lease_edit(http_req *r);
int web_lease_update(http_req *r);
int web_lease_end(http_req *r);

/* subsidy.c: the staff queue and application pages, the notice list, and
 * the applicant's pages */
int web_subsidy_list(http_req *r);
int web_subsidy_app(http_req *r);
int web_subsidy_action(http_req *r);
int web_subsidy_object(http_req *r);
int web_subsidy_settle(http_req *r);
int web_notices(http_req *r);
int web_apply_home(http_req *r);
int web_apply_start(http_req *r);
int web_apply_app(http_req *r);
int web_apply_declare_form(http_req *r);
int web_apply_declare(http_req *r);
int web_apply_check(http_req *r);
int web_apply_submit(http_req *r);
int web_apply_done(http_req *r);

/* policy.c: policies (list, a file, the editor, activation, what-if) and
 * the working-day calendar */
int web_policies(http_req *r);
int web_policy(http_req *r);
int web_policy_new(http_req *r);
int web_policy_save(http_req *r);
int web_policy_activate(http_req *r);
int web_policy_simulate_form(http_req *r);
int web_policy_simulate(http_req *r);
int web_calendar(http_req *r);

/* cycle.c: the monthly cycles: the months (with the forms to compute a
 * month and set a budget), a month's page (its steps, job with progress,
 * totals, entitlements, corrections, payments, batch files, results and
 * reconciliation, and the actions the account may take), the job's
 * progress as a fragment for htmx, and the forms behind the actions */
int web_cycles(http_req *r);
int web_cycle_start(http_req *r);
int web_budget_save(http_req *r);
int web_cycle(http_req *r);
int web_cycle_progress(http_req *r);
int web_cycle_approve(http_req *r);
int web_cycle_export(http_req *r);
int web_cycle_results(http_req *r);
int web_cycle_close(http_req *r);
int web_payment_requeue(http_req *r);
int web_payment_write_off(http_req *r);

/* payee.c: a person's payee data (registry/payee.h): the person's own page
 * (/payee: the card, a change to ask for, confirm or cancel, the
 * notifications), a person's page for staff (/registry/talents/{id}/payee:
 * a change entered at a window, its confirmation by a second clerk, name
 * and ID number corrections and their review), and the forms behind them. */
int web_payee_self(http_req *r);
int web_payee_self_request(http_req *r);
int web_payee_confirm(http_req *r);
int web_payee_cancel(http_req *r);
int web_talent_payee(http_req *r);
int web_talent_payee_request(http_req *r);
int web_identity_correct(http_req *r);
int web_identity_review(http_req *r);
/* Sets page.holds: the payees the latest export of month held, and why
 * (nothing when the account may not read them). */
void web_cycle_holds(http_req *r, json_t *page, const char *month);

#endif
