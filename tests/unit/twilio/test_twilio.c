/*
 * tests/unit/twilio/test_twilio.c — the Twilio REST client (server/twilio/twilio.c): form bodies, the
 * classification of answers, Twilio's date format, and real transfers against a tiny HTTP
 * server on a loopback socket — including the exactly-once guard: a create whose answer is
 * lost on a reused keep-alive connection must not be re-sent by libcurl on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "twilio/twilio.h"

#define SID   "AC0123456789abcdef0123456789abcdef"
#define TOKEN "secret-token"

/* ---- forms ---- */

static struct twilio *client(const char *base)
{
	struct twilio *t = NULL;

	assert_int_equal(twilio_new(base, SID, TOKEN, "https://plantao.example.com", &t), RC_OK);
	return t;
}

static void test_message_form(void **state)
{
	struct twilio *t = client("http://127.0.0.1:9");
	struct twilio_send m = {
	        false, "+5511999990001", "+15005550006", "Alerta 3: disco & CPU 100% em ação", NULL, false, 0, NULL,
	        NULL};
	char *form = NULL;

	(void)state;
	assert_int_equal(twilio_form(t, &m, &form), RC_OK);
	assert_string_equal(form, "To=%2B5511999990001&From=%2B15005550006"
	                          "&Body=Alerta%203%3A%20disco%20%26%20CPU%20100%25%20em%20a%C3%A7%C3%A3o"
	                          "&StatusCallback=https%3A%2F%2Fplantao.example.com%2Ftwilio%2Fstatus%2Fmessage");
	free(form);
	m.to = "whatsapp:+5511999990001";
	m.from = "whatsapp:+15005550006";
	m.body = "oi";
	assert_int_equal(twilio_form(t, &m, &form), RC_OK);
	assert_string_equal(form, "To=whatsapp%3A%2B5511999990001&From=whatsapp%3A%2B15005550006&Body=oi"
	                          "&StatusCallback=https%3A%2F%2Fplantao.example.com%2Ftwilio%2Fstatus%2Fmessage");
	free(form);
	/* a WhatsApp template: ContentSid and ContentVariables instead of Body */
	m.content_sid = "HX0123456789abcdef0123456789abcdef";
	m.content_variables = "{\"1\":\"3\",\"2\":\"disco\"}";
	assert_int_equal(twilio_form(t, &m, &form), RC_OK);
	assert_string_equal(form, "To=whatsapp%3A%2B5511999990001&From=whatsapp%3A%2B15005550006"
	                          "&ContentSid=HX0123456789abcdef0123456789abcdef"
	                          "&ContentVariables=%7B%221%22%3A%223%22%2C%222%22%3A%22disco%22%7D"
	                          "&StatusCallback=https%3A%2F%2Fplantao.example.com%2Ftwilio%2Fstatus%2Fmessage");
	free(form);
	twilio_free(t);
}

static void test_call_form(void **state)
{
	struct twilio *t = client("http://127.0.0.1:9");
	struct twilio_send m = {true,
	                        "+5511999990001",
	                        "+15005550006",
	                        NULL,
	                        "https://plantao.example.com/twilio/alert-call/12",
	                        true,
	                        25,
	                        NULL,
	                        NULL};
	char *form = NULL;

	(void)state;
	assert_int_equal(twilio_form(t, &m, &form), RC_OK);
	assert_string_equal(form, "To=%2B5511999990001&From=%2B15005550006"
	                          "&Url=https%3A%2F%2Fplantao.example.com%2Ftwilio%2Falert-call%2F12&Method=POST"
	                          "&StatusCallback=https%3A%2F%2Fplantao.example.com%2Ftwilio%2Fstatus%2Fcall"
	                          "&StatusCallbackMethod=POST&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing"
	                          "&StatusCallbackEvent=answered&StatusCallbackEvent=completed&Timeout=25"
	                          "&MachineDetection=DetectMessageEnd&AsyncAmd=true&AsyncAmdStatusCallback="
	                          "https%3A%2F%2Fplantao.example.com%2Ftwilio%2Falert-call%2F12%2Famd"
	                          "&AsyncAmdStatusCallbackMethod=POST");
	free(form);
	m.machine_detection = false;
	m.timeout_s = 0;
	assert_int_equal(twilio_form(t, &m, &form), RC_OK);
	assert_null(strstr(form, "MachineDetection"));
	assert_null(strstr(form, "AsyncAmd"));
	assert_null(strstr(form, "Timeout"));
	free(form);
	twilio_free(t);
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(twilio_classify(201, CURLE_OK, true), TWILIO_OK);
	assert_int_equal(twilio_classify(429, CURLE_OK, true), TWILIO_RETRY);
	assert_int_equal(twilio_classify(503, CURLE_OK, true), TWILIO_RETRY);
	assert_int_equal(twilio_classify(500, CURLE_OK, true), TWILIO_UNKNOWN);
	assert_int_equal(twilio_classify(502, CURLE_OK, true), TWILIO_UNKNOWN);
	assert_int_equal(twilio_classify(400, CURLE_OK, true), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(401, CURLE_OK, true), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(404, CURLE_OK, true), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(0, CURLE_COULDNT_CONNECT, false), TWILIO_RETRY);
	assert_int_equal(twilio_classify(0, CURLE_COULDNT_RESOLVE_HOST, false), TWILIO_RETRY);
	assert_int_equal(twilio_classify(0, CURLE_OPERATION_TIMEDOUT, true), TWILIO_UNKNOWN);
	assert_int_equal(twilio_classify(0, CURLE_OPERATION_TIMEDOUT, false), TWILIO_RETRY);
	assert_int_equal(twilio_classify(0, CURLE_GOT_NOTHING, true), TWILIO_UNKNOWN);
	assert_int_equal(twilio_classify(0, CURLE_SEND_FAIL_REWIND, true), TWILIO_UNKNOWN);
	assert_int_equal(twilio_classify(201, CURLE_WRITE_ERROR, true), TWILIO_UNKNOWN);
}

static void test_parse_date(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_true(twilio_parse_date("Mon, 16 Aug 2010 03:45:01 +0000", &t));
	assert_int_equal(t, 1281930301);
	assert_true(twilio_parse_date("Mon, 16 Aug 2010 00:45:01 -0300", &t));
	assert_int_equal(t, 1281930301);
	assert_true(twilio_parse_date("Thu, 01 Jan 1970 00:00:10 GMT", &t));
	assert_int_equal(t, 10);
	assert_false(twilio_parse_date("Mon, 16 Foo 2010 03:45:01 +0000", &t));
	assert_false(twilio_parse_date("2010-08-16T03:45:01Z", &t));
	assert_false(twilio_parse_date("Mon, 16 Aug 2010 03:45:01 +0000 trailing", &t));
	assert_false(twilio_parse_date("", &t));
}

/* ---- a scripted HTTP server on loopback ---- */

#define CLOSE "close"

struct fake {
	int lfd;
	int port;
	pthread_t th;
	const char *const *script; /* answer i for request i: a full HTTP response, or CLOSE */
	size_t n_script;
	int requests;
	int connections;
	char first[8192];
	pthread_mutex_t lock;
};

/* Reads one request (headers + Content-Length body) into out; 0 at end of stream. */
static size_t read_request(int fd, char *out, size_t size)
{
	size_t len = 0, need = 0;
	char *end = NULL;

	while (len + 1 < size) {
		ssize_t n = read(fd, out + len, size - 1 - len);

		if (n <= 0)
			return 0;
		len += (size_t)n;
		out[len] = '\0';
		if (!end && (end = strstr(out, "\r\n\r\n"))) {
			char *cl = strcasestr(out, "Content-Length:");

			need = (size_t)(end + 4 - out) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (end && len >= need)
			return len;
	}
	return len;
}

/* Writes answer ("status line and headers\r\n\r\nbody") with a Content-Length header added. */
static bool answer_with_length(int fd, const char *answer)
{
	const char *body = strstr(answer, "\r\n\r\n");
	char out[8192];
	int n;

	assert_non_null(body);
	n = snprintf(out, sizeof out, "%.*s\r\nContent-Length: %zu\r\n\r\n%s", (int)(body - answer), answer,
	             strlen(body + 4), body + 4);
	return n > 0 && write(fd, out, (size_t)n) == n;
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	char req[8192];

	for (;;) {
		int c = accept(f->lfd, NULL, NULL);

		if (c < 0)
			break;
		pthread_mutex_lock(&f->lock);
		f->connections++;
		pthread_mutex_unlock(&f->lock);
		for (;;) {
			const char *answer;
			int i;

			if (!read_request(c, req, sizeof req))
				break;
			pthread_mutex_lock(&f->lock);
			i = f->requests++;
			if (i == 0)
				snprintf(f->first, sizeof f->first, "%s", req);
			pthread_mutex_unlock(&f->lock);
			answer = (size_t)i < f->n_script ? f->script[i] : CLOSE;
			if (!strcmp(answer, CLOSE)) {
				shutdown(c, SHUT_RDWR);
				break;
			}
			if (!answer_with_length(c, answer))
				break;
		}
		close(c);
	}
	return NULL;
}

static void fake_start(struct fake *f, const char *const *script, size_t n)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int one = 1;

	memset(f, 0, sizeof *f);
	pthread_mutex_init(&f->lock, NULL);
	f->script = script;
	f->n_script = n;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->th, NULL);
	pthread_mutex_destroy(&f->lock);
}

static void base_of(const struct fake *f, char *out, size_t size)
{
	snprintf(out, size, "http://127.0.0.1:%d", f->port);
}

/* A fake Twilio answering script (n answers) and a client of it. */
static struct twilio *fake_client(struct fake *f, const char *const *script, size_t n)
{
	char base[64];

	fake_start(f, script, n);
	base_of(f, base, sizeof base);
	return client(base);
}

/* Submits m and drives the client until it is answered (at most ~5 s). */
static void send_one(struct twilio *t, const struct twilio_send *m, struct twilio_result *res)
{
	int marker = 42, i;
	void *user = NULL;

	assert_int_equal(twilio_submit(t, m, &marker), RC_OK);
	assert_int_equal(twilio_in_flight(t), 1);
	for (i = 0; i < 100; i++) {
		assert_int_equal(twilio_run(t, 50), RC_OK);
		if (twilio_done(t, res, &user))
			break;
	}
	assert_ptr_equal(user, &marker);
	assert_int_equal(twilio_in_flight(t), 0);
}

#define CREATED                                                                                                        \
	"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n"                                               \
	"{\"sid\": \"SM0123456789abcdef0123456789abcdef\", \"status\": \"queued\"}"

static const struct twilio_send msg = {false, "+5511999990001", "+15005550006", "Alerta 1", NULL, false, 0, NULL, NULL};

static void test_created_then_lost_answer_is_not_resent(void **state)
{
	static const char *const script[] = {CREATED, CLOSE};
	struct fake f;
	struct twilio *t;
	struct twilio_result res;

	(void)state;
	t = fake_client(&f, script, 2);
	send_one(t, &msg, &res);
	assert_int_equal(res.outcome, TWILIO_OK);
	assert_int_equal(res.http_status, 201);
	assert_string_equal(res.sid, "SM0123456789abcdef0123456789abcdef");
	assert_string_equal(res.status, "queued");
	/* what went over the wire */
	assert_non_null(strstr(f.first, "POST /2010-04-01/Accounts/" SID "/Messages.json HTTP/1.1\r\n"));
	assert_non_null(strstr(f.first, "Authorization: Basic "));
	assert_non_null(strstr(f.first, "Content-Type: application/x-www-form-urlencoded"));
	assert_non_null(strstr(f.first, "\r\n\r\nTo=%2B5511999990001&From=%2B15005550006&Body=Alerta%201&"));
	assert_null(strstr(f.first, "Expect:"));
	/* the second request goes on the same connection, which dies without an answer */
	send_one(t, &msg, &res);
	assert_int_equal(res.outcome, TWILIO_UNKNOWN);
	assert_int_equal(res.http_status, 0);
	twilio_free(t);
	fake_stop(&f);
	/* libcurl noticed the dead reused connection and wanted to send the create again on a new
	 * one (it may connect), but could not rewind the body: nothing was sent a second time */
	assert_int_equal(f.requests, 2);
}

static void test_error_answers(void **state)
{
	static const char *const script[] = {
	        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Type: application/json\r\n"
	        "\r\n"
	        "{\"code\": 20429, \"message\": \"Too Many Requests\", \"more_info\": \"https://x/20429\", \"status\": "
	        "429}",
	        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
	        "{\"code\": 21211, \"message\": \"The 'To' number +55 is not a valid phone number.\", "
	        "\"more_info\": \"https://x/21211\", \"status\": 400}     ",
	        "HTTP/1.1 500 Internal Server Error\r\n\r\noops!",
	        "HTTP/1.1 201 Created\r\n\r\n{\"status\": \"queued\"}",
	};
	struct fake f;
	struct twilio *t;
	struct twilio_result res;

	(void)state;
	t = fake_client(&f, script, 4);
	send_one(t, &msg, &res);
	assert_int_equal(res.outcome, TWILIO_RETRY);
	assert_int_equal(res.http_status, 429);
	assert_int_equal(res.retry_after_s, 7);
	assert_int_equal(res.error_code, 20429);
	assert_string_equal(res.error_message, "Too Many Requests");
	send_one(t, &msg, &res);
	assert_int_equal(res.outcome, TWILIO_PERMANENT);
	assert_int_equal(res.error_code, 21211);
	assert_int_equal(res.retry_after_s, -1);
	assert_string_equal(res.error_message, "The 'To' number +55 is not a valid phone number.");
	send_one(t, &msg, &res);
	assert_int_equal(res.outcome, TWILIO_UNKNOWN); /* a 500 may have created it */
	assert_string_equal(res.error_message, "HTTP 500");
	send_one(t, &msg, &res);
	assert_int_equal(res.outcome, TWILIO_UNKNOWN); /* accepted without a sid: find it first */
	twilio_free(t);
	fake_stop(&f);
	assert_int_equal(f.requests, 4);
	assert_int_equal(f.connections, 1); /* one connection for everything */
}

static void test_connection_refused_is_retryable(void **state)
{
	struct fake f;
	struct twilio *t;
	struct twilio_result res;
	char base[64];

	(void)state;
	fake_start(&f, NULL, 0);
	base_of(&f, base, sizeof base);
	fake_stop(&f); /* nobody listens on that port now */
	t = client(base);
	send_one(t, &msg, &res);
	assert_int_equal(res.outcome, TWILIO_RETRY);
	assert_int_equal(res.http_status, 0);
	assert_true(res.error_message[0] != '\0');
	twilio_free(t);
}

static int list_seen;

static bool count_items(void *ctx, const struct twilio_item *it)
{
	(void)ctx;
	list_seen++;
	assert_string_equal(it->to, "+5511999990001");
	return true;
}

static void test_list_follows_pages(void **state)
{
	static const char *const script[] = {
	        "HTTP/1.1 200 OK\r\n\r\n"
	        "{\"messages\": [{\"sid\": \"SM1\", \"status\": \"delivered\", \"to\": \"+5511999990001\", \"body\": "
	        "\"a\", "
	        "\"date_created\": \"Mon, 16 Aug 2010 03:45:01 +0000\"}], \"next_page_uri\": "
	        "\"/2010-04-01/Accounts/" SID "/Messages.json?To=%2B5511999990001&Page=1\", \"page\": 0}"
	        "                                ",
	        "HTTP/1.1 200 OK\r\n\r\n"
	        "{\"messages\": [{\"sid\": \"SM2\", \"status\": \"sent\", \"to\": \"+5511999990001\", \"body\": "
	        "\"b\"}, "
	        "{\"status\": \"x\"}], \"next_page_uri\": null, \"page\": 1}     ",
	};
	struct fake f;
	struct twilio *t;

	(void)state;
	t = fake_client(&f, script, 2);
	list_seen = 0;
	assert_int_equal(twilio_list(t, false, "+5511999990001", "+15005550006", 5, count_items, NULL), RC_OK);
	assert_int_equal(list_seen, 2);
	assert_non_null(strstr(f.first, "GET /2010-04-01/Accounts/" SID
	                                "/Messages.json?To=%2B5511999990001&From=%2B15005550006&PageSize=50 HTTP/1.1"));
	twilio_free(t);
	fake_stop(&f);
	assert_int_equal(f.requests, 2);
}

/* Ending a call (issue 11, item 3): POST Calls/{sid}.json with Status=completed, Basic auth. */
static void test_end_call(void **state)
{
	static const char *const script[] = {
	        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
	        "{\"sid\": \"CA0123456789abcdef0123456789abcdef\", \"status\": \"canceled\"}",
	        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n"
	        "{\"code\": 20404, \"message\": \"The requested resource was not found\", \"status\": 404}",
	};
	struct twilio_result res;
	struct fake f;
	struct twilio *t;

	(void)state;
	t = fake_client(&f, script, 2);
	assert_int_equal(twilio_end_call(t, "CA0123456789abcdef0123456789abcdef", &res), RC_OK);
	assert_int_equal(res.outcome, TWILIO_OK);
	assert_string_equal(res.status, "canceled");
	assert_non_null(strstr(f.first, "POST /2010-04-01/Accounts/" SID
	                                "/Calls/CA0123456789abcdef0123456789abcdef.json HTTP/1.1"));
	assert_non_null(strstr(f.first, "Authorization: Basic "));
	assert_non_null(strstr(f.first, "\r\n\r\nStatus=completed"));
	assert_int_equal(twilio_end_call(t, "CA0123456789abcdef0123456789abcdef", &res), RC_OK);
	assert_int_equal(res.outcome, TWILIO_PERMANENT);
	assert_int_equal(res.error_code, 20404);
	twilio_free(t);
	fake_stop(&f);
	assert_int_equal(f.requests, 2);
	/* Twilio not reached: RC_UPSTREAM, nothing to read */
	t = client("http://127.0.0.1:9");
	assert_int_equal(twilio_end_call(t, "CA0123456789abcdef0123456789abcdef", &res), RC_UPSTREAM);
	assert_int_equal(res.http_status, 0);
	twilio_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_message_form),
	        cmocka_unit_test(test_call_form),
	        cmocka_unit_test(test_classify),
	        cmocka_unit_test(test_parse_date),
	        cmocka_unit_test(test_created_then_lost_answer_is_not_resent),
	        cmocka_unit_test(test_error_answers),
	        cmocka_unit_test(test_connection_refused_is_retryable),
	        cmocka_unit_test(test_list_follows_pages),
	        cmocka_unit_test(test_end_call),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("twilio", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
