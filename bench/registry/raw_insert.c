/* raw_insert.c - the reference of bench/registry: the same rows as
 * `qianlima import`, inserted with nothing but SQLite.
 *
 *   raw_insert DB EMPLOYERS.csv TALENTS.csv
 *
 * DB must already have the project's schema (`qianlima migrate --store DB`),
 * so the tables, constraints and indexes are exactly the importer's. The
 * connection is set up as qianlima's store sets up its own for an import
 * (WAL, synchronous=FULL, foreign_keys=ON, and the 256 MiB page cache of
 * REG_LOAD_CACHE in src/registry/internal.h).
 *
 * Employers: one prepared INSERT per row, in one transaction; their ids are
 * kept in memory by credit code. Talents: one prepared INSERT INTO talents
 * per row (the 23 columns qianlima writes) and, for a talent with an
 * employer, one prepared INSERT INTO employments, all in one transaction.
 *
 * What it leaves out is what the comparison measures: no CSV dialect
 * handling beyond splitting on commas (the demo's files have no quoted
 * fields; a quote is refused), no checks of the values, no sealing and no
 * keyed index. Where qianlima stores sealed bytes it stores the plain value
 * padded with zeros to the sealed length (29 + value + 16 bytes); where it
 * stores a keyed BLAKE2b index it stores 32 hex characters of an unkeyed
 * 128-bit hash, so the unique and plain indexes receive keys of the same
 * size in the same random order; masks are made the same way (first 6 and
 * last 4 kept, 3 and 4 for phones). Dates become day numbers, yes/no 1/0,
 * education its code, as qianlima stores them.
 *
 * Prints the rows and seconds of each table on stdout:
 *   employers ROWS SECONDS
 *   talents ROWS SECONDS
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEAL_OVERHEAD (1 + 4 + 24 + 16)

static void die(const char *what, sqlite3 *db)
{
    fprintf(stderr, "raw_insert: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) die(sql, db);
}

/* Splits a CSV line (no quotes) into at most max fields. */
static int split(char *line, char **f, int max)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (strchr(line, '"')) {
        fprintf(stderr, "raw_insert: quoted fields are not supported\n");
        exit(1);
    }
    int n = 0;
    f[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == ',') {
            *c = '\0';
            f[n++] = c + 1;
        }
    return n;
}

static FILE *open_csv(const char *path, char *line, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    if (!fgets(line, (int)n, f)) { /* the header */
        fprintf(stderr, "raw_insert: %s is empty\n", path);
        exit(1);
    }
    return f;
}

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DD" as a day number. */
static int64_t day_of(const char *s)
{
    return days_from_civil(num(s, 4), num(s + 5, 2), num(s + 8, 2));
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 32 hex characters of an unkeyed 128-bit hash of s (and its kind). */
static void index_of(int kind, const char *s, char out[33])
{
    uint64_t a = 1469598103934665603ull ^ (uint64_t)kind, b = 0x9E3779B97F4A7C15ull + (uint64_t)kind;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        a = (a ^ *c) * 1099511628211ull;
        b = mix64(b ^ *c);
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)mix64(a), (unsigned long long)b);
}

/* The plain value padded to the length sealing would give it. */
static int sealed_like(const char *s, unsigned char *out)
{
    size_t n = strlen(s);
    memset(out, 0, n + SEAL_OVERHEAD);
    memcpy(out, s, n);
    return (int)(n + SEAL_OVERHEAD);
}

static void mask(const char *s, int head, int tail, char *out)
{
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n; i++) out[o++] = (i < (size_t)head || i >= n - (size_t)tail) ? s[i] : '*';
    out[o] = '\0';
}

/* Employer ids by credit code: open addressing, power-of-two size. */
struct map {
    size_t cap;
    char (*key)[20];
    int64_t *id;
};

static size_t slot_of(const struct map *m, const char *k)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = k; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    size_t i = (size_t)mix64(h) & (m->cap - 1);
    while (m->key[i][0] && strcmp(m->key[i], k)) i = (i + 1) & (m->cap - 1);
    return i;
}

static const char *education_code(const char *s)
{
    if (!strcmp(s, "本科")) return "bachelor";
    if (!strcmp(s, "硕士")) return "master";
    if (!strcmp(s, "博士")) return "doctor";
    return "other";
}

static const char *industry_code(const char *s)
{
    static const char *const t[][2] = {{"人工智能", "ai"},
                                       {"生命健康", "life_health"},
                                       {"金融科技", "fintech"},
                                       {"先进制造", "advanced_manufacturing"},
                                       {"数字经济", "digital_economy"},
                                       {"文化创意", "culture_creative"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i][0])) return t[i][1];
    return "other";
}

static void step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    if (sqlite3_step(st) != SQLITE_DONE) die(what, db);
    sqlite3_reset(st);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: raw_insert DB EMPLOYERS.csv TALENTS.csv\n");
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) die(argv[1], db);
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
             "PRAGMA cache_size=-262144;");
    int64_t now = (int64_t)time(NULL);
    static char line[1 << 16];
    char *f[16];

    /* Employers. */
    struct map m = {1u << 20, NULL, NULL};
    m.key = calloc(m.cap, sizeof *m.key);
    m.id = calloc(m.cap, sizeof *m.id);
    FILE *in = open_csv(argv[2], line, sizeof line);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO employers (credit_code, name, registered_in_district, "
                           "taxed_in_district, industry, key_enterprise, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        die("prepare employers", db);
    double t0 = now_s();
    long rows = 0;
    exec(db, "BEGIN IMMEDIATE");
    while (fgets(line, sizeof line, in)) {
        if (split(line, f, 16) < 6) continue;
        sqlite3_bind_text(st, 1, f[0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f[1], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, !strcmp(f[3], "是"));
        sqlite3_bind_int(st, 4, !strcmp(f[4], "是"));
        sqlite3_bind_text(st, 5, industry_code(f[2]), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, !strcmp(f[5], "是"));
        sqlite3_bind_int64(st, 7, now);
        step(db, st, "insert employer");
        size_t i = slot_of(&m, f[0]);
        snprintf(m.key[i], sizeof m.key[i], "%s", f[0]);
        m.id[i] = sqlite3_last_insert_rowid(db);
        rows++;
    }
    exec(db, "COMMIT");
    printf("employers %ld %.3f\n", rows, now_s() - t0);
    fclose(in);
    sqlite3_finalize(st);

    /* Talents. */
    in = open_csv(argv[3], line, sizeof line);
    sqlite3_stmt *emp;
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO talents (name, id_enc, id_index, id_masked, id_kind, birth_date, sex, "
            "phone_enc, phone_index, phone_masked, education, graduation_date, category, level, "
            "employer_id, employed_since, insurance_months, owns_housing, bank_enc, bank_index, "
            "bank_masked, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
            "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?22)",
            -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO employments (talent_id, employer_id, start_date, "
                           "created_at) VALUES (?1, ?2, ?3, ?4)",
                           -1, &emp, NULL) != SQLITE_OK)
        die("prepare talents", db);
    t0 = now_s();
    rows = 0;
    exec(db, "BEGIN IMMEDIATE");
    while (fgets(line, sizeof line, in)) {
        if (split(line, f, 16) < 12) continue;
        /* 0 name, 1 id, 2 phone, 3 education, 4 graduation, 5 category, 6 level,
         * 7 employer, 8 since, 9 insurance, 10 owns housing, 11 bank */
        unsigned char sealed[3][96];
        char idx[3][33], masked[3][32];
        const char *id = f[1];
        sqlite3_bind_text(st, 1, f[0], -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, sealed[0], sealed_like(id, sealed[0]), SQLITE_STATIC);
        index_of(1, id, idx[0]);
        sqlite3_bind_text(st, 3, idx[0], 32, SQLITE_STATIC);
        mask(id, 6, 4, masked[0]);
        sqlite3_bind_text(st, 4, masked[0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, id[0] == '9' ? "foreign_permanent" : "resident", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, days_from_civil(num(id + 6, 4), num(id + 10, 2), num(id + 12, 2)));
        sqlite3_bind_text(st, 7, (id[16] - '0') % 2 ? "m" : "f", -1, SQLITE_STATIC);
        if (*f[2]) {
            sqlite3_bind_blob(st, 8, sealed[1], sealed_like(f[2], sealed[1]), SQLITE_STATIC);
            index_of(2, f[2], idx[1]);
            sqlite3_bind_text(st, 9, idx[1], 32, SQLITE_STATIC);
            mask(f[2], 3, 4, masked[1]);
        } else {
            sqlite3_bind_null(st, 8);
            sqlite3_bind_null(st, 9);
            masked[1][0] = '\0';
        }
        sqlite3_bind_text(st, 10, masked[1], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, education_code(f[3]), -1, SQLITE_STATIC);
        if (*f[4]) sqlite3_bind_int64(st, 12, day_of(f[4]));
        else sqlite3_bind_null(st, 12);
        sqlite3_bind_text(st, 13, f[5], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 14, f[6], -1, SQLITE_STATIC);
        int64_t employer = 0;
        if (*f[7]) {
            size_t i = slot_of(&m, f[7]);
            if (!m.key[i][0]) {
                fprintf(stderr, "raw_insert: unknown employer %s\n", f[7]);
                return 1;
            }
            employer = m.id[i];
            sqlite3_bind_int64(st, 15, employer);
            sqlite3_bind_int64(st, 16, day_of(f[8]));
        } else {
            sqlite3_bind_null(st, 15);
            sqlite3_bind_null(st, 16);
        }
        sqlite3_bind_int64(st, 17, *f[9] ? strtoll(f[9], NULL, 10) : 0);
        sqlite3_bind_int(st, 18, !strcmp(f[10], "是"));
        if (*f[11]) {
            sqlite3_bind_blob(st, 19, sealed[2], sealed_like(f[11], sealed[2]), SQLITE_STATIC);
            index_of(3, f[11], idx[2]);
            sqlite3_bind_text(st, 20, idx[2], 32, SQLITE_STATIC);
            mask(f[11], 6, 4, masked[2]);
        } else {
            sqlite3_bind_null(st, 19);
            sqlite3_bind_null(st, 20);
            masked[2][0] = '\0';
        }
        sqlite3_bind_text(st, 21, masked[2], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 22, now);
        step(db, st, "insert talent");
        if (employer) {
            sqlite3_bind_int64(emp, 1, sqlite3_last_insert_rowid(db));
            sqlite3_bind_int64(emp, 2, employer);
            sqlite3_bind_int64(emp, 3, day_of(f[8]));
            sqlite3_bind_int64(emp, 4, now);
            step(db, emp, "insert employment");
        }
        rows++;
    }
    exec(db, "COMMIT");
    printf("talents %ld %.3f\n", rows, now_s() - t0);
    fclose(in);
    sqlite3_finalize(st);
    sqlite3_finalize(emp);
    free(m.key);
    free(m.id);
    if (sqlite3_close(db) != SQLITE_OK) die("close", db);
    return 0;
}
