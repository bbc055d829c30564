/* idgen.c - valid identifiers for tests (see idgen.h). */
#include "idgen.h"

#include "core/date.h"

#include <stdio.h>
#include <string.h>

void tu_make_id(const char *area, int32_t birth, int seq, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int y, m, d;
    date_to_ymd(birth, &y, &m, &d);
    snprintf(out, 19, "%.6s%04u%02u%02u%03u", area, (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u, (unsigned)seq % 1000u);
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (out[i] - '0') * w[i];
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

void tu_gen_id(int i, char out[19])
{
    tu_make_id("310104", date_from_ymd(1990, 1, 1) + i / 900, 100 + i % 900, out);
}

void tu_gen_credit(int i, char out[19])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    snprintf(out, 19, "91310104MA1%06u", (unsigned)i % 1000000u);
    int sum = 0;
    for (int k = 0; k < 17; k++) sum += (int)(strchr(alphabet, out[k]) - alphabet) * w[k];
    int check = 31 - sum % 31;
    out[17] = alphabet[check == 31 ? 0 : check];
    out[18] = '\0';
}

void tu_luhn_complete(char *s)
{
    size_t n = strlen(s);
    int sum = 0;
    for (size_t k = 0; k < n; k++) {
        int dgt = s[n - 1 - k] - '0';
        if (k % 2 == 0) {
            dgt *= 2;
            if (dgt > 9) dgt -= 9;
        }
        sum += dgt;
    }
    s[n] = (char)('0' + (10 - sum % 10) % 10);
    s[n + 1] = '\0';
}

void tu_gen_card(int i, char out[20])
{
    snprintf(out, 20, "6222%011u", (unsigned)i);
    tu_luhn_complete(out);
}

void tu_gen_phone(int i, char out[12])
{
    snprintf(out, 12, "139%08u", (unsigned)i % 100000000u);
}
