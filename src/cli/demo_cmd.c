/* demo_cmd.c - the demo subcommand: a generated district into the store
 * (through the registry's bulk load) or its employers and talents into CSV
 * files in the import format, acting as "cli:<unix user>". */
#include "cli/cli.h"

#include "core/date.h"
#include "core/validate.h"
#include "demo/demo.h"
#include "subsidy/subsidy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Parses a whole number from min to max written in decimal digits. */
static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20) return -1;
    uint64_t v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9') return -1;
        unsigned d = (unsigned)(*c - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v > max) return -1;
    *out = v;
    return 0;
}

static int bad_flag(const char *flag, const char *en, const char *zh)
{
    char e[256], z[256];
    snprintf(e, sizeof e, "--%s %s", flag, en);
    snprintf(z, sizeof z, "参数 --%s %s", flag, zh);
    cli_error("demo", e, z);
    fprintf(stderr, "see 'qianlima demo --help' / 参见 qianlima demo --help\n");
    return EXIT_USAGE;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A progress line on stderr for big runs: rewritten in place on a terminal,
 * else one line at most every 2 seconds. */
struct progress {
    struct timespec t0;
    double last;
    int tty, shown;
};

static void show_progress(const char *what, int64_t done, int64_t total, void *arg)
{
    struct progress *p = arg;
    double now = seconds_since(&p->t0);
    int final = done == total;
    if (!final && now - p->last < (p->tty ? 0.2 : 2.0)) return;
    p->last = now;
    p->shown = 1;
    fprintf(stderr, "%sdemo: %s %lld/%lld (%lld%%), %.1f s%s", p->tty ? "\r" : "", what,
            (long long)done, (long long)total, (long long)(total ? done * 100 / total : 100), now,
            p->tty && !final ? "   " : "\n");
    fflush(stderr);
}

/* Active subsidies made in bulk (demo_active_subsidies), after the rest. */
static int demo_bulk(store *s, const actor *me, int64_t count, struct progress *pr)
{
    ql_err err = {0};
    struct demo_subsidies ds;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc =
        demo_active_subsidies(s, me, count, count >= 50000 ? show_progress : NULL, pr, &ds, &err);
    if (rc) {
        if (pr->tty && pr->shown) fputc('\n', stderr);
        cli_error("demo", err.en, err.zh);
        fprintf(stderr,
                "qianlima demo: %lld active subsidies and %lld leases were stored before "
                "the failure\n",
                (long long)ds.made, (long long)ds.leases);
        return EXIT_FAIL;
    }
    char tiers[400] = "", start[16], monthly[32];
    size_t used = 0;
    for (int t = 0; t < ds.ntiers && used < sizeof tiers; t++)
        used += (size_t)snprintf(tiers + used, sizeof tiers - used, "%s%s %lld", t ? ", " : "",
                                 ds.tier[t], (long long)ds.by_tier[t]);
    date_format(ds.start, start, sizeof start);
    validate_money_text(ds.monthly_fen, monthly, sizeof monthly);
    printf("demo: made %lld active subsidies of district-rent (tiers %s; %s yuan a month, paid "
           "from %s) and %lld filed market leases, in %.1f s\n"
           "演示数据：已生成 %lld 份发放中的区人才租房补贴（自 %s 起发放，每月合计 %s 元）和 %lld "
           "份已备案的租赁合同\n",
           (long long)ds.made, tiers, monthly, start, (long long)ds.leases, seconds_since(&t0),
           (long long)ds.made, start, monthly, (long long)ds.leases);
    return EXIT_OK;
}

/* After the registry: the calendar, the policies and the applications. */
static int demo_subsidy(store *s, const actor *me, uint64_t seed, int64_t apps, int64_t bulk,
                        struct progress *pr)
{
    ql_err err = {0};
    struct demo_rules_loaded rl;
    if (demo_rules(s, me, &rl, &err)) {
        cli_error("demo", err.en, err.zh);
        return EXIT_FAIL;
    }
    struct demo_apps da;
    memset(&da, 0, sizeof da);
    if (apps > 0 && demo_applications(s, me, seed, apps, &da, &err)) {
        cli_error("demo", err.en, err.zh);
        fprintf(stderr, "qianlima demo: %lld application(s) were made before the failure\n",
                (long long)da.applications);
        return EXIT_FAIL;
    }
    printf("demo: loaded %d calendar year(s) and %d policy file(s); made %lld subsidy "
           "applications (%lld active, %lld under notice, %lld rejected) and %lld filed leases "
           "for applicants, in %.1f s\n"
           "演示数据：已加载 %d 个年度日历、%d 个政策文件；已生成 %lld 份补贴申请\n",
           rl.years, rl.policies, (long long)da.applications, (long long)da.by_state[AS_ACTIVE],
           (long long)da.by_state[AS_NOTICE], (long long)da.by_state[AS_REJECTED],
           (long long)da.leases, seconds_since(&pr->t0), rl.years, rl.policies,
           (long long)da.applications);
    return bulk > 0 ? demo_bulk(s, me, bulk, pr) : EXIT_OK;
}

int cmd_demo(int argc, char **argv)
{
    const char *people_s = NULL, *seed_s = NULL, *employers_s = NULL, *csv = NULL, *apps_s = NULL,
               *bulk_s = NULL;
    int if_empty = 0;
    const struct cli_flag extra[] = {
        {"people", "N", "talents to generate (default 300, at most 10000000)", &people_s, NULL},
        {"seed", "S", "the seed, a whole number (default 1): the same seed and sizes give the "
                      "same data",
         &seed_s, NULL},
        {"employers", "N", "employers to generate (default: one per 100 talents, at least 10, at "
                           "most 50000)",
         &employers_s, NULL},
        {"csv", "DIR", "write DIR/employers.csv and DIR/talents.csv in the import format "
                       "instead of storing",
         &csv, NULL},
        {"if-empty", NULL, "do nothing (and succeed) when the registry already holds data",
         NULL, &if_empty},
        {"applications", "N",
         "subsidy applications to make through the workflow, in every state (default: one per "
         "8 talents, at most 2000; 0 for none)",
         &apps_s, NULL},
        {"active-subsidies", "M",
         "also make M subsidies of the district policy in state active, in bulk (for "
         "benchmarks of the monthly cycle): the first M talents are drawn as people the policy "
         "takes, those without a filed lease get one, and each is decided by the policy "
         "engine; --applications defaults to 0 (at most the number of people)",
         &bulk_s, NULL},
        {0},
    };
    ql_config cfg;
    int help;
    int rc = cli_parse("demo", argc, argv, extra, &cfg, &help);
    if (help) {
        cli_usage("demo",
                  "[--people N] [--seed S] [--employers N] [--applications N] "
                  "[--active-subsidies M] [--csv DIR | --if-empty] [flags]",
                  "Generates a realistic district from a seed: employers across the industry "
                  "clusters and talents with valid ID numbers, mobiles, UnionPay cards, "
                  "education, employment (some with an earlier employer) and insurance months; "
                  "rental-housing operators, units and leases (current and earlier ones). "
                  "Stores them through the registry's and the housing service's own checks "
                  "into an empty registry, with the shipped working-day calendar and subsidy "
                  "policies and applications in every state of the workflow, or writes the employers and talents as CSV files "
                  "that 'qianlima import' accepts. The same seed and sizes always give the "
                  "same data. The first employer has the credit code " DEMO_ANCHOR_CREDIT_CODE
                  ", the first operator the code " DEMO_ANCHOR_OPERATOR_CODE ". "
                  "With --active-subsidies M (for benchmarks of the monthly cycle, e.g. "
                  "--people 1000000 --active-subsidies 1000000), the first M talents are drawn "
                  "as people the district policy takes, and M subsidies are made directly in "
                  "state active (reviewed 2026-08-10, paid from 2026-09-01): each decided by "
                  "the policy engine on the person's registry facts, with its trace, events "
                  "and a filed market lease for those without one, many to a transaction with "
                  "one audit row each (docs/subsidy.md).",
                  extra, 1);
        return EXIT_OK;
    }
    if (rc) return rc;
    struct demo_params p = {.seed = 1, .people = 300};
    uint64_t v;
    rc = EXIT_OK;
    if (people_s) {
        if (parse_count(people_s, DEMO_PEOPLE_MAX, &v))
            rc = bad_flag("people", "must be a whole number from 0 to 10000000",
                          "必须是 0 到 10000000 之间的整数");
        else p.people = (int64_t)v;
    }
    if (!rc && seed_s) {
        if (parse_count(seed_s, UINT64_MAX, &v))
            rc = bad_flag("seed", "must be a whole number from 0 to 18446744073709551615",
                          "必须是 0 到 18446744073709551615 之间的整数");
        else p.seed = v;
    }
    if (!rc && employers_s) {
        if (parse_count(employers_s, DEMO_EMPLOYERS_MAX, &v) || v == 0)
            rc = bad_flag("employers", "must be a whole number from 1 to 50000",
                          "必须是 1 到 50000 之间的整数");
        else p.employers = (int64_t)v;
    }
    int64_t apps = p.people / 8 < DEMO_APPS_DEFAULT_MAX ? p.people / 8 : DEMO_APPS_DEFAULT_MAX;
    if (!rc && bulk_s) {
        if (parse_count(bulk_s, (uint64_t)p.people, &v))
            rc = bad_flag("active-subsidies",
                          "must be a whole number from 0 to the number of people (--people)",
                          "必须是 0 到人数（--people）之间的整数");
        else if (csv)
            rc = bad_flag("active-subsidies", "applies to the store, not to --csv",
                          "只适用于数据库，不适用于 --csv");
        else {
            p.applicants = (int64_t)v;
            apps = 0;
        }
    }
    if (!rc && apps_s) {
        if (parse_count(apps_s, 1000000, &v))
            rc = bad_flag("applications", "must be a whole number from 0 to 1000000",
                          "必须是 0 到 1000000 之间的整数");
        else apps = (int64_t)v;
    }
    if (!rc && csv && if_empty)
        rc = bad_flag("if-empty", "applies to the store, not to --csv", "只适用于数据库，不适用于 --csv");
    if (!rc && csv && !*csv) rc = bad_flag("csv", "needs a directory", "须指定目录");
    if (rc) {
        config_free(&cfg);
        return rc;
    }

    ql_err err = {0};
    demo *d;
    if (demo_open(&p, &d, &err)) { /* the flags were checked: not expected */
        cli_error("demo", err.en, err.zh);
        config_free(&cfg);
        return EXIT_FAIL;
    }
    struct progress pr = {.tty = isatty(2)};
    clock_gettime(CLOCK_MONOTONIC, &pr.t0);
    int big = p.people >= 50000;
    if (csv) {
        if (mkdir(csv, 0755) != 0 && errno != EEXIST) {
            char en[600], zh[600];
            snprintf(en, sizeof en, "cannot create the directory %s: %s", csv, strerror(errno));
            snprintf(zh, sizeof zh, "无法创建目录 %s：%s", csv, strerror(errno));
            cli_error("demo", en, zh);
            rc = EXIT_FAIL;
        } else if (demo_write_csv(d, csv, big ? show_progress : NULL, &pr, &err)) {
            cli_error("demo", err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            printf("demo: wrote %s/employers.csv (%lld rows) and %s/talents.csv (%lld rows), seed "
                   "%llu, in %.1f s (housing is not written: the importer takes employers and "
                   "talents only)\n"
                   "演示数据：已写入 %lld 家用人单位和 %lld 名人才（房源与租赁合同不写入 CSV）\n",
                   csv, (long long)demo_employer_count(d), csv, (long long)demo_people(d),
                   (unsigned long long)p.seed, seconds_since(&pr.t0),
                   (long long)demo_employer_count(d), (long long)demo_people(d));
        }
        demo_close(d);
        config_free(&cfg);
        return rc;
    }

    store *s = NULL;
    rc = cli_store("demo", &cfg, 1, &s);
    if (!rc) rc = cli_services("demo", &cfg);
    if (!rc) {
        actor me;
        actor_cli(&me);
        struct demo_stored st;
        int r = demo_store(s, &me, d, big ? show_progress : NULL, &pr, &st, &err);
        if (r == QL_ECONFLICT && !strcmp(err.field, "store") && if_empty) {
            printf("demo: the registry already holds data; nothing was added\n"
                   "演示数据：登记库中已有数据，未作改动\n");
        } else if (r) {
            if (pr.tty && pr.shown) fputc('\n', stderr);
            cli_error("demo", err.en, err.zh);
            if (st.talents || st.employers)
                fprintf(stderr, "qianlima demo: %lld employer(s) and %lld talent(s) were stored "
                                "before the failure\n",
                        (long long)st.employers, (long long)st.talents);
            rc = EXIT_FAIL;
        } else {
            printf("demo: stored %lld employers and %lld talents (%lld moved from an earlier "
                   "employer), %lld housing operators, %lld units and %lld leases (%lld of them "
                   "ended), seed %llu, in %.1f s\n"
                   "演示数据：已载入 %lld 家用人单位、%lld 名人才、%lld 家住房租赁企业、%lld 套房源"
                   "和 %lld 份租赁合同\n",
                   (long long)st.employers, (long long)st.talents, (long long)st.moved,
                   (long long)st.operators, (long long)st.units, (long long)st.leases,
                   (long long)st.leases_ended, (unsigned long long)p.seed, seconds_since(&pr.t0),
                   (long long)st.employers, (long long)st.talents, (long long)st.operators,
                   (long long)st.units, (long long)st.leases);
            rc = demo_subsidy(s, &me, p.seed, apps, p.applicants, &pr);
        }
    }
    store_close(s);
    demo_close(d);
    config_free(&cfg);
    return rc;
}
