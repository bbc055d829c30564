/* payee.c - the console's pages of a person's payee data
 * (registry/payee.h): the person's own page (我的收款账户: the card on
 * record, a change to ask for and confirm, the notifications sent), the
 * staff page of a person (收款账户与身份信息: a change entered at a window,
 * its confirmation by a second clerk, corrections of name and ID number and
 * their review), and the payees a cycle's export held (on the cycle's
 * page). Every action calls the service with the signed-in account. */
#include "web/web.h"

#include "web/forms.h"

#include "api/api.h"
#include "core/buf.h"
#include "ledger/bank.h"
#include "registry/payee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Form fields named apart from the service's, so that two forms on one
 * page never share an input id: {service field, form field}. */
static const char *const request_names[][2] = {
    {"bank_account", "bank_account"}, {"reason", "reason"}, {"person_present", "person_present"}};
static const char *const identity_names[][2] = {
    {"name", "new_name"}, {"id_number", "new_id_number"}, {"reason", "correction_reason"}};

static void rename_field(ql_err *e, const char *const (*names)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e->field, names[i][0])) {
            snprintf(e->field, sizeof e->field, "%s", names[i][1]);
            return;
        }
}

/* Puts the service's refusal on page d at the form's fields; the HTTP
 * status for it. */
static int put_errors(http_req *r, json_t *d, int rc, reg_report *rep, ql_err *err,
                      const char *const (*names)[2], size_t n)
{
    if (rep)
        for (int i = 0; i < rep->errors.n; i++) rename_field(&rep->errors.e[i], names, n);
    rename_field(err, names, n);
    int status = web_report_errors(r, d, rc, rep ? rep : &(reg_report){0}, err);
    return rc == QL_EFORBIDDEN ? 403 : status;
}

static const char *when(http_req *r, const json_t *o, const char *key)
{
    json_t *t = web_time(json_object_get(o, key));
    const char *s = arena_strdup(r->arena, json_string_value(t));
    json_decref(t);
    return s;
}

/* Texts of the payee data in the page's language. */
static void decorate(http_req *r, json_t *o)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "changes"), i, c)
    {
        char key[64];
        snprintf(key, sizeof key, "payee.state.%s", web_str(c, "state"));
        json_object_set_new(c, "state_text", json_string(web_t(r, key)));
        snprintf(key, sizeof key, "payee.via.%s", web_str(c, "via"));
        json_object_set_new(c, "via_text", json_string(web_t(r, key)));
        json_object_set_new(c, "created_at_text", json_string(when(r, c, "created_at")));
        json_object_set_new(c, "decided_at_text", json_string(when(r, c, "decided_at")));
    }
    /* The registry gives each name correction the name it replaced and the
     * name it wrote (payee_get: old_name, new_name). */
    json_array_foreach(json_object_get(o, "corrections"), i, c)
    {
        int name_changed = 0, id_changed = 0;
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(c, "fields"), k, f)
        {
            name_changed |= !strcmp(json_string_value(f), "name");
            id_changed |= !strcmp(json_string_value(f), "id_number");
        }
        json_object_set_new(c, "name_changed", json_boolean(name_changed));
        json_object_set_new(c, "id_changed", json_boolean(id_changed));
    }
    json_array_foreach(json_object_get(o, "corrections"), i, c)
    {
        buf b = BUF_INIT;
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(c, "fields"), k, f)
        {
            char key[64];
            snprintf(key, sizeof key, "registry.field.%s", json_string_value(f));
            buf_printf(&b, "%s%s", k ? web_t(r, "payee.and") : "", web_t(r, key));
        }
        json_object_set_new(c, "fields_text", json_string(b.data ? b.data : ""));
        buf_free(&b);
        json_object_set_new(c, "created_at_text", json_string(when(r, c, "created_at")));
        json_object_set_new(c, "reviewed_at_text", json_string(when(r, c, "reviewed_at")));
    }
    int en = r->lang == LANG_EN;
    json_array_foreach(json_object_get(o, "notifications"), i, c)
    {
        json_object_set_new(c, "text", json_string(web_str(c, en ? "text_en" : "text_zh")));
        json_object_set_new(c, "created_at_text", json_string(when(r, c, "created_at")));
    }
}

/* The forms the account may use, their fields from d.fields. */
static void forms(http_req *r, json_t *d, const json_t *o)
{
    json_t *fields = json_object_get(d, "fields");
    int self = json_is_true(json_object_get(o, "self"));
    if (json_is_true(json_object_get(o, "can_request"))) {
        json_t *f = json_pack("{s:O}", "fields", fields);
        const struct fdef defs[] = {
            {"bank_account", "payee.new_card", 1, "text", web_t(r, "payee.hint.card"), "numeric",
             NULL, 0, 0},
            {"reason", "payee.reason", 1, "text", web_t(r, "payee.hint.reason"), NULL, NULL, 1, 0},
        };
        for (size_t i = 0; i < COUNT(defs); i++) web_add_field(r, f, &defs[i]);
        json_t *present = json_object_get(fields, "person_present");
        json_object_set_new(f, "present_error", json_string(web_str(present, "error")));
        json_object_set_new(f, "present_checked",
                            json_boolean(!strcmp(web_str(present, "value"), "yes")));
        json_object_set_new(f, "window", json_boolean(!self));
        json_object_set_new(
            f, "action",
            json_string(self ? "/payee/changes"
                             : arena_printf(r->arena, "/registry/talents/%lld/payee/changes",
                                            (long long)json_integer_value(
                                                json_object_get(o, "talent_id")))));
        json_object_set_new(d, "request_form", f);
    }
    if (json_is_true(json_object_get(o, "can_correct"))) {
        json_t *f = json_pack("{s:O}", "fields", fields);
        const struct fdef defs[] = {
            {"new_name", "payee.new_name", 0, "text", web_t(r, "payee.hint.keep"), NULL, NULL, 0,
             0},
            {"new_id_number", "payee.new_id_number", 0, "text", web_t(r, "payee.hint.keep"), NULL,
             NULL, 1, 0},
            {"correction_reason", "payee.reason", 1, "text",
             web_t(r, "payee.hint.correction_reason"), NULL, NULL, 1, 0},
        };
        for (size_t i = 0; i < COUNT(defs); i++) web_add_field(r, f, &defs[i]);
        json_object_set_new(f, "action",
                            json_string(arena_printf(
                                r->arena, "/registry/talents/%lld/identity",
                                (long long)json_integer_value(json_object_get(o, "talent_id")))));
        json_object_set_new(d, "identity_form", f);
    }
    /* a note typed for a review or a cancellation and refused stays beside it */
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "corrections"), i, c)
    {
        json_t *st = json_object_get(
            fields, arena_printf(r->arena, "note-%lld",
                                 (long long)json_integer_value(json_object_get(c, "id"))));
        if (st) json_object_set(c, "note", st);
    }
    json_t *pending = json_object_get(o, "pending");
    json_t *st = json_object_get(fields, "note");
    if (json_is_object(pending) && st) json_object_set(pending, "note_field", st);
}

/* The page of talent (0: the person's own) on page d (NULL: a new one). */
static int render(http_req *r, int64_t talent, json_t *d, int status)
{
    json_t *o;
    int rc = payee_get(r->db, &r->who, talent, &o, &r->err);
    if (rc) {
        json_decref(d);
        return rc;
    }
    int self = json_is_true(json_object_get(o, "self"));
    const char *title = web_t(r, self ? "payee.title_self" : "payee.title_staff");
    if (!d) d = web_page(r, title, self ? AREA_PAYEE : AREA_TALENTS);
    json_object_set_new(d, "title", json_string(title));
    web_crumb(d, "/", web_t(r, "nav.home"));
    if (!self) {
        web_crumb(d, "/registry/talents", web_t(r, "registry.talents.title"));
        web_crumb(d,
                  arena_printf(r->arena, "/registry/talents/%lld",
                               (long long)json_integer_value(json_object_get(o, "talent_id"))),
                  web_str(o, "name"));
    }
    web_crumb(d, NULL, title);
    decorate(r, o);
    forms(r, d, o);
    json_object_set_new(d, "has_changes",
                        json_boolean(json_array_size(json_object_get(o, "changes")) > 0));
    json_object_set_new(d, "has_corrections",
                        json_boolean(json_array_size(json_object_get(o, "corrections")) > 0));
    json_object_set_new(d, "has_notifications",
                        json_boolean(json_array_size(json_object_get(o, "notifications")) > 0));
    json_object_set_new(d, "p", o);
    return web_render(r, status, "payee", d);
}

/* A path or form parameter as a positive id, or 0. */
static int64_t form_id(http_req *r, const char *name)
{
    const char *v = http_form(r, name);
    if (!v || !*v) return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end || n <= 0 ? 0 : n;
}

/* ---- the person's own page ------------------------------------------------- */

int web_payee_self(http_req *r)
{
    return render(r, 0, NULL, 200);
}

static int request(http_req *r, int64_t talent, int window)
{
    const char *present = http_form(r, "person_present");
    struct payee_request in = {http_form(r, "bank_account"), http_form(r, "reason"),
                               window && present && !strcmp(present, "yes")};
    reg_report rep;
    ql_err err = {0};
    int64_t cid = 0;
    int rc = payee_change_request(r->db, &r->who, talent, &in, &cid, &rep, &err);
    json_t *d = web_page(r, "", window ? AREA_TALENTS : AREA_PAYEE);
    if (!rc) {
        json_object_set_new(
            d, "notice",
            json_string(web_t(r, window ? "payee.done.requested_window" : "payee.done.requested")));
        /* the person's own page: the card is theirs to check, not "the
         * card holder's" */
        for (int i = 0; !window && i < rep.warnings.n; i++)
            if (!strcmp(rep.warnings.e[i].field, "bank_account") &&
                strstr(rep.warnings.e[i].en, "Luhn")) {
                const char *t = web_t(r, "payee.luhn_self");
                snprintf(rep.warnings.e[i].en, sizeof rep.warnings.e[i].en, "%s", t);
                snprintf(rep.warnings.e[i].zh, sizeof rep.warnings.e[i].zh, "%s", t);
            }
        web_warnings(r, d, &rep);
        return render(r, talent, d, 201);
    }
    if (!web_form_can_show(rc) && rc != QL_EFORBIDDEN) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    for (size_t i = 0; i < COUNT(request_names); i++)
        web_field(d, request_names[i][1], http_form(r, request_names[i][0]));
    int status = put_errors(r, d, rc, rc == QL_EINVAL ? &rep : NULL, &err, request_names,
                            COUNT(request_names));
    return render(r, talent, d, status);
}

int web_payee_self_request(http_req *r)
{
    return request(r, 0, 0);
}

/* Confirms or cancels the change of the path; the page of its person
 * (given by the form) again, with the outcome. */
static int decide(http_req *r, int confirm)
{
    int64_t id, talent = 0;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    ql_err err = {0};
    rc = confirm ? payee_change_confirm(r->db, &r->who, id, &talent, &err)
                 : payee_change_cancel(r->db, &r->who, id, http_form(r, "note"), &talent, &err);
    int self = r->who.scope == SCOPE_SELF;
    json_t *d = web_page(r, "", self ? AREA_PAYEE : AREA_TALENTS);
    if (!rc) {
        json_object_set_new(
            d, "notice",
            json_string(web_t(r, confirm ? "payee.done.confirmed" : "payee.done.cancelled")));
        return render(r, self ? 0 : talent, d, 200);
    }
    talent = self ? 0 : form_id(r, "talent");
    if ((!self && !talent) || (!web_form_can_show(rc) && rc != QL_EFORBIDDEN)) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    web_field(d, "note", http_form(r, "note"));
    static const char *const none[][2] = {{"", ""}};
    return render(r, talent, d, put_errors(r, d, rc, NULL, &err, none, 0));
}

int web_payee_confirm(http_req *r)
{
    return decide(r, 1);
}

int web_payee_cancel(http_req *r)
{
    return decide(r, 0);
}

/* ---- the staff page of a person ------------------------------------------- */

int web_talent_payee(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return render(r, id, NULL, 200);
}

int web_talent_payee_request(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    return request(r, id, 1);
}

int web_identity_correct(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    struct identity_input in = {http_form(r, "new_name"), http_form(r, "new_id_number"),
                                http_form(r, "correction_reason")};
    reg_report rep;
    ql_err err = {0};
    int64_t cid = 0;
    rc = identity_correct(r->db, &r->who, id, &in, &cid, &rep, &err);
    json_t *d = web_page(r, "", AREA_TALENTS);
    if (!rc) {
        json_object_set_new(d, "notice", json_string(web_t(r, "payee.done.corrected")));
        return render(r, id, d, 201);
    }
    if (!web_form_can_show(rc)) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    for (size_t i = 0; i < COUNT(identity_names); i++)
        web_field(d, identity_names[i][1], http_form(r, identity_names[i][1]));
    return render(r, id, d,
                  put_errors(r, d, rc, &rep, &err, identity_names, COUNT(identity_names)));
}

int web_identity_review(http_req *r)
{
    int64_t id, talent = 0;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    ql_err err = {0};
    rc = identity_review(r->db, &r->who, id, http_form(r, "note"), &talent, &err);
    json_t *d = web_page(r, "", AREA_TALENTS);
    if (!rc) {
        json_object_set_new(d, "notice", json_string(web_t(r, "payee.done.reviewed")));
        return render(r, talent, d, 200);
    }
    talent = form_id(r, "talent");
    if (!talent || (!web_form_can_show(rc) && rc != QL_EFORBIDDEN)) {
        json_decref(d);
        r->err = err;
        return rc;
    }
    /* the note belongs to this correction's form */
    char field[32];
    snprintf(field, sizeof field, "note-%lld", (long long)id);
    web_field(d, field, http_form(r, "note"));
    if (!strcmp(err.field, "note")) snprintf(err.field, sizeof err.field, "%s", field);
    static const char *const none[][2] = {{"", ""}};
    return render(r, talent, d, put_errors(r, d, rc, NULL, &err, none, 0));
}

/* ---- the cycle's page -------------------------------------------------------- */

/* Whether the reason the export held person hold h for is gone now: the
 * correction of the name or ID number was reviewed, or a card is on
 * record. The export wrote the reason when it ran; the next export pays
 * the money. Unknown (0) when the account may not read the person's payee
 * data. */
static int hold_resolved(http_req *r, const json_t *h)
{
    const char *why = web_str(h, "reason");
    int identity = !strcmp(why, "identity_review"), no_card = !strcmp(why, "no_account");
    if (!identity && !no_card) return 0;
    json_t *o;
    ql_err err;
    if (payee_get(r->db, &r->who, json_integer_value(json_object_get(h, "payee_id")), &o, &err))
        return 0;
    int gone = identity ? !json_is_true(json_object_get(o, "held")) : web_str(o, "bank_masked")[0];
    json_decref(o);
    return gone;
}

void web_cycle_holds(http_req *r, json_t *d, const char *month)
{
    json_t *o;
    ql_err err;
    if (bank_holds(r->db, &r->who, month, 0, 200, &o, &err)) return;
    int en = r->lang == LANG_EN;
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(o, "items"), i, h)
    {
        json_object_set_new(h, "reason_text", json_string(web_str(h, en ? "en" : "zh")));
        char key[64];
        snprintf(key, sizeof key, "cycle.payee.%s", web_str(h, "payee_type"));
        json_object_set_new(h, "payee_text", json_string(web_t(r, key)));
        int person = !strcmp(web_str(h, "payee_type"), "person");
        json_object_set_new(h, "person", json_boolean(person));
        json_object_set_new(h, "resolved", json_boolean(person && hold_resolved(r, h)));
    }
    json_t *by = json_array();
    for (int k = 1; k < BANK_HOLD_COUNT; k++) {
        json_int_t n = json_integer_value(
            json_object_get(json_object_get(o, "by_reason"), bank_hold_name((enum bank_hold)k)));
        if (n)
            json_array_append_new(by, json_pack("{s:s, s:I}", "reason",
                                                bank_hold_text((enum bank_hold)k, en), "count", n));
    }
    json_object_set_new(o, "reasons", by);
    json_object_set_new(o, "has_items", json_boolean(json_array_size(json_object_get(o, "items"))));
    json_object_set_new(o, "more",
                        json_boolean(json_integer_value(json_object_get(o, "total")) >
                                     (json_int_t)json_array_size(json_object_get(o, "items"))));
    json_object_set_new(d, "holds", o);
}
