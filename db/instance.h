/*
 * db/instance.h — this process's instance id: the name under which it claims outbox rows
 * (db/outbox.c, the lease of a send in flight) and reports itself (/healthz, the `instance`
 * label of /metrics). Several instances may share one PostgreSQL database (docs/DEPLOY.md);
 * the id tells them apart, and a restarted process gets a new one (its pid and start time
 * differ), so rows claimed by its previous life are reconciled like any dead instance's.
 */
#ifndef PLANTAO_DB_INSTANCE_H
#define PLANTAO_DB_INSTANCE_H

/* Longest id, NUL included. */
#define INSTANCE_ID_MAX 96

/*
 * "host:pid:start", start in Unix seconds of the wall clock when first asked (engine_start asks
 * at start-up). Built once; borrowed for the life of the process; any thread.
 */
const char *instance_id(void);

#endif
