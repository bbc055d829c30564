/* testutil.c - shared test helpers (see testutil.h). */
#include "testutil.h"

#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];
static int url_seq;

/* Servers started and not yet stopped; killed at exit so that a failed
 * test does not leave a server behind. */
static pid_t live_servers[64];

static void kill_live_servers(void)
{
    for (int i = 0; i < 64; i++)
        if (live_servers[i] > 0) {
            kill(live_servers[i], SIGKILL);
            waitpid(live_servers[i], NULL, 0);
            live_servers[i] = 0;
        }
}

static void track_server(pid_t pid, int add)
{
    for (int i = 0; i < 64; i++) {
        if (add && live_servers[i] == 0) {
            live_servers[i] = pid;
            return;
        }
        if (!add && live_servers[i] == pid) {
            live_servers[i] = 0;
            return;
        }
    }
}

/* QL_TEST_FILTER=pattern runs only the matching tests (cmocka's filter). */
__attribute__((constructor)) static void tu_init(void)
{
    const char *f = getenv("QL_TEST_FILTER");
    if (f && *f) cmocka_set_test_filter(f);
    atexit(kill_live_servers);
}

/* With QL_TEST_LOGS set (tests/run.sh sets it), every *.log file the
 * servers and commands of this run wrote is kept there before the
 * temporary directory goes, for scripts/pii-scan to read. */
static void keep_logs(void)
{
    const char *dest = getenv("QL_TEST_LOGS");
    if (!dest || !*dest || strchr(dest, '\'') || strchr(tmpdir, '\'')) return;
    const char *base = strrchr(tmpdir, '/');
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/%s' && cd '%s' && find . -name '*.log' -type f "
             "-exec cp --parents {} '%s/%s' ';'",
             dest, base ? base + 1 : "run", tmpdir, dest, base ? base + 1 : "run");
    if (system(cmd) != 0) fprintf(stderr, "could not keep the logs of %s\n", tmpdir);
}

static void remove_tmpdir(void)
{
    if (!tmpdir[0]) return;
    keep_logs();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

const char *tu_tmpdir(void)
{
    if (tmpdir[0]) return tmpdir;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/qltest.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        abort();
    }
    if (!getenv("QL_KEEP_TMP")) atexit(remove_tmpdir);
    return tmpdir;
}

const char *tu_pg_url(void)
{
    const char *u = getenv("QL_TEST_PG");
    return u && *u ? u : NULL;
}

const char *tu_fresh_store_url(void)
{
    static char url[600];
    const char *pg = tu_pg_url();
    if (!pg) {
        snprintf(url, sizeof url, "%s/store-%d.db", tu_tmpdir(), ++url_seq);
        return url;
    }
    store *s;
    ql_err err;
    if (store_open(pg, NULL, &s, &err)) fail_msg("cannot reach test PostgreSQL: %s", err.en);
    if (store_script(s, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"))
        fail_msg("cannot reset schema: %s", store_errmsg(s));
    store_close(s);
    snprintf(url, sizeof url, "%s", pg);
    return url;
}

const char *tu_bin(void)
{
    static char path[PATH_MAX + 16];
    const char *b = getenv("QL_BIN");
    if (b && *b) return b;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) abort();
    self[n] = '\0';
    /* build/<variant>/tests/<suite>/<name> -> build/<variant>/qianlima */
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(self, '/');
        if (slash) *slash = '\0';
    }
    snprintf(path, sizeof path, "%s/qianlima", self);
    return path;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void tu_server_start(struct tu_server *s, const char *const *extra_args)
{
    static int seq;
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s/server-%d", tu_tmpdir(), ++seq);
    mkdir(s->dir, 0700);
    snprintf(s->log_path, sizeof s->log_path, "%s/stderr.log", s->dir);
    char ready[400];
    snprintf(ready, sizeof ready, "%s/ready", s->dir);
    const char *pg = tu_pg_url();
    if (pg) snprintf(s->store_url, sizeof s->store_url, "%s", tu_fresh_store_url());
    else snprintf(s->store_url, sizeof s->store_url, "%s/qianlima.db", s->dir);
    snprintf(s->keys_dir, sizeof s->keys_dir, "%s/keys", s->dir);

    const char *argv[64];
    int n = 0;
    argv[n++] = tu_bin();
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--store";
    argv[n++] = s->store_url;
    argv[n++] = "--ready-file";
    argv[n++] = ready;
    argv[n++] = "--static-dir";
    argv[n++] = "web/static";
    argv[n++] = "--keys-dir";
    argv[n++] = s->keys_dir;
    argv[n++] = "--password-hash";
    argv[n++] = "min";
    for (int i = 0; extra_args && extra_args[i] && n < 62; i++) argv[n++] = extra_args[i];
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    track_server(pid, 1);
    for (int waited = 0; waited < 30000; waited += 20) {
        char *text = tu_slurp(ready, NULL);
        if (text) {
            char *colon = strrchr(text, ':');
            s->port = colon ? (int)strtol(colon + 1, NULL, 10) : 0;
            free(text);
            if (s->port > 0) return;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            char *log = tu_slurp(s->log_path, NULL);
            fail_msg("server exited at start-up (status %d): %s", st, log ? log : "");
        }
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    fail_msg("server did not start within 30 s");
}

int tu_server_stop(struct tu_server *s)
{
    if (s->pid <= 0) return -1;
    track_server(s->pid, 0);
    kill(s->pid, SIGTERM);
    int st = 0;
    for (int waited = 0; waited < 60000; waited += 10) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        sleep_ms(10);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return -1;
}

static void read_all(int fd, char *out, size_t n)
{
    size_t used = 0;
    for (;;) {
        char tmp[4096];
        ssize_t k = read(fd, tmp, sizeof tmp);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        size_t take = (size_t)k;
        if (used + take >= n) take = n - 1 - used;
        memcpy(out + used, tmp, take);
        used += take;
    }
    out[used] = '\0';
}

int tu_run(const char *const *args, const char *const *env, char *out, size_t outn, char *err,
           size_t errn)
{
    return tu_run_input(args, env, NULL, out, outn, err, errn);
}

int tu_run_input(const char *const *args, const char *const *env, const char *stdin_text,
                 char *out, size_t outn, char *err, size_t errn)
{
    char outp[300], errp[300], inp[300];
    snprintf(inp, sizeof inp, "%s/run.in", tu_tmpdir());
    {
        FILE *f = fopen(inp, "w");
        if (f) {
            if (stdin_text) fputs(stdin_text, f);
            fclose(f);
        }
    }
    snprintf(outp, sizeof outp, "%s/run.out", tu_tmpdir());
    snprintf(errp, sizeof errp, "%s/run.err", tu_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fi = open(inp, O_RDONLY);
        dup2(fo, 1);
        dup2(fe, 2);
        if (fi >= 0) dup2(fi, 0);
        for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
        const char *argv[64];
        int n = 0;
        argv[n++] = tu_bin();
        for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    int fo = open(outp, O_RDONLY), fe = open(errp, O_RDONLY);
    if (out) read_all(fo, out, outn);
    if (err) read_all(fe, err, errn);
    close(fo);
    close(fe);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("connect to port %d: %s", port, strerror(errno));
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Parses what has arrived; returns 1 when a whole response is there. */
static int complete(const char *data, size_t len, size_t *head_len, long *clen)
{
    const char *end = memmem(data, len, "\r\n\r\n", 4);
    if (!end) return 0;
    *head_len = (size_t)(end - data) + 4;
    *clen = -1;
    const char *p = data;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            *clen = strtol(p + 15, NULL, 10);
        p = eol + 2;
    }
    int head_only = strncmp(data + 9, "304", 3) == 0 || strncmp(data + 9, "204", 3) == 0;
    if (head_only && *clen < 0) *clen = 0;
    return *clen >= 0 && len >= *head_len + (size_t)*clen;
}

int tu_raw(int port, const void *req, size_t n, int timeout_ms, struct tu_resp *out)
{
    memset(out, 0, sizeof *out);
    int fd = tu_connect(port);
    send_all(fd, req, n); /* the server may close early (413): read what it said anyway */
    size_t cap = 1 << 16, len = 0;
    char *data = malloc(cap);
    size_t head_len = 0;
    long clen = -1;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    for (;;) {
        int pr = poll(&pfd, 1, timeout_ms);
        if (pr <= 0) break;
        if (len + 4096 > cap) {
            cap *= 2;
            char *bigger = realloc(data, cap);
            if (!bigger) abort();
            data = bigger;
        }
        ssize_t k = recv(fd, data + len, cap - len - 1, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            out->closed = 1;
            break;
        }
        len += (size_t)k;
        if (complete(data, len, &head_len, &clen)) break;
    }
    close(fd);
    data[len] = '\0';
    if (len < 12 || strncmp(data, "HTTP/1.", 7) != 0) {
        free(data);
        return -1;
    }
    out->status = (int)strtol(data + 9, NULL, 10);
    if (!head_len) {
        const char *end = strstr(data, "\r\n\r\n");
        head_len = end ? (size_t)(end - data) + 4 : len;
    }
    out->head = strndup(data, head_len);
    out->body_len = len - head_len;
    out->body = malloc(out->body_len + 1);
    memcpy(out->body, data + head_len, out->body_len);
    out->body[out->body_len] = '\0';
    free(data);
    return 0;
}

void tu_request(int port, const char *method, const char *path, const char *headers,
                const char *body, struct tu_resp *out)
{
    size_t blen = body ? strlen(body) : 0;
    size_t cap = strlen(path) + (headers ? strlen(headers) : 0) + blen + 256;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s",
                     method, path, headers ? headers : "");
    if (body) n += snprintf(req + n, cap - (size_t)n, "Content-Length: %zu\r\n", blen);
    n += snprintf(req + n, cap - (size_t)n, "\r\n");
    if (body) {
        memcpy(req + n, body, blen);
        n += (int)blen;
    }
    int rc = tu_raw(port, req, (size_t)n, 20000, out);
    free(req);
    if (rc != 0) fail_msg("no response to %s %s", method, path);
}

const char *tu_header(const struct tu_resp *r, const char *name)
{
    static char value[1024];
    size_t nl = strlen(name);
    const char *p = r->head ? strstr(r->head, "\r\n") : NULL;
    while (p && p[2]) {
        p += 2;
        const char *eol = strstr(p, "\r\n");
        if (!eol) break;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ') v++;
            snprintf(value, sizeof value, "%.*s", (int)(eol - v), v);
            return value;
        }
        p = eol;
    }
    return NULL;
}

void tu_resp_free(struct tu_resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *d = malloc(cap);
    size_t k;
    while ((k = fread(d + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            cap *= 2;
            char *bigger = realloc(d, cap);
            if (!bigger) abort();
            d = bigger;
        }
    }
    fclose(f);
    d[n] = '\0';
    if (len) *len = n;
    return d;
}

int tu_cli(const struct tu_server *s, const char *const *args, const char *stdin_text, char *out,
           size_t outn, char *err, size_t errn)
{
    const char *argv[64];
    int n = 0;
    for (int i = 0; args[i] && n < 56; i++) argv[n++] = args[i];
    argv[n++] = "--store";
    argv[n++] = s->store_url;
    argv[n++] = "--keys-dir";
    argv[n++] = s->keys_dir;
    argv[n++] = "--password-hash";
    argv[n++] = "min";
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    argv[n] = NULL;
    return tu_run_input(argv, NULL, stdin_text, out, outn, err, errn);
}

static void add_user(const struct tu_server *s, const char *username, const char *roles,
                     const char *scope, const char *password, int keep)
{
    char out[4096], err[4096];
    const char *args[] = {"user",     "add",
                          username,   "--name",
                          username,   "--roles",
                          roles,      "--scope",
                          scope ? scope : "district", "--password-stdin",
                          keep ? "--keep-password" : NULL, NULL};
    char line[300];
    snprintf(line, sizeof line, "%s\n", password);
    int rc = tu_cli(s, args, line, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("user add %s failed (%d): %s", username, rc, err);
    /* Duty roles the command line may not grant alone wait for a second
     * person: the test server's own security administrator (the first one,
     * made here when first needed) confirms them. */
    if (strstr(out, "waits for a second person")) {
        static const char sec[] = "tu.security", sec_pw[] = "Sentinel-Grant-2026\n";
        const char *add[] = {"user",
                             "add",
                             sec,
                             "--name",
                             sec,
                             "--roles",
                             "security_admin",
                             "--password-stdin",
                             "--keep-password",
                             NULL};
        rc = tu_cli(s, add, sec_pw, out, sizeof out, err, sizeof err);
        if (rc != 0 && !strstr(err, "is taken"))
            fail_msg("user add %s failed (%d): %s", sec, rc, err);
        if (rc == 0 && strstr(out, "waits for a second person"))
            fail_msg("%s is not the first security administrator of this server", sec);
        const char *confirm[] = {"user", "confirm", "all", "--as", sec, NULL};
        rc = tu_cli(s, confirm, sec_pw, out, sizeof out, err, sizeof err);
        if (rc != 0) fail_msg("user confirm all --as %s failed (%d): %s", sec, rc, err);
    }
}

void tu_add_user(const struct tu_server *s, const char *username, const char *roles,
                 const char *scope, const char *password)
{
    add_user(s, username, roles, scope, password, 0);
}

void tu_add_user_keep(const struct tu_server *s, const char *username, const char *roles,
                      const char *scope, const char *password)
{
    add_user(s, username, roles, scope, password, 1);
}

char *tu_token(const struct tu_server *s, const char *username, const char *perms)
{
    char out[4096], err[4096];
    const char *args[] = {"token", "create", "--user", username, "--name", "tests",
                          "--permissions", perms, NULL};
    int rc = tu_cli(s, args, NULL, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("token create failed (%d): %s", rc, err);
    char *t = strstr(out, "qlt_");
    if (!t) fail_msg("no token in: %s", out);
    t[strcspn(t, "\r\n")] = '\0';
    return strdup(t);
}
