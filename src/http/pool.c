/* pool.c - threads for slow work, apart from the event loops. */
#include "http/pool.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define POOL_NICE 10

struct worker {
    http_pool *pool;
    pthread_t thread;
    store *db;
    int started;
};

struct http_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pool_job *head, *tail;
    size_t waiting, max_queue;
    int stopping;
    int nthreads;
    struct worker *workers;
    _Atomic unsigned long refused;
};

static void *pool_main(void *arg)
{
    struct worker *w = arg;
    http_pool *p = w->pool;
    /* Linux applies a nice value to the calling thread only. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), POOL_NICE) != 0) {
        /* not fatal: the work still runs, at the loops' priority */
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
        if (!p->head) { /* stopping with nothing left */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        struct pool_job *job = p->head;
        p->head = job->next;
        if (!p->head) p->tail = NULL;
        p->waiting--;
        pthread_mutex_unlock(&p->mu);
        job->next = NULL;
        job->rc = job->work(w->db, job->arg);
        job->complete(job);
    }
    return NULL;
}

int pool_start(const ql_config *cfg, int nthreads, size_t max_queue, http_pool **out, ql_err *err)
{
    http_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->max_queue = max_queue;
    p->nthreads = nthreads;
    p->workers = xcalloc((size_t)nthreads, sizeof *p->workers);
    store_opts so = {.busy_timeout_ms = cfg->store_busy_timeout, .retries = cfg->store_retries};
    for (int i = 0; i < nthreads; i++) {
        p->workers[i].pool = p;
        int rc = store_open(cfg->store_url, &so, &p->workers[i].db, err);
        if (rc) {
            pool_stop(p);
            return rc;
        }
    }
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&p->workers[i].thread, NULL, pool_main, &p->workers[i]) != 0) {
            pool_stop(p);
            return ql_errf(err, QL_EINTERNAL, NULL, "cannot start a pool thread",
                           "无法启动后台线程");
        }
        p->workers[i].started = 1;
    }
    *out = p;
    return 0;
}

int pool_submit(http_pool *p, struct pool_job *job)
{
    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->waiting >= p->max_queue) {
        pthread_mutex_unlock(&p->mu);
        atomic_fetch_add_explicit(&p->refused, 1, memory_order_relaxed);
        return QL_EUNAVAIL;
    }
    job->next = NULL;
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->waiting++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void pool_stop(http_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    struct pool_job *dropped = p->head;
    p->head = p->tail = NULL;
    p->waiting = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    while (dropped) {
        struct pool_job *next = dropped->next;
        dropped->next = NULL;
        dropped->rc = QL_EUNAVAIL;
        dropped->complete(dropped);
        dropped = next;
    }
    for (int i = 0; i < p->nthreads; i++) {
        if (p->workers[i].started) pthread_join(p->workers[i].thread, NULL);
        store_close(p->workers[i].db);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

size_t pool_waiting(http_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->waiting;
    pthread_mutex_unlock(&p->mu);
    return n;
}

unsigned long pool_refused(http_pool *p)
{
    return atomic_load_explicit(&p->refused, memory_order_relaxed);
}

int pool_threads(const http_pool *p)
{
    return p->nthreads;
}
