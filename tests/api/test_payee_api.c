/* test_payee_api.c - payee data through the JSON API on a real server
 * (SQLite, and PostgreSQL with QL_TEST_PG): PUT /api/v1/talents/{id} refuses
 * a changed name, ID number or bank card for an employer's HR account and an
 * administrator, naming each field and the path to use, and stores nothing;
 * the person changes their card and confirms it, and is notified; a window
 * clerk enters a change with the person present that a second clerk
 * confirms (never the same clerk); the same card on two people refused at
 * registration, in an import and in a change; a reviewer's correction of a
 * name held until another reviewer reviews it; the cycle's holds route;
 * bad bodies. */
#include "idgen.h"
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE1 "91350100M000100Y43"

static struct tu_server srv;
static char h_admin[300], h_hr[300], h_clerk1[300], h_clerk2[300], h_rev1[300], h_rev2[300],
    h_fin[300];
static char out[65536], err[65536];

static json_t *body_json(const struct tu_resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    if (!j) fail_msg("response body is not JSON (%s): %.300s", e.text, r->body);
    return j;
}

static json_t *call(const char *h, const char *method, const char *path, const char *body,
                    int status)
{
    struct tu_resp r;
    tu_request(srv.port, method, path, h, body, &r);
    if (r.status != status)
        fail_msg("%s %s: %d, expected %d: %.600s", method, path, r.status, status, r.body);
    json_t *j = r.body_len ? body_json(&r) : NULL;
    tu_resp_free(&r);
    return j;
}

static int has_non_ascii(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80) return 1;
    return 0;
}

static void check_error(const json_t *j, const char *code, const char *field)
{
    json_t *e = json_object_get(j, "error");
    if (!e) fail_msg("no error object");
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_true(json_string_length(json_object_get(e, "message_en")) > 0);
    assert_true(has_non_ascii(json_string_value(json_object_get(e, "message_zh"))));
    const char *f = json_string_value(json_object_get(e, "field"));
    if (field && (!f || strcmp(f, field)))
        fail_msg("error field %s, expected %s (%s)", f ? f : "null", field,
                 json_string_value(json_object_get(e, "message_en")));
}

/* The "errors" list names exactly these fields (NULL-terminated). */
static void check_errors(const json_t *j, const char *const *fields)
{
    json_t *list = json_object_get(j, "errors");
    if (!json_is_array(list)) fail_msg("no errors list");
    size_t n = 0;
    for (; fields[n]; n++) {
        int found = 0;
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e)
        {
            if (!strcmp(json_string_value(json_object_get(e, "field")), fields[n])) found = 1;
        }
        if (!found) fail_msg("errors do not name %s", fields[n]);
    }
    if (json_array_size(list) != n) fail_msg("%zu errors, expected %zu", json_array_size(list), n);
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v) fail_msg("no text member '%s'", key);
    return v;
}

static long long jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) fail_msg("no integer member '%s'", key);
    return (long long)json_integer_value(v);
}

static void make_token(const char *user, const char *roles, const char *scope, const char *perms,
                       char *h, size_t n)
{
    tu_add_user(&srv, user, roles, scope, "Payee-Test-Pass-26");
    char *tok = tu_token(&srv, user, perms);
    snprintf(h, n, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", tok);
    free(tok);
}

/* The person's own token (scope self:<id>). */
static void self_token(long long id, char *h, size_t n)
{
    char user[32], scope[48];
    snprintf(user, sizeof user, "self.%lld", id);
    snprintf(scope, sizeof scope, "self:%lld", id);
    make_token(user, "talent", scope, "registry.read subsidy.apply", h, n);
}

/* Registers person i with card i through the API as HR; returns the id. */
static long long person(int i, char id[19], char card[20])
{
    char phone[12];
    tu_gen_id(300 + i, id);
    tu_gen_card(300 + i, card);
    tu_gen_phone(300 + i, phone);
    char body[600];
    snprintf(
        body, sizeof body,
        "{\"name\":\"接口收款%d\",\"id_number\":\"%s\",\"phone\":\"%s\",\"education\":\"硕士\","
        "\"employer\":\"%s\",\"employed_since\":\"2024-05-01\",\"bank_account\":\"%s\"}",
        i, id, phone, CODE1, card);
    json_t *j = call(h_hr, "POST", "/api/v1/talents", body, 201);
    long long t = jint(j, "id");
    json_decref(j);
    return t;
}

static json_t *payee_of(const char *h, long long t)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/talents/%lld/payee", t);
    return call(h, "GET", path, NULL, 200);
}

static int setup(void **state)
{
    (void)state;
    tu_server_start(&srv, NULL);
    make_token("p.admin", "admin", NULL, "registry.read registry.write", h_admin, sizeof h_admin);
    char body[300];
    snprintf(body, sizeof body, "{\"credit_code\":\"%s\",\"name\":\"收款接口单位\"}", CODE1);
    json_decref(call(h_admin, "POST", "/api/v1/employers", body, 201));
    char scope[64];
    snprintf(scope, sizeof scope, "employer:%s", CODE1);
    make_token("p.hr", "employer_hr", scope, "registry.read registry.write", h_hr, sizeof h_hr);
    make_token("p.clerk1", "window_clerk", NULL, "registry.read registry.write window.accept",
               h_clerk1, sizeof h_clerk1);
    make_token("p.clerk2", "window_clerk", NULL, "registry.read registry.write window.accept",
               h_clerk2, sizeof h_clerk2);
    make_token("p.rev1", "reviewer", NULL, "registry.read subsidy.review", h_rev1, sizeof h_rev1);
    make_token("p.rev2", "reviewer", NULL, "registry.read subsidy.review", h_rev2, sizeof h_rev2);
    make_token("p.fin", "finance", NULL, "ledger.run ledger.approve ledger.export", h_fin,
               sizeof h_fin);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *args[] = {"audit", "verify", NULL};
    int vrc = tu_cli(&srv, args, NULL, out, sizeof out, err, sizeof err);
    if (vrc != 0) fprintf(stderr, "audit verify: %d\n%s%s\n", vrc, out, err);
    int rc = tu_server_stop(&srv);
    return rc == 0 && vrc == 0 ? 0 : -1;
}

/* ---- PUT refuses payee fields ------------------------------------------- */

static void test_put_refuses_payee_fields(void **state)
{
    (void)state;
    char id[19], card[20], other_id[19], new_card[20];
    long long t = person(1, id, card);
    tu_gen_id(399, other_id);
    tu_gen_card(399, new_card);
    char path[96], hist[96], body[800];
    snprintf(path, sizeof path, "/api/v1/talents/%lld", t);
    snprintf(hist, sizeof hist, "/api/v1/talents/%lld/history", t);
    json_t *before = call(h_admin, "GET", path, NULL, 200);
    json_t *hist0 = call(h_admin, "GET", hist, NULL, 200);
    /* HR and the administrator: each of the three named, nothing stored */
    const char *who[] = {h_hr, h_admin};
    for (int k = 0; k < 2; k++) {
        snprintf(body, sizeof body,
                 "{\"name\":\"换了名字\",\"id_number\":\"%s\",\"education\":\"博士\",\"employer\":"
                 "\"%s\",\"employed_since\":\"2024-05-01\",\"bank_account\":\"%s\"}",
                 other_id, CODE1, new_card);
        json_t *j = call(who[k], "PUT", path, body, 403);
        check_error(j, "forbidden", "body.name");
        check_errors(
            j, (const char *const[]){"body.name", "body.id_number", "body.bank_account", NULL});
        json_t *e = json_array_get(json_object_get(j, "errors"), 2);
        assert_non_null(strstr(jstr(e, "message_en"), "My payment account"));
        json_decref(j);
        /* the card alone, and clearing it */
        snprintf(body, sizeof body,
                 "{\"name\":\"接口收款1\",\"education\":\"硕士\",\"employer\":\"%s\","
                 "\"employed_since\":\"2024-05-01\",\"bank_account\":\"%s\"}",
                 CODE1, new_card);
        j = call(who[k], "PUT", path, body, 403);
        check_error(j, "forbidden", "body.bank_account");
        json_decref(j);
        snprintf(body, sizeof body,
                 "{\"name\":\"接口收款1\",\"education\":\"硕士\",\"employer\":\"%s\","
                 "\"employed_since\":\"2024-05-01\",\"bank_account\":\"\"}",
                 CODE1);
        json_decref(call(who[k], "PUT", path, body, 403));
        json_t *now = call(h_admin, "GET", path, NULL, 200);
        assert_true(json_equal(now, before));
        json_decref(now);
        json_t *h = call(h_admin, "GET", hist, NULL, 200);
        assert_true(json_equal(h, hist0));
        json_decref(h);
    }
    /* the same values again, with another field changed: stored */
    snprintf(body, sizeof body,
             "{\"name\":\"接口收款1\",\"id_number\":\"%s\",\"education\":\"博士\",\"employer\":"
             "\"%s\",\"employed_since\":\"2024-05-01\",\"bank_account\":\"%s\"}",
             id, CODE1, card);
    json_t *j = call(h_hr, "PUT", path, body, 200);
    assert_string_equal(jstr(j, "education"), "doctor");
    assert_string_equal(jstr(j, "bank_masked"), jstr(before, "bank_masked"));
    json_decref(j);
    json_decref(before);
    json_decref(hist0);
}

/* ---- the person's change -------------------------------------------------- */

static void test_change_by_the_person(void **state)
{
    (void)state;
    char id[19], card[20], new_card[20], hs[300];
    long long t = person(2, id, card);
    tu_gen_card(398, new_card);
    self_token(t, hs, sizeof hs);
    char path[96], body[400];
    snprintf(path, sizeof path, "/api/v1/talents/%lld/payee/changes", t);
    /* bad bodies: every field at once; wrong types */
    json_t *j = call(hs, "POST", path, "{\"bank_account\":\"4111\",\"reason\":\"x\"}", 400);
    check_error(j, "invalid", "body.bank_account");
    check_errors(j, (const char *const[]){"body.bank_account", "body.reason", NULL});
    json_decref(j);
    j = call(hs, "POST", path, "{\"bank_account\":6222,\"reason\":\"原卡挂失\"}", 400);
    check_error(j, "invalid", "body.bank_account");
    json_decref(j);
    j = call(hs, "POST", path, "[1]", 400);
    json_decref(j);
    /* HR is no path */
    snprintf(body, sizeof body, "{\"bank_account\":\"%s\",\"reason\":\"原卡挂失，更换新卡\"}",
             new_card);
    j = call(h_hr, "POST", path, body, 403);
    check_error(j, "forbidden", "body.bank_account");
    json_decref(j);
    /* the person asks: pending, notified; the card on record unchanged */
    j = call(hs, "POST", path, body, 201);
    json_t *pending = json_object_get(j, "pending");
    long long cid = jint(pending, "id");
    assert_string_equal(jstr(pending, "state"), "pending");
    assert_null(json_object_get(pending, "requested_account"));
    assert_null(json_object_get(pending, "requested_by"));
    assert_true(json_is_true(json_object_get(j, "can_confirm")));
    assert_int_equal(json_array_size(json_object_get(j, "notifications")), 1);
    assert_null(
        strstr(jstr(json_array_get(json_object_get(j, "notifications"), 0), "text_zh"), new_card));
    char masked_old[40];
    snprintf(masked_old, sizeof masked_old, "%s", jstr(j, "bank_masked"));
    json_decref(j);
    /* a second one waits */
    j = call(hs, "POST", path, body, 409);
    check_error(j, "conflict", "change");
    json_decref(j);
    /* confirmed by the person */
    char cpath[96];
    snprintf(cpath, sizeof cpath, "/api/v1/payee-changes/%lld/confirm", cid);
    j = call(h_clerk1, "POST", cpath, NULL, 403);
    check_error(j, "forbidden", "confirmed_by");
    json_decref(j);
    j = call(hs, "POST", cpath, NULL, 200);
    assert_true(json_is_null(json_object_get(j, "pending")));
    assert_string_not_equal(jstr(j, "bank_masked"), masked_old);
    assert_int_equal(json_array_size(json_object_get(j, "notifications")), 2);
    json_decref(j);
    j = call(hs, "POST", cpath, NULL, 409);
    check_error(j, "conflict", "state");
    json_decref(j);
    /* the registry shows the new card; the history names the change */
    snprintf(cpath, sizeof cpath, "/api/v1/talents/%lld", t);
    j = call(h_admin, "GET", cpath, NULL, 200);
    char want[40];
    snprintf(want, sizeof want, "622200******%.4s", new_card + 12);
    assert_string_equal(jstr(j, "bank_masked"), want);
    json_decref(j);
    /* someone else's record is not the person's */
    char other_id[19], other_card[20], ho[300];
    long long t2 = person(3, other_id, other_card);
    self_token(t2, ho, sizeof ho);
    json_decref(call(ho, "GET", "/api/v1/talents/999999/payee", NULL, 404));
    snprintf(cpath, sizeof cpath, "/api/v1/talents/%lld/payee", t);
    json_decref(call(ho, "GET", cpath, NULL, 404));
    /* HR does not see payee data */
    json_decref(call(h_hr, "GET", cpath, NULL, 403));
}

/* ---- a change at a window ------------------------------------------------- */

static void test_change_at_a_window(void **state)
{
    (void)state;
    char id[19], card[20], new_card[20];
    long long t = person(4, id, card);
    tu_gen_card(397, new_card);
    char path[96], body[400];
    snprintf(path, sizeof path, "/api/v1/talents/%lld/payee/changes", t);
    snprintf(body, sizeof body,
             "{\"bank_account\":\"%s\",\"reason\":\"本人持新卡到窗口办理\",\"person_present\":"
             "false}",
             new_card);
    json_t *j = call(h_clerk1, "POST", path, body, 400);
    check_error(j, "invalid", "body.person_present");
    json_decref(j);
    j = call(h_clerk1, "POST", path, "{\"person_present\":\"yes\"}", 400);
    check_error(j, "invalid", "body.person_present");
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"bank_account\":\"%s\",\"reason\":\"本人持新卡到窗口办理\",\"person_present\":"
             "true}",
             new_card);
    j = call(h_clerk1, "POST", path, body, 201);
    json_t *pending = json_object_get(j, "pending");
    long long cid = jint(pending, "id");
    assert_string_equal(jstr(pending, "via"), "window");
    assert_string_equal(jstr(pending, "requested_account"), "p.clerk1");
    assert_false(json_is_true(json_object_get(j, "can_confirm")));
    json_decref(j);
    char cpath[96];
    snprintf(cpath, sizeof cpath, "/api/v1/payee-changes/%lld/confirm", cid);
    j = call(h_clerk1, "POST", cpath, NULL, 403);
    check_error(j, "forbidden", "confirmed_by");
    json_decref(j);
    j = call(h_clerk2, "POST", cpath, NULL, 200);
    json_t *c0 = json_array_get(json_object_get(j, "changes"), 0);
    assert_string_equal(jstr(c0, "state"), "confirmed");
    assert_non_null(strstr(jstr(c0, "decided_by"), "p.clerk2"));
    json_decref(j);
}

/* ---- one card, one person ------------------------------------------------- */

static void test_card_on_two_people(void **state)
{
    (void)state;
    char id[19], card[20];
    person(5, id, card);
    /* registration */
    char id2[19], body[600];
    tu_gen_id(395, id2);
    snprintf(body, sizeof body,
             "{\"name\":\"重卡\",\"id_number\":\"%s\",\"education\":\"硕士\",\"employer\":\"%s\","
             "\"employed_since\":\"2024-05-01\",\"bank_account\":\"%s\"}",
             id2, CODE1, card);
    json_t *j = call(h_hr, "POST", "/api/v1/talents", body, 409);
    check_error(j, "conflict", "body.bank_account");
    json_decref(j);
    /* import */
    char csv[600], hdr[400];
    snprintf(csv, sizeof csv,
             "姓名,身份证号码,学历,用人单位统一社会信用代码,入职日期,银行卡号\n"
             "重卡,%s,硕士,%s,2024-05-01,%s\n",
             id2, CODE1, card);
    const char *auth = strstr(h_hr, "\r\n");
    snprintf(hdr, sizeof hdr, "%.*s\r\nContent-Type: text/csv\r\n", (int)(auth - h_hr), h_hr);
    j = call(hdr, "POST", "/api/v1/imports/talents?commit=1", csv, 422);
    json_t *p0 = json_array_get(json_object_get(j, "problem_list"), 0);
    assert_string_equal(jstr(p0, "field"), "bank_account");
    assert_int_equal(jint(j, "imported"), 0);
    json_decref(j);
    json_t *list = call(h_admin, "GET", "/api/v1/talents?q=%E9%87%8D%E5%8D%A1", NULL, 200);
    assert_int_equal(jint(list, "total"), 0);
    json_decref(list);
    /* a change */
    char id3[19], card3[20], hs[300];
    long long t3 = person(6, id3, card3);
    self_token(t3, hs, sizeof hs);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/talents/%lld/payee/changes", t3);
    snprintf(body, sizeof body, "{\"bank_account\":\"%s\",\"reason\":\"用这张卡收款\"}", card);
    j = call(hs, "POST", path, body, 409);
    check_error(j, "conflict", "body.bank_account");
    json_decref(j);
}

/* ---- name and ID number ---------------------------------------------------- */

static void test_identity_correction(void **state)
{
    (void)state;
    char id[19], card[20];
    long long t = person(7, id, card);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/talents/%lld/identity", t);
    json_t *j = call(h_clerk1, "POST", path, "{\"name\":\"改名\",\"reason\":\"户籍更正\"}", 403);
    json_decref(j);
    j = call(h_rev1, "POST", path, "{\"name\":\"\",\"id_number\":\"123\",\"reason\":\"\"}", 400);
    check_errors(j, (const char *const[]){"body.id_number", "body.reason", NULL});
    json_decref(j);
    j = call(h_rev1, "POST", path, "{\"name\":\"王接口\",\"reason\":\"姓名录入有误，核对原件\"}",
             201);
    assert_string_equal(jstr(j, "name"), "王接口");
    assert_true(json_is_true(json_object_get(j, "held")));
    json_t *c0 = json_array_get(json_object_get(j, "corrections"), 0);
    long long cid = jint(c0, "id");
    assert_false(json_is_true(json_object_get(c0, "can_review")));
    json_decref(j);
    char rpath[96];
    snprintf(rpath, sizeof rpath, "/api/v1/identity-corrections/%lld/review", cid);
    j = call(h_rev1, "POST", rpath, "{\"note\":\"复核无误，恢复发放\"}", 403);
    check_error(j, "forbidden", "reviewed_by");
    json_decref(j);
    j = call(h_rev2, "POST", rpath, "{\"note\":\"\"}", 400);
    check_error(j, "invalid", "body.note");
    json_decref(j);
    j = call(h_rev2, "POST", rpath, "{\"note\":\"复核无误，恢复发放\"}", 200);
    assert_false(json_is_true(json_object_get(j, "held")));
    json_decref(j);
    /* the person sees the notices */
    char hs[300];
    self_token(t, hs, sizeof hs);
    j = payee_of(hs, t);
    assert_int_equal(json_array_size(json_object_get(j, "notifications")), 2);
    assert_string_equal(jstr(json_array_get(json_object_get(j, "notifications"), 0), "kind"),
                        "identity.review");
    json_decref(j);
}

/* ---- the cycle's holds route ------------------------------------------------ */

static void test_cycle_holds_route(void **state)
{
    (void)state;
    json_t *j = call(h_fin, "GET", "/api/v1/cycles/2026-10/holds", NULL, 404);
    check_error(j, "not_found", "month");
    json_decref(j);
    j = call(h_fin, "GET", "/api/v1/cycles/2026-13/holds", NULL, 400);
    check_error(j, "invalid", "month");
    json_decref(j);
    j = call(h_fin, "GET", "/api/v1/cycles/2026-10/holds?limit=0", NULL, 400);
    check_error(j, "invalid", "limit");
    json_decref(j);
    json_decref(call(h_hr, "GET", "/api/v1/cycles/2026-10/holds", NULL, 403));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_refuses_payee_fields),
        cmocka_unit_test(test_change_by_the_person),
        cmocka_unit_test(test_change_at_a_window),
        cmocka_unit_test(test_card_on_two_people),
        cmocka_unit_test(test_identity_correction),
        cmocka_unit_test(test_cycle_holds_route),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
