/*
 * tests/unit/db/test_sales_db.c — db/sales.c (settings, staging sums and overflow, replacing
 * only the imported months, who is above the goal under each rule, the once-only record, the
 * report) and server/sales/sales_import.c end to end against a real temporary SQLite file:
 * notifications queued once per seller, month and phone, all of them, re-imports silent,
 * all-or-nothing uploads, month rules, staging that does not lock out other writers, the
 * announcement cap and the message texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/sales.h"
#include "core/buf.h"
#include "core/clock.h"
#include "sales/sales_import.h"

#include "tests/unit/testdb.h"

#define FIXTURES "tests/fixtures/sales/"

static char path[64];
static struct db *db;

static int setup(void **state)
{
	(void)state;
	db = testdb_open("sales", path);
	clock_set_offset(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(db, path);
	return 0;
}

static int64_t scalar(const char *sql)
{
	return testdb_scalar(db, sql);
}

static void set_phones(const char *const *phones, size_t n, int64_t target, enum sales_rule rule)
{
	struct sales_settings s;

	assert_int_equal(sales_settings_get(db, &s), RC_OK);
	s.target_cents = target;
	s.rule = rule;
	s.n_notify = n;
	for (size_t i = 0; i < n; i++)
		snprintf(s.notify[i], sizeof s.notify[i], "%s", phones[i]);
	assert_int_equal(sales_settings_put(db, &s, 1000), RC_OK);
}

/* ---------------------------------------------------------------- db/sales.c */

static void test_settings(void **state)
{
	static const char *const phones[] = {"+5511999990002", "+5511999990001"};
	struct sales_settings s;
	enum sales_rule r;

	(void)state;
	assert_int_equal(sales_settings_get(db, &s), RC_OK);
	assert_int_equal(s.target_cents, 5500000);
	assert_string_equal(s.currency, "BRL");
	assert_int_equal(s.rule, SALES_RULE_MORE_THAN);
	assert_int_equal(s.n_notify, 0);
	set_phones(phones, 2, 6000000, SALES_RULE_AT_LEAST);
	assert_int_equal(sales_settings_get(db, &s), RC_OK);
	assert_int_equal(s.target_cents, 6000000);
	assert_int_equal(s.rule, SALES_RULE_AT_LEAST);
	assert_int_equal(s.n_notify, 2);
	assert_string_equal(s.notify[0], "+5511999990002"); /* order kept */
	assert_string_equal(s.notify[1], "+5511999990001");
	set_phones(phones + 1, 1, 6000000, SALES_RULE_AT_LEAST); /* the list is replaced */
	assert_int_equal(sales_settings_get(db, &s), RC_OK);
	assert_int_equal(s.n_notify, 1);
	assert_true(sales_rule_parse("at_least", &r) && r == SALES_RULE_AT_LEAST);
	assert_true(sales_rule_parse("more_than", &r) && r == SALES_RULE_MORE_THAN);
	assert_false(sales_rule_parse("more", &r));
	s.target_cents = 100;
	s.rule = SALES_RULE_MORE_THAN;
	assert_false(sales_is_above(&s, 100));
	assert_true(sales_is_above(&s, 101));
	s.rule = SALES_RULE_AT_LEAST;
	assert_true(sales_is_above(&s, 100));
	assert_false(sales_is_above(&s, 99));
}

static void stage(const char *period, const char *key, int64_t cents)
{
	assert_int_equal(sales_stage_add(db, period, key, key, cents, "t.csv"), RC_OK);
}

static void test_stage_and_replace(void **state)
{
	struct sales_settings s;
	struct sales_seller who[4];
	int64_t rows, id;
	size_t n;

	(void)state;
	/* February exists before; importing January must leave it alone */
	assert_int_equal(sales_stage_begin(db), RC_OK);
	stage("2026-02", "old", 100);
	assert_int_equal(sales_stage_end(db), RC_OK);
	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(sales_replace_from_stage(db, 10, &rows), RC_OK);
	assert_int_equal(db_commit(db), RC_OK);
	sales_stage_discard(db);

	assert_int_equal(sales_stage_begin(db), RC_OK);
	stage("2026-01", "ana", 3000000);
	stage("2026-01", "ana", 2732000); /* summed */
	stage("2026-01", "bia", 5500000);
	stage("2026-01", "caio", INT64_MAX - 1);
	assert_int_equal(sales_stage_add(db, "2026-01", "caio", "caio", 2, NULL), RC_UNPROCESSABLE); /* overflow */
	assert_int_equal(sales_stage_end(db), RC_OK);
	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(sales_replace_from_stage(db, 20, &rows), RC_OK);
	assert_int_equal(rows, 3);
	assert_int_equal(db_commit(db), RC_OK);
	sales_stage_discard(db);
	assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE seller_key = 'ana'"), 5732000);
	assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE seller_key = 'caio'"), INT64_MAX - 1);
	assert_int_equal(scalar("SELECT count(*) FROM sales WHERE period = '2026-02'"), 1);
	assert_int_equal(scalar("SELECT count(*) FROM temp.sales_stage"), 0);

	/* above the goal: more_than excludes bia at exactly the target, at_least includes her */
	assert_int_equal(sales_settings_get(db, &s), RC_OK);
	assert_int_equal(sales_unannounced(db, "2026-01", &s, who, 4, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(who[0].key, "caio"); /* largest first */
	assert_string_equal(who[1].key, "ana");
	assert_int_equal(who[1].cents, 5732000);
	s.rule = SALES_RULE_AT_LEAST;
	assert_int_equal(sales_unannounced(db, "2026-01", &s, who, 1, &n), RC_OK);
	assert_int_equal(n, 3); /* counted beyond max */

	/* once announced, never again */
	assert_int_equal(sales_notification_add(db, "2026-01", "ana", 5732000, 30, &id), RC_OK);
	assert_true(id > 0);
	assert_int_equal(sales_notification_add(db, "2026-01", "ana", 1, 31, &id), RC_CONFLICT);
	assert_int_equal(sales_unannounced(db, "2026-01", &s, who, 4, &n), RC_OK);
	assert_int_equal(n, 2);

	/* re-import of January with other figures replaces it whole: bia disappears */
	assert_int_equal(sales_stage_begin(db), RC_OK);
	stage("2026-01", "ana", 10);
	assert_int_equal(sales_stage_end(db), RC_OK);
	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(sales_replace_from_stage(db, 40, &rows), RC_OK);
	assert_int_equal(db_commit(db), RC_OK);
	sales_stage_discard(db);
	assert_int_equal(scalar("SELECT count(*) FROM sales WHERE period = '2026-01'"), 1);
	assert_int_equal(scalar("SELECT count(*) FROM sales WHERE period = '2026-02'"), 1);
	/* the announcement record stays */
	assert_int_equal(scalar("SELECT count(*) FROM sales_notifications"), 1);
}

struct seen {
	struct buf b;
};

static enum rc collect(void *ctx, const struct sales_report_row *r)
{
	struct seen *s = ctx;

	return buf_printf(&s->b, "%s %s %lld %lld;", r->period, r->key, (long long)r->cents, (long long)r->notified_at);
}

static void test_report(void **state)
{
	struct seen s;
	int64_t rows, id, sellers, total;

	(void)state;
	assert_int_equal(sales_stage_begin(db), RC_OK);
	stage("2026-01", "b", 5);
	stage("2026-01", "a", 5);
	stage("2026-01", "c", 9);
	stage("2026-03", "a", 1);
	stage("2025-12", "z", 1);
	assert_int_equal(sales_stage_end(db), RC_OK);
	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(sales_replace_from_stage(db, 1, &rows), RC_OK);
	assert_int_equal(sales_notification_add(db, "2026-01", "c", 9, 77, &id), RC_OK);
	assert_int_equal(db_commit(db), RC_OK);
	sales_stage_discard(db);

	buf_init(&s.b, 4096);
	assert_int_equal(sales_report(db, "2026-01", "2026-03", collect, &s), RC_OK);
	assert_string_equal(s.b.data, "2026-01 c 9 77;2026-01 a 5 0;2026-01 b 5 0;2026-03 a 1 0;");
	buf_release(&s.b);
	assert_int_equal(sales_period_totals(db, "2026-01", &sellers, &total), RC_OK);
	assert_int_equal(sellers, 3);
	assert_int_equal(total, 19);
	assert_int_equal(sales_period_totals(db, "2030-01", &sellers, &total), RC_OK);
	assert_int_equal(sellers, 0);
	assert_int_equal(total, 0);
}

/* ---------------------------------------------------------------- sales_import */

struct result {
	enum rc rc;
	char err[SALES_IMPORT_ERR_MAX];
	json_t *json;
	int64_t queued;
};

struct file {
	const char *name;  /* NULL: none */
	const char *ctype; /* NULL: none */
	const char *data;  /* NULL: read FIXTURES name */
	size_t len;
};

static char *load(const char *name, size_t *len)
{
	char p[256];
	FILE *f;
	char *data;
	long n;

	snprintf(p, sizeof p, FIXTURES "%s", name);
	f = fopen(p, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", p);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Imports files, each fed in chunks of `chunk` bytes (0: whole). */
static struct result import_opts(const struct sales_import_opts *o, const struct file *files, size_t n, size_t chunk)
{
	struct sales_import *imp;
	struct result r = {0};
	struct sales_import_opts opts = *o;

	opts.db_path = path;
	r.rc = sales_import_new(&opts, &imp, r.err, sizeof r.err);
	if (r.rc != RC_OK)
		return r;
	for (size_t i = 0; i < n && r.rc == RC_OK; i++) {
		size_t len = files[i].len, at = 0;
		char *owned = NULL;
		const char *data = files[i].data;

		if (!data) {
			owned = load(files[i].name, &len);
			data = owned;
		} else if (!len) {
			len = strlen(data);
		}
		r.rc = sales_import_file_begin(imp, files[i].name, files[i].ctype);
		while (r.rc == RC_OK && at < len) {
			size_t k = chunk && len - at > chunk ? chunk : len - at;

			r.rc = sales_import_file_data(imp, data + at, k);
			at += k;
		}
		if (r.rc == RC_OK)
			r.rc = sales_import_file_end(imp);
		free(owned);
	}
	if (r.rc == RC_OK)
		r.rc = sales_import_commit(imp, &r.json, &r.queued);
	snprintf(r.err, sizeof r.err, "%s", sales_import_error(imp));
	sales_import_free(imp);
	return r;
}

static struct result import(const char *period, const struct file *files, size_t n)
{
	struct sales_import_opts o = {.period = period, .default_year = 2026};

	return import_opts(&o, files, n, 0);
}

static const char *const managers[] = {"+5511999990001", "+5511999990002"};

static void test_import_csv_notifies_once(void **state)
{
	struct file f = {"vendas.csv", "text/csv",
	                 "vendedor;valor\nAna Souza;30.000,00\nBruno;10,00\nana souza;27.320,00\nCarla;55.000,00\n", 0};
	struct result r;

	(void)state;
	set_phones(managers, 2, 5500000, SALES_RULE_MORE_THAN);
	r = import("2026-01", &f, 1);
	assert_int_equal(r.rc, RC_OK);
	assert_int_equal(r.queued, 2); /* Ana, to two managers; Carla is at the goal, not above */
	assert_int_equal(json_integer_value(json_object_get(r.json, "rows")), 3);
	json_decref(r.json);
	assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE seller_key = 'ana souza'"), 5732000);
	assert_int_equal(scalar("SELECT count(*) FROM outbox WHERE class = 'sales' AND priority = 2 AND kind = 'sms' "
	                        "AND body = 'Meta batida em janeiro/2026: Ana Souza vendeu R$ 57.320,00 (meta "
	                        "R$ 55.000,00)' AND owner_type = 'sales_notification'"),
	                 2);
	assert_int_equal(
	        scalar("SELECT count(*) FROM outbox WHERE idem_key IN ('sales:2026-01:ana souza:+5511999990001',"
	               "'sales:2026-01:ana souza:+5511999990002')"),
	        2);
	/* the same file again: nothing new */
	r = import("2026-01", &f, 1);
	assert_int_equal(r.rc, RC_OK);
	assert_int_equal(r.queued, 0);
	assert_int_equal(json_array_size(json_object_get(r.json, "notifications")), 0);
	json_decref(r.json);
	assert_int_equal(scalar("SELECT count(*) FROM outbox"), 2);

	/* a corrected file where Carla passes the goal too: only Carla is announced, Ana stays done */
	f.data = "vendedor;valor\nAna Souza;57.320,00\nCarla;55.000,01\nDavi;90.000,00\n";
	r = import("2026-01", &f, 1);
	assert_int_equal(r.rc, RC_OK);
	assert_int_equal(r.queued, 4);
	json_decref(r.json);
	assert_int_equal(scalar("SELECT count(*) FROM outbox"), 6);
	assert_int_equal(scalar("SELECT count(*) FROM sales_notifications WHERE period = '2026-01'"), 3);
	assert_int_equal(scalar("SELECT count(*) FROM outbox WHERE to_number = '+5511999990002' AND body LIKE "
	                        "'%Carla vendeu R$ 55.000,01%'"),
	                 1);
}

static void test_import_chunks(void **state)
{
	struct sales_import_opts o = {.period = "2026-01", .default_year = 2026};
	struct file f = {"br_semicolon.csv", NULL, NULL, 0};

	(void)state;
	/* the same answer whatever the chunk size */
	for (size_t chunk = 1; chunk <= 64; chunk = chunk * 2 + 1) {
		struct result r = import_opts(&o, &f, 1, chunk);

		if (r.rc != RC_OK)
			fail_msg("chunk %zu: %s", chunk, r.err);
		assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE seller_key = 'ana souza'"), 5732000);
		assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE seller_key = 'carla;dias'"), 4850050);
		assert_int_equal(scalar("SELECT count(*) FROM sales"), 4);
		json_decref(r.json);
	}
}

static void test_import_xlsx_months(void **state)
{
	struct file files[] = {
	        {"janeiro 2026.xlsx", NULL, NULL, 0}, {"fevereiro 2026.xlsx", NULL, NULL, 0},
	        {"Março_2026.xlsx", NULL, NULL, 0},   {"vendas-abril-2026.xlsx", NULL, NULL, 0},
	        {"2026-05.xlsx", NULL, NULL, 0},      {"junho.xlsx", NULL, NULL, 0},
	};
	struct result r;

	(void)state;
	set_phones(managers, 1, 5500000, SALES_RULE_MORE_THAN);
	r = import(NULL, files, 6);
	if (r.rc != RC_OK)
		fail_msg("%s", r.err);
	/* above R$ 55.000,00: jan Ana; feb Bruno, Carla; mar Ana; apr Bruno; may Bruno, Carla; jun Ana, Carla */
	assert_int_equal(r.queued, 9);
	assert_int_equal(json_array_size(json_object_get(r.json, "periods")), 6);
	json_decref(r.json);
	assert_int_equal(scalar("SELECT count(DISTINCT period) FROM sales"), 6);
	assert_int_equal(
	        scalar("SELECT count(*) FROM outbox WHERE body = 'Meta batida em junho/2026: Carla Dias vendeu "
	               "R$ 55.000,50 (meta R$ 55.000,00)'"),
	        1);
	/* "Aná Souza" with exactly 55.000,00 in April is not above */
	assert_int_equal(scalar("SELECT count(*) FROM sales_notifications WHERE period = '2026-04'"), 1);
	/* all six again: silent */
	r = import(NULL, files, 6);
	assert_int_equal(r.rc, RC_OK);
	assert_int_equal(r.queued, 0);
	json_decref(r.json);
	assert_int_equal(scalar("SELECT count(*) FROM outbox"), 9);
}

/* One bad file rejects the upload; nothing at all is written. */
static void test_import_all_or_nothing(void **state)
{
	struct file files[] = {
	        {"janeiro 2026.xlsx", NULL, NULL, 0},
	        {"fevereiro 2026.csv", NULL, NULL, 0},
	};
	struct result r;
	size_t len;
	char *line17 = load("line17.csv", &len);

	(void)state;
	files[1].data = line17;
	files[1].len = len;
	set_phones(managers, 2, 5500000, SALES_RULE_MORE_THAN);
	r = import(NULL, files, 2);
	free(line17);
	assert_int_equal(r.rc, RC_UNPROCESSABLE);
	assert_string_equal(r.err, "fevereiro 2026.csv: line 17: amount 'abc' is not a number");
	assert_null(r.json);
	assert_int_equal(scalar("SELECT count(*) FROM sales"), 0);
	assert_int_equal(scalar("SELECT count(*) FROM outbox"), 0);
	assert_int_equal(scalar("SELECT count(*) FROM sales_notifications"), 0);
}

static void expect_fail(const char *period, const struct file *files, size_t n, enum rc rc, const char *msg)
{
	struct result r = import(period, files, n);

	if (r.rc != rc || !strstr(r.err, msg))
		fail_msg("rc %d (want %d), '%s' (want '%s')", r.rc, rc, r.err, msg);
	assert_null(strchr(r.err, '\n'));
	assert_int_equal(scalar("SELECT count(*) FROM sales"), 0);
}

static void test_import_errors(void **state)
{
	struct file png = {"x.png", "image/png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16};
	struct file dup[] = {{"junho.xlsx", NULL, NULL, 0}, {"2026-06.csv", NULL, "vendedor,valor\nAna,1\n", 0}};
	struct file other_month = {"v.csv", NULL, "vendedor;valor;mes\nAna;1,00;2026-02\n", 0};
	struct file no_month = {NULL, NULL, "vendedor;valor\nAna;1,00\n", 0};
	struct file empty = {"e.csv", NULL, "", 0};
	struct file header = {"h.csv", NULL, "vendedor;valor\n", 0};
	struct file totals = {"t.csv", NULL, "vendedor;valor\nTotal;10,00\n", 0};
	struct file bomb = {"bomb.xlsx", NULL, NULL, 0};
	struct file corrupt = {"corrupt.xlsx", NULL, NULL, 0};
	struct file notxlsx = {"not_xlsx.zip", NULL, NULL, 0};
	struct file missing = {"missing_columns.csv", NULL, NULL, 0};
	struct file json = {NULL, "application/json", "[{\"seller\": \"Ana\", \"amount\": \"x\"}]", 0};
	struct result r;

	(void)state;
	expect_fail("2026-01", &png, 1, RC_UNSUPPORTED, "x.png: not a spreadsheet");
	expect_fail(NULL, dup, 2, RC_UNPROCESSABLE, "month 2026-06 is also in 'junho.xlsx'");
	expect_fail("2026-01", &other_month, 1, RC_UNPROCESSABLE, "line 2: month 2026-02, but the upload is for");
	expect_fail(NULL, &no_month, 1, RC_UNPROCESSABLE, "line 2: no month for this row");
	expect_fail("2026-01", &empty, 1, RC_UNPROCESSABLE, "e.csv: empty file");
	expect_fail("2026-01", &header, 1, RC_UNPROCESSABLE, "h.csv: ");
	expect_fail("2026-01", &totals, 1, RC_UNPROCESSABLE, "no sales rows");
	expect_fail("2026-01", &bomb, 1, RC_TOO_BIG, "bomb.xlsx: ");
	expect_fail("2026-01", &corrupt, 1, RC_UNPROCESSABLE, "corrupt");
	expect_fail("2026-01", &notxlsx, 1, RC_UNPROCESSABLE, "not an .xlsx");
	expect_fail("2026-01", &missing, 1, RC_UNPROCESSABLE, "found 'Produto'");
	expect_fail("2026-01", &json, 1, RC_UNPROCESSABLE, "entry 1");
	expect_fail("2026-01", NULL, 0, RC_UNPROCESSABLE, "no file");
	r = import("2026-13", NULL, 0);
	assert_int_equal(r.rc, RC_UNPROCESSABLE);
	assert_non_null(strstr(r.err, "'2026-13' is not a month"));
}

static enum rc feed(struct sales_import *imp, const char *text)
{
	return sales_import_file_data(imp, text, strlen(text));
}

/* Months from the row, the period option, a form field, the file name, the sheet name. */
static void test_import_periods(void **state)
{
	struct sales_import *imp;
	struct sales_import_opts o = {.db_path = path, .default_year = 2025};
	json_t *res;
	char err[256];
	int64_t q;

	(void)state;
	assert_int_equal(sales_import_new(&o, &imp, err, sizeof err), RC_OK);
	/* the field sets the month of the next files; a row's own month wins */
	assert_int_equal(sales_import_field(imp, "period", "2026-07"), RC_OK);
	assert_int_equal(sales_import_field(imp, "other", "x"), RC_OK);
	assert_int_equal(sales_import_file_begin(imp, "whatever.csv", NULL), RC_OK);
	assert_int_equal(feed(imp, "vendedor;valor;mes\nAna;1;\nBia;2;2026-08\n"), RC_OK);
	assert_int_equal(sales_import_file_end(imp), RC_OK);
	assert_int_equal(sales_import_field(imp, "period", ""), RC_OK);
	/* the name "março" with the default year */
	assert_int_equal(sales_import_file_begin(imp, "março.csv", NULL), RC_OK);
	assert_int_equal(feed(imp, "vendedor;valor\nCaio;3\n"), RC_OK);
	assert_int_equal(sales_import_file_end(imp), RC_OK);
	assert_int_equal(sales_import_commit(imp, &res, &q), RC_OK);
	json_decref(res);
	sales_import_free(imp);
	assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE period = '2026-07' AND seller_key = 'ana'"), 100);
	assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE period = '2026-08' AND seller_key = 'bia'"), 200);
	assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE period = '2025-03' AND seller_key = 'caio'"),
	                 300);

	assert_int_equal(sales_import_new(&o, &imp, err, sizeof err), RC_OK);
	assert_int_equal(sales_import_field(imp, "period", "julho"), RC_UNPROCESSABLE);
	assert_non_null(strstr(sales_import_error(imp), "'julho' is not a month"));
	assert_int_equal(sales_import_file_begin(imp, "a.csv", NULL), RC_UNPROCESSABLE); /* sticky */
	sales_import_free(imp);
}

/* Without phones nobody is recorded as announced; once phones exist, the next import does it. */
static void test_import_without_phones(void **state)
{
	struct file f = {"v.csv", NULL, "vendedor;valor\nAna;60.000,00\n", 0};
	struct result r;

	(void)state;
	r = import("2026-01", &f, 1);
	assert_int_equal(r.rc, RC_OK);
	assert_int_equal(r.queued, 0);
	assert_non_null(json_object_get(r.json, "warning"));
	json_decref(r.json);
	assert_int_equal(scalar("SELECT count(*) FROM sales_notifications"), 0);
	set_phones(managers, 1, 5500000, SALES_RULE_MORE_THAN);
	r = import("2026-01", &f, 1);
	assert_int_equal(r.queued, 1);
	assert_null(json_object_get(r.json, "warning"));
	json_decref(r.json);
}

/* Staging a slow upload takes no lock on the database: another connection writes meanwhile. */
static void test_staging_does_not_lock(void **state)
{
	struct sales_import *imp;
	struct sales_import_opts o = {.db_path = path, .period = "2026-01", .default_year = 2026};
	json_t *res;
	char err[256];
	int64_t q;

	(void)state;
	assert_int_equal(sales_import_new(&o, &imp, err, sizeof err), RC_OK);
	assert_int_equal(sales_import_file_begin(imp, "v.csv", NULL), RC_OK);
	assert_int_equal(feed(imp, "vendedor;valor\nAna;1\nBia;2\n"), RC_OK);
	assert_int_equal(db_begin(db), RC_OK); /* BEGIN IMMEDIATE on the worker's connection */
	assert_int_equal(db_exec(db, "INSERT INTO audit (at, actor, action) VALUES (1, 'x', 'y')"), RC_OK);
	assert_int_equal(db_commit(db), RC_OK);
	assert_int_equal(sales_import_file_end(imp), RC_OK);
	assert_int_equal(sales_import_commit(imp, &res, &q), RC_OK);
	json_decref(res);
	sales_import_free(imp);
	assert_int_equal(scalar("SELECT count(*) FROM sales"), 2);
}

/* A target off by a factor of 100 must not text managers a thousand times. */
static void test_announce_cap(void **state)
{
	struct buf csv;
	struct file f = {"v.csv", NULL, NULL, 0};
	struct result r;

	(void)state;
	set_phones(managers, 1, 1, SALES_RULE_MORE_THAN);
	buf_init(&csv, 1 << 20);
	buf_puts(&csv, "vendedor;valor\n");
	for (int i = 0; i <= SALES_IMPORT_MAX_ANNOUNCE; i++)
		buf_printf(&csv, "Vendedor %d;100,00\n", i);
	f.data = csv.data;
	r = import("2026-01", &f, 1);
	assert_int_equal(r.rc, RC_UNPROCESSABLE);
	assert_non_null(strstr(r.err, "sellers above the goal"));
	assert_int_equal(scalar("SELECT count(*) FROM outbox"), 0);
	assert_int_equal(scalar("SELECT count(*) FROM sales"), 0);
	buf_release(&csv);
}

/* Sums are cached in memory and flushed every 1024 sellers: many distinct sellers, each
 * seen again after a flush, still add up; an overflowing total is refused either way. */
static void test_import_many_sellers(void **state)
{
	struct buf csv;
	struct file f = {"v.csv", NULL, NULL, 0};
	struct file big = {"b.csv", NULL,
	                   "vendedor;valor\nAna;50.000.000.000.000.000,00\nAna;50.000.000.000.000.000,00\n", 0};
	struct result r;

	(void)state;
	buf_init(&csv, 1 << 22);
	buf_puts(&csv, "vendedor;valor\n");
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 3000; i++)
			buf_printf(&csv, "%s %d;%d,%02d\n", round == 1 ? "VENDEDOR" : "Vendedor", i, i, round);
	f.data = csv.data;
	r = import("2026-01", &f, 1);
	if (r.rc != RC_OK)
		fail_msg("%s", r.err);
	json_decref(r.json);
	assert_int_equal(scalar("SELECT count(*) FROM sales"), 3000);
	/* i reais three times plus 0 + 1 + 2 cents */
	assert_int_equal(scalar("SELECT amount_cents FROM sales WHERE seller_key = 'vendedor 2999'"), 3 * 299900 + 3);
	assert_int_equal(scalar("SELECT count(*) FROM sales WHERE seller LIKE 'Vendedor %'"),
	                 3000); /* first spelling */
	assert_int_equal(scalar("SELECT sum(amount_cents) FROM sales"), 3 * (2999 * 3000 / 2) * 100 + 3000 * 3);
	buf_release(&csv);

	r = import("2026-02", &big, 1);
	assert_int_equal(r.rc, RC_UNPROCESSABLE);
	assert_string_equal(r.err, "b.csv: line 3: the total of 'Ana' in 2026-02 is too large");
	/* the same overflow met when a flushed sum meets a cached one */
	buf_init(&csv, 1 << 22);
	buf_puts(&csv, "vendedor;valor\nAna;50.000.000.000.000.000,00\n");
	for (int i = 0; i < 1100; i++)
		buf_printf(&csv, "Outro %d;1,00\n", i);
	buf_puts(&csv, "Ana;50.000.000.000.000.000,00\n");
	f.data = csv.data;
	r = import("2026-02", &f, 1);
	assert_int_equal(r.rc, RC_UNPROCESSABLE);
	assert_non_null(strstr(r.err, "the total of 'Ana' in 2026-02 is too large"));
	assert_int_equal(scalar("SELECT count(*) FROM sales WHERE period = '2026-02'"), 0);
	buf_release(&csv);
}

static void test_messages(void **state)
{
	char m[256];

	(void)state;
	assert_true(sales_import_message("2026-01", "Ana Souza", 5732000, 5500000, false, m, sizeof m));
	assert_string_equal(m, "Meta batida em janeiro/2026: Ana Souza vendeu R$ 57.320,00 (meta R$ 55.000,00)");
	assert_true(sales_import_message("2026-03", "Ana Souza", 5732000, 5500000, true, m, sizeof m));
	assert_string_equal(m, "Goal reached in March 2026: Ana Souza sold R$ 57.320,00 (goal R$ 55.000,00)");
	assert_false(sales_import_message("2026-13", "Ana", 1, 1, false, m, sizeof m));
	assert_string_equal(m, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stage_and_replace, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_csv_notifies_once, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_chunks, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_xlsx_months, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_all_or_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_periods, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_without_phones, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_staging_does_not_lock, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_announce_cap, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_import_many_sellers, setup, teardown),
	        cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
