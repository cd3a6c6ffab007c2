/*
 * server/sales/xlsx.c — sales rows from .xlsx (see xlsx.h).
 * Reads at most four parts: xl/workbook.xml (sheet list, date system), its relationships
 * (sheet and shared-strings targets), the shared strings and one worksheet. Each part is
 * streamed from libzip into an xmlTextReader through part_read(), which counts every
 * decompressed byte: that counter, not the sizes the zip declares, is what stops a bomb.
 * DTDs are refused (no OOXML part has one; refusing them rules out entity expansion).
 */
#include "sales/xlsx.h"

#include <libxml/xmlreader.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/buf.h"

/* Rows tried as the header before giving up (title rows may sit above it). */
#define XLSX_MAX_TITLE_ROWS 10

struct cell_ref {
	long col;
	size_t off; /* text in row buffer */
	bool numeric;
};

struct xlsx {
	struct sales_sink *sink;
	char *want; /* sheet asked for, or NULL */
	struct buf input;
	bool finished;
	enum rc final_rc;
	char msg[256];
	char *err;
	size_t errlen;

	zip_t *za;
	uint64_t unzipped;
	enum rc rc; /* failure of the part being read (also set from callbacks) */
	char xmlmsg[160];

	bool date1904;
	char sheet_name[256];
	char sheet_rid[128];
	char sheet_path[512];
	char sst_path[512];

	struct buf pool; /* shared strings, each NUL-terminated */
	size_t *sst;
	size_t nsst, asst;

	/* the row being read */
	struct buf cell, text;
	struct cell_ref *cells;
	size_t ncells, acells;
	long rownum, col;
	char type[16];
	bool have_header;
	struct sales_cols cols;
	long data_rows;
	int title_rows;    /* non-empty rows seen before the header */
	char hdr_err[560]; /* why the first of them is not the header */
};

struct part {
	struct xlsx *x;
	zip_file_t *zf;
	char name[512];
};

static enum rc fail(struct xlsx *x, enum rc rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum rc fail(struct xlsx *x, enum rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	for (char *p = x->err; *p; p++) /* one line, whatever the input held */
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	x->rc = rc;
	return rc;
}

struct xlsx *xlsx_new(struct sales_sink *sink, const char *sheet)
{
	struct xlsx *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->sink = sink;
	if (sheet) {
		x->want = strdup(sheet);
		if (!x->want) {
			free(x);
			return NULL;
		}
	}
	buf_init(&x->input, XLSX_MAX_INPUT);
	buf_init(&x->pool, XLSX_MAX_UNZIPPED);
	buf_init(&x->cell, XLSX_MAX_ROW);
	buf_init(&x->text, XLSX_MAX_ROW);
	return x;
}

void xlsx_free(struct xlsx *x)
{
	if (!x)
		return;
	free(x->want);
	buf_release(&x->input);
	buf_release(&x->pool);
	buf_release(&x->cell);
	buf_release(&x->text);
	free(x->sst);
	free(x->cells);
	free(x);
}

const char *xlsx_sheet_name(const struct xlsx *x)
{
	return x->sheet_name;
}

/* ---- parts ---- */

static int part_read(void *ctx, char *out, int len)
{
	struct part *p = ctx;
	struct xlsx *x = p->x;
	zip_int64_t n;

	if (x->rc != RC_OK || len <= 0)
		return x->rc != RC_OK ? -1 : 0;
	n = zip_fread(p->zf, out, (zip_uint64_t)len);
	if (n < 0) {
		fail(x, RC_UNPROCESSABLE, "corrupt .xlsx file: %s: %s", p->name, zip_file_strerror(p->zf));
		return -1;
	}
	x->unzipped += (uint64_t)n;
	if (x->unzipped > XLSX_MAX_UNZIPPED) {
		fail(x, RC_TOO_BIG, "the workbook unzips to more than %d MiB", XLSX_MAX_UNZIPPED >> 20);
		return -1;
	}
	return (int)n;
}

static int part_close(void *ctx)
{
	struct part *p = ctx;

	zip_fclose(p->zf);
	free(p);
	return 0;
}

static void on_xml_error(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr loc)
{
	struct xlsx *x = arg;
	size_t n;

	(void)loc;
	if (x->xmlmsg[0] || (severity != XML_PARSER_SEVERITY_ERROR && severity != XML_PARSER_SEVERITY_VALIDITY_ERROR))
		return;
	snprintf(x->xmlmsg, sizeof(x->xmlmsg), "%s", msg ? msg : "error");
	n = strlen(x->xmlmsg);
	while (n > 0 && (x->xmlmsg[n - 1] == '\n' || x->xmlmsg[n - 1] == ' '))
		x->xmlmsg[--n] = '\0';
}

/* Opens a part as an XML stream. RC_NOT_FOUND (err untouched) when absent and !required. */
static enum rc part_open(struct xlsx *x, const char *name, bool required, xmlTextReaderPtr *out)
{
	zip_int64_t i = zip_name_locate(x->za, name, ZIP_FL_NOCASE);
	zip_stat_t st;
	zip_file_t *zf;
	struct part *p;
	xmlTextReaderPtr r;

	*out = NULL;
	if (i < 0) {
		if (!required)
			return RC_NOT_FOUND;
		return fail(x, RC_UNPROCESSABLE, "not an .xlsx workbook: %s is missing", name);
	}
	zip_stat_init(&st);
	if (zip_stat_index(x->za, (zip_uint64_t)i, 0, &st) != 0)
		return fail(x, RC_UNPROCESSABLE, "corrupt .xlsx file: %s: %s", name, zip_strerror(x->za));
	/* refuse before inflating anything when the zip admits it is too big */
	if ((st.valid & ZIP_STAT_SIZE) && st.size > XLSX_MAX_UNZIPPED - x->unzipped)
		return fail(x, RC_TOO_BIG, "%s unzips to %llu bytes, over the %d MiB limit", name,
		            (unsigned long long)st.size, XLSX_MAX_UNZIPPED >> 20);
	zf = zip_fopen_index(x->za, (zip_uint64_t)i, 0);
	if (!zf)
		return fail(x, RC_UNPROCESSABLE, "cannot read %s: %s", name, zip_strerror(x->za));
	p = calloc(1, sizeof(*p));
	if (!p) {
		zip_fclose(zf);
		return fail(x, RC_INTERNAL, "out of memory");
	}
	p->x = x;
	p->zf = zf;
	snprintf(p->name, sizeof(p->name), "%s", name);
	x->xmlmsg[0] = '\0';
	/* no NOENT: entities are never substituted; NONET: no fetching of anything */
	r = xmlReaderForIO(part_read, part_close, p, name, NULL, XML_PARSE_NONET);
	if (!r) { /* libxml2 has called part_close */
		if (x->rc != RC_OK)
			return x->rc;
		return fail(x, RC_UNPROCESSABLE, "%s: cannot parse", name);
	}
	xmlTextReaderSetErrorHandler(r, on_xml_error, x);
	*out = r;
	return RC_OK;
}

/* Next node: 1, 0 at the end, -1 on failure (x->rc and err set). */
static int next(struct xlsx *x, xmlTextReaderPtr r, const char *part)
{
	int ret = xmlTextReaderRead(r);

	if (ret == 1 && xmlTextReaderNodeType(r) == XML_READER_TYPE_DOCUMENT_TYPE) {
		fail(x, RC_UNPROCESSABLE, "%s: a DTD is not allowed", part);
		return -1;
	}
	if (ret < 0 || x->rc != RC_OK) {
		if (x->rc == RC_OK)
			fail(x, RC_UNPROCESSABLE, "%s: invalid XML%s%s", part, x->xmlmsg[0] ? ": " : "", x->xmlmsg);
		return -1;
	}
	return ret;
}

static bool is(const xmlChar *name, const char *want)
{
	return name && strcmp((const char *)name, want) == 0;
}

static void attr(xmlTextReaderPtr r, const char *name, char *out, size_t len)
{
	xmlChar *v = xmlTextReaderGetAttribute(r, BAD_CAST name);

	snprintf(out, len, "%s", v ? (const char *)v : "");
	xmlFree(v);
}

/* The r:id of a <sheet>, in the transitional or the strict relationships namespace. */
static void rel_id(xmlTextReaderPtr r, char *out, size_t len)
{
	out[0] = '\0';
	if (xmlTextReaderMoveToFirstAttribute(r) != 1)
		return;
	do {
		const xmlChar *ln = xmlTextReaderConstLocalName(r);
		const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
		const xmlChar *v = xmlTextReaderConstValue(r);

		if (is(ln, "id") && ns && strstr((const char *)ns, "relationships") && v) {
			snprintf(out, len, "%s", (const char *)v);
			break;
		}
	} while (xmlTextReaderMoveToNextAttribute(r) == 1);
	xmlTextReaderMoveToElement(r);
}

/* Zip path of a relationship target of xl/workbook.xml ("worksheets/sheet1.xml",
 * "/xl/worksheets/sheet1.xml", "../x.xml"). */
static void resolve(const char *target, char *out, size_t len)
{
	char tmp[512];
	const char *seg[64];
	size_t segl[64], n = 0, o = 0;
	const char *p;

	snprintf(tmp, sizeof(tmp), "%s%s", target[0] == '/' ? "" : "xl/", target[0] == '/' ? target + 1 : target);
	p = tmp;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (n > 0)
				n--;
		} else if (l > 0 && !(l == 1 && p[0] == '.') && n < 64) {
			seg[n] = p;
			segl[n++] = l;
		}
		p += l;
		if (*p == '/')
			p++;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n && o + segl[i] + 2 < len; i++) {
		if (i)
			out[o++] = '/';
		memcpy(out + o, seg[i], segl[i]);
		o += segl[i];
		out[o] = '\0';
	}
}

/* ---- workbook.xml and its relationships ---- */

static enum rc read_workbook(struct xlsx *x)
{
	static const char part[] = "xl/workbook.xml";
	xmlTextReaderPtr r;
	char name[256], state[32], rid[128], fw[256], fn[256], list[200], first_rid[128];
	char first_name[256], v[16];
	enum rc rc = part_open(x, part, true, &r);
	size_t lo = 0;
	int ret;
	bool found = false, any = false;

	if (rc != RC_OK)
		return rc;
	list[0] = first_rid[0] = first_name[0] = '\0';
	if (x->want)
		sales_fold(x->want, fw, sizeof(fw));
	while ((ret = next(x, r, part)) == 1) {
		if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT)
			continue;
		const xmlChar *ln = xmlTextReaderConstLocalName(r);

		if (is(ln, "workbookPr")) {
			attr(r, "date1904", v, sizeof(v));
			x->date1904 = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
		} else if (is(ln, "sheet") && !found) {
			attr(r, "name", name, sizeof(name));
			attr(r, "state", state, sizeof(state));
			rel_id(r, rid, sizeof(rid));
			if (lo + 1 < sizeof(list))
				lo += (size_t)snprintf(list + lo, sizeof(list) - lo, "%s'%s'", lo ? ", " : "", name);
			if (lo >= sizeof(list))
				lo = sizeof(list) - 1;
			if (!any) {
				any = true;
				snprintf(first_rid, sizeof(first_rid), "%s", rid);
				snprintf(first_name, sizeof(first_name), "%s", name);
			}
			if (x->want) {
				sales_fold(name, fn, sizeof(fn));
				found = strcmp(fn, fw) == 0;
			} else {
				found = strcmp(state, "hidden") != 0 && strcmp(state, "veryHidden") != 0;
			}
			if (found) {
				snprintf(x->sheet_rid, sizeof(x->sheet_rid), "%s", rid);
				snprintf(x->sheet_name, sizeof(x->sheet_name), "%s", name);
			}
		}
	}
	xmlFreeTextReader(r);
	if (ret < 0)
		return x->rc;
	if (!any)
		return fail(x, RC_UNPROCESSABLE, "the workbook has no sheets");
	if (!found && x->want)
		return fail(x, RC_UNPROCESSABLE, "sheet '%s' not found; the workbook has %s", x->want, list);
	if (!found) { /* every sheet hidden: read the first */
		snprintf(x->sheet_rid, sizeof(x->sheet_rid), "%s", first_rid);
		snprintf(x->sheet_name, sizeof(x->sheet_name), "%s", first_name);
	}
	return RC_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static enum rc read_rels(struct xlsx *x)
{
	static const char part[] = "xl/_rels/workbook.xml.rels";
	xmlTextReaderPtr r;
	char id[128], target[400], type[256], mode[32];
	enum rc rc = part_open(x, part, true, &r);
	int ret;

	if (rc != RC_OK)
		return rc;
	while ((ret = next(x, r, part)) == 1) {
		if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT ||
		    !is(xmlTextReaderConstLocalName(r), "Relationship"))
			continue;
		attr(r, "Id", id, sizeof(id));
		attr(r, "Target", target, sizeof(target));
		attr(r, "Type", type, sizeof(type));
		attr(r, "TargetMode", mode, sizeof(mode));
		if (strcmp(mode, "External") == 0 || !target[0])
			continue;
		if (x->sheet_rid[0] && strcmp(id, x->sheet_rid) == 0)
			resolve(target, x->sheet_path, sizeof(x->sheet_path));
		else if (ends_with(type, "/sharedStrings"))
			resolve(target, x->sst_path, sizeof(x->sst_path));
	}
	xmlFreeTextReader(r);
	if (ret < 0)
		return x->rc;
	if (!x->sheet_path[0])
		return fail(x, RC_UNPROCESSABLE, "not an .xlsx workbook: sheet '%s' has no part", x->sheet_name);
	if (!x->sst_path[0])
		snprintf(x->sst_path, sizeof(x->sst_path), "xl/sharedStrings.xml");
	return RC_OK;
}

/* ---- shared strings ---- */

static enum rc push_string(struct xlsx *x, size_t start)
{
	enum rc rc = buf_append(&x->pool, "", 1);

	if (rc != RC_OK)
		return fail(x, rc, rc == RC_TOO_BIG ? "shared strings too large" : "out of memory");
	if (x->nsst == x->asst) {
		size_t n = x->asst ? x->asst * 2 : 256;
		size_t *p;

		if (x->nsst >= XLSX_MAX_STRINGS)
			return fail(x, RC_TOO_BIG, "more than %d shared strings", XLSX_MAX_STRINGS);
		p = realloc(x->sst, n * sizeof(*p));
		if (!p)
			return fail(x, RC_INTERNAL, "out of memory");
		x->sst = p;
		x->asst = n;
	}
	x->sst[x->nsst++] = start;
	return RC_OK;
}

static bool is_text_node(int type)
{
	return type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA || type == XML_READER_TYPE_WHITESPACE ||
	       type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

static enum rc read_shared_strings(struct xlsx *x)
{
	xmlTextReaderPtr r;
	enum rc rc = part_open(x, x->sst_path, false, &r);
	bool in_si = false, in_t = false, in_rph = false;
	size_t start = 0;
	int ret;

	if (rc == RC_NOT_FOUND)
		return RC_OK;
	if (rc != RC_OK)
		return rc;
	while ((ret = next(x, r, x->sst_path)) == 1) {
		int type = xmlTextReaderNodeType(r);
		const xmlChar *ln = xmlTextReaderConstLocalName(r);
		bool empty = xmlTextReaderIsEmptyElement(r) == 1;

		if (type == XML_READER_TYPE_ELEMENT) {
			if (is(ln, "si")) {
				start = x->pool.len;
				in_si = !empty;
				if (empty && push_string(x, start) != RC_OK)
					break;
			} else if (is(ln, "rPh")) {
				in_rph = !empty;
			} else if (is(ln, "t")) {
				in_t = in_si && !in_rph && !empty;
			}
		} else if (type == XML_READER_TYPE_END_ELEMENT) {
			if (is(ln, "si") && in_si) {
				in_si = false;
				if (push_string(x, start) != RC_OK)
					break;
			} else if (is(ln, "rPh")) {
				in_rph = false;
			} else if (is(ln, "t")) {
				in_t = false;
			}
		} else if (in_t && is_text_node(type)) {
			const xmlChar *v = xmlTextReaderConstValue(r);

			rc = v ? buf_puts(&x->pool, (const char *)v) : RC_OK;
			if (rc != RC_OK) {
				fail(x, rc, rc == RC_TOO_BIG ? "shared strings too large" : "out of memory");
				break;
			}
		}
	}
	xmlFreeTextReader(r);
	return x->rc;
}

/* ---- the sheet ---- */

/* "AB12" -> 27; false for anything that is not letters (max XFD) then digits. */
static bool col_of(const char *ref, long *col)
{
	long c = 0;
	int n = 0;

	for (; (*ref >= 'A' && *ref <= 'Z') || (*ref >= 'a' && *ref <= 'z'); ref++) {
		if (++n > 3)
			return false;
		c = c * 26 + ((*ref | 0x20) - 'a' + 1);
	}
	if (n == 0 || c > 16384)
		return false;
	for (; *ref; ref++)
		if (*ref < '0' || *ref > '9')
			return false;
	*col = c - 1;
	return true;
}

static bool blank(const char *s)
{
	char f[8];

	sales_fold(s, f, sizeof(f));
	return f[0] == '\0';
}

static bool wanted(const struct xlsx *x, long col)
{
	if (!x->have_header)
		return true;
	for (int r = 0; r < SALES_COL_COUNT; r++)
		if (x->cols.idx[r] == col)
			return true;
	return false;
}

static enum rc store_cell(struct xlsx *x)
{
	const char *text = x->cell.data ? x->cell.data : "";
	bool numeric = x->type[0] == '\0' || strcmp(x->type, "n") == 0;
	enum rc rc;

	if (strcmp(x->type, "s") == 0) {
		char *end;
		unsigned long long i = strtoull(text, &end, 10);

		if (!text[0] || *end || i >= x->nsst)
			return fail(x, RC_UNPROCESSABLE, "row %ld: shared string '%.20s' does not exist", x->rownum,
			            text);
		text = x->pool.data + x->sst[i];
	} else if (strcmp(x->type, "b") == 0) {
		text = strcmp(text, "1") == 0 ? "TRUE" : "FALSE";
	}
	if (blank(text) || !wanted(x, x->col))
		return RC_OK;
	if (x->ncells == x->acells) {
		size_t n = x->acells ? x->acells * 2 : 16;
		struct cell_ref *p = realloc(x->cells, n * sizeof(*p));

		if (!p)
			return fail(x, RC_INTERNAL, "out of memory");
		x->cells = p;
		x->acells = n;
	}
	x->cells[x->ncells] = (struct cell_ref){x->col, x->text.len, numeric};
	rc = buf_append(&x->text, text, strlen(text) + 1);
	if (rc != RC_OK)
		return fail(x, rc,
		            rc == RC_TOO_BIG ? "row %ld: more than %d bytes of text" : "row %ld: out of memory (%d)",
		            x->rownum, XLSX_MAX_ROW);
	x->ncells++;
	return RC_OK;
}

/* Year and month of a spreadsheet date serial. */
static bool serial_month(double v, bool date1904, char *out, size_t len)
{
	long z;
	long era, doe, yoe, y, doy, mp, m;

	if (!(v >= 61 && v < 2958466))
		return false;
	z = (long)v + (date1904 ? 1462 : 0) - 25569; /* days since 1970-01-01 */
	z += 719468;                                 /* civil_from_days, H. Hinnant */
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, len, "%04ld-%02ld", y, m);
	return true;
}

static enum rc finish_row(struct xlsx *x)
{
	struct sales_cell c[SALES_COL_COUNT];
	char per[48];
	enum rc rc = RC_OK;

	if (x->ncells == 0)
		goto out;
	if (!x->have_header) {
		long max = 0;
		const char **names;
		char m[512];

		for (size_t i = 0; i < x->ncells; i++)
			if (x->cells[i].col > max)
				max = x->cells[i].col;
		names = calloc((size_t)max + 1, sizeof(*names));
		if (!names) {
			rc = fail(x, RC_INTERNAL, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < x->ncells; i++)
			names[x->cells[i].col] = x->text.data + x->cells[i].off;
		rc = sales_header_match(names, (size_t)max + 1, &x->cols, m, sizeof(m));
		free(names);
		if (rc == RC_OK) {
			x->have_header = true;
			goto out;
		}
		/* title rows above the header ("Relatório de vendas") are common; keep looking
		 * for a while, but report why the first row did not match */
		if (x->title_rows++ == 0)
			snprintf(x->hdr_err, sizeof(x->hdr_err), "row %ld: %s", x->rownum, m);
		rc = RC_OK;
		if (x->title_rows >= XLSX_MAX_TITLE_ROWS)
			rc = fail(x, RC_UNPROCESSABLE, "%s", x->hdr_err);
		goto out;
	}
	x->data_rows++;
	for (int r = 0; r < SALES_COL_COUNT; r++) {
		c[r] = (struct sales_cell){"", false};
		for (size_t i = 0; i < x->ncells; i++)
			if (x->cells[i].col == x->cols.idx[r])
				c[r] = (struct sales_cell){x->text.data + x->cells[i].off, x->cells[i].numeric};
	}
	if (c[SALES_COL_PERIOD].numeric) {
		/* a date cell (serial), or a bare month number */
		double v = strtod(c[SALES_COL_PERIOD].text, NULL);

		if (v >= 1 && v <= 12 && v == (double)(long)v)
			snprintf(per, sizeof(per), "%ld", (long)v);
		else if (!serial_month(v, x->date1904, per, sizeof(per)))
			snprintf(per, sizeof(per), "%.15s", c[SALES_COL_PERIOD].text);
		c[SALES_COL_PERIOD] = (struct sales_cell){per, false};
	}
	rc = sales_emit(x->sink, c[SALES_COL_SELLER], c[SALES_COL_AMOUNT], c[SALES_COL_PERIOD], x->rownum, "row",
	                x->err, x->errlen);
	if (rc != RC_OK)
		x->rc = rc;
out:
	x->ncells = 0;
	x->text.len = 0;
	return rc;
}

static enum rc read_sheet(struct xlsx *x)
{
	xmlTextReaderPtr r;
	enum rc rc = part_open(x, x->sheet_path, true, &r);
	bool in_row = false, in_c = false, in_v = false, in_is = false, in_t = false, in_rph = false;
	char ref[32];
	int ret;

	if (rc != RC_OK)
		return rc;
	x->rownum = 0;
	while ((ret = next(x, r, x->sheet_path)) == 1) {
		int type = xmlTextReaderNodeType(r);
		const xmlChar *ln = xmlTextReaderConstLocalName(r);
		bool empty = xmlTextReaderIsEmptyElement(r) == 1;

		rc = RC_OK;
		if (type == XML_READER_TYPE_ELEMENT) {
			if (is(ln, "row")) {
				char *end;
				long n;

				attr(r, "r", ref, sizeof(ref));
				n = ref[0] ? strtol(ref, &end, 10) : x->rownum + 1;
				if (ref[0] && (*end || n < 1 || n > 1048576)) {
					fail(x, RC_UNPROCESSABLE, "row %ld: bad row number '%.12s'", x->rownum + 1,
					     ref);
					break;
				}
				x->rownum = n;
				x->col = -1;
				x->ncells = 0;
				x->text.len = 0;
				in_row = !empty;
			} else if (is(ln, "c") && in_row) {
				attr(r, "r", ref, sizeof(ref));
				if (!ref[0]) {
					x->col++;
				} else if (!col_of(ref, &x->col)) {
					fail(x, RC_UNPROCESSABLE, "row %ld: bad cell reference '%.12s'", x->rownum,
					     ref);
					break;
				}
				attr(r, "t", x->type, sizeof(x->type));
				x->cell.len = 0;
				if (x->cell.data)
					x->cell.data[0] = '\0';
				in_c = !empty;
				in_v = in_is = in_t = in_rph = false;
				if (empty)
					rc = store_cell(x);
			} else if (in_c && is(ln, "v")) {
				in_v = !empty;
			} else if (in_c && is(ln, "is")) {
				in_is = !empty;
			} else if (in_c && is(ln, "rPh")) {
				in_rph = !empty;
			} else if (in_c && is(ln, "t")) {
				in_t = in_is && !in_rph && !empty;
			}
		} else if (type == XML_READER_TYPE_END_ELEMENT) {
			if (is(ln, "sheetData")) {
				break;
			} else if (is(ln, "row") && in_row) {
				in_row = false;
				rc = finish_row(x);
			} else if (is(ln, "c") && in_c) {
				in_c = false;
				rc = store_cell(x);
			} else if (is(ln, "v")) {
				in_v = false;
			} else if (is(ln, "is")) {
				in_is = false;
			} else if (is(ln, "rPh")) {
				in_rph = false;
			} else if (is(ln, "t")) {
				in_t = false;
			}
		} else if (in_c && (in_v || in_t) && is_text_node(type)) {
			const xmlChar *v = xmlTextReaderConstValue(r);

			rc = v ? buf_puts(&x->cell, (const char *)v) : RC_OK;
			if (rc != RC_OK)
				fail(x, rc, "row %ld: cell longer than %d bytes", x->rownum, XLSX_MAX_ROW);
		}
		if (rc != RC_OK) {
			x->rc = rc;
			break;
		}
	}
	xmlFreeTextReader(r);
	if (x->rc != RC_OK)
		return x->rc;
	if (!x->have_header && x->title_rows)
		return fail(x, RC_UNPROCESSABLE, "%s", x->hdr_err);
	if (!x->have_header)
		return fail(x, RC_UNPROCESSABLE, "sheet '%s' is empty", x->sheet_name);
	if (x->data_rows == 0)
		return fail(x, RC_UNPROCESSABLE, "sheet '%s' has no data rows after the header", x->sheet_name);
	return RC_OK;
}

/* ---- entry points ---- */

static enum rc parse(struct xlsx *x, const void *data, size_t len)
{
	zip_error_t ze;
	zip_source_t *src;
	enum rc rc;

	if (len == 0)
		return fail(x, RC_UNPROCESSABLE, "empty file");
	xmlInitParser();
	zip_error_init(&ze);
	src = zip_source_buffer_create(len ? data : "", len, 0, &ze);
	if (!src) {
		zip_error_fini(&ze);
		return fail(x, RC_INTERNAL, "out of memory");
	}
	x->za = zip_open_from_source(src, ZIP_RDONLY, &ze);
	if (!x->za) {
		rc = zip_error_code_zip(&ze) == ZIP_ER_NOZIP
		             ? fail(x, RC_UNPROCESSABLE, "not an .xlsx file: not a zip archive")
		             : fail(x, RC_UNPROCESSABLE, "corrupt .xlsx file: %s", zip_error_strerror(&ze));
		zip_source_free(src);
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	rc = read_workbook(x);
	if (rc == RC_OK)
		rc = read_rels(x);
	if (rc == RC_OK)
		rc = read_shared_strings(x);
	if (rc == RC_OK)
		rc = read_sheet(x);
	zip_discard(x->za);
	x->za = NULL;
	return rc;
}

static void begin(struct xlsx *x, char *err, size_t errlen)
{
	bool own = !err || errlen == 0;

	x->err = own ? x->msg : err;
	x->errlen = own ? sizeof(x->msg) : errlen;
	x->err[0] = '\0';
}

static enum rc end(struct xlsx *x, enum rc rc)
{
	if (rc != RC_OK) {
		x->final_rc = rc;
		if (x->err != x->msg)
			snprintf(x->msg, sizeof(x->msg), "%s", x->err);
	}
	return rc;
}

enum rc xlsx_feed(struct xlsx *x, const void *data, size_t len, char *err, size_t errlen)
{
	enum rc rc;

	if (x->final_rc != RC_OK) {
		if (err && errlen)
			snprintf(err, errlen, "%s", x->msg);
		return x->final_rc;
	}
	begin(x, err, errlen);
	if (x->finished)
		return end(x, fail(x, RC_INTERNAL, "xlsx_feed after xlsx_finish"));
	rc = buf_append(&x->input, data, len);
	if (rc != RC_OK)
		rc = fail(x, rc, rc == RC_TOO_BIG ? "the .xlsx file is larger than %d MiB" : "out of memory (%d)",
		          XLSX_MAX_INPUT >> 20);
	return end(x, rc);
}

enum rc xlsx_finish(struct xlsx *x, char *err, size_t errlen)
{
	if (x->final_rc != RC_OK) {
		if (err && errlen)
			snprintf(err, errlen, "%s", x->msg);
		return x->final_rc;
	}
	begin(x, err, errlen);
	if (x->finished)
		return RC_OK;
	x->finished = true;
	return end(x, parse(x, x->input.data, x->input.len));
}

enum rc xlsx_parse(const void *data, size_t len, const char *sheet, struct sales_sink *sink, char *err, size_t errlen)
{
	struct xlsx *x = xlsx_new(sink, sheet);
	enum rc rc;

	if (!x) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return RC_INTERNAL;
	}
	begin(x, err, errlen);
	x->finished = true;
	rc = end(x, parse(x, data, len));
	xlsx_free(x);
	return rc;
}
