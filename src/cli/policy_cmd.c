/* policy_cmd.c - the policy subcommand: check a policy file, store it,
 * activate it, list and show stored files, decide for one talent, and run a
 * proposed policy against the registry (what-if). Acts as "cli:<unix user>".
 * The file format is in policy/rules.h and docs/policy.md. */
#include "cli/cli.h"

#include "core/date.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "policy/policy.h"
#include "policy/simulate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_verb verbs[] = {
    {"check", 1, "FILE",
     "parse FILE and run the static checks (overlapping or gapped versions, criteria that can "
     "never pass, unreachable tiers, ...); exit status 1 when an error is found"},
    {"load", 1, "FILE [--activate]",
     "store FILE as a draft of its programme (refused when it does not parse); with --activate "
     "also make it the active policy, which needs a file without errors"},
    {"activate", 1, "ID", "make stored file ID its programme's active policy"},
    {"list", 0, "", "list the stored policy files"},
    {"show", 1, "ID", "print stored file ID with the findings of the static checks"},
    {"decide", 1, "TALENT_ID [--programme CODE] [--date YYYY-MM-DD]",
     "evaluate one talent of the registry under a programme's active policy and print the "
     "decision with its trace (JSON); nothing is stored"},
    {"simulate", 0, "--policy FILE --month YYYY-MM [--against FILE] [--json]",
     "run the proposed policy FILE against every talent in the registry for the month, beside "
     "the active policy of the same programme (or --against FILE): who gains, who loses, the "
     "budget change, counts by tier and employer"},
    {0},
};

static int fail(const char *cmd, const ql_err *err)
{
    cli_error(cmd, err->en, err->zh);
    return EXIT_FAIL;
}

static void print_issues(const pol_programme *p, const pol_issues *is)
{
    char *text = pol_issues_text(p, is);
    fputs(text, stdout);
    free(text);
}

static int do_check(const char *cmd, const char *path)
{
    char *buf;
    size_t len;
    ql_err err = {0};
    if (cli_read_file(path, POL_FILE_MAX, &buf, &len, &err)) return fail(cmd, &err);
    pol_programme p;
    pol_issues *is = xmalloc(sizeof *is);
    int rc = policy_check_text(buf, len, path, &p, is, &err);
    free(buf);
    if (rc) {
        pol_free(&p);
        free(is);
        return fail(cmd, &err);
    }
    print_issues(&p, is);
    char versions[2001];
    policy_versions_text(&p, versions, sizeof versions);
    printf("%s: programme %s, %d version(s) (%s): %d error(s), %d warning(s)\n"
           "%s：项目 %s，%d 个版本：%d 处错误，%d 处警告\n",
           path, p.code, p.nver, versions, is->nerrors, is->n - is->nerrors, path, p.code, p.nver,
           is->nerrors, is->n - is->nerrors);
    rc = is->nerrors ? EXIT_FAIL : EXIT_OK;
    pol_free(&p);
    free(is);
    return rc;
}

static int parse_id(const char *cmd, const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 1) {
        cli_error(cmd, "ID must be a positive whole number", "编号必须是正整数");
        return EXIT_USAGE;
    }
    *id = v;
    return EXIT_OK;
}

static int do_activate(const char *cmd, store *s, int64_t id)
{
    actor me;
    actor_cli(&me);
    struct policy_activated act;
    ql_err err = {0};
    if (policy_activate(s, &me, id, &act, &err)) return fail(cmd, &err);
    if (act.unchanged)
        printf("policy file %lld is active already: nothing changed\n"
               "政策文件 %lld 已是启用状态：无变化\n",
               (long long)id, (long long)id);
    else if (act.retired_id)
        printf("policy file %lld is active; file %lld is retired (audit row %lld)\n"
               "政策文件 %lld 已启用；文件 %lld 已停用\n",
               (long long)id, (long long)act.retired_id, (long long)act.audit_seq, (long long)id,
               (long long)act.retired_id);
    else
        printf("policy file %lld is active (audit row %lld)\n政策文件 %lld 已启用\n", (long long)id,
               (long long)act.audit_seq, (long long)id);
    return EXIT_OK;
}

static int do_load(const char *cmd, store *s, const char *path, int activate)
{
    char *buf;
    size_t len;
    ql_err err = {0};
    if (cli_read_file(path, POL_FILE_MAX, &buf, &len, &err)) return fail(cmd, &err);
    const char *name = strrchr(path, '/');
    name = name && name[1] ? name + 1 : path;
    actor me;
    actor_cli(&me);
    struct policy_saved *sv = xmalloc(sizeof *sv);
    int rc = policy_save(s, &me, buf, len, name, sv, &err);
    free(buf);
    if (rc) {
        free(sv);
        return fail(cmd, &err);
    }
    if (sv->issues.n) {
        pol_programme p;
        memset(&p, 0, sizeof p);
        snprintf(p.file, sizeof p.file, "%s", name);
        print_issues(&p, &sv->issues);
    }
    printf("%s: programme %s, stored as policy file %lld%s: %d error(s), %d warning(s)\n"
           "%s：项目 %s，政策文件编号 %lld：%d 处错误，%d 处警告\n",
           name, sv->programme, (long long)sv->id, sv->unchanged ? " (already stored)" : "",
           sv->issues.nerrors, sv->issues.n - sv->issues.nerrors, name, sv->programme,
           (long long)sv->id, sv->issues.nerrors, sv->issues.n - sv->issues.nerrors);
    int64_t id = sv->id;
    free(sv);
    return activate ? do_activate(cmd, s, id) : EXIT_OK;
}

static int do_list(const char *cmd, store *s)
{
    json_t *list;
    ql_err err = {0};
    if (policy_list(s, true, &list, &err)) return fail(cmd, &err);
    printf("%-5s %-20s %-8s %-6s %-8s %s\n", "id", "programme", "status", "errors", "warnings",
           "versions");
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        printf("%-5lld %-20s %-8s %-6lld %-8lld %s\n",
               (long long)json_integer_value(json_object_get(o, "id")),
               json_string_value(json_object_get(o, "programme")),
               json_string_value(json_object_get(o, "status")),
               (long long)json_integer_value(json_object_get(o, "errors")),
               (long long)json_integer_value(json_object_get(o, "warnings")),
               json_string_value(json_object_get(o, "versions")));
    }
    json_decref(list);
    return EXIT_OK;
}

static int do_show(const char *cmd, store *s, int64_t id)
{
    json_t *o;
    ql_err err = {0};
    if (policy_get(s, id, true, &o, &err)) return fail(cmd, &err);
    printf("# policy file %lld: %s (%s), %s, sha256 %s\n", (long long)id,
           json_string_value(json_object_get(o, "programme")),
           json_string_value(json_object_get(o, "name_en")),
           json_string_value(json_object_get(o, "status")),
           json_string_value(json_object_get(o, "digest")));
    fputs(json_string_value(json_object_get(o, "source")), stdout);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(o, "issues"), i, it)
    {
        printf("# line %lld:%lld: %s: %s\n",
               (long long)json_integer_value(json_object_get(it, "line")),
               (long long)json_integer_value(json_object_get(it, "col")),
               json_is_true(json_object_get(it, "warning")) ? "warning" : "error",
               json_string_value(json_object_get(it, "en")));
    }
    json_decref(o);
    return EXIT_OK;
}

static int do_decide(const char *cmd, store *s, int64_t talent, const char *programme,
                     const char *date_s)
{
    int32_t day = date_today();
    if (date_s && date_parse(date_s, &day)) {
        cli_error(cmd, "--date must be YYYY-MM-DD", "--date 格式应为 YYYY-MM-DD");
        return EXIT_USAGE;
    }
    ql_err err = {0};
    pol_programme p;
    int64_t file_id = 0;
    if (policy_load_active(s, programme, &p, &file_id, &err)) {
        pol_free(&p);
        return fail(cmd, &err);
    }
    pol_facts f;
    struct policy_subject who;
    int version, tier, rc = EXIT_OK;
    json_t *trace = NULL;
    if (policy_talent_facts(s, talent, day, &f, &who, &err) ||
        pol_decide(&p, day, &f, &version, &tier, &trace, &err)) {
        rc = fail(cmd, &err);
    } else {
        json_object_set_new(trace, "policy_file", json_integer(file_id));
        json_object_set_new(trace, "talent_id", json_integer(talent));
        char *text = json_dumps(trace, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
    }
    json_decref(trace);
    pol_free(&p);
    return rc;
}

static int load_file(const char *cmd, const char *path, pol_programme *p)
{
    char *buf;
    size_t len;
    ql_err err = {0};
    memset(p, 0, sizeof *p);
    if (cli_read_file(path, POL_FILE_MAX, &buf, &len, &err)) return fail(cmd, &err);
    pol_issues *is = xmalloc(sizeof *is);
    int rc = policy_check_text(buf, len, path, p, is, &err);
    free(buf);
    if (rc) {
        free(is);
        return fail(cmd, &err);
    }
    if (is->nerrors) {
        print_issues(p, is);
        char en[200], zh[200];
        snprintf(en, sizeof en, "%s has %d error(s): fix them first", path, is->nerrors);
        snprintf(zh, sizeof zh, "%s 有 %d 处错误：请先修正", path, is->nerrors);
        cli_error(cmd, en, zh);
        rc = EXIT_FAIL;
    }
    free(is);
    return rc;
}

static void print_side(const char *label, json_t *side)
{
    if (json_is_null(side)) {
        printf("  %-9s (none: nobody is paid now)\n", label);
        return;
    }
    printf("  %-9s %s %s: %lld eligible, %s yuan a month;", label,
           json_string_value(json_object_get(side, "programme")),
           json_string_value(json_object_get(side, "version"))
               ? json_string_value(json_object_get(side, "version"))
               : "(no version in force)",
           (long long)json_integer_value(json_object_get(side, "eligible")),
           json_string_value(json_object_get(side, "budget_yuan")));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(side, "by_tier"), k, v)
    {
        printf(" %s=%lld", k, (long long)json_integer_value(v));
    }
    printf("\n");
}

static int do_simulate(const char *cmd, store *s, const char *policy, const char *against,
                       const char *month_s, int as_json)
{
    int32_t month;
    if (!policy || !month_s) {
        cli_error(cmd, "--policy FILE and --month YYYY-MM are required",
                  "须给出 --policy 文件 与 --month 年月");
        return EXIT_USAGE;
    }
    if (date_parse_month(month_s, &month)) {
        cli_error(cmd, "--month must be YYYY-MM", "--month 格式应为 YYYY-MM");
        return EXIT_USAGE;
    }
    pol_programme prop, cur;
    memset(&cur, 0, sizeof cur);
    int have_cur = 0, rc;
    if ((rc = load_file(cmd, policy, &prop))) {
        pol_free(&prop);
        return rc;
    }
    ql_err err = {0};
    if (against) {
        rc = load_file(cmd, against, &cur);
        have_cur = !rc;
    } else {
        int64_t fid;
        rc = policy_load_active(s, prop.code, &cur, &fid, &err);
        if (rc == QL_ENOTFOUND)
            rc = 0;
        else if (rc)
            rc = fail(cmd, &err);
        else
            have_cur = 1;
    }
    json_t *res = NULL;
    if (!rc) {
        actor me;
        actor_cli(&me);
        if (policy_simulate(s, &me, have_cur ? &cur : NULL, &prop, month, &res, &err))
            rc = fail(cmd, &err);
    }
    if (!rc && as_json) {
        char *text = json_dumps(res, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
    } else if (!rc) {
        printf("what-if for %s over %lld talents\n",
               json_string_value(json_object_get(res, "month")),
               (long long)json_integer_value(json_object_get(res, "people")));
        print_side("current", json_object_get(res, "current"));
        print_side("proposed", json_object_get(res, "proposed"));
        printf("  gain %lld (start %lld), lose %lld (stop %lld), unchanged %lld; budget change %s "
               "yuan a month\n",
               (long long)json_integer_value(json_object_get(res, "gain")),
               (long long)json_integer_value(json_object_get(res, "start")),
               (long long)json_integer_value(json_object_get(res, "lose")),
               (long long)json_integer_value(json_object_get(res, "stop")),
               (long long)json_integer_value(json_object_get(res, "same")),
               json_string_value(json_object_get(res, "budget_change_yuan")));
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(res, "by_employer"), i, e)
        {
            if (i >= 10) break;
            printf("  employer %lld %s: %lld -> %lld paid, %s yuan\n",
                   (long long)json_integer_value(json_object_get(e, "employer_id")),
                   json_string_value(json_object_get(e, "name")),
                   (long long)json_integer_value(json_object_get(e, "current")),
                   (long long)json_integer_value(json_object_get(e, "proposed")),
                   json_string_value(json_object_get(e, "change_yuan")));
        }
    }
    json_decref(res);
    pol_free(&prop);
    pol_free(&cur);
    return rc;
}

int cmd_policy(int argc, char **argv)
{
    int code;
    const struct cli_verb *v = cli_verb_pick(
        "policy", argc, argv, verbs, "The file format is described in docs/policy.md.", &code);
    if (!v) return code;
    char cmd[40];
    snprintf(cmd, sizeof cmd, "policy %s", v->name);
    int activate = 0, as_json = 0;
    const char *programme = "district-rent", *date_s = NULL, *policy = NULL, *against = NULL,
               *month = NULL;
    const struct cli_flag load_flags[] = {
        {"activate", NULL, "also make the file the active policy", NULL, &activate},
        {0},
    };
    const struct cli_flag decide_flags[] = {
        {"programme", "CODE", "the programme (default district-rent)", &programme, NULL},
        {"date", "YYYY-MM-DD", "the day of the decision (default today)", &date_s, NULL},
        {0},
    };
    const struct cli_flag sim_flags[] = {
        {"policy", "FILE", "the proposed policy file", &policy, NULL},
        {"month", "YYYY-MM", "the month to simulate", &month, NULL},
        {"against", "FILE", "compare with this file instead of the active policy", &against, NULL},
        {"json", NULL, "print the whole result as JSON", NULL, &as_json},
        {0},
    };
    const struct cli_flag none[] = {{0}};
    const struct cli_flag *extra = !strcmp(v->name, "load")       ? load_flags
                                   : !strcmp(v->name, "decide")   ? decide_flags
                                   : !strcmp(v->name, "simulate") ? sim_flags
                                                                  : none;
    int help;
    ql_config cfg;
    int store_verb = strcmp(v->name, "check") != 0;
    int rc = cli_verb_args(cmd, v, argc, argv, extra, store_verb, &cfg, &help);
    if (rc || help) return rc; /* cfg was not loaded */
    if (!store_verb) {
        rc = do_check(cmd, argv[2]);
        config_free(&cfg);
        return rc;
    }
    int64_t id = 0;
    if ((!strcmp(v->name, "activate") || !strcmp(v->name, "show") || !strcmp(v->name, "decide")) &&
        (rc = parse_id(cmd, argv[2], &id))) {
        config_free(&cfg);
        return rc;
    }
    store *s = NULL;
    rc = cli_store(cmd, &cfg, 1, &s);
    if (!rc) rc = cli_services(cmd, &cfg);
    if (!rc) {
        if (!strcmp(v->name, "load"))
            rc = do_load(cmd, s, argv[2], activate);
        else if (!strcmp(v->name, "activate"))
            rc = do_activate(cmd, s, id);
        else if (!strcmp(v->name, "list"))
            rc = do_list(cmd, s);
        else if (!strcmp(v->name, "show"))
            rc = do_show(cmd, s, id);
        else if (!strcmp(v->name, "decide"))
            rc = do_decide(cmd, s, id, programme, date_s);
        else
            rc = do_simulate(cmd, s, policy, against, month, as_json);
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}
