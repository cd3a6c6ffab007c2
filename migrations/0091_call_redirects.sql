-- 0091_call_redirects.sql — live calls to be given new TwiML through the REST API (POST
-- Calls/{sid}.json Url=…): an alert call that reached an answering machine gets the whole
-- message after the beep. Queued by the AsyncAmd webhook, sent by the call-redirect job; one
-- per call, so Twilio's retried callback queues nothing twice.
CREATE TABLE call_redirects (
	id INTEGER PRIMARY KEY,
	call_sid TEXT NOT NULL UNIQUE,
	url TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'done', 'failed')),
	tries INTEGER NOT NULL DEFAULT 0,
	next_at_ms INTEGER NOT NULL,
	message TEXT NOT NULL DEFAULT '',
	created_at_ms INTEGER NOT NULL
);
CREATE INDEX call_redirects_due ON call_redirects (status, next_at_ms);
