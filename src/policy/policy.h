/* policy.h - subsidy policy files in the store (table policy_files,
 * sql/<dialect>/0009_policy.sql): saving a file as a draft, activating it
 * (only when it parses and its static checks find no error; the programme's
 * active file is retired in the same transaction), listing and reading
 * them, and loading a programme's active rules for decisions. Reading the
 * active and retired files needs no permission (published law; the routes
 * need a signed-in account), drafts need policy.manage; saving and
 * activating need policy.manage and are audited. */
#ifndef QL_POLICY_POLICY_H
#define QL_POLICY_POLICY_H

#include "auth/perm.h"
#include "core/err.h"
#include "policy/rules.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses text (len bytes; file_name for messages) and runs the static
 * checks into *issues. Returns 0 (see issues->nerrors), or the parse error
 * (QL_EINVAL with "FILE:LINE:COLUMN: ..." in err, QL_ETOOBIG). When parsed
 * is non-NULL it receives the programme (release with pol_free, also after
 * an error). */
int policy_check_text(const char *text, size_t len, const char *file_name, pol_programme *parsed,
                      pol_issues *issues, ql_err *err);

/* The kept findings of is as [{"line","col","warning","en","zh"}]. */
json_t *policy_issues_json(const pol_issues *is);

/* Human summary of p's versions: "2026.1 2026-01-01..open; ..." into out. */
void policy_versions_text(const pol_programme *p, char *out, size_t n);

struct policy_saved {
    int64_t id;
    bool unchanged;    /* this exact text was stored already (id is that row) */
    pol_issues issues; /* the static checks' findings */
    char programme[POL_ID_MAX];
    int64_t audit_seq; /* 0 when unchanged */
};

/* Stores text as a draft of its programme (its `programme` line), with the
 * number of errors and warnings of the static checks, and an audit row
 * "policy.save". A text that does not parse is refused (QL_EINVAL, nothing
 * stored); one that parses but has errors is stored so that work is not
 * lost, and cannot be activated. Saving the same text again changes
 * nothing. Needs policy.manage. */
int policy_save(store *s, const actor *a, const char *text, size_t len, const char *file_name,
                struct policy_saved *out, ql_err *err);

struct policy_activated {
    int64_t id;
    bool unchanged;     /* it was active already */
    int64_t retired_id; /* the file it replaced, or 0 */
    int64_t audit_seq;
};

/* Makes file id its programme's active policy and retires the one before,
 * in one transaction with an audit row "policy.activate". The text is
 * parsed and checked again first: a file with an error is refused
 * (QL_ECONFLICT, field "policy", naming the first error with its place).
 * A retired file can be activated again (to go back). Activating the
 * active file changes nothing. Needs policy.manage. QL_ENOTFOUND for an
 * unknown id. */
int policy_activate(store *s, const actor *a, int64_t id, struct policy_activated *out,
                    ql_err *err);

/* Every stored file, newest first, without its text (drafts only when
 * drafts is set: a draft is not published; callers pass whether the
 * reader holds policy.manage):
 * [{"id","programme","name_zh","name_en","status","digest","file_name",
 *   "versions","errors","warnings","created_at","created_by",
 *   "activated_at","activated_by"}]. */
int policy_list(store *s, bool drafts, json_t **out, ql_err *err);

/* One file as in policy_list plus "source" (the text) and "issues" (the
 * static checks run now: [{"line","col","warning","en","zh"}]). A draft
 * without drafts set is QL_ENOTFOUND. */
int policy_get(store *s, int64_t id, bool drafts, json_t **out, ql_err *err);

/* Parses stored file id into *out (pol_free it). QL_ENOTFOUND for none. */
int policy_load_file(store *s, int64_t id, pol_programme *out, ql_err *err);

/* Parses programme's active file into *out (pol_free it) and sets
 * *file_id. QL_ENOTFOUND when the programme has no active file. */
int policy_load_active(store *s, const char *programme, pol_programme *out, int64_t *file_id,
                       ql_err *err);

#endif
