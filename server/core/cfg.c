/*
 * server/core/cfg.c — configuration from the environment and .env.
 * Validation happens here, once: a bad value stops start-up with a message naming the
 * variable, so nothing later has to re-check it.
 */
#include "core/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/phone.h"
#include "core/log.h"
#include "rotation/tz.h"

#define DOTENV_MAX_LINE 4096

static char *dup_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	if (!v || !*v)
		v = def;
	return v ? strdup(v) : NULL;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	size_t i = 0;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

enum rc cfg_read_dotenv(const char *path, char *err, size_t errlen)
{
	char line[DOTENV_MAX_LINE];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (!f)
		return RC_OK; /* optional */
	while (fgets(line, sizeof line, f)) {
		char *eq, *key, *val;
		size_t vlen;

		lineno++;
		trim(line);
		if (!line[0] || line[0] == '#')
			continue;
		key = line;
		if (strncmp(key, "export ", 7) == 0)
			key += 7;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected KEY=VALUE", path, lineno);
			fclose(f);
			return RC_INVALID;
		}
		*eq = '\0';
		val = eq + 1;
		trim(key);
		trim(val);
		vlen = strlen(val);
		if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
			val[vlen - 1] = '\0';
			val++;
		}
		setenv(key, val, 0); /* the real environment wins */
	}
	fclose(f);
	return RC_OK;
}

bool cfg_is_e164(const char *s)
{
	size_t n;

	if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (n = 1; s[n]; n++)
		if (!isdigit((unsigned char)s[n]))
			return false;
	return n - 1 >= 8 && n - 1 <= 15;
}

bool cfg_has_twilio(const struct cfg *c)
{
	return c->twilio_sid && c->twilio_token && c->twilio_from;
}

static bool is_url(const char *s)
{
	const char *host;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return false;
	if (!*host || *host == '/' || *host == ':')
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || (unsigned char)*s < 0x20)
			return false;
	return true;
}

static void strip_slash(char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n && s[n - 1] == '/')
		s[--n] = '\0';
}

static enum rc get_int(const char *name, int def, int min, int max, int *out, char *err, size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	long n;

	*out = def;
	if (!v || !*v)
		return RC_OK;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < min || n > max) {
		snprintf(err, errlen, "%s: expected a whole number from %d to %d, got '%s'", name, min, max, v);
		return RC_INVALID;
	}
	*out = (int)n;
	return RC_OK;
}

static enum rc get_double(const char *name, double def, double min, double max, double *out, char *err, size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	double d;

	*out = def;
	if (!v || !*v)
		return RC_OK;
	errno = 0;
	d = strtod(v, &end);
	if (errno || *end || !(d >= min && d <= max)) {
		snprintf(err, errlen, "%s: expected a number from %g to %g, got '%s'", name, min, max, v);
		return RC_INVALID;
	}
	*out = d;
	return RC_OK;
}

static enum rc get_bool(const char *name, bool def, bool *out, char *err, size_t errlen)
{
	const char *v = getenv(name);

	*out = def;
	if (!v || !*v)
		return RC_OK;
	if (!strcmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "0") || !strcasecmp(v, "off") || !strcasecmp(v, "false") || !strcasecmp(v, "no"))
		*out = false;
	else {
		snprintf(err, errlen, "%s: expected on or off, got '%s'", name, v);
		return RC_INVALID;
	}
	return RC_OK;
}

static enum rc parse_listen(struct cfg *c, char *err, size_t errlen)
{
	const char *v = getenv("PLANTAO_LISTEN");
	const char *colon;
	char *end;
	long port;
	size_t hlen;

	if (!v || !*v)
		v = "127.0.0.1:8080";
	colon = strrchr(v, ':');
	if (!colon)
		goto bad;
	hlen = (size_t)(colon - v);
	if (hlen == 0 || hlen >= sizeof c->listen_host)
		goto bad;
	memcpy(c->listen_host, v, hlen);
	c->listen_host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535)
		goto bad;
	c->listen_port = (int)port;
	return RC_OK;
bad:
	snprintf(err, errlen, "PLANTAO_LISTEN: expected address:port (e.g. 127.0.0.1:8080), got '%s'", v);
	return RC_INVALID;
}

/* ---- e-mail (PLANTAO_SMTP_*) ---- */

/* True for local@domain with printable ASCII and no spaces, brackets or quotes. */
static bool is_mail_address(const char *s)
{
	const char *at = strchr(s, '@');
	const char *p;

	if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254)
		return false;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 || strchr("<>()[],;:\\\"", *p))
			return false;
	return strchr(at + 1, '.') != NULL || !strcmp(at + 1, "localhost");
}

static enum rc load_smtp(struct cfg *c, char *err, size_t errlen)
{
	const char *host;
	enum rc rc;

	c->smtp_url = dup_env("PLANTAO_SMTP_URL", NULL);
	c->smtp_user = dup_env("PLANTAO_SMTP_USER", NULL);
	c->smtp_password = dup_env("PLANTAO_SMTP_PASSWORD", NULL);
	c->smtp_from = dup_env("PLANTAO_SMTP_FROM", NULL);
	c->smtp_ca_file = dup_env("PLANTAO_SMTP_CA_FILE", NULL);
	rc = get_int("PLANTAO_SMTP_INSECURE", 0, 0, 1, &c->smtp_insecure, err, errlen);
	if (rc != RC_OK)
		return rc;
	if (!c->smtp_url) {
		if (c->smtp_from || c->smtp_user || c->smtp_password) {
			snprintf(err, errlen,
			         "PLANTAO_SMTP_URL: required with PLANTAO_SMTP_FROM, _USER or _PASSWORD "
			         "(smtp://host:587 or smtps://host:465)");
			return RC_INVALID;
		}
		return RC_OK;
	}
	if (!strncmp(c->smtp_url, "smtp://", 7))
		host = c->smtp_url + 7;
	else if (!strncmp(c->smtp_url, "smtps://", 8))
		host = c->smtp_url + 8;
	else {
		snprintf(err, errlen,
		         "PLANTAO_SMTP_URL: expected smtp://host:587 (STARTTLS) or smtps://host:465, got "
		         "'%.80s'",
		         c->smtp_url);
		return RC_INVALID;
	}
	if (!*host || *host == '/' || *host == ':') {
		snprintf(err, errlen, "PLANTAO_SMTP_URL: no host in '%.80s'", c->smtp_url);
		return RC_INVALID;
	}
	if (strchr(c->smtp_url, '@')) {
		/* the URL is logged; the password must not be in it */
		snprintf(err, errlen,
		         "PLANTAO_SMTP_URL: put the user name and password in PLANTAO_SMTP_USER and "
		         "PLANTAO_SMTP_PASSWORD, not in the URL");
		return RC_INVALID;
	}
	if (!c->smtp_from || !is_mail_address(c->smtp_from)) {
		snprintf(err, errlen,
		         "PLANTAO_SMTP_FROM: required with PLANTAO_SMTP_URL, an address such as "
		         "plantao@example.com, got '%.80s'",
		         c->smtp_from ? c->smtp_from : "");
		return RC_INVALID;
	}
	if (!c->smtp_user != !c->smtp_password) {
		snprintf(err, errlen, "PLANTAO_SMTP_USER and PLANTAO_SMTP_PASSWORD: set both or neither");
		return RC_INVALID;
	}
	return RC_OK;
}

static void release_smtp(struct cfg *c)
{
	char **fields[] = {&c->smtp_url, &c->smtp_user, &c->smtp_password, &c->smtp_from, &c->smtp_ca_file};
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

bool cfg_has_smtp(const struct cfg *c)
{
	return c->smtp_url && c->smtp_from;
}

enum rc cfg_load(struct cfg *c, char *err, size_t errlen)
{
	enum rc rc;
	const char *lv;
	bool public_url_set;

	memset(c, 0, sizeof *c);
	rc = cfg_read_dotenv(".env", err, errlen);
	if (rc != RC_OK)
		return rc;
	rc = parse_listen(c, err, errlen);
	if (rc != RC_OK)
		return rc;
	public_url_set = getenv("PLANTAO_PUBLIC_URL") && *getenv("PLANTAO_PUBLIC_URL");
	c->db_path = dup_env("PLANTAO_DB", "./plantao.db");
	c->public_url = dup_env("PLANTAO_PUBLIC_URL", "http://127.0.0.1:8080");
	c->api_token = dup_env("PLANTAO_API_TOKEN", NULL);
	c->tz = dup_env("PLANTAO_TZ", "America/Sao_Paulo");
	c->lang = dup_env("PLANTAO_LANG", "pt-BR");
	c->twilio_sid = dup_env("TWILIO_ACCOUNT_SID", NULL);
	c->twilio_token = dup_env("TWILIO_AUTH_TOKEN", NULL);
	c->twilio_from = dup_env("TWILIO_FROM", NULL);
	c->whatsapp_from = dup_env("TWILIO_WHATSAPP_FROM", NULL);
	c->whatsapp_template_sid = dup_env("TWILIO_WHATSAPP_TEMPLATE_SID", NULL);
	c->twilio_api_base = dup_env("TWILIO_API_BASE", "https://api.twilio.com");
	c->imap_url = dup_env("PLANTAO_IMAP_URL", NULL);
	c->imap_user = dup_env("PLANTAO_IMAP_USER", NULL);
	c->imap_password = dup_env("PLANTAO_IMAP_PASSWORD", NULL);
	c->imap_from = dup_env("PLANTAO_IMAP_FROM", NULL);
	c->imap_subject = dup_env("PLANTAO_IMAP_SUBJECT", NULL);
	c->imap_ca_file = dup_env("PLANTAO_IMAP_CA_FILE", NULL);
	c->clock_file = dup_env("PLANTAO_CLOCK_FILE", NULL);
	c->static_dir = dup_env("PLANTAO_STATIC_DIR", NULL);
	c->tls_cert = dup_env("PLANTAO_TLS_CERT", NULL);
	c->tls_key = dup_env("PLANTAO_TLS_KEY", NULL);
	if (!c->db_path || !c->public_url || !c->tz || !c->lang || !c->twilio_api_base) {
		snprintf(err, errlen, "out of memory");
		return RC_INTERNAL;
	}
	strip_slash(c->public_url);
	strip_slash(c->twilio_api_base);

	if (!is_url(c->public_url)) {
		snprintf(err, errlen, "PLANTAO_PUBLIC_URL: expected an http:// or https:// URL, got '%s'",
		         c->public_url);
		return RC_INVALID;
	}
	if (!is_url(c->twilio_api_base)) {
		snprintf(err, errlen, "TWILIO_API_BASE: expected an http:// or https:// URL, got '%s'",
		         c->twilio_api_base);
		return RC_INVALID;
	}
	if (!tz_is_valid(c->tz)) {
		snprintf(err, errlen,
		         "PLANTAO_TZ: unknown time zone '%s' (expected an IANA name such as America/Sao_Paulo)", c->tz);
		return RC_INVALID;
	}
	if (strcmp(c->lang, "pt-BR") != 0 && strcmp(c->lang, "en") != 0) {
		snprintf(err, errlen, "PLANTAO_LANG: expected pt-BR or en, got '%s'", c->lang);
		return RC_INVALID;
	}
	if (c->twilio_from && !cfg_is_e164(c->twilio_from)) {
		snprintf(err, errlen, "TWILIO_FROM: expected an E.164 number such as +5511999990000, got '%s'",
		         c->twilio_from);
		return RC_INVALID;
	}
	if (c->whatsapp_from &&
	    (strncmp(c->whatsapp_from, "whatsapp:", 9) != 0 || !cfg_is_e164(c->whatsapp_from + 9))) {
		snprintf(err, errlen, "TWILIO_WHATSAPP_FROM: expected whatsapp:+E164, got '%s'", c->whatsapp_from);
		return RC_INVALID;
	}
	if (c->whatsapp_template_sid &&
	    (strlen(c->whatsapp_template_sid) != 34 || strncmp(c->whatsapp_template_sid, "HX", 2) != 0 ||
	     strspn(c->whatsapp_template_sid + 2, "0123456789abcdefABCDEF") != 32)) {
		snprintf(err, errlen,
		         "TWILIO_WHATSAPP_TEMPLATE_SID: expected a Content SID, HX followed by 32 hexadecimal "
		         "characters, got '%.60s'",
		         c->whatsapp_template_sid);
		return RC_INVALID;
	}
	if (c->twilio_sid && (strncmp(c->twilio_sid, "AC", 2) != 0 || strlen(c->twilio_sid) != 34)) {
		snprintf(err, errlen, "TWILIO_ACCOUNT_SID: expected AC followed by 32 characters");
		return RC_INVALID;
	}
	if ((c->twilio_sid || c->twilio_token) && !public_url_set) {
		snprintf(
		        err, errlen,
		        "PLANTAO_PUBLIC_URL: required with Twilio credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN): "
		        "the https:// address Twilio reaches plantao at; the default %s can never receive its "
		        "callbacks",
		        c->public_url);
		return RC_INVALID;
	}
	if (c->imap_url && strncmp(c->imap_url, "imap://", 7) != 0 && strncmp(c->imap_url, "imaps://", 8) != 0) {
		snprintf(err, errlen, "PLANTAO_IMAP_URL: expected an imap:// or imaps:// URL, got '%s'", c->imap_url);
		return RC_INVALID;
	}
	if (!c->tls_cert != !c->tls_key) {
		snprintf(err, errlen, "PLANTAO_TLS_CERT and PLANTAO_TLS_KEY: set both or neither");
		return RC_INVALID;
	}
	{
		const struct {
			const char *name;
			int def, min, max;
			int *out;
		} ints[] = {
		        {"PLANTAO_IMAP_INTERVAL", 20, 1, 86400, &c->imap_interval},
		        {"PLANTAO_IMAP_INSECURE", 0, 0, 1, &c->imap_insecure},
		        {"PLANTAO_THREADS", 4, 1, 256, &c->threads},
		        {"PLANTAO_MAX_CONNECTIONS", 512, 1, 100000, &c->max_connections},
		        {"PLANTAO_PER_IP_CONNECTIONS", 64, 1, 100000, &c->per_ip_connections},
		        {"PLANTAO_REQUEST_TIMEOUT", 15, 1, 3600, &c->request_timeout},
		        {"PLANTAO_API_RATE", 50, 0, 1000000, &c->api_rate},
		        {"PLANTAO_DIAL_TIMEOUT", 20, 5, 600, &c->dial_timeout},
		        {"PLANTAO_VOICEMAIL_MAX", 120, 5, 3600, &c->voicemail_max},
		        {"PLANTAO_DEST_PER_MINUTE", 1, 0, 10000, &c->dest_per_minute},
		        {"PLANTAO_DEST_PER_15MIN", 5, 0, 100000, &c->dest_per_15min},
		        {"PLANTAO_MAX_TRIES", 8, 1, 1000, &c->max_tries},
		        {"PLANTAO_CALLBACK_GRACE", 30, 0, 3600, &c->callback_grace},
		        {"PLANTAO_HEALTH_PAGE_AGE", 120, 10, 86400, &c->health_page_age},
		};
		size_t i;

		for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
			rc = get_int(ints[i].name, ints[i].def, ints[i].min, ints[i].max, ints[i].out, err, errlen);
			if (rc != RC_OK)
				return rc;
		}
	}
	rc = get_double("PLANTAO_SMS_RATE", 1, 0, 10000, &c->sms_per_second, err, errlen);
	if (rc == RC_OK)
		rc = get_double("PLANTAO_CALL_RATE", 1, 0, 10000, &c->calls_per_second, err, errlen);
	if (rc == RC_OK)
		rc = get_bool("PLANTAO_MACHINE_DETECTION", true, &c->machine_detection, err, errlen);
	if (rc != RC_OK)
		return rc;
	/* sign-in (server/auth/) */
	rc = get_int("PLANTAO_SESSION_DAYS", 30, 1, 3650, &c->session_days, err, errlen);
	if (rc != RC_OK)
		return rc;
	lv = getenv("PLANTAO_COUNTRY");
	snprintf(c->country, sizeof c->country, "%s", lv && *lv ? lv : "BR");
	if (!phone_country_code(c->country) || (lv && *lv && strlen(lv) != 2)) {
		snprintf(err, errlen, "PLANTAO_COUNTRY: expected a two-letter country code such as BR, got '%s'", lv);
		return RC_INVALID;
	}
	rc = get_int("PLANTAO_RETENTION_DAYS", 400, 0, 36500, &c->retention_days, err, errlen);
	if (rc == RC_OK)
		rc = get_int("PLANTAO_RETENTION_BODY_DAYS", 90, 1, 36500, &c->retention_body_days, err, errlen);
	if (rc == RC_OK)
		rc = get_int("PLANTAO_RETENTION_ALERT_DAYS", 1100, 1, 36500, &c->retention_alert_days, err, errlen);
	if (rc != RC_OK)
		return rc;
	c->fallback_url = dup_env("PLANTAO_FALLBACK_URL", NULL);
	if (c->fallback_url && !is_url(c->fallback_url)) {
		snprintf(err, errlen, "PLANTAO_FALLBACK_URL: expected an http:// or https:// URL, got '%s'",
		         c->fallback_url);
		return RC_INVALID;
	}
	lv = getenv("PLANTAO_LOG_LEVEL");
	if (lv && *lv) {
		if (!strcmp(lv, "debug"))
			log_set_level(LOG_LEVEL_DEBUG);
		else if (!strcmp(lv, "info"))
			log_set_level(LOG_LEVEL_INFO);
		else if (!strcmp(lv, "warn"))
			log_set_level(LOG_LEVEL_WARN);
		else if (!strcmp(lv, "error"))
			log_set_level(LOG_LEVEL_ERR);
		else {
			snprintf(err, errlen, "PLANTAO_LOG_LEVEL: expected debug, info, warn or error, got '%s'", lv);
			return RC_INVALID;
		}
	}
	lv = getenv("PLANTAO_LOG_FORMAT");
	if (lv && *lv && strcmp(lv, "text") && strcmp(lv, "json")) {
		snprintf(err, errlen, "PLANTAO_LOG_FORMAT: expected text or json, got '%s'", lv);
		return RC_INVALID;
	}
	log_set_format(lv && !strcmp(lv, "json") ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	/* several instances (server/http/ops.c): on by default on PostgreSQL, where several instances
	 * may share the database and one scrape address; off on SQLite (one instance per file) */
	rc = get_bool("PLANTAO_METRICS_INSTANCE",
	              !strncmp(c->db_path, "postgres://", 11) || !strncmp(c->db_path, "postgresql://", 13),
	              &c->metrics_instance, err, errlen);
	if (rc != RC_OK)
		return rc;
	return load_smtp(c, err, errlen);
}

void cfg_release(struct cfg *c)
{
	char **fields[] = {&c->db_path,       &c->public_url,      &c->api_token,    &c->tz,
	                   &c->lang,          &c->twilio_sid,      &c->twilio_token, &c->twilio_from,
	                   &c->whatsapp_from, &c->twilio_api_base, &c->imap_url,     &c->imap_user,
	                   &c->imap_password, &c->imap_from,       &c->imap_subject, &c->imap_ca_file,
	                   &c->clock_file,    &c->static_dir,      &c->tls_cert,     &c->tls_key};
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
	free(c->whatsapp_template_sid);
	c->whatsapp_template_sid = NULL;
	free(c->fallback_url);
	c->fallback_url = NULL;
	release_smtp(c);
}
