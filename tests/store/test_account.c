/* test_account.c - the accounts service on SQLite and (with QL_TEST_PG) PostgreSQL. */
#include "testutil.h"

#include "account/account.h"
#include "audit/audit.h"
#include "auth/password.h"
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

#define RB(r) (1u << (r))
#define IN(u, d, r, sc, sid, pw)                                                                   \
    {                                                                                              \
        .username = (u), .display_name = (d), .roles = (r), .scope = (sc), .scope_id = (sid),      \
        .password = (pw)                                                                           \
    }
#define ADMIN_PW    "Zq7#kLm2pWx9"
#define USER_PW     "Tr4vel-Blue-Kite"
#define NEW_PW      "Gr33n+Harbour-Lamp"
#define CREDIT_CODE "91350100M000100Y43"
#define IP          "203.0.113.9"

static ql_config cfg;
static char TOK[AUTH_TOKEN_CHARS]; /* a session's new token after a password change */
static int nkeys;
static char keys_dir[512];

/* One store per test, with an administrator signed in. */
static struct fx {
    store *s;
    actor cli;
    actor admin;
    actor sec; /* security(): the security administrator, once made */
    int64_t admin_id;
    struct signin_result admin_in;
} F;

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

static int64_t qint(const char *sql, const store_val *args, int nargs)
{
    int64_t v = -1;
    int rc = store_query_int(F.s, sql, args, nargs, &v);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(F.s));
    return v;
}

static int64_t audit_rows(void)
{
    return qint("SELECT count(*) FROM audit_log", NULL, 0);
}

static int64_t audit_count(const char *action)
{
    return qint("SELECT count(*) FROM audit_log WHERE action = $1", (store_val[]){SV_TEXT(action)},
                1);
}

struct audit_row {
    char action[64];
    char actor[80];
    char object_id[32];
    char before[80];
    char after[80];
    char detail[1024];
    char ip[64];
    char request_id[80];
};

static void last_audit(struct audit_row *a)
{
    memset(a, 0, sizeof *a);
    store_rows *r;
    int rc = store_query(F.s,
                         "SELECT action, actor, object_id, before_digest, after_digest, detail, "
                         "ip, request_id FROM audit_log ORDER BY seq DESC LIMIT 1",
                         NULL, 0, &r);
    if (rc) fail_msg("last audit row: %d %s", rc, store_errmsg(F.s));
    if (store_step(r) != 1) fail_msg("audit_log is empty");
    snprintf(a->action, sizeof a->action, "%s", store_col_text(r, 0, NULL));
    snprintf(a->actor, sizeof a->actor, "%s", store_col_text(r, 1, NULL));
    snprintf(a->object_id, sizeof a->object_id, "%s", store_col_text(r, 2, NULL));
    snprintf(a->before, sizeof a->before, "%s", store_col_text(r, 3, NULL));
    snprintf(a->after, sizeof a->after, "%s", store_col_text(r, 4, NULL));
    snprintf(a->detail, sizeof a->detail, "%s", store_col_text(r, 5, NULL));
    snprintf(a->ip, sizeof a->ip, "%s", store_col_text(r, 6, NULL));
    snprintf(a->request_id, sizeof a->request_id, "%s", store_col_text(r, 7, NULL));
    store_rows_close(r);
}

/* The last audit row must be action, with detail containing word (unless NULL). */
static void expect_last_audit(const char *what, const char *action, const char *word)
{
    struct audit_row a;
    last_audit(&a);
    if (strcmp(a.action, action) != 0)
        fail_msg("%s: last audit action '%s', expected '%s'", what, a.action, action);
    if (word && !strstr(a.detail, word))
        fail_msg("%s: audit detail %s lacks '%s'", what, a.detail, word);
}

/* Every row of the tables a refused change must not touch, as text. */
static char *snapshot(void)
{
    static const char *const from[] = {"users ORDER BY id", "user_roles ORDER BY user_id, role",
                                       "sessions ORDER BY id", "api_tokens ORDER BY id",
                                       "audit_log ORDER BY seq"};
    buf b;
    buf_init(&b, 0);
    for (size_t t = 0; t < sizeof from / sizeof from[0]; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", from[t]);
        store_rows *r;
        int rc = store_query(F.s, sql, NULL, 0, &r);
        if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(F.s));
        buf_printf(&b, "[%s]\n", from[t]);
        while ((rc = store_step(r)) == 1) {
            for (int c = 0; c < store_ncols(r); c++) {
                buf_puts(&b, store_col_isnull(r, c) ? "NULL" : store_col_text(r, c, NULL));
                buf_putc(&b, '|');
            }
            buf_putc(&b, '\n');
        }
        store_rows_close(r);
        if (rc < 0) fail_msg("%s: %d", sql, rc);
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

/* 1 if any column of any row of table contains needle. */
static int table_contains(const char *table, const char *needle)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    store_rows *r;
    int rc = store_query(F.s, sql, NULL, 0, &r);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(F.s));
    int found = 0;
    while (!found && (rc = store_step(r)) == 1)
        for (int c = 0; c < store_ncols(r); c++)
            if (strstr(store_col_text(r, c, NULL), needle)) found = 1;
    store_rows_close(r);
    if (rc < 0) fail_msg("%s: %d", sql, rc);
    return found;
}

static int anywhere(const char *needle)
{
    return table_contains("users", needle) || table_contains("sessions", needle) ||
           table_contains("api_tokens", needle) || table_contains("audit_log", needle);
}

/* count copies of unit into out (size n). */
static void repeat(char *out, size_t n, const char *unit, int count)
{
    out[0] = '\0';
    size_t used = 0, ul = strlen(unit);
    for (int i = 0; i < count && used + ul < n; i++) {
        memcpy(out + used, unit, ul);
        used += ul;
    }
    out[used] = '\0';
}

static int64_t make_user(const actor *a, const char *username, const char *display, unsigned roles,
                         enum scope_kind scope, const char *scope_id, const char *pw)
{
    struct user_input in = IN(username, display, roles, scope, scope_id, pw);
    int64_t id = 0;
    char temp[24];
    ql_err err = {0};
    int rc = account_user_create(F.s, a, &in, &id, temp, &err);
    if (rc) fail_msg("create %s: %d %s: %s", username, rc, err.field, err.en);
    assert_true(id > 0);
    return id;
}

static void signed_in(const char *username, const char *pw, actor *a, struct signin_result *r);

/* The store's security administrator, made by the command line (the
 * first one, so at once) when a test first needs it. */
static const actor *security(void)
{
    if (!F.sec.user_id) {
        make_user(&F.cli, "sec.admin", "安全管理员", RB(ROLE_SECURITY_ADMIN), SCOPE_DISTRICT, "",
                  ADMIN_PW);
        signed_in("sec.admin", ADMIN_PW, &F.sec, NULL);
    }
    return &F.sec;
}

/* Confirms every pending grant of account uid, as the security administrator. */
static void confirm_grants(int64_t uid)
{
    json_t *rows = NULL;
    ql_err err = {0};
    if (account_role_requests(F.s, &F.admin, uid, &rows, &err))
        fail_msg("role requests: %s", err.en);
    if (!json_array_size(rows)) {
        json_decref(rows);
        return;
    }
    const actor *sec = security();
    size_t i;
    json_t *q;
    json_array_foreach(rows, i, q)
    {
        int64_t id = json_integer_value(json_object_get(q, "id"));
        if (account_role_decide(F.s, sec, id, 1, &err))
            fail_msg("confirm %lld: %s", (long long)id, err.en);
    }
    json_decref(rows);
}

/* An account with these roles in effect (duty roles confirmed). */
static int64_t make_simple(const char *username, unsigned roles)
{
    int64_t id = make_user(&F.admin, username, username, roles, SCOPE_DISTRICT, "", USER_PW);
    confirm_grants(id);
    return id;
}

static int try_signin(const char *username, const char *pw, struct signin_result *out, ql_err *err)
{
    memset(err, 0, sizeof *err);
    return account_signin(F.s, username, pw, IP, "test-agent/1.0", NULL, "req-test", out, err);
}

static void signin_ok(const char *username, const char *pw, struct signin_result *out)
{
    ql_err err;
    int rc = try_signin(username, pw, out, &err);
    if (rc) fail_msg("sign-in %s: %d %s", username, rc, err.en);
    assert_true(out->user_id > 0);
    assert_true(out->session_id > 0);
    assert_int_equal(strlen(out->token), 43);
    assert_int_equal(strlen(out->csrf), 43);
}

static int sess(const char *token, int64_t now, actor *a)
{
    memset(a, 0, sizeof *a);
    return session_actor(F.s, token, account_session_limits(), now, a);
}

static void session_ok(const char *token, actor *a)
{
    int rc = sess(token, auth_now(), a);
    if (rc) fail_msg("session_actor: %d", rc);
    assert_int_equal(a->via, VIA_SESSION);
}

/* Signs username in and returns its session actor. */
static void signed_in(const char *username, const char *pw, actor *a, struct signin_result *r)
{
    struct signin_result tmp;
    if (!r) r = &tmp;
    signin_ok(username, pw, r);
    session_ok(r->token, a);
}

/* "HH:MM" of t in Shanghai time. */
static void hhmm(int64_t t, char out[8])
{
    char iso[32];
    account_time_text(t, iso);
    snprintf(out, 8, "%.5s", iso + 11);
}

static int64_t user_col(int64_t id, const char *col)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(%s, -1) FROM users WHERE id = $1", col);
    return qint(sql, (store_val[]){SV_INT(id)}, 1);
}

static void user_text(int64_t id, const char *col, char *out, size_t n)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM users WHERE id = $1", col);
    store_rows *r;
    int rc = store_query(F.s, sql, (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) fail_msg("%s: %d %s", sql, rc, store_errmsg(F.s));
    if (store_step(r) != 1) fail_msg("no user %" PRId64, id);
    snprintf(out, n, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
}

static int64_t live_sessions(int64_t uid)
{
    return qint("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                (store_val[]){SV_INT(uid)}, 1);
}

static json_t *get_user(int64_t id)
{
    json_t *u = NULL;
    ql_err err = {0};
    int rc = account_user_get(F.s, &F.admin, id, &u, &err);
    if (rc) fail_msg("account_user_get %" PRId64 ": %d %s", id, rc, err.en);
    return u;
}

static int user_flag(int64_t id, const char *key)
{
    json_t *u = get_user(id);
    json_t *v = json_object_get(u, key);
    if (!json_is_boolean(v)) fail_msg("user %" PRId64 ": '%s' is not a boolean", id, key);
    int b = json_is_true(v);
    json_decref(u);
    return b;
}

/* --- fixture -------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    ql_err err = {0};
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
    if (store_open(tu_fresh_store_url(), NULL, &F.s, &err)) {
        print_error("store_open: %s\n", err.en);
        return -1;
    }
    if (store_migrate(F.s, NULL, &err)) {
        print_error("store_migrate: %s\n", err.en);
        return -1;
    }
    snprintf(keys_dir, sizeof keys_dir, "%s/keys-%d", tu_tmpdir(), ++nkeys);
    if (audit_init(keys_dir, "blake2b", &err)) {
        print_error("audit_init: %s\n", err.en);
        return -1;
    }
    account_init(&cfg);
    actor_cli(&F.cli);
    F.admin_id =
        make_user(&F.cli, "admin", "系统管理员", RB(ROLE_ADMIN), SCOPE_DISTRICT, "", ADMIN_PW);
    signed_in("admin", ADMIN_PW, &F.admin, &F.admin_in);
    return 0;
}

/* Every test leaves an audit chain that verifies. */
static int fx_teardown(void **state)
{
    (void)state;
    audit_report rep;
    ql_err err = {0};
    int rc = audit_verify(F.s, &rep, &err);
    int64_t rows = audit_rows();
    store_close(F.s);
    F.s = NULL;
    if (rc) {
        print_error("audit_verify: %d %s\n", rc, err.en);
        return -1;
    }
    if (!rep.ok || rep.rows != rows || rep.head_seq != rows) {
        print_error("audit chain broken at %" PRId64 " (%" PRId64 " of %" PRId64 " rows): %s\n",
                    rep.broken_seq, rep.rows, rows, rep.reason_en);
        return -1;
    }
    return 0;
}

/* --- 1. creating users ---------------------------------------------------- */

static void test_create_ok(void **state)
{
    (void)state;
    struct user_input in = IN("li.na", "李娜", RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", NULL);
    int64_t id = 0, rows0 = audit_rows();
    char temp[24];
    ql_err err = {0};
    assert_int_equal(account_user_create(F.s, &F.admin, &in, &id, temp, &err), 0);
    assert_true(id > 0 && id != F.admin_id);
    assert_int_equal(strlen(temp), 16);
    assert_int_equal(password_check(temp, "li.na", cfg.password_min_length, "password", &err), 0);
    assert_false(anywhere(temp));

    assert_int_equal(audit_rows(), rows0 + 1);
    struct audit_row a;
    last_audit(&a);
    assert_string_equal(a.action, "user.create");
    assert_string_equal(a.actor, "admin");
    char oid[24];
    snprintf(oid, sizeof oid, "%" PRId64, id);
    assert_string_equal(a.object_id, oid);
    assert_int_equal(strlen(a.after), 64);

    int64_t found = 0;
    assert_int_equal(account_user_id(F.s, "li.na", &found, &err), 0);
    assert_int_equal(found, id);
    json_t *u = get_user(id);
    assert_string_equal(json_string_value(json_object_get(u, "username")), "li.na");
    assert_string_equal(json_string_value(json_object_get(u, "display_name")), "李娜");
    assert_string_equal(json_string_value(json_object_get(u, "scope")), "district");
    assert_string_equal(json_string_value(json_object_get(u, "scope_id")), "");
    /* A duty role an administrator grants waits for a second person. */
    json_t *roles = json_object_get(u, "roles");
    assert_int_equal(json_array_size(roles), 0);
    json_t *pending = json_object_get(u, "pending_roles");
    assert_int_equal(json_array_size(pending), 1);
    assert_string_equal(json_string_value(json_array_get(pending, 0)), "reviewer");
    assert_true(json_is_false(json_object_get(u, "disabled")));
    assert_true(json_is_false(json_object_get(u, "locked")));
    assert_true(json_is_true(json_object_get(u, "must_change_password")));
    assert_non_null(strstr(json_string_value(json_object_get(u, "created_at")), "+08:00"));
    assert_null(json_object_get(u, "password_hash"));
    json_decref(u);

    /* The generated password signs in, and the account must change it. */
    struct signin_result r;
    signin_ok("li.na", temp, &r);
    assert_int_equal(r.user_id, id);
    assert_int_equal(r.must_change_password, 1);

    /* A given password: nothing generated, still to be changed. */
    struct user_input in2 =
        IN("wang.fang", "王芳", RB(ROLE_EMPLOYER_HR), SCOPE_EMPLOYER, CREDIT_CODE, USER_PW);
    int64_t id2 = 0;
    assert_int_equal(account_user_create(F.s, &F.admin, &in2, &id2, temp, &err), 0);
    assert_string_equal(temp, "");
    assert_true(id2 > id);
    signin_ok("wang.fang", USER_PW, &r);
    assert_int_equal(r.must_change_password, 1);
    assert_false(anywhere(USER_PW));
    u = get_user(id2);
    assert_string_equal(json_string_value(json_object_get(u, "scope")), "employer");
    assert_string_equal(json_string_value(json_object_get(u, "scope_id")), CREDIT_CODE);
    json_decref(u);

    /* The other shapes that fit together. */
    char name100[400], ascii100[128], user64[80];
    repeat(name100, sizeof name100, "汉", 100);
    repeat(ascii100, sizeof ascii100, "a", 100);
    repeat(user64, sizeof user64, "u", 64);
    make_user(&F.admin, "abc", name100, RB(ROLE_REVIEWER) | RB(ROLE_LEADERSHIP), SCOPE_DISTRICT, "",
              NULL);
    make_user(&F.admin, user64, ascii100, RB(ROLE_WINDOW_CLERK), SCOPE_DEPARTMENT, "RSJ-01", "");
    make_user(&F.cli, "9.op_house-1", "房源运营", RB(ROLE_HOUSING_OPERATOR), SCOPE_OPERATOR, "OP-7",
              NULL);
    int64_t tid = make_user(&F.admin, "talent.zhao", "赵六", RB(ROLE_TALENT), SCOPE_SELF, "", NULL);
    u = get_user(tid);
    assert_string_equal(json_string_value(json_object_get(u, "scope")), "self");
    json_decref(u);

    /* keep_password: a given password need not be changed, a generated one must. */
    struct user_input keep =
        IN("keep.given", "保留", RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", USER_PW);
    keep.keep_password = 1;
    assert_int_equal(account_user_create(F.s, &F.admin, &keep, &id2, temp, &err), 0);
    assert_string_equal(temp, "");
    signin_ok("keep.given", USER_PW, &r);
    assert_int_equal(r.must_change_password, 0);
    keep.username = "keep.generated";
    keep.password = NULL;
    assert_int_equal(account_user_create(F.s, &F.admin, &keep, &id2, temp, &err), 0);
    assert_int_equal(strlen(temp), 16);
    signin_ok("keep.generated", temp, &r);
    assert_int_equal(r.must_change_password, 1);
    assert_int_equal(audit_count("user.create"), 9);
}

struct bad_create {
    const char *what;
    struct user_input in;
    const char *field;
    const char *en_has; /* a word the English message must contain, or NULL */
};

static void test_create_invalid(void **state)
{
    (void)state;
    char long_user[80], name101[400], ascii101[128], long_scope[80];
    repeat(long_user, sizeof long_user, "a", 65);
    repeat(name101, sizeof name101, "汉", 101);
    repeat(ascii101, sizeof ascii101, "b", 101);
    repeat(long_scope, sizeof long_scope, "d", 65);
    const unsigned rev = RB(ROLE_REVIEWER);
    const struct bad_create cases[] = {
        {"no username", IN(NULL, "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"empty username", IN("", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"2 chars", IN("ab", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", "3 to 64"},
        {"65 chars", IN(long_user, "甲", rev, SCOPE_DISTRICT, "", NULL), "username", "3 to 64"},
        {"upper case", IN("Alice", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"upper inside", IN("aliCe", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"space", IN("al ice", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"slash", IN("al/ice", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"at sign", IN("al@ice", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"percent", IN("al%ice", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"non-ASCII", IN("zhāng", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", NULL},
        {"leading dot", IN(".alice", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", "start"},
        {"leading dash", IN("-alice", "甲", rev, SCOPE_DISTRICT, "", NULL), "username", "start"},
        {"no display name", IN("alice", NULL, rev, SCOPE_DISTRICT, "", NULL), "display_name", NULL},
        {"empty display name", IN("alice", "", rev, SCOPE_DISTRICT, "", NULL), "display_name",
         NULL},
        {"tab in name", IN("alice", "张\t三", rev, SCOPE_DISTRICT, "", NULL), "display_name",
         "control"},
        {"newline in name", IN("alice", "张三\n", rev, SCOPE_DISTRICT, "", NULL), "display_name",
         "control"},
        {"DEL in name", IN("alice", "张\x7f三", rev, SCOPE_DISTRICT, "", NULL), "display_name",
         "control"},
        {"101 Chinese characters", IN("alice", name101, rev, SCOPE_DISTRICT, "", NULL),
         "display_name", "100"},
        {"101 ASCII characters", IN("alice", ascii101, rev, SCOPE_DISTRICT, "", NULL),
         "display_name", "100"},
        {"no roles", IN("alice", "甲", 0, SCOPE_DISTRICT, "", NULL), "roles", NULL},
        {"unknown role bit", IN("alice", "甲", RB(ROLE_COUNT), SCOPE_DISTRICT, "", NULL), "roles",
         NULL},
        {"employer_hr, district", IN("alice", "甲", RB(ROLE_EMPLOYER_HR), SCOPE_DISTRICT, "", NULL),
         "scope", "employer"},
        {"employer_hr, department",
         IN("alice", "甲", RB(ROLE_EMPLOYER_HR), SCOPE_DEPARTMENT, "RSJ", NULL), "scope", NULL},
        {"employer scope for a reviewer", IN("alice", "甲", rev, SCOPE_EMPLOYER, CREDIT_CODE, NULL),
         "roles", NULL},
        {"bad credit code",
         IN("alice", "甲", RB(ROLE_EMPLOYER_HR), SCOPE_EMPLOYER, "91350100M000100Y44", NULL),
         "scope_id", NULL},
        {"short credit code",
         IN("alice", "甲", RB(ROLE_EMPLOYER_HR), SCOPE_EMPLOYER, "91350100M000100Y4", NULL),
         "scope_id", NULL},
        {"no credit code", IN("alice", "甲", RB(ROLE_EMPLOYER_HR), SCOPE_EMPLOYER, "", NULL),
         "scope_id", NULL},
        {"district with scope id", IN("alice", "甲", rev, SCOPE_DISTRICT, "RSJ", NULL), "scope_id",
         NULL},
        {"department without id", IN("alice", "甲", rev, SCOPE_DEPARTMENT, "", NULL), "scope_id",
         NULL},
        {"department id NULL", IN("alice", "甲", rev, SCOPE_DEPARTMENT, NULL, NULL), "scope_id",
         NULL},
        {"operator without id",
         IN("alice", "甲", RB(ROLE_HOUSING_OPERATOR), SCOPE_OPERATOR, "", NULL), "scope_id", NULL},
        {"scope id too long", IN("alice", "甲", rev, SCOPE_DEPARTMENT, long_scope, NULL),
         "scope_id", NULL},
        {"talent, district", IN("alice", "甲", RB(ROLE_TALENT), SCOPE_DISTRICT, "", NULL), "scope",
         "self"},
        /* Two mismatches: the employer scope is named as the one that is wrong. */
        {"talent, employer", IN("alice", "甲", RB(ROLE_TALENT), SCOPE_EMPLOYER, CREDIT_CODE, NULL),
         "roles", NULL},
        {"talent, department", IN("alice", "甲", RB(ROLE_TALENT), SCOPE_DEPARTMENT, "R", NULL),
         "scope", NULL},
        {"self scope for a reviewer", IN("alice", "甲", rev, SCOPE_SELF, "", NULL), "roles", NULL},
        {"operator without the role", IN("alice", "甲", rev, SCOPE_OPERATOR, "OP-1", NULL), "roles",
         NULL},
        {"password too short", IN("alice", "甲", rev, SCOPE_DISTRICT, "", "Ab3#efgh"), "password",
         "at least"},
        {"password of one kind", IN("alice", "甲", rev, SCOPE_DISTRICT, "", "abcdefghijklmn"),
         "password", "three"},
        {"password of two kinds", IN("alice", "甲", rev, SCOPE_DISTRICT, "", "abcdefgh123456"),
         "password", "three"},
        {"password has username",
         IN("zhangsan", "张三", rev, SCOPE_DISTRICT, "", "Xy#7-zhangsan-2"), "password",
         "username"},
        {"password has username in capitals",
         IN("zhangsan", "张三", rev, SCOPE_DISTRICT, "", "ZhangSan#20261"), "password", "username"},
        {"common password", IN("alice", "甲", rev, SCOPE_DISTRICT, "", "Password2026!"), "password",
         "common"},
        {"common password 2", IN("alice", "甲", rev, SCOPE_DISTRICT, "", "Qianlima@2026"),
         "password", "common"},
        {"password too long", IN("alice", "甲", rev, SCOPE_DISTRICT, "", NULL), "password", "128"},
    };
    char too_long_pw[160];
    repeat(too_long_pw, sizeof too_long_pw, "aB3#", 33); /* 132 bytes */
    char *before = snapshot();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct user_input in = cases[i].in;
        if (strcmp(cases[i].what, "password too long") == 0) in.password = too_long_pw;
        int64_t id = -7;
        char temp[24] = "x";
        ql_err err = {0};
        int rc = account_user_create(F.s, &F.admin, &in, &id, temp, &err);
        expect_err(cases[i].what, rc, &err, QL_EINVAL, cases[i].field);
        if (cases[i].en_has && !strstr(err.en, cases[i].en_has))
            fail_msg("%s: message '%s' does not say '%s'", cases[i].what, err.en, cases[i].en_has);
        if (id != -7) fail_msg("%s: id was written", cases[i].what);
        if (temp[0]) fail_msg("%s: a temporary password was returned", cases[i].what);
        expect_unchanged(cases[i].what, before);
    }
    free(before);

    /* A taken username. */
    make_simple("dup.user", RB(ROLE_REVIEWER));
    before = snapshot();
    struct user_input dup = IN("dup.user", "另一个人", RB(ROLE_FINANCE), SCOPE_DISTRICT, "", NULL);
    int64_t id = -7;
    char temp[24];
    ql_err err = {0};
    int rc = account_user_create(F.s, &F.admin, &dup, &id, temp, &err);
    expect_err("duplicate", rc, &err, QL_ECONFLICT, "username");
    assert_non_null(strstr(err.en, "dup.user"));
    assert_string_equal(temp, "");
    assert_int_equal(id, -7);
    expect_unchanged("duplicate", before);

    /* Without user.manage, and without anybody. */
    make_simple("aud.itor", RB(ROLE_AUDITOR));
    actor auditor;
    signed_in("aud.itor", USER_PW, &auditor, NULL);
    free(before);
    before = snapshot();
    struct user_input ok = IN("newbie", "新人", RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", NULL);
    memset(&err, 0, sizeof err);
    rc = account_user_create(F.s, &auditor, &ok, &id, temp, &err);
    expect_err("auditor", rc, &err, QL_EFORBIDDEN, NULL);
    assert_non_null(strstr(err.en, "user.manage"));
    assert_string_equal(temp, "");
    actor anon;
    memset(&anon, 0, sizeof anon);
    anon.via = VIA_NONE;
    anon.perms = ~(permset)0; /* permissions do not help an anonymous visitor */
    memset(&err, 0, sizeof err);
    rc = account_user_create(F.s, &anon, &ok, &id, temp, &err);
    expect_err("anonymous", rc, &err, QL_EUNAUTH, NULL);
    assert_int_equal(id, -7);
    expect_unchanged("forbidden", before);
    free(before);
    assert_int_equal(account_user_id(F.s, "newbie", &id, &err), QL_ENOTFOUND);
}

/* --- 2. signing in -------------------------------------------------------- */

static void test_signin_wrong_and_unknown(void **state)
{
    (void)state;
    int64_t uid = make_simple("qian.yi", RB(ROLE_REVIEWER));
    struct signin_result r;
    ql_err wrong, unknown;
    int64_t rows = audit_rows();

    int rc = try_signin("qian.yi", "Wrong#Pass-123", &r, &wrong);
    expect_err("wrong password", rc, &wrong, QL_EUNAUTH, "password");
    assert_string_equal(r.token, "");
    assert_int_equal(r.user_id, 0);
    assert_int_equal(audit_rows(), ++rows);
    struct audit_row a;
    last_audit(&a);
    assert_string_equal(a.action, "auth.signin_failed");
    assert_non_null(strstr(a.detail, "wrong_password"));
    assert_string_equal(a.ip, IP);
    assert_string_equal(a.request_id, "req-test");
    char oid[24];
    snprintf(oid, sizeof oid, "%" PRId64, uid);
    assert_string_equal(a.object_id, oid);
    assert_int_equal(user_col(uid, "failed_signins"), 1);

    rc = try_signin("no.such.user", "Wrong#Pass-123", &r, &unknown);
    expect_err("unknown user", rc, &unknown, QL_EUNAUTH, "password");
    /* One answer for both: it does not tell which usernames exist. */
    assert_string_equal(unknown.en, wrong.en);
    assert_string_equal(unknown.zh, wrong.zh);
    assert_string_equal(unknown.field, wrong.field);
    assert_int_equal(audit_rows(), ++rows);
    last_audit(&a);
    assert_string_equal(a.action, "auth.signin_failed");
    assert_string_equal(a.actor, "anonymous");
    assert_non_null(strstr(a.detail, "unknown_user"));

    /* A right password after a wrong one signs in and clears the count. */
    signin_ok("qian.yi", USER_PW, &r);
    assert_int_equal(audit_rows(), ++rows);
    expect_last_audit("success", "auth.signin", NULL);
    assert_int_equal(user_col(uid, "failed_signins"), 0);

    /* Usernames are lower case: the same name in capitals is the same
     * account, and a wrong password there counts against it. */
    signin_ok("QIAN.YI", USER_PW, &r);
    rc = try_signin("QIAN.YI", "Wrong#Pass-123", &r, &unknown);
    expect_err("upper-case username", rc, &unknown, QL_EUNAUTH, "password");
    assert_string_equal(unknown.en, wrong.en);
    assert_int_equal(user_col(uid, "failed_signins"), 1);

    /* Missing input is refused before anything is looked up. */
    ql_err err;
    rc = try_signin("", USER_PW, &r, &err);
    expect_err("empty username", rc, &err, QL_EINVAL, "username");
    rc = try_signin("qian.yi", "", &r, &err);
    expect_err("empty password", rc, &err, QL_EINVAL, "password");
    memset(&err, 0, sizeof err);
    rc = account_signin(F.s, NULL, USER_PW, IP, "", NULL, "", &r, &err);
    expect_err("NULL username", rc, &err, QL_EINVAL, "username");
}

static void test_signin_lockout(void **state)
{
    (void)state;
    int64_t uid = make_simple("lock.me", RB(ROLE_LEADERSHIP));
    long after = cfg.lockout_after;
    assert_int_equal(after, 5);
    struct signin_result r;
    ql_err err;
    int rc;
    for (long i = 1; i < after; i++) {
        int64_t rows = audit_rows();
        rc = try_signin("lock.me", "Wrong#Pass-123", &r, &err);
        expect_err("wrong password", rc, &err, QL_EUNAUTH, "password");
        assert_int_equal(audit_rows(), rows + 1);
        expect_last_audit("wrong password", "auth.signin_failed", "wrong_password");
        assert_int_equal(user_col(uid, "failed_signins"), i);
    }
    int64_t t0 = auth_now();
    rc = try_signin("lock.me", "Wrong#Pass-123", &r, &err);
    int64_t t1 = auth_now();
    expect_err("the wrong password that locks", rc, &err, QL_EFORBIDDEN, "username");
    expect_last_audit("locking", "auth.signin_failed", "locked_now");
    char hm0[8], hm1[8];
    hhmm(t0 + cfg.lockout_minutes * 60, hm0);
    hhmm(t1 + cfg.lockout_minutes * 60, hm1);
    if (!strstr(err.en, hm0) && !strstr(err.en, hm1))
        fail_msg("lock message '%s' lacks the unlock time %s", err.en, hm0);
    if (!strstr(err.zh, hm0) && !strstr(err.zh, hm1))
        fail_msg("lock message '%s' lacks the unlock time %s", err.zh, hm0);
    int64_t until = user_col(uid, "locked_until");
    assert_true(until >= t0 + cfg.lockout_minutes * 60 && until <= t1 + cfg.lockout_minutes * 60);
    assert_true(user_flag(uid, "locked"));

    /* While locked, even the right password is refused, and no session starts. */
    int64_t rows = audit_rows();
    rc = try_signin("lock.me", USER_PW, &r, &err);
    expect_err("right password while locked", rc, &err, QL_EFORBIDDEN, "username");
    assert_string_equal(r.token, "");
    if (!strstr(err.en, hm0) && !strstr(err.en, hm1))
        fail_msg("lock message '%s' lacks the unlock time", err.en);
    assert_int_equal(audit_rows(), rows + 1);
    expect_last_audit("locked", "auth.signin_failed", "\"locked\"");
    assert_int_equal(
        qint("SELECT count(*) FROM sessions WHERE user_id = $1", (store_val[]){SV_INT(uid)}, 1), 0);

    /* A password reset unlocks (with a new password). */
    char temp[24];
    memset(&err, 0, sizeof err);
    assert_int_equal(account_user_reset_password(F.s, &F.admin, uid, temp, &err), 0);
    assert_int_equal(strlen(temp), 16);
    assert_false(user_flag(uid, "locked"));
    assert_int_equal(user_col(uid, "locked_until"), -1);
    rc = try_signin("lock.me", USER_PW, &r, &err);
    expect_err("old password after reset", rc, &err, QL_EUNAUTH, "password");
    signin_ok("lock.me", temp, &r);
    assert_int_equal(r.must_change_password, 1);
    assert_int_equal(user_col(uid, "failed_signins"), 0);

    /* Only failures in a row count: a success in between starts again. */
    for (long i = 1; i < after; i++) {
        rc = try_signin("lock.me", "Wrong#Pass-123", &r, &err);
        expect_err("wrong again", rc, &err, QL_EUNAUTH, "password");
    }
    signin_ok("lock.me", temp, &r);
    for (long i = 1; i < after; i++) {
        rc = try_signin("lock.me", "Wrong#Pass-123", &r, &err);
        expect_err("wrong after success", rc, &err, QL_EUNAUTH, "password");
    }
    signin_ok("lock.me", temp, &r);

    /* A lock ends by itself when its time has passed. */
    for (long i = 1; i <= after; i++) rc = try_signin("lock.me", "Wrong#Pass-123", &r, &err);
    expect_err("locked again", rc, &err, QL_EFORBIDDEN, "username");
    rc = try_signin("lock.me", temp, &r, &err);
    expect_err("locked again, right password", rc, &err, QL_EFORBIDDEN, "username");
    assert_int_equal(store_exec(F.s, "UPDATE users SET locked_until = $1 WHERE id = $2",
                                (store_val[]){SV_INT(auth_now() - 1), SV_INT(uid)}, 2, NULL),
                     0);
    signin_ok("lock.me", temp, &r);
}

static void test_signin_disabled(void **state)
{
    (void)state;
    int64_t uid = make_simple("tui.xiu", RB(ROLE_FINANCE));
    ql_err err = {0};
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 1, &err), 0);
    assert_true(user_flag(uid, "disabled"));
    struct signin_result r;
    int64_t rows = audit_rows();
    int rc = try_signin("tui.xiu", USER_PW, &r, &err);
    expect_err("disabled", rc, &err, QL_EFORBIDDEN, "username");
    assert_non_null(strstr(err.en, "disabled"));
    assert_string_equal(r.token, "");
    assert_int_equal(audit_rows(), rows + 1);
    expect_last_audit("disabled", "auth.signin_failed", "disabled");
    assert_int_equal(live_sessions(uid), 0);
    /* A wrong password is just wrong. */
    rc = try_signin("tui.xiu", "Wrong#Pass-123", &r, &err);
    expect_err("disabled, wrong password", rc, &err, QL_EUNAUTH, "password");
    memset(&err, 0, sizeof err);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 0, &err), 0);
    signin_ok("tui.xiu", USER_PW, &r);
}

/* Each kind of attempt leaves exactly one row; no typed password is kept. */
static void test_signin_audit(void **state)
{
    (void)state;
    static const char *const wrongs[] = {"Wr0ng-First#pw", "Wr0ng-Second#pw", "Wr0ng-Third#pw",
                                         "Wr0ng-Fourth#pw", "Wr0ng-Fifth#pw"};
    make_simple("sun.qi", RB(ROLE_REVIEWER));
    make_simple("zhou.ba", RB(ROLE_REVIEWER));
    int64_t ok0 = audit_count("auth.signin"), bad0 = audit_count("auth.signin_failed");
    const char *by_ip = "SELECT count(*) FROM audit_log WHERE action LIKE 'auth.signin%' "
                        "AND ip = '" IP "'";
    int64_t ip0 = qint(by_ip, NULL, 0);
    struct signin_result r;
    ql_err err;
    signin_ok("sun.qi", USER_PW, &r);                                      /* success */
    try_signin("nobody.here", "Unkn0wn-User#pw", &r, &err);                /* unknown user */
    for (int i = 0; i < 5; i++) try_signin("sun.qi", wrongs[i], &r, &err); /* 4 wrong, 1 lock */
    assert_int_equal(err.code, QL_EFORBIDDEN);
    try_signin("sun.qi", USER_PW, &r, &err); /* locked */
    ql_err e2 = {0};
    int64_t zid = 0;
    assert_int_equal(account_user_id(F.s, "zhou.ba", &zid, &e2), 0);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, zid, 1, &e2), 0);
    try_signin("zhou.ba", USER_PW, &r, &err); /* disabled */
    assert_int_equal(err.code, QL_EFORBIDDEN);
    assert_int_equal(audit_count("auth.signin"), ok0 + 1);
    assert_int_equal(audit_count("auth.signin_failed"), bad0 + 8);
    assert_int_equal(qint("SELECT count(*) FROM audit_log WHERE action = 'auth.signin_failed' "
                          "AND detail LIKE '%locked_now%'",
                          NULL, 0),
                     1);
    assert_int_equal(qint("SELECT count(*) FROM audit_log WHERE action = 'auth.signin_failed' "
                          "AND detail LIKE '%\"disabled\"%'",
                          NULL, 0),
                     1);
    assert_int_equal(qint(by_ip, NULL, 0), ip0 + 9);
    /* No password typed into the password field is kept anywhere. */
    const char *typed[] = {USER_PW,   ADMIN_PW,  "Unkn0wn-User#pw", wrongs[0],
                           wrongs[1], wrongs[2], wrongs[3],         wrongs[4]};
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        if (table_contains("audit_log", typed[i]))
            fail_msg("audit_log contains the typed password '%s'", typed[i]);
        if (anywhere(typed[i])) fail_msg("the database contains the password '%s'", typed[i]);
    }
}

/* A hash made at another cost is replaced at the next successful sign-in. */
static void test_signin_rehash(void **state)
{
    (void)state;
    int64_t uid = make_simple("re.hash", RB(ROLE_REVIEWER));
    char before[PASSWORD_HASH_MAX], after[PASSWORD_HASH_MAX];
    user_text(uid, "password_hash", before, sizeof before);
    assert_int_equal(password_needs_rehash(before, "min"), 0);
    ql_config c2;
    ql_err err = {0};
    config_defaults(&c2);
    assert_int_equal(config_set(&c2, "security", "password_hash", "interactive", "test", &err), 0);
    account_init(&c2);
    config_free(&c2);
    struct signin_result r;
    signin_ok("re.hash", USER_PW, &r);
    user_text(uid, "password_hash", after, sizeof after);
    account_init(&cfg);
    assert_string_not_equal(before, after);
    assert_int_equal(password_needs_rehash(after, "interactive"), 0);
    assert_int_equal(password_verify(after, USER_PW), 1);
    /* A wrong password does not rehash. */
    int rc = try_signin("re.hash", "Wrong#Pass-123", &r, &err);
    expect_err("wrong", rc, &err, QL_EUNAUTH, "password");
    user_text(uid, "password_hash", before, sizeof before);
    assert_string_equal(before, after);
    signin_ok("re.hash", USER_PW, &r);
    user_text(uid, "password_hash", after, sizeof after);
    assert_int_equal(password_needs_rehash(after, "min"), 0);
}

/* "Every attempt is audited" (account.h): also one with an over-long username or password,
 * which is answered like a wrong password. */
static void test_signin_overlong_is_audited(void **state)
{
    (void)state;
    make_simple("long.try", RB(ROLE_REVIEWER));
    char user201[256], pw1025[1100];
    repeat(user201, sizeof user201, "x", 201);
    repeat(pw1025, sizeof pw1025, "P", 1025);
    struct signin_result r;
    ql_err err;
    int64_t rows = audit_rows();
    int rc = try_signin(user201, USER_PW, &r, &err);
    expect_err("201-byte username", rc, &err, QL_EUNAUTH, "password");
    if (audit_rows() != rows + 1) fail_msg("a sign-in with a 201-byte username left no audit row");
    rc = try_signin("long.try", pw1025, &r, &err);
    expect_err("1025-byte password", rc, &err, QL_EUNAUTH, "password");
    if (audit_rows() != rows + 2) fail_msg("a sign-in with a 1025-byte password left no audit row");
}

/* The audited username of an unknown account is cut to 64 bytes; cut inside a character it
 * is no longer UTF-8, and the row loses its detail (reason and username). */
static void test_signin_unknown_non_ascii_audited(void **state)
{
    (void)state;
    char typed[128];
    repeat(typed, sizeof typed, "王", 30); /* 90 bytes: cut at 64 falls inside a character */
    struct signin_result r;
    ql_err err;
    int rc = try_signin(typed, "Some#Password-1", &r, &err);
    expect_err("non-ASCII unknown username", rc, &err, QL_EUNAUTH, "password");
    struct audit_row a;
    last_audit(&a);
    assert_string_equal(a.action, "auth.signin_failed");
    if (!strstr(a.detail, "unknown_user"))
        fail_msg("the audit row of a failed sign-in lost its detail: %s", a.detail);
    /* What was typed for a name without an account may be a password typed
     * into the wrong field: only a keyed digest of it is kept. */
    char head[64];
    repeat(head, sizeof head, "王", 3);
    assert_null(strstr(a.detail, head));
    assert_non_null(strstr(a.detail, "\"username_digest\":\""));
}

/* The session keeps at most 255 bytes of the user agent; cut inside a character, the text
 * is not UTF-8 (which PostgreSQL refuses to store). */
static void test_signin_long_user_agent(void **state)
{
    (void)state;
    make_simple("ua.user", RB(ROLE_REVIEWER));
    char ua[300];
    repeat(ua, sizeof ua, "a", 254);
    snprintf(ua + 254, sizeof ua - 254, "%s", "é-浏览器"); /* the cut at 255 falls in 'é' */
    struct signin_result r;
    ql_err err = {0};
    int rc = account_signin(F.s, "ua.user", USER_PW, IP, ua, NULL, "req-ua", &r, &err);
    if (rc)
        fail_msg("sign-in with a 262-byte user agent: %d %s (%s)", rc, err.en, store_errmsg(F.s));
    char kept[300] = "";
    store_rows *rows;
    assert_int_equal(store_query(F.s, "SELECT user_agent FROM sessions WHERE id = $1",
                                 (store_val[]){SV_INT(r.session_id)}, 1, &rows),
                     0);
    assert_int_equal(store_step(rows), 1);
    snprintf(kept, sizeof kept, "%s", store_col_text(rows, 0, NULL));
    store_rows_close(rows);
    json_t *j = json_string(kept);
    if (!j) fail_msg("the stored user agent (%zu bytes) is not valid UTF-8", strlen(kept));
    json_decref(j);
    assert_int_equal(strncmp(kept, ua, strlen(kept)), 0);
}

/* --- 3. sessions ------------------------------------------------------------ */

static void test_session_actor_and_signout(void **state)
{
    (void)state;
    unsigned roles = RB(ROLE_REVIEWER) | RB(ROLE_WINDOW_CLERK);
    int64_t uid = make_user(&F.admin, "shen.pi", "沈丕", roles, SCOPE_DISTRICT, "", USER_PW);
    confirm_grants(uid);
    struct signin_result r;
    signin_ok("shen.pi", USER_PW, &r);
    assert_int_equal(r.user_id, uid);
    actor a;
    session_ok(r.token, &a);
    assert_int_equal(a.user_id, uid);
    assert_string_equal(a.username, "shen.pi");
    assert_string_equal(a.display_name, "沈丕");
    assert_int_equal(a.roles, roles);
    assert_true(a.perms == roles_perms(roles));
    assert_int_equal(a.scope, SCOPE_DISTRICT);
    assert_int_equal(a.session_id, r.session_id);
    assert_string_equal(a.csrf, r.csrf);
    assert_int_equal(a.must_change_password, 1);
    assert_true(actor_can(&a, P_SUBSIDY_REVIEW));
    assert_true(actor_can(&a, P_WINDOW_ACCEPT));
    assert_false(actor_can(&a, P_USER_MANAGE));
    assert_false(actor_can(&a, P_TOKEN_MANAGE));
    /* The database holds the session's hash, never its token. */
    assert_false(anywhere(r.token));
    assert_int_equal(qint("SELECT count(*) FROM sessions WHERE id = $1 AND ip = $2 "
                          "AND user_agent = 'test-agent/1.0'",
                          (store_val[]){SV_INT(r.session_id), SV_TEXT(IP)}, 2),
                     1);
    /* Unknown tokens. */
    actor b;
    assert_int_equal(sess("not-a-token", auth_now(), &b), QL_EUNAUTH);
    assert_int_equal(sess("", auth_now(), &b), QL_EUNAUTH);

    /* A second session stays when the first signs out. */
    struct signin_result r2;
    signin_ok("shen.pi", USER_PW, &r2);
    ql_err err = {0};
    int64_t rows = audit_rows();
    assert_int_equal(account_signout(F.s, &a, 0, &err), 0);
    assert_int_equal(audit_rows(), rows + 1);
    expect_last_audit("signout", "auth.signout", "\"sessions_ended\":1");
    assert_int_equal(sess(r.token, auth_now(), &b), QL_EUNAUTH);
    session_ok(r2.token, &b);

    /* Only a session can sign out. */
    char *before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("cli signout", account_signout(F.s, &F.cli, 0, &err), &err, QL_EINVAL, NULL);
    actor anon;
    memset(&anon, 0, sizeof anon);
    memset(&err, 0, sizeof err);
    expect_err("anonymous signout", account_signout(F.s, &anon, 1, &err), &err, QL_EUNAUTH, NULL);
    expect_unchanged("signout refused", before);
    free(before);
}

/* The session actor carries the whole display name (up to 100 characters). */
static void test_session_long_display_name(void **state)
{
    (void)state;
    char name[400];
    repeat(name, sizeof name, "张", 40); /* 40 characters, 120 bytes */
    make_user(&F.admin, "long.name", name, RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", USER_PW);
    actor a;
    signed_in("long.name", USER_PW, &a, NULL);
    json_t *j = json_string(a.display_name); /* NULL when not valid UTF-8 */
    if (!j)
        fail_msg("the session actor's display name is not valid UTF-8 (%zu bytes kept of %zu)",
                 strlen(a.display_name), strlen(name));
    json_decref(j);
    assert_string_equal(a.display_name, name);
}

static void test_signout_everywhere(void **state)
{
    (void)state;
    int64_t uid = make_simple("ma.jiu", RB(ROLE_REVIEWER));
    struct signin_result r[3], other;
    for (int i = 0; i < 3; i++) signin_ok("ma.jiu", USER_PW, &r[i]);
    make_simple("other.one", RB(ROLE_REVIEWER));
    signin_ok("other.one", USER_PW, &other);
    actor a, b;
    session_ok(r[1].token, &a);
    ql_err err = {0};
    assert_int_equal(account_signout(F.s, &a, 1, &err), 0);
    expect_last_audit("signout everywhere", "auth.signout_all", "\"sessions_ended\":3");
    for (int i = 0; i < 3; i++) assert_int_equal(sess(r[i].token, auth_now(), &b), QL_EUNAUTH);
    assert_int_equal(live_sessions(uid), 0);
    session_ok(other.token, &b);
    session_ok(F.admin_in.token, &b);
    /* Signing in again works. */
    signin_ok("ma.jiu", USER_PW, &r[0]);
    session_ok(r[0].token, &b);
}

static void test_session_expiry(void **state)
{
    (void)state;
    make_simple("zheng.shi", RB(ROLE_REVIEWER));
    const struct session_limits *lim = account_session_limits();
    assert_int_equal(lim->idle_s, cfg.session_idle * 60);
    assert_int_equal(lim->max_s, cfg.session_max * 3600);
    struct signin_result r;
    signin_ok("zheng.shi", USER_PW, &r);
    int64_t created = qint("SELECT created_at FROM sessions WHERE id = $1",
                           (store_val[]){SV_INT(r.session_id)}, 1);
    actor a;
    /* Idle: unused for idle_s has ended, however young. */
    assert_int_equal(sess(r.token, created + lim->idle_s, &a), QL_EUNAUTH);
    assert_int_equal(sess(r.token, created + lim->idle_s + 3600, &a), QL_EUNAUTH);

    /* Used just in time, again and again, it lives until max_s in all. */
    int64_t step = lim->idle_s - 1, t = created;
    while (t + step < created + lim->max_s) {
        t += step;
        if (sess(r.token, t, &a)) fail_msg("refused at +%" PRId64 " s though used", t - created);
    }
    assert_int_equal(sess(r.token, created + lim->max_s - 1, &a), 0);
    assert_int_equal(sess(r.token, created + lim->max_s, &a), QL_EUNAUTH);
    assert_int_equal(sess(r.token, created + lim->max_s + 1, &a), QL_EUNAUTH);

    /* A second session that went idle. */
    struct signin_result r2;
    signin_ok("zheng.shi", USER_PW, &r2);
    int64_t c2 = qint("SELECT created_at FROM sessions WHERE id = $1",
                      (store_val[]){SV_INT(r2.session_id)}, 1);
    assert_int_equal(sess(r2.token, c2 + lim->idle_s - 1, &a), 0);
    assert_int_equal(sess(r2.token, c2 + 2 * lim->idle_s - 1, &a), QL_EUNAUTH);
}

static void test_disable_ends_sessions(void **state)
{
    (void)state;
    int64_t uid = make_simple("wu.shi", RB(ROLE_LEADERSHIP));
    struct signin_result r1, r2;
    signin_ok("wu.shi", USER_PW, &r1);
    signin_ok("wu.shi", USER_PW, &r2);
    assert_int_equal(live_sessions(uid), 2);
    ql_err err = {0};
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 1, &err), 0);
    assert_int_equal(live_sessions(uid), 0);
    actor a;
    assert_int_equal(sess(r1.token, auth_now(), &a), QL_EUNAUTH);
    assert_int_equal(sess(r2.token, auth_now(), &a), QL_EUNAUTH);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 0, &err), 0);
    /* Enabling does not bring ended sessions back. */
    assert_int_equal(sess(r1.token, auth_now(), &a), QL_EUNAUTH);
    signed_in("wu.shi", USER_PW, &a, NULL);
    /* Nor does a reset leave any session alive. */
    char temp[24];
    assert_int_equal(account_user_reset_password(F.s, &F.admin, uid, temp, &err), 0);
    assert_int_equal(live_sessions(uid), 0);
}

struct bad_change {
    const char *what;
    const char *current, *new_password, *confirm;
    const char *field;
};

static void test_change_password(void **state)
{
    (void)state;
    struct user_input in = IN("chen.yi", "陈一", RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", NULL);
    int64_t uid = 0;
    char temp[24];
    ql_err err = {0};
    assert_int_equal(account_user_create(F.s, &F.admin, &in, &uid, temp, &err), 0);
    struct signin_result ra, rb;
    actor a, b;
    signed_in("chen.yi", temp, &a, &ra);
    signed_in("chen.yi", temp, &b, &rb);
    assert_int_equal(a.must_change_password, 1);

    const struct bad_change cases[] = {
        {"no current", "", NEW_PW, NEW_PW, "current_password"},
        {"NULL current", NULL, NEW_PW, NEW_PW, "current_password"},
        {"no new", temp, "", "", "new_password"},
        {"NULL new", temp, NULL, NULL, "new_password"},
        {"mismatch", temp, NEW_PW, "Gr33n+Harbour-Lamq", "confirm_password"},
        {"NULL confirm", temp, NEW_PW, NULL, "confirm_password"},
        {"too short", temp, "Ab3#efgh", "Ab3#efgh", "new_password"},
        {"two kinds", temp, "abcdefgh123456", "abcdefgh123456", "new_password"},
        {"has username", temp, "Xy#7-Chen.Yi-2", "Xy#7-Chen.Yi-2", "new_password"},
        {"common", temp, "Password2026!", "Password2026!", "new_password"},
        {"same as current", temp, temp, temp, "new_password"},
    };
    char *before = snapshot();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&err, 0, sizeof err);
        int rc = account_change_password(F.s, &a, cases[i].current, cases[i].new_password,
                                         cases[i].confirm, TOK, &err);
        expect_err(cases[i].what, rc, &err, QL_EINVAL, cases[i].field);
        expect_unchanged(cases[i].what, before);
        assert_int_equal(a.must_change_password, 1);
    }
    free(before);

    /* A wrong current password changes nothing of the password, but counts
     * towards the lock-out and is audited, like a failed sign-in. */
    int64_t audited = audit_rows();
    memset(&err, 0, sizeof err);
    expect_err("wrong current",
               account_change_password(F.s, &a, "Not-The-Current#1", NEW_PW, NEW_PW, TOK, &err),
               &err, QL_EINVAL, "current_password");
    assert_int_equal(user_col(uid, "failed_signins"), 1);
    assert_int_equal(audit_rows(), audited + 1);
    expect_last_audit("wrong current", "auth.password_change_failed", "wrong_current_password");
    assert_int_equal(a.must_change_password, 1);

    /* Only a signed-in session changes its own password. */
    memset(&err, 0, sizeof err);
    expect_err("cli", account_change_password(F.s, &F.cli, temp, NEW_PW, NEW_PW, TOK, &err), &err,
               QL_EINVAL, NULL);
    actor anon;
    memset(&anon, 0, sizeof anon);
    memset(&err, 0, sizeof err);
    expect_err("anonymous", account_change_password(F.s, &anon, temp, NEW_PW, NEW_PW, TOK, &err),
               &err, QL_EUNAUTH, NULL);

    int64_t rows = audit_rows();
    memset(&err, 0, sizeof err);
    char old_csrf[sizeof a.csrf];
    snprintf(old_csrf, sizeof old_csrf, "%s", a.csrf);
    assert_int_equal(account_change_password(F.s, &a, temp, NEW_PW, NEW_PW, TOK, &err), 0);
    assert_int_equal(a.must_change_password, 0);
    assert_int_equal(audit_rows(), rows + 1);
    expect_last_audit("change", "auth.password_change", "\"other_sessions_ended\":1");
    assert_int_equal(user_col(uid, "must_change_password"), 0);
    /* This session stays under a new token and form token: the old token,
     * seen before the change, opens nothing; the other session has ended. */
    actor again;
    assert_int_equal(strlen(TOK), 43);
    assert_string_not_equal(TOK, ra.token);
    assert_int_equal(sess(ra.token, auth_now(), &again), QL_EUNAUTH);
    session_ok(TOK, &again);
    assert_int_equal(again.session_id, a.session_id);
    assert_string_equal(again.csrf, a.csrf);
    assert_string_not_equal(a.csrf, old_csrf);
    assert_false(anywhere(TOK));
    assert_int_equal(again.must_change_password, 0);
    assert_int_equal(sess(rb.token, auth_now(), &again), QL_EUNAUTH);
    assert_int_equal(live_sessions(uid), 1);
    /* The old password is gone, the new one works without a change. */
    struct signin_result r;
    int rc = try_signin("chen.yi", temp, &r, &err);
    expect_err("old password", rc, &err, QL_EUNAUTH, "password");
    signin_ok("chen.yi", NEW_PW, &r);
    assert_int_equal(r.must_change_password, 0);
    assert_false(anywhere(NEW_PW));
    assert_false(anywhere(temp));
}

/* --- 4. listing ------------------------------------------------------------- */

/* Lists q and checks the usernames of page 1 (of up to 100). */
static void expect_list(const char *q, const char *const *want, size_t nwant)
{
    json_t *rows = NULL;
    int64_t total = -1;
    ql_err err = {0};
    int rc = account_user_list(F.s, &F.admin, q, 1, 100, &rows, &total, &err);
    if (rc) fail_msg("list '%s': %d %s", q, rc, err.en);
    if (total != (int64_t)nwant || json_array_size(rows) != nwant) {
        char *dump = json_dumps(rows, JSON_COMPACT);
        fail_msg("list '%s': total %" PRId64 ", %zu rows, expected %zu: %s", q, total,
                 json_array_size(rows), nwant, dump ? dump : "");
    }
    for (size_t i = 0; i < nwant; i++) {
        const char *u = json_string_value(json_object_get(json_array_get(rows, i), "username"));
        if (!u || strcmp(u, want[i]) != 0)
            fail_msg("list '%s': row %zu is '%s', expected '%s'", q, i, u ? u : "(none)", want[i]);
    }
    json_decref(rows);
}

#define EXPECT_LIST(q, ...)                                                                        \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        expect_list(q, want_, sizeof want_ / sizeof want_[0]);                                     \
    } while (0)

static void test_list_search(void **state)
{
    (void)state;
    const unsigned rev = RB(ROLE_REVIEWER);
    make_user(&F.admin, "alice.wong", "Alice WONG", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "bob.li", "Robert ALISON", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "pct.a", "100% sure", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "pct.b", "1000 sure", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "under_x", "下划线", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "underax", "不是下划线", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "back.slash", "a\\b", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "plain.ab", "ab", rev, SCOPE_DISTRICT, "", NULL);
    make_user(&F.admin, "li.na", "李娜", rev, SCOPE_DISTRICT, "", NULL);

    /* Username or display name, ASCII case ignored on both sides. */
    EXPECT_LIST("wong", "alice.wong");
    EXPECT_LIST("WONG", "alice.wong");
    EXPECT_LIST("lIcE.W", "alice.wong");
    EXPECT_LIST("ALI", "alice.wong", "bob.li");
    EXPECT_LIST("robert", "bob.li");
    EXPECT_LIST("娜", "li.na");
    EXPECT_LIST("下划线", "under_x", "underax");
    /* % and _ and \ are themselves, not wildcards. */
    EXPECT_LIST("0% s", "pct.a");
    EXPECT_LIST("%", "pct.a");
    EXPECT_LIST("r_x", "under_x");
    EXPECT_LIST("_", "under_x");
    EXPECT_LIST("a\\b", "back.slash");
    EXPECT_LIST("\\", "back.slash");
    expect_list("no-such-thing-at-all", NULL, 0);
    /* Everyone, by username. */
    EXPECT_LIST("", "admin", "alice.wong", "back.slash", "bob.li", "li.na", "pct.a", "pct.b",
                "plain.ab", "under_x", "underax");
    EXPECT_LIST(NULL, "admin", "alice.wong", "back.slash", "bob.li", "li.na", "pct.a", "pct.b",
                "plain.ab", "under_x", "underax");
}

static void test_list_pages(void **state)
{
    (void)state;
    /* Created out of order, listed by username. */
    for (int k = 0; k < 25; k++) {
        int i = (k * 7) % 25 + 1;
        char u[16], d[32];
        snprintf(u, sizeof u, "pg%02d", i);
        snprintf(d, sizeof d, "Page user %d", i);
        make_user(&F.admin, u, d, RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", NULL);
    }
    static const size_t sizes[] = {10, 10, 5, 0};
    int next = 1;
    for (int page = 1; page <= 4; page++) {
        json_t *rows = NULL;
        int64_t total = -1;
        ql_err err = {0};
        assert_int_equal(account_user_list(F.s, &F.admin, "pg", page, 10, &rows, &total, &err), 0);
        assert_int_equal(total, 25);
        assert_int_equal(json_array_size(rows), sizes[page - 1]);
        for (size_t i = 0; i < json_array_size(rows); i++) {
            char want[16];
            snprintf(want, sizeof want, "pg%02d", next++);
            json_t *u = json_array_get(rows, i);
            assert_string_equal(json_string_value(json_object_get(u, "username")), want);
            assert_true(json_is_array(json_object_get(u, "roles")));
            assert_true(json_is_boolean(json_object_get(u, "locked")));
        }
        json_decref(rows);
    }
    assert_int_equal(next, 26);
    /* Without a search: the administrator too; per_page 100 and 1. */
    json_t *rows = NULL;
    int64_t total = -1;
    ql_err err = {0};
    assert_int_equal(account_user_list(F.s, &F.admin, NULL, 1, 100, &rows, &total, &err), 0);
    assert_int_equal(total, 26);
    assert_int_equal(json_array_size(rows), 26);
    json_decref(rows);
    assert_int_equal(account_user_list(F.s, &F.admin, "", 3, 1, &rows, &total, &err), 0);
    assert_int_equal(total, 26);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "username")),
                        "pg02");
    json_decref(rows);

    /* Invalid pages and sizes name their field. */
    char q101[128];
    repeat(q101, sizeof q101, "q", 101);
    const struct {
        const char *q;
        int64_t page, per_page;
        const char *field;
    } bad[] = {
        {NULL, 0, 10, "page"},         {NULL, -1, 10, "page"},   {NULL, 1000001, 10, "page"},
        {NULL, INT64_MIN, 10, "page"}, {NULL, 1, 0, "per_page"}, {NULL, 1, 101, "per_page"},
        {NULL, 1, -5, "per_page"},     {q101, 1, 10, "q"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rows = NULL;
        total = -7;
        memset(&err, 0, sizeof err);
        int rc = account_user_list(F.s, &F.admin, bad[i].q, bad[i].page, bad[i].per_page, &rows,
                                   &total, &err);
        char what[64];
        snprintf(what, sizeof what, "list page %" PRId64 " per_page %" PRId64, bad[i].page,
                 bad[i].per_page);
        expect_err(what, rc, &err, QL_EINVAL, bad[i].field);
        assert_null(rows);
        assert_int_equal(total, -7);
    }
    /* user.read is needed. */
    make_user(&F.admin, "talent.a", "人才甲", RB(ROLE_TALENT), SCOPE_SELF, "", USER_PW);
    actor t;
    signed_in("talent.a", USER_PW, &t, NULL);
    memset(&err, 0, sizeof err);
    expect_err("talent lists", account_user_list(F.s, &t, NULL, 1, 10, &rows, &total, &err), &err,
               QL_EFORBIDDEN, NULL);
    assert_null(rows);
    memset(&err, 0, sizeof err);
    expect_err("talent gets", account_user_get(F.s, &t, F.admin_id, &rows, &err), &err,
               QL_EFORBIDDEN, NULL);
    assert_null(rows);
}

/* --- 5. disable, enable, reset -------------------------------------------- */

/* A change's audit row; differ: its before and after states must differ. */
static void expect_change_audit(const char *action, int64_t id, int differ)
{
    struct audit_row a;
    last_audit(&a);
    assert_string_equal(a.action, action);
    assert_string_equal(a.actor, "admin");
    char oid[24];
    snprintf(oid, sizeof oid, "%" PRId64, id);
    assert_string_equal(a.object_id, oid);
    assert_int_equal(strlen(a.before), 64);
    assert_int_equal(strlen(a.after), 64);
    if (differ) assert_string_not_equal(a.before, a.after);
}

static void test_disable_enable_reset(void **state)
{
    (void)state;
    int64_t uid = make_simple("he.er", RB(ROLE_LEADERSHIP));
    ql_err err = {0};
    char *before = snapshot();
    /* Not oneself. */
    expect_err("disable self", account_user_set_disabled(F.s, &F.admin, F.admin_id, 1, &err), &err,
               QL_ECONFLICT, "id");
    /* Unknown ids. */
    const int64_t unknown[] = {999999, 0, -1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        memset(&err, 0, sizeof err);
        expect_err("disable unknown", account_user_set_disabled(F.s, &F.admin, unknown[i], 1, &err),
                   &err, QL_ENOTFOUND, "id");
        memset(&err, 0, sizeof err);
        expect_err("enable unknown", account_user_set_disabled(F.s, &F.admin, unknown[i], 0, &err),
                   &err, QL_ENOTFOUND, "id");
        char temp[24] = "x";
        memset(&err, 0, sizeof err);
        expect_err("reset unknown",
                   account_user_reset_password(F.s, &F.admin, unknown[i], temp, &err), &err,
                   QL_ENOTFOUND, "id");
        assert_string_equal(temp, "");
        json_t *u = NULL;
        memset(&err, 0, sizeof err);
        expect_err("get unknown", account_user_get(F.s, &F.admin, unknown[i], &u, &err), &err,
                   QL_ENOTFOUND, "id");
        assert_null(u);
    }
    /* Without user.manage. */
    make_simple("aud.two", RB(ROLE_AUDITOR));
    actor aud;
    signed_in("aud.two", USER_PW, &aud, NULL);
    free(before);
    before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("auditor disables", account_user_set_disabled(F.s, &aud, uid, 1, &err), &err,
               QL_EFORBIDDEN, NULL);
    char temp[24] = "x";
    memset(&err, 0, sizeof err);
    expect_err("auditor resets", account_user_reset_password(F.s, &aud, uid, temp, &err), &err,
               QL_EFORBIDDEN, NULL);
    assert_string_equal(temp, "");
    actor anon;
    memset(&anon, 0, sizeof anon);
    memset(&err, 0, sizeof err);
    expect_err("anonymous disables", account_user_set_disabled(F.s, &anon, uid, 1, &err), &err,
               QL_EUNAUTH, NULL);
    expect_unchanged("refused changes", before);
    free(before);
    /* An auditor may read. */
    json_t *u = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(account_user_get(F.s, &aud, uid, &u, &err), 0);
    json_decref(u);

    memset(&err, 0, sizeof err);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 1, &err), 0);
    expect_change_audit("user.disable", uid, 1);
    assert_true(user_flag(uid, "disabled"));
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 0, &err), 0);
    expect_change_audit("user.enable", uid, 1);
    assert_false(user_flag(uid, "disabled"));
    assert_int_equal(account_user_reset_password(F.s, &F.admin, uid, temp, &err), 0);
    expect_change_audit("user.password_reset", uid, 0);
    assert_int_equal(strlen(temp), 16);
    assert_true(user_flag(uid, "must_change_password"));
    assert_false(anywhere(temp));
    struct signin_result r;
    signin_ok("he.er", temp, &r);
    assert_int_equal(r.must_change_password, 1);
    /* The CLI actor may do it too. */
    assert_int_equal(account_user_set_disabled(F.s, &F.cli, uid, 1, &err), 0);
    struct audit_row a;
    last_audit(&a);
    assert_string_equal(a.action, "user.disable");
    assert_non_null(strstr(a.actor, "cli:"));
    assert_int_equal(audit_count("user.disable"), 2);
    assert_int_equal(audit_count("user.enable"), 1);
    assert_int_equal(audit_count("user.password_reset"), 1);
}

/* --- 6. API tokens ------------------------------------------------------------ */

static int tok(const char *token, int64_t now, actor *a)
{
    memset(a, 0, sizeof a[0]);
    return token_actor(F.s, token, now, a);
}

static void test_tokens(void **state)
{
    (void)state;
    char t1[64];
    int64_t id1 = 0;
    ql_err err = {0};
    int64_t rows = audit_rows();
    assert_int_equal(account_token_create(F.s, &F.admin, "admin", "metrics scraper",
                                          PERM_BIT(P_SYSTEM_METRICS), 30, t1, &id1, &err),
                     0);
    assert_true(id1 > 0);
    assert_int_equal(strncmp(t1, "qlt_", 4), 0);
    assert_int_equal(strlen(t1), 47);
    assert_int_equal(audit_rows(), rows + 1);
    expect_last_audit("token create", "token.create", "system.metrics");

    actor a;
    assert_int_equal(tok(t1, auth_now(), &a), 0);
    assert_int_equal(a.via, VIA_TOKEN);
    assert_int_equal(a.user_id, F.admin_id);
    assert_int_equal(a.token_id, id1);
    assert_true(a.perms == PERM_BIT(P_SYSTEM_METRICS));
    assert_true(actor_can(&a, P_SYSTEM_METRICS));
    assert_false(actor_can(&a, P_USER_READ));
    assert_false(actor_can(&a, P_TOKEN_MANAGE));

    /* A token never gives more than its user has. */
    int64_t rid = make_simple("svc.review", RB(ROLE_REVIEWER));
    char t2[64];
    int64_t id2 = 0;
    /* It acts as its account in every four-eyes check: made for one's own
     * account only, except by the operator on the command line. */
    rows = audit_rows();
    memset(&err, 0, sizeof err);
    expect_err("another account's token",
               account_token_create(F.s, &F.admin, "svc.review", "borrowed",
                                    PERM_BIT(P_SYSTEM_METRICS), 1, t2, &id2, &err),
               &err, QL_EFORBIDDEN, "username");
    assert_string_equal(t2, "");
    assert_int_equal(audit_rows(), rows);
    assert_int_equal(account_token_create(F.s, &F.cli, "svc.review", "review bot",
                                          PERM_BIT(P_SYSTEM_METRICS) | PERM_BIT(P_SUBSIDY_REVIEW) |
                                              PERM_BIT(P_USER_MANAGE),
                                          1, t2, &id2, &err),
                     0);
    assert_int_equal(tok(t2, auth_now(), &a), 0);
    assert_int_equal(a.user_id, rid);
    assert_true(a.perms == PERM_BIT(P_SUBSIDY_REVIEW));
    assert_false(actor_can(&a, P_SYSTEM_METRICS));
    assert_false(actor_can(&a, P_USER_MANAGE));
    /* The token's user disabled: refused; enabled again: accepted. */
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, rid, 1, &err), 0);
    assert_int_equal(tok(t2, auth_now(), &a), QL_EUNAUTH);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, rid, 0, &err), 0);
    assert_int_equal(tok(t2, auth_now(), &a), 0);

    /* Expiry. */
    int64_t exp2 =
        qint("SELECT expires_at FROM api_tokens WHERE id = $1", (store_val[]){SV_INT(id2)}, 1);
    int64_t created2 =
        qint("SELECT created_at FROM api_tokens WHERE id = $1", (store_val[]){SV_INT(id2)}, 1);
    assert_int_equal(exp2 - created2, 86400);
    assert_int_equal(tok(t2, exp2 - 1, &a), 0);
    assert_int_equal(tok(t2, exp2, &a), QL_EUNAUTH);
    assert_int_equal(tok(t2, exp2 + 86400, &a), QL_EUNAUTH);

    /* Not a token, or someone else's guess. */
    assert_int_equal(tok("qlt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", auth_now(), &a),
                     QL_EUNAUTH);
    assert_int_equal(tok(t1 + 4, auth_now(), &a), QL_EUNAUTH);
    assert_int_equal(tok(F.admin_in.token, auth_now(), &a), QL_EUNAUTH);

    /* The list shows the prefix, never the token. */
    json_t *list = NULL;
    assert_int_equal(account_token_list(F.s, &F.admin, &list, &err), 0);
    assert_int_equal(json_array_size(list), 2);
    json_t *first = json_array_get(list, 0);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%.12s", t1);
    assert_string_equal(json_string_value(json_object_get(first, "prefix")), prefix);
    assert_string_equal(json_string_value(json_object_get(first, "username")), "admin");
    assert_string_equal(json_string_value(json_object_get(first, "permissions")), "system.metrics");
    assert_true(json_is_false(json_object_get(first, "revoked")));
    char *dump = json_dumps(list, JSON_COMPACT);
    assert_non_null(dump);
    assert_null(strstr(dump, t1));
    assert_null(strstr(dump, t2));
    free(dump);
    json_decref(list);

    /* Revoke: refused afterwards; twice is not found. */
    rows = audit_rows();
    memset(&err, 0, sizeof err);
    assert_int_equal(account_token_revoke(F.s, &F.admin, id1, &err), 0);
    assert_int_equal(audit_rows(), rows + 1);
    expect_last_audit("revoke", "token.revoke", NULL);
    assert_int_equal(tok(t1, auth_now(), &a), QL_EUNAUTH);
    char *before = snapshot();
    memset(&err, 0, sizeof err);
    expect_err("revoke twice", account_token_revoke(F.s, &F.admin, id1, &err), &err, QL_ENOTFOUND,
               "id");
    memset(&err, 0, sizeof err);
    expect_err("revoke unknown", account_token_revoke(F.s, &F.admin, 424242, &err), &err,
               QL_ENOTFOUND, "id");
    expect_unchanged("revoke refused", before);
    free(before);
    assert_int_equal(account_token_list(F.s, &F.admin, &list, &err), 0);
    assert_true(json_is_true(json_object_get(json_array_get(list, 0), "revoked")));
    assert_true(json_is_false(json_object_get(json_array_get(list, 1), "revoked")));
    json_decref(list);

    /* Invalid requests name their field. */
    char name101[128];
    repeat(name101, sizeof name101, "n", 101);
    const struct {
        const char *what, *username, *name;
        permset perms;
        long days;
        int code;
        const char *field;
    } bad[] = {
        {"0 days", "admin", "x", PERM_BIT(P_USER_READ), 0, QL_EINVAL, "days"},
        {"-1 days", "admin", "x", PERM_BIT(P_USER_READ), -1, QL_EINVAL, "days"},
        {"3651 days", "admin", "x", PERM_BIT(P_USER_READ), 3651, QL_EINVAL, "days"},
        {"no name", "admin", "", PERM_BIT(P_USER_READ), 30, QL_EINVAL, "name"},
        {"NULL name", "admin", NULL, PERM_BIT(P_USER_READ), 30, QL_EINVAL, "name"},
        {"name too long", "admin", name101, PERM_BIT(P_USER_READ), 30, QL_EINVAL, "name"},
        {"no permissions", "admin", "x", 0, 30, QL_EINVAL, "permissions"},
        {"unknown user", "nobody.at.all", "x", PERM_BIT(P_USER_READ), 30, QL_ENOTFOUND, "username"},
    };
    before = snapshot();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char t[64] = "x";
        int64_t id = -7;
        memset(&err, 0, sizeof err);
        int rc = account_token_create(F.s, &F.admin, bad[i].username, bad[i].name, bad[i].perms,
                                      bad[i].days, t, &id, &err);
        expect_err(bad[i].what, rc, &err, bad[i].code, bad[i].field);
        assert_string_equal(t, "");
        assert_int_equal(id, -7);
        expect_unchanged(bad[i].what, before);
    }
    free(before);
    /* token.manage is needed. */
    actor rev;
    signed_in("svc.review", USER_PW, &rev, NULL);
    before = snapshot();
    char t[64];
    memset(&err, 0, sizeof err);
    expect_err("reviewer creates",
               account_token_create(F.s, &rev, "svc.review", "mine", PERM_BIT(P_SUBSIDY_REVIEW), 30,
                                    t, NULL, &err),
               &err, QL_EFORBIDDEN, NULL);
    assert_non_null(strstr(err.en, "token.manage"));
    memset(&err, 0, sizeof err);
    expect_err("reviewer revokes", account_token_revoke(F.s, &rev, id2, &err), &err, QL_EFORBIDDEN,
               NULL);
    memset(&err, 0, sizeof err);
    expect_err("reviewer lists", account_token_list(F.s, &rev, &list, &err), &err, QL_EFORBIDDEN,
               NULL);
    expect_unchanged("reviewer refused", before);
    free(before);
    /* A token acting for an administrator but without token.manage cannot either. */
    char t3[64];
    int64_t id3 = 0;
    memset(&err, 0, sizeof err);
    assert_int_equal(account_token_create(F.s, &F.admin, "admin", "reader", PERM_BIT(P_USER_READ),
                                          3650, t3, &id3, &err),
                     0);
    actor ta;
    assert_int_equal(tok(t3, auth_now(), &ta), 0); /* records its use */
    before = snapshot();
    assert_true(actor_can(&ta, P_USER_READ));
    memset(&err, 0, sizeof err);
    expect_err(
        "token without token.manage",
        account_token_create(F.s, &ta, "admin", "more", PERM_BIT(P_USER_MANAGE), 30, t, NULL, &err),
        &err, QL_EFORBIDDEN, NULL);
    memset(&err, 0, sizeof err);
    expect_err("token without user.manage", account_user_set_disabled(F.s, &ta, rid, 1, &err), &err,
               QL_EFORBIDDEN, NULL);
    actor anon;
    memset(&anon, 0, sizeof anon);
    memset(&err, 0, sizeof err);
    expect_err(
        "anonymous creates",
        account_token_create(F.s, &anon, "admin", "x", PERM_BIT(P_USER_READ), 30, t, NULL, &err),
        &err, QL_EUNAUTH, NULL);
    expect_unchanged("token refused", before);
    free(before);

    /* No token is stored anywhere, hashed only. */
    const char *all[] = {t1, t2, t3};
    for (size_t i = 0; i < 3; i++) {
        if (table_contains("api_tokens", all[i])) fail_msg("api_tokens holds token %zu", i);
        if (table_contains("api_tokens", all[i] + 4)) fail_msg("api_tokens holds body %zu", i);
        if (anywhere(all[i] + 4)) fail_msg("the database holds token %zu", i);
    }
    assert_int_equal(audit_count("token.create"), 3);
    assert_int_equal(audit_count("token.revoke"), 1);
}

/* --- limits said in characters are counted in characters ------------------ */

static void test_token_name_counts_characters(void **state)
{
    (void)state;
    char name[200];
    repeat(name, sizeof name, "令", 40); /* 40 characters, 120 bytes */
    char t[64];
    int64_t id = 0;
    ql_err err = {0};
    int rc =
        account_token_create(F.s, &F.admin, "admin", name, PERM_BIT(P_USER_READ), 30, t, &id, &err);
    if (rc) fail_msg("a token name of 40 characters refused: %d %s: %s", rc, err.field, err.en);
    assert_int_equal(strncmp(t, "qlt_", 4), 0);
}

static void test_list_query_counts_characters(void **state)
{
    (void)state;
    char name[200];
    repeat(name, sizeof name, "搜", 40); /* 40 characters, 120 bytes */
    make_user(&F.admin, "search.me", name, RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", NULL);
    json_t *rows = NULL;
    int64_t total = 0;
    ql_err err = {0};
    int rc = account_user_list(F.s, &F.admin, name, 1, 10, &rows, &total, &err);
    if (rc) fail_msg("a search of 40 characters refused: %d %s: %s", rc, err.field, err.en);
    assert_int_equal(total, 1);
    json_decref(rows);
}

/* --- 7. the audit chain after all of it ------------------------------------ */

static void test_audit_after_everything(void **state)
{
    (void)state;
    ql_err err = {0};
    struct signin_result r, r2;
    /* Users of every shape. */
    struct user_input in = IN("all.in", "全流程", RB(ROLE_WINDOW_CLERK) | RB(ROLE_LEADERSHIP),
                              SCOPE_DISTRICT, "", NULL);
    int64_t uid = 0;
    char temp[24];
    assert_int_equal(account_user_create(F.s, &F.admin, &in, &uid, temp, &err), 0);
    make_user(&F.admin, "hr.one", "人事", RB(ROLE_EMPLOYER_HR), SCOPE_EMPLOYER, CREDIT_CODE, NULL);
    /* Refused creations leave nothing behind. */
    struct user_input badin = IN("Bad", "x", RB(ROLE_REVIEWER), SCOPE_DISTRICT, "", NULL);
    assert_int_equal(account_user_create(F.s, &F.admin, &badin, NULL, temp, &err), QL_EINVAL);
    /* Sign-ins of every kind, lock-out and reset. */
    try_signin("nobody.x", "Whatever#123", &r, &err);
    for (long i = 0; i <= cfg.lockout_after; i++) try_signin("all.in", "Wrong#Pass-123", &r, &err);
    assert_int_equal(err.code, QL_EFORBIDDEN);
    assert_int_equal(account_user_reset_password(F.s, &F.admin, uid, temp, &err), 0);
    actor a, b;
    signed_in("all.in", temp, &a, &r);
    signed_in("all.in", temp, &b, &r2);
    assert_int_equal(account_change_password(F.s, &a, temp, NEW_PW, NEW_PW, TOK, &err), 0);
    assert_int_equal(account_signout(F.s, &a, 0, &err), 0);
    signed_in("all.in", NEW_PW, &a, &r);
    signin_ok("all.in", NEW_PW, &r2);
    assert_int_equal(account_signout(F.s, &a, 1, &err), 0);
    /* Disable, enable. */
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 1, &err), 0);
    try_signin("all.in", NEW_PW, &r, &err);
    assert_int_equal(account_user_set_disabled(F.s, &F.admin, uid, 0, &err), 0);
    /* Tokens. */
    char t[64];
    int64_t tid = 0;
    /* another account's token: the operator's, on the command line */
    assert_int_equal(account_token_create(F.s, &F.cli, "all.in", "bot", PERM_BIT(P_AUDIT_READ), 7,
                                          t, &tid, &err),
                     0);
    assert_int_equal(tok(t, auth_now(), &a), 0);
    assert_int_equal(account_token_revoke(F.s, &F.admin, tid, &err), 0);
    assert_int_equal(account_token_revoke(F.s, &F.admin, tid, &err), QL_ENOTFOUND);
    /* Reads change nothing. */
    json_t *rows = NULL;
    int64_t total = 0;
    assert_int_equal(account_user_list(F.s, &F.admin, "all", 1, 10, &rows, &total, &err), 0);
    json_decref(rows);

    /* Every action is one of the account actions. */
    assert_int_equal(qint("SELECT count(*) FROM audit_log WHERE action NOT IN ('user.create', "
                          "'user.disable', 'user.enable', 'user.password_reset', 'auth.signin', "
                          "'auth.signin_failed', 'auth.signout', 'auth.signout_all', "
                          "'auth.password_change', 'token.create', 'token.revoke')",
                          NULL, 0),
                     0);
    int64_t n = audit_rows();
    /* 3 creations (with the fixture's admin); 1 unknown, 6 lock-out, 1 disabled. */
    assert_int_equal(audit_count("user.create"), 3);
    assert_int_equal(audit_count("auth.signin_failed"), 1 + cfg.lockout_after + 1 + 1);
    assert_int_equal(qint("SELECT max(seq) FROM audit_log", NULL, 0), n);
    audit_report rep;
    memset(&err, 0, sizeof err);
    assert_int_equal(audit_verify(F.s, &rep, &err), 0);
    if (!rep.ok) fail_msg("audit chain broken at %" PRId64 ": %s", rep.broken_seq, rep.reason_en);
    assert_int_equal(rep.rows, n);
    assert_int_equal(rep.head_seq, n);
    assert_int_equal(rep.broken_seq, 0);
    assert_false(anywhere(NEW_PW));
    assert_false(anywhere(temp));
    assert_false(anywhere(t + 4));
}

/* An unknown username locks out exactly like a real one, so the answers do
 * not tell which usernames exist. */
static void test_unknown_user_locks_like_real(void **state)
{
    (void)state;
    make_simple("real.one", RB(ROLE_AUDITOR));
    struct signin_result r;
    ql_err real_err, ghost_err;
    int real_rc = 0, ghost_rc = 0;
    for (int i = 0; i < 5; i++) {
        real_rc = try_signin("real.one", "Wrong#Guess-123", &r, &real_err);
        ghost_rc = try_signin("ghost.one", "Wrong#Guess-123", &r, &ghost_err);
        if (i < 4) {
            assert_int_equal(real_rc, QL_EUNAUTH);
            assert_int_equal(ghost_rc, QL_EUNAUTH);
            assert_string_equal(real_err.en, ghost_err.en);
        }
    }
    assert_int_equal(real_rc, QL_EFORBIDDEN);
    assert_int_equal(ghost_rc, QL_EFORBIDDEN);
    assert_string_equal(real_err.en, ghost_err.en);
    assert_non_null(strstr(ghost_err.en, "locked until"));
    /* Still locked on the next try, whatever the case of the name. */
    assert_int_equal(try_signin("GHOST.ONE", "Wrong#Guess-123", &r, &ghost_err), QL_EFORBIDDEN);
}

/* A session that a reset has ended cannot change the password afterwards,
 * even knowing the new temporary one: the reset is not undone. */
static void test_reset_not_undone_by_old_session(void **state)
{
    (void)state;
    int64_t uid = make_simple("reset.me", RB(ROLE_LEADERSHIP));
    actor a;
    struct signin_result r;
    signed_in("reset.me", USER_PW, &a, &r);
    char temp[24];
    ql_err err = {0};
    assert_int_equal(account_user_reset_password(F.s, &F.admin, uid, temp, &err), 0);
    memset(&err, 0, sizeof err);
    int rc =
        account_change_password(F.s, &a, temp, "Fresh#Meadow-2026", "Fresh#Meadow-2026", TOK, &err);
    assert_int_equal(rc, QL_EUNAUTH);
    assert_int_equal(user_col(uid, "must_change_password"), 1);
    /* The temporary password still signs in (and must be changed). */
    struct signin_result r2;
    signin_ok("reset.me", temp, &r2);
}

/* Guessing the current password from a signed-in session locks the account
 * and ends its sessions after as many tries as at the sign-in page. */
static void test_password_change_guessing_locks(void **state)
{
    (void)state;
    make_simple("guess.er", RB(ROLE_AUDITOR));
    actor a;
    struct signin_result r;
    signed_in("guess.er", USER_PW, &a, &r);
    ql_err err;
    int rc = 0;
    for (int i = 0; i < 5; i++) {
        memset(&err, 0, sizeof err);
        rc = account_change_password(F.s, &a, "Not#The-Password-9", "Fresh#Meadow-2026",
                                     "Fresh#Meadow-2026", TOK, &err);
    }
    assert_int_equal(rc, QL_EFORBIDDEN);
    assert_non_null(strstr(err.en, "locked until"));
    actor again;
    assert_int_equal(sess(r.token, auth_now(), &again), QL_EUNAUTH);
    assert_int_equal(try_signin("guess.er", USER_PW, &r, &err), QL_EFORBIDDEN);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_ok),
        T(test_create_invalid),
        T(test_signin_wrong_and_unknown),
        T(test_signin_lockout),
        T(test_signin_disabled),
        T(test_signin_audit),
        T(test_signin_rehash),
        T(test_signin_overlong_is_audited),
        T(test_signin_unknown_non_ascii_audited),
        T(test_signin_long_user_agent),
        T(test_session_actor_and_signout),
        T(test_session_long_display_name),
        T(test_signout_everywhere),
        T(test_session_expiry),
        T(test_disable_ends_sessions),
        T(test_change_password),
        T(test_list_search),
        T(test_list_pages),
        T(test_disable_enable_reset),
        T(test_tokens),
        T(test_token_name_counts_characters),
        T(test_list_query_counts_characters),
        T(test_unknown_user_locks_like_real),
        T(test_password_change_guessing_locks),
        T(test_reset_not_undone_by_old_session),
        T(test_audit_after_everything),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "account (postgres)" : "account (sqlite)",
                                       tests, group_setup, group_teardown);
}
