"""
tests/integration/test_email.py — the e-mail channel (issue 15) against a real SMTP server that
the tests start: tests/smtp/server.py (Debian's python3-aiosmtpd), which writes every message it
accepts to a directory read back here with Python's e-mail parser.

plantao runs at its DEFAULT e-mail configuration: smtp:// with STARTTLS required (the server
offers it with a certificate each test makes with openssl and plantao trusts through
PLANTAO_SMTP_CA_FILE) and AUTH with a user and password. Faults are the ones of life: the SMTP
server down and back, a server that refuses the password, one that offers no STARTTLS, and
plantao killed with kill -9 while an e-mail is on the wire, before and after the server has the
whole message. Sales managers with an e-mail get the summary of each month once it is over.
"""

import datetime
import email
import email.policy
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ROOT, IntegrationTest, binary_path, free_port, wait_until  # noqa: E402
from test_imap import make_cert  # noqa: E402

SERVER = os.path.join(ROOT, "tests", "smtp", "server.py")
PYTHON = "/usr/bin/python3"  # Debian's, which has python3-aiosmtpd
ANA, BRUNO = "+5511990000001", "+5511990000002"
ANA_MAIL = "ana.souza@example.com"
CUSTOMER = "+5521988887777"
FROM = "plantao@example.com"


def aiosmtpd_installed():
    return subprocess.run([PYTHON, "-c", "import aiosmtpd"], capture_output=True).returncode == 0


class SmtpServer:
    """One throw-away SMTP server on loopback. start() with options of tests/smtp/server.py;
    stop() and start() again keep the port and the mailbox."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="plantao-smtp-")
        self.box = os.path.join(self.dir, "box")
        os.mkdir(os.path.join(self.dir, "tls"))
        self.cert, self.key = make_cert(os.path.join(self.dir, "tls"))
        self.port = free_port()
        self.user = "plantao"
        self.password = secrets.token_hex(8)
        self.proc = None

    def start(self, *extra, tls="starttls"):
        self.stop()
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen([PYTHON, SERVER, "--port", str(self.port), "--dir", self.box, "--tls", tls,
                                      "--cert", self.cert, "--key", self.key, "--user", self.user,
                                      "--password", self.password] + list(extra),
                                     stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        line = self.proc.stdout.readline()
        if b"ready" not in line:
            raise RuntimeError("the SMTP server did not start: %s" % self.log())
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def messages(self):
        """[(message, envelope)] in arrival order."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.box, "*.eml"))):
            with open(path, "rb") as f:
                msg = email.message_from_bytes(f.read(), policy=email.policy.default)
            with open(path[:-4] + ".json") as f:
                out.append((msg, json.load(f)))
        return out

    def env(self):
        return {"PLANTAO_SMTP_URL": "smtp://127.0.0.1:%d" % self.port, "PLANTAO_SMTP_USER": self.user,
                "PLANTAO_SMTP_PASSWORD": self.password, "PLANTAO_SMTP_FROM": FROM,
                "PLANTAO_SMTP_CA_FILE": self.cert}


class EmailTest(IntegrationTest):
    start_plantao = False
    smtp_args = ()
    smtp_tls = "starttls"
    smtp_running = True

    def setUp(self):
        if not aiosmtpd_installed():
            self.skipTest("python3-aiosmtpd is not installed (scripts/deps test installs it)")
        super().setUp()
        self.smtp = SmtpServer()
        self.addCleanup(self.smtp.close)
        if self.smtp_running:
            self.smtp.start(*self.smtp_args, tls=self.smtp_tls)
        self.start_plantao_now(self.smtp.env())
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana Souza", "phone": ANA,
                                                             "email": ANA_MAIL})["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana]})

    def _finish_plantao(self, p):
        if not self._test_ok():
            sys.stderr.write("\n---- SMTP server log\n%s\n" % self.smtp.log())
        super()._finish_plantao(p)

    def trigger(self, summary, details=None, severity="warning"):
        body = {"summary": summary, "severity": severity}
        if details:
            body["details"] = details
        status, body, _ = self.api("POST", "/api/alerts", json=body)
        self.assertEqual(status, 202, body)
        return body["id"]

    def mail_rows(self):
        return [r for r in self.api_ok("GET", "/api/outbox")["outbox"] if r["kind"] == "email"]

    def wait_mails(self, n, timeout=30):
        return wait_until(lambda: (lambda m: m if len(m) >= n else None)(self.smtp.messages()), timeout=timeout,
                          what="%d e-mail(s) in the mailbox" % n)

    def wait_row(self, status, timeout=30):
        return wait_until(lambda: (lambda r: r[0] if r and r[0]["status"] == status else None)(self.mail_rows()),
                          timeout=timeout, what="the e-mail row %s" % status)

    def settle(self, seconds=3):
        """Lets the mailer run several turns (it runs every 0.5 s) and the engine tick."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.25)


class TestPageByEmail(EmailTest):

    def test_a_page_reaches_the_mailbox_with_its_subject_and_both_parts(self):
        aid = self.trigger("Relatório diário não gerado — ação necessária",
                           details="Job <b>etl-vendas</b> & \"cron\" falhou às 06:00\nVerifique o servidor")
        self.sim.expect_sms(ANA, containing="Relatório diário não gerado")
        (msg, envelope), = self.wait_mails(1)
        self.assertEqual(str(msg["Subject"]), "Alerta %d: Relatório diário não gerado — ação necessária" % aid)
        self.assertIn("=?UTF-8?B?", msg.as_string().split("\n\n", 1)[0])  # RFC 2047 on the wire
        self.assertEqual(envelope["rcpt_tos"], [ANA_MAIL])
        self.assertEqual(envelope["mail_from"], FROM)
        self.assertEqual(envelope["login"], self.smtp.user)
        self.assertTrue(envelope["tls"], "the password and the page went over STARTTLS")
        self.assertEqual(msg["To"].addresses[0].addr_spec, ANA_MAIL)
        self.assertEqual(msg["From"].addresses[0].addr_spec, FROM)
        self.assertEqual(msg["From"].addresses[0].display_name, "Plantão")
        self.assertTrue(msg["Date"])
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        self.assertEqual(msg["Content-Language"], "pt-BR")
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        self.assertIn("Relatório diário não gerado — ação necessária", text)
        self.assertIn("Job <b>etl-vendas</b> & \"cron\" falhou às 06:00", text)
        self.assertIn("Olá, Ana Souza.", text)
        self.assertIn("ack %d" % aid, text)
        self.assertIn("Job &lt;b&gt;etl-vendas&lt;/b&gt; &amp; &quot;cron&quot; falhou às 06:00", html)
        self.assertNotIn("<b>etl-vendas", html)
        row = self.wait_row("sent")
        self.assertEqual(row["sid"], msg["Message-ID"], "the Message-ID is kept with the row")
        self.assertEqual(row["to"], ANA_MAIL)
        self.settle()
        self.assertEqual(len(self.smtp.messages()), 1, "one e-mail per alert and person")
        # the deliveries list (console's Envios) shows the e-mail by its subject, to Ana
        [listed] = self.api_ok("GET", "/api/outbox?kind=email")["outbox"]
        self.assertEqual(listed["body"], str(msg["Subject"]))
        self.assertEqual((listed["person_id"], listed["person_name"]), (self.ana, "Ana Souza"))
        self.assertIn(listed["id"], [r["id"] for r in self.api_ok("GET", "/api/outbox?person=%d" % self.ana)["outbox"]])

    def test_a_person_with_email_pages_off_gets_texts_only(self):
        self.assertIs(self.api_ok("GET", "/api/people/%d" % self.ana)["email_pages"], True)
        self.api_ok("PATCH", "/api/people/%d" % self.ana, json={"email_pages": False})
        self.assertIs(self.api_ok("GET", "/api/people/%d" % self.ana)["email_pages"], False)
        status, body, _ = self.api("PATCH", "/api/people/%d" % self.ana, json={"email_pages": "no"})
        self.assertEqual(status, 422, body)
        self.trigger("fila de pagamentos parada")
        self.sim.expect_sms(ANA, containing="fila de pagamentos parada")
        self.settle()
        self.advance(120)
        self.settle()
        self.assertEqual(self.smtp.messages(), [])
        self.assertEqual(self.mail_rows(), [])
        # on again: the next page goes by e-mail too
        self.api_ok("PATCH", "/api/people/%d" % self.ana, json={"email_pages": True})
        aid = self.trigger("backup atrasado")
        self.sim.expect_sms(ANA, containing="backup atrasado", timeout=90)
        (msg, _), = self.wait_mails(1)
        self.assertEqual(str(msg["Subject"]), "Alerta %d: backup atrasado" % aid)

    def test_a_person_without_email_gets_no_email(self):
        self.api_ok("PATCH", "/api/people/%d" % self.ana, json={"email": None})
        self.trigger("certificado expira amanhã")
        self.sim.expect_sms(ANA, containing="certificado expira amanhã")
        self.settle()
        self.assertEqual(self.smtp.messages(), [])
        self.assertEqual(self.mail_rows(), [])


class TestMailRefusedByTheDatabase(EmailTest):

    def metric(self, name):
        status, text, _ = self.api("GET", "/metrics", token=None)
        self.assertEqual(status, 200)
        return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(name + " "))

    def hold(self):
        """What a DBA's constraint does: the database refuses every e-mail's mail_messages row."""
        db = self.plantao.db
        if db.kind == "pg":
            db.execute("CREATE FUNCTION hold_mail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE "
                       "EXCEPTION 'e-mails held' USING ERRCODE = 'check_violation'; END $$")
            db.execute("CREATE TRIGGER hold_mail BEFORE INSERT ON mail_messages FOR EACH ROW EXECUTE FUNCTION "
                       "hold_mail()")
        else:
            db.execute("CREATE TRIGGER hold_mail BEFORE INSERT ON mail_messages BEGIN SELECT RAISE(ABORT, "
                       "'e-mails held'); END")

    def release(self):
        self.plantao.db.execute("DROP TRIGGER hold_mail" + (" ON mail_messages" if self.plantao.db.kind == "pg"
                                                             else ""))

    def test_a_page_email_the_database_refuses_is_a_warning_and_a_metric_then_goes_once(self):
        """The database refuses Ana's page e-mail (a constraint): the text still goes, and the
        e-mail that waits is not passed off as another instance's work at DEBUG: one warning
        naming the text, plantao_mail_held_total 1 (not one per turn). Once the database takes
        it, the e-mail goes, once."""
        self.hold()
        aid = self.trigger("fila de pedidos parada")
        self.sim.expect_sms(ANA, containing="fila de pedidos parada")
        lines = wait_until(lambda: [x for x in self.plantao.log_text().splitlines()
                                    if " WARN " in x and "refused the page e-mail" in x], what="a warning")
        self.assertIn("outbox 1:", lines[0])
        self.settle(2)  # several turns of the mailer: the same text is not warned about again
        self.assertEqual(len([x for x in self.plantao.log_text().splitlines() if "refused the page e-mail" in x]), 1)
        self.assertEqual(self.metric("plantao_mail_held_total"), 1)
        self.assertEqual(self.mail_rows(), [])
        self.release()
        (msg, _), = self.wait_mails(1)
        self.assertEqual(str(msg["Subject"]), "Alerta %d: fila de pedidos parada" % aid)
        self.wait_row("sent")
        self.settle(2)
        self.assertEqual(len(self.smtp.messages()), 1, "sent exactly once")

    def test_several_held_texts_are_each_warned_about_once(self):
        """Two of Ana's page texts (a minute apart, so not bundled) whose e-mails the database
        refuses: each is named in one warning and counted once, however many turns go by."""
        self.hold()
        self.trigger("fila de pedidos parada")
        self.sim.expect_sms(ANA, containing="fila de pedidos parada")
        wait_until(lambda: self.held_warnings(), what="the first text's warning")
        self.advance(61)
        self.trigger("disco cheio em db2")
        self.sim.expect_sms(ANA, containing="disco cheio em db2")
        wait_until(lambda: len(set(self.held_warnings())) >= 2, what="the second text's warning")
        self.settle(2)  # several turns of the mailer
        texts = self.held_warnings()
        self.assertEqual(len(texts), len(set(texts)), texts)
        self.assertEqual(self.metric("plantao_mail_held_total"), len(texts))
        self.release()
        self.wait_mails(2)
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True

    def held_warnings(self):
        """The outbox ids named by the "database refused" warnings, one per warning line."""
        return [x.split("outbox ", 1)[1].split(":", 1)[0] for x in self.plantao.log_text().splitlines()
                if " WARN " in x and "refused the page e-mail" in x]


class TestSmtpDown(EmailTest):
    smtp_running = False

    def test_the_text_goes_while_smtp_is_down_and_the_email_once_it_is_back(self):
        aid = self.trigger("disco cheio no db1")
        self.sim.expect_sms(ANA, containing="disco cheio no db1")  # the text does not wait for e-mail
        row = self.wait_row("retry")
        self.assertIn("could not connect to the SMTP server", row["error_message"])
        wait_until(lambda: [x for x in self.plantao.log_text().splitlines()
                            if "e-mail to a***@example.com not sent" in x and "WARN" in x], what="a warning")
        self.smtp.start()
        self.advance(61)  # a page is tried again at most a minute later
        (msg, _), = self.wait_mails(1)
        self.assertEqual(str(msg["Subject"]), "Alerta %d: disco cheio no db1" % aid)
        row = self.wait_row("sent")
        self.assertGreaterEqual(row["tries"], 2)
        for _ in range(3):
            self.advance(61)
            self.settle(1)
        self.assertEqual(len(self.smtp.messages()), 1, "sent exactly once")


class TestBadCredentials(EmailTest):
    smtp_args = ("--refuse-auth",)

    def test_a_refused_password_is_an_error_in_the_log_the_outbox_and_metrics(self):
        self.trigger("API de pedidos fora do ar")
        self.sim.expect_sms(ANA, containing="API de pedidos fora do ar")
        row = self.wait_row("retry")
        self.assertIn("refused the user name or password", row["error_message"])
        self.assertNotIn(self.smtp.password, self.plantao.log_text())
        line = wait_until(lambda: [x for x in self.plantao.log_text().splitlines()
                                   if "refused the user name or password" in x], what="the log line")[0]
        self.assertIn("ERROR", line)
        status, body, _ = self.api("GET", "/metrics", token=None)
        self.assertIn('plantao_smtp_errors_total{reason="auth"}', body if isinstance(body, str) else str(body))
        self.assertEqual(self.smtp.messages(), [])
        # a page e-mail that cannot go fails /healthz at once, as the e-mail channel, and is
        # neither Twilio's error nor a message "not yet accepted by Twilio"
        status, health, _ = self.api("GET", "/healthz?verbose", token=None)
        self.assertEqual(status, 503, health)
        self.assertEqual(health["components"]["smtp"]["status"], "failing", health)
        self.assertEqual(health["components"]["smtp"]["code"], "smtp_failing", health)
        self.assertNotIn(self.smtp.password, json.dumps(health))
        self.assertEqual(health["components"]["twilio"]["status"], "ok", health)
        self.advance(150)
        status, health, _ = self.api("GET", "/healthz?verbose", token=None)
        self.assertEqual(health["components"]["outbox"]["status"], "ok", health)
        self.assertEqual(health["components"]["smtp"]["status"], "failing", health)
        self.assertIn("plantao_smtp_errors_total E-mail sends that failed", str(body))


class TestTlsRequired(EmailTest):
    smtp_tls = "none"  # a server that offers no STARTTLS

    def test_no_email_goes_in_clear_text_unless_allowed(self):
        self.trigger("replicação parada no db2")
        self.sim.expect_sms(ANA, containing="replicação parada no db2")
        row = self.wait_row("retry")
        self.assertIn("does not offer STARTTLS", row["error_message"])
        self.assertEqual(self.smtp.messages(), [])
        line = wait_until(lambda: [x for x in self.plantao.log_text().splitlines() if "does not offer STARTTLS" in x],
                          what="the log line")[0]
        self.assertIn("ERROR", line)


class TestKill9(EmailTest):

    def test_killed_after_the_whole_message_went_it_is_not_sent_again(self):
        self.smtp.start("--stall-data", "60")
        self.trigger("servidor de arquivos sem espaço")
        self.sim.expect_sms(ANA, containing="servidor de arquivos sem espaço")
        self.wait_mails(1)  # the server has it; its answer is held back
        # the text's status callbacks must not meet the dead server (the simulator counts
        # that as an error): the kill waits until the simulator is done with them
        self.sim.wait_idle(timeout=30)
        self.plantao.kill9()
        self.smtp.start()
        self.plantao.restart()
        self.advance(120)  # past the attempt's deadline
        row = self.wait_row("undecided")
        self.assertIn("not sent again", row["error_message"])
        line = wait_until(lambda: [x for x in self.plantao.log_text().splitlines()
                                   if "undecided" in x and "outbox %d" % row["id"] in x], what="the log line")
        self.assertIn("ERROR", line[0])
        for _ in range(3):
            self.advance(61)
            self.settle(1)
        self.assertEqual(len(self.smtp.messages()), 1, "not sent twice")

    def test_killed_before_the_server_had_the_message_it_is_sent_once_after_restart(self):
        self.smtp.start("--stall-rcpt", "60")
        aid = self.trigger("fila do ETL parada")
        self.sim.expect_sms(ANA, containing="fila do ETL parada")
        wait_until(lambda: [r for r in self.mail_rows() if r["status"] == "sending"], what="the e-mail on the wire")
        self.settle(1)
        self.sim.wait_idle(timeout=30)  # the text's callbacks went through before the kill
        self.plantao.kill9()
        self.smtp.start()
        self.assertEqual(self.smtp.messages(), [])
        self.plantao.restart()
        self.advance(120)
        (msg, _), = self.wait_mails(1)
        self.assertEqual(str(msg["Subject"]), "Alerta %d: fila do ETL parada" % aid)
        self.wait_row("sent")
        for _ in range(3):
            self.advance(61)
            self.settle(1)
        self.assertEqual(len(self.smtp.messages()), 1)


class TestVoicemailByEmail(EmailTest):

    def test_a_voicemail_goes_to_the_on_call_person_by_email_with_its_link(self):
        self.sim.phone(ANA).does_not_answer()
        call = self.sim.incoming_call(CUSTOMER, record_seconds=9)
        self.sim.expect_call(ANA)
        self.sim.expect_sms(ANA, containing=CUSTOMER)
        (msg, envelope), = self.wait_mails(1)
        self.assertEqual(envelope["rcpt_tos"], [ANA_MAIL])
        self.assertEqual(str(msg["Subject"]), "Recado de %s na linha de suporte" % CUSTOMER)
        text = msg.get_body(("plain",)).get_content()
        self.assertIn(call.recordings[0]["url"], text)
        self.assertIn("9 s", text)
        self.assertIn('href="%s"' % call.recordings[0]["url"], msg.get_body(("html",)).get_content())


class TestConfiguration(IntegrationTest):
    start_plantao = False

    def test_bad_smtp_settings_stop_the_start_with_a_clear_message(self):
        for env, words in (({"PLANTAO_SMTP_URL": "http://mail.example.com"}, "PLANTAO_SMTP_URL: expected smtp://"),
                           ({"PLANTAO_SMTP_URL": "smtp://mail.example.com:587"}, "PLANTAO_SMTP_FROM: required"),
                           ({"PLANTAO_SMTP_URL": "smtp://u:secret@mail.example.com", "PLANTAO_SMTP_FROM": FROM},
                            "not in the URL"),
                           ({"PLANTAO_SMTP_FROM": FROM}, "PLANTAO_SMTP_URL: required")):
            with tempfile.TemporaryDirectory(prefix="plantao-smtpcfg-") as tmp:
                full = dict(os.environ, PLANTAO_DB=os.path.join(tmp, "x.db"))
                full.update(env)
                out = subprocess.run([binary_path(), "migrate"], env=full, capture_output=True, text=True,
                                     timeout=30, cwd=tmp)
            self.assertNotEqual(out.returncode, 0, env)
            self.assertIn(words, out.stdout + out.stderr)
            self.assertNotIn("secret", out.stdout + out.stderr)


class TestSalesSummary(EmailTest):

    def test_a_sales_manager_gets_the_summary_of_the_month_that_ended_once(self):
        now = datetime.datetime.now(zoneinfo.ZoneInfo("America/Sao_Paulo"))
        first = now.replace(day=1)
        last_month = first - datetime.timedelta(days=1)
        period = "%04d-%02d" % (last_month.year, last_month.month)
        names = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
                 "outubro", "novembro", "dezembro"]
        month = "%s/%04d" % (names[last_month.month - 1], last_month.year)
        self.api_ok("PUT", "/api/sales/settings", json={"notify": [ANA, BRUNO]})  # Bruno has no e-mail
        csv = "vendedor;valor\nEva Lima;60.000,00\nDiego Araújo;1.000,00\n".encode()
        status, body, _ = self.api("POST", "/api/sales?period=" + period, data=csv, headers={"Content-Type": "text/csv"})
        self.assertEqual(status, 201, body)
        # the month that is still going: no summary for it
        status, body, _ = self.api("POST", "/api/sales?period=%04d-%02d" % (now.year, now.month),
                                   data="vendedor;valor\nEva Lima;70.000,00\n".encode(),
                                   headers={"Content-Type": "text/csv"})
        self.assertEqual(status, 201, body)
        self.sim.expect_sms(ANA, containing="Eva Lima")
        self.sim.expect_sms(BRUNO, containing="Eva Lima")
        self.sim.expect_sms(ANA, containing="Eva Lima")
        self.sim.expect_sms(BRUNO, containing="Eva Lima")
        self.advance(61)  # the summary is looked for once a minute
        (msg, envelope), = self.wait_mails(1)
        self.assertEqual(envelope["rcpt_tos"], [ANA_MAIL])
        self.assertEqual(str(msg["Subject"]), "Resumo de vendas de %s" % month)
        text = msg.get_body(("plain",)).get_content()
        self.assertIn("Vendas de %s: 2 vendedores, total R$ 61.000,00. Meta: R$ 55.000,00." % month, text)
        self.assertIn("Acima da meta (1):\n- Eva Lima: R$ 60.000,00", text)
        self.assertIn("Abaixo da meta (1):\n- Diego Araújo: R$ 1.000,00", text)
        self.assertNotIn("70.000,00", text)
        for _ in range(2):
            self.advance(61)
            self.settle(1)
        self.assertEqual(len(self.smtp.messages()), 1, "once per month and manager")


class TestVoicemailTranscription(EmailTest):
    plantao_env = {"PLANTAO_LANG": "en"}  # Twilio transcribes English recordings only

    def voicemail(self, sid):
        params = {"CallSid": sid, "From": CUSTOMER, "To": "+15005550006", "CallStatus": "ringing"}
        self.assertEqual(self.plantao.webhook("/twilio/voice", params).status, 200)
        rec = dict(params, CallStatus="completed", RecordingUrl="https://api.twilio.com/rec/RE1",
                   RecordingSid="RE" + "1" * 32, RecordingDuration="12", Digits="hangup")
        self.assertEqual(self.plantao.webhook("/twilio/voice/voicemail", rec).status, 200)
        self.sim.expect_sms(ANA, containing=CUSTOMER)
        return params

    def test_the_email_waits_for_the_transcription(self):
        params = self.voicemail("CA" + "4" * 32)
        self.settle(2)
        self.assertEqual(self.smtp.messages(), [], "waiting for the transcription")
        tr = dict(params, TranscriptionText="my server is down, call me back", TranscriptionStatus="completed")
        self.assertEqual(self.plantao.webhook("/twilio/voice/transcription", tr).status, 200)
        (msg, _), = self.wait_mails(1)
        self.assertEqual(str(msg["Subject"]), "Voicemail from %s" % CUSTOMER)
        self.assertEqual(msg["Content-Language"], "en")
        text = msg.get_body(("plain",)).get_content()
        self.assertIn("Transcription:\nmy server is down, call me back", text)
        self.assertIn("https://api.twilio.com/rec/RE1", text)

    def test_without_a_transcription_the_email_goes_after_two_minutes(self):
        self.voicemail("CA" + "5" * 32)
        self.settle(2)
        self.assertEqual(self.smtp.messages(), [])
        self.advance(121)
        (msg, _), = self.wait_mails(1)
        self.assertIn("(no transcription)", msg.get_body(("plain",)).get_content())
