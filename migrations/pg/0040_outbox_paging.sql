-- 0040_outbox_paging.sql (PostgreSQL) — twin of migrations/0040_outbox_paging.sql: what the
-- sender needs to keep its promises about pages (issue 11). Comments on each column there.
ALTER TABLE outbox ADD COLUMN accepted_at_ms BIGINT;
ALTER TABLE outbox ADD COLUMN cancel_requested_ms BIGINT;
ALTER TABLE outbox ADD COLUMN hangup_at_ms BIGINT;
ALTER TABLE outbox ADD COLUMN hangup_status TEXT;
CREATE INDEX outbox_hangup ON outbox (hangup_at_ms) WHERE hangup_at_ms IS NOT NULL;

CREATE TABLE twilio_results (
	kind TEXT PRIMARY KEY,
	at_ms BIGINT NOT NULL,
	http_status BIGINT,
	error_code BIGINT,
	message TEXT
);
