/*
 * tests/unit/core/test_log_access.c — the buffered access log (log_access in server/core/log.c):
 * a worker thread is not held by a stalled reader of stderr, no line is lost or cut, lines of
 * many threads never interleave, and records keep the order they were made in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define STALL_LINES 200

struct burst {
	int id, lines;
	size_t pad;
	volatile int done;
};

static void *burst(void *arg)
{
	struct burst *b = arg;
	char pad[512];
	int i;

	memset(pad, 'x', b->pad);
	pad[b->pad] = '\0';
	for (i = 0; i < b->lines; i++) {
		log_access("POST /twilio/voice 200 %dus t%d n%d %s", 100 + i, b->id, i, pad);
		if (i % 1000 == 999)
			log_warn("thread %d after %d", b->id, i);
	}
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *drain(void *arg)
{
	int *fds = arg; /* [0] pipe to read, [1] file to copy into */
	char chunk[65536];
	ssize_t n;

	while ((n = read(fds[0], chunk, sizeof chunk)) > 0)
		if (write(fds[1], chunk, (size_t)n) != n)
			break;
	return NULL;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return text;
}

/*
 * Checks every line of text: a timestamp, a level, and for access lines "tT nN" with N
 * counting up from 0 for each thread T; a thread's "after N" warning comes after its line N.
 * Returns the number of access lines.
 */
static int check_lines(char *text, int threads, int per_thread)
{
	int next[16] = {0}, total = 0;
	char *line = text, *nl;

	assert_true(threads <= 16);
	while ((nl = strchr(line, '\n'))) {
		int t, n, us, k = 0;

		*nl = '\0';
		if (line[0] == '\0') { /* the newlines that filled the pipe */
			line = nl + 1;
			continue;
		}
		assert_true(strlen(line) > 25 && line[4] == '-' && line[10] == 'T' && line[23] == 'Z');
		if (strstr(line, " DEBUG POST /twilio/voice 200 ")) {
			assert_int_equal(sscanf(strstr(line, "200 "), "200 %dus t%d n%d %n", &us, &t, &n, &k), 3);
			assert_true(k > 0 && t >= 0 && t < threads);
			if (n != next[t])
				fail_msg("thread %d: line %d where %d was due: %s", t, n, next[t], line);
			next[t]++;
			total++;
		} else if (strstr(line, " WARN  thread ")) {
			assert_int_equal(sscanf(strstr(line, "thread "), "thread %d after %d", &t, &n), 2);
			assert_int_equal(next[t], n + 1);
		} else {
			fail_msg("a line cut or interleaved: %s", line);
		}
		line = nl + 1;
	}
	assert_int_equal(*line, '\0'); /* the text ends with a whole line */
	for (int i = 0; i < threads; i++)
		assert_int_equal(next[i], per_thread);
	return total;
}

/*
 * Whoever reads plantao's stderr stalls (a full pipe, a busy journald): a worker thread
 * logging its requests carries on; once the reader catches up, every line is there.
 */
static void test_stalled_reader(void **state)
{
	char path[] = "/tmp/plantao-log-XXXXXX", fill[4096];
	int p[2], fds[2], saved = dup(2), out = mkstemp(path), flags;
	struct burst b = {0, STALL_LINES, 0, 0};
	struct timespec until;
	pthread_t worker, reader;
	char *text;
	size_t len;

	(void)state;
	assert_true(out >= 0 && saved >= 0);
	assert_int_equal(pipe(p), 0);
	/* fill the pipe: nothing more can be written until someone reads */
	flags = fcntl(p[1], F_GETFL);
	assert_int_equal(fcntl(p[1], F_SETFL, flags | O_NONBLOCK), 0);
	memset(fill, '\n', sizeof fill);
	while (write(p[1], fill, sizeof fill) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(p[1], F_SETFL, flags), 0);
	fflush(stderr);
	assert_true(dup2(p[1], 2) >= 0);
	close(p[1]);

	assert_int_equal(pthread_create(&worker, NULL, burst, &b), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	if (pthread_timedjoin_np(worker, NULL, &until) != 0) {
		/* the worker is blocked on stderr: release it so the test can end, then fail */
		fds[0] = p[0];
		fds[1] = out;
		pthread_create(&reader, NULL, drain, fds);
		pthread_join(worker, NULL);
		dup2(saved, 2);
		pthread_join(reader, NULL);
		unlink(path);
		fail_msg("log_access blocked the calling thread while stderr's reader was stalled");
	}
	assert_int_equal(b.done, 1);

	/* the reader wakes up */
	fds[0] = p[0];
	fds[1] = out;
	assert_int_equal(pthread_create(&reader, NULL, drain, fds), 0);
	log_flush();
	dup2(saved, 2); /* the last write end: the reader sees EOF */
	close(saved);
	pthread_join(reader, NULL);
	close(p[0]);
	close(out);
	text = read_file(path, &len);
	unlink(path);
	assert_int_equal(check_lines(text, 1, STALL_LINES), STALL_LINES);
	free(text);
}

/*
 * Eight threads log long access lines (so the buffer fills and callers write it themselves)
 * with warnings in between: every line whole, none lost, each thread's lines in order, each
 * warning after the access lines its thread made before it.
 */
static void test_many_threads(void **state)
{
	char path[] = "/tmp/plantao-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2), i;
	struct burst b[8];
	pthread_t t[8];
	char *text;
	size_t len;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_true(dup2(fd, 2) >= 0);
	for (i = 0; i < 8; i++) {
		b[i] = (struct burst){i, 5000, (size_t)(i * 60), 0};
		assert_int_equal(pthread_create(&t[i], NULL, burst, &b[i]), 0);
	}
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	log_flush();
	dup2(saved, 2);
	close(saved);
	close(fd);
	text = read_file(path, &len);
	unlink(path);
	assert_int_equal(check_lines(text, 8, 5000), 8 * 5000);
	free(text);
}

/* A line waits at most a moment: nobody calls log_flush and it still reaches the file. */
static void test_written_soon(void **state)
{
	char path[] = "/tmp/plantao-log-XXXXXX", *text = NULL;
	int fd = mkstemp(path), saved = dup(2), waited;
	size_t len = 0;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_true(dup2(fd, 2) >= 0);
	log_access("GET /healthz 200 %dus", 42);
	for (waited = 0; waited < 10000; waited += 10) {
		free(text);
		text = read_file(path, &len);
		if (strstr(text, "GET /healthz 200 42us\n"))
			break;
		usleep(10000);
	}
	dup2(saved, 2);
	close(saved);
	close(fd);
	unlink(path);
	assert_non_null(strstr(text, "GET /healthz 200 42us\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stalled_reader),
	        cmocka_unit_test(test_many_threads),
	        cmocka_unit_test(test_written_soon),
	};

	log_set_level(LOG_LEVEL_DEBUG); /* access lines are DEBUG records */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
