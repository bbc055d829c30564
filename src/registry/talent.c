/* talent.c - talents: registration with checks from the standards, sealed
 * personal data, employment, reading within scope, lists, unmasking. */
#include "registry/talent.h"

#include "registry/facts_log.h"
#include "registry/housing_internal.h"
#include "registry/payee.h"

#include "auth/session.h"
#include "core/date.h"
#include "core/pii.h"
#include "core/text.h"
#include "core/validate.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

void talent_rec_free(struct talent_rec *t)
{
    buf_free(&t->id_sealed);
    buf_free(&t->phone_sealed);
    buf_free(&t->bank_sealed);
}

static int add(reg_report *report, ql_err *e)
{
    return ql_errs_add(&report->errors, e);
}

/* Seals a normalized value and computes its index and mask. */
static void protect(enum pii_kind kind, const char *norm, buf *sealed, char index[PII_INDEX_HEX],
                    char *masked, size_t mn)
{
    buf_init(sealed, 0);
    if (pii_seal(kind, norm, sealed) != 0) abort(); /* pii_init not called: a bug */
    pii_index(kind, norm, index);
    pii_mask(kind, norm, masked, mn);
}

int talent_check(store *s, const struct talent_input *in, struct employer_cache *cache,
                 int32_t today, struct talent_rec *t, reg_report *report)
{
    memset(t, 0, sizeof *t);
    ql_err e;
    int bad = 0, born = 0; /* born: the ID number gave the date of birth */
    char tmp[256];

    size_t len = reg_trim(in->name, t->name, sizeof t->name);
    if (len >= sizeof t->name || !t->name[0] || text_chars(t->name) > 100)
        bad = add(report, (ql_errf(&e, QL_EINVAL, "name",
                                   "name: enter the person's name (1 to 100 characters)",
                                   "name：请填写姓名（1 到 100 个字符）"),
                           &e));
    else if (validate_name("name", t->name, &e))
        bad = add(report, &e);

    len = reg_trim(in->id_number, tmp, sizeof tmp);
    pii_normalize(PII_ID_NUMBER, tmp, t->id_norm, sizeof t->id_norm);
    if (len >= sizeof tmp)
        bad = reg_too_long(&report->errors, "id_number");
    else if (!tmp[0])
        bad = add(report, (ql_errf(&e, QL_EINVAL, "id_number", "id_number: enter the ID number",
                                   "id_number：请填写身份证号码"),
                           &e));
    else if (validate_id_number("id_number", t->id_norm, today, &t->idinfo, &e))
        bad = add(report, &e);
    else {
        born = 1;
        protect(PII_ID_NUMBER, t->id_norm, &t->id_sealed, t->id_index, t->id_masked,
                sizeof t->id_masked);
    }

    reg_trim(in->phone, tmp, sizeof tmp);
    if (tmp[0]) {
        pii_normalize(PII_PHONE, tmp, t->phone_norm, sizeof t->phone_norm);
        if (strlen(tmp) > 20 || validate_mobile("phone", t->phone_norm, &e)) {
            ql_errf(&e, QL_EINVAL, "phone",
                    "phone: a mobile number has 11 digits and starts with 13 to 19",
                    "phone：手机号码应为 11 位数字，以 13 至 19 开头");
            bad = add(report, &e);
        } else {
            t->has_phone = 1;
            protect(PII_PHONE, t->phone_norm, &t->phone_sealed, t->phone_index, t->phone_masked,
                    sizeof t->phone_masked);
        }
    }

    reg_trim(in->education, tmp, sizeof tmp);
    t->education = reg_education_code(tmp);
    if (!t->education)
        bad = add(report, (ql_errf(&e, QL_EINVAL, "education",
                                   "education: bachelor, master, doctor or other (本科, 硕士, 博士, "
                                   "其他)",
                                   "education：应为本科、硕士、博士或其他"),
                           &e));

    reg_trim(in->graduation_date, tmp, sizeof tmp);
    if (tmp[0]) {
        if (validate_date("graduation_date", tmp, &t->graduation, &e)) bad = add(report, &e);
        else if (t->graduation > today)
            bad = add(report, (ql_errf(&e, QL_EINVAL, "graduation_date",
                                       "graduation_date: the date is in the future",
                                       "graduation_date：日期晚于今天"),
                               &e));
        else if (born && t->graduation < t->idinfo.birth)
            bad = add(report, (ql_errf(&e, QL_EINVAL, "graduation_date",
                                       "graduation_date: the date is before the date of birth "
                                       "in the ID number",
                                       "graduation_date：日期早于身份证号码中的出生日期"),
                               &e));
        else t->has_graduation = 1;
    }

    len = reg_trim(in->category, t->category, sizeof t->category);
    if (len >= sizeof t->category || text_chars(t->category) > 40)
        bad = add(report, (ql_errf(&e, QL_EINVAL, "category",
                                   "category: at most 40 characters", "category：最多 40 个字符"),
                           &e));
    else if (validate_text_line("category", t->category, &e))
        bad = add(report, &e);

    reg_trim(in->level, tmp, sizeof tmp);
    if (tmp[0] >= 'a' && tmp[0] <= 'c' && !tmp[1]) tmp[0] = (char)(tmp[0] - 'a' + 'A');
    if (tmp[0] && !((tmp[0] == 'A' || tmp[0] == 'B' || tmp[0] == 'C') && !tmp[1]))
        bad = add(report, (ql_errf(&e, QL_EINVAL, "level", "level: A, B, C or empty",
                                   "level：应为 A、B、C 或留空"),
                           &e));
    else {
        t->level[0] = tmp[0];
        t->level[1] = '\0';
    }

    reg_trim(in->employer, tmp, sizeof tmp);
    for (char *c = tmp; *c; c++) *c = (char)toupper((unsigned char)*c);
    char since[64];
    reg_trim(in->employed_since, since, sizeof since);
    if (tmp[0]) {
        if (validate_credit_code("employer", tmp, &e)) {
            bad = add(report, &e);
        } else {
            int rc = employer_cache_find(s, cache, tmp, &t->employer_id);
            if (rc == QL_ENOTFOUND)
                bad = add(report, (ql_errf(&e, QL_EINVAL, "employer",
                                           "employer: no employer is registered with %s; "
                                           "register it first",
                                           "employer：没有登记统一社会信用代码为 %s 的用人单位，"
                                           "请先登记该单位",
                                           tmp),
                                   &e));
            else if (rc) return rc;
            else t->has_employer = 1;
        }
        if (!since[0])
            bad = add(report, (ql_errf(&e, QL_EINVAL, "employed_since",
                                       "employed_since: the date the employment began is needed "
                                       "with an employer",
                                       "employed_since：填写用人单位时须填写入职日期"),
                               &e));
        else if (validate_date("employed_since", since, &t->employed_since, &e))
            bad = add(report, &e);
        else if (t->employed_since > today)
            /* an employment that has not begun pays nothing yet: it is
             * recorded once it has (every path that writes it comes here) */
            bad = add(report, (ql_errf(&e, QL_EINVAL, "employed_since",
                                       "employed_since: the date is in the future",
                                       "employed_since：日期晚于今天"),
                               &e));
    } else if (since[0]) {
        bad = add(report, (ql_errf(&e, QL_EINVAL, "employer",
                                   "employer: give the employer's credit code with the date of "
                                   "employment",
                                   "employer：填写入职日期时须填写用人单位统一社会信用代码"),
                           &e));
    }

    reg_trim(in->insurance_months, tmp, sizeof tmp);
    if (tmp[0] && validate_int("insurance_months", tmp, 0, 1200, &t->insurance_months, &e))
        bad = add(report, &e);

    reg_trim(in->owns_housing, tmp, sizeof tmp);
    if (registry_yes_no("owns_housing", tmp, &t->owns_housing, &e)) bad = add(report, &e);
    if (talent_check_dates(in, today, t, report)) bad = 1;

    reg_trim(in->bank_account, tmp, sizeof tmp);
    if (tmp[0]) {
        pii_normalize(PII_BANK_ACCOUNT, tmp, t->bank_norm, sizeof t->bank_norm);
        if (strlen(tmp) > 30 ||
            validate_bank_card("bank_account", t->bank_norm, &t->luhn_ok, &e)) {
            ql_errf(&e, QL_EINVAL, "bank_account",
                    "bank_account: a UnionPay card number has 16 to 19 digits and starts with 62",
                    "bank_account：银联卡号应为 16 至 19 位数字，以 62 开头");
            bad = add(report, &e);
        } else {
            t->has_bank = 1;
            protect(PII_BANK_ACCOUNT, t->bank_norm, &t->bank_sealed, t->bank_index,
                    t->bank_masked, sizeof t->bank_masked);
            if (!t->luhn_ok)
                ql_errs_add(&report->warnings,
                            (ql_errf(&e, QL_EINVAL, "bank_account",
                                     "bank_account: the number fails the Luhn check; some valid "
                                     "UnionPay cards do, so confirm it with the card holder",
                                     "bank_account：卡号未通过 Luhn 校验；部分有效银联卡也会如此，请与"
                                     "持卡人核实"),
                             &e));
        }
    }
    if (bad) {
        talent_rec_free(t);
        return QL_EINVAL;
    }
    return 0;
}

static size_t cache_slot(const struct employer_cache *c, const char *code)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = code; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h ^= h >> 29;
    size_t i = (size_t)h & (c->cap - 1);
    while (c->slots[i].code[0] && strcmp(c->slots[i].code, code)) i = (i + 1) & (c->cap - 1);
    return i;
}

/* Remembers code -> id, growing the table to keep it at most half full. */
static void cache_put(struct employer_cache *c, const char *code, int64_t id)
{
    if (strlen(code) >= sizeof c->slots[0].code) return;
    if ((c->n + 1) * 2 > c->cap) {
        if (c->cap >= 2 * (size_t)EMPLOYER_CACHE_MAX) return;
        struct employer_cache bigger = {0, c->cap ? c->cap * 2 : 1024, NULL};
        bigger.slots = xcalloc(bigger.cap, sizeof *bigger.slots);
        for (size_t i = 0; i < c->cap; i++)
            if (c->slots[i].code[0]) bigger.slots[cache_slot(&bigger, c->slots[i].code)] = c->slots[i];
        bigger.n = c->n;
        free(c->slots);
        *c = bigger;
    }
    struct employer_cache_slot *sl = &c->slots[cache_slot(c, code)];
    if (!sl->code[0]) c->n++;
    snprintf(sl->code, sizeof sl->code, "%s", code);
    sl->id = id;
}

int employer_cache_find(store *s, struct employer_cache *cache, const char *credit_code,
                        int64_t *id)
{
    if (cache && cache->n) {
        const struct employer_cache_slot *sl = &cache->slots[cache_slot(cache, credit_code)];
        if (sl->code[0]) {
            *id = sl->id;
            return *id ? 0 : QL_ENOTFOUND;
        }
    }
    int rc = store_query_int(s, "SELECT id FROM employers WHERE credit_code = $1",
                             (store_val[]){SV_TEXT(credit_code)}, 1, id);
    if (cache && (rc == 0 || rc == QL_ENOTFOUND)) cache_put(cache, credit_code, rc == 0 ? *id : 0);
    return rc;
}

void employer_cache_clear(struct employer_cache *cache)
{
    if (cache->n) memset(cache->slots, 0, cache->cap * sizeof *cache->slots);
    cache->n = 0;
}

void employer_cache_free(struct employer_cache *cache)
{
    free(cache->slots);
    memset(cache, 0, sizeof *cache);
}

#define BLOB_OR_NULL(has, b) ((has) ? SV_BLOB((b).data, (b).len) : SV_NULL)
#define TEXT_OR_NULL(has, s) ((has) ? SV_TEXT(s) : SV_NULL)

int talent_insert(store *s, const struct talent_rec *t, int64_t now, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO talents (name, id_enc, id_index, id_masked, id_kind, birth_date, sex, "
        "phone_enc, phone_index, phone_masked, education, graduation_date, category, level, "
        "employer_id, employed_since, insurance_months, owns_housing, bank_enc, bank_index, "
        "bank_masked, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22) "
        "ON CONFLICT (id_index) DO NOTHING";
    store_val args[] = {
        SV_TEXT(t->name),
        SV_BLOB(t->id_sealed.data, t->id_sealed.len),
        SV_TEXT(t->id_index),
        SV_TEXT(t->id_masked),
        SV_TEXT(t->idinfo.kind == ID_RESIDENT ? "resident" : "foreign_permanent"),
        SV_INT(t->idinfo.birth),
        SV_TEXT(t->idinfo.female ? "f" : "m"),
        BLOB_OR_NULL(t->has_phone, t->phone_sealed),
        TEXT_OR_NULL(t->has_phone, t->phone_index),
        SV_TEXT(t->phone_masked),
        SV_TEXT(t->education),
        t->has_graduation ? SV_INT(t->graduation) : SV_NULL,
        SV_TEXT(t->category),
        SV_TEXT(t->level),
        t->has_employer ? SV_INT(t->employer_id) : SV_NULL,
        t->has_employer ? SV_INT(t->employed_since) : SV_NULL,
        SV_INT(t->insurance_months),
        SV_INT(t->owns_housing),
        BLOB_OR_NULL(t->has_bank, t->bank_sealed),
        TEXT_OR_NULL(t->has_bank, t->bank_index),
        SV_TEXT(t->bank_masked),
        SV_INT(now),
    };
    /* QL_ECONFLICT: the ID number is registered (no row was inserted) */
    int rc = store_insert(s, sql, args, (int)(sizeof args / sizeof args[0]), id);
    if (!rc && t->owns_housing) rc = talent_housing_store(s, *id, t);
    if (rc) return rc;
    if (!t->has_employer) return 0;
    return store_exec(s,
                      "INSERT INTO employments (talent_id, employer_id, start_date, created_at) "
                      "VALUES ($1, $2, $3, $4)",
                      (store_val[]){SV_INT(*id), SV_INT(t->employer_id),
                                    SV_INT(t->employed_since), SV_INT(now)},
                      4, NULL);
}

/* ---- reading --------------------------------------------------------- */

static const char talent_columns[] =
    "t.id, t.name, t.id_masked, t.id_kind, t.birth_date, t.sex, t.phone_masked, t.education, "
    "t.graduation_date, t.category, t.level, t.employer_id, e.name, e.credit_code, "
    "t.employed_since, t.insurance_months, t.owns_housing, t.bank_masked, t.created_at, "
    "t.updated_at, t.housing_from";
#define TALENT_NCOLS 21 /* the columns of talent_columns */

/* One row of talent_columns as JSON (masked), but the home's day. */
static json_t *talent_json_row(store_rows *r)
{
    json_t *employer = store_col_isnull(r, 11)
                           ? json_null()
                           : json_pack("{s:I, s:s, s:s}", "id", (json_int_t)store_col_int(r, 11),
                                       "name", store_col_text(r, 12, NULL), "credit_code",
                                       store_col_text(r, 13, NULL));
    /* The year only: the masked ID number hides exactly the birth date, so
     * showing the date beside it would give the whole number back. */
    int birth_year, month, day;
    date_to_ymd((int32_t)store_col_int(r, 4), &birth_year, &month, &day);
    return json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:I, "
                     "s:b, s:s, s:o, s:o}",
                     "id", (json_int_t)store_col_int(r, 0), "name", store_col_text(r, 1, NULL),
                     "id_masked", store_col_text(r, 2, NULL), "id_kind",
                     store_col_text(r, 3, NULL), "birth_year", (json_int_t)birth_year,
                     "sex", store_col_text(r, 5, NULL), "phone_masked",
                     store_col_text(r, 6, NULL), "education", store_col_text(r, 7, NULL),
                     "graduation_date", reg_day(store_col_int(r, 8), store_col_isnull(r, 8)),
                     "category", store_col_text(r, 9, NULL), "level", store_col_text(r, 10, NULL),
                     "employer", employer, "employed_since",
                     reg_day(store_col_int(r, 14), store_col_isnull(r, 14)), "insurance_months",
                     (json_int_t)store_col_int(r, 15), "owns_housing", (int)store_col_int(r, 16),
                     "bank_masked", store_col_text(r, 17, NULL), "created_at",
                     reg_time(store_col_int(r, 18)), "updated_at", reg_time(store_col_int(r, 19)));
}

/* One row of talent_columns as JSON (masked), with the day from which the
 * person owns housing ("" for none). */
static json_t *talent_json(store_rows *r)
{
    json_t *o = talent_json_row(r);
    json_object_set_new(o, "owns_housing_since",
                        reg_day(store_col_int(r, 20), store_col_isnull(r, 20)));
    return o;
}

/* The talent's state as JSON, if the scope shows it. QL_ENOTFOUND otherwise. */
static int state_of(store *s, const struct reg_scope *sc, int64_t id, json_t **out)
{
    buf sql;
    buf_init(&sql, 0);
    store_val args[3] = {SV_INT(id)};
    int n = 1;
    buf_printf(&sql,
               "SELECT %s FROM talents t LEFT JOIN employers e ON e.id = t.employer_id "
               "WHERE t.id = $1",
               talent_columns);
    reg_scope_talents(sc, &sql, args, &n);
    store_rows *r;
    int rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        *out = talent_json(r);
        rc = *out ? 0 : QL_EINTERNAL;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    return rc;
}

static int not_found(ql_err *err, int64_t id)
{
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no talent %lld", "没有编号为 %lld 的人才",
                   (long long)id);
}

/* The employments of talent id; an employer's account sees only those at
 * its own employer (the person's other employers are not its business). */
static int employments_of(store *s, const struct reg_scope *sc, int64_t id, json_t **out)
{
    int64_t only = sc->kind == SCOPE_EMPLOYER ? sc->id : 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT m.employer_id, e.name, e.credit_code, m.start_date, m.end_date "
                         "FROM employments m JOIN employers e ON e.id = m.employer_id "
                         "WHERE m.talent_id = $1 AND ($2 = 0 OR m.employer_id = $2) "
                         "ORDER BY m.start_date, m.id",
                         (store_val[]){SV_INT(id), SV_INT(only)}, 2, &r);
    if (rc) return rc;
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1)
        json_array_append_new(list,
                              json_pack("{s:I, s:s, s:s, s:o, s:o}", "employer_id",
                                        (json_int_t)store_col_int(r, 0), "employer",
                                        store_col_text(r, 1, NULL), "credit_code",
                                        store_col_text(r, 2, NULL), "start_date",
                                        reg_day(store_col_int(r, 3), 0), "end_date",
                                        reg_day(store_col_int(r, 4), store_col_isnull(r, 4))));
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}

int registry_talent_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    rc = state_of(s, &sc, id, out);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    json_t *emp;
    rc = employments_of(s, &sc, id, &emp);
    if (rc) {
        json_decref(*out);
        return rc;
    }
    json_object_set_new(*out, "employments", emp);
    return 0;
}

/* ---- creating and changing ------------------------------------------- */

/* Who may register or change a talent: registry.write, and for an
 * employer's HR account only its own staff (the employer must be its own). */
static int check_write_scope(const struct reg_scope *sc, const struct talent_rec *t, ql_err *err)
{
    if (reg_scope_all(sc)) return 0;
    if (sc->kind == SCOPE_EMPLOYER) {
        if (t->has_employer && t->employer_id == sc->id) return 0;
        return ql_errf(err, QL_EFORBIDDEN, "employer",
                       "employer: an employer's account registers its own staff only",
                       "employer：用人单位账户只能登记本单位人员");
    }
    return ql_errf(err, QL_EFORBIDDEN, NULL, "this account cannot register talents",
                   "此账户不能登记人才");
}

struct talent_ctx {
    const actor *a;
    const struct reg_scope *sc;
    struct talent_rec *t;
    int64_t id;
    ql_err *err;
};

static int id_taken(ql_err *err)
{
    return ql_errf(err, QL_ECONFLICT, "id_number",
                   "id_number: a talent with this ID number is already registered",
                   "id_number：该身份证号码已登记");
}

static int create_body(store *s, void *arg)
{
    struct talent_ctx *x = arg;
    int rc = talent_insert(s, x->t, auth_now(), &x->id);
    if (rc == QL_ECONFLICT) return id_taken(x->err);
    /* one card pays one person (the transaction rolls back) */
    if (!rc && x->t->has_bank) rc = payee_card_free(s, x->t->bank_index, x->id, x->err);
    json_t *after = NULL;
    if (!rc) rc = state_of(s, x->sc, x->id, &after);
    if (!rc) rc = reg_audit(s, x->a, "talent.create", "talent", x->id, NULL, after, json_object(), x->err);
    json_decref(after);
    return rc;
}

static int first_error(const reg_report *report, ql_err *err)
{
    if (err && report->errors.n) *err = report->errors.e[0];
    return QL_EINVAL;
}

int registry_talent_create(store *s, const actor *a, const struct talent_input *in, int64_t *id,
                           reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_WRITE, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    if (!reg_scope_all(&sc) && sc.kind != SCOPE_EMPLOYER)
        return ql_errf(err, QL_EFORBIDDEN, NULL, "this account cannot register talents",
                       "此账户不能登记人才");
    struct talent_rec t;
    rc = talent_check(s, in, NULL, date_today(), &t, report);
    if (rc == QL_EINVAL) return first_error(report, err);
    if (rc) return rc;
    rc = check_write_scope(&sc, &t, err);
    if (!rc && t.has_employed_until) { /* a new record has no employment to end */
        ql_err e;
        rc = ql_errf(&e, QL_EINVAL, "employed_until",
                     "employed_until: a new record has no employment to end",
                     "employed_until：新登记的人员没有可结束的任职");
        ql_errs_add(&report->errors, &e);
        if (err) *err = e;
    }
    if (!rc) {
        struct talent_ctx x = {a, &sc, &t, 0, err};
        rc = reg_write_tx(s, create_body, &x);
        if (rc == QL_ECONFLICT && err) ql_errs_add(&report->errors, err);
        if (!rc && id) *id = x.id;
    }
    talent_rec_free(&t);
    return rc;
}

/* Whether the employment an update records fits the person's earlier ones:
 * periods never overlap. A new employer begins after the current
 * employment's first day (which then ends the day before); any employment
 * begins after the last one that has ended. QL_ECONFLICT (field
 * employed_since) otherwise. */
static int employment_fits(store *s, int64_t id, int64_t old_employer,
                           const struct talent_rec *t, ql_err *err)
{
    if (!t->has_employer) return 0;
    int64_t current = 0, ended = 0;
    int rc = 0;
    if (old_employer && old_employer != t->employer_id) {
        rc = store_query_int(s,
                             "SELECT start_date FROM employments WHERE talent_id = $1 AND "
                             "end_date IS NULL",
                             (store_val[]){SV_INT(id)}, 1, &current);
        if (rc == QL_ENOTFOUND) rc = 0;
        if (!rc && current && t->employed_since <= current) {
            char day[16];
            date_format((int32_t)current, day, sizeof day);
            return ql_errf(err, QL_ECONFLICT, "employed_since",
                           "employed_since: the new employment must begin after the current "
                           "one began (%s)",
                           "employed_since：新的任职开始日期应晚于当前任职的开始日期（%s）", day);
        }
    }
    rc = store_query_int(s,
                         "SELECT COALESCE(MAX(end_date), 0) FROM employments WHERE talent_id = $1 "
                         "AND end_date IS NOT NULL",
                         (store_val[]){SV_INT(id)}, 1, &ended);
    if (rc) return rc;
    if (ended && t->employed_since <= ended) {
        char day[16];
        date_format((int32_t)ended, day, sizeof day);
        return ql_errf(err, QL_ECONFLICT, "employed_since",
                       "employed_since: an earlier employment ran until %s; the periods must not "
                       "overlap",
                       "employed_since：之前的任职截至 %s，任职期间不能重叠", day);
    }
    return 0;
}

int talent_store_update(store *s, int64_t id, int64_t old_employer, const struct talent_rec *t,
                        int64_t now)
{
    int rc = store_exec(
        s,
        "UPDATE talents SET phone_enc = $1, phone_index = $2, phone_masked = $3, education = $4, "
        "graduation_date = $5, category = $6, level = $7, employer_id = $8, employed_since = $9, "
        "insurance_months = $10, owns_housing = $11, updated_at = $12 WHERE id = $13",
        (store_val[]){
            BLOB_OR_NULL(t->has_phone, t->phone_sealed), TEXT_OR_NULL(t->has_phone, t->phone_index),
            SV_TEXT(t->phone_masked), SV_TEXT(t->education),
            t->has_graduation ? SV_INT(t->graduation) : SV_NULL, SV_TEXT(t->category),
            SV_TEXT(t->level), t->has_employer ? SV_INT(t->employer_id) : SV_NULL,
            t->has_employer ? SV_INT(t->employed_since) : SV_NULL, SV_INT(t->insurance_months),
            SV_INT(t->owns_housing), SV_INT(now), SV_INT(id)},
        13, NULL);
    if (!rc) rc = talent_employment_change(s, id, old_employer, t, now);
    return rc;
}

int talent_employment_change(store *s, int64_t id, int64_t old_employer,
                             const struct talent_rec *t, int64_t now)
{
    int64_t new_employer = t->has_employer ? t->employer_id : 0;
    int rc = 0;
    /* A new employer closes the current employment the day before the new
     * one begins (or on its own first day, if the new one began earlier). */
    if (old_employer != new_employer) {
        if (old_employer)
            rc = store_exec(s,
                            "UPDATE employments SET end_date = CASE WHEN $1 > start_date THEN "
                            "$1 ELSE start_date END WHERE talent_id = $2 AND end_date IS NULL",
                            (store_val[]){SV_INT(t->has_employed_until ? t->employed_until
                                                 : t->has_employer     ? t->employed_since - 1
                                                                       : date_today()),
                                          SV_INT(id)},
                            2, NULL);
        if (!rc && new_employer)
            rc = store_exec(s,
                            "INSERT INTO employments (talent_id, employer_id, start_date, "
                            "created_at) VALUES ($1, $2, $3, $4)",
                            (store_val[]){SV_INT(id), SV_INT(new_employer),
                                          SV_INT(t->employed_since), SV_INT(now)},
                            4, NULL);
    } else if (new_employer) {
        rc = store_exec(s,
                        "UPDATE employments SET start_date = $1 WHERE talent_id = $2 AND "
                        "end_date IS NULL",
                        (store_val[]){SV_INT(t->employed_since), SV_INT(id)}, 2, NULL);
    } else if (t->has_employed_until) { /* no employer before or after: the last one's end */
        rc = store_exec(s,
                        "UPDATE employments SET end_date = $1 WHERE id = (SELECT id FROM "
                        "employments WHERE talent_id = $2 ORDER BY start_date DESC, id DESC "
                        "LIMIT 1)",
                        (store_val[]){SV_INT(t->employed_until), SV_INT(id)}, 2, NULL);
    }
    return rc;
}

int talent_move(store *s, int64_t id, int64_t old_employer, const struct talent_rec *t,
                int64_t now)
{
    int rc = store_exec(s,
                        "UPDATE talents SET employer_id = $1, employed_since = $2, updated_at = $3 "
                        "WHERE id = $4",
                        (store_val[]){t->has_employer ? SV_INT(t->employer_id) : SV_NULL,
                                      t->has_employer ? SV_INT(t->employed_since) : SV_NULL,
                                      SV_INT(now), SV_INT(id)},
                        4, NULL);
    if (!rc) rc = talent_employment_change(s, id, old_employer, t, now);
    return rc;
}

static int update_body(store *s, void *arg)
{
    struct talent_ctx *x = arg;
    json_t *before = NULL, *after = NULL;
    int rc = state_of(s, x->sc, x->id, &before);
    if (rc == QL_ENOTFOUND) return not_found(x->err, x->id);
    if (rc) return rc;
    json_t *emp = json_object_get(before, "employer");
    int64_t old_employer = json_is_object(emp) ? json_integer_value(json_object_get(emp, "id")) : 0;
    rc = employment_fits(s, x->id, old_employer, x->t, x->err);
    if (!rc) rc = talent_end_fits(s, x->id, old_employer, x->t, x->err);
    struct facts_talent was = {0}; /* the dated facts the cycle reads, before */
    if (!rc) rc = facts_talent_read(s, x->id, &was);
    if (rc) {
        facts_talent_free(&was);
        json_decref(before);
        return rc;
    }
    rc = talent_housing_store(s, x->id, x->t);
    if (!rc) rc = talent_store_update(s, x->id, old_employer, x->t, auth_now());
    if (rc == QL_ECONFLICT) rc = id_taken(x->err);
    if (!rc) rc = facts_talent_log(s, x->a, "talent.update", x->id, &was, x->err);
    facts_talent_free(&was);
    if (!rc) rc = state_of(s, x->sc, x->id, &after);
    if (!rc)
        rc = reg_audit(s, x->a, "talent.update", "talent", x->id, before, after,
                       json_pack("{s:o}", "changed", reg_changed_fields(before, after)), x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

/* The stored personal data of talent id, unsealed, for an update that
 * leaves some of it as it is. */
struct personal_plain {
    char id_number[64], phone[64], bank_account[64];
};

static int stored_personal(store *s, int64_t id, struct personal_plain *p, ql_err *err)
{
    memset(p, 0, sizeof *p);
    store_rows *r;
    int rc = store_query(s, "SELECT id_enc, phone_enc, bank_enc FROM talents WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        static const enum pii_kind kinds[] = {PII_ID_NUMBER, PII_PHONE, PII_BANK_ACCOUNT};
        char *outs[] = {p->id_number, p->phone, p->bank_account};
        rc = 0;
        for (int i = 0; i < 3 && !rc; i++) {
            size_t len = 0;
            const void *b = store_col_blob(r, i, &len);
            if (b) rc = pii_open(kinds[i], b, len, outs[i], sizeof p->id_number, err);
        }
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    return rc;
}

int registry_talent_update(store *s, const actor *a, int64_t id, const struct talent_input *given,
                           reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_WRITE, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    /* The record must be visible before anything about the input is said. */
    json_t *cur = NULL;
    rc = state_of(s, &sc, id, &cur);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    /* Personal fields not given stay as stored; the name, ID number and
     * bank card are not changed here at all (registry/payee.h). */
    struct talent_input full = *given;
    const struct talent_input *in = &full;
    struct personal_plain kept = {{0}, {0}, {0}};
    char name[401];
    snprintf(name, sizeof name, "%s", json_string_value(json_object_get(cur, "name")));
    json_decref(cur);
    rc = stored_personal(s, id, &kept, err);
    if (rc == QL_ENOTFOUND) return not_found(err, id);
    if (rc) return rc;
    int refused = payee_update_guard(given, name, kept.id_number, kept.bank_account, report);
    /* the other fields checked all the same (every problem at once) */
    full.name = name;
    full.id_number = kept.id_number;
    full.bank_account = kept.bank_account;
    if (!full.phone) full.phone = kept.phone;
    struct talent_rec t;
    rc = talent_check(s, in, NULL, date_today(), &t, report);
    sodium_memzero(&kept, sizeof kept);
    if (refused) {
        if (!rc) talent_rec_free(&t);
        if (err) *err = report->errors.e[0];
        return refused;
    }
    if (rc == QL_EINVAL) return first_error(report, err);
    if (rc) return rc;
    rc = check_write_scope(&sc, &t, err);
    if (!rc) {
        struct talent_ctx x = {a, &sc, &t, id, err};
        rc = reg_write_tx(s, update_body, &x);
        if (rc == QL_ECONFLICT && err) ql_errs_add(&report->errors, err);
    }
    talent_rec_free(&t);
    return rc;
}

/* ---- unmasking ------------------------------------------------------- */

struct unmask_ctx {
    const actor *a;
    const struct reg_scope *sc;
    int64_t id;
    const char *field, *reason;
    enum pii_kind kind;
    const char *column;
    char *out;
    size_t n;
    ql_err *err;
};

static int unmask_body(store *s, void *arg)
{
    struct unmask_ctx *x = arg;
    buf sql;
    buf_init(&sql, 0);
    store_val args[3] = {SV_INT(x->id)};
    int n = 1;
    buf_printf(&sql, "SELECT t.%s FROM talents t WHERE t.id = $1", x->column);
    reg_scope_talents(x->sc, &sql, args, &n);
    store_rows *r;
    int rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        size_t len = 0;
        const void *b = store_col_blob(r, 0, &len);
        if (!b) rc = ql_errf(x->err, QL_ENOTFOUND, x->field, "%s: not recorded", "%s：未登记",
                             x->field);
        else rc = pii_open(x->kind, b, len, x->out, x->n, x->err);
    } else if (rc == 0) {
        rc = not_found(x->err, x->id);
    }
    store_rows_close(r);
    if (rc) return rc;
    /* The reason as typed, but any number in it starred: the audit log keeps
     * no personal numbers. */
    char reason[800];
    pii_scrub(x->reason, reason, sizeof reason);
    return reg_audit(s, x->a, "personal.unmask", "talent", x->id, NULL, NULL,
                     json_pack("{s:s, s:s}", "field", x->field, "reason", reason), x->err);
}

int registry_talent_unmask(store *s, const actor *a, int64_t id, const char *field,
                           const char *reason, char *out, size_t n, ql_err *err)
{
    out[0] = '\0';
    struct reg_scope sc;
    int rc = actor_require(a, P_PERSONAL_UNMASK, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    struct unmask_ctx x = {.a = a, .sc = &sc, .id = id, .field = field, .out = out, .n = n,
                           .err = err};
    if (field && !strcmp(field, "id_number")) x.kind = PII_ID_NUMBER, x.column = "id_enc";
    else if (field && !strcmp(field, "phone")) x.kind = PII_PHONE, x.column = "phone_enc";
    else if (field && !strcmp(field, "bank_account"))
        x.kind = PII_BANK_ACCOUNT, x.column = "bank_enc";
    else
        return ql_errf(err, QL_EINVAL, "field", "field must be id_number, phone or bank_account",
                       "field 必须是 id_number、phone 或 bank_account");
    char why[401];
    if (reg_reason(reason, why, sizeof why, err)) return QL_EINVAL;
    x.reason = why;
    rc = reg_write_tx(s, unmask_body, &x);
    if (rc) out[0] = '\0';
    return rc;
}

/* ---- lists ----------------------------------------------------------- */

/* Builds "FROM ... WHERE ..." for a filter; fills args. */
/* Text the query's parameters point into while it runs. */
struct list_scratch {
    char index[PII_INDEX_HEX], index2[PII_INDEX_HEX];
    char low[160], high[170];
    int name_prefix; /* the filter has a name prefix */
};

/* broad: the name prefix is shared by more people than a count goes to;
 * the condition is then written so that no index on name serves it (see
 * registry_talent_list). */
static int list_where(const struct reg_scope *sc, const struct talent_filter *f, buf *where,
                      store_val *args, int *n, struct list_scratch *scratch, int broad,
                      ql_err *err)
{
    scratch->name_prefix = 0;
    buf_puts(where, " FROM talents t LEFT JOIN employers e ON e.id = t.employer_id WHERE 1 = 1");
    reg_scope_talents(sc, where, args, n);
    char q[130];
    reg_trim(f->q, q, sizeof q);
    if (q[0]) {
        char norm[130];
        /* An ID number, mobile or card number is looked up by its blind
         * index; anything else is the start of a name. */
        int also_card = 0;
        enum pii_kind kind = (enum pii_kind)reg_query_kind(q, norm, sizeof norm, &also_card);
        if (kind) {
            pii_index(kind, norm, scratch->index);
            if (also_card) {
                /* 18 digits from 6: an ID number of the north-west, or a card */
                pii_index(PII_BANK_ACCOUNT, norm, scratch->index2);
                buf_printf(where, " AND (t.id_index = $%d OR t.bank_index = $%d)", *n + 1,
                           *n + 2);
                args[(*n)++] = SV_TEXT(scratch->index);
                args[(*n)++] = SV_TEXT(scratch->index2);
            } else {
                buf_printf(where, " AND t.%s = $%d",
                           kind == PII_ID_NUMBER ? "id_index"
                           : kind == PII_PHONE   ? "phone_index"
                                                 : "bank_index",
                           *n + 1);
                args[(*n)++] = SV_TEXT(scratch->index);
            }
        } else {
            /* name >= q AND name < q + U+10FFFF: a prefix range the index serves */
            snprintf(scratch->low, sizeof scratch->low, "%s", q);
            snprintf(scratch->high, sizeof scratch->high, "%s\xF4\x8F\xBF\xBF", q);
            scratch->name_prefix = 1;
            const char *col = broad ? "(t.name || '')" : "t.name";
            buf_printf(where, " AND %s >= $%d AND %s < $%d", col, *n + 1, col, *n + 2);
            args[(*n)++] = SV_TEXT(scratch->low);
            args[(*n)++] = SV_TEXT(scratch->high);
        }
    }
    if (f->employer_id) {
        buf_printf(where, " AND t.employer_id = $%d", *n + 1);
        args[(*n)++] = SV_INT(f->employer_id);
    }
    if (f->education && *f->education) {
        const char *code = reg_education_code(f->education);
        if (!code)
            return ql_errf(err, QL_EINVAL, "education", "education: bachelor, master, doctor or other",
                           "education：应为本科、硕士、博士或其他");
        buf_printf(where, " AND t.education = $%d", *n + 1);
        args[(*n)++] = SV_TEXT(code);
    }
    if (f->level && *f->level) {
        if (strcmp(f->level, "A") && strcmp(f->level, "B") && strcmp(f->level, "C"))
            return ql_errf(err, QL_EINVAL, "level", "level: A, B or C", "level：应为 A、B 或 C");
        buf_printf(where, " AND t.level = $%d", *n + 1);
        args[(*n)++] = SV_TEXT(f->level);
    }
    if (f->after_id) {
        buf_printf(where, " AND t.id > $%d", *n + 1);
        args[(*n)++] = SV_INT(f->after_id);
    }
    return 0;
}

static const char *order_of(const struct talent_filter *f)
{
    if (f->sort && !strcmp(f->sort, "name")) return " ORDER BY t.name, t.id";
    if (f->sort && !strcmp(f->sort, "id")) return " ORDER BY t.id";
    return " ORDER BY t.id DESC";
}

static int check_sort(const struct talent_filter *f, ql_err *err)
{
    if (!f->sort || !*f->sort || !strcmp(f->sort, "name") || !strcmp(f->sort, "id") ||
        !strcmp(f->sort, "-id"))
        return 0;
    return ql_errf(err, QL_EINVAL, "sort", "sort must be -id, id or name",
                   "sort 必须是 -id、id 或 name");
}

int registry_talent_list(store *s, const actor *a, const struct talent_filter *f,
                         json_t **rows, int64_t *total, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (!rc) rc = check_sort(f, err);
    if (rc) return rc;
    if (f->page < 1 || f->per_page < 1 || f->per_page > 200)
        return ql_errf(err, QL_EINVAL, "page", "page must be from 1 and per_page from 1 to 200",
                       "页码须从 1 开始，每页条数须在 1 到 200 之间");
    if ((f->page - 1) * f->per_page > REGISTRY_COUNT_CAP)
        return ql_errf(err, QL_EINVAL, "page",
                       "only the first %d matches can be paged through; narrow the search",
                       "最多只能翻看前 %d 条结果，请缩小查询范围", REGISTRY_COUNT_CAP);
    buf where, sql;
    buf_init(&where, 0);
    buf_init(&sql, 0);
    store_val args[16];
    int n = 0;
    struct list_scratch scratch;
    rc = list_where(&sc, f, &where, args, &n, &scratch, 0, err);
    json_t *list = NULL;
    if (!rc) {
        buf_printf(&sql, "SELECT count(*) FROM (SELECT 1%s LIMIT %d) c", where.data,
                   REGISTRY_COUNT_CAP + 1);
        rc = store_query_int(s, sql.data, args, n, total);
    }
    /* A name prefix that many people share (a common surname: 王 is 7 % of
     * a district) is faster to page newest first by walking the ids and
     * testing names than by reading every match through the name index and
     * sorting them all (at a million talents, 5 ms instead of 500 ms); a
     * rare prefix is the other way round. The count tells which. */
    int by_name = f->sort && !strcmp(f->sort, "name");
    if (!rc && scratch.name_prefix && !by_name && *total > REGISTRY_COUNT_CAP) {
        buf_reset(&where);
        n = 0;
        rc = list_where(&sc, f, &where, args, &n, &scratch, 1, err);
    }
    if (!rc) {
        buf_reset(&sql);
        buf_printf(&sql, "SELECT %s%s%s LIMIT $%d OFFSET $%d", talent_columns, where.data,
                   order_of(f), n + 1, n + 2);
        args[n] = SV_INT(f->per_page);
        args[n + 1] = SV_INT((f->page - 1) * f->per_page);
        store_rows *r;
        rc = store_query(s, sql.data, args, n + 2, &r);
        if (!rc) {
            list = json_array();
            while ((rc = store_step(r)) == 1) json_array_append_new(list, talent_json(r));
            store_rows_close(r);
        }
    }
    buf_free(&where);
    buf_free(&sql);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *rows = list;
    return 0;
}

/* Adds the unmasked personal fields of the current row to row. */
static int add_unmasked(store_rows *r, int first, json_t *row, ql_err *err)
{
    static const struct {
        enum pii_kind kind;
        const char *name;
    } cols[] = {{PII_ID_NUMBER, "id_number"}, {PII_PHONE, "phone"}, {PII_BANK_ACCOUNT, "bank_account"}};
    for (int i = 0; i < 3; i++) {
        size_t len = 0;
        const void *b = store_col_blob(r, first + i, &len);
        char plain[64] = "";
        if (b) {
            int rc = pii_open(cols[i].kind, b, len, plain, sizeof plain, err);
            if (rc) return rc;
        }
        json_object_set_new(row, cols[i].name, json_string(plain));
    }
    return 0;
}

int registry_talent_each(store *s, const actor *a, const struct talent_filter *f,
                         talent_row_fn fn, void *ctx, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc && f->unmask) rc = actor_require(a, P_PERSONAL_UNMASK, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (!rc) rc = check_sort(f, err);
    if (rc) return rc;
    buf where, sql;
    buf_init(&where, 0);
    buf_init(&sql, 0);
    store_val args[16];
    int n = 0;
    struct list_scratch scratch;
    int stopped = 0;
    rc = list_where(&sc, f, &where, args, &n, &scratch, 0, err);
    if (!rc) {
        buf_printf(&sql, "SELECT %s%s%s%s", talent_columns,
                   f->unmask ? ", t.id_enc, t.phone_enc, t.bank_enc" : "", where.data, order_of(f));
        store_rows *r;
        rc = store_query(s, sql.data, args, n, &r);
        if (!rc) {
            while ((rc = store_step(r)) == 1) {
                json_t *row = talent_json(r);
                if (f->unmask && (rc = add_unmasked(r, TALENT_NCOLS, row, err)) != 0) {
                    json_decref(row);
                    break;
                }
                stopped = fn(row, ctx);
                json_decref(row);
                if (stopped) break;
            }
            store_rows_close(r);
        }
    }
    buf_free(&where);
    buf_free(&sql);
    if (stopped) return stopped;
    return rc < 0 ? rc : 0;
}

/* ---- history --------------------------------------------------------- */

int registry_history(store *s, const actor *a, const char *object_type, int64_t id,
                     json_t **rows, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    json_t *cur = NULL;
    if (!strcmp(object_type, "talent")) {
        rc = state_of(s, &sc, id, &cur);
        if (rc == QL_ENOTFOUND) return not_found(err, id);
    } else if (!strcmp(object_type, "employer")) {
        rc = registry_employer_get(s, a, id, &cur, err);
    } else {
        rc = hs_visible(s, a, object_type, id, err);
    }
    json_decref(cur);
    if (rc) return rc;
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)id);
    store_rows *r;
    rc = store_query(s,
                     "SELECT at_ms, actor, action, detail FROM audit_log WHERE object_type = $1 "
                     "AND object_id = $2 ORDER BY seq DESC LIMIT 200",
                     (store_val[]){SV_TEXT(object_type), SV_TEXT(oid)}, 2, &r);
    if (rc) return rc;
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1) {
        json_t *detail = json_loads(store_col_text(r, 3, NULL), 0, NULL);
        json_t *changed = detail ? json_object_get(detail, "changed") : NULL;
        json_array_append_new(list, json_pack("{s:o, s:s, s:s, s:o}", "at",
                                              reg_time(store_col_int(r, 0) / 1000), "actor",
                                              store_col_text(r, 1, NULL), "action",
                                              store_col_text(r, 2, NULL), "changed",
                                              changed ? json_incref(changed) : json_array()));
        json_decref(detail);
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *rows = list;
    return 0;
}
