/*
 * server/api/api_sales.c — POST /api/sales (streamed import), GET/PUT /api/sales/settings and
 * GET /api/sales/report (contract in api_sales.h). The import itself is
 * server/sales/sales_import.c; this file glues the body stream to it (raw or through the
 * multipart reader), maps its results to HTTP, and formats the report.
 */
#include "api/api_sales.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_list.h"
#include "db/audit.h"
#include "db/db.h"
#include "db/sales.h"
#include "sales/amount.h"
#include "core/app.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "http/multipart.h"
#include "sales/sales_import.h"
#include "sales/sales_parse.h"
#include "rotation/tz.h"

/* A multipart text field we keep ("period", "sheet"). */
#define FIELD_MAX 256
/* Report limits: rows (JSON and CSV) and CSV bytes. */
#define REPORT_MAX_ROWS 200000
#define REPORT_CSV_MAX  (32 * HTTP_MIB)

/* ---------------------------------------------------------------- import */

struct upload {
	struct sales_import *imp;
	struct multipart *mp; /* NULL: the body is one raw file */
	/* the multipart part being read */
	enum { PART_NONE, PART_FILE, PART_FIELD } part;
	bool file_started; /* a file part whose name was "" starts only with its first byte */
	char filename[256];
	char ctype[128];
	char field[32];
	struct buf value;
	char err[SALES_IMPORT_ERR_MAX];
};

static void upload_free(void *p)
{
	struct upload *u = p;

	if (!u)
		return;
	sales_import_free(u->imp);
	multipart_free(u->mp);
	buf_release(&u->value);
	free(u);
}

static int current_year(const struct cfg *c)
{
	struct tm tm;

	if (tz_utc_to_local(c->tz, clock_now(), &tm) != RC_OK) {
		time_t t = (time_t)clock_now();

		gmtime_r(&t, &tm);
	}
	return tm.tm_year + 1900;
}

static enum rc on_part_begin(void *ctx, const struct multipart_part *p)
{
	struct upload *u = ctx;

	u->file_started = false;
	u->value.len = 0;
	if (!p->filename) {
		u->part = PART_FIELD;
		snprintf(u->field, sizeof u->field, "%s", p->name);
		return RC_OK;
	}
	u->part = PART_FILE;
	snprintf(u->filename, sizeof u->filename, "%s", p->filename);
	snprintf(u->ctype, sizeof u->ctype, "%s", p->content_type);
	if (!p->filename[0])
		return RC_OK; /* an empty file input sends filename="" and no data: wait for data */
	u->file_started = true;
	return sales_import_file_begin(u->imp, u->filename, u->ctype);
}

static enum rc on_part_data(void *ctx, const char *data, size_t len)
{
	struct upload *u = ctx;
	enum rc rc;

	if (u->part == PART_FIELD) {
		if (strcmp(u->field, "period") && strcmp(u->field, "sheet"))
			return RC_OK; /* other form fields are ignored */
		rc = buf_append(&u->value, data, len);
		if (rc == RC_TOO_BIG)
			snprintf(u->err, sizeof u->err, "form field '%s' longer than %d bytes", u->field, FIELD_MAX);
		return rc;
	}
	if (!u->file_started) {
		u->file_started = true;
		rc = sales_import_file_begin(u->imp, NULL, u->ctype);
		if (rc != RC_OK)
			return rc;
	}
	return sales_import_file_data(u->imp, data, len);
}

static enum rc on_part_end(void *ctx)
{
	struct upload *u = ctx;
	enum rc rc = RC_OK;

	if (u->part == PART_FIELD && (!strcmp(u->field, "period") || !strcmp(u->field, "sheet")))
		rc = sales_import_field(u->imp, u->field, u->value.data ? u->value.data : "");
	else if (u->part == PART_FILE && u->file_started)
		rc = sales_import_file_end(u->imp);
	u->part = PART_NONE;
	return rc;
}

/* The first chunk: set up the import and, for a raw body, its one file. */
static enum rc upload_start(struct http_req *req, struct upload **out)
{
	const struct cfg *c = req->app->cfg;
	const char *ct = http_header(req, "Content-Type");
	const char *cd = http_header(req, "Content-Disposition");
	struct sales_import_opts o = {
	        .db_path = c->db_path,
	        .period = http_query(req, "period"),
	        .sheet = http_query(req, "sheet"),
	        .default_year = current_year(c),
	        .lang_en = app_lang_en(req->app),
	};
	static const char *const allowed[] = {"period", "sheet", "filename", NULL};
	struct multipart_cb cb = {on_part_begin, on_part_data, on_part_end, NULL};
	struct upload *u;
	enum rc rc = api_list_params(req, allowed); /* before any work: nothing is imported */

	*out = NULL;
	if (rc != RC_OK)
		return rc;
	u = calloc(1, sizeof *u);
	if (!u)
		return RC_INTERNAL;
	req->state = u;
	req->state_free = upload_free;
	buf_init(&u->value, FIELD_MAX);
	rc = sales_import_new(&o, &u->imp, u->err, sizeof u->err);
	if (rc != RC_OK)
		return http_fail(req, rc, "%s", u->err);
	if (multipart_is(ct)) {
		cb.ctx = u;
		rc = multipart_new(ct, &cb, &u->mp, u->err, sizeof u->err);
		if (rc != RC_OK)
			return http_fail(req, rc, "%s", u->err);
	} else {
		const char *name = http_query(req, "filename");

		if (cd && multipart_disposition(cd, NULL, 0, u->filename, sizeof u->filename))
			name = u->filename;
		rc = sales_import_file_begin(u->imp, name, ct);
		if (rc != RC_OK)
			return http_fail(req, rc, "%s", sales_import_error(u->imp));
	}
	*out = u;
	return RC_OK;
}

/* Why an upload failed: the import's reason first, then the multipart reader's. */
static enum rc upload_failed(struct http_req *req, struct upload *u, enum rc rc)
{
	const char *why = sales_import_error(u->imp);

	if (!why[0])
		why = u->err[0] ? u->err : rc_str(rc);
	return http_fail(req, rc, "%s", why);
}

enum rc api_sales_body(struct http_req *req, const char *data, size_t len)
{
	struct upload *u = req->state;
	enum rc rc;

	if (!u) {
		rc = upload_start(req, &u);
		if (rc != RC_OK)
			return rc;
	}
	if (data) {
		rc = u->mp ? multipart_feed(u->mp, data, len, u->err, sizeof u->err)
		           : sales_import_file_data(u->imp, data, len);
	} else {
		rc = u->mp ? multipart_finish(u->mp, u->err, sizeof u->err) : sales_import_file_end(u->imp);
	}
	if (rc != RC_OK) {
		rc = upload_failed(req, u, rc);
		/* let go of the staging connection and buffers now, not when the client is done */
		req->state = NULL;
		upload_free(u);
	}
	return rc;
}

enum rc api_sales_import(struct http_req *req)
{
	struct upload *u = req->state;
	json_t *result = NULL;
	int64_t queued = 0;
	enum rc rc;

	if (!u || !u->imp)
		return http_fail(req, RC_INTERNAL, "import state missing");
	rc = sales_import_commit(u->imp, &result, &queued);
	if (rc != RC_OK)
		return http_fail(req, rc, "%s", sales_import_error(u->imp));
	if (queued > 0)
		app_wake_engine(req->app);
	return http_reply_json(req, 201, result);
}

/* ---------------------------------------------------------------- settings */

static json_t *settings_json(const struct sales_settings *s)
{
	char target[AMOUNT_BRL_MAX];
	json_t *phones = json_array();

	for (size_t i = 0; phones && i < s->n_notify; i++)
		json_array_append_new(phones, json_string(s->notify[i]));
	amount_format_brl(s->target_cents, target, sizeof target);
	return json_pack("{s:I,s:s,s:s,s:s,s:o*}", "target_cents", (json_int_t)s->target_cents, "target", target,
	                 "currency", s->currency, "rule", sales_rule_name(s->rule), "notify", phones);
}

enum rc api_sales_settings_get(struct http_req *req)
{
	struct sales_settings s;
	enum rc rc = api_list_no_params(req);

	if (rc == RC_OK)
		rc = sales_settings_get(req->db, &s);
	if (rc != RC_OK)
		return rc;
	return http_reply_json(req, 200, settings_json(&s));
}

/* Largest goal accepted: ten trillion reais, far beyond any sales team, far below overflow. */
#define TARGET_MAX INT64_C(1000000000000000)

/* target_cents: integer cents; target: reais as a number (55000.5) or typed text
 * ("R$ 55.000,00"). -1 when v is none of these. */
static int64_t target_value(const char *key, const json_t *v)
{
	char num[64];
	int64_t c;

	if (!strcmp(key, "target_cents"))
		return json_is_integer(v) ? json_integer_value(v) : -1;
	if (json_is_string(v))
		return amount_parse(json_string_value(v), &c) == RC_OK ? c : -1;
	if (!json_is_number(v))
		return -1;
	snprintf(num, sizeof num, "%.17g", json_number_value(v));
	return amount_parse_real(num, &c) == RC_OK ? c : -1;
}

/* Why settings_parse refused: a stable code, the field (borrowed from the body) and the sentence. */
struct settings_err {
	const char *code;
	const char *field;
	char msg[200];
};

/* A bad value of field key: "invalid_value". */
static enum rc invalid(struct settings_err *e, const char *key)
{
	e->code = "invalid_value";
	e->field = key;
	return RC_UNPROCESSABLE;
}

static enum rc settings_parse(json_t *body, struct sales_settings *s, struct settings_err *e)
{
	char *err = e->msg;
	size_t errlen = sizeof e->msg;

	bool target_seen = false;
	const char *key;
	json_t *v;

	if (!json_is_object(body)) {
		snprintf(err, errlen, "expected a JSON object");
		e->code = "invalid";
		return RC_INVALID;
	}
	json_object_foreach(body, key, v)
	{
		if (!strcmp(key, "target_cents") || !strcmp(key, "target")) {
			int64_t c = target_value(key, v);

			if (c <= 0 || c > TARGET_MAX) {
				snprintf(err, errlen, "%s: expected a positive amount (%s)", key,
				         !strcmp(key, "target")
				                 ? "55000, 55000.00 or \"R$ 55.000,00\""
				                 : "an integer number of cents: 5500000 is R$ 55.000,00");
				return invalid(e, key);
			}
			if (target_seen && c != s->target_cents) {
				snprintf(err, errlen, "target and target_cents disagree");
				return invalid(e, key);
			}
			s->target_cents = c;
			target_seen = true;
		} else if (!strcmp(key, "currency")) {
			if (!json_is_string(v) || strcmp(json_string_value(v), "BRL")) {
				snprintf(err, errlen, "currency: only \"BRL\" is supported");
				return invalid(e, key);
			}
		} else if (!strcmp(key, "rule")) {
			if (!json_is_string(v) || !sales_rule_parse(json_string_value(v), &s->rule)) {
				snprintf(err, errlen, "rule: expected \"more_than\" or \"at_least\"");
				return invalid(e, key);
			}
		} else if (!strcmp(key, "notify")) {
			size_t i;
			json_t *p;

			if (!json_is_array(v)) {
				snprintf(err, errlen,
				         "notify: expected an array of phones in E.164 such as +5511999990000");
				return invalid(e, key);
			}
			if (json_array_size(v) > SALES_NOTIFY_MAX) {
				snprintf(err, errlen, "notify: at most %d phones", SALES_NOTIFY_MAX);
				return invalid(e, key);
			}
			s->n_notify = 0;
			json_array_foreach(v, i, p)
			{
				const char *t = json_is_string(p) ? json_string_value(p) : NULL;
				bool dup = false;

				if (!t || !cfg_is_e164(t)) {
					snprintf(err, errlen,
					         "notify[%zu]: %s%.24s%s is not a phone in E.164 such as "
					         "+5511999990000",
					         i, t ? "'" : "", t ? t : "not a string", t ? "'" : "");
					return invalid(e, NULL); /* the field is read off the message: notify[i] */
				}
				for (size_t k = 0; k < s->n_notify; k++)
					dup = dup || !strcmp(s->notify[k], t);
				if (!dup)
					snprintf(s->notify[s->n_notify++], sizeof s->notify[0], "%s", t);
			}
		} else {
			snprintf(err, errlen, "%.40s: unknown field (target_cents, target, currency, rule, notify)",
			         key);
			e->code = "unknown_field";
			e->field = key;
			return RC_UNPROCESSABLE;
		}
	}
	return RC_OK;
}

enum rc api_sales_settings_put(struct http_req *req)
{
	struct sales_settings s;
	struct settings_err err = {0};
	json_t *body, *out = NULL;
	enum rc rc = api_list_no_params(req);

	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return rc;
	rc = sales_settings_get(req->db, &s);
	if (rc == RC_OK)
		rc = settings_parse(body, &s, &err);
	if (rc == RC_OK)
		rc = sales_settings_put(req->db, &s, clock_now());
	if (rc == RC_OK) {
		out = settings_json(&s);
		rc = out ? audit_log(req->db, req->actor, "sales.settings.update", 0, out) : RC_INTERNAL;
	}
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		json_decref(out);
		return err.msg[0] ? http_fail_code(req, rc, err.code, err.field, "%s", err.msg) : rc;
	}
	return http_reply_json(req, 200, out);
}

/* ---------------------------------------------------------------- report */

struct report {
	const struct cfg *cfg;
	struct sales_settings s;
	bool csv, en;
	long rows;
	/* JSON */
	json_t *sellers, *periods, *cur_period;
	/* CSV */
	struct buf out;
};

/* Period summary of the JSON report: one object per period, rows arrive grouped. */
static enum rc period_add(struct report *r, const struct sales_report_row *row, bool above)
{
	json_t *p = r->cur_period;

	if (!p || strcmp(json_string_value(json_object_get(p, "period")), row->period)) {
		p = json_pack("{s:s,s:I,s:I,s:I}", "period", row->period, "sellers", (json_int_t)0, "total_cents",
		              (json_int_t)0, "above_goal", (json_int_t)0);
		if (!p || json_array_append_new(r->periods, p))
			return RC_INTERNAL;
		r->cur_period = p;
	}
	json_object_set_new(p, "sellers", json_integer(json_integer_value(json_object_get(p, "sellers")) + 1));
	{
		json_int_t t = json_integer_value(json_object_get(p, "total_cents"));

		t = t > INT64_MAX - row->cents ? INT64_MAX : t + row->cents;
		json_object_set_new(p, "total_cents", json_integer(t));
	}
	if (above)
		json_object_set_new(p, "above_goal",
		                    json_integer(json_integer_value(json_object_get(p, "above_goal")) + 1));
	return RC_OK;
}

/* A spreadsheet cell: quoted when needed; text a spreadsheet would run as a formula is given a
 * leading apostrophe (OWASP "CSV injection"). */
static enum rc csv_cell(struct buf *b, const char *s, char sep, bool last)
{
	bool quote = strchr(s, sep) || strchr(s, '"') || strchr(s, '\n') || strchr(s, '\r');
	enum rc rc = RC_OK;

	if (quote)
		rc = buf_append(b, "\"", 1);
	if (rc == RC_OK && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
		rc = buf_append(b, "'", 1);
	for (; rc == RC_OK && *s; s++)
		rc = *s == '"' ? buf_append(b, "\"\"", 2) : buf_append(b, s, 1);
	if (rc == RC_OK && quote)
		rc = buf_append(b, "\"", 1);
	if (rc == RC_OK)
		rc = last ? buf_append(b, "\r\n", 2) : buf_append(b, &sep, 1);
	return rc;
}

/* 5732000 -> "57320,00" (pt-BR) or "57320.00": a number any spreadsheet reads. */
static void plain_amount(int64_t cents, bool en, char *out, size_t len)
{
	snprintf(out, len, "%lld%c%02lld", (long long)(cents / 100), en ? '.' : ',', (long long)(cents % 100));
}

static enum rc report_row(void *ctx, const struct sales_report_row *row)
{
	struct report *r = ctx;
	bool above = sales_is_above(&r->s, row->cents);
	char when[32] = "", amount[AMOUNT_BRL_MAX];
	enum rc rc;

	if (++r->rows > REPORT_MAX_ROWS)
		return RC_TOO_BIG;
	if (row->notified_at && tz_format_iso(r->cfg->tz, row->notified_at, when, sizeof when) != RC_OK)
		when[0] = '\0';
	if (r->csv) {
		char sep = r->en ? ',' : ';', target[32];

		plain_amount(row->cents, r->en, amount, sizeof amount);
		plain_amount(r->s.target_cents, r->en, target, sizeof target);
		rc = csv_cell(&r->out, row->period, sep, false);
		if (rc == RC_OK)
			rc = csv_cell(&r->out, row->seller, sep, false);
		if (rc == RC_OK)
			rc = csv_cell(&r->out, amount, sep, false);
		if (rc == RC_OK)
			rc = csv_cell(&r->out, target, sep, false);
		if (rc == RC_OK)
			rc = csv_cell(&r->out, above ? (r->en ? "yes" : "sim") : (r->en ? "no" : "não"), sep, false);
		if (rc == RC_OK)
			rc = csv_cell(&r->out, row->notified_at ? (r->en ? "yes" : "sim") : (r->en ? "no" : "não"), sep,
			              false);
		if (rc == RC_OK)
			rc = csv_cell(&r->out, when, sep, true);
		return rc;
	}
	amount_format_brl(row->cents, amount, sizeof amount);
	if (json_array_append_new(
	            r->sellers,
	            json_pack("{s:s,s:s,s:I,s:s,s:b,s:b,s:s?,s:o,s:o*}", "period", row->period, "seller", row->seller,
	                      "amount_cents", (json_int_t)row->cents, "amount", amount, "above_goal", above, "notified",
	                      row->notified_at != 0, "notified_at", row->notified_at ? when : NULL, "notified_at_unix",
	                      row->notified_at ? json_integer(row->notified_at) : json_null(), "notified_amount_cents",
	                      row->notified_at ? json_integer(row->notified_cents) : NULL)))
		return RC_INTERNAL;
	return period_add(r, row, above);
}

enum rc api_sales_report(struct http_req *req)
{
	const char *period = http_query(req, "period"), *from = http_query(req, "from"), *to = http_query(req, "to");
	const char *format = http_query(req, "format");
	struct report r = {.cfg = req->app->cfg, .en = app_lang_en(req->app)};
	static const char *const allowed[] = {"period", "from", "to", "format", NULL};
	char target[AMOUNT_BRL_MAX], cd[96];
	enum rc rc = api_list_params(req, allowed);

	if (rc != RC_OK)
		return rc;
	if (period && (from || to))
		return http_fail(req, RC_INVALID, "give either period or from/to");
	if (period)
		from = to = period;
	if (!from)
		from = "1900-01";
	if (!to)
		to = "9999-12";
	if (!sales_period_is_valid(from) || !sales_period_is_valid(to))
		return http_fail(req, RC_INVALID, "%s: expected a month YYYY-MM such as 2026-01",
		                 !sales_period_is_valid(from) ? (period ? "period" : "from") : "to");
	if (strcmp(from, to) > 0)
		return http_fail(req, RC_INVALID, "from %s is after to %s", from, to);
	if (format && strcmp(format, "csv") && strcmp(format, "json"))
		return http_fail(req, RC_INVALID, "format: expected csv or json");
	r.csv = format && !strcmp(format, "csv");
	rc = sales_settings_get(req->db, &r.s);
	if (rc != RC_OK)
		return rc;
	if (r.csv) {
		buf_init(&r.out, REPORT_CSV_MAX);
		rc = buf_puts(&r.out,
		              r.en ? "\xEF\xBB\xBFmonth,seller,sales,goal,above_goal,notified,notified_at\r\n"
		                   : "\xEF\xBB\xBFmes;vendedor;vendas;meta;acima_da_meta;notificado;notificado_em\r\n");
		if (rc == RC_OK)
			rc = sales_report(req->db, from, to, report_row, &r);
		if (rc == RC_OK) {
			snprintf(cd, sizeof cd, "attachment; filename=\"vendas_%s_%s.csv\"", from, to);
			http_add_header(req, "Content-Disposition", cd);
			rc = http_reply(req, 200, "text/csv; charset=utf-8", r.out.data, r.out.len);
		}
		buf_release(&r.out);
		return rc == RC_TOO_BIG ? http_fail(req, rc, "report too large: ask for fewer months") : rc;
	}
	r.sellers = json_array();
	r.periods = json_array();
	rc = r.sellers && r.periods ? sales_report(req->db, from, to, report_row, &r) : RC_INTERNAL;
	if (rc != RC_OK) {
		json_decref(r.sellers);
		json_decref(r.periods);
		return rc == RC_TOO_BIG ? http_fail(req, rc, "report too large: ask for fewer months") : rc;
	}
	amount_format_brl(r.s.target_cents, target, sizeof target);
	return http_reply_json(req, 200,
	                       json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:o,s:o}", "from", from, "to", to, "target_cents",
	                                 (json_int_t)r.s.target_cents, "target", target, "currency", r.s.currency,
	                                 "rule", sales_rule_name(r.s.rule), "periods", r.periods, "sellers",
	                                 r.sellers));
}
