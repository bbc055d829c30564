/* employer.c - employers: registration, changes, reading and lists. */
#include "registry/employer.h"

#include "auth/session.h"
#include "core/text.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int employer_check(const struct employer_input *in, struct employer_rec *rec,
                   reg_report *report)
{
    ql_err e;
    int bad = 0;
    char tmp[64];
    memset(rec, 0, sizeof *rec);
    reg_trim(in->credit_code, tmp, sizeof tmp);
    for (char *c = tmp; *c; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    if (validate_credit_code("credit_code", tmp, &e)) bad = ql_errs_add(&report->errors, &e);
    snprintf(rec->credit_code, sizeof rec->credit_code, "%s", tmp);

    size_t name_len = reg_trim(in->name, rec->name, sizeof rec->name);
    if (name_len >= sizeof rec->name || !rec->name[0] || text_chars(rec->name) > 200)
        bad = ql_errs_add(&report->errors,
                          (ql_errf(&e, QL_EINVAL, "name",
                                   "name: enter the employer's registered name (1 to 200 "
                                   "characters)",
                                   "name：请填写用人单位的登记名称（1 到 200 个字符）"),
                           &e));
    else if (validate_name("name", rec->name, &e))
        bad = ql_errs_add(&report->errors, &e);
    char ind[64];
    reg_trim(in->industry, ind, sizeof ind);
    rec->industry = reg_industry_code(ind[0] ? ind : "other");
    if (!rec->industry)
        bad = ql_errs_add(&report->errors,
                          (ql_errf(&e, QL_EINVAL, "industry",
                                   "industry: one of ai, life_health, fintech, "
                                   "advanced_manufacturing, digital_economy, culture_creative, "
                                   "other",
                                   "industry：应为人工智能、生命健康、金融科技、先进制造、数字经济、"
                                   "文化创意、其他之一"),
                           &e));
    struct {
        const char *field, *value;
        int *out;
    } flags[] = {{"registered", in->registered, &rec->registered},
                 {"taxed", in->taxed, &rec->taxed},
                 {"key_enterprise", in->key_enterprise, &rec->key_enterprise}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        reg_trim(flags[i].value, tmp, sizeof tmp);
        if (registry_yes_no(flags[i].field, tmp, flags[i].out, &e))
            bad = ql_errs_add(&report->errors, &e);
    }
    return bad ? QL_EINVAL : 0;
}

static void arg(store_val *args, int *n, store_val v)
{
    args[*n] = v;
    (*n)++;
}

static int first_error(const reg_report *report, ql_err *err)
{
    if (err && report->errors.n) *err = report->errors.e[0];
    return QL_EINVAL;
}

static int state_of(store *s, int64_t id, json_t **out)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT credit_code, name, industry, registered_in_district, "
                         "taxed_in_district, key_enterprise, created_at, updated_at "
                         "FROM employers WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        *out = json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:b, s:o, s:o}", "id", (json_int_t)id,
                         "credit_code", store_col_text(r, 0, NULL), "name",
                         store_col_text(r, 1, NULL), "industry", store_col_text(r, 2, NULL),
                         "registered", (int)store_col_int(r, 3), "taxed", (int)store_col_int(r, 4),
                         "key_enterprise", (int)store_col_int(r, 5), "created_at",
                         reg_time(store_col_int(r, 6)), "updated_at",
                         reg_time(store_col_int(r, 7)));
        rc = *out ? 0 : QL_EINTERNAL;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    return rc;
}

static int not_found(ql_err *err, int64_t id)
{
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no employer %lld", "没有编号为 %lld 的用人单位",
                   (long long)id);
}

/* Staff of district and department scope may register and change employers. */
static int require_write(store *s, const actor *a, struct reg_scope *sc, ql_err *err)
{
    int rc = actor_require(a, P_REGISTRY_WRITE, err);
    if (!rc) rc = reg_scope_of(s, a, sc);
    if (!rc && !reg_scope_all(sc))
        rc = ql_errf(err, QL_EFORBIDDEN, NULL,
                     "only district staff register employers and change their registration",
                     "只有区级工作人员可以登记或修改用人单位");
    return rc;
}

struct emp_ctx {
    const actor *a;
    const struct employer_rec *rec;
    int64_t id;
    ql_err *err;
};

int employer_insert(store *s, const struct employer_rec *e, int64_t now, int64_t *id)
{
    return store_insert(s,
                        "INSERT INTO employers (credit_code, name, registered_in_district, "
                        "taxed_in_district, industry, key_enterprise, created_at, updated_at) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
                        "ON CONFLICT (credit_code) DO NOTHING",
                        (store_val[]){SV_TEXT(e->credit_code), SV_TEXT(e->name),
                                      SV_INT(e->registered), SV_INT(e->taxed),
                                      SV_TEXT(e->industry), SV_INT(e->key_enterprise),
                                      SV_INT(now)},
                        7, id);
}

static int create_body(store *s, void *arg)
{
    struct emp_ctx *x = arg;
    const struct employer_rec *e = x->rec;
    int rc = employer_insert(s, e, auth_now(), &x->id);
    if (rc == QL_ECONFLICT)
        return ql_errf(x->err, QL_ECONFLICT, "credit_code",
                       "credit_code: the employer %s is already registered",
                       "credit_code：用人单位 %s 已登记", e->credit_code);
    json_t *after = NULL;
    if (!rc) rc = state_of(s, x->id, &after);
    if (!rc) rc = reg_audit(s, x->a, "employer.create", "employer", x->id, NULL, after, json_object(), x->err);
    json_decref(after);
    return rc;
}

int registry_employer_create(store *s, const actor *a, const struct employer_input *in,
                             int64_t *id, reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = require_write(s, a, &sc, err);
    if (rc) return rc;
    struct employer_rec rec;
    if (employer_check(in, &rec, report)) return first_error(report, err);
    struct emp_ctx x = {a, &rec, 0, err};
    rc = reg_write_tx(s, create_body, &x);
    if (rc == QL_ECONFLICT && err) ql_errs_add(&report->errors, err);
    if (!rc && id) *id = x.id;
    return rc;
}

static int update_body(store *s, void *arg)
{
    struct emp_ctx *x = arg;
    const struct employer_rec *e = x->rec;
    json_t *before = NULL, *after = NULL;
    int rc = state_of(s, x->id, &before);
    if (rc == QL_ENOTFOUND) return not_found(x->err, x->id);
    if (rc) return rc;
    /* An employer's accounts are bound to its credit code (scope
     * employer:CODE): while any exists, the code stays, or they would see
     * whichever employer is registered under the old code next. */
    const char *old_code = json_string_value(json_object_get(before, "credit_code"));
    if (old_code && strcmp(old_code, e->credit_code)) {
        int64_t bound = 0;
        rc = store_query_int(s,
                             "SELECT COUNT(*) FROM users WHERE scope_kind = 'employer' AND "
                             "scope_id = $1",
                             (store_val[]){SV_TEXT(old_code)}, 1, &bound);
        if (!rc && bound > 0)
            rc = ql_errf(x->err, QL_ECONFLICT, "credit_code",
                         "credit_code: %lld account(s) are bound to this employer's code %s; "
                         "it cannot change while they exist",
                         "credit_code：有 %lld 个账号绑定在该单位的信用代码 %s 上，"
                         "这些账号存在期间代码不能修改",
                         (long long)bound, old_code);
        if (rc) {
            json_decref(before);
            return rc;
        }
    }
    rc = store_exec(s,
                    "UPDATE employers SET credit_code = $1, name = $2, registered_in_district = $3, "
                    "taxed_in_district = $4, industry = $5, key_enterprise = $6, updated_at = $7 "
                    "WHERE id = $8",
                    (store_val[]){SV_TEXT(e->credit_code), SV_TEXT(e->name), SV_INT(e->registered),
                                  SV_INT(e->taxed), SV_TEXT(e->industry),
                                  SV_INT(e->key_enterprise), SV_INT(auth_now()), SV_INT(x->id)},
                    8, NULL);
    if (rc == QL_ECONFLICT)
        rc = ql_errf(x->err, QL_ECONFLICT, "credit_code",
                     "credit_code: another employer is registered with %s",
                     "credit_code：另一家用人单位已使用 %s", e->credit_code);
    if (!rc) rc = state_of(s, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "employer.update", "employer", x->id, before, after,
                       json_pack("{s:o}", "changed", reg_changed_fields(before, after)), x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

int registry_employer_update(store *s, const actor *a, int64_t id,
                             const struct employer_input *in, reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = require_write(s, a, &sc, err);
    if (rc) return rc;
    struct employer_rec rec;
    if (employer_check(in, &rec, report)) return first_error(report, err);
    struct emp_ctx x = {a, &rec, id, err};
    rc = reg_write_tx(s, update_body, &x);
    if (rc == QL_ECONFLICT && err) ql_errs_add(&report->errors, err);
    return rc;
}

/* Whether the actor may see employer id. */
static int visible(const struct reg_scope *sc, int64_t id)
{
    if (reg_scope_all(sc)) return 1;
    return sc->kind == SCOPE_EMPLOYER && sc->id == id;
}

int registry_employer_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    if (!visible(&sc, id)) return not_found(err, id);
    rc = state_of(s, id, out);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    int64_t staff = 0;
    rc = store_query_int(s, "SELECT count(*) FROM talents WHERE employer_id = $1",
                         (store_val[]){SV_INT(id)}, 1, &staff);
    if (rc) {
        json_decref(*out);
        return rc;
    }
    json_object_set_new(*out, "staff", json_integer(staff));
    return 0;
}

/* Scratch space for the texts bound in an employer filter. */
struct employer_scratch {
    char q[210], pattern[440];
};

/* " FROM employers e WHERE ..." for the scope and filter f, into where,
 * with the arguments in args (at most 3). */
static int employer_where(const struct reg_scope *sc, const struct employer_filter *f, buf *where,
                          store_val *args, int *n, struct employer_scratch *x, ql_err *err)
{
    buf_puts(where, " FROM employers e WHERE 1 = 1");
    if (!reg_scope_all(sc)) {
        buf_printf(where, " AND e.id = $%d", *n + 1);
        arg(args, n, SV_INT(sc->kind == SCOPE_EMPLOYER ? sc->id : -1));
    }
    reg_trim(f->q, x->q, sizeof x->q);
    if (x->q[0]) {
        size_t j = 0;
        x->pattern[j++] = '%';
        for (const char *c = x->q; *c && j + 3 < sizeof x->pattern; c++) {
            if (*c == '%' || *c == '_' || *c == '\\') x->pattern[j++] = '\\';
            x->pattern[j++] = *c;
        }
        x->pattern[j++] = '%';
        x->pattern[j] = '\0';
        /* Letters in any case: LIKE ignores their case in SQLite but not in
         * PostgreSQL, and credit codes are stored upper-case. */
        buf_printf(where,
                   " AND (e.credit_code = upper($%d) OR lower(e.name) LIKE lower($%d) ESCAPE "
                   "'\\')",
                   *n + 1, *n + 2);
        arg(args, n, SV_TEXT(x->q));
        arg(args, n, SV_TEXT(x->pattern));
    }
    if (f->industry && *f->industry) {
        const char *code = reg_industry_code(f->industry);
        if (!code) return ql_errf(err, QL_EINVAL, "industry", "unknown industry", "未知行业");
        buf_printf(where, " AND e.industry = $%d", *n + 1);
        arg(args, n, SV_TEXT(code));
    }
    return 0;
}

static int check_employer_sort(const struct employer_filter *f, ql_err *err)
{
    if (!f->sort || !*f->sort || !strcmp(f->sort, "name") || !strcmp(f->sort, "-created")) return 0;
    return ql_errf(err, QL_EINVAL, "sort", "sort must be name or -created",
                   "sort 必须是 name 或 -created");
}

static const char *employer_order(const struct employer_filter *f)
{
    return f->sort && !strcmp(f->sort, "-created") ? " ORDER BY e.id DESC" : " ORDER BY e.name, e.id";
}

#define EMPLOYER_COLUMNS                                                                         \
    "e.id, e.credit_code, e.name, e.industry, e.registered_in_district, e.taxed_in_district, "   \
    "e.key_enterprise, e.created_at"

static json_t *employer_row_json(store_rows *r)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:b, s:b, s:b, s:o}", "id",
                     (json_int_t)store_col_int(r, 0), "credit_code", store_col_text(r, 1, NULL),
                     "name", store_col_text(r, 2, NULL), "industry", store_col_text(r, 3, NULL),
                     "registered", (int)store_col_int(r, 4), "taxed", (int)store_col_int(r, 5),
                     "key_enterprise", (int)store_col_int(r, 6), "created_at",
                     reg_time(store_col_int(r, 7)));
}

int registry_employer_list(store *s, const actor *a, const struct employer_filter *f,
                           json_t **rows, int64_t *total, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (!rc) rc = check_employer_sort(f, err);
    if (rc) return rc;
    if (f->page < 1 || f->per_page < 1 || f->per_page > 200 ||
        (f->page - 1) * f->per_page > REGISTRY_COUNT_CAP)
        return ql_errf(err, QL_EINVAL, "page",
                       "page and per_page are out of range; narrow the search instead",
                       "页码或每页条数超出范围，请缩小查询范围");
    buf where;
    buf_init(&where, 0);
    store_val args[8];
    int n = 0;
    struct employer_scratch x;
    rc = employer_where(&sc, f, &where, args, &n, &x, err);
    if (rc) {
        buf_free(&where);
        return rc;
    }
    const char *order = employer_order(f);
    buf sql;
    buf_init(&sql, 0);
    buf_printf(&sql, "SELECT count(*) FROM (SELECT 1%s LIMIT %d) c", where.data,
               REGISTRY_COUNT_CAP + 1);
    rc = store_query_int(s, sql.data, args, n, total);
    json_t *list = NULL;
    if (!rc) {
        buf_reset(&sql);
        buf_printf(&sql, "SELECT " EMPLOYER_COLUMNS "%s%s LIMIT $%d OFFSET $%d", where.data,
                   order, n + 1, n + 2);
        args[n] = SV_INT(f->per_page);
        args[n + 1] = SV_INT((f->page - 1) * f->per_page);
        store_rows *r;
        rc = store_query(s, sql.data, args, n + 2, &r);
        if (!rc) {
            list = json_array();
            while ((rc = store_step(r)) == 1) json_array_append_new(list, employer_row_json(r));
            store_rows_close(r);
        }
    }
    buf_free(&sql);
    buf_free(&where);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *rows = list;
    return 0;
}

int registry_employer_each(store *s, const actor *a, const struct employer_filter *f,
                           employer_row_fn fn, void *ctx, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (!rc) rc = check_employer_sort(f, err);
    if (rc) return rc;
    buf sql;
    buf_init(&sql, 0);
    buf_puts(&sql, "SELECT " EMPLOYER_COLUMNS);
    store_val args[8];
    int n = 0;
    struct employer_scratch x;
    rc = employer_where(&sc, f, &sql, args, &n, &x, err);
    store_rows *r = NULL;
    if (!rc) {
        buf_puts(&sql, employer_order(f));
        rc = store_query(s, sql.data, args, n, &r);
    }
    buf_free(&sql);
    if (rc) return rc;
    int stopped = 0;
    while ((rc = store_step(r)) == 1) {
        json_t *row = employer_row_json(r);
        stopped = fn(row, ctx);
        json_decref(row);
        if (stopped) break;
    }
    store_rows_close(r);
    if (stopped) return stopped;
    return rc < 0 ? rc : 0;
}
