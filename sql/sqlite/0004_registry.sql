-- The registry: employers, talents and their employment, housing operators,
-- units and leases. Dates are day numbers (days since 1970-01-01), times
-- Unix seconds, money in fen, areas in hundredths of a square metre.
-- ID numbers, phone numbers and bank accounts are stored encrypted
-- (*_enc), with a keyed blind index for exact search (*_index) and a
-- masked copy for lists (*_masked); never in plain text.
CREATE TABLE employers (
    id                    INTEGER PRIMARY KEY,
    credit_code           TEXT NOT NULL UNIQUE CHECK (length(credit_code) = 18),
    name                  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    registered_in_district INTEGER NOT NULL DEFAULT 0 CHECK (registered_in_district IN (0, 1)),
    taxed_in_district     INTEGER NOT NULL DEFAULT 0 CHECK (taxed_in_district IN (0, 1)),
    industry              TEXT NOT NULL CHECK (industry IN ('ai', 'life_health', 'fintech',
                              'advanced_manufacturing', 'digital_economy', 'culture_creative', 'other')),
    key_enterprise        INTEGER NOT NULL DEFAULT 0 CHECK (key_enterprise IN (0, 1)),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX employers_name ON employers (name);
CREATE INDEX employers_industry ON employers (industry, id);

CREATE TABLE talents (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    id_enc           BLOB NOT NULL,
    id_index         TEXT NOT NULL UNIQUE,
    id_masked        TEXT NOT NULL,
    id_kind          TEXT NOT NULL CHECK (id_kind IN ('resident', 'foreign_permanent')),
    birth_date       INTEGER NOT NULL,
    sex              TEXT NOT NULL CHECK (sex IN ('f', 'm')),
    phone_enc        BLOB,
    phone_index      TEXT,
    phone_masked     TEXT NOT NULL DEFAULT '',
    education        TEXT NOT NULL CHECK (education IN ('bachelor', 'master', 'doctor', 'other')),
    graduation_date  INTEGER,
    category         TEXT NOT NULL DEFAULT '' CHECK (length(category) <= 40),
    level            TEXT NOT NULL DEFAULT '' CHECK (level IN ('', 'A', 'B', 'C')),
    employer_id      INTEGER REFERENCES employers (id),
    employed_since   INTEGER,
    insurance_months INTEGER NOT NULL DEFAULT 0 CHECK (insurance_months BETWEEN 0 AND 1200),
    owns_housing     INTEGER NOT NULL DEFAULT 0 CHECK (owns_housing IN (0, 1)),
    bank_enc         BLOB,
    bank_index       TEXT,
    bank_masked      TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX talents_employer ON talents (employer_id, id);
CREATE INDEX talents_name ON talents (name, id);
CREATE INDEX talents_education ON talents (education, id);
CREATE INDEX talents_level ON talents (level, id);
CREATE INDEX talents_phone ON talents (phone_index);
CREATE INDEX talents_bank ON talents (bank_index);

CREATE TABLE employments (
    id          INTEGER PRIMARY KEY,
    talent_id   INTEGER NOT NULL REFERENCES talents (id),
    employer_id INTEGER NOT NULL REFERENCES employers (id),
    start_date  INTEGER NOT NULL,
    end_date    INTEGER,
    created_at  INTEGER NOT NULL,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX employments_talent ON employments (talent_id, start_date);
CREATE INDEX employments_employer ON employments (employer_id, talent_id);

CREATE TABLE operators (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 40),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    credit_code TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE housing_units (
    id                INTEGER PRIMARY KEY,
    operator_id       INTEGER NOT NULL REFERENCES operators (id),
    address           TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    area_cm2          INTEGER NOT NULL CHECK (area_cm2 > 0),
    rooms             INTEGER NOT NULL CHECK (rooms BETWEEN 0 AND 20),
    rent_fen          INTEGER NOT NULL CHECK (rent_fen >= 0),
    kind              TEXT NOT NULL CHECK (kind IN ('talent_apartment', 'affordable_rental', 'market')),
    verification_code TEXT,
    status            TEXT NOT NULL DEFAULT 'draft'
                          CHECK (status IN ('draft', 'listed', 'leased', 'withdrawn')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    -- a listing without its verification code (房源核验码) cannot be published
    CHECK (status IN ('draft', 'withdrawn') OR verification_code IS NOT NULL)
);
CREATE INDEX housing_units_operator ON housing_units (operator_id, id);
CREATE INDEX housing_units_status ON housing_units (status, id);

CREATE TABLE leases (
    id           INTEGER PRIMARY KEY,
    talent_id    INTEGER NOT NULL REFERENCES talents (id),
    unit_id      INTEGER REFERENCES housing_units (id),
    address      TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    start_date   INTEGER NOT NULL,
    end_date     INTEGER NOT NULL,
    rent_fen     INTEGER NOT NULL CHECK (rent_fen >= 0),
    signed_date  INTEGER NOT NULL,
    filing_no    TEXT,
    filed_date   INTEGER,
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended', 'terminated')),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CHECK (end_date > start_date),
    CHECK ((filing_no IS NULL) = (filed_date IS NULL))
);
CREATE INDEX leases_talent ON leases (talent_id, start_date);
CREATE INDEX leases_unit ON leases (unit_id, start_date);
