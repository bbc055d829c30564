/* housing_internal.h - what operator.c, unit.c and lease.c share: scope
 * conditions, permission checks, text checks, list paging and the unit
 * status that follows its leases. Not for use outside src/registry. */
#ifndef QL_REGISTRY_HOUSING_INTERNAL_H
#define QL_REGISTRY_HOUSING_INTERNAL_H

#include "core/buf.h"
#include "registry/housing.h"
#include "registry/internal.h"

/* Appends args[*n] = v and advances *n. */
void hs_arg(store_val *args, int *n, store_val v);

/* Appends " AND <condition>" limiting operators (alias o), units (alias u)
 * or leases (alias l) to what the scope sees, with its parameter as
 * $(*n + 1) when it needs one. */
void hs_scope_operators(const struct reg_scope *sc, buf *sql, store_val *args, int *n);
void hs_scope_units(const struct reg_scope *sc, buf *sql, store_val *args, int *n);
void hs_scope_leases(const struct reg_scope *sc, buf *sql, store_val *args, int *n);

/* registry.read, and the actor's scope in *sc. */
int hs_require_read(store *s, const actor *a, struct reg_scope *sc, ql_err *err);

/* housing.manage, and a scope that manages housing: district, department,
 * or an operator whose code is registered. QL_EFORBIDDEN otherwise. */
int hs_require_manage(store *s, const actor *a, struct reg_scope *sc, ql_err *err);

/* Runs fn in a write transaction (reg_write_tx) with err cleared first; an
 * error that names a field (bad input or a conflict found inside the
 * transaction) is added to report->errors. Returns fn's code. */
int hs_write(store *s, store_tx_fn fn, void *ctx, reg_report *report, ql_err *err);

/* Copies the first error of report into err and returns QL_EINVAL. */
int hs_first_error(const reg_report *report, ql_err *err);

/* Adds e to report->errors; returns 1 (for "bad = hs_bad(...)"). */
int hs_bad(reg_report *report, const ql_err *e);

/* A text field: in trimmed into out (n bytes, at least 4 * max_chars + 65).
 * Adds an error naming field (what_en / what_zh say what to enter) and
 * returns 1 when it is required and empty, longer than max_chars
 * characters, or holds a character validate_text_line refuses (controls,
 * separators, bidirectional controls, invisible characters, malformed
 * UTF-8; the error names it). */
int hs_text(reg_report *report, const char *field, const char *in, char *out, size_t n,
            int required, size_t max_chars, const char *what_en, const char *what_zh);

/* hs_text for a name (validate_name: nor may it start with = + - @). */
int hs_name(reg_report *report, const char *field, const char *in, char *out, size_t n,
            int required, size_t max_chars, const char *what_en, const char *what_zh);

/* A code of letters, digits and '-' (verification code, filing number):
 * trimmed and upper-cased into out (n > max_len); "" when empty. Adds an
 * error naming field and returns 1 unless it is empty or min_len to max_len
 * such characters. */
int hs_code(reg_report *report, const char *field, const char *in, char *out, size_t n,
            size_t min_len, size_t max_len, const char *what_zh);

/* page from 1, per_page 1-200, and no further than REGISTRY_COUNT_CAP. */
int hs_check_page(int64_t page, int64_t per_page, ql_err *err);

/* "%q%" for LIKE ... ESCAPE '\', with % _ \ escaped, into out. */
void hs_like(const char *q, char *out, size_t n);

/* Money in fen as yuan text "1500.00"; area in cm² as "45.50". */
json_t *hs_money(int64_t fen);
json_t *hs_area(int64_t cm2);

/* Turns the current row into JSON. */
typedef json_t *(*hs_row_json)(store_rows *r);

/* Runs "SELECT count(*)" (capped) and "SELECT <columns><from_where><order>
 * LIMIT OFFSET" with args[0..n) (args has room for n + 2). from_where is the
 * FROM clause from followed by the conditions; when count_from is not NULL,
 * the count runs on count_from followed by the same conditions: without the
 * joins that only bring columns to show (from_where must begin with from;
 * otherwise, or without count_from, the count runs on from_where). */
int hs_page(store *s, const char *columns, const char *from_where, const char *from,
            const char *count_from, const char *order,
            store_val *args, int n, int64_t page, int64_t per_page, hs_row_json to_json,
            json_t **rows, int64_t *total);

/* Runs "SELECT <columns><from_where><order>" and calls fn for each row. */
int hs_walk(store *s, const char *columns, const char *from_where, const char *order,
            const store_val *args, int n, hs_row_json to_json, housing_row_fn fn, void *ctx);

/* Inside a write transaction: sets the unit's status from its leases (leased
 * while it has an active lease; listed again when its last one ends) and,
 * when it changes, appends an audit row unit.update naming lease_id. */
int hs_unit_sync(store *s, const actor *a, int64_t unit_id, int64_t lease_id, ql_err *err);

/* The unit's state as JSON (for audit rows), without scope checks. */
int hs_unit_state(store *s, int64_t id, json_t **out);

/* For registry_history: 0 if the actor sees record id of object type
 * "operator", "unit" or "lease"; QL_ENOTFOUND (field id) otherwise. */
int hs_visible(store *s, const actor *a, const char *type, int64_t id, ql_err *err);

/* A kind or status as people type it (code or Chinese word): the stored
 * code, or NULL. */
const char *hs_kind_code(const char *s);
const char *hs_unit_status_code(const char *s);

#endif
