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
 *   POST /twilio/voice/{*}                           any other path: voicemail (a URL mistyped in Twilio's console)
 *
 * State travels in the callback paths (call id, leg), never in query strings. No route answers
 * an error (Twilio would play "an application error has occurred"): an unknown call or leg, a
 * broken id or parameter, a database error is logged as a warning and answered with TwiML
 * that still helps — voicemail for the customer, a hang-up for a dialled leg, an empty
 * document for callbacks.
 */
#ifndef PLANTAO_VOICE_H
#define PLANTAO_VOICE_H

#include "http/http.h"

/* Seconds the developer has to press 1 in the whisper. */
#define VOICE_WHISPER_TIMEOUT 8
/* Twilio transcribes only recordings shorter than this (seconds): transcription is asked for
 * only when PLANTAO_VOICEMAIL_MAX is at most this. */
#define VOICE_TRANSCRIBE_MAX_S 120

enum rc voice_incoming(struct http_req *req);
enum rc voice_whisper(struct http_req *req);
enum rc voice_whisper_accept(struct http_req *req);
enum rc voice_dial_status(struct http_req *req);
enum rc voice_dial_status_sid(struct http_req *req);
enum rc voice_voicemail(struct http_req *req);
enum rc voice_transcription(struct http_req *req);
enum rc voice_unknown_route(struct http_req *req);

#endif
