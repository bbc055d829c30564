/* unit.c - housing units (房源): registration by operators and district
 * staff, the verification code a listing needs, the status that follows
 * the unit's leases, reading and lists. */
#include "registry/housing_internal.h"

#include "auth/session.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>

struct unit_rec {
    char operator_code[64];
    int64_t operator_id;
    char address[4 * 200 + 65];
    char district[4 * 20 + 65];
    char community[4 * 100 + 65];
    int64_t area_cm2, rooms, rent_fen;
    const char *kind;
    char vcode[40]; /* "" when there is none */
    const char *status;
};

static int not_found(ql_err *err, int64_t id)
{
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no unit %lld", "没有编号为 %lld 的房源",
                   (long long)id);
}

/* A required field: trimmed into tmp (n bytes). Adds an error naming field
 * and returns 1 when it is empty; input too long for tmp becomes "?", which
 * the field's own check then refuses. */
static int required(reg_report *report, const char *field, const char *in, const char *what_en,
                    const char *what_zh, char *tmp, size_t n)
{
    ql_err e;
    if (in && strlen(in) >= n) in = "?"; /* far too long: fails its check */
    reg_trim(in, tmp, n);
    if (tmp[0]) return 0;
    return hs_bad(report, (ql_errf(&e, QL_EINVAL, field, "%s: enter %s%.0s", "%s：请填写%.0s%s",
                                   field, what_en, what_zh),
                           &e));
}

/* Checks every field of in; resolves the operator. Returns 0, QL_EINVAL with
 * every bad field in report->errors, QL_EFORBIDDEN (field operator) for an
 * operator's account naming another operator, or a store error. */
static int unit_check(store *s, const actor *a, const struct reg_scope *sc,
                      const struct unit_input *in, int creating, struct unit_rec *u,
                      reg_report *report, ql_err *err)
{
    ql_err e;
    int bad = 0;
    char tmp[128];
    memset(u, 0, sizeof *u);

    size_t len = in->operator? strlen(in->operator) : 0;
    if (len < sizeof u->operator_code)
        reg_trim(in->operator, u->operator_code, sizeof u->operator_code);
    else
        snprintf(u->operator_code, sizeof u->operator_code, "?");
    int foreign = 0;
    if (sc->kind == SCOPE_OPERATOR) {
        u->operator_id = sc->id;
        foreign = u->operator_code[0] && strcmp(u->operator_code, a->scope_id) != 0;
    } else if (!u->operator_code[0]) {
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "operator",
                                      "operator: enter the code of the operator that lets the "
                                      "unit",
                                      "operator：请填写出租该房源的住房租赁企业编码"),
                              &e));
    } else {
        int rc = store_query_int(s, "SELECT id FROM operators WHERE code = $1",
                                 (store_val[]){SV_TEXT(u->operator_code)}, 1, &u->operator_id);
        if (rc == QL_ENOTFOUND)
            bad =
                hs_bad(report, (ql_errf(&e, QL_EINVAL, "operator",
                                        "operator: no operator is registered with the code %s",
                                        "operator：没有编码为 %s 的住房租赁企业", u->operator_code),
                                &e));
        else if (rc)
            return rc;
    }

    bad |= hs_text(report, "address", in->address, u->address, sizeof u->address, 1, 200,
                   "enter the unit's address", "请填写房源地址");
    bad |= hs_text(report, "district", in->district, u->district, sizeof u->district, 0, 20,
                   "the district, e.g. 徐汇区", "所在区，如徐汇区");
    bad |= hs_text(report, "community", in->community, u->community, sizeof u->community, 0, 100,
                   "the estate's name", "小区名称");

    if (!required(report, "area", in->area, "the area in square metres", "以平方米计的面积", tmp,
                  sizeof tmp) &&
        validate_area("area", tmp, &u->area_cm2, &e))
        bad = hs_bad(report, &e);
    else if (!tmp[0])
        bad = 1;

    if (!required(report, "rooms", in->rooms, "the number of rooms (0 for a studio)",
                  "房间数（开间填 0）", tmp, sizeof tmp) &&
        validate_int("rooms", tmp, 0, 20, &u->rooms, &e))
        bad = hs_bad(report, &e);
    else if (!tmp[0])
        bad = 1;

    if (!required(report, "rent", in->rent, "the monthly rent in yuan", "以元计的月租金", tmp,
                  sizeof tmp)) {
        if (validate_money("rent", tmp, &u->rent_fen, &e))
            bad = hs_bad(report, &e);
        else if (u->rent_fen == 0)
            bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "rent",
                                          "rent: the monthly rent must be more than 0",
                                          "rent：月租金必须大于 0"),
                                  &e));
    } else {
        bad = 1;
    }

    len = in->kind ? strlen(in->kind) : 0;
    if (len < sizeof tmp)
        reg_trim(in->kind, tmp, sizeof tmp);
    else
        tmp[0] = '\0';
    u->kind = tmp[0] ? hs_kind_code(tmp) : NULL;
    if (!u->kind)
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "kind",
                                      "kind: talent_apartment, affordable_rental or market",
                                      "kind：应为人才公寓、保障性租赁住房或市场化租赁住房"),
                              &e));

    int code_bad = hs_code(report, "verification_code", in->verification_code, u->vcode,
                           sizeof u->vcode, 6, 32, "房源核验码");
    bad |= code_bad;

    len = in->status ? strlen(in->status) : 0;
    if (len < sizeof tmp)
        reg_trim(in->status, tmp, sizeof tmp);
    else
        snprintf(tmp, sizeof tmp, "?");
    u->status = tmp[0] ? hs_unit_status_code(tmp) : "draft";
    if (!u->status) {
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "status", "status: draft, listed or withdrawn",
                                      "status：应为草稿、已发布或已下架"),
                              &e));
    } else if (creating && !strcmp(u->status, "leased")) {
        bad = hs_bad(report,
                     (ql_errf(&e, QL_EINVAL, "status",
                              "status: a unit becomes leased when a lease is recorded on "
                              "it; register it as draft or listed",
                              "status：登记租赁合同后房源自动变为已出租，请登记为草稿或已发布"),
                      &e));
    } else if ((!strcmp(u->status, "listed") || !strcmp(u->status, "leased")) && !u->vcode[0] &&
               !code_bad) {
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "verification_code",
                                      "verification_code: a unit cannot be listed without its "
                                      "verification code (房源核验码)",
                                      "verification_code：没有房源核验码的房源不能发布"),
                              &e));
    }
    if (bad) return QL_EINVAL;
    if (foreign)
        return ql_errf(err, QL_EFORBIDDEN, "operator",
                       "operator: an operator's account registers its own units only",
                       "operator：住房租赁企业账户只能登记本企业的房源");
    return 0;
}

#define UNIT_COLUMNS                                                                               \
    "u.id, u.operator_id, o.code, o.name, o.contact_name, o.contact_phone, u.address, "            \
    "u.district, u.community, u.area_cm2, u.rooms, u.rent_fen, u.kind, u.verification_code, "      \
    "u.status, u.created_at, u.updated_at"
#define UNIT_FROM " FROM housing_units u JOIN operators o ON o.id = u.operator_id WHERE 1 = 1"
/* Every unit has its operator (a foreign key) and no condition names o:
 * the count needs no join. */
#define UNIT_COUNT_FROM " FROM housing_units u WHERE 1 = 1"

static json_t *unit_row_json(store_rows *r)
{
    json_t *op =
        json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)store_col_int(r, 1), "code",
                  store_col_text(r, 2, NULL), "name", store_col_text(r, 3, NULL), "contact_name",
                  store_col_text(r, 4, NULL), "contact_phone", store_col_text(r, 5, NULL));
    return json_pack("{s:I, s:o, s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:I, s:s, s:s, s:s, s:o, "
                     "s:o}",
                     "id", (json_int_t)store_col_int(r, 0), "operator", op, "address",
                     store_col_text(r, 6, NULL), "district", store_col_text(r, 7, NULL),
                     "community", store_col_text(r, 8, NULL), "area", hs_area(store_col_int(r, 9)),
                     "area_cm2", (json_int_t)store_col_int(r, 9), "rooms",
                     (json_int_t)store_col_int(r, 10), "rent", hs_money(store_col_int(r, 11)),
                     "rent_fen", (json_int_t)store_col_int(r, 11), "kind",
                     store_col_text(r, 12, NULL), "verification_code", store_col_text(r, 13, NULL),
                     "status", store_col_text(r, 14, NULL), "created_at",
                     reg_time(store_col_int(r, 15)), "updated_at", reg_time(store_col_int(r, 16)));
}

/* The unit as JSON if sc shows it (sc NULL: always); QL_ENOTFOUND otherwise. */
static int read_unit(store *s, const struct reg_scope *sc, int64_t id, json_t **out)
{
    buf sql;
    buf_init(&sql, 0);
    store_val args[3] = {SV_INT(id)};
    int n = 1;
    buf_puts(&sql, "SELECT " UNIT_COLUMNS UNIT_FROM " AND u.id = $1");
    if (sc) hs_scope_units(sc, &sql, args, &n);
    store_rows *r;
    int rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        *out = unit_row_json(r);
        rc = *out ? 0 : QL_EINTERNAL;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    return rc;
}

int hs_unit_state(store *s, int64_t id, json_t **out)
{
    return read_unit(s, NULL, id, out);
}

static int active_leases(store *s, int64_t unit_id, int64_t *n)
{
    return store_query_int(s,
                           "SELECT count(*) FROM leases WHERE unit_id = $1 AND status = 'active'",
                           (store_val[]){SV_INT(unit_id)}, 1, n);
}

int hs_unit_sync(store *s, const actor *a, int64_t unit_id, int64_t lease_id, ql_err *err)
{
    json_t *before = NULL, *after = NULL;
    int64_t active = 0;
    int rc = hs_unit_state(s, unit_id, &before);
    if (!rc) rc = active_leases(s, unit_id, &active);
    if (rc) {
        json_decref(before);
        return rc;
    }
    const char *status = json_string_value(json_object_get(before, "status"));
    const char *want = active ? "leased" : !strcmp(status, "leased") ? "listed" : status;
    if (strcmp(want, status) != 0) {
        rc = store_exec(s, "UPDATE housing_units SET status = $1, updated_at = $2 WHERE id = $3",
                        (store_val[]){SV_TEXT(want), SV_INT(auth_now()), SV_INT(unit_id)}, 3, NULL);
        if (!rc) rc = hs_unit_state(s, unit_id, &after);
        if (!rc)
            rc = reg_audit(s, a, "unit.update", "unit", unit_id, before, after,
                           json_pack("{s:o, s:I}", "changed", reg_changed_fields(before, after),
                                     "lease_id", (json_int_t)lease_id),
                           err);
    }
    json_decref(before);
    json_decref(after);
    return rc;
}

/* ---- creating and changing ------------------------------------------- */

struct unit_ctx {
    const actor *a;
    const struct reg_scope *sc;
    const struct unit_rec *u;
    int64_t id;
    ql_err *err;
};

static int check_code_taken(store *s, const struct unit_rec *u, int64_t self, ql_err *err)
{
    if (!u->vcode[0]) return 0;
    int64_t other = 0;
    int rc = store_query_int(s,
                             "SELECT id FROM housing_units WHERE verification_code = $1 AND "
                             "id <> $2",
                             (store_val[]){SV_TEXT(u->vcode), SV_INT(self)}, 2, &other);
    if (rc == 0)
        return ql_errf(err, QL_ECONFLICT, "verification_code",
                       "verification_code: another unit has the verification code %s",
                       "verification_code：房源核验码 %s 已用于其他房源", u->vcode);
    return rc == QL_ENOTFOUND ? 0 : rc;
}

static int create_body(store *s, void *arg)
{
    struct unit_ctx *x = arg;
    const struct unit_rec *u = x->u;
    int rc = check_code_taken(s, u, 0, x->err);
    if (rc) return rc;
    int64_t now = auth_now();
    store_rows *r;
    rc = store_query(s,
                     "INSERT INTO housing_units (operator_id, address, district, community, "
                     "area_cm2, rooms, rent_fen, kind, verification_code, status, created_at, "
                     "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) "
                     "RETURNING id",
                     (store_val[]){SV_INT(u->operator_id), SV_TEXT(u->address),
                                   SV_TEXT(u->district), SV_TEXT(u->community), SV_INT(u->area_cm2),
                                   SV_INT(u->rooms), SV_INT(u->rent_fen), SV_TEXT(u->kind),
                                   u->vcode[0] ? SV_TEXT(u->vcode) : SV_NULL, SV_TEXT(u->status),
                                   SV_INT(now)},
                     11, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) x->id = store_col_int(r, 0);
    store_rows_close(r);
    if (rc < 0) return rc;
    if (rc == 0) return QL_EINTERNAL;
    json_t *after = NULL;
    rc = hs_unit_state(s, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "unit.create", "unit", x->id, NULL, after, json_object(), x->err);
    json_decref(after);
    return rc;
}

int registry_unit_create(store *s, const actor *a, const struct unit_input *in, int64_t *id,
                         reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = hs_require_manage(s, a, &sc, err);
    if (rc) return rc;
    struct unit_rec u;
    rc = unit_check(s, a, &sc, in, 1, &u, report, err);
    if (rc == QL_EINVAL) return hs_first_error(report, err);
    if (rc) return rc;
    struct unit_ctx x = {a, &sc, &u, 0, err};
    rc = hs_write(s, create_body, &x, report, err);
    if (!rc && id) *id = x.id;
    return rc;
}

static int update_body(store *s, void *arg)
{
    struct unit_ctx *x = arg;
    const struct unit_rec *u = x->u;
    json_t *before = NULL, *after = NULL;
    int rc = read_unit(s, x->sc, x->id, &before);
    if (rc == QL_ENOTFOUND) return not_found(x->err, x->id);
    if (rc) return rc;
    int64_t active = 0;
    rc = check_code_taken(s, u, x->id, x->err);
    if (!rc) rc = active_leases(s, x->id, &active);
    if (!rc && active && strcmp(u->status, "leased") != 0)
        rc = ql_errf(x->err, QL_ECONFLICT, "status",
                     "status: the unit has an active lease; it stays leased until the lease ends",
                     "status：该房源有生效中的租赁合同，合同结束前状态保持为已出租");
    if (!rc && !active && !strcmp(u->status, "leased"))
        rc = ql_errf(x->err, QL_EINVAL, "status",
                     "status: the unit has no active lease; it becomes leased when a lease is "
                     "recorded",
                     "status：该房源没有生效中的租赁合同，登记租赁合同后才会变为已出租");
    if (!rc)
        rc = store_exec(s,
                        "UPDATE housing_units SET operator_id = $1, address = $2, district = $3, "
                        "community = $4, area_cm2 = $5, rooms = $6, rent_fen = $7, kind = $8, "
                        "verification_code = $9, status = $10, updated_at = $11 WHERE id = $12",
                        (store_val[]){SV_INT(u->operator_id), SV_TEXT(u->address),
                                      SV_TEXT(u->district), SV_TEXT(u->community),
                                      SV_INT(u->area_cm2), SV_INT(u->rooms), SV_INT(u->rent_fen),
                                      SV_TEXT(u->kind), u->vcode[0] ? SV_TEXT(u->vcode) : SV_NULL,
                                      SV_TEXT(u->status), SV_INT(auth_now()), SV_INT(x->id)},
                        12, NULL);
    if (!rc) rc = hs_unit_state(s, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "unit.update", "unit", x->id, before, after,
                       json_pack("{s:o}", "changed", reg_changed_fields(before, after)), x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

int registry_unit_update(store *s, const actor *a, int64_t id, const struct unit_input *in,
                         reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = hs_require_manage(s, a, &sc, err);
    if (rc) return rc;
    /* The unit must be the actor's to change before anything about the
     * input is said. */
    json_t *cur = NULL;
    rc = read_unit(s, &sc, id, &cur);
    json_decref(cur);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    struct unit_rec u;
    rc = unit_check(s, a, &sc, in, 0, &u, report, err);
    if (rc == QL_EINVAL) return hs_first_error(report, err);
    if (rc) return rc;
    struct unit_ctx x = {a, &sc, &u, id, err};
    return hs_write(s, update_body, &x, report, err);
}

/* ---- reading --------------------------------------------------------- */

/* The unit's active leases, for accounts that see its leases. */
static int unit_leases(store *s, int64_t id, json_t **out)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT l.id, t.name, l.start_date, l.end_date, l.status FROM leases l "
                         "JOIN talents t ON t.id = l.talent_id WHERE l.unit_id = $1 AND "
                         "l.status = 'active' ORDER BY l.start_date, l.id",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return rc;
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1)
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:o, s:o, s:s}", "id", (json_int_t)store_col_int(r, 0),
                            "talent_name", store_col_text(r, 1, NULL), "start_date",
                            reg_day(store_col_int(r, 2), 0), "end_date",
                            reg_day(store_col_int(r, 3), 0), "status", store_col_text(r, 4, NULL)));
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}

int registry_unit_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (rc) return rc;
    json_t *u = NULL;
    rc = read_unit(s, &sc, id, &u);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    if (reg_scope_all(&sc) || sc.kind == SCOPE_OPERATOR) {
        json_t *leases = NULL;
        rc = unit_leases(s, id, &leases);
        if (rc) {
            json_decref(u);
            return rc;
        }
        json_object_set_new(u, "leases", leases);
    }
    *out = u;
    return 0;
}

/* ---- lists ----------------------------------------------------------- */

struct unit_scratch {
    char q[210], upper[210], pattern[440], district[100];
};

static int unit_where(const struct reg_scope *sc, const struct unit_filter *f, buf *where,
                      store_val *args, int *n, struct unit_scratch *x, const char **order,
                      ql_err *err)
{
    static const struct {
        const char *name, *order;
    } sorts[] = {
        {"-id", " ORDER BY u.id DESC"},          {"id", " ORDER BY u.id"},
        {"rent", " ORDER BY u.rent_fen, u.id"},  {"-rent", " ORDER BY u.rent_fen DESC, u.id DESC"},
        {"area", " ORDER BY u.area_cm2, u.id"},  {"-area", " ORDER BY u.area_cm2 DESC, u.id DESC"},
        {"address", " ORDER BY u.address, u.id"}};
    *order = NULL;
    const char *sort = f->sort && *f->sort ? f->sort : "-id";
    for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
        if (!strcmp(sort, sorts[i].name)) *order = sorts[i].order;
    if (!*order)
        return ql_errf(err, QL_EINVAL, "sort",
                       "sort must be -id, id, rent, -rent, area, -area or address",
                       "sort 必须是 -id、id、rent、-rent、area、-area 或 address");
    buf_puts(where, UNIT_FROM);
    hs_scope_units(sc, where, args, n);
    reg_trim(f->q, x->q, sizeof x->q);
    if (x->q[0]) {
        snprintf(x->upper, sizeof x->upper, "%s", x->q);
        for (char *c = x->upper; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
        hs_like(x->q, x->pattern, sizeof x->pattern);
        buf_printf(where,
                   " AND (u.verification_code = $%d OR u.address LIKE $%d ESCAPE '\\' OR "
                   "u.community LIKE $%d ESCAPE '\\')",
                   *n + 1, *n + 2, *n + 2);
        hs_arg(args, n, SV_TEXT(x->upper));
        hs_arg(args, n, SV_TEXT(x->pattern));
    }
    if (f->operator_id) {
        buf_printf(where, " AND u.operator_id = $%d", *n + 1);
        hs_arg(args, n, SV_INT(f->operator_id));
    }
    if (f->status && *f->status) {
        const char *code = hs_unit_status_code(f->status);
        if (!code)
            return ql_errf(err, QL_EINVAL, "status", "status: draft, listed, leased or withdrawn",
                           "status：应为草稿、已发布、已出租或已下架");
        buf_printf(where, " AND u.status = $%d", *n + 1);
        hs_arg(args, n, SV_TEXT(code));
    }
    if (f->kind && *f->kind) {
        const char *code = hs_kind_code(f->kind);
        if (!code)
            return ql_errf(err, QL_EINVAL, "kind",
                           "kind: talent_apartment, affordable_rental or market",
                           "kind：应为人才公寓、保障性租赁住房或市场化租赁住房");
        buf_printf(where, " AND u.kind = $%d", *n + 1);
        hs_arg(args, n, SV_TEXT(code));
    }
    reg_trim(f->district, x->district, sizeof x->district);
    if (x->district[0]) {
        buf_printf(where, " AND u.district = $%d", *n + 1);
        hs_arg(args, n, SV_TEXT(x->district));
    }
    if (f->rooms_min < 0 || f->rooms_min > 20)
        return ql_errf(err, QL_EINVAL, "rooms_min", "rooms_min: 0 to 20",
                       "rooms_min：应为 0 到 20");
    if (f->rooms_min) {
        buf_printf(where, " AND u.rooms >= $%d", *n + 1);
        hs_arg(args, n, SV_INT(f->rooms_min));
    }
    const char *bounds[2][2] = {{"rent_min", f->rent_min}, {"rent_max", f->rent_max}};
    for (int i = 0; i < 2; i++) {
        if (!bounds[i][1] || !*bounds[i][1]) continue;
        int64_t fen;
        int rc = validate_money(bounds[i][0], bounds[i][1], &fen, err);
        if (rc) return rc;
        buf_printf(where, " AND u.rent_fen %s $%d", i ? "<=" : ">=", *n + 1);
        hs_arg(args, n, SV_INT(fen));
    }
    if (f->after_id) {
        buf_printf(where, " AND u.id > $%d", *n + 1);
        hs_arg(args, n, SV_INT(f->after_id));
    }
    return 0;
}

int registry_unit_list(store *s, const actor *a, const struct unit_filter *f, json_t **rows,
                       int64_t *total, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (!rc) rc = hs_check_page(f->page, f->per_page, err);
    if (rc) return rc;
    buf where;
    buf_init(&where, 0);
    store_val args[16];
    int n = 0;
    struct unit_scratch x;
    const char *order = "";
    rc = unit_where(&sc, f, &where, args, &n, &x, &order, err);
    if (!rc)
        rc = hs_page(s, UNIT_COLUMNS, where.data, UNIT_FROM, UNIT_COUNT_FROM, order, args, n, f->page,
                     f->per_page, unit_row_json, rows, total);
    buf_free(&where);
    return rc;
}

int registry_unit_each(store *s, const actor *a, const struct unit_filter *f, housing_row_fn fn,
                       void *ctx, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (rc) return rc;
    buf where;
    buf_init(&where, 0);
    store_val args[16];
    int n = 0;
    struct unit_scratch x;
    const char *order = "";
    rc = unit_where(&sc, f, &where, args, &n, &x, &order, err);
    if (!rc) rc = hs_walk(s, UNIT_COLUMNS, where.data, order, args, n, unit_row_json, fn, ctx);
    buf_free(&where);
    return rc;
}
