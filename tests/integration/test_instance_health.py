"""
tests/integration/test_instance_health.py — which instance answers, and what it runs (issue 17).

The story: a team runs plantao as two or three instances on one PostgreSQL database (or one on
SQLite). Whoever looks at /healthz or /metrics must tell the instances apart and see which one
runs each singleton job (the mail poller, the hand-off notices) and which stand by: /healthz
names the instance (host:pid:start) and lists "jobs": {"handoff": "leader", …}; /metrics has
plantao_instance_info and plantao_job_leader, and every series carries instance="<id>" when
PLANTAO_METRICS_INSTANCE is on — by default on PostgreSQL (several instances may share it), off
on SQLite (one instance per file; Prometheus labels each target itself). Runs on SQLite (make test) and PostgreSQL (make test-pg); the roles of
two instances on one database are in test_multi_instance.TestSingletonJobs.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TEST_DB, IntegrationTest, wait_until  # noqa: E402

ID = re.compile(r"^[^:\s]+:(\d+):(\d+)$")


class TestInstanceHealth(IntegrationTest):
    plantao_env = {"PLANTAO_METRICS_INSTANCE": None}  # the default (tests/pg/run turns it off)
    def healthz(self):
        status, body, _ = self.api("GET", "/healthz?live", token=None)
        self.assertEqual(status, 200, body)
        return body

    def test_healthz_names_the_instance_and_its_role_in_each_singleton_job(self):
        body = wait_until(lambda: "handoff" in self.healthz().get("jobs", {}) and self.healthz(), timeout=20,
                          what="the engine's first tick")
        m = ID.match(body["instance"])
        self.assertIsNotNone(m, body["instance"])
        self.assertEqual(int(m.group(1)), self.plantao.proc.pid)
        self.assertEqual(body["jobs"]["handoff"], "leader")  # alone on its database: it runs the job
        text = self.api_ok("GET", "/metrics")
        # by default every series names its instance on PostgreSQL (several instances may share
        # it); on SQLite the series keep their labels (Prometheus adds its own)
        label = 'instance="%s",' % body["instance"] if TEST_DB == "pg" else ""
        self.assertIn('\nplantao_instance_info{%sid="%s"} 1\n' % (label, body["instance"]), text)
        self.assertIn('\nplantao_job_leader{%sjob="handoff"} 1\n' % label, text)
        self.assertIn("\nplantao_paging_ok%s " % ("{%s}" % label[:-1] if label else ""), text)


class TestInstanceLabelOff(IntegrationTest):
    plantao_env = {"PLANTAO_METRICS_INSTANCE": "0"}

    def test_instance_label_can_be_turned_off(self):
        wait_until(lambda: "handoff" in self.api("GET", "/healthz?live", token=None)[1].get("jobs", {}),
                   timeout=20, what="the engine's first tick")
        text = self.api_ok("GET", "/metrics")
        self.assertIn("\nplantao_paging_ok ", text)
        self.assertIn('\nplantao_job_leader{job="handoff"} 1\n', text)
        self.assertNotIn("instance=", text)


class TestInstanceLabel(IntegrationTest):
    plantao_env = {"PLANTAO_METRICS_INSTANCE": "1"}

    def test_every_metrics_series_carries_the_instance_label(self):
        wait_until(lambda: "handoff" in self.api("GET", "/healthz?live", token=None)[1].get("jobs", {}),
                   timeout=20, what="the engine's first tick")
        iid = self.api("GET", "/healthz?live", token=None)[1]["instance"]
        self.api("GET", "/api/people")  # a request series too
        text = self.api_ok("GET", "/metrics")
        label = 'instance="%s"' % iid
        samples = [line for line in text.split("\n") if line and not line.startswith("#")]
        self.assertGreater(len(samples), 20)
        for line in samples:
            name, _, rest = line.partition("{")
            self.assertTrue(rest.startswith(label + ",") or rest.startswith(label + "}"),
                            "series without the instance label first: %r" % line)
            self.assertRegex(name, r"^plantao_[a-z_]+$")
            self.assertRegex(line, r"\} [-+0-9.eE]+$")
        self.assertIn('\nplantao_job_leader{%s,job="handoff"} 1\n' % label, text)
        self.assertIn("\nplantao_paging_ok{%s} " % label, text)
