-- 0211_shift_swaps.sql — "trocar turno": from_person asks to_person to take [start_at, end_at) of
-- their on-call time; when both have confirmed, the time becomes an override of to_person
-- (override_id). status: pending, accepted, declined, canceled. Times in seconds.
CREATE TABLE shift_swaps (
	id INTEGER PRIMARY KEY,
	from_person INTEGER NOT NULL REFERENCES people (id),
	to_person INTEGER NOT NULL REFERENCES people (id),
	start_at INTEGER NOT NULL,
	end_at INTEGER NOT NULL CHECK (end_at > start_at),
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined', 'canceled')),
	from_confirmed_at INTEGER,
	to_confirmed_at INTEGER,
	override_id INTEGER REFERENCES overrides (id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	closed_at INTEGER
);
CREATE INDEX shift_swaps_people ON shift_swaps (from_person, to_person);
