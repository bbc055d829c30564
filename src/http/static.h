/* static.h - the handler of /static/{path}: regular files below
 * server.static_dir, never outside it, never hidden ones; ETag and
 * If-None-Match for revalidation. */
#ifndef QL_HTTP_STATIC_H
#define QL_HTTP_STATIC_H

#include "http/http.h"

int http_static(http_req *r);

#endif
