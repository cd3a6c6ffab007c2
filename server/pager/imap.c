/*
 * server/pager/imap.c — alert e-mail over IMAP (RFC 3501) with libcurl: the "imap" engine job.
 *
 * Every PLANTAO_IMAP_INTERVAL seconds (by the engine's clock) one poll:
 *   1. UID SEARCH UNSEEN FROM "<PLANTAO_IMAP_FROM>" SUBJECT "<PLANTAO_IMAP_SUBJECT>" in the
 *      mailbox of PLANTAO_IMAP_URL (INBOX when the URL names none);
 *   2. for each UID, oldest first: UID FETCH uid (RFC822.SIZE BODY.PEEK[]<offset.IMAP_CHUNK>)
 *      until the mail or IMAP_MAX_MAIL is read — PEEK, so reading does not set \Seen — decode
 *      it (server/pager/mime.c) and create the alert with
 *      alerts_trigger(): summary = the subject, details = the text body, dedup key =
 *      "mail:" + Message-ID (or "mail:sha256:" + a hash of the mail when it has none);
 *   3. only after alerts_trigger() committed: UID STORE uid +FLAGS.SILENT (\Seen).
 * Why this order is safe: the mailbox's \Seen flag is our only record of what was read. If
 * plantao dies (or the STORE fails) between 2 and 3 the mail is still unseen, so the next poll
 * reads it again — and because the alert carries the mail's dedup key, that second trigger is
 * folded into the alert still open from the first (its hit count goes up; nobody is paged
 * twice). Marking first and alerting second could lose an alert; this way at worst a hit is
 * counted twice. (If the alert was already resolved in between, the mail opens a new one.)
 *
 * libcurl: one CURL handle, kept between polls so the IMAP connection and its selected mailbox
 * are reused; rebuilt after any error, because a failed IMAP exchange may leave the
 * connection out of step. SEARCH, FETCH and STORE go through CURLOPT_CUSTOMREQUEST. libcurl
 * (7.88) hands a custom command's untagged responses to the write callback but only its first
 * line when a literal follows, so the FETCH literal is read from the response lines libcurl
 * passes to the header callback (the workaround its maintainers point to, curl issue #536).
 * Should that stream end before the literal does (a line in the mail mimicking the command's
 * tag, or a line longer than libcurl's buffer), the mail is fetched again with libcurl's own
 * URL fetch ("/;UID=n"), which frames literals properly but uses BODY[] and so sets \Seen at
 * once: that rare path gives up the crash-safety above for that one mail.
 * TLS: required before the password is sent — imaps://, or imap:// with a STARTTLS that
 * succeeded (CURLUSESSL_ALL) — unless PLANTAO_IMAP_INSECURE=1; certificates are verified
 * (PLANTAO_IMAP_CA_FILE for a private CA).
 * Health: each failed exchange and the poll that ends a streak are written to poller_status
 * (db/health.h), which /healthz turns into its "imap" component: a refused login or TLS that
 * cannot be had fails it at once, a server that does not answer after a few polls.
 * Time: connect timeout 5 s, whole transfer 15 s, and a poll stops taking new mails after
 * IMAP_POLL_BUDGET_MS, so the engine thread is never held for long. Trouble (server down, bad
 * password, alert not created) is logged once when it starts, then at debug level, and once
 * more when it clears.
 */
#include "pager/imap.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "pager/alerts.h"
#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/health.h"
#include "http/metrics.h"
#include "monitors/ping.h"
#include "pager/mime.h"

#define IMAP_CONNECT_TIMEOUT_S 5L
#define IMAP_TIMEOUT_S         15L
#define IMAP_POLL_BUDGET_MS    10000
/* The protocol lines around one fetched mail: greeting, capabilities, SELECT answers. */
#define IMAP_STREAM_SLACK (64u << 10)
/*
 * Bytes of mail per FETCH. libcurl (7.88) refuses more than 300 KiB of response lines per
 * request and, measured, counts each byte of a literal about twice towards that limit.
 */
#define IMAP_CHUNK      (64u << 10)
#define IMAP_SEARCH_MAX (1u << 20)

struct imap {
	struct app *app;
	const struct cfg *cfg;
	CURL *curl;
	char *mailbox_url; /* imap[s]://host[:port]/mailbox, no trailing '/' */
	char *search;      /* the UID SEARCH command */
	int interval_ms;
	int64_t next_poll_ms;
	int64_t last_poll_ms;
	bool started;
	/* failure streaks: logged when they start and when they end */
	CURLcode net_error; /* CURLE_OK while the mailbox answers */
	bool alert_failing;
	bool noted;    /* the poller's state is in poller_status (for /healthz) */
	struct db *db; /* this thread's connection, for the current poll */
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- parsers (exposed for the unit tests) ------------------------------------------------ */

static enum rc quoted(struct buf *out, const char *s)
{
	enum rc rc = buf_append(out, "\"", 1);

	for (; rc == RC_OK && *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return RC_INVALID;
		if (*s == '"' || *s == '\\')
			rc = buf_append(out, "\\", 1);
		if (rc == RC_OK)
			rc = buf_append(out, s, 1);
	}
	return rc == RC_OK ? buf_append(out, "\"", 1) : rc;
}

static bool has_8bit(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

enum rc imap_search_command(const char *from, const char *subject, struct buf *out)
{
	enum rc rc = buf_puts(out, "UID SEARCH ");

	/* 8-bit text in a quoted string needs the charset named (RFC 3501 6.4.4) */
	if (rc == RC_OK && (has_8bit(from) || has_8bit(subject)))
		rc = buf_puts(out, "CHARSET UTF-8 ");
	if (rc == RC_OK)
		rc = buf_puts(out, "UNSEEN");
	if (rc == RC_OK && from && *from) {
		rc = buf_puts(out, " FROM ");
		if (rc == RC_OK)
			rc = quoted(out, from);
	}
	if (rc == RC_OK && subject && *subject) {
		rc = buf_puts(out, " SUBJECT ");
		if (rc == RC_OK)
			rc = quoted(out, subject);
	}
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void imap_parse_search(const char *text, size_t len, uint32_t *uids, size_t max, size_t *n)
{
	size_t i = 0, eol, j, k, m = 0;
	uint64_t v;

	while (i < len) {
		for (eol = i; eol < len && text[eol] != '\n'; eol++)
			;
		if (eol - i >= 8 && !memcmp(text + i, "* SEARCH", 8)) {
			for (j = i + 8; j < eol;) {
				while (j < eol && (text[j] == ' ' || text[j] == '\r'))
					j++;
				for (v = 0, k = j; k < eol && text[k] >= '0' && text[k] <= '9' && v <= UINT32_MAX; k++)
					v = v * 10 + (uint64_t)(text[k] - '0');
				if (k == j || v == 0 || v > UINT32_MAX ||
				    (k < eol && text[k] != ' ' && text[k] != '\r')) {
					/* not a number (e.g. a "(MODSEQ n)" suffix): skip the token */
					while (j < eol && text[j] != ' ')
						j++;
					continue;
				}
				j = k;
				if (m < max)
					uids[m++] = (uint32_t)v;
			}
		}
		i = eol + 1;
	}
	qsort(uids, m, sizeof *uids, cmp_u32);
	*n = 0;
	for (j = 0; j < m; j++)
		if (!*n || uids[*n - 1] != uids[j])
			uids[(*n)++] = uids[j];
}

/* The number after the word key (e.g. "UID ") in line[0..n), or -1. */
static int64_t number_after(const char *line, size_t n, const char *key)
{
	size_t kl = strlen(key), i, j;
	int64_t v;

	for (i = 0; i + kl < n; i++) {
		if (memcmp(line + i, key, kl) || (i && line[i - 1] != ' ' && line[i - 1] != '('))
			continue;
		for (v = 0, j = i + kl; j < n && line[j] >= '0' && line[j] <= '9' && v < INT64_MAX / 10 - 10; j++)
			v = v * 10 + (line[j] - '0');
		if (j > i + kl)
			return v;
	}
	return -1;
}

enum rc imap_fetch_literal(const char *s, size_t len, uint32_t uid, const char **lit, size_t *lit_len, uint64_t *size)
{
	size_t i = 0, eol, end, open, start;
	int64_t declared, total, n;

	while (i < len) {
		for (eol = i; eol < len && s[eol] != '\n'; eol++)
			;
		end = eol;
		if (end > i && s[end - 1] == '\r')
			end--;
		if (eol < len && end - i > 10 && !memcmp(s + i, "* ", 2) && s[end - 1] == '}' &&
		    memmem(s + i, end - i, " FETCH (", 8) && number_after(s + i, end - i, "UID ") == uid) {
			for (open = end - 1; open > i && s[open] != '{'; open--)
				;
			n = number_after(s + open, end - open, "{");
			declared = open > i ? n : -1;
			if (declared >= 0) {
				start = eol + 1;
				if ((uint64_t)declared > len - start)
					return RC_UPSTREAM;
				*lit = s + start;
				*lit_len = (size_t)declared;
				total = number_after(s + i, end - i, "RFC822.SIZE ");
				if (total < 0) {
					/* the server may list RFC822.SIZE after the literal */
					for (eol = start + (size_t)declared; eol < len && s[eol] != '\n'; eol++)
						;
					total = number_after(s + start + declared, eol - start - (size_t)declared,
					                     "RFC822.SIZE ");
				}
				*size = total >= 0 ? (uint64_t)total : 0;
				return RC_OK;
			}
		}
		i = eol + 1;
	}
	return RC_NOT_FOUND;
}

/* ---- libcurl ---------------------------------------------------------------------------- */

struct sink {
	struct buf b;
	bool over; /* more came than b.cap: b holds the first b.cap bytes */
};

static size_t sink_write(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb, room = s->b.cap - s->b.len;

	if (n > room) {
		if (room)
			buf_append(&s->b, p, room);
		s->over = true;
		return 0; /* stops the transfer */
	}
	return buf_append(&s->b, p, n) == RC_OK ? n : 0;
}

static void sink_init(struct sink *s, size_t cap)
{
	buf_init(&s->b, cap);
	s->over = false;
}

/* Ends a transfer in flight when plantao stops, so shutdown does not wait for a timeout. */
static int progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const struct app *app = userdata;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return app->stopping ? 1 : 0;
}

/* (Re)creates the handle with everything that does not change between requests. */
static enum rc handle_new(struct imap *im)
{
	const struct cfg *cfg = im->cfg;
	CURL *c;

	if (im->curl)
		curl_easy_cleanup(im->curl);
	im->curl = c = curl_easy_init();
	if (!c)
		return RC_INTERNAL;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, IMAP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, IMAP_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, im->errbuf);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, im->app);
	/*
	 * The password never goes out without TLS: imaps:// is TLS from the start, and on imap://
	 * libcurl must upgrade with STARTTLS before it logs in — a server that does not offer it
	 * (or a man in the middle who strips it from CAPABILITY) gets CURLE_USE_SSL_FAILED and no
	 * AUTHENTICATE. PLANTAO_IMAP_INSECURE=1 is the explicit way back to "TLS when offered".
	 * The certificate is always verified, against PLANTAO_IMAP_CA_FILE when it is set.
	 */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)(cfg->imap_insecure ? CURLUSESSL_TRY : CURLUSESSL_ALL));
	if (cfg->imap_ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->imap_ca_file);
	/* a bigger buffer keeps long mail lines whole in the response-line stream */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
	if (cfg->imap_user)
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->imap_user);
	if (cfg->imap_password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->imap_password);
	return RC_OK;
}

/*
 * One request on the mailbox: custom is the IMAP command (NULL: libcurl's own fetch of url);
 * the untagged responses (or the fetched mail) go to body, every response line to lines
 * (may be NULL).
 */
static CURLcode request(struct imap *im, const char *url, const char *custom, struct sink *body, struct sink *lines)
{
	CURL *c = im->curl;

	im->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, lines ? sink_write : NULL);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, lines);
	return curl_easy_perform(c);
}

/* The /healthz code of a failed exchange: refused login, no TLS offered, TLS failing, or the rest. */
static const char *failure_code(CURLcode cc)
{
	switch (cc) {
	case CURLE_LOGIN_DENIED: return "auth_error";
	case CURLE_USE_SSL_FAILED: return "tls_required";
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE: return "tls_error";
	default: return "unreachable";
	}
}

/* Records the poll's outcome in poller_status for /healthz (every failure; "ok" when a streak
 * ends or at the first poll). A database that does not take it is logged by db/. */
static void note(struct imap *im, const char *code, const char *reason)
{
	if (!im->db || health_poller_note(im->db, "imap", code, reason, clock_now()) != RC_OK)
		return;
	im->noted = true;
}

/* Logs a network failure when a streak starts (or its cause changes); rebuilds the handle. */
static void net_failed(struct imap *im, const struct app *app, const char *what, CURLcode cc)
{
	const char *detail = im->errbuf[0] ? im->errbuf : curl_easy_strerror(cc);
	char reason[HEALTH_ERR_MAX];

	if (app->stopping)
		return; /* ended by progress(): plantao is stopping */
	if (cc == CURLE_LOGIN_DENIED)
		detail = "login denied (check PLANTAO_IMAP_USER and PLANTAO_IMAP_PASSWORD)";
	if (cc == CURLE_USE_SSL_FAILED)
		detail = "the server offers no STARTTLS, and plantao does not send the password without TLS: use an "
		         "imaps:// URL, enable STARTTLS on the server, or set PLANTAO_IMAP_INSECURE=1 to allow it";
	if (cc == CURLE_PEER_FAILED_VERIFICATION && !app->cfg->imap_ca_file)
		detail = "the server's TLS certificate is not trusted (PLANTAO_IMAP_CA_FILE names a PEM bundle "
		         "to verify it with)";
	/*
	 * Once per streak, and again only when a streak of network trouble turns out to be a refused
	 * login (after a refusal dovecot and others slow the next logins down until they time out).
	 */
	if (im->net_error == CURLE_OK || (cc == CURLE_LOGIN_DENIED && im->net_error != CURLE_LOGIN_DENIED))
		log_warn("imap: %s failed: %s; retrying every %d s", what, detail, app->cfg->imap_interval);
	else
		log_debug("imap: %s failed again: %s", what, detail);
	im->net_error = cc;
	metrics_count(app->metrics, "plantao_imap_errors_total", NULL, 1);
	snprintf(reason, sizeof reason, "alert e-mail: %.16s failed: %.200s", what, detail); /* cut to fit */
	note(im, failure_code(cc), reason);
	if (handle_new(im) != RC_OK)
		log_err("imap: out of memory for a curl handle");
}

/* ---- one mail --------------------------------------------------------------------------- */

/* "mail:" + the Message-ID, or + "sha256:" and the hash of the mail when it has none. */
static enum rc dedup_key(const struct mime_msg *m, const char *raw, size_t len, struct buf *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	enum rc rc;

	if (m->message_id)
		return buf_printf(out, "mail:%s", m->message_id);
	if (!EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL))
		return RC_INTERNAL;
	rc = buf_puts(out, "mail:sha256:");
	for (i = 0; i < mdlen && rc == RC_OK; i++)
		rc = buf_printf(out, "%02x", md[i]);
	return rc;
}

/* Turns one mail into an alert; *id gets the alert. */
/* A mail whose subject carries a heartbeat's secret is that monitor's ping (*pinged), not an
 * alert (server/monitors/ping.c); any other mail becomes an alert, or joins one. */
static enum rc mail_to_alert(struct app *app, struct db *db, const char *raw, size_t len, bool cut, int64_t *id,
                             bool *deduped, bool *pinged)
{
	bool en = app_lang_en(app);
	struct mime_msg m;
	struct buf key, details;
	char *summary = NULL;
	size_t n;
	enum rc rc;

	buf_init(&key, 512);
	buf_init(&details, 4 * IMAP_DETAILS_MAX + 64);
	*pinged = false;
	rc = mime_parse(raw, len, &m);
	if (rc == RC_OK)
		rc = ping_mail(db, m.subject, m.text, pinged);
	if (rc != RC_OK || *pinged)
		goto out;
	n = mime_utf8_prefix(m.subject, IMAP_SUMMARY_MAX);
	while (n && m.subject[n - 1] == ' ')
		n--;
	summary = n ? strndup(m.subject, n) : strdup(en ? "(no subject)" : "(sem assunto)");
	if (!summary) {
		rc = RC_INTERNAL;
		goto out;
	}
	n = mime_utf8_prefix(m.text, IMAP_DETAILS_MAX);
	rc = buf_append(&details, m.text, n);
	if (rc == RC_OK && (m.text[n] || cut || m.truncated))
		rc = buf_puts(&details, en ? "\n[message truncated]" : "\n[mensagem truncada]");
	if (rc == RC_OK)
		rc = dedup_key(&m, raw, len, &key);
	if (rc != RC_OK)
		goto out;
	rc = alerts_trigger(app, db,
	                    &(struct alert_input){.summary = summary,
	                                          .details = details.data && details.len ? details.data : NULL,
	                                          .severity = NULL,
	                                          .source = "imap",
	                                          .dedup_key = key.data},
	                    id, deduped);
out:
	free(summary);
	buf_release(&key);
	buf_release(&details);
	mime_release(&m);
	return rc;
}

/*
 * Reads mail uid into mail (cap IMAP_MAX_MAIL) with UID FETCH ... BODY.PEEK[]<offset.IMAP_CHUNK>,
 * chunk by chunk (see IMAP_CHUNK). *framed is
 * false when a response ended before its literal did; *gone when the server has no such mail
 * (expunged since the SEARCH); *cut when the mail is longer than what was read.
 */
static CURLcode fetch_peek(struct imap *im, uint32_t uid, struct buf *mail, bool *cut, bool *framed, bool *gone)
{
	char cmd[96];
	struct sink body, lines;
	const char *lit;
	size_t off = 0, n, take;
	uint64_t size = 0;
	CURLcode cc = CURLE_OK;
	enum rc rc;
	bool more = true;

	*cut = *gone = false;
	*framed = true;
	while (more && cc == CURLE_OK) {
		snprintf(cmd, sizeof cmd, "UID FETCH %" PRIu32 " (RFC822.SIZE BODY.PEEK[]<%zu.%u>)", uid, off,
		         IMAP_CHUNK);
		sink_init(&body, 64u << 10);
		sink_init(&lines, IMAP_CHUNK + IMAP_STREAM_SLACK);
		cc = request(im, im->mailbox_url, cmd, &body, &lines);
		rc = cc != CURLE_OK
		             ? RC_OK
		             : imap_fetch_literal(lines.b.data ? lines.b.data : "", lines.b.len, uid, &lit, &n, &size);
		more = false;
		if (cc != CURLE_OK) {
			/* reported by the caller */
		} else if (rc == RC_NOT_FOUND) {
			*gone = off == 0;
		} else if (rc != RC_OK) {
			*framed = false;
		} else {
			take = n < mail->cap - mail->len ? n : mail->cap - mail->len;
			if (buf_append(mail, lit, take) != RC_OK)
				cc = CURLE_OUT_OF_MEMORY;
			off += n;
			*cut = take < n || (size && off < size && mail->len == mail->cap);
			more = n > 0 && !*cut && (size ? off < size : n == IMAP_CHUNK);
		}
		buf_release(&body.b);
		buf_release(&lines.b);
	}
	return cc;
}

/* libcurl's own fetch of "<mailbox>/;UID=n" into body: frames the literal itself, but sets \Seen. */
static CURLcode fetch_plain(struct imap *im, uint32_t uid, struct sink *body, bool *cut)
{
	char url[4096];
	CURLcode cc;

	if ((size_t)snprintf(url, sizeof url, "%s/;UID=%" PRIu32, im->mailbox_url, uid) >= sizeof url)
		return CURLE_URL_MALFORMAT;
	cc = request(im, url, NULL, body, NULL);
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && body->over))
		return cc;
	/* stopped at the cap: the rest of that mail is still on the connection */
	if (body->over && handle_new(im) != RC_OK)
		return CURLE_OUT_OF_MEMORY;
	*cut = body->over;
	return CURLE_OK;
}

static CURLcode store_seen(struct imap *im, uint32_t uid, bool seen)
{
	char cmd[64];
	struct sink body;
	CURLcode cc;

	snprintf(cmd, sizeof cmd, "UID STORE %" PRIu32 " %cFLAGS.SILENT (\\Seen)", uid, seen ? '+' : '-');
	sink_init(&body, 64u << 10);
	cc = request(im, im->mailbox_url, cmd, &body, NULL);
	buf_release(&body.b);
	return cc;
}

/* Reads mail uid, alerts, marks it seen. False when the mailbox failed (the poll stops). */
static bool one_mail(struct app *app, struct db *db, struct imap *im, uint32_t uid)
{
	struct sink mail;
	bool cut = false, framed = true, gone = false, seen = false, deduped = false, pinged = false, ok = false;
	int64_t id = 0;
	CURLcode cc;
	enum rc rc;

	sink_init(&mail, IMAP_MAX_MAIL);
	cc = fetch_peek(im, uid, &mail.b, &cut, &framed, &gone);
	if (cc != CURLE_OK) {
		net_failed(im, app, "FETCH", cc);
		goto out;
	}
	if (!framed) {
		log_warn("imap: the answer to FETCH of uid %" PRIu32 " ended inside the mail; fetching it again with "
		         "libcurl's own FETCH, which marks it seen at once",
		         uid);
		buf_release(&mail.b);
		cc = handle_new(im) == RC_OK ? fetch_plain(im, uid, &mail, &cut) : CURLE_OUT_OF_MEMORY;
		if (cc != CURLE_OK) {
			net_failed(im, app, "FETCH", cc);
			goto out;
		}
		seen = true;
	}
	if (gone) {
		ok = true; /* expunged meanwhile: nothing to do */
		goto out;
	}
	rc = mail_to_alert(app, db, mail.b.data ? mail.b.data : "", mail.b.len, cut, &id, &deduped, &pinged);
	if (rc != RC_OK) {
		if (!im->alert_failing)
			log_warn("imap: mail uid %" PRIu32 " could not become an alert (%s); it stays unseen and is "
			         "read again at the next poll",
			         uid, rc_str(rc));
		else
			log_debug("imap: mail uid %" PRIu32 " could not become an alert (%s)", uid, rc_str(rc));
		im->alert_failing = true;
		metrics_count(app->metrics, "plantao_imap_mails_total", "result=\"failed\"", 1);
		ok = !seen || store_seen(im, uid, false) == CURLE_OK;
		goto out;
	}
	if (im->alert_failing)
		log_info("imap: mail becomes alerts again");
	im->alert_failing = false;
	if (pinged) {
		log_info("imap: mail uid %" PRIu32 " -> a heartbeat monitor's ping", uid);
		metrics_count(app->metrics, "plantao_imap_mails_total", "result=\"ping\"", 1);
	} else {
		log_info("imap: mail uid %" PRIu32 " -> alert %lld%s%s", uid, (long long)id,
		         deduped ? " (added to the open alert with its Message-ID)" : "",
		         cut ? " (mail cut at 1 MiB)" : "");
		metrics_count(app->metrics, "plantao_imap_mails_total", "result=\"alert\"", 1);
	}
	cc = store_seen(im, uid, true);
	if (cc != CURLE_OK) {
		net_failed(im, app, "STORE \\Seen", cc);
		goto out;
	}
	ok = true;
out:
	buf_release(&mail.b);
	return ok;
}

static void poll_mailbox(struct app *app, struct db *db, struct imap *im)
{
	uint32_t uids[IMAP_MAX_PER_POLL];
	int64_t t0 = clock_mono_us();
	struct sink body;
	size_t n = 0, i;
	CURLcode cc;

	sink_init(&body, IMAP_SEARCH_MAX);
	cc = request(im, im->mailbox_url, im->search, &body, NULL);
	if (cc != CURLE_OK) {
		net_failed(im, app, "SEARCH", cc);
		buf_release(&body.b);
		return;
	}
	imap_parse_search(body.b.data ? body.b.data : "", body.b.len, uids, IMAP_MAX_PER_POLL, &n);
	buf_release(&body.b);
	if (n)
		log_debug("imap: %zu matching unseen mail(s)", n);
	for (i = 0; i < n && !app->stopping; i++) {
		if ((clock_mono_us() - t0) / 1000 > IMAP_POLL_BUDGET_MS)
			break; /* the rest at the next poll: the engine has other work */
		if (!one_mail(app, db, im, uids[i]))
			return;
	}
	/* a streak ends with a whole poll without trouble, not with one answer */
	if (im->net_error != CURLE_OK)
		log_info("imap: the mailbox answers again");
	if (im->net_error != CURLE_OK || !im->noted)
		note(im, "ok", "");
	im->net_error = CURLE_OK;
}

/* ---- the engine job --------------------------------------------------------------------- */

/* The configured URL with a mailbox (INBOX when it names none) and no trailing '/'. */
static enum rc mailbox_url(const char *url, char **out)
{
	CURLU *u = curl_url();
	char *path = NULL, *full = NULL;
	size_t n;
	enum rc rc = RC_INVALID;

	*out = NULL;
	if (!u)
		return RC_INTERNAL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	if (curl_url_set(u, CURLUPART_PATH, n <= 1 ? "/INBOX" : path, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
		goto out;
	*out = strdup(full);
	rc = *out ? RC_OK : RC_INTERNAL;
out:
	curl_free(path);
	curl_free(full);
	curl_url_cleanup(u);
	return rc;
}

enum rc imap_start(struct app *app, struct db *db, void **state)
{
	const struct cfg *cfg = app->cfg;
	struct imap *im;
	struct buf cmd;
	enum rc rc;

	*state = NULL;
	if (!cfg->imap_url)
		return RC_OK;
	im = calloc(1, sizeof *im);
	if (!im)
		return RC_INTERNAL;
	im->app = app;
	im->cfg = cfg;
	buf_init(&cmd, 4096);
	rc = imap_search_command(cfg->imap_from, cfg->imap_subject, &cmd);
	if (rc != RC_OK) {
		log_err("imap: PLANTAO_IMAP_FROM or PLANTAO_IMAP_SUBJECT is too long or holds a control character; "
		        "alert e-mail is off");
		goto fail;
	}
	im->search = buf_steal(&cmd);
	rc = im->search ? mailbox_url(cfg->imap_url, &im->mailbox_url) : RC_INTERNAL;
	if (rc == RC_INVALID)
		log_err("imap: PLANTAO_IMAP_URL is not a URL libcurl can use; alert e-mail is off");
	if (rc == RC_OK)
		rc = handle_new(im);
	if (rc != RC_OK)
		goto fail;
	im->interval_ms = cfg->imap_interval * 1000;
	if (cfg->imap_insecure && strncmp(im->mailbox_url, "imaps://", 8) != 0)
		log_warn("imap: PLANTAO_IMAP_INSECURE=1: the password goes in clear text to a server that offers "
		         "no STARTTLS");
	log_info("imap: reading alert e-mail every %d s (from: %s; subject containing: %s)", cfg->imap_interval,
	         cfg->imap_from ? cfg->imap_from : "anyone", cfg->imap_subject ? cfg->imap_subject : "anything");
	*state = im;
	return RC_OK;
fail:
	if (rc == RC_INVALID) /* the poller stays off: /healthz says so until the configuration is fixed */
		health_poller_note(db, "imap", "config_error",
		                   "alert e-mail is off: PLANTAO_IMAP_URL, PLANTAO_IMAP_FROM or PLANTAO_IMAP_SUBJECT "
		                   "cannot be used (see the log)",
		                   clock_now());
	buf_release(&cmd);
	imap_stop(im);
	return rc;
}

enum rc imap_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct imap *im = state;

	if (!im)
		return RC_OK;
	/* a clock set back (tests move it) must not hold the poller off until it catches up */
	if (im->started && now_ms >= im->last_poll_ms && now_ms < im->next_poll_ms)
		return RC_OK;
	/* Several instances on one PostgreSQL: the engine runs this job only on the instance that
	 * holds its lock (a singleton job, server/outbox/engine.c), asking each tick, so a standby
	 * that takes over polls at once (started false, or its last poll an interval ago). */
	im->started = true;
	im->last_poll_ms = now_ms;
	im->next_poll_ms = now_ms + im->interval_ms;
	im->db = db;
	poll_mailbox(app, db, im);
	im->db = NULL;
	return RC_OK;
}

void imap_stop(void *state)
{
	struct imap *im = state;

	if (!im)
		return;
	if (im->curl)
		curl_easy_cleanup(im->curl);
	free(im->mailbox_url);
	free(im->search);
	free(im);
}
