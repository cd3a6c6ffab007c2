/*
 * server/twilio/otp_call.c — TwiML of one-time codes sent by voice call (see otp_call.h).
 * The digits are unsealed (server/auth/otp.c) only for the signed request of Twilio and only
 * while the code can still be used. Callback URLs carry no query string.
 */
#include "twilio/otp_call.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "auth/otp.h"
#include "core/app.h"
#include "core/clock.h"
#include "db/auth.h"
#include "twiml/twiml.h"

static void say(struct twiml *t, struct app *app, const char *text)
{
	bool en = app_lang_en(app);

	twiml_say(t, text, en ? "Polly.Joanna" : "Polly.Camila", en ? "en-US" : "pt-BR");
}

static enum rc reply(struct http_req *req, bool gathered)
{
	struct app *app = req->app;
	bool en = app_lang_en(app);
	struct auth_otp o;
	struct twiml *t;
	struct twiml_gather g = {0};
	char digits[OTP_DIGITS + 1], text[160], action[1024];
	const char *digit_pressed = form_get(&req->form, "Digits");
	int64_t id;
	size_t used = 0, i;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc != RC_OK)
		return http_fail(req, rc, "no such code");
	rc = auth_otp_get(req->db, id, &o);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		return rc;
	t = twiml_new();
	if (!t)
		return http_fail(req, RC_INTERNAL, "out of memory");
	if (gathered && (!digit_pressed || strcmp(digit_pressed, "1") != 0)) {
		say(t, app, en ? "Goodbye." : "Até logo.");
		twiml_hangup(t);
		return http_reply_twiml(req, t);
	}
	if (rc == RC_NOT_FOUND || o.used_at || o.replaced_at || o.expires_at <= clock_now() ||
	    o.locked_until > clock_now() || otp_spoken_digits(app, &o, digits) != RC_OK) {
		say(t, app,
		    en ? "This plantao code is no longer valid. Please ask for a new one. Goodbye."
		       : "Este código do plantão não vale mais. Peça um novo. Até logo.");
		twiml_hangup(t);
		return http_reply_twiml(req, t);
	}
	used = (size_t)snprintf(text, sizeof text, "%s", en ? "Your plantao code is: " : "Seu código do plantão é: ");
	for (i = 0; i < OTP_DIGITS && used < sizeof text; i++)
		used += (size_t)snprintf(text + used, sizeof text - used, "%c%s", digits[i],
		                         i + 1 < OTP_DIGITS ? ", " : ".");
	OPENSSL_cleanse(digits, sizeof digits);
	snprintf(action, sizeof action, "%s/twilio/otp-call/%lld/gather", app->cfg->public_url, (long long)id);
	g.num_digits = 1;
	g.action = action;
	g.method = "POST";
	g.timeout = OTP_CALL_GATHER_TIMEOUT;
	twiml_gather_begin(t, &g);
	say(t, app, text);
	twiml_pause(t, 1);
	say(t, app, text);
	twiml_pause(t, 1);
	say(t, app, en ? "Press 1 to hear it again." : "Pressione 1 para repetir.");
	twiml_gather_end(t);
	say(t, app, en ? "Goodbye." : "Até logo.");
	twiml_hangup(t);
	OPENSSL_cleanse(text, sizeof text);
	return http_reply_twiml(req, t);
}

enum rc otp_call_twiml(struct http_req *req)
{
	return reply(req, false);
}

enum rc otp_call_gather(struct http_req *req)
{
	return reply(req, true);
}
