/* fuzz_config.c - libFuzzer target: configuration files (INI text), which
 * must be accepted or refused with a message, never crash or leak. */
#include "core/config.h"
#include "core/log.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_OFF);
    ql_config c;
    config_defaults(&c);
    ql_err err;
    int rc = config_load_string(&c, (const char *)data, size, "fuzz.ini", &err);
    if (rc && !err.en[0]) __builtin_trap(); /* every refusal says why */
    config_free(&c);
    return 0;
}
