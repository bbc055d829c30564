/* ledger_cmd.c - disbursement reports on the command line (acting as
 * "cli:<unix user>"): `qianlima cycle report` (a cycle's or a year's
 * totals, as text, JSON, CSV or .xlsx), `qianlima ledger person` (one
 * person's ledger with each posting traced) and `qianlima ledger verify`
 * (the whole ledger checked against its rows). src/ledger/report.h and
 * src/ledger/verify.h have the rules. */
#include "cli/cli.h"

#include "core/buf.h"
#include "core/validate.h"
#include "ledger/report.h"
#include "ledger/verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- qianlima cycle report --------------------------------------------- */

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV, OUT_XLSX };

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n > m && !strcmp(s + n - m, tail);
}

/* --format, or the --out file's extension, or text. */
static int pick_format(const char *format, const char *out, enum out_format *f)
{
    if (!format || !*format) {
        *f = out && ends_with(out, ".xlsx")   ? OUT_XLSX
             : out && ends_with(out, ".csv")  ? OUT_CSV
             : out && ends_with(out, ".json") ? OUT_JSON
                                              : OUT_TEXT;
        return 0;
    }
    static const char *const names[] = {"text", "json", "csv", "xlsx"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(format, names[i])) {
            *f = (enum out_format)i;
            return 0;
        }
    return -1;
}

static void list_cycle(const char *month, const char *state, void *ctx)
{
    buf *b = ctx;
    buf_printf(b, "%s%s (%s)", b->len ? ", " : "", month, state);
}

struct text_ctx {
    FILE *f;
    enum report_by by;
    bool total; /* the row is the total row */
};

static int print_row(const struct report_row *row, void *vctx)
{
    struct text_ctx *x = vctx;
    char y[4][32];
    validate_money_text(row->entitled_fen, y[0], sizeof y[0]);
    validate_money_text(row->arrears_fen, y[1], sizeof y[1]);
    validate_money_text(row->recovered_fen, y[2], sizeof y[2]);
    validate_money_text(row->net_fen, y[3], sizeof y[3]);
    fprintf(x->f, "%8lld %14s %14s %14s %14s  ", (long long)row->paying, y[0], y[1], y[2], y[3]);
    if (x->total)
        fprintf(x->f, "total 合计\n");
    else
        fprintf(x->f, "%s %s\n", x->by == REPORT_TIER ? row->programme : row->key,
                x->by == REPORT_TIER ? row->key : row->label);
    return 0;
}

static const char *by_zh(enum report_by by)
{
    static const char *const zh[] = {"按补贴项目", "按档次", "按用人单位", "按收款方类别"};
    return zh[by];
}

int cli_cycle_report(const struct cli_verb *v, int argc, char **argv)
{
    const char *cmd = "cycle report";
    const char *by_s = NULL, *format_s = NULL, *out = NULL;
    const struct cli_flag flags[] = {
        {"by", "programme|tier|employer|payee_type", "group the totals by (default programme)",
         &by_s, NULL},
        {"format", "text|json|csv|xlsx",
         "text (default), JSON, or a CSV or .xlsx file (needs --out; taken from its extension "
         "when --format is not given)",
         &format_s, NULL},
        {"out", "FILE", "write the report to FILE instead of standard output", &out, NULL},
        {0},
    };
    int help;
    ql_config cfg;
    int rc = cli_verb_args(cmd, v, argc, argv, flags, 1, &cfg, &help);
    if (rc || help) return rc;
    struct report_period p;
    enum report_by by;
    enum out_format fmt;
    ql_err err = {0};
    if (report_period_parse(argv[2], &p, &err)) {
        cli_error(cmd, "name a month (YYYY-MM, such as 2026-11) or a year (YYYY, such as 2026)",
                  "请指定月份（YYYY-MM，例如 2026-11）或年度（YYYY，例如 2026）");
        rc = EXIT_USAGE;
    } else if (report_by_parse(by_s, &by, &err)) {
        cli_error(cmd, "--by must be programme, tier, employer or payee_type",
                  "--by 须为 programme、tier、employer 或 payee_type");
        rc = EXIT_USAGE;
    } else if (pick_format(format_s, out, &fmt)) {
        cli_error(cmd, "--format must be text, json, csv or xlsx",
                  "--format 须为 text、json、csv 或 xlsx");
        rc = EXIT_USAGE;
    } else if ((fmt == OUT_CSV || fmt == OUT_XLSX) && (!out || !*out)) {
        cli_error(cmd, "a CSV or .xlsx report is written to a file: add --out FILE",
                  "CSV 或 .xlsx 报表须写入文件：请加 --out 文件");
        rc = EXIT_USAGE;
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
    if (!rc && (fmt == OUT_CSV || fmt == OUT_XLSX)) {
        int64_t rows = 0;
        if (report_export(s, &me, &p, by, fmt == OUT_CSV ? EXPORT_CSV : EXPORT_XLSX, out, &rows,
                          &err)) {
            remove(out);
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            printf("report %s by %s: %lld group row(s) and the total written to %s\n"
                   "报表 %s（%s）：%lld 行及合计已写入 %s\n",
                   p.label, report_by_name(by), (long long)rows, out, p.label, by_zh(by),
                   (long long)rows, out);
        }
    } else if (!rc) {
        FILE *f = stdout;
        if (out && *out && !(f = fopen(out, "w"))) {
            char en[600], zh[600];
            snprintf(en, sizeof en, "cannot write %s: %s", out, strerror(errno));
            snprintf(zh, sizeof zh, "无法写入 %s：%s", out, strerror(errno));
            cli_error(cmd, en, zh);
            rc = EXIT_FAIL;
        }
        json_t *o = NULL;
        if (!rc && fmt == OUT_JSON) {
            if (report_json(s, &me, &p, by, &o, &err)) {
                rc = EXIT_FAIL;
            } else {
                char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                fprintf(f, "%s\n", text);
                free(text);
                json_decref(o);
            }
        } else if (!rc) {
            buf cycles;
            buf_init(&cycles, 0);
            if (report_cycles(s, &me, &p, list_cycle, &cycles, &err)) rc = EXIT_FAIL;
            if (!rc) {
                fprintf(f,
                        "disbursement report %s by %s; cycles: %s\n发放报表 %s（%s）\n"
                        "%8s %14s %14s %14s %14s  %s\n",
                        p.label, report_by_name(by), cycles.len ? cycles.data : "none", p.label,
                        by_zh(by), "paying", "entitled", "arrears", "recovered", "net",
                        report_by_name(by));
                struct text_ctx x = {f, by, false};
                struct report_row total;
                if (report_totals(s, &me, &p, by, print_row, &x, &total, &err)) {
                    rc = EXIT_FAIL;
                } else {
                    x.total = true;
                    print_row(&total, &x);
                }
            }
            buf_free(&cycles);
        }
        if (rc == EXIT_FAIL && err.en[0]) cli_error(cmd, err.en, err.zh);
        if (f && f != stdout && fclose(f) && !rc) {
            cli_error(cmd, "cannot finish writing the file", "无法完成写入文件");
            rc = EXIT_FAIL;
        }
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}

/* ---- qianlima ledger person -------------------------------------------- */

static const struct cli_verb ledger_verbs[] = {
    {"person", 1, "TALENT_ID [--json]",
     "one person's ledger: every posting on their accounts or of their applications, in order, "
     "each traced to its entitlement, adjustment or payment; the totals and the check "
     "paid - paid back = entitled + arrears - recovered - written off - outstanding - in "
     "clearing (exit status 1 when it does not hold)"},
    {"verify", 0, "[--json]",
     "check the whole ledger against its entitlements, adjustments and payments (the rules are "
     "in docs/ledger.md); print every violation, exit status 1 when there is one"},
    {0},
};

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long jint(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void print_trace(const json_t *t)
{
    const char *type = jstr(t, "type");
    if (!strcmp(type, "entitlement"))
        printf("%12s application %lld: policy file %lld version %s, tier %s, month %lld of the "
               "schedule, %lld days\n",
               "", jint(t, "application_id"), jint(t, "policy_file_id"), jstr(t, "policy_version"),
               jstr(t, "tier"), jint(t, "month_index"), jint(t, "days"));
    else if (!strcmp(type, "adjustment")) {
        printf("%12s application %lld: %s for %s, was %s, due %s\n", "", jint(t, "application_id"),
               jstr(t, "kind"), jstr(t, "for_month"), jstr(t, "was_yuan"), jstr(t, "due_yuan"));
        size_t i; /* the registry changes it follows from */
        const json_t *c;
        json_array_foreach(json_object_get(t, "causes"), i, c)
        {
            printf("%12s because: %s\n%12s 原因：%s\n", "", jstr(c, "en"), "", jstr(c, "zh"));
        }
    } else if (!strcmp(type, "collection"))
        printf("%12s paid back, receipt %s\n", "", jstr(t, "reference"));
    else if (!strcmp(type, "payment"))
        printf("%12s payment %s (attempt %lld, cycle %s), batch %s, %s%s%s%s%s\n", "",
               jstr(t, "request_id"), jint(t, "attempt"), jstr(t, "cycle"),
               *jstr(t, "batch_no") ? jstr(t, "batch_no") : "-", jstr(t, "state"),
               *jstr(t, "result_code") ? " " : "", jstr(t, "result_code"),
               *jstr(t, "result_message") ? " " : "", jstr(t, "result_message"));
}

static void print_ledger(const json_t *o)
{
    const json_t *t = json_object_get(o, "talent");
    const json_t *acc = json_object_get(o, "accounts");
    printf("ledger of talent %lld %s (%s, %s)\n人才 %lld %s 的台账\n", jint(t, "id"),
           jstr(t, "name"), json_string_value(json_array_get(acc, 0)),
           json_string_value(json_array_get(acc, 1)), jint(t, "id"), jstr(t, "name"));
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(o, "postings"), i, p)
    {
        printf("%-10s  %-11s %12s  %s -> %s  %s\n", jstr(p, "date"), jstr(p, "kind"),
               jstr(p, "amount_yuan"), jstr(p, "debit"), jstr(p, "credit"), jstr(p, "key"));
        print_trace(json_object_get(p, "trace"));
    }
    if (!i) printf("no postings / 没有入账记录\n");
    const json_t *s = json_object_get(o, "totals");
    printf("totals: entitled %s, arrears %s, recovered %s, written off %s, sent %s, returned %s, "
           "paid %s, paid back %s, outstanding %s, in clearing %s\n"
           "合计：应发 %s，补发 %s，追回 %s，核销 %s，发送 %s，退回 %s，已支付 %s，退回追缴 %s，"
           "待支付余额 %s，在途 %s\n",
           jstr(s, "entitled_yuan"), jstr(s, "arrears_yuan"), jstr(s, "recovered_yuan"),
           jstr(s, "written_off_yuan"), jstr(s, "sent_yuan"), jstr(s, "returned_yuan"),
           jstr(s, "paid_yuan"), jstr(s, "collected_yuan"), jstr(s, "outstanding_yuan"),
           jstr(s, "in_clearing_yuan"), jstr(s, "entitled_yuan"), jstr(s, "arrears_yuan"),
           jstr(s, "recovered_yuan"), jstr(s, "written_off_yuan"), jstr(s, "sent_yuan"),
           jstr(s, "returned_yuan"), jstr(s, "paid_yuan"), jstr(s, "collected_yuan"),
           jstr(s, "outstanding_yuan"), jstr(s, "in_clearing_yuan"));
    const json_t *other = json_object_get(s, "other_payees");
    if (jint(other, "entitled_fen") || jint(other, "arrears_fen") || jint(other, "recovered_fen"))
        printf("paid to an employer or operator for this person: entitled %s, arrears %s, "
               "recovered %s\n为此人支付给用人单位或运营方：应发 %s，补发 %s，追回 %s\n",
               jstr(other, "entitled_yuan"), jstr(other, "arrears_yuan"),
               jstr(other, "recovered_yuan"), jstr(other, "entitled_yuan"),
               jstr(other, "arrears_yuan"), jstr(other, "recovered_yuan"));
    const json_t *c = json_object_get(o, "check");
    printf("check: %s\n核对：%s\n", jstr(c, "en"), jstr(c, "zh"));
}

/* ---- qianlima ledger verify --------------------------------------------- */

struct printer {
    int json;
    int64_t n;
};

static void print_violation(const struct ledger_violation *v, void *ctx)
{
    struct printer *p = ctx;
    if (p->json) {
        json_t *o = json_pack("{ssssssss}", "check", v->check, "subject", v->subject, "en", v->en,
                              "zh", v->zh);
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n    %s", p->n ? "," : "", text ? text : "null");
        free(text);
        json_decref(o);
    } else {
        printf("%s: %s\n  %s\n", v->check, v->en, v->zh);
    }
    p->n++;
}

static int ledger_verify_cmd(const struct cli_verb *v, int argc, char **argv)
{
    const char *cmd = "ledger verify";
    int as_json = 0;
    const struct cli_flag extra[] = {
        {"json", NULL, "print the result as one JSON object", NULL, &as_json},
        {0},
    };
    int help;
    ql_config cfg;
    int rc = cli_verb_args(cmd, v, argc, argv, extra, 1, &cfg, &help);
    if (rc || help) return rc;
    store *s = NULL;
    rc = cli_store(cmd, &cfg, 1, &s);
    if (!rc) rc = cli_services(cmd, &cfg);
    if (!rc) {
        actor me;
        actor_cli(&me);
        ql_err err = {0};
        struct printer p = {as_json, 0};
        struct ledger_verify_report rep;
        if (as_json) printf("{\"violations\": [");
        if (ledger_verify(s, &me, print_violation, &p, &rep, &err)) {
            if (as_json) printf("\n]}\n");
            cli_error(cmd, err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            if (as_json) {
                json_t *o = json_pack(
                    "{sbsIsIsIsIsIsIsIsI}", "ok", rep.violations == 0, "transfers",
                    (json_int_t)rep.transfers, "sum_fen", (json_int_t)rep.sum_fen, "entitlements",
                    (json_int_t)rep.entitlements, "adjustments", (json_int_t)rep.adjustments,
                    "payments", (json_int_t)rep.payments, "payees", (json_int_t)rep.payees,
                    "cycles", (json_int_t)rep.cycles, "count", (json_int_t)rep.violations);
                char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
                /* the summary's members follow the violations in one object */
                printf("%s],\n %s\n", p.n ? "\n" : "", text ? text + 1 : "}");
                free(text);
                json_decref(o);
            } else {
                char sum[32];
                validate_money_text(rep.sum_fen, sum, sizeof sum);
                printf("ledger: %lld transfers, balances sum to %s yuan; checked %lld "
                       "entitlements, %lld adjustments, %lld payments, %lld payees, %lld "
                       "cycles: %lld violation(s)\n"
                       "账目：%lld 笔转账，余额合计 %s 元；已核对应发 %lld 笔、调整 %lld 笔、付款 "
                       "%lld 笔、收款方 %lld 个、发放批次 %lld 个：%lld 处不符\n",
                       (long long)rep.transfers, sum, (long long)rep.entitlements,
                       (long long)rep.adjustments, (long long)rep.payments, (long long)rep.payees,
                       (long long)rep.cycles, (long long)rep.violations, (long long)rep.transfers,
                       sum, (long long)rep.entitlements, (long long)rep.adjustments,
                       (long long)rep.payments, (long long)rep.payees, (long long)rep.cycles,
                       (long long)rep.violations);
            }
            if (rep.violations) rc = EXIT_FAIL;
        }
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}

int cmd_ledger(int argc, char **argv)
{
    int code;
    const struct cli_verb *v = cli_verb_pick(
        "ledger", argc, argv, ledger_verbs,
        "The ledger and its reports are described in docs/ledger.md; a cycle's totals: "
        "qianlima cycle report.",
        &code);
    if (!v) return code;
    if (!strcmp(v->name, "verify")) return ledger_verify_cmd(v, argc, argv);
    const char *cmd = "ledger person";
    int as_json = 0;
    const struct cli_flag flags[] = {
        {"json", NULL, "print the whole ledger as JSON", NULL, &as_json},
        {0},
    };
    int help;
    ql_config cfg;
    int rc = cli_verb_args(cmd, v, argc, argv, flags, 1, &cfg, &help);
    if (rc || help) return rc;
    char *end;
    errno = 0;
    long long id = strtoll(argv[2], &end, 10);
    if (errno || *end || end == argv[2] || id <= 0) {
        cli_error(cmd, "TALENT_ID must be a talent's number, such as 7",
                  "TALENT_ID 须为人才编号，例如 7");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    store *s = NULL;
    rc = cli_store(cmd, &cfg, 1, &s);
    if (!rc) rc = cli_services(cmd, &cfg);
    actor me;
    actor_cli(&me);
    ql_err err = {0};
    json_t *o = NULL;
    if (!rc && report_person(s, &me, id, &o, &err)) {
        cli_error(cmd, err.en, err.zh);
        rc = EXIT_FAIL;
    } else if (!rc) {
        if (as_json) {
            char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", text);
            free(text);
        } else {
            print_ledger(o);
        }
        if (!json_is_true(json_object_get(json_object_get(o, "check"), "holds"))) rc = EXIT_FAIL;
        json_decref(o);
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}
