/* cli.c - flag parsing and configuration loading shared by the subcommands. */
#include "cli/cli.h"

#include "account/account.h"
#include "audit/audit.h"
#include "core/pii.h"
#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

void cli_error(const char *cmd, const char *en, const char *zh)
{
    fprintf(stderr, "qianlima %s: %s\nqianlima %s：%s\n", cmd, en, cmd, zh);
}

/* Reports a usage error about one argument. */
enum usage_kind { U_UNEXPECTED, U_UNKNOWN, U_NO_VALUE_TAKEN, U_VALUE_NEEDED };

static void usage_error(const char *cmd, enum usage_kind kind, const char *arg)
{
    char e[512], z[512];
    switch (kind) {
    case U_UNEXPECTED:
        snprintf(e, sizeof e, "unexpected argument '%s'", arg);
        snprintf(z, sizeof z, "多余的参数“%s”", arg);
        break;
    case U_UNKNOWN:
        snprintf(e, sizeof e, "unknown flag --%s", arg);
        snprintf(z, sizeof z, "未知参数 --%s", arg);
        break;
    case U_NO_VALUE_TAKEN:
        snprintf(e, sizeof e, "--%s takes no value", arg);
        snprintf(z, sizeof z, "参数 --%s 不带值", arg);
        break;
    case U_VALUE_NEEDED:
        snprintf(e, sizeof e, "--%s needs a value", arg);
        snprintf(z, sizeof z, "参数 --%s 缺少取值", arg);
        break;
    }
    cli_error(cmd, e, z);
    fprintf(stderr, "see 'qianlima %s --help' / 参见 qianlima %s --help\n", cmd, cmd);
}

void cli_usage(const char *cmd, const char *synopsis, const char *description,
               const struct cli_flag *extra, int with_config)
{
    printf("usage: qianlima %s %s\n\n%s\n\nflags:\n", cmd, synopsis, description);
    printf("  %-28s %s\n", "-h, --help", "show this help and exit");
    for (const struct cli_flag *f = extra; f && f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", f->name, f->metavar ? " " : "",
                 f->metavar ? f->metavar : "");
        printf("  %-28s %s\n", left, f->help);
    }
    if (with_config) {
        printf("  %-28s %s\n", "--config FILE",
               "INI file to read (also QIANLIMA_CONFIG); settings apply in the order: defaults, "
               "file, QIANLIMA_<SECTION>_<KEY> environment variables, flags");
        printf("\nconfiguration flags:\n");
        config_print_help(stdout);
    }
    printf("\nexit status: 0 success, 1 failure, 2 usage error, 3 configuration error\n");
}

static const struct cli_flag *find_extra(const struct cli_flag *extra, const char *name)
{
    for (const struct cli_flag *f = extra; f && f->name; f++)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

/* Splits "--name=value" / "--name" into name (copied into out) and value. */
static const char *split_flag(const char *arg, char *out, size_t n)
{
    const char *body = arg + 2;
    const char *eq = strchr(body, '=');
    size_t len = eq ? (size_t)(eq - body) : strlen(body);
    if (len >= n) len = n - 1;
    memcpy(out, body, len);
    out[len] = '\0';
    return eq ? eq + 1 : NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, const struct cli_flag *extra,
              ql_config *cfg, int *help)
{
    *help = 0;
    const char *config_path = getenv("QIANLIMA_CONFIG");
    /* First pass: check the shape of every argument, find --help and --config. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = 1;
            return EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            usage_error(cmd, U_UNEXPECTED, a);
            return EXIT_USAGE;
        }
        char name[64];
        const char *val = split_flag(a, name, sizeof name);
        const struct cli_flag *f = find_extra(extra, name);
        int takes_value = strcmp(name, "config") == 0 || config_is_flag(name) || (f && f->metavar);
        if (!f && !takes_value) {
            usage_error(cmd, U_UNKNOWN, name);
            return EXIT_USAGE;
        }
        if (!takes_value) {
            if (val) {
                usage_error(cmd, U_NO_VALUE_TAKEN, name);
                return EXIT_USAGE;
            }
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                usage_error(cmd, U_VALUE_NEEDED, name);
                return EXIT_USAGE;
            }
            val = argv[++i];
        }
        if (strcmp(name, "config") == 0) config_path = val;
    }

    ql_err err = {0};
    config_defaults(cfg);
    if (config_path && config_load_file(cfg, config_path, &err)) goto config_error;
    if (config_load_env(cfg, environ, &err)) goto config_error;

    /* Second pass: apply flags in order. */
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *val = split_flag(argv[i], name, sizeof name);
        const struct cli_flag *f = find_extra(extra, name);
        int takes_value = strcmp(name, "config") == 0 || config_is_flag(name) || (f && f->metavar);
        if (takes_value && !val) val = argv[++i];
        if (f) {
            if (f->set) *f->set = 1;
            if (f->value) *f->value = val;
        } else if (config_is_flag(name)) {
            if (config_set_flag(cfg, name, val, &err)) goto config_error;
        }
    }
    config_finish(cfg);
    log_set_level((enum log_level)cfg->log_level);
    return EXIT_OK;

config_error:
    cli_error(cmd, err.en, err.zh);
    config_free(cfg);
    return EXIT_CONFIG;
}

int cli_store(const char *cmd, const ql_config *cfg, int migrate, store **out)
{
    ql_err err = {0};
    store_opts so = {.busy_timeout_ms = cfg->store_busy_timeout, .retries = cfg->store_retries};
    *out = NULL;
    if (store_open(cfg->store_url, &so, out, &err)) {
        cli_error(cmd, err.en, err.zh);
        return EXIT_FAIL;
    }
    if (migrate && store_migrate(*out, NULL, &err)) {
        cli_error(cmd, err.en, err.zh);
        store_close(*out);
        *out = NULL;
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cli_services(const char *cmd, const ql_config *cfg)
{
    ql_err err = {0};
    if (audit_init(cfg->keys_dir, cfg->audit_hash, &err) || pii_init(cfg->keys_dir, &err)) {
        cli_error(cmd, err.en, err.zh);
        return EXIT_FAIL;
    }
    account_init(cfg);
    return EXIT_OK;
}

int cli_read_file(const char *path, size_t max, char **out, size_t *len, ql_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ql_errf(err, QL_EIO, "file", "cannot open %s: %s", "无法打开 %s：%s", path,
                       strerror(errno));
    char *data = xmalloc(max + 1);
    size_t n = fread(data, 1, max + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(data);
        return ql_errf(err, QL_EIO, "file", "cannot read %s", "无法读取 %s", path);
    }
    if (n > max) {
        free(data);
        return ql_errf(err, QL_ETOOBIG, "file", "%s is larger than %zu bytes", "%s 超过 %zu 字节",
                       path, max);
    }
    data[n] = '\0';
    *out = data;
    *len = n;
    return 0;
}

const struct cli_verb *cli_verb_pick(const char *cmd, int argc, char **argv,
                                     const struct cli_verb *verbs, const char *doc,
                                     int *exit_code)
{
    const struct cli_verb *v = NULL;
    if (argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
        for (const struct cli_verb *w = verbs; w->name; w++)
            if (!strcmp(argv[1], w->name)) v = w;
    if (v) return v;
    int asked = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc >= 2 && !asked) {
        char en[160], zh[160];
        snprintf(en, sizeof en, "unknown action '%.100s'", argv[1]);
        snprintf(zh, sizeof zh, "未知操作“%.100s”", argv[1]);
        cli_error(cmd, en, zh);
    }
    FILE *f = asked ? stdout : stderr;
    fprintf(f, "usage:\n");
    for (const struct cli_verb *w = verbs; w->name; w++)
        fprintf(f, "  qianlima %s %s %s\n      %s\n", cmd, w->name, w->args, w->help);
    fprintf(f, "\n%s\n'qianlima %s ACTION --help' lists the flags of each.\n"
               "exit status: 0 success, 1 failure, 2 usage error, 3 configuration error\n",
            doc, cmd);
    *exit_code = asked ? EXIT_OK : EXIT_USAGE;
    return NULL;
}

int cli_verb_args(const char *cmd_verb, const struct cli_verb *v, int argc, char **argv,
                  const struct cli_flag *extra, int with_config, ql_config *cfg, int *help)
{
    *help = 0;
    memset(cfg, 0, sizeof *cfg);
    for (int i = 2; i < argc && i < 2 + v->nargs; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) *help = 1;
    if (!*help) {
        for (int i = 0; i < v->nargs; i++)
            if (2 + i >= argc || !strncmp(argv[2 + i], "--", 2)) {
                char en[200], zh[200];
                snprintf(en, sizeof en, "usage: qianlima %s %s", cmd_verb, v->args);
                snprintf(zh, sizeof zh, "用法：qianlima %s %s", cmd_verb, v->args);
                cli_error(cmd_verb, en, zh);
                return EXIT_USAGE;
            }
        int rc = cli_parse(cmd_verb, argc - 1 - v->nargs, argv + 1 + v->nargs, extra, cfg, help);
        if (rc) return rc;
    }
    if (*help) {
        char syn[160];
        snprintf(syn, sizeof syn, "%s [flags]", v->args);
        cli_usage(cmd_verb, syn, v->help, extra, with_config);
    }
    return EXIT_OK;
}

int cli_signin_as(store *s, const char *as, const actor *cli, const char *what,
                  const char *what_zh, actor *out, ql_err *err)
{
    if (!as)
        return ql_errf(err, QL_EINVAL, "as",
                       "--as USERNAME is required: %s%.0s by a second person, signed in with "
                       "their password (read from standard input)",
                       "须提供 --as 用户名：%.0s%s由第二人以其口令（从标准输入读取）登录后进行", what,
                       what_zh);
    char password[256] = "";
    if (!fgets(password, (int)sizeof password, stdin))
        return ql_errf(err, QL_EINVAL, "password", "no password on standard input",
                       "标准输入中没有口令");
    password[strcspn(password, "\r\n")] = '\0';
    int rc = account_signin_cli(s, as, password, cli, out, err);
    sodium_memzero(password, sizeof password);
    return rc;
}
