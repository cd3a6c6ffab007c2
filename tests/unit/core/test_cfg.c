/* tests/unit/core/test_cfg.c — configuration parsing and validation (server/core/cfg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"

static const char *vars[] = {
        "PLANTAO_LISTEN",       "PLANTAO_DB",        "PLANTAO_PUBLIC_URL",     "PLANTAO_TZ",
        "PLANTAO_LANG",         "TWILIO_FROM",       "TWILIO_API_BASE",        "TWILIO_ACCOUNT_SID",
        "TWILIO_WHATSAPP_FROM", "PLANTAO_THREADS",   "PLANTAO_SMS_RATE",       "PLANTAO_MACHINE_DETECTION",
        "PLANTAO_IMAP_URL",     "PLANTAO_API_TOKEN", "PLANTAO_TLS_CERT",       "PLANTAO_TLS_KEY",
        "PLANTAO_LOG_LEVEL",    "TWILIO_AUTH_TOKEN", "PLANTAO_HEALTH_PAGE_AGE"};

static int setup(void **state)
{
	size_t i;
	char dir[] = "/tmp/plantao-cfg-XXXXXX";

	(void)state;
	for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0); /* no stray .env */
	return 0;
}

static void defaults(void **state)
{
	struct cfg c;
	char err[256] = "";

	(void)state;
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_OK);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8080);
	assert_string_equal(c.db_path, "./plantao.db");
	assert_string_equal(c.public_url, "http://127.0.0.1:8080");
	assert_string_equal(c.tz, "America/Sao_Paulo");
	assert_string_equal(c.lang, "pt-BR");
	assert_string_equal(c.twilio_api_base, "https://api.twilio.com");
	assert_null(c.twilio_sid);
	assert_false(cfg_has_twilio(&c));
	assert_int_equal(c.threads, 4);
	assert_true(c.machine_detection);
	cfg_release(&c);
}

/* Each malformed value is refused with a message naming the variable. */
static void expect_bad(const char *name, const char *value)
{
	struct cfg c;
	char err[256] = "";

	setenv(name, value, 1);
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_INVALID);
	assert_non_null(strstr(err, name));
	cfg_release(&c);
	unsetenv(name);
}

static void malformed(void **state)
{
	(void)state;
	expect_bad("PLANTAO_LISTEN", "127.0.0.1");
	expect_bad("PLANTAO_LISTEN", "127.0.0.1:99999");
	expect_bad("PLANTAO_LISTEN", "127.0.0.1:80x");
	expect_bad("PLANTAO_PUBLIC_URL", "ftp://x");
	expect_bad("PLANTAO_PUBLIC_URL", "http://");
	expect_bad("TWILIO_API_BASE", "localhost:9000");
	expect_bad("PLANTAO_TZ", "Mars/Olympus_Mons");
	expect_bad("PLANTAO_TZ", "../../etc/passwd");
	expect_bad("PLANTAO_LANG", "fr");
	expect_bad("TWILIO_FROM", "11999990000");
	expect_bad("TWILIO_FROM", "+0123456789");
	expect_bad("TWILIO_WHATSAPP_FROM", "+5511999990000");
	expect_bad("TWILIO_ACCOUNT_SID", "XX123");
	expect_bad("PLANTAO_THREADS", "0");
	expect_bad("PLANTAO_THREADS", "four");
	expect_bad("PLANTAO_SMS_RATE", "-1");
	expect_bad("PLANTAO_MACHINE_DETECTION", "maybe");
	expect_bad("PLANTAO_IMAP_URL", "http://mail");
	expect_bad("PLANTAO_TLS_CERT", "/tmp/cert.pem");
	expect_bad("PLANTAO_LOG_LEVEL", "loud");
	expect_bad("PLANTAO_HEALTH_PAGE_AGE", "0");
}

/* Twilio credentials with the default public URL: Twilio's callbacks could never reach
 * 127.0.0.1, so start-up stops with one line naming PLANTAO_PUBLIC_URL. */
static void public_url_required_with_credentials(void **state)
{
	static const char sid[] = "AC0123456789abcdef0123456789abcdef";
	struct cfg c;
	char err[512] = "";

	(void)state;
	setenv("TWILIO_ACCOUNT_SID", sid, 1);
	setenv("TWILIO_AUTH_TOKEN", "secret", 1);
	setenv("TWILIO_FROM", "+15005550006", 1);
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_INVALID);
	assert_non_null(strstr(err, "PLANTAO_PUBLIC_URL"));
	assert_null(strchr(err, '\n'));
	cfg_release(&c);

	unsetenv("TWILIO_ACCOUNT_SID"); /* the auth token alone (it also checks webhook signatures) */
	err[0] = '\0';
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_INVALID);
	assert_non_null(strstr(err, "PLANTAO_PUBLIC_URL"));
	cfg_release(&c);

	setenv("PLANTAO_PUBLIC_URL", "http://127.0.0.1:8080", 1); /* set on purpose, e.g. with the simulator */
	setenv("TWILIO_ACCOUNT_SID", sid, 1);
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_OK);
	assert_true(cfg_has_twilio(&c));
	assert_int_equal(c.health_page_age, 120);
	cfg_release(&c);

	unsetenv("PLANTAO_PUBLIC_URL"); /* no credentials: the demo needs no public URL */
	unsetenv("TWILIO_ACCOUNT_SID");
	unsetenv("TWILIO_AUTH_TOKEN");
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_OK);
	assert_false(cfg_has_twilio(&c));
	cfg_release(&c);
	unsetenv("TWILIO_FROM");
}

static void dotenv_and_precedence(void **state)
{
	struct cfg c;
	char err[256] = "";
	FILE *f = fopen(".env", "w");

	(void)state;
	assert_non_null(f);
	fputs("# comment\n\nPLANTAO_LISTEN=0.0.0.0:9090\nexport PLANTAO_LANG=\"en\"\nPLANTAO_TZ='Europe/London'\n"
	      "PLANTAO_PUBLIC_URL=https://plantao.example.com/\n",
	      f);
	fclose(f);
	setenv("PLANTAO_TZ", "America/New_York", 1); /* the real environment wins */
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_OK);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 9090);
	assert_string_equal(c.lang, "en");
	assert_string_equal(c.tz, "America/New_York");
	assert_string_equal(c.public_url, "https://plantao.example.com"); /* trailing slash dropped */
	cfg_release(&c);
	unlink(".env");
	unsetenv("PLANTAO_LISTEN");
	unsetenv("PLANTAO_LANG");
	unsetenv("PLANTAO_TZ");
	unsetenv("PLANTAO_PUBLIC_URL");
}

static void bad_dotenv_line(void **state)
{
	struct cfg c;
	char err[256] = "";
	FILE *f = fopen(".env", "w");

	(void)state;
	fputs("NOT A PAIR\n", f);
	fclose(f);
	assert_int_equal(cfg_load(&c, err, sizeof err), RC_INVALID);
	assert_non_null(strstr(err, ".env:1"));
	cfg_release(&c);
	unlink(".env");
}

static void e164(void **state)
{
	(void)state;
	assert_true(cfg_is_e164("+5511999990000"));
	assert_true(cfg_is_e164("+14155550100"));
	assert_false(cfg_is_e164("+1234567"));          /* too short */
	assert_false(cfg_is_e164("+1234567890123456")); /* 16 digits */
	assert_false(cfg_is_e164("5511999990000"));
	assert_false(cfg_is_e164("+55 11 99999 0000"));
	assert_false(cfg_is_e164(NULL));
	assert_false(cfg_is_e164(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(defaults, setup),
	        cmocka_unit_test_setup(malformed, setup),
	        cmocka_unit_test_setup(dotenv_and_precedence, setup),
	        cmocka_unit_test_setup(bad_dotenv_line, setup),
	        cmocka_unit_test_setup(public_url_required_with_credentials, setup),
	        cmocka_unit_test(e164),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
