/* http.h - what a route handler sees: the request, its arena and store
 * connection, and the functions that write the response.
 *
 * Handlers run on a worker thread, one request at a time per worker, and
 * return 0 once they have written a response with one of the http_reply_*
 * functions, or a negative QL_E* code with r->err filled (ql_errf), in which
 * case the server answers with the uniform error body
 *   {"error":{"code":"invalid","message":"…","message_zh":"…","message_en":"…",
 *             "field":"body.value","request_id":"…"}}
 * (or an HTML error page on console routes) and the status from err.c.
 * Everything allocated from r->arena is released when the request ends.
 */
#ifndef QL_HTTP_HTTP_H
#define QL_HTTP_HTTP_H

#include "auth/perm.h"
#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stddef.h>

struct http_conn;
struct http_worker;

enum http_method {
    HTTP_GET = 1,
    HTTP_HEAD = 2,
    HTTP_POST = 4,
    HTTP_PUT = 8,
    HTTP_DELETE = 16,
    HTTP_PATCH = 32,
    HTTP_OPTIONS = 64
};

enum http_lang { LANG_ZH = 0, LANG_EN = 1 };

#define HTTP_MAX_PARAMS 8

typedef struct http_req http_req;
typedef int (*http_handler)(http_req *r);

/* Route flags. */
enum {
    ROUTE_JSON = 1,      /* the body, if any, must be a JSON object (Content-Type application/json) */
    ROUTE_HTML = 2,      /* a console page: errors are answered as HTML pages, a visitor who is
                            not signed in is sent to the sign-in page */
    ROUTE_REST = 4,      /* the last {param} takes the rest of the path, slashes included */
    ROUTE_FORM = 8,      /* the body is an HTML form (application/x-www-form-urlencoded) */
    ROUTE_PW_CHANGE = 16, /* open to an account that must change its password first */
    ROUTE_UPLOAD = 32     /* the body is a form with files (multipart/form-data): text fields
                             are read with http_form, files with http_file */
};

/* Who may call a route: a permission (enum perm), or one of these. */
#define ROUTE_PUBLIC (-1)    /* public on purpose: no session or token needed */
#define ROUTE_SIGNED_IN (-2) /* any signed-in account or token */

/* One entry of the static route table (routes.c). */
typedef struct http_route {
    enum http_method method;
    const char *pattern;  /* "/api/v1/things/{id}"; literal segments and {name} parameters */
    http_handler handler;
    int perm;             /* an enum perm, ROUTE_PUBLIC or ROUTE_SIGNED_IN */
    size_t body_limit;    /* largest body accepted; 0 = the route takes no body */
    unsigned flags;       /* ROUTE_* */
} http_route;

struct http_req {
    struct http_conn *conn;    /* the connection it came on (server.c) */
    struct http_worker *worker;
    arena *arena;              /* this request's own; released when it ends */
    store *db;                 /* this worker's store connection */
    const char *uri;           /* the request target as sent (path and query) */
    int minor;                 /* HTTP/1.<minor> */
    int nheaders;              /* the request's header fields (arena-owned) */
    const char **header_names;
    const char **header_values;
    const http_route *route;
    int route_index;
    enum http_method method;
    const char *path;          /* percent-decoded */
    const char *query;         /* raw query string, or NULL */
    int nparams;
    const char *param_names[HTTP_MAX_PARAMS];
    const char *param_values[HTTP_MAX_PARAMS]; /* percent-decoded */
    const char *body;          /* NULL when there is none */
    size_t body_len;
    json_t *json;              /* parsed body for ROUTE_JSON routes, else NULL */
    enum http_lang lang;       /* the ql_lang cookie, else Accept-Language; Chinese by default */
    actor who;                 /* the signed-in account or token; via VIA_NONE when anonymous */
    int nform;                 /* ROUTE_FORM: the decoded fields */
    const char **form_names;
    const char **form_values;
    int nfiles;                /* ROUTE_UPLOAD: the file parts */
    const struct multipart_part *files;
    char request_id[72];        /* the server's name for this request */
    char client_request_id[72]; /* X-Request-Id as the client sent it, if well formed */
    ql_err err;
    const ql_errs *errs;       /* every error of a form or record, when there are several:
                                  the error body lists them under "errors". Read after the
                                  handler returns: point it into the arena, never into the
                                  handler's own frame */
    int status;                /* set by the reply functions */
    size_t bytes_out;          /* body bytes of the response */
    int replied;
};

/* The file sent in form field name (ROUTE_UPLOAD), or NULL; its data
 * points into the request body. See http/multipart.h. */
const struct multipart_part *http_file(const http_req *r, const char *name);

/* Runs slow work apart from the event loops (password hashing): work(s,
 * arg) on one of the server's pool threads with that thread's own store s,
 * then done(r, arg, rc) back on the request's worker thread with work's
 * return value rc. done answers as a handler does: it writes a reply and
 * returns 0, or returns a negative QL_E* code with r->err filled. arg must
 * live in r->arena (the handler's frame is gone by then). The handler
 * returns what http_defer returns: HTTP_DEFERRED, or QL_EUNAVAIL (503) when
 * the pool's queue is full, with r->err filled. */
#define HTTP_DEFERRED 1
typedef int (*http_work_fn)(store *s, void *arg);
typedef int (*http_done_fn)(http_req *r, void *arg, int rc);
int http_defer(http_req *r, http_work_fn work, http_done_fn done, void *arg);

/* The same for long work (imports and exports, seconds each), on a pool of
 * its own (server.bulk_threads), so that it never keeps a sign-in waiting. */
int http_defer_bulk(http_req *r, http_work_fn work, http_done_fn done, void *arg);

/* Returns the value of path parameter name, or NULL. */
const char *http_param(const http_req *r, const char *name);

/* Returns the decoded value of query parameter name (arena-owned), or NULL. */
const char *http_query(http_req *r, const char *name);

/* Returns the request header (case-insensitive name), or NULL. */
const char *http_header(const http_req *r, const char *name);

/* Adds a response header. Both strings are copied. */
void http_set_header(http_req *r, const char *name, const char *value);

/* Returns the value of a request cookie (arena-owned), or NULL. */
const char *http_cookie(http_req *r, const char *name);

/* Sets a cookie: Path=/, HttpOnly, SameSite=Strict, Secure when
 * security.secure_cookies is on. max_age in seconds; 0 deletes it; -1 makes
 * a cookie that lasts as long as the browser session. */
void http_set_cookie(http_req *r, const char *name, const char *value, long max_age);

/* Returns a field of a ROUTE_FORM body (decoded, arena-owned), or NULL. */
const char *http_form(const http_req *r, const char *name);

/* Collects every value of a repeated form field (e.g. checkboxes) into
 * values (up to max); returns how many. */
int http_form_all(const http_req *r, const char *name, const char **values, int max);

/* Answers 303 See Other to location (a path on this site). */
int http_redirect(http_req *r, const char *location);

/* The client's address, as the server sees the connection. */
const char *http_peer(http_req *r);

/* Sends json (a reference is stolen) as the response with the given status. */
int http_reply_json(http_req *r, int status, json_t *json);

/* Sends len bytes with the given status and content type. The bytes are copied. */
int http_reply_bytes(http_req *r, int status, const char *content_type, const void *data,
                     size_t len);

/* Sends len bytes that stay unchanged for the life of the process (a file
 * compiled into the binary), without copying them: a client that reads
 * slowly holds no copy. */
int http_reply_static(http_req *r, int status, const char *content_type, const void *data,
                      size_t len);

/* Sends an open file descriptor's contents (the server closes fd). */
int http_reply_fd(http_req *r, int status, const char *content_type, int fd, size_t len);

/* Answers with the uniform error for r->err (or the default message of code
 * when r->err is empty). Used by the server when a handler fails; handlers
 * normally just return the code. */
int http_reply_error(http_req *r, int code);

/* A list of errors as JSON: [{field, message, message_zh, message_en}]. */
json_t *http_errs_json(const http_req *r, const ql_errs *list);

/* The message of r->err in the request's language (the code's default if empty). */
const char *http_err_message(const http_req *r, int code);

/* The route table (routes.c) and its size. */
extern const http_route http_routes[];
extern const size_t http_nroutes;

/* Finds the route for method and decoded path. Returns its index and fills
 * params; -1 when no route has this path (404); -2 when routes have the path
 * but not the method (405): *allowed then has the methods that do. */
int http_route_match(enum http_method method, const char *path, const char **names,
                     const char **values, int *nparams, unsigned *allowed, arena *a);

/* "GET", "POST", ... for one method bit. */
const char *http_method_name(enum http_method m);

/* Writes "GET, HEAD, POST" for a set of method bits into out. */
void http_methods_text(unsigned methods, char *out, size_t n);

/* Decodes %XX escapes (and '+' as a space when plus is set) of n bytes into
 * an arena string in *out. Returns its length, or -1 for a malformed escape. */
long http_decode_component(const char *s, size_t n, int plus, arena *a, char **out);

/* Returns 1 if s (n bytes) is valid UTF-8 without control characters
 * (tab, newline and carriage return included), else 0. */
int http_clean_utf8(const unsigned char *s, size_t n);

/* The same, but allowing tab, newline and carriage return when newlines is
 * set (text typed into a form's text area). */
int http_valid_text(const unsigned char *s, size_t n, int newlines);

/* Percent-decodes a request path. Refuses (QL_EINVAL, err names "path") a
 * malformed escape, a NUL or control byte, invalid UTF-8, and "." or ".."
 * segments. Returns 0 and an arena-owned string in *out. */
int http_decode_path(const char *raw, size_t n, arena *a, const char **out, ql_err *err);

#endif
