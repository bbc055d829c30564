/* fuzz_policy.c - libFuzzer target: policy files and their expressions,
 * which must be accepted or refused with a message naming the place, never
 * crash. An accepted programme must survive the static checks, decide for
 * a few applicants (each decision's eligibility agrees with the fast path)
 * and compute a month for every tier. */
#include "policy/rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pol_programme p;
    ql_err err;
    memset(&err, 0, sizeof err);
    int rc = pol_parse((const char *)data, size, "fuzz.policy", &p, &err);
    if (rc) {
        if (!err.en[0] || !err.zh[0] || strncmp(err.en, "fuzz.policy:", 12)) __builtin_trap();
        pol_free(&p);
        return 0;
    }
    pol_issues is;
    pol_check(&p, &is);
    char *text = pol_issues_text(&p, &is);
    free(text);
    for (int who = 0; who < 4; who++) {
        pol_facts f;
        pol_facts_clear(&f);
        for (int i = 0; i < F_COUNT; i++) {
            const pol_fact_info *fi = pol_fact(i);
            int64_t span = fi->max - fi->min + 1;
            f.v[i] = fi->min + (int64_t)((uint64_t)(who * 7919 + i * 104729) % (uint64_t)span);
        }
        for (int vi = 0; vi < p.nver; vi++) {
            const pol_version *v = &p.ver[vi];
            int version, tier;
            json_t *trace = NULL;
            if (pol_decide(&p, v->from, &f, &version, &tier, &trace, &err)) __builtin_trap();
            int fast = pol_match(&p, &p.ver[version], &f, NULL);
            if ((fast >= 0) != json_is_true(json_object_get(trace, "eligible"))) __builtin_trap();
            if (fast >= 0 && fast != tier) __builtin_trap();
            json_decref(trace);
            for (int t = 0; t < v->ntier; t++) {
                pol_month_in in = {v->from, v->from, POL_OPEN_END, who * 5, 0, 100000, 0, 0};
                pol_month_out out;
                if (pol_month_amount(v, t, &in, true, &out, &err)) __builtin_trap();
                if (out.fen < 0) __builtin_trap();
                json_decref(out.steps);
            }
        }
    }
    pol_free(&p);
    return 0;
}
