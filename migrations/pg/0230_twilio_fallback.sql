-- 0230_twilio_fallback.sql (PostgreSQL) — twin of migrations/0230_twilio_fallback.sql: the
-- support line's fallback TwiML as of its last refresh. One row (id 1).
CREATE TABLE twilio_fallback (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    chain TEXT NOT NULL,
    twiml TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
