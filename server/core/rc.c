/* server/core/rc.c — names of result codes (the "code" of JSON errors). */
#include "core/rc.h"

const char *rc_str(enum rc rc)
{
	switch (rc) {
	case RC_OK: return "ok";
	case RC_INVALID: return "invalid";
	case RC_AUTH: return "unauthorized";
	case RC_FORBIDDEN: return "forbidden";
	case RC_NOT_FOUND: return "not_found";
	case RC_CONFLICT: return "conflict";
	case RC_METHOD: return "method_not_allowed";
	case RC_TOO_BIG: return "too_big";
	case RC_UNSUPPORTED: return "unsupported_media_type";
	case RC_UNPROCESSABLE: return "unprocessable";
	case RC_RATE: return "rate_limited";
	case RC_DB: return "database";
	case RC_BUSY: return "busy";
	case RC_UPSTREAM: return "upstream";
	case RC_INTERNAL: return "internal";
	}
	return "internal";
}
