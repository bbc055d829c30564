-- The ledger (src/ledger/ledger.h): money as transfers between accounts, in
-- fen. A transfer debits one account and credits another by the same
-- positive amount, so every entry balances by construction and the balances
-- of all accounts sum to zero. Each transfer has a unique idempotency key:
-- the same key again is the same transfer, never a second one. Nothing
-- posted is updated or deleted (triggers refuse both): a correction is
-- another transfer.
CREATE TABLE ledger_accounts (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 100),
    kind       TEXT NOT NULL CHECK (kind IN ('budget', 'payable', 'clearing', 'paid',
                   'receivable')),
    programme  TEXT NOT NULL DEFAULT '' CHECK (length(programme) <= 40),
    payee_type TEXT NOT NULL DEFAULT '' CHECK (payee_type IN ('', 'person', 'employer',
                   'operator')),
    payee_id   INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE ledger_transfers (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 120),
    debit_account   INTEGER NOT NULL REFERENCES ledger_accounts (id),
    credit_account  INTEGER NOT NULL REFERENCES ledger_accounts (id),
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    cycle           TEXT NOT NULL DEFAULT '' CHECK (length(cycle) <= 7),
    application_id  INTEGER REFERENCES applications (id),
    memo            TEXT NOT NULL DEFAULT '' CHECK (length(memo) <= 500),
    created_at      INTEGER NOT NULL,
    CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account, id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account, id);
CREATE INDEX ledger_transfers_application ON ledger_transfers (application_id, id);

CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger transfers are never updated: post a correction');
END;
CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger transfers are never deleted: post a correction');
END;
