/*
 * server/monitors/ping.c — the /ping routes (see ping.h). The request path reads the monitor by
 * its secret (an index probe, no lock) and writes one row; the state machine runs on the monitor
 * thread, never here.
 */
#include "monitors/ping.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "db/monitors.h"
#include "http/form.h"

struct ping_state {
	char *data;
	size_t len;
};

static void state_free(void *p)
{
	struct ping_state *s = p;

	if (s)
		free(s->data);
	free(s);
}

enum rc ping_body(struct http_req *req, const char *data, size_t len)
{
	struct ping_state *s = req->state;
	size_t take;

	if (!data || !len)
		return RC_OK;
	if (!s) {
		s = calloc(1, sizeof *s);
		if (!s || !(s->data = malloc(MONITORS_PING_BODY + 1))) {
			free(s);
			return RC_INTERNAL;
		}
		req->state = s;
		req->state_free = state_free;
	}
	take = MONITORS_PING_BODY - s->len;
	if (take > len)
		take = len;
	memcpy(s->data + s->len, data, take);
	s->len += take;
	return RC_OK;
}

/* The kept body as valid UTF-8 without NULs: a byte that is not part of a well-formed
 * character becomes '?', and a character cut by the limit is dropped. Works in place. */
static size_t clean_body(char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;

		if (w > 1 && i + w > len)
			break; /* cut at the end */
		if (w == 0 || (w > 1 && !form_is_utf8(s + i, w))) {
			s[n++] = '?';
			i++;
			continue;
		}
		if (w == 1 && c == 0)
			s[n++] = ' ';
		else
			memmove(s + n, s + i, w), n += w;
		i += w;
	}
	s[n] = '\0';
	return n;
}

/*
 * The budget of unknown-secret answers, one token bucket per client address (the TCP peer
 * libmicrohttpd reports, http_client_addr()): a guesser spends only its own address's budget,
 * so a job elsewhere with a mistyped secret still hears 404 (and fixes its URL) instead of
 * 429. Pings with a known secret never spend from it. The table is small and bounded
 * (PING_MISS_SLOTS, open addressing over PING_MISS_PROBE neighbours): an address takes a slot
 * that is empty or idle long enough to be full again, never one still in use, and when every
 * neighbour is busy it shares its home slot's bucket — a guesser from many addresses can make
 * the limit stricter for the addresses it collides with, never win a fresh budget.
 */
struct miss_slot {
	char addr[HTTP_ADDR_LEN];
	double tokens;
	int64_t last_us;
};

static pthread_mutex_t miss_lock = PTHREAD_MUTEX_INITIALIZER;
static struct miss_slot miss_slots[PING_MISS_SLOTS];

/* Tokens a slot holds at now (capped at the burst of twice the rate). */
static double miss_level(const struct miss_slot *slot, int64_t now)
{
	double level = slot->tokens + (double)(now - slot->last_us) / 1e6 * PING_MISS_RATE;

	return level > 2.0 * PING_MISS_RATE ? 2.0 * PING_MISS_RATE : level;
}

static bool miss_allowed(const char *addr)
{
	uint64_t h = 1469598103934665603ULL;
	struct miss_slot *slot = NULL, *free_slot = NULL;
	int64_t now = clock_mono_us();
	size_t i;
	bool ok;

	for (i = 0; addr[i]; i++)
		h = (h ^ (unsigned char)addr[i]) * 1099511628211ULL;
	pthread_mutex_lock(&miss_lock);
	for (i = 0; i < PING_MISS_PROBE && !slot; i++) {
		struct miss_slot *c = &miss_slots[(h + i) % PING_MISS_SLOTS];

		if (c->last_us && strcmp(c->addr, addr) == 0)
			slot = c;
		else if (!free_slot && (!c->last_us || miss_level(c, now) >= 2.0 * PING_MISS_RATE))
			free_slot = c; /* empty, or idle long enough to be full: nothing is lost */
	}
	if (!slot && free_slot) {
		slot = free_slot;
		snprintf(slot->addr, sizeof slot->addr, "%s", addr);
		slot->tokens = 2.0 * PING_MISS_RATE;
		slot->last_us = now;
	}
	if (!slot) /* every neighbour is in use: share the home slot's bucket */
		slot = &miss_slots[h % PING_MISS_SLOTS];
	slot->tokens = miss_level(slot, now);
	slot->last_us = now;
	ok = slot->tokens >= 1.0;
	if (ok)
		slot->tokens -= 1.0;
	pthread_mutex_unlock(&miss_lock);
	return ok;
}

static enum rc text(struct http_req *req, int status, const char *body)
{
	return http_reply(req, status, "text/plain; charset=utf-8", body, strlen(body));
}

/* What the last path segment asks: NULL success, "start", "fail", or an exit status 0-255. */
static bool parse_what(const char *what, const char **kind, int *exit_status)
{
	long v = 0;
	size_t i;

	*kind = "success";
	*exit_status = -1;
	if (!what)
		return true;
	if (strcmp(what, "start") == 0 || strcmp(what, "fail") == 0) {
		*kind = what;
		return true;
	}
	for (i = 0; what[i]; i++) {
		if (!isdigit((unsigned char)what[i]) || i >= 3)
			return false;
		v = v * 10 + (what[i] - '0');
	}
	if (i == 0 || v > 255)
		return false;
	*exit_status = (int)v;
	*kind = v == 0 ? "success" : "fail";
	return true;
}

enum rc ping_handle(struct http_req *req)
{
	struct ping_state *s = req->state;
	const char *secret = req->params[0], *kind;
	int exit_status;
	size_t len = 0;
	int64_t id;
	enum rc rc;

	if (!parse_what(req->n_params > 1 ? req->params[1] : NULL, &kind, &exit_status))
		return text(req, 400, "expected /ping/<key>, /ping/<key>/start, /fail or an exit status 0-255\n");
	rc = strlen(secret) == MONITORS_SECRET_LEN ? monitors_find_secret(req->db, secret, &id, NULL) : RC_NOT_FOUND;
	if (rc == RC_NOT_FOUND) {
		char addr[HTTP_ADDR_LEN];

		http_client_addr(req, addr, sizeof addr);
		if (!miss_allowed(addr)) {
			http_add_header(req, "Retry-After", "1");
			return text(req, 429, "too many pings with unknown keys; retry shortly\n");
		}
		return text(req, 404, "not found\n");
	}
	if (rc != RC_OK)
		return rc;
	if (s && s->len)
		len = clean_body(s->data, s->len);
	rc = monitors_ping_add(req->db, id, clock_now_ms(), kind, exit_status, req->method, s ? s->data : NULL, len);
	if (rc != RC_OK)
		return rc;
	return text(req, 200, "OK");
}

enum rc ping_mail(struct db *db, const char *subject, const char *text, bool *handled)
{
	char secret[MONITORS_SECRET_LEN + 1], *body = NULL;
	const char *s;
	size_t len = 0;
	int64_t id;
	enum rc rc;

	*handled = false;
	for (s = subject; s && *s; s++) {
		size_t n = 0;

		while (n < MONITORS_SECRET_LEN && isxdigit((unsigned char)s[n]))
			n++;
		if (n < MONITORS_SECRET_LEN || isxdigit((unsigned char)s[n]) ||
		    (s > subject && isxdigit((unsigned char)s[-1])))
			continue;
		for (n = 0; n < MONITORS_SECRET_LEN; n++)
			secret[n] = (char)tolower((unsigned char)s[n]);
		secret[n] = '\0';
		rc = monitors_find_secret(db, secret, &id, NULL);
		if (rc == RC_NOT_FOUND)
			continue;
		if (rc != RC_OK)
			return rc;
		if (text && *text) {
			len = strlen(text) < MONITORS_PING_BODY ? strlen(text) : MONITORS_PING_BODY;
			body = strndup(text, len);
			if (!body)
				return RC_INTERNAL;
			len = clean_body(body, len);
		}
		rc = monitors_ping_add(db, id, clock_now_ms(),
		                       strcasestr(subject, "fail") || strcasestr(subject, "falha") ? "fail" : "success",
		                       -1, "EMAIL", body, len);
		free(body);
		if (rc == RC_OK)
			*handled = true;
		return rc;
	}
	return RC_OK;
}
