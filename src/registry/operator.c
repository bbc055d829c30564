/* operator.c - rental-housing operators (住房租赁企业): registration,
 * changes, reading and lists. */
#include "registry/housing_internal.h"

#include "auth/session.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>

struct operator_rec {
    char code[64];
    char name[4 * 200 + 65];
    char credit_code[64];
    char contact_name[4 * 50 + 65];
    char contact_phone[64];
};

/* A business phone: a mobile, a landline with its area code, or a 400/800
 * number; spaces and '-' between the digits allowed. */
static int phone_ok(const char *s)
{
    char digits[32];
    size_t n = 0;
    for (const char *c = s; *c; c++) {
        if (*c == ' ' || *c == '-') continue;
        if (*c < '0' || *c > '9' || n + 1 >= sizeof digits) return 0;
        digits[n++] = *c;
    }
    digits[n] = '\0';
    if (n == 11 && digits[0] == '1') return validate_mobile("contact_phone", digits, NULL) == 0;
    if (digits[0] == '0') return n >= 10 && n <= 12;
    if (!strncmp(digits, "400", 3) || !strncmp(digits, "800", 3)) return n == 10;
    return 0;
}

static int operator_check(const struct operator_input *in, struct operator_rec *rec,
                          reg_report *report)
{
    ql_err e;
    int bad = 0;
    memset(rec, 0, sizeof *rec);

    size_t len = in->code ? strlen(in->code) : 0;
    int code_ok = len < sizeof rec->code;
    if (code_ok) {
        reg_trim(in->code, rec->code, sizeof rec->code);
        len = strlen(rec->code);
        code_ok = len >= 1 && len <= 40;
        for (const char *c = rec->code; *c; c++)
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
                code_ok = 0;
    }
    if (!code_ok)
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "code",
                                      "code: 1 to 40 letters, digits, '.', '_' or '-' (the code "
                                      "the operator's accounts are bound to, e.g. OP-1)",
                                      "code：企业编码应为 1 到 40 位字母、数字、“.”、“_”或“-”"
                                      "（该企业账户绑定的编码，如 OP-1）"),
                              &e));

    bad |= hs_name(report, "name", in->name, rec->name, sizeof rec->name, 1, 200,
                   "enter the operator's registered name", "请填写住房租赁企业的登记名称");

    char tmp[64];
    len = in->credit_code ? strlen(in->credit_code) : 0;
    if (len >= sizeof tmp)
        tmp[0] = '\0';
    else
        reg_trim(in->credit_code, tmp, sizeof tmp);
    for (char *c = tmp; *c; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    if (validate_credit_code("credit_code", tmp, &e)) bad = hs_bad(report, &e);
    snprintf(rec->credit_code, sizeof rec->credit_code, "%s", tmp);

    bad |= hs_name(report, "contact_name", in->contact_name, rec->contact_name,
                   sizeof rec->contact_name, 0, 50, "the contact person's name", "联系人姓名");

    len = in->contact_phone ? strlen(in->contact_phone) : 0;
    if (len < sizeof rec->contact_phone)
        reg_trim(in->contact_phone, rec->contact_phone, sizeof rec->contact_phone);
    if (len >= sizeof rec->contact_phone ||
        (rec->contact_phone[0] &&
         (strlen(rec->contact_phone) > 20 || !phone_ok(rec->contact_phone)))) {
        rec->contact_phone[0] = '\0';
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "contact_phone",
                                      "contact_phone: a mobile number, a landline with its area "
                                      "code (021-64871234) or a 400/800 number",
                                      "contact_phone：应为手机号码、带区号的固定电话（如 "
                                      "021-64871234）或 400/800 电话"),
                              &e));
    }
    return bad ? QL_EINVAL : 0;
}

static int not_found(ql_err *err, int64_t id)
{
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no operator %lld",
                   "没有编号为 %lld 的住房租赁企业", (long long)id);
}

/* The stored fields of operator id as JSON (for reading and audit rows). */
static int state_of(store *s, int64_t id, json_t **out)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT code, name, credit_code, contact_name, contact_phone, "
                         "created_at, updated_at FROM operators WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        *out =
            json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)id, "code",
                      store_col_text(r, 0, NULL), "name", store_col_text(r, 1, NULL), "credit_code",
                      store_col_text(r, 2, NULL), "contact_name", store_col_text(r, 3, NULL),
                      "contact_phone", store_col_text(r, 4, NULL), "created_at",
                      reg_time(store_col_int(r, 5)), "updated_at", reg_time(store_col_int(r, 6)));
        rc = *out ? 0 : QL_EINTERNAL;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    return rc;
}

/* Staff of district and department scope register and change operators. */
static int require_write(store *s, const actor *a, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_WRITE, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (!rc && !reg_scope_all(&sc))
        rc = ql_errf(err, QL_EFORBIDDEN, NULL,
                     "only district staff register operators and change their registration",
                     "只有区级工作人员可以登记或修改住房租赁企业");
    return rc;
}

struct op_ctx {
    const actor *a;
    const struct operator_rec *rec;
    int64_t id;
    ql_err *err;
};

/* QL_ECONFLICT naming the field when code or credit code belongs to
 * another operator than self. */
static int check_taken(store *s, const struct operator_rec *rec, int64_t self, ql_err *err)
{
    int64_t other = 0;
    int rc = store_query_int(s, "SELECT id FROM operators WHERE code = $1 AND id <> $2",
                             (store_val[]){SV_TEXT(rec->code), SV_INT(self)}, 2, &other);
    if (rc == 0)
        return ql_errf(err, QL_ECONFLICT, "code", "code: another operator has the code %s",
                       "code：企业编码 %s 已被其他企业使用", rec->code);
    if (rc != QL_ENOTFOUND) return rc;
    rc = store_query_int(s, "SELECT id FROM operators WHERE credit_code = $1 AND id <> $2",
                         (store_val[]){SV_TEXT(rec->credit_code), SV_INT(self)}, 2, &other);
    if (rc == 0)
        return ql_errf(err, QL_ECONFLICT, "credit_code",
                       "credit_code: the operator with the credit code %s is already registered "
                       "(operator %lld)",
                       "credit_code：统一社会信用代码为 %s 的企业已登记（编号 %lld）",
                       rec->credit_code, (long long)other);
    return rc == QL_ENOTFOUND ? 0 : rc;
}

static int create_body(store *s, void *arg)
{
    struct op_ctx *x = arg;
    const struct operator_rec *o = x->rec;
    int rc = check_taken(s, o, 0, x->err);
    if (rc) return rc;
    store_rows *r;
    int64_t now = auth_now();
    rc =
        store_query(s,
                    "INSERT INTO operators (code, name, credit_code, contact_name, "
                    "contact_phone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) "
                    "RETURNING id",
                    (store_val[]){SV_TEXT(o->code), SV_TEXT(o->name), SV_TEXT(o->credit_code),
                                  SV_TEXT(o->contact_name), SV_TEXT(o->contact_phone), SV_INT(now)},
                    6, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) x->id = store_col_int(r, 0);
    store_rows_close(r);
    if (rc < 0) return rc;
    if (rc == 0) return QL_EINTERNAL;
    json_t *after = NULL;
    rc = state_of(s, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "operator.create", "operator", x->id, NULL, after, json_object(),
                       x->err);
    json_decref(after);
    return rc;
}

int registry_operator_create(store *s, const actor *a, const struct operator_input *in, int64_t *id,
                             reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    int rc = require_write(s, a, err);
    if (rc) return rc;
    struct operator_rec rec;
    if (operator_check(in, &rec, report)) return hs_first_error(report, err);
    struct op_ctx x = {a, &rec, 0, err};
    rc = hs_write(s, create_body, &x, report, err);
    if (!rc && id) *id = x.id;
    return rc;
}

static int update_body(store *s, void *arg)
{
    struct op_ctx *x = arg;
    const struct operator_rec *o = x->rec;
    json_t *before = NULL, *after = NULL;
    int rc = state_of(s, x->id, &before);
    if (rc == QL_ENOTFOUND) return not_found(x->err, x->id);
    if (rc) return rc;
    const char *code = json_string_value(json_object_get(before, "code"));
    if (strcmp(code, o->code) != 0)
        rc = ql_errf(x->err, QL_EINVAL, "code",
                     "code: the code %s cannot be changed; the operator's accounts are bound to it",
                     "code：企业编码 %s 不能修改，该企业的账户绑定于此编码", code);
    if (!rc) rc = check_taken(s, o, x->id, x->err);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE operators SET name = $1, credit_code = $2, contact_name = $3, "
                        "contact_phone = $4, updated_at = $5 WHERE id = $6",
                        (store_val[]){SV_TEXT(o->name), SV_TEXT(o->credit_code),
                                      SV_TEXT(o->contact_name), SV_TEXT(o->contact_phone),
                                      SV_INT(auth_now()), SV_INT(x->id)},
                        6, NULL);
    if (!rc) rc = state_of(s, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "operator.update", "operator", x->id, before, after,
                       json_pack("{s:o}", "changed", reg_changed_fields(before, after)), x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

int registry_operator_update(store *s, const actor *a, int64_t id, const struct operator_input *in,
                             reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    int rc = require_write(s, a, err);
    if (rc) return rc;
    /* The record must exist before anything about the input is said. */
    json_t *cur = NULL;
    rc = state_of(s, id, &cur);
    json_decref(cur);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    struct operator_rec rec;
    if (operator_check(in, &rec, report)) return hs_first_error(report, err);
    struct op_ctx x = {a, &rec, id, err};
    rc = hs_write(s, update_body, &x, report, err);
    return rc;
}

/* Whether the scope shows operator id. */
static int visible(const struct reg_scope *sc, int64_t id)
{
    return reg_scope_all(sc) || (sc->kind == SCOPE_OPERATOR && sc->id == id);
}

int registry_operator_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (rc) return rc;
    if (!visible(&sc, id)) return not_found(err, id);
    json_t *o = NULL;
    rc = state_of(s, id, &o);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    json_t *by =
        json_pack("{s:i, s:i, s:i, s:i}", "draft", 0, "listed", 0, "leased", 0, "withdrawn", 0);
    int64_t units = 0, active = 0;
    store_rows *r;
    rc = store_query(s,
                     "SELECT status, count(*) FROM housing_units WHERE operator_id = $1 "
                     "GROUP BY status",
                     (store_val[]){SV_INT(id)}, 1, &r);
    if (!rc) {
        while ((rc = store_step(r)) == 1) {
            int64_t c = store_col_int(r, 1);
            json_object_set_new(by, store_col_text(r, 0, NULL), json_integer(c));
            units += c;
        }
        store_rows_close(r);
    }
    if (!rc)
        rc = store_query_int(s,
                             "SELECT count(*) FROM leases l JOIN housing_units u ON u.id = "
                             "l.unit_id WHERE u.operator_id = $1 AND l.status = 'active'",
                             (store_val[]){SV_INT(id)}, 1, &active);
    if (rc) {
        json_decref(by);
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "units", json_integer(units));
    json_object_set_new(o, "units_by_status", by);
    json_object_set_new(o, "active_leases", json_integer(active));
    *out = o;
    return 0;
}

/* ---- lists ----------------------------------------------------------- */

#define OPERATOR_COLUMNS                                                                           \
    "o.id, o.code, o.name, o.credit_code, o.contact_name, o.contact_phone, o.created_at, "         \
    "o.updated_at, (SELECT count(*) FROM housing_units cu WHERE cu.operator_id = o.id)"

static json_t *operator_row_json(store_rows *r)
{
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I}", "id", (json_int_t)store_col_int(r, 0),
        "code", store_col_text(r, 1, NULL), "name", store_col_text(r, 2, NULL), "credit_code",
        store_col_text(r, 3, NULL), "contact_name", store_col_text(r, 4, NULL), "contact_phone",
        store_col_text(r, 5, NULL), "created_at", reg_time(store_col_int(r, 6)), "updated_at",
        reg_time(store_col_int(r, 7)), "units", (json_int_t)store_col_int(r, 8));
}

/* Texts the query's parameters point into while it runs. */
struct operator_scratch {
    char q[210], upper[210], pattern[440];
};

static int operator_where(const struct reg_scope *sc, const struct operator_filter *f, buf *where,
                          store_val *args, int *n, struct operator_scratch *x, const char **order,
                          ql_err *err)
{
    if (!f->sort || !*f->sort || !strcmp(f->sort, "name"))
        *order = " ORDER BY o.name, o.id";
    else if (!strcmp(f->sort, "code"))
        *order = " ORDER BY o.code, o.id";
    else if (!strcmp(f->sort, "-created"))
        *order = " ORDER BY o.id DESC";
    else
        return ql_errf(err, QL_EINVAL, "sort", "sort must be name, code or -created",
                       "sort 必须是 name、code 或 -created");
    buf_puts(where, " FROM operators o WHERE 1 = 1");
    hs_scope_operators(sc, where, args, n);
    reg_trim(f->q, x->q, sizeof x->q);
    if (x->q[0]) {
        snprintf(x->upper, sizeof x->upper, "%s", x->q);
        for (char *c = x->upper; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
        hs_like(x->q, x->pattern, sizeof x->pattern);
        buf_printf(where,
                   " AND (o.code = $%d OR o.credit_code = $%d OR o.name LIKE $%d ESCAPE '\\')",
                   *n + 1, *n + 2, *n + 3);
        hs_arg(args, n, SV_TEXT(x->q));
        hs_arg(args, n, SV_TEXT(x->upper));
        hs_arg(args, n, SV_TEXT(x->pattern));
    }
    return 0;
}

int registry_operator_list(store *s, const actor *a, const struct operator_filter *f, json_t **rows,
                           int64_t *total, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (!rc) rc = hs_check_page(f->page, f->per_page, err);
    if (rc) return rc;
    buf where;
    buf_init(&where, 0);
    store_val args[8];
    int n = 0;
    struct operator_scratch x;
    const char *order = "";
    rc = operator_where(&sc, f, &where, args, &n, &x, &order, err);
    if (!rc)
        rc = hs_page(s, OPERATOR_COLUMNS, where.data, NULL, NULL, order, args, n, f->page,
                     f->per_page, operator_row_json, rows, total);
    buf_free(&where);
    return rc;
}

int registry_operator_each(store *s, const actor *a, const struct operator_filter *f,
                           housing_row_fn fn, void *ctx, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (rc) return rc;
    buf where;
    buf_init(&where, 0);
    store_val args[8];
    int n = 0;
    struct operator_scratch x;
    const char *order = "";
    rc = operator_where(&sc, f, &where, args, &n, &x, &order, err);
    if (!rc)
        rc = hs_walk(s, OPERATOR_COLUMNS, where.data, order, args, n, operator_row_json, fn, ctx);
    buf_free(&where);
    return rc;
}
