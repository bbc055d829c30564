/* calendar.h - the working-day calendar: which days are public holidays
 * (off) and which weekend days are worked instead (work), one year at a
 * time, as published each November by the State Council. Pure: no store.
 *
 * A day is a working day when it is listed "work", or when it is a Monday to
 * Friday not listed "off". Every answer comes from a loaded year: a day whose
 * year is not loaded is an error (QL_ENOTFOUND), never a guess from weekday
 * arithmetic.
 *
 * File format (UTF-8, one statement a line; data/calendar/2026.txt):
 *
 *   # a comment: a line whose first non-blank character is '#'
 *   year 2026
 *   off  2026-01-01 2026-01-03   元旦
 *   off  2026-04-05              清明节
 *   work 2026-01-04              元旦调休
 *
 * Tokens are separated by spaces or tabs; leading and trailing blanks are
 * ignored; blank lines and comment lines are skipped; a final CR
 * (CRLF files) is dropped. Rules (each broken rule is an error naming
 * FILE:LINE:COLUMN, in English and Chinese):
 *   - "year YYYY" comes once, before any off or work line (years 1900-9999);
 *   - "off FIRST [LAST] NAME": FIRST..LAST (inclusive, LAST >= FIRST, at most
 *     31 days) are days off; without LAST, FIRST alone. A single off day must
 *     be a weekday (a Saturday or Sunday is off anyway), and a range must
 *     contain at least one weekday;
 *   - "work DAY NAME": DAY is a Saturday or Sunday worked instead (调休); a
 *     Monday to Friday is a working day already and is refused;
 *   - every date is YYYY-MM-DD within the declared year;
 *   - no day is listed twice (off twice, work twice, or both off and work);
 *   - NAME is the rest of the line: 1 to CAL_NAME_MAX-1 bytes of UTF-8
 *     without control characters;
 *   - the file has a year line and at most CAL_FILE_MAX bytes.
 */
#ifndef QL_CORE_CALENDAR_H
#define QL_CORE_CALENDAR_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define CAL_NAME_MAX  64          /* bytes of a holiday name, with its NUL */
#define CAL_FILE_MAX  (64 * 1024) /* bytes of a calendar file */
#define CAL_YEARS_MAX 32          /* years one calendar holds */
#define CAL_ADD_MAX   3660        /* most working days calendar_add_workdays counts */

enum cal_kind { CAL_NORMAL = 0, CAL_OFF = 1, CAL_WORK = 2 };

/* One year: the kind of each of its days (index = day - first) and, for off
 * and work days, the holiday's name. */
typedef struct cal_year {
    int year;
    int32_t first; /* day number of January 1st */
    int ndays;     /* 365 or 366 */
    unsigned char kind[366];
    char name[366][CAL_NAME_MAX];
} cal_year;

/* Sets y to year (1900-9999) with no off or work day. Returns 0 or QL_EINVAL. */
int cal_year_init(cal_year *y, int year, ql_err *err);

/* Marks day as kind (CAL_OFF or CAL_WORK) named name, without the file's
 * weekday rules (for a year read back from the store). Returns 0, or
 * QL_EINVAL when day is outside y's year, kind is not off or work, or name is
 * empty, too long or not clean UTF-8. */
int cal_year_set(cal_year *y, int32_t day, enum cal_kind kind, const char *name, ql_err *err);

/* Kind of day in y; CAL_NORMAL when day is outside y's year. */
enum cal_kind cal_year_kind(const cal_year *y, int32_t day);

/* Counts y's off and work days (either may be NULL). */
void cal_year_counts(const cal_year *y, int *off, int *work);

/* Parses a calendar file of len bytes (need not be NUL-terminated) into *out.
 * file names it in errors ("FILE:LINE:COLUMN: what is wrong"; columns count
 * characters from 1). Returns 0, QL_EINVAL on the first broken rule, or
 * QL_ETOOBIG above CAL_FILE_MAX. err->field is "calendar". */
int cal_year_parse(const char *buf, size_t len, const char *file, cal_year *out, ql_err *err);

/* Loaded years. Zero-initialise (or calendar_init), add years, free. */
typedef struct calendar {
    int n;
    cal_year *years[CAL_YEARS_MAX];
} calendar;

void calendar_init(calendar *c);

/* Releases the years c holds and empties it. NULL is allowed. */
void calendar_free(calendar *c);

/* Adds a copy of y, replacing a year already held with the same number.
 * Returns 0 or QL_ETOOBIG when CAL_YEARS_MAX years are held. */
int calendar_add(calendar *c, const cal_year *y, ql_err *err);

/* The year of c holding day, or NULL when it is not loaded. */
const cal_year *calendar_year_of(const calendar *c, int32_t day);

/* *out = 1 if day is a working day, else 0. Returns 0, or QL_ENOTFOUND when
 * day's year is not loaded. */
int calendar_is_workday(const calendar *c, int32_t day, int *out, ql_err *err);

/* *out = the day that is the n-th working day after day (day itself not
 * counted), 1 <= n <= CAL_ADD_MAX. Returns 0, QL_EINVAL for a bad n, or
 * QL_ENOTFOUND when the count reaches a year that is not loaded. */
int calendar_add_workdays(const calendar *c, int32_t day, int n, int32_t *out, ql_err *err);

/* *out = the number of working days d with from < d <= to (so that
 * calendar_add_workdays(from, n) = to gives n), 0 when from == to. Returns 0,
 * QL_EINVAL when to < from, or QL_ENOTFOUND when a day in (from, to] is in a
 * year that is not loaded. */
int calendar_count_workdays(const calendar *c, int32_t from, int32_t to, int *out, ql_err *err);

/* 1 for Saturday and Sunday, else 0. */
int cal_is_weekend(int32_t day);

/* "off", "work" or "normal". */
const char *cal_kind_name(enum cal_kind k);

#endif
