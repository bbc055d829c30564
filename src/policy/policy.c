/* policy.c - subsidy policy files in the store (policy.h). */
#include "policy/policy.h"

#include "audit/audit.h"
#include "calendar/holidays.h"
#include "core/date.h"
#include "core/log.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int policy_check_text(const char *text, size_t len, const char *file_name, pol_programme *parsed,
                      pol_issues *issues, ql_err *err)
{
    pol_programme local;
    memset(&local, 0, sizeof local);
    pol_programme *p = parsed ? parsed : &local;
    memset(issues, 0, sizeof *issues);
    int rc = pol_parse(text, len, file_name, p, err);
    if (!rc) pol_check(p, issues);
    if (!parsed) pol_free(&local);
    return rc;
}

json_t *policy_issues_json(const pol_issues *is)
{
    json_t *a = json_array();
    for (int i = 0; i < pol_issues_kept(is); i++)
        json_array_append_new(a, json_pack("{sisisbssss}", "line", is->item[i].line, "col",
                                           is->item[i].col, "warning", is->item[i].warning, "en",
                                           is->item[i].en, "zh", is->item[i].zh));
    return a;
}

void policy_versions_text(const pol_programme *p, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < p->nver && used < n; i++) {
        char from[16], to[16] = "open";
        date_format(p->ver[i].from, from, sizeof from);
        if (p->ver[i].to != POL_OPEN_END) date_format(p->ver[i].to, to, sizeof to);
        int w =
            snprintf(out + used, n - used, "%s%s %s..%s", i ? "; " : "", p->ver[i].id, from, to);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

static int count_warnings(const pol_issues *is)
{
    return is->n - is->nerrors;
}

/* ---- save -------------------------------------------------------------- */

struct save_ctx {
    const actor *a;
    const char *text;
    size_t len;
    const char *file_name;
    const pol_programme *p;
    struct policy_saved *out;
    ql_err *err;
};

static int save_body(store *s, void *vctx)
{
    struct save_ctx *x = vctx;
    struct policy_saved *out = x->out;
    char digest[65];
    holidays_digest(x->text, x->len, digest);
    int64_t id;
    store_val key[] = {SV_TEXT(x->p->code), SV_TEXT(digest)};
    int rc = store_query_int(s, "SELECT id FROM policy_files WHERE programme = $1 AND digest = $2",
                             key, 2, &id);
    if (rc == 0) {
        out->id = id;
        out->unchanged = true;
        out->audit_seq = 0;
        return 0;
    }
    if (rc != QL_ENOTFOUND) return store_failure(s, rc, "policy", x->err);
    out->unchanged = false;
    char who[128], versions[2001];
    actor_label(x->a, who);
    policy_versions_text(x->p, versions, sizeof versions);
    int errors = out->issues.nerrors, warnings = count_warnings(&out->issues);
    store_val row[] = {SV_TEXT(x->p->code),         SV_TEXT(x->p->zh), SV_TEXT(x->p->en),
                       SV_TEXTN(x->text, x->len),   SV_TEXT(digest),   SV_TEXT(x->file_name),
                       SV_TEXT(versions),           SV_INT(errors),    SV_INT(warnings),
                       SV_INT((int64_t)time(NULL)), SV_TEXT(who)};
    rc = store_insert(s,
                      "INSERT INTO policy_files (programme, name_zh, name_en, source, digest, "
                      "file_name, versions, errors, warnings, created_at, created_by) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                      row, 11, &out->id);
    if (rc) return store_failure(s, rc, "policy", x->err);
    json_t *after = json_pack("{sssssssi}", "programme", x->p->code, "digest", digest, "versions",
                              versions, "errors", errors);
    json_t *detail = json_pack("{sssssisi}", "programme", x->p->code, "file_name", x->file_name,
                               "errors", errors, "warnings", warnings);
    rc = audit_by(s, x->a, "policy.save", "policy_file", out->id, NULL, after, detail,
                  &out->audit_seq, x->err);
    json_decref(after);
    json_decref(detail);
    return rc;
}

static int file_name_ok(const char *name, ql_err *err)
{
    size_t n = strlen(name);
    if (n > 255 || !text_valid(name, n, 0))
        return ql_errf(err, QL_EINVAL, "file_name",
                       "the file name must be at most 255 bytes of text",
                       "文件名须为不超过 255 字节的文字");
    return 0;
}

int policy_save(store *s, const actor *a, const char *text, size_t len, const char *file_name,
                struct policy_saved *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_POLICY_MANAGE, err);
    if (rc) return rc;
    if (!file_name) file_name = "";
    if ((rc = file_name_ok(file_name, err))) return rc;
    pol_programme p;
    rc = policy_check_text(text, len, file_name[0] ? file_name : "source", &p, &out->issues, err);
    if (!rc) {
        snprintf(out->programme, sizeof out->programme, "%s", p.code);
        struct save_ctx x = {a, text, len, file_name, &p, out, err};
        rc = store_tx(s, STORE_TX_WRITE, save_body, &x);
        if (!rc && !out->unchanged) {
            ql_err e;
            if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
        }
    }
    pol_free(&p);
    return rc;
}

/* ---- activate ---------------------------------------------------------- */

struct activate_ctx {
    const actor *a;
    int64_t id;
    struct policy_activated *out;
    ql_err *err;
};

/* Reads file id's programme, status and text (malloc'd). */
static int read_row(store *s, int64_t id, char programme[POL_ID_MAX], char status[16],
                    char **source, size_t *len, char file_name[256], ql_err *err)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT programme, status, source, file_name FROM policy_files "
                         "WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return store_failure(s, rc, "policy", err);
    rc = store_step(r);
    if (rc == 1) {
        snprintf(programme, POL_ID_MAX, "%s", store_col_text(r, 0, NULL));
        snprintf(status, 16, "%s", store_col_text(r, 1, NULL));
        const char *t = store_col_text(r, 2, len);
        *source = xstrndup(t, *len);
        snprintf(file_name, 256, "%s", store_col_text(r, 3, NULL));
    }
    store_rows_close(r);
    if (rc == 0)
        return ql_errf(err, QL_ENOTFOUND, "id", "there is no policy file %lld",
                       "不存在编号为 %lld 的政策文件", (long long)id);
    if (rc < 0) return store_failure(s, rc, "policy", err);
    return 0;
}

static int activate_body(store *s, void *vctx)
{
    struct activate_ctx *x = vctx;
    struct policy_activated *out = x->out;
    char programme[POL_ID_MAX], status[16], file_name[256];
    char *source = NULL;
    size_t len = 0;
    int rc = read_row(s, x->id, programme, status, &source, &len, file_name, x->err);
    if (rc) return rc;
    out->id = x->id;
    out->retired_id = 0;
    out->audit_seq = 0;
    out->unchanged = !strcmp(status, "active");
    if (out->unchanged) goto done;
    /* checked again now: the checks may know more than when it was saved */
    pol_issues *is = xmalloc(sizeof *is);
    rc = policy_check_text(source, len, file_name[0] ? file_name : "source", NULL, is, x->err);
    int errors = is->nerrors, warnings = is->n - is->nerrors;
    if (!rc && is->nerrors) {
        const pol_issue *first = pol_first_error(is);
        rc = ql_errf(x->err, QL_ECONFLICT, "policy",
                     "policy file %lld cannot be activated: %d error(s), the first at line %d: "
                     "%s%.0s",
                     "政策文件 %lld 不能启用：有 %d 处错误，第一处在第 %d 行：%.0s%s",
                     (long long)x->id, is->nerrors, first ? first->line : 0, first ? first->en : "",
                     first ? first->zh : "");
    } else if (rc) {
        ql_err parse = *x->err;
        rc = ql_errf(x->err, QL_ECONFLICT, "policy", "policy file %lld cannot be activated: %s%.0s",
                     "政策文件 %lld 不能启用：%.0s%s", (long long)x->id, parse.en, parse.zh);
    }
    free(is);
    if (rc) goto done;
    int64_t old = 0;
    rc =
        store_query_int(s, "SELECT id FROM policy_files WHERE programme = $1 AND status = 'active'",
                        (store_val[]){SV_TEXT(programme)}, 1, &old);
    if (rc && rc != QL_ENOTFOUND) {
        rc = store_failure(s, rc, "policy", x->err);
        goto done;
    }
    char who[128];
    actor_label(x->a, who);
    int64_t now = (int64_t)time(NULL);
    if (old) {
        out->retired_id = old;
        rc = store_exec(s, "UPDATE policy_files SET status = 'retired' WHERE id = $1",
                        (store_val[]){SV_INT(old)}, 1, NULL);
        if (rc) {
            rc = store_failure(s, rc, "policy", x->err);
            goto done;
        }
    }
    /* the counts of the checks just run (they may know more than at saving) */
    store_val up[] = {SV_INT(now), SV_TEXT(who), SV_INT(errors), SV_INT(warnings), SV_INT(x->id)};
    rc = store_exec(s,
                    "UPDATE policy_files SET status = 'active', activated_at = $1, "
                    "activated_by = $2, errors = $3, warnings = $4 WHERE id = $5",
                    up, 5, NULL);
    if (rc) {
        rc = store_failure(s, rc, "policy", x->err);
        goto done;
    }
    json_t *before = json_pack("{sssI}", "status", status, "active_file", (json_int_t)old);
    json_t *after = json_pack("{sssI}", "status", "active", "active_file", (json_int_t)x->id);
    json_t *detail = json_pack("{sssIsI}", "programme", programme, "file", (json_int_t)x->id,
                               "retired", (json_int_t)old);
    rc = audit_by(s, x->a, "policy.activate", "policy_file", x->id, before, after, detail,
                  &out->audit_seq, x->err);
    json_decref(before);
    json_decref(after);
    json_decref(detail);
done:
    free(source);
    return rc;
}

int policy_activate(store *s, const actor *a, int64_t id, struct policy_activated *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_POLICY_MANAGE, err);
    if (rc) return rc;
    struct activate_ctx x = {a, id, out, err};
    rc = store_tx(s, STORE_TX_WRITE, activate_body, &x);
    if (!rc && !out->unchanged) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

#define LIST_COLUMNS                                                                               \
    "id, programme, name_zh, name_en, status, digest, file_name, versions, errors, warnings, "     \
    "created_at, created_by, activated_at, activated_by"

static json_t *row_json(store_rows *r)
{
    json_t *o = json_pack(
        "{sIsssssssssssssssIsIsIsssosssbsbsb}", "id", (json_int_t)store_col_int(r, 0), "programme",
        store_col_text(r, 1, NULL), "name_zh", store_col_text(r, 2, NULL), "name_en",
        store_col_text(r, 3, NULL), "status", store_col_text(r, 4, NULL), "digest",
        store_col_text(r, 5, NULL), "file_name", store_col_text(r, 6, NULL), "versions",
        store_col_text(r, 7, NULL), "errors", (json_int_t)store_col_int(r, 8), "warnings",
        (json_int_t)store_col_int(r, 9), "created_at", (json_int_t)store_col_int(r, 10),
        "created_by", store_col_text(r, 11, NULL), "activated_at",
        store_col_isnull(r, 12) ? json_null() : json_integer(store_col_int(r, 12)), "activated_by",
        store_col_text(r, 13, NULL), "active", !strcmp(store_col_text(r, 4, NULL), "active"),
        "draft", !strcmp(store_col_text(r, 4, NULL), "draft"), "retired",
        !strcmp(store_col_text(r, 4, NULL), "retired"));
    return o;
}

int policy_list(store *s, bool drafts, json_t **out, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s,
                         drafts ? "SELECT " LIST_COLUMNS " FROM policy_files ORDER BY id DESC"
                                : "SELECT " LIST_COLUMNS " FROM policy_files "
                                  "WHERE status <> 'draft' ORDER BY id DESC",
                         NULL, 0, &r);
    if (rc) return store_failure(s, rc, "policy", err);
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1) json_array_append_new(list, row_json(r));
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return store_failure(s, rc, "policy", err);
    }
    *out = list;
    return 0;
}

int policy_get(store *s, int64_t id, bool drafts, json_t **out, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s, "SELECT " LIST_COLUMNS ", source FROM policy_files WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return store_failure(s, rc, "policy", err);
    json_t *o = NULL;
    char *source = NULL;
    size_t len = 0;
    if ((rc = store_step(r)) == 1) {
        o = row_json(r);
        const char *t = store_col_text(r, 14, &len);
        source = xstrndup(t, len);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "policy", err);
    if (rc == 1 && !drafts && json_is_true(json_object_get(o, "draft"))) {
        json_decref(o);
        free(source);
        rc = 0; /* a draft is not published: not there for this reader */
    }
    if (rc == 0)
        return ql_errf(err, QL_ENOTFOUND, "id", "there is no policy file %lld",
                       "不存在编号为 %lld 的政策文件", (long long)id);
    json_object_set_new(o, "source", json_stringn(source, len));
    pol_issues *is = xmalloc(sizeof *is);
    ql_err perr = {0};
    const char *name = json_string_value(json_object_get(o, "file_name"));
    int parsed =
        policy_check_text(source, len, name && name[0] ? name : "source", NULL, is, &perr) == 0;
    json_object_set_new(o, "issues", parsed ? policy_issues_json(is) : json_array());
    free(is);
    free(source);
    *out = o;
    return 0;
}

static int load_where(store *s, const char *sql, store_val *args, int nargs, pol_programme *out,
                      int64_t *file_id, ql_err *err)
{
    memset(out, 0, sizeof *out);
    store_rows *r;
    int rc = store_query(s, sql, args, nargs, &r);
    if (rc) return store_failure(s, rc, "policy", err);
    char *source = NULL, file_name[256] = "";
    size_t len = 0;
    int64_t id = 0;
    if ((rc = store_step(r)) == 1) {
        id = store_col_int(r, 0);
        const char *t = store_col_text(r, 1, &len);
        source = xstrndup(t, len);
        snprintf(file_name, sizeof file_name, "%s", store_col_text(r, 2, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "policy", err);
    if (rc == 0) return QL_ENOTFOUND;
    rc = pol_parse(source, len, file_name[0] ? file_name : "source", out, err);
    free(source);
    if (file_id) *file_id = id;
    return rc;
}

int policy_load_file(store *s, int64_t id, pol_programme *out, ql_err *err)
{
    int rc = load_where(s, "SELECT id, source, file_name FROM policy_files WHERE id = $1",
                        (store_val[]){SV_INT(id)}, 1, out, NULL, err);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "id", "there is no policy file %lld",
                       "不存在编号为 %lld 的政策文件", (long long)id);
    return rc;
}

int policy_load_active(store *s, const char *programme, pol_programme *out, int64_t *file_id,
                       ql_err *err)
{
    int rc = load_where(s,
                        "SELECT id, source, file_name FROM policy_files "
                        "WHERE programme = $1 AND status = 'active'",
                        (store_val[]){SV_TEXT(programme)}, 1, out, file_id, err);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "programme",
                       "programme %s has no active policy (qianlima policy activate)",
                       "项目 %s 没有已启用的政策（qianlima policy activate）", programme);
    return rc;
}
