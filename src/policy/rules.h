/* rules.h - a subsidy programme as data: versions with effective dates,
 * criteria written in a small typed expression language over an applicant's
 * facts, tiers with payment schedules, caps and pro-rating. Pure: no store,
 * no clock. docs/policy.md is the reference for the file format; the short
 * version:
 *
 *   # a comment runs from '#' to the end of the line (outside quoted values;
 *   # in a text - zh, en, clause, basis - from a '#' after a blank)
 *   programme district-rent          code: [a-z0-9-], 1-40 characters
 *   zh 区人才租房补贴                 names of the programme
 *   en District talent rental subsidy
 *
 *   version 2026.1                    a version: its statements follow
 *   from 2026-01-01                   first day in force (required)
 *   to 2026-12-31                     last day in force (omitted: open)
 *   basis 《……办法》                   the legal text the clauses refer to
 *   payee person                      person | employer | operator
 *   prorate days                      days | whole (partial months: by days
 *                                     covered, or not paid)
 *   cap months 36                     most months paid in total
 *   cap month 2000.00                 most paid for one month (yuan)
 *   cap year 24000.00                 most paid in one calendar year
 *   cap rent                          never more than the month's rent
 *
 *   criterion degree                  a condition every applicant must meet
 *   clause 第五条第（一）项            where the law says so (required)
 *   require education >= "bachelor"   a bool expression (required)
 *   zh 须具有本科及以上学历             what the applicant is told when it
 *   en A bachelor's degree or higher  fails (both required)
 *
 *   tier A                            the first tier whose condition holds
 *   clause 第六条                      sets the amount (file order)
 *   when level == "A"
 *   pay 3000.00 for 3 months, then 2500.00 for 3 months
 *   zh A 类人才
 *   en Category A
 *
 * Expressions: literals 35, 2000.00 (money, yuan with at most two decimals),
 * 2026-01-01 (a date), "bachelor" (a value of an enumerated fact), true,
 * false; facts by name (pol_fact_find); operators, loosest first: or, and,
 * not, comparison (== != < <= > >= and `x in ["A", "B"]`; no chains), + -,
 * unary -; parentheses, inside which an expression may run over several
 * lines. Types: bool, int, money, date and the enumerations; comparison
 * needs both sides of one type (an enum value in quotes takes its type from
 * the other side, and must be one of its values); < and friends work on
 * int, money, date and the ordered enumeration degree; + and - on int,
 * money, and date +/- int. Whatever cannot be typed is refused with its line
 * and column. Arithmetic saturates instead of overflowing.
 *
 * Each broken rule is an error "FILE:LINE:COLUMN: what is wrong" in English
 * and Chinese (columns count characters from 1); parsing stops at the first.
 */
#ifndef QL_POLICY_RULES_H
#define QL_POLICY_RULES_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POL_FILE_MAX     (256 * 1024) /* bytes of a policy file */
#define POL_VERSIONS_MAX 32
#define POL_CRITERIA_MAX 32
#define POL_TIERS_MAX    16
#define POL_STEPS_MAX    8
#define POL_NODES_MAX    4096 /* expression nodes in a whole file */
#define POL_ID_MAX       41 /* bytes of an id (programme, version, criterion, tier), NUL included */
#define POL_TEXT_MAX     301       /* bytes of a message, clause or name, NUL included */
#define POL_OPEN_END     INT32_MAX /* the `to` of a version without an end */

/* ---- facts ------------------------------------------------------------- */

/* Types of facts and expressions. */
enum pol_type {
    PT_NONE = 0,
    PT_BOOL,
    PT_INT,
    PT_MONEY, /* fen */
    PT_DATE,  /* day number */
    PT_ENUM,  /* a value of one of the enumerations below */
    PT_TEXT   /* a quoted literal whose enumeration is not known yet (parser only) */
};

enum pol_enum { PE_NONE = -1, PE_DEGREE = 0, PE_LEVEL, PE_INDUSTRY, PE_UNIT_KIND, PE_COUNT };

/* Every fact an expression can name. Values live in pol_facts.v[id]: bools
 * 0/1, ints, money in fen, dates as day numbers, enum values as their index
 * in the enumeration. */
enum pol_fact_id {
    F_EDUCATION = 0,       /* degree: other < bachelor < master < doctor */
    F_AGE,                 /* int: full years on the evaluation date */
    F_LEVEL,               /* talent category: none, A, B, C */
    F_EMPLOYED,            /* bool: has an employer on the evaluation date */
    F_EMPLOYER_REGISTERED, /* bool: the employer is registered in the district */
    F_EMPLOYER_TAXED,      /* bool: the employer pays tax in the district */
    F_EMPLOYER_KEY,        /* bool: the employer is on a key-enterprise list */
    F_EMPLOYER_INDUSTRY,   /* industry cluster, or none */
    F_EMPLOYED_MONTHS,     /* int: whole months with the present employer */
    F_INSURANCE_MONTHS,    /* int: continuous months of social insurance in the district */
    F_OWNS_HOUSING,        /* bool: owns housing in Shanghai (registry) */
    F_FAMILY_OWNS_HOUSING, /* bool: spouse or a minor child owns housing (declared) */
    F_OTHER_BENEFIT,       /* bool: receives another housing benefit (declared) */
    F_LEASE_ACTIVE,        /* bool: has a lease covering the evaluation date */
    F_LEASE_FILED,         /* bool: that lease is filed (网签备案) */
    F_LEASE_KIND,          /* unit kind of that lease, or none */
    F_RENT,                /* money: that lease's monthly rent (0 without one) */
    F_MONTHS_RECEIVED,     /* int: months of this subsidy received before */
    F_COUNT
};

typedef struct pol_facts {
    int64_t v[F_COUNT];
} pol_facts;

/* Static description of a fact. */
typedef struct pol_fact_info {
    const char *name;
    enum pol_type type;
    enum pol_enum enumeration; /* PE_NONE unless type is PT_ENUM */
    int64_t min, max;          /* the values it can take (enum: 0..count-1) */
    const char *zh, *en;       /* what it is, for traces and docs */
} pol_fact_info;

/* The fact named name (n bytes), or -1. */
int pol_fact_find(const char *name, size_t n);
const pol_fact_info *pol_fact(int id);

/* Values of enumeration e: count, and the name of value i (NULL outside). */
int pol_enum_count(enum pol_enum e);
const char *pol_enum_value(enum pol_enum e, int i);
/* The index of value name in e, or -1. */
int pol_enum_find(enum pol_enum e, const char *name, size_t n);

/* Sets every fact of f to its neutral value (false, 0, "none"/"other"). */
void pol_facts_clear(pol_facts *f);

/* Writes fact id's value in f as text ("true", "35", "2000.00",
 * "2026-01-01", "bachelor") into out. */
void pol_fact_text(int id, const pol_facts *f, char *out, size_t n);

/* ---- parsed programme -------------------------------------------------- */

/* One node of an expression. Nodes of a file live in one array; children
 * are indexes into it. */
typedef struct pol_node {
    uint8_t op;         /* enum pol_op, rules.c */
    uint8_t type;       /* enum pol_type of the value */
    int8_t enumeration; /* enum pol_enum when type is PT_ENUM */
    uint8_t cmp;        /* comparison of a fused fact-constant node */
    int32_t a, b;       /* children; for IN: first constant, count */
    int64_t k;          /* constant, or fact id */
    int line, col;
} pol_node;

enum pol_payee { PAYEE_PERSON = 0, PAYEE_EMPLOYER, PAYEE_OPERATOR };
enum pol_prorate { PRORATE_DAYS = 0, PRORATE_WHOLE };

typedef struct pol_criterion {
    char id[POL_ID_MAX];
    char clause[POL_TEXT_MAX];
    char zh[POL_TEXT_MAX];
    char en[POL_TEXT_MAX];
    int32_t expr;  /* root node, -1 until `require` */
    uint32_t uses; /* bit i: fact i appears in expr */
    int line, expr_line, expr_col;
} pol_criterion;

typedef struct pol_step {
    int64_t fen; /* monthly amount */
    int months;  /* for this many months */
} pol_step;

typedef struct pol_tier {
    char id[POL_ID_MAX];
    char clause[POL_TEXT_MAX];
    char zh[POL_TEXT_MAX];
    char en[POL_TEXT_MAX];
    int32_t expr; /* -1 until `when` */
    uint32_t uses;
    pol_step steps[POL_STEPS_MAX];
    int nsteps;
    int line, expr_line, expr_col, pay_line;
} pol_tier;

typedef struct pol_version {
    char id[POL_ID_MAX];
    char basis[POL_TEXT_MAX];
    int32_t from, to; /* inclusive; to = POL_OPEN_END when open */
    enum pol_payee payee;
    enum pol_prorate prorate;
    int cap_months;    /* 0: none */
    int64_t cap_month; /* fen; 0: none */
    int64_t cap_year;  /* fen; 0: none */
    bool cap_rent;
    int line, from_line, to_line, cap_months_line;
    pol_criterion crit[POL_CRITERIA_MAX];
    int ncrit;
    pol_tier tier[POL_TIERS_MAX];
    int ntier;
} pol_version;

typedef struct pol_programme {
    char code[POL_ID_MAX];
    char zh[POL_TEXT_MAX];
    char en[POL_TEXT_MAX];
    char file[128];
    pol_version *ver; /* nver versions, in file order */
    int nver;
    pol_node *node; /* nnode expression nodes */
    int nnode;
    int64_t *konst; /* constants of `in` lists */
    int nkonst;
} pol_programme;

/* Parses a policy file of len bytes (need not be NUL-terminated) into *out,
 * which the caller releases with pol_free (also after an error). file names
 * it in errors. Returns 0, QL_EINVAL with "FILE:LINE:COLUMN: ..." in err, or
 * QL_ETOOBIG above POL_FILE_MAX. err->field is "policy". Parsing checks the
 * syntax and types only; pol_check finds what is well-formed but wrong. */
int pol_parse(const char *buf, size_t len, const char *file, pol_programme *out, ql_err *err);

void pol_free(pol_programme *p);

/* Short names: "person", "days", ... */
const char *pol_payee_name(enum pol_payee p);
const char *pol_prorate_name(enum pol_prorate p);

/* ---- static checks ----------------------------------------------------- */

/* One finding of pol_check. */
typedef struct pol_issue {
    int line, col;
    bool warning; /* a warning does not stop activation */
    char en[POL_TEXT_MAX];
    char zh[POL_TEXT_MAX];
} pol_issue;

typedef struct pol_issues {
    int n, nerrors;
    pol_issue item[64]; /* further findings are counted in n but not kept */
} pol_issues;

/* Checks a parsed programme: versions out of date order, overlapping or
 * leaving a gap, an open version that is not the last; a version without
 * tiers; a criterion that can never pass, or all criteria together; a tier
 * that no applicant who meets the criteria can reach (an earlier tier takes
 * everyone it would take); schedule months beyond the month cap; caps
 * below every amount. Fills out (cleared first) and returns the number of
 * errors (warnings not counted). The search is exact for expressions that
 * compare facts with constants: it tries every value of each bool and enum
 * fact and, for numbers and dates, each constant the expressions use, one
 * either side, and the ends of the fact's range. Where it cannot be exact
 * (arithmetic, a fact compared with a fact, too many values), a condition
 * it finds no applicant for is a warning to check by hand, not an error. */
int pol_check(const pol_programme *p, pol_issues *out);

/* How many of out's findings are kept in out->item (n counts them all). */
int pol_issues_kept(const pol_issues *out);

/* The first finding of out that is an error (not a warning), or NULL. */
const pol_issue *pol_first_error(const pol_issues *out);

/* Formats out's findings as "FILE:LINE:COL: error|warning: text" lines
 * (Chinese then English) into a malloc'd string. */
char *pol_issues_text(const pol_programme *p, const pol_issues *out);

/* An amount in fen as the yuan text of traces and replies ("1500.00"). */
json_t *pol_yuan_json(int64_t fen);

/* ---- evaluation -------------------------------------------------------- */

/* The version in force on day, or NULL. */
const pol_version *pol_version_on(const pol_programme *p, int32_t day);

/* Value of expression node root over facts (bools 0/1). */
int64_t pol_eval(const pol_programme *p, int32_t root, const pol_facts *facts);

/* The fast path: -1 when a criterion fails (its index in *failed, if
 * non-NULL), else the index of the first tier that holds, or -2 when no tier
 * does. */
int pol_match(const pol_programme *p, const pol_version *v, const pol_facts *facts, int *failed);

/* The decision for an applicant on day, with its trace:
 *   {"programme","version","basis","date","eligible","tier","payee",
 *    "criteria":[{"id","clause","passed","inputs":{fact:value},"zh","en"}],
 *    "tier_trace":{"id","clause","inputs","zh","en"} | null,
 *    "schedule":[{"months","fen","yuan"}], "caps":{...}}
 * Returns 0 with *trace (caller decrefs), or QL_ENOTFOUND when no version is
 * in force on day. *tier is the tier index or -1. */
int pol_decide(const pol_programme *p, int32_t day, const pol_facts *facts, int *version, int *tier,
               json_t **trace, ql_err *err);

/* ---- monthly amounts --------------------------------------------------- */

/* What the month's amount depends on besides the version and tier. */
typedef struct pol_month_in {
    int32_t month;            /* any day of the month paid */
    int32_t start, end;       /* days covered: start..end inclusive (end POL_OPEN_END: open) */
    int months_before;        /* months of this programme paid before this one */
    int64_t paid_year_before; /* fen paid earlier in the same calendar year */
    int64_t rent;             /* the month's rent in fen (for cap rent) */
    int excluded_days;        /* days of start..end in the month not paid (a suspension) */
    int unemployed_days;      /* further days of start..end in the month not paid: the person
                                 was not employed (none of them suspended) */
} pol_month_in;

typedef struct pol_month_out {
    int64_t fen;   /* the amount */
    int index;     /* which month of the subsidy this is (1-based); 0 when not paid */
    int days, dim; /* days covered, days in the month */
    json_t *steps; /* [{"step","fen","en","zh"}], caller decrefs; NULL unless asked */
} pol_month_out;

/* Computes tier's amount for one month of version v, step by step: days
 * covered; the month's place in the schedule and the total-month cap;
 * pro-rating (amount x days / days-in-month, rounded half up to the fen,
 * or nothing for a partial month under `prorate whole`); the caps on the
 * month, the rent and the year. A month with any paid day counts as one
 * month of the schedule. With want_steps, out->steps explains each step.
 * Returns 0, or QL_EINVAL for a tier outside v or start > end. */
int pol_month_amount(const pol_version *v, int tier, const pol_month_in *in, bool want_steps,
                     pol_month_out *out, ql_err *err);

#endif
