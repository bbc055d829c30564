/* payee.c - a person's payee data: card changes requested and confirmed,
 * name and ID number corrections and their review, notifications (payee.h). */
#include "registry/payee.h"

#include "registry/internal.h"
#include "registry/talent.h"

#include "auth/session.h"
#include "core/date.h"
#include "core/log.h"
#include "core/pii.h"
#include "core/text.h"
#include "core/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX 50 /* changes, corrections and notifications shown */

/* ---- small helpers ------------------------------------------------------ */

/* A reason or note as typed: trimmed, min_chars to 200 characters of text,
 * every run of 8 or more digits starred (a card or ID number quoted in it
 * is not kept). */
static int note_text(const char *in, const char *field, size_t min_chars, char *out, size_t n,
                     ql_err *err)
{
    char trimmed[801];
    size_t len = reg_trim(in, trimmed, sizeof trimmed);
    size_t chars = text_chars(trimmed);
    out[0] = '\0';
    if (len >= sizeof trimmed || chars < min_chars || chars > 200) {
        if (min_chars)
            return ql_errf(err, QL_EINVAL, field,
                           "%s: give the reason (%zu to 200 characters); it is kept with the "
                           "change",
                           "%s：请填写原因（%zu 到 200 个字符），该原因将随变更记录保存", field,
                           min_chars);
        return ql_errf(err, QL_EINVAL, field, "%s: at most 200 characters of text",
                       "%s：最多 200 个字符", field);
    }
    /* shown to the person and to staff: nothing that hides or reorders text */
    int rc = validate_text_line(field, trimmed, err);
    if (rc) return rc;
    pii_scrub(trimmed, out, n);
    return 0;
}

/* A window clerk: window.accept in a district or department scope. */
static int is_clerk(const actor *a, const struct reg_scope *sc)
{
    return actor_can(a, P_WINDOW_ACCEPT) && reg_scope_all(sc);
}

static int is_reviewer(const actor *a, const struct reg_scope *sc)
{
    return actor_can(a, P_SUBSIDY_REVIEW) && reg_scope_all(sc);
}

static int not_found(ql_err *err, const char *what, int64_t id)
{
    const char *zh = !strcmp(what, "talent")         ? "人才"
                     : !strcmp(what, "payee change") ? "收款账户变更"
                                                     : "身份信息更正";
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no %s %lld%.0s", "%.0s没有编号为 %lld 的%s",
                   what, (long long)id, zh);
}

/* The talent the request names: talent_id, or the acting person's own for
 * 0. QL_ENOTFOUND when the actor's scope does not show it. */
static int talent_in_scope(store *s, const struct reg_scope *sc, int64_t talent_id, int64_t *out,
                           ql_err *err)
{
    if (!talent_id) {
        if (sc->kind != SCOPE_SELF || sc->id <= 0)
            return ql_errf(err, QL_EINVAL, "id", "name the person", "请指明人员");
        talent_id = sc->id;
    }
    buf sql;
    buf_init(&sql, 0);
    store_val args[3] = {SV_INT(talent_id)};
    int n = 1;
    buf_puts(&sql, "SELECT t.id FROM talents t WHERE t.id = $1");
    reg_scope_talents(sc, &sql, args, &n);
    int64_t id = 0;
    int rc = store_query_int(s, sql.data, args, n, &id);
    buf_free(&sql);
    if (rc == QL_ENOTFOUND) return not_found(err, "talent", talent_id);
    if (rc) return rc;
    *out = id;
    return 0;
}

/* Appends what the person is told. Texts hold masked numbers only. */
static int notify(store *s, int64_t talent, const char *kind, const char *zh, const char *en)
{
    return store_exec(
        s,
        "INSERT INTO notifications (talent_id, kind, text_zh, text_en, created_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        (store_val[]){SV_INT(talent), SV_TEXT(kind), SV_TEXT(zh), SV_TEXT(en), SV_INT(auth_now())},
        5, NULL);
}

/* The next value of the payee clock (inside the write transaction). */
static int clock_next(store *s, int64_t *seq)
{
    int rc = store_exec(s, "UPDATE payee_clock SET seq = seq + 1 WHERE id = 1", NULL, 0, NULL);
    if (!rc) rc = store_query_int(s, "SELECT seq FROM payee_clock WHERE id = 1", NULL, 0, seq);
    return rc;
}

int payee_card_free(store *s, const char *bank_index, int64_t talent_id, ql_err *err)
{
    int64_t other = 0;
    int rc = store_query_int(s, "SELECT id FROM talents WHERE bank_index = $1 AND id <> $2 LIMIT 1",
                             (store_val[]){SV_TEXT(bank_index), SV_INT(talent_id)}, 2, &other);
    if (rc == QL_ENOTFOUND) return 0;
    if (rc) return rc;
    return ql_errf(
        err, QL_ECONFLICT, "bank_account",
        "bank_account: this card is on record for another person; one card pays one "
        "person, so check the number with the card holder",
        "bank_account：该银行卡已登记在其他人员名下；一张卡只能用于一人的发放，请与持卡人"
        "核对卡号");
}

/* ---- the registry's update path ----------------------------------------- */

int payee_update_guard(const struct talent_input *given, const char *stored_name,
                       const char *stored_id, const char *stored_bank, reg_report *report)
{
    int refused = 0;
    ql_err e;
    char v[401];
    if (given->name) {
        reg_trim(given->name, v, sizeof v);
        if (strcmp(v, stored_name))
            refused = ql_errs_add(
                &report->errors,
                (ql_errf(
                     &e, QL_EFORBIDDEN, "name",
                     "name: a name is not changed here; a reviewer corrects it, with a "
                     "reason, under Identity correction on the person's payee page",
                     "name：此处不能修改姓名；姓名由审核人员在人员的“收款账户”页面“身份信息更正”"
                     "中填写原因后更正"),
                 &e));
    }
    if (given->id_number) {
        char norm[64];
        reg_trim(given->id_number, v, sizeof v);
        pii_normalize(PII_ID_NUMBER, v, norm, sizeof norm);
        if (strcmp(norm, stored_id))
            refused = ql_errs_add(
                &report->errors,
                (ql_errf(&e, QL_EFORBIDDEN, "id_number",
                         "id_number: an ID number is not changed here; a reviewer corrects it, "
                         "with a reason, under Identity correction on the person's payee page",
                         "id_number：此处不能修改身份证号码；身份证号码由审核人员在人员的“收款账户”"
                         "页面“身份信息更正”中填写原因后更正"),
                 &e));
    }
    if (given->bank_account) {
        char norm[64];
        reg_trim(given->bank_account, v, sizeof v);
        pii_normalize(PII_BANK_ACCOUNT, v, norm, sizeof norm);
        /* digits only: a value with none left is a clearing ("") or no card */
        if (v[0] && !norm[0]) snprintf(norm, sizeof norm, "-");
        if (strcmp(norm, stored_bank))
            refused = ql_errs_add(
                &report->errors,
                (ql_errf(
                     &e, QL_EFORBIDDEN, "bank_account",
                     "bank_account: a bank card is not changed here; the person changes it "
                     "under My payment account, or a window clerk does with the person "
                     "present, and it takes effect once confirmed",
                     "bank_account：此处不能修改银行卡；银行卡由本人在“我的收款账户”中变更，或由"
                     "本人到窗口由工作人员办理，确认后生效"),
                 &e));
    }
    (void)refused;
    return report->errors.n ? QL_EFORBIDDEN : 0;
}

/* ---- a change of card ----------------------------------------------------- */

struct card {
    char norm[32], index[PII_INDEX_HEX], masked[32];
    buf sealed;
    int luhn_ok;
};

/* Checks and seals a card number typed as people type it. */
static int card_check(const char *in, struct card *c, ql_err *err)
{
    memset(c, 0, sizeof *c);
    char tmp[64];
    size_t len = reg_trim(in, tmp, sizeof tmp);
    pii_normalize(PII_BANK_ACCOUNT, tmp, c->norm, sizeof c->norm);
    ql_err e;
    if (!tmp[0])
        return ql_errf(err, QL_EINVAL, "bank_account", "bank_account: enter the new card number",
                       "bank_account：请填写新的银行卡号");
    if (len > 30 || validate_bank_card("bank_account", c->norm, &c->luhn_ok, &e))
        return ql_errf(err, QL_EINVAL, "bank_account",
                       "bank_account: a UnionPay card number has 16 to 19 digits and starts with "
                       "62",
                       "bank_account：银联卡号应为 16 至 19 位数字，以 62 开头");
    buf_init(&c->sealed, 0);
    if (pii_seal(PII_BANK_ACCOUNT, c->norm, &c->sealed)) abort(); /* pii_init not called: a bug */
    pii_index(PII_BANK_ACCOUNT, c->norm, c->index);
    pii_mask(PII_BANK_ACCOUNT, c->norm, c->masked, sizeof c->masked);
    return 0;
}

static void card_free(struct card *c)
{
    buf_free(&c->sealed);
    sodium_memzero(c->norm, sizeof c->norm);
}

struct request_ctx {
    const actor *a;
    const struct reg_scope *sc;
    int64_t talent;
    int via_window;
    const struct card *card;
    const char *reason;
    int64_t id;
    reg_report *report;
    ql_err *err;
};

static int request_body(store *s, void *arg)
{
    struct request_ctx *x = arg;
    ql_err *err = x->err;
    int64_t pending = 0;
    int rc = store_query_int(s,
                             "SELECT id FROM payee_changes WHERE talent_id = $1 AND state = "
                             "'pending'",
                             (store_val[]){SV_INT(x->talent)}, 1, &pending);
    if (rc == 0)
        return ql_errf(err, QL_ECONFLICT, "change",
                       "a change of this person's card (no. %lld) is waiting for confirmation; "
                       "confirm or cancel it first",
                       "该人员的银行卡变更（编号 %lld）正在等待确认，请先确认或取消",
                       (long long)pending);
    if (rc != QL_ENOTFOUND) return rc;
    char current[PII_INDEX_HEX + 8] = "";
    store_rows *r;
    rc = store_query(s, "SELECT COALESCE(bank_index, '') FROM talents WHERE id = $1",
                     (store_val[]){SV_INT(x->talent)}, 1, &r);
    if (rc) return rc;
    if (store_step(r) == 1) snprintf(current, sizeof current, "%s", store_col_text(r, 0, NULL));
    store_rows_close(r);
    if (!strcmp(current, x->card->index))
        return ql_errf(err, QL_EINVAL, "bank_account",
                       "bank_account: this is the card on record already",
                       "bank_account：该卡即为当前登记的收款银行卡");
    if ((rc = payee_card_free(s, x->card->index, x->talent, err))) return rc;
    char who[128];
    actor_label(x->a, who);
    rc = store_insert(
        s,
        "INSERT INTO payee_changes (talent_id, via, person_present, bank_enc, bank_index, "
        "bank_masked, reason, requested_by, requested_account, created_at) VALUES ($1, $2, $3, "
        "$4, $5, $6, $7, $8, $9, $10)",
        (store_val[]){SV_INT(x->talent), SV_TEXT(x->via_window ? "window" : "self"),
                      SV_INT(x->via_window), SV_BLOB(x->card->sealed.data, x->card->sealed.len),
                      SV_TEXT(x->card->index), SV_TEXT(x->card->masked), SV_TEXT(x->reason),
                      SV_TEXT(who), SV_TEXT(x->a->username), SV_INT(auth_now())},
        10, &x->id);
    if (rc == QL_ECONFLICT) /* another request got in first */
        return ql_errf(err, QL_ECONFLICT, "change",
                       "a change of this person's card is waiting for confirmation; confirm or "
                       "cancel it first",
                       "该人员的银行卡变更正在等待确认，请先确认或取消");
    if (rc) return rc;
    char zh[400], en[600];
    if (x->via_window) {
        snprintf(zh, sizeof zh,
                 "窗口工作人员受理了您的收款银行卡变更（新卡 %s），确认后生效。如非本人到场办理，"
                 "请立即联系受理窗口。",
                 x->card->masked);
        snprintf(en, sizeof en,
                 "A window clerk entered a change of your payment card (new card %s); it takes "
                 "effect once confirmed. If you were not at the window, contact the service "
                 "window at once.",
                 x->card->masked);
    } else {
        snprintf(zh, sizeof zh,
                 "您申请将收款银行卡变更为 %s，请在“我的收款账户”中确认后生效。如非本人操作，请"
                 "取消该申请并联系受理窗口。",
                 x->card->masked);
        snprintf(en, sizeof en,
                 "You asked to change your payment card to %s; confirm it under My payment "
                 "account for it to take effect. If you did not ask, cancel it and contact the "
                 "service window.",
                 x->card->masked);
    }
    if ((rc = notify(s, x->talent, "payee.request", zh, en))) return rc;
    return reg_audit(s, x->a, "payee.request", "talent", x->talent, NULL, NULL,
                     json_pack("{s:I, s:s, s:s, s:b, s:s}", "change_id", (json_int_t)x->id, "via",
                               x->via_window ? "window" : "self", "bank_masked", x->card->masked,
                               "person_present", x->via_window, "reason", x->reason),
                     err);
}

int payee_change_request(store *s, const actor *a, int64_t talent_id,
                         const struct payee_request *in, int64_t *change_id, reg_report *report,
                         ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    int self = sc.kind == SCOPE_SELF;
    if (!self && !is_clerk(a, &sc))
        return ql_errf(err, QL_EFORBIDDEN, "bank_account",
                       "bank_account: a bank card is changed by the person under My payment "
                       "account, or by a window clerk with the person present",
                       "bank_account：银行卡由本人在“我的收款账户”中变更，或由本人到窗口由工作人员"
                       "办理");
    int64_t talent;
    if ((rc = talent_in_scope(s, &sc, talent_id, &talent, err))) return rc;
    struct card c;
    char reason[801];
    ql_err e;
    int bad = 0;
    if (card_check(in->bank_account, &c, &e)) bad = ql_errs_add(&report->errors, &e);
    if (note_text(in->reason, "reason", 4, reason, sizeof reason, &e))
        bad = ql_errs_add(&report->errors, &e);
    if (!self && !in->person_present)
        bad = ql_errs_add(&report->errors,
                          (ql_errf(&e, QL_EINVAL, "person_present",
                                   "person_present: a card is changed at a window only with the "
                                   "person present; confirm that they are",
                                   "person_present：窗口办理银行卡变更须本人到场，请确认本人在场"),
                           &e));
    if (bad) {
        if (err) *err = report->errors.e[0];
        card_free(&c);
        return QL_EINVAL;
    }
    if (!c.luhn_ok)
        ql_errs_add(
            &report->warnings,
            (ql_errf(&e, QL_EINVAL, "bank_account",
                     "bank_account: the number fails the Luhn check; some valid UnionPay "
                     "cards do, so confirm it with the card holder",
                     "bank_account：卡号未通过 Luhn 校验；部分有效银联卡也会如此，请与持卡人"
                     "核实"),
             &e));
    struct request_ctx x = {a, &sc, talent, !self, &c, reason, 0, report, err};
    rc = reg_write_tx(s, request_body, &x);
    card_free(&c);
    if (rc == QL_EINVAL || rc == QL_ECONFLICT) {
        if (err) ql_errs_add(&report->errors, err);
        return rc;
    }
    if (!rc && change_id) *change_id = x.id;
    return rc;
}

/* A change as stored. */
struct change {
    int64_t id, talent;
    char state[16], via[16], requested_account[72], index[PII_INDEX_HEX + 8], masked[48];
    buf sealed;
};

static int change_load(store *s, int64_t id, struct change *c, ql_err *err)
{
    memset(c, 0, sizeof *c);
    store_rows *r;
    int rc = store_query(s,
                         "SELECT talent_id, state, via, requested_account, bank_index, "
                         "bank_masked, bank_enc FROM payee_changes WHERE id = $1",
                         (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return rc;
    rc = store_step(r);
    if (rc == 1) {
        c->id = id;
        c->talent = store_col_int(r, 0);
        snprintf(c->state, sizeof c->state, "%s", store_col_text(r, 1, NULL));
        snprintf(c->via, sizeof c->via, "%s", store_col_text(r, 2, NULL));
        snprintf(c->requested_account, sizeof c->requested_account, "%s",
                 store_col_text(r, 3, NULL));
        snprintf(c->index, sizeof c->index, "%s", store_col_text(r, 4, NULL));
        snprintf(c->masked, sizeof c->masked, "%s", store_col_text(r, 5, NULL));
        size_t len = 0;
        const void *b = store_col_blob(r, 6, &len);
        buf_init(&c->sealed, 0);
        if (b) buf_append(&c->sealed, b, len);
        rc = 0;
    } else if (rc == 0) {
        rc = not_found(err, "payee change", id);
    }
    store_rows_close(r);
    return rc;
}

/* Whether a may see change c at all (the person, district staff); as not
 * found otherwise. */
static int change_visible(const struct reg_scope *sc, const struct change *c, ql_err *err)
{
    if (reg_scope_all(sc) || (sc->kind == SCOPE_SELF && sc->id == c->talent)) return 0;
    return not_found(err, "payee change", c->id);
}

static int not_pending(const struct change *c, ql_err *err)
{
    int done = !strcmp(c->state, "confirmed");
    return ql_errf(err, QL_ECONFLICT, "state",
                   "the change no. %lld is %s%.0s: only a pending change is confirmed or cancelled",
                   "变更（编号 %lld）状态为%.0s%s：只有待确认的变更可以确认或取消",
                   (long long)c->id, done ? "confirmed" : "cancelled", done ? "已确认" : "已取消");
}

struct decide_ctx {
    const actor *a;
    const struct reg_scope *sc;
    int64_t id, talent;
    int confirm;
    const char *note;
    ql_err *err;
};

/* Who may confirm c: the person; for a window request, another staff
 * account with window.accept. */
static int may_confirm(const actor *a, const struct reg_scope *sc, const struct change *c,
                       ql_err *err)
{
    if (sc->kind == SCOPE_SELF && sc->id == c->talent) return 0;
    if (!strcmp(c->via, "self"))
        return ql_errf(err, QL_EFORBIDDEN, "confirmed_by",
                       "the person confirms a change they asked for themselves",
                       "本人申请的变更由本人确认");
    if (!is_clerk(a, sc))
        return ql_errf(err, QL_EFORBIDDEN, "confirmed_by",
                       "a change entered at a window is confirmed by the person or by another "
                       "window clerk",
                       "窗口受理的变更由本人或另一名窗口工作人员确认");
    if (!strcmp(a->username, c->requested_account))
        return ql_errf(err, QL_EFORBIDDEN, "confirmed_by",
                       "you entered this change: the person or another window clerk confirms it",
                       "该变更由您受理：须由本人或另一名窗口工作人员确认");
    return 0;
}

static int may_cancel(const actor *a, const struct reg_scope *sc, const struct change *c,
                      ql_err *err)
{
    if ((sc->kind == SCOPE_SELF && sc->id == c->talent) ||
        !strcmp(a->username, c->requested_account) || is_clerk(a, sc))
        return 0;
    return ql_errf(err, QL_EFORBIDDEN, "change",
                   "a change is cancelled by the person, by whoever asked for it, or by a window "
                   "clerk",
                   "变更可由本人、申请人或窗口工作人员取消");
}

static int confirm_change(store *s, struct decide_ctx *x, struct change *c)
{
    ql_err *err = x->err;
    int rc = payee_card_free(s, c->index, c->talent, err);
    if (rc) return rc;
    /* the card it replaces, kept sealed in the change (the history) */
    store_rows *r;
    rc = store_query(s, "SELECT bank_enc, bank_index, bank_masked FROM talents WHERE id = $1",
                     (store_val[]){SV_INT(c->talent)}, 1, &r);
    if (rc) return rc;
    buf old = BUF_INIT;
    char old_index[PII_INDEX_HEX + 8] = "", old_masked[48] = "";
    int has_old = 0;
    if ((rc = store_step(r)) == 1) {
        size_t len = 0;
        const void *b = store_col_isnull(r, 0) ? NULL : store_col_blob(r, 0, &len);
        if (b) {
            buf_append(&old, b, len);
            has_old = 1;
            snprintf(old_index, sizeof old_index, "%s", store_col_text(r, 1, NULL));
            snprintf(old_masked, sizeof old_masked, "%s", store_col_text(r, 2, NULL));
        }
        rc = 0;
    } else if (rc == 0) {
        rc = not_found(err, "talent", c->talent);
    }
    store_rows_close(r);
    int64_t seq = 0, now = auth_now();
    if (!rc) rc = clock_next(s, &seq);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE talents SET bank_enc = $1, bank_index = $2, bank_masked = $3, "
                        "updated_at = $4 WHERE id = $5",
                        (store_val[]){SV_BLOB(c->sealed.data, c->sealed.len), SV_TEXT(c->index),
                                      SV_TEXT(c->masked), SV_INT(now), SV_INT(c->talent)},
                        5, NULL);
    char who[128];
    actor_label(x->a, who);
    int64_t changed = 0;
    if (!rc)
        rc = store_exec(
            s,
            "UPDATE payee_changes SET state = 'confirmed', decided_by = $1, decided_account = $2, "
            "decided_at = $3, seq = $4, old_enc = $5, old_index = $6, old_masked = $7 WHERE id = "
            "$8 "
            "AND state = 'pending'",
            (store_val[]){SV_TEXT(who), SV_TEXT(x->a->username), SV_INT(now), SV_INT(seq),
                          has_old ? SV_BLOB(old.data, old.len) : SV_NULL,
                          has_old ? SV_TEXT(old_index) : SV_NULL, SV_TEXT(old_masked),
                          SV_INT(c->id)},
            8, &changed);
    buf_free(&old);
    if (rc) return rc;
    if (changed != 1) return not_pending(c, err);
    char zh[400], en[600];
    snprintf(zh, sizeof zh,
             "您的收款银行卡已变更为 %s%s%s%s。此后复核的发放批次付至新卡；变更前已复核的批次仍付至"
             "原卡。如非本人办理，请立即联系受理窗口。",
             c->masked, has_old ? "（原卡 " : "", has_old ? old_masked : "", has_old ? "）" : "");
    snprintf(en, sizeof en,
             "Your payment card is now %s%s%s%s. Cycles approved from now on pay it; a cycle "
             "approved before the change still pays the card it was approved with. If you did "
             "not ask for this, contact the service window at once.",
             c->masked, has_old ? " (it was " : "", has_old ? old_masked : "", has_old ? ")" : "");
    if ((rc = notify(s, c->talent, "payee.confirm", zh, en))) return rc;
    return reg_audit(s, x->a, "payee.confirm", "talent", c->talent, NULL, NULL,
                     json_pack("{s:I, s:s, s:s, s:s, s:I, s:[s]}", "change_id", (json_int_t)c->id,
                               "via", c->via, "bank_masked", c->masked, "old_masked", old_masked,
                               "seq", (json_int_t)seq, "changed", "bank_account"),
                     err);
}

static int cancel_change(store *s, struct decide_ctx *x, struct change *c)
{
    char who[128];
    actor_label(x->a, who);
    int64_t changed = 0;
    int rc = store_exec(s,
                        "UPDATE payee_changes SET state = 'cancelled', decided_by = $1, "
                        "decided_account = $2, decided_at = $3, note = $4 WHERE id = $5 AND "
                        "state = 'pending'",
                        (store_val[]){SV_TEXT(who), SV_TEXT(x->a->username), SV_INT(auth_now()),
                                      SV_TEXT(x->note), SV_INT(c->id)},
                        5, &changed);
    if (rc) return rc;
    if (changed != 1) return not_pending(c, x->err);
    char zh[400], en[600];
    snprintf(zh, sizeof zh, "您的收款银行卡变更（新卡 %s）已取消，收款银行卡未变。", c->masked);
    snprintf(en, sizeof en,
             "The change of your payment card to %s was cancelled; your card on record is "
             "unchanged.",
             c->masked);
    if ((rc = notify(s, c->talent, "payee.cancel", zh, en))) return rc;
    return reg_audit(s, x->a, "payee.cancel", "talent", c->talent, NULL, NULL,
                     json_pack("{s:I, s:s, s:s}", "change_id", (json_int_t)c->id, "bank_masked",
                               c->masked, "note", x->note),
                     x->err);
}

static int decide_body(store *s, void *arg)
{
    struct decide_ctx *x = arg;
    struct change c;
    int rc = change_load(s, x->id, &c, x->err);
    if (!rc) rc = change_visible(x->sc, &c, x->err);
    if (!rc)
        rc =
            x->confirm ? may_confirm(x->a, x->sc, &c, x->err) : may_cancel(x->a, x->sc, &c, x->err);
    if (!rc && strcmp(c.state, "pending")) rc = not_pending(&c, x->err);
    if (!rc) rc = x->confirm ? confirm_change(s, x, &c) : cancel_change(s, x, &c);
    if (!rc) x->talent = c.talent;
    buf_free(&c.sealed);
    return rc;
}

static int decide(store *s, const actor *a, int64_t id, int confirm, const char *note_in,
                  int64_t *talent_id, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    char note[801] = "";
    if (!confirm && (rc = note_text(note_in, "note", 0, note, sizeof note, err))) return rc;
    struct decide_ctx x = {a, &sc, id, 0, confirm, note, err};
    rc = reg_write_tx(s, decide_body, &x);
    if (!rc && talent_id) *talent_id = x.talent;
    return rc;
}

int payee_change_confirm(store *s, const actor *a, int64_t change_id, int64_t *talent_id,
                         ql_err *err)
{
    return decide(s, a, change_id, 1, NULL, talent_id, err);
}

int payee_change_cancel(store *s, const actor *a, int64_t change_id, const char *note,
                        int64_t *talent_id, ql_err *err)
{
    return decide(s, a, change_id, 0, note, talent_id, err);
}

/* ---- name and ID number ---------------------------------------------------- */

struct correct_ctx {
    const actor *a;
    int64_t talent;
    const struct talent_rec *t;
    const char *old_name;
    const void *old_id;
    size_t old_id_len;
    const char *old_masked;
    int name_changed, id_changed;
    const char *reason;
    int64_t id;
    ql_err *err;
};

static int correct_body(store *s, void *arg)
{
    struct correct_ctx *x = arg;
    ql_err *err = x->err;
    const struct talent_rec *t = x->t;
    int rc = 0;
    if (x->id_changed) {
        int64_t other = 0;
        rc = store_query_int(s, "SELECT id FROM talents WHERE id_index = $1 AND id <> $2",
                             (store_val[]){SV_TEXT(t->id_index), SV_INT(x->talent)}, 2, &other);
        if (rc == 0)
            return ql_errf(err, QL_ECONFLICT, "id_number",
                           "id_number: another person is registered with this ID number",
                           "id_number：该身份证号码已登记在其他人员名下");
        if (rc != QL_ENOTFOUND) return rc;
    }
    buf name_sealed = BUF_INIT;
    if (pii_seal(PII_NAME, x->old_name, &name_sealed)) abort(); /* pii_init not called: a bug */
    int64_t now = auth_now();
    rc = store_exec(
        s,
        "UPDATE talents SET name = $1, id_enc = $2, id_index = $3, id_masked = $4, id_kind = $5, "
        "birth_date = $6, sex = $7, updated_at = $8 WHERE id = $9",
        (store_val[]){SV_TEXT(t->name), SV_BLOB(t->id_sealed.data, t->id_sealed.len),
                      SV_TEXT(t->id_index), SV_TEXT(t->id_masked),
                      SV_TEXT(t->idinfo.kind == ID_RESIDENT ? "resident" : "foreign_permanent"),
                      SV_INT(t->idinfo.birth), SV_TEXT(t->idinfo.female ? "f" : "m"), SV_INT(now),
                      SV_INT(x->talent)},
        9, NULL);
    char who[128];
    actor_label(x->a, who);
    if (!rc)
        rc = store_insert(
            s,
            "INSERT INTO identity_corrections (talent_id, name_changed, id_changed, old_name_enc, "
            "old_id_enc, old_id_masked, new_id_masked, reason, corrected_by, corrected_account, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            (store_val[]){SV_INT(x->talent), SV_INT(x->name_changed), SV_INT(x->id_changed),
                          SV_BLOB(name_sealed.data, name_sealed.len),
                          SV_BLOB(x->old_id, x->old_id_len), SV_TEXT(x->old_masked),
                          SV_TEXT(t->id_masked), SV_TEXT(x->reason), SV_TEXT(who),
                          SV_TEXT(x->a->username), SV_INT(now)},
            11, &x->id);
    buf_free(&name_sealed);
    if (rc == QL_ECONFLICT)
        return ql_errf(err, QL_ECONFLICT, "id_number",
                       "id_number: another person is registered with this ID number",
                       "id_number：该身份证号码已登记在其他人员名下");
    if (rc) return rc;
    const char *what_zh = x->name_changed && x->id_changed ? "姓名和身份证号码"
                          : x->name_changed                ? "姓名"
                                                           : "身份证号码";
    const char *what_en = x->name_changed && x->id_changed ? "name and ID number"
                          : x->name_changed                ? "name"
                                                           : "ID number";
    char zh[400], en[600];
    snprintf(zh, sizeof zh,
             "审核人员更正了您登记的%s。另一名审核人员复核之前，您的补贴暂缓发放（金额保留）。如有"
             "疑问，请联系受理窗口。",
             what_zh);
    snprintf(en, sizeof en,
             "A reviewer corrected the %s on your record. Until another reviewer has reviewed "
             "the correction, your payments are held (the money is kept for you). If anything "
             "is wrong, contact the service window.",
             what_en);
    if ((rc = notify(s, x->talent, "identity.correct", zh, en))) return rc;
    json_t *changed = json_array();
    if (x->name_changed) json_array_append_new(changed, json_string("name"));
    if (x->id_changed) json_array_append_new(changed, json_string("id_number"));
    return reg_audit(s, x->a, "identity.correct", "talent", x->talent, NULL, NULL,
                     json_pack("{s:I, s:o, s:s, s:s, s:s}", "correction_id", (json_int_t)x->id,
                               "changed", changed, "old_id_masked", x->old_masked, "new_id_masked",
                               t->id_masked, "reason", x->reason),
                     err);
}

int identity_correct(store *s, const actor *a, int64_t talent_id, const struct identity_input *in,
                     int64_t *correction_id, reg_report *report, ql_err *err)
{
    memset(report, 0, sizeof *report);
    struct reg_scope sc;
    int rc = actor_require(a, P_SUBSIDY_REVIEW, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    if (!is_reviewer(a, &sc))
        return ql_errf(err, QL_EFORBIDDEN, NULL,
                       "a name or ID number is corrected by a district reviewer",
                       "姓名和身份证号码由区级审核人员更正");
    int64_t talent;
    if ((rc = talent_in_scope(s, &sc, talent_id, &talent, err))) return rc;
    /* the values on record */
    char name[401] = "", id_plain[64] = "", old_masked[40] = "";
    buf old_id = BUF_INIT;
    store_rows *r;
    rc = store_query(s, "SELECT name, id_enc, id_masked FROM talents WHERE id = $1",
                     (store_val[]){SV_INT(talent)}, 1, &r);
    if (rc) return rc;
    if ((rc = store_step(r)) == 1) {
        snprintf(name, sizeof name, "%s", store_col_text(r, 0, NULL));
        snprintf(old_masked, sizeof old_masked, "%s", store_col_text(r, 2, NULL));
        size_t len = 0;
        const void *b = store_col_blob(r, 1, &len);
        if (b) buf_append(&old_id, b, len);
        rc = b ? pii_open(PII_ID_NUMBER, b, len, id_plain, sizeof id_plain, err) : QL_EINTERNAL;
    } else if (rc == 0) {
        rc = not_found(err, "talent", talent);
    }
    store_rows_close(r);
    if (rc) {
        buf_free(&old_id);
        return rc;
    }
    /* the new values, checked as at registration (registry/talent.c) */
    const char *new_name = in->name && *in->name ? in->name : name;
    const char *new_id = in->id_number && *in->id_number ? in->id_number : id_plain;
    struct talent_input ti = {.name = new_name, .id_number = new_id, .education = "other"};
    struct talent_rec t;
    char reason[801];
    ql_err e;
    rc = talent_check(s, &ti, NULL, date_today(), &t, report);
    if (rc && rc != QL_EINVAL) {
        buf_free(&old_id);
        sodium_memzero(id_plain, sizeof id_plain);
        return rc;
    }
    int checked = rc == 0, bad = rc != 0;
    if (note_text(in->reason, "reason", 4, reason, sizeof reason, &e)) {
        ql_errs_add(&report->errors, &e);
        bad = 1;
    }
    int name_changed = 0, id_changed = 0;
    if (!bad) {
        name_changed = strcmp(t.name, name) != 0;
        id_changed = strcmp(t.id_norm, id_plain) != 0;
        if (!name_changed && !id_changed) {
            ql_errf(&e, QL_EINVAL, in->id_number && *in->id_number ? "id_number" : "name",
                    "nothing to correct: the name and ID number given are those on record",
                    "无需更正：所填姓名和身份证号码与登记一致");
            ql_errs_add(&report->errors, &e);
            bad = 1;
        }
    }
    sodium_memzero(id_plain, sizeof id_plain);
    if (bad) {
        if (checked) talent_rec_free(&t);
        buf_free(&old_id);
        if (err && report->errors.n) *err = report->errors.e[0];
        return QL_EINVAL;
    }
    struct correct_ctx x = {a,          talent,       &t,         name,   old_id.data, old_id.len,
                            old_masked, name_changed, id_changed, reason, 0,           err};
    rc = reg_write_tx(s, correct_body, &x);
    talent_rec_free(&t);
    buf_free(&old_id);
    sodium_memzero(name, sizeof name);
    if (rc == QL_ECONFLICT && err) ql_errs_add(&report->errors, err);
    if (!rc && correction_id) *correction_id = x.id;
    return rc;
}

struct review_ctx {
    const actor *a;
    int64_t id, talent;
    const char *note;
    ql_err *err;
};

static int review_body(store *s, void *arg)
{
    struct review_ctx *x = arg;
    ql_err *err = x->err;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT talent_id, corrected_account, reviewed_at IS NOT NULL FROM "
                         "identity_corrections WHERE id = $1",
                         (store_val[]){SV_INT(x->id)}, 1, &r);
    if (rc) return rc;
    int64_t talent = 0;
    int done = 0;
    char corrected[72] = "";
    if ((rc = store_step(r)) == 1) {
        talent = store_col_int(r, 0);
        snprintf(corrected, sizeof corrected, "%s", store_col_text(r, 1, NULL));
        done = (int)store_col_int(r, 2);
        rc = 0;
    } else if (rc == 0) {
        rc = not_found(err, "identity correction", x->id);
    }
    store_rows_close(r);
    if (rc) return rc;
    x->talent = talent;
    if (done)
        return ql_errf(err, QL_ECONFLICT, "state", "the correction no. %lld was reviewed already",
                       "身份信息更正（编号 %lld）已复核", (long long)x->id);
    if (!strcmp(corrected, x->a->username))
        return ql_errf(err, QL_EFORBIDDEN, "reviewed_by",
                       "you made this correction: another reviewer reviews it",
                       "该更正由您作出：须由另一名审核人员复核");
    char who[128];
    actor_label(x->a, who);
    rc = store_exec(s,
                    "UPDATE identity_corrections SET reviewed_by = $1, reviewed_account = $2, "
                    "reviewed_at = $3, review_note = $4 WHERE id = $5 AND reviewed_at IS NULL",
                    (store_val[]){SV_TEXT(who), SV_TEXT(x->a->username), SV_INT(auth_now()),
                                  SV_TEXT(x->note), SV_INT(x->id)},
                    5, NULL);
    int64_t open = 0;
    if (!rc)
        rc = store_query_int(s,
                             "SELECT count(*) FROM identity_corrections WHERE talent_id = $1 AND "
                             "reviewed_at IS NULL",
                             (store_val[]){SV_INT(talent)}, 1, &open);
    if (rc) return rc;
    if (!open &&
        (rc = notify(s, talent, "identity.review",
                     "您的身份信息更正已复核，补贴恢复发放，暂缓期间的金额随下一次发放支付。",
                     "The correction of your identity was reviewed; your payments resume, and "
                     "what was held is paid with the next payment.")))
        return rc;
    return reg_audit(s, x->a, "identity.review", "talent", talent, NULL, NULL,
                     json_pack("{s:I, s:s, s:b}", "correction_id", (json_int_t)x->id, "note",
                               x->note, "payments_held", open > 0),
                     err);
}

int identity_review(store *s, const actor *a, int64_t correction_id, const char *note_in,
                    int64_t *talent_id, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_SUBSIDY_REVIEW, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    if (!is_reviewer(a, &sc))
        return ql_errf(err, QL_EFORBIDDEN, NULL, "a correction is reviewed by a district reviewer",
                       "身份信息更正由区级审核人员复核");
    char note[801];
    if ((rc = note_text(note_in, "note", 4, note, sizeof note, err))) return rc;
    struct review_ctx x = {a, correction_id, 0, note, err};
    rc = reg_write_tx(s, review_body, &x);
    if (!rc && talent_id) *talent_id = x.talent;
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

static json_t *changes_json(store *s, int64_t talent, int *rc)
{
    store_rows *r;
    json_t *list = json_array();
    *rc = store_query(s,
                      "SELECT id, state, via, person_present, bank_masked, old_masked, reason, "
                      "requested_by, created_at, decided_by, COALESCE(decided_at, 0), note, "
                      "requested_account FROM payee_changes WHERE talent_id = $1 ORDER BY id DESC "
                      "LIMIT $2",
                      (store_val[]){SV_INT(talent), SV_INT(LIST_MAX)}, 2, &r);
    if (*rc) return list;
    while ((*rc = store_step(r)) == 1)
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:s}",
                            "id", (json_int_t)store_col_int(r, 0), "state",
                            store_col_text(r, 1, NULL), "via", store_col_text(r, 2, NULL),
                            "person_present", (int)store_col_int(r, 3), "bank_masked",
                            store_col_text(r, 4, NULL), "old_masked", store_col_text(r, 5, NULL),
                            "reason", store_col_text(r, 6, NULL), "requested_by",
                            store_col_text(r, 7, NULL), "created_at", reg_time(store_col_int(r, 8)),
                            "decided_by", store_col_text(r, 9, NULL), "decided_at",
                            reg_time(store_col_int(r, 10)), "note", store_col_text(r, 11, NULL),
                            "requested_account", store_col_text(r, 12, NULL)));
    store_rows_close(r);
    if (*rc > 0) *rc = 0;
    return list;
}

/* The identity corrections of talent, newest first. A name correction
 * carries the name it replaced (old_name, opened from its sealed copy) and
 * the name it wrote (new_name: the name on record for the newest, else the
 * name the next correction replaced). */
static json_t *corrections_json(store *s, int64_t talent, const char *name_now, int *rc)
{
    store_rows *r;
    json_t *list = json_array();
    *rc = store_query(s,
                      "SELECT id, name_changed, id_changed, old_id_masked, new_id_masked, reason, "
                      "corrected_by, created_at, reviewed_by, COALESCE(reviewed_at, 0), "
                      "review_note, corrected_account, old_name_enc FROM identity_corrections "
                      "WHERE talent_id = $1 ORDER BY id DESC LIMIT $2",
                      (store_val[]){SV_INT(talent), SV_INT(LIST_MAX)}, 2, &r);
    if (*rc) return list;
    char newer[401] = "", old[401]; /* a name: at most 100 characters */
    snprintf(newer, sizeof newer, "%s", name_now ? name_now : "");
    while ((*rc = store_step(r)) == 1) {
        json_t *fields = json_array();
        if (store_col_int(r, 1)) json_array_append_new(fields, json_string("name"));
        if (store_col_int(r, 2)) json_array_append_new(fields, json_string("id_number"));
        json_t *c = json_pack(
            "{s:I, s:o, s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:o, s:s, s:s}", "id",
            (json_int_t)store_col_int(r, 0), "fields", fields, "old_id_masked",
            store_col_text(r, 3, NULL), "new_id_masked", store_col_text(r, 4, NULL), "reason",
            store_col_text(r, 5, NULL), "corrected_by", store_col_text(r, 6, NULL), "created_at",
            reg_time(store_col_int(r, 7)), "open", store_col_int(r, 9) == 0, "reviewed_by",
            store_col_text(r, 8, NULL), "reviewed_at", reg_time(store_col_int(r, 9)),
            "review_note", store_col_text(r, 10, NULL), "corrected_account",
            store_col_text(r, 11, NULL));
        if (store_col_int(r, 1)) {
            size_t n;
            const void *sealed = store_col_blob(r, 12, &n);
            ql_err e;
            if (pii_open(PII_NAME, sealed, n, old, sizeof old, &e)) {
                log_warn("identity correction %lld: the old name does not open: %s",
                         (long long)store_col_int(r, 0), e.en);
                old[0] = '\0';
            }
            if (newer[0]) json_object_set_new(c, "new_name", json_string(newer));
            if (old[0]) json_object_set_new(c, "old_name", json_string(old));
            memcpy(newer, old, sizeof newer);
        }
        json_array_append_new(list, c);
    }
    store_rows_close(r);
    if (*rc > 0) *rc = 0;
    return list;
}

static json_t *notifications_json(store *s, int64_t talent, int *rc)
{
    store_rows *r;
    json_t *list = json_array();
    *rc = store_query(s,
                      "SELECT id, kind, text_zh, text_en, created_at, sent_at IS NOT NULL FROM "
                      "notifications WHERE talent_id = $1 ORDER BY id DESC LIMIT $2",
                      (store_val[]){SV_INT(talent), SV_INT(LIST_MAX)}, 2, &r);
    if (*rc) return list;
    while ((*rc = store_step(r)) == 1)
        json_array_append_new(
            list,
            json_pack("{s:I, s:s, s:s, s:s, s:o, s:b}", "id", (json_int_t)store_col_int(r, 0),
                      "kind", store_col_text(r, 1, NULL), "text_zh", store_col_text(r, 2, NULL),
                      "text_en", store_col_text(r, 3, NULL), "created_at",
                      reg_time(store_col_int(r, 4)), "sent", (int)store_col_int(r, 5)));
    store_rows_close(r);
    if (*rc > 0) *rc = 0;
    return list;
}

static int read_body(store *s, void *arg)
{
    json_t *o = arg;
    int64_t talent = json_integer_value(json_object_get(o, "talent_id"));
    store_rows *r;
    int rc = store_query(s, "SELECT name, bank_masked FROM talents WHERE id = $1",
                         (store_val[]){SV_INT(talent)}, 1, &r);
    if (rc) return rc;
    if ((rc = store_step(r)) == 1) {
        json_object_set_new(o, "name", json_string(store_col_text(r, 0, NULL)));
        json_object_set_new(o, "bank_masked", json_string(store_col_text(r, 1, NULL)));
        rc = 0;
    } else if (rc == 0) {
        rc = QL_ENOTFOUND;
    }
    store_rows_close(r);
    if (rc) return rc;
    json_object_set_new(o, "changes", changes_json(s, talent, &rc));
    if (!rc)
        json_object_set_new(o, "corrections",
                            corrections_json(s, talent, json_string_value(json_object_get(o, "name")), &rc));
    if (!rc) json_object_set_new(o, "notifications", notifications_json(s, talent, &rc));
    return rc;
}

int payee_get(store *s, const actor *a, int64_t talent_id, json_t **out, ql_err *err)
{
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_READ, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    int64_t talent;
    if ((rc = talent_in_scope(s, &sc, talent_id, &talent, err))) return rc;
    int self = sc.kind == SCOPE_SELF;
    if (!self && !reg_scope_all(&sc))
        return ql_errf(err, QL_EFORBIDDEN, NULL,
                       "payee data is shown to the person and to district staff",
                       "收款账户信息仅向本人和区级工作人员展示");
    json_t *o = json_pack("{s:I}", "talent_id", (json_int_t)talent);
    rc = store_tx(s, STORE_TX_READ, read_body, o);
    if (rc == QL_ENOTFOUND) rc = not_found(err, "talent", talent);
    if (rc) {
        json_decref(o);
        return rc;
    }
    /* what a may do now */
    int clerk = is_clerk(a, &sc), reviewer = is_reviewer(a, &sc);
    json_t *pending = json_null();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "changes"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "state")), "pending")) continue;
        pending = json_incref(c);
        break;
    }
    int can_confirm = 0, can_cancel = 0;
    if (json_is_object(pending)) {
        const char *via = json_string_value(json_object_get(pending, "via"));
        const char *req = json_string_value(json_object_get(pending, "requested_account"));
        can_confirm = self || (clerk && !strcmp(via, "window") && strcmp(req, a->username));
        can_cancel = self || clerk || !strcmp(req, a->username);
    }
    int held = 0;
    json_array_foreach(json_object_get(o, "corrections"), i, c)
    {
        int open = json_is_true(json_object_get(c, "open"));
        held |= open;
        json_object_set_new(
            c, "can_review",
            json_boolean(
                open && reviewer &&
                strcmp(json_string_value(json_object_get(c, "corrected_account")), a->username)));
    }
    /* staff accounts are for the staff's decisions, not for the person (who
     * is told "a window clerk", "a reviewer") */
    if (self) {
        json_array_foreach(json_object_get(o, "changes"), i, c)
        {
            json_object_del(c, "requested_account");
            json_object_del(c, "requested_by");
            json_object_del(c, "decided_by");
        }
        json_array_foreach(json_object_get(o, "corrections"), i, c)
        {
            json_object_del(c, "corrected_account");
            json_object_del(c, "corrected_by");
            json_object_del(c, "reviewed_by");
        }
    }
    json_object_set_new(o, "pending", pending);
    json_object_set_new(o, "held", json_boolean(held));
    json_object_set_new(o, "can_request",
                        json_boolean((self || clerk) && !json_is_object(pending)));
    json_object_set_new(o, "can_confirm", json_boolean(can_confirm));
    json_object_set_new(o, "can_cancel", json_boolean(can_cancel));
    json_object_set_new(o, "can_correct", json_boolean(reviewer));
    json_object_set_new(o, "can_review", json_boolean(reviewer && held));
    json_object_set_new(o, "self", json_boolean(self));
    *out = o;
    return 0;
}
