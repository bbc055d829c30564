-- Subsidy policies (src/policy/rules.h, docs/policy.md): each stored policy
-- file is the whole text of one programme, all its versions; the text is
-- kept as written, with its SHA-256. A file is saved as a draft, and
-- activated only when it parses and its static checks find no error; the
-- file it replaces is retired. At most one file per programme is active.
-- Rows are never deleted: a decision names the file and version it used.
CREATE TABLE policy_files (
    id           INTEGER PRIMARY KEY,
    programme    TEXT NOT NULL CHECK (length(programme) BETWEEN 1 AND 40),
    name_zh      TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 300),
    name_en      TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 300),
    source       TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 262144),
    digest       TEXT NOT NULL CHECK (length(digest) = 64),
    file_name    TEXT NOT NULL DEFAULT '' CHECK (length(file_name) <= 255),
    versions     TEXT NOT NULL DEFAULT '' CHECK (length(versions) <= 2000),
    errors       INTEGER NOT NULL CHECK (errors >= 0),
    warnings     INTEGER NOT NULL CHECK (warnings >= 0),
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'retired')),
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '' CHECK (length(created_by) <= 128),
    activated_at INTEGER,
    activated_by TEXT NOT NULL DEFAULT '' CHECK (length(activated_by) <= 128),
    UNIQUE (programme, digest),
    -- a file with errors is never active
    CHECK (status <> 'active' OR errors = 0),
    CHECK ((status = 'draft') = (activated_at IS NULL))
);
CREATE UNIQUE INDEX policy_files_active ON policy_files (programme) WHERE status = 'active';
CREATE INDEX policy_files_programme ON policy_files (programme, id);
