/* test_demo.c - the demo district in a real store (SQLite, or PostgreSQL
 * with QL_TEST_PG): stored through the registry's bulk load exactly as
 * generated (sealed, with the employment history), audited per
 * transaction, refused into a registry that holds data; the CSV files
 * import with no problem; the bulk load's own refusals; and the demo
 * command as scripts see it. */
#include "testutil.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/pii.h"
#include "demo/demo.h"
#include "registry/bulk.h"
#include "registry/import.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CODE_A "91350100M000100Y43"
#define CODE_B "91310104MA1FL2A515"

static struct fx {
    store *s;
    char url[600];
    char keys[512];
    actor cli;
} F;
static int nfx;

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 1;
    return 0;
}

static int fx_setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    ql_err err = {0};
    snprintf(F.url, sizeof F.url, "%s", tu_fresh_store_url());
    if (store_open(F.url, NULL, &F.s, &err) || store_migrate(F.s, NULL, &err)) {
        print_error("store: %s\n", err.en);
        return -1;
    }
    snprintf(F.keys, sizeof F.keys, "%s/keys-%d", tu_tmpdir(), ++nfx);
    if (audit_init(F.keys, "blake2b", &err) || pii_init(F.keys, &err)) {
        print_error("keys: %s\n", err.en);
        return -1;
    }
    actor_cli(&F.cli);
    return 0;
}

static int fx_teardown(void **state)
{
    (void)state;
    store_close(F.s);
    return 0;
}

static int64_t count(const char *sql)
{
    int64_t n = -1;
    if (store_query_int(F.s, sql, NULL, 0, &n)) fail_msg("%s: %s", sql, store_errmsg(F.s));
    return n;
}

static demo *open_demo_sized(uint64_t seed, int64_t people, int64_t employers, int64_t batch)
{
    struct demo_params p = {.seed = seed, .people = people, .employers = employers, .batch = batch};
    demo *d;
    ql_err err = {0};
    if (demo_open(&p, &d, &err)) fail_msg("demo_open: %s", err.en);
    return d;
}

static demo *open_demo(uint64_t seed, int64_t people, int64_t batch)
{
    return open_demo_sized(seed, people, 0, batch);
}

static const char *education_code(const char *zh)
{
    return !strcmp(zh, "本科") ? "bachelor" : !strcmp(zh, "硕士") ? "master"
                                          : !strcmp(zh, "博士") ? "doctor"
                                                                 : "other";
}

struct compare {
    const demo *d;
    int64_t next;
    int64_t first_id;
};

static const char *str(const json_t *row, const char *key)
{
    const char *v = json_string_value(json_object_get(row, key));
    if (!v) fail_msg("row has no text '%s'", key);
    return v;
}

/* Each stored talent, read back unmasked in id order, is the generated one. */
static int compare_row(const json_t *row, void *arg)
{
    struct compare *c = arg;
    struct demo_talent t;
    demo_talent(c->d, c->next, &t);
    int64_t id = json_integer_value(json_object_get(row, "id"));
    if (c->next == 0) c->first_id = id;
    assert_int_equal(id, c->first_id + c->next);
    c->next++;
    assert_string_equal(str(row, "name"), t.name);
    assert_string_equal(str(row, "id_number"), t.id_number);
    assert_string_equal(str(row, "id_kind"), t.foreign ? "foreign_permanent" : "resident");
    assert_string_equal(str(row, "phone"), t.phone);
    assert_string_equal(str(row, "bank_account"), t.bank_account);
    assert_string_equal(str(row, "education"), education_code(t.education));
    assert_string_equal(str(row, "graduation_date"), t.graduation_date);
    assert_string_equal(str(row, "category"), t.category);
    assert_string_equal(str(row, "level"), t.level);
    assert_string_equal(str(row, "employed_since"), t.employed_since);
    assert_int_equal(json_integer_value(json_object_get(row, "insurance_months")),
                     strtoll(t.insurance_months, NULL, 10));
    assert_int_equal(json_is_true(json_object_get(row, "owns_housing")),
                     !strcmp(t.owns_housing, "是"));
    json_t *emp = json_object_get(row, "employer");
    if (t.employer[0]) assert_string_equal(str(emp, "credit_code"), t.employer);
    else assert_true(json_is_null(emp));
    return 0;
}

/* Every talent of d is in the store as generated (all of them, in order). */
static void expect_talents(const demo *d)
{
    struct talent_filter f = {.sort = "id", .unmask = 1};
    struct compare c = {d, 0, 0};
    ql_err err = {0};
    assert_int_equal(registry_talent_each(F.s, &F.cli, &f, compare_row, &c, &err), 0);
    assert_int_equal(c.next, demo_people(d));
}

/* The file (and its WAL) holds none of these plain values. */
static void expect_not_in_file(const char *path, const char *const *values, int n)
{
    char wal[700];
    snprintf(wal, sizeof wal, "%s-wal", path);
    const char *files[] = {path, wal};
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        char *data = tu_slurp(files[k], &len);
        if (!data) continue;
        for (int i = 0; i < n; i++)
            if (memmem(data, len, values[i], strlen(values[i])))
                fail_msg("%s holds '%s' in plain text", files[k], values[i]);
        free(data);
    }
}

static void test_store_as_generated(void **state)
{
    (void)state;
    demo *d = open_demo(3, 450, 200); /* three transactions of talents */
    struct demo_stored st;
    ql_err err = {0};
    assert_int_equal(demo_store(F.s, &F.cli, d, NULL, NULL, &st, &err), 0);
    assert_int_equal(st.employers, 10);
    assert_int_equal(st.talents, 450);
    assert_int_equal(st.batches, 1 + 3 + 2); /* employers, talents, operators, units */
    assert_int_equal(count("SELECT count(*) FROM employers"), 10);
    assert_int_equal(count("SELECT count(*) FROM talents"), 450);
    expect_talents(d);

    /* The employment history: an earlier employer closed the day before the
     * current one began, as registry_talent_update closes it. */
    int64_t moved = 0;
    int64_t first = count("SELECT min(id) FROM talents");
    for (int64_t i = 0; i < demo_people(d); i++) {
        struct demo_talent t;
        demo_talent(d, i, &t);
        json_t *got;
        assert_int_equal(registry_talent_get(F.s, &F.cli, first + i, &got, &err), 0);
        json_t *emps = json_object_get(got, "employments");
        if (!t.employer[0]) {
            assert_int_equal(json_array_size(emps), 0);
        } else if (!t.previous_employer[0]) {
            assert_int_equal(json_array_size(emps), 1);
            assert_string_equal(str(json_array_get(emps, 0), "end_date"), "");
        } else {
            moved++;
            assert_int_equal(json_array_size(emps), 2);
            json_t *a = json_array_get(emps, 0), *b = json_array_get(emps, 1);
            assert_string_equal(str(a, "credit_code"), t.previous_employer);
            assert_string_equal(str(a, "start_date"), t.previous_since);
            int32_t since, end;
            assert_int_equal(date_parse(t.employed_since, &since), 0);
            assert_int_equal(date_parse(str(a, "end_date"), &end), 0);
            assert_int_equal(end, since - 1);
            assert_string_equal(str(b, "credit_code"), t.employer);
            assert_string_equal(str(b, "start_date"), t.employed_since);
            assert_string_equal(str(b, "end_date"), "");
        }
        json_decref(got);
    }
    assert_true(moved > 0);
    assert_int_equal(st.moved, moved);
    assert_int_equal(count("SELECT count(*) FROM employments WHERE end_date IS NOT NULL"), moved);

    /* One audit row per transaction, and the chain holds. */
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'registry.bulk_load'"), 6);
    audit_report rep;
    assert_int_equal(audit_verify(F.s, &rep, &err), 0);
    assert_true(rep.ok);

    /* The demo HR account's employer sees its own staff. */
    actor hr = F.cli;
    hr.scope = SCOPE_EMPLOYER;
    snprintf(hr.scope_id, sizeof hr.scope_id, "%s", DEMO_ANCHOR_CREDIT_CODE);
    struct talent_filter f = {.page = 1, .per_page = 10};
    json_t *list;
    int64_t total = 0;
    assert_int_equal(registry_talent_list(F.s, &hr, &f, &list, &total, &err), 0);
    assert_true(total > 0 && total < 450);
    json_decref(list);

    if (!tu_pg_url()) { /* no ID, phone or card number in plain text on disk */
        const char *plain[6];
        struct demo_talent t[3];
        for (int i = 0; i < 3; i++) {
            demo_talent(d, i, &t[i]);
            plain[2 * i] = t[i].id_number;
            plain[2 * i + 1] = t[i].phone[0] ? t[i].phone : t[i].id_number;
        }
        expect_not_in_file(F.url, plain, 6);
    }
    demo_close(d);
}

static void test_refused_when_not_empty(void **state)
{
    (void)state;
    demo *d = open_demo(5, 30, 0);
    struct demo_stored st;
    ql_err err = {0};
    assert_int_equal(demo_store(F.s, &F.cli, d, NULL, NULL, &st, &err), 0);
    int64_t audit_rows = count("SELECT count(*) FROM audit_log");
    /* A second load, even of another seed, changes nothing. */
    demo *other = open_demo(6, 30, 0);
    assert_int_equal(demo_store(F.s, &F.cli, other, NULL, NULL, &st, &err), QL_ECONFLICT);
    assert_string_equal(err.field, "store");
    assert_non_null(strstr(err.en, "already holds employers"));
    assert_true(has_non_ascii(err.zh));
    assert_int_equal(st.employers + st.talents, 0);
    assert_int_equal(count("SELECT count(*) FROM talents"), 30);
    assert_int_equal(count("SELECT count(*) FROM employers"), 10);
    assert_int_equal(count("SELECT count(*) FROM audit_log"), audit_rows);
    demo_close(other);

    /* Talents without employers count as data too. */
    assert_int_equal(store_script(F.s, "DELETE FROM employments; UPDATE talents SET employer_id = "
                                       "NULL; DELETE FROM employers"),
                     0);
    assert_int_equal(demo_store(F.s, &F.cli, d, NULL, NULL, &st, &err), QL_ECONFLICT);
    assert_non_null(strstr(err.en, "already holds talents"));
    demo_close(d);
}

static void test_refused_without_permission(void **state)
{
    (void)state;
    demo *d = open_demo(5, 10, 0);
    struct demo_stored st;
    ql_err err = {0};
    actor reader = F.cli;
    reader.perms &= ~PERM_BIT(P_REGISTRY_WRITE);
    assert_int_equal(demo_store(F.s, &reader, d, NULL, NULL, &st, &err), QL_EFORBIDDEN);
    assert_non_null(strstr(err.en, "registry.write"));
    actor hr = F.cli;
    hr.scope = SCOPE_EMPLOYER;
    snprintf(hr.scope_id, sizeof hr.scope_id, "%s", DEMO_ANCHOR_CREDIT_CODE);
    assert_int_equal(demo_store(F.s, &hr, d, NULL, NULL, &st, &err), QL_EFORBIDDEN);
    assert_true(has_non_ascii(err.zh));
    assert_int_equal(count("SELECT count(*) FROM employers"), 0);
    demo_close(d);
}

/* The CSV files import with no problem and give the same talents (with
 * enough employers that the importer's employer cache grows). */
static void test_csv_imports_cleanly(void **state)
{
    (void)state;
    demo *d = open_demo_sized(11, 2500, 1500, 0);
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/csv-%d", tu_tmpdir(), nfx);
    assert_int_equal(mkdir(dir, 0755), 0);
    ql_err err = {0};
    assert_int_equal(demo_write_csv(d, dir, NULL, NULL, &err), 0);
    const enum import_kind kinds[] = {IMPORT_EMPLOYERS, IMPORT_TALENTS};
    const char *names[] = {"employers.csv", "talents.csv"};
    const int64_t rows[] = {demo_employer_count(d), demo_people(d)};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        struct import_report rep;
        int rc = registry_import(F.s, &F.cli, kinds[k], f, path, 1, &rep, &err);
        fclose(f);
        assert_int_equal(rc, 0);
        if (rep.problems) {
            char *text = json_dumps(rep.list, JSON_INDENT(1));
            fail_msg("%s: %lld problem(s): %.2000s", names[k], (long long)rep.problems, text);
        }
        assert_int_equal(rep.rows, rows[k]);
        assert_int_equal(rep.imported, rows[k]);
        assert_int_equal(rep.warnings, 0);
        assert_int_equal(rep.encoding, CSV_UTF8_BOM);
        import_report_free(&rep);
    }
    expect_talents(d);
    demo_close(d);
}

/* ---- housing --------------------------------------------------------------- */

struct lease_want {
    int64_t unit;   /* unit index */
    struct demo_lease l;
};

/* Every generated lease, in the order demo_store records them. */
static struct lease_want *all_leases(const demo *d, int64_t *n)
{
    struct lease_want *v = calloc((size_t)demo_lease_count(d) + 1, sizeof *v);
    *n = 0;
    for (int64_t i = 0; i < demo_unit_count(d); i++) {
        struct demo_lease l[DEMO_UNIT_LEASES_MAX];
        int k = demo_unit_leases(d, i, l);
        for (int j = 0; j < k; j++) v[(*n)++] = (struct lease_want){i, l[j]};
    }
    assert_int_equal(*n, demo_lease_count(d));
    return v;
}

static int64_t yuan_fen(const char *yuan)
{
    return strtoll(yuan, NULL, 10) * 100;
}

/* Operators, units and leases are in the store as generated, under the
 * housing service's rules, audited, and seen by each account as its scope
 * allows. */
static void test_housing_as_generated(void **state)
{
    (void)state;
    demo *d = open_demo(17, 800, 0);
    struct demo_stored st;
    ql_err err = {0};
    assert_int_equal(demo_store(F.s, &F.cli, d, NULL, NULL, &st, &err), 0);
    int64_t nl = 0;
    struct lease_want *want = all_leases(d, &nl);
    int64_t ended = 0;
    for (int64_t k = 0; k < nl; k++) ended += want[k].l.ended_on[0] != 0;
    assert_int_equal(st.operators, demo_operator_count(d));
    assert_int_equal(st.units, demo_unit_count(d));
    assert_int_equal(st.units, 50);
    assert_int_equal(st.leases, nl);
    assert_int_equal(st.leases_ended, ended);
    assert_true(nl > 20 && ended > 5);
    assert_int_equal(count("SELECT count(*) FROM operators"), demo_operator_count(d));
    assert_int_equal(count("SELECT count(*) FROM housing_units"), demo_unit_count(d));
    assert_int_equal(count("SELECT count(*) FROM leases"), nl);

    /* The rules hold in the store: no two leases of a unit overlap, at most
     * one is active, and a unit is leased exactly when one is. */
    assert_int_equal(count("SELECT count(*) FROM leases a JOIN leases b ON a.unit_id = b.unit_id "
                           "AND a.id < b.id AND a.start_date <= coalesce(b.ended_on, b.end_date) "
                           "AND b.start_date <= coalesce(a.ended_on, a.end_date)"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM (SELECT unit_id FROM leases WHERE status = "
                           "'active' GROUP BY unit_id HAVING count(*) > 1) x"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM housing_units u WHERE (u.status = 'leased') <> "
                           "EXISTS (SELECT 1 FROM leases l WHERE l.unit_id = u.id AND l.status = "
                           "'active')"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM housing_units WHERE status IN ('listed', "
                           "'leased') AND verification_code IS NULL"),
                     0);

    /* Each unit and lease as generated; each tenant the generated talent. */
    int64_t first_unit = count("SELECT min(id) FROM housing_units");
    int64_t first_talent = count("SELECT min(id) FROM talents");
    for (int64_t i = 0; i < demo_unit_count(d); i++) {
        struct demo_unit u;
        demo_unit(d, i, &u);
        json_t *got;
        assert_int_equal(registry_unit_get(F.s, &F.cli, first_unit + i, &got, &err), 0);
        assert_string_equal(str(got, "address"), u.address);
        assert_string_equal(str(got, "district"), u.district);
        assert_string_equal(str(got, "community"), u.community);
        assert_string_equal(str(got, "area"), u.area);
        assert_int_equal(json_integer_value(json_object_get(got, "rent_fen")), yuan_fen(u.rent));
        assert_string_equal(str(got, "verification_code"), u.verification_code);
        assert_string_equal(str(json_object_get(got, "operator"), "code"),
                            demo_operator(d, u.operator_index)->code);
        struct demo_lease l[DEMO_UNIT_LEASES_MAX];
        int n = demo_unit_leases(d, i, l);
        const char *status = str(got, "status");
        if (!strcmp(u.status, "草稿")) assert_string_equal(status, "draft");
        else if (!strcmp(u.status, "已下架")) assert_string_equal(status, "withdrawn");
        else if (n && !l[n - 1].ended_on[0]) assert_string_equal(status, "leased");
        else assert_string_equal(status, "listed");
        json_decref(got);
    }
    int64_t first_lease = count("SELECT min(id) FROM leases");
    for (int64_t k = 0; k < nl; k++) {
        const struct demo_lease *l = &want[k].l;
        json_t *got;
        assert_int_equal(registry_lease_get(F.s, &F.cli, first_lease + k, &got, &err), 0);
        json_t *talent = json_object_get(got, "talent");
        assert_int_equal(json_integer_value(json_object_get(talent, "id")), first_talent + l->tenant);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(got, "unit"), "id")),
                         first_unit + want[k].unit);
        assert_string_equal(str(got, "start_date"), l->start_date);
        assert_string_equal(str(got, "end_date"), l->end_date);
        assert_string_equal(str(got, "signed_date"), l->signed_date);
        assert_int_equal(json_integer_value(json_object_get(got, "rent_fen")), yuan_fen(l->rent));
        assert_int_equal(json_integer_value(json_object_get(got, "deposit_fen")),
                         yuan_fen(l->deposit));
        assert_string_equal(str(got, "filing_no"), l->filing_no);
        assert_string_equal(str(got, "filed_date"), l->filed_date);
        assert_string_equal(str(got, "ended_on"), l->ended_on);
        const char *status = str(got, "status");
        if (!l->ended_on[0]) assert_string_equal(status, "active");
        else if (!strcmp(l->ended_on, l->end_date)) assert_string_equal(status, "ended");
        else assert_string_equal(status, "terminated");
        if (l->end_reason) assert_string_equal(str(got, "end_reason"), l->end_reason);
        json_decref(got);
    }

    /* Audited by the housing service, and by the load per transaction. */
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'operator.create'"),
                     demo_operator_count(d));
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'unit.create'"),
                     demo_unit_count(d));
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'lease.create'"), nl);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'lease.end'"), ended);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'registry.bulk_load' "
                           "AND object_type = 'housing'"),
                     2);
    audit_report rep;
    assert_int_equal(audit_verify(F.s, &rep, &err), 0);
    assert_true(rep.ok);

    /* The demo HR account's scope: its own staff, their leases, nothing else. */
    actor hr = F.cli;
    hr.scope = SCOPE_EMPLOYER;
    snprintf(hr.scope_id, sizeof hr.scope_id, "%s", DEMO_ANCHOR_CREDIT_CODE);
    int64_t staff = 0, outsider = -1, staff_leases = 0;
    for (int64_t i = 0; i < demo_people(d); i++) {
        struct demo_talent t;
        demo_talent(d, i, &t);
        if (!strcmp(t.employer, DEMO_ANCHOR_CREDIT_CODE)) staff++;
        else if (outsider < 0) outsider = i;
    }
    for (int64_t k = 0; k < nl; k++) {
        struct demo_talent t;
        demo_talent(d, want[k].l.tenant, &t);
        staff_leases += !strcmp(t.employer, DEMO_ANCHOR_CREDIT_CODE);
    }
    assert_true(staff > 0 && staff < demo_people(d) && staff_leases > 0 && staff_leases < nl);
    struct talent_filter tf = {.page = 1, .per_page = 200};
    json_t *rows;
    int64_t total = 0;
    assert_int_equal(registry_talent_list(F.s, &hr, &tf, &rows, &total, &err), 0);
    assert_int_equal(total, staff);
    for (size_t k = 0; k < json_array_size(rows); k++)
        assert_string_equal(
            str(json_object_get(json_array_get(rows, k), "employer"), "credit_code"),
            DEMO_ANCHOR_CREDIT_CODE);
    json_decref(rows);
    json_t *got = NULL;
    assert_int_equal(registry_talent_get(F.s, &hr, first_talent + outsider, &got, &err),
                     QL_ENOTFOUND);
    struct lease_filter lf = {.page = 1, .per_page = 200};
    assert_int_equal(registry_lease_list(F.s, &hr, &lf, &rows, &total, &err), 0);
    assert_int_equal(total, staff_leases);
    json_decref(rows);
    /* An HR account changes no housing. */
    reg_report r;
    assert_int_equal(registry_lease_end(F.s, &hr, first_lease, "2025-12-31", "测试原因", &r, &err),
                     QL_EFORBIDDEN);

    /* The demo operator account's scope: its own units and their leases. */
    actor op = F.cli;
    op.scope = SCOPE_OPERATOR;
    snprintf(op.scope_id, sizeof op.scope_id, "%s", DEMO_ANCHOR_OPERATOR_CODE);
    int64_t own_units = 0, own_leases = 0, foreign_unit = -1;
    for (int64_t i = 0; i < demo_unit_count(d); i++) {
        struct demo_unit u;
        demo_unit(d, i, &u);
        if (u.operator_index == 0) own_units++;
        else if (foreign_unit < 0) foreign_unit = i;
    }
    for (int64_t k = 0; k < nl; k++) {
        struct demo_unit u;
        demo_unit(d, want[k].unit, &u);
        own_leases += u.operator_index == 0;
    }
    assert_true(own_units > 0 && foreign_unit >= 0);
    struct unit_filter uf = {.page = 1, .per_page = 200};
    assert_int_equal(registry_unit_list(F.s, &op, &uf, &rows, &total, &err), 0);
    assert_int_equal(total, own_units);
    json_decref(rows);
    assert_int_equal(registry_lease_list(F.s, &op, &lf, &rows, &total, &err), 0);
    assert_int_equal(total, own_leases);
    json_decref(rows);
    assert_int_equal(registry_unit_get(F.s, &op, first_unit + foreign_unit, &got, &err),
                     QL_ENOTFOUND);
    free(want);
    demo_close(d);
}

/* What a store holds of a demo district, in one text: every column that
 * the seed decides (not the sealed bytes, whose nonces are random, nor the
 * times of storing), ids relative to the first of each table. */
static char *store_dump(void)
{
    static const char *const queries[] = {
        "SELECT credit_code || '|' || name || '|' || industry || '|' || "
        "CAST(registered_in_district AS TEXT) || CAST(taxed_in_district AS TEXT) || "
        "CAST(key_enterprise AS TEXT) FROM employers ORDER BY id",
        "SELECT t.name || '|' || t.id_index || '|' || t.id_masked || '|' || "
        "coalesce(t.phone_index, '') || '|' || t.phone_masked || '|' || "
        "coalesce(t.bank_index, '') || '|' || t.bank_masked || '|' || t.education || '|' || "
        "coalesce(CAST(t.graduation_date AS TEXT), '') || '|' || t.category || '|' || t.level "
        "|| '|' || coalesce(e.credit_code, '') || '|' || "
        "coalesce(CAST(t.employed_since AS TEXT), '') || '|' || "
        "CAST(t.insurance_months AS TEXT) || '|' || CAST(t.owns_housing AS TEXT) "
        "FROM talents t LEFT JOIN employers e ON e.id = t.employer_id ORDER BY t.id",
        "SELECT CAST(m.talent_id - (SELECT min(id) FROM talents) AS TEXT) || '|' || "
        "e.credit_code || '|' || CAST(m.start_date AS TEXT) || '|' || "
        "coalesce(CAST(m.end_date AS TEXT), '') FROM employments m JOIN employers e ON e.id = "
        "m.employer_id ORDER BY m.talent_id, m.start_date",
        "SELECT code || '|' || name || '|' || credit_code || '|' || contact_name || '|' || "
        "contact_phone FROM operators ORDER BY id",
        "SELECT o.code || '|' || u.address || '|' || u.district || '|' || u.community || '|' || "
        "CAST(u.area_cm2 AS TEXT) || '|' || CAST(u.rooms AS TEXT) || '|' || "
        "CAST(u.rent_fen AS TEXT) || '|' || u.kind || '|' || coalesce(u.verification_code, '') "
        "|| '|' || u.status FROM housing_units u JOIN operators o ON o.id = u.operator_id "
        "ORDER BY u.id",
        "SELECT CAST(l.talent_id - (SELECT min(id) FROM talents) AS TEXT) || '|' || "
        "CAST(l.unit_id - (SELECT min(id) FROM housing_units) AS TEXT) || '|' || l.address || "
        "'|' || CAST(l.start_date AS TEXT) || '|' || CAST(l.end_date AS TEXT) || '|' || "
        "CAST(l.rent_fen AS TEXT) || '|' || CAST(l.deposit_fen AS TEXT) || '|' || "
        "CAST(l.signed_date AS TEXT) || '|' || coalesce(l.filing_no, '') || '|' || "
        "coalesce(CAST(l.filed_date AS TEXT), '') || '|' || l.status || '|' || "
        "coalesce(CAST(l.ended_on AS TEXT), '') || '|' || l.end_reason FROM leases l "
        "ORDER BY l.id",
    };
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        store_rows *r;
        if (store_query(F.s, queries[q], NULL, 0, &r)) fail_msg("%s", store_errmsg(F.s));
        int rc;
        while ((rc = store_step(r)) == 1) {
            size_t n = 0;
            const char *t = store_col_text(r, 0, &n);
            while (len + n + 2 > cap) {
                cap *= 2;
                char *bigger = realloc(out, cap);
                assert_non_null(bigger);
                out = bigger;
            }
            memcpy(out + len, t, n);
            len += n;
            out[len++] = '\n';
        }
        store_rows_close(r);
        assert_int_equal(rc, 0);
        out[len++] = '#';
    }
    out[len] = '\0';
    return out;
}

/* The same seed stores the same district: everything the seed decides is
 * equal, row for row, in a second fresh store; another seed differs. */
static void test_same_seed_same_store(void **state)
{
    (void)state;
    char *dumps[3];
    const uint64_t seeds[3] = {23, 23, 24};
    ql_err err = {0};
    for (int k = 0; k < 3; k++) {
        if (k) { /* a fresh store (the same keys) */
            store_close(F.s);
            snprintf(F.url, sizeof F.url, "%s", tu_fresh_store_url());
            assert_int_equal(store_open(F.url, NULL, &F.s, &err), 0);
            assert_int_equal(store_migrate(F.s, NULL, &err), 0);
        }
        demo *d = open_demo(seeds[k], 330, 0);
        struct demo_stored st;
        assert_int_equal(demo_store(F.s, &F.cli, d, NULL, NULL, &st, &err), 0);
        assert_true(st.leases > 0);
        dumps[k] = store_dump();
        demo_close(d);
    }
    assert_true(strlen(dumps[0]) > 10000);
    assert_string_equal(dumps[0], dumps[1]);
    assert_string_not_equal(dumps[0], dumps[2]);
    for (int k = 0; k < 3; k++) free(dumps[k]);
}

/* One housing call of the bulk load in its own transaction. */
enum housing_call { H_LEASE, H_END, H_OPERATOR, H_REFUSED_THEN_OPERATOR, H_OPERATOR_THEN_FAIL };
struct housing_one {
    enum housing_call what;
    const struct lease_input *lease;
    const struct operator_input *op;
    int64_t lease_id;
    const char *ended_on, *reason;
    reg_report report;
    int rc; /* the housing call's own result */
};

static int housing_body(registry_bulk *b, void *arg)
{
    struct housing_one *h = arg;
    switch (h->what) {
    case H_LEASE: return h->rc = registry_bulk_lease(b, h->lease, NULL, &h->report);
    case H_END:
        return h->rc = registry_bulk_lease_end(b, h->lease_id, h->ended_on, h->reason, &h->report);
    case H_OPERATOR: return h->rc = registry_bulk_operator(b, h->op, NULL, &h->report);
    case H_REFUSED_THEN_OPERATOR:
        /* A refused record, and the transaction goes on. */
        h->rc = registry_bulk_lease(b, h->lease, NULL, &h->report);
        if (h->rc != QL_EINVAL) return h->rc ? h->rc : QL_EINTERNAL;
        reg_report r2;
        return registry_bulk_operator(b, h->op, NULL, &r2);
    case H_OPERATOR_THEN_FAIL:
        h->rc = registry_bulk_operator(b, h->op, NULL, &h->report);
        return h->rc ? h->rc : QL_ECONFLICT; /* something later fails: all rolled back */
    }
    return QL_EINTERNAL;
}

static int housing_tx(registry_bulk *b, struct housing_one *h)
{
    ql_err err = {0};
    return registry_bulk_tx(b, housing_body, h, &err);
}

static void expect_housing_field(const struct housing_one *h, int code, const char *field)
{
    if (h->rc != code) fail_msg("returned %d, expected %d", h->rc, code);
    for (int i = 0; i < h->report.errors.n; i++)
        if (!strcmp(h->report.errors.e[i].field, field)) {
            assert_true(has_non_ascii(h->report.errors.e[i].zh));
            return;
        }
    fail_msg("no error names '%s' (first: '%s': %s)", field,
             h->report.errors.n ? h->report.errors.e[0].field : "",
             h->report.errors.n ? h->report.errors.e[0].en : "");
}

static int64_t operators_coded(const char *code)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM operators WHERE code = '%s'", code);
    return count(sql);
}

/* The bulk load's housing calls refuse what the housing service refuses and
 * write nothing for a refused record (the transaction can go on); an
 * audited transaction that rolls back leaves the audit anchor where it was,
 * so the chain and the anchor still agree afterwards. */
static void test_bulk_housing(void **state)
{
    (void)state;
    demo *d = open_demo(31, 160, 0);
    struct demo_stored st;
    ql_err err = {0};
    assert_int_equal(demo_store(F.s, &F.cli, d, NULL, NULL, &st, &err), 0);
    int64_t nl = 0;
    struct lease_want *want = all_leases(d, &nl);
    int64_t k = nl - 1; /* a current lease */
    while (k >= 0 && want[k].l.ended_on[0]) k--;
    assert_true(k >= 0);
    const struct demo_lease *cur = &want[k].l;
    int64_t cur_id = count("SELECT min(id) FROM leases") + k;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld",
             (long long)(count("SELECT min(id) FROM housing_units") + want[k].unit));
    const int64_t leases = count("SELECT count(*) FROM leases");

    registry_bulk *b;
    assert_int_equal(registry_bulk_open(F.s, &F.cli, "test", &b, &err), 0);
    /* Another tenant over the current lease's period: the periods overlap. */
    struct demo_talent other;
    demo_talent(d, cur->tenant == 0 ? 1 : 0, &other);
    struct lease_input in;
    demo_lease_input(cur, uid, &in);
    in.talent_id_number = other.id_number;
    in.filing_no = "";
    in.filed_date = "";
    struct housing_one h = {.what = H_LEASE, .lease = &in};
    assert_int_equal(housing_tx(b, &h), QL_ECONFLICT);
    assert_true(h.report.errors.n == 1);
    if (strcmp(h.report.errors.e[0].field, "start_date"))
        expect_housing_field(&h, QL_ECONFLICT, "end_date");
    /* A tenant who is not registered; a unit that does not exist. */
    struct lease_input stranger = in;
    stranger.talent_id_number = "11010519491231002X";
    h = (struct housing_one){.what = H_LEASE, .lease = &stranger};
    assert_int_equal(housing_tx(b, &h), QL_EINVAL);
    expect_housing_field(&h, QL_EINVAL, "talent_id_number");
    struct lease_input nowhere = in;
    nowhere.unit_id = "99999999";
    h = (struct housing_one){.what = H_LEASE, .lease = &nowhere};
    assert_int_equal(housing_tx(b, &h), QL_EINVAL);
    expect_housing_field(&h, QL_EINVAL, "unit_id");
    /* Ending a lease outside its period. */
    h = (struct housing_one){.what = H_END, .lease_id = cur_id, .ended_on = "1999-01-01",
                             .reason = "测试结束日期"};
    assert_int_equal(housing_tx(b, &h), QL_EINVAL);
    expect_housing_field(&h, QL_EINVAL, "ended_on");
    assert_int_equal(count("SELECT count(*) FROM leases"), leases);
    assert_int_equal(count("SELECT count(*) FROM leases WHERE status = 'active'"),
                     count("SELECT count(*) FROM housing_units WHERE status = 'leased'"));

    /* A refused record, then a good one in the same transaction: committed. */
    struct operator_input op = {"OP-900", "上海测试住房租赁有限公司", CODE_B, "", ""};
    h = (struct housing_one){.what = H_REFUSED_THEN_OPERATOR, .lease = &stranger, .op = &op};
    assert_int_equal(housing_tx(b, &h), 0);
    assert_int_equal(operators_coded("OP-900"), 1);
    assert_int_equal(count("SELECT count(*) FROM leases"), leases);
    /* The same operator again. */
    h = (struct housing_one){.what = H_OPERATOR, .op = &op};
    assert_int_equal(housing_tx(b, &h), QL_ECONFLICT);

    /* Rolled back after an audited housing record: the record is gone, and
     * later writes keep the chain and the anchor in agreement. */
    struct operator_input gone = {"OP-901", "上海回滚住房租赁有限公司", CODE_A, "", ""};
    h = (struct housing_one){.what = H_OPERATOR_THEN_FAIL, .op = &gone};
    assert_int_equal(housing_tx(b, &h), QL_ECONFLICT);
    assert_int_equal(h.rc, 0);
    assert_int_equal(operators_coded("OP-901"), 0);
    struct registry_bulk_counts done;
    registry_bulk_counts(b, &done);
    assert_int_equal(done.operators, 1); /* OP-900 only */
    assert_int_equal(done.leases, 0);
    registry_bulk_close(b);
    reg_report r;
    assert_int_equal(registry_operator_create(F.s, &F.cli, &gone, NULL, &r, &err), 0);
    struct operator_input third = {"OP-902", "上海第三住房租赁有限公司",
                                   demo_employer(d, 1)->credit_code, "", ""};
    assert_int_equal(registry_operator_create(F.s, &F.cli, &third, NULL, &r, &err), 0);
    assert_int_equal(count("SELECT count(*) FROM operators WHERE code IN ('OP-901', 'OP-902')"), 2);
    audit_report rep;
    assert_int_equal(audit_verify(F.s, &rep, &err), 0);
    if (!rep.ok) fail_msg("audit: row %lld: %s", (long long)rep.broken_seq, rep.reason_en);

    /* Housing needs housing.manage even in a load. */
    actor clerk = F.cli;
    clerk.perms &= ~PERM_BIT(P_HOUSING_MANAGE);
    assert_int_equal(registry_bulk_open(F.s, &clerk, "test", &b, &err), 0);
    h = (struct housing_one){.what = H_LEASE, .lease = &in};
    assert_int_equal(housing_tx(b, &h), QL_EFORBIDDEN);
    assert_int_equal(h.rc, QL_EFORBIDDEN);
    assert_true(h.report.errors.n == 1 && has_non_ascii(h.report.errors.e[0].zh));
    registry_bulk_close(b);
    assert_int_equal(count("SELECT count(*) FROM leases"), leases);
    free(want);
    demo_close(d);
}

/* ---- a name many people share ------------------------------------------- */

struct shared {
    const demo *d;
    int64_t from, to;
};

/* Stores talents from..to of the demo, every second one named 王 + the rest
 * of its name (so more than the count cap start with 王). */
static int shared_body(registry_bulk *b, void *arg)
{
    struct shared *x = arg;
    for (int64_t i = x->from; i < x->to; i++) {
        struct demo_talent t;
        demo_talent(x->d, i, &t);
        char name[80];
        snprintf(name, sizeof name, "%s%s", i % 2 ? "王" : "", t.name);
        struct talent_input in;
        demo_talent_input(&t, &in);
        in.name = name;
        reg_report r;
        int rc = registry_bulk_talent(b, &in, NULL, NULL, &r);
        if (rc) return rc;
    }
    return 0;
}

struct prefix_ids {
    int64_t ids[60];
    int n;
};

static int newest_named(const json_t *row, void *arg)
{
    struct prefix_ids *p = arg;
    if (strncmp(str(row, "name"), "王", strlen("王"))) return 0;
    memmove(p->ids + 1, p->ids, sizeof p->ids - sizeof p->ids[0]); /* newest first */
    p->ids[0] = json_integer_value(json_object_get(row, "id"));
    if (p->n < 60) p->n++;
    return 0;
}

/* A name prefix shared by more people than the count goes to is paged by
 * walking ids (no name index): the page is still the newest matches. */
static void test_broad_name_prefix(void **state)
{
    (void)state;
    enum { N = 2 * (REGISTRY_COUNT_CAP + 60) };
    demo *d = open_demo(21, N, 0);
    ql_err err = {0};
    registry_bulk *b;
    assert_int_equal(registry_bulk_open(F.s, &F.cli, "test", &b, &err), 0);
    for (int64_t i = 0; i < demo_employer_count(d); i++) {
        struct employer_input in;
        demo_employer_input(demo_employer(d, i), &in);
        reg_report r;
        assert_int_equal(registry_bulk_employer(b, &in, NULL, &r), 0);
    }
    struct shared x = {d, 0, N};
    assert_int_equal(registry_bulk_tx(b, shared_body, &x, &err), 0);
    registry_bulk_close(b);

    struct prefix_ids want = {{0}, 0};
    struct talent_filter all = {.sort = "id"};
    assert_int_equal(registry_talent_each(F.s, &F.cli, &all, newest_named, &want, &err), 0);
    assert_int_equal(want.n, 60);
    for (int page = 1; page <= 2; page++) {
        struct talent_filter f = {.q = "王", .page = page, .per_page = 30};
        json_t *rows;
        int64_t total = 0;
        assert_int_equal(registry_talent_list(F.s, &F.cli, &f, &rows, &total, &err), 0);
        assert_int_equal(total, REGISTRY_COUNT_CAP + 1); /* "more than 10,000" */
        assert_int_equal(json_array_size(rows), 30);
        for (size_t i = 0; i < 30; i++)
            assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, i), "id")),
                             want.ids[(size_t)(page - 1) * 30 + i]);
        json_decref(rows);
    }
    /* Sorted by name, the prefix keeps its index: the first is the least name. */
    struct talent_filter by_name = {.q = "王", .sort = "name", .page = 1, .per_page = 5};
    json_t *rows;
    int64_t total = 0;
    assert_int_equal(registry_talent_list(F.s, &F.cli, &by_name, &rows, &total, &err), 0);
    assert_int_equal(json_array_size(rows), 5);
    for (size_t i = 1; i < 5; i++)
        assert_true(strcmp(str(json_array_get(rows, i - 1), "name"),
                           str(json_array_get(rows, i), "name")) <= 0);
    json_decref(rows);
    /* A rare prefix stays on the index path and finds its few. */
    struct talent_filter rare = {.q = "王王", .page = 1, .per_page = 50};
    assert_int_equal(registry_talent_list(F.s, &F.cli, &rare, &rows, &total, &err), 0);
    assert_true(total < REGISTRY_COUNT_CAP);
    assert_int_equal((int64_t)json_array_size(rows), total < 50 ? total : 50);
    json_decref(rows);
    demo_close(d);
}

/* ---- the bulk load's refusals -------------------------------------------- */

struct one {
    const struct employer_input *emp;
    const struct talent_input *tal;
    const struct registry_employment *prev;
    reg_report report;
    int rc;
};

/* Stores one record in its own transaction; the transaction fails with
 * the record's error. */
static int one_body(registry_bulk *b, void *arg)
{
    struct one *o = arg;
    o->rc = o->emp ? registry_bulk_employer(b, o->emp, NULL, &o->report)
                   : registry_bulk_talent(b, o->tal, o->prev, NULL, &o->report);
    return o->rc;
}

static int one(registry_bulk *b, struct one *o)
{
    ql_err err = {0};
    return registry_bulk_tx(b, one_body, o, &err);
}

static void expect_field(const struct one *o, int code, const char *field)
{
    if (o->rc != code) fail_msg("returned %d, expected %d", o->rc, code);
    for (int i = 0; i < o->report.errors.n; i++)
        if (!strcmp(o->report.errors.e[i].field, field)) {
            assert_true(has_non_ascii(o->report.errors.e[i].zh));
            return;
        }
    fail_msg("no error names '%s' (first: '%s')", field,
             o->report.errors.n ? o->report.errors.e[0].field : "");
}


static void test_bulk_refusals(void **state)
{
    (void)state;
    ql_err err = {0};
    registry_bulk *b = NULL;
    /* Who may load. */
    actor reader = F.cli;
    reader.perms &= ~PERM_BIT(P_REGISTRY_WRITE);
    assert_int_equal(registry_bulk_open(F.s, &reader, "test", &b, &err), QL_EFORBIDDEN);
    assert_null(b);
    assert_int_equal(registry_bulk_open(F.s, &F.cli, "", &b, &err), QL_EINVAL);
    assert_string_equal(err.field, "source");
    assert_int_equal(registry_bulk_open(F.s, &F.cli,
                                        "a source name that is longer than forty characters", &b,
                                        &err),
                     QL_EINVAL);
    assert_int_equal(registry_bulk_open(F.s, &F.cli, "test", &b, &err), 0);

    /* Employers: bad fields, then a code registered twice. */
    struct employer_input bad = {"91350100M000100Y44", "", "robots", "maybe", "", ""};
    struct one o = {.emp = &bad};
    assert_int_equal(one(b, &o), QL_EINVAL);
    expect_field(&o, QL_EINVAL, "credit_code");
    expect_field(&o, QL_EINVAL, "name");
    expect_field(&o, QL_EINVAL, "industry");
    expect_field(&o, QL_EINVAL, "registered");
    struct employer_input a = {CODE_A, "甲公司", "人工智能", "是", "是", "否"};
    struct employer_input bb = {CODE_B, "乙公司", "其他", "是", "否", "否"};
    o = (struct one){.emp = &a};
    assert_int_equal(one(b, &o), 0);
    o = (struct one){.emp = &bb};
    assert_int_equal(one(b, &o), 0);
    o = (struct one){.emp = &a};
    assert_int_equal(one(b, &o), QL_ECONFLICT);
    expect_field(&o, QL_ECONFLICT, "credit_code");

    /* Talents: bad fields; an earlier employment that does not fit. */
    struct talent_input t = {.name = "张三",
                             .id_number = "11010519491231002X",
                             .education = "硕士",
                             .employer = CODE_A,
                             .employed_since = "2024-03-01"};
    struct talent_input bad_t = t;
    bad_t.id_number = "11010519491231002Y";
    bad_t.education = "小学";
    o = (struct one){.tal = &bad_t};
    assert_int_equal(one(b, &o), QL_EINVAL);
    expect_field(&o, QL_EINVAL, "id_number");
    expect_field(&o, QL_EINVAL, "education");

    struct registry_employment prev = {CODE_B, "2020-01-01"};
    struct talent_input no_current = t;
    no_current.employer = "";
    no_current.employed_since = "";
    o = (struct one){.tal = &no_current, .prev = &prev};
    assert_int_equal(one(b, &o), QL_EINVAL);
    expect_field(&o, QL_EINVAL, "previous_employer");

    struct registry_employment same = {CODE_A, "2020-01-01"};
    o = (struct one){.tal = &t, .prev = &same};
    assert_int_equal(one(b, &o), QL_EINVAL);
    expect_field(&o, QL_EINVAL, "previous_employer");

    struct registry_employment unknown = {"91310104217154297F", "2020-01-01"};
    o = (struct one){.tal = &t, .prev = &unknown};
    assert_int_equal(one(b, &o), QL_EINVAL);
    expect_field(&o, QL_EINVAL, "previous_employer");

    struct registry_employment malformed = {"91310104217154297G", "2020-02-30"};
    o = (struct one){.tal = &t, .prev = &malformed};
    assert_int_equal(one(b, &o), QL_EINVAL);
    expect_field(&o, QL_EINVAL, "previous_employer");
    expect_field(&o, QL_EINVAL, "previous_since");

    struct registry_employment later = {CODE_B, "2024-03-01"};
    o = (struct one){.tal = &t, .prev = &later};
    assert_int_equal(one(b, &o), QL_EINVAL);
    expect_field(&o, QL_EINVAL, "previous_since");

    /* Nothing of the refused records was stored, and no audit row says so. */
    assert_int_equal(count("SELECT count(*) FROM talents"), 0);
    assert_int_equal(count("SELECT count(*) FROM employments"), 0);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'registry.bulk_load'"), 2);

    /* The good record, then the same person again. */
    o = (struct one){.tal = &t, .prev = &prev};
    assert_int_equal(one(b, &o), 0);
    o = (struct one){.tal = &t};
    assert_int_equal(one(b, &o), QL_ECONFLICT);
    expect_field(&o, QL_ECONFLICT, "id_number");
    struct registry_bulk_counts done;
    registry_bulk_counts(b, &done);
    assert_int_equal(done.employers, 2);
    assert_int_equal(done.talents, 1);
    assert_int_equal(count("SELECT count(*) FROM employments WHERE end_date IS NOT NULL"), 1);
    registry_bulk_close(b);

    /* An employer's account cannot load. */
    actor hr = F.cli;
    hr.scope = SCOPE_EMPLOYER;
    snprintf(hr.scope_id, sizeof hr.scope_id, "%s", CODE_A);
    assert_int_equal(registry_bulk_open(F.s, &hr, "test", &b, &err), QL_EFORBIDDEN);
    assert_true(has_non_ascii(err.zh));
}

/* ---- the command --------------------------------------------------------- */

static char out[65536], errbuf[65536];

static int run(const char *const *args)
{
    return tu_run(args, NULL, out, sizeof out, errbuf, sizeof errbuf);
}

static void expect_usage(const char *const *args, const char *flag, const char *words)
{
    int rc = run(args);
    if (rc != 2) fail_msg("exit %d, expected 2: %s", rc, errbuf);
    assert_non_null(strstr(errbuf, flag));
    if (words) assert_non_null(strstr(errbuf, words));
    assert_true(has_non_ascii(errbuf));
}

static void test_command(void **state)
{
    (void)state;
    store_close(F.s); /* the command opens the store itself */
    F.s = NULL;
    assert_int_equal(run((const char *[]){"demo", "--help", NULL}), 0);
    assert_non_null(strstr(out, "--people N"));
    assert_non_null(strstr(out, DEMO_ANCHOR_CREDIT_CODE));

    expect_usage((const char *[]){"demo", "--people", "abc", NULL}, "--people", "whole number");
    expect_usage((const char *[]){"demo", "--people", "-1", NULL}, "--people", "0 to 10000000");
    expect_usage((const char *[]){"demo", "--people", "10000001", NULL}, "--people", NULL);
    expect_usage((const char *[]){"demo", "--people", "", NULL}, "--people", NULL);
    expect_usage((const char *[]){"demo", "--seed", "x1", NULL}, "--seed", NULL);
    expect_usage((const char *[]){"demo", "--seed", "18446744073709551616", NULL}, "--seed", NULL);
    expect_usage((const char *[]){"demo", "--employers", "0", NULL}, "--employers", "1 to 50000");
    expect_usage((const char *[]){"demo", "--employers", "50001", NULL}, "--employers", NULL);
    expect_usage((const char *[]){"demo", "--csv", "x", "--if-empty", NULL}, "--if-empty", NULL);
    expect_usage((const char *[]){"demo", "--csv", "", NULL}, "--csv", NULL);
    expect_usage((const char *[]){"demo", "--people", NULL}, "--people needs a value", NULL);
    expect_usage((const char *[]){"demo", "--bogus", NULL}, "unknown flag --bogus", NULL);
    expect_usage((const char *[]){"demo", "300", NULL}, "unexpected argument '300'", NULL);
    expect_usage((const char *[]){"demo", "--if-empty=yes", NULL}, "--if-empty takes no value",
                 NULL);

    /* Into the store, twice. */
    const char *base[] = {"demo", "--people", "40", "--seed", "18446744073709551615", "--store",
                          F.url, "--keys-dir", F.keys, "--log-level", "warn", NULL};
    int rc = run(base);
    if (rc) fail_msg("demo: exit %d: %s", rc, errbuf);
    assert_non_null(strstr(out, "stored 10 employers and 40 talents"));
    assert_int_equal(run(base), 1);
    assert_non_null(strstr(errbuf, "already holds"));
    assert_true(has_non_ascii(errbuf));
    const char *again[] = {"demo", "--people", "40", "--if-empty", "--store", F.url,
                           "--keys-dir", F.keys, "--log-level", "warn", NULL};
    assert_int_equal(run(again), 0);
    assert_non_null(strstr(out, "nothing was added"));

    /* As CSV, into a directory it creates, imported by the import command. */
    char dir[600], file[700], db[700], keys[700];
    snprintf(dir, sizeof dir, "%s/cli-csv", tu_tmpdir());
    snprintf(db, sizeof db, "%s/cli-import.db", tu_tmpdir());
    snprintf(keys, sizeof keys, "%s/cli-keys", tu_tmpdir());
    assert_int_equal(run((const char *[]){"demo", "--people", "120", "--csv", dir, NULL}), 0);
    assert_non_null(strstr(out, "talents.csv (120 rows)"));
    const char *kinds[] = {"employers", "talents"};
    for (int k = 0; k < 2; k++) {
        snprintf(file, sizeof file, "%s/%s.csv", dir, kinds[k]);
        rc = run((const char *[]){"import", kinds[k], file, "--commit", "--store", db, "--keys-dir",
                                  keys, "--log-level", "warn", NULL});
        if (rc) fail_msg("import %s: exit %d: %s %s", kinds[k], rc, out, errbuf);
        assert_non_null(strstr(out, "stored"));
    }
    /* A directory that cannot be made. */
    assert_int_equal(run((const char *[]){"demo", "--csv", "/nonexistent/a/b", NULL}), 1);
    assert_non_null(strstr(errbuf, "cannot create the directory /nonexistent/a/b"));
    assert_true(has_non_ascii(errbuf));
    /* A store that cannot be opened. */
    assert_int_equal(run((const char *[]){"demo", "--store", "/nonexistent/x.db", "--keys-dir", keys,
                                          NULL}),
                     1);
    assert_true(has_non_ascii(errbuf));
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_store_as_generated), T(test_refused_when_not_empty),
        T(test_refused_without_permission), T(test_csv_imports_cleanly),
        T(test_housing_as_generated), T(test_same_seed_same_store), T(test_bulk_housing),
        T(test_broad_name_prefix), T(test_bulk_refusals), T(test_command),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "demo (PostgreSQL)" : "demo (SQLite)", tests,
                                       NULL, NULL);
}
