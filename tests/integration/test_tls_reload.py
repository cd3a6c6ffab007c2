"""
tests/integration/test_tls_reload.py — a renewed TLS certificate is taken on SIGHUP (issue 14,
item 1), without a restart and without dropping the port.

The story: plantao serves HTTPS itself (PLANTAO_TLS_CERT/PLANTAO_TLS_KEY) with certificate A; the
renewal job writes certificate B over the same files and sends SIGHUP (systemctl reload). New
connections get B; a connection opened before (keep-alive) goes on with its request answered.
Then a renewal goes wrong — the certificate is written with a key that is not its own, then a
file is cut short: plantao keeps B, logs an ERROR, and goes on serving.
"""

import http.client
import os
import signal
import ssl
import subprocess
import time

from harness import IntegrationTest, Plantao, wait_until


def make_cert(directory, name):
    """A self-signed certificate for 127.0.0.1 named CN=name: (cert.pem, key.pem) paths."""
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return cert, key


def make_expired_cert(directory, name):
    """A self-signed certificate for 127.0.0.1 that expired yesterday (the openssl command line
    cannot date one in the past): (cert.pem, key.pem) paths."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def install(src, dest):
    """Writes src over dest as a renewal job does (a new file renamed into place)."""
    with open(src, "rb") as f:
        data = f.read()
    with open(dest + ".new", "wb") as f:
        f.write(data)
    os.replace(dest + ".new", dest)


class TestTlsReload(IntegrationTest):
    start_plantao = False

    def connect(self, port):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # self-signed; the test compares the certificate itself
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        c.connect()
        self.addCleanup(c.close)
        return c

    def get(self, c):
        c.request("GET", "/healthz?live")
        r = c.getresponse()
        r.read()
        return r.status

    def served_cert(self, port):
        c = self.connect(port)
        der = c.sock.getpeercert(binary_form=True)
        self.assertEqual(self.get(c), 200)
        return der

    def wait_log(self, p, text, after):
        return wait_until(lambda: text in p.log_text()[after:], timeout=20, what="'%s' in the log" % text)

    def test_sighup_serves_the_renewed_certificate_and_keeps_a_good_one_over_a_bad_one(self):
        p = Plantao(self.sim)
        self.addCleanup(self._finish_plantao, p)
        self.plantao = p
        tls = os.path.join(p.tmp, "tls")
        os.mkdir(tls)
        a_cert, a_key = make_cert(tls, "plantao-a")
        b_cert, b_key = make_cert(tls, "plantao-b")
        cert, key = os.path.join(tls, "cert.pem"), os.path.join(tls, "key.pem")
        install(a_cert, cert)
        install(a_key, key)
        with open(os.path.join(p.tmp, ".env"), "w") as f:
            f.write("# settings live in the environment of this test\n")
        p.env.update({"PLANTAO_TLS_CERT": cert, "PLANTAO_TLS_KEY": key,
                      "PLANTAO_PUBLIC_URL": "https://127.0.0.1:%d" % p.port})
        p.start(wait=False)
        wait_until(lambda: p.running() and self._answers(p.port), timeout=20, what="plantao answering HTTPS")
        self.assertEqual(self.served_cert(p.port), der_of(a_cert))

        # a client holds a keep-alive connection made with certificate A
        old = self.connect(p.port)
        self.assertEqual(old.sock.getpeercert(binary_form=True), der_of(a_cert))
        self.assertEqual(self.get(old), 200)

        # the renewal: B over the same files, then SIGHUP
        install(b_key, key)
        install(b_cert, cert)
        mark = len(p.log_text())
        p.proc.send_signal(signal.SIGHUP)
        self.wait_log(p, "TLS certificate", mark)
        wait_until(lambda: self.served_cert(p.port) == der_of(b_cert), timeout=20,
                   what="a new connection served certificate B")
        # the connection made before goes on: its next request is answered, still over A
        self.assertEqual(self.get(old), 200)
        self.assertEqual(old.sock.getpeercert(binary_form=True), der_of(a_cert))
        self.assertTrue(p.running())

        # a renewal gone wrong: A's certificate with B's key — kept B, ERROR
        install(a_cert, cert)
        mark = len(p.log_text())
        p.proc.send_signal(signal.SIGHUP)
        self.wait_log(p, "ERROR", mark)
        line = [x for x in p.log_text()[mark:].splitlines() if "ERROR" in x][0]
        self.assertIn(cert, line)
        self.assertIn("is not the key of", line)
        self.assertIn("still get the one loaded before (CN=plantao-b", line)
        time.sleep(0.5)  # the reload is done once its line is written; nothing may change after it
        self.assertEqual(self.served_cert(p.port), der_of(b_cert))

        # a certificate file cut short: kept B, ERROR
        with open(b_cert) as f:
            pem = f.read()
        with open(cert, "w") as f:
            f.write(pem[: len(pem) // 2])
        install(b_key, key)
        mark = len(p.log_text())
        p.proc.send_signal(signal.SIGHUP)
        self.wait_log(p, "ERROR", mark)
        self.assertEqual(self.served_cert(p.port), der_of(b_cert))
        self.assertEqual(self.get(old), 200)

        # an old, expired certificate put back by mistake: kept B, ERROR
        try:
            x_cert, x_key = make_expired_cert(tls, "plantao-expired")
        except ImportError:
            self.skipTest("python3-cryptography is missing (scripts/deps installs it): expired case not run")
        install(x_key, key)
        install(x_cert, cert)
        mark = len(p.log_text())
        p.proc.send_signal(signal.SIGHUP)
        self.wait_log(p, "ERROR", mark)
        line = [x for x in p.log_text()[mark:].splitlines() if "ERROR" in x][0]
        self.assertIn("CN=plantao-expired expired at", line)
        self.assertEqual(self.served_cert(p.port), der_of(b_cert))

    def _answers(self, port):
        try:
            return self.served_cert(port) is not None
        except (OSError, ssl.SSLError, http.client.HTTPException):
            return False
