-- 0112_outbox_live_alert_calls.sql (PostgreSQL) — twin of migrations/0112_outbox_live_alert_calls.sql:
-- the live alert calls of a phone, newest first, for alerts_joinable_call.
CREATE INDEX outbox_live_alert_calls ON outbox (to_number, kind, id)
	WHERE class = 'alert' AND status IN ('pending', 'retry', 'sending', 'queued', 'initiated', 'ringing');
