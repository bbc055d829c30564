/* audit_query.h - reading the audit log for the operation-log and sign-in-log
 * pages and the API. */
#ifndef QL_AUDIT_QUERY_H
#define QL_AUDIT_QUERY_H

#include "auth/perm.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

struct audit_filter {
    const char *action_prefix; /* e.g. "auth." for the sign-in log; NULL or "" for all */
    const char *actor;         /* exact account name, or NULL */
    int64_t from_ms, to_ms;    /* time range [from, to), 0 for open */
};

/* Rows newest first: seq, at (ISO 8601, Shanghai), actor, action,
 * object_type, object_id, detail (object), ip, request_id. Needs audit.read.
 * page from 1, per_page 1-200. *total receives the number of matches. */
int audit_list(store *s, const actor *a, const struct audit_filter *f, int64_t page,
               int64_t per_page, json_t **rows, int64_t *total, ql_err *err);

#endif
