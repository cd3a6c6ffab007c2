/*
 * server/monitors/heartbeat.c — the heartbeat state machine (see heartbeat.h). Alerts go through
 * the pager's own functions (alerts_trigger_tx, alerts_resolve_tx, escalation_notify), inside
 * the caller's transaction, so a monitor's state and its alert always change together.
 */
#include "monitors/heartbeat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/log.h"
#include "db/alerts.h"
#include "monitors/cron.h"
#include "pager/alerts.h"
#include "pager/escalation.h"
#include "rotation/tz.h"

__attribute__((format_arg(2), format_arg(3))) static const char *L(struct app *app, const char *pt, const char *en)
{
	return app_lang_en(app) ? en : pt;
}

enum rc heartbeat_due_after(const struct monitor *m, int64_t after_ms, int64_t *due_ms)
{
	struct cron c;
	char err[128];
	int64_t next;
	enum rc rc;

	*due_ms = 0;
	if (!m->schedule[0]) {
		*due_ms = after_ms + m->period_s * 1000;
		return RC_OK;
	}
	rc = cron_parse(m->schedule, &c, err, sizeof err);
	if (rc == RC_OK)
		rc = cron_next(&c, m->tz, after_ms / 1000, &next);
	if (rc != RC_OK) {
		log_warn("monitor %lld: schedule '%s' in %s gives no next time (%s)", (long long)m->id, m->schedule,
		         m->tz, err[0] ? err : rc_str(rc));
		return RC_INVALID;
	}
	*due_ms = next * 1000;
	return RC_OK;
}

/* "06:01" (same local day as now) or "07/03 06:01", in the monitor's zone. */
static void local_time(const struct monitor *m, int64_t at_ms, int64_t now_ms, char *out, size_t len)
{
	struct tm t, n;

	if (tz_utc_to_local(m->tz, at_ms / 1000, &t) != RC_OK || tz_utc_to_local(m->tz, now_ms / 1000, &n) != RC_OK) {
		snprintf(out, len, "?");
		return;
	}
	if (t.tm_year == n.tm_year && t.tm_yday == n.tm_yday)
		strftime(out, len, "%H:%M", &t);
	else
		strftime(out, len, "%d/%m %H:%M", &t);
}

static void set_state(struct monitor *m, const char *state, int64_t now_ms)
{
	if (strcmp(m->state, state) == 0)
		return;
	snprintf(m->state, sizeof m->state, "%s", state);
	m->state_since_ms = now_ms;
}

/* Alert id (0: none) is still open (not resolved): *open. */
static enum rc alert_open(struct db *db, int64_t id, bool *open)
{
	struct alerts_row a;
	enum rc rc;

	*open = false;
	if (!id)
		return RC_OK;
	rc = alerts_load(db, id, &a);
	if (rc == RC_NOT_FOUND)
		return RC_OK;
	if (rc == RC_OK)
		*open = strcmp(a.status, "resolved") != 0;
	return rc;
}

enum rc heartbeat_alert_open(struct db *db, struct monitor *m, int64_t *alert_id, const char *dedup_key,
                             const char *severity, const char *summary, const char *details, int64_t now_ms,
                             struct heartbeat_effects *fx)
{
	struct alert_input in = {summary, details, severity, "monitor", dedup_key};
	bool open, deduped = false;
	int64_t id;
	enum rc rc = alert_open(db, *alert_id, &open);

	if (rc != RC_OK || open)
		return rc;
	rc = alerts_trigger_tx(db, &in, now_ms / 1000, &id, &deduped);
	if (rc != RC_OK)
		return rc;
	*alert_id = id;
	if (!deduped)
		fx->opened++;
	log_warn("monitor %lld (%s): alert %lld%s: %s", (long long)m->id, m->name, (long long)id,
	         deduped ? " (already open)" : " opened", summary);
	return RC_OK;
}

static enum rc open_alert(struct db *db, struct monitor *m, const char *summary, const char *details, int64_t now_ms,
                          struct heartbeat_effects *fx)
{
	char key[40];

	snprintf(key, sizeof key, "monitor:%lld", (long long)m->id);
	return heartbeat_alert_open(db, m, &m->alert_id, key, m->severity, summary, details, now_ms, fx);
}

enum rc heartbeat_alert_close(struct app *app, struct db *db, struct monitor *m, int64_t *alert_id, const char *notice,
                              int64_t now_ms, struct heartbeat_effects *fx)
{
	bool open, changed = false;
	enum rc rc = alert_open(db, *alert_id, &open);

	if (rc != RC_OK)
		return rc;
	if (open && notice) {
		/* Queued under the resolve notice's own idempotency keys (tag "resolved"), so the pager's
		 * generic "Alerta N resolvido." below finds them taken: one text per person, this one. */
		rc = escalation_notify(app, db, *alert_id, "resolved", notice);
	}
	if (rc == RC_OK && open)
		rc = alerts_resolve_tx(app, db, *alert_id, "monitor", now_ms / 1000, &changed);
	if (rc != RC_OK)
		return rc;
	if (changed) {
		fx->resolved++;
		log_info("monitor %lld (%s): alert %lld resolved", (long long)m->id, m->name, (long long)*alert_id);
	}
	*alert_id = 0;
	return RC_OK;
}

static enum rc close_alert(struct app *app, struct db *db, struct monitor *m, const char *notice, int64_t now_ms,
                           struct heartbeat_effects *fx)
{
	return heartbeat_alert_close(app, db, m, &m->alert_id, notice, now_ms, fx);
}

enum rc heartbeat_close_alert(struct app *app, struct db *db, struct monitor *m, int64_t now_ms,
                              struct heartbeat_effects *fx)
{
	enum rc rc = close_alert(app, db, m, NULL, now_ms, fx);

	if (rc == RC_OK)
		rc = heartbeat_alert_close(app, db, m, &m->cert_alert_id, NULL, now_ms, fx);
	return rc;
}

static enum rc went_down_missed(struct app *app, struct db *db, struct monitor *m, int64_t now_ms,
                                struct heartbeat_effects *fx)
{
	char last[32], due[32], summary[ALERTS_SUMMARY_MAX + 1], details[400];

	local_time(m, m->last_ping_ms, now_ms, last, sizeof last);
	local_time(m, m->due_ms, now_ms, due, sizeof due);
	snprintf(summary, sizeof summary,
	         L(app, "Monitor \"%s\" sem sinal: último às %s, esperado até %s",
	           "Monitor \"%s\" missed its ping: last at %s, expected by %s"),
	         m->name, last, due);
	if (m->schedule[0])
		snprintf(details, sizeof details,
		         L(app, "Agenda: %s (%s); tolerância: %lld s.", "Schedule: %s (%s); grace: %lld s."),
		         m->schedule, m->tz, (long long)m->grace_s);
	else
		snprintf(details, sizeof details,
		         L(app, "Sinal esperado a cada %lld s; tolerância: %lld s.",
		           "A ping is expected every %lld s; grace: %lld s."),
		         (long long)m->period_s, (long long)m->grace_s);
	set_state(m, "down", now_ms);
	m->next_ms = 0;
	return open_alert(db, m, summary, details, now_ms, fx);
}

static enum rc went_down_failed(struct app *app, struct db *db, struct monitor *m, const struct monitor_ping *p,
                                const char *body, int64_t now_ms, struct heartbeat_effects *fx)
{
	char summary[ALERTS_SUMMARY_MAX + 1];

	if (p->exit_status > 0)
		snprintf(summary, sizeof summary,
		         L(app, "Monitor \"%s\" falhou (código de saída %d)", "Monitor \"%s\" failed (exit status %d)"),
		         m->name, p->exit_status);
	else
		snprintf(summary, sizeof summary, L(app, "Monitor \"%s\" falhou", "Monitor \"%s\" failed"), m->name);
	set_state(m, "down", now_ms);
	m->next_ms = 0;
	return open_alert(db, m, summary, body && *body ? body : NULL, now_ms, fx);
}

enum rc heartbeat_on_ping(struct app *app, struct db *db, struct monitor *m, const struct monitor_ping *p,
                          const char *body, int64_t now_ms, struct heartbeat_effects *fx)
{
	bool success = strcmp(p->kind, "success") == 0;
	char at[32], notice[400];
	enum rc rc;

	m->last_ping_ms = p->at_ms;
	snprintf(m->last_ping_kind, sizeof m->last_ping_kind, "%s", p->kind);
	if (strcmp(p->kind, "start") == 0) {
		m->last_start_ms = p->at_ms;
		return RC_OK;
	}
	if (m->last_start_ms && p->at_ms >= m->last_start_ms)
		m->last_duration_ms = p->at_ms - m->last_start_ms;
	m->last_start_ms = 0;
	rc = heartbeat_due_after(m, p->at_ms, &m->due_ms);
	if (rc != RC_OK)
		return rc;
	if (m->paused)
		return RC_OK;
	if (!success)
		return went_down_failed(app, db, m, p, body, now_ms, fx);
	set_state(m, "up", now_ms);
	m->next_ms = m->due_ms;
	if (!m->alert_id)
		return RC_OK;
	local_time(m, p->at_ms, now_ms, at, sizeof at);
	snprintf(notice, sizeof notice,
	         L(app, "Alerta %lld resolvido: monitor \"%s\" voltou (sinal às %s).",
	           "Alert %lld resolved: monitor \"%s\" is back (ping at %s)."),
	         (long long)m->alert_id, m->name, at);
	return close_alert(app, db, m, notice, now_ms, fx);
}

enum rc heartbeat_on_time(struct app *app, struct db *db, struct monitor *m, int64_t now_ms,
                          struct heartbeat_effects *fx)
{
	int64_t down_ms = m->due_ms + m->grace_s * 1000;

	if (m->paused || !m->due_ms || (strcmp(m->state, "up") != 0 && strcmp(m->state, "late") != 0)) {
		m->next_ms = 0;
		return RC_OK;
	}
	if (now_ms >= down_ms)
		return went_down_missed(app, db, m, now_ms, fx);
	if (now_ms >= m->due_ms) {
		if (strcmp(m->state, "late") != 0)
			log_info("monitor %lld (%s) is late", (long long)m->id, m->name);
		set_state(m, "late", now_ms);
		m->next_ms = down_ms;
		return RC_OK;
	}
	m->next_ms = m->due_ms;
	return RC_OK;
}

enum rc heartbeat_set_paused(struct app *app, struct db *db, struct monitor *m, bool paused, int64_t now_ms,
                             struct heartbeat_effects *fx)
{
	enum rc rc;

	if (paused == m->paused)
		return RC_OK;
	m->paused = paused;
	if (paused) {
		m->next_ms = 0;
		return heartbeat_close_alert(app, db, m, now_ms, fx);
	}
	if (strcmp(m->kind, "heartbeat") != 0) { /* an uptime check: checked again at once, from scratch */
		set_state(m, "new", now_ms);
		m->fail_streak = 0;
		m->next_ms = now_ms;
		return RC_OK;
	}
	if (!m->last_ping_ms) {
		set_state(m, "new", now_ms);
		m->due_ms = m->next_ms = 0;
		return RC_OK;
	}
	rc = heartbeat_due_after(m, now_ms, &m->due_ms);
	if (rc != RC_OK)
		return rc;
	set_state(m, "up", now_ms);
	m->next_ms = m->due_ms;
	return RC_OK;
}

enum rc heartbeat_rescheduled(struct monitor *m, int64_t now_ms)
{
	enum rc rc;

	(void)now_ms;
	if (m->paused || (strcmp(m->state, "up") != 0 && strcmp(m->state, "late") != 0) || !m->last_ping_ms)
		return RC_OK;
	rc = heartbeat_due_after(m, m->last_ping_ms, &m->due_ms);
	if (rc != RC_OK)
		return rc;
	m->next_ms = m->due_ms;
	return RC_OK;
}
