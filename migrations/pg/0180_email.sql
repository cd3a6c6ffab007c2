-- 0180_email.sql (PostgreSQL) — twin of migrations/0180_email.sql: e-mails are outbox rows of kind
-- 'email' sent by server/outbox/smtp.c; mail_messages keeps each one's Message-ID (written before it
-- is sent) and data_at_ms (its end was about to reach the SMTP server); people.email_pages.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('sms', 'whatsapp', 'call', 'email'));

CREATE TABLE mail_messages (
	outbox_id BIGINT PRIMARY KEY REFERENCES outbox (id),
	message_id TEXT NOT NULL UNIQUE,
	subject TEXT NOT NULL,
	source_id BIGINT,
	data_at_ms BIGINT
);
CREATE INDEX mail_messages_source ON mail_messages (source_id);
CREATE INDEX outbox_kind_attempt ON outbox (kind, attempt_at_ms);

ALTER TABLE people ADD COLUMN email_pages BIGINT NOT NULL DEFAULT 1;
