/* amount.c - one month's amount of a subsidy, step by step. */
#include "policy/rules.h"

#include "core/date.h"
#include "core/validate.h"

#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 4, 6), format(printf, 5, 6))) static void
step(json_t *steps, const char *name, int64_t fen, const char *fmt_en, const char *fmt_zh, ...)
{
    if (!steps) return;
    char en[POL_TEXT_MAX], zh[POL_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt_zh);
    ql_vformat2(en, sizeof en, zh, sizeof zh, fmt_en, fmt_zh, ap);
    va_end(ap);
    char yuan[32];
    validate_money_text(fen, yuan, sizeof yuan);
    json_array_append_new(steps, json_pack("{sssIssssss}", "step", name, "fen", (json_int_t)fen,
                                           "yuan", yuan, "en", en, "zh", zh));
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int pol_month_amount(const pol_version *v, int tier, const pol_month_in *in, bool want_steps,
                     pol_month_out *out, ql_err *err)
{
    out->fen = 0;
    out->index = 0;
    out->days = 0;
    out->steps = NULL;
    if (tier < 0 || tier >= v->ntier)
        return ql_errf(err, QL_EINVAL, "tier", "version %s has no tier %d", "版本 %s 没有第 %d 档",
                       v->id, tier);
    if (in->start > in->end)
        return ql_errf(err, QL_EINVAL, "start", "the period starts after it ends",
                       "期间的开始晚于结束");
    const pol_tier *t = &v->tier[tier];
    int y, m, d;
    date_to_ymd(in->month, &y, &m, &d);
    int32_t first = date_month_first(in->month), last = date_month_last(in->month);
    out->dim = (int)(last - first + 1);
    json_t *steps = want_steps ? json_array() : NULL;
    out->steps = steps;

    /* 1. the days of the month the subsidy covers */
    int32_t a = in->start > first ? in->start : first;
    int32_t b = in->end < last ? in->end : last;
    out->days = b >= a ? (int)(b - a + 1) : 0;
    int excluded = in->excluded_days < 0 ? 0 : in->excluded_days;
    int unemployed = in->unemployed_days < 0 ? 0 : in->unemployed_days;
    out->days = excluded + unemployed >= out->days ? 0 : out->days - excluded - unemployed;
    if (out->days && steps) {
        char sa[16], sb[16];
        date_format(a, sa, sizeof sa);
        date_format(b, sb, sizeof sb);
        if (unemployed)
            step(steps, "coverage", 0,
                 "%04d-%02d: covered %s to %s, %d of %d days (%d suspended, %d not employed)",
                 "%04d-%02d：覆盖 %s 至 %s，%d 天（当月共 %d 天，暂停 %d 天，未在职 %d 天）", y, m,
                 sa, sb, out->days, out->dim, excluded, unemployed);
        else
            step(steps, "coverage", 0, "%04d-%02d: covered %s to %s, %d of %d days (%d suspended)",
                 "%04d-%02d：覆盖 %s 至 %s，%d 天（当月共 %d 天，暂停 %d 天）", y, m, sa, sb,
                 out->days, out->dim, excluded);
    } else if (steps && unemployed) {
        step(steps, "coverage", 0,
             "%04d-%02d: no day of the month is covered (%d suspended, %d not employed)",
             "%04d-%02d：当月没有覆盖的日子（暂停 %d 天，未在职 %d 天）", y, m, excluded,
             unemployed);
    } else if (steps) {
        step(steps, "coverage", 0, "%04d-%02d: no day of the month is covered",
             "%04d-%02d：当月没有覆盖的日子", y, m);
    }
    if (out->days == 0) return 0;
    if (v->prorate == PRORATE_WHOLE && out->days < out->dim) {
        step(steps, "prorate", 0, "a partial month is not paid (prorate whole)",
             "不足整月不予发放（按整月计）");
        return 0;
    }

    /* 2. the month's place in the schedule, and the cap on months */
    int index = in->months_before + 1;
    if (v->cap_months && index > v->cap_months) {
        step(steps, "cap_months", 0, "month %d is beyond the cap of %d months",
             "第 %d 个月超过 %d 个月的上限", index, v->cap_months);
        return 0;
    }
    int64_t base = 0;
    int from = 1, s;
    for (s = 0; s < t->nsteps; s++) {
        if (index < from + t->steps[s].months) {
            base = t->steps[s].fen;
            break;
        }
        from += t->steps[s].months;
    }
    if (s == t->nsteps) {
        step(steps, "schedule", 0, "month %d is after tier %s's schedule ends",
             "第 %d 个月已超出档次 %s 的发放安排", index, t->id);
        return 0;
    }
    out->index = index;
    char yb[32] = "";
    if (steps) validate_money_text(base, yb, sizeof yb);
    step(steps, "schedule", base, "month %d of the subsidy: tier %s pays %s a month (months %d-%d)",
         "补贴第 %d 个月：档次 %s 每月 %s 元（第 %d–%d 个月）", index, t->id, yb, from,
         from + t->steps[s].months - 1);

    /* 3. pro-rating by days covered, rounded half up to the fen */
    int64_t amount = base;
    if (out->days < out->dim) {
        int64_t num;
        if (__builtin_mul_overflow(base, (int64_t)out->days * 2, &num) ||
            __builtin_add_overflow(num, (int64_t)out->dim, &num))
            return ql_errf(err, QL_EINVAL, "amount", "the amount is too large to pro-rate",
                           "金额过大，无法按天折算");
        amount = num / (2 * (int64_t)out->dim);
        char ya[32] = "";
        if (steps) validate_money_text(amount, ya, sizeof ya);
        step(steps, "prorate", amount, "%s x %d / %d days = %s (rounded half up to the fen)",
             "%s × %d ÷ %d 天 = %s（四舍五入到分）", yb, out->days, out->dim, ya);
    }

    /* 4. caps */
    char yc[32] = "";
    if (v->cap_month && amount > v->cap_month) {
        amount = v->cap_month;
        if (steps) validate_money_text(amount, yc, sizeof yc);
        step(steps, "cap_month", amount, "capped at %s a month", "每月上限 %s 元", yc);
    }
    if (v->cap_rent && amount > in->rent) {
        amount = in->rent < 0 ? 0 : in->rent;
        if (steps) validate_money_text(amount, yc, sizeof yc);
        step(steps, "cap_rent", amount, "capped at the month's rent, %s", "不超过当月租金 %s 元",
             yc);
    }
    if (v->cap_year) {
        int64_t room = v->cap_year - in->paid_year_before;
        if (room < 0) room = 0;
        if (amount > room) {
            amount = min64(amount, room);
            char yp[32] = "";
            if (steps) validate_money_text(in->paid_year_before, yp, sizeof yp);
            if (steps) validate_money_text(amount, yc, sizeof yc);
            step(steps, "cap_year", amount, "the yearly cap leaves %s (paid %s this year)",
                 "年度上限剩余 %s 元（本年已发 %s 元）", yc, yp);
        }
    }
    out->fen = amount;
    if (steps) validate_money_text(amount, yc, sizeof yc);
    step(steps, "total", amount, "amount for the month: %s", "本月金额：%s 元", yc);
    return 0;
}
