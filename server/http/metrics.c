/*
 * server/http/metrics.c — fixed-size tables of series, no allocation per request.
 * Routes are keyed by the address of their static pattern string.
 */
#include "http/metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX_SERIES   256
#define METRICS_MAX_ROUTES   96
#define METRICS_MAX_COUNTERS 128

static const double buckets_s[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                   0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define N_BUCKETS (sizeof buckets_s / sizeof buckets_s[0])

/*
 * The counters other modules bump with metrics_count(), described once here so every family
 * has HELP and TYPE. labelled: its series carry labels (nothing is printed before the first
 * increment); otherwise a never-bumped counter reads 0. Add a row with each new counter.
 */
struct metrics_family {
	const char *name;
	const char *help;
	bool labelled;
};

static const struct metrics_family families[] = {
        {"plantao_alerts_total", "Alert events by kind (triggered, deduped, acknowledged, resolved).", true},
        {"plantao_pages_unpaged_total",
         "Alerts that reached nobody (no one on call, no one reachable by the escalation policy).", false},
        {"plantao_outbox_sent_total", "Messages and calls accepted by Twilio, by kind.", true},
        {"plantao_outbox_retries_total", "Sends that failed and were scheduled again.", false},
        {"plantao_outbox_failed_total", "Messages and calls Twilio refused for good.", false},
        {"plantao_outbox_dead_letters_total", "Messages given up after the maximum number of tries.", false},
        {"plantao_twilio_errors_total", "Error answers from Twilio's REST API, by Twilio error code.", true},
        {"plantao_outbox_pages_canceled_total",
         "Pages not sent because their alert was acknowledged or resolved first.", false},
        {"plantao_outbox_undecided_total",
         "Sends whose outcome Twilio could not confirm after the deadline: reported, not resent.", false},
        {"plantao_calls_ended_total", "Calls still ringing that were ended because their alert was acknowledged.",
         false},
        {"plantao_sms_segments_total", "SMS parts sent, by encoding (GSM-7 or UCS-2).", true},
        {"plantao_call_seconds_total", "Seconds of calls that ended, as Twilio reported them.", false},
        {"plantao_imap_errors_total", "Failed polls of the alert mailbox.", false},
        {"plantao_smtp_errors_total",
         "E-mail sends that failed, by reason (auth, tls, connect, timeout, refused, network, unknown).", true},
        {"plantao_mail_held_total",
         "Texts whose page or voicemail e-mails the database refused to queue (a constraint): retried each "
         "turn, counted once per text.",
         false},
        {"plantao_imap_mails_total", "E-mails read, by result (alert, a heartbeat ping, failed).", true},
        {"plantao_call_redirects_total",
         "Live calls given new TwiML (an answering machine's message after the beep), by result.", true},
        {"plantao_monitor_pings_total",
         "Heartbeat pings folded into their monitors, by kind (success, start, fail), from the ping URL "
         "or e-mail.",
         true},
        {"plantao_calls_machine_total",
         "Alert calls answered by an answering machine or a fax (never an "
         "acknowledgment).",
         false},
};
#define N_FAMILIES (sizeof families / sizeof families[0])

struct route_hist {
	const char *method;
	const char *route;
	uint64_t bucket[N_BUCKETS];
	uint64_t count;
	double sum_s;
};

struct req_series {
	const char *method;
	const char *route;
	int status;
	uint64_t n;
};

struct counter {
	const char *name;
	const char *labels;
	int64_t value;
};

struct metrics {
	pthread_mutex_t lock;
	struct req_series req[METRICS_MAX_SERIES];
	size_t n_req;
	struct route_hist hist[METRICS_MAX_ROUTES];
	size_t n_hist;
	struct counter counters[METRICS_MAX_COUNTERS];
	size_t n_counters;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof *m);

	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void metrics_request(struct metrics *m, const char *method, const char *route, int status, int64_t us)
{
	size_t i;
	double s = (double)us / 1e6;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n_req; i++)
		if (m->req[i].route == route && m->req[i].status == status && !strcmp(m->req[i].method, method))
			break;
	if (i == m->n_req && m->n_req < METRICS_MAX_SERIES) {
		m->req[i].method = method;
		m->req[i].route = route;
		m->req[i].status = status;
		m->n_req++;
	}
	if (i < m->n_req)
		m->req[i].n++;
	for (i = 0; i < m->n_hist; i++)
		if (m->hist[i].route == route && !strcmp(m->hist[i].method, method))
			break;
	if (i == m->n_hist && m->n_hist < METRICS_MAX_ROUTES) {
		m->hist[i].method = method;
		m->hist[i].route = route;
		m->n_hist++;
	}
	if (i < m->n_hist) {
		size_t b;

		for (b = 0; b < N_BUCKETS; b++)
			if (s <= buckets_s[b])
				m->hist[i].bucket[b]++;
		m->hist[i].count++;
		m->hist[i].sum_s += s;
	}
	pthread_mutex_unlock(&m->lock);
}

void metrics_count(struct metrics *m, const char *name, const char *labels, int64_t delta)
{
	size_t i;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n_counters; i++)
		if (!strcmp(m->counters[i].name, name) && !strcmp(m->counters[i].labels, labels ? labels : ""))
			break;
	if (i == m->n_counters && m->n_counters < METRICS_MAX_COUNTERS) {
		m->counters[i].name = name;
		m->counters[i].labels = labels ? labels : "";
		m->n_counters++;
	}
	if (i < m->n_counters)
		m->counters[i].value += delta;
	pthread_mutex_unlock(&m->lock);
}

static const struct metrics_family *family_of(const char *name)
{
	size_t f;

	for (f = 0; f < N_FAMILIES; f++)
		if (!strcmp(families[f].name, name))
			return &families[f];
	return NULL;
}

static enum rc counter_line(struct buf *out, const struct counter *c)
{
	return buf_printf(out, "%s%s%s%s %lld\n", c->name, c->labels[0] ? "{" : "", c->labels, c->labels[0] ? "}" : "",
	                  (long long)c->value);
}

enum rc metrics_render(struct metrics *m, struct buf *out)
{
	enum rc rc = RC_OK;
	size_t i, b, f;

	pthread_mutex_lock(&m->lock);
	rc = buf_puts(out, "# HELP plantao_http_requests_total HTTP requests by route and status.\n"
	                   "# TYPE plantao_http_requests_total counter\n");
	for (i = 0; rc == RC_OK && i < m->n_req; i++)
		rc = buf_printf(out, "plantao_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
		                m->req[i].method, m->req[i].route, m->req[i].status, (unsigned long long)m->req[i].n);
	if (rc == RC_OK)
		rc = buf_puts(out, "# HELP plantao_http_request_duration_seconds Time from request to response.\n"
		                   "# TYPE plantao_http_request_duration_seconds histogram\n");
	for (i = 0; rc == RC_OK && i < m->n_hist; i++) {
		const struct route_hist *h = &m->hist[i];

		for (b = 0; rc == RC_OK && b < N_BUCKETS; b++)
			rc = buf_printf(out,
			                "plantao_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%"
			                "g\"} %llu\n",
			                h->method, h->route, buckets_s[b], (unsigned long long)h->bucket[b]);
		if (rc == RC_OK)
			rc = buf_printf(
			        out,
			        "plantao_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} "
			        "%llu\n"
			        "plantao_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
			        "plantao_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
			        h->method, h->route, (unsigned long long)h->count, h->method, h->route, h->sum_s,
			        h->method, h->route, (unsigned long long)h->count);
	}
	/* Every known family is described even before its first increment (an unlabelled one reads
	 * 0), so dashboards and alerts can be written against a fresh server. */
	for (f = 0; rc == RC_OK && f < N_FAMILIES; f++) {
		bool any = false;

		rc = buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", families[f].name, families[f].help,
		                families[f].name);
		for (i = 0; rc == RC_OK && i < m->n_counters; i++)
			if (!strcmp(m->counters[i].name, families[f].name)) {
				rc = counter_line(out, &m->counters[i]);
				any = true;
			}
		if (rc == RC_OK && !any && !families[f].labelled)
			rc = buf_printf(out, "%s 0\n", families[f].name);
	}
	/* Counters bumped under a name missing from the table still get HELP and TYPE; series of one
	 * metric must be contiguous, so each name is printed once with all its labels. */
	for (i = 0; rc == RC_OK && i < m->n_counters; i++) {
		size_t j;
		bool seen = family_of(m->counters[i].name) != NULL;

		for (j = 0; j < i && !seen; j++)
			seen = !strcmp(m->counters[j].name, m->counters[i].name);
		if (seen)
			continue;
		rc = buf_printf(out,
		                "# HELP %s Counter %s (no description in server/http/metrics.c yet).\n"
		                "# TYPE %s counter\n",
		                m->counters[i].name, m->counters[i].name, m->counters[i].name);
		for (j = i; rc == RC_OK && j < m->n_counters; j++)
			if (!strcmp(m->counters[j].name, m->counters[i].name))
				rc = counter_line(out, &m->counters[j]);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
