/* housing_common.c - scope conditions, checks and list paging shared by
 * operators, units and leases. */
#include "registry/housing_internal.h"

#include "core/text.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void hs_arg(store_val *args, int *n, store_val v)
{
    args[*n] = v;
    (*n)++;
}

void hs_scope_operators(const struct reg_scope *sc, buf *sql, store_val *args, int *n)
{
    if (reg_scope_all(sc)) return;
    /* Only an operator's account sees an operator record (its own). */
    buf_printf(sql, " AND o.id = $%d", *n + 1);
    hs_arg(args, n, SV_INT(sc->kind == SCOPE_OPERATOR ? sc->id : -1));
}

void hs_scope_units(const struct reg_scope *sc, buf *sql, store_val *args, int *n)
{
    switch (sc->kind) {
    case SCOPE_DISTRICT:
    case SCOPE_DEPARTMENT:
        return;
    case SCOPE_OPERATOR:
        buf_printf(sql, " AND u.operator_id = $%d", *n + 1);
        hs_arg(args, n, SV_INT(sc->id));
        return;
    case SCOPE_EMPLOYER:
    case SCOPE_SELF:
        /* Published listings are for everyone looking for a home. */
        buf_puts(sql, " AND u.status = 'listed'");
        return;
    }
}

void hs_scope_leases(const struct reg_scope *sc, buf *sql, store_val *args, int *n)
{
    switch (sc->kind) {
    case SCOPE_DISTRICT:
    case SCOPE_DEPARTMENT:
        return;
    case SCOPE_OPERATOR:
        buf_printf(sql,
                   " AND l.unit_id IN (SELECT hu.id FROM housing_units hu WHERE "
                   "hu.operator_id = $%d)",
                   *n + 1);
        break;
    case SCOPE_EMPLOYER:
        buf_printf(sql,
                   " AND l.talent_id IN (SELECT st.id FROM talents st WHERE "
                   "st.employer_id = $%d)",
                   *n + 1);
        break;
    case SCOPE_SELF:
        buf_printf(sql, " AND l.talent_id = $%d", *n + 1);
        break;
    }
    hs_arg(args, n, SV_INT(sc->id));
}

int hs_require_read(store *s, const actor *a, struct reg_scope *sc, ql_err *err)
{
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, sc);
    return rc;
}

int hs_require_manage(store *s, const actor *a, struct reg_scope *sc, ql_err *err)
{
    int rc = actor_require(a, P_HOUSING_MANAGE, err);
    if (!rc) rc = reg_scope_of(s, a, sc);
    if (rc) return rc;
    if (reg_scope_all(sc)) return 0;
    if (sc->kind == SCOPE_OPERATOR && sc->id > 0) return 0;
    if (sc->kind == SCOPE_OPERATOR)
        return ql_errf(err, QL_EFORBIDDEN, NULL,
                       "this account's operator (%s) is not registered; ask the district to "
                       "register it",
                       "此账户所属的住房租赁企业（%s）尚未登记，请联系区级工作人员登记",
                       a->scope_id);
    return ql_errf(err, QL_EFORBIDDEN, NULL, "this account cannot change housing units or leases",
                   "此账户不能维护房源或租赁合同");
}

int hs_write(store *s, store_tx_fn fn, void *ctx, reg_report *report, ql_err *err)
{
    if (err) ql_err_clear(err);
    int rc = reg_write_tx(s, fn, ctx);
    if (rc && err && err->field[0] && (rc == QL_EINVAL || rc == QL_ECONFLICT))
        ql_errs_add(&report->errors, err);
    return rc;
}

int hs_first_error(const reg_report *report, ql_err *err)
{
    if (err && report->errors.n) *err = report->errors.e[0];
    return QL_EINVAL;
}

int hs_bad(reg_report *report, const ql_err *e)
{
    ql_errs_add(&report->errors, e);
    return 1;
}

int hs_text(reg_report *report, const char *field, const char *in, char *out, size_t n,
            int required, size_t max_chars, const char *what_en, const char *what_zh)
{
    ql_err e;
    /* Longer than the buffer (which holds max_chars of any width and some
     * surrounding space) is too long: never cut silently. */
    if (in && strlen(in) >= n) {
        out[0] = '\0';
        return hs_bad(report,
                      (ql_errf(&e, QL_EINVAL, field, "%s: %s%.0s (at most %zu characters)",
                               "%s：%.0s%s（最多 %zu 个字符）", field, what_en, what_zh, max_chars),
                       &e));
    }
    reg_trim(in, out, n);
    size_t chars = text_chars(out);
    if ((required && !out[0]) || chars > max_chars)
        return hs_bad(report, (ql_errf(&e, QL_EINVAL, field, "%s: %s%.0s (%s%.0s%zu characters)",
                                       "%s：%.0s%s（%.0s%s%zu 个字符）", field, what_en, what_zh,
                                       required ? "1 to " : "at most ",
                                       required ? "1 到 " : "最多 ", max_chars),
                               &e));
    if (validate_text_line(field, out, &e)) return hs_bad(report, &e);
    return 0;
}

int hs_name(reg_report *report, const char *field, const char *in, char *out, size_t n,
            int required, size_t max_chars, const char *what_en, const char *what_zh)
{
    ql_err e;
    if (hs_text(report, field, in, out, n, required, max_chars, what_en, what_zh)) return 1;
    if (validate_name(field, out, &e)) return hs_bad(report, &e);
    return 0;
}

int hs_code(reg_report *report, const char *field, const char *in, char *out, size_t n,
            size_t min_len, size_t max_len, const char *what_zh)
{
    ql_err e;
    size_t len = in ? strlen(in) : 0;
    int ok = len < n;
    if (ok) {
        reg_trim(in, out, n);
        len = strlen(out);
        for (char *c = out; *c; c++) {
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-')) ok = 0;
        }
        if (len && (len < min_len || len > max_len)) ok = 0;
    }
    if (ok) return 0;
    out[0] = '\0';
    return hs_bad(
        report,
        (ql_errf(&e, QL_EINVAL, field, "%s: %.0s%zu to %zu letters, digits or '-'",
                 "%s：%s应为 %zu 到 %zu 位字母、数字或“-”", field, what_zh, min_len, max_len),
         &e));
}

int hs_check_page(int64_t page, int64_t per_page, ql_err *err)
{
    if (page < 1 || per_page < 1 || per_page > 200)
        return ql_errf(err, QL_EINVAL, "page", "page must be from 1 and per_page from 1 to 200",
                       "页码须从 1 开始，每页条数须在 1 到 200 之间");
    if ((page - 1) * per_page > REGISTRY_COUNT_CAP)
        return ql_errf(err, QL_EINVAL, "page",
                       "only the first %d matches can be paged through; narrow the search",
                       "最多只能翻看前 %d 条结果，请缩小查询范围", REGISTRY_COUNT_CAP);
    return 0;
}

void hs_like(const char *q, char *out, size_t n)
{
    size_t j = 0;
    out[j++] = '%';
    for (const char *c = q; *c && j + 3 < n; c++) {
        if (*c == '%' || *c == '_' || *c == '\\') out[j++] = '\\';
        out[j++] = *c;
    }
    out[j++] = '%';
    out[j] = '\0';
}

json_t *hs_money(int64_t fen)
{
    char t[32];
    validate_money_text(fen, t, sizeof t);
    return json_string(t);
}

json_t *hs_area(int64_t cm2)
{
    char t[32];
    validate_money_text(cm2, t, sizeof t); /* the same two decimals */
    return json_string(t);
}

int hs_page(store *s, const char *columns, const char *from_where, const char *from,
            const char *count_from, const char *order, store_val *args, int n, int64_t page, int64_t per_page, hs_row_json to_json,
            json_t **rows, int64_t *total)
{
    buf sql;
    buf_init(&sql, 0);
    if (count_from && from && !strncmp(from_where, from, strlen(from)))
        buf_printf(&sql, "SELECT count(*) FROM (SELECT 1%s%s LIMIT %d) c", count_from,
                   from_where + strlen(from), REGISTRY_COUNT_CAP + 1);
    else
        buf_printf(&sql, "SELECT count(*) FROM (SELECT 1%s LIMIT %d) c", from_where,
                   REGISTRY_COUNT_CAP + 1);
    int rc = store_query_int(s, sql.data, args, n, total);
    json_t *list = NULL;
    if (!rc) {
        buf_reset(&sql);
        buf_printf(&sql, "SELECT %s%s%s LIMIT $%d OFFSET $%d", columns, from_where, order, n + 1,
                   n + 2);
        args[n] = SV_INT(per_page);
        args[n + 1] = SV_INT((page - 1) * per_page);
        store_rows *r;
        rc = store_query(s, sql.data, args, n + 2, &r);
        if (!rc) {
            list = json_array();
            while ((rc = store_step(r)) == 1) json_array_append_new(list, to_json(r));
            store_rows_close(r);
        }
    }
    buf_free(&sql);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *rows = list;
    return 0;
}

int hs_walk(store *s, const char *columns, const char *from_where, const char *order,
            const store_val *args, int n, hs_row_json to_json, housing_row_fn fn, void *ctx)
{
    buf sql;
    buf_init(&sql, 0);
    buf_printf(&sql, "SELECT %s%s%s", columns, from_where, order);
    store_rows *r;
    int rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    if (rc) return rc;
    while ((rc = store_step(r)) == 1) {
        json_t *row = to_json(r);
        int stop = fn(row, ctx);
        json_decref(row);
        if (stop) {
            rc = stop;
            break;
        }
    }
    store_rows_close(r);
    return rc < 0 || rc > 1 ? rc : 0;
}

int hs_visible(store *s, const actor *a, const char *type, int64_t id, ql_err *err)
{
    json_t *cur = NULL;
    int rc;
    if (!strcmp(type, "operator"))
        rc = registry_operator_get(s, a, id, &cur, err);
    else if (!strcmp(type, "unit"))
        rc = registry_unit_get(s, a, id, &cur, err);
    else if (!strcmp(type, "lease"))
        rc = registry_lease_get(s, a, id, &cur, err);
    else
        rc = ql_errf(err, QL_EINVAL, "object_type", "unknown record type '%s'", "未知记录类型“%s”",
                     type);
    json_decref(cur);
    return rc;
}

static const char *match(const char *s, const char *const (*table)[3], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(s, table[i][0]) || !strcmp(s, table[i][1]) || !strcmp(s, table[i][2]))
            return table[i][0];
    return NULL;
}

const char *hs_kind_code(const char *s)
{
    static const char *const kinds[][3] = {
        {"talent_apartment", "人才公寓", "人才公寓"},
        {"affordable_rental", "保障性租赁住房", "保租房"},
        {"market", "市场化租赁住房", "市场化"},
    };
    return match(s, kinds, sizeof kinds / sizeof kinds[0]);
}

const char *hs_unit_status_code(const char *s)
{
    static const char *const states[][3] = {
        {"draft", "草稿", "未发布"},
        {"listed", "已发布", "在租"},
        {"leased", "已出租", "已租"},
        {"withdrawn", "已下架", "下架"},
    };
    return match(s, states, sizeof states / sizeof states[0]);
}
