/* test_hostile.c - the server under clients that do not play by the rules:
 * requests that could be read two ways (RFC 9112 §6.3), bodies refused
 * before they are read, heads sent too slowly, more connections than the
 * server keeps, a process out of file descriptors, and personal data in
 * request paths. Each test starts its own server with the limits it needs. */
#include "testutil.h"
#include "core/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void send_text(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        s += k;
        n -= (size_t)k;
    }
}

/* Reads everything until the server closes (or timeout_ms of silence);
 * returns a malloc'd NUL-terminated string and its length in *n. */
static char *read_until_close(int fd, int timeout_ms, size_t *n, int *closed)
{
    size_t cap = 65536, len = 0;
    char *b = xmalloc(cap);
    *closed = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, timeout_ms) == 1) {
        if (len + 4096 > cap) b = xrealloc(b, cap *= 2);
        ssize_t k = recv(fd, b + len, cap - len - 1, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            *closed = 1;
            break;
        }
        len += (size_t)k;
    }
    b[len] = '\0';
    *n = len;
    return b;
}

static int count_responses(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, "HTTP/1.1 ")); p++) n++;
    return n;
}

/* Sends text on a new connection and reads until the server closes. */
static char *exchange(int port, const char *text, int *closed)
{
    int fd = tu_connect(port);
    send_text(fd, text);
    size_t n;
    char *got = read_until_close(fd, 5000, &n, closed);
    close(fd);
    return got;
}

static void expect_healthy(int port)
{
    struct tu_resp r;
    tu_request(port, "GET", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
}

/* ---- one request is one request --------------------------------------- */

static void test_ambiguous_lengths_are_refused(void **state)
{
    (void)state;
    struct tu_server s;
    tu_server_start(&s, NULL);
    /* Each of these could be read as one request or as two: the answer is
     * one 400, and the connection closes before anything after it is read. */
    static const char *const smuggle[] = {
        "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"
        "helloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 39\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Length: 3\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        "0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length:  5, 5\r\n\r\nhelloGET /healthz "
        "HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n Content-Length: 5\r\n\r\nhello",
    };
    for (size_t i = 0; i < sizeof smuggle / sizeof smuggle[0]; i++) {
        int closed;
        char *got = exchange(s.port, smuggle[i], &closed);
        if (strncmp(got, "HTTP/1.1 400", 12) != 0) fail_msg("request %zu answered: %.80s", i, got);
        if (count_responses(got) != 1)
            fail_msg("request %zu got %d responses", i, count_responses(got));
        assert_true(closed);
        assert_non_null(strstr(got, "Connection: close"));
        free(got);
    }
    /* A transfer coding the server does not decode; a version it does not speak. */
    int closed;
    char *got = exchange(
        s.port, "POST /signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        &closed);
    assert_int_equal(strncmp(got, "HTTP/1.1 501", 12), 0);
    free(got);
    got = exchange(s.port, "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", &closed);
    assert_int_equal(strncmp(got, "HTTP/1.1 505", 12), 0);
    free(got);
    got = exchange(s.port, "GET /healthz HTTP/1.1\r\n\r\n", &closed); /* no Host */
    assert_int_equal(strncmp(got, "HTTP/1.1 400", 12), 0);
    free(got);
    expect_healthy(s.port);
    assert_int_equal(tu_server_stop(&s), 0);
}

static void test_pipelined_and_chunked(void **state)
{
    (void)state;
    struct tu_server s;
    tu_server_start(&s, NULL);
    tu_add_user(&s, "gateway", "admin", NULL, "Wide-Harbor-Lights-26");
    char *tok = tu_token(&s, "gateway", "service.validate");
    char req[2048];
    /* Three requests in one write, the middle one chunked: three answers,
     * in order, on one connection. */
    snprintf(req, sizeof req,
             "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
             "10\r\n{\"type\":\"mobile\"\r\n17;x=y\r\n,\"value\":\"13800138000\"}\r\n0\r\n\r\n"
             "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             tok);
    int closed;
    char *got = exchange(s.port, req, &closed);
    assert_int_equal(count_responses(got), 3);
    char *second = strstr(got + 1, "HTTP/1.1 ");
    assert_int_equal(strncmp(second, "HTTP/1.1 200", 12), 0);
    assert_non_null(strstr(second, "\"valid\":true"));
    free(got);

    /* A chunked body over the route's limit (4 KiB) is refused as it comes. */
    {
        size_t cap = 64 * 1024, n = 0;
        char *big = malloc(cap);
        n += (size_t)snprintf(big, cap,
                              "POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: "
                              "Bearer %s\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n",
                              tok);
        for (int i = 0; i < 10; i++) {
            n += (size_t)snprintf(big + n, cap - n, "400\r\n");
            memset(big + n, ' ', 1024);
            n += 1024;
            n += (size_t)snprintf(big + n, cap - n, "\r\n");
        }
        big[n] = '\0';
        got = exchange(s.port, big, &closed);
        if (strncmp(got, "HTTP/1.1 413", 12) != 0) fail_msg("chunked over the limit: %.300s", got);
        free(got);
        free(big);
    }
    /* A malformed chunk. */
    snprintf(req, sizeof req,
             "POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
             tok);
    got = exchange(s.port, req, &closed);
    assert_int_equal(strncmp(got, "HTTP/1.1 400", 12), 0);
    free(got);
    /* HTTP/1.0 keeps the connection only when asked to. */
    got = exchange(s.port, "GET /healthz HTTP/1.0\r\n\r\n", &closed);
    assert_int_equal(strncmp(got, "HTTP/1.1 200", 12), 0);
    assert_true(closed);
    free(got);
    free(tok);
    assert_int_equal(tu_server_stop(&s), 0);
}

/* ---- bodies are judged before they are read ------------------------- */

/* Sends only a head announcing len bytes and waits for the answer,
 * without sending any of the body. */
static char *head_only(int port, const char *head, int *closed)
{
    int fd = tu_connect(port);
    send_text(fd, head);
    size_t n;
    char *got = read_until_close(fd, 3000, &n, closed);
    close(fd);
    return got;
}

static void test_body_refused_before_reading(void **state)
{
    (void)state;
    struct tu_server s;
    tu_server_start(&s, NULL);
    tu_add_user(&s, "gateway", "admin", NULL, "Wide-Harbor-Lights-26");
    char *tok = tu_token(&s, "gateway", "registry.write registry.read");
    int closed;
    /* 16 MB announced to the sign-in form (16 KiB): 413 at once. */
    char *got = head_only(s.port,
                          "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          "application/x-www-form-urlencoded\r\nContent-Length: 16777216\r\n\r\n",
                          &closed);
    assert_int_equal(strncmp(got, "HTTP/1.1 413", 12), 0);
    assert_non_null(strstr(got, "Connection: close"));
    free(got);
    /* More than the server takes at all. */
    got = head_only(
        s.port, "PUT /api/v1/talents/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n",
        &closed);
    assert_int_equal(strncmp(got, "HTTP/1.1 413", 12), 0);
    free(got);
    /* A route for signed-in callers only: 401 before the body, not after. */
    got = head_only(s.port,
                    "POST /api/v1/imports/talents HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                    "Content-Length: 1000000\r\n\r\n",
                    &closed);
    if (strncmp(got, "HTTP/1.1 401", 12) != 0)
        fail_msg("an anonymous upload was answered: %.60s", got);
    free(got);
    got =
        head_only(s.port,
                  "PUT /api/v1/talents/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: 2000\r\n\r\n",
                  &closed);
    assert_int_equal(strncmp(got, "HTTP/1.1 401", 12), 0);
    free(got);
    /* Expect: 100-continue: an accepted head hears "go on" before it sends. */
    char req[1024];
    snprintf(req, sizeof req,
             "PUT /api/v1/talents/999999 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
             tok);
    int fd = tu_connect(s.port);
    send_text(fd, req);
    char b[256];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 3000), 1);
    ssize_t k = recv(fd, b, sizeof b - 1, 0);
    assert_true(k > 0);
    b[k] = '\0';
    assert_int_equal(strncmp(b, "HTTP/1.1 100 Continue\r\n\r\n", 25), 0);
    send_text(fd, "{}");
    size_t n;
    got = read_until_close(fd, 2000, &n, &closed);
    if (strncmp(got, "HTTP/1.1 4", 10) != 0) fail_msg("after 100 Continue: %.60s", got);
    free(got);
    close(fd);
    free(tok);
    expect_healthy(s.port);
    assert_int_equal(tu_server_stop(&s), 0);
}

/* ---- slow and many clients ------------------------------------------- */

static void test_head_deadline(void **state)
{
    (void)state;
    struct tu_server s;
    const char *args[] = {"--head-timeout", "1", "--timeout", "20", NULL};
    tu_server_start(&s, args);
    /* A client that keeps the connection busy with a header line every
     * 200 ms never finishes its head: it is cut off after the head deadline
     * (1 s), not kept for the 20 s of silence the connection would be
     * allowed. */
    int fd = tu_connect(s.port);
    send_text(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int cut = 0;
    for (int i = 0; i < 40 && !cut; i++) {
        sleep_ms(200);
        char line[40];
        snprintf(line, sizeof line, "X-Slow-%d: a\r\n", i);
        if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) cut = 1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1) cut = 1;
    }
    assert_true(cut);
    assert_true(elapsed_ms(&t0) < 5000);
    size_t n;
    int closed;
    char *got = read_until_close(fd, 2000, &n, &closed);
    /* It hears why (408), or the connection is simply gone. */
    assert_true(n == 0 || strncmp(got, "HTTP/1.1 408", 12) == 0);
    free(got);
    close(fd);
    /* A connection that sends nothing at all is closed as well. */
    fd = tu_connect(s.port);
    got = read_until_close(fd, 4000, &n, &closed);
    assert_true(closed);
    free(got);
    close(fd);
    assert_int_equal(tu_server_stop(&s), 0);
}

static void test_connection_cap(void **state)
{
    (void)state;
    struct tu_server s;
    const char *args[] = {"--max-connections", "50", "--workers", "1",
                          "--head-timeout",    "30", NULL};
    tu_server_start(&s, args);
    /* 300 clients each send part of a head and stall: six times what the
     * server keeps. */
    enum { SLOW = 300 };
    int fds[SLOW];
    for (int i = 0; i < SLOW; i++) {
        fds[i] = tu_connect(s.port);
        send_text(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ");
    }
    /* A well-behaved client still gets in and is answered, while the slow
     * ones are still connected. */
    for (int i = 0; i < 5; i++) expect_healthy(s.port);
    /* The oldest slow connections made room: closed by the server. */
    int gone = 0;
    for (int i = 0; i < SLOW; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) == 1) gone++;
    }
    assert_true(gone >= SLOW - 50);
    for (int i = 0; i < SLOW; i++) close(fds[i]);
    assert_int_equal(tu_server_stop(&s), 0);
}

static void test_out_of_descriptors(void **state)
{
    (void)state;
    struct tu_server s;
    const char *args[] = {"--workers", "1", NULL};
    tu_server_start(&s, args);
    /* The process is left with 48 descriptors: far fewer than the
     * connections it expects to keep. Accepting then fails with EMFILE. */
    struct rlimit lim = {48, 48};
    assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, &lim, NULL), 0);
    enum { MANY = 400 };
    int fds[MANY];
    for (int i = 0; i < MANY; i++) {
        fds[i] = tu_connect(s.port);
        send_text(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    }
    sleep_ms(500);
    /* A well-behaved client is still served: idle and slow connections make
     * room, and the listener is never spun on. */
    for (int i = 0; i < 3; i++) expect_healthy(s.port);
    for (int i = 0; i < MANY; i++) close(fds[i]);
    /* The same complaint is not written hundreds of times. */
    char *log = tu_slurp(s.log_path, NULL);
    int lines = 0;
    for (const char *p = log; (p = strstr(p, "cannot accept a connection")); p++) lines++;
    if (lines > 12) fail_msg("%d lines about accepting", lines);
    free(log);
    assert_int_equal(tu_server_stop(&s), 0);
}

/* ---- the memory bodies take ------------------------------------------------ */

static void test_body_memory_counts_what_arrives(void **state)
{
    (void)state;
    struct tu_server s;
    /* room for 256 KiB of bodies in all, 64 KiB a caller */
    const char *args[] = {"--body-limit", "64K", "--body-memory", "256K", "--workers", "1", NULL};
    tu_server_start(&s, args);
    tu_add_user(&s, "gateway", "admin", NULL, "Wide-Harbor-Lights-26");
    char *tok = tu_token(&s, "gateway", "service.validate registry.write registry.read");
    tu_add_user(&s, "other", "admin", NULL, "Wide-Harbor-Lights-27");
    char *tok2 = tu_token(&s, "other", "service.validate");
    /* 100 anonymous heads announce 16 KiB forms and send nothing: 1.6 MB
     * announced, nothing held. */
    enum { N = 100 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = tu_connect(s.port);
        send_text(fds[i], "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          "application/x-www-form-urlencoded\r\nContent-Length: 16384\r\n\r\n");
    }
    sleep_ms(300);
    /* ...and another caller's body is still taken */
    char req[1024], hdr[300];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok2);
    struct tu_resp r;
    tu_request(s.port, "POST", "/api/v1/validate", hdr,
               "{\"type\":\"mobile\",\"value\":\"13800138000\"}", &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    for (int i = 0; i < N; i++) close(fds[i]);

    /* One caller with two large bodies on their way: the second is past
     * its share (64 KiB) and is refused at once, another caller is not. */
    int a = tu_connect(s.port), b = tu_connect(s.port);
    char body[50001];
    memset(body, ' ', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    snprintf(req, sizeof req,
             "POST /api/v1/imports/talents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: text/csv\r\nContent-Length: 60000\r\n\r\n",
             tok);
    send_text(a, req);
    send_text(a, body);
    sleep_ms(200);
    send_text(b, req);
    send_text(b, body);
    size_t n;
    int closed;
    char *got = read_until_close(b, 3000, &n, &closed);
    if (strncmp(got, "HTTP/1.1 503", 12) != 0 || !strstr(got, "Retry-After"))
        fail_msg("a second large body of one caller: %.80s", got);
    free(got);
    close(b);
    tu_request(s.port, "POST", "/api/v1/validate", hdr,
               "{\"type\":\"mobile\",\"value\":\"13800138000\"}", &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    close(a);
    free(tok);
    free(tok2);
    assert_int_equal(tu_server_stop(&s), 0);
}

static void test_slow_bodies_give_way(void **state)
{
    (void)state;
    struct tu_server s;
    const char *args[] = {"--max-connections", "20", "--workers", "1", NULL};
    tu_server_start(&s, args);
    tu_add_user(&s, "gateway", "admin", NULL, "Wide-Harbor-Lights-26");
    char *tok = tu_token(&s, "gateway", "registry.write registry.read");
    /* 40 signed-in bodies trickle a byte now and then: twice the cap. */
    enum { N = 40 };
    int fds[N];
    char req[512];
    snprintf(req, sizeof req,
             "PUT /api/v1/talents/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
             tok);
    for (int i = 0; i < N; i++) {
        fds[i] = tu_connect(s.port);
        send_text(fds[i], req);
        sleep_ms(5);
    }
    /* A well-behaved client gets in: the body that went longest without a
     * byte gives way. */
    for (int i = 0; i < 3; i++) expect_healthy(s.port);
    for (int i = 0; i < N; i++) close(fds[i]);
    free(tok);
    assert_int_equal(tu_server_stop(&s), 0);
}

/* ---- password hashing off the event loops ------------------------------ */

/* Fetches the sign-in form and builds a wrong sign-in for user with its
 * cookies and form token; returns the request (malloc'd). */
static char *wrong_signin(int port, const char *user, int n)
{
    struct tu_resp r;
    tu_request(port, "GET", "/signin", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    char cookies[1024] = "";
    size_t cl = 0;
    for (const char *p = r.head; (p = strcasestr(p, "\r\nSet-Cookie: ")); p += 14) {
        const char *v = p + 14, *end = strpbrk(v, ";\r");
        cl += (size_t)snprintf(cookies + cl, sizeof cookies - cl, "%s%.*s", cl ? "; " : "",
                               (int)(end - v), v);
    }
    char token[256] = "";
    const char *t = strstr(r.body, "name=\"_csrf\" value=\"");
    assert_non_null(t);
    sscanf(t + 20, "%255[^\"]", token);
    tu_resp_free(&r);
    char body[512];
    int bl = snprintf(body, sizeof body, "username=%s&password=Not-The-Password-%d&_csrf=%s", user,
                      n, token);
    char *req = malloc(2048);
    snprintf(req, 2048,
             "POST /signin HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nContent-Type: "
             "application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: "
             "close\r\n\r\n%s",
             cookies, bl, body);
    return req;
}

static void test_signin_flood(void **state)
{
    (void)state;
    struct tu_server s;
    /* Argon2id at its production cost, on one pool thread. */
    const char *args[] = {
        "--password-hash", "interactive", "--pool-threads", "1", "--workers", "2", NULL};
    tu_server_start(&s, args);
    tu_add_user(&s, "chief", "admin", NULL, "Wide-Harbor-Lights-26");
    enum { N = 72 };
    char *reqs[N];
    for (int i = 0; i < N; i++) reqs[i] = wrong_signin(s.port, "chief", i);
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = tu_connect(s.port);
        send_text(fds[i], reqs[i]);
        free(reqs[i]);
    }
    /* While the sign-ins wait for the pool, a probe is answered at once:
     * it does not queue behind the hashing. */
    expect_healthy(s.port);
    int pending = 0;
    for (int i = 0; i < N; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) == 0) pending++;
    }
    if (pending == 0) fail_msg("every sign-in was answered before /healthz");
    /* Then every sign-in is answered: wrong (401, or 403 once the account
     * locks), or refused at once when 64 already waited for the pool (503
     * with Retry-After). */
    int wrong = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        size_t n;
        int closed;
        char *got = read_until_close(fds[i], 30000, &n, &closed);
        if (strncmp(got, "HTTP/1.1 401", 12) == 0 || strncmp(got, "HTTP/1.1 403", 12) == 0)
            wrong++;
        else if (strncmp(got, "HTTP/1.1 503", 12) == 0 && strstr(got, "Retry-After: 1"))
            busy++;
        else
            fail_msg("sign-in %d answered: %.80s", i, got);
        free(got);
        close(fds[i]);
    }
    assert_int_equal(wrong + busy, N);
    assert_true(busy >= 1);
    assert_true(wrong >= 64);
    assert_int_equal(tu_server_stop(&s), 0);
}

/* ---- personal data stays out of the access log -------------------------- */

static void test_access_log_masks_numbers(void **state)
{
    (void)state;
    struct tu_server s;
    char access[400];
    snprintf(access, sizeof access, "%s/access-hostile.log", tu_tmpdir());
    const char *args[] = {"--access-log", access, NULL};
    tu_server_start(&s, args);
    struct tu_resp r;
    tu_request(s.port, "GET", "/api/v1/talents/310104199001011234", "X-Request-Id: bad id!\r\n",
               NULL, &r);
    tu_resp_free(&r);
    tu_request(s.port, "GET", "/x/13800138000/%36%32%32%32%30%32%31%32%33%34%35%36%37%38%39%30",
               "X-Request-Id: probe-mask-1\r\n", NULL, &r);
    tu_resp_free(&r);
    /* a request id of the safe pattern that is a mobile number; a card
     * written in groups */
    tu_request(s.port, "GET", "/y/6222-0212-3456-7890-128", "X-Request-Id: 13912345678\r\n", NULL,
               &r);
    tu_resp_free(&r);
    assert_int_equal(tu_server_stop(&s), 0); /* flushes the access log */
    char *log = tu_slurp(access, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "probe-mask-1"));
    assert_null(strstr(log, "310104199001011234"));
    assert_null(strstr(log, "13800138000"));
    assert_null(strstr(log, "%36%32%32"));
    assert_null(strstr(log, "13912345678"));
    assert_null(strstr(log, "0212-3456"));
    assert_non_null(strstr(log, "\"crid\":\"***********\""));
    assert_non_null(strstr(log, "/api/v1/talents/******************"));
    /* A client's request id that is not of the safe pattern is not kept. */
    assert_null(strstr(log, "bad id"));
    free(log);
}

int main(void)
{
    /* Nothing here depends on the store: run once, on SQLite. */
    if (tu_pg_url()) {
        printf("1..0 # SKIP the hostile-client suite runs on SQLite only\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    /* The test itself opens hundreds of sockets. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ambiguous_lengths_are_refused),
        cmocka_unit_test(test_pipelined_and_chunked),
        cmocka_unit_test(test_body_refused_before_reading),
        cmocka_unit_test(test_head_deadline),
        cmocka_unit_test(test_connection_cap),
        cmocka_unit_test(test_out_of_descriptors),
        cmocka_unit_test(test_body_memory_counts_what_arrives),
        cmocka_unit_test(test_slow_bodies_give_way),
        cmocka_unit_test(test_signin_flood),
        cmocka_unit_test(test_access_log_masks_numbers),
    };
    return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
