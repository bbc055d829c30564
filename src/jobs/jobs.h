/* jobs.h - background jobs of the server: a month's cycle computed
 * (cycle_run) or exported to bank files (bank_export) by a thread of its
 * own, so that a large month does not hold up the worker that was asked
 * (table jobs, sql/<dialect>/0015_jobs.sql).
 *
 * A job is a row (kind, month, state running | done | failed, done of
 * total, a message in English and Chinese, the report as JSON, who started
 * it and when) and a thread with its own store connection, which runs the
 * service with a progress callback that writes done and total to the row
 * after every page, and the outcome at the end. A page polls the row. At
 * most one job runs for a month at a time, across every server process
 * sharing the store (a partial unique index): a second is refused. The
 * services are resumable, so a job that died with its process (its row
 * stops moving for JOB_STALE_S) is counted as failed, and starting the job
 * again goes on where it stopped. */
#ifndef QL_JOBS_JOBS_H
#define QL_JOBS_JOBS_H

#include "auth/perm.h"
#include "core/err.h"
#include "ledger/bank.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

#define JOB_STALE_S 900 /* a running job whose row has not moved for this long has died */

enum job_kind { JOB_CYCLE_RUN = 1, JOB_CYCLE_EXPORT = 2 };

/* Where a job's thread connects and writes. The strings are copied. */
struct job_env {
    const char *store_url;
    store_opts opts;
    const char *data_dir; /* an export writes to <data_dir>/bank/<month>/ */
};

struct job_spec {
    enum job_kind kind;
    const char *month;       /* "YYYY-MM" */
    enum bank_format format; /* JOB_CYCLE_EXPORT; 0 is BANK_CSV */
    int batch_size;          /* JOB_CYCLE_EXPORT; 0 for BANK_BATCH_DEFAULT */
};

/* The directory of the month's batch files: <data_dir>/bank/<month> into
 * out (n bytes). Returns 0, or QL_EINVAL (field "month") for a month not
 * written YYYY-MM, which keeps anything else out of the path. */
int jobs_bank_dir(const char *data_dir, const char *month, char *out, size_t n, ql_err *err);

/* Starts a job as a. Checks what can be checked at once: the permission
 * (ledger.run to compute, ledger.export to export), the month (QL_EINVAL,
 * field "month"), for an export the batch size (field "batch_size") and the
 * cycle's state (QL_ENOTFOUND without a cycle, QL_ECONFLICT field "state"
 * unless approved, exported or reconciled) and its directory (created,
 * mode 0700; QL_EIO field "data_dir"). Refuses a second job for a month
 * whose job runs (QL_ECONFLICT, field "month", naming the job). Records the
 * job and starts its thread; *id receives the job's id. What the service
 * then decides (a month out of order, a budget) ends the job as failed
 * with the service's message. */
int jobs_start(store *s, const actor *a, const struct job_env *env, const struct job_spec *spec,
               int64_t *id, ql_err *err);

/* Job id as {"id","kind","month","state","done","total","percent" (0-100,
 * null while the total is unknown),"message_en","message_zh","result"
 * (the report: for a computation the cycle's counts and totals, for an
 * export the payments, batches, held payees and "files"),"started_by",
 * "started_at","finished_at" (null while running),"stale" (running, and
 * its row has not moved for JOB_STALE_S)}. Needs ledger.run, ledger.approve
 * or ledger.export; QL_ENOTFOUND (field "id"). */
int jobs_get(store *s, const actor *a, int64_t id, json_t **out, ql_err *err);

/* The newest job of month, as jobs_get; QL_ENOTFOUND (field "month") when
 * there is none. */
int jobs_latest(store *s, const actor *a, const char *month, json_t **out, ql_err *err);

/* At shutdown: waits up to timeout_s seconds for this process's job
 * threads; the jobs still running then are written as failed
 * ("interrupted") through a connection to store_url. Returns how many
 * threads were still running (their work stops with the process and is
 * resumed when the job is started again). */
int jobs_shutdown(const char *store_url, const store_opts *opts, long timeout_s);

#endif
