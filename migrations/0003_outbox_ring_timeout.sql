-- 0003_outbox_ring_timeout.sql — how long an outbound call rings (Twilio's Timeout), per row:
-- an escalation step rings for its own timeout_s. NULL: PLANTAO_DIAL_TIMEOUT.
ALTER TABLE outbox ADD COLUMN ring_timeout_s INTEGER;
