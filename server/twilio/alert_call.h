/*
 * server/twilio/alert_call.h — the TwiML of outbound alert calls (https://www.twilio.com/docs/voice/twiml/gather).
 * Each escalation step calls a person with Url = PLANTAO_PUBLIC_URL/twilio/alert-call/{attempt};
 * the keypad answer comes back to .../gather. Both routes are signed Twilio webhooks. Neither
 * answers an error (Twilio would play "an application error has occurred"): an unknown attempt
 * or a database error is logged as a warning and spoken to the person, with where to
 * acknowledge instead.
 */
#ifndef PLANTAO_ALERT_CALL_H
#define PLANTAO_ALERT_CALL_H

#include "http/http.h"

/* Seconds <Gather> waits for a key after the message. */
#define ALERT_CALL_GATHER_TIMEOUT 6

/*
 * POST /twilio/alert-call/{attempt}: a machine (AnsweredBy machine_* or fax) hears a short
 * message and the chain moves on; a person hears the alert twice inside
 * <Gather numDigits="1">, then a goodbye. An alert taken or resolved meanwhile is said so.
 */
enum rc alert_call_twiml(struct http_req *req);
/* POST /twilio/alert-call/{attempt}/gather: Digits 1 acknowledges, '*' repeats, anything else
 * passes the alert on to the next step. */
enum rc alert_call_gather(struct http_req *req);
/* POST /twilio/alert-call/{*}, any other path: the person hears that the alert was not found. */
enum rc alert_call_unknown_route(struct http_req *req);

#endif
