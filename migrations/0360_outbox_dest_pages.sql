-- 0360_outbox_dest_pages.sql — fewer index entries moved by each text claimed (issue 18).
--
-- outbox_dest (to_number, attempt_at_ms) serves the per-destination limits
-- (db/outbox.c outbox_dest_recent), which count pages only (class = 'alert'). A claim sets
-- attempt_at_ms, so every text moved its entry, notices and support-line texts too, for a
-- count that never reads them. Pages only now; the statement's own class = 'alert' lets it use
-- the index. (class, not kind: a condition on kind would make SQLite re-prepare the statements
-- that bind kind = ?N whenever that value changes; see 0112.)
DROP INDEX outbox_dest;
CREATE INDEX outbox_dest ON outbox (to_number, attempt_at_ms) WHERE class = 'alert';
