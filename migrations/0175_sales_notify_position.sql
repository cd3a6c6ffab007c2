-- 0175_sales_notify_position.sql — the managers' phones to notify keep the order they were given
-- in through an explicit position (SQLite's rowid kept it implicitly; PostgreSQL has no rowid).
ALTER TABLE sales_notify ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE sales_notify SET position = rowid;
