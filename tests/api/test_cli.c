/* test_cli.c - the qianlima binary as scripts see it: subcommands, help,
 * exit codes, configuration from file, environment and flags, migrate, and
 * the graceful drain on SIGTERM. */
#include "testutil.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char out[65536], err[65536];

static int run(const char *const *args, const char *const *env)
{
    return tu_run(args, env, out, sizeof out, err, sizeof err);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_help_and_version(void **state)
{
    (void)state;
    assert_int_equal(run((const char *[]){"--help", NULL}, NULL), 0);
    assert_non_null(strstr(out, "serve"));
    assert_non_null(strstr(out, "migrate"));
    assert_int_equal(run((const char *[]){"serve", "--help", NULL}, NULL), 0);
    assert_non_null(strstr(out, "--listen"));
    assert_non_null(strstr(out, "--ready-file"));
    assert_non_null(strstr(out, "exit status"));
    assert_int_equal(run((const char *[]){"migrate", "-h", NULL}, NULL), 0);
    assert_non_null(strstr(out, "--status"));
    assert_int_equal(run((const char *[]){"version", NULL}, NULL), 0);
    assert_non_null(strstr(out, "qianlima 0."));
    assert_non_null(strstr(out, "SQLite"));
    assert_int_equal(run((const char *[]){"version", "--help", NULL}, NULL), 0);
}

static void test_usage_errors(void **state)
{
    (void)state;
    assert_int_equal(run((const char *[]){NULL}, NULL), 2);
    assert_int_equal(run((const char *[]){"frobnicate", NULL}, NULL), 2);
    assert_non_null(strstr(err, "unknown command 'frobnicate'"));
    assert_int_equal(run((const char *[]){"serve", "--bogus", NULL}, NULL), 2);
    assert_non_null(strstr(err, "unknown flag --bogus"));
    assert_non_null(strstr(err, "未知参数"));
    assert_int_equal(run((const char *[]){"serve", "--workers", NULL}, NULL), 2);
    assert_non_null(strstr(err, "--workers needs a value"));
    assert_int_equal(run((const char *[]){"migrate", "--status=yes", NULL}, NULL), 2);
    assert_non_null(strstr(err, "--status takes no value"));
    assert_int_equal(run((const char *[]){"migrate", "extra", NULL}, NULL), 2);
    assert_non_null(strstr(err, "unexpected argument 'extra'"));
    assert_int_equal(run((const char *[]){"version", "--store", NULL}, NULL), 2);
}

static void test_config_errors(void **state)
{
    (void)state;
    /* Bad numbers and addresses from flags name the key and the flag. */
    assert_int_equal(run((const char *[]){"serve", "--workers", "two", NULL}, NULL), 3);
    assert_non_null(strstr(err, "flag --workers"));
    assert_non_null(strstr(err, "server.workers"));
    assert_non_null(strstr(err, "'two'"));
    assert_int_equal(run((const char *[]){"serve", "--workers=999", NULL}, NULL), 3);
    assert_int_equal(run((const char *[]){"serve", "--listen", "300.1.1.1:80", NULL}, NULL), 3);
    assert_non_null(strstr(err, "server.listen"));
    assert_int_equal(run((const char *[]){"serve", "--listen", "127.0.0.1", NULL}, NULL), 3);
    assert_int_equal(run((const char *[]){"serve", "--listen", "127.0.0.1:70000", NULL}, NULL),
                     3);
    assert_int_equal(run((const char *[]){"serve", "--body-limit", "1X", NULL}, NULL), 3);
    assert_int_equal(run((const char *[]){"serve", "--log-level", "loud", NULL}, NULL), 3);
    assert_non_null(strstr(err, "log.level"));

    /* From the environment: the variable is named. */
    assert_int_equal(run((const char *[]){"serve", NULL},
                         (const char *[]){"QIANLIMA_SERVER_WORKRES=2", NULL}),
                     3);
    assert_non_null(strstr(err, "QIANLIMA_SERVER_WORKRES"));
    assert_int_equal(run((const char *[]){"serve", NULL},
                         (const char *[]){"QIANLIMA_SERVER_TIMEOUT=0", NULL}),
                     3);
    assert_non_null(strstr(err, "environment QIANLIMA_SERVER_TIMEOUT"));

    /* From a file: the file and the line are named. */
    const char *ini = write_file("bad-key.ini", "; comment\n[server]\nworkers = 2\nlisten_on = 1\n");
    assert_int_equal(run((const char *[]){"serve", "--config", ini, NULL}, NULL), 3);
    assert_non_null(strstr(err, "line 4"));
    assert_non_null(strstr(err, "listen_on"));
    assert_non_null(strstr(err, ini));
    ini = write_file("bad-addr.ini", "[server]\nlisten = localhost:8080\n");
    assert_int_equal(run((const char *[]){"serve", "--config", ini, NULL}, NULL), 3);
    assert_non_null(strstr(err, "line 2"));
    assert_non_null(strstr(err, "server.listen"));
    ini = write_file("no-section.ini", "workers = 2\n");
    assert_int_equal(run((const char *[]){"serve", "--config", ini, NULL}, NULL), 3);
    assert_non_null(strstr(err, "section"));
    ini = write_file("garbage.ini", "[server]\nthis is not a setting\n");
    assert_int_equal(run((const char *[]){"serve", "--config", ini, NULL}, NULL), 3);
    assert_non_null(strstr(err, "line 2"));
    assert_int_equal(run((const char *[]){"serve", "--config", "/nonexistent.ini", NULL}, NULL),
                     3);
    assert_non_null(strstr(err, "/nonexistent.ini"));
    /* QIANLIMA_CONFIG names the file too. */
    assert_int_equal(run((const char *[]){"serve", NULL},
                         (const char *[]){"QIANLIMA_CONFIG=/nonexistent2.ini", NULL}),
                     3);
    assert_non_null(strstr(err, "/nonexistent2.ini"));
}

static void test_migrate_command(void **state)
{
    (void)state;
    char url[600];
    snprintf(url, sizeof url, "%s", tu_fresh_store_url());
    assert_int_equal(run((const char *[]){"migrate", "--status", "--store", url, NULL}, NULL), 0);
    assert_non_null(strstr(out, "0001"));
    assert_non_null(strstr(out, "pending"));
    assert_int_equal(run((const char *[]){"migrate", "--store", url, NULL}, NULL), 0);
    assert_non_null(strstr(out, "applied "));
    assert_null(strstr(out, "applied 0 "));
    assert_int_equal(run((const char *[]){"migrate", "--store", url, NULL}, NULL), 0);
    assert_non_null(strstr(out, "applied 0 migration"));
    assert_int_equal(run((const char *[]){"migrate", "--status", "--store", url, NULL}, NULL), 0);
    assert_null(strstr(out, "pending"));
    assert_non_null(strstr(out, "+08:00"));
    /* A store that cannot be opened is a failure (1), not a usage error. */
    assert_int_equal(
        run((const char *[]){"migrate", "--store", "/nonexistent-dir/q.db", NULL}, NULL), 1);
    assert_non_null(strstr(err, "/nonexistent-dir/q.db"));
}

static void test_serve_cannot_listen(void **state)
{
    (void)state;
    char url[600];
    snprintf(url, sizeof url, "%s", tu_fresh_store_url());
    /* 192.0.2.1 (TEST-NET-1) is not an address of this machine. */
    char keys[400];
    snprintf(keys, sizeof keys, "%s/cli-keys", tu_tmpdir());
    assert_int_equal(run((const char *[]){"serve", "--store", url, "--keys-dir", keys, "--listen",
                                          "192.0.2.1:8080", NULL},
                         NULL),
                     1);
    assert_non_null(strstr(err, "cannot listen on 192.0.2.1:8080"));
}

/* The number of workers a running server reports in its start-up log line. */
static long workers_of(const struct tu_server *s)
{
    char *log = tu_slurp(s->log_path, NULL);
    const char *p = log ? strstr(log, " with ") : NULL;
    long n = p ? strtol(p + 6, NULL, 10) : -1;
    free(log);
    return n;
}

static void test_config_precedence(void **state)
{
    (void)state;
    /* defaults < file < environment < flags, observed on a running server. */
    const char *ini = write_file("workers.ini", "[server]\nworkers = 3\n");
    char cfgflag[600];
    snprintf(cfgflag, sizeof cfgflag, "--config=%s", ini);
    struct tu_server s;
    const char *file_only[] = {cfgflag, NULL};
    tu_server_start(&s, file_only);
    assert_int_equal(workers_of(&s), 3);
    assert_int_equal(tu_server_stop(&s), 0);

    setenv("QIANLIMA_SERVER_WORKERS", "4", 1);
    tu_server_start(&s, file_only);
    assert_int_equal(workers_of(&s), 4);
    assert_int_equal(tu_server_stop(&s), 0);

    const char *with_flag[] = {cfgflag, "--workers", "5", NULL};
    tu_server_start(&s, with_flag);
    assert_int_equal(workers_of(&s), 5);
    assert_int_equal(tu_server_stop(&s), 0);
    unsetenv("QIANLIMA_SERVER_WORKERS");
}

static void test_config_error_order(void **state)
{
    (void)state;
    const char *ini = write_file("env.ini", "[server]\nworkers = 3\n");
    char url[600];
    snprintf(url, sizeof url, "%s", tu_fresh_store_url());
    /* A bad value in the environment is reported though the file is fine. */
    assert_int_equal(run((const char *[]){"serve", "--config", ini, "--store", url, NULL},
                         (const char *[]){"QIANLIMA_SERVER_WORKERS=many", NULL}),
                     3);
    assert_non_null(strstr(err, "QIANLIMA_SERVER_WORKERS"));
    /* A flag is applied after the environment: a good flag does not rescue a
     * bad environment value (each source is checked), and a bad flag is
     * named as the flag. */
    assert_int_equal(run((const char *[]){"serve", "--config", ini, "--workers", "x", NULL},
                         (const char *[]){"QIANLIMA_SERVER_WORKERS=4", NULL}),
                     3);
    assert_non_null(strstr(err, "flag --workers"));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int exited_within(struct tu_server *s, int ms, int *status)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        if (waitpid(s->pid, status, WNOHANG) == s->pid) {
            s->pid = 0;
            return 1;
        }
        sleep_ms(20);
    }
    return 0;
}

static void test_graceful_drain(void **state)
{
    (void)state;
    struct tu_server s;
    tu_server_start(&s, NULL);
    /* A client has sent half a request when the signal arrives... */
    int fd = tu_connect(s.port);
    const char first[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    assert_true(send(fd, first, sizeof first - 1, MSG_NOSIGNAL) > 0);
    sleep_ms(50);
    kill(s.pid, SIGTERM);
    sleep_ms(30);
    /* ...and finishes it: it is still answered, with Connection: close. */
    assert_true(send(fd, "\r\n", 2, MSG_NOSIGNAL) == 2);
    char buf[4096];
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 5000) == 1) {
        ssize_t k = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (k <= 0) break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    close(fd);
    assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
    assert_non_null(strcasestr(buf, "Connection: close"));
    assert_non_null(strstr(buf, "\"status\":\"ok\""));
    /* The server then exits cleanly by itself. */
    int st = 0;
    assert_true(exited_within(&s, 10000, &st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char *log = tu_slurp(s.log_path, NULL);
    assert_non_null(strstr(log, "draining"));
    assert_non_null(strstr(log, "\"msg\":\"stopped\""));
    free(log);
}

/* A server whose static directory holds a 32 MiB file, and a client that
 * has asked for it: while the client does not read, the response stays in
 * flight (it is larger than the socket buffers of both ends). */
#define BIG_SIZE (32u * 1024 * 1024)

static int start_big_download(struct tu_server *s, const char *drain_timeout)
{
    char dir[400], path[450];
    snprintf(dir, sizeof dir, "%s/static-big", tu_tmpdir());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/big.bin", dir);
    FILE *f = fopen(path, "w");
    static char block[65536];
    memset(block, 'q', sizeof block);
    for (unsigned i = 0; i < BIG_SIZE / sizeof block; i++) fwrite(block, 1, sizeof block, f);
    fclose(f);
    const char *args[] = {"--static-dir", dir, "--drain-timeout", drain_timeout, NULL};
    tu_server_start(s, args);
    int fd = tu_connect(s->port);
    const char req[] = "GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(send(fd, req, sizeof req - 1, MSG_NOSIGNAL) > 0);
    char b[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_true(recv(fd, b, sizeof b, 0) > 0);
    return fd;
}

static void test_drain_finishes_response(void **state)
{
    (void)state;
    struct tu_server s;
    int fd = start_big_download(&s, "60");
    kill(s.pid, SIGTERM);
    int st;
    /* The drain waits for the response in flight... */
    assert_false(exited_within(&s, 400, &st));
    /* ...which arrives whole once the client reads, and then the server exits 0. */
    size_t total = 0;
    char b[65536];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 10000) == 1) {
        ssize_t k = recv(fd, b, sizeof b, 0);
        if (k <= 0) break;
        total += (size_t)k;
    }
    close(fd);
    if (total < BIG_SIZE - 4096) fail_msg("received %zu of %u bytes", total, BIG_SIZE);
    assert_true(exited_within(&s, 5000, &st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_second_signal_stops_at_once(void **state)
{
    (void)state;
    struct tu_server s;
    int fd = start_big_download(&s, "60");
    kill(s.pid, SIGTERM);
    int st;
    assert_false(exited_within(&s, 400, &st));
    kill(s.pid, SIGTERM);
    assert_true(exited_within(&s, 3000, &st));
    assert_true(WIFEXITED(st));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_migrate_command),
        cmocka_unit_test(test_serve_cannot_listen),
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_config_error_order),
        cmocka_unit_test(test_graceful_drain),
        cmocka_unit_test(test_drain_finishes_response),
        cmocka_unit_test(test_second_signal_stops_at_once),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "cli (postgres)" : "cli (sqlite)", tests,
                                       NULL, NULL);
}
