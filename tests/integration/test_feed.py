"""
tests/integration/test_feed.py — each person's own calendar feed (issue 13, item 6):
GET /api/schedule.ics?person=ID has only that person's shifts (rotation pieces and overrides,
cut where an override takes over), names the calendar after them, and works as a calendar
client uses it (a viewer token in ?token=, no headers); the whole team's feed is unchanged;
an unknown person is a 404, an unknown parameter a 400 naming it.
"""

import re

from harness import IntegrationTest

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"


def unfold(text):
    return text.replace("\r\n ", "")


def summaries(text):
    return re.findall(r"^SUMMARY:(.*)\r$", unfold(text), re.M)


class TestPersonalFeed(IntegrationTest):
    def setUp(self):
        super().setUp()
        ids = [self.api_ok("POST", "/api/people", json={"name": n, "phone": p}, expect=201)["id"]
               for n, p in (("Ana Souza", ANA), ("Bruno Lima", BRUNO), ("Carla Dias", CARLA))]
        self.ana, self.bruno, self.carla = ids
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno], "shift_hours": 168,
                                                  "handoff": "2026-01-05T09:00"})
        self.viewer = self.api_ok("POST", "/api/tokens", json={"name": "agenda", "role": "viewer"},
                                  expect=(200, 201))["token"]

    def feed(self, query):
        status, body, headers = self.api("GET", "/api/schedule.ics?" + query, token=None)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/calendar"))
        return body

    def test_only_my_shifts_with_the_override_that_covers_me(self):
        win = "from=2027-03-01&to=2027-03-29"
        # Carla covers Wednesday 3 March 2027 (Ana's week)
        self.api_ok("POST", "/api/overrides", json={"person_id": self.carla, "start": "2027-03-03T00:00",
                                                    "end": "2027-03-04T00:00"}, expect=201)
        mine = self.feed("person=%d&%s&token=%s" % (self.ana, win, self.viewer))
        self.assertIn("X-WR-CALNAME:Plantão — Ana Souza", unfold(mine))
        self.assertTrue(summaries(mine))
        self.assertEqual(set(summaries(mine)), {"Plantão: Ana Souza"})
        # Ana's week of 1 March is cut by Carla's day (midnight to midnight, -03:00), then her week of 15 March
        starts = re.findall(r"^DTSTART:(\d{8}T\d{6}Z)\r$", unfold(mine), re.M)
        ends = re.findall(r"^DTEND:(\d{8}T\d{6}Z)\r$", unfold(mine), re.M)
        self.assertEqual(list(zip(starts, ends)), [("20270301T120000Z", "20270303T030000Z"),
                                                   ("20270304T030000Z", "20270308T120000Z"),
                                                   ("20270315T120000Z", "20270322T120000Z")])
        carla = self.feed("person=%d&%s&token=%s" % (self.carla, win, self.viewer))
        self.assertEqual(summaries(carla), ["Plantão: Carla Dias (substituição)"])
        bruno = self.feed("person=%d&%s&token=%s" % (self.bruno, win, self.viewer))
        self.assertNotIn("Ana Souza", bruno)
        # the team's feed still has everybody
        team = self.feed("%s&token=%s" % (win, self.viewer))
        self.assertEqual(set(summaries(team)), {"Plantão: Ana Souza", "Plantão: Bruno Lima",
                                                "Plantão: Carla Dias (substituição)"})

    def test_errors(self):
        status, err, _ = self.api("GET", "/api/schedule.ics?person=999&token=" + self.viewer, token=None)
        self.assertEqual(status, 404)
        self.assertIn("person", err["error"]["message"])
        status, err, _ = self.api("GET", "/api/schedule.ics?pessoa=1&token=" + self.viewer, token=None)
        self.assertEqual(status, 400)
        self.assertIn("pessoa", err["error"]["message"])
        self.assertEqual(self.api("GET", "/api/schedule.ics?person=1", token=None)[0], 401)
