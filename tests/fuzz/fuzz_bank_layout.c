/* fuzz_bank_layout.c - libFuzzer target: fixed-width layouts of bank batch
 * files (layouts/bank-fixed.layout) of any bytes. A layout is accepted, or
 * refused with "fuzz.layout:LINE: ..." in both languages. An accepted one
 * writes each record exactly as wide as its fields add up to, ending CRLF,
 * in valid UTF-8 with no control character inside (a name cut at a
 * character boundary, never inside one); a value wider than a field that
 * may not be cut is refused naming the layout, never written. */
#include "core/buf.h"
#include "core/text.h"
#include "ledger/bank_impl.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const bank_layout *l, const struct bank_values *v)
{
    static const enum bank_record recs[] = {BR_HEADER, BR_DETAIL, BR_TRAILER};
    for (size_t k = 0; k < 3; k++) {
        size_t width = 0;
        int any = 0;
        for (int i = 0; i < l->n; i++)
            if (l->f[i].rec == recs[k]) width += (size_t)l->f[i].width, any = 1;
        buf b;
        buf_init(&b, 0);
        ql_err err = {0};
        int rc = bank_layout_record(l, recs[k], v, &b, &err);
        if (rc) {
            if (rc != QL_EINVAL || strcmp(err.field, "layout") || !strstr(err.en, "wider") ||
                !err.zh[0])
                __builtin_trap();
        } else if (!any) {
            if (b.len) __builtin_trap();
        } else {
            if (b.len != width + 2 || memcmp(b.data + width, "\r\n", 2)) __builtin_trap();
            if (text_first_flaw(b.data, width, 0, NULL, NULL) != TEXT_FINE) __builtin_trap();
        }
        buf_free(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bank_layout *l = NULL;
    ql_err err = {0};
    int rc = bank_layout_parse((const char *)data, size, "fuzz.layout", &l, &err);
    if (rc) {
        if (rc != QL_EINVAL || l || strcmp(err.field, "layout") ||
            strncmp(err.en, "fuzz.layout:", 12) || strncmp(err.zh, "fuzz.layout:", 12))
            __builtin_trap();
        return 0;
    }
    if (!l || l->n < 1 || l->n > BANK_LAYOUT_FIELDS) __builtin_trap();
    /* a short record, and one with a long name and the largest numbers */
    char longname[61 * 3 + 1] = "";
    for (int i = 0; i < 61; i++) memcpy(longname + 3 * i, "张", 3);
    longname[61 * 3] = '\0';
    struct bank_values small = {"QLM202611-0001",
                                "20261105",
                                "202611",
                                2,
                                350000,
                                "202611-12-1",
                                "6222021001000000011",
                                "王五",
                                "人才租房补贴 2026-11",
                                "person",
                                200000,
                                1};
    struct bank_values large = {"QLM202611-9999",
                                "20261130",
                                "202611",
                                100000,
                                INT64_MAX,
                                "202611-9999999999-99",
                                "6222021001000000011000",
                                longname,
                                "人才租房补贴 2026-11",
                                "employer",
                                INT64_MAX,
                                100000};
    check(l, &small);
    check(l, &large);
    bank_layout_free(l);
    return 0;
}
