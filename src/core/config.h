/* config.h - settings, from four sources in increasing precedence:
 * built-in defaults, an INI file, QIANLIMA_* environment variables, flags.
 *
 * Every key has one name in each source:
 *   INI file      [server]  workers = 4
 *   environment   QIANLIMA_SERVER_WORKERS=4
 *   flag          --workers 4  (or --workers=4)
 * An unknown key, a bad number or a bad address is an error that names the key
 * and the source ("file /etc/qianlima.ini line 7", "environment
 * QIANLIMA_SERVER_WORKRES", "flag --workers"), in English and Chinese.
 */
#ifndef QL_CORE_CONFIG_H
#define QL_CORE_CONFIG_H

#include "core/err.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

typedef struct ql_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[80]; /* as given, e.g. "127.0.0.1:8080" or "[::1]:8080" */
} ql_addr;

typedef struct ql_config {
    /* [server] */
    ql_addr listen;
    long workers;      /* 0 = one per CPU core */
    long body_limit;   /* bytes; the largest request body any route accepts */
    long header_limit; /* bytes of request line plus headers */
    long timeout;      /* seconds a connection may stay silent */
    long head_timeout; /* seconds for a whole request head */
    long max_connections;
    long body_memory;  /* bytes of request bodies held at once */
    long pool_threads; /* 0 = half the cores */
    long bulk_threads; /* imports and exports */
    long drain_timeout;
    long backlog;
    char *static_dir;
    char *data_dir; /* files the server writes: bank batch files under bank/YYYY-MM/ */
    /* [store] */
    char *store_url; /* file path (SQLite) or postgres:// / postgresql:// URL */
    long store_busy_timeout; /* milliseconds */
    long store_retries;
    /* [log] */
    int log_level; /* enum log_level */
    char *access_log; /* path, "-" for stderr, "off" for none */
    /* [security] */
    char *keys_dir;
    char *audit_hash;    /* "blake2b" or "sm3" */
    int secure_cookies;  /* 1, 0, or -1 (auto) until config_finish */
    long session_idle;   /* minutes */
    long session_max;    /* hours */
    long lockout_after;
    long lockout_minutes;
    long lockout_address_after; /* failed sign-ins from one address that pause it; 0 = off */
    char *password_hash; /* "interactive", "moderate", "sensitive" or "min" */
    long password_min_length;
} ql_config;

/* Describes one key: its names in each source, default and help text. */
typedef struct config_key_info {
    const char *section;
    const char *name;
    const char *flag; /* without the leading "--" */
    const char *def;  /* default as text */
    const char *help;
} config_key_info;

/* Fills c with the built-in defaults. Free with config_free. */
void config_defaults(ql_config *c);

/* Frees the strings c owns. */
void config_free(ql_config *c);

/* Sets section.name (e.g. "server", "workers") from value; source is used in
 * error messages. Returns 0 or QL_EINVAL with err naming key and source;
 * c is unchanged on error. */
int config_set(ql_config *c, const char *section, const char *name, const char *value,
               const char *source, ql_err *err);

/* Reads an INI file. Returns 0, QL_EIO if it cannot be read, or QL_EINVAL for
 * the first bad line (err names file and line). */
int config_load_file(ql_config *c, const char *path, ql_err *err);

/* Reads INI text held in memory (len bytes); name stands for the file in
 * messages. Same results as config_load_file. */
int config_load_string(ql_config *c, const char *text, size_t len, const char *name, ql_err *err);

/* Applies every QIANLIMA_* variable in envp (NULL-terminated, as environ).
 * QIANLIMA_CONFIG (the file path) is skipped. Returns 0 or QL_EINVAL. */
int config_load_env(ql_config *c, char *const *envp, ql_err *err);

/* Returns 1 if flag (without "--") names a configuration key, else 0. */
int config_is_flag(const char *flag);

/* Sets the key named by flag (without "--"). Returns 0 or QL_EINVAL. */
int config_set_flag(ql_config *c, const char *flag, const char *value, ql_err *err);

/* Parses "host:port" (IPv4 dotted or [IPv6] literal, port 0-65535; port 0
 * asks the kernel for a free one). Returns 0 or QL_EINVAL. */
int config_parse_addr(const char *s, ql_addr *out);

/* 1 if a is a loopback address (127.0.0.0/8 or ::1). */
int config_addr_is_loopback(const ql_addr *a);

/* Settles what depends on several keys, once all sources are read:
 * secure_cookies "auto" becomes 1 unless server.listen is a loopback
 * address. */
void config_finish(ql_config *c);

/* Prints the help lines for every key ("  --workers N   ... [server] workers"). */
void config_print_help(FILE *f);

#endif
