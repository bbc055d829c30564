/* embed.h - files compiled into the binary (templates, migrations, the OpenAPI
 * document). The build generates the table with tools/embed; paths are
 * relative to the repository root, e.g. "templates/layout.mustache". */
#ifndef QL_CORE_EMBED_H
#define QL_CORE_EMBED_H

#include <stddef.h>

struct embedded_file {
    const char *path;
    const char *data; /* NUL-terminated after len bytes */
    unsigned long len;
};

extern const struct embedded_file embedded_files[];
extern const unsigned long embedded_count;

/* Returns the file with exactly this path, or NULL. */
const struct embedded_file *embed_find(const char *path);

#endif
