/* perm.c - the role and permission table. */
#include "auth/perm.h"

#include "core/text.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name, *zh, *en;
} roles[ROLE_COUNT] = {
    [ROLE_TALENT] = {"talent", "人才（申请人）", "Talent (applicant)"},
    [ROLE_EMPLOYER_HR] = {"employer_hr", "用人单位人事", "Employer HR"},
    [ROLE_WINDOW_CLERK] = {"window_clerk", "窗口受理人员", "Window clerk"},
    [ROLE_REVIEWER] = {"reviewer", "审核人员", "Reviewer"},
    [ROLE_FINANCE] = {"finance", "财务人员", "Finance officer"},
    [ROLE_HOUSING_OPERATOR] = {"housing_operator", "房源运营方", "Housing operator"},
    [ROLE_ADMIN] = {"admin", "系统管理员", "Administrator"},
    [ROLE_AUDITOR] = {"auditor", "审计人员", "Auditor"},
    [ROLE_LEADERSHIP] = {"leadership", "领导", "Leadership"},
    [ROLE_SECURITY_ADMIN] = {"security_admin", "安全管理员", "Security administrator"},
};

static const struct {
    const char *name, *zh, *en;
} perms[P_COUNT] = {
    [P_USER_READ] = {"user.read", "查看用户", "View users"},
    [P_USER_MANAGE] = {"user.manage", "管理用户", "Manage users"},
    [P_ROLE_READ] = {"role.read", "查看角色与权限", "View roles and permissions"},
    [P_TOKEN_MANAGE] = {"token.manage", "管理接口令牌", "Manage API tokens"},
    [P_AUDIT_READ] = {"audit.read", "查看操作日志与登录日志", "Read the operation and sign-in logs"},
    [P_AUDIT_VERIFY] = {"audit.verify", "校验审计链", "Verify the audit chain"},
    [P_SYSTEM_METRICS] = {"system.metrics", "读取运行指标", "Read server metrics"},
    [P_SERVICE_VALIDATE] = {"service.validate", "证件号码校验服务", "Identifier checks"},
    [P_REGISTRY_READ] = {"registry.read", "查看登记信息", "Read the registry"},
    [P_REGISTRY_WRITE] = {"registry.write", "维护登记信息", "Maintain the registry"},
    [P_PERSONAL_UNMASK] = {"personal.unmask", "查看未脱敏个人信息", "See personal data unmasked"},
    [P_SUBSIDY_APPLY] = {"subsidy.apply", "申请补贴", "Apply for subsidies"},
    [P_SUBSIDY_ATTEST] = {"subsidy.attest", "单位确认", "Attest employment"},
    [P_WINDOW_ACCEPT] = {"window.accept", "窗口受理", "Accept matters at a window"},
    [P_SUBSIDY_REVIEW] = {"subsidy.review", "审核补贴申请", "Review subsidy applications"},
    [P_POLICY_MANAGE] = {"policy.manage", "管理政策与日历", "Manage policies and the calendar"},
    [P_LEDGER_RUN] = {"ledger.run", "执行月度发放", "Run monthly cycles"},
    [P_LEDGER_APPROVE] = {"ledger.approve", "复核发放批次", "Approve cycles"},
    [P_LEDGER_EXPORT] = {"ledger.export", "导出银行文件与台账", "Export bank files and ledgers"},
    [P_HOUSING_MANAGE] = {"housing.manage", "管理房源与租约", "Manage units and leases"},
    [P_DASHBOARD_READ] = {"dashboard.read", "查看指标看板", "View the dashboard"},
    [P_ROLE_GRANT] = {"role.grant", "授予与撤销角色", "Grant and remove roles"},
    [P_ROLE_CONFIRM] = {"role.confirm", "确认职责角色授予", "Confirm grants of duty roles"},
};

#define B(p) PERM_BIT(p)

/* Who may do what. Scope narrows it further: an employer's HR account sees
 * its own staff only, a talent only their own records (registry.read: their
 * own talent record and leases, and the listed units), an operator its own
 * units and their leases. Window clerks and administrators manage housing
 * district-wide (leases brought to a window, units of any operator).
 *
 * Separation of duties (等保 三员分立): the system administrator (admin)
 * manages accounts and the system, the security administrator grants and
 * removes roles, the auditor reads. A system administrator's grant of a duty
 * role (ROLE_DUTIES) waits until another account confirms it (account.h);
 * the security administrator's takes effect at once. */
static const permset role_table[ROLE_COUNT] = {
    [ROLE_TALENT] = B(P_REGISTRY_READ) | B(P_SUBSIDY_APPLY) | B(P_SERVICE_VALIDATE),
    [ROLE_EMPLOYER_HR] = B(P_REGISTRY_READ) | B(P_REGISTRY_WRITE) | B(P_SUBSIDY_ATTEST) |
                         B(P_SERVICE_VALIDATE),
    [ROLE_WINDOW_CLERK] = B(P_REGISTRY_READ) | B(P_REGISTRY_WRITE) | B(P_HOUSING_MANAGE) |
                          B(P_WINDOW_ACCEPT) | B(P_SERVICE_VALIDATE),
    [ROLE_REVIEWER] = B(P_REGISTRY_READ) | B(P_SUBSIDY_REVIEW) | B(P_PERSONAL_UNMASK) |
                      B(P_SERVICE_VALIDATE),
    [ROLE_FINANCE] = B(P_REGISTRY_READ) | B(P_LEDGER_RUN) | B(P_LEDGER_APPROVE) |
                     B(P_LEDGER_EXPORT) | B(P_SERVICE_VALIDATE),
    [ROLE_HOUSING_OPERATOR] = B(P_REGISTRY_READ) | B(P_HOUSING_MANAGE) | B(P_SERVICE_VALIDATE),
    [ROLE_ADMIN] = B(P_USER_READ) | B(P_USER_MANAGE) | B(P_ROLE_READ) | B(P_TOKEN_MANAGE) |
                   B(P_AUDIT_READ) | B(P_AUDIT_VERIFY) | B(P_SYSTEM_METRICS) |
                   B(P_SERVICE_VALIDATE) | B(P_REGISTRY_READ) | B(P_REGISTRY_WRITE) |
                   B(P_HOUSING_MANAGE) | B(P_POLICY_MANAGE) | B(P_DASHBOARD_READ) |
                   B(P_ROLE_GRANT),
    [ROLE_AUDITOR] = B(P_USER_READ) | B(P_ROLE_READ) | B(P_AUDIT_READ) | B(P_AUDIT_VERIFY) |
                     B(P_REGISTRY_READ) | B(P_DASHBOARD_READ) | B(P_SERVICE_VALIDATE),
    [ROLE_LEADERSHIP] = B(P_DASHBOARD_READ) | B(P_SERVICE_VALIDATE),
    [ROLE_SECURITY_ADMIN] = B(P_USER_READ) | B(P_ROLE_READ) | B(P_ROLE_GRANT) | B(P_ROLE_CONFIRM) |
                            B(P_SERVICE_VALIDATE),
};

static const char *const scopes[] = {"district", "department", "employer", "operator", "self"};

const char *role_name(enum role r)
{
    return (unsigned)r < ROLE_COUNT ? roles[r].name : "?";
}

const char *perm_name(enum perm p)
{
    return (unsigned)p < P_COUNT ? perms[p].name : "?";
}

const char *scope_name(enum scope_kind s)
{
    return (unsigned)s <= SCOPE_SELF ? scopes[s] : "?";
}

const char *role_title(enum role r, int english)
{
    if ((unsigned)r >= ROLE_COUNT) return "?";
    return english ? roles[r].en : roles[r].zh;
}

const char *perm_title(enum perm p, int english)
{
    if ((unsigned)p >= P_COUNT) return "?";
    return english ? perms[p].en : perms[p].zh;
}

int role_parse(const char *s, enum role *out)
{
    for (int i = 0; i < ROLE_COUNT; i++)
        if (strcmp(s, roles[i].name) == 0) {
            *out = (enum role)i;
            return 0;
        }
    return QL_EINVAL;
}

int perm_parse(const char *s, enum perm *out)
{
    for (int i = 0; i < P_COUNT; i++)
        if (strcmp(s, perms[i].name) == 0) {
            *out = (enum perm)i;
            return 0;
        }
    return QL_EINVAL;
}

int scope_parse(const char *s, enum scope_kind *out)
{
    for (int i = 0; i <= SCOPE_SELF; i++)
        if (strcmp(s, scopes[i]) == 0) {
            *out = (enum scope_kind)i;
            return 0;
        }
    return QL_EINVAL;
}

int64_t scope_person_id(const char *scope_id)
{
    size_t n = scope_id ? strlen(scope_id) : 0;
    if (n < 1 || n > 18 || scope_id[0] == '0') return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (scope_id[i] < '0' || scope_id[i] > '9') return 0;
        v = v * 10 + (scope_id[i] - '0');
    }
    return v;
}

permset role_perms(enum role r)
{
    return (unsigned)r < ROLE_COUNT ? role_table[r] : 0;
}

permset roles_perms(unsigned set)
{
    permset p = 0;
    for (int i = 0; i < ROLE_COUNT; i++)
        if (set & (1u << i)) p |= role_table[i];
    return p;
}

int perms_parse(const char *s, permset *out, ql_err *err)
{
    permset set = 0;
    while (*s) {
        size_t n = strcspn(s, " ,");
        if (n) {
            char name[64];
            if (n >= sizeof name)
                return ql_errf(err, QL_EINVAL, "permissions", "unknown permission '%.*s'",
                               "未知权限“%.*s”", (int)text_cut(s, 40), s);
            memcpy(name, s, n);
            name[n] = '\0';
            enum perm p;
            if (perm_parse(name, &p))
                return ql_errf(err, QL_EINVAL, "permissions", "unknown permission '%s'",
                               "未知权限“%s”", name);
            set |= PERM_BIT(p);
        }
        s += n;
        while (*s == ' ' || *s == ',') s++;
    }
    *out = set;
    return 0;
}

void perms_format(permset set, char *out, size_t n)
{
    size_t used = 0;
    if (n) out[0] = '\0';
    for (int i = 0; i < P_COUNT; i++) {
        if (!(set & PERM_BIT(i))) continue;
        int w = snprintf(out + used, n - used, "%s%s", used ? " " : "", perms[i].name);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

void actor_cli(actor *a)
{
    memset(a, 0, sizeof *a);
    a->via = VIA_CLI;
    struct passwd pw, *res = NULL;
    char buf[1024];
    const char *who = "unknown";
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res) who = res->pw_name;
    snprintf(a->username, sizeof a->username, "cli:%s", who);
    snprintf(a->display_name, sizeof a->display_name, "%s", a->username);
    a->perms = ~(permset)0 >> (64 - P_COUNT);
    a->scope = SCOPE_DISTRICT;
}

int actor_same(const actor *a, int64_t other_id, const char *other_label)
{
    if (!a) return 0;
    if (a->user_id || other_id) return a->user_id == other_id;
    char mine[128];
    actor_label(a, mine);
    return other_label && strcmp(mine, other_label) == 0;
}

int actor_can(const actor *a, enum perm p)
{
    return a && a->via != VIA_NONE && (a->perms & PERM_BIT(p)) != 0;
}

int actor_require(const actor *a, enum perm p, ql_err *err)
{
    if (!a || a->via == VIA_NONE)
        return ql_errf(err, QL_EUNAUTH, NULL, "sign in first", "请先登录");
    if (!(a->perms & PERM_BIT(p)))
        return ql_errf(err, QL_EFORBIDDEN, NULL,
                       "your account lacks the permission '%s'%.0s (%s)",
                       "您的账户没有“%.0s%s”权限%.0s", perm_name(p), perm_title(p, 0),
                       perm_title(p, 1));
    return 0;
}

void actor_label(const actor *a, char out[128])
{
    /* an API token is named with its account, so that the log tells a
     * person from a system acting for them */
    if (a && a->via == VIA_TOKEN)
        snprintf(out, 128, "%s (token %lld)", a->username, (long long)a->token_id);
    else snprintf(out, 128, "%s", a && a->username[0] ? a->username : "anonymous");
}
