/* bank_result.c - reading the bank's result file (bank_impl.h): the header
 * row's columns in any order, in English or Chinese, then one row at a
 * time. No store: bank_import checks each row against its payment. */
#include "ledger/bank_impl.h"

#include "core/csv.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const columns[BANK_RESULT_COLS][2] = {
    {"batch_no", "批次号"}, {"request_id", "请求号"}, {"account", "账号"},
    {"amount", "金额"},     {"status", "状态"},       {"message", "说明"},
};

struct bank_result {
    csv_reader *cr;
    int col[BANK_RESULT_COLS];
};

const char *bank_result_col_name(enum bank_result_col c)
{
    return columns[c][0];
}

const char *bank_result_col_title(enum bank_result_col c)
{
    return columns[c][1];
}

int bank_result_open(const char *data, size_t len, const char *name, bank_result **out, ql_err *err)
{
    *out = NULL;
    bank_result *r = xcalloc(1, sizeof *r);
    for (int i = 0; i < BANK_RESULT_COLS; i++) r->col[i] = -1;
    int rc = csv_open_mem(data, len, name, &r->cr, err);
    char **f;
    int nf;
    long line;
    if (!rc && (rc = csv_next(r->cr, &f, &nf, &line, err)) == 1) {
        for (int j = 0; j < nf; j++) {
            const char *h = f[j];
            if (!strncmp(h, "\xEF\xBB\xBF", 3)) h += 3;
            for (int i = 0; i < BANK_RESULT_COLS; i++)
                if (!strcasecmp(h, columns[i][0]) || !strcmp(h, columns[i][1])) r->col[i] = j;
        }
        rc = 0;
        for (int i = 0; i < BANK_RESULT_COLS - 1 && !rc; i++) /* the message may be left out */
            if (r->col[i] < 0)
                rc = ql_errf(err, QL_EINVAL, columns[i][0], "the result file has no column %s (%s)",
                             "结果文件缺少 %s（%s）列", columns[i][0], columns[i][1]);
    } else if (rc == 0) {
        rc = ql_errf(err, QL_EINVAL, "file", "the result file is empty", "结果文件为空");
    }
    if (rc) {
        bank_result_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Copies the value of column c of the record (f, nf) into dst (n bytes),
 * cut at a character boundary; 1 when it did not fit whole. */
static int field(char *dst, size_t n, char **f, int nf, int c)
{
    const char *v = c >= 0 && c < nf && f[c] ? f[c] : "";
    size_t len = strlen(v), keep = len < n ? len : text_cut(v, n - 1);
    memcpy(dst, v, keep);
    dst[keep] = '\0';
    return keep < len;
}

int bank_result_next(bank_result *r, struct bank_result_row *w, ql_err *err)
{
    char **f;
    int nf;
    long line;
    int rc = csv_next(r->cr, &f, &nf, &line, err);
    if (rc != 1) return rc;
    memset(w, 0, sizeof *w);
    w->line = line;
    struct {
        char *dst;
        size_t n;
    } to[BANK_RESULT_COLS] = {
        {w->batch, sizeof w->batch},     {w->rid, sizeof w->rid},
        {w->account, sizeof w->account}, {w->amount, sizeof w->amount},
        {w->status, sizeof w->status},   {w->message, sizeof w->message},
    };
    for (int i = 0; i < BANK_RESULT_COLS; i++)
        if (field(to[i].dst, to[i].n, f, nf, r->col[i]) && i != BRC_MESSAGE) w->too_long |= 1u << i;
    return 1;
}

void bank_result_close(bank_result *r)
{
    if (!r) return;
    csv_close(r->cr);
    free(r);
}
