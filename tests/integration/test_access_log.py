"""
tests/integration/test_access_log.py — the access log is buffered off the request path
(server/core/log.c, issue 18) and still loses nothing: every request answered before SIGTERM
has its line, whole, in the log once the server has stopped, and a warning logged after
requests comes after their lines.
"""

import threading

from harness import IntegrationTest


class TestAccessLog(IntegrationTest):
    def test_every_line_survives_sigterm(self):
        """Four clients make 400 requests with distinct paths (unknown ones: 404, so no rate
        limit applies); SIGTERM right after the last answer. The log then holds exactly one
        whole access line per request."""
        errors = []

        def client(k):
            try:
                for i in range(100):
                    status, _, _ = self.api("GET", "/it-access/c%d/i%d" % (k, i), token=None)
                    if status != 404:
                        errors.append(status)
            except OSError as e:
                errors.append(str(e))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        # a request whose answer names what it refuses: a WARN record, made after the 400
        self.api("GET", "/api/people", token="not-a-token")
        self.assertEqual(self.plantao.stop(), 0)
        lines = self.plantao.log_text().splitlines()
        seen = {}
        last_access = -1
        for n, line in enumerate(lines):
            if " DEBUG GET /it-access/" in line:
                # "2026-…Z DEBUG GET /it-access/cK/iI 404 NNus"
                target = line.split(" GET ", 1)[1].split(" ")[0]
                self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG GET \S+ 404 \d+us$")
                seen[target] = seen.get(target, 0) + 1
                last_access = n
        self.assertEqual(len(seen), 400, "access lines missing after SIGTERM")
        self.assertEqual(set(seen.values()), {1})
        later = [n for n, line in enumerate(lines) if " GET /api/people 401 " in line]
        self.assertEqual(len(later), 1)
        self.assertGreater(later[0], last_access)
