"""
tests/integration/test_backup.py — backups and restore of the SQLite database (issue 14, item 4).

The story: plantao serves and takes alerts all the time; the nightly `plantao backup` runs in the
middle of that; months later the VM's disk dies and the backup is restored on a new one. Every
alert answered 202 before the backup began must be in it, the restored server must work, and a
restore must never run under a live server nor put a database newer than the binary in place.
"""

import os
import shutil
import sqlite3
import subprocess
import threading
import time

from harness import IntegrationTest, Plantao, binary_path, wait_until


def cmd(p, *args, env=None):
    return subprocess.run([binary_path()] + list(args), cwd=p.tmp, env=env or p.env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


DETAILS = "linha de log de um monitor que falhou\n" * 100  # 4 KB: the database grows past many backup steps


class Writer(threading.Thread):
    """Posts alerts one after another; `acked` holds (id, monotonic time the 202 arrived)."""

    def __init__(self, p):
        super().__init__(daemon=True)
        self.p = p
        self.acked = []
        self.other = {}
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            st, body, _ = self.p.api("POST", "/api/alerts", json={"summary": "carga %d" % n, "severity": "warning",
                                                                  "details": DETAILS})
            if st == 202:
                self.acked.append((body["id"], time.monotonic()))
            else:
                self.other[st] = self.other.get(st, 0) + 1
                time.sleep(0.02)


class TestBackup(IntegrationTest):
    start_plantao = False

    def sqlite_plantao(self):
        """A server on a SQLite file whatever PLANTAO_TEST_DB says: backups are SQLite's."""
        p = Plantao(self.sim, env={"PLANTAO_DB": None})
        p.env["PLANTAO_DB"] = p.db_path
        self.addCleanup(self._finish_plantao, p)
        return p

    def test_backup_under_write_load_then_restore_on_a_new_server(self):
        p = self.plantao = self.sqlite_plantao()
        p.start()
        writer = Writer(p)
        writer.start()
        wait_until(lambda: len(writer.acked) >= 300, timeout=60, what="alerts before the backup")
        started = time.monotonic()
        before = [i for i, t in writer.acked if t < started]
        backup = os.path.join(p.tmp, "backup.db")
        out = cmd(p, "backup", backup)
        finished = time.monotonic()
        wait_until(lambda: any(t > finished for _, t in writer.acked), timeout=30, what="alerts after the backup")
        writer.stop.set()
        writer.join(30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("checked", out.stdout)
        steps = int(out.stdout.split(" steps")[0].split()[-1])
        self.assertGreater(steps, 3, out.stdout)
        during = [i for i, t in writer.acked if started <= t <= finished]
        print("[measure] backup under load: %d alerts before, %d answered during the %.2f s backup, %s"
              % (len(before), len(during), finished - started, out.stdout.strip()))

        con = sqlite3.connect(backup)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        saved = {r[0] for r in con.execute("SELECT id FROM alerts")}
        con.close()
        self.assertEqual(sorted(set(before) - saved), [], "alerts answered 202 before the backup are missing")
        self.assertFalse(os.path.exists(backup + "-wal"))

        # restore refused while the server runs on the database
        live = cmd(p, "restore", backup)
        self.assertEqual(live.returncode, 1)
        self.assertIn("plantao is serving", live.stderr)
        self.assertEqual(p.db.scalar("SELECT count(*) FROM alerts"), len(writer.acked))

        # a new VM: restore, start, and the team's alerts are there and new ones are taken
        q = self.sqlite_plantao()
        res = cmd(q, "restore", backup)
        self.assertEqual(res.returncode, 0, res.stderr)
        q.start()
        listed = {a["id"] for a in q.api("GET", "/api/alerts?limit=500")[1]["alerts"]}
        self.assertTrue(set(before[-20:]) <= listed, "recent alerts not listed by the restored server")
        self.assertEqual(q.db.scalar("SELECT count(*) FROM alerts"), len(saved))
        st, body, _ = q.api("POST", "/api/alerts", json={"summary": "depois da restauração"})
        self.assertEqual(st, 202, body)
        self.assertGreater(body["id"], max(saved))

        # the old server stopped, the restore takes its place and keeps its database aside
        p.stop()
        res = cmd(p, "restore", backup)
        self.assertEqual(res.returncode, 0, res.stderr)
        aside = [f for f in os.listdir(p.tmp) if f.startswith("plantao.db.before-restore-")]
        self.assertEqual(len(aside), 1, os.listdir(p.tmp))
        old = sqlite3.connect(os.path.join(p.tmp, aside[0]))
        self.assertEqual(old.execute("SELECT count(*) FROM alerts").fetchone()[0], len(writer.acked))
        old.close()
        p.start()
        self.assertEqual(p.db.scalar("SELECT count(*) FROM alerts"), len(saved))

    def test_restore_refuses_a_newer_schema_and_other_files(self):
        p = self.plantao = self.sqlite_plantao()
        p.start()
        self.api_ok("POST", "/api/alerts", json={"summary": "antes"})
        backup = os.path.join(p.tmp, "backup.db")
        self.assertEqual(cmd(p, "backup", backup).returncode, 0)
        p.stop()
        con = sqlite3.connect(backup)
        with con:
            con.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_x.sql', 0)")
        con.close()
        res = cmd(p, "restore", backup)
        self.assertEqual(res.returncode, 1)
        self.assertIn("newer than this binary", res.stderr)
        not_db = os.path.join(p.tmp, "notes.txt")
        with open(not_db, "w") as f:
            f.write("not a database\n" * 100)
        res = cmd(p, "restore", not_db)
        self.assertEqual(res.returncode, 1)
        self.assertIn("not a SQLite database", res.stderr)
        other = os.path.join(p.tmp, "other.db")
        con = sqlite3.connect(other)
        con.execute("CREATE TABLE t (x)")
        con.close()
        res = cmd(p, "restore", other)
        self.assertEqual(res.returncode, 1)
        self.assertIn("not plantao's", res.stderr)
        self.assertEqual([f for f in os.listdir(p.tmp) if "before-restore" in f], [])
        p.start()
        self.assertEqual(len(self.api_ok("GET", "/api/alerts")["alerts"]), 1)

    def test_a_restore_that_fails_leaves_the_database_in_place(self):
        """The operator restores while a sqlite3 shell still has the database open, and an old
        restore's leftovers are in the way: the restore fails, and plantao.db is still there, whole."""
        p = self.plantao = self.sqlite_plantao()
        p.start()
        for n in range(3):
            self.api_ok("POST", "/api/alerts", json={"summary": "antes %d" % n})
        backup = os.path.join(p.tmp, "backup.db")
        self.assertEqual(cmd(p, "backup", backup).returncode, 0)
        self.api_ok("POST", "/api/alerts", json={"summary": "depois do backup"})
        p.stop()

        def in_the_way(suffix):
            """Directories where this minute's `<db>.before-restore-<time>` names would go."""
            made = []
            for s in range(-5, 90):
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + s))
                d = os.path.join(p.tmp, "plantao.db.before-restore-" + stamp + suffix)
                os.makedirs(os.path.join(d, "x"), exist_ok=True)
                made.append(d)
            return made

        def still_whole():
            self.assertTrue(os.path.isfile(p.db_path), os.listdir(p.tmp))
            con = sqlite3.connect(p.db_path)
            try:
                self.assertEqual(con.execute("SELECT count(*) FROM alerts").fetchone()[0], 4)
            finally:
                con.close()
            self.assertFalse(os.path.exists(p.db_path + ".restoring"), "the staging copy was left behind")

        # a sqlite3 shell holds the database (its WAL stays), and the WAL's place aside is taken
        shell = sqlite3.connect(p.db_path)
        shell.execute("SELECT count(*) FROM people").fetchone()
        blocked = in_the_way("-wal")
        res = cmd(p, "restore", backup)
        shell.close()
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertIn("plantao restore:", res.stderr)
        still_whole()
        for d in blocked:
            shutil.rmtree(d)

        # the old database's own place aside is taken
        blocked = in_the_way("")
        res = cmd(p, "restore", backup)
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertIn("cannot keep", res.stderr)
        still_whole()
        for d in blocked:
            shutil.rmtree(d)

        # nothing in the way: the backup takes its place, the old database is kept aside
        res = cmd(p, "restore", backup)
        self.assertEqual(res.returncode, 0, res.stderr)
        aside = [f for f in os.listdir(p.tmp) if f.startswith("plantao.db.before-restore-")]
        self.assertEqual(len(aside), 1, os.listdir(p.tmp))
        con = sqlite3.connect(os.path.join(p.tmp, aside[0]))
        self.assertEqual(con.execute("SELECT count(*) FROM alerts").fetchone()[0], 4)
        con.close()
        p.start()
        self.assertEqual(len(self.api_ok("GET", "/api/alerts")["alerts"]), 3)

    def test_postgresql_says_pg_dump(self):
        p = self.plantao = self.sqlite_plantao()
        env = dict(p.env, PLANTAO_DB="postgresql://plantao@127.0.0.1:1/plantao")
        res = cmd(p, "backup", os.path.join(p.tmp, "x.db"), env=env)
        self.assertEqual(res.returncode, 1)
        self.assertIn("pg_dump", res.stderr)
        self.assertFalse(os.path.exists(os.path.join(p.tmp, "x.db")))
