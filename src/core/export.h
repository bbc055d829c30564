/* export.h - writing tables for people who open them in Excel: real .xlsx
 * (libxlsxwriter) or CSV, one row at a time into a file, so that an export
 * of a million rows never holds them all in memory.
 *
 * CSV is written as Excel in China reads it without asking: UTF-8 with a
 * byte-order mark, CRLF line ends, every field quoted when it must be.
 * Text cells that a spreadsheet would take for a formula (starting with
 * = + - @, or a tab or carriage return) are written with a leading
 * apostrophe in CSV and as plain strings in .xlsx, so an export cannot run
 * formulas. Money (fen) is written as yuan with two decimals (a number
 * formatted "0.00" in .xlsx), dates as dates.
 */
#ifndef QL_CORE_EXPORT_H
#define QL_CORE_EXPORT_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

enum export_format { EXPORT_CSV = 1, EXPORT_XLSX = 2 };

enum export_cell_type {
    CELL_EMPTY,
    CELL_TEXT,  /* .text, UTF-8 */
    CELL_INT,   /* .i */
    CELL_MONEY, /* .i in fen, shown as yuan 1234.56 */
    CELL_DATE   /* .i as a day number (days since 1970-01-01) */
};

typedef struct export_cell {
    enum export_cell_type type;
    const char *text;
    int64_t i;
} export_cell;

typedef struct exporter exporter;

/* Starts writing format into the file path (created or truncated).
 * sheet_name names the worksheet (.xlsx; at most 31 characters). */
int export_open(enum export_format format, const char *path, const char *sheet_name,
                exporter **out, ql_err *err);

/* Writes the header row (bold in .xlsx, and the first row frozen). */
int export_header(exporter *x, const char *const *titles, int n, ql_err *err);

/* Writes one row of n cells. */
int export_row(exporter *x, const export_cell *cells, int n, ql_err *err);

/* Rows written so far (header not counted). */
int64_t export_rows(const exporter *x);

/* Finishes the file and frees x. Returns 0 or QL_EIO with err filled; on
 * error the file should be removed by the caller. */
int export_close(exporter *x, ql_err *err);

/* Appends s to b as one CSV field, as an export writes a text cell: quoted
 * when it must be, with the apostrophe in front of what a spreadsheet
 * would take for a formula, malformed UTF-8 replaced by U+FFFD; nothing
 * for NULL or "". No separator. For other CSV files people open (the bank's
 * batch files, src/ledger/bank.c). */
struct buf; /* core/buf.h, not included: its typedef would shadow includers' variables */
void export_csv_text(struct buf *b, const char *s);

/* Content type and file-name extension of a format. */
const char *export_content_type(enum export_format format);
const char *export_extension(enum export_format format);

#endif
