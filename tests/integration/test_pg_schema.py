"""
tests/integration/test_pg_schema.py — the PostgreSQL migrations are twins of the SQLite ones.

Every migrations/NNNN_name.sql has migrations/pg/NNNN_name.sql (and no PostgreSQL migration is
without its SQLite one), and after the last migration both databases have the same tables, the
same columns in the same order with the same type class (integer, text, real, blob), nullability
and default, the same primary keys, unique and plain indexes (columns, partial or not, and the
names of those created by CREATE INDEX) and the same foreign keys. CHECK constraints are not
compared (their text differs between the two catalogs); each twin copies them from its SQLite
migration.

Runs in `make test` as well as `make test-pg`: the twin check needs nothing, the schema
comparison a PostgreSQL cluster (the run's, or one this process starts with tests/pg/cluster).
When the plantao binary links libpq, `plantao migrate` on a fresh PostgreSQL database must give
the same schema as well.
"""

import glob
import os
import re
import sqlite3
import subprocess
import tempfile
import unittest

import pgclient
from harness import ROOT, binary_path, pg_available, pg_cluster

MIGRATIONS = os.path.join(ROOT, "migrations")
PG_MIGRATIONS = os.path.join(MIGRATIONS, "pg")
IGNORED_TABLES = {"schema_migrations", "sqlite_sequence"}


def names(folder):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(folder, "[0-9][0-9][0-9][0-9]_*.sql")))


def type_class(declared):
    t = (declared or "").lower()
    if "int" in t:
        return "integer"
    if any(w in t for w in ("char", "text", "clob")):
        return "text"
    if any(w in t for w in ("real", "floa", "doub", "numeric")):
        return "real"
    if "blob" in t or "bytea" in t:
        return "blob"
    return t


def norm_default(d):
    """'triggered'::text -> 'triggered'; '-1'::integer -> -1; (0) -> 0; NULL -> None."""
    if d is None:
        return None
    d = d.strip()
    while d.startswith("(") and d.endswith(")"):
        d = d[1:-1].strip()
    d = re.sub(r"::[a-z ]+$", "", d)
    m = re.fullmatch(r"'(-?[0-9.]+)'", d)
    if m:
        d = m.group(1)
    return None if d.upper() == "NULL" else d


def sqlite_schema(path):
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                  if r[0] not in IGNORED_TABLES]
        schema = {}
        for t in tables:
            cols, pk = [], []
            for cid, name, decl, notnull, dflt, pkpos in db.execute("PRAGMA table_info(%s)" % t):
                cols.append((name, type_class(decl), bool(notnull) or pkpos > 0, norm_default(dflt)))
                if pkpos:
                    pk.append((pkpos, name))
            indexes, named = set(), set()
            for _, iname, unique, origin, partial in db.execute("PRAGMA index_list(%s)" % t):
                icols = tuple(r[2] for r in db.execute("PRAGMA index_info(%s)" % iname))
                if origin == "pk":
                    continue  # compared as the primary key
                indexes.add((icols, bool(unique), bool(partial)))
                if origin == "c":
                    named.add(iname)
            fks = {(r[3], r[2], r[4], r[6].upper()) for r in db.execute("PRAGMA foreign_key_list(%s)" % t)}
            schema[t] = {"columns": cols, "pk": tuple(n for _, n in sorted(pk)), "indexes": indexes,
                         "named_indexes": named, "fks": fks}
        return schema
    finally:
        db.close()


def pg_schema(url):
    conn = pgclient.connect(url, isolation_level=None)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name") if r[0] not in IGNORED_TABLES]
        schema = {}
        for t in tables:
            cols = [(name, type_class(dtype), nullable == "NO", norm_default(dflt))
                    for name, dtype, nullable, dflt in conn.execute(
                        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position", (t,))]
            pk, indexes, named = (), set(), set()
            for iname, unique, primary, partial, icols, backs_constraint in conn.execute(
                    "SELECT c.relname, i.indisunique, i.indisprimary, i.indpred IS NOT NULL, "
                    "  (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                    "   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum), "
                    "  EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid = i.indexrelid) "
                    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = ?::regclass", (t,)):
                icols = tuple(icols.split(","))
                if primary:
                    pk = icols
                    continue
                indexes.add((icols, bool(unique), bool(partial)))
                if not backs_constraint:
                    named.add(iname)
            fks = set()
            for col, ref_table, ref_col, on_delete in conn.execute(
                    "SELECT a.attname, r.relname, ra.attname, x.confdeltype FROM pg_constraint x "
                    "JOIN pg_attribute a ON a.attrelid = x.conrelid AND a.attnum = x.conkey[1] "
                    "JOIN pg_class r ON r.oid = x.confrelid "
                    "JOIN pg_attribute ra ON ra.attrelid = x.confrelid AND ra.attnum = x.confkey[1] "
                    "WHERE x.contype = 'f' AND x.conrelid = ?::regclass", (t,)):
                action = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
                fks.add((col, ref_table, ref_col, action[on_delete]))
            schema[t] = {"columns": cols, "pk": pk, "indexes": indexes, "named_indexes": named, "fks": fks}
        return schema
    finally:
        conn.close()


def links_libpq(binary):
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return False
    return "libpq" in out


class TestMigrationTwins(unittest.TestCase):
    def test_every_migration_has_a_postgresql_twin(self):
        lite, pg = names(MIGRATIONS), names(PG_MIGRATIONS)
        self.assertTrue(lite)
        self.assertEqual([n for n in lite if n not in pg], [],
                         "SQLite migrations without their PostgreSQL twin in migrations/pg/")
        self.assertEqual([n for n in pg if n not in lite], [],
                         "PostgreSQL migrations without a SQLite migration of the same name")
        numbers = [n[:4] for n in lite]
        self.assertEqual(len(numbers), len(set(numbers)), "two migrations share a number: %s" % lite)


@unittest.skipUnless(pg_available(), "PostgreSQL 15 is not installed (scripts/deps test installs it)")
class TestSchemasMatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plantao-schema-")
        path = os.path.join(cls.tmp, "lite.db")
        db = sqlite3.connect(path)
        for n in names(MIGRATIONS):
            with open(os.path.join(MIGRATIONS, n), encoding="utf-8") as f:
                db.executescript("BEGIN;\n" + f.read() + "\nCOMMIT;")
        db.close()
        cls.lite = sqlite_schema(path)
        cls.cluster = pg_cluster()

    def apply_pg_migrations(self):
        url = self.cluster.create_database("plantao_schema_")
        self.addCleanup(self.cluster.drop_database, url)
        conn = pgclient.connect(url, isolation_level=None)
        try:
            for n in names(PG_MIGRATIONS):
                with open(os.path.join(PG_MIGRATIONS, n), encoding="utf-8") as f:
                    try:
                        conn.execute("BEGIN;\n" + f.read() + "\nCOMMIT;")
                    except pgclient.Error as e:
                        self.fail("migrations/pg/%s: %s" % (n, e))
        finally:
            conn.close()
        return url

    def assert_same(self, pg, how):
        self.assertEqual(sorted(self.lite), sorted(pg), "tables differ (%s)" % how)
        for t in sorted(self.lite):
            for what in ("columns", "pk", "indexes", "named_indexes", "fks"):
                self.assertEqual(self.lite[t][what], pg[t][what], "%s.%s: SQLite vs PostgreSQL (%s)" % (t, what, how))

    def test_postgresql_migrations_give_the_sqlite_schema(self):
        self.assert_same(pg_schema(self.apply_pg_migrations()), "migrations/pg applied in order")

    def test_plantao_migrate_on_postgresql_gives_the_sqlite_schema(self):
        binary = binary_path()
        if not links_libpq(binary):
            self.skipTest("%s has no PostgreSQL driver (it does not link libpq)" % binary)
        url = self.cluster.create_database("plantao_schema_")
        self.addCleanup(self.cluster.drop_database, url)
        env = dict(os.environ, PLANTAO_DB=url)
        out = subprocess.run([binary, "migrate"], cwd=self.tmp, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assert_same(pg_schema(url), "plantao migrate")
        versions = [r[0] for r in pgclient.connect(url).execute("SELECT version FROM schema_migrations ORDER BY 1")]
        self.assertEqual(versions, [int(n[:4]) for n in names(MIGRATIONS)])
