/*
 * server/twilio/sms_cost.h — what one text costs: its encoding (GSM-7 or UCS-2) and how many SMS
 * parts it is billed as. Pure functions, no state; called by the sender before a text goes
 * out and by the tests.
 *
 * Spec: 3GPP TS 23.038 (GSM 03.38) default alphabet and its extension table; concatenated
 * SMS (TS 23.040) leave 153 septets (GSM-7) or 67 UTF-16 units (UCS-2) per part after the
 * user data header, against 160 / 70 for a single part. Twilio bills and splits the same way.
 */
#ifndef PLANTAO_SMS_COST_H
#define PLANTAO_SMS_COST_H

#include <stddef.h>

#include "core/rc.h"

enum sms_encoding { SMS_GSM7, SMS_UCS2 };

#define SMS_GSM7_SINGLE 160
#define SMS_GSM7_PART   153
#define SMS_UCS2_SINGLE 70
#define SMS_UCS2_PART   67

struct sms_cost {
	enum sms_encoding encoding;
	size_t units; /* septets (GSM-7; extension characters count 2) or UTF-16 code units */
	int segments; /* parts billed; 1 for an empty text */
};

/*
 * Computes the cost of the NUL-terminated UTF-8 text. GSM-7 when every character is in the
 * basic set or the extension table, else UCS-2 for the whole text. When split, an escape
 * pair (GSM-7) or a surrogate pair (UCS-2) never straddles two parts. RC_INVALID on
 * malformed UTF-8.
 */
enum rc sms_cost_of(const char *text, struct sms_cost *out);

/* "GSM-7" or "UCS-2" (static string). */
const char *sms_cost_encoding_name(enum sms_encoding e);

#endif
