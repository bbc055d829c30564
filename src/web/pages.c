/* pages.c - the template environment, the strings of both languages, and
 * what every console page shares: layout data, error summary, error pages. */
#include "web/web.h"

#include "core/buf.h"
#include "core/embed.h"
#include "core/log.h"
#include "core/version.h"
#include "web/mustache.h"

#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mus_env *env;
static json_t *strings[2]; /* [LANG_ZH], [LANG_EN]; immutable once loaded */

/* Loads templates/<name>.mustache from the files compiled into the binary. */
static const char *load_embedded(void *ctx, const char *name, size_t name_len, size_t *src_len)
{
    (void)ctx;
    char path[160];
    if (name_len > 100) return NULL;
    snprintf(path, sizeof path, "templates/%.*s.mustache", (int)name_len, name);
    const struct embedded_file *f = embed_find(path);
    if (!f) return NULL;
    *src_len = f->len;
    return f->data;
}

static int load_strings(const char *path, json_t **out, ql_err *err)
{
    const struct embedded_file *f = embed_find(path);
    json_error_t je;
    json_t *j = f ? json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return ql_errf(err, QL_EINVAL, path, "the strings file %s is missing or malformed",
                       "界面文字文件 %s 缺失或格式错误", path);
    }
    *out = j;
    return 0;
}

int web_init(ql_err *err)
{
    if (!env) env = mus_env_new(load_embedded, NULL);
    if (!strings[LANG_ZH] && load_strings("i18n/zh-CN.json", &strings[LANG_ZH], err)) return QL_EINVAL;
    if (!strings[LANG_EN] && load_strings("i18n/en.json", &strings[LANG_EN], err)) return QL_EINVAL;
    static const char prefix[] = "templates/", suffix[] = ".mustache";
    for (unsigned long i = 0; i < embedded_count; i++) {
        const char *p = embedded_files[i].path;
        size_t n = strlen(p);
        if (strncmp(p, prefix, sizeof prefix - 1) != 0 || n < sizeof prefix + sizeof suffix - 2)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(n - (sizeof prefix - 1) - (sizeof suffix - 1)),
                 p + sizeof prefix - 1);
        int rc = mus_check(env, name, err);
        if (rc) return rc;
    }
    return 0;
}

void web_shutdown(void)
{
    mus_env_free(env);
    env = NULL;
    for (int i = 0; i < 2; i++) {
        json_decref(strings[i]);
        strings[i] = NULL;
    }
}

const char *web_t(const http_req *r, const char *path)
{
    json_t *j = strings[r->lang == LANG_EN ? LANG_EN : LANG_ZH];
    char key[64];
    const char *p = path;
    while (j && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof key) return path;
        memcpy(key, p, n);
        key[n] = '\0';
        j = json_object_get(j, key);
        p += n + (p[n] == '.');
    }
    return json_is_string(j) ? json_string_value(j) : path;
}

char *web_tf(http_req *r, const char *path, ...)
{
    /* Replaces {{name}} by the value that follows name in the arguments. */
    const char *src = web_t(r, path);
    buf out;
    buf_init(&out, 0);
    for (const char *p = src; *p;) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open, "}}") : NULL;
        if (!open || !close) {
            buf_puts(&out, p);
            break;
        }
        buf_append(&out, p, (size_t)(open - p));
        size_t nl = (size_t)(close - open - 2);
        const char *value = NULL;
        va_list ap;
        va_start(ap, path);
        for (const char *name; (name = va_arg(ap, const char *)) != NULL;) {
            const char *v = va_arg(ap, const char *);
            if (strlen(name) == nl && strncmp(name, open + 2, nl) == 0) value = v;
        }
        va_end(ap);
        if (value) buf_puts(&out, value);
        else buf_append(&out, open, (size_t)(close + 2 - open));
        p = close + 2;
    }
    char *res = arena_strdup(r->arena, out.data ? out.data : "");
    buf_free(&out);
    return res;
}

/* The console's menu: each area shown to the accounts that may use it. */
static const struct {
    enum web_area area;
    const char *href, *label;
    int perm; /* enum perm, -1 for every signed-in account, -2 for staff of the
                 subsidy workflow (attest, accept or review), -3 for finance (any of
                 ledger.run, ledger.approve, ledger.export) */
} areas[] = {
    {AREA_HOME, "/", "nav.home", -1},
    {AREA_TALENTS, "/registry/talents", "nav.talents", P_REGISTRY_READ},
    {AREA_EMPLOYERS, "/registry/employers", "nav.employers", P_REGISTRY_READ},
    {AREA_IMPORT, "/registry/import", "nav.import", P_REGISTRY_WRITE},
    {AREA_UNITS, "/registry/units", "nav.units", P_REGISTRY_READ},
    {AREA_LEASES, "/registry/leases", "nav.leases", P_REGISTRY_READ},
    {AREA_OPERATORS, "/registry/operators", "nav.operators", P_REGISTRY_READ},
    {AREA_APPLY, "/apply", "nav.apply", P_SUBSIDY_APPLY},
    {AREA_PAYEE, "/payee", "nav.payee", P_SUBSIDY_APPLY},
    {AREA_SUBSIDY, "/subsidy", "nav.subsidy", -2},
    {AREA_NOTICES, "/subsidy/notices", "nav.notices", -1},
    {AREA_POLICIES, "/policies", "nav.policies", P_POLICY_MANAGE},
    {AREA_CYCLES, "/cycles", "nav.cycles", -3},
    {AREA_CALENDAR, "/calendar", "nav.calendar", -1},
    {AREA_USERS, "/admin/users", "nav.users", P_USER_READ},
    {AREA_ROLE_REQUESTS, "/admin/role-requests", "nav.role_requests", P_ROLE_GRANT},
    {AREA_ROLES, "/admin/roles", "nav.roles", P_ROLE_READ},
    {AREA_AUDIT, "/admin/audit", "nav.audit", P_AUDIT_READ},
    {AREA_SIGNINS, "/admin/signins", "nav.signins", P_AUDIT_READ},
};

json_t *web_page(http_req *r, const char *title, enum web_area current)
{
    json_t *d = json_object();
    json_object_set_new(d, "title", json_string(title));
    json_object_set(d, "t", strings[r->lang == LANG_EN ? LANG_EN : LANG_ZH]);
    char *here = evhttp_encode_uri(r->uri ? r->uri : "/");
    json_object_set_new(d, "here", json_string(here ? here : "%2F"));
    free(here);
    json_object_set_new(d, "errors", json_array());
    json_object_set_new(d, "fields", json_object());
    json_object_set_new(d, "breadcrumb", json_array());
    if (r->who.via != VIA_SESSION) return d;

    json_object_set_new(d, "me", json_pack("{s:s, s:s}", "display_name", r->who.display_name,
                                           "username", r->who.username));
    json_object_set_new(d, "csrf", json_string(r->who.csrf));
    json_t *nav = json_array();
    if (!r->who.must_change_password) {
        for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++) {
            if (areas[i].perm >= 0 && !actor_can(&r->who, (enum perm)areas[i].perm)) continue;
            if (areas[i].perm == -2 && !actor_can(&r->who, P_SUBSIDY_ATTEST) &&
                !actor_can(&r->who, P_WINDOW_ACCEPT) && !actor_can(&r->who, P_SUBSIDY_REVIEW))
                continue;
            if (areas[i].perm == -3 && !actor_can(&r->who, P_LEDGER_RUN) &&
                !actor_can(&r->who, P_LEDGER_APPROVE) && !actor_can(&r->who, P_LEDGER_EXPORT))
                continue;
            /* A talent reads their own record; the employers list is not theirs. */
            if (areas[i].area == AREA_EMPLOYERS && r->who.scope == SCOPE_SELF) continue;
            /* Operator records: district and department staff, and an
             * operator's own accounts (its own record). */
            if (areas[i].area == AREA_OPERATORS && r->who.scope != SCOPE_DISTRICT &&
                r->who.scope != SCOPE_DEPARTMENT && r->who.scope != SCOPE_OPERATOR)
                continue;
            json_t *item = json_pack("{s:s, s:s}", "href", areas[i].href, "label",
                                     web_t(r, areas[i].label));
            if (areas[i].area == current) json_object_set_new(item, "current", json_true());
            if (areas[i].area == AREA_HOME) json_object_set_new(item, "home", json_true());
            json_array_append_new(nav, item);
        }
    }
    json_object_set_new(d, "has_nav", json_boolean(json_array_size(nav) > 1));
    json_object_set_new(d, "nav", nav);
    return d;
}

json_t *web_time(const json_t *iso)
{
    const char *s = json_string_value(iso);
    if (!s || strlen(s) < 16) return json_string(s ? s : "");
    char out[20];
    snprintf(out, sizeof out, "%.10s %.5s", s, s + 11);
    return json_string(out);
}

void web_crumb(json_t *page, const char *href, const char *label)
{
    json_t *bc = json_object_get(page, "breadcrumb");
    json_t *item = json_pack("{s:s}", "label", label);
    if (href) json_object_set_new(item, "href", json_string(href));
    json_array_append_new(bc, item);
    json_object_set_new(page, "has_breadcrumb", json_true());
}

void web_field(json_t *page, const char *name, const char *value)
{
    json_t *fields = json_object_get(page, "fields");
    json_t *f = json_object_get(fields, name);
    if (!f) {
        f = json_object();
        json_object_set_new(fields, name, f);
    }
    json_object_set_new(f, "value", json_string(value ? value : ""));
}

/* The label people read for a form field: the form's own (page.form_fields),
 * else "registry.field.<name>", else "field.<name>"; NULL when none is known. */
static const char *field_label(http_req *r, json_t *page, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(page, "form_fields"), i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        const char *l = json_string_value(json_object_get(f, "label"));
        if (n && l && !strcmp(n, name)) return l;
    }
    static const char *const groups[] = {"registry.field.", "field."};
    for (size_t g = 0; g < 2; g++) {
        char key[128];
        if (snprintf(key, sizeof key, "%s%s", groups[g], name) >= (int)sizeof key) return NULL;
        const char *l = web_t(r, key);
        if (l != key) return l;
    }
    return NULL;
}

const char *web_err_message(http_req *r, json_t *page, const ql_err *err, char *out, size_t n)
{
    const char *msg = r->lang == LANG_EN ? err->en : err->zh;
    if (!msg[0]) msg = r->lang == LANG_EN ? ql_err_default_en(err->code) : ql_err_default_zh(err->code);
    size_t fl = strlen(err->field);
    if (!fl || strncmp(msg, err->field, fl)) return msg;
    const char *rest = msg + fl;
    size_t sep = !strncmp(rest, "：", strlen("：")) ? strlen("：") : !strncmp(rest, ": ", 2) ? 2 : 0;
    const char *label = sep ? field_label(r, page, err->field) : NULL;
    if (!label) return msg;
    snprintf(out, n, "%s%s%s", label, r->lang == LANG_EN ? ": " : "：", rest + sep);
    return out;
}

void web_error(http_req *r, json_t *page, const ql_err *err)
{
    char relabelled[WEB_ERR_MESSAGE_MAX];
    const char *msg = web_err_message(r, page, err, relabelled, sizeof relabelled);
    json_t *item = json_pack("{s:s}", "message", msg);
    if (err->field[0]) {
        json_object_set_new(item, "field", json_string(err->field));
        json_t *fields = json_object_get(page, "fields");
        json_t *f = json_object_get(fields, err->field);
        if (!f) {
            f = json_object();
            json_object_set_new(fields, err->field, f);
        }
        json_object_set_new(f, "error", json_string(msg));
    }
    json_array_append_new(json_object_get(page, "errors"), item);
    json_object_set_new(page, "has_errors", json_true());
}

int web_render(http_req *r, int status, const char *name, json_t *data)
{
    buf out;
    buf_init(&out, 8u << 20);
    json_object_set_new(data, "lang", json_string(r->lang == LANG_EN ? "en" : "zh-CN"));
    json_object_set_new(data, "request_id", json_string(r->request_id));
    json_object_set_new(data, "version", json_string(QL_VERSION));
    if (!json_object_get(data, "t"))
        json_object_set(data, "t", strings[r->lang == LANG_EN ? LANG_EN : LANG_ZH]);
    int rc = mus_render(env, name, data, &out, &r->err);
    json_decref(data);
    if (rc) {
        buf_free(&out);
        return rc;
    }
    http_reply_bytes(r, status, "text/html; charset=utf-8", out.data, out.len);
    buf_free(&out);
    return 0;
}

int web_error_page(http_req *r, int status, const char *message)
{
    char key[16];
    snprintf(key, sizeof key, "error.%d", status);
    const char *heading = web_t(r, key);
    if (strcmp(heading, key) == 0) heading = web_t(r, "error.title");
    json_t *d = web_page(r, heading, AREA_NONE);
    json_object_set_new(d, "heading", json_string(heading));
    json_object_set_new(d, "message", json_string(message));
    buf out;
    buf_init(&out, 1u << 20);
    json_object_set_new(d, "lang", json_string(r->lang == LANG_EN ? "en" : "zh-CN"));
    json_object_set_new(d, "request_id", json_string(r->request_id));
    json_object_set_new(d, "version", json_string(QL_VERSION));
    ql_err ignore;
    int rc = env ? mus_render(env, "error", d, &out, &ignore) : QL_EINTERNAL;
    json_decref(d);
    if (rc) {
        /* The error page itself failed: answer plainly. */
        buf_reset(&out);
        buf_printf(&out, "<!doctype html><title>%d</title><h1>%d</h1>", status, status);
    }
    http_reply_bytes(r, status, "text/html; charset=utf-8", out.data, out.len);
    buf_free(&out);
    return 0;
}

char *web_pager(http_req *r, json_t *page, const char *base, const char *extra_query,
                int64_t page_no, int64_t per_page, int64_t total)
{
    int64_t pages = total ? (total + per_page - 1) / per_page : 1;
    char a[24], b[24], t[24];
    snprintf(a, sizeof a, "%lld", (long long)page_no);
    snprintf(b, sizeof b, "%lld", (long long)pages);
    snprintf(t, sizeof t, "%lld", (long long)total);
    json_t *p = json_pack("{s:s}", "text", web_tf(r, "common.page", "page", a, "pages", b, (const char *)NULL));
    const char *sep = strchr(base, '?') ? "&" : "?";
    if (page_no > 1)
        json_object_set_new(p, "prev",
                            json_string(arena_printf(r->arena, "%s%spage=%lld%s", base, sep,
                                                     (long long)page_no - 1, extra_query)));
    if (page_no < pages)
        json_object_set_new(p, "next",
                            json_string(arena_printf(r->arena, "%s%spage=%lld%s", base, sep,
                                                     (long long)page_no + 1, extra_query)));
    json_object_set_new(page, "pager", p);
    char *results = web_tf(r, "common.results", "total", t, (const char *)NULL);
    json_object_set_new(page, "results", json_string(results));
    json_object_set_new(page, "has_rows", json_boolean(total > 0 && page_no <= pages));
    return results;
}
