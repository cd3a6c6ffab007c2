/*
 * tests/fuzz/fuzz_twiml.c — libFuzzer target for the TwiML builder (twiml/twiml.c).
 * Property: any text — an alert summary, a person's name, whatever the API or an e-mail let
 * in, cut by snprintf into a fixed buffer as the handlers do — yields a document: twiml_finish
 * answers RC_OK, and libxml2's parser reads it back as well-formed XML with <Response> at the
 * root. Beyond that: the text read back holds no control character and nothing XML 1.0
 * forbids; text that was clean already (valid UTF-8 by the intake's own check, no control
 * character, no U+FFFE/U+FFFF) comes back byte for byte, in elements and attributes alike;
 * and cleaning is idempotent.
 * Input: text, then optionally a NUL byte and an attribute value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/chvalid.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>

#include "http/form.h"
#include "twiml/twiml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Valid UTF-8 without control characters or U+FFFE/U+FFFF: what the builder keeps as is. */
static int is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!form_is_utf8(s, strlen(s)))
		return 0;
	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
			return 0;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) /* C1 */
			return 0;
		if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
			return 0;
	}
	return 1;
}

/* Every character of s (UTF-8 from the parser) is an XML Char and no control character. */
static void check_speakable(const xmlChar *s)
{
	int len, c;
	size_t left = (size_t)xmlStrlen(s);

	while (left > 0) {
		len = left > 4 ? 4 : (int)left;
		c = xmlGetUTF8Char(s, &len);
		check(c >= 0 && xmlIsCharQ(c));
		check(c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
		check(c < 0x7f || c > 0x9f);
		s += len;
		left -= (size_t)len;
	}
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

/* Builds the document of an alert call around text and attr; returns it parsed. */
static xmlDocPtr build(const char *text, const char *attr, char **xml)
{
	const struct twiml_gather g = {.num_digits = 1, .action = attr, .method = "POST", .timeout = 8};
	struct twiml *t = twiml_new();
	char msg[512];
	size_t len;
	xmlDocPtr doc;

	check(t != NULL);
	/* as server/twilio/alert_call.c does: the text cut into a fixed buffer */
	snprintf(msg, sizeof msg, "Alerta 12: %s. Pressione 1 para assumir, 2 para passar adiante.", text);
	twiml_gather_begin(t, &g);
	twiml_say(t, text, attr, "pt-BR");
	twiml_say(t, msg, "Polly.Camila", "pt-BR");
	twiml_gather_end(t);
	twiml_message(t, text);
	twiml_redirect(t, attr, NULL);
	check(twiml_finish(t, xml, &len) == RC_OK);
	twiml_free(t);
	check(*xml != NULL && strlen(*xml) == len);
	doc = xmlReadMemory(*xml, (int)len, "twiml.xml", NULL, XML_PARSE_NONET);
	check(doc != NULL); /* well-formed, or xmlReadMemory gives nothing */
	return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	char *input, *xml = NULL, *again = NULL;
	const char *text, *attr;
	xmlDocPtr doc, doc2;
	xmlNodePtr root, gather, say, say2, message, redirect;
	xmlChar *said, *voice, *body, *said2, *voice2;

	if (!initialised) {
		xmlSetGenericErrorFunc(NULL, quiet);
		initialised = 1;
	}
	input = malloc(size + 2);
	check(input != NULL);
	memcpy(input, data, size);
	input[size] = '\0';
	input[size + 1] = '\0';
	text = input;
	attr = input + strlen(input) + (strlen(input) < size ? 1 : 0);

	doc = build(text, attr, &xml);
	root = xmlDocGetRootElement(doc);
	check(root != NULL && xmlStrEqual(root->name, BAD_CAST "Response"));
	gather = child(root, "Gather");
	say = child(gather, "Say");
	say2 = say ? say->next : NULL;
	message = child(root, "Message");
	redirect = child(root, "Redirect");
	check(gather && say && say2 && message && redirect);

	said = xmlNodeGetContent(say);
	voice = xmlGetProp(say, BAD_CAST "voice");
	body = xmlNodeGetContent(message);
	check(said && voice && body);
	check_speakable(said);
	check_speakable(voice);
	check(xmlStrEqual(said, body));
	if (is_clean(text))
		check(strcmp((const char *)said, text) == 0);
	if (is_clean(attr))
		check(strcmp((const char *)voice, attr) == 0);

	/* cleaning twice changes nothing more */
	doc2 = build((const char *)said, (const char *)voice, &again);
	said2 = xmlNodeGetContent(child(child(xmlDocGetRootElement(doc2), "Gather"), "Say"));
	voice2 = xmlGetProp(child(child(xmlDocGetRootElement(doc2), "Gather"), "Say"), BAD_CAST "voice");
	check(xmlStrEqual(said, said2) && xmlStrEqual(voice, voice2));

	xmlFree(said2);
	xmlFree(voice2);
	xmlFreeDoc(doc2);
	free(again);
	xmlFree(said);
	xmlFree(voice);
	xmlFree(body);
	xmlFreeDoc(doc);
	free(xml);
	free(input);
	return 0;
}
