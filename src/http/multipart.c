/* multipart.c - multipart/form-data bodies split into their parts. */
#include "http/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70
#define PART_HEADERS_MAX 16

static int bad(ql_err *err, const char *en, const char *zh)
{
    int rc = ql_errf(err, QL_EINVAL, "body", "the upload is malformed: %s", "上传内容格式错误：%s",
                     en);
    snprintf(err->zh, sizeof err->zh, "上传内容格式错误：%s", zh);
    return rc;
}

/* Skips spaces and tabs. */
static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

int multipart_boundary(const char *content_type, char *out, size_t n, ql_err *err)
{
    static const char type[] = "multipart/form-data";
    const char *ct = content_type ? skip_ws(content_type) : "";
    if (strncasecmp(ct, type, sizeof type - 1) != 0 ||
        (ct[sizeof type - 1] != ';' && ct[sizeof type - 1] != ' ' && ct[sizeof type - 1] != '\0'))
        return ql_errf(err, QL_EMEDIA, "Content-Type", "send the form as multipart/form-data",
                       "表单须以 multipart/form-data 格式提交");
    const char *p = ct + sizeof type - 1;
    while (*p) {
        p = skip_ws(p);
        if (*p == ';') p = skip_ws(p + 1);
        if (strncasecmp(p, "boundary=", 9) == 0) {
            p += 9;
            size_t len;
            if (*p == '"') {
                const char *q = strchr(p + 1, '"');
                if (!q) break;
                len = (size_t)(q - p - 1);
                p++;
            } else {
                len = strcspn(p, "; \t");
            }
            if (len == 0 || len > BOUNDARY_MAX || len >= n) break;
            memcpy(out, p, len);
            out[len] = '\0';
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7E) goto fail;
            return 0;
        }
        p += strcspn(p, ";");
    }
fail:
    return ql_errf(err, QL_EINVAL, "Content-Type",
                   "the multipart/form-data type has no valid boundary",
                   "multipart/form-data 缺少有效的 boundary 参数");
}

/* The value of parameter key (name, filename) in a Content-Disposition
 * value, copied into the arena, or NULL when absent. */
static const char *disposition_param(const char *v, size_t vlen, const char *key, arena *a)
{
    size_t klen = strlen(key);
    const char *end = v + vlen, *p = v;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) return NULL;
        p = semi + 1;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if ((size_t)(end - p) > klen && strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
            p += klen + 1;
            if (p < end && *p == '"') {
                /* A quoted string; a backslash keeps the next character. */
                char *out = arena_alloc(a, (size_t)(end - p));
                size_t n = 0;
                for (p++; p < end && *p != '"'; p++) {
                    if (*p == '\\' && p + 1 < end) p++;
                    out[n++] = *p;
                }
                if (p >= end) return NULL;
                out[n] = '\0';
                return out;
            }
            size_t n = 0;
            while (p + n < end && p[n] != ';' && p[n] != ' ' && p[n] != '\t') n++;
            return arena_strndup(a, p, n);
        }
    }
    return NULL;
}

/* Reads the headers of one part, from p up to the blank line. Returns the
 * start of the content or NULL. */
static const char *part_headers(const char *p, const char *end, arena *a, multipart_part *part,
                                ql_err *err, int *rc)
{
    part->name = NULL;
    part->filename = NULL;
    part->type = "";
    for (int lines = 0;; lines++) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol || lines > PART_HEADERS_MAX) {
            *rc = bad(err, "a part's headers do not end", "某部分的头部没有结束");
            return NULL;
        }
        if (eol == p) return p + 2;
        size_t len = (size_t)(eol - p);
        const char *colon = memchr(p, ':', len);
        if (!colon) {
            *rc = bad(err, "a part has a header line without a colon", "某部分的头部行缺少冒号");
            return NULL;
        }
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t')) v++;
        size_t vlen = (size_t)(eol - v);
        if (nlen == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
            if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0) {
                *rc = bad(err, "a part is not form-data", "某部分不是 form-data");
                return NULL;
            }
            part->name = disposition_param(v, vlen, "name", a);
            const char *fn = disposition_param(v, vlen, "filename", a);
            if (fn) {
                /* Some browsers send the whole path: keep the last segment. */
                const char *slash = strrchr(fn, '/'), *back = strrchr(fn, '\\');
                if (back && (!slash || back > slash)) slash = back;
                part->filename = slash ? slash + 1 : fn;
            }
        } else if (nlen == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
            part->type = arena_strndup(a, v, vlen);
        }
        p = eol + 2;
    }
}

int multipart_parse(const char *boundary, const char *body, size_t len, arena *a,
                    multipart_part *parts, int max, int *nparts, ql_err *err)
{
    *nparts = 0;
    char delim[BOUNDARY_MAX + 5];
    size_t blen = strlen(boundary);
    if (blen == 0 || blen > BOUNDARY_MAX) return bad(err, "bad boundary", "boundary 无效");
    /* "\r\n--boundary"; the first one may stand at the very start. */
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = delim[3] = '-';
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;
    const char *end = body + len, *p;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        const char *first = len ? memmem(body, len, delim, dlen) : NULL;
        if (!first) return bad(err, "no boundary line found", "找不到分隔行");
        p = first + dlen;
    }
    for (;;) {
        /* After a delimiter: "--" ends the body, CRLF starts a part. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return bad(err, "a boundary line is not followed by a line end",
                       "分隔行之后缺少换行");
        p += 2;
        if (*nparts >= max)
            return ql_errf(err, QL_ETOOBIG, "body", "the form has more than %d parts",
                           "表单超过 %d 个部分", max);
        multipart_part *part = &parts[*nparts];
        int rc = 0;
        const char *content = part_headers(p, end, a, part, err, &rc);
        if (!content) return rc;
        if (!part->name)
            return bad(err, "a part has no name", "某部分没有名称");
        const char *next = memmem(content, (size_t)(end - content), delim, dlen);
        if (!next) return bad(err, "the body does not end with the closing boundary",
                              "请求体没有以结束分隔行结尾");
        part->data = content;
        part->len = (size_t)(next - content);
        (*nparts)++;
        p = next + dlen;
    }
}
