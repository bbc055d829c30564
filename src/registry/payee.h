/* payee.h - the payee data of a person (docs/registry.md "Payee data";
 * tables payee_changes, identity_corrections, notifications, payee_clock;
 * sql/<dialect>/0017_payee.sql).
 *
 * A person's bank card is changed only by a request with a reason:
 *   - by the person themself (scope self), who then confirms it (a second
 *     step of their own: check the card, confirm);
 *   - or by a window clerk (window.accept, district or department scope)
 *     with the person present, which the person confirms on their own
 *     account or another staff account with window.accept confirms (never
 *     the clerk who entered it: the schema holds that too).
 * Confirmed, the card replaces the one on record at once and takes the next
 * value of the payee clock; a monthly cycle approved before that value
 * still pays the card it was approved with (ledger/bank.h). A card on
 * record for another person is refused (QL_ECONFLICT, field bank_account),
 * on every path that stores cards: registration, import, bulk load, a
 * change. Each step notifies the person (table notifications: what an SMS
 * gateway would send; the person reads them on their own pages) and is an
 * audit row.
 *
 * The name and ID number are corrected only by a reviewer (subsidy.review,
 * district or department scope) with a reason; the values replaced are kept
 * sealed in the correction, and the person's payments are held by every
 * export until another reviewer has reviewed the correction.
 *
 * The registry's own update (registry_talent_update: API, console, CLI)
 * refuses a changed name, ID number or bank card, naming the field and the
 * path to use instead (QL_EFORBIDDEN). */
#ifndef QL_REGISTRY_PAYEE_H
#define QL_REGISTRY_PAYEE_H

#include "registry/registry.h"

#include <jansson.h>
#include <stdint.h>

/* A request to change a person's card. */
struct payee_request {
    const char *bank_account; /* the new UnionPay card (16-19 digits, from 62) */
    const char *reason;       /* why, 4 to 200 characters (numbers in it are starred) */
    int person_present;       /* a window clerk: the person is at the window (required) */
};

/* Requests a change of talent_id's card (0: the acting person's own). By
 * the person (scope self) or a window clerk (window.accept, district or
 * department scope, person_present set); anyone else is refused
 * (QL_EFORBIDDEN, field bank_account, naming the two paths). QL_EINVAL
 * with every bad field in report->errors (bank_account, reason,
 * person_present; the card on record already is one); QL_ECONFLICT for a
 * card on record for another person (bank_account) or a change already
 * waiting (field "change"). *change_id receives the pending change. */
int payee_change_request(store *s, const actor *a, int64_t talent_id,
                         const struct payee_request *in, int64_t *change_id, reg_report *report,
                         ql_err *err);

/* Confirms the pending change change_id: the person's own account (any
 * change of theirs), or for a window request another staff account with
 * window.accept (not the one that requested it: QL_EFORBIDDEN, field
 * "confirmed_by"). The card becomes the one on record; cycles approved from
 * now on pay it. QL_ECONFLICT (field "state") when the change is not
 * pending, (field bank_account) when the card went to another person
 * meanwhile. *talent_id (may be NULL) receives the person's id. */
int payee_change_confirm(store *s, const actor *a, int64_t change_id, int64_t *talent_id,
                         ql_err *err);

/* Cancels the pending change change_id: by the person, the account that
 * requested it, or a window clerk; note (may be NULL or "", at most 200
 * characters) is kept. *talent_id (may be NULL) receives the person's id. */
int payee_change_cancel(store *s, const actor *a, int64_t change_id, const char *note,
                        int64_t *talent_id, ql_err *err);

/* A correction of a person's identity: NULL or "" keeps a field. */
struct identity_input {
    const char *name;
    const char *id_number;
    const char *reason; /* 4 to 200 characters */
};

/* Corrects talent_id's name and/or ID number (checked as at registration;
 * at least one must differ). Needs subsidy.review and a district or
 * department scope. QL_EINVAL with every bad field in report->errors,
 * QL_ECONFLICT (id_number) for a number registered to another person.
 * *correction_id receives the correction, open until reviewed: the
 * person's payments are held until then. */
int identity_correct(store *s, const actor *a, int64_t talent_id, const struct identity_input *in,
                     int64_t *correction_id, reg_report *report, ql_err *err);

/* Reviews the open correction correction_id (note: 4 to 200 characters):
 * subsidy.review, by another account than the one that corrected
 * (QL_EFORBIDDEN, field "reviewed_by"). When no correction of the person
 * stays open, their payments are no longer held. QL_ECONFLICT (field
 * "state") when it was reviewed already. *talent_id (may be NULL) receives
 * the person's id. */
int identity_review(store *s, const actor *a, int64_t correction_id, const char *note,
                    int64_t *talent_id, ql_err *err);

/* The payee data of talent_id (0: the acting person's own), masked, for the
 * person (scope self) and district or department staff with registry.read
 * (others: QL_EFORBIDDEN; a person not in scope: QL_ENOTFOUND):
 * {"talent_id","name","bank_masked","held" (an open correction),
 *  "pending": the change waiting or null, "changes": [newest first, at most
 *  50: "id","state","via","person_present","bank_masked","old_masked",
 *  "reason","requested_by","created_at","decided_by","decided_at","note"],
 *  "corrections": [newest first, at most 50: "id","fields" ["name",
 *  "id_number"],"old_id_masked","new_id_masked","reason","corrected_by",
 *  "created_at","open","reviewed_by","reviewed_at","review_note"],
 *  "notifications": [newest first, at most 50: "id","kind","text_zh",
 *  "text_en","created_at","sent"],
 *  "can_request","can_confirm","can_cancel","can_correct","can_review"
 *  (what a may do now), "self"}. For the person, the staff accounts
 *  (requested_by, decided_by, corrected_by, reviewed_by and the *_account
 *  members) are left out. */
int payee_get(store *s, const actor *a, int64_t talent_id, json_t **out, ql_err *err);

/* ---- inside the registry (talent.c, import.c, bulk.c) ------------------- */

/* 0 when no person but talent_id (0 for a new person) has the card of
 * blind index bank_index on record; QL_ECONFLICT naming bank_account
 * otherwise, or a store error. */
int payee_card_free(store *s, const char *bank_index, int64_t talent_id, ql_err *err);

/* The registry's update path: adds to report->errors, for each of name,
 * id_number and bank_account given (not NULL) that differs from what is
 * stored (stored_* as stored, normalized; "" for none), a refusal naming
 * the field and the path that changes it. Returns QL_EFORBIDDEN when it
 * added any, else 0. */
int payee_update_guard(const struct talent_input *given, const char *stored_name,
                       const char *stored_id, const char *stored_bank, reg_report *report);

#endif
