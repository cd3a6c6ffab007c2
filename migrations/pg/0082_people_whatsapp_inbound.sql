-- 0082_people_whatsapp_inbound.sql (PostgreSQL) — twin of migrations/0082_people_whatsapp_inbound.sql:
-- when a person last wrote to the team's WhatsApp number (the 24-hour window).
ALTER TABLE people ADD COLUMN whatsapp_inbound_at BIGINT;
