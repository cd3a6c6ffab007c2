-- 0110_outbox_due_order.sql (PostgreSQL) — twin of migrations/0110_outbox_due_order.sql: the
-- partial indexes that serve outbox_due in the sender's order.
CREATE INDEX outbox_due_class ON outbox (kind, class, priority, id) WHERE status IN ('pending', 'retry');
CREATE INDEX outbox_due_order ON outbox (kind, priority, id) WHERE status IN ('pending', 'retry');
