/*
 * server/main.c — the plantao command line. Only wires: configuration, database, HTTP
 * server, engine, signals. `die()` is allowed here, before the server starts.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth/phone.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/demo.h"
#include "db/people.h"
#include "db/tokens.h"
#include "core/app.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "outbox/engine.h"
#include "http/http.h"
#include "http/tls.h"
#include "core/log.h"
#include "http/routes.h"
#include "monitors/uptime.h"
#include "monitors/watch.h"
#include "rotation/chain_memo.h"
#include "rotation/tz.h"
#include "core/version.h"
#include "db/copy.h"
#include "ops/cli.h"
#include "ops/service.h"
#include "twilio/setup.h"

static const char usage[] =
        "usage: plantao <command> [options]\n"
        "\n"
        "commands:\n"
        "  serve [--demo] [--env-file FILE]\n"
        "                              migrate the database and serve HTTP (PLANTAO_LISTEN);\n"
        "                              --demo seeds three people and a weekly rotation into an empty database;\n"
        "                              --env-file reads FILE instead of ./.env, again on SIGHUP (PLANTAO_LOG_LEVEL\n"
        "                              changes live, other changes are logged and wait for a restart) and\n"
        "                              PLANTAO_TLS_CERT/PLANTAO_TLS_KEY (a renewed certificate for new connections).\n"
        "                              Under systemd (Type=notify): READY=1 once listening, WATCHDOG=1 while\n"
        "                              the engine ticks\n"
        "  migrate                     create or upgrade the database (PLANTAO_DB) and exit\n"
        "  migrate --dry-run           list the migrations migrate would apply, in order; changes nothing\n"
        "  migrate --copy-from FILE    copy the SQLite database FILE into the empty PostgreSQL database\n"
        "                              PLANTAO_DB names (migrated first), checked by counts and checksums\n"
        "  backup FILE                 copy the SQLite database to FILE while plantao serves (online backup,\n"
        "                              checked); on PostgreSQL use pg_dump\n"
        "  restore FILE                put the backup FILE in place of the SQLite database (plantao stopped);\n"
        "                              the old one is kept as <db>.before-restore-<time>\n"
        "  token create --role ROLE [--name NAME]\n"
        "                              create an API token (admin, editor, viewer, alerts); printed once\n"
        "  person create --name NAME --phone PHONE [--role admin|editor|viewer]\n"
        "                              add a person (the first admin, who then signs in with a code)\n"
        "  twilio check                check the Twilio credentials, TWILIO_FROM and its webhooks\n"
        "  twilio setup                point TWILIO_FROM's webhooks and voice fallback at plantao\n"
        "  twilio fallback --file PATH | --upload\n"
        "                              write the support line's fallback TwiML for a static host, or point\n"
        "                              the number's voice fallback URL at PLANTAO_FALLBACK_URL\n"
        "  version                     print the version\n"
        "  help                        this text\n"
        "\n"
        "environment (also read from ./.env, or the --env-file of serve; the real environment wins):\n"
        "  PLANTAO_LISTEN              address:port to serve on (127.0.0.1:8080)\n"
        "  PLANTAO_DB                  SQLite file (./plantao.db) or a postgres:// URL\n"
        "  PLANTAO_PUBLIC_URL          the https:// address Twilio and browsers reach plantao at\n"
        "  PLANTAO_API_TOKEN           bootstrap admin API token\n"
        "  PLANTAO_TZ                  the team's time zone (America/Sao_Paulo)\n"
        "  PLANTAO_LANG                language of texts and calls: pt-BR or en (pt-BR)\n"
        "  PLANTAO_COUNTRY             country of phone numbers typed without + (BR)\n"
        "  PLANTAO_LOG_LEVEL           debug, info, warn or error (info)\n"
        "  PLANTAO_LOG_FORMAT          text, or json: one JSON object a line (text)\n"
        "  PLANTAO_TLS_CERT            PEM certificate: serve HTTPS (with PLANTAO_TLS_KEY); read again on SIGHUP\n"
        "  PLANTAO_TLS_KEY             PEM private key of PLANTAO_TLS_CERT\n"
        "  PLANTAO_STATIC_DIR          serve the console from this folder instead of the binary\n"
        "  PLANTAO_CLOCK_FILE          tests only: a file holding seconds added to the clock\n"
        "  TWILIO_ACCOUNT_SID          Twilio account (AC...)\n"
        "  TWILIO_AUTH_TOKEN           Twilio auth token (signs webhooks)\n"
        "  TWILIO_FROM                 the Twilio number pages and the support line use (E.164)\n"
        "  TWILIO_WHATSAPP_FROM        whatsapp:+E164 sender of WhatsApp pages\n"
        "  TWILIO_WHATSAPP_TEMPLATE_SID\n"
        "                              approved Content template (HX...) for WhatsApp pages\n"
        "  TWILIO_API_BASE             Twilio's API (https://api.twilio.com)\n"
        "  PLANTAO_FALLBACK_URL        where the support line's fallback TwiML is published (default: plantao's\n"
        "                              own /twilio/fallback.xml)\n"
        "  PLANTAO_IMAP_URL            imaps:// mailbox whose mails become alerts\n"
        "  PLANTAO_IMAP_USER           its user\n"
        "  PLANTAO_IMAP_PASSWORD       its password\n"
        "  PLANTAO_IMAP_FROM           only mails from this sender\n"
        "  PLANTAO_IMAP_SUBJECT        only mails whose subject contains this\n"
        "  PLANTAO_IMAP_CA_FILE        PEM bundle to verify the IMAP server with\n"
        "  PLANTAO_IMAP_INTERVAL       seconds between polls (20)\n"
        "  PLANTAO_IMAP_INSECURE       1: allow a password without TLS (0)\n"
        "  PLANTAO_SMTP_URL            smtp:// (STARTTLS) or smtps:// server pages and notices are e-mailed through\n"
        "  PLANTAO_SMTP_USER           its user\n"
        "  PLANTAO_SMTP_PASSWORD       its password\n"
        "  PLANTAO_SMTP_FROM           the sender address (required with PLANTAO_SMTP_URL)\n"
        "  PLANTAO_SMTP_CA_FILE        PEM bundle to verify the SMTP server with\n"
        "  PLANTAO_SMTP_INSECURE       1: allow smtp:// without STARTTLS (0)\n"
        "  PLANTAO_THREADS             HTTP worker threads (4)\n"
        "  PLANTAO_MAX_CONNECTIONS     open connections (512)\n"
        "  PLANTAO_PER_IP_CONNECTIONS  open connections per client address (64)\n"
        "  PLANTAO_REQUEST_TIMEOUT     seconds a request may take to arrive (15)\n"
        "  PLANTAO_API_RATE            API requests per second per client address (50)\n"
        "  PLANTAO_DIAL_TIMEOUT        seconds the support line rings the person on call (20)\n"
        "  PLANTAO_VOICEMAIL_MAX       longest voicemail in seconds (120)\n"
        "  PLANTAO_SMS_RATE            texts per second per sender (1)\n"
        "  PLANTAO_CALL_RATE           calls per second per sender (1)\n"
        "  PLANTAO_DEST_PER_MINUTE     alert texts and calls to one phone per minute (1)\n"
        "  PLANTAO_DEST_PER_15MIN      the same per 15 minutes (5)\n"
        "  PLANTAO_MAX_TRIES           sends tried before a message is dead (8)\n"
        "  PLANTAO_CALLBACK_GRACE      seconds a call's status may come late (30)\n"
        "  PLANTAO_MACHINE_DETECTION   on or off: tell answering machines from people (on)\n"
        "  PLANTAO_HEALTH_PAGE_AGE     seconds a page may wait before /healthz fails (120)\n"
        "  PLANTAO_METRICS_INSTANCE    on: every /metrics series carries this instance's id (on with PostgreSQL)\n"
        "  PLANTAO_SESSION_DAYS        console sign-in lasts this many days of disuse (30)\n"
        "  PLANTAO_RETENTION_DAYS      days outbox rows, calls, voicemails and audit are kept; 0: forever (400)\n"
        "  PLANTAO_RETENTION_BODY_DAYS  days texts and transcriptions keep their words (90)\n"
        "  PLANTAO_RETENTION_ALERT_DAYS  days alerts and the audit of schedule changes are kept (1100)\n"
        "\n"
        "See README.md, docs/DEPLOY.md and .env.example.\n";

/* PLANTAO_DB as logs and messages show it: a postgres:// URL's password is never printed. */
static char shown_db[512];

static void show_db(const char *path)
{
	const char *scheme = strstr(path, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;

	if (colon)
		snprintf(shown_db, sizeof shown_db, "%.*s:***%s", (int)(colon - path), path, at);
	else
		snprintf(shown_db, sizeof shown_db, "%s", path);
}

static void load_cfg(struct cfg *c)
{
	char err[512];

	if (cfg_load(c, err, sizeof err) != RC_OK)
		die("configuration: %s", err);
	clock_use_file(c->clock_file);
	show_db(c->db_path);
}

static struct db *open_migrated(const struct cfg *c)
{
	struct db *db;
	int applied;

	if (db_open(c->db_path, &db) != RC_OK)
		die("cannot open database %s", shown_db);
	if (db_migrate(db, &applied) != RC_OK)
		die("database %s could not be migrated", shown_db);
	if (applied)
		log_info("database %s: %d migration(s) applied, schema %d", shown_db, applied, db_latest_version());
	return db;
}

static int cmd_migrate(void)
{
	struct cfg c;

	load_cfg(&c);
	db_close(open_migrated(&c));
	printf("database %s at schema %d\n", shown_db, db_latest_version());
	cfg_release(&c);
	return 0;
}

/* plantao migrate --copy-from FILE: a SQLite database moved into PostgreSQL (db/copy.c). */
static int cmd_migrate_copy(const char *from)
{
	struct copy_report r;
	struct cfg c;
	struct db *db;
	char err[512];
	enum rc rc;

	load_cfg(&c);
	db = open_migrated(&c);
	rc = copy_from_sqlite(db, from, &r, err, sizeof err);
	db_close(db);
	cfg_release(&c);
	if (rc != RC_OK) {
		fprintf(stderr, "plantao: copy from %s: %s\n", from, err);
		return 1;
	}
	printf("copied %lld rows in %zu tables from %s into %s; counts and checksums match (%s)\n", (long long)r.rows,
	       r.tables, from, shown_db, r.check);
	return 0;
}

static int cmd_token(int argc, char **argv)
{
	const char *role = NULL, *name = "cli";
	struct cfg c;
	struct db *db;
	char *secret = NULL;
	int64_t id = 0;
	int i;

	if (argc < 3 || strcmp(argv[2], "create") != 0) {
		fputs(usage, stderr);
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc)
			role = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else {
			fprintf(stderr, "plantao token create: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!tokens_is_role(role)) {
		fprintf(stderr, "plantao token create: --role must be admin, editor, viewer or alerts\n");
		return 2;
	}
	load_cfg(&c);
	db = open_migrated(&c);
	if (tokens_create(db, name, role, &secret, &id) != RC_OK)
		die("could not create the token");
	printf("%s\n", secret);
	fprintf(stderr, "token %lld (%s, role %s) created; it is shown only this once\n", (long long)id, name, role);
	free(secret);
	db_close(db);
	cfg_release(&c);
	return 0;
}

/* plantao person create: the first admin, before anybody can sign in. */
static int cmd_person(int argc, char **argv)
{
	struct person_input in = {0};
	const char *role = NULL, *name = NULL, *phone = NULL;
	char e164[PHONE_E164_BYTES], err[PEOPLE_ERR_MAX];
	struct cfg c;
	struct db *db;
	int64_t id = 0;
	int i;

	if (argc < 3 || strcmp(argv[2], "create") != 0) {
		fputs(usage, stderr);
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc)
			role = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--phone") && i + 1 < argc)
			phone = argv[++i];
		else {
			fprintf(stderr, "plantao person create: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (role && strcmp(role, "admin") && strcmp(role, "editor") && strcmp(role, "viewer")) {
		fprintf(stderr, "plantao person create: --role must be admin, editor or viewer\n");
		return 2;
	}
	if (!name || !name[0] || !phone) {
		fprintf(stderr, "plantao person create: --name and --phone are required\n");
		return 2;
	}
	load_cfg(&c);
	if (phone_normalize(phone, c.country, e164) != RC_OK)
		die("plantao person create: --phone '%s' is not a phone number (E.164 such as +5511987654321)", phone);
	in.has_name = in.has_phone = true;
	in.name = name;
	in.phone = e164;
	db = open_migrated(&c);
	if (people_create(db, &in, "cli", &id, err, sizeof err) != RC_OK)
		die("could not create the person%s%s", err[0] ? ": " : "", err);
	if (role && auth_set_role(db, id, role, "cli") != RC_OK)
		die("person %lld created, but the role could not be set", (long long)id);
	printf("%lld\n", (long long)id);
	fprintf(stderr, "person %lld (%s, %s) created%s%s%s\n", (long long)id, name, e164, role ? ", role " : "",
	        role ? role : "", role ? ": sign in at the console with this phone" : "");
	db_close(db);
	cfg_release(&c);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	struct cfg c;
	struct app app;
	struct db *db;
	struct http_server *http = NULL;
	struct engine *engine = NULL;
	struct watch *watch = NULL;
	struct uptime *uptime = NULL;
	struct service *service = NULL;
	sigset_t set;
	bool demo = false, seeded = false;
	char *demo_token = NULL, status[256], err[512];
	const char *env_file = NULL;
	int i, sig = 0;

	/* Each SQLite connection empties its page cache whenever another connection has committed
	 * (every new call, every outbox round) and fills it again: with glibc's default 128 KiB trim
	 * threshold, the thread's arena handed those pages back to the kernel (madvise) and faulted
	 * them in again at every request, about 10 % of a new call's CPU (docs/PERFORMANCE.md). Up to
	 * 2 MiB free at the top of an arena is kept instead. Setting it fixes glibc's mmap threshold
	 * too (no longer raised by the first large block freed): blocks up to 1 MiB (an import's
	 * buffers) come from the arena rather than a mmap of their own each. */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 2 * 1024 * 1024);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--demo"))
			demo = true;
		else if (!strcmp(argv[i], "--env-file") && i + 1 < argc)
			env_file = argv[++i];
		else {
			fprintf(stderr, "plantao serve: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (env_file && access(env_file, R_OK) != 0)
		die("plantao serve: --env-file %s cannot be read", env_file);
	if (env_file && cfg_read_dotenv(env_file, err, sizeof err) != RC_OK)
		die("configuration: %s", err);
	load_cfg(&c);
	if (!cli_hold_database(c.db_path, err, sizeof err))
		die("plantao serve: %s", err);
	db = open_migrated(&c);
	if (demo && demo_seed(db, c.tz, &seeded) != RC_OK)
		die("could not seed the demo data");
	if (seeded)
		log_info("demo data seeded: three people and a weekly rotation");
	/* A fresh demo without PLANTAO_API_TOKEN gets an admin token, printed once, so the
	 * console and the API can be tried at once. */
	if (seeded && !c.api_token) {
		int64_t id;

		if (tokens_create(db, "demo", "admin", &demo_token, &id) != RC_OK)
			die("could not create the demo token");
	}

	/* Signals are taken by this thread only (sigwait); every thread started later inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("libcurl could not be initialised");
	if (app_init(&app, &c) != RC_OK || !(app.chain_memo = chain_memo_new()))
		die("out of memory");
	app_give_db(&app, db); /* closing it would checkpoint the new WAL now (its last connection) */
	if (http_start(&app, routes, routes_count, &http) != RC_OK)
		die("cannot start the HTTP server");
	if (engine_start(&app, &engine) != RC_OK)
		die("cannot start the engine");
	if (watch_start(&app, &watch) != RC_OK || uptime_start(&app, &uptime) != RC_OK)
		die("cannot start the monitor threads");
	if (cfg_has_twilio(&c) && strstr(c.twilio_api_base, "api.twilio.com") &&
	    (strstr(c.public_url, "://127.") || strstr(c.public_url, "://localhost") ||
	     strstr(c.public_url, "://[::1]")))
		log_warn("PLANTAO_PUBLIC_URL %s is a loopback address: Twilio cannot reach it, so call TwiML, "
		         "keypresses and status callbacks never arrive (use the public https:// address)",
		         c.public_url);
	if (c.whatsapp_from && !c.whatsapp_template_sid)
		log_warn("TWILIO_WHATSAPP_TEMPLATE_SID is not set: WhatsApp pages and notices go as free-form text, "
		         "which WhatsApp delivers only to people who wrote to %s in the last 24 hours; to everyone "
		         "else they fail with error 63016 (their SMS and calls still go out). Set it to an approved "
		         "Content template (HX...) with {{1}} = alert number and {{2}} = summary",
		         c.whatsapp_from);
	else if (c.whatsapp_template_sid && !c.whatsapp_from)
		log_warn("TWILIO_WHATSAPP_TEMPLATE_SID is set but TWILIO_WHATSAPP_FROM is not: no WhatsApp message is "
		         "sent");
	if (!cfg_has_twilio(&c))
		log_warn("Twilio credentials not set (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): "
		         "messages and calls stay pending in the outbox");
	log_info("plantao %s serving on %s:%d (public URL %s, database %s)", PLANTAO_VERSION, c.listen_host,
	         http_port(http), c.public_url, shown_db);
	if (demo)
		printf("plantao is up. Try:\n"
		       "  curl http://%s:%d/healthz\n"
		       "  curl http://%s:%d/metrics\n"
		       "  open http://%s:%d/ (web console)\n"
		       "  curl -H 'Authorization: Bearer %s' http://%s:%d/api/oncall\n",
		       c.listen_host, http_port(http), c.listen_host, http_port(http), c.listen_host, http_port(http),
		       c.api_token  ? "$PLANTAO_API_TOKEN"
		       : demo_token ? demo_token
		                    : "<a token from: build/plantao token create --role admin>",
		       c.listen_host, http_port(http));
	if (demo_token)
		printf("The demo admin token above is shown only this once; paste it into the console.\n");
	free(demo_token);
	fflush(stdout);
	snprintf(status, sizeof status, "READY=1\nSTATUS=serving on %s:%d (schema %d)", c.listen_host, http_port(http),
	         db_latest_version());
	service_notify(status);
	/* after READY=1: systemd counts watchdog pings from readiness on, and a ping before it
	 * would tell a supervisor the service is alive before it listens */
	if (service_start(&app, &service) != RC_OK)
		die("cannot start the watchdog thread");
	malloc_trim(0); /* what the start-up (migrations, the demo) freed, below the threshold above */
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		service_reload(env_file);
		tls_reload(); /* a renewed certificate for new connections */
	}
	log_info("signal %d: finishing requests in flight", sig);
	service_notify("STOPPING=1\nSTATUS=stopping: finishing requests in flight");
	service_stop(service);
	http_stop(http, 10000);
	uptime_stop(uptime);
	watch_stop(watch);
	engine_stop(engine);
	chain_memo_free(app.chain_memo);
	app_release(&app);
	curl_global_cleanup();
	log_info("stopped");
	cfg_release(&c);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	tz_init(); /* before any thread: local-time conversions go through server/rotation/tz.c */
	if (!cmd) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc, argv);
	if (!strcmp(cmd, "migrate") && argc == 2)
		return cmd_migrate();
	if (!strcmp(cmd, "migrate") && argc == 3 && !strcmp(argv[2], "--dry-run")) {
		struct cfg c;
		int status;

		load_cfg(&c);
		status = cli_migrate_dry_run(&c, shown_db);
		cfg_release(&c);
		return status;
	}
	if ((!strcmp(cmd, "backup") || !strcmp(cmd, "restore")) && argc == 3) {
		struct cfg c;
		int status;

		load_cfg(&c);
		status =
		        !strcmp(cmd, "backup") ? cli_backup(&c, shown_db, argv[2]) : cli_restore(&c, shown_db, argv[2]);
		cfg_release(&c);
		return status;
	}
	if (!strcmp(cmd, "migrate") && argc == 4 && !strcmp(argv[2], "--copy-from"))
		return cmd_migrate_copy(argv[3]);
	if (!strcmp(cmd, "token"))
		return cmd_token(argc, argv);
	if (!strcmp(cmd, "person"))
		return cmd_person(argc, argv);
	if (!strcmp(cmd, "twilio"))
		return setup_command(argc, argv);
	if (!strcmp(cmd, "version") && argc == 2) {
		printf("plantao %s (schema %d)\n", PLANTAO_VERSION, db_latest_version());
		return 0;
	}
	if ((!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) && argc == 2) {
		/* a reader that stops early (plantao help | head) is no failure of help */
		signal(SIGPIPE, SIG_IGN);
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "plantao: unknown command or arguments '%s'\n\n", cmd);
	fputs(usage, stderr);
	return 2;
}
