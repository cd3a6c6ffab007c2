/*
 * db/copy.c — `plantao migrate --copy-from FILE`: a SQLite database moved into the database
 * PLANTAO_DB names (PostgreSQL), every table with its ids, in one transaction.
 *
 * Invariants: the source is only read; the destination commits all tables or nothing, and only
 * after each table's row count and checksum matched the source's. The checksum of a table is
 * the sum (mod 2^256) of the SHA-256 of each row, so it does not depend on row order (the two
 * databases may sort text differently); a row's digest covers each column as NULL or as its
 * text form (integers in decimal, reals with 17 digits), so a SQLite integer kept in a text
 * column still compares equal to the same value copied into PostgreSQL.
 * Every table of the schema is listed below with its columns, in an order that satisfies the
 * foreign keys; a source table whose columns differ from the list stops the copy (a schema this
 * file does not know yet), and tests/unit/db/test_copy.c fails when a migration adds a table or
 * a column without adding it here.
 * Called by the command line (`plantao migrate --copy-from FILE`).
 */
#include "db/copy.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

struct copy_table {
	const char *name;
	const char *columns; /* the source's columns, in order, comma-separated */
	int ncols;
	const char *select;  /* every column, both sides */
	const char *insert;  /* ?1..?ncols in the order of columns */
	const char *any;     /* a row, if the destination has one */
	const char *clear;   /* seed and health rows of a fresh destination, replaced by the source's */
	const char *restart; /* PostgreSQL: its identity continues after the highest id copied */
};

static const struct copy_table tables[] = {
        {
                "people",
                "id,name,phone,email,whatsapp,sms_opt_out,created_at,updated_at,deleted_at,sms_opt_out_at,"
                "sms_opt_out_via,whatsapp_inbound_at,role,phone_verified_at,email_verified_at,email_pages",
                16,
                "SELECT * FROM people",
                "INSERT INTO people (id, name, phone, email, whatsapp, sms_opt_out, created_at, "
                "updated_at, deleted_at, sms_opt_out_at, sms_opt_out_via, whatsapp_inbound_at, role, "
                "phone_verified_at, email_verified_at, email_pages) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                "SELECT 1 FROM people LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('people', 'id'), coalesce(max(id), 0) + 1, false) "
                "FROM people",
        },
        {
                "rotation_versions",
                "id,effective_at,shift_hours,handoff,timezone,created_at,created_by",
                7,
                "SELECT * FROM rotation_versions",
                "INSERT INTO rotation_versions (id, effective_at, shift_hours, handoff, timezone, "
                "created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                "SELECT 1 FROM rotation_versions LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('rotation_versions', 'id'), coalesce(max(id), 0) + "
                "1, false) FROM rotation_versions",
        },
        {
                "rotation_members",
                "version_id,position,person_id",
                3,
                "SELECT * FROM rotation_members",
                "INSERT INTO rotation_members (version_id, position, person_id) VALUES (?1, ?2, ?3)",
                "SELECT 1 FROM rotation_members LIMIT 1",
                NULL,
                NULL,
        },
        {
                "overrides",
                "id,person_id,start_at,end_at,reason,created_at,created_by",
                7,
                "SELECT * FROM overrides",
                "INSERT INTO overrides (id, person_id, start_at, end_at, reason, created_at, created_by) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                "SELECT 1 FROM overrides LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('overrides', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM overrides",
        },
        {
                "escalation",
                "id,rounds,updated_at,call_min_severity",
                4,
                "SELECT * FROM escalation",
                "INSERT INTO escalation (id, rounds, updated_at, call_min_severity) VALUES (?1, ?2, ?3, "
                "?4)",
                "SELECT 1 FROM escalation LIMIT 1",
                "DELETE FROM escalation",
                NULL,
        },
        {
                "escalation_steps",
                "position,target,person_id,timeout_s",
                4,
                "SELECT * FROM escalation_steps",
                "INSERT INTO escalation_steps (position, target, person_id, timeout_s) VALUES (?1, ?2, "
                "?3, ?4)",
                "SELECT 1 FROM escalation_steps LIMIT 1",
                "DELETE FROM escalation_steps",
                NULL,
        },
        {
                "alerts",
                "id,status,summary,details,severity,source,dedup_key,hits,created_at,updated_at,step,round,step_"
                "deadline,acked_by,acked_via,acked_at,resolved_at,resolved_via,unpaged_reason,recheck_at,runbook_url,"
                "group_key,test",
                23,
                "SELECT * FROM alerts",
                "INSERT INTO alerts (id, status, summary, details, severity, source, dedup_key, hits, "
                "created_at, updated_at, step, round, step_deadline, acked_by, acked_via, acked_at, "
                "resolved_at, resolved_via, unpaged_reason, recheck_at, runbook_url, group_key, test) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
                "?19, ?20, ?21, ?22, ?23)",
                "SELECT 1 FROM alerts LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('alerts', 'id'), coalesce(max(id), 0) + 1, false) "
                "FROM alerts",
        },
        {
                "call_attempts",
                "id,alert_id,round,step,person_id,phone,status,outcome,answered_by,digits,call_sid,outbox_id,created_"
                "at,ended_at,read_at",
                15,
                "SELECT * FROM call_attempts",
                "INSERT INTO call_attempts (id, alert_id, round, step, person_id, phone, status, outcome, "
                "answered_by, digits, call_sid, outbox_id, created_at, ended_at, read_at) VALUES (?1, ?2, "
                "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                "SELECT 1 FROM call_attempts LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('call_attempts', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM call_attempts",
        },
        {
                "support_calls",
                "id,call_sid,caller,called,status,leg,accepted_by,accepted_at,created_at,ended_at",
                10,
                "SELECT * FROM support_calls",
                "INSERT INTO support_calls (id, call_sid, caller, called, status, leg, accepted_by, "
                "accepted_at, created_at, ended_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                "SELECT 1 FROM support_calls LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('support_calls', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM support_calls",
        },
        {
                "support_legs",
                "id,call_id,leg,person_id,phone,dial_status,accepted,created_at,chain_position",
                9,
                "SELECT * FROM support_legs",
                "INSERT INTO support_legs (id, call_id, leg, person_id, phone, dial_status, accepted, "
                "created_at, chain_position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                "SELECT 1 FROM support_legs LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('support_legs', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM support_legs",
        },
        {
                "support_chain",
                "call_id,position,person_id,phone",
                4,
                "SELECT * FROM support_chain",
                "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES (?1, ?2, ?3, ?4)",
                "SELECT 1 FROM support_chain LIMIT 1",
                NULL,
                NULL,
        },
        {
                "voicemails",
                "id,call_sid,caller,recording_url,recording_sid,duration_s,transcription,person_id,created_at",
                9,
                "SELECT * FROM voicemails",
                "INSERT INTO voicemails (id, call_sid, caller, recording_url, recording_sid, duration_s, "
                "transcription, person_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                "SELECT 1 FROM voicemails LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('voicemails', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM voicemails",
        },
        {
                "outbox",
                "id,kind,class,priority,to_number,from_number,body,url,machine_detection,idem_key,owner_type,owner_id,"
                "status,tries,next_at_ms,sid,status_seq,error_code,error_message,encoding,segments,duration_s,created_"
                "at,sent_at,updated_at,attempt_at_ms,ring_timeout_s,accepted_at_ms,cancel_requested_ms,hangup_at_ms,"
                "hangup_status,twilio_status,twilio_status_at,claimed_by,lease_until_ms,mail_followed",
                36,
                "SELECT * FROM outbox",
                "INSERT INTO outbox (id, kind, class, priority, to_number, from_number, body, url, "
                "machine_detection, idem_key, owner_type, owner_id, status, tries, next_at_ms, sid, "
                "status_seq, error_code, error_message, encoding, segments, duration_s, created_at, "
                "sent_at, updated_at, attempt_at_ms, ring_timeout_s, accepted_at_ms, cancel_requested_ms, "
                "hangup_at_ms, hangup_status, twilio_status, twilio_status_at, claimed_by, lease_until_ms, "
                "mail_followed) VALUES "
                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "
                "?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36)",
                "SELECT 1 FROM outbox LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('outbox', 'id'), coalesce(max(id), 0) + 1, false) "
                "FROM outbox",
        },
        {
                "mail_messages",
                "outbox_id,message_id,subject,source_id,data_at_ms",
                5,
                "SELECT * FROM mail_messages",
                "INSERT INTO mail_messages (outbox_id, message_id, subject, source_id, data_at_ms) VALUES "
                "(?1, ?2, ?3, ?4, ?5)",
                "SELECT 1 FROM mail_messages LIMIT 1",
                NULL,
                NULL,
        },
        {
                "page_texts",
                "outbox_id,alert_id,mailed",
                3,
                "SELECT * FROM page_texts",
                "INSERT INTO page_texts (outbox_id, alert_id, mailed) VALUES (?1, ?2, ?3)",
                "SELECT 1 FROM page_texts LIMIT 1",
                NULL,
                NULL,
        },
        {
                "alert_members",
                "id,alert_id,member_key,status,summary,details,runbook_url,created_at,updated_at",
                9,
                "SELECT * FROM alert_members",
                "INSERT INTO alert_members (id, alert_id, member_key, status, summary, details, "
                "runbook_url, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                "SELECT 1 FROM alert_members LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('alert_members', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM alert_members",
        },
        {
                "outbox_early_status",
                "id,sid,status,seq,error_code,duration_s,answered_by,received_at",
                8,
                "SELECT * FROM outbox_early_status",
                "INSERT INTO outbox_early_status (id, sid, status, seq, error_code, duration_s, "
                "answered_by, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                "SELECT 1 FROM outbox_early_status LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('outbox_early_status', 'id'), coalesce(max(id), 0) "
                "+ 1, false) FROM outbox_early_status",
        },
        {
                "sales",
                "period,seller_key,seller,amount_cents,imported_at,source",
                6,
                "SELECT * FROM sales",
                "INSERT INTO sales (period, seller_key, seller, amount_cents, imported_at, source) VALUES "
                "(?1, ?2, ?3, ?4, ?5, ?6)",
                "SELECT 1 FROM sales LIMIT 1",
                NULL,
                NULL,
        },
        {
                "sales_settings",
                "id,target_cents,currency,rule,updated_at",
                5,
                "SELECT * FROM sales_settings",
                "INSERT INTO sales_settings (id, target_cents, currency, rule, updated_at) VALUES (?1, "
                "?2, ?3, ?4, ?5)",
                "SELECT 1 FROM sales_settings LIMIT 1",
                "DELETE FROM sales_settings",
                NULL,
        },
        {
                "sales_notify",
                "phone,position",
                2,
                "SELECT * FROM sales_notify",
                "INSERT INTO sales_notify (phone, position) VALUES (?1, ?2)",
                "SELECT 1 FROM sales_notify LIMIT 1",
                NULL,
                NULL,
        },
        {
                "sales_notifications",
                "period,seller_key,amount_cents,created_at",
                4,
                "SELECT * FROM sales_notifications",
                "INSERT INTO sales_notifications (period, seller_key, amount_cents, created_at) VALUES "
                "(?1, ?2, ?3, ?4)",
                "SELECT 1 FROM sales_notifications LIMIT 1",
                NULL,
                NULL,
        },
        {
                "api_tokens",
                "id,name,role,hash,created_at,last_used_at,revoked_at",
                7,
                "SELECT * FROM api_tokens",
                "INSERT INTO api_tokens (id, name, role, hash, created_at, last_used_at, revoked_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                "SELECT 1 FROM api_tokens LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM api_tokens",
        },
        {
                "audit",
                "id,at,actor,action,entity_id,detail",
                6,
                "SELECT * FROM audit",
                "INSERT INTO audit (id, at, actor, action, entity_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, "
                "?6)",
                "SELECT 1 FROM audit LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('audit', 'id'), coalesce(max(id), 0) + 1, false) "
                "FROM audit",
        },
        {
                "handoff_notices",
                "id,shift_start,person_id,created_at",
                4,
                "SELECT * FROM handoff_notices",
                "INSERT INTO handoff_notices (id, shift_start, person_id, created_at) VALUES (?1, ?2, ?3, "
                "?4)",
                "SELECT 1 FROM handoff_notices LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('handoff_notices', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM handoff_notices",
        },
        {
                "twilio_results",
                "kind,at_ms,http_status,error_code,message",
                5,
                "SELECT * FROM twilio_results",
                "INSERT INTO twilio_results (kind, at_ms, http_status, error_code, message) VALUES (?1, "
                "?2, ?3, ?4, ?5)",
                "SELECT 1 FROM twilio_results LIMIT 1",
                "DELETE FROM twilio_results",
                NULL,
        },
        {
                "health_probe",
                "id,at",
                2,
                "SELECT * FROM health_probe",
                "INSERT INTO health_probe (id, at) VALUES (?1, ?2)",
                "SELECT 1 FROM health_probe LIMIT 1",
                "DELETE FROM health_probe",
                NULL,
        },
        {
                "otp_codes",
                "id,destination,purpose,channel,person_id,salt,hash,sealed,created_at,expires_at,attempts,"
                "locked_until,used_at,replaced_at",
                14,
                "SELECT * FROM otp_codes",
                "INSERT INTO otp_codes (id, destination, purpose, channel, person_id, salt, hash, sealed, "
                "created_at, expires_at, attempts, locked_until, used_at, replaced_at) VALUES (?1, ?2, ?3, "
                "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                "SELECT 1 FROM otp_codes LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('otp_codes', 'id'), coalesce(max(id), 0) + 1, false) "
                "FROM otp_codes",
        },
        {
                "sessions",
                "id,person_id,hash,created_at,last_seen_at,expires_at,ended_at,user_agent",
                8,
                "SELECT * FROM sessions",
                "INSERT INTO sessions (id, person_id, hash, created_at, last_seen_at, expires_at, ended_at, "
                "user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                "SELECT 1 FROM sessions LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('sessions', 'id'), coalesce(max(id), 0) + 1, false) "
                "FROM sessions",
        },
        {
                "poller_status",
                "name,code,reason,failures,failing_since,updated_at",
                6,
                "SELECT * FROM poller_status",
                "INSERT INTO poller_status (name, code, reason, failures, failing_since, updated_at) VALUES "
                "(?1, ?2, ?3, ?4, ?5, ?6)",
                "SELECT 1 FROM poller_status LIMIT 1",
                "DELETE FROM poller_status",
                NULL,
        },
        {
                "monitors",
                "id,kind,name,secret,period_s,grace_s,schedule,tz,severity,paused,state,state_since_ms,"
                "last_ping_ms,last_ping_kind,last_start_ms,last_duration_ms,due_ms,next_ms,alert_id,"
                "target,interval_s,timeout_s,expect_status,keyword,follow_redirects,failures_before_alert,"
                "cert_warn_days,tls_verify,fail_streak,last_error,last_response_ms,cert_expires_at,cert_alert_id,"
                "flips,flips_since_ms,flapping,created_at,updated_at",
                38,
                "SELECT * FROM monitors",
                "INSERT INTO monitors (id, kind, name, secret, period_s, grace_s, schedule, tz, severity, "
                "paused, state, state_since_ms, last_ping_ms, last_ping_kind, last_start_ms, "
                "last_duration_ms, due_ms, next_ms, alert_id, target, interval_s, timeout_s, "
                "expect_status, keyword, follow_redirects, failures_before_alert, cert_warn_days, "
                "tls_verify, fail_streak, last_error, last_response_ms, cert_expires_at, cert_alert_id, flips, "
                "flips_since_ms, flapping, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
                "?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38)",
                "SELECT 1 FROM monitors LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('monitors', 'id'), coalesce(max(id), 0) + 1, false) "
                "FROM monitors",
        },
        {
                "monitor_pings",
                "id,monitor_id,at_ms,kind,exit_status,method,body,response_ms,folded",
                9,
                "SELECT * FROM monitor_pings",
                "INSERT INTO monitor_pings (id, monitor_id, at_ms, kind, exit_status, method, body, "
                "response_ms, folded) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                "SELECT 1 FROM monitor_pings LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('monitor_pings', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM monitor_pings",
        },
        {
                "call_redirects",
                "id,call_sid,url,status,tries,next_at_ms,message,created_at_ms",
                8,
                "SELECT * FROM call_redirects",
                "INSERT INTO call_redirects (id, call_sid, url, status, tries, next_at_ms, message, "
                "created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                "SELECT 1 FROM call_redirects LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('call_redirects', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM call_redirects",
        },
        {
                "twilio_fallback",
                "id,chain,twiml,updated_at",
                4,
                "SELECT * FROM twilio_fallback",
                "INSERT INTO twilio_fallback (id, chain, twiml, updated_at) VALUES (?1, ?2, ?3, ?4)",
                "SELECT 1 FROM twilio_fallback LIMIT 1",
                "DELETE FROM twilio_fallback", /* a fresh destination's own snapshot gives way to the source's */
                NULL,
        },
        {
                "shift_requests",
                "person_id,asked_at,expires_at,replaces_person,shift_end",
                5,
                "SELECT * FROM shift_requests",
                "INSERT INTO shift_requests (person_id, asked_at, expires_at, replaces_person, shift_end) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
                "SELECT 1 FROM shift_requests LIMIT 1",
                NULL,
                NULL,
        },
        {
                "shift_swaps",
                "id,from_person,to_person,start_at,end_at,status,from_confirmed_at,to_confirmed_at,override_id,"
                "created_at,created_by,closed_at,expires_at",
                13,
                "SELECT * FROM shift_swaps",
                "INSERT INTO shift_swaps (id, from_person, to_person, start_at, end_at, status, from_confirmed_at, "
                "to_confirmed_at, override_id, created_at, created_by, closed_at, expires_at) VALUES (?1, ?2, ?3, "
                "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                "SELECT 1 FROM shift_swaps LIMIT 1",
                NULL,
                "SELECT setval(pg_get_serial_sequence('shift_swaps', 'id'), coalesce(max(id), 0) + 1, "
                "false) FROM shift_swaps",
        },
        {
                /* last: copying the tables above fires its triggers, which find no row to change
                 * once the fresh destination's own is cleared, so the copy holds the source's */
                "rotation_generation",
                "id,n",
                2,
                "SELECT * FROM rotation_generation",
                "INSERT INTO rotation_generation (id, n) VALUES (?1, ?2)",
                "SELECT 1 FROM rotation_generation LIMIT 1",
                "DELETE FROM rotation_generation",
                NULL,
        },
};

#define NTABLES (sizeof tables / sizeof tables[0])

size_t copy_table_count(void)
{
	return NTABLES;
}

const char *copy_table_name(size_t i)
{
	return i < NTABLES ? tables[i].name : NULL;
}

const char *copy_table_columns(size_t i)
{
	return i < NTABLES ? tables[i].columns : NULL;
}

/* A table's checksum: the sum of its rows' SHA-256 digests as 256-bit big-endian numbers. */
struct sum {
	unsigned char v[32];
	int64_t rows;
};

static void sum_add(struct sum *s, const unsigned char d[32])
{
	unsigned carry = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		unsigned t = (unsigned)s->v[i] + d[i] + carry;

		s->v[i] = (unsigned char)t;
		carry = t >> 8;
	}
	s->rows++;
}

/* Digest of the current row of st (see the file comment for the form of each value). */
static enum rc row_digest(struct db_stmt *st, int ncols, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	enum rc rc = RC_INTERNAL;
	int i;

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (i = 0; i < ncols; i++) {
		char num[40];
		const void *p = NULL;
		uint64_t len = 0;
		unsigned char tag = 'V', lenbuf[8];
		int k;

		switch (db_column_type(st, i)) {
		case DB_NULL: tag = 'N'; break;
		case DB_INTEGER:
			len = (uint64_t)snprintf(num, sizeof num, "%lld", (long long)db_column_int64(st, i));
			p = num;
			break;
		case DB_FLOAT:
			len = (uint64_t)snprintf(num, sizeof num, "%.17g", db_column_double(st, i));
			p = num;
			break;
		case DB_BLOB:
			p = db_column_blob(st, i);
			len = (uint64_t)db_column_bytes(st, i);
			break;
		default:
			p = db_column_text(st, i);
			len = (uint64_t)db_column_bytes(st, i);
			break;
		}
		for (k = 0; k < 8; k++)
			lenbuf[k] = (unsigned char)(len >> (56 - 8 * k));
		if (EVP_DigestUpdate(md, &tag, 1) != 1 || EVP_DigestUpdate(md, lenbuf, sizeof lenbuf) != 1 ||
		    (len && EVP_DigestUpdate(md, p, (size_t)len) != 1))
			goto out;
	}
	if (EVP_DigestFinal_ex(md, out, NULL) == 1)
		rc = RC_OK;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

/* Whether st's result columns are exactly t's columns, in order. */
static bool columns_match(struct db_stmt *st, const struct copy_table *t)
{
	const char *want = t->columns;
	int i;

	if (db_column_count(st) != t->ncols)
		return false;
	for (i = 0; i < t->ncols; i++) {
		const char *name = db_column_name(st, i);
		size_t n = name ? strlen(name) : 0;

		if (!name || strncmp(want, name, n) != 0 || (want[n] != ',' && want[n] != '\0'))
			return false;
		want += n + (want[n] == ',');
	}
	return true;
}

static enum rc bind_like(struct db_stmt *ins, int i, struct db_stmt *src)
{
	switch (db_column_type(src, i - 1)) {
	case DB_NULL: return db_bind_null(ins, i) ? RC_DB : RC_OK;
	case DB_INTEGER: return db_bind_int64(ins, i, db_column_int64(src, i - 1)) ? RC_DB : RC_OK;
	case DB_FLOAT: return db_bind_double(ins, i, db_column_double(src, i - 1)) ? RC_DB : RC_OK;
	case DB_BLOB:
		return db_bind_blob(ins, i, db_column_blob(src, i - 1), db_column_bytes(src, i - 1), DB_STATIC) ? RC_DB
		                                                                                                : RC_OK;
	default:
		return db_bind_text(ins, i, (const char *)db_column_text(src, i - 1), db_column_bytes(src, i - 1),
		                    DB_STATIC)
		               ? RC_DB
		               : RC_OK;
	}
}

/* Reads every row of t on db into *s; with ins, also inserts each row through it. */
static enum rc scan(struct db *db, const struct copy_table *t, struct db_stmt *ins, struct db *dst, struct sum *s,
                    char *err, size_t errlen)
{
	struct db_stmt *st = db_prepare(db, t->select);
	enum rc rc = RC_OK;
	int step, i;

	memset(s, 0, sizeof *s);
	if (!st) {
		snprintf(err, errlen, "%s: %s", t->name, db_errmsg(db));
		return RC_DB;
	}
	while ((step = db_step(st)) == DB_ROW) {
		unsigned char d[32];

		if (s->rows == 0 && !columns_match(st, t)) {
			snprintf(err, errlen, "table %s does not have the columns this plantao copies (%s)", t->name,
			         t->columns);
			rc = RC_CONFLICT;
			goto out;
		}
		rc = row_digest(st, t->ncols, d);
		if (rc != RC_OK) {
			snprintf(err, errlen, "%s: checksum failed", t->name);
			goto out;
		}
		sum_add(s, d);
		if (!ins)
			continue;
		for (i = 1; i <= t->ncols && rc == RC_OK; i++)
			rc = bind_like(ins, i, st);
		if (rc == RC_OK && db_step(ins) != DB_DONE)
			rc = db_rc(dst) == RC_OK ? RC_DB : db_rc(dst);
		if (rc != RC_OK) {
			snprintf(err, errlen, "%s row %lld: %s", t->name, (long long)s->rows, db_errmsg(dst));
			db_reset(ins);
			goto out;
		}
		db_reset(ins);
	}
	if (step != DB_DONE) {
		snprintf(err, errlen, "%s: %s", t->name, db_errmsg(db));
		rc = RC_DB;
	}
out:
	db_reset(st);
	return rc;
}

/* Runs a statement whose rows, if any, are not needed (DELETE, setval). */
static enum rc run(struct db *db, const char *sql, const char *what, char *err, size_t errlen)
{
	struct db_stmt *st = db_prepare(db, sql);
	int step = DB_ERROR;

	if (st)
		while ((step = db_step(st)) == DB_ROW)
			;
	db_reset(st);
	if (step == DB_DONE)
		return RC_OK;
	snprintf(err, errlen, "%s: %s", what, db_errmsg(db));
	return RC_DB;
}

/* RC_OK when t has no row on db, RC_CONFLICT when it has one. */
static enum rc empty(struct db *db, const struct copy_table *t, char *err, size_t errlen)
{
	struct db_stmt *st = db_prepare(db, t->any);
	int step = st ? db_step(st) : DB_ERROR;

	db_reset(st);
	if (step == DB_DONE)
		return RC_OK;
	if (step == DB_ROW) {
		snprintf(err, errlen, "the destination already holds data (table %s): copy into a new, empty database",
		         t->name);
		return RC_CONFLICT;
	}
	snprintf(err, errlen, "%s: %s", t->name, db_errmsg(db));
	return RC_DB;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

enum rc copy_from_sqlite(struct db *dst, const char *src_path, struct copy_report *out, char *err, size_t errlen)
{
	struct sum before[NTABLES], after;
	struct db *src = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char total[32];
	bool began = false, pg = strcmp(db_driver_name(dst), "sqlite") != 0;
	int vsrc = 0, vdst = 0, latest = db_latest_version();
	enum rc rc;
	size_t i;

	memset(out, 0, sizeof *out);
	snprintf(err, errlen, "internal error");
	if (access(src_path, R_OK) != 0) {
		snprintf(err, errlen, "%s: cannot read it", src_path);
		return RC_NOT_FOUND;
	}
	rc = db_open(src_path, &src);
	if (rc != RC_OK) {
		snprintf(err, errlen, "%s: not a SQLite database plantao can open", src_path);
		return rc;
	}
	if (strcmp(db_driver_name(src), "sqlite") != 0) {
		snprintf(err, errlen, "%s: the source must be a SQLite file", src_path);
		rc = RC_INVALID;
		goto out;
	}
	rc = db_version(src, &vsrc);
	if (rc == RC_OK)
		rc = db_version(dst, &vdst);
	if (rc != RC_OK) {
		snprintf(err, errlen, "reading the schema versions: %s", db_errmsg(src));
		goto out;
	}
	if (vsrc != latest || vdst != latest) {
		snprintf(err, errlen,
		         "schema versions differ (source %d, destination %d, this plantao %d): run `plantao migrate` "
		         "on both first (PLANTAO_DB=%s for the source)",
		         vsrc, vdst, latest, src_path);
		rc = RC_CONFLICT;
		goto out;
	}
	rc = db_begin(dst);
	if (rc != RC_OK) {
		snprintf(err, errlen, "destination: %s", db_errmsg(dst));
		goto out;
	}
	began = true;
	for (i = 0; i < NTABLES && rc == RC_OK; i++)
		rc = tables[i].clear ? run(dst, tables[i].clear, tables[i].name, err, errlen)
		                     : empty(dst, &tables[i], err, errlen);
	for (i = 0; i < NTABLES && rc == RC_OK; i++) {
		struct db_stmt *ins = db_prepare(dst, tables[i].insert);

		if (!ins) {
			snprintf(err, errlen, "%s: %s", tables[i].name, db_errmsg(dst));
			rc = RC_DB;
			break;
		}
		rc = scan(src, &tables[i], ins, dst, &before[i], err, errlen);
		if (rc == RC_OK && pg && tables[i].restart)
			rc = run(dst, tables[i].restart, tables[i].name, err, errlen);
	}
	/* Verification, inside the destination's transaction: what it now holds is what was read,
	 * and the source did not change meanwhile (plantao left running on it). */
	md = EVP_MD_CTX_new();
	if (rc == RC_OK && (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1))
		rc = RC_INTERNAL;
	for (i = 0; i < NTABLES && rc == RC_OK; i++) {
		rc = scan(dst, &tables[i], NULL, dst, &after, err, errlen);
		if (rc == RC_OK && (after.rows != before[i].rows || memcmp(after.v, before[i].v, 32) != 0)) {
			snprintf(err, errlen, "%s: the copy differs from the source (%lld rows read, %lld found)",
			         tables[i].name, (long long)before[i].rows, (long long)after.rows);
			rc = RC_DB;
		}
		if (rc == RC_OK)
			rc = scan(src, &tables[i], NULL, dst, &after, err, errlen);
		if (rc == RC_OK && (after.rows != before[i].rows || memcmp(after.v, before[i].v, 32) != 0)) {
			snprintf(err, errlen, "%s changed in the source during the copy: stop plantao and copy again",
			         tables[i].name);
			rc = RC_CONFLICT;
		}
		if (rc == RC_OK && EVP_DigestUpdate(md, before[i].v, 32) != 1)
			rc = RC_INTERNAL;
		out->rows += before[i].rows;
	}
	if (rc == RC_OK && EVP_DigestFinal_ex(md, total, NULL) != 1)
		rc = RC_INTERNAL;
	if (rc == RC_OK) {
		rc = db_commit(dst);
		if (rc != RC_OK)
			snprintf(err, errlen, "commit: %s", db_errmsg(dst));
	}
	if (rc == RC_OK) {
		began = false;
		out->tables = NTABLES;
		hex(total, sizeof total, out->check);
		log_info("copy: %lld rows in %zu tables copied from %s; counts and checksums match (%s)",
		         (long long)out->rows, out->tables, src_path, out->check);
	}
out:
	if (began)
		db_rollback(dst);
	if (rc != RC_OK) {
		out->rows = 0;
		log_err("copy from %s: %s", src_path, err);
	}
	EVP_MD_CTX_free(md);
	db_close(src);
	return rc;
}
