-- Rental housing: what operators, units and leases need beyond 0004.
--
-- Operators: a contact person and phone (the operator's published business
-- contact, shown to tenants with its listings; not personal data of a
-- tenant), and one operator per credit code.
ALTER TABLE operators ADD COLUMN contact_name TEXT NOT NULL DEFAULT ''
    CHECK (length(contact_name) <= 50);
ALTER TABLE operators ADD COLUMN contact_phone TEXT NOT NULL DEFAULT ''
    CHECK (length(contact_phone) <= 20);
CREATE UNIQUE INDEX operators_credit_code ON operators (credit_code) WHERE credit_code <> '';
CREATE INDEX operators_name ON operators (name, id);

-- Units: the district (区) and the community or estate (小区) they are in;
-- a verification code (房源核验码) names one listing only.
ALTER TABLE housing_units ADD COLUMN district TEXT NOT NULL DEFAULT ''
    CHECK (length(district) <= 20);
ALTER TABLE housing_units ADD COLUMN community TEXT NOT NULL DEFAULT ''
    CHECK (length(community) <= 100);
CREATE UNIQUE INDEX housing_units_verification ON housing_units (verification_code)
    WHERE verification_code IS NOT NULL;
CREATE INDEX housing_units_operator_status ON housing_units (operator_id, status, id);
CREATE INDEX housing_units_kind ON housing_units (kind, id);
CREATE INDEX housing_units_district ON housing_units (district, id);
CREATE INDEX housing_units_rent ON housing_units (rent_fen, id);

-- Leases: the deposit (押金), and how a lease ended: the day it ended
-- (ended_on; before end_date when terminated early) and why. An active
-- lease has no ended_on; an ended or terminated one has it, within its
-- period. A filing number (网签备案号) names one lease only.
ALTER TABLE leases ADD COLUMN deposit_fen INTEGER NOT NULL DEFAULT 0 CHECK (deposit_fen >= 0);
ALTER TABLE leases ADD COLUMN ended_on INTEGER
    CHECK ((status = 'active') = (ended_on IS NULL)
           AND (ended_on IS NULL OR ended_on BETWEEN start_date AND end_date));
ALTER TABLE leases ADD COLUMN end_reason TEXT NOT NULL DEFAULT ''
    CHECK (length(end_reason) <= 200);
CREATE UNIQUE INDEX leases_filing_no ON leases (filing_no) WHERE filing_no IS NOT NULL;
CREATE INDEX leases_status ON leases (status, id);
CREATE INDEX leases_end ON leases (end_date, id);
