-- The working-day calendar (src/core/calendar.h, docs/calendar.md): one row
-- per loaded year, with the file it came from, and its off days and worked
-- weekend days. Days are day numbers (days since 1970-01-01). A year is
-- replaced as a whole, in one transaction, by `qianlima calendar load`; a
-- year without a row here is not loaded, and nothing guesses its days.
CREATE TABLE calendar_years (
    year       INTEGER PRIMARY KEY CHECK (year BETWEEN 1900 AND 9999),
    source     TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 255),
    digest     TEXT NOT NULL CHECK (length(digest) = 64),
    off_days   INTEGER NOT NULL CHECK (off_days BETWEEN 0 AND 366),
    work_days  INTEGER NOT NULL CHECK (work_days BETWEEN 0 AND 366),
    loaded_at  BIGINT NOT NULL,
    loaded_by  TEXT NOT NULL DEFAULT '' CHECK (length(loaded_by) <= 128)
);

CREATE TABLE calendar_days (
    day   INTEGER PRIMARY KEY,
    year  INTEGER NOT NULL REFERENCES calendar_years (year) ON DELETE CASCADE,
    kind  TEXT NOT NULL CHECK (kind IN ('off', 'work')),
    name  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63)
);
CREATE INDEX calendar_days_year ON calendar_days (year, day);
