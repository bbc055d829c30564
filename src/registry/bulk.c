/* bulk.c - loading many employers and talents: the service's checks and
 * inserts, many records to a transaction, one audit row per transaction. */
#include "registry/bulk.h"

#include "auth/session.h"
#include "core/date.h"
#include "core/xalloc.h"
#include "registry/employer.h"
#include "registry/payee.h"
#include "registry/talent.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct registry_bulk {
    store *s;
    const actor *a;
    char source[41];
    struct employer_cache cache;
    int32_t today;
    int64_t now;
    struct registry_bulk_counts done; /* committed */
    /* the transaction under way */
    struct registry_bulk_counts tx;
    int64_t tx_first, tx_last;
    int attempt;
    registry_bulk_fn fn;
    void *ctx;
    ql_err *err;
};

int registry_bulk_open(store *s, const actor *a, const char *source, registry_bulk **out,
                       ql_err *err)
{
    *out = NULL;
    struct reg_scope sc;
    int rc = actor_require(a, P_REGISTRY_WRITE, err);
    if (!rc) rc = reg_scope_of(s, a, &sc);
    if (rc) return rc;
    if (!reg_scope_all(&sc))
        return ql_errf(err, QL_EFORBIDDEN, NULL, "only district staff load registry records in bulk",
                       "只有区级工作人员可以批量载入登记数据");
    if (!source || !*source || strlen(source) > 40)
        return ql_errf(err, QL_EINVAL, "source", "source: name the load (1 to 40 characters)",
                       "source：请填写载入来源（1 到 40 个字符）");
    registry_bulk *b = xcalloc(1, sizeof *b);
    b->s = s;
    b->a = a;
    snprintf(b->source, sizeof b->source, "%s", source);
    b->today = date_today();
    b->now = auth_now();
    (void)store_set_cache(s, REG_LOAD_CACHE);
    *out = b;
    return 0;
}

void registry_bulk_close(registry_bulk *b)
{
    if (!b) return;
    (void)store_set_cache(b->s, 0);
    employer_cache_free(&b->cache);
    free(b);
}

void registry_bulk_counts(const registry_bulk *b, struct registry_bulk_counts *out)
{
    *out = b->done;
}

static int tx_empty(const struct registry_bulk_counts *c)
{
    return !c->employers && !c->talents && !c->operators && !c->units && !c->leases &&
           !c->leases_ended;
}

static int bulk_body(store *s, void *arg)
{
    registry_bulk *b = arg;
    /* A retry starts over: ids read in the attempt that rolled back may
     * name rows that are gone. */
    if (b->attempt++) employer_cache_clear(&b->cache);
    memset(&b->tx, 0, sizeof b->tx);
    b->tx_first = b->tx_last = 0;
    int rc = b->fn(b, b->ctx);
    if (rc || tx_empty(&b->tx)) return rc;
    const struct registry_bulk_counts *c = &b->tx;
    json_t *detail = json_pack("{s:s, s:I, s:I}", "source", b->source, "employers",
                               (json_int_t)c->employers, "talents", (json_int_t)c->talents);
    if (c->talents) {
        json_object_set_new(detail, "first_talent_id", json_integer(b->tx_first));
        json_object_set_new(detail, "last_talent_id", json_integer(b->tx_last));
    }
    const int housing = c->operators || c->units || c->leases || c->leases_ended;
    if (housing) {
        json_object_set_new(detail, "operators", json_integer(c->operators));
        json_object_set_new(detail, "units", json_integer(c->units));
        json_object_set_new(detail, "leases", json_integer(c->leases));
        json_object_set_new(detail, "leases_ended", json_integer(c->leases_ended));
    }
    const char *type = c->talents ? "talent" : c->employers ? "employer" : "housing";
    return reg_audit(s, b->a, "registry.bulk_load", type, 0, NULL, NULL, detail, b->err);
}

int registry_bulk_tx(registry_bulk *b, registry_bulk_fn fn, void *ctx, ql_err *err)
{
    b->fn = fn;
    b->ctx = ctx;
    b->err = err;
    b->attempt = 0;
    int rc = reg_write_tx(b->s, bulk_body, b);
    if (rc == 0) {
        b->done.employers += b->tx.employers;
        b->done.talents += b->tx.talents;
        b->done.operators += b->tx.operators;
        b->done.units += b->tx.units;
        b->done.leases += b->tx.leases;
        b->done.leases_ended += b->tx.leases_ended;
    } else {
        employer_cache_clear(&b->cache);
    }
    memset(&b->tx, 0, sizeof b->tx);
    return rc;
}

int registry_bulk_employer(registry_bulk *b, const struct employer_input *in, int64_t *id,
                           reg_report *report)
{
    memset(report, 0, sizeof *report);
    struct employer_rec rec;
    if (employer_check(in, &rec, report)) return QL_EINVAL;
    int64_t eid = 0;
    int rc = employer_insert(b->s, &rec, b->now, &eid);
    if (rc == QL_ECONFLICT) {
        ql_err e;
        ql_errs_add(&report->errors,
                    (ql_errf(&e, QL_ECONFLICT, "credit_code",
                             "credit_code: the employer %s is already registered",
                             "credit_code：用人单位 %s 已登记", rec.credit_code),
                     &e));
    }
    if (rc) return rc;
    /* A code remembered missing is missing no more. */
    employer_cache_clear(&b->cache);
    b->tx.employers++;
    if (id) *id = eid;
    return 0;
}

/* Checks the earlier employment of t: its employer's id and start day. */
static int check_previous(registry_bulk *b, const struct registry_employment *p,
                          const struct talent_rec *t, int64_t *employer_id, int32_t *since,
                          reg_report *report)
{
    ql_err e;
    int bad = 0;
    char code[64];
    reg_trim(p->employer, code, sizeof code);
    for (char *c = code; *c; c++) *c = (char)toupper((unsigned char)*c);
    if (!t->has_employer) {
        bad = ql_errs_add(&report->errors,
                          (ql_errf(&e, QL_EINVAL, "previous_employer",
                                   "previous_employer: an earlier employment needs a current "
                                   "employer",
                                   "previous_employer：填写此前任职单位时须填写现任职单位"),
                           &e));
    } else if (validate_credit_code("previous_employer", code, &e)) {
        bad = ql_errs_add(&report->errors, &e);
    } else {
        int rc = employer_cache_find(b->s, &b->cache, code, employer_id);
        if (rc == QL_ENOTFOUND)
            bad = ql_errs_add(&report->errors,
                              (ql_errf(&e, QL_EINVAL, "previous_employer",
                                       "previous_employer: no employer is registered with %s",
                                       "previous_employer：没有登记统一社会信用代码为 %s 的用人单位",
                                       code),
                               &e));
        else if (rc) return rc;
        else if (*employer_id == t->employer_id)
            bad = ql_errs_add(&report->errors,
                              (ql_errf(&e, QL_EINVAL, "previous_employer",
                                       "previous_employer: the earlier employer is the current one",
                                       "previous_employer：此前任职单位与现任职单位相同"),
                               &e));
    }
    char day[64];
    reg_trim(p->since, day, sizeof day);
    if (validate_date("previous_since", day, since, &e)) bad = ql_errs_add(&report->errors, &e);
    else if (t->has_employer && *since >= t->employed_since)
        bad = ql_errs_add(&report->errors,
                          (ql_errf(&e, QL_EINVAL, "previous_since",
                                   "previous_since: the earlier employment must begin before the "
                                   "current one",
                                   "previous_since：此前任职的开始日期应早于现任职的入职日期"),
                           &e));
    return bad ? QL_EINVAL : 0;
}

int registry_bulk_talent(registry_bulk *b, const struct talent_input *in,
                         const struct registry_employment *previous, int64_t *id,
                         reg_report *report)
{
    memset(report, 0, sizeof *report);
    struct talent_rec t;
    int rc = talent_check(b->s, in, &b->cache, b->today, &t, report);
    if (rc) return rc;
    int64_t prev_employer = 0;
    int32_t prev_since = 0;
    if (previous) rc = check_previous(b, previous, &t, &prev_employer, &prev_since, report);
    int64_t tid = 0;
    ql_err ce; /* one card pays one person: refused before anything is written */
    if (!rc && t.has_bank && (rc = payee_card_free(b->s, t.bank_index, 0, &ce)) == QL_ECONFLICT)
        ql_errs_add(&report->errors, &ce);
    if (!rc) {
        /* With an earlier employment: stored as employed there, then moved. */
        struct talent_rec first = t;
        if (previous) {
            first.employer_id = prev_employer;
            first.employed_since = prev_since;
        }
        rc = talent_insert(b->s, &first, b->now, &tid);
        if (rc == QL_ECONFLICT) {
            ql_err e;
            ql_errs_add(&report->errors,
                        (ql_errf(&e, QL_ECONFLICT, "id_number",
                                 "id_number: a talent with this ID number is already registered",
                                 "id_number：该身份证号码已登记"),
                         &e));
        }
        if (!rc && previous) rc = talent_move(b->s, tid, prev_employer, &t, b->now);
    }
    talent_rec_free(&t);
    if (rc) return rc;
    if (!b->tx.talents) b->tx_first = tid;
    b->tx_last = tid;
    b->tx.talents++;
    if (id) *id = tid;
    return 0;
}

/* ---- housing --------------------------------------------------------- */

/* After a housing service call inside the load's transaction: a refusal
 * the service reported only in err goes to report->errors too. */
static int housing_done(int rc, const ql_err *e, reg_report *report)
{
    if (rc && !report->errors.n && e->en[0]) ql_errs_add(&report->errors, e);
    return rc;
}

int registry_bulk_operator(registry_bulk *b, const struct operator_input *in, int64_t *id,
                           reg_report *report)
{
    ql_err e = {0};
    int64_t oid = 0;
    int rc = registry_operator_create(b->s, b->a, in, &oid, report, &e);
    if (!rc) {
        b->tx.operators++;
        if (id) *id = oid;
    }
    return housing_done(rc, &e, report);
}

int registry_bulk_unit(registry_bulk *b, const struct unit_input *in, int64_t *id,
                       reg_report *report)
{
    ql_err e = {0};
    int64_t uid = 0;
    int rc = registry_unit_create(b->s, b->a, in, &uid, report, &e);
    if (!rc) {
        b->tx.units++;
        if (id) *id = uid;
    }
    return housing_done(rc, &e, report);
}

int registry_bulk_lease(registry_bulk *b, const struct lease_input *in, int64_t *id,
                        reg_report *report)
{
    ql_err e = {0};
    int64_t lid = 0;
    int rc = registry_lease_create(b->s, b->a, in, &lid, report, &e);
    if (!rc) {
        b->tx.leases++;
        if (id) *id = lid;
    }
    return housing_done(rc, &e, report);
}

int registry_bulk_lease_end(registry_bulk *b, int64_t lease_id, const char *ended_on,
                            const char *reason, reg_report *report)
{
    ql_err e = {0};
    int rc = registry_lease_end(b->s, b->a, lease_id, ended_on, reason, report, &e);
    if (!rc) b->tx.leases_ended++;
    return housing_done(rc, &e, report);
}
