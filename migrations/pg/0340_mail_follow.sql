-- 0340_mail_follow.sql (PostgreSQL) — twin of migrations/0340_mail_follow.sql: page_texts.mailed
-- and outbox.mail_followed, what the mailer has followed (claimed with FOR UPDATE SKIP LOCKED).
ALTER TABLE page_texts ADD COLUMN mailed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN mail_followed BIGINT NOT NULL DEFAULT 0;
UPDATE page_texts SET mailed = 1 WHERE outbox_id <= (SELECT coalesce(max(id), 0) - 10000 FROM outbox)
    OR outbox_id IN (SELECT id FROM outbox WHERE kind NOT IN ('sms', 'whatsapp'));
UPDATE outbox SET mail_followed = 1 WHERE id <= (SELECT coalesce(max(id), 0) - 10000 FROM outbox);
CREATE INDEX page_texts_unmailed ON page_texts (outbox_id, alert_id) WHERE mailed = 0;
CREATE INDEX outbox_voicemail_unmailed ON outbox (id)
    WHERE mail_followed = 0 AND owner_type = 'voicemail' AND kind IN ('sms', 'whatsapp');
