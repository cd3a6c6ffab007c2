/*
 * tests/fuzz/fuzz_sig.c — libFuzzer target for the signature checks.
 * Input: "auth token\nurl\nX-Twilio-Signature\nform body" (missing lines are empty).
 * Besides crashes and leaks it checks that a signature sig_compute made for a URL is
 * accepted by sig_is_valid for that same URL, and that one changed character is not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "twilio/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Takes the next '\n'-terminated field of [*p, end) as a new NUL-terminated string. */
static char *field(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	check(s != NULL);
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *token = field(&p, end);
	char *url = field(&p, end);
	char *header = field(&p, end);
	char sig[SIG_SIZE];
	struct form f;

	form_init(&f);
	(void)sig_is_valid_json(token, url, p, (size_t)(end - p), header);
	if (form_parse(&f, p, (size_t)(end - p)) != RC_OK)
		goto out;
	(void)sig_is_valid(token, url, &f, header);
	if (sig_compute(token, url, &f, sig) != RC_OK) {
		check(*token == '\0'); /* the only way it fails on valid input */
		goto out;
	}
	check(strlen(sig) == 28);
	check(sig_is_valid(token, url, &f, sig));
	sig[3] = sig[3] == 'A' ? 'B' : 'A';
	check(!sig_is_valid(token, url, &f, sig));
out:
	form_release(&f);
	free(token);
	free(url);
	free(header);
	return 0;
}
