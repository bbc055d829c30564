/* forms.h - helpers the console's record pages share (registry.c,
 * housing.c): display texts of codes, select options, data-driven record
 * forms (templates/form_fields.mustache), service errors put on a form,
 * the query string a list keeps, and the history of a record. Internal to
 * src/web. */
#ifndef QL_WEB_FORMS_H
#define QL_WEB_FORMS_H

#include "registry/registry.h"
#include "web/web.h"

#include <stddef.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The string member key of o, or "" when there is none. Borrowed from o. */
const char *web_str(const json_t *o, const char *key);

/* The string at "registry.<group>.<code>", or code itself when there is
 * none; "" for NULL or "". */
const char *web_code_text(http_req *r, const char *group, const char *code);

/* Options of a select: a new array of {value, label, selected}; labels from
 * "registry.<group>.<value>" (group NULL: the value is its own label).
 * first_label, when given, adds an option with the empty value first.
 * selected may be NULL (the empty value). */
json_t *web_options(http_req *r, const char *group, const char *const *values, size_t n,
                    const char *selected, const char *first_label);

/* One field of a record form. Members left out are 0/NULL. */
struct fdef {
    const char *name;
    const char *label;    /* a strings path */
    int required;
    const char *type;     /* input type; NULL for a select */
    const char *hint;     /* text, or NULL */
    const char *inputmode;
    json_t *options;      /* a select's options (a reference is stolen) */
    int wide;
    int readonly;         /* shown, sent, not editable */
};

/* Appends the field to page.form_fields, with the value typed (or loaded)
 * and the error found, both from page.fields (web_field, web_error). */
void web_add_field(http_req *r, json_t *page, const struct fdef *f);

/* Puts every error of a record report on the page (the summary and each
 * field); err when the report has none. Returns the HTTP status for the
 * form: 409 for QL_ECONFLICT, 400 otherwise. */
int web_report_errors(http_req *r, json_t *page, int rc, const reg_report *rep,
                      const ql_err *err);

/* Whether a service error belongs on the form (bad input, conflict) rather
 * than on an error page (forbidden, not found, store). */
int web_form_can_show(int rc);

/* The query string of the list's current filters ("&q=..&level=.."), for
 * pager and export links (an arena string); the same pairs are appended to
 * hidden as {name, value} when it is given. */
const char *web_keep_query(http_req *r, const char *const *keys, size_t n, json_t *hidden);

/* The data of templates/export_links: the list's export path (xlsx and CSV
 * links carry keep, the list's filters), and whether to say that personal
 * data in the file is masked. Also sets "keep". */
void web_export_links(json_t *page, const char *path, const char *keep, int masked);

/* Over the count cap, replaces page.results by "more than N; narrow it". */
void web_results_text(http_req *r, json_t *page, int64_t total);

/* Sets page.history (a reference is stolen) and has_history, each entry
 * with at_text, action_text and changed_text: the names of the changed
 * fields from "registry.<field_group>.<name>", each label once. */
void web_history(http_req *r, json_t *page, json_t *history, const char *field_group);

/* Sets page.warnings: each warning of the report as "Note: ..." in the
 * request's language. Nothing when there are none. */
void web_warnings(http_req *r, json_t *page, const reg_report *rep);

#endif
