-- Payee data (src/registry/payee.h; docs/registry.md "Payee data",
-- docs/ledger.md "What a cycle pays"): a person's bank card is changed by a
-- request that a second party confirms, their name and ID number are
-- corrected by a reviewer and their payments held until another reviewer
-- has looked again, the person is notified of each step, and an approved
-- cycle pays the card in force when it was approved.

-- Orders card changes against cycle approvals: each confirmation and each
-- approval takes the next value in its own transaction. One row, written by
-- both, so two of them never interleave and the values follow the commits.
CREATE TABLE payee_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL CHECK (seq >= 0)
);
INSERT INTO payee_clock (id, seq) VALUES (1, 0);

-- The clock value at approval: the cycle pays each person the card whose
-- confirmation came before it (NULL: approved before this migration, pays
-- the card on record).
ALTER TABLE cycles ADD COLUMN payee_seq INTEGER;

-- A change of a person's bank card: requested by the person (via 'self') or
-- by a window clerk with the person present (via 'window'), with a reason;
-- pending until confirmed (by the person, or for a window request by
-- another staff account) or cancelled. Confirmed, it records the clock
-- value (seq) and the card it replaced (old_*), sealed: the history of the
-- person's cards, from which an export finds the card of its approval.
CREATE TABLE payee_changes (
    id                INTEGER PRIMARY KEY,
    talent_id         INTEGER NOT NULL REFERENCES talents (id),
    state             TEXT NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'confirmed', 'cancelled')),
    via               TEXT NOT NULL CHECK (via IN ('self', 'window')),
    person_present    INTEGER NOT NULL DEFAULT 0 CHECK (person_present IN (0, 1)),
    bank_enc          BLOB NOT NULL,
    bank_index        TEXT NOT NULL,
    bank_masked       TEXT NOT NULL,
    reason            TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    requested_by      TEXT NOT NULL,
    requested_account TEXT NOT NULL CHECK (requested_account <> ''),
    created_at        INTEGER NOT NULL,
    decided_by        TEXT NOT NULL DEFAULT '',
    decided_account   TEXT NOT NULL DEFAULT '',
    decided_at        INTEGER,
    note              TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    seq               INTEGER,
    old_enc           BLOB,
    old_index         TEXT,
    old_masked        TEXT NOT NULL DEFAULT '',
    CHECK (via = 'self' OR person_present = 1),
    CHECK ((state = 'pending') = (decided_at IS NULL)),
    CHECK ((state = 'confirmed') = (seq IS NOT NULL)),
    -- four eyes: a window request is confirmed by another account
    CHECK (state <> 'confirmed' OR via = 'self' OR
           (decided_account <> '' AND decided_account <> requested_account))
);
CREATE UNIQUE INDEX payee_changes_pending ON payee_changes (talent_id) WHERE state = 'pending';
CREATE INDEX payee_changes_confirmed ON payee_changes (talent_id, seq) WHERE state = 'confirmed';
CREATE INDEX payee_changes_talent ON payee_changes (talent_id, id);

-- A correction of a person's name or ID number by a reviewer, with the
-- values it replaced sealed. Until another reviewer has reviewed it
-- (reviewed_at), the person's payments are held.
CREATE TABLE identity_corrections (
    id                INTEGER PRIMARY KEY,
    talent_id         INTEGER NOT NULL REFERENCES talents (id),
    name_changed      INTEGER NOT NULL CHECK (name_changed IN (0, 1)),
    id_changed        INTEGER NOT NULL CHECK (id_changed IN (0, 1)),
    old_name_enc      BLOB NOT NULL,
    old_id_enc        BLOB NOT NULL,
    old_id_masked     TEXT NOT NULL,
    new_id_masked     TEXT NOT NULL,
    reason            TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    corrected_by      TEXT NOT NULL,
    corrected_account TEXT NOT NULL CHECK (corrected_account <> ''),
    created_at        INTEGER NOT NULL,
    reviewed_by       TEXT NOT NULL DEFAULT '',
    reviewed_account  TEXT NOT NULL DEFAULT '',
    reviewed_at       INTEGER,
    review_note       TEXT NOT NULL DEFAULT '' CHECK (length(review_note) <= 200),
    CHECK (name_changed = 1 OR id_changed = 1),
    CHECK (reviewed_at IS NULL OR
           (reviewed_account <> '' AND reviewed_account <> corrected_account))
);
CREATE INDEX identity_corrections_open ON identity_corrections (talent_id)
    WHERE reviewed_at IS NULL;
CREATE INDEX identity_corrections_talent ON identity_corrections (talent_id, id);

-- What the person is told (on their own pages; an SMS gateway would send
-- the rows whose sent_at is NULL to the mobile on record). Card numbers
-- appear masked only.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    talent_id  INTEGER NOT NULL REFERENCES talents (id),
    kind       TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
    text_zh    TEXT NOT NULL CHECK (length(text_zh) BETWEEN 1 AND 400),
    text_en    TEXT NOT NULL CHECK (length(text_en) BETWEEN 1 AND 600),
    channel    TEXT NOT NULL DEFAULT 'sms' CHECK (channel = 'sms'),
    sent_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_talent ON notifications (talent_id, id);
CREATE INDEX notifications_outbox ON notifications (id) WHERE sent_at IS NULL;

-- The payees a cycle's export held, and why, as its latest run found them
-- (their money stays payable; a later export pays it).
CREATE TABLE payment_holds (
    id          INTEGER PRIMARY KEY,
    cycle_id    INTEGER NOT NULL REFERENCES cycles (id),
    account_id  INTEGER NOT NULL REFERENCES ledger_accounts (id),
    payee_type  TEXT NOT NULL CHECK (payee_type = 'person' OR payee_type = 'employer' OR payee_type = 'operator'),
    payee_id    INTEGER NOT NULL,
    amount_fen  INTEGER NOT NULL CHECK (amount_fen > 0),
    reason      TEXT NOT NULL CHECK (reason IN ('no_account', 'card_after_approval',
                    'identity_review', 'shared_card')),
    created_at  INTEGER NOT NULL,
    UNIQUE (cycle_id, account_id)
);
