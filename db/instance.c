/*
 * db/instance.c — this process's instance id (contract in instance.h). Built once under
 * pthread_once from the host name, the pid and the wall clock at that moment (real time, not
 * the tests' clock: two processes started in the same test second still differ by pid).
 */
#include "db/instance.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char id[INSTANCE_ID_MAX];

static void build(void)
{
	char host[64] = "";

	if (gethostname(host, sizeof host - 1) != 0 || !host[0])
		snprintf(host, sizeof host, "%s", "localhost");
	snprintf(id, sizeof id, "%s:%ld:%lld", host, (long)getpid(), (long long)time(NULL));
}

const char *instance_id(void)
{
	pthread_once(&once, build);
	return id;
}
