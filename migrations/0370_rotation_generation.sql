-- 0370_rotation_generation.sql — a counter of the changes that can move who is on call.
--
-- A new support call reads the rotation before it waits for the writer lock (issue 18: the
-- lock is held for the writes only). Whatever commits in between (an override, a new rotation,
-- someone archived or their number corrected, by this process, another one or `plantao`)
-- bumps rotation_generation.n through these triggers; the call compares it under the lock and
-- reads the chain again when it moved (server/twilio/voice.c incoming_twiml). A column of
-- people that no chain reads (a name, an e-mail, a login) leaves it alone.
CREATE TABLE rotation_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n INTEGER NOT NULL
);
INSERT INTO rotation_generation (id, n) VALUES (1, 0);
CREATE TRIGGER rotation_generation_versions_ins AFTER INSERT ON rotation_versions
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_versions_upd AFTER UPDATE ON rotation_versions
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_versions_del AFTER DELETE ON rotation_versions
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_members_ins AFTER INSERT ON rotation_members
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_members_upd AFTER UPDATE ON rotation_members
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_members_del AFTER DELETE ON rotation_members
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_overrides_ins AFTER INSERT ON overrides
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_overrides_upd AFTER UPDATE ON overrides
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_overrides_del AFTER DELETE ON overrides
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_people_upd AFTER UPDATE OF phone, deleted_at ON people
BEGIN UPDATE rotation_generation SET n = n + 1; END;
CREATE TRIGGER rotation_generation_people_del AFTER DELETE ON people
BEGIN UPDATE rotation_generation SET n = n + 1; END;
