-- 0100_auth.sql — sign-in with one-time codes and contact verification (issue 16).
-- people.role: who may sign in and with what rights (NULL: cannot sign in).
-- phone_verified_at / email_verified_at: when a one-time code sent there was typed back;
-- cleared when the contact changes.
ALTER TABLE people ADD COLUMN role TEXT CHECK (role IN ('admin', 'editor', 'viewer'));
ALTER TABLE people ADD COLUMN phone_verified_at BIGINT;
ALTER TABLE people ADD COLUMN email_verified_at BIGINT;

-- One-time codes. Only a salted SHA-256 of the code is kept (hash); a code sent by voice call
-- also keeps its digits sealed with a key derived from the Twilio auth token (sealed), which
-- is not in the database, so that the call's TwiML can read them. A row is written for every
-- request, also for a destination that belongs to nobody (person_id NULL, nothing sent): the
-- limits per destination and the work done are the same either way.
CREATE TABLE otp_codes (
	id INTEGER PRIMARY KEY,
	destination TEXT NOT NULL,             -- E.164 phone
	purpose TEXT NOT NULL CHECK (purpose IN ('signin', 'verify')),
	channel TEXT NOT NULL CHECK (channel IN ('sms', 'voice')),
	person_id BIGINT REFERENCES people (id),
	salt TEXT NOT NULL,
	hash TEXT NOT NULL,
	sealed TEXT,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	locked_until BIGINT,                   -- 5 wrong attempts: no code for this destination until then
	used_at BIGINT,
	replaced_at BIGINT                     -- a newer code for the same destination and purpose
);
CREATE INDEX otp_codes_destination ON otp_codes (destination, created_at);

-- Sign-in sessions: the cookie's secret is never stored, only its SHA-256.
CREATE TABLE sessions (
	id INTEGER PRIMARY KEY,
	person_id BIGINT NOT NULL REFERENCES people (id),
	hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,            -- slides forward with use (PLANTAO_SESSION_DAYS)
	ended_at BIGINT,                       -- logout, or ended by an admin
	user_agent TEXT
);
CREATE INDEX sessions_person ON sessions (person_id);
