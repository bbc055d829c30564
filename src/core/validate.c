/* validate.c - ID number, credit code, mobile and bank card checks. */
#include "core/validate.h"

#include "core/date.h"
#include "core/text.h"

#include <stdio.h>
#include <string.h>

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

int validate_id_number(const char *field, const char *s, int32_t today, struct id_info *info,
                       ql_err *err)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check_chars[] = "10X98765432";
    size_t n = strlen(s);
    if (n != 18) {
        size_t chars = 0; /* characters, not bytes: 全角 digits count once */
        for (size_t i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xC0) != 0x80;
        if (chars == 18)
            return ql_errf(err, QL_EINVAL, field,
                           "%s: write the ID number in half-width digits 0-9 and X",
                           "%s：身份证号码请使用半角数字 0-9 和 X 填写", field);
        return ql_errf(err, QL_EINVAL, field, "%s: an ID number has 18 characters, not %zu",
                       "%s：身份证号码应为 18 位，而不是 %zu 位", field, chars);
    }
    if (!all_digits(s, 17))
        return ql_errf(err, QL_EINVAL, field, "%s: the first 17 characters must be digits",
                       "%s：身份证号码前 17 位必须是数字", field);
    char last = s[17] == 'x' ? 'X' : s[17];
    if (!((last >= '0' && last <= '9') || last == 'X'))
        return ql_errf(err, QL_EINVAL, field, "%s: the last character must be a digit or X",
                       "%s：身份证号码最后一位必须是数字或 X", field);
    int y = num(s + 6, 4), m = num(s + 10, 2), d = num(s + 12, 2);
    if (!date_valid(y, m, d) || y < 1900)
        return ql_errf(err, QL_EINVAL, field,
                       "%s: the birth date in it (characters 7 to 14) is not a real date",
                       "%s：其中的出生日期（第 7 至 14 位）不是有效日期", field);
    int32_t birth = date_from_ymd(y, m, d);
    if (birth > today)
        return ql_errf(err, QL_EINVAL, field,
                       "%s: the birth date in it (characters 7 to 14) is in the future",
                       "%s：其中的出生日期（第 7 至 14 位）晚于今天", field);
    enum id_kind kind = s[0] == '9' ? ID_FOREIGN_PERMANENT : ID_RESIDENT;
    /* Area codes start with 1-8 (the region of the country); 9 is the
     * foreigner form, 0 is not used. */
    if (s[0] == '0')
        return ql_errf(err, QL_EINVAL, field, "%s: %.6s is not an area code",
                       "%s：%.6s 不是有效的行政区划代码", field, s);
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (s[i] - '0') * w[i];
    char want = check_chars[sum % 11];
    if (want != last)
        return ql_errf(err, QL_EINVAL, field,
                       "%s: the check character does not match; the number was probably "
                       "mistyped",
                       "%s：校验位不符，号码可能输入有误", field);
    if (info) {
        info->kind = kind;
        info->birth = birth;
        info->female = (s[16] - '0') % 2 == 0;
        memcpy(info->region, s, 6);
        info->region[6] = '\0';
    }
    return 0;
}

int validate_credit_code(const char *field, const char *s, ql_err *err)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    size_t n = strlen(s);
    if (n != 18)
        return ql_errf(err, QL_EINVAL, field,
                       "%s: a unified social credit code has 18 characters, not %zu",
                       "%s：统一社会信用代码应为 18 位，而不是 %zu 位", field, n);
    int sum = 0;
    int vals[18];
    for (size_t i = 0; i < 18; i++) {
        const char *p = s[i] ? strchr(alphabet, s[i]) : NULL;
        if (!p)
            return ql_errf(err, QL_EINVAL, field,
                           "%s: character %zu is not allowed; use digits and the capital "
                           "letters A-Y without I, O, S, V, Z",
                           "%s：第 %zu 位字符不允许；只能使用数字和除 I、O、S、V、Z 以外的大写字母",
                           field, i + 1);
        vals[i] = (int)(p - alphabet);
        if (i < 17) sum += vals[i] * w[i];
    }
    if (!all_digits(s + 2, 6))
        return ql_errf(err, QL_EINVAL, field,
                       "%s: characters 3 to 8 must be the digits of an area code",
                       "%s：第 3 至 8 位必须是行政区划代码数字", field);
    int check = 31 - sum % 31;
    if (check == 31) check = 0;
    if (vals[17] != check)
        return ql_errf(err, QL_EINVAL, field,
                       "%s: the check character does not match; the code was probably mistyped",
                       "%s：校验位不符，代码可能输入有误", field);
    return 0;
}

int validate_mobile(const char *field, const char *s, ql_err *err)
{
    size_t n = strlen(s);
    if (n != 11 || !all_digits(s, n) || s[0] != '1' || s[1] < '3')
        return ql_errf(err, QL_EINVAL, field,
                       "%s: a mobile number has 11 digits and starts with 13 to 19",
                       "%s：手机号码应为 11 位数字，以 13 至 19 开头", field);
    return 0;
}

int validate_bank_card(const char *field, const char *s, int *luhn_ok, ql_err *err)
{
    size_t n = strlen(s);
    if (n < 16 || n > 19 || !all_digits(s, n) || s[0] != '6' || s[1] != '2')
        return ql_errf(err, QL_EINVAL, field,
                       "%s: a UnionPay card number has 16 to 19 digits and starts with 62",
                       "%s：银联卡号应为 16 至 19 位数字，以 62 开头", field);
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int dgt = s[n - 1 - i] - '0';
        if (i % 2 == 1) {
            dgt *= 2;
            if (dgt > 9) dgt -= 9;
        }
        sum += dgt;
    }
    if (luhn_ok) *luhn_ok = sum % 10 == 0;
    return 0;
}

/* Length of the UTF-8 character starting at s, n bytes left (1 for a stray byte). */
static size_t char_len(const unsigned char *s, size_t n)
{
    size_t k = text_char_len(s, n);
    return k ? k : 1;
}

void validate_mask(const char *s, enum mask_kind kind, char *out, size_t n)
{
    size_t head = 0, tail = 2;
    switch (kind) {
    case MASK_ID:
    case MASK_CARD: head = 6, tail = 4; break;
    case MASK_PHONE: head = 3, tail = 4; break;
    case MASK_OTHER: head = 0, tail = 2; break;
    }
    /* Count characters, not bytes, so that a character is never cut. */
    const unsigned char *u = (const unsigned char *)s;
    size_t chars = 0;
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i += char_len(u + i, len - i)) chars++;
    if (chars < head + tail + 4) head = 0, tail = chars > 2 ? 2 : 0;
    if (n == 0) return;
    size_t o = 0, k = 0;
    for (size_t i = 0; i < len; k++) {
        size_t cl = char_len(u + i, len - i);
        int keep = k < head || k >= chars - tail;
        size_t need = keep ? cl : 1;
        if (o + need + 1 > n) break;
        if (keep) memcpy(out + o, s + i, cl);
        else out[o] = '*';
        o += need;
        i += cl;
    }
    out[o] = '\0';
}

/* Parses digits with an optional '.' and at most 2 decimals into hundredths,
 * ignoring ',' between digits. Returns 0 or -1. */
static int parse_hundredths(const char *s, int64_t max_units, int64_t *out)
{
    int64_t whole = 0;
    int decimals = -1, digits = 0, frac = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (decimals >= 0) {
                if (++decimals > 2) return -1;
                frac = frac * 10 + (*p - '0');
            } else {
                whole = whole * 10 + (*p - '0');
                if (whole > max_units) return -1;
            }
            digits++;
        } else if (*p == '.' && decimals < 0 && digits) {
            decimals = 0;
        } else if (*p == ',' && decimals < 0 && digits && p[1] >= '0' && p[1] <= '9') {
            continue;
        } else {
            return -1;
        }
    }
    if (!digits || decimals == 0) return -1;
    if (decimals == 1) frac *= 10;
    *out = whole * 100 + frac;
    return 0;
}

int validate_money_upto(const char *field, const char *s, int64_t max_fen, int64_t *fen,
                        ql_err *err)
{
    if (max_fen < 0 || max_fen > VALIDATE_MONEY_MAX) max_fen = VALIDATE_MONEY_MAX;
    const char *p = s;
    while (*p == ' ') p++;
    if (!strncmp(p, "\xC2\xA5", 2)) p += 2; /* ¥ */
    else if (!strncmp(p, "\xEF\xBF\xA5", 3)) p += 3; /* ￥ */
    int64_t v;
    if (parse_hundredths(p, max_fen / 100, &v) != 0 || v > max_fen) {
        char most[32];
        validate_money_text(max_fen, most, sizeof most);
        return ql_errf(err, QL_EINVAL, field,
                       "%s: write an amount in yuan such as 1500 or 1500.50 (at most 2 decimals, "
                       "at most %s)",
                       "%s：请填写以元为单位的金额，如 1500 或 1500.50（最多两位小数，不超过 %s）",
                       field, most);
    }
    *fen = v;
    return 0;
}

int validate_money(const char *field, const char *s, int64_t *fen, ql_err *err)
{
    return validate_money_upto(field, s, 10000000000LL, fen, err);
}

int validate_area(const char *field, const char *s, int64_t *cm2, ql_err *err)
{
    int64_t v;
    if (parse_hundredths(s, 100000, &v) != 0 || v < 1 || v > 10000000)
        return ql_errf(err, QL_EINVAL, field,
                       "%s: write the area in square metres such as 45.5 (0.01 to 100000)",
                       "%s：请以平方米填写面积，如 45.5（0.01 至 100000）", field);
    *cm2 = v;
    return 0;
}

int validate_date(const char *field, const char *s, int32_t *day, ql_err *err)
{
    int32_t d;
    if (date_parse(s, &d) != 0 || d < date_from_ymd(1900, 1, 1) || d > date_from_ymd(2100, 12, 31))
        return ql_errf(err, QL_EINVAL, field, "%s: write a real date as YYYY-MM-DD, e.g. 2026-03-01",
                       "%s：请按 YYYY-MM-DD 填写真实日期，如 2026-03-01", field);
    *day = d;
    return 0;
}

int validate_int(const char *field, const char *s, int64_t min, int64_t max, int64_t *out,
                 ql_err *err)
{
    const char *p = s;
    int neg = *p == '-';
    if (neg) p++;
    int64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++) v = v * 10 + (*p - '0');
    if (neg) v = -v;
    if (!digits || *p || v < min || v > max)
        return ql_errf(err, QL_EINVAL, field, "%s: write a whole number from %lld to %lld",
                       "%s：请填写 %lld 到 %lld 之间的整数", field, (long long)min, (long long)max);
    *out = v;
    return 0;
}

void validate_money_text(int64_t fen, char *out, size_t n)
{
    uint64_t a = fen < 0 ? (uint64_t)(-(fen + 1)) + 1 : (uint64_t)fen;
    snprintf(out, n, "%s%llu.%02llu", fen < 0 ? "-" : "", (unsigned long long)(a / 100),
             (unsigned long long)(a % 100));
}

static int text_flaw_error(const char *field, const char *s, int newlines, ql_err *err)
{
    size_t pos = 0;
    uint32_t cp = 0;
    switch (text_first_flaw(s, strlen(s), newlines, &pos, &cp)) {
    case TEXT_FINE:
        return 0;
    case TEXT_MALFORMED:
        return ql_errf(err, QL_EINVAL, field,
                       "%s: character %zu is not valid UTF-8 text (byte 0x%02X); type it again",
                       "%s：第 %zu 个字符不是有效的 UTF-8 文本（字节 0x%02X），请重新输入", field,
                       pos, (unsigned)cp);
    case TEXT_CONTROL:
        return ql_errf(err, QL_EINVAL, field,
                       "%s: character %zu (U+%04X) is a control character; remove it",
                       "%s：第 %zu 个字符（U+%04X）是控制字符，请删除", field, pos, (unsigned)cp);
    case TEXT_SEPARATOR:
        return ql_errf(err, QL_EINVAL, field,
                       "%s: character %zu (U+%04X) is a line or paragraph separator; write it on "
                       "one line",
                       "%s：第 %zu 个字符（U+%04X）是换行或分段符，请写在一行内", field, pos,
                       (unsigned)cp);
    case TEXT_BIDI:
        return ql_errf(err, QL_EINVAL, field,
                       "%s: character %zu (U+%04X) is an invisible bidirectional control, which "
                       "changes the order the text is shown in; remove it",
                       "%s：第 %zu 个字符（U+%04X）是不可见的双向文本控制符，会改变文字的显示顺序，"
                       "请删除",
                       field, pos, (unsigned)cp);
    case TEXT_INVISIBLE:
        return ql_errf(err, QL_EINVAL, field,
                       "%s: character %zu (U+%04X) is invisible (zero-width or formatting); "
                       "remove it",
                       "%s：第 %zu 个字符（U+%04X）是不可见字符（零宽或格式字符），请删除", field,
                       pos, (unsigned)cp);
    case TEXT_NONCHAR:
        return ql_errf(err, QL_EINVAL, field,
                       "%s: character %zu (U+%04X) is not a character of any script; remove it",
                       "%s：第 %zu 个字符（U+%04X）不是任何文字的字符，请删除", field, pos,
                       (unsigned)cp);
    }
    return QL_EINVAL; /* not reached */
}

int validate_text_line(const char *field, const char *s, ql_err *err)
{
    return text_flaw_error(field, s, 0, err);
}

int validate_text_block(const char *field, const char *s, ql_err *err)
{
    return text_flaw_error(field, s, 1, err);
}

int validate_name(const char *field, const char *s, ql_err *err)
{
    int rc = validate_text_line(field, s, err);
    if (rc) return rc;
    if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')
        return ql_errf(err, QL_EINVAL, field,
                       "%s: a name cannot start with '%c' (a spreadsheet would take it for a "
                       "formula)",
                       "%s：名称不能以“%c”开头（电子表格会将其当作公式）", field, s[0]);
    return 0;
}
