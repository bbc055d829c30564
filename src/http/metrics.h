/* metrics.h - request counters and latency histograms, one set per worker
 * thread (written without locks by that thread, read by /metrics from any
 * thread through relaxed atomics), rendered in the Prometheus text format. */
#ifndef QL_HTTP_METRICS_H
#define QL_HTTP_METRICS_H

#include "core/buf.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct http_metrics http_metrics;

/* Creates counters for nroutes routes plus one slot for unmatched requests. */
http_metrics *metrics_new(size_t nroutes);
void metrics_free(http_metrics *m);

/* Records one finished request. route is the route index or -1 for none;
 * status is the HTTP status (100-599); dur_ns the time spent serving it. */
void metrics_record(http_metrics *m, int route, int status, uint64_t dur_ns);

/* Appends the Prometheus exposition of all workers' metrics and store
 * counters (stores[i] may be NULL) to out. */
void metrics_render(buf *out, http_metrics *const *workers, store *const *stores, size_t n);

#endif
