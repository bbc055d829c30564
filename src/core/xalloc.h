/* xalloc.h - allocation that aborts on failure. Running out of memory
 * inside the server is not recoverable; sizes chosen by clients are capped
 * before anything is allocated for them. */
#ifndef QL_CORE_XALLOC_H
#define QL_CORE_XALLOC_H

#include <stddef.h>

/* Each returns memory the caller frees with free(); none returns NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
/* Returns the new block; the caller must assign it (p = xrealloc(p, n) is safe
 * because failure never returns). */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
