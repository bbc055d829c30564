/* validate.h - checks from the Chinese standards (GB 11643, GB 32100 and the usual mainland formats).
 *
 * Each function takes the name of the field being checked (for the error)
 * and returns 0 if the value is valid, or QL_EINVAL with err naming the field
 * and saying what is wrong in English and Chinese.
 */
#ifndef QL_CORE_VALIDATE_H
#define QL_CORE_VALIDATE_H

#include "core/err.h"

#include <stdint.h>

enum id_kind { ID_RESIDENT = 1, ID_FOREIGN_PERMANENT = 2 };

struct id_info {
    enum id_kind kind;
    int32_t birth;  /* day number */
    int female;     /* sequence code even */
    char region[7]; /* area code (resident) or province + nationality digits (foreigner) */
};

/* National ID number (GB 11643-1999, 18 characters): 6-digit area code,
 * birth date YYYYMMDD that is real and not after today, 3-digit sequence,
 * check character by ISO 7064 MOD 11-2 ("X" for 10, lower case accepted).
 * The foreigner permanent-residence ID (2023 form: '9', province, 3-digit
 * nationality, birth date, sequence, check) is accepted as ID_FOREIGN_PERMANENT.
 * today is the day number to compare the birth date with. info may be NULL. */
int validate_id_number(const char *field, const char *s, int32_t today, struct id_info *info,
                       ql_err *err);

/* Unified social credit code (GB 32100-2015): 18 characters from
 * 0-9 and A-Y without I O S V Z, with the MOD 31 check character. */
int validate_credit_code(const char *field, const char *s, ql_err *err);

/* Mainland mobile number: 11 digits, 1 then 3-9 then 9 digits. */
int validate_mobile(const char *field, const char *s, ql_err *err);

/* UnionPay card number: 16-19 digits starting with 62. A failed Luhn check
 * is not an error (some valid cards fail it): *luhn_ok (may be NULL) says
 * whether it passed, so the caller can warn. */
int validate_bank_card(const char *field, const char *s, int *luhn_ok, ql_err *err);

/* Money typed by a person: "2000", "2,000.5", "1500.00", "¥1500" (yuan,
 * at most 2 decimals, 0 to 100,000,000). *fen receives it in fen. */
int validate_money(const char *field, const char *s, int64_t *fen, ql_err *err);

/* validate_money for larger sums (a programme's budget for a year): 0 to
 * max_fen, at most VALIDATE_MONEY_MAX. */
#define VALIDATE_MONEY_MAX 100000000000000LL /* fen: a trillion yuan */
int validate_money_upto(const char *field, const char *s, int64_t max_fen, int64_t *fen,
                        ql_err *err);

/* An area in square metres with at most 2 decimals ("45.5", "120"), from
 * 0.01 to 100,000. *cm2 receives hundredths of a square metre. */
int validate_area(const char *field, const char *s, int64_t *cm2, ql_err *err);

/* A date "YYYY-MM-DD" between 1900-01-01 and 2100-12-31; *day receives the
 * day number. */
int validate_date(const char *field, const char *s, int32_t *day, ql_err *err);

/* A whole number from min to max. */
int validate_int(const char *field, const char *s, int64_t min, int64_t max, int64_t *out,
                 ql_err *err);

/* A line of text that people type and other programs show or read (an
 * address, a category, a label, a reason): well-formed UTF-8 without any
 * character text_first_flaw finds (controls C0 and C1, line and paragraph
 * separators, bidirectional controls, zero-width and other invisible
 * characters, noncharacters). QL_EINVAL naming field, the character
 * (U+XXXX), its position and its kind. The length is the caller's check. */
int validate_text_line(const char *field, const char *s, ql_err *err);

/* validate_text_line for text of several lines (a reason, a note, an
 * objection): tab, line feed and carriage return are allowed. */
int validate_text_block(const char *field, const char *s, ql_err *err);

/* A name (of a person, an employer, an operator, an account's holder):
 * validate_text_line, and it does not start with '=', '+', '-' or '@',
 * which a spreadsheet would take for a formula (docs/registry.md). */
int validate_name(const char *field, const char *s, ql_err *err);

/* Formats fen as yuan with two decimals ("1500.00", "-0.05") into out. */
void validate_money_text(int64_t fen, char *out, size_t n);

enum mask_kind {
    MASK_ID,    /* keeps the first 6 and last 4: 310104********1234 */
    MASK_PHONE, /* keeps the first 3 and last 4: 138****8000 */
    MASK_CARD,  /* keeps the first 6 and last 4: 622202*********1234 */
    MASK_OTHER  /* keeps the last 2 */
};

/* Writes a masked copy of personal data for lists, exports and logs, with
 * one '*' for each hidden character (UTF-8 characters are never cut). A
 * value too short to keep head and tail visible and still hide 4 characters
 * keeps only its last 2 (or none when it has 2 or fewer). Never writes more
 * than n bytes (NUL included), and stops before a character that does not fit. */
void validate_mask(const char *s, enum mask_kind kind, char *out, size_t n);

#endif
