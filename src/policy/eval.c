/* eval.c - evaluating expressions and deciding an application with its
 * trace. */
#include "policy/rules.h"

#include "core/date.h"
#include "core/validate.h"
#include "policy/rules_internal.h"

#include <stdio.h>
#include <string.h>

static int64_t sat_add(int64_t x, int64_t y)
{
    int64_t r;
    if (__builtin_add_overflow(x, y, &r)) return y > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t sat_sub(int64_t x, int64_t y)
{
    int64_t r;
    if (__builtin_sub_overflow(x, y, &r)) return y < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

int64_t pol_eval(const pol_programme *p, int32_t root, const pol_facts *f)
{
    const pol_node *n = &p->node[root];
    switch (n->op) {
    case OP_CONST:
        return n->k;
    case OP_FACT:
        return f->v[n->k];
    case OP_NOT:
        return !pol_eval(p, n->a, f);
    case OP_AND:
        return pol_eval(p, n->a, f) && pol_eval(p, n->b, f);
    case OP_OR:
        return pol_eval(p, n->a, f) || pol_eval(p, n->b, f);
    case OP_CMPK:
        return pol_compare(f->v[n->a], n->k, n->cmp);
    case OP_CMP:
        return pol_compare(pol_eval(p, n->a, f), pol_eval(p, n->b, f), n->cmp);
    case OP_IN: {
        int64_t v = pol_eval(p, n->a, f);
        for (int64_t i = 0; i < n->k; i++)
            if (p->konst[n->b + i] == v) return 1;
        return 0;
    }
    case OP_ADD:
        return sat_add(pol_eval(p, n->a, f), pol_eval(p, n->b, f));
    case OP_SUB:
        return sat_sub(pol_eval(p, n->a, f), pol_eval(p, n->b, f));
    case OP_NEG:
        return sat_sub(0, pol_eval(p, n->a, f));
    default:
        return 0; /* OP_TEXT never survives parsing */
    }
}

const pol_version *pol_version_on(const pol_programme *p, int32_t day)
{
    for (int i = 0; i < p->nver; i++)
        if (p->ver[i].from <= day && day <= p->ver[i].to) return &p->ver[i];
    return NULL;
}

int pol_match(const pol_programme *p, const pol_version *v, const pol_facts *facts, int *failed)
{
    for (int i = 0; i < v->ncrit; i++)
        if (!pol_eval(p, v->crit[i].expr, facts)) {
            if (failed) *failed = i;
            return -1;
        }
    for (int i = 0; i < v->ntier; i++)
        if (pol_eval(p, v->tier[i].expr, facts)) return i;
    return -2;
}

static json_t *inputs_json(uint32_t uses, const pol_facts *facts)
{
    json_t *o = json_object();
    for (int i = 0; i < F_COUNT; i++) {
        if (!(uses & (1u << i))) continue;
        char text[64];
        pol_fact_text(i, facts, text, sizeof text);
        json_object_set_new(o, pol_fact(i)->name, json_string(text));
    }
    return o;
}

json_t *pol_yuan_json(int64_t fen)
{
    char yuan[32];
    validate_money_text(fen, yuan, sizeof yuan);
    return json_string(yuan);
}

static json_t *money_json(int64_t fen)
{
    return json_pack("{sIso}", "fen", (json_int_t)fen, "yuan", pol_yuan_json(fen));
}

int pol_decide(const pol_programme *p, int32_t day, const pol_facts *facts, int *version, int *tier,
               json_t **trace, ql_err *err)
{
    char d[16];
    date_format(day, d, sizeof d);
    const pol_version *v = pol_version_on(p, day);
    *trace = NULL;
    *tier = -1;
    if (!v)
        return ql_errf(err, QL_ENOTFOUND, "date", "no version of %s is in force on %s",
                       "%s 在 %s 没有生效的版本", p->code, d);
    *version = (int)(v - p->ver);
    json_t *crit = json_array();
    bool all_passed = true;
    for (int i = 0; i < v->ncrit; i++) {
        const pol_criterion *c = &v->crit[i];
        bool passed = pol_eval(p, c->expr, facts) != 0;
        all_passed = all_passed && passed;
        json_array_append_new(crit,
                              json_pack("{sssssbsosssssi}", "id", c->id, "clause", c->clause,
                                        "passed", passed, "inputs", inputs_json(c->uses, facts),
                                        "zh", c->zh, "en", c->en, "line", c->line));
    }
    bool eligible = all_passed;
    json_t *tier_trace = json_null();
    if (eligible) {
        for (int i = 0; i < v->ntier; i++)
            if (pol_eval(p, v->tier[i].expr, facts)) {
                *tier = i;
                break;
            }
        if (*tier >= 0) {
            const pol_tier *t = &v->tier[*tier];
            json_t *sched = json_array();
            int from = 1;
            for (int s = 0; s < t->nsteps; s++) {
                json_t *m = money_json(t->steps[s].fen);
                json_object_set_new(m, "from_month", json_integer(from));
                json_object_set_new(m, "months", json_integer(t->steps[s].months));
                json_array_append_new(sched, m);
                from += t->steps[s].months;
            }
            tier_trace = json_pack("{sssssosssssiso}", "id", t->id, "clause", t->clause, "inputs",
                                   inputs_json(t->uses, facts), "zh", t->zh, "en", t->en, "line",
                                   t->line, "schedule", sched);
        } else {
            eligible = false;
        }
    }
    json_t *caps = json_object();
    if (v->cap_months) json_object_set_new(caps, "months", json_integer(v->cap_months));
    if (v->cap_month) json_object_set_new(caps, "month", money_json(v->cap_month));
    if (v->cap_year) json_object_set_new(caps, "year", money_json(v->cap_year));
    if (v->cap_rent) json_object_set_new(caps, "rent", json_true());
    *trace = json_pack("{sssssssssssbsosssbsosososi}", "programme", p->code, "version", v->id,
                       "basis", v->basis, "date", d, "payee", pol_payee_name(v->payee), "eligible",
                       eligible, "tier", *tier >= 0 ? json_string(v->tier[*tier].id) : json_null(),
                       "prorate", pol_prorate_name(v->prorate), "no_tier_matched",
                       all_passed && *tier < 0, "criteria", crit, "tier_trace", tier_trace, "caps",
                       caps, "version_line", v->line);
    return 0;
}
