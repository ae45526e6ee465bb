#!/usr/bin/python3
"""Hostile-root suite: pycheck (the static binary) against roots built to hurt it.

Usage (as root): test_hostile.py PYCHECK_BINARY [CASE_NAME_SUBSTRING ...]

Every case starts from a copy of the cached real root (tests/integration
build-roots.sh, "base": the python:3.11-slim-bookworm stand-in), breaks it, runs
pycheck with --format json and asserts, for every run:
  - exit code 0 or 1: never a signal, never 2 for a hostile root;
  - the report is UTF-8, valid against agent/report/report.schema.json and lists every check;
  - wall time <= --timeout + 2 s + process start (not for runs under strace): it
    returned, it did not hang; how far past --timeout it ended is printed (goal 50 ms);
  - the checks whose input is broken do not pass (per case).
Prints a table of cases (status, wall time of the pycheck runs), the deadline
overshoot figures, and "hostile: N passed, M failed"; exits 1 on any failure.

Needs root (mknod, mount namespaces, FUSE, setpriv), strace, util-linux,
openssl, python3-jsonschema and python3-fusepy.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_lib import DEADLINE_GOAL, Workdir, run_pycheck, sh, within_deadline  # noqa: E402
import hostile_cases  # noqa: E402
import hostile_net  # noqa: E402

class Suite:
    def __init__(self, binary):
        self.results = []  # (name, ok, walls, note)
        self.overshoot = {}  # scenario -> [seconds past --timeout]
        self.work = Workdir()
        # A copy in the work folder: uid 65534 must reach it (a checkout under
        # /root is not traversable) and the read-only runs hide /tmp.
        self.binary = os.path.join(self.work.sub("bin"), "pycheck")
        shutil.copy2(os.path.abspath(binary), self.binary)
        self.start_overhead = self.measure_start()

    def measure_start(self):
        """Median wall time of `pycheck --version`: process start and exit, as seen from here."""
        walls = []
        for _ in range(15):
            t = time.monotonic()
            sh(self.binary, "--version")
            walls.append(time.monotonic() - t)
        return statistics.median(walls)

    def run(self, root, *extra, env_file=None, deadline=True, binary=None, **kw):
        r = run_pycheck(binary or self.binary, root.dir if hasattr(root, "dir") else root,
                        env_file or root.env_file(), *extra, **kw)
        self.walls.append(r.wall)
        if deadline:
            within_deadline(r, self.start_overhead)
        return r

    def case(self, name, fn):
        self.walls = []
        self.notes = []
        started = time.monotonic()
        try:
            fn(self)
            ok, note = True, "; ".join(self.notes)
        except Exception as e:  # a failed case reports and the suite goes on
            ok = False
            note = f"{type(e).__name__}: {e}"
            if not isinstance(e, AssertionError):
                note += "\n" + traceback.format_exc(limit=3)
        took = time.monotonic() - started
        self.results.append((name, ok, list(self.walls), took, note))
        walls = f"{max(self.walls) * 1000:.0f}" if self.walls else "-"
        print(f"  {'ok  ' if ok else 'FAIL'} {name:<34} runs {len(self.walls):>2}  "
              f"max wall {walls:>5} ms  case {took:5.1f} s  {note[:400]}", flush=True)

    def note(self, text):
        self.notes.append(text)

    def report(self):
        print("\nhostile cases:")
        print(f"  {'case':<34} {'status':<6} {'runs':>4} {'max wall ms':>11}")
        for name, ok, walls, _took, _note in self.results:
            w = f"{max(walls) * 1000:.0f}" if walls else "-"
            print(f"  {name:<34} {'pass' if ok else 'FAIL':<6} {len(walls):>4} {w:>11}")
        print(f"\ndeadline overshoot (wall - --timeout, as seen by the parent; process start "
              f"alone: median {self.start_overhead * 1000:.1f} ms; goal {DEADLINE_GOAL * 1000:.0f} ms):")
        for scenario, values in self.overshoot.items():
            if not values:
                continue  # its runs failed before they were timed
            ms = sorted(v * 1000 for v in values)
            print(f"  {scenario:<34} n={len(ms):>3}  median {statistics.median(ms):6.1f} ms  "
                  f"max {ms[-1]:6.1f} ms")
        failed = [r for r in self.results if not r[1]]
        for name, _ok, _w, _t, note in failed:
            print(f"\nFAILED {name}: {note}")
        print(f"\nhostile: {len(self.results) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if os.geteuid() != 0:
        sys.exit("hostile: must run as root (mknod, unshare -m, FUSE mounts, setpriv to 65534)")
    for tool in ("strace", "setpriv", "unshare", "openssl", "chroot"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            sys.exit(f"hostile: {tool} is missing (see tests/install-deps.sh)")
    suite = Suite(sys.argv[1])
    wanted = sys.argv[2:]
    try:
        for name, fn in hostile_cases.CASES + hostile_net.CASES:
            if not wanted or any(w in name for w in wanted):
                suite.case(name, fn)
    finally:
        suite.work.close()
    sys.exit(suite.report())


if __name__ == "__main__":
    main()
