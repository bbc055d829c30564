/* err.c - the one table that maps error codes to names, HTTP status and messages. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_row {
    int code;
    const char *name;
    int status;
    const char *en;
    const char *zh;
};

static const struct err_row rows[] = {
    {QL_OK, "ok", 200, "ok", "成功"},
    {QL_EINVAL, "invalid", 400, "the request is not valid", "请求无效"},
    {QL_ENOTFOUND, "not_found", 404, "not found", "未找到"},
    {QL_ECONFLICT, "conflict", 409, "conflicts with the current state", "与当前状态冲突"},
    {QL_EFORBIDDEN, "forbidden", 403, "not permitted", "无权执行此操作"},
    {QL_EUNAUTH, "unauthenticated", 401, "sign-in required", "请先登录"},
    {QL_EDB, "store_error", 500, "the data store failed", "数据存储出错"},
    {QL_EBUSY, "busy", 503, "the data store is busy, try again", "数据存储繁忙，请稍后重试"},
    {QL_ETOOBIG, "too_large", 413, "too large", "内容过大"},
    {QL_EIO, "io_error", 500, "input/output failed", "读写失败"},
    {QL_EINTERNAL, "internal", 500, "internal error", "内部错误"},
    {QL_EUNAVAIL, "unavailable", 503, "service unavailable", "服务暂不可用"},
    {QL_EMETHOD, "method_not_allowed", 405, "method not allowed", "不支持该请求方法"},
    {QL_EMEDIA, "unsupported_media_type", 415, "unsupported content type", "不支持的内容类型"},
};

static const struct err_row *find(int code)
{
    const struct err_row *internal = NULL;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i].code == code) return &rows[i];
        if (rows[i].code == QL_EINTERNAL) internal = &rows[i];
    }
    return internal;
}

void ql_vformat2(char *en, size_t en_n, char *zh, size_t zh_n, const char *fmt_en,
                 const char *fmt_zh, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    vsnprintf(en, en_n, fmt_en, ap);
    vsnprintf(zh, zh_n, fmt_zh, aq);
    va_end(aq);
}

int ql_errf(ql_err *e, int code, const char *field, const char *fmt_en, const char *fmt_zh, ...)
{
    if (!e) return code;
    va_list ap;
    va_start(ap, fmt_zh);
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    ql_vformat2(e->en, sizeof e->en, e->zh, sizeof e->zh, fmt_en, fmt_zh, ap);
    va_end(ap);
    return code;
}

void ql_err_clear(ql_err *e)
{
    if (!e) return;
    memset(e, 0, sizeof *e);
}

const char *ql_err_name(int code)
{
    return find(code)->name;
}

int ql_err_http_status(int code)
{
    return find(code)->status;
}

const char *ql_err_default_en(int code)
{
    return find(code)->en;
}

const char *ql_err_default_zh(int code)
{
    return find(code)->zh;
}

int ql_errs_add(ql_errs *list, const ql_err *e)
{
    if (list && list->n < QL_ERRS_MAX) list->e[list->n++] = *e;
    return e->code;
}
