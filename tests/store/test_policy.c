/* test_policy.c - policy files in the store and the registry facts, on
 * SQLite and (with QL_TEST_PG) PostgreSQL: saving is idempotent and
 * audited; a file with an error is kept as a draft but cannot be activated
 * (the service refuses, and the schema refuses it too); activating retires
 * the file before and can go back; only policy.manage may save, activate or
 * simulate. The facts of a hand-made registry (age on the day, months with
 * the employer, the lease covering the day, the latest lease winning) and a
 * what-if between the district policy and a stricter proposal give the
 * numbers worked out below. Run from the repository root. */
#include "fixtures.h"
#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "core/date.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static actor CLI, REVIEWER;
static char *DISTRICT;
static size_t DISTRICT_LEN;

static int32_t D(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store())) return -1;
    actor_cli(&CLI);
    memset(&REVIEWER, 0, sizeof REVIEWER);
    REVIEWER.via = VIA_SESSION;
    REVIEWER.user_id = 99;
    snprintf(REVIEWER.username, sizeof REVIEWER.username, "reviewer1");
    REVIEWER.roles = 1u << ROLE_REVIEWER;
    REVIEWER.perms = role_perms(ROLE_REVIEWER);
    DISTRICT = tu_slurp("policies/district-rent.policy", &DISTRICT_LEN);
    if (!DISTRICT) {
        print_error("policies/district-rent.policy not found (run from the repository root)\n");
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(DISTRICT);
    store_close(S);
    return 0;
}

static int64_t count(const char *sql)
{
    int64_t n = -1;
    if (store_query_int(S, sql, NULL, 0, &n)) fail_msg("%s: %s", sql, store_errmsg(S));
    return n;
}

static const char *status_of(int64_t id)
{
    static char st[16];
    store_rows *r;
    st[0] = '\0';
    if (store_query(S, "SELECT status FROM policy_files WHERE id = $1", (store_val[]){SV_INT(id)},
                    1, &r))
        fail_msg("status: %s", store_errmsg(S));
    if (store_step(r) == 1) snprintf(st, sizeof st, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    return st;
}

static const char *OVERLAP = "programme district-rent\nzh 区\nen District\n"
                             "version a\nfrom 2026-01-01\nto 2026-12-31\n"
                             "tier t\nclause 1\nwhen true\npay 1.00 for 1 month\nzh 档\nen T\n"
                             "version b\nfrom 2026-06-01\n"
                             "tier t\nclause 1\nwhen true\npay 1.00 for 1 month\nzh 档\nen T\n";

static void test_save_activate_retire(void **state)
{
    (void)state;
    struct policy_saved sv;
    struct policy_activated act;
    ql_err err;
    int64_t saves0 = count("SELECT count(*) FROM audit_log WHERE action = 'policy.save'");

    /* a draft, then the same text again: one row, one audit row */
    assert_int_equal(
        policy_save(S, &CLI, DISTRICT, DISTRICT_LEN, "district-rent.policy", &sv, &err), 0);
    int64_t first = sv.id;
    assert_false(sv.unchanged);
    assert_string_equal(sv.programme, "district-rent");
    assert_int_equal(sv.issues.nerrors, 0);
    assert_string_equal(status_of(first), "draft");
    assert_int_equal(policy_save(S, &CLI, DISTRICT, DISTRICT_LEN, "again.policy", &sv, &err), 0);
    assert_true(sv.unchanged);
    assert_int_equal(sv.id, first);
    assert_int_equal(count("SELECT count(*) FROM policy_files"), 1);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'policy.save'"),
                     saves0 + 1);

    /* a text that does not parse is refused with its place; nothing stored */
    const char *broken = "programme district-rent\nzh 区\nen D\nversion v\nfrom 2026-13-01\n";
    assert_int_equal(policy_save(S, &CLI, broken, strlen(broken), "broken.policy", &sv, &err),
                     QL_EINVAL);
    assert_non_null(strstr(err.en, "broken.policy:5:6:"));
    assert_int_equal(count("SELECT count(*) FROM policy_files"), 1);

    /* overlapping versions: stored as a draft with its error, never active */
    assert_int_equal(policy_save(S, &CLI, OVERLAP, strlen(OVERLAP), "overlap.policy", &sv, &err),
                     0);
    int64_t bad = sv.id;
    assert_int_equal(sv.issues.nerrors, 1);
    assert_int_equal(policy_activate(S, &CLI, bad, &act, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "cannot be activated: 1 error(s), the first at line 14"));
    assert_non_null(strstr(err.zh, "不能启用"));
    assert_string_equal(status_of(bad), "draft");
    /* the schema refuses it as well */
    assert_int_not_equal(store_exec(S,
                                    "UPDATE policy_files SET status = 'active', activated_at = 1 "
                                    "WHERE id = $1",
                                    (store_val[]){SV_INT(bad)}, 1, NULL),
                         0);

    /* activate; again changes nothing */
    int64_t acts0 = count("SELECT count(*) FROM audit_log WHERE action = 'policy.activate'");
    assert_int_equal(policy_activate(S, &CLI, first, &act, &err), 0);
    assert_false(act.unchanged);
    assert_int_equal(act.retired_id, 0);
    assert_string_equal(status_of(first), "active");
    assert_int_equal(policy_activate(S, &CLI, first, &act, &err), 0);
    assert_true(act.unchanged);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'policy.activate'"),
                     acts0 + 1);

    /* a second text of the programme replaces it, and going back works */
    char *next = malloc(DISTRICT_LEN + 32);
    assert_non_null(next);
    int n = snprintf(next, DISTRICT_LEN + 32, "%s# revised\n", DISTRICT);
    assert_int_equal(policy_save(S, &CLI, next, (size_t)n, "district-rent.policy", &sv, &err), 0);
    int64_t second = sv.id;
    assert_int_equal(policy_activate(S, &CLI, second, &act, &err), 0);
    assert_int_equal(act.retired_id, first);
    assert_string_equal(status_of(first), "retired");
    assert_string_equal(status_of(second), "active");
    assert_int_equal(policy_activate(S, &CLI, first, &act, &err), 0);
    assert_int_equal(act.retired_id, second);
    assert_string_equal(status_of(first), "active");
    assert_int_equal(count("SELECT count(*) FROM policy_files WHERE status = 'active'"), 1);
    /* two active files of one programme: the schema refuses */
    assert_int_not_equal(store_exec(S, "UPDATE policy_files SET status = 'active' WHERE id = $1",
                                    (store_val[]){SV_INT(second)}, 1, NULL),
                         0);
    free(next);

    /* the active rules load; an unknown programme or file is not found */
    pol_programme p;
    int64_t fid = 0;
    assert_int_equal(policy_load_active(S, "district-rent", &p, &fid, &err), 0);
    assert_int_equal(fid, first);
    assert_int_equal(p.ver[0].ntier, 3);
    pol_free(&p);
    assert_int_equal(policy_load_active(S, "nothing", &p, &fid, &err), QL_ENOTFOUND);
    pol_free(&p);
    assert_int_equal(policy_activate(S, &CLI, 9999, &act, &err), QL_ENOTFOUND);

    /* list and get */
    json_t *list, *one;
    assert_int_equal(policy_list(S, true, &list, &err), 0);
    assert_int_equal(json_array_size(list), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), second);
    json_decref(list);
    assert_int_equal(policy_get(S, bad, true, &one, &err), 0);
    assert_string_equal(json_string_value(json_object_get(one, "status")), "draft");
    assert_int_equal(json_integer_value(json_object_get(one, "errors")), 1);
    json_t *issue = json_array_get(json_object_get(one, "issues"), 0);
    assert_int_equal(json_integer_value(json_object_get(issue, "line")), 14);
    assert_int_equal(strlen(json_string_value(json_object_get(one, "source"))), strlen(OVERLAP));
    json_decref(one);
    assert_int_equal(policy_get(S, 9999, true, &one, &err), QL_ENOTFOUND);
    /* a draft is not published: readers without policy.manage do not see it */
    assert_int_equal(policy_get(S, bad, false, &one, &err), QL_ENOTFOUND);
    assert_int_equal(policy_list(S, false, &list, &err), 0);
    assert_int_equal(json_array_size(list), 2); /* the active one and the retired one */
    json_decref(list);
}

static void test_permissions(void **state)
{
    (void)state;
    struct policy_saved sv;
    struct policy_activated act;
    ql_err err;
    int64_t rows = count("SELECT count(*) FROM policy_files");
    int64_t audit = count("SELECT count(*) FROM audit_log");
    const char *text = "programme other\nzh 其他\nen Other\nversion 1\nfrom 2026-01-01\n"
                       "tier t\nclause 1\nwhen true\npay 1.00 for 1 month\nzh 档\nen T\n";
    assert_int_equal(policy_save(S, &REVIEWER, text, strlen(text), "x", &sv, &err), QL_EFORBIDDEN);
    assert_int_equal(policy_activate(S, &REVIEWER, 1, &act, &err), QL_EFORBIDDEN);
    pol_programme p;
    assert_int_equal(pol_parse(text, strlen(text), "x", &p, &err), 0);
    json_t *res = NULL;
    assert_int_equal(policy_simulate(S, &REVIEWER, NULL, &p, D(2026, 10, 1), &res, &err),
                     QL_EFORBIDDEN);
    assert_null(res);
    pol_free(&p);
    assert_int_equal(count("SELECT count(*) FROM policy_files"), rows);
    assert_int_equal(count("SELECT count(*) FROM audit_log"), audit);
}

/* ---- a hand-made registry ---------------------------------------------- */

static int64_t employer(const char *code, int registered)
{
    int64_t id;
    store_val v[] = {SV_TEXT(code), SV_TEXT(code), SV_INT(registered), SV_INT(registered)};
    if (store_insert(S,
                     "INSERT INTO employers (credit_code, name, registered_in_district, "
                     "taxed_in_district, industry, created_at, updated_at) "
                     "VALUES ($1, $2, $3, $4, 'ai', 0, 0)",
                     v, 4, &id))
        fail_msg("employer: %s", store_errmsg(S));
    return id;
}

static int64_t talent(const char *name, int32_t born, const char *education, const char *level,
                      int64_t employer_id, int32_t since, int insurance)
{
    int64_t id;
    char idx[40];
    snprintf(idx, sizeof idx, "index-%s", name);
    store_val v[] = {SV_TEXT(name),       SV_BLOB("x", 1),    SV_TEXT(idx),
                     SV_INT(born),        SV_TEXT(education), SV_TEXT(level),
                     SV_INT(employer_id), SV_INT(since),      SV_INT(insurance)};
    if (store_insert(S,
                     "INSERT INTO talents (name, id_enc, id_index, id_masked, id_kind, birth_date, "
                     "sex, education, level, employer_id, employed_since, insurance_months, "
                     "owns_housing, created_at, updated_at) VALUES ($1, $2, $3, '1101**********"
                     "0000', 'resident', $4, 'f', $5, $6, $7, $8, $9, 0, 0, 0)",
                     v, 9, &id))
        fail_msg("talent: %s", store_errmsg(S));
    return id;
}

static void lease(int64_t talent_id, int32_t start, int32_t end, int64_t rent, const char *filing)
{
    int64_t id;
    store_val v[] = {SV_INT(talent_id), SV_INT(start),           SV_INT(end),
                     SV_INT(rent),      SV_TEXT_OR_NULL(filing), filing ? SV_INT(start) : SV_NULL};
    if (store_insert(S,
                     "INSERT INTO leases (talent_id, address, start_date, end_date, rent_fen, "
                     "signed_date, filing_no, filed_date, created_at, updated_at) "
                     "VALUES ($1, '徐汇区漕溪北路 1 号', $2, $3, $4, $2, $5, $6, 0, 0)",
                     v, 6, &id))
        fail_msg("lease: %s", store_errmsg(S));
}

struct walk {
    int n;
    int64_t ids[16];
    pol_facts f[16];
    int32_t lease_end[16];
};

static int collect(const struct policy_subject *who, const pol_facts *f, void *ctx)
{
    struct walk *w = ctx;
    if (w->n < 16) {
        w->ids[w->n] = who->talent_id;
        w->f[w->n] = *f;
        w->lease_end[w->n] = who->lease_end;
        w->n++;
    }
    return 0;
}

static void test_registry_facts_and_simulation(void **state)
{
    (void)state;
    int64_t e1 = employer("91310104MA1FL00001", 1), e2 = employer("91310104MA1FL00002", 0);
    int32_t open = D(2027, 12, 31);
    /* eligible, tier A, 2,000 */
    int64_t t1 = talent("t1", D(1990, 5, 10), "master", "A", e1, D(2024, 1, 15), 20);
    lease(t1, D(2026, 1, 1), open, 600000, "F-1");
    /* 35 on 2026-10-01 (born 1990-10-02): a bachelor of 35 passes; tier C,
     * the lease ends 2026-10-20: 1000 x 20 / 31 = 645.16 */
    int64_t t2 = talent("t2", D(1990, 10, 2), "bachelor", "C", e1, D(2024, 1, 15), 8);
    lease(t2, D(2025, 10, 21), D(2026, 10, 20), 300000, "F-2");
    /* 36 on 2026-10-01 (born 1990-09-30): too old for a bachelor */
    int64_t t3 = talent("t3", D(1990, 9, 30), "bachelor", "B", e1, D(2024, 1, 15), 20);
    lease(t3, D(2026, 1, 1), open, 300000, "F-3");
    /* the employer is not registered in the district */
    int64_t t4 = talent("t4", D(1985, 1, 1), "doctor", "A", e2, D(2024, 1, 15), 20);
    lease(t4, D(2026, 1, 1), open, 300000, "F-4");
    /* the lease is not filed */
    int64_t t5 = talent("t5", D(1992, 1, 1), "master", "B", e1, D(2024, 1, 15), 20);
    lease(t5, D(2026, 1, 1), open, 300000, NULL);
    /* no category assigned */
    int64_t t6 = talent("t6", D(1992, 1, 1), "master", "", e1, D(2024, 1, 15), 20);
    lease(t6, D(2026, 1, 1), open, 300000, "F-6");
    /* two leases cover the day: the later one (filed) counts; tier B */
    int64_t t7 = talent("t7", D(1992, 1, 1), "master", "B", e1, D(2024, 1, 15), 20);
    lease(t7, D(2025, 6, 1), open, 250000, NULL);
    lease(t7, D(2026, 3, 1), open, 280000, "F-7");
    /* the lease ended before the day */
    int64_t t8 = talent("t8", D(1992, 1, 1), "master", "A", e1, D(2024, 1, 15), 20);
    lease(t8, D(2025, 1, 1), D(2026, 9, 30), 300000, "F-8");

    ql_err err;
    struct walk w;
    memset(&w, 0, sizeof w);
    int32_t day = D(2026, 10, 1);
    assert_int_equal(policy_registry_facts(S, day, collect, &w, &err), 0);
    assert_int_equal(w.n, 8);
    assert_int_equal(w.ids[0], t1);
    assert_int_equal(w.f[0].v[F_AGE], 36);
    /* 2024-01-15 to 2026-10-01: 32 whole months */
    assert_int_equal(w.f[0].v[F_EMPLOYED_MONTHS], 32);
    assert_int_equal(w.f[0].v[F_EMPLOYED], 1);
    assert_int_equal(w.f[0].v[F_EMPLOYER_REGISTERED], 1);
    assert_int_equal(w.f[0].v[F_LEASE_FILED], 1);
    assert_int_equal(w.f[0].v[F_RENT], 600000);
    assert_int_equal(w.f[0].v[F_LEASE_KIND], pol_enum_find(PE_UNIT_KIND, "market", 6));
    assert_int_equal(w.f[1].v[F_AGE], 35);
    assert_int_equal(w.lease_end[1], D(2026, 10, 20));
    assert_int_equal(w.f[2].v[F_AGE], 36);
    assert_int_equal(w.f[3].v[F_EMPLOYER_REGISTERED], 0);
    assert_int_equal(w.f[4].v[F_LEASE_ACTIVE], 1);
    assert_int_equal(w.f[4].v[F_LEASE_FILED], 0);
    assert_int_equal(w.f[5].v[F_LEVEL], pol_enum_find(PE_LEVEL, "none", 4));
    assert_int_equal(w.f[6].v[F_LEASE_FILED], 1);
    assert_int_equal(w.f[6].v[F_RENT], 280000);
    assert_int_equal(w.f[7].v[F_LEASE_ACTIVE], 0);

    /* one talent's facts are the same as the walk's */
    pol_facts one;
    struct policy_subject who;
    assert_int_equal(policy_talent_facts(S, t7, day, &one, &who, &err), 0);
    assert_memory_equal(&one, &w.f[6], sizeof one);
    assert_int_equal(who.employer_id, e1);
    assert_int_equal(policy_talent_facts(S, 999999, day, &one, &who, &err), QL_ENOTFOUND);

    /* what-if: bachelors only up to 32, tier C raised to 1,200. Now: t1 A
     * 2,000 + t2 C 645.16 + t7 B 1,500 = 4,145.16; proposed: t2 is out,
     * 3,500.00; change -645.16 */
    pol_programme cur, prop;
    assert_int_equal(pol_parse(DISTRICT, DISTRICT_LEN, "district-rent.policy", &cur, &err), 0);
    char *text = malloc(DISTRICT_LEN + 16);
    assert_non_null(text);
    memcpy(text, DISTRICT, DISTRICT_LEN + 1);
    char *age = strstr(text, "age <= 35)");
    assert_non_null(age);
    memcpy(age, "age <= 32)", 10);
    char *c = strstr(text, "pay 1000.00");
    assert_non_null(c);
    memcpy(c, "pay 1200.00", 11);
    assert_int_equal(pol_parse(text, DISTRICT_LEN, "proposed.policy", &prop, &err), 0);
    free(text);
    json_t *res;
    assert_int_equal(policy_simulate(S, &CLI, &cur, &prop, day, &res, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "people")), 8);
    json_t *now = json_object_get(res, "current"), *then = json_object_get(res, "proposed");
    assert_int_equal(json_integer_value(json_object_get(now, "eligible")), 3);
    assert_int_equal(json_integer_value(json_object_get(now, "budget_fen")), 414516);
    assert_string_equal(json_string_value(json_object_get(now, "budget_yuan")), "4145.16");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(now, "by_tier"), "C")), 1);
    assert_int_equal(json_integer_value(json_object_get(then, "eligible")), 2);
    assert_int_equal(json_integer_value(json_object_get(then, "budget_fen")), 350000);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(then, "by_tier"), "C")), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "lose")), 1);
    assert_int_equal(json_integer_value(json_object_get(res, "stop")), 1);
    assert_int_equal(json_integer_value(json_object_get(res, "gain")), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "same")), 2);
    assert_int_equal(json_integer_value(json_object_get(res, "budget_change_fen")), -64516);
    json_t *emp = json_object_get(res, "by_employer");
    assert_int_equal(json_array_size(emp), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(emp, 0), "employer_id")),
                     e1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(emp, 0), "change_fen")),
                     -64516);
    json_t *ex = json_array_get(json_object_get(res, "examples"), 0);
    assert_int_equal(json_integer_value(json_object_get(ex, "talent_id")), t2);
    assert_string_equal(json_string_value(json_object_get(ex, "reason")), "age");
    json_decref(res);
    /* with nothing active, everyone the proposal pays starts */
    assert_int_equal(policy_simulate(S, &CLI, NULL, &prop, day, &res, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "start")), 2);
    assert_true(json_is_null(json_object_get(res, "current")));
    json_decref(res);
    pol_free(&cur);
    pol_free(&prop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_activate_retire),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_registry_facts_and_simulation),
    };
    return cmocka_run_group_tests_name("policy store", tests, setup, teardown);
}
