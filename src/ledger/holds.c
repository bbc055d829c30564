/* holds.c - the payees an export held and why (table payment_holds;
 * bank.h: enum bank_hold, bank_holds; bank_impl.h: bank_holds_sync). */
#include "ledger/bank_impl.h"

#include "core/date.h"
#include "core/xalloc.h"
#include "policy/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name, *en, *zh;
} holds[BANK_HOLD_COUNT] = {
    [BANK_HOLD_NO_ACCOUNT] = {"no_account", "no bank account on record", "未登记银行账户"},
    [BANK_HOLD_CARD_AFTER_APPROVAL] = {"card_after_approval",
                                       "the person's card was confirmed after the cycle was "
                                       "approved; the next cycle approved pays it",
                                       "本人银行卡在该批次复核后才确认生效，由之后复核的批次支付"},
    [BANK_HOLD_IDENTITY] = {"identity_review",
                            "the name or ID number was corrected and awaits another reviewer",
                            "姓名或身份证号码已更正，待另一名审核人员复核"},
    [BANK_HOLD_SHARED_CARD] = {"shared_card",
                               "the card is on record for another person as well; a window "
                               "clerk must settle whose it is",
                               "该银行卡同时登记在其他人员名下，须由窗口核实归属"},
};

const char *bank_hold_name(enum bank_hold h)
{
    return h > 0 && h < BANK_HOLD_COUNT ? holds[h].name : "";
}

const char *bank_hold_text(enum bank_hold h, int english)
{
    if (h <= 0 || h >= BANK_HOLD_COUNT) return "";
    return english ? holds[h].en : holds[h].zh;
}

static enum bank_hold hold_parse(const char *name)
{
    for (int i = 1; i < BANK_HOLD_COUNT; i++)
        if (!strcmp(name, holds[i].name)) return (enum bank_hold)i;
    return 0;
}

/* The stored holds of accounts after..last, to compare with what this page
 * found: few rows, so kept in a small array grown as needed. */
struct stored_hold {
    int64_t acct, fen;
    enum bank_hold reason;
};

int bank_holds_sync(store *s, int64_t cycle, int64_t after, int64_t last,
                    const struct bank_hold_row *h, int n, int64_t *written, ql_err *err)
{
    *written = 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT account_id, amount_fen, reason FROM payment_holds WHERE cycle_id "
                         "= $1 AND account_id > $2 AND account_id <= $3 ORDER BY account_id",
                         (store_val[]){SV_INT(cycle), SV_INT(after), SV_INT(last)}, 3, &r);
    if (rc) return store_failure(s, rc, "", err);
    struct stored_hold *old = NULL;
    size_t nold = 0, cap = 0;
    while ((rc = store_step(r)) == 1) {
        if (nold == cap) {
            cap = cap ? cap * 2 : 16;
            old = xrealloc(old, cap * sizeof *old);
        }
        old[nold].acct = store_col_int(r, 0);
        old[nold].fen = store_col_int(r, 1);
        old[nold].reason = hold_parse(store_col_text(r, 2, NULL));
        nold++;
    }
    store_rows_close(r);
    if (rc < 0) {
        free(old);
        return store_failure(s, rc, "", err);
    }
    rc = 0;
    /* both in account order: a merge */
    size_t i = 0;
    int k = 0;
    int64_t now = (int64_t)time(NULL);
    while (!rc && (i < nold || k < n)) {
        if (k == n || (i < nold && old[i].acct < h[k].acct)) {
            /* paid now, or no longer due */
            rc = store_exec(s, "DELETE FROM payment_holds WHERE cycle_id = $1 AND account_id = $2",
                            (store_val[]){SV_INT(cycle), SV_INT(old[i].acct)}, 2, NULL);
            (*written)++;
            i++;
        } else if (i == nold || h[k].acct < old[i].acct) {
            rc =
                store_exec(s,
                           "INSERT INTO payment_holds (cycle_id, account_id, payee_type, payee_id, "
                           "amount_fen, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           (store_val[]){SV_INT(cycle), SV_INT(h[k].acct), SV_TEXT(h[k].type),
                                         SV_INT(h[k].payee), SV_INT(h[k].fen),
                                         SV_TEXT(bank_hold_name(h[k].reason)), SV_INT(now)},
                           7, NULL);
            (*written)++;
            k++;
        } else {
            if (old[i].fen != h[k].fen || old[i].reason != h[k].reason) {
                rc = store_exec(
                    s,
                    "UPDATE payment_holds SET amount_fen = $1, reason = $2 WHERE cycle_id = $3 "
                    "AND account_id = $4",
                    (store_val[]){SV_INT(h[k].fen), SV_TEXT(bank_hold_name(h[k].reason)),
                                  SV_INT(cycle), SV_INT(h[k].acct)},
                    4, NULL);
                (*written)++;
            }
            i++;
            k++;
        }
    }
    free(old);
    return rc ? store_failure(s, rc, "", err) : 0;
}

void bank_hold_summary(const struct bank_export_report *rep, char *en, char *zh, size_t n)
{
    char fen[32];
    validate_money_text(rep->held_fen, fen, sizeof fen);
    int ue = snprintf(en, n, "held: %lld payees, %s yuan", (long long)rep->held, fen);
    int uz = snprintf(zh, n, "暂缓发放：%lld 个收款方，%s 元", (long long)rep->held, fen);
    int first = 1;
    for (int i = 1; i < BANK_HOLD_COUNT; i++) {
        if (!rep->held_by[i]) continue;
        if (ue >= 0 && (size_t)ue < n)
            ue += snprintf(en + ue, n - (size_t)ue, "%s%s %lld", first ? " (" : "; ", holds[i].name,
                           (long long)rep->held_by[i]);
        if (uz >= 0 && (size_t)uz < n)
            uz += snprintf(zh + uz, n - (size_t)uz, "%s%s %lld", first ? "（" : "；",
                           bank_hold_text((enum bank_hold)i, 0), (long long)rep->held_by[i]);
        first = 0;
    }
    if (!first) {
        if (ue >= 0 && (size_t)ue < n) snprintf(en + ue, n - (size_t)ue, ")");
        if (uz >= 0 && (size_t)uz < n) snprintf(zh + uz, n - (size_t)uz, "）");
    }
}

int bank_holds(store *s, const actor *a, const char *month, int64_t offset, int limit, json_t **out,
               ql_err *err)
{
    if (!actor_can(a, P_LEDGER_RUN) && !actor_can(a, P_LEDGER_APPROVE) &&
        !actor_can(a, P_LEDGER_EXPORT))
        return actor_require(a, P_LEDGER_RUN, err);
    int32_t first;
    if (!month || date_parse_month(month, &first))
        return ql_errf(err, QL_EINVAL, "month", "the month must be YYYY-MM",
                       "月份格式应为 YYYY-MM");
    if (limit < 1 || limit > 500 || offset < 0)
        return ql_errf(err, QL_EINVAL, "limit", "limit is 1 to 500, offset 0 or more",
                       "每页 1 至 500 条，偏移不能为负");
    int64_t cycle = 0;
    int rc = store_query_int(s, "SELECT id FROM cycles WHERE month = $1",
                             (store_val[]){SV_TEXT(month)}, 1, &cycle);
    if (rc == QL_ENOTFOUND)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       month);
    if (rc) return store_failure(s, rc, "", err);
    store_rows *r;
    rc = store_query(s,
                     "SELECT reason, count(*), COALESCE(SUM(amount_fen), 0) FROM payment_holds "
                     "WHERE cycle_id = $1 GROUP BY reason ORDER BY reason",
                     (store_val[]){SV_INT(cycle)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *by = json_object();
    int64_t total = 0, total_fen = 0;
    while ((rc = store_step(r)) == 1) {
        json_object_set_new(by, store_col_text(r, 0, NULL), json_integer(store_col_int(r, 1)));
        total += store_col_int(r, 1);
        total_fen += store_col_int(r, 2);
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(by);
        return store_failure(s, rc, "", err);
    }
    rc = store_query(s,
                     "SELECT h.payee_type, h.payee_id, COALESCE(t.name, e.name, o.name, ''), "
                     "h.amount_fen, h.reason FROM payment_holds h "
                     "LEFT JOIN talents t ON h.payee_type = 'person' AND t.id = h.payee_id "
                     "LEFT JOIN employers e ON h.payee_type = 'employer' AND e.id = h.payee_id "
                     "LEFT JOIN operators o ON h.payee_type = 'operator' AND o.id = h.payee_id "
                     "WHERE h.cycle_id = $1 ORDER BY h.account_id LIMIT $2 OFFSET $3",
                     (store_val[]){SV_INT(cycle), SV_INT(limit), SV_INT(offset)}, 3, &r);
    if (rc) {
        json_decref(by);
        return store_failure(s, rc, "", err);
    }
    json_t *items = json_array();
    while ((rc = store_step(r)) == 1) {
        enum bank_hold h = hold_parse(store_col_text(r, 4, NULL));
        json_array_append_new(
            items,
            json_pack("{sssIsssIsossssss}", "payee_type", store_col_text(r, 0, NULL), "payee_id",
                      (json_int_t)store_col_int(r, 1), "name", store_col_text(r, 2, NULL),
                      "amount_fen", (json_int_t)store_col_int(r, 3), "amount_yuan",
                      pol_yuan_json(store_col_int(r, 3)), "reason", bank_hold_name(h), "en",
                      bank_hold_text(h, 1), "zh", bank_hold_text(h, 0)));
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(by);
        json_decref(items);
        return store_failure(s, rc, "", err);
    }
    *out = json_pack("{sIsIsososo}", "total", (json_int_t)total, "total_fen", (json_int_t)total_fen,
                     "total_yuan", pol_yuan_json(total_fen), "by_reason", by, "items", items);
    return 0;
}
