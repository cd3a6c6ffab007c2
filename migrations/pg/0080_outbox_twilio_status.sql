-- 0080_outbox_twilio_status.sql (PostgreSQL) — twin of migrations/0080_outbox_twilio_status.sql:
-- the latest status callback of a row as received, known to plantao or not.
ALTER TABLE outbox ADD COLUMN twilio_status TEXT;
ALTER TABLE outbox ADD COLUMN twilio_status_at BIGINT;
