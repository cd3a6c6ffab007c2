"""
tests/integration/test_copy_from.py — moving a team from one SQLite file to PostgreSQL.

The story: a team that ran plantao on one VM wants several instances; they point PLANTAO_DB at
a new PostgreSQL database and run `plantao migrate --copy-from plantao.db`. Everything they had
(people, roles, the rotation) must be there afterwards, a second run must refuse to copy over
data, and the database password in PLANTAO_DB must never be printed. PostgreSQL runs (make
test-pg) only.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pgclient  # noqa: E402
from harness import TEST_DB, binary_path, pg_cluster  # noqa: E402


@unittest.skipUnless(TEST_DB == "pg", "PostgreSQL runs only (make test-pg)")
class TestCopyFrom(unittest.TestCase):

    def run_plantao(self, db, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANTAO_", "TWILIO_"))}
        env["PLANTAO_DB"] = db
        return subprocess.run([binary_path()] + list(args), cwd=self.dir, env=env, capture_output=True, text=True,
                              timeout=60)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plantao-it-copy-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_copy_from_sqlite_keeps_everything_refuses_twice_and_hides_the_password(self):
        src = os.path.join(self.dir, "plantao.db")
        for name, phone in (("Ana Souza", "+5511990000001"), ("Bruno", "(11) 99000-0002")):
            p = self.run_plantao(src, "person", "create", "--name", name, "--phone", phone, "--role", "admin")
            self.assertEqual(p.returncode, 0, p.stderr)
        cluster = pg_cluster()
        url = cluster.create_database()
        self.addCleanup(cluster.drop_database, url)
        # the test cluster trusts loopback, so any password is accepted: the point is that it is
        # never printed
        scheme, rest = url.split("://", 1)
        user, host = rest.split("@", 1)
        with_password = "%s://%s:s3gredo-do-banco@%s" % (scheme, user, host)

        p = self.run_plantao(with_password, "migrate", "--copy-from", src)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("copied", p.stdout)
        self.assertIn("counts and checksums match", p.stdout)
        self.assertNotIn("s3gredo", p.stdout + p.stderr)

        conn = pgclient.connect(url, isolation_level=None)
        try:
            rows = conn.execute("SELECT name, phone, role FROM people ORDER BY id").fetchall()
        finally:
            conn.close()
        self.assertEqual([tuple(r) for r in rows], [("Ana Souza", "+5511990000001", "admin"),
                                                    ("Bruno", "+5511990000002", "admin")])

        again = self.run_plantao(with_password, "migrate", "--copy-from", src)
        self.assertNotEqual(again.returncode, 0, again.stdout)
        self.assertIn("copy from", again.stderr)
        self.assertNotIn("s3gredo", again.stdout + again.stderr)


if __name__ == "__main__":
    unittest.main()
