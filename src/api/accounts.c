/* accounts.c - JSON views of the accounts service: the caller, users, API
 * tokens, the audit log. */
#include "api/api.h"

#include "account/account.h"
#include "audit/audit.h"
#include "audit/audit_query.h"
#include "core/date.h"

#include <stdlib.h>
#include <string.h>

/* Reads an optional whole-number query parameter within [min, max]. */
int api_query_int(http_req *r, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out)
{
    const char *v = http_query(r, name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end || n < min || n > max)
        return ql_errf(&r->err, QL_EINVAL, name, "%s must be a whole number from %lld to %lld",
                       "%s 必须是 %lld 到 %lld 之间的整数", name, (long long)min, (long long)max);
    *out = n;
    return 0;
}

/* The {id} path parameter as a positive number. */
int api_path_id(http_req *r, int64_t *id)
{
    const char *v = http_param(r, "id");
    char *end;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || *end || n < 1)
        return ql_errf(&r->err, QL_ENOTFOUND, "id", "no such record", "没有这条记录");
    *id = n;
    return 0;
}

static json_t *actor_json(const actor *a)
{
    json_t *roles = json_array();
    for (int i = 0; i < ROLE_COUNT; i++)
        if (a->roles & (1u << i)) json_array_append_new(roles, json_string(role_name(i)));
    json_t *perms = json_array();
    for (int i = 0; i < P_COUNT; i++)
        if (a->perms & PERM_BIT(i)) json_array_append_new(perms, json_string(perm_name(i)));
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:b}", "id", (json_int_t)a->user_id,
                     "username", a->username, "display_name", a->display_name, "roles", roles,
                     "permissions", perms, "scope", scope_name(a->scope), "scope_id", a->scope_id,
                     "via", a->via == VIA_TOKEN ? "token" : "session", "must_change_password",
                     a->must_change_password);
}

int api_me(http_req *r)
{
    json_t *me = actor_json(&r->who);
    if (r->who.via == VIA_SESSION) json_object_set_new(me, "csrf_token", json_string(r->who.csrf));
    return http_reply_json(r, 200, me);
}

int api_users_list(http_req *r)
{
    int64_t page, per;
    int rc = api_query_int(r, "page", 1, 1, 1000000, &page);
    if (!rc) rc = api_query_int(r, "per_page", 20, 1, 100, &per);
    if (rc) return rc;
    json_t *rows;
    int64_t total;
    rc = account_user_list(r->db, &r->who, http_query(r, "q"), page, per, &rows, &total, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:o, s:I, s:I, s:I}", "users", rows, "total",
                                     (json_int_t)total, "page", (json_int_t)page, "per_page",
                                     (json_int_t)per));
}

int api_user_get(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    json_t *u;
    rc = account_user_get(r->db, &r->who, id, &u, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, u);
}

/* Reads roles (array of names) and scope from a JSON body. */
static int body_roles(http_req *r, unsigned *roles)
{
    json_t *v = json_object_get(r->json, "roles");
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > ROLE_COUNT)
        return ql_errf(&r->err, QL_EINVAL, "body.roles",
                       "body.roles must be a list of role names", "body.roles 必须是角色名称列表");
    *roles = 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        enum role role;
        if (!json_is_string(e) || role_parse(json_string_value(e), &role))
            return ql_errf(&r->err, QL_EINVAL, "body.roles", "unknown role in body.roles",
                           "body.roles 中有未知角色");
        *roles |= 1u << role;
    }
    return 0;
}

/* Field names of the service ("username") become body fields ("body.username"). */
static int body_field_error(http_req *r, int rc)
{
    if (rc) api_body_field(&r->err);
    return rc;
}

/* Reads scope (default district) from a JSON body. */
static int body_scope(http_req *r, enum scope_kind *sk)
{
    const char *scope = "district";
    json_t *sv = json_object_get(r->json, "scope");
    if (sv && !json_is_string(sv))
        return ql_errf(&r->err, QL_EINVAL, "body.scope", "body.scope must be a string",
                       "body.scope 必须是字符串");
    if (sv) scope = json_string_value(sv);
    if (scope_parse(scope, sk))
        return ql_errf(&r->err, QL_EINVAL, "body.scope",
                       "body.scope must be district, department, employer, operator or self",
                       "body.scope 必须是 district、department、employer、operator 或 self");
    return 0;
}

static int user_done(http_req *r, void *arg, int rc);

int api_users_create(http_req *r)
{
    const char *username, *name;
    int rc = api_body_string(r, "username", 64, &username);
    if (!rc) rc = api_body_string(r, "display_name", 300, &name);
    if (rc) return rc;
    unsigned roles = 0;
    if ((rc = body_roles(r, &roles))) return rc;
    enum scope_kind sk;
    if ((rc = body_scope(r, &sk))) return rc;
    json_t *sid = json_object_get(r->json, "scope_id");
    json_t *pw = json_object_get(r->json, "password");
    if ((sid && !json_is_string(sid)) || (pw && !json_is_string(pw)))
        return ql_errf(&r->err, QL_EINVAL, sid && !json_is_string(sid) ? "body.scope_id"
                                                                        : "body.password",
                       "must be a string", "必须是字符串");
    struct api_user_job *j = api_user_job_new(r);
    j->create = 1;
    j->in = (struct user_input){username, name, roles, sk, sid ? json_string_value(sid) : "",
                                pw ? json_string_value(pw) : NULL, 0};
    return api_user_job_run(r, j, user_done);
}

/* ---- account changes that hash a password, on the pool -------------- */

static int user_work(store *s, void *arg)
{
    struct api_user_job *j = arg;
    return j->create ? account_user_create(s, j->who, &j->in, &j->id, j->temp, &j->err)
                     : account_user_apply(s, j->who, j->id, j->what, j->temp, &j->err);
}

struct api_user_job *api_user_job_new(http_req *r)
{
    struct api_user_job *j = arena_calloc(r->arena, 1, sizeof *j);
    j->who = &r->who;
    return j;
}

int api_user_job_run(http_req *r, struct api_user_job *j, http_done_fn done)
{
    return http_defer(r, user_work, done, j);
}

/* The API's answer to a created or changed account. */
static int user_done(http_req *r, void *arg, int rc)
{
    struct api_user_job *j = arg;
    if (rc) {
        r->err = j->err;
        return j->create ? body_field_error(r, rc) : rc;
    }
    json_t *u;
    rc = account_user_get(r->db, &r->who, j->id, &u, &r->err);
    if (rc) return rc;
    if (j->temp[0]) json_object_set_new(u, "temporary_password", json_string(j->temp));
    if (!j->create) return http_reply_json(r, 200, u);
    http_set_header(r, "Location", arena_printf(r->arena, "/api/v1/users/%lld", (long long)j->id));
    return http_reply_json(r, 201, u);
}

static int user_action(http_req *r, enum user_action what)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct api_user_job *j = api_user_job_new(r);
    j->id = id;
    j->what = what;
    return api_user_job_run(r, j, user_done);
}

int api_user_disable(http_req *r)
{
    return user_action(r, USER_DISABLE);
}

int api_user_enable(http_req *r)
{
    return user_action(r, USER_ENABLE);
}

int api_user_reset_password(http_req *r)
{
    return user_action(r, USER_RESET_PASSWORD);
}

int api_user_roles(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    unsigned roles = 0;
    enum scope_kind sk;
    if ((rc = body_roles(r, &roles)) || (rc = body_scope(r, &sk))) return rc;
    json_t *sid = json_object_get(r->json, "scope_id");
    if (sid && !json_is_string(sid))
        return ql_errf(&r->err, QL_EINVAL, "body.scope_id", "body.scope_id must be a string",
                       "body.scope_id 必须是字符串");
    struct role_change ch;
    rc = body_field_error(r,
                          account_user_set_roles(r->db, &r->who, id, roles, sk,
                                                 sid ? json_string_value(sid) : "", &ch, &r->err));
    if (rc) return rc;
    json_t *u;
    rc = account_user_get(r->db, &r->who, id, &u, &r->err);
    if (rc) return rc;
    json_object_set_new(u, "change",
                        json_pack("{s:o, s:o, s:o, s:o}", "granted", account_roles_json(ch.granted),
                                  "requested", account_roles_json(ch.requested), "removed",
                                  account_roles_json(ch.removed), "withdrawn",
                                  account_roles_json(ch.withdrawn)));
    return http_reply_json(r, 200, u);
}

int api_role_requests(http_req *r)
{
    json_t *rows;
    int rc = account_role_requests(r->db, &r->who, 0, &rows, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, json_pack("{s:o}", "requests", rows));
}

static int role_decide(http_req *r, int confirm)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (!rc) rc = account_role_decide(r->db, &r->who, id, confirm, &r->err);
    if (rc) return rc;
    return http_reply_json(
        r, 200,
        json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", confirm ? "confirmed" : "refused"));
}

int api_role_request_confirm(http_req *r)
{
    return role_decide(r, 1);
}

int api_role_request_refuse(http_req *r)
{
    return role_decide(r, 0);
}

int api_tokens_list(http_req *r)
{
    json_t *rows;
    int rc = account_token_list(r->db, &r->who, &rows, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, json_pack("{s:o}", "tokens", rows));
}

int api_tokens_create(http_req *r)
{
    const char *username = r->who.username, *name, *perms;
    int rc = 0;
    /* optional: the caller's own account, the only one a token is made for here */
    if (json_object_get(r->json, "username")) rc = api_body_string(r, "username", 64, &username);
    if (!rc) rc = api_body_string(r, "name", 400, &name); /* 100 characters: the service counts */
    if (!rc) rc = api_body_string(r, "permissions", 2000, &perms);
    if (rc) return rc;
    json_t *d = json_object_get(r->json, "days");
    if (d && !json_is_integer(d))
        return ql_errf(&r->err, QL_EINVAL, "body.days", "body.days must be a whole number",
                       "body.days 必须是整数");
    permset set;
    rc = perms_parse(perms, &set, &r->err);
    if (rc) return body_field_error(r, rc);
    char token[64];
    int64_t id;
    rc = account_token_create(r->db, &r->who, username, name, set,
                              d ? (long)json_integer_value(d) : 90, token, &id, &r->err);
    if (rc) return body_field_error(r, rc);
    return http_reply_json(r, 201,
                           json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "token", token,
                                     "notice", "shown once: store it now / 仅显示一次，请立即保存"));
}

int api_token_revoke(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (!rc) rc = account_token_revoke(r->db, &r->who, id, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}

/* "2026-11-29" as the first millisecond of that day in Shanghai; the end of
 * a range is exclusive, so "to" is the day after. */
int api_day_ms(http_req *r, const char *name, int next_day, int64_t *out)
{
    const char *v = http_query(r, name);
    *out = 0;
    if (!v || !*v) return 0;
    int32_t d;
    if (date_parse(v, &d))
        return ql_errf(&r->err, QL_EINVAL, name, "%s must be a date like 2026-11-29",
                       "%s 须为日期，例如 2026-11-29", name);
    *out = ((int64_t)(d + (next_day ? 1 : 0)) * 86400 - 8 * 3600) * 1000;
    return 0;
}

int api_audit_list(http_req *r)
{
    int64_t page, per;
    struct audit_filter f = {.action_prefix = http_query(r, "action"),
                             .actor = http_query(r, "actor")};
    int rc = api_query_int(r, "page", 1, 1, 1000000, &page);
    if (!rc) rc = api_query_int(r, "per_page", 50, 1, 200, &per);
    if (!rc) rc = api_day_ms(r, "from", 0, &f.from_ms);
    if (!rc) rc = api_day_ms(r, "to", 1, &f.to_ms);
    if (rc) return rc;
    json_t *rows;
    int64_t total;
    rc = audit_list(r->db, &r->who, &f, page, per, &rows, &total, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:o, s:I, s:I, s:I}", "entries", rows, "total",
                                     (json_int_t)total, "page", (json_int_t)page, "per_page",
                                     (json_int_t)per));
}

int api_audit_verify(http_req *r)
{
    int rc = actor_require(&r->who, P_AUDIT_VERIFY, &r->err);
    if (rc) return rc;
    audit_report rep;
    rc = audit_verify(r->db, &rep, &r->err);
    if (rc) return rc;
    json_t *j = json_pack("{s:b, s:I, s:I, s:s}", "ok", rep.ok, "rows", (json_int_t)rep.rows,
                          "head_seq", (json_int_t)rep.head_seq, "head_hash", rep.head_hash);
    if (!rep.ok)
        json_object_set_new(j, "broken",
                            json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)rep.broken_seq,
                                      "reason_en", rep.reason_en, "reason_zh", rep.reason_zh));
    return http_reply_json(r, 200, j);
}
