/*
 * tests/fuzz/fuzz_router.c — the router over plantao's real routing table: any method and path
 * either match one route (with parameters that are substrings of the path and contain no '/',
 * except the console catch-all), or are a clean 404/405.
 * Input: "METHOD PATH".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = strndup((const char *)data, size), *sp;
	const struct route *r = NULL;
	char *params[HTTP_MAX_PARAMS] = {0};
	size_t n = 0, i;
	char allow[128];
	enum rc rc;

	if (!in)
		return 0;
	sp = strchr(in, ' ');
	if (sp) {
		*sp = '\0';
		rc = http_route_match(routes, routes_count, in, sp + 1, &r, params, &n, allow, sizeof allow);
		if (rc == RC_OK) {
			if (!r)
				abort();
			for (i = 0; i < n; i++) {
				if (!params[i] || !strstr(sp + 1, params[i]))
					abort();
				if (!strstr(r->pattern, "{*}") && (strchr(params[i], '/') || !params[i][0]))
					abort();
			}
			http_params_free(params, n);
		} else if (rc == RC_METHOD) {
			if (r || !allow[0])
				abort();
		} else if (rc != RC_NOT_FOUND) {
			abort();
		}
	}
	free(in);
	return 0;
}
