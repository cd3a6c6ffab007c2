/*
 * server/voice.h — the support line's Twilio voice webhooks.
 */
#ifndef PLANTAO_VOICE_H
#define PLANTAO_VOICE_H

#include "server/http.h"

/* POST /twilio/voice: an incoming call to the team's number. */
enum rc voice_incoming(struct http_req *req);

#endif
