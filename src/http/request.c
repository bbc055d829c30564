/* request.c - a request's way through the route table: the route, the
 * checks made when its head has arrived (body limit, credentials,
 * permission), and after its body (parsing, form token, handler); and what
 * handlers read of it (headers, cookies, form fields, files). */
#include "account/account.h"
#include "auth/session.h"
#include "core/log.h"
#include "http/http.h"
#include "http/multipart.h"
#include "http/server.h"
#include "http/server_impl.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- what handlers read ------------------------------------------------ */

const char *http_header(const http_req *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->header_names[i], name) == 0) return r->header_values[i];
    return NULL;
}

const char *http_cookie(http_req *r, const char *name)
{
    const char *h = http_header(r, "Cookie");
    if (!h) return NULL;
    size_t nl = strlen(name);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchrnul(p, ';');
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
            const char *v = eq + 1;
            size_t vl = (size_t)(end - v);
            while (vl && v[vl - 1] == ' ') vl--;
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') v++, vl -= 2;
            return arena_strndup(r->arena, v, vl);
        }
        p = end;
    }
    return NULL;
}

const char *http_form(const http_req *r, const char *name)
{
    for (int i = 0; i < r->nform; i++)
        if (strcmp(r->form_names[i], name) == 0) return r->form_values[i];
    return NULL;
}

int http_form_all(const http_req *r, const char *name, const char **values, int max)
{
    int n = 0;
    for (int i = 0; i < r->nform && n < max; i++)
        if (strcmp(r->form_names[i], name) == 0) values[n++] = r->form_values[i];
    return n;
}

const struct multipart_part *http_file(const http_req *r, const char *name)
{
    for (int i = 0; i < r->nfiles; i++)
        if (strcmp(r->files[i].name, name) == 0) return &r->files[i];
    return NULL;
}

int http_redirect(http_req *r, const char *location)
{
    /* Only to a path on this site: never "//host" or a scheme. */
    int bad = !location || location[0] != '/' || location[1] == '/' || location[1] == '\\';
    for (const char *c = location; !bad && *c; c++) bad = (unsigned char)*c < 0x20 || *c == 0x7F;
    if (bad) location = "/";
    http_set_header(r, "Location", location);
    return http_reply_bytes(r, 303, NULL, NULL, 0);
}

/* ---- bodies ------------------------------------------------------------- */

#define FORM_MAX_FIELDS 200

/* Decodes an application/x-www-form-urlencoded body into r->form_*. */
static int parse_form(http_req *r)
{
    r->form_names = arena_alloc(r->arena, FORM_MAX_FIELDS * sizeof *r->form_names);
    r->form_values = arena_alloc(r->arena, FORM_MAX_FIELDS * sizeof *r->form_values);
    const char *p = r->body, *end = r->body + r->body_len;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp) amp = end;
        if (amp > p) {
            if (r->nform >= FORM_MAX_FIELDS)
                return ql_errf(&r->err, QL_ETOOBIG, "body", "the form has more than %d fields",
                               "表单字段超过 %d 个", FORM_MAX_FIELDS);
            const char *eq = memchr(p, '=', (size_t)(amp - p));
            const char *kend = eq ? eq : amp;
            char *k, *v;
            long kl = http_decode_component(p, (size_t)(kend - p), 1, r->arena, &k);
            long vl = eq ? http_decode_component(eq + 1, (size_t)(amp - eq - 1), 1, r->arena, &v)
                         : (v = arena_strdup(r->arena, ""), 0);
            if (kl < 0 || !http_clean_utf8((const unsigned char *)k, (size_t)kl))
                return ql_errf(&r->err, QL_EINVAL, "body",
                               "the form holds a malformed escape, a control character or "
                               "invalid UTF-8",
                               "表单含有格式错误的转义、控制字符或无效的 UTF-8 编码");
            if (vl < 0 || !http_valid_text((const unsigned char *)v, (size_t)vl, 1))
                return ql_errf(&r->err, QL_EINVAL, k,
                               "%s: the field holds a malformed escape, a control character or "
                               "invalid UTF-8; type it again",
                               "%s：该项含有格式错误的转义、控制字符或无效的 UTF-8 编码，请重新输入",
                               k);
            r->form_names[r->nform] = k;
            r->form_values[r->nform] = v;
            r->nform++;
        }
        p = amp + 1;
    }
    return 0;
}

#define UPLOAD_MAX_PARTS 32

/* Splits a multipart/form-data body: text fields into r->form_*, files
 * into r->files. */
static int parse_upload(http_req *r)
{
    char boundary[80];
    int rc = multipart_boundary(http_header(r, "Content-Type"), boundary, sizeof boundary, &r->err);
    if (rc) return rc;
    multipart_part *parts = arena_alloc(r->arena, UPLOAD_MAX_PARTS * sizeof *parts);
    int n = 0;
    rc = multipart_parse(boundary, r->body ? r->body : "", r->body_len, r->arena, parts,
                         UPLOAD_MAX_PARTS, &n, &r->err);
    if (rc) return rc;
    r->form_names = arena_alloc(r->arena, UPLOAD_MAX_PARTS * sizeof *r->form_names);
    r->form_values = arena_alloc(r->arena, UPLOAD_MAX_PARTS * sizeof *r->form_values);
    multipart_part *files = arena_alloc(r->arena, UPLOAD_MAX_PARTS * sizeof *files);
    for (int i = 0; i < n; i++) {
        if (parts[i].filename) {
            files[r->nfiles++] = parts[i];
            continue;
        }
        if (!http_clean_utf8((const unsigned char *)parts[i].name, strlen(parts[i].name)) ||
            !http_valid_text((const unsigned char *)parts[i].data, parts[i].len, 1))
            return ql_errf(&r->err, QL_EINVAL, "body",
                           "the form holds a control character or invalid UTF-8",
                           "表单含有控制字符或无效的 UTF-8 编码");
        r->form_names[r->nform] = parts[i].name;
        r->form_values[r->nform] = arena_strndup(r->arena, parts[i].data, parts[i].len);
        r->nform++;
    }
    r->files = files;
    return 0;
}

static int is_type(const char *ct, const char *want)
{
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; "), wn = strlen(want);
    return n == wn && strncasecmp(ct, want, wn) == 0;
}

/* ---- the request's way -------------------------------------------------- */

enum http_method http_map_method(const char *m, size_t n)
{
    static const struct {
        const char *name;
        enum http_method m;
    } methods[] = {{"GET", HTTP_GET},        {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
                   {"PUT", HTTP_PUT},        {"DELETE", HTTP_DELETE}, {"PATCH", HTTP_PATCH},
                   {"OPTIONS", HTTP_OPTIONS}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i].name) == n && memcmp(methods[i].name, m, n) == 0) return methods[i].m;
    return 0;
}

int req_valid_client_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
        if (n >= 64) return 0;
    }
    return n > 0;
}

/* The ql_lang cookie (set by the language switch), else Chinese unless the
 * client's first preference is English. */
enum http_lang req_lang(http_req *r)
{
    const char *c = http_cookie(r, "ql_lang");
    if (c && strcmp(c, "en") == 0) return LANG_EN;
    if (c && strcmp(c, "zh") == 0) return LANG_ZH;
    const char *al = http_header(r, "Accept-Language");
    if (!al) return LANG_ZH;
    while (*al == ' ') al++;
    return (al[0] == 'e' || al[0] == 'E') && (al[1] == 'n' || al[1] == 'N') ? LANG_EN : LANG_ZH;
}

/* A digit of a path as sent: "7", its escape "%37", a full-width digit
 * (U+FF10-U+FF19) raw or escaped. Returns its length in bytes, or 0. */
static size_t digit_at(const char *s, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[i] >= '0' && u[i] <= '9') return 1;
    if (i + 2 < n && u[i] == 0xEF && u[i + 1] == 0xBC && u[i + 2] >= 0x90 && u[i + 2] <= 0x99)
        return 3;
    if (s[i] != '%' || i + 2 >= n) return 0;
    if (s[i + 1] == '3' && s[i + 2] >= '0' && s[i + 2] <= '9') return 3;
    if (i + 8 < n && strncasecmp(s + i, "%EF%BC%9", 8) == 0 && s[i + 8] >= '0' && s[i + 8] <= '9')
        return 9;
    return 0;
}

/* A separator people write inside a long number ("6222 0202", "138-0013"):
 * one of - . _ space, raw or escaped. Returns its length, or 0. */
static size_t separator_at(const char *s, size_t n, size_t i)
{
    if (s[i] == '-' || s[i] == '.' || s[i] == '_' || s[i] == ' ') return 1;
    if (s[i] == '%' && i + 2 < n &&
        (strncmp(s + i, "%20", 3) == 0 || strncasecmp(s + i, "%2D", 3) == 0 ||
         strncasecmp(s + i, "%2E", 3) == 0 || strncasecmp(s + i, "%5F", 3) == 0))
        return 3;
    return 0;
}

void req_mask_numbers(char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = digit_at(s, n, i);
        if (!k) {
            i++;
            continue;
        }
        /* a run: digits, with single separators between them */
        size_t j = i, digits = 0;
        for (;;) {
            j += k;
            digits++;
            size_t sep = separator_at(s, n, j);
            if (j < n && (k = digit_at(s, n, j)) != 0) continue;
            if (sep && j + sep < n && (k = digit_at(s, n, j + sep)) != 0) {
                j += sep;
                continue;
            }
            break;
        }
        /* an ID number's check character */
        if (digits >= 17 && j < n && (s[j] == 'X' || s[j] == 'x')) j++, digits++;
        if (digits >= 11) memset(s + i, '*', j - i);
        i = j;
    }
}

void req_log_path(buf *out, const char *uri, size_t max)
{
    /* masked whole, then cut: a cut never leaves part of a number */
    size_t n = strcspn(uri, "?");
    char *copy = malloc(n + 1);
    memcpy(copy, uri, n);
    copy[n] = '\0';
    req_mask_numbers(copy, n);
    int cut = n > max;
    buf_json_escape(out, copy, cut ? max : n);
    if (cut) buf_puts(out, "...");
    free(copy);
}

int req_route(http_req *r)
{
    if (!r->method)
        return ql_errf(&r->err, QL_EMETHOD, "method", "this method is not supported",
                       "不支持该请求方法");
    const char *uri = r->uri;
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    if (q) r->query = q + 1;
    int rc = http_decode_path(uri, plen, r->arena, &r->path, &r->err);
    if (rc) return rc;

    unsigned allowed = 0;
    int idx = http_route_match(r->method, r->path, r->param_names, r->param_values, &r->nparams,
                               &allowed, r->arena);
    if (idx == -1)
        return ql_errf(&r->err, QL_ENOTFOUND, "path", "no such page or API route",
                       "没有这个页面或接口");
    if (idx == -2) {
        char methods[96];
        http_methods_text(allowed, methods, sizeof methods);
        http_set_header(r, "Allow", methods);
        if (r->method == HTTP_OPTIONS) return http_reply_bytes(r, 204, NULL, NULL, 0);
        return ql_errf(&r->err, QL_EMETHOD, "method", "%s is not allowed here; allowed: %s",
                       "此处不允许 %s 请求；允许：%s", http_method_name(r->method), methods);
    }
    r->route_index = idx;
    r->route = &http_routes[idx];
    return 0;
}

static void actor_origin(http_req *r)
{
    snprintf(r->who.ip, sizeof r->who.ip, "%s", http_peer(r));
    snprintf(r->who.request_id, sizeof r->who.request_id, "%s", r->request_id);
}

/* Finds who is calling: an API token (Authorization: Bearer) or a session
 * cookie. A bad token is refused outright; a stale session cookie is
 * cleared and the visitor treated as anonymous. */
static int authenticate(http_req *r)
{
    actor *a = &r->who;
    actor_origin(r);
    int64_t now = auth_now();
    const char *authz = http_header(r, "Authorization");
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return ql_errf(&r->err, QL_EUNAUTH, "Authorization",
                           "use 'Authorization: Bearer <token>' with an API token",
                           "请使用“Authorization: Bearer <令牌>”提交接口令牌");
        const char *t = authz + 7;
        while (*t == ' ') t++;
        int rc = token_actor(r->db, t, now, a);
        if (rc == QL_EUNAUTH)
            return ql_errf(&r->err, QL_EUNAUTH, "Authorization",
                           "the API token is unknown, expired or revoked",
                           "接口令牌无效、已过期或已被吊销");
        if (rc) return rc;
        actor_origin(r);
        return 0;
    }
    const char *cookie = http_cookie(r, "ql_session");
    if (!cookie || !*cookie) return 0;
    int rc = session_actor(r->db, cookie, account_session_limits(), now, a);
    if (rc == QL_EUNAUTH) {
        memset(a, 0, sizeof *a);
        actor_origin(r);
        http_set_cookie(r, "ql_session", "", 0);
        return 0;
    }
    if (rc) return rc;
    actor_origin(r);
    return 0;
}

/* Lets the request through if the route is public, or the caller is signed
 * in and holds the route's permission. Console pages send a visitor who is
 * not signed in to the sign-in page, and an account that must change its
 * password to the password page. */
static int authorize(http_req *r)
{
    int perm = r->route->perm;
    int html = (r->route->flags & ROUTE_HTML) != 0;
    if (perm == ROUTE_PUBLIC) return 0;
    if (r->who.via == VIA_NONE) {
        if (html) {
            char *next = evhttp_encode_uri(r->uri);
            char *loc = arena_printf(r->arena, "/signin?next=%s", next ? next : "%2F");
            free(next);
            return http_redirect(r, loc);
        }
        return ql_errf(&r->err, QL_EUNAUTH, NULL,
                       "sign in first, or send an API token (Authorization: Bearer)",
                       "请先登录，或提交接口令牌（Authorization: Bearer）");
    }
    if (r->who.must_change_password && !(r->route->flags & ROUTE_PW_CHANGE)) {
        if (html) return http_redirect(r, "/account/password");
        return ql_errf(&r->err, QL_EFORBIDDEN, "password",
                       "change your password first (the console asks for it at sign-in)",
                       "请先修改口令（登录控制台后按提示修改）");
    }
    if (perm >= 0) return actor_require(&r->who, (enum perm)perm, &r->err);
    return 0;
}

static int too_big(http_req *r, uint64_t len)
{
    if (r->route->body_limit == 0)
        return ql_errf(&r->err, QL_ETOOBIG, "body", "this route takes no request body",
                       "此接口不接受请求体");
    if (len == 0)
        return ql_errf(&r->err, QL_ETOOBIG, "body",
                       "the request body is larger than this route accepts (%zu bytes)",
                       "请求体超过此接口的上限（%zu 字节）", r->route->body_limit);
    return ql_errf(&r->err, QL_ETOOBIG, "body",
                   "the request body has %llu bytes; this route accepts at most %zu",
                   "请求体为 %llu 字节，此接口最多接受 %zu 字节", (unsigned long long)len,
                   r->route->body_limit);
}

int req_admit(http_req *r, int chunked, uint64_t body_len)
{
    if (body_len > r->route->body_limit || (chunked && r->route->body_limit == 0))
        return too_big(r, body_len);
    int rc = authenticate(r);
    if (rc) return rc;
    return authorize(r);
}

/* Every state-changing request that rides on a cookie must carry the form
 * token: the session's own, or for a visitor not yet signed in, the one in
 * the ql_csrf cookie (double submit). Requests with an API token carry no
 * ambient credential and need none. */
static int check_csrf(http_req *r)
{
    if (r->method == HTTP_GET || r->method == HTTP_HEAD || r->method == HTTP_OPTIONS) return 0;
    if (r->who.via == VIA_TOKEN || r->who.via == VIA_CLI) return 0;
    const char *expect = NULL;
    if (r->who.via == VIA_SESSION)
        expect = r->who.csrf;
    else if (r->route->flags & ROUTE_FORM)
        expect = http_cookie(r, "ql_csrf");
    else
        return 0; /* an anonymous JSON request: nothing ambient to protect */
    const char *got = http_header(r, "X-CSRF-Token");
    if (!got) got = http_form(r, "_csrf");
    if (expect && got && auth_equal(got, expect)) return 0;
    return ql_errf(&r->err, QL_EFORBIDDEN, "_csrf",
                   "this form has expired or was not sent from this site; go back, reload the "
                   "page and try again",
                   "表单已过期或并非来自本站；请返回、刷新页面后重试");
}

int req_handle(http_req *r)
{
    if ((r->route->flags & ROUTE_JSON) && r->body_len) {
        if (!is_type(http_header(r, "Content-Type"), "application/json"))
            return ql_errf(&r->err, QL_EMEDIA, "Content-Type",
                           "send the body as JSON with Content-Type: application/json",
                           "请求体须为 JSON，并设置 Content-Type: application/json");
        json_error_t jerr;
        r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!r->json)
            return ql_errf(
                &r->err, QL_EINVAL, "body", "the body is not valid JSON: %s at line %d, column %d",
                "请求体不是有效的 JSON：%s（第 %d 行第 %d 列）", jerr.text, jerr.line, jerr.column);
        if (!json_is_object(r->json))
            return ql_errf(&r->err, QL_EINVAL, "body", "the body must be a JSON object",
                           "请求体必须是 JSON 对象");
    }
    int rc;
    if ((r->route->flags & ROUTE_FORM) && r->method != HTTP_GET && r->method != HTTP_HEAD) {
        if (!is_type(http_header(r, "Content-Type"), "application/x-www-form-urlencoded"))
            return ql_errf(&r->err, QL_EMEDIA, "Content-Type",
                           "send the form as application/x-www-form-urlencoded",
                           "表单须以 application/x-www-form-urlencoded 格式提交");
        rc = parse_form(r);
        if (rc) return rc;
    }
    if ((r->route->flags & ROUTE_UPLOAD) && r->method != HTTP_GET && r->method != HTTP_HEAD) {
        rc = parse_upload(r);
        if (rc) return rc;
    }
    rc = check_csrf(r);
    if (rc) return rc;
    return r->route->handler(r);
}
