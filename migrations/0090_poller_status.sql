-- 0090_poller_status.sql — how the background pollers fare (the IMAP mail poller), one row each,
-- written by the poller when a streak of failures starts, grows or ends, and read by /healthz.
-- In the database rather than in memory so every instance answers the same.
CREATE TABLE poller_status (
	name TEXT PRIMARY KEY,
	code TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	failures INTEGER NOT NULL DEFAULT 0,
	failing_since INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL
);
