/*
 * server/pager/alerts.c — the alert pager's life cycle outside the escalation itself: creating
 * alerts (with dedup), acknowledging and resolving them (API, SMS, keypad), the outcome of
 * alert calls reported by the status callback, and the SMS commands ("ack 12", "ok",
 * "resolver 12"). The chain of texts and calls is server/pager/escalation.c; the rows are
 * db/alerts.c. Each public function without _tx runs one short transaction of its own.
 */
#include "pager/alerts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/alerts.h"
#include "db/audit.h"
#include "db/db.h"
#include "db/escalation.h"
#include "db/outbox.h"
#include "db/people.h"
#include "core/app.h"
#include "core/clock.h"
#include "pager/escalation.h"
#include "http/form.h"
#include "core/log.h"
#include "http/metrics.h"

/* The text in PLANTAO_LANG; both are checked as format strings where they are used as such. */
__attribute__((format_arg(2), format_arg(3))) static const char *L(struct app *app, const char *pt, const char *en)
{
	return app_lang_en(app) ? en : pt;
}

/* One line, no control characters, trimmed, cut to ALERTS_SUMMARY_MAX bytes on a UTF-8 boundary. */
static enum rc clean_summary(const char *in, char out[ALERTS_SUMMARY_MAX + 1])
{
	size_t n = 0;

	out[0] = '\0';
	if (!in || !form_is_utf8(in, strlen(in)))
		return RC_UNPROCESSABLE;
	while (*in && isspace((unsigned char)*in))
		in++;
	for (; *in && n < ALERTS_SUMMARY_MAX; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == 0xC2 && (unsigned char)in[1] >= 0x80 && (unsigned char)in[1] <= 0x9F) {
			in++; /* a C1 control (U+0080..U+009F): a space, like the C0 ones */
			c = ' ';
		} else if (c == 0xEF && (unsigned char)in[1] == 0xBF && ((unsigned char)in[2] & 0xFE) == 0xBE &&
		           n + 3 <= ALERTS_SUMMARY_MAX) {
			memcpy(out + n, "\xEF\xBF\xBD", 3); /* U+FFFE/U+FFFF, noncharacters: U+FFFD */
			n += 3;
			in += 2;
			continue;
		}
		out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	if (((unsigned char)*in & 0xC0) == 0x80) { /* cut inside a character: drop its first bytes too */
		while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
			n--;
		if (n > 0)
			n--;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return n ? RC_OK : RC_UNPROCESSABLE;
}

void alerts_count(struct app *app, enum alerts_event e)
{
	static const char *const labels[] = {"event=\"triggered\"", "event=\"deduped\"", "event=\"acknowledged\"",
	                                     "event=\"resolved\""};

	if (app && app->metrics)
		metrics_count(app->metrics, "plantao_alerts_total", labels[e], 1);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

enum rc alerts_trigger_tx(struct db *db, const struct alert_input *in, int64_t now, int64_t *id, bool *deduped)
{
	char summary[ALERTS_SUMMARY_MAX + 1];
	const char *key = nonempty(in->dedup_key);
	enum rc rc;

	*id = 0;
	if (deduped)
		*deduped = false;
	rc = clean_summary(in->summary, summary);
	if (rc != RC_OK)
		return rc;
	if (key) {
		rc = alerts_find_open(db, key, id);
		if (rc == RC_OK) {
			if (deduped)
				*deduped = true;
			return alerts_bump(db, *id, now);
		}
		if (rc != RC_NOT_FOUND)
			return rc;
	}
	return alerts_insert(db, summary, nonempty(in->details), nonempty(in->severity), nonempty(in->source), key, now,
	                     id);
}

enum rc alerts_trigger(struct app *app, struct db *db, const struct alert_input *in, int64_t *id, bool *deduped)
{
	bool folded = false;
	enum rc rc = db_begin(db);

	*id = 0;
	if (deduped)
		*deduped = false;
	if (rc != RC_OK)
		return rc;
	rc = alerts_trigger_tx(db, in, clock_now(), id, &folded);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*id = 0;
		return rc;
	}
	if (deduped)
		*deduped = folded;
	alerts_count(app, folded ? ALERTS_DEDUPED : ALERTS_TRIGGERED);
	if (folded) {
		log_info("alert %lld: trigger folded in (dedup key %s)", (long long)*id, in->dedup_key);
	} else {
		log_info("alert %lld triggered: %s", (long long)*id, in->summary);
		app_wake_engine(app);
	}
	return RC_OK;
}

/* ---------------------------------------------------------------- ack and resolve */

/*
 * Every page of alert id that Twilio has not accepted is cancelled, whatever its state, and
 * its calls still ringing or in progress are ended by the engine through the REST API, except
 * the call of spare_person_id (who acknowledged on it). The sender re-checks the alert before
 * each send as well, so nothing queued for it goes out after this commits (issue 11).
 */
static enum rc stop_pages(struct db *db, int64_t id, int64_t spare_person_id, int64_t now)
{
	struct outbox_cancel_count n;
	enum rc rc = outbox_cancel_pages(db, id, spare_person_id, now * 1000, &n);

	if (rc == RC_OK && (n.canceled || n.in_flight || n.hangups))
		log_info("alert %lld closed: %d page(s) cancelled, %d being sent stopped, %d call(s) to end",
		         (long long)id, n.canceled, n.in_flight, n.hangups);
	return rc;
}

/*
 * The audit row of an acknowledgment or resolve a person made from their phone (issue 13 item
 * 4): via "sms" (a text reply) or "call" (the keypad of an alert call). The actor names the
 * person and their phone masked as in the logs (audit_actor_phone); the console's acks write
 * theirs through alerts_close_as (audit_by_api). Inside the caller's transaction.
 */
static enum rc audit_by_phone(struct db *db, int64_t id, int64_t person_id, const char *via, bool ack,
                              const char *before)
{
	const char *how = strcmp(via, "call") == 0 ? "keypad" : "sms";
	char actor[AUDIT_ACTOR_MAX], masked[LOG_PHONE_MAX];
	struct person who;
	json_t *detail;
	enum rc rc = people_get(db, person_id, &who);

	if (rc != RC_OK)
		return rc == RC_NOT_FOUND ? RC_OK : rc; /* nobody to name: the alert row says how */
	audit_actor_phone(actor, how, who.phone, person_id, who.name);
	detail = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "via", how, "person_id", (json_int_t)person_id, "name",
	                   who.name, "phone", log_phone(who.phone, masked), "before", before, "after",
	                   ack ? "acknowledged" : "resolved");
	rc = detail ? audit_log(db, actor, ack ? "alert.ack" : "alert.resolve", id, detail) : RC_INTERNAL;
	json_decref(detail);
	return rc;
}

static bool is_by_phone(const char *via)
{
	return strcmp(via, "sms") == 0 || strcmp(via, "call") == 0;
}

enum rc alerts_ack_tx(struct app *app, struct db *db, int64_t id, int64_t person_id, const char *via, int64_t now,
                      bool *changed)
{
	char name[PEOPLE_NAME_BYTES] = "", body[1024];
	struct alerts_row a;
	enum rc rc;

	if (changed)
		*changed = false;
	rc = alerts_load(db, id, &a);
	if (rc != RC_OK)
		return rc;
	if (strcmp(a.status, "resolved") == 0)
		return RC_CONFLICT;
	if (strcmp(a.status, "acknowledged") == 0)
		return RC_OK;
	rc = alerts_set_acked(db, id, person_id, via, now);
	if (rc == RC_OK)
		rc = alerts_cancel_calls(db, id, now, NULL);
	if (rc == RC_OK && person_id > 0 && is_by_phone(via))
		rc = audit_by_phone(db, id, person_id, via, true, a.status);
	if (rc != RC_OK)
		return rc;
	if (person_id > 0)
		people_name(db, person_id, name, sizeof name);
	if (name[0])
		snprintf(body, sizeof body, L(app, "Alerta %lld assumido por %s.", "Alert %lld acknowledged by %s."),
		         (long long)id, name);
	else
		snprintf(body, sizeof body, L(app, "Alerta %lld assumido.", "Alert %lld acknowledged."), (long long)id);
	rc = escalation_notify(app, db, id, "ack", body);
	/* after the notice: whoever the page was queued for hears that it is taken */
	if (rc == RC_OK)
		rc = stop_pages(db, id, strcmp(via, "call") == 0 ? person_id : 0, now);
	if (rc == RC_OK && changed)
		*changed = true;
	if (rc == RC_OK)
		log_info("alert %lld acknowledged via %s%s%s", (long long)id, via, name[0] ? " by " : "", name);
	return rc;
}

enum rc alerts_resolve_tx(struct app *app, struct db *db, int64_t id, const char *via, int64_t now, bool *changed)
{
	struct alerts_row a;
	char body[160];
	enum rc rc;

	if (changed)
		*changed = false;
	rc = alerts_load(db, id, &a);
	if (rc != RC_OK)
		return rc;
	if (strcmp(a.status, "resolved") == 0)
		return RC_OK;
	rc = alerts_set_resolved(db, id, via, now);
	if (rc == RC_OK)
		rc = alerts_cancel_calls(db, id, now, NULL);
	if (rc != RC_OK)
		return rc;
	snprintf(body, sizeof body, L(app, "Alerta %lld resolvido.", "Alert %lld resolved."), (long long)id);
	rc = escalation_notify(app, db, id, "resolved", body);
	if (rc == RC_OK)
		rc = stop_pages(db, id, 0, now);
	if (rc == RC_OK && changed)
		*changed = true;
	if (rc == RC_OK)
		log_info("alert %lld resolved via %s", (long long)id, via);
	return rc;
}

/*
 * The audit row of an acknowledgment or resolve made through the API or the console by actor
 * ("person:3 Ana" through a session, "token:ops"): before and after, and the person named by
 * the request (0: nobody). Inside the caller's transaction.
 */
static enum rc audit_by_api(struct db *db, int64_t id, int64_t person_id, const char *actor, bool ack,
                            const char *before)
{
	json_t *detail = json_pack("{s:s, s:s, s:s}", "via", "api", "before", before, "after",
	                           ack ? "acknowledged" : "resolved");
	enum rc rc;

	if (detail && person_id > 0)
		json_object_set_new(detail, "person_id", json_integer(person_id));
	rc = detail ? audit_log(db, actor, ack ? "alert.ack" : "alert.resolve", id, detail) : RC_INTERNAL;
	json_decref(detail);
	return rc;
}

/*
 * Acknowledges (ack) or resolves alert id in its own transaction and wakes the engine when
 * something changed. The audit row is written in the same transaction: by audit_by_api naming
 * actor when actor is set (via "api"), else by audit_by_phone for a person's text or keypad.
 */
static enum rc in_tx(struct app *app, struct db *db, int64_t id, int64_t person_id, const char *via, bool ack,
                     const char *actor, bool *changed)
{
	struct alerts_row before;
	bool by_phone = !actor && person_id > 0 && is_by_phone(via);
	bool ch = false;
	enum rc rc = db_begin(db);

	if (changed)
		*changed = false;
	if (rc != RC_OK)
		return rc;
	if (actor || (!ack && by_phone))
		rc = alerts_load(db, id, &before);
	if (rc == RC_OK)
		rc = ack ? alerts_ack_tx(app, db, id, person_id, via, clock_now(), &ch)
		         : alerts_resolve_tx(app, db, id, via, clock_now(), &ch);
	if (rc == RC_OK && ch && actor)
		rc = audit_by_api(db, id, person_id, actor, ack, before.status);
	else if (rc == RC_OK && ch && !ack && by_phone)
		rc = audit_by_phone(db, id, person_id, via, false, before.status);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		return rc;
	}
	if (ch) {
		alerts_count(app, ack ? ALERTS_ACKNOWLEDGED : ALERTS_RESOLVED);
		app_wake_engine(app);
	}
	if (changed)
		*changed = ch;
	return RC_OK;
}

enum rc alerts_close_as(struct app *app, struct db *db, int64_t id, int64_t person_id, bool ack, const char *actor,
                        bool *changed)
{
	return in_tx(app, db, id, person_id, "api", ack, actor ? actor : "api", changed);
}

enum rc alerts_ack(struct app *app, struct db *db, int64_t id, int64_t person_id, const char *via, bool *changed)
{
	return in_tx(app, db, id, person_id, via, true, NULL, changed);
}

enum rc alerts_resolve(struct app *app, struct db *db, int64_t id, const char *via, bool *changed)
{
	return in_tx(app, db, id, 0, via, false, NULL, changed);
}

/* ---------------------------------------------------------------- call status */

static bool is_terminal(const char *s)
{
	return strcmp(s, "completed") == 0 || strcmp(s, "busy") == 0 || strcmp(s, "no-answer") == 0 ||
	       strcmp(s, "failed") == 0 || strcmp(s, "canceled") == 0;
}

static bool is_machine(const char *answered_by)
{
	return answered_by && (strncmp(answered_by, "machine", 7) == 0 || strcmp(answered_by, "fax") == 0);
}

enum rc alerts_call_status(struct app *app, struct db *db, int64_t attempt_id, const char *call_status,
                           const char *answered_by)
{
	struct alerts_attempt t;
	const char *outcome;
	int64_t now = clock_now();
	enum rc rc;

	if (!call_status || !*call_status)
		return RC_INVALID;
	rc = alerts_attempt_load(db, attempt_id, &t);
	if (rc != RC_OK)
		return rc;
	answered_by = nonempty(answered_by);
	rc = alerts_attempt_update(db, attempt_id, call_status, answered_by, NULL, is_terminal(call_status), now);
	if (rc != RC_OK || !is_terminal(call_status))
		return rc;
	if (strcmp(t.outcome, "ack") == 0)
		return RC_OK;
	if (strcmp(call_status, "completed") == 0)
		outcome = is_machine(answered_by ? answered_by : t.answered_by) ? "machine" : "silence";
	else
		outcome = call_status;
	rc = alerts_attempt_outcome(db, attempt_id, outcome, NULL, false);
	if (rc == RC_OK)
		rc = escalation_move_on(app, db, t.alert_id, t.round, t.step, now);
	if (rc == RC_OK)
		app_wake_engine(app);
	return rc;
}

/* ---------------------------------------------------------------- SMS commands */

/* VERB_ACK_ONE: "assumir" — the word every page suggests ("para assumir") — bare, takes the
 * newest open alert paged to this person, that page; never the shift (SMS "PLANTAO ASSUMIR",
 * server/twilio/sms.c). */
enum sms_verb { VERB_NONE, VERB_ACK, VERB_ACK_ONE, VERB_RESOLVE };

/*
 * Parses "<word> [#]<number>" with nothing but spaces and final punctuation around.
 * *num is 0 without a number.
 */
static enum sms_verb parse_command(const char *text, int64_t *num)
{
	static const struct {
		const char *word;
		enum sms_verb verb;
		bool needs_number;
	} words[] = {
	        {"ack", VERB_ACK, false},          {"ok", VERB_ACK, false},           {"assumir", VERB_ACK_ONE, false},
	        {"take", VERB_ACK_ONE, false},     {"resolver", VERB_RESOLVE, false}, {"resolve", VERB_RESOLVE, false},
	        {"resolvido", VERB_RESOLVE, true},
	};
	char word[16];
	size_t n = 0, i;
	const char *p = text;

	*num = 0;
	while (*p && isspace((unsigned char)*p))
		p++;
	while (isalpha((unsigned char)*p) && n < sizeof word - 1)
		word[n++] = (char)tolower((unsigned char)*p++);
	word[n] = '\0';
	if (isalpha((unsigned char)*p))
		return VERB_NONE;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '#')
		p++;
	if (isdigit((unsigned char)*p)) {
		char *end;
		long long v = strtoll(p, &end, 10);

		if (v <= 0)
			return VERB_NONE;
		*num = v;
		p = end;
	}
	while (*p && (isspace((unsigned char)*p) || *p == '.' || *p == '!'))
		p++;
	if (*p)
		return VERB_NONE;
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(word, words[i].word) == 0)
			return words[i].needs_number && !*num ? VERB_NONE : words[i].verb;
	return VERB_NONE;
}

/* Most alerts a bare "ack" takes at once (a bundled page text lists at most a few). */
#define ACK_ALL_MAX 64

/*
 * A bare "ack"/"ok": every open alert paged to this person (by call or text), oldest first, is
 * acknowledged — the bundled page text says "responda 'ack' para assumir todos". Alerts someone
 * else took meanwhile are left as they are.
 */
static enum rc ack_all(struct app *app, struct db *db, int64_t person_id, const char *phone, struct buf *reply)
{
	int64_t ids[ACK_ALL_MAX], taken[ACK_ALL_MAX];
	size_t n = 0, k = 0, i;
	enum rc rc = alerts_open_for(db, person_id, phone, ids, ACK_ALL_MAX, &n);

	if (rc != RC_OK)
		return rc;
	for (i = n; i-- > 0;) {
		bool changed = false;

		rc = alerts_ack(app, db, ids[i], person_id, "sms", &changed);
		if (rc == RC_CONFLICT || rc == RC_NOT_FOUND)
			continue;
		if (rc != RC_OK)
			return rc;
		if (changed)
			taken[k++] = ids[i];
	}
	if (k == 0)
		return buf_puts(reply, L(app, "Nenhum alerta aberto para você.", "No open alert for you."));
	if (k == 1)
		return buf_printf(reply, L(app, "Alerta %lld assumido por você.", "Alert %lld is yours."),
		                  (long long)taken[0]);
	rc = buf_puts(reply, L(app, "Alertas ", "Alerts "));
	for (i = 0; rc == RC_OK && i < k; i++)
		rc = buf_printf(reply, "%s%lld",
		                i == 0       ? ""
		                : i + 1 == k ? L(app, " e ", " and ")
		                             : ", ",
		                (long long)taken[i]);
	if (rc == RC_OK)
		rc = buf_puts(reply, L(app, " assumidos por você.", " are yours."));
	return rc;
}

enum rc alerts_sms_command(struct app *app, struct db *db, int64_t person_id, const char *text, struct buf *reply,
                           bool *handled)
{
	struct person who;
	struct alerts_row a;
	enum sms_verb verb;
	int64_t id;
	bool changed = false;
	enum rc rc;

	*handled = false;
	verb = parse_command(text ? text : "", &id);
	if (verb == VERB_NONE)
		return RC_OK;
	*handled = true;
	if (person_id <= 0 || people_get(db, person_id, &who) != RC_OK)
		return buf_puts(reply, L(app, "Este número não está cadastrado no plantão.",
		                         "This number is not registered with the on-call team."));
	if (!id && verb == VERB_ACK)
		return ack_all(app, db, person_id, who.phone, reply);
	if (!id) {
		if (verb == VERB_RESOLVE)
			return buf_puts(reply, L(app, "Use: resolver N (o número do alerta).",
			                         "Use: resolve N (the alert number)."));
		rc = alerts_newest_for(db, person_id, who.phone, &id);
		if (rc == RC_NOT_FOUND && verb == VERB_ACK_ONE)
			return buf_puts(reply, L(app,
			                         "Nenhum alerta aberto para você; nada mudou. Para ficar de plantão "
			                         "no lugar de quem está, envie PLANTAO ASSUMIR.",
			                         "No open alert for you; nothing changed. To take the on-call shift, "
			                         "send TAKE SHIFT."));
		if (rc == RC_NOT_FOUND)
			return buf_puts(reply, L(app, "Nenhum alerta aberto para você.", "No open alert for you."));
		if (rc != RC_OK)
			return rc;
	}
	if (verb == VERB_ACK || verb == VERB_ACK_ONE)
		rc = alerts_ack(app, db, id, person_id, "sms", &changed);
	else
		rc = in_tx(app, db, id, person_id, "sms", false, NULL, &changed);
	if (rc == RC_NOT_FOUND)
		return buf_printf(reply, L(app, "Alerta %lld não existe.", "Alert %lld does not exist."),
		                  (long long)id);
	if (rc == RC_CONFLICT)
		return buf_printf(reply, L(app, "Alerta %lld já foi resolvido.", "Alert %lld is already resolved."),
		                  (long long)id);
	if (rc != RC_OK)
		return rc;
	if (verb == VERB_RESOLVE)
		return buf_printf(
		        reply,
		        changed ? L(app, "Alerta %lld resolvido.", "Alert %lld resolved.")
		                : L(app, "Alerta %lld já estava resolvido.", "Alert %lld was already resolved."),
		        (long long)id);
	if (changed)
		return buf_printf(reply, L(app, "Alerta %lld assumido por você.", "Alert %lld is yours."),
		                  (long long)id);
	rc = alerts_load(db, id, &a);
	if (rc == RC_OK && a.acked_by > 0 && a.acked_by != person_id)
		people_name(db, a.acked_by, who.name, sizeof who.name);
	else
		who.name[0] = '\0';
	if (who.name[0])
		return buf_printf(reply,
		                  L(app, "Alerta %lld já foi assumido por %s.", "Alert %lld was already taken by %s."),
		                  (long long)id, who.name);
	return buf_printf(reply, L(app, "Alerta %lld já foi assumido.", "Alert %lld is already acknowledged."),
	                  (long long)id);
}
