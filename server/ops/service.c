/*
 * server/ops/service.c — sd_notify, the engine watchdog and the SIGHUP reload (service.h).
 *
 * The watchdog must fail when the engine stops, not when the process merely lives: a ping
 * from a thread of its own would keep a hung engine alive forever. The engine thread stamps
 * the end of each tick (engine_last_tick_us(), an atomic it writes every ENGINE_TICK_MS or
 * sooner); every WATCHDOG_USEC/4 this thread reads it and pings only when that stamp is at
 * most WATCHDOG_USEC/2 old (service_watchdog_decide). A tick blocked in a job, a clock read
 * or a database lock stops the stamp, so the pings stop and systemd restarts the service.
 */
#include "ops/service.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "outbox/engine.h"

#define SAMPLE_MS       50
#define ENV_LINE_MAX    4096
#define LEVEL_NAME_SIZE 16

struct service {
	struct app *app;
	pthread_t thread;
	_Atomic int stop;
	int64_t watchdog_us;
};

bool service_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen, len;
	socklen_t salen;
	ssize_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return false;
	plen = strlen(path);
	if (plen >= sizeof sa.sun_path)
		return false;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket address: no trailing NUL counted */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	len = strlen(msg);
	n = sendto(fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	close(fd);
	return n == (ssize_t)len;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

enum service_watchdog service_watchdog_decide(int64_t now_us, int64_t last_tick_us, int64_t watchdog_us, bool stalled)
{
	if (last_tick_us > 0 && now_us - last_tick_us <= watchdog_us / 2)
		return stalled ? SERVICE_WD_PING_AGAIN : SERVICE_WD_PING;
	return stalled ? SERVICE_WD_WITHHOLD : SERVICE_WD_STALLED;
}

static void *watchdog(void *arg)
{
	struct service *s = arg;
	int64_t now, last_ping = 0, stalled_at = 0;
	int64_t interval = s->watchdog_us / 4;
	bool stalled = false;
	char msg[160];

	while (!s->stop) {
		now = clock_mono_us();
		if (now - last_ping >= interval) {
			int64_t tick = engine_last_tick_us();

			last_ping = now;
			switch (service_watchdog_decide(now, tick, s->watchdog_us, stalled)) {
			case SERVICE_WD_PING: service_notify("WATCHDOG=1"); break;
			case SERVICE_WD_PING_AGAIN:
				service_notify("WATCHDOG=1\nSTATUS=serving (the engine ticks again)");
				log_warn("watchdog: the engine ticks again after %lld s stalled; systemd is pinged "
				         "again",
				         (long long)((now - stalled_at) / 1000000));
				stalled = false;
				break;
			case SERVICE_WD_STALLED:
				stalled = true;
				stalled_at = tick;
				log_err("watchdog: the engine thread has not ticked for %lld s: no page, call or text "
				        "goes out; watchdog pings withheld so that systemd restarts plantao",
				        (long long)((now - tick) / 1000000));
				snprintf(msg, sizeof msg, "STATUS=engine stalled for %lld s: pages are not going out",
				         (long long)((now - tick) / 1000000));
				service_notify(msg);
				break;
			case SERVICE_WD_WITHHOLD: break;
			}
		}
		sleep_ms(SAMPLE_MS);
	}
	return NULL;
}

enum rc service_start(struct app *app, struct service **out)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	struct service *s;
	long long us;
	char *end;

	*out = NULL;
	if (!getenv("NOTIFY_SOCKET") || !usec || !*usec)
		return RC_OK;
	if (pid && *pid && strtoll(pid, NULL, 10) != (long long)getpid())
		return RC_OK; /* meant for another process */
	errno = 0;
	us = strtoll(usec, &end, 10);
	if (errno || *end || us <= 0) {
		log_warn("WATCHDOG_USEC '%s' is not a number of microseconds: no watchdog pings", usec);
		return RC_OK;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return RC_INTERNAL;
	s->app = app;
	s->watchdog_us = us;
	if (pthread_create(&s->thread, NULL, watchdog, s)) {
		free(s);
		return RC_INTERNAL;
	}
	log_info("watchdog: pinging systemd every %lld ms while the engine ticks (WatchdogSec %lld s)", us / 4000,
	         us / 1000000);
	*out = s;
	return RC_OK;
}

void service_stop(struct service *s)
{
	if (!s)
		return;
	s->stop = 1;
	pthread_join(s->thread, NULL);
	free(s);
}

/* ---- SIGHUP ------------------------------------------------------------------------------ */

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/* The log level in force: only the thread that takes signals (main) changes it. */
static char level_now[LEVEL_NAME_SIZE];

static bool apply_level(const char *name)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = {{"debug", LOG_LEVEL_DEBUG},
	              {"info", LOG_LEVEL_INFO},
	              {"warn", LOG_LEVEL_WARN},
	              {"error", LOG_LEVEL_ERR}};
	size_t i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (!strcmp(name, levels[i].name)) {
			log_set_level(levels[i].level);
			return true;
		}
	return false;
}

static void reload_line(const char *path, char *key, char *val, int *changed, int *later)
{
	const char *running;
	size_t vlen;

	trim(key);
	trim(val);
	vlen = strlen(val);
	if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
		val[vlen - 1] = '\0';
		val++;
	}
	if (!strcmp(key, "PLANTAO_LOG_LEVEL")) {
		const char *v = *val ? val : "info";

		if (!strcmp(v, level_now))
			return;
		if (!apply_level(v)) {
			log_err("reload: %s: PLANTAO_LOG_LEVEL '%s' is not debug, info, warn or error; kept %s", path,
			        v, level_now);
			return;
		}
		log_warn("reload: PLANTAO_LOG_LEVEL %s -> %s", level_now, v);
		snprintf(level_now, sizeof level_now, "%s", v);
		(*changed)++;
		return;
	}
	running = getenv(key);
	if ((strncmp(key, "PLANTAO_", 8) && strncmp(key, "TWILIO_", 7)) || !strcmp(running ? running : "", val))
		return;
	/* the values of secrets are never logged, so none is */
	log_warn("reload: %s changed in %s: it takes effect at the next restart (systemctl restart plantao)", key,
	         path);
	(*later)++;
}

void service_reload(const char *env_file)
{
	const char *path = env_file ? env_file : ".env";
	char line[ENV_LINE_MAX];
	int changed = 0, later = 0, lineno = 0;
	FILE *f;

	if (!level_now[0]) {
		const char *lv = getenv("PLANTAO_LOG_LEVEL");

		snprintf(level_now, sizeof level_now, "%s", lv && *lv ? lv : "info");
	}
	f = fopen(path, "r");
	if (!f) {
		log_err("reload: cannot read %s: %s; nothing changed", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f)) {
		char *key = line, *eq;

		lineno++;
		trim(line);
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(key, "export ", 7))
			key += 7;
		eq = strchr(key, '=');
		if (!eq) {
			log_err("reload: %s:%d: expected KEY=VALUE (line skipped)", path, lineno);
			continue;
		}
		*eq = '\0';
		reload_line(path, key, eq + 1, &changed, &later);
	}
	fclose(f);
	log_info("reload: %s read on SIGHUP: %d change(s) applied, %d waiting for a restart", path, changed, later);
	service_notify(later ? "STATUS=serving; reloaded, some changes wait for a restart"
	                     : "STATUS=serving; reloaded");
}
