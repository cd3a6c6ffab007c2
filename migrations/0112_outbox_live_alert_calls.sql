-- 0112_outbox_live_alert_calls.sql — a new alert for someone whose page call is still waiting or
-- ringing rides on that call (db/alerts.c alerts_joinable_call): the calls still live to a phone
-- are read from this partial index, newest first, instead of every row ever sent to that phone.
-- (kind is a column, not a condition: a condition kind = 'call' would make SQLite re-prepare every
-- statement that binds kind = ?N whenever that value changes, to re-check this index fits.)
CREATE INDEX outbox_live_alert_calls ON outbox (to_number, kind, id)
	WHERE class = 'alert' AND status IN ('pending', 'retry', 'sending', 'queued', 'initiated', 'ringing');
