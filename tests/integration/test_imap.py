"""
tests/integration/test_imap.py — alert e-mail read over IMAP, against a real dovecot.

Each test starts its own dovecot (tests/imap/start: loopback, a free port, a passwd-file user,
a Maildir in a temporary directory), delivers real RFC 5322 messages into it with IMAP APPEND
(Python's imaplib), and runs plantao with PLANTAO_IMAP_* pointing at it and a 1 s interval.
What is checked: the alerts created (through GET /api/alerts) with the decoded subject and body,
the \\Seen flags on the server, that mail from another sender or with another subject is left
alone, that a second poll creates nothing, that a mail read twice (the crash window between the
alert and \\Seen) folds into the same alert, and that a server that is down or refuses the
password is logged once and never stops plantao.

TLS: the password never travels in clear text. Each test makes its own certificate with the
openssl command line (make_cert) and runs dovecot with STARTTLS (the usual tests: plantao at
its default configuration, verifying the server with PLANTAO_IMAP_CA_FILE) or imaps (TestImapTls);
a server without TLS is refused unless PLANTAO_IMAP_INSECURE=1, and dovecot's own log shows
that no login was attempted.

Skipped, with the reason printed, only when dovecot is not installed (scripts/deps test installs
dovecot-imapd); a dovecot that is installed but does not start is a failure.
"""

import base64
import imaplib
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import ROOT, IntegrationTest, free_port, wait_until

START = os.path.join(ROOT, "tests", "imap", "start")
MONITOR = "monitor@example.com"
ANA = "+5511990000001"
# the per-destination limits would hold the texts and the call back for minutes
PAGER_ENV = {"PLANTAO_DEST_PER_MINUTE": "1000", "PLANTAO_DEST_PER_15MIN": "10000",
             "PLANTAO_SMS_RATE": "1000", "PLANTAO_CALL_RATE": "1000"}


def dovecot_installed():
    return shutil.which("dovecot") is not None or os.access("/usr/sbin/dovecot", os.X_OK)


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 (as an IP address SAN, which libcurl checks),
    made with the openssl command line: returns (cert.pem, key.pem)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(directory, 0o755)
    os.chmod(key, 0o644)  # dovecot's config process reads it as root; the directory is private
    return cert, key


class Dovecot:
    """One throw-away dovecot. deliver() appends a message; flags() reads them back.
    mode: "plain" (no TLS, no STARTTLS), "starttls" or "imaps", the last two with the
    certificate made by make_cert() in the server's directory (self.cert, self.key)."""

    def __init__(self, port=None, mode="starttls"):
        self.dir = tempfile.mkdtemp(prefix="plantao-dovecot-")
        self.port = port or free_port()
        self.user = "alertas"
        self.password = secrets.token_hex(8)
        self.proc = None
        self.mode = mode
        self.logins = 0  # successful logins of the test's own clients (client())
        self.cert = self.key = None
        if mode != "plain":
            os.mkdir(os.path.join(self.dir, "tls"))
            self.cert, self.key = make_cert(os.path.join(self.dir, "tls"))

    @property
    def url(self):
        return "%s://127.0.0.1:%d/INBOX" % ("imaps" if self.mode == "imaps" else "imap", self.port)

    def start(self, timeout=10):
        log = open(os.path.join(self.dir, "start.log"), "ab")
        args = ["bash", START, self.dir, str(self.port), self.user, self.password]
        if self.mode != "plain":
            args += [self.mode, self.cert, self.key]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited with status %s\n%s" % (self.proc.returncode, self.log()))
            try:
                c = self.client()
                c.logout()
                return self
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.05)
        raise RuntimeError("dovecot did not answer on port %d\n%s" % (self.port, self.log()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # the port must be free again before a restart on it
        wait_until(lambda: self._port_free(), timeout=10, what="dovecot's port to close")

    def _port_free(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) != 0

    def close(self, keep=False):
        self.stop()
        if not keep and not os.environ.get("PLANTAO_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        out = []
        for name in ("start.log", "dovecot.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    out.append("---- %s\n%s" % (name, f.read().decode("utf-8", "replace")[-4000:]))
            except OSError:
                pass
        return "\n".join(out)

    def client(self):
        if self.mode == "plain":
            c = imaplib.IMAP4("127.0.0.1", self.port, timeout=5)
        else:
            ctx = ssl.create_default_context(cafile=self.cert)
            if self.mode == "imaps":
                c = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ctx, timeout=5)
            else:
                c = imaplib.IMAP4("127.0.0.1", self.port, timeout=5)
                c.starttls(ssl_context=ctx)
        c.login(self.user, self.password)
        self.logins += 1
        return c

    def dovecot_log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def deliver(self, raw):
        """APPENDs raw (str or bytes, LF or CRLF line ends) unseen to INBOX; returns its UID."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        c = self.client()
        try:
            typ, data = c.append("INBOX", None, None, raw)
            assert typ == "OK", data
            # "[APPENDUID <uidvalidity> <uid>] ..."
            return int(data[0].split(b"]")[0].split()[-1])
        finally:
            c.logout()

    def flags(self):
        """{uid: set of flags} of every message in INBOX."""
        c = self.client()
        try:
            c.select("INBOX", readonly=True)
            typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
            out = {}
            for item in data:
                if not item:
                    continue
                text = item.decode() if isinstance(item, bytes) else item[0].decode()
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                flags = text.split("FLAGS (")[1].split(")")[0].split()
                out[uid] = set(flags)
            return out
        finally:
            c.logout()

    def mark_unseen(self, uid):
        c = self.client()
        try:
            c.select("INBOX")
            c.uid("STORE", str(uid), "-FLAGS", "(\\Seen)")
        finally:
            c.logout()


def mail(subject, body, sender=MONITOR, headers=None, msgid=None):
    head = ["From: Monitor <%s>" % sender if sender == MONITOR else "From: %s" % sender,
            "To: alertas@example.com",
            "Subject: %s" % subject,
            "Date: Mon, 23 Nov 2026 10:00:00 -0300",
            "Message-ID: <%s>" % (msgid or "%s@monitor.example.com" % secrets.token_hex(6)),
            "MIME-Version: 1.0"]
    head += headers or ["Content-Type: text/plain; charset=utf-8"]
    return "\n".join(head) + "\n\n" + body


QP_BODY = ("A replica=C3=A7=C3=A3o do banco db1 parou =C3=A0s 10:00.\n"
           "Verifique o espa=C3=A7o em disco e reinicie o servi=\n"
           "=C3=A7o.\n")
B64_TEXT = "Backup noturno falhou: c\u00f3digo 2 em /srv/backup \u2014 ver log.\n"
B64_BODY = "\n".join(base64.b64encode(B64_TEXT.encode()).decode()[i:i + 20]
                     for i in range(0, len(base64.b64encode(B64_TEXT.encode())), 20)) + "\n"
SNOW_SUBJECT = "ALERTA: temperatura alta na sala \u2603 (41 \u00baC)"
ALTERNATIVE = ("preamble\n"
               "--b1\n"
               "Content-Type: text/html; charset=utf-8\n\n"
               "<p>vers\u00e3o HTML</p>\n"
               "--b1\n"
               "Content-Type: text/plain; charset=iso-8859-1\n"
               "Content-Transfer-Encoding: quoted-printable\n\n"
               "Fila de e-mails parada h=E1 30 min\n"
               "--b1--\n")


@unittest.skipUnless(dovecot_installed(), "dovecot is not installed: `scripts/deps test` installs dovecot-imapd")
class ImapTest(IntegrationTest):
    """A dovecot per test in `dovecot_mode` (None: the test starts its own with dovecot_now)."""
    start_plantao = False
    dovecot_mode = "starttls"

    def setUp(self):
        super().setUp()
        self.dovecot = None
        if self.dovecot_mode:
            self.dovecot_now(self.dovecot_mode)

    def dovecot_now(self, mode):
        self.dovecot = Dovecot(mode=mode)
        self.addCleanup(self._finish_dovecot, self.dovecot)
        return self.dovecot.start()

    def _finish_dovecot(self, d):
        ok = self._test_ok()
        if not ok:
            print("\n%s\n---- kept %s" % (d.log(), d.dir))
        d.close(keep=not ok)

    def start_with_imap(self, password=None, **env):
        """plantao reading the test's dovecot at the default TLS rule, trusting its certificate."""
        d = self.dovecot
        merged = {
            "PLANTAO_IMAP_URL": d.url,
            "PLANTAO_IMAP_USER": d.user,
            "PLANTAO_IMAP_PASSWORD": password or d.password,
            "PLANTAO_IMAP_FROM": MONITOR,
            "PLANTAO_IMAP_SUBJECT": "ALERTA",
            "PLANTAO_IMAP_INTERVAL": "1",
            "PLANTAO_IMAP_CA_FILE": d.cert,
        }
        merged.update(env)
        return self.start_plantao_now(merged)

    def alerts(self):
        return self.api_ok("GET", "/api/alerts?limit=100")["alerts"]

    def imap_alerts(self):
        """Alerts from e-mail, oldest first, each read in full (the list leaves details out)."""
        ids = sorted(a["id"] for a in self.alerts() if a.get("source") == "imap")
        return [self.api_ok("GET", "/api/alerts/%d" % i) for i in ids]

    def wait_alerts(self, n, timeout=15):
        return wait_until(lambda: len(self.imap_alerts()) >= n and self.imap_alerts(), timeout=timeout,
                          what="%d alert(s) from e-mail" % n)

    def log_lines(self, needle, level="WARN"):
        return [l for l in self.plantao.log_text().splitlines() if needle in l and (" %s " % level) in l]



class TestImap(ImapTest):
    """Alert e-mail from a dovecot that offers STARTTLS."""

    def test_mail_becomes_alerts_decoded_and_seen(self):
        d = self.dovecot
        qp = d.deliver(mail("ALERTA disco cheio em db1", QP_BODY, msgid="qp-1@monitor.example.com",
                            headers=["Content-Type: text/plain; charset=\"utf-8\"",
                                     "Content-Transfer-Encoding: quoted-printable"]))
        b64 = d.deliver(mail("ALERTA backup", B64_BODY,
                             headers=["Content-Type: text/plain; charset=UTF-8",
                                      "Content-Transfer-Encoding: base64"]))
        words = d.deliver(mail("=?UTF-8?B?%s?=" % base64.b64encode(SNOW_SUBJECT.encode()).decode(),
                               "Sensor 3 passou do limite.\n"))
        alt = d.deliver(mail("[ALERTA] fila parada", ALTERNATIVE,
                             headers=["Content-Type: multipart/alternative; boundary=\"b1\""]))
        other = d.deliver(mail("ALERTA falso", "de outro remetente\n", sender="someone@example.net"))
        weekly = d.deliver(mail("Relat\u00f3rio semanal", "nada de alerta no assunto\n"))

        self.start_with_imap()
        got = self.wait_alerts(4)
        by_summary = {a["summary"]: a for a in got}
        self.assertEqual(set(by_summary), {"ALERTA disco cheio em db1", "ALERTA backup", SNOW_SUBJECT,
                                           "[ALERTA] fila parada"})
        first = by_summary["ALERTA disco cheio em db1"]
        self.assertEqual(first["details"],
                         "A replica\u00e7\u00e3o do banco db1 parou \u00e0s 10:00.\n"
                         "Verifique o espa\u00e7o em disco e reinicie o servi\u00e7o.")
        self.assertEqual(first["dedup_key"], "mail:qp-1@monitor.example.com")
        self.assertEqual(first["hits"], 1)
        self.assertEqual(by_summary["ALERTA backup"]["details"], B64_TEXT.strip())
        self.assertEqual(by_summary[SNOW_SUBJECT]["details"], "Sensor 3 passou do limite.")
        self.assertEqual(by_summary["[ALERTA] fila parada"]["details"], "Fila de e-mails parada h\u00e1 30 min")

        flags = wait_until(lambda: (lambda f: all("\\Seen" in f[u] for u in (qp, b64, words, alt)) and f)(
            d.flags()), timeout=5, what="\\Seen on the four alert mails")
        self.assertNotIn("\\Seen", flags[other], "mail from another sender must be left alone")
        self.assertNotIn("\\Seen", flags[weekly], "mail with another subject must be left alone")

        # later polls find nothing new
        time.sleep(2.5)
        self.assertEqual(len(self.imap_alerts()), 4)
        self.assertTrue(all(a["hits"] == 1 for a in self.imap_alerts()))
        self.assertEqual(self.log_lines("imap:"), [], "a healthy mailbox logs no warning")

    def test_mail_read_again_folds_into_the_same_alert(self):
        # What a crash between the alert and \Seen leaves behind is the same mail unseen again.
        # Dedup folds only into an open alert, so somebody must be paged and take this one.
        d = self.dovecot
        self.start_with_imap(**PAGER_ENV)
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA})["id"]
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": ana, "timeout_s": 30}], "rounds": 1})
        self.sim.phone(ANA).answers(digits="1")
        uid = d.deliver(mail("ALERTA replica\u00e7\u00e3o", "texto\n", msgid="again-1@monitor.example.com"))
        first = self.wait_alerts(1)[0]
        # with the outbox sender in the build Ana is texted, called and takes it; without it the
        # alert waits, triggered, on its first call: open either way
        sender = self.api("POST", "/twilio/status/call", token=None)[0] != 404
        if sender:
            self.sim.expect_sms(ANA, containing="Alerta %d:" % first["id"])
            self.sim.expect_call(ANA)
            self.sim.expect_sms(ANA, containing="assumido")
        status = "acknowledged" if sender else "triggered"
        wait_until(lambda: self.imap_alerts()[0]["status"] == status, timeout=10, what="alert " + status)
        wait_until(lambda: "\\Seen" in d.flags()[uid], timeout=5, what="\\Seen")

        d.mark_unseen(uid)
        wait_until(lambda: self.imap_alerts()[0]["hits"] == 2, timeout=10, what="the second read to fold")
        again = self.imap_alerts()
        self.assertEqual([a["id"] for a in again], [first["id"]])
        self.assertEqual(again[0]["status"], status)
        wait_until(lambda: "\\Seen" in d.flags()[uid], timeout=5, what="\\Seen again")
        self.sim.assert_quiet(1.0)  # nobody paged twice

    def test_server_down_is_logged_once_then_mail_is_picked_up(self):
        d = self.dovecot
        self.start_with_imap()
        time.sleep(1.5)  # a first poll on a healthy server: the connection is kept
        d.stop()
        time.sleep(3.5)  # about three polls against a closed port
        self.assertTrue(self.plantao.running())
        self.assertEqual(self.api("GET", "/healthz?live", token=None)[0], 200)
        failures = self.log_lines("imap: SEARCH failed")
        self.assertEqual(len(failures), 1, "one warning per failure streak, got:\n%s" % "\n".join(failures))

        d.start()
        d.deliver(mail("ALERTA voltou", "servidor de e-mail voltou\n"))
        got = self.wait_alerts(1)
        self.assertEqual(got[0]["summary"], "ALERTA voltou")
        self.assertEqual(got[0]["details"], "servidor de e-mail voltou")
        self.assertEqual(len(self.log_lines("imap: the mailbox answers again", "INFO")), 1)

    def test_wrong_password_is_logged_and_not_fatal(self):
        d = self.dovecot
        uid = d.deliver(mail("ALERTA senha", "nunca lido\n"))
        self.start_with_imap(password="wrong-" + d.password)
        time.sleep(3.5)
        self.assertTrue(self.plantao.running())
        self.assertEqual(self.api("GET", "/healthz?live", token=None)[0], 200)
        denied = self.log_lines("login denied")
        self.assertEqual(len(denied), 1, "one warning per failure streak, got:\n%s" % "\n".join(denied))
        self.assertNotIn("wrong-" + d.password, self.plantao.log_text(), "the password must never be logged")
        self.assertEqual(self.imap_alerts(), [])
        self.assertNotIn("\\Seen", d.flags()[uid])

    def test_large_mail_is_cut_and_noted(self):
        d = self.dovecot
        line = "x" * 998 + "\n"
        body = "linha inicial\n" + line * 1200  # ~1.2 MB, over the 1 MiB read
        d.deliver(mail("ALERTA grande", body, msgid="big-1@monitor.example.com"))
        # one 300 KB line of HTML (no line breaks at all) after a short text
        html = "<html><body><p>in\u00edcio</p><p>" + "y " * 150000 + "</p></body></html>"
        d.deliver(mail("ALERTA html longo", html, msgid="big-2@monitor.example.com",
                       headers=["Content-Type: text/html; charset=utf-8"]))
        self.start_with_imap()
        got = self.wait_alerts(2)
        big, long_html = got
        self.assertEqual(big["summary"], "ALERTA grande")
        self.assertTrue(big["details"].startswith("linha inicial\nxxx"))
        self.assertTrue(big["details"].endswith("\n[mensagem truncada]"), big["details"][-80:])
        self.assertEqual(len(big["details"]), 4000 + len("\n[mensagem truncada]"))
        self.assertTrue(long_html["details"].startswith("in\u00edcio\n\ny y y"), long_html["details"][:40])
        self.assertTrue(long_html["details"].endswith("[mensagem truncada]"))
        self.assertEqual(self.log_lines("imap:"), [], "read without the fallback and without trouble")

    def test_mail_mimicking_the_protocol_is_read_whole(self):
        # lines that look like the end of libcurl's own FETCH command (its tags are A001, A002,
        # ...) cut the response-line stream short: plantao notices and reads the mail again
        # with libcurl's framed fetch
        d = self.dovecot
        fake = "".join("A%03d OK Fetch completed.\n" % i for i in range(1, 120))
        uid = d.deliver(mail("ALERTA protocolo", "antes\n" + fake + "depois\n", msgid="proto-1@x"))
        self.start_with_imap()
        got = self.wait_alerts(1)[0]
        self.assertTrue(got["details"].startswith("antes\nA001 OK Fetch completed.\nA002 OK"), got["details"][:60])
        self.assertTrue(got["details"].endswith("A119 OK Fetch completed.\ndepois"), got["details"][-60:])
        self.assertEqual(got["hits"], 1)
        wait_until(lambda: "\\Seen" in d.flags()[uid], timeout=5, what="\\Seen")
        self.assertEqual(len(self.log_lines("ended inside the mail")), 1)

    def test_subject_filter_with_accents(self):
        # 8-bit criteria go out as SEARCH CHARSET UTF-8; the server matches decoded subjects
        d = self.dovecot
        hit = d.deliver(mail("=?UTF-8?Q?Replica=C3=A7=C3=A3o_parou?=", "db1\n"))
        miss = d.deliver(mail("Replicacao parou", "sem acento\n"))
        self.start_with_imap(PLANTAO_IMAP_SUBJECT="Replica\u00e7\u00e3o", PLANTAO_IMAP_FROM=None)
        got = self.wait_alerts(1)
        self.assertEqual([a["summary"] for a in got], ["Replica\u00e7\u00e3o parou"])
        wait_until(lambda: "\\Seen" in d.flags()[hit], timeout=5, what="\\Seen")
        self.assertNotIn("\\Seen", d.flags()[miss])



class TestHeartbeatMail(ImapTest):
    """A job that can only send mail reports to its heartbeat monitor by e-mail: the secret in
    the subject makes the mail that monitor's ping (a failure when the subject says so), never
    an alert of its own."""

    def test_mail_with_a_monitors_secret_is_its_ping(self):
        self.start_with_imap()
        status, m, _ = self.api("POST", "/api/monitors",
                                json={"kind": "heartbeat", "name": "etl", "period_s": 3600, "grace_s": 600})
        self.assertEqual(status, 201, m)
        secret = m["ping_url"].rsplit("/", 1)[1]
        d = self.dovecot
        ok = d.deliver(mail("ALERTA etl %s" % secret, "linhas: 1200\n"))
        fail = d.deliver(mail("ALERTA etl falha %s" % secret.upper(), "erro na carga\n"))
        other = d.deliver(mail("ALERTA disco cheio", "db1\n"))

        pings = wait_until(lambda: (lambda p: p if len(p) >= 2 else None)(
            self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"]), timeout=15, what="two e-mail pings")
        self.assertEqual(sorted((p["kind"], p["method"]) for p in pings), [("fail", "EMAIL"), ("success", "EMAIL")])
        self.assertIn("erro na carga", [p for p in pings if p["kind"] == "fail"][0]["body"])
        got = self.wait_alerts(1)
        # the ordinary alert mail still became an alert; the pings did not
        self.assertEqual([a["summary"] for a in got], ["ALERTA disco cheio"])
        wait_until(lambda: all("\\Seen" in d.flags().get(u, set()) for u in (ok, fail, other)), timeout=15,
                   what="every mail marked seen")


class TestImapTls(ImapTest):
    """The password travels only inside TLS."""
    dovecot_mode = None

    def login_lines(self, d):
        return [l for l in d.dovecot_log().splitlines() if "Login: user=<" in l]

    def logins_so_far(self, d):
        """The login lines once every login of the test's own clients is among them: dovecot's
        log process writes a line a moment after the login, not before the client goes on."""
        return wait_until(lambda: (lambda l: l if len(l) >= d.logins else None)(self.login_lines(d)),
                          timeout=10, what="dovecot to log the test's own %d login(s)" % d.logins)

    def test_imaps_with_a_certificate_made_here(self):
        d = self.dovecot_now("imaps")
        uid = d.deliver(mail("ALERTA imaps", "por TLS desde o primeiro byte\n"))
        self.start_with_imap()
        got = self.wait_alerts(1)
        self.assertEqual([(a["summary"], a["details"]) for a in got],
                         [("ALERTA imaps", "por TLS desde o primeiro byte")])
        wait_until(lambda: "\\Seen" in d.flags()[uid], timeout=5, what="\\Seen")
        logins = self.login_lines(d)
        self.assertTrue(logins and all("TLS" in l for l in logins), logins)
        self.assertEqual(self.log_lines("imap:"), [], "a healthy mailbox logs no warning")

    def test_starttls_login_is_inside_tls(self):
        d = self.dovecot_now("starttls")
        d.deliver(mail("ALERTA starttls", "depois do STARTTLS\n"))
        self.start_with_imap()
        self.assertEqual(self.wait_alerts(1)[0]["summary"], "ALERTA starttls")
        logins = self.login_lines(d)
        # dovecot's own clients (deliver, flags) log in over STARTTLS too: every login is in TLS
        self.assertTrue(logins and all("TLS" in l for l in logins), logins)

    def test_untrusted_certificate_is_refused_and_logged(self):
        d = self.dovecot_now("imaps")
        uid = d.deliver(mail("ALERTA certificado", "nunca lido\n"))
        n_logins = len(self.logins_so_far(d))
        self.start_with_imap(PLANTAO_IMAP_CA_FILE=None)
        failed = wait_until(lambda: self.log_lines("imap: SEARCH failed"), timeout=10, what="the warning")
        time.sleep(2.5)  # more polls: still one warning for the streak
        self.assertEqual(len(self.log_lines("imap: SEARCH failed")), 1, failed)
        self.assertIn("PLANTAO_IMAP_CA_FILE", failed[0])
        self.assertTrue(self.plantao.running())
        self.assertEqual(self.imap_alerts(), [])
        self.assertNotIn("\\Seen", d.flags()[uid])
        self.assertEqual(len(self.logins_so_far(d)), n_logins + 1, "only the test's own flags() logged in")

    def test_server_without_tls_never_gets_the_password(self):
        # The failure story: a server that does not offer STARTTLS (or a man in the middle who
        # strips it) was sent AUTHENTICATE PLAIN with the password in clear text.
        d = self.dovecot_now("plain")
        uid = d.deliver(mail("ALERTA texto claro", "nunca lido\n"))
        n_logins = len(self.logins_so_far(d))
        self.start_with_imap()
        # dovecot sees plantao connect, ask for CAPABILITY and leave without any login attempt
        wait_until(lambda: "no auth attempts" in d.dovecot_log() or len(self.login_lines(d)) > n_logins,
                   timeout=10, what="plantao's first connection to end or log in")
        self.assertEqual(self.login_lines(d)[n_logins:], [], "plantao sent the password without TLS")
        refused = wait_until(lambda: self.log_lines("offers no STARTTLS"), timeout=10, what="the warning")
        time.sleep(2.5)  # more polls
        self.assertEqual(len(self.log_lines("offers no STARTTLS")), 1, refused)
        self.assertIn("PLANTAO_IMAP_INSECURE=1", refused[0])
        self.assertEqual(len(self.login_lines(d)), n_logins, "plantao logged in without TLS")
        self.assertNotIn("auth failed", d.dovecot_log())
        self.assertTrue(self.plantao.running())
        self.assertEqual(self.imap_alerts(), [])
        self.assertNotIn("\\Seen", d.flags()[uid])

    def test_insecure_opt_in_reads_a_server_without_tls(self):
        d = self.dovecot_now("plain")
        d.deliver(mail("ALERTA sem TLS", "permitido de propósito\n"))
        self.start_with_imap(PLANTAO_IMAP_INSECURE="1", PLANTAO_IMAP_CA_FILE=None)
        self.assertEqual(self.wait_alerts(1)[0]["summary"], "ALERTA sem TLS")
        self.assertEqual(len(self.log_lines("PLANTAO_IMAP_INSECURE=1: the password goes in clear text")), 1)


if __name__ == "__main__":
    unittest.main()
