-- 0081_people_opt_out_source.sql — when and how a person's texts were turned off: the word they
-- texted (STOP, REVOKE…) or "twilio_21610" when Twilio refused a text because they had replied
-- STOP where plantao never heard it. Cleared with the flag when they opt back in.
ALTER TABLE people ADD COLUMN sms_opt_out_at INTEGER; -- Unix seconds
ALTER TABLE people ADD COLUMN sms_opt_out_via TEXT;
