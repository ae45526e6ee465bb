#!/usr/bin/env python3
"""End-to-end tests of --format junit|tap|prometheus and --output.

Usage: test_formats.py PYCHECK_BINARY SOURCE_DIR

The built binary runs on fixture roots (from test_e2e.py) and its output is
read by the parsers the consumers use: xml.etree (expat) for JUnit, Perl's
TAP::Parser for TAP, prometheus_client's text parser for the Prometheus text
format (Debian: python3-prometheus-client). Each format is compared with the
JSON report of the same root, so a renderer cannot drop or invent a result.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_e2e import ALL_IDS, PYCHECK, SKIPPED_ON_OFFICIAL_IMAGE, FixtureRoot, run_pycheck  # noqa: E402

STATUSES = ["pass", "warn", "fail", "skip", "error"]

# Reads TAP from stdin with Perl's TAP::Parser (core Perl) and prints what it
# understood as JSON.
TAP_PARSER = r"""
use strict; use warnings; use TAP::Parser; use JSON::PP;
binmode STDIN; my $tap = do { local $/; <STDIN> };
my $p = TAP::Parser->new({ source => $tap });
my (@tests, $last);
while (my $r = $p->next) {
  if ($r->is_test) {
    $last = { number => $r->number, ok => ($r->is_actual_ok ? 1 : 0),
              description => $r->description, directive => $r->directive };
    push @tests, $last;
  } elsif ($r->is_yaml) {
    $last->{yaml} = $r->data;
  }
}
print JSON::PP->new->canonical->encode({ version => $p->version, plan => $p->plan,
  tests => \@tests, failed => [ $p->failed ], skipped => [ $p->skipped ],
  parse_errors => [ $p->parse_errors ], good_plan => ($p->is_good_plan ? 1 : 0) });
"""


def parse_tap(text):
    proc = subprocess.run(["perl", "-e", TAP_PARSER], input=text.encode("utf-8"),
                          capture_output=True, check=True)
    return json.loads(proc.stdout.decode("utf-8"))


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


class Formats(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pycheck-e2e-formats-")
        self.root = FixtureRoot(self.tmp)
        self.root.official_image()

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp], check=False)

    def run_format(self, fmt, *extra):
        return run_pycheck("--root", self.root.dir, "--env-file", self.root.env_file(),
                           "--now", "2026-11-28", "--format", fmt, *extra)

    def statuses(self):
        """The JSON report's status of each check, in order: the reference."""
        run = self.run_format("json")
        self.assertIn(run.code, (0, 1), run.stderr)
        return run.code, [(c["id"], c["status"]) for c in json.loads(run.stdout)["checks"]]

    def break_root(self):
        """A failing root with garbage where files should be: hostile bytes
        (invalid UTF-8, control characters) end up in summaries and details."""
        self.root.remove("/etc/ssl/certs")
        self.root.drop_package("ca-certificates")
        garbage = bytes(range(256)) * 8
        for f in ("/etc/services", "/etc/protocols", "/usr/local/include/python3.11/patchlevel.h",
                  "/usr/local/lib/python3.11/site-packages/pip-26.2.1.dist-info/METADATA",
                  "/usr/local/bin/pip3"):
            self.root.write(f, garbage, 0o755 if "bin" in f else 0o644)
        self.root.env["LANG"] = 'x"<&]]>#\\'

    # --- JUnit ------------------------------------------------------------

    def check_junit(self, text, expected):
        suite = ET.fromstring(text.encode("utf-8"))
        self.assertEqual(suite.tag, "testsuite")
        self.assertEqual(suite.get("name"), "pycheck")
        counts = {s: sum(1 for _, st in expected if st == s) for s in STATUSES}
        self.assertEqual(int(suite.get("tests")), len(expected))
        self.assertEqual(int(suite.get("failures")), counts["fail"])
        self.assertEqual(int(suite.get("errors")), counts["error"])
        self.assertEqual(int(suite.get("skipped")), counts["skip"])
        float(suite.get("time"))
        cases = suite.findall("testcase")
        self.assertEqual([c.get("name") for c in cases], [i for i, _ in expected])
        for case, (check_id, status) in zip(cases, expected):
            self.assertEqual(case.get("classname"), "pycheck")
            self.assertGreaterEqual(float(case.get("time")), 0)
            tags = [k.tag for k in case]
            want = {"pass": ["system-out"], "warn": ["system-out"], "fail": ["failure"],
                    "error": ["error"], "skip": ["skipped"]}[status]
            self.assertEqual(tags, want, check_id)
            if status in ("fail", "error"):
                self.assertTrue(case[0].get("message"), check_id)
                self.assertEqual(case[0].get("type"), status)
            if status == "warn":
                self.assertTrue(case[0].text.startswith("WARN: "), case[0].text)

    def test_junit_on_the_official_image(self):
        code, expected = self.statuses()
        run = self.run_format("junit")
        self.assertEqual(run.code, code)
        self.assertEqual(run.code, 0, run.stdout)
        self.check_junit(run.stdout, expected)
        self.assertEqual([i for i, _ in expected], ALL_IDS)

    def test_junit_on_a_broken_root_is_well_formed(self):
        self.break_root()
        code, expected = self.statuses()
        self.assertIn("fail", [s for _, s in expected])
        run = self.run_format("junit")
        self.assertEqual(run.code, code)
        self.assertEqual(run.code, 1)
        self.check_junit(run.stdout, expected)

    # --- TAP --------------------------------------------------------------

    def check_tap(self, text, expected):
        parsed = parse_tap(text)
        self.assertEqual(parsed["parse_errors"], [])
        self.assertEqual(parsed["plan"], f"1..{len(expected)}")
        self.assertEqual(parsed["good_plan"], 1)
        tests = parsed["tests"]
        self.assertEqual(len(tests), len(expected))
        for n, (t, (check_id, status)) in enumerate(zip(tests, expected), start=1):
            self.assertEqual(t["number"], n)
            self.assertEqual(t["ok"], 0 if status in ("fail", "error") else 1, check_id)
            self.assertTrue(t["description"].startswith(f"- {check_id}"), t["description"])
            self.assertEqual(t["directive"], "SKIP" if status == "skip" else "", check_id)
            if status in ("warn", "fail", "error"):
                self.assertEqual(t["yaml"]["severity"], status, check_id)
                self.assertTrue(t["yaml"]["message"], check_id)
            else:
                self.assertNotIn("yaml", t, check_id)
        self.assertEqual(parsed["failed"],
                         [n for n, (_, s) in enumerate(expected, start=1) if s in ("fail", "error")])
        self.assertEqual(parsed["skipped"],
                         [n for n, (_, s) in enumerate(expected, start=1) if s == "skip"])

    def test_tap_on_the_official_image(self):
        code, expected = self.statuses()
        run = self.run_format("tap")
        self.assertEqual(run.code, code)
        self.assertTrue(run.stdout.startswith("TAP version 13\n1..12\n# pycheck: PASS"), run.stdout)
        self.check_tap(run.stdout, expected)

    def test_tap_on_a_broken_root(self):
        self.break_root()
        code, expected = self.statuses()
        run = self.run_format("tap")
        self.assertEqual(run.code, code)
        self.assertEqual(run.code, 1)
        self.check_tap(run.stdout, expected)

    def test_tap_passes_prove(self):
        """prove (Test::Harness) reads the TAP of a passing root as a passing test file."""
        run = self.run_format("tap")
        tap = os.path.join(self.tmp, "pycheck.tap")
        with open(tap, "w") as f:
            f.write(run.stdout)
        proc = subprocess.run(["prove", "--exec", "cat", tap], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("Result: PASS", proc.stdout)

    # --- Prometheus -------------------------------------------------------

    def check_prometheus(self, text, expected):
        self.assertTrue(text.endswith("\n"))
        fams = families(text)
        for fam in fams.values():
            self.assertEqual(fam.type, "gauge", fam.name)
            self.assertTrue(fam.documentation, fam.name)
            for s in fam.samples:
                self.assertIsNone(s.timestamp, s)
        # A metric's lines are one uninterrupted group.
        names = [line.split("{")[0].split(" ")[0] for line in text.splitlines()
                 if line and not line.startswith("#")]
        groups = [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]
        self.assertEqual(len(groups), len(set(groups)), groups)
        success = {s.labels["check"]: s.value for s in fams["pycheck_check_success"].samples}
        self.assertEqual(success, {i: 0.0 if s in ("fail", "error") else 1.0 for i, s in expected})
        hot = {}
        for s in fams["pycheck_check_status"].samples:
            if s.value == 1.0:
                self.assertNotIn(s.labels["check"], hot)
                hot[s.labels["check"]] = s.labels["status"]
        self.assertEqual(hot, dict(expected))
        self.assertEqual(len(fams["pycheck_check_status"].samples), 5 * len(expected))
        durations = {s.labels["check"] for s in fams["pycheck_check_duration_seconds"].samples}
        self.assertEqual(durations, {i for i, _ in expected})
        started = fams["pycheck_last_run_timestamp_seconds"].samples[0].value
        self.assertLess(abs(started - time.time()), 120)
        version = run_pycheck("--version").stdout.split()[1]
        self.assertEqual(fams["pycheck_build_info"].samples[0].labels, {"version": version})
        return fams

    def test_prometheus_on_the_official_image(self):
        code, expected = self.statuses()
        run = self.run_format("prometheus")
        self.assertEqual(run.code, code)
        fams = self.check_prometheus(run.stdout, expected)
        self.assertEqual(fams["pycheck_python_info"].samples[0].labels,
                         {"version": "3.11.15", "prefix": "/usr/local"})
        # Offline without apt lists the pending count is unknown: no metric.
        self.assertIn("apt.security-updates", SKIPPED_ON_OFFICIAL_IMAGE)
        self.assertNotIn("pycheck_security_updates_pending", fams)

    def test_prometheus_on_a_broken_root(self):
        self.break_root()
        self.root.remove("/usr/local/bin/python3")  # python3 not found: its info unknown
        code, expected = self.statuses()
        run = self.run_format("prometheus")
        self.assertEqual(run.code, code)
        self.assertEqual(run.code, 1)
        fams = self.check_prometheus(run.stdout, expected)
        self.assertNotIn("pycheck_python_info", fams)

    # --- --output ---------------------------------------------------------

    def test_output_replaces_the_file_whole_and_leaves_no_temporary(self):
        out_dir = os.path.join(self.tmp, "textfile")
        os.makedirs(out_dir)
        target = os.path.join(out_dir, "pycheck.prom")
        with open(target, "w") as f:
            f.write("old content\n")
        old_inode = os.stat(target).st_ino
        run = self.run_format("prometheus", "--output", target)
        self.assertEqual(run.code, 0, run.stderr)
        self.assertEqual(run.stdout.splitlines(), [run.stdout.splitlines()[0]])
        self.assertTrue(run.stdout.startswith("pycheck: PASS"), run.stdout)
        self.assertEqual(os.listdir(out_dir), ["pycheck.prom"])
        self.assertNotEqual(os.stat(target).st_ino, old_inode, "written in place, not renamed")
        with open(target) as f:
            text = f.read()
        self.assertNotIn("old content", text)
        _, expected = self.statuses()
        self.check_prometheus(text, expected)

    def test_readers_never_see_a_partial_file(self):
        """node_exporter reads the file at any moment: while pycheck rewrites it
        again and again, every read must be a whole, parseable exposition."""
        out_dir = os.path.join(self.tmp, "textfile")
        os.makedirs(out_dir)
        target = os.path.join(out_dir, "pycheck.prom")
        env_file = self.root.env_file()
        stop = threading.Event()
        reads, problems = [], []

        def reader():
            while not stop.is_set():
                try:
                    with open(target) as f:
                        text = f.read()
                except FileNotFoundError:
                    continue
                reads.append(1)
                try:
                    if not text.endswith("\n") or "pycheck_build_info" not in text:
                        raise ValueError("truncated")
                    families(text)
                except Exception as e:  # noqa: BLE001 - any failure is a finding
                    problems.append(f"{e}: {text[-200:]!r}")

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for _ in range(6):
                run = run_pycheck("--root", self.root.dir, "--env-file", env_file, "--format",
                                  "prometheus", "--output", target)
                self.assertEqual(run.code, 0, run.stderr)
        finally:
            stop.set()
            thread.join()
        self.assertEqual(problems, [])
        self.assertGreater(len(reads), 0)
        self.assertEqual(os.listdir(out_dir), ["pycheck.prom"])

    def test_output_to_a_missing_folder_is_exit_2_and_leaves_nothing(self):
        target = os.path.join(self.tmp, "nope", "pycheck.prom")
        run = self.run_format("prometheus", "--output", target)
        self.assertEqual(run.code, 2)
        self.assertIn("--output", run.stderr)
        self.assertFalse(os.path.exists(os.path.dirname(target)))

    # --- the command line -------------------------------------------------

    def test_exit_codes_do_not_depend_on_the_format(self):
        for fmt in ("text", "json", "junit", "tap", "prometheus"):
            self.assertEqual(self.run_format(fmt).code, 0, fmt)
        self.root.remove("/etc/ssl/certs")
        for fmt in ("text", "json", "junit", "tap", "prometheus"):
            self.assertEqual(self.run_format(fmt).code, 1, fmt)
        run = self.run_format("yaml")
        self.assertEqual(run.code, 2)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"], verbosity=2)
