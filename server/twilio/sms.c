/*
 * server/twilio/sms.c — the SMS webhook (rules in sms.h).
 */
#include "twilio/sms.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rotation/swap_flow.h"
#include "auth/otp.h"
#include "db/audit.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/people.h"
#include "db/rotation.h"
#include "db/shift_requests.h"
#include "db/swaps.h"
#include "pager/alerts.h"
#include "core/app.h"
#include "core/clock.h"
#include "rotation/handoff.h"
#include "core/log.h"
#include "twiml/twiml.h"

#include <jansson.h>
#include <stdlib.h>

#define WORD_MAX 16

/* The first word of text, lower-case ASCII, without trailing punctuation ("Quem?" -> "quem"). */
static void first_word(const char *text, char *out, size_t len)
{
	size_t n = 0;

	while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
		text++;
	while (*text && !isspace((unsigned char)*text) && n + 1 < len)
		out[n++] = (char)tolower((unsigned char)*text++);
	while (n && strchr("?!.,;:", out[n - 1]))
		n--;
	out[n] = '\0';
}

/* True when the whole message (trimmed, any case) is one of the words. */
static bool whole_is(const char *text, const char *const *words)
{
	char w[WORD_MAX];
	const char *rest;
	size_t i;

	first_word(text, w, sizeof w);
	while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
		text++;
	rest = text;
	while (*rest && !isspace((unsigned char)*rest))
		rest++;
	while (*rest && isspace((unsigned char)*rest))
		rest++;
	if (*rest)
		return false;
	for (i = 0; words[i]; i++)
		if (!strcmp(w, words[i]))
			return true;
	return false;
}

static bool word_is(const char *w, const char *a, const char *b)
{
	return !strcmp(w, a) || !strcmp(w, b);
}

static const char *L(struct http_req *req, const char *pt, const char *en)
{
	return app_lang_en(req->app) ? en : pt;
}

static enum rc answer(struct http_req *req, const char *text)
{
	struct twiml *t = twiml_new();

	if (text && text[0])
		twiml_message(t, text);
	return http_reply_twiml(req, t);
}

/* Zone to write times in: the rotation's at `at`, else PLANTAO_TZ. */
static void zone_at(struct http_req *req, int64_t at, char *out, size_t len)
{
	struct rotation_snapshot s;

	if (rotation_load(req->db, at, at + 1, &s) == RC_OK)
		snprintf(out, len, "%s", rotation_zone_at(&s, at, req->app->cfg->tz));
	else
		snprintf(out, len, "%s", req->app->cfg->tz);
	rotation_release(&s);
}

static enum rc cmd_who(struct http_req *req, struct buf *reply)
{
	struct schedule_shift cur;
	char zone[64], until[48], name[PEOPLE_NAME_BYTES], next_name[PEOPLE_NAME_BYTES];
	struct schedule_shift nxt;
	int64_t now = clock_now();
	bool en = app_lang_en(req->app);
	enum rc rc = rotation_oncall(req->db, now, &cur);

	if (rc == RC_NOT_FOUND)
		return buf_puts(reply, L(req, "Ninguém está de plantão agora.", "Nobody is on call right now."));
	if (rc != RC_OK)
		return rc;
	zone_at(req, now, zone, sizeof zone);
	handoff_when(zone, en, cur.end, until, sizeof until);
	people_name(req->db, cur.person_id, name, sizeof name);
	rc = buf_printf(reply, en ? "On call: %s until %s%s." : "De plantão: %s até %s%s.", name, until,
	                cur.is_override ? L(req, " (substituição)", " (override)") : "");
	if (rc == RC_OK && rotation_oncall(req->db, cur.end, &nxt) == RC_OK && nxt.person_id != cur.person_id) {
		people_name(req->db, nxt.person_id, next_name, sizeof next_name);
		rc = buf_printf(reply, en ? " Then: %s." : " Depois: %s.", next_name);
	}
	return rc;
}

static enum rc ask_to_confirm(struct http_req *req, const struct person *p, const struct schedule_shift *cur,
                              bool changed, struct buf *reply);

/* The confirmed take: the look-up of who is on call, the check that it is still the shift p was
 * asked about, and the override are one transaction (rotation_take_expected), so two people
 * taking at once are serialized and a hand-off landing meanwhile takes nothing. */
static enum rc cmd_take(struct http_req *req, const struct person *p, const struct shift_request *asked,
                        struct buf *reply)
{
	struct schedule_shift cur;
	char zone[64], until[48], actor[AUDIT_ACTOR_MAX], name[PEOPLE_NAME_BYTES];
	int64_t now = clock_now(), id;
	bool en = app_lang_en(req->app);
	enum rc rc;

	audit_actor_phone(actor, "sms", p->phone, p->id, p->name);
	rc = rotation_take_expected(req->db, p->id, now, asked->replaces_person, asked->shift_end,
	                            en ? "taken by SMS" : "assumido por SMS", actor, &cur, &id);
	if (rc == RC_UNPROCESSABLE) /* a hand-off or an override landed since the check: ask again */
		return ask_to_confirm(req, p, &cur, true, reply);
	if (rc == RC_NOT_FOUND)
		return buf_puts(reply, L(req, "Não há escala de plantão configurada; nada mudou.",
		                         "There is no on-call rotation yet; nothing changed."));
	if (rc != RC_OK && rc != RC_CONFLICT) {
		log_warn("sms take by %s: %s", LOG_PHONE(p->phone), rc_str(rc));
		return rc;
	}
	zone_at(req, now, zone, sizeof zone);
	handoff_when(zone, en, cur.end, until, sizeof until);
	if (rc == RC_CONFLICT)
		return buf_printf(reply, en ? "You are on call already, until %s." : "Você já está de plantão, até %s.",
		                  until);
	people_name(req->db, cur.person_id, name, sizeof name);
	log_info("sms: %s (person %lld, %s) takes the shift of %s (person %lld) until %s (override %lld)", p->name,
	         (long long)p->id, LOG_PHONE(p->phone), name, (long long)cur.person_id, LOG_TIME(cur.end),
	         (long long)id);
	app_wake_engine(req->app);
	return buf_printf(reply,
	                  en ? "OK: you are on call until %s, instead of %s."
	                     : "OK: você está de plantão até %s, no lugar de %s.",
	                  until, name);
}

/*
 * The whole message, lower-case ASCII with "ã"/"Ã" as "a", punctuation dropped and spaces
 * collapsed, is one of phrases ("Plantão, assumir!" -> "plantao assumir").
 */
static bool phrase_is(const char *text, const char *const *phrases)
{
	char norm[48];
	size_t n = 0, i;

	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == 0xc3 && ((unsigned char)text[1] == 0xa3 || (unsigned char)text[1] == 0x83)) { /* ã, Ã */
			c = 'a';
			text++;
		} else if (isspace(c) || strchr("?!.,;:", c)) {
			c = ' ';
		} else {
			c = (unsigned char)tolower(c);
		}
		if (c == ' ' && (n == 0 || norm[n - 1] == ' '))
			continue;
		if (n + 1 >= sizeof norm)
			return false;
		norm[n++] = (char)c;
	}
	while (n && norm[n - 1] == ' ')
		n--;
	norm[n] = '\0';
	for (i = 0; phrases[i]; i++)
		if (!strcmp(norm, phrases[i]))
			return true;
	return false;
}

/*
 * Records p's request to take cur (whom it replaces, until when) and asks for the "SIM";
 * changed: the request is asked again because the shift changed since the first one.
 */
static enum rc ask_to_confirm(struct http_req *req, const struct person *p, const struct schedule_shift *cur,
                              bool changed, struct buf *reply)
{
	struct shift_request asked = {cur->person_id, cur->end};
	char zone[64], until[48], name[PEOPLE_NAME_BYTES];
	int64_t now = clock_now();
	bool en = app_lang_en(req->app);
	enum rc rc = shift_requests_put(req->db, p->id, &asked, now);

	if (rc != RC_OK)
		return rc;
	zone_at(req, now, zone, sizeof zone);
	handoff_when(zone, en, cur->end, until, sizeof until);
	people_name(req->db, cur->person_id, name, sizeof name);
	if (changed)
		rc = buf_puts(reply, L(req, "O plantão mudou desde o seu pedido; nada mudou. ",
		                       "The shift changed since you asked; nothing changed. "));
	if (rc == RC_OK)
		rc = buf_printf(reply,
		                en ? "To be on call until %s instead of %s, reply CONFIRM within %d minutes."
		                   : "Para ficar de plantão até %s no lugar de %s, responda SIM em até %d minutos.",
		                until, name, SHIFT_REQUEST_TTL / 60);
	return rc;
}

/* Answers that p is on call already, until the end of cur. */
static enum rc on_call_already(struct http_req *req, const struct schedule_shift *cur, struct buf *reply)
{
	char zone[64], until[48];

	zone_at(req, clock_now(), zone, sizeof zone);
	handoff_when(zone, app_lang_en(req->app), cur->end, until, sizeof until);
	return buf_printf(reply,
	                  app_lang_en(req->app) ? "You are on call already, until %s."
	                                        : "Você já está de plantão, até %s.",
	                  until);
}

/*
 * "PLANTAO ASSUMIR": taking the shift is asked for in words of its own and only done when the
 * same person confirms with "SIM" within SHIFT_REQUEST_TTL — a reply meant for a page
 * ("assumir", server/pager/alerts.c) can never move the rotation. The request keeps the shift it
 * was answered about, so the "SIM" takes exactly that one.
 */
static enum rc cmd_take_ask(struct http_req *req, const struct person *p, struct buf *reply)
{
	struct schedule_shift cur;
	enum rc rc = rotation_oncall(req->db, clock_now(), &cur);

	if (rc == RC_NOT_FOUND)
		return buf_puts(reply, L(req, "Não há escala de plantão configurada; nada mudou.",
		                         "There is no on-call rotation yet; nothing changed."));
	if (rc != RC_OK)
		return rc;
	if (cur.person_id == p->id)
		return on_call_already(req, &cur, reply);
	return ask_to_confirm(req, p, &cur, false, reply);
}

/*
 * "SIM" / "CONFIRM": takes the shift when this person asked for it within SHIFT_REQUEST_TTL and
 * it is still the one they were told about (same person on call, same end); when a hand-off or
 * an override changed it meanwhile, nothing is taken: the reply says so and asks again about the
 * shift as it is now.
 */
static enum rc cmd_take_confirm(struct http_req *req, const struct person *p, struct buf *reply)
{
	struct schedule_shift cur;
	struct shift_request asked;
	int64_t now = clock_now();
	bool open = false;
	enum rc rc = shift_requests_take(req->db, p->id, now, &open, &asked);

	if (rc != RC_OK)
		return rc;
	rc = rotation_oncall(req->db, now, &cur);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		return rc;
	if (open && rc == RC_NOT_FOUND)
		return buf_puts(reply, L(req, "Não há escala de plantão configurada; nada mudou.",
		                         "There is no on-call rotation yet; nothing changed."));
	/* Twilio retrying the confirming text, or a stray "sim": nothing to confirm. */
	if (rc == RC_OK && cur.person_id == p->id)
		return on_call_already(req, &cur, reply);
	if (open && asked.replaces_person && (cur.person_id != asked.replaces_person || cur.end != asked.shift_end)) {
		char was[PEOPLE_NAME_BYTES], is[PEOPLE_NAME_BYTES];

		people_name(req->db, asked.replaces_person, was, sizeof was);
		people_name(req->db, cur.person_id, is, sizeof is);
		log_info("sms: %s (person %lld) confirmed a shift that changed since (%s, person %lld, until %s; "
		         "now %s, person %lld, until %s)",
		         p->name, (long long)p->id, was, (long long)asked.replaces_person, LOG_TIME(asked.shift_end),
		         is, (long long)cur.person_id, LOG_TIME(cur.end));
		return ask_to_confirm(req, p, &cur, true, reply);
	}
	if (open)
		return cmd_take(req, p, &asked, reply);
	return buf_puts(reply, L(req,
	                         "Nada a confirmar; nada mudou. Para ficar de plantão no lugar de quem está, "
	                         "envie PLANTAO ASSUMIR.",
	                         "Nothing to confirm; nothing changed. To take the on-call shift, send TAKE SHIFT."));
}

/*
 * "ACEITO 12" / "RECUSO 12" ("ACCEPT 12" / "DECLINE 12"), the answers a swap's text asks for:
 * *yes, and *id (0 without a number). False for any other text. No page ("assumir", "ack",
 * "ok") and no shift-take ("PLANTAO ASSUMIR", "SIM") uses these words.
 */
static bool swap_reply(const char *text, bool *yes, int64_t *id)
{
	static const char *const accept[] = {"aceito", "aceitar", "aceita", "accept", NULL};
	static const char *const decline[] = {"recuso", "recusar", "recusa", "decline", NULL};
	char w[WORD_MAX];
	const char *p = text;
	size_t i;
	bool found = false;

	*id = 0;
	first_word(text, w, sizeof w);
	for (i = 0; accept[i] && !found; i++)
		found = *yes = !strcmp(w, accept[i]);
	for (i = 0; decline[i] && !found; i++)
		found = !strcmp(w, decline[i]);
	if (!found)
		return false;
	while (*p && isspace((unsigned char)*p))
		p++;
	while (*p && !isspace((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '#')
		p++;
	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p == '#')
		p++;
	if (isdigit((unsigned char)*p)) {
		char *end;
		long long v = strtoll(p, &end, 10);

		*id = v > 0 ? v : 0;
		p = end;
	}
	while (*p && (isspace((unsigned char)*p) || strchr("?!.,;:", *p)))
		p++;
	return *p == '\0';
}

/* A bare "ACEITO": which swaps wait for this person's answer. */
static enum rc swap_which(struct http_req *req, const struct person *p, struct buf *reply)
{
	json_t *rows = NULL, *row;
	int64_t first = 0;
	size_t i, n = 0;
	enum rc rc = swaps_list(req->db, p->id, "pending", 20, 0, clock_now(), &rows);

	if (rc != RC_OK)
		return rc;
	json_array_foreach(rows, i, row)
	{
		bool from = json_integer_value(json_object_get(row, "from_person")) == p->id;
		json_t *mine = json_object_get(row, from ? "from_confirmed_at" : "to_confirmed_at");
		int64_t sid = json_integer_value(json_object_get(row, "id"));

		if (!json_is_null(mine) && mine)
			continue;
		if (rc == RC_OK && n == 0)
			rc = buf_puts(reply, L(req, "Trocas de turno esperando a sua resposta:",
			                       "Shift swaps waiting for your answer:"));
		if (rc == RC_OK)
			rc = buf_printf(reply, "%s #%lld", n ? "," : "", (long long)sid);
		if (!first)
			first = sid;
		n++;
	}
	json_decref(rows);
	if (rc != RC_OK)
		return rc;
	if (n == 0)
		return buf_puts(reply, L(req, "Nenhuma troca de turno esperando a sua resposta.",
		                         "No shift swap is waiting for your answer."));
	if (n == 1)
		return buf_printf(reply,
		                  app_lang_en(req->app) ? ". Reply ACCEPT %lld or DECLINE %lld."
		                                        : ". Responda ACEITO %lld ou RECUSO %lld.",
		                  (long long)first, (long long)first);
	return buf_puts(reply, L(req, ". Responda ACEITO N ou RECUSO N, com o número da troca.",
	                         ". Reply ACCEPT N or DECLINE N, with the swap's number."));
}

/* "ACEITO N" / "RECUSO N": this person's answer to swap N (server/rotation/swap_flow.c). */
static enum rc cmd_swap(struct http_req *req, const struct person *p, bool yes, int64_t id, struct buf *reply)
{
	char actor[AUDIT_ACTOR_MAX], name[PEOPLE_NAME_BYTES] = "", from[48], until[48];
	struct swap_answer a;
	bool en = app_lang_en(req->app);
	const struct swap *s = &a.s;
	enum rc rc;

	if (!id)
		return swap_which(req, p, reply);
	audit_actor_phone(actor, "sms", p->phone, p->id, p->name);
	rc = swap_flow_answer(req->app, req->db, id, p->id, yes, actor, clock_now(), &a);
	if (rc == RC_NOT_FOUND)
		return buf_printf(reply, en ? "There is no shift swap %lld." : "Não há troca %lld.", (long long)id);
	if (rc == RC_FORBIDDEN) {
		log_warn("sms: %s answered swap %lld, which is not theirs: refused", LOG_PHONE(p->phone),
		         (long long)id);
		return buf_printf(reply,
		                  en ? "Shift swap %lld is not yours; nothing changed."
		                     : "A troca %lld não é sua; nada mudou.",
		                  (long long)id);
	}
	if (rc == RC_CONFLICT && a.voided) {
		people_name(req->db, s->from_person, name, sizeof name);
		return buf_printf(reply,
		                  en ? "Shift swap %lld is canceled: %s is no longer on call for all of that time."
		                     : "A troca %lld foi cancelada: %s não está mais de plantão em todo esse período.",
		                  (long long)id, name);
	}
	if (rc == RC_CONFLICT && !strcmp(s->status, "expired"))
		return buf_printf(reply,
		                  en ? "Shift swap %lld expired without an answer; nothing changed. Ask again in the "
		                       "console."
		                     : "A troca %lld venceu sem resposta; nada mudou. Peça de novo no console.",
		                  (long long)id);
	if (rc == RC_CONFLICT)
		return buf_printf(reply, en ? "Shift swap %lld was %s already." : "A troca %lld já foi %s.",
		                  (long long)id,
		                  !strcmp(s->status, "accepted")   ? L(req, "aceita", "accepted")
		                  : !strcmp(s->status, "declined") ? L(req, "recusada", "declined")
		                                                   : L(req, "cancelada", "canceled"));
	if (rc == RC_UNPROCESSABLE) { /* e.g. the colleague was removed meanwhile: say so, not a 500 to Twilio */
		log_warn("sms: swap %lld answered by %s cannot be carried out: %s", (long long)id, LOG_PHONE(p->phone),
		         a.err);
		return buf_printf(reply,
		                  en ? "Shift swap %lld cannot be carried out now; nothing changed. See the console."
		                     : "A troca %lld não pode ser feita agora; nada mudou. Veja no console.",
		                  (long long)id);
	}
	if (rc != RC_OK)
		return rc;
	if (!yes)
		return buf_printf(reply, en ? "Shift swap %lld %s; nothing changed." : "Troca %lld %s; nada mudou.",
		                  (long long)id,
		                  !strcmp(s->status, "canceled") ? L(req, "cancelada", "canceled")
		                                                 : L(req, "recusada", "declined"));
	if (!strcmp(s->status, "accepted")) {
		people_name(req->db, s->to_person, name, sizeof name);
		handoff_when(req->app->cfg->tz, en, s->start, from, sizeof from);
		handoff_when(req->app->cfg->tz, en, s->end, until, sizeof until);
		return buf_printf(reply,
		                  en ? "Shift swap %lld confirmed: %s is on call from %s until %s."
		                     : "Troca %lld confirmada: %s fica de plantão de %s até %s.",
		                  (long long)id, name, from, until);
	}
	people_name(req->db, p->id == s->from_person ? s->to_person : s->from_person, name, sizeof name);
	if (en)
		return buf_printf(reply, "Confirmed. Shift swap %lld now waits for %s to confirm.", (long long)id,
		                  name);
	return buf_printf(reply, "Confirmado. Falta %s confirmar a troca %lld.", name, (long long)id);
}

/* VERIFICAR / VERIFY (issue 16): a code to this phone, by SMS, to be answered with its digits. */
static enum rc cmd_verify(struct http_req *req, const struct person *p, struct buf *reply)
{
	enum otp_outcome outcome;
	int64_t wait = 0;
	enum rc rc = otp_request(req->app, req->db, OTP_VERIFY, p->phone, p->id, OTP_SMS, &outcome, &wait);

	if (rc != RC_OK)
		return rc;
	if (outcome == OTP_SENT)
		return buf_puts(reply,
		                L(req, "Enviamos um código: responda com os 6 dígitos para verificar este telefone.",
		                  "A code is on its way: reply with its 6 digits to verify this phone."));
	return buf_printf(reply,
	                  app_lang_en(req->app) ? "Too many codes lately: try again in %lld min."
	                                        : "Muitos códigos pedidos: tente de novo em %lld min.",
	                  (long long)((wait + 59) / 60));
}

/* A reply of 6 digits while a verification code is out: confirms this phone. */
static enum rc cmd_verify_code(struct http_req *req, const struct person *p, const char *code, struct buf *reply)
{
	int64_t person = 0, wait = 0;
	char actor[AUDIT_ACTOR_MAX];
	enum rc rc = otp_check(req->db, OTP_VERIFY, p->phone, code, &person, &wait);

	if (rc == RC_RATE)
		return buf_printf(reply,
		                  app_lang_en(req->app)
		                          ? "Too many wrong codes: send VERIFY again in %lld min."
		                          : "Muitos códigos errados: envie VERIFICAR de novo em %lld min.",
		                  (long long)((wait + 59) / 60));
	if (rc == RC_AUTH || (rc == RC_OK && person != p->id))
		return buf_puts(reply, L(req, "Código errado ou vencido. Envie VERIFICAR para receber outro.",
		                         "Wrong or expired code. Send VERIFY for a new one."));
	if (rc != RC_OK)
		return rc;
	audit_actor_phone(actor, "sms", p->phone, p->id, p->name);
	rc = db_begin(req->db);
	if (rc == RC_OK)
		rc = auth_mark_phone_verified(req->db, p->id, p->phone, clock_now(), actor);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return rc;
	}
	log_info("sms: %s verified its phone", LOG_PHONE(p->phone));
	return buf_puts(reply, L(req, "Telefone verificado. Obrigado!", "Phone verified. Thank you!"));
}

enum rc sms_incoming(struct http_req *req)
{
	/* Twilio's default opt-out and opt-in keywords (Advanced Opt-Out off). */
	static const char *const stop[] = {"stop", "stopall", "unsubscribe", "cancel", "end",
	                                   "quit", "revoke",  "optout",      NULL};
	static const char *const start[] = {"start", "yes", "unstop", NULL};
	static const char *const verify_words[] = {"verificar", "verify", NULL};
	static const char *const take_shift[] = {"plantao assumir",
	                                         "assumir plantao",
	                                         "assumir o plantao",
	                                         "take shift",
	                                         "shift take",
	                                         "take the shift",
	                                         NULL};
	static const char *const confirm_words[] = {"sim", "confirm", NULL};
	const char *from = form_get(&req->form, "From"), *body = form_get(&req->form, "Body");
	struct person p;
	struct buf reply;
	char word[WORD_MAX], actor[AUDIT_ACTOR_MAX] = "", code[OTP_DIGITS + 1];
	bool known, handled = false, whatsapp = false, swap_yes = false;
	int64_t swap_id = 0;
	enum rc rc;

	if (!from || !body)
		return http_fail(req, RC_INVALID, "From and Body are required");
	if (!strncmp(from, "whatsapp:", 9)) {
		from += 9;
		whatsapp = true;
	}
	rc = people_find_phone(req->db, from, &p);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		return rc;
	known = rc == RC_OK;
	if (known && whatsapp) {
		/* WhatsApp's 24-hour window opens: free-form messages may go to them until it closes. */
		rc = db_begin(req->db);
		if (rc == RC_OK)
			rc = people_whatsapp_inbound(req->db, from, clock_now());
		if (rc == RC_OK)
			rc = db_commit(req->db);
		if (rc != RC_OK) {
			db_rollback(req->db);
			return rc;
		}
	}
	if (known) /* the phone masked as in the logs, and who it is (audit_actor_phone) */
		audit_actor_phone(actor, "sms", from, p.id, p.name);

	if (whole_is(body, stop) || whole_is(body, start)) {
		if (known) {
			bool out = whole_is(body, stop), changed = false;
			char via[WORD_MAX];
			size_t i;

			first_word(body, via, sizeof via);
			for (i = 0; via[i]; i++)
				via[i] = (char)toupper((unsigned char)via[i]);
			if (whatsapp) {
				/* Said on WhatsApp, about WhatsApp: Twilio's opt-out covers SMS only, and
				 * WhatsApp's rules ask the sender to honour it. Texts are unchanged. */
				rc = people_set_whatsapp_via(req->db, p.id, !out, via, actor, &changed);
				if (rc == RC_OK && changed)
					log_warn("sms: %s (%s, person %lld) wrote %s on WhatsApp: WhatsApp pages to "
					         "them "
					         "%s; "
					         "texts and calls unchanged",
					         LOG_PHONE(from), p.name, (long long)p.id, via,
					         out ? "stop (START turns them on again)" : "resume");
				return rc == RC_OK ? answer(req, NULL) : rc;
			}
			rc = people_set_opt_out_via(req->db, p.id, out, out ? via : NULL, actor, &changed);
			if (rc != RC_OK)
				return rc;
			if (changed && out)
				log_warn("sms: %s (%s, person %lld) texted %s: no more texts to them (Twilio refuses "
				         "them until they text START); alert calls still go out",
				         LOG_PHONE(from), p.name, (long long)p.id, via);
			else if (changed)
				log_info("sms: %s (%s, person %lld) opted back in to texts", LOG_PHONE(from), p.name,
				         (long long)p.id);
		}
		return answer(req, NULL);
	}

	buf_init(&reply, SMS_REPLY_MAX);
	rc = alerts_sms_command(req->app, req->db, known ? p.id : 0, body, &reply, &handled);
	if (rc != RC_OK || handled)
		goto out;
	if (!known) {
		rc = buf_puts(&reply, L(req, "Este número não está cadastrado no plantão.",
		                        "This number is not registered with the on-call team."));
		goto out;
	}
	first_word(body, word, sizeof word);
	if (whole_is(body, verify_words))
		rc = cmd_verify(req, &p, &reply);
	else if (otp_looks_like_code(body, code))
		rc = cmd_verify_code(req, &p, code, &reply);
	else if (word_is(word, "quem", "who"))
		rc = cmd_who(req, &reply);
	else if (swap_reply(body, &swap_yes, &swap_id))
		rc = cmd_swap(req, &p, swap_yes, swap_id, &reply);
	else if (phrase_is(body, take_shift))
		rc = cmd_take_ask(req, &p, &reply);
	else if (whole_is(body, confirm_words))
		rc = cmd_take_confirm(req, &p, &reply);
	else if (word_is(word, "ajuda", "help"))
		rc = buf_puts(&reply,
		              L(req,
		                "Comandos: ASSUMIR N ou ACK N (assumir o alerta N; só ASSUMIR: o último alerta "
		                "enviado a você), RESOLVER N, QUEM (quem está de plantão), PLANTAO ASSUMIR (ficar "
		                "de plantão até o fim do turno; pede SIM para confirmar), ACEITO N ou RECUSO N "
		                "(responder à troca de turno N), VERIFICAR, AJUDA.",
		                "Commands: ACK N (acknowledge alert N; ACK alone: every alert sent to you), "
		                "RESOLVE N, WHO (who is on call), TAKE SHIFT (be on call until the shift ends; "
		                "asks you to CONFIRM), ACCEPT N or DECLINE N (answer shift swap N), VERIFY, HELP."));
	else
		rc = buf_puts(&reply, L(req, "Não entendi. Envie AJUDA para ver os comandos.",
		                        "Sorry, I did not get that. Send HELP for the commands."));
out:
	if (rc == RC_OK)
		rc = answer(req, reply.data);
	buf_release(&reply);
	return rc;
}
