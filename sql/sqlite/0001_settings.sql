-- Settings of this installation that are kept in the database (key/value).
CREATE TABLE app_setting (
    key        TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 100),
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
