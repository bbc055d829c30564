/* registry_io.c - registry files over HTTP: exports as downloads, CSV
 * imports as request bodies, and the import templates. */
#include "api/api.h"

#include <event2/http.h>

#include "core/date.h"
#include "registry/export.h"
#include "registry/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "attachment; filename=..." with an ASCII name and the UTF-8 one
 * (RFC 6266 / RFC 5987). */
static void set_attachment(http_req *r, const char *ascii, const char *utf8)
{
    char *enc = evhttp_encode_uri(utf8);
    http_set_header(r, "Content-Disposition",
                    arena_printf(r->arena, "attachment; filename=\"%s\"; filename*=UTF-8''%s",
                                 ascii, enc ? enc : ascii));
    free(enc);
}

struct send_job {
    api_export_writer write;
    void *ctx;
    enum export_format format;
    const char *ascii_stem, *utf8_stem;
    int fd;
    char fdpath[64];
    int64_t rows;
    http_req *r;
};

/* On the pool: the file is written with the pool thread's store. */
static int send_work(store *s, void *arg)
{
    struct send_job *j = arg;
    return j->write(j->r, s, j->fdpath, j->format, &j->rows, j->ctx);
}

/* Back on the worker: the file goes out. */
static int send_done(http_req *r, void *arg, int rc)
{
    struct send_job *j = arg;
    struct stat st;
    if (!rc && fstat(j->fd, &st) != 0)
        rc = ql_errf(&r->err, QL_EIO, NULL, "cannot read the export file: %s",
                     "无法读取导出文件：%s", strerror(errno));
    if (rc) {
        close(j->fd);
        return rc;
    }
    char day[16], ascii[96], utf8[128];
    date_format(date_today(), day, sizeof day);
    const char *ext = export_extension(j->format);
    snprintf(ascii, sizeof ascii, "%s-%s%s", j->ascii_stem, day, ext);
    snprintf(utf8, sizeof utf8, "%s-%s%s", j->utf8_stem, day, ext);
    set_attachment(r, ascii, utf8);
    http_set_header(r, "Cache-Control", "no-store");
    http_set_header(r, "X-Export-Rows", arena_printf(r->arena, "%lld", (long long)j->rows));
    return http_reply_fd(r, 200, export_content_type(j->format), j->fd, (size_t)st.st_size);
}

int api_send_file(http_req *r, const char *ascii_stem, const char *utf8_stem,
                  enum export_format format, api_export_writer write, const void *ctx,
                  size_t ctx_size)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/qianlima-export-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return ql_errf(&r->err, QL_EIO, NULL, "cannot create a temporary file: %s",
                       "无法创建临时文件：%s", strerror(errno));
    /* The file loses its name at once: the export is written through
     * /proc/self/fd (which reopens the nameless file) and sent from the
     * descriptor, so no path ever shows the rows, even after a crash. */
    unlink(path);
    struct send_job *j = arena_calloc(r->arena, 1, sizeof *j);
    j->write = write;
    j->ctx = arena_alloc(r->arena, ctx_size ? ctx_size : 1);
    if (ctx_size) memcpy(j->ctx, ctx, ctx_size);
    j->format = format;
    j->ascii_stem = arena_strdup(r->arena, ascii_stem);
    j->utf8_stem = arena_strdup(r->arena, utf8_stem);
    j->fd = fd;
    j->r = r;
    snprintf(j->fdpath, sizeof j->fdpath, "/proc/self/fd/%d", fd);
    int rc = http_defer_bulk(r, send_work, send_done, j);
    if (rc < 0) close(fd);
    return rc;
}

struct registry_export {
    enum import_kind kind;
    const struct talent_filter *tf;
    const struct employer_filter *ef;
    const char *reason;
};

static int write_registry(http_req *r, store *s, const char *path, enum export_format format,
                          int64_t *rows, void *ctx)
{
    const struct registry_export *x = ctx;
    return x->kind == IMPORT_TALENTS
               ? registry_export_talents(s, &r->who, x->tf, x->reason, format, path, rows,
                                         &r->err)
               : registry_export_employers(s, &r->who, x->ef, format, path, rows, &r->err);
}

int api_send_export(http_req *r, enum import_kind kind, const struct talent_filter *tf,
                    const struct employer_filter *ef, const char *reason,
                    enum export_format format)
{
    /* The filters come from the callers' frames: copied where the writer,
     * which runs later on the pool, can read them. */
    struct talent_filter *tcopy = NULL;
    struct employer_filter *ecopy = NULL;
    if (tf) {
        tcopy = arena_alloc(r->arena, sizeof *tcopy);
        *tcopy = *tf;
    }
    if (ef) {
        ecopy = arena_alloc(r->arena, sizeof *ecopy);
        *ecopy = *ef;
    }
    struct registry_export x = {kind, tcopy, ecopy, reason};
    int talents = kind == IMPORT_TALENTS;
    return api_send_file(r, talents ? "talents" : "employers", talents ? "人才" : "用人单位",
                         format, write_registry, &x, sizeof x);
}

int api_export_format(http_req *r, const char *value, enum export_format *out)
{
    if (!value || !*value || !strcmp(value, "xlsx")) *out = EXPORT_XLSX;
    else if (!strcmp(value, "csv")) *out = EXPORT_CSV;
    else
        return ql_errf(&r->err, QL_EINVAL, "format", "format must be xlsx or csv",
                       "format 必须是 xlsx 或 csv");
    return 0;
}

int api_talents_export(http_req *r)
{
    struct talent_filter f;
    enum export_format fmt;
    int rc = api_talent_filter(r, &f);
    if (!rc) rc = api_export_format(r, http_query(r, "format"), &fmt);
    if (rc) return rc;
    return api_send_export(r, IMPORT_TALENTS, &f, NULL, NULL, fmt);
}

int api_employers_export(http_req *r)
{
    struct employer_filter f = {.q = http_query(r, "q"), .industry = http_query(r, "industry"),
                                .sort = http_query(r, "sort")};
    enum export_format fmt;
    int rc = api_export_format(r, http_query(r, "format"), &fmt);
    if (rc) return rc;
    return api_send_export(r, IMPORT_EMPLOYERS, NULL, &f, NULL, fmt);
}

/* The kind named by the {kind} path parameter. */
static int path_kind(http_req *r, enum import_kind *kind)
{
    const char *k = http_param(r, "kind");
    if (!k || import_kind_parse(k, kind))
        return ql_errf(&r->err, QL_ENOTFOUND, "kind", "imports are of talents or employers",
                       "只能导入 talents（人才）或 employers（用人单位）");
    return 0;
}

json_t *api_import_report_json(const struct import_report *rep, int commit)
{
    static const char *const enc[] = {[CSV_UTF8] = "utf-8", [CSV_UTF8_BOM] = "utf-8-bom",
                                      [CSV_GB18030] = "gb18030"};
    json_t *list = rep->list ? json_incref(rep->list) : json_array();
    json_t *warnings = rep->warning_list ? json_incref(rep->warning_list) : json_array();
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:o, s:o, s:b, s:b}", "rows",
                     (json_int_t)rep->rows, "bad_rows", (json_int_t)rep->bad_rows, "problems",
                     (json_int_t)rep->problems, "imported", (json_int_t)rep->imported, "warnings",
                     (json_int_t)rep->warnings, "encoding",
                     rep->encoding < sizeof enc / sizeof enc[0] && enc[rep->encoding]
                         ? enc[rep->encoding]
                         : "utf-8",
                     "problem_list", list, "warning_list", warnings, "committed",
                     commit && rep->imported > 0, "dry_run", !commit);
}

/* An import checks and seals every row (seconds for a large file): on the
 * server's pool, as the exports. */
struct import_job {
    enum import_kind kind;
    int commit;
    const actor *who;
    const char *body;
    size_t len;
    struct import_report rep;
    ql_err *err;
};

static int import_work(store *s, void *arg)
{
    struct import_job *j = arg;
    memset(&j->rep, 0, sizeof j->rep);
    FILE *f = fmemopen((void *)j->body, j->len, "rb");
    if (!f) return ql_errf(j->err, QL_EINTERNAL, NULL, "cannot read the body", "无法读取请求体");
    int rc = registry_import(s, j->who, j->kind, f, "body", j->commit, &j->rep, j->err);
    fclose(f);
    return rc;
}

static int import_done(http_req *r, void *arg, int rc)
{
    struct import_job *j = arg;
    if (rc) {
        import_report_free(&j->rep);
        return rc;
    }
    json_t *out = api_import_report_json(&j->rep, j->commit);
    import_report_free(&j->rep);
    /* A file with problems is a 422: it was read, and nothing was stored. */
    return http_reply_json(r, json_integer_value(json_object_get(out, "bad_rows")) ? 422 : 200, out);
}

int api_import(http_req *r)
{
    enum import_kind kind;
    int64_t commit;
    int rc = path_kind(r, &kind);
    if (!rc) rc = api_query_int(r, "commit", 0, 0, 1, &commit);
    if (rc) return rc;
    if (!r->body_len)
        return ql_errf(&r->err, QL_EINVAL, "body", "send the CSV file as the request body",
                       "请将 CSV 文件作为请求体发送");
    struct import_job *j = arena_calloc(r->arena, 1, sizeof *j);
    j->kind = kind;
    j->commit = (int)commit;
    j->who = &r->who;
    j->body = r->body;
    j->len = r->body_len;
    j->err = &r->err;
    return http_defer_bulk(r, import_work, import_done, j);
}

int api_import_template(http_req *r)
{
    enum import_kind kind;
    int rc = path_kind(r, &kind);
    if (rc) return rc;
    const char *csv = import_template(kind);
    set_attachment(r, kind == IMPORT_TALENTS ? "talents-template.csv" : "employers-template.csv",
                   kind == IMPORT_TALENTS ? "人才导入模板.csv" : "用人单位导入模板.csv");
    return http_reply_bytes(r, 200, "text/csv; charset=utf-8", csv, strlen(csv));
}
