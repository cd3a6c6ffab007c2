/*
 * server/twilio/otp_call.h — the TwiML of a one-time code sent by voice call (issue 16).
 * The outbox calls the person with Url = PLANTAO_PUBLIC_URL/twilio/otp-call/{code id}; both
 * routes are signed Twilio webhooks (server/http/routes.c).
 */
#ifndef PLANTAO_OTP_CALL_H
#define PLANTAO_OTP_CALL_H

#include "http/http.h"

/* Seconds <Gather> waits for "1" after the code was read. */
#define OTP_CALL_GATHER_TIMEOUT 5

/*
 * POST /twilio/otp-call/{id}: the digits read one by one, slowly, twice, in the configured
 * language ("Seu código do plantão é: 4, 8, 1, 5, 1, 6."), inside <Gather numDigits="1">
 * offering "press 1 to repeat". A code already used, replaced or expired is said to be no
 * longer valid, without its digits.
 */
enum rc otp_call_twiml(struct http_req *req);
/* POST /twilio/otp-call/{id}/gather: Digits 1 reads the code again; anything else says goodbye. */
enum rc otp_call_gather(struct http_req *req);

#endif
