/*
 * server/auth/session.c — sign-in sessions and the cookie that carries them (rules in session.h).
 */
#include "auth/session.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/audit.h"
#include "db/tokens.h"

static int64_t lifetime(const struct app *app)
{
	return (int64_t)app->cfg->session_days * 86400;
}

static enum rc audit(struct db *db, const char *actor, const char *action, int64_t person_id, int64_t session_id)
{
	json_t *detail = json_pack("{s:I}", "session", (json_int_t)session_id);
	enum rc rc = detail ? audit_log(db, actor, action, person_id, detail) : RC_INTERNAL;

	json_decref(detail);
	return rc;
}

enum rc session_end(struct db *db, int64_t id, const char *actor, const char *action)
{
	int64_t person = 0;
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	rc = auth_session_person(db, id, &person);
	if (rc == RC_OK)
		rc = auth_session_end(db, id, 0, clock_now());
	if (rc == RC_OK)
		rc = audit(db, actor, action, person, id);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

enum rc session_start(struct app *app, struct db *db, int64_t person_id, const char *actor, const char *user_agent,
                      char secret[SESSION_SECRET_LEN + 1], int64_t *id)
{
	static const char h[] = "0123456789abcdef";
	unsigned char raw[32];
	char hash[TOKENS_HEX_LEN + 1], ua[200];
	int64_t now = clock_now();
	size_t i;
	enum rc rc;

	secret[0] = '\0';
	*id = 0;
	if (RAND_bytes(raw, sizeof raw) != 1)
		return RC_INTERNAL;
	memcpy(secret, "plts_", 5);
	for (i = 0; i < sizeof raw; i++) {
		secret[5 + 2 * i] = h[raw[i] >> 4];
		secret[5 + 2 * i + 1] = h[raw[i] & 15];
	}
	secret[SESSION_SECRET_LEN] = '\0';
	tokens_hash(secret, hash);
	/* kept for the sessions list only: printable ASCII, capped */
	snprintf(ua, sizeof ua, "%s", user_agent ? user_agent : "");
	for (i = 0; ua[i]; i++)
		if ((unsigned char)ua[i] < 0x20 || (unsigned char)ua[i] >= 0x7F)
			ua[i] = '?';
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = auth_session_insert(db, person_id, hash, now, now + lifetime(app), ua[0] ? ua : NULL, id);
	if (rc == RC_OK)
		rc = audit(db, actor, "auth.signin", person_id, *id);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		secret[0] = '\0';
	}
	return rc;
}

enum rc session_authenticate(struct app *app, struct db *db, const char *secret, struct auth_session *out,
                             bool *refreshed)
{
	char hash[TOKENS_HEX_LEN + 1];
	int64_t now = clock_now();
	enum rc rc;

	*refreshed = false;
	if (!secret || strncmp(secret, "plts_", 5) != 0 || strlen(secret) != SESSION_SECRET_LEN)
		return RC_AUTH;
	tokens_hash(secret, hash);
	rc = auth_session_find(db, hash, out);
	if (rc == RC_NOT_FOUND)
		return RC_AUTH;
	if (rc != RC_OK)
		return rc;
	if (out->expires_at <= now || !out->role[0])
		return RC_AUTH;
	if (now - out->last_seen_at >= SESSION_TOUCH_S) {
		/* best effort: a busy database must not refuse a valid session */
		if (auth_session_touch(db, out->id, now, now + lifetime(app)) == RC_OK) {
			out->last_seen_at = now;
			out->expires_at = now + lifetime(app);
			*refreshed = true;
		}
	}
	return RC_OK;
}

void session_set_cookie(const struct app *app, const char *secret, char out[SESSION_HEADER_MAX])
{
	bool https = strncasecmp(app->cfg->public_url, "https://", 8) == 0;

	snprintf(out, SESSION_HEADER_MAX, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", SESSION_COOKIE,
	         secret ? secret : "", secret ? (long long)lifetime(app) : 0LL, https ? "; Secure" : "");
}

void session_actor(const struct auth_session *s, char *out, size_t len)
{
	size_t n;

	snprintf(out, len, "person:%lld %s", (long long)s->person_id, s->name);
	n = strlen(out);
	if (n + 1 == len) /* possibly cut: drop a partial UTF-8 sequence at the end */
		while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
			out[--n] = '\0';
	if (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0xC0)
		out[--n] = '\0';
}

bool session_actor_person(const char *actor, int64_t *person_id)
{
	char *end;
	long long v;

	*person_id = 0;
	if (!actor || strncmp(actor, "person:", 7) != 0 || !isdigit((unsigned char)actor[7]))
		return false;
	v = strtoll(actor + 7, &end, 10);
	if (v <= 0 || (*end != ' ' && *end != '\0'))
		return false;
	*person_id = v;
	return true;
}

bool session_csrf_ok(const char *public_url, const char *method, const char *origin, const char *csrf)
{
	const char *host, *slash;
	size_t n;

	if (!strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS"))
		return true;
	if (csrf && !strcmp(csrf, "1"))
		return true;
	if (!origin || !public_url)
		return false;
	host = strstr(public_url, "://");
	if (!host)
		return false;
	slash = strchr(host + 3, '/');
	n = slash ? (size_t)(slash - public_url) : strlen(public_url);
	return strlen(origin) == n && strncasecmp(origin, public_url, n) == 0;
}

bool session_cookie_value(const char *cookie_header, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	const char *p = cookie_header;

	if (len)
		out[0] = '\0';
	while (p && *p) {
		const char *end;

		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			size_t vl = (size_t)(end - p) - nl - 1;

			if (vl + 1 > len)
				return false;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			while (vl && out[vl - 1] == ' ')
				out[--vl] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}
