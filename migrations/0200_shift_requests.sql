-- 0200_shift_requests.sql — a text "PLANTAO ASSUMIR" asks to take the on-call shift; only a "SIM"
-- from the same person before expires_at takes it (server/twilio/sms.c). One open request per
-- person: asking again replaces it. Times in seconds.
CREATE TABLE shift_requests (
	person_id INTEGER PRIMARY KEY REFERENCES people (id),
	asked_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
