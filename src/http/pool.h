/* pool.h - a few threads apart from the event loops for slow work
 * (password hashing), each with its own store connection.
 *
 * The event-loop threads hand a job over with pool_submit and go on
 * serving; a pool thread runs job->work(its store, job->arg), stores the
 * result in job->rc and calls job->complete(job) from the pool thread,
 * which hands the job back to whoever submitted it. The queue is bounded:
 * a flood of slow requests is refused at once instead of piling up.
 * Pool threads run at a lower scheduling priority (nice 10) than the event
 * loops, so that hashing never delays a cheap request much.
 */
#ifndef QL_HTTP_POOL_H
#define QL_HTTP_POOL_H

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

#include <stddef.h>

typedef struct http_pool http_pool;

struct pool_job {
    struct pool_job *next; /* the pool's and the owner's queues */
    int (*work)(store *s, void *arg);
    void *arg;
    int rc;                                 /* work's result, or QL_EUNAVAIL if dropped */
    void (*complete)(struct pool_job *job); /* called once, on a pool thread (or in pool_stop) */
    void *owner;
};

/* Starts nthreads threads, each with a store opened as cfg says, and a
 * queue of at most max_queue waiting jobs. Returns 0, or the store's error
 * (nothing is left running). */
int pool_start(const ql_config *cfg, int nthreads, size_t max_queue, http_pool **out, ql_err *err);

/* Queues job. Returns 0, or QL_EUNAVAIL when max_queue jobs wait already or
 * the pool is stopping (job untouched). */
int pool_submit(http_pool *p, struct pool_job *job);

/* Lets the running jobs finish, completes the waiting ones with rc =
 * QL_EUNAVAIL without running them, joins the threads and frees the pool.
 * NULL is allowed. */
void pool_stop(http_pool *p);

/* Jobs waiting (not yet running), jobs refused because the queue was
 * full, and the number of threads: for /metrics. */
size_t pool_waiting(http_pool *p);
unsigned long pool_refused(http_pool *p);
int pool_threads(const http_pool *p);

#endif
