/* system.c - service endpoints: health, metrics, the OpenAPI document and
 * the identifier validation service. */
#include "api/api.h"

#include "core/buf.h"
#include "core/date.h"
#include "core/embed.h"
#include "core/validate.h"
#include "core/version.h"
#include "http/server.h"

#include <string.h>
#include <time.h>

/* Load balancers and probes may call /healthz many times a second: each
 * worker thread reads the store at most once per HEALTH_TTL_NS after a
 * successful check (a failed check is never reused). ?deep=1 always reads. */
#define HEALTH_TTL_NS 1000000000ull

static _Thread_local uint64_t health_ok_at;
static _Thread_local int64_t health_version;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int api_healthz(http_req *r)
{
    uint64_t now = mono_ns();
    const char *deep = http_query(r, "deep");
    int fresh = health_ok_at && now - health_ok_at < HEALTH_TTL_NS && !(deep && *deep == '1');
    int64_t version = health_version;
    if (!fresh) {
        health_ok_at = 0;
        int rc = store_query_int(r->db, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                                 NULL, 0, &version);
        if (rc)
            return ql_errf(&r->err, QL_EUNAVAIL, "store", "the store does not answer: %s",
                           "数据存储无响应：%s", ql_err_name(rc));
        health_ok_at = now;
        health_version = version;
    }
    return http_reply_json(r, 200,
                           json_pack("{s:s, s:s, s:s, s:I}", "status", "ok", "version", QL_VERSION,
                                     "store", store_kind_name(r->db), "schema_version",
                                     (json_int_t)version));
}

int api_metrics(http_req *r)
{
    buf out;
    buf_init(&out, 0);
    http_metrics_text(r, &out);
    http_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    buf_free(&out);
    return 0;
}

int api_openapi(http_req *r)
{
    const struct embedded_file *f = embed_find("docs/openapi.json");
    if (!f) return ql_errf(&r->err, QL_ENOTFOUND, NULL, "no API description", "没有接口说明");
    return http_reply_static(r, 200, "application/json; charset=utf-8", f->data, f->len);
}

void api_body_field(ql_err *e)
{
    size_t n = strlen(e->field);
    if (n && n + 5 < sizeof e->field && strncmp(e->field, "body.", 5) != 0) {
        memmove(e->field + 5, e->field, n + 1);
        memcpy(e->field, "body.", 5);
    }
}

int api_body_string(http_req *r, const char *name, size_t max_len, const char **out)
{
    char field[96];
    snprintf(field, sizeof field, "body.%s", name);
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    if (!v)
        return ql_errf(&r->err, QL_EINVAL, field, "%s is required", "缺少必填项 %s", field);
    if (!json_is_string(v))
        return ql_errf(&r->err, QL_EINVAL, field, "%s must be a string", "%s 必须是字符串",
                       field);
    if (json_string_length(v) > max_len)
        return ql_errf(&r->err, QL_EINVAL, field, "%s is longer than %zu bytes",
                       "%s 超过 %zu 字节", field, max_len);
    *out = json_string_value(v);
    return 0;
}

int api_validate(http_req *r)
{
    const char *type, *value;
    int rc = api_body_string(r, "type", 32, &type);
    if (!rc) rc = api_body_string(r, "value", 64, &value);
    if (rc) return rc;

    ql_err verr = {0};
    json_t *facts = json_object();
    json_t *warnings = json_array();
    int vrc;
    if (strcmp(type, "id_number") == 0) {
        struct id_info info;
        vrc = validate_id_number("value", value, date_today(), &info, &verr);
        if (!vrc) {
            char birth[16];
            date_format(info.birth, birth, sizeof birth);
            json_object_set_new(facts, "kind",
                                json_string(info.kind == ID_RESIDENT ? "resident"
                                                                     : "foreign_permanent"));
            json_object_set_new(facts, "birth_date", json_string(birth));
            json_object_set_new(facts, "sex", json_string(info.female ? "female" : "male"));
        }
    } else if (strcmp(type, "credit_code") == 0) {
        vrc = validate_credit_code("value", value, &verr);
    } else if (strcmp(type, "mobile") == 0) {
        vrc = validate_mobile("value", value, &verr);
    } else if (strcmp(type, "bank_card") == 0) {
        int luhn = 1;
        vrc = validate_bank_card("value", value, &luhn, &verr);
        if (!vrc && !luhn)
            json_array_append_new(
                warnings, json_pack("{s:s, s:s, s:s}", "code", "luhn", "message_en",
                                    "the Luhn check fails; some valid UnionPay cards do, so "
                                    "confirm the number with the card holder",
                                    "message_zh", "卡号未通过 Luhn 校验；部分有效银联卡也会如此，请与持卡人核实"));
    } else {
        json_decref(facts);
        json_decref(warnings);
        return ql_errf(&r->err, QL_EINVAL, "body.type",
                       "body.type must be one of id_number, credit_code, mobile, bank_card",
                       "body.type 必须是 id_number、credit_code、mobile、bank_card 之一");
    }

    /* Personal data is answered with a masked copy only; a credit code names
     * an organisation and is shown whole. */
    char masked[72];
    if (strcmp(type, "credit_code") == 0) snprintf(masked, sizeof masked, "%s", value);
    else
        validate_mask(value,
                      strcmp(type, "mobile") == 0      ? MASK_PHONE
                      : strcmp(type, "bank_card") == 0 ? MASK_CARD
                                                       : MASK_ID,
                      masked, sizeof masked);
    json_t *res = json_pack("{s:s, s:b, s:s, s:o, s:o}", "type", type, "valid", vrc == 0,
                            "value_masked", masked, "facts", facts, "warnings", warnings);
    if (res && vrc &&
        json_object_set_new(res, "error",
                            json_pack("{s:s, s:s, s:s}", "code", "invalid", "message",
                                      r->lang == LANG_EN ? verr.en : verr.zh, "message_en",
                                      verr.en)) != 0) {
        json_decref(res);
        res = NULL;
    }
    if (!res)
        return ql_errf(&r->err, QL_EINTERNAL, NULL, "could not build the answer",
                       "无法生成应答");
    return http_reply_json(r, 200, res);
}
