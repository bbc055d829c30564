/* log.c - JSON-lines application log on stderr. */
#include "core/log.h"

#include "core/buf.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdatomic.h>
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

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&current_level) || lvl >= LOG_OFF) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

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
