/* cycle_cmd.c - the cycle subcommand: compute a month's disbursement cycle
 * and show one (acting as "cli:<unix user>"). src/ledger/cycle.h has the
 * rules. */
#include "cli/cli.h"

#include "core/date.h"
#include "core/validate.h"
#include "ledger/cycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_verb verbs[] = {
    {"run", 1, "YYYY-MM",
     "compute the month's cycle: freeze the inputs of every subsidy that pays in it, compute "
     "each entitlement with its trace and post it to the ledger; a cycle computed already is "
     "not computed again, and a run that stopped goes on where it stopped"},
    {"show", 1, "YYYY-MM", "print a cycle's state and totals, and its first entitlements"},
    {"approve", 1, "YYYY-MM",
     "approve a computed cycle: another account than the one that computed it, and within "
     "each programme's budget for the year"},
    {"budget", 3, "PROGRAMME YEAR AMOUNT", "set a programme's budget for a year (yuan)"},
    {0},
};

static void show_progress(int64_t done, int64_t total, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "%scycle: %lld/%lld%s", isatty(2) ? "\r" : "", (long long)done,
            (long long)total, isatty(2) ? "" : "\n");
}

static int month_arg(const char *cmd, const char *s, int32_t *first)
{
    if (date_parse_month(s, first)) {
        cli_error(cmd, "the month must be YYYY-MM, such as 2026-11",
                  "月份格式应为 YYYY-MM，例如 2026-11");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_cycle(int argc, char **argv)
{
    int code;
    const struct cli_verb *v =
        cli_verb_pick("cycle", argc, argv, verbs, "Cycles are described in docs/ledger.md.", &code);
    if (!v) return code;
    char cmd[40];
    snprintf(cmd, sizeof cmd, "cycle %s", v->name);
    const struct cli_flag none[] = {{0}};
    int help;
    ql_config cfg;
    int rc = cli_verb_args(cmd, v, argc, argv, none, 1, &cfg, &help);
    if (rc || help) return rc;
    int32_t first = 0;
    int64_t fen = 0;
    long year = 0;
    if (!strcmp(v->name, "budget")) {
        char *end;
        ql_err e = {0};
        year = strtol(argv[3], &end, 10);
        if (*end || end == argv[3] || year < 2000 || year > 9999) {
            cli_error(cmd, "YEAR must be a year such as 2026", "年度格式应如 2026");
            rc = EXIT_USAGE;
        } else if (validate_money("amount", argv[4], &fen, &e)) {
            cli_error(cmd, e.en, e.zh);
            rc = EXIT_USAGE;
        }
    } else {
        rc = month_arg(cmd, argv[2], &first);
    }
    if (rc) {
        config_free(&cfg);
        return rc;
    }
    store *s = NULL;
    rc = cli_store(cmd, &cfg, 1, &s);
    if (!rc) rc = cli_services(cmd, &cfg);
    actor me;
    actor_cli(&me);
    ql_err err = {0};
    if (!rc && !strcmp(v->name, "run")) {
        struct cycle_report rep;
        if (cycle_run(s, &me, first, show_progress, NULL, &rep, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            char yuan[32];
            validate_money_text(rep.total_fen, yuan, sizeof yuan);
            printf("cycle %s: %s; %lld subsidies, %lld paid, %s yuan (%lld written by this run)\n"
                   "发放批次 %s：%s；%lld 笔，应发 %lld 笔，合计 %s 元\n",
                   argv[2], rep.unchanged ? "computed before, nothing changed" : "computed",
                   (long long)rep.entitlements, (long long)rep.paid, yuan, (long long)rep.new_rows,
                   argv[2], rep.unchanged ? "此前已计算，无变化" : "已计算",
                   (long long)rep.entitlements, (long long)rep.paid, yuan);
        }
    } else if (!rc && !strcmp(v->name, "approve")) {
        struct cycle_approval ap;
        if (cycle_approve(s, &me, argv[2], &ap, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            printf("cycle %s: %s\n发放批次 %s：%s\n", argv[2],
                   ap.unchanged ? "approved before, nothing changed" : "approved", argv[2],
                   ap.unchanged ? "此前已复核，无变化" : "已复核");
        }
    } else if (!rc && !strcmp(v->name, "budget")) {
        if (cycle_budget_set(s, &me, argv[2], (int)year, fen, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            char y[32];
            validate_money_text(fen, y, sizeof y);
            printf("budget of %s for %ld: %s yuan\n%s %ld 年预算：%s 元\n", argv[2], year, y,
                   argv[2], year, y);
        }
    } else if (!rc) {
        json_t *o;
        if (cycle_get(s, &me, argv[2], true, &o, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", text);
            free(text);
            json_decref(o);
        }
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}
