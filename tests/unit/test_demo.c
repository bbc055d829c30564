/* test_demo.c - the demo district generator: the same seed gives the same
 * bytes, every number it makes passes the standards' checks, numbers and
 * names that must be unique are, the shares look like a district, and the
 * CSV files carry the import templates' columns. */
#include "testutil.h"

#include "core/date.h"
#include "core/validate.h"
#include "demo/demo.h"
#include "registry/import.h"

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

/* A digest of every field of every record. */
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
        codes[i] = strdup(em->credit_code);
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
        foreign += t.foreign;
        shanghai += !strncmp(t.id_number, "31", 2);
        women += info.female;
        ids[i] = strdup(t.id_number);
        assert_true(t.name[0] && has_non_ascii(t.name));
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
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_every_number_valid_and_unique),
        cmocka_unit_test(test_most_employers_unique),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_csv_columns_are_the_templates),
    };
    return cmocka_run_group_tests_name("demo", tests, NULL, NULL);
}
