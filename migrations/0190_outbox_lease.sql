-- 0190_outbox_lease.sql — a row being sent names the instance that claimed it and how long its
-- claim holds (db/outbox.c): with several instances on one PostgreSQL database another one
-- reconciles the row only once that lease has expired (its holder renews it while alive).
-- SQLite has one instance per file, so there the columns are only recorded.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until_ms INTEGER;
CREATE INDEX outbox_lease ON outbox (claimed_by, lease_until_ms) WHERE status = 'sending';
