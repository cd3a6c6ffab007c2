/*
 * server/outbox/mailer.c — the e-mail channel's thread (contract in mailer.h): what goes by
 * e-mail, in Portuguese or English (PLANTAO_LANG), and its sending through the outbox.
 */
#include "outbox/mailer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/mail.h"
#include "db/outbox.h"
#include "db/people.h"
#include "db/sales.h"
#include "http/metrics.h"
#include "mail/compose.h"
#include "outbox/sender.h"
#include "outbox/smtp.h"
#include "rotation/tz.h"
#include "sales/amount.h"
#include "sales/sales_parse.h"
#include "twilio/voice.h"

#define TEXT_MAX (256 * 1024)

/* Held texts remembered, so each is warned about and counted once (more at once: again). */
#define MAILER_HELD_MAX 64

struct mailer {
	struct app *app;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic bool stop;
	int64_t next_sales_ms;         /* when to look for a monthly sales summary to send */
	int64_t held[MAILER_HELD_MAX]; /* texts whose e-mails the database refused (warned once each) */
	size_t held_next;              /* the slot the next one takes (the oldest goes first) */
	unsigned int seed;
};

#define L(m, pt, en) (app_lang_en((m)->app) ? (en) : (pt))

static void local_time(const struct mailer *m, int64_t t, char *out, size_t size)
{
	struct tm tm;

	if (tz_utc_to_local(m->app->cfg->tz, t, &tm) != RC_OK || !strftime(out, size, "%d/%m/%Y %H:%M", &tm))
		snprintf(out, size, "%lld", (long long)t);
}

static const char *severity_words(const struct mailer *m, const char *s)
{
	if (!strcmp(s, "critical"))
		return L(m, "crítico", "critical");
	if (!strcmp(s, "warning"))
		return L(m, "aviso", "warning");
	if (!strcmp(s, "info"))
		return L(m, "informativo", "info");
	return s;
}

/* ---- 1. what goes by e-mail ---- */

struct page_mail {
	struct mailer *m;
	struct buf text;
	int64_t ids[MAIL_ALERTS_MAX];
	int n;
	char first_summary[512];
	char first_link[1024];
	int64_t wanted[MAILER_SOURCES_MAX]; /* the alerts this e-mail is for */
	int n_wanted;
	enum rc rc;
};

static void add_alert(void *ctx, const struct mail_alert *a)
{
	struct page_mail *p = ctx;
	const struct mailer *m = p->m;
	char when[64];
	bool wanted = false;
	int i;

	for (i = 0; i < p->n_wanted; i++)
		wanted = wanted || p->wanted[i] == a->id;
	if (!wanted || p->n >= MAIL_ALERTS_MAX || p->rc != RC_OK)
		return;
	if (!p->n) {
		snprintf(p->first_summary, sizeof p->first_summary, "%s", a->summary);
		snprintf(p->first_link, sizeof p->first_link, "%s", a->runbook_url);
	}
	p->ids[p->n++] = a->id;
	local_time(m, a->created_at, when, sizeof when);
	p->rc = buf_printf(&p->text, "%s %lld%s%s%s\n%s\n", L(m, "Alerta", "Alert"), (long long)a->id,
	                   a->severity[0] ? " (" : "", a->severity[0] ? severity_words(m, a->severity) : "",
	                   a->severity[0] ? ")" : "", a->summary);
	if (p->rc == RC_OK && a->details[0])
		p->rc = buf_printf(&p->text, "%s\n", a->details);
	if (p->rc == RC_OK && a->source[0])
		p->rc = buf_printf(&p->text, "%s: %s\n", L(m, "Origem", "Source"), a->source);
	if (p->rc == RC_OK && a->runbook_url[0])
		p->rc = buf_printf(&p->text, "Runbook: %s\n", a->runbook_url);
	if (p->rc == RC_OK)
		p->rc = buf_printf(&p->text, "%s: %s\n\n", L(m, "Aberto em", "Opened at"), when);
}

/* Builds and queues one e-mail in the caller's transaction (nothing when it was queued already). */
static enum rc queue_mail(struct mailer *m, struct db *db, const struct mail_source *s, const char *subject,
                          const char *text, const char *link, const char *link_label, const int64_t *alerts,
                          int n_alerts, const char *key)
{
	const struct cfg *c = m->app->cfg;
	char message_id[COMPOSE_MESSAGE_ID_MAX], *message = NULL;
	struct compose_msg cm = {0};
	struct mail_new mn = {0};
	bool created = false;
	int64_t now = clock_now();
	enum rc rc = compose_message_id(c->smtp_from, now, message_id, sizeof message_id);

	cm.from = c->smtp_from;
	cm.to = s->email;
	cm.subject = subject;
	cm.text = text;
	cm.link = link && link[0] ? link : NULL;
	cm.link_label = link_label;
	cm.lang = c->lang;
	cm.message_id = message_id;
	cm.date = now;
	if (rc == RC_OK)
		rc = compose_message(&cm, &message);
	if (rc != RC_OK) {
		log_err("e-mail for outbox %lld to %s could not be built: %s", (long long)s->outbox_id, s->email,
		        rc_str(rc));
		return rc;
	}
	mn.class_ = n_alerts ? "alert" : s->outbox_id ? "support" : "sales";
	mn.priority = n_alerts ? OUTBOX_PRIO_ALERT : s->outbox_id ? OUTBOX_PRIO_SUPPORT : OUTBOX_PRIO_SALES;
	mn.to = s->email;
	mn.message = message;
	mn.message_id = message_id;
	mn.subject = subject;
	mn.idem_key = key;
	mn.owner_type = n_alerts ? "alert" : s->outbox_id ? "voicemail" : "sales";
	mn.owner_id = n_alerts ? alerts[0] : s->owner_id;
	mn.source_id = s->outbox_id;
	mn.alerts = alerts;
	mn.n_alerts = n_alerts;
	rc = mail_enqueue(db, &mn, &created);
	if (rc == RC_OK && created)
		log_info("e-mail %s queued to %s (%s, outbox %lld)", message_id, s->email,
		         n_alerts       ? "page"
		         : s->outbox_id ? "voicemail"
		                        : "sales summary",
		         (long long)s->outbox_id);
	free(message);
	return rc;
}

/* One e-mail for sources s[0..n) (one text row, one person, its alerts). */
static enum rc page_mail(struct mailer *m, struct db *db, const struct mail_source *s, int n)
{
	struct page_mail p = {0};
	char subject[700], key[128];
	enum rc rc;
	int i;

	p.m = m;
	for (i = 0; i < n && i < MAILER_SOURCES_MAX; i++)
		p.wanted[p.n_wanted++] = s[i].alert_id;
	buf_init(&p.text, TEXT_MAX);
	rc = buf_printf(&p.text, "%s, %s.\n\n", L(m, "Olá", "Hello"), s->name);
	if (rc == RC_OK)
		rc = mail_alerts_of(db, s->outbox_id, add_alert, &p);
	if (rc == RC_OK)
		rc = p.rc;
	if (rc != RC_OK || !p.n)
		goto out;
	if (p.n == 1)
		rc = buf_printf(
		        &p.text,
		        L(m,
		          "Para assumir: atenda a ligação e tecle 1, responda \"ack %lld\" por SMS ou use o "
		          "console: %s/\n",
		          "To acknowledge: answer the call and press 1, text \"ack %lld\" or use the console: %s/\n"),
		        (long long)p.ids[0], m->app->cfg->public_url);
	else
		rc = buf_printf(
		        &p.text,
		        L(m,
		          "Para assumir: atenda a ligação e tecle 1, responda \"ack\" por SMS para todos ou use "
		          "o console: %s/\n",
		          "To acknowledge: answer the call and press 1, text \"ack\" for all of them or use the "
		          "console: %s/\n"),
		        m->app->cfg->public_url);
	if (rc != RC_OK)
		goto out;
	if (p.n == 1)
		snprintf(subject, sizeof subject, "%s %lld: %s", L(m, "Alerta", "Alert"), (long long)p.ids[0],
		         p.first_summary);
	else
		snprintf(subject, sizeof subject, L(m, "%d alertas: %s e mais %d", "%d alerts: %s and %d more"), p.n,
		         p.first_summary, p.n - 1);
	snprintf(key, sizeof key, "mail:%lld:%lld:%lld", (long long)s->outbox_id, (long long)s->person_id,
	         (long long)p.ids[0]);
	rc = queue_mail(m, db, s, subject, p.text.data, p.first_link, "Runbook", p.ids, p.n, key);
out:
	buf_release(&p.text);
	return rc;
}

/*
 * A voicemail's e-mail; *later true when it waits for its transcription: Twilio transcribes
 * (server/twilio/voice.c asks for it in English, for recordings up to VOICE_TRANSCRIBE_MAX_S)
 * and posts the text a little after the recording, so the e-mail waits up to
 * MAILER_TRANSCRIPTION_WAIT_S for it.
 */
static enum rc voicemail_mail(struct mailer *m, struct db *db, const struct mail_source *s, bool *later)
{
	const struct cfg *c = m->app->cfg;
	struct mail_voicemail vm;
	char subject[300], when[64], key[96];
	struct buf text;
	enum rc rc = mail_voicemail_get(db, s->owner_id, &vm);

	*later = false;
	if (rc != RC_OK)
		return rc;
	if (!vm.transcription[0] && app_lang_en(m->app) && c->voicemail_max <= VOICE_TRANSCRIBE_MAX_S &&
	    clock_now() - s->created_at < MAILER_TRANSCRIPTION_WAIT_S) {
		*later = true;
		mail_voicemail_release(&vm);
		return RC_OK;
	}
	buf_init(&text, TEXT_MAX);
	local_time(m, vm.created_at, when, sizeof when);
	snprintf(subject, sizeof subject, L(m, "Recado de %s na linha de suporte", "Voicemail from %s"), vm.caller);
	rc = buf_printf(&text,
	                L(m, "Olá, %s.\n\n%s deixou um recado de %d s na linha de suporte em %s.\n\nOuça: %s\n\n",
	                  "Hello, %s.\n\n%s left a %d s voicemail on the support line at %s.\n\nListen: %s\n\n"),
	                s->name, vm.caller, vm.duration_s, when, vm.recording_url);
	if (rc == RC_OK)
		rc = vm.transcription[0]
		             ? buf_printf(&text, "%s:\n%s\n", L(m, "Transcrição", "Transcription"), vm.transcription)
		             : buf_printf(&text, "%s\n", L(m, "(sem transcrição)", "(no transcription)"));
	snprintf(key, sizeof key, "mail:%lld:%lld:voicemail", (long long)s->outbox_id, (long long)s->person_id);
	if (rc == RC_OK)
		rc = queue_mail(m, db, s, subject, text.data, vm.recording_url, L(m, "Ouvir o recado", "Listen"), NULL,
		                0, key);
	buf_release(&text);
	mail_voicemail_release(&vm);
	return rc;
}

/* A failure of the database (the turn stops; the text is followed again next turn) rather than
 * of one e-mail (logged by whoever saw it; the text is followed without it). */
static bool db_trouble(enum rc rc)
{
	return rc == RC_DB || rc == RC_BUSY || rc == RC_CONFLICT;
}

/* Whether text id is among the held ones; with forget, it leaves them. */
static bool held_known(struct mailer *m, int64_t id, bool forget)
{
	size_t i;

	for (i = 0; i < MAILER_HELD_MAX; i++)
		if (m->held[i] == id) {
			if (forget)
				m->held[i] = 0;
			return true;
		}
	return false;
}

/*
 * Follows text t in one transaction (db/mail.h): claims what is unfollowed, queues the e-mails
 * it calls for, marks it followed, commits. A text older than MAILER_FOLLOW_MAX_AGE_S is marked
 * without e-mail (a page or voicemail that old is news to nobody: e-mail was off meanwhile).
 * Nothing claimed, or a voicemail notice already marked: another instance follows it. Any other
 * RC_CONFLICT is the database refusing what this text's e-mails write (a constraint): nothing is
 * kept, the text is followed again next turn, and it is a warning (once per text) and
 * plantao_mail_held_total, since the e-mail page waits meanwhile; the turn goes on with the
 * next texts and the sending.
 */
static enum rc follow_text(struct mailer *m, struct db *db, const struct mail_text *t)
{
	struct mail_source src[MAILER_SOURCES_MAX], mine[MAILER_SOURCES_MAX];
	int64_t alerts[MAILER_SOURCES_MAX];
	size_t n_alerts = 0, n = 0, n_mine = 0, i, j;
	bool later = false, write, taken = false;
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	if (!t->voicemail)
		rc = mail_claim_page_alerts(db, t->id, alerts, MAILER_SOURCES_MAX, &n_alerts);
	if (rc == RC_OK && (t->voicemail || n_alerts))
		rc = mail_sources_of(db, t->id, MAILER_SOURCES_MAX, src, &n);
	/* a page text's sources: only the alerts claimed here (others are another instance's) */
	for (i = 0; i < n && rc == RC_OK; i++) {
		bool claimed = !src[i].alert_id;

		for (j = 0; j < n_alerts && !claimed; j++)
			claimed = alerts[j] == src[i].alert_id;
		if (claimed && clock_now() - src[i].created_at <= MAILER_FOLLOW_MAX_AGE_S)
			mine[n_mine++] = src[i];
	}
	for (i = 0; i < n_mine && rc == RC_OK; i = j) {
		enum rc one;

		for (j = i + 1;
		     j < n_mine && mine[j].person_id == mine[i].person_id && mine[i].alert_id && mine[j].alert_id; j++)
			;
		one = mine[i].alert_id ? page_mail(m, db, &mine[i], (int)(j - i))
		                       : voicemail_mail(m, db, &mine[i], &later);
		if (db_trouble(one))
			rc = one;
		else if (one != RC_OK)
			log_err("outbox %lld: e-mail for %s not queued: %s", (long long)t->id, mine[i].email,
			        rc_str(one));
	}
	for (i = 0; i < n_alerts && rc == RC_OK; i++)
		rc = mail_mark_page_followed(db, t->id, alerts[i]);
	if (rc == RC_OK && t->voicemail && !later) {
		rc = mail_mark_voicemail_followed(db, t->id);
		taken = rc == RC_CONFLICT;
	}
	write = rc == RC_OK && (n_alerts || (t->voicemail && !later));
	if (write)
		rc = db_commit(db);
	if (!write || rc != RC_OK)
		db_rollback(db); /* nothing claimed, waiting for a transcription, or failed */
	if (taken) {
		log_debug("outbox %lld: followed for e-mail by another instance", (long long)t->id);
		return RC_OK;
	}
	if (rc == RC_CONFLICT) {
		if (!held_known(m, t->id, false)) {
			m->held[m->held_next] = t->id;
			m->held_next = (m->held_next + 1) % MAILER_HELD_MAX;
			metrics_count(m->app->metrics, "plantao_mail_held_total", NULL, 1);
			log_warn("outbox %lld: the database refused the %s e-mail(s) of this text (a constraint; the "
			         "statement's error is logged above): not sent, tried again every turn",
			         (long long)t->id, t->voicemail ? "voicemail" : "page");
		}
		return RC_OK;
	}
	if (rc == RC_OK && write)
		held_known(m, t->id, true);
	return rc;
}

static enum rc follow(struct mailer *m, struct db *db)
{
	struct mail_text texts[MAILER_SOURCES_MAX];
	size_t n, i;
	enum rc rc = mail_texts_to_follow(db, MAILER_SOURCES_MAX, texts, &n);

	for (i = 0; i < n && rc == RC_OK && !m->stop && !m->app->stopping; i++)
		rc = follow_text(m, db, &texts[i]);
	return rc;
}

/* ---- the monthly sales summary ---- */

struct summary {
	const struct mailer *m;
	const struct sales_settings *settings;
	struct buf above, below;
	int n_above, n_below;
	enum rc rc;
};

static enum rc add_seller(void *ctx, const struct sales_report_row *r)
{
	struct summary *s = ctx;
	bool above = sales_is_above(s->settings, r->cents);
	struct buf *b = above ? &s->above : &s->below;
	int *n = above ? &s->n_above : &s->n_below;
	char amount[48];

	if (*n >= MAILER_SALES_LINES) {
		(*n)++;
		return RC_OK;
	}
	amount_format_brl(r->cents, amount, sizeof amount);
	(*n)++;
	return buf_printf(b, "- %s: %s\n", r->seller, amount);
}

/*
 * Once a month is over, each sales manager (a phone in the sales settings' notify list) who is
 * a person with an e-mail gets that month's summary, once (idempotency key per month and
 * person), as soon as figures for the month exist.
 */
static enum rc sales_summary(struct mailer *m, struct db *db, int64_t now)
{
	const struct cfg *c = m->app->cfg;
	struct sales_settings set;
	struct tm tm;
	char period[32], month[64], key[96], subject[160], total_s[48], target_s[48];
	int64_t sellers = 0, total = 0;
	enum rc rc;
	size_t i;

	if (tz_utc_to_local(c->tz, now, &tm) != RC_OK)
		return RC_OK;
	/* the month before this one, in the team's zone */
	tm.tm_mon -= 1;
	if (tm.tm_mon < 0) {
		tm.tm_mon = 11;
		tm.tm_year -= 1;
	}
	snprintf(period, sizeof period, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
	snprintf(month, sizeof month, "%s/%04d", sales_month_name(tm.tm_mon + 1, c->lang), tm.tm_year + 1900);
	rc = sales_settings_get(db, &set);
	if (rc == RC_OK && set.n_notify)
		rc = sales_period_totals(db, period, &sellers, &total);
	if (rc != RC_OK || !set.n_notify || !sellers)
		return rc;
	amount_format_brl(total, total_s, sizeof total_s);
	amount_format_brl(set.target_cents, target_s, sizeof target_s);
	for (i = 0; i < set.n_notify && rc == RC_OK; i++) {
		struct summary sum = {0};
		struct mail_source src = {0};
		struct person p;
		struct buf text;
		bool exists = false;

		rc = people_find_phone(db, set.notify[i], &p);
		if (rc == RC_NOT_FOUND || (rc == RC_OK && !p.email[0])) {
			rc = RC_OK;
			continue;
		}
		snprintf(key, sizeof key, "mail:sales:%s:%lld", period, (long long)p.id);
		if (rc == RC_OK)
			rc = mail_key_exists(db, key, &exists);
		if (rc != RC_OK || exists)
			continue;
		sum.m = m;
		sum.settings = &set;
		buf_init(&sum.above, TEXT_MAX);
		buf_init(&sum.below, TEXT_MAX);
		buf_init(&text, TEXT_MAX);
		rc = sales_report(db, period, period, add_seller, &sum);
		if (rc == RC_OK)
			rc = buf_printf(&text,
			                L(m, "Olá, %s.\n\nVendas de %s: %lld vendedores, total %s. Meta: %s.\n\n",
			                  "Hello, %s.\n\nSales of %s: %lld sellers, total %s. Goal: %s.\n\n"),
			                p.name, month, (long long)sellers, total_s, target_s);
		if (rc == RC_OK)
			rc = buf_printf(&text, "%s (%d):\n%s%s\n", L(m, "Acima da meta", "Above the goal"), sum.n_above,
			                sum.above.data ? sum.above.data : "", sum.n_above ? "" : "-\n");
		if (rc == RC_OK && sum.n_above > MAILER_SALES_LINES)
			rc = buf_printf(&text, L(m, "… e mais %d\n\n", "… and %d more\n\n"),
			                sum.n_above - MAILER_SALES_LINES);
		if (rc == RC_OK)
			rc = buf_printf(&text, "%s (%d):\n%s%s\n", L(m, "Abaixo da meta", "Below the goal"),
			                sum.n_below, sum.below.data ? sum.below.data : "", sum.n_below ? "" : "-\n");
		if (rc == RC_OK && sum.n_below > MAILER_SALES_LINES)
			rc = buf_printf(&text, L(m, "… e mais %d\n\n", "… and %d more\n\n"),
			                sum.n_below - MAILER_SALES_LINES);
		if (rc == RC_OK)
			rc = buf_printf(&text, L(m, "Relatório completo: %s/ (Vendas)\n", "Full report: %s/ (Sales)\n"),
			                c->public_url);
		snprintf(subject, sizeof subject, L(m, "Resumo de vendas de %s", "Sales summary for %s"), month);
		src.person_id = p.id;
		snprintf(src.name, sizeof src.name, "%s", p.name);
		snprintf(src.email, sizeof src.email, "%s", p.email);
		if (rc == RC_OK)
			rc = db_begin(db);
		if (rc == RC_OK) {
			rc = queue_mail(m, db, &src, subject, text.data, NULL, NULL, NULL, 0, key);
			if (rc == RC_OK)
				rc = db_commit(db);
			if (rc != RC_OK)
				db_rollback(db);
		}
		buf_release(&text);
		buf_release(&sum.above);
		buf_release(&sum.below);
	}
	return rc;
}

/* ---- 2 and 3. sending, and settling after a crash ---- */

static void count_error(struct mailer *m, const char *reason)
{
	/* metrics keep the label's pointer: labels are string constants */
	static const char *const labels[][2] = {
	        {"auth", "reason=\"auth\""},       {"tls", "reason=\"tls\""},         {"connect", "reason=\"connect\""},
	        {"timeout", "reason=\"timeout\""}, {"refused", "reason=\"refused\""}, {"unknown", "reason=\"unknown\""},
	};
	const char *label = "reason=\"network\"";
	size_t i;

	for (i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (!strcmp(reason, labels[i][0]))
			label = labels[i][1];
	metrics_count(m->app->metrics, "plantao_smtp_errors_total", label, 1);
}

static enum rc settle_stuck(struct mailer *m, struct db *db, int64_t now)
{
	struct mail_stuck rows[MAILER_SEND_PER_TURN];
	size_t n, i;
	enum rc rc = mail_stuck(db, now, MAILER_SEND_PER_TURN, rows, &n);

	for (i = 0; i < n && rc == RC_OK; i++) {
		char msg[400];

		rc = db_begin(db);
		if (rc != RC_OK)
			break;
		if (!rows[i].data_at_ms) {
			snprintf(msg, sizeof msg,
			         "the attempt ended (plantao stopped) before the message was complete at the SMTP "
			         "server: sent "
			         "again");
			rc = outbox_mark_retry(db, rows[i].id, now, 0, msg, now);
		} else {
			snprintf(msg, sizeof msg,
			         "plantao stopped after the whole message %s went to the SMTP server and before its "
			         "answer: "
			         "the server may have it, so it is not sent again",
			         rows[i].message_id);
			rc = outbox_mark_undecided(db, rows[i].id, msg, now);
		}
		if (rc == RC_OK)
			rc = db_commit(db);
		if (rc != RC_OK) {
			db_rollback(db);
			if (rc == RC_CONFLICT) { /* settled meanwhile (the row moved on): the next one */
				rc = RC_OK;
				continue;
			}
			break;
		}
		if (!rows[i].data_at_ms)
			log_warn("outbox %lld: e-mail %s was being sent when plantao stopped, before the SMTP server "
			         "had all "
			         "of it; sending it again",
			         (long long)rows[i].id, rows[i].message_id);
		else {
			log_err("outbox %lld: e-mail %s undecided: %s", (long long)rows[i].id, rows[i].message_id, msg);
			metrics_count(m->app->metrics, "plantao_outbox_undecided_total", NULL, 1);
		}
	}
	return rc;
}

struct data_ctx {
	struct db *db;
	int64_t id;
};

static enum rc on_data(void *ctx)
{
	struct data_ctx *d = ctx;
	enum rc rc = db_begin(d->db);

	if (rc == RC_OK)
		rc = mail_mark_data(d->db, d->id, clock_now_ms());
	if (rc == RC_OK)
		rc = db_commit(d->db);
	if (rc != RC_OK)
		db_rollback(d->db);
	return rc;
}

/* Claims row r; *go false when it must not be sent (taken by another instance, or cancelled). */
static enum rc claim(struct mailer *m, struct db *db, const struct outbox_row *r, int64_t now, bool *go)
{
	bool page = false, live = true;
	enum rc rc = db_begin(db);

	*go = false;
	if (rc != RC_OK)
		return rc;
	rc = outbox_page_is_live(db, r->id, &page, &live);
	if (rc == RC_OK && page && !live) {
		rc = outbox_mark_canceled(db, r->id, "not sent: its alerts were acknowledged or resolved first", now);
		if (rc == RC_OK)
			log_info("outbox %lld: page e-mail to %s not sent: its alerts were closed first",
			         (long long)r->id, r->to);
	} else if (rc == RC_OK) {
		rc = outbox_mark_sending(db, r->id, m->app->cfg->smtp_from, now, now + MAILER_LOOKUP_MS);
		*go = rc == RC_OK;
	}
	if (rc == RC_CONFLICT) {
		db_rollback(db);
		return RC_OK;
	}
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*go = false;
	}
	return rc;
}

static enum rc record(struct mailer *m, struct db *db, const struct outbox_row *r, const struct smtp_result *res)
{
	int64_t now = clock_now_ms();
	int tries = r->tries + 1;
	bool page = false, live = true;
	char message_id[COMPOSE_MESSAGE_ID_MAX] = "", why[400];
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	rc = mail_message_id(db, r->id, message_id, sizeof message_id);
	if (rc != RC_OK)
		goto out;
	switch (res->outcome) {
	case SMTP_SENT: rc = outbox_mark_sent(db, r->id, message_id, "sent", now); break;
	case SMTP_REFUSED: rc = outbox_mark_failed(db, r->id, (int)res->code, res->message, now); break;
	case SMTP_UNKNOWN: rc = outbox_mark_undecided(db, r->id, res->message, now); break;
	case SMTP_RETRY:
		rc = outbox_page_is_live(db, r->id, &page, &live);
		if (rc != RC_OK)
			break;
		if (page && !live) {
			rc = outbox_mark_canceled(db, r->id, "not sent: its alerts were acknowledged or resolved first",
			                          now);
			break;
		}
		if (!page && tries >= m->app->cfg->max_tries) {
			snprintf(why, sizeof why, "dead letter after %d tries: %s", tries, res->message);
			rc = outbox_mark_failed(db, r->id, (int)res->code, why, now);
			if (rc == RC_OK)
				metrics_count(m->app->metrics, "plantao_outbox_dead_letters_total", NULL, 1);
			break;
		} else {
			int64_t wait = sender_backoff_ms(tries, -1, (uint32_t)rand_r(&m->seed));

			if (page && wait > SENDER_PAGE_BACKOFF_MAX_MS)
				wait = SENDER_PAGE_BACKOFF_MAX_MS;
			rc = outbox_mark_retry(db, r->id, now + wait, (int)res->code, res->message, now);
			if (rc == RC_OK)
				metrics_count(m->app->metrics, "plantao_outbox_retries_total", NULL, 1);
		}
		break;
	}
out:
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc == RC_CONFLICT) { /* the row is no longer this send's: whoever moved it has it */
		db_rollback(db);
		log_err("outbox %lld: e-mail %s to %s: the SMTP server's answer (%s) came after the row had moved "
		        "on; not recorded",
		        (long long)r->id, message_id, r->to, res->outcome == SMTP_SENT ? "accepted" : res->message);
		return RC_OK;
	}
	if (rc != RC_OK) {
		db_rollback(db);
		log_err("outbox %lld: the e-mail's result could not be recorded: %s", (long long)r->id, rc_str(rc));
		return rc;
	}
	if (res->outcome == SMTP_SENT) {
		metrics_count(m->app->metrics, "plantao_outbox_sent_total", "kind=\"email\"", 1);
		log_info("outbox %lld: e-mail %s to %s accepted by the SMTP server", (long long)r->id, message_id,
		         r->to);
		return RC_OK;
	}
	count_error(m, res->reason);
	if (res->outcome == SMTP_UNKNOWN) {
		metrics_count(m->app->metrics, "plantao_outbox_undecided_total", NULL, 1);
		log_err("outbox %lld: e-mail %s to %s undecided, not sent again: %s", (long long)r->id, message_id,
		        r->to, res->message);
	} else if (res->outcome == SMTP_REFUSED) {
		metrics_count(m->app->metrics, "plantao_outbox_failed_total", NULL, 1);
		log_err("outbox %lld: e-mail to %s refused for good: %s", (long long)r->id, r->to, res->message);
	} else if (!strcmp(res->reason, "auth") || !strcmp(res->reason, "tls"))
		log_err("outbox %lld: e-mail to %s not sent (try %d): %s", (long long)r->id, r->to, tries,
		        res->message);
	else
		log_warn("outbox %lld: e-mail to %s not sent (try %d): %s", (long long)r->id, r->to, tries,
		         res->message);
	return RC_OK;
}

static enum rc send_due(struct mailer *m, struct db *db)
{
	struct outbox_row rows[MAILER_SEND_PER_TURN];
	size_t n, i;
	enum rc rc = outbox_due(db, OUTBOX_EMAIL, clock_now_ms(), MAILER_SEND_PER_TURN, rows, &n);

	for (i = 0; i < n && rc == RC_OK; i++) {
		struct smtp_result res;
		struct data_ctx d = {db, rows[i].id};
		bool go = false;

		if (m->stop || m->app->stopping)
			break;
		rc = claim(m, db, &rows[i], clock_now_ms(), &go);
		if (rc != RC_OK || !go)
			continue;
		rc = smtp_send(m->app->cfg, rows[i].to, rows[i].body ? rows[i].body : "", on_data, &d, &res);
		if (rc == RC_OK)
			rc = record(m, db, &rows[i], &res);
	}
	outbox_rows_release(rows, n);
	return rc;
}

static void *run(void *arg)
{
	struct mailer *m = arg;

	for (;;) {
		struct db *db = app_db(m->app);
		struct timespec ts;
		enum rc rc = db ? follow(m, db) : RC_DB;

		if (rc == RC_OK && clock_now_ms() >= m->next_sales_ms) {
			rc = sales_summary(m, db, clock_now());
			m->next_sales_ms = clock_now_ms() + MAILER_SALES_EVERY_MS;
		}
		if (rc == RC_OK)
			rc = settle_stuck(m, db, clock_now_ms());
		if (rc == RC_OK)
			rc = send_due(m, db);
		if (db)
			db_settle(db, "mailer");
		if (rc != RC_OK)
			log_warn("mailer: %s", rc_str(rc));
		pthread_mutex_lock(&m->lock);
		if (!m->stop && !m->app->stopping) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)MAILER_TICK_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&m->cond, &m->lock, &ts);
		}
		if (m->stop || m->app->stopping) {
			pthread_mutex_unlock(&m->lock);
			break;
		}
		pthread_mutex_unlock(&m->lock);
	}
	app_db_close(m->app);
	return NULL;
}

enum rc mailer_start(struct app *app, struct mailer **out)
{
	const struct cfg *c = app->cfg;
	struct mailer *m;

	*out = NULL;
	if (!cfg_has_smtp(c))
		return RC_OK;
	m = calloc(1, sizeof *m);
	if (!m)
		return RC_INTERNAL;
	m->app = app;
	m->seed = (unsigned int)clock_mono_us();
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	if (pthread_create(&m->thread, NULL, run, m) != 0) {
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return RC_INTERNAL;
	}
	/* the password is never logged */
	log_info("e-mail: sending through %s%s as %s%s%s", c->smtp_url,
	         c->smtp_insecure ? " (PLANTAO_SMTP_INSECURE: plain SMTP allowed)" : "", c->smtp_from,
	         c->smtp_user ? ", user " : "", c->smtp_user ? c->smtp_user : "");
	*out = m;
	return RC_OK;
}

void mailer_stop(struct mailer *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

enum rc mailer_health(const struct app *app, struct db *db, bool *failing, char *why, size_t n)
{
	struct mail_last last;
	enum rc rc;

	*failing = false;
	if (n)
		why[0] = '\0';
	if (!cfg_has_smtp(app->cfg))
		return RC_OK;
	rc = mail_last_attempt(db, &last);
	if (rc != RC_OK || !last.any)
		return rc;
	/* one address refused for good ("failed") is that e-mail's problem, shown on the row; the
	 * channel fails when e-mails wait to be retried or cannot be known */
	if (!strcmp(last.status, "retry") || !strcmp(last.status, "undecided")) {
		*failing = true;
		snprintf(why, n, "the last e-mail is %s: %s", last.status, last.error);
	}
	return RC_OK;
}
