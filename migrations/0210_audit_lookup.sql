-- 0210_audit_lookup.sql — the audit log is read by entity (who acknowledged alert N) and by
-- time (the console's audit page filtered by period), not only newest first.
CREATE INDEX audit_action_entity ON audit (action, entity_id, id);
CREATE INDEX audit_at ON audit (at);
