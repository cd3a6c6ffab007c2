-- 0050_pager_severity_bundles.sql (PostgreSQL) — twin of the SQLite migration: severities,
-- unpaged alerts and bundled pages. Comments on each column there.
ALTER TABLE escalation ADD COLUMN call_min_severity TEXT NOT NULL DEFAULT 'critical'
	CHECK (call_min_severity IN ('critical', 'warning', 'info'));

ALTER TABLE alerts ADD COLUMN unpaged_reason TEXT;
ALTER TABLE alerts ADD COLUMN recheck_at BIGINT;

ALTER TABLE call_attempts ADD COLUMN read_at BIGINT;
CREATE INDEX call_attempts_outbox ON call_attempts (outbox_id);

CREATE TABLE page_texts (
	outbox_id BIGINT NOT NULL REFERENCES outbox (id),
	alert_id BIGINT NOT NULL REFERENCES alerts (id),
	PRIMARY KEY (outbox_id, alert_id)
);
CREATE INDEX page_texts_alert ON page_texts (alert_id);
