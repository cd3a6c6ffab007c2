-- 0020_people_deleted.sql (PostgreSQL) — twin of migrations/0020_people_deleted.sql: people
-- who appear in the history are archived instead of deleted.
ALTER TABLE people ADD COLUMN deleted_at BIGINT;
CREATE INDEX overrides_person ON overrides (person_id);
CREATE INDEX rotation_members_person ON rotation_members (person_id);
CREATE INDEX support_legs_call ON support_legs (call_id, leg);
