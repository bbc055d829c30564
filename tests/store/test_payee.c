/* test_payee.c - a person's payee data (registry/payee.h) on SQLite and
 * (with QL_TEST_PG) PostgreSQL: the registry's update refuses a changed
 * name, ID number or bank card for every account and stores nothing; a card
 * changed by the person and confirmed by them, or entered at a window with
 * the person present and confirmed by the person or a second clerk (never
 * the same clerk; the schema holds that too); a card on record for another
 * person refused on every path that stores cards (registration, import,
 * bulk load, a change); a reviewer's correction of name and ID number, kept
 * sealed, holding the person's payments until another reviewer has
 * reviewed it; the notifications sent at each step; a cycle approved before
 * a change pays the card it was approved with and one approved after pays
 * the new one, the batch file written again from the store with the same
 * bytes; held payments with their reasons; key rotation re-sealing the
 * history. Run from the repository root. */
#include "fixtures.h"
#include "idgen.h"
#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/pii.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "registry/bulk.h"
#include "registry/import.h"
#include "registry/payee.h"
#include "registry/registry.h"
#include "registry/rekey.h"
#include "store/store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EMP_CODE "91350100M000100Y43" /* the standard's example */

static store *S;
static actor CLI, FIN, ADMIN, HR, CLERK1, CLERK2, REV1, REV2;
static int64_t EMP;
static char DIR_OCT[512], DIR_NOV[512];

static actor staff(const char *username, enum role role, enum scope_kind scope,
                   const char *scope_id)
{
    actor a;
    actor_cli(&a);
    a.via = VIA_SESSION;
    a.user_id = 0;
    snprintf(a.username, sizeof a.username, "%s", username);
    snprintf(a.display_name, sizeof a.display_name, "%s", username);
    a.roles = 1u << role;
    a.perms = role_perms(role);
    a.scope = scope;
    snprintf(a.scope_id, sizeof a.scope_id, "%s", scope_id ? scope_id : "");
    return a;
}

/* The person's own account. */
static actor self_of(int64_t talent)
{
    char name[32], id[24];
    snprintf(name, sizeof name, "talent.%lld", (long long)talent);
    snprintf(id, sizeof id, "%lld", (long long)talent);
    return staff(name, ROLE_TALENT, SCOPE_SELF, id);
}

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    FIN = staff("finance.two", ROLE_FINANCE, SCOPE_DISTRICT, NULL);
    ADMIN = staff("admin.one", ROLE_ADMIN, SCOPE_DISTRICT, NULL);
    HR = staff("hr.one", ROLE_EMPLOYER_HR, SCOPE_EMPLOYER, EMP_CODE);
    CLERK1 = staff("clerk.one", ROLE_WINDOW_CLERK, SCOPE_DISTRICT, NULL);
    CLERK2 = staff("clerk.two", ROLE_WINDOW_CLERK, SCOPE_DISTRICT, NULL);
    REV1 = staff("reviewer.one", ROLE_REVIEWER, SCOPE_DISTRICT, NULL);
    REV2 = staff("reviewer.two", ROLE_REVIEWER, SCOPE_DISTRICT, NULL);
    EMP = fx_employer(S, EMP_CODE);
    snprintf(DIR_OCT, sizeof DIR_OCT, "%s/bank-oct", tu_tmpdir());
    snprintf(DIR_NOV, sizeof DIR_NOV, "%s/bank-nov", tu_tmpdir());
    mkdir(DIR_OCT, 0700);
    mkdir(DIR_NOV, 0700);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static int64_t qint(const char *sql, const store_val *args, int n)
{
    int64_t v = -1;
    int rc = store_query_int(S, sql, args, n, &v);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(S));
    return v;
}

static void qtext(const char *sql, const store_val *args, int n, char *out, size_t len)
{
    store_rows *r;
    out[0] = '\0';
    if (store_query(S, sql, args, n, &r)) fail_msg("%s: %s", sql, store_errmsg(S));
    if (store_step(r) == 1) snprintf(out, len, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
}

/* The card on record for talent t, opened. */
static void card_of(int64_t t, char *out, size_t n)
{
    store_rows *r;
    out[0] = '\0';
    assert_int_equal(store_query(S, "SELECT bank_enc FROM talents WHERE id = $1",
                                 (store_val[]){SV_INT(t)}, 1, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    size_t len = 0;
    const void *b = store_col_blob(r, 0, &len);
    ql_err err;
    if (b) assert_int_equal(pii_open(PII_BANK_ACCOUNT, b, len, out, n, &err), 0);
    store_rows_close(r);
}

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 1;
    return 0;
}

static void expect_err(const char *what, int rc, const ql_err *err, int code, const char *field)
{
    if (rc != code)
        fail_msg("%s: returned %d, expected %d (field '%s': %s)", what, rc, code, err->field,
                 err->en);
    if (field && strcmp(err->field, field))
        fail_msg("%s: field '%s', expected '%s' (%s)", what, err->field, field, err->en);
    if (!err->en[0] || !has_non_ascii(err->zh)) fail_msg("%s: messages in both languages", what);
}

static int report_has(const reg_report *rep, const char *field)
{
    for (int i = 0; i < rep->errors.n; i++)
        if (!strcmp(rep->errors.e[i].field, field)) return 1;
    return 0;
}

/* The rows payee data lives in, as text, to see that a refusal stored
 * nothing (sealed columns by their blind indexes). */
static char *snapshot(void)
{
    static const char *const q[] = {
        "SELECT id, name, id_index, id_masked, birth_date, phone_index, education, level, "
        "bank_index, bank_masked, updated_at FROM talents ORDER BY id",
        "SELECT id, talent_id, state, bank_index, seq, old_index FROM payee_changes ORDER BY id",
        "SELECT id, talent_id, reviewed_at FROM identity_corrections ORDER BY id",
        "SELECT id, talent_id, kind FROM notifications ORDER BY id",
        "SELECT seq FROM payee_clock",
        "SELECT seq, action FROM audit_log ORDER BY seq"};
    buf b = BUF_INIT;
    for (size_t t = 0; t < sizeof q / sizeof q[0]; t++) {
        store_rows *r;
        if (store_query(S, q[t], NULL, 0, &r)) fail_msg("%s: %s", q[t], store_errmsg(S));
        buf_printf(&b, "[%zu]\n", t);
        while (store_step(r) == 1) {
            for (int c = 0; c < store_ncols(r); c++) {
                buf_puts(&b, store_col_isnull(r, c) ? "NULL" : store_col_text(r, c, NULL));
                buf_putc(&b, '|');
            }
            buf_putc(&b, '\n');
        }
        store_rows_close(r);
    }
    return buf_steal(&b);
}

static void expect_unchanged(const char *what, const char *before)
{
    char *now = snapshot();
    int same = !strcmp(now, before);
    free(now);
    if (!same) fail_msg("%s: the stored data changed", what);
}

/* Registers person i (ID number, card i) working for EMP, through the
 * service as the district administrator. */
static int64_t person(int i, char id[19], char card[20])
{
    char name[32], phone[12];
    snprintf(name, sizeof name, "收款%03d", i);
    tu_gen_id(500 + i, id);
    tu_gen_card(7000 + i, card);
    tu_gen_phone(500 + i, phone);
    struct talent_input in = {.name = name,
                              .id_number = id,
                              .phone = phone,
                              .education = "master",
                              .employer = EMP_CODE,
                              .employed_since = "2024-03-01",
                              .insurance_months = "18",
                              .owns_housing = "no",
                              .bank_account = card};
    reg_report rep;
    ql_err err = {0};
    int64_t tid = 0;
    int rc = registry_talent_create(S, &ADMIN, &in, &tid, &rep, &err);
    if (rc) fail_msg("person %d: %d %s %s", i, rc, err.field, err.en);
    return tid;
}

static int64_t notifications(int64_t t, const char *kind)
{
    return qint("SELECT count(*) FROM notifications WHERE talent_id = $1 AND kind = $2",
                (store_val[]){SV_INT(t), SV_TEXT(kind)}, 2);
}

/* No notification holds a card or ID number in the clear. */
static void notifications_masked(const char *plain)
{
    store_rows *r;
    assert_int_equal(store_query(S, "SELECT text_zh || text_en FROM notifications", NULL, 0, &r),
                     0);
    while (store_step(r) == 1)
        if (strstr(store_col_text(r, 0, NULL), plain))
            fail_msg("a notification holds %s in the clear", plain);
    store_rows_close(r);
}

static int64_t request(const actor *a, int64_t t, const char *card, const char *reason, int present)
{
    struct payee_request in = {card, reason, present};
    reg_report rep;
    ql_err err = {0};
    int64_t id = 0;
    int rc = payee_change_request(S, a, t, &in, &id, &rep, &err);
    if (rc) fail_msg("request by %s: %d %s %s", a->username, rc, err.field, err.en);
    return id;
}

/* ---- the registry's update refuses payee fields --------------------------- */

static void test_update_refuses_payee_fields(void **state)
{
    (void)state;
    char id[19], card[20], other_id[19], new_card[20];
    int64_t t = person(1, id, card);
    tu_gen_id(901, other_id);
    tu_gen_card(7901, new_card);
    struct talent_input in = {.name = "收款001",
                              .id_number = NULL,
                              .education = "doctor",
                              .employer = EMP_CODE,
                              .employed_since = "2024-03-01",
                              .insurance_months = "20",
                              .owns_housing = "no"};
    static const actor *const who[] = {&HR, &ADMIN, &CLERK1, &CLI};
    for (size_t k = 0; k < sizeof who / sizeof who[0]; k++) {
        char *before = snapshot();
        reg_report rep;
        ql_err err = {0};
        /* all three at once: each named, with the path to use */
        struct talent_input bad = in;
        bad.name = "改名字";
        bad.id_number = other_id;
        bad.bank_account = new_card;
        int rc = registry_talent_update(S, who[k], t, &bad, &rep, &err);
        expect_err(who[k]->username, rc, &err, QL_EFORBIDDEN, "name");
        assert_int_equal(rep.errors.n, 3);
        assert_true(report_has(&rep, "name") && report_has(&rep, "id_number") &&
                    report_has(&rep, "bank_account"));
        assert_non_null(strstr(rep.errors.e[2].en, "My payment account"));
        assert_non_null(strstr(rep.errors.e[2].zh, "窗口"));
        assert_non_null(strstr(rep.errors.e[0].en, "reviewer"));
        expect_unchanged(who[k]->username, before);
        /* each alone, and clearing the card */
        struct talent_input one = in;
        one.bank_account = new_card;
        expect_err("card", registry_talent_update(S, who[k], t, &one, &rep, &err), &err,
                   QL_EFORBIDDEN, "bank_account");
        one.bank_account = "";
        expect_err("no card", registry_talent_update(S, who[k], t, &one, &rep, &err), &err,
                   QL_EFORBIDDEN, "bank_account");
        one = in;
        one.id_number = other_id;
        expect_err("id", registry_talent_update(S, who[k], t, &one, &rep, &err), &err,
                   QL_EFORBIDDEN, "id_number");
        one = in;
        one.name = " 别人 ";
        expect_err("name", registry_talent_update(S, who[k], t, &one, &rep, &err), &err,
                   QL_EFORBIDDEN, "name");
        expect_unchanged(who[k]->username, before);
        free(before);
    }
    /* the same values (as typed: spaces, a card with spaces) are no change;
     * the other fields still change */
    char spaced[40];
    snprintf(spaced, sizeof spaced, "%.4s %.4s %.4s %s", card, card + 4, card + 8, card + 12);
    struct talent_input same = in;
    same.name = " 收款001 ";
    same.id_number = id;
    same.bank_account = spaced;
    reg_report rep;
    ql_err err = {0};
    assert_int_equal(registry_talent_update(S, &HR, t, &same, &rep, &err), 0);
    assert_int_equal(
        qint("SELECT insurance_months FROM talents WHERE id = $1", (store_val[]){SV_INT(t)}, 1),
        20);
    /* the name left out stays */
    struct talent_input noname = in;
    noname.name = NULL;
    noname.education = "master";
    assert_int_equal(registry_talent_update(S, &HR, t, &noname, &rep, &err), 0);
    char name[64], plain[32];
    qtext("SELECT name FROM talents WHERE id = $1", (store_val[]){SV_INT(t)}, 1, name, sizeof name);
    assert_string_equal(name, "收款001");
    card_of(t, plain, sizeof plain);
    assert_string_equal(plain, card);
}

/* ---- a change by the person ------------------------------------------------ */

static void test_change_by_the_person(void **state)
{
    (void)state;
    char id[19], card[20], card2[20], new_card[20];
    int64_t t = person(2, id, card);
    int64_t t2 = person(3, id, card2);
    tu_gen_card(7902, new_card);
    actor me = self_of(t), other = self_of(t2);
    reg_report rep;
    ql_err err = {0};
    char *before = snapshot();

    /* every bad field at once; nothing stored */
    struct payee_request bad = {"4111111111111111", "短", 0};
    int64_t cid = 0;
    expect_err("bad", payee_change_request(S, &me, 0, &bad, &cid, &rep, &err), &err, QL_EINVAL,
               "bank_account");
    assert_true(report_has(&rep, "bank_account") && report_has(&rep, "reason"));
    /* the card on record already; another person's card; someone else's record */
    struct payee_request same = {card, "换卡测试原因", 0};
    expect_err("same", payee_change_request(S, &me, 0, &same, &cid, &rep, &err), &err, QL_EINVAL,
               "bank_account");
    struct payee_request taken = {card2, "换卡测试原因", 0};
    expect_err("taken", payee_change_request(S, &me, 0, &taken, &cid, &rep, &err), &err,
               QL_ECONFLICT, "bank_account");
    /* a reason is shown to the person and to staff: nothing that reorders
     * or hides text (U+202E, U+200B, U+2028) */
    static const char *const hidden[] = {"原卡挂失\xE2\x80\xAE更换新卡", "原卡挂失\xE2\x80\x8B更换",
                                         "原卡挂失\xE2\x80\xA8更换新卡"};
    for (size_t i = 0; i < 3; i++) {
        struct payee_request odd = {new_card, hidden[i], 0};
        expect_err("hidden", payee_change_request(S, &me, 0, &odd, &cid, &rep, &err), &err,
                   QL_EINVAL, "reason");
        assert_true(report_has(&rep, "reason"));
    }
    struct payee_request good = {new_card, "原卡挂失，更换新卡", 0};
    expect_err("not mine", payee_change_request(S, &other, t, &good, &cid, &rep, &err), &err,
               QL_ENOTFOUND, "id");
    /* an employer's HR account and an administrator are not a path */
    expect_err("hr", payee_change_request(S, &HR, t, &good, &cid, &rep, &err), &err, QL_EFORBIDDEN,
               "bank_account");
    expect_err("admin", payee_change_request(S, &ADMIN, t, &good, &cid, &rep, &err), &err,
               QL_EFORBIDDEN, "bank_account");
    expect_unchanged("refused requests", before);
    free(before);

    /* the person asks: pending, the card on record unchanged, notified */
    cid = request(&me, 0, new_card, "原卡挂失，更换新卡 6222000000000009", 0);
    char plain[32];
    card_of(t, plain, sizeof plain);
    assert_string_equal(plain, card);
    assert_int_equal(notifications(t, "payee.request"), 1);
    char reason[200];
    qtext("SELECT reason FROM payee_changes WHERE id = $1", (store_val[]){SV_INT(cid)}, 1, reason,
          sizeof reason);
    assert_null(strstr(reason, "6222000000000009")); /* a number in the reason is starred */
    /* a second request waits for the first */
    struct payee_request again = {card2, "再换一张卡", 0};
    expect_err("pending", payee_change_request(S, &me, 0, &again, &cid, &rep, &err), &err,
               QL_ECONFLICT, "change");
    /* the person's own view */
    json_t *v = NULL;
    assert_int_equal(payee_get(S, &me, 0, &v, &err), 0);
    json_t *pending = json_object_get(v, "pending");
    assert_true(json_is_object(pending));
    assert_int_equal(json_integer_value(json_object_get(pending, "id")), cid);
    assert_true(json_is_true(json_object_get(v, "can_confirm")));
    assert_null(json_object_get(pending, "requested_account"));
    assert_int_equal(json_array_size(json_object_get(v, "notifications")), 1);
    json_decref(v);
    /* a clerk cannot confirm what the person asked for; HR sees none of it */
    expect_err("clerk confirms", payee_change_confirm(S, &CLERK1, cid, NULL, &err), &err,
               QL_EFORBIDDEN, "confirmed_by");
    expect_err("hr view", payee_get(S, &HR, t, &v, &err), &err, QL_EFORBIDDEN, NULL);
    expect_err("other confirms", payee_change_confirm(S, &other, cid, NULL, &err), &err,
               QL_ENOTFOUND, "id");

    /* confirmed: the card on record, the history, the notification, the audit */
    int64_t clock = qint("SELECT seq FROM payee_clock", NULL, 0);
    assert_int_equal(payee_change_confirm(S, &me, cid, NULL, &err), 0);
    card_of(t, plain, sizeof plain);
    assert_string_equal(plain, new_card);
    assert_int_equal(
        qint("SELECT seq FROM payee_changes WHERE id = $1", (store_val[]){SV_INT(cid)}, 1),
        clock + 1);
    char old[40];
    qtext("SELECT old_masked FROM payee_changes WHERE id = $1", (store_val[]){SV_INT(cid)}, 1, old,
          sizeof old);
    char want[40];
    pii_mask(PII_BANK_ACCOUNT, card, want, sizeof want);
    assert_string_equal(old, want);
    assert_int_equal(notifications(t, "payee.confirm"), 1);
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)t);
    assert_int_equal(qint("SELECT count(*) FROM audit_log WHERE action IN ('payee.request', "
                          "'payee.confirm') AND object_type = 'talent' AND object_id = $1",
                          (store_val[]){SV_TEXT(oid)}, 1),
                     2);
    expect_err("twice", payee_change_confirm(S, &me, cid, NULL, &err), &err, QL_ECONFLICT, "state");
    /* the history page lists it, naming the field */
    json_t *hist = NULL;
    assert_int_equal(registry_history(S, &ADMIN, "talent", t, &hist, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 0), "action")),
                        "payee.confirm");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_array_get(hist, 0), "changed"), 0)),
        "bank_account");
    json_decref(hist);
    /* cancelled by the person: nothing changes but the state */
    char spare[20];
    tu_gen_card(7903, spare);
    int64_t c2 = request(&me, 0, spare, "再换一张卡", 0);
    assert_int_equal(payee_change_cancel(S, &me, c2, "不换了", NULL, &err), 0);
    card_of(t, plain, sizeof plain);
    assert_string_equal(plain, new_card);
    assert_int_equal(notifications(t, "payee.cancel"), 1);
    expect_err("confirm cancelled", payee_change_confirm(S, &me, c2, NULL, &err), &err,
               QL_ECONFLICT, "state");
    notifications_masked(new_card);
    notifications_masked(card);
}

/* ---- a change at a window ---------------------------------------------------- */

static void test_change_at_a_window(void **state)
{
    (void)state;
    char id[19], card[20], c1[20], c2[20];
    int64_t t = person(4, id, card);
    tu_gen_card(7904, c1);
    tu_gen_card(7905, c2);
    reg_report rep;
    ql_err err = {0};
    int64_t cid = 0;
    /* the person must be present, and a reason given */
    struct payee_request absent = {c1, "本人银行卡挂失", 0};
    expect_err("absent", payee_change_request(S, &CLERK1, t, &absent, &cid, &rep, &err), &err,
               QL_EINVAL, "person_present");
    cid = request(&CLERK1, t, c1, "本人持新卡到窗口办理", 1);
    char via[16];
    qtext("SELECT via FROM payee_changes WHERE id = $1", (store_val[]){SV_INT(cid)}, 1, via,
          sizeof via);
    assert_string_equal(via, "window");
    assert_int_equal(notifications(t, "payee.request"), 1);
    /* not by the clerk who entered it, nor by accounts that are no path */
    expect_err("same clerk", payee_change_confirm(S, &CLERK1, cid, NULL, &err), &err, QL_EFORBIDDEN,
               "confirmed_by");
    expect_err("hr", payee_change_confirm(S, &HR, cid, NULL, &err), &err, QL_ENOTFOUND, NULL);
    expect_err("reviewer", payee_change_confirm(S, &REV1, cid, NULL, &err), &err, QL_EFORBIDDEN,
               "confirmed_by");
    /* the schema holds the four eyes too */
    assert_int_not_equal(store_exec(S,
                                    "UPDATE payee_changes SET state = 'confirmed', seq = 999, "
                                    "decided_at = 1, decided_account = requested_account WHERE "
                                    "id = $1",
                                    (store_val[]){SV_INT(cid)}, 1, NULL),
                         0);
    /* the staff view says who may do what */
    json_t *v = NULL;
    assert_int_equal(payee_get(S, &CLERK1, t, &v, &err), 0);
    assert_false(json_is_true(json_object_get(v, "can_confirm")));
    assert_true(json_is_true(json_object_get(v, "can_cancel")));
    json_decref(v);
    assert_int_equal(payee_get(S, &CLERK2, t, &v, &err), 0);
    assert_true(json_is_true(json_object_get(v, "can_confirm")));
    json_decref(v);
    /* a second clerk confirms */
    int64_t whose = 0;
    assert_int_equal(payee_change_confirm(S, &CLERK2, cid, &whose, &err), 0);
    assert_int_equal(whose, t);
    char plain[32], by[64];
    card_of(t, plain, sizeof plain);
    assert_string_equal(plain, c1);
    qtext("SELECT decided_account FROM payee_changes WHERE id = $1", (store_val[]){SV_INT(cid)}, 1,
          by, sizeof by);
    assert_string_equal(by, "clerk.two");
    /* or the person confirms on their own account */
    cid = request(&CLERK1, t, c2, "本人持新卡到窗口办理", 1);
    actor me = self_of(t);
    assert_int_equal(payee_change_confirm(S, &me, cid, NULL, &err), 0);
    card_of(t, plain, sizeof plain);
    assert_string_equal(plain, c2);
    assert_int_equal(notifications(t, "payee.confirm"), 2);
}

/* ---- the same card on two people -------------------------------------------- */

/* One talent through the bulk load (the demo's path). */
struct bulk_one {
    const struct talent_input *in;
    reg_report rep;
    int rc;
};

static int bulk_fn(registry_bulk *bb, void *ctx)
{
    struct bulk_one *one = ctx;
    int64_t id;
    one->rc = registry_bulk_talent(bb, one->in, NULL, &id, &one->rep);
    return one->rc;
}

static void test_card_on_two_people(void **state)
{
    (void)state;
    char id[19], card[20];
    int64_t t = person(5, id, card);
    (void)t;
    reg_report rep;
    ql_err err = {0};
    char *before = snapshot();
    /* registration */
    char id2[19], phone[12];
    tu_gen_id(600, id2);
    tu_gen_phone(600, phone);
    struct talent_input in = {.name = "重卡",
                              .id_number = id2,
                              .education = "master",
                              .employer = EMP_CODE,
                              .employed_since = "2024-03-01",
                              .owns_housing = "no",
                              .bank_account = card};
    int64_t nid = 0;
    expect_err("create", registry_talent_create(S, &HR, &in, &nid, &rep, &err), &err, QL_ECONFLICT,
               "bank_account");
    expect_unchanged("create", before);
    /* import: a registered person's card, and one card twice in the file */
    char id3[19], id4[19], fresh[20], csv[1024];
    tu_gen_id(601, id3);
    tu_gen_id(602, id4);
    tu_gen_card(7999, fresh);
    snprintf(csv, sizeof csv,
             "姓名,身份证号码,学历,用人单位统一社会信用代码,入职日期,银行卡号\n"
             "甲,%s,硕士,%s,2024-03-01,%s\n"
             "乙,%s,硕士,%s,2024-03-01,%s\n"
             "丙,%s,硕士,%s,2024-03-01,%s\n",
             id2, EMP_CODE, card, id3, EMP_CODE, fresh, id4, EMP_CODE, fresh);
    FILE *f = fmemopen(csv, strlen(csv), "r");
    struct import_report ir;
    assert_int_equal(registry_import(S, &ADMIN, IMPORT_TALENTS, f, "t.csv", 1, &ir, &err), 0);
    fclose(f);
    assert_int_equal(ir.imported, 0);
    assert_int_equal(ir.bad_rows, 2);
    json_t *p0 = json_array_get(ir.list, 0), *p1 = json_array_get(ir.list, 1);
    assert_int_equal(json_integer_value(json_object_get(p0, "row")), 2);
    assert_string_equal(json_string_value(json_object_get(p0, "field")), "bank_account");
    assert_string_equal(json_string_value(json_object_get(p0, "column")), "银行卡号");
    assert_int_equal(json_integer_value(json_object_get(p1, "row")), 4);
    assert_string_equal(json_string_value(json_object_get(p1, "field")), "bank_account");
    import_report_free(&ir);
    expect_unchanged("import", before);
    /* the bulk load (the demo's path): the record is refused */
    registry_bulk *b = NULL;
    assert_int_equal(registry_bulk_open(S, &CLI, "test", &b, &err), 0);
    struct bulk_one one = {.in = &in};
    assert_int_equal(registry_bulk_tx(b, bulk_fn, &one, &err), QL_ECONFLICT);
    assert_true(report_has(&one.rep, "bank_account"));
    registry_bulk_close(b);
    expect_unchanged("bulk", before);
    /* a change to it */
    actor me = self_of(t);
    struct payee_request r = {card, "用别人的卡", 0};
    int64_t cid;
    char other_id[19], other_card[20];
    int64_t t2 = person(6, other_id, other_card);
    actor me2 = self_of(t2);
    free(before);
    before = snapshot();
    expect_err("change", payee_change_request(S, &me2, 0, &r, &cid, &rep, &err), &err, QL_ECONFLICT,
               "bank_account");
    expect_unchanged("change", before);
    /* and one that was free when asked for but taken before confirmation */
    char spare[20];
    tu_gen_card(7998, spare);
    int64_t c1 = request(&me, 0, spare, "换卡测试原因", 0);
    int64_t c2 = request(&me2, 0, spare, "换卡测试原因", 0);
    assert_int_equal(payee_change_confirm(S, &me, c1, NULL, &err), 0);
    expect_err("confirm taken", payee_change_confirm(S, &me2, c2, NULL, &err), &err, QL_ECONFLICT,
               "bank_account");
    char plain[32];
    card_of(t2, plain, sizeof plain);
    assert_string_equal(plain, other_card);
    free(before);
}

/* ---- name and ID number ----------------------------------------------------- */

static void test_identity_correction(void **state)
{
    (void)state;
    char id[19], card[20], other_id[19], other_card[20], new_id[19];
    int64_t t = person(7, id, card);
    person(8, other_id, other_card);
    tu_gen_id(777, new_id);
    reg_report rep;
    ql_err err = {0};
    int64_t cid = 0;
    char *before = snapshot();
    struct identity_input in = {"王更正", new_id, "户籍信息更正，核对原件"};
    /* only a district reviewer */
    expect_err("clerk", identity_correct(S, &CLERK1, t, &in, &cid, &rep, &err), &err, QL_EFORBIDDEN,
               NULL);
    expect_err("hr", identity_correct(S, &HR, t, &in, &cid, &rep, &err), &err, QL_EFORBIDDEN, NULL);
    /* bad values, no reason, nothing to correct, another person's number */
    struct identity_input bad = {"", "310104199001010012", ""};
    expect_err("bad", identity_correct(S, &REV1, t, &bad, &cid, &rep, &err), &err, QL_EINVAL,
               "id_number");
    assert_true(report_has(&rep, "reason"));
    struct identity_input same = {"收款007", id, "核对原件无误"};
    expect_err("same", identity_correct(S, &REV1, t, &same, &cid, &rep, &err), &err, QL_EINVAL,
               "id_number");
    struct identity_input taken = {NULL, other_id, "核对原件无误"};
    expect_err("taken", identity_correct(S, &REV1, t, &taken, &cid, &rep, &err), &err, QL_ECONFLICT,
               "id_number");
    expect_unchanged("refused corrections", before);
    free(before);

    assert_int_equal(identity_correct(S, &REV1, t, &in, &cid, &rep, &err), 0);
    char name[64], masked[40];
    qtext("SELECT name FROM talents WHERE id = $1", (store_val[]){SV_INT(t)}, 1, name, sizeof name);
    assert_string_equal(name, "王更正");
    qtext("SELECT id_masked FROM talents WHERE id = $1", (store_val[]){SV_INT(t)}, 1, masked,
          sizeof masked);
    char want[40];
    pii_mask(PII_ID_NUMBER, new_id, want, sizeof want);
    assert_string_equal(masked, want);
    /* the old values stay, sealed */
    store_rows *r;
    assert_int_equal(store_query(S,
                                 "SELECT old_name_enc, old_id_enc, name_changed, id_changed FROM "
                                 "identity_corrections WHERE id = $1",
                                 (store_val[]){SV_INT(cid)}, 1, &r),
                     0);
    assert_int_equal(store_step(r), 1);
    size_t len;
    const void *b = store_col_blob(r, 0, &len);
    char plain[404];
    assert_int_equal(pii_open(PII_NAME, b, len, plain, sizeof plain, &err), 0);
    assert_string_equal(plain, "收款007");
    assert_null(memmem(b, len, "收款007", strlen("收款007")));
    b = store_col_blob(r, 1, &len);
    assert_int_equal(pii_open(PII_ID_NUMBER, b, len, plain, sizeof plain, &err), 0);
    assert_string_equal(plain, id);
    assert_int_equal(store_col_int(r, 2), 1);
    assert_int_equal(store_col_int(r, 3), 1);
    store_rows_close(r);
    assert_int_equal(notifications(t, "identity.correct"), 1);
    notifications_masked(new_id);
    /* the registry finds the person by the new number */
    json_t *rows = NULL;
    int64_t total = 0;
    struct talent_filter tf = {.q = new_id, .page = 1, .per_page = 10};
    assert_int_equal(registry_talent_list(S, &ADMIN, &tf, &rows, &total, &err), 0);
    assert_int_equal(total, 1);
    json_decref(rows);
    /* open: the payee view says so; not reviewed by the same reviewer */
    json_t *v = NULL;
    assert_int_equal(payee_get(S, &REV2, t, &v, &err), 0);
    assert_true(json_is_true(json_object_get(v, "held")));
    /* the reviewer reads what changed: the name replaced and the name written */
    json_t *c0 = json_array_get(json_object_get(v, "corrections"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "old_name")), "收款007");
    assert_string_equal(json_string_value(json_object_get(c0, "new_name")), "王更正");
    json_decref(v);
    expect_err("same reviewer", identity_review(S, &REV1, cid, "复核无误，恢复发放", NULL, &err),
               &err, QL_EFORBIDDEN, "reviewed_by");
    expect_err("no note", identity_review(S, &REV2, cid, "", NULL, &err), &err, QL_EINVAL, "note");
    assert_int_equal(identity_review(S, &REV2, cid, "复核无误，恢复发放", NULL, &err), 0);
    expect_err("twice", identity_review(S, &REV2, cid, "复核无误，恢复发放", NULL, &err), &err,
               QL_ECONFLICT, "state");
    assert_int_equal(notifications(t, "identity.review"), 1);
    assert_int_equal(payee_get(S, &REV2, t, &v, &err), 0);
    assert_false(json_is_true(json_object_get(v, "held")));
    json_decref(v);
    /* the schema keeps the reviewer apart from the corrector */
    assert_int_not_equal(store_exec(S,
                                    "UPDATE identity_corrections SET reviewed_account = "
                                    "corrected_account WHERE id = $1",
                                    (store_val[]){SV_INT(cid)}, 1, NULL),
                         0);
}

/* ---- what a cycle pays ------------------------------------------------------- */

/* Gives fixture talent t a real sealed ID number (fx_active_subsidy stores
 * a placeholder), so that it can be corrected. */
static void seal_id(int64_t t, int i)
{
    char id[19], idx[PII_INDEX_HEX], masked[40];
    tu_gen_id(800 + i, id);
    buf sealed = BUF_INIT;
    assert_int_equal(pii_seal(PII_ID_NUMBER, id, &sealed), 0);
    pii_index(PII_ID_NUMBER, id, idx);
    pii_mask(PII_ID_NUMBER, id, masked, sizeof masked);
    assert_int_equal(store_exec(S,
                                "UPDATE talents SET id_enc = $1, id_index = $2, id_masked = $3 "
                                "WHERE id = $4",
                                (store_val[]){SV_BLOB(sealed.data, sealed.len), SV_TEXT(idx),
                                              SV_TEXT(masked), SV_INT(t)},
                                4, NULL),
                     0);
    buf_free(&sealed);
}

static int64_t talent_of(int64_t app)
{
    return qint("SELECT talent_id FROM applications WHERE id = $1", (store_val[]){SV_INT(app)}, 1);
}

static char *file_of(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    return tu_slurp(path, &len);
}

/* All the batch files of dir, concatenated (names in order). */
static char *files_of(const char *dir)
{
    buf b = BUF_INIT;
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char *f = file_of(dir, names[i]->d_name);
            if (f) buf_puts(&b, f);
            free(f);
        }
        free(names[i]);
    }
    free(names);
    buf_putc(&b, '\0');
    return buf_steal(&b);
}

static int held_for(const json_t *holds, const char *name, const char *reason)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(holds, "items"), i, h)
    {
        if (!strcmp(json_string_value(json_object_get(h, "name")), name) &&
            !strcmp(json_string_value(json_object_get(h, "reason")), reason))
            return 1;
    }
    return 0;
}

static void test_cycle_pays_the_card_it_approved(void **state)
{
    (void)state;
    ql_err err = {0};
    int32_t oct = date_from_ymd(2026, 10, 1), nov = date_from_ymd(2026, 11, 1);
    /* P1 changes card after October's approval; P2 has none until then;
     * P3's name is corrected after it; P4 stays; P5 and P6 share a card
     * (recorded behind the services: a store from before the rule) */
    const char *A = "6222031001000000017", *B = "6222031001000000025";
    const char *C = "6222031001000000033", *D = "6222031001000000041";
    const char *E = "6222031001000000058";
    int64_t p1 = talent_of(fx_active_subsidy(S, EMP, "周一", "A", A, oct));
    int64_t p2 = talent_of(fx_active_subsidy(S, EMP, "吴二", "B", NULL, oct));
    int64_t p3 = talent_of(fx_active_subsidy(S, EMP, "郑三", "C", C, oct));
    int64_t p4 = talent_of(fx_active_subsidy(S, EMP, "冯四", "A", D, oct));
    int64_t p5 = talent_of(fx_active_subsidy(S, EMP, "陈五", "C", E, oct));
    int64_t p6 = talent_of(fx_active_subsidy(S, EMP, "褚六", "C", NULL, oct));
    char eidx[PII_INDEX_HEX];
    pii_index(PII_BANK_ACCOUNT, E, eidx);
    assert_int_equal(store_exec(S,
                                "UPDATE talents SET bank_enc = (SELECT bank_enc FROM talents "
                                "WHERE id = $1), bank_index = $2, bank_masked = 'x' WHERE id = $3",
                                (store_val[]){SV_INT(p5), SV_TEXT(eidx), SV_INT(p6)}, 3, NULL),
                     0);
    const int64_t all[] = {p1, p2, p3, p4, p5, p6};
    for (int i = 0; i < 6; i++) seal_id(all[i], i);

    struct cycle_report cr;
    struct cycle_approval ap;
    assert_int_equal(cycle_run(S, &CLI, oct, NULL, NULL, &cr, &err), 0);
    assert_int_equal(cycle_budget_set(S, &FIN, "district-rent", 2026, 100000000, &err), 0);
    assert_int_equal(cycle_approve(S, &FIN, "2026-10", &ap, &err), 0);
    int64_t oct_seq = qint("SELECT payee_seq FROM cycles WHERE month = '2026-10'", NULL, 0);
    assert_true(oct_seq > 0);

    /* after the approval: P1 confirms card B, P2 records its first card,
     * P3's name is corrected */
    actor s1 = self_of(p1), s2 = self_of(p2);
    assert_int_equal(
        payee_change_confirm(S, &s1, request(&s1, 0, B, "原卡挂失，更换新卡", 0), NULL, &err), 0);
    assert_int_equal(
        payee_change_confirm(S, &s2, request(&s2, 0, "6222031001000000066", "登记收款银行卡", 0),
                             NULL, &err),
        0);
    struct identity_input fix = {"郑叁", NULL, "姓名录入有误，核对原件"};
    reg_report rep;
    int64_t corr = 0;
    assert_int_equal(identity_correct(S, &REV1, p3, &fix, &corr, &rep, &err), 0);

    /* October pays what it approved: P1 the old card A; P2 held (no card in
     * force at the approval), P3 held (identity), P5 and P6 held (shared) */
    struct bank_export_opts o = {BANK_CSV, NULL, 0, DIR_OCT};
    struct bank_export_report xr;
    assert_int_equal(bank_export(S, &CLI, "2026-10", &o, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.queued, 2);
    assert_int_equal(xr.held, 4);
    assert_int_equal(xr.held_by[BANK_HOLD_CARD_AFTER_APPROVAL], 1);
    assert_int_equal(xr.held_by[BANK_HOLD_IDENTITY], 1);
    assert_int_equal(xr.held_by[BANK_HOLD_SHARED_CARD], 2);
    char *oct_files = files_of(DIR_OCT);
    assert_non_null(strstr(oct_files, A));
    assert_null(strstr(oct_files, B));
    assert_non_null(strstr(oct_files, D));
    assert_null(strstr(oct_files, C));
    assert_null(strstr(oct_files, E));
    /* every held payee says why, on the cycle's list and in the counts */
    json_t *holds = NULL;
    assert_int_equal(bank_holds(S, &FIN, "2026-10", 0, 50, &holds, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(holds, "total")), 4);
    assert_true(held_for(holds, "吴二", "card_after_approval"));
    assert_true(held_for(holds, "郑叁", "identity_review"));
    assert_true(held_for(holds, "陈五", "shared_card"));
    assert_true(held_for(holds, "褚六", "shared_card"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(holds, "by_reason"), "shared_card")), 2);
    json_t *first = json_array_get(json_object_get(holds, "items"), 0);
    assert_true(has_non_ascii(json_string_value(json_object_get(first, "zh"))));
    assert_true(strlen(json_string_value(json_object_get(first, "en"))) > 10);
    json_decref(holds);
    expect_err("holds, not finance", bank_holds(S, &REV1, "2026-10", 0, 50, &holds, &err), &err,
               QL_EFORBIDDEN, NULL);

    /* the file written again from the store has the same bytes: card A */
    char lost[700];
    snprintf(lost, sizeof lost, "%s/QLM202610-0001.csv", DIR_OCT);
    char *was = file_of(DIR_OCT, "QLM202610-0001.csv");
    assert_int_equal(unlink(lost), 0);
    assert_int_equal(bank_export(S, &CLI, "2026-10", &o, NULL, NULL, &xr, &err), 0);
    assert_true(xr.unchanged);
    assert_int_equal(xr.files, 1);
    char *again = file_of(DIR_OCT, "QLM202610-0001.csv");
    assert_string_equal(again, was);
    free(again);
    free(was);
    /* nothing changed, the holds stay as they were */
    assert_int_equal(qint("SELECT count(*) FROM payment_holds", NULL, 0), 4);

    /* the correction reviewed: October's next run pays P3 */
    assert_int_equal(identity_review(S, &REV2, corr, "复核无误，恢复发放", NULL, &err), 0);
    assert_int_equal(bank_export(S, &CLI, "2026-10", &o, NULL, NULL, &xr, &err), 0);
    assert_int_equal(xr.queued, 1);
    assert_int_equal(xr.held, 3);
    assert_int_equal(
        qint("SELECT count(*) FROM payment_holds WHERE reason = 'identity_review'", NULL, 0), 0);
    free(oct_files);
    oct_files = files_of(DIR_OCT);
    assert_non_null(strstr(oct_files, C));
    assert_non_null(strstr(oct_files, "郑叁"));
    free(oct_files);

    /* November, approved after the change: P1 the new card B, P2 October's
     * and November's money to its new card */
    assert_int_equal(cycle_run(S, &CLI, nov, NULL, NULL, &cr, &err), 0);
    assert_int_equal(cycle_approve(S, &FIN, "2026-11", &ap, &err), 0);
    assert_true(qint("SELECT payee_seq FROM cycles WHERE month = '2026-11'", NULL, 0) > oct_seq);
    o.dir = DIR_NOV;
    assert_int_equal(bank_export(S, &CLI, "2026-11", &o, NULL, NULL, &xr, &err), 0);
    char *nov_files = files_of(DIR_NOV);
    assert_non_null(strstr(nov_files, B));
    assert_null(strstr(nov_files, A));
    assert_non_null(strstr(nov_files, "6222031001000000066,吴二,3000.00"));
    assert_int_equal(xr.held, 2); /* the shared card */
    free(nov_files);
    /* a failed payment of a person whose name is being corrected is not
     * sent again until a second reviewer has reviewed the correction */
    char rid[40], batch[40], amount[32], csv[512];
    qtext("SELECT p.request_id FROM payments p JOIN cycles c ON c.id = p.cycle_id WHERE "
          "c.month = '2026-11' AND p.payee_id = $1",
          (store_val[]){SV_INT(p4)}, 1, rid, sizeof rid);
    qtext("SELECT b.batch_no FROM payments p JOIN bank_batches b ON b.id = p.batch_id WHERE "
          "p.request_id = $1",
          (store_val[]){SV_TEXT(rid)}, 1, batch, sizeof batch);
    qtext("SELECT amount_fen FROM payments WHERE request_id = $1", (store_val[]){SV_TEXT(rid)}, 1,
          amount, sizeof amount);
    long long fen = strtoll(amount, NULL, 10);
    snprintf(
        csv, sizeof csv,
        "batch_no,request_id,account,amount,status,message\r\n%s,%s,%s,%lld.%02lld,F,户名不符\r\n",
        batch, rid, D, fen / 100, fen % 100);
    struct bank_import_report ir;
    assert_int_equal(bank_import(S, &CLI, "2026-11", csv, strlen(csv), "r.csv", &ir, &err), 0);
    assert_int_equal(ir.failed, 1);
    json_decref(ir.items);
    struct identity_input fix4 = {"冯肆", NULL, "姓名与银行户名不符，核对原件"};
    int64_t corr4 = 0;
    assert_int_equal(identity_correct(S, &REV1, p4, &fix4, &corr4, &rep, &err), 0);
    char nid[33];
    expect_err("requeue held", bank_requeue(S, &CLI, rid, "更正户名后重新发送", nid, &err), &err,
               QL_ECONFLICT, "account");
    assert_int_equal(identity_review(S, &REV2, corr4, "复核无误，恢复发放", NULL, &err), 0);
    assert_int_equal(bank_requeue(S, &CLI, rid, "更正户名后重新发送", nid, &err), 0);
    /* the payments remember the card they were made with */
    char masked[40], want[40];
    qtext("SELECT bank_masked FROM payments p JOIN cycles c ON c.id = p.cycle_id WHERE "
          "c.month = '2026-10' AND p.payee_id = $1",
          (store_val[]){SV_INT(p1)}, 1, masked, sizeof masked);
    pii_mask(PII_BANK_ACCOUNT, A, want, sizeof want);
    assert_string_equal(masked, want);
    audit_report ar;
    assert_int_equal(audit_verify(S, &ar, &err), 0);
    assert_true(ar.ok);
}

/* ---- key rotation re-seals the history ------------------------------------------ */

static void test_reseal_history(void **state)
{
    (void)state;
    ql_err err = {0};
    assert_true(qint("SELECT count(*) FROM payee_changes WHERE old_enc IS NOT NULL", NULL, 0) > 0);
    assert_true(qint("SELECT count(*) FROM identity_corrections", NULL, 0) > 0);
    char before[9];
    pii_current_key(before);
    assert_int_equal(pii_rotate_key(&err), 0);
    int64_t scanned = 0, resealed = 0;
    assert_int_equal(registry_reseal(S, &CLI, NULL, NULL, &scanned, &resealed, &err), 0);
    json_t *usage = NULL;
    char current[9];
    assert_int_equal(registry_key_usage(S, &usage, current, &err), 0);
    assert_string_not_equal(current, before);
    /* nothing left under the old key, the history included */
    assert_int_equal(json_integer_value(json_object_get(usage, before)), 0);
    int64_t sealed = qint("SELECT count(*) FROM talents WHERE bank_enc IS NOT NULL", NULL, 0) +
                     qint("SELECT count(*) FROM talents WHERE phone_enc IS NOT NULL", NULL, 0) +
                     qint("SELECT count(*) FROM talents", NULL, 0) +
                     qint("SELECT count(*) FROM payee_changes", NULL, 0) +
                     qint("SELECT count(*) FROM payee_changes WHERE old_enc IS NOT NULL", NULL, 0) +
                     2 * qint("SELECT count(*) FROM identity_corrections", NULL, 0);
    assert_int_equal(json_integer_value(json_object_get(usage, current)), sealed);
    json_decref(usage);
    /* and it still opens */
    store_rows *r;
    assert_int_equal(
        store_query(S, "SELECT old_name_enc FROM identity_corrections LIMIT 1", NULL, 0, &r), 0);
    assert_int_equal(store_step(r), 1);
    size_t len;
    const void *b = store_col_blob(r, 0, &len);
    char fp[9], plain[404];
    pii_sealed_key(b, len, fp);
    assert_string_equal(fp, current);
    assert_int_equal(pii_open(PII_NAME, b, len, plain, sizeof plain, &err), 0);
    store_rows_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_refuses_payee_fields),
        cmocka_unit_test(test_change_by_the_person),
        cmocka_unit_test(test_change_at_a_window),
        cmocka_unit_test(test_card_on_two_people),
        cmocka_unit_test(test_identity_correction),
        cmocka_unit_test(test_cycle_pays_the_card_it_approved),
        cmocka_unit_test(test_reseal_history),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
