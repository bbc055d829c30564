/* policy.c - subsidy policies over the JSON API: list and read stored
 * files (any signed-in caller: policies are published law), check, save,
 * activate and simulate (policy.manage), and a reviewer's preview of the
 * decision for one talent (subsidy.review). A policy text travels as the
 * string member "source"; its parse errors name body.source and carry
 * "source:LINE:COLUMN" in the message. */
#include "api/api.h"

#include "core/date.h"
#include "policy/policy.h"
#include "policy/simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "source" member: a policy text. */
static int body_source(http_req *r, const char **text, size_t *len)
{
    json_t *v = json_object_get(r->json, "source");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return ql_errf(&r->err, QL_EINVAL, "body.source",
                       "body.source must be the policy text (a non-empty string)",
                       "body.source 须为政策文本（非空字符串）");
    *text = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

static int source_error(http_req *r, int rc)
{
    if (rc == QL_EINVAL || rc == QL_ETOOBIG)
        snprintf(r->err.field, sizeof r->err.field, "body.source");
    return rc;
}

int api_policies_list(http_req *r)
{
    json_t *list;
    int rc = policy_list(r->db, actor_can(&r->who, P_POLICY_MANAGE), &list, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, json_pack("{so}", "items", list));
}

int api_policy_get(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    json_t *o;
    if (!rc) rc = policy_get(r->db, id, actor_can(&r->who, P_POLICY_MANAGE), &o, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, o);
}

int api_policy_check(http_req *r)
{
    const char *text;
    size_t len;
    int rc = actor_require(&r->who, P_POLICY_MANAGE, &r->err);
    if (!rc) rc = body_source(r, &text, &len);
    if (rc) return rc;
    pol_programme p;
    pol_issues *is = arena_alloc(r->arena, sizeof *is);
    rc = policy_check_text(text, len, "source", &p, is, &r->err);
    if (rc) {
        pol_free(&p);
        return source_error(r, rc);
    }
    char versions[2001];
    policy_versions_text(&p, versions, sizeof versions);
    json_t *o = json_pack("{sssssssisiso}", "programme", p.code, "name_zh", p.zh, "versions",
                          versions, "errors", is->nerrors, "warnings", is->n - is->nerrors,
                          "issues", policy_issues_json(is));
    pol_free(&p);
    return http_reply_json(r, 200, o);
}

int api_policy_create(http_req *r)
{
    const char *text, *name = "";
    size_t len;
    int rc = body_source(r, &text, &len);
    if (rc) return rc;
    json_t *fn = json_object_get(r->json, "file_name");
    if (fn && !json_is_string(fn))
        return ql_errf(&r->err, QL_EINVAL, "body.file_name", "body.file_name must be a string",
                       "body.file_name 必须是字符串");
    if (fn) name = json_string_value(fn);
    struct policy_saved *sv = arena_alloc(r->arena, sizeof *sv);
    rc = policy_save(r->db, &r->who, text, len, name, sv, &r->err);
    if (rc == QL_EINVAL && !strcmp(r->err.field, "file_name"))
        snprintf(r->err.field, sizeof r->err.field, "body.file_name");
    else
        rc = source_error(r, rc);
    if (rc) return rc;
    return http_reply_json(
        r, sv->unchanged ? 200 : 201,
        json_pack("{sIsbsssisiso}", "id", (json_int_t)sv->id, "unchanged", sv->unchanged,
                  "programme", sv->programme, "errors", sv->issues.nerrors, "warnings",
                  sv->issues.n - sv->issues.nerrors, "issues", policy_issues_json(&sv->issues)));
}

int api_policy_activate(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    struct policy_activated act;
    if (!rc) rc = policy_activate(r->db, &r->who, id, &act, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200,
                           json_pack("{sIsbso}", "id", (json_int_t)id, "unchanged", act.unchanged,
                                     "retired_id",
                                     act.retired_id ? json_integer(act.retired_id) : json_null()));
}

int api_policy_simulate(http_req *r)
{
    const char *text;
    size_t len;
    int rc = actor_require(&r->who, P_POLICY_MANAGE, &r->err);
    if (!rc) rc = body_source(r, &text, &len);
    if (rc) return rc;
    json_t *m = json_object_get(r->json, "month");
    int32_t month;
    if (!json_is_string(m) || date_parse_month(json_string_value(m), &month))
        return ql_errf(&r->err, QL_EINVAL, "body.month", "body.month must be a month like 2026-10",
                       "body.month 须为年月，例如 2026-10");
    json_t *against = json_object_get(r->json, "against");
    if (against && !json_is_null(against) && !json_is_integer(against))
        return ql_errf(&r->err, QL_EINVAL, "body.against",
                       "body.against must be the id of a stored policy file",
                       "body.against 须为已存储政策文件的编号");
    json_t *res;
    rc = policy_simulate_text(r->db, &r->who, text, len, month,
                              json_is_integer(against) ? json_integer_value(against) : 0, &res,
                              &r->err);
    if (rc == QL_EINVAL || rc == QL_ETOOBIG || rc == QL_ENOTFOUND) api_body_field(&r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, res);
}

int api_talent_decision(http_req *r)
{
    int64_t id;
    int rc = actor_require(&r->who, P_SUBSIDY_REVIEW, &r->err);
    if (!rc) rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *programme = http_query(r, "programme");
    if (!programme || !*programme) programme = "district-rent";
    const char *date_s = http_query(r, "date");
    int32_t day = date_today();
    if (date_s && date_parse(date_s, &day))
        return ql_errf(&r->err, QL_EINVAL, "date", "date must be a date like 2026-10-01",
                       "date 须为日期，例如 2026-10-01");
    pol_programme p;
    int64_t file_id = 0;
    rc = policy_load_active(r->db, programme, &p, &file_id, &r->err);
    pol_facts f;
    struct policy_subject who;
    int version, tier;
    json_t *trace = NULL;
    if (!rc) rc = policy_talent_facts(r->db, id, day, &f, &who, &r->err);
    if (!rc) rc = pol_decide(&p, day, &f, &version, &tier, &trace, &r->err);
    pol_free(&p);
    if (rc) return rc;
    json_object_set_new(trace, "policy_file", json_integer(file_id));
    json_object_set_new(trace, "talent_id", json_integer(id));
    return http_reply_json(r, 200, trace);
}
