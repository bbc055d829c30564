/* corrections.c - the registry facts with dates the cycle reads, and the
 * changes that reach back into months already paid (corrections.h). */
#include "ledger/corrections.h"

#include "core/date.h"

#include <stdio.h>
#include <string.h>

static bool criteria_use(const pol_version *v, uint32_t facts)
{
    for (int i = 0; i < v->ncrit; i++)
        if (v->crit[i].uses & facts) return true;
    return false;
}

bool corr_reads_employment(const pol_version *v)
{
    return criteria_use(v, 1u << F_EMPLOYED | 1u << F_EMPLOYER_REGISTERED | 1u << F_EMPLOYER_TAXED |
                               1u << F_EMPLOYER_KEY | 1u << F_EMPLOYER_INDUSTRY |
                               1u << F_EMPLOYED_MONTHS);
}

bool corr_reads_housing(const pol_version *v)
{
    return criteria_use(v, 1u << F_OWNS_HOUSING);
}

int corr_unemployed_days(const struct facts_talent *f, int32_t a, int32_t b, const int32_t *from,
                         const int32_t *to, int n)
{
    int days = 0;
    for (int32_t d = a; d <= b; d++) {
        bool suspended = false;
        for (int k = 0; k < n && !suspended; k++) suspended = from[k] <= d && d <= to[k];
        if (!suspended && !facts_talent_employer_on(f, d)) days++;
    }
    return days;
}

int corr_pending_read(store *s, int64_t talent, int32_t before, struct corr_pending *out,
                      ql_err *err)
{
    out->n = 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, effective FROM fact_changes WHERE talent_id = $1 AND "
                         "consumed_by IS NULL AND effective < $2 ORDER BY effective, id LIMIT 64",
                         (store_val[]){SV_INT(talent), SV_INT(before)}, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    while ((rc = store_step(r)) == 1 && out->n < CORR_PENDING_MAX) {
        out->id[out->n] = store_col_int(r, 0);
        out->effective[out->n++] = (int32_t)store_col_int(r, 1);
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", err) : 0;
}

int corr_link(store *s, int64_t adjustment, const struct corr_pending *p, int32_t last, ql_err *err)
{
    for (int i = 0; i < p->n; i++) {
        if (p->effective[i] > last) continue;
        int rc = store_exec(s,
                            "INSERT INTO adjustment_causes (adjustment_id, change_id) VALUES "
                            "($1, $2)",
                            (store_val[]){SV_INT(adjustment), SV_INT(p->id[i])}, 2, NULL);
        if (rc) return store_failure(s, rc, "", err);
    }
    return 0;
}

int corr_talents_page(store *s, int32_t before, int64_t after, int64_t *ids, int max, int *n,
                      ql_err *err)
{
    *n = 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT DISTINCT talent_id FROM fact_changes WHERE consumed_by IS NULL "
                         "AND talent_id > $1 AND effective < $2 ORDER BY talent_id LIMIT $3",
                         (store_val[]){SV_INT(after), SV_INT(before), SV_INT(max)}, 3, &r);
    if (rc) return store_failure(s, rc, "", err);
    while ((rc = store_step(r)) == 1 && *n < max) ids[(*n)++] = store_col_int(r, 0);
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", err) : 0;
}

int corr_consume(store *s, int64_t talent, int32_t before, int64_t cycle, ql_err *err)
{
    int rc = store_exec(s,
                        "UPDATE fact_changes SET consumed_by = $1 WHERE talent_id = $2 AND "
                        "consumed_by IS NULL AND effective < $3",
                        (store_val[]){SV_INT(cycle), SV_INT(talent), SV_INT(before)}, 3, NULL);
    return rc ? store_failure(s, rc, "", err) : 0;
}

int corr_causes(store *s, int64_t adjustment, json_t **out, ql_err *err)
{
    *out = NULL;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT f.id, f.fact, f.effective, f.source_type, f.source_id, "
                         "f.recorded_by, f.recorded_at, f.summary_en, f.summary_zh FROM "
                         "adjustment_causes c JOIN fact_changes f ON f.id = c.change_id WHERE "
                         "c.adjustment_id = $1 ORDER BY f.effective, f.id",
                         (store_val[]){SV_INT(adjustment)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1) {
        char eff[16], on[16], en[1400], zh[1400];
        date_format((int32_t)store_col_int(r, 2), eff, sizeof eff);
        int64_t at = store_col_int(r, 6);
        date_format((int32_t)((at + 8 * 3600) / 86400), on, sizeof on); /* Asia/Shanghai */
        const char *by = store_col_text(r, 5, NULL);
        snprintf(en, sizeof en, "%s (recorded on %s by %s)", store_col_text(r, 7, NULL), on, by);
        snprintf(zh, sizeof zh, "%s（%s 由 %s 登记）", store_col_text(r, 8, NULL), on, by);
        json_array_append_new(
            list,
            json_pack("{sIsssssssIsssIssss}", "change_id", (json_int_t)store_col_int(r, 0), "fact",
                      store_col_text(r, 1, NULL), "effective", eff, "source_type",
                      store_col_text(r, 3, NULL), "source_id", (json_int_t)store_col_int(r, 4),
                      "recorded_by", by, "recorded_at", (json_int_t)at, "en", en, "zh", zh));
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return store_failure(s, rc, "", err);
    }
    *out = list;
    return 0;
}
