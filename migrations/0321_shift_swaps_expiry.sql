-- 0321_shift_swaps_expiry.sql — a swap waits for its answers until expires_at (a day after it
-- was asked, or its end if sooner; server/api/swap_flow.c): a confirmation after that, by SMS or
-- in the console, is refused and the swap shows as expired. NULL: a swap asked before, no limit.
ALTER TABLE shift_swaps ADD COLUMN expires_at INTEGER;
