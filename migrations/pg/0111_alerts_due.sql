-- 0111_alerts_due.sql (PostgreSQL) — twin of migrations/0111_alerts_due.sql: the partial index
-- of open alerts by step that serves alerts_due.
CREATE INDEX alerts_open_step ON alerts (step, id) WHERE status = 'triggered';
