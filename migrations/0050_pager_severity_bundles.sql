-- 0050_pager_severity_bundles.sql — what the pager needs for severities, unpaged alerts and
-- bundled pages (one text and one call per person carrying every open alert for them).

-- Alerts of this severity and above are called; warnings and above are texted; info is only
-- recorded (unless this says info).
ALTER TABLE escalation ADD COLUMN call_min_severity TEXT NOT NULL DEFAULT 'critical'
	CHECK (call_min_severity IN ('critical', 'warning', 'info'));

-- Why nobody was paged for the alert (nobody on call, severity info, …); NULL once paging
-- started. recheck_at: when the engine looks again for somebody to page.
ALTER TABLE alerts ADD COLUMN unpaged_reason TEXT;
ALTER TABLE alerts ADD COLUMN recheck_at INTEGER;

-- A call may carry several alerts for one person: every attempt on it has the same
-- outbox_id. read_at: when the call's TwiML read this attempt's alert to the person (only
-- alerts read are acknowledged by the key 1).
ALTER TABLE call_attempts ADD COLUMN read_at INTEGER;
CREATE INDEX call_attempts_outbox ON call_attempts (outbox_id);

-- The alerts one page text lists (a text waiting to be sent takes in the alerts that arrive
-- meanwhile for the same person).
CREATE TABLE page_texts (
	outbox_id INTEGER NOT NULL REFERENCES outbox (id),
	alert_id INTEGER NOT NULL REFERENCES alerts (id),
	PRIMARY KEY (outbox_id, alert_id)
);
CREATE INDEX page_texts_alert ON page_texts (alert_id);
