/* calendar.c - the working-day calendar: parsing a year's file and counting
 * working days over loaded years. */
#include "core/calendar.h"

#include "core/date.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cal_is_weekend(int32_t day)
{
    int wd = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    return wd == 0 || wd == 6;
}

const char *cal_kind_name(enum cal_kind k)
{
    return k == CAL_OFF ? "off" : k == CAL_WORK ? "work" : "normal";
}

int cal_year_init(cal_year *y, int year, ql_err *err)
{
    if (year < 1900 || year > 9999)
        return ql_errf(err, QL_EINVAL, "calendar", "year %d is outside 1900-9999",
                       "年份 %d 不在 1900–9999 之间", year);
    memset(y, 0, sizeof *y);
    y->year = year;
    y->first = date_from_ymd(year, 1, 1);
    y->ndays = (int)(date_from_ymd(year + 1, 1, 1) - y->first);
    return 0;
}

static int name_ok(const char *name, size_t n)
{
    return n > 0 && n < CAL_NAME_MAX && text_valid(name, n, 0);
}

int cal_year_set(cal_year *y, int32_t day, enum cal_kind kind, const char *name, ql_err *err)
{
    char d[16];
    date_format(day, d, sizeof d);
    if (day < y->first || day >= y->first + y->ndays)
        return ql_errf(err, QL_EINVAL, "calendar", "%s is not in %d", "%s 不在 %d 年内", d,
                       y->year);
    if (kind != CAL_OFF && kind != CAL_WORK)
        return ql_errf(err, QL_EINVAL, "calendar", "%s: the kind must be off or work",
                       "%s：类型必须是 off 或 work", d);
    size_t n = strlen(name);
    if (!name_ok(name, n))
        return ql_errf(err, QL_EINVAL, "calendar",
                       "%s: the name must be 1 to %d bytes of UTF-8 text",
                       "%s：名称必须是 1 至 %d 字节的 UTF-8 文字", d, CAL_NAME_MAX - 1);
    int i = (int)(day - y->first);
    y->kind[i] = (unsigned char)kind;
    memcpy(y->name[i], name, n + 1);
    return 0;
}

enum cal_kind cal_year_kind(const cal_year *y, int32_t day)
{
    if (day < y->first || day >= y->first + y->ndays) return CAL_NORMAL;
    return (enum cal_kind)y->kind[day - y->first];
}

void cal_year_counts(const cal_year *y, int *off, int *work)
{
    int o = 0, w = 0;
    for (int i = 0; i < y->ndays; i++) {
        o += y->kind[i] == CAL_OFF;
        w += y->kind[i] == CAL_WORK;
    }
    if (off) *off = o;
    if (work) *work = w;
}

/* --- parsing --- */

struct parser {
    const char *file;
    int line;
    const char *ls; /* start of the current line */
    ql_err *err;
};

/* Column (in characters, from 1) of p in the current line. */
static int column(const struct parser *p, const char *at)
{
    int col = 1;
    for (const char *c = p->ls; c < at; c++)
        if (((unsigned char)*c & 0xC0) != 0x80) col++;
    return col;
}

__attribute__((format(printf, 3, 5), format(printf, 4, 5))) static int
fail(const struct parser *p, const char *at, const char *fmt_en, const char *fmt_zh, ...)
{
    char en[256], zh[256];
    va_list ap;
    va_start(ap, fmt_zh);
    ql_vformat2(en, sizeof en, zh, sizeof zh, fmt_en, fmt_zh, ap);
    va_end(ap);
    int col = column(p, at);
    return ql_errf(p->err, QL_EINVAL, "calendar", "%s:%d:%d: %s%.0s", "%s:%d:%d：%.0s%s", p->file,
                   p->line, col, en, zh);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next token of [*s, end): sets *tok and *n and moves *s past it. */
static void next_token(const char **s, const char *end, const char **tok, size_t *n)
{
    const char *c = *s;
    while (c < end && is_blank(*c)) c++;
    *tok = c;
    while (c < end && !is_blank(*c)) c++;
    *n = (size_t)(c - *tok);
    *s = c;
}

/* Parses a YYYY-MM-DD token within year y. */
static int parse_day(const struct parser *p, const cal_year *y, const char *tok, size_t n,
                     int32_t *out)
{
    char buf[16];
    if (n == 0) return fail(p, tok, "a date YYYY-MM-DD is missing", "缺少日期（YYYY-MM-DD）");
    if (n != 10)
        return fail(p, tok, "'%.*s' is not a date YYYY-MM-DD", "“%.*s”不是 YYYY-MM-DD 格式的日期",
                    (int)(n > 40 ? 40 : n), tok);
    memcpy(buf, tok, n);
    buf[n] = '\0';
    if (date_parse(buf, out))
        return fail(p, tok, "'%s' is not a date YYYY-MM-DD", "“%s”不是 YYYY-MM-DD 格式的日期", buf);
    if (*out < y->first || *out >= y->first + y->ndays)
        return fail(p, tok, "%s is outside the declared year %d", "%s 不在声明的年份 %d 内", buf,
                    y->year);
    return 0;
}

/* The rest of the line after *s, blanks trimmed, as the name. */
static int parse_name(const struct parser *p, const char *s, const char *end,
                      char out[CAL_NAME_MAX])
{
    while (s < end && is_blank(*s)) s++;
    const char *e = end;
    while (e > s && is_blank(e[-1])) e--;
    size_t n = (size_t)(e - s);
    if (n == 0)
        return fail(p, s, "the holiday's name is missing at the end of the line",
                    "行末缺少节假日名称");
    if (n >= CAL_NAME_MAX)
        return fail(p, s, "the name is longer than %d bytes", "名称超过 %d 字节", CAL_NAME_MAX - 1);
    if (!text_valid(s, n, 0))
        return fail(p, s, "the name is not clean UTF-8 text", "名称不是有效的 UTF-8 文字");
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int mark(const struct parser *p, cal_year *y, const char *at, int32_t day,
                enum cal_kind kind, const char *name)
{
    int i = (int)(day - y->first);
    if (y->kind[i]) {
        char d[16];
        date_format(day, d, sizeof d);
        return fail(p, at, "%s is already listed as %s (%s)", "%s 已列为 %s（%s）", d,
                    cal_kind_name((enum cal_kind)y->kind[i]), y->name[i]);
    }
    y->kind[i] = (unsigned char)kind;
    memcpy(y->name[i], name, strlen(name) + 1);
    return 0;
}

static int parse_line(struct parser *p, cal_year *y, int *have_year, const char *s, const char *end)
{
    const char *kw;
    size_t kn;
    next_token(&s, end, &kw, &kn);
    if (kn == 0 || *kw == '#') return 0;
    if (kn == 4 && !memcmp(kw, "year", 4)) {
        if (*have_year)
            return fail(p, kw, "the year is declared twice (first: %d)",
                        "年份重复声明（之前为 %d）", y->year);
        const char *tok;
        size_t n;
        next_token(&s, end, &tok, &n);
        int digits = n == 4 && tok[0] >= '1' && tok[0] <= '9';
        for (size_t i = 1; digits && i < 4; i++) digits = tok[i] >= '0' && tok[i] <= '9';
        if (!digits) return fail(p, tok, "the year must be four digits", "年份必须是四位数字");
        int year =
            (tok[0] - '0') * 1000 + (tok[1] - '0') * 100 + (tok[2] - '0') * 10 + (tok[3] - '0');
        ql_err e;
        if (cal_year_init(y, year, &e)) return fail(p, tok, "%s%.0s", "%.0s%s", e.en, e.zh);
        const char *rest;
        next_token(&s, end, &rest, &n);
        if (n) return fail(p, rest, "unexpected text after the year", "年份后有多余内容");
        *have_year = 1;
        return 0;
    }
    int off = kn == 3 && !memcmp(kw, "off", 3);
    int work = kn == 4 && !memcmp(kw, "work", 4);
    if (!off && !work)
        return fail(p, kw, "unknown statement '%.*s' (expected year, off or work)",
                    "未知语句“%.*s”（应为 year、off 或 work）", (int)(kn > 40 ? 40 : kn), kw);
    if (!*have_year)
        return fail(p, kw, "the 'year YYYY' line must come before any off or work line",
                    "“year YYYY”一行必须出现在 off 或 work 之前");
    const char *t1;
    size_t n1;
    next_token(&s, end, &t1, &n1);
    int32_t first, last;
    int rc = parse_day(p, y, t1, n1, &first);
    if (rc) return rc;
    last = first;
    const char *t2 = NULL;
    if (off) {
        /* An optional second date: a token that starts with a digit. */
        const char *save = s;
        size_t n2;
        next_token(&s, end, &t2, &n2);
        if (n2 && t2[0] >= '0' && t2[0] <= '9') {
            if ((rc = parse_day(p, y, t2, n2, &last))) return rc;
            if (last < first)
                return fail(p, t2, "the range ends before it starts", "日期范围的结束早于开始");
            if (last - first > 30)
                return fail(p, t2, "a range of off days is at most 31 days",
                            "休假日期范围最多 31 天");
        } else {
            s = save;
            t2 = NULL;
        }
    }
    char name[CAL_NAME_MAX];
    if ((rc = parse_name(p, s, end, name))) return rc;
    if (work) {
        if (!cal_is_weekend(first))
            return fail(p, t1, "%.10s is a Monday to Friday, a working day already",
                        "%.10s 是周一至周五，本来就是工作日", t1);
        return mark(p, y, t1, first, CAL_WORK, name);
    }
    int weekdays = 0;
    for (int32_t d = first; d <= last; d++) weekdays += !cal_is_weekend(d);
    if (!weekdays)
        return t2 ? fail(p, t1, "every day of this range is a Saturday or Sunday, off anyway",
                         "该范围内全是周六或周日，本来就休息")
                  : fail(p, t1,
                         "%.10s is a Saturday or Sunday, off anyway (list it within its "
                         "holiday's range)",
                         "%.10s 是周六或周日，本来就休息（请写在节假日的日期范围内）", t1);
    for (int32_t d = first; d <= last; d++)
        if ((rc = mark(p, y, d == first ? t1 : t2, d, CAL_OFF, name))) return rc;
    return 0;
}

int cal_year_parse(const char *buf, size_t len, const char *file, cal_year *out, ql_err *err)
{
    struct parser p = {.file = file ? file : "calendar", .line = 0, .ls = buf, .err = err};
    if (len > CAL_FILE_MAX)
        return ql_errf(err, QL_ETOOBIG, "calendar", "%s: larger than %d bytes", "%s：超过 %d 字节",
                       p.file, CAL_FILE_MAX);
    memset(out, 0, sizeof *out);
    int have_year = 0;
    const char *s = buf, *end = buf + len;
    /* A UTF-8 byte order mark is allowed at the start. */
    if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) s += 3;
    while (s < end) {
        p.line++;
        p.ls = s;
        const char *e = memchr(s, '\n', (size_t)(end - s));
        const char *next = e ? e + 1 : end;
        if (!e) e = end;
        if (e > s && e[-1] == '\r') e--;
        for (const char *c = s; c < e; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return fail(&p, c, "control character 0x%02X", "控制字符 0x%02X",
                            (unsigned char)*c);
        if (!text_valid(s, (size_t)(e - s), 1))
            return fail(&p, s, "the line is not valid UTF-8", "该行不是有效的 UTF-8");
        int rc = parse_line(&p, out, &have_year, s, e);
        if (rc) return rc;
        s = next;
    }
    if (!have_year) {
        p.line = p.line ? p.line : 1;
        p.ls = s;
        return fail(&p, s, "no 'year YYYY' line", "缺少“year YYYY”一行");
    }
    return 0;
}

/* --- loaded years --- */

void calendar_init(calendar *c)
{
    memset(c, 0, sizeof *c);
}

void calendar_free(calendar *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) free(c->years[i]);
    calendar_init(c);
}

int calendar_add(calendar *c, const cal_year *y, ql_err *err)
{
    for (int i = 0; i < c->n; i++)
        if (c->years[i]->year == y->year) {
            memcpy(c->years[i], y, sizeof *y);
            return 0;
        }
    if (c->n >= CAL_YEARS_MAX)
        return ql_errf(err, QL_ETOOBIG, "calendar", "at most %d years can be loaded at once",
                       "最多同时加载 %d 个年份", CAL_YEARS_MAX);
    cal_year *copy = xmalloc(sizeof *copy);
    memcpy(copy, y, sizeof *y);
    c->years[c->n++] = copy;
    return 0;
}

const cal_year *calendar_year_of(const calendar *c, int32_t day)
{
    for (int i = 0; i < c->n; i++) {
        const cal_year *y = c->years[i];
        if (day >= y->first && day < y->first + y->ndays) return y;
    }
    return NULL;
}

static int not_loaded(int32_t day, ql_err *err)
{
    int y, m, d;
    if (day < date_from_ymd(1, 1, 1) || day > date_from_ymd(9999, 12, 31))
        return ql_errf(err, QL_ENOTFOUND, "calendar", "day %ld is outside the years 1-9999",
                       "第 %ld 天不在 1–9999 年之间", (long)day);
    date_to_ymd(day, &y, &m, &d);
    return ql_errf(err, QL_ENOTFOUND, "calendar",
                   "the holiday calendar of %d is not loaded (qianlima calendar load)",
                   "%d 年的节假日安排尚未加载（qianlima calendar load）", y);
}

/* *out = 1 if day is a working day in y (which holds it). */
static int workday_in(const cal_year *y, int32_t day)
{
    enum cal_kind k = (enum cal_kind)y->kind[day - y->first];
    return k == CAL_WORK || (k == CAL_NORMAL && !cal_is_weekend(day));
}

int calendar_is_workday(const calendar *c, int32_t day, int *out, ql_err *err)
{
    const cal_year *y = calendar_year_of(c, day);
    if (!y) return not_loaded(day, err);
    *out = workday_in(y, day);
    return 0;
}

int calendar_add_workdays(const calendar *c, int32_t day, int n, int32_t *out, ql_err *err)
{
    if (n < 1 || n > CAL_ADD_MAX)
        return ql_errf(err, QL_EINVAL, "calendar", "the number of working days must be 1 to %d",
                       "工作日天数必须在 1 至 %d 之间", CAL_ADD_MAX);
    int32_t d = day;
    const cal_year *y = NULL;
    while (n > 0) {
        if (d == INT32_MAX) return not_loaded(d, err);
        d++;
        if (!y || d < y->first || d >= y->first + y->ndays) y = calendar_year_of(c, d);
        if (!y) return not_loaded(d, err);
        n -= workday_in(y, d);
    }
    *out = d;
    return 0;
}

int calendar_count_workdays(const calendar *c, int32_t from, int32_t to, int *out, ql_err *err)
{
    if (to < from)
        return ql_errf(err, QL_EINVAL, "calendar", "the end comes before the start",
                       "结束日期早于开始日期");
    int count = 0;
    const cal_year *y = NULL;
    for (int64_t d = (int64_t)from + 1; d <= to; d++) {
        int32_t day = (int32_t)d;
        if (!y || day < y->first || day >= y->first + y->ndays) y = calendar_year_of(c, day);
        if (!y) return not_loaded(day, err);
        count += workday_in(y, day);
    }
    *out = count;
    return 0;
}
