/* test_cycle_api.c - the monthly cycles over the JSON API, on SQLite and
 * (with QL_TEST_PG) PostgreSQL, against a server holding the demo district
 * (`qianlima demo`: applications in every state, active ones among them):
 * a month computed as a background job (202, then the job polled until
 * done; a second job for a month whose job runs refused, a job whose
 * process died let go), approved by a second account within a budget,
 * exported (the files listed and downloaded, names the export did not
 * write and path tricks refused, every download audited), a result file
 * with a failed payment and a wrong amount taken in (the mismatch listed,
 * nothing changed by it), the failed payment re-queued; bad bodies named
 * by their field, accounts without the permission refused. Run from the
 * repository root. */
#include "testutil.h"

#include "core/date.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PW    "Harbor-Lantern-2026"
#define MONTH "2026-09"

static char out[65536], err[65536];
static struct tu_server srv;
static char data_dir[512];
static char h_one[400], h_two[400], h_rev[400], h_csv[400];
static char file1[64]; /* the first batch file's name */

static void header(char *h, size_t n, const char *user, const char *perms, const char *type)
{
    char *tok = tu_token(&srv, user, perms);
    snprintf(h, n, "Authorization: Bearer %s\r\nAccept-Language: en\r\nContent-Type: %s\r\n", tok,
             type);
    free(tok);
}

static json_t *call(const char *h, const char *method, const char *path, const char *body, int want)
{
    struct tu_resp r;
    tu_request(srv.port, method, path, h, body, &r);
    if (r.status != want) fail_msg("%s %s: %d, want %d: %s", method, path, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    tu_resp_free(&r);
    if (!j) fail_msg("%s %s: not JSON", method, path);
    return j;
}

/* A refusal with its status and the error's field (NULL: any). */
static void refused(const char *h, const char *method, const char *path, const char *body, int want,
                    const char *field)
{
    json_t *j = call(h, method, path, body, want);
    const char *f = json_string_value(json_object_get(json_object_get(j, "error"), "field"));
    if (field && (!f || strcmp(f, field)))
        fail_msg("%s %s: field %s, want %s", method, path, f ? f : "(none)", field);
    json_decref(j);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* path + suffix, in static storage. */
static const char *path_with(const char *path, const char *suffix)
{
    static char joined[256];
    snprintf(joined, sizeof joined, "%s%s", path, suffix);
    return joined;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Follows a job (the 202's body) until it ends; returns the job. */
static json_t *follow(json_t *accepted)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/jobs/%lld", (long long)num(accepted, "id"));
    json_decref(accepted);
    for (int waited = 0; waited < 60000; waited += 50) {
        json_t *j = call(h_one, "GET", path, NULL, 200);
        const char *st = str(j, "state");
        if (strcmp(st, "running")) return j;
        assert_false(json_is_true(json_object_get(j, "stale")));
        json_decref(j);
        sleep_ms(50);
    }
    fail_msg("%s did not end within 60 s", path);
    return NULL;
}

/* Runs one statement on the server's store (the test plays another
 * process sharing it). */
static void store_sql(const char *sql, const store_val *args, int n)
{
    store *s;
    ql_err e;
    if (store_open(srv.store_url, NULL, &s, &e)) fail_msg("store_open: %s", e.en);
    int rc = store_exec(s, sql, args, n, NULL);
    if (rc) fail_msg("%s: %s", sql, store_errmsg(s));
    store_close(s);
}

static int64_t store_count(const char *sql)
{
    store *s;
    ql_err e;
    if (store_open(srv.store_url, NULL, &s, &e)) fail_msg("store_open: %s", e.en);
    int64_t n = -1;
    if (store_query_int(s, sql, NULL, 0, &n)) fail_msg("%s: %s", sql, store_errmsg(s));
    store_close(s);
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(data_dir, sizeof data_dir, "%s/cycle-data", tu_tmpdir());
    const char *extra[] = {"--data-dir", data_dir, NULL};
    tu_server_start(&srv, extra);
    const char *demo[] = {"demo", "--people", "300", "--seed", "1", NULL};
    assert_int_equal(tu_cli(&srv, demo, NULL, out, sizeof out, err, sizeof err), 0);
    tu_add_user(&srv, "fin.one", "finance", "district", PW);
    tu_add_user(&srv, "fin.two", "finance", "district", PW);
    tu_add_user(&srv, "rev.one", "reviewer", "district", PW);
    const char *all = "ledger.run,ledger.approve,ledger.export";
    header(h_one, sizeof h_one, "fin.one", all, "application/json");
    header(h_two, sizeof h_two, "fin.two", all, "application/json");
    header(h_rev, sizeof h_rev, "rev.one", "subsidy.review,registry.read", "application/json");
    header(h_csv, sizeof h_csv, "fin.one", all, "text/csv");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(tu_server_stop(&srv), 0);
    return 0;
}

/* ---- computing ----------------------------------------------------------- */

static void test_compute(void **state)
{
    (void)state;
    refused(h_one, "POST", "/api/v1/cycles/2026-13/run", "{}", 400, "month");
    refused(h_one, "POST", "/api/v1/cycles/202609/run", "{}", 400, "month");
    refused(h_one, "GET", "/api/v1/cycles/" MONTH, NULL, 404, "month");

    struct tu_resp r;
    tu_request(srv.port, "POST", "/api/v1/cycles/" MONTH "/run", h_one, "{}", &r);
    assert_int_equal(r.status, 202);
    json_t *job = json_loadb(r.body, r.body_len, 0, NULL);
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/jobs/%lld", (long long)num(job, "id"));
    assert_string_equal(tu_header(&r, "Location"), loc);
    tu_resp_free(&r);
    assert_string_equal(str(job, "kind"), "cycle.run");
    assert_string_equal(str(job, "month"), MONTH);
    job = follow(job);
    if (strcmp(str(job, "state"), "done")) fail_msg("job: %s", str(job, "message_en"));
    json_t *res = json_object_get(job, "result");
    int64_t n = num(res, "entitlements");
    assert_true(n > 0);
    assert_true(num(res, "paid") > 0 && num(res, "paid") <= n);
    assert_int_equal(num(job, "done"), num(job, "total"));
    assert_int_equal(num(job, "percent"), 100);
    assert_non_null(strstr(str(job, "message_en"), "computed"));
    assert_non_null(strstr(str(job, "message_zh"), "已计算"));
    assert_non_null(strstr(str(job, "started_by"), "fin.one"));
    json_decref(job);

    /* the month and the list */
    json_t *c = call(h_one, "GET", "/api/v1/cycles/" MONTH, NULL, 200);
    assert_string_equal(str(c, "state"), "computed");
    assert_int_equal(num(c, "entitlements"), n);
    assert_int_equal((int64_t)json_array_size(json_object_get(c, "items")), n);
    assert_string_equal(str(json_object_get(c, "job"), "state"), "done");
    /* each entitlement leads to its application's decision, which finance
     * reads (and takes no action on) */
    char app[64];
    snprintf(app, sizeof app, "/api/v1/applications/%lld",
             (long long)num(json_array_get(json_object_get(c, "items"), 0), "application_id"));
    json_decref(c);
    json_t *a = call(h_one, "GET", app, NULL, 200);
    assert_true(json_is_object(json_object_get(a, "decision")));
    assert_int_equal(json_array_size(json_object_get(a, "allowed")), 0);
    json_decref(a);
    refused(h_one, "POST", path_with(app, "/actions"), "{\"action\":\"suspend\"}", 403, NULL);
    json_t *l = call(h_two, "GET", "/api/v1/cycles", NULL, 200);
    assert_int_equal(num(l, "total"), 1);
    json_t *first = json_array_get(json_object_get(l, "items"), 0);
    assert_string_equal(str(first, "month"), MONTH);
    assert_string_equal(str(first, "state"), "computed");
    assert_int_equal(num(first, "entitlements"), n);
    json_decref(l);

    /* again: nothing changes */
    job = follow(call(h_one, "POST", "/api/v1/cycles/" MONTH "/run", NULL, 202));
    assert_string_equal(str(job, "state"), "done");
    assert_true(json_is_true(json_object_get(json_object_get(job, "result"), "unchanged")));
    json_decref(job);

    /* a month out of order, or one that cannot be paid yet: refused when
     * asked for, naming the month; no job, no cycle */
    c = call(h_one, "POST", "/api/v1/cycles/2026-08/run", "{}", 409);
    json_t *e = json_object_get(c, "error");
    assert_string_equal(str(e, "field"), "month");
    assert_non_null(strstr(str(e, "message_en"), "in order"));
    json_decref(c);
    char next[8], y_m[16];
    date_format(date_month_first(date_month_last(date_today()) + 1), y_m, sizeof y_m);
    snprintf(next, sizeof next, "%.7s", y_m);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/cycles/%s/run", next);
    c = call(h_one, "POST", path, "{}", 400);
    e = json_object_get(c, "error");
    assert_string_equal(str(e, "field"), "month");
    assert_non_null(strstr(str(e, "message_en"), "cannot be paid yet"));
    json_decref(c);
    refused(h_one, "GET", "/api/v1/cycles/2026-08", NULL, 404, "month");
    assert_int_equal(store_count("SELECT count(*) FROM jobs WHERE month = '2026-08'"), 0);

    /* one job per month: another process's job runs for 2026-12 */
    int64_t now = (int64_t)time(NULL);
    store_sql("INSERT INTO jobs (kind, month, started_by, started_at, heartbeat_at) VALUES "
              "('cycle.run', '2026-12', 'elsewhere', $1, $1)",
              (store_val[]){SV_INT(now)}, 1);
    refused(h_one, "POST", "/api/v1/cycles/2026-12/run", "{}", 409, "month");
    assert_int_equal(store_count("SELECT count(*) FROM jobs WHERE month = '2026-12'"), 1);
    /* ...whose process died: after 15 minutes without progress it is let go */
    store_sql("UPDATE jobs SET heartbeat_at = $1 WHERE month = '2026-12'",
              (store_val[]){SV_INT(now - 3600)}, 1);
    c = call(h_one, "GET", "/api/v1/cycles/2026-12/job", NULL, 200);
    assert_true(json_is_true(json_object_get(c, "stale")));
    json_decref(c);
    job = follow(call(h_one, "POST", "/api/v1/cycles/2026-12/run", "{}", 202));
    /* 2026-12 is computed now (after 2026-09, in order) */
    assert_string_equal(str(job, "state"), "done");
    json_decref(job);
    assert_int_equal(
        store_count("SELECT count(*) FROM jobs WHERE month = '2026-12' AND state = 'failed'"), 1);
}

/* ---- budget and approval ------------------------------------------------------ */

static void test_approve(void **state)
{
    (void)state;
    const char *ap = "/api/v1/cycles/" MONTH "/approve";
    refused(h_one, "POST", ap, NULL, 403, "approved_by"); /* the one who computed it */
    refused(h_two, "POST", ap, NULL, 409, "budget");      /* no budget for 2026 */
    const char *bp = "/api/v1/budgets/district-rent/2026";
    refused(h_two, "PUT", bp, "{}", 400, "body.amount");
    refused(h_two, "PUT", bp, "{\"amount\":500000}", 400, "body.amount");
    refused(h_two, "PUT", bp, "{\"amount\":\"lots\"}", 400, "body.amount");
    refused(h_two, "PUT", bp, "{\"amount\":\"-1\"}", 400, "body.amount");
    refused(h_two, "PUT", bp, "{\"amount\":\"1.234\"}", 400, "body.amount");
    refused(h_two, "PUT", "/api/v1/budgets/district-rent/99", "{\"amount\":\"1\"}", 400, "year");
    refused(h_two, "PUT", bp, "[1]", 400, "body");
    refused(h_rev, "PUT", bp, "{\"amount\":\"1\"}", 403, NULL);
    json_t *b = call(h_two, "PUT", bp, "{\"amount\":\"500000\"}", 200);
    assert_string_equal(str(b, "amount_yuan"), "500000.00");
    assert_int_equal(num(b, "amount_fen"), 50000000);
    json_decref(b);
    b = call(h_one, "GET", "/api/v1/budgets", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(b, "items")), 1);
    json_decref(b);

    json_t *c = call(h_two, "POST", ap, NULL, 200);
    assert_string_equal(str(c, "state"), "approved");
    assert_false(json_is_true(json_object_get(c, "unchanged")));
    assert_non_null(strstr(str(c, "approved_by"), "fin.two"));
    json_decref(c);
    c = call(h_two, "POST", ap, "{}", 200);
    assert_true(json_is_true(json_object_get(c, "unchanged")));
    json_decref(c);
}

/* ---- export and files ----------------------------------------------------------- */

static void test_export_and_files(void **state)
{
    (void)state;
    const char *ep = "/api/v1/cycles/" MONTH "/export";
    refused(h_two, "POST", ep, "{\"format\":\"xml\"}", 400, "body.format");
    refused(h_two, "POST", ep, "{\"format\":1}", 400, "body.format");
    refused(h_two, "POST", ep, "{\"batch_size\":0}", 400, "body.batch_size");
    refused(h_two, "POST", ep, "{\"batch_size\":\"3\"}", 400, "body.batch_size");
    refused(h_two, "POST", ep, "{\"batch_size\":100001}", 400, "body.batch_size");
    refused(h_rev, "POST", ep, "{}", 403, NULL);
    refused(h_two, "POST", "/api/v1/cycles/2026-12/export", "{}", 409, "state"); /* not approved */
    refused(h_two, "POST", "/api/v1/cycles/2026-11/export", "{}", 404, "month");

    json_t *job = follow(call(h_two, "POST", ep, "{\"format\":\"csv\",\"batch_size\":3}", 202));
    if (strcmp(str(job, "state"), "done")) fail_msg("export: %s", str(job, "message_en"));
    json_t *res = json_object_get(job, "result");
    json_t *files = json_object_get(res, "files");
    assert_true(json_array_size(files) >= 2);
    snprintf(file1, sizeof file1, "%s", str(json_array_get(files, 0), "name"));
    assert_string_equal(file1, "QLM202609-0001.csv");
    assert_int_equal(num(json_array_get(files, 0), "records"), 3);
    size_t nfiles = json_array_size(files);
    json_decref(job);

    json_t *l = call(h_one, "GET", "/api/v1/cycles/" MONTH "/files", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(l, "items")), nfiles);
    json_decref(l);

    /* the download: the file itself, audited */
    int64_t audited = store_count("SELECT count(*) FROM audit_log WHERE action = "
                                  "'cycle.file_download'");
    struct tu_resp r;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/cycles/" MONTH "/files/%s", file1);
    tu_request(srv.port, "GET", path, h_one, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(tu_header(&r, "Content-Type"), "text/csv"));
    assert_non_null(strstr(tu_header(&r, "Content-Disposition"), file1));
    assert_int_equal(strncmp(r.body, "batch_no,seq,request_id,account,name,amount", 43), 0);
    char disk[700];
    snprintf(disk, sizeof disk, "%s/bank/" MONTH "/%s", data_dir, file1);
    size_t len;
    char *want = tu_slurp(disk, &len);
    assert_non_null(want);
    assert_int_equal(r.body_len, len);
    assert_memory_equal(r.body, want, len);
    free(want);
    tu_resp_free(&r);
    assert_int_equal(store_count("SELECT count(*) FROM audit_log WHERE action = "
                                 "'cycle.file_download'"),
                     audited + 1);

    /* only names the export wrote, nothing else in or out of the directory */
    snprintf(disk, sizeof disk, "%s/bank/" MONTH "/planted.csv", data_dir);
    FILE *f = fopen(disk, "w");
    assert_non_null(f);
    fputs("secret\n", f);
    fclose(f);
    static const char *const bad[] = {
        "/api/v1/cycles/" MONTH "/files/planted.csv",
        "/api/v1/cycles/" MONTH "/files/QLM202609-0001.txt",  /* never written */
        "/api/v1/cycles/" MONTH "/files/QLM202609-0099.csv",  /* no such batch */
        "/api/v1/cycles/2026-12/files/QLM202609-0001.csv",    /* another cycle's */
        "/api/v1/cycles/" MONTH "/files/..%2F..%2F..%2Fkeys", /* out of the directory */
        "/api/v1/cycles/" MONTH "/files/%2e%2e",
        "/api/v1/cycles/" MONTH "/files/QLM202609-0001.csv%00.txt",
        "/api/v1/cycles/..%2F" MONTH "/files/QLM202609-0001.csv",
        "/api/v1/cycles/" MONTH "/files/..",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_request(srv.port, "GET", bad[i], h_one, NULL, &r);
        if (r.status != 404 && r.status != 400)
            fail_msg("%s: %d, want 404 or 400: %s", bad[i], r.status, r.body);
        assert_null(strstr(r.body, "secret"));
        assert_null(strstr(r.body, "request_id,account"));
        tu_resp_free(&r);
    }
    /* a raw path with dot segments never reaches the handler */
    static const char raw[] = "GET /api/v1/cycles/" MONTH "/files/../../../qianlima.db "
                              "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    char req[1024];
    snprintf(req, sizeof req, "%s%s\r\n", raw, h_one);
    assert_int_equal(tu_raw(srv.port, req, strlen(req), 5000, &r), 0);
    assert_true(r.status == 400 || r.status == 404);
    tu_resp_free(&r);
    /* a reviewer may not read the files, nor list the cycles */
    refused(h_rev, "GET", path, NULL, 403, NULL);
    refused(h_rev, "GET", "/api/v1/cycles", NULL, 403, NULL);
    refused(h_rev, "GET", "/api/v1/cycles/" MONTH "/files", NULL, 403, NULL);
    assert_int_equal(store_count("SELECT count(*) FROM audit_log WHERE action = "
                                 "'cycle.file_download'"),
                     audited + 1);
}

/* ---- results, reconciliation, failed payments ------------------------------------ */

/* The bank's answer to every batch file: each row paid, but row fail_row
 * failed and row odd_row with a wrong amount. */
static char *result_file(int fail_row, int odd_row, char fail_id[40], char odd_id[40])
{
    char *res = calloc(1, 65536);
    size_t o = (size_t)snprintf(res, 65536, "batch_no,request_id,account,amount,status,message\n");
    int row = 0;
    for (int b = 1; b < 100; b++) {
        char path[700];
        snprintf(path, sizeof path, "%s/bank/" MONTH "/QLM202609-%04d.csv", data_dir, b);
        char *text = tu_slurp(path, NULL);
        if (!text) break;
        char *line = strstr(text, "\r\n");
        while (line && line[2]) {
            line += 2;
            char *end = strstr(line, "\r\n");
            if (!end) break;
            *end = '\0';
            /* batch_no,seq,request_id,account,name,amount,currency,purpose */
            char *f[8] = {0};
            int nf = 0;
            for (char *p = line; nf < 8; nf++) {
                f[nf] = p;
                char *c = strchr(p, ',');
                if (!c) {
                    nf++;
                    break;
                }
                *c = '\0';
                p = c + 1;
            }
            assert_true(nf >= 6);
            row++;
            const char *status = row == fail_row ? "F" : "S";
            const char *amount = row == odd_row ? "1.00" : f[5];
            if (row == fail_row) snprintf(fail_id, 40, "%s", f[2]);
            if (row == odd_row) snprintf(odd_id, 40, "%s", f[2]);
            o += (size_t)snprintf(res + o, 65536 - o, "%s,%s,%s,%s,%s,%s\n", f[0], f[2], f[3],
                                  amount, status, row == fail_row ? "account closed" : "");
            line = end;
        }
        free(text);
    }
    assert_true(row >= 3);
    return res;
}

static void test_results_and_payments(void **state)
{
    (void)state;
    const char *rp = "/api/v1/cycles/" MONTH "/results";
    refused(h_csv, "POST", rp, NULL, 400, "body");
    refused(h_csv, "POST", rp, "a,b\n1,2\n", 400, "body.batch_no");
    refused(h_csv, "POST", "/api/v1/cycles/2026-12/results", "batch_no\n", 409, "state");
    refused(h_rev, "POST", rp, "x", 403, NULL);
    char fail_id[40] = "", odd_id[40] = "";
    char *file = result_file(2, 3, fail_id, odd_id);
    int64_t transfers = store_count("SELECT count(*) FROM ledger_transfers");

    char path[128];
    snprintf(path, sizeof path, "%s?file_name=bank-answer.csv", rp);
    json_t *rep = call(h_csv, "POST", path, file, 200);
    assert_false(json_is_true(json_object_get(rep, "unchanged")));
    assert_int_equal(num(rep, "failed"), 1);
    assert_int_equal(num(rep, "mismatches"), 1);
    assert_int_equal(num(rep, "paid"), num(rep, "rows") - 2);
    json_t *m = json_array_get(json_object_get(rep, "items"), 0);
    assert_string_equal(str(m, "problem"), "amount");
    assert_string_equal(str(m, "request_id"), odd_id);
    assert_int_equal(num(m, "line"), 4);
    assert_non_null(strstr(str(m, "en"), "1.00"));
    json_decref(rep);
    int64_t after = store_count("SELECT count(*) FROM ledger_transfers");
    assert_true(after > transfers);
    /* the same file again changes nothing, and says so */
    rep = call(h_csv, "POST", rp, file, 200);
    assert_true(json_is_true(json_object_get(rep, "unchanged")));
    assert_int_equal(num(rep, "mismatches"), 1);
    json_decref(rep);
    assert_int_equal(store_count("SELECT count(*) FROM ledger_transfers"), after);
    free(file);

    json_t *imp = call(h_one, "GET", rp, NULL, 200);
    json_t *first = json_array_get(json_object_get(imp, "items"), 0);
    assert_int_equal(json_array_size(json_object_get(imp, "items")), 1);
    assert_string_equal(str(first, "file_name"), "bank-answer.csv");
    assert_int_equal(json_array_size(json_object_get(first, "items")), 1);
    json_decref(imp);

    /* the payments: the failed one, its account masked; the odd one still sent */
    json_t *p = call(h_one, "GET", "/api/v1/cycles/" MONTH "/payments?state=failed", NULL, 200);
    assert_int_equal(num(p, "total"), 1);
    json_t *f = json_array_get(json_object_get(p, "items"), 0);
    assert_string_equal(str(f, "request_id"), fail_id);
    assert_string_equal(str(f, "result_message"), "account closed");
    assert_non_null(strchr(str(f, "account"), '*'));
    json_decref(p);
    p = call(h_one, "GET", "/api/v1/cycles/" MONTH "/payments?state=sent", NULL, 200);
    assert_int_equal(num(p, "total"), 1);
    assert_string_equal(str(json_array_get(json_object_get(p, "items"), 0), "request_id"), odd_id);
    json_decref(p);
    refused(h_one, "GET", "/api/v1/cycles/" MONTH "/payments?state=lost", NULL, 400, "state");
    refused(h_one, "GET", "/api/v1/cycles/" MONTH "/payments?limit=0", NULL, 400, "limit");
    refused(h_one, "GET", "/api/v1/cycles/" MONTH "/payments?offset=x", NULL, 400, "offset");

    /* the failed payment re-queued; bad reasons named */
    char rq[128], wo[128];
    snprintf(rq, sizeof rq, "/api/v1/payments/%s/requeue", fail_id);
    snprintf(wo, sizeof wo, "/api/v1/payments/%s/write-off", odd_id);
    refused(h_one, "POST", rq, "{}", 400, "body.reason");
    refused(h_one, "POST", rq, "{\"reason\":\"\"}", 400, "body.reason");
    refused(h_one, "POST", rq, "{\"reason\":7}", 400, "body.reason");
    refused(h_rev, "POST", rq, "{\"reason\":\"x\"}", 403, NULL);
    refused(h_one, "POST", "/api/v1/payments/202609-999-1/requeue", "{\"reason\":\"x\"}", 404,
            NULL);
    refused(h_two, "POST", wo, "{\"reason\":\"not failed\"}", 409, "state");
    json_t *q = call(h_one, "POST", rq, "{\"reason\":\"the payee gave a new account\"}", 200);
    assert_string_equal(str(q, "state"), "requeued");
    assert_true(strlen(str(q, "new_request_id")) > 0);
    assert_string_not_equal(str(q, "new_request_id"), fail_id);
    json_decref(q);
    refused(h_one, "POST", rq, "{\"reason\":\"again\"}", 409, "state");
    p = call(h_one, "GET", "/api/v1/cycles/" MONTH "/payments?state=queued", NULL, 200);
    assert_int_equal(num(p, "total"), 1);
    json_decref(p);

    /* collections: bad bodies, and more than is owed */
    const char *cp = "/api/v1/collections";
    refused(h_one, "POST", cp, "{\"amount\":\"1\",\"reference\":\"r\"}", 400, "body.payee");
    refused(h_one, "POST", cp, "{\"payee\":\"person:1\",\"amount\":\"x\",\"reference\":\"r\"}", 400,
            "body.amount");
    refused(h_one, "POST", cp, "{\"payee\":\"nobody\",\"amount\":\"1\",\"reference\":\"r\"}", 400,
            "body.payee");
    refused(h_one, "POST", cp, "{\"payee\":\"person:1\",\"amount\":\"1\"}", 400, "body.reference");
    refused(h_one, "POST", cp, "{\"payee\":\"person:1\",\"amount\":\"1\",\"reference\":\"r\"}", 409,
            "body.amount");

    /* not reconciled: a payment is still sent, another queued */
    refused(h_two, "POST", "/api/v1/cycles/" MONTH "/close", "{}", 409, "state");
    refused(h_one, "POST", "/api/v1/cycles/" MONTH "/close", "{}", 409, "state");
}

/* ---- who may ------------------------------------------------------------------------ */

static void test_permissions(void **state)
{
    (void)state;
    static const char *const calls[][3] = {
        {"GET", "/api/v1/cycles", NULL},
        {"GET", "/api/v1/cycles/" MONTH, NULL},
        {"GET", "/api/v1/cycles/" MONTH "/payments", NULL},
        {"GET", "/api/v1/cycles/" MONTH "/results", NULL},
        {"GET", "/api/v1/cycles/" MONTH "/job", NULL},
        {"GET", "/api/v1/budgets", NULL},
        {"GET", "/api/v1/jobs/1", NULL},
        {"POST", "/api/v1/cycles/" MONTH "/run", "{}"},
        {"POST", "/api/v1/cycles/" MONTH "/approve", "{}"},
        {"POST", "/api/v1/cycles/" MONTH "/close", "{}"},
        {"POST", "/api/v1/collections", "{}"},
    };
    int64_t jobs = store_count("SELECT count(*) FROM jobs");
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        refused(h_rev, calls[i][0], calls[i][1], calls[i][2], 403, NULL);
    assert_int_equal(store_count("SELECT count(*) FROM jobs"), jobs);
    /* without a token at all */
    struct tu_resp r;
    tu_request(srv.port, "GET", "/api/v1/cycles", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    /* a token of a finance account limited to ledger.run cannot export */
    char h[400];
    header(h, sizeof h, "fin.one", "ledger.run", "application/json");
    refused(h, "POST", "/api/v1/cycles/" MONTH "/export", "{}", 403, NULL);
    json_t *l = call(h, "GET", "/api/v1/cycles", NULL, 200);
    json_decref(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compute),          cmocka_unit_test(test_approve),
        cmocka_unit_test(test_export_and_files), cmocka_unit_test(test_results_and_payments),
        cmocka_unit_test(test_permissions),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "cycle api (postgres)" : "cycle api (sqlite)",
                                       tests, setup, teardown);
}
