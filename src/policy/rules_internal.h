/* rules_internal.h - expression node operations shared by the parser, the
 * evaluator and the checks. Not for code outside src/policy. */
#ifndef QL_POLICY_RULES_INTERNAL_H
#define QL_POLICY_RULES_INTERNAL_H

#include <stdint.h>

enum pol_op {
    OP_CONST = 1, /* k */
    OP_FACT,      /* facts->v[k] */
    OP_TEXT,      /* a quoted literal not typed yet (parser only): a = offset, b = length */
    OP_NOT,       /* !a */
    OP_AND,       /* a && b */
    OP_OR,        /* a || b */
    OP_CMP,       /* a cmp b */
    OP_CMPK,      /* facts->v[a] cmp k: a fact compared with a constant */
    OP_IN,        /* a is one of konst[b .. b+k) */
    OP_ADD,       /* a + b, saturating */
    OP_SUB,       /* a - b, saturating */
    OP_NEG        /* -a, saturating */
};

enum pol_cmp { CMP_EQ = 0, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

static inline int pol_compare(int64_t x, int64_t y, int c)
{
    switch (c) {
    case CMP_EQ:
        return x == y;
    case CMP_NE:
        return x != y;
    case CMP_LT:
        return x < y;
    case CMP_LE:
        return x <= y;
    case CMP_GT:
        return x > y;
    default:
        return x >= y;
    }
}

#endif
