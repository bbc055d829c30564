/* common.c - scope resolution, audit rows and small parsers shared by the
 * registry's records. */
#include "registry/internal.h"

#include "account/account.h"
#include "audit/audit.h"
#include "core/date.h"
#include "core/log.h"
#include "core/pii.h"
#include "core/text.h"
#include "core/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int reg_scope_of(store *s, const actor *a, struct reg_scope *out)
{
    out->kind = a->scope;
    out->id = 0;
    int rc = 0;
    switch (a->scope) {
    case SCOPE_DISTRICT:
    case SCOPE_DEPARTMENT: return 0;
    case SCOPE_EMPLOYER:
        rc = store_query_int(s, "SELECT id FROM employers WHERE credit_code = $1",
                             (store_val[]){SV_TEXT(a->scope_id)}, 1, &out->id);
        break;
    case SCOPE_OPERATOR:
        rc = store_query_int(s, "SELECT id FROM operators WHERE code = $1",
                             (store_val[]){SV_TEXT(a->scope_id)}, 1, &out->id);
        break;
    case SCOPE_SELF: {
        /* '01', '+1' or ' 1' name no one */
        int64_t id = scope_person_id(a->scope_id);
        out->id = id ? id : -1;
        return 0;
    }
    }
    if (rc == QL_ENOTFOUND) {
        out->id = -1;
        rc = 0;
    }
    return rc;
}

int registry_scope(store *s, const actor *a, enum scope_kind *kind, int64_t *id)
{
    struct reg_scope sc;
    int rc = reg_scope_of(s, a, &sc);
    *kind = sc.kind;
    *id = sc.id;
    return rc;
}

int reg_scope_all(const struct reg_scope *sc)
{
    return sc->kind == SCOPE_DISTRICT || sc->kind == SCOPE_DEPARTMENT;
}

void reg_scope_talents(const struct reg_scope *sc, buf *sql, store_val *args, int *n)
{
    switch (sc->kind) {
    case SCOPE_DISTRICT:
    case SCOPE_DEPARTMENT: return;
    case SCOPE_EMPLOYER: buf_printf(sql, " AND t.employer_id = $%d", *n + 1); break;
    case SCOPE_SELF: buf_printf(sql, " AND t.id = $%d", *n + 1); break;
    case SCOPE_OPERATOR:
        buf_printf(sql,
                   " AND t.id IN (SELECT l.talent_id FROM leases l JOIN housing_units u ON "
                   "u.id = l.unit_id WHERE u.operator_id = $%d)",
                   *n + 1);
        break;
    }
    args[(*n)++] = SV_INT(sc->id);
}

int reg_audit(store *s, const actor *a, const char *action, const char *object_type,
              int64_t object_id, const json_t *before, const json_t *after, json_t *detail,
              ql_err *err)
{
    int rc = audit_by(s, a, action, object_type, object_id, before, after, detail, NULL, err);
    json_decref(detail);
    return rc;
}

int reg_write_tx(store *s, store_tx_fn fn, void *ctx)
{
    /* Inside another write transaction (a bulk load): its rows are not
     * committed yet, so the anchor is moved by the outer reg_write_tx. */
    if (store_in_tx(s)) return fn(s, ctx);
    int rc = store_tx(s, STORE_TX_WRITE, fn, ctx);
    if (rc == 0) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

int reg_reason(const char *reason, char *out, size_t n, ql_err *err)
{
    size_t len = reg_trim(reason, out, n);
    size_t chars = text_chars(out);
    if (len >= n || chars < 4 || chars > 200) {
        out[0] = '\0';
        return ql_errf(err, QL_EINVAL, "reason",
                       "reason: say why you need to see it (4 to 200 characters); it is logged",
                       "reason：请说明查看原因（4 到 200 个字符），该操作将被记录");
    }
    if (validate_text_line("reason", out, err)) {
        out[0] = '\0';
        return QL_EINVAL;
    }
    return 0;
}

size_t reg_trim(const char *in, char *out, size_t n)
{
    if (!in) in = "";
    while (*in == ' ' || *in == '\t') in++;
    size_t len = strlen(in);
    while (len && (in[len - 1] == ' ' || in[len - 1] == '\t' || in[len - 1] == '\r' ||
                   in[len - 1] == '\n'))
        len--;
    /* A full-width space (U+3000) around a value is a typing slip too. */
    while (len >= 3 && !memcmp(in, "\xE3\x80\x80", 3)) in += 3, len -= 3;
    while (len >= 3 && !memcmp(in + len - 3, "\xE3\x80\x80", 3)) len -= 3;
    size_t keep = text_cut(in, len < n ? len : n - 1);
    memmove(out, in, keep); /* out may be in itself */
    out[keep] = '\0';
    return len;
}

int reg_too_long(ql_errs *errors, const char *field)
{
    ql_err e;
    ql_errf(&e, QL_EINVAL, field, "%s: the value is too long", "%s：内容过长", field);
    return ql_errs_add(errors, &e);
}

int reg_query_kind(const char *q, char *norm, size_t n, int *also_card)
{
    *also_card = 0;
    pii_normalize(PII_ID_NUMBER, q, norm, n);
    size_t len = strlen(norm), digits = 0;
    for (const char *c = norm; *c; c++) digits += isdigit((unsigned char)*c) != 0;
    if (len == 18 && digits >= 17) {
        *also_card = digits == 18 && norm[0] == '6';
        return PII_ID_NUMBER;
    }
    if (len == 11 && digits == 11 && norm[0] == '1') return PII_PHONE;
    if (len >= 16 && len <= 19 && digits == len && norm[0] == '6') return PII_BANK_ACCOUNT;
    return 0;
}

json_t *reg_changed_fields(const json_t *before, const json_t *after)
{
    json_t *changed = json_array();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)after, key, v)
    {
        if (!strcmp(key, "updated_at")) continue;
        if (!json_equal(v, json_object_get(before, key))) json_array_append_new(changed, json_string(key));
    }
    return changed;
}

json_t *reg_time(int64_t t)
{
    if (!t) return json_string("");
    char out[32];
    account_time_text(t, out);
    return json_string(out);
}

json_t *reg_day(int64_t day, int is_null)
{
    if (is_null) return json_string("");
    char out[16];
    date_format((int32_t)day, out, sizeof out);
    return json_string(out);
}

static const char *match(const char *s, const char *const (*table)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(s, table[i][0]) || !strcmp(s, table[i][1])) return table[i][0];
    return NULL;
}

static const char *const education_names[][2] = {
    {"bachelor", "本科"}, {"master", "硕士"}, {"doctor", "博士"}, {"other", "其他"}};

static const char *const industry_names[][2] = {
    {"ai", "人工智能"},          {"life_health", "生命健康"},
    {"fintech", "金融科技"},     {"advanced_manufacturing", "先进制造"},
    {"digital_economy", "数字经济"}, {"culture_creative", "文化创意"},
    {"other", "其他"}};

#define COUNT(t) (sizeof t / sizeof t[0])

const char *reg_education_code(const char *s)
{
    const char *c = match(s, education_names, COUNT(education_names));
    if (c) return c;
    if (!strcmp(s, "学士")) return "bachelor";
    if (!strcmp(s, "研究生")) return "master";
    return NULL;
}

const char *reg_industry_code(const char *s)
{
    return match(s, industry_names, COUNT(industry_names));
}

static const char *zh_of(const char *code, const char *const (*table)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(code, table[i][0])) return table[i][1];
    return code;
}

const char *reg_education_zh(const char *code)
{
    return zh_of(code, education_names, COUNT(education_names));
}

const char *reg_industry_zh(const char *code)
{
    return zh_of(code, industry_names, COUNT(industry_names));
}

int registry_yes_no(const char *field, const char *s, int *out, ql_err *err)
{
    static const char *const yes[] = {"yes", "y", "true", "1", "是", "有", "Y"};
    static const char *const no[] = {"no", "n", "false", "0", "否", "无", "N", ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    return ql_errf(err, QL_EINVAL, field, "%s: write yes or no (是 or 否)", "%s：请填写“是”或“否”",
                   field);
}
