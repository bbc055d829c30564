/* audit_query.c - filtered, paginated reads of the audit log. */
#include "audit/audit_query.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void ms_text(int64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

struct list_ctx {
    const struct audit_filter *f;
    char *prefix;
    int64_t limit, offset;
    json_t *rows;
    int64_t total;
};

/* One WHERE clause for both queries; absent filters match everything. */
#define AUDIT_WHERE                                                                              \
    " FROM audit_log WHERE ($1 = '' OR action LIKE $1 ESCAPE '\\') AND ($2 = '' OR actor = $2)" \
    " AND ($3 = 0 OR at_ms >= $3) AND ($4 = 0 OR at_ms < $4)"

static int list_body(store *s, void *arg)
{
    struct list_ctx *x = arg;
    const struct audit_filter *f = x->f;
    store_val args[6] = {SV_TEXT(x->prefix), SV_TEXT(f->actor ? f->actor : ""),
                         SV_INT(f->from_ms), SV_INT(f->to_ms), SV_INT(x->limit),
                         SV_INT(x->offset)};
    int rc = store_query_int(s, "SELECT count(*)" AUDIT_WHERE, args, 4, &x->total);
    if (rc) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT seq, at_ms, actor, action, object_type, object_id, detail, ip, "
                     "request_id" AUDIT_WHERE " ORDER BY seq DESC LIMIT $5 OFFSET $6",
                     args, 6, &r);
    if (rc) return rc;
    x->rows = json_array();
    while ((rc = store_step(r)) == 1) {
        char at[40];
        ms_text(store_col_int(r, 1), at);
        json_t *detail = json_loads(store_col_text(r, 6, NULL), 0, NULL);
        json_array_append_new(
            x->rows,
            json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "seq",
                      (json_int_t)store_col_int(r, 0), "at", at, "actor", store_col_text(r, 2, NULL),
                      "action", store_col_text(r, 3, NULL), "object_type",
                      store_col_text(r, 4, NULL), "object_id", store_col_text(r, 5, NULL),
                      "detail", detail ? detail : json_object(), "ip", store_col_text(r, 7, NULL),
                      "request_id", store_col_text(r, 8, NULL)));
    }
    store_rows_close(r);
    return rc < 0 ? rc : 0;
}

int audit_list(store *s, const actor *a, const struct audit_filter *f, int64_t page,
               int64_t per_page, json_t **rows, int64_t *total, ql_err *err)
{
    int rc = actor_require(a, P_AUDIT_READ, err);
    if (rc) return rc;
    if (page < 1 || page > 1000000)
        return ql_errf(err, QL_EINVAL, "page", "page must be a whole number from 1",
                       "页码必须是从 1 开始的整数");
    if (per_page < 1 || per_page > 200)
        return ql_errf(err, QL_EINVAL, "per_page", "per_page must be from 1 to 200",
                       "每页条数必须在 1 到 200 之间");
    const char *p = f->action_prefix ? f->action_prefix : "";
    if (strlen(p) > 60)
        return ql_errf(err, QL_EINVAL, "action", "the action filter is too long", "操作类型过长");
    /* prefix% with LIKE's own characters escaped */
    size_t n = strlen(p);
    char *prefix = xmalloc(2 * n + 2);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' || p[i] == '_' || p[i] == '\\') prefix[j++] = '\\';
        prefix[j++] = p[i];
    }
    if (n) prefix[j++] = '%';
    prefix[j] = '\0';
    struct list_ctx x = {.f = f, .prefix = prefix, .limit = per_page,
                         .offset = (page - 1) * per_page};
    rc = store_tx(s, STORE_TX_READ, list_body, &x);
    free(prefix);
    if (rc) {
        json_decref(x.rows);
        return rc;
    }
    *rows = x.rows;
    *total = x.total;
    return 0;
}
