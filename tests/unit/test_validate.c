/* test_validate.c - dates and the checks from the Chinese standards. */
#include "testutil.h"

#include "core/date.h"
#include "core/pii.h"
#include "core/text.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int32_t today(void)
{
    return date_from_ymd(2026, 11, 29);
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(date_from_ymd(1970, 1, 1), 0);
    assert_int_equal(date_from_ymd(2000, 3, 1) - date_from_ymd(2000, 2, 28), 2);
    assert_int_equal(date_from_ymd(1900, 3, 1) - date_from_ymd(1900, 2, 28), 1);
    for (int32_t d = -600000; d < 2900000; d += 997) {
        int y, m, dd;
        date_to_ymd(d, &y, &m, &dd);
        assert_true(date_valid(y, m, dd));
        assert_int_equal(date_from_ymd(y, m, dd), d);
    }
    assert_true(date_valid(2024, 2, 29));
    assert_false(date_valid(2026, 2, 29));
    assert_false(date_valid(2100, 2, 29));
    assert_true(date_valid(2000, 2, 29));
    assert_false(date_valid(2026, 4, 31));
    assert_false(date_valid(2026, 13, 1));
    assert_false(date_valid(2026, 0, 1));
    int32_t d;
    assert_int_equal(date_parse("2026-11-29", &d), 0);
    char out[16];
    date_format(d, out, sizeof out);
    assert_string_equal(out, "2026-11-29");
    static const char *const bad[] = {"2026-02-30", "2026-1-01", "26-01-01", "2026-01-01x",
                                      "2026/01/01", "",           "abcd-ef-gh"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(date_parse(bad[i], &d), QL_EINVAL);
    /* date_today is Shanghai's date: within a day of UTC's. */
    int32_t utc = (int32_t)(time(NULL) / 86400);
    assert_true(date_today() == utc || date_today() == utc + 1);
}

static void test_id_number(void **state)
{
    (void)state;
    ql_err e;
    struct id_info info;
    /* The standard's own example. */
    assert_int_equal(validate_id_number("id", "11010519491231002X", today(), &info, &e), 0);
    assert_int_equal(info.kind, ID_RESIDENT);
    assert_int_equal(info.birth, date_from_ymd(1949, 12, 31));
    assert_true(info.female);
    assert_string_equal(info.region, "110105");
    /* Lower-case x is accepted. */
    assert_int_equal(validate_id_number("id", "11010519491231002x", today(), NULL, &e), 0);

    /* Each way of being wrong is named, with the field. */
    struct {
        const char *v, *needle;
    } bad[] = {
        {"110105194912310021", "check character"},
        {"11010519491231002", "18 characters"},
        {"1101051949123100211", "18 characters"},
        {"1101051949A231002X", "first 17"},
        {"11010519491231002Y", "last character"},
        {"110105194902300028", "not a real date"},
        {"110105203001010011", "future"},
        {"110105180001010016", "not a real date"},
        {"010105194912310021", "area code"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ql_err_clear(&e);
        int rc = validate_id_number("talent.id_number", bad[i].v, today(), NULL, &e);
        if (rc != QL_EINVAL) fail_msg("%s accepted", bad[i].v);
        assert_string_equal(e.field, "talent.id_number");
        if (!strstr(e.en, bad[i].needle)) fail_msg("%s: message '%s'", bad[i].v, e.en);
        assert_non_null(strstr(e.en, "talent.id_number"));
        assert_true(strlen(e.zh) > 0);
    }
}

/* Builds a valid number from 17 digits by computing its check character. */
static void with_check(const char *body17, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (body17[i] - '0') * w[i];
    memcpy(out, body17, 17);
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

static void test_id_number_foreigner_and_sex(void **state)
{
    (void)state;
    char id[19];
    ql_err e;
    struct id_info info;
    /* 2023 foreigner permanent residence ID: 9, province 31, nationality 840. */
    with_check("93184019850607001", id);
    assert_int_equal(validate_id_number("id", id, today(), &info, &e), 0);
    assert_int_equal(info.kind, ID_FOREIGN_PERMANENT);
    assert_int_equal(info.birth, date_from_ymd(1985, 6, 7));
    assert_false(info.female); /* sequence 001 is odd */
    with_check("31010419900101123", id);
    assert_int_equal(validate_id_number("id", id, today(), &info, &e), 0);
    assert_false(info.female);
    with_check("31010419900101124", id);
    assert_int_equal(validate_id_number("id", id, today(), &info, &e), 0);
    assert_true(info.female);
    /* Born today is fine, tomorrow is not. */
    with_check("31010420261129001", id);
    assert_int_equal(validate_id_number("id", id, today(), NULL, &e), 0);
    with_check("31010420261130001", id);
    assert_int_equal(validate_id_number("id", id, today(), NULL, &e), QL_EINVAL);
}

static void test_credit_code(void **state)
{
    (void)state;
    ql_err e;
    assert_int_equal(validate_credit_code("employer.credit_code", "91350100M000100Y43", &e), 0);
    struct {
        const char *v, *needle;
    } bad[] = {
        {"91350100M000100Y44", "check character"},
        {"91350100M000100Y4", "18 characters"},
        {"91350100M000100I43", "not allowed"},
        {"91350100m000100Y43", "not allowed"},
        {"91ABCDEFM000100Y43", "area code"},
    };
    /* A non-ASCII character is reported by position; the message stays valid UTF-8. */
    assert_int_equal(validate_credit_code("c", "统123456789012345", &e), QL_EINVAL);
    assert_non_null(strstr(e.en, "character 1 is not allowed"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = validate_credit_code("employer.credit_code", bad[i].v, &e);
        if (rc != QL_EINVAL) fail_msg("%s accepted", bad[i].v);
        if (!strstr(e.en, bad[i].needle)) fail_msg("%s: message '%s'", bad[i].v, e.en);
        assert_string_equal(e.field, "employer.credit_code");
    }
}

static void test_mobile_and_card(void **state)
{
    (void)state;
    ql_err e;
    assert_int_equal(validate_mobile("phone", "13800138000", &e), 0);
    assert_int_equal(validate_mobile("phone", "19912345678", &e), 0);
    assert_int_equal(validate_mobile("phone", "12800138000", &e), QL_EINVAL);
    assert_int_equal(validate_mobile("phone", "1380013800", &e), QL_EINVAL);
    assert_int_equal(validate_mobile("phone", "1380013800a", &e), QL_EINVAL);
    assert_int_equal(validate_mobile("phone", "+8613800138000", &e), QL_EINVAL);
    assert_string_equal(e.field, "phone");

    int luhn = -1;
    /* 6222 0000 0000 0000 (16 digits): digit sum 6+4+2+2 = 14, fails Luhn. */
    assert_int_equal(validate_bank_card("card", "6222000000000000", &luhn, &e), 0);
    assert_int_equal(luhn, 0);
    /* A number that passes Luhn. */
    assert_int_equal(validate_bank_card("card", "6222000000000009", &luhn, &e), 0);
    assert_int_equal(luhn, 1);
    assert_int_equal(validate_bank_card("card", "4111111111111111", &luhn, &e), QL_EINVAL);
    assert_int_equal(validate_bank_card("card", "622200000000000", &luhn, &e), QL_EINVAL);
    assert_int_equal(validate_bank_card("card", "62220000000000000000", &luhn, &e), QL_EINVAL);
}

static void test_mask(void **state)
{
    (void)state;
    char out[32];
    validate_mask("310104199001011234", MASK_ID, out, sizeof out);
    assert_string_equal(out, "310104********1234");
    validate_mask("13800138000", MASK_PHONE, out, sizeof out);
    assert_string_equal(out, "138****8000");
    validate_mask("6222021234567891234", MASK_CARD, out, sizeof out);
    assert_string_equal(out, "622202*********1234");
    validate_mask("张三丰", MASK_OTHER, out, sizeof out);
    assert_string_equal(out, "*三丰");
    /* Too short to keep head and tail: only the last 2 remain. */
    validate_mask("12345678", MASK_ID, out, sizeof out);
    assert_string_equal(out, "******78");
    validate_mask("ab", MASK_ID, out, sizeof out);
    assert_string_equal(out, "**");
    validate_mask("", MASK_ID, out, sizeof out);
    assert_string_equal(out, "");
    /* UTF-8 is masked by character, never cut in the middle. */
    validate_mask("一二三四五六七八九十甲乙", MASK_ID, out, sizeof out);
    assert_string_equal(out, "**********甲乙");
    validate_mask("一二三四五", MASK_PHONE, out, sizeof out);
    assert_string_equal(out, "***四五");
    char six[6];
    validate_mask("一二三四五", MASK_OTHER, six, sizeof six);
    assert_string_equal(six, "***"); /* "四" would not fit whole */
    /* A short output buffer truncates instead of overflowing. */
    char tiny[5];
    validate_mask("310104199001011234", MASK_ID, tiny, sizeof tiny);
    assert_string_equal(tiny, "3101");
}

/* Free text loses every run of 8 or more digits, whole or part of a number,
 * and keeps the rest; a short buffer cuts at a character boundary. */
static void test_scrub(void **state)
{
    (void)state;
    char out[128];
    assert_string_equal(pii_scrub("审核 310104199001011233 的申请", out, sizeof out),
                        "审核 ****************** 的申请");
    assert_string_equal(pii_scrub("id 11010519491231002x, tel 13812345678", out, sizeof out),
                        "id ******************, tel ***********");
    assert_string_equal(pii_scrub("part 3101041990", out, sizeof out), "part **********");
    /* Short numbers, words with x, dates with dashes stay. */
    assert_string_equal(pii_scrub("room 1203, 2026-11-29, xbox 7", out, sizeof out),
                        "room 1203, 2026-11-29, xbox 7");
    assert_string_equal(pii_scrub(NULL, out, sizeof out), "");
    /* 6 bytes of room: "ab" then "审" (3 bytes) fits, "核" is dropped whole. */
    char small[7];
    assert_string_equal(pii_scrub("ab审核", small, sizeof small), "ab审");
    char tiny[5];
    assert_string_equal(pii_scrub("ab审核", tiny, sizeof tiny), "ab");
    assert_string_equal(pii_scrub("12345678901", tiny, sizeof tiny), "****");
}

/* Messages about a bad ID number count characters and do not repeat the
 * birth date it holds. */
static void test_id_messages(void **state)
{
    (void)state;
    ql_err err = {0};
    struct id_info info;
    /* 18 full-width digits: 54 bytes, 18 characters, but not ASCII. */
    const char *wide = "３１０１０４１９９００１０１１２３３";
    assert_int_not_equal(validate_id_number("id_number", wide, today(), &info, &err), 0);
    assert_string_equal(err.field, "id_number");
    assert_non_null(strstr(err.en, "half-width"));
    assert_non_null(strstr(err.zh, "半角"));
    /* 17 full-width digits: counted as 17, not 51. */
    assert_int_not_equal(validate_id_number("id_number", "３１０１０４１９９００１０１１２３", today(),
                                            &info, &err),
                         0);
    assert_non_null(strstr(err.en, "not 17"));
    char bad[19] = "310104199002301233"; /* 1990-02-30 */
    assert_int_not_equal(validate_id_number("id_number", bad, today(), &info, &err), 0);
    assert_string_equal(err.field, "id_number");
    assert_null(strstr(err.en, "19900230"));
    assert_null(strstr(err.zh, "19900230"));
    assert_non_null(strstr(err.zh, "出生日期"));
}

/* Amounts in yuan: the usual ceiling of 100,000,000 yuan, and a larger
 * one for sums such as a programme's budget for a year. */
static void test_money(void **state)
{
    (void)state;
    ql_err err;
    int64_t fen = -1;
    assert_int_equal(validate_money("rent", "1,500.5", &fen, &err), 0);
    assert_int_equal(fen, 150050);
    assert_int_equal(validate_money("rent", "\xC2\xA5" /* ¥ */ "2000", &fen, &err), 0);
    assert_int_equal(fen, 200000);
    assert_int_equal(validate_money("rent", "100000000", &fen, &err), 0);
    assert_int_equal(fen, 10000000000LL);
    fen = -1;
    assert_int_equal(validate_money("rent", "100000000.01", &fen, &err), QL_EINVAL);
    assert_int_equal(fen, -1);
    assert_string_equal(err.field, "rent");
    assert_non_null(strstr(err.en, "at most 100000000.00"));
    assert_non_null(strstr(err.zh, "不超过 100000000.00"));
    assert_int_equal(validate_money("rent", "12.345", &fen, &err), QL_EINVAL);
    assert_int_equal(validate_money("rent", "-5", &fen, &err), QL_EINVAL);
    assert_int_equal(validate_money("rent", "", &fen, &err), QL_EINVAL);
    /* a year's budget of a million subsidies */
    assert_int_equal(validate_money_upto("amount", "1299770000.00", VALIDATE_MONEY_MAX, &fen, &err),
                     0);
    assert_int_equal(fen, 129977000000LL);
    assert_int_equal(validate_money_upto("amount", "1000000000000", VALIDATE_MONEY_MAX, &fen, &err),
                     0);
    assert_int_equal(fen, VALIDATE_MONEY_MAX);
    assert_int_equal(
        validate_money_upto("amount", "1000000000000.01", VALIDATE_MONEY_MAX, &fen, &err),
        QL_EINVAL);
    assert_int_equal(
        validate_money_upto("amount", "99999999999999999999", VALIDATE_MONEY_MAX, &fen, &err),
        QL_EINVAL);
    assert_int_equal(validate_money_upto("amount", "10.01", 1000, &fen, &err), QL_EINVAL);
    assert_non_null(strstr(err.en, "at most 10.00"));
}

/* Names: every class of character that is not seen but changes what is
 * seen, or ends a line, is refused, named by its code point and position;
 * the names people have (Chinese, with a middle dot, Latin with accents,
 * rare characters in the private use area some ID systems use) pass. */
static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        enum text_flaw flaw;
        size_t pos;
        uint32_t cp;
    } bad[] = {
        {"\x01张三", TEXT_CONTROL, 1, 0x01},
        {"张\t三", TEXT_CONTROL, 2, 0x09},
        {"张三\r", TEXT_CONTROL, 3, 0x0D},
        {"A\x7F", TEXT_CONTROL, 2, 0x7F},
        {"张\xC2\x85三", TEXT_CONTROL, 2, 0x85}, /* NEL (C1) */
        {"\xC2\x9B[31m", TEXT_CONTROL, 1, 0x9B}, /* CSI (C1) */
        {"张三\xE2\x80\xA8李四", TEXT_SEPARATOR, 3, 0x2028},
        {"张三\xE2\x80\xA9", TEXT_SEPARATOR, 3, 0x2029},
        {"\xE2\x80\xAEgpj.exe", TEXT_BIDI, 1, 0x202E}, /* RIGHT-TO-LEFT OVERRIDE */
        {"ab\xE2\x80\xAA", TEXT_BIDI, 3, 0x202A},
        {"ab\xE2\x81\xA6x\xE2\x81\xA9", TEXT_BIDI, 3, 0x2066},
        {"a\xE2\x80\x8F", TEXT_BIDI, 2, 0x200F},
        {"a\xD8\x9C", TEXT_BIDI, 2, 0x061C},
        {"张\xE2\x80\x8B三", TEXT_INVISIBLE, 2, 0x200B}, /* ZERO WIDTH SPACE */
        {"张\xE2\x80\x8D三", TEXT_INVISIBLE, 2, 0x200D},
        {"张\xE2\x81\xA0三", TEXT_INVISIBLE, 2, 0x2060},
        {"\xEF\xBB\xBF张三", TEXT_INVISIBLE, 1, 0xFEFF},
        {"in\xC2\xADvisible", TEXT_INVISIBLE, 3, 0xAD},
        {"\xE3\x85\xA4", TEXT_INVISIBLE, 1, 0x3164},
        {"a\xF3\xA0\x80\x81", TEXT_INVISIBLE, 2, 0xE0001}, /* a tag character */
        {"张\xEF\xB8\x8F", TEXT_INVISIBLE, 2, 0xFE0F},
        {"a\xEF\xB7\x90", TEXT_NONCHAR, 2, 0xFDD0},
        {"a\xEF\xBF\xBE", TEXT_NONCHAR, 2, 0xFFFE},
        {"a\xF0\x9F\xBF\xBF", TEXT_NONCHAR, 2, 0x1FFFF},
        {"张\xE5", TEXT_MALFORMED, 2, 0xE5},
        {"\xC0\xAF", TEXT_MALFORMED, 1, 0xC0},
    };
    ql_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t pos = 0;
        uint32_t cp = 0;
        enum text_flaw f = text_first_flaw(bad[i].s, strlen(bad[i].s), 0, &pos, &cp);
        if (f != bad[i].flaw || pos != bad[i].pos || cp != bad[i].cp)
            fail_msg("case %zu: flaw %d at %zu U+%04X, want %d at %zu U+%04X", i, (int)f, pos,
                     (unsigned)cp, (int)bad[i].flaw, bad[i].pos, (unsigned)bad[i].cp);
        memset(&err, 0, sizeof err);
        assert_int_equal(validate_name("name", bad[i].s, &err), QL_EINVAL);
        assert_string_equal(err.field, "name");
        assert_int_equal(strncmp(err.en, "name: character ", 16), 0);
        assert_int_equal(strncmp(err.zh, "name：第 ", strlen("name：第 ")), 0);
        assert_int_equal(validate_text_line("address", bad[i].s, &err), QL_EINVAL);
        assert_string_equal(err.field, "address");
        /* what a file may carry of it: each flawed character one '?' */
        char *fine = text_dup_fine(bad[i].s);
        assert_int_equal(text_first_flaw(fine, strlen(fine), 0, NULL, NULL), TEXT_FINE);
        assert_non_null(strchr(fine, '?'));
        free(fine);
    }
    validate_name("name", "\xE2\x80\xAEgpj.exe", &err);
    assert_string_equal(err.en, "name: character 1 (U+202E) is an invisible bidirectional control, "
                                "which changes the order the text is shown in; remove it");
    assert_non_null(strstr(err.zh, "双向文本控制符"));
    validate_name("name", "张\xC2\x85三", &err);
    assert_non_null(strstr(err.en, "character 2 (U+0085) is a control character"));
    /* newlines are fine in text that may have them; nothing else is */
    assert_int_equal(text_first_flaw("a\tb\r\nc", 6, 1, NULL, NULL), TEXT_FINE);
    assert_int_equal(text_first_flaw("a\nb\xC2\x85", 5, 1, NULL, NULL), TEXT_CONTROL);

    /* a formula is no name, but an address may start so */
    static const char *const formulas[] = {"=HYPERLINK(\"http://x\",\"y\")", "+86", "-1",
                                           "@SUM(A1)"};
    for (size_t i = 0; i < sizeof formulas / sizeof formulas[0]; i++) {
        assert_int_equal(validate_name("name", formulas[i], &err), QL_EINVAL);
        assert_non_null(strstr(err.en, "cannot start with"));
        assert_non_null(strstr(err.zh, "公式"));
        assert_int_equal(validate_text_line("address", formulas[i], &err), 0);
    }

    static const char *const good[] = {
        "张三",
        "欧阳娜娜",
        "迪丽热巴·迪力木拉提",
        "José Müller-Lüdenscheidt",
        "O'Brien",
        "김민준",
        "\xEE\x80\x80", /* U+E000, private use */
        "𠀀𪚥",
        "上海（徐汇）科技有限公司",
        "a=b",
        "\xEF\xBF\xBD", /* U+FFFD */
        "\xEF\xBF\xBC", /* U+FFFC */
        "\xC2\xA0x",    /* NO-BREAK SPACE */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (validate_name("name", good[i], &err)) fail_msg("%s: %s", good[i], err.en);
        char *same = text_dup_fine(good[i]);
        assert_string_equal(same, good[i]);
        free(same);
    }
    for (uint32_t cp = 0x20; cp < 0x7F; cp++) assert_int_equal(text_char_flaw(cp), TEXT_FINE);
    assert_int_equal(text_char_flaw(0x4E00), TEXT_FINE);
    assert_int_equal(text_char_flaw(0x10FFFD), TEXT_FINE);
    assert_int_equal(text_char_flaw(0x10FFFE), TEXT_NONCHAR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_id_number),
        cmocka_unit_test(test_id_number_foreigner_and_sex),
        cmocka_unit_test(test_credit_code),
        cmocka_unit_test(test_mobile_and_card),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_scrub),
        cmocka_unit_test(test_id_messages),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
