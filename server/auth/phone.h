/*
 * server/auth/phone.h — phone numbers as people type them ("(11) 98765-4321", "011 98765 4321",
 * "+55 11 98765-4321", "0055…") made E.164 with the team's country (PLANTAO_COUNTRY, ISO
 * 3166 alpha-2, default BR). Pure functions; used by sign-in (server/api/api_auth.c) and
 * validated at start-up by server/core/cfg.c.
 */
#ifndef PLANTAO_AUTH_PHONE_H
#define PLANTAO_AUTH_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rc.h"

#define PHONE_E164_BYTES 20 /* "+", 15 digits, NUL, room */

/* The international calling code of country (e.g. "BR" -> 55), 0 when unknown. */
int phone_country_code(const char *country);

/*
 * Writes the E.164 form of typed into out: spaces, dots, dashes, slashes and parentheses are
 * dropped; "+" or "00" starts an international number; otherwise the number is national in
 * country (a leading trunk "0" dropped; in BR also a two-digit carrier code after it, as in
 * "0 21 11 98765-4321"). RC_UNPROCESSABLE when what is left is not a plausible E.164 number
 * (letters, too short or too long).
 */
enum rc phone_normalize(const char *typed, const char *country, char out[PHONE_E164_BYTES]);

#endif
