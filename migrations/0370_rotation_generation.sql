-- 0370_rotation_generation.sql — a number that changes with every change that can move who is
-- on call.
--
-- A new support call reads the rotation before it waits for the writer lock (issue 18: the
-- lock is held for the writes only), and new calls take the chain from memory while the
-- rotation is unchanged (server/rotation/chain_memo.c). Whatever commits (an override, a new
-- rotation, someone archived or their number corrected, by this process, another one or
-- `plantao`) gives rotation_generation.n a new random value through these triggers; a call
-- compares it under the lock and reads the chain again when it differs, and the memo answers
-- only for the value it was read at. Random, not a count: a database restored, copied or
-- upgraded cannot come back to a value a running process remembers with other content. A
-- database that has a rotation when it is upgraded starts at a random value too; a new one
-- starts at 0 (no rotation: every new database has the same chain, nobody). A change to a
-- column of people that no chain reads (a name, an e-mail, a login) leaves it alone.
CREATE TABLE rotation_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n INTEGER NOT NULL
);
INSERT INTO rotation_generation (id, n)
	VALUES (1, CASE WHEN EXISTS (SELECT 1 FROM rotation_versions) OR EXISTS (SELECT 1 FROM overrides)
	                THEN random() ELSE 0 END);
CREATE TRIGGER rotation_generation_versions_ins AFTER INSERT ON rotation_versions
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_versions_upd AFTER UPDATE ON rotation_versions
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_versions_del AFTER DELETE ON rotation_versions
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_members_ins AFTER INSERT ON rotation_members
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_members_upd AFTER UPDATE ON rotation_members
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_members_del AFTER DELETE ON rotation_members
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_overrides_ins AFTER INSERT ON overrides
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_overrides_upd AFTER UPDATE ON overrides
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_overrides_del AFTER DELETE ON overrides
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_people_upd AFTER UPDATE OF phone, deleted_at ON people
	WHEN OLD.phone IS NOT NEW.phone OR OLD.deleted_at IS NOT NEW.deleted_at
BEGIN UPDATE rotation_generation SET n = random(); END;
CREATE TRIGGER rotation_generation_people_del AFTER DELETE ON people
BEGIN UPDATE rotation_generation SET n = random(); END;
