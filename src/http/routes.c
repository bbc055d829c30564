/* routes.c - the route table: every URL the server answers, with its
 * handler, who may call it and its body limit. docs/openapi.json describes
 * the JSON routes and the public ones; tests/api checks that the two agree,
 * and that no route answers without a session or token unless it is public
 * on purpose. */
#include "api/api.h"
#include "http/http.h"
#include "http/static.h"
#include "web/web.h"

#define FORM_LIMIT   16384     /* console forms */
#define IMPORT_LIMIT (16u << 20) /* CSV imports (server.body_limit must allow them too) */

const http_route http_routes[] = {
    /* public on purpose: probes, the API description, static files, signing in */
    {HTTP_GET, "/healthz", api_healthz, ROUTE_PUBLIC, 0, 0},
    {HTTP_GET, "/api/openapi.json", api_openapi, ROUTE_PUBLIC, 0, 0},
    {HTTP_GET, "/static/{path}", http_static, ROUTE_PUBLIC, 0, ROUTE_REST},
    {HTTP_GET, "/signin", web_signin_form, ROUTE_PUBLIC, 0, ROUTE_HTML},
    {HTTP_POST, "/signin", web_signin, ROUTE_PUBLIC, FORM_LIMIT, ROUTE_HTML | ROUTE_FORM},
    {HTTP_GET, "/lang/{lang}", web_lang, ROUTE_PUBLIC, 0, ROUTE_HTML},

    /* any signed-in account */
    {HTTP_GET, "/", web_home, ROUTE_SIGNED_IN, 0, ROUTE_HTML},
    {HTTP_POST, "/signout", web_signout, ROUTE_SIGNED_IN, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM | ROUTE_PW_CHANGE},
    {HTTP_POST, "/signout/all", web_signout_all, ROUTE_SIGNED_IN, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM | ROUTE_PW_CHANGE},
    {HTTP_GET, "/account/password", web_password_form, ROUTE_SIGNED_IN, 0,
     ROUTE_HTML | ROUTE_PW_CHANGE},
    {HTTP_POST, "/account/password", web_password, ROUTE_SIGNED_IN, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM | ROUTE_PW_CHANGE},
    {HTTP_GET, "/api/v1/me", api_me, ROUTE_SIGNED_IN, 0, ROUTE_PW_CHANGE},

    /* console: administration */
    {HTTP_GET, "/admin/users", web_users, P_USER_READ, 0, ROUTE_HTML},
    {HTTP_GET, "/admin/users/new", web_user_new, P_USER_MANAGE, 0, ROUTE_HTML},
    {HTTP_POST, "/admin/users", web_user_create, P_USER_MANAGE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_GET, "/admin/users/{id}", web_user, P_USER_READ, 0, ROUTE_HTML},
    {HTTP_POST, "/admin/users/{id}/disable", web_user_disable, P_USER_MANAGE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_POST, "/admin/users/{id}/enable", web_user_enable, P_USER_MANAGE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_POST, "/admin/users/{id}/reset-password", web_user_reset, P_USER_MANAGE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_GET, "/admin/roles", web_roles, P_ROLE_READ, 0, ROUTE_HTML},
    {HTTP_GET, "/admin/audit", web_audit, P_AUDIT_READ, 0, ROUTE_HTML},
    {HTTP_GET, "/admin/signins", web_signins, P_AUDIT_READ, 0, ROUTE_HTML},

    /* console: registry (the more specific paths first) */
    {HTTP_GET, "/registry/talents", web_talents, P_REGISTRY_READ, 0, ROUTE_HTML},
    {HTTP_GET, "/registry/talents/new", web_talent_new, P_REGISTRY_WRITE, 0, ROUTE_HTML},
    {HTTP_GET, "/registry/talents/export", web_talents_export, P_REGISTRY_READ, 0, ROUTE_HTML},
    {HTTP_POST, "/registry/talents/export", web_talents_export_unmasked, P_PERSONAL_UNMASK,
     FORM_LIMIT, ROUTE_HTML | ROUTE_FORM},
    {HTTP_POST, "/registry/talents", web_talent_create, P_REGISTRY_WRITE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_GET, "/registry/talents/{id}", web_talent, P_REGISTRY_READ, 0, ROUTE_HTML},
    {HTTP_GET, "/registry/talents/{id}/edit", web_talent_edit, P_REGISTRY_WRITE, 0, ROUTE_HTML},
    {HTTP_POST, "/registry/talents/{id}", web_talent_update, P_REGISTRY_WRITE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_POST, "/registry/talents/{id}/unmask", web_talent_unmask, P_PERSONAL_UNMASK,
     FORM_LIMIT, ROUTE_HTML | ROUTE_FORM},
    {HTTP_GET, "/registry/employers", web_employers, P_REGISTRY_READ, 0, ROUTE_HTML},
    {HTTP_GET, "/registry/employers/new", web_employer_new, P_REGISTRY_WRITE, 0, ROUTE_HTML},
    {HTTP_GET, "/registry/employers/export", web_employers_export, P_REGISTRY_READ, 0,
     ROUTE_HTML},
    {HTTP_POST, "/registry/employers", web_employer_create, P_REGISTRY_WRITE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_GET, "/registry/employers/{id}", web_employer, P_REGISTRY_READ, 0, ROUTE_HTML},
    {HTTP_GET, "/registry/employers/{id}/edit", web_employer_edit, P_REGISTRY_WRITE, 0,
     ROUTE_HTML},
    {HTTP_POST, "/registry/employers/{id}", web_employer_update, P_REGISTRY_WRITE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},
    {HTTP_GET, "/registry/import", web_import_form, P_REGISTRY_WRITE, 0, ROUTE_HTML},
    {HTTP_POST, "/registry/import", web_import_check, P_REGISTRY_WRITE, IMPORT_LIMIT,
     ROUTE_HTML | ROUTE_UPLOAD},
    {HTTP_GET, "/registry/import/template/{kind}", web_import_template, P_REGISTRY_READ, 0,
     ROUTE_HTML},
    {HTTP_POST, "/registry/import/{token}", web_import_commit, P_REGISTRY_WRITE, FORM_LIMIT,
     ROUTE_HTML | ROUTE_FORM},

    /* JSON API */
    {HTTP_GET, "/metrics", api_metrics, P_SYSTEM_METRICS, 0, 0},
    {HTTP_POST, "/api/v1/validate", api_validate, P_SERVICE_VALIDATE, 4096, ROUTE_JSON},
    {HTTP_GET, "/api/v1/users", api_users_list, P_USER_READ, 0, 0},
    {HTTP_POST, "/api/v1/users", api_users_create, P_USER_MANAGE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/users/{id}", api_user_get, P_USER_READ, 0, 0},
    {HTTP_POST, "/api/v1/users/{id}/disable", api_user_disable, P_USER_MANAGE, 0, 0},
    {HTTP_POST, "/api/v1/users/{id}/enable", api_user_enable, P_USER_MANAGE, 0, 0},
    {HTTP_POST, "/api/v1/users/{id}/reset-password", api_user_reset_password, P_USER_MANAGE, 0,
     0},
    {HTTP_GET, "/api/v1/tokens", api_tokens_list, P_TOKEN_MANAGE, 0, 0},
    {HTTP_POST, "/api/v1/tokens", api_tokens_create, P_TOKEN_MANAGE, 8192, ROUTE_JSON},
    {HTTP_DELETE, "/api/v1/tokens/{id}", api_token_revoke, P_TOKEN_MANAGE, 0, 0},
    {HTTP_GET, "/api/v1/audit", api_audit_list, P_AUDIT_READ, 0, 0},
    {HTTP_GET, "/api/v1/audit/verify", api_audit_verify, P_AUDIT_VERIFY, 0, 0},
    {HTTP_GET, "/api/v1/employers", api_employers_list, P_REGISTRY_READ, 0, 0},
    {HTTP_GET, "/api/v1/employers/export", api_employers_export, P_REGISTRY_READ, 0, 0},
    {HTTP_POST, "/api/v1/employers", api_employers_create, P_REGISTRY_WRITE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/employers/{id}", api_employer_get, P_REGISTRY_READ, 0, 0},
    {HTTP_PUT, "/api/v1/employers/{id}", api_employer_update, P_REGISTRY_WRITE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/employers/{id}/history", api_employer_history, P_REGISTRY_READ, 0, 0},
    {HTTP_GET, "/api/v1/talents", api_talents_list, P_REGISTRY_READ, 0, 0},
    {HTTP_GET, "/api/v1/talents/export", api_talents_export, P_REGISTRY_READ, 0, 0},
    {HTTP_POST, "/api/v1/talents", api_talents_create, P_REGISTRY_WRITE, 16384, ROUTE_JSON},
    {HTTP_GET, "/api/v1/talents/{id}", api_talent_get, P_REGISTRY_READ, 0, 0},
    {HTTP_PUT, "/api/v1/talents/{id}", api_talent_update, P_REGISTRY_WRITE, 16384, ROUTE_JSON},
    {HTTP_POST, "/api/v1/talents/{id}/unmask", api_talent_unmask, P_PERSONAL_UNMASK, 4096,
     ROUTE_JSON},
    {HTTP_GET, "/api/v1/talents/{id}/history", api_talent_history, P_REGISTRY_READ, 0, 0},
    /* registry: rental housing (operators, units, leases) */
    {HTTP_GET, "/api/v1/operators", api_operators_list, P_REGISTRY_READ, 0, 0},
    {HTTP_POST, "/api/v1/operators", api_operators_create, P_REGISTRY_WRITE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/operators/{id}", api_operator_get, P_REGISTRY_READ, 0, 0},
    {HTTP_PUT, "/api/v1/operators/{id}", api_operator_update, P_REGISTRY_WRITE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/operators/{id}/history", api_operator_history, P_REGISTRY_READ, 0, 0},
    {HTTP_GET, "/api/v1/units", api_units_list, P_REGISTRY_READ, 0, 0},
    {HTTP_POST, "/api/v1/units", api_units_create, P_HOUSING_MANAGE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/units/{id}", api_unit_get, P_REGISTRY_READ, 0, 0},
    {HTTP_PUT, "/api/v1/units/{id}", api_unit_update, P_HOUSING_MANAGE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/units/{id}/history", api_unit_history, P_REGISTRY_READ, 0, 0},
    {HTTP_GET, "/api/v1/leases", api_leases_list, P_REGISTRY_READ, 0, 0},
    {HTTP_POST, "/api/v1/leases", api_leases_create, P_HOUSING_MANAGE, 8192, ROUTE_JSON},
    {HTTP_GET, "/api/v1/leases/{id}", api_lease_get, P_REGISTRY_READ, 0, 0},
    {HTTP_PUT, "/api/v1/leases/{id}", api_lease_update, P_HOUSING_MANAGE, 8192, ROUTE_JSON},
    {HTTP_POST, "/api/v1/leases/{id}/end", api_lease_end, P_HOUSING_MANAGE, 4096, ROUTE_JSON},
    {HTTP_GET, "/api/v1/leases/{id}/history", api_lease_history, P_REGISTRY_READ, 0, 0},
    {HTTP_GET, "/api/v1/imports/{kind}/template", api_import_template, P_REGISTRY_READ, 0, 0},
    {HTTP_POST, "/api/v1/imports/{kind}", api_import, P_REGISTRY_WRITE, IMPORT_LIMIT, 0},
};

const size_t http_nroutes = sizeof http_routes / sizeof http_routes[0];
