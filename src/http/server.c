/* server.c - worker threads around libevent's evhttp: request dispatch
 * through the route table, uniform errors, request ids, security headers,
 * access log, metrics and graceful drain. */
#include "http/server.h"

#include "account/account.h"
#include "auth/session.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "http/metrics.h"
#include "http/multipart.h"
#include "web/web.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_BUCKETS 1024       /* power of two */
#define ACCESS_FLUSH_BYTES 16384
#define ACCESS_FLUSH_MS 200
#define ACCESS_PATH_MAX 1024 /* bytes of path logged; a line stays under 4 KiB */
#define DRAIN_QUIET_NS 200000000ull /* 200 ms without a new request */
#define DRAIN_TICK_MS 20

struct http_server;

/* A client connection that has sent at least one request; tracked so the
 * drain knows whether a response is still being written. */
struct conn {
    struct conn *next;
    struct evhttp_connection *evcon;
    struct http_worker *w;
    int busy; /* a response is queued and not yet fully written */
};

struct http_worker {
    int id;
    struct http_server *srv;
    pthread_t thread;
    int running; /* thread started and not yet joined */
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    int listen_fd;
    store *db;
    arena *arena;
    http_metrics *metrics;
    buf access;
    struct event *flush_ev, *stop_ev, *drain_ev;
    int stop_pipe[2]; /* the main thread writes a byte to ask the worker to stop */
    struct conn *conns[CONN_BUCKETS];
    int busy;
    int draining;
    uint64_t last_activity_ns;
    uint64_t drain_deadline_ns;
    uint32_t rid_prefix;
    uint64_t rid_seq;
};

struct http_server {
    const ql_config *cfg;
    size_t nworkers;
    struct http_worker *workers;
    http_metrics **metrics;
    store **stores;
    int access_fd; /* -1 when the access log is off */
    _Atomic int stop_now;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- connection tracking ---------------------------------------------- */

static size_t conn_bucket(const struct evhttp_connection *evcon)
{
    uintptr_t p = (uintptr_t)evcon;
    p ^= p >> 17;
    p *= 0x9E3779B97F4A7C15ull;
    return (size_t)(p >> 40) & (CONN_BUCKETS - 1);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    struct http_worker *w = c->w;
    struct conn **pp = &w->conns[conn_bucket(evcon)];
    while (*pp && *pp != c) pp = &(*pp)->next;
    if (*pp) *pp = c->next;
    if (c->busy) w->busy--;
    free(c);
}

static struct conn *conn_get(struct http_worker *w, struct evhttp_connection *evcon)
{
    size_t b = conn_bucket(evcon);
    for (struct conn *c = w->conns[b]; c; c = c->next)
        if (c->evcon == evcon) return c;
    struct conn *c = xcalloc(1, sizeof *c);
    c->evcon = evcon;
    c->w = w;
    c->next = w->conns[b];
    w->conns[b] = c;
    evhttp_connection_set_closecb(evcon, on_conn_close, c);
    return c;
}

static void on_complete(struct evhttp_request *ev, void *arg)
{
    (void)ev;
    struct conn *c = arg;
    if (c->busy) {
        c->busy = 0;
        c->w->busy--;
    }
}

/* ---- access log ------------------------------------------------------- */

static void access_flush(struct http_worker *w)
{
    int fd = w->srv->access_fd;
    if (fd < 0 || w->access.len == 0) {
        buf_reset(&w->access);
        return;
    }
    /* Write whole lines in pieces of at most 4 KiB so that lines from
     * several workers never interleave, even on a pipe. */
    size_t off = 0;
    while (off < w->access.len) {
        size_t n = w->access.len - off;
        if (n > 4096) {
            const char *end = w->access.data + off + 4096;
            while (end > w->access.data + off && end[-1] != '\n') end--;
            n = end > w->access.data + off ? (size_t)(end - (w->access.data + off)) : 4096;
        }
        ssize_t k = write(fd, w->access.data + off, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (size_t)k;
    }
    buf_reset(&w->access);
}

static void on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    access_flush(arg);
}

static void access_record(struct http_worker *w, const http_req *r, const char *raw_path,
                          size_t bytes, uint64_t dur_ns)
{
    if (w->srv->access_fd < 0) return;
    char ts[40];
    log_timestamp(ts, sizeof ts);
    const char *peer = "";
    ev_uint16_t port = 0;
    char *addr = NULL;
    struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);
    if (evcon) evhttp_connection_get_peer(evcon, &addr, &port);
    if (addr) peer = addr;
    buf *b = &w->access;
    buf_printf(b, "{\"ts\":\"%s\",\"rid\":\"", ts);
    buf_json_escape(b, r->request_id, strlen(r->request_id));
    if (r->client_request_id[0]) {
        buf_puts(b, "\",\"crid\":\"");
        buf_json_escape(b, r->client_request_id, strlen(r->client_request_id));
    }
    buf_printf(b, "\",\"method\":\"%s\",\"path\":\"", http_method_name(r->method));
    /* The path only: query strings may carry personal data. Long paths are
     * cut so that each line stays one write. */
    size_t plen = strcspn(raw_path, "?");
    buf_json_escape(b, raw_path, plen > ACCESS_PATH_MAX ? ACCESS_PATH_MAX : plen);
    if (plen > ACCESS_PATH_MAX) buf_puts(b, "...");
    buf_puts(b, "\",\"route\":\"");
    if (r->route) buf_puts(b, r->route->pattern);
    buf_printf(b, "\",\"status\":%d,\"bytes\":%zu,\"ms\":%.3f,\"peer\":\"", r->status, bytes,
               (double)dur_ns / 1e6);
    buf_json_escape(b, peer, strlen(peer));
    buf_printf(b, "\",\"worker\":%d}\n", w->id);
    if (w->access.len >= ACCESS_FLUSH_BYTES) access_flush(w);
}

/* ---- responses -------------------------------------------------------- */

const char *http_header(const http_req *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

void http_set_header(http_req *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

static void common_headers(http_req *r, const char *content_type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    if (content_type) evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "X-Request-Id", r->request_id);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                      "base-uri 'self'; form-action 'self'");
    evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
    if (!evhttp_find_header(h, "Cache-Control")) evhttp_add_header(h, "Cache-Control", "no-store");
    if (r->worker->draining) evhttp_add_header(h, "Connection", "close");
}

static void send_reply(http_req *r, int status)
{
    r->status = status;
    r->replied = 1;
    struct evbuffer *body = evhttp_request_get_output_buffer(r->ev);
    r->bytes_out = evbuffer_get_length(body);
    if (r->method == HTTP_HEAD) {
        /* Same headers as GET, no body. */
        char len[32];
        snprintf(len, sizeof len, "%zu", r->bytes_out);
        evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Length", len);
        evbuffer_drain(body, r->bytes_out);
        r->bytes_out = 0;
    }
    const char *reason = NULL;
    switch (status) {
    case 200: reason = "OK"; break;
    case 201: reason = "Created"; break;
    case 204: reason = "No Content"; break;
    case 304: reason = "Not Modified"; break;
    case 400: reason = "Bad Request"; break;
    case 401: reason = "Unauthorized"; break;
    case 403: reason = "Forbidden"; break;
    case 404: reason = "Not Found"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 409: reason = "Conflict"; break;
    case 413: reason = "Content Too Large"; break;
    case 415: reason = "Unsupported Media Type"; break;
    case 500: reason = "Internal Server Error"; break;
    case 503: reason = "Service Unavailable"; break;
    default: reason = NULL;
    }
    evhttp_send_reply(r->ev, status, reason, NULL);
}

int http_reply_bytes(http_req *r, int status, const char *content_type, const void *data,
                     size_t len)
{
    common_headers(r, content_type);
    if (len) evbuffer_add(evhttp_request_get_output_buffer(r->ev), data, len);
    send_reply(r, status);
    return 0;
}

int http_reply_fd(http_req *r, int status, const char *content_type, int fd, size_t len)
{
    common_headers(r, content_type);
    if (len) evbuffer_add_file(evhttp_request_get_output_buffer(r->ev), fd, 0, (ev_off_t)len);
    else close(fd);
    send_reply(r, status);
    return 0;
}

/* jansson hands the text over a few bytes at a time (a quote, a key, a
 * colon): gathered in a buf and added to the reply once, since an
 * evbuffer_add per piece cost a tenth of a 50-row list. */
static int dump_to_buf(const char *p, size_t n, void *arg)
{
    return buf_append(arg, p, n);
}

int http_reply_json(http_req *r, int status, json_t *json)
{
    if (!json) {
        /* A json_pack that failed (invalid UTF-8, say): a bug, not a blank 200. */
        ql_errf(&r->err, QL_EINTERNAL, NULL, "could not build the answer", "无法生成应答");
        return http_reply_error(r, QL_EINTERNAL);
    }
    common_headers(r, "application/json; charset=utf-8");
    struct evbuffer *out = evhttp_request_get_output_buffer(r->ev);
    buf text;
    buf_init(&text, 0);
    json_dump_callback(json, dump_to_buf, &text, JSON_COMPACT);
    buf_putc(&text, '\n');
    evbuffer_add(out, text.data, text.len);
    buf_free(&text);
    json_decref(json);
    send_reply(r, status);
    return 0;
}

const char *http_err_message(const http_req *r, int code)
{
    if (r->lang == LANG_EN) return r->err.en[0] ? r->err.en : ql_err_default_en(code);
    return r->err.zh[0] ? r->err.zh : ql_err_default_zh(code);
}

json_t *http_errs_json(const http_req *r, const ql_errs *list)
{
    json_t *a = json_array();
    for (int i = 0; list && i < list->n; i++) {
        const ql_err *e = &list->e[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "field", e->field, "message",
                                           r->lang == LANG_EN ? e->en : e->zh, "message_zh",
                                           e->zh, "message_en", e->en));
    }
    return a;
}

/* Console pages (and unknown paths asked for by a browser) get the HTML
 * error page; everything else the uniform JSON error body. */
static int wants_html(http_req *r)
{
    if (r->route) return (r->route->flags & ROUTE_HTML) != 0;
    const char *accept = http_header(r, "Accept");
    return accept && strstr(accept, "text/html") && r->path && strncmp(r->path, "/api/", 5) != 0;
}

int http_reply_error(http_req *r, int code)
{
    int status = ql_err_http_status(code);
    const char *en = r->err.en[0] ? r->err.en : ql_err_default_en(code);
    const char *zh = r->err.zh[0] ? r->err.zh : ql_err_default_zh(code);
    if (wants_html(r)) return web_error_page(r, status, r->lang == LANG_EN ? en : zh);
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", ql_err_name(code), "message",
                          r->lang == LANG_EN ? en : zh, "message_zh", zh, "message_en", en,
                          "request_id", r->request_id);
    json_object_set_new(e, "field", r->err.field[0] ? json_string(r->err.field) : json_null());
    json_t *body = json_pack("{s:o}", "error", e);
    if (r->errs && r->errs->n) json_object_set_new(body, "errors", http_errs_json(r, r->errs));
    return http_reply_json(r, status, body);
}

/* ---- cookies, forms, redirects --------------------------------------- */

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

void http_set_cookie(http_req *r, const char *name, const char *value, long max_age)
{
    char age[48] = "";
    if (max_age >= 0) snprintf(age, sizeof age, "; Max-Age=%ld", max_age);
    char *c = arena_printf(r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name,
                           max_age == 0 ? "" : value, age,
                           r->worker->srv->cfg->secure_cookies ? "; Secure" : "");
    http_set_header(r, "Set-Cookie", c);
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
            if (kl < 0 || vl < 0 || !http_clean_utf8((const unsigned char *)k, (size_t)kl) ||
                !http_valid_text((const unsigned char *)v, (size_t)vl, 1))
                return ql_errf(&r->err, QL_EINVAL, "body",
                               "the form holds a malformed escape, a control character or "
                               "invalid UTF-8",
                               "表单含有格式错误的转义、控制字符或无效的 UTF-8 编码");
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

const char *http_peer(http_req *r)
{
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);
    if (evcon) evhttp_connection_get_peer(evcon, &addr, &port);
    return addr ? addr : "";
}

/* ---- request dispatch ------------------------------------------------- */

static enum http_method map_method(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return HTTP_GET;
    case EVHTTP_REQ_HEAD: return HTTP_HEAD;
    case EVHTTP_REQ_POST: return HTTP_POST;
    case EVHTTP_REQ_PUT: return HTTP_PUT;
    case EVHTTP_REQ_DELETE: return HTTP_DELETE;
    case EVHTTP_REQ_PATCH: return HTTP_PATCH;
    case EVHTTP_REQ_OPTIONS: return HTTP_OPTIONS;
    default: return 0;
    }
}

static int valid_request_id(const char *s)
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

/* The server names every request itself (the name goes into the audit log,
 * where a client must not choose it). A gateway's own id, when it sends a
 * well-formed one in X-Request-Id, is kept beside it for the access log. */
static void set_request_id(http_req *r, struct http_worker *w)
{
    const char *given = http_header(r, "X-Request-Id");
    if (given && valid_request_id(given))
        snprintf(r->client_request_id, sizeof r->client_request_id, "%s", given);
    snprintf(r->request_id, sizeof r->request_id, "%08x%02x%06llx", w->rid_prefix, w->id & 0xff,
             (unsigned long long)++w->rid_seq);
}

/* The ql_lang cookie (set by the language switch), else Chinese unless the
 * client's first preference is English. */
static enum http_lang negotiate_lang(http_req *r)
{
    const char *c = http_cookie(r, "ql_lang");
    if (c && strcmp(c, "en") == 0) return LANG_EN;
    if (c && strcmp(c, "zh") == 0) return LANG_ZH;
    const char *al = http_header(r, "Accept-Language");
    if (!al) return LANG_ZH;
    while (*al == ' ') al++;
    return (al[0] == 'e' || al[0] == 'E') && (al[1] == 'n' || al[1] == 'N') ? LANG_EN : LANG_ZH;
}

static int is_json_type(const char *ct)
{
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; ");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}


static int is_form_type(const char *ct)
{
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; ");
    return n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* Finds who is calling: an API token (Authorization: Bearer) or a session
 * cookie. A bad token is refused outright; a stale session cookie is
 * cleared and the visitor treated as anonymous. */
static int authenticate(http_req *r)
{
    actor *a = &r->who;
    snprintf(a->ip, sizeof a->ip, "%s", http_peer(r));
    snprintf(a->request_id, sizeof a->request_id, "%s", r->request_id);
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
        snprintf(a->ip, sizeof a->ip, "%s", http_peer(r));
        snprintf(a->request_id, sizeof a->request_id, "%s", r->request_id);
        return 0;
    }
    const char *cookie = http_cookie(r, "ql_session");
    if (!cookie || !*cookie) return 0;
    int rc = session_actor(r->db, cookie, account_session_limits(), now, a);
    if (rc == QL_EUNAUTH) {
        memset(a, 0, sizeof *a);
        snprintf(a->ip, sizeof a->ip, "%s", http_peer(r));
        snprintf(a->request_id, sizeof a->request_id, "%s", r->request_id);
        http_set_cookie(r, "ql_session", "", 0);
        return 0;
    }
    if (rc) return rc;
    snprintf(a->ip, sizeof a->ip, "%s", http_peer(r));
    snprintf(a->request_id, sizeof a->request_id, "%s", r->request_id);
    return 0;
}

/* Lets the request through if the route is public, or the caller is signed
 * in and holds the route's permission. Console pages send a visitor who is
 * not signed in to the sign-in page, and an account that must change its
 * password to the password page. */
static int authorize(http_req *r, const char *uri)
{
    int perm = r->route->perm;
    int html = (r->route->flags & ROUTE_HTML) != 0;
    if (perm == ROUTE_PUBLIC) return 0;
    if (r->who.via == VIA_NONE) {
        if (html) {
            char *next = evhttp_encode_uri(uri);
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

/* Every state-changing request that rides on a cookie must carry the form
 * token: the session's own, or for a visitor not yet signed in, the one in
 * the ql_csrf cookie (double submit). Requests with an API token carry no
 * ambient credential and need none. */
static int check_csrf(http_req *r)
{
    if (r->method == HTTP_GET || r->method == HTTP_HEAD || r->method == HTTP_OPTIONS) return 0;
    if (r->who.via == VIA_TOKEN || r->who.via == VIA_CLI) return 0;
    const char *expect = NULL;
    if (r->who.via == VIA_SESSION) expect = r->who.csrf;
    else if (r->route->flags & ROUTE_FORM) expect = http_cookie(r, "ql_csrf");
    else return 0; /* an anonymous JSON request: nothing ambient to protect */
    const char *got = http_header(r, "X-CSRF-Token");
    if (!got) got = http_form(r, "_csrf");
    if (expect && got && auth_equal(got, expect)) return 0;
    return ql_errf(&r->err, QL_EFORBIDDEN, "_csrf",
                   "this form has expired or was not sent from this site; go back, reload the "
                   "page and try again",
                   "表单已过期或并非来自本站；请返回、刷新页面后重试");
}

static int dispatch(http_req *r, const char *uri)
{
    if (!r->method)
        return ql_errf(&r->err, QL_EMETHOD, "method", "this method is not supported",
                       "不支持该请求方法");
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

    rc = authenticate(r);
    if (rc) return rc;
    rc = authorize(r, uri);
    if (rc) return rc;

    struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
    size_t len = evbuffer_get_length(in);
    if (len > r->route->body_limit) {
        if (r->route->body_limit == 0)
            return ql_errf(&r->err, QL_ETOOBIG, "body", "this route takes no request body",
                           "此接口不接受请求体");
        return ql_errf(&r->err, QL_ETOOBIG, "body",
                       "the request body has %zu bytes; this route accepts at most %zu",
                       "请求体为 %zu 字节，此接口最多接受 %zu 字节", len, r->route->body_limit);
    }
    if (len) {
        r->body = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        r->body_len = len;
    }
    if ((r->route->flags & ROUTE_JSON) && len) {
        if (!is_json_type(http_header(r, "Content-Type")))
            return ql_errf(&r->err, QL_EMEDIA, "Content-Type",
                           "send the body as JSON with Content-Type: application/json",
                           "请求体须为 JSON，并设置 Content-Type: application/json");
        json_error_t jerr;
        r->json = json_loadb(r->body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!r->json)
            return ql_errf(&r->err, QL_EINVAL, "body",
                           "the body is not valid JSON: %s at line %d, column %d", 
                           "请求体不是有效的 JSON：%s（第 %d 行第 %d 列）", jerr.text, jerr.line,
                           jerr.column);
        if (!json_is_object(r->json))
            return ql_errf(&r->err, QL_EINVAL, "body", "the body must be a JSON object",
                           "请求体必须是 JSON 对象");
    }
    if ((r->route->flags & ROUTE_FORM) && r->method != HTTP_GET && r->method != HTTP_HEAD) {
        if (!is_form_type(http_header(r, "Content-Type")))
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

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct http_worker *w = arg;
    uint64_t t0 = now_ns();
    w->last_activity_ns = t0;

    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    if (evcon) {
        struct conn *c = conn_get(w, evcon);
        if (!c->busy) {
            c->busy = 1;
            w->busy++;
        }
        evhttp_request_set_on_complete_cb(ev, on_complete, c);
    }

    http_req r;
    memset(&r, 0, sizeof r);
    r.ev = ev;
    r.worker = w;
    r.arena = w->arena;
    r.db = w->db;
    r.route_index = -1;
    r.method = map_method(evhttp_request_get_command(ev));
    r.lang = negotiate_lang(&r);
    set_request_id(&r, w);
    const char *uri = evhttp_request_get_uri(ev);

    int rc = dispatch(&r, uri);
    if (rc < 0 && !r.replied) {
        if (ql_err_http_status(rc) >= 500)
            log_error("request %s %s failed: %s%s%s", r.request_id,
                      r.route ? r.route->pattern : "-", ql_err_name(rc),
                      r.err.en[0] ? ": " : "", r.err.en);
        http_reply_error(&r, rc);
    } else if (!r.replied) {
        log_error("request %s: handler for %s returned without a response", r.request_id,
                  r.route ? r.route->pattern : "-");
        ql_err_clear(&r.err);
        http_reply_error(&r, QL_EINTERNAL);
    }

    uint64_t dur = now_ns() - t0;
    metrics_record(w->metrics, r.route_index, r.status, dur);
    access_record(w, &r, uri, r.bytes_out, dur);
    json_decref(r.json);
    arena_reset(w->arena);
}

/* ---- worker lifecycle ------------------------------------------------- */

static void finish_drain(struct http_worker *w)
{
    if (w->drain_ev) event_del(w->drain_ev);
    if (w->http) {
        evhttp_free(w->http); /* closes the remaining (idle) connections */
        w->http = NULL;
    }
    event_del(w->flush_ev);
    access_flush(w);
    event_base_loopexit(w->base, NULL);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_worker *w = arg;
    uint64_t now = now_ns();
    if (atomic_load(&w->srv->stop_now) || now >= w->drain_deadline_ns ||
        (w->busy == 0 && now - w->last_activity_ns >= DRAIN_QUIET_NS))
        finish_drain(w);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct http_worker *w = arg;
    char b[16];
    while (read(fd, b, sizeof b) > 0) {}
    if (w->draining) {
        finish_drain(w); /* a second signal: stop now */
        return;
    }
    w->draining = 1;
    if (w->bound) {
        evhttp_del_accept_socket(w->http, w->bound); /* closes the listening socket */
        w->bound = NULL;
    }
    /* Requests being received when the signal came still get their quiet
     * period to arrive. */
    w->last_activity_ns = now_ns();
    w->drain_deadline_ns = w->last_activity_ns + (uint64_t)w->srv->cfg->drain_timeout * 1000000000ull;
    w->drain_ev = event_new(w->base, -1, EV_PERSIST, on_drain_tick, w);
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};
    event_add(w->drain_ev, &tick);
    on_drain_tick(-1, 0, w);
}

/* Wakes the worker's on_stop from another thread. */
static void ask_stop(struct http_worker *w)
{
    ssize_t k = write(w->stop_pipe[1], "s", 1);
    (void)k; /* a full pipe already holds a request to stop */
}

static void *worker_main(void *arg)
{
    struct http_worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

static int open_listener(const ql_addr *addr, int backlog, ql_addr *bound_out, ql_err *err)
{
    int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        goto fail;
    if (addr->sa.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    /* Accepted connections inherit TCP_NODELAY (Linux). Without it, a
     * response larger than about 16 KB (a list page of 50 talents, the API
     * description) is written in two parts and the second waits for the
     * client's delayed ACK: 40 ms a request. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) goto fail;
    if (bind(fd, (const struct sockaddr *)&addr->sa, addr->len) < 0) goto fail;
    if (listen(fd, backlog) < 0) goto fail;
    if (bound_out) {
        *bound_out = *addr;
        bound_out->len = sizeof bound_out->sa;
        getsockname(fd, (struct sockaddr *)&bound_out->sa, &bound_out->len);
    }
    return fd;
fail:;
    int e = errno;
    if (fd >= 0) close(fd);
    return ql_errf(err, QL_EIO, "server.listen", "cannot listen on %s: %s",
                   "无法在 %s 上监听：%s", addr->text, strerror(e));
}

static void addr_text(const ql_addr *a, char *out, size_t n)
{
    char host[64] = "?";
    int port = 0;
    if (a->sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        port = ntohs(s6->sin6_port);
        snprintf(out, n, "[%s]:%d", host, port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        port = ntohs(s4->sin_port);
        snprintf(out, n, "%s:%d", host, port);
    }
}

static int write_ready_file(const char *path, const char *text)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0) return -1;
    return rename(tmp, path);
}

static int worker_init(struct http_server *srv, struct http_worker *w, int fd, ql_err *err)
{
    const ql_config *cfg = srv->cfg;
    w->srv = srv;
    w->listen_fd = fd;
    buf_init(&w->access, 0);
    if (getrandom(&w->rid_prefix, sizeof w->rid_prefix, 0) != (ssize_t)sizeof w->rid_prefix)
        w->rid_prefix = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    w->arena = arena_new(16384);
    w->metrics = metrics_new(http_nroutes);
    store_opts so = {.busy_timeout_ms = cfg->store_busy_timeout, .retries = cfg->store_retries};
    int rc = store_open(cfg->store_url, &so, &w->db, err);
    if (rc) return rc;
    /* The changelist folds the disable/enable pairs evhttp makes around each
     * request into fewer epoll_ctl calls. */
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    w->base = event_base_new_with_config(ec);
    event_config_free(ec);
    w->http = evhttp_new(w->base);
    if (!w->base || !w->http)
        return ql_errf(err, QL_EINTERNAL, NULL, "cannot create the event loop",
                       "无法创建事件循环");
    evhttp_set_timeout(w->http, (int)cfg->timeout);
    evhttp_set_max_body_size(w->http, (ev_ssize_t)cfg->body_limit);
    evhttp_set_max_headers_size(w->http, (ev_ssize_t)cfg->header_limit);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
    /* Read and discard an oversized body before closing, so the client gets
     * the 413 instead of a reset. */
    evhttp_set_flags(w->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_gencb(w->http, on_request, w);
    w->bound = evhttp_accept_socket_with_handle(w->http, fd);
    if (!w->bound)
        return ql_errf(err, QL_EIO, "server.listen", "cannot accept on the listening socket",
                       "无法在监听套接字上接受连接");
    w->listen_fd = -1; /* owned by evhttp now */
    w->flush_ev = event_new(w->base, -1, EV_PERSIST, on_flush_timer, w);
    struct timeval flush = {0, ACCESS_FLUSH_MS * 1000};
    event_add(w->flush_ev, &flush);
    if (pipe2(w->stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return ql_errf(err, QL_EINTERNAL, NULL, "cannot create a pipe: %s", "无法创建管道：%s",
                       strerror(errno));
    w->stop_ev = event_new(w->base, w->stop_pipe[0], EV_READ | EV_PERSIST, on_stop, w);
    event_add(w->stop_ev, NULL);
    return 0;
}

static void worker_free(struct http_worker *w)
{
    if (w->http) evhttp_free(w->http);
    if (w->listen_fd >= 0) close(w->listen_fd);
    if (w->flush_ev) event_free(w->flush_ev);
    if (w->stop_ev) event_free(w->stop_ev);
    if (w->stop_pipe[0] >= 0) close(w->stop_pipe[0]);
    if (w->stop_pipe[1] >= 0) close(w->stop_pipe[1]);
    if (w->drain_ev) event_free(w->drain_ev);
    if (w->base) event_base_free(w->base);
    store_close(w->db);
    arena_free(w->arena);
    metrics_free(w->metrics);
    buf_free(&w->access);
}

/* Shared with handlers through the request: the server of the worker. */
const ql_config *http_config(const http_req *r)
{
    return r->worker->srv->cfg;
}

void http_metrics_text(const http_req *r, buf *out)
{
    struct http_server *srv = r->worker->srv;
    metrics_render(out, srv->metrics, srv->stores, srv->nworkers);
}

static long count_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

int http_serve(const ql_config *cfg, const char *ready_file)
{
    struct http_server srv = {.cfg = cfg, .access_fd = -1};
    ql_err err = {0};
    int rc = 0, started = 0;

    srv.nworkers = (size_t)(cfg->workers > 0 ? cfg->workers : count_cores());
    srv.workers = xcalloc(srv.nworkers, sizeof *srv.workers);
    srv.metrics = xcalloc(srv.nworkers, sizeof *srv.metrics);
    srv.stores = xcalloc(srv.nworkers, sizeof *srv.stores);
    for (size_t i = 0; i < srv.nworkers; i++) {
        srv.workers[i].id = (int)i;
        srv.workers[i].listen_fd = -1;
        srv.workers[i].stop_pipe[0] = srv.workers[i].stop_pipe[1] = -1;
    }

    if (strcmp(cfg->access_log, "off") == 0) srv.access_fd = -1;
    else if (strcmp(cfg->access_log, "-") == 0) srv.access_fd = STDERR_FILENO;
    else {
        srv.access_fd = open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (srv.access_fd < 0) {
            log_error("cannot open access log %s: %s", cfg->access_log, strerror(errno));
            rc = 1;
            goto out;
        }
    }

    /* Bind every listener first: the first one fixes the port when 0 was asked. */
    ql_addr where = cfg->listen;
    for (size_t i = 0; i < srv.nworkers; i++) {
        ql_addr bound;
        int fd = open_listener(&where, (int)cfg->backlog, &bound, &err);
        if (fd < 0) {
            log_error("%s", err.en);
            rc = 1;
            goto out;
        }
        if (i == 0) where = bound;
        if (worker_init(&srv, &srv.workers[i], fd, &err)) {
            log_error("%s", err.en);
            rc = 1;
            goto out;
        }
        srv.metrics[i] = srv.workers[i].metrics;
        srv.stores[i] = srv.workers[i].db;
    }

    /* Signals go to this thread only: block them before the workers start. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (size_t i = 0; i < srv.nworkers; i++) {
        if (pthread_create(&srv.workers[i].thread, NULL, worker_main, &srv.workers[i]) != 0) {
            log_error("cannot start worker thread %zu", i);
            rc = 1;
            break;
        }
        srv.workers[i].running = 1;
        started++;
    }

    char text[96];
    addr_text(&where, text, sizeof text);
    if (rc == 0) {
        log_info("listening on http://%s with %zu worker(s), store %s", text, srv.nworkers,
                 store_kind_name(srv.workers[0].db));
        if (ready_file && write_ready_file(ready_file, text) != 0)
            log_warn("cannot write ready file %s: %s", ready_file, strerror(errno));

        int sig = 0;
        sigwait(&sigs, &sig);
        log_info("received %s, draining (at most %lds)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                 cfg->drain_timeout);
    }
    for (int i = 0; i < started; i++) ask_stop(&srv.workers[i]);

    /* A second signal while draining stops at once. */
    for (;;) {
        int alive = 0;
        for (int i = 0; i < started; i++) {
            if (!srv.workers[i].running) continue;
            if (pthread_tryjoin_np(srv.workers[i].thread, NULL) == EBUSY) alive++;
            else srv.workers[i].running = 0;
        }
        if (!alive) break;
        struct timespec wait = {0, 50 * 1000000};
        siginfo_t info;
        if (sigtimedwait(&sigs, &info, &wait) > 0) {
            log_warn("second signal: stopping without waiting for requests in flight");
            atomic_store(&srv.stop_now, 1);
            for (int i = 0; i < started; i++)
                if (srv.workers[i].running) ask_stop(&srv.workers[i]);
        }
    }
    if (rc == 0) log_info("stopped");

out:
    for (size_t i = 0; i < srv.nworkers; i++) worker_free(&srv.workers[i]);
    if (srv.access_fd > STDERR_FILENO) close(srv.access_fd);
    free(srv.workers);
    free(srv.metrics);
    free(srv.stores);
    return rc;
}
