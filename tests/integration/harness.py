"""
tests/integration/harness.py — runs the real `plantao serve` against the Twilio simulator.

What it owns: one plantao process per test on a free loopback port, with its own temporary
directory (SQLite file, clock file, log), the environment that points it at the simulator,
the movable clock (PLANTAO_CLOCK_FILE: a signed number of seconds added to the real clock,
re-read by the server every engine tick), and a small JSON API client.

Used by tests/integration/test_*.py, normally through IntegrationTest:

    class TestPager(IntegrationTest):
        def test_ack(self):
            self.sim.phone("+5511999990001").answers(digits="1")
            status, body, _ = self.api("POST", "/api/alerts", json={"summary": "disk full"})
            call = self.sim.expect_call("+5511999990001")
            self.advance(60)

The build directory is $PLANTAO_BUILD (default `build`, relative to the repository root).
Set PLANTAO_KEEP=1 to keep every temporary directory; those of failed tests are always kept.

Databases. By default each server gets a SQLite file in its temporary directory. With
PLANTAO_TEST_DB=pg (what `make test-pg` sets) each server gets a fresh database, created for
it, in one PostgreSQL cluster shared by the run: the cluster PLANTAO_TEST_PG_URL names (an
admin URL, e.g. postgresql://plantao@127.0.0.1:5432/postgres; `tests/pg/run` starts one and
sets it), or else a throw-away cluster this process starts with tests/pg/cluster and stops at
exit. A test that sets PLANTAO_DB itself keeps what it set. Tests read and write the database
through `plantao.db` (a Database: `query`, `scalar`, `execute`, or `connect()` for a
connection shaped like Python's sqlite3 one), so that they run the same in both modes;
`plantao.db.kind` is "sqlite" or "pg". `Plantao(sim, db=other.db)` starts another instance on
the same database (multi-instance tests).
"""

import atexit
import glob
import json as jsonlib
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))

from twilio_sim import SimError, TwilioSim  # noqa: E402  (path set just above)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgclient  # noqa: E402

TWILIO_FROM = "+15005550006"
READY_TIMEOUT = 10.0
LISTEN_RETRIES = 3  # new ports tried when the one picked was taken before plantao could bind it
CLOCK_SETTLE = 0.3  # seconds to let the server's engine tick (~100 ms) see a new clock offset
DEFAULT = object()

_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEST_DB = os.environ.get("PLANTAO_TEST_DB", "sqlite")
if TEST_DB not in ("sqlite", "pg"):
    raise SystemExit("PLANTAO_TEST_DB must be sqlite or pg, not %r" % TEST_DB)
PG_CLUSTER_SCRIPT = os.path.join(ROOT, "tests", "pg", "cluster")


def is_pg_url(target):
    return target.startswith(("postgres://", "postgresql://"))


class Database:
    """The database PLANTAO_DB names: a SQLite file (kind "sqlite") or a PostgreSQL URL (kind
    "pg"). Every helper opens its own short connection; `?` placeholders in both kinds."""

    def __init__(self, target):
        self.target = target
        self.kind = "pg" if is_pg_url(target) else "sqlite"

    def connect(self, timeout=10, isolation_level="", named=False):
        """A new connection shaped like sqlite3's (execute, commit, `with` = a transaction);
        close it. Rows are tuples; named=True makes them answer row["name"] and dict(row) too
        (sqlite3.Row; PostgreSQL rows always do)."""
        if self.kind == "pg":
            return pgclient.connect(self.target, timeout=timeout, isolation_level=isolation_level)
        conn = sqlite3.connect(self.target, timeout=timeout, isolation_level=isolation_level)
        if named:
            conn.row_factory = sqlite3.Row
        return conn

    def query(self, sql, params=()):
        """Rows of a SELECT as dicts."""
        conn = self.connect(named=True)
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def scalar(self, sql, params=()):
        """The first column of the first row (None when there is no row)."""
        conn = self.connect()
        try:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else row[0]
        finally:
            conn.close()

    def execute(self, sql, params=()):
        """One statement, committed; returns the number of rows it changed."""
        conn = self.connect()
        try:
            with conn:
                return conn.execute(sql, params).rowcount
        finally:
            conn.close()


class PgCluster:
    """The PostgreSQL cluster of a test run: `admin_url` given (PLANTAO_TEST_PG_URL), or one
    started by tests/pg/cluster in a temporary directory and stopped when the process exits.
    `dir` (PLANTAO_TEST_PG_DIR, or the started one) allows restart()."""

    def __init__(self, admin_url=None, dir=None):
        self.owned = admin_url is None
        self.dir = dir
        if self.owned:
            self.sweep()
            self.dir = tempfile.mkdtemp(prefix="plantao-pg-")
            out = subprocess.run(["bash", PG_CLUSTER_SCRIPT, "start", self.dir], capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError("could not start PostgreSQL: %s" % (out.stderr or out.stdout).strip())
            admin_url = out.stdout.strip().splitlines()[-1]
            with open(os.path.join(self.dir, "owner"), "w") as f:
                f.write("%d\n" % os.getpid())
            atexit.register(self.stop)
        self.admin_url = admin_url

    @staticmethod
    def sweep():
        """Stops the clusters of earlier test processes that were killed before their exit
        handler ran (their `owner` pid is gone), so no PostgreSQL is left running behind."""
        for d in glob.glob(os.path.join(tempfile.gettempdir(), "plantao-pg-*")):
            try:
                with open(os.path.join(d, "owner")) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                continue  # being started now, or not ours
            try:
                os.kill(pid, 0)
                continue  # its owner still runs
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            subprocess.run(["bash", PG_CLUSTER_SCRIPT, "stop", d], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            shutil.rmtree(d, ignore_errors=True)

    def url_for(self, name):
        u = self.admin_url.rsplit("/", 1)[0]
        return "%s/%s" % (u, name)

    def admin(self, sql):
        conn = pgclient.connect(self.admin_url, isolation_level=None)
        try:
            return conn.execute(sql)
        finally:
            conn.close()

    def create_database(self, prefix="plantao_it_"):
        """A new empty database; returns its URL."""
        name = prefix + secrets.token_hex(6)
        self.admin('CREATE DATABASE "%s"' % name)  # a name made here, never outside input
        return self.url_for(name)

    def drop_database(self, url):
        name = url.rsplit("/", 1)[1]
        self.admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)

    def restart(self, mode="fast", down=0):
        """Stops PostgreSQL (mode fast or immediate: a crash), keeps it down `down` seconds and
        starts it again on the same port."""
        if not self.dir:
            raise RuntimeError("restart needs the cluster's directory (PLANTAO_TEST_PG_DIR)")
        subprocess.run(["bash", PG_CLUSTER_SCRIPT, "restart", self.dir, mode, str(down)], check=True,
                       stdout=subprocess.DEVNULL)

    def log_for(self, url, lines=40):
        """The PostgreSQL server log's lines about the database of url (errors and the statements
        that caused them), for a failing test's report; "" when the log is not at hand."""
        name = url.rsplit("/", 1)[1]
        try:
            with open(os.path.join(self.dir or "", "postgres.log"), "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        mine = [l for l in text if " %s " % name in l]
        if not mine:
            return ""
        return "---- PostgreSQL log for %s, last %d lines:\n%s" % (name, min(lines, len(mine)),
                                                                 "\n".join(mine[-lines:]))

    def stop(self):
        if self.owned and self.dir:
            subprocess.run(["bash", PG_CLUSTER_SCRIPT, "stop", self.dir], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.dir = None


_pg_cluster = None


def pg_cluster():
    """The run's shared PostgreSQL cluster (started on first use when PLANTAO_TEST_PG_URL is unset)."""
    global _pg_cluster
    if _pg_cluster is None:
        _pg_cluster = PgCluster(os.environ.get("PLANTAO_TEST_PG_URL"), os.environ.get("PLANTAO_TEST_PG_DIR"))
    return _pg_cluster


def pg_available():
    return os.access(os.path.join(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"), "initdb"), os.X_OK) \
        or bool(os.environ.get("PLANTAO_TEST_PG_URL"))


def binary_path(build=None):
    build = build or os.environ.get("PLANTAO_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(ROOT, build)
    return os.path.join(build, "plantao")


class Plantao:
    """One plantao server process. `sim` is the TwilioSim it talks to (its URL becomes
    TWILIO_API_BASE and it gets the same credentials); `env` adds or overrides variables."""

    def __init__(self, sim, env=None, build=None, db=None):
        self.binary = binary_path(build)
        self.sim = sim
        self.tmp = tempfile.mkdtemp(prefix="plantao-it-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.api_token = secrets.token_hex(16)
        # db_path: what PLANTAO_DB names, a SQLite file or (PostgreSQL) a URL; see `db`.
        self.own_pg_url = None
        if db is not None:
            self.db_path = db.target
        elif TEST_DB == "pg" and "PLANTAO_DB" not in (env or {}):
            self.own_pg_url = pg_cluster().create_database()
            self.db_path = self.own_pg_url
        else:
            self.db_path = os.path.join(self.tmp, "plantao.db")
        self.clock_path = os.path.join(self.tmp, "clock")
        self.log_path = os.path.join(self.tmp, "plantao.log")
        self.clock_offset = 0
        self.proc = None
        self._ever_ready = False
        self._write_clock()
        self.env = dict(os.environ)
        self.env.update({
            "PLANTAO_LISTEN": "127.0.0.1:%d" % self.port,
            "PLANTAO_DB": self.db_path,
            "PLANTAO_PUBLIC_URL": self.url,
            "PLANTAO_API_TOKEN": self.api_token,
            "TWILIO_ACCOUNT_SID": sim.account_sid,
            "TWILIO_AUTH_TOKEN": sim.auth_token,
            "TWILIO_FROM": TWILIO_FROM,
            "TWILIO_API_BASE": sim.url,
            "PLANTAO_CLOCK_FILE": self.clock_path,
            "PLANTAO_LOG_LEVEL": "debug",
        })
        self.env.update(env or {})
        self.env = {k: v for k, v in self.env.items() if v is not None}  # env={"X": None} unsets
        sim.plantao_url = self.url
        sim.support_number = self.env.get("TWILIO_FROM", TWILIO_FROM)

    # ---- process ----------------------------------------------------------------------

    def start(self, wait=True):
        """Start plantao. Its first start on a port picked by free_port() can lose a race with
        another process on this machine that takes the port meanwhile: then a new port is
        picked and it starts again (at most LISTEN_RETRIES times)."""
        for attempt in range(LISTEN_RETRIES + 1):
            try:
                return self._start(wait)
            except RuntimeError as e:
                if self._ever_ready or attempt == LISTEN_RETRIES or "cannot listen on" not in str(e):
                    raise
                self._move_to_port(free_port())

    def _move_to_port(self, port):
        old = "127.0.0.1:%d" % self.port
        self.port = port
        self.url = "http://127.0.0.1:%d" % self.port
        self.env["PLANTAO_LISTEN"] = "127.0.0.1:%d" % self.port
        public = self.env.get("PLANTAO_PUBLIC_URL")
        if public and old in public:  # a test's own public URL (a path prefix) keeps its shape
            self.env["PLANTAO_PUBLIC_URL"] = public.replace(old, "127.0.0.1:%d" % self.port)
        if self.sim.plantao_url and old in self.sim.plantao_url:
            self.sim.plantao_url = self.sim.plantao_url.replace(old, "127.0.0.1:%d" % self.port)

    def _start(self, wait=True):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("plantao binary not found: %s (run `make tests`, or set PLANTAO_BUILD)"
                               % self.binary)
        log = open(self.log_path, "ab")
        log.write(b"---- start %s\n" % time.strftime("%H:%M:%S").encode())
        log.flush()
        self.killed = False
        self.proc = subprocess.Popen([self.binary, "serve"], cwd=self.tmp, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("plantao exited with status %s before it was ready\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                status, _, _ = self.api("GET", "/healthz?live", token=None, timeout=1)
                if status == 200:
                    self._ever_ready = True
                    return
                last = "HTTP %s" % status
            except OSError as e:
                last = str(e)
            time.sleep(0.05)
        raise RuntimeError("plantao not ready after %ss (/healthz: %s)\n%s" % (timeout, last, self.log_tail()))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("plantao ignored SIGTERM for %ss\n%s" % (timeout, self.log_tail()))
        return self.proc.returncode

    def kill9(self):
        """SIGKILL: the crash that must lose nothing and send nothing twice."""
        self.killed = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self, wait=True):
        """Start again on the same port with the same DB and environment."""
        if self.running():
            self.stop()
        return self.start(wait=wait)

    @property
    def db(self):
        """The database this server uses (what PLANTAO_DB names now): a Database."""
        return Database(self.env.get("PLANTAO_DB") or self.db_path)

    def close(self, keep=False):
        try:
            if self.running():
                self.kill9()
        finally:
            if not keep and not os.environ.get("PLANTAO_KEEP"):
                shutil.rmtree(self.tmp, ignore_errors=True)
                if self.own_pg_url:
                    pg_cluster().drop_database(self.own_pg_url)
                    self.own_pg_url = None
            elif self.own_pg_url:
                sys.stderr.write("---- kept database %s\n" % self.own_pg_url)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        text = self.log_text().splitlines()
        return "---- plantao log (%s), last %d lines:\n%s" % (self.log_path, min(lines, len(text)),
                                                             "\n".join(text[-lines:]))

    # ---- clock ------------------------------------------------------------------------

    def _write_clock(self):
        tmp = self.clock_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.clock_offset)
        os.replace(tmp, self.clock_path)

    def advance(self, seconds, settle=CLOCK_SETTLE):
        """Move plantao's clock (and the simulator's) forward; wait `settle` seconds so the
        engine has ticked with the new time."""
        self.set_clock_offset(self.clock_offset + seconds, settle)

    def set_clock_offset(self, offset, settle=CLOCK_SETTLE):
        self.clock_offset = int(offset)
        self._write_clock()
        self.sim.clock_offset = self.clock_offset
        if settle:
            time.sleep(settle)

    def now(self):
        """plantao's idea of the current time (epoch seconds)."""
        return time.time() + self.clock_offset

    # ---- HTTP -------------------------------------------------------------------------

    def api(self, method, path, json=None, data=None, headers=None, token=DEFAULT, timeout=10):
        """One request to plantao. `json` is sent as application/json; `data` (bytes or str) as
        is, with whatever Content-Type `headers` gives. token=None sends no Authorization.
        Returns (status, body parsed as JSON when it is JSON else text, headers dict with
        lower-case names)."""
        hdrs = dict(headers or {})
        if token is DEFAULT:
            token = self.api_token
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=hdrs)
        try:
            with _no_proxy.open(req, timeout=timeout) as resp:
                status, raw, rh = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, raw, rh = e.code, e.read(), e.headers
        rheaders = {k.lower(): v for k, v in rh.items()}
        ctype = rheaders.get("content-type", "")
        parsed = raw
        if "json" in ctype:
            try:
                parsed = jsonlib.loads(raw.decode("utf-8"))
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
        else:
            try:
                parsed = raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return status, parsed, rheaders

    def webhook(self, path, params, signature=None):
        """POST a Twilio-style webhook to plantao, signed like Twilio (signature=False: none;
        a string: that forged value). Returns the simulator's Webhook (status, body)."""
        return self.sim.post_webhook(path, params, signature=signature)


def wait_until(predicate, timeout=10, interval=0.05, what="condition"):
    """Poll `predicate` until it returns a truthy value (returned) or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


class IntegrationTest(unittest.TestCase):
    """Base class: a fresh simulator and plantao per test. Class attributes:
    `plantao_env` (extra environment), `start_plantao` (False: only the simulator; call
    self.start_plantao_now() yourself). tearDown fails on unexpected SMS or calls; a failing
    test prints the tail of the server log and keeps its temporary directory."""

    plantao_env = {}
    start_plantao = True

    def setUp(self):
        self.sim = TwilioSim("AC" + secrets.token_hex(16), secrets.token_hex(16),
                             owned_numbers={TWILIO_FROM, "whatsapp:" + TWILIO_FROM}).start()
        self.addCleanup(self.sim.stop)
        self.plantao = None
        if self.start_plantao:
            self.start_plantao_now()

    def start_plantao_now(self, env=None):
        merged = dict(self.plantao_env)
        merged.update(env or {})
        wa = merged.get("TWILIO_WHATSAPP_FROM")
        if wa:
            self.sim.owned_numbers.add(wa)
        self.plantao = Plantao(self.sim, env=merged)
        self.addCleanup(self._finish_plantao, self.plantao)
        self.plantao.start()
        return self.plantao

    def _finish_plantao(self, p):
        ok = self._test_ok()
        problem = None
        try:
            status = p.stop()
            # A clean SIGTERM exits 0; anything else (LeakSanitizer's 23, an abort) fails the test.
            if status not in (0, None) and not p.killed:
                problem = "plantao exited with status %s on SIGTERM (sanitizer report or crash)" % status
        except RuntimeError as e:
            problem = str(e)
        finally:
            if problem or not ok:
                sys.stderr.write("\n%s\n---- kept %s\n" % (p.log_tail(), p.tmp))
                if p.db.kind == "pg" and _pg_cluster is not None:
                    sys.stderr.write(_pg_cluster.log_for(p.db.target) + "\n")
            p.close(keep=bool(problem) or not ok)
        if problem:
            raise AssertionError(problem)

    def _test_ok(self):
        """Whether the test has not failed so far. Python 3.11 reports a failure to the result
        at once and leaves _outcome.success True until the cleanups have run, so the result's
        failures and errors are looked at too."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return True
        if not getattr(outcome, "success", True):
            return False
        result = getattr(outcome, "result", None)
        for test, _ in list(getattr(result, "failures", [])) + list(getattr(result, "errors", [])):
            if test is self or getattr(test, "test_case", None) is self:
                return False
        return True

    def tearDown(self):
        if self._test_ok():
            self.sim.assert_no_unexpected()

    # shorthands
    def api(self, *args, **kw):
        return self.plantao.api(*args, **kw)

    def advance(self, seconds, settle=CLOCK_SETTLE):
        self.plantao.advance(seconds, settle)

    def api_ok(self, method, path, expect=(200, 201, 202, 204), **kw):
        """api() that asserts a success status and returns the body."""
        status, body, _ = self.api(method, path, **kw)
        if isinstance(expect, int):
            expect = (expect,)
        self.assertIn(status, expect, "%s %s -> %s %r" % (method, path, status, body))
        return body


__all__ = ["IntegrationTest", "Plantao", "SimError", "TwilioSim", "TWILIO_FROM", "binary_path",
           "free_port", "wait_until", "ROOT", "TEST_DB", "Database", "PgCluster", "pg_cluster", "pg_available",
           "is_pg_url"]
