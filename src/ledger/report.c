/* report.c - disbursement reports and a person's ledger (report.h). */
#include "ledger/report.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/log.h"
#include "core/validate.h"
#include "ledger/corrections.h"
#include "ledger/cycle.h"
#include "policy/rules.h"
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- who may read ------------------------------------------------------ */

static bool ledger_reader(const actor *a)
{
    return actor_can(a, P_LEDGER_RUN) || actor_can(a, P_LEDGER_APPROVE) ||
           actor_can(a, P_LEDGER_EXPORT);
}

static int may_report(const actor *a, ql_err *err)
{
    if (ledger_reader(a)) return 0;
    if (!a || a->via == VIA_NONE)
        return ql_errf(err, QL_EUNAUTH, NULL, "sign in first", "请先登录");
    return ql_errf(err, QL_EFORBIDDEN, NULL,
                   "disbursement reports need the permission ledger.run, ledger.approve or "
                   "ledger.export",
                   "查看发放报表须有 ledger.run、ledger.approve 或 ledger.export 权限");
}

/* ---- groupings and periods --------------------------------------------- */

static const char *const by_names[] = {"programme", "tier", "employer", "payee_type"};
#define NBY ((int)(sizeof by_names / sizeof by_names[0]))

const char *report_by_name(enum report_by by)
{
    return (int)by >= 0 && (int)by < NBY ? by_names[by] : "?";
}

int report_by_parse(const char *s, enum report_by *out, ql_err *err)
{
    if (!s || !*s) {
        *out = REPORT_PROGRAMME;
        return 0;
    }
    for (int i = 0; i < NBY; i++)
        if (!strcmp(s, by_names[i])) {
            *out = (enum report_by)i;
            return 0;
        }
    return ql_errf(err, QL_EINVAL, "by", "by must be programme, tier, employer or payee_type",
                   "by 须为 programme（补贴项目）、tier（档次）、employer（用人单位）或 "
                   "payee_type（收款方类别）");
}

int report_month(const char *s, struct report_period *out, ql_err *err)
{
    int32_t first;
    memset(out, 0, sizeof *out);
    if (!s || strlen(s) != 7 || date_parse_month(s, &first))
        return ql_errf(err, QL_EINVAL, "month", "the month must be YYYY-MM, such as 2026-11",
                       "月份格式应为 YYYY-MM，例如 2026-11");
    memcpy(out->label, s, 8);
    memcpy(out->from, s, 8);
    memcpy(out->to, s, 8);
    return 0;
}

int report_year(const char *s, struct report_period *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    bool digits = s && strlen(s) == 4;
    for (int i = 0; digits && i < 4; i++)
        if (s[i] < '0' || s[i] > '9') digits = false;
    if (!digits || strcmp(s, "2000") < 0)
        return ql_errf(err, QL_EINVAL, "year", "the year must be YYYY, from 2000 to 9999",
                       "年度格式应为 YYYY（2000 至 9999）");
    memcpy(out->label, s, 5);
    snprintf(out->from, sizeof out->from, "%.4s-01", s);
    snprintf(out->to, sizeof out->to, "%.4s-12", s);
    out->year = true;
    return 0;
}

int report_period_parse(const char *s, struct report_period *out, ql_err *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 4) return report_year(s, out, err);
    if (n == 7 && s[4] == '-') return report_month(s, out, err);
    memset(out, 0, sizeof *out);
    return ql_errf(err, QL_EINVAL, "period", "name a month (YYYY-MM) or a year (YYYY)",
                   "请指定月份（YYYY-MM）或年度（YYYY）");
}

/* ---- totals ------------------------------------------------------------ */

static int cycle_exists(store *s, const struct report_period *p, ql_err *err)
{
    if (p->year) return 0;
    int64_t id;
    int rc = store_query_int(s, "SELECT id FROM cycles WHERE month = $1",
                             (store_val[]){SV_TEXT(p->from)}, 1, &id);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       p->from);
    return rc ? store_failure(s, rc, "", err) : 0;
}

int report_cycles(store *s, const actor *a, const struct report_period *p, report_cycle_fn fn,
                  void *ctx, ql_err *err)
{
    int rc = may_report(a, err);
    if (rc || (rc = cycle_exists(s, p, err))) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT month, state FROM cycles WHERE month >= $1 AND month <= $2 "
                     "ORDER BY month",
                     (store_val[]){SV_TEXT(p->from), SV_TEXT(p->to)}, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    while ((rc = store_step(r)) == 1)
        fn(store_col_text(r, 0, NULL), store_col_text(r, 1, NULL), ctx);
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", err) : 0;
}

/* The rows a report sums: the entitlements and the adjustments of the
 * period's cycles ($1 first month, $2 last), each with the programme, tier,
 * employer and payee type it counts under. */
#define REPORT_BASE                                                                                \
    "(SELECT e.programme AS programme, e.tier AS tier, COALESCE(a.employer_id, 0) AS "             \
    "employer_id, "                                                                                \
    "e.payee_type AS payee_type, CASE WHEN e.amount_fen > 0 THEN 1 ELSE 0 END AS paying, "         \
    "e.amount_fen AS entitled, 0 AS arrears, 0 AS recovered FROM entitlements e "                  \
    "JOIN cycles c ON c.id = e.cycle_id JOIN applications a ON a.id = e.application_id "           \
    "WHERE c.month >= $1 AND c.month <= $2 "                                                       \
    "UNION ALL SELECT j.programme, COALESCE(a.tier, ''), COALESCE(a.employer_id, 0), "             \
    "j.payee_type, 0, 0, CASE WHEN j.kind = 'arrears' THEN j.amount_fen ELSE 0 END, "              \
    "CASE WHEN j.kind = 'recovery' THEN j.amount_fen ELSE 0 END FROM adjustments j "               \
    "JOIN cycles c ON c.id = j.cycle_id JOIN applications a ON a.id = j.application_id "           \
    "WHERE c.month >= $1 AND c.month <= $2) x"
#define REPORT_SUMS                                                                                \
    "COALESCE(SUM(x.paying), 0), COALESCE(SUM(x.entitled), 0), COALESCE(SUM(x.arrears), 0), "      \
    "COALESCE(SUM(x.recovered), 0)"
#define PROGRAMME_NAME(col)                                                                        \
    "COALESCE((SELECT f." col " FROM policy_files f WHERE f.programme = x.programme "              \
    "ORDER BY (f.status = 'active') DESC, f.id DESC LIMIT 1), x.programme)"

/* Columns: key, programme, label, label_en, employer id, then the sums. */
#define BY_PROGRAMME_SQL                                                                           \
    "SELECT x.programme, '', " PROGRAMME_NAME("name_zh") ", " PROGRAMME_NAME(                      \
        "name_en") ", 0, " REPORT_SUMS " FROM " REPORT_BASE                                        \
                   " GROUP BY x.programme ORDER BY x.programme"
#define BY_TIER_SQL                                                                                \
    "SELECT x.tier, x.programme, x.tier, x.tier, 0, " REPORT_SUMS " FROM " REPORT_BASE             \
    " GROUP BY x.programme, x.tier ORDER BY x.programme, x.tier"
#define BY_EMPLOYER_SQL                                                                            \
    "SELECT '', '', COALESCE(m.name, ''), '', x.employer_id, " REPORT_SUMS " FROM " REPORT_BASE    \
    " LEFT JOIN employers m ON m.id = x.employer_id GROUP BY x.employer_id, m.name "               \
    "ORDER BY COALESCE(m.name, ''), x.employer_id"
#define BY_PAYEE_TYPE_SQL                                                                          \
    "SELECT x.payee_type, '', x.payee_type, x.payee_type, 0, " REPORT_SUMS " FROM " REPORT_BASE    \
    " GROUP BY x.payee_type ORDER BY x.payee_type"

static const char *const report_sql[] = {
    [REPORT_PROGRAMME] = BY_PROGRAMME_SQL,
    [REPORT_TIER] = BY_TIER_SQL,
    [REPORT_EMPLOYER] = BY_EMPLOYER_SQL,
    [REPORT_PAYEE_TYPE] = BY_PAYEE_TYPE_SQL,
};

static const char *payee_zh(const char *t)
{
    return !strcmp(t, "person")     ? "个人"
           : !strcmp(t, "employer") ? "用人单位"
           : !strcmp(t, "operator") ? "住房租赁企业"
                                    : t;
}

static const char *payee_en(const char *t)
{
    return !strcmp(t, "person")     ? "Person"
           : !strcmp(t, "employer") ? "Employer"
           : !strcmp(t, "operator") ? "Housing operator"
                                    : t;
}

static int add_fen(int64_t *sum, int64_t v, ql_err *err)
{
    if (__builtin_add_overflow(*sum, v, sum))
        return ql_errf(err, QL_EINTERNAL, "", "a report total overflows", "报表合计溢出");
    return 0;
}

static int net_of(struct report_row *row, ql_err *err)
{
    int64_t n;
    if (__builtin_add_overflow(row->entitled_fen, row->arrears_fen, &n) ||
        __builtin_sub_overflow(n, row->recovered_fen, &n))
        return ql_errf(err, QL_EINTERNAL, "", "a report total overflows", "报表合计溢出");
    row->net_fen = n;
    return 0;
}

int report_totals(store *s, const actor *a, const struct report_period *p, enum report_by by,
                  report_row_fn fn, void *ctx, struct report_row *total, ql_err *err)
{
    memset(total, 0, sizeof *total);
    total->key = "total";
    total->programme = "";
    total->label = "合计";
    total->label_en = "Total";
    int rc = may_report(a, err);
    if (rc || (rc = cycle_exists(s, p, err))) return rc;
    if ((int)by < 0 || (int)by >= NBY) return report_by_parse("?", &by, err);
    store_rows *r;
    rc = store_query(s, report_sql[by], (store_val[]){SV_TEXT(p->from), SV_TEXT(p->to)}, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    char key[32];
    int step;
    while ((step = store_step(r)) == 1) {
        struct report_row row = {store_col_text(r, 0, NULL), store_col_text(r, 1, NULL),
                                 store_col_text(r, 2, NULL), store_col_text(r, 3, NULL),
                                 store_col_int(r, 4),        store_col_int(r, 5),
                                 store_col_int(r, 6),        store_col_int(r, 7),
                                 store_col_int(r, 8),        0};
        if (by == REPORT_EMPLOYER) {
            snprintf(key, sizeof key, "%lld", (long long)row.employer_id);
            row.key = key;
            if (!row.label[0]) {
                row.label = "（无用人单位）";
                row.label_en = "(no employer)";
            }
        } else if (by == REPORT_PAYEE_TYPE) {
            row.label_en = payee_en(row.key);
            row.label = payee_zh(row.key);
        }
        if ((rc = net_of(&row, err)) || (rc = add_fen(&total->paying, row.paying, err)) ||
            (rc = add_fen(&total->entitled_fen, row.entitled_fen, err)) ||
            (rc = add_fen(&total->arrears_fen, row.arrears_fen, err)) ||
            (rc = add_fen(&total->recovered_fen, row.recovered_fen, err)) || (rc = fn(&row, ctx)))
            break;
    }
    store_rows_close(r);
    if (rc) return rc;
    if (step < 0) return store_failure(s, step, "", err);
    return net_of(total, err);
}

/* ---- as JSON ----------------------------------------------------------- */

static void set_money(json_t *o, const char *name, int64_t fen)
{
    char k[48];
    snprintf(k, sizeof k, "%s_fen", name);
    json_object_set_new(o, k, json_integer((json_int_t)fen));
    snprintf(k, sizeof k, "%s_yuan", name);
    json_object_set_new(o, k, pol_yuan_json(fen));
}

static json_t *row_json(const struct report_row *row, enum report_by by)
{
    json_t *o =
        json_pack("{ssssss}", "key", row->key, "label", row->label, "label_en", row->label_en);
    if (by == REPORT_TIER) json_object_set_new(o, "programme", json_string(row->programme));
    if (by == REPORT_EMPLOYER)
        json_object_set_new(o, "employer_id", json_integer((json_int_t)row->employer_id));
    json_object_set_new(o, "paying", json_integer((json_int_t)row->paying));
    set_money(o, "entitled", row->entitled_fen);
    set_money(o, "arrears", row->arrears_fen);
    set_money(o, "recovered", row->recovered_fen);
    set_money(o, "net", row->net_fen);
    return o;
}

struct json_ctx {
    json_t *rows;
    enum report_by by;
};

static int json_row(const struct report_row *row, void *vctx)
{
    struct json_ctx *x = vctx;
    json_array_append_new(x->rows, row_json(row, x->by));
    return 0;
}

static void json_cycle(const char *month, const char *state, void *ctx)
{
    json_array_append_new(ctx, json_pack("{ssss}", "month", month, "state", state));
}

struct json_job {
    const actor *a;
    const struct report_period *p;
    enum report_by by;
    json_t *out;
    ql_err *err;
};

/* The cycles and the totals, read in one snapshot. */
static int json_body(store *s, void *vctx)
{
    struct json_job *j = vctx;
    json_decref(j->out); /* a retried transaction starts again */
    j->out = NULL;
    json_t *cycles = json_array();
    struct json_ctx x = {json_array(), j->by};
    struct report_row total;
    int rc = report_cycles(s, j->a, j->p, json_cycle, cycles, j->err);
    if (!rc) rc = report_totals(s, j->a, j->p, j->by, json_row, &x, &total, j->err);
    if (rc) {
        json_decref(cycles);
        json_decref(x.rows);
        return rc;
    }
    j->out = json_pack("{sssbsssoso}", "period", j->p->label, "year", j->p->year, "by",
                       report_by_name(j->by), "cycles", cycles, "rows", x.rows);
    json_object_set_new(j->out, "total", row_json(&total, j->by));
    return 0;
}

int report_json(store *s, const actor *a, const struct report_period *p, enum report_by by,
                json_t **out, ql_err *err)
{
    *out = NULL;
    int rc = may_report(a, err);
    if (rc) return rc;
    struct json_job j = {a, p, by, NULL, err};
    if ((rc = store_tx(s, STORE_TX_READ, json_body, &j))) {
        json_decref(j.out);
        return rc;
    }
    *out = j.out;
    return 0;
}

/* ---- as a file --------------------------------------------------------- */

struct file_ctx {
    exporter *x;
    const struct report_period *p;
    enum report_by by;
    bool total; /* the row is the total row */
    ql_err *err;
};

static export_cell text_cell(const char *s)
{
    return (export_cell){s && s[0] ? CELL_TEXT : CELL_EMPTY, s, 0};
}

static int file_row(const struct report_row *row, void *vctx)
{
    struct file_ctx *f = vctx;
    export_cell c[8];
    int n = 0;
    c[n++] = text_cell(f->p->label);
    bool total = f->total;
    switch (f->by) {
    case REPORT_PROGRAMME:
        c[n++] = text_cell(total ? row->label : row->key);
        c[n++] = text_cell(total ? "" : row->label);
        break;
    case REPORT_TIER:
        c[n++] = text_cell(total ? row->label : row->programme);
        c[n++] = text_cell(total ? "" : row->key);
        break;
    case REPORT_EMPLOYER:
        c[n++] = total ? text_cell(row->label) : (export_cell){CELL_INT, NULL, row->employer_id};
        c[n++] = text_cell(total ? "" : row->label);
        break;
    case REPORT_PAYEE_TYPE:
        c[n++] = text_cell(row->label);
        break;
    }
    c[n++] = (export_cell){CELL_INT, NULL, row->paying};
    c[n++] = (export_cell){CELL_MONEY, NULL, row->entitled_fen};
    c[n++] = (export_cell){CELL_MONEY, NULL, row->arrears_fen};
    c[n++] = (export_cell){CELL_MONEY, NULL, row->recovered_fen};
    c[n++] = (export_cell){CELL_MONEY, NULL, row->net_fen};
    return export_row(f->x, c, n, f->err);
}

struct export_audit {
    const actor *a;
    const struct report_period *p;
    enum report_by by;
    enum export_format format;
    int64_t rows;
    ql_err *err;
};

static int export_audit_body(store *s, void *vctx)
{
    struct export_audit *x = vctx;
    json_t *detail =
        json_pack("{sssssssI}", "period", x->p->label, "by", report_by_name(x->by), "format",
                  x->format == EXPORT_CSV ? "csv" : "xlsx", "rows", (json_int_t)x->rows);
    int rc =
        audit_by(s, x->a, "ledger.report_export", "report", 0, NULL, NULL, detail, NULL, x->err);
    json_decref(detail);
    return rc;
}

int report_export(store *s, const actor *a, const struct report_period *p, enum report_by by,
                  enum export_format format, const char *path, int64_t *rows, ql_err *err)
{
    *rows = 0;
    int rc = may_report(a, err);
    if (rc || (rc = cycle_exists(s, p, err))) return rc;
    if ((int)by < 0 || (int)by >= NBY) return report_by_parse("?", &by, err);
    static const char *const group_titles[][2] = {
        [REPORT_PROGRAMME] = {"补贴项目", "项目名称"},
        [REPORT_TIER] = {"补贴项目", "档次"},
        [REPORT_EMPLOYER] = {"用人单位编号", "用人单位"},
        [REPORT_PAYEE_TYPE] = {"收款方类别", NULL},
    };
    const char *titles[8];
    int n = 0;
    titles[n++] = p->year ? "年度" : "发放月份";
    titles[n++] = group_titles[by][0];
    if (group_titles[by][1]) titles[n++] = group_titles[by][1];
    titles[n++] = "发放笔数";
    titles[n++] = "应发金额（元）";
    titles[n++] = "补发金额（元）";
    titles[n++] = "追回金额（元）";
    titles[n++] = "净额（元）";
    static const char *const sheet[] = {
        [REPORT_PROGRAMME] = "按补贴项目",
        [REPORT_TIER] = "按档次",
        [REPORT_EMPLOYER] = "按用人单位",
        [REPORT_PAYEE_TYPE] = "按收款方类别",
    };
    char sheet_name[64];
    snprintf(sheet_name, sizeof sheet_name, "%s %s", p->label, sheet[by]);
    struct file_ctx f = {NULL, p, by, false, err};
    if ((rc = export_open(format, path, sheet_name, &f.x, err))) return rc;
    struct report_row total;
    rc = export_header(f.x, titles, n, err);
    if (!rc) rc = report_totals(s, a, p, by, file_row, &f, &total, err);
    if (!rc) {
        f.total = true;
        rc = file_row(&total, &f);
    }
    int64_t written = export_rows(f.x);
    ql_err close_err;
    int crc = export_close(f.x, &close_err);
    if (!rc && crc) {
        if (err) *err = close_err;
        rc = crc;
    }
    if (rc) return rc;
    struct export_audit x = {a, p, by, format, written - 1, err};
    if ((rc = store_tx(s, STORE_TX_WRITE, export_audit_body, &x))) return rc;
    ql_err e;
    if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    *rows = written - 1;
    return 0;
}

/* ---- the ledger of one person ------------------------------------------ */

enum posting_kind {
    PK_ENTITLEMENT,
    PK_ARREARS,
    PK_RECOVERY,
    PK_SENT,
    PK_PAID,
    PK_RETURNED,
    PK_WRITTEN_OFF,
    PK_COLLECTED,
    PK_OTHER,
    PK_COUNT
};

static const char *const posting_names[PK_COUNT] = {"entitlement", "arrears",   "recovery",
                                                    "sent",        "paid",      "returned",
                                                    "written_off", "collected", "other"};

static bool has_prefix(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

static bool moves(const char *dk, const char *ck, const char *from, const char *to)
{
    return !strcmp(dk, from) && !strcmp(ck, to);
}

/* What a transfer is, from the kinds of its accounts (debit dk, credit ck),
 * its key and the row it was found with (an entitlement, an adjustment of
 * kind adj). Anything else is "other", which the check then shows. */
static enum posting_kind classify(const char *key, const char *dk, const char *ck, bool ent,
                                  const char *adj)
{
    if (moves(dk, ck, "budget", "payable")) {
        if (ent || has_prefix(key, "entitlement:")) return PK_ENTITLEMENT;
        if (!strcmp(adj, "arrears") || has_prefix(key, "adjust:")) return PK_ARREARS;
        return PK_OTHER;
    }
    if (moves(dk, ck, "payable", "budget")) {
        if (has_prefix(key, "writeoff:")) return PK_WRITTEN_OFF;
        if (!strcmp(adj, "recovery") || has_prefix(key, "adjust:")) return PK_RECOVERY;
        return PK_OTHER;
    }
    if (moves(dk, ck, "payable", "clearing")) return PK_SENT;
    if (moves(dk, ck, "clearing", "paid")) return PK_PAID;
    if (moves(dk, ck, "clearing", "payable")) return PK_RETURNED;
    if (moves(dk, ck, "paid", "payable")) return PK_COLLECTED;
    return PK_OTHER;
}

#define PERSON_APPS "(SELECT id FROM applications WHERE talent_id = $1)"

/* $1 the talent, $2 and $3 the codes of their payable and paid accounts. */
static const char person_sql[] =
    "SELECT t.id, t.idempotency_key, t.created_at, t.amount_fen, t.cycle, "
    "COALESCE(t.application_id, 0), d.code, d.kind, c.code, c.kind, "
    "e.id, COALESCE(e.application_id, 0), COALESCE(e.policy_file_id, 0), "
    "COALESCE(e.policy_version, ''), COALESCE(e.tier, ''), COALESCE(e.month_index, 0), "
    "COALESCE(e.days, 0), COALESCE(e.inputs, ''), COALESCE(e.steps, ''), "
    "j.id, COALESCE(j.kind, ''), COALESCE(j.application_id, 0), COALESCE(j.for_month, ''), "
    "COALESCE(j.was_fen, 0), COALESCE(j.due_fen, 0), COALESCE(j.steps, ''), "
    "p.id, COALESCE(p.request_id, ''), COALESCE(p.attempt, 0), COALESCE(pc.month, ''), "
    "COALESCE(b.batch_no, ''), COALESCE(p.state, ''), COALESCE(p.result_code, ''), "
    "COALESCE(p.result_message, ''), COALESCE(p.bank_masked, ''), COALESCE(ec.month, '') "
    "FROM ledger_transfers t "
    "JOIN ledger_accounts d ON d.id = t.debit_account "
    "JOIN ledger_accounts c ON c.id = t.credit_account "
    "LEFT JOIN (SELECT id, cycle_id, transfer_id, application_id, policy_file_id, "
    "policy_version, tier, month_index, days, inputs, steps FROM entitlements WHERE "
    "application_id IN " PERSON_APPS ") e ON e.transfer_id = t.id "
    "LEFT JOIN cycles ec ON ec.id = e.cycle_id "
    "LEFT JOIN (SELECT id, transfer_id, kind, application_id, for_month, was_fen, due_fen, steps "
    "FROM adjustments WHERE application_id IN " PERSON_APPS ") j ON j.transfer_id = t.id "
    "LEFT JOIN (SELECT id, request_id, attempt, cycle_id, batch_id, state, result_code, "
    "result_message, bank_masked, send_transfer_id, settle_transfer_id FROM payments "
    "WHERE account_id IN (SELECT id FROM ledger_accounts WHERE code = $2)) p ON "
    "p.send_transfer_id = t.id OR "
    "p.settle_transfer_id = t.id OR t.idempotency_key = 'writeoff:' || p.request_id "
    "LEFT JOIN cycles pc ON pc.id = p.cycle_id "
    "LEFT JOIN bank_batches b ON b.id = p.batch_id "
    "WHERE t.id IN (SELECT x.id FROM ledger_transfers x JOIN ledger_accounts xa ON "
    "xa.id = x.debit_account WHERE xa.code IN ($2, $3) UNION SELECT x.id FROM ledger_transfers x "
    "JOIN ledger_accounts xa ON xa.id = x.credit_account WHERE xa.code IN ($2, $3) UNION "
    "SELECT x.id FROM ledger_transfers x WHERE x.application_id IN " PERSON_APPS ") "
    "ORDER BY t.id";

struct person_totals {
    int64_t fen[PK_COUNT];   /* own postings by kind */
    int64_t other[PK_COUNT]; /* postings of the person's applications to other payees */
    int64_t outstanding, in_clearing;
};

struct person_ctx {
    int64_t talent;
    char payable[48], paid[48];
    json_t *out;
    ql_err *err;
};

/* A JSON text stored by the cycle (inputs, steps), or null. */
static json_t *stored_json(const char *text)
{
    json_t *v = text[0] ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *posting_trace(store_rows *r, const char *key, enum posting_kind k)
{
    if (k == PK_COLLECTED && has_prefix(key, "collect:"))
        return json_pack("{ssss}", "type", "collection", "reference", key + strlen("collect:"));
    if (!store_col_isnull(r, 10))
        return json_pack(
            "{sssssIsIsssssIsIsoso}", "type", "entitlement", "month", store_col_text(r, 35, NULL),
            "application_id", (json_int_t)store_col_int(r, 11), "policy_file_id",
            (json_int_t)store_col_int(r, 12), "policy_version", store_col_text(r, 13, NULL), "tier",
            store_col_text(r, 14, NULL), "month_index", (json_int_t)store_col_int(r, 15), "days",
            (json_int_t)store_col_int(r, 16), "inputs", stored_json(store_col_text(r, 17, NULL)),
            "steps", stored_json(store_col_text(r, 18, NULL)));
    if (!store_col_isnull(r, 19)) {
        json_t *o = json_pack("{sssIsssIss}", "type", "adjustment", "adjustment_id",
                              (json_int_t)store_col_int(r, 19), "kind", store_col_text(r, 20, NULL),
                              "application_id", (json_int_t)store_col_int(r, 21), "for_month",
                              store_col_text(r, 22, NULL));
        set_money(o, "was", store_col_int(r, 23));
        set_money(o, "due", store_col_int(r, 24));
        json_object_set_new(o, "steps", stored_json(store_col_text(r, 25, NULL)));
        return o;
    }
    if (!store_col_isnull(r, 26))
        return json_pack(
            "{sssssIssssssssssss}", "type", "payment", "request_id", store_col_text(r, 27, NULL),
            "attempt", (json_int_t)store_col_int(r, 28), "cycle", store_col_text(r, 29, NULL),
            "batch_no", store_col_text(r, 30, NULL), "state", store_col_text(r, 31, NULL),
            "result_code", store_col_text(r, 32, NULL), "result_message",
            store_col_text(r, 33, NULL), "account_masked", store_col_text(r, 34, NULL));
    return json_null();
}

static int add_checked(int64_t *sum, int64_t v, ql_err *err)
{
    if (__builtin_add_overflow(*sum, v, sum))
        return ql_errf(err, QL_EINTERNAL, "", "a ledger total overflows", "台账合计溢出");
    return 0;
}

/* Reads the postings into x->out's "postings" and t. */
static int person_postings(store *s, struct person_ctx *x, json_t *list, struct person_totals *t)
{
    store_rows *r;
    int rc =
        store_query(s, person_sql,
                    (store_val[]){SV_INT(x->talent), SV_TEXT(x->payable), SV_TEXT(x->paid)}, 3, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    int64_t last = 0;
    int step;
    while ((step = store_step(r)) == 1) {
        int64_t id = store_col_int(r, 0);
        if (id == last) continue; /* one transfer, matched twice */
        last = id;
        const char *key = store_col_text(r, 1, NULL);
        int64_t fen = store_col_int(r, 3);
        const char *debit = store_col_text(r, 6, NULL), *credit = store_col_text(r, 8, NULL);
        enum posting_kind k = classify(key, store_col_text(r, 7, NULL), store_col_text(r, 9, NULL),
                                       !store_col_isnull(r, 10), store_col_text(r, 20, NULL));
        bool own = !strcmp(debit, x->payable) || !strcmp(credit, x->payable) ||
                   !strcmp(debit, x->paid) || !strcmp(credit, x->paid);
        if ((rc = add_checked(own ? &t->fen[k] : &t->other[k], fen, x->err))) break;
        if (!strcmp(credit, x->payable)) rc = add_checked(&t->outstanding, fen, x->err);
        if (!rc && !strcmp(debit, x->payable)) rc = add_checked(&t->outstanding, -fen, x->err);
        if (rc) break;
        char day[16];
        int64_t at = store_col_int(r, 2);
        date_format((int32_t)((at + 8 * 3600) / 86400), day, sizeof day);
        int64_t app = store_col_int(r, 5);
        json_t *o = json_pack("{sIsssssssssssIsosssosbso}", "id", (json_int_t)id, "date", day,
                              "key", key, "kind", posting_names[k], "debit", debit, "credit",
                              credit, "amount_fen", (json_int_t)fen, "amount_yuan",
                              pol_yuan_json(fen), "cycle", store_col_text(r, 4, NULL),
                              "application_id", app ? json_integer((json_int_t)app) : json_null(),
                              "own", own, "trace", posting_trace(r, key, k));
        json_array_append_new(list, o);
    }
    store_rows_close(r);
    if (rc) return rc;
    if (step < 0) return store_failure(s, step, "", x->err);
    /* an entitlement keeps its frozen inputs; its steps are derived from
     * them again (cycle_steps), now that no result set is open */
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        json_t *tr = json_object_get(p, "trace");
        const char *type = json_string_value(json_object_get(tr, "type"));
        if (type && !strcmp(type, "adjustment")) { /* the registry changes it follows from */
            json_t *causes = NULL;
            int crc = corr_causes(s, json_integer_value(json_object_get(tr, "adjustment_id")),
                                  &causes, x->err);
            if (crc) return crc;
            json_object_set_new(tr, "causes", causes);
            continue;
        }
        if (!type || strcmp(type, "entitlement") || !json_is_null(json_object_get(tr, "steps")))
            continue;
        json_t *steps = NULL;
        ql_err e = {0};
        int src = cycle_steps(s, json_integer_value(json_object_get(tr, "application_id")),
                              json_string_value(json_object_get(tr, "month")), &steps, &e);
        if (src == QL_EDB || src == QL_EBUSY || src == QL_EUNAVAIL) {
            if (x->err) *x->err = e;
            return src;
        }
        if (src) /* the amount does not follow from what was frozen: say so, show the rest */
            json_object_set_new(tr, "steps_error", json_pack("{ssss}", "en", e.en, "zh", e.zh));
        else
            json_object_set_new(tr, "steps", steps);
    }
    return 0;
}

static int person_body(store *s, void *vctx)
{
    struct person_ctx *x = vctx;
    json_decref(x->out); /* a retried transaction starts again */
    x->out = NULL;
    store_rows *r;
    int rc = store_query(s, "SELECT name FROM talents WHERE id = $1",
                         (store_val[]){SV_INT(x->talent)}, 1, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    json_t *talent = NULL;
    if ((rc = store_step(r)) == 1)
        talent =
            json_pack("{sIss}", "id", (json_int_t)x->talent, "name", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", x->err);
    if (!talent)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no talent %lld",
                       "不存在编号为 %lld 的人才", (long long)x->talent);
    json_t *list = json_array();
    struct person_totals t;
    memset(&t, 0, sizeof t);
    rc = person_postings(s, x, list, &t);
    if (!rc) {
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM payments WHERE "
                             "account_id IN (SELECT id FROM ledger_accounts WHERE code = $1) "
                             "AND state IN ('queued', 'sent')",
                             (store_val[]){SV_TEXT(x->payable)}, 1, &t.in_clearing);
        if (rc) rc = store_failure(s, rc, "", x->err);
    }
    if (rc) {
        json_decref(talent);
        json_decref(list);
        return rc;
    }
    json_t *totals = json_object();
    set_money(totals, "entitled", t.fen[PK_ENTITLEMENT]);
    set_money(totals, "arrears", t.fen[PK_ARREARS]);
    set_money(totals, "recovered", t.fen[PK_RECOVERY]);
    set_money(totals, "written_off", t.fen[PK_WRITTEN_OFF]);
    set_money(totals, "sent", t.fen[PK_SENT]);
    set_money(totals, "returned", t.fen[PK_RETURNED]);
    set_money(totals, "paid", t.fen[PK_PAID]);
    set_money(totals, "collected", t.fen[PK_COLLECTED]);
    set_money(totals, "outstanding", t.outstanding);
    set_money(totals, "in_clearing", t.in_clearing);
    set_money(totals, "other", t.fen[PK_OTHER]);
    json_t *others = json_object();
    set_money(others, "entitled", t.other[PK_ENTITLEMENT]);
    set_money(others, "arrears", t.other[PK_ARREARS]);
    set_money(others, "recovered", t.other[PK_RECOVERY]);
    json_object_set_new(totals, "other_payees", others);
    /* paid - paid back = entitled + arrears - recovered - written off - outstanding
     * - in clearing */
    int64_t want = t.fen[PK_ENTITLEMENT], net = t.fen[PK_PAID];
    bool over = __builtin_add_overflow(want, t.fen[PK_ARREARS], &want) ||
                __builtin_sub_overflow(want, t.fen[PK_RECOVERY], &want) ||
                __builtin_sub_overflow(want, t.fen[PK_WRITTEN_OFF], &want) ||
                __builtin_sub_overflow(want, t.outstanding, &want) ||
                __builtin_sub_overflow(want, t.in_clearing, &want) ||
                __builtin_sub_overflow(net, t.fen[PK_COLLECTED], &net);
    bool holds = !over && want == net;
    char y[8][32];
    int64_t parts[8] = {t.fen[PK_PAID],    t.fen[PK_COLLECTED], t.fen[PK_ENTITLEMENT],
                        t.fen[PK_ARREARS], t.fen[PK_RECOVERY],  t.fen[PK_WRITTEN_OFF],
                        t.outstanding,     t.in_clearing};
    for (int i = 0; i < 8; i++) validate_money_text(parts[i], y[i], sizeof y[i]);
    char w[32], en[600], zh[600];
    validate_money_text(want, w, sizeof w);
    snprintf(en, sizeof en,
             "paid %s - paid back %s = entitled %s + arrears %s - recovered %s - written off %s "
             "- outstanding %s - in clearing %s: %s%s%s",
             y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7],
             holds ? "holds" : "does not hold (the right side is ", holds ? "" : w,
             holds ? "" : ")");
    snprintf(zh, sizeof zh,
             "已支付 %s − 退回追缴 %s = 应发 %s + 补发 %s − 追回 %s − 核销 %s − 待支付余额 %s − "
             "在途 %s：%s%s%s",
             y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7], holds ? "相符" : "不相符（右边合计 ",
             holds ? "" : w, holds ? "" : "）");
    json_t *check = json_pack("{sbsIsIssss}", "holds", holds, "paid_fen", (json_int_t)net,
                              "expected_fen", (json_int_t)want, "en", en, "zh", zh);
    x->out = json_pack("{sos[ss]sososo}", "talent", talent, "accounts", x->payable, x->paid,
                       "postings", list, "totals", totals, "check", check);
    return 0;
}

int report_person(store *s, const actor *a, int64_t talent_id, json_t **out, ql_err *err)
{
    *out = NULL;
    if (!ledger_reader(a)) {
        enum scope_kind kind;
        int64_t sid;
        if (!actor_can(a, P_SUBSIDY_APPLY)) return may_report(a, err);
        int rc = registry_scope(s, a, &kind, &sid);
        if (rc) return store_failure(s, rc, "", err);
        if (kind != SCOPE_SELF) return may_report(a, err);
        if (sid <= 0 || sid != talent_id)
            return ql_errf(err, QL_ENOTFOUND, "id", "there is no talent %lld",
                           "不存在编号为 %lld 的人才", (long long)talent_id);
    }
    if (talent_id <= 0)
        return ql_errf(err, QL_ENOTFOUND, "id", "there is no talent %lld",
                       "不存在编号为 %lld 的人才", (long long)talent_id);
    struct person_ctx x = {talent_id, "", "", NULL, err};
    snprintf(x.payable, sizeof x.payable, "payable:person:%lld", (long long)talent_id);
    snprintf(x.paid, sizeof x.paid, "paid:person:%lld", (long long)talent_id);
    int rc = store_tx(s, STORE_TX_READ, person_body, &x);
    if (rc) {
        json_decref(x.out);
        return rc;
    }
    *out = x.out;
    return 0;
}
