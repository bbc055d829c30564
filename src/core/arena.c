/* arena.c - region allocator. */
#include "core/arena.h"

#include "core/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16u

struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char mem[];
};

struct arena {
    struct block *head; /* current block; older ones follow */
    size_t block_size;
    size_t total;
};

static struct block *block_new(size_t size)
{
    struct block *b = xmalloc(sizeof *b + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

arena *arena_new(size_t block_size)
{
    arena *a = xcalloc(1, sizeof *a);
    a->block_size = block_size ? block_size : 8192;
    a->head = block_new(a->block_size);
    return a;
}

void arena_free(arena *a)
{
    if (!a) return;
    struct block *b = a->head;
    while (b) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void arena_reset(arena *a)
{
    /* Keep one block of the configured size, free the others. */
    struct block *b = a->head, *keep = NULL;
    while (b) {
        struct block *n = b->next;
        if (!keep && b->size == a->block_size) keep = b;
        else free(b);
        b = n;
    }
    if (!keep) keep = block_new(a->block_size);
    keep->used = 0;
    keep->next = NULL;
    a->head = keep;
    a->total = 0;
}

void *arena_alloc(arena *a, size_t n)
{
    if (n == 0) n = 1;
    if (n > SIZE_MAX - ALIGN) abort();
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    struct block *b = a->head;
    if (b->size - b->used < need) {
        if (need > a->block_size / 2) {
            /* A large allocation gets its own block, placed behind the head so
             * the head's free space stays usable. */
            struct block *big = block_new(need);
            big->used = need;
            big->next = b->next;
            b->next = big;
            a->total += need;
            return big->mem;
        }
        b = block_new(a->block_size);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->mem + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *arena_calloc(arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) abort();
    void *p = arena_alloc(a, n * size);
    memset(p, 0, n * size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0) n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t arena_used(const arena *a)
{
    return a->total;
}
