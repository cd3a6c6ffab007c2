/*
 * server/http/routes.c — every route, its handler, who may call it and its body limit.
 * First match wins; the console's catch-all stays last.
 */
#include "http/routes.h"

#include "twilio/alert_call.h"
#include "twilio/otp_call.h"
#include "api/api_alerts.h"
#include "api/api_auth.h"
#include "api/api_escalation.h"
#include "api/api_tokens.h"
#include "api/api_people.h"
#include "api/api_rotation.h"
#include "api/api_outbox.h"
#include "api/api_audit.h"
#include "api/api_calls.h"
#include "api/api_feed.h"
#include "api/api_swaps.h"
#include "api/api_reports.h"
#include "api/api_sales.h"
#include "api/api_sales_periods.h"
#include "api/api_monitors.h"
#include "monitors/ping.h"
#include "http/console.h"
#include "pager/escalation.h"
#include "http/ops.h"
#include "twilio/sms.h"
#include "twilio/status.h"
#include "twilio/voice.h"
#include "twilio/fallback.h"

#define TW  HTTP_TWILIO
#define TOK HTTP_TOKEN
#define PUB HTTP_PUBLIC

/* One route per line reads best as a table: kept out of clang-format. */
/* clang-format off */
const struct route routes[] = {
	/* operations */
	{"GET", "/healthz", ops_healthz, PUB, HTTP_PERM_READ, 0, NULL},
	{"GET", "/metrics", ops_metrics, PUB, HTTP_PERM_READ, 0, NULL},

	/* Twilio webhooks (signed) */
	{"POST", "/twilio/voice", voice_incoming, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/voice/whisper/{call}/{leg}", voice_whisper, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/voice/whisper/{call}/{leg}/accept", voice_whisper_accept, TW, HTTP_PERM_READ,
	 HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/voice/dial-status/{call}/{leg}", voice_dial_status, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY,
	 NULL},
	{"POST", "/twilio/voice/dial-status", voice_dial_status_sid, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/voice/voicemail", voice_voicemail, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/voice/transcription", voice_transcription, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	/* a voice URL mistyped in Twilio's console still answers TwiML (voicemail), never a 404 */
	{"POST", "/twilio/voice/{*}", voice_unknown_route, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/sms", sms_incoming, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/alert-call/{attempt}", alert_call_twiml, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/alert-call/{attempt}/gather", alert_call_gather, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/alert-call/{attempt}/amd", alert_call_amd, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/alert-call/{attempt}/machine", alert_call_machine, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY,
	 NULL},
	{"POST", "/twilio/alert-call/{*}", alert_call_unknown_route, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/otp-call/{id}", otp_call_twiml, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/otp-call/{id}/gather", otp_call_gather, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/status/message", status_message, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"POST", "/twilio/status/call", status_call, TW, HTTP_PERM_READ, HTTP_TWILIO_MAX_BODY, NULL},
	{"GET", "/twilio/fallback.xml", fallback_get, TW, HTTP_PERM_READ, 0, NULL},

	/* JSON API (bearer token) */
	/* sign-in (server/api/api_auth.h): code and verify are public, the rest take a token or the cookie */
	{"POST", "/api/auth/code", api_auth_code, PUB, HTTP_PERM_READ, 4 * HTTP_KIB, NULL},
	{"POST", "/api/auth/verify", api_auth_verify, PUB, HTTP_PERM_READ, 4 * HTTP_KIB, NULL},
	{"POST", "/api/auth/logout", api_auth_logout, TOK, HTTP_PERM_READ, 4 * HTTP_KIB, NULL},
	{"GET", "/api/me", api_auth_me, TOK, HTTP_PERM_READ, 0, NULL},
	{"GET", "/api/auth/sessions", api_auth_sessions_list, TOK, HTTP_PERM_ADMIN, 0, NULL},
	{"DELETE", "/api/auth/sessions/{id}", api_auth_sessions_end, TOK, HTTP_PERM_ADMIN, 0, NULL},
	{"PUT", "/api/people/{id}/role", api_auth_role_put, TOK, HTTP_PERM_ADMIN, 4 * HTTP_KIB, NULL},
	/* the handlers allow the person themself or an admin */
	{"POST", "/api/people/{id}/verify", api_auth_verify_start, TOK, HTTP_PERM_READ, 4 * HTTP_KIB, NULL},
	{"POST", "/api/people/{id}/verify/confirm", api_auth_verify_confirm, TOK, HTTP_PERM_READ, 4 * HTTP_KIB, NULL},
	{"GET", "/api/tokens", api_tokens_list, TOK, HTTP_PERM_ADMIN, 0, NULL},
	{"POST", "/api/tokens", api_tokens_create, TOK, HTTP_PERM_ADMIN, HTTP_API_MAX_BODY, NULL},
	{"DELETE", "/api/tokens/{id}", api_tokens_revoke, TOK, HTTP_PERM_ADMIN, 0, NULL},
	{"POST", "/api/alerts", api_alerts_post, TOK, HTTP_PERM_ALERT, HTTP_ALERT_MAX_BODY, NULL},
	{"POST", "/api/alerts/alertmanager", api_alerts_alertmanager, TOK, HTTP_PERM_ALERT, HTTP_ALERT_MAX_BODY, NULL},
	{"POST", "/api/alerts/grafana", api_alerts_grafana, TOK, HTTP_PERM_ALERT, HTTP_ALERT_MAX_BODY, NULL},
	{"GET", "/api/alerts", api_alerts_list, TOK, HTTP_PERM_READ, 0, NULL},
	{"GET", "/api/alerts/{id}", api_alerts_get, TOK, HTTP_PERM_READ, 0, NULL},
	{"POST", "/api/alerts/{id}/ack", api_alerts_ack, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"POST", "/api/alerts/{id}/resolve", api_alerts_resolve, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"GET", "/api/escalation", api_escalation_get, TOK, HTTP_PERM_READ, 0, NULL},
	{"PUT", "/api/escalation", api_escalation_put, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"GET", "/api/people", api_people_list, TOK, HTTP_PERM_READ, 0, NULL},
	{"POST", "/api/people", api_people_create, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"GET", "/api/people/{id}", api_people_get, TOK, HTTP_PERM_READ, 0, NULL},
	{"PATCH", "/api/people/{id}", api_people_update, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"DELETE", "/api/people/{id}", api_people_delete, TOK, HTTP_PERM_EDIT, 0, NULL},
	{"GET", "/api/rotation", api_rotation_get, TOK, HTTP_PERM_READ, 0, NULL},
	{"PUT", "/api/rotation", api_rotation_put, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"GET", "/api/oncall", api_oncall, TOK, HTTP_PERM_READ, 0, NULL},
	{"GET", "/api/schedule", api_schedule, TOK, HTTP_PERM_READ, 0, NULL},
	/* calendar clients cannot send headers: the handler also accepts ?token= of a viewer token */
	{"GET", "/api/schedule.ics", api_feed_schedule_ics, HTTP_FEED, HTTP_PERM_READ, 0, NULL},
	{"GET", "/api/overrides", api_overrides_list, TOK, HTTP_PERM_READ, 0, NULL},
	{"POST", "/api/overrides", api_overrides_create, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"DELETE", "/api/overrides/{id}", api_overrides_delete, TOK, HTTP_PERM_EDIT, 0, NULL},
	{"GET", "/api/swaps", api_swaps_list, TOK, HTTP_PERM_READ, 0, NULL},
	{"POST", "/api/swaps", api_swaps_create, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"POST", "/api/swaps/{id}/confirm", api_swaps_confirm, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"POST", "/api/swaps/{id}/decline", api_swaps_decline, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"GET", "/api/audit", api_audit_query, TOK, HTTP_PERM_READ, 0, NULL},
	{"GET", "/api/reports/sobreaviso", api_reports_sobreaviso, TOK, HTTP_PERM_READ, 0, NULL},
	{"GET", "/api/calls", api_calls_list, TOK, HTTP_PERM_READ, 0, NULL},
	/* admin: the outbox holds the texts of one-time sign-in codes until they are sent */
	{"GET", "/api/outbox", api_outbox_list, TOK, HTTP_PERM_ADMIN, 0, NULL},
	/* sales import: the body is streamed into the import (CSV, .xlsx, JSON or multipart) */
	{"POST", "/api/sales", api_sales_import, TOK, HTTP_PERM_EDIT, API_SALES_MAX_BODY, api_sales_body},
	{"GET", "/api/sales", api_sales_periods, TOK, HTTP_PERM_READ, 0, NULL},
	{"GET", "/api/sales/settings", api_sales_settings_get, TOK, HTTP_PERM_READ, 0, NULL},
	{"PUT", "/api/sales/settings", api_sales_settings_put, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"GET", "/api/sales/report", api_sales_report, TOK, HTTP_PERM_READ, 0, NULL},

	/* monitors: heartbeats and their pings (the ping secret is the credential) */
	{"GET", "/api/monitors", api_monitors_list, TOK, HTTP_PERM_READ, 0, NULL},
	{"POST", "/api/monitors", api_monitors_create, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"GET", "/api/monitors/{id}", api_monitors_get, TOK, HTTP_PERM_READ, 0, NULL},
	{"PATCH", "/api/monitors/{id}", api_monitors_update, TOK, HTTP_PERM_EDIT, HTTP_API_MAX_BODY, NULL},
	{"DELETE", "/api/monitors/{id}", api_monitors_delete, TOK, HTTP_PERM_EDIT, 0, NULL},
	{"GET", "/api/monitors/{id}/pings", api_monitors_pings, TOK, HTTP_PERM_READ, 0, NULL},
	{"GET", "/ping/{secret}", ping_handle, PUB, HTTP_PERM_READ, 0, NULL},
	{"POST", "/ping/{secret}", ping_handle, PUB, HTTP_PERM_READ, PING_MAX_BODY, ping_body},
	{"GET", "/ping/{secret}/{what}", ping_handle, PUB, HTTP_PERM_READ, 0, NULL},
	{"POST", "/ping/{secret}/{what}", ping_handle, PUB, HTTP_PERM_READ, PING_MAX_BODY, ping_body},

	/* the web console: keep last */
	{"GET", "/{*}", console_get, PUB, HTTP_PERM_READ, 0, NULL},
};

/* clang-format on */

const size_t routes_count = sizeof routes / sizeof routes[0];
