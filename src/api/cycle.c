/* cycle.c - the monthly cycles over the JSON API: the months, one cycle,
 * computing it and exporting it as background jobs (202 with the job, then
 * GET /api/v1/jobs/{id} until it is done), approval, budgets, the batch
 * files (listed and downloaded), the bank's result file with the
 * reconciliation report, the payments, re-queue and write-off of failed
 * payments, recoveries collected, and closing. The services check
 * permission and state (src/ledger/cycle.h, bank.h, cycle_list.h,
 * src/jobs/jobs.h); these handlers parse and answer. */
#include "api/api.h"

#include "core/date.h"
#include "core/validate.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/cycle_list.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* A service's error with its field named as the body names it, when the
 * field is one of the body's members (names, NULL-terminated). */
static int body_fields(http_req *r, int rc, const char *const *names)
{
    for (int i = 0; rc && names[i]; i++)
        if (!strcmp(r->err.field, names[i])) api_body_field(&r->err);
    return rc;
}

/* The {month} path parameter, "YYYY-MM". */
static int path_month(http_req *r, const char **month)
{
    const char *m = http_param(r, "month");
    int32_t first;
    if (!m || strlen(m) != 7 || date_parse_month(m, &first))
        return ql_errf(&r->err, QL_EINVAL, "month", "the month must be YYYY-MM, such as 2026-11",
                       "月份格式应为 YYYY-MM，例如 2026-11");
    *month = m;
    return 0;
}

/* An optional string member (absent or null: NULL). */
static int opt_string(http_req *r, const char *name, size_t max, const char **out)
{
    *out = NULL;
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    if (!v || json_is_null(v)) return 0;
    return api_body_string(r, name, max, out);
}

static void job_env(http_req *r, struct job_env *env)
{
    const ql_config *cfg = http_config(r);
    env->store_url = cfg->store_url;
    env->opts.busy_timeout_ms = cfg->store_busy_timeout;
    env->opts.retries = cfg->store_retries;
    env->data_dir = cfg->data_dir;
}

/* 202 Accepted with the job, and where to follow it. */
static int reply_job(http_req *r, int64_t id)
{
    json_t *job;
    int rc = jobs_get(r->db, &r->who, id, &job, &r->err);
    if (rc) return rc;
    http_set_header(r, "Location", arena_printf(r->arena, "/api/v1/jobs/%lld", (long long)id));
    return http_reply_json(r, 202, job);
}

int api_cycles_list(http_req *r)
{
    int64_t offset, limit, total;
    int rc = api_query_int(r, "offset", 0, 0, INT64_MAX, &offset);
    if (!rc) rc = api_query_int(r, "limit", 50, 1, 500, &limit);
    if (rc) return rc;
    json_t *items;
    if ((rc = cycle_list(r->db, &r->who, offset, (int)limit, &items, &total, &r->err))) return rc;
    return http_reply_json(r, 200,
                           json_pack("{sosIsIsI}", "items", items, "total", (json_int_t)total,
                                     "offset", (json_int_t)offset, "limit", (json_int_t)limit));
}

int api_cycle_get(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    json_t *o;
    if ((rc = cycle_get(r->db, &r->who, month, true, &o, &r->err))) return rc;
    json_t *job;
    ql_err e;
    json_object_set_new(o, "job", jobs_latest(r->db, &r->who, month, &job, &e) ? json_null() : job);
    return http_reply_json(r, 200, o);
}

int api_cycle_run(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    struct job_env env;
    job_env(r, &env);
    struct job_spec spec = {JOB_CYCLE_RUN, month, 0, 0};
    int64_t id;
    if ((rc = jobs_start(r->db, &r->who, &env, &spec, &id, &r->err))) return rc;
    return reply_job(r, id);
}

int api_cycle_export(http_req *r)
{
    const char *month, *format;
    int rc = path_month(r, &month);
    if (!rc) rc = opt_string(r, "format", 16, &format);
    if (rc) return rc;
    struct job_spec spec = {JOB_CYCLE_EXPORT, month, BANK_CSV, 0};
    if (format && !strcmp(format, "fixed"))
        spec.format = BANK_FIXED;
    else if (format && strcmp(format, "csv"))
        return ql_errf(&r->err, QL_EINVAL, "body.format", "body.format is csv or fixed",
                       "body.format 应为 csv 或 fixed");
    json_t *bs = json_object_get(r->json, "batch_size");
    if (bs && !json_is_null(bs)) {
        if (!json_is_integer(bs) || json_integer_value(bs) < 1 ||
            json_integer_value(bs) > BANK_BATCH_MAX)
            return ql_errf(&r->err, QL_EINVAL, "body.batch_size",
                           "body.batch_size is a whole number from 1 to %d",
                           "body.batch_size 须为 1 至 %d 的整数", BANK_BATCH_MAX);
        spec.batch_size = (int)json_integer_value(bs);
    }
    struct job_env env;
    job_env(r, &env);
    int64_t id;
    rc = jobs_start(r->db, &r->who, &env, &spec, &id, &r->err);
    if (rc) return body_fields(r, rc, (const char *const[]){"format", "batch_size", NULL});
    return reply_job(r, id);
}

int api_job_get(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    json_t *job;
    if ((rc = jobs_get(r->db, &r->who, id, &job, &r->err))) return rc;
    return http_reply_json(r, 200, job);
}

int api_cycle_job(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    json_t *job;
    if ((rc = jobs_latest(r->db, &r->who, month, &job, &r->err))) return rc;
    return http_reply_json(r, 200, job);
}

/* The cycle as GET answers it, without the entitlements, and unchanged. */
static int reply_cycle(http_req *r, const char *month, bool unchanged)
{
    json_t *o;
    int rc = cycle_get(r->db, &r->who, month, false, &o, &r->err);
    if (rc) return rc;
    json_object_set_new(o, "unchanged", json_boolean(unchanged));
    return http_reply_json(r, 200, o);
}

int api_cycle_approve(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    struct cycle_approval ap;
    if ((rc = cycle_approve(r->db, &r->who, month, &ap, &r->err))) return rc;
    return reply_cycle(r, month, ap.unchanged);
}

int api_cycle_close(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    bool same;
    if ((rc = cycle_close(r->db, &r->who, month, &same, &r->err))) return rc;
    return reply_cycle(r, month, same);
}

int api_budgets_list(http_req *r)
{
    json_t *items;
    int rc = cycle_budgets(r->db, &r->who, &items, &r->err);
    if (rc) return rc;
    return http_reply_json(r, 200, json_pack("{so}", "items", items));
}

int api_budget_set(http_req *r)
{
    const char *programme = http_param(r, "programme"), *year_s = http_param(r, "year"), *amount;
    int64_t year, fen;
    ql_err e;
    if (validate_int("year", year_s ? year_s : "", 2000, 9999, &year, &e))
        return ql_errf(&r->err, QL_EINVAL, "year", "the year is from 2000 to 9999, such as 2026",
                       "年度应为 2000 至 9999，例如 2026");
    int rc = api_body_string(r, "amount", 32, &amount);
    if (rc) return rc;
    if (validate_money("body.amount", amount, &fen, &r->err)) return QL_EINVAL;
    if ((rc = cycle_budget_set(r->db, &r->who, programme, (int)year, fen, &r->err)))
        return body_fields(r, rc, (const char *const[]){"amount", NULL});
    json_t *items;
    if ((rc = cycle_budgets(r->db, &r->who, &items, &r->err))) return rc;
    size_t i;
    json_t *b, *found = NULL;
    json_array_foreach(items, i, b)
    {
        if (!strcmp(json_string_value(json_object_get(b, "programme")), programme) &&
            json_integer_value(json_object_get(b, "year")) == year)
            found = json_incref(b);
    }
    json_decref(items);
    if (!found)
        return ql_errf(&r->err, QL_EINTERNAL, NULL, "the budget was not stored", "预算未能保存");
    return http_reply_json(r, 200, found);
}

int api_cycle_files(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    char dir[PATH_MAX];
    if ((rc = jobs_bank_dir(http_config(r)->data_dir, month, dir, sizeof dir, &r->err))) return rc;
    json_t *items;
    if ((rc = cycle_files(r->db, &r->who, dir, month, &items, &r->err))) return rc;
    return http_reply_json(r, 200, json_pack("{so}", "items", items));
}

int api_cycle_file(http_req *r)
{
    const char *month, *name = http_param(r, "name");
    int rc = path_month(r, &month);
    if (rc) return rc;
    char dir[PATH_MAX];
    if ((rc = jobs_bank_dir(http_config(r)->data_dir, month, dir, sizeof dir, &r->err))) return rc;
    int fd;
    size_t len;
    if ((rc = cycle_file_open(r->db, &r->who, dir, month, name, &fd, &len, &r->err))) return rc;
    /* name is "<batch_no>.csv" or ".txt": letters, digits, '-' and the dot */
    http_set_header(r, "Content-Disposition",
                    arena_printf(r->arena, "attachment; filename=\"%s\"", name));
    int csv = strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".csv");
    return http_reply_fd(r, 200, csv ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8", fd,
                         len);
}

static json_t *import_json(const struct bank_import_report *rep)
{
    return json_pack("{sbsIsIsIsIsIsIso}", "unchanged", rep->unchanged, "import_id",
                     (json_int_t)rep->import_id, "rows", (json_int_t)rep->rows, "paid",
                     (json_int_t)rep->paid, "failed", (json_int_t)rep->failed, "already",
                     (json_int_t)rep->already, "mismatches", (json_int_t)rep->mismatches, "items",
                     rep->items ? json_incref(rep->items) : json_array());
}

int api_cycle_results(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    if (!r->body_len)
        return ql_errf(&r->err, QL_EINVAL, "body",
                       "send the bank's result file (CSV) as the request body",
                       "请将银行回盘文件（CSV）作为请求体发送");
    const char *name = http_query(r, "file_name");
    if (!name || !*name || strlen(name) > 200 ||
        !http_clean_utf8((const unsigned char *)name, strlen(name)))
        name = "api-upload.csv";
    struct bank_import_report rep;
    memset(&rep, 0, sizeof rep);
    rc = bank_import(r->db, &r->who, month, r->body, r->body_len, name, &rep, &r->err);
    if (rc) {
        json_decref(rep.items);
        /* a column of the file is named as the body's */
        if (rc == QL_EINVAL && strcmp(r->err.field, "month")) api_body_field(&r->err);
        return rc;
    }
    json_t *out = import_json(&rep);
    json_decref(rep.items);
    return http_reply_json(r, 200, out);
}

int api_cycle_imports(http_req *r)
{
    const char *month;
    int rc = path_month(r, &month);
    if (rc) return rc;
    json_t *items;
    if ((rc = cycle_imports(r->db, &r->who, month, &items, &r->err))) return rc;
    return http_reply_json(r, 200, json_pack("{so}", "items", items));
}

int api_cycle_payments(http_req *r)
{
    const char *month;
    int64_t offset, limit;
    int rc = path_month(r, &month);
    if (!rc) rc = api_query_int(r, "offset", 0, 0, INT64_MAX, &offset);
    if (!rc) rc = api_query_int(r, "limit", 50, 1, 500, &limit);
    if (rc) return rc;
    const char *state = http_query(r, "state");
    json_t *o;
    if ((rc = bank_payments(r->db, &r->who, month, state ? state : "", offset, (int)limit, &o,
                            &r->err)))
        return rc;
    json_object_set_new(o, "offset", json_integer(offset));
    json_object_set_new(o, "limit", json_integer(limit));
    return http_reply_json(r, 200, o);
}

int api_payment_requeue(http_req *r)
{
    const char *rid = http_param(r, "request_id"), *reason;
    int rc = api_body_string(r, "reason", 500, &reason);
    if (rc) return rc;
    char nid[33];
    if ((rc = bank_requeue(r->db, &r->who, rid, reason, nid, &r->err)))
        return body_fields(r, rc, (const char *const[]){"reason", NULL});
    return http_reply_json(
        r, 200,
        json_pack("{ssssss}", "request_id", rid, "state", "requeued", "new_request_id", nid));
}

int api_payment_write_off(http_req *r)
{
    const char *rid = http_param(r, "request_id"), *reason;
    int rc = api_body_string(r, "reason", 500, &reason);
    if (rc) return rc;
    if ((rc = bank_write_off(r->db, &r->who, rid, reason, &r->err)))
        return body_fields(r, rc, (const char *const[]){"reason", NULL});
    return http_reply_json(r, 200, json_pack("{ssss}", "request_id", rid, "state", "written_off"));
}

int api_collections_create(http_req *r)
{
    const char *payee, *amount, *reference;
    int rc = api_body_string(r, "payee", 40, &payee);
    if (!rc) rc = api_body_string(r, "amount", 32, &amount);
    if (!rc) rc = api_body_string(r, "reference", 60, &reference);
    if (rc) return rc;
    int64_t fen;
    if (validate_money("body.amount", amount, &fen, &r->err)) return QL_EINVAL;
    bool same;
    if ((rc = bank_collect(r->db, &r->who, payee, fen, reference, &same, &r->err)))
        return body_fields(r, rc, (const char *const[]){"payee", "amount", "reference", NULL});
    char yuan[32];
    validate_money_text(fen, yuan, sizeof yuan);
    return http_reply_json(r, same ? 200 : 201,
                           json_pack("{sssIsssssb}", "payee", payee, "amount_fen", (json_int_t)fen,
                                     "amount_yuan", yuan, "reference", reference, "unchanged",
                                     same));
}
