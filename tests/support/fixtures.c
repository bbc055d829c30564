/* fixtures.c - stores the service tests start from (fixtures.h). */
#include "fixtures.h"

#include "testutil.h"

#include "audit/audit.h"
#include "auth/perm.h"
#include "calendar/holidays.h"
#include "core/buf.h"
#include "core/calendar.h"
#include "core/date.h"
#include "core/pii.h"
#include "policy/policy.h"
#include "subsidy/subsidy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fx_url[600], fx_keys[512];

const char *fx_store_url(void)
{
    return fx_url;
}

const char *fx_keys_dir(void)
{
    return fx_keys;
}

store *fx_store(void)
{
    store *s = NULL;
    ql_err err = {0};
    char keys_dir[512];
    snprintf(fx_url, sizeof fx_url, "%s", tu_fresh_store_url());
    if (store_open(fx_url, NULL, &s, &err) || store_migrate(s, NULL, &err)) {
        print_error("store: %s\n", err.en);
        store_close(s);
        return NULL;
    }
    snprintf(keys_dir, sizeof keys_dir, "%s/keys", tu_tmpdir());
    snprintf(fx_keys, sizeof fx_keys, "%s", keys_dir);
    if (audit_init(keys_dir, "blake2b", &err) || pii_init(keys_dir, &err)) {
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

static int64_t fx_insert(store *s, const char *sql, store_val *v, int n)
{
    int64_t id = 0;
    if (store_insert(s, sql, v, n, &id)) fail_msg("%s: %s", sql, store_errmsg(s));
    return id;
}

int64_t fx_employer(store *s, const char *credit_code)
{
    store_val e[] = {SV_TEXT(credit_code)};
    return fx_insert(s,
                     "INSERT INTO employers (credit_code, name, registered_in_district, "
                     "taxed_in_district, industry, created_at, updated_at) VALUES ($1, "
                     "'上海甲科技有限公司', 1, 1, 'ai', 0, 0)",
                     e, 1);
}

int64_t fx_active_subsidy(store *s, int64_t employer, const char *name, const char *level,
                          const char *bank, int32_t activate)
{
    actor cli;
    actor_cli(&cli);
    char idx[40], filing[32], bidx[PII_INDEX_HEX] = "", bmask[48] = "";
    snprintf(idx, sizeof idx, "index-%s", name);
    snprintf(filing, sizeof filing, "F-%s", name);
    buf sealed = BUF_INIT;
    if (bank) {
        if (pii_seal(PII_BANK_ACCOUNT, bank, &sealed)) fail_msg("pii_seal");
        pii_index(PII_BANK_ACCOUNT, bank, bidx);
        pii_mask(PII_BANK_ACCOUNT, bank, bmask, sizeof bmask);
    }
    store_val t[] = {SV_TEXT(name),
                     SV_BLOB("x", 1),
                     SV_TEXT(idx),
                     SV_INT(date_from_ymd(1992, 3, 4)),
                     SV_TEXT(level),
                     SV_INT(employer),
                     bank ? SV_BLOB(sealed.data, sealed.len) : SV_NULL,
                     bank ? SV_TEXT(bidx) : SV_NULL,
                     SV_TEXT(bmask)};
    int64_t tid = fx_insert(
        s,
        "INSERT INTO talents (name, id_enc, id_index, id_masked, id_kind, birth_date, "
        "sex, education, level, employer_id, employed_since, insurance_months, "
        "owns_housing, bank_enc, bank_index, bank_masked, created_at, updated_at) VALUES ($1, $2, "
        "$3, '1101**********0000', 'resident', $4, 'm', 'master', $5, $6, 19000, 24, 0, $7, $8, "
        "$9, 0, 0)",
        t, 9);
    buf_free(&sealed);
    store_val l[] = {SV_INT(tid), SV_TEXT(filing), SV_INT(date_from_ymd(2026, 1, 1)),
                     SV_INT(date_from_ymd(2027, 12, 31))};
    fx_insert(s,
              "INSERT INTO leases (talent_id, address, start_date, end_date, rent_fen, "
              "signed_date, filing_no, filed_date, created_at, updated_at) VALUES ($1, "
              "'徐汇区虹桥路 1 号', $3, $4, 450000, $3, $2, $3, 0, 0)",
              l, 4);
    return fx_walk_subsidy(s, tid, "district-rent", activate);
}

int64_t fx_walk_subsidy(store *s, int64_t tid, const char *programme, int32_t activate)
{
    actor cli;
    actor_cli(&cli);
    /* a second person approves what was reviewed (four eyes) */
    actor approver = cli;
    snprintf(approver.username, sizeof approver.username, "fixture:approver");
    actor self = cli;
    self.scope = SCOPE_SELF;
    self.roles = 1u << ROLE_TALENT;
    self.perms = role_perms(ROLE_TALENT);
    snprintf(self.scope_id, sizeof self.scope_id, "%lld", (long long)tid);
    struct app_declare d = {0, 0, 1};
    int64_t id;
    char ref[24];
    ql_err err;
    int32_t day = date_from_ymd(2026, 9, 1), later = date_from_ymd(2026, 9, 14);
    if (subsidy_create(s, &self, programme, 0, &d, day, &id, ref, &err))
        fail_msg("create: %s", err.en);
    struct {
        const actor *who;
        enum app_action a;
        int32_t today, effective;
    } steps[] = {
        {&self, AA_SUBMIT, day, 0},
        {&cli, AA_ATTEST, day, 0},
        {&cli, AA_ACCEPT, day, 0},
        {&cli, AA_REVIEW, day, 0},
        {&cli, AA_PUBLISH, day, 0},
        {&approver, AA_APPROVE, later, 0},
        {&cli, AA_ACTIVATE, later, activate},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct app_step st = {steps[i].a, NULL, NULL, steps[i].today, steps[i].effective};
        struct app_result res;
        if (subsidy_transition(s, steps[i].who, id, &st, &res, &err))
            fail_msg("%s: %s", subsidy_action_name(steps[i].a), err.en);
    }
    return id;
}
