/* export.c - registry lists into .xlsx or CSV, streamed, masked unless the
 * account may and says why, and audited. */
#include "registry/export.h"

#include "core/date.h"
#include "core/pii.h"
#include "registry/housing.h"
#include "registry/internal.h"

#include <stdio.h>
#include <string.h>

/* What one export is writing. */
struct export_job {
    exporter *x;
    ql_err *err;
    int unmask;
};

static const char *str(const json_t *row, const char *key)
{
    const char *v = json_string_value(json_object_get(row, key));
    return v ? v : "";
}

static export_cell text_cell(const char *s)
{
    return (export_cell){s[0] ? CELL_TEXT : CELL_EMPTY, s, 0};
}

static export_cell date_cell(const char *s)
{
    int32_t day;
    if (!s[0] || date_parse(s, &day)) return text_cell(s);
    return (export_cell){CELL_DATE, NULL, day};
}

static export_cell yes_no_cell(const json_t *row, const char *key)
{
    return text_cell(json_is_true(json_object_get(row, key)) ? "是" : "否");
}

static const char *id_kind_zh(const char *kind)
{
    return !strcmp(kind, "resident") ? "居民身份证" : !strcmp(kind, "foreign_permanent") ? "外国人永久居留身份证" : kind;
}

static const char *const talent_titles[] = {
    "编号",     "姓名",     "证件号码", "证件类型", "出生年份",     "性别",
    "手机号码", "学历",     "毕业日期", "人才类别", "人才层次",     "用人单位",
    "用人单位统一社会信用代码", "入职日期", "本区社保缴纳月数",
    "本人配偶或未成年子女在沪有住房", "银行卡号", "登记时间"};
#define TALENT_COLS ((int)(sizeof talent_titles / sizeof talent_titles[0]))

static int talent_row(const json_t *row, void *ctx)
{
    struct export_job *job = ctx;
    const json_t *emp = json_object_get(row, "employer");
    const char *sex = str(row, "sex");
    export_cell c[TALENT_COLS] = {
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "id"))},
        text_cell(str(row, "name")),
        text_cell(job->unmask ? str(row, "id_number") : str(row, "id_masked")),
        text_cell(id_kind_zh(str(row, "id_kind"))),
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "birth_year"))},
        text_cell(!strcmp(sex, "f") ? "女" : !strcmp(sex, "m") ? "男" : sex),
        text_cell(job->unmask ? str(row, "phone") : str(row, "phone_masked")),
        text_cell(reg_education_zh(str(row, "education"))),
        date_cell(str(row, "graduation_date")),
        text_cell(str(row, "category")),
        text_cell(str(row, "level")),
        text_cell(json_is_object(emp) ? str(emp, "name") : ""),
        text_cell(json_is_object(emp) ? str(emp, "credit_code") : ""),
        date_cell(str(row, "employed_since")),
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "insurance_months"))},
        yes_no_cell(row, "owns_housing"),
        text_cell(job->unmask ? str(row, "bank_account") : str(row, "bank_masked")),
        text_cell(str(row, "created_at")),
    };
    return export_row(job->x, c, TALENT_COLS, job->err);
}

static const char *const employer_titles[] = {"编号",     "统一社会信用代码", "单位名称", "行业",
                                              "本区注册", "本区纳税",         "重点企业", "登记时间"};
#define EMPLOYER_COLS ((int)(sizeof employer_titles / sizeof employer_titles[0]))

static int employer_row(const json_t *row, void *ctx)
{
    struct export_job *job = ctx;
    export_cell c[EMPLOYER_COLS] = {
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "id"))},
        text_cell(str(row, "credit_code")),
        text_cell(str(row, "name")),
        text_cell(reg_industry_zh(str(row, "industry"))),
        yes_no_cell(row, "registered"),
        yes_no_cell(row, "taxed"),
        yes_no_cell(row, "key_enterprise"),
        text_cell(str(row, "created_at")),
    };
    return export_row(job->x, c, EMPLOYER_COLS, job->err);
}

static const char *format_name(enum export_format format)
{
    return format == EXPORT_CSV ? "csv" : "xlsx";
}

/* The search text of a filter as the audit row keeps it: an ID, mobile or
 * card number masked (the audit log holds no personal numbers). */
static json_t *audit_q(const char *q)
{
    char text[130], norm[130], masked[64];
    reg_trim(q, text, sizeof text);
    int also_card = 0;
    int kind = reg_query_kind(text, norm, sizeof norm, &also_card);
    if (!kind) {
        json_t *v = json_string(pii_scrub(text, norm, sizeof norm));
        return v ? v : json_string(""); /* not UTF-8: nothing to keep */
    }
    pii_mask((enum pii_kind)kind, norm, masked, sizeof masked);
    return json_string(masked);
}

/* The audit row of a finished export. */
struct audit_ctx {
    const actor *a;
    const char *kind, *format, *reason;
    int64_t rows;
    int unmask;
    json_t *filter;
    ql_err *err;
};

static int audit_body(store *s, void *arg)
{
    struct audit_ctx *c = arg;
    json_t *detail = json_pack("{s:s, s:s, s:I, s:b, s:O}", "kind", c->kind, "format", c->format,
                               "rows", (json_int_t)c->rows, "unmasked", c->unmask, "filter",
                               c->filter);
    if (c->unmask) {
        char reason[800];
        json_object_set_new(detail, "reason",
                            json_string(pii_scrub(c->reason, reason, sizeof reason)));
    }
    /* The object type is the kind without its plural s ("talents": talent). */
    char object_type[32];
    snprintf(object_type, sizeof object_type, "%.*s", (int)strlen(c->kind) - 1, c->kind);
    return reg_audit(s, c->a, c->unmask ? "registry.export_unmasked" : "registry.export",
                     object_type, 0, NULL, NULL, detail, c->err);
}

static int finish(store *s, struct export_job *job, struct audit_ctx *ac, int rc, int64_t *rows)
{
    ql_err close_err;
    int64_t n = export_rows(job->x);
    int crc = export_close(job->x, &close_err);
    if (!rc && crc) {
        *job->err = close_err;
        rc = crc;
    }
    if (!rc) {
        ac->rows = n;
        rc = reg_write_tx(s, audit_body, ac);
    }
    json_decref(ac->filter);
    if (!rc) *rows = n;
    return rc;
}

int registry_export_talents(store *s, const actor *a, const struct talent_filter *f,
                            const char *reason, enum export_format format, const char *path,
                            int64_t *rows, ql_err *err)
{
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (rc) return rc;
    char why[401] = "";
    if (f->unmask) {
        rc = actor_require(a, P_PERSONAL_UNMASK, err);
        if (rc) return rc;
        if (reg_reason(reason, why, sizeof why, err)) return QL_EINVAL;
    }
    struct export_job job = {NULL, err, f->unmask};
    rc = export_open(format, path, "人才", &job.x, err);
    if (rc) return rc;
    rc = export_header(job.x, talent_titles, TALENT_COLS, err);
    if (!rc) rc = registry_talent_each(s, a, f, talent_row, &job, err);
    struct audit_ctx ac = {a,
                           "talents",
                           format_name(format),
                           why,
                           0,
                           f->unmask,
                           json_pack("{s:o, s:I, s:s, s:s}", "q", audit_q(f->q), "employer_id",
                                     (json_int_t)f->employer_id, "education",
                                     f->education ? f->education : "", "level",
                                     f->level ? f->level : ""),
                           err};
    return finish(s, &job, &ac, rc, rows);
}

int registry_export_employers(store *s, const actor *a, const struct employer_filter *f,
                              enum export_format format, const char *path, int64_t *rows,
                              ql_err *err)
{
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (rc) return rc;
    struct export_job job = {NULL, err, 0};
    rc = export_open(format, path, "用人单位", &job.x, err);
    if (rc) return rc;
    rc = export_header(job.x, employer_titles, EMPLOYER_COLS, err);
    if (!rc) rc = registry_employer_each(s, a, f, employer_row, &job, err);
    struct audit_ctx ac = {a,
                           "employers",
                           format_name(format),
                           "",
                           0,
                           0,
                           json_pack("{s:s, s:s}", "q", f->q ? f->q : "", "industry",
                                     f->industry ? f->industry : ""),
                           err};
    return finish(s, &job, &ac, rc, rows);
}

/* ---- housing: operators, units, leases ------------------------------- */

/* The Chinese name of a code from a {code, name} table, or the code. */
static const char *zh_of(const char *const (*table)[2], size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(table[i][0], code)) return table[i][1];
    return code;
}

static const char *const unit_kinds[][2] = {{"talent_apartment", "人才公寓"},
                                            {"affordable_rental", "保障性租赁住房"},
                                            {"market", "市场化租赁住房"}};
static const char *const unit_statuses[][2] = {
    {"draft", "草稿"}, {"listed", "已发布"}, {"leased", "已出租"}, {"withdrawn", "已下架"}};
static const char *const lease_statuses[][2] = {
    {"active", "生效中"}, {"ended", "已到期"}, {"terminated", "已解除"}};
#define ZH(table, code) zh_of(table, sizeof table / sizeof table[0], code)

static export_cell money_cell(const json_t *row, const char *key)
{
    return (export_cell){CELL_MONEY, NULL, json_integer_value(json_object_get(row, key))};
}

static const char *const operator_titles[] = {"编号", "企业编码", "企业名称", "统一社会信用代码",
                                              "联系人", "联系电话", "房源数", "登记时间"};
#define OPERATOR_COLS ((int)(sizeof operator_titles / sizeof operator_titles[0]))

static int operator_row(const json_t *row, void *ctx)
{
    struct export_job *job = ctx;
    export_cell c[OPERATOR_COLS] = {
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "id"))},
        text_cell(str(row, "code")),
        text_cell(str(row, "name")),
        text_cell(str(row, "credit_code")),
        text_cell(str(row, "contact_name")),
        text_cell(str(row, "contact_phone")),
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "units"))},
        text_cell(str(row, "created_at")),
    };
    return export_row(job->x, c, OPERATOR_COLS, job->err);
}

static const char *const unit_titles[] = {
    "编号", "住房租赁企业", "企业编码", "地址",     "区",   "小区",     "面积（平方米）",
    "室数", "月租金（元）", "房源类型", "房源核验码", "状态", "登记时间"};
#define UNIT_COLS ((int)(sizeof unit_titles / sizeof unit_titles[0]))

static int unit_row(const json_t *row, void *ctx)
{
    struct export_job *job = ctx;
    const json_t *op = json_object_get(row, "operator");
    /* Area in m² with two decimals: the fen-style cell shows cm² / 100. */
    export_cell c[UNIT_COLS] = {
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "id"))},
        text_cell(json_is_object(op) ? str(op, "name") : ""),
        text_cell(json_is_object(op) ? str(op, "code") : ""),
        text_cell(str(row, "address")),
        text_cell(str(row, "district")),
        text_cell(str(row, "community")),
        money_cell(row, "area_cm2"),
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "rooms"))},
        money_cell(row, "rent_fen"),
        text_cell(ZH(unit_kinds, str(row, "kind"))),
        text_cell(str(row, "verification_code")),
        text_cell(ZH(unit_statuses, str(row, "status"))),
        text_cell(str(row, "created_at")),
    };
    return export_row(job->x, c, UNIT_COLS, job->err);
}

static const char *const lease_titles[] = {
    "编号",     "承租人",   "承租人证件号码", "住房租赁企业", "地址",     "起租日期",
    "到期日期", "签约日期", "月租金（元）",   "押金（元）",   "网签备案号", "备案日期",
    "状态",     "终止日期", "登记时间"};
#define LEASE_COLS ((int)(sizeof lease_titles / sizeof lease_titles[0]))

static int lease_row(const json_t *row, void *ctx)
{
    struct export_job *job = ctx;
    const json_t *tenant = json_object_get(row, "talent");
    const json_t *unit = json_object_get(row, "unit");
    const json_t *op = json_is_object(unit) ? json_object_get(unit, "operator") : NULL;
    export_cell c[LEASE_COLS] = {
        {CELL_INT, NULL, json_integer_value(json_object_get(row, "id"))},
        text_cell(json_is_object(tenant) ? str(tenant, "name") : ""),
        text_cell(json_is_object(tenant) ? str(tenant, "id_masked") : ""),
        text_cell(json_is_object(op) ? str(op, "name") : ""),
        text_cell(str(row, "address")),
        date_cell(str(row, "start_date")),
        date_cell(str(row, "end_date")),
        date_cell(str(row, "signed_date")),
        money_cell(row, "rent_fen"),
        money_cell(row, "deposit_fen"),
        text_cell(str(row, "filing_no")),
        date_cell(str(row, "filed_date")),
        text_cell(ZH(lease_statuses, str(row, "status"))),
        date_cell(str(row, "ended_on")),
        text_cell(str(row, "created_at")),
    };
    return export_row(job->x, c, LEASE_COLS, job->err);
}

/* Opens the file with its header row: the start of every housing export. */
static int housing_open(const actor *a, enum export_format format, const char *path,
                        const char *sheet, const char *const *titles, int ncols,
                        struct export_job *job, ql_err *err)
{
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (rc) return rc;
    *job = (struct export_job){NULL, err, 0};
    rc = export_open(format, path, sheet, &job->x, err);
    if (!rc) {
        rc = export_header(job->x, titles, ncols, err);
        if (rc) {
            ql_err ignored;
            export_close(job->x, &ignored);
        }
    }
    return rc;
}

static json_t *filter_text(const char *v)
{
    char out[130];
    return json_string(pii_scrub(v ? v : "", out, sizeof out));
}

int registry_export_operators(store *s, const actor *a, const struct operator_filter *f,
                              enum export_format format, const char *path, int64_t *rows,
                              ql_err *err)
{
    struct export_job job;
    int rc = housing_open(a, format, path, "住房租赁企业", operator_titles, OPERATOR_COLS, &job,
                          err);
    if (rc) return rc;
    rc = registry_operator_each(s, a, f, operator_row, &job, err);
    struct audit_ctx ac = {a, "operators", format_name(format), "", 0, 0,
                           json_pack("{s:o}", "q", filter_text(f->q)), err};
    return finish(s, &job, &ac, rc, rows);
}

int registry_export_units(store *s, const actor *a, const struct unit_filter *f,
                          enum export_format format, const char *path, int64_t *rows, ql_err *err)
{
    struct export_job job;
    int rc = housing_open(a, format, path, "房源", unit_titles, UNIT_COLS, &job, err);
    if (rc) return rc;
    rc = registry_unit_each(s, a, f, unit_row, &job, err);
    struct audit_ctx ac = {
        a, "units", format_name(format), "", 0, 0,
        json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "q", filter_text(f->q), "operator_id",
                  (json_int_t)f->operator_id, "status", filter_text(f->status), "kind",
                  filter_text(f->kind), "district", filter_text(f->district), "rent_min",
                  filter_text(f->rent_min), "rent_max", filter_text(f->rent_max)),
        err};
    return finish(s, &job, &ac, rc, rows);
}

int registry_export_leases(store *s, const actor *a, const struct lease_filter *f,
                           enum export_format format, const char *path, int64_t *rows,
                           ql_err *err)
{
    struct export_job job;
    int rc = housing_open(a, format, path, "租约", lease_titles, LEASE_COLS, &job, err);
    if (rc) return rc;
    rc = registry_lease_each(s, a, f, lease_row, &job, err);
    struct audit_ctx ac = {
        a, "leases", format_name(format), "", 0, 0,
        json_pack("{s:o, s:I, s:I, s:I, s:o, s:o, s:o}", "q", filter_text(f->q), "talent_id",
                  (json_int_t)f->talent_id, "unit_id", (json_int_t)f->unit_id, "operator_id",
                  (json_int_t)f->operator_id, "status", filter_text(f->status), "filed",
                  filter_text(f->filed), "ends_before", filter_text(f->ends_before)),
        err};
    return finish(s, &job, &ac, rc, rows);
}
