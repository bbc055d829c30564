/* bank.c - payments to the bank: export, results, re-queue, write-off
 * (bank.h). */
#include "ledger/bank_impl.h"

#include "audit/audit.h"
#include "core/date.h"
#include "core/export.h"
#include "core/log.h"
#include "core/pii.h"
#include "core/text.h"
#include "core/validate.h"
#include "core/xalloc.h"
#include "ledger/ledger.h"
#include "policy/rules.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 500 /* rows per transaction */

struct cyc {
    int64_t id;
    char month[8], state[16];
    int64_t payee_seq; /* the payee clock at approval (INT64_MAX: none, pays the cards on record) */
};

static int find_cycle(store *s, const char *month, struct cyc *c, ql_err *err)
{
    int32_t first;
    if (!month || date_parse_month(month, &first))
        return ql_errf(err, QL_EINVAL, "month", "the month must be YYYY-MM",
                       "月份格式应为 YYYY-MM");
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, month, state, COALESCE(payee_seq, -1) FROM cycles WHERE "
                         "month = $1",
                         (store_val[]){SV_TEXT(month)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    if ((rc = store_step(r)) == 1) {
        c->id = store_col_int(r, 0);
        snprintf(c->month, sizeof c->month, "%s", store_col_text(r, 1, NULL));
        snprintf(c->state, sizeof c->state, "%s", store_col_text(r, 2, NULL));
        c->payee_seq = store_col_int(r, 3) < 0 ? INT64_MAX : store_col_int(r, 3);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (rc == 0)
        return ql_errf(err, QL_ENOTFOUND, "month", "there is no cycle for %s", "%s 没有发放批次",
                       month);
    return 0;
}

static int set_state(store *s, int64_t cycle, const char *from, const char *to, ql_err *err)
{
    int rc = store_exec(s, "UPDATE cycles SET state = $1 WHERE id = $2 AND state = $3",
                        (store_val[]){SV_TEXT(to), SV_INT(cycle), SV_TEXT(from)}, 3, NULL);
    return rc ? store_failure(s, rc, "", err) : 0;
}

static int account(store *s, const char *code, enum ledger_kind k, const char *payee_type,
                   int64_t payee_id, int64_t *id, ql_err *err)
{
    struct ledger_account a = {code, k, "", payee_type, payee_id};
    return ledger_account_id(s, &a, id, err);
}

static int post(store *s, const char *key, int64_t debit, int64_t credit, int64_t fen,
                const char *month, const char *memo, int64_t *id, ql_err *err)
{
    struct ledger_transfer t = {key, debit, credit, fen, month, 0, memo};
    int dup;
    return ledger_post_known(s, &t, id, &dup, err);
}

/* A payee's bank account on record now: plain (for the file), blind index
 * and masked form. Returns 1 when there is one, 0 when not, or an error. */
static int payee_account(const void *sealed, size_t slen, const char *corporate, char *plain,
                         size_t n, char idx[PII_INDEX_HEX], char *masked, size_t mn, ql_err *err)
{
    char raw[64];
    if (sealed && slen) {
        int rc = pii_open(PII_BANK_ACCOUNT, sealed, slen, raw, sizeof raw, err);
        if (rc) return rc;
    } else if (corporate && *corporate) {
        snprintf(raw, sizeof raw, "%s", corporate);
    } else {
        return 0;
    }
    pii_normalize(PII_BANK_ACCOUNT, raw, plain, n);
    pii_index(PII_BANK_ACCOUNT, plain, idx);
    pii_mask(PII_BANK_ACCOUNT, plain, masked, mn);
    sodium_memzero(raw, sizeof raw);
    return 1;
}

#define PAYEE_JOIN                                                                                 \
    "LEFT JOIN talents t ON a.payee_type = 'person' AND t.id = a.payee_id "                        \
    "LEFT JOIN employers e ON a.payee_type = 'employer' AND e.id = a.payee_id "                    \
    "LEFT JOIN operators o ON a.payee_type = 'operator' AND o.id = a.payee_id "

/* ---- export: payments, a batch at a time ------------------------------- */

struct batch_row {
    int64_t id, records, total, at;
    char no[33];
};

/* A payment made by send_page, kept (with the payee's account in the clear)
 * until its batch's file is written; zeroed then (dues_clear). */
struct due {
    int64_t acct, payee, fen;
    int attempt;
    char type[12], rid[33], plain[48], idx[PII_INDEX_HEX], masked[48];
    char *name; /* whole, as the store holds it (the file rewritten from the store has it) */
};

/* The accounts send_page reads at most for one batch, when few of them have
 * money due (a run after the payments were made): the transaction stays
 * short; its batch, if any, holds fewer than the batch size. */
#define SCAN_MAX 5000

/* A page's counts go to the run's once the page has committed: a
 * transaction run again (QL_EBUSY, PostgreSQL's serialization failures)
 * reads the same accounts and counts them once. */
struct xq {
    const struct cyc *c;
    const actor *a;
    int size;      /* records in a batch at most */
    int64_t after; /* last payable account of the pages committed */
    int64_t clearing;
    int64_t queued, held, held_fen; /* the pages committed */
    int64_t held_by[BANK_HOLD_COUNT];
    /* this page */
    bool end; /* no payable account after last */
    int64_t last, p_held, p_fen;
    int64_t p_by[BANK_HOLD_COUNT];
    int64_t p_holds;         /* payment_holds rows written */
    struct bank_hold_row *h; /* the payees held, in account order */
    int nh, caph;
    struct due *d;
    int nd;
    int64_t scanned;     /* accounts read by this page */
    struct batch_row br; /* the batch made, when nd > 0 */
    ql_err *err;
};

/* Forgets the dues of the page: names freed, accounts zeroed. */
static void dues_clear(struct xq *x)
{
    for (int i = 0; i < x->nd; i++) free(x->d[i].name);
    sodium_memzero(x->d, (size_t)x->nd * sizeof *x->d);
    x->nd = 0;
}

/* Inserts the cycle's next batch (number QLM<YYYYMM>-<seq>) of br->records
 * payments and br->total fen, made by a now; fills br->id, no and at. */
static int make_batch(store *s, const struct cyc *c, const actor *a, struct batch_row *br,
                      ql_err *err)
{
    int64_t seq = 0;
    int rc = store_query_int(s, "SELECT count(*) FROM bank_batches WHERE cycle_id = $1",
                             (store_val[]){SV_INT(c->id)}, 1, &seq);
    if (rc) return store_failure(s, rc, "", err);
    snprintf(br->no, sizeof br->no, "QLM%.4s%.2s-%04lld", c->month, c->month + 5,
             (long long)seq + 1);
    br->at = (int64_t)time(NULL);
    char who[128];
    actor_label(a, who);
    rc = store_insert(s,
                      "INSERT INTO bank_batches (cycle_id, batch_no, records, total_fen, "
                      "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                      (store_val[]){SV_INT(c->id), SV_TEXT(br->no), SV_INT(br->records),
                                    SV_INT(br->total), SV_TEXT(who), SV_INT(br->at)},
                      6, &br->id);
    return rc ? store_failure(s, rc, "", err) : 0;
}

/* The card an approved cycle pays a person: the one on record, unless a
 * change was confirmed after the approval (payee clock value $5): then the
 * card that change replaced (NULL when the person had none). With it, for
 * the holds: whether the person has a card on record now, whether a
 * correction of their identity is open, and whether another person has
 * that card on record. */
#define PAYEE_CARD       "CASE WHEN pc.id IS NULL THEN t.bank_enc ELSE pc.old_enc END"
#define PAYEE_CARD_INDEX "CASE WHEN pc.id IS NULL THEN t.bank_index ELSE pc.old_index END"
#define PAYEE_CARD_JOIN                                                                            \
    "LEFT JOIN payee_changes pc ON pc.talent_id = t.id AND pc.state = 'confirmed' AND pc.seq = "   \
    "(SELECT MIN(c2.seq) FROM payee_changes c2 WHERE c2.talent_id = t.id AND c2.state = "          \
    "'confirmed' AND c2.seq > $5) "
#define PAYEE_HOLDS                                                                                \
    "CASE WHEN t.bank_index IS NULL THEN 0 ELSE 1 END, (SELECT count(*) FROM "                     \
    "identity_corrections ic WHERE ic.talent_id = t.id AND ic.reviewed_at IS NULL), (SELECT "      \
    "count(*) FROM talents t2 WHERE t2.bank_index = " PAYEE_CARD_INDEX " AND t2.id <> t.id)"

/* Counts a payee held by this page and keeps it for payment_holds. */
static void hold(struct xq *x, const char *type, int64_t payee, int64_t fen, enum bank_hold why)
{
    x->p_held++;
    x->p_fen += fen;
    x->p_by[why]++;
    if (x->nh == x->caph) {
        x->caph = x->caph ? x->caph * 2 : 64;
        x->h = xrealloc(x->h, (size_t)x->caph * sizeof *x->h);
    }
    struct bank_hold_row *h = &x->h[x->nh++];
    h->acct = x->last;
    h->payee = payee;
    h->fen = fen;
    h->reason = why;
    snprintf(h->type, sizeof h->type, "%s", type);
}

/* Reads payable accounts after x->last, at most want of them, adding a due
 * payment to x->d for each with money due and a bank account; sets x->end
 * when fewer than want were left. */
static int read_dues(store *s, struct xq *x, int want)
{
    ql_err *err = x->err;
    store_rows *r;
    int rc = store_query(
        s,
        "SELECT a.id, a.payee_type, COALESCE(a.payee_id, 0), "
        "(SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_transfers WHERE credit_account = a.id "
        "AND cycle <= $1) - (SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_transfers WHERE "
        "debit_account = a.id AND cycle <= $1) - (SELECT COALESCE(SUM(amount_fen), 0) FROM "
        "payments WHERE account_id = a.id AND state = 'failed'), "
        "(SELECT COALESCE(MAX(attempt), 0) FROM payments WHERE account_id = a.id AND cycle_id = "
        "$3), " PAYEE_CARD ", COALESCE(e.bank_account, o.bank_account, ''), "
        "COALESCE(t.name, e.name, o.name, ''), " PAYEE_HOLDS
        " FROM ledger_accounts a " PAYEE_JOIN PAYEE_CARD_JOIN
        "WHERE a.kind = 'payable' AND a.id > $2 ORDER BY a.id LIMIT $4",
        (store_val[]){SV_TEXT(x->c->month), SV_INT(x->last), SV_INT(x->c->id), SV_INT(want),
                      SV_INT(x->c->payee_seq)},
        5, &r);
    if (rc) return store_failure(s, rc, "", err);
    int seen = 0, step;
    while ((step = store_step(r)) == 1) {
        seen++;
        x->last = store_col_int(r, 0);
        int64_t fen = store_col_int(r, 3);
        if (fen <= 0) continue;
        struct due *p = &x->d[x->nd];
        size_t slen = 0;
        const void *sealed = store_col_isnull(r, 5) ? NULL : store_col_blob(r, 5, &slen);
        int has = payee_account(sealed, slen, store_col_text(r, 6, NULL), p->plain, sizeof p->plain,
                                p->idx, p->masked, sizeof p->masked, err);
        if (has < 0) {
            rc = has;
            break;
        }
        /* held: why, in this order (registry/payee.h) */
        enum bank_hold why = store_col_int(r, 9)           ? BANK_HOLD_IDENTITY
                             : !has && store_col_int(r, 8) ? BANK_HOLD_CARD_AFTER_APPROVAL
                             : !has                        ? BANK_HOLD_NO_ACCOUNT
                             : store_col_int(r, 10)        ? BANK_HOLD_SHARED_CARD
                                                           : 0;
        if (why) {
            sodium_memzero(p->plain, sizeof p->plain);
            hold(x, store_col_text(r, 1, NULL), store_col_int(r, 2), fen, why);
            continue;
        }
        p->acct = x->last;
        snprintf(p->type, sizeof p->type, "%s", store_col_text(r, 1, NULL));
        p->name = xstrdup(store_col_text(r, 7, NULL));
        p->payee = store_col_int(r, 2);
        p->fen = fen;
        p->attempt = (int)store_col_int(r, 4) + 1;
        snprintf(p->rid, sizeof p->rid, "%.4s%.2s-%lld-%d", x->c->month, x->c->month + 5,
                 (long long)p->acct, p->attempt);
        x->nd++;
    }
    store_rows_close(r);
    if (!rc && step < 0) rc = store_failure(s, step, "", err);
    x->scanned += seen;
    if (!rc && seen < want) x->end = true;
    return rc;
}

/* One batch: payable accounts in order until x->size of them have money due
 * (or none is left), a payment for each, moved to the bank clearing account,
 * and the batch that holds them; payees without a bank account are counted
 * as held. */
static int send_page(store *s, void *vctx)
{
    struct xq *x = vctx;
    ql_err *err = x->err;
    dues_clear(x); /* of an attempt run again */
    x->end = false;
    x->last = x->after;
    x->p_held = x->p_fen = 0;
    memset(x->p_by, 0, sizeof x->p_by);
    x->nh = 0;
    x->scanned = 0;
    int rc = 0;
    while (!rc && !x->end && x->nd < x->size &&
           x->scanned < (x->size > SCAN_MAX ? x->size : SCAN_MAX)) {
        int want = x->size - x->nd;
        rc = read_dues(s, x, want < PAGE ? want : PAGE);
    }
    if (!rc) rc = bank_holds_sync(s, x->c->id, x->after, x->last, x->h, x->nh, &x->p_holds, err);
    if (rc || !x->nd) return rc;
    struct batch_row *br = &x->br;
    br->records = x->nd;
    br->total = 0;
    for (int i = 0; i < x->nd; i++) br->total += x->d[i].fen;
    if ((rc = make_batch(s, x->c, x->a, br, err))) return rc;
    int64_t now = br->at;
    for (int i = 0; i < x->nd && !rc; i++) {
        const struct due *p = &x->d[i];
        char key[64];
        snprintf(key, sizeof key, "send:%s", p->rid);
        int64_t tid = 0, pid;
        if ((rc = post(s, key, p->acct, x->clearing, p->fen, x->c->month, "payment", &tid, err)))
            break;
        store_val row[] = {SV_TEXT(p->rid),  SV_INT(x->c->id), SV_INT(p->acct),
                           SV_TEXT(p->type), SV_INT(p->payee), SV_INT(p->attempt),
                           SV_INT(p->fen),   SV_TEXT(p->idx),  SV_TEXT(p->masked),
                           SV_INT(br->id),   SV_INT(tid),      SV_INT(now)};
        rc = store_insert(s,
                          "INSERT INTO payments (request_id, cycle_id, account_id, payee_type, "
                          "payee_id, attempt, amount_fen, bank_index, bank_masked, state, "
                          "batch_id, send_transfer_id, created_at) VALUES ($1, $2, $3, $4, $5, "
                          "$6, $7, $8, $9, 'sent', $10, $11, $12)",
                          row, 12, &pid);
        if (rc) rc = store_failure(s, rc, "", err);
    }
    return rc;
}

/* ---- export: batches ----------------------------------------------------- */

struct xb {
    const struct cyc *c;
    const actor *a;
    int size;
    int64_t made; /* batches made by this page (0 or 1) */
    ql_err *err;
};

static int batch_page(store *s, void *vctx)
{
    struct xb *x = vctx;
    ql_err *err = x->err;
    x->made = 0;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, amount_fen FROM payments WHERE cycle_id = $1 AND state = "
                         "'queued' ORDER BY id LIMIT $2",
                         (store_val[]){SV_INT(x->c->id), SV_INT(x->size)}, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    int64_t lo = 0, hi = 0, n = 0, total = 0;
    while ((rc = store_step(r)) == 1) {
        hi = store_col_int(r, 0);
        if (!n) lo = hi;
        n++;
        total += store_col_int(r, 1);
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (!n) return 0;
    struct batch_row br = {.records = n, .total = total};
    if ((rc = make_batch(s, x->c, x->a, &br, err))) return rc;
    int64_t changed = 0;
    rc = store_exec(s,
                    "UPDATE payments SET state = 'sent', batch_id = $1 WHERE cycle_id = $2 AND "
                    "state = 'queued' AND id >= $3 AND id <= $4",
                    (store_val[]){SV_INT(br.id), SV_INT(x->c->id), SV_INT(lo), SV_INT(hi)}, 4,
                    &changed);
    if (rc) return store_failure(s, rc, "", err);
    if (changed != n)
        return ql_errf(err, QL_EINTERNAL, "", "batch %s: %lld payments, %lld moved",
                       "批次 %s：%lld 笔付款，实际 %lld 笔", br.no, (long long)n,
                       (long long)changed);
    x->made = 1;
    return 0;
}

/* ---- export: files -------------------------------------------------------- */

static int write_all(int fd, const buf *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        off += (size_t)w;
    }
    return 0;
}

/* A batch file being made: its path and the text so far. */
struct bfile {
    bool fixed;
    const bank_layout *l;
    const struct batch_row *br;
    struct bank_values v;
    char path[4096], ymd[12], cyc[8], purpose[64];
    int64_t seq;
    buf b;
};

/* Starts the file of batch br in dir: 1 when it is there already (written
 * before), else 0 with the header in f->b, or an error. */
static int bfile_open(struct bfile *f, const struct cyc *c, const struct bank_export_opts *o,
                      const bank_layout *l, const struct batch_row *br, ql_err *err)
{
    memset(f, 0, sizeof *f);
    f->fixed = o->format == BANK_FIXED;
    f->l = l;
    f->br = br;
    snprintf(f->path, sizeof f->path, "%s/%s.%s", o->dir, br->no, f->fixed ? "txt" : "csv");
    struct stat st;
    if (stat(f->path, &st) == 0) return 1;
    char date[16];
    date_format(date_from_ymd(1970, 1, 1) + (int32_t)((br->at + 8 * 3600) / 86400), date,
                sizeof date);
    snprintf(f->ymd, sizeof f->ymd, "%.4s%.2s%.2s", date, date + 5, date + 8);
    snprintf(f->cyc, sizeof f->cyc, "%.4s%.2s", c->month, c->month + 5);
    snprintf(f->purpose, sizeof f->purpose, "人才租房补贴 %s", c->month);
    struct bank_values v = {br->no, f->ymd, f->cyc,     br->records, br->total, "",
                            "",     "",     f->purpose, "",          0,         0};
    f->v = v;
    f->b = (buf)BUF_INIT;
    if (f->fixed) return bank_layout_record(l, BR_HEADER, &f->v, &f->b, err);
    buf_puts(&f->b, "batch_no,seq,request_id,account,name,amount,currency,purpose\r\n");
    return 0;
}

/* Adds a payment's line. The payee's name (and account) as the store has
 * them, with any character no name may hold now (controls, separators,
 * bidirectional and invisible characters, malformed bytes: stored before
 * the rule at input) as '?', in either format; in CSV every text field is
 * written as the registry's exports write it (export_csv_text: a name
 * starting with = + - @ gets the apostrophe and is no formula). */
static int bfile_line(struct bfile *f, const char *rid, const char *payee_type, int64_t fen,
                      const char *plain, const char *name, ql_err *err)
{
    char *nm = text_dup_fine(name), *acct = text_dup_fine(plain);
    struct bank_values *v = &f->v;
    v->request_id = rid;
    v->account = acct;
    v->name = nm;
    v->payee_type = payee_type;
    v->amount_fen = fen;
    v->seq = ++f->seq;
    int rc = 0;
    if (f->fixed) {
        rc = bank_layout_record(f->l, BR_DETAIL, v, &f->b, err);
    } else {
        char num[24], yuan[32];
        snprintf(num, sizeof num, "%lld", (long long)f->seq);
        validate_money_text(fen, yuan, sizeof yuan);
        const char *fl[] = {f->br->no, num, rid, acct, nm, yuan, "CNY", f->purpose};
        for (int i = 0; i < 8; i++) {
            if (i == 1 || i == 5) /* numbers */
                buf_puts(&f->b, fl[i]);
            else
                export_csv_text(&f->b, fl[i]);
            buf_puts(&f->b, i == 7 ? "\r\n" : ",");
        }
    }
    sodium_memzero(acct, strlen(acct));
    free(acct);
    free(nm);
    v->account = v->name = "";
    return rc;
}

/* Ends the file (rc: what building it returned): the trailer, then a
 * temporary file, synced, renamed (the file is whole or absent); the text
 * is zeroed and freed in any case. */
static int bfile_close(struct bfile *f, int rc, ql_err *err)
{
    if (!rc && f->fixed) rc = bank_layout_record(f->l, BR_TRAILER, &f->v, &f->b, err);
    if (!rc && f->seq != f->br->records)
        rc = ql_errf(err, QL_EINTERNAL, "", "batch %s holds %lld payments, not %lld",
                     "批次 %s 含 %lld 笔付款，而非 %lld 笔", f->br->no, (long long)f->seq,
                     (long long)f->br->records);
    if (!rc) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write_all(fd, &f->b) || fsync(fd)) {
            rc = ql_errf(err, QL_EIO, "dir", "cannot write %s: %s", "无法写入 %s：%s", tmp,
                         strerror(errno));
        } else if (rename(tmp, f->path)) {
            rc = ql_errf(err, QL_EIO, "dir", "cannot rename %s: %s", "无法重命名 %s：%s", tmp,
                         strerror(errno));
        }
        if (fd >= 0) close(fd);
        if (rc) unlink(tmp);
    }
    sodium_memzero(f->b.data, f->b.len);
    buf_free(&f->b);
    return rc;
}

/* Writes the batch send_page made, from its payments in memory (the file
 * write_batch would write from the store, byte for byte); 1 when the file
 * was there already. */
static int write_sent(const struct cyc *c, const struct bank_export_opts *o, const bank_layout *l,
                      const struct xq *x, ql_err *err)
{
    struct bfile f;
    int rc = bfile_open(&f, c, o, l, &x->br, err);
    if (rc == 1) return 1;
    for (int i = 0; !rc && i < x->nd; i++)
        rc = bfile_line(&f, x->d[i].rid, x->d[i].type, x->d[i].fen, x->d[i].plain, x->d[i].name,
                        err);
    return bfile_close(&f, rc, err);
}

/* The card a person's payment was made with: the one on record, or one a
 * confirmed change replaced (found by the payment's blind index). */
#define PAYMENT_CARD                                                                               \
    "CASE WHEN t.bank_index = p.bank_index THEN t.bank_enc ELSE (SELECT pc.old_enc FROM "          \
    "payee_changes pc WHERE pc.talent_id = t.id AND pc.state = 'confirmed' AND pc.old_index = "    \
    "p.bank_index ORDER BY pc.seq DESC LIMIT 1) END"

/* Writes batch br to dir as <batch_no>.csv or .txt from its payments in the
 * store; 1 when the file was there already. */
static int write_batch(store *s, const struct cyc *c, const struct bank_export_opts *o,
                       const bank_layout *l, const struct batch_row *br, ql_err *err)
{
    struct bfile f;
    int rc = bfile_open(&f, c, o, l, br, err);
    if (rc == 1) return 1;
    store_rows *r = NULL;
    if (!rc && (rc = store_query(
                    s,
                    "SELECT p.request_id, p.payee_type, p.amount_fen, p.bank_index, " PAYMENT_CARD
                    ", COALESCE(e.bank_account, o.bank_account, ''), "
                    "COALESCE(t.name, e.name, o.name, '') FROM payments p "
                    "JOIN ledger_accounts a ON a.id = p.account_id " PAYEE_JOIN
                    "WHERE p.batch_id = $1 ORDER BY p.id",
                    (store_val[]){SV_INT(br->id)}, 1, &r))) {
        r = NULL;
        rc = store_failure(s, rc, "", err);
    }
    int step = 0;
    while (!rc && (step = store_step(r)) == 1) {
        char plain[48], idx[PII_INDEX_HEX], masked[48], rid[33];
        size_t slen = 0;
        snprintf(rid, sizeof rid, "%s", store_col_text(r, 0, NULL));
        const void *sealed = store_col_isnull(r, 4) ? NULL : store_col_blob(r, 4, &slen);
        int has = payee_account(sealed, slen, store_col_text(r, 5, NULL), plain, sizeof plain, idx,
                                masked, sizeof masked, err);
        if (has < 0) {
            rc = has;
            break;
        }
        if (!has || strcmp(idx, store_col_text(r, 3, NULL))) {
            rc = ql_errf(err, QL_ECONFLICT, "account",
                         "payment %s: the payee's bank account changed after the payment was "
                         "made; its batch file %s cannot be written as it was",
                         "付款 %s：收款账户在付款生成后已变更，批次文件 %s 无法按原样生成", rid,
                         br->no);
            break;
        }
        rc = bfile_line(&f, rid, store_col_text(r, 1, NULL), store_col_int(r, 2), plain,
                        store_col_text(r, 6, NULL), err);
        sodium_memzero(plain, sizeof plain);
    }
    if (r) store_rows_close(r);
    if (!rc && step < 0) rc = store_failure(s, step, "", err);
    return bfile_close(&f, rc, err);
}

/* Every batch of the cycle whose file is not in o->dir yet. */
static int write_files(store *s, const struct cyc *c, const struct bank_export_opts *o,
                       const bank_layout *l, struct bank_export_report *out, ql_err *err)
{
    int64_t after = 0;
    int rc = 0;
    for (;;) {
        struct batch_row br[64];
        int n = 0;
        store_rows *r;
        rc = store_query(s,
                         "SELECT id, batch_no, records, total_fen, created_at FROM bank_batches "
                         "WHERE cycle_id = $1 AND id > $2 ORDER BY id LIMIT 64",
                         (store_val[]){SV_INT(c->id), SV_INT(after)}, 2, &r);
        if (rc) return store_failure(s, rc, "", err);
        while ((rc = store_step(r)) == 1) {
            br[n].id = store_col_int(r, 0);
            snprintf(br[n].no, sizeof br[n].no, "%s", store_col_text(r, 1, NULL));
            br[n].records = store_col_int(r, 2);
            br[n].total = store_col_int(r, 3);
            br[n].at = store_col_int(r, 4);
            n++;
        }
        store_rows_close(r);
        if (rc < 0) return store_failure(s, rc, "", err);
        for (int i = 0; i < n; i++) {
            if ((rc = write_batch(s, c, o, l, &br[i], err)) < 0) return rc;
            if (!rc) out->files++;
        }
        if (n < 64) return 0;
        after = br[n - 1].id;
    }
}

struct xdone {
    const struct cyc *c;
    const actor *a;
    struct bank_export_report *out;
    const char *format;
    ql_err *err;
};

static int export_finish(store *s, void *vctx)
{
    struct xdone *x = vctx;
    struct bank_export_report *o = x->out;
    store_val c[] = {SV_INT(x->c->id)};
    int rc = store_query_int(s,
                             "SELECT count(*) FROM payments WHERE cycle_id = $1 AND batch_id IS "
                             "NOT NULL",
                             c, 1, &o->payments);
    if (!rc)
        rc = store_query_int(s,
                             "SELECT COALESCE(SUM(amount_fen), 0) FROM payments WHERE cycle_id = "
                             "$1 AND batch_id IS NOT NULL",
                             c, 1, &o->total_fen);
    if (!rc)
        rc = store_query_int(s, "SELECT count(*) FROM bank_batches WHERE cycle_id = $1", c, 1,
                             &o->all_batches);
    if (rc) return store_failure(s, rc, "", x->err);
    bool changed = o->queued || o->batches || o->holds_changed;
    if (!strcmp(x->c->state, "approved") || (changed && !strcmp(x->c->state, "reconciled"))) {
        if ((rc = set_state(s, x->c->id, x->c->state, "exported", x->err))) return rc;
        changed = true;
    }
    o->unchanged = !changed;
    if (!changed) return 0;
    json_t *d = json_pack("{sssIsIsIsIsIss}", "month", x->c->month, "queued", (json_int_t)o->queued,
                          "batches", (json_int_t)o->batches, "held", (json_int_t)o->held,
                          "held_fen", (json_int_t)o->held_fen, "payments", (json_int_t)o->payments,
                          "format", x->format);
    for (int i = 1; i < BANK_HOLD_COUNT; i++)
        if (o->held_by[i])
            json_object_set_new(d, bank_hold_name((enum bank_hold)i), json_integer(o->held_by[i]));
    rc = audit_by(s, x->a, "cycle.export", "cycle", x->c->id, NULL, NULL, d, NULL, x->err);
    json_decref(d);
    return rc;
}

int bank_export(store *s, const actor *a, const char *month, const struct bank_export_opts *o,
                cycle_progress_fn progress, void *ctx, struct bank_export_report *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_LEDGER_EXPORT, err);
    if (rc) return rc;
    struct bank_export_opts opt = *o;
    if (!opt.format) opt.format = BANK_CSV;
    if (!opt.batch_size) opt.batch_size = BANK_BATCH_DEFAULT;
    if (opt.batch_size < 1 || opt.batch_size > BANK_BATCH_MAX)
        return ql_errf(err, QL_EINVAL, "batch_size", "a batch holds 1 to %d records",
                       "每批 1 至 %d 笔", BANK_BATCH_MAX);
    struct stat st;
    if (opt.dir && (stat(opt.dir, &st) || !S_ISDIR(st.st_mode)))
        return ql_errf(err, QL_EINVAL, "dir", "%s is not a directory", "%s 不是目录", opt.dir);
    struct cyc c;
    if ((rc = find_cycle(s, month, &c, err))) return rc;
    if (strcmp(c.state, "approved") && strcmp(c.state, "exported") && strcmp(c.state, "reconciled"))
        return ql_errf(err, QL_ECONFLICT, "state",
                       "cycle %s is %s: only an approved cycle is exported",
                       "发放批次 %s 状态为 %s：只有已复核的批次可以导出", c.month, c.state);
    int64_t earlier = 0;
    if ((rc = store_query_int(s,
                              "SELECT count(*) FROM cycles WHERE month < $1 AND state IN "
                              "('computed', 'approved')",
                              (store_val[]){SV_TEXT(c.month)}, 1, &earlier)))
        return store_failure(s, rc, "", err);
    if (earlier)
        return ql_errf(err, QL_ECONFLICT, "state",
                       "an earlier cycle is not exported yet: export the cycles in order",
                       "有更早的发放批次尚未导出：请按月份顺序导出");
    bank_layout *def = NULL;
    const bank_layout *l = opt.layout;
    if (opt.format == BANK_FIXED && !l) {
        if ((rc = bank_layout_default(&def, err))) return rc;
        l = def;
    }
    struct ledger_account ca = {"clearing:bank", LK_CLEARING, "", "", 0};
    struct xq q;
    memset(&q, 0, sizeof q);
    q.c = &c;
    q.a = a;
    q.size = opt.batch_size;
    q.err = err;
    q.d = xmalloc((size_t)opt.batch_size * sizeof *q.d);
    rc = ledger_account_id(s, &ca, &q.clearing, err);
    int64_t pages = 0;
    /* a batch to each transaction, its file written once it has committed
     * (a file missing after a stop is written from the store below) */
    while (!rc) {
        rc = store_tx(s, STORE_TX_WRITE, send_page, &q);
        if (!rc) {
            q.after = q.last;
            q.queued += q.nd;
            q.held += q.p_held;
            q.held_fen += q.p_fen;
            for (int i = 0; i < BANK_HOLD_COUNT; i++) q.held_by[i] += q.p_by[i];
            out->holds_changed += q.p_holds;
            if (q.nd) out->batches++;
            if (q.nd && opt.dir) {
                int w = write_sent(&c, &opt, l, &q, err);
                if (w < 0) rc = w;
                if (w == 0) out->files++;
            }
            if (progress) progress(++pages, 0, ctx);
        }
        dues_clear(&q);
        if (q.end) break;
    }
    dues_clear(&q);
    free(q.d);
    free(q.h);
    out->queued = q.queued;
    out->held = q.held;
    out->held_fen = q.held_fen;
    memcpy(out->held_by, q.held_by, sizeof out->held_by);
    /* payments re-queued after a failure, into batches of their own */
    struct xb b = {&c, a, opt.batch_size, 0, err};
    while (!rc) {
        rc = store_tx(s, STORE_TX_WRITE, batch_page, &b);
        if (rc || !b.made) break;
        out->batches++;
    }
    if (!rc && opt.dir) rc = write_files(s, &c, &opt, l, out, err);
    struct xdone d = {&c, a, out, opt.format == BANK_FIXED ? "fixed" : "csv", err};
    if (!rc) rc = store_tx(s, STORE_TX_WRITE, export_finish, &d);
    if (!rc && !out->unchanged) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    bank_layout_free(def);
    return rc;
}

/* ---- results ---------------------------------------------------------------- */

/* A set of payment ids (open addressing; 0 is empty). */
struct idset {
    int64_t *v;
    size_t cap, n;
};

static bool idset_add(struct idset *s, int64_t id) /* false when there already */
{
    if ((s->n + 1) * 2 > s->cap) {
        struct idset t = {xcalloc(s->cap ? s->cap * 2 : 1024, sizeof(int64_t)),
                          s->cap ? s->cap * 2 : 1024, 0};
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i]) idset_add(&t, s->v[i]);
        free(s->v);
        *s = t;
    }
    size_t i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
    while (s->v[i]) {
        if (s->v[i] == id) return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->v[i] = id;
    s->n++;
    return true;
}

static bool idset_has(const struct idset *s, int64_t id)
{
    if (!s->cap) return false;
    size_t i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
    while (s->v[i]) {
        if (s->v[i] == id) return true;
        i = (i + 1) & (s->cap - 1);
    }
    return false;
}

struct imp {
    const struct cyc *c;
    const actor *a;
    struct bank_result_row *rows;
    int n;
    struct idset seen;      /* payments named by the pages committed */
    int64_t page_ids[PAGE]; /* and by this page */
    int npage;
    struct bank_import_report done; /* the counts of the pages committed */
    const char *digest;             /* of the file */
    size_t done_items;
    char (*batches)[33]; /* batch numbers the file names */
    size_t nb, capb;
    int64_t clearing;
    struct bank_import_report *out;
    ql_err *err;
};

static void mismatch(struct imp *x, long line, const char *rid, const char *problem, const char *en,
                     const char *zh)
{
    x->out->mismatches++;
    if (json_array_size(x->out->items) >= BANK_MISMATCH_LIST) return;
    json_array_append_new(x->out->items,
                          json_pack("{sIssssssss}", "line", (json_int_t)line, "request_id", rid,
                                    "problem", problem, "en", en, "zh", zh));
}

/* 1 paid, 0 failed, -1 unknown. */
static int status_of(const char *s)
{
    static const char *const ok[] = {"S", "s", "success", "SUCCESS", "paid", "PAID", "0", "成功"};
    static const char *const ko[] = {"F", "f", "failed", "FAILED", "fail", "FAIL", "1", "失败"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(s, ok[i])) return 1;
    for (size_t i = 0; i < sizeof ko / sizeof ko[0]; i++)
        if (!strcmp(s, ko[i])) return 0;
    return -1;
}

static int settle(store *s, struct imp *x, const struct bank_result_row *w, int64_t pid,
                  int64_t acct, const char *type, int64_t payee, int64_t fen, bool paid)
{
    ql_err *err = x->err;
    char key[64], code[64], who[128], msg[201];
    int64_t to = acct, tid = 0;
    int rc = 0;
    if (paid) {
        snprintf(code, sizeof code, "paid:%s:%lld", type, (long long)payee);
        rc = account(s, code, LK_PAID, type, payee, &to, err);
    }
    snprintf(key, sizeof key, "%s:%s", paid ? "paid" : "return", w->rid);
    if (!rc)
        rc = post(s, key, x->clearing, to, fen, x->c->month, paid ? "paid" : "returned", &tid, err);
    if (rc) return rc;
    actor_label(x->a, who);
    pii_scrub(w->message, msg, sizeof msg);
    int64_t changed = 0;
    rc = store_exec(s,
                    "UPDATE payments SET state = $1, settle_transfer_id = $2, result_code = $3, "
                    "result_message = $4, settled_by = $5, settled_at = $6, settled_digest = $8 "
                    "WHERE id = $7 AND state = 'sent'",
                    (store_val[]){SV_TEXT(paid ? "paid" : "failed"), SV_INT(tid),
                                  SV_TEXT(w->status), SV_TEXT(msg), SV_TEXT(who),
                                  SV_INT((int64_t)time(NULL)), SV_INT(pid), SV_TEXT(x->digest)},
                    8, &changed);
    if (rc) return store_failure(s, rc, "", err);
    if (paid)
        x->out->paid++;
    else
        x->out->failed++;
    return 0;
}

static int import_row(store *s, struct imp *x, const struct bank_result_row *w)
{
    ql_err *err = x->err;
    char en[300], zh[300];
    if (w->too_long & (1u << BRC_REQUEST_ID)) { /* no payment has a request id that long */
        snprintf(en, sizeof en, "no payment has request id \"%s…\" (longer than %zu bytes)", w->rid,
                 sizeof w->rid - 1);
        snprintf(zh, sizeof zh, "没有请求号为“%s…”的付款（超过 %zu 字节）", w->rid,
                 sizeof w->rid - 1);
        mismatch(x, w->line, w->rid, "unknown_id", en, zh);
        return 0;
    }
    store_rows *r;
    int rc =
        store_query(s,
                    "SELECT p.id, c.month, p.state, p.amount_fen, p.bank_index, "
                    "p.account_id, p.payee_type, p.payee_id, COALESCE(b.batch_no, ''), "
                    "p.settled_digest FROM payments p JOIN cycles c ON c.id = p.cycle_id LEFT JOIN "
                    "bank_batches b ON b.id = p.batch_id WHERE p.request_id = $1",
                    (store_val[]){SV_TEXT(w->rid)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    int64_t pid = 0, fen = 0, acct = 0, payee = 0;
    char month[8] = "", state[16] = "", idx[PII_INDEX_HEX] = "", type[12] = "", batch[33] = "",
         by_file[65] = "";
    if ((rc = store_step(r)) == 1) {
        pid = store_col_int(r, 0);
        snprintf(month, sizeof month, "%s", store_col_text(r, 1, NULL));
        snprintf(state, sizeof state, "%s", store_col_text(r, 2, NULL));
        fen = store_col_int(r, 3);
        snprintf(idx, sizeof idx, "%s", store_col_text(r, 4, NULL));
        acct = store_col_int(r, 5);
        snprintf(type, sizeof type, "%s", store_col_text(r, 6, NULL));
        payee = store_col_int(r, 7);
        snprintf(batch, sizeof batch, "%s", store_col_text(r, 8, NULL));
        snprintf(by_file, sizeof by_file, "%s", store_col_text(r, 9, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (!pid) {
        snprintf(en, sizeof en, "no payment has request id \"%s\"", w->rid);
        snprintf(zh, sizeof zh, "没有请求号为“%s”的付款", w->rid);
        mismatch(x, w->line, w->rid, "unknown_id", en, zh);
        return 0;
    }
    if (strcmp(month, x->c->month)) {
        snprintf(en, sizeof en, "payment %s belongs to cycle %s, not %s", w->rid, month,
                 x->c->month);
        snprintf(zh, sizeof zh, "付款 %s 属于 %s 批次，而非 %s", w->rid, month, x->c->month);
        mismatch(x, w->line, w->rid, "other_cycle", en, zh);
        return 0;
    }
    bool again = idset_has(&x->seen, pid);
    for (int i = 0; i < x->npage && !again; i++) again = x->page_ids[i] == pid;
    if (!again) x->page_ids[x->npage++] = pid;
    if (again) {
        snprintf(en, sizeof en, "request id %s appears again in the file", w->rid);
        snprintf(zh, sizeof zh, "请求号 %s 在文件中重复出现", w->rid);
        mismatch(x, w->line, w->rid, "duplicate", en, zh);
        return 0;
    }
    if ((w->too_long & (1u << BRC_BATCH)) || strcmp(batch, w->batch)) {
        snprintf(en, sizeof en, "payment %s was sent in batch %s, the file says %s", w->rid,
                 batch[0] ? batch : "(none)", w->batch);
        snprintf(zh, sizeof zh, "付款 %s 所在批次为 %s，文件中为 %s", w->rid,
                 batch[0] ? batch : "（无）", w->batch);
        mismatch(x, w->line, w->rid, "batch", en, zh);
        return 0;
    }
    int64_t got;
    ql_err e;
    if ((w->too_long & (1u << BRC_AMOUNT)) || validate_money("amount", w->amount, &got, &e) ||
        got != fen) {
        char want[32];
        validate_money_text(fen, want, sizeof want);
        snprintf(en, sizeof en, "payment %s is %s yuan, the file says \"%s\"", w->rid, want,
                 w->amount);
        snprintf(zh, sizeof zh, "付款 %s 金额为 %s 元，文件中为“%s”", w->rid, want, w->amount);
        mismatch(x, w->line, w->rid, "amount", en, zh);
        return 0;
    }
    char plain[48], got_idx[PII_INDEX_HEX];
    pii_normalize(PII_BANK_ACCOUNT, w->account, plain, sizeof plain);
    pii_index(PII_BANK_ACCOUNT, plain, got_idx);
    sodium_memzero(plain, sizeof plain);
    if ((w->too_long & (1u << BRC_ACCOUNT)) || strcmp(got_idx, idx)) {
        snprintf(en, sizeof en, "payment %s was sent to another account than the file says",
                 w->rid);
        snprintf(zh, sizeof zh, "付款 %s 的收款账号与文件不符", w->rid);
        mismatch(x, w->line, w->rid, "account", en, zh);
        return 0;
    }
    int st = w->too_long & (1u << BRC_STATUS) ? -1 : status_of(w->status);
    if (st < 0) {
        snprintf(en, sizeof en, "payment %s: status \"%s\" is neither S (paid) nor F (failed)",
                 w->rid, w->status);
        snprintf(zh, sizeof zh, "付款 %s：状态“%s”既非 S（成功）也非 F（失败）", w->rid, w->status);
        mismatch(x, w->line, w->rid, "status", en, zh);
        return 0;
    }
    if (!strcmp(state, "sent")) return settle(s, x, w, pid, acct, type, payee, fen, st == 1);
    bool same = st == 1 ? !strcmp(state, "paid")
                        : (!strcmp(state, "failed") || !strcmp(state, "requeued") ||
                           !strcmp(state, "written_off"));
    if (same && !strcmp(by_file, x->digest)) { /* by a run of this file that stopped */
        if (st == 1)
            x->out->paid++;
        else
            x->out->failed++;
        return 0;
    }
    if (same) {
        x->out->already++;
        return 0;
    }
    snprintf(en, sizeof en, "payment %s is %s here; the file says %s", w->rid, state,
             st == 1 ? "paid" : "failed");
    snprintf(zh, sizeof zh, "付款 %s 在本系统中为 %s；文件中为%s", w->rid, state,
             st == 1 ? "成功" : "失败");
    mismatch(x, w->line, w->rid, "conflict", en, zh);
    return 0;
}

static int import_page(store *s, void *vctx)
{
    struct imp *x = vctx;
    /* from where the pages committed left it: this one may be run again */
    struct bank_import_report *o = x->out;
    o->paid = x->done.paid;
    o->failed = x->done.failed;
    o->already = x->done.already;
    o->mismatches = x->done.mismatches;
    while (json_array_size(o->items) > x->done_items)
        json_array_remove(o->items, json_array_size(o->items) - 1);
    x->npage = 0;
    for (int i = 0; i < x->n; i++) {
        int rc = import_row(s, x, &x->rows[i]);
        if (rc) return rc;
    }
    return 0;
}

/* Payments of the file's batches still waiting: no row named them. */
static int missing(store *s, struct imp *x)
{
    for (size_t i = 0; i < x->nb; i++) {
        store_rows *r;
        int rc = store_query(s,
                             "SELECT p.id, p.request_id FROM payments p JOIN bank_batches b ON "
                             "b.id = p.batch_id WHERE b.batch_no = $1 AND p.state = 'sent' "
                             "ORDER BY p.id",
                             (store_val[]){SV_TEXT(x->batches[i])}, 1, &r);
        if (rc) return store_failure(s, rc, "", x->err);
        while ((rc = store_step(r)) == 1) {
            if (idset_has(&x->seen, store_col_int(r, 0))) continue;
            const char *rid = store_col_text(r, 1, NULL);
            char en[200], zh[200];
            snprintf(en, sizeof en, "payment %s of batch %s is not in the file", rid,
                     x->batches[i]);
            snprintf(zh, sizeof zh, "批次 %s 的付款 %s 不在文件中", x->batches[i], rid);
            mismatch(x, 0, rid, "missing", en, zh);
        }
        store_rows_close(r);
        if (rc < 0) return store_failure(s, rc, "", x->err);
    }
    return 0;
}

struct imp_done {
    struct imp *x;
    const char *digest, *file_name;
};

static int import_finish(store *s, void *vctx)
{
    struct imp_done *d = vctx;
    struct imp *x = d->x;
    struct bank_import_report *o = x->out;
    o->mismatches = x->done.mismatches; /* this transaction may be run again */
    while (json_array_size(o->items) > x->done_items)
        json_array_remove(o->items, json_array_size(o->items) - 1);
    int rc = missing(s, x);
    if (rc) return rc;
    char who[128];
    actor_label(x->a, who);
    char *report = json_dumps(o->items, JSON_COMPACT);
    rc = store_insert(s,
                      "INSERT INTO bank_imports (cycle_id, digest, file_name, records, paid, "
                      "failed, mismatches, report, imported_by, imported_at) VALUES ($1, $2, $3, "
                      "$4, $5, $6, $7, $8, $9, $10)",
                      (store_val[]){SV_INT(x->c->id), SV_TEXT(d->digest), SV_TEXT(d->file_name),
                                    SV_INT(o->rows), SV_INT(o->paid), SV_INT(o->failed),
                                    SV_INT(o->mismatches), SV_TEXT(report), SV_TEXT(who),
                                    SV_INT((int64_t)time(NULL))},
                      10, &o->import_id);
    free(report);
    if (rc) return store_failure(s, rc, "", x->err);
    int64_t open = 0;
    rc = store_query_int(s,
                         "SELECT count(*) FROM payments WHERE cycle_id = $1 AND state IN "
                         "('queued', 'sent')",
                         (store_val[]){SV_INT(x->c->id)}, 1, &open);
    if (rc) return store_failure(s, rc, "", x->err);
    if (!open && !strcmp(x->c->state, "exported") &&
        (rc = set_state(s, x->c->id, "exported", "reconciled", x->err)))
        return rc;
    json_t *det =
        json_pack("{sssssIsIsIsIsI}", "month", x->c->month, "file", d->file_name, "rows",
                  (json_int_t)o->rows, "paid", (json_int_t)o->paid, "failed", (json_int_t)o->failed,
                  "already", (json_int_t)o->already, "mismatches", (json_int_t)o->mismatches);
    rc = audit_by(s, x->a, "cycle.import", "cycle", x->c->id, NULL, NULL, det, NULL, x->err);
    json_decref(det);
    return rc;
}

/* The stored report of an import taken in before. */
static int import_before(store *s, const char *digest, struct bank_import_report *out, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT id, records, paid, failed, mismatches, report FROM bank_imports "
                         "WHERE digest = $1",
                         (store_val[]){SV_TEXT(digest)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    if ((rc = store_step(r)) == 1) {
        out->unchanged = true;
        out->import_id = store_col_int(r, 0);
        out->rows = store_col_int(r, 1);
        out->paid = store_col_int(r, 2);
        out->failed = store_col_int(r, 3);
        out->mismatches = store_col_int(r, 4);
        json_decref(out->items);
        out->items = json_loads(store_col_text(r, 5, NULL), 0, NULL);
        if (!out->items) out->items = json_array();
    }
    store_rows_close(r);
    return rc < 0 ? store_failure(s, rc, "", err) : 0;
}

int bank_import(store *s, const actor *a, const char *month, const char *data, size_t len,
                const char *file_name, struct bank_import_report *out, ql_err *err)
{
    memset(out, 0, sizeof *out);
    out->items = json_array();
    int rc = actor_require(a, P_LEDGER_RUN, err);
    if (rc) return rc;
    if (len > 64u << 20)
        return ql_errf(err, QL_ETOOBIG, "file", "a result file is at most 64 MiB",
                       "结果文件不能超过 64 MiB");
    struct cyc c;
    if ((rc = find_cycle(s, month, &c, err))) return rc;
    if (strcmp(c.state, "exported") && strcmp(c.state, "reconciled") && strcmp(c.state, "closed"))
        return ql_errf(err, QL_ECONFLICT, "state",
                       "cycle %s is %s: results are taken in after the export",
                       "发放批次 %s 状态为 %s：导出后才能导入银行结果", c.month, c.state);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    char digest[65];
    sodium_bin2hex(digest, sizeof digest, h, sizeof h);
    if ((rc = import_before(s, digest, out, err)) || out->unchanged) return rc;
    char fname[201];
    pii_scrub(file_name ? file_name : "", fname, sizeof fname);
    /* Read to the end first: a file that cannot be read whole (a stray
     * quote on line 90,000) settles nothing, though rows settle a page at
     * a time. */
    bank_result *br;
    struct bank_result_row scan;
    if ((rc = bank_result_open(data, len, fname, &br, err))) return rc;
    while ((rc = bank_result_next(br, &scan, err)) == 1) continue;
    bank_result_close(br);
    if (rc < 0 || (rc = bank_result_open(data, len, fname, &br, err))) return rc;
    struct imp x;
    memset(&x, 0, sizeof x);
    x.c = &c;
    x.a = a;
    x.out = out;
    x.err = err;
    x.rows = xcalloc(PAGE, sizeof *x.rows);
    x.digest = digest;
    struct ledger_account ca = {"clearing:bank", LK_CLEARING, "", "", 0};
    rc = ledger_account_id(s, &ca, &x.clearing, err);
    while (!rc) {
        x.n = 0;
        while (x.n < PAGE && (rc = bank_result_next(br, &x.rows[x.n], err)) == 1) {
            struct bank_result_row *w = &x.rows[x.n++];
            out->rows++;
            bool known = false;
            for (size_t b = 0; b < x.nb && !known; b++) known = !strcmp(x.batches[b], w->batch);
            if (!known && w->batch[0]) {
                if (x.nb == x.capb) {
                    x.capb = x.capb ? x.capb * 2 : 16;
                    x.batches = xrealloc(x.batches, x.capb * sizeof *x.batches);
                }
                snprintf(x.batches[x.nb++], sizeof x.batches[0], "%s", w->batch);
            }
        }
        if (rc < 0) break;
        if (x.n) {
            rc = store_tx(s, STORE_TX_WRITE, import_page, &x);
            if (!rc) { /* the page committed */
                for (int i = 0; i < x.npage; i++) idset_add(&x.seen, x.page_ids[i]);
                x.done = *out;
                x.done_items = json_array_size(out->items);
            }
        } else {
            rc = 1;
        }
        if (!rc && x.n < PAGE) rc = 1;
    }
    if (rc == 1) rc = 0;
    bank_result_close(br);
    struct imp_done d = {&x, digest, fname};
    if (!rc) rc = store_tx(s, STORE_TX_WRITE, import_finish, &d);
    if (!rc) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    free(x.seen.v);
    free(x.batches);
    free(x.rows);
    return rc;
}

/* ---- re-queue, write-off, close ------------------------------------------------ */

struct fix {
    const actor *a;
    const char *rid, *reason;
    char *new_id;
    ql_err *err;
};

struct pay {
    int64_t id, cycle, acct, payee, fen, send;
    int attempt;
    char type[12], state[16], month[8], cstate[16];
};

static int load_payment(store *s, const char *rid, struct pay *p, ql_err *err)
{
    store_rows *r;
    int rc = store_query(s,
                         "SELECT p.id, p.cycle_id, p.account_id, p.payee_id, p.amount_fen, "
                         "p.attempt, p.payee_type, p.state, c.month, c.state FROM payments p "
                         "JOIN cycles c ON c.id = p.cycle_id WHERE p.request_id = $1",
                         (store_val[]){SV_TEXT(rid)}, 1, &r);
    if (rc) return store_failure(s, rc, "", err);
    memset(p, 0, sizeof *p);
    if ((rc = store_step(r)) == 1) {
        p->id = store_col_int(r, 0);
        p->cycle = store_col_int(r, 1);
        p->acct = store_col_int(r, 2);
        p->payee = store_col_int(r, 3);
        p->fen = store_col_int(r, 4);
        p->attempt = (int)store_col_int(r, 5);
        snprintf(p->type, sizeof p->type, "%s", store_col_text(r, 6, NULL));
        snprintf(p->state, sizeof p->state, "%s", store_col_text(r, 7, NULL));
        snprintf(p->month, sizeof p->month, "%s", store_col_text(r, 8, NULL));
        snprintf(p->cstate, sizeof p->cstate, "%s", store_col_text(r, 9, NULL));
    }
    store_rows_close(r);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (!rc)
        return ql_errf(err, QL_ENOTFOUND, "request_id", "no payment has request id %s",
                       "没有请求号为 %s 的付款", rid);
    if (strcmp(p->state, "failed"))
        return ql_errf(err, QL_ECONFLICT, "state",
                       "payment %s is %s: only a failed payment is re-queued or written off",
                       "付款 %s 状态为 %s：只有失败的付款可以重新排队或核销", rid, p->state);
    return 0;
}

static int requeue_body(store *s, void *vctx)
{
    struct fix *x = vctx;
    ql_err *err = x->err;
    struct pay p;
    int rc = load_payment(s, x->rid, &p, err);
    if (rc) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT t.bank_enc, COALESCE(e.bank_account, o.bank_account, ''), "
                     "(SELECT MAX(attempt) FROM payments WHERE cycle_id = $2 AND account_id = "
                     "a.id), (SELECT count(*) FROM identity_corrections ic WHERE ic.talent_id = "
                     "t.id AND ic.reviewed_at IS NULL) FROM ledger_accounts a " PAYEE_JOIN
                     "WHERE a.id = $1",
                     (store_val[]){SV_INT(p.acct), SV_INT(p.cycle)}, 2, &r);
    if (rc) return store_failure(s, rc, "", err);
    char plain[48], idx[PII_INDEX_HEX], masked[48];
    int has = 0, attempt = p.attempt + 1, identity = 0;
    if ((rc = store_step(r)) == 1) {
        identity = store_col_int(r, 3) > 0;
        size_t slen = 0;
        const void *sealed = store_col_isnull(r, 0) ? NULL : store_col_blob(r, 0, &slen);
        has = payee_account(sealed, slen, store_col_text(r, 1, NULL), plain, sizeof plain, idx,
                            masked, sizeof masked, err);
        attempt = (int)store_col_int(r, 2) + 1;
    }
    store_rows_close(r);
    sodium_memzero(plain, sizeof plain);
    if (rc < 0) return store_failure(s, rc, "", err);
    if (has < 0) return has;
    if (!has)
        return ql_errf(err, QL_ECONFLICT, "account",
                       "the payee of %s has no bank account on record: record one first",
                       "付款 %s 的收款方没有登记银行账户：请先登记", x->rid);
    if (identity)
        return ql_errf(err, QL_ECONFLICT, "account",
                       "the payee of %s had their name or ID number corrected: their payments "
                       "are held until another reviewer has reviewed it",
                       "付款 %s 的收款方姓名或身份证号码已更正：另一名审核人员复核前暂缓发放",
                       x->rid);
    snprintf(x->new_id, 33, "%.4s%.2s-%lld-%d", p.month, p.month + 5, (long long)p.acct, attempt);
    char key[64];
    snprintf(key, sizeof key, "send:%s", x->new_id);
    int64_t clearing, tid, nid;
    struct ledger_account ca = {"clearing:bank", LK_CLEARING, "", "", 0};
    if ((rc = ledger_account_id(s, &ca, &clearing, err)) ||
        (rc = post(s, key, p.acct, clearing, p.fen, p.month, "payment", &tid, err)))
        return rc;
    rc = store_insert(s,
                      "INSERT INTO payments (request_id, cycle_id, account_id, payee_type, "
                      "payee_id, attempt, previous_id, amount_fen, bank_index, bank_masked, "
                      "state, send_transfer_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                      "$8, $9, $10, 'queued', $11, $12)",
                      (store_val[]){SV_TEXT(x->new_id), SV_INT(p.cycle), SV_INT(p.acct),
                                    SV_TEXT(p.type), SV_INT(p.payee), SV_INT(attempt), SV_INT(p.id),
                                    SV_INT(p.fen), SV_TEXT(idx), SV_TEXT(masked), SV_INT(tid),
                                    SV_INT((int64_t)time(NULL))},
                      12, &nid);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE payments SET state = 'requeued' WHERE id = $1 AND state = 'failed'",
                        (store_val[]){SV_INT(p.id)}, 1, NULL);
    if (rc) return store_failure(s, rc, "", err);
    if (!strcmp(p.cstate, "reconciled") &&
        (rc = set_state(s, p.cycle, "reconciled", "exported", err)))
        return rc;
    json_t *d = json_pack("{sssssssI}", "request_id", x->rid, "new_request_id", x->new_id, "reason",
                          x->reason, "amount_fen", (json_int_t)p.fen);
    rc = audit_by(s, x->a, "payment.requeue", "payment", p.id, NULL, NULL, d, NULL, err);
    json_decref(d);
    return rc;
}

static int writeoff_body(store *s, void *vctx)
{
    struct fix *x = vctx;
    ql_err *err = x->err;
    struct pay p;
    int rc = load_payment(s, x->rid, &p, err);
    if (rc) return rc;
    char key[64];
    snprintf(key, sizeof key, "writeoff:%s", x->rid);
    int64_t budget, tid;
    struct ledger_account ba = {"budget:written-off", LK_BUDGET, "", "", 0};
    if ((rc = ledger_account_id(s, &ba, &budget, err)) ||
        (rc = post(s, key, p.acct, budget, p.fen, p.month, "written off", &tid, err)))
        return rc;
    char who[128];
    actor_label(x->a, who);
    rc =
        store_exec(s,
                   "UPDATE payments SET state = 'written_off', settled_by = $2, settled_at = $3 "
                   "WHERE id = $1 AND state = 'failed'",
                   (store_val[]){SV_INT(p.id), SV_TEXT(who), SV_INT((int64_t)time(NULL))}, 3, NULL);
    if (rc) return store_failure(s, rc, "", err);
    json_t *d = json_pack("{sssssI}", "request_id", x->rid, "reason", x->reason, "amount_fen",
                          (json_int_t)p.fen);
    rc = audit_by(s, x->a, "payment.write_off", "payment", p.id, NULL, NULL, d, NULL, err);
    json_decref(d);
    return rc;
}

static int fix_run(store *s, const actor *a, enum perm need, const char *rid, const char *reason,
                   char *new_id, store_tx_fn fn, ql_err *err)
{
    int rc = actor_require(a, need, err);
    if (rc) return rc;
    if (!rid || !*rid || strlen(rid) > 32)
        return ql_errf(err, QL_EINVAL, "request_id", "give the payment's request id",
                       "请提供付款请求号");
    size_t n = reason ? strlen(reason) : 0;
    if (n < 1 || n > 500)
        return ql_errf(err, QL_EINVAL, "reason", "give a reason (1 to 500 bytes)",
                       "请填写原因（1 至 500 字节）");
    if ((rc = validate_text_block("reason", reason, err))) return rc;
    char clean[501];
    pii_scrub(reason, clean, sizeof clean);
    struct fix x = {a, rid, clean, new_id, err};
    rc = store_tx(s, STORE_TX_WRITE, fn, &x);
    if (!rc) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

int bank_requeue(store *s, const actor *a, const char *request_id, const char *reason,
                 char new_id[33], ql_err *err)
{
    new_id[0] = '\0';
    return fix_run(s, a, P_LEDGER_RUN, request_id, reason, new_id, requeue_body, err);
}

int bank_write_off(store *s, const actor *a, const char *request_id, const char *reason,
                   ql_err *err)
{
    char unused[33];
    return fix_run(s, a, P_LEDGER_APPROVE, request_id, reason, unused, writeoff_body, err);
}

struct collect_ctx {
    const actor *a;
    char type[12];
    int64_t payee, fen;
    const char *reference;
    bool *unchanged;
    ql_err *err;
};

static int collect_body(store *s, void *vctx)
{
    struct collect_ctx *x = vctx;
    ql_err *err = x->err;
    char code[64], key[80];
    snprintf(key, sizeof key, "collect:%s", x->reference);
    int64_t seen = 0;
    int rc = store_query_int(s, "SELECT count(*) FROM ledger_transfers WHERE idempotency_key = $1",
                             (store_val[]){SV_TEXT(key)}, 1, &seen);
    if (rc) return store_failure(s, rc, "", err);
    int64_t payable = 0, paid = 0, owed = 0, tid;
    snprintf(code, sizeof code, "payable:%s:%lld", x->type, (long long)x->payee);
    if ((rc = account(s, code, LK_PAYABLE, x->type, x->payee, &payable, err))) return rc;
    snprintf(code, sizeof code, "paid:%s:%lld", x->type, (long long)x->payee);
    if ((rc = account(s, code, LK_PAID, x->type, x->payee, &paid, err))) return rc;
    if (!seen) {
        if ((rc = ledger_balance(s, payable, &owed, err))) return rc;
        if (-owed < x->fen) {
            char o[32], f[32];
            validate_money_text(owed < 0 ? -owed : 0, o, sizeof o);
            validate_money_text(x->fen, f, sizeof f);
            return ql_errf(
                err, QL_ECONFLICT, "amount", "%s:%lld owes %s yuan; %s is more than that",
                "%s:%lld 应退 %s 元；%s 超出应退金额", x->type, (long long)x->payee, o, f);
        }
    }
    if ((rc = post(s, key, paid, payable, x->fen, "", "recovery collected", &tid, err))) return rc;
    if (seen) {
        *x->unchanged = true;
        return 0;
    }
    json_t *d = json_pack("{sssIsIss}", "payee_type", x->type, "payee_id", (json_int_t)x->payee,
                          "amount_fen", (json_int_t)x->fen, "reference", x->reference);
    rc = audit_by(s, x->a, "payment.collect", "payment", tid, NULL, NULL, d, NULL, err);
    json_decref(d);
    return rc;
}

int bank_collect(store *s, const actor *a, const char *payee, int64_t fen, const char *reference,
                 bool *unchanged, ql_err *err)
{
    *unchanged = false;
    int rc = actor_require(a, P_LEDGER_RUN, err);
    if (rc) return rc;
    struct collect_ctx x = {a, "", 0, fen, reference, unchanged, err};
    const char *colon = payee ? strchr(payee, ':') : NULL;
    char *end = NULL;
    if (colon) x.payee = strtoll(colon + 1, &end, 10);
    size_t tl = colon ? (size_t)(colon - payee) : 0;
    if (tl && tl < sizeof x.type) {
        memcpy(x.type, payee, tl);
        x.type[tl] = '\0';
    }
    if (!colon || !end || *end || x.payee <= 0 ||
        (strcmp(x.type, "person") && strcmp(x.type, "employer") && strcmp(x.type, "operator")))
        return ql_errf(err, QL_EINVAL, "payee",
                       "the payee is person:<id>, employer:<id> or operator:<id>",
                       "收款方格式应为 person:<id>、employer:<id> 或 operator:<id>");
    if (fen <= 0)
        return ql_errf(err, QL_EINVAL, "amount", "the amount collected is more than 0",
                       "退回金额须大于 0");
    size_t n = reference ? strlen(reference) : 0;
    if (n < 1 || n > 60)
        return ql_errf(err, QL_EINVAL, "reference",
                       "give the bank's receipt reference (1 to 60 bytes)",
                       "请填写银行回单号（1 至 60 字节）");
    rc = store_tx(s, STORE_TX_WRITE, collect_body, &x);
    if (!rc && !*unchanged) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

struct close_ctx {
    const actor *a;
    const char *month;
    bool *unchanged;
    ql_err *err;
};

static int close_body(store *s, void *vctx)
{
    struct close_ctx *x = vctx;
    struct cyc c;
    int rc = find_cycle(s, x->month, &c, x->err);
    if (rc) return rc;
    if (!strcmp(c.state, "closed")) {
        *x->unchanged = true;
        return 0;
    }
    int64_t open = 0;
    rc = store_query_int(s,
                         "SELECT count(*) FROM payments WHERE cycle_id = $1 AND state IN "
                         "('queued', 'sent', 'failed')",
                         (store_val[]){SV_INT(c.id)}, 1, &open);
    if (rc) return store_failure(s, rc, "", x->err);
    if (strcmp(c.state, "reconciled") || open)
        return ql_errf(x->err, QL_ECONFLICT, "state",
                       "cycle %s is %s with %lld payments not settled (queued, sent or failed): "
                       "it closes when every payment is paid or written off",
                       "发放批次 %s 状态为 %s，尚有 %lld 笔付款未了结（待发、已发或失败）："
                       "全部付款成功或核销后方可关闭",
                       c.month, c.state, (long long)open);
    if ((rc = set_state(s, c.id, "reconciled", "closed", x->err))) return rc;
    json_t *d = json_pack("{ss}", "month", c.month);
    rc = audit_by(s, x->a, "cycle.close", "cycle", c.id, NULL, NULL, d, NULL, x->err);
    json_decref(d);
    return rc;
}

int cycle_close(store *s, const actor *a, const char *month, bool *unchanged, ql_err *err)
{
    *unchanged = false;
    int rc = actor_require(a, P_LEDGER_APPROVE, err);
    if (rc) return rc;
    struct close_ctx x = {a, month, unchanged, err};
    rc = store_tx(s, STORE_TX_WRITE, close_body, &x);
    if (!rc && !*unchanged) {
        ql_err e;
        if (audit_committed(s, &e)) log_warn("audit anchor not updated: %s", e.en);
    }
    return rc;
}

int bank_payments(store *s, const actor *a, const char *month, const char *state, int64_t offset,
                  int limit, json_t **out, ql_err *err)
{
    if (!actor_can(a, P_LEDGER_RUN) && !actor_can(a, P_LEDGER_APPROVE) &&
        !actor_can(a, P_LEDGER_EXPORT))
        return actor_require(a, P_LEDGER_RUN, err);
    static const char *const states[] = {"",       "queued",   "sent",       "paid",
                                         "failed", "requeued", "written_off"};
    bool ok = false;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        ok |= !strcmp(state ? state : "", states[i]);
    if (!ok)
        return ql_errf(err, QL_EINVAL, "state", "no payment state is called %s",
                       "没有名为 %s 的付款状态", state);
    if (limit < 1 || limit > 500 || offset < 0)
        return ql_errf(err, QL_EINVAL, "limit", "limit is 1 to 500, offset 0 or more",
                       "每页 1 至 500 条，偏移不能为负");
    struct cyc c;
    int rc = find_cycle(s, month, &c, err);
    if (rc) return rc;
    const char *st = state ? state : "";
    store_val args[] = {SV_INT(c.id), SV_TEXT(st), SV_INT(limit), SV_INT(offset)};
    int64_t total = 0;
    if ((rc = store_query_int(s,
                              "SELECT count(*) FROM payments WHERE cycle_id = $1 AND ($2 = '' OR "
                              "state = $2)",
                              args, 2, &total)))
        return store_failure(s, rc, "", err);
    store_rows *r;
    rc = store_query(s,
                     "SELECT p.request_id, p.attempt, p.payee_type, p.payee_id, p.bank_masked, "
                     "p.amount_fen, p.state, COALESCE(b.batch_no, ''), p.result_code, "
                     "p.result_message FROM payments p LEFT JOIN bank_batches b ON b.id = "
                     "p.batch_id WHERE p.cycle_id = $1 AND ($2 = '' OR p.state = $2) ORDER BY "
                     "p.id LIMIT $3 OFFSET $4",
                     args, 4, &r);
    if (rc) return store_failure(s, rc, "", err);
    json_t *items = json_array();
    while ((rc = store_step(r)) == 1)
        json_array_append_new(
            items,
            json_pack("{sssIsssIsssIsossssssss}", "request_id", store_col_text(r, 0, NULL),
                      "attempt", (json_int_t)store_col_int(r, 1), "payee_type",
                      store_col_text(r, 2, NULL), "payee_id", (json_int_t)store_col_int(r, 3),
                      "account", store_col_text(r, 4, NULL), "amount_fen",
                      (json_int_t)store_col_int(r, 5), "amount_yuan",
                      pol_yuan_json(store_col_int(r, 5)), "state", store_col_text(r, 6, NULL),
                      "batch_no", store_col_text(r, 7, NULL), "result_code",
                      store_col_text(r, 8, NULL), "result_message", store_col_text(r, 9, NULL)));
    store_rows_close(r);
    if (rc < 0) {
        json_decref(items);
        return store_failure(s, rc, "", err);
    }
    *out = json_pack("{sIso}", "total", (json_int_t)total, "items", items);
    return 0;
}
