/*
 * tests/bench/fake_twilio.c — a small fast fake of Twilio's REST API for throughput figures
 * (`make bench`). The Python simulator (tests/sim/twilio_sim.py) plays phones and callbacks
 * for behaviour tests but spends milliseconds per request; this one answers in microseconds
 * so the outbox and alert figures are plantao's. It speaks only what the sender needs:
 *   POST /2010-04-01/Accounts/{AC}/Messages.json, .../Calls.json   -> 201 {"sid", "status": "queued"}
 *   POST .../Calls/{sid}.json, .../Messages/{sid}.json              -> 200 {"sid", "status": "canceled"}
 *   GET  .../Messages.json?…, .../Calls.json?… (reconciliation)      -> 200 empty list
 * and never sends status callbacks (calls stay queued: nobody answers). Every create is
 * recorded with the time it arrived (CLOCK_REALTIME, ms) and its form body:
 *   GET /_stats  -> {"messages": N, "calls": N, "first_ms": T, "last_ms": T}
 *   GET /_log    -> one line per create: "<kind> <sid> <ms> <urlencoded body>"
 * No authentication check (the bench's plantao has the right credentials anyway).
 * usage: fake_twilio PORT THREADS
 */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX 16384

struct record {
	char kind; /* 'm' or 'c' */
	char sid[35];
	int64_t ms;
	char *body;
};

struct req {
	char body[BODY_MAX];
	size_t len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct record *records;
static size_t n_records, cap_records;
static uint64_t counter;
static long n_messages, n_calls;
static int64_t first_ms, last_ms;

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *text, size_t len,
                             enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, mode);
	enum MHD_Result ok;

	MHD_add_response_header(r, "Content-Type", type);
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result create(struct MHD_Connection *c, char kind, struct req *q)
{
	char json[256];
	struct record rec;
	int n;

	memset(&rec, 0, sizeof rec);
	rec.kind = kind;
	rec.ms = now_ms();
	rec.body = strndup(q->body, q->len);
	pthread_mutex_lock(&lock);
	counter++;
	snprintf(rec.sid, sizeof rec.sid, "%s%032llx", kind == 'm' ? "SM" : "CA", (unsigned long long)counter);
	if (n_records == cap_records) {
		size_t ncap = cap_records ? cap_records * 2 : 4096;
		struct record *nr = realloc(records, ncap * sizeof *nr);

		if (nr) {
			records = nr;
			cap_records = ncap;
		}
	}
	if (n_records < cap_records)
		records[n_records++] = rec;
	else
		free(rec.body);
	if (kind == 'm')
		n_messages++;
	else
		n_calls++;
	if (!first_ms)
		first_ms = rec.ms;
	last_ms = rec.ms;
	pthread_mutex_unlock(&lock);
	n = snprintf(json, sizeof json,
	             "{\"sid\": \"%s\", \"status\": \"queued\", \"num_segments\": \"1\", \"error_code\": null}",
	             rec.sid);
	return reply(c, 201, "application/json", json, (size_t)n, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result stats(struct MHD_Connection *c)
{
	char json[256];
	int n;

	pthread_mutex_lock(&lock);
	n = snprintf(json, sizeof json, "{\"messages\": %ld, \"calls\": %ld, \"first_ms\": %lld, \"last_ms\": %lld}",
	             n_messages, n_calls, (long long)first_ms, (long long)last_ms);
	pthread_mutex_unlock(&lock);
	return reply(c, 200, "application/json", json, (size_t)n, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result dump(struct MHD_Connection *c)
{
	size_t len = 0, cap = 1 << 20, i, need;
	char *out = malloc(cap), *grown;

	if (!out)
		return MHD_NO;
	pthread_mutex_lock(&lock);
	for (i = 0; i < n_records; i++) {
		need = strlen(records[i].body) + 80;
		if (len + need > cap) {
			while (len + need > cap)
				cap *= 2;
			grown = realloc(out, cap);
			if (!grown)
				break;
			out = grown;
		}
		len += (size_t)snprintf(out + len, cap - len, "%c %s %lld %s\n", records[i].kind, records[i].sid,
		                        (long long)records[i].ms, records[i].body);
	}
	pthread_mutex_unlock(&lock);
	return reply(c, 200, "text/plain", out, len, MHD_RESPMEM_MUST_FREE);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **state)
{
	static char empty_messages[] = "{\"messages\": [], \"next_page_uri\": null}";
	static char empty_calls[] = "{\"calls\": [], \"next_page_uri\": null}";
	struct req *q = *state;
	char json[160];
	const char *sid;
	int n;

	(void)cls;
	(void)version;
	if (!q) {
		q = calloc(1, sizeof *q);
		if (!q)
			return MHD_NO;
		*state = q;
		return MHD_YES;
	}
	if (*size) {
		size_t k = *size < BODY_MAX - 1 - q->len ? *size : BODY_MAX - 1 - q->len;

		memcpy(q->body + q->len, data, k);
		q->len += k;
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0) {
		if (strcmp(url, "/_stats") == 0)
			return stats(c);
		if (strcmp(url, "/_log") == 0)
			return dump(c);
		if (ends_with(url, "/Calls.json"))
			return reply(c, 200, "application/json", empty_calls, strlen(empty_calls),
			             MHD_RESPMEM_PERSISTENT);
		if (ends_with(url, "/Messages.json"))
			return reply(c, 200, "application/json", empty_messages, strlen(empty_messages),
			             MHD_RESPMEM_PERSISTENT);
		return reply(c, 404, "application/json", empty_calls, 2, MHD_RESPMEM_PERSISTENT);
	}
	if (ends_with(url, "/Messages.json"))
		return create(c, 'm', q);
	if (ends_with(url, "/Calls.json"))
		return create(c, 'c', q);
	/* .../Calls/{sid}.json: ending a call or cancelling a message */
	sid = strrchr(url, '/');
	n = snprintf(json, sizeof json, "{\"sid\": \"%.*s\", \"status\": \"canceled\"}",
	             sid ? (int)(strlen(sid + 1) > 5 ? strlen(sid + 1) - 5 : 0) : 0, sid ? sid + 1 : "");
	return reply(c, 200, "application/json", json, (size_t)n, MHD_RESPMEM_MUST_COPY);
}

static void on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*state);
	*state = NULL;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: fake_twilio PORT THREADS\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t)atoi(argv[1]), NULL, NULL,
	                     on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
	                     MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	                     MHD_OPTION_END);
	if (!d)
		return 1;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
