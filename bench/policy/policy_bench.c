/* policy_bench - the subsidy policy engine over the whole registry, against
 * a plain C loop computing the same rule over the same rows, in one run.
 *
 *   policy_bench [--setup] [--month YYYY-MM] [--repeat N] [--decide N] STORE POLICY
 *
 * STORE is a SQLite file holding an imported registry; POLICY is
 * policies/district-rent.policy (the reference below hard-codes that rule:
 * the two must agree, or the program fails).
 *
 * --setup first gives the registry leases, which an import does not bring:
 * deterministic by talent id (see setup_leases), covering the month.
 *
 * Measured, each --repeat times (default 3), the best kept:
 *   (a) reference from the store: raw SQLite (no store layer), the same three
 *       queries as policy_registry_facts, and the district's three-tier rule
 *       written out in C; the month's eligible count and budget;
 *   (b) engine from the store: policy_registry_facts + policy_month_for for
 *       every talent (one side of `qianlima policy simulate`); and
 *       policy_simulate end to end, current = proposed = the policy, and
 *       current = the policy, proposed = tier C at 1,200 yuan;
 *   (c) in memory: the same rows loaded once; the C rule over compact rows,
 *       the C rule over the engine's pol_facts, and pol_match +
 *       pol_month_amount over the same pol_facts (best of 5 or --repeat);
 *   (d) pol_decide with its JSON trace for the first --decide talents
 *       (default 100,000).
 * Prints times, rates, the ratios engine/reference and peak RSS. */
#include "auth/perm.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "policy/rules.h"
#include "policy/simulate.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "policy_bench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

static long parse_long(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v <= 0) die("%s must be a positive number", what);
    return v;
}

/* ---- dates, independently of src/core/date.c -------------------------- */

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

/* ---- the reference: the district rule in plain C ---------------------- */

/* policies/district-rent.policy, version 2026.1, written out by hand:
 *   education >= bachelor; age <= 35 / 40 / 45 for bachelor / master /
 *   doctor (full years on the month's first day); employed by an employer
 *   registered in the district (employed_since not after the day);
 *   insurance_months >= 6; owns no housing (family_owns_housing and
 *   other_housing_benefit are declarations: false from the registry);
 *   a lease covering the day, filed; months_received < 36 (0 from the
 *   registry); level A, B or C. Tier by level: 2,000 / 1,500 / 1,000 yuan
 *   a month (tier C's amount is a parameter, for the proposal at 1,200);
 *   pro-rated by days when the lease ends within the month, rounded half
 *   up to the fen. */
enum { EDU_OTHER, EDU_BACHELOR, EDU_MASTER, EDU_DOCTOR };
enum { LVL_NONE, LVL_A, LVL_B, LVL_C };

struct month {
    int32_t first, last, dim;
    int32_t born_after[4]; /* by education: age <= limit iff birth > this day */
};

static struct month month_of(int y, int m)
{
    static const int age_limit[4] = {0, 35, 40, 45};
    struct month mo;
    mo.first = days_from_civil(y, m, 1);
    mo.last = (m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1)) - 1;
    mo.dim = mo.last - mo.first + 1;
    /* full years on y-m-1 <= L  <=>  born after y-(L+1)-m-1 */
    for (int e = 0; e < 4; e++) mo.born_after[e] = days_from_civil(y - age_limit[e] - 1, m, 1);
    return mo;
}

/* One talent as the rule needs it. */
struct row {
    int32_t birth;
    int32_t lease_end; /* last day of the covering lease; 0: none */
    int32_t insurance;
    uint8_t edu, level;
    uint8_t employer_ok; /* employed on the day by a registered employer */
    uint8_t owns, lease_filed;
};

struct totals {
    int64_t eligible, fen, fen_c1200;
    int64_t by_tier[4];
};

static inline int64_t prorate(int64_t base, const struct month *mo, int32_t lease_end)
{
    if (lease_end >= mo->last) return base;
    int64_t days = lease_end - mo->first + 1;
    return (base * days * 2 + mo->dim) / (2 * (int64_t)mo->dim);
}

static inline void rule(const struct row *r, const struct month *mo, struct totals *t)
{
    static const int64_t tier_fen[4] = {0, 200000, 150000, 100000};
    if (r->edu == EDU_OTHER || r->birth <= mo->born_after[r->edu]) return;
    if (!r->employer_ok || r->insurance < 6 || r->owns) return;
    if (!r->lease_end || !r->lease_filed || r->level == LVL_NONE) return;
    t->eligible++;
    t->by_tier[r->level]++;
    int64_t fen = prorate(tier_fen[r->level], mo, r->lease_end);
    t->fen += fen;
    t->fen_c1200 += r->level == LVL_C ? prorate(120000, mo, r->lease_end) : fen;
}

/* The same rule reading the engine's pol_facts (age already derived). */
static inline void rule_facts(const pol_facts *f, int32_t lease_end, const struct month *mo,
                              struct totals *t)
{
    static const int64_t tier_fen[4] = {0, 200000, 150000, 100000};
    static const int64_t age_limit[4] = {-1, 35, 40, 45};
    const int64_t *v = f->v;
    if (v[F_AGE] > age_limit[v[F_EDUCATION]]) return;
    if (!v[F_EMPLOYED] || !v[F_EMPLOYER_REGISTERED] || v[F_INSURANCE_MONTHS] < 6) return;
    if (v[F_OWNS_HOUSING] || v[F_FAMILY_OWNS_HOUSING] || v[F_OTHER_BENEFIT]) return;
    if (!v[F_LEASE_ACTIVE] || !v[F_LEASE_FILED] || v[F_MONTHS_RECEIVED] >= 36) return;
    if (v[F_LEVEL] == LVL_NONE) return;
    t->eligible++;
    t->by_tier[v[F_LEVEL]]++;
    int64_t fen = prorate(tier_fen[v[F_LEVEL]], mo, lease_end);
    t->fen += fen;
    t->fen_c1200 += v[F_LEVEL] == LVL_C ? prorate(120000, mo, lease_end) : fen;
}

/* ---- (a) the reference from the store --------------------------------- */

/* The three queries of policy_registry_facts (src/policy/simulate.c),
 * copied, with ?1 for $1. */
static const char SQL_EMPLOYERS[] =
    "SELECT id, registered_in_district, taxed_in_district, key_enterprise, industry "
    "FROM employers  ORDER BY id";
static const char SQL_LEASES[] =
    "SELECT l.talent_id, l.filing_no IS NOT NULL, u.kind, l.rent_fen, "
    "COALESCE(l.ended_on, l.end_date) FROM leases l "
    "LEFT JOIN housing_units u ON u.id = l.unit_id "
    "WHERE l.start_date <= ?1 AND COALESCE(l.ended_on, l.end_date) >= ?1  "
    "ORDER BY l.talent_id, l.start_date, l.id";
static const char SQL_TALENTS[] =
    "SELECT id, birth_date, education, level, employer_id, employed_since, insurance_months, "
    "owns_housing FROM talents ORDER BY id";

struct ref_lease {
    int64_t talent;
    int32_t end;
    uint8_t filed;
};

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die("prepare: %s", sqlite3_errmsg(db));
    return st;
}

static uint8_t edu_code(const unsigned char *s)
{
    if (!strcmp((const char *)s, "bachelor")) return EDU_BACHELOR;
    if (!strcmp((const char *)s, "master")) return EDU_MASTER;
    if (!strcmp((const char *)s, "doctor")) return EDU_DOCTOR;
    return EDU_OTHER;
}

/* Reads every talent's row on the month's first day and hands it to the
 * rule, or appends it to *keep when keep is non-NULL. */
static void reference_from_store(sqlite3 *db, const struct month *mo, struct totals *t,
                                 struct row **keep, size_t *nkeep)
{
    memset(t, 0, sizeof *t);
    int64_t *emp_id = NULL;
    uint8_t *emp_reg = NULL;
    size_t nemp = 0, capemp = 0;
    int rc;
    sqlite3_stmt *st = prepare(db, SQL_EMPLOYERS);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nemp == capemp) {
            capemp = capemp ? capemp * 2 : 1024;
            emp_id = xrealloc(emp_id, capemp * sizeof *emp_id);
            emp_reg = xrealloc(emp_reg, capemp);
        }
        emp_id[nemp] = sqlite3_column_int64(st, 0);
        emp_reg[nemp++] = sqlite3_column_int(st, 1) != 0;
    }
    if (rc != SQLITE_DONE) die("employers: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);

    struct ref_lease *lease = NULL;
    size_t nlease = 0, caplease = 0;
    st = prepare(db, SQL_LEASES);
    sqlite3_bind_int64(st, 1, mo->first);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t tid = sqlite3_column_int64(st, 0);
        if (!nlease || lease[nlease - 1].talent != tid) { /* else the later lease wins */
            if (nlease == caplease) {
                caplease = caplease ? caplease * 2 : 1024;
                lease = xrealloc(lease, caplease * sizeof *lease);
            }
            nlease++;
        }
        lease[nlease - 1].talent = tid;
        lease[nlease - 1].filed = sqlite3_column_int(st, 1) != 0;
        lease[nlease - 1].end = (int32_t)sqlite3_column_int64(st, 4);
    }
    if (rc != SQLITE_DONE) die("leases: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);

    size_t li = 0, cap = 0;
    st = prepare(db, SQL_TALENTS);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct row r;
        int64_t id = sqlite3_column_int64(st, 0);
        r.birth = (int32_t)sqlite3_column_int64(st, 1);
        r.edu = edu_code(sqlite3_column_text(st, 2));
        const unsigned char *lv = sqlite3_column_text(st, 3);
        r.level =
            lv[0] >= 'A' && lv[0] <= 'C' && !lv[1] ? (uint8_t)(lv[0] - 'A' + LVL_A) : LVL_NONE;
        r.employer_ok = 0;
        int64_t eid = sqlite3_column_int64(st, 4);
        if (eid) { /* binary search, as the engine does */
            size_t lo = 0, hi = nemp;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (emp_id[mid] < eid)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            int on_day = sqlite3_column_type(st, 5) == SQLITE_NULL ||
                         sqlite3_column_int64(st, 5) <= mo->first;
            r.employer_ok = lo < nemp && emp_id[lo] == eid && on_day && emp_reg[lo];
        }
        r.insurance = sqlite3_column_int(st, 6);
        r.owns = sqlite3_column_int(st, 7) != 0;
        while (li < nlease && lease[li].talent < id) li++;
        r.lease_end = 0;
        r.lease_filed = 0;
        if (li < nlease && lease[li].talent == id) {
            r.lease_end = lease[li].end;
            r.lease_filed = lease[li].filed;
        }
        if (keep) {
            if (*nkeep == cap) {
                cap = cap ? cap * 2 : 1 << 16;
                *keep = xrealloc(*keep, cap * sizeof **keep);
            }
            (*keep)[(*nkeep)++] = r;
        }
        rule(&r, mo, t);
    }
    if (rc != SQLITE_DONE) die("talents: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    free(emp_id);
    free(emp_reg);
    free(lease);
}

/* ---- (b) the engine from the store ------------------------------------ */

struct engine_ctx {
    const pol_programme *p;
    int32_t month;
    struct totals t;
    /* when collecting for (c) */
    pol_facts *facts;
    int32_t *lease_end;
    size_t n, cap;
};

static int engine_one(const struct policy_subject *who, const pol_facts *f, void *vctx)
{
    struct engine_ctx *x = vctx;
    int tier;
    int64_t fen = policy_month_for(x->p, x->month, f, who->lease_end, &tier, NULL);
    if (tier >= 0) {
        x->t.eligible++;
        x->t.by_tier[tier + 1]++;
        x->t.fen += fen;
    }
    return 0;
}

static int collect_one(const struct policy_subject *who, const pol_facts *f, void *vctx)
{
    struct engine_ctx *x = vctx;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1 << 16;
        x->facts = xrealloc(x->facts, x->cap * sizeof *x->facts);
        x->lease_end = xrealloc(x->lease_end, x->cap * sizeof *x->lease_end);
    }
    x->facts[x->n] = *f;
    x->lease_end[x->n++] = who->lease_end;
    return 0;
}

/* ---- setup ------------------------------------------------------------ */

/* Leases for the registry, none of which an import brings, deterministic
 * by talent id (h = id * 2654435761 mod 1000): of the talents who own no
 * housing, 70% (h < 700) rent; 90% of those leases are filed (h % 10 != 9);
 * the lease runs from 1-300 days before the month to a year after it,
 * except that 5% (h < 35) end on the 20th of the month (pro-rated) and 3%
 * (35 <= h < 56) ended before it (not covering). Rent 3,000-7,900 yuan. */
static void setup_leases(store *s, const struct month *mo)
{
    int64_t n = 0;
    if (store_exec(s, "DELETE FROM leases WHERE address = 'bench/policy'", NULL, 0, NULL))
        die("setup: %s", store_errmsg(s));
    store_val args[] = {SV_INT(mo->first)};
    int rc = store_exec(
        s,
        "INSERT INTO leases (talent_id, address, start_date, end_date, rent_fen, signed_date, "
        "filing_no, filed_date, status, created_at, updated_at) "
        "SELECT id, 'bench/policy', $1 - 1 - h % 300, "
        "CASE WHEN h < 35 THEN $1 + 19 WHEN h < 56 THEN $1 - 1 ELSE $1 + 365 END, "
        "300000 + (h % 50) * 10000, $1 - 5 - h % 300, "
        "CASE WHEN h % 10 = 9 THEN NULL ELSE 'BENCH-' || id END, "
        "CASE WHEN h % 10 = 9 THEN NULL ELSE $1 - 1 - h % 300 END, 'active', 0, 0 "
        "FROM (SELECT id, (id * 2654435761) % 1000 AS h FROM talents WHERE owns_housing = 0) "
        "WHERE h < 700",
        args, 1, &n);
    if (rc) die("setup: %s", store_errmsg(s));
    printf("  setup: %" PRId64 " leases added (address 'bench/policy')\n", n);
}

/* ---- main ------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s", path);
    char *buf = xmalloc(POL_FILE_MAX + 1);
    *len = fread(buf, 1, POL_FILE_MAX + 1, f);
    fclose(f);
    if (*len > POL_FILE_MAX) die("%s is too big", path);
    buf[*len] = '\0';
    return buf;
}

static void parse_policy(const char *text, size_t len, const char *name, pol_programme *p)
{
    ql_err err = {0};
    if (pol_parse(text, len, name, p, &err)) die("%s", err.en);
    pol_issues issues;
    if (pol_check(p, &issues)) die("%s has errors (qianlima policy check)", name);
}

/* The proposal: the same file with tier C's "pay 1000.00" as 1200.00. */
static char *proposal_text(const char *text, size_t len)
{
    static const char from[] = "pay 1000.00 for 36 months";
    const char *at = strstr(text, from);
    if (!at || strstr(at + 1, from))
        die("%s", "the policy has not exactly one \"pay 1000.00 for 36 months\"");
    char *out = xmalloc(len + 1);
    memcpy(out, text, len + 1);
    memcpy(out + (at - text), "pay 1200.00", 11);
    return out;
}

static void check_agree(const char *what, const struct totals *ref, int64_t eligible, int64_t fen)
{
    if (ref->eligible == eligible && ref->fen == fen) return;
    fprintf(stderr,
            "policy_bench: DISAGREE (%s): reference %" PRId64 " eligible, %" PRId64
            " fen; engine %" PRId64 " eligible, %" PRId64 " fen\n",
            what, ref->eligible, ref->fen, eligible, fen);
    exit(2);
}

static int64_t jint(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b) v = json_object_get(v, b);
    if (!json_is_integer(v)) die("the simulation has no %s", a);
    return json_integer_value(v);
}

static void print_line(const char *name, double secs, double n)
{
    printf("  %-52s %8.3f s  %12.0f /s\n", name, secs, n / secs);
}

int main(int argc, char **argv)
{
    int setup = 0, repeat = 3;
    long decide_n = 100000;
    const char *month_s = "2026-10";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--setup"))
            setup = 1;
        else if (!strcmp(argv[i], "--month") && i + 1 < argc)
            month_s = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = (int)parse_long(argv[++i], "--repeat");
        else if (!strcmp(argv[i], "--decide") && i + 1 < argc)
            decide_n = parse_long(argv[++i], "--decide");
        else
            die("unknown option %s", argv[i]);
    }
    if (argc - i != 2)
        die("%s", "usage: policy_bench [--setup] [--month YYYY-MM] [--repeat N] [--decide N] "
                  "STORE POLICY");
    const char *url = argv[i], *policy_path = argv[i + 1];
    if (store_url_is_postgres(url)) die("%s", "the reference reads SQLite only: give a file path");
    char *end;
    long y = strtol(month_s, &end, 10);
    long m = *end == '-' ? strtol(end + 1, &end, 10) : 0;
    if (*end || y < 1971 || y > 9999 || m < 1 || m > 12) die("--month %s: not YYYY-MM", month_s);
    const struct month mo = month_of((int)y, (int)m);

    size_t len;
    char *text = read_file(policy_path, &len);
    char *prop_text = proposal_text(text, len);
    pol_programme pol, prop;
    memset(&pol, 0, sizeof pol);
    memset(&prop, 0, sizeof prop);
    parse_policy(text, len, policy_path, &pol);
    parse_policy(prop_text, len, "proposal (tier C at 1200.00)", &prop);
    if (!pol_version_on(&pol, mo.first)) die("no version of the policy is in force in %s", month_s);

    store *s;
    ql_err err = {0};
    if (store_open(url, NULL, &s, &err)) die("%s", err.en);
    if (setup) setup_leases(s, &mo);
    sqlite3 *db;
    if (sqlite3_open_v2(url, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("%s", sqlite3_errmsg(db));

    /* (a) */
    struct totals ref, ref_first;
    double t_ref = 1e9;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_s();
        reference_from_store(db, &mo, &ref, NULL, NULL);
        double dt = now_s() - t0;
        if (dt < t_ref) t_ref = dt;
        if (r == 0)
            ref_first = ref;
        else if (memcmp(&ref, &ref_first, sizeof ref))
            die("%s", "the reference is not stable");
    }
    int64_t people = 0;
    {
        sqlite3_stmt *st = prepare(db, "SELECT count(*) FROM talents");
        if (sqlite3_step(st) == SQLITE_ROW) people = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (!people) die("%s", "the store has no talents");
    printf("policy_bench: %" PRId64 " talents, month %s, best of %d\n", people, month_s, repeat);
    printf("  eligible %" PRId64 " (A %" PRId64 ", B %" PRId64 ", C %" PRId64 "), budget %" PRId64
           ".%02d yuan; with C at 1,200: %" PRId64 ".%02d yuan\n",
           ref.eligible, ref.by_tier[1], ref.by_tier[2], ref.by_tier[3], ref.fen / 100,
           (int)(ref.fen % 100), ref.fen_c1200 / 100, (int)(ref.fen_c1200 % 100));
    if (!ref.eligible) die("%s", "nobody is eligible: run with --setup on a fresh import");
    print_line("(a) reference: raw SQLite + C rule", t_ref, (double)people);

    /* (b) */
    double t_eng = 1e9, t_sim = 1e9, t_sim2 = 1e9;
    for (int r = 0; r < repeat; r++) {
        struct engine_ctx x = {.p = &pol, .month = mo.first};
        double t0 = now_s();
        if (policy_registry_facts(s, mo.first, engine_one, &x, &err)) die("%s", err.en);
        double dt = now_s() - t0;
        if (dt < t_eng) t_eng = dt;
        check_agree("registry facts + policy_month_for", &ref, x.t.eligible, x.t.fen);
        for (int k = 1; k < 4; k++)
            if (x.t.by_tier[k] != ref.by_tier[k]) die("%s", "tier counts disagree");
    }
    long rss_b = peak_rss_mb();
    actor me;
    actor_cli(&me);
    for (int r = 0; r < repeat; r++) {
        json_t *res;
        double t0 = now_s();
        if (policy_simulate(s, &me, &pol, &pol, mo.first, &res, &err)) die("%s", err.en);
        double dt = now_s() - t0;
        if (dt < t_sim) t_sim = dt;
        check_agree("simulate, current", &ref, jint(res, "current", "eligible"),
                    jint(res, "current", "budget_fen"));
        check_agree("simulate, proposed = current", &ref, jint(res, "proposed", "eligible"),
                    jint(res, "proposed", "budget_fen"));
        if (jint(res, "people", NULL) != people || jint(res, "budget_change_fen", NULL) != 0)
            die("%s", "simulate: wrong people or a change where there is none");
        json_decref(res);

        t0 = now_s();
        if (policy_simulate(s, &me, &pol, &prop, mo.first, &res, &err)) die("%s", err.en);
        dt = now_s() - t0;
        if (dt < t_sim2) t_sim2 = dt;
        struct totals ref2 = ref;
        ref2.fen = ref.fen_c1200;
        check_agree("simulate, proposed C at 1200", &ref2, jint(res, "proposed", "eligible"),
                    jint(res, "proposed", "budget_fen"));
        if (jint(res, "gain", NULL) != ref.by_tier[3] || jint(res, "lose", NULL) != 0)
            die("%s", "simulate: gain/lose disagree with the reference's tier C count");
        json_decref(res);
    }
    long rss_sim = peak_rss_mb();
    print_line("(b) engine: registry facts + policy_month_for", t_eng, (double)people);
    print_line("    policy_simulate, proposed = current", t_sim, (double)people);
    print_line("    policy_simulate, proposed C at 1200", t_sim2, (double)people);
    printf("  agree (store): eligible and budget of the engine, both simulations and the "
           "reference\n");

    /* (c) */
    struct row *rows = NULL;
    size_t nrows = 0;
    struct totals ref_mem;
    reference_from_store(db, &mo, &ref_mem, &rows, &nrows);
    struct engine_ctx col = {.p = &pol, .month = mo.first};
    if (policy_registry_facts(s, mo.first, collect_one, &col, &err)) die("%s", err.en);
    if (nrows != col.n || (int64_t)nrows != people) die("%s", "the two loads differ in rows");
    int reps_mem = repeat < 5 ? 5 : repeat;
    double t_mem_ref = 1e9, t_mem_reff = 1e9, t_mem_eng = 1e9;
    const pol_version *v = pol_version_on(&pol, mo.first);
    for (int r = 0; r < reps_mem; r++) {
        struct totals a = {0}, b = {0}, c = {0};
        double t0 = now_s();
        for (size_t k = 0; k < nrows; k++) rule(&rows[k], &mo, &a);
        double dt = now_s() - t0;
        if (dt < t_mem_ref) t_mem_ref = dt;

        t0 = now_s();
        for (size_t k = 0; k < col.n; k++) rule_facts(&col.facts[k], col.lease_end[k], &mo, &b);
        dt = now_s() - t0;
        if (dt < t_mem_reff) t_mem_reff = dt;

        t0 = now_s();
        for (size_t k = 0; k < col.n; k++) {
            int tier = pol_match(&pol, v, &col.facts[k], NULL);
            if (tier < 0) continue;
            pol_month_in in = {mo.first,
                               mo.first,
                               col.lease_end[k],
                               (int)col.facts[k].v[F_MONTHS_RECEIVED],
                               0,
                               col.facts[k].v[F_RENT],
                               0,
                               0};
            pol_month_out out;
            if (pol_month_amount(v, tier, &in, false, &out, &err)) die("%s", err.en);
            c.eligible++;
            c.by_tier[tier + 1]++;
            c.fen += out.fen;
        }
        dt = now_s() - t0;
        if (dt < t_mem_eng) t_mem_eng = dt;
        check_agree("in memory, C over rows", &ref, a.eligible, a.fen);
        check_agree("in memory, C over pol_facts", &ref, b.eligible, b.fen);
        check_agree("in memory, pol_match + pol_month_amount", &ref, c.eligible, c.fen);
    }
    long rss_c = peak_rss_mb();
    printf("  in memory (%zu-byte rows, %zu-byte pol_facts), best of %d:\n", sizeof *rows,
           sizeof *col.facts, reps_mem);
    print_line("(c) reference: C rule over rows", t_mem_ref, (double)people);
    print_line("    reference: C rule over pol_facts", t_mem_reff, (double)people);
    print_line("    engine: pol_match + pol_month_amount", t_mem_eng, (double)people);
    printf("  agree (memory)\n");

    /* (d) */
    size_t nd = (size_t)decide_n < col.n ? (size_t)decide_n : col.n;
    double t_dec = 1e9;
    size_t trace_bytes = 0;
    for (int r = 0; r < repeat; r++) {
        int64_t yes = 0, want = 0;
        double t0 = now_s();
        for (size_t k = 0; k < nd; k++) {
            int ver, tier;
            json_t *trace;
            if (pol_decide(&pol, mo.first, &col.facts[k], &ver, &tier, &trace, &err))
                die("%s", err.en);
            yes += tier >= 0;
            json_decref(trace);
        }
        double dt = now_s() - t0;
        if (dt < t_dec) t_dec = dt;
        for (size_t k = 0; k < nd; k++) want += pol_match(&pol, v, &col.facts[k], NULL) >= 0;
        if (yes != want) die("%s", "pol_decide and pol_match disagree");
    }
    if (nd) { /* the size of one trace, as text */
        int ver, tier;
        json_t *trace;
        if (!pol_decide(&pol, mo.first, &col.facts[0], &ver, &tier, &trace, &err)) {
            char *t = json_dumps(trace, JSON_COMPACT);
            trace_bytes = t ? strlen(t) : 0;
            free(t);
            json_decref(trace);
        }
    }
    char name[80];
    snprintf(name, sizeof name, "(d) pol_decide with trace, %zu talents", nd);
    print_line(name, t_dec, (double)nd);

    printf("  ratios engine/reference:\n");
    printf("    store:  facts + month_for %.2f   simulate %.2f   simulate C1200 %.2f   "
           "(target: simulate <= 10)\n",
           t_eng / t_ref, t_sim / t_ref, t_sim2 / t_ref);
    printf("    memory: engine / C over rows %.1f   engine / C over pol_facts %.1f\n",
           t_mem_eng / t_mem_ref, t_mem_eng / t_mem_reff);
    printf("  target simulate 1M < 2 s: %.2f s for %" PRId64 " talents (%.2f s per 1M)\n", t_sim,
           people, t_sim * 1e6 / (double)people);
    printf("  trace of one decision: %zu bytes of JSON\n", trace_bytes);
    printf("  peak RSS: %ld MB after (b) engine, %ld MB after simulate, %ld MB with (c) arrays\n",
           rss_b, rss_sim, rss_c);
    printf("agree\n");

    free(rows);
    free(col.facts);
    free(col.lease_end);
    sqlite3_close(db);
    store_close(s);
    pol_free(&pol);
    pol_free(&prop);
    free(text);
    free(prop_text);
    return 0;
}
