/*
 * server/api/api_auth.c — sign-in, sessions, roles and contact verification over the API (routes
 * and answers in api_auth.h). The rules live in server/auth/; this file maps them to HTTP.
 *
 * POST /api/auth/code answers the same 202 body in every case and does the same work up to
 * the outbox row (server/auth/otp.c draws, hashes and records a code for any phone): whether a
 * phone belongs to somebody cannot be read from the answer, nor told from its timing.
 */
#include "api/api_auth.h"

#include <stdio.h>
#include <string.h>

#include "api/api_list.h"
#include "auth/otp.h"
#include "auth/phone.h"
#include "auth/request.h"
#include "auth/session.h"
#include "core/app.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/auth.h"
#include "db/people.h"

static const char *role_name(enum http_role r)
{
	switch (r) {
	case HTTP_ROLE_ADMIN: return "admin";
	case HTTP_ROLE_EDITOR: return "editor";
	case HTTP_ROLE_VIEWER: return "viewer";
	case HTTP_ROLE_ALERTS: return "alerts";
	case HTTP_ROLE_NONE: break;
	}
	return "none";
}

/* Whether key is a field of a route taking fields ("email" is known, and refused by the parser). */
static bool known_field(const char *key, unsigned fields)
{
	return ((fields & AUTH_FIELD_PHONE) && (!strcmp(key, "phone") || !strcmp(key, "email"))) ||
	       ((fields & AUTH_FIELD_CODE) && !strcmp(key, "code")) ||
	       ((fields & AUTH_FIELD_CHANNEL) && !strcmp(key, "channel"));
}

static enum rc parse(struct http_req *req, unsigned fields, struct auth_request *out)
{
	char err[160], e164[PHONE_E164_BYTES];
	const char *key;
	json_t *body, *v;
	enum rc rc = api_list_no_params(req);

	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	/* The two refusals a client must tell apart, with their codes: a field this route does not
	 * take, and a phone that cannot be a number. */
	json_object_foreach(json_is_object(body) ? body : NULL, key, v)
	{
		if (!known_field(key, fields))
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key, "%.40s: unknown field", key);
		if ((fields & AUTH_FIELD_PHONE) && !strcmp(key, "phone") &&
		    (!json_is_string(v) ||
		     phone_normalize(json_string_value(v), req->app->cfg->country, e164) != RC_OK))
			return http_fail_code(
			        req, RC_UNPROCESSABLE, "phone_invalid", "phone",
			        "phone: expected a phone number, such as +5511987654321 or (11) 98765-4321");
	}
	rc = auth_request_parse(body, fields, req->app->cfg->country, out, err, sizeof err);
	if (rc != RC_OK)
		return http_fail(req, rc, "%s", err);
	return RC_OK;
}

static void retry_after(struct http_req *req, int64_t seconds)
{
	char v[24];

	snprintf(v, sizeof v, "%lld", (long long)(seconds > 0 ? seconds : 1));
	http_add_header(req, "Retry-After", v);
}

/* ---------------------------------------------------------------- sign-in */

enum rc api_auth_code(struct http_req *req)
{
	struct auth_request in;
	enum otp_outcome outcome;
	char role[AUTH_ROLE_MAX];
	bool verified;
	int64_t person = 0;
	enum rc rc = parse(req, AUTH_FIELD_PHONE | AUTH_FIELD_CHANNEL, &in);

	if (rc != RC_OK)
		return rc;
	rc = auth_person_by_phone(req->db, in.phone, &person, role, &verified);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		return rc;
	if (!role[0])
		person = 0; /* no role: may not sign in, gets nothing */
	rc = otp_request(req->app, req->db, OTP_SIGNIN, in.phone, person, in.channel, &outcome, NULL);
	if (rc != RC_OK)
		return rc;
	return http_reply_json(req, 202,
	                       json_pack("{s:s,s:s,s:i}", "status", "accepted", "message",
	                                 app_lang_en(req->app)
	                                         ? "If this phone belongs to someone who may sign in, a code is on "
	                                           "its way. It is valid for 10 minutes."
	                                         : "Se este telefone for de alguém que pode entrar, um código está a "
	                                           "caminho. Ele vale por 10 minutos.",
	                                 "expires_in", OTP_TTL_S));
}

static json_t *person_json(struct http_req *req, int64_t id)
{
	struct person p;
	json_t *o;

	if (people_get(req->db, id, &p) != RC_OK)
		return NULL;
	o = people_to_json(&p);
	if (o && api_auth_annotate_person(req, o) != RC_OK) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {"id", "created_at"? , "expires_at"} of a session, times in ISO 8601 with their *_unix. */
static json_t *session_json(struct http_req *req, int64_t id, int64_t created_at, int64_t expires_at)
{
	static const char *const times[] = {"created_at", "expires_at", NULL};
	char zone[TZ_NAME_MAX + 1];
	json_t *o = json_pack("{s:I,s:I}", "id", (json_int_t)id, "expires_at", (json_int_t)expires_at);

	if (o && created_at)
		json_object_set_new(o, "created_at", json_integer(created_at));
	api_list_zone(req, zone, sizeof zone);
	api_list_iso_object(o, zone, times);
	return o;
}

enum rc api_auth_verify(struct http_req *req)
{
	struct auth_request in;
	char secret[SESSION_SECRET_LEN + 1], cookie[SESSION_HEADER_MAX], role[AUTH_ROLE_MAX], phone[24];
	char name[AUTH_NAME_MAX], actor[SESSION_ACTOR_MAX];
	int64_t person, wait, sid;
	json_t *pj;
	enum rc rc = parse(req, AUTH_FIELD_PHONE | AUTH_FIELD_CODE, &in);

	if (rc != RC_OK)
		return rc;
	rc = otp_check(req->db, OTP_SIGNIN, in.phone, in.code, &person, &wait);
	if (rc == RC_RATE) {
		retry_after(req, wait);
		return http_fail(req, RC_RATE, "too many wrong codes: ask for a new code in %lld s", (long long)wait);
	}
	if (rc == RC_AUTH)
		return http_fail(req, RC_AUTH, "wrong or expired code");
	if (rc != RC_OK)
		return rc;
	rc = auth_person(req->db, person, role, phone, name, sizeof name);
	if (rc == RC_NOT_FOUND || (rc == RC_OK && !role[0]))
		return http_fail(req, RC_AUTH, "wrong or expired code");
	if (rc != RC_OK)
		return rc;
	{
		struct auth_session who = {.person_id = person};

		snprintf(who.name, sizeof who.name, "%s", name);
		session_actor(&who, actor, sizeof actor);
	}
	rc = session_start(req->app, req->db, person, actor, http_header(req, "User-Agent"), secret, &sid);
	if (rc != RC_OK)
		return rc;
	session_set_cookie(req->app, secret, cookie);
	http_add_header(req, "Set-Cookie", cookie);
	log_info("%s (person %lld) signed in (session %lld, role %s)", name, (long long)person, (long long)sid, role);
	pj = person_json(req, person);
	return http_reply_json(
	        req, 200,
	        json_pack("{s:o,s:s,s:o}", "person", pj ? pj : json_null(), "role", role, "session",
	                  session_json(req, sid, 0, clock_now() + (int64_t)req->app->cfg->session_days * 86400)));
}

/* The session the request's cookie names (the request was authorized by it). */
static enum rc current_session(struct http_req *req, struct auth_session *s)
{
	char secret[SESSION_SECRET_LEN + 2];
	bool refreshed;
	int64_t pid;

	if (!session_actor_person(req->actor, &pid) ||
	    !session_cookie_value(http_header(req, "Cookie"), SESSION_COOKIE, secret, sizeof secret))
		return RC_NOT_FOUND;
	return session_authenticate(req->app, req->db, secret, s, &refreshed);
}

enum rc api_auth_logout(struct http_req *req)
{
	struct auth_session s;
	char cookie[SESSION_HEADER_MAX];
	enum rc rc = api_list_no_params(req);

	if (rc != RC_OK)
		return rc;
	rc = current_session(req, &s);
	if (rc == RC_NOT_FOUND || rc == RC_AUTH)
		return http_fail(req, RC_CONFLICT,
		                 "this request is not signed in with a session (tokens are revoked "
		                 "with DELETE /api/tokens/{id})");
	if (rc != RC_OK)
		return rc;
	rc = session_end(req->db, s.id, req->actor, "auth.signout");
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		return rc;
	session_set_cookie(req->app, NULL, cookie);
	http_add_header(req, "Set-Cookie", cookie);
	log_info("%s (person %lld) signed out (session %lld)", s.name, (long long)s.person_id, (long long)s.id);
	return http_reply_json(req, 200, json_pack("{s:b,s:I}", "signed_out", 1, "session", (json_int_t)s.id));
}

/* What the caller's role may do, for the console to offer only that. */
static json_t *may(enum http_role role)
{
	return json_pack("{s:b,s:b,s:b,s:b}", "read", http_role_allows(role, HTTP_PERM_READ), "edit",
	                 http_role_allows(role, HTTP_PERM_EDIT), "alerts", http_role_allows(role, HTTP_PERM_ALERT),
	                 "admin", http_role_allows(role, HTTP_PERM_ADMIN));
}

enum rc api_auth_me(struct http_req *req)
{
	struct auth_session s;
	json_t *pj;
	enum rc rc = api_list_no_params(req);

	if (rc != RC_OK)
		return rc;
	rc = current_session(req, &s);
	if (rc == RC_NOT_FOUND || rc == RC_AUTH)
		return http_reply_json(req, 200,
		                       json_pack("{s:s,s:n,s:s,s:s,s:o}", "kind", "token", "person", "role",
		                                 role_name(req->role), "actor", req->actor, "may", may(req->role)));
	if (rc != RC_OK)
		return rc;
	pj = person_json(req, s.person_id);
	return http_reply_json(req, 200,
	                       json_pack("{s:s,s:o,s:s,s:s,s:o,s:o}", "kind", "person", "person", pj ? pj : json_null(),
	                                 "role", role_name(req->role), "actor", req->actor, "may", may(req->role),
	                                 "session", session_json(req, s.id, s.created_at, s.expires_at)));
}

enum rc api_auth_sessions_list(struct http_req *req)
{
	static const char *const allowed[] = {"person_id", NULL};
	static const char *const times[] = {"created_at", "last_seen_at", "expires_at", NULL};
	char zone[TZ_NAME_MAX + 1];
	int64_t pid = 0;
	json_t *list;
	enum rc rc = api_list_params(req, allowed);

	if (rc == RC_OK)
		rc = api_list_int(req, "person_id", 0, 1, INT64_MAX, &pid);
	if (rc == RC_OK)
		rc = auth_sessions_list(req->db, pid, clock_now(), &list);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	api_list_iso_fields(list, zone, times);
	return http_reply_json(req, 200, json_pack("{s:o}", "sessions", list));
}

enum rc api_auth_sessions_end(struct http_req *req)
{
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	rc = session_end(req->db, id, req->actor, "auth.session_end");
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no open session %lld", (long long)id);
	if (rc != RC_OK)
		return rc;
	log_info("session %lld ended by %s", (long long)id, req->actor);
	return http_reply_json(req, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "ended", 1));
}

enum rc api_auth_role_put(struct http_req *req)
{
	json_t *body, *v;
	const char *role = NULL, *key;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_INVALID, "expected {\"role\": \"admin\"|\"editor\"|\"viewer\"|null}");
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "role") != 0)
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key,
			                      "%.40s: unknown field (role)", key);
	}
	v = json_object_get(body, "role");
	if (!v)
		return http_fail_code(req, RC_UNPROCESSABLE, "required", "role",
		                      "role: required, admin, editor, viewer or null (cannot sign in)");
	if (json_is_string(v) && (!strcmp(json_string_value(v), "admin") || !strcmp(json_string_value(v), "editor") ||
	                          !strcmp(json_string_value(v), "viewer")))
		role = json_string_value(v);
	else if (!json_is_null(v))
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "role",
		                      "role: expected admin, editor, viewer or null (cannot sign in)");
	rc = auth_set_role(req->db, id, role, req->actor);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)id);
	if (rc != RC_OK)
		return rc;
	v = person_json(req, id);
	return http_reply_json(req, 200, v);
}

/* ---------------------------------------------------------------- contact verification */

/* The person a verification route names, if the caller may act for them: themself, or an admin. */
static enum rc verifiable(struct http_req *req, int64_t *id, char phone[24])
{
	char role[AUTH_ROLE_MAX], name[8];
	int64_t self = 0;
	enum rc rc = http_param_id(req, 0, id);

	if (rc != RC_OK)
		return rc;
	session_actor_person(req->actor, &self);
	if (self != *id && req->role != HTTP_ROLE_ADMIN)
		return http_fail(req, RC_FORBIDDEN, "only the person themself or an admin may verify a contact");
	rc = auth_person(req->db, *id, role, phone, name, sizeof name);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)*id);
	return rc;
}

enum rc api_auth_verify_start(struct http_req *req)
{
	struct auth_request in;
	enum otp_outcome outcome;
	char phone[24];
	int64_t id, wait = 0;
	enum rc rc = verifiable(req, &id, phone);

	if (rc == RC_OK)
		rc = parse(req, AUTH_FIELD_CHANNEL, &in);
	if (rc != RC_OK)
		return rc;
	rc = otp_request(req->app, req->db, OTP_VERIFY, phone, id, in.channel, &outcome, &wait);
	if (rc != RC_OK)
		return rc;
	if (outcome == OTP_LIMITED || outcome == OTP_LOCKED) {
		retry_after(req, wait);
		return http_fail(req, RC_RATE, "%s: ask again in %lld s",
		                 outcome == OTP_LOCKED ? "too many wrong codes" : "a code was sent very recently",
		                 (long long)wait);
	}
	return http_reply_json(req, 202,
	                       json_pack("{s:I,s:s,s:s,s:i}", "id", (json_int_t)id, "channel",
	                                 in.channel == OTP_VOICE ? "voice" : "sms", "status", "sent", "expires_in",
	                                 OTP_TTL_S));
}

enum rc api_auth_verify_confirm(struct http_req *req)
{
	struct auth_request in;
	char phone[24];
	int64_t id, person, wait;
	enum rc rc = verifiable(req, &id, phone);

	if (rc == RC_OK)
		rc = parse(req, AUTH_FIELD_CODE, &in);
	if (rc != RC_OK)
		return rc;
	rc = otp_check(req->db, OTP_VERIFY, phone, in.code, &person, &wait);
	if (rc == RC_RATE) {
		retry_after(req, wait);
		return http_fail(req, RC_RATE, "too many wrong codes: ask for a new code in %lld s", (long long)wait);
	}
	if (rc == RC_AUTH || (rc == RC_OK && person != id))
		return http_fail(req, RC_AUTH, "wrong or expired code");
	if (rc != RC_OK)
		return rc;
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return rc;
	rc = auth_mark_phone_verified(req->db, id, phone, clock_now(), req->actor);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return rc == RC_CONFLICT ? http_fail(req, rc, "the phone changed meanwhile: verify the new one") : rc;
	}
	return http_reply_json(req, 200, person_json(req, id));
}

/* The times of a person's JSON, ISO 8601 in the team's zone (the epoch as <name>_unix). */
static const char *const person_times[] = {"sms_opt_out_at", "whatsapp_inbound_at", "phone_verified_at", NULL};

static enum rc annotate(struct http_req *req, json_t *p, const char *zone)
{
	char role[AUTH_ROLE_MAX];
	int64_t at = 0;
	enum rc rc = auth_person_flags(req->db, json_integer_value(json_object_get(p, "id")), role, &at);

	if (rc != RC_OK)
		return rc;
	json_object_set_new(p, "role", role[0] ? json_string(role) : json_null());
	json_object_set_new(p, "phone_verified", json_boolean(at != 0));
	json_object_set_new(p, "phone_verified_at", at ? json_integer(at) : json_null());
	api_list_iso_object(p, zone, person_times);
	return RC_OK;
}

enum rc api_auth_annotate_person(struct http_req *req, json_t *p)
{
	char zone[TZ_NAME_MAX + 1];

	api_list_zone(req, zone, sizeof zone);
	return annotate(req, p, zone);
}

enum rc api_auth_annotate_people(struct http_req *req, json_t *people)
{
	char zone[TZ_NAME_MAX + 1];
	size_t i;
	json_t *p;
	enum rc rc = RC_OK;

	api_list_zone(req, zone, sizeof zone);
	json_array_foreach(people, i, p)
	{
		rc = annotate(req, p, zone);
		if (rc != RC_OK)
			break;
	}
	return rc;
}
