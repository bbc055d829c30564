/* calendar.c - the working-day calendar for other systems: a loaded year's
 * off and working days, and the n-th working day after a date (deadlines:
 * a notice of 5 working days, a time limit of 20 working days). Any signed-in
 * account or token may ask; loading stays with `qianlima calendar load`. */
#include "api/api.h"
#include "calendar/holidays.h"
#include "core/date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *day_json(int32_t day, const char *name)
{
    char d[16];
    date_format(day, d, sizeof d);
    return json_pack("{s:s, s:s}", "date", d, "name", name);
}

int api_calendar_year(http_req *r)
{
    const char *v = http_param(r, "year");
    char *end = NULL;
    long year = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || year < 1900 || year > 9999)
        return ql_errf(&r->err, QL_ENOTFOUND, "year", "no calendar for '%s'", "没有“%s”的日历",
                       v ? v : "");
    static _Thread_local cal_year y; /* 24 KB: not on the worker's stack */
    struct holidays_year_info info;
    int rc = holidays_read_year(r->db, (int)year, &y, &r->err);
    if (!rc) rc = holidays_year_info(r->db, (int)year, &info, &r->err);
    if (rc == QL_ENOTFOUND)
        return ql_errf(&r->err, QL_ENOTFOUND, "year",
                       "the calendar of %ld is not loaded (qianlima calendar load)",
                       "%ld 年的日历尚未载入（qianlima calendar load）", year);
    if (rc) return rc;
    json_t *off = json_array(), *work = json_array();
    int working = 0;
    for (int i = 0; i < y.ndays; i++) {
        int32_t day = y.first + i;
        enum cal_kind k = cal_year_kind(&y, day);
        if (k == CAL_OFF) json_array_append_new(off, day_json(day, y.name[i]));
        if (k == CAL_WORK) json_array_append_new(work, day_json(day, y.name[i]));
        working += k == CAL_WORK || (k == CAL_NORMAL && !cal_is_weekend(day));
    }
    return http_reply_json(r, 200,
                           json_pack("{s:i, s:s, s:s, s:o, s:o, s:i}", "year", (int)year, "source",
                                     info.source, "digest", info.digest, "off", off, "work", work,
                                     "working_days", working));
}

int api_calendar_workdays(http_req *r)
{
    const char *from = http_query(r, "from");
    int32_t day;
    if (!from || date_parse(from, &day))
        return ql_errf(&r->err, QL_EINVAL, "from", "from must be a date like 2026-09-30",
                       "from 须为日期，例如 2026-09-30");
    int64_t n;
    int rc = api_query_int(r, "n", 1, 1, CAL_ADD_MAX, &n);
    if (rc) return rc;
    calendar c;
    calendar_init(&c);
    rc = holidays_read_all(r->db, &c, &r->err);
    int32_t out = 0;
    if (!rc) rc = calendar_add_workdays(&c, day, (int)n, &out, &r->err);
    calendar_free(&c);
    if (rc) return rc;
    char d[16];
    date_format(out, d, sizeof d);
    return http_reply_json(
        r, 200, json_pack("{s:s, s:I, s:s}", "from", from, "n", (json_int_t)n, "date", d));
}
