"""
tests/integration/test_upgrade.py — upgrades (issue 14, item 7): `plantao migrate --dry-run`,
a migration numbered below the database's highest (a branch merged after a later migration
shipped) is applied all the same, and a database made by the first release of plantao
(tests/fixtures/first-release.db, see tests/fixtures/first-release.md) is upgraded to the
current schema and served with its people, rotation, alerts, calls and outbox intact.
"""

import os
import shutil
import subprocess

from harness import ROOT, TEST_DB, IntegrationTest, Plantao, binary_path

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "first-release.db")


def plantao_cmd(p, *args):
    return subprocess.run([binary_path()] + list(args), cwd=p.tmp, env=p.env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def tables(db):
    if db.kind == "pg":
        rows = db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")
    else:
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    return sorted(r["name"] for r in rows)


class TestMigrationRunner(IntegrationTest):
    def test_a_migration_below_the_highest_is_applied(self):
        p = self.plantao
        self.api_ok("POST", "/api/monitors", json={"kind": "heartbeat", "name": "backup", "period_s": 3600,
                                                      "grace_s": 600})
        p.stop()
        # The database of a release that shipped 0175 before the monitors branch (0140) merged.
        p.db.execute("DROP TABLE monitor_pings")
        p.db.execute("DROP TABLE monitors")
        p.db.execute("DELETE FROM schema_migrations WHERE version = 140")
        before = tables(p.db)
        self.assertGreater(p.db.scalar("SELECT max(version) FROM schema_migrations"), 140)

        dry = plantao_cmd(p, "migrate", "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        listed = [line.strip() for line in dry.stdout.splitlines() if line.startswith("  ")]
        self.assertEqual(listed, ["0140_monitors.sql"], dry.stdout)
        self.assertIn("1 migration(s) to apply; nothing was changed", dry.stdout)
        self.assertEqual(tables(p.db), before, "the dry run changed the database")
        self.assertEqual(p.db.scalar("SELECT count(*) FROM schema_migrations WHERE version = 140"), 0)

        out = plantao_cmd(p, "migrate")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("0140_monitors.sql applied", out.stderr)
        self.assertIn("monitors", tables(p.db))
        self.assertEqual(p.db.scalar("SELECT count(*) FROM schema_migrations WHERE version = 140"), 1)
        again = plantao_cmd(p, "migrate", "--dry-run")
        self.assertIn("0 migration(s) to apply", again.stdout)

        p.start()
        m = self.api_ok("POST", "/api/monitors", json={"kind": "heartbeat", "name": "backup", "period_s": 3600,
                                                          "grace_s": 600})
        self.assertEqual(len(self.api_ok("GET", "/api/monitors")["monitors"]), 1, m)

    def test_dry_run_of_a_new_database_creates_nothing(self):
        p = self.plantao
        p.stop()
        if p.db.kind == "pg":
            self.skipTest("a PostgreSQL database exists before plantao runs")
        env = dict(p.env, PLANTAO_DB=os.path.join(p.tmp, "new.db"))
        out = subprocess.run([binary_path(), "migrate", "--dry-run"], cwd=p.tmp, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("does not exist", out.stdout)
        self.assertIn("  0001_init.sql", out.stdout)
        self.assertFalse(os.path.exists(env["PLANTAO_DB"]))

    def test_newer_database_is_refused(self):
        p = self.plantao
        p.stop()
        p.db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)")
        dry = plantao_cmd(p, "migrate", "--dry-run")
        self.assertEqual(dry.returncode, 1)
        self.assertIn("newer than this binary", dry.stderr)
        out = plantao_cmd(p, "migrate")
        self.assertNotEqual(out.returncode, 0)


ALERTS_TOKEN = "plt_ddbcf8014c346c90a62b855dec233bce3d209674f0194b2819e68580b5211eaa"  # made with the fixture


class TestFirstRelease(IntegrationTest):
    start_plantao = False

    def setUp(self):
        super().setUp()
        if TEST_DB == "pg":
            self.skipTest("the first release ran on SQLite only; moving a database to PostgreSQL is test_copy_from's")

    def test_first_release_database_upgraded_and_served(self):
        p = Plantao(self.sim, env={"PLANTAO_DB": None})
        self.plantao = p
        self.addCleanup(self._finish_plantao, p)
        shutil.copyfile(FIXTURE, p.db_path)
        p.env["PLANTAO_DB"] = p.db_path
        self.assertEqual(p.db.scalar("SELECT max(version) FROM schema_migrations"), 20)

        dry = plantao_cmd(p, "migrate", "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        listed = [line.strip() for line in dry.stdout.splitlines() if line.startswith("  ")]
        self.assertIn("0002_outbox_engine.sql", listed)
        self.assertNotIn("0020_people_deleted.sql", listed)
        self.assertIn("at schema 20", dry.stdout)

        p.start()  # serve migrates
        self.assertGreater(p.db.scalar("SELECT max(version) FROM schema_migrations"), 20)
        self.assertEqual(p.db.scalar("SELECT count(*) FROM schema_migrations"), len(listed) + 2)

        people = {x["name"]: x for x in self.api_ok("GET", "/api/people")["people"]}
        self.assertEqual(sorted(people), ["Ana Souza", "Bruno Lima", "Carla Dias"])
        self.assertEqual(people["Ana Souza"]["phone"], "+5511987650001")
        self.assertEqual(people["Ana Souza"]["email"], "ana@example.com")
        rot = self.api_ok("GET", "/api/rotation")
        self.assertEqual([m["id"] if isinstance(m, dict) else m for m in rot["members"]], [1, 2, 3])
        # the weekly rotation handed off Mondays 09:00 from 2026-11-02 (Ana, Bruno, Carla), in force
        # since the fixture was made on 2026-12-02
        for at, who in (("2026-12-03T12:00:00-03:00", 2), ("2026-12-07T08:59:00-03:00", 2),
                        ("2026-12-07T09:00:00-03:00", 3), ("2026-12-15T12:00:00-03:00", 1)):
            on = self.api_ok("GET", "/api/oncall?at=" + at.replace("+", "%2B"))
            self.assertEqual(on["person"]["id"], who, (at, on))
        alerts = {a["id"]: a for a in self.api_ok("GET", "/api/alerts")["alerts"]}
        self.assertEqual({i: alerts[i]["status"] for i in (1, 2)}, {1: "acknowledged", 2: "resolved"})
        self.assertEqual(alerts[1]["summary"], "disco cheio em db1")
        self.assertEqual(p.db.scalar("SELECT count(*) FROM support_calls"), 1)
        self.assertEqual(p.db.scalar("SELECT count(*) FROM voicemails"), 1)
        self.assertEqual(p.db.scalar("SELECT count(*) FROM outbox"), 14)
        self.assertGreaterEqual(p.db.scalar("SELECT count(*) FROM audit"), 6)
        # the token made by the first release still posts alerts
        st, body, _ = p.api("POST", "/api/alerts", json={"summary": "depois da atualização"}, token=ALERTS_TOKEN)
        self.assertEqual(st, 202, body)
        self.assertEqual(p.db.scalar("SELECT count(*) FROM overrides"), 1)
        # the alert still open when the first release stopped carries on: its first step is paged
        self.sim.expect_sms("+5511987650001", containing="Alerta 3: fila parada")
        self.sim.expect_call("+5511987650001")
