/* test_subsidy.c - the application workflow, on SQLite and (with
 * QL_TEST_PG) PostgreSQL: the whole path from draft to ended with the
 * right account at each step and the wrong ones refused; the public notice
 * of 5 working days from the 2026 calendar (published on 30 September it
 * ends on 13 October, across the National Day holiday); objections; the
 * decision's trace stored at review; a rejection with the failed criteria
 * as reasons, one appeal; idempotent transitions (a repeated request, and
 * the same request key, change nothing twice); re-application counting the
 * months received before. Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "audit/audit.h"
#include "core/buf.h"
#include "auth/perm.h"
#include "core/date.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static actor CLI, HR, HR_OTHER, CLERK, REVIEWER, REVIEWER2, T1, T2;
static int64_t E1, E2, TAL1, TAL2;

static int32_t D(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

static void make(actor *a, const char *name, enum role role, enum scope_kind scope,
                 const char *scope_id, int64_t uid)
{
    memset(a, 0, sizeof *a);
    a->via = VIA_SESSION;
    a->user_id = uid;
    snprintf(a->username, sizeof a->username, "%s", name);
    a->roles = 1u << role;
    a->perms = role_perms(role);
    a->scope = scope;
    snprintf(a->scope_id, sizeof a->scope_id, "%s", scope_id);
}

/* The rows a refused action must not touch, as text. */
static char *snap(void)
{
    static const char *const from[] = {"applications ORDER BY id", "application_events ORDER BY id",
                                       "objections ORDER BY id", "audit_log ORDER BY seq"};
    buf b;
    buf_init(&b, 0);
    for (size_t t = 0; t < sizeof from / sizeof from[0]; t++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", from[t]);
        store_rows *r;
        if (store_query(S, sql, NULL, 0, &r)) fail_msg("%s: %s", sql, store_errmsg(S));
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

static void expect_same(const char *before, const char *what)
{
    char *now = snap();
    int same = strcmp(now, before) == 0;
    free(now);
    if (!same) fail_msg("%s changed stored data", what);
}

static int64_t ins(const char *sql, store_val *v, int n)
{
    int64_t id;
    if (store_insert(S, sql, v, n, &id)) fail_msg("%s: %s", sql, store_errmsg(S));
    return id;
}

static int64_t talent(const char *name, int32_t born, const char *education, const char *level,
                      int64_t employer)
{
    char idx[40];
    snprintf(idx, sizeof idx, "index-%s", name);
    store_val v[] = {SV_TEXT(name),      SV_BLOB("x", 1), SV_TEXT(idx),    SV_INT(born),
                     SV_TEXT(education), SV_TEXT(level),  SV_INT(employer)};
    int64_t id = ins("INSERT INTO talents (name, id_enc, id_index, id_masked, id_kind, birth_date, "
                     "sex, education, level, employer_id, employed_since, insurance_months, "
                     "owns_housing, created_at, updated_at) VALUES ($1, $2, $3, '1101**********"
                     "0000', 'resident', $4, 'm', $5, $6, $7, 19000, 24, 0, 0, 0)",
                     v, 7);
    char filing[32];
    snprintf(filing, sizeof filing, "F-%s", name);
    store_val l[] = {SV_INT(id), SV_TEXT(filing)};
    ins("INSERT INTO leases (talent_id, address, start_date, end_date, rent_fen, signed_date, "
        "filing_no, filed_date, created_at, updated_at) VALUES ($1, '徐汇区虹桥路 1 号', 20454, "
        "21183, 450000, 20454, $2, 20454, 0, 0)",
        l, 2);
    return id;
}

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store()) || fx_rules(S)) return -1;
    actor_cli(&CLI);
    /* two employers, two talents with filed leases (2026-01-01 to 2027-12-31) */
    store_val e1[] = {SV_TEXT("91310104MA1FL00001")}, e2[] = {SV_TEXT("91310104MA1FL00002")};
    E1 =
        ins("INSERT INTO employers (credit_code, name, registered_in_district, taxed_in_district, "
            "industry, created_at, updated_at) VALUES ($1, '上海甲科技有限公司', 1, 1, 'ai', 0, 0)",
            e1, 1);
    E2 =
        ins("INSERT INTO employers (credit_code, name, registered_in_district, taxed_in_district, "
            "industry, created_at, updated_at) VALUES ($1, '上海乙科技有限公司', 1, 1, 'ai', 0, 0)",
            e2, 1);
    TAL1 = talent("张三丰", D(1992, 3, 4), "master", "A", E1);
    TAL2 = talent("李四", D(1985, 3, 4), "bachelor", "B", E1); /* 41: too old for a bachelor */
    char sid[24];
    make(&HR, "hr.one", ROLE_EMPLOYER_HR, SCOPE_EMPLOYER, "91310104MA1FL00001", 11);
    make(&HR_OTHER, "hr.two", ROLE_EMPLOYER_HR, SCOPE_EMPLOYER, "91310104MA1FL00002", 12);
    make(&CLERK, "clerk", ROLE_WINDOW_CLERK, SCOPE_DISTRICT, "", 13);
    make(&REVIEWER, "reviewer", ROLE_REVIEWER, SCOPE_DISTRICT, "", 14);
    make(&REVIEWER2, "reviewer2", ROLE_REVIEWER, SCOPE_DISTRICT, "", 17);
    snprintf(sid, sizeof sid, "%lld", (long long)TAL1);
    make(&T1, "talent.one", ROLE_TALENT, SCOPE_SELF, sid, 15);
    snprintf(sid, sizeof sid, "%lld", (long long)TAL2);
    make(&T2, "talent.two", ROLE_TALENT, SCOPE_SELF, sid, 16);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

static int64_t count(const char *sql)
{
    int64_t n = -1;
    if (store_query_int(S, sql, NULL, 0, &n)) fail_msg("%s: %s", sql, store_errmsg(S));
    return n;
}

static const char *state_of(int64_t id)
{
    static char st[20];
    store_rows *r;
    st[0] = '\0';
    if (store_query(S, "SELECT state FROM applications WHERE id = $1", (store_val[]){SV_INT(id)}, 1,
                    &r))
        fail_msg("state: %s", store_errmsg(S));
    if (store_step(r) == 1) snprintf(st, sizeof st, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    return st;
}

/* Runs one step and returns its code; *unchanged says whether it was a repeat. */
static int step(const actor *a, int64_t id, enum app_action act, const char *reason, int32_t today,
                int *unchanged, ql_err *err)
{
    struct app_step st = {act, reason, NULL, today, 0};
    struct app_result res;
    int rc = subsidy_transition(S, a, id, &st, &res, err);
    if (unchanged) *unchanged = res.unchanged;
    return rc;
}

static void ok(const actor *a, int64_t id, enum app_action act, const char *reason, int32_t today,
               const char *want_state)
{
    ql_err err = {0};
    int unchanged = -1;
    int rc = step(a, id, act, reason, today, &unchanged, &err);
    if (rc)
        fail_msg("%s by %s: %d %s: %s", subsidy_action_name(act), a->username, rc, err.field,
                 err.en);
    assert_int_equal(unchanged, 0);
    assert_string_equal(state_of(id), want_state);
}

static void test_whole_path(void **state)
{
    (void)state;
    struct app_declare d = {0, 0, 0};
    int64_t id;
    char ref[24];
    ql_err err;
    int unchanged;
    int32_t today = D(2026, 9, 21);
    assert_int_equal(subsidy_create(S, &T1, "district-rent", 0, &d, today, &id, ref, &err), 0);
    char want_ref[32];
    snprintf(want_ref, sizeof want_ref, "RS2026-%06lld", (long long)id);
    assert_string_equal(ref, want_ref);
    assert_string_equal(state_of(id), "draft");
    /* one open application per person and programme */
    int64_t id2;
    char ref2[24];
    assert_int_equal(subsidy_create(S, &T1, "district-rent", 0, &d, today, &id2, ref2, &err),
                     QL_ECONFLICT);
    assert_non_null(strstr(err.en, ref));
    /* another person's record, an unknown programme */
    assert_int_equal(subsidy_create(S, &T1, "district-rent", TAL2, &d, today, &id2, ref2, &err),
                     QL_EFORBIDDEN);
    assert_int_equal(subsidy_create(S, &T1, "nothing", 0, &d, today, &id2, ref2, &err), QL_EINVAL);
    assert_string_equal(err.field, "programme");

    /* submit needs the declaration */
    assert_int_equal(step(&T1, id, AA_SUBMIT, NULL, today, NULL, &err), QL_EINVAL);
    assert_string_equal(err.field, "declared");
    d.declared = 1;
    assert_int_equal(subsidy_declare(S, &T1, id, &d, &err), 0);
    assert_int_equal(subsidy_declare(S, &T2, id, &d, &err), QL_ENOTFOUND);
    ok(&T1, id, AA_SUBMIT, NULL, today, "submitted");
    /* a repeated submit does nothing */
    assert_int_equal(step(&T1, id, AA_SUBMIT, NULL, today, &unchanged, &err), 0);
    assert_int_equal(unchanged, 1);
    assert_int_equal(subsidy_declare(S, &T1, id, &d, &err), QL_ECONFLICT);

    /* attestation: the talent may not, another employer cannot see it */
    assert_int_equal(step(&T1, id, AA_ATTEST, NULL, today, NULL, &err), QL_EFORBIDDEN);
    assert_int_equal(step(&HR_OTHER, id, AA_ATTEST, NULL, today, NULL, &err), QL_ENOTFOUND);
    assert_int_equal(step(&CLERK, id, AA_ACCEPT, NULL, today, NULL, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "state");
    assert_non_null(strstr(err.en, "is submitted; 'accept' needs it to be attested"));
    ok(&HR, id, AA_ATTEST, NULL, today, "attested");
    ok(&CLERK, id, AA_ACCEPT, NULL, today, "accepted");

    /* review: the decision with its trace is stored */
    assert_int_equal(step(&CLERK, id, AA_REVIEW, NULL, today, NULL, &err), QL_EFORBIDDEN);
    today = D(2026, 9, 30);
    ok(&REVIEWER, id, AA_REVIEW, NULL, today, "reviewed");
    json_t *app;
    assert_int_equal(subsidy_get(S, &REVIEWER, id, today, &app, &err), 0);
    assert_true(json_is_true(json_object_get(app, "eligible")));
    assert_string_equal(json_string_value(json_object_get(app, "tier")), "A");
    assert_int_equal(json_integer_value(json_object_get(app, "monthly_fen")), 200000);
    json_t *dec = json_object_get(app, "decision");
    assert_string_equal(json_string_value(json_object_get(dec, "version")), "2026.1");
    assert_string_equal(json_string_value(json_object_get(dec, "date")), "2026-09-30");
    assert_int_equal(json_array_size(json_object_get(dec, "criteria")), 9);
    assert_int_equal(json_integer_value(json_object_get(dec, "months_received")), 0);
    json_t *allowed = json_object_get(app, "allowed");
    assert_string_equal(json_string_value(json_array_get(allowed, 0)), "publish");
    json_decref(app);

    /* the notice: 5 working days after 30 September are 8, 9, 10 (a
     * Saturday worked), 12 and 13 October */
    ok(&REVIEWER, id, AA_PUBLISH, NULL, today, "notice");
    assert_int_equal(subsidy_get(S, &T1, id, today, &app, &err), 0);
    assert_string_equal(json_string_value(json_object_get(app, "notice_from")), "2026-10-08");
    assert_string_equal(json_string_value(json_object_get(app, "notice_to")), "2026-10-13");
    json_decref(app);
    json_t *list;
    assert_int_equal(subsidy_notices(S, D(2026, 10, 9), &list, &err), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "张**");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "monthly_yuan")),
                        "2000.00");
    json_decref(list);

    /* not before the notice ends; an objection must be settled first */
    assert_int_equal(step(&REVIEWER2, id, AA_APPROVE, NULL, D(2026, 10, 13), NULL, &err),
                     QL_ECONFLICT);
    assert_string_equal(err.field, "notice");
    assert_non_null(strstr(err.en, "runs until 2026-10-13"));
    int64_t oid;
    /* objections count from the day of publication (30 September) */
    assert_int_equal(
        subsidy_object(S, &CLERK, id, "来电", "反映其在外区有住房", D(2026, 9, 29), &oid, &err),
        QL_EINVAL);
    assert_string_equal(err.field, "received_on");
    assert_int_equal(subsidy_object(S, &T1, id, "x", "y", D(2026, 10, 9), &oid, &err),
                     QL_EFORBIDDEN);
    /* text the reviewer reads: nothing that reorders or hides it */
    assert_int_equal(subsidy_object(S, &CLERK, id, "来电", "反映其\xE2\x80\xAE在外区有住房",
                                    D(2026, 10, 9), &oid, &err),
                     QL_EINVAL);
    assert_non_null(strstr(err.en, "U+202E"));
    assert_int_equal(
        subsidy_object(S, &CLERK, id, "来电", "反映其在外区有住房", D(2026, 10, 9), &oid, &err), 0);
    assert_int_equal(step(&REVIEWER2, id, AA_APPROVE, NULL, D(2026, 10, 14), NULL, &err),
                     QL_ECONFLICT);
    assert_non_null(strstr(err.en, "1 objection(s)"));
    assert_int_equal(subsidy_settle(S, &CLERK, oid, false, "核实无房", &err), QL_EFORBIDDEN);
    /* four eyes: who decided does not settle the objections to the decision,
     * nor approve it; accounts are compared (the reviewer's API token is the
     * reviewer), not names */
    actor token = REVIEWER;
    token.via = VIA_TOKEN;
    token.token_id = 5;
    char *before = snap();
    assert_int_equal(subsidy_settle(S, &REVIEWER, oid, false, "经核实，在本市无自有住房", &err),
                     QL_EFORBIDDEN);
    assert_non_null(strstr(err.en, "reviewed by reviewer"));
    assert_non_null(strstr(err.zh, "须由另一人"));
    assert_int_equal(subsidy_settle(S, &token, oid, false, "经核实", &err), QL_EFORBIDDEN);
    expect_same(before, "the reviewer settling");
    assert_int_equal(subsidy_settle(S, &REVIEWER2, oid, false, "经核实，在本市无自有住房", &err),
                     0);
    assert_int_equal(subsidy_settle(S, &REVIEWER2, oid, true, "again", &err), QL_ECONFLICT);
    free(before);
    before = snap();
    assert_int_equal(step(&REVIEWER, id, AA_APPROVE, NULL, D(2026, 10, 14), NULL, &err),
                     QL_EFORBIDDEN);
    assert_non_null(strstr(err.en, "reviewed by reviewer: another person approves it"));
    assert_int_equal(step(&token, id, AA_APPROVE, NULL, D(2026, 10, 14), NULL, &err),
                     QL_EFORBIDDEN);
    expect_same(before, "the reviewer approving");
    free(before);
    assert_false(subsidy_allowed(S, &REVIEWER, id, D(2026, 10, 14)) & (1u << AA_APPROVE));
    assert_true(subsidy_allowed(S, &REVIEWER2, id, D(2026, 10, 14)) & (1u << AA_APPROVE));
    ok(&REVIEWER2, id, AA_APPROVE, NULL, D(2026, 10, 14), "approved");
    assert_int_equal(step(&REVIEWER2, id, AA_APPROVE, NULL, D(2026, 10, 14), &unchanged, &err), 0);
    assert_int_equal(unchanged, 1);

    /* payments: start (not during the notice, not a year ahead), suspend
     * (a reason is needed) for the whole of November, resume, end */
    struct app_result res;
    struct app_step early = {AA_ACTIVATE, NULL, NULL, D(2026, 10, 14), D(2026, 10, 13)};
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &early, &res, &err), QL_EINVAL);
    assert_string_equal(err.field, "effective");
    struct app_step late = {AA_ACTIVATE, NULL, NULL, D(2026, 10, 14), D(2027, 10, 1)};
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &late, &res, &err), QL_EINVAL);
    struct app_step act = {AA_ACTIVATE, NULL, NULL, D(2026, 10, 14), D(2026, 10, 15)};
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &act, &res, &err), 0);
    assert_int_equal(res.to, AS_ACTIVE);
    assert_int_equal(step(&REVIEWER, id, AA_SUSPEND, "  ", D(2026, 11, 2), NULL, &err), QL_EINVAL);
    assert_string_equal(err.field, "reason");
    struct app_step sus = {AA_SUSPEND, "租约备案核查中", NULL, D(2026, 11, 2), D(2026, 11, 1)};
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &sus, &res, &err), 0);
    assert_string_equal(state_of(id), "suspended");
    struct app_step resume = {AA_RESUME, NULL, NULL, D(2026, 11, 28), D(2026, 12, 1)};
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &resume, &res, &err), 0);
    assert_string_equal(state_of(id), "active");
    struct app_step far = {AA_END, "购买住房", NULL, D(2026, 12, 20), D(2099, 12, 31)};
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &far, &res, &err), QL_EINVAL);
    assert_string_equal(err.field, "effective");
    struct app_step end = {AA_END, "购买住房", NULL, D(2026, 12, 20), D(2026, 12, 31)};
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &end, &res, &err), 0);
    assert_string_equal(state_of(id), "ended");
    assert_int_equal(step(&T1, id, AA_WITHDRAW, NULL, D(2026, 12, 21), NULL, &err), QL_ECONFLICT);

    /* every step is an event and an audit row */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM application_events WHERE application_id = %lld",
             (long long)id);
    assert_int_equal(count(sql), 11); /* create + 10 transitions */
    /* and an audit row each, with the declaration's, the objection's and
     * its settlement's */
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action LIKE 'subsidy.%'"), 14);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action IN ('subsidy.object', "
                           "'subsidy.settle')"),
                     2);
    ql_err verr;
    audit_report vr;
    assert_int_equal(audit_verify(S, &vr, &verr), 0);

    /* applying again counts the months received: October and December
     * (November was suspended throughout) */
    d.declared = 1;
    assert_int_equal(
        subsidy_create(S, &T1, "district-rent", 0, &d, D(2027, 1, 4), &id2, ref2, &err), 0);
    ok(&T1, id2, AA_SUBMIT, NULL, D(2027, 1, 4), "submitted");
    ok(&HR, id2, AA_ATTEST, NULL, D(2027, 1, 4), "attested");
    ok(&CLERK, id2, AA_ACCEPT, NULL, D(2027, 1, 4), "accepted");
    /* 2027 is not in the calendar, but a review needs no calendar */
    ok(&REVIEWER, id2, AA_REVIEW, NULL, D(2027, 1, 5), "reviewed");
    assert_int_equal(subsidy_get(S, &REVIEWER, id2, D(2027, 1, 5), &app, &err), 0);
    dec = json_object_get(app, "decision");
    assert_int_equal(json_integer_value(json_object_get(dec, "months_received")), 2);
    json_decref(app);
    /* publishing needs the 2027 calendar */
    assert_int_equal(step(&REVIEWER, id2, AA_PUBLISH, NULL, D(2027, 1, 5), NULL, &err),
                     QL_ENOTFOUND);
    assert_non_null(strstr(err.en, "2027"));
    assert_string_equal(state_of(id2), "reviewed");
}

static void test_rejection_appeal_and_keys(void **state)
{
    (void)state;
    struct app_declare d = {0, 0, 1};
    int64_t id;
    char ref[24];
    ql_err err;
    int32_t today = D(2026, 11, 2);
    assert_int_equal(subsidy_create(S, &T2, "district-rent", 0, &d, today, &id, ref, &err), 0);
    ok(&T2, id, AA_SUBMIT, NULL, today, "submitted");
    ok(&HR, id, AA_ATTEST, NULL, today, "attested");
    /* a window may return it for correction, with a reason */
    assert_int_equal(step(&CLERK, id, AA_RETURN, NULL, today, NULL, &err), QL_EINVAL);
    ok(&CLERK, id, AA_RETURN, "租约复印件不清晰", today, "draft");
    ok(&T2, id, AA_SUBMIT, NULL, today, "submitted");
    ok(&HR, id, AA_ATTEST, NULL, today, "attested");
    ok(&CLERK, id, AA_ACCEPT, NULL, today, "accepted");
    ok(&REVIEWER, id, AA_REVIEW, NULL, today, "reviewed");
    json_t *app;
    assert_int_equal(subsidy_get(S, &T2, id, today, &app, &err), 0);
    assert_false(json_is_true(json_object_get(app, "eligible")));
    assert_non_null(strstr(json_string_value(json_object_get(app, "reasons")), "第五条第（二）项"));
    json_decref(app);
    /* not eligible: no notice; rejected with the failed criteria as reasons */
    assert_int_equal(step(&REVIEWER, id, AA_PUBLISH, NULL, today, NULL, &err), QL_ECONFLICT);
    /* the same request key twice: one rejection, one event */
    struct app_step rej = {AA_REJECT, NULL, "form-7f3a", today, 0};
    struct app_result res;
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &rej, &res, &err), 0);
    assert_false(res.unchanged);
    int64_t ev = res.event_id;
    assert_int_equal(subsidy_transition(S, &REVIEWER, id, &rej, &res, &err), 0);
    assert_true(res.unchanged);
    assert_int_equal(res.event_id, ev);
    assert_string_equal(state_of(id), "rejected");
    /* the same key for another action is another request: refused */
    struct app_step other = {AA_APPEAL, "年龄计算有误", "form-7f3a", today, 0};
    assert_int_equal(subsidy_transition(S, &T2, id, &other, &res, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "request_key");
    assert_string_equal(state_of(id), "rejected");
    /* keys beginning with "auto:" are the service's own */
    struct app_step autokey = {AA_APPEAL, "x", "auto:create", today, 0};
    assert_int_equal(subsidy_transition(S, &T2, id, &autokey, &res, &err), QL_EINVAL);
    /* one appeal, with a reason, back to review */
    assert_int_equal(step(&HR, id, AA_APPEAL, "x", today, NULL, &err), QL_EFORBIDDEN);
    assert_int_equal(step(&T2, id, AA_APPEAL, NULL, today, NULL, &err), QL_EINVAL);
    ok(&T2, id, AA_APPEAL, "年龄计算有误", today, "accepted");
    ok(&REVIEWER, id, AA_REVIEW, NULL, today, "reviewed");
    ok(&REVIEWER, id, AA_REJECT, "经复核，年龄超过本科学历上限", today, "rejected");
    assert_int_equal(step(&T2, id, AA_APPEAL, "again", today, NULL, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "appealed once already"));
    /* a rejection needs reasons when the decision had none; an appeal of a
     * rejection made before attestation goes back there (no step is
     * skipped); a reason longer than 2000 bytes is refused, not cut */
    struct app_declare d3 = {0, 0, 1};
    int64_t id3;
    char ref3[24];
    assert_int_equal(subsidy_create(S, &T2, "district-rent", 0, &d3, today, &id3, ref3, &err), 0);
    ok(&T2, id3, AA_SUBMIT, NULL, today, "submitted");
    assert_int_equal(step(&REVIEWER, id3, AA_REJECT, "", today, NULL, &err), QL_EINVAL);
    char long_reason[2100];
    memset(long_reason, 'x', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    assert_int_equal(step(&REVIEWER, id3, AA_REJECT, long_reason, today, NULL, &err), QL_EINVAL);
    assert_string_equal(err.field, "reason");
    ok(&REVIEWER, id3, AA_REJECT, "单位未确认在职", today, "rejected");
    ok(&T2, id3, AA_APPEAL, "已入职，请单位确认", today, "submitted");
    ok(&T2, id3, AA_WITHDRAW, NULL, today, "withdrawn");

    /* lists are scoped: the talent sees its own, the other employer none */
    struct app_filter f = {-1, 0, 1, 50};
    json_t *list;
    int64_t total;
    assert_int_equal(subsidy_list(S, &T2, &f, &list, &total, &err), 0);
    assert_int_equal(total, 2);
    json_decref(list);
    assert_int_equal(subsidy_list(S, &HR_OTHER, &f, &list, &total, &err), 0);
    assert_int_equal(total, 0);
    json_decref(list);
    f.state = AS_REJECTED;
    assert_int_equal(subsidy_list(S, &REVIEWER, &f, &list, &total, &err), 0);
    assert_int_equal(total, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "talent_name")),
                        "李四");
    json_decref(list);
    assert_int_equal(subsidy_get(S, &HR_OTHER, id, today, &app, &err), QL_ENOTFOUND);
    /* a bad key is refused before anything happens */
    struct app_step badkey = {AA_WITHDRAW, NULL, "", today, 0};
    assert_int_equal(subsidy_transition(S, &T2, id, &badkey, &res, &err), QL_EINVAL);
    assert_string_equal(err.field, "request_key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_path),
        cmocka_unit_test(test_rejection_appeal_and_keys),
    };
    return cmocka_run_group_tests_name("subsidy workflow", tests, setup, teardown);
}
