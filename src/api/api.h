/* api.h - JSON views: handlers of the /api routes and of the service
 * endpoints (/healthz, /metrics). Each parses its input, calls the service
 * layer and writes JSON. */
#ifndef QL_API_API_H
#define QL_API_API_H

#include "http/http.h"

int api_healthz(http_req *r);
int api_metrics(http_req *r);
int api_openapi(http_req *r);
int api_validate(http_req *r);

/* Reads a required string member of the request body; on failure fills
 * r->err naming "body.<name>" and returns QL_EINVAL. */
int api_body_string(http_req *r, const char *name, size_t max_len, const char **out);

#endif
