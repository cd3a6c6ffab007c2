/*
 * server/http/slow.h — deadlines for slow clients (slowloris): every connection is watched
 * from accept to close, and a watcher thread shuts down the socket of one that
 *   - has not finished its request head within the head deadline (counted from accept, or
 *     from the end of the previous request on a kept-alive connection), or
 *   - sends its body slower, on average past a grace period, than a minimum rate.
 * Past the soft connection limit (in all, or from one client address) a new connection also
 * evicts the oldest one still waiting for its head (of that address, or of all), so
 * connections that trickle bytes cannot hold every slot while a prompt client (Twilio, or
 * anyone behind the attacker's proxy) is shut out. Connections whose request is being handled or answered are
 * never touched.
 *
 * Knows nothing of libmicrohttpd: the HTTP glue (http.c) reports the phases of each
 * connection and hands over its socket. shutdown(2) on the socket makes the server's own
 * event loop see the end of the stream and close the connection in its thread; the watch is
 * unregistered (slow_conn_close) before the socket is closed, under the same lock, so a
 * reused descriptor is never shut down by mistake. Thread-safe.
 */
#ifndef PLANTAO_SLOW_H
#define PLANTAO_SLOW_H

#include <stddef.h>
#include <stdint.h>

/* Total time a request head may take (seconds), unless PLANTAO_REQUEST_TIMEOUT is shorter. */
#define SLOW_HEAD_DEADLINE_S 10
/* A body may take SLOW_BODY_GRACE_S, then must average SLOW_MIN_BODY_RATE bytes/s past it. */
#define SLOW_BODY_GRACE_S  10
#define SLOW_MIN_BODY_RATE (4 * 1024)

/* Lingering close: at most this many sockets at once, each for this long and this many bytes. */
#define SLOW_LINGER_MAX       256
#define SLOW_LINGER_S         10
#define SLOW_LINGER_MAX_BYTES (8 * 1024 * 1024)

struct slow_guard;
struct slow_conn;

struct slow_limits {
	int64_t head_deadline_ms;
	int64_t body_grace_ms;
	int64_t min_body_rate;   /* bytes per second */
	size_t soft_connections; /* past this many, a new connection evicts the oldest waiting head */
	size_t soft_per_address; /* the same among the connections of one client address */
	int64_t tick_ms;         /* how often the watcher looks */
};

/* Fills l with the defaults above for a server whose idle timeout is timeout_s and whose
 * connection limits are max_connections in all and per_address from one client address. */
void slow_limits_default(struct slow_limits *l, int timeout_s, size_t max_connections, size_t per_address);

/* Starts the watcher thread. NULL on failure (logged). */
struct slow_guard *slow_new(const struct slow_limits *l);
/* Stops the watcher and frees; every connection must have been closed. NULL is a no-op. */
void slow_free(struct slow_guard *g);

/* A new connection on socket fd from client address addr (text, copied), waiting for its
 * head: returns its watch (NULL when out of memory: that connection is then simply not
 * watched). Past a soft limit it evicts the oldest waiting head of the same address, or of
 * all connections. */
struct slow_conn *slow_conn_open(struct slow_guard *g, int fd, const char *addr);
/* The connection is closing: unregisters and frees c (NULL is a no-op). Call before the
 * socket is closed. */
void slow_conn_close(struct slow_guard *g, struct slow_conn *c);
/* Phases, from the connection's own thread (c may be NULL). */
void slow_conn_body(struct slow_conn *c);               /* head complete, body (if any) follows */
void slow_conn_received(struct slow_conn *c, size_t n); /* n body bytes arrived */
void slow_conn_busy(struct slow_conn *c);               /* being handled or answered: never cut */
void slow_conn_idle(struct slow_conn *c);               /* request done: waits for the next head */
/* The request was answered before its body was read: when the connection closes, its socket
 * is kept open (a duplicate descriptor) and whatever the client still sends is read and
 * dropped until it closes, SLOW_LINGER_MAX_BYTES or SLOW_LINGER_S, so the client reads the
 * answer instead of a reset (a lingering close). */
void slow_conn_linger(struct slow_conn *c);

/* Counters since start (for logs and metrics). */
struct slow_stats {
	uint64_t cut_head, cut_body, evicted;
};
void slow_stats(struct slow_guard *g, struct slow_stats *out);

#endif
