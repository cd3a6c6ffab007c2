-- 0320_shift_requests_asked.sql (PostgreSQL) — twin of migrations/0320_shift_requests_asked.sql:
-- the asked shift (whom it replaces, until when) kept with the request.
ALTER TABLE shift_requests ADD COLUMN replaces_person BIGINT;
ALTER TABLE shift_requests ADD COLUMN shift_end BIGINT;
