-- 0082_people_whatsapp_inbound.sql — when a person last wrote to the team's WhatsApp number
-- (/twilio/sms with From whatsapp:…). WhatsApp takes free-form messages from a business only
-- within 24 hours of the person's last message; outside that window plantao sends its approved
-- template (TWILIO_WHATSAPP_TEMPLATE_SID), or Twilio fails the message with 63016.
ALTER TABLE people ADD COLUMN whatsapp_inbound_at INTEGER; -- Unix seconds
