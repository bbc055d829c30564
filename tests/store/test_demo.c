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
    assert_int_equal(st.batches, 1 + 3);
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
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = 'registry.bulk_load'"), 4);
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

#define CODE_A "91350100M000100Y43"
#define CODE_B "91310104MA1FL2A515"

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
    int64_t emps, tals;
    registry_bulk_counts(b, &emps, &tals);
    assert_int_equal(emps, 2);
    assert_int_equal(tals, 1);
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
        T(test_broad_name_prefix), T(test_bulk_refusals), T(test_command),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "demo (PostgreSQL)" : "demo (SQLite)", tests,
                                       NULL, NULL);
}
