/* import.h - importing talents and employers from CSV files (UTF-8, with or
 * without BOM, or GBK as Excel in China saves them).
 *
 * The first row names the columns, in Chinese or English (see the template
 * files); the order does not matter. Every row is checked as the console's
 * form would check it, and every bad row is reported with its row number,
 * column and reason. An import is all or nothing: a file with one bad row
 * changes nothing; the same file fixed imports every row, in one
 * transaction, recorded in the audit log as one registry.import row.
 */
#ifndef QL_REGISTRY_IMPORT_H
#define QL_REGISTRY_IMPORT_H

#include "core/csv.h"
#include "registry/registry.h"

#include <stdio.h>

enum import_kind { IMPORT_TALENTS = 1, IMPORT_EMPLOYERS = 2 };

/* At most this many problems are listed; all are counted. */
#define IMPORT_PROBLEMS_MAX 1000

struct import_report {
    int64_t rows;          /* data rows read (the header not counted) */
    int64_t bad_rows;      /* rows with at least one problem */
    int64_t problems;      /* problems found, listed or not */
    int64_t imported;      /* rows stored (0 unless committed without problems) */
    int64_t warnings;      /* rows stored with a warning (e.g. the Luhn check) */
    enum csv_encoding encoding;
    json_t *list;          /* [{row, column, field, message_zh, message_en}], first
                              IMPORT_PROBLEMS_MAX; owned by the report */
    json_t *warning_list;  /* the same for warnings (rows that are good but worth a
                              look, e.g. a card failing the Luhn check), of rows
                              without problems; owned by the report */
    int64_t audit_seq;
};

/* Parses "talents" / "employers" (or 人才 / 用人单位). */
int import_kind_parse(const char *s, enum import_kind *out);

/* Reads f (name for messages) and checks every row; with commit set and no
 * problem found, stores every row in one transaction. Needs registry.write
 * (an employer's account may import its own staff only: every row's
 * employer must be its own). Returns 0 when the file was read to the end
 * (report->bad_rows says whether it is clean), QL_EINVAL for a file that
 * cannot be read as CSV or lacks required columns (err names the problem),
 * or a store error. Free the report with import_report_free. */
int registry_import(store *s, const actor *a, enum import_kind kind, FILE *f, const char *name,
                    int commit, struct import_report *report, ql_err *err);

void import_report_free(struct import_report *report);

/* The template of a kind: the header row and one example row, as CSV text
 * with a UTF-8 byte-order mark (a static string). */
const char *import_template(enum import_kind kind);

#endif
