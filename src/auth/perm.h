/* perm.h - roles, permissions, scopes, and the actor every service call
 * receives.
 *
 * One table (perm.c) says which permissions each role has. A service checks
 * the actor's permission and scope before it does anything, so the JSON API,
 * the console and the CLI always agree on who may do what.
 */
#ifndef QL_AUTH_PERM_H
#define QL_AUTH_PERM_H

#include "core/err.h"

#include <stdint.h>

enum role {
    ROLE_TALENT,
    ROLE_EMPLOYER_HR,
    ROLE_WINDOW_CLERK,
    ROLE_REVIEWER,
    ROLE_FINANCE,
    ROLE_HOUSING_OPERATOR,
    ROLE_ADMIN,
    ROLE_AUDITOR,
    ROLE_LEADERSHIP,
    ROLE_SECURITY_ADMIN, /* 安全管理员: grants and removes roles (等保 三员分立) */
    ROLE_COUNT
};

/* The duty roles (三员 and four eyes on money): system administration,
 * security administration, audit, deciding and paying. An account holds at
 * most one of them. */
#define ROLE_DUTIES                                                                                \
    ((1u << ROLE_ADMIN) | (1u << ROLE_SECURITY_ADMIN) | (1u << ROLE_AUDITOR) |                     \
     (1u << ROLE_FINANCE) | (1u << ROLE_REVIEWER))
/* The role that binds an account to a person (scope self: the talent's
 * id). One account per person; binding one waits for a second party as the
 * duty roles' grants do (account.h). */
#define ROLE_PERSON (1u << ROLE_TALENT)
/* The roles whose grant waits for a second party (account.h): the duty
 * roles, and the window clerk, who changes a person's bank card with the
 * person present and whose change a second clerk confirms (an
 * administrator who could make both clerks at once would be both). */
#define ROLE_VOUCHED (ROLE_DUTIES | (1u << ROLE_WINDOW_CLERK))
/* The roles that decide or pay. */
#define ROLE_MONEY ((1u << ROLE_FINANCE) | (1u << ROLE_REVIEWER))

enum perm {
    P_USER_READ,        /* user.read: list and view accounts */
    P_USER_MANAGE,      /* user.manage: create, disable, enable, reset passwords */
    P_ROLE_READ,        /* role.read: the role and permission table */
    P_TOKEN_MANAGE,     /* token.manage: API tokens for other systems */
    P_AUDIT_READ,       /* audit.read: operation log and sign-in log */
    P_AUDIT_VERIFY,     /* audit.verify: check the audit chain */
    P_SYSTEM_METRICS,   /* system.metrics: /metrics */
    P_SERVICE_VALIDATE, /* service.validate: the identifier checks */
    P_REGISTRY_READ,    /* registry.read: talents, employers, units, leases (within scope) */
    P_REGISTRY_WRITE,   /* registry.write */
    P_PERSONAL_UNMASK,  /* personal.unmask: see an ID number or account unmasked, with a reason */
    P_SUBSIDY_APPLY,    /* subsidy.apply: a talent's own applications */
    P_SUBSIDY_ATTEST,   /* subsidy.attest: an employer attests employment */
    P_WINDOW_ACCEPT,    /* window.accept: accept any matter at a window */
    P_SUBSIDY_REVIEW,   /* subsidy.review: review and decide applications */
    P_POLICY_MANAGE,    /* policy.manage: policies and the holiday calendar */
    P_LEDGER_RUN,       /* ledger.run: compute monthly cycles, import bank results */
    P_LEDGER_APPROVE,   /* ledger.approve: approve a cycle computed by someone else */
    P_LEDGER_EXPORT,    /* ledger.export: bank files and ledger exports */
    P_HOUSING_MANAGE,   /* housing.manage: units, leases, move-in/out (an operator: its own) */
    P_DASHBOARD_READ,   /* dashboard.read: indicators for leadership */
    P_ROLE_GRANT,       /* role.grant: change an account's roles and scope; confirm another
                           account's pending grant of a duty role */
    P_ROLE_CONFIRM,     /* role.confirm: grants of duty roles take effect at once; confirm
                           any pending grant (the security administrator) */
    P_COUNT
};

typedef uint64_t permset;
#define PERM_BIT(p) ((permset)1 << (p))

enum scope_kind { SCOPE_DISTRICT, SCOPE_DEPARTMENT, SCOPE_EMPLOYER, SCOPE_OPERATOR, SCOPE_SELF };

/* Names as stored and typed ("employer_hr", "user.read", "district"). */
const char *role_name(enum role r);
const char *perm_name(enum perm p);
const char *scope_name(enum scope_kind s);
/* Titles for people, in Chinese or English. */
const char *role_title(enum role r, int english);
const char *perm_title(enum perm p, int english);
/* Parse a name; return 0 or QL_EINVAL. */
int role_parse(const char *s, enum role *out);
int perm_parse(const char *s, enum perm *out);
int scope_parse(const char *s, enum scope_kind *out);
/* The talent id a personal scope id (scope self) names: a whole number
 * from 1 written one way only (decimal digits, no sign, no leading zero,
 * at most 18 of them); 0 for any other text, "" included. */
int64_t scope_person_id(const char *scope_id);

/* The permissions of one role, and of a set of roles (bit 1 << role). */
permset role_perms(enum role r);
permset roles_perms(unsigned roles);

/* Parses "user.read service.validate" (spaces or commas) into a set.
 * Returns 0 or QL_EINVAL naming the unknown permission. */
int perms_parse(const char *s, permset *out, ql_err *err);
/* Writes the names of set into out, separated by spaces. */
void perms_format(permset set, char *out, size_t n);

enum actor_via { VIA_NONE, VIA_SESSION, VIA_TOKEN, VIA_CLI };

/* Who is acting. Built by the HTTP layer from a session or token, or by the
 * CLI; VIA_NONE is an anonymous visitor. */
typedef struct actor {
    enum actor_via via;
    int64_t user_id;           /* 0 for the CLI */
    char username[65];         /* "cli:root" for the CLI */
    char display_name[401];    /* up to 100 characters of UTF-8 */
    unsigned roles;            /* bit 1 << role */
    permset perms;             /* for tokens: the user's permissions within the token's */
    enum scope_kind scope;
    char scope_id[65];
    int64_t session_id;        /* VIA_SESSION */
    int64_t token_id;          /* VIA_TOKEN */
    int must_change_password;  /* VIA_SESSION: only the password page is open */
    char csrf[48];             /* VIA_SESSION: the session's form token */
    char ip[48];
    char request_id[72];
} actor;

/* An actor for command-line administration on the server itself: every
 * permission, district scope, named "cli:<unix user>". */
void actor_cli(actor *a);

/* How the audit log names a (at most 127 bytes and NUL): the user name, with
 * "(token N)" when it acts through an API token; "anonymous" for NULL or no
 * name. */
void actor_label(const actor *a, char out[128]);

/* 1 if a is the one who acted as (other_id, other_label): the same
 * account when either has an account id (so a token and a session of one
 * account are one person), else the same label ("cli:root"). */
int actor_same(const actor *a, int64_t other_id, const char *other_label);

/* 1 if a holds p. */
int actor_can(const actor *a, enum perm p);

/* Returns 0 if a holds p; else QL_EUNAUTH for an anonymous actor or
 * QL_EFORBIDDEN, with err saying which permission is missing. */
int actor_require(const actor *a, enum perm p, ql_err *err);

#endif
