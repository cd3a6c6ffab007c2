/*
 * tests/fuzz/fuzz_common.h — what several libFuzzer targets share: the invariant check that
 * aborts, the UTF-8 validity test of the sales rows, and the in-process server set-up of the
 * HTTP targets (a temporary SQLite database, migrated and seeded with the demo rotation, and
 * the configuration they run under). Each target is built alone by tests/fuzz/run, so the
 * helpers are static and a target uses the ones it needs.
 */
#ifndef PLANTAO_FUZZ_COMMON_H
#define PLANTAO_FUZZ_COMMON_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cfg.h"
#include "db/db.h"
#include "db/demo.h"
#include "rotation/tz.h"

#define FUZZ_PUBLIC "http://fuzz.plantao.invalid"
#define FUZZ_AUTH   "fuzz-auth-token"
#define FUZZ_TOKEN  "fuzz-api-token"

static inline void check(int cond)
{
	if (!cond)
		abort();
}

static inline bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80                  ? 0
		           : *s >= 0xC2 && *s <= 0xDF ? 1
		           : *s >= 0xE0 && *s <= 0xEF ? 2
		           : *s >= 0xF0 && *s <= 0xF4 ? 3
		                                      : 9;

		if (n == 9)
			return false;
		for (size_t i = 1; i <= n; i++)
			if ((s[i] & 0xC0) != 0x80)
				return false;
		s += n + 1;
	}
	return true;
}

/*
 * A server's world in a new directory named after prefix ("/tmp/plantao-fuzz-XXXXXX"): the
 * environment of an HTTP target, cfg loaded from it, the database migrated and seeded, left
 * open in *db. Aborts on any failure: a target that cannot start has nothing to say.
 */
static inline void fuzz_server_world(char *dir_template, struct cfg *cfg, struct db **db)
{
	char db_path[256], err[256];
	bool seeded;

	tz_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!mkdtemp(dir_template))
		abort();
	snprintf(db_path, sizeof db_path, "%s/plantao.db", dir_template);
	setenv("PLANTAO_DB", db_path, 1);
	setenv("PLANTAO_LISTEN", "127.0.0.1:0", 1);
	setenv("PLANTAO_PUBLIC_URL", FUZZ_PUBLIC, 1);
	setenv("PLANTAO_API_TOKEN", FUZZ_TOKEN, 1);
	setenv("TWILIO_AUTH_TOKEN", FUZZ_AUTH, 1);
	setenv("PLANTAO_API_RATE", "0", 1);
	setenv("PLANTAO_LOG_LEVEL", "error", 1);
	if (cfg_load(cfg, err, sizeof err) != RC_OK || db_open(cfg->db_path, db) != RC_OK ||
	    db_migrate(*db, NULL) != RC_OK || demo_seed(*db, cfg->tz, &seeded) != RC_OK)
		abort();
}

#endif
