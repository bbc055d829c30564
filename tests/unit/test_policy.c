/* test_policy.c - the policy engine: the shipped policies parse and pass
 * the static checks; decisions with their traces; monthly amounts computed
 * by hand from DOMAIN.md section 3 (partial months, the "3+3" schedule, the
 * 36-month cap, a lease that ends mid-month, a change of employer); every
 * ill-typed or malformed line refused at its line and column; the static
 * checks find overlapping and gapped versions, criteria that never pass and
 * unreachable tiers. Run from the repository root. */
#include "testutil.h"

#include "core/date.h"
#include "policy/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pol_programme DISTRICT, THREE, APARTMENT;

static int32_t D(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

static int load(const char *path, pol_programme *p)
{
    size_t len;
    char *buf = tu_slurp(path, &len);
    if (!buf) {
        print_error("%s not found (run from the repository root)\n", path);
        return -1;
    }
    ql_err err = {0};
    int rc = pol_parse(buf, len, path, p, &err);
    free(buf);
    if (rc) print_error("%s\n", err.en);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    if (load("policies/district-rent.policy", &DISTRICT) ||
        load("policies/changning-3plus3.policy", &THREE) ||
        load("policies/talent-apartment.policy", &APARTMENT))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pol_free(&DISTRICT);
    pol_free(&THREE);
    pol_free(&APARTMENT);
    return 0;
}

/* Parses src (a whole file); returns the error text or "" on success. */
static const char *parse_text(const char *src, pol_programme *p)
{
    static ql_err err;
    memset(&err, 0, sizeof err);
    int rc = pol_parse(src, strlen(src), "t.policy", p, &err);
    if (!rc) return "";
    assert_int_equal(rc, QL_EINVAL);
    assert_string_equal(err.field, "policy");
    assert_true(err.zh[0] != '\0');
    return err.en;
}

/* An applicant who meets every condition of the district policy, level B. */
static void good_applicant(pol_facts *f)
{
    pol_facts_clear(f);
    f->v[F_EDUCATION] = pol_enum_find(PE_DEGREE, "master", 6);
    f->v[F_AGE] = 31;
    f->v[F_LEVEL] = pol_enum_find(PE_LEVEL, "B", 1);
    f->v[F_EMPLOYED] = 1;
    f->v[F_EMPLOYER_REGISTERED] = 1;
    f->v[F_EMPLOYER_TAXED] = 1;
    f->v[F_EMPLOYED_MONTHS] = 14;
    f->v[F_INSURANCE_MONTHS] = 14;
    f->v[F_LEASE_ACTIVE] = 1;
    f->v[F_LEASE_FILED] = 1;
    f->v[F_LEASE_KIND] = pol_enum_find(PE_UNIT_KIND, "market", 6);
    f->v[F_RENT] = 550000;
}

static void test_shipped_policies_check_clean(void **state)
{
    (void)state;
    pol_programme *all[] = {&DISTRICT, &THREE, &APARTMENT};
    for (size_t i = 0; i < 3; i++) {
        pol_issues is;
        int errors = pol_check(all[i], &is);
        char *text = pol_issues_text(all[i], &is);
        if (errors || is.n) fail_msg("%s: %s", all[i]->file, text);
        free(text);
    }
    assert_string_equal(DISTRICT.code, "district-rent");
    assert_int_equal(DISTRICT.nver, 1);
    const pol_version *v = &DISTRICT.ver[0];
    assert_int_equal(v->ntier, 3);
    assert_int_equal(v->tier[0].steps[0].fen, 200000);
    assert_int_equal(v->tier[1].steps[0].fen, 150000);
    assert_int_equal(v->tier[2].steps[0].fen, 100000);
    assert_int_equal(v->cap_months, 36);
    assert_int_equal(v->payee, PAYEE_PERSON);
    assert_int_equal(APARTMENT.ver[0].payee, PAYEE_OPERATOR);
    assert_true(APARTMENT.ver[0].cap_rent);
    const pol_tier *master = &THREE.ver[0].tier[1];
    assert_string_equal(master->id, "master");
    assert_int_equal(master->nsteps, 2);
    assert_int_equal(master->steps[0].fen, 300000);
    assert_int_equal(master->steps[0].months, 3);
    assert_int_equal(master->steps[1].fen, 250000);
    assert_int_equal(master->steps[1].months, 3);
    /* the age criterion runs over three lines joined by "or" */
    assert_int_equal(v->crit[1].expr_line, 26);
    assert_true(v->crit[1].uses & (1u << F_AGE));
    assert_true(v->crit[1].uses & (1u << F_EDUCATION));
    assert_false(v->crit[1].uses & (1u << F_LEVEL));
}

static void test_decision_trace(void **state)
{
    (void)state;
    pol_facts f;
    good_applicant(&f);
    int version = -1, tier = -1;
    json_t *tr = NULL;
    ql_err err;
    assert_int_equal(pol_decide(&DISTRICT, D(2026, 10, 12), &f, &version, &tier, &tr, &err), 0);
    assert_int_equal(version, 0);
    assert_int_equal(tier, 1);
    assert_true(json_is_true(json_object_get(tr, "eligible")));
    assert_string_equal(json_string_value(json_object_get(tr, "tier")), "B");
    assert_string_equal(json_string_value(json_object_get(tr, "version")), "2026.1");
    assert_string_equal(json_string_value(json_object_get(tr, "date")), "2026-10-12");
    json_t *crit = json_object_get(tr, "criteria");
    assert_int_equal(json_array_size(crit), DISTRICT.ver[0].ncrit);
    json_t *age = json_array_get(crit, 1);
    assert_string_equal(json_string_value(json_object_get(age, "id")), "age");
    assert_string_equal(json_string_value(json_object_get(age, "clause")), "第五条第（二）项");
    json_t *in = json_object_get(age, "inputs");
    assert_int_equal(json_object_size(in), 2);
    assert_string_equal(json_string_value(json_object_get(in, "age")), "31");
    assert_string_equal(json_string_value(json_object_get(in, "education")), "master");
    json_t *tt = json_object_get(tr, "tier_trace");
    assert_string_equal(json_string_value(json_object_get(tt, "clause")), "第六条第（二）项");
    json_t *step = json_array_get(json_object_get(tt, "schedule"), 0);
    assert_int_equal(json_integer_value(json_object_get(step, "fen")), 150000);
    assert_string_equal(json_string_value(json_object_get(step, "yuan")), "1500.00");
    json_decref(tr);

    /* a bachelor of 36 fails the age criterion, and only that one; the
     * trace shows the inputs that made it fail */
    f.v[F_EDUCATION] = pol_enum_find(PE_DEGREE, "bachelor", 8);
    f.v[F_AGE] = 36;
    assert_int_equal(pol_decide(&DISTRICT, D(2026, 10, 12), &f, &version, &tier, &tr, &err), 0);
    assert_int_equal(tier, -1);
    assert_false(json_is_true(json_object_get(tr, "eligible")));
    crit = json_object_get(tr, "criteria");
    for (size_t i = 0; i < json_array_size(crit); i++) {
        json_t *c = json_array_get(crit, i);
        int passed = json_is_true(json_object_get(c, "passed"));
        assert_int_equal(passed, i != 1);
    }
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(crit, 1), "inputs"), "age")),
                        "36");
    assert_true(json_is_null(json_object_get(tr, "tier_trace")));
    json_decref(tr);
    int failed = -1;
    assert_int_equal(pol_match(&DISTRICT, &DISTRICT.ver[0], &f, &failed), -1);
    assert_int_equal(failed, 1);
    f.v[F_AGE] = 35; /* "at most 35": 35 passes */
    assert_int_equal(pol_match(&DISTRICT, &DISTRICT.ver[0], &f, &failed), 1);

    /* before the first version there is no decision */
    assert_int_equal(pol_decide(&DISTRICT, D(2025, 12, 31), &f, &version, &tier, &tr, &err),
                     QL_ENOTFOUND);
    assert_null(tr);
    assert_non_null(strstr(err.en, "2025-12-31"));

    /* the apartment policy: only a talent apartment, and the operator is paid */
    good_applicant(&f);
    assert_int_equal(pol_match(&APARTMENT, &APARTMENT.ver[0], &f, &failed), -1);
    assert_string_equal(APARTMENT.ver[0].crit[failed].id, "apartment");
    f.v[F_LEASE_KIND] = pol_enum_find(PE_UNIT_KIND, "talent_apartment", 16);
    assert_int_equal(pol_match(&APARTMENT, &APARTMENT.ver[0], &f, &failed), 0);
}

/* One month of tier t of p's first version. */
static int64_t month(const pol_programme *p, int t, int32_t any_day, int32_t start, int32_t end,
                     int before)
{
    pol_month_in in = {any_day, start, end, before, 0, 0, 0, 0};
    pol_month_out out;
    ql_err err;
    int rc = pol_month_amount(&p->ver[0], t, &in, true, &out, &err);
    if (rc) fail_msg("month: %s", err.en);
    /* the last step always states the result */
    json_t *last = json_array_get(out.steps, json_array_size(out.steps) - 1);
    if (out.fen > 0) {
        assert_string_equal(json_string_value(json_object_get(last, "step")), "total");
        assert_int_equal(json_integer_value(json_object_get(last, "fen")), out.fen);
    }
    json_decref(out.steps);
    return out.fen;
}

static void test_month_amounts_by_hand(void **state)
{
    (void)state;
    int32_t open = POL_OPEN_END;
    /* tier A (2,000 yuan), a whole October */
    assert_int_equal(month(&DISTRICT, 0, D(2026, 10, 1), D(2026, 3, 1), open, 7), 200000);
    /* starts on October 16: 16 of 31 days; 2000 x 16 / 31 = 1032.258... -> 1032.26 */
    assert_int_equal(month(&DISTRICT, 0, D(2026, 10, 1), D(2026, 10, 16), open, 0), 103226);
    /* tier B, a lease that ends on November 20: 1500 x 20 / 30 = 1000.00 exactly */
    assert_int_equal(month(&DISTRICT, 1, D(2026, 11, 5), D(2026, 1, 1), D(2026, 11, 20), 10),
                     100000);
    /* and nothing for December */
    assert_int_equal(month(&DISTRICT, 1, D(2026, 12, 5), D(2026, 1, 1), D(2026, 11, 20), 11), 0);
    /* tier C, the person leaves the employer on October 15 (the new employer
     * needs a new application): 1000 x 15 / 31 = 483.870... -> 483.87 */
    assert_int_equal(month(&DISTRICT, 2, D(2026, 10, 1), D(2026, 5, 1), D(2026, 10, 15), 5), 48387);
    /* February 2028 has 29 days: from the 15th, 15 days; 2000 x 15 / 29 = 1034.482... */
    assert_int_equal(month(&DISTRICT, 0, D(2028, 2, 1), D(2028, 2, 15), open, 0), 103448);
    /* the 36-month cap: the 36th month is paid, the 37th is not */
    assert_int_equal(month(&DISTRICT, 0, D(2026, 10, 1), D(2024, 1, 1), open, 35), 200000);
    assert_int_equal(month(&DISTRICT, 0, D(2026, 10, 1), D(2024, 1, 1), open, 36), 0);
    /* a half-up rounding at exactly half a fen: 1500 x 1 / 30 = 50.00; and
     * 1000 x 1 / 31 = 32.258 -> 32.26; 1000 x 3 / 31 = 96.774 -> 96.77 */
    assert_int_equal(month(&DISTRICT, 1, D(2026, 11, 1), D(2026, 11, 30), open, 0), 5000);
    assert_int_equal(month(&DISTRICT, 2, D(2026, 12, 1), D(2026, 12, 31), open, 0), 3226);
    assert_int_equal(month(&DISTRICT, 2, D(2026, 12, 1), D(2026, 12, 29), open, 0), 9677);

    /* "3+3": master 3,000 for months 1-3, 2,500 for months 4-6, then nothing */
    const int master = 1, doctor = 0;
    int64_t expect_master[] = {300000, 300000, 300000, 250000, 250000, 250000, 0};
    int64_t expect_doctor[] = {400000, 400000, 400000, 300000, 300000, 300000, 0};
    int64_t total_master = 0;
    for (int i = 0; i < 7; i++) {
        int32_t day = D(2026, 3 + i, 1);
        int64_t m = month(&THREE, master, day, D(2026, 3, 1), open, i);
        assert_int_equal(m, expect_master[i]);
        assert_int_equal(month(&THREE, doctor, day, D(2026, 3, 1), open, i), expect_doctor[i]);
        total_master += m;
    }
    assert_int_equal(total_master, 1650000); /* 3 x 3000 + 3 x 2500 = 16,500 yuan */
    /* the 4th month is partial (the lease ends on June 10): 2500 x 10 / 30 = 833.33 */
    assert_int_equal(month(&THREE, master, D(2026, 6, 1), D(2026, 3, 1), D(2026, 6, 10), 3), 83333);
    /* a first month that begins on the 21st of a 31-day month counts as month 1:
     * 3000 x 11 / 31 = 1064.516 -> 1064.52 */
    assert_int_equal(month(&THREE, master, D(2026, 7, 1), D(2026, 7, 21), open, 0), 106452);
}

static const char *CAPS =
    "programme caps\nzh 上限\nen Caps\nversion 1\nfrom 2026-01-01\n"
    "cap month 1800.00\ncap year 5000.00\ncap rent\nprorate whole\n"
    "tier all\nclause 1\nwhen true\npay 2000.00 for 12 months\nzh 全部\nen All\n";

static void test_caps_and_whole_months(void **state)
{
    (void)state;
    pol_programme p;
    assert_string_equal(parse_text(CAPS, &p), "");
    pol_month_out out;
    ql_err err;
    /* 2000 is capped at 1800 a month, then at the rent (1700) */
    pol_month_in in = {D(2026, 1, 1), D(2026, 1, 1), POL_OPEN_END, 0, 0, 170000, 0, 0};
    assert_int_equal(pol_month_amount(&p.ver[0], 0, &in, true, &out, &err), 0);
    assert_int_equal(out.fen, 170000);
    json_t *steps = out.steps;
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 2), "step")),
                        "cap_month");
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 3), "step")),
                        "cap_rent");
    json_decref(steps);
    /* 4,200 paid this year already: 800 of the 5,000 yearly cap remain */
    in.rent = 900000;
    in.paid_year_before = 420000;
    assert_int_equal(pol_month_amount(&p.ver[0], 0, &in, false, &out, &err), 0);
    assert_int_equal(out.fen, 80000);
    assert_null(out.steps);
    in.paid_year_before = 500000;
    assert_int_equal(pol_month_amount(&p.ver[0], 0, &in, false, &out, &err), 0);
    assert_int_equal(out.fen, 0);
    /* prorate whole: a partial month is not paid and does not count */
    in.paid_year_before = 0;
    in.start = D(2026, 1, 2);
    assert_int_equal(pol_month_amount(&p.ver[0], 0, &in, false, &out, &err), 0);
    assert_int_equal(out.fen, 0);
    assert_int_equal(out.index, 0);
    /* bad arguments */
    assert_int_equal(pol_month_amount(&p.ver[0], 1, &in, false, &out, &err), QL_EINVAL);
    in.end = D(2025, 1, 1);
    assert_int_equal(pol_month_amount(&p.ver[0], 0, &in, false, &out, &err), QL_EINVAL);
    pol_free(&p);
}

/* A file with one criterion whose condition is cond. */
static const char *with_condition(const char *cond)
{
    static char src[2048];
    snprintf(src, sizeof src,
             "programme t\nzh 测试\nen Test\nversion 1\nfrom 2026-01-01\n"
             "criterion c\nclause 1\nrequire %s\nzh 中\nen En\n"
             "tier t\nclause 2\nwhen true\npay 100.00 for 1 month\nzh 档\nen Tier\n",
             cond);
    return src;
}

static void test_type_errors_with_position(void **state)
{
    (void)state;
    static const struct {
        const char *cond;
        const char *where; /* "t.policy:LINE:COL:" */
        const char *what;
    } cases[] = {
        {"age == \"A\"", "t.policy:8:16:", "cannot be compared with a number"},
        {"level < \"B\"", "t.policy:8:15:", "has no order"},
        {"education >= \"phd\"", "t.policy:8:22:", "not a value of education"},
        {"rent > 5", "t.policy:8:14:", "cannot compare an amount with a number"},
        {"age + rent > 1", "t.policy:8:13:", "cannot add a number and an amount"},
        {"not age", "t.policy:8:13:", "'not' needs true/false here, not a number"},
        {"age and true", "t.policy:8:9:", "'and' needs true/false here, not a number"},
        {"salary > 5", "t.policy:8:9:", "unknown fact 'salary'"},
        {"level == A", "t.policy:8:18:", "a value is written in quotes"},
        {"1 < age < 3", "t.policy:8:17:", "do not chain"},
        {"age", "t.policy:8:9:", "needs a true/false condition, not a number"},
        {"(age > 1", "t.policy:9:1:", "')' expected"},
        {"age >", "t.policy:8:14:", "a value or fact expected"},
        {"age = 3", "t.policy:8:13:", "compare with '=='"},
        {"age > 3 3", "t.policy:8:17:", "should end here"},
        {"age > 1.234", "t.policy:8:15:", "at most two decimals"},
        {"age > 2026-02-30", "t.policy:8:15:", "not a real date"},
        {"age > 9999999999999", "t.policy:8:15:", "too large"},
        {"\"A\" == \"B\"", "t.policy:8:13:", "two quoted values"},
        {"level in [\"A\", \"Z\"]", "t.policy:8:24:", "\"Z\" is not a value of level"},
        {"level in [1]", "t.policy:8:19:", "holds quoted values"},
        {"owns_housing < true", "t.policy:8:22:", "true/false has no order"},
        {"age > 3 and \"x\"", "t.policy:8:21:", "compared with an enumerated fact"},
        {"", "t.policy:8:9:", "needs a condition"},
        {"age ! 3", "t.policy:8:13:", "'!' alone"},
        {"age > 3 @", "t.policy:8:17:", "unexpected character '@'"},
        {"level == \"A", "t.policy:8:18:", "not closed"},
        {"age > 3年", "t.policy:8:16:", "unexpected character '年'"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pol_programme p;
        const char *e = parse_text(with_condition(cases[i].cond), &p);
        pol_free(&p);
        if (strncmp(e, cases[i].where, strlen(cases[i].where)) || !strstr(e, cases[i].what)) {
            print_error("case %zu (%s): got \"%s\", want \"%s ... %s\"\n", i, cases[i].cond, e,
                        cases[i].where, cases[i].what);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    /* nesting is bounded, and an expression of many parts is refused, not crashed */
    char deep[400];
    memset(deep, '(', 200);
    snprintf(deep + 200, sizeof deep - 200, "true");
    pol_programme p;
    const char *e = parse_text(with_condition(deep), &p);
    pol_free(&p);
    assert_non_null(strstr(e, "nested too deeply"));
    /* well-typed expressions of every form parse */
    static const char *good[] = {
        "age + 1 <= 36 and -age < 0",
        "rent - 100.00 >= 0.5",
        "level in [\"A\", \"B\"] or not (education == \"doctor\")",
        "insurance_months in [6, 12, 24]",
        "\"bachelor\" <= education",
        "employed == true and employer_industry != \"other\"",
        "(age > 1\n and age < 100)",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        e = parse_text(with_condition(good[i]), &p);
        if (e[0]) fail_msg("good %zu: %s", i, e);
        pol_facts f;
        pol_facts_clear(&f);
        f.v[F_AGE] = 30;
        f.v[F_RENT] = 50000;
        f.v[F_INSURANCE_MONTHS] = 12;
        f.v[F_EDUCATION] = 2;
        f.v[F_EMPLOYED] = 1;
        f.v[F_LEVEL] = 2;
        assert_int_equal(pol_eval(&p, p.ver[0].crit[0].expr, &f), 1);
        pol_free(&p);
    }
}

#define HEAD "programme a\nzh 甲\nen A\n"
#define TIER(id, cond, amount)                                                                     \
    "tier " id "\nclause 1\nwhen " cond "\npay " amount " for 12 months\nzh 档\nen Tier\n"
#define CRIT(id, cond) "criterion " id "\nclause 1\nrequire " cond "\nzh 条件\nen Criterion\n"

static void test_file_errors_with_position(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        const char *where;
        const char *what;
    } cases[] = {
        {"zh 测试\n", "t.policy:1:1:", "no 'programme CODE' line"},
        {"programme Bad_Code\n", "t.policy:1:1:", "a-z, 0-9 and '-'"},
        {"programme a\nzh 甲\nen A\nfrom 2026-01-01\n", "t.policy:4:1:", "belongs to a version"},
        {"programme a\nzh 甲\nen A\nversion 1\ncriterion c\nclause x\nzh 中\nen E\n"
         "tier t\nclause 1\nwhen true\npay 1.00 for 1 month\nzh 档\nen T\nfrom 2026-01-01\n",
         "t.policy:5:1:", "criterion c has no 'require' line"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\n", "t.policy:4:1:", "has no tier"},
        {"programme a\nzh 甲\nen A\nversion 1\ntier t\nclause 1\nwhen true\nzh 档\nen T\n"
         "from 2026-01-01\n",
         "t.policy:5:1:", "tier t has no 'pay' line"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\nto 2025-01-01\n",
         "t.policy:6:1:", "ends before it begins"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\nfrom 2026-02-01\n",
         "t.policy:6:1:", "given twice"},
        {"programme a\nzh 甲\nen A\nversion 1\nversion 1\n", "t.policy:4:1:", "no 'from' line"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\n" TIER("t", "true",
                                                                       "1.00") "version 1\n",
         "t.policy:12:1:", "version 1 is defined twice (line 4)"},
        {"programme a\nversion 1\nfrom 2026-01-01\n" TIER("t", "true", "1.00"),
         "t.policy:1:1:", "needs a 'zh' and an 'en' name"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\ntier t\nclause 1\nwhen true\n"
         "pay 0.00 for 3 months\n",
         "t.policy:9:5:", "above zero"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\ntier t\nclause 1\nwhen true\n"
         "pay 100.00 for 3 weeks\n",
         "t.policy:9:18:", "'months' expected"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\ntier t\nclause 1\nwhen true\n"
         "pay 100.00 for 3 months, 50.00 for 1 month\n",
         "t.policy:9:26:", "'then' expected"},
        {"programme a\nzh 甲\nen A\nversion 1\npayee bank\n",
         "t.policy:5:7:", "expected person | employer | operator"},
        {"programme a\nzh 甲\nen A\nversion 1\ncap weeks 3\n",
         "t.policy:5:5:", "months, month, year or rent"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrobnicate\n",
         "t.policy:5:1:", "unknown keyword 'frobnicate'"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\ncriterion c\nrequire true\n"
         "require false\n",
         "t.policy:8:1:", "two 'require' lines"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\nclause x\n",
         "t.policy:6:1:", "belongs to a criterion or a tier"},
        {"programme a\nzh \xff\n", "t.policy:2:4:", "not clean UTF-8"},
        {"programme a\nzh 甲\nen A\nversion 1\nzh again\n",
         "t.policy:5:1:", "belongs to a criterion, a tier or the programme"},
        {"programme a\nzh 甲\nen A\nversion 1\nfrom 2026-01-01\ncriterion c\ncriterion c\n",
         "t.policy:6:1:", "no 'require' line"},
        {"programme a\nzh 甲\nen A\n", "t.policy:4:1:", "no version"},
        {"programme a\nversion 1\n", "t.policy:2:1:", "no 'from' line"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pol_programme p;
        const char *e = parse_text(cases[i].src, &p);
        pol_free(&p);
        if (strncmp(e, cases[i].where, strlen(cases[i].where)) || !strstr(e, cases[i].what)) {
            print_error("case %zu: got \"%s\", want \"%s ... %s\"\n", i, e, cases[i].where,
                        cases[i].what);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    /* too big */
    size_t big = POL_FILE_MAX + 1;
    char *buf = calloc(1, big);
    memset(buf, '#', big);
    pol_programme p;
    ql_err err;
    assert_int_equal(pol_parse(buf, big, "big", &p, &err), QL_ETOOBIG);
    pol_free(&p);
    free(buf);
}

static void expect_errors(const char *text, int errors, int want)
{
    if (errors != want) fail_msg("%d errors, want %d:\n%s", errors, want, text);
}

/* Checks src and returns the findings as text. */
static char *check_text(const char *src, int *errors)
{
    pol_programme p;
    const char *e = parse_text(src, &p);
    if (e[0]) fail_msg("parse: %s", e);
    pol_issues is;
    *errors = pol_check(&p, &is);
    char *text = pol_issues_text(&p, &is);
    pol_free(&p);
    return text;
}

static void test_comments_in_texts(void **state)
{
    (void)state;
    pol_programme p;
    const char *src = "programme t # the code\nzh 测试 # 名称\nen Test\nversion 1\n"
                      "from 2026-01-01 # begins\ntier t\nclause 第5条#1 # see art. 5\n"
                      "when true # always\npay 1.00 for 1 month\nzh 档\nen Tier\n";
    assert_string_equal(parse_text(src, &p), "");
    assert_string_equal(p.zh, "测试");
    assert_string_equal(p.ver[0].tier[0].clause,
                        "第5条#1"); /* '#' without a blank before it stays */
    pol_free(&p);
}

static void test_static_checks(void **state)
{
    (void)state;
    int errors;
    /* overlapping versions and a gap, each at the later version's from line */
    char *t =
        check_text(
            HEAD "version v1\nfrom 2026-01-01\nto 2026-06-30\n" TIER(
                "t", "true",
                "1.00") "version v2\nfrom 2026-06-01\nto 2026-09-30\n" TIER("t", "true",
                                                                            "1.00") "version "
                                                                                    "v3\nfrom "
                                                                                    "2026-11-"
                                                                                    "01\n" TIER("t",
                                                                                                "tr"
                                                                                                "u"
                                                                                                "e",
                                                                                                "1."
                                                                                                "0"
                                                                                                "0"),
            &errors);
    expect_errors(t, errors, 2);
    assert_non_null(strstr(t, "t.policy:14:1: error: version v2 (from 2026-06-01) overlaps "
                              "version v1 (2026-01-01 to 2026-06-30)"));
    assert_non_null(strstr(t, "t.policy:23:1: error: no version is in force between 2026-09-30 "
                              "(end of v2) and 2026-11-01 (start of v3)"));
    assert_non_null(strstr(t, "错误："));
    free(t);
    /* an open version that is not the last overlaps the next */
    t = check_text(
        HEAD "version v1\nfrom 2026-01-01\n" TIER(
            "t", "true", "1.00") "version v2\nfrom 2027-01-01\n" TIER("t", "true", "1.00"),
        &errors);
    expect_errors(t, errors, 1);
    assert_non_null(strstr(t, "overlaps version v1 (2026-01-01 to open)"));
    free(t);

    /* a criterion that never passes (age is at most 150), one that always
     * passes, and criteria that together exclude everyone */
    t = check_text(HEAD "version v\nfrom 2026-01-01\n" CRIT("old", "age > 150")
                       TIER("t", "true", "1.00"),
                   &errors);
    expect_errors(t, errors, 1);
    assert_non_null(strstr(t, "t.policy:8:9: error: criterion old can never pass"));
    free(t);
    t = check_text(HEAD "version v\nfrom 2026-01-01\n" CRIT("any", "age >= 0 or owns_housing")
                       TIER("t", "true", "1.00"),
                   &errors);
    expect_errors(t, errors, 0);
    assert_non_null(strstr(t, "warning: criterion any always passes"));
    free(t);
    t = check_text(HEAD "version v\nfrom 2026-01-01\n" CRIT("young", "age < 30")
                       CRIT("old", "age > 40") TIER("t", "true", "1.00"),
                   &errors);
    expect_errors(t, errors, 1);
    assert_non_null(strstr(t, "the criteria together can never pass"));
    free(t);
    t = check_text(HEAD "version v\nfrom 2026-01-01\n" CRIT("d", "education >= \"master\"")
                       CRIT("e", "education in [\"bachelor\", \"other\"]")
                           TIER("t", "true", "1.00"),
                   &errors);
    expect_errors(t, errors, 1);
    free(t);

    /* unreachable tiers: one shadowed by an earlier tier, one that the
     * criteria exclude; and eligible people that no tier takes */
    t = check_text(HEAD "version v\nfrom 2026-01-01\n" CRIT("deg", "education >= \"master\"")
                       TIER("ab", "level in [\"A\", \"B\"]", "2.00")
                           TIER("b", "level == \"B\"", "1.00")
                               TIER("bach", "education == \"bachelor\"", "1.00"),
                   &errors);
    expect_errors(t, errors, 2);
    assert_non_null(strstr(t, "error: tier b is unreachable: the tiers before it take everyone"));
    assert_non_null(
        strstr(t, "error: tier bach is unreachable: no applicant who meets the criteria"));
    assert_non_null(
        strstr(t, "warning: version v: some applicants meet every criterion but no tier"));
    free(t);
    /* numeric tiers: rent bands are reachable; a band inside an earlier band is not */
    t = check_text(HEAD "version v\nfrom 2026-01-01\n" TIER("hi", "rent >= 5000.00", "2.00")
                       TIER("mid", "rent >= 3000.00", "1.00") TIER("in", "rent > 6000.00", "1.00")
                           TIER("rest", "true", "0.50"),
                   &errors);
    expect_errors(t, errors, 1);
    assert_non_null(strstr(t, "tier in is unreachable"));
    free(t);

    /* arithmetic: the search cannot be exact, so what it finds no one for
     * is a warning to check by hand, never an error that blocks activation
     * (age 40 passes "age + 10 == 50"; a rent of 2000.00 reaches the tier) */
    t = check_text(HEAD "version v\nfrom 2026-01-01\n" CRIT("a", "age + 10 == 50")
                       TIER("t", "rent == 1500.00 + 500.00", "1.00"),
                   &errors);
    expect_errors(t, errors, 0);
    assert_non_null(strstr(t, "warning: a: could not be checked"));
    assert_non_null(strstr(t, "warning: t: could not be checked"));
    free(t);

    /* a schedule step that starts after the month cap is never paid */
    t = check_text(HEAD "version v\nfrom 2026-01-01\ncap months 6\ntier t\nclause 1\nwhen true\n"
                        "pay 3.00 for 6 months, then 2.00 for 6 months\nzh 档\nen T\n",
                   &errors);
    expect_errors(t, errors, 1);
    assert_non_null(strstr(t, "t.policy:10:1: error: tier t: step 2 starts at month 7"));
    free(t);
    t = check_text(HEAD "version v\nfrom 2026-01-01\ncap month 1.00\n" TIER("t", "true", "3.00"),
                   &errors);
    expect_errors(t, errors, 0);
    assert_non_null(strstr(t, "warning: tier t: every amount is above the monthly cap of 1.00"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_policies_check_clean),
        cmocka_unit_test(test_decision_trace),
        cmocka_unit_test(test_month_amounts_by_hand),
        cmocka_unit_test(test_caps_and_whole_months),
        cmocka_unit_test(test_type_errors_with_position),
        cmocka_unit_test(test_file_errors_with_position),
        cmocka_unit_test(test_comments_in_texts),
        cmocka_unit_test(test_static_checks),
    };
    return cmocka_run_group_tests_name("policy", tests, setup, teardown);
}
