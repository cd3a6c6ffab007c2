#!/usr/bin/env python3
"""
tests/integration/run.py — runs the integration tests (tests/integration/test_*.py, unittest).

    python3 tests/integration/run.py [--build DIR] [FILTER]

FILTER keeps the tests whose id (module.Class.test_name) contains it. One line per test:
`ok`, `FAIL` (failures and errors, with the traceback) or `skip` (with the reason; skipped
tests count neither way). The last line is exactly `integration: N passed, N failed`, and the
exit status is nonzero when something failed. --build sets PLANTAO_BUILD (default `build`).
"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class LineResult(unittest.TestResult):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.passed = 0
        self.failed = 0
        self.n_skipped = 0
        self._t0 = 0.0

    def _line(self, word, test, extra=""):
        self.out.write("%-4s %s (%.2fs)%s\n" % (word, test.id(), time.monotonic() - self._t0, extra))
        self.out.flush()

    def startTest(self, test):
        super().startTest(test)
        self._t0 = time.monotonic()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line("ok", test)

    def _fail(self, test, err):
        self.failed += 1
        self._line("FAIL", test)
        self.out.write(self._exc_info_to_string(err, test))
        self.out.flush()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n_skipped += 1
        self.out.write("skip %s: %s\n" % (test.id(), reason))
        self.out.flush()

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line("ok", test, " (expected failure)")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed += 1
        self._line("FAIL", test, " (unexpected success)")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(subtest, err)


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("filter", nargs="?", default="", help="substring of the test ids to run")
    ap.add_argument("--build", help="build directory holding plantao (sets PLANTAO_BUILD)")
    args = ap.parse_args(argv)
    if args.build:
        os.environ["PLANTAO_BUILD"] = os.path.abspath(args.build)
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = [t for t in iter_tests(suite) if args.filter in t.id()]
    result = LineResult(sys.stdout)
    unittest.TestSuite(tests).run(result)
    # sys.stdout may have been written to by tests; the summary must be the last line.
    sys.stderr.flush()
    sys.stdout.write("integration: %d passed, %d failed\n" % (result.passed, result.failed))
    sys.stdout.flush()
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
