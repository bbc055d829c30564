/* test_calendar.c - the working-day calendar: data/calendar/2026.txt parses
 * to the State Council's 2026 notice, hand-checked working-day answers, an
 * unloaded year is an error (never weekday arithmetic), and every malformed
 * line is reported with its line and column. Run from the repository root. */
#include "testutil.h"

#include "core/calendar.h"
#include "core/date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static calendar CAL;
static cal_year Y2026;

static int32_t D(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

static int setup(void **state)
{
    (void)state;
    size_t len;
    char *buf = tu_slurp("data/calendar/2026.txt", &len);
    if (!buf) {
        print_error("data/calendar/2026.txt not found (run from the repository root)\n");
        return -1;
    }
    ql_err err = {0};
    int rc = cal_year_parse(buf, len, "data/calendar/2026.txt", &Y2026, &err);
    free(buf);
    if (rc) {
        print_error("parse: %s\n", err.en);
        return -1;
    }
    calendar_init(&CAL);
    return calendar_add(&CAL, &Y2026, &err);
}

static int teardown(void **state)
{
    (void)state;
    calendar_free(&CAL);
    return 0;
}

static int is_work(int32_t day)
{
    int w = -1;
    ql_err err;
    int rc = calendar_is_workday(&CAL, day, &w, &err);
    if (rc) fail_msg("is_workday: %s", err.en);
    return w;
}

static int32_t plus(int32_t day, int n)
{
    int32_t out = 0;
    ql_err err;
    int rc = calendar_add_workdays(&CAL, day, n, &out, &err);
    if (rc) fail_msg("add_workdays: %s", err.en);
    return out;
}

/* The file holds exactly the notice: 33 days off, 6 weekend days worked. */
static void test_2026_file(void **state)
{
    (void)state;
    assert_int_equal(Y2026.year, 2026);
    assert_int_equal(Y2026.ndays, 365);
    int off, work;
    cal_year_counts(&Y2026, &off, &work);
    /* 3 + 9 + 3 + 5 + 3 + 3 + 7 */
    assert_int_equal(off, 33);
    assert_int_equal(work, 6);
    static const int offs[][3] = {{1, 1, 3},   {2, 15, 23}, {4, 4, 6}, {5, 1, 5},
                                  {6, 19, 21}, {9, 25, 27}, {10, 1, 7}};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
        for (int d = offs[i][1]; d <= offs[i][2]; d++) {
            assert_int_equal(cal_year_kind(&Y2026, D(2026, offs[i][0], d)), CAL_OFF);
            assert_int_equal(is_work(D(2026, offs[i][0], d)), 0);
        }
    static const int works[][2] = {{1, 4}, {2, 14}, {2, 28}, {5, 9}, {9, 20}, {10, 10}};
    for (size_t i = 0; i < sizeof works / sizeof works[0]; i++) {
        int32_t d = D(2026, works[i][0], works[i][1]);
        assert_int_equal(cal_year_kind(&Y2026, d), CAL_WORK);
        assert_true(cal_is_weekend(d));
        assert_int_equal(is_work(d), 1);
    }
    assert_string_equal(Y2026.name[D(2026, 2, 15) - Y2026.first], "春节");
    assert_string_equal(Y2026.name[D(2026, 10, 10) - Y2026.first], "国庆节调休");
    /* 365 days, 104 of them Saturdays and Sundays (2026 starts on a Thursday:
     * 52 full weeks and Thursday Dec 31): 261 weekdays. Weekend days inside
     * the holidays: Jan 3; Feb 15, 21, 22; Apr 4, 5; May 2, 3; Jun 20, 21;
     * Sep 26, 27; Oct 3, 4 = 14, so 33 - 14 = 19 weekday holidays.
     * Working days = 261 - 19 + 6 make-up days = 248. */
    int n;
    ql_err err;
    assert_int_equal(calendar_count_workdays(&CAL, D(2025, 12, 31), D(2026, 12, 31), &n, &err), 0);
    assert_int_equal(n, 248);
    /* From Dec 30 the range (Dec 30, ...] includes Dec 31 2025: not loaded. */
    assert_int_equal(calendar_count_workdays(&CAL, D(2025, 12, 30), D(2026, 12, 31), &n, &err),
                     QL_ENOTFOUND);
}

static void test_hand_checked(void **state)
{
    (void)state;
    /* Wednesday Sep 30 + 1: Oct 1-7 off, Oct 8 (Thursday) works. */
    assert_int_equal(plus(D(2026, 9, 30), 1), D(2026, 10, 8));
    /* Saturday Sep 19 is an ordinary weekend; Sunday Sep 20 is worked. */
    assert_int_equal(is_work(D(2026, 9, 19)), 0);
    assert_int_equal(is_work(D(2026, 9, 20)), 1);
    /* Friday Feb 13 + 1 = Saturday Feb 14, a make-up working day. */
    assert_int_equal(plus(D(2026, 2, 13), 1), D(2026, 2, 14));
    /* Feb 14 + 1: Feb 15-23 off, so Tuesday Feb 24. */
    assert_int_equal(plus(D(2026, 2, 14), 1), D(2026, 2, 24));
    /* 5 working days after Thursday Apr 30: May 1-5 (Fri-Tue) are off; then
     * May 6 Wed (1), May 7 Thu (2), May 8 Fri (3), May 9 Sat worked (4),
     * May 10 Sun off, May 11 Mon (5). So May 11, not May 12. */
    assert_int_equal(plus(D(2026, 4, 30), 5), D(2026, 5, 11));
    assert_int_equal(plus(D(2026, 4, 30), 4), D(2026, 5, 9));
    /* The start day is not counted even when it is a day off. */
    assert_int_equal(plus(D(2026, 5, 1), 1), D(2026, 5, 6));
    /* Plain weeks: Monday Mar 2 + 5 = Monday Mar 9. */
    assert_int_equal(plus(D(2026, 3, 2), 5), D(2026, 3, 9));
    /* Jan 1-3 off and Sunday Jan 4 worked: Dec 31 2025 is not loaded, but
     * counting from Dec 31 only looks at 2026. */
    assert_int_equal(plus(D(2025, 12, 31), 1), D(2026, 1, 4));
    /* Count and add agree: (Apr 30, May 11] has 5 working days. */
    int n;
    ql_err err;
    assert_int_equal(calendar_count_workdays(&CAL, D(2026, 4, 30), D(2026, 5, 11), &n, &err), 0);
    assert_int_equal(n, 5);
    assert_int_equal(calendar_count_workdays(&CAL, D(2026, 9, 30), D(2026, 10, 7), &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(calendar_count_workdays(&CAL, D(2026, 5, 11), D(2026, 5, 11), &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(calendar_count_workdays(&CAL, D(2026, 5, 11), D(2026, 4, 30), &n, &err),
                     QL_EINVAL);
}

/* 2027 is not loaded: every question about it is an error, not a guess. */
static void test_unloaded_year(void **state)
{
    (void)state;
    int w = 7;
    int32_t out = 7;
    ql_err err;
    /* Monday 2027-03-01 would be a working day by weekday arithmetic. */
    assert_int_equal(calendar_is_workday(&CAL, D(2027, 3, 1), &w, &err), QL_ENOTFOUND);
    assert_int_equal(w, 7);
    assert_non_null(strstr(err.en, "2027"));
    assert_non_null(strstr(err.zh, "2027"));
    /* Thursday Dec 31 2026 + 1 needs 2027. */
    assert_int_equal(calendar_add_workdays(&CAL, D(2026, 12, 31), 1, &out, &err), QL_ENOTFOUND);
    assert_int_equal(out, 7);
    assert_int_equal(calendar_add_workdays(&CAL, D(2026, 12, 30), 2, &out, &err), QL_ENOTFOUND);
    assert_int_equal(calendar_add_workdays(&CAL, D(2026, 12, 30), 1, &out, &err), 0);
    assert_int_equal(out, D(2026, 12, 31));
    int n;
    assert_int_equal(calendar_count_workdays(&CAL, D(2026, 12, 1), D(2027, 1, 5), &n, &err),
                     QL_ENOTFOUND);
    assert_int_equal(calendar_is_workday(&CAL, D(2025, 12, 31), &w, &err), QL_ENOTFOUND);
    /* An empty calendar knows nothing. */
    calendar empty;
    calendar_init(&empty);
    assert_int_equal(calendar_is_workday(&empty, D(2026, 3, 2), &w, &err), QL_ENOTFOUND);
    calendar_free(&empty);
    /* The ends of the day numbers are not loaded either (and do not overflow). */
    assert_int_equal(calendar_add_workdays(&CAL, INT32_MAX, 1, &out, &err), QL_ENOTFOUND);
    assert_int_equal(calendar_add_workdays(&CAL, INT32_MAX - 1, 1, &out, &err), QL_ENOTFOUND);
    assert_int_equal(calendar_count_workdays(&CAL, INT32_MAX, INT32_MAX, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(calendar_count_workdays(&CAL, INT32_MIN, D(2026, 1, 1), &n, &err),
                     QL_ENOTFOUND);
    assert_int_equal(calendar_is_workday(&CAL, INT32_MIN, &w, &err), QL_ENOTFOUND);
    /* Bad counts. */
    assert_int_equal(calendar_add_workdays(&CAL, D(2026, 3, 2), 0, &out, &err), QL_EINVAL);
    assert_int_equal(calendar_add_workdays(&CAL, D(2026, 3, 2), -3, &out, &err), QL_EINVAL);
    assert_int_equal(calendar_add_workdays(&CAL, D(2026, 3, 2), CAL_ADD_MAX + 1, &out, &err),
                     QL_EINVAL);
}

/* Two loaded years are crossed; adding a year again replaces it. */
static void test_two_years(void **state)
{
    (void)state;
    const char *f = "year 2027\noff 2027-01-01 元旦\n";
    cal_year y;
    ql_err err;
    assert_int_equal(cal_year_parse(f, strlen(f), "2027.txt", &y, &err), 0);
    calendar c;
    calendar_init(&c);
    assert_int_equal(calendar_add(&c, &Y2026, &err), 0);
    assert_int_equal(calendar_add(&c, &y, &err), 0);
    int32_t out;
    /* Thu Dec 31 2026 + 1: Fri Jan 1 2027 off, weekend, Monday Jan 4. */
    assert_int_equal(calendar_add_workdays(&c, D(2026, 12, 31), 1, &out, &err), 0);
    assert_int_equal(out, D(2027, 1, 4));
    const char *f2 = "year 2027\n";
    assert_int_equal(cal_year_parse(f2, strlen(f2), "2027.txt", &y, &err), 0);
    assert_int_equal(calendar_add(&c, &y, &err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(calendar_add_workdays(&c, D(2026, 12, 31), 1, &out, &err), 0);
    assert_int_equal(out, D(2027, 1, 1));
    calendar_free(&c);
    assert_int_equal(c.n, 0);
}

/* Good variations: CRLF, BOM, tabs, comments, a single weekday off. */
static void test_parse_variants(void **state)
{
    (void)state;
    const char *f = "\xEF\xBB\xBF# c\r\n\r\n  year\t2026  \r\n\toff 2026-03-02 某节 日 \r\n"
                    "  # indented comment\nwork 2026-03-07 调休";
    cal_year y;
    ql_err err;
    assert_int_equal(cal_year_parse(f, strlen(f), "v.txt", &y, &err), 0);
    assert_int_equal(cal_year_kind(&y, D(2026, 3, 2)), CAL_OFF);
    assert_string_equal(y.name[D(2026, 3, 2) - y.first], "某节 日");
    assert_int_equal(cal_year_kind(&y, D(2026, 3, 7)), CAL_WORK);
    assert_int_equal(cal_year_kind(&y, D(2026, 3, 3)), CAL_NORMAL);
    /* A leap year has 366 days. */
    const char *g = "year 2028\noff 2028-12-29 2028-12-31 x\n";
    assert_int_equal(cal_year_parse(g, strlen(g), "g.txt", &y, &err), 0);
    assert_int_equal(y.ndays, 366);
    assert_int_equal(cal_year_kind(&y, D(2028, 12, 31)), CAL_OFF);
}

struct bad {
    const char *text;
    int line, col;
    const char *en; /* a part of the English message */
};

static void test_malformed(void **state)
{
    (void)state;
    static const struct bad bad[] = {
        {"off 2026-01-01 元旦\n", 1, 1, "must come before"},
        {"year 2026\nyear 2026\n", 2, 1, "declared twice"},
        {"year 26\n", 1, 6, "four digits"},
        {"year 20x6\n", 1, 6, "four digits"},
        {"year 1800\n", 1, 6, "1900"},
        {"year 2026 extra\n", 1, 11, "unexpected"},
        {"year 2026\nholiday 2026-01-01 x\n", 2, 1, "unknown statement"},
        {"year 2026\noff\n", 2, 4, "missing"},
        {"year 2026\noff 2026-1-1 元旦\n", 2, 5, "not a date"},
        {"year 2026\noff 2026-02-30 x\n", 2, 5, "not a date"},
        {"year 2026\noff 2025-12-31 x\n", 2, 5, "outside the declared year 2026"},
        {"year 2026\noff 2026-12-31 2027-01-01 x\n", 2, 16, "outside the declared year"},
        {"year 2026\noff 2026-01-03 2026-01-01 元旦\n", 2, 16, "ends before it starts"},
        {"year 2026\noff 2026-01-01 2026-03-01 x\n", 2, 16, "at most 31"},
        {"year 2026\noff 2026-01-01\n", 2, 15, "name is missing"},
        {"year 2026\nwork 2026-01-05   \n", 2, 19, "name is missing"},
        {"year 2026\n# ok\n\noff 2026-01-01 2026-01-03 元旦\nwork 2026-01-05 调休\n", 5, 6,
         "Monday to Friday"},
        {"year 2026\noff 2026-01-03 元旦\n", 2, 5, "Saturday or Sunday"},
        {"year 2026\noff 2026-01-03 2026-01-04 元旦\n", 2, 5, "every day of this range"},
        {"year 2026\noff 2026-01-01 2026-01-03 元旦\noff 2026-01-02 x\n", 3, 5, "already listed"},
        {"year 2026\noff 2026-01-01 2026-01-05 元旦\nwork 2026-01-04 调休\n", 3, 6,
         "already listed as off"},
        {"year 2026\nwork 2026-01-04 调休\noff 2026-01-01 2026-01-04 元旦\n", 3, 16,
         "already listed as work"},
        {"year 2026\nwork 2026-01-04 a\nwork 2026-01-04 b\n", 3, 6, "already listed"},
        {"year 2026\noff 2026-01-01 元旦\x01\n", 2, 18, "control character"},
        {"year 2026\noff 2026-01-01 \xff\n", 2, 1, "not valid UTF-8"},
        {"year 2026\noff 2026-01-01 "
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
         2, 16, "longer than"},
        {"# nothing\n", 1, 1, "no 'year YYYY' line"},
        {"", 1, 1, "no 'year YYYY' line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cal_year y;
        ql_err err = {0};
        int rc = cal_year_parse(bad[i].text, strlen(bad[i].text), "bad.txt", &y, &err);
        if (rc != QL_EINVAL) fail_msg("case %zu: rc %d, want QL_EINVAL", i, rc);
        char want[64];
        snprintf(want, sizeof want, "bad.txt:%d:%d: ", bad[i].line, bad[i].col);
        if (strncmp(err.en, want, strlen(want)) || !strstr(err.en, bad[i].en))
            fail_msg("case %zu: got '%s', want '%s...%s'", i, err.en, want, bad[i].en);
        snprintf(want, sizeof want, "bad.txt:%d:%d：", bad[i].line, bad[i].col);
        if (strncmp(err.zh, want, strlen(want)) || strlen(err.zh) <= strlen(want))
            fail_msg("case %zu: zh '%s'", i, err.zh);
        assert_string_equal(err.field, "calendar");
    }
    /* Over the size limit. */
    size_t big = CAL_FILE_MAX + 1;
    char *buf = malloc(big);
    assert_non_null(buf);
    memset(buf, '\n', big);
    cal_year y;
    ql_err err;
    assert_int_equal(cal_year_parse(buf, big, "big.txt", &y, &err), QL_ETOOBIG);
    free(buf);
    /* A buffer without a final NUL is read only to its length. */
    char exact[9];
    memcpy(exact, "year 202", 8);
    exact[8] = '6';
    assert_int_equal(cal_year_parse(exact, sizeof exact, "n.txt", &y, &err), 0);
    assert_int_equal(y.year, 2026);
}

static void test_set_and_init(void **state)
{
    (void)state;
    cal_year y;
    ql_err err;
    assert_int_equal(cal_year_init(&y, 1899, &err), QL_EINVAL);
    assert_int_equal(cal_year_init(&y, 2026, &err), 0);
    assert_int_equal(cal_year_set(&y, D(2026, 1, 1), CAL_OFF, "元旦", &err), 0);
    assert_int_equal(cal_year_set(&y, D(2027, 1, 1), CAL_OFF, "元旦", &err), QL_EINVAL);
    assert_int_equal(cal_year_set(&y, D(2026, 1, 2), CAL_NORMAL, "x", &err), QL_EINVAL);
    assert_int_equal(cal_year_set(&y, D(2026, 1, 2), CAL_OFF, "", &err), QL_EINVAL);
    assert_int_equal(cal_year_kind(&y, D(2026, 1, 1)), CAL_OFF);
    assert_int_equal(cal_year_kind(&y, D(2026, 1, 2)), CAL_NORMAL);
    assert_int_equal(cal_is_weekend(D(2026, 11, 29)), 1); /* a Sunday */
    assert_int_equal(cal_is_weekend(D(2026, 11, 30)), 0);
    assert_int_equal(cal_is_weekend(D(1969, 12, 27)), 1); /* a Saturday before day 0 */
    assert_int_equal(cal_is_weekend(D(1969, 12, 29)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2026_file),      cmocka_unit_test(test_hand_checked),
        cmocka_unit_test(test_unloaded_year),  cmocka_unit_test(test_two_years),
        cmocka_unit_test(test_parse_variants), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_set_and_init),
    };
    return cmocka_run_group_tests_name("calendar", tests, setup, teardown);
}
