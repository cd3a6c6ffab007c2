/*
 * server/outbox/smtp.h — one e-mail handed to the SMTP server with libcurl (RFC 5321): TLS is
 * required (smtps://, or smtp:// with STARTTLS, CURLUSESSL_ALL) unless PLANTAO_SMTP_INSECURE=1
 * (then STARTTLS when offered), AUTH with PLANTAO_SMTP_USER/PASSWORD when set, MAIL FROM
 * PLANTAO_SMTP_FROM, one RCPT, DATA. Blocking, with connect and transfer timeouts: called by the
 * mailer thread (server/outbox/mailer.c) only, never on the engine or an HTTP worker.
 *
 * What "unknown" means for SMTP: the server takes responsibility for a message when it answers
 * 250 to the end of its DATA (the CRLF . CRLF that curl writes after the last byte the read
 * callback gives). Any failure before that end was written (no connection, STARTTLS or AUTH
 * refused, MAIL or RCPT refused, a connection lost during the upload) leaves nothing at the
 * server: sending again is safe. A refusal answered to the end (4xx/5xx) is known too. A
 * connection lost or timed out after the end was handed over, with no answer read, is unknown:
 * the server may have the message. The caller is told, just before the end is written
 * (on_data), so it can commit that fact first (db/mail.h mail_mark_data).
 */
#ifndef PLANTAO_SMTP_H
#define PLANTAO_SMTP_H

#include "core/cfg.h"
#include "core/rc.h"

#define SMTP_CONNECT_TIMEOUT_S 10
#define SMTP_TIMEOUT_S         60 /* a whole transfer */

enum smtp_outcome {
	SMTP_SENT,    /* 250 to the end of DATA */
	SMTP_RETRY,   /* nothing reached the server, or a 4xx: try again later */
	SMTP_REFUSED, /* a 5xx to MAIL, RCPT or DATA: never going to be taken */
	SMTP_UNKNOWN, /* the end was handed over and no answer came: the server may have it */
};

struct smtp_result {
	enum smtp_outcome outcome;
	long code;          /* the server's last reply code, 0: none */
	const char *reason; /* for logs and metrics: "auth", "tls", "connect", "timeout", "refused",
	                     * "network", "unknown", "ok" */
	char message[256];  /* in words, curl's error buffer included; no password */
};

/*
 * Sends message (a whole RFC 5322 message, CRLF line ends) to address to with c's PLANTAO_SMTP_*
 * settings; on_data(ctx) is called once, just before the message's end is written: a result
 * other than RC_OK aborts the transfer (SMTP_RETRY, nothing was taken). RC_OK with *res filled
 * whatever the outcome; RC_INTERNAL when curl cannot even be set up.
 */
enum rc smtp_send(const struct cfg *c, const char *to, const char *message, enum rc (*on_data)(void *ctx), void *ctx,
                  struct smtp_result *res);

#endif
