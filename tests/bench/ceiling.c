/*
 * tests/bench/ceiling.c — the libmicrohttpd ceiling for `make bench`: the same daemon setup
 * as plantao (internal thread pool) answering every request with a fixed TwiML string, so
 * plantao's webhook figures can be read against what the library itself can do here.
 * usage: ceiling PORT THREADS
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char twiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Say language=\"pt-BR\">"
			    "Aguarde, estamos chamando o plantonista.</Say><Dial timeout=\"20\"><Number>"
			    "+5511990000001</Number></Dial></Response>";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)data;
	if (!*state) {
		*state = (void *)1;
		return MHD_YES;
	}
	if (*size) {
		*size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof twiml - 1, (void *)twiml, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "text/xml");
	ok = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ok;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: ceiling PORT THREADS\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t)atoi(argv[1]), NULL, NULL,
			     on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
			     MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
	if (!d)
		return 1;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
