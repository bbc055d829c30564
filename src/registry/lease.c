/* lease.c - leases (租赁合同): recording, changing and ending them, the
 * online-signing filing (网签备案), one tenant at a time per unit, reading
 * within scope and lists. */
#include "registry/facts_log.h"
#include "registry/housing_internal.h"

#include "auth/session.h"
#include "core/date.h"
#include "core/pii.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>

#define FILING_DAYS     30 /* filing is due within 30 days of signing */
#define MAX_LEASE_YEARS 20 /* Civil Code art. 705 */
#define ID_MAX          999999999999999999LL

struct lease_rec {
    int64_t talent_id;
    int64_t unit_id; /* 0: an address outside the platform */
    char address[4 * 200 + 65];
    int32_t start, end, signed_on;
    int64_t rent_fen, deposit_fen;
    int has_filing;
    char filing_no[48];
    int32_t filed;
};

static int not_found(ql_err *err, int64_t id)
{
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no lease %lld", "没有编号为 %lld 的租赁合同",
                   (long long)id);
}

static void day_text(int32_t day, char out[16])
{
    date_format(day, out, 16);
}

/* A field trimmed into out (n bytes); input too long for it becomes "?",
 * which every check below refuses. */
static void field_text(const char *in, char *out, size_t n)
{
    if (in && strlen(in) >= n) in = "?";
    reg_trim(in, out, n);
}

/* A date field. Returns 1 (with an error naming field) when it is malformed,
 * or required and empty; *has says whether a date was given. */
static int date_in(reg_report *report, const char *field, const char *in, int required,
                   const char *what_en, const char *what_zh, int32_t *out, int *has)
{
    ql_err e;
    char tmp[64];
    field_text(in, tmp, sizeof tmp);
    *has = 0;
    if (!tmp[0]) {
        if (!required) return 0;
        return hs_bad(report, (ql_errf(&e, QL_EINVAL, field, "%s: enter %s%.0s (YYYY-MM-DD)",
                                       "%s：请填写%.0s%s（YYYY-MM-DD）", field, what_en, what_zh),
                               &e));
    }
    if (validate_date(field, tmp, out, &e)) return hs_bad(report, &e);
    *has = 1;
    return 0;
}

/* 20 years after day (28 February for a 29 February). */
static int32_t years_after(int32_t day, int years)
{
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    if (!date_valid(y + years, m, d)) d = 28;
    return date_from_ymd(y + years, m, d);
}

/* The tenant: talent_id within the scope, or talent_id_number. */
static int check_talent(store *s, const struct reg_scope *sc, const struct lease_input *in,
                        int32_t today, struct lease_rec *l, reg_report *report)
{
    ql_err e;
    char tid[64], num[64];
    field_text(in->talent_id, tid, sizeof tid);
    field_text(in->talent_id_number, num, sizeof num);
    if (tid[0] && num[0])
        return hs_bad(report, (ql_errf(&e, QL_EINVAL, "talent_id_number",
                                       "talent_id_number: name the tenant by talent_id or by "
                                       "talent_id_number, not both",
                                       "talent_id_number：请用 talent_id 或 talent_id_number 之一"
                                       "指明承租人，不要同时填写"),
                               &e));
    if (!tid[0] && !num[0])
        return hs_bad(report, (ql_errf(&e, QL_EINVAL, "talent_id",
                                       "talent_id: name the tenant, by talent_id or by "
                                       "talent_id_number",
                                       "talent_id：请指明承租人（talent_id 或 talent_id_number）"),
                               &e));
    if (tid[0]) {
        if (validate_int("talent_id", tid, 1, ID_MAX, &l->talent_id, &e)) return hs_bad(report, &e);
        buf sql;
        buf_init(&sql, 0);
        buf_puts(&sql, "SELECT t.id FROM talents t WHERE t.id = $1");
        store_val args[3] = {SV_INT(l->talent_id)};
        int n = 1;
        reg_scope_talents(sc, &sql, args, &n);
        int64_t found = 0;
        int rc = store_query_int(s, sql.data, args, n, &found);
        buf_free(&sql);
        if (rc == QL_ENOTFOUND)
            return hs_bad(report,
                          (ql_errf(&e, QL_EINVAL, "talent_id", "talent_id: there is no talent %lld",
                                   "talent_id：没有编号为 %lld 的人才", (long long)l->talent_id),
                           &e));
        return rc;
    }
    char norm[64], index[PII_INDEX_HEX];
    pii_normalize(PII_ID_NUMBER, num, norm, sizeof norm);
    if (validate_id_number("talent_id_number", norm, today, NULL, &e)) return hs_bad(report, &e);
    pii_index(PII_ID_NUMBER, norm, index);
    int rc = store_query_int(s, "SELECT id FROM talents WHERE id_index = $1",
                             (store_val[]){SV_TEXT(index)}, 1, &l->talent_id);
    if (rc == QL_ENOTFOUND)
        return hs_bad(report, (ql_errf(&e, QL_EINVAL, "talent_id_number",
                                       "talent_id_number: no talent is registered with this ID "
                                       "number; register the person first",
                                       "talent_id_number：没有以该证件号码登记的人才，请先登记"),
                               &e));
    return rc;
}

/* The unit (listed, and the operator's own for an operator's account) and
 * the address. */
static int check_place(store *s, const struct reg_scope *sc, const struct lease_input *in,
                       struct lease_rec *l, reg_report *report)
{
    ql_err e;
    char uid[64], addr[sizeof l->address];
    field_text(in->unit_id, uid, sizeof uid);
    int bad = hs_text(report, "address", in->address, addr, sizeof addr, !uid[0], 200,
                      "the address of the home let (without a unit on the platform)",
                      "租赁房屋地址（非平台房源时必填）");
    if (!uid[0]) {
        if (sc->kind == SCOPE_OPERATOR)
            return hs_bad(report, (ql_errf(&e, QL_EINVAL, "unit_id",
                                           "unit_id: an operator records the leases of its own "
                                           "units; give the unit",
                                           "unit_id：住房租赁企业只能登记本企业房源的租赁合同，请"
                                           "选择房源"),
                                   &e));
        snprintf(l->address, sizeof l->address, "%s", addr);
        return bad;
    }
    if (validate_int("unit_id", uid, 1, ID_MAX, &l->unit_id, &e)) return hs_bad(report, &e);
    buf sql;
    buf_init(&sql, 0);
    buf_puts(&sql, "SELECT u.status, u.address FROM housing_units u WHERE u.id = $1");
    store_val args[3] = {SV_INT(l->unit_id)};
    int n = 1;
    if (sc->kind == SCOPE_OPERATOR) {
        buf_puts(&sql, " AND u.operator_id = $2");
        hs_arg(args, &n, SV_INT(sc->id));
    }
    store_rows *r;
    int rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    if (rc) return rc;
    rc = store_step(r);
    char status[16] = "";
    if (rc == 1) {
        snprintf(status, sizeof status, "%s", store_col_text(r, 0, NULL));
        snprintf(l->address, sizeof l->address, "%s", store_col_text(r, 1, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return rc;
    if (rc == 0)
        return hs_bad(report, (ql_errf(&e, QL_EINVAL, "unit_id", "unit_id: there is no unit %lld",
                                       "unit_id：没有编号为 %lld 的房源", (long long)l->unit_id),
                               &e));
    if (strcmp(status, "listed") != 0 && strcmp(status, "leased") != 0)
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "unit_id",
                                      "unit_id: unit %lld is not listed (status %s); a unit is let "
                                      "through the platform once listed with its verification "
                                      "code",
                                      "unit_id：房源 %lld 未发布（状态 %s），房源须凭房源核验码发布"
                                      "后方可登记租赁合同",
                                      (long long)l->unit_id, status),
                              &e));
    if (!bad && addr[0] && strcmp(addr, l->address) != 0)
        bad = hs_bad(report,
                     (ql_errf(&e, QL_EINVAL, "address",
                              "address: leave it empty for a unit on the platform; the "
                              "unit's address (%s) is used",
                              "address：平台房源无需填写地址，将使用房源地址（%s）", l->address),
                      &e));
    return bad;
}

/* Checks every field of in. Returns 0, QL_EINVAL with every bad field in
 * report->errors, or a store error. Warnings about the filing go to
 * report->warnings. */
static int lease_check(store *s, const struct reg_scope *sc, const struct lease_input *in,
                       struct lease_rec *l, reg_report *report)
{
    ql_err e;
    int32_t today = date_today();
    memset(l, 0, sizeof *l);
    int rc = check_talent(s, sc, in, today, l, report);
    if (rc < 0) return rc;
    int bad = rc;
    rc = check_place(s, sc, in, l, report);
    if (rc < 0) return rc;
    bad |= rc;

    int has_start, has_end, has_signed, has_filed;
    bad |= date_in(report, "start_date", in->start_date, 1, "the first day of the lease",
                   "租期开始日期", &l->start, &has_start);
    bad |= date_in(report, "end_date", in->end_date, 1, "the last day of the lease", "租期结束日期",
                   &l->end, &has_end);
    bad |= date_in(report, "signed_date", in->signed_date, 1, "the day the lease was signed",
                   "签约日期", &l->signed_on, &has_signed);
    char a[16], b[16];
    if (has_start && has_end) {
        day_text(l->start, a);
        if (l->end <= l->start)
            bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "end_date",
                                          "end_date: the lease must end after it starts (%s)",
                                          "end_date：租期结束日期必须晚于开始日期（%s）", a),
                                  &e));
        else if (l->end > years_after(l->start, MAX_LEASE_YEARS))
            bad = hs_bad(report,
                         (ql_errf(&e, QL_EINVAL, "end_date",
                                  "end_date: a lease runs at most %d years (Civil Code "
                                  "art. 705)",
                                  "end_date：租赁期限不得超过 %d 年（《民法典》第七百零五条）",
                                  MAX_LEASE_YEARS),
                          &e));
    }
    if (has_signed && l->signed_on > today)
        bad = hs_bad(
            report, (ql_errf(&e, QL_EINVAL, "signed_date", "signed_date: the date is in the future",
                             "signed_date：签约日期晚于今天"),
                     &e));

    char tmp[64];
    field_text(in->rent, tmp, sizeof tmp);
    if (!tmp[0] || validate_money("rent", tmp, &l->rent_fen, &e) || l->rent_fen == 0)
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "rent",
                                      "rent: enter the monthly rent in yuan, more than 0, such as "
                                      "4500 or 4500.50",
                                      "rent：请填写大于 0 的月租金（元），如 4500 或 4500.50"),
                              &e));
    field_text(in->deposit, tmp, sizeof tmp);
    if (tmp[0] && validate_money("deposit", tmp, &l->deposit_fen, &e)) bad = hs_bad(report, &e);

    int filing_bad = hs_code(report, "filing_no", in->filing_no, l->filing_no, sizeof l->filing_no,
                             4, 40, "网签备案号");
    bad |= filing_bad;
    bad |= date_in(report, "filed_date", in->filed_date, 0, "", "", &l->filed, &has_filed);
    field_text(in->filed_date, tmp, sizeof tmp);
    if (l->filing_no[0] && !tmp[0])
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "filed_date",
                                      "filed_date: give the filing date with the filing number",
                                      "filed_date：填写网签备案号时须填写备案日期"),
                              &e));
    if (!l->filing_no[0] && !filing_bad && tmp[0])
        bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "filing_no",
                                      "filing_no: give the filing number (网签备案号) with the "
                                      "filing date",
                                      "filing_no：填写备案日期时须填写网签备案号"),
                              &e));
    if (has_filed && l->filing_no[0]) {
        l->has_filing = 1;
        if (has_signed && l->filed < l->signed_on) {
            day_text(l->signed_on, a);
            bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "filed_date",
                                          "filed_date: filed before the lease was signed (%s)",
                                          "filed_date：备案日期早于签约日期（%s）", a),
                                  &e));
        } else if (l->filed > today) {
            bad = hs_bad(report, (ql_errf(&e, QL_EINVAL, "filed_date",
                                          "filed_date: the date is in the future",
                                          "filed_date：备案日期晚于今天"),
                                  &e));
        }
    }
    if (bad) return QL_EINVAL;

    int32_t due = l->signed_on + FILING_DAYS;
    day_text(due, b);
    if (l->has_filing && l->filed > due)
        ql_errs_add(&report->warnings,
                    (ql_errf(&e, QL_EINVAL, "filed_date",
                             "filed_date: filed %d days after signing; filing was due within %d "
                             "days (by %s)",
                             "filed_date：签约后第 %d 天才备案，应在 %d 日内（%s 前）备案",
                             (int)(l->filed - l->signed_on), FILING_DAYS, b),
                     &e));
    if (!l->has_filing && today > due)
        ql_errs_add(
            &report->warnings,
            (ql_errf(&e, QL_EINVAL, "filing_no",
                     "filing_no: not filed; online-signing filing was due by %s, %d days "
                     "after signing",
                     "filing_no：尚未网签备案，应于 %s 前（签约后 %d 日内）备案", b, FILING_DAYS),
             &e));
    return 0;
}

/* ---- reading --------------------------------------------------------- */

#define LEASE_COLUMNS                                                                              \
    "l.id, l.talent_id, t.name, t.id_masked, l.unit_id, u.operator_id, o.code, o.name, "           \
    "l.address, l.start_date, l.end_date, l.rent_fen, l.deposit_fen, l.signed_date, "              \
    "l.filing_no, l.filed_date, l.status, l.ended_on, l.end_reason, l.created_at, l.updated_at"
#define LEASE_FROM                                                                                 \
    " FROM leases l JOIN talents t ON t.id = l.talent_id LEFT JOIN housing_units u ON "            \
    "u.id = l.unit_id LEFT JOIN operators o ON o.id = u.operator_id WHERE 1 = 1"
/* Every lease has its talent (a foreign key), and no condition names t or
 * o (the employer scope asks the talents in a subquery): the count joins
 * the unit only, where a condition may name it. Joining the talents cost a
 * random read of the talents per counted row (10,001 at most: 35 ms of a
 * 37 ms page at a million talents). */
#define LEASE_COUNT_FROM " FROM leases l LEFT JOIN housing_units u ON u.id = l.unit_id WHERE 1 = 1"

static json_t *lease_row_json(store_rows *r)
{
    int32_t today = date_today();
    json_t *talent = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)store_col_int(r, 1), "name",
                               store_col_text(r, 2, NULL), "id_masked", store_col_text(r, 3, NULL));
    json_t *unit =
        store_col_isnull(r, 4)
            ? json_null()
            : json_pack("{s:I, s:{s:I, s:s, s:s}}", "id", (json_int_t)store_col_int(r, 4),
                        "operator", "id", (json_int_t)store_col_int(r, 5), "code",
                        store_col_text(r, 6, NULL), "name", store_col_text(r, 7, NULL));
    int32_t start = (int32_t)store_col_int(r, 9), end = (int32_t)store_col_int(r, 10);
    int32_t signed_on = (int32_t)store_col_int(r, 13);
    int filed = !store_col_isnull(r, 14);
    const char *status = store_col_text(r, 16, NULL);
    int ended = !store_col_isnull(r, 17);
    int32_t last = ended ? (int32_t)store_col_int(r, 17) : end;
    return json_pack(
        "{s:I, s:o, s:o, s:s, s:o, s:o, s:o, s:I, s:o, s:I, s:o, s:s, s:o, s:b, "
        "s:o, s:b, s:s, s:o, s:s, s:b, s:o, s:o}",
        "id", (json_int_t)store_col_int(r, 0), "talent", talent, "unit", unit, "address",
        store_col_text(r, 8, NULL), "start_date", reg_day(start, 0), "end_date", reg_day(end, 0),
        "rent", hs_money(store_col_int(r, 11)), "rent_fen", (json_int_t)store_col_int(r, 11),
        "deposit", hs_money(store_col_int(r, 12)), "deposit_fen", (json_int_t)store_col_int(r, 12),
        "signed_date", reg_day(signed_on, 0), "filing_no", store_col_text(r, 14, NULL),
        "filed_date", reg_day(store_col_int(r, 15), !filed), "filed", filed, "filing_due",
        reg_day(signed_on + FILING_DAYS, 0), "filing_overdue",
        !filed && today > signed_on + FILING_DAYS, "status", status, "ended_on",
        reg_day(store_col_int(r, 17), !ended), "end_reason", store_col_text(r, 18, NULL),
        "in_force", start <= today && today <= last, "created_at", reg_time(store_col_int(r, 19)),
        "updated_at", reg_time(store_col_int(r, 20)));
}

/* The lease as JSON if sc shows it; QL_ENOTFOUND otherwise. */
static int read_lease(store *s, const struct reg_scope *sc, int64_t id, json_t **out)
{
    buf sql;
    buf_init(&sql, 0);
    store_val args[3] = {SV_INT(id)};
    int n = 1;
    buf_puts(&sql, "SELECT " LEASE_COLUMNS LEASE_FROM " AND l.id = $1");
    hs_scope_leases(sc, &sql, args, &n);
    store_rows *r;
    int rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        *out = lease_row_json(r);
        rc = *out ? 0 : QL_EINTERNAL;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    return rc;
}

int registry_lease_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (rc) return rc;
    rc = read_lease(s, &sc, id, out);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    return rc;
}

/* ---- recording and changing ------------------------------------------ */

struct lease_ctx {
    const actor *a;
    const struct reg_scope *sc;
    const struct lease_rec *l;
    int64_t id;
    int32_t ended_on;
    const char *reason;
    ql_err *err;
};

/* Inside the transaction: the unit is still listed, no other lease of the
 * unit overlaps, and the filing number is not another lease's. */
static int check_conflicts(store *s, const struct lease_rec *l, int64_t self, ql_err *err)
{
    int rc;
    if (l->unit_id) {
        store_rows *r;
        rc = store_query(s, "SELECT status FROM housing_units WHERE id = $1",
                         (store_val[]){SV_INT(l->unit_id)}, 1, &r);
        if (rc) return rc;
        rc = store_step(r);
        int listed = rc == 1 && (!strcmp(store_col_text(r, 0, NULL), "listed") ||
                                 !strcmp(store_col_text(r, 0, NULL), "leased"));
        store_rows_close(r);
        if (rc < 0) return rc;
        if (!listed)
            return ql_errf(err, QL_EINVAL, "unit_id", "unit_id: unit %lld is not listed",
                           "unit_id：房源 %lld 未发布", (long long)l->unit_id);
        rc = store_query(
            s,
            "SELECT id, start_date, coalesce(ended_on, end_date) FROM leases "
            "WHERE unit_id = $1 AND id <> $2 AND start_date <= $3 AND "
            "coalesce(ended_on, end_date) >= $4 ORDER BY start_date, id LIMIT 1",
            (store_val[]){SV_INT(l->unit_id), SV_INT(self), SV_INT(l->end), SV_INT(l->start)}, 4,
            &r);
        if (rc) return rc;
        rc = store_step(r);
        int64_t other = 0;
        int32_t from = 0, to = 0;
        if (rc == 1) {
            other = store_col_int(r, 0);
            from = (int32_t)store_col_int(r, 1);
            to = (int32_t)store_col_int(r, 2);
        }
        store_rows_close(r);
        if (rc < 0) return rc;
        if (other) {
            char a[16], b[16];
            day_text(from, a);
            day_text(to, b);
            const char *field = l->start >= from && l->start <= to ? "start_date" : "end_date";
            return ql_errf(err, QL_ECONFLICT, field,
                           "%s: unit %lld is let from %s to %s under lease %lld; the leases of "
                           "one unit may not overlap",
                           "%s：房源 %lld 在 %s 至 %s 已有租赁合同（编号 %lld），同一房源的租期"
                           "不能重叠",
                           field, (long long)l->unit_id, a, b, (long long)other);
        }
    }
    if (l->has_filing) {
        int64_t other = 0;
        rc = store_query_int(s, "SELECT id FROM leases WHERE filing_no = $1 AND id <> $2",
                             (store_val[]){SV_TEXT(l->filing_no), SV_INT(self)}, 2, &other);
        if (rc == 0)
            return ql_errf(err, QL_ECONFLICT, "filing_no",
                           "filing_no: the filing number %s belongs to lease %lld",
                           "filing_no：网签备案号 %s 已用于租赁合同 %lld", l->filing_no,
                           (long long)other);
        if (rc != QL_ENOTFOUND) return rc;
    }
    return 0;
}

static int create_body(store *s, void *arg)
{
    struct lease_ctx *x = arg;
    const struct lease_rec *l = x->l;
    int rc = check_conflicts(s, l, 0, x->err);
    if (rc) return rc;
    int64_t now = auth_now();
    store_rows *r;
    rc =
        store_query(s,
                    "INSERT INTO leases (talent_id, unit_id, address, start_date, end_date, "
                    "rent_fen, deposit_fen, signed_date, filing_no, filed_date, status, "
                    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                    "'active', $11, $11) RETURNING id",
                    (store_val[]){SV_INT(l->talent_id), l->unit_id ? SV_INT(l->unit_id) : SV_NULL,
                                  SV_TEXT(l->address), SV_INT(l->start), SV_INT(l->end),
                                  SV_INT(l->rent_fen), SV_INT(l->deposit_fen), SV_INT(l->signed_on),
                                  l->has_filing ? SV_TEXT(l->filing_no) : SV_NULL,
                                  l->has_filing ? SV_INT(l->filed) : SV_NULL, SV_INT(now)},
                    11, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) x->id = store_col_int(r, 0);
    store_rows_close(r);
    if (rc < 0) return rc;
    if (rc == 0) return QL_EINTERNAL;
    if ((rc = facts_lease_log(s, x->a, "lease.create", x->id, NULL, x->err))) return rc;
    json_t *after = NULL;
    rc = read_lease(s, x->sc, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "lease.create", "lease", x->id, NULL, after, json_object(), x->err);
    json_decref(after);
    if (!rc && l->unit_id) rc = hs_unit_sync(s, x->a, l->unit_id, x->id, x->err);
    return rc;
}

int registry_lease_create(store *s, const actor *a, const struct lease_input *in, int64_t *id,
                          reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = hs_require_manage(s, a, &sc, err);
    if (rc) return rc;
    struct lease_rec l;
    rc = lease_check(s, &sc, in, &l, report);
    if (rc == QL_EINVAL) return hs_first_error(report, err);
    if (rc) return rc;
    struct lease_ctx x = {.a = a, .sc = &sc, .l = &l, .err = err};
    rc = hs_write(s, create_body, &x, report, err);
    if (!rc && id) *id = x.id;
    return rc;
}

/* The lease's unit id (0 for none) in its JSON state. */
static int64_t unit_of(const json_t *lease)
{
    const json_t *u = json_object_get(lease, "unit");
    return json_is_object(u) ? json_integer_value(json_object_get(u, "id")) : 0;
}

/* The lease, visible to the actor for changing, and still active. */
static int read_active(store *s, const struct lease_ctx *x, json_t **out)
{
    int rc = read_lease(s, x->sc, x->id, out);
    if (rc == QL_ENOTFOUND) return not_found(x->err, x->id);
    if (rc) return rc;
    const char *status = json_string_value(json_object_get(*out, "status"));
    if (strcmp(status, "active") != 0) {
        rc = ql_errf(x->err, QL_ECONFLICT, "status",
                     "status: lease %lld has %s%.0s; a lease that has ended is not changed",
                     "status：租赁合同 %lld 已%.0s%s，已结束的合同不能修改", (long long)x->id,
                     !strcmp(status, "ended") ? "ended" : "been terminated",
                     !strcmp(status, "ended") ? "到期结束" : "解除");
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static int update_body(store *s, void *arg)
{
    struct lease_ctx *x = arg;
    const struct lease_rec *l = x->l;
    json_t *before = NULL, *after = NULL;
    int rc = read_active(s, x, &before);
    if (rc) return rc;
    int64_t old_unit = unit_of(before);
    struct facts_lease was;
    rc = check_conflicts(s, l, x->id, x->err);
    if (!rc) rc = facts_lease_read(s, x->id, &was);
    if (!rc)
        rc = store_exec(
            s,
            "UPDATE leases SET talent_id = $1, unit_id = $2, address = $3, "
            "start_date = $4, end_date = $5, rent_fen = $6, deposit_fen = $7, "
            "signed_date = $8, filing_no = $9, filed_date = $10, updated_at = $11 "
            "WHERE id = $12",
            (store_val[]){SV_INT(l->talent_id), l->unit_id ? SV_INT(l->unit_id) : SV_NULL,
                          SV_TEXT(l->address), SV_INT(l->start), SV_INT(l->end),
                          SV_INT(l->rent_fen), SV_INT(l->deposit_fen), SV_INT(l->signed_on),
                          l->has_filing ? SV_TEXT(l->filing_no) : SV_NULL,
                          l->has_filing ? SV_INT(l->filed) : SV_NULL, SV_INT(auth_now()),
                          SV_INT(x->id)},
            12, NULL);
    if (!rc) rc = facts_lease_log(s, x->a, "lease.update", x->id, &was, x->err);
    if (!rc) rc = read_lease(s, x->sc, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "lease.update", "lease", x->id, before, after,
                       json_pack("{s:o}", "changed", reg_changed_fields(before, after)), x->err);
    if (!rc && old_unit && old_unit != l->unit_id)
        rc = hs_unit_sync(s, x->a, old_unit, x->id, x->err);
    if (!rc && l->unit_id) rc = hs_unit_sync(s, x->a, l->unit_id, x->id, x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

/* The lease must be the actor's to change: 0, or QL_ENOTFOUND naming id. */
static int visible_for_change(store *s, const struct reg_scope *sc, int64_t id, ql_err *err)
{
    json_t *cur = NULL;
    int rc = read_lease(s, sc, id, &cur);
    json_decref(cur);
    return rc == QL_ENOTFOUND ? not_found(err, id) : rc;
}

int registry_lease_update(store *s, const actor *a, int64_t id, const struct lease_input *in,
                          reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = hs_require_manage(s, a, &sc, err);
    if (!rc) rc = visible_for_change(s, &sc, id, err);
    if (rc) return rc;
    struct lease_rec l;
    rc = lease_check(s, &sc, in, &l, report);
    if (rc == QL_EINVAL) return hs_first_error(report, err);
    if (rc) return rc;
    struct lease_ctx x = {.a = a, .sc = &sc, .l = &l, .id = id, .err = err};
    return hs_write(s, update_body, &x, report, err);
}

/* ---- ending ---------------------------------------------------------- */

static int end_body(store *s, void *arg)
{
    struct lease_ctx *x = arg;
    json_t *before = NULL, *after = NULL;
    int rc = read_active(s, x, &before);
    if (rc) return rc;
    int32_t start = 0, end = 0;
    date_parse(json_string_value(json_object_get(before, "start_date")), &start);
    date_parse(json_string_value(json_object_get(before, "end_date")), &end);
    if (x->ended_on < start || x->ended_on > end) {
        char a[16], b[16];
        day_text(start, a);
        day_text(end, b);
        rc = ql_errf(x->err, QL_EINVAL, "ended_on",
                     "ended_on: a lease ends within its period, from %s to %s",
                     "ended_on：结束日期须在租期内（%s 至 %s）", a, b);
    }
    const char *status = x->ended_on == end ? "ended" : "terminated";
    struct facts_lease was;
    if (!rc) rc = facts_lease_read(s, x->id, &was);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE leases SET status = $1, ended_on = $2, end_reason = $3, "
                        "updated_at = $4 WHERE id = $5",
                        (store_val[]){SV_TEXT(status), SV_INT(x->ended_on), SV_TEXT(x->reason),
                                      SV_INT(auth_now()), SV_INT(x->id)},
                        5, NULL);
    if (!rc) rc = facts_lease_log(s, x->a, "lease.end", x->id, &was, x->err);
    if (!rc) rc = read_lease(s, x->sc, x->id, &after);
    if (!rc)
        rc = reg_audit(
            s, x->a, "lease.end", "lease", x->id, before, after,
            json_pack("{s:o, s:s}", "changed", reg_changed_fields(before, after), "status", status),
            x->err);
    int64_t unit = unit_of(before);
    if (!rc && unit) rc = hs_unit_sync(s, x->a, unit, x->id, x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

int registry_lease_end(store *s, const actor *a, int64_t id, const char *ended_on,
                       const char *reason, reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = hs_require_manage(s, a, &sc, err);
    if (!rc) rc = visible_for_change(s, &sc, id, err);
    if (rc) return rc;
    struct lease_ctx x = {.a = a, .sc = &sc, .id = id, .err = err};
    int has = 0;
    int bad = date_in(report, "ended_on", ended_on, 1, "the day the lease ends", "合同结束日期",
                      &x.ended_on, &has);
    char why[4 * 200 + 65];
    bad |= hs_text(report, "reason", reason, why, sizeof why, 1, 200,
                   "say why the lease ends (e.g. the term is over, the tenant moved out early)",
                   "请填写合同结束原因（如租期届满、提前退租）");
    if (bad) return hs_first_error(report, err);
    x.reason = why;
    return hs_write(s, end_body, &x, report, err);
}

/* ---- lists ----------------------------------------------------------- */

struct lease_scratch {
    char q[210], upper[210], pattern[440];
};

static int lease_where(const struct reg_scope *sc, const struct lease_filter *f, buf *where,
                       store_val *args, int *n, struct lease_scratch *x, const char **order,
                       ql_err *err)
{
    static const struct {
        const char *name, *order;
    } sorts[] = {{"-id", " ORDER BY l.id DESC"},
                 {"id", " ORDER BY l.id"},
                 {"start_date", " ORDER BY l.start_date, l.id"},
                 {"-start_date", " ORDER BY l.start_date DESC, l.id DESC"},
                 {"end_date", " ORDER BY l.end_date, l.id"},
                 {"-end_date", " ORDER BY l.end_date DESC, l.id DESC"}};
    *order = NULL;
    const char *sort = f->sort && *f->sort ? f->sort : "-id";
    for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
        if (!strcmp(sort, sorts[i].name)) *order = sorts[i].order;
    if (!*order)
        return ql_errf(err, QL_EINVAL, "sort",
                       "sort must be -id, id, start_date, -start_date, end_date or -end_date",
                       "sort 必须是 -id、id、start_date、-start_date、end_date 或 -end_date");
    buf_puts(where, LEASE_FROM);
    hs_scope_leases(sc, where, args, n);
    reg_trim(f->q, x->q, sizeof x->q);
    if (x->q[0]) {
        snprintf(x->upper, sizeof x->upper, "%s", x->q);
        for (char *c = x->upper; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
        hs_like(x->q, x->pattern, sizeof x->pattern);
        buf_printf(where, " AND (l.filing_no = $%d OR l.address LIKE $%d ESCAPE '\\')", *n + 1,
                   *n + 2);
        hs_arg(args, n, SV_TEXT(x->upper));
        hs_arg(args, n, SV_TEXT(x->pattern));
    }
    const struct {
        const char *column;
        int64_t value;
    } ids[] = {{"l.talent_id", f->talent_id},
               {"l.unit_id", f->unit_id},
               {"u.operator_id", f->operator_id}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (!ids[i].value) continue;
        buf_printf(where, " AND %s = $%d", ids[i].column, *n + 1);
        hs_arg(args, n, SV_INT(ids[i].value));
    }
    if (f->status && *f->status) {
        static const char *const states[][2] = {
            {"active", "生效中"}, {"ended", "已到期"}, {"terminated", "已解除"}};
        const char *code = NULL;
        for (size_t i = 0; i < 3; i++)
            if (!strcmp(f->status, states[i][0]) || !strcmp(f->status, states[i][1]))
                code = states[i][0];
        if (!code)
            return ql_errf(err, QL_EINVAL, "status", "status: active, ended or terminated",
                           "status：应为生效中、已到期或已解除");
        buf_printf(where, " AND l.status = $%d", *n + 1);
        hs_arg(args, n, SV_TEXT(code));
    }
    if (f->filed && *f->filed) {
        int filed;
        int rc = registry_yes_no("filed", f->filed, &filed, err);
        if (rc) return rc;
        buf_puts(where, filed ? " AND l.filing_no IS NOT NULL" : " AND l.filing_no IS NULL");
    }
    if (f->ends_before && *f->ends_before) {
        int32_t day;
        int rc = validate_date("ends_before", f->ends_before, &day, err);
        if (rc) return rc;
        buf_printf(where, " AND l.end_date <= $%d", *n + 1);
        hs_arg(args, n, SV_INT(day));
    }
    if (f->after_id) {
        buf_printf(where, " AND l.id > $%d", *n + 1);
        hs_arg(args, n, SV_INT(f->after_id));
    }
    return 0;
}

int registry_lease_list(store *s, const actor *a, const struct lease_filter *f, json_t **rows,
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
    struct lease_scratch x;
    const char *order = "";
    rc = lease_where(&sc, f, &where, args, &n, &x, &order, err);
    if (!rc)
        rc = hs_page(s, LEASE_COLUMNS, where.data, LEASE_FROM, LEASE_COUNT_FROM, order, args, n, f->page,
                     f->per_page, lease_row_json, rows, total);
    buf_free(&where);
    return rc;
}

int registry_lease_each(store *s, const actor *a, const struct lease_filter *f, housing_row_fn fn,
                        void *ctx, ql_err *err)
{
    struct reg_scope sc;
    int rc = hs_require_read(s, a, &sc, err);
    if (rc) return rc;
    buf where;
    buf_init(&where, 0);
    store_val args[16];
    int n = 0;
    struct lease_scratch x;
    const char *order = "";
    rc = lease_where(&sc, f, &where, args, &n, &x, &order, err);
    if (!rc) rc = hs_walk(s, LEASE_COLUMNS, where.data, order, args, n, lease_row_json, fn, ctx);
    buf_free(&where);
    return rc;
}
