/* bank_impl.h - inside the bank module: fixed-width layouts (layout.c) as
 * bank.c writes them. Not for other modules. */
#ifndef QL_LEDGER_BANK_IMPL_H
#define QL_LEDGER_BANK_IMPL_H

#include "core/buf.h"
#include "core/validate.h"
#include "ledger/bank.h"

enum bank_record { BR_HEADER, BR_DETAIL, BR_TRAILER };

enum bank_field {
    BF_LITERAL,
    BF_BATCH_NO,
    BF_RECORDS,
    BF_TOTAL_FEN,
    BF_TOTAL_YUAN,
    BF_DATE,
    BF_CYCLE,
    BF_REQUEST_ID,
    BF_ACCOUNT,
    BF_NAME,
    BF_AMOUNT_FEN,
    BF_AMOUNT_YUAN,
    BF_PURPOSE,
    BF_PAYEE_TYPE,
    BF_SEQ
};

struct bank_lfield {
    enum bank_record rec;
    enum bank_field f;
    int width;
    bool right, numeric, cut;
    char pad;
    char lit[64];
};

#define BANK_LAYOUT_FIELDS 64

struct bank_layout {
    struct bank_lfield f[BANK_LAYOUT_FIELDS];
    int n;
};

/* What one record may show. */
struct bank_values {
    const char *batch_no, *date, *cycle; /* date YYYYMMDD, cycle YYYYMM */
    int64_t records, total_fen;
    const char *request_id, *account, *name, *purpose, *payee_type;
    int64_t amount_fen, seq;
};

/* Appends the record rec of l for v to b, ending CRLF (nothing when l has
 * no such record). QL_EINVAL naming the value wider than its field. */
int bank_layout_record(const bank_layout *l, enum bank_record rec, const struct bank_values *v,
                       buf *b, ql_err *err);

/* A payee an export's page held. */
struct bank_hold_row {
    int64_t acct, payee, fen;
    char type[12];
    enum bank_hold reason;
};

/* Makes the cycle's stored holds of payee accounts after..last (in order)
 * those of h (n rows, in account order): rows gone are deleted, new ones
 * inserted, changed ones updated; nothing is written when nothing changed.
 * *written receives the rows written (holds.c). */
int bank_holds_sync(store *s, int64_t cycle, int64_t after, int64_t last,
                    const struct bank_hold_row *h, int n, int64_t *written, ql_err *err);

/* ---- the bank's result file, read (bank_result.c) ---------------------- */

/* The columns of a result file, in the order of bank_result_row's fields. */
enum bank_result_col {
    BRC_BATCH,
    BRC_REQUEST_ID,
    BRC_ACCOUNT,
    BRC_AMOUNT,
    BRC_STATUS,
    BRC_MESSAGE
};
#define BANK_RESULT_COLS 6

/* One data row. A value longer than its field is never cut to fit where a
 * cut could match a payment: its column's bit (1 << BRC_*) is set in
 * too_long and the field holds its start, cut at a character boundary
 * (for messages). The message is the bank's text, kept to 200 bytes. */
struct bank_result_row {
    long line;
    unsigned too_long;
    char batch[33], rid[33], account[48], amount[32], status[24], message[201];
};

typedef struct bank_result bank_result;

/* Opens len bytes of a result file (name for messages; the data must
 * outlive the reader) and reads its header row. QL_EINVAL naming the
 * column a file lacks (batch_no, request_id, account, amount, status),
 * field "file" for an empty file, or the CSV reader's error. */
int bank_result_open(const char *data, size_t len, const char *name, bank_result **out,
                     ql_err *err);

/* The next data row into *row: 1, 0 at the end, or the CSV reader's error. */
int bank_result_next(bank_result *r, struct bank_result_row *row, ql_err *err);

/* The column's English name ("batch_no", ...) and Chinese title ("批次号", ...). */
const char *bank_result_col_name(enum bank_result_col c);
const char *bank_result_col_title(enum bank_result_col c);

void bank_result_close(bank_result *r);

#endif
