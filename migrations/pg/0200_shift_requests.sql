-- 0200_shift_requests.sql (PostgreSQL) — twin of migrations/0200_shift_requests.sql: a text
-- "PLANTAO ASSUMIR" waiting for its "SIM", one per person, times in seconds.
CREATE TABLE shift_requests (
	person_id BIGINT PRIMARY KEY REFERENCES people (id),
	asked_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
