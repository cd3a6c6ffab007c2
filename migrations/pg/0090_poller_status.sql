-- 0090_poller_status.sql (PostgreSQL) — twin of migrations/0090_poller_status.sql: how the
-- background pollers (the IMAP mail poller) fare, one row each, read by /healthz.
CREATE TABLE poller_status (
	name TEXT PRIMARY KEY,
	code TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	failures BIGINT NOT NULL DEFAULT 0,
	failing_since BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL
);
