-- Failed sign-ins for usernames that have no account, keyed by a hash of the
-- name as typed (lower-cased), so that they lock out exactly as real
-- accounts do and the answers do not tell which usernames exist.
CREATE TABLE signin_throttle (
    key          TEXT PRIMARY KEY,
    failed       INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    locked_until INTEGER,
    updated_at   INTEGER NOT NULL
);
