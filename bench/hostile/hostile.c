/* hostile.c - a hostile load on a qianlima server, and a well-behaved probe
 * beside it that times GET /healthz (a new connection each time, as a load
 * balancer's health check does). Used by bench/hostile/run.sh.
 *
 *   hostile probe     PORT SECONDS
 *   hostile slowloris PORT SECONDS CONNS PROCS INTERVAL_MS
 *       CONNS connections over PROCS processes, each sending a request line
 *       and then one header line every INTERVAL_MS, never the end of the
 *       head; a connection the server closes is opened again.
 *   hostile signin    PORT SECONDS CLIENTS USER
 *       CLIENTS clients signing in as USER with a wrong password, again and
 *       again (each takes the sign-in form's token first).
 *   hostile bigbody   PORT SECONDS CLIENTS BYTES
 *       CLIENTS clients posting BYTES-byte bodies to /signin, again and again.
 *   hostile slowread  PORT SECONDS CONNS
 *       CONNS connections that ask for the API description (260 KB) with a
 *       1 KiB receive buffer and never read it.
 *
 * The attack runs at the lowest scheduling priority (nice 19), the probe at
 * the normal one: on one machine the attacker then takes only the CPU the
 * server leaves, as a client on another machine would, and what is measured
 * is the server's own behaviour.
 *
 * Every mode runs the probe for SECONDS as well and prints one line:
 *   probe n=… ok=… p50_ms=… p99_ms=… max_ms=… | attack …
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int port;
static double seconds;
static double t_end;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0) {
        fprintf(stderr, "hostile: '%s' is not a number\n", s);
        exit(2);
    }
    return v;
}

static int dial(int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads one response (Content-Length, or until close) into b (cap bytes).
 * Returns its length, or -1. */
static ssize_t read_response(int fd, char *b, size_t cap, int timeout_ms)
{
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        if (poll(&p, 1, timeout_ms) != 1) return -1;
        ssize_t k = recv(fd, b + len, cap - len - 1, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        len += (size_t)k;
        b[len] = '\0';
        char *end = strstr(b, "\r\n\r\n");
        if (end) {
            char *cl = strcasestr(b, "\r\nContent-Length:");
            if (cl && cl < end) {
                size_t want = (size_t)(end + 4 - b) + (size_t)strtoul(cl + 17, NULL, 10);
                if (len >= want) break;
            }
        }
        if (len + 1 >= cap) break;
    }
    b[len] = '\0';
    return len ? (ssize_t)len : -1;
}

/* The calling thread (Linux: per thread) at the lowest priority. */
static void be_nice(void)
{
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19) != 0) perror("setpriority");
}

/* ---- the probe ------------------------------------------------------------ */

static double lat[200000];
static int nlat, nok;

static void *probe_main(void *arg)
{
    (void)arg;
    char b[4096];
    while (now_s() < t_end && nlat < (int)(sizeof lat / sizeof lat[0])) {
        double t0 = now_s();
        int ok = 0;
        int fd = dial(0);
        if (fd >= 0) {
            static const char req[] =
                "GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n";
            if (send_all(fd, req, sizeof req - 1) == 0 && read_response(fd, b, sizeof b, 10000) > 0)
                ok = strncmp(b, "HTTP/1.1 200", 12) == 0;
            close(fd);
        }
        double ms = (now_s() - t0) * 1000.0;
        lat[nlat++] = ok ? ms : 1e9; /* a failed probe counts as the slowest */
        nok += ok;
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void probe_report(void)
{
    qsort(lat, (size_t)nlat, sizeof lat[0], cmp_double);
    double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(nlat * 99) / 100] : 0,
           max = nlat ? lat[nlat - 1] : 0;
    printf("probe n=%d ok=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f", nlat, nok, p50,
           p99 >= 1e9 ? -1.0 : p99, max >= 1e9 ? -1.0 : max);
}

/* ---- slow heads --------------------------------------------------------- */

/* One process's share of slow connections, driven by epoll. Counts go to
 * shared memory: [0] opened, [1] closed by the server. */
static void slowloris_proc(int conns, int interval_ms, _Atomic long *counts)
{
    be_nice();
    int ep = epoll_create1(0);
    int *fds = calloc((size_t)conns, sizeof *fds);
    int *sent = calloc((size_t)conns, sizeof *sent);
    for (int i = 0; i < conns; i++) fds[i] = -1;
    double next_round = 0;
    static const char start[] = "GET /healthz HTTP/1.1\r\nHost: slow\r\n";
    while (now_s() < t_end) {
        /* (Re)open what is closed; then one header line on each. */
        for (int i = 0; i < conns; i++) {
            if (fds[i] >= 0) continue;
            fds[i] = dial(1);
            if (fds[i] < 0) continue;
            sent[i] = 0;
            struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
            atomic_fetch_add(&counts[0], 1);
        }
        double t = now_s();
        if (t >= next_round) {
            for (int i = 0; i < conns; i++) {
                if (fds[i] < 0) continue;
                char line[64];
                int n = sent[i] == 0 ? snprintf(line, sizeof line, "%s", start)
                                     : snprintf(line, sizeof line, "X-Slow-%d: b\r\n", sent[i]);
                /* a failed send shows as a close on the next poll */
                if (send(fds[i], line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) sent[i]++;
            }
            next_round = t + interval_ms / 1000.0;
        }
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 50);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            if (fds[i] < 0) continue;
            char junk[512];
            ssize_t r = recv(fds[i], junk, sizeof junk, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN) || (evs[k].events & (EPOLLRDHUP | EPOLLHUP))) {
                close(fds[i]);
                fds[i] = -1;
                atomic_fetch_add(&counts[1], 1);
            }
        }
    }
    for (int i = 0; i < conns; i++)
        if (fds[i] >= 0) close(fds[i]);
    free(fds);
    free(sent);
    close(ep);
}

/* ---- sign-in flood -------------------------------------------------------- */

static const char *signin_user;
static _Atomic long signins, signin_status[6];

static void *signin_main(void *arg)
{
    (void)arg;
    be_nice();
    char b[65536];
    while (now_s() < t_end) {
        int fd = dial(0);
        if (fd < 0) continue;
        static const char get[] = "GET /signin HTTP/1.1\r\nHost: flood\r\n\r\n";
        if (send_all(fd, get, sizeof get - 1) || read_response(fd, b, sizeof b, 30000) <= 0) {
            close(fd);
            continue;
        }
        /* The form's cookies (every Set-Cookie) and its _csrf field. */
        char cookies[2048] = "";
        size_t cl = 0;
        for (char *p = b; (p = strcasestr(p, "\r\nSet-Cookie: ")); p += 14) {
            char *v = p + 14, *end = strpbrk(v, ";\r");
            if (!end) break;
            cl += (size_t)snprintf(cookies + cl, sizeof cookies - cl, "%s%.*s", cl ? "; " : "",
                                   (int)(end - v), v);
            if (cl >= sizeof cookies) break;
        }
        char token[256] = "";
        char *t = strstr(b, "name=\"_csrf\" value=\"");
        if (t) sscanf(t + 20, "%255[^\"]", token);
        char body[512], req[4096];
        int bl = snprintf(body, sizeof body, "username=%s&password=Wrong-Guess-%ld&_csrf=%s",
                          signin_user, atomic_load(&signins), token);
        int rl = snprintf(req, sizeof req,
                          "POST /signin HTTP/1.1\r\nHost: flood\r\nCookie: %s\r\nContent-Type: "
                          "application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
                          cookies, bl, body);
        if (send_all(fd, req, (size_t)rl) == 0 && read_response(fd, b, sizeof b, 60000) > 0) {
            int st = (int)strtol(b + 9, NULL, 10);
            atomic_fetch_add(&signin_status[st / 100 < 6 ? st / 100 : 0], 1);
        }
        atomic_fetch_add(&signins, 1);
        close(fd);
    }
    return NULL;
}

/* ---- large bodies ---------------------------------------------------------- */

static long body_bytes;
static _Atomic long bodies, body_status[6];

static void *bigbody_main(void *arg)
{
    (void)arg;
    be_nice();
    static char chunk[65536];
    memset(chunk, 'a', sizeof chunk);
    char b[8192];
    while (now_s() < t_end) {
        int fd = dial(0);
        if (fd < 0) continue;
        char head[256];
        int hl = snprintf(head, sizeof head,
                          "POST /signin HTTP/1.1\r\nHost: flood\r\nContent-Type: "
                          "application/x-www-form-urlencoded\r\nContent-Length: %ld\r\n\r\n",
                          body_bytes);
        send_all(fd, head, (size_t)hl);
        for (long sent = 0; sent < body_bytes && now_s() < t_end;) {
            size_t n = (size_t)(body_bytes - sent) < sizeof chunk ? (size_t)(body_bytes - sent)
                                                                  : sizeof chunk;
            if (send_all(fd, chunk, n)) break; /* the server closed: it answered already */
            sent += (long)n;
        }
        if (read_response(fd, b, sizeof b, 10000) > 0) {
            int st = (int)strtol(b + 9, NULL, 10);
            atomic_fetch_add(&body_status[st / 100 < 6 ? st / 100 : 0], 1);
        }
        atomic_fetch_add(&bodies, 1);
        close(fd);
    }
    return NULL;
}

/* ---- slow readers ---------------------------------------------------------- */

static int slow_opened;

static void slowread(int conns)
{
    be_nice();
    int *fds = calloc((size_t)conns, sizeof *fds);
    static const char req[] = "GET /api/openapi.json HTTP/1.1\r\nHost: slow\r\n\r\n";
    int opened = 0;
    for (int i = 0; i < conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int small = 1024;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            if (fd >= 0) close(fd);
            fds[i] = -1;
            continue;
        }
        send_all(fd, req, sizeof req - 1);
        fds[i] = fd;
        opened++;
    }
    slow_opened = opened;
    while (now_s() < t_end) sleep(1);
    for (int i = 0; i < conns; i++)
        if (fds[i] >= 0) close(fds[i]);
    free(fds);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: hostile probe|slowloris|signin|bigbody|slowread PORT SECONDS [...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 4) usage();
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    const char *mode = argv[1];
    port = (int)num(argv[2]);
    seconds = (double)num(argv[3]);
    t_end = now_s() + seconds;
    pthread_t probe;

    if (strcmp(mode, "probe") == 0) {
        pthread_create(&probe, NULL, probe_main, NULL);
        pthread_join(probe, NULL);
        probe_report();
        printf(" | attack none\n");
        return 0;
    }
    if (strcmp(mode, "slowloris") == 0) {
        if (argc != 7) usage();
        int conns = (int)num(argv[4]), procs = (int)num(argv[5]), interval = (int)num(argv[6]);
        if (procs < 1) procs = 1;
        _Atomic long *counts =
            mmap(NULL, 2 * sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        for (int p = 0; p < procs; p++) {
            if (fork() == 0) {
                slowloris_proc(conns / procs + (p < conns % procs), interval, counts);
                _exit(0);
            }
        }
        sleep(2); /* let the slow connections pile up before probing */
        t_end = now_s() + seconds - 2;
        pthread_create(&probe, NULL, probe_main, NULL);
        pthread_join(probe, NULL);
        while (wait(NULL) > 0) {
        }
        probe_report();
        printf(" | attack slowloris conns=%d opened=%ld closed_by_server=%ld\n", conns,
               atomic_load(&counts[0]), atomic_load(&counts[1]));
        return 0;
    }
    if (strcmp(mode, "slowread") == 0) {
        if (argc != 5) usage();
        int conns = (int)num(argv[4]);
        pthread_create(&probe, NULL, probe_main, NULL);
        slowread(conns);
        pthread_join(probe, NULL);
        probe_report();
        printf(" | attack slowread conns=%d opened=%d\n", conns, slow_opened);
        return 0;
    }
    if (strcmp(mode, "signin") == 0 || strcmp(mode, "bigbody") == 0) {
        if (argc != 6) usage();
        int clients = (int)num(argv[4]);
        int signin = mode[0] == 's';
        if (signin)
            signin_user = argv[5];
        else
            body_bytes = num(argv[5]);
        pthread_t *th = calloc((size_t)clients, sizeof *th);
        for (int i = 0; i < clients; i++)
            pthread_create(&th[i], NULL, signin ? signin_main : bigbody_main, NULL);
        pthread_create(&probe, NULL, probe_main, NULL);
        pthread_join(probe, NULL);
        for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
        free(th);
        probe_report();
        _Atomic long *st = signin ? signin_status : body_status;
        printf(" | attack %s clients=%d requests=%ld 2xx/3xx=%ld 4xx=%ld 5xx=%ld\n", mode, clients,
               atomic_load(signin ? &signins : &bodies), atomic_load(&st[2]) + atomic_load(&st[3]),
               atomic_load(&st[4]), atomic_load(&st[5]));
        return 0;
    }
    usage();
}
