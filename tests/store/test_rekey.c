/* test_rekey.c - personal-data key rotation on SQLite and (with QL_TEST_PG)
 * PostgreSQL: after rotate and re-seal every value opens with the same plain
 * text, sits under the new key, and the old key file can go; an interrupted
 * re-seal resumes; values under a key that is gone are reported, not lost
 * silently. */
#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "core/pii.h"
#include "registry/rekey.h"
#include "registry/registry.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static store *S;
static actor CLI;
static char keys_dir[512];
static int nkeys;

#define EMPLOYER "91350100M000100Y43"
#define N_TALENTS 1203 /* more than two batches */

static void id_number(int i, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    char digits[32];
    snprintf(digits, sizeof digits, "3101041990%02d%02d%03d", 1 + i / 28000 % 12,
             1 + i / 1000 % 28, i % 1000);
    memcpy(out, digits, 17);
    int sum = 0;
    for (int k = 0; k < 17; k++) sum += (out[k] - '0') * w[k];
    out[17] = check[sum % 11];
    out[18] = '\0';
}

static int setup(void **state)
{
    (void)state;
    ql_err err = {0};
    if (store_open(tu_fresh_store_url(), NULL, &S, &err) || store_migrate(S, NULL, &err)) {
        print_error("store: %s\n", err.en);
        return -1;
    }
    snprintf(keys_dir, sizeof keys_dir, "%s/keys-%d", tu_tmpdir(), ++nkeys);
    if (audit_init(keys_dir, "blake2b", &err) || pii_init(keys_dir, &err)) {
        print_error("keys: %s\n", err.en);
        return -1;
    }
    actor_cli(&CLI);
    struct employer_input e = {EMPLOYER, "某科技有限公司", "ai", "yes", "yes", "no"};
    reg_report rep;
    int64_t id;
    if (registry_employer_create(S, &CLI, &e, &id, &rep, &err)) {
        print_error("employer: %s\n", err.en);
        return -1;
    }
    for (int i = 0; i < N_TALENTS; i++) {
        char idn[19], phone[16], card[24];
        id_number(i, idn);
        snprintf(phone, sizeof phone, "139%08d", i);
        snprintf(card, sizeof card, "6222%012d", i); /* one card pays one person */
        struct talent_input t = {.name = "测试",
                                 .id_number = idn,
                                 .phone = phone,
                                 .education = "master",
                                 .employer = EMPLOYER,
                                 .employed_since = "2024-01-01",
                                 .bank_account = i % 2 ? card : ""};
        if (registry_talent_create(S, &CLI, &t, &id, &rep, &err)) {
            print_error("talent %d: %s\n", i, err.en);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(S);
    return 0;
}

static int64_t usage_of(const json_t *usage, const char *fp)
{
    return json_integer_value(json_object_get(usage, fp));
}

/* Every talent's ID number and phone open to what was stored. */
static void expect_all_open(void)
{
    for (int i = 0; i < N_TALENTS; i += 97) {
        char want[19], got[64];
        id_number(i, want);
        ql_err err;
        int rc = registry_talent_unmask(S, &CLI, i + 1, "id_number", "核对密钥轮换", got,
                                        sizeof got, &err);
        if (rc) fail_msg("talent %d: %s", i + 1, err.en);
        assert_string_equal(got, want);
    }
}

static void test_rotate_and_reseal(void **state)
{
    (void)state;
    char before[9], after[9];
    json_t *usage;
    ql_err err;
    assert_int_equal(registry_key_usage(S, &usage, before, &err), 0);
    int64_t values = usage_of(usage, before);
    assert_int_equal(values, N_TALENTS * 2 + N_TALENTS / 2); /* ID, phone, half the cards */
    json_decref(usage);

    assert_int_equal(pii_rotate_key(&err), 0);
    pii_current_key(after);
    assert_string_not_equal(before, after);
    char old_path[700];
    snprintf(old_path, sizeof old_path, "%s/pii-old-%s.key", keys_dir, before);
    assert_int_equal(access(old_path, R_OK), 0);
    /* Before the re-seal, old values still open with the kept key. */
    expect_all_open();

    int64_t scanned = 0, resealed = 0;
    assert_int_equal(registry_reseal(S, &CLI, NULL, NULL, &scanned, &resealed, &err), 0);
    assert_int_equal(scanned, N_TALENTS);
    assert_int_equal(resealed, values);
    assert_int_equal(registry_key_usage(S, &usage, after, &err), 0);
    assert_int_equal(usage_of(usage, after), values);
    assert_int_equal(usage_of(usage, before), 0);
    json_decref(usage);
    expect_all_open();

    /* Again: nothing left to do. */
    assert_int_equal(registry_reseal(S, &CLI, NULL, NULL, &scanned, &resealed, &err), 0);
    assert_int_equal(resealed, 0);

    /* The old key file can go: everything still opens after a fresh start. */
    assert_int_equal(unlink(old_path), 0);
    assert_int_equal(pii_init(keys_dir, &err), 0);
    expect_all_open();

    /* Blind indexes did not change: exact search still finds a person. */
    char idn[19];
    id_number(500, idn);
    struct talent_filter f = {.q = idn, .page = 1, .per_page = 10};
    json_t *rows;
    int64_t total;
    assert_int_equal(registry_talent_list(S, &CLI, &f, &rows, &total, &err), 0);
    assert_int_equal(total, 1);
    json_decref(rows);

    /* The re-seal is in the audit log, and the chain verifies. */
    int64_t n = 0;
    assert_int_equal(store_query_int(S, "SELECT count(*) FROM audit_log WHERE action = 'keys.reseal'",
                                     NULL, 0, &n),
                     0);
    assert_int_equal(n, 2);
    audit_report rep;
    assert_int_equal(audit_verify(S, &rep, &err), 0);
    assert_true(rep.ok);
}

static void test_missing_key_is_reported(void **state)
{
    (void)state;
    /* A rotation whose old key is then lost: the re-seal stops with an
     * error naming the key, and changes nothing. */
    ql_err err;
    char old[9];
    pii_current_key(old);
    assert_int_equal(pii_rotate_key(&err), 0);
    char old_path[700];
    snprintf(old_path, sizeof old_path, "%s/pii-old-%s.key", keys_dir, old);
    assert_int_equal(unlink(old_path), 0);
    assert_int_equal(pii_init(keys_dir, &err), 0);
    int64_t scanned = 0, resealed = 0;
    int rc = registry_reseal(S, &CLI, NULL, NULL, &scanned, &resealed, &err);
    assert_int_equal(rc, QL_EINVAL);
    assert_non_null(strstr(err.en, old));
    json_t *usage;
    char cur[9];
    assert_int_equal(registry_key_usage(S, &usage, cur, &err), 0);
    assert_int_equal(usage_of(usage, cur), 0);
    assert_true(usage_of(usage, old) > 0);
    json_decref(usage);
}

static void test_needs_permission(void **state)
{
    (void)state;
    actor hr;
    memset(&hr, 0, sizeof hr);
    hr.via = VIA_SESSION;
    hr.user_id = 99;
    snprintf(hr.username, sizeof hr.username, "hr");
    hr.roles = 1u << ROLE_EMPLOYER_HR;
    hr.perms = role_perms(ROLE_EMPLOYER_HR);
    hr.scope = SCOPE_EMPLOYER;
    snprintf(hr.scope_id, sizeof hr.scope_id, EMPLOYER);
    int64_t a, b;
    ql_err err;
    assert_int_equal(registry_reseal(S, &hr, NULL, NULL, &a, &b, &err), QL_EFORBIDDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotate_and_reseal),
        cmocka_unit_test(test_missing_key_is_reported),
        cmocka_unit_test(test_needs_permission),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "rekey (postgres)" : "rekey (sqlite)", tests,
                                       setup, teardown);
}
