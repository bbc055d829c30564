/* check.c - static checks of a parsed programme (rules.h, pol_check).
 *
 * Satisfiability is decided by trying values: a conjunction of conditions
 * is split into groups that share no fact, and each group tries every
 * combination of its facts' candidate values (every bool and enum value;
 * for numbers, amounts and dates the constants of the version's
 * expressions, one either side, and the ends of the fact's range). For
 * comparisons of a fact with a constant this is exact: the answer can only
 * change at a constant. */
#include "policy/rules.h"

#include "core/buf.h"
#include "core/date.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "policy/rules_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAND_MAX   96
#define COMBOS_MAX (1L << 22) /* combinations one group may try */

__attribute__((format(printf, 5, 7), format(printf, 6, 7))) static void
issue(pol_issues *out, int line, int col, bool warning, const char *fmt_en, const char *fmt_zh, ...)
{
    out->n++;
    if (!warning) out->nerrors++;
    if (out->n > (int)(sizeof out->item / sizeof out->item[0])) return;
    pol_issue *it = &out->item[out->n - 1];
    it->line = line;
    it->col = col;
    it->warning = warning;
    va_list ap;
    va_start(ap, fmt_zh);
    ql_vformat2(it->en, sizeof it->en, it->zh, sizeof it->zh, fmt_en, fmt_zh, ap);
    va_end(ap);
}

struct cand {
    int n;
    int full; /* more values than CAND_MAX: the search is not exhaustive */
    int64_t v[CAND_MAX];
};

static void cand_add(struct cand *c, int64_t v, const pol_fact_info *fi)
{
    if (v < fi->min || v > fi->max) return;
    for (int i = 0; i < c->n; i++)
        if (c->v[i] == v) return;
    if (c->n < CAND_MAX)
        c->v[c->n++] = v;
    else
        c->full = 1;
}

/* Candidate values of every fact for version v. */
static void candidates(const pol_programme *p, const pol_version *v, struct cand cand[F_COUNT])
{
    memset(cand, 0, sizeof(struct cand) * F_COUNT);
    for (int f = 0; f < F_COUNT; f++) {
        const pol_fact_info *fi = pol_fact(f);
        if (fi->type == PT_BOOL || fi->type == PT_ENUM) {
            for (int64_t x = fi->min; x <= fi->max; x++) cand_add(&cand[f], x, fi);
        } else {
            cand_add(&cand[f], fi->min, fi);
            cand_add(&cand[f], fi->max, fi);
        }
    }
    /* constants of the version's expressions: walk the nodes its roots reach */
    int32_t stack[POL_NODES_MAX];
    int sp = 0;
    for (int i = 0; i < v->ncrit; i++) stack[sp++] = v->crit[i].expr;
    for (int i = 0; i < v->ntier; i++) stack[sp++] = v->tier[i].expr;
    while (sp > 0) {
        const pol_node *n = &p->node[stack[--sp]];
        if (n->a >= 0 && n->op != OP_CMPK && n->op != OP_FACT && n->op != OP_CONST &&
            sp < POL_NODES_MAX)
            stack[sp++] = n->a;
        if (n->b >= 0 && n->op != OP_IN && n->op != OP_CMPK && n->op != OP_FACT &&
            n->op != OP_CONST && sp < POL_NODES_MAX)
            stack[sp++] = n->b;
        int64_t ks[66];
        int nk = 0;
        if (n->op == OP_CMPK)
            ks[nk++] = n->k;
        else if (n->op == OP_CONST && n->type != PT_BOOL && n->type != PT_ENUM)
            ks[nk++] = n->k;
        else if (n->op == OP_IN)
            for (int64_t i = 0; i < n->k && nk < 64; i++) ks[nk++] = p->konst[n->b + i];
        for (int f = 0; f < F_COUNT && nk; f++) {
            const pol_fact_info *fi = pol_fact(f);
            if (fi->type == PT_BOOL || fi->type == PT_ENUM) continue;
            /* a fused node names its fact; a free constant may meet any
             * fact of its type through arithmetic */
            if (n->op == OP_CMPK && n->a != f) continue;
            if (n->op != OP_CMPK && n->type != fi->type && n->op != OP_IN) continue;
            for (int i = 0; i < nk; i++) {
                if (ks[i] > INT64_MIN) cand_add(&cand[f], ks[i] - 1, fi);
                cand_add(&cand[f], ks[i], fi);
                if (ks[i] < INT64_MAX) cand_add(&cand[f], ks[i] + 1, fi);
            }
        }
    }
}

/* Is the search exact for expression root? Only when it compares facts
 * with constants: arithmetic and fact-to-fact comparisons can turn at
 * values the candidates do not hold. */
static bool exact(const pol_programme *p, int32_t root)
{
    const pol_node *n = &p->node[root];
    switch (n->op) {
    case OP_ADD:
    case OP_SUB:
    case OP_NEG:
    case OP_CMP:
        return false;
    case OP_NOT:
        return exact(p, n->a);
    case OP_AND:
    case OP_OR:
        return exact(p, n->a) && exact(p, n->b);
    case OP_IN:
        return exact(p, n->a);
    default:
        return true;
    }
}

/* One condition of a conjunction: expr must evaluate to want. */
struct lit {
    int32_t expr;
    uint32_t uses;
    bool want;
};

enum sat { SAT_NO = 0, SAT_YES = 1, SAT_UNKNOWN = 2 };

/* Tries every combination of the facts in mask over the literals in group. */
static enum sat try_group(const pol_programme *p, const struct lit *lits, int nlits, uint32_t mask,
                          const struct cand cand[F_COUNT])
{
    int facts[F_COUNT] = {0}, nf = 0;
    long combos = 1;
    for (int f = 0; f < F_COUNT; f++)
        if (mask & (1u << f)) {
            facts[nf++] = f;
            combos *= cand[f].n;
            if (combos > COMBOS_MAX) return SAT_UNKNOWN;
        }
    bool sure = true; /* a "no" can be trusted */
    for (int i = 0; i < nf; i++) sure = sure && !cand[facts[i]].full;
    for (int i = 0; i < nlits; i++) sure = sure && exact(p, lits[i].expr);
    int idx[F_COUNT] = {0};
    pol_facts fx;
    pol_facts_clear(&fx);
    for (long c = 0; c < combos; c++) {
        for (int i = 0; i < nf; i++) fx.v[facts[i]] = cand[facts[i]].v[idx[i]];
        int ok = 1;
        for (int i = 0; i < nlits && ok; i++)
            ok = (pol_eval(p, lits[i].expr, &fx) != 0) == lits[i].want;
        if (ok) return SAT_YES;
        for (int i = 0; i < nf; i++) { /* next combination */
            if (++idx[i] < cand[facts[i]].n) break;
            idx[i] = 0;
        }
    }
    return sure ? SAT_NO : SAT_UNKNOWN;
}

/* Is there an applicant for whom every literal holds? */
static enum sat satisfiable(const pol_programme *p, const struct lit *lits, int n,
                            const struct cand cand[F_COUNT])
{
    int group[POL_CRITERIA_MAX + POL_TIERS_MAX + 1];
    uint32_t gmask[POL_CRITERIA_MAX + POL_TIERS_MAX + 1];
    for (int i = 0; i < n; i++) {
        group[i] = i;
        gmask[i] = lits[i].uses;
    }
    /* merge groups that share a fact until none do */
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                int gi = group[i], gj = group[j];
                if (gi == gj || !(gmask[gi] & gmask[gj])) continue;
                int keep = gi < gj ? gi : gj, drop = gi < gj ? gj : gi;
                gmask[keep] |= gmask[drop];
                for (int k = 0; k < n; k++)
                    if (group[k] == drop) group[k] = keep;
                changed = 1;
            }
    }
    enum sat result = SAT_YES;
    struct lit sub[POL_CRITERIA_MAX + POL_TIERS_MAX + 1];
    for (int g = 0; g < n; g++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (group[i] == g) sub[m++] = lits[i];
        if (m == 0) continue;
        enum sat s = try_group(p, sub, m, gmask[g], cand);
        if (s == SAT_NO) return SAT_NO;
        if (s == SAT_UNKNOWN) result = SAT_UNKNOWN;
    }
    return result;
}

static void too_many(pol_issues *out, int line, int col, const char *what)
{
    issue(out, line, col, true,
          "%s: could not be checked (arithmetic, or too many values to try): check it by hand",
          "%s：无法自动检查（含运算或取值过多），请人工核对", what);
}

static void check_version(const pol_programme *p, const pol_version *v, pol_issues *out)
{
    struct cand *cand = xmalloc(sizeof(struct cand) * F_COUNT);
    candidates(p, v, cand);
    struct lit lits[POL_CRITERIA_MAX + POL_TIERS_MAX + 1];
    bool crit_ok = true;
    for (int i = 0; i < v->ncrit; i++) {
        const pol_criterion *c = &v->crit[i];
        struct lit l = {c->expr, c->uses, true};
        enum sat s = satisfiable(p, &l, 1, cand);
        if (s == SAT_NO) {
            crit_ok = false;
            issue(out, c->expr_line, c->expr_col, false,
                  "criterion %s can never pass: no applicant meets it",
                  "条件 %s 永远无法满足：没有申请人能符合", c->id);
        } else if (s == SAT_UNKNOWN) {
            too_many(out, c->expr_line, c->expr_col, c->id);
        }
        l.want = false;
        if (satisfiable(p, &l, 1, cand) == SAT_NO)
            issue(out, c->expr_line, c->expr_col, true,
                  "criterion %s always passes: it checks nothing",
                  "条件 %s 总是满足：它不检查任何内容", c->id);
        lits[i] = (struct lit){c->expr, c->uses, true};
    }
    int nc = v->ncrit;
    if (crit_ok && nc > 1 && satisfiable(p, lits, nc, cand) == SAT_NO) {
        crit_ok = false;
        issue(out, v->line, 1, false,
              "version %s: the criteria together can never pass, so nobody is eligible",
              "版本 %s：各条件合在一起无法同时满足，无人符合资格", v->id);
    }
    for (int k = 0; k < v->ntier; k++) {
        const pol_tier *t = &v->tier[k];
        lits[nc] = (struct lit){t->expr, t->uses, true};
        /* when nobody meets the criteria, every tier is unreachable: that
         * was said once above */
        enum sat alone = crit_ok ? satisfiable(p, lits, nc + 1, cand) : SAT_YES;
        if (crit_ok && alone == SAT_NO) {
            issue(out, t->expr_line, t->expr_col, false,
                  "tier %s is unreachable: no applicant who meets the criteria meets its condition",
                  "档次 %s 不可达：符合各项条件的申请人都不满足其条件", t->id);
        } else if (crit_ok) {
            int n = nc;
            for (int j = 0; j < k; j++)
                lits[n++] = (struct lit){v->tier[j].expr, v->tier[j].uses, false};
            lits[n++] = (struct lit){t->expr, t->uses, true};
            enum sat s = satisfiable(p, lits, n, cand);
            if (s == SAT_NO)
                issue(out, t->expr_line, t->expr_col, false,
                      "tier %s is unreachable: the tiers before it take everyone it would take",
                      "档次 %s 不可达：它能覆盖的人都已被前面的档次覆盖", t->id);
            else if (s == SAT_UNKNOWN || alone == SAT_UNKNOWN)
                too_many(out, t->expr_line, t->expr_col, t->id);
        }
        /* schedule against the month cap and the monthly cap */
        int from = 1;
        bool under_cap = false;
        for (int s = 0; s < t->nsteps; s++) {
            if (v->cap_months && from > v->cap_months)
                issue(out, t->pay_line, 1, false,
                      "tier %s: step %d starts at month %d, after the cap of %d months, and is "
                      "never paid",
                      "档次 %s：第 %d 段从第 %d 个月开始，超过 %d 个月的上限，永远不会发放", t->id,
                      s + 1, from, v->cap_months);
            if (!v->cap_month || t->steps[s].fen <= v->cap_month) under_cap = true;
            from += t->steps[s].months;
        }
        if (!under_cap) {
            char cap[32];
            validate_money_text(v->cap_month, cap, sizeof cap);
            issue(out, t->pay_line, 1, true,
                  "tier %s: every amount is above the monthly cap of %s, which always applies",
                  "档次 %s：每段金额都高于每月上限 %s 元，实际总按上限发放", t->id, cap);
        }
    }
    /* eligible applicants that no tier takes get nothing: say so */
    int n = nc;
    for (int j = 0; j < v->ntier; j++)
        lits[n++] = (struct lit){v->tier[j].expr, v->tier[j].uses, false};
    if (crit_ok && satisfiable(p, lits, n, cand) == SAT_YES)
        issue(out, v->line, 1, true,
              "version %s: some applicants meet every criterion but no tier, and would be refused",
              "版本 %s：部分申请人符合全部条件却不属于任何档次，将被驳回", v->id);
    free(cand);
}

static int by_from(const void *a, const void *b)
{
    const pol_version *x = *(const pol_version *const *)a, *y = *(const pol_version *const *)b;
    return x->from < y->from ? -1 : x->from > y->from ? 1 : 0;
}

int pol_check(const pol_programme *p, pol_issues *out)
{
    memset(out, 0, sizeof *out);
    const pol_version *sorted[POL_VERSIONS_MAX] = {0};
    for (int i = 0; i < p->nver; i++) sorted[i] = &p->ver[i];
    qsort(sorted, (size_t)p->nver, sizeof sorted[0], by_from);
    for (int i = 0; i + 1 < p->nver; i++) {
        const pol_version *a = sorted[i], *b = sorted[i + 1];
        char af[16], at[16] = "open", bf[16];
        date_format(a->from, af, sizeof af);
        if (a->to != POL_OPEN_END) date_format(a->to, at, sizeof at);
        date_format(b->from, bf, sizeof bf);
        if (a->to >= b->from)
            issue(out, b->from_line, 1, false,
                  "version %s (from %s) overlaps version %s (%s to %s)",
                  "版本 %s（自 %s 起）与版本 %s（%s 至 %s）时间重叠", b->id, bf, a->id, af, at);
        else if (a->to + 1 < b->from)
            issue(out, b->from_line, 1, false,
                  "no version is in force between %s (end of %s) and %s (start of %s)",
                  "%s（%s 结束）与 %s（%s 开始）之间没有生效的版本", at, a->id, bf, b->id);
    }
    for (int i = 0; i < p->nver; i++) check_version(p, &p->ver[i], out);
    return out->nerrors;
}

int pol_issues_kept(const pol_issues *out)
{
    int cap = (int)(sizeof out->item / sizeof out->item[0]);
    return out->n < cap ? out->n : cap;
}

char *pol_issues_text(const pol_programme *p, const pol_issues *out)
{
    buf b;
    buf_init(&b, 0);
    int kept = pol_issues_kept(out);
    for (int i = 0; i < kept; i++) {
        const pol_issue *it = &out->item[i];
        buf_printf(&b, "%s:%d:%d: %s: %s\n    %s：%s\n", p->file, it->line, it->col,
                   it->warning ? "warning" : "error", it->en, it->warning ? "警告" : "错误",
                   it->zh);
    }
    if (out->n > kept) buf_printf(&b, "... %d more\n", out->n - kept);
    return buf_steal(&b);
}

const pol_issue *pol_first_error(const pol_issues *out)
{
    int kept = pol_issues_kept(out);
    for (int i = 0; i < kept; i++)
        if (!out->item[i].warning) return &out->item[i];
    return NULL;
}
