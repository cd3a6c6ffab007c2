-- 0340_mail_follow.sql — what the mailer (server/outbox/mailer.c) has followed, kept on the rows
-- themselves instead of a cursor over outbox ids: on PostgreSQL ids of concurrent transactions
-- commit out of order, so "every text above the last id seen" skipped texts committed late.
-- page_texts.mailed: 0 while that alert of that text has not been looked at for e-mail (set to
-- 1 in the transaction that queues its e-mail, or finds none due); outbox.mail_followed: the
-- same for a voicemail notice. Rows from before this migration count as followed, save those
-- among the last 10,000 outbox rows (the old mailer looked back that far on start; an e-mail
-- queued already is not queued again).
ALTER TABLE page_texts ADD COLUMN mailed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN mail_followed INTEGER NOT NULL DEFAULT 0;
UPDATE page_texts SET mailed = 1 WHERE outbox_id <= (SELECT coalesce(max(id), 0) - 10000 FROM outbox)
    OR outbox_id IN (SELECT id FROM outbox WHERE kind NOT IN ('sms', 'whatsapp'));
UPDATE outbox SET mail_followed = 1 WHERE id <= (SELECT coalesce(max(id), 0) - 10000 FROM outbox);
CREATE INDEX page_texts_unmailed ON page_texts (outbox_id, alert_id) WHERE mailed = 0;
CREATE INDEX outbox_voicemail_unmailed ON outbox (id)
    WHERE mail_followed = 0 AND owner_type = 'voicemail' AND kind IN ('sms', 'whatsapp');
