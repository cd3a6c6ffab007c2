-- 0180_email.sql — the e-mail channel (issue 15): e-mails are outbox rows of kind 'email' (to_number
-- holds the address, body the whole RFC 5322 message, built when the row is queued), sent by
-- server/outbox/smtp.c. mail_messages keeps, per e-mail row, the Message-ID written into the message
-- before it is ever sent and data_at_ms, set just before the message's last byte goes to the SMTP
-- server: a row found 'sending' after a crash without it was never complete at the server and is
-- sent again; with it the server may have it, and it is not sent twice (undecided).
-- people.email_pages: pages go by e-mail too to people with an e-mail (1, the default) or not (0).
--
-- SQLite cannot ALTER a CHECK constraint. Widening one (a value more is allowed, no row changes
-- meaning) is the case SQLite's documentation ("Making Other Kinds Of Table Schema Changes")
-- allows through writable_schema: only the constraint's text is edited; RESET reloads the schema
-- on this connection and the CREATE TABLE below moves the schema cookie for every other one.
PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = replace(sql, 'CHECK (kind IN (''sms'', ''whatsapp'', ''call''))',
                                       'CHECK (kind IN (''sms'', ''whatsapp'', ''call'', ''email''))')
WHERE type = 'table' AND name = 'outbox';
PRAGMA writable_schema = RESET;

CREATE TABLE mail_messages (
	outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id),
	message_id TEXT NOT NULL UNIQUE,
	subject TEXT NOT NULL,
	source_id INTEGER,          -- the text row (page, voicemail) this e-mail goes with, if any
	data_at_ms INTEGER          -- the message's end was about to be written to the server
);
CREATE INDEX mail_messages_source ON mail_messages (source_id);
CREATE INDEX outbox_kind_attempt ON outbox (kind, attempt_at_ms);

ALTER TABLE people ADD COLUMN email_pages INTEGER NOT NULL DEFAULT 1;
