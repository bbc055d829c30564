-- Payments to the bank, their results, and corrections of past months
-- (src/ledger/bank.h, src/ledger/cycle.h).
--
-- Adjustments: a later cycle recomputes the months paid before for every
-- subsidy whose decision changed since (a retroactive start, a back-dated
-- suspension or end, a new decision under changed rules) and posts the
-- difference: arrears (budget -> payable) or a recovery (payable -> budget),
-- which the payee's next payments absorb. One row per cycle, application and
-- month corrected; the transfer is never changed.
CREATE TABLE adjustments (
    id             INTEGER PRIMARY KEY,
    cycle_id       INTEGER NOT NULL REFERENCES cycles (id),
    application_id INTEGER NOT NULL REFERENCES applications (id),
    talent_id      INTEGER NOT NULL REFERENCES talents (id),
    programme      TEXT NOT NULL,
    for_month      TEXT NOT NULL CHECK (length(for_month) = 7),
    kind           TEXT NOT NULL CHECK (kind IN ('arrears', 'recovery')),
    was_fen        INTEGER NOT NULL CHECK (was_fen >= 0),
    due_fen        INTEGER NOT NULL CHECK (due_fen >= 0),
    amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
    payee_type     TEXT NOT NULL CHECK (payee_type = 'person' OR payee_type = 'employer' OR payee_type = 'operator'),
    payee_id       INTEGER NOT NULL,
    steps          TEXT NOT NULL,
    transfer_id    INTEGER NOT NULL REFERENCES ledger_transfers (id),
    created_at     INTEGER NOT NULL,
    UNIQUE (cycle_id, application_id, for_month),
    CHECK ((kind = 'arrears' AND due_fen - was_fen = amount_fen) OR
           (kind = 'recovery' AND was_fen - due_fen = amount_fen))
);
CREATE INDEX adjustments_application ON adjustments (application_id, for_month);

-- Accounts of the employers and operators paid directly (corporate accounts;
-- a person's account is personal data, sealed in talents.bank_enc).
ALTER TABLE employers ADD COLUMN bank_account TEXT NOT NULL DEFAULT ''
    CHECK (length(bank_account) <= 40);
ALTER TABLE operators ADD COLUMN bank_account TEXT NOT NULL DEFAULT ''
    CHECK (length(bank_account) <= 40);

-- A batch file sent to the bank: at most the configured number of records,
-- a batch number unique for ever.
CREATE TABLE bank_batches (
    id         INTEGER PRIMARY KEY,
    cycle_id   INTEGER NOT NULL REFERENCES cycles (id),
    batch_no   TEXT NOT NULL UNIQUE CHECK (length(batch_no) BETWEEN 1 AND 32),
    records    INTEGER NOT NULL CHECK (records > 0),
    total_fen  INTEGER NOT NULL CHECK (total_fen > 0),
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- One payment to one payee: what the payee's payable account holds for the
-- cycle, moved to the bank clearing account when the payment is made
-- (send_transfer_id) and to the payee's paid account, or back to payable,
-- when the bank's result comes (settle_transfer_id). A failed payment is
-- re-queued as a new payment (next attempt, new request id) or written off.
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY,
    request_id         TEXT NOT NULL UNIQUE CHECK (length(request_id) BETWEEN 1 AND 32),
    cycle_id           INTEGER NOT NULL REFERENCES cycles (id),
    account_id         INTEGER NOT NULL REFERENCES ledger_accounts (id),
    payee_type         TEXT NOT NULL CHECK (payee_type = 'person' OR payee_type = 'employer' OR payee_type = 'operator'),
    payee_id           INTEGER NOT NULL,
    attempt            INTEGER NOT NULL CHECK (attempt >= 1),
    previous_id        INTEGER REFERENCES payments (id),
    amount_fen         INTEGER NOT NULL CHECK (amount_fen > 0),
    bank_index         TEXT NOT NULL,
    bank_masked        TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL CHECK (state = 'queued' OR state = 'sent' OR state = 'paid' OR state = 'failed' OR state = 'requeued' OR state = 'written_off'),
    batch_id           INTEGER REFERENCES bank_batches (id),
    send_transfer_id   INTEGER NOT NULL REFERENCES ledger_transfers (id),
    settle_transfer_id INTEGER REFERENCES ledger_transfers (id),
    result_code        TEXT NOT NULL DEFAULT '' CHECK (length(result_code) <= 20),
    result_message     TEXT NOT NULL DEFAULT '' CHECK (length(result_message) <= 200),
    settled_by         TEXT NOT NULL DEFAULT '',
    settled_digest     TEXT NOT NULL DEFAULT '', -- the result file (SHA-256) that settled it
    settled_at         INTEGER,
    created_at         INTEGER NOT NULL,
    UNIQUE (account_id, cycle_id, attempt),
    CHECK ((state = 'queued') = (batch_id IS NULL)),
    CHECK ((state IN ('queued', 'sent')) = (settle_transfer_id IS NULL))
);
CREATE INDEX payments_cycle ON payments (cycle_id, state, id);
CREATE INDEX payments_batch ON payments (batch_id, id);

-- A bank result file taken in: its digest (the same file twice is taken
-- once), what matched, and every mismatch found (JSON).
CREATE TABLE bank_imports (
    id          INTEGER PRIMARY KEY,
    cycle_id    INTEGER NOT NULL REFERENCES cycles (id),
    digest      TEXT NOT NULL UNIQUE CHECK (length(digest) = 64),
    file_name   TEXT NOT NULL DEFAULT '' CHECK (length(file_name) <= 200),
    records     INTEGER NOT NULL CHECK (records >= 0),
    paid        INTEGER NOT NULL CHECK (paid >= 0),
    failed      INTEGER NOT NULL CHECK (failed >= 0),
    mismatches  INTEGER NOT NULL CHECK (mismatches >= 0),
    report      TEXT NOT NULL,
    imported_by TEXT NOT NULL DEFAULT '',
    imported_at INTEGER NOT NULL
);

-- Balances are sums over an account's transfers up to a cycle: index the
-- account with the cycle and the amount so the sums read the index alone.
DROP INDEX ledger_transfers_debit;
DROP INDEX ledger_transfers_credit;
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account, cycle, amount_fen);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account, cycle, amount_fen);

-- The months an application's review counted as received under earlier
-- applications (its place in the schedule), as a column the cycle reads
-- without parsing the trace.
ALTER TABLE applications ADD COLUMN months_received INTEGER NOT NULL DEFAULT 0
    CHECK (months_received BETWEEN 0 AND 1200);
UPDATE applications SET months_received = COALESCE(json_extract(trace, '$.months_received'), 0)
    WHERE trace IS NOT NULL;

-- SQLite checks a CHECK (x IN (...)) of more than two values with a
-- temporary table built at every insert; on the tables a cycle writes a row
-- at a time, the same checks are written as comparisons joined by OR (the
-- documented way to change a CHECK constraint in place: the rows are
-- unchanged). PostgreSQL needs no such change.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(replace(sql,
    'CHECK (kind IN (''budget'', ''payable'', ''clearing'', ''paid'',
                   ''receivable''))',
    'CHECK (kind = ''budget'' OR kind = ''payable'' OR kind = ''clearing'' OR kind = ''paid'' OR kind = ''receivable'')'),
    'CHECK (payee_type IN ('''', ''person'', ''employer'',
                   ''operator''))',
    'CHECK (payee_type = '''' OR payee_type = ''person'' OR payee_type = ''employer'' OR payee_type = ''operator'')')
    WHERE type = 'table' AND name = 'ledger_accounts';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (payee_type IN (''person'', ''employer'', ''operator''))',
    'CHECK (payee_type = ''person'' OR payee_type = ''employer'' OR payee_type = ''operator'')')
    WHERE type = 'table' AND name = 'entitlements';
PRAGMA writable_schema = RESET;

-- The accounts (not their labels, which name an API token too) that
-- computed and approved a cycle: never the same.
ALTER TABLE cycles ADD COLUMN computed_account TEXT NOT NULL DEFAULT '';
ALTER TABLE cycles ADD COLUMN approved_account TEXT NOT NULL DEFAULT '';
UPDATE cycles SET computed_account = computed_by, approved_account = approved_by;
CREATE TRIGGER cycles_second_person BEFORE UPDATE OF approved_account ON cycles
    FOR EACH ROW WHEN NEW.approved_account <> '' AND NEW.approved_account = NEW.computed_account
BEGIN
    SELECT RAISE(ABORT, 'a cycle is approved by another account than the one that computed it');
END;
