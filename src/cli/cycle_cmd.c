/* cycle_cmd.c - the cycle subcommand: compute a month's disbursement cycle
 * and show one (acting as "cli:<unix user>"). src/ledger/cycle.h has the
 * rules; `cycle report` is in ledger_cmd.c. */
#include "cli/cli.h"

#include "core/date.h"
#include "core/validate.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"

#include <stdbool.h>
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
    {"approve", 1, "YYYY-MM --as USERNAME",
     "approve a computed cycle as the account USERNAME (ledger.approve), its password read "
     "from standard input: another account than the one that computed it, and within each "
     "programme's budget for the year"},
    {"budget", 3, "PROGRAMME YEAR AMOUNT", "set a programme's budget for a year (yuan)"},
    {"export", 1, "YYYY-MM",
     "pay an approved cycle: a payment to every payee with money due, in batches of at most "
     "--batch-size records (default 1000), each written to --out DIR as CSV or, with --format "
     "fixed, as fixed-width text (--layout FILE; default layouts/bank-fixed.layout); running "
     "it again changes nothing and writes only the files missing"},
    {"import", 2, "YYYY-MM FILE",
     "take in the bank's result file (CSV: batch_no, request_id, account, amount, status, "
     "message): settle each matching payment, list every mismatch; the same file twice "
     "changes nothing"},
    {"payments", 1, "YYYY-MM", "list a cycle's payments (--state failed for those that failed)"},
    {"requeue", 1, "REQUEST_ID",
     "pay a failed payment again, as a new payment with a new request id (--reason)"},
    {"write-off", 1, "REQUEST_ID", "write off a failed payment (--reason; ledger.approve)"},
    {"close", 1, "YYYY-MM", "close a reconciled cycle whose payments are all settled"},
    {"collect", 2, "PAYEE AMOUNT",
     "record money a payee paid back (PAYEE person:<id>, employer:<id> or operator:<id>; "
     "AMOUNT in yuan, at most what is owed; --reference the bank's receipt)"},
    {"report", 1,
     "YYYY-MM|YYYY [--by programme|tier|employer|payee_type] [--format FORMAT] [--out FILE]",
     "a cycle's or a year's totals by programme, tier, employer or payee type: entitlements "
     "paying, entitled, arrears, recovered and net, with a total; as text, JSON, CSV or .xlsx"},
    {0},
};

/* A progress bar on a terminal ("[#####.....] 52% 260000/500000"), a line
 * per tenth otherwise; total 0 counts pages of unknown number. */
static void show_progress(int64_t done, int64_t total, void *ctx)
{
    const char *what = ctx;
    bool tty = isatty(2);
    if (total <= 0) {
        if (tty) fprintf(stderr, "\r%s: %lld pages", what, (long long)done);
        return;
    }
    int pct = (int)(done * 100 / total), bar = pct / 5;
    static int last = -1;
    if (!tty) {
        if (pct / 10 != last || done == total)
            fprintf(stderr, "%s: %d%% %lld/%lld\n", what, pct, (long long)done, (long long)total);
        last = pct / 10;
        return;
    }
    char b[21];
    for (int i = 0; i < 20; i++) b[i] = i < bar ? '#' : '.';
    b[20] = '\0';
    fprintf(stderr, "\r%s: [%s] %3d%% %lld/%lld", what, b, pct, (long long)done, (long long)total);
    if (done == total) fputc('\n', stderr);
}

static void end_progress(void)
{
    if (isatty(2)) fputc('\n', stderr);
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

static void print_payments(json_t *o)
{
    printf("%lld payments%s\n", (long long)json_integer_value(json_object_get(o, "total")),
           json_integer_value(json_object_get(o, "total")) > 500 ? " (the first 500)" : "");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "items"), i, p)
    {
        printf("%-24s %-8s %8lld %-20s %12s %-11s %-16s %s %s\n",
               json_string_value(json_object_get(p, "request_id")),
               json_string_value(json_object_get(p, "payee_type")),
               (long long)json_integer_value(json_object_get(p, "payee_id")),
               json_string_value(json_object_get(p, "account")),
               json_string_value(json_object_get(p, "amount_yuan")),
               json_string_value(json_object_get(p, "state")),
               json_string_value(json_object_get(p, "batch_no")),
               json_string_value(json_object_get(p, "result_code")),
               json_string_value(json_object_get(p, "result_message")));
    }
}

static int do_export(const char *cmd, store *s, const actor *me, const char *month,
                     const char *format, const char *layout, const char *batch, const char *dir)
{
    struct bank_export_opts o = {BANK_CSV, NULL, 0, dir};
    ql_err err = {0};
    bank_layout *l = NULL;
    int rc = EXIT_OK;
    if (format && !strcmp(format, "fixed")) {
        o.format = BANK_FIXED;
    } else if (format && strcmp(format, "csv")) {
        cli_error(cmd, "--format is csv or fixed", "--format 应为 csv 或 fixed");
        return EXIT_USAGE;
    }
    if (batch) {
        int64_t n;
        if (validate_int("batch-size", batch, 1, BANK_BATCH_MAX, &n, &err)) {
            cli_error(cmd, err.en, err.zh);
            return EXIT_USAGE;
        }
        o.batch_size = (int)n;
    }
    if (!dir) {
        cli_error(cmd, "--out DIR is needed: where the batch files go",
                  "须指定 --out 目录：批次文件写入之处");
        return EXIT_USAGE;
    }
    if (layout) {
        char *text = NULL;
        size_t len;
        if (cli_read_file(layout, 1 << 20, &text, &len, &err)) {
            cli_error(cmd, err.en, err.zh);
            return EXIT_FAIL;
        }
        int prc = bank_layout_parse(text, len, layout, &l, &err);
        free(text);
        if (prc) {
            cli_error(cmd, err.en, err.zh);
            return EXIT_FAIL;
        }
        o.layout = l;
        o.format = BANK_FIXED;
    }
    struct bank_export_report r;
    if (bank_export(s, me, month, &o, show_progress, "cycle export", &r, &err)) {
        end_progress();
        cli_error(cmd, err.en, err.zh);
        rc = EXIT_FAIL;
    } else {
        end_progress();
        char total[32], held_en[400], held_zh[400];
        validate_money_text(r.total_fen, total, sizeof total);
        bank_hold_summary(&r, held_en, held_zh, sizeof held_en);
        printf("cycle %s: %s; %lld payments in %lld batches, %s yuan; this run: %lld payments, "
               "%lld batches, %lld files; %s\n"
               "发放批次 %s：%s；共 %lld 笔付款、%lld 个批次，合计 %s 元；本次新增 %lld 笔、%lld "
               "个批次、%lld 个文件；%s\n",
               month, r.unchanged ? "exported before, nothing changed" : "exported",
               (long long)r.payments, (long long)r.all_batches, total, (long long)r.queued,
               (long long)r.batches, (long long)r.files, held_en, month,
               r.unchanged ? "此前已导出，无变化" : "已导出", (long long)r.payments,
               (long long)r.all_batches, total, (long long)r.queued, (long long)r.batches,
               (long long)r.files, held_zh);
    }
    bank_layout_free(l);
    return rc;
}

static int do_import(const char *cmd, store *s, const actor *me, const char *month,
                     const char *path, int json_out)
{
    char *data;
    size_t len;
    ql_err err = {0};
    if (cli_read_file(path, 64u << 20, &data, &len, &err)) {
        cli_error(cmd, err.en, err.zh);
        return EXIT_FAIL;
    }
    const char *base = strrchr(path, '/');
    struct bank_import_report r;
    int rc = EXIT_OK;
    if (bank_import(s, me, month, data, len, base ? base + 1 : path, &r, &err)) {
        cli_error(cmd, err.en, err.zh);
        rc = EXIT_FAIL;
    } else if (json_out) {
        json_t *o = json_pack("{sbsIsIsIsIsIsO}", "unchanged", r.unchanged, "rows",
                              (json_int_t)r.rows, "paid", (json_int_t)r.paid, "failed",
                              (json_int_t)r.failed, "already", (json_int_t)r.already, "mismatches",
                              (json_int_t)r.mismatches, "items", r.items);
        char *t = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", t);
        free(t);
        json_decref(o);
    } else {
        printf("%s: %s; %lld rows: %lld paid, %lld failed, %lld taken in before, %lld "
               "mismatches\n%s：%s；%lld 行：成功 %lld，失败 %lld，此前已导入 %lld，不符 %lld\n",
               path, r.unchanged ? "taken in before, nothing changed" : "taken in",
               (long long)r.rows, (long long)r.paid, (long long)r.failed, (long long)r.already,
               (long long)r.mismatches, path, r.unchanged ? "此前已导入，无变化" : "已导入",
               (long long)r.rows, (long long)r.paid, (long long)r.failed, (long long)r.already,
               (long long)r.mismatches);
        size_t i;
        json_t *m;
        json_array_foreach(r.items, i, m)
        {
            printf("  line %lld %s [%s] %s\n",
                   (long long)json_integer_value(json_object_get(m, "line")),
                   json_string_value(json_object_get(m, "request_id")),
                   json_string_value(json_object_get(m, "problem")),
                   json_string_value(json_object_get(m, "en")));
        }
        if (r.mismatches > (int64_t)json_array_size(r.items))
            printf("  ... %lld more\n",
                   (long long)(r.mismatches - (int64_t)json_array_size(r.items)));
    }
    json_decref(r.items);
    free(data);
    return rc;
}

int cmd_cycle(int argc, char **argv)
{
    int code;
    const struct cli_verb *v =
        cli_verb_pick("cycle", argc, argv, verbs, "Cycles are described in docs/ledger.md.", &code);
    if (!v) return code;
    if (!strcmp(v->name, "report")) return cli_cycle_report(v, argc, argv); /* ledger_cmd.c */
    char cmd[40];
    snprintf(cmd, sizeof cmd, "cycle %s", v->name);
    const char *format = NULL, *layout = NULL, *batch = NULL, *out_dir = NULL, *state = NULL,
               *reason = NULL;
    int json_out = 0;
    const struct cli_flag none[] = {{0}};
    const struct cli_flag export_flags[] = {
        {"out", "DIR", "the directory the batch files are written to", &out_dir, NULL},
        {"format", "csv|fixed", "CSV (default) or fixed-width text", &format, NULL},
        {"layout", "FILE", "the fixed-width layout (default: the shipped one)", &layout, NULL},
        {"batch-size", "N", "records in a batch file, 1 to 100000 (default 1000)", &batch, NULL},
        {0}};
    const struct cli_flag import_flags[] = {
        {"json", NULL, "print the reconciliation report as JSON", NULL, &json_out}, {0}};
    const struct cli_flag payment_flags[] = {
        {"state", "STATE", "queued, sent, paid, failed, requeued or written_off", &state, NULL},
        {0}};
    const char *reference = NULL;
    const struct cli_flag collect_flags[] = {
        {"reference", "REF", "the bank's receipt reference (the same one again counts once)",
         &reference, NULL},
        {0}};
    const struct cli_flag reason_flags[] = {
        {"reason", "TEXT", "why (kept in the audit log)", &reason, NULL}, {0}};
    const char *as = NULL;
    const struct cli_flag approve_flags[] = {
        {"as", "USERNAME",
         "the account that approves (required): a finance officer other than the one that "
         "computed the cycle; its password is read from standard input",
         &as, NULL},
        {0}};
    const struct cli_flag *flags = !strcmp(v->name, "export")     ? export_flags
                                   : !strcmp(v->name, "import")   ? import_flags
                                   : !strcmp(v->name, "payments") ? payment_flags
                                   : !strcmp(v->name, "collect")  ? collect_flags
                                   : !strcmp(v->name, "approve")  ? approve_flags
                                   : (!strcmp(v->name, "requeue") || !strcmp(v->name, "write-off"))
                                       ? reason_flags
                                       : none;
    int help;
    ql_config cfg;
    int rc = cli_verb_args(cmd, v, argc, argv, flags, 1, &cfg, &help);
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
        } else if (validate_money_upto("amount", argv[4], VALIDATE_MONEY_MAX, &fen, &e)) {
            cli_error(cmd, e.en, e.zh);
            rc = EXIT_USAGE;
        }
    } else if (!strcmp(v->name, "collect")) {
        ql_err e = {0};
        if (validate_money("amount", argv[3], &fen, &e)) {
            cli_error(cmd, e.en, e.zh);
            rc = EXIT_USAGE;
        }
    } else if (strcmp(v->name, "requeue") && strcmp(v->name, "write-off")) {
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
        if (cycle_may_open(s, first, date_today(), &err) ||
            cycle_run(s, &me, first, show_progress, "cycle run", &rep, &err)) {
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
        /* four eyes: the approver is an account, signed in, never the
         * command line by itself */
        struct cycle_approval ap;
        actor who;
        if (cli_signin_as(s, as, &me, "a cycle is approved", "发放批次复核", &who, &err) ||
            cycle_approve(s, &who, argv[2], &ap, &err)) {
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
    } else if (!rc && !strcmp(v->name, "export")) {
        rc = do_export(cmd, s, &me, argv[2], format, layout, batch, out_dir);
    } else if (!rc && !strcmp(v->name, "import")) {
        rc = do_import(cmd, s, &me, argv[2], argv[3], json_out);
    } else if (!rc && !strcmp(v->name, "payments")) {
        json_t *o;
        if (bank_payments(s, &me, argv[2], state, 0, 500, &o, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            print_payments(o);
            json_decref(o);
        }
    } else if (!rc && (!strcmp(v->name, "requeue") || !strcmp(v->name, "write-off"))) {
        char nid[33] = "";
        bool rq = !strcmp(v->name, "requeue");
        if (rq ? bank_requeue(s, &me, argv[2], reason, nid, &err)
               : bank_write_off(s, &me, argv[2], reason, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else if (rq) {
            printf("payment %s re-queued as %s: it goes in the cycle's next export\n"
                   "付款 %s 已重新排队为 %s：将随本批次下次导出发出\n",
                   argv[2], nid, argv[2], nid);
        } else {
            printf("payment %s written off\n付款 %s 已核销\n", argv[2], argv[2]);
        }
    } else if (!rc && !strcmp(v->name, "collect")) {
        bool same;
        if (bank_collect(s, &me, argv[2], fen, reference, &same, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            printf("%s: %s yuan %s\n%s：%s 元%s\n", argv[2], argv[3],
                   same ? "recorded before, nothing changed" : "collected", argv[2], argv[3],
                   same ? "此前已登记，无变化" : "已退回入账");
        }
    } else if (!rc && !strcmp(v->name, "close")) {
        bool same;
        if (cycle_close(s, &me, argv[2], &same, &err)) {
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            printf("cycle %s: %s\n发放批次 %s：%s\n", argv[2],
                   same ? "closed before, nothing changed" : "closed", argv[2],
                   same ? "此前已关闭，无变化" : "已关闭");
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
