-- 0040_outbox_paging.sql — what the sender needs to keep its promises about pages (issue 11).

-- When Twilio accepted the row (ms, plantao's clock): the answer to the create, or the look-up
-- that found it after a crash. An escalation step's deadline starts here for its call.
ALTER TABLE outbox ADD COLUMN accepted_at_ms INTEGER;

-- Set when the row's alert was acknowledged or resolved while the row was being sent (status
-- 'sending'): whatever Twilio answers, the row is never sent again, and a call that turns out
-- to exist is ended.
ALTER TABLE outbox ADD COLUMN cancel_requested_ms INTEGER;

-- A call to end through the REST API (POST Calls/{sid}.json Status=completed): when the next
-- try is due (NULL: nothing to end), and how it went ('requested', 'done', or 'failed: …').
ALTER TABLE outbox ADD COLUMN hangup_at_ms INTEGER;
ALTER TABLE outbox ADD COLUMN hangup_status TEXT;
CREATE INDEX outbox_hangup ON outbox (hangup_at_ms) WHERE hangup_at_ms IS NOT NULL;

-- The last thing Twilio's REST API said to the sender, for /healthz: one row per kind of
-- result ('ok', 'error', 'auth', 'network'), replaced each time.
CREATE TABLE twilio_results (
	kind TEXT PRIMARY KEY,
	at_ms INTEGER NOT NULL,
	http_status INTEGER,
	error_code INTEGER,
	message TEXT
);
