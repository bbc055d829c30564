/* api.h - JSON views: handlers of the /api routes and of the service
 * endpoints (/healthz, /metrics). Each parses its input, calls the service
 * layer and writes JSON. */
#ifndef QL_API_API_H
#define QL_API_API_H

#include "account/account.h"
#include "core/export.h"
#include "http/http.h"
#include "registry/import.h"

int api_healthz(http_req *r);
int api_metrics(http_req *r);
int api_openapi(http_req *r);
int api_validate(http_req *r);

/* Names a service's field ("reason") as the body does ("body.reason"),
 * unless it is empty or named so already. */
void api_body_field(ql_err *e);

/* Reads a required string member of the request body; on failure fills
 * r->err naming "body.<name>" and returns QL_EINVAL. */
int api_body_string(http_req *r, const char *name, size_t max_len, const char **out);

/* Reads an optional whole-number query parameter within [min, max] (def
 * when absent). QL_EINVAL naming the parameter otherwise. */
int api_query_int(http_req *r, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out);

/* The {id} path parameter as a positive number; QL_ENOTFOUND otherwise. */
int api_path_id(http_req *r, int64_t *id);

/* A date query parameter ("2026-11-29") as Unix milliseconds of the start of
 * that day in Shanghai, or of the next day when next_day is set; 0 when
 * absent. QL_EINVAL naming the parameter when malformed. */
int api_day_ms(http_req *r, const char *name, int next_day, int64_t *out);

/* policy.c: GET /api/v1/policies, GET /api/v1/policies/{id} (any signed-in
 * caller), POST /api/v1/policies/check, POST /api/v1/policies (save a
 * draft), POST /api/v1/policies/{id}/activate, POST /api/v1/policies/simulate
 * (policy.manage); GET /api/v1/talents/{id}/decision (subsidy.review). */
int api_policies_list(http_req *r);
int api_policy_get(http_req *r);
int api_policy_check(http_req *r);
int api_policy_create(http_req *r);
int api_policy_activate(http_req *r);
int api_policy_simulate(http_req *r);
int api_talent_decision(http_req *r);

/* subsidy.c: POST/GET /api/v1/applications, GET /api/v1/applications/{id},
 * POST /api/v1/applications/{id}/actions, POST
 * /api/v1/applications/{id}/declarations, POST
 * /api/v1/applications/{id}/objections, POST /api/v1/objections/{id}/settle,
 * GET /api/v1/notices. The service checks permission, scope and state. */
int api_applications_create(http_req *r);
int api_applications_list(http_req *r);
int api_application_get(http_req *r);
int api_application_action(http_req *r);
int api_application_declare(http_req *r);
int api_application_objection(http_req *r);
int api_objection_settle(http_req *r);
int api_notices(http_req *r);

/* cycle.c: the monthly cycles. GET /api/v1/cycles, GET .../cycles/{month},
 * GET .../job, .../files, .../results, .../payments and GET /api/v1/budgets,
 * /api/v1/jobs/{id} (any of ledger.run, ledger.approve, ledger.export: the
 * service checks); POST .../run (ledger.run) and .../export
 * (ledger.export) start a background job and answer 202 with it; POST
 * .../approve, .../close, PUT /api/v1/budgets/{programme}/{year} and POST
 * /api/v1/payments/{request_id}/write-off (ledger.approve); POST
 * .../results (the bank's CSV as the body), /api/v1/payments/{request_id}/
 * requeue and /api/v1/collections (ledger.run); GET .../files/{name}
 * (ledger.export; audited). */
int api_cycles_list(http_req *r);
int api_cycle_get(http_req *r);
int api_cycle_run(http_req *r);
int api_cycle_export(http_req *r);
int api_cycle_job(http_req *r);
int api_job_get(http_req *r);
int api_cycle_approve(http_req *r);
int api_cycle_close(http_req *r);
int api_budgets_list(http_req *r);
int api_budget_set(http_req *r);
int api_cycle_files(http_req *r);
int api_cycle_file(http_req *r);
int api_cycle_results(http_req *r);
int api_cycle_imports(http_req *r);
int api_cycle_payments(http_req *r);
int api_payment_requeue(http_req *r);
int api_payment_write_off(http_req *r);
int api_collections_create(http_req *r);

/* ledger.c: GET /api/v1/cycles/{month}/report and GET /api/v1/reports/{year}
 * (?by=programme|tier|employer|payee_type, ?format=json|xlsx|csv: JSON or
 * the file) and GET /api/v1/talents/{id}/ledger (ledger/report.h; the
 * service checks who may read them). */
int api_cycle_report(http_req *r);
int api_year_report(http_req *r);
int api_talent_ledger(http_req *r);

/* accounts.c */
int api_me(http_req *r);

/* calendar.c: GET /api/v1/calendar/{year} (a loaded year's off and working
 * days) and GET /api/v1/calendar/workdays?from=DATE&n=N (the n-th working
 * day after from). */
int api_calendar_year(http_req *r);
int api_calendar_workdays(http_req *r);
int api_users_list(http_req *r);
int api_users_create(http_req *r);
int api_user_get(http_req *r);
int api_user_disable(http_req *r);
int api_user_enable(http_req *r);
int api_user_reset_password(http_req *r);
/* POST /api/v1/users/{id}/roles {"roles": [...], "scope": ..., "scope_id": ...}: sets an
 * account's roles and scope (duty roles a system administrator grants wait
 * for a second person); GET /api/v1/role-requests: the pending grants;
 * POST /api/v1/role-requests/{id}/confirm|refuse. */
int api_user_roles(http_req *r);
int api_role_requests(http_req *r);
int api_role_request_confirm(http_req *r);
int api_role_request_refuse(http_req *r);
int api_tokens_list(http_req *r);
int api_tokens_create(http_req *r);
int api_token_revoke(http_req *r);
int api_audit_list(http_req *r);
int api_audit_verify(http_req *r);

/* registry.c */
struct talent_filter;
/* Reads the talent list filters from the query string (q, employer_id,
 * education, level, sort, page, per_page, after_id). */
int api_talent_filter(http_req *r, struct talent_filter *f);
int api_employers_list(http_req *r);
int api_employers_create(http_req *r);
int api_employer_get(http_req *r);
int api_employer_update(http_req *r);
int api_employer_history(http_req *r);
int api_talents_list(http_req *r);
int api_talents_create(http_req *r);
int api_talent_get(http_req *r);
int api_talent_update(http_req *r);
int api_talent_unmask(http_req *r);
int api_talent_history(http_req *r);
/* A list page: {<name>: rows, total (capped at REGISTRY_COUNT_CAP), more,
 * page, per_page}. */
int api_reply_page(http_req *r, const char *name, json_t *rows, int64_t total, int64_t page,
                   int64_t per_page);
/* GET .../{id}/history of a record of type ("talent", "unit", ...). */
int api_record_history(http_req *r, const char *type);

/* payee.c: a person's payee data (registry/payee.h): GET
 * /api/v1/talents/{id}/payee, POST .../payee/changes (the person or a window
 * clerk), POST /api/v1/payee-changes/{id}/confirm and .../cancel, POST
 * /api/v1/talents/{id}/identity and /api/v1/identity-corrections/{id}/review
 * (subsidy.review); and GET /api/v1/cycles/{month}/holds (the payees a
 * cycle's export held, and why). The services check who may. */
int api_talent_payee(http_req *r);
int api_payee_change_create(http_req *r);
int api_payee_change_confirm(http_req *r);
int api_payee_change_cancel(http_req *r);
int api_identity_correct(http_req *r);
int api_identity_review(http_req *r);
int api_cycle_holds(http_req *r);

/* registry_io.c */
struct employer_filter;
/* An account change that hashes a password (a new account, whose given or
 * generated password is hashed; a reset): run on the server's pool, apart
 * from the event loops, by api_user_job_run, then done(r, job, rc) on the
 * worker. Fill create, in (strings in r->arena) or id and what, and who. */
struct api_user_job {
    int create;           /* 1: account_user_create(in); 0: account_user_apply(id, what) */
    struct user_input in;
    int64_t id;           /* the new account's (create) or the one acted on */
    enum user_action what;
    char temp[24];        /* a generated password, shown once, or "" */
    ql_err err;
    const actor *who;
};
/* Allocates a job in r->arena (zeroed, who = &r->who). */
struct api_user_job *api_user_job_new(http_req *r);
/* Returns what http_defer returns. */
int api_user_job_run(http_req *r, struct api_user_job *j, http_done_fn done);

/* Writes an export file through write (given the store s to read and a
 * path to write to) into a temporary file that is unlinked before anything
 * is written, and sends it as an attachment named STEM-YYYY-MM-DD.xlsx
 * (ASCII and UTF-8 names). The writing runs on the server's pool, apart
 * from the event loops (an export of a million rows takes seconds), so
 * this returns what http_defer returns: the handler returns it as it is.
 * ctx is copied (ctx_size bytes); whatever it points to must live in
 * r->arena, as the writer runs after the handler's frame is gone. */
typedef int (*api_export_writer)(http_req *r, store *s, const char *path,
                                 enum export_format format, int64_t *rows, void *ctx);
int api_send_file(http_req *r, const char *ascii_stem, const char *utf8_stem,
                  enum export_format format, api_export_writer write, const void *ctx,
                  size_t ctx_size);
/* The talents (tf; reason for an unmasked export) or employers (ef) export. */
int api_send_export(http_req *r, enum import_kind kind, const struct talent_filter *tf,
                    const struct employer_filter *ef, const char *reason,
                    enum export_format format);
/* Reads "xlsx" (the default, also for NULL or "") or "csv". */
int api_export_format(http_req *r, const char *value, enum export_format *out);
/* An import report as JSON: rows, bad_rows, problems, imported, warnings,
 * encoding, problem_list, committed, dry_run. */
json_t *api_import_report_json(const struct import_report *rep, int commit);
int api_talents_export(http_req *r);
int api_employers_export(http_req *r);
int api_import(http_req *r);
int api_import_template(http_req *r);

/* housing.c: operators, housing units and leases */
struct operator_filter;
struct unit_filter;
struct lease_filter;
/* Read the list filters from the query string: q, sort, page, per_page;
 * units also status, kind, district, operator_id, rooms_min, rent_min,
 * rent_max, after_id; leases also status, filed, ends_before, talent_id,
 * unit_id, operator_id, after_id. QL_EINVAL naming a malformed number. */
int api_operator_filter(http_req *r, struct operator_filter *f);
int api_unit_filter(http_req *r, struct unit_filter *f);
int api_lease_filter(http_req *r, struct lease_filter *f);
int api_operators_list(http_req *r);
/* GET .../export?format=xlsx|csv and the list's filters: the whole list. */
int api_operators_export(http_req *r);
int api_units_export(http_req *r);
int api_leases_export(http_req *r);
int api_operators_create(http_req *r);
int api_operator_get(http_req *r);
int api_operator_update(http_req *r);
int api_operator_history(http_req *r);
int api_units_list(http_req *r);
int api_units_create(http_req *r);
int api_unit_get(http_req *r);
int api_unit_update(http_req *r);
int api_unit_history(http_req *r);
int api_leases_list(http_req *r);
int api_leases_create(http_req *r);
int api_lease_get(http_req *r);
int api_lease_update(http_req *r);
int api_lease_end(http_req *r);
int api_lease_history(http_req *r);

#endif
