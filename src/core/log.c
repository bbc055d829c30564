/* log.c - JSON-lines application log on stderr. */
#include "core/log.h"

#include "core/buf.h"
#include "core/err.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_INFO;

static const char *const names[] = {"debug", "info", "warn", "error", "off"};

void log_set_level(enum log_level lvl)
{
    atomic_store(&current_level, (int)lvl);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&current_level);
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i <= LOG_OFF; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return QL_EINVAL;
}

void log_timestamp(char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t t = ts.tv_sec + 8 * 3600; /* Asia/Shanghai has been UTC+8 without DST since 1991 */
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ld+08:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* The same warning or error repeated (the same format, whatever its
 * arguments) is written at most LOG_BURST times in LOG_WINDOW seconds; the
 * rest are counted, and the count is written with the first line of the
 * next window in which the line comes again. A client that makes the
 * server fail in a loop (accept out of descriptors, say) thus cannot fill
 * the disk. Information lines are never held back: the audit chain's heads
 * ("audit head seq=N") are among them, and the log collector must see every
 * one. */
#define LOG_SLOTS 256
#define LOG_PROBES 8
#define LOG_BURST 10
#define LOG_WINDOW 10

static struct {
    const char *fmt;
    time_t window;
    unsigned written, dropped;
} slots[LOG_SLOTS];
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;

/* Returns 1 if a line of fmt may be written now; *dropped receives how
 * many were held back in the window before (to be said once). Each format
 * has a slot of its own (found by probing from its hash; a slot of a past
 * window is taken over), so two formats never share a count. */
static int log_admit(const char *fmt, unsigned *dropped)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    time_t window = now.tv_sec / LOG_WINDOW;
    size_t home = (size_t)((((uintptr_t)fmt >> 3) * 0x9E3779B97F4A7C15ull) >> 56) % LOG_SLOTS;
    int ok = 1;
    *dropped = 0;
    pthread_mutex_lock(&slots_mu);
    size_t h = home, free_slot = LOG_SLOTS;
    for (size_t k = 0; k < LOG_PROBES; k++) {
        size_t i = (home + k) % LOG_SLOTS;
        if (slots[i].fmt == fmt) {
            h = i;
            free_slot = LOG_SLOTS;
            break;
        }
        if (free_slot == LOG_SLOTS && (!slots[i].fmt || slots[i].window + 1 < window))
            free_slot = i;
        if (k == LOG_PROBES - 1) h = free_slot < LOG_SLOTS ? free_slot : home;
    }
    if (slots[h].fmt != fmt || slots[h].window != window) {
        if (slots[h].fmt == fmt) *dropped = slots[h].dropped;
        slots[h].fmt = fmt;
        slots[h].window = window;
        slots[h].written = 0;
        slots[h].dropped = 0;
    }
    if (slots[h].written >= LOG_BURST) {
        slots[h].dropped++;
        ok = 0;
    } else
        slots[h].written++;
    pthread_mutex_unlock(&slots_mu);
    return ok;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&current_level) || lvl >= LOG_OFF) return;
    unsigned dropped = 0;
    if (lvl >= LOG_WARN && !log_admit(fmt, &dropped)) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (dropped && n >= 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n,
                 " (and %u more lines like this one, not written, in an earlier %d s)", dropped,
                 LOG_WINDOW);

    char ts[40];
    log_timestamp(ts, sizeof ts);
    buf line;
    buf_init(&line, 0);
    buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, names[lvl]);
    buf_json_escape(&line, msg, strlen(msg));
    buf_puts(&line, "\"}\n");
    /* One write per line so lines from several threads do not interleave. */
    ssize_t w = write(STDERR_FILENO, line.data, line.len);
    (void)w;
    buf_free(&line);
}
