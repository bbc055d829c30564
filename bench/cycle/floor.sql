-- bench/cycle/floor.sql: the rows a cycle writes, written set-based in SQL
-- (one statement each, no computation, no page reads, no commits between
-- pages): the least time the store's schema lets a cycle take for them.
-- run.sh runs it with the sqlite3 shell on the benchmark's database after
-- the measured cycle, for the month after (@next), copying that cycle's
-- (@month) entitlements and payments: an entitlement row and its transfer
-- budget -> payable for each entitlement, a payment row and its transfer
-- payable -> clearing for each payment, through the same tables, indexes,
-- foreign keys and CHECKs. The payees' accounts exist already (a first
-- month also makes them). The shell's timer prints each statement's time.
PRAGMA foreign_keys = ON;
PRAGMA synchronous = FULL;
INSERT INTO cycles (month, state, created_at) VALUES (@next, 'draft', 0);
.timer on
-- entitlements: transfers, then the rows that name them
INSERT INTO ledger_transfers (idempotency_key, debit_account, credit_account, amount_fen,
    cycle, application_id, memo, created_at)
SELECT 'entitlement:' || @next || ':' || e.application_id, t.debit_account, t.credit_account,
    t.amount_fen, @next, e.application_id, 'entitlement', t.created_at
FROM entitlements e JOIN cycles c ON c.id = e.cycle_id JOIN ledger_transfers t ON t.id = e.transfer_id
WHERE c.month = @month ORDER BY e.application_id;
INSERT INTO entitlements (cycle_id, application_id, talent_id, programme, policy_file_id,
    policy_version, tier, payee_type, payee_id, month_index, days, amount_fen, inputs, steps,
    transfer_id, created_at)
SELECT n.id, e.application_id, e.talent_id, e.programme, e.policy_file_id, e.policy_version,
    e.tier, e.payee_type, e.payee_id, e.month_index + 1, e.days, e.amount_fen, e.inputs, '',
    t.id, e.created_at
FROM entitlements e JOIN cycles c ON c.id = e.cycle_id JOIN cycles n ON n.month = @next
JOIN ledger_transfers t ON t.idempotency_key = 'entitlement:' || @next || ':' || e.application_id
WHERE c.month = @month ORDER BY e.application_id;
-- payments: transfers, then the rows that name them (in the same batches)
INSERT INTO ledger_transfers (idempotency_key, debit_account, credit_account, amount_fen,
    cycle, application_id, memo, created_at)
SELECT 'send:' || replace(@next, '-', '') || substr(p.request_id, 7), t.debit_account,
    t.credit_account, t.amount_fen, @next, NULL, 'payment', t.created_at
FROM payments p JOIN cycles c ON c.id = p.cycle_id JOIN ledger_transfers t ON t.id = p.send_transfer_id
WHERE c.month = @month ORDER BY p.id;
INSERT INTO payments (request_id, cycle_id, account_id, payee_type, payee_id, attempt,
    amount_fen, bank_index, bank_masked, state, batch_id, send_transfer_id, created_at)
SELECT replace(@next, '-', '') || substr(p.request_id, 7), n.id, p.account_id, p.payee_type,
    p.payee_id, p.attempt, p.amount_fen, p.bank_index, p.bank_masked, 'sent', p.batch_id, t.id,
    p.created_at
FROM payments p JOIN cycles c ON c.id = p.cycle_id JOIN cycles n ON n.month = @next
JOIN ledger_transfers t ON t.idempotency_key = 'send:' || replace(@next, '-', '') || substr(p.request_id, 7)
WHERE c.month = @month ORDER BY p.id;
