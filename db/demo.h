/*
 * db/demo.h — the small demo of `make run`: three people and a weekly rotation, inserted
 * only into an empty database.
 */
#ifndef PLANTAO_DEMO_H
#define PLANTAO_DEMO_H

#include <stdbool.h>

#include "db/db.h"

/* Seeds when the people table is empty; *seeded tells whether it did. */
enum rc demo_seed(struct db *db, const char *timezone, bool *seeded);

#endif
