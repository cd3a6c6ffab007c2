/*
 * server/auth/otp.c — one-time codes: drawing, hashing, sealing the spoken digits, limits,
 * attempts and the outbox rows that carry them (rules in otp.h).
 *
 * Asking for a code does the same work whether the phone is a person's or nobody's, up to
 * writing the outbox row, which is then rolled back (to a savepoint) for nobody.
 *
 * Why the voice digits are sealed and not stored: a code must never be readable from the
 * database file. A voice call's TwiML is fetched by Twilio minutes after the code was drawn,
 * so its digits are kept added (mod 10) to a keystream of HMAC-SHA256(TWILIO_AUTH_TOKEN,
 * salt): the database alone gives neither the code nor the keystream.
 */
#include "auth/otp.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/outbox.h"

#define SALT_BYTES 16

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = h[in[i] >> 4];
		out[2 * i + 1] = h[in[i] & 15];
	}
	out[2 * n] = '\0';
}

const char *otp_purpose_name(enum otp_purpose p)
{
	return p == OTP_VERIFY ? "verify" : "signin";
}

bool otp_channel_parse(const char *s, enum otp_channel *out)
{
	if (s && !strcmp(s, "sms")) {
		*out = OTP_SMS;
		return true;
	}
	if (s && !strcmp(s, "voice")) {
		*out = OTP_VOICE;
		return true;
	}
	return false;
}

/* Six uniform digits: 32-bit draws below the largest multiple of 10^6 (rejection sampling). */
static enum rc draw(char code[OTP_DIGITS + 1])
{
	const uint32_t limit = 4294000000u; /* 4294 * 10^6 <= 2^32 */
	uint32_t v;

	do {
		if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
			return RC_INTERNAL;
	} while (v >= limit);
	snprintf(code, OTP_DIGITS + 1, "%06u", (unsigned)(v % 1000000u));
	return RC_OK;
}

static void code_hash(const char *salt, const char *purpose, const char *destination, const char *code,
                      char out[AUTH_HEX_MAX])
{
	char msg[256];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int len = snprintf(msg, sizeof msg, "%s:%s:%s:%s", salt, purpose, destination, code);

	EVP_Digest(msg, (size_t)(len > 0 ? len : 0), md, &n, EVP_sha256(), NULL);
	hex(md, n, out);
}

/* The keystream digits of salt (see the top of this file). */
static void keystream(const struct app *app, const char *salt, int ks[OTP_DIGITS])
{
	const char *key = app->cfg->twilio_token ? app->cfg->twilio_token : "";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char msg[96];
	int len = snprintf(msg, sizeof msg, "plantao-otp-voice:%s", salt), i;

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, (size_t)(len > 0 ? len : 0), md, &n);
	for (i = 0; i < OTP_DIGITS; i++)
		ks[i] = md[i] % 10;
}

static void seal(const struct app *app, const char *salt, const char *code, char *out)
{
	int ks[OTP_DIGITS], i;

	keystream(app, salt, ks);
	for (i = 0; i < OTP_DIGITS; i++)
		out[i] = (char)('0' + (code[i] - '0' + ks[i]) % 10);
	out[OTP_DIGITS] = '\0';
}

enum rc otp_spoken_digits(struct app *app, const struct auth_otp *o, char digits[OTP_DIGITS + 1])
{
	int ks[OTP_DIGITS], i;

	digits[0] = '\0';
	if (strlen(o->sealed) != OTP_DIGITS)
		return RC_NOT_FOUND;
	keystream(app, o->salt, ks);
	for (i = 0; i < OTP_DIGITS; i++)
		digits[i] = (char)('0' + (o->sealed[i] - '0' + 10 - ks[i]) % 10);
	digits[OTP_DIGITS] = '\0';
	return RC_OK;
}

bool otp_looks_like_code(const char *text, char code[OTP_DIGITS + 1])
{
	size_t n = 0;

	code[0] = '\0';
	if (!text)
		return false;
	while (isspace((unsigned char)*text))
		text++;
	while (isdigit((unsigned char)*text)) {
		if (n == OTP_DIGITS)
			return false;
		code[n++] = *text++;
	}
	while (isspace((unsigned char)*text))
		text++;
	if (*text || n != OTP_DIGITS)
		return false;
	code[n] = '\0';
	return true;
}

/* The outbox row that carries code id to destination. */
static enum rc enqueue(struct app *app, struct db *db, int64_t id, const char *destination, enum otp_channel channel,
                       const char *code)
{
	struct outbox_msg m = {0};
	char key[64], body[200], url[1024];

	m.class_ = "otp";
	m.priority = OUTBOX_PRIO_ALERT; /* a sign-in code must not wait behind notices */
	m.to = destination;
	m.owner_type = "otp";
	m.owner_id = id;
	m.idem_key = key;
	if (channel == OTP_VOICE) {
		snprintf(key, sizeof key, "otp:%lld:call", (long long)id);
		snprintf(url, sizeof url, "%s/twilio/otp-call/%lld", app->cfg->public_url, (long long)id);
		m.kind = OUTBOX_CALL;
		m.url = url;
		m.machine_detection = false;
	} else {
		snprintf(key, sizeof key, "otp:%lld:sms", (long long)id);
		snprintf(body, sizeof body,
		         app_lang_en(app) ? "plantao: your code is %s. It is valid for 10 minutes; do not share it."
		                          : "plantao: seu código é %s. Vale por 10 minutos; não o compartilhe.",
		         code);
		m.kind = OUTBOX_SMS;
		m.body = body;
	}
	return outbox_enqueue(db, &m, NULL);
}

enum rc otp_request(struct app *app, struct db *db, enum otp_purpose purpose, const char *destination,
                    int64_t person_id, enum otp_channel channel, enum otp_outcome *outcome, int64_t *retry_after)
{
	struct auth_otp o;
	unsigned char salt[SALT_BYTES];
	char code[OTP_DIGITS + 1];
	int64_t now = clock_now(), n_minute, n_hour, locked, id = 0, wait = 0;
	enum rc rc;

	*outcome = OTP_NOBODY;
	if (retry_after)
		*retry_after = 0;
	memset(&o, 0, sizeof o);
	/* Drawn before the transaction, whoever asks: the same work for everyone. */
	if (draw(code) != RC_OK || RAND_bytes(salt, sizeof salt) != 1)
		return RC_INTERNAL;
	hex(salt, sizeof salt, o.salt);
	snprintf(o.destination, sizeof o.destination, "%s", destination);
	snprintf(o.purpose, sizeof o.purpose, "%s", otp_purpose_name(purpose));
	snprintf(o.channel, sizeof o.channel, "%s", channel == OTP_VOICE ? "voice" : "sms");
	o.person_id = person_id;
	code_hash(o.salt, o.purpose, destination, code, o.hash);
	if (channel == OTP_VOICE)
		seal(app, o.salt, code, o.sealed);
	o.created_at = now;
	o.expires_at = now + OTP_TTL_S;

	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = auth_otp_recent(db, destination, now - 59, now - 3599, now, &n_minute, &n_hour, &locked);
	if (rc != RC_OK)
		goto out;
	if (locked > now) {
		*outcome = OTP_LOCKED;
		wait = locked - now;
		goto out;
	}
	if (n_minute >= OTP_PER_MINUTE || n_hour >= OTP_PER_HOUR) {
		*outcome = OTP_LIMITED;
		wait = n_minute >= OTP_PER_MINUTE ? 60 : 3600;
		goto out;
	}
	rc = auth_otp_replace(db, destination, o.purpose, now);
	if (rc == RC_OK)
		rc = auth_otp_insert(db, &o, &id);
	/* The outbox row is written for everyone and kept only for a person: a phone that is
	 * nobody's costs the same statements (no account discovery by timing). */
	if (rc == RC_OK)
		rc = db_exec(db, "SAVEPOINT otp_send");
	if (rc == RC_OK)
		rc = enqueue(app, db, id, destination, channel, code);
	if (rc == RC_OK)
		rc = db_exec(db, person_id ? "RELEASE otp_send" : "ROLLBACK TO otp_send");
	if (rc != RC_OK)
		goto out;
	rc = db_commit(db);
	if (rc == RC_OK)
		*outcome = person_id ? OTP_SENT : OTP_NOBODY;
out:
	if (rc != RC_OK || *outcome == OTP_LOCKED || *outcome == OTP_LIMITED)
		db_rollback(db);
	OPENSSL_cleanse(code, sizeof code);
	if (retry_after)
		*retry_after = wait;
	if (rc == RC_OK && (*outcome == OTP_LOCKED || *outcome == OTP_LIMITED))
		log_info("one-time code for %s (%s) not issued: %s", destination, o.purpose,
		         *outcome == OTP_LOCKED ? "locked after wrong tries" : "rate limited");
	return rc;
}

enum rc otp_check(struct db *db, enum otp_purpose purpose, const char *destination, const char *code,
                  int64_t *person_id, int64_t *retry_after)
{
	struct auth_otp o;
	char h[AUTH_HEX_MAX];
	int64_t now = clock_now();
	bool right;
	enum rc rc;

	*person_id = 0;
	*retry_after = 0;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = auth_otp_live(db, destination, otp_purpose_name(purpose), &o);
	if (rc == RC_NOT_FOUND) {
		rc = RC_AUTH;
		goto out;
	}
	if (rc != RC_OK)
		goto out;
	if (o.locked_until > now) {
		*retry_after = o.locked_until - now;
		rc = RC_RATE;
		goto out;
	}
	if (o.expires_at <= now) {
		rc = RC_AUTH;
		goto out;
	}
	code_hash(o.salt, o.purpose, destination, code ? code : "", h);
	right = CRYPTO_memcmp(h, o.hash, strlen(o.hash)) == 0 && strlen(h) == strlen(o.hash) && o.person_id;
	if (!right) {
		/* the last allowed wrong try locks the destination for what is left of the code's life */
		bool lock = o.attempts + 1 >= OTP_MAX_ATTEMPTS;

		rc = auth_otp_wrong(db, o.id, lock ? o.expires_at : 0);
		if (rc == RC_OK)
			rc = db_commit(db);
		if (rc == RC_OK) {
			rc = RC_AUTH;
			if (lock)
				log_warn("one-time codes for %s locked until %s after %d wrong tries", destination,
				         LOG_TIME(o.expires_at), OTP_MAX_ATTEMPTS);
		}
		goto out;
	}
	rc = auth_otp_use(db, o.id, now);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc == RC_OK)
		*person_id = o.person_id;
out:
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}
