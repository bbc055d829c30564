-- Indexes for talent lists that combine two filters, measured on a million
-- talents (bench/registry/plans.sh): without them the planner walks the
-- index of one filter and tests the other row by row (an employer's staff
-- of one education or level: 0.3 to 0.9 s to count; education and level
-- together: up to 0.3 s). An employer's HR account always lists with its
-- employer as a filter, so its education and level filters are these.
-- Each ends with id, so the newest-first page needs no sort.
CREATE INDEX talents_employer_education ON talents (employer_id, education, id);
CREATE INDEX talents_employer_level ON talents (employer_id, level, id);
CREATE INDEX talents_education_level ON talents (education, level, id);
