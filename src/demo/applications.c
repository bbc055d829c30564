/* applications.c - the demo's subsidy rules (the shipped calendar and
 * policies) and applications in every state, made through the workflow
 * service (demo.h). */
#include "demo/demo.h"

#include "calendar/holidays.h"
#include "core/calendar.h"
#include "core/date.h"
#include "core/embed.h"
#include "core/xalloc.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "registry/housing.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int demo_rules(store *s, const actor *a, struct demo_rules_loaded *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_POLICY_MANAGE, err);
    if (rc) return rc;
    cal_year *y = xmalloc(sizeof *y);
    for (unsigned long i = 0; !rc && i < embedded_count; i++) {
        const struct embedded_file *f = &embedded_files[i];
        if (!strncmp(f->path, "data/calendar/", 14) && ends_with(f->path, ".txt")) {
            if ((rc = cal_year_parse(f->data, f->len, f->path, y, err))) break;
            struct holidays_year_info info;
            ql_err e;
            if (holidays_year_info(s, y->year, &info, &e) != QL_ENOTFOUND) continue;
            char digest[65];
            holidays_digest(f->data, f->len, digest);
            struct holidays_load_report rep;
            rc = holidays_load(s, a, y, f->path + 14, digest, NULL, &rep, err);
            out->years += !rc;
        } else if (!strncmp(f->path, "policies/", 9) && ends_with(f->path, ".policy")) {
            pol_programme p;
            rc = pol_parse(f->data, f->len, f->path, &p, err);
            char code[POL_ID_MAX];
            snprintf(code, sizeof code, "%s", p.code);
            pol_free(&p);
            if (rc) break;
            int64_t fid;
            ql_err e;
            if (policy_load_active(s, code, &p, &fid, &e) != QL_ENOTFOUND) {
                pol_free(&p);
                continue;
            }
            pol_free(&p);
            struct policy_saved *sv = xmalloc(sizeof *sv);
            struct policy_activated act;
            rc = policy_save(s, a, f->data, f->len, f->path + 9, sv, err);
            if (!rc) rc = policy_activate(s, a, sv->id, &act, err);
            out->policies += !rc;
            free(sv);
        }
    }
    free(y);
    return rc;
}

/* ---- applicants -------------------------------------------------------- */

struct pools {
    const pol_programme *p;
    const pol_version *v;
    int64_t *ok, *no; /* talents the policy takes (given a filed lease), and does not */
    int *ok_lease;    /* ok[i] has a filed lease for the rest of 2026 */
    int64_t *ok_emp;  /* ok[i]'s employer */
    int64_t nok, nno, cap_ok, cap_no;
    int one_ok, one_has_lease; /* talent 1 (the `talent` account of make run) */
};

/* The pools are drawn on 1 December 2026, after every review of the demo:
 * a person the policy takes then was taken at the review (only age changes
 * with time, and it grows); a person it refuses for a reason other than
 * age was refused at the review as well. */
#define DAY0_Y 2026

static int sort_pool(const struct policy_subject *who, const pol_facts *facts, void *ctx)
{
    struct pools *x = ctx;
    pol_facts f = *facts;
    int had = f.v[F_LEASE_ACTIVE] && f.v[F_LEASE_FILED] &&
              who->lease_end >= date_from_ymd(DAY0_Y, 12, 31);
    f.v[F_LEASE_ACTIVE] = 1;
    f.v[F_LEASE_FILED] = 1;
    if (f.v[F_RENT] == 0) f.v[F_RENT] = 450000;
    int failed = -1;
    int m = pol_match(x->p, x->v, &f, &failed);
    if (who->talent_id == 1) { /* the `talent` account of make run applies itself */
        x->one_ok = m >= 0;
        x->one_has_lease = had;
        return 0;
    }
    if (m >= 0) {
        if (x->nok == x->cap_ok) {
            x->cap_ok = x->cap_ok ? x->cap_ok * 2 : 256;
            x->ok = xrealloc(x->ok, (size_t)x->cap_ok * sizeof *x->ok);
            x->ok_lease = xrealloc(x->ok_lease, (size_t)x->cap_ok * sizeof *x->ok_lease);
            x->ok_emp = xrealloc(x->ok_emp, (size_t)x->cap_ok * sizeof *x->ok_emp);
        }
        x->ok_lease[x->nok] = had;
        x->ok_emp[x->nok] = who->employer_id;
        x->ok[x->nok++] = who->talent_id;
    } else if (who->employer_id && failed >= 0 && strcmp(x->v->crit[failed].id, "age")) {
        if (x->nno == x->cap_no) {
            x->cap_no = x->cap_no ? x->cap_no * 2 : 256;
            x->no = xrealloc(x->no, (size_t)x->cap_no * sizeof *x->no);
        }
        x->no[x->nno++] = who->talent_id;
    }
    return 0;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Swaps entries i and j of the eligible pool. */
static void swap_ok(struct pools *x, int64_t i, int64_t j)
{
    int64_t t = x->ok[i];
    x->ok[i] = x->ok[j];
    x->ok[j] = t;
    int f = x->ok_lease[i];
    x->ok_lease[i] = x->ok_lease[j];
    x->ok_lease[j] = f;
    t = x->ok_emp[i];
    x->ok_emp[i] = x->ok_emp[j];
    x->ok_emp[j] = t;
}

/* Shuffles both pools with the seed. */
static void shuffle(struct pools *x, uint64_t *seed)
{
    for (int64_t i = x->nok - 1; i > 0; i--)
        swap_ok(x, i, (int64_t)(splitmix(seed) % (uint64_t)(i + 1)));
    for (int64_t i = x->nno - 1; i > 0; i--) {
        int64_t j = (int64_t)(splitmix(seed) % (uint64_t)(i + 1));
        int64_t t = x->no[i];
        x->no[i] = x->no[j];
        x->no[j] = t;
    }
}

/* Where applications stop, in this order: every state, active most often. */
static const enum app_state pattern[] = {
    AS_ACTIVE,   AS_NOTICE,   AS_REJECTED, AS_ACTIVE,    AS_SUBMITTED, AS_ATTESTED, AS_ACCEPTED,
    AS_REVIEWED, AS_APPROVED, AS_ACTIVE,   AS_SUSPENDED, AS_ENDED,     AS_DRAFT,    AS_WITHDRAWN,
    AS_ACTIVE,   AS_NOTICE,   AS_ACTIVE,   AS_REJECTED,  AS_ACTIVE,    AS_REVIEWED,
};
#define PATTERN_N ((int64_t)(sizeof pattern / sizeof pattern[0]))

struct walker {
    store *s;
    const actor *cli;
    actor second; /* approves and settles objections: not who reviewed (four eyes) */
    actor self;   /* the applicant */
    ql_err *err;
};

static int act(struct walker *w, const actor *who, int64_t id, enum app_action a, const char *why,
               int32_t today, int32_t effective)
{
    struct app_step st = {a, why, NULL, today, effective};
    struct app_result res;
    return subsidy_transition(w->s, who, id, &st, &res, w->err);
}

/* A filed lease of a market flat outside the platform, March 2026 to
 * February 2027, for applicant talent (k numbers the address). */
static int market_lease(struct walker *w, int64_t talent, int64_t k)
{
    static const char *const roads[] = {"漕溪北路", "天钥桥路", "宜山路", "虹桥路",
                                        "龙华中路", "中山西路", "凯旋路", "钦州路"};
    char tid[24], address[160], filing[32], rent[16];
    snprintf(tid, sizeof tid, "%lld", (long long)talent);
    snprintf(address, sizeof address, "徐汇区%s %lld 弄 %lld 号 %lld 室",
             roads[k % (int64_t)(sizeof roads / sizeof roads[0])], (long long)(100 + k % 700),
             (long long)(1 + k % 30), (long long)(101 + (k * 7) % 1500));
    snprintf(filing, sizeof filing, "WQ2026-%08lld", (long long)(90000000 + k));
    snprintf(rent, sizeof rent, "%lld", (long long)(3800 + (k * 130) % 4200));
    struct lease_input in = {.talent_id = tid,
                             .address = address,
                             .start_date = "2026-03-01",
                             .end_date = "2027-02-28",
                             .signed_date = "2026-02-20",
                             .rent = rent,
                             .deposit = rent,
                             .filing_no = filing,
                             .filed_date = "2026-02-26"};
    int64_t id;
    reg_report rep;
    return registry_lease_create(w->s, w->cli, &in, &id, &rep, w->err);
}

/* Walks application id of talent t to target, starting on day s. */
static int walk(struct walker *w, int64_t t, enum app_state target, int32_t s, int64_t k,
                int64_t *out_id)
{
    char sid[24], ref[24];
    snprintf(sid, sizeof sid, "%lld", (long long)t);
    snprintf(w->self.scope_id, sizeof w->self.scope_id, "%s", sid);
    struct app_declare d = {0, 0, target != AS_DRAFT || (k % 2)};
    int64_t id;
    int rc = subsidy_create(w->s, &w->self, "district-rent", 0, &d, s, &id, ref, w->err);
    if (rc) return rc;
    *out_id = id;
    if (target == AS_DRAFT) return 0;
    if ((rc = act(w, &w->self, id, AA_SUBMIT, NULL, s, 0))) return rc;
    if (target == AS_SUBMITTED) return 0;
    if (target == AS_WITHDRAWN)
        return act(w, &w->self, id, AA_WITHDRAW, "已另行租住单位宿舍", s + 2, 0);
    if ((rc = act(w, w->cli, id, AA_ATTEST, NULL, s + 1, 0))) return rc;
    if (target == AS_ATTESTED) return 0;
    if ((rc = act(w, w->cli, id, AA_ACCEPT, NULL, s + 3, 0))) return rc;
    if (target == AS_ACCEPTED) return 0;
    if ((rc = act(w, w->cli, id, AA_REVIEW, NULL, s + 7, 0))) return rc;
    if (target == AS_REVIEWED) return 0;
    if (target == AS_REJECTED) {
        if ((rc = act(w, w->cli, id, AA_REJECT, NULL, s + 8, 0))) return rc;
        if (k % 3) return 0;
        /* one in three appeals; the review stands */
        if ((rc = act(w, &w->self, id, AA_APPEAL, "请复核认定的条件", s + 12, 0)) ||
            (rc = act(w, w->cli, id, AA_REVIEW, NULL, s + 16, 0)))
            return rc;
        return act(w, w->cli, id, AA_REJECT, "经复核，维持原审核结论", s + 17, 0);
    }
    if ((rc = act(w, w->cli, id, AA_PUBLISH, NULL, s + 8, 0))) return rc;
    json_t *app;
    if ((rc = subsidy_get(w->s, w->cli, id, s + 8, &app, w->err))) return rc;
    int32_t from = 0, to = 0;
    date_parse(json_string_value(json_object_get(app, "notice_from")), &from);
    date_parse(json_string_value(json_object_get(app, "notice_to")), &to);
    json_decref(app);
    if (k % 4 == 1) { /* an objection, looked into and dismissed */
        int64_t oid;
        if ((rc = subsidy_object(w->s, w->cli, id, "电话反映", "反映申请人可能在外区有住房", from,
                                 &oid, w->err)) ||
            (target != AS_NOTICE &&
             (rc = subsidy_settle(w->s, &w->second, oid, false,
                                  "经核实，申请人及家庭在本市无自有住房", w->err))))
            return rc;
    }
    if (target == AS_NOTICE) return 0;
    if ((rc = act(w, &w->second, id, AA_APPROVE, NULL, to + 1, 0))) return rc;
    if (target == AS_APPROVED) return 0;
    int32_t start = date_month_last(to + 1) + 1; /* the first of the next month */
    if ((rc = act(w, w->cli, id, AA_ACTIVATE, NULL, to + 2, start))) return rc;
    if (target == AS_SUSPENDED)
        return act(w, w->cli, id, AA_SUSPEND, "租约续签备案核查中", start + 45, 0);
    if (target == AS_ENDED)
        return act(w, w->cli, id, AA_END, "已在本市购买住房", start + 75, start + 74);
    return 0;
}

/* The first day of the walk towards target, spread by k. */
static int32_t start_day(enum app_state target, int64_t k)
{
    switch (target) {
    case AS_ACTIVE:
    case AS_SUSPENDED:
    case AS_ENDED:
        return date_from_ymd(2026, 5, 11) + (int32_t)((k * 3) % 60);
    case AS_APPROVED:
        return date_from_ymd(2026, 9, 1) + (int32_t)(k % 20);
    case AS_NOTICE:
        return date_from_ymd(2026, 11, 9) + (int32_t)(k % 8);
    case AS_REJECTED:
        return date_from_ymd(2026, 8, 3) + (int32_t)(k % 40);
    default:
        return date_from_ymd(2026, 11, 2) + (int32_t)(k % 20);
    }
}

int demo_applications(store *s, const actor *a, uint64_t seed, int64_t count, struct demo_apps *out,
                      ql_err *err)
{
    memset(out, 0, sizeof *out);
    pol_programme p;
    int64_t fid;
    int rc = policy_load_active(s, "district-rent", &p, &fid, err);
    if (rc) {
        pol_free(&p);
        return rc;
    }
    int32_t day0 = date_from_ymd(DAY0_Y, 12, 1);
    struct pools x;
    memset(&x, 0, sizeof x);
    x.p = &p;
    x.v = pol_version_on(&p, day0);
    if (!x.v) {
        pol_free(&p);
        return ql_errf(err, QL_ENOTFOUND, "policy",
                       "the district policy has no version in force "
                       "in 2026",
                       "区补贴政策在 2026 年没有生效的版本");
    }
    rc = policy_registry_facts(s, day0, sort_pool, &x, err);
    uint64_t st = seed ^ 0x5A5A5A5A12345678ull;
    if (!rc) shuffle(&x, &st);
    struct walker w = {s, a, *a, *a, err};
    /* a second person of the district's staff approves what a reviewed */
    w.second.user_id = 0;
    snprintf(w.second.username, sizeof w.second.username, "demo:approver");
    w.self.scope = SCOPE_SELF;
    w.self.roles = 1u << ROLE_TALENT;
    w.self.perms = role_perms(ROLE_TALENT);
    w.self.user_id = 0;
    snprintf(w.self.username, sizeof w.self.username, "demo:applicant");
    /* the demo's own applicant: a filed lease too, when the policy would
     * take them with one */
    if (!rc && count > 0 && x.one_ok && !x.one_has_lease) {
        rc = market_lease(&w, 1, count);
        out->leases += !rc;
    }
    int64_t iok = 0, ino = 0;
    for (int64_t k = 0; !rc && k < count; k++) {
        enum app_state target = pattern[k % PATTERN_N];
        int64_t t;
        if (target == AS_REJECTED) {
            if (ino >= x.nno) continue;
            t = x.no[ino++];
        } else {
            if (iok >= x.nok) break;
            /* something for the first employer's HR account (hr.acme of
             * make run) to attest: the first submitted one is its staff's */
            if (target == AS_SUBMITTED && k < PATTERN_N)
                for (int64_t j = iok; j < x.nok; j++)
                    if (x.ok_emp[j] == 1) {
                        swap_ok(&x, iok, j);
                        break;
                    }
            if (!x.ok_lease[iok]) {
                if ((rc = market_lease(&w, x.ok[iok], k))) break;
                out->leases++;
            }
            t = x.ok[iok++];
        }
        int64_t id = 0;
        rc = walk(&w, t, target, start_day(target, k), k, &id);
        if (!rc) {
            out->applications++;
            out->by_state[target]++;
        }
    }
    free(x.ok);
    free(x.ok_lease);
    free(x.ok_emp);
    free(x.no);
    pol_free(&p);
    return rc;
}
