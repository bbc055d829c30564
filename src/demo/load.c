/* load.c - where the demo district goes: CSV files in the import format, or
 * the store through the registry's bulk load. */
#include "demo/demo.h"

#include "registry/bulk.h"

#include <stdio.h>
#include <string.h>

/* ---- CSV --------------------------------------------------------------- */

/* The column titles of the import templates (registry/import.c), in the
 * order the records are written. */
static const char employer_header[] = "统一社会信用代码,单位名称,行业,本区注册,本区纳税,重点企业";
static const char talent_header[] =
    "姓名,身份证号码,手机号码,学历,毕业日期,人才类别,人才层次,用人单位统一社会信用代码,"
    "入职日期,本区社保缴纳月数,本人配偶或未成年子女在沪有住房,银行卡号,在沪有住房日期";

static void put_field(FILE *f, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ",", f);
}

static void put_row(FILE *f, const char *const *cells, int n)
{
    for (int i = 0; i < n; i++) put_field(f, cells[i], i == n - 1);
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t n, ql_err *err)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        ql_errf(err, QL_EIO, "csv", "cannot write %s", "无法写入 %s", path);
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    fputs("\xEF\xBB\xBF", f);
    return f;
}

static int close_out(FILE *f, const char *path, ql_err *err)
{
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    return bad ? ql_errf(err, QL_EIO, "csv", "cannot write %s", "无法写入 %s", path) : 0;
}

#define PROGRESS_EVERY 50000

int demo_write_csv(const demo *d, const char *dir, demo_progress_fn progress, void *ctx,
                   ql_err *err)
{
    char path[4096];
    FILE *f = open_out(dir, "employers.csv", path, sizeof path, err);
    if (!f) return QL_EIO;
    fputs(employer_header, f);
    fputs("\r\n", f);
    int64_t ne = demo_employer_count(d);
    for (int64_t i = 0; i < ne; i++) {
        const struct demo_employer *e = demo_employer(d, i);
        const char *cells[] = {e->credit_code, e->name, e->industry,
                               e->registered, e->taxed, e->key_enterprise};
        put_row(f, cells, 6);
    }
    int rc = close_out(f, path, err);
    if (rc) return rc;
    if (progress) progress("employers", ne, ne, ctx);

    f = open_out(dir, "talents.csv", path, sizeof path, err);
    if (!f) return QL_EIO;
    fputs(talent_header, f);
    fputs("\r\n", f);
    int64_t n = demo_people(d);
    for (int64_t i = 0; i < n; i++) {
        struct demo_talent t;
        demo_talent(d, i, &t);
        const char *cells[] = {t.name,       t.id_number,       t.phone,         t.education,
                               t.graduation_date, t.category,   t.level,         t.employer,
                               t.employed_since,  t.insurance_months, t.owns_housing,
                               t.bank_account,    ""}; /* a home from the day it is imported */
        put_row(f, cells, 13);
        if (progress && (i + 1) % PROGRESS_EVERY == 0 && i + 1 < n) progress("talents", i + 1, n, ctx);
    }
    rc = close_out(f, path, err);
    if (!rc && progress) progress("talents", n, n, ctx);
    return rc;
}

/* ---- the store --------------------------------------------------------- */

#define EMPLOYER_BATCH 5000

struct load {
    store *s;
    const demo *d;
    int64_t from, to; /* records of this transaction */
    int check_empty;
    int64_t moved;    /* in this transaction */
    ql_err *err;
};

#define HOUSING_BATCH 2000 /* units (with their leases) per transaction */

/* A record the registry refuses means the generator is wrong. */
static int refused(ql_err *err, const char *what, int64_t i, const reg_report *r, int rc)
{
    const ql_err *e = r->errors.n ? &r->errors.e[0] : NULL;
    return ql_errf(err, QL_EINTERNAL, e ? e->field : "", "demo %s %lld was refused (code %d): %s",
                   "演示%s第 %lld 条被拒绝（代码 %d）：%s", what, (long long)i, rc,
                   e ? e->en : "no detail");
}

static int registry_empty(store *s, ql_err *err)
{
    static const char *const tables[][3] = {
        {"SELECT id FROM employers LIMIT 1", "employers", "用人单位"},
        {"SELECT id FROM talents LIMIT 1", "talents", "人才"},
        {"SELECT id FROM operators LIMIT 1", "housing operators", "住房租赁企业"},
        {"SELECT id FROM housing_units LIMIT 1", "housing units", "房源"},
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        int64_t id;
        int rc = store_query_int(s, tables[i][0], NULL, 0, &id);
        if (rc == 0)
            return ql_errf(err, QL_ECONFLICT, "store",
                           "the registry already holds %s%.0s; demo data goes into an empty registry",
                           "登记库中已有%.0s%s数据；演示数据只能载入空的登记库", tables[i][1],
                           tables[i][2]);
        if (rc != QL_ENOTFOUND) return rc;
    }
    return 0;
}

static int employers_body(registry_bulk *b, void *arg)
{
    struct load *x = arg;
    if (x->check_empty) {
        int rc = registry_empty(x->s, x->err);
        if (rc) return rc;
    }
    for (int64_t i = x->from; i < x->to; i++) {
        struct employer_input in;
        demo_employer_input(demo_employer(x->d, i), &in);
        reg_report r;
        int rc = registry_bulk_employer(b, &in, NULL, &r);
        if (rc == QL_EINVAL || rc == QL_ECONFLICT) return refused(x->err, "employer", i, &r, rc);
        if (rc) return rc;
    }
    return 0;
}

static int talents_body(registry_bulk *b, void *arg)
{
    struct load *x = arg;
    x->moved = 0;
    for (int64_t i = x->from; i < x->to; i++) {
        struct demo_talent t;
        demo_talent(x->d, i, &t);
        struct talent_input in;
        demo_talent_input(&t, &in);
        struct registry_employment prev = {t.previous_employer, t.previous_since};
        reg_report r;
        int rc = registry_bulk_talent(b, &in, t.previous_employer[0] ? &prev : NULL, NULL, &r);
        if (rc == QL_EINVAL || rc == QL_ECONFLICT) return refused(x->err, "talent", i, &r, rc);
        if (rc) return rc;
        if (t.previous_employer[0]) x->moved++;
    }
    return 0;
}

static int operators_body(registry_bulk *b, void *arg)
{
    struct load *x = arg;
    for (int64_t i = 0; i < demo_operator_count(x->d); i++) {
        struct operator_input in;
        demo_operator_input(demo_operator(x->d, i), &in);
        reg_report r;
        int rc = registry_bulk_operator(b, &in, NULL, &r);
        if (rc == QL_EINVAL || rc == QL_ECONFLICT) return refused(x->err, "operator", i, &r, rc);
        if (rc) return rc;
    }
    return 0;
}

/* Units from..to, each with its leases: an earlier lease is recorded and
 * then ended, so the next one finds the unit free. */
static int units_body(registry_bulk *b, void *arg)
{
    struct load *x = arg;
    for (int64_t i = x->from; i < x->to; i++) {
        struct demo_unit u;
        demo_unit(x->d, i, &u);
        struct unit_input in;
        demo_unit_input(x->d, &u, &in);
        reg_report r;
        int64_t unit_id = 0;
        int rc = registry_bulk_unit(b, &in, &unit_id, &r);
        if (rc == QL_EINVAL || rc == QL_ECONFLICT) return refused(x->err, "unit", i, &r, rc);
        if (rc) return rc;
        struct demo_lease leases[DEMO_UNIT_LEASES_MAX];
        int n = demo_unit_leases(x->d, i, leases);
        char uid[24];
        snprintf(uid, sizeof uid, "%lld", (long long)unit_id);
        for (int k = 0; k < n; k++) {
            struct lease_input li;
            demo_lease_input(&leases[k], uid, &li);
            int64_t lease_id = 0;
            rc = registry_bulk_lease(b, &li, &lease_id, &r);
            if (!rc && leases[k].ended_on[0])
                rc = registry_bulk_lease_end(b, lease_id, leases[k].ended_on,
                                             leases[k].end_reason, &r);
            if (rc == QL_EINVAL || rc == QL_ECONFLICT)
                return refused(x->err, "lease of unit", i, &r, rc);
            if (rc) return rc;
        }
    }
    return 0;
}

int demo_store(store *s, const actor *a, const demo *d, demo_progress_fn progress, void *ctx,
               struct demo_stored *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    ql_err_clear(err);
    registry_bulk *b;
    int rc = registry_bulk_open(s, a, "demo", &b, err);
    if (rc) return rc;
    struct load x = {.s = s, .d = d, .check_empty = 1, .err = err};
    int64_t ne = demo_employer_count(d), n = demo_people(d);
    for (x.from = 0; !rc && x.from < ne; x.from = x.to) {
        x.to = x.from + EMPLOYER_BATCH < ne ? x.from + EMPLOYER_BATCH : ne;
        rc = registry_bulk_tx(b, employers_body, &x, err);
        x.check_empty = 0;
        if (!rc) {
            out->batches++;
            if (progress) progress("employers", x.to, ne, ctx);
        }
    }
    for (x.from = 0; !rc && x.from < n; x.from = x.to) {
        x.to = x.from + demo_batch(d) < n ? x.from + demo_batch(d) : n;
        rc = registry_bulk_tx(b, talents_body, &x, err);
        if (!rc) {
            out->batches++;
            out->moved += x.moved;
            if (progress) progress("talents", x.to, n, ctx);
        }
    }
    /* Housing last: its tenants are registered talents. */
    if (!rc) {
        rc = registry_bulk_tx(b, operators_body, &x, err);
        if (!rc) {
            out->batches++;
            if (progress) progress("operators", demo_operator_count(d), demo_operator_count(d), ctx);
        }
    }
    int64_t nu = demo_unit_count(d);
    for (x.from = 0; !rc && x.from < nu; x.from = x.to) {
        x.to = x.from + HOUSING_BATCH < nu ? x.from + HOUSING_BATCH : nu;
        rc = registry_bulk_tx(b, units_body, &x, err);
        if (!rc) {
            out->batches++;
            if (progress) progress("units", x.to, nu, ctx);
        }
    }
    struct registry_bulk_counts c;
    registry_bulk_counts(b, &c);
    out->employers = c.employers;
    out->talents = c.talents;
    out->operators = c.operators;
    out->units = c.units;
    out->leases = c.leases;
    out->leases_ended = c.leases_ended;
    registry_bulk_close(b);
    if (rc && !err->en[0]) /* a store error, not described yet */
        ql_errf(err, rc, "store", "the store failed while loading the demo district: %s",
                "载入演示数据时数据库出错：%s", store_errmsg(s));
    return rc;
}
