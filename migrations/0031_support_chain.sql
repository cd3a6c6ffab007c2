-- The people the support line may dial for one call, in order, fixed when the call arrives
-- (the on-call person first, then the rotation). Editing overrides or archiving someone while
-- the call rings cannot change it: each leg records the chain position it dialled.
CREATE TABLE support_chain (
	call_id INTEGER NOT NULL REFERENCES support_calls (id),
	position INTEGER NOT NULL,
	person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
	phone TEXT NOT NULL,
	PRIMARY KEY (call_id, position)
);
ALTER TABLE support_legs ADD COLUMN chain_position INTEGER;
