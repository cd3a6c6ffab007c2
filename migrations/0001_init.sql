-- 0001_init.sql — the first schema of plantao.
-- Times are Unix seconds (INTEGER) unless a column name ends in _ms. Phones are E.164.

CREATE TABLE people (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	phone TEXT NOT NULL UNIQUE,
	email TEXT,
	whatsapp INTEGER NOT NULL DEFAULT 0 CHECK (whatsapp IN (0, 1)),
	sms_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (sms_opt_out IN (0, 1)), -- texted STOP
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- The rotation is versioned: a PUT appends a version effective from a point in time, so
-- changing members or shift length never rewrites who was on call in the past.
CREATE TABLE rotation_versions (
	id INTEGER PRIMARY KEY,
	effective_at INTEGER NOT NULL,       -- from this instant on this version applies
	shift_hours INTEGER NOT NULL CHECK (shift_hours > 0),
	handoff TEXT NOT NULL,               -- first shift start, local ISO time "2026-01-05T09:00"
	timezone TEXT NOT NULL,              -- IANA name
	created_at INTEGER NOT NULL,
	created_by TEXT
);
CREATE INDEX rotation_versions_effective ON rotation_versions (effective_at);

CREATE TABLE rotation_members (
	version_id INTEGER NOT NULL REFERENCES rotation_versions (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	person_id INTEGER NOT NULL REFERENCES people (id),
	PRIMARY KEY (version_id, position)
);

CREATE TABLE overrides (
	id INTEGER PRIMARY KEY,
	person_id INTEGER NOT NULL REFERENCES people (id),
	start_at INTEGER NOT NULL,
	end_at INTEGER NOT NULL CHECK (end_at > start_at),
	reason TEXT,
	created_at INTEGER NOT NULL,
	created_by TEXT
);
CREATE INDEX overrides_span ON overrides (start_at, end_at);

-- The escalation policy: a single row of settings and its ordered steps.
CREATE TABLE escalation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	rounds INTEGER NOT NULL DEFAULT 3 CHECK (rounds BETWEEN 1 AND 20),
	updated_at INTEGER NOT NULL
);
CREATE TABLE escalation_steps (
	position INTEGER PRIMARY KEY,
	target TEXT NOT NULL CHECK (target IN ('oncall', 'next', 'person')),
	person_id INTEGER REFERENCES people (id),
	timeout_s INTEGER NOT NULL DEFAULT 30 CHECK (timeout_s BETWEEN 5 AND 600)
);
INSERT INTO escalation (id, rounds, updated_at) VALUES (1, 3, 0);
INSERT INTO escalation_steps (position, target, timeout_s) VALUES (0, 'oncall', 30), (1, 'next', 30);

CREATE TABLE alerts (
	id INTEGER PRIMARY KEY,
	status TEXT NOT NULL DEFAULT 'triggered'
		CHECK (status IN ('triggered', 'acknowledged', 'resolved', 'exhausted')),
	summary TEXT NOT NULL,
	details TEXT,
	severity TEXT,
	source TEXT,
	dedup_key TEXT,
	hits INTEGER NOT NULL DEFAULT 1,     -- triggers folded into this alert by dedup_key
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	step INTEGER NOT NULL DEFAULT -1,    -- current escalation step (-1: texts not yet sent)
	round INTEGER NOT NULL DEFAULT 0,
	step_deadline INTEGER,               -- when the engine moves on if nothing was heard
	acked_by INTEGER REFERENCES people (id),
	acked_via TEXT,                      -- call, sms, api
	acked_at INTEGER,
	resolved_at INTEGER,
	resolved_via TEXT
);
CREATE UNIQUE INDEX alerts_open_dedup ON alerts (dedup_key)
	WHERE dedup_key IS NOT NULL AND status IN ('triggered', 'acknowledged');
CREATE INDEX alerts_status ON alerts (status, step_deadline);

-- One outbound alert call per row (an escalation step of a round).
CREATE TABLE call_attempts (
	id INTEGER PRIMARY KEY,
	alert_id INTEGER NOT NULL REFERENCES alerts (id),
	round INTEGER NOT NULL,
	step INTEGER NOT NULL,
	person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
	phone TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'queued', -- queued ringing in-progress completed busy no-answer failed canceled
	outcome TEXT,                        -- ack, pass, machine, silence, no-answer, …
	answered_by TEXT,                    -- human, machine_start, … (AnsweredBy)
	digits TEXT,
	call_sid TEXT,
	outbox_id INTEGER,
	created_at INTEGER NOT NULL,
	ended_at INTEGER,
	UNIQUE (alert_id, round, step)
);

-- Support-line calls (incoming) and the people dialled for each.
CREATE TABLE support_calls (
	id INTEGER PRIMARY KEY,
	call_sid TEXT NOT NULL UNIQUE,
	caller TEXT NOT NULL,
	called TEXT,
	status TEXT NOT NULL DEFAULT 'ringing', -- ringing answered voicemail abandoned
	leg INTEGER NOT NULL DEFAULT 0,      -- how many people have been dialled
	accepted_by INTEGER REFERENCES people (id) ON DELETE SET NULL,
	accepted_at INTEGER,
	created_at INTEGER NOT NULL,
	ended_at INTEGER
);
CREATE TABLE support_legs (
	id INTEGER PRIMARY KEY,
	call_id INTEGER NOT NULL REFERENCES support_calls (id),
	leg INTEGER NOT NULL,
	person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
	phone TEXT NOT NULL,
	dial_status TEXT,                    -- DialCallStatus
	accepted INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	UNIQUE (call_id, leg)
);

CREATE TABLE voicemails (
	id INTEGER PRIMARY KEY,
	call_sid TEXT NOT NULL UNIQUE,
	caller TEXT NOT NULL,
	recording_url TEXT,
	recording_sid TEXT,
	duration_s INTEGER,
	transcription TEXT,
	person_id INTEGER REFERENCES people (id) ON DELETE SET NULL, -- on call when it was left
	created_at INTEGER NOT NULL
);

-- Every SMS, WhatsApp message and call plantao makes. Handlers only insert; the engine sends.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('sms', 'whatsapp', 'call')),
	class TEXT NOT NULL,                 -- alert, ack, support, handoff, sales, reply
	priority INTEGER NOT NULL,           -- 0 alert, 1 support-line, 2 sales
	to_number TEXT NOT NULL,
	from_number TEXT,
	body TEXT,                           -- message text
	url TEXT,                            -- call: TwiML URL
	machine_detection INTEGER NOT NULL DEFAULT 0,
	idem_key TEXT NOT NULL UNIQUE,
	owner_type TEXT,                     -- call_attempt, alert, voicemail, sales_notification, handoff
	owner_id INTEGER,
	status TEXT NOT NULL DEFAULT 'pending',
	tries INTEGER NOT NULL DEFAULT 0,
	next_at_ms INTEGER NOT NULL,         -- not before
	sid TEXT UNIQUE,
	status_seq INTEGER NOT NULL DEFAULT -1,
	error_code INTEGER,
	error_message TEXT,
	encoding TEXT,                       -- GSM-7 or UCS-2
	segments INTEGER,
	duration_s INTEGER,
	created_at INTEGER NOT NULL,
	sent_at INTEGER,
	updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, priority, next_at_ms);
CREATE INDEX outbox_owner ON outbox (owner_type, owner_id);

CREATE TABLE sales (
	period TEXT NOT NULL,                -- YYYY-MM
	seller_key TEXT NOT NULL,            -- folded name: case and accents removed
	seller TEXT NOT NULL,
	amount_cents INTEGER NOT NULL,
	imported_at INTEGER NOT NULL,
	source TEXT,
	PRIMARY KEY (period, seller_key)
);
CREATE TABLE sales_settings (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	target_cents INTEGER NOT NULL DEFAULT 5500000,
	currency TEXT NOT NULL DEFAULT 'BRL',
	rule TEXT NOT NULL DEFAULT 'more_than' CHECK (rule IN ('more_than', 'at_least')),
	updated_at INTEGER NOT NULL
);
INSERT INTO sales_settings (id, updated_at) VALUES (1, 0);
CREATE TABLE sales_notify (
	phone TEXT PRIMARY KEY
);
-- One row per seller and period that was announced: the once-only guarantee.
CREATE TABLE sales_notifications (
	period TEXT NOT NULL,
	seller_key TEXT NOT NULL,
	amount_cents INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (period, seller_key)
);

CREATE TABLE api_tokens (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer', 'alerts')),
	hash TEXT NOT NULL UNIQUE,           -- hex SHA-256 of the token; the token is shown once
	created_at INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at INTEGER
);

CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,                 -- token name, person, "sms:+55…"
	action TEXT NOT NULL,                -- people.create, rotation.update, …
	entity_id INTEGER,
	detail TEXT                          -- JSON
);

-- Shift hand-off notices already sent: the engine inserts before queuing, so a restart
-- never sends one twice.
CREATE TABLE handoff_notices (
	shift_start INTEGER PRIMARY KEY,
	person_id INTEGER,
	created_at INTEGER NOT NULL
);
