/*
 * server/voice.c — POST /twilio/voice. Until the rotation is wired in, the line answers that
 * it is being set up, so the whole chain (signature, routing, TwiML builder) is exercised.
 */
#include "voice.h"

#include "server/app.h"
#include "twiml/twiml.h"

enum rc voice_incoming(struct http_req *req)
{
	struct twiml *t = twiml_new();
	bool en = app_lang_en(req->app);

	if (!t)
		return RC_INTERNAL;
	twiml_say(t, en ? "This support line is being set up. Please call again later."
			: "Esta linha de suporte está sendo configurada. Por favor, ligue mais tarde.",
		  "Polly.Camila", en ? "en-US" : "pt-BR");
	twiml_hangup(t);
	return http_reply_twiml(req, t);
}
