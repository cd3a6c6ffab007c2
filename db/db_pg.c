/*
 * db/db_pg.c — the PostgreSQL driver of the statement layer (db/driver.h), on libpq.
 * PLANTAO_DB=postgres://… or postgresql://… selects it (db_open).
 *
 * Statements: the SQL is written once with ?N placeholders; this driver turns them into $N
 * (outside quoted text) when a statement enters the per-connection cache, and prepares it on
 * the server (PQprepare, a name per statement and session) at its first step, with the types of
 * the values bound then (every integer is BIGINT), or failing that with the types PostgreSQL
 * infers from where each parameter stands, or with text for a NULL it cannot place. Values travel
 * as text, results come back as text and are converted by the column accessors (BIGINT ->
 * int64, numeric -> double, boolean -> 0/1). A step runs the whole statement at once and then
 * walks its rows.
 *
 * Errors map by SQLSTATE: unique, foreign key and check violations -> RC_CONFLICT; lock
 * timeout, serialization failure, deadlock, a lost connection or a server shutting down ->
 * RC_BUSY (the HTTP layer answers 503 with Retry-After; the engine tries again next tick);
 * anything else -> RC_DB. A lost connection is reset at the next use outside a transaction, and
 * every statement is prepared again on the new session.
 *
 * Transactions: the code was written for SQLite's one writer at a time (BEGIN IMMEDIATE). Here
 * db_begin opens a READ COMMITTED transaction and takes a transaction-level advisory lock on a
 * fixed key (pg_advisory_xact_lock), so writers of every instance on the database take turns as
 * SQLite's do, and the lock goes with COMMIT, ROLLBACK or the session's end (an instance killed
 * mid-write holds nothing). A bounded wait (HTTP workers) sets lock_timeout for that wait only.
 * Migrations run under a session-level advisory lock (another key), so that instances started
 * together migrate once.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "db/driver.h"

/* Type OIDs (server/catalog/pg_type_d.h, stable across versions). */
#define OID_BOOL    16
#define OID_BYTEA   17
#define OID_INT8    20
#define OID_INT2    21
#define OID_INT4    23
#define OID_TEXT    25
#define OID_OID     26
#define OID_FLOAT4  700
#define OID_FLOAT8  701
#define OID_NUMERIC 1700

/* Advisory lock keys: arbitrary constants of plantao's own ("plnt" and "plnm"). */
#define KEY_WRITER  0x706c6e74LL
#define KEY_MIGRATE 0x706c6e6dLL

#define PG_MAX_PARAMS 64

#define PG_MAX_JOBS 8

struct pg_conn {
	PGconn *c;
	int64_t jobs[PG_MAX_JOBS]; /* job locks this session holds (0: free slot) */
	unsigned jobs_gen;         /* the session they were taken on */
	unsigned gen;              /* bumped at each (re)connection: statements of an older one are prepared again */
	unsigned next_name;
	int changes;
	int64_t last_id;
	enum rc last;
	char state[6]; /* SQLSTATE of the last error */
	char err[512];
};

struct pg_stmt {
	char *text; /* the SQL with $N */
	int nparams;
	char name[32];
	unsigned prepared_gen;    /* 0: not prepared on this connection */
	int types[PG_MAX_PARAMS]; /* type of the value bound: 0 (NULL or none), OID_INT8, … */
	const char *vals[PG_MAX_PARAMS];
	int lens[PG_MAX_PARAMS];
	int fmts[PG_MAX_PARAMS];
	char *owned[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][32];
	PGresult *res;
	int row, nrows;
	unsigned char *blob; /* the last bytea column unescaped */
	size_t blob_len;
};

static struct pg_conn *conn_of(struct db *db)
{
	return db->conn;
}

static void set_err(struct db *db, enum rc rc, const char *state, const char *msg)
{
	struct pg_conn *pc = conn_of(db);
	size_t n;

	pc->last = rc;
	snprintf(pc->state, sizeof pc->state, "%s", state ? state : "");
	snprintf(pc->err, sizeof pc->err, "%s", msg ? msg : "");
	n = strlen(pc->err);
	while (n > 0 && (pc->err[n - 1] == '\n' || pc->err[n - 1] == ' '))
		pc->err[--n] = '\0';
}

static void set_ok(struct db *db)
{
	struct pg_conn *pc = conn_of(db);

	pc->last = RC_OK;
	pc->state[0] = '\0';
	pc->err[0] = '\0';
}

static enum rc map_state(const char *s)
{
	if (!s || !*s)
		return RC_DB;
	if (strncmp(s, "23", 2) == 0) /* integrity constraint violation */
		return RC_CONFLICT;
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0)
		return RC_BUSY;
	if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0) /* connection, shutdown */
		return RC_BUSY;
	return RC_DB;
}

/* Records the outcome of res (not freed): true when it is one of ok1/ok2. */
static bool check(struct db *db, PGresult *res, ExecStatusType ok1, ExecStatusType ok2)
{
	struct pg_conn *pc = conn_of(db);
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (s == ok1 || s == ok2) {
		set_ok(db);
		return true;
	}
	if (PQstatus(pc->c) != CONNECTION_OK) {
		set_err(db, RC_BUSY, "08006", PQerrorMessage(pc->c));
		log_err("db: the PostgreSQL connection was lost: %s", pc->err);
		return false;
	}
	if (res && PQresultErrorField(res, PG_DIAG_SQLSTATE)) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		set_err(db, map_state(st), st, PQresultErrorMessage(res));
	} else {
		set_err(db, RC_DB, NULL, PQerrorMessage(pc->c));
	}
	return false;
}

/*
 * Before talking to the server: a connection found broken is reset here, outside any
 * transaction (a transaction it had is gone with it, and the caller learnt so from the error
 * that revealed the loss). False when the server is still unreachable.
 */
static bool ensure_conn(struct db *db)
{
	struct pg_conn *pc = conn_of(db);

	if (PQstatus(pc->c) == CONNECTION_OK)
		return true;
	PQreset(pc->c);
	if (PQstatus(pc->c) != CONNECTION_OK) {
		set_err(db, RC_BUSY, "08006", PQerrorMessage(pc->c));
		return false;
	}
	pc->gen++;
	log_info("db: reconnected to PostgreSQL");
	return true;
}

static void notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* "relation already exists, skipping" and the like: not worth a log line */
}

static enum rc pg_open(struct db *db, const char *url)
{
	struct pg_conn *pc = calloc(1, sizeof *pc);
	PGresult *res;

	if (!pc)
		return RC_INTERNAL;
	db->conn = pc;
	pc->gen = 1;
	pc->c = PQconnectdb(url);
	if (!pc->c || PQstatus(pc->c) != CONNECTION_OK) {
		/* the URL may hold a password: name the server only through libpq's message */
		log_err("db_open: PostgreSQL: %s", pc->c ? PQerrorMessage(pc->c) : "out of memory");
		return RC_DB;
	}
	PQsetNoticeProcessor(pc->c, notice_quiet, NULL);
	res = PQexec(pc->c, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	if (!check(db, res, PGRES_COMMAND_OK, PGRES_COMMAND_OK)) {
		log_err("db_open: PostgreSQL: %s", pc->err);
		PQclear(res);
		return RC_DB;
	}
	PQclear(res);
	return RC_OK;
}

static void pg_close(struct db *db)
{
	struct pg_conn *pc = conn_of(db);

	if (!pc)
		return;
	PQfinish(pc->c);
	free(pc);
	db->conn = NULL;
}

/* ?N -> $N outside string literals, quoted identifiers and comments; the highest N is the
 * statement's parameter count. A bare ? takes the next number, as in SQLite. */
static char *translate(const char *sql, int *nparams)
{
	size_t n = strlen(sql), i = 0, o = 0;
	char *out = malloc(n * 2 + 1);
	int maxp = 0, next = 1;

	if (!out)
		return NULL;
	while (i < n) {
		char c = sql[i];

		if (c == '\'' || c == '"') {
			char q = c;

			out[o++] = sql[i++];
			while (i < n) {
				out[o++] = sql[i];
				if (sql[i++] == q) {
					if (i < n && sql[i] == q) {
						out[o++] = sql[i++];
						continue;
					}
					break;
				}
			}
		} else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
			while (i < n && sql[i] != '\n')
				out[o++] = sql[i++];
		} else if (c == '?') {
			int v = 0;

			i++;
			if (i < n && sql[i] >= '0' && sql[i] <= '9') {
				while (i < n && sql[i] >= '0' && sql[i] <= '9' && v < 10000)
					v = v * 10 + (sql[i++] - '0');
			} else {
				v = next;
			}
			next = v + 1;
			if (v > maxp)
				maxp = v;
			o += (size_t)snprintf(out + o, n * 2 + 1 - o, "$%d", v);
		} else {
			out[o++] = sql[i++];
		}
	}
	out[o] = '\0';
	*nparams = maxp;
	return out;
}

static int pg_prepare(struct db_stmt *st)
{
	struct pg_stmt *ps = calloc(1, sizeof *ps);

	if (!ps)
		return -1;
	ps->text = translate(st->sql, &ps->nparams);
	if (!ps->text || ps->nparams > PG_MAX_PARAMS) {
		log_err("prepare: %s: %s", ps->text ? "too many parameters" : "out of memory", st->sql);
		free(ps->text);
		free(ps);
		return -1;
	}
	ps->row = -1;
	st->drv = ps;
	return 0;
}

static void clear_result(struct pg_stmt *ps)
{
	PQclear(ps->res);
	ps->res = NULL;
	ps->row = -1;
	ps->nrows = 0;
	PQfreemem(ps->blob);
	ps->blob = NULL;
}

static void pg_finalize(struct db_stmt *st)
{
	struct pg_stmt *ps = st->drv;
	int i;

	if (!ps)
		return;
	clear_result(ps);
	for (i = 0; i < PG_MAX_PARAMS; i++)
		free(ps->owned[i]);
	free(ps->text);
	free(ps);
	st->drv = NULL;
}

/* Slot i (1-based) of st, emptied of a previous value; NULL when out of range. */
static struct pg_stmt *param(struct db_stmt *st, int i)
{
	struct pg_stmt *ps = st->drv;

	if (i < 1 || i > ps->nparams)
		return NULL;
	free(ps->owned[i - 1]);
	ps->owned[i - 1] = NULL;
	ps->vals[i - 1] = NULL;
	ps->lens[i - 1] = 0;
	ps->fmts[i - 1] = 0;
	ps->types[i - 1] = 0;
	return ps;
}

static int pg_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	struct pg_stmt *ps = param(st, i);

	if (!ps)
		return -1;
	snprintf(ps->num[i - 1], sizeof ps->num[i - 1], "%" PRId64, v);
	ps->vals[i - 1] = ps->num[i - 1];
	ps->types[i - 1] = OID_INT8;
	return 0;
}

static int pg_bind_double(struct db_stmt *st, int i, double v)
{
	struct pg_stmt *ps = param(st, i);

	if (!ps)
		return -1;
	snprintf(ps->num[i - 1], sizeof ps->num[i - 1], "%.17g", v);
	ps->vals[i - 1] = ps->num[i - 1];
	ps->types[i - 1] = OID_FLOAT8;
	return 0;
}

static int pg_bind_text(struct db_stmt *st, int i, const char *s, int n, enum db_life life)
{
	struct pg_stmt *ps = param(st, i);

	if (!ps)
		return -1;
	if (n >= 0 || life == DB_TRANSIENT) {
		/* text parameters travel NUL-terminated: a copy when the length is given */
		ps->owned[i - 1] = n >= 0 ? strndup(s, (size_t)n) : strdup(s);
		if (!ps->owned[i - 1])
			return -1;
		ps->vals[i - 1] = ps->owned[i - 1];
	} else {
		ps->vals[i - 1] = s;
	}
	ps->types[i - 1] = OID_TEXT;
	return 0;
}

static int pg_bind_blob(struct db_stmt *st, int i, const void *p, int n, enum db_life life)
{
	struct pg_stmt *ps = param(st, i);

	if (!ps || n < 0)
		return -1;
	(void)life; /* copied: the value must outlive the binding until the step */
	ps->owned[i - 1] = malloc((size_t)n + 1);
	if (!ps->owned[i - 1])
		return -1;
	memcpy(ps->owned[i - 1], p, (size_t)n);
	ps->vals[i - 1] = ps->owned[i - 1];
	ps->lens[i - 1] = n;
	ps->fmts[i - 1] = 1;
	ps->types[i - 1] = OID_BYTEA;
	return 0;
}

static int pg_bind_null(struct db_stmt *st, int i)
{
	return param(st, i) ? 0 : -1;
}

/* Prepares st on the current connection with the types of the values bound now (BIGINT, double,
 * text, bytea; NULL left to the server), which serves `?1 IS NULL` and `?3 / 1000` alike; when
 * the server refuses those types for the context (an integer bound where the column is text),
 * it is prepared again with every type left to the server to infer. */
static bool pg_in_transaction(struct db *db);

static bool prepare_server(struct db_stmt *st)
{
	struct db *db = st->db;
	struct pg_conn *pc = conn_of(db);
	struct pg_stmt *ps = st->drv;
	bool in_tx = pg_in_transaction(db), ok = false;
	Oid types[PG_MAX_PARAMS];
	PGresult *res;
	int i, attempt;

	for (i = 0; i < ps->nparams; i++)
		types[i] = (Oid)ps->types[i];
	/* a refused PREPARE aborts the transaction it runs in: the attempts run under a savepoint */
	if (in_tx)
		PQclear(PQexec(pc->c, "SAVEPOINT plantao_prepare"));
	for (attempt = 0; attempt < 3 && !ok; attempt++) {
		if (attempt > 0 && strncmp(pc->state, "42", 2) != 0)
			break; /* not a matter of types */
		if (attempt > 0 && in_tx)
			PQclear(PQexec(pc->c, "ROLLBACK TO SAVEPOINT plantao_prepare"));
		if (attempt == 2) /* `?2 IS NULL` with NULL bound: text it is */
			for (i = 0; i < ps->nparams; i++)
				types[i] = types[i] ? types[i] : OID_TEXT;
		snprintf(ps->name, sizeof ps->name, "p%u", ++pc->next_name);
		res = PQprepare(pc->c, ps->name, ps->text, ps->nparams, attempt == 1 ? NULL : types);
		ok = check(db, res, PGRES_COMMAND_OK, PGRES_COMMAND_OK);
		PQclear(res);
	}
	if (in_tx) {
		/* the savepoint's own results are no news: keep the refused statement's error */
		enum rc last = pc->last;
		char state[sizeof pc->state], err[sizeof pc->err];

		memcpy(state, pc->state, sizeof state);
		memcpy(err, pc->err, sizeof err);
		if (!ok)
			PQclear(PQexec(pc->c, "ROLLBACK TO SAVEPOINT plantao_prepare"));
		PQclear(PQexec(pc->c, "RELEASE SAVEPOINT plantao_prepare"));
		pc->last = last;
		memcpy(pc->state, state, sizeof state);
		memcpy(pc->err, err, sizeof err);
	}
	if (!ok) {
		log_err("prepare: %s: %s", pc->err, st->sql);
		return false;
	}
	ps->prepared_gen = pc->gen;
	return true;
}

static int parse_count(PGresult *res)
{
	const char *t = PQcmdTuples(res);

	return t && *t ? (int)strtol(t, NULL, 10) : 0;
}

static int pg_step(struct db_stmt *st)
{
	struct db *db = st->db;
	struct pg_conn *pc = conn_of(db);
	struct pg_stmt *ps = st->drv;

	if (!ps->res) {
		PGresult *res;
		int tries;

		if (!ensure_conn(db))
			return DB_ERROR;
		if (ps->prepared_gen != pc->gen && !prepare_server(st))
			return DB_ERROR;
		res = PQexecPrepared(pc->c, ps->name, ps->nparams, ps->vals, ps->lens, ps->fmts, 0);
		/* A statement on its own (no transaction) that lost a deadlock or a serialization race
		 * is run again, as SQLite's busy handler would wait and retry; inside a transaction the
		 * whole transaction is what must be retried, so the caller hears RC_BUSY. */
		for (tries = 1;
		     tries < 3 && !check(db, res, PGRES_TUPLES_OK, PGRES_COMMAND_OK) && pc->last == RC_BUSY &&
		     (strcmp(pc->state, "40P01") == 0 || strcmp(pc->state, "40001") == 0) && !pg_in_transaction(db);
		     tries++) {
			PQclear(res);
			res = PQexecPrepared(pc->c, ps->name, ps->nparams, ps->vals, ps->lens, ps->fmts, 0);
		}
		if (!check(db, res, PGRES_TUPLES_OK, PGRES_COMMAND_OK)) {
			PQclear(res);
			return DB_ERROR;
		}
		ps->res = res;
		ps->nrows = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
		ps->row = -1;
		pc->changes = parse_count(res);
	}
	PQfreemem(ps->blob);
	ps->blob = NULL;
	if (ps->row < ps->nrows)
		ps->row++;
	return ps->row < ps->nrows ? DB_ROW : DB_DONE;
}

static void pg_reset(struct db_stmt *st)
{
	clear_result(st->drv);
}

static bool pg_busy(struct db_stmt *st)
{
	struct pg_stmt *ps = st->drv;

	return ps && ps->res;
}

/* The text of column i of the current row, or NULL (SQL NULL, no row, no such column). */
static const char *value(struct db_stmt *st, int i)
{
	struct pg_stmt *ps = st->drv;

	if (!ps->res || ps->row < 0 || ps->row >= ps->nrows || i < 0 || i >= PQnfields(ps->res) ||
	    PQgetisnull(ps->res, ps->row, i))
		return NULL;
	return PQgetvalue(ps->res, ps->row, i);
}

static int64_t pg_column_int64(struct db_stmt *st, int i)
{
	const char *v = value(st, i);
	char *end;
	long long n;

	if (!v)
		return 0;
	if (PQftype(((struct pg_stmt *)st->drv)->res, i) == OID_BOOL)
		return v[0] == 't';
	n = strtoll(v, &end, 10);
	if (*end == '.' || *end == 'e' || *end == 'E')
		return (int64_t)strtod(v, NULL);
	return n;
}

static double pg_column_double(struct db_stmt *st, int i)
{
	const char *v = value(st, i);

	if (!v)
		return 0;
	if (PQftype(((struct pg_stmt *)st->drv)->res, i) == OID_BOOL)
		return v[0] == 't';
	return strtod(v, NULL);
}

static const unsigned char *pg_column_text(struct db_stmt *st, int i)
{
	return (const unsigned char *)value(st, i);
}

static const void *pg_column_blob(struct db_stmt *st, int i)
{
	struct pg_stmt *ps = st->drv;
	const char *v = value(st, i);

	if (!v)
		return NULL;
	if (PQftype(ps->res, i) != OID_BYTEA)
		return v;
	PQfreemem(ps->blob);
	ps->blob = PQunescapeBytea((const unsigned char *)v, &ps->blob_len);
	return ps->blob;
}

static int pg_column_bytes(struct db_stmt *st, int i)
{
	struct pg_stmt *ps = st->drv;
	const char *v = value(st, i);

	if (!v)
		return 0;
	if (PQftype(ps->res, i) == OID_BYTEA) {
		if (!pg_column_blob(st, i))
			return 0;
		return (int)ps->blob_len;
	}
	return PQgetlength(ps->res, ps->row, i);
}

static int pg_column_type(struct db_stmt *st, int i)
{
	struct pg_stmt *ps = st->drv;
	const char *v = value(st, i);

	if (!v)
		return DB_NULL;
	switch (PQftype(ps->res, i)) {
	case OID_BOOL:
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID: return DB_INTEGER;
	case OID_FLOAT4:
	case OID_FLOAT8: return DB_FLOAT;
	case OID_NUMERIC: return strpbrk(v, ".eEN") ? DB_FLOAT : DB_INTEGER; /* sum() of integers */
	case OID_BYTEA: return DB_BLOB;
	default: return DB_TEXT;
	}
}

static int pg_column_count(struct db_stmt *st)
{
	struct pg_stmt *ps = st->drv;

	return ps->res ? PQnfields(ps->res) : 0;
}

static const char *pg_column_name(struct db_stmt *st, int i)
{
	struct pg_stmt *ps = st->drv;

	return ps->res ? PQfname(ps->res, i) : NULL;
}

static enum rc pg_exec(struct db *db, const char *sql)
{
	struct pg_conn *pc = conn_of(db);
	PGresult *res;
	bool ok;

	if (!ensure_conn(db)) {
		log_err("db: %s: %s", pc->err, sql);
		return pc->last;
	}
	res = PQexec(pc->c, sql);
	ok = check(db, res, PGRES_COMMAND_OK, PGRES_TUPLES_OK);
	if (ok)
		pc->changes = parse_count(res);
	PQclear(res);
	if (!ok) {
		log_err("db: %s: %.200s", pc->err, sql);
		return pc->last == RC_OK ? RC_DB : pc->last;
	}
	return RC_OK;
}

static const char sql_lock_timeout[] = "SELECT set_config('lock_timeout', ?1, true)";
static const char sql_writer_lock[] = "SELECT pg_advisory_xact_lock(?1)";

/* Runs a cached one-row statement with the given text and integer arguments. */
static enum rc run_cached(struct db *db, const char *sql, const char *text, int64_t n)
{
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_OK;

	if (!st)
		return RC_DB;
	if ((text && pg_bind_text(st, 1, text, -1, DB_TRANSIENT)) || (!text && pg_bind_int64(st, 1, n)))
		rc = RC_DB;
	else if (pg_step(st) != DB_ROW)
		rc = conn_of(db)->last == RC_OK ? RC_DB : conn_of(db)->last;
	pg_reset(st);
	return rc;
}

/* The writer lock in one round trip, for the two bounds in use (none: the engine and the command
 * line; DB_WRITER_WAIT_MS: HTTP requests). The key is KEY_WRITER written out. */
_Static_assert(KEY_WRITER == 1886154356LL, "the SQL below spells the key");
_Static_assert(DB_WRITER_WAIT_MS == 5000, "the SQL below spells the bound");
static const char sql_begin_wait[] = "BEGIN ISOLATION LEVEL READ COMMITTED; "
                                     "SELECT pg_advisory_xact_lock(1886154356)";
static const char sql_begin_bounded[] = "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = 5000; "
                                        "SELECT pg_advisory_xact_lock(1886154356); SET LOCAL lock_timeout = 0";

static enum rc pg_begin(struct db *db)
{
	struct pg_conn *pc = conn_of(db);
	char ms[24];
	enum rc rc = RC_OK;

	if (!ensure_conn(db))
		return pc->last;
	if (db->writer_wait_ms <= 0 || db->writer_wait_ms == DB_WRITER_WAIT_MS) {
		PGresult *res = PQexec(pc->c, db->writer_wait_ms <= 0 ? sql_begin_wait : sql_begin_bounded);

		if (!check(db, res, PGRES_COMMAND_OK, PGRES_TUPLES_OK))
			rc = pc->last == RC_OK ? RC_DB : pc->last;
		PQclear(res);
	} else {
		rc = pg_exec(db, "BEGIN ISOLATION LEVEL READ COMMITTED");
		if (rc != RC_OK)
			return rc;
		snprintf(ms, sizeof ms, "%dms", db->writer_wait_ms);
		rc = run_cached(db, sql_lock_timeout, ms, 0);
		if (rc == RC_OK)
			rc = run_cached(db, sql_writer_lock, NULL, KEY_WRITER);
		if (rc == RC_OK)
			rc = run_cached(db, sql_lock_timeout, "0", 0);
	}
	if (rc != RC_OK) {
		if (rc == RC_BUSY && strcmp(pc->state, "55P03") == 0)
			log_warn("db: no write access within %d ms (a writer of another instance holds the lock): "
			         "answering busy",
			         db->writer_wait_ms);
		else
			log_err("db: BEGIN: %s", pc->err);
		if (PQstatus(pc->c) == CONNECTION_OK)
			PQclear(PQexec(pc->c, "ROLLBACK"));
	}
	return rc;
}

static enum rc pg_commit(struct db *db)
{
	struct pg_conn *pc = conn_of(db);
	PGresult *res;
	enum rc rc = RC_OK;

	if (!ensure_conn(db))
		return pc->last;
	res = PQexec(pc->c, "COMMIT");
	if (!check(db, res, PGRES_COMMAND_OK, PGRES_COMMAND_OK)) {
		rc = pc->last == RC_OK ? RC_DB : pc->last;
		log_err("db: COMMIT: %s", pc->err);
	} else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		/* a statement failed inside: PostgreSQL rolled the whole transaction back */
		set_err(db, RC_DB, "25P02", "the transaction was rolled back after an error inside it");
		log_err("db: COMMIT: %s", pc->err);
		rc = RC_DB;
	}
	PQclear(res);
	return rc;
}

static bool pg_in_transaction(struct db *db)
{
	struct pg_conn *pc = conn_of(db);
	PGTransactionStatusType s = PQtransactionStatus(pc->c);

	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

static void pg_rollback(struct db *db)
{
	struct pg_conn *pc = conn_of(db);

	if (pg_in_transaction(db))
		PQclear(PQexec(pc->c, "ROLLBACK"));
}

static enum rc pg_last_rc(struct db *db)
{
	return conn_of(db)->last;
}

static const char *pg_errmsg(struct db *db)
{
	struct pg_conn *pc = conn_of(db);

	return pc->err[0] ? pc->err : "not an error";
}

static bool pg_err_is_foreign_key(struct db *db)
{
	return strcmp(conn_of(db)->state, "23503") == 0;
}

static bool pg_file_moved(struct db *db)
{
	(void)db;
	return false;
}

/*
 * The id the last INSERT on this session drew from an identity column (lastval()). lastval() is
 * an error when the session never drew one (a table without an identity column): inside a
 * transaction that error would abort it, so there it is asked under a savepoint, all three
 * statements in one round trip. 0 when there is none.
 */
static int64_t pg_last_id(struct db *db)
{
	struct pg_conn *pc = conn_of(db);
	bool in_tx = pg_in_transaction(db);
	PGresult *res;
	int64_t id = 0;
	bool failed = false;

	if (!PQsendQuery(pc->c, in_tx ? "SAVEPOINT plantao_lastval; SELECT lastval(); RELEASE SAVEPOINT plantao_lastval"
	                              : "SELECT lastval()"))
		return 0;
	while ((res = PQgetResult(pc->c)) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		else if (PQresultStatus(res) != PGRES_COMMAND_OK)
			failed = true;
		PQclear(res);
	}
	if (failed && in_tx)
		PQclear(PQexec(pc->c, "ROLLBACK TO SAVEPOINT plantao_lastval; RELEASE SAVEPOINT plantao_lastval"));
	return failed ? 0 : id;
}

static int pg_changes(struct db *db)
{
	return conn_of(db)->changes;
}

static const char sql_migrate_lock[] = "SELECT pg_advisory_lock(?1)";
static const char sql_migrate_unlock[] = "SELECT pg_advisory_unlock(?1)";

static enum rc pg_migrate_lock(struct db *db, bool take)
{
	return run_cached(db, take ? sql_migrate_lock : sql_migrate_unlock, NULL, KEY_MIGRATE);
}

static const char sql_job_lock[] = "SELECT pg_try_advisory_lock(?1)";

static bool pg_job_lock(struct db *db, int64_t key)
{
	struct pg_conn *pc = conn_of(db);
	struct db_stmt *st;
	bool got = false;
	int i, free_slot = -1;

	if (pc->jobs_gen != pc->gen || PQstatus(pc->c) != CONNECTION_OK) {
		memset(pc->jobs, 0, sizeof pc->jobs); /* a new session holds nothing yet */
		pc->jobs_gen = pc->gen;
	}
	for (i = 0; i < PG_MAX_JOBS; i++) {
		if (pc->jobs[i] == key)
			return true;
		if (!pc->jobs[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;
	st = db_prepare(db, sql_job_lock);
	if (!st || pg_bind_int64(st, 1, key))
		return false;
	if (pg_step(st) == DB_ROW)
		got = pg_column_int64(st, 0) == 1;
	else
		log_warn("db: job lock: %s", pc->err);
	pg_reset(st);
	if (got) {
		if (pc->jobs_gen != pc->gen) { /* reconnected inside the step: the lock is on the new session */
			memset(pc->jobs, 0, sizeof pc->jobs);
			pc->jobs_gen = pc->gen;
		}
		pc->jobs[free_slot] = key;
	}
	return got;
}

const struct db_driver db_pg_driver = {
        .name = "postgresql",
        .migrations = "migrations/pg/",
        .open = pg_open,
        .close = pg_close,
        .prepare = pg_prepare,
        .finalize = pg_finalize,
        .bind_int64 = pg_bind_int64,
        .bind_double = pg_bind_double,
        .bind_text = pg_bind_text,
        .bind_blob = pg_bind_blob,
        .bind_null = pg_bind_null,
        .step = pg_step,
        .reset = pg_reset,
        .busy = pg_busy,
        .column_int64 = pg_column_int64,
        .column_double = pg_column_double,
        .column_text = pg_column_text,
        .column_blob = pg_column_blob,
        .column_bytes = pg_column_bytes,
        .column_type = pg_column_type,
        .column_count = pg_column_count,
        .column_name = pg_column_name,
        .exec = pg_exec,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .in_transaction = pg_in_transaction,
        .last_rc = pg_last_rc,
        .errmsg = pg_errmsg,
        .err_is_foreign_key = pg_err_is_foreign_key,
        .file_moved = pg_file_moved,
        .last_id = pg_last_id,
        .changes = pg_changes,
        .settle_others = NULL,
        .migrate_lock = pg_migrate_lock,
        .job_lock = pg_job_lock,
};
