/* jobs.c - background jobs: the jobs table, and a thread per job with its
 * own store connection (jobs.h). */
#include "jobs/jobs.h"

#include "core/date.h"
#include "core/log.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "ledger/cycle.h"
#include "ledger/cycle_list.h"
#include "policy/rules.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct job {
    struct job *next; /* in the list of this process's running jobs */
    int64_t id;
    enum job_kind kind;
    char month[8];
    int32_t first;
    actor a;
    store *db;
    enum bank_format format;
    int batch_size;
    char dir[PATH_MAX];
    int64_t done, total;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended = PTHREAD_COND_INITIALIZER;
static struct job *running;

static const char *kind_name(enum job_kind k)
{
    return k == JOB_CYCLE_EXPORT ? "cycle.export" : "cycle.run";
}

static int check_month(const char *month, int32_t *first, ql_err *err)
{
    if (!month || strlen(month) != 7 || date_parse_month(month, first))
        return ql_errf(err, QL_EINVAL, "month", "the month must be YYYY-MM, such as 2026-11",
                       "月份格式应为 YYYY-MM，例如 2026-11");
    return 0;
}

int jobs_bank_dir(const char *data_dir, const char *month, char *out, size_t n, ql_err *err)
{
    int32_t first;
    int rc = check_month(month, &first, err);
    if (rc) return rc;
    if ((size_t)snprintf(out, n, "%s/bank/%s", data_dir && *data_dir ? data_dir : ".", month) >= n)
        return ql_errf(err, QL_EINVAL, "data_dir", "server.data_dir is too long",
                       "server.data_dir（数据目录）过长");
    return 0;
}

/* mkdir -p, the directories made 0700 (batch files hold bank accounts). */
static int make_dirs(const char *path, ql_err *err)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c) continue;
        char keep = *c;
        *c = '\0';
        if (mkdir(p, 0700) && errno != EEXIST)
            return ql_errf(err, QL_EIO, "data_dir", "cannot create %s: %s", "无法创建目录 %s：%s",
                           p, strerror(errno));
        *c = keep;
        if (!keep) break;
    }
    struct stat st;
    if (stat(p, &st) || !S_ISDIR(st.st_mode))
        return ql_errf(err, QL_EIO, "data_dir", "%s is not a directory", "%s 不是目录", p);
    return 0;
}

/* ---- the row ---------------------------------------------------------------- */

#define JOB_COLS                                                                                   \
    "id, kind, month, state, done, total, message_en, message_zh, result, started_by, "            \
    "started_at, heartbeat_at, COALESCE(finished_at, 0)"

static json_t *job_json(store_rows *r)
{
    int64_t done = store_col_int(r, 4), total = store_col_int(r, 5);
    const char *state = store_col_text(r, 3, NULL);
    int is_running = !strcmp(state, "running");
    json_t *result = json_loads(store_col_text(r, 8, NULL), 0, NULL);
    if (!json_is_object(result)) {
        json_decref(result);
        result = json_object();
    }
    json_t *pct = total > 0                ? json_integer(done >= total ? 100 : done * 100 / total)
                  : !strcmp(state, "done") ? json_integer(100)
                                           : json_null();
    json_t *o = json_pack(
        "{sIsssssssIsIsossssso sssI}", "id", (json_int_t)store_col_int(r, 0), "kind",
        store_col_text(r, 1, NULL), "month", store_col_text(r, 2, NULL), "state", state, "done",
        (json_int_t)done, "total", (json_int_t)total, "percent", pct, "message_en",
        store_col_text(r, 6, NULL), "message_zh", store_col_text(r, 7, NULL), "result", result,
        "started_by", store_col_text(r, 9, NULL), "started_at", (json_int_t)store_col_int(r, 10));
    json_object_set_new(o, "finished_at",
                        is_running ? json_null() : json_integer(store_col_int(r, 12)));
    json_object_set_new(
        o, "stale",
        json_boolean(is_running && store_col_int(r, 11) < (int64_t)time(NULL) - JOB_STALE_S));
    return o;
}

static int read_job(store *s, const char *where, const store_val *args, int nargs,
                    const char *field, json_t **out, ql_err *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT " JOB_COLS " FROM jobs WHERE %s ORDER BY id DESC LIMIT 1",
             where);
    store_rows *r;
    int rc = store_query(s, sql, args, nargs, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *o = NULL;
    if ((rc = store_step(r)) == 1) o = job_json(r);
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (!o) return ql_errf(err, QL_ENOTFOUND, field, "no such job", "没有这个任务");
    *out = o;
    return 0;
}

int jobs_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err)
{
    *out = NULL;
    if (!cycle_may_read(a)) return actor_require(a, P_LEDGER_RUN, err);
    return read_job(s, "id = $1", (store_val[]){SV_INT(id)}, 1, "id", out, err);
}

int jobs_latest(store *s, const actor *a, const char *month, json_t **out, ql_err *err)
{
    *out = NULL;
    if (!cycle_may_read(a)) return actor_require(a, P_LEDGER_RUN, err);
    int32_t first;
    int rc = check_month(month, &first, err);
    if (rc) return rc;
    return read_job(s, "month = $1", (store_val[]){SV_TEXT(month)}, 1, "month", out, err);
}

/* ---- the thread -------------------------------------------------------------- */

static void on_progress(int64_t done, int64_t total, void *ctx)
{
    struct job *j = ctx;
    j->done = done;
    j->total = total > 0 ? total : 0;
    int rc = store_exec(
        j->db,
        "UPDATE jobs SET done = $1, total = $2, heartbeat_at = $3 WHERE id = $4 "
        "AND state = 'running'",
        (store_val[]){SV_INT(done), SV_INT(j->total), SV_INT((int64_t)time(NULL)), SV_INT(j->id)},
        4, NULL);
    if (rc) log_debug("job %lld: progress not written: %s", (long long)j->id, ql_err_name(rc));
}

struct finish {
    struct job *j;
    int ok;
    const char *en, *zh;
    const char *result;
};

static int finish_body(store *s, void *vctx)
{
    struct finish *f = vctx;
    int64_t now = (int64_t)time(NULL);
    int64_t done = f->ok && f->j->total > 0 ? f->j->total : f->j->done;
    return store_exec(s,
                      "UPDATE jobs SET state = $1, done = $2, message_en = $3, message_zh = $4, "
                      "result = $5, finished_at = $6, heartbeat_at = $6 WHERE id = $7 AND state = "
                      "'running'",
                      (store_val[]){SV_TEXT(f->ok ? "done" : "failed"), SV_INT(done),
                                    SV_TEXT(f->en), SV_TEXT(f->zh), SV_TEXT(f->result), SV_INT(now),
                                    SV_INT(f->j->id)},
                      7, NULL);
}

static json_t *run_job(struct job *j, char *en, char *zh, size_t n, ql_err *err)
{
    struct cycle_report rep;
    if (cycle_run(j->db, &j->a, j->first, on_progress, j, &rep, err)) return NULL;
    char yuan[32];
    validate_money_text(rep.total_fen, yuan, sizeof yuan);
    if (rep.unchanged) {
        snprintf(en, n, "cycle %s was computed before: nothing changed", j->month);
        snprintf(zh, n, "发放批次 %s 此前已计算，无变化", j->month);
    } else {
        snprintf(en, n, "cycle %s computed: %lld subsidies, %lld paid, %s yuan", j->month,
                 (long long)rep.entitlements, (long long)rep.paid, yuan);
        snprintf(zh, n, "发放批次 %s 已计算：%lld 笔，应发 %lld 笔，合计 %s 元", j->month,
                 (long long)rep.entitlements, (long long)rep.paid, yuan);
    }
    return json_pack("{sbsIsIsIsosIsIsIsosIsoss}", "unchanged", rep.unchanged, "entitlements",
                     (json_int_t)rep.entitlements, "paid", (json_int_t)rep.paid, "total_fen",
                     (json_int_t)rep.total_fen, "total_yuan", pol_yuan_json(rep.total_fen),
                     "new_rows", (json_int_t)rep.new_rows, "corrections",
                     (json_int_t)rep.corrections, "arrears_fen", (json_int_t)rep.arrears_fen,
                     "arrears_yuan", pol_yuan_json(rep.arrears_fen), "recovered_fen",
                     (json_int_t)rep.recovered_fen, "recovered_yuan",
                     pol_yuan_json(rep.recovered_fen), "state", rep.state);
}

static json_t *export_job(struct job *j, char *en, char *zh, size_t n, ql_err *err)
{
    struct bank_export_opts o = {j->format ? j->format : BANK_CSV, NULL, j->batch_size, j->dir};
    struct bank_export_report rep;
    if (bank_export(j->db, &j->a, j->month, &o, on_progress, j, &rep, err)) return NULL;
    json_t *files = NULL;
    ql_err ferr;
    if (cycle_files(j->db, &j->a, j->dir, j->month, &files, &ferr)) files = json_array();
    char total[32], held_en[400], held_zh[400];
    validate_money_text(rep.total_fen, total, sizeof total);
    bank_hold_summary(&rep, held_en, held_zh, sizeof held_en);
    /* cut at n bytes when the reasons are many (job_main trims to whole characters) */
    if (snprintf(en, n, "cycle %s %s: %lld payments in %lld batches, %s yuan; %s", j->month,
                 rep.unchanged ? "was exported before, nothing changed" : "exported",
                 (long long)rep.payments, (long long)rep.all_batches, total, held_en) < 0 ||
        snprintf(zh, n, "发放批次 %s %s：共 %lld 笔付款、%lld 个批次，合计 %s 元；%s", j->month,
                 rep.unchanged ? "此前已导出，无变化" : "已导出", (long long)rep.payments,
                 (long long)rep.all_batches, total, held_zh) < 0)
        en[0] = zh[0] = '\0';
    return json_pack(
        "{sbsIsIsIsosIsIsIsosIsIssso}", "unchanged", rep.unchanged, "queued",
        (json_int_t)rep.queued, "held", (json_int_t)rep.held, "held_fen", (json_int_t)rep.held_fen,
        "held_yuan", pol_yuan_json(rep.held_fen), "batches", (json_int_t)rep.batches, "all_batches",
        (json_int_t)rep.all_batches, "payments", (json_int_t)rep.payments, "total_yuan",
        pol_yuan_json(rep.total_fen), "total_fen", (json_int_t)rep.total_fen, "files_written",
        (json_int_t)rep.files, "format", o.format == BANK_FIXED ? "fixed" : "csv", "files", files);
}

/* Cuts s back to whole UTF-8 characters (snprintf may have cut one). */
static void utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;
    if (i == 0) return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need) s[i - 1] = '\0';
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    ql_err err = {0};
    char en[380] = "", zh[380] = "";
    json_t *result = j->kind == JOB_CYCLE_RUN ? run_job(j, en, zh, sizeof en, &err)
                                              : export_job(j, en, zh, sizeof en, &err);
    if (!result) {
        snprintf(en, sizeof en, "%s", err.en[0] ? err.en : ql_err_default_en(err.code));
        snprintf(zh, sizeof zh, "%s", err.zh[0] ? err.zh : ql_err_default_zh(err.code));
    }
    utf8_trim(en);
    utf8_trim(zh);
    char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
    struct finish f = {j, result != NULL, en, zh, text ? text : "{}"};
    int rc = store_tx(j->db, STORE_TX_WRITE, finish_body, &f);
    if (rc && rc != QL_EUNAVAIL) {
        /* the outcome at least, if the texts were refused */
        struct finish bare = {j, result != NULL, "", "", "{}"};
        rc = store_tx(j->db, STORE_TX_WRITE, finish_body, &bare);
    }
    if (rc)
        log_error("job %lld: the outcome could not be written: %s", (long long)j->id,
                  ql_err_name(rc));
    if (result)
        log_info("job %lld (%s %s) done: %s", (long long)j->id, kind_name(j->kind), j->month, en);
    else
        log_warn("job %lld (%s %s) failed: %s", (long long)j->id, kind_name(j->kind), j->month, en);
    free(text);
    json_decref(result);
    store_close(j->db);
    pthread_mutex_lock(&mu);
    for (struct job **p = &running; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    pthread_cond_broadcast(&ended);
    pthread_mutex_unlock(&mu);
    free(j);
    return NULL;
}

/* ---- starting ------------------------------------------------------------------ */

struct start {
    struct job *j;
    const char *params;
    char who[128];
};

static int start_body(store *s, void *vctx)
{
    struct start *x = vctx;
    int64_t now = (int64_t)time(NULL);
    /* a job whose process died leaves its row running: after JOB_STALE_S
     * without a move it is failed, and the month is free again */
    int rc = store_exec(s,
                        "UPDATE jobs SET state = 'failed', finished_at = $1, message_en = $2, "
                        "message_zh = $3 WHERE month = $4 AND state = 'running' AND heartbeat_at "
                        "< $5",
                        (store_val[]){SV_INT(now),
                                      SV_TEXT("stopped without finishing (its server process "
                                              "ended); start it again to go on"),
                                      SV_TEXT("任务未完成即中止（所在服务进程已结束）；重新启动即"
                                              "可继续"),
                                      SV_TEXT(x->j->month), SV_INT(now - JOB_STALE_S)},
                        5, NULL);
    if (rc) return rc;
    return store_insert(s,
                        "INSERT INTO jobs (kind, month, params, started_by, started_at, "
                        "heartbeat_at) VALUES ($1, $2, $3, $4, $5, $5)",
                        (store_val[]){SV_TEXT(kind_name(x->j->kind)), SV_TEXT(x->j->month),
                                      SV_TEXT(x->params), SV_TEXT(x->who), SV_INT(now)},
                        5, &x->j->id);
}

static void fail_row(store *s, int64_t id, const char *en, const char *zh)
{
    int64_t now = (int64_t)time(NULL);
    int rc = store_exec(s,
                        "UPDATE jobs SET state = 'failed', finished_at = $1, message_en = $2, "
                        "message_zh = $3 WHERE id = $4 AND state = 'running'",
                        (store_val[]){SV_INT(now), SV_TEXT(en), SV_TEXT(zh), SV_INT(id)}, 4, NULL);
    if (rc) log_error("job %lld: could not be marked failed: %s", (long long)id, ql_err_name(rc));
}

/* The check of an export before it starts: the cycle's state. */
static int export_state(store *s, const char *month, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s, "SELECT state FROM cycles WHERE month = $1",
                         (store_val[]){SV_TEXT(month)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    char state[16] = "";
    if ((rc = store_step(r)) == 1) snprintf(state, sizeof state, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (!rc)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       month);
    if (strcmp(state, "approved") && strcmp(state, "exported") && strcmp(state, "reconciled"))
        return ql_errf(err, QL_ECONFLICT, "state",
                       "cycle %s is %s: only an approved cycle is exported",
                       "发放批次 %s 状态为 %s：只有已复核的批次可以导出", month, state);
    return 0;
}

int jobs_start(store *s, const actor *a, const struct job_env *env, const struct job_spec *spec,
               int64_t *id, ql_err *err)
{
    *id = 0;
    if (spec->kind != JOB_CYCLE_RUN && spec->kind != JOB_CYCLE_EXPORT)
        return ql_errf(err, QL_EINVAL, "kind", "unknown kind of job", "未知的任务类型");
    int rc = actor_require(a, spec->kind == JOB_CYCLE_RUN ? P_LEDGER_RUN : P_LEDGER_EXPORT, err);
    if (rc) return rc;
    struct job *j = xcalloc(1, sizeof *j);
    j->kind = spec->kind;
    j->a = *a;
    if ((rc = check_month(spec->month, &j->first, err))) goto fail;
    /* a month that cannot be computed is refused now, not in the job */
    if (spec->kind == JOB_CYCLE_RUN && (rc = cycle_may_open(s, j->first, date_today(), err)))
        goto fail;
    snprintf(j->month, sizeof j->month, "%s", spec->month);
    if (spec->kind == JOB_CYCLE_EXPORT) {
        if (spec->batch_size < 0 || spec->batch_size > BANK_BATCH_MAX) {
            rc = ql_errf(err, QL_EINVAL, "batch_size", "a batch holds 1 to %d records",
                         "每批 1 至 %d 笔", BANK_BATCH_MAX);
            goto fail;
        }
        if (spec->format && spec->format != BANK_CSV && spec->format != BANK_FIXED) {
            rc = ql_errf(err, QL_EINVAL, "format", "the format is csv or fixed",
                         "格式应为 csv 或 fixed");
            goto fail;
        }
        j->format = spec->format ? spec->format : BANK_CSV;
        j->batch_size = spec->batch_size;
        if ((rc = export_state(s, j->month, err)) ||
            (rc = jobs_bank_dir(env->data_dir, j->month, j->dir, sizeof j->dir, err)) ||
            (rc = make_dirs(j->dir, err)))
            goto fail;
    }
    json_t *p = spec->kind == JOB_CYCLE_EXPORT
                    ? json_pack("{sssi}", "format", j->format == BANK_FIXED ? "fixed" : "csv",
                                "batch_size", j->batch_size ? j->batch_size : BANK_BATCH_DEFAULT)
                    : json_object();
    char *params = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    struct start x = {j, params, ""};
    actor_label(a, x.who);
    rc = store_tx(s, STORE_TX_WRITE, start_body, &x);
    free(params);
    if (rc == QL_ECONFLICT) {
        int64_t other = 0;
        store_query_int(s, "SELECT id FROM jobs WHERE month = $1 AND state = 'running'",
                        (store_val[]){SV_TEXT(j->month)}, 1, &other);
        rc = ql_errf(err, QL_ECONFLICT, "month",
                     "a job for %s is running (job %lld): wait until it ends",
                     "%s 已有任务正在运行（任务 %lld）：请等待其结束", j->month, (long long)other);
        goto fail;
    }
    if (rc) {
        rc = store_failure(s, rc, "", err);
        goto fail;
    }
    if ((rc = store_open(env->store_url, &env->opts, &j->db, err))) {
        fail_row(s, j->id, "the job could not connect to the store", "任务无法连接数据存储");
        goto fail;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    *id = j->id;
    pthread_mutex_lock(&mu);
    j->next = running;
    running = j;
    int prc = pthread_create(&t, &attr, job_main, j);
    if (prc) running = j->next;
    pthread_mutex_unlock(&mu);
    pthread_attr_destroy(&attr);
    if (prc) {
        fail_row(s, j->id, "the job's thread could not be started", "无法启动任务线程");
        store_close(j->db);
        *id = 0;
        rc = ql_errf(err, QL_EUNAVAIL, NULL, "cannot start a thread for the job: %s",
                     "无法为任务启动线程：%s", strerror(prc));
        goto fail;
    }
    return 0;
fail:
    free(j);
    return rc;
}

int jobs_shutdown(const char *store_url, const store_opts *opts, long timeout_s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_s;
    pthread_mutex_lock(&mu);
    while (running && pthread_cond_timedwait(&ended, &mu, &until) != ETIMEDOUT) {
    }
    int64_t ids[64];
    int n = 0, left = 0;
    for (struct job *j = running; j; j = j->next, left++)
        if (n < 64) ids[n++] = j->id;
    pthread_mutex_unlock(&mu);
    if (!left) return 0;
    store *s = NULL;
    ql_err err;
    if (store_open(store_url, opts, &s, &err)) {
        log_error("jobs still running could not be marked as stopped: %s", err.en);
        return left;
    }
    for (int i = 0; i < n; i++) {
        log_warn("job %lld stopped with the server; start it again to go on", (long long)ids[i]);
        fail_row(s, ids[i], "stopped with the server before it finished; start it again to go on",
                 "服务停止时任务尚未完成；重新启动即可继续");
    }
    store_close(s);
    return left;
}
