-- Hand-off notices keyed by (boundary, person) instead of the boundary alone: an override
-- replaced by another with the same start is announced to its new person, and the notices
-- keep their order (id) so the job knows who was told last that they are on call.
CREATE TABLE handoff_notices_by_person (
	id INTEGER PRIMARY KEY,
	shift_start INTEGER NOT NULL,
	person_id INTEGER,
	created_at INTEGER NOT NULL,
	UNIQUE (shift_start, person_id)
);
INSERT INTO handoff_notices_by_person (shift_start, person_id, created_at)
	SELECT shift_start, person_id, created_at FROM handoff_notices ORDER BY created_at, shift_start;
DROP TABLE handoff_notices;
ALTER TABLE handoff_notices_by_person RENAME TO handoff_notices;
