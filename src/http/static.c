/* static.c - files under server.static_dir, served at /static/{path}. */
#include "http/http.h"
#include "http/server.h"
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".html", "text/html; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".csv", "text/csv; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

static int not_found(http_req *r)
{
    return ql_errf(&r->err, QL_ENOTFOUND, "path", "no such file", "没有这个文件");
}

int http_static(http_req *r)
{
    const char *rel = http_param(r, "path");
    if (!rel) return not_found(r);
    /* The router already refused "." and ".." segments, NUL and control
     * bytes; hidden files are not served either. */
    if (rel[0] == '.' || strstr(rel, "/.")) return not_found(r);

    const char *root = http_config(r)->static_dir;
    char rootreal[PATH_MAX], full[PATH_MAX], real[PATH_MAX];
    if (!realpath(root, rootreal)) return not_found(r);
    if ((size_t)snprintf(full, sizeof full, "%s/%s", rootreal, rel) >= sizeof full)
        return not_found(r);
    if (!realpath(full, real)) return not_found(r);
    size_t rl = strlen(rootreal);
    if (strncmp(real, rootreal, rl) != 0 || real[rl] != '/') return not_found(r);

    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return not_found(r);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return not_found(r);
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
             (unsigned long long)st.st_size);
    http_set_header(r, "ETag", etag);
    http_set_header(r, "Cache-Control", "public, max-age=3600");
    const char *inm = http_header(r, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        return http_reply_bytes(r, 304, NULL, NULL, 0);
    }
    return http_reply_fd(r, 200, content_type(real), fd, (size_t)st.st_size);
}
