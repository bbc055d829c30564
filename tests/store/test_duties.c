/* test_duties.c - separation of duties (三员分立 and four eyes on money),
 * sign-in throttling per address and per known device, the password
 * history, the sign-in form's token and the modes of the files the server
 * creates; on SQLite and (with QL_TEST_PG) PostgreSQL. */
#include "testutil.h"

#include "account/account.h"
#include "audit/audit.h"
#include "auth/perm.h"
#include "auth/session.h"
#include "core/buf.h"
#include "core/config.h"
#include "store/store.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RB(r) (1u << (r))
#define PW    "Tr4vel-Blue-Kite"
#define IP_A  "203.0.113.9"
#define IP_B  "198.51.100.20"

static ql_config cfg;
static int nkeys;
static char keys_dir[512];

static struct fx {
    store *s;
    actor cli, admin, admin2, sec;
    char url[600];
    int64_t admin_id, admin2_id, sec_id;
} F;

/* ---- helpers ------------------------------------------------------------ */

static int64_t qint(const char *sql, const store_val *args, int nargs)
{
    int64_t v = -1;
    int rc = store_query_int(F.s, sql, args, nargs, &v);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(F.s));
    return v;
}

static void qtext(const char *sql, const store_val *args, int nargs, char *out, size_t n)
{
    store_rows *r;
    if (store_query(F.s, sql, args, nargs, &r)) fail_msg("%s: %s", sql, store_errmsg(F.s));
    if (store_step(r) != 1) fail_msg("%s: no row", sql);
    snprintf(out, n, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
}

/* The last audit row's action and detail. */
static void last_audit(char action[64], char detail[2048])
{
    store_rows *r;
    if (store_query(F.s, "SELECT action, detail FROM audit_log ORDER BY seq DESC LIMIT 1", NULL, 0,
                    &r))
        fail_msg("audit: %s", store_errmsg(F.s));
    if (store_step(r) != 1) fail_msg("audit_log is empty");
    snprintf(action, 64, "%s", store_col_text(r, 0, NULL));
    snprintf(detail, 2048, "%s", store_col_text(r, 1, NULL));
    store_rows_close(r);
}

static void expect_audit(const char *action, const char *const *words)
{
    char a[64], d[2048];
    last_audit(a, d);
    if (strcmp(a, action)) fail_msg("last audit row is %s, expected %s (%s)", a, action, d);
    for (; *words; words++)
        if (!strstr(d, *words)) fail_msg("%s: detail %s lacks %s", action, d, *words);
}

/* Every row of the tables a refused change must not touch, as text. */
static char *snapshot(void)
{
    static const char *const from[] = {
        "users ORDER BY id",    "user_roles ORDER BY user_id, role", "role_requests ORDER BY id",
        "sessions ORDER BY id", "signin_throttle ORDER BY key",      "audit_log ORDER BY seq"};
    buf b;
    buf_init(&b, 0);
    for (size_t t = 0; t < sizeof from / sizeof from[0]; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", from[t]);
        store_rows *r;
        if (store_query(F.s, sql, NULL, 0, &r)) fail_msg("%s: %s", sql, store_errmsg(F.s));
        buf_printf(&b, "[%s]\n", from[t]);
        while (store_step(r) == 1) {
            for (int c = 0; c < store_ncols(r); c++) {
                buf_puts(&b, store_col_isnull(r, c) ? "NULL" : store_col_text(r, c, NULL));
                buf_putc(&b, '|');
            }
            buf_putc(&b, '\n');
        }
        store_rows_close(r);
    }
    return buf_steal(&b);
}

static void expect_unchanged(const char *what, char *before)
{
    char *now = snapshot();
    int same = strcmp(now, before) == 0;
    free(now);
    free(before);
    if (!same) fail_msg("%s: the stored data changed", what);
}

/* rc must be code and err name field (unless NULL), in both languages. */
static void expect_err(const char *what, int rc, const ql_err *err, int code, const char *field)
{
    if (rc != code)
        fail_msg("%s: returned %d, expected %d (%s: %s)", what, rc, code, err->field, err->en);
    if (field && strcmp(err->field, field))
        fail_msg("%s: field '%s', expected '%s' (%s)", what, err->field, field, err->en);
    if (!err->en[0] || !err->zh[0]) fail_msg("%s: a message is missing", what);
}

static int64_t make(const actor *a, const char *username, unsigned roles)
{
    struct user_input in = {username, username, roles, SCOPE_DISTRICT, "", PW, 1};
    int64_t id = 0;
    char temp[24];
    ql_err err = {0};
    int rc = account_user_create(F.s, a, &in, &id, temp, &err);
    if (rc) fail_msg("create %s: %d %s", username, rc, err.en);
    return id;
}

static int signin(const char *username, const char *pw, const char *ip, const char *device,
                  struct signin_result *out, ql_err *err)
{
    memset(err, 0, sizeof *err);
    return account_signin(F.s, username, pw, ip, "test-agent", device, "req", out, err);
}

static void signed_in(const char *username, actor *a, struct signin_result *r)
{
    struct signin_result tmp;
    if (!r) r = &tmp;
    ql_err err;
    int rc = signin(username, PW, IP_B, NULL, r, &err);
    if (rc) fail_msg("sign-in %s: %d %s", username, rc, err.en);
    memset(a, 0, sizeof *a);
    rc = session_actor(F.s, r->token, account_session_limits(), auth_now(), a);
    if (rc) fail_msg("session %s: %d", username, rc);
}

static unsigned roles_of(int64_t id)
{
    actor a;
    memset(&a, 0, sizeof a);
    if (auth_load_user(F.s, id, &a, NULL)) fail_msg("no user %" PRId64, id);
    return a.roles;
}

static int64_t pending_count(int64_t id)
{
    return qint("SELECT count(*) FROM role_requests WHERE user_id = $1 AND state = 'pending'",
                (store_val[]){SV_INT(id)}, 1);
}

/* The id of the pending request of account id for role. */
static int64_t request_of(int64_t id, const char *role)
{
    return qint("SELECT id FROM role_requests WHERE user_id = $1 AND role = $2 AND "
                "state = 'pending'",
                (store_val[]){SV_INT(id), SV_TEXT(role)}, 2);
}

/* A window clerk made by an administrator, the grant confirmed by the
 * security administrator (a window clerk's grant waits, as a duty role's). */
static int64_t make_clerk(const char *username)
{
    int64_t id = make(&F.admin, username, RB(ROLE_WINDOW_CLERK));
    ql_err err = {0};
    if (account_role_decide(F.s, &F.sec, request_of(id, "window_clerk"), 1, &err))
        fail_msg("confirm %s: %s", username, err.en);
    return id;
}

/* ---- fixture ------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    ql_err err = {0};
    config_defaults(&cfg);
    if (config_set(&cfg, "security", "password_hash", "min", "test", &err)) return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    config_free(&cfg);
    return 0;
}

/* A person in the registry with the talent number id (the least a row
 * holds: accounts are bound only to people the registry has). */
static void person_in_registry(int64_t id)
{
    char index[32];
    snprintf(index, sizeof index, "test-%" PRId64, id);
    static const unsigned char sealed[] = {0};
    assert_int_equal(store_exec(F.s,
                                "INSERT INTO talents (id, name, id_enc, id_index, id_masked, "
                                "id_kind, birth_date, sex, education, created_at, updated_at) "
                                "VALUES ($1, '测试人', $2, $3, '', 'resident', 0, 'f', 'other', "
                                "0, 0)",
                                (store_val[]){SV_INT(id), SV_BLOB(sealed, sizeof sealed),
                                              SV_TEXT(index)},
                                3, NULL),
                     0);
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
    snprintf(keys_dir, sizeof keys_dir, "%s/keys-%d", tu_tmpdir(), ++nkeys);
    if (audit_init(keys_dir, "blake2b", &err)) {
        print_error("audit_init: %s\n", err.en);
        return -1;
    }
    cfg.lockout_address_after = 30;
    account_init(&cfg);
    for (int64_t id = 42; id <= 45; id++) person_in_registry(id);
    person_in_registry(77);
    actor_cli(&F.cli);
    /* the command line appoints the officers: two system administrators and
     * the first security administrator, at once */
    F.admin_id = make(&F.cli, "admin", RB(ROLE_ADMIN));
    F.admin2_id = make(&F.cli, "admin2", RB(ROLE_ADMIN));
    F.sec_id = make(&F.cli, "sec", RB(ROLE_SECURITY_ADMIN));
    signed_in("admin", &F.admin, NULL);
    signed_in("admin2", &F.admin2, NULL);
    signed_in("sec", &F.sec, NULL);
    return 0;
}

static int fx_teardown(void **state)
{
    (void)state;
    audit_report rep;
    ql_err err = {0};
    int rc = audit_verify(F.s, &rep, &err);
    store_close(F.s);
    F.s = NULL;
    if (rc || !rep.ok) {
        print_error("audit chain: %d %s %s\n", rc, err.en, rep.reason_en);
        return -1;
    }
    return 0;
}

/* ---- 1. one duty role to an account -------------------------------------- */

static void test_duty_roles_are_exclusive(void **state)
{
    (void)state;
    static const enum role duties[] = {ROLE_ADMIN, ROLE_SECURITY_ADMIN, ROLE_AUDITOR, ROLE_FINANCE,
                                       ROLE_REVIEWER};
    int64_t x = make_clerk("x.one");
    for (size_t i = 0; i < 5; i++)
        for (size_t j = i + 1; j < 5; j++) {
            unsigned both = RB(duties[i]) | RB(duties[j]);
            char what[96];
            snprintf(what, sizeof what, "%s with %s", role_name(duties[i]), role_name(duties[j]));
            char *before = snapshot();
            struct user_input in = {"two.hats", "两顶帽子", both, SCOPE_DISTRICT, "", PW, 1};
            int64_t id = -7;
            char temp[24];
            ql_err err = {0};
            /* neither created so, by anybody (not even the command line)... */
            expect_err(what, account_user_create(F.s, &F.cli, &in, &id, temp, &err), &err,
                       QL_EINVAL, "roles");
            assert_non_null(strstr(err.en, "separation of duties"));
            assert_non_null(strstr(err.zh, "职责分离"));
            /* ...nor changed to, even by the security administrator */
            memset(&err, 0, sizeof err);
            expect_err(what,
                       account_user_set_roles(F.s, &F.sec, x, both, SCOPE_DISTRICT, "", NULL, &err),
                       &err, QL_EINVAL, "roles");
            expect_unchanged(what, before);
        }
    /* a duty role beside roles that are no duty is fine */
    int64_t y = make(&F.admin, "clerk.rev", RB(ROLE_WINDOW_CLERK) | RB(ROLE_REVIEWER));
    assert_int_equal(roles_of(y), 0); /* both wait for a second person */
    assert_int_equal(pending_count(y), 2);
    /* the schema keeps it too: a second duty role written past the service */
    assert_int_not_equal(store_exec(F.s,
                                    "INSERT INTO user_roles (user_id, role) VALUES ($1, 'finance')",
                                    (store_val[]){SV_INT(F.admin_id)}, 1, NULL),
                         0);
    assert_int_equal(roles_of(F.admin_id), RB(ROLE_ADMIN));
}

/* ---- 2. four eyes on a system administrator's grants ---------------------- */

static void test_admin_grant_waits_for_a_second_person(void **state)
{
    (void)state;
    int64_t fin = make(&F.admin, "fin.one", RB(ROLE_FINANCE));
    /* created without the role: it waits, and the audit row says so */
    assert_int_equal(roles_of(fin), 0);
    assert_int_equal(pending_count(fin), 1);
    expect_audit("user.create",
                 (const char *[]){"\"roles_requested\":[\"finance\"]", "\"roles_granted\":[]",
                                  "\"scope\":\"district\"", NULL});
    actor f;
    signed_in("fin.one", &f, NULL);
    assert_false(actor_can(&f, P_LEDGER_APPROVE));
    json_t *u;
    ql_err err = {0};
    assert_int_equal(account_user_get(F.s, &F.admin, fin, &u, &err), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(u, "pending_roles"), 0)),
                        "finance");
    assert_int_equal(json_array_size(json_object_get(u, "roles")), 0);
    json_decref(u);

    /* who may confirm it, as the list says */
    json_t *rows;
    assert_int_equal(account_role_requests(F.s, &F.admin, 0, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    assert_true(json_is_false(json_object_get(json_array_get(rows, 0), "may_confirm")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "requested_by")),
                        "admin");
    json_decref(rows);
    assert_int_equal(account_role_requests(F.s, &F.admin2, 0, &rows, &err), 0);
    assert_true(json_is_true(json_object_get(json_array_get(rows, 0), "may_confirm")));
    json_decref(rows);

    int64_t req = request_of(fin, "finance");
    /* not the one who asked, not through a token of theirs, not the account
     * itself, not a role without role.grant, not the command line alone */
    actor admin_token = F.admin;
    admin_token.via = VIA_TOKEN;
    admin_token.token_id = 9;
    actor renamed = F.admin; /* the same account under another label */
    snprintf(renamed.username, sizeof renamed.username, "someone.else");
    const struct {
        const char *what;
        const actor *who;
        int code;
    } refused[] = {
        {"the one who asked", &F.admin, QL_EFORBIDDEN},
        {"the same account renamed", &renamed, QL_EFORBIDDEN},
        {"an API token", &admin_token, QL_EFORBIDDEN},
        {"the account itself", &f, QL_EFORBIDDEN},
        {"the command line", &F.cli, QL_EFORBIDDEN},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char *before = snapshot();
        memset(&err, 0, sizeof err);
        expect_err(refused[i].what, account_role_decide(F.s, refused[i].who, req, 1, &err), &err,
                   refused[i].code, NULL);
        expect_unchanged(refused[i].what, before);
    }
    assert_non_null(strstr(err.en, "command line is no second person"));

    /* a second administrator confirms: the role is in effect, audited with
     * who asked and what was granted */
    memset(&err, 0, sizeof err);
    assert_int_equal(account_role_decide(F.s, &F.admin2, req, 1, &err), 0);
    assert_int_equal(roles_of(fin), RB(ROLE_FINANCE));
    assert_int_equal(pending_count(fin), 0);
    expect_audit("user.role_confirm",
                 (const char *[]){"\"roles_granted\":[\"finance\"]", "\"requested_by\":\"admin\"",
                                  "\"roles_removed\":[]", "\"scope\":\"district\"", NULL});
    char by[64];
    qtext("SELECT decided_by FROM role_requests WHERE id = $1", (store_val[]){SV_INT(req)}, 1, by,
          sizeof by);
    assert_string_equal(by, "admin2");
    signed_in("fin.one", &f, NULL);
    assert_true(actor_can(&f, P_LEDGER_APPROVE));
    /* once only */
    memset(&err, 0, sizeof err);
    expect_err("again", account_role_decide(F.s, &F.sec, req, 1, &err), &err, QL_ENOTFOUND, "id");
}

static void test_security_admin_grants_at_once(void **state)
{
    (void)state;
    int64_t x = make_clerk("chen.er");
    struct role_change ch;
    ql_err err = {0};
    assert_int_equal(account_user_set_roles(F.s, &F.sec, x, RB(ROLE_REVIEWER), SCOPE_DEPARTMENT,
                                            "RSJ-01", &ch, &err),
                     0);
    assert_int_equal(ch.granted, RB(ROLE_REVIEWER));
    assert_int_equal(ch.removed, RB(ROLE_WINDOW_CLERK));
    assert_int_equal(ch.requested, 0);
    assert_int_equal(roles_of(x), RB(ROLE_REVIEWER));
    expect_audit("user.roles",
                 (const char *[]){"\"roles_granted\":[\"reviewer\"]",
                                  "\"roles_removed\":[\"window_clerk\"]",
                                  "\"scope_before\":\"district\"", "\"scope_after\":\"department\"",
                                  "\"scope_id_after\":\"RSJ-01\"", NULL});
    /* it grants the officers' roles too, at once */
    int64_t y = make(&F.admin, "zhou.san", RB(ROLE_LEADERSHIP));
    assert_int_equal(
        account_user_set_roles(F.s, &F.sec, y, RB(ROLE_ADMIN), SCOPE_DISTRICT, "", &ch, &err), 0);
    assert_int_equal(roles_of(y), RB(ROLE_ADMIN));
    actor auditor;
    make(&F.cli, "aud.one", RB(ROLE_AUDITOR));
    signed_in("aud.one", &auditor, NULL);
    /* nobody changes their own roles; it makes no accounts */
    char *before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("own roles",
               account_user_set_roles(F.s, &F.sec, F.sec_id,
                                      RB(ROLE_SECURITY_ADMIN) | RB(ROLE_LEADERSHIP), SCOPE_DISTRICT,
                                      "", NULL, &err),
               &err, QL_EFORBIDDEN, "roles");
    memset(&err, 0, sizeof err);
    expect_err("admin's own roles",
               account_user_set_roles(F.s, &F.admin, F.admin_id, RB(ROLE_LEADERSHIP),
                                      SCOPE_DISTRICT, "", NULL, &err),
               &err, QL_EFORBIDDEN, "roles");
    struct user_input in = {"new.one", "新人", RB(ROLE_LEADERSHIP), SCOPE_DISTRICT, "", PW, 1};
    int64_t id;
    char temp[24];
    memset(&err, 0, sizeof err);
    expect_err("security admin creates", account_user_create(F.s, &F.sec, &in, &id, temp, &err),
               &err, QL_EFORBIDDEN, NULL);
    /* nor does anyone without role.grant change roles */
    memset(&err, 0, sizeof err);
    expect_err("auditor",
               account_user_set_roles(F.s, &auditor, x, RB(ROLE_LEADERSHIP), SCOPE_DISTRICT, "",
                                      NULL, &err),
               &err, QL_EFORBIDDEN, NULL);
    assert_non_null(strstr(err.en, "role.grant"));
    expect_unchanged("refused role changes", before);
}

static void test_set_roles_requests_and_withdraws(void **state)
{
    (void)state;
    int64_t x = make_clerk("li.si");
    struct role_change ch;
    ql_err err = {0};
    /* an administrator adds reviewer: asked for, not granted */
    assert_int_equal(account_user_set_roles(F.s, &F.admin, x,
                                            RB(ROLE_WINDOW_CLERK) | RB(ROLE_REVIEWER),
                                            SCOPE_DISTRICT, "", &ch, &err),
                     0);
    assert_int_equal(ch.requested, RB(ROLE_REVIEWER));
    assert_int_equal(ch.granted, 0);
    assert_int_equal(roles_of(x), RB(ROLE_WINDOW_CLERK));
    expect_audit("user.roles", (const char *[]){"\"roles_requested\":[\"reviewer\"]",
                                                "\"roles_granted\":[]", NULL});
    /* the same again changes nothing and writes nothing */
    int64_t rows = qint("SELECT count(*) FROM audit_log", NULL, 0);
    assert_int_equal(account_user_set_roles(F.s, &F.admin, x,
                                            RB(ROLE_WINDOW_CLERK) | RB(ROLE_REVIEWER),
                                            SCOPE_DISTRICT, "", &ch, &err),
                     0);
    assert_int_equal(ch.requested | ch.granted | ch.removed | ch.withdrawn, 0);
    assert_int_equal(qint("SELECT count(*) FROM audit_log", NULL, 0), rows);
    assert_int_equal(pending_count(x), 1);
    /* left out again: the request is withdrawn; a role removed goes at once */
    assert_int_equal(account_user_set_roles(F.s, &F.admin, x, RB(ROLE_LEADERSHIP), SCOPE_DISTRICT,
                                            "", &ch, &err),
                     0);
    assert_int_equal(ch.withdrawn, RB(ROLE_REVIEWER));
    assert_int_equal(ch.removed, RB(ROLE_WINDOW_CLERK));
    assert_int_equal(ch.granted, RB(ROLE_LEADERSHIP));
    assert_int_equal(roles_of(x), RB(ROLE_LEADERSHIP));
    assert_int_equal(pending_count(x), 0);
    expect_audit("user.roles", (const char *[]){"\"requests_withdrawn\":[\"reviewer\"]",
                                                "\"roles_removed\":[\"window_clerk\"]", NULL});
    /* a pending grant that the security administrator then sets settles it */
    assert_int_equal(
        account_user_set_roles(F.s, &F.admin, x, RB(ROLE_FINANCE), SCOPE_DISTRICT, "", &ch, &err),
        0);
    int64_t req = request_of(x, "finance");
    assert_int_equal(
        account_user_set_roles(F.s, &F.sec, x, RB(ROLE_FINANCE), SCOPE_DISTRICT, "", &ch, &err), 0);
    assert_int_equal(ch.granted, RB(ROLE_FINANCE));
    assert_int_equal(roles_of(x), RB(ROLE_FINANCE));
    char state_s[16];
    qtext("SELECT state FROM role_requests WHERE id = $1", (store_val[]){SV_INT(req)}, 1, state_s,
          sizeof state_s);
    assert_string_equal(state_s, "confirmed");
    /* refusing, and withdrawing one's own request */
    int64_t y = make(&F.admin, "wang.wu", RB(ROLE_AUDITOR));
    int64_t r1 = request_of(y, "auditor");
    assert_int_equal(account_role_decide(F.s, &F.admin, r1, 0, &err), 0);
    qtext("SELECT state FROM role_requests WHERE id = $1", (store_val[]){SV_INT(r1)}, 1, state_s,
          sizeof state_s);
    assert_string_equal(state_s, "withdrawn");
    expect_audit("user.role_refuse", (const char *[]){"\"roles_refused\":[\"auditor\"]", NULL});
    assert_int_equal(
        account_user_set_roles(F.s, &F.admin, y, RB(ROLE_AUDITOR), SCOPE_DISTRICT, "", &ch, &err),
        0);
    int64_t r2 = request_of(y, "auditor");
    assert_int_equal(account_role_decide(F.s, &F.admin2, r2, 0, &err), 0);
    qtext("SELECT state FROM role_requests WHERE id = $1", (store_val[]){SV_INT(r2)}, 1, state_s,
          sizeof state_s);
    assert_string_equal(state_s, "refused");
    assert_int_equal(roles_of(y), 0);
    /* a confirmation that no longer fits: the account took another duty meanwhile */
    assert_int_equal(
        account_user_set_roles(F.s, &F.admin, y, RB(ROLE_AUDITOR), SCOPE_DISTRICT, "", &ch, &err),
        0);
    int64_t r3 = request_of(y, "auditor");
    assert_int_equal(store_exec(F.s,
                                "INSERT INTO user_roles (user_id, role) VALUES ($1, 'reviewer')",
                                (store_val[]){SV_INT(y)}, 1, NULL),
                     0);
    char *before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("no longer fits", account_role_decide(F.s, &F.sec, r3, 1, &err), &err, QL_ECONFLICT,
               "roles");
    expect_unchanged("no longer fits", before);
    /* bad input changes nothing */
    before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("unknown account",
               account_user_set_roles(F.s, &F.sec, 999999, RB(ROLE_LEADERSHIP), SCOPE_DISTRICT, "",
                                      NULL, &err),
               &err, QL_ENOTFOUND, "id");
    memset(&err, 0, sizeof err);
    expect_err("no roles",
               account_user_set_roles(F.s, &F.sec, x, 0, SCOPE_DISTRICT, "", NULL, &err), &err,
               QL_EINVAL, "roles");
    memset(&err, 0, sizeof err);
    expect_err("employer without its scope",
               account_user_set_roles(F.s, &F.sec, x, RB(ROLE_EMPLOYER_HR), SCOPE_DISTRICT, "",
                                      NULL, &err),
               &err, QL_EINVAL, "scope");
    memset(&err, 0, sizeof err);
    expect_err("unknown request", account_role_decide(F.s, &F.sec, 999999, 1, &err), &err,
               QL_ENOTFOUND, "id");
    expect_unchanged("bad input", before);
}

/* The command line sets the system up (officers at once, the first security
 * administrator at once) but its grants of money roles wait for a security
 * administrator, who confirms signed in on the command line too. */
static void test_command_line_grants(void **state)
{
    (void)state;
    int64_t aud = make(&F.cli, "aud.two", RB(ROLE_AUDITOR));
    assert_int_equal(roles_of(aud), RB(ROLE_AUDITOR));
    int64_t sec2 = make(&F.cli, "sec.two", RB(ROLE_SECURITY_ADMIN));
    assert_int_equal(roles_of(sec2), 0); /* a security administrator exists already */
    int64_t fin = make(&F.cli, "fin.cli", RB(ROLE_FINANCE));
    int64_t rev = make(&F.cli, "rev.cli", RB(ROLE_REVIEWER));
    assert_int_equal(roles_of(fin) | roles_of(rev), 0);
    char by[64];
    qtext("SELECT requested_by FROM role_requests WHERE user_id = $1", (store_val[]){SV_INT(fin)},
          1, by, sizeof by);
    assert_string_equal(by, F.cli.username);
    /* an administrator is no second person for the command line */
    ql_err err = {0};
    char *before = snapshot();
    expect_err("admin for the cli",
               account_role_decide(F.s, &F.admin, request_of(fin, "finance"), 1, &err), &err,
               QL_EFORBIDDEN, NULL);
    assert_non_null(strstr(err.en, "security administrator"));
    expect_unchanged("admin for the cli", before);

    /* signed in on the command line as sec: a wrong password is counted and
     * audited like any sign-in */
    actor as;
    memset(&err, 0, sizeof err);
    expect_err("wrong password",
               account_signin_cli(F.s, "sec", "Wrong#Pass-123", &F.cli, &as, &err), &err,
               QL_EUNAUTH, "password");
    assert_int_equal(
        qint("SELECT failed_signins FROM users WHERE id = $1", (store_val[]){SV_INT(F.sec_id)}, 1),
        1);
    assert_int_equal(as.user_id, 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(account_signin_cli(F.s, "sec", PW, &F.cli, &as, &err), 0);
    assert_int_equal(as.user_id, F.sec_id);
    assert_int_equal(as.via, VIA_CLI);
    assert_true(actor_can(&as, P_ROLE_CONFIRM));
    assert_false(actor_can(&as, P_USER_MANAGE)); /* its own permissions, not the command line's */
    expect_audit("auth.signin", (const char *[]){"\"via\":\"cli:", NULL});
    assert_int_equal(account_role_decide(F.s, &as, request_of(fin, "finance"), 1, &err), 0);
    assert_int_equal(account_role_decide(F.s, &as, request_of(rev, "reviewer"), 1, &err), 0);
    assert_int_equal(account_role_decide(F.s, &as, request_of(sec2, "security_admin"), 1, &err), 0);
    assert_int_equal(roles_of(fin), RB(ROLE_FINANCE));
    assert_int_equal(roles_of(sec2), RB(ROLE_SECURITY_ADMIN));
    expect_audit("user.role_confirm", (const char *[]){"\"requested_by\":\"cli:", NULL});
    /* an account that has not chosen its password yet does not act there */
    struct user_input in = {"fresh.sec", "新", RB(ROLE_LEADERSHIP), SCOPE_DISTRICT, "", PW, 0};
    int64_t id;
    char temp[24];
    assert_int_equal(account_user_create(F.s, &F.cli, &in, &id, temp, &err), 0);
    memset(&err, 0, sizeof err);
    expect_err("must change", account_signin_cli(F.s, "fresh.sec", PW, &F.cli, &as, &err), &err,
               QL_EFORBIDDEN, "password");
    memset(&err, 0, sizeof err);
    expect_err("unknown", account_signin_cli(F.s, "nobody.here", PW, &F.cli, &as, &err), &err,
               QL_EUNAUTH, "password");
}

/* Whoever resets a password can sign in as the account: an administrator
 * does not reset one with a duty role (the command line does). */
static void test_reset_of_duty_accounts(void **state)
{
    (void)state;
    int64_t rev = make(&F.cli, "rev.reset", RB(ROLE_REVIEWER));
    ql_err err = {0};
    assert_int_equal(account_role_decide(F.s, &F.sec, request_of(rev, "reviewer"), 1, &err), 0);
    const int64_t duty[] = {rev, F.admin2_id, F.sec_id};
    for (size_t i = 0; i < 3; i++) {
        char *before = snapshot();
        char temp[24] = "x";
        memset(&err, 0, sizeof err);
        expect_err("admin resets a duty account",
                   account_user_reset_password(F.s, &F.admin, duty[i], temp, &err), &err,
                   QL_EFORBIDDEN, "id");
        assert_string_equal(temp, "");
        assert_non_null(strstr(err.en, "command line"));
        expect_unchanged("admin resets a duty account", before);
    }
    char temp[24];
    assert_int_equal(account_user_reset_password(F.s, &F.cli, rev, temp, &err), 0);
    assert_int_equal(strlen(temp), 16);
    expect_audit("user.password_reset",
                 (const char *[]){"\"roles\":[\"reviewer\"]", "\"roles_granted\":[]",
                                  "\"roles_removed\":[]", "\"scope\":\"district\"", NULL});
    /* a window clerk's too (a second clerk confirms a card change: an
     * administrator who could reset both would be both) */
    int64_t clerk = make_clerk("clerk.reset");
    memset(&err, 0, sizeof err);
    expect_err("admin resets a window clerk",
               account_user_reset_password(F.s, &F.admin, clerk, temp, &err), &err, QL_EFORBIDDEN,
               "id");
    /* an account of no such role is reset by an administrator */
    int64_t lead = make(&F.admin, "lead.reset", RB(ROLE_LEADERSHIP));
    assert_int_equal(account_user_reset_password(F.s, &F.admin, lead, temp, &err), 0);
}

/* ---- 2b. one account per person --------------------------------------------- */

/* account_user_create of a personal account (scope self:person) by a. */
static int make_person(const actor *a, const char *username, const char *person, int64_t *id,
                       ql_err *err)
{
    struct user_input in = {username, username, RB(ROLE_TALENT), SCOPE_SELF, person, PW, 1};
    char temp[24];
    memset(err, 0, sizeof *err);
    return account_user_create(F.s, a, &in, id, temp, err);
}

/* An account bound to a person waits for a second party, as a duty role
 * does; no second account is bound to the same person, by the service or
 * past it. */
static void test_one_account_per_person(void **state)
{
    (void)state;
    ql_err err = {0};
    int64_t p1 = 0;
    /* made by an administrator: bound, but the binding waits */
    assert_int_equal(make_person(&F.admin, "person.one", "42", &p1, &err), 0);
    assert_int_equal(roles_of(p1), 0);
    assert_int_equal(pending_count(p1), 1);
    expect_audit("user.create", (const char *[]){"\"roles_requested\":[\"talent\"]",
                                                 "\"roles_granted\":[]", "\"scope_id\":\"42\"",
                                                 NULL});
    actor p;
    signed_in("person.one", &p, NULL);
    assert_false(actor_can(&p, P_SUBSIDY_APPLY));
    assert_false(actor_can(&p, P_REGISTRY_READ));
    /* a second account for the same person: refused, by anybody, before
     * or after the first is confirmed */
    int64_t x = make(&F.admin, "x.person", RB(ROLE_LEADERSHIP));
    for (int round = 0; round < 2; round++) {
        char *before = snapshot();
        int64_t id = -7;
        expect_err("second account", make_person(&F.admin, "person.two", "42", &id, &err), &err,
                   QL_ECONFLICT, "scope_id");
        assert_non_null(strstr(err.en, "one account per person"));
        assert_non_null(strstr(err.zh, "每人只能有一个账户"));
        expect_err("second account, command line",
                   make_person(&F.cli, "person.two", "42", &id, &err), &err, QL_ECONFLICT,
                   "scope_id");
        memset(&err, 0, sizeof err);
        expect_err("rebound to the person",
                   account_user_set_roles(F.s, &F.sec, x, RB(ROLE_TALENT), SCOPE_SELF, "42", NULL,
                                          &err),
                   &err, QL_ECONFLICT, "scope_id");
        expect_unchanged("second account", before);
        if (round == 0) {
            /* not the one who asked; another administrator confirms */
            memset(&err, 0, sizeof err);
            expect_err("asker confirms",
                       account_role_decide(F.s, &F.admin, request_of(p1, "talent"), 1, &err), &err,
                       QL_EFORBIDDEN, "id");
            assert_int_equal(
                account_role_decide(F.s, &F.admin2, request_of(p1, "talent"), 1, &err), 0);
            assert_int_equal(roles_of(p1), RB(ROLE_TALENT));
            signed_in("person.one", &p, NULL);
            assert_true(actor_can(&p, P_SUBSIDY_APPLY));
            /* a bound person's password is not reset by an administrator */
            char temp[24];
            memset(&err, 0, sizeof err);
            expect_err("admin resets a person's account",
                       account_user_reset_password(F.s, &F.admin, p1, temp, &err), &err,
                       QL_EFORBIDDEN, "id");
        }
    }
    /* the schema's own guard, past the service */
    assert_int_not_equal(store_exec(F.s,
                                    "UPDATE users SET scope_kind = 'self', scope_id = '42' "
                                    "WHERE id = $1",
                                    (store_val[]){SV_INT(x)}, 1, NULL),
                         0);
    /* the person's id is written one way only */
    int64_t id = -7;
    static const char *const bad[] = {"042", "4x", "-4", "1234567890123456789"};
    for (size_t i = 0; i < 4; i++) {
        char *before = snapshot();
        expect_err(bad[i], make_person(&F.admin, "person.bad", bad[i], &id, &err), &err,
                   QL_EINVAL, "scope_id");
        expect_unchanged(bad[i], before);
    }
    /* only to a person the registry holds */
    {
        char *before = snapshot();
        expect_err("no such person", make_person(&F.admin, "person.none", "999", &id, &err), &err,
                   QL_EINVAL, "scope_id");
        assert_non_null(strstr(err.en, "holds no talent number 999"));
        expect_unchanged("no such person", before);
        memset(&err, 0, sizeof err);
        expect_err("bound to no such person",
                   account_user_set_roles(F.s, &F.sec, x, RB(ROLE_TALENT), SCOPE_SELF, "999", NULL,
                                          &err),
                   &err, QL_EINVAL, "scope_id");
    }
    /* a personal account bound to nobody yet binds nothing: at once */
    int64_t u = 0;
    assert_int_equal(make_person(&F.admin, "person.unbound", "", &u, &err), 0);
    assert_int_equal(roles_of(u), RB(ROLE_TALENT));
    /* binding it later waits, as does binding another person to a bound
     * account (the old binding ends at once); the security administrator's
     * takes effect at once */
    struct role_change ch;
    assert_int_equal(
        account_user_set_roles(F.s, &F.admin, u, RB(ROLE_TALENT), SCOPE_SELF, "43", &ch, &err), 0);
    assert_int_equal(ch.requested, RB(ROLE_TALENT));
    assert_int_equal(ch.removed, RB(ROLE_TALENT));
    assert_int_equal(roles_of(u), 0);
    assert_int_equal(
        account_user_set_roles(F.s, &F.admin, u, RB(ROLE_TALENT), SCOPE_SELF, "44", &ch, &err), 0);
    assert_int_equal(ch.withdrawn, RB(ROLE_TALENT)); /* the request for 43 */
    assert_int_equal(ch.requested, RB(ROLE_TALENT));
    assert_int_equal(pending_count(u), 1);
    assert_int_equal(
        account_user_set_roles(F.s, &F.sec, u, RB(ROLE_TALENT), SCOPE_SELF, "44", &ch, &err), 0);
    assert_int_equal(ch.granted, RB(ROLE_TALENT));
    assert_int_equal(roles_of(u), RB(ROLE_TALENT));
    assert_int_equal(pending_count(u), 0);
    assert_int_equal(
        account_user_set_roles(F.s, &F.admin, p1, RB(ROLE_TALENT), SCOPE_SELF, "45", &ch, &err), 0);
    assert_int_equal(roles_of(p1), 0);
    assert_int_equal(pending_count(p1), 1);
    expect_audit("user.roles",
                 (const char *[]){"\"roles_removed\":[\"talent\"]",
                                  "\"roles_requested\":[\"talent\"]", "\"scope_id_before\":\"42\"",
                                  "\"scope_id_after\":\"45\"", NULL});
    /* person 42 is free again */
    assert_int_equal(make_person(&F.cli, "person.two", "42", &id, &err), 0);
    assert_int_equal(roles_of(id), 0); /* the command line's binding waits too */
}

/* ---- 2c. the last security administrator, waiting grants, window clerks ---- */

/* Nobody removes, demotes or disables the last (enabled) security
 * administrator: nobody could grant roles after. */
static void test_last_security_admin_stays(void **state)
{
    (void)state;
    ql_err err = {0};
    const actor *who[] = {&F.admin, &F.cli};
    for (size_t i = 0; i < 2; i++) {
        char *before = snapshot();
        memset(&err, 0, sizeof err);
        expect_err("demoted", account_user_set_roles(F.s, who[i], F.sec_id, RB(ROLE_LEADERSHIP),
                                                     SCOPE_DISTRICT, "", NULL, &err),
                   &err, QL_ECONFLICT, "roles");
        assert_non_null(strstr(err.en, "last security administrator"));
        assert_non_null(strstr(err.zh, "最后一名安全管理员"));
        memset(&err, 0, sizeof err);
        expect_err("disabled", account_user_set_disabled(F.s, who[i], F.sec_id, 1, &err), &err,
                   QL_ECONFLICT, "id");
        expect_unchanged("last security administrator", before);
    }
    /* with a second one, either may go */
    int64_t sec2 = make(&F.cli, "sec.second", RB(ROLE_SECURITY_ADMIN));
    assert_int_equal(account_role_decide(F.s, &F.sec, request_of(sec2, "security_admin"), 1, &err),
                     0);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, F.sec_id, 1, &err), 0);
    /* a disabled one does not count */
    char *before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("the last enabled one",
               account_user_set_roles(F.s, &F.admin, sec2, RB(ROLE_LEADERSHIP), SCOPE_DISTRICT, "",
                                      NULL, &err),
               &err, QL_ECONFLICT, "roles");
    expect_unchanged("the last enabled one", before);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, F.sec_id, 0, &err), 0);
    assert_int_equal(account_user_set_roles(F.s, &F.admin, sec2, RB(ROLE_LEADERSHIP),
                                            SCOPE_DISTRICT, "", NULL, &err),
                     0);
    assert_int_equal(roles_of(sec2), RB(ROLE_LEADERSHIP));
}

/* Whoever resets a password learns it: a grant waiting for a second person
 * is withdrawn by the reset (and by disabling the account), never confirmed
 * onto an account someone else can sign in as. */
static void test_reset_withdraws_waiting_grants(void **state)
{
    (void)state;
    ql_err err = {0};
    int64_t fin = make(&F.admin, "fin.wait", RB(ROLE_FINANCE));
    int64_t req = request_of(fin, "finance");
    char temp[24];
    assert_int_equal(account_user_reset_password(F.s, &F.admin, fin, temp, &err), 0);
    assert_int_equal(pending_count(fin), 0);
    expect_audit("user.password_reset",
                 (const char *[]){"\"requests_withdrawn\":[\"finance\"]", "\"pending_roles\":[]",
                                  NULL});
    char state_s[16];
    qtext("SELECT state FROM role_requests WHERE id = $1", (store_val[]){SV_INT(req)}, 1, state_s,
          sizeof state_s);
    assert_string_equal(state_s, "withdrawn");
    memset(&err, 0, sizeof err);
    expect_err("confirmed after the reset", account_role_decide(F.s, &F.sec, req, 1, &err), &err,
               QL_ENOTFOUND, "id");
    assert_int_equal(roles_of(fin), 0);
    /* a person's binding too, and on disabling */
    int64_t p = 0;
    struct user_input in = {"person.wait", "等", RB(ROLE_TALENT), SCOPE_SELF, "77", PW, 1};
    assert_int_equal(account_user_create(F.s, &F.admin, &in, &p, temp, &err), 0);
    assert_int_equal(pending_count(p), 1);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, p, 1, &err), 0);
    assert_int_equal(pending_count(p), 0);
    expect_audit("user.disable", (const char *[]){"\"requests_withdrawn\":[\"talent\"]", NULL});
    /* enabling asks for nothing by itself; a reset without waiting grants
     * withdraws nothing */
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, p, 0, &err), 0);
    assert_int_equal(roles_of(p), 0);
    int64_t lead = make(&F.admin, "lead.plain", RB(ROLE_LEADERSHIP));
    assert_int_equal(account_user_reset_password(F.s, &F.admin, lead, temp, &err), 0);
    expect_audit("user.password_reset", (const char *[]){"\"requests_withdrawn\":[]", NULL});
}

/* A personal account is the person's only: no other role beside talent;
 * a binding refused or withdrawn frees the person; a window clerk made by
 * an administrator waits for a second party; a scope id is text a terminal
 * shows as it is. */
static void test_bindings_and_clerks_vouched(void **state)
{
    (void)state;
    ql_err err = {0};
    int64_t id = -7;
    char *before = snapshot();
    struct user_input two = {"clerk.self", "两职", RB(ROLE_TALENT) | RB(ROLE_WINDOW_CLERK),
                             SCOPE_SELF, "42", PW, 1};
    char temp[24];
    expect_err("talent and clerk on a person", account_user_create(F.s, &F.admin, &two, &id, temp, &err),
               &err, QL_EINVAL, "roles");
    assert_non_null(strstr(err.en, "holds the role talent only"));
    struct user_input lead = {"lead.self", "领导", RB(ROLE_LEADERSHIP), SCOPE_SELF, "42", PW, 1};
    memset(&err, 0, sizeof err);
    expect_err("leadership on a person", account_user_create(F.s, &F.admin, &lead, &id, temp, &err),
               &err, QL_EINVAL, NULL);
    /* a department code with a terminal's escape sequence or a line break */
    static const char *const odd[] = {"X\x1b" "[2J", "RSJ\n01", "RSJ\xE2\x80\xAE" "01"};
    for (size_t i = 0; i < 3; i++) {
        struct user_input dep = {"dept.odd", "部门", RB(ROLE_LEADERSHIP), SCOPE_DEPARTMENT, odd[i],
                                 PW, 1};
        memset(&err, 0, sizeof err);
        expect_err(odd[i], account_user_create(F.s, &F.admin, &dep, &id, temp, &err), &err,
                   QL_EINVAL, "scope_id");
    }
    expect_unchanged("refused accounts", before);

    /* an administrator's window clerk waits for the security administrator */
    int64_t c = make(&F.admin, "clerk.waits", RB(ROLE_WINDOW_CLERK));
    assert_int_equal(roles_of(c), 0);
    assert_int_equal(pending_count(c), 1);
    memset(&err, 0, sizeof err);
    expect_err("asker confirms", account_role_decide(F.s, &F.admin, request_of(c, "window_clerk"), 1, &err),
               &err, QL_EFORBIDDEN, "id");
    assert_int_equal(account_role_decide(F.s, &F.sec, request_of(c, "window_clerk"), 1, &err), 0);
    assert_int_equal(roles_of(c), RB(ROLE_WINDOW_CLERK));

    /* a binding refused frees the person for an account of their own */
    int64_t p = 0;
    struct user_input in = {"person.refused", "拒", RB(ROLE_TALENT), SCOPE_SELF, "43", PW, 1};
    assert_int_equal(account_user_create(F.s, &F.admin, &in, &p, temp, &err), 0);
    assert_int_equal(pending_count(p), 1);
    assert_int_equal(account_role_decide(F.s, &F.sec, request_of(p, "talent"), 0, &err), 0);
    char sid[32];
    qtext("SELECT scope_id FROM users WHERE id = $1", (store_val[]){SV_INT(p)}, 1, sid, sizeof sid);
    assert_string_equal(sid, "");
    int64_t q = 0;
    struct user_input own = {"person.own", "本人", RB(ROLE_TALENT), SCOPE_SELF, "43", PW, 1};
    assert_int_equal(account_user_create(F.s, &F.admin, &own, &q, temp, &err), 0);
    /* withdrawn by disabling: the same */
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, q, 1, &err), 0);
    qtext("SELECT scope_id FROM users WHERE id = $1", (store_val[]){SV_INT(q)}, 1, sid, sizeof sid);
    assert_string_equal(sid, "");
}

/* A window clerk changes payee data with the person present: no account is
 * both system administrator and window clerk. */
static void test_admin_is_no_window_clerk(void **state)
{
    (void)state;
    unsigned both = RB(ROLE_ADMIN) | RB(ROLE_WINDOW_CLERK);
    int64_t x = make_clerk("clerk.only");
    char *before = snapshot();
    struct user_input in = {"admin.clerk", "两职", both, SCOPE_DISTRICT, "", PW, 1};
    int64_t id = -7;
    char temp[24];
    ql_err err = {0};
    expect_err("created so", account_user_create(F.s, &F.cli, &in, &id, temp, &err), &err,
               QL_EINVAL, "roles");
    assert_non_null(strstr(err.en, "admin and window_clerk"));
    assert_non_null(strstr(err.zh, "职责分离"));
    memset(&err, 0, sizeof err);
    expect_err("changed to",
               account_user_set_roles(F.s, &F.sec, x, both, SCOPE_DISTRICT, "", NULL, &err), &err,
               QL_EINVAL, "roles");
    memset(&err, 0, sizeof err);
    expect_err("clerk added to an administrator",
               account_user_set_roles(F.s, &F.sec, F.admin2_id, both, SCOPE_DISTRICT, "", NULL,
                                      &err),
               &err, QL_EINVAL, "roles");
    expect_unchanged("admin and window clerk", before);
}

/* ---- 3. throttling sign-ins ------------------------------------------------ */

/* Guessing from one address pauses new sign-ins from it; other addresses
 * and browsers that signed in before are not held up. */
static void test_signin_throttled_per_address(void **state)
{
    (void)state;
    cfg.lockout_address_after = 4;
    account_init(&cfg);
    make_clerk("zhao.liu");
    struct signin_result known, r;
    ql_err err;
    assert_int_equal(signin("zhao.liu", PW, IP_A, NULL, &known, &err), 0);
    assert_int_equal(strlen(known.device), 43);
    /* four failures from A, on different names (one without an account) */
    const char *const names[] = {"zhao.liu", "admin", "nobody.a", "admin2"};
    for (int i = 0; i < 4; i++)
        expect_err("guess", signin(names[i], "Wrong#Pass-123", IP_A, NULL, &r, &err), &err,
                   QL_EUNAUTH, "password");
    /* now even the right password from A is paused, with the same answer
     * for names with and without an account */
    expect_err("paused", signin("admin2", PW, IP_A, NULL, &r, &err), &err, QL_EFORBIDDEN,
               "username");
    assert_non_null(strstr(err.en, "network address"));
    assert_non_null(strstr(err.zh, "网络地址"));
    char en[512];
    snprintf(en, sizeof en, "%s", err.en);
    expect_err("paused unknown", signin("nobody.b", PW, IP_A, NULL, &r, &err), &err, QL_EFORBIDDEN,
               "username");
    assert_string_equal(err.en, en);
    assert_string_equal(r.token, "");
    /* an IPv6 client is one /64 */
    for (int i = 0; i < 4; i++)
        signin("nobody.c", "Wrong#Pass-123", "2001:db8:1:2::5", NULL, &r, &err);
    expect_err("v6 /64", signin("admin2", PW, "2001:db8:1:2:ffff::9", NULL, &r, &err), &err,
               QL_EFORBIDDEN, "username");
    /* another address signs in; a browser that signed in before does too */
    assert_int_equal(signin("admin2", PW, IP_B, NULL, &r, &err), 0);
    assert_int_equal(signin("zhao.liu", PW, IP_A, known.device, &r, &err), 0);
    assert_string_equal(r.device, known.device);
    /* a known device of another account does not help */
    expect_err("other's device", signin("admin2", PW, IP_A, known.device, &r, &err), &err,
               QL_EFORBIDDEN, "username");
    expect_audit("auth.signin_failed", (const char *[]){"\"reason\":\"address_locked\"", NULL});
    /* once the lock-out time has passed (the row quiet that long), A is open */
    assert_int_equal(store_exec(F.s,
                                "UPDATE signin_throttle SET updated_at = updated_at - $1, "
                                "locked_until = locked_until - $1 WHERE key LIKE 'a:%'",
                                (store_val[]){SV_INT(cfg.lockout_minutes * 60 + 1)}, 1, NULL),
                     0);
    assert_int_equal(signin("admin2", PW, IP_A, NULL, &r, &err), 0);
    /* off when 0 */
    cfg.lockout_address_after = 0;
    account_init(&cfg);
    for (int i = 0; i < 6; i++) signin("nobody.d", "Wrong#Pass-123", IP_B, NULL, &r, &err);
    assert_int_equal(signin("admin2", PW, IP_B, NULL, &r, &err), 0);
    cfg.lockout_address_after = 30;
    account_init(&cfg);
}

/* Five wrong passwords from someone else lock an account for browsers that
 * never signed in to it; its owner's browser still gets in with the right
 * password, and its own wrong passwords make it a stranger. */
static void test_known_device_passes_a_lock(void **state)
{
    (void)state;
    int64_t uid = make_clerk("qian.qi");
    struct signin_result owner, r;
    ql_err err;
    assert_int_equal(signin("qian.qi", PW, IP_A, NULL, &owner, &err), 0);
    for (long i = 0; i < cfg.lockout_after; i++)
        signin("qian.qi", "Wrong#Pass-123", IP_B, NULL, &r, &err);
    assert_int_equal(err.code, QL_EFORBIDDEN);
    assert_true(qint("SELECT locked_until FROM users WHERE id = $1", (store_val[]){SV_INT(uid)},
                     1) > auth_now());
    expect_err("locked", signin("qian.qi", PW, IP_B, NULL, &r, &err), &err, QL_EFORBIDDEN,
               "username");
    assert_non_null(strstr(err.en, "locked until"));
    expect_err("locked, forged device",
               signin("qian.qi", PW, IP_B, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r, &err),
               &err, QL_EFORBIDDEN, "username");
    /* the owner's browser */
    assert_int_equal(signin("qian.qi", PW, IP_A, owner.device, &r, &err), 0);
    assert_true(r.session_id > 0);
    expect_audit("auth.signin", (const char *[]){"\"known_device\":true", NULL});
    /* the lock stays for everyone else */
    expect_err("still locked", signin("qian.qi", PW, IP_B, NULL, &r, &err), &err, QL_EFORBIDDEN,
               "username");
    /* the device's own wrong passwords count: then it is known no more */
    for (long i = 0; i < cfg.lockout_after; i++)
        expect_err("device guesses",
                   signin("qian.qi", "Wrong#Pass-123", IP_A, owner.device, &r, &err), &err,
                   QL_EUNAUTH, "password");
    assert_int_equal(qint("SELECT count(*) FROM signin_devices WHERE user_id = $1",
                          (store_val[]){SV_INT(uid)}, 1),
                     0);
    expect_err("device forgotten", signin("qian.qi", PW, IP_A, owner.device, &r, &err), &err,
               QL_EFORBIDDEN, "username");
    /* the token is stored as a hash only */
    assert_int_equal(qint("SELECT count(*) FROM signin_devices WHERE token_hash = $1",
                          (store_val[]){SV_TEXT(owner.device)}, 1),
                     0);
}

/* A throttle row quiet for longer than the lock-out counts as none, whether
 * or not it has been pruned yet; pruning removes exactly those. */
static void test_throttle_lapses_and_is_pruned(void **state)
{
    (void)state;
    int64_t uid = make_clerk("sun.ba");
    struct signin_result r;
    ql_err err;
    for (int i = 0; i < 3; i++) {
        signin("nobody.old", "Wrong#Pass-123", IP_A, NULL, &r, &err);
        signin("sun.ba", "Wrong#Pass-123", IP_A, NULL, &r, &err);
    }
    assert_int_equal(qint("SELECT count(*) FROM signin_throttle", NULL, 0), 2); /* name, address */
    int64_t dead = cfg.lockout_minutes * 60 + 1;
    assert_int_equal(store_exec(F.s, "UPDATE signin_throttle SET updated_at = updated_at - $1",
                                (store_val[]){SV_INT(dead)}, 1, NULL),
                     0);
    assert_int_equal(store_exec(F.s, "UPDATE users SET failed_at = failed_at - $1 WHERE id = $2",
                                (store_val[]){SV_INT(dead), SV_INT(uid)}, 2, NULL),
                     0);
    /* lapsed, not yet pruned: the next failure is the first in a row, for a
     * name with an account and one without alike */
    signin("nobody.old", "Wrong#Pass-123", IP_B, NULL, &r, &err);
    expect_audit("auth.signin_failed", (const char *[]){"\"failed_in_a_row\":1", NULL});
    signin("sun.ba", "Wrong#Pass-123", IP_B, NULL, &r, &err);
    expect_audit("auth.signin_failed", (const char *[]){"\"failed_in_a_row\":1", NULL});
    /* a fresh row (the address B), the re-counted name row; the dead
     * address row A, and a dead device: pruned by two stores at once */
    assert_int_equal(signin("sun.ba", PW, IP_B, NULL, &r, &err), 0);
    assert_int_equal(store_exec(F.s, "UPDATE signin_devices SET expires_at = $1",
                                (store_val[]){SV_INT(auth_now() - 1)}, 1, NULL),
                     0);
    int64_t devices = qint("SELECT count(*) FROM signin_devices", NULL, 0);
    assert_true(devices >= 1);
    int64_t rows = qint("SELECT count(*) FROM signin_throttle", NULL, 0);
    int64_t live = qint("SELECT count(*) FROM signin_throttle WHERE updated_at >= $1",
                        (store_val[]){SV_INT(auth_now() - cfg.lockout_minutes * 60)}, 1);
    assert_int_equal(rows - live, 1);
    store *other;
    assert_int_equal(store_open(F.url, NULL, &other, &err), 0);
    int64_t n1 = -1, n2 = -1;
    assert_int_equal(account_throttle_prune(other, auth_now(), &n1, &err), 0);
    assert_int_equal(account_throttle_prune(F.s, auth_now(), &n2, &err), 0);
    store_close(other);
    assert_int_equal(n1 + n2, 1 + devices);
    assert_int_equal(qint("SELECT count(*) FROM signin_throttle", NULL, 0), live);
    assert_int_equal(qint("SELECT count(*) FROM signin_devices", NULL, 0), 0);
    /* nothing left to prune */
    assert_int_equal(account_throttle_prune(F.s, auth_now(), &n1, &err), 0);
    assert_int_equal(n1, 0);
}

/* ---- 4. passwords ---------------------------------------------------------- */

static void test_password_history_and_demo_password(void **state)
{
    (void)state;
    make_clerk("he.jiu");
    actor a;
    signed_in("he.jiu", &a, NULL);
    char tok[AUTH_TOKEN_CHARS];
    ql_err err = {0};
    char *before = snapshot();
    expect_err("demo password",
               account_change_password(F.s, &a, PW, ACCOUNT_DEMO_PASSWORD, ACCOUNT_DEMO_PASSWORD,
                                       tok, &err),
               &err, QL_EINVAL, "new_password");
    assert_non_null(strstr(err.en, "demo"));
    expect_unchanged("demo password", before);
    static const char *const pws[] = {"Amber-Field-2031", "Birch-Lane-2032", "Cedar-Moss-2033",
                                      "Dune-Harbor-2034", "Elm-River-2035"};
    const char *cur = PW;
    for (int i = 0; i < 5; i++) {
        memset(&err, 0, sizeof err);
        if (account_change_password(F.s, &a, cur, pws[i], pws[i], tok, &err))
            fail_msg("change %d: %s", i, err.en);
        cur = pws[i];
        /* any of the last five (the first, given at creation, included) */
        const char *back = i == 0 ? PW : pws[0];
        before = snapshot();
        memset(&err, 0, sizeof err);
        expect_err("reused", account_change_password(F.s, &a, cur, back, back, tok, &err), &err,
                   QL_EINVAL, "new_password");
        assert_non_null(strstr(err.en, "last 5"));
        expect_unchanged("reused", before);
    }
    assert_int_equal(qint("SELECT count(*) FROM password_history WHERE user_id = $1",
                          (store_val[]){SV_INT(a.user_id)}, 1),
                     ACCOUNT_PASSWORD_HISTORY);
    /* the sixth back has dropped out of the history */
    memset(&err, 0, sizeof err);
    assert_int_equal(account_change_password(F.s, &a, cur, PW, PW, tok, &err), 0);
}

/* An account whose password was chosen before the history was kept (as
 * after migration 0018): that password starts the history at its change. */
static void test_history_starts_with_an_older_password(void **state)
{
    (void)state;
    int64_t uid = make_clerk("lao.zhang");
    assert_int_equal(store_exec(F.s, "DELETE FROM password_history WHERE user_id = $1",
                                (store_val[]){SV_INT(uid)}, 1, NULL),
                     0);
    actor a;
    signed_in("lao.zhang", &a, NULL);
    char tok[AUTH_TOKEN_CHARS];
    ql_err err = {0};
    assert_int_equal(
        account_change_password(F.s, &a, PW, "Fresh-Start-2031", "Fresh-Start-2031", tok, &err), 0);
    assert_int_equal(qint("SELECT count(*) FROM password_history WHERE user_id = $1",
                          (store_val[]){SV_INT(uid)}, 1),
                     2);
    char *before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("the older password",
               account_change_password(F.s, &a, "Fresh-Start-2031", PW, PW, tok, &err), &err,
               QL_EINVAL, "new_password");
    expect_unchanged("the older password", before);
}

static void test_signin_form_token(void **state)
{
    (void)state;
    int64_t now = auth_now();
    char t[SIGNIN_FORM_TOKEN_CHARS], t6[SIGNIN_FORM_TOKEN_CHARS];
    account_signin_form_token(IP_A, now, t);
    assert_true(account_signin_form_valid(t, IP_A, now));
    assert_true(account_signin_form_valid(t, IP_A, now + SIGNIN_FORM_MAX_AGE));
    assert_false(account_signin_form_valid(t, IP_B, now));
    assert_false(account_signin_form_valid(t, IP_A, now + SIGNIN_FORM_MAX_AGE + 1));
    assert_false(account_signin_form_valid(t, IP_A, now - 1)); /* made in the future */
    char forged[SIGNIN_FORM_TOKEN_CHARS];
    snprintf(forged, sizeof forged, "%s", t);
    forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == 'a' ? 'b' : 'a';
    assert_false(account_signin_form_valid(forged, IP_A, now));
    snprintf(forged, sizeof forged, "%s", t);
    forged[0] = forged[0] == 'A' ? 'B' : 'A'; /* another pre-session id, same MAC */
    assert_false(account_signin_form_valid(forged, IP_A, now));
    /* what a planted double-submit cookie would hold */
    assert_false(
        account_signin_form_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", IP_A, now));
    assert_false(account_signin_form_valid("", IP_A, now));
    assert_false(account_signin_form_valid(NULL, IP_A, now));
    account_signin_form_token("2001:db8:1:2::5", now, t6);
    assert_true(account_signin_form_valid(t6, "2001:db8:1:2:abcd::1", now));
    assert_false(account_signin_form_valid(t6, "2001:db8:1:3::5", now));
    /* two forms are two pre-sessions */
    char t2[SIGNIN_FORM_TOKEN_CHARS];
    account_signin_form_token(IP_A, now, t2);
    assert_string_not_equal(t, t2);
}

/* ---- 5. files --------------------------------------------------------------- */

static void test_files_are_private(void **state)
{
    (void)state;
    struct stat st;
    char path[700];
    static const char *const keys[] = {"audit.key", "audit.anchor"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", keys_dir, keys[i]);
        assert_int_equal(stat(path, &st), 0);
        if ((st.st_mode & 0777) != 0600) fail_msg("%s has mode %o", path, st.st_mode & 0777);
    }
    if (tu_pg_url()) return;
    /* a new SQLite database and its WAL and shared-memory files, whatever
     * the umask lets through */
    mode_t old = umask(022);
    snprintf(path, sizeof path, "%s/private-%d.db", tu_tmpdir(), nkeys);
    store *s;
    ql_err err;
    assert_int_equal(store_open(path, NULL, &s, &err), 0);
    assert_int_equal(store_migrate(s, NULL, &err), 0);
    umask(old);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[720];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        assert_int_equal(stat(p, &st), 0);
        if ((st.st_mode & 0777) != 0600) fail_msg("%s has mode %o", p, st.st_mode & 0777);
    }
    store_close(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_duty_roles_are_exclusive),
        T(test_admin_grant_waits_for_a_second_person),
        T(test_security_admin_grants_at_once),
        T(test_set_roles_requests_and_withdraws),
        T(test_command_line_grants),
        T(test_reset_of_duty_accounts),
        T(test_one_account_per_person),
        T(test_last_security_admin_stays),
        T(test_reset_withdraws_waiting_grants),
        T(test_admin_is_no_window_clerk),
        T(test_bindings_and_clerks_vouched),
        T(test_signin_throttled_per_address),
        T(test_known_device_passes_a_lock),
        T(test_throttle_lapses_and_is_pruned),
        T(test_password_history_and_demo_password),
        T(test_history_starts_with_an_older_password),
        T(test_signin_form_token),
        T(test_files_are_private),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "duties (postgres)" : "duties (sqlite)", tests,
                                       group_setup, group_teardown);
}
