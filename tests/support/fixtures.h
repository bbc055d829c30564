/* fixtures.h - stores the service tests start from: a fresh migrated store
 * with its audit key, and the working-day calendar and district policy the
 * subsidy workflow needs. */
#ifndef QL_TESTS_FIXTURES_H
#define QL_TESTS_FIXTURES_H

#include "store/store.h"

#include <stdint.h>

/* A fresh store (tu_fresh_store_url), migrated, with the audit chain keyed
 * from tu_tmpdir()/keys. NULL after printing why. */
store *fx_store(void);

/* The URL of the store the last fx_store opened (for the CLI: --store), and
 * its keys directory (--keys-dir). Static storage. */
const char *fx_store_url(void);
const char *fx_keys_dir(void);

/* Loads data/calendar/2026.txt and stores and activates
 * policies/district-rent.policy, as the CLI. Run from the repository root.
 * Returns 0, or -1 after printing why. */
int fx_rules(store *s);

/* An employer registered and taxed in the district (industry ai). */
int64_t fx_employer(store *s, const char *credit_code);

/* A talent called name (unique in the test) of level ("A", "B", "C"),
 * working for employer, with bank account bank (NULL for none) and a filed
 * lease for all of 2026 and 2027 at 4,500.00, whose district-rent
 * application is walked through the workflow to active from day activate
 * (approved on 14 September 2026). Returns the application's id; fails the
 * test on any error. */
int64_t fx_active_subsidy(store *s, int64_t employer, const char *name, const char *level,
                          const char *bank, int32_t activate);

/* Walks an application of programme (its policy active) of talent tid
 * (registered with the facts the policy takes) through the workflow to
 * active from day activate, as fx_active_subsidy does. Returns the
 * application's id. */
int64_t fx_walk_subsidy(store *s, int64_t tid, const char *programme, int32_t activate);

#endif
