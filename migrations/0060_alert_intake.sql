-- 0060_alert_intake.sql — what alert intake keeps beyond the alert itself: the runbook link
-- (Alertmanager/Grafana annotation runbook_url, JSON field), the notification group an alert
-- stands for (Alertmanager/Grafana groupKey) with its member alerts, and whether it came from
-- a sender's "test" button.
ALTER TABLE alerts ADD COLUMN runbook_url TEXT;
ALTER TABLE alerts ADD COLUMN group_key TEXT;
ALTER TABLE alerts ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX alerts_open_group ON alerts (group_key)
	WHERE group_key IS NOT NULL AND status IN ('triggered', 'acknowledged');

-- The alerts of a notification group folded into one plantao alert, one row per member.
CREATE TABLE alert_members (
	id INTEGER PRIMARY KEY,
	alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	member_key TEXT NOT NULL,            -- am:<fingerprint>, grafana:<fingerprint>
	status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
	summary TEXT NOT NULL,
	details TEXT,
	runbook_url TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (alert_id, member_key)
);
