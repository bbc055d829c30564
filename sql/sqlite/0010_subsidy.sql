-- Rental-subsidy applications and their workflow (src/subsidy/subsidy.h,
-- docs/subsidy.md). An application moves through
--   draft -> submitted -> attested (employer) -> accepted (window) ->
--   reviewed (decision with its trace) -> notice (公示, 5 working days) ->
--   approved -> active -> suspended / ended
-- or to rejected (with reasons; an appeal sends it back to review once) or
-- withdrawn (by the applicant, before review). Every transition is one row
-- of application_events, with who, why and the request's key: the same key
-- twice is the same request and changes nothing the second time.
CREATE TABLE applications (
    id              INTEGER PRIMARY KEY,
    ref             TEXT NOT NULL UNIQUE CHECK (length(ref) BETWEEN 1 AND 40),
    programme       TEXT NOT NULL CHECK (length(programme) BETWEEN 1 AND 40),
    talent_id       INTEGER NOT NULL REFERENCES talents (id),
    employer_id     INTEGER REFERENCES employers (id),
    state           TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'submitted',
                        'attested', 'accepted', 'reviewed', 'notice', 'approved', 'rejected',
                        'active', 'suspended', 'ended', 'withdrawn')),
    -- the applicant's declarations (what the registry cannot know)
    family_owns_housing INTEGER NOT NULL DEFAULT 0 CHECK (family_owns_housing IN (0, 1)),
    other_benefit   INTEGER NOT NULL DEFAULT 0 CHECK (other_benefit IN (0, 1)),
    declared        INTEGER NOT NULL DEFAULT 0 CHECK (declared IN (0, 1)),
    -- the decision: the policy file and version, the trace, the outcome
    policy_file_id  INTEGER REFERENCES policy_files (id),
    policy_version  TEXT,
    trace           TEXT,
    eligible        INTEGER CHECK (eligible IN (0, 1)),
    tier            TEXT,
    monthly_fen     INTEGER CHECK (monthly_fen >= 0),
    payee           TEXT CHECK (payee IN ('person', 'employer', 'operator')),
    reasons         TEXT NOT NULL DEFAULT '' CHECK (length(reasons) <= 2000),
    -- the public notice: first and last day (day numbers)
    notice_from     INTEGER,
    notice_to       INTEGER,
    -- the subsidy: first and last day paid (last NULL while open)
    start_date      INTEGER,
    end_date        INTEGER,
    appeals         INTEGER NOT NULL DEFAULT 0 CHECK (appeals BETWEEN 0 AND 1),
    previous_id     INTEGER REFERENCES applications (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    submitted_at    INTEGER,
    CHECK ((notice_from IS NULL) = (notice_to IS NULL)),
    CHECK (notice_to IS NULL OR notice_to >= notice_from),
    CHECK (state NOT IN ('reviewed', 'notice', 'approved', 'active', 'suspended', 'ended')
           OR trace IS NOT NULL),
    CHECK (state NOT IN ('notice', 'approved', 'active', 'suspended', 'ended')
           OR (eligible = 1 AND notice_from IS NOT NULL)),
    CHECK (state NOT IN ('active', 'suspended', 'ended') OR start_date IS NOT NULL),
    CHECK (end_date IS NULL OR end_date >= start_date - 1)
);
-- one open application per person and programme; a new one after a
-- rejection, a withdrawal or an end
CREATE UNIQUE INDEX applications_open ON applications (programme, talent_id)
    WHERE state NOT IN ('rejected', 'ended', 'withdrawn');
CREATE INDEX applications_state ON applications (state, id);
CREATE INDEX applications_employer ON applications (employer_id, state, id);
CREATE INDEX applications_talent ON applications (talent_id, id);

CREATE TABLE application_events (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    action         TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 20),
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    actor          TEXT NOT NULL CHECK (length(actor) <= 128),
    actor_id       INTEGER NOT NULL DEFAULT 0,
    reason         TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    -- activate, suspend, resume, end: the day it takes effect; publish: the
    -- day of publication (the workflow's day, not the clock's)
    effective      INTEGER,
    request_key    TEXT NOT NULL CHECK (length(request_key) BETWEEN 1 AND 100),
    at             INTEGER NOT NULL,
    UNIQUE (application_id, request_key)
);
CREATE INDEX application_events_app ON application_events (application_id, id);

-- objections received during the public notice, and how each was settled
CREATE TABLE objections (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    received_on    INTEGER NOT NULL,
    source         TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    text           TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    outcome        TEXT CHECK (outcome IN ('upheld', 'dismissed')),
    resolution     TEXT NOT NULL DEFAULT '' CHECK (length(resolution) <= 2000),
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    resolved_by    TEXT NOT NULL DEFAULT '',
    resolved_at    INTEGER,
    CHECK ((outcome IS NULL) = (resolved_at IS NULL))
);
CREATE INDEX objections_app ON objections (application_id, id);
