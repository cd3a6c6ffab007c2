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
 * POST /twilio/alert-call/{attempt}: requested as soon as the call is answered (AsyncAmd: no
 * AnsweredBy yet, see alert_call_amd); a call placed with synchronous detection that reached a
 * machine (AnsweredBy machine_* or fax) hears a short message and the chain moves on; a person
 * hears the alert twice inside
 * <Gather numDigits="1">, then a goodbye. An alert taken or resolved meanwhile is said so.
 */
enum rc alert_call_twiml(struct http_req *req);
/* POST /twilio/alert-call/{attempt}/gather: Digits 1 acknowledges, '*' repeats, anything else
 * passes the alert on to the next step. */
enum rc alert_call_gather(struct http_req *req);
/*
 * POST /twilio/alert-call/{attempt}/amd: Twilio's AsyncAmd callback (AnsweredBy). An answering
 * machine or a fax is never an acknowledgment: the call's attempts end as "machine" and the
 * chain moves on at once; machine_end_beep/_silence/_other (the greeting has ended) also queues
 * the live call's redirect to .../machine (db/call_redirects.h, sent by server/twilio/redirect.c).
 * A person (human, unknown) changes nothing. Answers an empty <Response/>.
 */
enum rc alert_call_amd(struct http_req *req);
/* POST /twilio/alert-call/{attempt}/machine: what the answering machine records, twice — every
 * alert of the call still open and how to acknowledge it by text — then a hang-up. */
enum rc alert_call_machine(struct http_req *req);
/* POST /twilio/alert-call/{*}, any other path: the person hears that the alert was not found. */
enum rc alert_call_unknown_route(struct http_req *req);

#endif
