/* console.c - the console's pages: signing in and out, passwords, the
 * language switch, home, users and roles administration, and the logs. */
#include "web/web.h"

#include "account/account.h"
#include "api/api.h"
#include "audit/audit_query.h"
#include "auth/session.h"
#include "core/buf.h"
#include "http/server.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int english(const http_req *r)
{
    return r->lang == LANG_EN;
}

/* A "next" address after sign-in: a path on this site, or "/". */
static const char *safe_next(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
        strncmp(next, "/signin", 7) == 0)
        return "/";
    for (const char *c = next; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7F) return "/";
    return next;
}

/* ---- signing in and out --------------------------------------------- */

static int render_signin(http_req *r, int status, const char *next, const char *username,
                         const ql_err *err)
{
    /* A visitor not yet signed in gets a form token in a cookie of its own
     * (double submit; the dispatcher compares the two on POST), one this
     * server made for this client's address (web_signin checks it). */
    const char *csrf = http_cookie(r, "ql_csrf");
    char fresh[SIGNIN_FORM_TOKEN_CHARS];
    if (!account_signin_form_valid(csrf, r->who.ip, auth_now())) {
        account_signin_form_token(r->who.ip, auth_now(), fresh);
        csrf = fresh;
        http_set_cookie(r, "ql_csrf", csrf, -1);
    }
    json_t *d = web_page(r, web_t(r, "signin.title"), AREA_NONE);
    json_object_set_new(d, "form_csrf", json_string(csrf));
    json_object_set_new(d, "next", json_string(safe_next(next)));
    web_field(d, "username", username);
    if (err) web_error(r, d, err);
    return web_render(r, status, "signin", d);
}

int web_signin_form(http_req *r)
{
    const char *next = http_query(r, "next");
    if (r->who.via == VIA_SESSION) return http_redirect(r, safe_next(next));
    return render_signin(r, 200, next, "", NULL);
}

/* Signing in hashes a password (Argon2id, tens of milliseconds and 64 MiB
 * at the default cost): it runs on the server's pool, apart from the event
 * loops, and the answer is made back on the request's worker. */
struct signin_job {
    const char *username, *password, *ip, *user_agent, *device, *request_id;
    struct signin_result res;
    ql_err err;
};

static int signin_work(store *s, void *arg)
{
    struct signin_job *j = arg;
    return account_signin(s, j->username, j->password, j->ip, j->user_agent, j->device,
                          j->request_id, &j->res, &j->err);
}

static int signin_done(http_req *r, void *arg, int rc)
{
    struct signin_job *j = arg;
    const char *next = http_form(r, "next");
    if (rc) {
        if (rc == QL_EUNAVAIL) return rc; /* the server stopped before it ran */
        if (ql_err_http_status(rc) >= 500) return ql_errf(&r->err, rc, NULL, "%s", "%s", j->err.en);
        int status = rc == QL_EINVAL ? 400 : rc == QL_EFORBIDDEN ? 403 : 401;
        return render_signin(r, status, next, j->username, &j->err);
    }
    const struct session_limits *lim = account_session_limits();
    http_set_cookie(r, "ql_session", j->res.token, (long)lim->max_s);
    http_set_cookie(r, "ql_csrf", "", 0);
    http_set_cookie(r, "ql_device", j->res.device, 90L * 86400); /* a known browser */
    return http_redirect(r, j->res.must_change_password ? "/account/password" : safe_next(next));
}

int web_signin(http_req *r)
{
    const char *username = http_form(r, "username");
    const char *password = http_form(r, "password");
    if (!account_signin_form_valid(http_form(r, "_csrf"), r->who.ip, auth_now())) {
        /* a cookie this server did not make for this client (planted from a
         * sibling domain, or taken from another address), or a stale form */
        ql_err err = {0};
        ql_errf(&err, QL_EFORBIDDEN, "_csrf",
                "this sign-in form has expired or was not made for this browser; try again",
                "登录表单已过期或并非为本浏览器生成，请重试");
        return render_signin(r, 403, http_form(r, "next"), username, &err);
    }
    struct signin_job *j = arena_calloc(r->arena, 1, sizeof *j);
    j->username = username ? username : "";
    j->password = password ? password : "";
    j->ip = r->who.ip;
    j->user_agent = http_header(r, "User-Agent");
    j->device = http_cookie(r, "ql_device");
    j->request_id = r->request_id;
    return http_defer(r, signin_work, signin_done, j);
}

static int signout(http_req *r, int everywhere)
{
    int rc = account_signout(r->db, &r->who, everywhere, &r->err);
    if (rc) return rc;
    http_set_cookie(r, "ql_session", "", 0);
    return http_redirect(r, "/signin");
}

int web_signout(http_req *r)
{
    return signout(r, 0);
}

int web_signout_all(http_req *r)
{
    return signout(r, 1);
}

static json_t *password_page(http_req *r)
{
    json_t *d = web_page(r, web_t(r, "password.title"), AREA_NONE);
    char min[16];
    snprintf(min, sizeof min, "%ld", http_config(r)->password_min_length);
    json_object_set_new(d, "rules", json_string(web_tf(r, "password.rules", "min", min, (const char *)NULL)));
    json_object_set_new(d, "must_change", json_boolean(r->who.must_change_password));
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "password.title"));
    return d;
}

int web_password_form(http_req *r)
{
    return web_render(r, 200, "password", password_page(r));
}

/* Changing a password hashes two (the current one checked, the new one
 * stored): on the pool, as signing in. */
struct password_job {
    actor *who;
    const char *current, *new_password, *confirm;
    char token[AUTH_TOKEN_CHARS];
    ql_err err;
};

static int password_work(store *s, void *arg)
{
    struct password_job *j = arg;
    return account_change_password(s, j->who, j->current, j->new_password, j->confirm, j->token,
                                   &j->err);
}

static int password_done(http_req *r, void *arg, int rc)
{
    struct password_job *j = arg;
    /* the session goes on under a new token (and form token, in r->who) */
    if (!rc) http_set_cookie(r, "ql_session", j->token, (long)account_session_limits()->max_s);
    json_t *d = password_page(r);
    if (rc) {
        if (ql_err_http_status(rc) >= 500) {
            json_decref(d);
            return ql_errf(&r->err, rc, NULL, "%s", "%s", j->err.en);
        }
        web_error(r, d, &j->err);
        return web_render(r, 400, "password", d);
    }
    json_object_set_new(d, "notice", json_string(web_t(r, "password.done")));
    json_object_set_new(d, "must_change", json_false());
    return web_render(r, 200, "password", d);
}

int web_password(http_req *r)
{
    struct password_job *j = arena_calloc(r->arena, 1, sizeof *j);
    j->who = &r->who;
    j->current = http_form(r, "current_password");
    j->new_password = http_form(r, "new_password");
    j->confirm = http_form(r, "confirm_password");
    return http_defer(r, password_work, password_done, j);
}

int web_lang(http_req *r)
{
    const char *lang = http_param(r, "lang");
    if (strcmp(lang, "en") != 0 && strcmp(lang, "zh") != 0)
        return ql_errf(&r->err, QL_ENOTFOUND, "lang", "no such language", "没有这种语言");
    http_set_cookie(r, "ql_lang", lang, 365L * 86400);
    return http_redirect(r, http_query(r, "next")); /* a path on this site only */
}

/* ---- home ----------------------------------------------------------- */

int web_home(http_req *r)
{
    json_t *d = web_page(r, web_t(r, "home.title"), AREA_HOME);
    json_object_set_new(d, "heading",
                        json_string(web_tf(r, "home.heading", "name", r->who.display_name, (const char *)NULL)));
    json_t *roles = json_array();
    for (int i = 0; i < ROLE_COUNT; i++)
        if (r->who.roles & (1u << i))
            json_array_append_new(roles, json_string(role_title((enum role)i, english(r))));
    json_object_set_new(d, "roles", roles);
    return web_render(r, 200, "home", d);
}

/* ---- users ---------------------------------------------------------- */

static const char *scope_title(http_req *r, const char *scope)
{
    char key[48];
    snprintf(key, sizeof key, "scopes.%s", scope);
    return arena_strdup(r->arena, web_t(r, key));
}

/* Adds role_titles, scope_title and status for display to an account. */
static void decorate_user(http_req *r, json_t *u)
{
    json_t *titles = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(u, "roles"), i, v)
    {
        enum role role;
        if (role_parse(json_string_value(v), &role) == 0)
            json_array_append_new(titles, json_string(role_title(role, english(r))));
    }
    json_object_set_new(u, "role_titles", titles);
    json_t *pending = json_array(); /* duty roles waiting for a second person */
    json_array_foreach(json_object_get(u, "pending_roles"), i, v)
    {
        enum role role;
        if (role_parse(json_string_value(v), &role) == 0)
            json_array_append_new(pending, json_string(role_title(role, english(r))));
    }
    json_object_set_new(u, "pending_titles", pending);
    json_object_set_new(u, "scope_title",
                        json_string(scope_title(r, json_string_value(json_object_get(u, "scope")))));
    const char *status = json_is_true(json_object_get(u, "disabled")) ? "users.disabled"
                         : json_is_true(json_object_get(u, "locked")) ? "users.locked"
                         : json_is_true(json_object_get(u, "must_change_password"))
                             ? "users.must_change"
                             : "users.active";
    json_object_set_new(u, "status", json_string(web_t(r, status)));
    json_object_set_new(u, "status_code", json_string(status + strlen("users.")));
    json_object_set_new(u, "created_at_text", web_time(json_object_get(u, "created_at")));
    json_object_set_new(u, "updated_at_text", web_time(json_object_get(u, "updated_at")));
}

int web_users(http_req *r)
{
    int64_t page;
    int rc = api_query_int(r, "page", 1, 1, 1000000, &page);
    if (rc) return rc;
    const char *q = http_query(r, "q");
    json_t *rows;
    int64_t total;
    rc = account_user_list(r->db, &r->who, q, page, 20, &rows, &total, &r->err);
    if (rc) return rc;
    size_t i;
    json_t *u;
    json_array_foreach(rows, i, u) { decorate_user(r, u); }
    json_t *d = web_page(r, web_t(r, "users.title"), AREA_USERS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "users.title"));
    json_object_set_new(d, "users", rows);
    json_object_set_new(d, "q", json_string(q ? q : ""));
    json_object_set_new(d, "can_manage", json_boolean(actor_can(&r->who, P_USER_MANAGE)));
    char *enc = evhttp_encode_uri(q ? q : "");
    web_pager(r, d, "/admin/users", q && *q ? arena_printf(r->arena, "&q=%s", enc) : "", page, 20,
              total);
    free(enc);
    return web_render(r, 200, "users", d);
}

static json_t *user_form_page(http_req *r, unsigned roles, const char *scope)
{
    json_t *d = web_page(r, web_t(r, "user_new.title"), AREA_USERS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/admin/users", web_t(r, "users.title"));
    web_crumb(d, NULL, web_t(r, "user_new.title"));
    json_t *ro = json_array();
    for (int i = 0; i < ROLE_COUNT; i++)
        json_array_append_new(ro, json_pack("{s:s, s:s, s:b}", "name", role_name((enum role)i),
                                            "title", role_title((enum role)i, english(r)),
                                            "checked", (roles & (1u << i)) != 0));
    json_object_set_new(d, "role_options", ro);
    json_t *so = json_array();
    static const enum scope_kind kinds[] = {SCOPE_DISTRICT, SCOPE_DEPARTMENT, SCOPE_EMPLOYER,
                                            SCOPE_OPERATOR, SCOPE_SELF};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        json_array_append_new(so, json_pack("{s:s, s:s, s:b}", "name", scope_name(kinds[i]),
                                            "title", scope_title(r, scope_name(kinds[i])),
                                            "selected", strcmp(scope, scope_name(kinds[i])) == 0));
    json_object_set_new(d, "scope_options", so);
    return d;
}

int web_user_new(http_req *r)
{
    int rc = actor_require(&r->who, P_USER_MANAGE, &r->err);
    if (rc) return rc;
    return web_render(r, 200, "user_new", user_form_page(r, 0, "district"));
}

int web_user_page(http_req *r, int64_t id, int status, const char *notice,
                  const char *temp_password, const ql_err *err)
{
    json_t *u;
    int rc = account_user_get(r->db, &r->who, id, &u, &r->err);
    if (rc) return rc;
    decorate_user(r, u);
    json_t *d = web_page(r, json_string_value(json_object_get(u, "display_name")), AREA_USERS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, "/admin/users", web_t(r, "users.title"));
    web_crumb(d, NULL, json_string_value(json_object_get(u, "username")));
    json_object_set(d, "role_titles", json_object_get(u, "role_titles"));
    json_object_set(d, "scope_title", json_object_get(u, "scope_title"));
    json_object_set(d, "status", json_object_get(u, "status"));
    json_object_set(d, "created_at_text", json_object_get(u, "created_at_text"));
    json_object_set(d, "updated_at_text", json_object_get(u, "updated_at_text"));
    json_object_set_new(d, "user", u);
    json_object_set_new(d, "self", json_boolean(id == r->who.user_id));
    json_object_set_new(d, "can_manage", json_boolean(actor_can(&r->who, P_USER_MANAGE)));
    if (notice) json_object_set_new(d, "notice", json_string(notice));
    if (temp_password && *temp_password)
        json_object_set_new(d, "temp_password", json_string(temp_password));
    web_user_roles_data(r, d, json_object_get(d, "user"));
    if (err) web_error(r, d, err);
    return web_render(r, status, "user", d);
}

static int render_user(http_req *r, int64_t id, const char *notice, const char *temp_password)
{
    return web_user_page(r, id, 200, notice, temp_password, NULL);
}

/* The account service names roles and scopes by their codes when a role
 * is bound to one scope ("the role talent needs the scope 'self'", "the
 * scope 'self' is for the role talent"): the page says it with their
 * titles, and for the personal scope what goes into the scope id. */
static void bound_scope_text(http_req *r, ql_err *e)
{
    char role[32] = "", scope[32] = "";
    const char *key;
    if (!strcmp(e->field, "scope") &&
        sscanf(e->en, "the role %31s needs the scope '%31[^']'", role, scope) == 2)
        key = "user_new.err.role_needs_scope";
    else if (!strcmp(e->field, "roles") &&
             sscanf(e->en, "the scope '%31[^']' is for the role %31s", scope, role) == 2)
        key = "user_new.err.scope_for_role";
    else
        return;
    enum role ro;
    enum scope_kind sk;
    if (role_parse(role, &ro) || scope_parse(scope, &sk)) return;
    const char *rt = role_title(ro, english(r)), *st = scope_title(r, scope);
    const char *text = web_tf(r, key, "role", rt, "scope", st, (const char *)NULL);
    if (sk == SCOPE_SELF)
        text = arena_printf(r->arena, "%s%s", text, web_t(r, "user_new.err.self_scope_id"));
    snprintf(r->lang == LANG_EN ? e->en : e->zh, sizeof e->en, "%s", text);
}

/* The new-account form again, with what was typed and why it was refused. */
static int user_create_refused(http_req *r, int rc, const ql_err *err, unsigned roles)
{
    if (rc == QL_EFORBIDDEN || ql_err_http_status(rc) >= 500) {
        r->err = *err;
        return rc;
    }
    const char *scope = http_form(r, "scope");
    json_t *d = user_form_page(r, roles, scope ? scope : "district");
    web_field(d, "username", http_form(r, "username"));
    web_field(d, "display_name", http_form(r, "display_name"));
    web_field(d, "scope_id", http_form(r, "scope_id"));
    ql_err shown = *err;
    bound_scope_text(r, &shown);
    web_error(r, d, &shown);
    return web_render(r, rc == QL_ECONFLICT ? 409 : 400, "user_new", d);
}

static int user_create_done(http_req *r, void *arg, int rc)
{
    struct api_user_job *j = arg;
    if (rc) return user_create_refused(r, rc, &j->err, j->in.roles);
    return render_user(r, j->id, web_t(r, "user.created"), j->temp);
}

int web_user_create(http_req *r)
{
    const char *username = http_form(r, "username"), *name = http_form(r, "display_name");
    const char *scope = http_form(r, "scope"), *scope_id = http_form(r, "scope_id");
    const char *role_values[ROLE_COUNT + 4];
    int nroles = http_form_all(r, "roles", role_values, ROLE_COUNT + 4);
    unsigned roles = 0;
    ql_err err = {0};
    int rc = 0;
    for (int i = 0; i < nroles; i++) {
        enum role role;
        if (role_parse(role_values[i], &role)) {
            rc = ql_errf(&err, QL_EINVAL, "roles", "unknown role", "未知角色");
            break;
        }
        roles |= 1u << role;
    }
    enum scope_kind sk = SCOPE_DISTRICT;
    if (!rc && scope_parse(scope ? scope : "", &sk))
        rc = ql_errf(&err, QL_EINVAL, "scope", "choose a data scope", "请选择数据范围");
    if (rc) return user_create_refused(r, rc, &err, roles);
    /* the password is hashed on the pool */
    struct api_user_job *j = api_user_job_new(r);
    j->create = 1;
    j->in = (struct user_input){username ? username : "", name ? name : "", roles, sk,
                                scope_id ? scope_id : "", http_form(r, "password"), 0};
    return api_user_job_run(r, j, user_create_done);
}

int web_user(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render_user(r, id, NULL, NULL);
}

static int user_action_done(http_req *r, void *arg, int rc)
{
    struct api_user_job *j = arg;
    if (rc) {
        r->err = j->err;
        return rc;
    }
    static const char *const notices[] = {[USER_ENABLE] = "user.enabled_done",
                                          [USER_DISABLE] = "user.disabled_done",
                                          [USER_RESET_PASSWORD] = "user.reset_done"};
    return render_user(r, j->id, web_t(r, notices[j->what]), j->temp);
}

/* Enabling, disabling and resetting (which hashes a new password) run on
 * the pool, as a new account does. */
static int user_action(http_req *r, enum user_action what)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct api_user_job *j = api_user_job_new(r);
    j->id = id;
    j->what = what;
    return api_user_job_run(r, j, user_action_done);
}

int web_user_disable(http_req *r)
{
    return user_action(r, USER_DISABLE);
}

int web_user_enable(http_req *r)
{
    return user_action(r, USER_ENABLE);
}

int web_user_reset(http_req *r)
{
    return user_action(r, USER_RESET_PASSWORD);
}

/* ---- roles and logs ------------------------------------------------- */

int web_roles(http_req *r)
{
    json_t *d = web_page(r, web_t(r, "roles.title"), AREA_ROLES);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, web_t(r, "roles.title"));
    json_t *titles = json_array();
    for (int i = 0; i < ROLE_COUNT; i++)
        json_array_append_new(titles, json_string(role_title((enum role)i, english(r))));
    json_object_set_new(d, "role_titles", titles);
    json_t *matrix = json_array();
    for (int p = 0; p < P_COUNT; p++) {
        json_t *cells = json_array();
        for (int i = 0; i < ROLE_COUNT; i++)
            json_array_append_new(cells, json_pack("{s:b}", "yes",
                                                   (role_perms((enum role)i) & PERM_BIT(p)) != 0));
        json_array_append_new(matrix, json_pack("{s:s, s:s, s:o}", "name", perm_name((enum perm)p),
                                                "title", perm_title((enum perm)p, english(r)),
                                                "cells", cells));
    }
    json_object_set_new(d, "matrix", matrix);
    return web_render(r, 200, "roles", d);
}

static int log_page(http_req *r, int signins)
{
    int64_t page;
    struct audit_filter f = {.action_prefix = signins ? "auth." : http_query(r, "action"),
                             .actor = http_query(r, "actor")};
    int rc = api_query_int(r, "page", 1, 1, 1000000, &page);
    if (!rc) rc = api_day_ms(r, "from", 0, &f.from_ms);
    if (!rc) rc = api_day_ms(r, "to", 1, &f.to_ms);
    if (f.actor && !*f.actor) f.actor = NULL;
    json_t *rows = NULL;
    int64_t total = 0;
    if (!rc) rc = audit_list(r->db, &r->who, &f, page, 50, &rows, &total, &r->err);
    if (rc) return rc;
    size_t i;
    json_t *e;
    json_array_foreach(rows, i, e)
    {
        char *text = json_dumps(json_object_get(e, "detail"), JSON_COMPACT | JSON_SORT_KEYS);
        json_object_set_new(e, "detail_text", json_string(text ? text : "{}"));
        free(text);
        json_object_set_new(e, "at_text", web_time(json_object_get(e, "at")));
    }
    const char *title = web_t(r, signins ? "audit.signins_title" : "audit.title");
    json_t *d = web_page(r, title, signins ? AREA_SIGNINS : AREA_AUDIT);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, title);
    json_object_set_new(d, "heading",
                        json_string(web_t(r, signins ? "audit.signins_heading" : "audit.heading")));
    json_object_set_new(d, "entries", rows);
    json_object_set_new(d, "signins", json_boolean(signins));
    const char *base = signins ? "/admin/signins" : "/admin/audit";
    json_object_set_new(d, "base", json_string(base));
    json_t *fv = json_object();
    static const char *const keys[] = {"action", "actor", "from", "to"};
    buf keep;
    buf_init(&keep, 0);
    for (size_t k = 0; k < 4; k++) {
        const char *v = http_query(r, keys[k]);
        json_object_set_new(fv, keys[k], json_string(v ? v : ""));
        if (v && *v) {
            char *enc = evhttp_encode_uri(v);
            buf_printf(&keep, "&%s=%s", keys[k], enc ? enc : "");
            free(enc);
        }
    }
    json_object_set_new(d, "f", fv);
    web_pager(r, d, base, keep.data ? arena_strdup(r->arena, keep.data) : "", page, 50, total);
    buf_free(&keep);
    return web_render(r, 200, "audit", d);
}

int web_audit(http_req *r)
{
    return log_page(r, 0);
}

int web_signins(http_req *r)
{
    return log_page(r, 1);
}
