/*
 * server/twilio/twilio.h — the Twilio REST client (2010-04-01 API) on libcurl. The only module
 * that holds CURL handles for Twilio (STYLE.md). Used by the engine's sender only: handlers
 * never call Twilio (DESIGN.md).
 *
 * Creating messages and calls is asynchronous: twilio_submit() starts a request on a curl
 * multi handle, twilio_run() drives every transfer in flight for a bounded time, and
 * twilio_done() hands back finished ones. Look-ups for crash reconciliation (twilio_fetch,
 * twilio_list) are synchronous on their own handle. All transfers share one connection
 * pool per handle kind, DNS cache and TLS sessions, verify TLS, have connect and total
 * timeouts and a response-size cap, and authenticate with HTTP Basic (account SID and auth
 * token).
 *
 * Sent exactly once: a create request that might have reached Twilio is never sent again by
 * this module. libcurl re-sends a request by itself when a reused keep-alive connection dies
 * without answering; for a POST that means rewinding its body, and the body callback here
 * refuses any rewind once bytes were read. Such a transfer ends with TWILIO_UNKNOWN and the
 * caller looks the resource up (twilio_list) before deciding to send again.
 *
 * Spec: Twilio's OpenAPI description twilio_api_v2010 (Messages.json, Calls.json, list
 * paging, error body {code, message, more_info, status}).
 */
#ifndef PLANTAO_TWILIO_H
#define PLANTAO_TWILIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

#define TWILIO_CONNECT_TIMEOUT_MS 5000
#define TWILIO_TIMEOUT_MS         15000 /* whole look-up request, answer included */
/*
 * Whole create request, answer included: the request's own deadline. Twilio answers a create in
 * well under a second; past this the outcome is unknown and the row is looked up, never before
 * (server/outbox/sender.h).
 */
#define TWILIO_CREATE_TIMEOUT_MS 10000
#define TWILIO_MAX_RESPONSE      (1024 * 1024) /* bytes of one answer (a list page of 50 is ~100 KiB) */
#define TWILIO_MAX_PARALLEL      32            /* create requests in flight at once */
#define TWILIO_FIELD_MAX         64

struct twilio;

/* How a request ended, which decides what the caller may do next. */
enum twilio_outcome {
	TWILIO_OK,        /* 2xx with a resource (sid and status filled) */
	TWILIO_RETRY,     /* 429, 503, or the request never fully left: safe to send again later */
	TWILIO_UNKNOWN,   /* it may have reached Twilio but no usable answer came: look it up first */
	TWILIO_PERMANENT, /* any other 4xx (21211 invalid number, 21610 unsubscribed, 20003 auth…) */
};

struct twilio_result {
	enum twilio_outcome outcome;
	long http_status;                   /* 0 when no answer was read */
	char sid[TWILIO_FIELD_MAX];         /* "" unless TWILIO_OK */
	char status[TWILIO_FIELD_MAX];      /* Twilio's status of the resource */
	int error_code;                     /* Twilio's code, 0 when none */
	char error_message[256];            /* Twilio's message or libcurl's error text */
	int retry_after_s;                  /* Retry-After in seconds, -1 when absent */
	int num_segments;                   /* messages: num_segments when Twilio gave it, else 0 */
	int duration_s;                     /* calls: duration when Twilio gave it, else -1 */
	char answered_by[TWILIO_FIELD_MAX]; /* calls: answered_by, "" when none */
};

/* A message or call to create. Strings are borrowed for the duration of twilio_submit(). */
struct twilio_send {
	bool call;              /* false: a message */
	const char *to;         /* "+E164", or "whatsapp:+E164" for WhatsApp */
	const char *from;       /* the same form as to */
	const char *body;       /* messages */
	const char *url;        /* calls: the TwiML URL, requested with POST */
	bool machine_detection; /* calls: MachineDetection=DetectMessageEnd, AsyncAmd=true and
	                         * AsyncAmdStatusCallback = url + "/amd" */
	int timeout_s;          /* calls: seconds to let it ring; 0 leaves Twilio's default */
	/* messages: an approved Content template (ContentSid, "HX…") sent instead of body, with
	 * content_variables (ContentVariables, a JSON object such as {"1": "12", "2": "disk full"}) */
	const char *content_sid;
	const char *content_variables;
};

/* A resource from a list page (borrowed: valid during the list callback only). */
struct twilio_item {
	const char *sid;
	const char *status;
	const char *to;
	const char *from;
	const char *body;   /* messages; "" for calls */
	int64_t created_at; /* date_created as Unix seconds, 0 when missing */
};

/*
 * A client for api_base (no trailing slash) and the account sid:token; public_url is the
 * base of the StatusCallback URLs. Copies every string. *out: twilio_free().
 */
enum rc twilio_new(const char *api_base, const char *account_sid, const char *auth_token, const char *public_url,
                   struct twilio **out);
/* Abandons transfers in flight (their outcome stays unknown to the caller) and frees t. NULL is a no-op. */
void twilio_free(struct twilio *t);

/*
 * The form body of a create request for m, as sent (exposed for tests): a new string,
 * free() it. Values are escaped with curl_easy_escape; parameter order is fixed.
 */
enum rc twilio_form(const struct twilio *t, const struct twilio_send *m, char **out);

/*
 * Starts creating m; user comes back from twilio_done(). RC_BUSY when TWILIO_MAX_PARALLEL
 * requests are in flight, RC_INTERNAL on allocation failure.
 */
enum rc twilio_submit(struct twilio *t, const struct twilio_send *m, void *user);
/* Requests started and not yet handed back by twilio_done(). */
size_t twilio_in_flight(const struct twilio *t);
/* Moves every transfer on, waiting at most wait_ms for network activity. */
enum rc twilio_run(struct twilio *t, int wait_ms);
/* Hands back one finished request: true with *res and *user filled, false when none is finished. */
bool twilio_done(struct twilio *t, struct twilio_result *res, void **user);

/* GET one message (call false) or call by sid. res->outcome is TWILIO_OK when found. */
enum rc twilio_fetch(struct twilio *t, bool call, const char *sid, struct twilio_result *res);

/*
 * Ends call sid (POST Calls/{sid}.json with Status=completed: hangs up a call in progress,
 * cancels one still queued or ringing). res->outcome is TWILIO_OK when Twilio answered with
 * the call; RC_UPSTREAM when Twilio could not be reached (logged).
 */
enum rc twilio_end_call(struct twilio *t, const char *sid, struct twilio_result *res);

/*
 * Gives live call sid new TwiML: POST Calls/{sid}.json with Url=twiml_url (requested with POST),
 * as for an answering machine whose greeting has ended. Same answers as twilio_end_call(); a
 * call no longer in progress is refused by Twilio (error 21220, TWILIO_PERMANENT).
 */
enum rc twilio_redirect_call(struct twilio *t, const char *sid, const char *twiml_url, struct twilio_result *res);

/*
 * Lists messages (or calls) from `from` to `to`, newest first, calling fn for each until fn
 * returns false, the list ends, or max_pages pages were read. RC_UPSTREAM when Twilio could not
 * be asked or answered with an error (logged).
 */
enum rc twilio_list(struct twilio *t, bool call, const char *to, const char *from, int max_pages,
                    bool (*fn)(void *ctx, const struct twilio_item *it), void *ctx);

/* Parses Twilio's date format "Mon, 16 Aug 2010 03:45:01 +0000" into Unix seconds; false when malformed. */
bool twilio_parse_date(const char *s, int64_t *out);

/*
 * Classifies an answer (exposed for tests): http_status 0 means no answer; body_sent tells
 * whether the whole request body left (libcurl's upload count); curl_code is libcurl's result.
 */
enum twilio_outcome twilio_classify(long http_status, int curl_code, bool body_sent);

#endif
