/* payee.c - JSON views of a person's payee data (registry/payee.h) and of
 * the payees a cycle's export held (ledger/bank.h). */
#include "api/api.h"

#include "ledger/bank.h"
#include "registry/payee.h"

#include <stdio.h>
#include <string.h>

/* An optional string member: absent or null is NULL; anything but a string
 * (or one over max bytes) is an error naming body.<name>. */
static int opt_text(http_req *r, const char *name, size_t max, const char **out)
{
    *out = NULL;
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    if (!v || json_is_null(v)) return 0;
    return api_body_string(r, name, max, out);
}

/* Whether a service's field is a member of the request body. */
static int body_member(const char *field)
{
    static const char *const names[] = {"bank_account", "reason", "person_present",
                                        "note",         "name",   "id_number"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(field, names[i])) return 1;
    return 0;
}

/* A refusal as the uniform error body: every error of the report (when
 * given) listed, members of the body named as body.<field>. */
static int refused(http_req *r, int rc, reg_report *rep)
{
    if (rep && rep->errors.n) {
        for (int i = 0; i < rep->errors.n; i++)
            if (body_member(rep->errors.e[i].field)) api_body_field(&rep->errors.e[i]);
        ql_errs *copy = arena_alloc(r->arena, sizeof *copy);
        *copy = rep->errors;
        r->err = rep->errors.e[0];
        r->errs = copy;
    } else if (body_member(r->err.field)) {
        api_body_field(&r->err);
    }
    return rc;
}

static int reply_payee(http_req *r, int status, int64_t talent, const reg_report *rep)
{
    json_t *o;
    int rc = payee_get(r->db, &r->who, talent, &o, &r->err);
    if (rc) return rc;
    if (rep) json_object_set_new(o, "warnings", http_errs_json(r, &rep->warnings));
    return http_reply_json(r, status, o);
}

int api_talent_payee(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return reply_payee(r, 200, id, NULL);
}

int api_payee_change_create(http_req *r)
{
    int64_t id;
    const char *card, *reason;
    int rc = api_path_id(r, &id);
    if (!rc) rc = opt_text(r, "bank_account", 64, &card);
    if (!rc) rc = opt_text(r, "reason", 1000, &reason);
    if (rc) return rc;
    json_t *present = r->json ? json_object_get(r->json, "person_present") : NULL;
    if (present && !json_is_boolean(present) && !json_is_null(present))
        return ql_errf(&r->err, QL_EINVAL, "body.person_present",
                       "body.person_present must be true or false",
                       "body.person_present 必须是 true 或 false");
    struct payee_request in = {card, reason, json_is_true(present)};
    reg_report rep;
    int64_t cid = 0;
    rc = payee_change_request(r->db, &r->who, id, &in, &cid, &rep, &r->err);
    if (rc) return refused(r, rc, rc == QL_EINVAL ? &rep : NULL);
    http_set_header(r, "Location",
                    arena_printf(r->arena, "/api/v1/talents/%lld/payee", (long long)id));
    return reply_payee(r, 201, id, &rep);
}

int api_payee_change_confirm(http_req *r)
{
    int64_t id, talent = 0;
    int rc = api_path_id(r, &id);
    if (!rc) rc = payee_change_confirm(r->db, &r->who, id, &talent, &r->err);
    if (rc) return refused(r, rc, NULL);
    return reply_payee(r, 200, talent, NULL);
}

int api_payee_change_cancel(http_req *r)
{
    int64_t id, talent = 0;
    const char *note;
    int rc = api_path_id(r, &id);
    if (!rc) rc = opt_text(r, "note", 1000, &note);
    if (!rc) rc = payee_change_cancel(r->db, &r->who, id, note, &talent, &r->err);
    if (rc) return refused(r, rc, NULL);
    return reply_payee(r, 200, talent, NULL);
}

int api_identity_correct(http_req *r)
{
    int64_t id;
    struct identity_input in;
    int rc = api_path_id(r, &id);
    if (!rc) rc = opt_text(r, "name", 1000, &in.name);
    if (!rc) rc = opt_text(r, "id_number", 64, &in.id_number);
    if (!rc) rc = opt_text(r, "reason", 1000, &in.reason);
    if (rc) return rc;
    reg_report rep;
    int64_t cid = 0;
    rc = identity_correct(r->db, &r->who, id, &in, &cid, &rep, &r->err);
    if (rc) return refused(r, rc, rc == QL_EINVAL || rc == QL_ECONFLICT ? &rep : NULL);
    return reply_payee(r, 201, id, NULL);
}

int api_identity_review(http_req *r)
{
    int64_t id, talent = 0;
    const char *note;
    int rc = api_path_id(r, &id);
    if (!rc) rc = opt_text(r, "note", 1000, &note);
    if (!rc) rc = identity_review(r->db, &r->who, id, note, &talent, &r->err);
    if (rc) return refused(r, rc, NULL);
    return reply_payee(r, 200, talent, NULL);
}

int api_cycle_holds(http_req *r)
{
    const char *month = http_param(r, "month");
    int64_t offset, limit;
    int rc = api_query_int(r, "offset", 0, 0, INT64_MAX, &offset);
    if (!rc) rc = api_query_int(r, "limit", 50, 1, 500, &limit);
    json_t *o;
    if (!rc) rc = bank_holds(r->db, &r->who, month, offset, (int)limit, &o, &r->err);
    if (rc) return rc;
    json_object_set_new(o, "offset", json_integer(offset));
    json_object_set_new(o, "limit", json_integer(limit));
    return http_reply_json(r, 200, o);
}
