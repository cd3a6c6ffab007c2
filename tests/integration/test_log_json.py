"""
tests/integration/test_log_json.py — PLANTAO_LOG_FORMAT=json (issue 14, item 6): every record of
the server's log is one JSON object {"time", "level", "msg"}, a newline sent by a client stays
inside its record, and phone numbers stay masked.
"""

import json
import re
import urllib.request

from harness import IntegrationTest


class TestJsonLog(IntegrationTest):
    plantao_env = {"PLANTAO_LOG_FORMAT": "json"}

    def test_every_record_is_one_json_object(self):
        self.api("GET", "/api/people", token="not-a-token")  # a WARN record
        # a path with an encoded newline: the record must not split
        try:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                self.plantao.url + "/x%0Aforged%20ERROR%20line", timeout=10)
        except Exception:
            pass
        self.plantao.webhook("/twilio/sms", {"From": "+5521988887777", "To": "+15005550006", "Body": "quem",
                                             "MessageSid": "SM" + "1" * 32})
        self.assertEqual(self.plantao.stop(), 0)
        records = []
        for line in self.plantao.log_text().splitlines():
            if line.startswith("---- start"):  # the harness's own marker
                continue
            rec = json.loads(line)
            self.assertEqual(sorted(rec), ["level", "msg", "time"], line)
            self.assertRegex(rec["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(rec["level"], ("debug", "info", "warn", "error"))
            records.append(rec)
        msgs = [r["msg"] for r in records]
        self.assertTrue(any(" serving on " in m for m in msgs))
        self.assertTrue(any(r["level"] == "warn" for r in records))
        self.assertFalse(any(m.startswith("forged") for m in msgs))
        self.assertNotIn("+5521988887777", "\n".join(msgs))
