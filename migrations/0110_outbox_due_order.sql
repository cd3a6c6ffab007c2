-- 0110_outbox_due_order.sql — indexes that serve "what is due next" (db/outbox.c outbox_due) in
-- the sender's order without reading and sorting every waiting row: the waiting rows of one
-- class in (priority, id) order, and of all classes in that order (for the support line's and
-- other texts, which share one place in the order). Partial: waiting rows only, so they stay as
-- small as the queue whatever the table's history.
CREATE INDEX outbox_due_class ON outbox (kind, class, priority, id) WHERE status IN ('pending', 'retry');
CREATE INDEX outbox_due_order ON outbox (kind, priority, id) WHERE status IN ('pending', 'retry');
