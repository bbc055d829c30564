/* test_calendar.c - the working-day calendar in the store, on SQLite and
 * (with QL_TEST_PG) PostgreSQL: a year loads and reads back as parsed, a
 * reload replaces the whole year, a refused load changes nothing, each load
 * writes one calendar.load audit row, and only policy.manage may load. */
#include "fixtures.h"
#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "calendar/holidays.h"
#include "core/calendar.h"
#include "core/date.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *S;
static actor CLI;

static int setup(void **state)
{
    (void)state;
    if (!(S = fx_store())) return -1;
    actor_cli(&CLI);
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

static void parse(const char *text, cal_year *y)
{
    ql_err err;
    if (cal_year_parse(text, strlen(text), "t.txt", y, &err)) fail_msg("parse: %s", err.en);
}

static int load(const char *text, const char *source, cal_year *before,
                struct holidays_load_report *rep, ql_err *err)
{
    cal_year *y = malloc(sizeof *y);
    assert_non_null(y);
    parse(text, y);
    char digest[65];
    holidays_digest(text, strlen(text), digest);
    int rc = holidays_load(S, &CLI, y, source, digest, before, rep, err);
    free(y);
    return rc;
}

static void test_load_read_reload(void **state)
{
    (void)state;
    size_t len;
    char *file = tu_slurp("data/calendar/2026.txt", &len);
    assert_non_null(file);
    cal_year *want = malloc(sizeof *want), *got = malloc(sizeof *got),
             *before = malloc(sizeof *before);
    assert_non_null(want);
    assert_non_null(got);
    assert_non_null(before);
    parse(file, want);
    ql_err err = {0};
    assert_int_equal(holidays_read_year(S, 2026, got, &err), QL_ENOTFOUND);
    int64_t audit0 = count("SELECT count(*) FROM audit_log WHERE action = 'calendar.load'");
    assert_int_equal(audit0, 0);

    struct holidays_load_report rep;
    int rc = load(file, "data/calendar/2026.txt", before, &rep, &err);
    if (rc) fail_msg("load: %s", err.en);
    assert_int_equal(rep.replaced, 0);
    assert_int_equal(rep.unchanged, 0);
    assert_int_equal(rep.off, 33);
    assert_int_equal(rep.work, 6);
    assert_true(rep.audit_seq > 0);
    assert_int_equal(count("SELECT count(*) FROM calendar_days WHERE year = 2026"), 39);
    assert_int_equal(count("SELECT count(*) FROM calendar_days WHERE kind = 'work'"), 6);

    /* Read back: the same days and names as parsed. */
    assert_int_equal(holidays_read_year(S, 2026, got, &err), 0);
    for (int i = 0; i < want->ndays; i++) {
        assert_int_equal(got->kind[i], want->kind[i]);
        if (want->kind[i]) assert_string_equal(got->name[i], want->name[i]);
    }
    struct holidays_year_info info;
    assert_int_equal(holidays_year_info(S, 2026, &info, &err), 0);
    assert_string_equal(info.source, "data/calendar/2026.txt");
    char digest[65];
    holidays_digest(file, len, digest);
    assert_string_equal(info.digest, digest);
    assert_int_equal(info.off, 33);
    assert_int_equal(info.work, 6);
    assert_string_equal(info.loaded_by, CLI.username);

    /* The audit row of the load. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE seq = %lld AND action = 'calendar.load' AND "
             "object_type = 'calendar_year' AND object_id = '2026' AND before_digest = '' AND "
             "after_digest <> ''",
             (long long)rep.audit_seq);
    assert_int_equal(count(sql), 1);

    /* Working-day answers from the stored calendar. */
    calendar c;
    calendar_init(&c);
    assert_int_equal(holidays_read_all(S, &c, &err), 0);
    assert_int_equal(c.n, 1);
    int32_t out;
    assert_int_equal(calendar_add_workdays(&c, date_from_ymd(2026, 9, 30), 1, &out, &err), 0);
    assert_int_equal(out, date_from_ymd(2026, 10, 8));
    assert_int_equal(calendar_add_workdays(&c, date_from_ymd(2026, 12, 31), 1, &out, &err),
                     QL_ENOTFOUND);
    calendar_free(&c);

    /* The same file again: nothing changes, no audit row. */
    rc = load(file, "data/calendar/2026.txt", before, &rep, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(rep.replaced, 1);
    assert_int_equal(rep.unchanged, 1);
    assert_int_equal(rep.audit_seq, 0);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'calendar.load'"), 1);

    /* A different 2026: replaces the whole year (no day of the old is left). */
    const char *other = "year 2026\noff 2026-03-02 2026-03-03 测试\nwork 2026-03-07 测试调休\n";
    rc = load(other, "other.txt", before, &rep, &err);
    if (rc) fail_msg("reload: %s", err.en);
    assert_int_equal(rep.replaced, 1);
    assert_int_equal(rep.unchanged, 0);
    assert_int_equal(rep.off, 2);
    assert_int_equal(rep.work, 1);
    /* before is the year as it was. */
    for (int i = 0; i < want->ndays; i++) assert_int_equal(before->kind[i], want->kind[i]);
    assert_int_equal(count("SELECT count(*) FROM calendar_days"), 3);
    assert_int_equal(count("SELECT count(*) FROM calendar_years"), 1);
    assert_int_equal(holidays_read_year(S, 2026, got, &err), 0);
    assert_int_equal(cal_year_kind(got, date_from_ymd(2026, 10, 1)), CAL_NORMAL);
    assert_int_equal(cal_year_kind(got, date_from_ymd(2026, 3, 3)), CAL_OFF);
    assert_int_equal(cal_year_kind(got, date_from_ymd(2026, 3, 7)), CAL_WORK);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE seq = %lld AND action = 'calendar.load' AND "
             "before_digest <> '' AND after_digest <> ''",
             (long long)rep.audit_seq);
    assert_int_equal(count(sql), 1);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'calendar.load'"), 2);

    /* Another year loads beside it. */
    rc = load("year 2027\noff 2027-01-01 元旦\n", "2027.txt", NULL, &rep, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(count("SELECT count(*) FROM calendar_years"), 2);
    calendar_init(&c);
    assert_int_equal(holidays_read_all(S, &c, &err), 0);
    assert_int_equal(c.n, 2);
    calendar_free(&c);

    audit_report ar;
    assert_int_equal(audit_verify(S, &ar, &err), 0);
    assert_true(ar.ok);
    free(file);
    free(want);
    free(got);
    free(before);
}

/* A refused load changes nothing: no permission, a bad source or digest, or
 * a store constraint that fails half-way (a name the schema refuses). */
static void test_bad_load_changes_nothing(void **state)
{
    (void)state;
    int64_t days = count("SELECT count(*) FROM calendar_days");
    int64_t years = count("SELECT count(*) FROM calendar_years");
    int64_t audits = count("SELECT count(*) FROM audit_log");
    cal_year *y = malloc(sizeof *y);
    assert_non_null(y);
    parse("year 2026\noff 2026-01-01 2026-01-03 元旦\n", y);
    char digest[65];
    holidays_digest("x", 1, digest);
    struct holidays_load_report rep;
    ql_err err;

    actor reviewer;
    memset(&reviewer, 0, sizeof reviewer);
    reviewer.via = VIA_SESSION;
    reviewer.user_id = 99;
    snprintf(reviewer.username, sizeof reviewer.username, "reviewer1");
    reviewer.roles = 1u << ROLE_REVIEWER;
    reviewer.perms = role_perms(ROLE_REVIEWER);
    assert_int_equal(holidays_load(S, &reviewer, y, "f.txt", digest, NULL, &rep, &err),
                     QL_EFORBIDDEN);
    actor nobody;
    memset(&nobody, 0, sizeof nobody);
    assert_int_not_equal(holidays_load(S, &nobody, y, "f.txt", digest, NULL, &rep, &err), 0);
    assert_int_equal(holidays_load(S, &CLI, y, "", digest, NULL, &rep, &err), QL_EINVAL);
    assert_int_equal(holidays_load(S, &CLI, y, "f.txt", "abc", NULL, &rep, &err), QL_EINVAL);
    assert_int_equal(count("SELECT count(*) FROM audit_log"), audits);

    /* A kind that is neither off nor work is refused before anything is written. */
    y->kind[100] = 7;
    assert_int_equal(holidays_load(S, &CLI, y, "f.txt", digest, NULL, &rep, &err), QL_EINVAL);
    y->kind[100] = CAL_NORMAL;
    /* A year whose last day breaks the schema (an empty name, which
     * cal_year_set would refuse, written behind its back) fails after the
     * year row and the earlier days were written: they roll back with it. */
    y->kind[364] = CAL_OFF;
    y->name[364][0] = '\0';
    int rc = holidays_load(S, &CLI, y, "f.txt", digest, NULL, &rep, &err);
    assert_int_not_equal(rc, 0);
    assert_int_equal(count("SELECT count(*) FROM calendar_days"), days);
    assert_int_equal(count("SELECT count(*) FROM calendar_years"), years);
    assert_int_equal(count("SELECT count(*) FROM audit_log"), audits);
    /* 2026 is still the one loaded before. */
    cal_year *got = malloc(sizeof *got);
    assert_non_null(got);
    assert_int_equal(holidays_read_year(S, 2026, got, &err), 0);
    assert_int_equal(cal_year_kind(got, date_from_ymd(2026, 3, 7)), CAL_WORK);
    free(got);
    free(y);
    audit_report ar;
    assert_int_equal(audit_verify(S, &ar, &err), 0);
    assert_true(ar.ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_read_reload),
        cmocka_unit_test(test_bad_load_changes_nothing),
    };
    return cmocka_run_group_tests_name("calendar", tests, setup, teardown);
}
