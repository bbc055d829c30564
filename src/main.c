/* main.c - the qianlima binary: dispatch to a subcommand. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", cmd_serve, "serve the console and the JSON API"},
    {"migrate", cmd_migrate, "apply database migrations (or list them with --status)"},
    {"user", cmd_user, "add, list, disable, enable accounts and reset passwords"},
    {"token", cmd_token, "create, list and revoke API tokens for other systems"},
    {"audit", cmd_audit, "verify the audit chain"},
    {"keys", cmd_keys, "personal-data keys: status, rotate and re-seal"},
    {"import", cmd_import, "check and import talents or employers from a CSV file"},
    {"export", cmd_export, "write talents or employers to an .xlsx or CSV file"},
    {"calendar", cmd_calendar, "load, show and count the working-day (holiday) calendar"},
    {"policy", cmd_policy, "check, store, activate, decide and simulate subsidy policies"},
    {"cycle", cmd_cycle, "compute and show monthly disbursement cycles, and their reports"},
    {"ledger", cmd_ledger, "a person's ledger traced to its decisions; verify the ledger"},
    {"demo", cmd_demo, "generate a demo district into the store or into CSV files"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: qianlima COMMAND [flags]\n\n"
               "Qianlima (千里马): the district talent-service platform.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'qianlima COMMAND --help' describes each command.\n"
               "exit status: 0 success, 1 failure, 2 usage error, 3 configuration error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) return cmd_version(1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "qianlima: unknown command '%s'\nqianlima：未知命令“%s”\n", cmd, cmd);
    usage(stderr);
    return EXIT_USAGE;
}
