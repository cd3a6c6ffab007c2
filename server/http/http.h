/*
 * server/http/http.h — the HTTP core on libmicrohttpd: routing table, per-request state, bodies
 * (buffered with a per-route cap, or streamed to the route), authentication (Twilio
 * signatures, bearer tokens with roles), JSON/TwiML/text replies, access log and metrics.
 *
 * Life of a request (STYLE.md "Memory and state"): the request is created when libmicrohttpd
 * reports its URI, routed and authenticated (tokens) before any body is read, fed its body,
 * then the handler runs once with the whole request and replies through http_reply_*(). The
 * completion callback logs, records metrics and frees everything the request owns.
 */
#ifndef PLANTAO_HTTP_H
#define PLANTAO_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/form.h"
#include "core/rc.h"

struct app;
struct db;
struct twiml;
struct http_req;

/* Who may call a route. */
enum http_auth {
	HTTP_PUBLIC, /* no credentials (health, metrics, console files) */
	HTTP_TWILIO, /* valid X-Twilio-Signature required (403 otherwise) */
	HTTP_TOKEN,  /* Authorization: Bearer <token> with the route's permission (401/403) */
	HTTP_FEED,   /* as HTTP_TOKEN, or a viewer token in ?token= (calendar apps cannot send headers;
	              * a leaked feed URL can then only read) */
};

/* What a token must allow (roles: admin all; editor read/edit/alert; viewer read; alerts alert). */
enum http_perm { HTTP_PERM_READ, HTTP_PERM_EDIT, HTTP_PERM_ALERT, HTTP_PERM_ADMIN };

enum http_role { HTTP_ROLE_NONE, HTTP_ROLE_ADMIN, HTTP_ROLE_EDITOR, HTTP_ROLE_VIEWER, HTTP_ROLE_ALERTS };

/* Handlers return RC_OK after replying, or an rc (after http_fail) that the core turns into a JSON error. */
typedef enum rc (*http_handler_fn)(struct http_req *req);
/* Streaming body consumer: called with each chunk as it arrives; an error stops the upload. */
typedef enum rc (*http_body_fn)(struct http_req *req, const char *data, size_t len);

#define HTTP_KIB             ((size_t)1024)
#define HTTP_MIB             (1024 * HTTP_KIB)
#define HTTP_TWILIO_MAX_BODY (64 * HTTP_KIB)
#define HTTP_ALERT_MAX_BODY  (1 * HTTP_MIB)
#define HTTP_API_MAX_BODY    (256 * HTTP_KIB)
#define HTTP_MAX_PARAMS      4

struct route {
	const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern; /* "/api/people/{id}": each {name} matches one non-empty segment;
	                      * a final "{*}" matches the rest of the path (the console) */
	http_handler_fn handler;
	enum http_auth auth;
	enum http_perm perm;  /* HTTP_TOKEN routes only */
	size_t max_body;      /* bytes accepted (413 past it); 0 means no body */
	http_body_fn on_body; /* optional: stream the body instead of buffering it */
};

struct http_req {
	struct app *app; /* borrowed */
	struct db *db;   /* this worker thread's connection (borrowed) */
	const struct route *route;
	char *method;
	char *path;                    /* decoded path, no query */
	char *uri;                     /* raw request target as received (path?query): signatures use it */
	char *params[HTTP_MAX_PARAMS]; /* {name} segments of the pattern, in order */
	size_t n_params;
	struct buf body;     /* buffered body (routes without on_body) */
	struct form form;    /* form-urlencoded body, parsed before the handler runs */
	json_t *json;        /* JSON body once http_json_body() parsed it */
	enum http_role role; /* HTTP_TOKEN routes: the caller's role */
	char actor[64];      /* who acts, for the audit log: token name, "twilio", … */
	void *state;         /* route-private (e.g. a streaming import); freed with state_free */
	void (*state_free)(void *state);

	/* Core-private below. */
	void *conn;
	int status;
	bool replied;
	bool started;
	enum rc body_rc; /* error met while receiving the body */
	char err[512];
	char err_code[40];  /* http_fail_code(): the error's stable code, else rc_str(rc) */
	char err_field[64]; /* the field or parameter it is about, else read off "field: …" */
	json_t *err_extra;  /* more members of the error object ({"conflict_id": 1}), or NULL */
	int64_t t0_us;
	size_t received;
	void *watch;         /* the connection's slow-client watch (http/slow.h) */
	void *server;        /* the struct http_server that took the request */
	size_t drained;      /* body bytes read and discarded after the request was refused */
	int64_t drain_t0_us; /* when that began */
	struct {
		char name[48];
		char value[256];
	} extra_headers[4];
	size_t n_extra_headers;
};

/* ---- request accessors (all borrowed, valid until the request ends) ---- */
const char *http_header(struct http_req *req, const char *name);
const char *http_query(struct http_req *req, const char *name);
/* Path parameter i as a positive id; RC_NOT_FOUND when it is not a number. */
enum rc http_param_id(struct http_req *req, size_t i, int64_t *out);
/* The JSON body (borrowed): RC_UNSUPPORTED unless Content-Type is application/json, RC_INVALID if it does not parse. */
enum rc http_json_body(struct http_req *req, json_t **out);
/* Room for http_client_addr()'s answer (INET6_ADDRSTRLEN). */
#define HTTP_ADDR_LEN 46
/* The client's address as libmicrohttpd gives it (the peer of the TCP connection, not a header a
 * client could write), as text ("127.0.0.1", "::1") into out; "" when unknown. The per-address
 * limits key on it. */
void http_client_addr(struct http_req *req, char *out, size_t len);
/* Content-Type without parameters, lower-case, or "" (static buffer in req: borrowed). */
bool http_content_type_is(struct http_req *req, const char *type);

/* ---- replies ---- */
/* Sends body (stolen, may be NULL for {}) as JSON with status. */
enum rc http_reply_json(struct http_req *req, int status, json_t *body);
/* Finishes and sends TwiML (200 text/xml, with Content-Length); frees t. */
enum rc http_reply_twiml(struct http_req *req, struct twiml *t);
/* Sends a copy of body with the given content type. */
enum rc http_reply(struct http_req *req, int status, const char *content_type, const char *body, size_t len);
/* Adds a response header (Retry-After, Content-Disposition, …) to the coming reply. */
void http_add_header(struct http_req *req, const char *name, const char *value);
/* Records a message for the JSON error the core will send for rc; returns rc. */
enum rc http_fail(struct http_req *req, enum rc rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Like http_fail, and names the error for clients: code is a stable word the console
 * translates ("override_overlap", "phone_invalid", "unknown_field"), field the body field or
 * query parameter it is about (NULL: read off a message starting "field: "). Every JSON error
 * is {"error": {"code", "message", "field"?, …extra}}; without a code it is rc_str(rc).
 */
enum rc http_fail_code(struct http_req *req, enum rc rc, const char *code, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
/* Adds key: value (stolen) to the coming JSON error object, e.g. "conflict_id". */
void http_fail_extra(struct http_req *req, const char *key, json_t *value);
/* HTTP status for rc. */
int http_status_of(enum rc rc);
/* Whether role may call routes of permission perm (GET /api/me says it to the caller). */
bool http_role_allows(enum http_role role, enum http_perm perm);

/* Connections the slow-client guard (http/slow.h) has cut since start: request heads past their
 * deadline, bodies below the minimum rate, and connections pushed out past a connection limit. */
void http_slow_counts(struct http_req *req, uint64_t *cut_head, uint64_t *cut_body, uint64_t *evicted);

/* ---- server ---- */
struct http_server;
/* Starts listening (cfg in app) with the routes; *out: http_stop(). Logs and returns RC_INTERNAL on failure. */
enum rc http_start(struct app *app, const struct route *routes, size_t n_routes, struct http_server **out);
/* The port actually bound (useful with port 0). */
int http_port(struct http_server *s);
/* Stops accepting, waits up to wait_ms for requests in flight, then stops and frees. */
void http_stop(struct http_server *s, int wait_ms);

/* Router, exposed for tests and fuzzing: finds the route for method+path, filling params
 * (new strings, free with http_params_free). RC_NOT_FOUND: no pattern matches; RC_METHOD:
 * a pattern matches but not the method (allow receives "GET, POST"). */
enum rc http_route_match(const struct route *routes, size_t n, const char *method, const char *path,
                         const struct route **found, char **params, size_t *n_params, char *allow, size_t allow_len);
void http_params_free(char **params, size_t n);

#endif
