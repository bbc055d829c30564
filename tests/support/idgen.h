/* idgen.h - valid identifiers for tests, computed from the standards: GB
 * 11643 ID numbers, GB 32100 unified social credit codes, UnionPay cards
 * that pass (or fail) the Luhn check, mobile numbers. Deterministic: the
 * i-th value is the same in every run, and distinct for distinct i. */
#ifndef QL_TESTS_IDGEN_H
#define QL_TESTS_IDGEN_H

#include <stdint.h>

/* An ID number from a 6-digit area, a birth day number and a 3-digit
 * sequence (odd: male), with its MOD 11-2 check character. */
void tu_make_id(const char *area, int32_t birth, int seq, char out[19]);

/* The i-th resident of area 310104 (distinct for i below 900,000): born
 * 1990-01-01 plus i / 900 days, sequence 100 + i % 900. */
void tu_gen_id(int i, char out[19]);

/* The i-th unified social credit code, 91310104MA1 + 6 digits + check. */
void tu_gen_credit(int i, char out[19]);

/* Appends the Luhn check digit to the digits in s (which has room for one more). */
void tu_luhn_complete(char *s);

/* The i-th 16-digit UnionPay card, 6222..., passing the Luhn check. */
void tu_gen_card(int i, char out[20]);

/* The i-th mobile number, 139 + 8 digits. */
void tu_gen_phone(int i, char out[12]);

#endif
