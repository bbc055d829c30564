/* date.c - civil date arithmetic (H. Hinnant's days-from-civil algorithm). */
#include "core/date.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int32_t date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void date_to_ymd(int32_t days, int *y, int *m, int *d)
{
    int32_t z = days + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t doe = z - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int32_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int date_valid(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

int32_t date_today(void)
{
    time_t t = time(NULL) + 8 * 3600;
    return (int32_t)(t / 86400);
}

int date_parse(const char *s, int32_t *out)
{
    int v[3] = {0, 0, 0};
    static const int widths[3] = {4, 2, 2};
    const char *p = s;
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < widths[k]; i++, p++) {
            if (*p < '0' || *p > '9') return QL_EINVAL;
            v[k] = v[k] * 10 + (*p - '0');
        }
        if (k < 2 && *p++ != '-') return QL_EINVAL;
    }
    if (*p || !date_valid(v[0], v[1], v[2])) return QL_EINVAL;
    *out = date_from_ymd(v[0], v[1], v[2]);
    return 0;
}

void date_format(int32_t days, char *out, size_t n)
{
    int y, m, d;
    date_to_ymd(days, &y, &m, &d);
    snprintf(out, n, "%04d-%02d-%02d", y, m, d);
}

int32_t date_month_first(int32_t day)
{
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    return date_from_ymd(y, m, 1);
}

int32_t date_month_last(int32_t day)
{
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    return (m == 12 ? date_from_ymd(y + 1, 1, 1) : date_from_ymd(y, m + 1, 1)) - 1;
}

int date_months_touched(int32_t from, int32_t to)
{
    if (to < from) return 0;
    int fy, fm, fd, ty, tm, td;
    date_to_ymd(from, &fy, &fm, &fd);
    date_to_ymd(to, &ty, &tm, &td);
    return (ty - fy) * 12 + (tm - fm) + 1;
}

int date_parse_month(const char *s, int32_t *first)
{
    char day[16];
    if (!s || strlen(s) != 7) return QL_EINVAL;
    snprintf(day, sizeof day, "%s-01", s);
    return date_parse(day, first);
}
