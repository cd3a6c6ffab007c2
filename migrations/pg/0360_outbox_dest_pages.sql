-- 0360_outbox_dest_pages.sql (PostgreSQL) — twin of migrations/0360_outbox_dest_pages.sql:
-- outbox_dest holds pages only, the rows the per-destination limits count.
DROP INDEX outbox_dest;
CREATE INDEX outbox_dest ON outbox (to_number, attempt_at_ms) WHERE class = 'alert';
