/*
 * server/rotation/swap_flow.c — the "trocar turno" flow (swap_flow.h). The giver's on-call time is
 * checked against the schedule as /api/schedule computes it (rotation and overrides); the
 * override is added through db/rotation.h like POST /api/overrides?replace=true, so hand-off
 * notices and the audit follow as for any override.
 *
 * The answer that completes a swap and carrying it out are one transaction: the last answer,
 * the giver's time re-checked, the override (db/rotation.h rotation_override_add_tx), the swap
 * marked accepted and the texts are all kept or none is (a crash or a failed write in between
 * leaves the swap waiting for that answer, which can simply be sent again); a swap whose time is
 * no longer the giver's is canceled instead. A second answer from the same side writes nothing and
 * carries out nothing, so Twilio retrying a text cannot add a second override.
 */
#include "rotation/swap_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "db/outbox.h"
#include "db/people.h"
#include "db/rotation.h"
#include "rotation/handoff.h"
#include "rotation/schedule.h"

/* The text in PLANTAO_LANG; both are checked as format strings where they are used as such. */
__attribute__((format_arg(2), format_arg(3))) static const char *L(struct app *app, const char *pt, const char *en)
{
	return app_lang_en(app) ? en : pt;
}

enum rc swap_flow_is_their_time(struct db *db, int64_t person, int64_t start, int64_t end, bool *theirs)
{
	struct rotation_snapshot snap;
	struct schedule_shift *sh = NULL;
	int64_t covered = 0;
	size_t n = 0, i;
	enum rc rc;

	*theirs = false;
	memset(&snap, 0, sizeof snap);
	rc = rotation_load(db, start, end, &snap);
	if (rc == RC_OK)
		rc = schedule_shifts(&snap.sched, start, end, &sh, &n);
	for (i = 0; rc == RC_OK && i < n; i++) {
		int64_t a = sh[i].start > start ? sh[i].start : start, b = sh[i].end < end ? sh[i].end : end;

		if (b > a && sh[i].person_id == person)
			covered += b - a;
	}
	*theirs = rc == RC_OK && covered == end - start;
	free(sh);
	rotation_release(&snap);
	return rc;
}

/* One text about swap s to person id (nothing when they opted out of texts: Twilio refuses them). */
static enum rc text(struct db *db, int64_t swap_id, int64_t person_id, const char *what, const char *body)
{
	struct outbox_msg m = {0};
	struct person p;
	char key[96];
	enum rc rc = people_get(db, person_id, &p);

	if (rc == RC_NOT_FOUND)
		return RC_OK;
	if (rc != RC_OK)
		return rc;
	if (p.sms_opt_out) {
		log_warn("swap %lld: %s (person %lld) opted out of texts: not texted (%s); the console still answers",
		         (long long)swap_id, LOG_PHONE(p.phone), (long long)person_id, what);
		return RC_OK;
	}
	snprintf(key, sizeof key, "swap:%lld:%s:%lld", (long long)swap_id, what, (long long)person_id);
	m.kind = OUTBOX_SMS;
	m.class_ = "swap";
	m.priority = OUTBOX_PRIO_SUPPORT;
	m.to = p.phone;
	m.body = body;
	m.idem_key = key;
	m.owner_type = "swap";
	m.owner_id = swap_id;
	return outbox_enqueue(db, &m, NULL);
}

/* "sex 20/11 09:00" of each end of s and of its expiry, in the team's zone. */
struct when {
	char from[48], until[48], by[48];
};

static void when_of(struct app *app, const struct swap *s, struct when *w)
{
	bool en = app_lang_en(app);

	handoff_when(app->cfg->tz, en, s->start, w->from, sizeof w->from);
	handoff_when(app->cfg->tz, en, s->end, w->until, sizeof w->until);
	handoff_when(app->cfg->tz, en, s->expires_at ? s->expires_at : s->end, w->by, sizeof w->by);
}

/* The texts asking each side that has not confirmed, inside the caller's transaction. */
static enum rc ask_texts(struct app *app, struct db *db, const struct swap *s)
{
	char from_name[PEOPLE_NAME_BYTES] = "", to_name[PEOPLE_NAME_BYTES] = "", body[640];
	long long id = (long long)s->id;
	struct when w;
	enum rc rc = RC_OK;

	when_of(app, s, &w);
	people_name(db, s->from_person, from_name, sizeof from_name);
	people_name(db, s->to_person, to_name, sizeof to_name);
	if (!s->to_confirmed_at) {
		snprintf(body, sizeof body,
		         L(app,
		           "Troca de turno #%lld: %s pede que você fique de plantão de %s até %s. Responda ACEITO %lld "
		           "para aceitar ou RECUSO %lld para recusar, até %s.",
		           "Shift swap #%lld: %s asks you to be on call from %s until %s. Reply ACCEPT %lld to accept "
		           "or DECLINE %lld to decline, by %s."),
		         id, from_name, w.from, w.until, id, id, w.by);
		rc = text(db, s->id, s->to_person, "ask", body);
	}
	if (rc == RC_OK && !s->from_confirmed_at) {
		snprintf(
		        body, sizeof body,
		        L(app,
		          "Troca de turno #%lld: pediram que %s fique com o seu plantão de %s até %s. Responda ACEITO "
		          "%lld para confirmar ou RECUSO %lld para cancelar, até %s.",
		          "Shift swap #%lld: %s is asked to take your on-call time from %s until %s. Reply ACCEPT %lld "
		          "to confirm or DECLINE %lld to cancel, by %s."),
		        id, to_name, w.from, w.until, id, id, w.by);
		rc = text(db, s->id, s->from_person, "ask", body);
	}
	return rc;
}

enum rc swap_flow_ask(struct app *app, struct db *db, const struct swap *in, bool confirmed_by_from, const char *actor,
                      int64_t now, int64_t *id)
{
	struct swap s;
	enum rc rc = db_begin(db);

	*id = 0;
	if (rc != RC_OK)
		return rc;
	rc = swaps_create_tx(db, in, confirmed_by_from, actor, now, id);
	if (rc == RC_OK)
		rc = swaps_get(db, *id, now, &s);
	if (rc == RC_OK)
		rc = ask_texts(app, db, &s);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*id = 0;
		return rc;
	}
	app_wake_engine(app);
	{
		char from[PEOPLE_NAME_BYTES], to[PEOPLE_NAME_BYTES];

		people_name(db, in->from_person, from, sizeof from);
		people_name(db, in->to_person, to, sizeof to);
		log_info("swap %lld asked by %s: %s (person %lld) to %s (person %lld), %s to %s", (long long)*id, actor,
		         from, (long long)in->from_person, to, (long long)in->to_person, LOG_TIME(in->start),
		         LOG_TIME(in->end));
	}
	return RC_OK;
}

static enum rc finish(struct db *db, enum rc rc)
{
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

/* The other side of person_id in s. */
static int64_t other_side(const struct swap *s, int64_t person_id)
{
	return person_id == s->from_person ? s->to_person : s->from_person;
}

/*
 * Both confirmed: re-check the giver's time, add the override, mark the swap accepted and text
 * the other side, inside the transaction of the last answer; or, when the time is not the
 * giver's any more, cancel the swap (out->voided) and text both. *oid: the override added.
 */
static enum rc carry_out_tx(struct app *app, struct db *db, int64_t person_id, const char *actor, int64_t now,
                            struct swap_answer *out, int64_t *oid)
{
	struct swap *s = &out->s;
	char reason[64], name[PEOPLE_NAME_BYTES] = "", by[PEOPLE_NAME_BYTES] = "", body[480];
	struct rotation_override_input in = {s->to_person, s->start > now ? s->start : now, s->end, reason};
	struct when w;
	bool theirs = false;
	enum rc rc;

	*oid = 0;
	if (in.end <= in.start) { /* confirmed after its end: nothing left to give */
		in.start = s->start;
		theirs = true;
	} else {
		rc = swap_flow_is_their_time(db, s->from_person, in.start, in.end, &theirs);
		if (rc != RC_OK) {
			snprintf(out->err, sizeof out->err, "cannot read the schedule");
			return rc;
		}
	}
	people_name(db, s->from_person, name, sizeof name);
	if (!theirs) {
		out->voided = true;
		snprintf(out->err, sizeof out->err,
		         "%s is not on call for all of this time any more: swap %lld canceled", name, (long long)s->id);
		snprintf(body, sizeof body,
		         L(app,
		           "A troca de turno #%lld foi cancelada: %s não está mais de plantão em todo esse período.",
		           "Shift swap #%lld is canceled: %s is no longer on call for all of that time."),
		         (long long)s->id, name);
		rc = swaps_void_tx(db, s->id, "time no longer the giver's", actor, now);
		if (rc == RC_OK)
			rc = text(db, s->id, s->from_person, "void", body);
		if (rc == RC_OK)
			rc = text(db, s->id, s->to_person, "void", body);
		return rc;
	}
	snprintf(reason, sizeof reason, "troca de turno #%lld", (long long)s->id);
	rc = rotation_override_add_tx(db, &in, true, actor, oid, out->err, sizeof out->err);
	if (rc != RC_OK) {
		if (!out->err[0])
			snprintf(out->err, sizeof out->err, "cannot add the override");
		return rc;
	}
	when_of(app, s, &w);
	people_name(db, person_id, by, sizeof by);
	people_name(db, s->to_person, name, sizeof name);
	snprintf(body, sizeof body,
	         L(app, "%s aceitou a troca de turno #%lld: %s fica de plantão de %s até %s.",
	           "%s accepted shift swap #%lld: %s is on call from %s until %s."),
	         by, (long long)s->id, name, w.from, w.until);
	rc = swaps_accept_tx(db, s->id, *oid, actor, now);
	if (rc == RC_OK)
		rc = text(db, s->id, other_side(s, person_id), "accepted", body);
	if (rc != RC_OK && !out->err[0])
		snprintf(out->err, sizeof out->err, "cannot record the swap as accepted");
	return rc;
}

/* Why an answer was refused, in out->err. */
static void explain(struct swap_answer *out, enum rc rc, int64_t id, int64_t person_id)
{
	if (rc == RC_NOT_FOUND)
		snprintf(out->err, sizeof out->err, "no swap %lld", (long long)id);
	else if (rc == RC_FORBIDDEN)
		snprintf(out->err, sizeof out->err, "person %lld is not part of swap %lld", (long long)person_id,
		         (long long)id);
	else if (rc == RC_CONFLICT)
		snprintf(out->err, sizeof out->err, "swap %lld is %s already", (long long)id, out->s.status);
}

enum rc swap_flow_answer(struct app *app, struct db *db, int64_t id, int64_t person_id, bool yes, const char *actor,
                         int64_t now, struct swap_answer *out)
{
	char by[PEOPLE_NAME_BYTES] = "", body[320];
	bool carried = false;
	int64_t oid = 0;
	enum rc rc;

	memset(out, 0, sizeof *out);
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = swaps_answer_tx(db, id, person_id, yes, actor, now, &out->s, &out->changed);
	if (rc == RC_OK && !yes) {
		bool cancel = person_id == out->s.from_person;

		people_name(db, person_id, by, sizeof by);
		snprintf(body, sizeof body,
		         cancel ? L(app, "%s cancelou a troca de turno #%lld; nada mudou.",
		                    "%s canceled shift swap #%lld; nothing changed.")
		                : L(app, "%s recusou a troca de turno #%lld; nada mudou.",
		                    "%s declined shift swap #%lld; nothing changed."),
		         by, (long long)id);
		rc = text(db, id, other_side(&out->s, person_id), cancel ? "canceled" : "declined", body);
	}
	if (rc == RC_OK && yes && out->changed && out->s.from_confirmed_at && out->s.to_confirmed_at &&
	    strcmp(out->s.status, "pending") == 0) {
		carried = true;
		rc = carry_out_tx(app, db, person_id, actor, now, out, &oid);
	}
	rc = finish(db, rc);
	if (rc != RC_OK) {
		out->voided = false;
		if (carried) /* nothing of the answer was kept: read the swap as it stands */
			(void)swaps_get(db, id, now, &out->s);
		if (!out->err[0])
			explain(out, rc, id, person_id);
		if (carried)
			log_err("swap %lld: both sides confirmed but it could not be carried out (%s): nothing of "
			        "the last answer kept",
			        (long long)id, out->err[0] ? out->err : "database error");
		return rc;
	}
	if (!yes || carried)
		app_wake_engine(app);
	if (!carried)
		return RC_OK;
	rc = swaps_get(db, id, now, &out->s);
	if (rc != RC_OK)
		return rc;
	if (out->voided) {
		log_warn("swap %lld canceled: %s", (long long)id, out->err);
		return RC_CONFLICT;
	}
	{
		char to[PEOPLE_NAME_BYTES];

		people_name(db, out->s.to_person, to, sizeof to);
		log_info("swap %lld accepted: override %lld for %s (person %lld)", (long long)id, (long long)oid, to,
		         (long long)out->s.to_person);
	}
	return RC_OK;
}
