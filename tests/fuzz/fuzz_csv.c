/* fuzz_csv.c - libFuzzer target: CSV of any bytes, read from memory and from a stream, which must
 * agree record for record; every refusal says why, and every field is UTF-8 within the limits. */
#include "core/csv.h"
#include "core/text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(char **f, int n, long line, long *last)
{
    if (n < 1 || n > 1000 || line <= *last || f[n]) __builtin_trap();
    *last = line;
    for (int i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)f[i];
        size_t len = strlen(f[i]);
        if (len > 64 * 1024) __builtin_trap();
        for (size_t j = 0; j < len;) {
            size_t k = s[j] < 0x80 ? 1 : text_char_len(s + j, len - j);
            if (!k) __builtin_trap(); /* fields are always well-formed UTF-8 */
            j += k;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    csv_reader *m = NULL, *s = NULL;
    ql_err em = {0}, es = {0};
    int rm = csv_open_mem((const char *)data, size, "fuzz.csv", &m, &em);
    if (rm) {
        if (!em.en[0] || !em.zh[0]) __builtin_trap();
        return 0;
    }
    FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
    if (f && csv_open_file(f, "fuzz.csv", &s, &es)) __builtin_trap();
    if (s && csv_encoding_of(s) != csv_encoding_of(m)) __builtin_trap();

    long last = 0;
    for (;;) {
        char **fm, **fs;
        int nm, ns;
        long lm, ls;
        rm = csv_next(m, &fm, &nm, &lm, &em);
        if (rm < 0 && (!em.en[0] || !em.zh[0] || em.code != rm)) __builtin_trap();
        if (rm == 1) check_record(fm, nm, lm, &last);
        if (s) {
            int rs = csv_next(s, &fs, &ns, &ls, &es);
            if (rs != rm) __builtin_trap();
            if (rs < 0 && strcmp(es.en, em.en)) __builtin_trap();
            if (rs == 1) {
                if (ns != nm || ls != lm) __builtin_trap();
                for (int i = 0; i < nm; i++)
                    if (strcmp(fs[i], fm[i])) __builtin_trap();
            }
        }
        if (rm <= 0) break;
    }
    /* An error stays: the next call says the same. */
    if (rm < 0) {
        char **fm;
        int nm;
        long lm;
        ql_err again;
        if (csv_next(m, &fm, &nm, &lm, &again) != rm || strcmp(again.en, em.en)) __builtin_trap();
    }
    csv_close(m);
    csv_close(s);
    if (f) fclose(f);
    return 0;
}
