-- Accounts: users with roles and a scope, sessions, API tokens, and the
-- hash-chained audit log. Times are Unix seconds (UTC).
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 3 AND 64),
    display_name         TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash        TEXT NOT NULL,
    scope_kind           TEXT NOT NULL CHECK (scope_kind IN ('district', 'department', 'employer', 'operator', 'self')),
    scope_id             TEXT NOT NULL DEFAULT '',
    disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
    failed_signins       INTEGER NOT NULL DEFAULT 0 CHECK (failed_signins >= 0),
    locked_until         INTEGER,
    password_changed_at  INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX users_display_name ON users (display_name);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('talent', 'employer_hr', 'window_clerk', 'reviewer', 'finance',
                                          'housing_operator', 'admin', 'auditor', 'leadership')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permissions  TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Append-only. Each row's hash is a keyed hash (BLAKE2b or HMAC-SM3, key
-- file outside the database) over its fields and the previous row's hash.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY CHECK (seq >= 1),
    at_ms         INTEGER NOT NULL,
    actor_id      INTEGER,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL DEFAULT '',
    object_id     TEXT NOT NULL DEFAULT '',
    before_digest TEXT NOT NULL DEFAULT '',
    after_digest  TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '{}',
    ip            TEXT NOT NULL DEFAULT '',
    request_id    TEXT NOT NULL DEFAULT '',
    algo          TEXT NOT NULL CHECK (algo IN ('blake2b', 'sm3')),
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, seq);
