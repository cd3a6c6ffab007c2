/*
 * db/people.h — the people table: who can be on call, paged and texted.
 *
 * A person has a name, an E.164 phone (unique), an optional e-mail, a WhatsApp opt-in and
 * an SMS opt-out (set when they text one of Twilio's opt-out words, or when Twilio refuses a
 * text to them with 21610 because they replied STOP where plantao did not hear it; cleared by
 * START, UNSTOP or YES; read-only in the API, with when and how it was set).
 * Deleting a person who appears in the history (past rotation versions, past overrides,
 * acknowledged alerts) archives them (deleted_at) instead, so the past keeps its names;
 * archived people are invisible to the API, the rotation and the SMS commands. Their phone
 * stays reserved.
 *
 * Every change writes its audit row in the same transaction (db/audit.h).
 */
#ifndef PLANTAO_PEOPLE_H
#define PLANTAO_PEOPLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define PEOPLE_NAME_MAX    200                       /* characters (code points) */
#define PEOPLE_NAME_BYTES  (4 * PEOPLE_NAME_MAX + 1) /* UTF-8 storage */
#define PEOPLE_EMAIL_MAX   254
#define PEOPLE_PHONE_BYTES 20 /* "+" and 15 digits, NUL */
#define PEOPLE_ERR_MAX     160
#define PEOPLE_FIELD_MAX   48
#define PEOPLE_LIST_MAX    500 /* rows of one page of people_list */

struct person {
	int64_t id;
	char name[PEOPLE_NAME_BYTES];
	char phone[PEOPLE_PHONE_BYTES];
	char email[PEOPLE_EMAIL_MAX + 1]; /* "" when none */
	bool whatsapp;
	bool sms_opt_out;
	int64_t sms_opt_out_at;      /* when it was set (Unix seconds), 0 when not opted out or unknown */
	char sms_opt_out_via[32];    /* how: the word they texted ("STOP", "REVOKE"…) or "twilio_21610" */
	int64_t whatsapp_inbound_at; /* when they last wrote to the team's WhatsApp number, 0: never */
	bool email_pages;            /* pages go by e-mail too when an e-mail is set (default true) */
};

/* Fields of a create (all but email and whatsapp required) or a patch (any subset). Borrowed. */
struct person_input {
	bool has_name, has_phone, has_email, has_whatsapp, has_email_pages;
	const char *name;
	const char *phone;
	const char *email; /* NULL: clear */
	bool whatsapp;
	bool email_pages; /* pages by e-mail as well as by text (default true) */
};

/*
 * Why a write was refused, for callers that answer a client: code is a stable word the console
 * translates (static: "name_invalid", "phone_invalid", "email_invalid", "invalid_value",
 * "required", "unknown_field", "phone_taken", "person_in_rotation", "person_has_override",
 * "person_in_escalation", "invalid"; NULL while nothing was refused), field the body field it is
 * about ("" when the whole request), msg the sentence in English that names it first
 * ("phone: expected E.164 such as +5511999990000").
 */
struct people_err {
	const char *code;
	char field[PEOPLE_FIELD_MAX];
	char msg[PEOPLE_ERR_MAX];
};

/*
 * Validates a JSON body into in (strings borrowed from body). partial: a PATCH. Read-only
 * fields (id, sms_opt_out, created_at, updated_at) are ignored. RC_INVALID when body is not
 * an object; RC_UNPROCESSABLE for a bad, missing or unknown field; err says which and why.
 */
enum rc people_input_check(const json_t *body, bool partial, struct person_input *in, struct people_err *err);
/* The same with only the message (err, errlen). */
enum rc people_input_parse(const json_t *body, bool partial, struct person_input *in, char *err, size_t errlen);

/* Person id (not archived). RC_NOT_FOUND otherwise. */
enum rc people_get(struct db *db, int64_t id, struct person *out);
/* The (not archived) person whose phone is exactly phone. RC_NOT_FOUND otherwise. */
enum rc people_find_phone(struct db *db, const char *phone, struct person *out);
/* The person's name even when archived (for history); "" when unknown. */
void people_name(struct db *db, int64_t id, char *out, size_t len);

/* New JSON object of person p (the API's shape). */
json_t *people_to_json(const struct person *p);
/* Which people people_list answers. */
struct people_filter {
	int64_t limit;    /* rows, 1..PEOPLE_LIST_MAX */
	int64_t after_id; /* 0, or the last person of the previous page: the page goes on after them */
	const char *role; /* NULL: any; "admin", "editor", "viewer"; "none": people who may not sign in */
	const char *q;    /* NULL: anyone; else part of the name (any case) or of the phone */
};
/* The (not archived) people f selects, by name then id, as a new JSON array. */
enum rc people_list(struct db *db, const struct people_filter *f, json_t **out);

/*
 * Creates a person (audit "people.create" by actor) in one transaction. RC_CONFLICT when the
 * phone is taken (err: "phone_taken", saying by whom). *id receives the new id. err may be NULL.
 */
enum rc people_insert(struct db *db, const struct person_input *in, const char *actor, int64_t *id,
                      struct people_err *err);
/* The same with only the message (err, errlen): the command line's. */
enum rc people_create(struct db *db, const struct person_input *in, const char *actor, int64_t *id, char *err,
                      size_t errlen);
/* Applies the given fields (audit "people.update"). RC_NOT_FOUND, RC_CONFLICT (phone taken). */
enum rc people_update(struct db *db, int64_t id, const struct person_input *in, const char *actor,
                      struct people_err *err);
/*
 * Deletes (or archives, see above) a person (audit "people.delete"). RC_NOT_FOUND;
 * RC_CONFLICT with the reason in err ("person_in_rotation", "person_has_override",
 * "person_in_escalation") when the person is in the current rotation, has an override that has
 * not ended, or is a step of the escalation policy. *archived (may be NULL) tells which happened.
 */
enum rc people_delete(struct db *db, int64_t id, const char *actor, bool *archived, struct people_err *err);

/* Sets or clears sms_opt_out (STOP / START), audited as "people.sms_opt_out". Own transaction. */
enum rc people_set_opt_out(struct db *db, int64_t id, bool opt_out, const char *actor);

/*
 * The same, recording how (via: the word texted, "twilio_21610"; NULL: unknown) with the time.
 * *changed (may be NULL) tells whether the flag changed. Own transaction.
 */
enum rc people_set_opt_out_via(struct db *db, int64_t id, bool opt_out, const char *via, const char *actor,
                               bool *changed);

/*
 * Marks the (not archived) person whose phone is phone opted out of texts, as above, in the
 * caller's transaction; *id gets the person (0 when nobody has that phone: RC_NOT_FOUND).
 */
enum rc people_opt_out_phone(struct db *db, const char *phone, const char *via, const char *actor, int64_t *id,
                             bool *changed);

/* Whether the (not archived) person with phone has opted out of texts; false when nobody has it. */
enum rc people_phone_opted_out(struct db *db, const char *phone, bool *opted_out);

/*
 * Turns WhatsApp pages on or off for person id because of what they wrote on WhatsApp (via:
 * the word, e.g. "STOP"), audited as "people.whatsapp". *changed (may be NULL) tells whether
 * it changed. Own transaction.
 */
enum rc people_set_whatsapp_via(struct db *db, int64_t id, bool on, const char *via, const char *actor, bool *changed);

/*
 * WhatsApp's 24-hour window: the person with phone wrote to the team's WhatsApp number at
 * `at` (Unix seconds; an older time changes nothing). In the caller's transaction; a phone
 * nobody has changes nothing.
 */
enum rc people_whatsapp_inbound(struct db *db, const char *phone, int64_t at);

#define PEOPLE_WHATSAPP_WINDOW_S (24 * 60 * 60)

/* Whether free-form WhatsApp may go to phone at now: its person wrote in within 24 hours. */
enum rc people_whatsapp_window(struct db *db, const char *phone, int64_t now, bool *inside);

/* How many (not archived) people have opted out of texts (for /healthz?verbose). */
enum rc people_opted_out_count(struct db *db, int64_t *count);

#endif
