/* test_config.c - defaults, INI text, environment and flags, and every way a
 * setting can be wrong. */
#include "testutil.h"

#include "core/config.h"
#include "core/log.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void test_defaults(void **state)
{
    (void)state;
    ql_config c;
    config_defaults(&c);
    assert_string_equal(c.listen.text, "127.0.0.1:8080");
    assert_int_equal(c.listen.sa.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&c.listen.sa)->sin_port), 8080);
    assert_int_equal(c.workers, 0);
    assert_int_equal(c.body_limit, 16 * 1024 * 1024);
    assert_int_equal(c.header_limit, 64 * 1024);
    assert_int_equal(c.timeout, 30);
    assert_string_equal(c.store_url, "var/qianlima.db");
    assert_string_equal(c.access_log, "-");
    assert_int_equal(c.log_level, LOG_INFO);
    config_free(&c);
}

static void test_ini_text(void **state)
{
    (void)state;
    ql_config c;
    config_defaults(&c);
    ql_err e;
    const char ini[] = "; Qianlima\n"
                       "[server]\n"
                       "listen = [::1]:9090\n"
                       "workers = 4 ; inline comment\n"
                       "body_limit = 2M\n"
                       "header_limit = 16k\n"
                       "[store]\n"
                       "url = postgres://qianlima@db/qianlima\n"
                       "[log]\n"
                       "level = debug\n"
                       "access = off\n";
    assert_int_equal(config_load_string(&c, ini, sizeof ini - 1, "test.ini", &e), 0);
    assert_int_equal(c.listen.sa.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&c.listen.sa)->sin6_port), 9090);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.body_limit, 2 * 1024 * 1024);
    assert_int_equal(c.header_limit, 16 * 1024);
    assert_string_equal(c.store_url, "postgres://qianlima@db/qianlima");
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_string_equal(c.access_log, "off");
    config_free(&c);
}

static void test_ini_errors_change_nothing(void **state)
{
    (void)state;
    struct {
        const char *text, *want_en;
    } bad[] = {
        {"[server]\nworkers = 4\nworkres = 5\n", "test.ini line 3: unknown key 'workres' in section [server]"},
        {"[server]\nworkers = -1\n", "test.ini line 2: server.workers: '-1' is not a whole number"},
        {"[server]\nworkers = 3.5\n", "server.workers: '3.5'"},
        {"[server]\nworkers = 99999999999999999999\n", "server.workers"},
        {"[server]\nlisten = 127.0.0.1:99999\n", "server.listen: '127.0.0.1:99999' is not an address"},
        {"[server]\nlisten = ::1:80\n", "server.listen"},
        {"[server]\nlisten = example.org:80\n", "server.listen"},
        {"[server]\nbody_limit = 1T\n", "server.body_limit"},
        {"[server]\nbody_limit = 2G\n", "server.body_limit"},
        {"[server]\ntimeout =\n", "server.timeout"},
        {"[store]\nurl =\n", "store.url: must not be empty"},
        {"[logging]\nlevel = info\n", "unknown key 'level' in section [logging]"},
        {"workers = 2\n", "must be inside a section"},
        {"[server\nworkers = 2\n", "line 1"},
        {"[server]\njust words\n", "line 2: not a '[section]' or 'key = value' line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ql_config c;
        config_defaults(&c);
        ql_err e = {0};
        int rc = config_load_string(&c, bad[i].text, strlen(bad[i].text), "test.ini", &e);
        if (rc != QL_EINVAL) fail_msg("accepted: %s", bad[i].text);
        if (!strstr(e.en, bad[i].want_en)) fail_msg("for %s got '%s'", bad[i].text, e.en);
        assert_true(strlen(e.zh) > 0);
        /* Nothing changed, not even the lines before the bad one. */
        assert_int_equal(c.workers, 0);
        assert_string_equal(c.listen.text, "127.0.0.1:8080");
        assert_string_equal(c.store_url, "var/qianlima.db");
        config_free(&c);
    }
}

static void test_long_lines_and_messages(void **state)
{
    (void)state;
    ql_config c;
    config_defaults(&c);
    ql_err e;
    /* A line longer than the INI reader takes is refused, naming its line,
     * and no piece of it is read as a setting of its own. */
    char ini[1024];
    snprintf(ini, sizeof ini, "[store]\n; %0300d\nurl = /srv/db.sqlite\n", 0);
    assert_int_equal(config_load_string(&c, ini, strlen(ini), "long.ini", &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "long.ini line 2 is longer than"));
    assert_string_equal(c.store_url, "var/qianlima.db");
    snprintf(ini, sizeof ini, "[store]\nurl = postgres://u:%0250d@db/q\n", 7);
    assert_int_equal(config_load_string(&c, ini, strlen(ini), "long.ini", &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "line 2 is longer"));
    assert_null(strstr(e.en, "0000000")); /* the value is not echoed */
    /* A line just short enough is fine, also without a final newline. */
    snprintf(ini, sizeof ini, "[store]\n; %0180d\nurl = /srv/db.sqlite", 0);
    assert_int_equal(config_load_string(&c, ini, strlen(ini), "ok.ini", &e), 0);
    assert_string_equal(c.store_url, "/srv/db.sqlite");
    /* The Chinese message names section and key in its own word order. */
    const char bad[] = "[server]\nworkrs = 4\n";
    assert_int_equal(config_load_string(&c, bad, sizeof bad - 1, "k.ini", &e), QL_EINVAL);
    assert_non_null(strstr(e.zh, "[server] 节中没有“workrs”"));
    assert_non_null(strstr(e.en, "unknown key 'workrs' in section [server]"));
    config_free(&c);
}

static void test_environment(void **state)
{
    (void)state;
    ql_config c;
    config_defaults(&c);
    ql_err e;
    char *env[] = {"PATH=/usr/bin", "QIANLIMA_CONFIG=/etc/ignored.ini",
                   "QIANLIMA_SERVER_WORKERS=6", "QIANLIMA_STORE_URL=/srv/q.db",
                   "QIANLIMA_LOG_ACCESS=/var/log/q.log", NULL};
    assert_int_equal(config_load_env(&c, env, &e), 0);
    assert_int_equal(c.workers, 6);
    assert_string_equal(c.store_url, "/srv/q.db");
    assert_string_equal(c.access_log, "/var/log/q.log");

    char *typo[] = {"QIANLIMA_SERVER_WORKRES=6", NULL};
    assert_int_equal(config_load_env(&c, typo, &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "environment QIANLIMA_SERVER_WORKRES"));
    char *bad[] = {"QIANLIMA_SERVER_LISTEN=nowhere", NULL};
    assert_int_equal(config_load_env(&c, bad, &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "environment QIANLIMA_SERVER_LISTEN: server.listen"));
    assert_int_equal(c.workers, 6);
    config_free(&c);
}

static void test_flags_and_precedence(void **state)
{
    (void)state;
    ql_config c;
    config_defaults(&c);
    ql_err e;
    const char ini[] = "[server]\nworkers = 3\ntimeout = 10\n";
    char *env[] = {"QIANLIMA_SERVER_WORKERS=4", NULL};
    assert_int_equal(config_load_string(&c, ini, sizeof ini - 1, "a.ini", &e), 0);
    assert_int_equal(c.workers, 3);
    assert_int_equal(config_load_env(&c, env, &e), 0);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.timeout, 10); /* from the file, untouched by the environment */
    assert_true(config_is_flag("workers"));
    assert_true(config_is_flag("store"));
    assert_false(config_is_flag("config"));
    assert_false(config_is_flag("wrokers"));
    assert_int_equal(config_set_flag(&c, "workers", "5", &e), 0);
    assert_int_equal(c.workers, 5);
    assert_int_equal(config_set_flag(&c, "workers", "5x", &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "flag --workers: server.workers: '5x'"));
    assert_int_equal(c.workers, 5);
    assert_int_equal(config_set_flag(&c, "nope", "1", &e), QL_EINVAL);
    assert_int_equal(config_set(&c, "store", "retries", "0", "test", &e), QL_EINVAL);
    assert_int_equal(config_set(&c, "store", "retries", "3", "test", &e), 0);
    assert_int_equal(c.store_retries, 3);
    config_free(&c);
}

static void test_addresses(void **state)
{
    (void)state;
    ql_addr a;
    assert_int_equal(config_parse_addr("0.0.0.0:0", &a), 0);
    assert_int_equal(config_parse_addr("[::]:443", &a), 0);
    assert_int_equal(a.sa.ss_family, AF_INET6);
    static const char *const bad[] = {"", ":80", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:8o",
                                      "1.2.3:80", "256.0.0.1:80", "[::1]80", "[::1]:", "::1:80",
                                      "[zz::]:80", "127.0.0.1:080800",
                                      "a-very-long-host-name-that-is-not-an-ip-address-at-all.example:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (config_parse_addr(bad[i], &a) != QL_EINVAL) fail_msg("accepted '%s'", bad[i]);
}

/* Secure cookies: on unless the server listens on a loopback address,
 * unless set either way. */
static void test_secure_cookies_auto(void **state)
{
    (void)state;
    static const struct {
        const char *listen, *value;
        int want;
    } cases[] = {
        {"127.0.0.1:8080", NULL, 0}, {"127.9.9.9:1", NULL, 0},      {"[::1]:8080", NULL, 0},
        {"0.0.0.0:8080", NULL, 1},   {"10.1.2.3:80", NULL, 1},      {"[::]:8080", NULL, 1},
        {"128.0.0.1:8080", NULL, 1}, {"0.0.0.0:8080", "false", 0},  {"127.0.0.1:8080", "true", 1},
        {"0.0.0.0:8080", "auto", 1}, {"127.0.0.1:8080", "auto", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ql_config c;
        ql_err e;
        config_defaults(&c);
        assert_int_equal(c.secure_cookies, -1); /* auto until settled */
        assert_int_equal(config_set(&c, "server", "listen", cases[i].listen, "test", &e), 0);
        if (cases[i].value)
            assert_int_equal(
                config_set(&c, "security", "secure_cookies", cases[i].value, "test", &e), 0);
        config_finish(&c);
        if (c.secure_cookies != cases[i].want)
            fail_msg("listen %s, secure_cookies %s: %d", cases[i].listen,
                     cases[i].value ? cases[i].value : "(default)", c.secure_cookies);
        config_free(&c);
    }
    ql_config c;
    ql_err e;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "security", "secure_cookies", "maybe", "test", &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "(or auto)"));
    assert_int_equal(config_set(&c, "security", "secure_cookies", "auto", "test", &e), 0);
    assert_int_equal(c.lockout_address_after, 30);
    assert_int_equal(config_set(&c, "security", "lockout_address_after", "0", "test", &e), 0);
    assert_int_equal(config_set(&c, "security", "lockout_address_after", "-1", "test", &e),
                     QL_EINVAL);
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_ini_text),
        cmocka_unit_test(test_ini_errors_change_nothing), cmocka_unit_test(test_long_lines_and_messages),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_flags_and_precedence), cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_secure_cookies_auto),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
