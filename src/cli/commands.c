/* commands.c - the serve, migrate and version subcommands. */
#include "cli/cli.h"

#include "core/log.h"
#include "core/version.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "store/store.h"
#include "web/web.h"

#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_serve(int argc, char **argv)
{
    const char *ready_file = NULL;
    const struct cli_flag extra[] = {
        {"ready-file", "PATH", "write HOST:PORT to PATH once listening (useful with port 0)",
         &ready_file, NULL},
        {0},
    };
    ql_config cfg;
    int help;
    int rc = cli_parse("serve", argc, argv, extra, &cfg, &help);
    if (help) {
        cli_usage("serve", "[flags]",
                  "Serves the console and the JSON API. Applies pending database migrations "
                  "first. Stops gracefully on SIGTERM or SIGINT.",
                  extra, 1);
        return EXIT_OK;
    }
    if (rc) return rc;

    store *s = NULL;
    rc = cli_store("serve", &cfg, 1, &s);
    store_close(s);
    if (rc == EXIT_OK) rc = cli_services("serve", &cfg);
    ql_err err = {0};
    if (rc == EXIT_OK && web_init(&err)) {
        cli_error("serve", err.en, err.zh);
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK) {
        rc = http_serve(&cfg, ready_file) ? EXIT_FAIL : EXIT_OK;
        /* Background jobs (a month computed or exported) get the drain's
         * time to end; those still running are recorded as stopped, and
         * the process leaves without tearing down what their threads use.
         * Their work is resumed when the job is started again. */
        store_opts so = {.busy_timeout_ms = cfg.store_busy_timeout, .retries = cfg.store_retries};
        if (jobs_shutdown(cfg.store_url, &so, cfg.drain_timeout)) {
            fflush(NULL);
            _exit(rc);
        }
    }
    web_shutdown();
    config_free(&cfg);
    return rc;
}

static void print_status(const struct store_migration_status *st, void *ctx)
{
    (void)ctx;
    printf("%04d  %-32s %s\n", st->version, st->name,
           st->applied ? st->applied_at : "pending / 待执行");
}

int cmd_migrate(int argc, char **argv)
{
    int status = 0;
    const struct cli_flag extra[] = {
        {"status", NULL, "list the migrations and whether each is applied; change nothing", NULL,
         &status},
        {0},
    };
    ql_config cfg;
    int help;
    int rc = cli_parse("migrate", argc, argv, extra, &cfg, &help);
    if (help) {
        cli_usage("migrate", "[--status] [flags]",
                  "Applies the database migrations this binary carries and the database lacks, "
                  "in one transaction, recording each in schema_version.",
                  extra, 1);
        return EXIT_OK;
    }
    if (rc) return rc;
    ql_err err = {0};
    store *s = NULL;
    if (cli_store("migrate", &cfg, 0, &s)) {
        config_free(&cfg);
        return EXIT_FAIL;
    }
    if (status) {
        if (store_migrate_status(s, print_status, NULL, &err)) {
            cli_error("migrate", err.en, err.zh);
            rc = EXIT_FAIL;
        }
    } else {
        int applied = 0;
        if (store_migrate(s, &applied, &err)) {
            cli_error("migrate", err.en, err.zh);
            rc = EXIT_FAIL;
        } else {
            printf("applied %d migration(s); schema at version %d (%s)\n", applied,
                   store_schema_latest(s), store_kind_name(s));
        }
    }
    store_close(s);
    config_free(&cfg);
    return rc;
}

int cmd_version(int argc, char **argv)
{
    ql_config cfg;
    int help;
    const struct cli_flag extra[] = {{0}};
    if (argc > 1) {
        int rc = cli_parse("version", argc, argv, extra, &cfg, &help);
        if (help) {
            cli_usage("version", "", "Prints the version of qianlima and of its libraries.",
                      extra, 0);
            return EXIT_OK;
        }
        if (rc) return rc;
        config_free(&cfg);
    }
    printf("qianlima %s\n", QL_VERSION);
    printf("  libevent %s, jansson %s, SQLite %s, libpq %d\n", event_get_version(),
           jansson_version_str(), sqlite3_libversion(), PQlibVersion());
    return EXIT_OK;
}
