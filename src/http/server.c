/* server.c - the HTTP/1.1 server: worker threads, each with its own event
 * loop (libevent), listening socket (SO_REUSEPORT), store connection and
 * connections; the connections' reading, writing and deadlines; responses;
 * the pool for slow work; access log, metrics and graceful drain.
 *
 * A connection lives in one of these states:
 *
 *   HEAD    waiting for a request head, or reading one. A new connection,
 *           and one that has started a request, must deliver the whole head
 *           within server.head_timeout (not only stay active); a kept-alive
 *           connection may wait server.timeout for its next request.
 *   BODY    the head was checked (the route's body limit, the caller's
 *           credentials and permission, the memory the body will take) and
 *           the body is being read; at most server.timeout of silence, and
 *           an anonymous caller's body must arrive within head_timeout.
 *   HANDLE  the handler runs, or its slow part runs on the pool.
 *   WRITE   the response is being written; at most server.timeout of
 *           silence.
 *   LINGER  an error was answered before the body was read: what the client
 *           still sends is read and dropped for a moment, so that it sees
 *           the answer instead of a reset, then the connection is closed.
 *
 * Each state's connections sit in a list in the order their deadlines
 * fall (every list has a fixed duration, and a connection that moves goes
 * to the tail), so a tick every 100 ms expires them from the heads. The
 * number of connections is capped per process (server.max_connections,
 * never more than the file descriptors allow); at the cap a new connection
 * takes the place of the oldest one that is idle or still sending its
 * head, or of an anonymous body; if there is none, the new one is closed at
 * once. Nothing a client sends is kept beyond what its state needs: a head
 * at most server.header_limit, a body at most its route's limit and, all
 * bodies together, at most server.body_memory.
 */
#include "http/server.h"

#include "account/account.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "http/h1.h"
#include "http/metrics.h"
#include "http/pool.h"
#include "http/server_impl.h"
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ACCESS_FLUSH_BYTES 16384
#define ACCESS_FLUSH_MS    200
#define ACCESS_PATH_MAX    1024         /* bytes of path logged; a line stays under 4 KiB */
#define DRAIN_QUIET_NS     200000000ull /* 200 ms without a new request */
#define DRAIN_TICK_MS      20
#define TICK_MS            100
#define LINGER_NS          2000000000ull /* reading what a refused client still sends: 2 s */
#define LINGER_BYTES       (256u << 10)  /* ... and at most 256 KiB; then it is reset */
#define LINGER_SLICE       (64u << 10)   /* bytes dropped a turn, so others are served between */
#define READ_CHUNK         2047          /* a head's first read: 2 KiB with the NUL */
#define BODY_CHUNK         65536
#define ACCEPT_BATCH       64
#define ACCEPT_PAUSE_MS    100
#define ARENA_CACHE        8
#define POOL_QUEUE         64
#define BULK_QUEUE         16
#define FD_RESERVE         64    /* descriptors kept for the store, files and logs */
#define IN_KEEP            16384 /* an idle connection keeps an input buffer up to this size */

struct http_server;

enum conn_state { CS_HEAD, CS_BODY, CS_HANDLE, CS_WRITE, CS_LINGER };

/* The deadline lists. */
enum { L_NONE = -1, L_HEAD, L_IDLE, L_BODY, L_BODY_ANON, L_WRITE, L_LINGER, L_COUNT };

struct conn_list {
    struct http_conn *head, *tail;
    size_t n;
};

struct http_conn {
    struct http_conn *prev, *next; /* in w->lists[list] */
    int list;
    uint64_t since; /* when its deadline began */
    struct http_worker *w;
    int fd;
    struct event *rev, *wev;
    int reading, writing; /* rev / wev added */
    enum conn_state state;
    int dead;        /* closed; its memory is freed by whoever holds it last */
    int keep_alive;  /* another request may follow this one */
    int close_after; /* close once this response is written */
    char peer[48];

    buf in; /* bytes received and not consumed from in_pos on */
    size_t in_pos;
    size_t scan; /* h1_head_end's position */

    /* the request in progress */
    http_req *req;
    arena *arena;
    uint64_t t0;
    int chunked;
    struct h1_chunked ch;
    uint64_t body_left; /* Content-Length: bytes still to come */
    size_t reserved;    /* bytes of server.body_memory held for the body */
    uint64_t res_key;   /* whose share they count in (body_key) */
    buf body;
    uint64_t linger_left; /* bytes of an unread body to drop before closing */

    /* the response */
    buf out;
    size_t out_pos;
    buf resp_headers;
    int has_cache_control;
    int file_fd;
    off_t file_off;
    size_t file_left;
    const char *ref; /* a body that lives as long as the process (http_reply_static) */
    size_t ref_left;

    /* slow work on the pool */
    struct pool_job job;
    int job_pending;
    http_done_fn done;
    void *done_arg;
};

struct http_worker {
    int id;
    struct http_server *srv;
    pthread_t thread;
    int running; /* thread started and not yet joined */
    struct event_base *base;
    int listen_fd;
    struct event *accept_ev, *resume_ev;
    int accepting;
    store *db;
    http_metrics *metrics;
    buf access;
    struct event *flush_ev, *wake_ev, *tick_ev, *drain_ev;
    int wake_pipe[2];
    _Atomic int stops_asked;
    int stops_seen;
    struct conn_list lists[L_COUNT];
    size_t nconns, cap;
    int busy; /* connections in BODY, HANDLE or WRITE */
    int draining;
    uint64_t last_activity_ns;
    uint64_t drain_deadline_ns;
    uint32_t rid_prefix;
    uint64_t rid_seq;
    arena *arenas[ARENA_CACHE];
    int narenas;
    struct h1_head head; /* parsing scratch */
    char scratch[16384]; /* bytes read only to be dropped */
    pthread_mutex_t done_mu;
    struct pool_job *done_head, *done_tail;
    int pending_jobs;
    time_t date_sec;
    char date[40];
    _Atomic uint64_t n_open, n_evicted, n_refused, n_timeouts;
};

#define BODY_STEP (64u << 10) /* bodies are counted in steps of this */
#define KEY_SLOTS 1024        /* callers holding bodies at once */

struct key_slot {
    uint64_t key; /* 0: never used */
    size_t bytes;
};

struct http_server {
    const ql_config *cfg;
    size_t nworkers;
    struct http_worker *workers;
    http_metrics **metrics;
    store **stores;
    http_pool *pool; /* password hashing */
    http_pool *bulk; /* imports and exports */
    int access_fd;   /* -1 when the access log is off */
    _Atomic int stop_now;
    _Atomic size_t body_mem; /* bytes of bodies held, all workers */
    size_t body_mem_max;
    size_t body_key_max; /* of one caller */
    pthread_mutex_t keys_mu;
    struct key_slot keys[KEY_SLOTS];
    uint64_t head_ns, idle_ns;
    size_t max_connections;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void conn_process(struct http_conn *c);
static void conn_write(struct http_conn *c);
static void finish(struct http_conn *c, int rc);

/* ---- deadline lists --------------------------------------------------- */

static void list_remove(struct http_conn *c)
{
    if (c->list == L_NONE) return;
    struct conn_list *l = &c->w->lists[c->list];
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    l->n--;
    c->prev = c->next = NULL;
    c->list = L_NONE;
}

/* Puts c at the tail of list (its deadline begins now). */
static void list_put(struct http_conn *c, int list, uint64_t now)
{
    list_remove(c);
    struct conn_list *l = &c->w->lists[list];
    c->list = list;
    c->since = now;
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->n++;
}

static uint64_t list_duration(const struct http_worker *w, int list)
{
    const struct http_server *srv = w->srv;
    switch (list) {
    case L_HEAD:
    case L_BODY_ANON:
        return srv->head_ns;
    case L_LINGER:
        return LINGER_NS;
    default:
        return srv->idle_ns;
    }
}

static int state_busy(enum conn_state s)
{
    return s == CS_BODY || s == CS_HANDLE || s == CS_WRITE;
}

static void set_state(struct http_conn *c, enum conn_state s)
{
    c->w->busy += state_busy(s) - state_busy(c->state);
    c->state = s;
}

/* ---- events ------------------------------------------------------------ */

static void want_read(struct http_conn *c, int on)
{
    if (on == c->reading || c->dead) return;
    if (on)
        event_add(c->rev, NULL);
    else
        event_del(c->rev);
    c->reading = on;
}

static void want_write(struct http_conn *c, int on)
{
    if (on == c->writing || c->dead) return;
    if (on)
        event_add(c->wev, NULL);
    else
        event_del(c->wev);
    c->writing = on;
}

/* ---- the memory bodies take --------------------------------------------- *
 *
 * Counted as the bytes arrive (in steps of BODY_STEP), never from what a
 * head announces: a client that announces much and sends little holds
 * nothing. All bodies together take at most server.body_memory, and the
 * bodies of one caller (an account, or for an anonymous caller its
 * address) at most a quarter of that (or one largest body, if more), so
 * that no one caller can take it all. */

static int body_mem_take(struct http_server *srv, size_t n)
{
    size_t cur = atomic_load(&srv->body_mem);
    do {
        if (cur + n > srv->body_mem_max) return -1;
    } while (!atomic_compare_exchange_weak(&srv->body_mem, &cur, cur + n));
    return 0;
}

static void body_mem_give(struct http_server *srv, size_t n)
{
    atomic_fetch_sub(&srv->body_mem, n);
}

/* Adds delta (may be negative) to key's bytes if that stays within the
 * caller's share. Returns 0, or -1 (nothing changed). */
static int key_mem_add(struct http_server *srv, uint64_t key, long long delta)
{
    int rc = -1;
    pthread_mutex_lock(&srv->keys_mu);
    size_t home = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 54) % KEY_SLOTS, reuse = KEY_SLOTS;
    for (size_t k = 0; k < KEY_SLOTS; k++) {
        struct key_slot *e = &srv->keys[(home + k) % KEY_SLOTS];
        if (e->key == key || e->key == 0) {
            if (e->key == 0 && reuse < KEY_SLOTS) e = &srv->keys[reuse];
            if (e->key != key) {
                if (delta < 0) break; /* cannot happen: giving back what was never taken */
                e->key = key;
                e->bytes = 0;
            }
            if (delta > 0 && e->bytes + (size_t)delta > srv->body_key_max) break;
            e->bytes = delta < 0 ? e->bytes - (size_t)-delta : e->bytes + (size_t)delta;
            rc = 0;
            break;
        }
        if (e->bytes == 0 && reuse == KEY_SLOTS) reuse = (home + k) % KEY_SLOTS;
    }
    pthread_mutex_unlock(&srv->keys_mu);
    return rc;
}

/* Whose bodies a connection's body counts with: its account, or, for an
 * anonymous caller, its address. */
static uint64_t body_key(const http_req *r, const char *peer)
{
    if (r->who.via != VIA_NONE && r->who.user_id > 0) return (uint64_t)r->who.user_id | 1ull << 63;
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the address */
    for (const char *p = peer; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (h & ~(1ull << 63)) | 1;
}

/* ---- arenas ------------------------------------------------------------ */

static arena *arena_get(struct http_worker *w)
{
    if (w->narenas) return w->arenas[--w->narenas];
    return arena_new(16384);
}

static void arena_put(struct http_worker *w, arena *a)
{
    if (!a) return;
    if (w->narenas < ARENA_CACHE) {
        arena_reset(a);
        w->arenas[w->narenas++] = a;
    } else
        arena_free(a);
}

/* ---- access log -------------------------------------------------------- */

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

static void access_record(struct http_worker *w, const http_req *r, uint64_t dur_ns)
{
    if (w->srv->access_fd < 0) return;
    char ts[40];
    log_timestamp(ts, sizeof ts);
    buf *b = &w->access;
    buf_printf(b, "{\"ts\":\"%s\",\"rid\":\"", ts);
    buf_json_escape(b, r->request_id, strlen(r->request_id));
    if (r->client_request_id[0]) {
        /* a gateway's id, of a safe pattern, with no number in it kept */
        char crid[sizeof r->client_request_id];
        snprintf(crid, sizeof crid, "%s", r->client_request_id);
        req_mask_numbers(crid, strlen(crid));
        buf_puts(b, "\",\"crid\":\"");
        buf_json_escape(b, crid, strlen(crid));
    }
    buf_printf(b, "\",\"method\":\"%s\",\"path\":\"",
               r->method ? http_method_name(r->method) : "-");
    /* The path only, numbers that could be personal data masked (query
     * strings may carry it too: the console's search box). */
    req_log_path(b, r->uri ? r->uri : "-", ACCESS_PATH_MAX);
    buf_puts(b, "\",\"route\":\"");
    if (r->route) buf_puts(b, r->route->pattern);
    buf_printf(b, "\",\"status\":%d,\"bytes\":%zu,\"ms\":%.3f,\"peer\":\"", r->status, r->bytes_out,
               (double)dur_ns / 1e6);
    buf_json_escape(b, r->conn->peer, strlen(r->conn->peer));
    buf_printf(b, "\",\"worker\":%d}\n", w->id);
    if (w->access.len >= ACCESS_FLUSH_BYTES) access_flush(w);
}

/* ---- responses --------------------------------------------------------- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

/* "Date: Mon, 07 Dec 2026 20:34:09 GMT", made once a second. */
static const char *date_header(struct http_worker *w)
{
    time_t t = time(NULL);
    if (t != w->date_sec) {
        static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(w->date, sizeof w->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        w->date_sec = t;
    }
    return w->date;
}

/* A header line with CR, LF or NUL in it would split the response: such
 * bytes never leave the server. */
static void put_header_line(buf *b, const char *name, const char *value)
{
    buf_puts(b, name);
    buf_puts(b, ": ");
    for (const char *p = value; *p; p++) buf_putc(b, (*p == '\r' || *p == '\n') ? ' ' : *p);
    buf_puts(b, "\r\n");
}

void http_set_header(http_req *r, const char *name, const char *value)
{
    struct http_conn *c = r->conn;
    if (strcasecmp(name, "Cache-Control") == 0) c->has_cache_control = 1;
    put_header_line(&c->resp_headers, name, value);
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

const char *http_peer(http_req *r)
{
    return r->conn->peer;
}

/* The status line and headers of r's response into the connection's
 * output; body_len is the length of the body (sent or, for HEAD, not). */
static void reply_head(http_req *r, int status, const char *content_type, size_t body_len)
{
    struct http_conn *c = r->conn;
    struct http_worker *w = c->w;
    if (w->draining) c->close_after = 1;
    if (c->close_after) c->keep_alive = 0;
    buf *o = &c->out;
    buf_printf(o, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
    buf_puts(o, "Date: ");
    buf_puts(o, date_header(w));
    buf_puts(o, "\r\n");
    if (content_type) put_header_line(o, "Content-Type", content_type);
    put_header_line(o, "X-Request-Id", r->request_id);
    buf_puts(o, "X-Content-Type-Options: nosniff\r\n"
                "X-Frame-Options: DENY\r\n"
                "Referrer-Policy: no-referrer\r\n"
                "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
                "frame-ancestors 'none'; base-uri 'self'; form-action 'self'\r\n"
                "Cross-Origin-Opener-Policy: same-origin\r\n");
    if (!c->has_cache_control) buf_puts(o, "Cache-Control: no-store\r\n");
    buf_append(o, c->resp_headers.data, c->resp_headers.len);
    if (status >= 200 && status != 204 && status != 304)
        buf_printf(o, "Content-Length: %zu\r\n", body_len);
    if (!c->keep_alive)
        buf_puts(o, "Connection: close\r\n");
    else if (r->minor == 0)
        buf_puts(o, "Connection: keep-alive\r\n");
    buf_puts(o, "\r\n");
    r->status = status;
    r->replied = 1;
}

static int replied_twice(http_req *r)
{
    log_error("request %s: a second response for %s was refused", r->request_id,
              r->route ? r->route->pattern : "-");
    return 0;
}

int http_reply_bytes(http_req *r, int status, const char *content_type, const void *data,
                     size_t len)
{
    if (r->replied) return replied_twice(r);
    reply_head(r, status, content_type, len);
    if (r->method != HTTP_HEAD && len && status != 204 && status != 304) {
        buf_append(&r->conn->out, data, len);
        r->bytes_out = len;
    }
    return 0;
}

int http_reply_static(http_req *r, int status, const char *content_type, const void *data,
                      size_t len)
{
    if (r->replied) return replied_twice(r);
    reply_head(r, status, content_type, len);
    if (r->method != HTTP_HEAD && len && status != 204 && status != 304) {
        /* sent from where it is: a slow reader holds no copy of it */
        r->conn->ref = data;
        r->conn->ref_left = len;
        r->bytes_out = len;
    }
    return 0;
}

int http_reply_fd(http_req *r, int status, const char *content_type, int fd, size_t len)
{
    if (r->replied) {
        close(fd);
        return replied_twice(r);
    }
    reply_head(r, status, content_type, len);
    struct http_conn *c = r->conn;
    if (r->method == HTTP_HEAD || len == 0) {
        close(fd);
        return 0;
    }
    c->file_fd = fd;
    c->file_off = 0;
    c->file_left = len;
    r->bytes_out = len;
    return 0;
}

/* jansson hands the text over a few bytes at a time (a quote, a key, a
 * colon): gathered in a buf and added to the reply once. */
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
    buf text;
    buf_init(&text, 0);
    json_dump_callback(json, dump_to_buf, &text, JSON_COMPACT);
    buf_putc(&text, '\n');
    json_decref(json);
    int rc = http_reply_bytes(r, status, "application/json; charset=utf-8", text.data, text.len);
    buf_free(&text);
    return rc;
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
                                           r->lang == LANG_EN ? e->en : e->zh, "message_zh", e->zh,
                                           "message_en", e->en));
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

/* The uniform error body with any status and code name. */
static int reply_error_status(http_req *r, int status, const char *name, const char *en,
                              const char *zh, const char *field)
{
    if (wants_html(r)) return web_error_page(r, status, r->lang == LANG_EN ? en : zh);
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", name, "message",
                          r->lang == LANG_EN ? en : zh, "message_zh", zh, "message_en", en,
                          "request_id", r->request_id);
    json_object_set_new(e, "field", field && field[0] ? json_string(field) : json_null());
    json_t *body = json_pack("{s:o}", "error", e);
    if (r->errs && r->errs->n) json_object_set_new(body, "errors", http_errs_json(r, r->errs));
    return http_reply_json(r, status, body);
}

int http_reply_error(http_req *r, int code)
{
    int status = ql_err_http_status(code);
    const char *en = r->err.en[0] ? r->err.en : ql_err_default_en(code);
    const char *zh = r->err.zh[0] ? r->err.zh : ql_err_default_zh(code);
    if (code == QL_EUNAVAIL) http_set_header(r, "Retry-After", "1");
    return reply_error_status(r, status, ql_err_name(code), en, zh, r->err.field);
}

/* ---- slow work on the pool ------------------------------------------- */

static void wake(struct http_worker *w)
{
    ssize_t k = write(w->wake_pipe[1], "w", 1);
    (void)k; /* a full pipe already holds a wake-up */
}

/* On a pool thread: hands the finished job back to its worker. */
static void job_complete(struct pool_job *job)
{
    struct http_conn *c = job->owner;
    struct http_worker *w = c->w;
    pthread_mutex_lock(&w->done_mu);
    job->next = NULL;
    if (w->done_tail)
        w->done_tail->next = job;
    else
        w->done_head = job;
    w->done_tail = job;
    pthread_mutex_unlock(&w->done_mu);
    wake(w);
}

static int defer_on(http_pool *pool, http_req *r, http_work_fn work, http_done_fn done, void *arg)
{
    struct http_conn *c = r->conn;
    struct http_worker *w = c->w;
    c->job.work = work;
    c->job.arg = arg;
    c->job.complete = job_complete;
    c->job.owner = c;
    c->done = done;
    c->done_arg = arg;
    if (pool_submit(pool, &c->job) != 0)
        return ql_errf(&r->err, QL_EUNAVAIL, NULL, "the server is busy; try again in a moment",
                       "服务器繁忙，请稍后再试");
    c->job_pending = 1;
    w->pending_jobs++;
    return HTTP_DEFERRED;
}

int http_defer(http_req *r, http_work_fn work, http_done_fn done, void *arg)
{
    return defer_on(r->worker->srv->pool, r, work, done, arg);
}

int http_defer_bulk(http_req *r, http_work_fn work, http_done_fn done, void *arg)
{
    return defer_on(r->worker->srv->bulk, r, work, done, arg);
}

/* ---- connections ------------------------------------------------------- */

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

/* Drops what the request held: its arena, body, memory reservation and
 * response. */
static void request_release(struct http_conn *c)
{
    struct http_worker *w = c->w;
    if (c->req) json_decref(c->req->json);
    c->req = NULL;
    arena_put(w, c->arena);
    c->arena = NULL;
    buf_free(&c->body);
    if (c->reserved) {
        body_mem_give(w->srv, c->reserved);
        key_mem_add(w->srv, c->res_key, -(long long)c->reserved);
    }
    c->reserved = 0;
    c->chunked = 0;
    c->body_left = 0;
    buf_free(&c->out);
    c->out_pos = 0;
    buf_reset(&c->resp_headers);
    c->has_cache_control = 0;
    if (c->file_fd >= 0) close(c->file_fd);
    c->file_fd = -1;
    c->file_left = 0;
    c->ref = NULL;
    c->ref_left = 0;
}

/* Closes c: its socket, events and place in the lists. Its memory stays
 * until conn_free (a pool job may still hold its request). */
static void conn_close(struct http_conn *c)
{
    if (c->dead) return;
    struct http_worker *w = c->w;
    want_read(c, 0);
    want_write(c, 0);
    c->dead = 1;
    list_remove(c);
    set_state(c, CS_HEAD);
    close(c->fd);
    c->fd = -1;
    w->nconns--;
    atomic_fetch_sub_explicit(&w->n_open, 1, memory_order_relaxed);
}

static void conn_free(struct http_conn *c)
{
    if (c->job_pending) return; /* freed when the job comes back */
    request_release(c);
    buf_free(&c->in);
    buf_free(&c->resp_headers);
    event_free(c->rev);
    event_free(c->wev);
    free(c);
}

static void conn_new(struct http_worker *w, int fd, const struct sockaddr_storage *ss)
{
    struct http_conn *c = xcalloc(1, sizeof *c);
    c->w = w;
    c->fd = fd;
    c->list = L_NONE;
    c->file_fd = -1;
    c->state = CS_HEAD;
    c->keep_alive = 1;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, c->peer, sizeof c->peer);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, c->peer, sizeof c->peer);
    }
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    w->nconns++;
    atomic_fetch_add_explicit(&w->n_open, 1, memory_order_relaxed);
    list_put(c, L_HEAD, now_ns());
    want_read(c, 1);
}

/* Sends a short answer on a connection that is about to be closed (a
 * deadline passed, or there is no room for it): best effort, never waits. */
static void send_and_forget(int fd, const char *text)
{
    ssize_t k = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)k;
}

static const char timeout_reply[] =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\n"
    "Connection: close\r\nContent-Length: 104\r\n\r\n"
    "{\"error\":{\"code\":\"timeout\",\"message\":\"the request took too long to arrive\","
    "\"field\":null}}\n";

static const char full_reply[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
    "Retry-After: 1\r\nConnection: close\r\nContent-Length: 100\r\n\r\n"
    "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections; try again\","
    "\"field\":null}}\n";

/* Closes the oldest connection that can give way to a new one: idle, still
 * sending its head, sending an anonymous body, or, last, the signed-in
 * body that has gone longest without a byte (a body that keeps arriving is
 * always at the tail of its list). Returns 1 if one was closed. */
static int evict_one(struct http_worker *w)
{
    static const int order[] = {L_IDLE, L_HEAD, L_BODY_ANON, L_BODY};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        struct http_conn *v = w->lists[order[i]].head;
        if (!v) continue;
        if (order[i] == L_BODY || order[i] == L_BODY_ANON) send_and_forget(v->fd, full_reply);
        conn_close(v);
        conn_free(v);
        atomic_fetch_add_explicit(&w->n_evicted, 1, memory_order_relaxed);
        return 1;
    }
    return 0;
}

/* ---- writing ----------------------------------------------------------- */

/* What is left once the response has been written: the next request on
 * the same connection, or closing it. */
static void request_end(struct http_conn *c)
{
    request_release(c);
    if (c->close_after || !c->keep_alive) {
        if (c->linger_left > 0) {
            /* The client may still be sending a body nobody reads: let it
             * see the answer instead of a reset. */
            uint64_t have = c->in.len - c->in_pos;
            c->linger_left = have >= c->linger_left ? 0 : c->linger_left - have;
            if (c->linger_left > LINGER_BYTES) c->linger_left = LINGER_BYTES;
            buf_free(&c->in);
            c->in_pos = 0;
            if (c->linger_left > 0 && shutdown(c->fd, SHUT_WR) == 0) {
                set_state(c, CS_LINGER);
                list_put(c, L_LINGER, now_ns());
                want_read(c, 1);
                return;
            }
        }
        conn_close(c);
        return;
    }
    set_state(c, CS_HEAD);
    c->scan = 0;
    if (c->in_pos >= c->in.len) {
        c->in_pos = 0;
        if (c->in.cap > IN_KEEP)
            buf_free(&c->in);
        else
            buf_reset(&c->in);
        list_put(c, L_IDLE, now_ns());
    } else
        list_put(c, L_HEAD, now_ns());
    want_read(c, 1);
}

/* Writes what it can of the response; on the end of it, goes on to
 * request_end. */
static void conn_write(struct http_conn *c)
{
    int progress = 0;
    while (c->out_pos < c->out.len) {
        ssize_t k = send(c->fd, c->out.data + c->out_pos, c->out.len - c->out_pos, MSG_NOSIGNAL);
        if (k > 0) {
            c->out_pos += (size_t)k;
            progress = 1;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) goto again;
        conn_close(c);
        return;
    }
    while (c->ref_left > 0) {
        ssize_t k = send(c->fd, c->ref, c->ref_left, MSG_NOSIGNAL);
        if (k > 0) {
            c->ref += k;
            c->ref_left -= (size_t)k;
            progress = 1;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) goto again;
        conn_close(c);
        return;
    }
    while (c->file_left > 0) {
        ssize_t k = sendfile(c->fd, c->file_fd, &c->file_off, c->file_left);
        if (k > 0) {
            c->file_left -= (size_t)k;
            progress = 1;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) goto again;
        conn_close(c); /* an error, or the file shrank */
        return;
    }
    want_write(c, 0);
    request_end(c);
    return;
again:
    if (progress) list_put(c, L_WRITE, now_ns());
    want_write(c, 1);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_conn *c = arg;
    if (c->state == CS_WRITE) conn_write(c);
    if (!c->dead && c->state == CS_HEAD) conn_process(c);
    if (c->dead) conn_free(c);
}

/* ---- a request --------------------------------------------------------- */

/* The server names every request itself (the name goes into the audit
 * log, where a client must not choose it). A gateway's own id, when it
 * sends a well-formed one in X-Request-Id, is kept beside it for the access
 * log. */
static void set_client_request_id(http_req *r)
{
    const char *given = http_header(r, "X-Request-Id");
    if (given && req_valid_client_id(given))
        snprintf(r->client_request_id, sizeof r->client_request_id, "%s", given);
}

static http_req *request_new(struct http_conn *c)
{
    struct http_worker *w = c->w;
    c->arena = arena_get(w);
    http_req *r = arena_calloc(c->arena, 1, sizeof *r);
    r->conn = c;
    r->worker = w;
    r->arena = c->arena;
    r->db = w->db;
    r->route_index = -1;
    r->minor = 1;
    snprintf(r->request_id, sizeof r->request_id, "%08x%02x%06llx", w->rid_prefix, w->id & 0xff,
             (unsigned long long)++w->rid_seq);
    c->req = r;
    c->t0 = now_ns();
    w->last_activity_ns = c->t0;
    return r;
}

/* Answers r now, before or instead of reading its body, and closes the
 * connection afterwards when a body may be on its way (dropped, up to
 * linger bytes). */
static void answer_early(struct http_conn *c, int rc, uint64_t linger)
{
    if (linger) {
        c->close_after = 1;
        c->linger_left = linger;
    }
    finish(c, rc);
}

/* A head that does not parse: the status it deserves, and the connection
 * closes (what follows it cannot be trusted to start a request). */
static void answer_bad_head(struct http_conn *c, const struct h1_error *e)
{
    http_req *r = c->req;
    c->close_after = 1;
    static const struct {
        int status;
        const char *name;
    } names[] = {{400, "invalid"},
                 {417, "expectation_failed"},
                 {431, "headers_too_large"},
                 {501, "not_implemented"},
                 {505, "version_not_supported"}};
    const char *name = "invalid";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].status == e->status) name = names[i].name;
    reply_error_status(r, e->status, name, e->en, e->zh, "request");
    finish(c, 0);
}

/* The head has arrived: the checks that come before its body. */
static void head_complete(struct http_conn *c, size_t end)
{
    struct http_worker *w = c->w;
    const ql_config *cfg = w->srv->cfg;
    struct h1_head *h = &w->head;
    struct h1_error e;
    http_req *r = request_new(c);
    const char *raw = c->in.data + c->in_pos;
    int prc = h1_parse_head(raw, end, h, &e);
    c->in_pos += end;
    c->scan = 0;
    if (prc != H1_DONE) {
        r->uri = "-";
        answer_bad_head(c, &e);
        return;
    }
    r->minor = h->minor;
    r->method = http_map_method(h->method, h->method_len);
    r->uri = arena_strndup(r->arena, h->target, h->target_len);
    r->nheaders = h->nheaders;
    r->header_names = arena_alloc(r->arena, (size_t)(h->nheaders + 1) * sizeof(char *));
    r->header_values = arena_alloc(r->arena, (size_t)(h->nheaders + 1) * sizeof(char *));
    for (int i = 0; i < h->nheaders; i++) {
        r->header_names[i] = arena_strndup(r->arena, h->headers[i].name, h->headers[i].name_len);
        r->header_values[i] = arena_strndup(r->arena, h->headers[i].value, h->headers[i].value_len);
    }
    c->keep_alive = h->keep_alive;
    r->lang = req_lang(r);
    set_client_request_id(r);

    int chunked = h->chunked;
    uint64_t len = h->has_length ? h->content_length : 0;
    int has_body = chunked || len > 0;
    uint64_t linger = chunked ? (uint64_t)cfg->body_limit : len;

    int rc = req_route(r);
    if (rc || r->replied) return answer_early(c, rc, has_body ? linger : 0);
    if (len > (uint64_t)cfg->body_limit) {
        rc = ql_errf(&r->err, QL_ETOOBIG, "body",
                     "the request body has %llu bytes; the server accepts at most %ld",
                     "请求体为 %llu 字节，服务器最多接受 %ld 字节", (unsigned long long)len,
                     cfg->body_limit);
        return answer_early(c, rc, linger);
    }
    rc = req_admit(r, chunked, len);
    if (rc || r->replied) return answer_early(c, rc, has_body ? linger : 0);
    if (!has_body) {
        set_state(c, CS_HANDLE);
        return;
    }
    /* The memory the body takes is counted as it arrives (body_room). */
    c->reserved = 0;
    c->res_key = body_key(r, c->peer);
    c->chunked = chunked;
    c->body_left = len;
    memset(&c->ch, 0, sizeof c->ch);
    buf_init(&c->body, chunked ? r->route->body_limit : (size_t)len);
    if (!chunked) buf_presize(&c->body, (size_t)len); /* one allocation, filled as it comes */
    set_state(c, CS_BODY);
    list_put(c, r->who.via == VIA_NONE ? L_BODY_ANON : L_BODY, now_ns());
    if (h->expect_continue && c->in_pos >= c->in.len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        ssize_t k = send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k != (ssize_t)(sizeof cont - 1)) conn_close(c);
    }
}

/* Makes the body's count cover len bytes (taken in BODY_STEP steps, never
 * past the body's own limit). When all bodies together have no room left,
 * the oldest anonymous body of this worker gives way first. Returns 0, or
 * -1 when the request was answered 503 instead. */
static int body_room(struct http_conn *c, size_t len)
{
    if (len <= c->reserved) return 0;
    struct http_worker *w = c->w;
    struct http_server *srv = w->srv;
    size_t need = len - c->reserved, want = need < BODY_STEP ? BODY_STEP : need;
    if (c->body.limit && c->reserved + want > c->body.limit)
        want = c->body.limit > c->reserved + need ? c->body.limit - c->reserved : need;
    int mine = 0; /* this caller's own share is full */
    for (int tries = 0;; tries++) {
        if (body_mem_take(srv, want) == 0) {
            if (key_mem_add(srv, c->res_key, (long long)want) == 0) {
                c->reserved += want;
                return 0;
            }
            body_mem_give(srv, want);
            mine = 1;
            break;
        }
        struct http_conn *v = w->lists[L_BODY_ANON].head;
        if (tries >= 4 || !v || v == c) break;
        conn_close(v); /* not in its own callback: freed at once */
        conn_free(v);
        atomic_fetch_add_explicit(&w->n_evicted, 1, memory_order_relaxed);
    }
    int rc = mine ? ql_errf(&c->req->err, QL_EUNAVAIL, "body",
                            "you are sending too much at once; wait for your other uploads to "
                            "finish, then try again",
                            "您同时发送的数据过多，请等其他上传完成后再试")
                  : ql_errf(&c->req->err, QL_EUNAVAIL, "body",
                            "the server is receiving too much at once; try again in a moment",
                            "服务器正在接收的数据过多，请稍后再试");
    answer_early(c, rc, c->chunked ? (uint64_t)srv->cfg->body_limit : c->body_left);
    return -1;
}

/* Takes body bytes from the input buffer. Returns 1 when the body is
 * complete, 0 when more must arrive, -1 when the request was answered
 * (a malformed chunk, a body over the limit). */
static int body_consume(struct http_conn *c)
{
    struct http_worker *w = c->w;
    http_req *r = c->req;
    size_t avail = c->in.len - c->in_pos;
    if (!c->chunked) {
        size_t take = avail < c->body_left ? avail : (size_t)c->body_left;
        if (take) {
            if (body_room(c, c->body.len + take) != 0) return -1;
            buf_append(&c->body, c->in.data + c->in_pos, take);
            c->in_pos += take;
            c->body_left -= take;
        }
        return c->body_left == 0;
    }
    while (c->in_pos < c->in.len) {
        /* Never past the route's limit, whatever the buffer's capacity. */
        size_t left = c->body.limit - c->body.len;
        size_t room = c->body.cap > c->body.len + 1 ? c->body.cap - c->body.len - 1 : 0;
        if (room > left) room = left;
        if (room == 0 && left > 0) {
            size_t grow = left < BODY_CHUNK ? left : BODY_CHUNK;
            if (!buf_reserve(&c->body, grow)) conn_close(c); /* cannot happen: grow <= left */
            if (c->dead) return -1;
            room = grow;
        }
        if (room && body_room(c, c->body.len + room) != 0) return -1;
        size_t used = 0, got = 0;
        struct h1_error e;
        int rc = h1_chunked_feed(&c->ch, c->in.data + c->in_pos, c->in.len - c->in_pos,
                                 c->body.data ? c->body.data + c->body.len : NULL, room, &used,
                                 &got, &e);
        if (rc == H1_ERROR) {
            c->close_after = 1;
            reply_error_status(r, e.status, "invalid", e.en, e.zh, "body");
            finish(c, 0);
            return -1;
        }
        c->in_pos += used;
        if (got) buf_commit(&c->body, got);
        if (rc == H1_DONE) return 1;
        if (used == 0 && got == 0) {
            if (room > 0) break; /* cannot happen: data was there and room too */
            int rc2 = ql_errf(&r->err, QL_ETOOBIG, "body",
                              "the request body is larger than this route accepts (%zu bytes)",
                              "请求体超过此接口的上限（%zu 字节）", r->route->body_limit);
            answer_early(c, rc2, (uint64_t)w->srv->cfg->body_limit);
            return -1;
        }
    }
    return 0;
}

/* The body is in: the handler runs. */
static void dispatch(struct http_conn *c)
{
    http_req *r = c->req;
    set_state(c, CS_HANDLE);
    list_remove(c);
    want_read(c, 0);
    if (c->body.len) {
        r->body = c->body.data;
        r->body_len = c->body.len;
    }
    int rc = req_handle(r);
    if (rc == HTTP_DEFERRED) return;
    finish(c, rc);
}

/* The handler (or an early check) is done: the response goes out. */
static void finish(struct http_conn *c, int rc)
{
    struct http_worker *w = c->w;
    http_req *r = c->req;
    if (rc < 0 && !r->replied) {
        if (ql_err_http_status(rc) >= 500 && rc != QL_EUNAVAIL)
            log_error("request %s %s failed: %s%s%s", r->request_id,
                      r->route ? r->route->pattern : "-", ql_err_name(rc), r->err.en[0] ? ": " : "",
                      r->err.en);
        http_reply_error(r, rc);
    } else if (!r->replied) {
        log_error("request %s: handler for %s returned without a response", r->request_id,
                  r->route ? r->route->pattern : "-");
        ql_err_clear(&r->err);
        http_reply_error(r, QL_EINTERNAL);
    }
    uint64_t dur = now_ns() - c->t0;
    metrics_record(w->metrics, r->route_index, r->status, dur);
    access_record(w, r, dur);
    if (c->dead) return;
    set_state(c, CS_WRITE);
    list_put(c, L_WRITE, now_ns());
    want_read(c, 0);
    conn_write(c);
}

/* Works through what has been received: heads, bodies, and the requests
 * that follow on the same connection. */
static void conn_process(struct http_conn *c)
{
    struct http_worker *w = c->w;
    size_t limit = (size_t)w->srv->cfg->header_limit;
    while (!c->dead) {
        if (c->state == CS_HEAD) {
            size_t avail = c->in.len - c->in_pos;
            if (avail == 0) return;
            if (c->list == L_IDLE) list_put(c, L_HEAD, now_ns()); /* a new request begins */
            size_t end = h1_head_end(c->in.data + c->in_pos, avail, &c->scan);
            if (!end && avail < limit) return;
            if (!end || end > limit) {
                request_new(c)->uri = "-";
                struct h1_error e = {431, "the request line and headers are too large",
                                     "请求行和请求头过大"};
                answer_bad_head(c, &e);
                continue;
            }
            head_complete(c, end);
            if (!c->dead && c->state == CS_HANDLE) dispatch(c);
            continue;
        }
        if (c->state == CS_BODY) {
            int done = body_consume(c);
            if (done <= 0) return;
            dispatch(c);
            continue;
        }
        return;
    }
}

/* Reads what has arrived. Returns 1 if bytes were read, 0 at the end of
 * the stream or on an error (the connection is closed then), -1 when
 * nothing is there yet. */
static int conn_recv(struct http_conn *c)
{
    char *dst;
    size_t room;
    int direct = c->state == CS_BODY && !c->chunked && c->in_pos >= c->in.len;
    if (direct) {
        /* A body of known length goes straight where it belongs. */
        room = c->body_left < BODY_CHUNK ? (size_t)c->body_left : BODY_CHUNK;
        if (body_room(c, c->body.len + room) != 0) return 0; /* answered: 503 */
        dst = buf_reserve(&c->body, room);
    } else {
        if (c->in_pos >= c->in.len) {
            c->in_pos = 0;
            buf_reset(&c->in);
        } else if (c->in_pos > c->in.len / 2) {
            /* move the unconsumed tail to the front */
            size_t left = c->in.len - c->in_pos;
            memmove(c->in.data, c->in.data + c->in_pos, left);
            c->in.len = left;
            c->in.data[left] = '\0';
            c->in_pos = 0;
        }
        room = c->state == CS_BODY ? BODY_CHUNK : READ_CHUNK;
        dst = buf_reserve(&c->in, room);
    }
    if (!dst) {
        conn_close(c);
        return 0;
    }
    ssize_t k;
    do k = recv(c->fd, dst, room, 0);
    while (k < 0 && errno == EINTR);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
    if (k <= 0) {
        conn_close(c);
        return 0;
    }
    if (direct) {
        buf_commit(&c->body, (size_t)k);
        c->body_left -= (uint64_t)k;
    } else
        buf_commit(&c->in, (size_t)k);
    if (c->state == CS_BODY && c->list == L_BODY) list_put(c, L_BODY, now_ns());
    return 1;
}

/* Drops what a refused client still sends, a slice at a time. What it has
 * sent by the time the answer reached it is read; a body that keeps coming
 * past LINGER_BYTES (or LINGER_NS, the list's deadline) is cut off with a
 * reset: the answer went out long before. */
static void linger_read(struct http_conn *c)
{
    size_t slice = 0;
    while (slice < LINGER_SLICE) {
        ssize_t k = recv(c->fd, c->w->scratch, sizeof c->w->scratch, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (k <= 0 || (uint64_t)k >= c->linger_left) {
            conn_close(c);
            return;
        }
        c->linger_left -= (uint64_t)k;
        slice += (size_t)k;
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_conn *c = arg;
    if (c->state == CS_LINGER)
        linger_read(c);
    else if (c->state == CS_HEAD || c->state == CS_BODY) {
        if (conn_recv(c) > 0) conn_process(c);
    }
    if (c->dead) conn_free(c);
}

/* ---- the finished slow work ---------------------------------------- */

static void run_completions(struct http_worker *w)
{
    pthread_mutex_lock(&w->done_mu);
    struct pool_job *job = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->done_mu);
    while (job) {
        struct pool_job *next = job->next;
        struct http_conn *c = job->owner;
        c->job_pending = 0;
        w->pending_jobs--;
        if (!c->dead) {
            int rc = c->done(c->req, c->done_arg, job->rc);
            if (rc != HTTP_DEFERRED) {
                finish(c, rc);
                if (!c->dead && c->state == CS_HEAD) conn_process(c);
            }
        }
        if (c->dead) conn_free(c);
        job = next;
    }
}

/* ---- accepting --------------------------------------------------------- */

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_worker *w = arg;
    if (!w->draining && !w->accepting && w->accept_ev) {
        event_add(w->accept_ev, NULL);
        w->accepting = 1;
    }
}

static void pause_accepting(struct http_worker *w)
{
    if (!w->accepting) return;
    event_del(w->accept_ev);
    w->accepting = 0;
    struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};
    event_add(w->resume_ev, &tv);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct http_worker *w = arg;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors (or memory): make room by closing an
                 * idle or slow connection, else stop accepting a moment
                 * instead of spinning on a listener that stays readable. */
                log_warn("cannot accept a connection (%s); %zu open on worker %d", strerror(errno),
                         w->nconns, w->id);
                if (evict_one(w)) continue;
                pause_accepting(w);
                return;
            }
            log_warn("cannot accept a connection: %s", strerror(errno));
            return;
        }
        if (w->nconns >= w->cap && !evict_one(w)) {
            send_and_forget(fd, full_reply);
            close(fd);
            atomic_fetch_add_explicit(&w->n_refused, 1, memory_order_relaxed);
            log_warn("connection refused: %zu connections open on worker %d (the cap), none "
                     "idle or slow",
                     w->nconns, w->id);
            continue;
        }
        conn_new(w, fd, &ss);
    }
}

/* ---- deadlines ----------------------------------------------------------- */

static void expire(struct http_conn *c)
{
    struct http_worker *w = c->w;
    int list = c->list;
    /* A client in the middle of a request hears why it is cut off. */
    if ((list == L_HEAD && c->in.len > c->in_pos) || list == L_BODY || list == L_BODY_ANON)
        send_and_forget(c->fd, timeout_reply);
    if (list == L_HEAD || list == L_BODY || list == L_BODY_ANON)
        atomic_fetch_add_explicit(&w->n_timeouts, 1, memory_order_relaxed);
    conn_close(c);
    conn_free(c);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_worker *w = arg;
    uint64_t now = now_ns();
    for (int l = 0; l < L_COUNT; l++) {
        uint64_t d = list_duration(w, l);
        struct http_conn *c;
        while ((c = w->lists[l].head) && c->since + d <= now) expire(c);
    }
}

/* ---- worker lifecycle ------------------------------------------------- */

static void close_all(struct http_worker *w)
{
    for (int l = 0; l < L_COUNT; l++) {
        struct http_conn *c;
        while ((c = w->lists[l].head)) {
            conn_close(c);
            conn_free(c);
        }
    }
}

static void finish_drain(struct http_worker *w)
{
    if (w->drain_ev) event_del(w->drain_ev);
    close_all(w);
    event_del(w->flush_ev);
    event_del(w->tick_ev);
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
        (w->busy == 0 && w->pending_jobs == 0 && now - w->last_activity_ns >= DRAIN_QUIET_NS))
        finish_drain(w);
}

static void stop_asked(struct http_worker *w)
{
    if (w->draining) {
        finish_drain(w); /* a second signal: stop now */
        return;
    }
    w->draining = 1;
    if (w->accept_ev) event_del(w->accept_ev);
    event_del(w->resume_ev);
    w->accepting = 0;
    if (w->listen_fd >= 0) close(w->listen_fd);
    w->listen_fd = -1;
    /* Requests being received when the signal came still get their quiet
     * period to arrive. */
    w->last_activity_ns = now_ns();
    w->drain_deadline_ns =
        w->last_activity_ns + (uint64_t)w->srv->cfg->drain_timeout * 1000000000ull;
    w->drain_ev = event_new(w->base, -1, EV_PERSIST, on_drain_tick, w);
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};
    event_add(w->drain_ev, &tick);
    on_drain_tick(-1, 0, w);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct http_worker *w = arg;
    char b[64];
    while (read(fd, b, sizeof b) > 0) {
    }
    run_completions(w);
    int asked = atomic_load(&w->stops_asked);
    while (w->stops_seen < asked) {
        w->stops_seen++;
        stop_asked(w);
    }
}

/* Wakes the worker from another thread to stop. */
static void ask_stop(struct http_worker *w)
{
    atomic_fetch_add(&w->stops_asked, 1);
    wake(w);
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
    return ql_errf(err, QL_EIO, "server.listen", "cannot listen on %s: %s", "无法在 %s 上监听：%s",
                   addr->text, strerror(e));
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
    w->metrics = metrics_new(http_nroutes);
    w->cap = srv->max_connections / srv->nworkers;
    if (w->cap < 1) w->cap = 1;
    store_opts so = {.busy_timeout_ms = cfg->store_busy_timeout, .retries = cfg->store_retries};
    int rc = store_open(cfg->store_url, &so, &w->db, err);
    if (rc) return rc;
    /* The changelist folds the disable/enable pairs around each request
     * into fewer epoll_ctl calls. */
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    w->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (!w->base)
        return ql_errf(err, QL_EINTERNAL, NULL, "cannot create the event loop", "无法创建事件循环");
    if (pipe2(w->wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return ql_errf(err, QL_EINTERNAL, NULL, "cannot create a pipe: %s", "无法创建管道：%s",
                       strerror(errno));
    w->accept_ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_accept, w);
    w->resume_ev = event_new(w->base, -1, 0, on_resume, w);
    w->flush_ev = event_new(w->base, -1, EV_PERSIST, on_flush_timer, w);
    w->tick_ev = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    w->wake_ev = event_new(w->base, w->wake_pipe[0], EV_READ | EV_PERSIST, on_wake, w);
    event_add(w->accept_ev, NULL);
    w->accepting = 1;
    struct timeval flush = {0, ACCESS_FLUSH_MS * 1000}, tick = {0, TICK_MS * 1000};
    event_add(w->flush_ev, &flush);
    event_add(w->tick_ev, &tick);
    event_add(w->wake_ev, NULL);
    return 0;
}

/* After the pool has stopped: nothing can come back any more. */
static void worker_free(struct http_worker *w)
{
    if (w->base) close_all(w);
    struct pool_job *job = w->done_head;
    w->done_head = w->done_tail = NULL;
    while (job) {
        struct pool_job *next = job->next;
        struct http_conn *c = job->owner;
        c->job_pending = 0;
        conn_close(c);
        conn_free(c);
        job = next;
    }
    if (w->listen_fd >= 0) close(w->listen_fd);
    if (w->accept_ev) event_free(w->accept_ev);
    if (w->resume_ev) event_free(w->resume_ev);
    if (w->flush_ev) event_free(w->flush_ev);
    if (w->tick_ev) event_free(w->tick_ev);
    if (w->wake_ev) event_free(w->wake_ev);
    if (w->drain_ev) event_free(w->drain_ev);
    if (w->wake_pipe[0] >= 0) close(w->wake_pipe[0]);
    if (w->wake_pipe[1] >= 0) close(w->wake_pipe[1]);
    for (int i = 0; i < w->narenas; i++) arena_free(w->arenas[i]);
    if (w->base) event_base_free(w->base);
    store_close(w->db);
    metrics_free(w->metrics);
    buf_free(&w->access);
    pthread_mutex_destroy(&w->done_mu);
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
    uint64_t open = 0, evicted = 0, refused = 0, timeouts = 0;
    for (size_t i = 0; i < srv->nworkers; i++) {
        struct http_worker *w = &srv->workers[i];
        open += atomic_load_explicit(&w->n_open, memory_order_relaxed);
        evicted += atomic_load_explicit(&w->n_evicted, memory_order_relaxed);
        refused += atomic_load_explicit(&w->n_refused, memory_order_relaxed);
        timeouts += atomic_load_explicit(&w->n_timeouts, memory_order_relaxed);
    }
    buf_printf(out,
               "# HELP qianlima_http_connections Open client connections.\n"
               "# TYPE qianlima_http_connections gauge\nqianlima_http_connections %llu\n"
               "# HELP qianlima_http_connections_max The cap on open connections.\n"
               "# TYPE qianlima_http_connections_max gauge\nqianlima_http_connections_max %zu\n"
               "# HELP qianlima_http_connections_evicted_total Idle or slow connections closed "
               "to make room for new ones.\n"
               "# TYPE qianlima_http_connections_evicted_total counter\n"
               "qianlima_http_connections_evicted_total %llu\n"
               "# HELP qianlima_http_connections_refused_total Connections closed at once, "
               "at the cap with none to make room.\n"
               "# TYPE qianlima_http_connections_refused_total counter\n"
               "qianlima_http_connections_refused_total %llu\n"
               "# HELP qianlima_http_request_timeouts_total Heads or bodies that did not "
               "arrive in time.\n"
               "# TYPE qianlima_http_request_timeouts_total counter\n"
               "qianlima_http_request_timeouts_total %llu\n"
               "# HELP qianlima_http_body_bytes Bytes of request bodies held in memory.\n"
               "# TYPE qianlima_http_body_bytes gauge\nqianlima_http_body_bytes %zu\n"
               "# HELP qianlima_pool_threads Threads for slow work (password hashing).\n"
               "# TYPE qianlima_pool_threads gauge\nqianlima_pool_threads %d\n"
               "# HELP qianlima_pool_waiting Slow jobs waiting for a thread.\n"
               "# TYPE qianlima_pool_waiting gauge\nqianlima_pool_waiting %zu\n"
               "# HELP qianlima_pool_refused_total Slow jobs refused, the queue being full.\n"
               "# TYPE qianlima_pool_refused_total counter\nqianlima_pool_refused_total %lu\n"
               "# HELP qianlima_bulk_threads Threads for imports and exports.\n"
               "# TYPE qianlima_bulk_threads gauge\nqianlima_bulk_threads %d\n"
               "# HELP qianlima_bulk_waiting Imports and exports waiting for a thread.\n"
               "# TYPE qianlima_bulk_waiting gauge\nqianlima_bulk_waiting %zu\n"
               "# HELP qianlima_bulk_refused_total Imports and exports refused, the queue being "
               "full.\n"
               "# TYPE qianlima_bulk_refused_total counter\nqianlima_bulk_refused_total %lu\n",
               (unsigned long long)open, srv->max_connections, (unsigned long long)evicted,
               (unsigned long long)refused, (unsigned long long)timeouts,
               atomic_load(&srv->body_mem), pool_threads(srv->pool), pool_waiting(srv->pool),
               pool_refused(srv->pool), pool_threads(srv->bulk), pool_waiting(srv->bulk),
               pool_refused(srv->bulk));
}

static long count_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* Raises the soft limit on open files to the hard one and returns the
 * connections it leaves room for. */
static size_t fd_room(size_t nworkers, int pool_threads)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl = up;
    }
    size_t used = FD_RESERVE + 8 * nworkers + 4 * (size_t)pool_threads;
    return rl.rlim_cur > used ? (size_t)rl.rlim_cur - used : 1;
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
        srv.workers[i].wake_pipe[0] = srv.workers[i].wake_pipe[1] = -1;
        pthread_mutex_init(&srv.workers[i].done_mu, NULL);
    }
    int pool_n = (int)(cfg->pool_threads > 0 ? cfg->pool_threads : (count_cores() + 1) / 2);
    int bulk_n = (int)(cfg->bulk_threads > 0 ? cfg->bulk_threads : 1);
    long head = cfg->head_timeout < cfg->timeout ? cfg->head_timeout : cfg->timeout;
    srv.head_ns = (uint64_t)head * 1000000000ull;
    srv.idle_ns = (uint64_t)cfg->timeout * 1000000000ull;
    srv.body_mem_max =
        (size_t)(cfg->body_memory > cfg->body_limit ? cfg->body_memory : cfg->body_limit);
    /* one caller's bodies: a quarter of all, or one largest body if more */
    srv.body_key_max = srv.body_mem_max / 4 > (size_t)cfg->body_limit ? srv.body_mem_max / 4
                                                                      : (size_t)cfg->body_limit;
    if (srv.body_key_max > srv.body_mem_max) srv.body_key_max = srv.body_mem_max;
    pthread_mutex_init(&srv.keys_mu, NULL);
    size_t room = fd_room(srv.nworkers, pool_n + bulk_n);
    srv.max_connections = (size_t)cfg->max_connections;
    if (srv.max_connections > room) {
        log_warn("server.max_connections %zu is more than the open-file limit leaves room for; "
                 "serving at most %zu connections",
                 srv.max_connections, room);
        srv.max_connections = room;
    }

    if (strcmp(cfg->access_log, "off") == 0)
        srv.access_fd = -1;
    else if (strcmp(cfg->access_log, "-") == 0)
        srv.access_fd = STDERR_FILENO;
    else {
        srv.access_fd = open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (srv.access_fd < 0) {
            log_error("cannot open access log %s: %s", cfg->access_log, strerror(errno));
            rc = 1;
            goto out;
        }
    }

    if (pool_start(cfg, pool_n, POOL_QUEUE, &srv.pool, &err) != 0 ||
        pool_start(cfg, bulk_n, BULK_QUEUE, &srv.bulk, &err) != 0) {
        log_error("%s", err.en);
        rc = 1;
        goto out;
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
        log_info("listening on http://%s with %zu worker(s), %d thread(s) for password hashing "
                 "and %d for imports and exports, at most %zu connections, store %s",
                 text, srv.nworkers, pool_n, bulk_n, srv.max_connections,
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
            if (pthread_tryjoin_np(srv.workers[i].thread, NULL) == EBUSY)
                alive++;
            else
                srv.workers[i].running = 0;
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
    pool_stop(srv.pool);
    pool_stop(srv.bulk);
    for (size_t i = 0; i < srv.nworkers; i++) worker_free(&srv.workers[i]);
    if (srv.access_fd > STDERR_FILENO) close(srv.access_fd);
    free(srv.workers);
    free(srv.metrics);
    free(srv.stores);
    pthread_mutex_destroy(&srv.keys_mu);
    return rc;
}
