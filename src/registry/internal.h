/* internal.h - what the registry's source files share: scope resolution,
 * audit rows, SQL building, small parsers. Not for use outside
 * src/registry. */
#ifndef QL_REGISTRY_INTERNAL_H
#define QL_REGISTRY_INTERNAL_H

#include "core/buf.h"
#include "registry/registry.h"

/* Where the actor's scope lets it look. */
struct reg_scope {
    enum scope_kind kind;
    int64_t id; /* the employer, operator or talent id the scope names; -1 if it
                   names one that does not exist (then nothing is visible) */
};

/* Resolves the actor's scope to ids. */
int reg_scope_of(store *s, const actor *a, struct reg_scope *out);

/* Appends " AND <condition>" limiting talents (alias t) to the scope, using
 * parameter $n for the id when needed; *n is advanced and args[] filled. */
void reg_scope_talents(const struct reg_scope *sc, buf *sql, store_val *args, int *n);

/* 1 if the scope covers the whole district (district or department). */
int reg_scope_all(const struct reg_scope *sc);

/* Appends an audit row for a registry change (inside the transaction). */
int reg_audit(store *s, const actor *a, const char *action, const char *object_type,
              int64_t object_id, const json_t *before, const json_t *after, json_t *detail,
              ql_err *err);

/* The page cache an import or a bulk load runs with (store_set_cache): the
 * indexes of a million talents fit, and the connection goes back to the
 * default afterwards. Memory is taken only as pages are read. A cache that
 * cannot be resized only makes the load slower, so that is not an error. */
#define REG_LOAD_CACHE ((int64_t)256 << 20)

/* Runs a write transaction and moves the audit anchor after it commits.
 * Inside a transaction already open on s (the bulk load calls the
 * services' create functions in its own), runs fn there and leaves the
 * anchor to the outer reg_write_tx. */
int reg_write_tx(store *s, store_tx_fn fn, void *ctx);

/* Text of a field as given, "" for NULL, with surrounding spaces trimmed
 * into out (n bytes). Returns the length of the trimmed text: when it is n
 * or more, out holds only its start (cut at a character boundary), and a
 * caller whose checks the cut copy could pass must refuse the value. */
size_t reg_trim(const char *in, char *out, size_t n);

/* Adds "field: the value is too long" to errors. Returns QL_EINVAL. */
int reg_too_long(ql_errs *errors, const char *field);

/* What a list's q names: 0 for the start of a name, or the kind of personal
 * number it is (enum pii_kind), normalized into norm (n bytes). An 18-digit
 * number that starts with 6 may be a card as well as an ID number (area
 * codes 61-65): *also_card is then set. */
int reg_query_kind(const char *q, char *norm, size_t n, int *also_card);

/* Names of the top-level members whose values differ between two objects,
 * as a JSON array (for the history page: which fields changed, not to what). */
json_t *reg_changed_fields(const json_t *before, const json_t *after);

/* The reason given for seeing personal data unmasked, trimmed into out
 * (n >= 401 bytes): 4 to 200 characters of text, else QL_EINVAL naming
 * "reason". */
int reg_reason(const char *reason, char *out, size_t n, ql_err *err);

/* Formats Unix seconds / day numbers for JSON ("" for 0 / no date). */
json_t *reg_time(int64_t t);
json_t *reg_day(int64_t day, int is_null);

/* A name of the form of a stored code: education, industry. Each maps the
 * Chinese words people type to the stored code. Return the code or NULL. */
const char *reg_education_code(const char *s);
const char *reg_industry_code(const char *s);

/* The Chinese name of a stored code (the code itself if unknown). */
const char *reg_education_zh(const char *code);
const char *reg_industry_zh(const char *code);

#endif
