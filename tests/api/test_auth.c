/* test_auth.c - accounts as a client sees them: signing in and out, the
 * forced password change, lock-out, stolen cookies, CSRF, API tokens, the
 * route table walked anonymously and as every role, the console's forms,
 * and the audit chain afterwards. A real server on a loopback port. */
#include "testutil.h"

#include "auth/perm.h"
#include "http/http.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct tu_server srv;
static const char admin_pw[] = "Amber-Harbor-2026";
static const char admin_new_pw[] = "Velvet-Orchard-77";

static int setup(void **state)
{
    (void)state;
    tu_server_start(&srv, (const char *[]){"--workers", "2", NULL});
    tu_add_user(&srv, "alice", "admin", NULL, admin_pw);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_server_stop(&srv) == 0 ? 0 : -1;
}

/* The value of cookie name set by the response, or NULL (static copy). */
static const char *set_cookie(const struct tu_resp *r, const char *name)
{
    static char value[256];
    size_t nl = strlen(name);
    for (const char *p = r->head; p && (p = strcasestr(p, "\r\nSet-Cookie: ")); p += 2) {
        const char *v = p + 14;
        if (strncmp(v, name, nl) == 0 && v[nl] == '=') {
            v += nl + 1;
            size_t n = strcspn(v, ";\r");
            if (n >= sizeof value) n = sizeof value - 1;
            memcpy(value, v, n);
            value[n] = '\0';
            return value;
        }
    }
    return NULL;
}

/* A signed-in browser: its session cookie and the session's form token. */
struct session {
    char cookie[128];
    char csrf[64];
};

static void get_csrf(struct session *s)
{
    char h[256];
    snprintf(h, sizeof h, "Cookie: ql_session=%s\r\n", s->cookie);
    struct tu_resp r;
    tu_request(srv.port, "GET", "/api/v1/me", h, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    snprintf(s->csrf, sizeof s->csrf, "%s", json_string_value(json_object_get(j, "csrf_token")));
    json_decref(j);
    tu_resp_free(&r);
}

static int signin_device(const char *user, const char *pw, const char *device, char *device_out,
                         struct session *s, char *location, size_t n);

/* Signs in through the form; returns the status of the POST and fills s on
 * success. Location (static copy) says where the console sent the browser. */
static int signin(const char *user, const char *pw, struct session *s, char *location, size_t n)
{
    return signin_device(user, pw, NULL, NULL, s, location, n);
}

/* The same from a browser that sends the known-device cookie device (NULL:
 * none); device_out (may be NULL, 64 bytes) receives the one set. */
static int signin_device(const char *user, const char *pw, const char *device, char *device_out,
                         struct session *s, char *location, size_t n)
{
    struct tu_resp r;
    tu_request(srv.port, "GET", "/signin", NULL, NULL, &r);
    char pre[128];
    snprintf(pre, sizeof pre, "%s", set_cookie(&r, "ql_csrf"));
    tu_resp_free(&r);
    char *eu = NULL, *ep = NULL;
    size_t nu = 0, np = 0;
    FILE *f = open_memstream(&eu, &nu);
    for (const char *c = user; *c; c++) fprintf(f, "%%%02X", (unsigned char)*c);
    fclose(f);
    f = open_memstream(&ep, &np);
    for (const char *c = pw; *c; c++) fprintf(f, "%%%02X", (unsigned char)*c);
    fclose(f);
    char body[1024], hdr[300];
    snprintf(body, sizeof body, "_csrf=%s&username=%s&password=%s&next=%%2F", pre, eu, ep);
    free(eu);
    free(ep);
    snprintf(hdr, sizeof hdr,
             "Cookie: ql_csrf=%s%s%s\r\nContent-Type: application/x-www-form-urlencoded\r\n", pre,
             device ? "; ql_device=" : "", device ? device : "");
    tu_request(srv.port, "POST", "/signin", hdr, body, &r);
    int status = r.status;
    if (device_out) {
        const char *d = set_cookie(&r, "ql_device");
        snprintf(device_out, 64, "%s", d ? d : "");
    }
    if (location) snprintf(location, n, "%s", tu_header(&r, "Location") ? tu_header(&r, "Location") : "");
    const char *c = set_cookie(&r, "ql_session");
    if (status == 303 && s && c) {
        snprintf(s->cookie, sizeof s->cookie, "%s", c);
        get_csrf(s);
    }
    tu_resp_free(&r);
    return status;
}

/* A request as the signed-in browser. csrf: 1 the session's token in the
 * form body, 0 none; body_extra appended to the form. */
static void as(const struct session *s, const char *method, const char *path, int csrf,
               const char *body_extra, struct tu_resp *r)
{
    char h[512], body[2048];
    snprintf(h, sizeof h, "Cookie: ql_session=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n",
             s->cookie);
    snprintf(body, sizeof body, "%s%s%s", csrf ? "_csrf=" : "", csrf ? s->csrf : "",
             body_extra ? body_extra : "");
    tu_request(srv.port, method, path, h, strcmp(method, "GET") ? body : NULL, r);
}

/* After a password change the session goes on under a new cookie and form
 * token: takes both from the response r. */
static void take_rotated(struct session *s, const struct tu_resp *r)
{
    const char *c = set_cookie(r, "ql_session");
    assert_non_null(c);
    assert_string_not_equal(c, s->cookie);
    snprintf(s->cookie, sizeof s->cookie, "%s", c);
    get_csrf(s);
}

static struct session admin;

/* Signs alice in, changing the first password on the way when needed. */
static void admin_session(void)
{
    if (admin.cookie[0]) return;
    char loc[256];
    int st = signin("alice", admin_new_pw, &admin, loc, sizeof loc);
    if (st == 303) return;
    st = signin("alice", admin_pw, &admin, loc, sizeof loc);
    assert_int_equal(st, 303);
    assert_string_equal(loc, "/account/password");
    char extra[256];
    snprintf(extra, sizeof extra,
             "&current_password=%s&new_password=%s&confirm_password=%s", admin_pw, admin_new_pw,
             admin_new_pw);
    struct tu_resp r;
    as(&admin, "POST", "/account/password", 1, extra, &r);
    assert_int_equal(r.status, 200);
    take_rotated(&admin, &r);
    tu_resp_free(&r);
}

/* ---- tests ----------------------------------------------------------- */

static void test_first_signin_forces_password_change(void **state)
{
    (void)state;
    tu_add_user(&srv, "carol", "auditor", NULL, "Copper-Kettle-2026");
    struct session s;
    char loc[256];
    assert_int_equal(signin("carol", "Copper-Kettle-2026", &s, loc, sizeof loc), 303);
    assert_string_equal(loc, "/account/password");
    struct tu_resp r;
    as(&s, "GET", "/", 0, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_string_equal(tu_header(&r, "Location"), "/account/password");
    tu_resp_free(&r);
    as(&s, "GET", "/api/v1/audit", 0, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "change your password first"));
    tu_resp_free(&r);
    /* A weak new password is refused beside its field; nothing changes. */
    as(&s, "POST", "/account/password", 1,
       "&current_password=Copper-Kettle-2026&new_password=short&confirm_password=short", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "href=\"#new_password\""));
    assert_non_null(strstr(r.body, "id=\"new_password-error\""));
    tu_resp_free(&r);
    struct session old = s;
    as(&s, "POST", "/account/password", 1,
       "&current_password=Copper-Kettle-2026&new_password=Granite-Meadow-88"
       "&confirm_password=Granite-Meadow-88",
       &r);
    assert_int_equal(r.status, 200);
    /* The page after the change carries the new form token already. */
    take_rotated(&s, &r);
    assert_non_null(strstr(r.body, s.csrf));
    assert_string_not_equal(s.csrf, old.csrf);
    tu_resp_free(&r);
    /* The cookie and form token seen before the change open nothing. */
    as(&old, "GET", "/api/v1/me", 0, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    as(&s, "GET", "/", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "carol"));
    tu_resp_free(&r);
    /* The old password no longer works, the new one does. */
    assert_int_equal(signin("carol", "Copper-Kettle-2026", NULL, NULL, 0), 401);
    assert_int_equal(signin("carol", "Granite-Meadow-88", NULL, loc, sizeof loc), 303);
    assert_string_equal(loc, "/");
}

static void test_wrong_password_and_lockout(void **state)
{
    (void)state;
    tu_add_user(&srv, "bob", "reviewer", NULL, "Maple-Syrup-Road-1");
    struct tu_resp r;
    /* An unknown user and a wrong password get the same answer. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(signin("bob", "Wrong-Password-1", NULL, NULL, 0), 401);
    assert_int_equal(signin("nobody-here", "Wrong-Password-1", NULL, NULL, 0), 401);
    /* The fifth in a row locks the account, saying until when. */
    tu_request(srv.port, "GET", "/signin", NULL, NULL, &r);
    char pre[128];
    snprintf(pre, sizeof pre, "%s", set_cookie(&r, "ql_csrf"));
    tu_resp_free(&r);
    char hdr[300], body[300];
    snprintf(hdr, sizeof hdr,
             "Cookie: ql_csrf=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n", pre);
    snprintf(body, sizeof body, "_csrf=%s&username=bob&password=Wrong-Password-1", pre);
    tu_request(srv.port, "POST", "/signin", hdr, body, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "已锁定至"));
    assert_non_null(strstr(r.body, "北京时间"));
    tu_resp_free(&r);
    /* Locked: even the right password is refused. */
    assert_int_equal(signin("bob", "Maple-Syrup-Road-1", NULL, NULL, 0), 403);
    /* The administrator's reset unlocks it (with a new temporary password). */
    char out[4096], err[4096];
    assert_int_equal(tu_cli(&srv, (const char *[]){"user", "reset-password", "bob", NULL}, NULL,
                            out, sizeof out, err, sizeof err),
                     0);
    char *pw = strstr(out, "(shown once): ");
    assert_non_null(pw);
    pw += 14;
    pw[strcspn(pw, "\r\n")] = '\0';
    char loc[256];
    assert_int_equal(signin("bob", pw, NULL, loc, sizeof loc), 303);
    assert_string_equal(loc, "/account/password");
}

static void test_stolen_cookie_after_signout(void **state)
{
    (void)state;
    admin_session();
    struct session s;
    assert_int_equal(signin("alice", admin_new_pw, &s, NULL, 0), 303);
    struct tu_resp r;
    as(&s, "GET", "/admin/users", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    as(&s, "POST", "/signout", 1, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_string_equal(tu_header(&r, "Location"), "/signin");
    tu_resp_free(&r);
    /* The cookie copied before sign-out no longer opens anything. */
    as(&s, "GET", "/admin/users", 0, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_non_null(strstr(tu_header(&r, "Location"), "/signin"));
    tu_resp_free(&r);
    as(&s, "GET", "/api/v1/me", 0, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
}

static void test_signout_everywhere(void **state)
{
    (void)state;
    admin_session();
    struct session a, b;
    assert_int_equal(signin("alice", admin_new_pw, &a, NULL, 0), 303);
    assert_int_equal(signin("alice", admin_new_pw, &b, NULL, 0), 303);
    struct tu_resp r;
    as(&b, "POST", "/signout/all", 1, NULL, &r);
    assert_int_equal(r.status, 303);
    tu_resp_free(&r);
    as(&a, "GET", "/api/v1/me", 0, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    memset(&admin, 0, sizeof admin); /* that ended the shared session too */
}

static int64_t count_users(const char *q)
{
    admin_session();
    char path[128];
    snprintf(path, sizeof path, "/api/v1/users?q=%s", q);
    struct tu_resp r;
    as(&admin, "GET", path, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    int64_t n = json_integer_value(json_object_get(j, "total"));
    json_decref(j);
    tu_resp_free(&r);
    return n;
}

static void test_csrf(void **state)
{
    (void)state;
    admin_session();
    static const char form[] = "&username=dora&display_name=Dora&roles=auditor&scope=district";
    struct tu_resp r;
    /* Without the token: refused, nothing created. */
    as(&admin, "POST", "/admin/users", 0, form, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "表单已过期"));
    tu_resp_free(&r);
    assert_int_equal(count_users("dora"), 0);
    /* With another session's token: refused too. */
    as(&admin, "POST", "/admin/users", 0, "_csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&username=dora"
                                        "&display_name=Dora&roles=auditor&scope=district",
       &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    assert_int_equal(count_users("dora"), 0);
    /* A JSON request on the session cookie needs the X-CSRF-Token header. */
    char h[512];
    snprintf(h, sizeof h, "Cookie: ql_session=%s\r\nContent-Type: application/json\r\n",
             admin.cookie);
    tu_request(srv.port, "POST", "/api/v1/users", h,
               "{\"username\":\"dora\",\"display_name\":\"Dora\",\"roles\":[\"auditor\"]}", &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    assert_int_equal(count_users("dora"), 0);
    snprintf(h, sizeof h,
             "Cookie: ql_session=%s\r\nContent-Type: application/json\r\nX-CSRF-Token: %s\r\n",
             admin.cookie, admin.csrf);
    tu_request(srv.port, "POST", "/api/v1/users", h,
               "{\"username\":\"dora\",\"display_name\":\"Dora\",\"roles\":[\"auditor\"]}", &r);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "temporary_password"));
    tu_resp_free(&r);
    assert_int_equal(count_users("dora"), 1);
    /* Signing in needs the pre-session token too (double submit). */
    tu_request(srv.port, "POST", "/signin", "Content-Type: application/x-www-form-urlencoded\r\n",
               "username=alice&password=x", &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
}

static void test_console_user_forms(void **state)
{
    (void)state;
    admin_session();
    struct tu_resp r;
    /* A bad username: the error summary links to the field; nothing created. */
    as(&admin, "POST", "/admin/users", 1,
       "&username=Eve!&display_name=%E5%BC%A0%E4%B8%89&roles=window_clerk&scope=district", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "class=\"error-summary\""));
    assert_non_null(strstr(r.body, "href=\"#username\""));
    assert_non_null(strstr(r.body, "id=\"username-error\""));
    assert_non_null(strstr(r.body, "value=\"张三\"")); /* what was typed is kept */
    tu_resp_free(&r);
    assert_int_equal(count_users("eve"), 0);
    /* A control character in a field: refused, the field named. */
    as(&admin, "POST", "/admin/users", 1,
       "&username=eve&display_name=%E5%BC%A0%01&roles=window_clerk&scope=district", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "display_name"));
    assert_non_null(strstr(r.body, "控制字符"));
    tu_resp_free(&r);
    assert_int_equal(count_users("eve"), 0);
    /* An employer account needs a valid credit code. */
    as(&admin, "POST", "/admin/users", 1,
       "&username=hr.acme&display_name=HR&roles=employer_hr&scope=employer&scope_id=91350100M000100Y44",
       &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "href=\"#scope_id\""));
    tu_resp_free(&r);
    as(&admin, "POST", "/admin/users", 1,
       "&username=hr.acme&display_name=HR&roles=employer_hr&scope=employer&scope_id=91350100M000100Y43",
       &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "class=\"secret\""));
    tu_resp_free(&r);
    /* The same username again: 409 beside the field. */
    as(&admin, "POST", "/admin/users", 1,
       "&username=hr.acme&display_name=HR&roles=employer_hr&scope=employer&scope_id=91350100M000100Y43",
       &r);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "href=\"#username\""));
    tu_resp_free(&r);
    /* The list finds it; the live search answers with the table. */
    as(&admin, "GET", "/admin/users?q=acme", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "hr.acme"));
    assert_null(strstr(r.body, ">alice<"));
    tu_resp_free(&r);
}

static void test_api_tokens(void **state)
{
    (void)state;
    tu_add_user(&srv, "monitor", "admin", NULL, "Quiet-Lantern-2026");
    char *tok = tu_token(&srv, "monitor", "system.metrics");
    char h[300];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", tok);
    struct tu_resp r;
    tu_request(srv.port, "GET", "/metrics", h, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    /* The account could read users, the token may not. */
    tu_request(srv.port, "GET", "/api/v1/users", h, NULL, &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    /* Tokens have no session to end. */
    char hf[400];
    snprintf(hf, sizeof hf, "%sContent-Type: application/x-www-form-urlencoded\r\n", h);
    tu_request(srv.port, "POST", "/signout", hf, "", &r);
    assert_int_equal(r.status, 400);
    tu_resp_free(&r);
    /* Malformed and unknown tokens. */
    tu_request(srv.port, "GET", "/metrics", "Authorization: Basic YWxpY2U6eA==\r\n", NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/metrics", "Authorization: Bearer qlt_notatoken\r\n", NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    /* Revoked: refused. */
    char out[4096], err[4096];
    assert_int_equal(tu_cli(&srv, (const char *[]){"token", "list", NULL}, NULL, out, sizeof out,
                            err, sizeof err),
                     0);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%.12s", tok);
    char *line = strstr(out, prefix);
    assert_non_null(line);
    while (line > out && line[-1] != '\n') line--;
    char id[16];
    snprintf(id, sizeof id, "%ld", strtol(line, NULL, 10));
    assert_int_equal(tu_cli(&srv, (const char *[]){"token", "revoke", id, NULL}, NULL, out,
                            sizeof out, err, sizeof err),
                     0);
    tu_request(srv.port, "GET", "/metrics", h, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    free(tok);
}

/* A token cannot be used to get more than it holds: not a token with more
 * permissions, not one for another account, not an account (or another
 * account's password) more powerful than itself. */
static void test_tokens_cannot_escalate(void **state)
{
    (void)state;
    tu_add_user(&srv, "svc", "admin", NULL, "Steady-River-2026");
    char *mint = tu_token(&srv, "svc", "token.manage");
    char *manage = tu_token(&srv, "svc", "user.manage dashboard.read service.validate");
    char hm[300], hu[300];
    snprintf(hm, sizeof hm, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", mint);
    snprintf(hu, sizeof hu, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", manage);
    free(mint);
    free(manage);
    struct tu_resp r;
    tu_request(srv.port, "POST", "/api/v1/tokens", hm,
               "{\"username\":\"svc\",\"name\":\"more\",\"permissions\":\"user.read\"}", &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "user.read"));
    tu_resp_free(&r);
    tu_request(srv.port, "POST", "/api/v1/tokens", hm,
               "{\"username\":\"alice\",\"name\":\"other\",\"permissions\":\"token.manage\"}",
               &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    tu_request(srv.port, "POST", "/api/v1/tokens", hm,
               "{\"username\":\"svc\",\"name\":\"same\",\"permissions\":\"token.manage\"}", &r);
    assert_int_equal(r.status, 201);
    tu_resp_free(&r);
    /* A token with user.manage cannot make an administrator... */
    tu_request(srv.port, "POST", "/api/v1/users", hu,
               "{\"username\":\"mallory\",\"display_name\":\"M\",\"roles\":[\"admin\"],"
               "\"password\":\"Xq-Pass-2026!\"}",
               &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "\"field\":\"body.roles\""));
    tu_resp_free(&r);
    assert_int_equal(signin("mallory", "Xq-Pass-2026!", NULL, NULL, 0), 401);
    /* ...nor reset an administrator's password... */
    char out[4096], err[4096];
    tu_cli(&srv, (const char *[]){"user", "list", "--search", "alice", NULL}, NULL, out,
           sizeof out, err, sizeof err);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/users/%ld/reset-password", strtol(out, NULL, 10));
    tu_request(srv.port, "POST", path, hu, "", &r);
    assert_int_equal(r.status, 403);
    tu_resp_free(&r);
    /* ...but can make an account within its own permissions, and read it back. */
    tu_request(srv.port, "POST", "/api/v1/users", hu,
               "{\"username\":\"lead.one\",\"display_name\":\"L\",\"roles\":[\"leadership\"]}",
               &r);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "temporary_password"));
    tu_resp_free(&r);
    /* The audit log names the token, not just its account. */
    admin_session();
    as(&admin, "GET", "/api/v1/audit?action=user.create&per_page=1", 0, NULL, &r);
    assert_non_null(strstr(r.body, "svc (token "));
    tu_resp_free(&r);
}

/* ---- separation of duties, sign-in throttling ------------------------- */

/* A JSON request as the signed-in browser (with its form token). */
static json_t *as_json(const struct session *s, const char *method, const char *path,
                       const char *body, int want)
{
    char h[512];
    snprintf(h, sizeof h,
             "Cookie: ql_session=%s\r\nContent-Type: application/json\r\nX-CSRF-Token: %s\r\n",
             s->cookie, s->csrf);
    struct tu_resp r;
    tu_request(srv.port, method, path, h, body, &r);
    if (r.status != want) fail_msg("%s %s: %d, want %d: %s", method, path, r.status, want, r.body);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    tu_resp_free(&r);
    return j;
}

/* The id of the pending grant of role to username, from the list. */
static long long pending_id(const struct session *s, const char *username, const char *role,
                            int *may_confirm)
{
    json_t *j = as_json(s, "GET", "/api/v1/role-requests", NULL, 200);
    long long id = 0;
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(j, "requests"), i, q)
    {
        if (strcmp(json_string_value(json_object_get(q, "username")), username) ||
            strcmp(json_string_value(json_object_get(q, "role")), role))
            continue;
        id = (long long)json_integer_value(json_object_get(q, "id"));
        if (may_confirm) *may_confirm = json_is_true(json_object_get(q, "may_confirm"));
    }
    json_decref(j);
    if (!id) fail_msg("no pending grant of %s to %s", role, username);
    return id;
}

/* A system administrator's grant of a money role waits for a second
 * person, over the API and in the console; a security administrator
 * confirms it; nobody confirms their own request. */
static void test_duties_over_api_and_console(void **state)
{
    (void)state;
    admin_session();
    /* makes tu.security, the server's security administrator, too */
    tu_add_user(&srv, "rev.seed", "reviewer", NULL, "Seed-Review-2026");
    json_t *u =
        as_json(&admin, "POST", "/api/v1/users",
                "{\"username\":\"fin.api\",\"display_name\":\"F\",\"roles\":[\"finance\"]}", 201);
    long long uid = (long long)json_integer_value(json_object_get(u, "id"));
    char fin_temp[32];
    snprintf(fin_temp, sizeof fin_temp, "%s",
             json_string_value(json_object_get(u, "temporary_password")));
    assert_int_equal(json_array_size(json_object_get(u, "roles")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(u, "pending_roles"), 0)),
                        "finance");
    json_decref(u);
    u = as_json(&admin, "POST", "/api/v1/users",
                "{\"username\":\"two.hats\",\"display_name\":\"T\",\"roles\":[\"admin\","
                "\"finance\"]}",
                400);
    assert_string_equal(json_string_value(json_object_get(json_object_get(u, "error"), "field")),
                        "body.roles");
    json_decref(u);
    assert_int_equal(count_users("two.hats"), 0);
    int may = -1;
    long long req = pending_id(&admin, "fin.api", "finance", &may);
    assert_int_equal(may, 0);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/role-requests/%lld/confirm", req);
    json_decref(as_json(&admin, "POST", path, NULL, 403));
    /* nor through an API token of the same account */
    char *tok = tu_token(&srv, "alice", "role.grant user.read");
    char h[300];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", tok);
    free(tok);
    struct tu_resp r;
    tu_request(srv.port, "POST", path, h, "", &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "API token"));
    tu_resp_free(&r);
    /* the security administrator confirms it in the console */
    struct session sec;
    assert_int_equal(signin("tu.security", "Sentinel-Grant-2026", &sec, NULL, 0), 303);
    as(&sec, "GET", "/admin/role-requests", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "fin.api"));
    tu_resp_free(&r);
    char form_path[128];
    snprintf(form_path, sizeof form_path, "/admin/role-requests/%lld/confirm", req);
    as(&sec, "POST", form_path, 1, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "已确认"));
    tu_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/users/%lld", uid);
    u = as_json(&admin, "GET", path, NULL, 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(u, "roles"), 0)),
                        "finance");
    json_decref(u);
    /* the administrator changes the roles on the account's page: a grant
     * that waits is not asked for while the account keeps the password an
     * administrator set (who set it could sign in as the account) */
    snprintf(form_path, sizeof form_path, "/admin/users/%lld/roles", uid);
    as(&admin, "POST", form_path, 1, "&roles=window_clerk&scope=district&scope_id=", &r);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "管理员设置的口令"));
    tu_resp_free(&r);
    struct session fin;
    assert_int_equal(signin("fin.api", fin_temp, &fin, NULL, 0), 303);
    char extra[256];
    char enc[96] = "";
    for (const char *c = fin_temp; *c; c++) /* the password, percent-escaped */
        snprintf(enc + strlen(enc), sizeof enc - strlen(enc), "%%%02X", (unsigned char)*c);
    snprintf(extra, sizeof extra,
             "&current_password=%s&new_password=Ledger-Owner-2026&confirm_password="
             "Ledger-Owner-2026",
             enc);
    as(&fin, "POST", "/account/password", 1, extra, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    /* once the owner has chosen one: removing is at once, a grant waits */
    as(&admin, "POST", form_path, 1, "&roles=window_clerk&scope=district&scope_id=", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "角色已更新"));
    tu_resp_free(&r);
    as(&admin, "POST", form_path, 1,
       "&roles=window_clerk&roles=reviewer&scope=district&scope_id=", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "须由另一人确认后生效"));
    assert_non_null(strstr(r.body, "（待确认）"));
    tu_resp_free(&r);
    as(&admin, "POST", form_path, 1, "&roles=admin&roles=reviewer&scope=district&scope_id=", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "href=\"#roles\""));
    assert_non_null(strstr(r.body, "职责分离"));
    tu_resp_free(&r);
    as(&admin, "GET", "/admin/role-requests", 0, NULL, &r);
    assert_non_null(strstr(r.body, "须由另一人确认")); /* its own request: no confirm button */
    tu_resp_free(&r);
    char out[4096], cerr[4096];
    assert_int_equal(tu_cli(&srv, (const char *[]){"user", "list", "--search", "fin.api", NULL},
                            NULL, out, sizeof out, cerr, sizeof cerr),
                     0);
    assert_non_null(strstr(out, "reviewer?,window_clerk?")); /* waiting, marked so */
    req = pending_id(&sec, "fin.api", "reviewer", &may);
    assert_int_equal(may, 1);
    snprintf(path, sizeof path, "/api/v1/role-requests/%lld/refuse", req);
    json_decref(as_json(&sec, "POST", path, NULL, 200));
    snprintf(path, sizeof path, "/api/v1/users/%lld", uid);
    u = as_json(&admin, "GET", path, NULL, 200);
    /* the reviewer refused; the window clerk's grant still waits */
    assert_int_equal(json_array_size(json_object_get(u, "pending_roles")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(u, "pending_roles"), 0)),
                        "window_clerk");
    json_decref(u);
    /* the API form of the same, and its refusals */
    snprintf(path, sizeof path, "/api/v1/users/%lld/roles", uid);
    u = as_json(&sec, "POST", path, "{\"roles\":[\"reviewer\"],\"scope\":\"district\"}", 200);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(u, "change"), "granted"), 0)),
                        "reviewer");
    json_decref(u);
    json_decref(as_json(&sec, "POST", path, "{\"roles\":\"reviewer\"}", 400));
    json_decref(as_json(&sec, "POST", path, "{\"roles\":[\"reviewer\"],\"scope_id\":5}", 400));
    /* an administrator resets no duty account's password (nor is offered to) */
    snprintf(path, sizeof path, "/api/v1/users/%lld/reset-password", uid);
    json_decref(as_json(&admin, "POST", path, NULL, 403));
    snprintf(path, sizeof path, "/admin/users/%lld", uid);
    as(&admin, "GET", path, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "/reset-password\""));
    assert_non_null(strstr(r.body, "命令行上重置口令"));
    tu_resp_free(&r);
    /* the audit log names what was granted */
    json_t *log =
        as_json(&admin, "GET", "/api/v1/audit?action=user.role_confirm&per_page=1", NULL, 200);
    char *text = json_dumps(log, 0);
    assert_non_null(strstr(text, "finance"));
    free(text);
    json_decref(log);
}

/* A token acts as its account in every four-eyes check, so over the API a
 * token is made for the caller's own account only: an administrator's
 * session cannot mint one for another account (nor for a person holding
 * a money role); the command line can. */
static void test_tokens_for_own_account_only(void **state)
{
    (void)state;
    admin_session();
    tu_add_user(&srv, "other.admin", "admin", NULL, "Other-Harbor-2026");
    json_t *list = as_json(&admin, "GET", "/api/v1/tokens", NULL, 200);
    size_t n = json_array_size(json_object_get(list, "tokens"));
    json_decref(list);
    static const char *const others[] = {"other.admin", "tu.security"};
    for (size_t i = 0; i < 2; i++) {
        char body[200];
        snprintf(body, sizeof body,
                 "{\"username\":\"%s\",\"name\":\"borrowed\",\"permissions\":\"user.read\"}",
                 others[i]);
        json_t *e = as_json(&admin, "POST", "/api/v1/tokens", body, 403);
        json_t *err = json_object_get(e, "error");
        assert_string_equal(json_string_value(json_object_get(err, "field")), "body.username");
        assert_non_null(strstr(json_string_value(json_object_get(err, "message_en")), "own account"));
        json_decref(e);
    }
    list = as_json(&admin, "GET", "/api/v1/tokens", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "tokens")), n); /* none made */
    json_decref(list);
    /* its own: named or left out */
    json_decref(as_json(&admin, "POST", "/api/v1/tokens",
                        "{\"username\":\"alice\",\"name\":\"mine\",\"permissions\":\"user.read\"}",
                        201));
    json_decref(as_json(&admin, "POST", "/api/v1/tokens",
                        "{\"name\":\"mine too\",\"permissions\":\"user.read\"}", 201));
    list = as_json(&admin, "GET", "/api/v1/tokens", NULL, 200);
    size_t i;
    json_t *t;
    int mine = 0;
    json_array_foreach(json_object_get(list, "tokens"), i, t)
    {
        const char *u = json_string_value(json_object_get(t, "username"));
        if (i >= n) {
            assert_string_equal(u, "alice");
            mine++;
        }
    }
    assert_int_equal(mine, 2);
    json_decref(list);
    /* the operator on the command line makes one for another account */
    char *tok = tu_token(&srv, "other.admin", "user.read");
    assert_non_null(tok);
    free(tok);
}

/* The sign-in form's token is one the server made: a value planted as a
 * cookie (from a sibling domain) and copied into the form is refused. */
static void test_signin_form_token_is_the_servers(void **state)
{
    (void)state;
    static const char *const forged[] = {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                         "AAAAAAAAAAAAAAAAAAAAAA.1700000000."
                                         "0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < 2; i++) {
        char hdr[300], body[300];
        snprintf(hdr, sizeof hdr,
                 "Cookie: ql_csrf=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                 forged[i]);
        snprintf(body, sizeof body, "_csrf=%s&username=alice&password=%s", forged[i], admin_new_pw);
        struct tu_resp r;
        tu_request(srv.port, "POST", "/signin", hdr, body, &r);
        assert_int_equal(r.status, 403);
        assert_non_null(strstr(r.body, "登录表单已过期"));
        assert_null(set_cookie(&r, "ql_session"));
        /* the page offers a fresh form with a token of the server's */
        const char *fresh = set_cookie(&r, "ql_csrf");
        assert_non_null(fresh);
        assert_non_null(strstr(r.body, fresh));
        tu_resp_free(&r);
    }
    /* the server's token works (signin() takes it from GET /signin) */
    assert_int_equal(signin("alice", admin_new_pw, NULL, NULL, 0), 303);
}

/* Someone guessing locks the account for browsers that never signed in to
 * it; the owner's browser still signs in with the right password. */
static void test_known_device_over_http(void **state)
{
    (void)state;
    tu_add_user(&srv, "dev.owner", "window_clerk", NULL, "Owner-Device-2026");
    char device[64], again[64];
    assert_int_equal(signin_device("dev.owner", "Owner-Device-2026", NULL, device, NULL, NULL, 0),
                     303);
    assert_int_equal(strlen(device), 43);
    for (int i = 0; i < 5; i++) signin("dev.owner", "Wrong-Guess-1", NULL, NULL, 0);
    assert_int_equal(signin("dev.owner", "Owner-Device-2026", NULL, NULL, 0), 403);
    assert_int_equal(signin_device("dev.owner", "Owner-Device-2026", device, again, NULL, NULL, 0),
                     303);
    assert_string_equal(again, device);
    assert_int_equal(signin("dev.owner", "Owner-Device-2026", NULL, NULL, 0), 403);
}

/* Guessing from one address pauses new sign-ins from it (here the tests'
 * own loopback address: so this runs last). */
static void test_address_throttle_over_http(void **state)
{
    (void)state;
    char device[64];
    assert_int_equal(signin_device("dev.owner", "Owner-Device-2026", NULL, device, NULL, NULL, 0),
                     403); /* still locked from above, for a new browser */
    int n = 0, paused = 0;
    for (; n < 60 && !paused; n++) {
        char user[32];
        snprintf(user, sizeof user, "guess.%d", n);
        char hdr[300], body[300], pre[128];
        struct tu_resp r;
        tu_request(srv.port, "GET", "/signin", NULL, NULL, &r);
        snprintf(pre, sizeof pre, "%s", set_cookie(&r, "ql_csrf"));
        tu_resp_free(&r);
        snprintf(hdr, sizeof hdr,
                 "Cookie: ql_csrf=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n", pre);
        snprintf(body, sizeof body, "_csrf=%s&username=%s&password=Wrong-Guess-1", pre, user);
        tu_request(srv.port, "POST", "/signin", hdr, body, &r);
        paused = r.status == 403 && strstr(r.body, "网络地址") != NULL;
        tu_resp_free(&r);
    }
    if (!paused) fail_msg("60 failures from one address did not pause it");
    assert_true(n <= 31); /* security.lockout_address_after, 30 by default */
    /* the right password from a new browser: paused too */
    assert_int_equal(signin("alice", admin_new_pw, NULL, NULL, 0), 403);
}

/* A concrete path for a route pattern. */
static void concrete(const char *pattern, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = pattern; *p && o + 16 < n;) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *v = !strncmp(p, "{path}", 6)   ? "css/app.css"
                            : !strncmp(p, "{lang}", 6) ? "en"
                                                       : "999999";
            o += (size_t)snprintf(out + o, n - o, "%s", v);
            p = close + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void call_route(const http_route *rt, const char *auth_header, struct tu_resp *r)
{
    char path[256], h[512];
    concrete(rt->pattern, path, sizeof path);
    const char *body = NULL;
    const char *ct = "";
    if (rt->method != HTTP_GET && rt->method != HTTP_DELETE) {
        if (rt->flags & ROUTE_JSON) ct = "Content-Type: application/json\r\n", body = "{}";
        else if (rt->flags & ROUTE_FORM)
            ct = "Content-Type: application/x-www-form-urlencoded\r\n", body = "x=1";
        else body = "";
    }
    /* English, so that the refusal can be told by its words on every page. */
    snprintf(h, sizeof h, "%s%sAccept-Language: en\r\n", auth_header ? auth_header : "", ct);
    tu_request(srv.port, http_method_name(rt->method), path, h, body, r);
}

/* No route answers without a session or token unless it is public on purpose. */
static void test_route_table_needs_auth(void **state)
{
    (void)state;
    int public_routes = 0;
    for (size_t i = 0; i < http_nroutes; i++) {
        const http_route *rt = &http_routes[i];
        struct tu_resp r;
        call_route(rt, NULL, &r);
        const char *loc = tu_header(&r, "Location");
        int to_signin = r.status == 303 && loc && strncmp(loc, "/signin?next=", 13) == 0;
        if (rt->perm == ROUTE_PUBLIC) {
            public_routes++;
            if (r.status == 401 || to_signin)
                fail_msg("public route %s %s asked for sign-in", http_method_name(rt->method),
                         rt->pattern);
        } else if (rt->flags & ROUTE_HTML) {
            if (!to_signin)
                fail_msg("%s %s answered %d to an anonymous visitor, not the sign-in page",
                         http_method_name(rt->method), rt->pattern, r.status);
        } else if (r.status != 401) {
            fail_msg("%s %s answered %d without a token, not 401", http_method_name(rt->method),
                     rt->pattern, r.status);
        }
        tu_resp_free(&r);
    }
    /* The public ones are exactly these. */
    assert_int_equal(public_routes, 6);
}

/* Every route as every role: refused exactly when the role lacks the
 * route's permission. */
static void test_role_matrix(void **state)
{
    (void)state;
    char all[2048];
    perms_format(~(permset)0 >> (64 - P_COUNT), all, sizeof all);
    for (int role = 0; role < ROLE_COUNT; role++) {
        char user[64], pw[64];
        snprintf(user, sizeof user, "m.%s", role_name((enum role)role));
        for (char *c = user; *c; c++)
            if (*c == '_') *c = '-';
        snprintf(pw, sizeof pw, "Matrix-Check-%d-Zz", role);
        const char *scope = role == ROLE_EMPLOYER_HR        ? "employer:91350100M000100Y43"
                            : role == ROLE_TALENT           ? "self"
                            : role == ROLE_HOUSING_OPERATOR ? "operator:OP-1"
                                                            : NULL;
        tu_add_user(&srv, user, role_name((enum role)role), scope, pw);
        char *tok = tu_token(&srv, user, all);
        char h[300];
        snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", tok);
        free(tok);
        for (size_t i = 0; i < http_nroutes; i++) {
            const http_route *rt = &http_routes[i];
            if (rt->perm == ROUTE_PUBLIC) continue;
            struct tu_resp r;
            call_route(rt, h, &r);
            int allowed = rt->perm == ROUTE_SIGNED_IN ||
                          (role_perms((enum role)role) & PERM_BIT(rt->perm));
            /* Refused for want of the route's permission: 403 naming it. A
             * role that holds it may still be refused by its scope (an
             * employer's account cannot register employers), but never
             * for the permission. */
            int perm_refused = r.status == 403 && strstr(r.body, "lacks the permission") &&
                               rt->perm >= 0 && strstr(r.body, perm_name(rt->perm));
            if (allowed && (r.status == 401 || perm_refused))
                fail_msg("%s %s as %s: %d (allowed expected)", http_method_name(rt->method),
                         rt->pattern, role_name((enum role)role), r.status);
            if (!allowed && !perm_refused)
                fail_msg("%s %s as %s: %d (403 for %s expected)", http_method_name(rt->method),
                         rt->pattern, role_name((enum role)role), r.status, perm_name(rt->perm));
            tu_resp_free(&r);
        }
    }
}

static void test_language_switch(void **state)
{
    (void)state;
    struct tu_resp r;
    tu_request(srv.port, "GET", "/lang/en?next=%2Fsignin", NULL, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_string_equal(tu_header(&r, "Location"), "/signin");
    assert_string_equal(set_cookie(&r, "ql_lang"), "en");
    assert_non_null(strstr(r.head, "Max-Age=31536000"));
    tu_resp_free(&r);
    /* Remembered: the cookie wins over the browser's language. */
    tu_request(srv.port, "GET", "/signin", "Cookie: ql_lang=en\r\nAccept-Language: zh-CN\r\n",
               NULL, &r);
    assert_non_null(strstr(r.body, "<html lang=\"en\">"));
    assert_non_null(strstr(r.body, "Sign in to Qianlima"));
    tu_resp_free(&r);
    /* Never a redirect to another site. */
    tu_request(srv.port, "GET", "/lang/zh?next=%2F%2Fevil.example%2F", NULL, NULL, &r);
    assert_string_equal(tu_header(&r, "Location"), "/");
    tu_resp_free(&r);
    tu_request(srv.port, "GET", "/lang/fr", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    tu_resp_free(&r);
}

static void test_security_headers_everywhere(void **state)
{
    (void)state;
    admin_session();
    char h[256];
    snprintf(h, sizeof h, "Cookie: ql_session=%s\r\n", admin.cookie);
    static const char *const paths[] = {"/", "/admin/users", "/admin/roles", "/admin/audit",
                                        "/admin/signins", "/signin", "/static/css/app.css",
                                        "/healthz", "/admin/users/999999", "/nope", "/api/v1/me"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct tu_resp r;
        tu_request(srv.port, "GET", paths[i], h, NULL, &r);
        const char *csp = tu_header(&r, "Content-Security-Policy");
        if (!csp || !strstr(csp, "default-src 'self'") || !strstr(csp, "frame-ancestors 'none'"))
            fail_msg("%s: no or weak Content-Security-Policy", paths[i]);
        assert_string_equal(tu_header(&r, "X-Content-Type-Options"), "nosniff");
        assert_string_equal(tu_header(&r, "X-Frame-Options"), "DENY");
        assert_non_null(tu_header(&r, "Referrer-Policy"));
        tu_resp_free(&r);
    }
}

static void test_logs_pages(void **state)
{
    (void)state;
    admin_session();
    struct tu_resp r;
    as(&admin, "GET", "/admin/signins", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "auth.signin_failed"));
    assert_non_null(strstr(r.body, "auth.signin"));
    assert_null(strstr(r.body, "<code>user.create</code>")); /* sign-ins only */
    /* No password typed at any time is ever shown. */
    assert_null(strstr(r.body, "Wrong-Password-1"));
    tu_resp_free(&r);
    as(&admin, "GET", "/admin/audit?action=user.", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<code>user.create</code>"));
    assert_null(strstr(r.body, "<code>auth.signin</code>"));
    tu_resp_free(&r);
    as(&admin, "GET", "/admin/audit?from=2026-13-01", 0, NULL, &r);
    assert_int_equal(r.status, 400);
    tu_resp_free(&r);
    as(&admin, "GET", "/api/v1/audit?action=auth.&per_page=5", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "entries")), 5);
    assert_true(json_integer_value(json_object_get(j, "total")) > 5);
    json_decref(j);
    tu_resp_free(&r);
}

/* Last: the chain holds after everything above, and a tampered row is named. */
static void test_audit_chain_after_all(void **state)
{
    (void)state;
    char out[8192], err[4096];
    int rc = tu_cli(&srv, (const char *[]){"audit", "verify", NULL}, NULL, out, sizeof out, err,
                    sizeof err);
    if (rc != 0) fail_msg("audit verify: %s %s", out, err);
    assert_non_null(strstr(out, "intact"));
    store *s;
    ql_err e;
    if (store_open(srv.store_url, NULL, &s, &e)) fail_msg("%s", e.en);
    assert_int_equal(store_exec(s, "UPDATE audit_log SET detail = '{}' WHERE seq = 3", NULL, 0,
                                NULL),
                     0);
    store_close(s);
    rc = tu_cli(&srv, (const char *[]){"audit", "verify", NULL}, NULL, out, sizeof out, err,
                sizeof err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "BROKEN at row 3"));
    assert_non_null(strstr(out, "第 3 行"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_table_needs_auth),
        cmocka_unit_test(test_first_signin_forces_password_change),
        cmocka_unit_test(test_wrong_password_and_lockout),
        cmocka_unit_test(test_stolen_cookie_after_signout),
        cmocka_unit_test(test_signout_everywhere),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_console_user_forms),
        cmocka_unit_test(test_api_tokens),
        cmocka_unit_test(test_tokens_cannot_escalate),
        cmocka_unit_test(test_role_matrix),
        cmocka_unit_test(test_language_switch),
        cmocka_unit_test(test_security_headers_everywhere),
        cmocka_unit_test(test_logs_pages),
        cmocka_unit_test(test_duties_over_api_and_console),
        cmocka_unit_test(test_tokens_for_own_account_only),
        cmocka_unit_test(test_signin_form_token_is_the_servers),
        cmocka_unit_test(test_known_device_over_http),
        cmocka_unit_test(test_address_throttle_over_http),
        cmocka_unit_test(test_audit_chain_after_all),
    };
    return cmocka_run_group_tests_name(tu_pg_url() ? "auth (postgres)" : "auth (sqlite)", tests,
                                       setup, teardown);
}
