/*
 * server/twilio/voice.h — the support line's Twilio voice webhooks (all signed, HTTP_TWILIO):
 *
 *   POST /twilio/voice                               incoming call: greeting, <Dial> leg 0
 *   POST /twilio/voice/whisper/{call}/{leg}          on the developer's leg: "press 1"
 *   POST /twilio/voice/whisper/{call}/{leg}/accept   the digit: 1 bridges, anything else hangs up
 *   POST /twilio/voice/dial-status/{call}/{leg}      <Dial> ended: done, next person, or voicemail
 *   POST /twilio/voice/dial-status                   the same, the leg found from CallSid
 *   POST /twilio/voice/voicemail                     <Record> ended: store it, SMS the on-call person
 *   POST /twilio/voice/transcription                 transcription text of a voicemail
 *
 * State travels in the callback paths (call id, leg), never in query strings.
 */
#ifndef PLANTAO_VOICE_H
#define PLANTAO_VOICE_H

#include "http/http.h"

/* Seconds the developer has to press 1 in the whisper. */
#define VOICE_WHISPER_TIMEOUT 8

enum rc voice_incoming(struct http_req *req);
enum rc voice_whisper(struct http_req *req);
enum rc voice_whisper_accept(struct http_req *req);
enum rc voice_dial_status(struct http_req *req);
enum rc voice_dial_status_sid(struct http_req *req);
enum rc voice_voicemail(struct http_req *req);
enum rc voice_transcription(struct http_req *req);

/* GET /api/calls[?limit=]: the calls with their legs, outcome and voicemail (HTTP_PERM_READ). */
enum rc voice_api_calls(struct http_req *req);

#endif
