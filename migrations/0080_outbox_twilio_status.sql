-- 0080_outbox_twilio_status.sql — what Twilio last reported about a row, word for word.
-- The row's status follows plantao's order (server/twilio/status.h) and never moves back; this
-- column keeps the latest status callback as received, including statuses plantao does not
-- know (a status Twilio adds later is recorded and shown, never dropped).
ALTER TABLE outbox ADD COLUMN twilio_status TEXT;
ALTER TABLE outbox ADD COLUMN twilio_status_at INTEGER; -- Unix seconds, plantao's clock
