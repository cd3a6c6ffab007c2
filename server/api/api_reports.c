/*
 * server/api/api_reports.c — the monthly sobreaviso report (api_reports.h): loads the month's
 * schedule (rotation and overrides, as /api/schedule computes it), splits it with
 * server/rotation/sobreaviso.c, answers JSON or CSV. Reads only.
 */
#include "api/api_reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_list.h"
#include "core/app.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "db/people.h"
#include "db/rotation.h"
#include "rotation/holidays.h"
#include "rotation/schedule.h"
#include "rotation/sobreaviso.h"
#include "rotation/tz.h"

#define REPORT_CSV_MAX (1024 * 1024)

static const char *const class_names[SOBREAVISO_CLASSES] = {"weekday", "weekend", "holiday"};

/* Hours with two decimals, rounded to the nearest hundredth, with the decimal mark given. */
static void hours_text(int64_t seconds, char mark, char *out, size_t len)
{
	int64_t h = (seconds * 100 + 1800) / 3600;

	snprintf(out, len, "%lld%c%02lld", (long long)(h / 100), mark, (long long)(h % 100));
}

static json_t *hours_json(int64_t seconds)
{
	return json_real((double)((seconds * 100 + 1800) / 3600) / 100.0);
}

static void add_classes(json_t *o, const int64_t *seconds)
{
	int64_t total = 0;
	char key[32];
	int c;

	for (c = 0; c < SOBREAVISO_CLASSES; c++) {
		snprintf(key, sizeof key, "%s_hours", class_names[c]);
		json_object_set_new(o, key, hours_json(seconds[c]));
		snprintf(key, sizeof key, "%s_seconds", class_names[c]);
		json_object_set_new(o, key, json_integer(seconds[c]));
		total += seconds[c];
	}
	json_object_set_new(o, "total_hours", hours_json(total));
	json_object_set_new(o, "total_seconds", json_integer(total));
}

/* One CSV field, quoted when it holds the separator, a quote or a line break (RFC 4180). A
 * field that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is quoted with a
 * leading apostrophe, so a person named "=HYPERLINK(…)" stays text in payroll's Excel. */
static enum rc csv_field(struct buf *b, const char *s, char sep)
{
	enum rc rc = RC_OK;
	const char *p;
	bool formula = s[0] && strchr("=+-@\t\r", s[0]);

	if (!formula && !strchr(s, sep) && !strpbrk(s, "\"\r\n"))
		return buf_puts(b, s);
	rc = buf_puts(b, formula ? "\"'" : "\"");
	for (p = s; rc == RC_OK && *p; p++)
		rc = *p == '"' ? buf_puts(b, "\"\"") : buf_append(b, p, 1);
	return rc == RC_OK ? buf_puts(b, "\"") : rc;
}

static enum rc csv_line(struct buf *b, char sep, char mark, const char *id, const char *name, const int64_t *secs)
{
	int64_t total = 0;
	char num[32], s[2] = {sep, '\0'};
	enum rc rc = csv_field(b, id, sep);
	int c;

	if (rc == RC_OK)
		rc = buf_puts(b, s);
	if (rc == RC_OK)
		rc = csv_field(b, name, sep);
	for (c = 0; rc == RC_OK && c <= SOBREAVISO_CLASSES; c++) {
		int64_t v = c < SOBREAVISO_CLASSES ? secs[c] : total;

		if (c < SOBREAVISO_CLASSES)
			total += secs[c];
		hours_text(v, mark, num, sizeof num);
		rc = buf_puts(b, s);
		if (rc == RC_OK)
			rc = buf_puts(b, num);
	}
	return rc == RC_OK ? buf_puts(b, "\r\n") : rc;
}

static enum rc reply_csv(struct http_req *req, const char *month, const struct sobreaviso_report *r, json_t *people)
{
	bool pt = strcmp(req->app->cfg->lang, "en") != 0;
	char sep = pt ? ';' : ',', mark = pt ? ',' : '.';
	char disp[96];
	struct buf b;
	size_t i;
	enum rc rc;

	buf_init(&b, REPORT_CSV_MAX);
	rc = buf_puts(&b, "\xEF\xBB\xBF"); /* byte-order mark: Excel then reads UTF-8 names */
	if (rc == RC_OK)
		rc = buf_puts(&b, pt ? "id;pessoa;horas_dias_uteis;horas_fim_de_semana;horas_feriados;horas_total\r\n"
		                     : "id,person,weekday_hours,weekend_hours,holiday_hours,total_hours\r\n");
	for (i = 0; rc == RC_OK && i < json_array_size(people); i++) {
		json_t *p = json_array_get(people, i);
		int64_t secs[SOBREAVISO_CLASSES];
		char id[24], key[32];
		int c;

		for (c = 0; c < SOBREAVISO_CLASSES; c++) {
			snprintf(key, sizeof key, "%s_seconds", class_names[c]);
			secs[c] = json_integer_value(json_object_get(p, key));
		}
		snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(p, "person_id")));
		rc = csv_line(&b, sep, mark, id, json_string_value(json_object_get(p, "name")), secs);
	}
	if (rc == RC_OK)
		rc = csv_line(&b, sep, mark, "", pt ? "(ninguém de plantão)" : "(nobody on call)", r->uncovered);
	if (rc != RC_OK) {
		buf_release(&b);
		return http_fail(req, rc, "cannot write the report");
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"sobreaviso-%s.csv\"", month);
	http_add_header(req, "Content-Disposition", disp);
	rc = http_reply(req, 200, "text/csv; charset=utf-8", b.data, b.len);
	buf_release(&b);
	return rc;
}

enum rc api_reports_sobreaviso(struct http_req *req)
{
	static const char *const allowed[] = {"month", "format", "person", NULL};
	const char *country = req->app->cfg->country, *mtext = http_query(req, "month");
	const char *format = http_query(req, "format");
	char zone[TZ_NAME_MAX + 1], month[32], text[40];
	struct rotation_snapshot snap;
	struct schedule_shift *shifts = NULL;
	struct sobreaviso_report r;
	int year, mon, d, c;
	int64_t person = 0;
	size_t n = 0, i;
	json_t *out = NULL, *people = NULL, *hol = NULL, *o;
	enum rc rc;

	memset(&snap, 0, sizeof snap);
	memset(&r, 0, sizeof r);
	api_list_zone(req, zone, sizeof zone);
	rc = api_list_params(req, allowed);
	if (rc == RC_OK)
		rc = api_list_int(req, "person", 0, 1, INT64_MAX, &person);
	if (rc != RC_OK)
		return rc;
	if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
		return http_fail(req, RC_INVALID, "format: expected json or csv");
	if (mtext) {
		char tail;

		if (strlen(mtext) != 7 || sscanf(mtext, "%4d-%2d%c", &year, &mon, &tail) != 2 || mtext[4] != '-' ||
		    year < 1970 || year > 9998 || mon < 1 || mon > 12)
			return http_fail(req, RC_INVALID, "month: expected YYYY-MM (2026-11)");
	} else {
		struct tm now;

		if (tz_utc_to_local(zone, clock_now(), &now) != RC_OK)
			return http_fail(req, RC_INTERNAL, "cannot read the time in %s", zone);
		year = now.tm_year + 1900;
		mon = now.tm_mon + 1;
	}
	snprintf(month, sizeof month, "%04d-%02d", year, mon);
	rc = sobreaviso_window(zone, year, mon, &r.from, &r.to);
	if (rc == RC_OK)
		rc = rotation_load(req->db, r.from, r.to, &snap);
	if (rc == RC_OK)
		rc = schedule_shifts(&snap.sched, r.from, r.to, &shifts, &n);
	if (rc == RC_OK)
		rc = sobreaviso_compute(shifts, n, zone, country, year, mon, &r);
	if (rc != RC_OK) {
		http_fail(req, rc, "cannot compute the on-call hours of %s", month);
		goto out;
	}
	people = json_array();
	hol = json_array();
	for (i = 0; i < r.n_rows; i++) {
		char name[PEOPLE_NAME_BYTES] = "";

		if (person > 0 && r.rows[i].person_id != person)
			continue;
		people_name(req->db, r.rows[i].person_id, name, sizeof name);
		o = json_pack("{s:I, s:s}", "person_id", (json_int_t)r.rows[i].person_id, "name", name);
		add_classes(o, r.rows[i].seconds);
		json_array_append_new(people, o);
	}
	for (d = 1; d <= holidays_month_days(year, mon); d++) {
		const char *hname;

		if (holidays_is_holiday(country, year, mon, d, &hname)) {
			snprintf(text, sizeof text, "%04d-%02d-%02d", year, mon, d);
			json_array_append_new(hol, json_pack("{s:s, s:s}", "date", text, "name", hname));
		}
	}
	if (format && strcmp(format, "csv") == 0) {
		rc = reply_csv(req, month, &r, people);
		goto out;
	}
	out = json_pack("{s:s, s:s, s:s, s:b, s:O, s:O}", "month", month, "timezone", zone, "country", country,
	                "holiday_calendar", holidays_has_country(country), "holidays", hol, "people", people);
	o = json_object();
	for (c = 0; c < SOBREAVISO_CLASSES; c++)
		json_object_set_new(o, class_names[c], json_integer(r.days[c]));
	json_object_set_new(out, "days", o);
	o = json_object();
	add_classes(o, r.uncovered);
	json_object_set_new(out, "uncovered", o);
	if (tz_format_iso(zone, r.from, text, sizeof text) == RC_OK)
		json_object_set_new(out, "from", json_string(text));
	if (tz_format_iso(zone, r.to, text, sizeof text) == RC_OK)
		json_object_set_new(out, "to", json_string(text));
	rc = http_reply_json(req, 200, out);
out:
	json_decref(people);
	json_decref(hol);
	free(shifts);
	sobreaviso_release(&r);
	rotation_release(&snap);
	return rc;
}
