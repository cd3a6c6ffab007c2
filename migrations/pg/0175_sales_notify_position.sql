-- 0175_sales_notify_position.sql (PostgreSQL) — twin of migrations/0175_sales_notify_position.sql:
-- the managers' phones to notify keep the order they were given in (an explicit position).
ALTER TABLE sales_notify ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
