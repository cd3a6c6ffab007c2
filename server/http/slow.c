/*
 * server/http/slow.c — deadlines for slow clients: the watch list, the watcher thread,
 * eviction past the soft connection limits and lingering closes (see slow.h). Called by
 * http.c only.
 *
 * The list is a doubly linked list under one mutex; phases and counters of a watch are
 * atomics written by the connection's thread and read by the watcher. A socket is only ever
 * shut down under the mutex while its watch is still listed, and a watch leaves the list
 * before its socket is closed, so the descriptor shut down is always the connection's own.
 */
#include "http/slow.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

enum phase { PHASE_HEAD, PHASE_BODY, PHASE_BUSY };

#define SLOW_ADDR_LEN 48 /* INET6_ADDRSTRLEN and then some */

struct slow_conn {
	struct slow_conn *prev, *next;
	int fd;
	char addr[SLOW_ADDR_LEN];
	bool cut; /* under the guard's lock */
	atomic_bool linger;
	atomic_int phase;
	_Atomic int64_t since_us; /* start of the current phase */
	atomic_size_t received;   /* body bytes in the current request */
};

struct slow_guard {
	struct slow_limits lim;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	pthread_t thread;
	struct slow_conn *head;
	size_t n, n_cut; /* listed, and of those shut down (closing: they no longer hold a slot) */
	struct {
		int fd;
		int64_t t0_us;
		size_t bytes;
	} linger[SLOW_LINGER_MAX]; /* added under the lock, read and removed by the watcher only */
	size_t n_linger;
	atomic_uint_fast64_t cut_head, cut_body, evicted;
};

void slow_limits_default(struct slow_limits *l, int timeout_s, size_t max_connections, size_t per_address)
{
	int head_s = timeout_s > 0 && timeout_s < SLOW_HEAD_DEADLINE_S ? timeout_s : SLOW_HEAD_DEADLINE_S;

	l->head_deadline_ms = (int64_t)head_s * 1000;
	l->body_grace_ms = (int64_t)SLOW_BODY_GRACE_S * 1000;
	l->min_body_rate = SLOW_MIN_BODY_RATE;
	l->soft_connections = max_connections;
	l->soft_per_address = per_address;
	l->tick_ms = 250;
}

/* Under the lock. */
static void cut(struct slow_guard *g, struct slow_conn *c)
{
	if (c->cut)
		return;
	c->cut = true;
	g->n_cut++;
	shutdown(c->fd, SHUT_RDWR); /* the event loop sees the end of the stream and closes */
}

/* Under the lock: whether c is past its deadline at now_us, and which counter to bump. */
static bool overdue(const struct slow_guard *g, const struct slow_conn *c, int64_t now_us, bool *head)
{
	int64_t ms = (now_us - atomic_load(&c->since_us)) / 1000;

	switch (atomic_load(&c->phase)) {
	case PHASE_HEAD: *head = true; return ms > g->lim.head_deadline_ms;
	case PHASE_BODY:
		*head = false;
		return ms > g->lim.body_grace_ms &&
		       (int64_t)atomic_load(&c->received) < g->lim.min_body_rate * (ms - g->lim.body_grace_ms) / 1000;
	default: return false;
	}
}

/* Under the lock (released while polling): reads and drops what lingering sockets received;
 * closes those whose client closed, or that passed their bound in bytes or time. */
static void linger_round(struct slow_guard *g)
{
	static char sink[64 * 1024]; /* the watcher thread is its only user */
	struct pollfd fds[SLOW_LINGER_MAX];
	size_t i, n = g->n_linger;
	int64_t now_us;

	for (i = 0; i < n; i++) {
		fds[i].fd = g->linger[i].fd;
		fds[i].events = POLLIN;
		fds[i].revents = 0;
	}
	pthread_mutex_unlock(&g->lock);
	poll(fds, (nfds_t)n, 50);
	pthread_mutex_lock(&g->lock);
	now_us = clock_mono_us();
	for (i = n; i-- > 0;) { /* entries added meanwhile sit past n and are left for the next round */
		bool done = false;

		if (fds[i].revents) {
			ssize_t r;

			while ((r = recv(g->linger[i].fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
				g->linger[i].bytes += (size_t)r;
			done = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
		}
		done = done || g->linger[i].bytes > SLOW_LINGER_MAX_BYTES ||
		       now_us - g->linger[i].t0_us > SLOW_LINGER_S * 1000000LL;
		if (!done)
			continue;
		close(g->linger[i].fd);
		g->linger[i] = g->linger[--g->n_linger];
	}
}

static void *watch(void *arg)
{
	struct slow_guard *g = arg;
	struct slow_stats logged = {0, 0, 0}, now_st;
	int64_t last_log_us = 0;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec until;
		int64_t now_us = clock_mono_us();
		struct slow_conn *c;

		for (c = g->head; c; c = c->next) {
			bool head = false;

			if (c->cut || !overdue(g, c, now_us, &head))
				continue;
			atomic_fetch_add(head ? &g->cut_head : &g->cut_body, 1);
			cut(g, c);
		}
		now_st.cut_head = atomic_load(&g->cut_head);
		now_st.cut_body = atomic_load(&g->cut_body);
		now_st.evicted = atomic_load(&g->evicted);
		if ((now_st.cut_head != logged.cut_head || now_st.cut_body != logged.cut_body ||
		     now_st.evicted != logged.evicted) &&
		    now_us - last_log_us >= 10 * 1000000LL) {
			log_warn(
			        "http: slow clients cut off: %llu request heads not complete within %llds, %llu bodies "
			        "slower than %lld B/s, %llu waiting heads evicted at %zu connections (totals since "
			        "start)",
			        (unsigned long long)now_st.cut_head, (long long)(g->lim.head_deadline_ms / 1000),
			        (unsigned long long)now_st.cut_body, (long long)g->lim.min_body_rate,
			        (unsigned long long)now_st.evicted, g->lim.soft_connections);
			logged = now_st;
			last_log_us = now_us;
		}
		if (g->n_linger) {
			linger_round(g);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)(g->lim.tick_ms % 1000) * 1000000L;
		until.tv_sec += g->lim.tick_ms / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct slow_guard *slow_new(const struct slow_limits *l)
{
	struct slow_guard *g = calloc(1, sizeof *g);
	pthread_condattr_t ca;

	if (!g) {
		log_err("slow clients guard: out of memory");
		return NULL;
	}
	g->lim = *l;
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->thread, NULL, watch, g) != 0) {
		log_err("slow clients guard: cannot start its thread");
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return NULL;
	}
	return g;
}

void slow_free(struct slow_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	while (g->head) /* connections the server never reported closed */
		slow_conn_close(g, g->head);
	while (g->n_linger)
		close(g->linger[--g->n_linger].fd);
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* Under the lock: the listed connection other than c waiting longest for its head, among
 * those of addr (or all when addr is NULL); NULL when there is none. */
static struct slow_conn *oldest_head(struct slow_guard *g, const struct slow_conn *c, const char *addr)
{
	struct slow_conn *p, *oldest = NULL;

	for (p = g->head; p; p = p->next)
		if (p != c && !p->cut && atomic_load(&p->phase) == PHASE_HEAD && (!addr || !strcmp(p->addr, addr)) &&
		    (!oldest || atomic_load(&p->since_us) < atomic_load(&oldest->since_us)))
			oldest = p;
	return oldest;
}

struct slow_conn *slow_conn_open(struct slow_guard *g, int fd, const char *addr)
{
	struct slow_conn *c, *p, *victim = NULL;
	size_t same = 0;

	if (!g)
		return NULL;
	c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->fd = fd;
	snprintf(c->addr, sizeof c->addr, "%s", addr ? addr : "");
	atomic_store(&c->phase, PHASE_HEAD);
	atomic_store(&c->since_us, clock_mono_us());
	pthread_mutex_lock(&g->lock);
	c->next = g->head;
	if (g->head)
		g->head->prev = c;
	g->head = c;
	g->n++;
	for (p = g->head; p; p = p->next)
		same += !p->cut && !strcmp(p->addr, c->addr);
	/* full: the connection that has waited longest for its head makes room */
	if (same > g->lim.soft_per_address)
		victim = oldest_head(g, c, c->addr);
	else if (g->n - g->n_cut > g->lim.soft_connections)
		victim = oldest_head(g, c, NULL);
	if (victim) {
		atomic_fetch_add(&g->evicted, 1);
		cut(g, victim);
	}
	pthread_mutex_unlock(&g->lock);
	return c;
}

void slow_conn_close(struct slow_guard *g, struct slow_conn *c)
{
	if (!g || !c)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->n--;
	g->n_cut -= c->cut;
	if (atomic_load(&c->linger) && g->n_linger < SLOW_LINGER_MAX) {
		/* the server closes its descriptor next; this duplicate keeps the socket open */
		int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);

		if (fd >= 0) {
			g->linger[g->n_linger].fd = fd;
			g->linger[g->n_linger].t0_us = clock_mono_us();
			g->linger[g->n_linger].bytes = 0;
			g->n_linger++;
			pthread_cond_signal(&g->wake);
		}
	}
	pthread_mutex_unlock(&g->lock);
	free(c);
}

void slow_conn_linger(struct slow_conn *c)
{
	if (c)
		atomic_store(&c->linger, true);
}

static void enter(struct slow_conn *c, enum phase p)
{
	if (!c)
		return;
	atomic_store(&c->received, 0);
	atomic_store(&c->since_us, clock_mono_us());
	atomic_store(&c->phase, p);
}

void slow_conn_body(struct slow_conn *c)
{
	enter(c, PHASE_BODY);
}

void slow_conn_received(struct slow_conn *c, size_t n)
{
	if (c)
		atomic_fetch_add(&c->received, n);
}

void slow_conn_busy(struct slow_conn *c)
{
	enter(c, PHASE_BUSY);
}

void slow_conn_idle(struct slow_conn *c)
{
	enter(c, PHASE_HEAD);
}

void slow_stats(struct slow_guard *g, struct slow_stats *out)
{
	out->cut_head = g ? atomic_load(&g->cut_head) : 0;
	out->cut_body = g ? atomic_load(&g->cut_body) : 0;
	out->evicted = g ? atomic_load(&g->evicted) : 0;
}
