/* calendar_cmd.c - the calendar subcommand: load a year's holiday file into
 * the store (or only check it), show a stored year, and count working days
 * (acting as "cli:<unix user>"). The file format is in core/calendar.h and
 * docs/calendar.md. */
#include "cli/cli.h"

#include "calendar/holidays.h"
#include "core/calendar.h"
#include "core/date.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct cli_verb verbs[] = {
    {"load", 1, "FILE [--check]",
     "load a year's holidays and worked weekend days from FILE, replacing that year as a whole "
     "(one transaction, one audit row), and print what changed; with --check only parse FILE "
     "and report"},
    {"show", 1, "YEAR", "print the stored days off and worked weekend days of YEAR"},
    {"add-workdays", 2, "DATE N",
     "print the day N working days after DATE (YYYY-MM-DD; DATE itself not counted)"},
    {0},
};

static int fail(const char *cmd, const ql_err *err)
{
    cli_error(cmd, err->en, err->zh);
    return EXIT_FAIL;
}

static const char *weekday_en(int32_t day)
{
    static const char *names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    return names[((day % 7) + 7 + 4) % 7];
}

static void print_day(const cal_year *y, int32_t d, const char *prefix)
{
    char ds[16];
    date_format(d, ds, sizeof ds);
    enum cal_kind k = cal_year_kind(y, d);
    printf("%s%s %s  %-4s  %s\n", prefix, ds, weekday_en(d), cal_kind_name(k),
           y->name[d - y->first]);
}

static int do_load(const char *cmd, const char *path, int check, store *s)
{
    char *buf = NULL;
    size_t len = 0;
    ql_err err = {0};
    if (cli_read_file(path, CAL_FILE_MAX, &buf, &len, &err)) return fail(cmd, &err);
    cal_year *y = xmalloc(sizeof *y);
    cal_year *before = xmalloc(sizeof *before);
    int rc = cal_year_parse(buf, len, path, y, &err);
    if (rc) {
        rc = fail(cmd, &err);
        goto out;
    }
    int off, work;
    cal_year_counts(y, &off, &work);
    if (check) {
        printf("%s: %d, %d day(s) off, %d worked weekend day(s): the file is good\n"
               "%s：%d 年，放假 %d 天，调休上班 %d 天：文件无误\n",
               path, y->year, off, work, path, y->year, off, work);
        rc = EXIT_OK;
        goto out;
    }
    char digest[65];
    holidays_digest(buf, len, digest);
    const char *source = strrchr(path, '/');
    source = source && source[1] ? source + 1 : path;
    actor me;
    actor_cli(&me);
    struct holidays_load_report rep;
    rc = holidays_load(s, &me, y, source, digest, before, &rep, &err);
    if (rc) {
        rc = fail(cmd, &err);
        goto out;
    }
    if (rep.unchanged) {
        printf("%d is already loaded with exactly these days: nothing changed\n"
               "%d 年已按相同内容加载：无变化\n",
               y->year, y->year);
        rc = EXIT_OK;
        goto out;
    }
    /* What changed: each day whose kind or name differs from before. */
    int changes = 0;
    for (int i = 0; i < y->ndays; i++) {
        int32_t d = y->first + i;
        enum cal_kind was = rep.replaced ? cal_year_kind(before, d) : CAL_NORMAL;
        enum cal_kind now = cal_year_kind(y, d);
        if (was == now && (now == CAL_NORMAL || !strcmp(before->name[i], y->name[i]))) continue;
        if (was != CAL_NORMAL) print_day(before, d, "  - ");
        if (now != CAL_NORMAL) print_day(y, d, "  + ");
        changes++;
    }
    printf("%s %d from %s: %d day(s) off, %d worked weekend day(s); %d day(s) changed "
           "(audit row %lld)\n"
           "已%s %d 年节假日安排（%s）：放假 %d 天，调休上班 %d 天；%d 天有变化\n",
           rep.replaced ? "replaced" : "loaded", y->year, source, off, work, changes,
           (long long)rep.audit_seq, rep.replaced ? "替换" : "加载", y->year, source, off, work,
           changes);
    rc = EXIT_OK;
out:
    free(buf);
    free(y);
    free(before);
    return rc;
}

static int do_show(const char *cmd, const char *year_s, store *s)
{
    char *end;
    errno = 0;
    long year = strtol(year_s, &end, 10);
    if (errno || *end || end == year_s || year < 1900 || year > 9999) {
        cli_error(cmd, "YEAR must be a year such as 2026", "年份格式应如 2026");
        return EXIT_USAGE;
    }
    ql_err err = {0};
    cal_year *y = xmalloc(sizeof *y);
    struct holidays_year_info info;
    int rc = holidays_year_info(s, (int)year, &info, &err);
    if (!rc) rc = holidays_read_year(s, (int)year, y, &err);
    if (rc) {
        free(y);
        return fail(cmd, &err);
    }
    char when[32] = "";
    time_t t = (time_t)info.loaded_at + 8 * 3600; /* Asia/Shanghai */
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S+08:00", &tm);
    printf("%d: %d day(s) off, %d worked weekend day(s)\n"
           "  from %s (sha256 %s), loaded %s by %s\n",
           y->year, info.off, info.work, info.source, info.digest, when, info.loaded_by);
    for (int i = 0; i < y->ndays; i++)
        if (y->kind[i]) print_day(y, y->first + i, "  ");
    free(y);
    return EXIT_OK;
}

static int do_add_workdays(const char *cmd, const char *date_s, const char *n_s, store *s)
{
    int32_t day;
    if (date_parse(date_s, &day)) {
        cli_error(cmd, "DATE must be YYYY-MM-DD", "日期格式应为 YYYY-MM-DD");
        return EXIT_USAGE;
    }
    char *end;
    errno = 0;
    long n = strtol(n_s, &end, 10);
    if (errno || *end || end == n_s || n < 1 || n > CAL_ADD_MAX) {
        char en[96], zh[96];
        snprintf(en, sizeof en, "N must be a whole number from 1 to %d", CAL_ADD_MAX);
        snprintf(zh, sizeof zh, "N 必须是 1 至 %d 的整数", CAL_ADD_MAX);
        cli_error(cmd, en, zh);
        return EXIT_USAGE;
    }
    calendar c;
    calendar_init(&c);
    ql_err err = {0};
    int32_t out;
    int rc = holidays_read_all(s, &c, &err);
    if (!rc) rc = calendar_add_workdays(&c, day, (int)n, &out, &err);
    calendar_free(&c);
    if (rc) return fail(cmd, &err);
    char ds[16];
    date_format(out, ds, sizeof ds);
    printf("%s\n", ds);
    return EXIT_OK;
}

int cmd_calendar(int argc, char **argv)
{
    int code;
    const struct cli_verb *v = cli_verb_pick(
        "calendar", argc, argv, verbs, "The file format is described in docs/calendar.md.", &code);
    if (!v) return code;
    char cmd[40];
    snprintf(cmd, sizeof cmd, "calendar %s", v->name);
    int check = 0;
    const struct cli_flag load_flags[] = {
        {"check", NULL, "only parse FILE and report; store nothing", NULL, &check},
        {0},
    };
    const struct cli_flag none[] = {{0}};
    const struct cli_flag *extra = !strcmp(v->name, "load") ? load_flags : none;
    int help;
    ql_config cfg;
    int rc0 = cli_verb_args(cmd, v, argc, argv, extra, 1, &cfg, &help);
    if (rc0 || help) return rc0; /* cfg was not loaded */
    int rc;
    store *s = NULL;
    if (!strcmp(v->name, "load") && check) {
        rc = do_load(cmd, argv[2], 1, NULL);
        config_free(&cfg);
        return rc;
    }
    rc = cli_store(cmd, &cfg, 1, &s);
    if (!rc) rc = cli_services(cmd, &cfg);
    if (!rc) {
        if (!strcmp(v->name, "load"))
            rc = do_load(cmd, argv[2], 0, s);
        else if (!strcmp(v->name, "show"))
            rc = do_show(cmd, argv[2], s);
        else
            rc = do_add_workdays(cmd, argv[2], argv[3], s);
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}
