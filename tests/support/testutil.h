/* testutil.h - helpers shared by the test programs: temporary directories,
 * the store under test, a qianlima server started on an ephemeral loopback
 * port, and a raw HTTP/1.1 client that can send anything, hostile or not. */
#ifndef QL_TESTS_TESTUTIL_H
#define QL_TESTS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); removed at exit.
 * Returns a static path valid for the life of the process. */
const char *tu_tmpdir(void);

/* The PostgreSQL URL under test (environment QL_TEST_PG), or NULL when the
 * suite runs on SQLite. */
const char *tu_pg_url(void);

/* A store URL for one test: a new SQLite file in tu_tmpdir(), or the
 * PostgreSQL URL after its public schema has been emptied. Returns a
 * pointer to static storage, valid until the next call. */
const char *tu_fresh_store_url(void);

/* Path of the qianlima binary under test: environment QL_BIN, else
 * ../qianlima relative to the test binary's build directory. */
const char *tu_bin(void);

struct tu_server {
    pid_t pid;
    int port;
    char dir[256];
    char log_path[300];    /* stderr of the server (application and access log) */
    char store_url[600];
    char keys_dir[300];
};

/* Starts `qianlima serve` on 127.0.0.1:0 with the given extra arguments
 * (NULL-terminated, may be NULL) and a fresh store, and waits until it
 * listens. Fails the test if it does not start within 30 s. */
void tu_server_start(struct tu_server *s, const char *const *extra_args);

/* Sends SIGTERM and waits; returns the exit status (or -1 on a signal death). */
int tu_server_stop(struct tu_server *s);

/* Runs the binary with args (NULL-terminated) and the extra environment
 * entries env (NULL-terminated, "K=V"; may be NULL), capturing stdout and
 * stderr (each truncated to 64 KiB). Returns the exit status. */
int tu_run(const char *const *args, const char *const *env, char *out, size_t outn, char *err,
           size_t errn);

/* As tu_run, with stdin_text (may be NULL) on standard input. */
int tu_run_input(const char *const *args, const char *const *env, const char *stdin_text,
                 char *out, size_t outn, char *err, size_t errn);

/* Runs a qianlima command (args NULL-terminated, e.g. {"user", "list", NULL})
 * against the server's store and keys. Returns the exit status. */
int tu_cli(const struct tu_server *s, const char *const *args, const char *stdin_text, char *out,
           size_t outn, char *err, size_t errn);

/* Creates an account through the CLI with a known password (which it must
 * change at first sign-in). roles like "admin" or "reviewer,window_clerk";
 * scope NULL for district. Duty roles that wait for a second person
 * (finance, reviewer, a further security_admin) are confirmed at once by the
 * server's account "tu.security" (created when first needed, as the first
 * security administrator). Fails the test on error. */
void tu_add_user(const struct tu_server *s, const char *username, const char *roles,
                 const char *scope, const char *password);
/* The same, but the account keeps the password (need not change it first:
 * it can sign in on the command line with --as at once). */
void tu_add_user_keep(const struct tu_server *s, const char *username, const char *roles,
                      const char *scope, const char *password);

/* Creates an API token for username with the given permissions through the
 * CLI and returns it (malloc'd). */
char *tu_token(const struct tu_server *s, const char *username, const char *perms);

struct tu_resp {
    int status;
    char *head;     /* status line and headers, NUL-terminated */
    char *body;     /* NUL-terminated (may contain NULs before len) */
    size_t body_len;
    int closed;     /* the server closed the connection */
};

/* Connects to 127.0.0.1:port. Returns the socket or fails the test. */
int tu_connect(int port);

/* Sends n bytes of raw request on a new connection and reads one response
 * (Content-Length or until close), waiting at most timeout_ms. Returns 0, or
 * -1 if the connection was closed with no response. */
int tu_raw(int port, const void *req, size_t n, int timeout_ms, struct tu_resp *out);

/* Builds and sends "METHOD PATH HTTP/1.1" with Host, Connection: close, the
 * extra header lines (may be NULL, each ending in \r\n) and body (may be
 * NULL). Fails the test if no response arrives. */
void tu_request(int port, const char *method, const char *path, const char *headers,
                const char *body, struct tu_resp *out);

/* Returns the value of a response header (case-insensitive), copied into
 * static storage, or NULL. */
const char *tu_header(const struct tu_resp *r, const char *name);

void tu_resp_free(struct tu_resp *r);

/* Reads a whole file into a malloc'd NUL-terminated string (NULL if missing). */
char *tu_slurp(const char *path, size_t *len);

#endif
