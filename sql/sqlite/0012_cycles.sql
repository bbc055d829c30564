-- Monthly disbursement cycles (src/ledger/cycle.h): a cycle freezes, for one
-- month, the inputs of every subsidy that pays in it, computes each
-- entitlement with its trace and policy version, and posts it to the ledger
-- (budget -> payable) under the key entitlement:<month>:<application>. A
-- cycle is computed once: running it again adds nothing (one entitlement
-- per application and cycle; the ledger's keys are unique). The second
-- person who approves a cycle is never the one who computed it.
CREATE TABLE cycles (
    id           INTEGER PRIMARY KEY,
    month        TEXT NOT NULL UNIQUE CHECK (length(month) = 7),
    state        TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'computed', 'approved',
                     'exported', 'reconciled', 'closed')),
    entitlements INTEGER NOT NULL DEFAULT 0 CHECK (entitlements >= 0),
    total_fen    INTEGER NOT NULL DEFAULT 0 CHECK (total_fen >= 0),
    computed_by  TEXT NOT NULL DEFAULT '',
    computed_at  INTEGER,
    approved_by  TEXT NOT NULL DEFAULT '',
    approved_at  INTEGER,
    created_at   INTEGER NOT NULL,
    CHECK (state = 'draft' OR computed_at IS NOT NULL),
    CHECK (approved_by = '' OR approved_by <> computed_by)
);

CREATE TABLE entitlements (
    id             INTEGER PRIMARY KEY,
    cycle_id       INTEGER NOT NULL REFERENCES cycles (id),
    application_id INTEGER NOT NULL REFERENCES applications (id),
    talent_id      INTEGER NOT NULL REFERENCES talents (id),
    programme      TEXT NOT NULL,
    policy_file_id INTEGER REFERENCES policy_files (id),
    policy_version TEXT NOT NULL,
    tier           TEXT NOT NULL,
    payee_type     TEXT NOT NULL CHECK (payee_type IN ('person', 'employer', 'operator')),
    payee_id       INTEGER,
    month_index    INTEGER NOT NULL CHECK (month_index >= 0),
    days           INTEGER NOT NULL CHECK (days BETWEEN 0 AND 31),
    amount_fen     INTEGER NOT NULL CHECK (amount_fen >= 0),
    inputs         TEXT NOT NULL,
    steps          TEXT NOT NULL,
    transfer_id    INTEGER REFERENCES ledger_transfers (id),
    created_at     INTEGER NOT NULL,
    UNIQUE (cycle_id, application_id),
    CHECK ((amount_fen > 0) = (transfer_id IS NOT NULL))
);
CREATE INDEX entitlements_application ON entitlements (application_id, cycle_id);
