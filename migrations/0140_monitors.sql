-- 0140_monitors.sql — monitors (issue 15): heartbeats that jobs ping (dead man's switches) and
-- their pings. A ping is one INSERT into monitor_pings (folded = 0); the monitor thread folds
-- pings into the monitor's state in id order and keeps the newest 100 per monitor. next_ms is
-- when the thread must look at a monitor again (late, then down); NULL: only a ping changes it.
-- Uptime checks (kind http, tcp) keep their results as pings too (success or fail, the
-- failure in words in body).
CREATE TABLE monitors (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('heartbeat', 'http', 'tcp')),
	name TEXT NOT NULL,
	secret TEXT UNIQUE,
	period_s INTEGER,
	grace_s INTEGER NOT NULL,
	schedule TEXT,
	tz TEXT NOT NULL,
	severity TEXT NOT NULL,
	paused INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'up', 'late', 'down')),
	state_since_ms INTEGER NOT NULL,
	last_ping_ms INTEGER,
	last_ping_kind TEXT,
	last_start_ms INTEGER,
	last_duration_ms INTEGER,
	due_ms INTEGER,
	next_ms INTEGER,
	alert_id INTEGER REFERENCES alerts (id),
	-- uptime checks (kind http: target is the URL; tcp: host:port)
	target TEXT,
	interval_s INTEGER,
	timeout_s INTEGER,
	expect_status TEXT,
	keyword TEXT,
	follow_redirects INTEGER NOT NULL DEFAULT 0,
	failures_before_alert INTEGER NOT NULL DEFAULT 1,
	cert_warn_days INTEGER NOT NULL DEFAULT 14,
	tls_verify INTEGER NOT NULL DEFAULT 1,
	fail_streak INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	last_response_ms INTEGER,
	cert_expires_at INTEGER,
	cert_alert_id INTEGER REFERENCES alerts (id),
	flips INTEGER NOT NULL DEFAULT 0,
	flips_since_ms INTEGER,
	flapping INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX monitors_next ON monitors (next_ms) WHERE next_ms IS NOT NULL;

CREATE TABLE monitor_pings (
	id INTEGER PRIMARY KEY,
	monitor_id INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
	at_ms INTEGER NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('success', 'start', 'fail')),
	exit_status INTEGER,
	method TEXT NOT NULL,
	body TEXT,
	response_ms INTEGER,
	folded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX monitor_pings_monitor ON monitor_pings (monitor_id, id);
CREATE INDEX monitor_pings_unfolded ON monitor_pings (id) WHERE folded = 0;
