"""
tests/integration/test_history.py — the lead's histories (issue 13, item 5) at the default
configuration, through the Twilio simulator: support calls (who called, whom plantao dialled, who
answered, how long, the voicemail with its recording) and deliveries (every text with its Twilio
status and its error in words, the person it went to), each filtered by person, status, kind and
period and paged with limit/before; unknown parameters are a 400 naming them.
"""

import time

from harness import IntegrationTest, wait_until

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"
CUSTOMER = "+5521988887777"


class TestHistory(IntegrationTest):
    def setUp(self):
        super().setUp()
        ids = []
        for name, phone in (("Ana Souza", ANA), ("Bruno Lima", BRUNO), ("Carla Dias", CARLA)):
            ids.append(self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)["id"])
        self.ana, self.bruno, self.carla = ids
        start = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(self.plantao.now() - 3600 - 3 * 3600))
        self.api_ok("PUT", "/api/rotation", json={"members": ids, "handoff": start})
        self.advance(60)

    def three_calls(self):
        # 1: Ana takes it; 2: Ana does not answer, Bruno takes it; 3: nobody, a voicemail for Ana
        self.sim.phone(ANA).answers(digits="1", times=1)
        self.assertEqual(self.sim.incoming_call(CUSTOMER).bridged_to, ANA)
        self.sim.expect_call(ANA)
        self.sim.phone(ANA).does_not_answer(times=1)
        self.sim.phone(BRUNO).answers(digits="1", times=1)
        self.assertEqual(self.sim.incoming_call("+5521977776666").bridged_to, BRUNO)
        self.sim.expect_call(ANA)
        self.sim.expect_call(BRUNO)
        self.sim.phone(ANA).does_not_answer(times=1).sms_undelivered(30003)
        self.sim.phone(BRUNO).does_not_answer(times=1)
        self.sim.phone(CARLA).is_busy(times=1)
        call = self.sim.incoming_call("+5531966665555", record_seconds=12)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_call(p)
        self.sim.expect_sms(ANA, containing="+5531966665555")
        return call

    def test_calls_filtered_by_person_and_status_and_paged(self):
        vm_call = self.three_calls()
        calls = self.api_ok("GET", "/api/calls")["calls"]
        self.assertEqual([(c["caller"], c["status"], c["accepted_by_name"]) for c in calls],
                         [("+5531966665555", "voicemail", None), ("+5521977776666", "answered", "Bruno Lima"),
                          (CUSTOMER, "answered", "Ana Souza")])
        self.assertEqual([(l["person_name"], l["dial_status"]) for l in calls[1]["legs"]],
                         [("Ana Souza", "no-answer"), ("Bruno Lima", "completed")])
        self.assertRegex(calls[0]["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-03:00$")
        self.assertIsInstance(calls[0]["created_at_unix"], int)
        vm = calls[0]["voicemail"]
        self.assertEqual((vm["recording_url"], vm["duration_s"], vm["person_name"]),
                         (vm_call.recordings[0]["url"], 12, "Ana Souza"))
        self.assertIsNotNone(calls[2]["talk_s"])
        only = lambda q: [c["caller"] for c in self.api_ok("GET", "/api/calls?" + q)["calls"]]  # noqa: E731
        self.assertEqual(only("status=voicemail"), ["+5531966665555"])
        self.assertEqual(only("person=%d" % self.bruno), ["+5531966665555", "+5521977776666"])
        self.assertEqual(only("person=%d" % self.carla), ["+5531966665555"])
        self.assertEqual(only("status=answered&person=%d" % self.ana), ["+5521977776666", CUSTOMER])
        self.assertEqual(only("from=%s" % time.strftime("%Y-%m-%d", time.gmtime(self.plantao.now() + 2 * 86400))),
                         [])
        # pages of one: the cursor walks all three, newest first, then stops
        seen, cursor = [], None
        while True:
            page = self.api_ok("GET", "/api/calls?limit=1" + ("&before=%d" % cursor if cursor else ""))
            seen += [c["caller"] for c in page["calls"]]
            cursor = page["next_before"]
            if not cursor:
                break
        self.assertEqual(seen, only(""))
        for q, word in (("status=lost", "status"), ("pessoa=1", "pessoa"), ("limit=0", "limit"),
                        ("from=ontem", "from")):
            status, err, _ = self.api("GET", "/api/calls?" + q)
            self.assertEqual(status, 400, q)
            self.assertIn(word, err["error"]["message"])

    def test_deliveries_with_error_in_words_person_and_filters(self):
        self.three_calls()
        row = wait_until(lambda: [r for r in self.api_ok("GET", "/api/outbox?person=%d" % self.ana)["outbox"]
                                  if r["status"] == "undelivered"], what="the voicemail text undelivered")[0]
        self.assertEqual((row["kind"], row["class"], row["person_name"], row["error_code"]),
                         ("sms", "support", "Ana Souza", 30003))
        self.assertIn("unreachable", row["error_words"])
        self.assertEqual(row["twilio_status"], "undelivered")
        self.assertRegex(row["created_at"], r"-03:00$")
        self.assertEqual(self.api_ok("GET", "/api/outbox?person=%d" % self.bruno)["outbox"], [])
        self.assertEqual(self.api_ok("GET", "/api/outbox?kind=call")["outbox"], [])
        self.assertEqual([r["id"] for r in self.api_ok("GET", "/api/outbox?status=undelivered&kind=sms")["outbox"]],
                         [row["id"]])
        page = self.api_ok("GET", "/api/outbox?limit=1")
        self.assertEqual(page["next_before"], page["outbox"][0]["id"])
        self.assertEqual(self.api_ok("GET", "/api/outbox?before=%d" % page["next_before"])["outbox"], [])
        for q, word in (("kind=fax", "kind"), ("pessoa=1", "pessoa"), ("to=amanha", "to")):
            status, err, _ = self.api("GET", "/api/outbox?" + q)
            self.assertEqual(status, 400, q)
            self.assertIn(word, err["error"]["message"])
