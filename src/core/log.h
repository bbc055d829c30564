/* log.h - the application log: one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-29T08:00:00.123+08:00","level":"info","msg":"listening on 127.0.0.1:8080"}
 *
 * Timestamps are in the service timezone (Asia/Shanghai, UTC+8, no DST) whatever
 * the machine's timezone. Messages must not contain personal data:
 * callers log ids and masked values only. Safe to call from several threads.
 */
#ifndef QL_CORE_LOG_H
#define QL_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

/* Sets the lowest level written (default LOG_INFO). */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Parses "debug", "info", "warn", "error" or "off". Returns 0 or QL_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

/* Writes one line if lvl is at or above the current level. The same
 * warning or error (the same fmt) is written at most 10 times in 10
 * seconds; those held back are counted in the next one written.
 * Information lines (the audit chain's heads among them) are all written. */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Formats the wall-clock time now as ISO 8601 in UTC+8 with milliseconds
 * ("2026-11-29T08:00:00.123+08:00") into out (at least 32 bytes). */
void log_timestamp(char *out, size_t n);

#endif
