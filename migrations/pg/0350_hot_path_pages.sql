-- 0350_hot_path_pages.sql (PostgreSQL) — twin of migrations/0350_hot_path_pages.sql: the two
-- indexes that only cost writes go. support_chain stays as it is: a PostgreSQL table is a heap
-- beside its primary key's index whatever it is declared as (there is no WITHOUT ROWID).
DROP INDEX outbox_due;
DROP INDEX support_legs_call;
