/* tests/unit/http/test_router.c — route matching, parameters, 404 vs 405 (server/http/http.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/http.h"

static enum rc h(struct http_req *req)
{
	(void)req;
	return RC_OK;
}

static const struct route table[] = {
        {"GET", "/healthz", h, HTTP_PUBLIC, HTTP_PERM_READ, 0, NULL},
        {"GET", "/api/people", h, HTTP_TOKEN, HTTP_PERM_READ, 0, NULL},
        {"POST", "/api/people", h, HTTP_TOKEN, HTTP_PERM_EDIT, 1024, NULL},
        {"GET", "/api/people/{id}", h, HTTP_TOKEN, HTTP_PERM_READ, 0, NULL},
        {"DELETE", "/api/people/{id}", h, HTTP_TOKEN, HTTP_PERM_EDIT, 0, NULL},
        {"POST", "/api/alerts/{id}/ack", h, HTTP_TOKEN, HTTP_PERM_EDIT, 0, NULL},
        {"POST", "/twilio/alert-call/{attempt}/gather", h, HTTP_TWILIO, HTTP_PERM_READ, 1024, NULL},
        {"GET", "/{*}", h, HTTP_PUBLIC, HTTP_PERM_READ, 0, NULL},
};
#define N (sizeof table / sizeof table[0])

static void exact_and_params(void **state)
{
	const struct route *r;
	char *p[HTTP_MAX_PARAMS] = {0};
	size_t n;
	char allow[64];

	(void)state;
	assert_int_equal(http_route_match(table, N, "GET", "/healthz", &r, p, &n, allow, sizeof allow), RC_OK);
	assert_ptr_equal(r, &table[0]);
	assert_int_equal(n, 0);
	assert_int_equal(http_route_match(table, N, "DELETE", "/api/people/42", &r, p, &n, allow, sizeof allow), RC_OK);
	assert_ptr_equal(r, &table[4]);
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "42");
	http_params_free(p, n);
	assert_int_equal(
	        http_route_match(table, N, "POST", "/twilio/alert-call/7/gather", &r, p, &n, allow, sizeof allow),
	        RC_OK);
	assert_string_equal(p[0], "7");
	http_params_free(p, n);
}

static void method_not_allowed(void **state)
{
	const struct route *r;
	char *p[HTTP_MAX_PARAMS] = {0};
	size_t n;
	char allow[64];

	(void)state;
	assert_int_equal(http_route_match(table, N, "PUT", "/api/people", &r, p, &n, allow, sizeof allow), RC_METHOD);
	assert_string_equal(allow, "GET, POST");
	assert_null(r);
	assert_int_equal(http_route_match(table, N, "POST", "/api/people/3", &r, p, &n, allow, sizeof allow),
	                 RC_METHOD);
	assert_string_equal(allow, "GET, DELETE");
}

static void not_found(void **state)
{
	const struct route *r;
	char *p[HTTP_MAX_PARAMS] = {0};
	size_t n;
	char allow[64];

	(void)state;
	/* a POST to an unknown path is 404, not 405 from the console catch-all */
	assert_int_equal(http_route_match(table, N, "POST", "/api/nothing", &r, p, &n, allow, sizeof allow),
	                 RC_NOT_FOUND);
	assert_int_equal(http_route_match(table, N, "GET", "/api/people/", &r, p, &n, allow, sizeof allow), RC_OK);
	assert_ptr_equal(r, &table[7]); /* empty {id} does not match: falls to the console, which 404s */
	http_params_free(p, n);
	assert_int_equal(http_route_match(table, N, "GET", "/api/people/1/extra", &r, p, &n, allow, sizeof allow),
	                 RC_OK);
	assert_ptr_equal(r, &table[7]);
	http_params_free(p, n);
	assert_int_equal(http_route_match(table, N, "POST", "/healthz/x", &r, p, &n, allow, sizeof allow),
	                 RC_NOT_FOUND);
}

static void catch_all(void **state)
{
	const struct route *r;
	char *p[HTTP_MAX_PARAMS] = {0};
	size_t n;
	char allow[64];

	(void)state;
	assert_int_equal(http_route_match(table, N, "GET", "/js/app.js", &r, p, &n, allow, sizeof allow), RC_OK);
	assert_ptr_equal(r, &table[7]);
	assert_string_equal(p[0], "js/app.js");
	http_params_free(p, n);
	assert_int_equal(http_route_match(table, N, "GET", "/", &r, p, &n, allow, sizeof allow), RC_OK);
	assert_string_equal(p[0], "");
	http_params_free(p, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(exact_and_params),
	        cmocka_unit_test(method_not_allowed),
	        cmocka_unit_test(not_found),
	        cmocka_unit_test(catch_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
