/*
 * server/twilio/sms.h — POST /twilio/sms (signed): text commands to the team's number
 * (https://www.twilio.com/docs/messaging/twiml). Order of handling:
 *   1. Twilio's default opt-out words STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE,
 *      OPTOUT and opt-in words START, UNSTOP, YES (the whole message, any case, trimmed): set
 *      or clear people.sms_opt_out for a known sender, with the word and the time, and answer
 *      nothing (Twilio itself confirms an opt-out at carrier level, and replies to an
 *      opted-out number would be refused). An opted-out person still gets alert calls; texts
 *      to them are not attempted (server/outbox/sender.c). The same words on WhatsApp turn
 *      that person's WhatsApp pages off (on) instead, and leave texts as they are;
 *   A message from WhatsApp (From whatsapp:+E164) by a known person records when they wrote
 *   (people.whatsapp_inbound_at): WhatsApp's 24-hour window for free-form messages.
 *   2. the alert pager's commands (alerts_sms_command: "ack 12", "assumir 12", a bare
 *      "assumir" for the newest page sent to the person, "resolver 12");
 *   3. the support commands of known people: quem/who, ajuda/help, verificar/verify, and
 *      taking the shift in two steps: "PLANTAO ASSUMIR" / "TAKE SHIFT" records a request
 *      (db/shift_requests.h) and says until when and instead of whom; only "SIM" / "CONFIRM"
 *      from the same person within SHIFT_REQUEST_TTL takes it. "assumir" alone is an alert's
 *      acknowledgement and never moves the rotation.
 * Unknown senders get a short reply and nothing changes. Replies are one <Message> in
 * PLANTAO_LANG. A retried MessageSid cannot double an effect: a "SIM" from someone already on
 * call answers "you are on call already" and creates nothing.
 */
#ifndef PLANTAO_SMS_H
#define PLANTAO_SMS_H

#include "http/http.h"

/* Longest reply text (one <Message>). */
#define SMS_REPLY_MAX 1600

enum rc sms_incoming(struct http_req *req);

#endif
