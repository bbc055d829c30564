/* keys.h - secret keys kept in files outside the database.
 *
 * Each key is 32 random bytes in its own file under security.keys_dir (the
 * directory mode 0700, files 0600). A key that does not exist yet is created
 * on first use; one that exists with the wrong size or readable by others is
 * refused rather than replaced, so a damaged key is never silently swapped
 * for a new one.
 */
#ifndef QL_CORE_KEYS_H
#define QL_CORE_KEYS_H

#include "core/err.h"

#include <stddef.h>

#define KEY_BYTES 32

/* Loads dir/name into key, creating the directory and a new random key when
 * create is set and the file does not exist. Returns 0, QL_ENOTFOUND (missing
 * and create not set), QL_EIO or QL_EINVAL (wrong size or mode), with err
 * naming the file. */
int keys_load(const char *dir, const char *name, int create, unsigned char key[KEY_BYTES],
              ql_err *err);

#endif
