/* import.c - CSV import of talents and employers: column mapping, every row
 * checked, every problem reported, all or nothing. */
#include "registry/import.h"

#include "audit/audit.h"
#include "auth/session.h"
#include "core/date.h"
#include "core/log.h"
#include "core/pii.h"
#include "core/xalloc.h"
#include "registry/employer.h"
#include "registry/payee.h"
#include "registry/talent.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A column: the field it fills, its Chinese and English titles, whether a
 * file must have it. */
struct column {
    const char *field, *zh, *en;
    int required;
};

static const struct column talent_columns[] = {
    {"name", "姓名", "name", 1},
    {"id_number", "身份证号码", "id_number", 1},
    {"phone", "手机号码", "phone", 0},
    {"education", "学历", "education", 1},
    {"graduation_date", "毕业日期", "graduation_date", 0},
    {"category", "人才类别", "category", 0},
    {"level", "人才层次", "level", 0},
    {"employer", "用人单位统一社会信用代码", "employer", 0},
    {"employed_since", "入职日期", "employed_since", 0},
    {"insurance_months", "本区社保缴纳月数", "insurance_months", 0},
    {"owns_housing", "本人配偶或未成年子女在沪有住房", "owns_housing", 0},
    {"bank_account", "银行卡号", "bank_account", 0},
    {"owns_housing_since", "在沪有住房日期", "owns_housing_since", 0},
};

static const struct column employer_columns[] = {
    {"credit_code", "统一社会信用代码", "credit_code", 1},
    {"name", "单位名称", "name", 1},
    {"industry", "行业", "industry", 0},
    {"registered", "本区注册", "registered", 0},
    {"taxed", "本区纳税", "taxed", 0},
    {"key_enterprise", "重点企业", "key_enterprise", 0},
};

/* Other names people give the same columns. */
static const struct {
    const char *alias, *field;
} aliases[] = {
    {"身份证号", "id_number"}, {"证件号码", "id_number"}, {"手机", "phone"},
    {"手机号", "phone"},       {"统一社会信用代码", "employer"}, {"社保月数", "insurance_months"},
    {"在沪有房", "owns_housing"}, {"银行账号", "bank_account"}, {"名称", "name"},
    {"在沪有房日期", "owns_housing_since"},
};

#define MAX_COLS 32

static const struct column *columns_of(enum import_kind kind, size_t *n)
{
    if (kind == IMPORT_EMPLOYERS) {
        *n = sizeof employer_columns / sizeof employer_columns[0];
        return employer_columns;
    }
    *n = sizeof talent_columns / sizeof talent_columns[0];
    return talent_columns;
}

int import_kind_parse(const char *s, enum import_kind *out)
{
    if (!strcmp(s, "talents") || !strcmp(s, "人才")) *out = IMPORT_TALENTS;
    else if (!strcmp(s, "employers") || !strcmp(s, "用人单位")) *out = IMPORT_EMPLOYERS;
    else return QL_EINVAL;
    return 0;
}

const char *import_template(enum import_kind kind)
{
    if (kind == IMPORT_EMPLOYERS)
        return "\xEF\xBB\xBF"
               "统一社会信用代码,单位名称,行业,本区注册,本区纳税,重点企业\r\n"
               "91350100M000100Y43,某人工智能科技有限公司,人工智能,是,是,否\r\n";
    return "\xEF\xBB\xBF"
           "姓名,身份证号码,手机号码,学历,毕业日期,人才类别,人才层次,"
           "用人单位统一社会信用代码,入职日期,本区社保缴纳月数,本人配偶或未成年子女在沪有住房,"
           "银行卡号,在沪有住房日期\r\n"
           "张三,11010519491231002X,13800138000,硕士,2020-07-01,光启人才,B,"
           "91350100M000100Y43,2024-03-01,18,否,6222000000000009,\r\n";
}

/* The field a header cell names, or NULL. Titles may carry a note in
 * brackets ("姓名（必填）"). */
static const char *field_of(const struct column *cols, size_t ncols, const char *title)
{
    char t[200];
    reg_trim(title, t, sizeof t);
    char *cut = strstr(t, "（");
    if (!cut) cut = strchr(t, '(');
    if (cut) *cut = '\0';
    reg_trim(t, t, sizeof t);
    for (size_t i = 0; i < ncols; i++)
        if (!strcmp(t, cols[i].zh) || !strcasecmp(t, cols[i].en)) return cols[i].field;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(t, aliases[i].alias))
            for (size_t k = 0; k < ncols; k++)
                if (!strcmp(cols[k].field, aliases[i].field)) return cols[k].field;
    return NULL;
}

static const char *title_of(const struct column *cols, size_t ncols, const char *field)
{
    for (size_t i = 0; i < ncols; i++)
        if (!strcmp(cols[i].field, field)) return cols[i].zh;
    return field;
}

/* A set of blind indexes seen in this file (to find a person listed twice). */
struct seen {
    size_t cap, n;
    char (*keys)[PII_INDEX_HEX];
};

static int seen_add(struct seen *s, const char *key)
{
    if (s->n * 2 >= s->cap) {
        struct seen bigger = {s->cap ? s->cap * 2 : 1024, 0, NULL};
        bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i][0]) seen_add(&bigger, s->keys[i]);
        free(s->keys);
        *s = bigger;
    }
    size_t h = 1469598103934665603ull;
    for (const char *c = key; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    for (size_t i = h % s->cap;; i = (i + 1) % s->cap) {
        if (!s->keys[i][0]) {
            memcpy(s->keys[i], key, PII_INDEX_HEX);
            s->n++;
            return 0;
        }
        if (!strcmp(s->keys[i], key)) return 1;
    }
}

struct import_ctx {
    const actor *a;
    const struct reg_scope *sc;
    enum import_kind kind;
    FILE *f;
    const char *name;
    int commit;
    struct import_report *rep;
    char digest[65];
    ql_err *err;
};

static void listed(json_t *list, long row, const char *column, const ql_err *e)
{
    if (json_array_size(list) >= IMPORT_PROBLEMS_MAX) return;
    json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s}", "row", (json_int_t)row,
                                          "column", column, "field", e->field, "message_zh",
                                          e->zh, "message_en", e->en));
}

static void problem(struct import_report *rep, long row, const char *column, const ql_err *e)
{
    rep->problems++;
    listed(rep->list, row, column, e);
}

/* Signals store_tx to roll back a dry run or an import with problems. */
#define ROLL_BACK 1

static int import_body(store *s, void *arg)
{
    struct import_ctx *x = arg;
    struct import_report *rep = x->rep;
    /* A retried transaction starts over from the top of the file. */
    rewind(x->f);
    json_decref(rep->list);
    rep->list = json_array();
    json_decref(rep->warning_list);
    rep->warning_list = json_array();
    rep->rows = rep->bad_rows = rep->problems = rep->imported = rep->warnings = 0;

    size_t ncols;
    const struct column *cols = columns_of(x->kind, &ncols);
    csv_reader *csv;
    int rc = csv_open_file(x->f, x->name, &csv, x->err);
    if (rc) return rc;
    rep->encoding = csv_encoding_of(csv);
    char **fields;
    int nf;
    long line;
    rc = csv_next(csv, &fields, &nf, &line, x->err);
    if (rc <= 0) {
        csv_close(csv);
        if (rc == 0)
            return ql_errf(x->err, QL_EINVAL, "file", "%s is empty: the first row must name the columns",
                           "%s 为空：第一行应为列名", x->name);
        return rc;
    }
    /* The header: every column known, every required one present. */
    const char *map[MAX_COLS];
    if (nf > MAX_COLS) nf = MAX_COLS;
    for (int i = 0; i < nf; i++) {
        map[i] = field_of(cols, ncols, fields[i]);
        if (!map[i] && fields[i][0]) {
            /* A file without its header row would show a person's number
             * here: numbers in the name are starred. */
            char shown[128];
            pii_scrub(fields[i], shown, sizeof shown);
            rc = ql_errf(x->err, QL_EINVAL, "file",
                         "row 1, column %d: the column '%s' is not one this import knows; use the "
                         "template's column names",
                         "第 1 行第 %d 列：不认识列名“%s”，请使用模板中的列名", i + 1, shown);
            csv_close(csv);
            return rc;
        }
        /* Two columns for one field: which one holds the value is anyone's guess. */
        for (int k = 0; map[i] && k < i; k++)
            if (map[k] && !strcmp(map[k], map[i])) {
                rc = ql_errf(x->err, QL_EINVAL, "file",
                             "row 1: the columns '%s' (column %d) and '%s' (column %d) are the "
                             "same field; keep one",
                             "第 1 行：“%s”（第 %d 列）与“%s”（第 %d 列）是同一项，请只保留一列",
                             fields[k], k + 1, fields[i], i + 1);
                csv_close(csv);
                return rc;
            }
    }
    for (size_t k = 0; k < ncols; k++) {
        if (!cols[k].required) continue;
        int found = 0;
        for (int i = 0; i < nf; i++) found |= map[i] && !strcmp(map[i], cols[k].field);
        if (!found) {
            rc = ql_errf(x->err, QL_EINVAL, "file", "row 1: the required column '%s' (%s) is missing",
                         "第 1 行：缺少必需的列“%s”（%s）", cols[k].zh, cols[k].en);
            csv_close(csv);
            return rc;
        }
    }
    int ncolumns = nf;

    struct employer_cache cache = {0};
    struct seen seen = {0}, cards = {0};
    int32_t today = date_today();
    int64_t now = auth_now();
    /* Rows are numbered as a spreadsheet shows them: the header is row 1,
     * each record one row, however many lines its quoted cells span. */
    long row = 1;
    while ((rc = csv_next(csv, &fields, &nf, &line, x->err)) == 1) {
        row++;
        if (nf == 1 && !fields[0][0]) continue; /* a blank line */
        rep->rows++;
        int64_t before = rep->problems;
        if (nf > ncolumns) {
            ql_err e;
            ql_errf(&e, QL_EINVAL, "file", "the row has %d cells; the header names %d",
                    "该行有 %d 个单元格，而表头只有 %d 列", nf, ncolumns);
            problem(rep, row, "", &e);
        }
        /* Cells by field name; missing cells are empty. */
        const char *val[MAX_COLS];
        for (size_t k = 0; k < ncols; k++) {
            val[k] = "";
            for (int i = 0; i < ncolumns && i < nf; i++)
                if (map[i] && !strcmp(map[i], cols[k].field)) val[k] = fields[i];
        }
        reg_report rr;
        memset(&rr, 0, sizeof rr);
        if (x->kind == IMPORT_TALENTS) {
            struct talent_input in = {val[0], val[1], val[2],  val[3],  val[4],  val[5],  val[6],
                                      val[7], val[8], val[9], val[10], val[11], val[12], NULL};
            struct talent_rec t;
            ql_err ce;
            rc = talent_check(s, &in, &cache, today, &t, &rr);
            if (rc && rc != QL_EINVAL) break;
            if (rc == 0) {
                if (x->sc->kind == SCOPE_EMPLOYER && (!t.has_employer || t.employer_id != x->sc->id)) {
                    ql_err e;
                    ql_errf(&e, QL_EFORBIDDEN, "employer",
                            "employer: an employer's account imports its own staff only",
                            "employer：用人单位账户只能导入本单位人员");
                    ql_errs_add(&rr.errors, &e);
                } else if (seen_add(&seen, t.id_index)) {
                    ql_err e;
                    ql_errf(&e, QL_ECONFLICT, "id_number",
                            "id_number: this person is listed twice in the file",
                            "id_number：该人员在文件中重复出现");
                    ql_errs_add(&rr.errors, &e);
                } else if (t.has_bank && seen_add(&cards, t.bank_index)) {
                    ql_err e;
                    ql_errf(
                        &e, QL_ECONFLICT, "bank_account",
                        "bank_account: this card is given for another person in the file; "
                        "one card pays one person",
                        "bank_account：该银行卡在文件中已用于其他人员；一张卡只能用于一人的发放");
                    ql_errs_add(&rr.errors, &e);
                } else {
                    /* Stored while the file is clean (the transaction rolls
                     * back at the first problem); once it is not, only
                     * looked up, so every registered person is reported. */
                    int64_t id = 0;
                    rc = rep->problems == 0
                             ? talent_insert(s, &t, now, &id)
                             : store_query_int(s, "SELECT id FROM talents WHERE id_index = $1",
                                               (store_val[]){SV_TEXT(t.id_index)}, 1, &id);
                    int registered = 0;
                    if (rc == QL_ENOTFOUND) {
                        rc = 0;
                    } else if (rc == QL_ECONFLICT || (rc == 0 && rep->problems)) {
                        ql_err e;
                        ql_errf(
                            &e, QL_ECONFLICT, "id_number",
                            "id_number: a talent with this ID number is already registered; "
                            "an import registers new people only (a registered person's "
                            "record is changed on their page, their bank card by them or at "
                            "a window)",
                            "id_number：该身份证号码已登记；导入只登记新人员（已登记人员的信息在其"
                            "页面修改，银行卡由本人或到窗口变更）");
                        ql_errs_add(&rr.errors, &e);
                        registered = 1;
                        rc = 0;
                    }
                    /* a new person's card on record for someone registered */
                    if (!rc && !registered && t.has_bank &&
                        (rc = payee_card_free(s, t.bank_index, id, &ce)) == QL_ECONFLICT) {
                        ql_errs_add(&rr.errors, &ce);
                        rc = 0;
                    }
                    if (rc) {
                        talent_rec_free(&t);
                        break;
                    }
                }
                talent_rec_free(&t);
            }
            rc = 0;
        } else {
            struct employer_input in = {val[0], val[1], val[2], val[3], val[4], val[5]};
            struct employer_rec e;
            if (!reg_scope_all(x->sc)) {
                ql_err pe;
                ql_errf(&pe, QL_EFORBIDDEN, NULL, "only district staff import employers",
                        "只有区级工作人员可以导入用人单位");
                ql_errs_add(&rr.errors, &pe);
            } else if (employer_check(&in, &e, &rr) == 0) {
                char key[PII_INDEX_HEX] = "";
                snprintf(key, sizeof key, "%.18s", e.credit_code); /* checked: 18 characters */
                int64_t id = 0;
                if (seen_add(&seen, key)) {
                    ql_err ce;
                    ql_errf(&ce, QL_ECONFLICT, "credit_code",
                            "credit_code: the employer %s is listed twice in the file",
                            "credit_code：用人单位 %s 在文件中重复出现", e.credit_code);
                    ql_errs_add(&rr.errors, &ce);
                    rc = 0;
                } else {
                    rc = rep->problems == 0
                             ? employer_insert(s, &e, now, &id)
                             : store_query_int(s, "SELECT id FROM employers WHERE credit_code = $1",
                                               (store_val[]){SV_TEXT(e.credit_code)}, 1, &id);
                }
                if (rc == QL_ENOTFOUND) {
                    rc = 0;
                } else if (rc == QL_ECONFLICT || (rc == 0 && id && rep->problems)) {
                    ql_err ce;
                    ql_errf(&ce, QL_ECONFLICT, "credit_code",
                            "credit_code: the employer %s is already registered",
                            "credit_code：用人单位 %s 已登记", e.credit_code);
                    ql_errs_add(&rr.errors, &ce);
                    rc = 0;
                } else if (rc) {
                    break;
                }
            }
            rc = 0;
        }
        for (int i = 0; i < rr.errors.n; i++)
            problem(rep, row, title_of(cols, ncols, rr.errors.e[i].field), &rr.errors.e[i]);
        if (rep->problems > before) {
            rep->bad_rows++;
        } else if (rr.warnings.n) {
            rep->warnings++;
            for (int i = 0; i < rr.warnings.n; i++)
                listed(rep->warning_list, row, title_of(cols, ncols, rr.warnings.e[i].field),
                       &rr.warnings.e[i]);
        }
    }
    free(seen.keys);
    free(cards.keys);
    employer_cache_free(&cache);
    csv_close(csv);
    if (rc < 0) return rc;
    if (!x->commit || rep->problems) {
        rep->imported = 0;
        return ROLL_BACK;
    }
    rep->imported = rep->rows;
    char who[128];
    actor_label(x->a, who);
    audit_event ev = {.actor_id = x->a->user_id,
                      .actor = who,
                      .action = "registry.import",
                      .object_type = x->kind == IMPORT_TALENTS ? "talent" : "employer",
                      .ip = x->a->ip,
                      .request_id = x->a->request_id};
    char file[512];
    json_t *detail = json_pack("{s:s, s:I, s:s, s:s}", "kind",
                               x->kind == IMPORT_TALENTS ? "talents" : "employers", "rows",
                               (json_int_t)rep->imported, "file_digest", x->digest, "file",
                               pii_scrub(x->name, file, sizeof file));
    ev.detail = detail;
    rc = audit_append(s, &ev, &rep->audit_seq, x->err);
    json_decref(detail);
    return rc;
}

/* BLAKE2b-256 of the whole file, for the audit row. */
static int file_digest(FILE *f, char out[65])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    unsigned char chunk[65536];
    size_t n;
    rewind(f);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) crypto_generichash_update(&st, chunk, n);
    if (ferror(f)) return QL_EIO;
    unsigned char h[32];
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 65, h, sizeof h);
    return 0;
}

int registry_import(store *s, const actor *a, enum import_kind kind, FILE *f, const char *name,
                    int commit, struct import_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_WRITE, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    if (kind == IMPORT_EMPLOYERS && !reg_scope_all(&sc))
        return ql_errf(err, QL_EFORBIDDEN, NULL, "only district staff import employers",
                       "只有区级工作人员可以导入用人单位");
    if (!reg_scope_all(&sc) && sc.kind != SCOPE_EMPLOYER)
        return ql_errf(err, QL_EFORBIDDEN, NULL, "this account cannot import talents",
                       "此账户不能导入人才");
    struct import_ctx x = {a, &sc, kind, f, name, commit, report, "", err};
    if (file_digest(f, x.digest))
        return ql_errf(err, QL_EIO, "file", "cannot read %s", "无法读取 %s", name);
    (void)store_set_cache(s, REG_LOAD_CACHE);
    rc = reg_write_tx(s, import_body, &x);
    (void)store_set_cache(s, 0);
    if (rc == ROLL_BACK) rc = 0;
    if (rc == 0 && report->imported)
        log_info("import of %s: %lld row(s) stored", kind == IMPORT_TALENTS ? "talents" : "employers",
                 (long long)report->imported);
    return rc;
}

void import_report_free(struct import_report *report)
{
    json_decref(report->list);
    report->list = NULL;
    json_decref(report->warning_list);
    report->warning_list = NULL;
}
