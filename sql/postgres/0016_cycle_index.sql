-- The cycle's page query (src/ledger/cycle.c, PAYABLE_WHERE) walks the
-- subsidies that can be paid by application id. Reading them from the table
-- reads each application's whole row, its decision trace with it (about
-- 2 KB, a page of its own for most rows); this index holds the columns the
-- cycle reads, for the applications that can be paid, so the query reads
-- the index alone.
CREATE INDEX applications_payable ON applications (id, state, eligible, start_date, end_date,
    talent_id, employer_id, policy_file_id, programme, policy_version, tier, payee,
    months_received) WHERE eligible = 1 AND start_date IS NOT NULL;
