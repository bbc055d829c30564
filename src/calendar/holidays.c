/* holidays.c - the working-day calendar in the store. */
#include "calendar/holidays.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/log.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void holidays_digest(const void *buf, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, buf, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

int holidays_read_year(store *s, int year, cal_year *out, ql_err *err)
{
    int64_t one;
    int rc = store_query_int(s, "SELECT 1 FROM calendar_years WHERE year = $1",
                             (store_val[]){SV_INT(year)}, 1, &one);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "calendar",
                       "the holiday calendar of %d is not loaded (qianlima calendar load)",
                       "%d 年的节假日安排尚未加载（qianlima calendar load）", year);
    if (rc) return store_failure(s, rc, "calendar", err);
    if ((rc = cal_year_init(out, year, err))) return rc;
    store_rows *r;
    rc = store_query(s, "SELECT day, kind, name FROM calendar_days WHERE year = $1 ORDER BY day",
                     (store_val[]){SV_INT(year)}, 1, &r);
    if (rc) return store_failure(s, rc, "calendar", err);
    while ((rc = store_step(r)) == 1) {
        const char *kind = store_col_text(r, 1, NULL);
        rc = cal_year_set(out, (int32_t)store_col_int(r, 0),
                          !strcmp(kind, "work") ? CAL_WORK : CAL_OFF, store_col_text(r, 2, NULL),
                          err);
        if (rc) break;
    }
    store_rows_close(r);
    if (rc < 0 && rc != QL_EINVAL) return store_failure(s, rc, "calendar", err);
    return rc < 0 ? rc : 0;
}

int holidays_year_info(store *s, int year, struct holidays_year_info *out, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT source, digest, off_days, work_days, loaded_at, loaded_by "
                         "FROM calendar_years WHERE year = $1",
                         (store_val[]){SV_INT(year)}, 1, &r);
    if (rc) return store_failure(s, rc, "calendar", err);
    rc = store_step(r);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        out->year = year;
        snprintf(out->source, sizeof out->source, "%s", store_col_text(r, 0, NULL));
        snprintf(out->digest, sizeof out->digest, "%s", store_col_text(r, 1, NULL));
        out->off = (int)store_col_int(r, 2);
        out->work = (int)store_col_int(r, 3);
        out->loaded_at = store_col_int(r, 4);
        snprintf(out->loaded_by, sizeof out->loaded_by, "%s", store_col_text(r, 5, NULL));
    }
    store_rows_close(r);
    if (rc == 0)
        return ql_errf(err, QL_ENOTFOUND, "calendar", "the holiday calendar of %d is not loaded",
                       "%d 年的节假日安排尚未加载", year);
    return rc < 0 ? store_failure(s, rc, "calendar", err) : 0;
}

int holidays_read_all(store *s, calendar *c, ql_err *err)
{
    int years[CAL_YEARS_MAX + 1], n = 0;
    store_rows *r;
    int rc = store_query(s, "SELECT year FROM calendar_years ORDER BY year", NULL, 0, &r);
    if (rc) return store_failure(s, rc, "calendar", err);
    while ((rc = store_step(r)) == 1 && n <= CAL_YEARS_MAX) years[n++] = (int)store_col_int(r, 0);
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "calendar", err);
    if (n > CAL_YEARS_MAX)
        return ql_errf(err, QL_ETOOBIG, "calendar", "more than %d years are stored",
                       "数据库中的年份超过 %d 个", CAL_YEARS_MAX);
    cal_year *y = xmalloc(sizeof *y);
    for (int i = 0; i < n && !rc; i++) {
        rc = holidays_read_year(s, years[i], y, err);
        if (!rc) rc = calendar_add(c, y, err);
    }
    free(y);
    return rc;
}

/* The days of y as audited: {"2026-01-01": "off 元旦", ...}. */
static json_t *year_json(const cal_year *y)
{
    json_t *o = json_object();
    for (int i = 0; i < y->ndays; i++) {
        if (!y->kind[i]) continue;
        char d[16], v[CAL_NAME_MAX + 8];
        date_format(y->first + i, d, sizeof d);
        snprintf(v, sizeof v, "%s %s", cal_kind_name((enum cal_kind)y->kind[i]), y->name[i]);
        json_object_set_new(o, d, json_string(v));
    }
    return o;
}

static int same_days(const cal_year *a, const cal_year *b)
{
    if (a->year != b->year) return 0;
    for (int i = 0; i < a->ndays; i++)
        if (a->kind[i] != b->kind[i] || (a->kind[i] && strcmp(a->name[i], b->name[i]))) return 0;
    return 1;
}

struct load_ctx {
    const actor *a;
    const cal_year *y;
    const char *source, *digest;
    cal_year *prev;
    struct holidays_load_report *rep;
    ql_err *err;
};

static int load_body(store *s, void *vctx)
{
    struct load_ctx *x = vctx;
    const cal_year *y = x->y;
    ql_err *err = x->err;
    struct holidays_load_report *rep = x->rep;
    memset(rep, 0, sizeof *rep);
    cal_year_counts(y, &rep->off, &rep->work);
    int rc = holidays_read_year(s, y->year, x->prev, err);
    if (rc && rc != QL_ENOTFOUND) return rc;
    rep->replaced = rc == 0;
    if (rep->replaced && same_days(x->prev, y)) {
        rep->unchanged = 1;
        return 0;
    }
    store_val yv[] = {SV_INT(y->year)};
    if ((rc = store_exec(s, "DELETE FROM calendar_days WHERE year = $1", yv, 1, NULL)) ||
        (rc = store_exec(s, "DELETE FROM calendar_years WHERE year = $1", yv, 1, NULL)))
        return store_failure(s, rc, "calendar", err);
    char who[128];
    actor_label(x->a, who);
    store_val row[] = {SV_INT(y->year),  SV_TEXT(x->source), SV_TEXT(x->digest),
                       SV_INT(rep->off), SV_INT(rep->work),  SV_INT((int64_t)time(NULL)),
                       SV_TEXT(who)};
    rc = store_exec(s,
                    "INSERT INTO calendar_years (year, source, digest, off_days, work_days, "
                    "loaded_at, loaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    row, 7, NULL);
    if (rc) return store_failure(s, rc, "calendar", err);
    for (int i = 0; i < y->ndays; i++) {
        if (!y->kind[i]) continue;
        store_val dv[] = {SV_INT(y->first + i), SV_INT(y->year),
                          SV_TEXT(y->kind[i] == CAL_WORK ? "work" : "off"), SV_TEXT(y->name[i])};
        rc = store_exec(s,
                        "INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)",
                        dv, 4, NULL);
        if (rc) return store_failure(s, rc, "calendar", err);
    }
    char oid[16];
    snprintf(oid, sizeof oid, "%d", y->year);
    json_t *before = rep->replaced ? year_json(x->prev) : NULL;
    json_t *after = year_json(y);
    json_t *detail = json_pack("{s:i, s:s, s:s, s:i, s:i, s:b}", "year", y->year, "source",
                               x->source, "digest", x->digest, "off_days", rep->off, "work_days",
                               rep->work, "replaced", rep->replaced);
    audit_event ev = {.actor_id = x->a->user_id,
                      .actor = who,
                      .action = "calendar.load",
                      .object_type = "calendar_year",
                      .object_id = oid,
                      .before = before,
                      .after = after,
                      .detail = detail,
                      .ip = x->a->ip,
                      .request_id = x->a->request_id};
    rc = audit_append(s, &ev, &rep->audit_seq, err);
    json_decref(before);
    json_decref(after);
    json_decref(detail);
    return rc;
}

int holidays_load(store *s, const actor *a, const cal_year *y, const char *source,
                  const char *digest, cal_year *before, struct holidays_load_report *report,
                  ql_err *err)
{
    int rc = actor_require(a, P_POLICY_MANAGE, err);
    if (rc) return rc;
    size_t sl = source ? strlen(source) : 0;
    if (sl < 1 || sl > 255 || !text_valid(source, sl, 0))
        return ql_errf(err, QL_EINVAL, "source", "the source name must be 1 to 255 bytes of text",
                       "来源名称必须是 1 至 255 字节的文字");
    if (!digest || strlen(digest) != 64 || strspn(digest, "0123456789abcdef") != 64)
        return ql_errf(err, QL_EINVAL, "digest", "the digest must be 64 hexadecimal characters",
                       "摘要必须是 64 个十六进制字符");
    if (y->year < 1900 || y->year > 9999 || y->first != date_from_ymd(y->year, 1, 1) ||
        y->ndays != (int)(date_from_ymd(y->year + 1, 1, 1) - y->first))
        return ql_errf(err, QL_EINVAL, "calendar", "malformed calendar year", "日历年份数据有误");
    for (int i = 0; i < y->ndays; i++)
        if (y->kind[i] > CAL_WORK)
            return ql_errf(err, QL_EINVAL, "calendar", "malformed calendar year",
                           "日历年份数据有误");
    cal_year *prev = xmalloc(sizeof *prev);
    struct load_ctx x = {a, y, source, digest, prev, report, err};
    rc = store_tx(s, STORE_TX_WRITE, load_body, &x);
    if (!rc && report->replaced && before) memcpy(before, prev, sizeof *prev);
    free(prev);
    if (!rc && !report->unchanged) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}
