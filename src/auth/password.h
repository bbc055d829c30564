/* password.h - Argon2id password hashes (libsodium) and the password rules. */
#ifndef QL_AUTH_PASSWORD_H
#define QL_AUTH_PASSWORD_H

#include "core/err.h"

#include <stddef.h>

#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

/* Hashes pw with Argon2id at the cost named by cost ("interactive",
 * "moderate", "sensitive", or "min" for tests) into out. Returns 0, or
 * QL_EINVAL for an unknown cost, or QL_EINTERNAL if memory for the hash
 * could not be had. */
int password_hash(const char *pw, const char *cost, char out[PASSWORD_HASH_MAX], ql_err *err);

/* Returns 1 if pw matches hash, else 0. Takes as long for a malformed hash. */
int password_verify(const char *hash, const char *pw);

/* Returns 1 if hash was made with other parameters than cost asks for now
 * (so it should be replaced at the next successful sign-in), else 0. */
int password_needs_rehash(const char *hash, const char *cost);

/* Spends about the time of one verification, for a user that does not
 * exist, so that response times do not tell which usernames exist. */
void password_verify_dummy(const char *pw, const char *cost);

/* The rules for a new password: at least min_len characters, at most 128
 * bytes, three of the four kinds (lower case, upper case, digits, other),
 * not containing the username, not one of the commonly used passwords.
 * field names the form field for the error (e.g. "new_password").
 * Returns 0 or QL_EINVAL with a message saying which rule fails. */
int password_check(const char *pw, const char *username, long min_len, const char *field,
                   ql_err *err);

/* Writes a random password that meets the rules (16 characters from an
 * alphabet without look-alike characters) into out (at least 17 bytes). */
void password_generate(char *out, size_t n);

#endif
