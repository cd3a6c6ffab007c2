-- 0321_shift_swaps_expiry.sql (PostgreSQL) — twin of migrations/0321_shift_swaps_expiry.sql: how
-- long a swap waits for its answers.
ALTER TABLE shift_swaps ADD COLUMN expires_at BIGINT;
