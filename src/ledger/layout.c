/* layout.c - fixed-width layouts of bank batch files (bank.h). */
#include "ledger/bank_impl.h"

#include "core/embed.h"
#include "core/text.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum bank_field f;
    bool numeric;
    bool detail_only;
} fields[] = {
    {"batch_no", BF_BATCH_NO, false, false},
    {"records", BF_RECORDS, true, false},
    {"total_fen", BF_TOTAL_FEN, true, false},
    {"total_yuan", BF_TOTAL_YUAN, false, false},
    {"date", BF_DATE, false, false},
    {"cycle", BF_CYCLE, false, false},
    {"request_id", BF_REQUEST_ID, false, true},
    {"account", BF_ACCOUNT, false, true},
    {"name", BF_NAME, false, true},
    {"amount_fen", BF_AMOUNT_FEN, true, true},
    {"amount_yuan", BF_AMOUNT_YUAN, false, true},
    {"purpose", BF_PURPOSE, false, true},
    {"payee_type", BF_PAYEE_TYPE, false, true},
    {"seq", BF_SEQ, true, true},
};

static int bad(ql_err *err, const char *name, int line, const char *en, const char *zh,
               const char *what)
{
    return ql_errf(err, QL_EINVAL, "layout", "%s:%d: %s%.0s%s", "%s:%d：%.0s%s%s", name, line, en,
                   zh, what);
}

/* The next word of *p (a "quoted literal" whole), NUL-terminated in place. */
static char *word(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return NULL;
    char *w = s;
    if (*s == '"') {
        char *q = strchr(s + 1, '"');
        s = q ? q + 1 : s + strlen(s);
    } else {
        while (*s && *s != ' ' && *s != '\t') s++;
    }
    if (*s) *s++ = '\0';
    *p = s;
    return w;
}

static int parse_line(bank_layout *l, char *text, const char *name, int line, ql_err *err)
{
    char *p = text, *rec = word(&p), *fld = word(&p), *wid = word(&p);
    if (!rec) return 0; /* blank */
    struct bank_lfield f;
    memset(&f, 0, sizeof f);
    f.pad = ' ';
    if (!strcmp(rec, "header"))
        f.rec = BR_HEADER;
    else if (!strcmp(rec, "detail"))
        f.rec = BR_DETAIL;
    else if (!strcmp(rec, "trailer"))
        f.rec = BR_TRAILER;
    else
        return bad(err, name, line, "the record is header, detail or trailer: ",
                   "记录类型应为 header、detail 或 trailer：", rec);
    if (!fld || !wid)
        return bad(err, name, line, "write RECORD FIELD WIDTH", "格式应为 记录 字段 宽度", "");
    char *end;
    long w = strtol(wid, &end, 10);
    if (*end || w < 1 || w > 500)
        return bad(err, name, line,
                   "the width is a number from 1 to 500: ", "宽度应为 1 至 500 的数字：", wid);
    f.width = (int)w;
    if (fld[0] == '"') {
        size_t n = strlen(fld);
        if (n < 2 || fld[n - 1] != '"' || n - 2 >= sizeof f.lit)
            return bad(err, name, line, "a literal is \"text\" of at most 63 bytes: ",
                       "常量应为不超过 63 字节的 \"文本\"：", fld);
        memcpy(f.lit, fld + 1, n - 2);
        f.lit[n - 2] = '\0';
        if (text_first_flaw(f.lit, n - 2, 0, NULL, NULL) != TEXT_FINE)
            return bad(err, name, line,
                       "a literal may hold no control, invisible or malformed character",
                       "常量不能含有控制字符、不可见字符或无效字符", "");
        if ((int)(n - 2) > f.width)
            return bad(err, name, line, "the literal is wider than its width: ", "常量超出宽度：",
                       fld);
        f.f = BF_LITERAL;
    } else {
        size_t i;
        for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (!strcmp(fields[i].name, fld)) break;
        if (i == sizeof fields / sizeof fields[0])
            return bad(err, name, line, "no such field: ", "没有此字段：", fld);
        if (fields[i].detail_only && f.rec != BR_DETAIL)
            return bad(err, name, line,
                       "this field belongs to detail records: ", "此字段只能用于明细记录：", fld);
        f.f = fields[i].f;
        f.numeric = fields[i].numeric;
        if (f.numeric) {
            f.right = true;
            f.pad = '0';
        }
    }
    for (char *opt; (opt = word(&p));) {
        if (!strcmp(opt, "left"))
            f.right = false;
        else if (!strcmp(opt, "right"))
            f.right = true;
        else if (!strcmp(opt, "space"))
            f.pad = ' ';
        else if (!strcmp(opt, "zero"))
            f.pad = '0';
        else if (!strcmp(opt, "cut") && !f.numeric && f.f != BF_LITERAL)
            f.cut = true;
        else
            return bad(err, name, line, "options are left, right, space, zero and cut (text): ",
                       "选项为 left、right、space、zero 和 cut（文本）：", opt);
    }
    if (l->n == BANK_LAYOUT_FIELDS) return bad(err, name, line, "too many fields", "字段过多", "");
    l->f[l->n++] = f;
    return 0;
}

int bank_layout_parse(const char *text, size_t len, const char *name, bank_layout **out,
                      ql_err *err)
{
    bank_layout *l = xcalloc(1, sizeof *l);
    char lbuf[1024];
    int line = 0, rc = 0;
    for (size_t i = 0; i < len && !rc;) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        line++;
        size_t n = j - i;
        if (n && text[i + n - 1] == '\r') n--;
        if (n >= sizeof lbuf) {
            rc = bad(err, name, line, "the line is too long", "行过长", "");
            break;
        }
        memcpy(lbuf, text + i, n);
        lbuf[n] = '\0';
        char *hash = lbuf;
        for (bool q = false; *hash; hash++) { /* a comment starts outside quotes */
            if (*hash == '"')
                q = !q;
            else if (*hash == '#' && !q) {
                *hash = '\0';
                break;
            }
        }
        rc = parse_line(l, lbuf, name, line, err);
        i = j + 1;
    }
    bool detail = false;
    for (int i = 0; i < l->n; i++) detail |= l->f[i].rec == BR_DETAIL;
    if (!rc && !detail)
        rc = bad(err, name, line, "a layout needs detail fields", "布局须有明细字段", "");
    if (rc) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

int bank_layout_default(bank_layout **out, ql_err *err)
{
    const struct embedded_file *f = embed_find("layouts/bank-fixed.layout");
    if (!f)
        return ql_errf(err, QL_EINTERNAL, "layout", "the shipped layout is not in the binary",
                       "程序中缺少内置布局");
    return bank_layout_parse(f->data, f->len, "layouts/bank-fixed.layout", out, err);
}

void bank_layout_free(bank_layout *l)
{
    free(l);
}

/* Appends v to b in field f: padded, or cut at a character boundary. */
static int put(buf *b, const struct bank_lfield *f, const char *v, ql_err *err)
{
    size_t n = strlen(v), w = (size_t)f->width;
    if (n > w) {
        if (!f->cut)
            return ql_errf(err, QL_EINVAL, "layout",
                           "\"%s\" is wider than its field of %d bytes: widen the layout",
                           "“%s”超出 %d 字节的字段宽度：请加宽布局", v, f->width);
        n = w;
        while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80) n--; /* a whole character */
    }
    if (f->right)
        for (size_t i = n; i < w; i++) buf_putc(b, f->pad);
    buf_append(b, v, n);
    if (!f->right)
        for (size_t i = n; i < w; i++) buf_putc(b, f->pad);
    return 0;
}

int bank_layout_record(const bank_layout *l, enum bank_record rec, const struct bank_values *v,
                       buf *b, ql_err *err)
{
    bool any = false;
    for (int i = 0; i < l->n; i++) {
        const struct bank_lfield *f = &l->f[i];
        if (f->rec != rec) continue;
        any = true;
        char num[32];
        const char *s = "";
        switch (f->f) {
        case BF_LITERAL:
            s = f->lit;
            break;
        case BF_BATCH_NO:
            s = v->batch_no;
            break;
        case BF_RECORDS:
            snprintf(num, sizeof num, "%lld", (long long)v->records), s = num;
            break;
        case BF_TOTAL_FEN:
            snprintf(num, sizeof num, "%lld", (long long)v->total_fen), s = num;
            break;
        case BF_TOTAL_YUAN:
            validate_money_text(v->total_fen, num, sizeof num), s = num;
            break;
        case BF_DATE:
            s = v->date;
            break;
        case BF_CYCLE:
            s = v->cycle;
            break;
        case BF_REQUEST_ID:
            s = v->request_id;
            break;
        case BF_ACCOUNT:
            s = v->account;
            break;
        case BF_NAME:
            s = v->name;
            break;
        case BF_AMOUNT_FEN:
            snprintf(num, sizeof num, "%lld", (long long)v->amount_fen), s = num;
            break;
        case BF_AMOUNT_YUAN:
            validate_money_text(v->amount_fen, num, sizeof num), s = num;
            break;
        case BF_PURPOSE:
            s = v->purpose;
            break;
        case BF_PAYEE_TYPE:
            s = v->payee_type;
            break;
        case BF_SEQ:
            snprintf(num, sizeof num, "%lld", (long long)v->seq), s = num;
            break;
        }
        int rc = put(b, f, s ? s : "", err);
        if (rc) return rc;
    }
    if (any) buf_puts(b, "\r\n");
    return 0;
}
