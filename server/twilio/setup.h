/*
 * server/twilio/setup.h — `plantao twilio check|setup|fallback`: the team's Twilio number as
 * the operator would check it in Twilio's console, from the command line.
 *
 * check: the credentials (GET Accounts/{sid}.json), each sender number and its capabilities
 * (GET IncomingPhoneNumbers.json?PhoneNumber=…), and the number's webhooks against
 * PLANTAO_PUBLIC_URL (voice URL, SMS URL, status callback, voice fallback URL); one line per
 * check, "OK", "WARN" or "FAIL" and what to do.
 * setup: POST IncomingPhoneNumbers/{sid}.json with those webhooks, then check.
 * fallback: the support line's fallback TwiML (server/twilio/fallback.h) written to a file for a
 * static host, or (--upload) the number's VoiceFallbackUrl pointed at PLANTAO_FALLBACK_URL:
 * TwiML Bins have no public REST API (no such path in Twilio's OpenAPI description), so plantao
 * cannot upload one.
 *
 * Spec: Twilio's OpenAPI description twilio_api_v2010 (api.v2010.account,
 * api.v2010.account.incoming_phone_number, UpdateIncomingPhoneNumber; errors 20003, 20404).
 * Caller: server/main.c only. Synchronous, one libcurl easy handle of its own: these are a few
 * one-shot requests of a command, not the engine's sending (server/twilio/twilio.c).
 */
#ifndef PLANTAO_TWILIO_SETUP_H
#define PLANTAO_TWILIO_SETUP_H

/*
 * Runs `plantao twilio …` (argv[1] is "twilio"); prints to stdout, problems to stderr.
 * Exit status: 0 all checks OK (warnings allowed), 1 a check failed or Twilio refused a
 * change, 2 bad usage or configuration.
 */
int setup_command(int argc, char **argv);

#endif
