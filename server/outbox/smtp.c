/*
 * server/outbox/smtp.c — one e-mail through libcurl's SMTP (contract and the meaning of an
 * unknown outcome in smtp.h).
 */
#include "outbox/smtp.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct upload {
	const char *data;
	size_t len, off;
	bool ended;   /* the last bytes were handed over: curl writes the end next */
	bool aborted; /* on_data refused: the end was never written */
	enum rc (*on_data)(void *ctx);
	void *ctx;
};

static size_t read_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct upload *u = userdata;
	size_t room = size * nmemb, n = u->len - u->off;

	if (n > room)
		n = room;
	/* The chunk that completes the message is the caller's last chance: with the upload's size
	 * known, curl writes the end of DATA right after it, without asking for more. */
	if (!u->ended && u->off + n == u->len) {
		if (u->on_data && u->on_data(u->ctx) != RC_OK) {
			u->aborted = true;
			return CURL_READFUNC_ABORT;
		}
		u->ended = true;
	}
	memcpy(ptr, u->data + u->off, n);
	u->off += n;
	return n;
}

static void classify(CURLcode cc, long code, const struct upload *u, const char *errbuf, struct smtp_result *res)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	res->code = code;
	if (cc == CURLE_OK) {
		res->outcome = SMTP_SENT;
		res->reason = "ok";
		snprintf(res->message, sizeof res->message, "accepted by the SMTP server (%ld)", code);
		return;
	}
	if (u->aborted) {
		res->outcome = SMTP_RETRY;
		res->reason = "local";
		snprintf(res->message, sizeof res->message, "not sent: its progress could not be recorded first");
		return;
	}
	if (u->ended) {
		if (code >= 400) {
			res->outcome = code >= 500 ? SMTP_REFUSED : SMTP_RETRY;
			res->reason = "refused";
			snprintf(res->message, sizeof res->message, "the SMTP server refused the message (%ld): %s",
			         code, detail);
		} else {
			res->outcome = SMTP_UNKNOWN;
			res->reason = "unknown";
			snprintf(res->message, sizeof res->message,
			         "no answer from the SMTP server after the whole message was sent: it may have it (%s)",
			         detail);
		}
		return;
	}
	res->outcome = SMTP_RETRY;
	switch (cc) {
	case CURLE_LOGIN_DENIED:
		res->reason = "auth";
		snprintf(res->message, sizeof res->message,
		         "the SMTP server refused the user name or password (PLANTAO_SMTP_USER, "
		         "PLANTAO_SMTP_PASSWORD): %s",
		         detail);
		return;
	case CURLE_USE_SSL_FAILED:
		res->reason = "tls";
		snprintf(res->message, sizeof res->message,
		         "the SMTP server does not offer STARTTLS, and TLS is required (PLANTAO_SMTP_INSECURE=1 allows "
		         "a "
		         "plain local relay): %s",
		         detail);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		res->reason = "tls";
		snprintf(res->message, sizeof res->message, "TLS with the SMTP server failed: %s", detail);
		return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		res->reason = "connect";
		snprintf(res->message, sizeof res->message, "could not connect to the SMTP server: %s", detail);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		res->reason = "timeout";
		snprintf(res->message, sizeof res->message, "the SMTP server did not answer in time: %s", detail);
		return;
	default: break;
	}
	if (code >= 400) {
		/* MAIL FROM or RCPT TO refused: 5xx for good (no such mailbox), 4xx for now */
		res->outcome = code >= 500 ? SMTP_REFUSED : SMTP_RETRY;
		res->reason = "refused";
		snprintf(res->message, sizeof res->message, "the SMTP server refused the message (%ld): %s", code,
		         detail);
		return;
	}
	res->reason = "network";
	snprintf(res->message, sizeof res->message, "the connection to the SMTP server failed: %s", detail);
}

enum rc smtp_send(const struct cfg *c, const char *to, const char *message, enum rc (*on_data)(void *ctx), void *ctx,
                  struct smtp_result *res)
{
	char errbuf[CURL_ERROR_SIZE] = "", from[300], rcpt[300];
	struct upload u = {message, strlen(message), 0, false, false, on_data, ctx};
	struct curl_slist *rcpts = NULL;
	CURL *h = curl_easy_init();
	CURLcode cc;
	long code = 0;

	memset(res, 0, sizeof *res);
	if (!h)
		return RC_INTERNAL;
	snprintf(from, sizeof from, "<%s>", c->smtp_from);
	snprintf(rcpt, sizeof rcpt, "<%s>", to);
	rcpts = curl_slist_append(NULL, rcpt);
	if (!rcpts) {
		curl_easy_cleanup(h);
		return RC_INTERNAL;
	}
	curl_easy_setopt(h, CURLOPT_URL, c->smtp_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_USE_SSL, c->smtp_insecure ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
	if (c->smtp_ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->smtp_ca_file);
	if (c->smtp_user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->smtp_password);
	}
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)SMTP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	classify(cc, code, &u, errbuf, res);
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(h);
	return RC_OK;
}
