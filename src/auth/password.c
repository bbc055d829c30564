/* password.c - Argon2id hashing, verification and password rules. */
#include "auth/password.h"

#include "core/text.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

static int cost_params(const char *cost, unsigned long long *ops, size_t *mem)
{
    if (!strcmp(cost, "interactive")) {
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    } else if (!strcmp(cost, "moderate")) {
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (!strcmp(cost, "sensitive")) {
        *ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
        *mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
    } else if (!strcmp(cost, "min")) {
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
    } else {
        return QL_EINVAL;
    }
    return 0;
}

int password_hash(const char *pw, const char *cost, char out[PASSWORD_HASH_MAX], ql_err *err)
{
    unsigned long long ops;
    size_t mem;
    if (cost_params(cost, &ops, &mem))
        return ql_errf(err, QL_EINVAL, "security.password_hash", "unknown password cost '%s'",
                       "未知的口令计算强度“%s”", cost);
    if (sodium_init() < 0 ||
        crypto_pwhash_str_alg(out, pw, strlen(pw), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ql_errf(err, QL_EINTERNAL, NULL, "could not hash the password (out of memory?)",
                       "无法计算口令散列（内存不足？）");
    return 0;
}

int password_verify(const char *hash, const char *pw)
{
    if (sodium_init() < 0) return 0;
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

int password_needs_rehash(const char *hash, const char *cost)
{
    unsigned long long ops;
    size_t mem;
    if (cost_params(cost, &ops, &mem)) return 0;
    return crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0;
}

void password_verify_dummy(const char *pw, const char *cost)
{
    /* Hashing costs what verifying does (same Argon2id parameters). */
    char scratch[PASSWORD_HASH_MAX];
    ql_err e;
    (void)password_hash(pw, cost, scratch, &e);
    sodium_memzero(scratch, sizeof scratch);
}

/* Passwords people choose most often, lower-cased; a password equal to one
 * of these, or to one followed by digits, is refused. */
static const char *const common[] = {
    "password", "passw0rd", "qwerty",    "qwertyuiop", "abc123",    "letmein",   "welcome",
    "admin",    "iloveyou", "123456",    "12345678",   "123456789", "1234567890", "111111",
    "000000",   "666666",   "888888",    "a123456",    "aa123456",  "woaini",    "woaini1314",
    "qianlima", "shanghai", "zhangwei",  "wangwei",    "changeme",  "p@ssw0rd",  "admin@123",
};

static int is_common(const char *pw)
{
    char low[129];
    size_t n = strlen(pw);
    if (n >= sizeof low) return 0;
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)pw[i]);
    /* Strip trailing digits and symbols: "Password2026!" is still "password". */
    size_t end = n;
    while (end > 0 && !isalpha((unsigned char)low[end - 1])) end--;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        size_t cl = strlen(common[i]);
        if ((cl == n && memcmp(low, common[i], cl) == 0) ||
            (cl == end && memcmp(low, common[i], cl) == 0))
            return 1;
    }
    return 0;
}

int password_check(const char *pw, const char *username, long min_len, const char *field,
                   ql_err *err)
{
    size_t bytes = strlen(pw), chars = text_chars(pw);
    if ((long)chars < min_len)
        return ql_errf(err, QL_EINVAL, field, "the password must have at least %ld characters",
                       "口令至少需要 %ld 个字符", min_len);
    if (bytes > 128)
        return ql_errf(err, QL_EINVAL, field, "the password must not be longer than 128 bytes",
                       "口令不能超过 128 字节");
    int lower = 0, upper = 0, digit = 0, other = 0;
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return ql_errf(err, QL_EINVAL, field, "the password must not contain control characters",
                           "口令不能包含控制字符");
        if (islower(*p)) lower = 1;
        else if (isupper(*p)) upper = 1;
        else if (isdigit(*p)) digit = 1;
        else other = 1;
    }
    if (lower + upper + digit + other < 3)
        return ql_errf(err, QL_EINVAL, field,
                       "the password must mix three of: lower-case letters, capitals, digits, "
                       "other characters",
                       "口令须包含小写字母、大写字母、数字、其他字符中的至少三类");
    if (username && strlen(username) >= 3 && strcasestr(pw, username))
        return ql_errf(err, QL_EINVAL, field, "the password must not contain the username",
                       "口令不能包含用户名");
    if (is_common(pw))
        return ql_errf(err, QL_EINVAL, field,
                       "this password is among the most commonly used ones; choose another",
                       "该口令过于常见，请另选一个");
    return 0;
}

void password_generate(char *out, size_t n)
{
    /* No 0/O, 1/l/I: the password may be read out or typed from paper. */
    static const char lower[] = "abcdefghijkmnpqrstuvwxyz", upper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ",
                      digits[] = "23456789", other[] = "-_.#+";
    if (n < 17) {
        if (n) out[0] = '\0';
        return;
    }
    const char *sets[4] = {lower, upper, digits, other};
    size_t lens[4] = {sizeof lower - 1, sizeof upper - 1, sizeof digits - 1, sizeof other - 1};
    for (int i = 0; i < 16; i++) {
        /* One character of each kind first, then any; shuffled below. */
        int k = i < 4 ? i : (int)randombytes_uniform(3);
        out[i] = sets[k][randombytes_uniform((uint32_t)lens[k])];
    }
    for (int i = 15; i > 0; i--) {
        int j = (int)randombytes_uniform((uint32_t)i + 1);
        char t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
    /* Start with a letter or digit: a leading '-' reads like an option. */
    for (int i = 1; !isalnum((unsigned char)out[0]) && i < 16; i++) {
        char t = out[0];
        out[0] = out[i];
        out[i] = t;
    }
    out[16] = '\0';
}
