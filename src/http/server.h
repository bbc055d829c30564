/* server.h - the HTTP server: worker threads, each with its own libevent
 * event base, evhttp instance, SO_REUSEPORT listening socket, store
 * connection and request arena.
 *
 * Lifecycle: http_serve() binds every listener (so an address in use is
 * reported before anything is served), opens one store connection per worker,
 * starts the workers, and waits for SIGTERM or SIGINT. It then drains: every
 * worker closes its listener, answers what it has received with
 * "Connection: close", waits until no response is being written and no
 * request has arrived for 200 ms (or server.drain_timeout passes) and exits.
 * A second signal stops at once.
 */
#ifndef QL_HTTP_SERVER_H
#define QL_HTTP_SERVER_H

#include "core/buf.h"
#include "core/config.h"
#include "http/http.h"

/* Serves until a signal. ready_file (may be NULL) receives "HOST:PORT\n" once
 * every listener is bound, for scripts and tests that asked for port 0.
 * Returns 0 after a clean drain, 1 if the server could not start. */
int http_serve(const ql_config *cfg, const char *ready_file);

/* The configuration the server runs with. */
const ql_config *http_config(const http_req *r);

/* Appends the Prometheus exposition of every worker's counters to out. */
void http_metrics_text(const http_req *r, buf *out);

#endif
