/* tests/unit/http/test_slow.c — slow-client deadlines (server/http/slow.c) on socket pairs:
 * the head deadline, the body rate, eviction past the soft limits, connections being handled
 * left alone, and the lingering close that lets a client finish sending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/slow.h"

struct pair {
	int server, client;
};

static struct pair pair_new(void)
{
	int sv[2];
	struct pair p;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p.server = sv[0];
	p.client = sv[1];
	return p;
}

/* Whether the client side sees the end of the stream within ms. */
static bool client_sees_eof(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char c;

	if (poll(&pfd, 1, ms) <= 0)
		return false;
	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static struct slow_guard *guard(size_t soft, size_t per_address)
{
	struct slow_limits l;

	slow_limits_default(&l, 15, soft, per_address);
	l.head_deadline_ms = 300;
	l.body_grace_ms = 300;
	l.min_body_rate = 1000;
	l.tick_ms = 20;
	return slow_new(&l);
}

static void deadlines(void **state)
{
	struct slow_guard *g = guard(100, 100);
	struct pair head = pair_new(), body = pair_new(), fast = pair_new(), busy = pair_new();
	struct slow_conn *ch, *cb, *cf, *cu;
	struct slow_stats st;

	(void)state;
	ch = slow_conn_open(g, head.server, "10.0.0.1");
	cb = slow_conn_open(g, body.server, "10.0.0.2");
	cf = slow_conn_open(g, fast.server, "10.0.0.3");
	cu = slow_conn_open(g, busy.server, "10.0.0.4");
	slow_conn_body(cb);
	slow_conn_body(cf);
	slow_conn_received(cf, 600); /* a prompt body: its first bytes come with the head */
	slow_conn_busy(cu);
	/* a head trickles: nothing before the deadline, the end of the stream after it */
	assert_false(client_sees_eof(head.client, 150));
	assert_true(client_sees_eof(head.client, 2000));
	/* a body at a few bytes a second is cut after the grace; one at 2 kB/s is not */
	for (int i = 0; i < 8; i++) {
		slow_conn_received(cb, 1);
		slow_conn_received(cf, 600);
		usleep(100 * 1000);
	}
	assert_false(client_sees_eof(fast.client, 10));
	assert_true(client_sees_eof(body.client, 2000));
	/* a connection being handled or answered is never touched */
	assert_false(client_sees_eof(busy.client, 10));
	slow_stats(g, &st);
	assert_int_equal(st.cut_head, 1);
	assert_int_equal(st.cut_body, 1);
	assert_int_equal(st.evicted, 0);
	slow_conn_close(g, ch);
	slow_conn_close(g, cb);
	slow_conn_close(g, cf);
	slow_conn_close(g, cu);
	slow_free(g);
	close(head.server), close(head.client), close(body.server), close(body.client);
	close(fast.server), close(fast.client), close(busy.server), close(busy.client);
}

static void eviction(void **state)
{
	struct slow_guard *g = guard(3, 2);
	struct pair p[5];
	struct slow_conn *c[5];
	struct slow_stats st;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		p[i] = pair_new();
	c[0] = slow_conn_open(g, p[0].server, "10.0.0.1");
	usleep(2000);
	c[1] = slow_conn_open(g, p[1].server, "10.0.0.1");
	/* a third from the same address: its oldest waiting head makes room */
	c[2] = slow_conn_open(g, p[2].server, "10.0.0.1");
	assert_true(client_sees_eof(p[0].client, 100));
	assert_false(client_sees_eof(p[1].client, 10));
	/* past the soft total: the oldest waiting head of anyone, never one being handled */
	slow_conn_busy(c[1]);
	c[3] = slow_conn_open(g, p[3].server, "10.0.0.2");
	c[4] = slow_conn_open(g, p[4].server, "10.0.0.3");
	assert_true(client_sees_eof(p[2].client, 100));
	assert_false(client_sees_eof(p[1].client, 10));
	assert_false(client_sees_eof(p[4].client, 10));
	slow_stats(g, &st);
	assert_int_equal(st.evicted, 2);
	for (i = 0; i < 5; i++)
		slow_conn_close(g, c[i]);
	slow_free(g);
	for (i = 0; i < 5; i++)
		close(p[i].server), close(p[i].client);
}

static void lingering_close(void **state)
{
	struct slow_guard *g = guard(100, 100);
	struct pair p = pair_new();
	struct slow_conn *c = slow_conn_open(g, p.server, "10.0.0.1");
	static char chunk[64 * 1024];
	size_t sent = 0;
	int64_t t0 = clock_mono_us();

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	slow_conn_busy(c);
	slow_conn_linger(c); /* answered before the body was read */
	shutdown(p.server, SHUT_WR);
	slow_conn_close(g, c); /* then the server closes its descriptor, with the body unread */
	close(p.server);
	/* the client still sends its whole body (2 MiB) without a reset, then reads the end */
	while (sent < 2 * 1024 * 1024 && clock_mono_us() - t0 < 5 * 1000 * 1000) {
		ssize_t n = send(p.client, chunk, sizeof chunk, 0);

		assert_true(n > 0 || errno == EINTR);
		if (n > 0)
			sent += (size_t)n;
	}
	assert_true(sent >= 2 * 1024 * 1024);
	assert_true(client_sees_eof(p.client, 1000));
	close(p.client);
	slow_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(deadlines),
	        cmocka_unit_test(eviction),
	        cmocka_unit_test(lingering_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
