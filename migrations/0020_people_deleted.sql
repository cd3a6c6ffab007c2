-- 0020_people_deleted.sql — people who appear in the history (past rotation versions, past
-- overrides) are archived instead of deleted, so "who was on call" keeps naming them.
ALTER TABLE people ADD COLUMN deleted_at INTEGER;
CREATE INDEX overrides_person ON overrides (person_id);
CREATE INDEX rotation_members_person ON rotation_members (person_id);
CREATE INDEX support_legs_call ON support_legs (call_id, leg);
