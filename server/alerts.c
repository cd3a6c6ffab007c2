/*
 * server/alerts.c — placeholder until the alert pager lands: no alert is created and no SMS
 * command is recognised, so callers can be written and linked against the interface.
 */
#include "alerts.h"

enum rc alerts_trigger(struct app *app, struct db *db, const struct alert_input *in, int64_t *id, bool *deduped)
{
	(void)app;
	(void)db;
	(void)in;
	*id = 0;
	if (deduped)
		*deduped = false;
	return RC_INTERNAL;
}

enum rc alerts_call_status(struct app *app, struct db *db, int64_t attempt_id, const char *call_status,
			   const char *answered_by)
{
	(void)app;
	(void)db;
	(void)attempt_id;
	(void)call_status;
	(void)answered_by;
	return RC_OK;
}

enum rc alerts_sms_command(struct app *app, struct db *db, int64_t person_id, const char *text, struct buf *reply,
			   bool *handled)
{
	(void)app;
	(void)db;
	(void)person_id;
	(void)text;
	(void)reply;
	*handled = false;
	return RC_OK;
}
