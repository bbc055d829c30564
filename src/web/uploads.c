/* uploads.c - the in-memory holder of uploaded files awaiting confirmation. */
#include "web/uploads.h"

#include "core/xalloc.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct upload {
    char token[UPLOAD_TOKEN_LEN + 1];
    int64_t user_id;
    int64_t created;
    char kind[16];
    char name[256];
    void *data;
    size_t len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct upload held[UPLOADS_MAX];
static size_t held_bytes;

static void drop(struct upload *u)
{
    if (u->data) {
        sodium_memzero(u->data, u->len);
        free(u->data);
    }
    held_bytes -= u->len;
    memset(u, 0, sizeof *u);
}

/* Drops expired uploads and those of user_id (one pending file per account). */
static void sweep(int64_t user_id, int64_t now)
{
    for (int i = 0; i < UPLOADS_MAX; i++)
        if (held[i].token[0] && (held[i].user_id == user_id || now - held[i].created > UPLOAD_TTL_S))
            drop(&held[i]);
}

static struct upload *oldest(void)
{
    struct upload *o = NULL;
    for (int i = 0; i < UPLOADS_MAX; i++)
        if (held[i].token[0] && (!o || held[i].created < o->created)) o = &held[i];
    return o;
}

int uploads_put(int64_t user_id, const char *kind, const char *name, const void *data, size_t len,
                int64_t now, char *token)
{
    if (len > UPLOADS_BYTES_MAX) return -1;
    void *copy = xmalloc(len ? len : 1);
    memcpy(copy, data, len);
    pthread_mutex_lock(&lock);
    sweep(user_id, now);
    while (held_bytes + len > UPLOADS_BYTES_MAX) drop(oldest());
    struct upload *slot = NULL;
    for (int i = 0; i < UPLOADS_MAX && !slot; i++)
        if (!held[i].token[0]) slot = &held[i];
    if (!slot) {
        slot = oldest();
        drop(slot);
    }
    unsigned char rnd[UPLOAD_TOKEN_LEN / 2];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(slot->token, sizeof slot->token, rnd, sizeof rnd);
    slot->user_id = user_id;
    slot->created = now;
    snprintf(slot->kind, sizeof slot->kind, "%s", kind);
    snprintf(slot->name, sizeof slot->name, "%s", name);
    slot->data = copy;
    slot->len = len;
    held_bytes += len;
    memcpy(token, slot->token, UPLOAD_TOKEN_LEN + 1);
    pthread_mutex_unlock(&lock);
    return 0;
}

int uploads_take(int64_t user_id, const char *token, int64_t now, void **data, size_t *len,
                 char *kind, size_t kind_n, char *name, size_t name_n)
{
    int rc = -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < UPLOADS_MAX; i++) {
        struct upload *u = &held[i];
        if (!u->token[0] || u->user_id != user_id || now - u->created > UPLOAD_TTL_S ||
            strlen(token) != UPLOAD_TOKEN_LEN || sodium_memcmp(u->token, token, UPLOAD_TOKEN_LEN))
            continue;
        *data = u->data;
        *len = u->len;
        snprintf(kind, kind_n, "%s", u->kind);
        snprintf(name, name_n, "%s", u->name);
        held_bytes -= u->len;
        memset(u, 0, sizeof *u);
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void uploads_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < UPLOADS_MAX; i++)
        if (held[i].token[0]) drop(&held[i]);
    pthread_mutex_unlock(&lock);
}
