/*
 * tests/unit/twilio/test_sig.c — X-Twilio-Signature: the published vectors of Twilio's helper
 * libraries (../shared/twilio/README.md), port variants, tampering, JSON bodies, and
 * vectors computed independently with Python's hmac/hashlib/base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <pthread.h>

#include "http/form.h"
#include "twilio/sig.h"

#define TOKEN        "12345"
#define URL_PLAIN    "https://mycompany.com/myapp.php?foo=1&bar=2"
#define URL_443      "https://mycompany.com:443/myapp.php?foo=1&bar=2"
#define URL_80       "http://mycompany.com:80/myapp.php?foo=1&bar=2"
#define URL_HTTP     "http://mycompany.com/myapp.php?foo=1&bar=2"
#define URL_1234     "http://mycompany.com:1234/myapp.php?foo=1&bar=2"
#define SIG_PLAIN    "RSOYDt4T1cUTdK1PDd93/VVr8B8="
#define SIG_443      "kvajT1Ptam85bY51eRf/AJRuM3w="
#define SIG_80       "0ZXoZLH/DfblKGATFgpif+LLRf4="
#define SIG_1234     "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
#define SIG_REPEATED "IK+Dwps556ElfBT0I3Rgjkr1wJU="
#define MANY_SIG     "6psHSFLPS5AZKDHi1DyUeYy2B2E="

static void vector_params(struct form *f)
{
	/* deliberately not in sorted order */
	form_init(f);
	assert_int_equal(form_add(f, "To", "+18005551212"), RC_OK);
	assert_int_equal(form_add(f, "CallSid", "CA1234567890ABCDE"), RC_OK);
	assert_int_equal(form_add(f, "From", "+14158675309"), RC_OK);
	assert_int_equal(form_add(f, "Digits", "1234"), RC_OK);
	assert_int_equal(form_add(f, "Caller", "+14158675309"), RC_OK);
}

static void assert_sig(const char *url, const struct form *f, const char *expected)
{
	char out[SIG_SIZE];

	assert_int_equal(sig_compute(TOKEN, url, f, out), RC_OK);
	assert_string_equal(out, expected);
}

static void test_compute_published_vectors(void **state)
{
	struct form f;

	(void)state;
	vector_params(&f);
	assert_sig(URL_PLAIN, &f, SIG_PLAIN);
	assert_sig(URL_443, &f, SIG_443);
	assert_sig(URL_80, &f, SIG_80);
	assert_sig(URL_1234, &f, SIG_1234);
	form_release(&f);
}

static void test_compute_repeated_keys(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(form_parse(&f, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234", 62), RC_OK);
	assert_int_equal(f.n, 5);
	assert_sig(URL_PLAIN, &f, SIG_REPEATED);
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_REPEATED));
	/* "Sid" sorts before "SidAccount"; a different order of the values changes nothing */
	form_release(&f);
	form_init(&f);
	assert_int_equal(form_parse(&f, "Digits=1234&Digits=5678&SidAccount=AC123&Digits=1234&Sid=CA123", 62), RC_OK);
	assert_sig(URL_PLAIN, &f, SIG_REPEATED);
	form_release(&f);
}

static void test_valid_with_and_without_default_port(void **state)
{
	struct form f;

	(void)state;
	vector_params(&f);
	/* the URL as given */
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	assert_true(sig_is_valid(TOKEN, URL_443, &f, SIG_443));
	assert_true(sig_is_valid(TOKEN, URL_80, &f, SIG_80));
	assert_true(sig_is_valid(TOKEN, URL_1234, &f, SIG_1234));
	/* we know the URL without port, Twilio signed it with :443 (and the reverse) */
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_443));
	assert_true(sig_is_valid(TOKEN, URL_443, &f, SIG_PLAIN));
	/* plain http: the default port is 80 */
	assert_true(sig_is_valid(TOKEN, URL_HTTP, &f, SIG_80));
	assert_true(sig_is_valid(TOKEN, URL_80, &f, "OyGYPqTF6ztdbRNCvuQO/oPvqQ4="));
	/* https never gets :80 added, http never :443 */
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_80));
	assert_false(sig_is_valid(TOKEN, URL_HTTP, &f, SIG_443));
	/* a non-default port is never added */
	assert_false(sig_is_valid(TOKEN, URL_HTTP, &f, SIG_1234));
	form_release(&f);
}

static void test_rejects(void **state)
{
	struct form f;

	(void)state;
	vector_params(&f);
	assert_false(sig_is_valid("54321", URL_PLAIN, &f, SIG_PLAIN));
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, NULL));
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, ""));
	assert_false(sig_is_valid(NULL, URL_PLAIN, &f, SIG_PLAIN));
	assert_false(sig_is_valid("", URL_PLAIN, &f, SIG_PLAIN));
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, "RSOYDt4T1cUTdK1PDd93/VVr8B8"));
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN "="));
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, "rSOYDt4T1cUTdK1PDd93/VVr8B8="));
	/* other path, other query */
	assert_false(sig_is_valid(TOKEN, "https://mycompany.com/myapp.php?foo=1&bar=3", &f, SIG_PLAIN));
	assert_false(sig_is_valid(TOKEN, "https://mycompany.com/myapp.php", &f, SIG_PLAIN));
	/* no parameters at all */
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, NULL, SIG_PLAIN));
	form_release(&f);
}

static void test_tampered_params(void **state)
{
	struct form f;

	(void)state;
	vector_params(&f);
	free(f.pairs[3].value);
	f.pairs[3].value = strdup("1235");
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	form_release(&f);

	vector_params(&f);
	free(f.pairs[2].value);
	f.pairs[2].value = strdup("+14158675308");
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	form_release(&f);

	vector_params(&f);
	free(f.pairs[2].name);
	f.pairs[2].name = strdup("from");
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	form_release(&f);

	vector_params(&f);
	assert_int_equal(form_add(&f, "Extra", "1"), RC_OK);
	assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	form_release(&f);

	/*
	 * Twilio's scheme concatenates names and values without a separator, so "Digit" +
	 * "s1234" signs like "Digits" + "1234". A property of the protocol, kept here so
	 * nobody mistakes it for a bug in sig.c (and handlers only read names they know).
	 */
	vector_params(&f);
	free(f.pairs[3].name);
	f.pairs[3].name = strdup("Digit");
	free(f.pairs[3].value);
	f.pairs[3].value = strdup("s1234");
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	form_release(&f);
}

/*
 * Computed independently:
 *   python3 -c 'import hmac,hashlib,base64; p=sorted(set([...])); s=url+"".join(n+v for n,v in p);
 *               print(base64.b64encode(hmac.new(tok.encode(), s.encode(), hashlib.sha1).digest()))'
 */
#define PY_TOKEN   "f2d3c1b0a9e8d7c6b5a4f3e2d1c0b9a8"
#define PY_URL     "https://plantao.example.com.br/twilio/sms?lang=pt-BR&x=%C3%A1"
#define PY_URL_443 "https://plantao.example.com.br:443/twilio/sms?lang=pt-BR&x=%C3%A1"
#define PY_SIG     "jMJBapS9lZ2104YC+RwdXfrO3QI="
#define PY_SIG_443 "v7+FEtm0zkWC3uIqNVHDkQpevBc="

static void test_python_vector_utf8(void **state)
{
	static const char body[] = "Body=Ol%C3%A1%2C+a%C3%A7%C3%A3o+%E2%98%8E+%E2%80%94+plant%C3%A3o"
	                           "&From=%2B5511987654321&To=%2B5511912345678"
	                           "&MessageSid=SM0123456789abcdef0123456789abcdef&SmsStatus=received";
	char out[SIG_SIZE];
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(form_parse(&f, body, strlen(body)), RC_OK);
	assert_string_equal(form_get(&f, "Body"),
	                    "Ol\xc3\xa1, a\xc3\xa7\xc3\xa3o \xe2\x98\x8e \xe2\x80\x94 plant\xc3\xa3o");
	assert_int_equal(sig_compute(PY_TOKEN, PY_URL, &f, out), RC_OK);
	assert_string_equal(out, PY_SIG);
	assert_int_equal(sig_compute(PY_TOKEN, PY_URL_443, &f, out), RC_OK);
	assert_string_equal(out, PY_SIG_443);
	assert_true(sig_is_valid(PY_TOKEN, PY_URL, &f, PY_SIG));
	assert_true(sig_is_valid(PY_TOKEN, PY_URL, &f, PY_SIG_443));
	assert_false(sig_is_valid(TOKEN, PY_URL, &f, PY_SIG));
	form_release(&f);
}

static void test_compute_args(void **state)
{
	char out[SIG_SIZE];

	(void)state;
	assert_int_equal(sig_compute(NULL, URL_PLAIN, NULL, out), RC_INVALID);
	assert_int_equal(sig_compute("", URL_PLAIN, NULL, out), RC_INVALID);
	assert_int_equal(sig_compute(TOKEN, NULL, NULL, out), RC_INVALID);
	assert_int_equal(sig_compute(TOKEN, URL_PLAIN, NULL, out), RC_OK);
	assert_int_equal(strlen(out), 28);
}

static void test_odd_urls(void **state)
{
	char out[SIG_SIZE];

	(void)state;
	/* IPv6 literal with port: the port is what is removed, not part of the address */
	assert_int_equal(sig_compute(TOKEN, "http://[::1]/x", NULL, out), RC_OK);
	assert_true(sig_is_valid(TOKEN, "http://[::1]:80/x", NULL, out));
	assert_int_equal(sig_compute(TOKEN, "https://[::1]:443/x", NULL, out), RC_OK);
	assert_true(sig_is_valid(TOKEN, "https://[::1]/x", NULL, out));
	/* userinfo and no path */
	assert_int_equal(sig_compute(TOKEN, "https://u:p@host:443", NULL, out), RC_OK);
	assert_true(sig_is_valid(TOKEN, "https://u:p@host", NULL, out));
	/* scheme is case-insensitive for the default port */
	assert_int_equal(sig_compute(TOKEN, "HTTPS://host:443/a?b=c", NULL, out), RC_OK);
	assert_true(sig_is_valid(TOKEN, "HTTPS://host/a?b=c", NULL, out));
	/* not a URL: compared as is */
	assert_int_equal(sig_compute(TOKEN, "/twilio/voice", NULL, out), RC_OK);
	assert_true(sig_is_valid(TOKEN, "/twilio/voice", NULL, out));
}

/* hashlib.sha256(b'{"event":"alerta","message":"Servi\xc3\xa7o fora do ar"}').hexdigest() */
#define JSON_BODY "{\"event\":\"alerta\",\"message\":\"Servi\xc3\xa7o fora do ar\"}"
#define JSON_URL                                                                                                       \
	"https://plantao.example.com/twilio/events?bodySHA256="                                                        \
	"a01989b248e571d894b016c8aaa9643f2d87ae1e2526dd1d9c48dbf85c974200"
#define JSON_URL_443                                                                                                   \
	"https://plantao.example.com:443/twilio/events?bodySHA256="                                                    \
	"a01989b248e571d894b016c8aaa9643f2d87ae1e2526dd1d9c48dbf85c974200"
#define JSON_SIG     "Sk1YJklzWCNreiZMDSgU/1hWN8A="
#define JSON_SIG_443 "0u8fhcP26vD2qzmFCIdrCTR1Jc0="

static void test_json(void **state)
{
	const size_t len = strlen(JSON_BODY);
	char out[SIG_SIZE];

	(void)state;
	assert_int_equal(sig_compute(TOKEN, JSON_URL, NULL, out), RC_OK);
	assert_string_equal(out, JSON_SIG);
	assert_true(sig_is_valid_json(TOKEN, JSON_URL, JSON_BODY, len, JSON_SIG));
	assert_true(sig_is_valid_json(TOKEN, JSON_URL, JSON_BODY, len, JSON_SIG_443));
	assert_true(sig_is_valid_json(TOKEN, JSON_URL_443, JSON_BODY, len, JSON_SIG));
	/* body changed by one byte, or cut */
	assert_false(sig_is_valid_json(TOKEN, JSON_URL,
	                               "{\"event\":\"alerta\",\"message\":"
	                               "\"Servi\xc3\xa7o fora do Ar\"}",
	                               len, JSON_SIG));
	assert_false(sig_is_valid_json(TOKEN, JSON_URL, JSON_BODY, len - 1, JSON_SIG));
	/* wrong token, missing header */
	assert_false(sig_is_valid_json("54321", JSON_URL, JSON_BODY, len, JSON_SIG));
	assert_false(sig_is_valid_json(TOKEN, JSON_URL, JSON_BODY, len, NULL));
	assert_false(sig_is_valid_json(TOKEN, JSON_URL, JSON_BODY, len, ""));
	/* a URL without bodySHA256, correctly signed, is still refused */
	assert_int_equal(sig_compute(TOKEN, "https://plantao.example.com/twilio/events", NULL, out), RC_OK);
	assert_false(sig_is_valid_json(TOKEN, "https://plantao.example.com/twilio/events", JSON_BODY, len, out));
	/* the hash of an empty body */
	assert_int_equal(sig_compute(TOKEN,
	                             "https://h/e?bodySHA256="
	                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	                             NULL, out),
	                 RC_OK);
	assert_true(sig_is_valid_json(
	        TOKEN, "https://h/e?bodySHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "", 0,
	        out));
}

/* ---- the per-thread keyed context ---- */

/* OpenSSL allocations counted from main() on (CRYPTO_set_mem_functions). */
static size_t ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	__atomic_add_fetch(&ossl_allocs, 1, __ATOMIC_RELAXED);
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	__atomic_add_fetch(&ossl_allocs, 1, __ATOMIC_RELAXED);
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/*
 * Once a thread has checked one signature, checking more sets nothing up in OpenSSL: no
 * algorithm fetch, no context, no key schedule. What remains is OpenSSL's own HMAC reset
 * and final, each copying the precomputed digest state (one allocation each), so two per
 * MAC and four per check (both URL forms); the set-up per check used to cost 26.
 */
static void test_no_setup_per_request(void **state)
{
	struct form f;
	size_t before;
	int i;

	(void)state;
	vector_params(&f);
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	before = __atomic_load_n(&ossl_allocs, __ATOMIC_RELAXED);
	for (i = 0; i < 100; i++) {
		assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
		assert_false(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_443 "x"));
	}
	assert_in_range(__atomic_load_n(&ossl_allocs, __ATOMIC_RELAXED) - before, 0, 200 * 4);
	form_release(&f);
}

/* The cached key follows the token: another token, then the first again, each right. */
static void test_token_change(void **state)
{
	struct form f;
	char out[SIG_SIZE];

	(void)state;
	vector_params(&f);
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	assert_false(sig_is_valid("54321", URL_PLAIN, &f, SIG_PLAIN));
	assert_int_equal(sig_compute("1234", URL_PLAIN, &f, out), RC_OK);
	assert_string_not_equal(out, SIG_PLAIN);
	assert_false(sig_is_valid("123456", URL_PLAIN, &f, SIG_PLAIN)); /* a longer token, same prefix */
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, SIG_PLAIN));
	form_release(&f);
}

struct sig_worker {
	const char *token, *sig;
	int bad;
};

static void *sig_work(void *arg)
{
	struct sig_worker *w = arg;
	struct form f;
	int i;

	vector_params(&f);
	for (i = 0; i < 3000; i++)
		if (!sig_is_valid(w->token, URL_PLAIN, &f, w->sig))
			w->bad++;
	form_release(&f);
	return NULL;
}

/* Threads with different tokens at once each keep their own key; their contexts are freed at exit. */
static void test_threads(void **state)
{
	struct sig_worker a = {TOKEN, SIG_PLAIN, 0}, b = {"54321", NULL, 0};
	char other[SIG_SIZE];
	struct form f;
	pthread_t ta, tb;

	(void)state;
	vector_params(&f);
	assert_int_equal(sig_compute("54321", URL_PLAIN, &f, other), RC_OK);
	form_release(&f);
	b.sig = other;
	assert_int_equal(pthread_create(&ta, NULL, sig_work, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, sig_work, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.bad, 0);
	assert_int_equal(b.bad, 0);
}

/* More parameters than fit the stack array: sorted on the heap, same answer as Python's. */
static void test_many_params(void **state)
{
	struct form f;
	char name[16], value[16], out[SIG_SIZE];
	int i;

	(void)state;
	form_init(&f);
	for (i = 99; i >= 0; i--) {
		snprintf(name, sizeof(name), "P%03d", i);
		snprintf(value, sizeof(value), "v%d", i);
		assert_int_equal(form_add(&f, name, value), RC_OK);
	}
	/* python3: base64(hmac(b"12345", URL_PLAIN + "".join("P%03dv%d" % (i, i) for i in range(100)), sha1)) */
	assert_int_equal(sig_compute(TOKEN, URL_PLAIN, &f, out), RC_OK);
	assert_string_equal(out, MANY_SIG);
	assert_true(sig_is_valid(TOKEN, URL_PLAIN, &f, MANY_SIG));
	form_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_compute_published_vectors),
	        cmocka_unit_test(test_compute_repeated_keys),
	        cmocka_unit_test(test_valid_with_and_without_default_port),
	        cmocka_unit_test(test_rejects),
	        cmocka_unit_test(test_tampered_params),
	        cmocka_unit_test(test_python_vector_utf8),
	        cmocka_unit_test(test_compute_args),
	        cmocka_unit_test(test_odd_urls),
	        cmocka_unit_test(test_json),
	        cmocka_unit_test(test_no_setup_per_request),
	        cmocka_unit_test(test_token_change),
	        cmocka_unit_test(test_threads),
	        cmocka_unit_test(test_many_params),
	};

	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;

	return cmocka_run_group_tests(tests, NULL, NULL);
}
