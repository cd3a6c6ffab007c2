-- 0111_alerts_due.sql — the engine asks every tick which open alerts need it (db/alerts.c
-- alerts_due): those not paged yet are read from this partial index (open alerts only, by step
-- then age) instead of a scan of every open alert; those past their step deadline already come
-- from alerts_status (status, step_deadline).
CREATE INDEX alerts_open_step ON alerts (step, id) WHERE status = 'triggered';
