/* metrics.c - per-worker counters and the Prometheus text exposition. */
#include "http/metrics.h"

#include "core/version.h"
#include "core/xalloc.h"
#include "http/http.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSTATUS 500 /* statuses 100..599 */

/* Upper bounds of the latency buckets in microseconds (le labels in seconds). */
static const uint64_t bucket_us[] = {500,    1000,   2500,    5000,    10000,   25000,  50000,
                                     100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0] + 1) /* + the +Inf bucket */

struct route_counters {
    _Atomic uint64_t status[NSTATUS];
    _Atomic uint64_t bucket[NBUCKETS];
    _Atomic uint64_t sum_us;
    _Atomic uint64_t count;
};

struct http_metrics {
    size_t nslots; /* nroutes + 1; the last slot is "no route" */
    struct route_counters *slots;
};

http_metrics *metrics_new(size_t nroutes)
{
    http_metrics *m = xcalloc(1, sizeof *m);
    m->nslots = nroutes + 1;
    m->slots = xcalloc(m->nslots, sizeof *m->slots);
    return m;
}

void metrics_free(http_metrics *m)
{
    if (!m) return;
    free(m->slots);
    free(m);
}

static void inc(_Atomic uint64_t *c, uint64_t by)
{
    atomic_fetch_add_explicit(c, by, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void metrics_record(http_metrics *m, int route, int status, uint64_t dur_ns)
{
    size_t slot = route < 0 || (size_t)route >= m->nslots - 1 ? m->nslots - 1 : (size_t)route;
    struct route_counters *rc = &m->slots[slot];
    if (status < 100 || status > 599) status = 599;
    inc(&rc->status[status - 100], 1);
    uint64_t us = dur_ns / 1000;
    size_t b = 0;
    while (b < NBUCKETS - 1 && us > bucket_us[b]) b++;
    inc(&rc->bucket[b], 1);
    inc(&rc->sum_us, us);
    inc(&rc->count, 1);
}

static void route_labels(size_t slot, size_t nroutes, char *out, size_t n)
{
    if (slot >= nroutes) {
        snprintf(out, n, "method=\"\",route=\"(none)\"");
        return;
    }
    snprintf(out, n, "method=\"%s\",route=\"%s\"", http_method_name(http_routes[slot].method),
             http_routes[slot].pattern);
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    long pages = 0, rss = 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

void metrics_render(buf *out, http_metrics *const *workers, store *const *stores, size_t n)
{
    size_t nslots = n ? workers[0]->nslots : 0;
    size_t nroutes = nslots ? nslots - 1 : 0;

    buf_printf(out, "# HELP qianlima_build_info Version of the running binary.\n"
                    "# TYPE qianlima_build_info gauge\n"
                    "qianlima_build_info{version=\"%s\"} 1\n",
               QL_VERSION);

    buf_puts(out, "# HELP qianlima_http_requests_total Requests answered, by route and status.\n"
                  "# TYPE qianlima_http_requests_total counter\n");
    for (size_t s = 0; s < nslots; s++) {
        char labels[256];
        route_labels(s, nroutes, labels, sizeof labels);
        for (int st = 0; st < NSTATUS; st++) {
            uint64_t total = 0;
            for (size_t w = 0; w < n; w++) total += get(&workers[w]->slots[s].status[st]);
            if (total)
                buf_printf(out, "qianlima_http_requests_total{%s,status=\"%d\"} %llu\n", labels,
                           st + 100, (unsigned long long)total);
        }
    }

    buf_puts(out, "# HELP qianlima_http_request_duration_seconds Time to serve a request.\n"
                  "# TYPE qianlima_http_request_duration_seconds histogram\n");
    for (size_t s = 0; s < nslots; s++) {
        uint64_t count = 0, sum = 0, b[NBUCKETS] = {0};
        for (size_t w = 0; w < n; w++) {
            struct route_counters *rc = &workers[w]->slots[s];
            count += get(&rc->count);
            sum += get(&rc->sum_us);
            for (size_t k = 0; k < NBUCKETS; k++) b[k] += get(&rc->bucket[k]);
        }
        if (!count) continue;
        char labels[256];
        route_labels(s, nroutes, labels, sizeof labels);
        uint64_t cum = 0;
        for (size_t k = 0; k < NBUCKETS; k++) {
            cum += b[k];
            if (k < NBUCKETS - 1)
                buf_printf(out,
                           "qianlima_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                           labels, (double)bucket_us[k] / 1e6, (unsigned long long)cum);
            else
                buf_printf(out,
                           "qianlima_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
                           labels, (unsigned long long)cum);
        }
        buf_printf(out, "qianlima_http_request_duration_seconds_sum{%s} %.6f\n", labels,
                   (double)sum / 1e6);
        buf_printf(out, "qianlima_http_request_duration_seconds_count{%s} %llu\n", labels,
                   (unsigned long long)count);
    }

    struct store_stats tot = {0};
    for (size_t w = 0; w < n; w++) {
        if (!stores[w]) continue;
        struct store_stats st;
        store_stats_get(stores[w], &st);
        tot.statements += st.statements;
        tot.errors += st.errors;
        tot.retries += st.retries;
    }
    buf_printf(out,
               "# HELP qianlima_store_statements_total Statements run on the store.\n"
               "# TYPE qianlima_store_statements_total counter\n"
               "qianlima_store_statements_total %llu\n"
               "# HELP qianlima_store_errors_total Store statements that failed.\n"
               "# TYPE qianlima_store_errors_total counter\n"
               "qianlima_store_errors_total %llu\n"
               "# HELP qianlima_store_retries_total Transactions retried after a conflict.\n"
               "# TYPE qianlima_store_retries_total counter\n"
               "qianlima_store_retries_total %llu\n",
               (unsigned long long)tot.statements, (unsigned long long)tot.errors,
               (unsigned long long)tot.retries);
    buf_printf(out,
               "# HELP qianlima_process_resident_memory_bytes Resident memory of the process.\n"
               "# TYPE qianlima_process_resident_memory_bytes gauge\n"
               "qianlima_process_resident_memory_bytes %ld\n"
               "# HELP qianlima_http_workers Worker threads serving requests.\n"
               "# TYPE qianlima_http_workers gauge\n"
               "qianlima_http_workers %zu\n",
               resident_bytes(), n);
}
