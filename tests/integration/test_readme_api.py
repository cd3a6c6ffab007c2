"""
tests/integration/test_readme_api.py — the README's API table and the route table
(server/http/routes.c) say the same: every route is in the README's "## API" table, and every
row of that table is a route. Reads files only; no server.
"""

import os
import re
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROUTE = re.compile(r'\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)",')
ROW = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`\s*\|")


def routes():
    with open(os.path.join(ROOT, "server", "http", "routes.c"), encoding="utf-8") as f:
        return {(m.group(1), m.group(2)) for m in ROUTE.finditer(f.read())}


def readme_rows():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.find("\n## API\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + 1)
    section = text[start:end if end > 0 else len(text)]
    rows = [(m.group(1), m.group(2)) for m in map(ROW.match, section.splitlines()) if m]
    return rows


class TestReadmeApi(unittest.TestCase):
    def test_every_route_is_in_the_readme_and_every_row_is_a_route(self):
        rows = readme_rows()
        self.assertIsNotNone(rows, "README.md has no '## API' section")
        self.assertEqual(len(rows), len(set(rows)), "a route listed twice in README.md's API table")
        table = routes()
        self.assertGreater(len(table), 40, "routes.c read")
        missing = sorted(table - set(rows))
        stale = sorted(set(rows) - table)
        self.assertEqual(missing, [], "routes of server/http/routes.c missing from README.md's API table "
                         "(add a row '| METHOD | `path` | who | what |'): %s" % missing)
        self.assertEqual(stale, [], "README.md's API table lists routes that do not exist: %s" % stale)


if __name__ == "__main__":
    unittest.main()
