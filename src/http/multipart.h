/* multipart.h - reading multipart/form-data bodies (RFC 7578), as browsers
 * send a form with a file input.
 *
 * The parser works on the whole body in memory (the route's body limit
 * bounds it) and does not copy file contents: a part's data points into
 * the body. Names and file names are copied into the arena. It accepts
 * what browsers send and refuses the rest with QL_EINVAL naming "body":
 * a missing or over-long boundary, a part without a name, a body that does
 * not end with the closing boundary, more than max_parts parts.
 */
#ifndef QL_HTTP_MULTIPART_H
#define QL_HTTP_MULTIPART_H

#include "core/arena.h"
#include "core/err.h"

#include <stddef.h>

typedef struct multipart_part {
    const char *name;     /* the form field's name */
    const char *filename; /* the file's name as the browser sent it (path stripped), or NULL
                             for a plain field */
    const char *type;     /* the part's Content-Type, or "" */
    const char *data;     /* the content, inside the body (not NUL-terminated) */
    size_t len;
} multipart_part;

/* Copies the boundary of a Content-Type header value such as
 * "multipart/form-data; boundary=----x" into out (n bytes, at most 70
 * characters by RFC 2046). Returns 0, or QL_EMEDIA when the type is not
 * multipart/form-data, QL_EINVAL when the boundary is missing or bad. */
int multipart_boundary(const char *content_type, char *out, size_t n, ql_err *err);

/* Splits body into at most max parts (parts[0..*nparts)). Returns 0 or
 * QL_EINVAL / QL_ETOOBIG with err filled. */
int multipart_parse(const char *boundary, const char *body, size_t len, arena *a,
                    multipart_part *parts, int max, int *nparts, ql_err *err);

#endif
