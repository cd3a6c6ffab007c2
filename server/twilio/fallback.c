/*
 * server/twilio/fallback.c — the support line's fallback TwiML (see fallback.h): built from the
 * rotation with twiml_*(), stored with db/fallback_store.c, served by GET /twilio/fallback.xml,
 * rebuilt by an engine job, written to a file by the command line.
 */
#include "twilio/fallback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/fallback_store.h"
#include "db/people.h"
#include "db/rotation.h"
#include "twiml/twiml.h"

#define CHAIN_MAX 512 /* bytes of the chain text: FALLBACK_MAX_DIALS numbers fit many times */

struct job {
	int64_t next_at; /* clock seconds of the next rebuild */
};

static void say(struct twiml *t, bool en, const char *pt, const char *english)
{
	twiml_say(t, en ? english : pt, en ? "Polly.Joanna" : "Polly.Camila", en ? "en-US" : "pt-BR");
}

/* The numbers to dial at now, in order, each once: *n of them into phones. */
static enum rc chain_at(struct db *db, int64_t now, char phones[][PEOPLE_PHONE_BYTES], size_t *n)
{
	int64_t ids[ROTATION_CHAIN_MAX];
	size_t have = 0, i, j;
	struct person p;
	enum rc rc = rotation_backups(db, now, ids, ROTATION_CHAIN_MAX, &have);

	*n = 0;
	for (i = 0; rc == RC_OK && i < have && *n < FALLBACK_MAX_DIALS; i++) {
		bool dup = false;

		rc = people_get(db, ids[i], &p);
		if (rc == RC_NOT_FOUND) { /* archived meanwhile: passed over */
			rc = RC_OK;
			continue;
		}
		for (j = 0; rc == RC_OK && j < *n; j++)
			dup = dup || !strcmp(phones[j], p.phone);
		if (rc == RC_OK && !dup && p.phone[0])
			snprintf(phones[(*n)++], PEOPLE_PHONE_BYTES, "%s", p.phone);
	}
	if (rc == RC_OK && !*n)
		rc = RC_NOT_FOUND;
	return rc;
}

/* The document for phones (n may be 0: the apology only). */
static enum rc render(const struct cfg *c, char phones[][PEOPLE_PHONE_BYTES], size_t n, char **out)
{
	bool en = !strcmp(c->lang, "en");
	struct twiml *t = twiml_new();
	struct twiml_dial d = {0};
	size_t i, len;
	enum rc rc;

	if (n)
		say(t, en, "Olá. Vamos transferir sua ligação para a equipe de plantão.",
		    "Hello. We are putting your call through to the on-call team.");
	d.timeout = c->dial_timeout;
	for (i = 0; i < n; i++) {
		if (i)
			say(t, en, "Tentando outra pessoa da equipe.", "Trying someone else on the team.");
		twiml_dial_begin(t, &d);
		twiml_number(t, phones[i], NULL, NULL);
		twiml_dial_end(t);
	}
	say(t, en, "Desculpe, ninguém da equipe pôde atender agora. Por favor, ligue novamente em alguns minutos.",
	    "Sorry, nobody on the team could answer right now. Please call again in a few minutes.");
	twiml_hangup(t);
	rc = twiml_finish(t, out, &len);
	twiml_free(t);
	return rc;
}

enum rc fallback_build(struct db *db, const struct cfg *c, int64_t now, char **twiml, char **chain)
{
	char phones[FALLBACK_MAX_DIALS][PEOPLE_PHONE_BYTES];
	struct buf b;
	size_t n = 0, i;
	enum rc rc = chain_at(db, now, phones, &n);

	*twiml = *chain = NULL;
	if (rc != RC_OK)
		return rc;
	buf_init(&b, CHAIN_MAX);
	for (i = 0; rc == RC_OK && i < n; i++)
		rc = buf_printf(&b, "%s%s", i ? " " : "", phones[i]);
	if (rc == RC_OK)
		rc = render(c, phones, n, twiml);
	if (rc == RC_OK) {
		*chain = b.len ? buf_steal(&b) : strdup("");
		if (!*chain) {
			free(*twiml);
			*twiml = NULL;
			rc = RC_INTERNAL;
		}
	}
	buf_release(&b);
	return rc;
}

/* "fallback TwiML now dials +55 11 9****-0001, +55 11 9****-0002": numbers masked (LGPD). */
static void log_chain(const char *chain)
{
	char shown[CHAIN_MAX] = "", one[PEOPLE_PHONE_BYTES];
	size_t o = 0;
	const char *p = chain;

	while (*p && o + LOG_PHONE_MAX + 2 < sizeof shown) {
		size_t n = strcspn(p, " ");

		snprintf(one, sizeof one, "%.*s", (int)n, p);
		o += (size_t)snprintf(shown + o, sizeof shown - o, "%s%s", o ? ", " : "", LOG_PHONE(one));
		p += n;
		p += strspn(p, " ");
	}
	log_info("fallback TwiML (%s) now dials %s", FALLBACK_PATH, shown[0] ? shown : "nobody");
}

enum rc fallback_refresh(struct db *db, const struct cfg *c, int64_t now, bool *changed)
{
	char *twiml = NULL, *chain = NULL;
	enum rc rc = fallback_build(db, c, now, &twiml, &chain);

	*changed = false;
	if (rc == RC_OK) {
		rc = fallback_store_put(db, chain, twiml, now, changed);
		if (rc == RC_OK && *changed)
			log_chain(chain);
	} else {
		enum rc have = fallback_store_get(db, NULL, NULL, NULL);

		if (have == RC_OK) {
			log_debug("fallback TwiML kept as stored: the chain could not be built now (%s)", rc_str(rc));
			rc = RC_OK;
		}
	}
	free(twiml);
	free(chain);
	return rc;
}

enum rc fallback_get(struct http_req *req)
{
	char *twiml = NULL, *chain = NULL;
	enum rc rc = fallback_store_get(req->db, &twiml, NULL, NULL);
	bool changed;

	if (rc == RC_NOT_FOUND) { /* first request before the engine's first rebuild */
		rc = fallback_build(req->db, req->app->cfg, clock_now(), &twiml, &chain);
		if (rc == RC_OK && fallback_store_put(req->db, chain, twiml, clock_now(), &changed) != RC_OK)
			log_warn("fallback TwiML built but not stored; served anyway");
		if (rc == RC_NOT_FOUND) { /* nobody to dial: the apology, so Twilio still has a document */
			char none[1][PEOPLE_PHONE_BYTES];

			rc = render(req->app->cfg, none, 0, &twiml);
		}
	}
	if (rc == RC_DB || rc == RC_BUSY) { /* the database failed: Twilio still gets a document */
		char none[1][PEOPLE_PHONE_BYTES];

		log_warn("fallback TwiML could not be read (%s): served the apology without the chain", rc_str(rc));
		free(twiml);
		twiml = NULL;
		rc = render(req->app->cfg, none, 0, &twiml);
	}
	if (rc == RC_OK)
		rc = http_reply(req, 200, "text/xml", twiml, strlen(twiml));
	free(twiml);
	free(chain);
	return rc;
}

enum rc fallback_start(struct app *app, struct db *db, void **state)
{
	struct job *j = calloc(1, sizeof *j);

	(void)app;
	(void)db;
	*state = j;
	return j ? RC_OK : RC_INTERNAL;
}

enum rc fallback_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct job *j = state;
	int64_t now = now_ms / 1000;
	bool changed;
	enum rc rc;

	if (!j || now < j->next_at)
		return RC_OK;
	rc = fallback_refresh(db, app->cfg, now, &changed);
	if (rc == RC_NOT_FOUND)
		rc = RC_OK; /* nobody on call and nothing stored yet: nothing to publish */
	/* a busy writer is tried again at the next tick, anything else at the next interval */
	j->next_at = rc == RC_BUSY ? now : now + FALLBACK_REFRESH_S;
	return rc == RC_BUSY ? RC_OK : rc;
}

void fallback_stop(void *state)
{
	free(state);
}

int fallback_command_file(const char *path)
{
	char err[512], tmp[4096];
	char *twiml = NULL, *chain = NULL;
	struct db *db = NULL;
	struct cfg c;
	FILE *f = NULL;
	int applied, status = 1;
	bool changed;
	enum rc rc;

	if (cfg_load(&c, err, sizeof err) != RC_OK) {
		fprintf(stderr, "plantao twilio fallback: configuration: %s\n", err);
		return 2;
	}
	clock_use_file(c.clock_file);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		fprintf(stderr, "plantao twilio fallback: path too long\n");
		goto out;
	}
	if (db_open(c.db_path, &db) != RC_OK || db_migrate(db, &applied) != RC_OK) {
		fprintf(stderr, "plantao twilio fallback: the database (PLANTAO_DB) could not be opened\n");
		goto out;
	}
	rc = fallback_refresh(db, &c, clock_now(), &changed);
	if (rc == RC_OK)
		rc = fallback_store_get(db, &twiml, &chain, NULL);
	if (rc == RC_NOT_FOUND) {
		fprintf(stderr, "plantao twilio fallback: nobody is on call (no rotation or nobody in it): there is "
		                "nobody to dial\n");
		goto out;
	}
	if (rc != RC_OK) {
		fprintf(stderr, "plantao twilio fallback: the document could not be built (%s)\n", rc_str(rc));
		goto out;
	}
	f = fopen(tmp, "w");
	if (!f || fputs(twiml, f) < 0 || fflush(f) || fsync(fileno(f))) {
		fprintf(stderr, "plantao twilio fallback: cannot write %s\n", tmp);
		goto out;
	}
	if (fclose(f)) {
		f = NULL;
		fprintf(stderr, "plantao twilio fallback: cannot write %s\n", tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path)) {
		fprintf(stderr, "plantao twilio fallback: cannot rename %s to %s\n", tmp, path);
		goto out;
	}
	printf("wrote %s: dials %s; publish it on a static host and set PLANTAO_FALLBACK_URL to its https:// "
	       "address, then run `plantao twilio setup`\n",
	       path, chain);
	status = 0;
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	free(twiml);
	free(chain);
	db_close(db);
	cfg_release(&c);
	return status;
}
