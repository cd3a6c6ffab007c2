/*
 * server/routes.c — every route, its handler, who may call it and its body limit.
 * First match wins; the console's catch-all stays last.
 */
#include "routes.h"

#include "server/api_tokens.h"
#include "server/console.h"
#include "server/ops.h"
#include "server/voice.h"

#define TW HTTP_TWILIO
#define TOK HTTP_TOKEN
#define PUB HTTP_PUBLIC

const struct route routes[] = {
	/* operations */
	{"GET", "/healthz", ops_healthz, PUB, HTTP_PERM_READ, 0, NULL},
	{"GET", "/metrics", ops_metrics, PUB, HTTP_PERM_READ, 0, NULL},

	/* Twilio webhooks (signed) */
	{"POST", "/twilio/voice", voice_incoming, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},

	/* JSON API (bearer token) */
	{"GET", "/api/tokens", api_tokens_list, TOK, HTTP_PERM_ADMIN, 0, NULL},
	{"POST", "/api/tokens", api_tokens_create, TOK, HTTP_PERM_ADMIN, HTTP_API_MAX_BODY, NULL},
	{"DELETE", "/api/tokens/{id}", api_tokens_revoke, TOK, HTTP_PERM_ADMIN, 0, NULL},

	/* the web console: keep last */
	{"GET", "/{*}", console_get, PUB, HTTP_PERM_READ, 0, NULL},
};

const size_t routes_count = sizeof routes / sizeof routes[0];
