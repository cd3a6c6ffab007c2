-- 0002_outbox_engine.sql — what the outbox engine needs beyond the first schema.

-- When the engine last marked the row 'sending' (ms, plantao's clock): the per-destination
-- limits count recent attempts from here, and crash reconciliation looks for the Twilio
-- resource created around this instant.
ALTER TABLE outbox ADD COLUMN attempt_at_ms INTEGER;
CREATE INDEX outbox_dest ON outbox (to_number, attempt_at_ms);

-- Status callbacks whose MessageSid/CallSid is not (yet) on any outbox row: Twilio can call
-- back before the engine has stored the SID of the request it just made, and after a crash
-- the SID is only learnt by reconciliation. They wait here and are applied, in order, as soon
-- as the SID is recorded; the engine deletes leftovers after an hour.
CREATE TABLE outbox_early_status (
	id INTEGER PRIMARY KEY,
	sid TEXT NOT NULL,
	status TEXT NOT NULL,
	seq INTEGER NOT NULL DEFAULT -1,     -- SequenceNumber (calls), -1 when absent
	error_code INTEGER,
	duration_s INTEGER,
	answered_by TEXT,
	received_at INTEGER NOT NULL
);
CREATE INDEX outbox_early_status_sid ON outbox_early_status (sid);
