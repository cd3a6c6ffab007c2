-- 0370_rotation_generation.sql (PostgreSQL) — twin of migrations/0370_rotation_generation.sql:
-- a number that takes a new random value with every statement that changes the rotation or an
-- override, and with every change of someone's number or archival; random from the start when
-- the database already has a rotation.
CREATE TABLE rotation_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n BIGINT NOT NULL
);
INSERT INTO rotation_generation (id, n)
	VALUES (1, CASE WHEN EXISTS (SELECT 1 FROM rotation_versions) OR EXISTS (SELECT 1 FROM overrides)
	                THEN (random() * 9007199254740991)::bigint ELSE 0 END);
CREATE FUNCTION rotation_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE rotation_generation SET n = (random() * 9007199254740991)::bigint;
	RETURN NULL;
END
$$;
CREATE TRIGGER rotation_generation_versions AFTER INSERT OR UPDATE OR DELETE ON rotation_versions
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
CREATE TRIGGER rotation_generation_members AFTER INSERT OR UPDATE OR DELETE ON rotation_members
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
CREATE TRIGGER rotation_generation_overrides AFTER INSERT OR UPDATE OR DELETE ON overrides
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
CREATE TRIGGER rotation_generation_people_upd AFTER UPDATE OF phone, deleted_at ON people
	FOR EACH ROW WHEN (OLD.phone IS DISTINCT FROM NEW.phone OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
	EXECUTE FUNCTION rotation_generation_bump();
CREATE TRIGGER rotation_generation_people_del AFTER DELETE ON people
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
