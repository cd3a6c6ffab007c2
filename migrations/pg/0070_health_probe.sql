-- 0070_health_probe.sql (PostgreSQL) — twin of migrations/0070_health_probe.sql: the row
-- /healthz rewrites to prove the database takes writes, and the outbox indexes it reads.
CREATE TABLE health_probe (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	at BIGINT NOT NULL
);
CREATE INDEX outbox_sent_at ON outbox (sent_at);
CREATE INDEX outbox_status_updated ON outbox (status, updated_at);
