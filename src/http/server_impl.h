/* server_impl.h - what server.c (connections, I/O, workers) and request.c
 * (a request's way through the route table) share. Not for use outside
 * src/http. */
#ifndef QL_HTTP_SERVER_IMPL_H
#define QL_HTTP_SERVER_IMPL_H

#include "core/buf.h"
#include "http/http.h"

#include <stddef.h>
#include <stdint.h>

/* The method named by m (n bytes), or 0 for one the server does not serve. */
enum http_method http_map_method(const char *m, size_t n);

/* Decodes the path and finds the route (r->uri, r->method set). Returns 0
 * with r->route set; a negative code with r->err (400 path, 404, 405); or 0
 * with r->replied set when it answered itself (OPTIONS). */
int req_route(http_req *r);

/* Run when the head has arrived, before any of the body is read: the
 * route's body limit (body_len bytes are announced, or chunked when
 * chunked is set), then who is calling and whether they may. Returns 0 to
 * read the body and go on; a negative code with r->err; or 0 with
 * r->replied set (a redirect to the sign-in page). */
int req_admit(http_req *r, int chunked, uint64_t body_len);

/* Run when the body is in r->body: parses it as the route says, checks the
 * form token, and calls the handler. Returns what the handler returns
 * (HTTP_DEFERRED included). */
int req_handle(http_req *r);

/* The language of the answer: the ql_lang cookie, else Accept-Language. */
enum http_lang req_lang(http_req *r);

/* 1 if a client's request id is safe to keep (1-64 of [A-Za-z0-9._-]). */
int req_valid_client_id(const char *s);

/* Replaces with '*' every run of 11 or more digits in s (n bytes): an ID,
 * mobile or card number would be one. Digits count raw, percent-escaped
 * and full-width; single separators (- . _ space, raw or escaped) between
 * them do not end a run; an ID number's final X is masked with it. */
void req_mask_numbers(char *s, size_t n);

/* Appends the path part of uri to out for the access log: without the query
 * string, its numbers masked (req_mask_numbers), then cut to max bytes,
 * JSON-escaped. */
void req_log_path(buf *out, const char *uri, size_t max);

#endif
