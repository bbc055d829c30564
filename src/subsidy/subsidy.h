/* subsidy.h - rental-subsidy applications and their workflow (tables
 * applications, application_events, objections;
 * sql/<dialect>/0010_subsidy.sql; docs/subsidy.md).
 *
 *   draft --submit--> submitted --attest--> attested --accept--> accepted
 *   accepted --review--> reviewed (the decision and its trace are stored)
 *   reviewed --publish--> notice (公示: the 5 working days after the day of
 *       publication, from the holiday calendar; objections are recorded)
 *   notice --approve--> approved (after the last notice day, with every
 *       objection settled and none upheld) --activate--> active
 *   active --suspend--> suspended --resume--> active; active/suspended --end--> ended
 *   submitted..notice --reject--> rejected (with reasons) --appeal--> back (once) to
 *       where the rejection found it, at most accepted
 *   draft..accepted --withdraw--> withdrawn;  submitted/attested/accepted --return--> draft
 *
 * Who: the applicant (subsidy.apply, scope self) creates, submits, withdraws
 * and appeals; the employer's HR (subsidy.attest, scope: that employer)
 * attests or returns; a window clerk (window.accept, district) accepts or
 * returns; a reviewer (subsidy.review, district) reviews, publishes,
 * approves, rejects, activates, suspends, resumes and ends, and records and
 * settles objections. Every transition checks permission, scope and state,
 * records who and why (application_events and the audit log), and is
 * idempotent: a request with a key already used for the same action, or a
 * repeat of the action that brought the application to its state, changes
 * nothing; a key used for another action is refused (QL_ECONFLICT, field
 * request_key). Keys beginning with "auto:" are the service's own.
 *
 * "today" is an argument everywhere (the views pass date_today()), so that
 * the demo can build past applications and tests can cross a notice. */
#ifndef QL_SUBSIDY_SUBSIDY_H
#define QL_SUBSIDY_SUBSIDY_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum app_state {
    AS_DRAFT = 0,
    AS_SUBMITTED,
    AS_ATTESTED,
    AS_ACCEPTED,
    AS_REVIEWED,
    AS_NOTICE,
    AS_APPROVED,
    AS_REJECTED,
    AS_ACTIVE,
    AS_SUSPENDED,
    AS_ENDED,
    AS_WITHDRAWN,
    AS_COUNT
};

enum app_action {
    AA_SUBMIT = 0,
    AA_WITHDRAW,
    AA_ATTEST,
    AA_RETURN,
    AA_ACCEPT,
    AA_REVIEW,
    AA_PUBLISH,
    AA_APPROVE,
    AA_REJECT,
    AA_ACTIVATE,
    AA_SUSPEND,
    AA_RESUME,
    AA_END,
    AA_APPEAL,
    AA_COUNT
};

#define SUBSIDY_NOTICE_DAYS 5 /* working days of the public notice */

/* Names ("draft", "submit") and labels in Chinese and English. */
const char *subsidy_state_name(enum app_state s);
const char *subsidy_state_zh(enum app_state s);
const char *subsidy_state_en(enum app_state s);
const char *subsidy_action_name(enum app_action a);
const char *subsidy_action_zh(enum app_action a);
const char *subsidy_action_en(enum app_action a);
/* -1 for an unknown name. */
int subsidy_state_find(const char *name);
int subsidy_action_find(const char *name);

/* The applicant's declarations: what the registry cannot know. */
struct app_declare {
    int family_owns_housing; /* spouse or a minor child owns housing in Shanghai */
    int other_benefit;       /* receives another housing benefit */
    int declared;            /* confirms the statements are true (needed to submit) */
};

/* Creates a draft of programme for talent_id (0: the applicant's own
 * record, for a self-scoped account) with declarations d. Needs
 * subsidy.apply and the talent in scope; the programme must have an active
 * policy. QL_ECONFLICT when the person has an open application of the
 * programme already (field "programme"), naming its reference. *id and ref
 * (at least 24 bytes) receive the new application. */
int subsidy_create(store *s, const actor *a, const char *programme, int64_t talent_id,
                   const struct app_declare *d, int32_t today, int64_t *id, char *ref, ql_err *err);

/* Changes the declarations of a draft. Needs subsidy.apply, own draft. */
int subsidy_declare(store *s, const actor *a, int64_t id, const struct app_declare *d, ql_err *err);

/* One transition. */
struct app_step {
    enum app_action action;
    const char *reason;      /* why, at most 2000 bytes; required to return, reject, suspend,
                                end and appeal */
    const char *request_key; /* the request's idempotency key (1-80 bytes), or NULL */
    int32_t today;           /* the day of the request */
    int32_t effective;       /* activate, suspend, resume, end: the day it takes effect (0:
                                today); activate after the notice, the others from the first
                                day paid (end: the day before it), none more than 92 days
                                ahead (QL_EINVAL, field "effective") */
};

struct app_result {
    bool unchanged; /* the same request was done already: nothing changed */
    enum app_state from, to;
    int64_t event_id;
};

/* Moves application id by step. Returns 0, QL_EFORBIDDEN (permission or
 * scope), QL_ENOTFOUND (no such application, or not in scope: the same
 * answer), QL_ECONFLICT (the state does not allow the action, field
 * "state"; the notice has not ended or an objection is open, field
 * "notice"), QL_EINVAL (a reason is missing: field "reason"), or the
 * evaluation's error (no active policy, calendar not loaded). On an error
 * nothing changed. */
int subsidy_transition(store *s, const actor *a, int64_t id, const struct app_step *step,
                       struct app_result *out, ql_err *err);

/* The actions a may take on application id now (bit 1 << action), for
 * pages; 0 when none or not in scope. */
unsigned subsidy_allowed(store *s, const actor *a, int64_t id, int32_t today);

/* Records an objection received on received_on, from the day of
 * publication to the last notice day, with an audit row
 * (subsidy.object). Needs subsidy.review or window.accept (district).
 * source: who objected or how it came (1-200 bytes), text (1-2000). Only
 * the objections to the current notice hold up approval. */
int subsidy_object(store *s, const actor *a, int64_t id, const char *source, const char *text,
                   int32_t received_on, int64_t *objection_id, ql_err *err);

/* Settles objection oid while its application is under notice: upheld
 * (then the application can only be rejected) or dismissed, with the
 * resolution (1-2000 bytes) and an audit row (subsidy.settle). Needs
 * subsidy.review. Settling a settled objection again, or one whose notice
 * is over, is QL_ECONFLICT. */
int subsidy_settle(store *s, const actor *a, int64_t oid, bool upheld, const char *resolution,
                   ql_err *err);

/* One application as JSON, with its events, objections, the stored
 * decision ("decision": the trace, or null) and "allowed": the actions a
 * may take now. QL_ENOTFOUND when not in a's scope; QL_EFORBIDDEN for an
 * account with no part in the workflow (no subsidy.apply, subsidy.attest,
 * window.accept or subsidy.review); the same for subsidy_list. */
int subsidy_get(store *s, const actor *a, int64_t id, int32_t today, json_t **out, ql_err *err);

/* A page of applications in a's scope, newest first. state < 0 for any;
 * programme NULL for any. *out: [{"id","ref","programme","state",...}] */
struct app_filter {
    int state;         /* enum app_state, or -1 */
    int64_t talent_id; /* 0 for any */
    int64_t page, per_page;
};
int subsidy_list(store *s, const actor *a, const struct app_filter *f, json_t **out, int64_t *total,
                 ql_err *err);

/* The public notice list (公示名单): applications under notice on today,
 * with the name shown as its first character and stars, the employer, the
 * tier, the monthly amount and the notice period. Any signed-in account. */
int subsidy_notices(store *s, int32_t today, json_t **out, ql_err *err);

/* Counts of applications by state (all of them; for the dashboard and the
 * demo): {"draft": n, ...}. */
int subsidy_counts(store *s, json_t **out, ql_err *err);

/* The suspensions of application app, as day ranges from[i]..to[i] (a
 * suspension not resumed runs to until), at most max of them, in *n. */
int subsidy_suspensions(store *s, int64_t app, int32_t until, int32_t *from, int32_t *to, int max,
                        int *n, ql_err *err);

/* The months of start..end in which application app paid at least one
 * day: each month touched, less those wholly inside a suspension. */
int subsidy_paid_months(store *s, int64_t app, int32_t start, int32_t end, int *out, ql_err *err);

#endif
