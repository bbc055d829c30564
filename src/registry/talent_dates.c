/* talent_dates.c - the dated facts of a talent the monthly cycle reads: the
 * day from which the person owns housing, and the last day of an
 * employment (talent.h). */
#include "registry/talent.h"

#include "core/date.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>

/* A date field not after today: 0 with *has 0 when empty, 0 with *day and
 * *has 1, or 1 after adding the error to report. */
static int dated(reg_report *report, const char *field, const char *in, int32_t today, int32_t *day,
                 int *has)
{
    ql_err e;
    char tmp[64];
    size_t len = reg_trim(in, tmp, sizeof tmp);
    *has = 0;
    if (!tmp[0]) return 0;
    if (len >= sizeof tmp) {
        reg_too_long(&report->errors, field);
        return 1;
    }
    int bad = validate_date(field, tmp, day, &e) != 0;
    if (!bad && *day > today)
        bad = ql_errf(&e, QL_EINVAL, field, "%s: the date is in the future", "%s：日期晚于今天",
                      field) != 0;
    if (bad) {
        ql_errs_add(&report->errors, &e);
        return 1;
    }
    *has = 1;
    return 0;
}

int talent_check_dates(const struct talent_input *in, int32_t today, struct talent_rec *t,
                       reg_report *report)
{
    int bad = dated(report, "owns_housing_since", in->owns_housing_since, today, &t->housing_from,
                    &t->has_housing_from);
    if (t->has_housing_from && !t->owns_housing) {
        ql_err e;
        ql_errf(&e, QL_EINVAL, "owns_housing_since",
                "owns_housing_since: give the day from which the person owns housing only when "
                "owns_housing is yes",
                "owns_housing_since：仅在“在沪有住房”为是时填写有房日期");
        ql_errs_add(&report->errors, &e);
        bad = 1;
    }
    if (!t->has_housing_from) t->housing_from = today;
    bad |= dated(report, "employed_until", in->employed_until, today, &t->employed_until,
                 &t->has_employed_until);
    return bad;
}

int talent_housing_store(store *s, int64_t id, const struct talent_rec *t)
{
    return store_exec(s,
                      "UPDATE talents SET owns_housing = $1, housing_from = CASE WHEN $1 = 0 THEN "
                      "NULL WHEN $2 = 1 THEN $3 ELSE COALESCE(housing_from, $3) END WHERE id = $4",
                      (store_val[]){SV_INT(t->owns_housing != 0), SV_INT(t->has_housing_from != 0),
                                    SV_INT(t->housing_from), SV_INT(id)},
                      4, NULL);
}

int talent_end_fits(store *s, int64_t id, int64_t old_employer, const struct talent_rec *t,
                    ql_err *err)
{
    if (!t->has_employed_until) return 0;
    int64_t now = t->has_employer ? t->employer_id : 0;
    if (old_employer && now == old_employer)
        return ql_errf(err, QL_EINVAL, "employed_until",
                       "employed_until: the employment goes on with the same employer; remove or "
                       "change the employer to end it",
                       "employed_until：任职单位未变；结束任职须删除或更换任职单位");
    if (!old_employer && now)
        return ql_errf(err, QL_EINVAL, "employed_until",
                       "employed_until: there is no current employment to end",
                       "employed_until：当前没有可结束的任职");
    /* the employment it ends: the open one, else the last one */
    int64_t start = -1;
    int rc = store_query_int(s,
                             old_employer ? "SELECT start_date FROM employments WHERE talent_id = "
                                            "$1 AND end_date IS NULL ORDER BY start_date DESC "
                                            "LIMIT 1"
                                          : "SELECT start_date FROM employments WHERE talent_id = "
                                            "$1 ORDER BY start_date DESC, id DESC LIMIT 1",
                             (store_val[]){SV_INT(id)}, 1, &start);
    if (rc == QL_ENOTFOUND && old_employer) /* no open row: the talent's own day */
        rc = store_query_int(s, "SELECT COALESCE(employed_since, 0) FROM talents WHERE id = $1",
                             (store_val[]){SV_INT(id)}, 1, &start);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_EINVAL, "employed_until",
                       "employed_until: there is no employment to end",
                       "employed_until：没有可结束的任职");
    if (rc) return rc;
    char d[16];
    if (t->employed_until < start) {
        date_format((int32_t)start, d, sizeof d);
        return ql_errf(err, QL_EINVAL, "employed_until",
                       "employed_until: the employment began on %s; it cannot end before",
                       "employed_until：该任职始于 %s，结束日期不能更早", d);
    }
    if (now && t->employed_until >= t->employed_since) {
        date_format(t->employed_since, d, sizeof d);
        return ql_errf(err, QL_EINVAL, "employed_until",
                       "employed_until: the new employment begins on %s; the current one ends "
                       "before it",
                       "employed_until：新任职始于 %s，当前任职须在此前结束", d);
    }
    return 0;
}
