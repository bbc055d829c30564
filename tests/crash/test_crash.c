/* test_crash.c - crash safety of the disbursement cycle (issue 6), on
 * SQLite and (with QL_TEST_PG) PostgreSQL; docs/ledger.md, "Crash safety".
 *
 * A store is made once through the services (tests/support/fixtures.c): a
 * few thousand subsidies, October computed, exported and paid, then changes
 * recorded late (decisions of the applications, and leases ended in the
 * registry), so that November's run corrects October before it computes
 * its own entitlements. Each phase (the cycle run, the bank export, the
 * import of the bank's results; each when the binary has it) starts from
 * the previous one's result. An uninterrupted run on a copy gives the
 * reference, its length and when its work begins; a first test checks that
 * the checks catch faults made by hand in copies of the cycle's result.
 * Then workers (one per core) run kill sequences, each on a fresh copy: the
 * real binary as a child process, SIGKILL after a random delay, what the
 * store shows checked (the ledger verified, whole pages and batches) and
 * noted (where the kill landed), three to five times on the resumed runs,
 * then a run to the end and the checks: `qianlima ledger verify` clean,
 * `qianlima audit verify` intact, direct counts, and the rows (and files)
 * equal to the reference's. A kill counts as a point only when it landed
 * while the child still ran; a phase needs its share of POINTS of them.
 *
 * The delays: one in four uniform over the whole expected run (start-up
 * included), the others from the expected start of its work to a little
 * past its expected end, so that most kills land inside batches, in
 * commits and at the end rather than in the reading that precedes them;
 * each worker corrects its expectations from what the runs show.
 *
 * Settings (environment): QL_CRASH_SEED (printed at the start; the same
 * seed gives the same delays), QL_CRASH_POINTS (kill points of the cycle
 * run, default 100; the export and the import a quarter each),
 * QL_CRASH_SUBSIDIES (default 2500 on SQLite, 1200 on PostgreSQL, whose
 * statements cost more: the same pages, batches and corrections, fewer
 * rows), QL_CRASH_JOBS (workers, default the cores, at most 4),
 * QL_CRASH_PHASE (only the phase of this name, e.g. "cycle run"),
 * QL_CRASH_KILL_US (one sequence with these delays in microseconds,
 * comma-separated, as a failure prints them), QL_KEEP_TMP (keep the
 * stores). */
#include "fixtures.h"
#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "core/pii.h"
#include "core/xalloc.h"
#include "ledger/bank.h"
#include "ledger/cycle.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "registry/housing.h"
#include "store/store.h"
#include "subsidy/subsidy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t SEED;
static int POINTS = 100;
static int SUBSIDIES = 2500;
static int JOBS = 2;
static const char *ONLY_PHASE;
static int64_t REPLAY[8];
static int NREPLAY;

/* -1 in the test itself; a worker's number in a worker process, which
 * reports a failure and exits instead of returning to cmocka. */
static int WORKER = -1;

/* "# ..." lines on standard output (one for each line of the message),
 * written at once: workers share it. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char text[4096], out[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t n = 0;
    for (const char *line = text; *line && n < sizeof out - 8;) {
        size_t k = strcspn(line, "\n");
        if (k > sizeof out - 8 - n) k = sizeof out - 8 - n;
        out[n++] = '#';
        out[n++] = ' ';
        memcpy(out + n, line, k);
        n += k;
        out[n++] = '\n';
        line += k;
        if (*line == '\n') line++;
    }
    fflush(stdout);
    if (write(1, out, n) < 0) return;
}

/* Fails the test (in a worker: reports and exits); never returns. */
static void fail_now(const char *msg) __attribute__((noreturn));
static void fail_now(const char *msg)
{
    if (WORKER >= 0) {
        say("worker %d: %s", WORKER, msg);
        _exit(1);
    }
    fail_msg("%s", msg);
    abort(); /* not reached: cmocka leaves the test */
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        char msg_[3000];                                                                           \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                  \
        fail_now(msg_);                                                                            \
    } while (0)

#define EXPECT_EQ(what, got, want)                                                                 \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_) FAIL("%s: %lld, expected %lld", what, g_, w_);                               \
    } while (0)

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- files -------------------------------------------------------------- */

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1200];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) FAIL("open %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) FAIL("create %s: %s", to, strerror(errno));
    static char b[1 << 16];
    ssize_t n;
    while ((n = read(in, b, sizeof b)) > 0)
        if (write(out, b, (size_t)n) != n) FAIL("write %s: %s", to, strerror(errno));
    if (n < 0) FAIL("read %s: %s", from, strerror(errno));
    close(in);
    close(out);
}

/* Copies the regular files of directory from into to (created). */
static void copy_dir(const char *from, const char *to)
{
    mkdir(to, 0700);
    DIR *d = opendir(from);
    if (!d) FAIL("open %s: %s", from, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        char a[1200], b[1200];
        struct stat st;
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        if (!stat(a, &st) && S_ISREG(st.st_mode)) copy_file(a, b);
    }
    closedir(d);
}

/* ---- snapshots: a store and its keys directory ------------------------- */

struct snap {
    char dir[512]; /* its directory: keys/, and store.db on SQLite */
    char keys[600];
    char url[1100];
    char db[64]; /* PostgreSQL: its database */
};

static store *ADMIN; /* PostgreSQL: the database under test, for CREATE DATABASE */
static char PG_BASE[40];
static char PG_HEAD[600], PG_TAIL[400]; /* the URL before and after its database name */

static void pg_admin(void)
{
    const char *url = tu_pg_url();
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p) FAIL("QL_TEST_PG has no database: %s", url);
    size_t head = (size_t)(p + 1 - url), n = strcspn(p + 1, "?");
    if (n == 0 || n >= sizeof PG_BASE - 12 || head >= sizeof PG_HEAD)
        FAIL("QL_TEST_PG: unexpected database name in %s", url);
    memcpy(PG_HEAD, url, head);
    PG_HEAD[head] = '\0';
    memcpy(PG_BASE, p + 1, n);
    PG_BASE[n] = '\0';
    snprintf(PG_TAIL, sizeof PG_TAIL, "%s", p + 1 + n);
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", PG_BASE[i]))
            FAIL("QL_TEST_PG: the database name %s is not [a-z0-9_]", PG_BASE);
    ql_err err;
    if (store_open(url, NULL, &ADMIN, &err)) FAIL("PostgreSQL: %s", err.en);
}

/* Database names are made here of [a-z0-9_] only (a name cannot be bound).
 * Two copies of one template at the same moment may collide: try again. */
static void pg_admin_exec(const char *sql)
{
    for (int i = 0;; i++) {
        if (!store_exec(ADMIN, sql, NULL, 0, NULL)) return;
        if (i == 50) FAIL("%s: %s", sql, store_errmsg(ADMIN));
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void pg_drop(const char *db)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    pg_admin_exec(sql);
}

static void pg_create(const char *db, const char *template_db)
{
    char sql[200];
    if (template_db)
        snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s", db, template_db);
    else
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    pg_admin_exec(sql);
}

static void snap_init(struct snap *sn, const char *name)
{
    memset(sn, 0, sizeof *sn);
    snprintf(sn->dir, sizeof sn->dir, "%s/%s", tu_tmpdir(), name);
    snprintf(sn->keys, sizeof sn->keys, "%s/keys", sn->dir);
    if (ADMIN) {
        snprintf(sn->db, sizeof sn->db, "%s_%s", PG_BASE, name);
        snprintf(sn->url, sizeof sn->url, "%s%s%s", PG_HEAD, sn->db, PG_TAIL);
    } else {
        snprintf(sn->url, sizeof sn->url, "%s/store.db", sn->dir);
    }
}

static void snap_drop(const struct snap *sn)
{
    if (ADMIN && sn->db[0]) pg_drop(sn->db);
    rm_tree(sn->dir);
}

/* An empty store: a new database (or none yet, for SQLite) and keys dir. */
static void snap_empty(const struct snap *sn)
{
    snap_drop(sn);
    mkdir(sn->dir, 0700);
    mkdir(sn->keys, 0700);
    if (ADMIN) pg_create(sn->db, NULL);
}

/* to becomes a copy of from (the store closed by everyone). */
static void snap_copy(const struct snap *from, const struct snap *to)
{
    snap_drop(to);
    mkdir(to->dir, 0700);
    copy_dir(from->keys, to->keys);
    if (ADMIN) {
        pg_create(to->db, from->db);
        return;
    }
    char a[1200], b[1200];
    copy_file(from->url, to->url);
    snprintf(a, sizeof a, "%s-wal", from->url);
    snprintf(b, sizeof b, "%s-wal", to->url);
    if (!access(a, F_OK)) copy_file(a, b);
}

static store *snap_open(const struct snap *sn)
{
    store *s;
    ql_err err;
    if (store_open(sn->url, NULL, &s, &err)) FAIL("open %s: %s", sn->url, err.en);
    return s;
}

/* ---- the binary as a child --------------------------------------------- */

/* When the output lines of a run came, in microseconds from its start. */
struct timeline {
    int64_t at[64];
    int n;
};

/* Runs QL_BIN with args (NULL-terminated) on sn's store and keys, its
 * output appended to log (its standard output to the file out instead, when
 * out is not NULL). With kill_us >= 0 it gets SIGKILL after kill_us
 * microseconds unless it has exited. With tl (only without a kill), notes
 * when each line of its output came. Returns the exit status, or -1 when it
 * was killed; *ran_us (may be NULL) how long it ran. */
static int run_bin(const struct snap *sn, const char *const *args, const char *log, const char *out,
                   int64_t kill_us, int64_t *ran_us, struct timeline *tl)
{
    const char *argv[24];
    int n = 0;
    argv[n++] = tu_bin();
    for (int i = 0; args[i] && n < 18; i++) argv[n++] = args[i];
    argv[n++] = "--store";
    argv[n++] = sn->url;
    argv[n++] = "--keys-dir";
    argv[n++] = sn->keys;
    argv[n] = NULL;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) FAIL("open %s: %s", log, strerror(errno));
    int ofd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (out && ofd < 0) FAIL("open %s: %s", out, strerror(errno));
    int pipefd[2] = {-1, -1};
    if (tl && pipe(pipefd)) FAIL("pipe: %s", strerror(errno));
    fflush(stdout);
    int64_t t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        int to = tl ? pipefd[1] : fd;
        dup2(ofd >= 0 ? ofd : to, 1);
        dup2(to, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0, killed = 0;
    if (tl) {
        close(pipefd[1]);
        tl->n = 0;
        char b[4096];
        ssize_t k;
        while ((k = read(pipefd[0], b, sizeof b)) > 0) {
            int64_t at = now_us() - t0;
            for (ssize_t i = 0; i < k; i++)
                if (b[i] == '\n' && tl->n < 64) tl->at[tl->n++] = at;
            if (write(fd, b, (size_t)k) != k) break;
        }
        close(pipefd[0]);
        waitpid(pid, &st, 0);
    } else if (kill_us < 0) {
        waitpid(pid, &st, 0);
    } else {
        /* wait for its end or the deadline, whichever comes first */
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        for (;;) {
            pid_t w = waitpid(pid, &st, WNOHANG);
            if (w == pid) break;
            int64_t left = kill_us - (now_us() - t0);
            if (left <= 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
                break;
            }
            if (pfd >= 0) {
                struct pollfd pf = {pfd, POLLIN, 0};
                struct timespec ts = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
                ppoll(&pf, 1, &ts, NULL);
            } else {
                struct timespec ts = {0, (long)(left < 500 ? left : 500) * 1000};
                nanosleep(&ts, NULL);
            }
        }
        if (pfd >= 0) close(pfd);
    }
    close(fd);
    if (ofd >= 0) close(ofd);
    if (ran_us) *ran_us = now_us() - t0;
    if (killed) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void say_log_tail(const char *log)
{
    size_t len;
    char *text = tu_slurp(log, &len);
    if (!text) return;
    const char *p = len > 3000 ? text + len - 3000 : text;
    say("--- the end of %s ---", log);
    for (const char *line = p; *line;) {
        size_t k = strcspn(line, "\n");
        say("  %.*s", (int)k, line);
        line += k + (line[k] == '\n');
    }
    free(text);
}

/* ---- rows compared with the reference ---------------------------------- */

struct lines {
    char **v;
    size_t n, cap;
};

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void lines_add(struct lines *l, char *line)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = line;
}

/* Appends, for each query (a NULL-terminated list), a line naming it and
 * then each of its rows as one line, the columns separated by tabs. */
static void dump(store *s, const char *const *queries, struct lines *out)
{
    for (int q = 0; queries[q]; q++) {
        buf b;
        buf_init(&b, 0);
        buf_printf(&b, "== %.72s", queries[q]);
        lines_add(out, buf_steal(&b));
        store_rows *r;
        if (store_query(s, queries[q], NULL, 0, &r)) FAIL("%s: %s", queries[q], store_errmsg(s));
        int rc;
        while ((rc = store_step(r)) == 1) {
            for (int c = 0; c < store_ncols(r); c++)
                buf_printf(&b, "%s%s", c ? "\t" : "", store_col_text(r, c, NULL));
            lines_add(out, b.data ? buf_steal(&b) : xstrdup(""));
        }
        store_rows_close(r);
        if (rc < 0) FAIL("%s: %s", queries[q], store_errmsg(s));
        buf_free(&b);
    }
}

/* The first line where got differs from want, or -1. */
static long lines_differ(const struct lines *want, const struct lines *got)
{
    size_t n = want->n < got->n ? want->n : got->n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(want->v[i], got->v[i])) return (long)i;
    return want->n == got->n ? -1 : (long)n;
}

static void lines_compare(const struct lines *want, const struct lines *got, const char *what)
{
    size_t n = want->n < got->n ? want->n : got->n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(want->v[i], got->v[i]))
            FAIL("%s: row %zu differs from the uninterrupted run's:\n  want %.400s\n  got  %.400s",
                 what, i, want->v[i], got->v[i]);
    if (want->n != got->n)
        FAIL("%s: %zu rows, the uninterrupted run has %zu", what, got->n, want->n);
}

static int64_t count(store *s, const char *sql)
{
    int64_t n = -1;
    if (store_query_int(s, sql, NULL, 0, &n)) FAIL("%s: %s", sql, store_errmsg(s));
    return n;
}

/* ---- phases ------------------------------------------------------------- */

/* A phase: one command, killed and run again. */
struct phase {
    const char *name;   /* as printed and as QL_CRASH_PHASE names it */
    const char *verb;   /* `qianlima cycle VERB --help` must succeed for it to run */
    int needs_previous; /* starts from the previous phase's result */
    int share;          /* its kill points: this percentage of QL_CRASH_POINTS */
    int progress;       /* its output has a line per step of its work (when it begins) */
    /* the command's arguments for store sn (NULL-terminated, in argv) */
    void (*command)(const struct snap *sn, const char **argv);
    /* in-process steps from the previous phase's result (prev) to this
     * phase's start in sn (NULL: none) */
    void (*prepare)(store *s, const struct snap *sn, const struct snap *prev);
    const char *const *rows; /* the rows compared with the reference */
    /* counts of the reference's result that where and done compare with */
    void (*measure)(store *s, int64_t ref[4]);
    /* after a kill: what must hold at any moment (NULL, or what is wrong;
     * NULL: nothing beyond ledger verify), where it landed, from what the
     * store shows (a short label), and the share of the work done (0 to 1) */
    const char *(*invariant)(store *s, const int64_t ref[4]);
    const char *(*where)(store *s, const struct snap *sn, const int64_t ref[4]);
    double (*done)(store *s, const struct snap *sn, const int64_t ref[4]);
    /* after the last run: checks beyond the rows, ledger verify and audit
     * verify, with the reference and its counts (NULL: none) */
    void (*check)(store *s, const struct snap *sn, const struct snap *ref, const int64_t r[4]);
    /* state */
    struct snap before, after; /* its start, and its uninterrupted result */
    int ready;
    int64_t run_us, work_us; /* the reference's length, and when its work began */
    int64_t ref[4];
};

#define NOV "(SELECT id FROM cycles WHERE month = '2026-11')"

/* ---- phase 1: cycle run ------------------------------------------------- */

static void cycle_command(const struct snap *sn, const char **argv)
{
    (void)sn;
    argv[0] = "cycle";
    argv[1] = "run";
    argv[2] = "2026-11";
    argv[3] = NULL;
}

enum { C_ROWS, C_PAID, C_TOTAL, C_ADJ };

static void cycle_measure(store *s, int64_t ref[4])
{
    ref[C_ROWS] = count(s, "SELECT count(*) FROM entitlements WHERE cycle_id = " NOV);
    ref[C_PAID] =
        count(s, "SELECT count(*) FROM entitlements WHERE cycle_id = " NOV " AND amount_fen > 0");
    ref[C_TOTAL] = count(s, "SELECT COALESCE(SUM(amount_fen), 0) FROM entitlements WHERE "
                            "cycle_id = " NOV);
    ref[C_ADJ] = count(s, "SELECT count(*) FROM adjustments WHERE cycle_id = " NOV);
    say("cycle run: %lld corrections of October, %lld entitlements, %lld of them paying, "
        "%lld fen",
        (long long)ref[C_ADJ], (long long)ref[C_ROWS], (long long)ref[C_PAID],
        (long long)ref[C_TOTAL]);
}

/* A page of entitlements is one transaction (whole pages or nothing), and
 * an entitlement and its transfer go together. */
static const char *cycle_invariant(store *s, const int64_t ref[4])
{
    static char msg[200];
    int64_t rows = count(s, "SELECT count(*) FROM entitlements WHERE cycle_id = " NOV);
    int64_t posted = count(s, "SELECT count(*) FROM ledger_transfers WHERE "
                              "substr(idempotency_key, 1, 20) = 'entitlement:2026-11:'");
    int64_t paying =
        count(s, "SELECT count(*) FROM entitlements WHERE cycle_id = " NOV " AND amount_fen > 0");
    if (rows % CYCLE_BATCH && rows != ref[C_ROWS]) {
        snprintf(msg, sizeof msg, "%lld entitlements: not whole pages of %d", (long long)rows,
                 CYCLE_BATCH);
        return msg;
    }
    if (posted != paying) {
        snprintf(msg, sizeof msg, "%lld entitlements above 0 fen, %lld transfers",
                 (long long)paying, (long long)posted);
        return msg;
    }
    return NULL;
}

static const char *cycle_where(store *s, const struct snap *sn, const int64_t ref[4])
{
    (void)sn;
    if (!count(s, "SELECT count(*) FROM cycles WHERE month = '2026-11'"))
        return "before the cycle was created";
    if (count(s, "SELECT count(*) FROM cycles WHERE month = '2026-11' AND state = 'computed'"))
        return "after the cycle was marked computed";
    int64_t rows = count(s, "SELECT count(*) FROM entitlements WHERE cycle_id = " NOV);
    int64_t adj = count(s, "SELECT count(*) FROM adjustments WHERE cycle_id = " NOV);
    if (rows == 0 && adj < ref[C_ADJ]) return "while correcting earlier months";
    if (rows == 0) return "before the first page of entitlements";
    if (rows < ref[C_ROWS]) return "between pages of entitlements";
    return "after the last page, before the cycle was marked computed";
}

static double cycle_done(store *s, const struct snap *sn, const int64_t ref[4])
{
    (void)sn;
    if (count(s, "SELECT count(*) FROM cycles WHERE month = '2026-11' AND state = 'computed'"))
        return 1;
    int64_t rows = count(s, "SELECT count(*) FROM entitlements WHERE cycle_id = " NOV);
    int64_t adj = count(s, "SELECT count(*) FROM adjustments WHERE cycle_id = " NOV);
    int64_t all = ref[C_ROWS] + ref[C_ADJ];
    return all ? (double)(rows + adj) / (double)all : 0;
}

static void cycle_check(store *s, const struct snap *sn, const struct snap *ref, const int64_t r[4])
{
    (void)sn;
    (void)ref;
    /* every entitlement posted exactly once: the counts and the sum */
    EXPECT_EQ("entitlements", count(s, "SELECT count(*) FROM entitlements WHERE cycle_id = " NOV),
              r[C_ROWS]);
    EXPECT_EQ("applications with an entitlement",
              count(s, "SELECT count(DISTINCT application_id) FROM entitlements WHERE cycle_id "
                       "= " NOV),
              r[C_ROWS]);
    EXPECT_EQ("entitlement transfers",
              count(s, "SELECT count(*) FROM ledger_transfers WHERE substr(idempotency_key, 1, "
                       "20) = 'entitlement:2026-11:'"),
              r[C_PAID]);
    EXPECT_EQ("entitlements with their own transfer of their amount",
              count(s, "SELECT count(*) FROM entitlements e JOIN ledger_transfers t ON t.id = "
                       "e.transfer_id WHERE e.cycle_id = " NOV " AND t.idempotency_key = "
                       "'entitlement:2026-11:' || e.application_id AND t.amount_fen = "
                       "e.amount_fen"),
              r[C_PAID]);
    EXPECT_EQ("fen posted",
              count(s, "SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_transfers WHERE "
                       "substr(idempotency_key, 1, 20) = 'entitlement:2026-11:'"),
              r[C_TOTAL]);
    EXPECT_EQ("the cycle's total",
              count(s, "SELECT total_fen FROM cycles WHERE month = '2026-11' AND state = "
                       "'computed'"),
              r[C_TOTAL]);
    /* every correction once, with its transfer */
    EXPECT_EQ("corrections", count(s, "SELECT count(*) FROM adjustments WHERE cycle_id = " NOV),
              r[C_ADJ]);
    EXPECT_EQ("correction transfers",
              count(s, "SELECT count(*) FROM ledger_transfers WHERE substr(idempotency_key, 1, "
                       "15) = 'adjust:2026-11:'"),
              r[C_ADJ]);
    /* every registry change taken in once, each correction it caused naming it */
    EXPECT_EQ("registry changes waiting",
              count(s, "SELECT count(*) FROM fact_changes WHERE consumed_by IS NULL"), 0);
    EXPECT_EQ("registry changes taken in by November",
              count(s, "SELECT count(*) FROM fact_changes WHERE consumed_by = " NOV),
              count(s, "SELECT count(*) FROM fact_changes"));
    EXPECT_EQ("corrections naming a registry change",
              count(s, "SELECT count(*) FROM adjustment_causes x JOIN adjustments a ON a.id = "
                       "x.adjustment_id WHERE a.cycle_id = " NOV),
              count(s, "SELECT count(*) FROM fact_changes"));
    EXPECT_EQ("cycle.compute audit rows of November",
              count(s, "SELECT count(*) FROM audit_log WHERE action = 'cycle.compute' AND "
                       "object_id = CAST(" NOV " AS TEXT)"),
              1);
}

static const char *const cycle_rows[] = {
    "SELECT month, state, entitlements, total_fen, computed_by FROM cycles ORDER BY month",
    "SELECT c.month, e.application_id, e.talent_id, e.programme, e.policy_file_id, "
    "e.policy_version, e.tier, e.payee_type, e.payee_id, e.month_index, e.days, e.amount_fen, "
    "e.inputs, e.steps, t.idempotency_key FROM entitlements e JOIN cycles c ON c.id = "
    "e.cycle_id LEFT JOIN ledger_transfers t ON t.id = e.transfer_id ORDER BY c.month, "
    "e.application_id",
    "SELECT c.month, a.application_id, a.for_month, a.kind, a.was_fen, a.due_fen, a.amount_fen, "
    "a.payee_type, a.payee_id, a.steps, t.idempotency_key FROM adjustments a JOIN cycles c ON "
    "c.id = a.cycle_id JOIN ledger_transfers t ON t.id = a.transfer_id ORDER BY c.month, "
    "a.application_id, a.for_month",
    "SELECT code, kind, programme, payee_type, payee_id FROM ledger_accounts ORDER BY code",
    "SELECT t.idempotency_key, d.code, c.code, t.amount_fen, t.cycle, t.application_id, t.memo "
    "FROM ledger_transfers t JOIN ledger_accounts d ON d.id = t.debit_account JOIN "
    "ledger_accounts c ON c.id = t.credit_account ORDER BY t.idempotency_key",
    "SELECT action, count(*) FROM audit_log WHERE action LIKE 'cycle.%' GROUP BY action ORDER "
    "BY action",
    "SELECT f.talent_id, f.fact, f.effective, f.summary_en, c.month FROM fact_changes f LEFT "
    "JOIN cycles c ON c.id = f.consumed_by ORDER BY f.talent_id, f.id",
    "SELECT a.application_id, a.for_month, f.talent_id, f.effective FROM adjustment_causes x "
    "JOIN adjustments a ON a.id = x.adjustment_id JOIN fact_changes f ON f.id = x.change_id "
    "ORDER BY a.application_id, a.for_month, f.id",
    NULL,
};

/* ---- phase 2: the bank export (qianlima cycle export) ------------------- */

static void export_command(const struct snap *sn, const char **argv)
{
    static char out[700];
    snprintf(out, sizeof out, "%s/out", sn->dir);
    mkdir(out, 0700);
    argv[0] = "cycle";
    argv[1] = "export";
    argv[2] = "2026-11";
    argv[3] = "--out";
    argv[4] = out;
    argv[5] = "--batch-size";
    argv[6] = "400"; /* several batches, and a file for each */
    argv[7] = NULL;
}

static actor finance(void)
{
    actor a;
    actor_cli(&a);
    snprintf(a.username, sizeof a.username, "finance.crash");
    a.perms = role_perms(ROLE_FINANCE);
    return a;
}

/* The computed cycle approved by a second person within the year's budget. */
static void export_prepare(store *s, const struct snap *sn, const struct snap *prev)
{
    (void)sn;
    (void)prev;
    actor fin = finance();
    ql_err err;
    struct cycle_approval ap;
    if (cycle_approve(s, &fin, "2026-11", &ap, &err)) FAIL("approve: %s", err.en);
}

enum { X_PAYMENTS, X_BATCHES, X_FILES };

static int64_t files_in(const struct snap *sn)
{
    char d[700];
    snprintf(d, sizeof d, "%s/out", sn->dir);
    DIR *dir = opendir(d);
    int64_t n = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (e->d_name[0] != '.' && !strstr(e->d_name, ".tmp")) n++;
    if (dir) closedir(dir);
    return n;
}

static void export_measure(store *s, int64_t ref[4])
{
    ref[X_PAYMENTS] = count(s, "SELECT count(*) FROM payments WHERE cycle_id = " NOV);
    ref[X_BATCHES] = count(s, "SELECT count(*) FROM bank_batches WHERE cycle_id = " NOV);
    ref[X_FILES] = ref[X_BATCHES];
    say("export: %lld payments in %lld batches", (long long)ref[X_PAYMENTS],
        (long long)ref[X_BATCHES]);
}

/* A batch and its payments are one transaction. */
static const char *export_invariant(store *s, const int64_t ref[4])
{
    (void)ref;
    if (count(s, "SELECT count(*) FROM bank_batches b WHERE b.records <> (SELECT count(*) FROM "
                 "payments p WHERE p.batch_id = b.id) OR b.total_fen <> (SELECT "
                 "COALESCE(SUM(p.amount_fen), 0) FROM payments p WHERE p.batch_id = b.id)"))
        return "a batch whose records or total are not its payments'";
    return NULL;
}

static const char *export_where(store *s, const struct snap *sn, const int64_t ref[4])
{
    int64_t payments = count(s, "SELECT count(*) FROM payments WHERE cycle_id = " NOV);
    int64_t batches = count(s, "SELECT count(*) FROM bank_batches WHERE cycle_id = " NOV);
    int64_t files = files_in(sn);
    if (!payments) return "before the first page of payments";
    if (payments < ref[X_PAYMENTS]) return "between pages of payments";
    if (!batches) return "before the first batch";
    if (batches < ref[X_BATCHES]) return "between batches";
    if (files < ref[X_FILES]) return "while writing the files";
    if (count(s, "SELECT count(*) FROM cycles WHERE month = '2026-11' AND state = 'exported'"))
        return "after the cycle was marked exported";
    return "after the files, before the cycle was marked exported";
}

static double export_done(store *s, const struct snap *sn, const int64_t ref[4])
{
    int64_t payments = count(s, "SELECT count(*) FROM payments WHERE cycle_id = " NOV);
    int64_t batches = count(s, "SELECT count(*) FROM bank_batches WHERE cycle_id = " NOV);
    int64_t all = ref[X_PAYMENTS] + 2 * ref[X_BATCHES];
    return all ? (double)(payments + batches + files_in(sn)) / (double)all : 0;
}

/* The files written to DIR: the same names and bytes as the reference's,
 * and nothing else (no file left half written). */
static void export_check(store *s, const struct snap *sn, const struct snap *ref,
                         const int64_t r[4])
{
    (void)s;
    (void)r;
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/out", ref->dir);
    snprintf(b, sizeof b, "%s/out", sn->dir);
    DIR *d = opendir(a);
    if (!d) FAIL("the uninterrupted export wrote no directory %s", a);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char fa[1024], fb[1024];
        snprintf(fa, sizeof fa, "%s/%s", a, e->d_name);
        snprintf(fb, sizeof fb, "%s/%s", b, e->d_name);
        size_t la, lb;
        char *ta = tu_slurp(fa, &la), *tb = tu_slurp(fb, &lb);
        int same = ta && tb && la == lb && !memcmp(ta, tb, la);
        free(ta);
        free(tb);
        if (!same)
            FAIL("file %s differs from the uninterrupted export's, or is missing", e->d_name);
        files++;
    }
    closedir(d);
    d = opendir(b);
    int here = 0;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) here++;
    if (d) closedir(d);
    EXPECT_EQ("files in the export's directory", here, files);
}

static const char *const export_rows[] = {
    "SELECT p.request_id, c.month, a.code, p.payee_type, p.payee_id, p.attempt, p.amount_fen, "
    "p.bank_index, p.bank_masked, p.state, b.batch_no, s.idempotency_key FROM payments p JOIN "
    "cycles c ON c.id = p.cycle_id JOIN ledger_accounts a ON a.id = p.account_id LEFT JOIN "
    "bank_batches b ON b.id = p.batch_id JOIN ledger_transfers s ON s.id = p.send_transfer_id "
    "ORDER BY p.request_id",
    "SELECT c.month, b.batch_no, b.records, b.total_fen, b.created_by FROM bank_batches b JOIN "
    "cycles c ON c.id = b.cycle_id ORDER BY b.batch_no",
    "SELECT month, state FROM cycles ORDER BY month",
    "SELECT code, kind, programme, payee_type, payee_id FROM ledger_accounts ORDER BY code",
    "SELECT t.idempotency_key, d.code, c.code, t.amount_fen, t.cycle, t.application_id, t.memo "
    "FROM ledger_transfers t JOIN ledger_accounts d ON d.id = t.debit_account JOIN "
    "ledger_accounts c ON c.id = t.credit_account ORDER BY t.idempotency_key",
    "SELECT action, count(*) FROM audit_log WHERE action LIKE 'cycle.%' GROUP BY action ORDER "
    "BY action",
    NULL,
};

/* ---- phase 3: the bank's results (qianlima cycle import) ---------------- */

static char RESULT_FILE[700];

static void import_command(const struct snap *sn, const char **argv)
{
    (void)sn;
    argv[0] = "cycle";
    argv[1] = "import";
    argv[2] = "2026-11";
    argv[3] = RESULT_FILE;
    argv[4] = NULL;
}

/* The bank's answer to every record of the export's files (prev/out): paid,
 * except every ninth, failed. */
static void import_prepare(store *s, const struct snap *sn, const struct snap *prev)
{
    (void)s;
    snprintf(RESULT_FILE, sizeof RESULT_FILE, "%s/bank-result.csv", sn->dir);
    FILE *out = fopen(RESULT_FILE, "w");
    if (!out) FAIL("cannot write %s", RESULT_FILE);
    fputs("batch_no,request_id,account,amount,status,message\n", out);
    int64_t n = 0;
    for (int seq = 1;; seq++) {
        char name[900];
        snprintf(name, sizeof name, "%s/out/QLM202611-%04d.csv", prev->dir, seq);
        size_t len;
        char *csv = tu_slurp(name, &len);
        if (!csv) break;
        char *line = strstr(csv, "\r\n");
        for (line = line ? line + 2 : csv + len; *line;) {
            char *next = strstr(line, "\r\n");
            if (!next) break;
            *next = '\0';
            char batch[40], seqs[16], rid[40], acct[40], who[80], amount[40];
            if (sscanf(line, "%39[^,],%15[^,],%39[^,],%39[^,],%79[^,],%39[^,]", batch, seqs, rid,
                       acct, who, amount) != 6)
                FAIL("%s: a line the harness cannot read: %.200s", name, line);
            n++;
            fprintf(out, "%s,%s,%s,%s,%s\n", batch, rid, acct, amount,
                    n % 9 ? "S" : "F,账户状态异常");
            line = next + 2;
        }
        free(csv);
    }
    fclose(out);
    if (!n) FAIL("the export wrote no records to answer");
}

enum { I_SETTLED };

static void import_measure(store *s, int64_t ref[4])
{
    ref[I_SETTLED] = count(s, "SELECT count(*) FROM payments WHERE cycle_id = " NOV
                              " AND settle_transfer_id IS NOT NULL");
    say("import: %lld payments settled, %lld of them failed", (long long)ref[I_SETTLED],
        (long long)count(s, "SELECT count(*) FROM payments WHERE cycle_id = " NOV
                            " AND state = 'failed'"));
}

static const char *import_where(store *s, const struct snap *sn, const int64_t ref[4])
{
    (void)sn;
    int64_t settled = count(s, "SELECT count(*) FROM payments WHERE cycle_id = " NOV
                               " AND settle_transfer_id IS NOT NULL");
    if (count(s, "SELECT count(*) FROM bank_imports WHERE cycle_id = " NOV))
        return "after the import was recorded";
    if (!settled) return "before the first payment settled";
    if (settled < ref[I_SETTLED]) return "between pages of results";
    return "after the last result, before the import was recorded";
}

static double import_done(store *s, const struct snap *sn, const int64_t ref[4])
{
    (void)sn;
    int64_t settled = count(s, "SELECT count(*) FROM payments WHERE cycle_id = " NOV
                               " AND settle_transfer_id IS NOT NULL");
    return ref[I_SETTLED] ? (double)settled / (double)ref[I_SETTLED] : 0;
}

static const char *const import_rows[] = {
    "SELECT p.request_id, p.attempt, p.amount_fen, p.state, p.result_code, p.result_message, "
    "p.settled_by, s.idempotency_key FROM payments p LEFT JOIN ledger_transfers s ON s.id = "
    "p.settle_transfer_id ORDER BY p.request_id",
    "SELECT c.month, i.digest, i.file_name, i.records, i.paid, i.failed, i.mismatches, i.report, "
    "i.imported_by FROM bank_imports i JOIN cycles c ON c.id = i.cycle_id ORDER BY c.month, "
    "i.digest",
    "SELECT month, state FROM cycles ORDER BY month",
    "SELECT code, kind, programme, payee_type, payee_id FROM ledger_accounts ORDER BY code",
    "SELECT t.idempotency_key, d.code, c.code, t.amount_fen, t.cycle, t.application_id, t.memo "
    "FROM ledger_transfers t JOIN ledger_accounts d ON d.id = t.debit_account JOIN "
    "ledger_accounts c ON c.id = t.credit_account ORDER BY t.idempotency_key",
    "SELECT action, count(*) FROM audit_log WHERE action LIKE 'cycle.%' GROUP BY action ORDER "
    "BY action",
    NULL,
};

static struct phase PHASES[] = {
    {.name = "cycle run",
     .verb = "run",
     .share = 100,
     .progress = 1,
     .command = cycle_command,
     .rows = cycle_rows,
     .measure = cycle_measure,
     .invariant = cycle_invariant,
     .where = cycle_where,
     .done = cycle_done,
     .check = cycle_check},
    {.name = "export",
     .verb = "export",
     .needs_previous = 1,
     .share = 25,
     .command = export_command,
     .prepare = export_prepare,
     .rows = export_rows,
     .measure = export_measure,
     .invariant = export_invariant,
     .where = export_where,
     .done = export_done,
     .check = export_check},
    {.name = "import",
     .verb = "import",
     .needs_previous = 1,
     .share = 25,
     .command = import_command,
     .prepare = import_prepare,
     .rows = import_rows,
     .measure = import_measure,
     .where = import_where,
     .done = import_done},
};
#define NPHASES ((int)(sizeof PHASES / sizeof PHASES[0]))

/* ---- the store the phases start from ------------------------------------ */

static struct snap START;

/* A UnionPay card number (Luhn) for k. */
static void card_number(int64_t k, char out[20])
{
    snprintf(out, 20, "621700%012lld", (long long)(k % 1000000000000LL));
    int sum = 0;
    for (int i = 17, dbl = 1; i >= 0; i--, dbl = !dbl) {
        int d = out[i] - '0';
        if (dbl && (d *= 2) > 9) d -= 9;
        sum += d;
    }
    out[18] = (char)('0' + (10 - sum % 10) % 10);
    out[19] = '\0';
}

struct build {
    int64_t employer;
    int from, to;
    int late; /* the late activations, after October was paid */
    int64_t *apps;
};

static int64_t subsidy(store *s, const struct build *b, int i, int32_t activate)
{
    static const char *const levels[] = {"A", "B", "C"};
    char name[40], card[20];
    snprintf(name, sizeof name, "人才%05d", i);
    card_number(i + 1, card);
    return fx_active_subsidy(s, b->employer, name, levels[i % 3], card, activate);
}

static void step(store *s, int64_t app, enum app_action a, int32_t today, int32_t effective)
{
    actor cli;
    actor_cli(&cli);
    struct app_step st = {a, "核查", NULL, today, effective};
    struct app_result res;
    ql_err err;
    if (subsidy_transition(s, &cli, app, &st, &res, &err))
        FAIL("%s of application %lld: %s", subsidy_action_name(a), (long long)app, err.en);
}

static int32_t ymd(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

/* Before October: subsidies from..to-1, in one transaction, from 1 October
 * (one in ten from 15 November); one in ten suspended from 1 November
 * (0 fen in November). One in twenty is left for the late activations. */
static int build_before(store *s, void *vctx)
{
    struct build *b = vctx;
    for (int i = b->from; i < b->to; i++) {
        if (i % 20 == 19) continue;
        int32_t start = i % 10 == 0 ? ymd(2026, 11, 15) : ymd(2026, 10, 1);
        b->apps[i] = subsidy(s, b, i, start);
        if (i % 10 == 3) step(s, b->apps[i], AA_SUSPEND, ymd(2026, 10, 28), ymd(2026, 11, 1));
    }
    return 0;
}

/* Ends the lease of application app's tenant on day, in the registry. */
static void end_lease(store *s, int64_t app, const char *day)
{
    actor cli;
    actor_cli(&cli);
    int64_t lease = 0;
    if (store_query_int(s,
                        "SELECT l.id FROM leases l JOIN applications a ON a.talent_id = "
                        "l.talent_id WHERE a.id = $1",
                        (store_val[]){SV_INT(app)}, 1, &lease))
        FAIL("the lease of application %lld: %s", (long long)app, store_errmsg(s));
    reg_report rep;
    ql_err err;
    if (registry_lease_end(s, &cli, lease, day, "提前退租", &rep, &err))
        FAIL("ending lease %lld: %s", (long long)lease, err.en);
}

/* After October was paid: one in ten suspended from 11 to 20 October and
 * one in twenty ended on 15 October, both recorded late (recoveries); one
 * in twenty whose lease ended on 20 October, recorded late in the registry
 * (recoveries found through the index of registry changes); one in ten
 * suspended from 11 to 20 November, one in twenty ending on 20 November;
 * the late activations, from 1 October (arrears). */
static int build_after(store *s, void *vctx)
{
    struct build *b = vctx;
    int32_t nov3 = ymd(2026, 11, 3);
    for (int i = b->from; i < b->to; i++) {
        int64_t app = b->apps[i];
        if (i % 20 == 7) {
            end_lease(s, app, "2026-10-20");
        } else if (i % 20 == 19) {
            subsidy(s, b, i, ymd(2026, 10, 1));
        } else if (i % 10 == 1) {
            step(s, app, AA_SUSPEND, nov3, ymd(2026, 10, 11));
            step(s, app, AA_RESUME, nov3, ymd(2026, 10, 21));
        } else if (i % 20 == 2) {
            step(s, app, AA_END, nov3, ymd(2026, 10, 15));
        } else if (i % 10 == 4) {
            step(s, app, AA_SUSPEND, ymd(2026, 11, 10), ymd(2026, 11, 11));
            step(s, app, AA_RESUME, ymd(2026, 11, 20), ymd(2026, 11, 21));
        } else if (i % 20 == 5) {
            step(s, app, AA_END, ymd(2026, 11, 21), ymd(2026, 11, 20));
        }
    }
    return 0;
}

/* October computed, approved, exported and paid in full, in the process. */
static void pay_october(store *s)
{
    actor cli, fin = finance();
    actor_cli(&cli);
    ql_err err;
    struct cycle_report rep;
    struct cycle_approval ap;
    if (cycle_budget_set(s, &fin, "district-rent", 2026, 1000000000000LL, &err) ||
        cycle_run(s, &cli, ymd(2026, 10, 1), NULL, NULL, &rep, &err) ||
        cycle_approve(s, &fin, "2026-10", &ap, &err))
        FAIL("october: %s", err.en);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/october", START.dir);
    mkdir(dir, 0700);
    struct bank_export_opts o = {BANK_CSV, NULL, BANK_BATCH_MAX, dir};
    struct bank_export_report xr;
    if (bank_export(s, &cli, "2026-10", &o, NULL, NULL, &xr, &err))
        FAIL("october's export: %s", err.en);
    char name[800];
    snprintf(name, sizeof name, "%s/QLM202610-0001.csv", dir);
    size_t len;
    char *csv = tu_slurp(name, &len);
    if (!csv) FAIL("october's export wrote no %s", name);
    buf result;
    buf_init(&result, 0);
    buf_puts(&result, "batch_no,request_id,account,amount,status\n");
    char *line = strstr(csv, "\r\n");
    for (line = line ? line + 2 : csv + len; *line;) {
        char *next = strstr(line, "\r\n");
        if (!next) break;
        *next = '\0';
        char batch[40], seqs[16], rid[40], acct[40], who[80], amount[40];
        if (sscanf(line, "%39[^,],%15[^,],%39[^,],%39[^,],%79[^,],%39[^,]", batch, seqs, rid, acct,
                   who, amount) != 6)
            FAIL("october's export: a line the harness cannot read: %.200s", line);
        buf_printf(&result, "%s,%s,%s,%s,S\n", batch, rid, acct, amount);
        line = next + 2;
    }
    free(csv);
    struct bank_import_report ir;
    int rc = bank_import(s, &cli, "2026-10", result.data, result.len, "october.csv", &ir, &err);
    buf_free(&result);
    if (rc) FAIL("october's results: %s", err.en);
    json_decref(ir.items);
    if (ir.mismatches) FAIL("october's results: %lld mismatches", (long long)ir.mismatches);
}

static void build_start(void)
{
    int64_t t0 = now_us();
    snap_init(&START, "start");
    snap_empty(&START);
    store *s = snap_open(&START);
    ql_err err;
    if (store_migrate(s, NULL, &err)) FAIL("migrate: %s", err.en);
    if (audit_init(START.keys, "blake2b", &err) || pii_init(START.keys, &err))
        FAIL("keys: %s", err.en);
    if (fx_rules(s)) FAIL("the calendar and the district policy");
    struct build b = {fx_employer(s, "91310104MA1FL00001"), 0, 0, 0,
                      xcalloc((size_t)SUBSIDIES, sizeof(int64_t))};
    store_tx_fn phases[] = {build_before, build_after};
    for (int k = 0; k < 2; k++) {
        if (k == 1) pay_october(s);
        for (b.from = 0; b.from < SUBSIDIES; b.from = b.to) {
            b.to = b.from + 250 < SUBSIDIES ? b.from + 250 : SUBSIDIES;
            if (store_tx(s, STORE_TX_WRITE, phases[k], &b))
                FAIL("subsidies from %d: %s", b.from, store_errmsg(s));
        }
    }
    free(b.apps);
    if (audit_committed(s, &err)) FAIL("audit anchor: %s", err.en);
    store_close(s);
    say("the store: %d subsidies through the workflow, October paid, in %.1f s", SUBSIDIES,
        (double)(now_us() - t0) / 1e6);
}

/* ---- checks ------------------------------------------------------------- */

static void say_violation(const struct ledger_violation *v, void *ctx)
{
    (void)ctx;
    say("  %s %s: %s", v->check, v->subject, v->en);
}

/* The ledger at any moment: every violation said, then a failure. */
static void ledger_clean(store *s, const char *when)
{
    actor cli;
    actor_cli(&cli);
    struct ledger_verify_report rep;
    ql_err err;
    if (ledger_verify(s, &cli, say_violation, NULL, &rep, &err))
        FAIL("%s: ledger_verify: %s", when, err.en);
    if (rep.violations) FAIL("%s: %lld ledger violation(s)", when, (long long)rep.violations);
}

/* qianlima ledger verify and audit verify on sn (their output in the
 * file beside log). */
static void verify_cli(const struct snap *sn, const char *log, const char *when)
{
    char path[800];
    snprintf(path, sizeof path, "%s.out", log);
    const char *args[] = {"ledger", "verify", "--json", NULL};
    int rc = run_bin(sn, args, log, path, -1, NULL, NULL);
    size_t len;
    char *out = tu_slurp(path, &len);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    int ok = json_is_true(json_object_get(j, "ok"));
    json_decref(j);
    if (rc != 0 || !ok) {
        char msg[3000];
        snprintf(msg, sizeof msg, "%s: qianlima ledger verify (exit %d):\n%.2000s", when, rc,
                 out ? out : "");
        free(out);
        say_log_tail(log);
        fail_now(msg);
    }
    free(out);
    const char *audit[] = {"audit", "verify", NULL};
    rc = run_bin(sn, audit, log, path, -1, NULL, NULL);
    if (rc != 0) {
        char msg[3000];
        out = tu_slurp(path, &len);
        snprintf(msg, sizeof msg, "%s: qianlima audit verify (exit %d):\n%.2000s", when, rc,
                 out ? out : "");
        free(out);
        say_log_tail(log);
        fail_now(msg);
    }
}

/* ---- one phase ---------------------------------------------------------- */

/* The phase's start and its uninterrupted result. */
static void phase_ready(int i)
{
    struct phase *ph = &PHASES[i];
    if (ph->ready) return;
    char name[32];
    snprintf(name, sizeof name, "p%d_before", i);
    snap_init(&ph->before, name);
    snprintf(name, sizeof name, "p%d_after", i);
    snap_init(&ph->after, name);
    if (!ph->needs_previous) {
        snap_copy(&START, &ph->before);
    } else {
        if (i == 0) FAIL("phase %s has no previous phase", ph->name);
        phase_ready(i - 1);
        snap_copy(&PHASES[i - 1].after, &ph->before);
    }
    if (ph->prepare) {
        ql_err err;
        /* the audit rows it appends move this copy's anchor */
        if (audit_init(ph->before.keys, "blake2b", &err)) FAIL("keys: %s", err.en);
        store *s = snap_open(&ph->before);
        ph->prepare(s, &ph->before, i ? &PHASES[i - 1].after : NULL);
        store_close(s);
    }
    /* the reference: run twice on fresh copies (the first warms the
     * caches), the second kept, its length and progress the kill window */
    const char *argv[12];
    char log[700];
    snprintf(log, sizeof log, "%s/reference.log", tu_tmpdir());
    struct timeline tl;
    for (int k = 0; k < 2; k++) {
        snap_copy(&ph->before, &ph->after);
        ph->command(&ph->after, argv);
        int rc = run_bin(&ph->after, argv, log, NULL, -1, &ph->run_us, &tl);
        if (rc != 0) {
            say_log_tail(log);
            FAIL("%s, uninterrupted: exit %d", ph->name, rc);
        }
    }
    verify_cli(&ph->after, log, ph->name);
    store *s = snap_open(&ph->after);
    ph->measure(s, ph->ref);
    store_close(s);
    /* its work begins one progress step before its first line of output */
    ph->work_us = 0;
    if (ph->progress && tl.n >= 2) {
        int64_t step = (tl.at[tl.n - 1] - tl.at[0]) / (tl.n - 1);
        ph->work_us = tl.at[0] > step ? tl.at[0] - step : 0;
    }
    ph->ready = 1;
    say("%s: an uninterrupted run takes %.2f s, its work from %.2f s (%d lines of output)",
        ph->name, (double)ph->run_us / 1e6, (double)ph->work_us / 1e6, tl.n);
}

/* What one worker saw. */
struct tally {
    int kills, sequences, early;
    char label[8][80];
    int n[8];
};

static void tally_where(struct tally *t, const char *label, int n)
{
    int j = 0;
    while (j < 7 && t->label[j][0] && strcmp(t->label[j], label)) j++;
    snprintf(t->label[j], sizeof t->label[j], "%s", label);
    t->n[j] += n;
}

/* A worker's idea of how long a run takes and when its work begins: the
 * reference's at first, then corrected by what the runs show (the machine
 * may be busier or quieter than it was): a fresh run that ends before its
 * kill, a kill that finds no progress after the expected start of the work,
 * or progress before it. */
struct pace {
    uint64_t rng;
    int64_t run_us, work_us;
};

/* The delay of the next kill, for a run that has (1 - done) of the work
 * left: one in four uniform from its start, the others from the start of
 * its work, to a little past its expected end. */
static int64_t pace_delay(struct pace *p, double done)
{
    int64_t end = p->work_us + (int64_t)((double)(p->run_us - p->work_us) * (1 - done));
    end += end / 20 + 2;
    int64_t from = p->work_us < end ? p->work_us : end / 2;
    uint64_t x = splitmix(&p->rng);
    if (x % 4 == 0) return (int64_t)((x >> 2) % (uint64_t)end);
    return from + (int64_t)((x >> 2) % (uint64_t)(end - from));
}

struct sequence {
    struct phase *ph;
    const struct lines *ref;
    struct snap pt;
    char log[700];
    int worker, number;
};

/* One sequence: a fresh copy, up to nk runs killed (after the delays of
 * replay, when given, else after delays from p), a run to the end, the
 * checks. Returns how many kills landed (0: the first run ended before
 * its kill, and nothing was checked). */
static int sequence_run(struct sequence *q, struct pace *p, const int64_t *replay, int nk,
                        struct tally *t)
{
    struct phase *ph = q->ph;
    const char *argv[12];
    snap_copy(&ph->before, &q->pt);
    unlink(q->log);
    ph->command(&q->pt, argv);
    char trail[1000] = "", when[1400];
    int64_t delays[8];
    size_t tl = 0;
    int landed = 0, finished = 0;
    double done = 0;
    for (int k = 0; k < nk && !finished; k++) {
        int64_t ran;
        delays[k] = replay ? replay[k] : pace_delay(p, done);
        int rc = run_bin(&q->pt, argv, q->log, NULL, delays[k], &ran, NULL);
        if (rc == -1) {
            landed++;
            store *ps = snap_open(&q->pt);
            snprintf(when, sizeof when, "%s %d.%d, after the kill at %lld us (seed %llu)", ph->name,
                     q->worker, q->number, (long long)delays[k], (unsigned long long)SEED);
            const char *bad = ph->invariant ? ph->invariant(ps, ph->ref) : NULL;
            if (bad) FAIL("%s: %s", when, bad);
            const char *w = ph->where(ps, &q->pt, ph->ref);
            ledger_clean(ps, when);
            double before = done;
            done = ph->done ? ph->done(ps, &q->pt, ph->ref) : 0;
            store_close(ps);
            if (ph->done && !replay) { /* when the work begins, as the runs show it */
                int64_t shift = 0;
                if (done <= before && delays[k] > p->work_us)
                    shift = (delays[k] - p->work_us) / 2; /* no progress: it begins later */
                else if (done > before && delays[k] < p->work_us)
                    shift = -(p->work_us - delays[k]) / 2; /* progress: it began earlier */
                p->work_us += shift;
                p->run_us += shift;
            }
            tally_where(t, w, 1);
            tl += (size_t)snprintf(trail + tl, sizeof trail - tl, "%s%lld us (%s)", k ? ", " : "",
                                   (long long)delays[k], w);
            if (tl >= sizeof trail) tl = sizeof trail - 1;
        } else if (rc == 0) {
            finished = 1;
            if (k == 0) { /* a whole run, shorter than expected */
                p->work_us = (p->work_us + p->work_us * ran / p->run_us) / 2;
                p->run_us = (p->run_us + ran) / 2;
            }
        } else {
            say_log_tail(q->log);
            FAIL("%s %d.%d (seed %llu): exit %d after %d kill(s)", ph->name, q->worker, q->number,
                 (unsigned long long)SEED, rc, landed);
        }
    }
    if (!landed) return 0;
    snprintf(when, sizeof when,
             "%s %d.%d, killed at %s; replay with QL_CRASH_PHASE='%s' QL_CRASH_KILL_US=", ph->name,
             q->worker, q->number, trail, ph->name);
    for (int k = 0; k < landed; k++) {
        size_t w = strlen(when);
        snprintf(when + w, sizeof when - w, "%s%lld", k ? "," : "", (long long)delays[k]);
    }
    if (!finished) {
        int64_t ran;
        int rc = run_bin(&q->pt, argv, q->log, NULL, -1, &ran, NULL);
        if (rc != 0) {
            say_log_tail(q->log);
            FAIL("%s: the run after the kills ended with exit %d", when, rc);
        }
    }
    verify_cli(&q->pt, q->log, when);
    struct lines got = {0};
    store *ps = snap_open(&q->pt);
    dump(ps, ph->rows, &got);
    if (ph->check) ph->check(ps, &q->pt, &ph->after, ph->ref);
    store_close(ps);
    lines_compare(q->ref, &got, when);
    lines_free(&got);
    say("%s %d.%d: killed at %s; ok", ph->name, q->worker, q->number, trail);
    return landed;
}

/* Worker w: sequences until want kills landed. */
static void worker_run(struct phase *ph, const struct lines *ref, int w, int want, struct tally *t)
{
    struct sequence q;
    memset(&q, 0, sizeof q);
    q.ph = ph;
    q.ref = ref;
    q.worker = w;
    char name[32];
    snprintf(name, sizeof name, "w%d", w);
    snap_init(&q.pt, name);
    snprintf(q.log, sizeof q.log, "%s/w%d.log", tu_tmpdir(), w);
    struct pace p = {SEED ^ (0x9E37ull * (uint64_t)(ph - PHASES + 1)) ^ ((uint64_t)(w + 1) << 40),
                     ph->run_us, ph->work_us};
    for (int tries = 0; t->kills < want; tries++) {
        if (tries > 3 * want + 10)
            FAIL("%s: only %d of %d runs were killed before they ended", ph->name, t->kills, tries);
        int nk = NREPLAY ? NREPLAY : 3 + (int)(splitmix(&p.rng) % 3);
        q.number++;
        int landed = sequence_run(&q, &p, NREPLAY ? REPLAY : NULL, nk, t);
        if (!landed) {
            t->early++;
            continue;
        }
        t->kills += landed;
        t->sequences++;
        if (NREPLAY) break;
    }
    snap_drop(&q.pt);
}

/* The checks can fail: faults made by hand in copies of the cycle's
 * uninterrupted result are each caught. */
static int64_t violations(store *s)
{
    actor cli;
    actor_cli(&cli);
    struct ledger_verify_report rep;
    ql_err err;
    if (ledger_verify(s, &cli, NULL, NULL, &rep, &err)) FAIL("ledger_verify: %s", err.en);
    return rep.violations;
}

static void test_checks(void **state)
{
    (void)state;
    struct phase *ph = &PHASES[0];
    phase_ready(0);
    struct lines ref = {0}, got = {0};
    store *s = snap_open(&ph->after);
    dump(s, ph->rows, &ref);
    store_close(s);
    struct snap c;
    snap_init(&c, "control");
    static const char *const faults[] = {
        /* an entitlement's steps changed: the rows differ */
        "UPDATE entitlements SET inputs = '{}' WHERE id = (SELECT MAX(id) FROM entitlements)",
        /* an entitlement of 0 fen lost: a page not whole, the cycle's count */
        "DELETE FROM entitlements WHERE id = (SELECT MAX(id) FROM entitlements WHERE amount_fen = "
        "0)",
        /* an entitlement above 0 fen lost: its transfer without it */
        "DELETE FROM entitlements WHERE id = (SELECT MAX(id) FROM entitlements WHERE amount_fen > "
        "0)",
    };
    for (int i = 0; i < 3; i++) {
        snap_copy(&ph->after, &c);
        s = snap_open(&c);
        if (store_exec(s, faults[i], NULL, 0, NULL)) FAIL("%s: %s", faults[i], store_errmsg(s));
        dump(s, ph->rows, &got);
        assert_true(lines_differ(&ref, &got) >= 0);
        lines_free(&got);
        const char *bad = cycle_invariant(s, ph->ref);
        if (i == 0) {
            assert_null(bad);
            assert_int_equal(violations(s), 0);
        } else {
            assert_non_null(bad);
            assert_true(violations(s) > 0);
        }
        store_close(s);
    }
    /* and the command says so */
    char log[700];
    snprintf(log, sizeof log, "%s/control.log", tu_tmpdir());
    const char *args[] = {"ledger", "verify", NULL};
    assert_int_equal(run_bin(&c, args, log, NULL, -1, NULL, NULL), 1);
    snap_drop(&c);
    lines_free(&ref);
}

static void test_phase(void **state)
{
    struct phase *ph = *state;
    int i = (int)(ph - PHASES);
    phase_ready(i);
    struct lines ref = {0};
    store *s = snap_open(&ph->after);
    dump(s, ph->rows, &ref);
    store_close(s);

    int64_t t0 = now_us();
    int points = POINTS * ph->share / 100 > 0 ? POINTS * ph->share / 100 : 1;
    int jobs = NREPLAY ? 1 : JOBS, want = (points + jobs - 1) / jobs;
    struct tally sum = {0};
    if (jobs == 1) {
        worker_run(ph, &ref, 0, NREPLAY ? 1 : want, &sum);
    } else {
        /* each worker a process of its own (its own connections), its
         * tally back through a pipe */
        pid_t pid[8];
        int fd[8];
        fflush(stdout);
        for (int w = 0; w < jobs; w++) {
            int p[2];
            if (pipe(p)) FAIL("pipe: %s", strerror(errno));
            pid[w] = fork();
            if (pid[w] < 0) FAIL("fork: %s", strerror(errno));
            if (pid[w] == 0) {
                close(p[0]);
                WORKER = w;
                if (ADMIN) { /* the parent's connection stays the parent's */
                    ADMIN = NULL;
                    pg_admin();
                }
                struct tally t = {0};
                worker_run(ph, &ref, w, want, &t);
                if (write(p[1], &t, sizeof t) != (ssize_t)sizeof t) _exit(1);
                _exit(0);
            }
            close(p[1]);
            fd[w] = p[0];
        }
        int failed = 0;
        for (int w = 0; w < jobs; w++) {
            struct tally t;
            ssize_t n = read(fd[w], &t, sizeof t);
            close(fd[w]);
            int st;
            waitpid(pid[w], &st, 0);
            if (n != (ssize_t)sizeof t || !WIFEXITED(st) || WEXITSTATUS(st)) {
                failed++;
                continue;
            }
            sum.kills += t.kills;
            sum.sequences += t.sequences;
            sum.early += t.early;
            for (int j = 0; j < 8 && t.label[j][0]; j++) tally_where(&sum, t.label[j], t.n[j]);
        }
        if (failed) FAIL("%s: %d of %d workers failed (above)", ph->name, failed, jobs);
    }
    lines_free(&ref);
    say("%s: %d kill points in %d sequences by %d worker(s) (%d more runs ended before their "
        "kill), %.1f s; seed %llu",
        ph->name, sum.kills, sum.sequences, jobs, sum.early, (double)(now_us() - t0) / 1e6,
        (unsigned long long)SEED);
    for (int j = 0; j < 8 && sum.label[j][0]; j++) say("  %4d killed %s", sum.n[j], sum.label[j]);
    if (!NREPLAY && sum.kills < points)
        FAIL("%s: %d kill points, fewer than %d", ph->name, sum.kills, points);
}

/* ---- main --------------------------------------------------------------- */

static int group_teardown(void **state)
{
    (void)state;
    if (getenv("QL_KEEP_TMP")) { /* the stores stay for a look */
        say("the stores are kept in %s%s%s", tu_tmpdir(), ADMIN ? " and the databases " : "",
            ADMIN ? PG_BASE : "");
        store_close(ADMIN);
        return 0;
    }
    for (int i = 0; i < NPHASES; i++)
        if (PHASES[i].before.dir[0]) {
            snap_drop(&PHASES[i].before);
            snap_drop(&PHASES[i].after);
        }
    if (START.dir[0]) snap_drop(&START);
    for (int w = 0; w < 9 && START.dir[0]; w++) { /* what a failed worker left */
        struct snap sn;
        char name[16];
        if (w < 8)
            snprintf(name, sizeof name, "w%d", w);
        else
            snprintf(name, sizeof name, "control");
        snap_init(&sn, name);
        snap_drop(&sn);
    }
    store_close(ADMIN);
    return 0;
}

static void test_start(void **state)
{
    (void)state;
    if (tu_pg_url()) pg_admin();
    build_start();
}

static long env_long(const char *name, long def, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) {
        fprintf(stderr, "%s: expected a number from %ld to %ld\n", name, lo, hi);
        exit(2);
    }
    return x;
}

/* 1 when `qianlima cycle VERB --help` succeeds. */
static int has_verb(const char *verb)
{
    const char *args[] = {"cycle", verb, "--help", NULL};
    static char out[1 << 14], err[1 << 14];
    return tu_run(args, NULL, out, sizeof out, err, sizeof err) == 0;
}

int main(void)
{
    const char *seed = getenv("QL_CRASH_SEED");
    if (seed && *seed) {
        char *end;
        SEED = strtoull(seed, &end, 10);
        if (*end) {
            fprintf(stderr, "QL_CRASH_SEED: expected a number\n");
            return 2;
        }
    } else {
        SEED = ((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16)) % 1000000000ull;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    POINTS = (int)env_long("QL_CRASH_POINTS", 100, 1, 100000);
    SUBSIDIES = (int)env_long("QL_CRASH_SUBSIDIES", tu_pg_url() ? 1200 : 2500, 10, 1000000);
    JOBS = (int)env_long("QL_CRASH_JOBS", cores < 1 ? 1 : cores > 4 ? 4 : cores, 1, 8);
    ONLY_PHASE = getenv("QL_CRASH_PHASE");
    const char *replay = getenv("QL_CRASH_KILL_US");
    for (const char *p = replay; p && *p && NREPLAY < 8;) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || (*end && *end != ',')) {
            fprintf(stderr, "QL_CRASH_KILL_US: expected microseconds, comma-separated\n");
            return 2;
        }
        REPLAY[NREPLAY++] = d;
        p = *end ? end + 1 : end;
    }
    /* The stores live in memory when the machine has /dev/shm: a killed
     * process loses nothing it wrote (the kernel keeps it), so flushes to
     * a disk would only slow the runs down. */
    struct stat st;
    if (!getenv("TMPDIR") && !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) &&
        !access("/dev/shm", W_OK))
        setenv("TMPDIR", "/dev/shm", 1);
    log_set_level(LOG_WARN);
    say("crash: seed %llu (QL_CRASH_SEED=%llu gives the same delays), %d kill points per phase, "
        "%d subsidies, %d worker(s), %s",
        (unsigned long long)SEED, (unsigned long long)SEED, POINTS, SUBSIDIES, JOBS,
        tu_pg_url() ? "PostgreSQL" : "SQLite");
    struct CMUnitTest tests[2 + NPHASES];
    int n = 0;
    tests[n++] = (struct CMUnitTest){"store", test_start, NULL, NULL, NULL};
    if (!ONLY_PHASE || !*ONLY_PHASE || !strcmp(ONLY_PHASE, PHASES[0].name))
        tests[n++] = (struct CMUnitTest){"the checks catch faults", test_checks, NULL, NULL, NULL};
    for (int i = 0; i < NPHASES; i++) {
        if (ONLY_PHASE && *ONLY_PHASE && strcmp(ONLY_PHASE, PHASES[i].name)) continue;
        if (!has_verb(PHASES[i].verb)) {
            say("%s: `qianlima cycle %s` is not in this binary; the phase does not run",
                PHASES[i].name, PHASES[i].verb);
            continue;
        }
        tests[n++] = (struct CMUnitTest){PHASES[i].name, test_phase, NULL, NULL, &PHASES[i]};
    }
    return _cmocka_run_group_tests("crash", tests, (size_t)n, NULL, group_teardown);
}
