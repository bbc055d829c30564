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
   AND (NOT (scope_id GLOB '[1-9]*' AND scope_id NOT GLOB '*[^0-9]*' AND length(scope_id) <= 18) OR NOT EXISTS (SELECT 1 FROM talents t WHERE t.id = CAST(users.scope_id AS INTEGER)));

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
-- 'window_clerk' too: the
-- table is rebuilt with the new name in its CHECK (SQLite cannot alter a
-- CHECK constraint).
CREATE TABLE role_requests_new (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'security_admin', 'auditor', 'finance',
                                                  'reviewer', 'talent',
                                                  'window_clerk')),
    requested_by    TEXT NOT NULL,
    requested_by_id INTEGER,
    requested_at    INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'confirmed', 'refused', 'withdrawn')),
    decided_by      TEXT,
    decided_by_id   INTEGER,
    decided_at      INTEGER,
    CHECK ((state = 'pending') = (decided_at IS NULL))
);
INSERT INTO role_requests_new SELECT id, user_id, role, requested_by, requested_by_id,
       requested_at, state, decided_by, decided_by_id, decided_at FROM role_requests;
DROP TABLE role_requests;
ALTER TABLE role_requests_new RENAME TO role_requests;
CREATE UNIQUE INDEX role_requests_pending ON role_requests (user_id, role) WHERE state = 'pending';
CREATE INDEX role_requests_state ON role_requests (state, id);
