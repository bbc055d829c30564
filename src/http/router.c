/* router.c - matching a method and path against the static route table,
 * and decoding paths and query strings. */
#include "http/http.h"

#include "core/text.h"

#include <stdio.h>
#include <string.h>

const char *http_method_name(enum http_method m)
{
    switch (m) {
    case HTTP_GET: return "GET";
    case HTTP_HEAD: return "HEAD";
    case HTTP_POST: return "POST";
    case HTTP_PUT: return "PUT";
    case HTTP_DELETE: return "DELETE";
    case HTTP_PATCH: return "PATCH";
    case HTTP_OPTIONS: return "OPTIONS";
    }
    return "?";
}

void http_methods_text(unsigned methods, char *out, size_t n)
{
    static const enum http_method order[] = {HTTP_GET,   HTTP_HEAD,  HTTP_POST,   HTTP_PUT,
                                             HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(methods & order[i])) continue;
        int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", http_method_name(order[i]));
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long http_decode_component(const char *s, size_t n, int plus, arena *a, char **out)
{
    char *d = arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (plus && s[i] == '+') {
            d[j++] = ' ';
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    return (long)j;
}

int http_clean_utf8(const unsigned char *s, size_t n)
{
    return http_valid_text(s, n, 0);
}

int http_valid_text(const unsigned char *s, size_t n, int newlines)
{
    return text_valid((const char *)s, n, newlines);
}

int http_decode_path(const char *raw, size_t n, arena *a, const char **out, ql_err *err)
{
    if (n == 0 || raw[0] != '/')
        return ql_errf(err, QL_EINVAL, "path", "the path must start with '/'",
                       "请求路径必须以“/”开头");
    char *d;
    long len = http_decode_component(raw, n, 0, a, &d);
    if (len < 0)
        return ql_errf(err, QL_EINVAL, "path", "the path has a malformed %%-escape",
                       "请求路径含有格式错误的 %% 转义");
    if (!http_clean_utf8((const unsigned char *)d, (size_t)len))
        return ql_errf(err, QL_EINVAL, "path",
                       "the path contains a NUL or control character or is not valid UTF-8",
                       "请求路径含有空字符、控制字符或无效的 UTF-8 编码");
    /* Refuse "." and ".." segments outright rather than resolving them. */
    const char *seg = d + 1;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
        if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
            return ql_errf(err, QL_EINVAL, "path", "the path must not contain '.' or '..' segments",
                           "请求路径不得包含“.”或“..”段");
        if (!slash) break;
        seg = slash + 1;
    }
    *out = d;
    return 0;
}

/* Matches pattern against path; fills names/values (arena strings). */
static int match(const http_route *rt, const char *path, const char **names, const char **values,
                 int *np, arena *a)
{
    const char *p = rt->pattern, *s = path;
    int n = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close || n >= HTTP_MAX_PARAMS) return 0;
            const char *pend = close + 1;
            int rest = (rt->flags & ROUTE_REST) && *pend == '\0';
            const char *send = rest ? s + strlen(s) : strchrnul(s, '/');
            if (send == s) return 0; /* empty parameter */
            if (names) {
                names[n] = arena_strndup(a, p + 1, (size_t)(close - p - 1));
                values[n] = arena_strndup(a, s, (size_t)(send - s));
            }
            n++;
            p = pend;
            s = send;
            continue;
        }
        if (*p != *s) return 0;
        p++;
        s++;
    }
    if (*p || *s) return 0;
    if (np) *np = n;
    return 1;
}

int http_route_match(enum http_method method, const char *path, const char **names,
                     const char **values, int *nparams, unsigned *allowed, arena *a)
{
    unsigned methods = 0;
    enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;
    for (size_t i = 0; i < http_nroutes; i++) {
        const http_route *rt = &http_routes[i];
        if (rt->method == want) {
            if (match(rt, path, names, values, nparams, a)) return (int)i;
        } else if (!(methods & rt->method) && match(rt, path, NULL, NULL, NULL, a)) {
            methods |= rt->method;
        }
    }
    if (!methods) return -1;
    if (methods & HTTP_GET) methods |= HTTP_HEAD;
    methods |= HTTP_OPTIONS;
    if (allowed) *allowed = methods;
    return -2;
}

const char *http_param(const http_req *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->param_names[i], name) == 0) return r->param_values[i];
    return NULL;
}

const char *http_query(http_req *r, const char *name)
{
    if (!r->query) return NULL;
    size_t nlen = strlen(name);
    const char *p = r->query;
    while (*p) {
        const char *amp = strchrnul(p, '&');
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        const char *kend = eq ? eq : amp;
        char *key;
        long klen = http_decode_component(p, (size_t)(kend - p), 1, r->arena, &key);
        if (klen == (long)nlen && memcmp(key, name, nlen) == 0) {
            char *val;
            if (!eq) return "";
            long vlen = http_decode_component(eq + 1, (size_t)(amp - eq - 1), 1, r->arena, &val);
            if (vlen < 0 || !http_clean_utf8((const unsigned char *)val, (size_t)vlen)) return NULL;
            return val;
        }
        p = *amp ? amp + 1 : amp;
    }
    return NULL;
}
