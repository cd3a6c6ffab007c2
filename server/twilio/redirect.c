/*
 * server/twilio/redirect.c — the call-redirect engine job (see redirect.h). Runs on the engine
 * thread with the engine's connection; a row is claimed in a committed transaction before its
 * request and its outcome recorded in another, never a transaction across the network.
 */
#include "twilio/redirect.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/app.h"
#include "core/cfg.h"
#include "core/log.h"
#include "db/call_redirects.h"
#include "http/metrics.h"
#include "twilio/twilio.h"

struct redirect {
	struct twilio *tw;
};

enum rc redirect_start(struct app *app, struct db *db, void **state)
{
	(void)app;
	(void)db;
	*state = calloc(1, sizeof(struct redirect));
	return *state ? RC_OK : RC_INTERNAL;
}

static void done(struct app *app, struct db *db, const struct call_redirect *r, const struct twilio_result *res,
                 enum rc rc, int64_t now_ms)
{
	char why[320];

	if (rc == RC_OK && res->outcome == TWILIO_OK) {
		call_redirects_result(db, r->id, "done", now_ms, "done");
		log_info("call %s: given %s", r->call_sid, r->url);
		metrics_count(app->metrics, "plantao_call_redirects_total", "result=\"done\"", 1);
		return;
	}
	snprintf(why, sizeof why, "HTTP %ld %d %s", res->http_status, res->error_code, res->error_message);
	if (rc == RC_OK && res->outcome == TWILIO_PERMANENT) {
		call_redirects_result(db, r->id, "failed", now_ms, why);
		log_warn("call %s: Twilio refused new TwiML (%s): the answering machine keeps what it had", r->call_sid,
		         why);
		metrics_count(app->metrics, "plantao_call_redirects_total", "result=\"refused\"", 1);
		return;
	}
	if (now_ms + REDIRECT_RETRY_MS - r->created_at_ms > REDIRECT_MAX_AGE_MS) {
		call_redirects_result(db, r->id, "failed", now_ms, why);
		log_warn("call %s: new TwiML not given in %d s (%s): given up, the answering machine keeps what it had",
		         r->call_sid, REDIRECT_MAX_AGE_MS / 1000, why);
		metrics_count(app->metrics, "plantao_call_redirects_total", "result=\"given_up\"", 1);
		return;
	}
	call_redirects_result(db, r->id, "pending", now_ms + REDIRECT_RETRY_MS, why);
	log_warn("call %s: new TwiML not given yet (%s); trying again", r->call_sid, why);
}

enum rc redirect_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct redirect *s = state;
	const struct cfg *c = app->cfg;
	struct call_redirect rows[REDIRECT_PER_TICK];
	size_t n = 0, i;
	enum rc rc;

	if (!s || !cfg_has_twilio(c))
		return RC_OK;
	rc = call_redirects_claim(db, now_ms, REDIRECT_PER_TICK, rows, &n);
	if (rc != RC_OK || !n)
		return rc;
	if (!s->tw) {
		rc = twilio_new(c->twilio_api_base, c->twilio_sid, c->twilio_token, c->public_url, &s->tw);
		if (rc != RC_OK)
			return rc; /* the claims are due again after CALL_REDIRECT_CLAIM_MS */
	}
	for (i = 0; i < n; i++) {
		struct twilio_result res;

		rc = twilio_redirect_call(s->tw, rows[i].call_sid, rows[i].url, &res);
		done(app, db, &rows[i], &res, rc == RC_INTERNAL ? RC_INTERNAL : RC_OK, now_ms);
	}
	return RC_OK;
}

void redirect_stop(void *state)
{
	struct redirect *s = state;

	if (!s)
		return;
	twilio_free(s->tw);
	free(s);
}
