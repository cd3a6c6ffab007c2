#!/usr/bin/env python3
"""
tests/sim/twilio_sim.py — a local stand-in for Twilio's 2010-04-01 REST API and for the
phones at the other end, so plantao can be tested (and rehearsed) without an account.

What it owns:
  * the REST side plantao talks to (TWILIO_API_BASE): Messages and Calls create / fetch /
    list / update, Recordings, with HTTP Basic auth, Twilio's JSON shapes and error bodies
    ({"code": 21211, "message": ..., "more_info": ..., "status": 400});
  * the network side: signed status callbacks (X-Twilio-Signature), a TwiML interpreter that
    plays the callee of an outbound call or the customer calling the support line (<Say>,
    <Play>, <Pause>, <Gather>, <Redirect>, <Hangup>, <Reject>, <Record>, <Dial><Number url>);
  * scripting for tests: how each phone number behaves, callback order and loss, faults
    (429 / 5xx / 4xx, lost responses, outages), and phone-like expectations
    (expect_sms, expect_call, assert_no_unexpected).

Spec followed: Twilio's OpenAPI description of 2010-04-01 (schemas api.v2010.account.message
and api.v2010.account.call), the TwiML voice reference, and the webhook-signature rule
(URL + POST parameters sorted by name, HMAC-SHA1 with the auth token, base64).

Python 3 standard library only. Importable (class TwilioSim) and runnable standalone:
    python3 tests/sim/twilio_sim.py --port 8099 --auth-token T --plantao-url http://127.0.0.1:8080
Standalone, every phone answers and presses 1, and every message and call is printed.
"""

import argparse
import base64
import calendar
import hashlib
import hmac
import http.server
import json
import re
import secrets
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

API_VERSION = "2010-04-01"
E164_RE = re.compile(r"^\+[1-9][0-9]{1,14}$")
MORE_INFO = "https://www.twilio.com/docs/errors/%d"
TERMINAL_CALL = ("completed", "busy", "no-answer", "failed", "canceled")
WEBHOOK_TIMEOUT = 15  # Twilio waits at most 15 s for a webhook answer
MAX_FETCHES = 25  # TwiML documents fetched per call before the sim hangs up (loop guard)
MAX_VERBS = 200
TRANSCRIBE_MAX_SECONDS = 120  # Twilio transcribes only recordings shorter than this
# Answering machines with AsyncAmd: real seconds the call waits, after the AsyncAmd callback said
# the greeting ended, for the application to update the live call (Calls/{sid}.json Url/Twiml)
# before it goes on with the TwiML it was playing over the greeting.
AMD_UPDATE_WAIT = 10.0

# GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = "^{}\\[~]|€\f"


# --------------------------------------------------------------------------------------
# Helpers shared by the REST side and the webhook side
# --------------------------------------------------------------------------------------

def signature(auth_token, url, params=()):
    """X-Twilio-Signature for a request to `url` with POST `params` (dict or list of pairs;
    empty for GET, whose parameters are already in the URL). Parameters are sorted by name,
    then value; a repeated identical name=value pair counts once, as in Twilio's helper
    libraries (`sorted(set(values))`) — the published repeated-key vector depends on it."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    data = url + "".join(k + v for k, v in sorted({(str(k), str(v)) for k, v in pairs}))
    mac = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def new_sid(prefix):
    return prefix + secrets.token_hex(16)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822(ts):
    """Twilio's date format: 'Mon, 16 Aug 2010 03:45:01 +0000' (locale independent)."""
    if ts is None:
        return None
    t = time.gmtime(ts)
    return "%s, %02d %s %04d %02d:%02d:%02d +0000" % (
        _DAYS[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)


def sms_segments(body):
    """Number of SMS parts: GSM-7 160 (153 per part), else UCS-2 70 (67 per part)."""
    if all(c in GSM7_BASIC or c in GSM7_EXT for c in body):
        n = sum(2 if c in GSM7_EXT else 1 for c in body)
        single, part = 160, 153
    else:
        n = sum(2 if ord(c) > 0xFFFF else 1 for c in body)  # UTF-16 code units
        single, part = 70, 67
    if n <= single:
        return 1
    return (n + part - 1) // part


def is_address(value, whatsapp_ok=True):
    if whatsapp_ok and value.startswith("whatsapp:"):
        value = value[len("whatsapp:"):]
    return bool(E164_RE.match(value))


def _parse_filter_date(value):
    """'YYYY-MM-DD' -> ('date', 'YYYY-MM-DD'); ISO date-time -> ('ts', epoch seconds)."""
    value = value.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return ("date", value)
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$",
                 value)
    if not m:
        return None
    y, mo, d, h, mi, s, tz = m.groups()
    ts = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s or 0), 0, 0, 0))
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tz = tz[1:].replace(":", "")
        ts -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    return ("ts", ts)


def _date_matches(ts, flt, op):
    if ts is None:
        return False
    kind, val = flt
    if kind == "date":
        mine = time.strftime("%Y-%m-%d", time.gmtime(ts))
    else:
        mine = ts
    if op == "=":
        return mine == val
    if op == "<":
        return mine <= val
    return mine >= val


class SimError(AssertionError):
    """Raised by expectations that are not met."""


# --------------------------------------------------------------------------------------
# Records: what the sim saw and did. Plain objects with attributes; `json()` is the REST view.
# --------------------------------------------------------------------------------------

class Request:
    """One REST request received from plantao."""

    def __init__(self, method, path, query, form_pairs, auth, kind, headers):
        self.method = method
        self.path = path
        self.query = query  # dict name -> list of values
        self.form_pairs = form_pairs  # list of (name, value), in the order sent
        self.form = {}
        for k, v in form_pairs:
            self.form.setdefault(k, v)
        self.auth = auth  # (user, password) or None
        self.kind = kind
        self.headers = headers
        self.time = time.time()
        self.status = None

    def values(self, name):
        return [v for k, v in self.form_pairs if k == name]

    def __repr__(self):
        return "<Request %s %s %s -> %s>" % (self.method, self.path, self.form, self.status)


class Webhook:
    """One request the sim made to plantao (TwiML fetch, action or status callback)."""

    def __init__(self, purpose, method, url, params, sid=None):
        self.purpose = purpose  # 'voice', 'gather', 'dial', 'status', 'sms', ...
        self.method = method
        self.url = url
        self.params = params  # dict
        self.sid = sid
        self.status = None  # HTTP status, or None when no answer
        self.body = ""
        self.headers = {}
        self.error = None  # text of the failure, if any
        self.elapsed = None
        self.time = time.time()

    def __repr__(self):
        return "<Webhook %s %s %s -> %s %s>" % (self.purpose, self.method, self.url, self.status,
                                                self.error or "")


class _Owner:
    """What messages and calls share: their status callbacks, sent in order by one thread,
    and the two moments a test waits for: `ended` (final status reached) and `done` (ended,
    and every callback attempted — or held by hold_callbacks())."""

    def _init_owner(self, sim):
        self._sim = sim
        self.callbacks = []  # status callbacks sent (Webhook)
        self.ended = threading.Event()
        self.callbacks_done = threading.Event()
        self._cb_pending = []
        self._cb_queue = []
        self._cb_thread = None

    def is_done(self):
        if not self.ended.is_set():
            return False
        return self.callbacks_done.is_set() or self._cb_thread is None or not self._sim._gate.is_set()


class Message(_Owner):
    """An outbound message created through the REST API."""

    def __init__(self, sim, form, direction="outbound-api"):
        self._init_owner(sim)
        now = sim.now()
        self.sid = new_sid("SM")
        self.account_sid = sim.account_sid_for_json()
        self.to = form.get("To", "")
        self.from_ = form.get("From") or ""
        self.body = form.get("Body", "")
        self.messaging_service_sid = form.get("MessagingServiceSid")
        self.status_callback = form.get("StatusCallback")
        self.direction = direction
        self.status = "queued"
        self.error_code = None
        self.error_message = None
        self.date_created = now
        self.date_updated = now
        self.date_sent = None
        self.num_segments = sms_segments(self.body)
        self.form = form
        self.consumed = False

    @property
    def uri(self):
        return "/%s/Accounts/%s/Messages/%s.json" % (API_VERSION, self.account_sid, self.sid)

    def json(self):
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_ or None,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": self.uri[:-len(".json")] + "/Media.json"},
            "to": self.to,
            "uri": self.uri,
        }

    def __repr__(self):
        return "<SMS %s %s -> %s %r %s>" % (self.sid, self.from_, self.to, self.body, self.status)


class Call(_Owner):
    """A call leg: outbound through the API, a <Dial> leg, or an incoming call to plantao.

    What the far end experienced is kept in plain lists: `says` (texts heard), `played`
    (URLs), `digits` (keys pressed, one entry per Gather answered), `transcript` (every
    verb in order), `errors` (Twilio error codes the call ran into: 11200, 12100, ...)."""

    def __init__(self, sim, to, from_, direction, form=None, parent=None):
        self._init_owner(sim)
        now = sim.now()
        self.sid = new_sid("CA")
        self.account_sid = sim.account_sid_for_json()
        self.to = to
        self.from_ = from_
        self.direction = direction  # 'outbound-api', 'outbound-dial', 'inbound'
        self.parent_call_sid = parent.sid if parent else None
        self.form = form or {}
        self.status = "queued"
        self.answered_by = None
        self.date_created = now
        self.date_updated = now
        self.start_time = None
        self.end_time = None
        self.duration = None  # seconds, set when the call ends
        self.says = []
        self.played = []
        self.digits = []
        self.transcript = []
        self.errors = []
        self.webhooks = []  # TwiML fetches and actions (Webhook)
        self.dials = []  # for calls that ran <Dial>: dict(number, leg, status, action)
        self.recordings = []  # dicts with sid, url, duration
        self.bridged_to = None
        self.consumed = False
        self.status_callback = None
        self.status_callback_method = "POST"
        self.events_requested = set()
        self.amd = None
        self.async_amd = False  # AsyncAmd=true: TwiML at once, AnsweredBy in a callback
        self.amd_callback = None  # AsyncAmdStatusCallback URL
        self.amd_callback_method = "POST"
        self.update = None  # a live update through the API: (url, method, twiml)
        self.update_event = threading.Event()
        self.over_greeting = []  # texts spoken while an answering machine played its greeting
        self.voicemail = []  # texts an answering machine recorded after its beep
        self.after_hangup = []  # recording / transcription callbacks sent once the call ended
        self.record_seconds = 7
        self.record_end = "hangup"
        self.transcription = None
        self.transcription_requested = False  # a <Record> of this call asked for one
        self.cancel_requested = None  # 'canceled' or 'completed' when updated through the API
        self.sim_seconds = 0.0  # simulated time spent after answer (for CallDuration)
        self.seq = 0

    @property
    def uri(self):
        return "/%s/Accounts/%s/Calls/%s.json" % (API_VERSION, self.account_sid, self.sid)

    def json(self):
        base = self.uri[:-len(".json")]
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                "notifications": base + "/Notifications.json",
                "recordings": base + "/Recordings.json",
                "events": base + "/Events.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": self.uri,
        }

    @property
    def pressed(self):
        """All digits pressed during the call, concatenated."""
        return "".join(self.digits)

    def heard(self, text):
        """True when some <Say> on this call contained `text`."""
        return any(text in s for s in self.says)

    def __repr__(self):
        return "<Call %s %s %s -> %s %s says=%r digits=%r>" % (
            self.sid, self.direction, self.from_, self.to, self.status, self.says, self.digits)


# --------------------------------------------------------------------------------------
# Phones: how a number behaves when called or texted
# --------------------------------------------------------------------------------------

class Behaviour:
    """One scripted way of taking a call.

    kind: 'answer' (a person), 'machine' (voicemail / answering machine), 'no-answer', 'busy',
    'failed'. digits: list of key presses, one per <Gather> reached (None = no input).
    ring: simulated seconds of ringing before answering (compared with the call's Timeout).
    talk: simulated seconds a bridged conversation lasts. delay: real seconds to wait before
    the outcome (lets a test act while the phone rings), or a threading.Event: the outcome
    waits until the test sets it."""

    def __init__(self, kind, digits=None, ring=3, talk=30, delay=0.0):
        self.kind = kind
        if digits is None:
            digits = []
        elif isinstance(digits, str):
            digits = [digits]
        self.digits = list(digits)
        self.ring = ring
        self.talk = talk
        self.delay = delay

    def __repr__(self):
        return "<Behaviour %s digits=%r>" % (self.kind, self.digits)


class Phone:
    """Script for one number. Call-answering methods with times=N queue a step used for the
    next N calls; without `times` they set what happens on every call after the queued steps:
        sim.phone("+5511999990001").does_not_answer(times=2).answers(digits="1")
    Methods return the Phone, so they chain."""

    def __init__(self, sim, number):
        self.sim = sim
        self.number = number
        self._steps = []  # [Behaviour, remaining]
        self._fallback = None
        self.sms_outcome = ("delivered", None)
        self.sms_order = None
        self.sms_drop = ()
        self.call_order = None
        self.call_drop = ()

    def _set(self, b, times):
        with self.sim._lock:
            if times is None:
                self._fallback = b
            else:
                self._steps.append([b, times])
        return self

    def answers(self, digits=None, ring=3, talk=30, delay=0.0, times=None):
        """A person answers; presses `digits` at the first <Gather> (a list: one entry per Gather)."""
        return self._set(Behaviour("answer", digits, ring, talk, delay), times)

    def does_not_answer(self, delay=0.0, times=None):
        return self._set(Behaviour("no-answer", delay=delay), times)

    def is_busy(self, delay=0.0, times=None):
        return self._set(Behaviour("busy", delay=delay), times)

    def fails(self, delay=0.0, times=None):
        """The carrier cannot complete the call (CallStatus failed)."""
        return self._set(Behaviour("failed", delay=delay), times)

    def is_machine(self, ring=3, delay=0.0, times=None):
        """An answering machine picks up: TwiML is played to it, no digits are pressed."""
        return self._set(Behaviour("machine", ring=ring, delay=delay), times)

    voicemail_picks_up = is_machine

    def sms_delivered(self):
        self.sms_outcome = ("delivered", None)
        return self

    def sms_undelivered(self, error_code=30003):
        self.sms_outcome = ("undelivered", error_code)
        return self

    def sms_failed(self, error_code=30008):
        self.sms_outcome = ("failed", error_code)
        return self

    def sms_reports(self, *statuses, error_code=None):
        """Statuses a message to this number goes through after it is created, as Twilio reports
        them, e.g. sms_reports("sent", "partially_delivered"), or one Twilio may add later;
        error_code goes with the last one. No arguments: back to the outcome above."""
        self.sms_outcome = ("reports", (list(statuses), error_code)) if statuses else ("delivered", None)
        return self

    def opts_out(self, sender=None):
        """The person replied STOP to `sender` (default: the team number) where plantao never heard
        it: Twilio refuses further texts from that sender with 21610 until they reply START."""
        with self.sim._lock:
            self.sim.opted_out.add((self.number, sender or self.sim.support_number))
        return self

    def wrote_on_whatsapp(self, sender=None, at=None):
        """The person wrote to the WhatsApp `sender` (default whatsapp:<team number>) at `at`
        (default now) without plantao hearing it: free-form WhatsApp to them is allowed for 24 h.
        Outside that window Twilio accepts a free-form WhatsApp message and then fails it with
        63016; messages with a ContentSid (an approved template) always go."""
        with self.sim._lock:
            self.sim.whatsapp_inbound[("whatsapp:" + self.number, sender or "whatsapp:" + self.sim.support_number)] = (
                self.sim.now() if at is None else at)
        return self

    def sms_callbacks(self, order=None, drop=()):
        """order: message statuses in the order callbacks reach plantao (e.g. ['delivered',
        'sent']); drop: statuses whose callback is never sent."""
        self.sms_order = list(order) if order else None
        self.sms_drop = tuple(drop)
        return self

    def call_callbacks(self, order=None, drop=()):
        """Same for call status callbacks; names are events or statuses: 'initiated', 'ringing',
        'answered' (= 'in-progress'), 'completed' (= the final one, whatever its status)."""
        self.call_order = [_event_name(x) for x in order] if order else None
        self.call_drop = tuple(_event_name(x) for x in drop)
        return self

    def _next(self):
        with self.sim._lock:
            if self._steps:
                step = self._steps[0]
                step[1] -= 1
                if step[1] <= 0:
                    self._steps.pop(0)
                return step[0]
            if self._fallback is not None:
                return self._fallback
        return self.sim.default_behaviour()


def _event_name(x):
    return {"in-progress": "answered", "busy": "completed", "no-answer": "completed",
            "failed": "completed", "canceled": "completed"}.get(x, x)


class _Digits:
    """The keys a party presses, one entry per <Gather> reached."""

    def __init__(self, seq):
        self.seq = list(seq or [])

    def next(self):
        if not self.seq:
            return None
        d = self.seq.pop(0)
        return d or None


class _Hangup(Exception):
    def __init__(self, status="completed"):
        super().__init__(status)
        self.status = status


# --------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------
# The account's phone numbers (IncomingPhoneNumbers), for `plantao twilio check|setup`
# --------------------------------------------------------------------------------------
# Shaped as api.v2010.account.incoming_phone_number in Twilio's OpenAPI description: list
# (PhoneNumber filter, paging), fetch, update (POST with the form parameters the spec lists).
# A number the account owns (TWILIO_FROM, owned_numbers) exists from the start with the
# webhooks of a freshly bought number (Twilio's demo URL); tests change it with
# sim.incoming_number(number, voice_url=..., capabilities={...}).

NUMBER_UPDATE_FIELDS = {
    "AccountSid": None, "ApiVersion": "api_version", "FriendlyName": "friendly_name",
    "SmsApplicationSid": "sms_application_sid", "SmsFallbackMethod": "sms_fallback_method",
    "SmsFallbackUrl": "sms_fallback_url", "SmsMethod": "sms_method", "SmsUrl": "sms_url",
    "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method",
    "VoiceApplicationSid": "voice_application_sid", "VoiceCallerIdLookup": "voice_caller_id_lookup",
    "VoiceFallbackMethod": "voice_fallback_method", "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceMethod": "voice_method", "VoiceUrl": "voice_url", "EmergencyStatus": "emergency_status",
    "EmergencyAddressSid": "emergency_address_sid", "TrunkSid": "trunk_sid",
    "VoiceReceiveMode": "voice_receive_mode", "IdentitySid": "identity_sid", "AddressSid": "address_sid",
    "BundleSid": "bundle_sid",
}
NUMBER_URL_FIELDS = ("SmsFallbackUrl", "SmsUrl", "StatusCallback", "VoiceFallbackUrl", "VoiceUrl")
NUMBER_METHOD_FIELDS = ("SmsFallbackMethod", "SmsMethod", "StatusCallbackMethod", "VoiceFallbackMethod",
                        "VoiceMethod")


class _IncomingNumbers:
    """Mixed into TwilioSim: the account's phone numbers."""

    def _numbers(self):
        with self._lock:
            if getattr(self, "_incoming_numbers", None) is None:
                self._incoming_numbers = {}
                owned = set(self.owned_numbers or ()) | {self.support_number}
                for number in sorted(n for n in owned if not n.startswith("whatsapp:")):
                    self._new_number(number)
            return self._incoming_numbers

    def _new_number(self, number):
        sid = new_sid("PN")
        now = rfc2822(self.now())
        acct = self.account_sid_for_json()
        self._incoming_numbers[sid] = {
            "account_sid": acct, "address_requirements": "none", "address_sid": None,
            "api_version": API_VERSION, "beta": False, "bundle_sid": None,
            "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
            "date_created": now, "date_updated": now, "emergency_address_sid": None,
            "emergency_address_status": "unregistered", "emergency_status": "Inactive",
            "friendly_name": number, "identity_sid": None, "origin": "twilio", "phone_number": number,
            "sid": sid, "sms_application_sid": "", "sms_fallback_method": "POST", "sms_fallback_url": "",
            "sms_method": "POST", "sms_url": "https://demo.twilio.com/welcome/sms/reply", "status": "in-use",
            "status_callback": "", "status_callback_method": "POST", "trunk_sid": None, "type": None,
            "uri": "/%s/Accounts/%s/IncomingPhoneNumbers/%s.json" % (API_VERSION, acct, sid),
            "voice_application_sid": None, "voice_caller_id_lookup": False, "voice_fallback_method": "POST",
            "voice_fallback_url": None, "voice_method": "POST", "voice_receive_mode": "voice",
            "voice_url": "https://demo.twilio.com/welcome/voice/", "subresource_uris": {
                "assigned_add_ons": "/%s/Accounts/%s/IncomingPhoneNumbers/%s/AssignedAddOns.json"
                                    % (API_VERSION, acct, sid)},
        }
        return self._incoming_numbers[sid]

    def incoming_number(self, number, **fields):
        """The account's number `number` (created if missing) as its JSON dict; keyword
        arguments set fields (voice_url=..., capabilities={...})."""
        with self._lock:
            nums = self._numbers()
            n = next((v for v in nums.values() if v["phone_number"] == number), None) or self._new_number(number)
            n.update(fields)
            return n

    def remove_incoming_number(self, number):
        with self._lock:
            nums = self._numbers()
            for sid in [s for s, v in nums.items() if v["phone_number"] == number]:
                del nums[sid]

    def number_updates(self):
        """The form of every successful IncomingPhoneNumbers update, in order (lists of pairs)."""
        return [r.form_pairs for r in self.requests_of("incoming_number_update") if r.status == 200]

    def _number_json(self, n):
        acct = self.account_sid_for_json()
        d = dict(n, account_sid=acct)
        d["uri"] = "/%s/Accounts/%s/IncomingPhoneNumbers/%s.json" % (API_VERSION, acct, n["sid"])
        return d

    def _rest_incoming_numbers(self, req):
        return _err(400, 21421, "PhoneNumber is required.") if not req.form.get("PhoneNumber") and \
            not req.form.get("AreaCode") else _err(400, 21422, "PhoneNumber is not available.")

    def _rest_incoming_numbers_list(self, req):
        q = {k: v[-1] for k, v in req.query.items()}
        with self._lock:
            rows = [self._number_json(n) for n in self._numbers().values()]
        if "PhoneNumber" in q:
            # Twilio matches the pattern anywhere in the number; an exact E.164 is the usual use
            rows = [r for r in rows if q["PhoneNumber"] in r["phone_number"]]
        if "FriendlyName" in q:
            rows = [r for r in rows if r["friendly_name"] == q["FriendlyName"]]
        rows.sort(key=lambda r: r["phone_number"])
        try:
            size = max(1, min(1000, int(q.get("PageSize", "50"))))
            page = max(0, int(q.get("Page", "0")))
        except ValueError:
            return _err(400, 20001, "Invalid paging parameters")
        start = page * size
        chunk = rows[start:start + size]
        filters = [(k, v) for k, v in q.items() if k not in ("PageSize", "Page", "PageToken")]

        def page_uri(p):
            return req.path + "?" + urllib.parse.urlencode(filters + [("PageSize", size), ("Page", p)])

        return 200, {
            "incoming_phone_numbers": chunk,
            "end": start + len(chunk) - 1 if chunk else start,
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + size < len(rows) else None,
            "page": page, "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start, "uri": page_uri(page),
        }, {}

    def _rest_incoming_number(self, req, sid):
        with self._lock:
            n = self._numbers().get(sid)
            if n is None:
                return _err(404, 20404, "The requested resource %s was not found" % req.path)
            return 200, self._number_json(n), {}

    def _rest_incoming_number_update(self, req, sid):
        f = req.form
        with self._lock:
            n = self._numbers().get(sid)
            if n is None:
                return _err(404, 20404, "The requested resource %s was not found" % req.path)
            for name in NUMBER_URL_FIELDS:
                v = f.get(name)
                if v and not v.startswith(("http://", "https://")):
                    return _err(400, 21502, "%s is not valid: %s" % (name, v))
            for name in NUMBER_METHOD_FIELDS:
                v = f.get(name)
                if v is not None and v.upper() not in ("GET", "POST"):
                    return _err(400, 21503, "%s must be GET or POST, not %s" % (name, v))
            for name, value in f.items():
                attr = NUMBER_UPDATE_FIELDS.get(name)
                if attr:
                    n[attr] = value.upper() if name in NUMBER_METHOD_FIELDS else value
            n["date_updated"] = rfc2822(self.now())
            self.log("NUMBER %s %s updated: %s", sid, n["phone_number"],
                     ", ".join("%s=%s" % kv for kv in req.form_pairs))
            return 200, self._number_json(n), {}


class TwilioSim(_IncomingNumbers):
    """Fake Twilio. Typical test use:

        sim = TwilioSim(account_sid, auth_token, plantao_url).start()
        sim.phone("+5511999990001").answers(digits="1")
        ... make plantao page someone ...
        call = sim.expect_call("+5511999990001")
        assert call.heard("alerta")
        sim.assert_no_unexpected()
        sim.stop()
    """

    def __init__(self, account_sid=None, auth_token=None, plantao_url=None, port=0,
                 host="127.0.0.1", owned_numbers=None, verbose=False, callback_delay=0.02):
        self.account_sid = account_sid  # None: accept any AC sid whose token matches
        self.auth_token = auth_token or secrets.token_hex(16)
        self.plantao_url = (plantao_url or "").rstrip("/")
        self.host = host
        self.port = port
        self.owned_numbers = set(owned_numbers) if owned_numbers else None
        self.verbose = verbose
        self.callback_delay = callback_delay  # real seconds between two status callbacks
        self.clock_offset = 0.0  # kept equal to plantao's PLANTAO_CLOCK_FILE by the harness
        self.whisper_declined_status = "completed"  # DialCallStatus when a whisper hangs up
        self.default_phone = None  # Behaviour for unscripted numbers (None: does not answer)
        self.support_number = "+15005550006"  # the team's number incoming traffic is sent to
        self.requests = []
        self.messages = []
        self.calls = []
        self.call_updates = []  # (Call, Request) for each live-call update (Url or Twiml)
        self.incoming = []  # dicts for incoming_sms / incoming_call started by tests
        self.opted_out = set()  # (phone, sender) pairs: the phone replied STOP to that sender
        self.whatsapp_inbound = {}  # (phone, whatsapp sender) -> when the phone last wrote in
        self.whatsapp_templates = {}  # Content SID -> text with {{1}}, {{2}}…; any HX sid works
        self.webhooks = []
        self.errors = []  # problems plantao caused (bad TwiML, non-2xx webhooks), unconsumed
        self._phones = {}
        self._faults = []  # dicts: kind, status, code, retry_after, count, message, action
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._gate = threading.Event()
        self._gate.set()
        self._server = None
        self._serve_thread = None
        self._conns = set()
        self._stopped = False
        self._is_down = False
        self._seen_sid = None

    # ---- life cycle -------------------------------------------------------------------

    def start(self):
        self._listen()
        return self

    def _listen(self):
        sim = self

        class Handler(_RestHandler):
            pass

        Handler.sim = sim
        server = _Server((self.host, self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        self._is_down = False
        self._serve_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                              daemon=True, name="twilio-sim-http")
        self._serve_thread.start()

    def _close_listener(self):
        server = self._server
        if server is None:
            return
        self._is_down = True
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:  # keep-alive connections die with the outage too
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server = None

    def stop(self):
        self._stopped = True
        self._gate.set()
        self._close_listener()

    def down(self):
        """Outage: refuse every connection until up()."""
        self._close_listener()

    def up(self):
        if self._server is None:
            self._listen()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def now(self):
        return time.time() + self.clock_offset

    def account_sid_for_json(self):
        return self.account_sid or self._seen_sid or "AC" + "0" * 32

    def log(self, fmt, *args):
        if self.verbose:
            print("twilio-sim: " + (fmt % args if args else fmt), flush=True)

    # ---- scripting --------------------------------------------------------------------

    def phone(self, number):
        with self._lock:
            p = self._phones.get(number)
            if p is None:
                p = self._phones[number] = Phone(self, number)
            return p

    def default_behaviour(self):
        return self.default_phone or Behaviour("no-answer")

    def fail_next(self, kind, status, code=None, retry_after=None, count=1, message=None):
        """The next `count` REST requests of `kind` get an error answer and create nothing.
        kind: 'messages' (POST Messages.json), 'calls' (POST Calls.json), 'message' / 'call'
        (fetch or update one), 'messages_list', 'calls_list', 'recording' or '*'."""
        if code is None:
            code = {429: 20429, 401: 20003, 404: 20404, 400: 21211, 500: 20500, 503: 20503}.get(status, status)
        self._add_fault(kind, count, action="fail", status=status, code=code, retry_after=retry_after,
                        message=message)

    def lose_response_next(self, kind, count=1):
        """The request is carried out (the message or call exists) but the connection closes
        before any answer: plantao cannot know, and must reconcile instead of resending."""
        self._add_fault(kind, count, action="lose")

    def delay_next(self, kind, seconds, count=1):
        """Answer the next requests of `kind` only after `seconds` (for client timeouts)."""
        self._add_fault(kind, count, action="delay", seconds=seconds)

    def answer_late_next(self, kind, seconds, count=1):
        """Carry out the next requests of `kind` at once (the message or call exists, and shows
        in lists) but answer only after `seconds`: Twilio slow to answer a create it has done."""
        self._add_fault(kind, count, action="late", seconds=seconds)

    def _add_fault(self, kind, count, **kw):
        with self._lock:
            self._faults.append(dict(kind=kind, count=count, **kw))

    def _take_fault(self, kind):
        with self._lock:
            for f in self._faults:
                if f["kind"] in (kind, "*"):
                    f["count"] -= 1
                    if f["count"] <= 0:
                        self._faults.remove(f)
                    return f
        return None

    def hold_callbacks(self):
        """Queue status callbacks instead of sending them (until release_callbacks())."""
        self._gate.clear()

    def release_callbacks(self):
        self._gate.set()

    # ---- expectations -----------------------------------------------------------------

    def _wait_for(self, pick, timeout, what):
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                found = pick()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SimError("%s within %ss; seen: %s" % (what, timeout, self.summary()))
                self._cv.wait(min(left, 0.1))

    def expect_sms(self, to, containing=None, timeout=10):
        """Wait for a message to `to` (exact, e.g. '+55...' or 'whatsapp:+55...') whose body
        contains `containing` (a string, or a compiled regex); mark it consumed and return it."""

        def pick():
            for m in self.messages:
                if not m.consumed and m.to == to and _matches(m.body, containing):
                    m.consumed = True
                    return m
            return None

        return self._wait_for(pick, timeout, "no message to %s containing %r" % (to, containing))

    def expect_whatsapp(self, to, containing=None, timeout=10):
        return self.expect_sms("whatsapp:" + to, containing, timeout)

    def expect_call(self, to, timeout=10, finished=True):
        """Wait for a call to `to` (placed by plantao, or a <Dial> leg); by default wait until it
        has ended. Marks it consumed and returns the Call."""

        def pick():
            for c in self.calls:
                if not c.consumed and c.to == to and c.direction != "inbound":
                    if finished and not c.is_done():
                        return None
                    c.consumed = True
                    return c
            return None

        return self._wait_for(pick, timeout, "no %scall to %s" % ("finished " if finished else "", to))

    def expect_error(self, containing, timeout=10):
        """Consume a recorded plantao-side problem (a webhook that failed, bad TwiML, ...)."""

        def pick():
            for e in self.errors:
                if containing in e:
                    self.errors.remove(e)
                    return e
            return None

        return self._wait_for(pick, timeout, "no error containing %r" % containing)

    def wait_idle(self, timeout=10):
        """Wait until every call has ended and every message reached a final status and its
        callbacks were attempted."""
        def pick():
            busy = [x for x in self.calls + self.messages if not x.is_done()]
            return None if busy else True
        return self._wait_for(pick, timeout, "still busy")

    def assert_quiet(self, seconds=0.5):
        """Nothing new (SMS or call) arrives within `seconds`."""
        time.sleep(seconds)
        self.assert_no_unexpected()

    def unexpected(self):
        with self._lock:
            out = ["SMS to %s: %r" % (m.to, m.body) for m in self.messages if not m.consumed]
            out += ["call to %s (%s, says %r)" % (c.to, c.status, c.says)
                    for c in self.calls if not c.consumed and c.direction != "inbound"]
            out += ["error: %s" % e for e in self.errors]
            return out

    def assert_no_unexpected(self):
        """Fails when a message or call was not consumed by an expect_*, or when plantao made
        Twilio run into an error (bad TwiML, webhook failure) that no expect_error consumed."""
        left = self.unexpected()
        if left:
            raise SimError("unexpected Twilio traffic:\n  " + "\n  ".join(left))

    def requests_of(self, kind, method=None):
        """REST requests received of one kind ('messages', 'calls', 'message', 'call',
        'messages_list', 'calls_list', ...), e.g. to check nothing was sent twice."""
        with self._lock:
            return [r for r in self.requests if r.kind == kind and (method is None or r.method == method)]

    def sms_to(self, number):
        with self._lock:
            return [m for m in self.messages if m.to == number]

    def calls_to(self, number):
        with self._lock:
            return [c for c in self.calls if c.to == number and c.direction != "inbound"]

    def summary(self):
        with self._lock:
            parts = ["%s" % m for m in self.messages] + ["%s" % c for c in self.calls]
            parts += ["error: %s" % e for e in self.errors]
        return "[" + "; ".join(parts) + "]" if parts else "nothing"

    def _changed(self):
        with self._cv:
            self._cv.notify_all()

    def _error(self, text):
        with self._lock:
            self.errors.append(text)
        self.log("ERROR %s", text)
        self._changed()

    # ---- REST handling (called by the HTTP handler) ----------------------------------

    def _authorized(self, req, path_sid):
        if not req.auth:
            return False
        user, password = req.auth
        if self.account_sid is not None and user != self.account_sid:
            return False
        if user != path_sid or not hmac.compare_digest(password.encode(), self.auth_token.encode()):
            return False
        self._seen_sid = user
        return True

    def handle_rest(self, req):
        """Returns (status, json_body or bytes, headers, fault) for one REST request; fault is
        the injected fault still to apply when answering (a lost response), or None."""
        out = self._route(req)
        return out if len(out) == 4 else out + (None,)

    def _route(self, req):
        m = re.match(r"^/%s/Accounts/([^/]+?)(/.*)?$" % API_VERSION, req.path)
        if req.path.startswith("/_sim/"):
            return self._control(req)
        if not m:
            return _err(404, 20404, "The requested resource %s was not found" % req.path)
        path_sid, rest = m.group(1), m.group(2) or ""
        if path_sid.endswith(".json") and not rest:
            path_sid, rest = path_sid[:-5], ".json"
        routes = [
            (r"^/Messages\.json$", "messages", "messages_list"),
            (r"^/Messages/(SM[0-9a-f]{32}|MM[0-9a-f]{32}|[^/]+)\.json$", "message", "message"),
            (r"^/Calls\.json$", "calls", "calls_list"),
            (r"^/Calls/([^/]+)\.json$", "call", "call"),
            (r"^/Recordings/([^/.]+)(\.json|\.wav|\.mp3)?$", "recording", "recording"),
            (r"^\.json$", "account", "account"),
            (r"^/IncomingPhoneNumbers\.json$", "incoming_numbers", "incoming_numbers_list"),
            (r"^/IncomingPhoneNumbers/([^/]+)\.json$", "incoming_number_update", "incoming_number"),
        ]
        kind, arg = None, None
        for pattern, post_kind, get_kind in routes:
            mm = re.match(pattern, rest)
            if mm:
                kind = post_kind if req.method == "POST" else get_kind
                arg = mm.groups()
                break
        req.kind = kind
        with self._lock:
            self.requests.append(req)
        if kind is None:
            return _err(404, 20404, "The requested resource %s was not found" % req.path)
        if kind != "recording" and not self._authorized(req, path_sid):
            return _err(401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect.")
        fault = self._take_fault(kind)
        if fault and fault["action"] == "fail":
            headers = {}
            if fault.get("retry_after") is not None:
                headers["Retry-After"] = str(fault["retry_after"])
            msg = fault.get("message") or _default_message(fault["code"], req)
            status, body, _ = _err(fault["status"], fault["code"], msg)
            return status, body, headers, None
        if fault and fault["action"] == "delay":
            time.sleep(fault["seconds"])
            fault = None
        handler = getattr(self, "_rest_" + kind)
        status, body, headers = handler(req, *arg)
        if fault and fault["action"] == "late":
            time.sleep(fault["seconds"])
            fault = None
        return status, body, headers, fault

    def _rest_account(self, req):
        sid = self.account_sid_for_json()
        return 200, {"sid": sid, "friendly_name": "twilio-sim", "status": "active", "type": "Full",
                     "auth_token": None, "uri": "/%s/Accounts/%s.json" % (API_VERSION, sid)}, {}

    def _rest_messages(self, req):
        f = req.form
        to, from_, body = f.get("To", ""), f.get("From", ""), f.get("Body", "")
        if not to:
            return _err(400, 21604, "A 'To' phone number is required.")
        if not from_ and not f.get("MessagingServiceSid"):
            return _err(400, 21603, "A 'From' phone number is required.")
        if not is_address(to):
            return _err(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if from_ and not is_address(from_):
            return _err(400, 21212, "The 'From' number %s is not a valid phone number, shortcode, "
                                    "or alphanumeric sender ID." % from_)
        if from_ and self.owned_numbers is not None and from_ not in self.owned_numbers:
            return _err(400, 21606, "The From phone number %s is not a valid, SMS-capable inbound "
                                    "phone number or short code for your account." % from_)
        if to.startswith("whatsapp:") != from_.startswith("whatsapp:") and from_:
            return _err(400, 63007, "Twilio could not find a Channel with the specified From address")
        content_sid = f.get("ContentSid")
        if content_sid is not None:
            if not re.fullmatch(r"HX[0-9a-f]{32}", content_sid):
                return _err(400, 21655, "The ContentSid is Invalid.")
            try:
                variables = json.loads(f.get("ContentVariables") or "{}")
            except ValueError:
                return _err(400, 21656, "The ContentVariables Parameter is invalid.")
            if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
                return _err(400, 21656, "The ContentVariables Parameter is invalid.")
            if any(re.search(r"[\n\t]| {5,}", v) for v in variables.values()):
                return _err(400, 21656, "The ContentVariables Parameter is invalid: no newlines, tabs or more "
                                        "than four consecutive spaces.")
        if not body and not f.get("MediaUrl") and not content_sid:
            return _err(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _err(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if not to.startswith("whatsapp:") and (to, from_) in self.opted_out:
            return _err(400, 21610, "Attempt to send to unsubscribed recipient")
        msg = Message(self, f)
        if content_sid is not None:
            text = self.whatsapp_templates.get(content_sid, "{{1}}: {{2}}")
            msg.body = re.sub(r"\{\{(\w+)\}\}", lambda m: variables.get(m.group(1), ""), text)
            msg.content_sid, msg.content_variables = content_sid, variables
        elif to.startswith("whatsapp:"):
            wrote = self.whatsapp_inbound.get((to, from_))
            if wrote is None or self.now() - wrote > 24 * 3600:
                msg.outside_window = True  # accepted, then failed with 63016, as Twilio does
        phone = self.phone(to[len("whatsapp:"):] if to.startswith("whatsapp:") else to)
        with self._lock:
            self.messages.append(msg)
        self.log("SMS %s %s -> %s: %s", msg.sid, msg.from_, msg.to, msg.body)
        self._changed()
        threading.Thread(target=self._deliver_message, args=(msg, phone), daemon=True,
                         name="sim-sms-" + msg.sid).start()
        return 201, msg.json(), {}

    def _rest_message(self, req, sid):
        with self._lock:
            msg = next((m for m in self.messages if m.sid == sid), None)
        if msg is None:
            return _err(404, 20404, "The requested resource %s was not found" % req.path)
        if req.method == "DELETE":
            with self._lock:
                self.messages.remove(msg)
            return 204, b"", {}
        if req.method == "POST":
            if "Body" in req.form:
                msg.body = req.form["Body"]  # redaction
            if req.form.get("Status") == "canceled" and msg.status in ("queued", "accepted", "scheduled"):
                msg.status = "canceled"
            msg.date_updated = self.now()
        return 200, msg.json(), {}

    def _list(self, req, items, key, date_field):
        q = {k: v[-1] for k, v in req.query.items()}
        rows = list(items)
        for name in ("To", "From", "Status", "ParentCallSid"):
            if name in q:
                attr = {"To": "to", "From": "from_", "Status": "status", "ParentCallSid": "parent_call_sid"}[name]
                rows = [r for r in rows if getattr(r, attr, None) == q[name]]
        for suffix, op in (("", "="), ("<", "<"), (">", ">")):
            name = date_field + suffix
            if name in q:
                flt = _parse_filter_date(q[name])
                if flt is None:
                    return _err(400, 20001, "Invalid value for %s: %s" % (name, q[name]))
                attr = "date_sent" if date_field == "DateSent" else "start_time"
                rows = [r for r in rows if _date_matches(getattr(r, attr) or r.date_created, flt, op)]
        rows.sort(key=lambda r: r.date_created, reverse=True)  # newest first, as Twilio lists
        try:
            size = max(1, min(1000, int(q.get("PageSize", "50"))))
            page = max(0, int(q.get("Page", "0")))
        except ValueError:
            return _err(400, 20001, "Invalid paging parameters")
        start = page * size
        chunk = rows[start:start + size]
        filters = [(k, v) for k, v in q.items() if k not in ("PageSize", "Page", "PageToken")]

        def page_uri(p):
            return req.path + "?" + urllib.parse.urlencode(filters + [("PageSize", size), ("Page", p)])

        body = {
            key: [r.json() for r in chunk],
            "end": start + len(chunk) - 1 if chunk else start,
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) + "&PageToken=PA" + secrets.token_hex(8)
            if start + size < len(rows) else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }
        return 200, body, {}

    def _rest_messages_list(self, req):
        with self._lock:
            items = list(self.messages)
        return self._list(req, items, "messages", "DateSent")

    def _rest_calls_list(self, req):
        with self._lock:
            items = [c for c in self.calls]
        return self._list(req, items, "calls", "StartTime")

    def _rest_calls(self, req):
        f = req.form
        to, from_ = f.get("To", ""), f.get("From", "")
        if not to:
            return _err(400, 21201, "No 'To' number is specified")
        if not from_:
            return _err(400, 21213, "No 'From' number is specified")
        if not is_address(to, whatsapp_ok=False):
            return _err(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if not is_address(from_, whatsapp_ok=False):
            return _err(400, 21212, "The 'From' number %s is not a valid phone number." % from_)
        if self.owned_numbers is not None and from_ not in self.owned_numbers:
            return _err(400, 21210, "The source phone number provided, %s, is not yet verified "
                                    "for your account." % from_)
        if not f.get("Url") and not f.get("Twiml") and not f.get("ApplicationSid"):
            return _err(400, 21205, "Url parameter is required.")
        if f.get("Url") and not f["Url"].startswith(("http://", "https://")):
            return _err(400, 21205, "Url is not a valid URL: %s" % f["Url"])
        for name in ("Timeout",):
            if name in f and not f[name].isdigit():
                return _err(400, 20001, "Invalid %s" % name)
        call = Call(self, to, from_, "outbound-api", form=dict(f))
        call.events_requested = set()
        for v in req.values("StatusCallbackEvent"):
            call.events_requested.update(x for x in re.split(r"[\s,]+", v) if x)
        call.status_callback = f.get("StatusCallback")
        call.status_callback_method = f.get("StatusCallbackMethod", "POST").upper()
        call.amd = f.get("MachineDetection")
        if f.get("AsyncAmd") is not None:
            if f["AsyncAmd"] not in ("true", "false"):
                return _err(400, 20001, "Invalid AsyncAmd: %s" % f["AsyncAmd"])
            call.async_amd = f["AsyncAmd"] == "true" and bool(call.amd)
        call.amd_callback = f.get("AsyncAmdStatusCallback")
        call.amd_callback_method = f.get("AsyncAmdStatusCallbackMethod", "POST").upper()
        if call.async_amd and call.amd_callback and not call.amd_callback.startswith(("http://", "https://")):
            return _err(400, 21626, "AsyncAmdStatusCallback is not a valid URL: %s" % call.amd_callback)
        with self._lock:
            self.calls.append(call)
        self.log("CALL %s %s -> %s", call.sid, from_, to)
        self._changed()
        threading.Thread(target=self._run_api_call, args=(call, self.phone(to)._next()), daemon=True,
                         name="sim-call-" + call.sid).start()
        return 201, call.json(), {}

    def _rest_call(self, req, sid):
        with self._lock:
            call = next((c for c in self.calls if c.sid == sid), None)
        if call is None:
            return _err(404, 20404, "The requested resource %s was not found" % req.path)
        if req.method == "POST":
            st = req.form.get("Status")
            if st is not None and st not in ("canceled", "completed"):
                return _err(400, 21218, "Invalid value for Status: %s" % st)
            url, twiml = req.form.get("Url"), req.form.get("Twiml")
            if not st and (url or twiml):
                # a live call takes new TwiML (Url wins when both are given, as at Twilio)
                if call.status != "in-progress":
                    return _err(400, 21220, "Call is not in-progress. Cannot redirect.")
                if url and not url.startswith(("http://", "https://")):
                    return _err(400, 21205, "Url is not a valid URL: %s" % url)
                if twiml and not url and len(twiml) > 4000:
                    return _err(400, 21213, "Twiml is longer than 4000 characters")
                with self._lock:
                    self.call_updates.append((call, req))
                call.update = (url, req.form.get("Method", "POST").upper(), None if url else twiml)
                call.update_event.set()
                self.log("CALL %s updated: %s", call.sid, url or "inline TwiML")
                return 200, call.json(), {}
            if st and call.status not in TERMINAL_CALL:
                if st == "canceled" and call.status == "in-progress":
                    pass  # Twilio ignores cancel of a call that was answered
                else:
                    call.cancel_requested = st
                    call.ended.wait(5)
        return 200, call.json(), {}

    def _rest_recording(self, req, sid, ext):
        rec = None
        with self._lock:
            for c in self.calls:
                for r in c.recordings:
                    if r["sid"] == sid:
                        rec = (c, r)
        if rec is None:
            return _err(404, 20404, "The requested resource %s was not found" % req.path)
        c, r = rec
        if ext == ".json":
            return 200, {"sid": sid, "call_sid": c.sid, "account_sid": c.account_sid,
                         "duration": str(r["duration"]), "status": "completed", "channels": 1,
                         "source": "RecordVerb", "uri": req.path, "api_version": API_VERSION,
                         "date_created": rfc2822(r["time"])}, {}
        return 200, _silent_wav(r["duration"]), {"Content-Type": "audio/x-wav"}

    def _control(self, req):
        """A tiny control surface for standalone rehearsals (no auth; loopback only)."""
        f = {**{k: v[-1] for k, v in req.query.items()}, **req.form}
        if req.path == "/_sim/incoming-sms" and req.method == "POST":
            replies = self.incoming_sms(f.get("From", "+15550001111"), f.get("Body", ""), f.get("To"))
            return 200, {"replies": replies}, {}
        if req.path == "/_sim/incoming-call" and req.method == "POST":
            digits = [d for d in f.get("Digits", "").split(",")] if f.get("Digits") else None
            call = self.incoming_call(f.get("From", "+15550001111"), f.get("To"), digits=digits)
            return 200, {"sid": call.sid, "status": call.status, "says": call.says,
                         "dials": [{"number": d["number"], "status": d["status"]} for d in call.dials]}, {}
        if req.path == "/_sim/log" and req.method == "GET":
            with self._lock:
                return 200, {"messages": [m.json() for m in self.messages],
                             "calls": [dict(c.json(), says=c.says, digits=c.digits) for c in self.calls],
                             "errors": list(self.errors)}, {}
        return _err(404, 20404, "no such control endpoint")

    # ---- outbound webhooks ------------------------------------------------------------

    def webhook(self, purpose, url, params, method="POST", sid=None, signature_override=None,
                record=True):
        """Send one signed request to plantao; returns the Webhook (status, body, error)."""
        params = {k: str(v) for k, v in params.items() if v is not None}
        if method == "GET":
            sep = "&" if "?" in url else "?"
            full = url + sep + urllib.parse.urlencode(params) if params else url
            data = None
            sig = signature(self.auth_token, full)
        else:
            full = url
            data = urllib.parse.urlencode(params).encode()
            sig = signature(self.auth_token, url, params)
        if signature_override is not None:
            sig = signature_override
        wh = Webhook(purpose, method, url, params, sid)
        headers = {"User-Agent": "TwilioProxy/1.1", "Accept": "*/*",
                   "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        if sig is not False:
            headers["X-Twilio-Signature"] = sig
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        r = urllib.request.Request(full, data=data, method=method, headers=headers)
        t0 = time.monotonic()
        try:
            with _opener.open(r, timeout=WEBHOOK_TIMEOUT) as resp:
                wh.status = resp.status
                wh.headers = {k.lower(): v for k, v in resp.headers.items()}
                wh.body = resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            wh.status = e.code
            wh.headers = {k.lower(): v for k, v in e.headers.items()}
            wh.body = e.read().decode("utf-8", "replace")
        except (OSError, urllib.error.URLError) as e:
            wh.error = "%s: %s" % (type(e).__name__, getattr(e, "reason", e))
        wh.elapsed = time.monotonic() - t0
        if record:
            with self._lock:
                self.webhooks.append(wh)
        self.log("-> %s %s %s: %s %s", purpose, method, url, wh.status, wh.error or "")
        return wh

    def _status_callback_ok(self, wh, what):
        if wh.error or wh.status is None or not 200 <= wh.status < 300:
            self._error("%s callback %s %s failed: %s" % (what, wh.method, wh.url, wh.error or wh.status))

    # ---- status callbacks -------------------------------------------------------------
    #
    # Each message and call has its own sender thread, so a held, slow or failing callback
    # never stalls the call itself (Twilio sends them asynchronously too). Callbacks are
    # delivered in the order they happen, unless the phone scripts an order: then they are
    # kept until the message or call is final and sent in that order. Dropped ones are never
    # sent. Sequence numbers always follow the real order, so plantao can tell.

    def _queue_callback(self, owner, event, method, url, params, order, drop, final):
        with self._lock:
            if event is not None and url:
                owner._cb_pending.append((event, method, url, params))
            if order is not None and not final:
                return
            batch = owner._cb_pending
            owner._cb_pending = []
        if order is not None:
            rank = {s: i for i, s in enumerate(order)}
            batch.sort(key=lambda p: rank.get(p[0], len(rank)))
        for item in batch:
            if item[0] not in drop:
                owner._cb_queue.append(item)
        if final:
            owner._cb_queue.append(None)
        with self._lock:
            if owner._cb_thread is None:
                owner._cb_thread = threading.Thread(target=self._send_callbacks, args=(owner,), daemon=True,
                                                    name="sim-callbacks-" + owner.sid)
                owner._cb_thread.start()
        self._changed()

    def _send_callbacks(self, owner):
        while True:
            with self._cv:
                while not owner._cb_queue:
                    self._cv.wait(0.1)
                item = owner._cb_queue.pop(0)
            if item is None:
                break
            event, method, url, params = item
            self._gate.wait()
            if self._stopped:
                break
            time.sleep(self.callback_delay)
            wh = self.webhook("status", url, params, method=method, sid=owner.sid)
            owner.callbacks.append(wh)
            self._status_callback_ok(wh, "%s status %s" % (type(owner).__name__.lower(), event))
        owner.callbacks_done.set()
        self._changed()

    # ---- messages ---------------------------------------------------------------------

    def _deliver_message(self, msg, phone):
        outcome, code = phone.sms_outcome
        if getattr(msg, "outside_window", False):
            outcome, code = "failed", 63016
        if outcome == "reports":
            statuses, code = code
        else:
            statuses = {"delivered": ["sent", "delivered"], "undelivered": ["sent", "undelivered"],
                        "failed": ["failed"]}[outcome]
        for i, st in enumerate(statuses):
            time.sleep(self.callback_delay)
            if self._stopped:
                return
            with self._lock:
                msg.status = st
                msg.date_updated = self.now()
                if st == "sent":
                    msg.date_sent = msg.date_updated
                if st in ("undelivered", "failed") or (code and i == len(statuses) - 1):
                    msg.error_code = code
                    msg.error_message = _ERROR_TEXT.get(code, "Error %s" % code)
            params = {"AccountSid": msg.account_sid, "ApiVersion": API_VERSION, "From": msg.from_,
                      "To": msg.to, "MessageSid": msg.sid, "SmsSid": msg.sid, "MessageStatus": st,
                      "SmsStatus": st}
            if msg.messaging_service_sid:
                params["MessagingServiceSid"] = msg.messaging_service_sid
            if code and (st in ("undelivered", "failed") or i == len(statuses) - 1):
                params["ErrorCode"] = str(code)
            if msg.to.startswith("whatsapp:"):
                params["ChannelPrefix"] = "whatsapp"
            self._queue_callback(msg, st, "POST", msg.status_callback, params, phone.sms_order,
                                 phone.sms_drop, final=i == len(statuses) - 1)
        self.log("SMS %s %s%s", msg.sid, msg.status, " (%s)" % msg.error_code if msg.error_code else "")
        msg.ended.set()
        self._changed()

    # ---- calls placed through the API -------------------------------------------------

    def _sleep_or_cancel(self, call, seconds):
        """Waits `seconds` (a Behaviour's delay), or until the call is cancelled; a delay that is
        an event (threading.Event) lasts until the test sets it."""
        if hasattr(seconds, "wait"):
            while not seconds.wait(0.02):
                if call.cancel_requested or self._stopped:
                    return
            return
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if call.cancel_requested or self._stopped:
                return
            time.sleep(min(0.02, end - time.monotonic()))

    def _set_call(self, call, status, **kw):
        with self._lock:
            call.status = status
            call.date_updated = self.now()
            for k, v in kw.items():
                setattr(call, k, v)
        self._changed()

    def _call_event(self, call, event, phone, final=False):
        """Status callback for `event` (initiated, ringing, answered, completed); completed is
        sent whenever there is a StatusCallback, the others only when requested."""
        seq = call.seq
        call.seq += 1
        wanted = call.status_callback and (event == "completed" or event in call.events_requested)
        params = None
        if wanted:
            params = {"AccountSid": call.account_sid, "ApiVersion": API_VERSION, "CallSid": call.sid,
                      "CallStatus": "initiated" if event == "initiated" else call.status,
                      "Called": call.to, "Caller": call.from_, "Direction": call.direction,
                      "From": call.from_, "To": call.to, "SequenceNumber": seq,
                      "Timestamp": rfc2822(self.now()), "CallbackSource": "call-progress-events"}
            if call.parent_call_sid:
                params["ParentCallSid"] = call.parent_call_sid
            if call.amd and call.answered_by:
                params["AnsweredBy"] = call.answered_by
            if event == "completed":
                params["CallDuration"] = call.duration or 0
                params["Duration"] = (int(call.duration or 0) + 59) // 60
                if call.status == "failed":
                    params["ErrorCode"] = "32005"
        self._queue_callback(call, event if wanted else None, call.status_callback_method,
                             call.status_callback, params, phone.call_order, phone.call_drop, final)

    def _run_api_call(self, call, b):
        phone = self.phone(call.to)
        try:
            time.sleep(self.callback_delay)
            self._call_event(call, "initiated", phone)
            timeout = _int(call.form.get("Timeout"), 60)
            if b.kind in ("failed", "busy"):
                self._sleep_or_cancel(call, b.delay)
                self._set_call(call, "canceled" if call.cancel_requested else b.kind)
            else:
                self._set_call(call, "ringing")
                self._call_event(call, "ringing", phone)
                self._sleep_or_cancel(call, b.delay)
                if call.cancel_requested:
                    self._set_call(call, "canceled")
                elif b.kind == "no-answer" or b.ring >= timeout:
                    self._set_call(call, "no-answer")
                else:
                    answered_by = None
                    if call.amd:
                        if b.kind == "machine":
                            answered_by = "machine_end_beep" if call.amd == "DetectMessageEnd" else "machine_start"
                        else:
                            answered_by = "human"
                    self._set_call(call, "in-progress", start_time=self.now(), answered_by=answered_by)
                    self._call_event(call, "answered", phone)
                    digits = _Digits(b.digits if b.kind == "answer" else [])
                    if call.async_amd:
                        status = self._run_async_amd(call, b, digits)
                    else:
                        extra = {"AnsweredBy": answered_by} if answered_by else {}
                        status = self._run_twiml(call, digits, call.form.get("Url"),
                                                 call.form.get("Method", "POST").upper(), extra,
                                                 inline=call.form.get("Twiml"))
                    self._set_call(call, status)
            self._end_call(call)
        finally:
            self._call_event(call, "completed", phone, final=True)
            call.ended.set()
            self._report_call(call)
            self._changed()

    def _amd_callback(self, call, answered_by, seconds):
        """The AsyncAmdStatusCallback, as Twilio sends it once detection is over."""
        if not call.amd_callback:
            return
        params = {"AccountSid": call.account_sid, "CallSid": call.sid, "AnsweredBy": answered_by,
                  "MachineDetectionDuration": int(seconds * 1000)}
        wh = self.webhook("amd", call.amd_callback, params, method=call.amd_callback_method, sid=call.sid)
        call.webhooks.append(wh)
        self._status_callback_ok(wh, "AsyncAmd status")

    def _run_async_amd(self, call, b, digits):
        """AsyncAmd=true: the call's TwiML is fetched and played at once (no AnsweredBy in that
        request); detection runs meanwhile and its result goes to AsyncAmdStatusCallback. A person
        hears the TwiML as usual. An answering machine plays its greeting over the start of the
        TwiML (those words are lost: `over_greeting`); with DetectMessageEnd the callback comes
        when the greeting ended (machine_end_beep), and what the application then makes the call
        say by updating it (Url or Twiml through the API) is what the machine records
        (`voicemail`). Without an update within AMD_UPDATE_WAIT the TwiML just goes on."""
        url, method = call.form.get("Url"), call.form.get("Method", "POST").upper()
        if b.kind != "machine":  # detection ends while the person already hears the TwiML
            t = threading.Timer(0.2, self._amd_callback, args=(call, "human", 1.5))
            t.daemon = True
            t.start()
            status = self._run_twiml(call, digits, url, method, {}, inline=call.form.get("Twiml"))
            t.join(WEBHOOK_TIMEOUT)
            return status
        try:
            if call.form.get("Twiml") is None:
                first = self._fetch_twiml(call, "voice", url, method, {})
                call.over_greeting.extend(" ".join("".join(v.itertext()).split()) for v in first.iter("Say"))
        except _Hangup as h:
            return h.status
        call.sim_seconds += 12  # the greeting
        detected = "machine_end_beep" if call.amd == "DetectMessageEnd" else "machine_start"
        self._amd_callback(call, detected, 12 if detected == "machine_end_beep" else 3)
        deadline = time.monotonic() + AMD_UPDATE_WAIT
        while not call.update_event.wait(0.02):
            if call.cancel_requested or self._stopped:
                return "completed"
            if time.monotonic() >= deadline:
                call.transcript.append(("no-update-after-beep",))
                return "completed"
        u_url, u_method, u_twiml = call.update
        before = len(call.says)
        status = self._run_twiml(call, _Digits([]), u_url, u_method, {}, inline=u_twiml, purpose="update")
        call.voicemail.extend(call.says[before:])
        return status

    def _end_call(self, call):
        with self._lock:
            call.end_time = self.now()
            if call.start_time is not None:
                call.duration = max(1, int(round(call.sim_seconds)))
            else:
                call.duration = 0

    def _report_call(self, call):
        if self.verbose:
            self.log("CALL %s %s -> %s %s%s heard %r pressed %r (%ss)", call.sid, call.from_, call.to,
                     call.status, " by " + call.answered_by if call.answered_by else "", call.says,
                     call.digits, call.duration)

    # ---- TwiML interpreter ------------------------------------------------------------

    def _base_params(self, call, status):
        p = {"AccountSid": call.account_sid, "ApiVersion": API_VERSION, "CallSid": call.sid,
             "CallStatus": status, "Called": call.to, "Caller": call.from_,
             "Direction": call.direction, "From": call.from_, "To": call.to}
        if call.parent_call_sid:
            p["ParentCallSid"] = call.parent_call_sid
        return p

    def _fetch_twiml(self, call, purpose, url, method, extra, status="in-progress"):
        """Fetch a TwiML document; returns the parsed <Response> or raises _Hangup after
        recording Twilio's error (11200 HTTP failure, 12100 parse error, 12300 content type)."""
        params = self._base_params(call, status)
        params.update(extra)
        wh = self.webhook(purpose, url, params, method=method, sid=call.sid)
        call.webhooks.append(wh)
        if wh.error or wh.status != 200:
            return self._twiml_error(call, 11200, "%s %s: HTTP %s" % (method, url, wh.error or wh.status))
        if "chunked" in wh.headers.get("transfer-encoding", "").lower():
            return self._twiml_error(call, 11200, "%s %s: chunked TwiML (no Content-Length)" % (method, url))
        ctype = wh.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("text/xml", "application/xml"):
            return self._twiml_error(call, 12300, "%s %s: Content-Type %r" % (method, url, ctype))
        try:
            root = ET.fromstring(wh.body.encode("utf-8"))
        except ET.ParseError as e:
            return self._twiml_error(call, 12100, "%s %s: %s in %r" % (method, url, e, wh.body[:200]))
        if root.tag != "Response":
            return self._twiml_error(call, 12100, "%s %s: root is <%s>" % (method, url, root.tag))
        return root

    def _twiml_error(self, call, code, text):
        call.errors.append(code)
        call.transcript.append(("error", code))
        self._error("call %s to %s: error %d: %s" % (call.sid, call.to, code, text))
        raise _Hangup("completed" if call.start_time else "failed")

    def _run_twiml(self, call, digits, url, method, extra, inline=None, allow_dial=True, purpose="voice",
                   on_hangup=None):
        """Play TwiML to one party until the call ends. Returns the final CallStatus, or
        `on_hangup` when the TwiML (or an error in it) hung up, if given."""
        try:
            if inline is not None:
                try:
                    root = ET.fromstring(inline.encode("utf-8"))
                except ET.ParseError as e:
                    self._twiml_error(call, 12100, "inline Twiml: %s" % e)
                doc = url or ""
            else:
                root = self._fetch_twiml(call, purpose, url, method, extra,
                                         status="ringing" if call.direction == "inbound" else "in-progress")
                doc = url
            fetches = 1
            while root is not None:
                nxt = self._play(call, root, doc, digits, allow_dial)
                if nxt is None:
                    break
                step, url, method, extra = nxt
                fetches += 1
                if fetches > MAX_FETCHES:
                    call.transcript.append(("loop-guard", fetches))
                    break
                root = self._fetch_twiml(call, step if purpose == "voice" else purpose + "-" + step,
                                         url, method, extra)
                doc = url
            return "completed"
        except _Hangup as h:
            return on_hangup or h.status

    def _play(self, call, root, doc, digits, allow_dial):
        """Run the verbs of one document. Returns (purpose, url, method, params) of the next
        document to fetch, or None when the call ends."""
        verbs = list(root)
        i = 0
        while i < len(verbs):
            if len(call.transcript) > MAX_VERBS:
                call.transcript.append(("loop-guard", len(call.transcript)))
                return None
            if call.cancel_requested or self._stopped:
                raise _Hangup("completed")
            v = verbs[i]
            i += 1
            tag = v.tag
            if tag in ("Say", "Play", "Pause"):
                self._hear(call, v)
            elif tag == "Gather":
                for child in v:
                    if child.tag in ("Say", "Play", "Pause"):
                        self._hear(call, child)
                pressed = digits.next()
                timeout = _int(v.get("timeout"), 5)
                action = urllib.parse.urljoin(doc, v.get("action") or doc)
                method = (v.get("method") or "POST").upper()
                if pressed:
                    finish = v.get("finishOnKey", "#")
                    if finish and finish in pressed:
                        pressed = pressed[:pressed.index(finish)]
                    nd = _int(v.get("numDigits"), 0)
                    if nd:
                        pressed = pressed[:nd]
                    call.digits.append(pressed)
                    call.transcript.append(("press", pressed))
                    call.sim_seconds += 1
                    return ("gather", action, method, {"Digits": pressed, "FinishedOnKey": ""})
                call.transcript.append(("no-input", timeout))
                call.sim_seconds += timeout
                if v.get("actionOnEmptyResult", "false") == "true":
                    return ("gather", action, method, {"Digits": ""})
            elif tag == "Redirect":
                target = urllib.parse.urljoin(doc, (v.text or "").strip() or doc)
                call.transcript.append(("redirect", target))
                return ("redirect", target, (v.get("method") or "POST").upper(), {})
            elif tag == "Hangup":
                call.transcript.append(("hangup",))
                raise _Hangup("completed")
            elif tag == "Reject":
                reason = v.get("reason", "rejected")
                call.transcript.append(("reject", reason))
                raise _Hangup("busy" if reason == "busy" else "no-answer")
            elif tag == "Record":
                nxt = self._record(call, v, doc)
                if nxt is not None:
                    return nxt
            elif tag == "Dial":
                if not allow_dial:
                    self._twiml_error(call, 12100, "<Dial> is not allowed here (whisper TwiML)")
                nxt = self._dial(call, v, doc)
                if nxt is not None:
                    return nxt
            elif tag == "Message":
                call.transcript.append(("message", (v.text or "").strip()))
            else:
                self._twiml_error(call, 12100, "unsupported verb <%s> in %s" % (tag, doc))
        return None

    def _hear(self, call, v):
        if v.tag == "Say":
            text = " ".join("".join(v.itertext()).split())
            loops = _int(v.get("loop"), 1) or 3
            call.says.append(text)
            call.transcript.append(("say", text, v.get("language"), v.get("voice")))
            call.sim_seconds += max(1, len(text.split()) / 2.5) * loops
        elif v.tag == "Play":
            url = (v.text or "").strip()
            call.played.append(url)
            call.transcript.append(("play", url))
            call.sim_seconds += 5
        elif v.tag == "Pause":
            length = _int(v.get("length"), 1)
            call.transcript.append(("pause", length))
            call.sim_seconds += length

    def _record(self, call, v, doc):
        """<Record>: the caller leaves a message of `record_seconds`, then hangs up (or presses
        the key set in call.record_end)."""
        seconds = min(call.record_seconds, _int(v.get("maxLength"), 3600))
        ends = call.record_end
        if v.get("playBeep", "true") != "false":
            call.transcript.append(("beep",))
        rsid = new_sid("RE")
        rurl = "%s/%s/Accounts/%s/Recordings/%s" % (self.url, API_VERSION, call.account_sid, rsid)
        rec = {"sid": rsid, "url": rurl, "duration": seconds, "time": self.now()}
        call.recordings.append(rec)
        call.transcript.append(("record", seconds))
        call.sim_seconds += seconds
        action = urllib.parse.urljoin(doc, v.get("action") or doc)
        method = (v.get("method") or "POST").upper()
        params = {"RecordingUrl": rurl, "RecordingSid": rsid, "RecordingDuration": seconds}
        if ends == "hangup":
            params["Digits"] = "hangup"
        elif ends:
            params["Digits"] = ends
        # Twilio's recording and transcription callbacks arrive after the call moved on.
        extra_cbs = []
        if v.get("recordingStatusCallback"):
            extra_cbs.append(("recording", urllib.parse.urljoin(doc, v.get("recordingStatusCallback")),
                              (v.get("recordingStatusCallbackMethod") or "POST").upper(),
                              {"RecordingSid": rsid, "RecordingUrl": rurl, "RecordingStatus": "completed",
                               "RecordingDuration": seconds, "RecordingChannels": 1,
                               "RecordingSource": "RecordVerb", "CallSid": call.sid,
                               "AccountSid": call.account_sid,
                               "RecordingStartTime": rfc2822(self.now())}))
        text = call.transcription
        if v.get("transcribe") == "true" or v.get("transcribeCallback"):
            call.transcription_requested = True
            # Twilio transcribes only recordings shorter than two minutes: a longer one gets a
            # failed transcription (no text), billed all the same.
            too_long = seconds >= TRANSCRIBE_MAX_SECONDS
            if v.get("transcribeCallback") and (text is not None or too_long):
                p = self._base_params(call, "completed")
                p.update({"TranscriptionSid": new_sid("TR"), "TranscriptionText": "" if too_long else text,
                          "TranscriptionStatus": "failed" if too_long else "completed", "TranscriptionType": "fast",
                          "TranscriptionUrl": "%s/%s/Accounts/%s/Transcriptions/%s" % (
                              self.url, API_VERSION, call.account_sid, new_sid("TR")),
                          "RecordingSid": rsid, "RecordingUrl": rurl, "url": rurl})
                extra_cbs.append(("transcription", urllib.parse.urljoin(doc, v.get("transcribeCallback")),
                                  "POST", p))
        call.after_hangup.extend(extra_cbs)
        if ends == "hangup":
            # The caller is gone: Twilio still requests the action (Digits=hangup) and
            # ignores the TwiML it answers.
            p = self._base_params(call, "completed")
            p.update(params)
            wh = self.webhook("record", action, p, method=method, sid=call.sid)
            call.webhooks.append(wh)
            if wh.error or wh.status != 200:
                self._error("call %s: record action %s failed: %s" % (call.sid, action, wh.error or wh.status))
            raise _Hangup("completed")
        return ("record", action, method, params)

    def _dial(self, call, v, doc):
        """<Dial>: ring each <Number> with its phone's behaviour; the first that answers and
        whose whisper (Number url) does not hang up is bridged, the numbers after it are
        canceled. Then POST the action with DialCallStatus, DialCallSid, DialCallDuration."""
        timeout = _int(v.get("timeout"), 30)
        caller_id = v.get("callerId") or call.from_
        numbers = [n for n in v if n.tag == "Number"]
        if not numbers and (v.text or "").strip():
            numbers = [ET.Element("Number")]
            numbers[0].text = v.text.strip()
        if not numbers:
            self._twiml_error(call, 12100, "<Dial> without a number")
        bridged, best = None, None
        for n in numbers:
            number = (n.text or "").strip()
            leg = self._new_leg(call, number, caller_id, n, doc)
            entry = {"number": number, "leg": leg, "status": None, "action": v.get("action")}
            call.dials.append(entry)
            if bridged is not None:
                entry["status"] = "canceled"
                self._ring_leg(call, leg, n, doc, timeout, cancel=True)
                continue
            status, duration = self._ring_leg(call, leg, n, doc, timeout)
            entry["status"] = status
            call.transcript.append(("dial", number, status))
            if leg.bridged_to:
                bridged = (status, leg, duration)
            elif best is None or _dial_rank(status) > _dial_rank(best[0]):
                best = (status, leg, duration)
        status, leg, duration = bridged or best
        call.sim_seconds += duration
        if bridged:
            call.bridged_to = leg.to
        action = v.get("action")
        if not action:
            return None
        params = {"DialCallStatus": status, "DialCallSid": leg.sid, "DialCallDuration": duration}
        if bridged:
            params["DialBridged"] = "true"
        return ("dial", urllib.parse.urljoin(doc, action), (v.get("method") or "POST").upper(), params)

    def _new_leg(self, parent, number, caller_id, n, doc):
        leg = Call(self, number, caller_id, "outbound-dial", parent=parent)
        leg.events_requested = set((n.get("statusCallbackEvent") or "").split())
        if n.get("statusCallback"):
            leg.status_callback = urllib.parse.urljoin(doc, n.get("statusCallback"))
        leg.status_callback_method = (n.get("statusCallbackMethod") or "POST").upper()
        leg.amd = n.get("machineDetection")
        with self._lock:
            self.calls.append(leg)
        self._changed()
        return leg

    def _ring_leg(self, parent, leg, n, doc, timeout, cancel=False):
        """Play one <Number> of a <Dial>. Returns (DialCallStatus, DialCallDuration)."""
        phone = self.phone(leg.to)
        b = Behaviour("no-answer") if cancel else phone._next()
        try:
            self._call_event(leg, "initiated", phone)
            if cancel:
                self._set_call(leg, "canceled")
                return "canceled", 0
            if b.kind in ("failed", "busy"):
                self._sleep_or_cancel(leg, b.delay)
                self._set_call(leg, b.kind)
                return b.kind, 0
            self._set_call(leg, "ringing")
            self._call_event(leg, "ringing", phone)
            self._sleep_or_cancel(leg, b.delay)
            if b.kind == "no-answer" or b.ring >= timeout:
                parent.sim_seconds += timeout
                self._set_call(leg, "no-answer")
                return "no-answer", 0
            answered_by = None
            if leg.amd:
                answered_by = "human" if b.kind == "answer" else "machine_start"
            parent.sim_seconds += b.ring
            self._set_call(leg, "in-progress", start_time=self.now(), answered_by=answered_by)
            self._call_event(leg, "answered", phone)
            if n.get("url"):
                # The whisper: TwiML run on the callee's leg before bridging; a <Hangup/> (or an
                # error) there means the callee declined and nobody is connected.
                digits = _Digits(b.digits if b.kind == "answer" else [])
                url = urllib.parse.urljoin(doc, n.get("url"))
                status = self._run_twiml(leg, digits, url, (n.get("method") or "POST").upper(), {},
                                         allow_dial=False, purpose="whisper", on_hangup="declined")
                if status == "declined":
                    self._set_call(leg, "completed")
                    return self.whisper_declined_status, max(1, int(round(leg.sim_seconds)))
            leg.bridged_to = parent.from_
            leg.sim_seconds += b.talk
            self._set_call(leg, "completed")
            return "completed", max(1, int(round(leg.sim_seconds)))
        finally:
            self._end_call(leg)
            self._call_event(leg, "completed", phone, final=True)
            leg.ended.set()
            self._report_call(leg)
            self._changed()

    # ---- traffic towards plantao (the customer side) ----------------------------------

    def incoming_call(self, from_, to=None, digits=None, record_seconds=7, record_end="hangup",
                      transcription=None, path="/twilio/voice", wait=True, status_callback=None):
        """A customer calls the support line. `digits`: keys the caller presses at successive
        <Gather>s; at <Record> the caller speaks `record_seconds` and hangs up (record_end='#'
        finishes with the key instead); `transcription`: the text of a requested transcription.
        Returns the inbound Call (says, dials, recordings, ...) once it has ended (wait=False:
        at once, running in the background; wait with call.ended)."""
        to = to or self.support_number
        call = Call(self, to, from_, "inbound")
        call.record_seconds = record_seconds
        call.record_end = record_end
        call.transcription = transcription
        call.status = "ringing"
        call.status_callback = status_callback
        call.consumed = True
        with self._lock:
            self.calls.append(call)
            self.incoming.append(call)
        self._changed()

        def run():
            try:
                call.start_time = self.now()
                status = self._run_twiml(call, _Digits(digits), self.plantao_url + path, "POST", {})
                self._set_call(call, status)
                self._end_call(call)
                for purpose, url, method, params in call.after_hangup:
                    wh = self.webhook(purpose, url, params, method=method, sid=call.sid)
                    call.webhooks.append(wh)
                    self._status_callback_ok(wh, purpose)
            finally:
                self._call_event(call, "completed", Phone(self, from_), final=True)
                call.ended.set()
                self._report_call(call)
                self._changed()

        if wait:
            run()
        else:
            threading.Thread(target=run, daemon=True, name="sim-incoming-" + call.sid).start()
        return call

    def incoming_sms(self, from_, body, to=None, path="/twilio/sms", extra=None):
        """A person texts the team number. Returns the texts of the <Message>s plantao answers."""
        to = to or self.support_number
        sid = new_sid("SM")
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid_for_json(),
                  "From": from_, "To": to, "Body": body, "NumMedia": "0", "NumSegments": str(sms_segments(body)),
                  "SmsStatus": "received", "ApiVersion": API_VERSION}
        params.update(extra or {})
        word = body.strip().upper()
        with self._lock:
            if from_.startswith("whatsapp:"):
                self.whatsapp_inbound[(from_, to)] = self.now()
            elif word in _OPT_OUT_WORDS:
                self.opted_out.add((from_, to))
            elif word in _OPT_IN_WORDS:
                self.opted_out.discard((from_, to))
        wh = self.webhook("sms", self.plantao_url + path, params, sid=sid)
        record = {"sid": sid, "from": from_, "to": to, "body": body, "webhook": wh, "replies": []}
        with self._lock:
            self.incoming.append(record)
        if wh.error or wh.status != 200:
            self._error("incoming SMS %s: webhook failed: %s" % (sid, wh.error or wh.status))
            return []
        if not wh.body.strip():
            return []
        try:
            root = ET.fromstring(wh.body.encode("utf-8"))
        except ET.ParseError as e:
            self._error("incoming SMS %s: 12100 %s in %r" % (sid, e, wh.body[:200]))
            return []
        if root.tag != "Response":
            self._error("incoming SMS %s: 12100 root is <%s>" % (sid, root.tag))
            return []
        for m in root.iter("Message"):
            body_el = m.find("Body")
            text = "".join((body_el if body_el is not None else m).itertext()).strip()
            record["replies"].append(text)
        self.log("SMS in %s -> %s %r: replies %r", from_, to, body, record["replies"])
        return record["replies"]

    def post_webhook(self, path, params, signature=None, method="POST"):
        """Raw signed (or, with signature=False / a string, unsigned / forged) request to plantao;
        returns the Webhook, not recorded as an error source."""
        return self.webhook("raw", self.plantao_url + path, params, method=method,
                            signature_override=signature, record=False)


# --------------------------------------------------------------------------------------
# HTTP glue
# --------------------------------------------------------------------------------------

_OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
_OPT_IN_WORDS = {"START", "UNSTOP", "YES"}

_ERROR_TEXT = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    63016: "Failed to send freeform message because you are outside the allowed window. If you are using "
           "WhatsApp, please use a Message Template.",
}


def _default_message(code, req):
    return {20429: "Too Many Requests", 20500: "Internal Server Error", 20503: "Service Unavailable",
            20003: "Authenticate", 21211: "The 'To' number %s is not a valid phone number." % req.form.get("To", ""),
            }.get(code, "Error %s" % code)


def _err(status, code, message, detail=None):
    body = {"code": code, "message": message, "more_info": MORE_INFO % code, "status": status}
    if detail:
        body["detail"] = detail
    return status, body, {}


def _matches(text, containing):
    if containing is None:
        return True
    if hasattr(containing, "search"):
        return containing.search(text) is not None
    return containing in text


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _dial_rank(status):
    return {"completed": 4, "busy": 3, "no-answer": 2, "failed": 1}.get(status, 0)


def _silent_wav(seconds):
    rate = 8000
    n = rate * max(0, min(int(seconds), 5))
    hdr = b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return hdr + b"data" + struct.pack("<I", n) + b"\x80" * n


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


_opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class _RestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "twilio-sim/1.0"
    sim = None

    def setup(self):
        super().setup()
        with self.sim._lock:
            self.sim._conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.sim._lock:
                self.sim._conns.discard(self.connection)

    def log_message(self, fmt, *args):
        pass

    def _handle(self):
        sim = self.sim
        if sim._is_down:
            self.close_connection = True
            return
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form_pairs = []
        if raw and ctype in ("application/x-www-form-urlencoded", ""):
            form_pairs = urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        auth = None
        h = self.headers.get("Authorization") or ""
        if h.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(h[6:].strip()).decode().partition(":")
                auth = (user, password)
            except (ValueError, UnicodeDecodeError):
                auth = None
        req = Request(self.command, parsed.path, urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                      form_pairs, auth, None, dict(self.headers.items()))
        if raw and ctype not in ("application/x-www-form-urlencoded", "") and not parsed.path.startswith("/_sim/"):
            status, body, headers = _err(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
            fault = None
        else:
            status, body, headers, fault = sim.handle_rest(req)
        req.status = status
        sim._changed()
        if fault and fault["action"] == "lose":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            req.status = "lost"
            return
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        else:
            data = body
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Twilio-Request-Id", new_sid("RQ"))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # plantao went away (killed, or gave up at its timeout) before the answer: like
            # Twilio, what was done stays done
            self.close_connection = True
            req.status = "unanswered"

    do_GET = do_POST = do_DELETE = do_HEAD = _handle


# --------------------------------------------------------------------------------------
# Standalone mode
# --------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="A local fake of Twilio's REST API and phones, for plantao.")
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--auth-token", required=True, help="TWILIO_AUTH_TOKEN plantao uses")
    ap.add_argument("--account-sid", default=None, help="TWILIO_ACCOUNT_SID plantao uses (default: any)")
    ap.add_argument("--plantao-url", default="http://127.0.0.1:8080", help="PLANTAO_PUBLIC_URL")
    ap.add_argument("--support-number", default="+15005550006", help="the team's Twilio number (TWILIO_FROM)")
    ap.add_argument("--phones", default="answers:1",
                    help="how phones behave: answers:DIGITS, no-answer, busy, machine (default answers:1)")
    args = ap.parse_args(argv)
    sim = TwilioSim(args.account_sid, args.auth_token, args.plantao_url, port=args.port, host=args.host,
                    verbose=True)
    sim.support_number = args.support_number
    kind, _, digits = args.phones.partition(":")
    sim.default_phone = {"answers": Behaviour("answer", digits or None), "no-answer": Behaviour("no-answer"),
                         "busy": Behaviour("busy"), "machine": Behaviour("machine")}.get(kind)
    if sim.default_phone is None:
        ap.error("unknown --phones %r" % args.phones)
    sim.start()
    print("twilio-sim: listening on %s (set TWILIO_API_BASE=%s); webhooks go to %s" % (sim.url, sim.url,
                                                                                       sim.plantao_url))
    print("twilio-sim: a customer calls:  curl --data-urlencode From=+5511999990000 %s/_sim/incoming-call"
          % sim.url)
    print("twilio-sim: someone texts:     curl --data-urlencode From=+5511999990000 -d Body=quem "
          "%s/_sim/incoming-sms" % sim.url)
    print("twilio-sim: everything so far: curl %s/_sim/log" % sim.url)
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
