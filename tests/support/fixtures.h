/* fixtures.h - stores the service tests start from: a fresh migrated store
 * with its audit key, and the working-day calendar and district policy the
 * subsidy workflow needs. */
#ifndef QL_TESTS_FIXTURES_H
#define QL_TESTS_FIXTURES_H

#include "store/store.h"

/* A fresh store (tu_fresh_store_url), migrated, with the audit chain keyed
 * from tu_tmpdir()/keys. NULL after printing why. */
store *fx_store(void);

/* Loads data/calendar/2026.txt and stores and activates
 * policies/district-rent.policy, as the CLI. Run from the repository root.
 * Returns 0, or -1 after printing why. */
int fx_rules(store *s);

#endif
