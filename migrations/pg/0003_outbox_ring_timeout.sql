-- 0003_outbox_ring_timeout.sql (PostgreSQL) — twin of migrations/0003_outbox_ring_timeout.sql:
-- how long an outbound call rings (Twilio's Timeout), per row. NULL: PLANTAO_DIAL_TIMEOUT.
ALTER TABLE outbox ADD COLUMN ring_timeout_s BIGINT;
