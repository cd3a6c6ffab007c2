"""
tests/integration/pgclient.py — a small PostgreSQL client for the tests, standard library only.

What it owns: PostgreSQL's frontend/backend protocol 3.0 (simple query flow, text results;
https://www.postgresql.org/docs/15/protocol-flow.html) on one TCP connection, with trust,
cleartext or md5 authentication (the throw-away cluster of tests/pg/cluster trusts loopback),
and a DB-API-like face shaped after Python's sqlite3 so that a test reads the same against
either database:

    conn = connect("postgresql://plantao@127.0.0.1:5432/db")
    with conn:                                   # a transaction, like sqlite3
        cur = conn.execute("INSERT INTO outbox (...) VALUES (?, ?)", ("sms", "x"))
        cur.lastrowid                            # the new row's id
    conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

`?` parameters are sent as SQL literals quoted here (the simple protocol has no parameters):
str (quotes doubled; standard_conforming_strings is on), int, float, bool (as 0/1, the way the
schema keeps flags), bytes (bytea) and None. Rows are Row objects: tuples that also answer
row["column"] and dict(row), like sqlite3.Row. Values come back as int (int2/4/8, oid), float
(float4/8, numeric), bool, or str (everything else). Not for production: plantao itself speaks
libpq.
"""

import hashlib
import socket
import struct
import urllib.parse

INT_TYPES = {20, 21, 23, 26}
FLOAT_TYPES = {700, 701, 1700}
BOOL_TYPE = 16
DML_WORDS = ("INSERT", "UPDATE", "DELETE")


class Error(Exception):
    """An ErrorResponse: .sqlstate (e.g. 23505 unique violation) and the message."""

    def __init__(self, sqlstate, message):
        super().__init__("%s: %s" % (sqlstate, message))
        self.sqlstate = sqlstate
        self.message = message


class Row(tuple):
    def __new__(cls, values, names):
        r = super().__new__(cls, values)
        r._names = names
        return r

    def keys(self):
        return list(self._names)

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)


def literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "'\\x%s'::bytea" % bytes(v).hex()
    s = str(v)
    if "\0" in s:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return "'" + s.replace("'", "''") + "'"


def bind(sql, params):
    """Replaces each `?` outside quotes and comments with the next parameter as a literal."""
    params = list(params or ())
    out, i, n, used = [], 0, len(sql), 0
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif c == "?":
            if used >= len(params):
                raise ValueError("more ? than parameters in %r" % sql)
            out.append(literal(params[used]))
            used += 1
            i += 1
        else:
            out.append(c)
            i += 1
    if used != len(params):
        raise ValueError("%d parameters for %d placeholders in %r" % (len(params), used, sql))
    return "".join(out)


class Cursor:
    def __init__(self):
        self.description = None
        self.rows = []
        self.rowcount = -1
        self.lastrowid = None
        self._pos = 0

    def fetchone(self):
        if self._pos >= len(self.rows):
            return None
        self._pos += 1
        return self.rows[self._pos - 1]

    def fetchall(self):
        rest = self.rows[self._pos:]
        self._pos = len(self.rows)
        return rest

    def __iter__(self):
        return iter(self.fetchall())


class Connection:
    """One connection. isolation_level "" (the default, as sqlite3's): INSERT/UPDATE/DELETE open a
    transaction that commit() (or leaving a `with` block) ends; None: every statement commits
    on its own and BEGIN/COMMIT are the caller's."""

    def __init__(self, url, timeout=10, isolation_level=""):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("postgres", "postgresql"):
            raise ValueError("not a PostgreSQL URL: %s" % url)
        self.user = urllib.parse.unquote(u.username or "postgres")
        self.password = urllib.parse.unquote(u.password) if u.password is not None else None
        self.dbname = urllib.parse.unquote(u.path.lstrip("/")) or self.user
        self.isolation_level = isolation_level
        self.in_tx = False
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=timeout)
        self._buf = b""
        self._startup()

    # ---- wire -------------------------------------------------------------------------

    def _send(self, kind, payload):
        self.sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)

    def _recv_exact(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("PostgreSQL closed the connection")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _message(self):
        head = self._recv_exact(5)
        kind, length = head[:1], struct.unpack("!I", head[1:])[0]
        return kind, self._recv_exact(length - 4)

    @staticmethod
    def _error(payload):
        fields = {}
        for part in payload.split(b"\0"):
            if part:
                fields[part[:1]] = part[1:].decode("utf-8", "replace")
        return Error(fields.get(b"C", "?????"), fields.get(b"M", "unknown error"))

    def _startup(self):
        params = b"user\0%s\0database\0%s\0client_encoding\0UTF8\0\0" % (self.user.encode(), self.dbname.encode())
        payload = struct.pack("!I", 196608) + params
        self.sock.sendall(struct.pack("!I", len(payload) + 4) + payload)
        while True:
            kind, body = self._message()
            if kind == b"R":
                code = struct.unpack("!I", body[:4])[0]
                if code == 0:
                    continue
                if code == 3 and self.password is not None:
                    self._send(b"p", self.password.encode() + b"\0")
                elif code == 5 and self.password is not None:
                    inner = hashlib.md5(self.password.encode() + self.user.encode()).hexdigest().encode()
                    self._send(b"p", b"md5" + hashlib.md5(inner + body[4:8]).hexdigest().encode() + b"\0")
                else:
                    raise Error("28000", "authentication method %d is not supported by the test client" % code)
            elif kind == b"E":
                raise self._error(body)
            elif kind == b"Z":
                return

    def _query(self, sql):
        """Runs sql (one or more statements); returns the Cursor of the last result."""
        self._send(b"Q", sql.encode("utf-8") + b"\0")
        cur, last, err, names, types = Cursor(), None, None, [], []
        while True:
            kind, body = self._message()
            if kind == b"T":
                (count,), pos = struct.unpack("!H", body[:2]), 2
                names, types, cur = [], [], Cursor()
                for _ in range(count):
                    end = body.index(b"\0", pos)
                    names.append(body[pos:end].decode())
                    typeoid = struct.unpack("!I", body[end + 7:end + 11])[0]
                    types.append(typeoid)
                    pos = end + 19
                cur.description = [(n, t, None, None, None, None, None) for n, t in zip(names, types)]
            elif kind == b"D":
                (count,), pos, values = struct.unpack("!H", body[:2]), 2, []
                for k in range(count):
                    (length,) = struct.unpack("!i", body[pos:pos + 4])
                    pos += 4
                    if length < 0:
                        values.append(None)
                        continue
                    raw = body[pos:pos + length].decode("utf-8")
                    pos += length
                    t = types[k]
                    if t in INT_TYPES:
                        values.append(int(raw))
                    elif t in FLOAT_TYPES:
                        values.append(float(raw))
                    elif t == BOOL_TYPE:
                        values.append(raw == "t")
                    else:
                        values.append(raw)
                cur.rows.append(Row(values, names))
            elif kind == b"C":
                tag = body.rstrip(b"\0").decode().split()
                if tag and tag[-1].isdigit():
                    cur.rowcount = int(tag[-1])
                if tag and tag[0] in ("BEGIN", "START"):
                    self.in_tx = True
                elif tag and tag[0] in ("COMMIT", "ROLLBACK"):
                    self.in_tx = False
                last, cur = cur, Cursor()
            elif kind == b"E":
                err = self._error(body)
            elif kind == b"Z":
                self.in_tx = body[:1] in (b"T", b"E")
                if err is not None:
                    raise err
                return last or cur
            # N (notice), S (parameter status), A (notification), I (empty query): nothing to keep

    # ---- the sqlite3-like face ---------------------------------------------------------

    def execute(self, sql, params=()):
        text = bind(sql, params)
        words = text.lstrip().split(None, 1)
        first = words[0].upper() if words else ""
        if self.isolation_level is not None and first in DML_WORDS and not self.in_tx:
            self._query("BEGIN")
        returning = first == "INSERT" and "RETURNING" not in text.upper() and ";" not in text.rstrip().rstrip(";")
        if returning:
            text = text.rstrip().rstrip(";") + " RETURNING *"
        cur = self._query(text)
        if returning and cur.rows and cur.description and cur.description[0][0] == "id":
            cur.lastrowid = cur.rows[-1][0]
        if returning:
            cur.rows, cur.description = [], None
        return cur

    def executemany(self, sql, seq):
        for params in seq:
            self.execute(sql, params)

    def commit(self):
        if self.in_tx:
            self._query("COMMIT")

    def rollback(self):
        if self.in_tx:
            self._query("ROLLBACK")

    def close(self):
        try:
            self._send(b"X", b"")
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        return False


def connect(url, timeout=10, isolation_level=""):
    return Connection(url, timeout=timeout, isolation_level=isolation_level)
