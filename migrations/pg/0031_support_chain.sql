-- 0031_support_chain.sql (PostgreSQL) — twin of migrations/0031_support_chain.sql: the people
-- the support line may dial for one call, in order, fixed when the call arrives.
CREATE TABLE support_chain (
	call_id BIGINT NOT NULL REFERENCES support_calls (id),
	position BIGINT NOT NULL,
	person_id BIGINT REFERENCES people (id) ON DELETE SET NULL,
	phone TEXT NOT NULL,
	PRIMARY KEY (call_id, position)
);
ALTER TABLE support_legs ADD COLUMN chain_position BIGINT;
