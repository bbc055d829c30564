-- Separation of duties (等保 三员分立, four eyes on money), sign-in
-- throttling per client address and per known device, password history.

-- The security administrator's role: user_roles is rebuilt with the new name
-- in its CHECK (SQLite cannot alter a CHECK constraint).
CREATE TABLE user_roles_new (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('talent', 'employer_hr', 'window_clerk', 'reviewer', 'finance',
                                          'housing_operator', 'admin', 'auditor', 'leadership',
                                          'security_admin')),
    PRIMARY KEY (user_id, role)
);
INSERT INTO user_roles_new (user_id, role) SELECT user_id, role FROM user_roles;
DROP TABLE user_roles;
ALTER TABLE user_roles_new RENAME TO user_roles;

-- An account holds at most one duty role (system administrator, security
-- administrator, auditor, finance, reviewer). The service refuses it first;
-- this is the schema's own guard. Accounts that held two before this
-- migration keep them until their roles are next changed.
CREATE TRIGGER user_roles_one_duty BEFORE INSERT ON user_roles
WHEN NEW.role IN ('admin', 'security_admin', 'auditor', 'finance', 'reviewer')
 AND EXISTS (SELECT 1 FROM user_roles WHERE user_id = NEW.user_id AND role <> NEW.role
             AND role IN ('admin', 'security_admin', 'auditor', 'finance', 'reviewer'))
BEGIN
    SELECT RAISE(ABORT, 'separation of duties: an account holds at most one duty role');
END;
CREATE TRIGGER user_roles_one_duty_update BEFORE UPDATE OF role, user_id ON user_roles
WHEN NEW.role IN ('admin', 'security_admin', 'auditor', 'finance', 'reviewer')
 AND EXISTS (SELECT 1 FROM user_roles WHERE user_id = NEW.user_id AND role <> NEW.role
             AND role IN ('admin', 'security_admin', 'auditor', 'finance', 'reviewer'))
BEGIN
    SELECT RAISE(ABORT, 'separation of duties: an account holds at most one duty role');
END;

-- Grants of duty roles that wait for a second person. requested_by_id is
-- NULL when the command line asked (it is no account).
CREATE TABLE role_requests (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'security_admin', 'auditor', 'finance',
                                                  'reviewer')),
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
CREATE UNIQUE INDEX role_requests_pending ON role_requests (user_id, role) WHERE state = 'pending';
CREATE INDEX role_requests_state ON role_requests (state, id);

-- When the last failed sign-in of an account was: failures in a row count
-- within security.lockout_minutes of each other, as in signin_throttle.
ALTER TABLE users ADD COLUMN failed_at INTEGER;

-- signin_throttle now also counts failures per client address ('a:' keys);
-- rows quiet for longer than the lock-out are dead and pruned.
CREATE INDEX signin_throttle_updated ON signin_throttle (updated_at);

-- Browsers that signed in to an account before (a random token in a
-- long-lived cookie, kept here as its hash): they may still sign in while the
-- account or their address is locked by someone else's guessing.
CREATE TABLE signin_devices (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failed       INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX signin_devices_user ON signin_devices (user_id, last_used_at);
CREATE INDEX signin_devices_expires ON signin_devices (expires_at);

-- The hashes of the last passwords each account chose, which a new one may
-- not repeat.
CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    set_at        INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, id);
