/* registry_cmd.c - the import and export subcommands: CSV files into the
 * registry, and registry lists out to .xlsx or CSV, from the server's own
 * command line (acting as "cli:<unix user>"). */
#include "cli/cli.h"

#include "core/export.h"
#include "registry/export.h"
#include "registry/import.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *encoding_name(enum csv_encoding e)
{
    return e == CSV_GB18030 ? "GB18030 (GBK)" : e == CSV_UTF8_BOM ? "UTF-8 with BOM" : "UTF-8";
}

int cmd_import(int argc, char **argv)
{
    int commit = 0;
    const struct cli_flag extra[] = {
        {"commit", NULL, "store the rows when every row is good (without it: only check)", NULL,
         &commit},
        {0},
    };
    int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    ql_config cfg = {0};
    int rc = help ? 0 : argc >= 3 ? cli_parse("import", argc - 2, argv + 2, extra, &cfg, &help) : 0;
    if (rc) return rc;
    if (help) {
        cli_usage("import", "talents|employers FILE [--commit] [flags]",
                  "Checks every row of a CSV file (UTF-8, UTF-8 with BOM, or GBK as Excel saves "
                  "it) and reports each bad row with its row number, column and reason. With "
                  "--commit and no bad row, stores every row in one transaction; one bad row and "
                  "nothing is stored. The first row names the columns (see the templates in the "
                  "console or 'qianlima import talents --template').",
                  extra, 1);
        return EXIT_OK;
    }
    if (argc >= 3 && !strcmp(argv[2], "--template")) {
        config_free(&cfg);
        enum import_kind kind;
        if (import_kind_parse(argv[1], &kind)) {
            cli_error("import", "the kind must be talents or employers", "类型必须是 talents 或 employers");
            return EXIT_USAGE;
        }
        fputs(import_template(kind), stdout);
        return EXIT_OK;
    }
    if (argc < 3 || !strncmp(argv[1], "--", 2) || !strncmp(argv[2], "--", 2)) {
        if (argc >= 3) config_free(&cfg);
        cli_error("import", "usage: qianlima import talents|employers FILE [--commit]",
                  "用法：qianlima import talents|employers 文件 [--commit]");
        return EXIT_USAGE;
    }
    enum import_kind kind;
    if (import_kind_parse(argv[1], &kind)) {
        config_free(&cfg);
        cli_error("import", "the kind must be talents or employers", "类型必须是 talents 或 employers");
        return EXIT_USAGE;
    }
    const char *path = argv[2];
    store *s = NULL;
    rc = cli_store("import", &cfg, 1, &s);
    if (!rc) rc = cli_services("import", &cfg);
    if (rc) {
        store_close(s);
        config_free(&cfg);
        return rc;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        char en[600], zh[600];
        snprintf(en, sizeof en, "cannot open %s", path);
        snprintf(zh, sizeof zh, "无法打开 %s", path);
        cli_error("import", en, zh);
        store_close(s);
        config_free(&cfg);
        return EXIT_FAIL;
    }
    actor me;
    actor_cli(&me);
    struct import_report rep;
    ql_err err = {0};
    rc = registry_import(s, &me, kind, f, path, commit, &rep, &err);
    fclose(f);
    if (rc) {
        cli_error("import", err.en, err.zh);
        rc = EXIT_FAIL;
    } else {
        printf("%s: %lld row(s) read (%s)\n", path, (long long)rep.rows,
               encoding_name(rep.encoding));
        size_t i;
        json_t *p;
        json_array_foreach(rep.list, i, p)
        {
            printf("  row %lld, %s: %s\n      %s\n",
                   (long long)json_integer_value(json_object_get(p, "row")),
                   json_string_value(json_object_get(p, "column")),
                   json_string_value(json_object_get(p, "message_en")),
                   json_string_value(json_object_get(p, "message_zh")));
        }
        if ((int64_t)json_array_size(rep.list) < rep.problems)
            printf("  ... %lld more problem(s) not listed\n",
                   (long long)(rep.problems - (int64_t)json_array_size(rep.list)));
        if (rep.bad_rows) {
            printf("%lld bad row(s), %lld problem(s): nothing was stored\n"
                   "%lld 行有问题，共 %lld 处：未导入任何数据\n",
                   (long long)rep.bad_rows, (long long)rep.problems, (long long)rep.bad_rows,
                   (long long)rep.problems);
            rc = EXIT_FAIL;
        } else if (commit) {
            printf("stored %lld row(s) (audit row %lld)\n已导入 %lld 行\n", (long long)rep.imported,
                   (long long)rep.audit_seq, (long long)rep.imported);
        } else {
            printf("every row is good; run again with --commit to store them\n"
                   "所有行均无问题；加 --commit 重新运行即可导入\n");
        }
        if (rep.warnings) {
            printf("%lld row(s) with a warning%s\n%lld 行有警告%s\n", (long long)rep.warnings,
                   rep.imported ? " (stored)" : "", (long long)rep.warnings,
                   rep.imported ? "（已导入）" : "");
            json_array_foreach(rep.warning_list, i, p)
            {
                printf("  warning, row %lld, %s: %s\n      %s\n",
                       (long long)json_integer_value(json_object_get(p, "row")),
                       json_string_value(json_object_get(p, "column")),
                       json_string_value(json_object_get(p, "message_en")),
                       json_string_value(json_object_get(p, "message_zh")));
            }
        }
    }
    import_report_free(&rep);
    store_close(s);
    config_free(&cfg);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    const char *format_s = NULL, *q = NULL;
    const struct cli_flag extra[] = {
        {"format", "xlsx|csv", "file format (default: from the file name, else xlsx)", &format_s,
         NULL},
        {"q", "TEXT", "only talents whose name starts with TEXT, or with this exact ID number, "
                      "mobile or card number",
         &q, NULL},
        {0},
    };
    int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    ql_config cfg = {0};
    int rc = help ? 0 : argc >= 3 ? cli_parse("export", argc - 2, argv + 2, extra, &cfg, &help) : 0;
    if (rc) return rc;
    if (help) {
        cli_usage("export", "talents|employers FILE [--format xlsx|csv] [flags]",
                  "Writes a registry list to an .xlsx or CSV file, personal data masked. The "
                  "rows stream from the store to the file, so a million rows need little memory.",
                  extra, 1);
        return EXIT_OK;
    }
    if (argc < 3 || !strncmp(argv[1], "--", 2) || !strncmp(argv[2], "--", 2)) {
        if (argc >= 3) config_free(&cfg);
        cli_error("export", "usage: qianlima export talents|employers FILE [--format xlsx|csv]",
                  "用法：qianlima export talents|employers 文件 [--format xlsx|csv]");
        return EXIT_USAGE;
    }
    enum import_kind kind;
    if (import_kind_parse(argv[1], &kind)) {
        config_free(&cfg);
        cli_error("export", "the kind must be talents or employers", "类型必须是 talents 或 employers");
        return EXIT_USAGE;
    }
    const char *path = argv[2];
    size_t plen = strlen(path);
    enum export_format fmt = plen > 4 && !strcmp(path + plen - 4, ".csv") ? EXPORT_CSV : EXPORT_XLSX;
    if (format_s && !strcmp(format_s, "csv")) fmt = EXPORT_CSV;
    else if (format_s && !strcmp(format_s, "xlsx")) fmt = EXPORT_XLSX;
    else if (format_s) {
        cli_error("export", "--format must be xlsx or csv", "--format 必须是 xlsx 或 csv");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    store *s = NULL;
    rc = cli_store("export", &cfg, 1, &s);
    if (!rc) rc = cli_services("export", &cfg);
    if (!rc) {
        actor me;
        actor_cli(&me);
        ql_err err = {0};
        int64_t rows = 0;
        struct talent_filter tf = {.q = q, .sort = "id", .page = 1, .per_page = 1};
        struct employer_filter ef = {.q = q, .page = 1, .per_page = 1};
        rc = kind == IMPORT_TALENTS ? registry_export_talents(s, &me, &tf, NULL, fmt, path, &rows, &err)
                                    : registry_export_employers(s, &me, &ef, fmt, path, &rows, &err);
        if (rc) {
            cli_error("export", err.en, err.zh);
            unlink(path);
            rc = EXIT_FAIL;
        } else {
            printf("%s: %lld row(s)\n", path, (long long)rows);
        }
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}
