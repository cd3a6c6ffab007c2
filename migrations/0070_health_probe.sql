-- 0070_health_probe.sql — /healthz proves the database takes writes by rewriting this one row;
-- the indexes let it read the outbox's latest send results without scanning the table.
CREATE TABLE health_probe (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	at INTEGER NOT NULL
);
CREATE INDEX outbox_sent_at ON outbox (sent_at);
CREATE INDEX outbox_status_updated ON outbox (status, updated_at);
