-- One account per person (docs/security.md, "Accounts bound to a person"):
-- an account of the scope 'self' is bound to one talent (scope_id, the
-- talent's id) and no second account is bound to the same person; binding a
-- person to an account (the role 'talent' with a person) is a grant that
-- waits for a second party, as the duty roles' grants do (role_requests).
--
-- A person is named one way only, by a talent the registry holds: a
-- scope_id written otherwise ('01', '+1', ' 1') or naming nobody is
-- unbound (''), the account seeing nothing until it is bound again, which
-- waits for a second party.
UPDATE users SET scope_id = ''
 WHERE scope_kind = 'self' AND scope_id <> ''
   AND (CASE WHEN scope_id ~ '^[1-9][0-9]{0,17}$'
             THEN NOT EXISTS (SELECT 1 FROM talents t WHERE t.id = users.scope_id::bigint)
             ELSE TRUE END);

-- Accounts that shared a person before this migration: the oldest keeps the
-- binding; each later one is disabled and its scope_id kept as
-- 'duplicate:<person>:<account id>' (bound to nobody) for an administrator
-- to settle. The service refuses a second binding first; the index is the
-- schema's own guard.
UPDATE users SET disabled = 1,
       scope_id = 'duplicate:' || scope_id || ':' || id
 WHERE scope_kind = 'self' AND scope_id <> ''
   AND id > (SELECT min(u.id) FROM users u
              WHERE u.scope_kind = 'self' AND u.scope_id = users.scope_id);
CREATE UNIQUE INDEX users_one_per_person ON users (scope_id)
    WHERE scope_kind = 'self' AND scope_id <> '';

-- role_requests takes the grants of 'talent' (binding a person) and
-- 'window_clerk' too.
ALTER TABLE role_requests DROP CONSTRAINT role_requests_role_check;
ALTER TABLE role_requests ADD CONSTRAINT role_requests_role_check
    CHECK (role IN ('admin', 'security_admin', 'auditor', 'finance', 'reviewer', 'talent',
                    'window_clerk'));
