-- 0230_twilio_fallback.sql — the support line's fallback TwiML (GET /twilio/fallback.xml): the
-- document Twilio plays when plantao cannot answer, kept as of its last refresh so it is served
-- even when the rotation cannot be computed. One row (id 1).
CREATE TABLE twilio_fallback (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    chain TEXT NOT NULL,        -- the numbers it dials, in order, space-separated ('' for nobody)
    twiml TEXT NOT NULL,
    updated_at INTEGER NOT NULL -- Unix seconds of the last change
);
