/* fuzz_validate.c - libFuzzer target: identifiers as users type them (ID
 * numbers, credit codes, mobile and card numbers) and their masking. */
#include "core/date.h"
#include "core/validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    ql_err err;
    struct id_info info;
    if (validate_id_number("f", s, date_from_ymd(2026, 11, 29), &info, &err) == 0) {
        /* Whatever is accepted has a real birth date. */
        int y, m, d;
        date_to_ymd(info.birth, &y, &m, &d);
        if (!date_valid(y, m, d)) __builtin_trap();
    }
    validate_credit_code("f", s, &err);
    validate_mobile("f", s, &err);
    int luhn;
    validate_bank_card("f", s, &luhn, &err);
    char out[32];
    validate_mask(s, MASK_ID, out, sizeof out);
    validate_mask(s, MASK_PHONE, out, 4);
    free(s);
    return 0;
}
