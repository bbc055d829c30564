/* subsidy.c - the application workflow (subsidy.h). */
#include "subsidy/subsidy.h"

#include "audit/audit.h"
#include "calendar/holidays.h"
#include "core/buf.h"
#include "core/calendar.h"
#include "core/date.h"
#include "core/log.h"
#include "core/pii.h"
#include "core/text.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "policy/policy.h"
#include "policy/simulate.h"
#include "registry/registry.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REASON_MAX 2000

static const struct {
    const char *name, *zh, *en;
} states[AS_COUNT] = {
    [AS_DRAFT] = {"draft", "草稿", "Draft"},
    [AS_SUBMITTED] = {"submitted", "已提交", "Submitted"},
    [AS_ATTESTED] = {"attested", "单位已确认", "Attested by the employer"},
    [AS_ACCEPTED] = {"accepted", "窗口已受理", "Accepted at a window"},
    [AS_REVIEWED] = {"reviewed", "已审核", "Reviewed"},
    [AS_NOTICE] = {"notice", "公示中", "Under public notice"},
    [AS_APPROVED] = {"approved", "已批准", "Approved"},
    [AS_REJECTED] = {"rejected", "未通过", "Rejected"},
    [AS_ACTIVE] = {"active", "发放中", "Active"},
    [AS_SUSPENDED] = {"suspended", "已暂停", "Suspended"},
    [AS_ENDED] = {"ended", "已终止", "Ended"},
    [AS_WITHDRAWN] = {"withdrawn", "已撤回", "Withdrawn"},
};

#define S(x) (1u << (x))

/* Who may take an action: the applicant, the employer, or district staff. */
enum who { W_SELF, W_EMPLOYER, W_DISTRICT };

static const struct action_rule {
    const char *name, *zh, *en;
    unsigned from; /* states it starts from */
    enum app_state to;
    enum perm perm;
    enum who who;
    int need_reason;
} rules[AA_COUNT] = {
    [AA_SUBMIT] = {"submit", "提交", "Submit", S(AS_DRAFT), AS_SUBMITTED, P_SUBSIDY_APPLY, W_SELF,
                   0},
    [AA_WITHDRAW] = {"withdraw", "撤回", "Withdraw",
                     S(AS_DRAFT) | S(AS_SUBMITTED) | S(AS_ATTESTED) | S(AS_ACCEPTED), AS_WITHDRAWN,
                     P_SUBSIDY_APPLY, W_SELF, 0},
    [AA_ATTEST] = {"attest", "单位确认", "Attest", S(AS_SUBMITTED), AS_ATTESTED, P_SUBSIDY_ATTEST,
                   W_EMPLOYER, 0},
    /* return: the employer from submitted, a window from attested or
     * accepted (return_allowed) */
    [AA_RETURN] = {"return", "退回修改", "Return",
                   S(AS_SUBMITTED) | S(AS_ATTESTED) | S(AS_ACCEPTED), AS_DRAFT, P_SUBSIDY_ATTEST,
                   W_EMPLOYER, 1},
    [AA_ACCEPT] = {"accept", "窗口受理", "Accept", S(AS_ATTESTED), AS_ACCEPTED, P_WINDOW_ACCEPT,
                   W_DISTRICT, 0},
    [AA_REVIEW] = {"review", "审核", "Review", S(AS_ACCEPTED), AS_REVIEWED, P_SUBSIDY_REVIEW,
                   W_DISTRICT, 0},
    [AA_PUBLISH] = {"publish", "公示", "Publish the notice", S(AS_REVIEWED), AS_NOTICE,
                    P_SUBSIDY_REVIEW, W_DISTRICT, 0},
    [AA_APPROVE] = {"approve", "批准", "Approve", S(AS_NOTICE), AS_APPROVED, P_SUBSIDY_REVIEW,
                    W_DISTRICT, 0},
    [AA_REJECT] = {"reject", "不予通过", "Reject",
                   S(AS_SUBMITTED) | S(AS_ATTESTED) | S(AS_ACCEPTED) | S(AS_REVIEWED) |
                       S(AS_NOTICE),
                   AS_REJECTED, P_SUBSIDY_REVIEW, W_DISTRICT, 1},
    [AA_ACTIVATE] = {"activate", "开始发放", "Start payments", S(AS_APPROVED), AS_ACTIVE,
                     P_SUBSIDY_REVIEW, W_DISTRICT, 0},
    [AA_SUSPEND] = {"suspend", "暂停发放", "Suspend", S(AS_ACTIVE), AS_SUSPENDED, P_SUBSIDY_REVIEW,
                    W_DISTRICT, 1},
    [AA_RESUME] = {"resume", "恢复发放", "Resume", S(AS_SUSPENDED), AS_ACTIVE, P_SUBSIDY_REVIEW,
                   W_DISTRICT, 0},
    [AA_END] = {"end", "终止发放", "End", S(AS_ACTIVE) | S(AS_SUSPENDED), AS_ENDED,
                P_SUBSIDY_REVIEW, W_DISTRICT, 1},
    [AA_APPEAL] = {"appeal", "申诉", "Appeal", S(AS_REJECTED), AS_ACCEPTED, P_SUBSIDY_APPLY, W_SELF,
                   1},
};

const char *subsidy_state_name(enum app_state s)
{
    return s < AS_COUNT ? states[s].name : "?";
}
const char *subsidy_state_zh(enum app_state s)
{
    return s < AS_COUNT ? states[s].zh : "?";
}
const char *subsidy_state_en(enum app_state s)
{
    return s < AS_COUNT ? states[s].en : "?";
}
const char *subsidy_action_name(enum app_action a)
{
    return a < AA_COUNT ? rules[a].name : "?";
}
const char *subsidy_action_zh(enum app_action a)
{
    return a < AA_COUNT ? rules[a].zh : "?";
}
const char *subsidy_action_en(enum app_action a)
{
    return a < AA_COUNT ? rules[a].en : "?";
}

int subsidy_state_find(const char *name)
{
    for (int i = 0; name && i < AS_COUNT; i++)
        if (!strcmp(states[i].name, name)) return i;
    return -1;
}

int subsidy_action_find(const char *name)
{
    for (int i = 0; name && i < AA_COUNT; i++)
        if (!strcmp(rules[i].name, name)) return i;
    return -1;
}

/* ---- rows and scope ---------------------------------------------------- */

struct app_row {
    int64_t id, talent_id, employer_id, policy_file_id;
    char ref[41], programme[41], tier[41];
    enum app_state state;
    int family, other, declared, eligible, appeals; /* eligible -1 when not decided */
    int64_t monthly_fen;
    int32_t notice_from, notice_to, start_date, end_date; /* 0 when NULL */
    char *trace;                                          /* malloc'd JSON text or NULL */
    char reasons[REASON_MAX + 1];
};

#define APP_COLUMNS                                                                                \
    "id, ref, programme, talent_id, employer_id, state, family_owns_housing, other_benefit, "      \
    "declared, eligible, appeals, monthly_fen, notice_from, notice_to, start_date, end_date, "     \
    "tier, policy_file_id, trace, reasons"

static void row_read(store_rows *r, struct app_row *a)
{
    memset(a, 0, sizeof *a);
    a->id = store_col_int(r, 0);
    snprintf(a->ref, sizeof a->ref, "%s", store_col_text(r, 1, NULL));
    snprintf(a->programme, sizeof a->programme, "%s", store_col_text(r, 2, NULL));
    a->talent_id = store_col_int(r, 3);
    a->employer_id = store_col_int(r, 4);
    int st = subsidy_state_find(store_col_text(r, 5, NULL));
    a->state = st < 0 ? AS_DRAFT : (enum app_state)st;
    a->family = (int)store_col_int(r, 6);
    a->other = (int)store_col_int(r, 7);
    a->declared = (int)store_col_int(r, 8);
    a->eligible = store_col_isnull(r, 9) ? -1 : (int)store_col_int(r, 9);
    a->appeals = (int)store_col_int(r, 10);
    a->monthly_fen = store_col_int(r, 11);
    a->notice_from = (int32_t)store_col_int(r, 12);
    a->notice_to = (int32_t)store_col_int(r, 13);
    a->start_date = (int32_t)store_col_int(r, 14);
    a->end_date = store_col_isnull(r, 15) ? 0 : (int32_t)store_col_int(r, 15);
    snprintf(a->tier, sizeof a->tier, "%s", store_col_text(r, 16, NULL));
    a->policy_file_id = store_col_int(r, 17);
    if (!store_col_isnull(r, 18)) a->trace = xstrdup(store_col_text(r, 18, NULL));
    snprintf(a->reasons, sizeof a->reasons, "%s", store_col_text(r, 19, NULL));
}

static void row_free(struct app_row *a)
{
    free(a->trace);
    a->trace = NULL;
}

static int not_found(ql_err *err, int64_t id)
{
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no application %lld",
                   "不存在编号为 %lld 的申请", (long long)id);
}

/* Is application a within actor's scope? */
static int in_scope(store *s, const actor *who, const struct app_row *a, int *yes)
{
    enum scope_kind kind;
    int64_t sid;
    int rc = registry_scope(s, who, &kind, &sid);
    if (rc) return rc;
    switch (kind) {
    case SCOPE_DISTRICT:
    case SCOPE_DEPARTMENT:
        *yes = 1;
        break;
    case SCOPE_SELF:
        *yes = sid > 0 && sid == a->talent_id;
        break;
    case SCOPE_EMPLOYER:
        *yes = sid > 0 && sid == a->employer_id;
        break;
    default:
        *yes = 0;
        break;
    }
    return 0;
}

/* Does who take part in the workflow at all, or pay what it decides (the
 * ledger's staff read the decision behind an entitlement, and take no
 * action: every action checks its own permission)? */
static int may_see(const actor *who, ql_err *err)
{
    if (actor_can(who, P_SUBSIDY_APPLY) || actor_can(who, P_SUBSIDY_ATTEST) ||
        actor_can(who, P_WINDOW_ACCEPT) || actor_can(who, P_SUBSIDY_REVIEW) ||
        actor_can(who, P_LEDGER_RUN) || actor_can(who, P_LEDGER_APPROVE) ||
        actor_can(who, P_LEDGER_EXPORT))
        return 0;
    return actor_require(who, P_SUBSIDY_REVIEW, err);
}

/* Loads application id if it is in who's scope (else QL_ENOTFOUND). */
static int load(store *s, const actor *who, int64_t id, struct app_row *a, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s, "SELECT " APP_COLUMNS " FROM applications WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    rc = store_step(r);
    if (rc == 1) row_read(r, a);
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (rc == 0) return not_found(err, id);
    int yes = 0;
    if ((rc = in_scope(s, who, a, &yes))) {
        row_free(a);
        return store_failure(s, rc, "", err);
    }
    if (!yes) {
        row_free(a);
        return not_found(err, id);
    }
    return 0;
}

static int is_district(const actor *who)
{
    return who->scope == SCOPE_DISTRICT || who->scope == SCOPE_DEPARTMENT;
}

/* May who take action x on a as far as permission and role go (the state
 * is checked separately)? Fills err when not. */
static int may(const actor *who, enum app_action x, const struct app_row *a, ql_err *err)
{
    const struct action_rule *ru = &rules[x];
    enum perm p = ru->perm;
    enum who w = ru->who;
    if (x == AA_RETURN && a->state != AS_SUBMITTED) {
        p = P_WINDOW_ACCEPT; /* a window returns what it was given */
        w = W_DISTRICT;
    }
    int rc = actor_require(who, p, err);
    if (rc) return rc;
    int ok = (w == W_SELF && who->scope == SCOPE_SELF) ||
             (w == W_EMPLOYER && (who->scope == SCOPE_EMPLOYER || is_district(who))) ||
             (w == W_DISTRICT && is_district(who));
    if (!ok)
        return ql_errf(err, QL_EFORBIDDEN, "", "%s is not for this account%.0s",
                       "%.0s此账号不能执行“%s”", ru->en, ru->zh);
    return 0;
}

static void states_text(unsigned mask, int zh, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < AS_COUNT; i++) {
        if (!(mask & S(i))) continue;
        int w = snprintf(out + used, n - used, "%s%s", used ? (zh ? "、" : ", ") : "",
                         zh ? states[i].zh : states[i].name);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

/* ---- evaluation -------------------------------------------------------- */

int subsidy_suspensions(store *s, int64_t app, int32_t until, int32_t *from, int32_t *to, int max,
                        int *n, ql_err *err)
{
    *n = 0;
    store_rows *r;
    int rc =
        store_query(s,
                    "SELECT action, effective FROM application_events WHERE application_id = $1 "
                    "AND action IN ('suspend', 'resume') AND effective IS NOT NULL ORDER BY id",
                    (store_val[]){SV_INT(app)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    while ((rc = store_step(r)) == 1) {
        int32_t day = (int32_t)store_col_int(r, 1);
        if (!strcmp(store_col_text(r, 0, NULL), "suspend")) {
            if (*n < max) {
                from[*n] = day;
                to[(*n)++] = until;
            }
        } else if (*n > 0) {
            to[*n - 1] = day - 1;
        }
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", err) : 0;
}

int subsidy_paid_months(store *s, int64_t app, int32_t start, int32_t end, int *out, ql_err *err)
{
    int32_t from[32], to[32];
    int n = 0;
    *out = 0;
    if (end < start) return 0;
    int rc = subsidy_suspensions(s, app, end, from, to, 32, &n, err);
    if (rc) return rc;
    int months = 0;
    for (int32_t m = date_month_first(start); m <= end; m = date_month_last(m) + 1) {
        int32_t a = m > start ? m : start, b = date_month_last(m) < end ? date_month_last(m) : end;
        int paid = 1;
        for (int k = 0; k < n && paid; k++)
            if (from[k] <= a && b <= to[k]) paid = 0;
        months += paid;
    }
    *out = months;
    return 0;
}

/* Months of the programme this person has been paid for before, under
 * earlier applications, up to today. */
static int months_received(store *s, const struct app_row *a, int32_t today, int *out, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, start_date, end_date FROM applications WHERE talent_id = $1 "
                         "AND programme = $2 AND id <> $3 AND start_date IS NOT NULL",
                         (store_val[]){SV_INT(a->talent_id), SV_TEXT(a->programme), SV_INT(a->id)},
                         3, &r);
    if (rc) return store_failure(s, rc, "", err);
    int64_t ids[64];
    int32_t from[64], to[64];
    int n = 0;
    while ((rc = store_step(r)) == 1 && n < 64) {
        ids[n] = store_col_int(r, 0);
        from[n] = (int32_t)store_col_int(r, 1);
        int32_t end = store_col_isnull(r, 2) ? today : (int32_t)store_col_int(r, 2);
        to[n++] = end < today ? end : today;
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    int total = 0;
    for (int i = 0; i < n; i++) {
        int m = 0;
        if ((rc = subsidy_paid_months(s, ids[i], from[i], to[i], &m, err))) return rc;
        total += m;
    }
    *out = total;
    return 0;
}

/* Evaluates a under its programme's active policy on today and writes the
 * decision into the row (inside the transaction). */
static int evaluate(store *s, const struct app_row *a, int32_t today, int *eligible, ql_err *err)
{
    pol_programme p;
    int64_t file_id = 0;
    int rc = policy_load_active(s, a->programme, &p, &file_id, err);
    if (rc) {
        pol_free(&p);
        return rc;
    }
    pol_facts f;
    struct policy_subject who;
    int received = 0, version = -1, tier = -1;
    json_t *trace = NULL;
    if (!(rc = policy_talent_facts(s, a->talent_id, today, &f, &who, err)) &&
        !(rc = months_received(s, a, today, &received, err))) {
        f.v[F_FAMILY_OWNS_HOUSING] = a->family != 0;
        f.v[F_OTHER_BENEFIT] = a->other != 0;
        f.v[F_MONTHS_RECEIVED] = received;
        rc = pol_decide(&p, today, &f, &version, &tier, &trace, err);
    }
    if (rc) {
        pol_free(&p);
        return rc;
    }
    const pol_version *v = &p.ver[version];
    int64_t monthly = 0;
    buf reasons;
    buf_init(&reasons, REASON_MAX);
    *eligible = tier >= 0 && json_is_true(json_object_get(trace, "eligible"));
    if (*eligible) {
        /* a whole month at the place in the schedule this person has reached */
        pol_month_in in = {
            today, date_month_first(today), POL_OPEN_END, received, 0, f.v[F_RENT], 0, 0};
        pol_month_out mo;
        if (!pol_month_amount(v, tier, &in, false, &mo, err)) monthly = mo.fen;
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(trace, "criteria"), i, c)
        {
            if (json_is_true(json_object_get(c, "passed"))) continue;
            buf_printf(&reasons, "%s%s（%s）", reasons.len ? "；" : "",
                       json_string_value(json_object_get(c, "zh")),
                       json_string_value(json_object_get(c, "clause")));
        }
        if (!reasons.len) buf_puts(&reasons, "不属于任何补贴档次");
    }
    json_object_set_new(trace, "policy_file", json_integer(file_id));
    json_object_set_new(trace, "months_received", json_integer(received));
    json_object_set_new(trace, "monthly_fen", json_integer(monthly));
    char *text = json_dumps(trace, JSON_COMPACT);
    char *why = buf_steal(&reasons);
    store_val up[] = {SV_INT(file_id),
                      SV_TEXT(v->id),
                      SV_TEXT(text),
                      SV_INT(*eligible),
                      tier >= 0 ? SV_TEXT(v->tier[tier].id) : SV_NULL,
                      SV_INT(monthly),
                      SV_TEXT(pol_payee_name(v->payee)),
                      SV_TEXT(why),
                      SV_INT(a->id),
                      SV_INT(received)};
    rc = store_exec(s,
                    "UPDATE applications SET policy_file_id = $1, policy_version = $2, trace = $3, "
                    "eligible = $4, tier = $5, monthly_fen = $6, payee = $7, reasons = $8, "
                    "months_received = $10 WHERE id = $9",
                    up, 10, NULL);
    free(text);
    free(why);
    json_decref(trace);
    pol_free(&p);
    return rc ? store_failure(s, rc, "", err) : 0;
}

/* The notice: the 5 working days after today. */
static int notice_days(store *s, int32_t today, int32_t *from, int32_t *to, ql_err *err)
{
    calendar c;
    calendar_init(&c);
    int rc = holidays_read_all(s, &c, err);
    if (!rc) rc = calendar_add_workdays(&c, today, 1, from, err);
    if (!rc) rc = calendar_add_workdays(&c, today, SUBSIDY_NOTICE_DAYS, to, err);
    calendar_free(&c);
    return rc;
}

/* The day application id was last published (the notice began to be
 * shown), or 0. */
static int published_on(store *s, int64_t id, int32_t *day, ql_err *err)
{
    *day = 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT effective FROM application_events WHERE application_id = $1 AND "
                         "action = 'publish' ORDER BY id DESC LIMIT 1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    if ((rc = store_step(r)) == 1) *day = (int32_t)store_col_int(r, 0);
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", err) : 0;
}

/* ---- transitions ------------------------------------------------------- */

struct tx_ctx {
    const actor *who;
    int64_t id;
    const struct app_step *step;
    struct app_result *out;
    ql_err *err;
};

static int count_where(store *s, const char *sql, int64_t id, int64_t *n)
{
    return store_query_int(s, sql, (store_val[]){SV_INT(id)}, 1, n);
}

/* Four eyes on a decision: the account that reviewed (decided) application
 * id last does not also approve it, nor settle an objection to its notice.
 * Accounts are compared, not names (a token and a session of one account
 * are one person). Returns 0, or QL_EFORBIDDEN with err saying so (settle
 * 0: approving, 1: settling). */
static int not_the_reviewer(store *s, const actor *who, int64_t id, const char *ref, int settle,
                            ql_err *err)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT actor, COALESCE(actor_id, 0) FROM application_events WHERE "
                         "application_id = $1 AND action = 'review' ORDER BY id DESC LIMIT 1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    char by[128] = "";
    int same = 0;
    if ((rc = store_step(r)) == 1) {
        snprintf(by, sizeof by, "%s", store_col_text(r, 0, NULL));
        same = actor_same(who, store_col_int(r, 1), by);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (!same) return 0;
    if (settle)
        return ql_errf(err, QL_EFORBIDDEN, "",
                       "application %s was reviewed by %s: another person settles the objections "
                       "to its decision",
                       "申请 %s 由 %s 审核：对该审核结论的异议须由另一人处理", ref, by);
    return ql_errf(err, QL_EFORBIDDEN, "",
                   "application %s was reviewed by %s: another person approves it",
                   "申请 %s 由 %s 审核：须由另一人批准", ref, by);
}

static int action_checks(store *s, struct tx_ctx *x, struct app_row *a, const char *reason)
{
    ql_err *err = x->err;
    const struct app_step *st = x->step;
    int64_t n = 0;
    int rc;
    switch (st->action) {
    case AA_SUBMIT:
        if (!a->declared)
            return ql_errf(err, QL_EINVAL, "declared",
                           "confirm that your statements are true before you submit",
                           "提交前请确认所填信息真实");
        break;
    case AA_PUBLISH:
        if (a->eligible != 1)
            return ql_errf(err, QL_ECONFLICT, "state",
                           "application %s does not meet the conditions: reject it instead of "
                           "publishing it",
                           "申请 %s 不符合条件：应不予通过，而不是公示", a->ref);
        break;
    case AA_APPROVE: {
        if ((rc = not_the_reviewer(s, x->who, a->id, a->ref, 0, err))) return rc;
        char to[16];
        date_format(a->notice_to, to, sizeof to);
        if (st->today <= a->notice_to)
            return ql_errf(err, QL_ECONFLICT, "notice",
                           "the public notice of %s runs until %s: approve after it ends",
                           "申请 %s 的公示期至 %s：须在公示期满后批准", a->ref, to);
        /* the objections to this notice (an appeal starts a new one) */
        int32_t pub = 0;
        if ((rc = published_on(s, a->id, &pub, err))) return rc;
        store_val ov[] = {SV_INT(a->id), SV_INT(pub)};
        if ((rc = store_query_int(s,
                                  "SELECT count(*) FROM objections WHERE application_id = $1 AND "
                                  "received_on >= $2 AND outcome IS NULL",
                                  ov, 2, &n)))
            return store_failure(s, rc, "", err);
        if (n)
            return ql_errf(err, QL_ECONFLICT, "notice",
                           "%lld objection(s) to %s are not settled yet",
                           "尚有 %lld 条异议未处理（申请 %s）", (long long)n, a->ref);
        if ((rc = store_query_int(s,
                                  "SELECT count(*) FROM objections WHERE application_id = $1 AND "
                                  "received_on >= $2 AND outcome = 'upheld'",
                                  ov, 2, &n)))
            return store_failure(s, rc, "", err);
        if (n)
            return ql_errf(err, QL_ECONFLICT, "notice",
                           "an objection to %s was upheld: the application can only be rejected",
                           "申请 %s 的异议已成立：只能不予通过", a->ref);
        break;
    }
    case AA_APPEAL: {
        if (a->appeals)
            return ql_errf(err, QL_ECONFLICT, "state",
                           "application %s was appealed once already; apply again instead",
                           "申请 %s 已申诉过一次；请重新申请", a->ref);
        store_val ov[] = {SV_TEXT(a->programme), SV_INT(a->talent_id)};
        rc = store_query_int(s,
                             "SELECT count(*) FROM applications WHERE programme = $1 AND "
                             "talent_id = $2 AND state NOT IN ('rejected', 'ended', 'withdrawn')",
                             ov, 2, &n);
        if (rc) return store_failure(s, rc, "", err);
        if (n)
            return ql_errf(err, QL_ECONFLICT, "programme",
                           "there is an open application of this programme already: appeal is "
                           "no longer possible",
                           "该项目已有未办结的申请，不能再申诉");
        break;
    }
    case AA_REJECT:
        /* the failed criteria of a decision are reasons enough */
        if (!reason[0] && !(a->state == AS_REVIEWED && a->eligible == 0))
            return ql_errf(err, QL_EINVAL, "reason", "give the reasons for the rejection",
                           "请填写不予通过的理由");
        return 0;
    default:
        break;
    }
    int32_t eff = st->effective ? st->effective : st->today;
    int32_t latest = st->today + 92; /* a quarter ahead at most */
    char d1[16], d2[16];
    switch (st->action) {
    case AA_ACTIVATE:
        if (eff <= a->notice_to || eff > latest) {
            date_format(a->notice_to + 1, d1, sizeof d1);
            date_format(latest, d2, sizeof d2);
            return ql_errf(err, QL_EINVAL, "effective",
                           "payments start on a day from %s (after the notice) to %s",
                           "开始发放日期须在 %s（公示期满后）至 %s 之间", d1, d2);
        }
        break;
    case AA_SUSPEND:
    case AA_RESUME:
    case AA_END: {
        int32_t earliest = st->action == AA_END ? a->start_date - 1 : a->start_date;
        if (eff < earliest || eff > latest) {
            date_format(earliest, d1, sizeof d1);
            date_format(latest, d2, sizeof d2);
            return ql_errf(err, QL_EINVAL, "effective",
                           "the day it takes effect must be from %s to %s",
                           "生效日期须在 %s 至 %s 之间", d1, d2);
        }
        break;
    }
    default:
        break;
    }
    if (rules[st->action].need_reason && !reason[0])
        return ql_errf(err, QL_EINVAL, "reason", "a reason is required to %s", "“%s”须填写理由",
                       rules[st->action].name);
    return 0;
}

static int transition_body(store *s, void *vctx)
{
    struct tx_ctx *x = vctx;
    const struct app_step *st = x->step;
    struct app_result *out = x->out;
    ql_err *err = x->err;
    struct app_row a;
    memset(out, 0, sizeof *out);
    int rc = load(s, x->who, x->id, &a, err);
    if (rc) return rc;
    out->from = out->to = a.state;
    const struct action_rule *ru = &rules[st->action];

    /* the same request again: nothing to do */
    if (st->request_key) {
        store_rows *r;
        rc = store_query(s,
                         "SELECT id, action FROM application_events WHERE application_id = $1 AND "
                         "request_key = $2",
                         (store_val[]){SV_INT(a.id), SV_TEXT(st->request_key)}, 2, &r);
        if (rc) {
            rc = store_failure(s, rc, "", err);
            goto done;
        }
        char used_for[24] = "";
        if ((rc = store_step(r)) == 1) {
            out->unchanged = true;
            out->event_id = store_col_int(r, 0);
            snprintf(used_for, sizeof used_for, "%s", store_col_text(r, 1, NULL));
        }
        store_rows_close(r);
        if (rc < 0) {
            rc = store_failure(s, rc, "", err);
            goto done;
        }
        rc = 0;
        if (out->unchanged && strcmp(used_for, ru->name)) {
            /* the key of another request: this one is not a repeat */
            out->unchanged = false;
            rc = ql_errf(err, QL_ECONFLICT, "request_key",
                         "this request key was used for '%s' on application %s: send a new key",
                         "此请求标识已用于“%s”操作（申请 %s）：请使用新的标识", used_for, a.ref);
            goto done;
        }
        if (out->unchanged) goto done;
    }
    if ((rc = may(x->who, st->action, &a, err))) goto done;
    if (a.state == ru->to && !(ru->from & S(a.state))) {
        /* a repeat of the action that brought it here */
        store_rows *r;
        rc = store_query(s,
                         "SELECT id, action FROM application_events WHERE application_id = $1 "
                         "ORDER BY id DESC LIMIT 1",
                         (store_val[]){SV_INT(a.id)}, 1, &r);
        if (rc) {
            rc = store_failure(s, rc, "", err);
            goto done;
        }
        if ((rc = store_step(r)) == 1 && !strcmp(store_col_text(r, 1, NULL), ru->name)) {
            out->unchanged = true;
            out->event_id = store_col_int(r, 0);
        }
        store_rows_close(r);
        rc = rc < 0 ? store_failure(s, rc, "", err) : 0;
        if (rc || out->unchanged) goto done;
    }
    if (!(ru->from & S(a.state))) {
        char need_en[200], need_zh[200];
        states_text(ru->from, 0, need_en, sizeof need_en);
        states_text(ru->from, 1, need_zh, sizeof need_zh);
        rc = ql_errf(err, QL_ECONFLICT, "state",
                     "application %s is %s; '%s' needs it to be %s%.0s%.0s%.0s",
                     "申请 %s %.0s%.0s%.0s当前为“%s”，“%s”须在以下状态进行：%s", a.ref,
                     states[a.state].name, ru->name, need_en, states[a.state].zh, ru->zh, need_zh);
        goto done;
    }
    char reason[REASON_MAX + 1] = "";
    if (st->reason) {
        size_t n = strlen(st->reason);
        if (n > REASON_MAX) {
            rc = ql_errf(err, QL_EINVAL, "reason", "the reason is longer than %d bytes",
                         "理由超过 %d 字节", REASON_MAX);
            goto done;
        }
        if ((rc = validate_text_block("reason", st->reason, err))) goto done;
        memcpy(reason, st->reason, n);
        reason[n] = '\0';
        /* blanks only is no reason */
        size_t k = strspn(reason, " \t\r\n");
        if (!reason[k]) reason[0] = '\0';
    }
    if ((rc = action_checks(s, x, &a, reason))) goto done;

    /* where it goes: an appeal returns to where the rejection found it
     * (at most accepted: attestation and acceptance are not skipped) */
    enum app_state target = ru->to;
    if (st->action == AA_APPEAL) {
        store_rows *r;
        rc = store_query(s,
                         "SELECT from_state FROM application_events WHERE application_id = $1 "
                         "AND action = 'reject' ORDER BY id DESC LIMIT 1",
                         (store_val[]){SV_INT(a.id)}, 1, &r);
        if (rc) {
            rc = store_failure(s, rc, "", err);
            goto done;
        }
        if ((rc = store_step(r)) == 1) {
            int from = subsidy_state_find(store_col_text(r, 0, NULL));
            if (from == AS_SUBMITTED || from == AS_ATTESTED) target = (enum app_state)from;
        }
        store_rows_close(r);
        if (rc < 0) {
            rc = store_failure(s, rc, "", err);
            goto done;
        }
        rc = 0;
    }

    /* what the action changes besides the state */
    int64_t now = (int64_t)time(NULL);
    int32_t eff = st->effective ? st->effective : st->today;
    store_val id[] = {SV_INT(a.id)};
    switch (st->action) {
    case AA_SUBMIT: {
        int64_t emp = 0;
        rc = store_query_int(s, "SELECT COALESCE(employer_id, 0) FROM talents WHERE id = $1",
                             (store_val[]){SV_INT(a.talent_id)}, 1, &emp);
        if (!rc)
            rc = store_exec(s,
                            "UPDATE applications SET employer_id = $1, submitted_at = $2 "
                            "WHERE id = $3",
                            (store_val[]){emp ? SV_INT(emp) : SV_NULL, SV_INT(now), SV_INT(a.id)},
                            3, NULL);
        if (rc) rc = store_failure(s, rc, "", err);
        break;
    }
    case AA_REVIEW:
        rc = evaluate(s, &a, st->today, &a.eligible, err);
        break;
    case AA_PUBLISH: {
        int32_t from, to;
        rc = notice_days(s, st->today, &from, &to, err);
        if (!rc && (rc = store_exec(
                        s, "UPDATE applications SET notice_from = $1, notice_to = $2 WHERE id = $3",
                        (store_val[]){SV_INT(from), SV_INT(to), SV_INT(a.id)}, 3, NULL)))
            rc = store_failure(s, rc, "", err);
        break;
    }
    case AA_REJECT:
        if (reason[0] && (rc = store_exec(s, "UPDATE applications SET reasons = $1 WHERE id = $2",
                                          (store_val[]){SV_TEXT(reason), SV_INT(a.id)}, 2, NULL)))
            rc = store_failure(s, rc, "", err);
        break;
    case AA_ACTIVATE:
        if ((rc = store_exec(s, "UPDATE applications SET start_date = $1 WHERE id = $2",
                             (store_val[]){SV_INT(eff), SV_INT(a.id)}, 2, NULL)))
            rc = store_failure(s, rc, "", err);
        break;
    case AA_END:
        if ((rc = store_exec(
                 s, "UPDATE applications SET end_date = $1 WHERE id = $2",
                 (store_val[]){SV_INT(eff < a.start_date ? a.start_date - 1 : eff), SV_INT(a.id)},
                 2, NULL)))
            rc = store_failure(s, rc, "", err);
        break;
    case AA_APPEAL:
        if ((rc = store_exec(s,
                             "UPDATE applications SET appeals = appeals + 1, notice_from = NULL, "
                             "notice_to = NULL WHERE id = $1",
                             id, 1, NULL)))
            rc = store_failure(s, rc, "", err);
        break;
    default:
        break;
    }
    if (rc) goto done;
    rc =
        store_exec(s, "UPDATE applications SET state = $1, updated_at = $2 WHERE id = $3",
                   (store_val[]){SV_TEXT(states[target].name), SV_INT(now), SV_INT(a.id)}, 3, NULL);
    if (rc) {
        rc = store_failure(s, rc, "", err);
        goto done;
    }
    /* the event; a request without a key gets one that a concurrent twin
     * would share, so the UNIQUE constraint lets only one of them in */
    char key[96];
    int64_t nev = 0;
    if (st->request_key) {
        snprintf(key, sizeof key, "%s", st->request_key);
    } else {
        if ((rc =
                 count_where(s, "SELECT count(*) FROM application_events WHERE application_id = $1",
                             a.id, &nev))) {
            rc = store_failure(s, rc, "", err);
            goto done;
        }
        snprintf(key, sizeof key, "auto:%s:%s:%lld", ru->name, states[a.state].name,
                 (long long)nev + 1);
    }
    char who[128], scrubbed[REASON_MAX + 1];
    actor_label(x->who, who);
    pii_scrub(reason, scrubbed, sizeof scrubbed);
    /* the day it takes effect; for publish, the day of publication */
    int dated = st->action == AA_ACTIVATE || st->action == AA_SUSPEND || st->action == AA_RESUME ||
                st->action == AA_END || st->action == AA_PUBLISH;
    if (st->action == AA_PUBLISH) eff = st->today;
    store_val ev[] = {SV_INT(a.id),
                      SV_TEXT(ru->name),
                      SV_TEXT(states[a.state].name),
                      SV_TEXT(states[target].name),
                      SV_TEXT(who),
                      SV_INT(x->who->user_id),
                      SV_TEXT(scrubbed),
                      SV_TEXT(key),
                      SV_INT(now),
                      dated ? SV_INT(eff) : SV_NULL};
    rc = store_insert(s,
                      "INSERT INTO application_events (application_id, action, from_state, "
                      "to_state, actor, actor_id, reason, request_key, at, effective) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                      ev, 10, &out->event_id);
    if (rc) {
        rc = rc == QL_ECONFLICT ? QL_EBUSY : store_failure(s, rc, "", err); /* a twin won: retry */
        goto done;
    }
    char action[40];
    snprintf(action, sizeof action, "subsidy.%s", ru->name);
    json_t *before = json_pack("{ss}", "state", states[a.state].name);
    json_t *after = json_pack("{ss}", "state", states[target].name);
    json_t *detail = json_pack("{ssssss}", "ref", a.ref, "reason", scrubbed, "request_key", key);
    rc = audit_by(s, x->who, action, "application", a.id, before, after, detail, NULL, err);
    json_decref(before);
    json_decref(after);
    json_decref(detail);
    out->to = target;
done:
    row_free(&a);
    return rc;
}

int subsidy_transition(store *s, const actor *a, int64_t id, const struct app_step *step,
                       struct app_result *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    if (step->action < 0 || step->action >= AA_COUNT)
        return ql_errf(err, QL_EINVAL, "action", "unknown action", "未知操作");
    if (step->request_key) {
        size_t n = strlen(step->request_key);
        if (n < 1 || n > 80 || !text_valid(step->request_key, n, 0) ||
            !strncmp(step->request_key, "auto:", 5))
            return ql_errf(err, QL_EINVAL, "request_key",
                           "the request key must be 1 to 80 bytes of text, not beginning with "
                           "'auto:'",
                           "请求标识须为 1 至 80 字节的文字，且不以“auto:”开头");
    }
    struct tx_ctx x = {a, id, step, out, err};
    int rc = store_tx(s, STORE_TX_WRITE, transition_body, &x);
    if (!rc && !out->unchanged) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

unsigned subsidy_allowed(store *s, const actor *who, int64_t id, int32_t today)
{
    struct app_row a;
    ql_err err;
    if (load(s, who, id, &a, &err)) return 0;
    unsigned mask = 0;
    for (int x = 0; x < AA_COUNT; x++) {
        if (!(rules[x].from & S(a.state))) continue;
        if (may(who, (enum app_action)x, &a, &err)) continue;
        if (x == AA_PUBLISH && a.eligible != 1) continue;
        if (x == AA_APPROVE && today <= a.notice_to) continue;
        if (x == AA_APPROVE && not_the_reviewer(s, who, a.id, a.ref, 0, &err)) continue;
        if (x == AA_APPEAL && a.appeals) continue;
        if (x == AA_SUBMIT && !a.declared) continue;
        mask |= 1u << x;
    }
    row_free(&a);
    return mask;
}

/* ---- create and declare ------------------------------------------------ */

struct create_ctx {
    const actor *who;
    const char *programme;
    int64_t talent_id;
    const struct app_declare *d;
    int32_t today;
    int64_t *id;
    char *ref;
    ql_err *err;
};

static int create_body(store *s, void *vctx)
{
    struct create_ctx *x = vctx;
    ql_err *err = x->err;
    int64_t open_id = 0;
    int rc =
        store_query_int(s,
                        "SELECT id FROM applications WHERE programme = $1 AND talent_id = $2 "
                        "AND state NOT IN ('rejected', 'ended', 'withdrawn')",
                        (store_val[]){SV_TEXT(x->programme), SV_INT(x->talent_id)}, 2, &open_id);
    if (rc == 0) {
        char ref[41] = "";
        store_rows *r;
        if (!store_query(s, "SELECT ref FROM applications WHERE id = $1",
                         (store_val[]){SV_INT(open_id)}, 1, &r)) {
            if (store_step(r) == 1) snprintf(ref, sizeof ref, "%s", store_col_text(r, 0, NULL));
            store_rows_close(r);
        }
        return ql_errf(err, QL_ECONFLICT, "programme",
                       "there is an open application %s for this programme already",
                       "该项目已有未办结的申请 %s", ref);
    }
    if (rc != QL_ENOTFOUND) return store_failure(s, rc, "", err);
    int64_t emp = 0, prev = 0;
    rc = store_query_int(s, "SELECT COALESCE(employer_id, 0) FROM talents WHERE id = $1",
                         (store_val[]){SV_INT(x->talent_id)}, 1, &emp);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "talent_id", "there is no talent %lld",
                       "不存在编号为 %lld 的人才", (long long)x->talent_id);
    if (rc) return store_failure(s, rc, "", err);
    rc = store_query_int(s,
                         "SELECT id FROM applications WHERE programme = $1 AND talent_id = $2 "
                         "ORDER BY id DESC LIMIT 1",
                         (store_val[]){SV_TEXT(x->programme), SV_INT(x->talent_id)}, 2, &prev);
    if (rc && rc != QL_ENOTFOUND) return store_failure(s, rc, "", err);
    int64_t now = (int64_t)time(NULL);
    char tmp[40];
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(tmp, sizeof tmp, "new-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    store_val row[] = {SV_TEXT(tmp),
                       SV_TEXT(x->programme),
                       SV_INT(x->talent_id),
                       emp ? SV_INT(emp) : SV_NULL,
                       SV_INT(x->d->family_owns_housing != 0),
                       SV_INT(x->d->other_benefit != 0),
                       SV_INT(x->d->declared != 0),
                       prev ? SV_INT(prev) : SV_NULL,
                       SV_INT(now)};
    rc = store_insert(s,
                      "INSERT INTO applications (ref, programme, talent_id, employer_id, "
                      "family_owns_housing, other_benefit, declared, previous_id, created_at, "
                      "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                      row, 9, x->id);
    if (rc) return store_failure(s, rc, "", err);
    int y, m, d;
    date_to_ymd(x->today, &y, &m, &d);
    snprintf(x->ref, 24, "RS%04d-%06lld", y, (long long)*x->id);
    rc = store_exec(s, "UPDATE applications SET ref = $1 WHERE id = $2",
                    (store_val[]){SV_TEXT(x->ref), SV_INT(*x->id)}, 2, NULL);
    if (rc) return store_failure(s, rc, "", err);
    json_t *after = json_pack("{sssssIsb}", "ref", x->ref, "programme", x->programme, "talent_id",
                              (json_int_t)x->talent_id, "declared", x->d->declared != 0);
    rc = audit_by(s, x->who, "subsidy.create", "application", *x->id, NULL, after, NULL, NULL, err);
    json_decref(after);
    if (rc) return rc;
    char who[128];
    actor_label(x->who, who);
    return store_exec(
               s,
               "INSERT INTO application_events (application_id, action, from_state, "
               "to_state, actor, actor_id, request_key, at) "
               "VALUES ($1, 'create', 'draft', 'draft', $2, $3, 'auto:create', $4)",
               (store_val[]){SV_INT(*x->id), SV_TEXT(who), SV_INT(x->who->user_id), SV_INT(now)}, 4,
               NULL)
               ? store_failure(s, QL_EDB, "", err)
               : 0;
}

int subsidy_create(store *s, const actor *a, const char *programme, int64_t talent_id,
                   const struct app_declare *d, int32_t today, int64_t *id, char *ref, ql_err *err)
{
    int rc = actor_require(a, P_SUBSIDY_APPLY, err);
    if (rc) return rc;
    enum scope_kind kind;
    int64_t sid;
    if ((rc = registry_scope(s, a, &kind, &sid))) return store_failure(s, rc, "", err);
    if (kind == SCOPE_SELF) {
        if (talent_id && talent_id != sid)
            return ql_errf(err, QL_EFORBIDDEN, "talent_id",
                           "an applicant applies for themself only", "申请人只能为本人申请");
        talent_id = sid;
    } else if (kind != SCOPE_DISTRICT && kind != SCOPE_DEPARTMENT) {
        return ql_errf(err, QL_EFORBIDDEN, "talent_id", "this account cannot apply",
                       "此账号不能提出申请");
    }
    if (talent_id <= 0)
        return ql_errf(err, QL_EINVAL, "talent_id", "the account is not linked to a talent record",
                       "此账号未关联人才信息");
    size_t pl = programme ? strlen(programme) : 0;
    if (pl < 1 || pl > 40)
        return ql_errf(err, QL_EINVAL, "programme", "choose a programme", "请选择补贴项目");
    int64_t fid;
    store_val pv[] = {SV_TEXT(programme)};
    rc = store_query_int(
        s, "SELECT id FROM policy_files WHERE programme = $1 AND status = 'active'", pv, 1, &fid);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_EINVAL, "programme",
                       "programme '%s' is not open: it has no active policy",
                       "项目“%s”未开放：没有已启用的政策", programme);
    if (rc) return store_failure(s, rc, "", err);
    struct create_ctx x = {a, programme, talent_id, d, today, id, ref, err};
    rc = store_tx(s, STORE_TX_WRITE, create_body, &x);
    if (!rc) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

struct declare_ctx {
    const actor *a;
    int64_t id;
    const struct app_declare *d;
    ql_err *err;
};

static int declare_body(store *s, void *vctx)
{
    struct declare_ctx *x = vctx;
    struct app_row row;
    int rc = load(s, x->a, x->id, &row, x->err);
    if (rc) return rc;
    enum app_state st = row.state;
    json_t *before = json_pack("{sbsbsb}", "family_owns_housing", row.family != 0, "other_benefit",
                               row.other != 0, "declared", row.declared != 0);
    row_free(&row);
    if (st != AS_DRAFT) {
        json_decref(before);
        return ql_errf(x->err, QL_ECONFLICT, "state",
                       "the declarations can be changed in a draft only",
                       "只有草稿状态可以修改承诺事项");
    }
    rc = store_exec(s,
                    "UPDATE applications SET family_owns_housing = $1, other_benefit = $2, "
                    "declared = $3, updated_at = $4 WHERE id = $5",
                    (store_val[]){SV_INT(x->d->family_owns_housing != 0),
                                  SV_INT(x->d->other_benefit != 0), SV_INT(x->d->declared != 0),
                                  SV_INT((int64_t)time(NULL)), SV_INT(x->id)},
                    5, NULL);
    json_t *after =
        json_pack("{sbsbsb}", "family_owns_housing", x->d->family_owns_housing != 0,
                  "other_benefit", x->d->other_benefit != 0, "declared", x->d->declared != 0);
    if (rc)
        rc = store_failure(s, rc, "", x->err);
    else
        rc = audit_by(s, x->a, "subsidy.declare", "application", x->id, before, after, NULL, NULL,
                      x->err);
    json_decref(before);
    json_decref(after);
    return rc;
}

int subsidy_declare(store *s, const actor *a, int64_t id, const struct app_declare *d, ql_err *err)
{
    int rc = actor_require(a, P_SUBSIDY_APPLY, err);
    if (rc) return rc;
    if (a->scope != SCOPE_SELF)
        return ql_errf(err, QL_EFORBIDDEN, "", "only the applicant changes the declarations",
                       "只有申请人本人可以修改承诺事项");
    struct declare_ctx x = {a, id, d, err};
    rc = store_tx(s, STORE_TX_WRITE, declare_body, &x);
    if (!rc) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

/* ---- objections -------------------------------------------------------- */

static int short_text(const char *field, const char *v, size_t max, ql_err *err)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > max || !v[strspn(v, " \t\r\n")])
        return ql_errf(err, QL_EINVAL, field, "%s must be 1 to %zu bytes of text",
                       "%s须为 1 至 %zu 字节的文字", field, max);
    return validate_text_block(field, v, err);
}

struct object_ctx {
    const actor *a;
    int64_t id; /* the application (object) or the objection (settle) */
    const char *source, *text;
    int32_t received_on;
    bool settle, upheld;
    int64_t *objection_id;
    ql_err *err;
};

static int object_body(store *s, void *vctx)
{
    struct object_ctx *x = vctx;
    struct app_row row;
    int rc = load(s, x->a, x->id, &row, x->err);
    if (rc) return rc;
    enum app_state st = row.state;
    int32_t to = row.notice_to;
    char ref[41];
    snprintf(ref, sizeof ref, "%s", row.ref);
    row_free(&row);
    if (st != AS_NOTICE)
        return ql_errf(x->err, QL_ECONFLICT, "state", "application %s is not under public notice",
                       "申请 %s 不在公示期", ref);
    /* from the day it was published (it is shown that day) to the last day */
    int32_t from = 0;
    if ((rc = published_on(s, x->id, &from, x->err))) return rc;
    if (x->received_on < from || x->received_on > to) {
        char f[16], t[16];
        date_format(from, f, sizeof f);
        date_format(to, t, sizeof t);
        return ql_errf(x->err, QL_EINVAL, "received_on",
                       "an objection is received during the notice, %s to %s",
                       "异议须在公示期（%s 至 %s）内收到", f, t);
    }
    char who[128], src[256], body[4096];
    actor_label(x->a, who);
    pii_scrub(x->source, src, sizeof src);
    pii_scrub(x->text, body, sizeof body);
    rc = store_insert(s,
                      "INSERT INTO objections (application_id, received_on, source, text, "
                      "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                      (store_val[]){SV_INT(x->id), SV_INT(x->received_on), SV_TEXT(src),
                                    SV_TEXT(body), SV_TEXT(who), SV_INT((int64_t)time(NULL))},
                      6, x->objection_id);
    if (rc) return store_failure(s, rc, "", x->err);
    char day[16];
    date_format(x->received_on, day, sizeof day);
    json_t *detail = json_pack("{sssIssss}", "ref", ref, "objection", (json_int_t)*x->objection_id,
                               "received_on", day, "source", src);
    rc =
        audit_by(s, x->a, "subsidy.object", "application", x->id, NULL, NULL, detail, NULL, x->err);
    json_decref(detail);
    return rc;
}

static int settle_body(store *s, void *vctx)
{
    struct object_ctx *x = vctx;
    store_rows *r;
    int rc =
        store_query(s,
                    "SELECT o.application_id, a.state, o.outcome IS NOT NULL FROM objections o "
                    "JOIN applications a ON a.id = o.application_id WHERE o.id = $1",
                    (store_val[]){SV_INT(x->id)}, 1, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    int64_t app = 0;
    int settled = 0, notice = 0;
    if ((rc = store_step(r)) == 1) {
        app = store_col_int(r, 0);
        notice = !strcmp(store_col_text(r, 1, NULL), "notice");
        settled = store_col_int(r, 2) != 0;
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", x->err);
    if (rc == 0)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no objection %lld",
                       "不存在编号为 %lld 的异议", (long long)x->id);
    if (settled)
        return ql_errf(x->err, QL_ECONFLICT, "id", "objection %lld is settled already",
                       "异议 %lld 已处理", (long long)x->id);
    if (!notice)
        return ql_errf(x->err, QL_ECONFLICT, "state",
                       "objection %lld belongs to a notice that is over",
                       "异议 %lld 所属的公示已结束", (long long)x->id);
    char ref[41] = "";
    if (!store_query(s, "SELECT ref FROM applications WHERE id = $1", (store_val[]){SV_INT(app)}, 1,
                     &r)) {
        if (store_step(r) == 1) snprintf(ref, sizeof ref, "%s", store_col_text(r, 0, NULL));
        store_rows_close(r);
    }
    if ((rc = not_the_reviewer(s, x->a, app, ref, 1, x->err))) return rc;
    char who[128], res[4096];
    actor_label(x->a, who);
    pii_scrub(x->text, res, sizeof res);
    rc = store_exec(s,
                    "UPDATE objections SET outcome = $1, resolution = $2, resolved_by = $3, "
                    "resolved_at = $4 WHERE id = $5",
                    (store_val[]){SV_TEXT(x->upheld ? "upheld" : "dismissed"), SV_TEXT(res),
                                  SV_TEXT(who), SV_INT((int64_t)time(NULL)), SV_INT(x->id)},
                    5, NULL);
    if (rc) return store_failure(s, rc, "", x->err);
    json_t *detail = json_pack("{sIsssb}", "objection", (json_int_t)x->id, "resolution", res,
                               "upheld", x->upheld);
    rc = audit_by(s, x->a, "subsidy.settle", "application", app, NULL, NULL, detail, NULL, x->err);
    json_decref(detail);
    return rc;
}

static int objection_tx(store *s, store_tx_fn fn, struct object_ctx *x)
{
    int rc = store_tx(s, STORE_TX_WRITE, fn, x);
    if (!rc) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

int subsidy_object(store *s, const actor *a, int64_t id, const char *source, const char *text,
                   int32_t received_on, int64_t *objection_id, ql_err *err)
{
    if (!actor_can(a, P_SUBSIDY_REVIEW) && !actor_can(a, P_WINDOW_ACCEPT))
        return actor_require(a, P_SUBSIDY_REVIEW, err);
    if (!is_district(a))
        return ql_errf(err, QL_EFORBIDDEN, "", "objections are recorded by district staff",
                       "异议由区级工作人员登记");
    int rc = short_text("source", source, 200, err);
    if (!rc) rc = short_text("text", text, 2000, err);
    if (rc) return rc;
    struct object_ctx x = {a, id, source, text, received_on, false, false, objection_id, err};
    return objection_tx(s, object_body, &x);
}

int subsidy_settle(store *s, const actor *a, int64_t oid, bool upheld, const char *resolution,
                   ql_err *err)
{
    int rc = actor_require(a, P_SUBSIDY_REVIEW, err);
    if (rc) return rc;
    if (!is_district(a))
        return ql_errf(err, QL_EFORBIDDEN, "", "objections are settled by district staff",
                       "异议由区级工作人员处理");
    if ((rc = short_text("resolution", resolution, 2000, err))) return rc;
    struct object_ctx x = {a, oid, NULL, resolution, 0, true, upheld, NULL, err};
    return objection_tx(s, settle_body, &x);
}

/* ---- reading ----------------------------------------------------------- */

static json_t *day_json(int32_t d)
{
    if (!d) return json_null();
    char s[16];
    date_format(d, s, sizeof s);
    return json_string(s);
}

static json_t *row_json(const struct app_row *a)
{
    json_t *o = json_pack(
        "{sIsssssIsosssssssbsbsb}", "id", (json_int_t)a->id, "ref", a->ref, "programme",
        a->programme, "talent_id", (json_int_t)a->talent_id, "employer_id",
        a->employer_id ? json_integer(a->employer_id) : json_null(), "state", states[a->state].name,
        "state_zh", states[a->state].zh, "state_en", states[a->state].en, "family_owns_housing",
        a->family != 0, "other_benefit", a->other != 0, "declared", a->declared != 0);
    json_object_set_new(o, "eligible", a->eligible < 0 ? json_null() : json_boolean(a->eligible));
    json_object_set_new(o, "tier", a->tier[0] ? json_string(a->tier) : json_null());
    json_object_set_new(o, "monthly_fen", json_integer(a->monthly_fen));
    json_object_set_new(o, "monthly_yuan", pol_yuan_json(a->monthly_fen));
    json_object_set_new(o, "notice_from", day_json(a->notice_from));
    json_object_set_new(o, "notice_to", day_json(a->notice_to));
    json_object_set_new(o, "start_date", day_json(a->start_date));
    json_object_set_new(o, "end_date", day_json(a->end_date));
    json_object_set_new(o, "appeals", json_integer(a->appeals));
    json_object_set_new(o, "reasons", json_string(a->reasons));
    return o;
}

/* Adds the talent's name and the employer's name. */
static void add_names(store *s, json_t *o, const struct app_row *a)
{
    store_rows *r;
    if (!store_query(s,
                     "SELECT t.name, COALESCE(e.name, '') FROM talents t LEFT JOIN employers e "
                     "ON e.id = $2 WHERE t.id = $1",
                     (store_val[]){SV_INT(a->talent_id), SV_INT(a->employer_id)}, 2, &r)) {
        if (store_step(r) == 1) {
            json_object_set_new(o, "talent_name", json_string(store_col_text(r, 0, NULL)));
            json_object_set_new(o, "employer_name", json_string(store_col_text(r, 1, NULL)));
        }
        store_rows_close(r);
    }
}

int subsidy_get(store *s, const actor *who, int64_t id, int32_t today, json_t **out, ql_err *err)
{
    struct app_row a;
    int rc = may_see(who, err);
    if (rc) return rc;
    rc = load(s, who, id, &a, err);
    if (rc) return rc;
    json_t *o = row_json(&a);
    add_names(s, o, &a);
    json_t *tr = a.trace ? json_loads(a.trace, 0, NULL) : NULL;
    json_object_set_new(o, "decision", tr ? tr : json_null());
    json_t *events = json_array();
    store_rows *r;
    rc = store_query(s,
                     "SELECT id, action, from_state, to_state, actor, reason, at "
                     "FROM application_events WHERE application_id = $1 ORDER BY id",
                     (store_val[]){SV_INT(id)}, 1, &r);
    if (!rc) {
        while ((rc = store_step(r)) == 1)
            json_array_append_new(
                events,
                json_pack("{sIsssssssssssI}", "id", (json_int_t)store_col_int(r, 0), "action",
                          store_col_text(r, 1, NULL), "from", store_col_text(r, 2, NULL), "to",
                          store_col_text(r, 3, NULL), "actor", store_col_text(r, 4, NULL), "reason",
                          store_col_text(r, 5, NULL), "at", (json_int_t)store_col_int(r, 6)));
        store_rows_close(r);
    }
    json_object_set_new(o, "events", events);
    json_t *objs = json_array();
    if (rc >= 0 &&
        !(rc = store_query(s,
                           "SELECT id, received_on, source, text, COALESCE(outcome, ''), "
                           "resolution FROM objections WHERE application_id = $1 ORDER BY id",
                           (store_val[]){SV_INT(id)}, 1, &r))) {
        while ((rc = store_step(r)) == 1)
            json_array_append_new(
                objs,
                json_pack("{sIsossssssss}", "id", (json_int_t)store_col_int(r, 0), "received_on",
                          day_json((int32_t)store_col_int(r, 1)), "source",
                          store_col_text(r, 2, NULL), "text", store_col_text(r, 3, NULL), "outcome",
                          store_col_text(r, 4, NULL), "resolution", store_col_text(r, 5, NULL)));
        store_rows_close(r);
    }
    json_object_set_new(o, "objections", objs);
    row_free(&a);
    if (rc < 0) {
        json_decref(o);
        return store_failure(s, rc, "", err);
    }
    unsigned allowed = subsidy_allowed(s, who, id, today);
    json_t *acts = json_array();
    for (int x = 0; x < AA_COUNT; x++)
        if (allowed & (1u << x)) json_array_append_new(acts, json_string(rules[x].name));
    json_object_set_new(o, "allowed", acts);
    *out = o;
    return 0;
}

int subsidy_list(store *s, const actor *who, const struct app_filter *f, json_t **out,
                 int64_t *total, ql_err *err)
{
    enum scope_kind kind;
    int64_t sid;
    int rc = may_see(who, err);
    if (rc) return rc;
    if ((rc = registry_scope(s, who, &kind, &sid))) return store_failure(s, rc, "", err);
    buf where;
    buf_init(&where, 0);
    store_val args[6];
    int n = 0;
    buf_puts(&where, " WHERE 1 = 1");
    if (kind == SCOPE_SELF) {
        buf_printf(&where, " AND a.talent_id = $%d", ++n);
        args[n - 1] = SV_INT(sid);
    } else if (kind == SCOPE_EMPLOYER) {
        buf_printf(&where, " AND a.employer_id = $%d", ++n);
        args[n - 1] = SV_INT(sid);
    } else if (kind != SCOPE_DISTRICT && kind != SCOPE_DEPARTMENT) {
        buf_puts(&where, " AND 1 = 0");
    }
    if (f->state >= 0 && f->state < AS_COUNT) {
        buf_printf(&where, " AND a.state = $%d", ++n);
        args[n - 1] = SV_TEXT(states[f->state].name);
    }
    if (f->talent_id > 0) {
        buf_printf(&where, " AND a.talent_id = $%d", ++n);
        args[n - 1] = SV_INT(f->talent_id);
    }
    char *w = buf_steal(&where);
    buf sql;
    buf_init(&sql, 0);
    buf_printf(&sql, "SELECT count(*) FROM applications a%s", w);
    rc = store_query_int(s, sql.data, args, n, total);
    buf_reset(&sql);
    int64_t per = f->per_page > 0 && f->per_page <= 200 ? f->per_page : 50;
    int64_t page = f->page > 0 ? f->page : 1;
    buf_printf(&sql,
               "SELECT a.id, a.ref, a.programme, a.talent_id, a.employer_id, a.state, "
               "a.family_owns_housing, a.other_benefit, a.declared, a.eligible, a.appeals, "
               "a.monthly_fen, a.notice_from, a.notice_to, a.start_date, a.end_date, a.tier, "
               "a.policy_file_id, NULL, a.reasons, t.name, COALESCE(e.name, ''), a.updated_at "
               "FROM applications a JOIN talents t ON t.id = a.talent_id "
               "LEFT JOIN employers e ON e.id = a.employer_id%s "
               "ORDER BY a.id DESC LIMIT %lld OFFSET %lld",
               w, (long long)per, (long long)((page - 1) * per));
    free(w);
    store_rows *r = NULL;
    if (!rc) rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    if (rc) return store_failure(s, rc, "", err);
    json_t *list = json_array();
    struct app_row a;
    while ((rc = store_step(r)) == 1) {
        row_read(r, &a);
        json_t *o = row_json(&a);
        json_object_set_new(o, "talent_name", json_string(store_col_text(r, 20, NULL)));
        json_object_set_new(o, "employer_name", json_string(store_col_text(r, 21, NULL)));
        json_object_set_new(o, "updated_at", json_integer(store_col_int(r, 22)));
        json_array_append_new(list, o);
        row_free(&a);
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return store_failure(s, rc, "", err);
    }
    *out = list;
    return 0;
}

/* "张三丰" -> "张**": the first character and a star for each other one. */
static void mask_name(const char *name, char *out, size_t n)
{
    size_t first = text_char_len((const unsigned char *)name, strlen(name));
    if (first == 0 || first + 1 > n) {
        snprintf(out, n, "*");
        return;
    }
    memcpy(out, name, first);
    size_t used = first;
    size_t chars = text_chars(name);
    for (size_t i = 1; i < chars && used + 1 < n; i++) out[used++] = '*';
    out[used] = '\0';
}

int subsidy_notices(store *s, int32_t today, json_t **out, ql_err *err)
{
    store_rows *r;
    int rc =
        store_query(s,
                    "SELECT a.ref, t.name, COALESCE(e.name, ''), a.tier, a.monthly_fen, "
                    "a.notice_from, a.notice_to, a.programme FROM applications a "
                    "JOIN talents t ON t.id = a.talent_id "
                    "LEFT JOIN employers e ON e.id = a.employer_id "
                    "WHERE a.state = 'notice' AND a.notice_to >= $1 ORDER BY a.notice_from, a.id",
                    (store_val[]){SV_INT(today)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1) {
        char masked[64];
        mask_name(store_col_text(r, 1, NULL), masked, sizeof masked);
        json_array_append_new(
            list, json_pack("{sssssssssssososo}", "ref", store_col_text(r, 0, NULL), "name", masked,
                            "employer", store_col_text(r, 2, NULL), "tier",
                            store_col_text(r, 3, NULL), "programme", store_col_text(r, 7, NULL),
                            "monthly_yuan", pol_yuan_json(store_col_int(r, 4)), "notice_from",
                            day_json((int32_t)store_col_int(r, 5)), "notice_to",
                            day_json((int32_t)store_col_int(r, 6))));
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return store_failure(s, rc, "", err);
    }
    *out = list;
    return 0;
}

int subsidy_counts(store *s, json_t **out, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s, "SELECT state, count(*) FROM applications GROUP BY state", NULL, 0, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *o = json_object();
    for (int i = 0; i < AS_COUNT; i++) json_object_set_new(o, states[i].name, json_integer(0));
    while ((rc = store_step(r)) == 1)
        json_object_set_new(o, store_col_text(r, 0, NULL), json_integer(store_col_int(r, 1)));
    store_rows_close(r);
    if (rc < 0) {
        json_decref(o);
        return store_failure(s, rc, "", err);
    }
    *out = o;
    return 0;
}
