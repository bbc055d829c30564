/* roles.c - changing an account's roles and scope, and the grants of duty
 * roles that wait for a second person (account.h, "roles and the
 * separation of duties"). */
#include "account/internal.h"

#include <stdio.h>
#include <string.h>

json_t *account_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (int i = 0; i < ROLE_COUNT; i++)
        if (roles & (1u << i)) json_array_append_new(a, json_string(role_name((enum role)i)));
    return a;
}

/* The command line acting by itself (not an account signed in through it). */
static int bare_cli(const actor *a)
{
    return a->via == VIA_CLI && a->user_id == 0;
}

int account_binds_person(enum scope_kind scope, const char *scope_id)
{
    return scope == SCOPE_SELF && scope_id && *scope_id;
}

int account_split_grants(store *s, const actor *a, unsigned roles, int bound, unsigned *alone,
                         unsigned *requested)
{
    /* the grants that wait unless a may confirm them: the duty roles and
     * the window clerk (ROLE_VOUCHED), and binding an account to a person
     * (one account per person: a second party vouches that the account is
     * the person's) */
    unsigned held_back = ROLE_VOUCHED | (bound ? ROLE_PERSON : 0);
    *alone = roles & ~held_back;
    *requested = 0;
    for (int i = 0; i < ROLE_COUNT; i++) {
        unsigned bit = 1u << i;
        if (!(roles & bit & held_back)) continue;
        int now = 0;
        if (bare_cli(a)) {
            /* the command line sets the system up: its administrators and
             * auditors, and the first security administrator */
            if (i == ROLE_ADMIN || i == ROLE_AUDITOR) {
                now = 1;
            } else if (i == ROLE_SECURITY_ADMIN) {
                int64_t n = 0;
                int rc = store_query_int(s,
                                         "SELECT count(*) FROM user_roles r JOIN users u ON "
                                         "u.id = r.user_id WHERE r.role = 'security_admin' AND "
                                         "u.disabled = 0",
                                         NULL, 0, &n);
                if (rc) return rc;
                now = n == 0;
            }
        } else {
            now = actor_can(a, P_ROLE_CONFIRM);
        }
        if (now)
            *alone |= bit;
        else
            *requested |= bit;
    }
    return 0;
}

int account_request_roles(store *s, const actor *a, int64_t id, unsigned requested, int64_t now)
{
    char who[128];
    actor_label(a, who);
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (!(requested & (1u << i))) continue;
        int64_t n = 0;
        int rc =
            store_query_int(s,
                            "SELECT count(*) FROM role_requests WHERE user_id = $1 AND "
                            "role = $2 AND state = 'pending'",
                            (store_val[]){SV_INT(id), SV_TEXT(role_name((enum role)i))}, 2, &n);
        if (!rc && !n)
            rc =
                store_exec(s,
                           "INSERT INTO role_requests (user_id, role, requested_by, "
                           "requested_by_id, requested_at) VALUES ($1, $2, $3, $4, $5)",
                           (store_val[]){SV_INT(id), SV_TEXT(role_name((enum role)i)), SV_TEXT(who),
                                         a->user_id ? SV_INT(a->user_id) : SV_NULL, SV_INT(now)},
                           5, NULL);
        if (rc) return rc;
    }
    return 0;
}

/* The duty roles waiting for a second person on account id. */
static int pending_roles(store *s, int64_t id, unsigned *out)
{
    *out = 0;
    store_rows *r;
    int rc =
        store_query(s, "SELECT role FROM role_requests WHERE user_id = $1 AND state = 'pending'",
                    (store_val[]){SV_INT(id)}, 1, &r);
    if (rc) return rc;
    while ((rc = store_step(r)) == 1) {
        enum role role;
        if (role_parse(store_col_text(r, 0, NULL), &role) == 0) *out |= 1u << role;
    }
    store_rows_close(r);
    return rc < 0 ? rc : 0;
}

static int no_account(int64_t id, ql_err *err)
{
    return ql_errf(err, QL_ENOTFOUND, "id", "there is no account %lld", "没有编号为 %lld 的账户",
                   (long long)id);
}

/* ---- changing roles ---------------------------------------------------- */

struct roles_ctx {
    const actor *a;
    int64_t id;
    unsigned roles;
    enum scope_kind scope;
    const char *scope_id;
    struct role_change ch;
    ql_err *err;
};

/* Marks the pending requests of id for roles in set as state, decided by a. */
static int close_requests(store *s, const actor *a, int64_t id, unsigned set, const char *state,
                          int64_t now)
{
    char who[128];
    actor_label(a, who);
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (!(set & (1u << i))) continue;
        int rc = store_exec(s,
                            "UPDATE role_requests SET state = $1, decided_by = $2, "
                            "decided_by_id = $3, decided_at = $4 WHERE user_id = $5 AND "
                            "role = $6 AND state = 'pending'",
                            (store_val[]){SV_TEXT(state), SV_TEXT(who),
                                          a->user_id ? SV_INT(a->user_id) : SV_NULL, SV_INT(now),
                                          SV_INT(id), SV_TEXT(role_name((enum role)i))},
                            6, NULL);
        if (rc) return rc;
    }
    /* a person's binding withdrawn or refused: the account is bound to
     * nobody (else it would keep the person from an account of their own) */
    if ((set & ROLE_PERSON) && strcmp(state, "confirmed"))
        return account_unbind_person(s, id, now);
    return 0;
}

int account_unbind_person(store *s, int64_t id, int64_t now)
{
    return store_exec(s,
                      "UPDATE users SET scope_id = '', updated_at = $1 WHERE id = $2 AND "
                      "scope_kind = 'self' AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE "
                      "r.user_id = users.id AND r.role = 'talent')",
                      (store_val[]){SV_INT(now), SV_INT(id)}, 2, NULL);
}

int account_withdraw_requests(store *s, const actor *a, int64_t id, int64_t now,
                              unsigned *withdrawn)
{
    int rc = pending_roles(s, id, withdrawn);
    if (!rc) rc = close_requests(s, a, id, *withdrawn, "withdrawn", now);
    return rc;
}

int account_keeps_security_admin(store *s, int64_t id, const char *field, ql_err *err)
{
    static const char held[] = "SELECT count(*) FROM user_roles r JOIN users u ON u.id = "
                               "r.user_id WHERE r.role = 'security_admin' AND u.disabled = 0";
    int64_t mine = 0, all = 0;
    char sql[256];
    snprintf(sql, sizeof sql, "%s AND u.id = $1", held);
    int rc = store_query_int(s, sql, (store_val[]){SV_INT(id)}, 1, &mine);
    if (!rc && mine) rc = store_query_int(s, held, NULL, 0, &all);
    if (rc) return rc;
    if (!mine || all > 1) return 0;
    return ql_errf(err, QL_ECONFLICT, field,
                   "this is the last security administrator: appoint another one first, or "
                   "nobody could grant roles",
                   "这是最后一名安全管理员：请先任命另一名安全管理员，否则无人能够授予角色");
}

static int set_roles_body(store *s, void *arg)
{
    struct roles_ctx *x = arg;
    memset(&x->ch, 0, sizeof x->ch);
    actor t;
    memset(&t, 0, sizeof t);
    int rc = auth_load_user(s, x->id, &t, NULL);
    if (rc == QL_ENOTFOUND) return no_account(x->id, x->err);
    if (rc) return rc;
    /* an API token manages only accounts within its own permissions, before
     * and after */
    if ((rc = account_may_manage_roles(x->a, t.roles | x->roles, x->err))) return rc;
    unsigned pending;
    if ((rc = pending_roles(s, x->id, &pending))) return rc;
    const char *new_id = x->scope_id ? x->scope_id : "";
    int scope_changed = t.scope != x->scope || strcmp(t.scope_id, new_id) != 0;
    if (scope_changed && (rc = account_person_free(s, x->scope, new_id, x->id, x->err))) return rc;
    unsigned added = x->roles & ~t.roles, removed = t.roles & ~x->roles;
    unsigned withdrawn = pending & ~x->roles;
    /* bound to another person (or to one at all): the binding is granted
     * anew, and a request for the old one is void */
    if (scope_changed && (x->roles & ROLE_PERSON) && account_binds_person(x->scope, new_id)) {
        removed |= t.roles & ROLE_PERSON;
        added |= ROLE_PERSON;
        withdrawn |= pending & ROLE_PERSON;
        pending &= ~ROLE_PERSON;
    }
    if ((removed & (1u << ROLE_SECURITY_ADMIN)) &&
        (rc = account_keeps_security_admin(s, x->id, "roles", x->err)))
        return rc;
    unsigned alone, requested;
    if ((rc = account_split_grants(s, x->a, added, account_binds_person(x->scope, new_id), &alone,
                                   &requested)))
        return rc;
    requested &= ~pending; /* asked for already */
    /* an administrator who set the account's password (created or reset
     * it) knows it until the owner chooses one: a grant asked for before
     * that would reach an account the asker can sign in as */
    if (requested && t.must_change_password && !bare_cli(x->a))
        return ql_errf(x->err, QL_ECONFLICT, "roles",
                       "%s still has the password an administrator set: ask for this role once "
                       "its owner has signed in and chosen a password",
                       "%s 仍在使用管理员设置的口令：请在账户本人登录并设置口令后再申请该角色",
                       t.username);
    if (!alone && !removed && !requested && !withdrawn && !scope_changed) return 0;

    json_t *before = NULL, *after = NULL;
    if ((rc = account_user_state(s, x->id, &before))) return rc;
    int64_t now = auth_now();
    for (int i = 0; !rc && i < ROLE_COUNT; i++)
        if (removed & (1u << i))
            rc =
                store_exec(s, "DELETE FROM user_roles WHERE user_id = $1 AND role = $2",
                           (store_val[]){SV_INT(x->id), SV_TEXT(role_name((enum role)i))}, 2, NULL);
    for (int i = 0; !rc && i < ROLE_COUNT; i++)
        if (alone & (1u << i))
            rc =
                store_exec(s, "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                           (store_val[]){SV_INT(x->id), SV_TEXT(role_name((enum role)i))}, 2, NULL);
    /* granted here by someone who may: a request for it is settled too */
    if (!rc) rc = close_requests(s, x->a, x->id, alone & pending, "confirmed", now);
    if (!rc) rc = close_requests(s, x->a, x->id, withdrawn, "withdrawn", now);
    if (!rc) rc = account_request_roles(s, x->a, x->id, requested, now);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE users SET scope_kind = $1, scope_id = $2, updated_at = $3 "
                        "WHERE id = $4",
                        (store_val[]){SV_TEXT(scope_name(x->scope)), SV_TEXT(new_id), SV_INT(now),
                                      SV_INT(x->id)},
                        4, NULL);
    if (!rc) rc = account_user_state(s, x->id, &after);
    if (!rc) {
        json_t *d = json_pack(
            "{s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:s}", "roles_granted", account_roles_json(alone),
            "roles_requested", account_roles_json(requested), "roles_removed",
            account_roles_json(removed), "requests_withdrawn", account_roles_json(withdrawn),
            "scope_before", scope_name(t.scope), "scope_id_before", t.scope_id, "scope_after",
            scope_name(x->scope), "scope_id_after", new_id);
        rc = account_audit(s, x->a, "user.roles", "user", x->id, before, after, d, x->err);
    }
    json_decref(before);
    json_decref(after);
    if (!rc) x->ch = (struct role_change){alone, removed, requested, withdrawn};
    return rc;
}

int account_user_set_roles(store *s, const actor *a, int64_t id, unsigned roles,
                           enum scope_kind scope, const char *scope_id, struct role_change *out,
                           ql_err *err)
{
    if (out) memset(out, 0, sizeof *out);
    int rc = actor_require(a, P_ROLE_GRANT, err);
    if (rc) return rc;
    if (a->user_id && a->user_id == id)
        return ql_errf(err, QL_EFORBIDDEN, "roles",
                       "nobody changes their own roles: ask a security administrator",
                       "不能修改自己的角色：请联系安全管理员");
    if ((rc = account_check_roles_scope(roles, scope, scope_id, err))) return rc;
    struct roles_ctx x = {
        .a = a, .id = id, .roles = roles, .scope = scope, .scope_id = scope_id, .err = err};
    rc = account_write_tx(s, set_roles_body, &x);
    if (!rc && out) *out = x.ch;
    return rc;
}

/* ---- pending grants ---------------------------------------------------- */

/* Returns 0 if a may confirm a request asked for by (by_id, by) for
 * account user_id, else QL_EFORBIDDEN (or QL_EUNAUTH) with the reason. */
static int may_confirm(const actor *a, int64_t user_id, int64_t by_id, const char *by, ql_err *err)
{
    if (!a || a->via == VIA_NONE)
        return ql_errf(err, QL_EUNAUTH, NULL, "sign in first", "请先登录");
    if (a->via == VIA_TOKEN)
        return ql_errf(err, QL_EFORBIDDEN, "id",
                       "a grant is confirmed by a person signed in, not by an API token",
                       "角色授予须由登录的人员确认，不能使用接口令牌");
    if (!a->user_id)
        return ql_errf(err, QL_EFORBIDDEN, "id",
                       "the command line is no second person: confirm as an account "
                       "(qianlima user confirm ID --as USERNAME)",
                       "命令行本身不能作为第二人确认：请以账户身份确认（qianlima user confirm ID "
                       "--as 用户名）");
    if (a->user_id == user_id)
        return ql_errf(err, QL_EFORBIDDEN, "id", "nobody confirms a grant to their own account",
                       "不能确认授予自己账户的角色");
    if (actor_same(a, by_id, by))
        return ql_errf(err, QL_EFORBIDDEN, "id",
                       "%s asked for this grant: another person confirms it",
                       "该授予由 %s 提出：须由另一人确认", by);
    if (actor_can(a, P_ROLE_CONFIRM)) return 0;
    if (!actor_can(a, P_ROLE_GRANT)) return actor_require(a, P_ROLE_CONFIRM, err);
    if (!by_id)
        return ql_errf(err, QL_EFORBIDDEN, "id",
                       "a grant asked for on the command line is confirmed by a security "
                       "administrator",
                       "在命令行上提出的角色授予须由安全管理员确认");
    return 0;
}

struct decide_ctx {
    const actor *a;
    int64_t id;
    int confirm;
    ql_err *err;
};

static int decide_body(store *s, void *arg)
{
    struct decide_ctx *x = arg;
    store_rows *r;
    int rc = store_query(s,
                         "SELECT user_id, role, requested_by, COALESCE(requested_by_id, 0) "
                         "FROM role_requests WHERE id = $1 AND state = 'pending'",
                         (store_val[]){SV_INT(x->id)}, 1, &r);
    if (rc) return rc;
    int64_t uid = 0, by_id = 0;
    char role_s[32] = "", by[128] = "";
    if ((rc = store_step(r)) == 1) {
        uid = store_col_int(r, 0);
        snprintf(role_s, sizeof role_s, "%s", store_col_text(r, 1, NULL));
        snprintf(by, sizeof by, "%s", store_col_text(r, 2, NULL));
        by_id = store_col_int(r, 3);
    }
    store_rows_close(r);
    if (rc < 0) return rc;
    if (rc == 0)
        return ql_errf(x->err, QL_ENOTFOUND, "id", "there is no pending grant %lld",
                       "没有编号为 %lld 的待确认角色授予", (long long)x->id);
    enum role role = ROLE_ADMIN;
    role_parse(role_s, &role);
    actor t;
    memset(&t, 0, sizeof t);
    if ((rc = auth_load_user(s, uid, &t, NULL))) return rc;
    const char *state = "refused";
    if (x->confirm) {
        if ((rc = may_confirm(x->a, uid, by_id, by, x->err))) return rc;
        ql_err why;
        if (account_check_roles_scope(t.roles | (1u << role), t.scope, t.scope_id, &why))
            return ql_errf(x->err, QL_ECONFLICT, "roles", "%s no longer fits: %s%.0s",
                           "该授予已不再适用：%.0s%.0s%s", role_s, why.en, why.zh);
        state = "confirmed";
    } else if (actor_same(x->a, by_id, by)) {
        state = "withdrawn"; /* the one who asked takes it back */
    }
    json_t *before = NULL, *after = NULL;
    if ((rc = account_user_state(s, uid, &before))) return rc;
    int64_t now = auth_now();
    if (x->confirm && !(t.roles & (1u << role)))
        rc = store_exec(s, "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                        (store_val[]){SV_INT(uid), SV_TEXT(role_s)}, 2, NULL);
    char who[128];
    actor_label(x->a, who);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE role_requests SET state = $1, decided_by = $2, decided_by_id = $3, "
                        "decided_at = $4 WHERE id = $5",
                        (store_val[]){SV_TEXT(state), SV_TEXT(who),
                                      x->a->user_id ? SV_INT(x->a->user_id) : SV_NULL, SV_INT(now),
                                      SV_INT(x->id)},
                        5, NULL);
    if (!rc && x->confirm)
        rc = store_exec(s, "UPDATE users SET updated_at = $1 WHERE id = $2",
                        (store_val[]){SV_INT(now), SV_INT(uid)}, 2, NULL);
    if (!rc && !x->confirm && role == ROLE_TALENT) rc = account_unbind_person(s, uid, now);
    if (!rc) rc = account_user_state(s, uid, &after);
    if (!rc) {
        unsigned bit = 1u << role;
        json_t *d =
            json_pack("{s:I, s:s, s:I, s:o, s:o, s:o, s:s, s:s}", "request", (json_int_t)x->id,
                      "requested_by", by, "requested_by_id", (json_int_t)by_id, "roles_granted",
                      account_roles_json(x->confirm ? bit : 0), "roles_refused",
                      account_roles_json(x->confirm ? 0 : bit), "roles_removed", json_array(),
                      "scope", scope_name(t.scope), "scope_id", t.scope_id);
        rc = account_audit(s, x->a, x->confirm ? "user.role_confirm" : "user.role_refuse", "user",
                           uid, before, after, d, x->err);
    }
    json_decref(before);
    json_decref(after);
    return rc;
}

int account_role_decide(store *s, const actor *a, int64_t request_id, int confirm, ql_err *err)
{
    int rc = actor_require(a, P_ROLE_GRANT, err);
    if (rc) return rc;
    struct decide_ctx x = {a, request_id, confirm ? 1 : 0, err};
    return account_write_tx(s, decide_body, &x);
}

int account_role_requests(store *s, const actor *a, int64_t user_id, json_t **rows, ql_err *err)
{
    int rc = actor_can(a, P_ROLE_GRANT) ? 0 : actor_require(a, P_USER_READ, err);
    if (rc) return rc;
    store_rows *r;
    rc = store_query(s,
                     "SELECT q.id, q.user_id, u.username, u.display_name, q.role, q.requested_by, "
                     "COALESCE(q.requested_by_id, 0), q.requested_at FROM role_requests q "
                     "JOIN users u ON u.id = q.user_id WHERE q.state = 'pending' AND "
                     "($1 = 0 OR q.user_id = $1) ORDER BY q.id",
                     (store_val[]){SV_INT(user_id)}, 1, &r);
    if (rc) return rc;
    json_t *list = json_array();
    while ((rc = store_step(r)) == 1) {
        char at[32];
        account_time_text(store_col_int(r, 7), at);
        int64_t uid = store_col_int(r, 1), by_id = store_col_int(r, 6);
        const char *by = store_col_text(r, 5, NULL);
        ql_err ignore;
        int can = actor_can(a, P_ROLE_GRANT) && may_confirm(a, uid, by_id, by, &ignore) == 0;
        json_array_append_new(
            list, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:b}", "id",
                            (json_int_t)store_col_int(r, 0), "user_id", (json_int_t)uid, "username",
                            store_col_text(r, 2, NULL), "display_name", store_col_text(r, 3, NULL),
                            "role", store_col_text(r, 4, NULL), "requested_by", by, "requested_at",
                            at, "may_confirm", can));
    }
    store_rows_close(r);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *rows = list;
    return 0;
}
