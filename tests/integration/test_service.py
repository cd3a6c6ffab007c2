"""
tests/integration/test_service.py — plantao as an installed systemd service (issue 14, item 1).

What it checks: `make install` into a throw-away DESTDIR gives a tree that runs (`plantao help`,
`serve --env-file` with the installed /etc/plantao/plantao.env, /healthz); the unit passes
`systemd-analyze verify` (systemd is installed on the test machine but is not PID 1, so the unit
is verified, not started); the help text, the man page and .env.example name every variable of
server/core/cfg.c and every command main.c dispatches, so none of them can drift; the sd_notify
protocol as systemd sees it (a Python datagram socket as NOTIFY_SOCKET): READY=1 once plantao
listens, WATCHDOG=1 pings while the engine ticks, no pings while the engine hangs (its tick blocks
in reading the clock file, made a FIFO nobody writes) and pings again once it ticks; SIGHUP
reloads the log level from the environment file and keeps serving.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import ROOT, IntegrationTest, binary_path, free_port, wait_until

CFG_C = os.path.join(ROOT, "server", "core", "cfg.c")
MAIN_C = os.path.join(ROOT, "server", "main.c")


def cfg_variables():
    """Every PLANTAO_* / TWILIO_* name cfg.c reads (its configuration table and getenv calls)."""
    with open(CFG_C) as f:
        names = set(re.findall(r'"((?:PLANTAO|TWILIO)_[A-Z0-9_]+)"', f.read()))
    assert len(names) > 30, names
    return names


def main_commands():
    with open(MAIN_C) as f:
        return set(re.findall(r'!strcmp\(cmd, "([a-z][a-z-]*)"\)', f.read()))


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, **kw)


def build_dir():
    b = os.environ.get("PLANTAO_BUILD", "build")
    return b if os.path.isabs(b) else os.path.join(ROOT, b)


class TestDocumentedConfiguration(unittest.TestCase):
    def test_help_lists_every_variable_and_command(self):
        out = run([binary_path(), "help"])
        self.assertEqual(out.returncode, 0, out.stdout)
        help_vars = set(re.findall(r"^  ((?:PLANTAO|TWILIO)_[A-Z0-9_]+)", out.stdout, re.M))
        self.assertEqual(sorted(cfg_variables() - help_vars), [], "variables of cfg.c missing from `plantao help`: add a line for each to "
                         "the environment list of `usage` in server/main.c (and to .env.example)")
        self.assertEqual(sorted(help_vars - cfg_variables()), [], "`plantao help` lists variables cfg.c never reads")
        commands = set(re.findall(r"^  ([a-z][a-z-]*)", out.stdout.split("environment")[0], re.M))
        missing = main_commands() - commands - {"--help", "-h"}
        self.assertEqual(sorted(missing), [], "commands of main.c missing from `plantao help`")

    def test_env_example_lists_every_variable(self):
        with open(os.path.join(ROOT, ".env.example")) as f:
            listed = set(re.findall(r"^#?((?:PLANTAO|TWILIO)_[A-Z0-9_]+)=", f.read(), re.M))
        self.assertEqual(sorted(cfg_variables() - listed), [], "variables of cfg.c missing from .env.example: add each, commented, with its default")

    def test_man_page_lists_every_variable(self):
        out = run([os.path.join(ROOT, "scripts", "manpage"), binary_path()])
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn(".TH PLANTAO 8", out.stdout)
        for name in sorted(cfg_variables()):
            self.assertIn(".B " + name.replace("_", "_") + "\n", out.stdout, name)


class TestInstall(unittest.TestCase):
    """make install DESTDIR=<tmp> PREFIX=/usr: the tree an operator gets, run from where it was put."""

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="plantao-it-install-")
        out = run(["make", "--no-print-directory", "-C", ROOT, "install", "B=" + build_dir(), "DESTDIR=" + cls.dest,
                   "PREFIX=/usr"])
        if out.returncode != 0:
            raise AssertionError("make install failed:\n" + out.stdout)
        cls.sbin = os.path.join(cls.dest, "usr", "sbin", "plantao")
        cls.unit = os.path.join(cls.dest, "usr", "lib", "systemd", "system", "plantao.service")
        cls.env = os.path.join(cls.dest, "etc", "plantao", "plantao.env")

    @classmethod
    def tearDownClass(cls):
        if not os.environ.get("PLANTAO_KEEP"):
            shutil.rmtree(cls.dest, ignore_errors=True)

    def test_tree(self):
        for path in (self.sbin, self.unit, self.env, self.unit.replace("plantao.service", "plantao-backup.service"),
                     self.unit.replace("plantao.service", "plantao-backup.timer"), os.path.join(self.dest, "usr", "share", "man", "man8", "plantao.8"),
                     os.path.join(self.dest, "usr", "lib", "sysusers.d", "plantao.conf")):
            self.assertTrue(os.path.isfile(path), path)
        self.assertTrue(os.access(self.sbin, os.X_OK))
        self.assertEqual(os.stat(self.env).st_mode & 0o777, 0o640)
        with open(self.unit) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/sbin/plantao serve --env-file /etc/plantao/plantao.env", unit)
        for directive in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=plantao",
                          "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                          "RestrictAddressFamilies=", "User=plantao"):
            self.assertIn(directive, unit)
        # make install again keeps the operator's edited configuration
        with open(self.env, "a") as f:
            f.write("PLANTAO_TZ=America/Recife\n")
        out = run(["make", "--no-print-directory", "-C", ROOT, "install", "B=" + build_dir(), "DESTDIR=" + self.dest,
                   "PREFIX=/usr"])
        self.assertEqual(out.returncode, 0, out.stdout)
        with open(self.env) as f:
            self.assertIn("PLANTAO_TZ=America/Recife", f.read())

    def test_installed_binary_serves(self):
        out = run([self.sbin, "help"])
        self.assertEqual(out.returncode, 0)
        self.assertIn("PLANTAO_PUBLIC_URL", out.stdout)
        state = tempfile.mkdtemp(prefix="plantao-it-state-")
        self.addCleanup(shutil.rmtree, state, True)
        port = free_port()
        # the installed file as is, except the two lines a real host sets differently from a test
        env_file = os.path.join(state, "plantao.env")
        with open(self.env) as f:
            text = f.read()
        text = text.replace("PLANTAO_DB=/var/lib/plantao/plantao.db", "PLANTAO_DB=%s/plantao.db" % state)
        text += "PLANTAO_LISTEN=127.0.0.1:%d\n" % port
        with open(env_file, "w") as f:
            f.write(text)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANTAO_", "TWILIO_"))}
        log = open(os.path.join(state, "log"), "wb")
        proc = subprocess.Popen([self.sbin, "serve", "--env-file", env_file], cwd=state, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def healthz():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz?live" % port, timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        try:
            wait_until(lambda: healthz() or proc.poll() is not None, timeout=30, what="installed plantao serves")
            self.assertIsNone(proc.poll(), open(os.path.join(state, "log")).read())
            self.assertTrue(os.path.isfile(os.path.join(state, "plantao.db")))
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(20), 0)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_unit_verifies(self):
        # systemd is installed here but is not PID 1 (a container), so the unit cannot be started
        # for real: systemd-analyze verify loads it as systemd would and checks every directive,
        # the ExecStart binary (pointed at the installed tree) and the man page named by
        # Documentation=.
        d = tempfile.mkdtemp(prefix="plantao-it-unit-")
        self.addCleanup(shutil.rmtree, d, True)
        units = []
        for name in ("plantao.service", "plantao-backup.service", "plantao-backup.timer"):
            with open(os.path.join(os.path.dirname(self.unit), name)) as f:
                unit = f.read().replace("/usr/sbin/plantao", self.sbin)
            # EnvironmentFile= is read when the unit starts, not by verify; it names the installed file
            with open(os.path.join(d, name), "w") as f:
                f.write(unit)
            units.append(os.path.join(d, name))
        env = dict(os.environ, MANPATH=os.path.join(self.dest, "usr", "share", "man"))
        out = run(["systemd-analyze", "verify"] + units, env=env, cwd=d)
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual(out.stdout.strip(), "")


class NotifySocket:
    """systemd's side of sd_notify: a datagram socket that records every message."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, text)

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, BlockingIOError):
                return
            self.messages.append((time.monotonic(), data.decode()))

    def watchdog_times(self):
        return [t for t, m in self.messages if "WATCHDOG=1" in m.split("\n")]

    def close(self):
        self.sock.close()


WATCHDOG_USEC = 4000000  # pings every 1 s; withheld once the engine has not ticked for 2 s


class TestNotify(IntegrationTest):
    start_plantao = False

    def setUp(self):
        super().setUp()
        self.notify_dir = tempfile.mkdtemp(prefix="plantao-it-notify-")
        self.addCleanup(shutil.rmtree, self.notify_dir, True)
        self.notify = NotifySocket(os.path.join(self.notify_dir, "notify"))
        self.addCleanup(self.notify.close)

    def wait_for(self, predicate, timeout, what):
        def check():
            self.notify.drain()
            return predicate()
        wait_until(check, timeout=timeout, interval=0.1, what=what)

    def test_ready_then_watchdog_while_the_engine_ticks(self):
        p = self.start_plantao_now({"NOTIFY_SOCKET": self.notify.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)})
        self.wait_for(lambda: any("READY=1" in m for _, m in self.notify.messages), 10, "READY=1")
        ready = next(m for _, m in self.notify.messages if "READY=1" in m)
        self.assertIn("STATUS=serving on 127.0.0.1:%d" % p.port, ready)
        # READY=1 came after the socket listened: nothing is sent before it
        self.assertEqual(self.notify.messages[0][1], ready)
        self.wait_for(lambda: len(self.notify.watchdog_times()) >= 3, 15, "three WATCHDOG=1 pings")

        # The engine hangs: its next tick blocks opening the clock file, now a FIFO with no writer.
        fifo = p.clock_path + ".fifo"
        os.mkfifo(fifo)
        os.replace(fifo, p.clock_path)
        # The pings stop: systemd would restart plantao once WatchdogSec (4 s) passes without one.
        self.wait_for(lambda: any("STATUS=engine stalled" in m for _, m in self.notify.messages), 20,
                      "STATUS=engine stalled")
        stalled_at = time.monotonic()
        last_ping = self.notify.watchdog_times()[-1]
        time.sleep(WATCHDOG_USEC / 1e6 + 1)
        self.notify.drain()
        self.assertEqual([t for t in self.notify.watchdog_times() if t > last_ping], [],
                         "WATCHDOG=1 sent while the engine was stalled")
        self.assertGreater(time.monotonic() - last_ping, WATCHDOG_USEC / 1e6, "systemd would not have restarted it")
        self.assertIn("the engine thread has not ticked", p.log_text())
        self.assertGreater(time.monotonic(), stalled_at)

        # The engine is let go (the clock file is a file again, and the blocked open gets its
        # writer): the pings come back.
        tmp = p.clock_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("0\n")
        os.rename(p.clock_path, fifo)
        os.replace(tmp, p.clock_path)
        with open(fifo, "w") as f:
            f.write("0\n")
        os.unlink(fifo)
        self.wait_for(lambda: [t for t in self.notify.watchdog_times() if t > last_ping], 15, "pings again")
        self.assertIn("the engine ticks again", p.log_text())

    def test_stopping_is_announced(self):
        p = self.start_plantao_now({"NOTIFY_SOCKET": self.notify.path})
        self.wait_for(lambda: any("READY=1" in m for _, m in self.notify.messages), 10, "READY=1")
        self.assertEqual(p.stop(), 0)
        self.wait_for(lambda: any("STOPPING=1" in m for _, m in self.notify.messages), 10, "STOPPING=1")
        self.assertEqual(self.notify.watchdog_times(), [], "no watchdog pings unless WATCHDOG_USEC asks for them")


class TestReload(IntegrationTest):
    start_plantao = False

    def test_sighup_changes_the_log_level_and_keeps_serving(self):
        from harness import Plantao
        p = Plantao(self.sim, env={"PLANTAO_LOG_LEVEL": None})
        self.plantao = p
        self.addCleanup(self._finish_plantao, p)
        dotenv = os.path.join(p.tmp, ".env")
        with open(dotenv, "w") as f:
            f.write("PLANTAO_LOG_LEVEL=error\nPLANTAO_DIAL_TIMEOUT=20\n")
        p.start()
        self.api_ok("GET", "/api/oncall")
        time.sleep(0.5)  # access lines are flushed within 100 ms
        self.assertNotIn("/api/oncall", p.log_text(), "an access line at level error")

        with open(dotenv, "w") as f:
            f.write("# edited\nPLANTAO_LOG_LEVEL=debug\nPLANTAO_DIAL_TIMEOUT=30\n")
        p.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "reload: PLANTAO_LOG_LEVEL error -> debug" in p.log_text(), timeout=10,
                   what="the reload logged")
        self.assertTrue(p.running(), "SIGHUP stopped plantao")
        self.assertIn("PLANTAO_DIAL_TIMEOUT changed", p.log_text())
        self.assertIn("next restart", p.log_text())
        self.api_ok("GET", "/api/oncall")
        wait_until(lambda: "/api/oncall" in p.log_text(), timeout=10, what="access lines at debug")

        # a value that is no level is refused and the level in force is kept
        with open(dotenv, "w") as f:
            f.write("PLANTAO_LOG_LEVEL=loud\nPLANTAO_DIAL_TIMEOUT=30\n")
        p.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "'loud' is not debug, info, warn or error; kept debug" in p.log_text(), timeout=10,
                   what="the bad level refused")
        self.assertTrue(p.running())
        self.assertEqual(p.stop(), 0)


if __name__ == "__main__":
    unittest.main()
