/* holidays.h - the working-day calendar in the store: loading a parsed year
 * (replacing that year as a whole, audited) and reading years back into the
 * core structure (core/calendar.h). Tables: calendar_years, calendar_days
 * (sql/<dialect>/0007_calendar.sql). */
#ifndef QL_CALENDAR_HOLIDAYS_H
#define QL_CALENDAR_HOLIDAYS_H

#include "auth/perm.h"
#include "core/calendar.h"
#include "core/err.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of a calendar file's bytes, as 64 lower-case hex characters plus NUL. */
void holidays_digest(const void *buf, size_t len, char out[65]);

/* What holidays_load did. */
struct holidays_load_report {
    int replaced;      /* 1 if the year was loaded before (before holds it), else 0 */
    int unchanged;     /* 1 if the stored year already had exactly these days: nothing written */
    int off, work;     /* days of the new year */
    int64_t audit_seq; /* the audit row (0 when unchanged) */
};

/* Stores year y, parsed from the file named source (1-255 bytes, e.g. its
 * path) whose bytes have digest (holidays_digest), replacing every day of
 * that year in one write transaction with one audit row (action
 * "calendar.load", object calendar_year/<year>). If the stored year already
 * has exactly these days, nothing is written (report->unchanged). Needs
 * policy.manage. before (may be NULL; OUT) receives the year as it was when
 * report->replaced is set. Returns 0, QL_EFORBIDDEN, QL_EINVAL or a store
 * error; on an error nothing changed. */
int holidays_load(store *s, const actor *a, const cal_year *y, const char *source,
                  const char *digest, cal_year *before, struct holidays_load_report *report,
                  ql_err *err);

/* Reads one stored year into *out. Returns 0, QL_ENOTFOUND when the year is
 * not loaded, or a store error. */
int holidays_read_year(store *s, int year, cal_year *out, ql_err *err);

/* Where and when a stored year came from. */
struct holidays_year_info {
    int year;
    char source[256];
    char digest[65];
    int off, work;
    int64_t loaded_at; /* Unix seconds */
    char loaded_by[129];
};

/* Reads the provenance of one stored year. Returns 0, QL_ENOTFOUND or a
 * store error. */
int holidays_year_info(store *s, int year, struct holidays_year_info *out, ql_err *err);

/* Adds every stored year to c (calendar_init first). Returns 0, a store
 * error, or QL_ETOOBIG above CAL_YEARS_MAX years. */
int holidays_read_all(store *s, calendar *c, ql_err *err);

#endif
