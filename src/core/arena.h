/* arena.h - region allocator: many small allocations, one release.
 *
 * Each HTTP request owns an arena that is reset when the request ends, so
 * handlers never free piecemeal. Memory comes in blocks; arena_reset keeps the
 * first block for reuse and frees the rest. Allocation failure aborts.
 */
#ifndef QL_CORE_ARENA_H
#define QL_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena;

/* Creates an arena whose blocks are at least block_size bytes (0 = 8 KiB). */
arena *arena_new(size_t block_size);

/* Frees the arena and everything allocated from it. NULL is allowed. */
void arena_free(arena *a);

/* Releases every allocation at once; the arena can be used again. */
void arena_reset(arena *a);

/* Returns n bytes aligned for any type, valid until reset/free. Never NULL. */
void *arena_alloc(arena *a, size_t n);

/* Like arena_alloc but zeroed. */
void *arena_calloc(arena *a, size_t n, size_t size);

/* Copies of strings, NUL-terminated, owned by the arena. */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Bytes currently handed out (for tests and metrics). */
size_t arena_used(const arena *a);

#endif
