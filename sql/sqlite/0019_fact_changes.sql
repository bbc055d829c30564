-- Registry changes that reach back (issue 12, item 3): an index of the
-- changes of the facts the monthly cycle reads, so that a change with an
-- effective date in a month already paid is corrected in the next cycle
-- (src/registry/facts_log.h, src/ledger/corrections.h; docs/ledger.md).
--
-- The day from which the person owns housing in Shanghai. A home recorded
-- before this migration counts from the day its record last changed (the
-- registry kept no date; Asia/Shanghai, UTC+8).
ALTER TABLE talents ADD COLUMN housing_from INTEGER
    CHECK (housing_from IS NULL OR owns_housing = 1);
UPDATE talents SET housing_from = (updated_at + 28800) / 86400 WHERE owns_housing = 1;

-- The index of registry changes that reach back: one row for every write
-- of a fact the cycle reads whose effective date falls in a month that has
-- a cycle already (the month, or a later one, computed or being computed):
-- a lease's period or rent (fact 'lease'), a person's employment
-- ('employment'), the day from which they own housing ('housing'). Written
-- in the transaction of the change, on every path that changes a person
-- already registered (a change in a month no cycle has reached needs no row:
-- that month's cycle reads it; the audit log keeps every change). effective
-- is the first day whose facts differ; consumed_by is the cycle whose
-- corrections took it in; facts_was and facts_now are the facts
-- before and after (JSON).
CREATE TABLE fact_changes (
    id          INTEGER PRIMARY KEY,
    talent_id   INTEGER NOT NULL REFERENCES talents (id),
    fact        TEXT NOT NULL CHECK (fact IN ('lease', 'employment', 'housing')),
    effective   INTEGER NOT NULL,
    source_type TEXT NOT NULL CHECK (source_type IN ('lease', 'talent')),
    source_id   INTEGER NOT NULL,
    action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 40),
    facts_was   TEXT NOT NULL,
    facts_now   TEXT NOT NULL,
    summary_en  TEXT NOT NULL CHECK (length(summary_en) <= 1000),
    summary_zh  TEXT NOT NULL CHECK (length(summary_zh) <= 1000),
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    consumed_by INTEGER REFERENCES cycles (id)
);
-- What the next cycle reads: the changes waiting for a correction, by
-- person (partial: a change leaves it once a cycle has taken it in).
CREATE INDEX fact_changes_pending ON fact_changes (talent_id, effective, id)
    WHERE consumed_by IS NULL;

-- The changes an adjustment (a correction of an earlier month) follows from.
CREATE TABLE adjustment_causes (
    adjustment_id INTEGER NOT NULL REFERENCES adjustments (id),
    change_id     INTEGER NOT NULL REFERENCES fact_changes (id),
    PRIMARY KEY (adjustment_id, change_id)
);
CREATE INDEX adjustment_causes_change ON adjustment_causes (change_id);
