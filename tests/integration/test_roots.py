#!/usr/bin/env python3
"""Integration tests: pycheck on real root filesystems, compared with the real tools.

Usage (as root, after tests/integration/build-roots.sh):
    test_roots.py STATIC_PYCHECK [ROOT_NAME ...]

For every root built by build-roots.sh (a python:3.11-slim-bookworm stand-in
and variants a user would plausibly produce, and a python:3.13-slim-trixie
stand-in), this runs the static pycheck
binary twice: inside the root with chroot and the image's environment (as
`docker exec` would), and from outside with --root/--env-file. Both reports
must agree, and every fact pycheck reports is compared with what the real
tools say inside the same root: `command -v`, `readlink -f`, `python3 -c`,
`pip --version`, `locale -a`, `dpkg -S`.

The tests live in the roots_*.py modules next to this file, by topic: roots_lib
(the roots and running pycheck in them), roots_compare (each root against the real
tools), roots_apt (apt.security-updates against apt, online too), roots_golden (the
text reports) and roots_static (the static binary in an empty root). This file
picks which of them run.
"""
import os
import sys
import unittest

# As before the split, a run leaves nothing in the tree: no __pycache__ for the roots_*.py.
sys.dont_write_bytecode = True

from roots_apt import ONLINE_TESTS, AptSecurityOnlineTests  # noqa: E402
from roots_compare import RootTests  # noqa: E402
from roots_golden import GoldenTextTests  # noqa: E402,F401 (found by unittest.main)
from roots_lib import EXPECTED, ONLY, ROOTS_DIR  # noqa: E402
from roots_static import StaticBinaryTests  # noqa: E402,F401 (found by unittest.main)


def make_test(name):
    def test(self):
        self.compare(name)
    return test


for _name in EXPECTED:
    if not ONLY or _name in ONLY:
        setattr(RootTests, "test_" + _name.replace("-", "_"), make_test(_name))
for _name, _test in ONLINE_TESTS.items():
    if ONLY and not {_name, "apt-security-online"} & set(ONLY):
        delattr(AptSecurityOnlineTests, _test)  # runs with its root, or when named alone


if __name__ == "__main__":
    missing = [n for n in EXPECTED if (not ONLY or n in ONLY) and not os.path.isdir(os.path.join(ROOTS_DIR, n))]
    if missing:
        sys.exit(f"roots not built: {missing}; run tests/integration/build-roots.sh first")
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    failed = len(result.failures) + len(result.errors)
    print(f"integration: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)
