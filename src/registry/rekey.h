/* rekey.h - personal data re-sealed under the current key after a key
 * rotation, and the count of sealed values per key.
 *
 * Rotation (qianlima keys rotate) is: pii_rotate_key() makes a new current
 * key and keeps the old one in the key directory; registry_reseal() then
 * opens every sealed value still under an older key and seals it again
 * under the current one, in batches of RESEAL_BATCH rows per transaction,
 * so it can be stopped and run again (rows already under the current key
 * are skipped). A running server picks up the new key the first time it
 * meets a value sealed with it (pii_reload); values it sealed with the old
 * key in the meantime are caught by running registry_reseal once more. When
 * registry_key_usage() shows no value under an old key, its file can be
 * removed.
 */
#ifndef QL_REGISTRY_REKEY_H
#define QL_REGISTRY_REKEY_H

#include "auth/perm.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

#define RESEAL_BATCH 500

/* Called after each batch with the rows scanned and re-sealed so far. */
typedef void (*reseal_progress_fn)(int64_t scanned, int64_t resealed, void *ctx);

/* Re-seals every personal value not under the current key. Needs an actor
 * with registry.write and personal.unmask in district scope (the CLI).
 * Appends one audit row keys.reseal with the counts. */
int registry_reseal(store *s, const actor *a, reseal_progress_fn progress, void *ctx,
                    int64_t *scanned, int64_t *resealed, ql_err *err);

/* The sealed values per key fingerprint: {"<fp>": count, ...}, and the
 * current key's fingerprint in *current (9 bytes). */
int registry_key_usage(store *s, json_t **out, char current[9], ql_err *err);

#endif
