/* uploads.h - files people uploaded in the console, held in memory between
 * the preview and the confirmation of an import.
 *
 * An uploaded registry file holds personal data in plain text, so it is
 * never written to disk: it stays in this process's memory, tied to the
 * account that sent it, until it is taken for the import, replaced by the
 * same account's next upload, or expires (UPLOAD_TTL_S). Memory is bounded
 * (UPLOADS_MAX files, UPLOADS_BYTES_MAX bytes in all); when full, the oldest
 * file goes first. A server restart forgets every upload: the page then
 * asks for the file again. Thread-safe.
 */
#ifndef QL_WEB_UPLOADS_H
#define QL_WEB_UPLOADS_H

#include <stddef.h>
#include <stdint.h>

#define UPLOAD_TTL_S      1800
#define UPLOADS_MAX       32
#define UPLOADS_BYTES_MAX (256u << 20)
#define UPLOAD_TOKEN_LEN  32

/* Keeps a copy of data for user_id under a new random token (out,
 * UPLOAD_TOKEN_LEN + 1 bytes). kind and name are kept beside it. Returns 0,
 * or -1 when the file alone is larger than UPLOADS_BYTES_MAX. */
int uploads_put(int64_t user_id, const char *kind, const char *name, const void *data, size_t len,
                int64_t now, char *token);

/* Takes the upload token of user_id out of the holder: *data (malloc'd;
 * the caller frees it), *len, and kind and name copied into the buffers.
 * Returns 0, or -1 when there is none (unknown, expired or another
 * account's). */
int uploads_take(int64_t user_id, const char *token, int64_t now, void **data, size_t *len,
                 char *kind, size_t kind_n, char *name, size_t name_n);

/* Forgets every upload (at shutdown). */
void uploads_clear(void);

#endif
