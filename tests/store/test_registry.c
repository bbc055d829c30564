/* test_registry.c - the registry service (employers, talents, their
 * employment, CSV import and .xlsx/CSV export) on SQLite and (with
 * QL_TEST_PG) PostgreSQL: checks from the standards, every bad field at once,
 * sealed personal data, scope of every account kind, and the audit chain. */
#include "testutil.h"
#include "idgen.h"

#include "account/account.h"
#include "audit/audit.h"
#include "auth/perm.h"
#include "auth/session.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/csv.h"
#include "core/date.h"
#include "core/log.h"
#include "core/pii.h"
#include "core/validate.h"
#include "registry/export.h"
#include "registry/housing.h"
#include "registry/import.h"
#include "registry/payee.h"
#include "registry/registry.h"
#include "store/store.h"

#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RB(r) (1u << (r))
#define CODE1 "91350100M000100Y43" /* the standard's example */

static ql_config cfg;
static int nfix;

/* One store per test, with two employers and an account of each kind. */
static struct fx {
    store *s;
    char url[600];
    char keys[512];
    actor cli;
    actor admin;    /* district: registry.read and registry.write */
    actor reviewer; /* district: registry.read and personal.unmask */
    actor hr1;      /* employer E1's HR account */
    actor hr2;      /* employer E2's HR account */
    actor hr1u;     /* E1's HR account that may also unmask */
    char code2[20];
    int64_t e1, e2;
} F;

/* --- people ---------------------------------------------------------------- */

#define make_id       tu_make_id
#define gen_id        tu_gen_id
#define gen_credit    tu_gen_credit
#define gen_card      tu_gen_card
#define gen_phone     tu_gen_phone
#define luhn_complete tu_luhn_complete

/* A person's fields as a form would send them. The input points into the
 * struct: pass it by pointer only. */
struct person {
    char name[64], id[20], phone[12], card[20];
    struct talent_input in;
};

static void person(struct person *p, int i, const char *employer)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "人才%05d", i);
    gen_id(i, p->id);
    gen_phone(i, p->phone);
    gen_card(i, p->card);
    p->in = (struct talent_input){.name = p->name,
                                  .id_number = p->id,
                                  .phone = p->phone,
                                  .education = "master",
                                  .graduation_date = "2015-07-01",
                                  .category = "光启人才",
                                  .level = "B",
                                  .employer = employer,
                                  .employed_since = employer ? "2024-03-01" : NULL,
                                  .insurance_months = "18",
                                  .owns_housing = "no",
                                  .bank_account = p->card};
}

/* --- helpers ------------------------------------------------------------ */

static int has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 1;
    return 0;
}

/* rc must be code; err must name field (unless NULL) and carry both messages. */
static void expect_err(const char *what, int rc, const ql_err *err, int code, const char *field)
{
    if (rc != code)
        fail_msg("%s: returned %d, expected %d (field '%s': %s)", what, rc, code, err->field,
                 err->en);
    if (field && strcmp(err->field, field) != 0)
        fail_msg("%s: field '%s', expected '%s' (%s)", what, err->field, field, err->en);
    if (!err->en[0]) fail_msg("%s: no English message", what);
    if (!has_non_ascii(err->zh)) fail_msg("%s: no Chinese message ('%s')", what, err->zh);
}

/* The report lists an error for field, named in both languages. */
static void expect_field(const char *what, const ql_errs *errs, const char *field)
{
    for (int i = 0; i < errs->n; i++) {
        const ql_err *e = &errs->e[i];
        if (strcmp(e->field, field) != 0) continue;
        if (!strstr(e->en, field))
            fail_msg("%s: English message '%s' does not name %s", what, e->en, field);
        if (!strstr(e->zh, field) || !has_non_ascii(e->zh))
            fail_msg("%s: Chinese message '%s' does not name %s", what, e->zh, field);
        return;
    }
    char got[1024] = "";
    size_t used = 0;
    for (int i = 0; i < errs->n && used < sizeof got - 100; i++)
        used += (size_t)snprintf(got + used, sizeof got - used, "%s ", errs->e[i].field);
    fail_msg("%s: no error for %s (got: %s)", what, field, got);
}

/* count copies of unit into out (size n). */
static void repeat(char *out, size_t n, const char *unit, int count)
{
    size_t used = 0, ul = strlen(unit);
    for (int i = 0; i < count && used + ul < n; i++) {
        memcpy(out + used, unit, ul);
        used += ul;
    }
    out[used] = '\0';
}

static int64_t qint(const char *sql, const store_val *args, int nargs)
{
    int64_t v = -1;
    int rc = store_query_int(F.s, sql, args, nargs, &v);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(F.s));
    return v;
}

static int64_t count_of(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return qint(sql, NULL, 0);
}

static int64_t audit_count(const char *action)
{
    return qint("SELECT count(*) FROM audit_log WHERE action = $1", (store_val[]){SV_TEXT(action)},
                1);
}

/* The detail (JSON text) and object id of the last audit row, which must be action. */
static json_t *last_audit(const char *action, char object_id[32])
{
    store_rows *r;
    int rc = store_query(
        F.s, "SELECT action, object_id, detail FROM audit_log ORDER BY seq DESC LIMIT 1", NULL, 0,
        &r);
    if (rc) fail_msg("last audit row: %d %s", rc, store_errmsg(F.s));
    if (store_step(r) != 1) fail_msg("audit_log is empty");
    if (strcmp(store_col_text(r, 0, NULL), action) != 0)
        fail_msg("last audit action '%s', expected '%s'", store_col_text(r, 0, NULL), action);
    if (object_id) snprintf(object_id, 32, "%s", store_col_text(r, 1, NULL));
    json_t *d = json_loads(store_col_text(r, 2, NULL), 0, NULL);
    store_rows_close(r);
    if (!d) fail_msg("audit detail of %s is not JSON", action);
    return d;
}

/* Every registry row (and the audit log) as text, to see that a refused
 * change changed nothing. Sealed columns are left out: their indexes say
 * the same. */
static char *snapshot(void)
{
    static const char *const q[] = {
        "SELECT id, credit_code, name, industry, registered_in_district, taxed_in_district, "
        "key_enterprise, updated_at FROM employers ORDER BY id",
        "SELECT id, name, id_index, id_masked, phone_index, phone_masked, education, "
        "graduation_date, category, level, employer_id, employed_since, insurance_months, "
        "owns_housing, bank_index, bank_masked, updated_at FROM talents ORDER BY id",
        "SELECT id, talent_id, employer_id, start_date, end_date FROM employments ORDER BY id",
        "SELECT seq, action, object_id, hash FROM audit_log ORDER BY seq"};
    buf b;
    buf_init(&b, 0);
    for (size_t t = 0; t < sizeof q / sizeof q[0]; t++) {
        store_rows *r;
        int rc = store_query(F.s, q[t], NULL, 0, &r);
        if (rc) fail_msg("%s: %d %s", q[t], rc, store_errmsg(F.s));
        buf_printf(&b, "[%zu]\n", t);
        while ((rc = store_step(r)) == 1) {
            for (int c = 0; c < store_ncols(r); c++) {
                buf_puts(&b, store_col_isnull(r, c) ? "NULL" : store_col_text(r, c, NULL));
                buf_putc(&b, '|');
            }
            buf_putc(&b, '\n');
        }
        store_rows_close(r);
        if (rc < 0) fail_msg("%s: %d", q[t], rc);
    }
    return buf_steal(&b);
}

static void expect_unchanged(const char *what, const char *before)
{
    char *now = snapshot();
    int same = strcmp(now, before) == 0;
    free(now);
    if (!same) fail_msg("%s: the stored data changed", what);
}

/* Creates an account and returns it as the actor its sign-in would give. */
/* Duty roles the command line asks for (reviewer) wait for a second
 * person: the store's security administrator (made when first needed)
 * confirms them. */
static void confirm_pending(int64_t id)
{
    json_t *rows = NULL;
    ql_err err = {0};
    if (account_role_requests(F.s, &F.cli, id, &rows, &err)) fail_msg("requests: %s", err.en);
    size_t i;
    json_t *q;
    json_array_foreach(rows, i, q)
    {
        actor sec;
        memset(&sec, 0, sizeof sec);
        int64_t sid = 0;
        if (account_user_id(F.s, "sec.admin", &sid, &err)) {
            struct user_input in = {.username = "sec.admin",
                                    .display_name = "安全管理员",
                                    .roles = RB(ROLE_SECURITY_ADMIN),
                                    .scope = SCOPE_DISTRICT,
                                    .scope_id = ""};
            char temp[24];
            if (account_user_create(F.s, &F.cli, &in, &sid, temp, &err))
                fail_msg("security administrator: %s", err.en);
        }
        if (auth_load_user(F.s, sid, &sec, NULL)) fail_msg("load sec.admin");
        sec.via = VIA_SESSION;
        if (account_role_decide(F.s, &sec, json_integer_value(json_object_get(q, "id")), 1, &err))
            fail_msg("confirm: %s", err.en);
    }
    json_decref(rows);
}

static void make_actor(const char *username, unsigned roles, enum scope_kind scope,
                       const char *scope_id, actor *out)
{
    struct user_input in = {.username = username,
                            .display_name = username,
                            .roles = roles,
                            .scope = scope,
                            .scope_id = scope_id};
    int64_t id = 0;
    char temp[24];
    ql_err err = {0};
    int rc = account_user_create(F.s, &F.cli, &in, &id, temp, &err);
    if (rc) fail_msg("create %s: %d %s: %s", username, rc, err.field, err.en);
    confirm_pending(id);
    memset(out, 0, sizeof *out);
    int disabled = 0;
    rc = auth_load_user(F.s, id, out, &disabled);
    if (rc) fail_msg("load %s: %d", username, rc);
    out->via = VIA_SESSION;
    snprintf(out->ip, sizeof out->ip, "203.0.113.7");
}

static int64_t create_employer(const actor *a, const char *code, const char *name,
                               const char *industry)
{
    struct employer_input in = {code, name, industry, "yes", "yes", "no"};
    reg_report rep = {0};
    ql_err err = {0};
    int64_t id = 0;
    int rc = registry_employer_create(F.s, a, &in, &id, &rep, &err);
    if (rc) fail_msg("employer %s: %d %s: %s", code, rc, err.field, err.en);
    assert_true(id > 0);
    return id;
}

static int64_t create_talent(const actor *a, const struct talent_input *in)
{
    reg_report rep = {0};
    ql_err err = {0};
    int64_t id = 0;
    int rc = registry_talent_create(F.s, a, in, &id, &rep, &err);
    if (rc) fail_msg("talent %s: %d %s: %s", in->name, rc, err.field, err.en);
    assert_true(id > 0);
    assert_int_equal(rep.errors.n, 0);
    return id;
}

static int64_t create_person(int i, const char *employer)
{
    struct person p;
    person(&p, i, employer);
    return create_talent(&F.admin, &p.in);
}

static json_t *get_talent(const actor *a, int64_t id)
{
    json_t *t = NULL;
    ql_err err = {0};
    int rc = registry_talent_get(F.s, a, id, &t, &err);
    if (rc) fail_msg("get talent %" PRId64 ": %d %s", id, rc, err.en);
    return t;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v) fail_msg("no text member '%s'", key);
    return v;
}

/* Lists talents as a; returns the rows (and *total). Fails on error. */
static json_t *list_talents(const actor *a, struct talent_filter f, int64_t *total)
{
    if (!f.page) f.page = 1;
    if (!f.per_page) f.per_page = 200;
    json_t *rows = NULL;
    int64_t t = -1;
    ql_err err = {0};
    int rc = registry_talent_list(F.s, a, &f, &rows, &t, &err);
    if (rc) fail_msg("list: %d %s: %s", rc, err.field, err.en);
    if (total) *total = t;
    return rows;
}

/* Ids of rows, in order, as "1,2,3". */
static void ids_of(const json_t *rows, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        used += (size_t)snprintf(out + used, n - used, "%s%" PRId64, i ? "," : "",
                                 (int64_t)json_integer_value(json_object_get(row, "id")));
        if (used >= n) break;
    }
}

static void expect_ids(const char *what, const json_t *rows, const char *want)
{
    char got[4096];
    ids_of(rows, got, sizeof got);
    if (strcmp(got, want) != 0) fail_msg("%s: ids %s, expected %s", what, got, want);
}

static char *id_list(int64_t a, int64_t b, int64_t c)
{
    static char out[128];
    if (c)
        snprintf(out, sizeof out, "%" PRId64 ",%" PRId64 ",%" PRId64, a, b, c);
    else if (b)
        snprintf(out, sizeof out, "%" PRId64 ",%" PRId64, a, b);
    else if (a)
        snprintf(out, sizeof out, "%" PRId64, a);
    else
        out[0] = '\0';
    return out;
}

static const char *tmp_file(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%d-%s", tu_tmpdir(), nfix, name);
    return p;
}

static void write_bytes(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s: %s", path, strerror(errno));
    if (n && fwrite(data, 1, n, f) != n) fail_msg("short write to %s", path);
    fclose(f);
}

/* Imports the file at path as a. Fails the test when registry_import fails. */
static void import_file(const actor *a, enum import_kind kind, const char *path, int commit,
                        struct import_report *rep)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    ql_err err = {0};
    int rc = registry_import(F.s, a, kind, f, path, commit, rep, &err);
    fclose(f);
    if (rc) fail_msg("import %s: %d %s: %s", path, rc, err.field, err.en);
}

/* Imports and expects the whole file refused with code, err naming field. */
static void import_refused(const actor *a, enum import_kind kind, const char *path, int code,
                           const char *field, const char *word)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    ql_err err = {0};
    struct import_report rep;
    int rc = registry_import(F.s, a, kind, f, path, 1, &rep, &err);
    fclose(f);
    import_report_free(&rep);
    expect_err(path, rc, &err, code, field);
    if (word && !strstr(err.en, word) && !strstr(err.zh, word))
        fail_msg("%s: the error '%s' does not mention '%s'", path, err.en, word);
}

/* The problem at index k of a report. */
static void expect_problem(const struct import_report *rep, size_t k, int64_t row,
                           const char *column, const char *field, const char *word)
{
    json_t *p = json_array_get(rep->list, k);
    if (!p) fail_msg("problem %zu missing (%zu listed)", k, json_array_size(rep->list));
    int64_t got_row = json_integer_value(json_object_get(p, "row"));
    if (got_row != row)
        fail_msg("problem %zu: row %" PRId64 ", expected %" PRId64 " (%s)", k, got_row, row,
                 jstr(p, "message_en"));
    if (strcmp(jstr(p, "column"), column) != 0)
        fail_msg("problem %zu: column '%s', expected '%s'", k, jstr(p, "column"), column);
    if (strcmp(jstr(p, "field"), field) != 0)
        fail_msg("problem %zu: field '%s', expected '%s'", k, jstr(p, "field"), field);
    if (!has_non_ascii(jstr(p, "message_zh")) || !jstr(p, "message_en")[0])
        fail_msg("problem %zu: not in both languages", k);
    if (word && !strstr(jstr(p, "message_en"), word))
        fail_msg("problem %zu: '%s' does not say '%s'", k, jstr(p, "message_en"), word);
}

/* Collects the ids registry_talent_each / registry_employer_each hand over. */
struct collected {
    int n;
    int64_t id[64];
    int unmasked; /* rows that carried id_number */
};

static int collect(const json_t *row, void *ctx)
{
    struct collected *c = ctx;
    if (c->n < 64) c->id[c->n] = json_integer_value(json_object_get(row, "id"));
    c->n++;
    if (json_object_get(row, "id_number")) c->unmasked++;
    return 0;
}

/* --- CSV files of talents ------------------------------------------------ */

#define TALENT_HEADER                                                                                                                      \
    "姓名,身份证号码,手机号码,学历,毕业日期,人才类别,人才层次,用人单位统一社会信用代码,入职日期," \
    "本区社保缴纳月数,本人配偶或未成年子女在沪有住房,银行卡号\r\n"

/* One CSV row of person i (employer code, or "" for none). */
static void csv_row(buf *b, int i, const char *employer)
{
    struct person p;
    person(&p, i, NULL);
    buf_printf(b, "%s,%s,%s,硕士,2015-07-01,光启人才,%c,%s,%s,%d,否,%s\r\n", p.name, p.id, p.phone,
               "ABC"[i % 3], employer, employer[0] ? "2024-03-01" : "", i % 60, p.card);
}

/* A file of n people from first, all employed by employer; the person at
 * index bad (if >= 0) has an ID number with a wrong check character. */
static char *talents_csv(int first, int n, const char *employer, int bad, size_t *len)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, TALENT_HEADER);
    for (int i = 0; i < n; i++) {
        if (i != bad) {
            csv_row(&b, first + i, employer);
            continue;
        }
        struct person p;
        person(&p, first + i, NULL);
        p.id[17] = p.id[17] == '1' ? '2' : '1';
        buf_printf(&b, "%s,%s,%s,硕士,2015-07-01,,,%s,2024-03-01,6,否,\r\n", p.name, p.id, p.phone,
                   employer);
    }
    if (len) *len = b.len;
    return buf_steal(&b);
}

/* --- fixture ------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    ql_err err = {0};
    log_set_level(LOG_WARN); /* the audit anchor's info lines would drown the results */
    config_defaults(&cfg);
    if (config_set(&cfg, "security", "password_hash", "min", "test", &err)) {
        print_error("config_set: %s\n", err.en);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    config_free(&cfg);
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
    snprintf(F.keys, sizeof F.keys, "%s/keys-%d", tu_tmpdir(), ++nfix);
    if (audit_init(F.keys, "blake2b", &err) || pii_init(F.keys, &err)) {
        print_error("keys: %s\n", err.en);
        return -1;
    }
    account_init(&cfg);
    actor_cli(&F.cli);
    make_actor("admin", RB(ROLE_ADMIN), SCOPE_DISTRICT, "", &F.admin);
    make_actor("reviewer", RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", &F.reviewer);
    gen_credit(2, F.code2);
    F.e1 = create_employer(&F.admin, CODE1, "某人工智能科技有限公司", "ai");
    F.e2 = create_employer(&F.admin, F.code2, "某生命健康有限公司", "life_health");
    make_actor("hr.one", RB(ROLE_EMPLOYER_HR), SCOPE_EMPLOYER, CODE1, &F.hr1);
    make_actor("hr.two", RB(ROLE_EMPLOYER_HR), SCOPE_EMPLOYER, F.code2, &F.hr2);
    make_actor("hr.one.unmask", RB(ROLE_EMPLOYER_HR) | RB(ROLE_REVIEWER), SCOPE_EMPLOYER, CODE1,
               &F.hr1u);
    return 0;
}

/* Every test leaves an audit chain that verifies. */
static int fx_teardown(void **state)
{
    (void)state;
    audit_report rep;
    ql_err err = {0};
    int rc = audit_verify(F.s, &rep, &err);
    int64_t rows = count_of("audit_log");
    store_close(F.s);
    F.s = NULL;
    if (rc) {
        print_error("audit_verify: %d %s\n", rc, err.en);
        return -1;
    }
    if (!rep.ok || rep.rows != rows) {
        print_error("audit chain broken at %" PRId64 " (%" PRId64 " of %" PRId64 " rows): %s\n",
                    rep.broken_seq, rep.rows, rows, rep.reason_en);
        return -1;
    }
    return 0;
}

/* --- 0. the generators agree with the validators ------------------------- */

static void test_generators_valid(void **state)
{
    (void)state;
    ql_err err;
    int32_t today = date_today();
    for (int i = 0; i < 2000; i += 7) {
        char id[19], code[19], card[20], phone[12];
        gen_id(i, id);
        gen_credit(i, code);
        gen_card(i, card);
        gen_phone(i, phone);
        if (validate_id_number("id", id, today, NULL, &err)) fail_msg("%s: %s", id, err.en);
        if (validate_credit_code("code", code, &err)) fail_msg("%s: %s", code, err.en);
        int luhn = 0;
        if (validate_bank_card("card", card, &luhn, &err) || !luhn)
            fail_msg("%s: %s", card, err.en);
        if (validate_mobile("phone", phone, &err)) fail_msg("%s: %s", phone, err.en);
    }
    /* And they reproduce the standards' examples. */
    char id[19];
    make_id("110105", date_from_ymd(1949, 12, 31), 2, id);
    assert_string_equal(id, "11010519491231002X");
    char card[20] = "622202000000000000"; /* 18 digits + check */
    luhn_complete(card);
    assert_int_equal(validate_bank_card("card", card, NULL, &err), 0);
}

/* --- 1. employers --------------------------------------------------------- */

static void test_employer_create_get_update(void **state)
{
    (void)state;
    json_t *e = NULL;
    ql_err err = {0};
    assert_int_equal(registry_employer_get(F.s, &F.admin, F.e1, &e, &err), 0);
    assert_string_equal(jstr(e, "credit_code"), CODE1);
    assert_string_equal(jstr(e, "name"), "某人工智能科技有限公司");
    assert_string_equal(jstr(e, "industry"), "ai");
    assert_true(json_is_true(json_object_get(e, "registered")));
    assert_true(json_is_true(json_object_get(e, "taxed")));
    assert_true(json_is_false(json_object_get(e, "key_enterprise")));
    assert_int_equal(json_integer_value(json_object_get(e, "staff")), 0);
    assert_true(strlen(jstr(e, "created_at")) >= 10);
    json_decref(e);
    char oid[32];
    json_t *d = last_audit("user.role_confirm", NULL); /* the fixture's last step */
    json_decref(d);

    /* Chinese names and the yes/no spellings people type. */
    create_person(1, CODE1);
    struct employer_input in = {
        "  91350100m000100y43 ", "某人工智能科技（上海）有限公司", "生命健康", "否", "1", "是"};
    reg_report rep = {0};
    assert_int_equal(registry_employer_update(F.s, &F.admin, F.e1, &in, &rep, &err), 0);
    assert_int_equal(registry_employer_get(F.s, &F.admin, F.e1, &e, &err), 0);
    assert_string_equal(jstr(e, "credit_code"), CODE1);
    assert_string_equal(jstr(e, "industry"), "life_health");
    assert_true(json_is_false(json_object_get(e, "registered")));
    assert_true(json_is_true(json_object_get(e, "taxed")));
    assert_true(json_is_true(json_object_get(e, "key_enterprise")));
    assert_int_equal(json_integer_value(json_object_get(e, "staff")), 1);
    json_decref(e);
    d = last_audit("employer.update", oid);
    assert_int_equal(strtoll(oid, NULL, 10), F.e1);
    char *changed = json_dumps(json_object_get(d, "changed"), JSON_COMPACT);
    assert_non_null(strstr(changed, "\"name\""));
    assert_non_null(strstr(changed, "\"industry\""));
    assert_null(strstr(changed, "credit_code"));
    free(changed);
    json_decref(d);

    /* History, newest first; only of registry records. */
    json_t *h = NULL;
    int rc = registry_history(F.s, &F.admin, "user", 1, &h, &err);
    expect_err("history of a user", rc, &err, QL_EINVAL, "object_type");
    assert_int_equal(registry_history(F.s, &F.admin, "employer", F.e1, &h, &err), 0);
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(jstr(json_array_get(h, 0), "action"), "employer.update");
    assert_string_equal(jstr(json_array_get(h, 0), "actor"), "admin");
    assert_string_equal(jstr(json_array_get(h, 1), "action"), "employer.create");
    json_decref(h);

    /* A credit code registered already: a conflict naming the field, nothing changed. */
    char *before = snapshot();
    struct employer_input dup = {CODE1, "另一家公司", "ai", "yes", "yes", "no"};
    int64_t id = 0;
    memset(&err, 0, sizeof err);
    rc = registry_employer_create(F.s, &F.admin, &dup, &id, &rep, &err);
    expect_err("duplicate credit code", rc, &err, QL_ECONFLICT, "credit_code");
    assert_int_equal(rep.errors.n, 1);
    expect_unchanged("duplicate credit code", before);
    /* Changing E2 to E1's code: the same. */
    rc = registry_employer_update(F.s, &F.admin, F.e2, &dup, &rep, &err);
    expect_err("update to a taken code", rc, &err, QL_ECONFLICT, "credit_code");
    expect_unchanged("update to a taken code", before);
    /* E2's HR account is bound to its code: a new code is refused, naming
     * the field, so the account cannot come to see another employer's staff
     * registered under the old code later. */
    char fresh[19];
    gen_credit(77, fresh);
    struct employer_input recode = {fresh, "某生命健康有限公司", "life_health", "yes", "yes", "no"};
    rc = registry_employer_update(F.s, &F.admin, F.e2, &recode, &rep, &err);
    expect_err("code of an employer with accounts", rc, &err, QL_ECONFLICT, "credit_code");
    assert_non_null(strstr(err.zh, "账号"));
    expect_unchanged("code of an employer with accounts", before);
    /* No such employer. */
    rc = registry_employer_update(F.s, &F.admin, 999999, &in, &rep, &err);
    expect_err("update of nothing", rc, &err, QL_ENOTFOUND, "id");
    rc = registry_employer_get(F.s, &F.admin, 999999, &e, &err);
    expect_err("get of nothing", rc, &err, QL_ENOTFOUND, "id");
    rc = registry_history(F.s, &F.admin, "employer", 999999, &h, &err);
    expect_err("history of nothing", rc, &err, QL_ENOTFOUND, "id");
    expect_unchanged("refused changes", before);
    free(before);

    /* An employer without accounts may correct its code. */
    char typo[19];
    gen_credit(78, typo);
    int64_t e3 = create_employer(&F.admin, typo, "某集成电路有限公司", "advanced_manufacturing");
    recode.name = "某集成电路有限公司";
    recode.industry = "advanced_manufacturing";
    assert_int_equal(registry_employer_update(F.s, &F.admin, e3, &recode, &rep, &err), 0);
    assert_int_equal(registry_employer_get(F.s, &F.admin, e3, &e, &err), 0);
    assert_string_equal(jstr(e, "credit_code"), fresh);
    json_decref(e);
}

static void test_employer_invalid(void **state)
{
    (void)state;
    char *before = snapshot();
    char bad_code[] = CODE1;
    bad_code[17] = '4'; /* wrong check character */
    struct employer_input in = {bad_code, "", "robotics", "maybe", "2", "否否"};
    reg_report rep = {0};
    ql_err err = {0};
    int64_t id = 0;
    int rc = registry_employer_create(F.s, &F.admin, &in, &id, &rep, &err);
    expect_err("bad employer", rc, &err, QL_EINVAL, "credit_code");
    assert_int_equal(rep.errors.n, 6);
    static const char *const fields[] = {"credit_code", "name",  "industry",
                                         "registered",  "taxed", "key_enterprise"};
    for (size_t i = 0; i < 6; i++) expect_field("bad employer", &rep.errors, fields[i]);
    /* Names over 200 characters, codes with letters the standard leaves out. */
    char long_name[700];
    repeat(long_name, sizeof long_name, "字", 201);
    struct employer_input in2 = {"91350100M000100I43", long_name, NULL, NULL, NULL, NULL};
    rc = registry_employer_create(F.s, &F.admin, &in2, &id, &rep, &err);
    expect_err("long name", rc, &err, QL_EINVAL, "credit_code");
    assert_int_equal(rep.errors.n, 2);
    expect_field("long name", &rep.errors, "name");
    /* Updates are checked the same way. */
    rc = registry_employer_update(F.s, &F.admin, F.e1, &in, &rep, &err);
    expect_err("bad update", rc, &err, QL_EINVAL, "credit_code");
    assert_int_equal(rep.errors.n, 6);
    expect_unchanged("bad employers", before);
    free(before);
    /* Empty optional fields: industry other, flags no. */
    char code[19];
    gen_credit(77, code);
    struct employer_input minimal = {code, "最小单位", NULL, NULL, NULL, NULL};
    assert_int_equal(registry_employer_create(F.s, &F.admin, &minimal, &id, &rep, &err), 0);
    json_t *e;
    assert_int_equal(registry_employer_get(F.s, &F.admin, id, &e, &err), 0);
    assert_string_equal(jstr(e, "industry"), "other");
    assert_true(json_is_false(json_object_get(e, "registered")));
    json_decref(e);
}

static void test_employer_list(void **state)
{
    (void)state;
    char code[19];
    gen_credit(3, code);
    int64_t e3 = create_employer(&F.admin, code, "100%_测试单位", "fintech");
    json_t *rows = NULL;
    int64_t total = 0;
    ql_err err = {0};
    struct employer_filter f = {.page = 1, .per_page = 50};
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    assert_int_equal(total, 3);
    /* By name: "100%_测试单位" < "某人工..." < "某生命..." */
    expect_ids("by name", rows, id_list(e3, F.e1, F.e2));
    json_decref(rows);
    f.sort = "-created";
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("newest first", rows, id_list(e3, F.e2, F.e1));
    json_decref(rows);
    f.sort = NULL;
    /* Name contains; LIKE's wildcards are taken literally. */
    f.q = "生命";
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("name contains", rows, id_list(F.e2, 0, 0));
    json_decref(rows);
    f.q = "%_";
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("wildcards literal", rows, id_list(e3, 0, 0));
    json_decref(rows);
    f.q = CODE1;
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("exact code", rows, id_list(F.e1, 0, 0));
    json_decref(rows);
    /* Letters match whatever their case, on either store. */
    gen_credit(6, code);
    int64_t e4 = create_employer(&F.admin, code, "ABC智能科技有限公司", "ai");
    f.q = "abc智能";
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("any case", rows, id_list(e4, 0, 0));
    json_decref(rows);
    f.q = "91350100m000100y43";
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("code in lower case", rows, id_list(F.e1, 0, 0));
    json_decref(rows);
    f.q = "Abc";
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("any case", rows, id_list(e4, 0, 0));
    json_decref(rows);
    f.sort = "size";
    int rc = registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err);
    expect_err("unknown sort", rc, &err, QL_EINVAL, "sort");
    f.sort = NULL;
    f.q = NULL;
    f.industry = "金融科技";
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("industry", rows, id_list(e3, 0, 0));
    assert_int_equal(total, 1);
    json_decref(rows);
    f.industry = "mining";
    rc = registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err);
    expect_err("unknown industry", rc, &err, QL_EINVAL, "industry");
    f.industry = NULL;
    /* Pages. */
    f.per_page = 2;
    f.page = 2;
    assert_int_equal(registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err), 0);
    expect_ids("page 2", rows, id_list(F.e1, F.e2, 0)); /* after 100%_... and ABC... */
    assert_int_equal(total, 4);
    json_decref(rows);
    f.page = 0;
    rc = registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err);
    expect_err("page 0", rc, &err, QL_EINVAL, "page");
    f.page = 1;
    f.per_page = 201;
    rc = registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err);
    expect_err("per_page 201", rc, &err, QL_EINVAL, "page");
    f.per_page = 200;
    f.page = REGISTRY_COUNT_CAP / 200 + 2;
    rc = registry_employer_list(F.s, &F.admin, &f, &rows, &total, &err);
    expect_err("past the cap", rc, &err, QL_EINVAL, "page");
}

/* --- 2. talents ------------------------------------------------------------ */

static void test_talent_create_get(void **state)
{
    (void)state;
    struct person p;
    person(&p, 42, CODE1);
    int64_t id = create_talent(&F.admin, &p.in);
    json_t *t = get_talent(&F.admin, id);
    assert_string_equal(jstr(t, "name"), p.name);
    char want[40];
    snprintf(want, sizeof want, "310104********%.4s", p.id + 14);
    assert_string_equal(jstr(t, "id_masked"), want);
    snprintf(want, sizeof want, "139****%.4s", p.phone + 7);
    assert_string_equal(jstr(t, "phone_masked"), want);
    snprintf(want, sizeof want, "622200******%.4s", p.card + 12);
    assert_string_equal(jstr(t, "bank_masked"), want);
    assert_string_equal(jstr(t, "id_kind"), "resident");
    assert_int_equal(json_integer_value(json_object_get(t, "birth_year")), 1990);
    assert_null(json_object_get(t, "birth_date"));
    assert_string_equal(jstr(t, "sex"), "f"); /* sequence 142: even */
    assert_string_equal(jstr(t, "education"), "master");
    assert_string_equal(jstr(t, "graduation_date"), "2015-07-01");
    assert_string_equal(jstr(t, "category"), "光启人才");
    assert_string_equal(jstr(t, "level"), "B");
    assert_string_equal(jstr(t, "employed_since"), "2024-03-01");
    assert_int_equal(json_integer_value(json_object_get(t, "insurance_months")), 18);
    assert_true(json_is_false(json_object_get(t, "owns_housing")));
    json_t *emp = json_object_get(t, "employer");
    assert_int_equal(json_integer_value(json_object_get(emp, "id")), F.e1);
    assert_string_equal(jstr(emp, "credit_code"), CODE1);
    json_t *jobs = json_object_get(t, "employments");
    assert_int_equal(json_array_size(jobs), 1);
    assert_string_equal(jstr(json_array_get(jobs, 0), "start_date"), "2024-03-01");
    assert_string_equal(jstr(json_array_get(jobs, 0), "end_date"), "");
    /* Nothing unmasked in the record. */
    char *text = json_dumps(t, 0);
    assert_null(strstr(text, p.id));
    assert_null(strstr(text, p.phone));
    assert_null(strstr(text, p.card));
    free(text);
    json_decref(t);
    char oid[32];
    json_t *d = last_audit("talent.create", oid);
    assert_int_equal(strtoll(oid, NULL, 10), id);
    json_decref(d);

    /* The foreigner permanent-residence ID; Chinese words; typing slips
     * (spaces, a lower-case x, a full-width space) are forgiven. */
    char fid[19];
    make_id("931840", date_from_ymd(1988, 6, 15), 2, fid);
    struct talent_input fin = {.name = "　John Smith ",
                               .id_number = fid,
                               .education = "博士",
                               .level = "a",
                               .owns_housing = "是"};
    int64_t fid_id = create_talent(&F.admin, &fin);
    t = get_talent(&F.admin, fid_id);
    assert_string_equal(jstr(t, "name"), "John Smith");
    assert_string_equal(jstr(t, "id_kind"), "foreign_permanent");
    assert_int_equal(json_integer_value(json_object_get(t, "birth_year")), 1988);
    assert_string_equal(jstr(t, "sex"), "f");
    assert_string_equal(jstr(t, "education"), "doctor");
    assert_string_equal(jstr(t, "level"), "A");
    assert_string_equal(jstr(t, "phone_masked"), "");
    assert_string_equal(jstr(t, "bank_masked"), "");
    assert_true(json_is_null(json_object_get(t, "employer")));
    assert_true(json_is_true(json_object_get(t, "owns_housing")));
    assert_int_equal(json_array_size(json_object_get(t, "employments")), 0);
    json_decref(t);
    char lower[19];
    make_id("110105", date_from_ymd(1949, 12, 31), 2, lower);
    lower[17] = 'x';
    char spaced[40];
    snprintf(spaced, sizeof spaced, " %.6s %.8s %.4s ", lower, lower + 6, lower + 14);
    struct talent_input lin = {.name = "王五", .id_number = spaced, .education = "本科"};
    int64_t lid = create_talent(&F.admin, &lin);
    t = get_talent(&F.admin, lid);
    assert_string_equal(jstr(t, "id_masked"), "110105********002X");
    assert_string_equal(jstr(t, "sex"), "f");
    json_decref(t);
    /* Not found. */
    ql_err err = {0};
    int rc = registry_talent_get(F.s, &F.admin, 999999, &t, &err);
    expect_err("no such talent", rc, &err, QL_ENOTFOUND, "id");
}

static void test_talent_invalid_all_at_once(void **state)
{
    (void)state;
    char *before = snapshot();
    char bad_id[19];
    gen_id(5, bad_id);
    bad_id[17] = bad_id[17] == '1' ? '2' : '1';
    char long_cat[200];
    repeat(long_cat, sizeof long_cat, "类", 41);
    struct talent_input in = {.name = "",
                              .id_number = bad_id,
                              .phone = "12345678901",
                              .education = "大专",
                              .graduation_date = "2020-13-01",
                              .category = long_cat,
                              .level = "D",
                              .employer = "91350100M000100Y44",
                              .employed_since = "2024-02-30",
                              .insurance_months = "十八",
                              .owns_housing = "maybe",
                              .bank_account = "1234"};
    reg_report rep = {0};
    ql_err err = {0};
    int64_t id = 0;
    int rc = registry_talent_create(F.s, &F.admin, &in, &id, &rep, &err);
    expect_err("every field bad", rc, &err, QL_EINVAL, "name");
    static const char *const fields[] = {
        "name",         "id_number",   "phone",    "education",      "graduation_date",
        "category",     "level",       "employer", "employed_since", "insurance_months",
        "owns_housing", "bank_account"};
    assert_int_equal(rep.errors.n, 12);
    for (size_t i = 0; i < 12; i++) expect_field("every field bad", &rep.errors, fields[i]);
    assert_int_equal(id, 0);
    expect_unchanged("every field bad", before);

    /* One at a time, each the only error. */
    struct person p;
    person(&p, 6, CODE1);
    struct {
        const char *what, *field;
        struct talent_input in;
    } cases[20];
    int n = 0;
    char impossible[19], future[19], foreign_bad[19], code_free[19], id17[19];
    make_id("310104", date_from_ymd(1990, 1, 1), 123, impossible);
    memcpy(impossible + 6, "19490231", 8); /* February 31st */
    {
        static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
        int sum = 0;
        for (int i = 0; i < 17; i++) sum += (impossible[i] - '0') * w[i];
        impossible[17] = "10X98765432"[sum % 11];
    }
    make_id("310104", date_today() + 1, 123, future);
    make_id("931840", date_from_ymd(1988, 6, 15), 3, foreign_bad);
    foreign_bad[17] = foreign_bad[17] == '1' ? '2' : '1';
    gen_credit(999, code_free); /* valid, never registered */
    snprintf(id17, sizeof id17, "%.17s", p.id);
    char tomorrow[16];
    date_format(date_today() + 1, tomorrow, sizeof tomorrow);
#define CASE(w, f, ...)                                                                            \
    do {                                                                                           \
        cases[n].what = (w);                                                                       \
        cases[n].field = (f);                                                                      \
        cases[n].in = p.in;                                                                        \
        __VA_ARGS__;                                                                               \
        n++;                                                                                       \
    } while (0)
    CASE("impossible birth date", "id_number", cases[n].in.id_number = impossible);
    CASE("birth date in the future", "id_number", cases[n].in.id_number = future);
    CASE("foreigner ID with a bad check", "id_number", cases[n].in.id_number = foreign_bad);
    CASE("17 characters", "id_number", cases[n].in.id_number = id17);
    CASE("no ID number", "id_number", cases[n].in.id_number = "  ");
    CASE("landline", "phone", cases[n].in.phone = "021-64870000");
    CASE("employer not registered", "employer", cases[n].in.employer = code_free);
    CASE("employer without a date", "employed_since", cases[n].in.employed_since = "");
    CASE("date without an employer", "employer", cases[n].in.employer = NULL);
    CASE("graduation tomorrow", "graduation_date", cases[n].in.graduation_date = tomorrow);
    CASE("graduation as 2020/7/1", "graduation_date", cases[n].in.graduation_date = "2020/7/1");
    CASE("negative months", "insurance_months", cases[n].in.insurance_months = "-1");
    CASE("too many months", "insurance_months", cases[n].in.insurance_months = "1201");
    CASE("card not UnionPay", "bank_account", cases[n].in.bank_account = "4111111111111111");
    CASE("no education", "education", cases[n].in.education = "");
    /* Values longer than the service reads are refused, never cut to fit. */
    char id_tail[400], emoji_name[500];
    snprintf(id_tail, sizeof id_tail, "%s%300s1", p.id, "");
    repeat(emoji_name, sizeof emoji_name, "\xF0\x9F\x98\x80", 101); /* 101 four-byte characters */
    CASE("ID number with a tail past the cut", "id_number", cases[n].in.id_number = id_tail);
    CASE("name of 101 four-byte characters", "name", cases[n].in.name = emoji_name);
#undef CASE
    for (int i = 0; i < n; i++) {
        memset(&err, 0, sizeof err);
        rc = registry_talent_create(F.s, &F.admin, &cases[i].in, &id, &rep, &err);
        expect_err(cases[i].what, rc, &err, QL_EINVAL, cases[i].field);
        if (rep.errors.n != 1)
            fail_msg("%s: %d errors, expected 1 (second: %s)", cases[i].what, rep.errors.n,
                     rep.errors.n > 1 ? rep.errors.e[1].field : "");
        expect_field(cases[i].what, &rep.errors, cases[i].field);
    }
    expect_unchanged("bad talents", before);
    free(before);
    /* Updates check the same way, and change nothing. */
    int64_t tid = create_talent(&F.admin, &p.in);
    before = snapshot();
    rc = registry_talent_update(F.s, &F.admin, tid, &in, &rep, &err);
    /* the name, ID number and card are refused as changes (registry/payee.h),
     * the other fields as bad values: all twelve at once */
    expect_err("bad update", rc, &err, QL_EFORBIDDEN, "name");
    assert_int_equal(rep.errors.n, 12);
    expect_unchanged("bad update", before);
    free(before);
}

static void test_talent_luhn_warning(void **state)
{
    (void)state;
    struct person p;
    person(&p, 7, NULL);
    p.card[15] = p.card[15] == '9' ? '0' : (char)(p.card[15] + 1); /* Luhn now fails */
    reg_report rep = {0};
    ql_err err = {0};
    int64_t id = 0;
    assert_int_equal(registry_talent_create(F.s, &F.admin, &p.in, &id, &rep, &err), 0);
    assert_true(id > 0);
    assert_int_equal(rep.errors.n, 0);
    assert_int_equal(rep.warnings.n, 1);
    expect_field("Luhn warning", &rep.warnings, "bank_account");
    assert_non_null(strstr(rep.warnings.e[0].en, "Luhn"));
    /* Stored: the reviewer sees the number as typed. */
    char plain[64];
    assert_int_equal(registry_talent_unmask(F.s, &F.reviewer, id, "bank_account", "核对银行卡号",
                                            plain, sizeof plain, &err),
                     0);
    assert_string_equal(plain, p.card);
    /* A good card gives no warning. */
    person(&p, 8, NULL);
    assert_int_equal(registry_talent_create(F.s, &F.admin, &p.in, &id, &rep, &err), 0);
    assert_int_equal(rep.warnings.n, 0);
}

static void test_talent_duplicate(void **state)
{
    (void)state;
    char fid[19];
    make_id("110105", date_from_ymd(1949, 12, 31), 2, fid); /* ends in X */
    struct talent_input in = {.name = "甲", .id_number = fid, .education = "本科"};
    int64_t first = create_talent(&F.admin, &in);
    char *before = snapshot();
    struct talent_input again = {.name = "乙",
                                 .id_number = "11010519491231002x ",
                                 .education = "master",
                                 .employer = CODE1,
                                 .employed_since = "2025-01-01"};
    reg_report rep = {0};
    ql_err err = {0};
    int64_t id = 0;
    int rc = registry_talent_create(F.s, &F.admin, &again, &id, &rep, &err);
    expect_err("same ID number", rc, &err, QL_ECONFLICT, "id_number");
    assert_int_equal(rep.errors.n, 1);
    assert_string_equal(rep.errors.e[0].field, "id_number");
    assert_int_equal(id, 0);
    expect_unchanged("same ID number", before);
    /* Changing another person to that ID number: the same. */
    struct person p;
    person(&p, 9, NULL);
    int64_t second = create_talent(&F.admin, &p.in);
    free(before);
    before = snapshot();
    p.in.id_number = fid;
    rc = registry_talent_update(F.s, &F.admin, second, &p.in, &rep, &err);
    /* an ID number is not changed by an update at all (registry/payee.h) */
    expect_err("update to a taken ID", rc, &err, QL_EFORBIDDEN, "id_number");
    expect_unchanged("update to a taken ID", before);
    free(before);
    assert_true(first != second);
}

static void test_talent_employer_change(void **state)
{
    (void)state;
    struct person p;
    person(&p, 10, CODE1);
    int64_t id = create_talent(&F.admin, &p.in);
    /* To E2 from 2025-01-01: E1 ends the day before. */
    p.in.employer = F.code2;
    p.in.employed_since = "2025-01-01";
    reg_report rep = {0};
    ql_err err = {0};
    assert_int_equal(registry_talent_update(F.s, &F.admin, id, &p.in, &rep, &err), 0);
    json_t *t = get_talent(&F.admin, id);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "employer"), "id")),
                     F.e2);
    json_t *jobs = json_object_get(t, "employments");
    assert_int_equal(json_array_size(jobs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(jobs, 0), "employer_id")),
                     F.e1);
    assert_string_equal(jstr(json_array_get(jobs, 0), "start_date"), "2024-03-01");
    assert_string_equal(jstr(json_array_get(jobs, 0), "end_date"), "2024-12-31");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(jobs, 1), "employer_id")),
                     F.e2);
    assert_string_equal(jstr(json_array_get(jobs, 1), "start_date"), "2025-01-01");
    assert_string_equal(jstr(json_array_get(jobs, 1), "end_date"), "");
    json_decref(t);
    assert_int_equal(
        qint("SELECT count(*) FROM employments WHERE talent_id = $1 AND end_date IS NULL",
             (store_val[]){SV_INT(id)}, 1),
        1);
    char oid[32];
    json_t *d = last_audit("talent.update", oid);
    char *changed = json_dumps(json_object_get(d, "changed"), JSON_COMPACT);
    assert_non_null(strstr(changed, "employer"));
    assert_non_null(strstr(changed, "employed_since"));
    assert_null(strstr(changed, "\"name\""));
    free(changed);
    json_decref(d);
    /* The old employer's HR no longer sees the person; the new one does. */
    json_t *x = NULL;
    int rc = registry_talent_get(F.s, &F.hr1, id, &x, &err);
    expect_err("E1 after the move", rc, &err, QL_ENOTFOUND, "id");
    t = get_talent(&F.hr2, id);
    json_decref(t);
    /* The same employer with a corrected start date moves the open one. */
    p.in.employed_since = "2025-02-01";
    assert_int_equal(registry_talent_update(F.s, &F.admin, id, &p.in, &rep, &err), 0);
    t = get_talent(&F.admin, id);
    jobs = json_object_get(t, "employments");
    assert_int_equal(json_array_size(jobs), 2);
    assert_string_equal(jstr(json_array_get(jobs, 1), "start_date"), "2025-02-01");
    json_decref(t);
    /* Periods never overlap: a move dated on or before the current start,
     * refused at the field, nothing changed. */
    char *before = snapshot();
    p.in.employer = CODE1;
    p.in.employed_since = "2025-02-01";
    rc = registry_talent_update(F.s, &F.admin, id, &p.in, &rep, &err);
    expect_err("move dated at the current start", rc, &err, QL_ECONFLICT, "employed_since");
    assert_non_null(strstr(err.en, "2025-02-01"));
    p.in.employed_since = "2024-06-01";
    rc = registry_talent_update(F.s, &F.admin, id, &p.in, &rep, &err);
    expect_err("move dated before the current start", rc, &err, QL_ECONFLICT, "employed_since");
    expect_unchanged("overlapping moves", before);
    free(before);
    p.in.employer = F.code2;
    /* Leaving: no employer, the open employment ends. */
    p.in.employer = NULL;
    p.in.employed_since = NULL;
    assert_int_equal(registry_talent_update(F.s, &F.admin, id, &p.in, &rep, &err), 0);
    assert_int_equal(
        qint("SELECT count(*) FROM employments WHERE talent_id = $1 AND end_date IS NULL",
             (store_val[]){SV_INT(id)}, 1),
        0);
    t = get_talent(&F.admin, id);
    assert_true(json_is_null(json_object_get(t, "employer")));
    assert_string_equal(jstr(t, "employed_since"), "");
    json_decref(t);
    /* Coming back with a start inside the period that has ended (it ended
     * today): refused, naming the field. */
    p.in.employer = F.code2;
    p.in.employed_since = "2025-06-01";
    before = snapshot();
    rc = registry_talent_update(F.s, &F.admin, id, &p.in, &rep, &err);
    expect_err("back inside the ended period", rc, &err, QL_ECONFLICT, "employed_since");
    expect_unchanged("back inside the ended period", before);
    free(before);
    p.in.employer = NULL;
    p.in.employed_since = NULL;
    /* History: create and three updates, newest first. */
    json_t *h = NULL;
    assert_int_equal(registry_history(F.s, &F.admin, "talent", id, &h, &err), 0);
    assert_int_equal(json_array_size(h), 4);
    assert_string_equal(jstr(json_array_get(h, 0), "action"), "talent.update");
    assert_string_equal(jstr(json_array_get(h, 3), "action"), "talent.create");
    json_decref(h);
    /* An update of nobody. */
    rc = registry_talent_update(F.s, &F.admin, 999999, &p.in, &rep, &err);
    expect_err("update of nobody", rc, &err, QL_ENOTFOUND, "id");
}

static void test_talent_list_filters(void **state)
{
    (void)state;
    struct person p;
    int64_t id[8];
    const char *names[] = {"王小明", "王晓", "李四", "王小明", "张三", "Wang", "王", "赵六"};
    const char *edu[] = {"master", "doctor", "bachelor", "博士",
                         "other",  "master", "本科",     "master"};
    const char *lvl[] = {"A", "B", "", "A", "C", "", "A", "B"};
    for (int i = 0; i < 8; i++) {
        person(&p, 100 + i, i % 2 ? F.code2 : CODE1);
        p.in.name = names[i];
        p.in.education = edu[i];
        p.in.level = lvl[i];
        id[i] = create_talent(&F.admin, &p.in);
    }
    int64_t total;
    json_t *rows = list_talents(&F.admin, (struct talent_filter){0}, &total);
    assert_int_equal(total, 8);
    char want[256];
    snprintf(want, sizeof want,
             "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
             ",%" PRId64,
             id[7], id[6], id[5], id[4], id[3], id[2], id[1], id[0]);
    expect_ids("newest first", rows, want);
    /* Masked as they are stored. */
    const json_t *row = json_array_get(rows, 7);
    person(&p, 100, NULL);
    char masked[40];
    snprintf(masked, sizeof masked, "310104********%.4s", p.id + 14);
    assert_string_equal(jstr(row, "id_masked"), masked);
    json_decref(rows);

    /* q: the start of a name. */
    rows = list_talents(&F.admin, (struct talent_filter){.q = "王小", .sort = "id"}, &total);
    expect_ids("name prefix", rows, id_list(id[0], id[3], 0));
    assert_int_equal(total, 2);
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.q = "王", .sort = "id"}, &total);
    assert_int_equal(total, 4);
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.q = "小明"}, &total);
    assert_int_equal(total, 0); /* not a prefix */
    json_decref(rows);
    /* q: an exact ID number, mobile or card, through the blind index. */
    person(&p, 104, NULL);
    rows = list_talents(&F.admin, (struct talent_filter){.q = p.id}, &total);
    expect_ids("exact ID", rows, id_list(id[4], 0, 0));
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.q = p.phone}, &total);
    expect_ids("exact mobile", rows, id_list(id[4], 0, 0));
    json_decref(rows);
    char spaced[40];
    snprintf(spaced, sizeof spaced, "%.3s %.4s %.4s", p.phone, p.phone + 3, p.phone + 7);
    rows = list_talents(&F.admin, (struct talent_filter){.q = spaced}, &total);
    expect_ids("mobile with spaces", rows, id_list(id[4], 0, 0));
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.q = p.card}, &total);
    expect_ids("exact card", rows, id_list(id[4], 0, 0));
    json_decref(rows);
    snprintf(masked, sizeof masked, "310104********%.4s", p.id + 14);
    rows = list_talents(&F.admin, (struct talent_filter){.q = masked}, &total);
    assert_int_equal(total, 0); /* a masked number finds nobody */
    json_decref(rows);
    /* Filters. */
    rows =
        list_talents(&F.admin, (struct talent_filter){.employer_id = F.e2, .sort = "id"}, &total);
    snprintf(want, sizeof want, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64, id[1], id[3], id[5],
             id[7]);
    expect_ids("employer", rows, want);
    json_decref(rows);
    rows =
        list_talents(&F.admin, (struct talent_filter){.education = "doctor", .sort = "id"}, &total);
    expect_ids("doctor", rows, id_list(id[1], id[3], 0));
    json_decref(rows);
    rows =
        list_talents(&F.admin, (struct talent_filter){.education = "博士", .sort = "id"}, &total);
    expect_ids("博士", rows, id_list(id[1], id[3], 0));
    json_decref(rows);
    rows = list_talents(
        &F.admin, (struct talent_filter){.level = "A", .employer_id = F.e1, .sort = "id"}, &total);
    expect_ids("level A at E1", rows, id_list(id[0], id[6], 0));
    json_decref(rows);
    /* Sort by name (byte order), then id. */
    rows = list_talents(&F.admin, (struct talent_filter){.sort = "name"}, &total);
    const char *prev = "";
    int64_t prev_id = 0;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        const char *name = jstr(row, "name");
        int64_t rid = json_integer_value(json_object_get(row, "id"));
        int cmp = strcmp(prev, name);
        if (cmp > 0 || (cmp == 0 && rid < prev_id)) fail_msg("not sorted by name at %zu", i);
        prev = name;
        prev_id = rid;
    }
    assert_string_equal(jstr(json_array_get(rows, 0), "name"), "Wang");
    json_decref(rows);
    /* Pages of 3, oldest first; after_id reads on from a given id. */
    rows = list_talents(&F.admin, (struct talent_filter){.sort = "id", .page = 2, .per_page = 3},
                        &total);
    assert_int_equal(total, 8);
    expect_ids("page 2", rows, id_list(id[3], id[4], id[5]));
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.sort = "id", .page = 3, .per_page = 3},
                        &total);
    expect_ids("last page", rows, id_list(id[6], id[7], 0));
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.sort = "id", .after_id = id[5]}, &total);
    expect_ids("after", rows, id_list(id[6], id[7], 0));
    json_decref(rows);
    /* Bad filters name themselves. */
    struct {
        const char *what, *field;
        struct talent_filter f;
    } bad[] = {
        {"education", "education", {.education = "大专", .page = 1, .per_page = 10}},
        {"level", "level", {.level = "D", .page = 1, .per_page = 10}},
        {"sort", "sort", {.sort = "created", .page = 1, .per_page = 10}},
        {"page 0", "page", {.page = 0, .per_page = 10}},
        {"per_page 0", "page", {.page = 1, .per_page = 0}},
        {"per_page 201", "page", {.page = 1, .per_page = 201}},
        {"past the cap", "page", {.page = REGISTRY_COUNT_CAP / 100 + 2, .per_page = 100}},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ql_err err = {0};
        rows = NULL;
        int rc = registry_talent_list(F.s, &F.admin, &bad[k].f, &rows, &total, &err);
        expect_err(bad[k].what, rc, &err, QL_EINVAL, bad[k].field);
        assert_null(rows);
    }
    /* The last page the cap allows is still served. */
    rows = list_talents(
        &F.admin, (struct talent_filter){.page = REGISTRY_COUNT_CAP / 100 + 1, .per_page = 100},
        &total);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

/* An 18-digit card number looks like an ID number; it is found all the same. */
static void test_talent_list_18_digit_card(void **state)
{
    (void)state;
    struct person p;
    person(&p, 300, NULL);
    char card[20] = "62170012345678901"; /* 17 digits + check = 18 */
    luhn_complete(card);
    p.in.bank_account = card;
    int64_t id = create_talent(&F.admin, &p.in);
    create_person(301, NULL);
    int64_t total;
    json_t *rows = list_talents(&F.admin, (struct talent_filter){.q = card}, &total);
    expect_ids("18-digit card", rows, id_list(id, 0, 0));
    json_decref(rows);
    /* A Gansu ID number (62...) is still found as an ID number. */
    char gansu[19];
    make_id("620102", date_from_ymd(1995, 5, 5), 17, gansu);
    struct talent_input g = {.name = "甘肃人", .id_number = gansu, .education = "本科"};
    int64_t gid = create_talent(&F.admin, &g);
    rows = list_talents(&F.admin, (struct talent_filter){.q = gansu}, &total);
    expect_ids("Gansu ID", rows, id_list(gid, 0, 0));
    json_decref(rows);
}

static void test_talent_unmask(void **state)
{
    (void)state;
    struct person p;
    person(&p, 11, CODE1);
    int64_t id = create_talent(&F.admin, &p.in);
    char plain[64];
    ql_err err = {0};
    int64_t rows0 = audit_count("personal.unmask");
    assert_int_equal(registry_talent_unmask(F.s, &F.reviewer, id, "id_number", "  核对申请材料  ",
                                            plain, sizeof plain, &err),
                     0);
    assert_string_equal(plain, p.id);
    char oid[32];
    json_t *d = last_audit("personal.unmask", oid);
    assert_int_equal(strtoll(oid, NULL, 10), id);
    assert_string_equal(jstr(d, "field"), "id_number");
    assert_string_equal(jstr(d, "reason"), "核对申请材料");
    char *text = json_dumps(d, 0);
    assert_null(strstr(text, p.id)); /* who, whom, why: never the value */
    free(text);
    json_decref(d);
    assert_int_equal(registry_talent_unmask(F.s, &F.reviewer, id, "phone", "call back", plain,
                                            sizeof plain, &err),
                     0);
    assert_string_equal(plain, p.phone);
    assert_int_equal(registry_talent_unmask(F.s, &F.reviewer, id, "bank_account", "payment check",
                                            plain, sizeof plain, &err),
                     0);
    assert_string_equal(plain, p.card);
    /* A reason that quotes the number: the audit row keeps it starred. */
    char reason[96];
    snprintf(reason, sizeof reason, "核对 %s 的材料", p.id);
    assert_int_equal(registry_talent_unmask(F.s, &F.reviewer, id, "id_number", reason, plain,
                                            sizeof plain, &err),
                     0);
    d = last_audit("personal.unmask", oid);
    assert_string_equal(jstr(d, "reason"), "核对 ****************** 的材料");
    json_decref(d);
    assert_int_equal(audit_count("personal.unmask"), rows0 + 4);

    /* Refusals: nothing shown, nothing logged. */
    char *before = snapshot();
    struct {
        const char *what;
        const actor *a;
        int64_t id;
        const char *field, *reason;
        int code;
        const char *efield;
    } bad[] = {
        {"no reason", &F.reviewer, id, "id_number", NULL, QL_EINVAL, "reason"},
        {"short reason", &F.reviewer, id, "id_number", "看看", QL_EINVAL, "reason"},
        {"blank reason", &F.reviewer, id, "id_number", "      ", QL_EINVAL, "reason"},
        {"unknown field", &F.reviewer, id, "name", "核对申请材料", QL_EINVAL, "field"},
        {"no permission", &F.admin, id, "id_number", "核对申请材料", QL_EFORBIDDEN, NULL},
        {"HR without permission", &F.hr1, id, "id_number", "核对申请材料", QL_EFORBIDDEN, NULL},
        {"nobody", &F.reviewer, 999999, "id_number", "核对申请材料", QL_ENOTFOUND, "id"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        memcpy(plain, "untouched", 10);
        memset(&err, 0, sizeof err);
        int rc = registry_talent_unmask(F.s, bad[k].a, bad[k].id, bad[k].field, bad[k].reason,
                                        plain, sizeof plain, &err);
        expect_err(bad[k].what, rc, &err, bad[k].code, bad[k].efield);
        assert_string_equal(plain, "");
    }
    char long_reason[700];
    repeat(long_reason, sizeof long_reason, "因", 201);
    int rc = registry_talent_unmask(F.s, &F.reviewer, id, "id_number", long_reason, plain,
                                    sizeof plain, &err);
    expect_err("long reason", rc, &err, QL_EINVAL, "reason");
    /* A person without a phone: nothing to show. */
    struct talent_input none = {
        .name = "无手机", .id_number = "11010519491231002X", .education = "本科"};
    int64_t nid = create_talent(&F.admin, &none);
    free(before);
    before = snapshot();
    rc = registry_talent_unmask(F.s, &F.reviewer, nid, "phone", "核对申请材料", plain, sizeof plain,
                                &err);
    expect_err("no phone", rc, &err, QL_ENOTFOUND, "phone");
    expect_unchanged("refused unmasking", before);
    free(before);
    /* The views are in the chain, and the chain holds. */
    audit_report ar;
    assert_int_equal(audit_verify(F.s, &ar, &err), 0);
    assert_true(ar.ok);
    assert_int_equal(ar.rows, count_of("audit_log"));
}

static int stop_after_two(const json_t *row, void *ctx)
{
    (void)row;
    int *seen = ctx;
    return ++*seen == 2 ? 7 : 0;
}

/* registry_talent_each and registry_employer_each stop when the callback
 * says so and hand its value back. */
static void test_each_stops(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) create_person(900 + i, CODE1);
    ql_err err = {0};
    int seen = 0;
    assert_int_equal(registry_talent_each(F.s, &F.admin, &(struct talent_filter){0}, stop_after_two,
                                          &seen, &err),
                     7);
    assert_int_equal(seen, 2);
    seen = 0;
    assert_int_equal(registry_employer_each(F.s, &F.admin, &(struct employer_filter){0},
                                            stop_after_two, &seen, &err),
                     7);
    assert_int_equal(seen, 2);
    /* Every row when the callback never stops; the filter's errors otherwise. */
    struct collected c = {0};
    assert_int_equal(
        registry_talent_each(F.s, &F.admin, &(struct talent_filter){0}, collect, &c, &err), 0);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.unmasked, 0);
    int rc = registry_talent_each(F.s, &F.admin, &(struct talent_filter){.sort = "age"}, collect,
                                  &c, &err);
    expect_err("bad sort", rc, &err, QL_EINVAL, "sort");
    rc = registry_talent_each(F.s, &F.admin, &(struct talent_filter){.unmask = 1}, collect, &c,
                              &err);
    expect_err("unmasked without the permission", rc, &err, QL_EFORBIDDEN, NULL);
}

/* Messages with the digits left out: "not found" for a record out of scope
 * must read like "not found" for one that does not exist. */
static void expect_same_words(const char *what, const char *a, const char *b)
{
    char x[400], y[400];
    size_t i = 0, j = 0;
    for (; *a && i < sizeof x - 1; a++)
        if (*a < '0' || *a > '9') x[i++] = *a;
    for (; *b && j < sizeof y - 1; b++)
        if (*b < '0' || *b > '9') y[j++] = *b;
    x[i] = y[j] = '\0';
    if (strcmp(x, y) != 0) fail_msg("%s: '%s' reads unlike '%s'", what, x, y);
}

static void expect_hidden(const char *what, int rc, const ql_err *err, const ql_err *nf)
{
    expect_err(what, rc, err, QL_ENOTFOUND, "id");
    expect_same_words(what, err->en, nf->en);
    expect_same_words(what, err->zh, nf->zh);
}

/* The rows of a CSV export, each as its cells joined by '|' (header first). */
static char *export_text(const char *path, int *records)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("no export at %s", path);
    csv_reader *r;
    ql_err err = {0};
    if (csv_open_file(f, path, &r, &err)) fail_msg("%s: %s", path, err.en);
    buf b;
    buf_init(&b, 0);
    char **fields;
    int nf, rc;
    long line;
    *records = 0;
    while ((rc = csv_next(r, &fields, &nf, &line, &err)) == 1) {
        for (int i = 0; i < nf; i++) buf_printf(&b, "%s|", fields[i]);
        buf_putc(&b, '\n');
        (*records)++;
    }
    if (rc < 0) fail_msg("%s: %s", path, err.en);
    csv_close(r);
    fclose(f);
    return buf_steal(&b);
}

/* The ids (first cells) of the data rows of a CSV export, as "1,2,3". */
static void export_ids(const char *path, char *out, size_t n)
{
    int records;
    char *text = export_text(path, &records);
    size_t used = 0;
    out[0] = '\0';
    char *line = strchr(text, '\n'); /* past the header */
    while (line && line[1]) {
        line++;
        char *bar = strchr(line, '|');
        if (!bar) break;
        used += (size_t)snprintf(out + used, n - used, "%s%.*s", used ? "," : "", (int)(bar - line),
                                 line);
        if (used >= n) break;
        line = strchr(line, '\n');
    }
    free(text);
}

static int64_t export_as(const actor *a, struct talent_filter f, const char *reason,
                         enum export_format fmt, const char *path)
{
    int64_t rows = -1;
    ql_err err = {0};
    int rc = registry_export_talents(F.s, a, &f, reason, fmt, path, &rows, &err);
    if (rc) fail_msg("export %s: %d %s: %s", path, rc, err.field, err.en);
    return rows;
}

/* An employer's HR account sees and changes its own staff only, in every
 * function; everything else looks like it does not exist. */
static void test_hr_scope_everywhere(void **state)
{
    (void)state;
    struct person p1, p2;
    person(&p1, 20, CODE1);
    person(&p2, 21, F.code2);
    int64_t mine = create_talent(&F.admin, &p1.in);
    int64_t theirs = create_talent(&F.admin, &p2.in);
    struct talent_input loose = {
        .name = "无单位", .id_number = "11010519491231002X", .education = "本科"};
    int64_t nobodys = create_talent(&F.admin, &loose);
    ql_err err = {0}, nf = {0};
    json_t *x = NULL;
    /* What "not found" says about an id that does not exist. */
    int rc = registry_talent_get(F.s, &F.hr1, 999999, &x, &nf);
    expect_err("nonexistent", rc, &nf, QL_ENOTFOUND, "id");
    int64_t others[] = {theirs, nobodys};
    char *before = snapshot();

    /* get */
    json_t *t = get_talent(&F.hr1, mine);
    json_decref(t);
    for (int k = 0; k < 2; k++) {
        rc = registry_talent_get(F.s, &F.hr1, others[k], &x, &err);
        expect_hidden("get of another's", rc, &err, &nf);
    }
    /* list: own staff only, whatever the filter says */
    int64_t total;
    json_t *rows = list_talents(&F.hr1, (struct talent_filter){0}, &total);
    expect_ids("HR list", rows, id_list(mine, 0, 0));
    assert_int_equal(total, 1);
    json_decref(rows);
    rows = list_talents(&F.hr1, (struct talent_filter){.employer_id = F.e2}, &total);
    assert_int_equal(total, 0);
    json_decref(rows);
    rows = list_talents(&F.hr1, (struct talent_filter){.q = p2.id}, &total);
    assert_int_equal(total, 0);
    json_decref(rows);
    rows = list_talents(&F.hr1, (struct talent_filter){.q = "人才"}, &total);
    expect_ids("HR name search", rows, id_list(mine, 0, 0));
    json_decref(rows);
    /* each */
    struct collected c = {0};
    assert_int_equal(
        registry_talent_each(F.s, &F.hr1, &(struct talent_filter){.sort = "id"}, collect, &c, &err),
        0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.id[0], mine);
    memset(&c, 0, sizeof c);
    assert_int_equal(registry_talent_each(F.s, &F.hr1u,
                                          &(struct talent_filter){.sort = "id", .unmask = 1},
                                          collect, &c, &err),
                     0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.unmasked, 1);
    /* history */
    json_t *h = NULL;
    assert_int_equal(registry_history(F.s, &F.hr1, "talent", mine, &h, &err), 0);
    assert_int_equal(json_array_size(h), 1);
    json_decref(h);
    for (int k = 0; k < 2; k++) {
        rc = registry_history(F.s, &F.hr1, "talent", others[k], &h, &err);
        expect_hidden("history of another's", rc, &err, &nf);
    }
    /* unmask, for an HR account that holds personal.unmask */
    char plain[64];
    assert_int_equal(registry_talent_unmask(F.s, &F.hr1u, mine, "id_number", "核对本单位员工",
                                            plain, sizeof plain, &err),
                     0);
    assert_string_equal(plain, p1.id);
    free(before);
    before = snapshot();
    for (int k = 0; k < 2; k++) {
        rc = registry_talent_unmask(F.s, &F.hr1u, others[k], "id_number", "核对本单位员工", plain,
                                    sizeof plain, &err);
        expect_hidden("unmask of another's", rc, &err, &nf);
        assert_string_equal(plain, "");
    }
    /* update: another's looks absent, whatever the input */
    reg_report rep = {0};
    for (int k = 0; k < 2; k++) {
        rc = registry_talent_update(F.s, &F.hr1, others[k], &p2.in, &rep, &err);
        expect_hidden("update of another's", rc, &err, &nf);
        struct talent_input junk = {.name = ""};
        rc = registry_talent_update(F.s, &F.hr1, others[k], &junk, &rep, &err);
        expect_hidden("bad update of another's", rc, &err, &nf);
    }
    /* ... and its own staff cannot be handed to another employer. */
    struct person moved;
    person(&moved, 20, F.code2);
    rc = registry_talent_update(F.s, &F.hr1, mine, &moved.in, &rep, &err);
    expect_err("moving staff away", rc, &err, QL_EFORBIDDEN, "employer");
    /* create: own staff only */
    struct person p3;
    person(&p3, 22, F.code2);
    rc = registry_talent_create(F.s, &F.hr1, &p3.in, &(int64_t){0}, &rep, &err);
    expect_err("registering another's staff", rc, &err, QL_EFORBIDDEN, "employer");
    person(&p3, 22, NULL);
    rc = registry_talent_create(F.s, &F.hr1, &p3.in, &(int64_t){0}, &rep, &err);
    expect_err("registering without employer", rc, &err, QL_EFORBIDDEN, "employer");
    /* employers: its own only, and no changes */
    rc = registry_employer_get(F.s, &F.hr1, F.e2, &x, &err);
    expect_err("another employer", rc, &err, QL_ENOTFOUND, "id");
    rc = registry_history(F.s, &F.hr1, "employer", F.e2, &h, &err);
    expect_err("another employer's history", rc, &err, QL_ENOTFOUND, "id");
    struct employer_input ein = {CODE1, "改名", "ai", "yes", "yes", "yes"};
    rc = registry_employer_update(F.s, &F.hr1, F.e1, &ein, &rep, &err);
    expect_err("HR changes its employer", rc, &err, QL_EFORBIDDEN, NULL);
    char code[19];
    gen_credit(55, code);
    struct employer_input new_emp = {code, "新单位", "ai", "yes", "yes", "no"};
    rc = registry_employer_create(F.s, &F.hr1, &new_emp, &(int64_t){0}, &rep, &err);
    expect_err("HR registers an employer", rc, &err, QL_EFORBIDDEN, NULL);
    expect_unchanged("HR refusals", before);
    free(before);
    json_t *e = NULL;
    assert_int_equal(registry_employer_get(F.s, &F.hr1, F.e1, &e, &err), 0);
    json_decref(e);
    assert_int_equal(registry_history(F.s, &F.hr1, "employer", F.e1, &h, &err), 0);
    json_decref(h);
    struct employer_filter ef = {.page = 1, .per_page = 50};
    assert_int_equal(registry_employer_list(F.s, &F.hr1, &ef, &rows, &total, &err), 0);
    expect_ids("HR employer list", rows, id_list(F.e1, 0, 0));
    assert_int_equal(total, 1);
    json_decref(rows);
    ef.q = F.code2;
    assert_int_equal(registry_employer_list(F.s, &F.hr1, &ef, &rows, &total, &err), 0);
    assert_int_equal(total, 0);
    json_decref(rows);
    ef.q = NULL;
    memset(&c, 0, sizeof c);
    assert_int_equal(registry_employer_each(F.s, &F.hr1, &ef, collect, &c, &err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.id[0], F.e1);
    /* Its own staff can be changed (and registered). */
    p1.in.level = "A";
    assert_int_equal(registry_talent_update(F.s, &F.hr1, mine, &p1.in, &rep, &err), 0);
    person(&p3, 23, CODE1);
    int64_t added = create_talent(&F.hr1, &p3.in);

    /* import: every row must be its own staff */
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, TALENT_HEADER);
    csv_row(&b, 30, CODE1);
    csv_row(&b, 31, F.code2);
    csv_row(&b, 32, "");
    csv_row(&b, 33, CODE1);
    const char *path = tmp_file("hr.csv");
    write_bytes(path, b.data, b.len);
    buf_free(&b);
    before = snapshot();
    struct import_report ir;
    import_file(&F.hr1, IMPORT_TALENTS, path, 1, &ir);
    assert_int_equal(ir.rows, 4);
    assert_int_equal(ir.bad_rows, 2);
    assert_int_equal(ir.imported, 0);
    expect_problem(&ir, 0, 3, "用人单位统一社会信用代码", "employer", "own staff");
    expect_problem(&ir, 1, 4, "用人单位统一社会信用代码", "employer", "own staff");
    import_report_free(&ir);
    expect_unchanged("HR import of others", before);
    free(before);
    /* Employers are imported by district staff only. */
    const char *epath = tmp_file("hr-employers.csv");
    write_bytes(epath, import_template(IMPORT_EMPLOYERS),
                strlen(import_template(IMPORT_EMPLOYERS)));
    import_refused(&F.hr1, IMPORT_EMPLOYERS, epath, QL_EFORBIDDEN, NULL, NULL);

    /* export: its own staff only */
    const char *xpath = tmp_file("hr.csv");
    assert_int_equal(
        export_as(&F.hr1, (struct talent_filter){.sort = "id"}, NULL, EXPORT_CSV, xpath), 2);
    char got[256];
    export_ids(xpath, got, sizeof got);
    char want[64];
    snprintf(want, sizeof want, "%" PRId64 ",%" PRId64, mine, added);
    assert_string_equal(got, want);
    assert_int_equal(
        export_as(&F.hr1, (struct talent_filter){.employer_id = F.e2}, NULL, EXPORT_CSV, xpath), 0);
    int64_t erows = -1;
    assert_int_equal(registry_export_employers(F.s, &F.hr1, &(struct employer_filter){0},
                                               EXPORT_CSV, xpath, &erows, &err),
                     0);
    assert_int_equal(erows, 1);
    export_ids(xpath, got, sizeof got);
    snprintf(want, sizeof want, "%" PRId64, F.e1);
    assert_string_equal(got, want);
}

/* A talent's account (with registry.read) sees its own record only; a
 * talent's account as the role table has it cannot read the registry. */
static void test_talent_self_scope(void **state)
{
    (void)state;
    int64_t me = create_person(40, CODE1);
    int64_t other = create_person(41, CODE1);
    char sid[24];
    snprintf(sid, sizeof sid, "%" PRId64, me);
    actor self, plain_talent;
    make_actor("talent.self", RB(ROLE_TALENT), SCOPE_SELF, sid, &plain_talent);
    /* a personal account holds the talent role only (account.c); the
     * scope still bounds whatever permissions an actor of it carries: an
     * actor of the same account with the auditor's reading permissions too */
    self = plain_talent;
    self.roles |= RB(ROLE_AUDITOR);
    self.perms |= role_perms(ROLE_AUDITOR);
    ql_err err = {0}, nf = {0};
    json_t *x = NULL;
    int rc = registry_talent_get(F.s, &self, 999999, &x, &nf);
    expect_err("nonexistent", rc, &nf, QL_ENOTFOUND, "id");
    json_t *t = get_talent(&self, me);
    json_decref(t);
    rc = registry_talent_get(F.s, &self, other, &x, &err);
    expect_hidden("another person", rc, &err, &nf);
    int64_t total;
    json_t *rows = list_talents(&self, (struct talent_filter){0}, &total);
    expect_ids("own list", rows, id_list(me, 0, 0));
    json_decref(rows);
    json_t *h = NULL;
    assert_int_equal(registry_history(F.s, &self, "talent", me, &h, &err), 0);
    json_decref(h);
    rc = registry_history(F.s, &self, "talent", other, &h, &err);
    expect_hidden("another's history", rc, &err, &nf);
    rc = registry_employer_get(F.s, &self, F.e1, &x, &err);
    expect_err("an employer", rc, &err, QL_ENOTFOUND, "id");
    struct employer_filter ef = {.page = 1, .per_page = 10};
    assert_int_equal(registry_employer_list(F.s, &self, &ef, &rows, &total, &err), 0);
    assert_int_equal(total, 0);
    json_decref(rows);
    struct person p;
    person(&p, 42, NULL);
    reg_report rep = {0};
    rc = registry_talent_create(F.s, &self, &p.in, &(int64_t){0}, &rep, &err);
    expect_err("self registers", rc, &err, QL_EFORBIDDEN, NULL);
    /* The talent role alone reads its own record (registry.read within
     * scope self) and nobody else's. */
    t = get_talent(&plain_talent, me);
    json_decref(t);
    rc = registry_talent_get(F.s, &plain_talent, other, &x, &err);
    expect_hidden("talent role, another person", rc, &err, &nf);
    rows = list_talents(&plain_talent, (struct talent_filter){0}, &total);
    expect_ids("talent role's list", rows, id_list(me, 0, 0));
    json_decref(rows);
}

/* Whether needle occurs in the len bytes at data (none when data is NULL). */
static int has_bytes(const char *data, size_t len, const char *needle)
{
    return data && memmem(data, len, needle, strlen(needle)) != NULL;
}

/* Every table's rows as the store gives them back (sealed columns as
 * their bytes); *len receives the length. */
static char *all_rows_text(size_t *len)
{
    static const char *const tables[] = {
        "talents",  "employers",     "employments",          "audit_log",    "users",
        "sessions", "payee_changes", "identity_corrections", "notifications"};
    buf b;
    buf_init(&b, 0);
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", tables[t]);
        store_rows *r;
        int rc = store_query(F.s, sql, NULL, 0, &r);
        if (rc) fail_msg("%s: %d", sql, rc);
        while ((rc = store_step(r)) == 1)
            for (int c = 0; c < store_ncols(r); c++) {
                size_t n = 0;
                const char *v = store_col_isnull(r, c) ? "" : store_col_text(r, c, &n);
                buf_append(&b, v, n);
                buf_putc(&b, '\n');
            }
        store_rows_close(r);
    }
    *len = b.len;
    return buf_steal(&b);
}

/* Many talents stored every way there is (import, form, change, unmask,
 * exports filtered by a personal number): the database holds no plain ID
 * number, phone or card, and lists show the masks. */
static void test_no_plaintext_in_database(void **state)
{
    (void)state;
    enum { N_IMPORT = 400, N_FORM = 40 };
    size_t len;
    char *csv = talents_csv(1000, N_IMPORT, CODE1, -1, &len);
    const char *path = tmp_file("many.csv");
    write_bytes(path, csv, len);
    free(csv);
    struct import_report ir;
    import_file(&F.admin, IMPORT_TALENTS, path, 1, &ir);
    assert_int_equal(ir.imported, N_IMPORT);
    import_report_free(&ir);
    int64_t first_form = 0;
    for (int i = 0; i < N_FORM; i++) {
        int64_t id = create_person(2000 + i, i % 2 ? F.code2 : CODE1);
        if (!first_form) first_form = id;
    }
    /* A change of phone, of card (at a window, confirmed by the person) and
     * of ID number (by a reviewer), an unmasking, exports searched by number. */
    struct person p;
    person(&p, 2000, CODE1);
    char new_phone[12] = "13712345678", new_card[20] = "621483000000000";
    luhn_complete(new_card);
    p.in.phone = new_phone;
    reg_report rep = {0};
    ql_err err = {0};
    assert_int_equal(registry_talent_update(F.s, &F.admin, first_form, &p.in, &rep, &err), 0);
    struct payee_request change = {new_card, "本人到窗口更换银行卡", 1};
    int64_t change_id = 0;
    assert_int_equal(payee_change_request(F.s, &F.cli, first_form, &change, &change_id, &rep, &err),
                     0);
    actor self = F.cli;
    self.scope = SCOPE_SELF;
    self.perms = role_perms(ROLE_TALENT);
    snprintf(self.username, sizeof self.username, "self.%lld", (long long)first_form);
    snprintf(self.scope_id, sizeof self.scope_id, "%lld", (long long)first_form);
    assert_int_equal(payee_change_confirm(F.s, &self, change_id, NULL, &err), 0);
    struct person fixed;
    person(&fixed, 2999, NULL);
    struct identity_input id_fix = {NULL, fixed.id, "证件号码录入错误"};
    int64_t fix_id = 0;
    assert_int_equal(
        identity_correct(F.s, &F.reviewer, first_form + 1, &id_fix, &fix_id, &rep, &err), 0);
    char plain[64];
    assert_int_equal(registry_talent_unmask(F.s, &F.reviewer, first_form, "phone", "回访核实",
                                            plain, sizeof plain, &err),
                     0);
    const char *x = tmp_file("search.csv");
    assert_int_equal(export_as(&F.admin, (struct talent_filter){.q = p.id}, NULL, EXPORT_CSV, x),
                     1);
    assert_int_equal(export_as(&F.admin, (struct talent_filter){.q = new_phone}, NULL, EXPORT_XLSX,
                               tmp_file("search.xlsx")),
                     1);
    assert_int_equal(export_as(&F.reviewer, (struct talent_filter){.q = new_card, .unmask = 1},
                               "年度核查", EXPORT_CSV, x),
                     1);
    /* Free text that quotes numbers: part of an ID number as a search, the
     * whole one in an unmask reason. The audit rows keep them starred. */
    char partial[17], quoted[80];
    snprintf(partial, sizeof partial, "%.16s", p.id);
    snprintf(quoted, sizeof quoted, "核对 %s", p.id);
    assert_int_equal(export_as(&F.reviewer, (struct talent_filter){.q = partial, .unmask = 1},
                               quoted, EXPORT_CSV, x),
                     0);
    assert_int_equal(registry_talent_unmask(F.s, &F.reviewer, first_form, "id_number", quoted,
                                            plain, sizeof plain, &err),
                     0);
    struct collected c = {0};
    assert_int_equal(registry_talent_each(F.s, &F.admin, &(struct talent_filter){.q = p.phone},
                                          collect, &c, &err),
                     0);
    assert_int_equal(c.n, 0); /* the old phone is gone */

    /* Everything stored, as the store gives it back. */
    size_t rows_len;
    char *rows_text = all_rows_text(&rows_len);
    assert_true(rows_len > 100000);
    /* And the raw files (SQLite: the database and its write-ahead log). */
    char *db = NULL, *wal = NULL;
    size_t db_len = 0, wal_len = 0;
    if (!tu_pg_url()) {
        char wal_path[700];
        snprintf(wal_path, sizeof wal_path, "%s-wal", F.url);
        db = tu_slurp(F.url, &db_len);
        wal = tu_slurp(wal_path, &wal_len);
        assert_non_null(db);
        assert_true(db_len + wal_len > 100000);
        /* The masks are there, so a plain value would be too if written. */
        person(&p, 1000, NULL);
        char masked[40];
        snprintf(masked, sizeof masked, "310104********%.4s", p.id + 14);
        assert_true(has_bytes(db, db_len, masked) || has_bytes(wal, wal_len, masked));
    }
    int checked = 0;
    for (int i = 0; i < N_IMPORT + N_FORM + 1; i++) {
        int k = i < N_IMPORT ? 1000 + i : 2000 + (i - N_IMPORT);
        person(&p, k, NULL);
        const char *needles[3] = {p.id, p.phone, p.card};
        if (i == N_IMPORT + N_FORM) {
            needles[0] = fixed.id; /* the corrected ID number */
            needles[1] = new_phone;
            needles[2] = new_card;
        }
        for (int j = 0; j < 3; j++) {
            const char *needle = needles[j];
            if (memmem(rows_text, rows_len, needle, strlen(needle)))
                fail_msg("the store holds the plain value %s", needle);
            if (db && (has_bytes(db, db_len, needle) || has_bytes(wal, wal_len, needle)))
                fail_msg("the database file holds the plain value %s", needle);
            checked++;
        }
    }
    assert_int_equal(checked, 3 * (N_IMPORT + N_FORM + 1));
    if (memmem(rows_text, rows_len, partial, strlen(partial)))
        fail_msg("the store holds part of an ID number, %s", partial);
    if (db && (has_bytes(db, db_len, partial) || has_bytes(wal, wal_len, partial)))
        fail_msg("the database file holds part of an ID number, %s", partial);
    free(rows_text);
    free(db);
    free(wal);

    /* Lists give the masked forms. */
    int64_t total;
    json_t *rows =
        list_talents(&F.admin, (struct talent_filter){.sort = "id", .per_page = 200}, &total);
    assert_int_equal(total, N_IMPORT + N_FORM);
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        person(&p, 1000 + (int)i, NULL);
        char want[40];
        snprintf(want, sizeof want, "310104********%.4s", p.id + 14);
        assert_string_equal(jstr(row, "id_masked"), want);
        snprintf(want, sizeof want, "139****%.4s", p.phone + 7);
        assert_string_equal(jstr(row, "phone_masked"), want);
        snprintf(want, sizeof want, "622200******%.4s", p.card + 12);
        assert_string_equal(jstr(row, "bank_masked"), want);
        assert_null(json_object_get(row, "id_number"));
    }
    json_decref(rows);
}

/* --- 3. import ----------------------------------------------------------- */

static char *to_gbk(const char *utf8, size_t len, size_t *out_len)
{
    iconv_t cd = iconv_open("GBK", "UTF-8");
    if (cd == (iconv_t)-1) fail_msg("iconv_open: %s", strerror(errno));
    size_t cap = len * 2 + 16;
    char *out = malloc(cap);
    char *in = (char *)utf8, *o = out;
    size_t inleft = len, oleft = cap;
    if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1)
        fail_msg("iconv to GBK: %s", strerror(errno));
    iconv_close(cd);
    *out_len = cap - oleft;
    return out;
}

struct counts {
    int64_t talents, employments, employers, audit;
};

static struct counts counts_now(void)
{
    return (struct counts){count_of("talents"), count_of("employments"), count_of("employers"),
                           count_of("audit_log")};
}

static void expect_counts(const char *what, struct counts a, struct counts b)
{
    if (a.talents != b.talents || a.employments != b.employments || a.employers != b.employers ||
        a.audit != b.audit)
        fail_msg("%s: talents %" PRId64 "/%" PRId64 ", employments %" PRId64 "/%" PRId64
                 ", employers %" PRId64 "/%" PRId64 ", audit rows %" PRId64 "/%" PRId64,
                 what, a.talents, b.talents, a.employments, b.employments, a.employers, b.employers,
                 a.audit, b.audit);
}

/* 10,000 people with one bad row in the middle: nothing is stored and that
 * row alone is reported; fixed, all 10,000 are stored in one go. */
static void test_import_10000(void **state)
{
    (void)state;
    enum { N = 10000, BAD = 5000 };
    size_t len;
    char *csv = talents_csv(0, N, CODE1, BAD, &len);
    const char *path = tmp_file("ten-thousand-bad.csv");
    write_bytes(path, csv, len);
    free(csv);
    struct counts c0 = counts_now();
    struct import_report rep;
    import_file(&F.admin, IMPORT_TALENTS, path, 1, &rep);
    assert_int_equal(rep.rows, N);
    assert_int_equal(rep.bad_rows, 1);
    assert_int_equal(rep.problems, 1);
    assert_int_equal(rep.imported, 0);
    assert_int_equal(rep.encoding, CSV_UTF8);
    assert_int_equal(json_array_size(rep.list), 1);
    /* Data row BAD + 1, under the header: row BAD + 2 as the spreadsheet counts. */
    expect_problem(&rep, 0, BAD + 2, "身份证号码", "id_number", "check character");
    import_report_free(&rep);
    expect_counts("one bad row", c0, counts_now());

    csv = talents_csv(0, N, CODE1, -1, &len);
    path = tmp_file("ten-thousand.csv");
    write_bytes(path, csv, len);
    free(csv);
    import_file(&F.admin, IMPORT_TALENTS, path, 1, &rep);
    assert_int_equal(rep.rows, N);
    assert_int_equal(rep.bad_rows, 0);
    assert_int_equal(rep.problems, 0);
    assert_int_equal(rep.imported, N);
    assert_int_equal(rep.warnings, 0);
    assert_true(rep.audit_seq > 0);
    import_report_free(&rep);
    assert_int_equal(count_of("talents"), c0.talents + N);
    assert_int_equal(count_of("employments"), c0.employments + N);
    assert_int_equal(count_of("audit_log"), c0.audit + 1);
    json_t *d = last_audit("registry.import", NULL);
    assert_string_equal(jstr(d, "kind"), "talents");
    assert_int_equal(json_integer_value(json_object_get(d, "rows")), N);
    assert_int_equal(strlen(jstr(d, "file_digest")), 64);
    json_decref(d);

    /* Read back: the person from the bad row, by ID number. */
    struct person p;
    person(&p, BAD, NULL);
    int64_t total;
    json_t *rows = list_talents(&F.admin, (struct talent_filter){.q = p.id}, &total);
    assert_int_equal(total, 1);
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(jstr(row, "name"), "人才05000");
    char level[2] = {"ABC"[BAD % 3], '\0'};
    assert_string_equal(jstr(row, "level"), level);
    assert_int_equal(json_integer_value(json_object_get(row, "insurance_months")), BAD % 60);
    assert_string_equal(jstr(json_object_get(row, "employer"), "credit_code"), CODE1);
    json_decref(rows);

    /* The count stops at the cap: 10,000 matches, then "more than". */
    rows = list_talents(&F.admin, (struct talent_filter){.per_page = 10}, &total);
    assert_int_equal(total, N);
    json_decref(rows);
    create_person(N + 1, NULL);
    rows = list_talents(&F.admin, (struct talent_filter){.per_page = 10}, &total);
    assert_int_equal(total, REGISTRY_COUNT_CAP + 1);
    json_decref(rows);
    rows = list_talents(
        &F.admin,
        (struct talent_filter){.sort = "id", .page = REGISTRY_COUNT_CAP / 200 + 1, .per_page = 200},
        &total);
    assert_int_equal(json_array_size(rows), 1); /* the 10,001st */
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.level = "A", .per_page = 10}, &total);
    assert_int_equal(total, (N + 2) / 3);
    json_decref(rows);
}

/* The same 10,000 people saved by Excel in China (GBK) import the same. */
static void test_import_gbk(void **state)
{
    (void)state;
    enum { N = 10000 };
    size_t len, glen;
    char *csv = talents_csv(0, N, CODE1, -1, &len);
    char *gbk = to_gbk(csv, len, &glen);
    free(csv);
    assert_true(glen < len); /* two bytes a character instead of three */
    const char *path = tmp_file("gbk.csv");
    write_bytes(path, gbk, glen);
    free(gbk);
    struct import_report rep;
    import_file(&F.admin, IMPORT_TALENTS, path, 1, &rep);
    assert_int_equal(rep.encoding, CSV_GB18030);
    assert_int_equal(rep.rows, N);
    assert_int_equal(rep.bad_rows, 0);
    assert_int_equal(rep.imported, N);
    import_report_free(&rep);
    assert_int_equal(count_of("talents"), N);
    struct person p;
    person(&p, N - 1, NULL);
    int64_t total;
    json_t *rows = list_talents(&F.admin, (struct talent_filter){.q = p.id}, &total);
    assert_int_equal(total, 1);
    assert_string_equal(jstr(json_array_get(rows, 0), "name"), "人才09999");
    assert_string_equal(jstr(json_array_get(rows, 0), "category"), "光启人才");
    assert_string_equal(jstr(json_array_get(rows, 0), "education"), "master");
    json_decref(rows);
    rows = list_talents(&F.admin, (struct talent_filter){.q = "人才0999"}, &total);
    assert_int_equal(total, 10);
    json_decref(rows);
}

/* UTF-8 with and without the byte-order mark, English or Chinese column
 * names in any order, the other names people give them, notes in brackets. */
static void test_import_encodings_and_headers(void **state)
{
    (void)state;
    buf body;
    buf_init(&body, 0);
    buf_puts(&body, "\xEF\xBB\xBF" TALENT_HEADER);
    for (int i = 0; i < 20; i++) csv_row(&body, 500 + i, CODE1);
    const char *path = tmp_file("bom.csv");
    write_bytes(path, body.data, body.len);
    struct import_report rep;
    struct counts c0 = counts_now();
    import_file(&F.admin, IMPORT_TALENTS, path, 0, &rep); /* dry run */
    assert_int_equal(rep.encoding, CSV_UTF8_BOM);
    assert_int_equal(rep.rows, 20);
    assert_int_equal(rep.bad_rows, 0);
    assert_int_equal(rep.imported, 0);
    assert_int_equal(rep.audit_seq, 0);
    import_report_free(&rep);
    expect_counts("dry run", c0, counts_now());
    import_file(&F.admin, IMPORT_TALENTS, path, 1, &rep);
    assert_int_equal(rep.imported, 20);
    import_report_free(&rep);
    buf_free(&body);

    /* A card that fails the Luhn check is a warning: the row is good, and
     * the report lists it with its row and column. */
    buf_init(&body, 0);
    buf_puts(&body, "\xEF\xBB\xBF" "姓名,身份证号码,学历,银行卡号\r\n");
    for (int i = 0; i < 3; i++) {
        struct person p;
        person(&p, 700 + i, NULL);
        if (i == 1) p.card[15] = p.card[15] == '9' ? '0' : (char)(p.card[15] + 1);
        buf_printf(&body, "%s,%s,本科,%s\r\n", p.name, p.id, p.card);
    }
    path = tmp_file("luhn.csv");
    write_bytes(path, body.data, body.len);
    buf_free(&body);
    import_file(&F.admin, IMPORT_TALENTS, path, 0, &rep);
    assert_int_equal(rep.bad_rows, 0);
    assert_int_equal(rep.warnings, 1);
    assert_int_equal(json_array_size(rep.warning_list), 1);
    json_t *w = json_array_get(rep.warning_list, 0);
    assert_int_equal(json_integer_value(json_object_get(w, "row")), 3);
    assert_string_equal(jstr(w, "field"), "bank_account");
    assert_string_equal(jstr(w, "column"), "银行卡号");
    assert_non_null(strstr(jstr(w, "message_en"), "Luhn"));
    import_report_free(&rep);

    /* Without BOM, LF line ends, English names in another order, aliases and notes. */
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "ID_Number,Name (必填),education,手机号,社保月数,银行账号,在沪有房,employer,"
                 "入职日期（YYYY-MM-DD）\n");
    for (int i = 0; i < 5; i++) {
        struct person p;
        person(&p, 600 + i, NULL);
        buf_printf(&b, "%s,%s,博士,%s,%d,%s,否,%s,2023-09-01\n", p.id, p.name, p.phone, i, p.card,
                   i % 2 ? CODE1 : F.code2);
    }
    path = tmp_file("english.csv");
    write_bytes(path, b.data, b.len);
    buf_free(&b);
    import_file(&F.admin, IMPORT_TALENTS, path, 1, &rep);
    assert_int_equal(rep.encoding, CSV_UTF8);
    assert_int_equal(rep.bad_rows, 0);
    assert_int_equal(rep.imported, 5);
    import_report_free(&rep);
    struct person p;
    person(&p, 603, NULL);
    int64_t total;
    json_t *rows = list_talents(&F.admin, (struct talent_filter){.q = p.card}, &total);
    assert_int_equal(total, 1);
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(jstr(row, "education"), "doctor");
    assert_int_equal(json_integer_value(json_object_get(row, "insurance_months")), 3);
    assert_string_equal(jstr(json_object_get(row, "employer"), "credit_code"), CODE1);
    assert_string_equal(jstr(row, "employed_since"), "2023-09-01");
    json_decref(rows);
    /* The template imports as it is (its employer exists). */
    path = tmp_file("template.csv");
    write_bytes(path, import_template(IMPORT_TALENTS), strlen(import_template(IMPORT_TALENTS)));
    import_file(&F.admin, IMPORT_TALENTS, path, 0, &rep);
    assert_int_equal(rep.rows, 1);
    assert_int_equal(rep.bad_rows, 0);
    assert_int_equal(rep.warnings, 0);
    import_report_free(&rep);
}

/* Every bad row is reported, with the row number a spreadsheet shows, the
 * column and the reason; nothing is stored. */
static void test_import_problems(void **state)
{
    (void)state;
    int64_t known = create_person(50, CODE1);
    assert_true(known > 0);
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, TALENT_HEADER); /* row 1 */
    csv_row(&b, 1, CODE1);       /* row 2 */
    csv_row(&b, 2, CODE1);       /* row 3 */
    csv_row(&b, 1, CODE1);       /* row 4: listed twice */
    struct person p;
    person(&p, 3, NULL);
    buf_printf(&b, "%s,%s,02164870000,大专,,,,,,,,\r\n", p.name, p.id); /* row 5: two problems */
    csv_row(&b, 50, CODE1); /* row 6: registered already */
    csv_row(&b, 4, CODE1);  /* row 7 */
    person(&p, 5, NULL);
    buf_printf(&b, "%s,%s,,本科,,,,,,,否,,多余\r\n", p.name, p.id); /* row 8: one cell too many */
    person(&p, 6, NULL);
    buf_printf(&b, "\"%s\r\n（二）\",%s,,本科,,,,,,,,\r\n", p.name,
               p.id); /* row 9: a name on two lines */
    person(&p, 7, NULL);
    p.id[17] = p.id[17] == '1' ? '2' : '1';
    buf_printf(&b, "%s,%s,,本科,,,,,,,,\r\n", p.name, p.id); /* row 10: bad check character */
    buf_puts(&b, "\r\n");                                    /* row 11: blank */
    person(&p, 8, NULL);
    buf_printf(&b, "%s,%s,,本科,,,,%s,2024-01-01,,,\r\n", p.name, p.id,
               "91350100M000100Y44"); /* row 12 */
    const char *path = tmp_file("problems.csv");
    write_bytes(path, b.data, b.len);
    buf_free(&b);
    char *before = snapshot();
    struct import_report rep;
    for (int commit = 0; commit <= 1; commit++) {
        import_file(&F.admin, IMPORT_TALENTS, path, commit, &rep);
        assert_int_equal(rep.rows, 10);
        assert_int_equal(rep.imported, 0);
        size_t k = 0;
        expect_problem(&rep, k++, 4, "身份证号码", "id_number", "twice");
        expect_problem(&rep, k++, 5, "手机号码", "phone", "mobile");
        expect_problem(&rep, k++, 5, "学历", "education", "bachelor");
        expect_problem(&rep, k++, 6, "身份证号码", "id_number", "already registered");
        expect_problem(&rep, k++, 8, "", "file", "cells");
        expect_problem(&rep, k++, 9, "姓名", "name", NULL);
        expect_problem(&rep, k++, 10, "身份证号码", "id_number", "check character");
        expect_problem(&rep, k++, 12, "用人单位统一社会信用代码", "employer", NULL);
        assert_int_equal(json_array_size(rep.list), k);
        assert_int_equal(rep.problems, (int64_t)k);
        assert_int_equal(rep.bad_rows, 7);
        import_report_free(&rep);
        expect_unchanged("a file with bad rows", before);
    }
    free(before);
}

/* Files that cannot be imported at all: the whole file is refused, naming
 * what is wrong with it, and nothing is stored. */
static void test_import_bad_files(void **state)
{
    (void)state;
    char *before = snapshot();
    struct {
        const char *name, *text, *word;
    } bad[] = {
        {"empty.csv", "", "empty"},
        {"unknown-column.csv", "姓名,身份证号码,学历,学位\r\n张三,11010519491231002X,本科,学士\r\n",
         "学位"},
        {"missing-column.csv", "姓名,身份证号码,手机号码\r\n张三,11010519491231002X,\r\n", "学历"},
        {"twice.csv", "姓名,身份证号码,学历,name\r\n张三,11010519491231002X,本科,李四\r\n", "姓名"},
        {"quote.csv", "姓名,身份证号码,学历\r\n\"张三,11010519491231002X,本科\r\n", NULL},
        {"binary.csv", "姓名,身份证号码,学历\r\n\xff\xfe,1,2\r\n", NULL},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *path = tmp_file(bad[k].name);
        write_bytes(path, bad[k].text, strlen(bad[k].text));
        import_refused(&F.admin, IMPORT_TALENTS, path, QL_EINVAL, NULL, bad[k].word);
    }
    /* A header alone: nothing to do, nothing wrong. */
    const char *path = tmp_file("header-only.csv");
    write_bytes(path, TALENT_HEADER, strlen(TALENT_HEADER));
    struct import_report rep;
    import_file(&F.admin, IMPORT_TALENTS, path, 0, &rep);
    assert_int_equal(rep.rows, 0);
    assert_int_equal(rep.bad_rows, 0);
    import_report_free(&rep);
    expect_unchanged("bad files", before);
    free(before);
    /* Who may import at all. */
    import_refused(&F.reviewer, IMPORT_TALENTS, path, QL_EFORBIDDEN, NULL, "registry.write");
    assert_int_equal(import_kind_parse("人才", &(enum import_kind){0}), 0);
    assert_int_equal(import_kind_parse("用人单位", &(enum import_kind){0}), 0);
    assert_int_equal(import_kind_parse("leases", &(enum import_kind){0}), QL_EINVAL);
}

static void test_import_employers(void **state)
{
    (void)state;
    char c3[19], c4[19], c5[19];
    gen_credit(3, c3);
    gen_credit(4, c4);
    gen_credit(5, c5);
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "统一社会信用代码,单位名称,行业,本区注册,本区纳税,重点企业\r\n");
    buf_printf(&b, "%s,三号单位,人工智能,是,是,否\r\n", c3); /* row 2 */
    buf_printf(&b, "%s,已登记单位,ai,yes,no,no\r\n", CODE1); /* row 3 */
    buf_printf(&b, "%s,四号单位,fintech,1,0,1\r\n", c4);     /* row 4 */
    buf_printf(&b, "%s,三号单位又一次,ai,是,是,否\r\n", c3); /* row 5 */
    buf_printf(&b, "%.17sZ,坏代码,矿业,也许,是,否\r\n", c5); /* row 6 */
    const char *path = tmp_file("employers.csv");
    write_bytes(path, b.data, b.len);
    char *before = snapshot();
    struct import_report rep;
    import_file(&F.admin, IMPORT_EMPLOYERS, path, 1, &rep);
    assert_int_equal(rep.rows, 5);
    assert_int_equal(rep.imported, 0);
    size_t k = 0;
    expect_problem(&rep, k++, 3, "统一社会信用代码", "credit_code", "already registered");
    expect_problem(&rep, k++, 5, "统一社会信用代码", "credit_code", NULL);
    expect_problem(&rep, k++, 6, "统一社会信用代码", "credit_code", NULL);
    expect_problem(&rep, k++, 6, "行业", "industry", NULL);
    expect_problem(&rep, k++, 6, "本区注册", "registered", NULL);
    assert_int_equal(json_array_size(rep.list), k);
    assert_int_equal(rep.bad_rows, 3);
    import_report_free(&rep);
    expect_unchanged("bad employers file", before);
    free(before);
    buf_reset(&b);
    buf_puts(&b, "credit_code,name,industry\r\n");
    buf_printf(&b, "%s,三号单位,人工智能\r\n%s,四号单位,fintech\r\n", c3, c4);
    write_bytes(path, b.data, b.len);
    buf_free(&b);
    import_file(&F.admin, IMPORT_EMPLOYERS, path, 1, &rep);
    assert_int_equal(rep.imported, 2);
    import_report_free(&rep);
    assert_int_equal(count_of("employers"), 4);
    json_t *d = last_audit("registry.import", NULL);
    assert_string_equal(jstr(d, "kind"), "employers");
    assert_int_equal(json_integer_value(json_object_get(d, "rows")), 2);
    json_decref(d);
}

/* --- 4. export ----------------------------------------------------------- */

static char *unzip_all(const char *path, size_t *len)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "unzip -p '%s' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    buf b;
    buf_init(&b, 0);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    int st = pclose(f);
    if (st != 0) fail_msg("unzip %s: status %d", path, st);
    *len = b.len;
    return buf_steal(&b);
}

static void test_export_filtered(void **state)
{
    (void)state;
    int64_t id[6];
    struct person p;
    for (int i = 0; i < 6; i++) {
        person(&p, 700 + i, CODE1);
        p.in.education = i % 2 ? "doctor" : "master";
        id[i] = create_talent(&F.admin, &p.in);
    }
    const char *csv = tmp_file("doctors.csv");
    int64_t a0 = count_of("audit_log");
    assert_int_equal(export_as(&F.admin,
                               (struct talent_filter){.education = "doctor", .sort = "id"}, NULL,
                               EXPORT_CSV, csv),
                     3);
    char got[256];
    export_ids(csv, got, sizeof got);
    assert_string_equal(got, id_list(id[1], id[3], id[5]));
    int records;
    char *text = export_text(csv, &records);
    assert_int_equal(records, 4);
    assert_non_null(strstr(text, "编号|姓名|证件号码|"));
    size_t flen;
    char *raw = tu_slurp(csv, &flen);
    assert_memory_equal(raw, "\xEF\xBB\xBF", 3);
    for (int i = 0; i < 6; i++) {
        person(&p, 700 + i, NULL);
        char masked[40];
        snprintf(masked, sizeof masked, "310104********%.4s", p.id + 14);
        if (i % 2) {
            assert_non_null(strstr(text, p.name));
            assert_non_null(strstr(text, masked));
        } else {
            assert_null(strstr(text, p.name));
        }
        assert_null(memmem(raw, flen, p.id, 18));
        assert_null(memmem(raw, flen, p.phone, 11));
        assert_null(memmem(raw, flen, p.card, 16));
    }
    free(raw);
    free(text);
    json_t *d = last_audit("registry.export", NULL);
    assert_string_equal(jstr(d, "kind"), "talents");
    assert_string_equal(jstr(d, "format"), "csv");
    assert_int_equal(json_integer_value(json_object_get(d, "rows")), 3);
    assert_true(json_is_false(json_object_get(d, "unmasked")));
    assert_string_equal(jstr(json_object_get(d, "filter"), "education"), "doctor");
    json_decref(d);

    /* The same list as .xlsx. */
    const char *xlsx = tmp_file("doctors.xlsx");
    assert_int_equal(
        export_as(&F.admin, (struct talent_filter){.education = "doctor"}, NULL, EXPORT_XLSX, xlsx),
        3);
    raw = tu_slurp(xlsx, &flen);
    assert_memory_equal(raw, "PK", 2);
    free(raw);
    size_t xlen;
    char *xml = unzip_all(xlsx, &xlen);
    for (int i = 0; i < 6; i++) {
        person(&p, 700 + i, NULL);
        char masked[40];
        snprintf(masked, sizeof masked, "310104********%.4s", p.id + 14);
        if (i % 2) {
            assert_non_null(memmem(xml, xlen, p.name, strlen(p.name)));
            assert_non_null(memmem(xml, xlen, masked, strlen(masked)));
        } else {
            assert_null(memmem(xml, xlen, p.name, strlen(p.name)));
        }
        assert_null(memmem(xml, xlen, p.id, 18));
        assert_null(memmem(xml, xlen, p.card, 16));
    }
    free(xml);
    d = last_audit("registry.export", NULL);
    assert_string_equal(jstr(d, "format"), "xlsx");
    json_decref(d);
    assert_int_equal(count_of("audit_log"), a0 + 2);
    /* A bad filter writes no audit row and says why. */
    ql_err err = {0};
    int64_t rows = 0;
    int rc = registry_export_talents(F.s, &F.admin, &(struct talent_filter){.education = "大专"},
                                     NULL, EXPORT_CSV, csv, &rows, &err);
    expect_err("bad filter", rc, &err, QL_EINVAL, "education");
    assert_int_equal(count_of("audit_log"), a0 + 2);
    /* Employers, filtered by industry. */
    rc = registry_export_employers(F.s, &F.admin,
                                   &(struct employer_filter){.industry = "life_health"}, EXPORT_CSV,
                                   csv, &rows, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(rows, 1);
    export_ids(csv, got, sizeof got);
    assert_string_equal(got, id_list(F.e2, 0, 0));
}

/* Names a spreadsheet would run as formulas are written as text. */
static void test_export_hostile_names(void **state)
{
    (void)state;
    static const char *const names[] = {"=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-3",
                                        "@SUM(A1)", "<script>alert(1)</script>"};
    struct person p;
    for (int i = 0; i < 5; i++) {
        person(&p, 850 + i, NULL);
        /* Such names are refused at input (but the first four may be stored
         * from before that rule, or come another way): the export must
         * neutralise them all the same. */
        p.in.name = names[i];
        reg_report rep = {0};
        ql_err err = {0};
        int64_t id = 0;
        int rc = registry_talent_create(F.s, &F.admin, &p.in, &id, &rep, &err);
        if (i == 4) {
            assert_int_equal(rc, 0);
            continue;
        }
        expect_err(names[i], rc, &err, QL_EINVAL, "name");
        assert_non_null(strstr(rep.errors.e[0].en, "formula"));
        p.in.name = "待改名";
        id = create_talent(&F.admin, &p.in);
        assert_int_equal(store_exec(F.s, "UPDATE talents SET name = $1 WHERE id = $2",
                                    (store_val[]){SV_TEXT(names[i]), SV_INT(id)}, 2, NULL),
                         0);
    }
    const char *csv = tmp_file("hostile.csv");
    assert_int_equal(
        export_as(&F.admin, (struct talent_filter){.sort = "id"}, NULL, EXPORT_CSV, csv), 5);
    int records;
    char *text = export_text(csv, &records);
    assert_int_equal(records, 6);
    assert_non_null(strstr(text, "|'=HYPERLINK(\"http://evil.example\",\"x\")|"));
    assert_non_null(strstr(text, "|'+1+2|"));
    assert_non_null(strstr(text, "|'-3|"));
    assert_non_null(strstr(text, "|'@SUM(A1)|"));
    assert_non_null(strstr(text, "|<script>alert(1)</script>|"));
    free(text);
    /* In .xlsx they are strings, never formulas. */
    const char *xlsx = tmp_file("hostile.xlsx");
    assert_int_equal(
        export_as(&F.admin, (struct talent_filter){.sort = "id"}, NULL, EXPORT_XLSX, xlsx), 5);
    size_t xlen;
    char *xml = unzip_all(xlsx, &xlen);
    assert_null(memmem(xml, xlen, "<f>", 3));
    assert_non_null(memmem(xml, xlen, "@SUM(A1)", 8));
    free(xml);
    /* And read back as stored. */
    int64_t total;
    json_t *rows = list_talents(&F.admin, (struct talent_filter){.sort = "id"}, &total);
    assert_string_equal(jstr(json_array_get(rows, 4), "name"), "<script>alert(1)</script>");
    json_decref(rows);
}

/* Names with characters that are not seen but change what is seen (bidi
 * overrides, zero-width characters), that end a line (U+2028, U+0085) or
 * that a spreadsheet runs (a leading =) are refused on every way in: the
 * forms' services, updates, CSV import, accounts; each error names the
 * field and the character, and nothing is stored. */
static void test_names_refused_everywhere(void **state)
{
    (void)state;
    static const struct {
        const char *name, *word;
    } bad[] = {
        {"张\xE2\x80\xAE三", "U+202E"},             /* RIGHT-TO-LEFT OVERRIDE */
        {"张\xE2\x80\x8B三", "U+200B"},             /* ZERO WIDTH SPACE */
        {"张三\xE2\x80\xA8李四", "U+2028"},         /* LINE SEPARATOR */
        {"张\xC2\x85三", "U+0085"},                 /* NEXT LINE (C1) */
        {"张\xE2\x81\xA6三\xE2\x81\xA9", "U+2066"}, /* LEFT-TO-RIGHT ISOLATE */
        {"=HYPERLINK(\"http://evil.example\",\"x\")", "formula"},
    };
    enum { NBAD = sizeof bad / sizeof bad[0] };
    char *before = snapshot();
    int64_t users = count_of("users"), operators = count_of("operators");
    struct person p;
    person(&p, 870, CODE1);
    for (size_t i = 0; i < NBAD; i++) {
        reg_report rep = {0};
        ql_err err = {0};
        int64_t id = 0;
        p.in.name = bad[i].name;
        int rc = registry_talent_create(F.s, &F.admin, &p.in, &id, &rep, &err);
        expect_err(bad[i].word, rc, &err, QL_EINVAL, "name");
        assert_int_equal(rep.errors.n, 1);
        expect_field(bad[i].word, &rep.errors, "name");
        if (!strstr(rep.errors.e[0].en, bad[i].word) || !strstr(rep.errors.e[0].zh, "name："))
            fail_msg("talent %s: %s / %s", bad[i].word, rep.errors.e[0].en, rep.errors.e[0].zh);

        char code[19];
        gen_credit(300 + (int)i, code);
        struct employer_input ein = {code, bad[i].name, "ai", "yes", "yes", "no"};
        memset(&rep, 0, sizeof rep);
        rc = registry_employer_create(F.s, &F.admin, &ein, &id, &rep, &err);
        expect_err(bad[i].word, rc, &err, QL_EINVAL, "name");
        assert_non_null(strstr(rep.errors.e[0].en, bad[i].word));

        struct operator_input oin = {"OP-X", bad[i].name, code, NULL, NULL};
        memset(&rep, 0, sizeof rep);
        rc = registry_operator_create(F.s, &F.admin, &oin, &id, &rep, &err);
        expect_err(bad[i].word, rc, &err, QL_EINVAL, "name");
        assert_non_null(strstr(rep.errors.e[0].en, bad[i].word));
        oin = (struct operator_input){"OP-X", "某住房租赁有限公司", code, bad[i].name, NULL};
        memset(&rep, 0, sizeof rep);
        rc = registry_operator_create(F.s, &F.admin, &oin, &id, &rep, &err);
        expect_err(bad[i].word, rc, &err, QL_EINVAL, "contact_name");

        struct user_input uin = {.username = "someone",
                                 .display_name = bad[i].name,
                                 .roles = RB(ROLE_AUDITOR),
                                 .scope = SCOPE_DISTRICT,
                                 .scope_id = ""};
        char temp[24];
        rc = account_user_create(F.s, &F.cli, &uin, &id, temp, &err);
        expect_err(bad[i].word, rc, &err, QL_EINVAL, "display_name");
        assert_non_null(strstr(err.en, bad[i].word));
    }
    expect_unchanged("refused names", before);
    free(before);
    /* a registered name may not become one */
    struct employer_input ok = {CODE1, "-某公司", "ai", "yes", "yes", "no"};
    reg_report rep = {0};
    ql_err err = {0};
    assert_int_equal(registry_employer_update(F.s, &F.admin, F.e1, &ok, &rep, &err), QL_EINVAL);
    expect_field("leading '-'", &rep.errors, "name");
    /* an update of a registered talent is checked the same way */
    p.in.name = "张三";
    int64_t tid = create_talent(&F.admin, &p.in);
    char *stored = snapshot();
    /* a registered name changes only by a reviewer's correction, which
     * refuses such a name the same way */
    struct identity_input idin = {.name = bad[0].name, .reason = "户籍信息更正"};
    int64_t correction = 0;
    memset(&rep, 0, sizeof rep);
    int rc = identity_correct(F.s, &F.reviewer, tid, &idin, &correction, &rep, &err);
    expect_err("correction", rc, &err, QL_EINVAL, "name");
    p.in.category = "光启\xE2\x80\x8D人才"; /* free text refuses them too */
    memset(&rep, 0, sizeof rep);
    rc = registry_talent_update(F.s, &F.admin, tid, &p.in, &rep, &err);
    expect_err("category", rc, &err, QL_EINVAL, "category");
    assert_non_null(strstr(rep.errors.e[0].en, "U+200D"));
    expect_unchanged("refused updates", stored);
    free(stored);

    /* CSV import: every such row is bad, its column and field named, and a
     * file with them stores nothing, committed or not */
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, TALENT_HEADER);
    for (int i = 0; i < NBAD; i++) {
        struct person q;
        person(&q, 880 + i, NULL);
        if (bad[i].name[0] == '=')
            buf_printf(&b, "\"%s\"", "=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")");
        else
            buf_puts(&b, bad[i].name);
        buf_printf(&b, ",%s,,硕士,,,,,,,否,\r\n", q.id);
    }
    csv_row(&b, 890, CODE1); /* a good row: not stored either */
    const char *path = tmp_file("names.csv");
    write_bytes(path, b.data, b.len);
    buf_free(&b);
    stored = snapshot();
    for (int commit = 0; commit <= 1; commit++) {
        struct import_report ir;
        import_file(&F.admin, IMPORT_TALENTS, path, commit, &ir);
        assert_int_equal(ir.rows, NBAD + 1);
        assert_int_equal(ir.bad_rows, NBAD);
        assert_int_equal(ir.imported, 0);
        for (int i = 0; i < NBAD; i++)
            expect_problem(&ir, (size_t)i, 2 + i, "姓名", "name", bad[i].word);
        import_report_free(&ir);
        expect_unchanged("names in a CSV file", stored);
    }
    free(stored);
    /* employers' names too */
    char c6[19];
    gen_credit(6, c6);
    char file[512];
    snprintf(file, sizeof file,
             "统一社会信用代码,单位名称,行业\r\n%s,某\xE2\x80\xAE公司,人工智能\r\n", c6);
    path = tmp_file("employer-names.csv");
    write_bytes(path, file, strlen(file));
    struct import_report ir;
    import_file(&F.admin, IMPORT_EMPLOYERS, path, 1, &ir);
    assert_int_equal(ir.bad_rows, 1);
    expect_problem(&ir, 0, 2, "单位名称", "name", "U+202E");
    import_report_free(&ir);

    assert_int_equal(count_of("users"), users);
    assert_int_equal(count_of("operators"), operators);
}

static void test_export_unmasked(void **state)
{
    (void)state;
    struct person p;
    person(&p, 800, CODE1);
    create_talent(&F.admin, &p.in);
    const char *path = tmp_file("unmasked.csv");
    char *before = snapshot();
    struct {
        const char *what;
        const actor *a;
        const char *reason;
        int code;
        const char *field;
    } bad[] = {
        {"no reason", &F.reviewer, NULL, QL_EINVAL, "reason"},
        {"short reason", &F.reviewer, "查", QL_EINVAL, "reason"},
        {"no permission", &F.admin, "年度核查", QL_EFORBIDDEN, NULL},
        {"HR", &F.hr1, "年度核查", QL_EFORBIDDEN, NULL},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ql_err err = {0};
        int64_t rows = 0;
        unlink(path);
        int rc = registry_export_talents(F.s, bad[k].a, &(struct talent_filter){.unmask = 1},
                                         bad[k].reason, EXPORT_CSV, path, &rows, &err);
        expect_err(bad[k].what, rc, &err, bad[k].code, bad[k].field);
        assert_int_equal(access(path, F_OK), -1); /* no file written */
    }
    expect_unchanged("refused exports", before);
    free(before);
    assert_int_equal(export_as(&F.reviewer, (struct talent_filter){.unmask = 1}, "  年度核查 ",
                               EXPORT_CSV, path),
                     1);
    int records;
    char *text = export_text(path, &records);
    assert_non_null(strstr(text, p.id));
    assert_non_null(strstr(text, p.phone));
    assert_non_null(strstr(text, p.card));
    free(text);
    json_t *d = last_audit("registry.export_unmasked", NULL);
    assert_true(json_is_true(json_object_get(d, "unmasked")));
    assert_string_equal(jstr(d, "reason"), "年度核查");
    assert_int_equal(json_integer_value(json_object_get(d, "rows")), 1);
    char *dt = json_dumps(d, 0);
    assert_null(strstr(dt, p.id));
    free(dt);
    json_decref(d);
    assert_int_equal(audit_count("registry.export"), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_generators_valid),
        T(test_employer_create_get_update),
        T(test_employer_invalid),
        T(test_employer_list),
        T(test_talent_create_get),
        T(test_talent_invalid_all_at_once),
        T(test_talent_luhn_warning),
        T(test_talent_duplicate),
        T(test_talent_employer_change),
        T(test_talent_list_filters),
        T(test_talent_list_18_digit_card),
        T(test_talent_unmask),
        T(test_each_stops),
        T(test_hr_scope_everywhere),
        T(test_talent_self_scope),
        T(test_no_plaintext_in_database),
        T(test_import_10000),
        T(test_import_gbk),
        T(test_import_encodings_and_headers),
        T(test_import_problems),
        T(test_import_bad_files),
        T(test_import_employers),
        T(test_export_filtered),
        T(test_export_hostile_names),
        T(test_names_refused_everywhere),
        T(test_export_unmasked),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "registry (postgres)" : "registry (sqlite)",
                                       tests, group_setup, group_teardown);
}
