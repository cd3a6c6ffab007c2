/*
 * server/sales/sales_import.c — one sales import from chunks to committed figures and queued
 * announcements (rules in sales_import.h). Readers: server/sales/csv.c, server/sales/xlsx.c,
 * sales_parse_json(); statements: db/sales.c, db/outbox.c.
 */
#include "sales/sales_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/outbox.h"
#include "db/sales.h"
#include "sales/amount.h"
#include "core/buf.h"
#include "core/clock.h"
#include "sales/csv.h"
#include "core/log.h"
#include "sales/sales_parse.h"
#include "sales/xlsx.h"

_Static_assert(SALES_FOLD_MAX <= SALES_KEY_MAX, "a folded seller name fits the staging key");

struct period_src {
	char period[8];
	int file; /* index of the file its rows came from */
};

/* Write-back cache of staged sums: a sales file repeats the same few sellers (one row per
 * sale), so sums are kept in memory and written to the staging table when the cache is full
 * and at the end of each file. Bounded: STAGE_CACHE_MAX entries. */
#define STAGE_CACHE_SLOTS 2048 /* a power of two */
#define STAGE_CACHE_MAX   1024
_Static_assert(STAGE_CACHE_MAX < STAGE_CACHE_SLOTS, "open addressing needs free slots");
struct cached {
	char *key; /* NULL: free slot */
	char *seller;
	int64_t cents;
	uint32_t hash;
	int period; /* index into periods */
};

struct sales_import {
	struct db *db;  /* the import's own connection */
	char period[8]; /* opts->period or "" */
	char field_period[8];
	char *sheet;
	int default_year;
	bool lang_en;
	enum rc failed;
	char err[SALES_IMPORT_ERR_MAX];

	/* the file being read */
	struct {
		bool open, decided, sheet_tried;
		char name[256];
		char ctype[128];
		char period[8]; /* the file's default period, "" when none */
		enum sales_format fmt;
		unsigned char head[SALES_IMPORT_HEAD];
		size_t head_len;
		struct csv *csv;
		struct xlsx *xlsx;
		struct buf json;
		struct sales_sink sink;
		int last_period;                 /* index into periods of the last row's period, -1 */
		char rerr[SALES_IMPORT_ERR_MAX]; /* the readers' and the sink's message */
	} f;

	int n_files;
	json_t *files; /* summaries */
	struct period_src periods[SALES_IMPORT_MAX_PERIODS];
	size_t n_periods;
	struct cached *cache; /* STAGE_CACHE_SLOTS */
	size_t n_cached;
};

static const char *unit_of(enum sales_format fmt)
{
	return fmt == SALES_XLSX ? "row" : fmt == SALES_JSON ? "entry" : "line";
}

static const char *format_name(enum sales_format fmt)
{
	switch (fmt) {
	case SALES_CSV: return "csv";
	case SALES_XLSX: return "xlsx";
	case SALES_JSON: return "json";
	case SALES_UNKNOWN: break;
	}
	return "unknown";
}

/* Records the first failure: message prefixed with the file name when there is one. */
static enum rc fail(struct sales_import *imp, enum rc rc, const char *msg)
{
	if (imp->failed != RC_OK)
		return imp->failed;
	imp->failed = rc;
	if (imp->f.open && imp->f.name[0])
		snprintf(imp->err, sizeof imp->err, "%s: %s", imp->f.name, msg && msg[0] ? msg : rc_str(rc));
	else
		snprintf(imp->err, sizeof imp->err, "%s", msg && msg[0] ? msg : rc_str(rc));
	for (char *p = imp->err; *p; p++) /* one line, whatever a file name held */
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return rc;
}

const char *sales_import_error(const struct sales_import *imp)
{
	return imp->err;
}

/* Copies a valid period or fails. */
static enum rc set_period(struct sales_import *imp, char out[8], const char *value, const char *what)
{
	char msg[160];

	if (!value || !value[0]) {
		out[0] = '\0';
		return RC_OK;
	}
	if (!sales_period_is_valid(value)) {
		snprintf(msg, sizeof msg, "%s '%.20s' is not a month: expected YYYY-MM such as 2026-01", what, value);
		return fail(imp, RC_UNPROCESSABLE, msg);
	}
	memcpy(out, value, 8);
	return RC_OK;
}

enum rc sales_import_new(const struct sales_import_opts *opts, struct sales_import **out, char *err, size_t errlen)
{
	struct sales_import *imp = calloc(1, sizeof *imp);
	enum rc rc = RC_INTERNAL;

	*out = NULL;
	err[0] = '\0';
	if (!imp)
		goto out;
	imp->default_year = opts->default_year;
	imp->lang_en = opts->lang_en;
	imp->f.last_period = -1;
	imp->files = json_array();
	imp->cache = calloc(STAGE_CACHE_SLOTS, sizeof *imp->cache);
	if (opts->sheet && opts->sheet[0])
		imp->sheet = strdup(opts->sheet);
	if (!imp->files || !imp->cache || (opts->sheet && opts->sheet[0] && !imp->sheet))
		goto out;
	rc = set_period(imp, imp->period, opts->period, "period");
	if (rc != RC_OK)
		goto out;
	rc = db_open(opts->db_path, &imp->db);
	if (rc == RC_OK)
		rc = sales_stage_begin(imp->db);
	if (rc != RC_OK)
		fail(imp, rc, "database unavailable");
	else
		*out = imp;
out:
	if (rc != RC_OK) {
		snprintf(err, errlen, "%s", imp && imp->err[0] ? imp->err : "out of memory");
		sales_import_free(imp);
	}
	return rc;
}

static void close_file(struct sales_import *imp)
{
	csv_free(imp->f.csv);
	xlsx_free(imp->f.xlsx);
	buf_release(&imp->f.json);
	imp->f.csv = NULL;
	imp->f.xlsx = NULL;
	imp->f.open = false;
}

static void cache_clear(struct sales_import *imp)
{
	for (size_t i = 0; imp->cache && i < STAGE_CACHE_SLOTS; i++) {
		free(imp->cache[i].key);
		free(imp->cache[i].seller);
		imp->cache[i].key = imp->cache[i].seller = NULL;
	}
	imp->n_cached = 0;
}

void sales_import_free(struct sales_import *imp)
{
	if (!imp)
		return;
	close_file(imp);
	cache_clear(imp);
	free(imp->cache);
	if (imp->db) {
		sales_stage_discard(imp->db);
		db_close(imp->db);
	}
	json_decref(imp->files);
	free(imp->sheet);
	free(imp);
}

enum rc sales_import_field(struct sales_import *imp, const char *name, const char *value)
{
	if (imp->failed != RC_OK)
		return imp->failed;
	if (!strcmp(name, "period"))
		return set_period(imp, imp->field_period, value, "period");
	if (!strcmp(name, "sheet")) {
		free(imp->sheet);
		imp->sheet = value && value[0] ? strdup(value) : NULL;
		if (value && value[0] && !imp->sheet)
			return fail(imp, RC_INTERNAL, "out of memory");
	}
	return RC_OK;
}

/* ---------------------------------------------------------------- rows */

/* The period of the current file's rows that carry none; "" when unknown. */
static const char *file_period(struct sales_import *imp)
{
	if (!imp->f.period[0] && imp->f.xlsx && !imp->f.sheet_tried) {
		/* a sheet named after its month ("Janeiro") is the last hint */
		imp->f.sheet_tried = true;
		if (!sales_period_from_name(xlsx_sheet_name(imp->f.xlsx), imp->default_year, imp->f.period))
			imp->f.period[0] = '\0';
	}
	return imp->f.period;
}

/* Finds or records which file a period comes from; -1 after writing the reason. */
static int claim_period(struct sales_import *imp, const char *period, long line)
{
	const char *unit = unit_of(imp->f.fmt);
	int cur = imp->n_files;

	if (imp->f.last_period >= 0 && !strcmp(imp->periods[imp->f.last_period].period, period))
		return imp->f.last_period;
	for (size_t i = 0; i < imp->n_periods; i++) {
		if (strcmp(imp->periods[i].period, period))
			continue;
		if (imp->periods[i].file != cur) {
			json_t *o = json_array_get(imp->files, (size_t)imp->periods[i].file);
			const char *other = json_string_value(json_object_get(o, "filename"));

			snprintf(imp->f.rerr, sizeof imp->f.rerr,
			         "%s %ld: month %s is also in %s%.120s%s: send one file per month", unit, line, period,
			         other && other[0] ? "'" : "", other && other[0] ? other : "an earlier file",
			         other && other[0] ? "'" : "");
			return -1;
		}
		imp->f.last_period = (int)i;
		return (int)i;
	}
	if (imp->n_periods == SALES_IMPORT_MAX_PERIODS) {
		snprintf(imp->f.rerr, sizeof imp->f.rerr, "%s %ld: more than %d months in one upload", unit, line,
		         SALES_IMPORT_MAX_PERIODS);
		return -1;
	}
	memcpy(imp->periods[imp->n_periods].period, period, 8);
	imp->periods[imp->n_periods].file = cur;
	imp->f.last_period = (int)imp->n_periods;
	return (int)imp->n_periods++;
}

/* Writes every cached sum to the staging table and empties the cache. RC_UNPROCESSABLE (with
 * the reason in rerr) when a sum overflows there. */
static enum rc cache_flush(struct sales_import *imp)
{
	enum rc rc = RC_OK;

	for (size_t i = 0; i < STAGE_CACHE_SLOTS && rc == RC_OK; i++) {
		struct cached *c = &imp->cache[i];

		if (!c->key)
			continue;
		rc = sales_stage_add(imp->db, imp->periods[c->period].period, c->key, c->seller, c->cents,
		                     imp->f.name[0] ? imp->f.name : NULL);
		if (rc == RC_UNPROCESSABLE)
			snprintf(imp->f.rerr, sizeof imp->f.rerr, "the total of '%.60s' in %s is too large", c->seller,
			         imp->periods[c->period].period);
		else if (rc != RC_OK)
			snprintf(imp->f.rerr, sizeof imp->f.rerr, "could not stage the rows (%s)", rc_str(rc));
	}
	cache_clear(imp);
	return rc;
}

/* Adds cents to (period, key) in the cache; RC_UNPROCESSABLE when the sum would overflow. */
static enum rc cache_add(struct sales_import *imp, int pidx, const char *key, const char *seller, int64_t cents)
{
	uint32_t h = 2166136261u ^ (uint32_t)pidx; /* FNV-1a */
	size_t i;
	enum rc rc;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	for (i = h & (STAGE_CACHE_SLOTS - 1); imp->cache[i].key; i = (i + 1) & (STAGE_CACHE_SLOTS - 1)) {
		struct cached *c = &imp->cache[i];

		if (c->hash == h && c->period == pidx && !strcmp(c->key, key)) {
			if (c->cents > INT64_MAX - cents)
				return RC_UNPROCESSABLE;
			c->cents += cents;
			return RC_OK;
		}
	}
	if (imp->n_cached == STAGE_CACHE_MAX) {
		rc = cache_flush(imp);
		if (rc != RC_OK)
			return rc;
		return cache_add(imp, pidx, key, seller, cents);
	}
	imp->cache[i].key = strdup(key);
	imp->cache[i].seller = strdup(seller);
	if (!imp->cache[i].key || !imp->cache[i].seller) {
		free(imp->cache[i].key);
		free(imp->cache[i].seller);
		imp->cache[i].key = imp->cache[i].seller = NULL;
		return RC_INTERNAL;
	}
	imp->cache[i].cents = cents;
	imp->cache[i].hash = h;
	imp->cache[i].period = pidx;
	imp->n_cached++;
	return RC_OK;
}

static enum rc on_row(void *ctx, const struct sales_row *r)
{
	struct sales_import *imp = ctx;
	const char *unit = unit_of(imp->f.fmt);
	const char *period = r->period;
	enum rc rc;
	int pidx;

	if (period && imp->period[0] && strcmp(period, imp->period)) {
		snprintf(imp->f.rerr, sizeof imp->f.rerr, "%s %ld: month %s, but the upload is for period=%s", unit,
		         r->line, period, imp->period);
		return RC_UNPROCESSABLE;
	}
	if (!period)
		period = file_period(imp);
	if (!period[0]) {
		snprintf(imp->f.rerr, sizeof imp->f.rerr,
		         "%s %ld: no month for this row: pass ?period=YYYY-MM, add a month column, or name the file "
		         "after the month (janeiro.xlsx, 2026-01.csv)",
		         unit, r->line);
		return RC_UNPROCESSABLE;
	}
	pidx = claim_period(imp, period, r->line);
	if (pidx < 0)
		return RC_UNPROCESSABLE;
	rc = cache_add(imp, pidx, r->key, r->seller, r->cents);
	if (rc == RC_UNPROCESSABLE)
		snprintf(imp->f.rerr, sizeof imp->f.rerr, "%s %ld: the total of '%.60s' in %s is too large", unit,
		         r->line, r->seller, period);
	else if (rc != RC_OK)
		snprintf(imp->f.rerr, sizeof imp->f.rerr, "could not stage the rows (%s)", rc_str(rc));
	return rc;
}

/* ---------------------------------------------------------------- files */

enum rc sales_import_file_begin(struct sales_import *imp, const char *filename, const char *content_type)
{
	if (imp->failed != RC_OK)
		return imp->failed;
	close_file(imp);
	memset(&imp->f, 0, sizeof imp->f);
	imp->f.open = true;
	imp->f.last_period = -1;
	snprintf(imp->f.name, sizeof imp->f.name, "%s", filename ? filename : "");
	snprintf(imp->f.ctype, sizeof imp->f.ctype, "%s", content_type ? content_type : "");
	if (imp->n_files >= SALES_IMPORT_MAX_FILES)
		return fail(imp, RC_TOO_BIG, "too many files in one upload");
	if (imp->period[0])
		memcpy(imp->f.period, imp->period, 8);
	else if (imp->field_period[0])
		memcpy(imp->f.period, imp->field_period, 8);
	else if (!imp->f.name[0] || !sales_period_from_name(imp->f.name, imp->default_year, imp->f.period))
		imp->f.period[0] = '\0';
	imp->f.sink.row = on_row;
	imp->f.sink.ctx = imp;
	imp->f.sink.default_year = imp->default_year;
	return RC_OK;
}

static enum rc reader_failed(struct sales_import *imp, enum rc rc)
{
	return fail(imp, rc, imp->f.rerr);
}

static enum rc feed(struct sales_import *imp, const void *data, size_t len)
{
	enum rc rc = RC_OK;

	if (!len)
		return RC_OK;
	switch (imp->f.fmt) {
	case SALES_CSV: rc = csv_feed(imp->f.csv, data, len, imp->f.rerr, sizeof imp->f.rerr); break;
	case SALES_XLSX: rc = xlsx_feed(imp->f.xlsx, data, len, imp->f.rerr, sizeof imp->f.rerr); break;
	case SALES_JSON:
		rc = buf_append(&imp->f.json, data, len);
		if (rc == RC_TOO_BIG)
			snprintf(imp->f.rerr, sizeof imp->f.rerr, "JSON file larger than %d MiB",
			         SALES_IMPORT_JSON_MAX / (1024 * 1024));
		break;
	case SALES_UNKNOWN: rc = RC_UNSUPPORTED; break;
	}
	return rc == RC_OK ? RC_OK : reader_failed(imp, rc);
}

/* Chooses the reader from the bytes held so far and feeds them. */
static enum rc decide(struct sales_import *imp)
{
	imp->f.decided = true;
	imp->f.fmt = sales_detect(imp->f.head, imp->f.head_len, imp->f.ctype[0] ? imp->f.ctype : NULL,
	                          imp->f.name[0] ? imp->f.name : NULL);
	switch (imp->f.fmt) {
	case SALES_UNKNOWN: return fail(imp, RC_UNSUPPORTED, "not a spreadsheet (.xlsx), CSV or JSON file");
	case SALES_CSV: imp->f.csv = csv_new(&imp->f.sink); break;
	case SALES_XLSX: imp->f.xlsx = xlsx_new(&imp->f.sink, imp->sheet); break;
	case SALES_JSON: buf_init(&imp->f.json, SALES_IMPORT_JSON_MAX); break;
	}
	if ((imp->f.fmt == SALES_CSV && !imp->f.csv) || (imp->f.fmt == SALES_XLSX && !imp->f.xlsx))
		return fail(imp, RC_INTERNAL, "out of memory");
	return feed(imp, imp->f.head, imp->f.head_len);
}

enum rc sales_import_file_data(struct sales_import *imp, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (imp->failed != RC_OK)
		return imp->failed;
	if (!imp->f.open)
		return fail(imp, RC_INTERNAL, "data outside a file");
	if (!imp->f.decided) {
		size_t n = SALES_IMPORT_HEAD - imp->f.head_len;

		if (n > len)
			n = len;
		memcpy(imp->f.head + imp->f.head_len, p, n);
		imp->f.head_len += n;
		p += n;
		len -= n;
		if (imp->f.head_len < SALES_IMPORT_HEAD)
			return RC_OK;
		if (decide(imp) != RC_OK)
			return imp->failed;
	}
	return feed(imp, p, len);
}

/* Adds {file, format, rows, periods} for the file just read. */
static enum rc summarise(struct sales_import *imp)
{
	json_t *periods = json_array(), *o;

	for (size_t i = 0; periods && i < imp->n_periods; i++)
		if (imp->periods[i].file == imp->n_files)
			json_array_append_new(periods, json_string(imp->periods[i].period));
	o = json_pack("{s:s?,s:s,s:I,s:o*}", "filename", imp->f.name[0] ? imp->f.name : NULL, "format",
	              format_name(imp->f.fmt), "rows", (json_int_t)imp->f.sink.rows, "periods", periods);
	if (!o || json_array_append_new(imp->files, o))
		return fail(imp, RC_INTERNAL, "out of memory");
	return RC_OK;
}

enum rc sales_import_file_end(struct sales_import *imp)
{
	enum rc rc = RC_OK;

	if (imp->failed != RC_OK)
		return imp->failed;
	if (!imp->f.open)
		return fail(imp, RC_INTERNAL, "no file to end");
	if (!imp->f.decided && decide(imp) != RC_OK)
		return imp->failed;
	switch (imp->f.fmt) {
	case SALES_CSV: rc = csv_finish(imp->f.csv, imp->f.rerr, sizeof imp->f.rerr); break;
	case SALES_XLSX: rc = xlsx_finish(imp->f.xlsx, imp->f.rerr, sizeof imp->f.rerr); break;
	case SALES_JSON:
		rc = sales_parse_json(imp->f.json.data ? imp->f.json.data : "", imp->f.json.len, &imp->f.sink,
		                      imp->f.rerr, sizeof imp->f.rerr);
		break;
	case SALES_UNKNOWN: rc = RC_UNSUPPORTED; break;
	}
	if (rc == RC_OK)
		rc = cache_flush(imp); /* the rows carry this file's name as their source */
	if (rc != RC_OK)
		return reader_failed(imp, rc);
	if (imp->f.sink.rows == 0)
		return fail(imp, RC_UNPROCESSABLE, "no sales rows (only a header, blank lines or totals)");
	rc = summarise(imp);
	if (rc != RC_OK)
		return rc;
	imp->n_files++;
	close_file(imp);
	return RC_OK;
}

/* ---------------------------------------------------------------- announcing */

bool sales_import_message(const char *period, const char *seller, int64_t cents, int64_t target_cents, bool lang_en,
                          char *out, size_t len)
{
	char amount[AMOUNT_BRL_MAX], target[AMOUNT_BRL_MAX];
	const char *month;
	int y, m;

	out[0] = '\0';
	if (!sales_period_is_valid(period))
		return false;
	y = (int)strtol(period, NULL, 10);
	m = (int)strtol(period + 5, NULL, 10);
	month = sales_month_name(m, lang_en ? "en" : "pt-BR");
	amount_format_brl(cents, amount, sizeof amount);
	amount_format_brl(target_cents, target, sizeof target);
	if (lang_en)
		snprintf(out, len, "Goal reached in %s %d: %s sold %s (goal %s)", month, y, seller, amount, target);
	else
		snprintf(out, len, "Meta batida em %s/%d: %s vendeu %s (meta %s)", month, y, seller, amount, target);
	return true;
}

struct period_report {
	const struct sales_settings *settings;
	json_t *above; /* the upload's list, all periods */
	json_int_t n;  /* this period's count */
};

static enum rc collect_above(void *ctx, const struct sales_report_row *r)
{
	struct period_report *p = ctx;
	char amount[AMOUNT_BRL_MAX];

	if (!sales_is_above(p->settings, r->cents))
		return RC_OK;
	amount_format_brl(r->cents, amount, sizeof amount);
	p->n++;
	if (json_array_append_new(p->above, json_pack("{s:s,s:s,s:I,s:s,s:b}", "period", r->period, "seller", r->seller,
	                                              "amount_cents", (json_int_t)r->cents, "amount", amount,
	                                              "notified", r->notified_at != 0)))
		return RC_INTERNAL;
	return RC_OK;
}

/* Announces the unannounced sellers of one period; appends to notes. */
static enum rc announce(struct sales_import *imp, const char *period, const struct sales_settings *s, json_t *notes,
                        size_t *announced, int64_t *queued, int64_t now)
{
	struct sales_seller *who = NULL;
	size_t n = 0, max = SALES_IMPORT_MAX_ANNOUNCE + 1 - *announced;
	enum rc rc;

	who = calloc(max, sizeof *who);
	if (!who)
		return fail(imp, RC_INTERNAL, "out of memory");
	rc = sales_unannounced(imp->db, period, s, who, max, &n);
	if (rc != RC_OK) {
		fail(imp, rc, "database error while announcing");
		goto out;
	}
	if (*announced + n > SALES_IMPORT_MAX_ANNOUNCE) {
		char msg[200];

		snprintf(msg, sizeof msg,
		         "more than %d sellers above the goal to announce at once: check the target and the amounts' "
		         "unit",
		         SALES_IMPORT_MAX_ANNOUNCE);
		rc = fail(imp, RC_UNPROCESSABLE, msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char text[1024], idem[SALES_KEY_MAX + 64], amount[AMOUNT_BRL_MAX];
		json_t *phones = json_array();
		int64_t nid;

		rc = sales_notification_add(imp->db, period, who[i].key, who[i].cents, now, &nid);
		if (rc != RC_OK) {
			json_decref(phones);
			fail(imp, rc, "database error while announcing");
			goto out;
		}
		sales_import_message(period, who[i].seller, who[i].cents, s->target_cents, imp->lang_en, text,
		                     sizeof text);
		for (size_t k = 0; k < s->n_notify; k++) {
			struct outbox_msg m = {
			        .kind = OUTBOX_SMS,
			        .class_ = "sales",
			        .priority = OUTBOX_PRIO_SALES,
			        .to = s->notify[k],
			        .body = text,
			        .idem_key = idem,
			        .owner_type = "sales_notification",
			        .owner_id = nid,
			};
			int64_t oid;

			snprintf(idem, sizeof idem, "sales:%s:%s:%s", period, who[i].key, s->notify[k]);
			rc = outbox_enqueue(imp->db, &m, &oid);
			if (rc != RC_OK) {
				json_decref(phones);
				fail(imp, rc, "database error while queuing messages");
				goto out;
			}
			(*queued)++;
			json_array_append_new(phones, json_string(s->notify[k]));
		}
		amount_format_brl(who[i].cents, amount, sizeof amount);
		json_array_append_new(notes, json_pack("{s:s,s:s,s:I,s:s,s:s,s:o}", "period", period, "seller",
		                                       who[i].seller, "amount_cents", (json_int_t)who[i].cents,
		                                       "amount", amount, "message", text, "phones", phones));
	}
	*announced += n;
	rc = RC_OK;
out:
	free(who);
	return rc;
}

/* {period, sellers, total_cents, total, above_goal: count}; the sellers above the goal are
 * appended to above. */
static json_t *period_json(struct sales_import *imp, const char *period, const struct sales_settings *s, json_t *above)
{
	struct period_report pr = {s, above, 0};
	int64_t sellers = 0, total = 0;
	char amount[AMOUNT_BRL_MAX];

	if (sales_period_totals(imp->db, period, &sellers, &total) != RC_OK ||
	    sales_report(imp->db, period, period, collect_above, &pr) != RC_OK)
		return NULL;
	amount_format_brl(total, amount, sizeof amount);
	return json_pack("{s:s,s:I,s:I,s:s,s:I}", "period", period, "sellers", (json_int_t)sellers, "total_cents",
	                 (json_int_t)total, "total", amount, "above_goal", pr.n);
}

enum rc sales_import_commit(struct sales_import *imp, json_t **result, int64_t *queued_out)
{
	struct sales_settings s;
	json_t *periods = NULL, *per = json_array(), *notes = json_array(), *above = json_array(), *res = NULL;
	int64_t now = clock_now(), queued = 0, rows = 0;
	size_t announced = 0, i;
	char target[AMOUNT_BRL_MAX];
	enum rc rc;

	*result = NULL;
	if (queued_out)
		*queued_out = 0;
	if (imp->failed != RC_OK) {
		rc = imp->failed;
		goto out;
	}
	if (imp->f.open) {
		rc = fail(imp, RC_INTERNAL, "a file was not ended");
		goto out;
	}
	if (imp->n_files == 0) {
		rc = fail(imp, RC_UNPROCESSABLE, "no file in the upload");
		goto out;
	}
	if (!per || !notes || !above) {
		rc = fail(imp, RC_INTERNAL, "out of memory");
		goto out;
	}
	rc = sales_stage_end(imp->db);
	if (rc == RC_OK)
		rc = db_begin(imp->db);
	if (rc != RC_OK) {
		fail(imp, rc, rc == RC_BUSY ? "database busy, try again" : "database error");
		goto out;
	}
	rc = sales_replace_from_stage(imp->db, now, &rows);
	if (rc == RC_OK)
		rc = sales_stage_periods(imp->db, &periods);
	if (rc == RC_OK)
		rc = sales_settings_get(imp->db, &s);
	if (rc != RC_OK) {
		fail(imp, rc, "database error while importing");
		goto out;
	}
	for (i = 0; s.n_notify > 0 && i < json_array_size(periods); i++) {
		rc = announce(imp, json_string_value(json_array_get(periods, i)), &s, notes, &announced, &queued, now);
		if (rc != RC_OK)
			goto out;
	}
	for (i = 0; i < json_array_size(periods); i++) {
		json_t *p = period_json(imp, json_string_value(json_array_get(periods, i)), &s, above);

		if (!p || json_array_append_new(per, p)) {
			rc = fail(imp, RC_DB, "database error while summarising");
			goto out;
		}
	}
	rc = db_commit(imp->db);
	if (rc != RC_OK) {
		fail(imp, rc, rc == RC_BUSY ? "database busy, try again" : "database error");
		goto out;
	}
	amount_format_brl(s.target_cents, target, sizeof target);
	res = json_pack("{s:O,s:O,s:O,s:O,s:I,s:I,s:I,s:s,s:s,s:s}", "files", imp->files, "periods", per, "above_goal",
	                above, "notifications", notes, "rows", (json_int_t)rows, "queued", (json_int_t)queued,
	                "target_cents", (json_int_t)s.target_cents, "target", target, "currency", s.currency, "rule",
	                sales_rule_name(s.rule));
	if (res && s.n_notify == 0)
		json_object_set_new(
		        res, "warning",
		        json_string("no manager phones in /api/sales/settings: nobody was notified; sellers "
		                    "above the goal will be announced by the next import after phones are set"));
	log_info("sales import: %d file(s), %lld seller rows, %zu month(s), %lld message(s) queued", imp->n_files,
	         (long long)rows, json_array_size(periods), (long long)queued);
	*result = res;
	if (queued_out)
		*queued_out = queued;
	rc = res ? RC_OK : RC_INTERNAL;
out:
	/* rolls back whatever is still open after a failure; either way empties the staging table */
	sales_stage_discard(imp->db);
	json_decref(periods);
	json_decref(per);
	json_decref(notes);
	json_decref(above);
	return rc;
}
