/* ledger.c - the double-entry ledger (ledger.h). */
#include "ledger/ledger.h"

#include "core/text.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const kinds[LK_COUNT] = {"budget", "payable", "clearing", "paid", "receivable"};

const char *ledger_kind_name(enum ledger_kind k)
{
    return k >= 0 && k < LK_COUNT ? kinds[k] : "?";
}

static int text_ok(const char *v, size_t min, size_t max)
{
    size_t n = v ? strlen(v) : 0;
    return n >= min && n <= max && (n == 0 || text_valid(v, n, 0));
}

static int account_ok(const struct ledger_account *a, ql_err *err)
{
    if (!text_ok(a->code, 1, 100))
        return ql_errf(err, QL_EINVAL, "code", "an account code is 1 to 100 bytes of text",
                       "账户代码须为 1 至 100 字节的文字");
    if (a->kind < 0 || a->kind >= LK_COUNT)
        return ql_errf(err, QL_EINVAL, "kind", "unknown account kind", "未知的账户类别");
    const char *pt = a->payee_type ? a->payee_type : "";
    if (strcmp(pt, "") && strcmp(pt, "person") && strcmp(pt, "employer") && strcmp(pt, "operator"))
        return ql_errf(err, QL_EINVAL, "payee_type",
                       "the payee type is person, employer or operator",
                       "收款方类别须为 person、employer 或 operator");
    if (!text_ok(a->programme ? a->programme : "", 0, 40))
        return ql_errf(err, QL_EINVAL, "programme", "the programme is at most 40 bytes",
                       "项目代码不超过 40 字节");
    return 0;
}

/* The account of code a->code: 0 with *id, 1 when there is none, or an
 * error (QL_ECONFLICT for another kind). */
static int account_find(store *s, const struct ledger_account *a, int64_t *id, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s, "SELECT id, kind FROM ledger_accounts WHERE code = $1",
                         (store_val[]){SV_TEXT(a->code)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    char kind[16] = "";
    if ((rc = store_step(r)) == 1) {
        *id = store_col_int(r, 0);
        snprintf(kind, sizeof kind, "%s", store_col_text(r, 1, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (rc == 0) return 1;
    if (strcmp(kind, kinds[a->kind]))
        return ql_errf(err, QL_ECONFLICT, "code", "account %s is a %s account, not %s",
                       "账户 %s 的类别是 %s，不是 %s", a->code, kind, kinds[a->kind]);
    return 0;
}

/* Inserts account a; QL_ECONFLICT (inserting nothing) when its code exists. */
static int account_insert(store *s, const struct ledger_account *a, int64_t *id)
{
    store_val v[] = {SV_TEXT(a->code),
                     SV_TEXT(kinds[a->kind]),
                     SV_TEXT(a->programme ? a->programme : ""),
                     SV_TEXT(a->payee_type ? a->payee_type : ""),
                     a->payee_id ? SV_INT(a->payee_id) : SV_NULL,
                     SV_INT((int64_t)time(NULL))};
    return store_insert(s,
                        "INSERT INTO ledger_accounts (code, kind, programme, payee_type, payee_id, "
                        "created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING",
                        v, 6, id);
}

int ledger_account_id(store *s, const struct ledger_account *a, int64_t *id, ql_err *err)
{
    int rc = account_ok(a, err);
    if (!rc && (rc = account_find(s, a, id, err)) == 1 && (rc = account_insert(s, a, id)))
        rc = store_failure(s, rc, "", err);
    return rc;
}

int ledger_account_new(store *s, const struct ledger_account *a, int64_t *id, ql_err *err)
{
    int rc = account_ok(a, err);
    if (rc) return rc;
    if ((rc = account_insert(s, a, id)) != QL_ECONFLICT)
        return rc ? store_failure(s, rc, "", err) : 0;
    rc = account_find(s, a, id, err);
    if (rc == 1) /* gone between the two statements: not inside a transaction */
        return ql_errf(err, QL_EINTERNAL, "code", "account %s could not be made",
                       "账户 %s 无法建立", a->code);
    return rc;
}

struct post_ctx {
    const struct ledger_transfer *t;
    int64_t *id;
    int *duplicate;
    ql_err *err;
};

/* The transfer posted under t->key before, if any: 0 with *x->id and
 * *x->duplicate set, 1 when there is none, or an error (QL_ECONFLICT, field
 * "key", for other content). */
static int posted_before(store *s, struct post_ctx *x)
{
    const struct ledger_transfer *t = x->t;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, debit_account, credit_account, amount_fen FROM "
                         "ledger_transfers WHERE idempotency_key = $1",
                         (store_val[]){SV_TEXT(t->key)}, 1, &r);
    if (rc) return store_failure(s, rc, "", x->err);
    int64_t id = 0, debit = 0, credit = 0, amount = 0;
    if ((rc = store_step(r)) == 1) {
        id = store_col_int(r, 0);
        debit = store_col_int(r, 1);
        credit = store_col_int(r, 2);
        amount = store_col_int(r, 3);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", x->err);
    if (rc == 0) return 1;
    if (debit != t->debit || credit != t->credit || amount != t->amount_fen)
        return ql_errf(x->err, QL_ECONFLICT, "key",
                       "transfer %s was posted before with other accounts or another amount",
                       "转账 %s 已以不同的账户或金额记账", t->key);
    *x->id = id;
    *x->duplicate = 1;
    return 0;
}

/* Inserts t; a key posted already inserts nothing (QL_ECONFLICT). */
static int insert_transfer(store *s, struct post_ctx *x)
{
    const struct ledger_transfer *t = x->t;
    store_val v[] = {SV_TEXT(t->key),
                     SV_INT(t->debit),
                     SV_INT(t->credit),
                     SV_INT(t->amount_fen),
                     SV_TEXT(t->cycle ? t->cycle : ""),
                     t->application_id ? SV_INT(t->application_id) : SV_NULL,
                     SV_TEXT(t->memo ? t->memo : ""),
                     SV_INT((int64_t)time(NULL))};
    return store_insert(s,
                        "INSERT INTO ledger_transfers (idempotency_key, debit_account, "
                        "credit_account, amount_fen, cycle, application_id, memo, created_at) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                        "ON CONFLICT (idempotency_key) DO NOTHING",
                        v, 8, x->id);
}

static int post_body(store *s, void *vctx)
{
    struct post_ctx *x = vctx;
    const struct ledger_transfer *t = x->t;
    *x->duplicate = 0;
    int rc = posted_before(s, x);
    if (rc <= 0) return rc;
    int64_t n = 0;
    rc = store_query_int(s, "SELECT count(*) FROM ledger_accounts WHERE id IN ($1, $2)",
                         (store_val[]){SV_INT(t->debit), SV_INT(t->credit)}, 2, &n);
    if (rc) return store_failure(s, rc, "", x->err);
    if (n != 2)
        return ql_errf(x->err, QL_EINVAL, "account", "an account of the transfer does not exist",
                       "转账的账户不存在");
    rc = insert_transfer(s, x);
    return rc ? store_failure(s, rc, "", x->err) : 0;
}

/* Accounts known to exist: insert first, look only on a conflict. */
static int post_known_body(store *s, void *vctx)
{
    struct post_ctx *x = vctx;
    *x->duplicate = 0;
    int rc = insert_transfer(s, x);
    if (rc != QL_ECONFLICT) return rc ? store_failure(s, rc, "", x->err) : 0;
    rc = posted_before(s, x);
    if (rc == 1)
        return ql_errf(x->err, QL_EINVAL, "account", "an account of the transfer does not exist",
                       "转账的账户不存在");
    return rc;
}

static int post_checked(store *s, const struct ledger_transfer *t, int64_t *id, int *duplicate,
                        store_tx_fn body, ql_err *err)
{
    int dup = 0;
    if (!duplicate) duplicate = &dup;
    if (!text_ok(t->key, 1, 120))
        return ql_errf(err, QL_EINVAL, "key", "the idempotency key is 1 to 120 bytes of text",
                       "幂等键须为 1 至 120 字节的文字");
    if (t->amount_fen <= 0)
        return ql_errf(err, QL_EINVAL, "amount_fen", "a transfer moves more than 0 fen",
                       "转账金额须大于 0 分");
    if (t->debit == t->credit)
        return ql_errf(err, QL_EINVAL, "credit", "a transfer moves money between two accounts",
                       "转账须在两个不同账户之间");
    if (!text_ok(t->memo ? t->memo : "", 0, 500) || !text_ok(t->cycle ? t->cycle : "", 0, 7))
        return ql_errf(err, QL_EINVAL, "memo", "the memo is at most 500 bytes of text",
                       "摘要不超过 500 字节");
    struct post_ctx x = {t, id, duplicate, err};
    if (store_in_tx(s)) return body(s, &x);
    return store_tx(s, STORE_TX_WRITE, body, &x);
}

int ledger_post(store *s, const struct ledger_transfer *t, int64_t *id, int *duplicate, ql_err *err)
{
    return post_checked(s, t, id, duplicate, post_body, err);
}

int ledger_post_known(store *s, const struct ledger_transfer *t, int64_t *id, int *duplicate,
                      ql_err *err)
{
    return post_checked(s, t, id, duplicate, post_known_body, err);
}

int ledger_balance(store *s, int64_t account, int64_t *fen, ql_err *err)
{
    store_val a[] = {SV_INT(account)};
    int64_t credit = 0, debit = 0;
    int rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_transfers WHERE "
                             "credit_account = $1",
                             a, 1, &credit);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_transfers WHERE "
                             "debit_account = $1",
                             a, 1, &debit);
    if (rc) return store_failure(s, rc, "", err);
    *fen = credit - debit;
    return 0;
}

int ledger_check(store *s, int64_t *sum, int64_t *transfers, ql_err *err)
{
    int64_t credit = 0, debit = 0;
    int rc = store_query_int(s, "SELECT count(*) FROM ledger_transfers", NULL, 0, transfers);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_transfers t JOIN "
                             "ledger_accounts a ON a.id = t.credit_account",
                             NULL, 0, &credit);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_transfers t JOIN "
                             "ledger_accounts a ON a.id = t.debit_account",
                             NULL, 0, &debit);
    if (rc) return store_failure(s, rc, "", err);
    *sum = credit - debit;
    return 0;
}
