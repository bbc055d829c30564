/* facts.c - the facts a policy expression can name, and their enumerations. */
#include "policy/rules.h"

#include "core/date.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>

static const char *const degree_values[] = {"other", "bachelor", "master", "doctor", NULL};
static const char *const level_values[] = {"none", "A", "B", "C", NULL};
static const char *const industry_values[] = {"ai",
                                              "life_health",
                                              "fintech",
                                              "advanced_manufacturing",
                                              "digital_economy",
                                              "culture_creative",
                                              "other",
                                              "none",
                                              NULL};
static const char *const unit_kind_values[] = {"talent_apartment", "affordable_rental", "market",
                                               "none", NULL};

static const char *const *const enums[PE_COUNT] = {degree_values, level_values, industry_values,
                                                   unit_kind_values};

#define MONEY_MAX INT64_C(100000000000) /* 1e9 yuan: the range the checks try */

static const pol_fact_info facts[F_COUNT] = {
    [F_EDUCATION] = {"education", PT_ENUM, PE_DEGREE, 0, 3, "最高学历", "highest degree"},
    [F_AGE] = {"age", PT_INT, PE_NONE, 0, 150, "年龄（周岁）", "age in full years"},
    [F_LEVEL] = {"level", PT_ENUM, PE_LEVEL, 0, 3, "人才类别", "talent category"},
    [F_EMPLOYED] = {"employed", PT_BOOL, PE_NONE, 0, 1, "在职", "employed"},
    [F_EMPLOYER_REGISTERED] = {"employer_registered", PT_BOOL, PE_NONE, 0, 1, "单位在本区注册",
                               "employer registered in the district"},
    [F_EMPLOYER_TAXED] = {"employer_taxed", PT_BOOL, PE_NONE, 0, 1, "单位在本区纳税",
                          "employer taxed in the district"},
    [F_EMPLOYER_KEY] = {"employer_key", PT_BOOL, PE_NONE, 0, 1, "重点企业", "key enterprise"},
    [F_EMPLOYER_INDUSTRY] = {"employer_industry", PT_ENUM, PE_INDUSTRY, 0, 7, "单位所属产业",
                             "employer's industry"},
    [F_EMPLOYED_MONTHS] = {"employed_months", PT_INT, PE_NONE, 0, 1200, "在本单位工作月数",
                           "months with the present employer"},
    [F_INSURANCE_MONTHS] = {"insurance_months", PT_INT, PE_NONE, 0, 1200, "本区连续社保月数",
                            "continuous months of social insurance in the district"},
    [F_OWNS_HOUSING] = {"owns_housing", PT_BOOL, PE_NONE, 0, 1, "本人在沪有房",
                        "owns housing in Shanghai"},
    [F_FAMILY_OWNS_HOUSING] = {"family_owns_housing", PT_BOOL, PE_NONE, 0, 1,
                               "配偶或未成年子女在沪有房",
                               "spouse or a minor child owns housing in Shanghai"},
    [F_OTHER_BENEFIT] = {"other_housing_benefit", PT_BOOL, PE_NONE, 0, 1, "享受其他住房保障",
                         "receives another housing benefit"},
    [F_LEASE_ACTIVE] = {"lease_active", PT_BOOL, PE_NONE, 0, 1, "有在租租约",
                        "has a current lease"},
    [F_LEASE_FILED] = {"lease_filed", PT_BOOL, PE_NONE, 0, 1, "租约已网签备案",
                       "the lease is filed"},
    [F_LEASE_KIND] = {"lease_kind", PT_ENUM, PE_UNIT_KIND, 0, 3, "租住房源类型",
                      "kind of the rented unit"},
    [F_RENT] = {"rent", PT_MONEY, PE_NONE, 0, MONEY_MAX, "月租金", "monthly rent"},
    [F_MONTHS_RECEIVED] = {"months_received", PT_INT, PE_NONE, 0, 1200, "已享受补贴月数",
                           "months of this subsidy received"},
};

int pol_fact_find(const char *name, size_t n)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(facts[i].name) == n && memcmp(facts[i].name, name, n) == 0) return i;
    return -1;
}

const pol_fact_info *pol_fact(int id)
{
    return id >= 0 && id < F_COUNT ? &facts[id] : NULL;
}

int pol_enum_count(enum pol_enum e)
{
    if (e < 0 || e >= PE_COUNT) return 0;
    int n = 0;
    while (enums[e][n]) n++;
    return n;
}

const char *pol_enum_value(enum pol_enum e, int i)
{
    if (i < 0 || i >= pol_enum_count(e)) return NULL;
    return enums[e][i];
}

int pol_enum_find(enum pol_enum e, const char *name, size_t n)
{
    for (int i = 0; i < pol_enum_count(e); i++)
        if (strlen(enums[e][i]) == n && memcmp(enums[e][i], name, n) == 0) return i;
    return -1;
}

void pol_facts_clear(pol_facts *f)
{
    memset(f, 0, sizeof *f);
    f->v[F_LEVEL] = pol_enum_find(PE_LEVEL, "none", 4);
    f->v[F_EMPLOYER_INDUSTRY] = pol_enum_find(PE_INDUSTRY, "none", 4);
    f->v[F_LEASE_KIND] = pol_enum_find(PE_UNIT_KIND, "none", 4);
}

void pol_fact_text(int id, const pol_facts *f, char *out, size_t n)
{
    const pol_fact_info *fi = pol_fact(id);
    if (!fi || n == 0) {
        if (n) out[0] = '\0';
        return;
    }
    int64_t v = f->v[id];
    switch (fi->type) {
    case PT_BOOL:
        snprintf(out, n, "%s", v ? "true" : "false");
        break;
    case PT_MONEY:
        validate_money_text(v, out, n);
        break;
    case PT_DATE:
        date_format((int32_t)v, out, n);
        break;
    case PT_ENUM: {
        const char *s = pol_enum_value(fi->enumeration, (int)v);
        snprintf(out, n, "%s", s ? s : "?");
        break;
    }
    default:
        snprintf(out, n, "%lld", (long long)v);
        break;
    }
}
