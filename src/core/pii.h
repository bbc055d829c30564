/* pii.h - personal data at rest: national ID numbers, phone numbers and
 * bank accounts.
 *
 * Each value is stored three ways: sealed (XChaCha20-Poly1305 with a key
 * from a file outside the database), as a blind index (keyed BLAKE2b of the
 * normalized value, for exact search without decrypting), and masked for
 * lists ("310104********1234"). The plain value is never written to the
 * database, the logs or the audit log.
 *
 * Sealed values name the key that sealed them (its fingerprint), so after a
 * key rotation the old keys still open rows not yet re-sealed. Keys live in
 * security.keys_dir: pii.key (the key new values are sealed with),
 * pii-old-<fingerprint>.key (earlier keys, kept until no row uses them) and
 * pii-index.key (the blind-index key).
 */
#ifndef QL_CORE_PII_H
#define QL_CORE_PII_H

#include "core/buf.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* PII_NAME: a person's name as it was before a correction, kept sealed in
 * the history (registry/payee.h); names on record are not sealed. */
enum pii_kind { PII_ID_NUMBER = 1, PII_PHONE = 2, PII_BANK_ACCOUNT = 3, PII_NAME = 4 };

#define PII_INDEX_HEX 33 /* 32 hex characters and a NUL */

/* Loads the keys from keys_dir, creating missing ones. Call once at start-up
 * before threads start. Returns 0 or an error naming the key file. */
int pii_init(const char *keys_dir, ql_err *err);

/* Normalizes a value for sealing and indexing: ID numbers upper-case,
 * phone and bank numbers digits only. out must hold strlen(in) + 1. */
void pii_normalize(enum pii_kind kind, const char *in, char *out, size_t n);

/* Seals the (normalized) value; appends the sealed bytes to out. The kind is
 * bound to the ciphertext: a value sealed as a phone number does not open as
 * an ID number. Returns 0 or QL_EINTERNAL if pii_init was not called. */
int pii_seal(enum pii_kind kind, const char *plain, buf *out);

/* Opens sealed bytes into out (n bytes, NUL-terminated). Returns 0, or
 * QL_EINVAL for bytes that do not open (tampered, wrong kind, or sealed with
 * a key that is not in keys_dir), with err saying which. */
int pii_open(enum pii_kind kind, const void *sealed, size_t len, char *out, size_t n,
             ql_err *err);

/* The blind index of a normalized value (32 hex characters). */
void pii_index(enum pii_kind kind, const char *plain, char out[PII_INDEX_HEX]);

/* The masked form of a value, for lists and exports. */
void pii_mask(enum pii_kind kind, const char *plain, char *out, size_t n);

/* Free text (a reason, a search, a file name) as the audit log and messages
 * may keep it: every run of digits and X/x holding PII_SCRUB_DIGITS or more
 * digits (an ID, mobile or card number, whole or in part) becomes as many
 * '*'. Writes at most n bytes (NUL-terminated; cut at a character boundary)
 * and returns out. */
#define PII_SCRUB_DIGITS 8
char *pii_scrub(const char *in, char *out, size_t n);

/* Fingerprint (8 hex characters) of the key that sealed these bytes, and of
 * the current key. Used by key rotation to find rows to re-seal. */
void pii_sealed_key(const void *sealed, size_t len, char out[9]);
void pii_current_key(char out[9]);

/* Reads the key directory again: pii.key becomes the current key and every
 * pii-old-*.key is loaded. pii_open calls it when it meets a key it does
 * not know, so a running server follows a rotation made by another process
 * (it seals with the new key from then on). Returns 0 or an error naming
 * the key file (the keys loaded before are kept). */
int pii_reload(ql_err *err);

/* Key rotation, step 1: makes a new current key, keeping the old one as
 * pii-old-<fingerprint>.key. Existing rows still open. Returns 0 or QL_EIO. */
int pii_rotate_key(ql_err *err);

#endif
