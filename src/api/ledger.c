/* ledger.c - disbursement reports over HTTP: a cycle's or a year's totals
 * as JSON or as an .xlsx or CSV download, and one person's ledger. The
 * service (ledger/report.h) checks who may read them. */
#include "api/api.h"

#include "ledger/report.h"

#include <stdio.h>
#include <string.h>

/* ?format=json (the default), xlsx or csv: *file 0 for JSON. */
static int report_format(http_req *r, int *file, enum export_format *fmt)
{
    const char *v = http_query(r, "format");
    *file = 0;
    if (!v || !*v || !strcmp(v, "json")) return 0;
    *file = 1;
    if (!strcmp(v, "xlsx"))
        *fmt = EXPORT_XLSX;
    else if (!strcmp(v, "csv"))
        *fmt = EXPORT_CSV;
    else
        return ql_errf(&r->err, QL_EINVAL, "format", "format must be json, xlsx or csv",
                       "format 须为 json、xlsx 或 csv");
    return 0;
}

struct report_file {
    const struct report_period *p;
    enum report_by by;
};

static int write_report(http_req *r, store *s, const char *path, enum export_format format,
                        int64_t *rows, void *ctx)
{
    const struct report_file *x = ctx;
    return report_export(s, &r->who, x->p, x->by, format, path, rows, &r->err);
}

static int reply_report(http_req *r, const struct report_period *p)
{
    enum report_by by;
    enum export_format fmt = EXPORT_XLSX;
    int file;
    int rc = report_by_parse(http_query(r, "by"), &by, &r->err);
    if (!rc) rc = report_format(r, &file, &fmt);
    if (rc) return rc;
    if (file) {
        static const char *const by_zh[] = {"按补贴项目", "按档次", "按用人单位", "按收款方类别"};
        struct report_period *pc = arena_alloc(r->arena, sizeof *pc); /* read on the pool */
        *pc = *p;
        struct report_file x = {pc, by};
        char ascii[64], utf8[128];
        snprintf(ascii, sizeof ascii, "report-%s-%s", p->label, report_by_name(by));
        snprintf(utf8, sizeof utf8, "发放报表-%s-%s", p->label, by_zh[by]);
        return api_send_file(r, ascii, utf8, fmt, write_report, &x, sizeof x);
    }
    json_t *o;
    if ((rc = report_json(r->db, &r->who, p, by, &o, &r->err))) return rc;
    return http_reply_json(r, 200, o);
}

int api_cycle_report(http_req *r)
{
    struct report_period p;
    int rc = report_month(http_param(r, "month"), &p, &r->err);
    if (rc) return rc;
    return reply_report(r, &p);
}

int api_year_report(http_req *r)
{
    struct report_period p;
    int rc = report_year(http_param(r, "year"), &p, &r->err);
    if (rc) return rc;
    return reply_report(r, &p);
}

int api_talent_ledger(http_req *r)
{
    int64_t id;
    int rc = api_path_id(r, &id);
    if (rc) return rc;
    json_t *o;
    if ((rc = report_person(r->db, &r->who, id, &o, &r->err))) return rc;
    return http_reply_json(r, 200, o);
}
