-- 0350_hot_path_pages.sql — fewer b-tree pages written per text sent and per new support call
-- (issue 18: the commit and the chain's storage were the new call's cost, each index entry
-- rewritten the outbox's).
--
-- outbox_due (status, priority, next_at_ms) serves nothing any more: what is due is read from
-- outbox_due_class / outbox_due_order (0110), rows by status from outbox_status_updated
-- (status, updated_at) and the rows being sent from outbox_lease (0190). Each claim and each
-- answer moved the row's entry in it for nothing.
DROP INDEX outbox_due;

-- support_legs_call (call_id, leg) repeats the index of support_legs' UNIQUE (call_id, leg).
DROP INDEX support_legs_call;

-- The chain of a call stored WITHOUT ROWID: one b-tree ordered by (call_id, position) instead
-- of a table and its primary key's index, both written for every new call. Same columns in the
-- same order (db/copy.c reads it with SELECT *); nothing refers to it.
CREATE TABLE support_chain_new (
	call_id INTEGER NOT NULL REFERENCES support_calls (id),
	position INTEGER NOT NULL,
	person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
	phone TEXT NOT NULL,
	PRIMARY KEY (call_id, position)
) WITHOUT ROWID;
INSERT INTO support_chain_new (call_id, position, person_id, phone)
	SELECT call_id, position, person_id, phone FROM support_chain;
DROP TABLE support_chain;
ALTER TABLE support_chain_new RENAME TO support_chain;
