/* mustache.h - Mustache templates with HTML auto-escaping.
 *
 * Implements the Mustache specification (tests/data/mustache-spec: comments,
 * delimiters, interpolation, inverted, partials, sections, ~inheritance and
 * ~dynamic-names; lambdas are not supported). Data is a jansson json_t.
 *
 * {{name}} escapes & < > " ' for HTML; {{{name}}} and {{&name}} do not.
 *
 * An environment (mus_env) names templates and caches them compiled. It is
 * safe to render from several threads at once with the same environment:
 * compiled templates are immutable and the cache is guarded by a mutex.
 */
#ifndef QL_WEB_MUSTACHE_H
#define QL_WEB_MUSTACHE_H

#include "core/buf.h"
#include "core/err.h"

#include <jansson.h>
#include <stddef.h>

/* Returns the source of the template called name (name_len bytes, not
 * NUL-terminated) and its length in *src_len, or NULL if there is none. The
 * returned memory must stay valid until the environment is freed. */
typedef const char *(*mus_loader)(void *ctx, const char *name, size_t name_len, size_t *src_len);

typedef struct mus_env mus_env;

/* Creates an environment that finds templates, partials and parents through
 * load(ctx, ...). Never NULL. */
mus_env *mus_env_new(mus_loader load, void *ctx);

/* Frees the environment and every compiled template it cached. NULL is allowed. */
void mus_env_free(mus_env *env);

/* Renders the template called name with data as the top of the context stack,
 * appending to out. Partials and parents are resolved by name through the
 * loader; a missing partial renders as nothing (as the spec requires), a
 * missing top-level template is QL_ENOTFOUND.
 * Returns 0, QL_EINVAL for a template that does not parse (err names the
 * template, line and column), QL_ETOOBIG when out reaches its limit or
 * partials nest deeper than 64 levels, or QL_ENOTFOUND. On error out may hold
 * part of the output; the caller discards it. */
int mus_render(mus_env *env, const char *name, const json_t *data, buf *out, ql_err *err);

/* Parses (and caches) the named template without rendering it; the partials
 * it names are not followed. Returns 0, or QL_EINVAL / QL_ENOTFOUND with err
 * filled. Used at start-up to refuse a broken template early. */
int mus_check(mus_env *env, const char *name, ql_err *err);

/* Renders src (len bytes) as an anonymous template; partials come from env.
 * Same return values as mus_render. Used by tests and fuzzing. */
int mus_render_source(mus_env *env, const char *src, size_t len, const json_t *data, buf *out,
                      ql_err *err);

#endif
