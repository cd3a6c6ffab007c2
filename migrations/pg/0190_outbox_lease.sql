-- 0190_outbox_lease.sql (PostgreSQL) — twin of migrations/0190_outbox_lease.sql: the instance
-- that claimed a row being sent and the expiry of its lease.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until_ms BIGINT;
CREATE INDEX outbox_lease ON outbox (claimed_by, lease_until_ms) WHERE status = 'sending';
