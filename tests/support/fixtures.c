/* fixtures.c - stores the service tests start from (fixtures.h). */
#include "fixtures.h"

#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "calendar/holidays.h"
#include "core/calendar.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>

store *fx_store(void)
{
    store *s = NULL;
    ql_err err = {0};
    char keys_dir[512];
    if (store_open(tu_fresh_store_url(), NULL, &s, &err) || store_migrate(s, NULL, &err)) {
        print_error("store: %s\n", err.en);
        store_close(s);
        return NULL;
    }
    snprintf(keys_dir, sizeof keys_dir, "%s/keys", tu_tmpdir());
    if (audit_init(keys_dir, "blake2b", &err)) {
        print_error("keys: %s\n", err.en);
        store_close(s);
        return NULL;
    }
    return s;
}

int fx_rules(store *s)
{
    actor cli;
    actor_cli(&cli);
    ql_err err = {0};
    size_t len;
    char *text = tu_slurp("data/calendar/2026.txt", &len);
    cal_year *y = malloc(sizeof *y);
    int rc = !text || !y || cal_year_parse(text, len, "2026.txt", y, &err);
    if (!rc) {
        char digest[65];
        holidays_digest(text, len, digest);
        struct holidays_load_report rep;
        rc = holidays_load(s, &cli, y, "2026.txt", digest, NULL, &rep, &err);
    }
    free(text);
    free(y);
    if (rc) {
        print_error("calendar: %s\n", err.en[0] ? err.en : "data/calendar/2026.txt not found");
        return -1;
    }
    text = tu_slurp("policies/district-rent.policy", &len);
    struct policy_saved *sv = malloc(sizeof *sv);
    struct policy_activated act;
    rc = !text || !sv || policy_save(s, &cli, text, len, "district-rent.policy", sv, &err) ||
         policy_activate(s, &cli, sv->id, &act, &err);
    free(text);
    free(sv);
    if (rc) {
        print_error("policy: %s\n", err.en[0] ? err.en : "policies/district-rent.policy not found");
        return -1;
    }
    return 0;
}
