/* cycle_bench.c - the reference of bench/cycle: as many payment rows as a
 * month's cycle has entitlements, inserted with nothing but SQLite.
 *
 *   cycle_bench DB ROWS [MONTH]
 *
 * DB is a new SQLite file (it must not exist) on the disk of the cycle's
 * database, opened as qianlima's store opens its own (src/store/sqlite.c:
 * WAL, synchronous=FULL, foreign_keys=ON, a busy timeout, SQLite's default
 * page cache). One table of payment rows, one row per entitlement: the
 * cycle, the application, the talent, the payee, the amount in fen and the
 * request id, under a UNIQUE index as the cycle's idempotency keys are:
 *
 *   payments_ref (id INTEGER PRIMARY KEY, cycle_id, application_id,
 *                 talent_id, payee_type, payee_id, amount_fen CHECK > 0,
 *                 request_id UNIQUE, created_at)
 *
 * Rows go in with one prepared INSERT each, 500 to a transaction (BEGIN
 * IMMEDIATE ... COMMIT), the batch of the cycle (CYCLE_BATCH in
 * src/ledger/cycle.h): application and talent i, amounts of the district's
 * three tiers in turn, request ids "entitlement:MONTH:i".
 *
 * What it leaves out is what the comparison measures: no subsidy read, no
 * lease looked up, no amount computed, no ledger account or transfer, no
 * inputs and steps kept, no audit row.
 *
 * Prints one line on stdout: raw ROWS SECONDS
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 500 /* CYCLE_BATCH */

static void die(const char *what, sqlite3 *db)
{
    fprintf(stderr, "cycle_bench: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
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

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: cycle_bench DB ROWS [MONTH]\n");
        return 2;
    }
    char *end;
    long long rows = strtoll(argv[2], &end, 10);
    if (*end || rows < 0) {
        fprintf(stderr, "cycle_bench: ROWS must be a whole number\n");
        return 2;
    }
    const char *month = argc == 4 ? argv[3] : "2026-11";
    if (access(argv[1], F_OK) == 0) {
        fprintf(stderr, "cycle_bench: %s exists: the reference writes a new file\n", argv[1]);
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        die("open", db);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    exec(db, "CREATE TABLE payments_ref ("
             "id INTEGER PRIMARY KEY, "
             "cycle_id INTEGER NOT NULL, "
             "application_id INTEGER NOT NULL, "
             "talent_id INTEGER NOT NULL, "
             "payee_type TEXT NOT NULL CHECK (payee_type IN ('person', 'employer', 'operator')), "
             "payee_id INTEGER NOT NULL, "
             "amount_fen INTEGER NOT NULL CHECK (amount_fen > 0), "
             "request_id TEXT NOT NULL UNIQUE CHECK (length(request_id) BETWEEN 1 AND 120), "
             "created_at INTEGER NOT NULL)");
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v3(db,
                           "INSERT INTO payments_ref (cycle_id, application_id, talent_id, "
                           "payee_type, payee_id, amount_fen, request_id, created_at) VALUES "
                           "(?1, ?2, ?3, 'person', ?3, ?4, ?5, ?6)",
                           -1, SQLITE_PREPARE_PERSISTENT, &ins, NULL) != SQLITE_OK)
        die("prepare", db);
    static const int64_t tier_fen[] = {200000, 150000, 100000};
    double t0 = now_s();
    for (long long i = 0; i < rows; i++) {
        if (i % BATCH == 0) exec(db, "BEGIN IMMEDIATE");
        char key[64];
        int n = snprintf(key, sizeof key, "entitlement:%s:%lld", month, i + 1);
        sqlite3_bind_int64(ins, 1, 1);
        sqlite3_bind_int64(ins, 2, i + 1);
        sqlite3_bind_int64(ins, 3, i + 1);
        sqlite3_bind_int64(ins, 4, tier_fen[i % 3]);
        sqlite3_bind_text(ins, 5, key, n, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 6, (sqlite3_int64)time(NULL));
        if (sqlite3_step(ins) != SQLITE_DONE) die("insert", db);
        sqlite3_reset(ins);
        if (i % BATCH == BATCH - 1 || i == rows - 1) exec(db, "COMMIT");
    }
    double secs = now_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_close(db);
    printf("raw %lld %.3f\n", rows, secs);
    return 0;
}
