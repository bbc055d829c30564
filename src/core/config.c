/* config.c - defaults, INI file, environment and flags, validated per key. */
#include "core/config.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum key_type { K_ADDR, K_INT, K_SIZE, K_STR, K_LEVEL, K_ACCESS, K_BOOL, K_AUTO_BOOL, K_CHOICE };

struct key {
    config_key_info info;
    enum key_type type;
    size_t off;
    long min, max;
    const char *choices; /* K_CHOICE: the allowed values, separated by '|' */
};

#define OFF(f) offsetof(ql_config, f)

static const struct key keys[] = {
    {{"server", "listen", "listen", "127.0.0.1:8080",
      "address to listen on: IPv4:port or [IPv6]:port; port 0 picks a free one"},
     K_ADDR, OFF(listen), 0, 0, NULL},
    {{"server", "workers", "workers", "0", "worker threads, each with its own event loop and "
                                          "store connection; 0 = one per CPU core"},
     K_INT, OFF(workers), 0, 256, NULL},
    {{"server", "body_limit", "body-limit", "16M",
      "largest request body the server reads (bytes; K, M suffixes); each route has a lower limit of its own except the CSV imports"},
     K_SIZE, OFF(body_limit), 1024, 1L << 30, NULL},
    {{"server", "header_limit", "header-limit", "64K",
      "largest request line plus headers (bytes; K, M suffixes)"},
     K_SIZE, OFF(header_limit), 1024, 1L << 20, NULL},
    {{"server", "timeout", "timeout", "30", "seconds a connection may stay silent before it is closed"},
     K_INT, OFF(timeout), 1, 3600, NULL},
    {{"server", "head_timeout", "head-timeout", "10",
      "seconds a client has to send a whole request line and headers, from the connection "
      "or its first byte (never more than server.timeout)"},
     K_INT, OFF(head_timeout), 1, 3600, NULL},
    {{"server", "max_connections", "max-connections", "10000",
      "open client connections at most (this process); at the cap a new connection replaces "
      "the oldest idle or slow one; never more than the open-file limit allows"},
     K_INT, OFF(max_connections), 1, 1000000, NULL},
    {{"server", "body_memory", "body-memory", "64M",
      "request bodies held in memory at once, all connections together (bytes; K, M "
      "suffixes); a body that does not fit is refused with 503 before it is read"},
     K_SIZE, OFF(body_memory), 1024, 1L << 34, NULL},
    {{"server", "pool_threads", "pool-threads", "0",
      "threads for slow work such as password hashing, apart from the event loops; 0 = half "
      "the CPU cores (at least 1)"},
     K_INT, OFF(pool_threads), 0, 64, NULL},
    {{"server", "bulk_threads", "bulk-threads", "1",
      "threads for imports and exports (seconds each), apart from the event loops and from "
      "password hashing"},
     K_INT, OFF(bulk_threads), 1, 64, NULL},
    {{"server", "drain_timeout", "drain-timeout", "10",
      "seconds to finish requests in flight after SIGTERM or SIGINT"},
     K_INT, OFF(drain_timeout), 0, 3600, NULL},
    {{"server", "backlog", "backlog", "1024", "listen queue length"},
     K_INT, OFF(backlog), 1, 65535, NULL},
    {{"server", "static_dir", "static-dir", "web/static", "directory served under /static/"},
     K_STR, OFF(static_dir), 0, 0, NULL},
    {{"server", "data_dir", "data-dir", "var",
      "directory of the files the server writes (bank batch files under bank/YYYY-MM/); "
      "created when first needed"},
     K_STR, OFF(data_dir), 0, 0, NULL},
    {{"store", "url", "store", "var/qianlima.db",
      "SQLite file path, or postgres://user@host/db for PostgreSQL"},
     K_STR, OFF(store_url), 0, 0, NULL},
    {{"store", "busy_timeout", "store-busy-timeout", "5000",
      "milliseconds SQLite waits for a lock before a transaction is retried"},
     K_INT, OFF(store_busy_timeout), 0, 600000, NULL},
    {{"store", "retries", "store-retries", "8",
      "attempts for a transaction that meets a busy database or a serialization failure"},
     K_INT, OFF(store_retries), 1, 100, NULL},
    {{"log", "level", "log-level", "info", "debug, info, warn, error or off"},
     K_LEVEL, OFF(log_level), 0, 0, NULL},
    {{"log", "access", "access-log", "-",
      "access log (JSON lines): a file path, - for stderr, off for none"},
     K_ACCESS, OFF(access_log), 0, 0, NULL},
    {{"security", "keys_dir", "keys-dir", "var/keys",
      "directory of the key files (created on first start, mode 0700); keep it outside the "
      "database and its backups"},
     K_STR, OFF(keys_dir), 0, 0, NULL},
    {{"security", "audit_hash", "audit-hash", "blake2b",
      "keyed hash of the audit chain for new rows: blake2b or sm3 (HMAC-SM3)"},
     K_CHOICE, OFF(audit_hash), 0, 0, "blake2b|sm3"},
    {{"security", "secure_cookies", "secure-cookies", "auto",
      "mark cookies Secure (served over HTTPS): true, false, or auto = true unless the server "
      "listens on a loopback address (127.0.0.0/8, ::1)"},
     K_AUTO_BOOL, OFF(secure_cookies), 0, 0, NULL},
    {{"security", "session_idle", "session-idle", "30",
      "minutes a console session lasts without use"},
     K_INT, OFF(session_idle), 1, 1440, NULL},
    {{"security", "session_max", "session-max", "12", "hours a console session lasts at most"},
     K_INT, OFF(session_max), 1, 720, NULL},
    {{"security", "lockout_after", "lockout-after", "5",
      "failed sign-ins in a row that lock an account"},
     K_INT, OFF(lockout_after), 1, 100, NULL},
    {{"security", "lockout_minutes", "lockout-minutes", "15", "minutes an account stays locked"},
     K_INT, OFF(lockout_minutes), 1, 1440, NULL},
    {{"security", "lockout_address_after", "lockout-address-after", "30",
      "failed sign-ins from one client address (IPv6: its /64) within lockout_minutes that "
      "pause new sign-ins from it for lockout_minutes (browsers that signed in before still "
      "can); 0 = off"},
     K_INT, OFF(lockout_address_after), 0, 100000, NULL},
    {{"security", "password_hash", "password-hash", "interactive",
      "Argon2id cost: interactive, moderate or sensitive (min: for tests only)"},
     K_CHOICE, OFF(password_hash), 0, 0, "interactive|moderate|sensitive|min"},
    {{"security", "password_min_length", "password-min-length", "10",
      "shortest password accepted (characters)"},
     K_INT, OFF(password_min_length), 8, 128, NULL},
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* The field of c that key k sets. */
static void *field(ql_config *c, const struct key *k)
{
    return (char *)c + k->off;
}

static const struct key *find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].info.section, section) == 0 && strcmp(keys[i].info.name, name) == 0)
            return &keys[i];
    return NULL;
}

static const struct key *find_flag(const char *flag)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].info.flag, flag) == 0) return &keys[i];
    return NULL;
}

int config_parse_addr(const char *s, ql_addr *out)
{
    char host[64];
    const char *port;
    memset(out, 0, sizeof *out);
    if (strlen(s) >= sizeof out->text) return QL_EINVAL;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) return QL_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host || strchr(s, ':') != colon)
            return QL_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    }
    if (!*port || strlen(port) > 5) return QL_EINVAL;
    long p = 0;
    for (const char *q = port; *q; q++) {
        if (!isdigit((unsigned char)*q)) return QL_EINVAL;
        p = p * 10 + (*q - '0');
    }
    if (p > 65535) return QL_EINVAL;
    if (s[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->sa;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) return QL_EINVAL;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        out->len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&out->sa;
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) return QL_EINVAL;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        out->len = sizeof *a4;
    }
    snprintf(out->text, sizeof out->text, "%s", s);
    return 0;
}

/* Parses a whole decimal number, optionally with a K/M/G suffix (powers of 1024). */
static int parse_long(const char *s, int allow_suffix, long *out)
{
    if (!*s || isspace((unsigned char)*s)) return QL_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s) return QL_EINVAL;
    long long mult = 1;
    if (allow_suffix && *end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': mult = 1024; break;
        case 'M': mult = 1024 * 1024; break;
        case 'G': mult = 1024LL * 1024 * 1024; break;
        default: return QL_EINVAL;
        }
        end++;
    }
    if (*end) return QL_EINVAL;
    if (v > LLONG_MAX / mult || v < LLONG_MIN / mult) return QL_EINVAL;
    v *= mult;
    if (v > LONG_MAX || v < LONG_MIN) return QL_EINVAL;
    *out = (long)v;
    return 0;
}

static int set_key(ql_config *c, const struct key *k, const char *value, const char *source,
                   ql_err *err)
{
    char keyname[64];
    snprintf(keyname, sizeof keyname, "%s.%s", k->info.section, k->info.name);
    switch (k->type) {
    case K_ADDR: {
        ql_addr a;
        if (config_parse_addr(value, &a))
            return ql_errf(err, QL_EINVAL, keyname,
                           "%s: %s: '%s' is not an address; expected IPv4:port or [IPv6]:port "
                           "with a port from 0 to 65535, e.g. 127.0.0.1:8080",
                           "%s：%s：“%s”不是有效地址，应为 IPv4:端口 或 [IPv6]:端口（端口 0–65535），"
                           "例如 127.0.0.1:8080",
                           source, keyname, value);
        memcpy(field(c, k), &a, sizeof a);
        return 0;
    }
    case K_INT:
    case K_SIZE: {
        long v;
        if (parse_long(value, k->type == K_SIZE, &v) || v < k->min || v > k->max)
            return ql_errf(err, QL_EINVAL, keyname,
                           "%s: %s: '%s' is not a whole number from %ld to %ld%s",
                           "%s：%s：“%s”不是 %ld 到 %ld 之间的整数%s", source, keyname, value,
                           k->min, k->max, k->type == K_SIZE ? " (K and M suffixes allowed)" : "");
        *(long *)field(c, k) = v;
        return 0;
    }
    case K_LEVEL: {
        enum log_level lvl;
        if (log_level_parse(value, &lvl))
            return ql_errf(err, QL_EINVAL, keyname,
                           "%s: %s: '%s' is not one of debug, info, warn, error, off",
                           "%s：%s：“%s”应为 debug、info、warn、error、off 之一", source, keyname,
                           value);
        *(int *)field(c, k) = (int)lvl;
        return 0;
    }
    case K_BOOL:
    case K_AUTO_BOOL: {
        int v;
        if (k->type == K_AUTO_BOOL && !strcmp(value, "auto"))
            v = -1;
        else if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on") ||
            !strcmp(value, "1"))
            v = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off") ||
                 !strcmp(value, "0"))
            v = 0;
        else
            return ql_errf(err, QL_EINVAL, keyname, "%s: %s: '%s' is not true or false%s",
                           "%s：%s：“%s”应为 true 或 false%s", source, keyname, value,
                           k->type == K_AUTO_BOOL ? " (or auto)" : "");
        *(int *)field(c, k) = v;
        return 0;
    }
    case K_CHOICE: {
        size_t vl = strlen(value);
        const char *p = k->choices;
        int ok = 0;
        while (*p && !ok) {
            size_t n = strcspn(p, "|");
            ok = n == vl && strncmp(p, value, n) == 0;
            p += n + (p[n] == '|');
        }
        if (!ok)
            return ql_errf(err, QL_EINVAL, keyname, "%s: %s: '%s' is not one of %s",
                           "%s：%s：“%s”应为 %s 之一", source, keyname, value, k->choices);
        char **slot = field(c, k);
        free(*slot);
        *slot = xstrdup(value);
        return 0;
    }
    case K_STR:
    case K_ACCESS: {
        if (!*value)
            return ql_errf(err, QL_EINVAL, keyname, "%s: %s: must not be empty",
                           "%s：%s：不能为空", source, keyname);
        char **slot = field(c, k);
        free(*slot);
        *slot = xstrdup(value);
        return 0;
    }
    }
    return QL_EINTERNAL;
}

void config_defaults(ql_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++) {
        ql_err err;
        if (set_key(c, &keys[i], keys[i].info.def, "default", &err)) abort();
    }
}

void config_free(ql_config *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == K_STR || keys[i].type == K_ACCESS || keys[i].type == K_CHOICE) {
            char **slot = field(c, &keys[i]);
            free(*slot);
            *slot = NULL;
        }
    }
}

int config_set(ql_config *c, const char *section, const char *name, const char *value,
               const char *source, ql_err *err)
{
    const struct key *k = find_key(section, name);
    if (!k)
        return ql_errf(err, QL_EINVAL, name, "%1$s: unknown key '%2$s' in section [%3$s]",
                       "%1$s：[%3$s] 节中没有“%2$s”这一配置项", source, name, section);
    return set_key(c, k, value, source, err);
}

/* State for reading an INI file: inih does not pass line numbers to the
 * handler in Debian's build, so the reader counts them. */
struct ini_ctx {
    ql_config *c;
    FILE *f;
    const char *path;
    int line;    /* number of the line most recently read */
    ql_err *err;
    int failed;
    int failed_line; /* line of the handler's first error */
};

static char *read_ini_line(char *str, int num, void *stream)
{
    struct ini_ctx *x = stream;
    if (x->failed) return NULL;
    char *r = fgets(str, num, x->f);
    if (!r) return NULL;
    x->line++;
    if (!strchr(r, '\n')) {
        /* inih reads lines of at most num - 1 bytes and would take the rest
         * of a longer one for a line of its own: refuse it instead. */
        int c = getc(x->f);
        if (c != EOF) {
            ql_errf(x->err, QL_EINVAL, "config", "file %s line %d is longer than %d bytes",
                    "配置文件 %s 第 %d 行超过 %d 字节", x->path, x->line, num - 2);
            x->failed = 1;
            x->failed_line = x->line;
            return NULL;
        }
    }
    return r;
}

static int on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *x = user;
    if (x->failed) return 0;
    x->failed_line = x->line;
    char source[600];
    snprintf(source, sizeof source, "file %s line %d", x->path, x->line);
    if (!*section) {
        ql_errf(x->err, QL_EINVAL, name,
                "%s: key '%s' must be inside a section such as [server], [store] or [log]",
                "%s：配置项“%s”必须位于 [server]、[store] 或 [log] 等节中", source, name);
        x->failed = 1;
        return 0;
    }
    if (config_set(x->c, section, name, value, source, x->err)) {
        x->failed = 1;
        return 0;
    }
    return 1;
}

/* Reads INI text from f; name is used in messages. */
static int load_stream(ql_config *c, FILE *f, const char *name, ql_err *err)
{
    /* Work on a copy so that a file with an error changes nothing. */
    ql_config tmp = *c;
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == K_STR || keys[i].type == K_ACCESS || keys[i].type == K_CHOICE) {
            char **slot = field(&tmp, &keys[i]);
            if (*slot) *slot = xstrdup(*slot);
        }
    }
    struct ini_ctx x = {.c = &tmp, .f = f, .path = name, .err = err};
    int rc = ini_parse_stream(read_ini_line, &x, on_ini_pair, &x);
    /* inih goes on after a syntax error and reports the first one's line:
     * report whichever error comes first in the file. */
    if (rc > 0 ? (!x.failed || rc < x.failed_line) : (rc != 0 && !x.failed)) {
        ql_errf(err, QL_EINVAL, "config",
                "file %s line %d: not a '[section]' or 'key = value' line",
                "配置文件 %s 第 %d 行：既不是“[节名]”也不是“键 = 值”", name, rc > 0 ? rc : x.line);
        x.failed = 1;
    }
    if (x.failed) {
        config_free(&tmp);
        return QL_EINVAL;
    }
    config_free(c);
    *c = tmp;
    return 0;
}

int config_load_file(ql_config *c, const char *path, ql_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ql_errf(err, QL_EIO, "config", "cannot read configuration file %s: %s",
                       "无法读取配置文件 %s：%s", path, strerror(errno));
    int rc = load_stream(c, f, path, err);
    fclose(f);
    return rc;
}

int config_load_string(ql_config *c, const char *text, size_t len, const char *name, ql_err *err)
{
    if (len == 0) return 0;
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f) return ql_errf(err, QL_EIO, "config", "cannot read %s", "无法读取 %s", name);
    int rc = load_stream(c, f, name, err);
    fclose(f);
    return rc;
}

int config_load_env(ql_config *c, char *const *envp, ql_err *err)
{
    static const char prefix[] = "QIANLIMA_";
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        if (strncmp(e, prefix, sizeof prefix - 1) != 0) continue;
        const char *eq = strchr(e, '=');
        if (!eq) continue;
        char var[128];
        size_t vlen = (size_t)(eq - e);
        if (vlen >= sizeof var) vlen = sizeof var - 1;
        memcpy(var, e, vlen);
        var[vlen] = '\0';
        if (strcmp(var, "QIANLIMA_CONFIG") == 0) continue;
        char source[160];
        snprintf(source, sizeof source, "environment %s", var);
        const struct key *found = NULL;
        for (size_t i = 0; i < NKEYS && !found; i++) {
            char want[128];
            size_t n = (size_t)snprintf(want, sizeof want, "QIANLIMA_%s_%s", keys[i].info.section,
                                        keys[i].info.name);
            for (size_t j = 0; j < n; j++) want[j] = (char)toupper((unsigned char)want[j]);
            if (strcmp(want, var) == 0) found = &keys[i];
        }
        if (!found)
            return ql_errf(err, QL_EINVAL, var,
                           "%s: unknown setting; variables are named QIANLIMA_<SECTION>_<KEY>, "
                           "e.g. QIANLIMA_SERVER_WORKERS",
                           "%s：未知配置项；环境变量应形如 QIANLIMA_<节>_<键>，例如 "
                           "QIANLIMA_SERVER_WORKERS",
                           source);
        int rc = set_key(c, found, eq + 1, source, err);
        if (rc) return rc;
    }
    return 0;
}

int config_is_flag(const char *flag)
{
    return find_flag(flag) != NULL;
}

int config_set_flag(ql_config *c, const char *flag, const char *value, ql_err *err)
{
    const struct key *k = find_flag(flag);
    if (!k)
        return ql_errf(err, QL_EINVAL, flag, "unknown flag --%s", "未知参数 --%s", flag);
    char source[96];
    snprintf(source, sizeof source, "flag --%s", flag);
    return set_key(c, k, value, source, err);
}

int config_addr_is_loopback(const ql_addr *a)
{
    if (a->sa.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->sa;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (a->sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;
        return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
    }
    return 0;
}

void config_finish(ql_config *c)
{
    if (c->secure_cookies < 0) c->secure_cookies = !config_addr_is_loopback(&c->listen);
}

void config_print_help(FILE *f)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s VALUE", keys[i].info.flag);
        fprintf(f, "  %-28s %s\n  %-28s [%s] %s, default %s\n", flag, keys[i].info.help, "",
                keys[i].info.section, keys[i].info.name, keys[i].info.def);
    }
}
