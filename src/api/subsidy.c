/* subsidy.c - rental-subsidy applications over the JSON API: create a draft,
 * list and read within scope, one route for every workflow action (with
 * an Idempotency-Key header or a "request_key" member: the same key twice
 * changes nothing the second time), objections during the public notice,
 * and the notice list. Permission, scope and state are checked by the
 * service (src/subsidy/subsidy.h); these handlers parse and answer. */
#include "api/api.h"

#include "core/date.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A boolean member (absent: def). */
static int body_bool(http_req *r, const char *name, int def, int *out)
{
    json_t *v = json_object_get(r->json, name);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v)) {
        char field[64];
        snprintf(field, sizeof field, "body.%s", name);
        return ql_errf(&r->err, QL_EINVAL, field, "body.%s must be true or false",
                       "body.%s 必须是 true 或 false", name);
    }
    *out = json_is_true(v);
    return 0;
}

/* A string member that may be absent (NULL) but not of another type. */
static int body_opt_string(http_req *r, const char *name, const char **out)
{
    json_t *v = json_object_get(r->json, name);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) {
        char field[64];
        snprintf(field, sizeof field, "body.%s", name);
        return ql_errf(&r->err, QL_EINVAL, field, "body.%s must be a string",
                       "body.%s 必须是字符串", name);
    }
    *out = json_string_value(v);
    return 0;
}

/* A service's error with its field as the body names it (a record not
 * found keeps its field, the path's id). */
static int body_field(http_req *r, int rc)
{
    if (rc && rc != QL_ENOTFOUND) api_body_field(&r->err);
    return rc;
}

static int reply_app(http_req *r, int status, int64_t id)
{
    json_t *o;
    int rc = subsidy_get(r->db, &r->who, id, date_today(), &o, &r->err);
    if (rc) return rc;
    return http_reply_json(r, status, o);
}

int api_applications_create(http_req *r)
{
    const char *programme = "district-rent";
    int rc = body_opt_string(r, "programme", &programme);
    if (!rc && !programme) programme = "district-rent";
    struct app_declare d = {0, 0, 0};
    if (!rc) rc = body_bool(r, "family_owns_housing", 0, &d.family_owns_housing);
    if (!rc) rc = body_bool(r, "other_benefit", 0, &d.other_benefit);
    if (!rc) rc = body_bool(r, "declared", 0, &d.declared);
    if (rc) return rc;
    int64_t talent = 0;
    json_t *t = json_object_get(r->json, "talent_id");
    if (t && !json_is_null(t)) {
        if (!json_is_integer(t) || json_integer_value(t) < 1)
            return ql_errf(&r->err, QL_EINVAL, "body.talent_id",
                           "body.talent_id must be a talent's id", "body.talent_id 须为人才编号");
        talent = json_integer_value(t);
    }
    int64_t id;
    char ref[24];
    rc = subsidy_create(r->db, &r->who, programme, talent, &d, date_today(), &id, ref, &r->err);
    if (rc) return body_field(r, rc);
    return reply_app(r, 201, id);
}

int api_application_declare(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    struct app_declare d = {0, 0, 0};
    if (!rc) rc = body_bool(r, "family_owns_housing", 0, &d.family_owns_housing);
    if (!rc) rc = body_bool(r, "other_benefit", 0, &d.other_benefit);
    if (!rc) rc = body_bool(r, "declared", 0, &d.declared);
    if (rc) return rc;
    rc = subsidy_declare(r->db, &r->who, id, &d, &r->err);
    if (rc) return body_field(r, rc);
    return reply_app(r, 200, id);
}

int api_applications_list(http_req *r)
{
    struct app_filter f = {-1, 0, 1, 50};
    const char *st = http_query(r, "state");
    if (st && *st && (f.state = subsidy_state_find(st)) < 0)
        return ql_errf(&r->err, QL_EINVAL, "state", "unknown state '%s'", "未知状态“%s”", st);
    int rc = api_query_int(r, "talent_id", 0, 0, INT64_MAX, &f.talent_id);
    if (!rc) rc = api_query_int(r, "page", 1, 1, 1000000, &f.page);
    if (!rc) rc = api_query_int(r, "per_page", 50, 1, 200, &f.per_page);
    if (rc) return rc;
    json_t *list;
    int64_t total;
    if ((rc = subsidy_list(r->db, &r->who, &f, &list, &total, &r->err))) return rc;
    return http_reply_json(r, 200,
                           json_pack("{sosIsIsI}", "items", list, "total", (json_int_t)total,
                                     "page", (json_int_t)f.page, "per_page",
                                     (json_int_t)f.per_page));
}

int api_application_get(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return reply_app(r, 200, id);
}

int api_application_action(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *action, *reason, *effective, *key;
    if ((rc = body_opt_string(r, "action", &action)) ||
        (rc = body_opt_string(r, "reason", &reason)) ||
        (rc = body_opt_string(r, "effective", &effective)) ||
        (rc = body_opt_string(r, "request_key", &key)))
        return rc;
    int act = action ? subsidy_action_find(action) : -1;
    if (act < 0)
        return ql_errf(
            &r->err, QL_EINVAL, "body.action",
            "body.action must be one of submit, withdraw, attest, return, accept, "
            "review, publish, approve, reject, activate, suspend, resume, end, appeal",
            "body.action 须为 submit、withdraw、attest、return、accept、review、publish、"
            "approve、reject、activate、suspend、resume、end、appeal 之一");
    int32_t eff = 0;
    if (effective && date_parse(effective, &eff))
        return ql_errf(&r->err, QL_EINVAL, "body.effective",
                       "body.effective must be a date like 2026-10-01",
                       "body.effective 须为日期，例如 2026-10-01");
    const char *hkey = http_header(r, "Idempotency-Key");
    if (!key && hkey && *hkey) key = hkey;
    struct app_step st = {(enum app_action)act, reason, key, date_today(), eff};
    struct app_result res;
    rc = subsidy_transition(r->db, &r->who, id, &st, &res, &r->err);
    if (rc) return body_field(r, rc);
    json_t *o;
    if ((rc = subsidy_get(r->db, &r->who, id, date_today(), &o, &r->err))) {
        /* the applicant can no longer see it (e.g. the employer returned it to
         * a draft outside its scope): answer with the outcome only */
        ql_err_clear(&r->err);
        o = json_object();
    }
    json_object_set_new(o, "unchanged", json_boolean(res.unchanged));
    json_object_set_new(o, "event_id", json_integer(res.event_id));
    return http_reply_json(r, 200, o);
}

int api_application_objection(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    const char *source, *text, *on;
    if ((rc = body_opt_string(r, "source", &source)) || (rc = body_opt_string(r, "text", &text)) ||
        (rc = body_opt_string(r, "received_on", &on)))
        return rc;
    int32_t day = date_today();
    if (on && date_parse(on, &day))
        return ql_errf(&r->err, QL_EINVAL, "body.received_on",
                       "body.received_on must be a date like 2026-10-09",
                       "body.received_on 须为日期，例如 2026-10-09");
    int64_t oid;
    rc = subsidy_object(r->db, &r->who, id, source, text, day, &oid, &r->err);
    if (rc) return body_field(r, rc);
    return http_reply_json(
        r, 201, json_pack("{sIsI}", "id", (json_int_t)oid, "application_id", (json_int_t)id));
}

int api_objection_settle(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    json_t *up = json_object_get(r->json, "upheld");
    if (!json_is_boolean(up))
        return ql_errf(&r->err, QL_EINVAL, "body.upheld", "body.upheld must be true or false",
                       "body.upheld 必须是 true 或 false");
    const char *resolution;
    if ((rc = body_opt_string(r, "resolution", &resolution))) return rc;
    rc = subsidy_settle(r->db, &r->who, id, json_is_true(up), resolution, &r->err);
    if (rc) return body_field(r, rc);
    return http_reply_json(r, 200,
                           json_pack("{sIsb}", "id", (json_int_t)id, "upheld", json_is_true(up)));
}

int api_notices(http_req *r)
{
    json_t *list;
    int rc = subsidy_notices(r->db, date_today(), &list, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, json_pack("{so}", "items", list));
}
