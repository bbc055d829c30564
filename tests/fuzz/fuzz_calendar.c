/* fuzz_calendar.c - libFuzzer target: holiday calendar files, which must be
 * accepted or refused with a message naming the place, never crash; an
 * accepted year must answer consistently (counting the working days up to
 * the n-th working day gives n). */
#include "core/calendar.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cal_year y;
    ql_err err;
    memset(&err, 0, sizeof err);
    int rc = cal_year_parse((const char *)data, size, "fuzz.txt", &y, &err);
    if (rc) {
        if (!err.en[0] || !err.zh[0]) __builtin_trap(); /* every refusal says why */
        return 0;
    }
    calendar c;
    calendar_init(&c);
    if (calendar_add(&c, &y, &err)) __builtin_trap();
    for (int n = 1; n <= 10; n++) {
        int32_t d;
        if (calendar_add_workdays(&c, y.first - 1, n, &d, &err)) break; /* past the year */
        int got = -1, work = 0;
        if (calendar_count_workdays(&c, y.first - 1, d, &got, &err) || got != n) __builtin_trap();
        if (calendar_is_workday(&c, d, &work, &err) || !work) __builtin_trap();
    }
    calendar_free(&c);
    return 0;
}
