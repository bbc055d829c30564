/* date.h - civil dates as day numbers (days since 1970-01-01), in the
 * service timezone Asia/Shanghai (UTC+8, no daylight saving) whatever the
 * machine's timezone. */
#ifndef QL_CORE_DATE_H
#define QL_CORE_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Day number of y-m-d (proleptic Gregorian). The date must be valid. */
int32_t date_from_ymd(int y, int m, int d);

/* Splits a day number into year, month (1-12) and day (1-31). */
void date_to_ymd(int32_t days, int *y, int *m, int *d);

/* Returns 1 if y-m-d is a real calendar date (years 1-9999), else 0. */
int date_valid(int y, int m, int d);

/* The first and the last day of day's month. */
int32_t date_month_first(int32_t day);
int32_t date_month_last(int32_t day);

/* How many calendar months the days from..to (inclusive) touch:
 * 2026-10-16..2026-12-01 touches 3; 0 when to < from. */
int date_months_touched(int32_t from, int32_t to);

/* Today's day number in Asia/Shanghai. */
int32_t date_today(void);

/* Parses "YYYY-MM-DD" strictly. Returns 0 or QL_EINVAL. */
int date_parse(const char *s, int32_t *out);

/* Parses a month "YYYY-MM" strictly into the day number of its first day.
 * Returns 0 or QL_EINVAL (NULL is QL_EINVAL too). */
int date_parse_month(const char *s, int32_t *first);

/* Formats as "YYYY-MM-DD" into out (at least 11 bytes). */
void date_format(int32_t days, char *out, size_t n);

#endif
