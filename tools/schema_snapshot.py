#!/usr/bin/env python3
"""tools/schema_snapshot.py — writes the SQLite database that migrations/NNNN_*.sql give when
applied in order to a new file (schema and the rows they insert, schema_migrations included), as
one script. The Makefile runs it into $(B)/gen/snapshot.sql whenever a migration or this tool
changes and embeds the result as migrations/snapshot.sql; it is a build product, not kept in the
repository. db_migrate runs it on a new SQLite file instead of the migrations one by one (34
ALTER TABLEs re-parse the whole schema each: ~15 ms of CPU at every first start), then applies
whatever migration it does not record. tests/unit/db/test_db.c checks that the snapshot gives
the same database as the migrations, which guards this tool.

usage: python3 tools/schema_snapshot.py [OUT [ROOT]]
  OUT: the file to write (written whole or not at all), "-" or none: standard output
  ROOT: the repository, default: the one this tool is in
"""
import glob
import os
import sqlite3
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "-"
ROOT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MIGRATIONS = os.path.join(ROOT, "migrations")
# db_version creates it before any migration runs
SKIP = {"schema_migrations", "sqlite_sequence"}


def literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, bytes):
        return "X'%s'" % v.hex()
    return "'%s'" % v.replace("'", "''")


def main():
    files = sorted(glob.glob(os.path.join(MIGRATIONS, "[0-9][0-9][0-9][0-9]_*.sql")))
    if not files:
        sys.exit("schema_snapshot: no migrations in %s" % MIGRATIONS)
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "applied_at INTEGER NOT NULL)")
    for f in files:
        name = os.path.basename(f)
        with open(f, encoding="utf-8") as fh:
            db.executescript(fh.read())
        db.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (int(name[:4]), name))
    out = ["-- migrations/snapshot.sql — GENERATED at build time by tools/schema_snapshot.py: the database",
           "-- migrations %s to %s give a new SQLite file, in one script (db_migrate runs it on a new file)."
           % (os.path.basename(files[0])[:4], os.path.basename(files[-1])[:4]),
           "-- applied_at is set when it runs.", ""]
    for kind in ("table", "index", "view", "trigger"):
        for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL "
                                    "ORDER BY rowid", (kind,)):
            if name in SKIP or name.startswith("sqlite_"):
                continue
            out.append(sql + ";")
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")]
    # sqlite_sequence follows the INSERTs into AUTOINCREMENT tables by itself
    tables = [t for t in tables if t != "sqlite_sequence"]
    for t in tables:
        cols = [r[1] for r in db.execute('PRAGMA table_info("%s")' % t)]
        collist = ", ".join('"%s"' % c for c in cols)
        try:  # a WITHOUT ROWID table has no rowid: its rows in key order
            rows = db.execute('SELECT %s FROM "%s" ORDER BY rowid' % (collist, t)).fetchall()
        except sqlite3.OperationalError:
            rows = db.execute('SELECT %s FROM "%s"' % (collist, t)).fetchall()
        for row in rows:
            out.append('INSERT INTO "%s" (%s) VALUES (%s);' % (t, collist, ", ".join(literal(v) for v in row)))
    text = "\n".join(out) + "\n"
    if OUT == "-":
        sys.stdout.write(text)
        return
    # a failed or interrupted run leaves no half-written OUT for make to take as up to date
    with open(OUT + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(OUT + ".tmp", OUT)


if __name__ == "__main__":
    main()
