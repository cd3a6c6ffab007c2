/*
 * server/rotation/handoff.c — the hand-off notice engine job (rules in handoff.h).
 */
#include "rotation/handoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/auth.h"
#include "db/db.h"
#include "db/outbox.h"
#include "db/people.h"
#include "db/rotation.h"
#include "core/app.h"
#include "core/log.h"
#include "rotation/tz.h"

struct handoff {
	int64_t next_ms; /* next look */
	int64_t last_ms; /* last look, to notice a clock that went back */
};

void handoff_when(const char *tz, bool en, int64_t t, char *out, size_t len)
{
	static const char *const pt_days[] = {"dom", "seg", "ter", "qua", "qui", "sex", "sáb"};
	static const char *const en_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	struct tm tm;

	if (tz_utc_to_local(tz, t, &tm) != RC_OK || tm.tm_wday < 0 || tm.tm_wday > 6) {
		snprintf(out, len, "%lld", (long long)t);
		return;
	}
	if (en)
		snprintf(out, len, "%s %02d/%02d %02d:%02d", en_days[tm.tm_wday], (tm.tm_mon + 1) % 100,
		         tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100);
	else
		snprintf(out, len, "%s %02d/%02d %02d:%02d", pt_days[tm.tm_wday], tm.tm_mday % 100,
		         (tm.tm_mon + 1) % 100, tm.tm_hour % 100, tm.tm_min % 100);
}

enum rc handoff_start(struct app *app, struct db *db, void **state)
{
	(void)app;
	(void)db;
	*state = calloc(1, sizeof(struct handoff));
	return *state ? RC_OK : RC_INTERNAL;
}

void handoff_stop(void *state)
{
	free(state);
}

/* One text of the boundary; off: the "your shift ended" one (its own key: the same person may
 * have been told "you are on call" at that boundary before an override was replaced). */
static enum rc text(struct db *db, const struct person *p, int64_t start, bool off, const char *body)
{
	struct outbox_msg m = {0};
	char key[80];

	if (p->sms_opt_out)
		return RC_OK;
	snprintf(key, sizeof key, "handoff:%lld:%lld%s", (long long)start, (long long)p->id, off ? ":off" : "");
	m.kind = OUTBOX_SMS;
	m.class_ = "handoff";
	m.priority = OUTBOX_PRIO_SUPPORT;
	m.to = p->phone;
	m.body = body;
	m.idem_key = key;
	m.owner_type = "handoff";
	m.owner_id = start;
	return outbox_enqueue(db, &m, NULL);
}

/* Ends body with the request to verify the phone when person id's phone is not verified
 * (issue 16): replying VERIFICAR gets a code by SMS, replying with it confirms the phone. */
static enum rc ask_to_verify(struct db *db, int64_t id, bool en, char *body, size_t size)
{
	char role[AUTH_ROLE_MAX];
	int64_t verified_at = 0;
	size_t n = strlen(body);
	enum rc rc = auth_person_flags(db, id, role, &verified_at);

	if (rc == RC_NOT_FOUND || (rc == RC_OK && verified_at))
		return RC_OK;
	if (rc != RC_OK)
		return rc;
	snprintf(body + n, size - n, " %s",
	         en ? "Reply VERIFY to confirm this phone." : "Responda VERIFICAR para confirmar este telefone.");
	return RC_OK;
}

/* Queues the two texts of a change at `boundary` to cur's person (in the caller's transaction). */
static enum rc queue_texts(struct app *app, struct db *db, const struct rotation_snapshot *snap,
                           const struct schedule_shift *cur, int64_t boundary, int64_t leaving_id)
{
	bool en = app_lang_en(app);
	const char *tz = rotation_zone_at(snap, boundary, app->cfg->tz);
	char since[48], until[48], body[PEOPLE_NAME_BYTES + 256];
	struct person in, out;
	bool have_out = false;
	enum rc rc;

	handoff_when(tz, en, boundary, since, sizeof since);
	handoff_when(tz, en, cur->end, until, sizeof until);
	rc = people_get(db, cur->person_id, &in);
	if (rc == RC_NOT_FOUND) { /* archived meanwhile: nobody to tell, still recorded */
		in.id = 0;
		rc = RC_OK;
	}
	if (rc != RC_OK)
		return rc;
	if (leaving_id) {
		rc = people_get(db, leaving_id, &out);
		have_out = rc == RC_OK;
		if (rc != RC_OK && rc != RC_NOT_FOUND)
			return rc;
	}
	if (in.id) {
		if (en)
			snprintf(body, sizeof body,
			         "Plantao: you are on call since %s until %s. Support calls and alerts come to you.",
			         since, until);
		else
			snprintf(body, sizeof body,
			         "Plantão: você está de plantão desde %s até %s. Ligações de suporte e alertas vão "
			         "para você.",
			         since, until);
		rc = ask_to_verify(db, in.id, en, body, sizeof body);
		if (rc == RC_OK)
			rc = text(db, &in, boundary, false, body);
		if (rc != RC_OK)
			return rc;
	}
	if (have_out) {
		if (en)
			snprintf(body, sizeof body, "Plantao: your shift ended %s. Now on call: %s until %s.", since,
			         in.id ? in.name : "?", until);
		else
			snprintf(body, sizeof body, "Plantão: seu plantão terminou %s. Agora com %s até %s.", since,
			         in.id ? in.name : "?", until);
		rc = ask_to_verify(db, out.id, en, body, sizeof body);
		if (rc == RC_OK)
			rc = text(db, &out, boundary, true, body);
	}
	return rc;
}

/* Is cur's start the cut of a rotation edit (a version taking effect), not a shift change? */
static bool is_edit_cut(const struct rotation_snapshot *snap, const struct schedule_shift *cur)
{
	size_t i;

	if (cur->is_override)
		return false;
	for (i = 0; i < snap->n_versions; i++)
		if (snap->versions[i].effective_at == cur->start)
			return true;
	return false;
}

/*
 * Who to tell, from the notices already made (the newest says who was told last that they are
 * on call) and the piece running now:
 * - (cur.start, cur.person) not announced: a new boundary, or a new person at a boundary
 *   (an override replaced by another with the same start). The person told last, if another,
 *   is the one leaving; else whoever the schedule had just before (after a downtime).
 * - announced, but someone else was told since (an override deleted or cut short gave the
 *   shift back): announced again from now, the person told last is the one leaving.
 * - announced and the last told: nothing to do.
 */
enum rc handoff_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct handoff *h = state;
	struct rotation_snapshot snap;
	struct schedule_shift cur, prev;
	int64_t now = now_ms / 1000, leaving = 0, last_start, last_person = 0, boundary;
	bool exists, have_last, inserted, send;
	enum rc rc;

	if (now_ms < h->next_ms && now_ms >= h->last_ms)
		return RC_OK;
	h->last_ms = now_ms;
	h->next_ms = now_ms + HANDOFF_CHECK_MS;
	rc = rotation_load(db, now - 1, now + 1, &snap);
	if (rc != RC_OK)
		goto out;
	rc = schedule_oncall(&snap.sched, now, &cur);
	if (rc == RC_NOT_FOUND) {
		rc = RC_OK;
		goto out;
	}
	if (rc != RC_OK)
		goto out;
	rc = rotation_notice_last(db, &last_start, &last_person);
	have_last = rc == RC_OK;
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		goto out;
	rc = rotation_notice_exists(db, cur.start, cur.person_id, &exists);
	if (rc != RC_OK || (exists && (!have_last || last_person == cur.person_id)))
		goto out;
	if (have_last && last_person != cur.person_id) {
		leaving = last_person;
	} else {
		rc = schedule_oncall(&snap.sched, cur.start - 1, &prev);
		if (rc == RC_OK)
			leaving = prev.person_id;
		else if (rc != RC_NOT_FOUND)
			goto out;
	}
	/* a rotation edit's cut is not a hand-off (whoever edits knows); an override change is */
	boundary = exists ? now : cur.start;
	send = leaving != cur.person_id && (exists || !is_edit_cut(&snap, &cur));
	rc = db_begin(db);
	if (rc != RC_OK)
		goto out;
	rc = rotation_notice_insert(db, boundary, cur.person_id, now, &inserted);
	if (rc == RC_OK && inserted && send)
		rc = queue_texts(app, db, &snap, &cur, boundary, leaving);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		goto out;
	}
	if (inserted && send) {
		char on[PEOPLE_NAME_BYTES], off[PEOPLE_NAME_BYTES];

		people_name(db, cur.person_id, on, sizeof on);
		people_name(db, leaving, off, sizeof off);
		log_info("hand-off at %s: %s (person %lld) on call, %s (person %lld) leaving", LOG_TIME(boundary), on,
		         (long long)cur.person_id, leaving ? off : "nobody", (long long)leaving);
	}
out:
	rotation_release(&snap);
	return rc;
}
