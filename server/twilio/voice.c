/*
 * server/twilio/voice.c — the support line (routes in voice.h). Twilio voice TwiML reference:
 * https://www.twilio.com/docs/voice/twiml/dial, …/number (url: the whisper), …/gather,
 * …/record.
 *
 * A call, step by step:
 * 1. /twilio/voice records the call (support_calls, keyed by CallSid so a retried webhook
 *    answers the same), greets the caller and dials leg 0: the person on call.
 * 2. When a leg answers, Twilio runs the <Number url> on that leg before bridging: the
 *    whisper says who is calling and waits for 1. No key (an answering machine or the
 *    phone's own voicemail picked up) ends in <Hangup/> on that leg, so a developer's
 *    voicemail can never swallow the customer's call. 1 marks the leg accepted and answers
 *    an empty <Response/>, which bridges.
 * 3. The <Dial action> (dial-status) decides from the recorded acceptance, not from
 *    DialCallStatus alone (a declined whisper still reports "completed"): accepted → the
 *    call is over, <Hangup/>; otherwise the next person of the chain, then voicemail. The
 *    chain (schedule_backups when the call came in) is stored with the call's first leg
 *    (support_chain) and each leg records its position: deleting an override or archiving
 *    someone while the call rings can neither dial one person twice nor skip another
 *    (someone archived meanwhile is passed over, nobody else moves).
 * 4. /twilio/voice/voicemail stores the recording and queues an SMS to the person on call
 *    (outbox, idempotency key "voicemail:{CallSid}").
 */
#include "twilio/voice.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/calls.h"
#include "db/outbox.h"
#include "db/people.h"
#include "db/rotation.h"
#include "core/app.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "rotation/chain_memo.h"
#include "twiml/twiml.h"

#define URL_MAX 1024

/* ---------------------------------------------------------------- helpers */

static void say(struct twiml *t, struct http_req *req, const char *pt, const char *en)
{
	bool e = app_lang_en(req->app);

	twiml_say(t, e ? en : pt, e ? "Polly.Joanna" : "Polly.Camila", e ? "en-US" : "pt-BR");
}

static enum rc url(struct http_req *req, char *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum rc url(struct http_req *req, char *out, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(out, URL_MAX, "%s", req->app->cfg->public_url);
	va_list ap;
	int m;

	if (n >= URL_MAX)
		return RC_TOO_BIG;
	va_start(ap, fmt);
	m = vsnprintf(out + n, URL_MAX - n, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)m >= URL_MAX - n ? RC_TOO_BIG : RC_OK;
}

static enum rc reply(struct http_req *req, struct twiml *t)
{
	return http_reply_twiml(req, t);
}

/* The number read digit by digit ("5 5 2 1 …"), or NULL when it is not E.164 (withheld). */
static const char *spelled(const char *e164, char *out, size_t len)
{
	size_t i, n = 0;

	if (!e164 || !cfg_is_e164(e164))
		return NULL;
	for (i = 1; e164[i] && n + 3 < len; i++) {
		out[n++] = e164[i];
		out[n++] = ' ';
	}
	out[n ? n - 1 : 0] = '\0';
	return out;
}

/*
 * The person the support line dials first for a call that came in at `at`, computed now: the
 * person on call, else the first of the rotation with a usable record. For voicemails of
 * calls that have no stored chain. RC_NOT_FOUND when nobody.
 */
static enum rc first_person(struct db *db, int64_t at, struct person *out)
{
	int64_t ids[ROTATION_CHAIN_MAX];
	size_t n = 0, i;
	enum rc rc = rotation_backups(db, at, ids, ROTATION_CHAIN_MAX, &n);

	if (rc != RC_OK)
		return rc;
	for (i = 0; i < n; i++) {
		rc = people_get(db, ids[i], out);
		if (rc != RC_NOT_FOUND)
			return rc;
	}
	return RC_NOT_FOUND;
}

_Static_assert(CALLS_CHAIN_MAX == ROTATION_CHAIN_MAX, "a stored chain holds the rotation's");

/*
 * The chain of a call that came in at `at`: the person on call first, then the rotation in
 * order, people without a usable record left out (*n 0: nobody). From memory while the
 * rotation is unchanged (rotation/chain_memo.h); *generation: the rotation's value it is for,
 * read first, so a change committed after it shows in the value even read apart.
 */
static enum rc chain_read(struct app *app, struct db *db, int64_t at, struct calls_link *out, size_t *n,
                          int64_t *generation)
{
	enum rc rc = rotation_generation(db, generation);

	*n = 0;
	return rc == RC_OK ? chain_memo_read(app->chain_memo, db, *generation, at, out, n) : rc;
}

/*
 * Stores the chain of call_id once (in the caller's transaction), from the rotation at `at`
 * (chain_read). A no-op when it is stored already (a retried webhook, a later leg).
 */
static enum rc chain_fix(struct app *app, struct db *db, int64_t call_id, int64_t at)
{
	struct calls_link chain[ROTATION_CHAIN_MAX];
	size_t n = 0;
	int64_t generation = 0;
	int have = 0;
	enum rc rc = calls_chain_size(db, call_id, &have);

	if (rc != RC_OK || have)
		return rc;
	rc = chain_read(app, db, at, chain, &n, &generation);
	return rc == RC_OK ? calls_chain_put(db, call_id, chain, n) : rc;
}

/*
 * The first person of call_id's stored chain at a position after `after` who is still on the
 * team (current record: a corrected phone number is used). *pos: that position. RC_NOT_FOUND
 * at the end of the chain.
 */
static enum rc chain_next(struct db *db, int64_t call_id, int after, int *pos, struct person *out)
{
	int64_t id;
	int p;
	enum rc rc;

	for (p = after + 1; p < ROTATION_CHAIN_MAX; p++) {
		rc = calls_chain_get(db, call_id, p, &id);
		if (rc != RC_OK)
			return rc;
		if (!id)
			continue;
		rc = people_get(db, id, out);
		if (rc == RC_NOT_FOUND) /* archived since the call came in: passed over */
			continue;
		if (rc != RC_OK)
			return rc;
		*pos = p;
		return RC_OK;
	}
	return RC_NOT_FOUND;
}

/* <Dial> of one leg: the caller's number as caller ID, whisper on the leg, action with the leg. */
static enum rc dial(struct twiml *t, struct http_req *req, const struct calls_call *call, const struct calls_leg *leg)
{
	char action[URL_MAX], whisper[URL_MAX];
	struct twiml_dial d = {0};

	if (url(req, action, "/twilio/voice/dial-status/%lld/%d", (long long)call->id, leg->leg) != RC_OK ||
	    url(req, whisper, "/twilio/voice/whisper/%lld/%d", (long long)call->id, leg->leg) != RC_OK)
		return RC_TOO_BIG;
	d.timeout = req->app->cfg->dial_timeout;
	d.caller_id = cfg_is_e164(call->caller) ? call->caller : NULL;
	d.answer_on_bridge = true;
	d.action = action;
	d.method = "POST";
	twiml_dial_begin(t, &d);
	twiml_number(t, leg->phone, whisper, NULL);
	twiml_dial_end(t);
	return RC_OK;
}

static enum rc voicemail_prompt(struct twiml *t, struct http_req *req)
{
	char action[URL_MAX], transcribe[URL_MAX];
	struct twiml_record r = {0};
	bool en = app_lang_en(req->app);

	if (url(req, action, "/twilio/voice/voicemail") != RC_OK ||
	    url(req, transcribe, "/twilio/voice/transcription") != RC_OK)
		return RC_TOO_BIG;
	say(t, req, "Deixe sua mensagem após o sinal, com seu nome e telefone. Para terminar, desligue.",
	    "Please leave a message after the tone, with your name and number. Hang up when you are done.");
	r.max_length = req->app->cfg->voicemail_max;
	r.action = action;
	r.method = "POST";
	r.play_beep = 1;
	/*
	 * Twilio's <Record> transcription only understands English and only transcribes recordings
	 * of 2 to 120 s (warning 13617 otherwise). With a longer limit a voicemail is recorded
	 * without asking for it (the SMS carries the recording's link either way); at the default
	 * limit of 120 s it is asked for, and only a message cut off at the limit goes untranscribed.
	 */
	r.transcribe = en && req->app->cfg->voicemail_max <= VOICE_TRANSCRIBE_MAX_S;
	r.transcribe_callback = r.transcribe ? transcribe : NULL;
	twiml_record(t, &r);
	say(t, req, "Não recebemos nenhuma mensagem. Até logo.", "We did not get a message. Goodbye.");
	twiml_hangup(t);
	return RC_OK;
}

static const char *form(struct http_req *req, const char *name)
{
	const char *v = form_get(&req->form, name);

	return v ? v : "";
}

/* ---------------------------------------------------------------- incoming call */

static enum rc incoming_twiml(struct http_req *req)
{
	const char *sid = form(req, "CallSid"), *from = form(req, "From");
	const char *caller = from[0] ? from : "unknown", *called = form_get(&req->form, "To");
	struct calls_link chain[ROTATION_CHAIN_MAX];
	struct calls_call call;
	struct calls_leg leg;
	struct person p;
	size_t n = 0;
	struct twiml *t = NULL;
	int64_t now = clock_now(), generation = 0, now_generation = 0;
	bool created, nobody = false;
	int pos = 0;
	enum rc rc;

	if (!sid[0])
		return http_fail(req, RC_INVALID, "CallSid missing");
	/* Twilio's retry of a call already dialled: answered from one read, no write transaction
	 * (it needs no writer lock, so it is answered even while a long write holds it). */
	rc = calls_find_first_leg(req->db, sid, &call, &leg);
	if (rc == RC_OK)
		goto answer;
	if (rc != RC_NOT_FOUND)
		return rc;
	/* A new call. Who is on call and the chain are read before the write transaction, on one
	 * snapshot (from memory while the rotation is unchanged: rotation/chain_memo.h), so the
	 * writer lock is held for the writes only: the call, its chain and leg 0. */
	rc = db_read_begin(req->db);
	if (rc == RC_OK)
		rc = chain_read(req->app, req->db, now, chain, &n, &generation);
	db_read_end(req->db);
	if (rc != RC_OK)
		return rc;
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return rc;
	/* Whatever committed while the call waited for the lock and can move who is on call (an
	 * override, a new rotation, someone archived or their number corrected) changed the value:
	 * then the chain is read again, so the call rings who is on call when it is written. */
	rc = rotation_generation(req->db, &now_generation);
	if (rc == RC_OK && (now_generation != generation || now_generation == ROTATION_GENERATION_UNKNOWN))
		rc = chain_memo_read(req->app->chain_memo, req->db, now_generation, now, chain, &n);
	if (rc == RC_OK)
		rc = calls_start(req->db, sid, caller, called, now, chain, n, &call, &leg, &created);
	if (rc != RC_OK)
		goto out;
	nobody = created && !n;
	if (!created) /* it is there already: a retry of a call that found nobody, or the same call twice */
		rc = calls_open(req->db, sid, caller, called, now, &call, &created);
	if (rc != RC_OK)
		goto out;
	rc = created ? RC_OK : calls_leg_get(req->db, call.id, 0, &leg);
	if (rc == RC_NOT_FOUND) { /* nobody was on call the first time: they may be now */
		rc = chain_fix(req->app, req->db, call.id, call.created_at);
		if (rc == RC_OK)
			rc = chain_next(req->db, call.id, -1, &pos, &p);
		if (rc == RC_OK)
			rc = calls_leg_add(req->db, call.id, 0, pos, p.id, p.phone, now);
		if (rc == RC_OK)
			rc = calls_leg_get(req->db, call.id, 0, &leg);
		else if (rc == RC_NOT_FOUND) {
			nobody = true;
			rc = calls_set_status(req->db, call.id, "voicemail", now);
		}
	}
	if (rc != RC_OK)
		goto out;
	rc = db_commit(req->db);
	if (rc != RC_OK)
		goto out;
	if (created)
		log_info("support call %s from %s: %s", sid, LOG_PHONE(from),
		         nobody ? "nobody on call, voicemail" : LOG_PHONE(leg.phone));
answer:
	t = twiml_new();
	if (nobody) {
		say(t, req, "Olá, você ligou para o suporte. No momento não há ninguém de plantão.",
		    "Hello, you have reached support. Nobody is on call right now.");
		rc = voicemail_prompt(t, req);
	} else {
		say(t, req,
		    "Olá, você ligou para o suporte. Aguarde enquanto transferimos sua chamada para o plantonista.",
		    "Hello, you have reached support. Please hold while we connect you to the engineer on call.");
		rc = dial(t, req, &call, &leg);
	}
	if (rc == RC_OK)
		return reply(req, t);
out:
	db_rollback(req->db);
	twiml_free(t);
	return rc;
}

/* ---------------------------------------------------------------- whisper */

/* Call {call} and leg {leg} of the path; 404 when unknown or when ParentCallSid disagrees. */
static enum rc path_leg(struct http_req *req, struct calls_call *call, struct calls_leg *leg)
{
	const char *parent = form_get(&req->form, "ParentCallSid");
	char *end;
	int64_t id;
	long n;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc != RC_OK)
		return rc;
	n = req->n_params > 1 ? strtol(req->params[1], &end, 10) : -1;
	if (n < 0 || n >= ROTATION_CHAIN_MAX || *end || req->params[1][0] < '0' || req->params[1][0] > '9')
		return http_fail(req, RC_NOT_FOUND, "no such call leg");
	rc = calls_get(req->db, id, call);
	if (rc == RC_OK && parent && parent[0] && strcmp(parent, call->call_sid) != 0)
		rc = RC_NOT_FOUND;
	if (rc == RC_OK)
		rc = calls_leg_get(req->db, id, (int)n, leg);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no such call leg");
	return rc;
}

static enum rc whisper_twiml(struct http_req *req)
{
	struct calls_call call;
	struct calls_leg leg;
	struct twiml_gather g = {0};
	char action[URL_MAX], digits[48], text[256];
	const char *who;
	struct twiml *t;
	bool en = app_lang_en(req->app);
	enum rc rc = path_leg(req, &call, &leg);

	if (rc != RC_OK)
		return rc;
	rc = url(req, action, "/twilio/voice/whisper/%lld/%d/accept", (long long)call.id, leg.leg);
	if (rc != RC_OK)
		return rc;
	who = spelled(call.caller, digits, sizeof digits);
	if (en)
		snprintf(text, sizeof text, "Support call from %s. Press 1 to take it.",
		         who ? who : "a withheld number");
	else
		snprintf(text, sizeof text, "Chamada de suporte de %s. Pressione 1 para atender.",
		         who ? who : "número não identificado");
	t = twiml_new();
	g.num_digits = 1;
	g.action = action;
	g.method = "POST";
	g.timeout = VOICE_WHISPER_TIMEOUT;
	g.input = "dtmf";
	twiml_gather_begin(t, &g);
	say(t, req, text, text);
	twiml_pause(t, 1);
	say(t, req, text, text);
	twiml_gather_end(t);
	/* No key: hang up this leg only; the customer's <Dial> moves on to dial-status. */
	twiml_hangup(t);
	return reply(req, t);
}

static enum rc whisper_accept_twiml(struct http_req *req)
{
	struct calls_call call;
	struct calls_leg leg;
	const char *digits = form(req, "Digits");
	struct twiml *t;
	enum rc rc = path_leg(req, &call, &leg);

	if (rc != RC_OK)
		return rc;
	if (strcmp(digits, "1") != 0) {
		t = twiml_new();
		twiml_hangup(t);
		return reply(req, t);
	}
	rc = db_begin(req->db);
	if (rc == RC_OK)
		rc = calls_leg_accept(req->db, call.id, leg.leg, clock_now());
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return rc;
	}
	log_info("support call %s accepted by %s (leg %d)", call.call_sid, LOG_PHONE(leg.phone), leg.leg);
	return reply(req, twiml_new()); /* empty <Response/>: the legs are bridged */
}

/* ---------------------------------------------------------------- after a <Dial> */

static enum rc after_dial(struct http_req *req, struct calls_call *call, int leg_no)
{
	const char *dial_status = form(req, "DialCallStatus"), *call_status = form(req, "CallStatus");
	struct calls_leg leg, next;
	struct person p;
	struct twiml *t = NULL;
	int64_t now = clock_now();
	enum { HANGUP, NEXT, VOICEMAIL } what = HANGUP;
	int pos = 0;
	enum rc rc;

	rc = db_begin(req->db);
	if (rc != RC_OK)
		return rc;
	rc = calls_leg_get(req->db, call->id, leg_no, &leg);
	if (rc == RC_NOT_FOUND)
		http_fail(req, rc, "no such call leg");
	if (rc == RC_OK && dial_status[0])
		rc = calls_leg_status(req->db, call->id, leg_no, dial_status);
	if (rc != RC_OK)
		goto out;
	if (leg.accepted) {
		rc = calls_set_status(req->db, call->id, "answered", now);
	} else if (!strcmp(call_status, "completed") || !strcmp(call_status, "canceled")) {
		rc = calls_set_status(req->db, call->id, "abandoned", now); /* the customer hung up */
	} else {
		rc = calls_leg_get(req->db, call->id, leg_no + 1, &next);
		if (rc == RC_NOT_FOUND) { /* not dialled yet (a retry finds it dialled) */
			/* a call older than stored chains gets one now, from when it came in */
			rc = chain_fix(req->app, req->db, call->id, call->created_at);
			if (rc == RC_OK)
				rc = leg_no + 1 < ROTATION_CHAIN_MAX
				             ? chain_next(req->db, call->id,
				                          leg.chain_position >= 0 ? leg.chain_position : leg_no, &pos,
				                          &p)
				             : RC_NOT_FOUND;
			if (rc == RC_OK)
				rc = calls_leg_add(req->db, call->id, leg_no + 1, pos, p.id, p.phone, now);
			if (rc == RC_OK)
				rc = calls_leg_get(req->db, call->id, leg_no + 1, &next);
		}
		if (rc == RC_OK) {
			what = NEXT;
		} else if (rc == RC_NOT_FOUND) {
			what = VOICEMAIL;
			rc = calls_set_status(req->db, call->id, "voicemail", now);
		}
	}
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK)
		goto out;
	t = twiml_new();
	if (what == HANGUP) {
		twiml_hangup(t);
	} else if (what == NEXT) {
		log_info("support call %s: leg %d %s, dialling %s", call->call_sid, leg_no, dial_status,
		         LOG_PHONE(next.phone));
		say(t, req, "Aguarde, estamos chamando outra pessoa da equipe.",
		    "Please hold, we are trying another member of the team.");
		rc = dial(t, req, call, &next);
	} else {
		log_info("support call %s: nobody took it, voicemail", call->call_sid);
		say(t, req, "Ninguém da equipe pôde atender agora.",
		    "Nobody from the team could take your call right now.");
		rc = voicemail_prompt(t, req);
	}
	if (rc == RC_OK)
		return reply(req, t);
out:
	db_rollback(req->db);
	twiml_free(t);
	return rc;
}

static enum rc dial_status_twiml(struct http_req *req)
{
	struct calls_call call;
	struct calls_leg leg;
	enum rc rc = path_leg(req, &call, &leg);

	if (rc != RC_OK)
		return rc;
	return after_dial(req, &call, leg.leg);
}

static enum rc dial_status_sid_twiml(struct http_req *req)
{
	struct calls_call call;
	enum rc rc = calls_find_sid(req->db, form(req, "CallSid"), &call);

	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "unknown CallSid");
	if (rc != RC_OK)
		return rc;
	if (call.legs < 1)
		return http_fail(req, RC_NOT_FOUND, "nobody was dialled on this call");
	return after_dial(req, &call, call.legs - 1);
}

/* ---------------------------------------------------------------- voicemail */

static enum rc notify_voicemail(struct http_req *req, const struct person *p, const struct calls_voicemail *vm,
                                int64_t vm_id)
{
	char body[1024], key[96];
	struct outbox_msg m = {0};

	if (app_lang_en(req->app))
		snprintf(body, sizeof body, "Plantao: voicemail from %s (%d s). Listen: %s", vm->caller, vm->duration_s,
		         vm->recording_url);
	else
		snprintf(body, sizeof body, "Plantão: recado de %s na linha de suporte (%d s). Ouça: %s", vm->caller,
		         vm->duration_s, vm->recording_url);
	snprintf(key, sizeof key, "voicemail:%s", vm->call_sid);
	m.kind = OUTBOX_SMS;
	m.class_ = "support";
	m.priority = OUTBOX_PRIO_SUPPORT;
	m.to = p->phone;
	m.body = body;
	m.idem_key = key;
	m.owner_type = "voicemail";
	m.owner_id = vm_id;
	return outbox_enqueue(req->db, &m, NULL);
}

static enum rc voicemail_twiml(struct http_req *req)
{
	const char *sid = form(req, "CallSid"), *rec = form(req, "RecordingUrl");
	struct calls_voicemail vm = {0};
	struct calls_call call;
	struct person p;
	struct twiml *t;
	int64_t vm_id = 0, now = clock_now();
	bool created = false, have_person = false;
	int pos;
	enum rc rc;

	if (!sid[0])
		return http_fail(req, RC_INVALID, "CallSid missing");
	if (rec[0]) {
		rc = db_begin(req->db);
		if (rc != RC_OK)
			return rc;
		rc = calls_find_sid(req->db, sid, &call);
		if (rc == RC_NOT_FOUND) { /* a recording of a call we never saw start: keep it anyway */
			memset(&call, 0, sizeof call);
			call.created_at = now;
			snprintf(call.caller, sizeof call.caller, "%s",
			         form(req, "From")[0] ? form(req, "From") : "unknown");
			rc = RC_OK;
		}
		if (rc == RC_OK) {
			/* the first of the call's chain still on the team, else whoever is first now */
			rc = call.id ? chain_next(req->db, call.id, -1, &pos, &p) : RC_NOT_FOUND;
			if (rc == RC_NOT_FOUND)
				rc = first_person(req->db, call.created_at, &p);
			have_person = rc == RC_OK;
			if (rc == RC_NOT_FOUND)
				rc = RC_OK;
		}
		vm.call_sid = sid;
		vm.caller = call.caller;
		vm.recording_url = rec;
		vm.recording_sid = form_get(&req->form, "RecordingSid");
		vm.duration_s = (int)strtol(form(req, "RecordingDuration"), NULL, 10);
		vm.person_id = have_person ? p.id : 0;
		vm.created_at = now;
		if (rc == RC_OK)
			rc = calls_voicemail_add(req->db, &vm, &vm_id, &created);
		if (rc == RC_OK && created && have_person && !p.sms_opt_out)
			rc = notify_voicemail(req, &p, &vm, vm_id);
		if (rc == RC_OK)
			rc = db_commit(req->db);
		if (rc != RC_OK) {
			db_rollback(req->db);
			return rc;
		}
		if (created) {
			log_info("support call %s: voicemail of %d s for %s", sid, vm.duration_s,
			         have_person ? LOG_PHONE(p.phone) : "nobody (no rotation)");
			app_wake_engine(req->app);
		}
	}
	t = twiml_new();
	if (rec[0])
		say(t, req, "Obrigado, sua mensagem foi gravada. Retornaremos em breve.",
		    "Thank you, your message was recorded. We will get back to you soon.");
	twiml_hangup(t);
	return reply(req, t);
}

static enum rc transcription_twiml(struct http_req *req)
{
	const char *sid = form(req, "CallSid"), *text = form(req, "TranscriptionText");
	const char *status = form(req, "TranscriptionStatus");
	enum rc rc;

	if (!sid[0])
		return http_fail(req, RC_INVALID, "CallSid missing");
	if (text[0] && (!status[0] || !strcmp(status, "completed"))) {
		rc = calls_voicemail_transcription(req->db, sid, text);
		if (rc != RC_OK && rc != RC_NOT_FOUND)
			return rc;
	}
	return reply(req, twiml_new());
}

/* ---------------------------------------------------------------- every error path answers TwiML */

/*
 * Twilio turns any answer that is not 200 TwiML into "an application error has occurred" and
 * hangs up, so no voice route ever answers an error: whatever went wrong (an unknown call or
 * leg, a broken id, a missing parameter, a busy database) is logged as a warning and the
 * caller is still helped. The customer is offered voicemail (its recording is kept even for
 * a call plantao never saw start), a dialled leg is hung up so the customer's <Dial> moves
 * on, and Twilio's own callbacks get an empty document.
 */
enum fallback { FALLBACK_VOICEMAIL, FALLBACK_LEG, FALLBACK_THANKS, FALLBACK_EMPTY };

static enum rc fallback(struct http_req *req, enum rc why, enum fallback how)
{
	struct twiml *t = twiml_new();
	enum rc rc = RC_OK;

	if (!t)
		return why;
	log_warn("%s %s: %s (%s); answered with %s", req->method, req->path, req->err[0] ? req->err : rc_str(why),
	         rc_str(why),
	         how == FALLBACK_VOICEMAIL ? "voicemail"
	         : how == FALLBACK_LEG     ? "a hang-up of this leg"
	                                   : "TwiML that ends the call");
	switch (how) {
	case FALLBACK_VOICEMAIL:
		say(t, req, "Desculpe, não conseguimos completar sua chamada agora.",
		    "Sorry, we could not put your call through right now.");
		rc = voicemail_prompt(t, req);
		break;
	case FALLBACK_LEG:
		say(t, req, "Esta chamada do plantão não está mais disponível.",
		    "This call from the on-call line is no longer available.");
		twiml_hangup(t);
		break;
	case FALLBACK_THANKS:
		say(t, req, "Obrigado. Até logo.", "Thank you. Goodbye.");
		twiml_hangup(t);
		break;
	case FALLBACK_EMPTY: break;
	}
	if (rc != RC_OK) {
		twiml_free(t);
		return rc;
	}
	return reply(req, t);
}

static enum rc or_fallback(struct http_req *req, enum rc rc, enum fallback how)
{
	return rc == RC_OK ? RC_OK : fallback(req, rc, how);
}

enum rc voice_incoming(struct http_req *req)
{
	return or_fallback(req, incoming_twiml(req), FALLBACK_VOICEMAIL);
}

enum rc voice_whisper(struct http_req *req)
{
	return or_fallback(req, whisper_twiml(req), FALLBACK_LEG);
}

enum rc voice_whisper_accept(struct http_req *req)
{
	return or_fallback(req, whisper_accept_twiml(req), FALLBACK_LEG);
}

enum rc voice_dial_status(struct http_req *req)
{
	return or_fallback(req, dial_status_twiml(req), FALLBACK_VOICEMAIL);
}

enum rc voice_dial_status_sid(struct http_req *req)
{
	return or_fallback(req, dial_status_sid_twiml(req), FALLBACK_VOICEMAIL);
}

enum rc voice_voicemail(struct http_req *req)
{
	return or_fallback(req, voicemail_twiml(req), FALLBACK_THANKS);
}

enum rc voice_transcription(struct http_req *req)
{
	return or_fallback(req, transcription_twiml(req), FALLBACK_EMPTY);
}

enum rc voice_unknown_route(struct http_req *req)
{
	return fallback(req, http_fail(req, RC_NOT_FOUND, "no voice route for %s", req->path), FALLBACK_VOICEMAIL);
}
