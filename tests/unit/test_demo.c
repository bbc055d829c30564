/* test_demo.c - the demo district generator: the same seed gives the same
 * bytes, every number it makes passes the standards' checks, numbers and
 * names that must be unique are, the shares look like a district, and the
 * CSV files carry the import templates' columns. */
#include "testutil.h"

#include "core/date.h"
#include "core/validate.h"
#include "demo/demo.h"
#include "policy/rules.h"
#include "registry/import.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 1;
    return 0;
}

static demo *open_demo(uint64_t seed, int64_t people, int64_t employers)
{
    struct demo_params p = {.seed = seed, .people = people, .employers = employers};
    demo *d = NULL;
    ql_err err = {0};
    if (demo_open(&p, &d, &err)) fail_msg("demo_open: %s", err.en);
    return d;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull; /* a field separator */
}

static uint64_t fnv_int(uint64_t h, int64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)v);
    return fnv(h, t);
}

/* A digest of every field of every record, housing included. */
static uint64_t digest(const demo *d)
{
    uint64_t h = 1469598103934665603ull;
    for (int64_t i = 0; i < demo_employer_count(d); i++) {
        const struct demo_employer *e = demo_employer(d, i);
        const char *f[] = {e->credit_code, e->name, e->industry, e->registered, e->taxed,
                           e->key_enterprise};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) h = fnv(h, f[k]);
    }
    for (int64_t i = 0; i < demo_people(d); i++) {
        struct demo_talent t;
        demo_talent(d, i, &t);
        const char *f[] = {t.name,          t.id_number,       t.phone,
                           t.education,     t.graduation_date, t.category,
                           t.level,         t.employer,        t.employed_since,
                           t.previous_employer, t.previous_since, t.insurance_months,
                           t.owns_housing,  t.bank_account};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) h = fnv(h, f[k]);
    }
    for (int64_t i = 0; i < demo_operator_count(d); i++) {
        const struct demo_operator *o = demo_operator(d, i);
        const char *f[] = {o->code, o->name, o->credit_code, o->contact_name, o->contact_phone};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) h = fnv(h, f[k]);
    }
    for (int64_t i = 0; i < demo_unit_count(d); i++) {
        struct demo_unit u;
        demo_unit(d, i, &u);
        const char *f[] = {u.address, u.district, u.community, u.area, u.rooms,
                           u.rent,    u.kind,     u.verification_code, u.status};
        h = fnv_int(h, u.operator_index);
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) h = fnv(h, f[k]);
        struct demo_lease l[DEMO_UNIT_LEASES_MAX];
        int n = demo_unit_leases(d, i, l);
        for (int j = 0; j < n; j++) {
            const char *g[] = {l[j].tenant_id_number, l[j].start_date, l[j].end_date,
                               l[j].signed_date,      l[j].rent,       l[j].deposit,
                               l[j].filing_no,        l[j].filed_date, l[j].ended_on,
                               l[j].end_reason ? l[j].end_reason : "-"};
            h = fnv_int(h, l[j].tenant);
            for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) h = fnv(h, g[k]);
        }
    }
    return h;
}

static char *write_csv(const demo *d, const char *name, size_t *elen, char **talents, size_t *tlen)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/%s", tu_tmpdir(), name);
    assert_int_equal(mkdir(dir, 0755), 0);
    ql_err err = {0};
    assert_int_equal(demo_write_csv(d, dir, NULL, NULL, &err), 0);
    snprintf(path, sizeof path, "%s/talents.csv", dir);
    *talents = tu_slurp(path, tlen);
    snprintf(path, sizeof path, "%s/employers.csv", dir);
    char *e = tu_slurp(path, elen);
    assert_non_null(e);
    assert_non_null(*talents);
    return e;
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    demo *a = open_demo(7, 3000, 0), *b = open_demo(7, 3000, 0);
    demo *c = open_demo(8, 3000, 0), *bigger = open_demo(7, 3001, 0);
    assert_int_equal(demo_employer_count(a), 30);
    assert_true(digest(a) == digest(b));
    assert_true(digest(a) != digest(c));
    /* One talent more changes only the talents after it (and not the
     * employers, whose number is the same). */
    struct demo_talent t1, t2;
    demo_talent(a, 2999, &t1);
    demo_talent(bigger, 2999, &t2);
    assert_memory_equal(&t1, &t2, sizeof t1);

    size_t ea, ta, eb, tb, ec, tc;
    char *tal_a, *tal_b, *tal_c;
    char *emp_a = write_csv(a, "csv-a", &ea, &tal_a, &ta);
    char *emp_b = write_csv(b, "csv-b", &eb, &tal_b, &tb);
    char *emp_c = write_csv(c, "csv-c", &ec, &tal_c, &tc);
    assert_int_equal(ea, eb);
    assert_memory_equal(emp_a, emp_b, ea);
    assert_int_equal(ta, tb);
    assert_memory_equal(tal_a, tal_b, ta);
    assert_true(ta != tc || memcmp(tal_a, tal_c, ta) != 0);
    assert_true(ea != ec || memcmp(emp_a, emp_c, ea) != 0);
    /* The first employer is the anchor whatever the seed. */
    assert_string_equal(demo_employer(c, 0)->credit_code, DEMO_ANCHOR_CREDIT_CODE);
    free(emp_a), free(emp_b), free(emp_c), free(tal_a), free(tal_b), free(tal_c);
    demo_close(a), demo_close(b), demo_close(c), demo_close(bigger);
}

/* The check characters computed here from the standards (DOMAIN.md §6), not
 * through src/core/validate.c: GB 11643 (ISO 7064 MOD 11-2) and GB 32100. */
static char gb11643_check(const char *id)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (id[i] < '0' || id[i] > '9') return '?';
        sum += (id[i] - '0') * w[i];
    }
    return "10X98765432"[sum % 11];
}

static char gb32100_check(const char *code)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        const char *p = code[i] ? strchr(alphabet, code[i]) : NULL;
        if (!p) return '?';
        sum += (int)(p - alphabet) * w[i];
    }
    int c = 31 - sum % 31;
    return alphabet[c == 31 ? 0 : c];
}

static void expect_gb11643(const char *id)
{
    if (strlen(id) != 18 || id[17] != gb11643_check(id))
        fail_msg("'%s' does not end in its GB 11643 check character '%c'", id, gb11643_check(id));
}

static void expect_gb32100(const char *code)
{
    if (strlen(code) != 18 || code[17] != gb32100_check(code))
        fail_msg("'%s' does not end in its GB 32100 check character '%c'", code,
                 gb32100_check(code));
}

/* The standards' own examples pass the checks above (and a changed
 * character fails them), so the checks are the standards'. */
static void test_reference_checks(void **state)
{
    (void)state;
    assert_int_equal(gb11643_check("11010519491231002X"), 'X');
    assert_int_equal(gb11643_check("11010519491231003X"), '8');
    assert_int_equal(gb32100_check("91350100M000100Y43"), '3');
    assert_int_not_equal(gb32100_check("91350100M000100Y53"), '3');
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Fails if two of the n strings are equal. */
static void expect_unique(const char *what, char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(v[i - 1], v[i])) fail_msg("%s: '%s' appears twice", what, v[i]);
}

static int32_t day(const char *s)
{
    int32_t d = 0;
    if (date_parse(s, &d)) fail_msg("'%s' is not a date", s);
    return d;
}

static void test_every_number_valid_and_unique(void **state)
{
    (void)state;
    enum { N = 40000 };
    demo *d = open_demo(12345, N, 0);
    int32_t today = date_today(), as_of = day(DEMO_AS_OF);
    ql_err e;
    int64_t ne = demo_employer_count(d);
    assert_int_equal(ne, N / 100);
    char **codes = calloc((size_t)ne, sizeof *codes);
    int industries[8] = {0};
    static const char *const industry_zh[] = {"人工智能", "生命健康", "金融科技", "先进制造",
                                              "数字经济", "文化创意", "其他"};
    for (int64_t i = 0; i < ne; i++) {
        const struct demo_employer *em = demo_employer(d, i);
        if (validate_credit_code("credit_code", em->credit_code, &e))
            fail_msg("employer %lld: %s: %s", (long long)i, em->credit_code, e.en);
        expect_gb32100(em->credit_code);
        codes[i] = strdup(em->credit_code);
        if (validate_name("name", em->name, &e)) fail_msg("employer %s: %s", em->name, e.en);
        int k = 0;
        while (k < 7 && strcmp(em->industry, industry_zh[k])) k++;
        assert_true(k < 7);
        industries[k]++;
    }
    for (int k = 0; k < 7; k++) assert_true(industries[k] > 0);
    expect_unique("credit code", codes, (size_t)ne);

    char **ids = calloc(N, sizeof *ids), **phones = calloc(N, sizeof *phones),
         **cards = calloc(N, sizeof *cards);
    size_t nphones = 0, ncards = 0;
    int foreign = 0, moved = 0, unemployed = 0, shanghai = 0, women = 0, levels = 0;
    for (int64_t i = 0; i < N; i++) {
        struct demo_talent t;
        demo_talent(d, i, &t);
        struct id_info info;
        if (validate_id_number("id_number", t.id_number, today, &info, &e))
            fail_msg("talent %lld: %s: %s", (long long)i, t.id_number, e.en);
        assert_int_equal(info.kind == ID_FOREIGN_PERMANENT, t.foreign);
        expect_gb11643(t.id_number);
        /* The birth date in the number is a real day, in the past. */
        char ymd[11];
        snprintf(ymd, sizeof ymd, "%.4s-%.2s-%.2s", t.id_number + 6, t.id_number + 10,
                 t.id_number + 12);
        assert_int_equal(day(ymd), info.birth);
        assert_true(info.birth < as_of);
        foreign += t.foreign;
        shanghai += !strncmp(t.id_number, "31", 2);
        women += info.female;
        ids[i] = strdup(t.id_number);
        assert_true(t.name[0] && has_non_ascii(t.name));
        if (validate_name("name", t.name, &e)) fail_msg("talent %s: %s", t.name, e.en);
        if (t.phone[0]) {
            if (validate_mobile("phone", t.phone, &e)) fail_msg("%s: %s", t.phone, e.en);
            phones[nphones++] = strdup(t.phone);
        }
        if (t.bank_account[0]) {
            int luhn = 0;
            if (validate_bank_card("bank_account", t.bank_account, &luhn, &e))
                fail_msg("%s: %s", t.bank_account, e.en);
            assert_true(luhn);
            assert_memory_equal(t.bank_account, "62", 2);
            cards[ncards++] = strdup(t.bank_account);
        }
        /* Education fits the age: a graduation after 18 and not after DEMO_AS_OF. */
        int32_t grad = day(t.graduation_date);
        assert_true(grad <= as_of);
        assert_true(grad - info.birth >= 18 * 365);
        assert_true(!strcmp(t.education, "本科") || !strcmp(t.education, "硕士") ||
                    !strcmp(t.education, "博士") || !strcmp(t.education, "其他"));
        if (!strcmp(t.education, "博士")) assert_true(grad - info.birth >= 27 * 365);
        assert_true(!t.level[0] || (strchr("ABC", t.level[0]) && !t.level[1]));
        if (t.level[0]) assert_string_equal(t.category, "光启人才");
        levels += t.level[0] != 0;
        long months = strtol(t.insurance_months, NULL, 10);
        assert_true(months >= 0 && months <= 1200);
        if (!t.employer[0]) {
            unemployed++;
            assert_string_equal(t.employed_since, "");
            assert_string_equal(t.previous_employer, "");
            assert_int_equal(months, 0);
        } else {
            assert_true(day(t.employed_since) <= as_of);
            if (validate_credit_code("employer", t.employer, &e)) fail_msg("%s", e.en);
        }
        if (t.previous_employer[0]) {
            moved++;
            assert_string_not_equal(t.previous_employer, t.employer);
            assert_true(day(t.previous_since) < day(t.employed_since));
            assert_true(day(t.previous_since) >= grad);
        }
        assert_true(!strcmp(t.owns_housing, "是") || !strcmp(t.owns_housing, "否"));
    }
    expect_unique("ID number", ids, N);
    expect_unique("mobile", phones, nphones);
    expect_unique("card", cards, ncards);
    /* Shares of a district, with room for chance. */
    assert_int_equal(foreign, N / 200);
    assert_in_range(unemployed, N * 4 / 100, N * 8 / 100);
    assert_in_range(moved, N * 10 / 100, N * 25 / 100);
    assert_in_range(shanghai, N * 25 / 100, N * 60 / 100);
    assert_in_range(women, N * 40 / 100, N * 60 / 100);
    assert_in_range(levels, N * 20 / 100, N * 45 / 100);
    assert_in_range(nphones, N * 95 / 100, N * 99 / 100);
    assert_in_range(ncards, N * 85 / 100, N * 95 / 100);
    for (int64_t i = 0; i < ne; i++) free(codes[i]);
    for (size_t i = 0; i < N; i++) free(ids[i]);
    for (size_t i = 0; i < nphones; i++) free(phones[i]);
    for (size_t i = 0; i < ncards; i++) free(cards[i]);
    free(codes), free(ids), free(phones), free(cards);
    demo_close(d);
}

/* With applicants, the first ones are people the shipped district policy
 * takes once they have a filed lease: each record, turned into the facts
 * the registry would give on the review day of the bulk subsidies, passes
 * every criterion of policies/district-rent.policy and lands in the tier of
 * its level. Every ID number of the district has a birth date from the
 * applicants' window, and the numbers stay valid and unique. */
static void test_applicants(void **state)
{
    (void)state;
    enum { N = 20000, A = 15000 };
    struct demo_params p = {.seed = 5, .people = N, .applicants = A};
    demo *d = NULL;
    ql_err e = {0};
    assert_int_equal(demo_open(&p, &d, &e), 0);
    size_t len;
    char *text = tu_slurp("policies/district-rent.policy", &len);
    assert_non_null(text);
    pol_programme prog;
    if (pol_parse(text, len, "district-rent.policy", &prog, &e)) fail_msg("%s", e.en);
    free(text);
    int32_t review = day(DEMO_BULK_REVIEWED), as_of = day(DEMO_AS_OF);
    const pol_version *v = pol_version_on(&prog, review);
    assert_non_null(v);
    int64_t ne = demo_employer_count(d);
    char **ids = calloc(N, sizeof *ids);
    int64_t by_level[3] = {0}, taken = 0;
    for (int64_t i = 0; i < N; i++) {
        struct demo_talent t;
        demo_talent(d, i, &t);
        struct id_info info;
        if (validate_id_number("id_number", t.id_number, date_today(), &info, &e))
            fail_msg("talent %lld: %s: %s", (long long)i, t.id_number, e.en);
        ids[i] = strdup(t.id_number);
        assert_true(info.birth >= day("1983-01-01") && info.birth <= day("2002-06-30"));
        /* the registry's facts on the review day, with a filed lease */
        int y, m, dd, ry, rm, rd;
        date_to_ymd(info.birth, &y, &m, &dd);
        date_to_ymd(review, &ry, &rm, &rd);
        pol_facts f;
        pol_facts_clear(&f);
        static const char *const edu_zh[] = {"其他", "本科", "硕士", "博士"};
        static const char *const edu[] = {"other", "bachelor", "master", "doctor"};
        for (int k = 0; k < 4; k++)
            if (!strcmp(t.education, edu_zh[k]))
                f.v[F_EDUCATION] = pol_enum_find(PE_DEGREE, edu[k], strlen(edu[k]));
        f.v[F_AGE] = ry - y - (rm < m || (rm == m && rd < dd));
        f.v[F_LEVEL] =
            t.level[0] ? pol_enum_find(PE_LEVEL, t.level, 1) : pol_enum_find(PE_LEVEL, "none", 4);
        int64_t emp = -1;
        for (int64_t k = 0; t.employer[0] && k < ne && emp < 0; k++)
            if (!strcmp(demo_employer(d, k)->credit_code, t.employer)) emp = k;
        f.v[F_EMPLOYED] = emp >= 0 && day(t.employed_since) <= review;
        f.v[F_EMPLOYER_REGISTERED] = emp >= 0 && !strcmp(demo_employer(d, emp)->registered, "是");
        f.v[F_INSURANCE_MONTHS] = strtol(t.insurance_months, NULL, 10);
        f.v[F_OWNS_HOUSING] = !strcmp(t.owns_housing, "是");
        f.v[F_LEASE_ACTIVE] = 1;
        f.v[F_LEASE_FILED] = 1;
        f.v[F_RENT] = 500000;
        int failed = -1, tier = pol_match(&prog, v, &f, &failed);
        if (i >= A) {
            taken += tier >= 0;
            continue;
        }
        if (tier < 0)
            fail_msg("applicant %lld fails %s (%s, age %lld, level '%s', insurance %s)",
                     (long long)i, failed >= 0 ? v->crit[failed].id : "every tier", t.education,
                     (long long)f.v[F_AGE], t.level, t.insurance_months);
        assert_string_equal(v->tier[tier].id, t.level);
        by_level[t.level[0] - 'A']++;
        assert_string_equal(t.category, "光启人才");
        assert_true(day(t.graduation_date) <= as_of - 200);
        assert_true(day(t.graduation_date) - info.birth >= 18 * 365);
        assert_true(day(t.employed_since) >= day(t.graduation_date));
        assert_string_equal(t.previous_employer, "");
        int luhn = 0;
        if (validate_bank_card("bank_account", t.bank_account, &luhn, &e)) fail_msg("%s", e.en);
        assert_true(luhn);
    }
    expect_unique("ID number", ids, N);
    /* every tier has people; the rest of the district is not tailored */
    for (int k = 0; k < 3; k++) assert_true(by_level[k] > A / 20);
    assert_true(taken < (N - A) / 2);
    for (size_t i = 0; i < N; i++) free(ids[i]);
    free(ids);
    pol_free(&prog);
    demo_close(d);
    /* more applicants than people */
    struct demo_params bad = {.seed = 5, .people = 10, .applicants = 11};
    assert_int_equal(demo_open(&bad, &d, &e), QL_EINVAL);
    assert_string_equal(e.field, "applicants");
    bad.applicants = -1;
    assert_int_equal(demo_open(&bad, &d, &e), QL_EINVAL);
}

/* At the most employers the generator makes, codes and names stay unique. */
static void test_most_employers_unique(void **state)
{
    (void)state;
    demo *d = open_demo(99, 0, DEMO_EMPLOYERS_MAX);
    size_t n = (size_t)demo_employer_count(d);
    assert_int_equal(n, DEMO_EMPLOYERS_MAX);
    char **codes = calloc(n, sizeof *codes), **names = calloc(n, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        ql_err e;
        const struct demo_employer *em = demo_employer(d, (int64_t)i);
        if (validate_credit_code("credit_code", em->credit_code, &e)) fail_msg("%s", e.en);
        codes[i] = strdup(em->credit_code);
        names[i] = strdup(em->name);
    }
    expect_unique("credit code", codes, n);
    expect_unique("employer name", names, n);
    for (size_t i = 0; i < n; i++) free(codes[i]), free(names[i]);
    free(codes), free(names);
    demo_close(d);
}

/* ---- housing ------------------------------------------------------------ */

static int64_t money(const char *yuan)
{
    int64_t fen = 0;
    ql_err e;
    if (validate_money("money", yuan, &fen, &e)) fail_msg("'%s': %s", yuan, e.en);
    return fen;
}

static const char *const xuhui_roads[] = {"钦州北路", "虹漕路", "田林路", "龙华中路", "华泾路"};

static void test_housing_rules(void **state)
{
    (void)state;
    enum { N = 40000 };
    demo *d = open_demo(4242, N, 0);
    int32_t as_of = day(DEMO_AS_OF);
    ql_err e;

    /* Operators: valid, unique codes and credit codes, none an employer's. */
    int64_t no = demo_operator_count(d);
    assert_int_equal(no, 3);
    assert_string_equal(demo_operator(d, 0)->code, DEMO_ANCHOR_OPERATOR_CODE);
    size_t ncodes = (size_t)(no + demo_employer_count(d));
    char **codes = calloc(ncodes, sizeof *codes), **opcodes = calloc((size_t)no, sizeof *opcodes);
    for (int64_t i = 0; i < no; i++) {
        const struct demo_operator *o = demo_operator(d, i);
        expect_gb32100(o->credit_code);
        if (validate_credit_code("credit_code", o->credit_code, &e)) fail_msg("%s", e.en);
        codes[i] = strdup(o->credit_code);
        opcodes[i] = strdup(o->code);
        assert_true(has_non_ascii(o->name) && has_non_ascii(o->contact_name));
        if (validate_name("name", o->name, &e) ||
            validate_name("contact_name", o->contact_name, &e))
            fail_msg("operator %s: %s", o->name, e.en);
        assert_int_equal(strlen(o->contact_phone), 12); /* 021-NNNNNNNN */
        assert_memory_equal(o->contact_phone, "021-", 4);
    }
    for (int64_t i = 0; i < demo_employer_count(d); i++)
        codes[no + i] = strdup(demo_employer(d, i)->credit_code);
    expect_unique("credit code of an operator or employer", codes, ncodes);
    expect_unique("operator code", opcodes, (size_t)no);

    /* Units: one per 16 talents, unique addresses and verification codes,
     * areas and rents of Shanghai. */
    int64_t nu = demo_unit_count(d);
    assert_int_equal(nu, N / 16);
    char **addresses = calloc((size_t)nu, sizeof *addresses), **vcodes = calloc((size_t)nu, sizeof *vcodes);
    size_t nv = 0;
    int64_t per_operator[3] = {0}, listed = 0, drafts = 0, withdrawn = 0, kinds[3] = {0};
    int64_t let_now = 0, with_history = 0, nleases = 0, terminated = 0, filed = 0, late = 0;
    int xuhui = 0, named_road = 0;
    int64_t *tenants = calloc((size_t)N, sizeof *tenants);
    size_t ntenants = 0;
    char **filings = calloc((size_t)nu * DEMO_UNIT_LEASES_MAX, sizeof *filings);
    size_t nfilings = 0;
    for (int64_t i = 0; i < nu; i++) {
        struct demo_unit u;
        demo_unit(d, i, &u);
        assert_in_range(u.operator_index, 0, no - 1);
        per_operator[u.operator_index]++;
        addresses[i] = strdup(u.address);
        if (validate_text_line("address", u.address, &e) ||
            validate_text_line("community", u.community, &e))
            fail_msg("unit %s: %s", u.address, e.en);
        assert_memory_equal(u.address, "上海市", strlen("上海市"));
        assert_non_null(strstr(u.address, u.district));
        xuhui += !strcmp(u.district, "徐汇区");
        for (size_t k = 0; k < sizeof xuhui_roads / sizeof xuhui_roads[0]; k++)
            named_road += strstr(u.address, xuhui_roads[k]) != NULL;
        int kind = !strcmp(u.kind, "人才公寓") ? 0 : !strcmp(u.kind, "保障性租赁住房") ? 1 : 2;
        if (kind == 2) assert_string_equal(u.kind, "市场化租赁住房");
        kinds[kind]++;
        if (u.operator_index == 0) assert_int_not_equal(kind, 2); /* the talent-apartment operator */
        /* Area by rooms, and rent per m² a month as Shanghai lets it in 2025. */
        int64_t area = 0;
        if (validate_area("area", u.area, &area, &e)) fail_msg("%s: %s", u.area, e.en);
        long rooms = strtol(u.rooms, NULL, 10);
        assert_in_range(rooms, 0, 3);
        static const int64_t lo[] = {2200, 3500, 5500, 9500}, hi[] = {3800, 7000, 10000, 14000};
        assert_in_range(area, lo[rooms], hi[rooms]);
        int64_t rent = money(u.rent), per_m2 = rent * 100 / area; /* fen per m² */
        if (kind == 2 && !strcmp(u.district, "徐汇区")) assert_in_range(per_m2, 11500, 19000);
        if (kind == 2 && !strcmp(u.district, "闵行区")) assert_in_range(per_m2, 7500, 12500);
        if (kind == 0) assert_in_range(per_m2, 5500, 14000);
        if (kind == 1) assert_in_range(per_m2, 5000, 13000);
        assert_int_equal(rent % 1000, 0); /* whole tens of yuan */
        /* Status, and the verification code a listing needs. */
        if (!strcmp(u.status, "已发布")) {
            listed++;
            assert_true(u.verification_code[0]);
        } else if (!strcmp(u.status, "草稿")) {
            drafts++;
        } else {
            assert_string_equal(u.status, "已下架");
            withdrawn++;
        }
        if (u.verification_code[0]) {
            assert_int_equal(strlen(u.verification_code), 16);
            vcodes[nv++] = strdup(u.verification_code);
        }

        /* Leases: oldest first, none overlapping the next, all but the
         * last ended, each tenant an employed talent without housing. */
        struct demo_lease l[DEMO_UNIT_LEASES_MAX];
        int n = demo_unit_leases(d, i, l);
        if (strcmp(u.status, "已发布") != 0) assert_int_equal(n, 0);
        nleases += n;
        if (n > 1 || (n == 1 && l[0].ended_on[0])) with_history++;
        int32_t previous_end = INT32_MIN;
        for (int k = 0; k < n; k++) {
            int32_t start = day(l[k].start_date), end = day(l[k].end_date);
            int32_t signed_on = day(l[k].signed_date);
            assert_true(start < end);
            assert_true(end - start < 3 * 366 + 1); /* at most 36 months */
            assert_true(signed_on <= start && start - signed_on < 30);
            assert_true(signed_on <= as_of);
            int32_t last = l[k].ended_on[0] ? day(l[k].ended_on) : end;
            assert_true(start > previous_end); /* no overlap with the lease before */
            previous_end = last;
            if (l[k].ended_on[0]) {
                assert_true(last >= start && last <= end && last <= as_of);
                assert_non_null(l[k].end_reason);
                if (last < end) terminated++;
                else assert_string_equal(l[k].end_reason, "租期届满");
            } else {
                assert_int_equal(k, n - 1);
                assert_null(l[k].end_reason);
                assert_true(start <= as_of && end > as_of); /* in force on DEMO_AS_OF */
                let_now++;
            }
            /* Rent: the unit's, a little less for earlier leases; deposit 1-2 months. */
            int64_t lr = money(l[k].rent), dep = money(l[k].deposit);
            assert_true(lr <= rent && lr >= rent * 85 / 100);
            assert_true(dep == lr || (dep == 2 * lr && kind == 2));
            /* Filing: number and date together, not before signing. */
            assert_int_equal(l[k].filing_no[0] != 0, l[k].filed_date[0] != 0);
            if (l[k].filing_no[0]) {
                filed++;
                int32_t f = day(l[k].filed_date);
                assert_true(f >= signed_on && f <= as_of);
                late += f - signed_on > 30;
                filings[nfilings++] = strdup(l[k].filing_no);
            }
            /* The tenant. */
            struct demo_talent t;
            demo_talent(d, l[k].tenant, &t);
            assert_string_equal(l[k].tenant_id_number, t.id_number);
            assert_true(t.employer[0]);
            assert_string_equal(t.owns_housing, "否");
            tenants[ntenants++] = l[k].tenant;
        }
    }
    assert_int_equal(nleases, demo_lease_count(d));
    expect_unique("address", addresses, (size_t)nu);
    expect_unique("verification code", vcodes, nv);
    expect_unique("filing number", filings, nfilings);
    /* Each talent rents one home at most. */
    char **tnames = calloc(ntenants + 1, sizeof *tnames);
    for (size_t k = 0; k < ntenants; k++) {
        char b[24];
        snprintf(b, sizeof b, "%lld", (long long)tenants[k]);
        tnames[k] = strdup(b);
    }
    expect_unique("tenant", tnames, ntenants);
    /* Shares, with room for chance. */
    for (int k = 0; k < 3; k++) assert_true(per_operator[k] > 0 && kinds[k] > 0);
    assert_in_range(listed, nu * 88 / 100, nu * 96 / 100);
    assert_in_range(drafts, nu * 2 / 100, nu * 8 / 100);
    assert_in_range(withdrawn, nu * 1 / 100, nu * 6 / 100);
    assert_in_range(let_now, listed * 75 / 100, listed * 85 / 100);
    assert_in_range(with_history, listed * 40 / 100, listed * 60 / 100);
    assert_true(terminated > 0 && late > 0 && filed < nleases);
    assert_in_range(filed, nleases * 82 / 100, nleases * 94 / 100);
    assert_in_range(xuhui, nu * 65 / 100, nu * 95 / 100);
    assert_true(named_road > 0);

    for (size_t k = 0; k < ncodes; k++) free(codes[k]);
    for (int64_t k = 0; k < no; k++) free(opcodes[k]);
    for (int64_t k = 0; k < nu; k++) free(addresses[k]);
    for (size_t k = 0; k < nv; k++) free(vcodes[k]);
    for (size_t k = 0; k < nfilings; k++) free(filings[k]);
    for (size_t k = 0; k < ntenants; k++) free(tnames[k]);
    free(codes), free(opcodes), free(addresses), free(vcodes), free(filings), free(tnames),
        free(tenants);
    demo_close(d);
}

/* Fewer tenants than planned leases (a tiny district): the leases stop,
 * none without a tenant; no talents, no units. */
static void test_housing_small(void **state)
{
    (void)state;
    demo *d = open_demo(9, 0, 0);
    assert_int_equal(demo_operator_count(d), 3);
    assert_int_equal(demo_unit_count(d), 0);
    assert_int_equal(demo_lease_count(d), 0);
    demo_close(d);
    d = open_demo(9, 40, 0);
    assert_int_equal(demo_unit_count(d), 2);
    int64_t n = 0;
    for (int64_t i = 0; i < demo_unit_count(d); i++) {
        struct demo_lease l[DEMO_UNIT_LEASES_MAX];
        int k = demo_unit_leases(d, i, l);
        for (int j = 0; j < k; j++) assert_in_range(l[j].tenant, 0, 39);
        n += k;
    }
    assert_int_equal(n, demo_lease_count(d));
    demo_close(d);
    /* More operators for a larger district (at most DEMO_OPERATORS_MAX:
     * test_bad_params). */
    d = open_demo(9, 120000, 0);
    assert_int_equal(demo_operator_count(d), 5);
    demo_close(d);
}

static void expect_param_error(int64_t people, int64_t employers, const char *field)
{
    struct demo_params p = {.seed = 1, .people = people, .employers = employers};
    demo *d = NULL;
    ql_err err = {0};
    assert_int_equal(demo_open(&p, &d, &err), QL_EINVAL);
    assert_null(d);
    assert_string_equal(err.field, field);
    assert_true(err.en[0] && has_non_ascii(err.zh));
}

static void test_bad_params(void **state)
{
    (void)state;
    expect_param_error(-1, 0, "people");
    expect_param_error(DEMO_PEOPLE_MAX + 1, 0, "people");
    expect_param_error(10, -1, "employers");
    expect_param_error(10, DEMO_EMPLOYERS_MAX + 1, "employers");
    /* The edges are accepted. */
    demo *d = open_demo(1, 0, 1);
    assert_int_equal(demo_people(d), 0);
    assert_int_equal(demo_employer_count(d), 1);
    demo_close(d);
    d = open_demo(1, DEMO_PEOPLE_MAX, 0);
    assert_int_equal(demo_employer_count(d), DEMO_EMPLOYERS_MAX); /* one per 100, capped */
    assert_int_equal(demo_operator_count(d), DEMO_OPERATORS_MAX);
    assert_int_equal(demo_unit_count(d), DEMO_PEOPLE_MAX / 16);
    /* The last talent of the largest district is as valid as the first. */
    struct demo_talent t;
    demo_talent(d, DEMO_PEOPLE_MAX - 1, &t);
    ql_err e;
    if (validate_id_number("id_number", t.id_number, date_today(), NULL, &e)) fail_msg("%s", e.en);
    demo_close(d);
    d = open_demo(1, 5, 0);
    assert_int_equal(demo_employer_count(d), 10); /* at least 10 */
    demo_close(d);
}

/* The CSV header rows are the import templates' (registry/import.c). */
static void test_csv_columns_are_the_templates(void **state)
{
    (void)state;
    demo *d = open_demo(3, 2, 0);
    size_t el, tl;
    char *tal;
    char *emp = write_csv(d, "csv-columns", &el, &tal, &tl);
    const enum import_kind kinds[] = {IMPORT_EMPLOYERS, IMPORT_TALENTS};
    const char *files[] = {emp, tal};
    for (int k = 0; k < 2; k++) {
        const char *tpl = import_template(kinds[k]);
        size_t line = (size_t)(strstr(tpl, "\r\n") - tpl) + 2; /* BOM and header row */
        assert_memory_equal(files[k], tpl, line);
    }
    /* three lines: header, two talents; CRLF line ends */
    assert_non_null(strstr(tal, "\r\n"));
    int lines = 0;
    for (const char *c = tal; *c; c++) lines += *c == '\n';
    assert_int_equal(lines, 3);
    free(emp), free(tal);

    /* A directory that cannot be written: QL_EIO naming the file. */
    ql_err err = {0};
    assert_int_equal(demo_write_csv(d, "/nonexistent/dir", NULL, NULL, &err), QL_EIO);
    assert_string_equal(err.field, "csv");
    assert_non_null(strstr(err.en, "/nonexistent/dir/employers.csv"));
    assert_true(has_non_ascii(err.zh));
    demo_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_checks),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_every_number_valid_and_unique),
        cmocka_unit_test(test_applicants),
        cmocka_unit_test(test_most_employers_unique),
        cmocka_unit_test(test_housing_rules),
        cmocka_unit_test(test_housing_small),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_csv_columns_are_the_templates),
    };
    return cmocka_run_group_tests_name("demo", tests, NULL, NULL);
}
