/*
 * server/core/cfg.h — plantao's configuration: environment variables, optionally from a .env file
 * in the working directory (the real environment wins). Parsed once at start-up into a
 * struct cfg that is read-only afterwards (DESIGN.md, "Configuration").
 */
#ifndef PLANTAO_CFG_H
#define PLANTAO_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rc.h"

struct cfg {
	/* PLANTAO_LISTEN */
	char listen_host[64];
	int listen_port;
	char *db_path;         /* PLANTAO_DB */
	char *public_url;      /* PLANTAO_PUBLIC_URL, no trailing slash */
	char *api_token;       /* PLANTAO_API_TOKEN, bootstrap admin; NULL if unset */
	char *tz;              /* PLANTAO_TZ */
	char *lang;            /* PLANTAO_LANG: "pt-BR" or "en" */
	char *twilio_sid;      /* TWILIO_ACCOUNT_SID, NULL if unset */
	char *twilio_token;    /* TWILIO_AUTH_TOKEN, NULL if unset */
	char *twilio_from;     /* TWILIO_FROM */
	char *whatsapp_from;   /* TWILIO_WHATSAPP_FROM ("whatsapp:+E164") */
	char *twilio_api_base; /* TWILIO_API_BASE, no trailing slash */
	char *imap_url, *imap_user, *imap_password, *imap_from, *imap_subject; /* PLANTAO_IMAP_* */
	int imap_interval;        /* PLANTAO_IMAP_INTERVAL seconds, default 20 */
	int imap_insecure;        /* PLANTAO_IMAP_INSECURE=1: allow a password over a connection without TLS */
	char *imap_ca_file;       /* PLANTAO_IMAP_CA_FILE: PEM bundle to verify the IMAP server with */
	char *clock_file;         /* PLANTAO_CLOCK_FILE: test clock offset (see server/core/clock.h) */
	char *static_dir;         /* PLANTAO_STATIC_DIR: serve the console from disk instead of the binary */
	char *tls_cert, *tls_key; /* PLANTAO_TLS_CERT / PLANTAO_TLS_KEY: PEM files, HTTPS when both set */

	/* Tuning (PLANTAO_* names in cfg.c); all have defaults. */
	int threads;             /* PLANTAO_THREADS: HTTP worker threads, default 4 */
	int max_connections;     /* PLANTAO_MAX_CONNECTIONS, default 512 */
	int per_ip_connections;  /* PLANTAO_PER_IP_CONNECTIONS, default 64 */
	int request_timeout;     /* PLANTAO_REQUEST_TIMEOUT seconds, default 15 */
	int api_rate;            /* PLANTAO_API_RATE requests per second per client address, default 50 */
	int dial_timeout;        /* PLANTAO_DIAL_TIMEOUT seconds of ringing on the support line, default 20 */
	int voicemail_max;       /* PLANTAO_VOICEMAIL_MAX seconds, default 120 */
	double sms_per_second;   /* PLANTAO_SMS_RATE per sender, default 1 */
	double calls_per_second; /* PLANTAO_CALL_RATE per sender, default 1 */
	int dest_per_minute;     /* PLANTAO_DEST_PER_MINUTE alert texts+calls to one phone, default 1 */
	int dest_per_15min;      /* PLANTAO_DEST_PER_15MIN, default 5 */
	int max_tries;           /* PLANTAO_MAX_TRIES before dead letter, default 8 */
	int callback_grace;      /* PLANTAO_CALLBACK_GRACE seconds past a step timeout, default 30 */
	bool machine_detection;  /* PLANTAO_MACHINE_DETECTION on|off, default on */
	int health_page_age;     /* PLANTAO_HEALTH_PAGE_AGE: seconds a page may wait before /healthz fails, 120 */
	/* Sign-in (server/auth/): PLANTAO_SESSION_DAYS (default 30, sliding) and PLANTAO_COUNTRY (ISO
	 * 3166 alpha-2, default BR: the country of phone numbers typed without "+"). */
	int session_days;
	char country[3];

	/* TWILIO_WHATSAPP_TEMPLATE_SID: approved Content template ("HX" + 32 hex) WhatsApp messages
	 * go with to people outside the 24-hour window; NULL: free-form only (warned at start-up) */
	char *whatsapp_template_sid;

	/* PLANTAO_FALLBACK_URL: where the support line's fallback TwiML is published on a static host
	 * (server/twilio/fallback.h); NULL: plantao's own /twilio/fallback.xml */
	char *fallback_url;

	/* E-mail channel (server/outbox/smtp.c): PLANTAO_SMTP_URL (smtp://host[:port], STARTTLS required
	 * unless PLANTAO_SMTP_INSECURE=1, or smtps://host[:port]; NULL: no e-mail), PLANTAO_SMTP_USER,
	 * PLANTAO_SMTP_PASSWORD (never logged), PLANTAO_SMTP_FROM (the sender address, required with a
	 * URL), PLANTAO_SMTP_CA_FILE (PEM bundle to verify the server with; default: the system's). */
	char *smtp_url, *smtp_user, *smtp_password, *smtp_from, *smtp_ca_file;
	int smtp_insecure;

	/* PLANTAO_METRICS_INSTANCE=1: every /metrics series carries instance="<this instance's id>"
	 * (several instances behind one scrape address). Default: on when PLANTAO_DB is PostgreSQL
	 * (several instances may share it), off on SQLite (one instance; Prometheus labels each
	 * target with its own instance label) */
	bool metrics_instance;

	/* Retention (server/core/retention.h): PLANTAO_RETENTION_DAYS (default 400; 0 keeps
	 * everything), PLANTAO_RETENTION_BODY_DAYS (texts blanked, default 90, at most the former),
	 * PLANTAO_RETENTION_ALERT_DAYS (alerts and the audit of schedule changes, default 1100, at
	 * least the former). */
	int retention_days, retention_body_days, retention_alert_days;
};

/*
 * Loads .env (if present in the working directory) then the environment into c.
 * On a malformed value returns RC_INVALID with a one-line message naming the variable in err.
 * Twilio credentials (TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN) without PLANTAO_PUBLIC_URL are
 * refused the same way: Twilio could never reach the default http://127.0.0.1:8080 with its
 * callbacks and call URLs, and the signatures of its webhooks would never match.
 * Release with cfg_release().
 */
enum rc cfg_load(struct cfg *c, char *err, size_t errlen);
void cfg_release(struct cfg *c);

/* Reads KEY=VALUE lines of path into the environment without overriding what is set. */
enum rc cfg_read_dotenv(const char *path, char *err, size_t errlen);

/* True for "+" followed by 8 to 15 digits, the first not 0 (E.164). */
bool cfg_is_e164(const char *s);

/* Twilio is usable: account SID, auth token and sender are all set. */
bool cfg_has_twilio(const struct cfg *c);

/* E-mail is configured: PLANTAO_SMTP_URL and PLANTAO_SMTP_FROM are set. */
bool cfg_has_smtp(const struct cfg *c);

#endif
