-- 0370_rotation_generation.sql (PostgreSQL) — twin of migrations/0370_rotation_generation.sql:
-- a counter of the changes that can move who is on call, bumped once per statement that
-- changes the rotation, an override, or someone's number or archival.
CREATE TABLE rotation_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n BIGINT NOT NULL
);
INSERT INTO rotation_generation (id, n) VALUES (1, 0);
CREATE FUNCTION rotation_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE rotation_generation SET n = n + 1;
	RETURN NULL;
END
$$;
CREATE TRIGGER rotation_generation_versions AFTER INSERT OR UPDATE OR DELETE ON rotation_versions
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
CREATE TRIGGER rotation_generation_members AFTER INSERT OR UPDATE OR DELETE ON rotation_members
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
CREATE TRIGGER rotation_generation_overrides AFTER INSERT OR UPDATE OR DELETE ON overrides
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
CREATE TRIGGER rotation_generation_people AFTER UPDATE OF phone, deleted_at OR DELETE ON people
	FOR EACH STATEMENT EXECUTE FUNCTION rotation_generation_bump();
