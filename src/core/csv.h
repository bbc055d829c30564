/* csv.h - reading CSV files as Chinese offices produce them.
 *
 * RFC 4180 records (quoted fields may hold commas, doubled quotes and line
 * breaks; CRLF or LF line ends; a final line without a line end). The
 * encoding is detected from the start of the file: a UTF-8 byte-order mark,
 * valid UTF-8, or else GBK/GB 18030 (what Excel in China saves), which is
 * converted to UTF-8 with iconv as the file is read. The file is read in
 * pieces, so a file of a million rows does not sit in memory.
 */
#ifndef QL_CORE_CSV_H
#define QL_CORE_CSV_H

#include "core/err.h"

#include <stddef.h>
#include <stdio.h>

enum csv_encoding { CSV_UTF8 = 1, CSV_UTF8_BOM = 2, CSV_GB18030 = 3 };

typedef struct csv_reader csv_reader;

/* Reads from f (not closed by the reader); name is used in messages (the
 * uploaded file's name, or its path). Detects the encoding from the first
 * 64 KiB. Returns 0 or QL_EINVAL / QL_EIO with err filled. */
int csv_open_file(FILE *f, const char *name, csv_reader **out, ql_err *err);

/* The same over len bytes in memory (not copied: they must outlive the reader). */
int csv_open_mem(const char *data, size_t len, const char *name, csv_reader **out, ql_err *err);

/* The encoding found. */
enum csv_encoding csv_encoding_of(const csv_reader *r);

/* Reads the next record. Returns 1 and sets *fields to an array of *nfields
 * NUL-terminated UTF-8 strings (owned by the reader, valid until the next
 * call), and *line to the line number where the record starts (from 1);
 * returns 0 at the end of the file; returns QL_EINVAL for an unterminated
 * quoted field, a stray quote inside an unquoted field, text that is not
 * valid in the detected encoding, a field over 64 KiB or a record of more
 * than 1,000 fields, with err naming the line. A blank line is a record of
 * one empty field. */
int csv_next(csv_reader *r, char ***fields, int *nfields, long *line, ql_err *err);

/* Frees the reader. NULL is allowed. */
void csv_close(csv_reader *r);

#endif
