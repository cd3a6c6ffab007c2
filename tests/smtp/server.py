#!/usr/bin/python3
"""
tests/smtp/server.py — a real SMTP server for the e-mail tests (Debian's python3-aiosmtpd, run
with /usr/bin/python3, which has it), writing each message it accepts to a directory the test
reads back: NNNN.eml (the message as received) and NNNN.json (envelope: mail_from, rcpt_tos,
the login that authenticated, whether the session was under TLS), written atomically.

    server.py --port P --dir D [--tls starttls|smtps|none] [--cert C --key K]
              [--user U --password W] [--refuse-auth] [--stall-data S] [--stall-rcpt S]

--tls starttls (default): STARTTLS offered and required before MAIL and AUTH; smtps: TLS from
the first byte; none: plain SMTP (no STARTTLS offered: a server where TLS is missing).
--user/--password: AUTH required (PLAIN, LOGIN); --refuse-auth: every login is refused.
--stall-data S: the message is written to D, then the answer to its end waits S seconds (a
client killed meanwhile has handed the whole message over). --stall-rcpt S: RCPT waits S
seconds (a client killed there never sent the message). Runs until SIGTERM; prints "ready"
once it listens.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.args = args
        self.counter = itertools.count(len([f for f in os.listdir(args.dir) if f.endswith(".eml")]) + 1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.stall_rcpt:
            await asyncio.sleep(self.args.stall_rcpt)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.args.dir, "%04d" % n)
        login = getattr(session, "auth_data", None)
        if isinstance(login, LoginPassword):
            login = login.login
        if isinstance(login, bytes):
            login = login.decode()
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "login": login,
                "tls": session.ssl is not None or self.args.tls == "smtps"}
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        os.rename(base + ".tmp", base + ".eml")
        if self.args.stall_data:
            await asyncio.sleep(self.args.stall_data)
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls", choices=["starttls", "smtps", "none"], default="starttls")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--refuse-auth", action="store_true")
    p.add_argument("--stall-data", type=float, default=0)
    p.add_argument("--stall-rcpt", type=float, default=0)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    ctx = None
    if args.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (not args.refuse_auth and isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    kw = dict(hostname="127.0.0.1", port=args.port, server_hostname="localhost")
    if args.user:
        # under smtps the whole session is TLS, which aiosmtpd's auth_require_tls does not see
        kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.tls == "starttls")
    else:
        kw.update(auth_require_tls=False)
    if args.tls == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)
    elif args.tls == "smtps":
        kw.update(ssl_context=ctx)
    controller = Controller(Handler(args), **kw)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
