/* export.h - registry lists written to .xlsx or CSV files.
 *
 * An export holds the same rows the console's list shows for the same
 * filter and account: an employer's HR account exports its own staff only.
 * Personal data is masked; an account with personal.unmask may ask for it
 * unmasked by giving a reason, and that export is recorded in the audit log
 * with the reason. Every export appends an audit row registry.export (kind,
 * format, rows, filter, unmasked or not). Rows stream from the store into
 * the file one at a time (core/export.h), so memory does not grow with the
 * number of rows.
 */
#ifndef QL_REGISTRY_EXPORT_H
#define QL_REGISTRY_EXPORT_H

#include "core/export.h"
#include "registry/registry.h"

/* Writes the talents matching f (f->unmask: unmasked, needs reason) to
 * path. *rows receives the number of rows written. On error the caller
 * removes the file. */
int registry_export_talents(store *s, const actor *a, const struct talent_filter *f,
                            const char *reason, enum export_format format, const char *path,
                            int64_t *rows, ql_err *err);

/* Writes the employers matching f to path. */
int registry_export_employers(store *s, const actor *a, const struct employer_filter *f,
                              enum export_format format, const char *path, int64_t *rows,
                              ql_err *err);

/* Writes the operators, housing units or leases matching f to path: the
 * rows the console's list shows the account for the same filter (tenants'
 * ID numbers masked), each export one audit row registry.export. */
struct operator_filter;
struct unit_filter;
struct lease_filter;
int registry_export_operators(store *s, const actor *a, const struct operator_filter *f,
                              enum export_format format, const char *path, int64_t *rows,
                              ql_err *err);
int registry_export_units(store *s, const actor *a, const struct unit_filter *f,
                          enum export_format format, const char *path, int64_t *rows, ql_err *err);
int registry_export_leases(store *s, const actor *a, const struct lease_filter *f,
                           enum export_format format, const char *path, int64_t *rows,
                           ql_err *err);

#endif
