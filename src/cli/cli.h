/* cli.h - subcommands of the qianlima binary and their shared argument and
 * configuration handling.
 *
 * Exit codes (for scripts):
 *   0  success
 *   1  the command ran and failed (store unreachable, migration failed, ...)
 *   2  usage error: unknown subcommand or flag, missing or extra argument
 *   3  configuration error: unknown key, bad number or address, unreadable file
 */
#ifndef QL_CLI_CLI_H
#define QL_CLI_CLI_H

#include "auth/perm.h"
#include "core/config.h"
#include "store/store.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_CONFIG = 3 };

/* A flag of one subcommand besides the configuration flags. */
struct cli_flag {
    const char *name;    /* without "--" */
    const char *metavar; /* NULL for a switch without a value */
    const char *help;
    const char **value;  /* OUT for flags with a value */
    int *set;            /* OUT: 1 when the flag was given */
};

/* Parses argv (argv[0] is the subcommand name) for subcommand cmd: --help,
 * --config FILE, every configuration flag, and the extra flags (terminated by
 * a zero entry). Builds cfg from defaults, the file (--config or
 * QIANLIMA_CONFIG), the environment and the flags. Sets *help when --help or
 * -h was given (cfg is then not loaded). Returns EXIT_OK, or EXIT_USAGE /
 * EXIT_CONFIG after printing the error to stderr in English and Chinese. */
int cli_parse(const char *cmd, int argc, char **argv, const struct cli_flag *extra,
              ql_config *cfg, int *help);

/* Prints the usage of cmd: synopsis, description, extra flags and (when
 * with_config) every configuration flag. */
void cli_usage(const char *cmd, const char *synopsis, const char *description,
               const struct cli_flag *extra, int with_config);

/* Prints an error in both languages: "qianlima CMD: EN\nqianlima CMD：ZH\n". */
void cli_error(const char *cmd, const char *en, const char *zh);

/* Opens the store of cfg (applying pending migrations when migrate is set)
 * into *out. Returns EXIT_OK, or EXIT_FAIL after printing the error. */
int cli_store(const char *cmd, const ql_config *cfg, int migrate, store **out);

/* Starts what the services need: the audit key and algorithm, the account
 * settings. Returns EXIT_OK, or EXIT_FAIL after printing the error. */
int cli_services(const char *cmd, const ql_config *cfg);

/* An action of a subcommand with actions ("qianlima calendar load FILE"). */
struct cli_verb {
    const char *name;
    int nargs;        /* positional arguments after the action */
    const char *args; /* their synopsis, e.g. "FILE [--check]" */
    const char *help;
};

/* Picks the action argv[1] of subcommand cmd from verbs (ended by a zero
 * entry). With no action, or --help, prints the usage (every action and
 * doc, a last paragraph) and returns NULL with *exit_code EXIT_USAGE or
 * EXIT_OK; an unknown action is an error (EXIT_USAGE). */
const struct cli_verb *cli_verb_pick(const char *cmd, int argc, char **argv,
                                     const struct cli_verb *verbs, const char *doc,
                                     int *exit_code);

/* For action v of cmd_verb ("calendar load"): checks that its positional
 * arguments are there (not flags), then parses the rest as cli_parse does
 * with v's extra flags, and prints the action's usage for --help (with the
 * configuration flags when with_config). Returns EXIT_OK with *help set (cfg
 * loaded only without help), or an exit code after printing the error. */
int cli_verb_args(const char *cmd_verb, const struct cli_verb *v, int argc, char **argv,
                  const struct cli_flag *extra, int with_config, ql_config *cfg, int *help);

/* Reads the file at path (at most max bytes) into a malloc'd buffer *out,
 * NUL-terminated, of *len bytes. Returns 0, QL_EIO or QL_ETOOBIG with err
 * naming the file. */
int cli_read_file(const char *path, size_t max, char **out, size_t *len, ql_err *err);

/* Signs in for one command-line action as the account named by as, its
 * password read from one line of standard input (account_signin_cli: the
 * password is checked, counted and audited as at the console). what names
 * the act in the error when as is NULL ("a grant is confirmed", "a cycle is
 * approved"; what_zh in Chinese). On success *out is that account acting
 * through the command line; cli is the command line's own actor. Errors
 * name as, password. */
int cli_signin_as(store *s, const char *as, const actor *cli, const char *what,
                  const char *what_zh, actor *out, ql_err *err);

int cmd_serve(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_calendar(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_cycle(int argc, char **argv);
int cmd_ledger(int argc, char **argv);

/* `qianlima cycle report` (ledger_cmd.c): action v of cmd_cycle's argv. */
int cli_cycle_report(const struct cli_verb *v, int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
