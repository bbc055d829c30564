#!/usr/bin/env bash
# make run: serves the console and API on http://127.0.0.1:8080 with a SQLite
# database in var/, and on first start demo accounts (one per role) and a
# small demo district (qianlima demo: 300 talents, 10 employers, 3 housing
# operators with their units and leases, the 2026 calendar, the shipped
# subsidy policies and applications in every state). Settings
# can be changed with QIANLIMA_* variables or ./qianlima.ini (see README),
# e.g. QIANLIMA_SERVER_LISTEN=0.0.0.0:8080 make run
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/release/qianlima}
mkdir -p var
args=()
if [[ -f qianlima.ini && -z ${QIANLIMA_CONFIG:-} ]]; then args+=(--config qianlima.ini); fi
listen=${QIANLIMA_SERVER_LISTEN:-127.0.0.1:8080}
demo_password='Demo-Pass-2026!'

# Demo accounts, created once when the database has none. They keep their
# password (no forced change) so the demo can be walked through at once.
# Separation of duties (docs/security.md): the command line appoints the
# system administrator, the auditor and the first security administrator;
# the reviewers' and finance officers' roles wait for a second person, and
# the security administrator 'security' confirms them (signed in with its
# password; the audit log names it).
if "$BIN" user list "${args[@]}" --log-level warn 2>/dev/null | grep -q '^0 account(s)'; then
  add() { # username roles scope name
    printf '%s\n' "$demo_password" | "$BIN" user add "$1" --roles "$2" --scope "$3" --name "$4" \
      --password-stdin --keep-password --log-level warn "${args[@]}" >/dev/null
  }
  add admin admin district '系统管理员'
  add security security_admin district '安全管理员 周授权'
  add reviewer reviewer district '审核员 李审'
  add reviewer2 reviewer district '审核员 吴复核'
  add clerk window_clerk district '窗口 王受理'
  add finance finance district '财务 赵会计'
  add finance2 finance district '财务 孙复核'
  add auditor auditor district '审计 钱审计'
  add leader leadership district '分管领导'
  add hr.acme employer_hr employer:91350100M000100Y43 '某科技公司人事'
  add operator housing_operator operator:OP-001 '人才公寓运营方'
  # A small district, generated from a fixed seed. Its first employer is the
  # one hr.acme belongs to, its first housing operator (OP-001) the one
  # 'operator' belongs to, its first talent (id 1) the person 'talent' is
  # (an account is bound only to a person the registry holds).
  # --if-empty leaves a registry with data alone.
  "$BIN" demo --people 300 --seed 1 --if-empty --log-level warn "${args[@]}" >/dev/null
  add talent talent self:1 '演示人才'
  printf '%s\n' "$demo_password" | "$BIN" user confirm all --as security --log-level warn \
    "${args[@]}" >/dev/null
  created=1
fi

cat <<MSG

  Qianlima (千里马) is starting on http://$listen
    console   http://$listen/
    health    http://$listen/healthz
    API       http://$listen/api/openapi.json
  Data: ${QIANLIMA_STORE_URL:-var/qianlima.db}, keys: ${QIANLIMA_SECURITY_KEYS_DIR:-var/keys}. Stop with Ctrl-C.
MSG
if [[ ${created:-0} == 1 ]]; then
  cat <<MSG
  Demo accounts (password $demo_password):
    admin, security, reviewer, reviewer2, clerk, finance, finance2, auditor, leader,
    hr.acme, operator, talent
  Demo data: 300 talents, 10 employers, 3 housing operators, 18 units and their
  leases, the 2026 calendar, three subsidy policies and applications in every
  state (hr.acme belongs to the first employer, operator to OP-001, and
  talent is the first talent: sign in as talent to apply, hr.acme to attest,
  clerk to accept, reviewer to review, reviewer2 to approve after the notice;
  finance computes a month's cycle at /cycles, finance2 approves and exports
  it; security grants roles, admin manages accounts, auditor reads the logs).
MSG
fi
echo
exec "$BIN" serve "${args[@]}"
