/* cycle_list.c - reading the cycles: months and totals, budgets,
 * corrections, result imports and batch files (cycle_list.h). */
#include "ledger/cycle_list.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "ledger/corrections.h"
#include "policy/rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cycle_may_read(const actor *a)
{
    return actor_can(a, P_LEDGER_RUN) || actor_can(a, P_LEDGER_APPROVE) ||
           actor_can(a, P_LEDGER_EXPORT);
}

static int need_read(const actor *a, ql_err *err)
{
    return cycle_may_read(a) ? 0 : actor_require(a, P_LEDGER_RUN, err);
}

/* The id of the cycle of month ("YYYY-MM"). */
static int cycle_id(store *s, const char *month, int64_t *id, ql_err *err)
{
    int32_t first;
    if (!month || strlen(month) != 7 || date_parse_month(month, &first))
        return ql_errf(err, QL_EINVAL, "month", "the month must be YYYY-MM, such as 2026-11",
                       "月份格式应为 YYYY-MM，例如 2026-11");
    int rc = store_query_int(s, "SELECT id FROM cycles WHERE month = $1",
                             (store_val[]){SV_TEXT(month)}, 1, id);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       month);
    return rc ? store_failure(s, rc, "", err) : 0;
}

static void set_fen(json_t *o, const char *stem, int64_t fen)
{
    char k[40];
    snprintf(k, sizeof k, "%s_fen", stem);
    json_object_set_new(o, k, json_integer(fen));
    snprintf(k, sizeof k, "%s_yuan", stem);
    json_object_set_new(o, k, pol_yuan_json(fen));
}

/* ---- the months ---------------------------------------------------------- */

/* The page of cycles the list shows, for the aggregates below. */
#define PAGE_IDS "SELECT id FROM cycles ORDER BY month DESC LIMIT $1 OFFSET $2"

static json_t *by_id(json_t *items, const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id) return json_array_get(items, i);
    return NULL;
}

static void add_int(json_t *o, const char *k, int64_t v)
{
    json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + v));
}

int cycle_list(store *s, const actor *a, int64_t offset, int limit, json_t **out, int64_t *total,
               ql_err *err)
{
    *out = NULL;
    int rc = need_read(a, err);
    if (rc) return rc;
    if (limit < 1 || limit > 500 || offset < 0)
        return ql_errf(err, QL_EINVAL, "limit", "a page holds 1 to 500 cycles",
                       "每页 1 至 500 个发放批次");
    if ((rc = store_query_int(s, "SELECT count(*) FROM cycles", NULL, 0, total)))
        return store_failure(s, rc, "", err);
    store_val page[] = {SV_INT(limit), SV_INT(offset)};
    store_rows *r;
    /* a cycle still being computed (draft) has its totals written at the
     * end: count what is there so far */
    rc = store_query(s,
                     "SELECT c.id, c.month, c.state, CASE WHEN c.state = 'draft' THEN (SELECT "
                     "count(*) FROM entitlements e WHERE e.cycle_id = c.id) ELSE c.entitlements "
                     "END, CASE WHEN c.state = 'draft' THEN (SELECT COALESCE(SUM(e.amount_fen), "
                     "0) FROM entitlements e WHERE e.cycle_id = c.id) ELSE c.total_fen END, "
                     "c.computed_by, c.approved_by FROM cycles c ORDER BY c.month DESC "
                     "LIMIT $1 OFFSET $2",
                     page, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *items = json_array();
    int64_t ids[500];
    size_t n = 0;
    while ((rc = store_step(r)) == 1 && n < 500) {
        ids[n++] = store_col_int(r, 0);
        json_t *o =
            json_pack("{sssssI}", "month", store_col_text(r, 1, NULL), "state",
                      store_col_text(r, 2, NULL), "entitlements", (json_int_t)store_col_int(r, 3));
        set_fen(o, "total", store_col_int(r, 4));
        json_object_set_new(o, "corrections", json_integer(0));
        set_fen(o, "arrears", 0);
        set_fen(o, "recovered", 0);
        json_object_set_new(o, "payments", json_integer(0));
        json_object_set_new(o, "paid", json_integer(0));
        json_object_set_new(o, "failed", json_integer(0));
        json_object_set_new(o, "pending", json_integer(0));
        set_fen(o, "paid", 0);
        json_object_set_new(o, "computed_by", json_string(store_col_text(r, 5, NULL)));
        json_object_set_new(o, "approved_by", json_string(store_col_text(r, 6, NULL)));
        json_array_append_new(items, o);
    }
    store_rows_close(r);
    if (rc < 0) goto fail;
    rc = store_query(s,
                     "SELECT a.cycle_id, a.kind, count(*), COALESCE(SUM(a.amount_fen), 0) FROM "
                     "adjustments a WHERE a.cycle_id IN (" PAGE_IDS ") GROUP BY a.cycle_id, a.kind",
                     page, 2, &r);
    if (rc) goto fail;
    while ((rc = store_step(r)) == 1) {
        json_t *o = by_id(items, ids, n, store_col_int(r, 0));
        if (!o) continue;
        int arrears = !strcmp(store_col_text(r, 1, NULL), "arrears");
        add_int(o, "corrections", store_col_int(r, 2));
        set_fen(o, arrears ? "arrears" : "recovered", store_col_int(r, 3));
    }
    store_rows_close(r);
    if (rc < 0) goto fail;
    rc = store_query(s,
                     "SELECT p.cycle_id, p.state, count(*), COALESCE(SUM(p.amount_fen), 0) FROM "
                     "payments p WHERE p.cycle_id IN (" PAGE_IDS ") GROUP BY p.cycle_id, p.state",
                     page, 2, &r);
    if (rc) goto fail;
    while ((rc = store_step(r)) == 1) {
        json_t *o = by_id(items, ids, n, store_col_int(r, 0));
        if (!o) continue;
        const char *st = store_col_text(r, 1, NULL);
        int64_t count = store_col_int(r, 2);
        add_int(o, "payments", count);
        if (!strcmp(st, "paid")) {
            add_int(o, "paid", count);
            set_fen(o, "paid", store_col_int(r, 3));
        } else if (!strcmp(st, "failed")) {
            add_int(o, "failed", count);
        } else if (!strcmp(st, "queued") || !strcmp(st, "sent")) {
            add_int(o, "pending", count);
        }
    }
    store_rows_close(r);
    if (rc < 0) goto fail;
    *out = items;
    return 0;
fail:
    json_decref(items);
    return store_failure(s, rc, "", err);
}

/* ---- budgets -------------------------------------------------------------- */

int cycle_budgets(store *s, const actor *a, json_t **out, ql_err *err)
{
    *out = NULL;
    int rc = need_read(a, err);
    if (rc) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT programme, year, amount_fen, set_by, set_at FROM budgets ORDER BY "
                     "year DESC, programme",
                     NULL, 0, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *items = json_array();
    while ((rc = store_step(r)) == 1) {
        json_t *o = json_pack("{sssI}", "programme", store_col_text(r, 0, NULL), "year",
                              (json_int_t)store_col_int(r, 1));
        set_fen(o, "amount", store_col_int(r, 2));
        json_object_set_new(o, "set_by", json_string(store_col_text(r, 3, NULL)));
        json_object_set_new(o, "set_at", json_integer(store_col_int(r, 4)));
        json_array_append_new(items, o);
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(items);
        return store_failure(s, rc, "", err);
    }
    *out = items;
    return 0;
}

/* ---- corrections ------------------------------------------------------------ */

int cycle_adjustments(store *s, const actor *a, const char *month, int limit, json_t **out,
                      int64_t *total, ql_err *err)
{
    *out = NULL;
    int64_t id;
    int rc = need_read(a, err);
    if (!rc) rc = cycle_id(s, month, &id, err);
    if (rc) return rc;
    if (limit < 1 || limit > 500)
        return ql_errf(err, QL_EINVAL, "limit", "a page holds 1 to 500 rows", "每页 1 至 500 行");
    if ((rc = store_query_int(s, "SELECT count(*) FROM adjustments WHERE cycle_id = $1",
                              (store_val[]){SV_INT(id)}, 1, total)))
        return store_failure(s, rc, "", err);
    store_rows *r;
    rc = store_query(s,
                     "SELECT application_id, talent_id, programme, for_month, kind, was_fen, "
                     "due_fen, amount_fen, payee_type, payee_id, id FROM adjustments WHERE "
                     "cycle_id = $1 ORDER BY application_id, for_month LIMIT $2",
                     (store_val[]){SV_INT(id), SV_INT(limit)}, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *items = json_array();
    while ((rc = store_step(r)) == 1) {
        json_t *o = json_pack(
            "{sIsIsssssssssI}", "application_id", (json_int_t)store_col_int(r, 0), "talent_id",
            (json_int_t)store_col_int(r, 1), "programme", store_col_text(r, 2, NULL), "for_month",
            store_col_text(r, 3, NULL), "kind", store_col_text(r, 4, NULL), "payee_type",
            store_col_text(r, 8, NULL), "payee_id", (json_int_t)store_col_int(r, 9));
        set_fen(o, "was", store_col_int(r, 5));
        set_fen(o, "due", store_col_int(r, 6));
        set_fen(o, "amount", store_col_int(r, 7));
        json_object_set_new(o, "id", json_integer((json_int_t)store_col_int(r, 10)));
        json_array_append_new(items, o);
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(items);
        return store_failure(s, rc, "", err);
    }
    /* the registry changes each follows from, now that no result set is open */
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        json_t *causes = NULL;
        if ((rc = corr_causes(s, json_integer_value(json_object_get(o, "id")), &causes, err))) {
            json_decref(items);
            return rc;
        }
        json_object_set_new(o, "causes", causes);
    }
    *out = items;
    return 0;
}

/* ---- result imports ------------------------------------------------------------ */

int cycle_imports(store *s, const actor *a, const char *month, json_t **out, ql_err *err)
{
    *out = NULL;
    int64_t id;
    int rc = need_read(a, err);
    if (!rc) rc = cycle_id(s, month, &id, err);
    if (rc) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT id, file_name, records, paid, failed, mismatches, imported_by, "
                     "imported_at, report FROM bank_imports WHERE cycle_id = $1 ORDER BY id DESC",
                     (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *items = json_array();
    while ((rc = store_step(r)) == 1) {
        json_t *report = json_loads(store_col_text(r, 8, NULL), 0, NULL);
        if (!json_is_array(report)) {
            json_decref(report);
            report = json_array();
        }
        json_array_append_new(
            items,
            json_pack("{sIsssIsIsIsIsssIso}", "id", (json_int_t)store_col_int(r, 0), "file_name",
                      store_col_text(r, 1, NULL), "records", (json_int_t)store_col_int(r, 2),
                      "paid", (json_int_t)store_col_int(r, 3), "failed",
                      (json_int_t)store_col_int(r, 4), "mismatches",
                      (json_int_t)store_col_int(r, 5), "imported_by", store_col_text(r, 6, NULL),
                      "imported_at", (json_int_t)store_col_int(r, 7), "items", report));
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(items);
        return store_failure(s, rc, "", err);
    }
    *out = items;
    return 0;
}

/* ---- batch files ---------------------------------------------------------------- */

int cycle_files(store *s, const actor *a, const char *dir, const char *month, json_t **out,
                ql_err *err)
{
    *out = NULL;
    int64_t id;
    int rc = need_read(a, err);
    if (!rc) rc = cycle_id(s, month, &id, err);
    if (rc) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT batch_no, records, total_fen FROM bank_batches WHERE cycle_id = $1 "
                     "ORDER BY id",
                     (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    json_t *items = json_array();
    while ((rc = store_step(r)) == 1) {
        if (dfd < 0) continue;
        static const char *const ext[][2] = {{"csv", "csv"}, {"txt", "fixed"}};
        for (size_t i = 0; i < 2; i++) {
            char name[48];
            snprintf(name, sizeof name, "%s.%s", store_col_text(r, 0, NULL), ext[i][0]);
            struct stat st;
            if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode)) continue;
            json_t *o = json_pack("{sssssssIsI}", "name", name, "batch_no",
                                  store_col_text(r, 0, NULL), "format", ext[i][1], "records",
                                  (json_int_t)store_col_int(r, 1), "bytes", (json_int_t)st.st_size);
            set_fen(o, "total", store_col_int(r, 2));
            json_array_append_new(items, o);
        }
    }
    store_rows_close(r);
    if (dfd >= 0) close(dfd);
    if (rc < 0) {
        json_decref(items);
        return store_failure(s, rc, "", err);
    }
    *out = items;
    return 0;
}

struct dl {
    const actor *a;
    int64_t cycle;
    const char *month, *name;
    size_t bytes;
    ql_err *err;
};

static int download_audit(store *s, void *vctx)
{
    struct dl *x = vctx;
    json_t *d =
        json_pack("{sssssI}", "month", x->month, "file", x->name, "bytes", (json_int_t)x->bytes);
    int rc =
        audit_by(s, x->a, "cycle.file_download", "cycle", x->cycle, NULL, NULL, d, NULL, x->err);
    json_decref(d);
    return rc;
}

static int no_file(ql_err *err)
{
    return ql_errf(err, QL_ENOTFOUND, "name", "the cycle has no such batch file",
                   "该发放批次没有这个批次文件");
}

int cycle_file_open(store *s, const actor *a, const char *dir, const char *month, const char *name,
                    int *fd, size_t *len, ql_err *err)
{
    *fd = -1;
    *len = 0;
    int64_t id;
    int rc = actor_require(a, P_LEDGER_EXPORT, err);
    if (!rc) rc = cycle_id(s, month, &id, err);
    if (rc) return rc;
    /* <batch_no>.csv or .txt: letters, digits and '-' before the one dot */
    size_t n = name ? strlen(name) : 0;
    if (n < 5 || n > 40 || (strcmp(name + n - 4, ".csv") && strcmp(name + n - 4, ".txt")))
        return no_file(err);
    char no[40];
    for (size_t i = 0; i < n - 4; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return no_file(err);
        no[i] = c;
    }
    no[n - 4] = '\0';
    int64_t found = 0;
    rc = store_query_int(s,
                         "SELECT count(*) FROM bank_batches WHERE cycle_id = $1 AND batch_no = $2",
                         (store_val[]){SV_INT(id), SV_TEXT(no)}, 2, &found);
    if (rc) return store_failure(s, rc, "", err);
    if (!found || !dir) return no_file(err);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return no_file(err);
    int f = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    close(dfd);
    struct stat st;
    if (f < 0 || fstat(f, &st) || !S_ISREG(st.st_mode)) {
        if (f >= 0) close(f);
        return no_file(err);
    }
    struct dl x = {a, id, month, name, (size_t)st.st_size, err};
    if ((rc = store_tx(s, STORE_TX_WRITE, download_audit, &x))) {
        close(f);
        return rc;
    }
    ql_err e;
    if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    *fd = f;
    *len = (size_t)st.st_size;
    return 0;
}
