-- 0081_people_opt_out_source.sql (PostgreSQL) — twin of migrations/0081_people_opt_out_source.sql:
-- when and how a person's texts were turned off.
ALTER TABLE people ADD COLUMN sms_opt_out_at BIGINT;
ALTER TABLE people ADD COLUMN sms_opt_out_via TEXT;
