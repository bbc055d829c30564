/* err.h - error codes and error details shared by every layer.
 *
 * Functions return 0 on success or a negative QL_E* code. When a caller wants
 * to know more (which field, what to tell the user), it passes a ql_err that
 * the callee fills in both Chinese and English. One table (err.c) maps each
 * code to an HTTP status and a stable machine-readable code string.
 */
#ifndef QL_CORE_ERR_H
#define QL_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum {
    QL_OK = 0,
    QL_EINVAL = -1,     /* bad input: a field is missing, malformed or out of range */
    QL_ENOTFOUND = -2,  /* the named thing does not exist */
    QL_ECONFLICT = -3,  /* duplicate key, wrong state, concurrent change */
    QL_EFORBIDDEN = -4, /* authenticated but not allowed */
    QL_EUNAUTH = -5,    /* no valid session or token */
    QL_EDB = -6,        /* the store failed */
    QL_EBUSY = -7,      /* the store is busy or a transaction must be retried */
    QL_ETOOBIG = -8,    /* input larger than its limit */
    QL_EIO = -9,        /* file or network I/O failed */
    QL_EINTERNAL = -10, /* a bug: an invariant did not hold */
    QL_EUNAVAIL = -11,  /* a dependency is down or the server is draining */
    QL_EMETHOD = -12,   /* the path exists but not for this method */
    QL_EMEDIA = -13,    /* unsupported content type */
    QL_ECODE_MIN = -13
};

/* Detail of an error, filled by the function that detected it.
 * field is a dotted path such as "store.url" or "body.value", or "" for none. */
typedef struct ql_err {
    int code;
    char field[96];
    char en[320];
    char zh[320];
} ql_err;

/* Fills e (if non-NULL) and returns code, so callers can write
 *   return ql_errf(e, QL_EINVAL, "listen", "bad address '%s'", "地址“%s”无效", s);
 * Both formats receive the same arguments in the same order. field may be NULL. */
int ql_errf(ql_err *e, int code, const char *field, const char *fmt_en, const char *fmt_zh, ...)
    __attribute__((format(printf, 4, 6), format(printf, 5, 6)));

/* Formats fmt_en into en and fmt_zh into zh (n bytes each, cut if longer)
 * with the same arguments, as ql_errf does; for messages built elsewhere
 * (a parser's "FILE:LINE:COL: ..." texts, explanations). */
void ql_vformat2(char *en, size_t en_n, char *zh, size_t zh_n, const char *fmt_en,
                 const char *fmt_zh, va_list ap) __attribute__((format(printf, 5, 0), format(printf, 6, 0)));

/* Several errors at once, e.g. every bad field of a form or an imported row. */
#define QL_ERRS_MAX 24
typedef struct ql_errs {
    int n;
    ql_err e[QL_ERRS_MAX];
} ql_errs;

/* Adds a copy of e (ignored once full). Returns e->code. */
int ql_errs_add(ql_errs *list, const ql_err *e);

/* Clears e to "no error". */
void ql_err_clear(ql_err *e);

/* Stable lower-case name of a code ("invalid", "not_found", ...). Never NULL. */
const char *ql_err_name(int code);

/* HTTP status for a code (400, 404, 409, ...; 500 for unknown codes). */
int ql_err_http_status(int code);

/* Default English and Chinese messages for a code, used when no detail was given. */
const char *ql_err_default_en(int code);
const char *ql_err_default_zh(int code);

#endif
