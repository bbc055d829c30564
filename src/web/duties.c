/* duties.c - the console's pages for the separation of duties: an
 * account's roles and scope (the form on its page), and the grants of duty
 * roles that wait for a second person (/admin/role-requests). The rules
 * are the accounts service's (account.h). */
#include "web/web.h"

#include "account/account.h"
#include "api/api.h"

#include <stdio.h>
#include <string.h>

static int english(const http_req *r)
{
    return r->lang == LANG_EN;
}

static const char *scope_title(http_req *r, const char *scope)
{
    char key[48];
    snprintf(key, sizeof key, "scopes.%s", scope);
    return arena_strdup(r->arena, web_t(r, key));
}

/* Role titles of a JSON array of role names, joined with "、" or ", ". */
static char *titles_text(http_req *r, const json_t *names)
{
    char out[512] = "";
    size_t used = 0, i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        enum role role;
        if (role_parse(json_string_value(v), &role)) continue;
        int w = snprintf(out + used, sizeof out - used, "%s%s",
                         used ? (english(r) ? ", " : "、") : "", role_title(role, english(r)));
        if (w > 0 && (size_t)w < sizeof out - used) used += (size_t)w;
    }
    return arena_strdup(r->arena, out);
}

static unsigned role_set(const json_t *names)
{
    unsigned set = 0;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        enum role role;
        if (role_parse(json_string_value(v), &role) == 0) set |= 1u << role;
    }
    return set;
}

void web_user_roles_data(http_req *r, json_t *d, const json_t *user)
{
    const json_t *pending = json_object_get(user, "pending_roles");
    json_t *pt = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(pending, i, v)
    {
        enum role role;
        if (role_parse(json_string_value(v), &role) == 0)
            json_array_append_new(pt, json_string(role_title(role, english(r))));
    }
    json_object_set_new(d, "pending_titles", pt);
    json_object_set_new(d, "has_pending", json_boolean(json_array_size(pending) > 0));
    int64_t id = json_integer_value(json_object_get(user, "id"));
    /* whoever resets a password learns it: a duty role's is reset on the
     * command line (account_user_reset_password) */
    json_object_set_new(d, "reset_allowed",
                        json_boolean(!(role_set(json_object_get(user, "roles")) & ROLE_DUTIES)));
    int can = actor_can(&r->who, P_ROLE_GRANT) && id != r->who.user_id;
    json_object_set_new(d, "can_grant", json_boolean(can));
    if (!can) return;
    unsigned held = role_set(json_object_get(user, "roles")), waiting = role_set(pending);
    json_t *ro = json_array();
    for (int k = 0; k < ROLE_COUNT; k++)
        json_array_append_new(
            ro, json_pack("{s:s, s:s, s:b, s:b, s:b}", "name", role_name((enum role)k), "title",
                          role_title((enum role)k, english(r)), "checked",
                          ((held | waiting) & (1u << k)) != 0, "pending",
                          (waiting & (1u << k)) != 0, "duty", (ROLE_DUTIES & (1u << k)) != 0));
    json_object_set_new(d, "grant_role_options", ro);
    const char *scope = json_string_value(json_object_get(user, "scope"));
    json_t *so = json_array();
    static const enum scope_kind kinds[] = {SCOPE_DISTRICT, SCOPE_DEPARTMENT, SCOPE_EMPLOYER,
                                            SCOPE_OPERATOR, SCOPE_SELF};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        json_array_append_new(so,
                              json_pack("{s:s, s:s, s:b}", "name", scope_name(kinds[k]), "title",
                                        scope_title(r, scope_name(kinds[k])), "selected",
                                        scope && strcmp(scope, scope_name(kinds[k])) == 0));
    json_object_set_new(d, "grant_scope_options", so);
    json_object_set(d, "grant_scope_id", json_object_get(user, "scope_id"));
    json_object_set_new(d, "may_confirm_alone", json_boolean(actor_can(&r->who, P_ROLE_CONFIRM)));
}

int web_user_roles(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *values[ROLE_COUNT + 4];
    int n = http_form_all(r, "roles", values, ROLE_COUNT + 4);
    unsigned roles = 0;
    ql_err err = {0};
    for (int i = 0; i < n && !rc; i++) {
        enum role role;
        if (role_parse(values[i], &role))
            rc = ql_errf(&err, QL_EINVAL, "roles", "unknown role", "未知角色");
        else
            roles |= 1u << role;
    }
    const char *scope = http_form(r, "scope"), *scope_id = http_form(r, "scope_id");
    enum scope_kind sk = SCOPE_DISTRICT;
    if (!rc && scope_parse(scope ? scope : "", &sk))
        rc = ql_errf(&err, QL_EINVAL, "scope", "choose a data scope", "请选择数据范围");
    struct role_change ch;
    memset(&ch, 0, sizeof ch);
    if (!rc)
        rc = account_user_set_roles(r->db, &r->who, id, roles, sk, scope_id ? scope_id : "", &ch,
                                    &err);
    if (rc) {
        if (rc == QL_EFORBIDDEN || rc == QL_ENOTFOUND || ql_err_http_status(rc) >= 500) {
            r->err = err;
            return rc;
        }
        return web_user_page(r, id, rc == QL_ECONFLICT ? 409 : 400, NULL, NULL, &err);
    }
    json_t *names = account_roles_json(ch.requested);
    const char *notice = ch.requested ? web_tf(r, "user.roles_requested", "roles",
                                               titles_text(r, names), (const char *)NULL)
                                      : web_t(r, "user.roles_done");
    json_decref(names);
    return web_user_page(r, id, 200, notice, NULL, NULL);
}

static int render_requests(http_req *r, int status, const char *notice, const ql_err *err)
{
    json_t *rows;
    int rc = account_role_requests(r->db, &r->who, 0, &rows, &r->err);
    if (rc) return rc;
    size_t i;
    json_t *q;
    json_array_foreach(rows, i, q)
    {
        enum role role;
        if (role_parse(json_string_value(json_object_get(q, "role")), &role) == 0)
            json_object_set_new(q, "role_title", json_string(role_title(role, english(r))));
        json_object_set_new(q, "at_text", web_time(json_object_get(q, "requested_at")));
    }
    const char *title = web_t(r, "role_requests.title");
    json_t *d = web_page(r, title, AREA_ROLE_REQUESTS);
    web_crumb(d, "/", web_t(r, "nav.home"));
    web_crumb(d, NULL, title);
    json_object_set_new(d, "has_requests", json_boolean(json_array_size(rows) > 0));
    json_object_set_new(d, "requests", rows);
    if (notice) json_object_set_new(d, "notice", json_string(notice));
    if (err) web_error(r, d, err);
    return web_render(r, status, "role_requests", d);
}

int web_role_requests(http_req *r)
{
    return render_requests(r, 200, NULL, NULL);
}

static int decide(http_req *r, int confirm)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    ql_err err = {0};
    rc = account_role_decide(r->db, &r->who, id, confirm, &err);
    if (rc) {
        if (ql_err_http_status(rc) >= 500) {
            r->err = err;
            return rc;
        }
        /* why not, on the list it was chosen from (no field to link to) */
        err.field[0] = '\0';
        return render_requests(r, ql_err_http_status(rc), NULL, &err);
    }
    return render_requests(
        r, 200, web_t(r, confirm ? "role_requests.confirmed" : "role_requests.refused"), NULL);
}

int web_role_request_confirm(http_req *r)
{
    return decide(r, 1);
}

int web_role_request_refuse(http_req *r)
{
    return decide(r, 0);
}
