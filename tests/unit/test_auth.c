/* test_auth.c - the role and permission table, password rules and hashes,
 * tokens and the actor checks. */
#include "testutil.h"

#include "auth/password.h"
#include "auth/perm.h"
#include "auth/session.h"

#include <ctype.h>
#include <string.h>

static void test_role_table(void **state)
{
    (void)state;
    /* Names round-trip. */
    for (int r = 0; r < ROLE_COUNT; r++) {
        enum role back;
        assert_int_equal(role_parse(role_name((enum role)r), &back), 0);
        assert_int_equal(back, r);
        assert_true(strlen(role_title((enum role)r, 0)) > 0);
        assert_true(strlen(role_title((enum role)r, 1)) > 0);
        assert_true(role_perms((enum role)r) != 0); /* every role can do something */
    }
    for (int p = 0; p < P_COUNT; p++) {
        enum perm back;
        assert_int_equal(perm_parse(perm_name((enum perm)p), &back), 0);
        assert_int_equal(back, p);
        /* Every permission belongs to some role. */
        int held = 0;
        for (int r = 0; r < ROLE_COUNT; r++) held |= (role_perms((enum role)r) & PERM_BIT(p)) != 0;
        if (!held) fail_msg("no role holds %s", perm_name((enum perm)p));
    }
    assert_int_equal(role_parse("root", &(enum role){0}), QL_EINVAL);
    /* The rules DOMAIN asks for. */
    assert_true(role_perms(ROLE_ADMIN) & PERM_BIT(P_USER_MANAGE));
    assert_true(role_perms(ROLE_REVIEWER) & PERM_BIT(P_SUBSIDY_REVIEW));
    assert_true(role_perms(ROLE_FINANCE) & PERM_BIT(P_LEDGER_EXPORT));
    /* The auditor reads everything and changes nothing. */
    permset writes = PERM_BIT(P_USER_MANAGE) | PERM_BIT(P_TOKEN_MANAGE) |
                     PERM_BIT(P_REGISTRY_WRITE) | PERM_BIT(P_SUBSIDY_APPLY) |
                     PERM_BIT(P_SUBSIDY_ATTEST) | PERM_BIT(P_WINDOW_ACCEPT) |
                     PERM_BIT(P_SUBSIDY_REVIEW) | PERM_BIT(P_POLICY_MANAGE) |
                     PERM_BIT(P_LEDGER_RUN) | PERM_BIT(P_LEDGER_APPROVE) |
                     PERM_BIT(P_HOUSING_MANAGE);
    assert_int_equal(role_perms(ROLE_AUDITOR) & writes, 0);
    assert_true(role_perms(ROLE_AUDITOR) & PERM_BIT(P_AUDIT_VERIFY));
    /* Housing: operators and district staff at windows manage units and
     * leases; an operator does not maintain the rest of the registry; an
     * employer's HR reads its staff's leases but does not record them; a
     * talent reads their own records and changes none. */
    assert_true(role_perms(ROLE_HOUSING_OPERATOR) & PERM_BIT(P_HOUSING_MANAGE));
    assert_int_equal(role_perms(ROLE_HOUSING_OPERATOR) & PERM_BIT(P_REGISTRY_WRITE), 0);
    assert_true(role_perms(ROLE_WINDOW_CLERK) & PERM_BIT(P_HOUSING_MANAGE));
    assert_int_equal(role_perms(ROLE_EMPLOYER_HR) & PERM_BIT(P_HOUSING_MANAGE), 0);
    assert_true(role_perms(ROLE_TALENT) & PERM_BIT(P_REGISTRY_READ));
    assert_int_equal(role_perms(ROLE_TALENT) &
                         (PERM_BIT(P_REGISTRY_WRITE) | PERM_BIT(P_HOUSING_MANAGE) |
                          PERM_BIT(P_PERSONAL_UNMASK)),
                     0);
    /* Talents and employers do not administer. */
    assert_int_equal(role_perms(ROLE_TALENT) & PERM_BIT(P_USER_READ), 0);
    assert_int_equal(role_perms(ROLE_EMPLOYER_HR) & PERM_BIT(P_AUDIT_READ), 0);
    assert_int_equal(roles_perms((1u << ROLE_TALENT) | (1u << ROLE_AUDITOR)),
                     role_perms(ROLE_TALENT) | role_perms(ROLE_AUDITOR));
}

/* A personal scope id names a talent written one way only. */
static void test_scope_person_id(void **state)
{
    (void)state;
    assert_int_equal(scope_person_id("1"), 1);
    assert_int_equal(scope_person_id("42"), 42);
    assert_int_equal(scope_person_id("123456789012345678"), 123456789012345678LL);
    static const char *const none[] = {"",   "0",  "01", "+1",  " 1", "1 ", "1.0",
                                       "-4", "4x", "１", "1234567890123456789"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_int_equal(scope_person_id(none[i]), 0);
    assert_int_equal(scope_person_id(NULL), 0);
}

static void test_perm_sets(void **state)
{
    (void)state;
    permset s;
    ql_err e;
    assert_int_equal(perms_parse("user.read, system.metrics  audit.read", &s, &e), 0);
    assert_int_equal(s, PERM_BIT(P_USER_READ) | PERM_BIT(P_SYSTEM_METRICS) | PERM_BIT(P_AUDIT_READ));
    char text[256];
    perms_format(s, text, sizeof text);
    assert_string_equal(text, "user.read audit.read system.metrics");
    assert_int_equal(perms_parse("user.read user.fly", &s, &e), QL_EINVAL);
    assert_string_equal(e.field, "permissions");
    assert_non_null(strstr(e.en, "user.fly"));
    assert_int_equal(perms_parse("", &s, &e), 0);
    assert_int_equal(s, 0);
    char tiny[10];
    perms_format(PERM_BIT(P_USER_READ) | PERM_BIT(P_AUDIT_READ), tiny, sizeof tiny);
    assert_string_equal(tiny, "user.read");
}

static void test_actor_checks(void **state)
{
    (void)state;
    actor a;
    memset(&a, 0, sizeof a);
    ql_err e;
    assert_int_equal(actor_require(&a, P_USER_READ, &e), QL_EUNAUTH);
    assert_false(actor_can(&a, P_USER_READ));
    a.via = VIA_SESSION;
    a.perms = role_perms(ROLE_REVIEWER);
    assert_int_equal(actor_require(&a, P_SUBSIDY_REVIEW, &e), 0);
    assert_int_equal(actor_require(&a, P_USER_MANAGE, &e), QL_EFORBIDDEN);
    assert_non_null(strstr(e.en, "user.manage"));
    assert_non_null(strstr(e.zh, "管理用户"));
    actor cli;
    actor_cli(&cli);
    assert_int_equal(cli.via, VIA_CLI);
    assert_true(strncmp(cli.username, "cli:", 4) == 0);
    for (int p = 0; p < P_COUNT; p++) assert_true(actor_can(&cli, (enum perm)p));
}

static void test_password_rules(void **state)
{
    (void)state;
    ql_err e;
    assert_int_equal(password_check("Tiger-Lily-2026", "alice", 10, "new_password", &e), 0);
    assert_int_equal(password_check("千里马人才服务Ab1", "alice", 10, "pw", &e), 0);
    struct {
        const char *pw, *needle;
    } bad[] = {
        {"Short-1a", "at least 10"},
        {"alllowercaseletters", "three of"},
        {"ALLUPPER123456", "three of"},
        {"Alice-Wonder-2026", "username"},
        {"Password2026!", "commonly used"},
        {"Qianlima#2026", "commonly used"},
        {"Tab\tInside-2026", "control"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = password_check(bad[i].pw, "alice", 10, "new_password", &e);
        if (rc != QL_EINVAL) fail_msg("accepted '%s'", bad[i].pw);
        if (!strstr(e.en, bad[i].needle)) fail_msg("'%s': %s", bad[i].pw, e.en);
        assert_string_equal(e.field, "new_password");
        assert_true(strlen(e.zh) > 0);
    }
    char longpw[200];
    memset(longpw, 'a', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    longpw[0] = 'A';
    longpw[1] = '1';
    assert_int_equal(password_check(longpw, "alice", 10, "pw", &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "128 bytes"));
    /* Generated passwords meet the rules and differ. */
    char a[24], b[24];
    password_generate(a, sizeof a);
    password_generate(b, sizeof b);
    assert_int_equal(strlen(a), 16);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 50; i++) {
        password_generate(a, sizeof a);
        if (password_check(a, "someone", 10, "pw", &e)) fail_msg("generated '%s': %s", a, e.en);
        assert_null(strpbrk(a, "0O1lI"));
        assert_true(isalnum((unsigned char)a[0]));
    }
}

static void test_password_hashes(void **state)
{
    (void)state;
    char h[PASSWORD_HASH_MAX];
    ql_err e;
    assert_int_equal(password_hash("Tiger-Lily-2026", "min", h, &e), 0);
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_true(password_verify(h, "Tiger-Lily-2026"));
    assert_false(password_verify(h, "Tiger-Lily-2027"));
    assert_false(password_verify("not a hash", "x"));
    assert_true(password_needs_rehash(h, "interactive"));
    assert_false(password_needs_rehash(h, "min"));
    assert_int_equal(password_hash("x", "extreme", h, &e), QL_EINVAL);
    assert_string_equal(e.field, "security.password_hash");
}

static void test_tokens(void **state)
{
    (void)state;
    char a[AUTH_TOKEN_CHARS], b[AUTH_TOKEN_CHARS], ha[65], hb[65];
    auth_random_token(a);
    auth_random_token(b);
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
    assert_null(strpbrk(a, "+/="));
    auth_token_hash(a, ha);
    auth_token_hash(b, hb);
    assert_int_equal(strlen(ha), 64);
    assert_string_not_equal(ha, hb);
    char again[65];
    auth_token_hash(a, again);
    assert_string_equal(ha, again);
    assert_true(auth_equal(a, a));
    assert_false(auth_equal(a, b));
    assert_false(auth_equal("", ""));
    assert_false(auth_equal("abc", "abcd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_table),     cmocka_unit_test(test_perm_sets),
        cmocka_unit_test(test_actor_checks),   cmocka_unit_test(test_password_rules),
        cmocka_unit_test(test_password_hashes), cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_scope_person_id),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
