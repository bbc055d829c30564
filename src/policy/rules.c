/* rules.c - the policy file parser and the typed expression language
 * (rules.h has the format). One pass: the lexer hands tokens to a
 * line-oriented statement parser; expressions are parsed by precedence
 * climbing and typed as they are built, so a node that exists is well typed.
 * A comparison of a fact with a constant becomes one fused node, the shape
 * nearly every criterion has, which keeps evaluation to a few branches. */
#include "policy/rules.h"

#include "core/date.h"
#include "core/text.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "policy/rules_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX    64                      /* nesting of an expression */
#define INT_MAXLIT   INT64_C(999999999999)   /* largest integer literal */
#define MONEY_MAXLIT INT64_C(99999999999999) /* largest money literal, fen */

enum tok {
    T_EOF = 0,
    T_EOL,
    T_IDENT,
    T_INT,
    T_MONEY,
    T_DATE,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_PLUS,
    T_MINUS
};

struct lexer {
    const char *buf, *end, *p;
    const char *ls; /* start of the current line */
    int line;
    int paren; /* open ( and [: newlines inside are blanks */
    int cont;  /* in an expression: a next line starting with and/or continues it */
    const char *file;
    ql_err *err;
    /* the current token */
    enum tok t;
    const char *ts; /* its first byte */
    size_t tn;      /* its length (a string: without the quotes) */
    int tline, tcol;
    int64_t tval; /* INT, MONEY (fen), DATE (day number) */
};

static int column_of(const char *ls, const char *at)
{
    int col = 1;
    for (const char *c = ls; c < at; c++)
        if (((unsigned char)*c & 0xC0) != 0x80) col++;
    return col;
}

__attribute__((format(printf, 4, 6), format(printf, 5, 6))) static int
fail_at(const struct lexer *lx, int line, int col, const char *fmt_en, const char *fmt_zh, ...)
{
    char en[POL_TEXT_MAX], zh[POL_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt_zh);
    ql_vformat2(en, sizeof en, zh, sizeof zh, fmt_en, fmt_zh, ap);
    va_end(ap);
    return ql_errf(lx->err, QL_EINVAL, "policy", "%s:%d:%d: %s%.0s", "%s:%d:%d：%.0s%s", lx->file,
                   line, col, en, zh);
}

/* Both formats see the same arguments; this passes the token's position. */
#define FAIL_TOK(lx, en, zh, ...) fail_at((lx), (lx)->tline, (lx)->tcol, en, zh, ##__VA_ARGS__)

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static int digits_at(const char *p, const char *end, int n)
{
    for (int i = 0; i < n; i++)
        if (p + i >= end || !is_digit(p[i])) return 0;
    return 1;
}

static const char *tok_name(enum tok t)
{
    switch (t) {
    case T_EOF:
        return "the end of the file";
    case T_EOL:
        return "the end of the line";
    case T_IDENT:
        return "a name";
    case T_INT:
        return "a number";
    case T_MONEY:
        return "an amount";
    case T_DATE:
        return "a date";
    case T_STRING:
        return "a quoted value";
    default:
        return "a symbol";
    }
}

static const char *tok_name_zh(enum tok t)
{
    switch (t) {
    case T_EOF:
        return "文件末尾";
    case T_EOL:
        return "行末";
    case T_IDENT:
        return "名称";
    case T_INT:
        return "数字";
    case T_MONEY:
        return "金额";
    case T_DATE:
        return "日期";
    case T_STRING:
        return "带引号的值";
    default:
        return "符号";
    }
}

/* Reads a number, amount or date at lx->p. */
static int lex_number(struct lexer *lx)
{
    const char *s = lx->p, *e = lx->end;
    if (digits_at(s, e, 4) && s + 10 <= e && s[4] == '-' && digits_at(s + 5, e, 2) && s[7] == '-' &&
        digits_at(s + 8, e, 2) && (s + 10 == e || !is_ident(s[10]))) {
        int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        int m = (s[5] - '0') * 10 + (s[6] - '0');
        int d = (s[8] - '0') * 10 + (s[9] - '0');
        lx->t = T_DATE;
        lx->tn = 10;
        lx->p = s + 10;
        if (!date_valid(y, m, d))
            return FAIL_TOK(lx, "%.10s is not a real date", "%.10s 不是有效日期", s);
        lx->tval = date_from_ymd(y, m, d);
        return 0;
    }
    const char *c = s;
    int64_t v = 0;
    while (c < e && is_digit(*c)) {
        if (v > INT_MAXLIT / 10) {
            lx->tn = (size_t)(c - s);
            return FAIL_TOK(lx, "the number is too large (at most %lld)", "数字过大（最大 %lld）",
                            (long long)INT_MAXLIT);
        }
        v = v * 10 + (*c++ - '0');
    }
    if (c < e && *c == '.') {
        c++;
        int dec = 0;
        int64_t cents = 0;
        while (c < e && is_digit(*c)) {
            if (++dec > 2)
                return FAIL_TOK(lx, "an amount has at most two decimals (fen)",
                                "金额最多两位小数（分）");
            cents = cents * 10 + (*c++ - '0');
        }
        if (dec == 0)
            return FAIL_TOK(lx, "a digit must follow the decimal point", "小数点后须有数字");
        if (dec == 1) cents *= 10;
        if (v > MONEY_MAXLIT / 100) return FAIL_TOK(lx, "the amount is too large", "金额过大");
        lx->t = T_MONEY;
        lx->tval = v * 100 + cents;
    } else {
        if (v > INT_MAXLIT)
            return FAIL_TOK(lx, "the number is too large (at most %lld)", "数字过大（最大 %lld）",
                            (long long)INT_MAXLIT);
        lx->t = T_INT;
        lx->tval = v;
    }
    if (c < e && is_ident(*c))
        return FAIL_TOK(lx, "a number cannot run into letters", "数字后不能紧跟字母");
    lx->tn = (size_t)(c - s);
    lx->p = c;
    return 0;
}

/* In an expression, does the line after the newline at lx->p begin with
 * "and" or "or"? */
static int continues(const struct lexer *lx)
{
    if (!lx->cont) return 0;
    const char *c = lx->p + 1;
    while (c < lx->end && (*c == ' ' || *c == '\t')) c++;
    size_t n = 0;
    while (c + n < lx->end && is_ident(c[n])) n++;
    return (n == 3 && !memcmp(c, "and", 3)) || (n == 2 && !memcmp(c, "or", 2));
}

/* Moves to the next token. */
static int lex(struct lexer *lx)
{
    for (;;) {
        while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r')) lx->p++;
        if (lx->p < lx->end && *lx->p == '#')
            while (lx->p < lx->end && *lx->p != '\n') lx->p++;
        if (lx->p < lx->end && *lx->p == '\n' && (lx->paren > 0 || continues(lx))) {
            lx->p++;
            lx->line++;
            lx->ls = lx->p;
            continue;
        }
        break;
    }
    lx->ts = lx->p;
    lx->tline = lx->line;
    lx->tcol = column_of(lx->ls, lx->p);
    lx->tn = 1;
    if (lx->p >= lx->end) {
        lx->t = T_EOF;
        lx->tn = 0;
        return 0;
    }
    char c = *lx->p;
    if (c == '\n') {
        lx->t = T_EOL;
        lx->p++;
        lx->line++;
        lx->ls = lx->p;
        return 0;
    }
    if (is_digit(c)) return lex_number(lx);
    if (is_ident_start(c)) {
        const char *s = lx->p;
        while (lx->p < lx->end && is_ident(*lx->p)) lx->p++;
        lx->t = T_IDENT;
        lx->tn = (size_t)(lx->p - s);
        return 0;
    }
    if (c == '"') {
        const char *s = ++lx->p;
        while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') lx->p++;
        if (lx->p >= lx->end || *lx->p != '"')
            return FAIL_TOK(lx, "the quoted value is not closed on its line",
                            "引号内的值未在本行闭合");
        lx->t = T_STRING;
        lx->ts = s;
        lx->tn = (size_t)(lx->p - s);
        lx->p++;
        return 0;
    }
    lx->p++;
    char n = lx->p < lx->end ? *lx->p : '\0';
    switch (c) {
    case '(':
        lx->t = T_LPAREN, lx->paren++;
        return 0;
    case ')':
        lx->t = T_RPAREN, lx->paren -= lx->paren > 0;
        return 0;
    case '[':
        lx->t = T_LBRACK, lx->paren++;
        return 0;
    case ']':
        lx->t = T_RBRACK, lx->paren -= lx->paren > 0;
        return 0;
    case ',':
        lx->t = T_COMMA;
        return 0;
    case '+':
        lx->t = T_PLUS;
        return 0;
    case '-':
        lx->t = T_MINUS;
        return 0;
    case '=':
        if (n == '=') return lx->p++, lx->t = T_EQ, lx->tn = 2, 0;
        return FAIL_TOK(lx, "'=' alone is not an operator; compare with '=='",
                        "单个“=”不是运算符；比较请用“==”");
    case '!':
        if (n == '=') return lx->p++, lx->t = T_NE, lx->tn = 2, 0;
        return FAIL_TOK(lx, "'!' alone is not an operator; use 'not' or '!='",
                        "单个“!”不是运算符；请用 not 或 “!=”");
    case '<':
        if (n == '=') return lx->p++, lx->t = T_LE, lx->tn = 2, 0;
        lx->t = T_LT;
        return 0;
    case '>':
        if (n == '=') return lx->p++, lx->t = T_GE, lx->tn = 2, 0;
        lx->t = T_GT;
        return 0;
    default:
        break;
    }
    lx->p--;
    size_t cl = text_char_len((const unsigned char *)lx->p, (size_t)(lx->end - lx->p));
    if (cl == 0) return FAIL_TOK(lx, "the file is not UTF-8 here", "此处不是 UTF-8 文字");
    return FAIL_TOK(lx, "unexpected character '%.*s'", "意外的字符“%.*s”", (int)cl, lx->p);
}

static int tok_is(const struct lexer *lx, const char *word)
{
    return lx->t == T_IDENT && strlen(word) == lx->tn && memcmp(lx->ts, word, lx->tn) == 0;
}

/* ---- expressions ------------------------------------------------------- */

struct parser {
    struct lexer lx;
    pol_programme *prog;
    int depth;
    uint32_t uses; /* facts named by the expression being parsed */
};

static const char *type_name(const pol_node *n)
{
    switch (n->type) {
    case PT_BOOL:
        return "true/false";
    case PT_INT:
        return "a number";
    case PT_MONEY:
        return "an amount";
    case PT_DATE:
        return "a date";
    case PT_ENUM:
        return "an enumerated value";
    case PT_TEXT:
        return "a quoted value";
    default:
        return "nothing";
    }
}

static const char *type_name_zh(const pol_node *n)
{
    switch (n->type) {
    case PT_BOOL:
        return "真/假";
    case PT_INT:
        return "数字";
    case PT_MONEY:
        return "金额";
    case PT_DATE:
        return "日期";
    case PT_ENUM:
        return "枚举值";
    case PT_TEXT:
        return "带引号的值";
    default:
        return "空";
    }
}

static int new_node(struct parser *ps, int op, int type, int line, int col, int32_t *out)
{
    pol_programme *p = ps->prog;
    if (p->nnode >= POL_NODES_MAX)
        return fail_at(&ps->lx, line, col, "the expressions have more than %d parts in all",
                       "表达式总计超过 %d 个部分", POL_NODES_MAX);
    if ((p->nnode & (p->nnode - 1)) == 0 || p->nnode == 0) {
        size_t cap = p->nnode ? (size_t)p->nnode * 2 : 16;
        p->node = xrealloc(p->node, cap * sizeof *p->node);
    }
    pol_node *n = &p->node[p->nnode];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->type = (uint8_t)type;
    n->enumeration = PE_NONE;
    n->a = n->b = -1;
    n->line = line;
    n->col = col;
    *out = p->nnode++;
    return 0;
}

static pol_node *N(struct parser *ps, int32_t i)
{
    return &ps->prog->node[i];
}

static int expect_type(struct parser *ps, int32_t i, int type, const char *what_en,
                       const char *what_zh)
{
    pol_node *n = N(ps, i);
    if (n->type == type) return 0;
    return fail_at(&ps->lx, n->line, n->col, "%s needs %s here, not %s%.0s%.0s%.0s",
                   "%.0s%.0s%.0s%s此处需要%s，而不是%s", what_en,
                   type == PT_BOOL ? "true/false" : "a number", type_name(n), what_zh,
                   type == PT_BOOL ? "真/假" : "数字", type_name_zh(n));
}

/* Gives a quoted literal node the enumeration e, checking its value. */
static int resolve_text(struct parser *ps, int32_t i, int e, const char *fact)
{
    pol_node *n = N(ps, i);
    const char *s = ps->lx.buf + n->a;
    size_t len = (size_t)n->b;
    int v = pol_enum_find((enum pol_enum)e, s, len);
    if (v < 0) {
        char values[200] = "";
        size_t used = 0;
        for (int k = 0; k < pol_enum_count((enum pol_enum)e); k++) {
            int w = snprintf(values + used, sizeof values - used, "%s%s", k ? ", " : "",
                             pol_enum_value((enum pol_enum)e, k));
            if (w < 0 || (size_t)w >= sizeof values - used) break;
            used += (size_t)w;
        }
        return fail_at(&ps->lx, n->line, n->col, "\"%.*s\" is not a value of %s (%s)",
                       "“%.*s”不是 %s 的取值（%s）", (int)(len > 40 ? 40 : len), s, fact, values);
    }
    n->op = OP_CONST;
    n->type = PT_ENUM;
    n->enumeration = (int8_t)e;
    n->k = v;
    n->a = n->b = -1;
    return 0;
}

/* A short description of the enumerated side of a comparison, for errors. */
static const char *enum_owner(struct parser *ps, int32_t i)
{
    pol_node *n = N(ps, i);
    if (n->op == OP_FACT) return pol_fact((int)n->k)->name;
    switch (n->enumeration) {
    case PE_DEGREE:
        return "education";
    case PE_LEVEL:
        return "level";
    case PE_INDUSTRY:
        return "employer_industry";
    case PE_UNIT_KIND:
        return "lease_kind";
    default:
        return "the other side";
    }
}

static int parse_or(struct parser *ps, int32_t *out);

static int parse_primary(struct parser *ps, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    int line = lx->tline, col = lx->tcol;
    int rc;
    switch (lx->t) {
    case T_INT:
    case T_MONEY:
    case T_DATE:
        if ((rc = new_node(ps, OP_CONST,
                           lx->t == T_INT     ? PT_INT
                           : lx->t == T_MONEY ? PT_MONEY
                                              : PT_DATE,
                           line, col, out)))
            return rc;
        N(ps, *out)->k = lx->tval;
        return lex(lx);
    case T_STRING:
        if ((rc = new_node(ps, OP_TEXT, PT_TEXT, line, col, out))) return rc;
        N(ps, *out)->a = (int32_t)(lx->ts - lx->buf);
        N(ps, *out)->b = (int32_t)lx->tn;
        return lex(lx);
    case T_LPAREN:
        if ((rc = lex(lx)) || (rc = parse_or(ps, out))) return rc;
        if (lx->t != T_RPAREN)
            return FAIL_TOK(lx, "')' expected, found %s%.0s", "%.0s此处应为“)”，实际为%s",
                            tok_name(lx->t), tok_name_zh(lx->t));
        return lex(lx);
    case T_IDENT: {
        if (tok_is(lx, "true") || tok_is(lx, "false")) {
            if ((rc = new_node(ps, OP_CONST, PT_BOOL, line, col, out))) return rc;
            N(ps, *out)->k = tok_is(lx, "true");
            return lex(lx);
        }
        int f = pol_fact_find(lx->ts, lx->tn);
        if (f < 0) {
            if (pol_enum_find(PE_DEGREE, lx->ts, lx->tn) >= 0 ||
                pol_enum_find(PE_LEVEL, lx->ts, lx->tn) >= 0 ||
                pol_enum_find(PE_INDUSTRY, lx->ts, lx->tn) >= 0 ||
                pol_enum_find(PE_UNIT_KIND, lx->ts, lx->tn) >= 0)
                return FAIL_TOK(lx, "unknown fact '%.*s'; a value is written in quotes: \"%.*s\"",
                                "未知的事实“%.*s”；取值须加引号：\"%.*s\"",
                                (int)(lx->tn > 40 ? 40 : lx->tn), lx->ts,
                                (int)(lx->tn > 40 ? 40 : lx->tn), lx->ts);
            return FAIL_TOK(lx, "unknown fact '%.*s' (docs/policy.md lists the facts)",
                            "未知的事实“%.*s”（可用事实见 docs/policy.md）",
                            (int)(lx->tn > 40 ? 40 : lx->tn), lx->ts);
        }
        const pol_fact_info *fi = pol_fact(f);
        if ((rc = new_node(ps, OP_FACT, fi->type, line, col, out))) return rc;
        N(ps, *out)->k = f;
        N(ps, *out)->enumeration = (int8_t)fi->enumeration;
        ps->uses |= 1u << f;
        return lex(lx);
    }
    default:
        return FAIL_TOK(lx, "a value or fact expected, found %s%.0s",
                        "%.0s此处应为取值或事实，实际为%s", tok_name(lx->t), tok_name_zh(lx->t));
    }
}

static int parse_unary(struct parser *ps, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    if (lx->t != T_MINUS) return parse_primary(ps, out);
    int line = lx->tline, col = lx->tcol, rc;
    int32_t a;
    if (++ps->depth > DEPTH_MAX)
        return FAIL_TOK(lx, "the expression is nested too deeply", "表达式嵌套过深");
    if ((rc = lex(lx)) || (rc = parse_unary(ps, &a))) return rc;
    ps->depth--;
    int t = N(ps, a)->type;
    if (t != PT_INT && t != PT_MONEY)
        return fail_at(lx, line, col, "'-' needs a number or an amount, not %s%.0s",
                       "%.0s“-”需要数字或金额，而不是%s", type_name(N(ps, a)),
                       type_name_zh(N(ps, a)));
    if ((rc = new_node(ps, OP_NEG, t, line, col, out))) return rc;
    N(ps, *out)->a = a;
    return 0;
}

static int parse_add(struct parser *ps, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    int rc;
    if ((rc = parse_unary(ps, out))) return rc;
    while (lx->t == T_PLUS || lx->t == T_MINUS) {
        int op = lx->t == T_PLUS ? OP_ADD : OP_SUB;
        int line = lx->tline, col = lx->tcol;
        int32_t b;
        if ((rc = lex(lx)) || (rc = parse_unary(ps, &b))) return rc;
        pol_node *x = N(ps, *out), *y = N(ps, b);
        int t = PT_NONE;
        if (x->type == PT_INT && y->type == PT_INT)
            t = PT_INT;
        else if (x->type == PT_MONEY && y->type == PT_MONEY)
            t = PT_MONEY;
        else if (x->type == PT_DATE && y->type == PT_INT)
            t = PT_DATE;
        else if (op == OP_SUB && x->type == PT_DATE && y->type == PT_DATE)
            t = PT_INT;
        if (t == PT_NONE)
            return fail_at(lx, line, col, "cannot %s %s and %s%.0s%.0s",
                           "%.0s%.0s%.0s不能对%s与%s做加减", op == OP_ADD ? "add" : "subtract",
                           type_name(x), type_name(y), type_name_zh(x), type_name_zh(y));
        int32_t n;
        if ((rc = new_node(ps, op, t, line, col, &n))) return rc;
        N(ps, n)->a = *out;
        N(ps, n)->b = b;
        *out = n;
    }
    return 0;
}

static int cmp_of(enum tok t)
{
    switch (t) {
    case T_EQ:
        return CMP_EQ;
    case T_NE:
        return CMP_NE;
    case T_LT:
        return CMP_LT;
    case T_LE:
        return CMP_LE;
    case T_GT:
        return CMP_GT;
    case T_GE:
        return CMP_GE;
    default:
        return -1;
    }
}

static int flip(int c)
{
    switch (c) {
    case CMP_LT:
        return CMP_GT;
    case CMP_LE:
        return CMP_GE;
    case CMP_GT:
        return CMP_LT;
    case CMP_GE:
        return CMP_LE;
    default:
        return c;
    }
}

static int parse_in(struct parser *ps, int32_t left, int line, int col, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    pol_programme *p = ps->prog;
    pol_node *l = N(ps, left);
    int rc;
    if (l->type != PT_ENUM && l->type != PT_INT)
        return fail_at(lx, line, col,
                       "'in' needs an enumerated fact or a number on its left, not %s%.0s",
                       "%.0s“in”左侧须为枚举事实或数字，而不是%s", type_name(l), type_name_zh(l));
    if ((rc = lex(lx))) return rc;
    if (lx->t != T_LBRACK) return FAIL_TOK(lx, "'[' expected after 'in'", "“in”之后应为“[”");
    if ((rc = lex(lx))) return rc;
    int first = p->nkonst, count = 0;
    for (;;) {
        int64_t v;
        if (l->type == PT_ENUM && lx->t == T_STRING) {
            int e = l->enumeration;
            int k = pol_enum_find((enum pol_enum)e, lx->ts, lx->tn);
            if (k < 0) {
                int32_t tmp;
                if ((rc = new_node(ps, OP_TEXT, PT_TEXT, lx->tline, lx->tcol, &tmp))) return rc;
                N(ps, tmp)->a = (int32_t)(lx->ts - lx->buf);
                N(ps, tmp)->b = (int32_t)lx->tn;
                return resolve_text(ps, tmp, e, enum_owner(ps, left));
            }
            v = k;
        } else if (l->type == PT_INT && lx->t == T_INT) {
            v = lx->tval;
        } else {
            return FAIL_TOK(lx, "the list after 'in' holds %s, not %s%.0s%.0s",
                            "%.0s%.0s“in”之后的列表应为%s，而不是%s",
                            l->type == PT_ENUM ? "quoted values" : "numbers", tok_name(lx->t),
                            l->type == PT_ENUM ? "带引号的值" : "数字", tok_name_zh(lx->t));
        }
        if (count >= 64) return FAIL_TOK(lx, "a list holds at most 64 values", "列表最多 64 个值");
        if ((p->nkonst & (p->nkonst - 1)) == 0 || p->nkonst == 0)
            p->konst =
                xrealloc(p->konst, (p->nkonst ? (size_t)p->nkonst * 2 : 16) * sizeof *p->konst);
        p->konst[p->nkonst++] = v;
        count++;
        if ((rc = lex(lx))) return rc;
        if (lx->t == T_COMMA) {
            if ((rc = lex(lx))) return rc;
            continue;
        }
        if (lx->t == T_RBRACK) break;
        return FAIL_TOK(lx, "',' or ']' expected, found %s%.0s", "%.0s此处应为“,”或“]”，实际为%s",
                        tok_name(lx->t), tok_name_zh(lx->t));
    }
    if ((rc = lex(lx))) return rc;
    if ((rc = new_node(ps, OP_IN, PT_BOOL, line, col, out))) return rc;
    N(ps, *out)->a = left;
    N(ps, *out)->b = first;
    N(ps, *out)->k = count;
    return 0;
}

static int parse_cmp(struct parser *ps, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    int rc;
    int32_t a, b;
    if ((rc = parse_add(ps, &a))) return rc;
    if (tok_is(lx, "in")) {
        int line = lx->tline, col = lx->tcol;
        if ((rc = parse_in(ps, a, line, col, out))) return rc;
        if (cmp_of(lx->t) >= 0 || tok_is(lx, "in"))
            return FAIL_TOK(lx, "comparisons do not chain; join them with 'and'",
                            "比较不能连写；请用 and 连接");
        return 0;
    }
    int c = cmp_of(lx->t);
    if (c < 0) {
        if (N(ps, a)->type == PT_TEXT)
            return fail_at(lx, N(ps, a)->line, N(ps, a)->col,
                           "a quoted value must be compared with an enumerated fact",
                           "带引号的值须与枚举事实比较");
        *out = a;
        return 0;
    }
    int line = lx->tline, col = lx->tcol;
    if ((rc = lex(lx)) || (rc = parse_add(ps, &b))) return rc;
    if (cmp_of(lx->t) >= 0 || tok_is(lx, "in"))
        return FAIL_TOK(lx, "comparisons do not chain; join them with 'and'",
                        "比较不能连写；请用 and 连接");
    pol_node *x = N(ps, a), *y = N(ps, b);
    if (x->type == PT_TEXT && y->type == PT_TEXT)
        return fail_at(lx, line, col, "two quoted values compared: one side must be a fact",
                       "两个带引号的值相比较：一侧须为事实");
    if (x->type == PT_TEXT || y->type == PT_TEXT) {
        int32_t text = x->type == PT_TEXT ? a : b, other = text == a ? b : a;
        pol_node *o = N(ps, other);
        if (o->type != PT_ENUM)
            return fail_at(lx, N(ps, text)->line, N(ps, text)->col,
                           "a quoted value cannot be compared with %s%.0s",
                           "%.0s带引号的值不能与%s比较", type_name(o), type_name_zh(o));
        if ((rc = resolve_text(ps, text, o->enumeration, enum_owner(ps, other)))) return rc;
        x = N(ps, a);
        y = N(ps, b);
    }
    if (x->type != y->type || (x->type == PT_ENUM && x->enumeration != y->enumeration))
        return fail_at(lx, line, col, "cannot compare %s with %s%.0s%.0s", "%.0s%.0s不能比较%s与%s",
                       type_name(x), type_name(y), type_name_zh(x), type_name_zh(y));
    if (c != CMP_EQ && c != CMP_NE) {
        if (x->type == PT_BOOL || (x->type == PT_ENUM && x->enumeration != PE_DEGREE))
            return fail_at(lx, line, col, "%s has no order; use == != or in%.0s",
                           "%.0s%s 没有大小顺序；请用 == != 或 in",
                           x->type == PT_BOOL ? "true/false" : enum_owner(ps, a),
                           x->type == PT_BOOL ? "真/假" : enum_owner(ps, a));
    }
    /* fact op constant (either way round) becomes one node */
    if ((x->op == OP_FACT && y->op == OP_CONST) || (x->op == OP_CONST && y->op == OP_FACT)) {
        int fact_left = x->op == OP_FACT;
        int64_t fact = fact_left ? x->k : y->k, k = fact_left ? y->k : x->k;
        int enumeration = x->enumeration;
        if ((rc = new_node(ps, OP_CMPK, PT_BOOL, line, col, out))) return rc;
        pol_node *n = N(ps, *out);
        n->a = (int32_t)fact;
        n->k = k;
        n->cmp = (uint8_t)(fact_left ? c : flip(c));
        n->enumeration = (int8_t)enumeration;
        return 0;
    }
    if ((rc = new_node(ps, OP_CMP, PT_BOOL, line, col, out))) return rc;
    N(ps, *out)->a = a;
    N(ps, *out)->b = b;
    N(ps, *out)->cmp = (uint8_t)c;
    return 0;
}

static int parse_not(struct parser *ps, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    if (!tok_is(lx, "not")) return parse_cmp(ps, out);
    int line = lx->tline, col = lx->tcol, rc;
    int32_t a;
    if (++ps->depth > DEPTH_MAX)
        return FAIL_TOK(lx, "the expression is nested too deeply", "表达式嵌套过深");
    if ((rc = lex(lx)) || (rc = parse_not(ps, &a))) return rc;
    ps->depth--;
    if ((rc = expect_type(ps, a, PT_BOOL, "'not'", "“not”"))) return rc;
    if ((rc = new_node(ps, OP_NOT, PT_BOOL, line, col, out))) return rc;
    N(ps, *out)->a = a;
    return 0;
}

static int parse_and(struct parser *ps, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    int rc;
    if ((rc = parse_not(ps, out))) return rc;
    while (tok_is(lx, "and")) {
        int line = lx->tline, col = lx->tcol;
        int32_t b, n;
        if ((rc = expect_type(ps, *out, PT_BOOL, "'and'", "“and”"))) return rc;
        if ((rc = lex(lx)) || (rc = parse_not(ps, &b))) return rc;
        if ((rc = expect_type(ps, b, PT_BOOL, "'and'", "“and”"))) return rc;
        if ((rc = new_node(ps, OP_AND, PT_BOOL, line, col, &n))) return rc;
        N(ps, n)->a = *out;
        N(ps, n)->b = b;
        *out = n;
    }
    return 0;
}

static int parse_or(struct parser *ps, int32_t *out)
{
    struct lexer *lx = &ps->lx;
    int rc;
    if (++ps->depth > DEPTH_MAX)
        return FAIL_TOK(lx, "the expression is nested too deeply", "表达式嵌套过深");
    if ((rc = parse_and(ps, out))) return rc;
    while (tok_is(lx, "or")) {
        int line = lx->tline, col = lx->tcol;
        int32_t b, n;
        if ((rc = expect_type(ps, *out, PT_BOOL, "'or'", "“or”"))) return rc;
        if ((rc = lex(lx)) || (rc = parse_and(ps, &b))) return rc;
        if ((rc = expect_type(ps, b, PT_BOOL, "'or'", "“or”"))) return rc;
        if ((rc = new_node(ps, OP_OR, PT_BOOL, line, col, &n))) return rc;
        N(ps, n)->a = *out;
        N(ps, n)->b = b;
        *out = n;
    }
    ps->depth--;
    return 0;
}

/* Parses a whole bool expression from the current token to the end of its
 * line. */
static int parse_condition(struct parser *ps, const char *what_en, const char *what_zh,
                           int32_t *out, uint32_t *uses)
{
    struct lexer *lx = &ps->lx;
    int rc;
    ps->depth = 0;
    ps->uses = 0;
    if (lx->t == T_EOL || lx->t == T_EOF)
        return FAIL_TOK(lx, "%s needs a condition%.0s", "%.0s%s缺少条件", what_en, what_zh);
    lx->cont = 1;
    rc = parse_or(ps, out);
    lx->cont = 0;
    if (rc) return rc;
    if (lx->t != T_EOL && lx->t != T_EOF)
        return FAIL_TOK(lx, "the condition should end here; found %s%.0s",
                        "%.0s条件应在此结束，实际为%s", tok_name(lx->t), tok_name_zh(lx->t));
    pol_node *n = N(ps, *out);
    if (n->type != PT_BOOL)
        return fail_at(lx, n->line, n->col, "%s needs a true/false condition, not %s%.0s%.0s",
                       "%.0s%.0s%s需要真/假条件，而不是%s", what_en, type_name(n), what_zh,
                       type_name_zh(n));
    *uses = ps->uses;
    return 0;
}

/* ---- statements -------------------------------------------------------- */

enum block { B_NONE, B_CRIT, B_TIER };

struct state {
    struct parser ps;
    pol_version *v; /* current version or NULL */
    enum block block;
    int have_code;
};

/* The rest of the current line as text (blanks trimmed), after the keyword
 * token just read; leaves the lexer at the start of the next line. */
static int rest_text(struct lexer *lx, const char *kw_en, char *out, size_t cap)
{
    const char *s = lx->p;
    while (s < lx->end && (*s == ' ' || *s == '\t')) s++;
    const char *e = s;
    while (e < lx->end && *e != '\n') e++;
    const char *next = e;
    /* a comment after a blank ends the text */
    for (const char *c = s + 1; c < e; c++)
        if (*c == '#' && (c[-1] == ' ' || c[-1] == '\t')) {
            e = c;
            break;
        }
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    size_t n = (size_t)(e - s);
    int col = column_of(lx->ls, s);
    if (n == 0) return fail_at(lx, lx->line, col, "%s needs a text", "%s 后缺少文字", kw_en);
    if (n >= cap)
        return fail_at(lx, lx->line, col, "the text is longer than %zu bytes", "文字超过 %zu 字节",
                       cap - 1);
    if (!text_valid(s, n, 0))
        return fail_at(lx, lx->line, col, "the text is not clean UTF-8", "文字不是有效的 UTF-8");
    memcpy(out, s, n);
    out[n] = '\0';
    lx->p = next;
    return lex(lx); /* the end of the line */
}

static int end_of_line(struct lexer *lx)
{
    if (lx->t != T_EOL && lx->t != T_EOF)
        return FAIL_TOK(lx, "the line should end here; found %s%.0s",
                        "%.0s本行应在此结束，实际为%s", tok_name(lx->t), tok_name_zh(lx->t));
    return 0;
}

/* An id token: [A-Za-z0-9._-], 1 to POL_ID_MAX-1 bytes, read raw. */
static int read_id(struct lexer *lx, const char *what_en, const char *what_zh, char *out)
{
    const char *s = lx->p;
    while (s < lx->end && (*s == ' ' || *s == '\t')) s++;
    const char *e = s;
    while (e < lx->end && (is_ident(*e) || *e == '.' || *e == '-')) e++;
    int col = column_of(lx->ls, s);
    size_t n = (size_t)(e - s);
    if (n == 0)
        return fail_at(lx, lx->line, col, "%s needs an id of letters, digits, '.', '-' or '_'%.0s",
                       "%.0s%s须有由字母、数字、“.”“-”“_”组成的编号", what_en, what_zh);
    if (n >= POL_ID_MAX)
        return fail_at(lx, lx->line, col, "the id is longer than %d characters",
                       "编号超过 %d 个字符", POL_ID_MAX - 1);
    memcpy(out, s, n);
    out[n] = '\0';
    lx->p = e;
    int rc = lex(lx);
    if (rc) return rc;
    return end_of_line(lx);
}

static int finish_block(struct state *st)
{
    struct lexer *lx = &st->ps.lx;
    if (!st->v || st->block == B_NONE) return 0;
    if (st->block == B_CRIT) {
        pol_criterion *c = &st->v->crit[st->v->ncrit - 1];
        const char *missing = c->expr < 0     ? "require"
                              : !c->clause[0] ? "clause"
                              : !c->zh[0]     ? "zh"
                              : !c->en[0]     ? "en"
                                              : NULL;
        if (missing)
            return fail_at(lx, c->line, 1, "criterion %s has no '%s' line", "条件 %s 缺少“%s”行",
                           c->id, missing);
    } else {
        pol_tier *t = &st->v->tier[st->v->ntier - 1];
        const char *missing = t->expr < 0      ? "when"
                              : t->nsteps == 0 ? "pay"
                              : !t->clause[0]  ? "clause"
                              : !t->zh[0]      ? "zh"
                              : !t->en[0]      ? "en"
                                               : NULL;
        if (missing)
            return fail_at(lx, t->line, 1, "tier %s has no '%s' line", "档次 %s 缺少“%s”行", t->id,
                           missing);
    }
    st->block = B_NONE;
    return 0;
}

static int finish_version(struct state *st)
{
    int rc = finish_block(st);
    if (rc || !st->v) return rc;
    struct lexer *lx = &st->ps.lx;
    pol_version *v = st->v;
    if (v->from == 0 && v->from_line == 0)
        return fail_at(lx, v->line, 1, "version %s has no 'from' line", "版本 %s 缺少“from”行",
                       v->id);
    if (v->to != POL_OPEN_END && v->to < v->from)
        return fail_at(lx, v->to_line, 1, "version %s ends before it begins",
                       "版本 %s 的结束日期早于开始日期", v->id);
    if (v->ntier == 0)
        return fail_at(lx, v->line, 1, "version %s has no tier: nobody could be paid",
                       "版本 %s 没有档次：无人可获补贴", v->id);
    st->v = NULL;
    return 0;
}

static int need_version(struct state *st, const char *kw)
{
    if (st->v) return 0;
    return FAIL_TOK(&st->ps.lx, "'%s' belongs to a version: write 'version ID' first",
                    "“%s”属于某个版本：请先写“version 编号”", kw);
}

/* pay 3000.00 for 3 months, then 2500.00 for 3 months */
static int parse_pay(struct state *st, pol_tier *t)
{
    struct lexer *lx = &st->ps.lx;
    int rc;
    if (t->nsteps) return FAIL_TOK(lx, "tier %s has two 'pay' lines", "档次 %s 有两行“pay”", t->id);
    t->pay_line = lx->tline;
    if ((rc = lex(lx))) return rc;
    for (;;) {
        if (lx->t != T_MONEY && lx->t != T_INT)
            return FAIL_TOK(lx, "a monthly amount in yuan expected (such as 2000.00)",
                            "此处应为每月金额（元，如 2000.00）");
        int64_t fen = lx->t == T_INT ? lx->tval * 100 : lx->tval;
        if (fen <= 0 || fen > MONEY_MAXLIT)
            return FAIL_TOK(lx, "the monthly amount must be above zero", "每月金额须大于零");
        if ((rc = lex(lx))) return rc;
        if (!tok_is(lx, "for"))
            return FAIL_TOK(lx, "'for N months' expected after the amount",
                            "金额之后应为“for N months”");
        if ((rc = lex(lx))) return rc;
        if (lx->t != T_INT || lx->tval < 1 || lx->tval > 1200)
            return FAIL_TOK(lx, "a number of months from 1 to 1200 expected",
                            "此处应为 1 至 1200 的月数");
        int months = (int)lx->tval;
        if ((rc = lex(lx))) return rc;
        if (!tok_is(lx, "months") && !tok_is(lx, "month"))
            return FAIL_TOK(lx, "'months' expected", "此处应为“months”");
        if (t->nsteps >= POL_STEPS_MAX)
            return FAIL_TOK(lx, "a schedule has at most %d steps", "发放安排最多 %d 段",
                            POL_STEPS_MAX);
        t->steps[t->nsteps].fen = fen;
        t->steps[t->nsteps].months = months;
        t->nsteps++;
        if ((rc = lex(lx))) return rc;
        if (lx->t != T_COMMA) break;
        if ((rc = lex(lx))) return rc;
        if (!tok_is(lx, "then"))
            return FAIL_TOK(lx, "'then' expected after ','", "“,”之后应为“then”");
        if ((rc = lex(lx))) return rc;
    }
    return end_of_line(lx);
}

static int parse_date_line(struct state *st, int32_t *out, int *line)
{
    struct lexer *lx = &st->ps.lx;
    int rc;
    if (*line)
        return FAIL_TOK(lx, "the date is given twice (first on line %d)",
                        "日期重复给出（首次在第 %d 行）", *line);
    *line = lx->tline;
    if ((rc = lex(lx))) return rc;
    if (lx->t != T_DATE)
        return FAIL_TOK(lx, "a date YYYY-MM-DD expected", "此处应为日期 YYYY-MM-DD");
    *out = (int32_t)lx->tval;
    if ((rc = lex(lx))) return rc;
    return end_of_line(lx);
}

static int parse_cap(struct state *st)
{
    struct lexer *lx = &st->ps.lx;
    pol_version *v = st->v;
    int rc;
    if ((rc = lex(lx))) return rc;
    if (tok_is(lx, "rent")) {
        v->cap_rent = true;
        if ((rc = lex(lx))) return rc;
        return end_of_line(lx);
    }
    if (tok_is(lx, "months")) {
        v->cap_months_line = lx->tline;
        if ((rc = lex(lx))) return rc;
        if (lx->t != T_INT || lx->tval < 1 || lx->tval > 1200)
            return FAIL_TOK(lx, "a number of months from 1 to 1200 expected",
                            "此处应为 1 至 1200 的月数");
        v->cap_months = (int)lx->tval;
    } else if (tok_is(lx, "month") || tok_is(lx, "year")) {
        int64_t *cap = tok_is(lx, "month") ? &v->cap_month : &v->cap_year;
        if ((rc = lex(lx))) return rc;
        if (lx->t != T_MONEY && lx->t != T_INT)
            return FAIL_TOK(lx, "an amount in yuan expected (such as 2000.00)",
                            "此处应为金额（元，如 2000.00）");
        *cap = lx->t == T_INT ? lx->tval * 100 : lx->tval;
        if (*cap <= 0 || *cap > MONEY_MAXLIT)
            return FAIL_TOK(lx, "a cap must be above zero", "上限须大于零");
    } else {
        return FAIL_TOK(lx, "'cap' is followed by months, month, year or rent",
                        "“cap”之后应为 months、month、year 或 rent");
    }
    if ((rc = lex(lx))) return rc;
    return end_of_line(lx);
}

static int word_line(struct state *st, const char *const *words, int *out)
{
    struct lexer *lx = &st->ps.lx;
    int rc;
    if ((rc = lex(lx))) return rc;
    for (int i = 0; words[i]; i++)
        if (tok_is(lx, words[i])) {
            *out = i;
            if ((rc = lex(lx))) return rc;
            return end_of_line(lx);
        }
    return FAIL_TOK(lx, "expected %s | %s%s%s", "此处应为 %s | %s%s%s", words[0], words[1],
                    words[2] ? " | " : "", words[2] ? words[2] : "");
}

static int text_target(struct state *st, const char *kw, char **out)
{
    int zh = kw[0] == 'z';
    if (st->block == B_CRIT)
        *out = zh ? st->v->crit[st->v->ncrit - 1].zh : st->v->crit[st->v->ncrit - 1].en;
    else if (st->block == B_TIER)
        *out = zh ? st->v->tier[st->v->ntier - 1].zh : st->v->tier[st->v->ntier - 1].en;
    else if (!st->v)
        *out = zh ? st->ps.prog->zh : st->ps.prog->en;
    else
        return FAIL_TOK(&st->ps.lx, "'%s' belongs to a criterion, a tier or the programme",
                        "“%s”属于某个条件、档次或整个项目", kw);
    if (**out) return FAIL_TOK(&st->ps.lx, "'%s' is given twice here", "此处“%s”重复给出", kw);
    return 0;
}

static int statement(struct state *st)
{
    struct lexer *lx = &st->ps.lx;
    pol_programme *p = st->ps.prog;
    int rc;
    if (lx->t != T_IDENT)
        return FAIL_TOK(lx, "a keyword expected at the start of the line, found %s%.0s",
                        "%.0s行首应为关键字，实际为%s", tok_name(lx->t), tok_name_zh(lx->t));
    if (tok_is(lx, "programme")) {
        if (st->have_code || p->nver)
            return FAIL_TOK(lx, "'programme' comes once, before the first version",
                            "“programme”只出现一次，且在第一个版本之前");
        st->have_code = 1;
        int line = lx->tline;
        if ((rc = read_id(lx, "programme", "programme", p->code))) return rc;
        for (const char *c = p->code; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || is_digit(*c) || *c == '-'))
                return fail_at(lx, line, 1, "a programme code uses a-z, 0-9 and '-' only",
                               "项目代码只能用 a-z、0-9 和“-”");
        return 0;
    }
    if (tok_is(lx, "zh") || tok_is(lx, "en")) {
        char kw[3] = {lx->ts[0], lx->ts[1], 0};
        char *out = NULL;
        if ((rc = text_target(st, kw, &out))) return rc;
        return rest_text(lx, kw, out, POL_TEXT_MAX);
    }
    if (tok_is(lx, "version")) {
        if (!st->have_code)
            return FAIL_TOK(lx, "'programme CODE' must come before the first version",
                            "第一个版本之前须有“programme 代码”");
        if ((rc = finish_version(st))) return rc;
        if (p->nver >= POL_VERSIONS_MAX)
            return FAIL_TOK(lx, "a programme has at most %d versions", "一个项目最多 %d 个版本",
                            POL_VERSIONS_MAX);
        p->ver = xrealloc(p->ver, (size_t)(p->nver + 1) * sizeof *p->ver);
        pol_version *v = &p->ver[p->nver++];
        memset(v, 0, sizeof *v);
        v->to = POL_OPEN_END;
        v->line = lx->tline;
        st->v = v;
        if ((rc = read_id(lx, "version", "version", v->id))) return rc;
        for (int i = 0; i < p->nver - 1; i++)
            if (!strcmp(p->ver[i].id, v->id))
                return fail_at(lx, v->line, 1, "version %s is defined twice (line %d)",
                               "版本 %s 重复定义（第 %d 行）", v->id, p->ver[i].line);
        return 0;
    }
    if (tok_is(lx, "criterion") || tok_is(lx, "tier")) {
        int crit = tok_is(lx, "criterion");
        if ((rc = need_version(st, crit ? "criterion" : "tier")) || (rc = finish_block(st)))
            return rc;
        pol_version *v = st->v;
        if (crit ? v->ncrit >= POL_CRITERIA_MAX : v->ntier >= POL_TIERS_MAX)
            return FAIL_TOK(lx, "a version has at most %d %s%.0s", "一个版本最多 %d 个%.0s%s",
                            crit ? POL_CRITERIA_MAX : POL_TIERS_MAX, crit ? "criteria" : "tiers",
                            crit ? "条件" : "档次");
        int line = lx->tline;
        char *id;
        if (crit) {
            pol_criterion *c = &v->crit[v->ncrit++];
            memset(c, 0, sizeof *c);
            c->expr = -1;
            c->line = line;
            id = c->id;
            st->block = B_CRIT;
        } else {
            pol_tier *t = &v->tier[v->ntier++];
            memset(t, 0, sizeof *t);
            t->expr = -1;
            t->line = line;
            id = t->id;
            st->block = B_TIER;
        }
        if ((rc = read_id(lx, crit ? "criterion" : "tier", crit ? "条件" : "档次", id))) return rc;
        int n = crit ? v->ncrit - 1 : v->ntier - 1;
        for (int i = 0; i < n; i++) {
            const char *other = crit ? v->crit[i].id : v->tier[i].id;
            int oline = crit ? v->crit[i].line : v->tier[i].line;
            if (!strcmp(other, id))
                return fail_at(lx, line, 1, "%s %s is defined twice in this version (line %d)",
                               "本版本中%.0s %s 重复定义（第 %d 行）", crit ? "criterion" : "tier",
                               id, oline);
        }
        return 0;
    }
    if (tok_is(lx, "clause")) {
        if (st->block == B_NONE)
            return FAIL_TOK(lx, "'clause' belongs to a criterion or a tier",
                            "“clause”属于某个条件或档次");
        char *out = st->block == B_CRIT ? st->v->crit[st->v->ncrit - 1].clause
                                        : st->v->tier[st->v->ntier - 1].clause;
        if (*out) return FAIL_TOK(lx, "'clause' is given twice here", "此处“clause”重复给出");
        return rest_text(lx, "clause", out, POL_TEXT_MAX);
    }
    if (tok_is(lx, "require")) {
        if (st->block != B_CRIT)
            return FAIL_TOK(lx, "'require' belongs to a criterion", "“require”属于某个条件");
        pol_criterion *c = &st->v->crit[st->v->ncrit - 1];
        if (c->expr >= 0)
            return FAIL_TOK(lx, "criterion %s has two 'require' lines", "条件 %s 有两行“require”",
                            c->id);
        if ((rc = lex(lx))) return rc;
        c->expr_line = lx->tline;
        c->expr_col = lx->tcol;
        return parse_condition(&st->ps, "'require'", "“require”", &c->expr, &c->uses);
    }
    if (tok_is(lx, "when")) {
        if (st->block != B_TIER)
            return FAIL_TOK(lx, "'when' belongs to a tier", "“when”属于某个档次");
        pol_tier *t = &st->v->tier[st->v->ntier - 1];
        if (t->expr >= 0)
            return FAIL_TOK(lx, "tier %s has two 'when' lines", "档次 %s 有两行“when”", t->id);
        if ((rc = lex(lx))) return rc;
        t->expr_line = lx->tline;
        t->expr_col = lx->tcol;
        return parse_condition(&st->ps, "'when'", "“when”", &t->expr, &t->uses);
    }
    if (tok_is(lx, "pay")) {
        if (st->block != B_TIER)
            return FAIL_TOK(lx, "'pay' belongs to a tier", "“pay”属于某个档次");
        return parse_pay(st, &st->v->tier[st->v->ntier - 1]);
    }
    /* version-level statements end a criterion or tier block */
    static const char *const vkw[] = {"from", "to", "basis", "payee", "prorate", "cap", NULL};
    for (int i = 0; vkw[i]; i++) {
        if (!tok_is(lx, vkw[i])) continue;
        if ((rc = need_version(st, vkw[i])) || (rc = finish_block(st))) return rc;
        pol_version *v = st->v;
        switch (i) {
        case 0: {
            int line = v->from_line;
            rc = parse_date_line(st, &v->from, &line);
            v->from_line = line;
            return rc;
        }
        case 1: {
            int line = v->to_line;
            rc = parse_date_line(st, &v->to, &line);
            v->to_line = line;
            return rc;
        }
        case 2:
            if (v->basis[0]) return FAIL_TOK(lx, "'basis' is given twice", "“basis”重复给出");
            return rest_text(lx, "basis", v->basis, POL_TEXT_MAX);
        case 3: {
            static const char *const w[] = {"person", "employer", "operator", NULL};
            int k = 0;
            rc = word_line(st, w, &k);
            v->payee = (enum pol_payee)k;
            return rc;
        }
        case 4: {
            static const char *const w[] = {"days", "whole", NULL};
            int k = 0;
            rc = word_line(st, w, &k);
            v->prorate = (enum pol_prorate)k;
            return rc;
        }
        default:
            return parse_cap(st);
        }
    }
    return FAIL_TOK(lx, "unknown keyword '%.*s'", "未知关键字“%.*s”",
                    (int)(lx->tn > 40 ? 40 : lx->tn), lx->ts);
}

int pol_parse(const char *buf, size_t len, const char *file, pol_programme *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "%s", file ? file : "policy");
    if (len > POL_FILE_MAX)
        return ql_errf(err, QL_ETOOBIG, "policy", "%s: the file is larger than %d bytes",
                       "%s：文件超过 %d 字节", out->file, POL_FILE_MAX);
    struct state st;
    memset(&st, 0, sizeof st);
    st.ps.prog = out;
    struct lexer *lx = &st.ps.lx;
    lx->buf = lx->p = lx->ls = buf;
    lx->end = buf + len;
    lx->line = 1;
    lx->file = out->file;
    lx->err = err;
    /* the whole file must be UTF-8 without control characters */
    for (const char *c = buf; c < lx->end;) {
        if (*c == '\n') {
            lx->line++;
            lx->ls = ++c;
            continue;
        }
        size_t cl = text_char_len((const unsigned char *)c, (size_t)(lx->end - c));
        unsigned char u = (unsigned char)*c;
        if (cl == 0 || (u < 0x20 && u != '\t' && u != '\r') || u == 0x7f)
            return fail_at(lx, lx->line, column_of(lx->ls, c),
                           "the file is not clean UTF-8 text here",
                           "文件此处不是有效的 UTF-8 文字");
        c += cl;
    }
    lx->line = 1;
    lx->ls = buf;
    int rc = lex(lx);
    while (!rc && lx->t != T_EOF) {
        if (lx->t == T_EOL) {
            rc = lex(lx);
            continue;
        }
        rc = statement(&st);
        if (!rc && lx->t == T_EOL) rc = lex(lx);
    }
    if (rc) return rc;
    if ((rc = finish_version(&st))) return rc;
    if (!st.have_code)
        return fail_at(lx, 1, 1, "the file has no 'programme CODE' line",
                       "文件缺少“programme 代码”行");
    if (!out->zh[0] || !out->en[0])
        return fail_at(lx, 1, 1, "the programme needs a 'zh' and an 'en' name before its versions",
                       "项目须在版本之前给出“zh”和“en”名称");
    if (out->nver == 0)
        return fail_at(lx, lx->line, 1, "the file has no version", "文件没有任何版本");
    return 0;
}

void pol_free(pol_programme *p)
{
    if (!p) return;
    free(p->ver);
    free(p->node);
    free(p->konst);
    memset(p, 0, sizeof *p);
}

const char *pol_payee_name(enum pol_payee p)
{
    return p == PAYEE_EMPLOYER ? "employer" : p == PAYEE_OPERATOR ? "operator" : "person";
}

const char *pol_prorate_name(enum pol_prorate p)
{
    return p == PRORATE_WHOLE ? "whole" : "days";
}
