-- Budgets (src/ledger/cycle.h): how much a programme may pay in a calendar
-- year, set by finance. A cycle is approved only when what the year's cycles
-- pay, this one included, stays within each of its programmes' budgets.
CREATE TABLE budgets (
    programme  TEXT NOT NULL CHECK (length(programme) BETWEEN 1 AND 40),
    year       INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    set_by     TEXT NOT NULL DEFAULT '',
    set_at     BIGINT NOT NULL,
    PRIMARY KEY (programme, year)
);
