/*
 * server/core/rc.h — the one result-code enum of plantao.
 * Fallible functions return enum rc and hand results through out-parameters.
 * Only the HTTP layer (server/http/http.c) maps an rc to a status code.
 */
#ifndef PLANTAO_RC_H
#define PLANTAO_RC_H

enum rc {
	RC_OK = 0,
	RC_INVALID,       /* malformed input: 400 */
	RC_AUTH,          /* missing/bad credentials: 401 */
	RC_FORBIDDEN,     /* authenticated but not allowed, bad Twilio signature: 403 */
	RC_NOT_FOUND,     /* 404 */
	RC_CONFLICT,      /* state does not allow it: 409 */
	RC_METHOD,        /* the path exists, not with this method: 405 */
	RC_TOO_BIG,       /* a cap was hit: 413 */
	RC_UNSUPPORTED,   /* unsupported media type: 415 */
	RC_UNPROCESSABLE, /* well-formed but semantically wrong: 422 */
	RC_RATE,          /* rate limited: 429 */
	RC_DB,            /* SQLite error: 500 */
	RC_BUSY,          /* database locked for too long: 503 */
	RC_UPSTREAM,      /* Twilio or another peer failed */
	RC_INTERNAL,      /* a bug or out of memory: 500 */
};

/* Returns a static lower_snake_case name of rc ("not_found"), used as the JSON error code. */
const char *rc_str(enum rc rc);

#endif
