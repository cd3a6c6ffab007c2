/*
 * tests/unit/http/test_server.c — integration: starts the real `plantao serve` on a free loopback
 * port with a temporary database and talks HTTP to it with libcurl (routing, errors, Twilio
 * signatures, tokens, metrics, graceful stop), plus the command line's exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "http/form.h"
#include "twilio/sig.h"

#define TOKEN "integration-admin-token"
#define AUTH  "integration-auth-token"

static char bin[512];
static char dir[64];
static int port;
static pid_t pid;

struct resp {
	long status;
	struct buf body;
	struct buf headers;
};

static size_t collect(char *p, size_t size, size_t n, void *b)
{
	buf_append(b, p, size * n);
	return size * n;
}

/* Performs a request; body may be NULL. Headers: NULL-terminated list. */
static void request(const char *method, const char *path, const char *body, long body_len, const char **headers,
                    struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256];

	buf_init(&r->body, 1 << 20);
	buf_init(&r->headers, 1 << 16);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body_len >= 0 ? body_len : (long)strlen(body));
	}
	for (; headers && *headers; headers++)
		h = curl_slist_append(h, *headers);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void resp_free(struct resp *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

static void start_server(void)
{
	char listen[64], url[64], db[128];
	int i;

	port = free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	snprintf(db, sizeof db, "%s/plantao.db", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char logf[128];

		snprintf(logf, sizeof logf, "%s/server.log", dir);
		assert_non_null(freopen(logf, "a", stderr));
		assert_non_null(freopen("/dev/null", "w", stdout));
		setenv("PLANTAO_LISTEN", listen, 1);
		setenv("PLANTAO_PUBLIC_URL", url, 1);
		setenv("PLANTAO_DB", db, 1);
		setenv("PLANTAO_API_TOKEN", TOKEN, 1);
		setenv("TWILIO_AUTH_TOKEN", AUTH, 1);
		unsetenv("TWILIO_ACCOUNT_SID");
		execl(bin, bin, "serve", "--demo", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) { /* up to 5 s */
		CURL *c = curl_easy_init();
		char u[128];
		long status = 0;

		snprintf(u, sizeof u, "http://127.0.0.1:%d/healthz?live", port);
		curl_easy_setopt(c, CURLOPT_URL, u);
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		if (status == 405 || status == 200)
			return;
		usleep(10000);
	}
	fail_msg("plantao did not start (see %s/server.log)", dir);
}

static int setup(void **state)
{
	const char *b = getenv("PLANTAO_BUILD");

	(void)state;
	snprintf(bin, sizeof bin, "%s/plantao", b ? b : "build");
	if (bin[0] != '/') {
		char cwd[256];

		assert_non_null(getcwd(cwd, sizeof cwd));
		snprintf(bin, sizeof bin, "%s/%s/plantao", cwd, b ? b : "build");
	}
	snprintf(dir, sizeof dir, "/tmp/plantao-it-XXXXXX");
	assert_non_null(mkdtemp(dir));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	start_server();
	return 0;
}

static int teardown(void **state)
{
	int status = 0;
	char cmd[128];

	(void)state;
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	curl_global_cleanup();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1; /* a graceful stop exits 0 */
}

static void healthz(void **state)
{
	struct resp r;

	(void)state;
	request("GET", "/healthz?live", NULL, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"database\":\"ok\""));
	resp_free(&r);
}

static void unknown_route_and_method(void **state)
{
	struct resp r;

	(void)state;
	request("POST", "/nothing/here", "x=1", -1, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body.data, "{\"error\":{\"code\":\"not_found\""));
	resp_free(&r);
	request("DELETE", "/healthz", NULL, 0, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.headers.data, "Allow: GET"));
	assert_non_null(strstr(r.body.data, "method_not_allowed"));
	resp_free(&r);
}

static void sign(const char *path, const char *body, char *out)
{
	struct form f;
	char url[128];

	form_init(&f);
	assert_int_equal(form_parse(&f, body, strlen(body)), RC_OK);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	assert_int_equal(sig_compute(AUTH, url, &f, out), RC_OK);
	form_release(&f);
}

static void twilio_signature(void **state)
{
	const char *body = "CallSid=CA0001&From=%2B5511988887777&To=%2B5511999990000&CallStatus=ringing";
	char sig[64], hdr[128];
	const char *hs[] = {"Content-Type: application/x-www-form-urlencoded", hdr, NULL};
	struct resp r;

	(void)state;
	/* missing signature: 403, and the request changes nothing */
	snprintf(hdr, sizeof hdr, "X-Plain: 1");
	request("POST", "/twilio/voice", body, -1, hs, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	/* a signature for another body */
	sign("/twilio/voice", "CallSid=CA0002", sig);
	snprintf(hdr, sizeof hdr, "X-Twilio-Signature: %s", sig);
	request("POST", "/twilio/voice", body, -1, hs, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	/* valid: TwiML with Content-Length (Twilio refuses chunked TwiML) */
	sign("/twilio/voice", body, sig);
	snprintf(hdr, sizeof hdr, "X-Twilio-Signature: %s", sig);
	request("POST", "/twilio/voice", body, -1, hs, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers.data, "Content-Type: text/xml"));
	assert_non_null(strstr(r.headers.data, "Content-Length: "));
	assert_null(strstr(r.headers.data, "chunked"));
	assert_non_null(strstr(r.body.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
	assert_non_null(strstr(r.body.data, "<Response>"));
	resp_free(&r);
}

static void body_limits_and_bad_forms(void **state)
{
	const char *hs[] = {"Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: x", NULL};
	char *big = malloc(70000);
	struct resp r;

	(void)state;
	memset(big, 'a', 70000);
	request("POST", "/twilio/voice", big, 70000, hs, &r);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body.data, "too_big"));
	resp_free(&r);
	free(big);
	/* malformed escapes and invalid UTF-8: a clean 4xx */
	request("POST", "/twilio/voice", "From=%ZZ&x=%FF%FE", -1, hs, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
}

static void huge_header(void **state)
{
	char *h = malloc(100000);
	const char *hs[] = {h, NULL};
	struct resp r;

	(void)state;
	memcpy(h, "X-Big: ", 7);
	memset(h + 7, 'b', 100000 - 8);
	h[100000 - 1] = '\0';
	request("GET", "/healthz", NULL, 0, hs, &r);
	assert_true(r.status == 431 || r.status == 413 || r.status == 400);
	resp_free(&r);
	free(h);
	/* and the server is still fine */
	request("GET", "/healthz?live", NULL, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static void console_and_metrics(void **state)
{
	struct resp r;

	(void)state;
	request("GET", "/", NULL, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers.data, "Content-Security-Policy: "));
	assert_non_null(strstr(r.headers.data, "frame-ancestors 'none'"));
	assert_non_null(strstr(r.body.data, "<html"));
	resp_free(&r);
	request("GET", "/../../etc/passwd", NULL, 0, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	request("GET", "/metrics", NULL, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(
	        strstr(r.body.data, "plantao_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"));
	assert_non_null(strstr(r.body.data, "plantao_http_request_duration_seconds_bucket"));
	assert_non_null(strstr(r.body.data, "# TYPE plantao_outbox_messages gauge"));
	resp_free(&r);
}

static void tokens_required(void **state)
{
	const char *bad[] = {"Authorization: Bearer wrong", NULL};
	const char *good[] = {"Authorization: Bearer " TOKEN, NULL};
	struct resp r;

	(void)state;
	request("GET", "/api/tokens", NULL, 0, NULL, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.headers.data, "WWW-Authenticate: Bearer"));
	resp_free(&r);
	request("GET", "/api/tokens", NULL, 0, bad, &r);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	request("GET", "/api/tokens", NULL, 0, good, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

/* Roles: a viewer reads but may not administer; the secret is shown once and only hashed. */
static void token_roles(void **state)
{
	const char *admin[] = {"Authorization: Bearer " TOKEN, "Content-Type: application/json", NULL};
	char auth[160];
	const char *viewer[] = {auth, "Content-Type: application/json", NULL};
	struct resp r;
	char *tok, *end;

	(void)state;
	request("POST", "/api/tokens", "{\"name\":\"tv\",\"role\":\"viewer\"}", -1, admin, &r);
	assert_int_equal(r.status, 201);
	tok = strstr(r.body.data, "\"token\":\"");
	assert_non_null(tok);
	tok += 9;
	end = strchr(tok, '"');
	snprintf(auth, sizeof auth, "Authorization: Bearer %.*s", (int)(end - tok), tok);
	resp_free(&r);
	request("GET", "/api/tokens", NULL, 0, viewer, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body.data, "forbidden"));
	resp_free(&r);
	request("GET", "/api/tokens", NULL, 0, admin, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "\"role\":\"viewer\""));
	assert_null(strstr(r.body.data, "plt_")); /* never the secret again */
	resp_free(&r);
	request("POST", "/api/tokens", "{\"name\":\"x\",\"role\":\"god\"}", -1, admin, &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	request("POST", "/api/tokens", "{not json", -1, admin, &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	request("DELETE", "/api/tokens/999", NULL, 0, admin, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
}

static int run(const char *args, char *out, size_t len)
{
	char cmd[1024];
	FILE *p;
	size_t n;
	int status;

	snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>&1", dir, bin, args);
	p = popen(cmd, "r");
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WEXITSTATUS(status);
}

static void command_line(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(run("help", out, sizeof out), 0);
	assert_non_null(strstr(out, "usage: plantao"));
	assert_int_equal(run("", out, sizeof out), 2);
	assert_int_equal(run("frobnicate", out, sizeof out), 2);
	assert_int_equal(run("serve --bogus", out, sizeof out), 2);
	assert_int_equal(run("version", out, sizeof out), 0);
	assert_non_null(strstr(out, "plantao "));
	assert_int_equal(run("token create --role wizard", out, sizeof out), 2);
	/* a malformed value stops start-up with one line naming the variable */
	assert_int_equal(run("migrate", out, sizeof out), 0);
	setenv("PLANTAO_TZ", "Nowhere/Atlantis", 1);
	assert_int_equal(run("serve", out, sizeof out), 1);
	assert_non_null(strstr(out, "PLANTAO_TZ"));
	unsetenv("PLANTAO_TZ");
	setenv("PLANTAO_LISTEN", "localhost", 1);
	assert_int_equal(run("migrate", out, sizeof out), 1);
	assert_non_null(strstr(out, "PLANTAO_LISTEN"));
	unsetenv("PLANTAO_LISTEN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(healthz),          cmocka_unit_test(unknown_route_and_method),
	        cmocka_unit_test(twilio_signature), cmocka_unit_test(body_limits_and_bad_forms),
	        cmocka_unit_test(huge_header),      cmocka_unit_test(console_and_metrics),
	        cmocka_unit_test(tokens_required),  cmocka_unit_test(token_roles),
	        cmocka_unit_test(command_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
