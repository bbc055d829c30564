/* admin.c - the user, token and audit subcommands: administration from the
 * server's own command line, acting as "cli:<unix user>" (every permission;
 * every change is audited under that name). */
#include "cli/cli.h"

#include "account/account.h"
#include "audit/audit.h"
#include "auth/password.h"
#include "core/pii.h"
#include "registry/rekey.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs one "qianlima NOUN VERB [ARG] [flags]" command. The verbs of noun are
 * in verbs (NULL-terminated); needs_arg says which take a positional argument. */
struct verb {
    const char *name;
    const char *arg; /* metavar of the positional argument, or NULL */
    const char *help;
};

static void noun_usage(const char *noun, const struct verb *verbs, FILE *f)
{
    fprintf(f, "usage:\n");
    for (const struct verb *v = verbs; v->name; v++)
        fprintf(f, "  qianlima %s %s%s%s [flags]\n      %s\n", noun, v->name, v->arg ? " " : "",
                v->arg ? v->arg : "", v->help);
    fprintf(f, "\n'qianlima %s VERB --help' lists the flags of each.\n"
               "exit status: 0 success, 1 failure, 2 usage error, 3 configuration error\n",
            noun);
}

/* Finds the verb in argv[1] and its positional argument in argv[2].
 * Returns the verb, or NULL after printing usage (and setting *rc). */
static const struct verb *pick_verb(const char *noun, const struct verb *verbs, int argc,
                                    char **argv, const char **arg, int *rc)
{
    *arg = NULL;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        noun_usage(noun, verbs, argc < 2 ? stderr : stdout);
        *rc = argc < 2 ? EXIT_USAGE : EXIT_OK;
        return NULL;
    }
    for (const struct verb *v = verbs; v->name; v++) {
        if (strcmp(argv[1], v->name) != 0) continue;
        if (v->arg) {
            if (argc < 3 || strncmp(argv[2], "--", 2) == 0) {
                if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) return v;
                char en[160], zh[160];
                snprintf(en, sizeof en, "%s %s needs %s", noun, v->name, v->arg);
                snprintf(zh, sizeof zh, "%s %s 缺少参数 %s", noun, v->name, v->arg);
                cli_error(noun, en, zh);
                *rc = EXIT_USAGE;
                return NULL;
            }
            *arg = argv[2];
        }
        return v;
    }
    char en[160], zh[160];
    snprintf(en, sizeof en, "unknown action '%s'", argv[1]);
    snprintf(zh, sizeof zh, "未知操作“%s”", argv[1]);
    cli_error(noun, en, zh);
    noun_usage(noun, verbs, stderr);
    *rc = EXIT_USAGE;
    return NULL;
}

/* Parses the flags after the verb (and its argument), loads configuration,
 * opens and migrates the store, and starts the services. */
static int prepare(const char *cmd, const struct verb *v, int argc, char **argv,
                   const char *arg, const struct cli_flag *extra, ql_config *cfg, store **s,
                   int *help)
{
    int skip = arg ? 2 : 1; /* argv[skip] is where the flags start, minus one */
    int rc = cli_parse(cmd, argc - skip, argv + skip, extra, cfg, help);
    if (*help) {
        char syn[160];
        snprintf(syn, sizeof syn, "%s%s[flags]", v->arg ? v->arg : "", v->arg ? " " : "");
        cli_usage(cmd, syn, v->help, extra, 1);
        return EXIT_OK;
    }
    if (rc) return rc;
    rc = cli_store(cmd, cfg, 1, s);
    if (!rc) rc = cli_services(cmd, cfg);
    if (rc) {
        store_close(*s);
        *s = NULL;
        config_free(cfg);
    }
    return rc;
}

static int fail(const char *cmd, const ql_err *err)
{
    cli_error(cmd, err->en, err->zh);
    return EXIT_FAIL;
}

/* Reads one line (a password) from standard input, without its newline. */
static int read_line(char *out, size_t n)
{
    if (!fgets(out, (int)n, stdin)) return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int parse_roles(const char *s, unsigned *roles, ql_err *err)
{
    *roles = 0;
    if (!s) return 0;
    while (*s) {
        size_t n = strcspn(s, ", ");
        char name[32];
        if (n && n < sizeof name) {
            memcpy(name, s, n);
            name[n] = '\0';
            enum role role;
            if (role_parse(name, &role))
                return ql_errf(err, QL_EINVAL, "roles", "unknown role '%s'", "未知角色“%s”", name);
            *roles |= 1u << role;
        } else if (n) {
            return ql_errf(err, QL_EINVAL, "roles", "unknown role", "未知角色");
        }
        s += n;
        while (*s == ',' || *s == ' ') s++;
    }
    return 0;
}

static void print_user_line(const json_t *u)
{
    char roles[256] = "";
    size_t i, used = 0;
    json_t *v;
    json_array_foreach(json_object_get(u, "roles"), i, v)
    {
        int w = snprintf(roles + used, sizeof roles - used, "%s%s", used ? "," : "",
                         json_string_value(v));
        if (w > 0 && (size_t)w < sizeof roles - used) used += (size_t)w;
    }
    /* duty roles waiting for a second person, marked so */
    json_array_foreach(json_object_get(u, "pending_roles"), i, v)
    {
        int w = snprintf(roles + used, sizeof roles - used, "%s%s?", used ? "," : "",
                         json_string_value(v));
        if (w > 0 && (size_t)w < sizeof roles - used) used += (size_t)w;
    }
    const char *state = json_is_true(json_object_get(u, "disabled")) ? "disabled"
                        : json_is_true(json_object_get(u, "locked")) ? "locked"
                                                                     : "active";
    printf("%-6lld %-20s %-16s %-28s %s%s%s\n", (long long)json_integer_value(json_object_get(u, "id")),
           json_string_value(json_object_get(u, "username")), state, roles,
           json_string_value(json_object_get(u, "scope")),
           *json_string_value(json_object_get(u, "scope_id")) ? ":" : "",
           json_string_value(json_object_get(u, "scope_id")));
}

/* Prints the duty roles of account id that wait for a second person. */
static void print_pending(store *s, const actor *me, int64_t id)
{
    json_t *u;
    ql_err err;
    if (account_user_get(s, me, id, &u, &err)) return;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(u, "pending_roles"), i, v)
    {
        printf("%s: waits for a second person to confirm it (qianlima user requests)\n",
               json_string_value(v));
    }
    json_decref(u);
}

static void print_request(const json_t *q)
{
    printf("%-6lld %-20s %-16s asked for by %s at %s\n",
           (long long)json_integer_value(json_object_get(q, "id")),
           json_string_value(json_object_get(q, "username")),
           json_string_value(json_object_get(q, "role")),
           json_string_value(json_object_get(q, "requested_by")),
           json_string_value(json_object_get(q, "requested_at")));
}

static int user_roles(store *s, const actor *me, const char *username, const char *roles_s,
                      const char *scope_s, ql_err *err)
{
    if (!roles_s)
        return ql_errf(err, QL_EINVAL, "roles", "--roles is required", "缺少 --roles（角色）");
    unsigned roles;
    int rc = parse_roles(roles_s, &roles, err);
    if (rc) return rc;
    char kind[32];
    const char *colon = strchr(scope_s, ':');
    snprintf(kind, sizeof kind, "%.*s", colon ? (int)(colon - scope_s) : 31, scope_s);
    enum scope_kind sk;
    if (scope_parse(kind, &sk))
        return ql_errf(err, QL_EINVAL, "scope", "unknown scope '%s'", "未知范围“%s”", kind);
    int64_t id;
    if ((rc = account_user_id(s, username, &id, err))) return rc;
    struct role_change ch;
    rc = account_user_set_roles(s, me, id, roles, sk, colon ? colon + 1 : "", &ch, err);
    if (rc) return rc;
    static const char *const what[] = {
        "granted",
        "removed",
        "asked for (waits for a second person)",
        "withdrawn (was waiting)",
    };
    unsigned sets[] = {ch.granted, ch.removed, ch.requested, ch.withdrawn};
    int any = 0;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < ROLE_COUNT; i++)
            if (sets[k] & (1u << i)) {
                printf("%s: %s %s\n", username, role_name((enum role)i), what[k]);
                any = 1;
            }
    if (!any) printf("%s: roles and scope set\n", username);
    return 0;
}

/* Confirms (as the account named by as, its password read from standard
 * input) or refuses (as the command line) one pending grant or all. */
static int user_decide(store *s, const actor *me, const char *which, int confirm, const char *as,
                       ql_err *err)
{
    actor who = *me;
    if (confirm) {
        int rc = cli_signin_as(s, as, me, "a grant is confirmed", "角色授予", &who, err);
        if (rc) return rc;
    }
    int64_t ids[1000];
    size_t n = 0;
    if (!strcmp(which, "all")) {
        json_t *rows;
        int rc = account_role_requests(s, &who, 0, &rows, err);
        if (rc) return rc;
        size_t i;
        json_t *q;
        json_array_foreach(rows, i, q)
        {
            if (n < sizeof ids / sizeof ids[0] &&
                (!confirm || json_is_true(json_object_get(q, "may_confirm"))))
                ids[n++] = json_integer_value(json_object_get(q, "id"));
        }
        json_decref(rows);
    } else {
        char *end;
        long long id = strtoll(which, &end, 10);
        if (*end || id < 1)
            return ql_errf(err, QL_EINVAL, "id", "ID must be a request number or 'all'",
                           "ID 必须是申请编号或 all");
        ids[n++] = id;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = account_role_decide(s, &who, ids[i], confirm, err);
        if (rc) return rc;
        printf("grant %lld %s by %s\n", (long long)ids[i], confirm ? "confirmed" : "refused",
               who.username);
    }
    if (!n) printf("no grant to %s\n", confirm ? "confirm" : "refuse");
    return 0;
}

int cmd_user(int argc, char **argv)
{
    static const struct verb verbs[] = {
        {"add", "USERNAME", "create an account (it must change its password at first sign-in)"},
        {"list", NULL, "list accounts (a role marked ? waits for a second person)"},
        {"disable", "USERNAME", "disable an account and end its sessions"},
        {"enable", "USERNAME", "enable a disabled account"},
        {"reset-password", "USERNAME",
         "set a new temporary password, unlock the account and end its sessions"},
        {"roles", "USERNAME",
         "set an account's roles and scope (duty roles wait for a second "
         "person, see 'qianlima user requests')"},
        {"requests", NULL, "list the grants of duty roles that wait for a second person"},
        {"confirm", "ID|all",
         "confirm a pending grant (or all), signed in as a second person "
         "with --as (the password is read from standard input)"},
        {"refuse", "ID", "refuse a pending grant"},
        {0},
    };
    const char *arg;
    int rc = EXIT_OK;
    const struct verb *v = pick_verb("user", verbs, argc, argv, &arg, &rc);
    if (!v) return rc;
    const char *name = NULL, *roles_s = NULL, *scope_s = "district", *search = NULL, *as = NULL;
    int pw_stdin = 0, keep = 0;
    struct cli_flag add_flags[] = {
        {"name", "NAME", "the person's name (required)", &name, NULL},
        {"roles", "ROLE[,ROLE]",
         "roles: talent, employer_hr, window_clerk, reviewer, finance, "
         "housing_operator, admin, auditor, leadership, security_admin "
         "(required; see 'qianlima user roles --help' on duty roles)",
         &roles_s, NULL},
        {"scope", "KIND[:ID]",
         "district (default), department:CODE, employer:CREDIT_CODE, "
         "operator:CODE, or self",
         &scope_s, NULL},
        {"password-stdin", NULL,
         "read the first password from standard input instead of "
         "generating one",
         NULL, &pw_stdin},
        {"keep-password", NULL,
         "with --password-stdin: the account need not change it at first "
         "sign-in (demo and service accounts)",
         NULL, &keep},
        {0},
    };
    struct cli_flag list_flags[] = {
        {"search", "TEXT", "only accounts whose username or name contains TEXT", &search, NULL},
        {0},
    };
    struct cli_flag roles_flags[] = {
        {"roles", "ROLE[,ROLE]",
         "the roles the account is to hold (required): talent, "
         "employer_hr, window_clerk, reviewer, finance, housing_operator, "
         "admin, auditor, leadership, security_admin",
         &roles_s, NULL},
        {"scope", "KIND[:ID]",
         "district (default), department:CODE, employer:CREDIT_CODE, "
         "operator:CODE, or self",
         &scope_s, NULL},
        {0},
    };
    struct cli_flag confirm_flags[] = {
        {"as", "USERNAME",
         "the account that confirms (required): a security administrator, or "
         "another administrator for a grant an administrator asked for; its "
         "password is read from standard input",
         &as, NULL},
        {0},
    };
    struct cli_flag none[] = {{0}};
    const struct cli_flag *extra = !strcmp(v->name, "add")       ? add_flags
                                   : !strcmp(v->name, "list")    ? list_flags
                                   : !strcmp(v->name, "roles")   ? roles_flags
                                   : !strcmp(v->name, "confirm") ? confirm_flags
                                                                 : none;
    char cmd[48];
    snprintf(cmd, sizeof cmd, "user %s", v->name);
    ql_config cfg;
    store *s = NULL;
    int help = 0;
    rc = prepare(cmd, v, argc, argv, arg, extra, &cfg, &s, &help);
    if (help || rc) return rc;

    actor me;
    actor_cli(&me);
    ql_err err = {0};
    char temp[24] = "";
    if (!strcmp(v->name, "add")) {
        unsigned roles = 0;
        enum scope_kind sk;
        char kind[32];
        const char *colon = strchr(scope_s, ':');
        snprintf(kind, sizeof kind, "%.*s", colon ? (int)(colon - scope_s) : 31, scope_s);
        char password[256] = "";
        if (!name) rc = ql_errf(&err, QL_EINVAL, "display_name", "--name is required",
                                "缺少 --name（姓名）");
        else if (!roles_s) rc = ql_errf(&err, QL_EINVAL, "roles", "--roles is required",
                                        "缺少 --roles（角色）");
        else if (scope_parse(kind, &sk))
            rc = ql_errf(&err, QL_EINVAL, "scope", "unknown scope '%s'", "未知范围“%s”", kind);
        else rc = parse_roles(roles_s, &roles, &err);
        if (!rc && pw_stdin && read_line(password, sizeof password))
            rc = ql_errf(&err, QL_EINVAL, "password", "no password on standard input",
                         "标准输入中没有口令");
        int64_t id = 0;
        if (!rc) {
            struct user_input in = {arg, name, roles, sk, colon ? colon + 1 : "", password, keep};
            rc = account_user_create(s, &me, &in, &id, temp, &err);
        }
        if (rc) rc = fail(cmd, &err);
        else {
            printf("created account %s (id %lld)\n", arg, (long long)id);
            if (temp[0]) printf("temporary password (shown once): %s\n", temp);
            print_pending(s, &me, id);
        }
    } else if (!strcmp(v->name, "roles")) {
        rc = user_roles(s, &me, arg, roles_s, scope_s, &err);
        if (rc) rc = fail(cmd, &err);
    } else if (!strcmp(v->name, "requests")) {
        json_t *rows;
        rc = account_role_requests(s, &me, 0, &rows, &err);
        if (rc)
            rc = fail(cmd, &err);
        else {
            size_t i;
            json_t *q;
            json_array_foreach(rows, i, q)
            {
                print_request(q);
            }
            printf("%zu grant(s) wait for a second person\n", json_array_size(rows));
            json_decref(rows);
        }
    } else if (!strcmp(v->name, "confirm") || !strcmp(v->name, "refuse")) {
        rc = user_decide(s, &me, arg, !strcmp(v->name, "confirm"), as, &err);
        if (rc) rc = fail(cmd, &err);
    } else if (!strcmp(v->name, "list")) {
        int64_t total = 0, page = 1;
        do {
            json_t *rows;
            rc = account_user_list(s, &me, search, page, 100, &rows, &total, &err);
            if (rc) break;
            size_t i;
            json_t *u;
            json_array_foreach(rows, i, u) { print_user_line(u); }
            json_decref(rows);
            page++;
        } while ((page - 1) * 100 < total);
        if (rc) rc = fail(cmd, &err);
        else printf("%lld account(s)\n", (long long)total);
    } else {
        int64_t id;
        rc = account_user_id(s, arg, &id, &err);
        enum user_action what = !strcmp(v->name, "reset-password") ? USER_RESET_PASSWORD
                                : !strcmp(v->name, "disable")      ? USER_DISABLE
                                                                   : USER_ENABLE;
        if (!rc) rc = account_user_apply(s, &me, id, what, temp, &err);
        if (rc) rc = fail(cmd, &err);
        else if (temp[0]) printf("%s: temporary password (shown once): %s\n", arg, temp);
        else printf("%s: %sd\n", arg, v->name);
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}

int cmd_token(int argc, char **argv)
{
    static const struct verb verbs[] = {
        {"create", NULL, "create an API token for another system (printed once)"},
        {"list", NULL, "list tokens (never their values)"},
        {"revoke", "ID", "revoke a token"},
        {0},
    };
    const char *arg;
    int rc = EXIT_OK;
    const struct verb *v = pick_verb("token", verbs, argc, argv, &arg, &rc);
    if (!v) return rc;
    const char *user = NULL, *name = NULL, *perms_s = NULL, *days_s = "90";
    struct cli_flag create_flags[] = {
        {"user", "USERNAME", "the account the token acts as (required)", &user, NULL},
        {"name", "NAME", "what the token is for, e.g. the calling system (required)", &name, NULL},
        {"permissions", "PERM[,PERM]", "the most the token may do, e.g. system.metrics (required)",
         &perms_s, NULL},
        {"days", "N", "days until it expires (default 90)", &days_s, NULL},
        {0},
    };
    struct cli_flag none[] = {{0}};
    char cmd[48];
    snprintf(cmd, sizeof cmd, "token %s", v->name);
    ql_config cfg;
    store *s = NULL;
    int help = 0;
    rc = prepare(cmd, v, argc, argv, arg, !strcmp(v->name, "create") ? create_flags : none, &cfg,
                 &s, &help);
    if (help || rc) return rc;
    actor me;
    actor_cli(&me);
    ql_err err = {0};
    if (!strcmp(v->name, "create")) {
        permset perms = 0;
        char *end;
        long days = strtol(days_s, &end, 10);
        if (!user || !name || !perms_s)
            rc = ql_errf(&err, QL_EINVAL, !user ? "user" : !name ? "name" : "permissions",
                         "--user, --name and --permissions are required",
                         "必须提供 --user、--name 和 --permissions");
        else if (*end || days < 1)
            rc = ql_errf(&err, QL_EINVAL, "days", "--days must be a whole number from 1",
                         "--days 必须是从 1 开始的整数");
        else rc = perms_parse(perms_s, &perms, &err);
        char token[64] = "";
        int64_t id = 0;
        if (!rc) rc = account_token_create(s, &me, user, name, perms, days, token, &id, &err);
        if (rc) rc = fail(cmd, &err);
        else printf("token %lld for %s (shown once; store it now):\n%s\n", (long long)id, user, token);
    } else if (!strcmp(v->name, "list")) {
        json_t *rows;
        rc = account_token_list(s, &me, &rows, &err);
        if (rc) rc = fail(cmd, &err);
        else {
            size_t i;
            json_t *t;
            json_array_foreach(rows, i, t)
            {
                printf("%-5lld %-14s %-20s %-10s expires %s  %s\n",
                       (long long)json_integer_value(json_object_get(t, "id")),
                       json_string_value(json_object_get(t, "prefix")),
                       json_string_value(json_object_get(t, "name")),
                       json_is_true(json_object_get(t, "revoked")) ? "revoked" : "live",
                       json_string_value(json_object_get(t, "expires_at")),
                       json_string_value(json_object_get(t, "permissions")));
            }
            json_decref(rows);
        }
    } else {
        char *end;
        long long id = strtoll(arg, &end, 10);
        if (*end || id < 1) rc = ql_errf(&err, QL_EINVAL, "id", "ID must be a token number",
                                         "ID 必须是令牌编号");
        else rc = account_token_revoke(s, &me, id, &err);
        if (rc) rc = fail(cmd, &err);
        else printf("token %lld revoked\n", id);
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    static const struct verb verbs[] = {
        {"verify", NULL, "recompute the audit chain and compare it with the anchor; names the "
                         "first broken row (exit status 1 when the chain is broken)"},
        {0},
    };
    const char *arg;
    int rc = EXIT_OK;
    const struct verb *v = pick_verb("audit", verbs, argc, argv, &arg, &rc);
    if (!v) return rc;
    struct cli_flag none[] = {{0}};
    ql_config cfg;
    store *s = NULL;
    int help = 0;
    rc = prepare("audit verify", v, argc, argv, arg, none, &cfg, &s, &help);
    if (help || rc) return rc;
    audit_report rep;
    ql_err err = {0};
    rc = audit_verify(s, &rep, &err);
    if (rc) rc = fail("audit verify", &err);
    else if (rep.ok) {
        printf("audit chain intact: %lld row(s); head seq %lld hash %s\n", (long long)rep.rows,
               (long long)rep.head_seq, rep.head_hash);
    } else {
        printf("audit chain BROKEN at row %lld: %s\n审计链在第 %lld 行断裂：%s\n",
               (long long)rep.broken_seq, rep.reason_en, (long long)rep.broken_seq, rep.reason_zh);
        rc = EXIT_FAIL;
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}

/* ---- keys ------------------------------------------------------------- */

static void show_progress(int64_t scanned, int64_t resealed, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "\r  %lld row(s) read, %lld value(s) re-sealed", (long long)scanned,
            (long long)resealed);
}

static void print_usage_of_keys(const json_t *usage, const char *current)
{
    const char *fp;
    json_t *n;
    json_object_foreach((json_t *)usage, fp, n)
    {
        printf("  key %s%s: %lld sealed value(s)\n", fp,
               strcmp(fp, current) == 0 ? " (current)" : "", (long long)json_integer_value(n));
    }
}

int cmd_keys(int argc, char **argv)
{
    static const struct verb verbs[] = {
        {"status", NULL, "how many sealed values each personal-data key holds"},
        {"rotate", NULL, "make a new personal-data key (the old one is kept as "
                         "pii-old-<fingerprint>.key) and re-seal every value under it"},
        {"reseal", NULL, "re-seal every value still under an older key (after an interrupted "
                         "rotation, or values a running server sealed during one)"},
        {0},
    };
    const char *arg;
    int rc = EXIT_OK;
    const struct verb *v = pick_verb("keys", verbs, argc, argv, &arg, &rc);
    if (!v) return rc;
    struct cli_flag none[] = {{0}};
    ql_config cfg;
    store *s = NULL;
    int help = 0;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "keys %s", v->name);
    rc = prepare(cmd, v, argc, argv, arg, none, &cfg, &s, &help);
    if (help || rc) return rc;
    ql_err err = {0};
    if (!strcmp(v->name, "rotate")) {
        rc = pii_rotate_key(&err);
        if (rc) rc = fail(cmd, &err);
        else {
            char fp[9];
            pii_current_key(fp);
            printf("new key %s in %s\n", fp, cfg.keys_dir);
        }
    }
    if (!rc && strcmp(v->name, "status") != 0) {
        actor me;
        actor_cli(&me);
        int64_t scanned = 0, resealed = 0;
        rc = registry_reseal(s, &me, isatty(2) ? show_progress : NULL, NULL, &scanned, &resealed,
                             &err);
        if (isatty(2)) fputc('\n', stderr);
        if (rc) rc = fail(cmd, &err);
        else printf("%lld row(s) read, %lld value(s) re-sealed\n", (long long)scanned,
                    (long long)resealed);
    }
    if (!rc) {
        json_t *usage;
        char current[9];
        rc = registry_key_usage(s, &usage, current, &err);
        if (rc) rc = fail(cmd, &err);
        else {
            print_usage_of_keys(usage, current);
            int old_in_use = 0;
            const char *fp;
            json_t *n;
            json_object_foreach(usage, fp, n)
            {
                if (strcmp(fp, current) != 0 && json_integer_value(n) > 0) old_in_use = 1;
            }
            if (!old_in_use)
                printf("no value is sealed with an older key: the pii-old-*.key files can be "
                       "removed once a backup of the key directory is kept\n"
                       "没有数据仍使用旧密钥：备份密钥目录后即可删除 pii-old-*.key 文件\n");
            json_decref(usage);
        }
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}
