/* verify.c - checks the whole ledger against its rows (verify.h). */
#include "ledger/verify.h"

#include "core/validate.h"
#include "ledger/ledger.h"

#include <stdio.h>
#include <string.h>

struct vx {
    store *s;
    ledger_violation_fn fn;
    void *ctx;
    struct ledger_verify_report *out;
    ql_err *err;
};

/* Reports one violation, given in both languages. */
static void emit(struct vx *x, const char *check, const char *subject, const char *en,
                 const char *zh)
{
    x->out->violations++;
    if (x->fn) {
        struct ledger_violation v = {check, subject ? subject : "", en, zh};
        x->fn(&v, x->ctx);
    }
}

/* A store error inside the verification. Once violations were reported a
 * retry would report them twice, so a conflict is then an error too. */
static int failed(struct vx *x, int rc)
{
    if (rc == QL_EBUSY && x->out->violations)
        return ql_errf(x->err, QL_EDB, "", "the ledger changed while it was read: verify again",
                       "核对期间账目有变动：请重新核对");
    return store_failure(x->s, rc, "", x->err);
}

static void yuan(int64_t fen, char out[32])
{
    validate_money_text(fen, out, 32);
}

/* ---- rows and their transfers ------------------------------------------ */

/* Each query below returns, per row: 0 the transfer's expected key, 1 whether
 * the transfer must exist (1) or must not (0), 2 the amount in fen, 3-4 the
 * payee (type, id), 5 the transfer id the row names (-1: not checked), 6 a
 * second id it may name instead (0: none), 7 the account the payee's side
 * must be (0: any of the payee's), 8 the row's state ("" for none); then the
 * transfer with that key, when there is one: 9 id, 10 amount, 11 debit
 * account, 12 credit account, 13-15 the debit account's kind, payee type
 * and payee id, 16-18 the credit account's. */
#define TRANSFER_COLS                                                                              \
    " t.id, t.amount_fen, t.debit_account, t.credit_account, da.kind, da.payee_type, "             \
    "COALESCE(da.payee_id, 0), ca.kind, ca.payee_type, COALESCE(ca.payee_id, 0)"
#define TRANSFER_JOIN(key)                                                                         \
    " LEFT JOIN ledger_transfers t ON t.idempotency_key = " key                                    \
    " LEFT JOIN ledger_accounts da ON da.id = t.debit_account"                                     \
    " LEFT JOIN ledger_accounts ca ON ca.id = t.credit_account"

#define ENT_KEY         "('entitlement:' || c.month || ':' || e.application_id)"
#define ADJ_KEY         "('adjust:' || c.month || ':' || a.application_id || ':' || a.for_month)"
#define PAY_KEY(prefix) "('" prefix ":' || p.request_id)"

enum link_rule {
    LINK_EXACT,  /* the row names the transfer when it must exist, none when it must not */
    LINK_WANTED, /* the row names the transfer when it must exist */
    LINK_EITHER, /* the row names the transfer or the second id */
};

struct spec {
    const char *check;
    const char *what_en, *what_zh; /* the row, as the messages name it */
    const char *debit, *credit;    /* the kinds of the accounts */
    int payee_credit;              /* 1: the credit account is the payee's, 0: the debit */
    enum link_rule link;
    int count; /* 0 none, 1 entitlements, 2 adjustments, 3 payments */
    const char *sql;
};

static const struct spec specs[] = {
    {"entitlement", "the entitlement", "应发记录", "budget", "payable", 1, LINK_EXACT, 1,
     "SELECT " ENT_KEY ", CASE WHEN e.amount_fen > 0 THEN 1 ELSE 0 END, e.amount_fen, "
     "e.payee_type, COALESCE(e.payee_id, 0), COALESCE(e.transfer_id, 0), 0, 0, ''," TRANSFER_COLS
     " FROM entitlements e JOIN cycles c ON c.id = e.cycle_id" TRANSFER_JOIN(
         ENT_KEY) " ORDER BY e.cycle_id, e.application_id"},
    {"adjustment", "the arrears", "补发", "budget", "payable", 1, LINK_WANTED, 2,
     "SELECT " ADJ_KEY ", 1, a.amount_fen, a.payee_type, a.payee_id, a.transfer_id, 0, 0, "
     "a.kind," TRANSFER_COLS " FROM adjustments a JOIN cycles c ON c.id = a.cycle_id" TRANSFER_JOIN(
         ADJ_KEY) " WHERE a.kind = 'arrears' ORDER BY a.cycle_id, a.application_id, a.for_month"},
    {"adjustment", "the recovery", "追回", "payable", "budget", 0, LINK_WANTED, 2,
     "SELECT " ADJ_KEY ", 1, a.amount_fen, a.payee_type, a.payee_id, a.transfer_id, 0, 0, "
     "a.kind," TRANSFER_COLS " FROM adjustments a JOIN cycles c ON c.id = a.cycle_id" TRANSFER_JOIN(
         ADJ_KEY) " WHERE a.kind = 'recovery' ORDER BY a.cycle_id, a.application_id, a.for_month"},
    {"payment", "the payment", "付款", "payable", "clearing", 0, LINK_WANTED, 3,
     "SELECT " PAY_KEY("send") ", 1, p.amount_fen, p.payee_type, p.payee_id, p.send_transfer_id, "
                               "0, p.account_id, p.state," TRANSFER_COLS
                               " FROM payments p" TRANSFER_JOIN(PAY_KEY("send")) " ORDER BY p.id"},
    {"payment", "the payment", "付款", "clearing", "paid", 1, LINK_WANTED, 0,
     "SELECT " PAY_KEY("paid") ", CASE WHEN p.state = 'paid' THEN 1 ELSE 0 END, p.amount_fen, "
                               "p.payee_type, p.payee_id, COALESCE(p.settle_transfer_id, 0), 0, 0, "
                               "p.state," TRANSFER_COLS
                               " FROM payments p" TRANSFER_JOIN(PAY_KEY("paid")) " ORDER BY p.id"},
    {"payment", "the payment", "付款", "clearing", "payable", 1, LINK_WANTED, 0,
     "SELECT " PAY_KEY("return") ", CASE WHEN p.state IN ('failed', 'requeued', 'written_off') "
                                 "THEN 1 ELSE 0 END, p.amount_fen, p.payee_type, p.payee_id, "
                                 "CASE WHEN p.state = 'written_off' THEN -1 ELSE "
                                 "COALESCE(p.settle_transfer_id, 0) END, 0, p.account_id, "
                                 "p.state," TRANSFER_COLS " FROM payments p" TRANSFER_JOIN(
                                     PAY_KEY("return")) " ORDER BY p.id"},
    {"payment", "the payment", "付款", "payable", "budget", 0, LINK_EITHER, 0,
     "SELECT " PAY_KEY("writeoff") ", CASE WHEN p.state = 'written_off' THEN 1 ELSE 0 END, "
                                   "p.amount_fen, p.payee_type, p.payee_id, "
                                   "COALESCE(p.settle_transfer_id, 0), COALESCE((SELECT r.id FROM "
                                   "ledger_transfers r WHERE r.idempotency_key = " PAY_KEY(
                                       "return") "), 0), p.account_id, p.state," TRANSFER_COLS
                                                 " FROM payments p" TRANSFER_JOIN(
                                                     PAY_KEY("writeoff")) " ORDER BY p.id"},
};

/* Checks one row of a spec's query. */
static void check_row(struct vx *x, const struct spec *sp, store_rows *r)
{
    const char *key = store_col_text(r, 0, NULL);
    int want = store_col_int(r, 1) != 0;
    int64_t amount = store_col_int(r, 2);
    const char *ptype = store_col_text(r, 3, NULL);
    int64_t pid = store_col_int(r, 4), link = store_col_int(r, 5), alt = store_col_int(r, 6);
    int64_t account = store_col_int(r, 7);
    const char *state = store_col_text(r, 8, NULL);
    int has = !store_col_isnull(r, 9);
    int64_t tid = store_col_int(r, 9), tamount = store_col_int(r, 10);
    int64_t debit = store_col_int(r, 11), credit = store_col_int(r, 12);
    const char *dkind = store_col_text(r, 13, NULL), *ckind = store_col_text(r, 16, NULL);
    char y[32], ty[32], de[128], dz[128], en[512], zh[512];
    yuan(amount, y);
    snprintf(de, sizeof de, "%s (%s%s%s yuan)", sp->what_en, state, *state ? ", " : "", y);
    snprintf(dz, sizeof dz, "%s（%s%s%s 元）", sp->what_zh, state, *state ? "，" : "", y);
    if (!want) {
        if (has) {
            snprintf(en, sizeof en, "transfer %s is posted, but %s has none", key, de);
            snprintf(zh, sizeof zh, "转账 %s 已入账，但%s不应有此转账", key, dz);
            emit(x, sp->check, key, en, zh);
        }
        if (sp->link == LINK_EXACT && link) {
            snprintf(en, sizeof en, "%s names transfer %lld, but has none", de, (long long)link);
            snprintf(zh, sizeof zh, "%s指向转账 %lld，但不应有转账", dz, (long long)link);
            emit(x, sp->check, key, en, zh);
        }
        return;
    }
    if (!has) {
        snprintf(en, sizeof en, "%s has no transfer %s", de, key);
        snprintf(zh, sizeof zh, "%s没有转账 %s", dz, key);
        emit(x, sp->check, key, en, zh);
        return;
    }
    if (tamount != amount) {
        yuan(tamount, ty);
        snprintf(en, sizeof en, "transfer %s moves %s yuan, %s", key, ty, de);
        snprintf(zh, sizeof zh, "转账 %s 金额为 %s 元，%s", key, ty, dz);
        emit(x, sp->check, key, en, zh);
    }
    if (strcmp(dkind, sp->debit) || strcmp(ckind, sp->credit)) {
        snprintf(en, sizeof en, "transfer %s goes %s -> %s, not %s -> %s", key, dkind, ckind,
                 sp->debit, sp->credit);
        snprintf(zh, sizeof zh, "转账 %s 的方向为 %s -> %s，应为 %s -> %s", key, dkind, ckind,
                 sp->debit, sp->credit);
        emit(x, sp->check, key, en, zh);
    }
    int side = sp->payee_credit ? 16 : 13;
    const char *atype = store_col_text(r, side + 1, NULL);
    int64_t aid = store_col_int(r, side + 2);
    if (strcmp(atype, ptype) || aid != pid) {
        snprintf(en, sizeof en,
                 "transfer %s: its %s account is of %s:%lld, not of the payee %s:%lld", key,
                 sp->payee_credit ? "credit" : "debit", *atype ? atype : "nobody", (long long)aid,
                 ptype, (long long)pid);
        snprintf(zh, sizeof zh, "转账 %s：%s账户属于 %s:%lld，不属于收款方 %s:%lld", key,
                 sp->payee_credit ? "贷方" : "借方", *atype ? atype : "无", (long long)aid, ptype,
                 (long long)pid);
        emit(x, sp->check, key, en, zh);
    }
    int64_t payee_account = sp->payee_credit ? credit : debit;
    if (account && payee_account != account) {
        snprintf(en, sizeof en, "transfer %s uses account %lld, the payment's account is %lld", key,
                 (long long)payee_account, (long long)account);
        snprintf(zh, sizeof zh, "转账 %s 使用账户 %lld，付款的账户为 %lld", key,
                 (long long)payee_account, (long long)account);
        emit(x, sp->check, key, en, zh);
    }
    if (link >= 0 && link != tid && !(sp->link == LINK_EITHER && alt && link == alt)) {
        snprintf(en, sizeof en, "%s names transfer %lld, not %s (%lld)", de, (long long)link, key,
                 (long long)tid);
        snprintf(zh, sizeof zh, "%s指向转账 %lld，而非 %s（%lld）", dz, (long long)link, key,
                 (long long)tid);
        emit(x, sp->check, key, en, zh);
    }
}

static int check_rows(struct vx *x)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const struct spec *sp = &specs[i];
        store_rows *r;
        int rc = store_query(x->s, sp->sql, NULL, 0, &r);
        if (rc) return failed(x, rc);
        int64_t n = 0;
        while ((rc = store_step(r)) == 1) {
            n++;
            check_row(x, sp, r);
        }
        store_rows_close(r);
        if (rc < 0) return failed(x, rc);
        if (sp->count == 1) x->out->entitlements += n;
        if (sp->count == 2) x->out->adjustments += n;
        if (sp->count == 3) x->out->payments += n;
    }
    return 0;
}

/* ---- transfers without their rows -------------------------------------- */

/* Each finds the transfers of a kind of key that no row has: the key, the
 * amount. */
static const struct {
    const char *check, *row_en, *row_zh, *sql;
} orphans[] = {
    {"entitlement", "no entitlement", "没有对应的应发记录",
     "SELECT t.idempotency_key, t.amount_fen FROM ledger_transfers t WHERE "
     "substr(t.idempotency_key, 1, 12) = 'entitlement:' AND NOT EXISTS (SELECT 1 FROM cycles c "
     "JOIN entitlements e ON e.cycle_id = c.id WHERE c.month = substr(t.idempotency_key, 13, 7) "
     "AND e.application_id = t.application_id AND t.idempotency_key = " ENT_KEY ") ORDER BY t.id"},
    {"adjustment", "no adjustment", "没有对应的调整记录",
     "SELECT t.idempotency_key, t.amount_fen FROM ledger_transfers t WHERE "
     "substr(t.idempotency_key, 1, 7) = 'adjust:' AND NOT EXISTS (SELECT 1 FROM cycles c JOIN "
     "adjustments a ON a.cycle_id = c.id WHERE c.month = substr(t.idempotency_key, 8, 7) AND "
     "a.application_id = t.application_id AND t.idempotency_key = " ADJ_KEY ") ORDER BY t.id"},
    {"payment", "no payment", "没有对应的付款",
     "SELECT t.idempotency_key, t.amount_fen FROM ledger_transfers t WHERE "
     "(substr(t.idempotency_key, 1, 5) IN ('send:', 'paid:') OR "
     "substr(t.idempotency_key, 1, 7) = 'return:' OR substr(t.idempotency_key, 1, 9) = "
     "'writeoff:') AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.request_id IN "
     "(substr(t.idempotency_key, 6), substr(t.idempotency_key, 8), substr(t.idempotency_key, 10)) "
     "AND t.idempotency_key IN (" PAY_KEY("send") ", " PAY_KEY("paid") ", " PAY_KEY(
         "return") ", " PAY_KEY("writeoff") ")) ORDER BY t.id"},
};

static int check_orphans(struct vx *x)
{
    for (size_t i = 0; i < sizeof orphans / sizeof orphans[0]; i++) {
        store_rows *r;
        int rc = store_query(x->s, orphans[i].sql, NULL, 0, &r);
        if (rc) return failed(x, rc);
        while ((rc = store_step(r)) == 1) {
            const char *key = store_col_text(r, 0, NULL);
            char y[32], en[256], zh[256];
            yuan(store_col_int(r, 1), y);
            snprintf(en, sizeof en, "transfer %s (%s yuan) has %s", key, y, orphans[i].row_en);
            snprintf(zh, sizeof zh, "转账 %s（%s 元）%s", key, y, orphans[i].row_zh);
            emit(x, orphans[i].check, key, en, zh);
        }
        store_rows_close(r);
        if (rc < 0) return failed(x, rc);
    }
    return 0;
}

/* ---- payments, payees, cycles ------------------------------------------ */

static int check_duplicates(struct vx *x)
{
    store_rows *r;
    int rc = store_query(x->s,
                         "SELECT c.month, p.account_id, p.payee_type, p.payee_id, count(*), "
                         "MIN(p.attempt), MAX(p.attempt) FROM payments p JOIN cycles c ON "
                         "c.id = p.cycle_id WHERE p.state IN ('queued', 'sent', 'paid') GROUP BY "
                         "c.month, p.account_id, p.payee_type, p.payee_id HAVING count(*) > 1 "
                         "ORDER BY c.month, p.account_id",
                         NULL, 0, &r);
    if (rc) return failed(x, rc);
    while ((rc = store_step(r)) == 1) {
        const char *month = store_col_text(r, 0, NULL), *ptype = store_col_text(r, 2, NULL);
        long long account = (long long)store_col_int(r, 1), pid = (long long)store_col_int(r, 3);
        long long n = (long long)store_col_int(r, 4), lo = (long long)store_col_int(r, 5),
                  hi = (long long)store_col_int(r, 6);
        char subject[80], en[256], zh[256];
        snprintf(subject, sizeof subject, "payments:%s:%lld", month, account);
        snprintf(en, sizeof en,
                 "cycle %s has %lld payments queued, sent or paid to %s:%lld (account %lld, "
                 "attempts %lld to %lld)",
                 month, n, ptype, pid, account, lo, hi);
        snprintf(zh, sizeof zh,
                 "发放批次 %s 向 %s:%lld 有 %lld 笔待发、已发或已付的付款（账户 %lld，第 %lld 至 "
                 "%lld 次）",
                 month, ptype, pid, n, account, lo, hi);
        emit(x, "duplicate", subject, en, zh);
    }
    store_rows_close(r);
    return rc < 0 ? failed(x, rc) : 0;
}

/* Per payee: what the ledger holds for it (its payable and paid accounts,
 * its payments in clearing) and what its rows say it is owed. */
static int check_payees(struct vx *x)
{
    store_rows *r;
    int rc = store_query(
        x->s,
        "SELECT payee_type, COALESCE(payee_id, 0), COALESCE(SUM(l), 0), COALESCE(SUM(o), 0) FROM ("
        "SELECT a.payee_type AS payee_type, a.payee_id AS payee_id, t.amount_fen AS l, 0 AS o "
        "FROM ledger_transfers t JOIN ledger_accounts a ON a.id = t.credit_account WHERE "
        "a.kind IN ('payable', 'paid') AND a.payee_type <> '' "
        "UNION ALL SELECT a.payee_type, a.payee_id, -t.amount_fen, 0 FROM ledger_transfers t JOIN "
        "ledger_accounts a ON a.id = t.debit_account WHERE a.kind IN ('payable', 'paid') AND "
        "a.payee_type <> '' "
        "UNION ALL SELECT payee_type, payee_id, amount_fen, 0 FROM payments WHERE state IN "
        "('queued', 'sent') "
        "UNION ALL SELECT payee_type, payee_id, 0, amount_fen FROM entitlements WHERE "
        "amount_fen > 0 "
        "UNION ALL SELECT payee_type, payee_id, 0, CASE WHEN kind = 'arrears' THEN amount_fen "
        "ELSE -amount_fen END FROM adjustments "
        "UNION ALL SELECT payee_type, payee_id, 0, -amount_fen FROM payments WHERE state = "
        "'written_off') x GROUP BY payee_type, COALESCE(payee_id, 0) "
        "ORDER BY payee_type, COALESCE(payee_id, 0)",
        NULL, 0, &r);
    if (rc) return failed(x, rc);
    while ((rc = store_step(r)) == 1) {
        x->out->payees++;
        int64_t held = store_col_int(r, 2), owed = store_col_int(r, 3);
        if (held == owed) continue;
        const char *ptype = store_col_text(r, 0, NULL);
        long long pid = (long long)store_col_int(r, 1);
        char subject[64], h[32], o[32], en[256], zh[256];
        snprintf(subject, sizeof subject, "payee:%s:%lld", ptype, pid);
        yuan(held, h);
        yuan(owed, o);
        snprintf(en, sizeof en,
                 "payee %s:%lld: payable, paid and in clearing %s yuan; entitlements and arrears "
                 "less recoveries and write-offs %s yuan",
                 ptype, pid, h, o);
        snprintf(zh, sizeof zh,
                 "收款方 %s:%lld：应付、已付与清算中合计 %s 元；应发加补发减追回与核销为 %s 元",
                 ptype, pid, h, o);
        emit(x, "payee", subject, en, zh);
    }
    store_rows_close(r);
    return rc < 0 ? failed(x, rc) : 0;
}

static int check_cycles(struct vx *x)
{
    store_rows *r;
    int rc = store_query(x->s,
                         "SELECT c.month, c.entitlements, c.total_fen, (SELECT count(*) FROM "
                         "entitlements e WHERE e.cycle_id = c.id), (SELECT "
                         "COALESCE(SUM(e.amount_fen), 0) FROM entitlements e WHERE e.cycle_id = "
                         "c.id) FROM cycles c WHERE c.state <> 'draft' ORDER BY c.month",
                         NULL, 0, &r);
    if (rc) return failed(x, rc);
    while ((rc = store_step(r)) == 1) {
        x->out->cycles++;
        const char *month = store_col_text(r, 0, NULL);
        long long n = (long long)store_col_int(r, 1), rows = (long long)store_col_int(r, 3);
        int64_t total = store_col_int(r, 2), sum = store_col_int(r, 4);
        if (n == rows && total == sum) continue;
        char subject[32], t1[32], t2[32], en[256], zh[256];
        snprintf(subject, sizeof subject, "cycle:%s", month);
        yuan(total, t1);
        yuan(sum, t2);
        snprintf(en, sizeof en,
                 "cycle %s records %lld entitlements of %s yuan; its rows are %lld of %s yuan",
                 month, n, t1, rows, t2);
        snprintf(zh, sizeof zh, "发放批次 %s 记载 %lld 笔共 %s 元；其应发记录为 %lld 笔共 %s 元",
                 month, n, t1, rows, t2);
        emit(x, "cycle", subject, en, zh);
    }
    store_rows_close(r);
    return rc < 0 ? failed(x, rc) : 0;
}

static int verify_body(store *s, void *vctx)
{
    struct vx *x = vctx;
    (void)s;
    memset(x->out, 0, sizeof *x->out);
    int64_t sum = 0, n = 0;
    ql_err e;
    int rc = ledger_check(x->s, &sum, &n, &e);
    if (rc) return failed(x, rc);
    x->out->transfers = n;
    x->out->sum_fen = sum;
    if (sum) {
        char y[32], en[128], zh[128];
        yuan(sum, y);
        snprintf(en, sizeof en, "the balances of all accounts sum to %s yuan, not 0", y);
        snprintf(zh, sizeof zh, "全部账户余额之和为 %s 元，而非 0", y);
        emit(x, "balance", "", en, zh);
    }
    if ((rc = check_rows(x)) || (rc = check_orphans(x)) || (rc = check_duplicates(x)) ||
        (rc = check_payees(x)) || (rc = check_cycles(x)))
        return rc;
    return 0;
}

int ledger_verify(store *s, const actor *a, ledger_violation_fn fn, void *ctx,
                  struct ledger_verify_report *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    if (!actor_can(a, P_LEDGER_RUN) && !actor_can(a, P_LEDGER_APPROVE) &&
        !actor_can(a, P_LEDGER_EXPORT) && !actor_can(a, P_AUDIT_VERIFY))
        return actor_require(a, P_LEDGER_RUN, err);
    struct vx x = {s, fn, ctx, out, err};
    return store_tx(s, STORE_TX_READ, verify_body, &x);
}
