#!/usr/bin/env python3
"""End-to-end tests of `pycheck serve`: the built binary serving a fixture root.

Usage: test_serve.py PYCHECK_BINARY SOURCE_DIR

Each test starts the server on a free loopback port (--listen 127.0.0.1:0; the
port is read from its first log line), waits for the first run, and talks
HTTP to it: every endpoint, status codes, the apiserver-style verbose body,
exclusions, HEAD, 404/405/413, the Prometheus text parsed by the real parser
(python3-prometheus-client), a slow client that must not hold the server, and
SIGTERM, which must end it with status 0 within a second.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import jsonschema
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_e2e import ALL_IDS, PYCHECK, SCHEMA, SKIPPED_ON_OFFICIAL_IMAGE, FixtureRoot  # noqa: E402

NOW = "2026-11-28"
ENDPOINTS = ["/livez", "/readyz", "/readyz/python.path", "/metrics", "/report"]


class Server:
    """A running `pycheck serve`; its stderr lines are collected as they come."""

    def __init__(self, *args, host="127.0.0.1"):
        listen = f"[{host}]:0" if ":" in host else f"{host}:0"
        self.proc = subprocess.Popen([PYCHECK, "serve", "--listen", listen, *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.host = host
        self.port = None
        listening = threading.Event()

        def drain():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on http://\S*:(\d+) ", line)
                if m:
                    self.port = int(m.group(1))
                    listening.set()
            listening.set()

        self.drainer = threading.Thread(target=drain, daemon=True)
        self.drainer.start()
        if not listening.wait(10) or self.port is None:
            self.stop()
            raise AssertionError("pycheck serve did not start: " + "\n".join(self.lines))

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data.decode()
        finally:
            conn.close()

    def get(self, path):
        return self.request("GET", path)

    def run_lines(self):
        return [line for line in self.lines if re.match(r"pycheck serve: (offline|online) run ", line)]

    def wait_ready(self, timeout=10):
        """Until the first run has completed (/readyz no longer says there is none)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            status, _, body = self.get("/readyz")
            if body != "no run has completed yet\n":
                return status
            time.sleep(0.02)
        raise AssertionError("no run completed in time: " + "\n".join(self.lines))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.drainer.join(2)
        if not self.drainer.is_alive():
            self.proc.stderr.close()


class ServeE2E(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pycheck-serve-")
        self.root = FixtureRoot(self.tmp).official_image()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def serve(self, *extra, host="127.0.0.1"):
        s = Server("--root", self.root.dir, "--env-file", self.root.env_file(), "--now", NOW, *extra,
                   host=host)
        self.servers.append(s)
        return s

    # --- the endpoints on a healthy image ------------------------------------

    def test_endpoints_on_the_official_image(self):
        s = self.serve()
        self.assertEqual(s.wait_ready(), 200)
        self.assertEqual(s.get("/livez")[::2], (200, "ok"))
        status, headers, body = s.get("/readyz")
        self.assertEqual((status, body), (200, "ok"))
        self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")

        status, _, body = s.get("/readyz?verbose")
        self.assertEqual(status, 200)
        self.assertEqual(body.splitlines(), [f"[+]{i} ok" for i in ALL_IDS] + ["readyz check passed"])
        self.assertEqual(s.get("/readyz/python.path")[::2], (200, "ok"))
        status, _, body = s.get("/readyz/no.such.check")
        self.assertEqual(status, 404)
        self.assertIn("no.such.check", body)

        status, headers, body = s.get("/report")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        report = json.loads(body)
        jsonschema.validate(report, SCHEMA)
        self.assertEqual([c["id"] for c in report["checks"]], ALL_IDS)
        self.assertEqual(report["root"], self.root.dir)
        for c in report["checks"]:
            expected = "skip" if c["id"] in SKIPPED_ON_OFFICIAL_IMAGE else "pass"
            self.assertEqual(c["status"], expected, c)

        status, headers, body = s.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        families = {f.name: f for f in text_string_to_metric_families(body)}
        success = {smp.labels["check"]: smp.value for smp in families["pycheck_check_success"].samples}
        self.assertEqual(success, {i: 1.0 for i in ALL_IDS})
        status_samples = families["pycheck_check_status"].samples
        for check_id in ALL_IDS:
            one_hot = {smp.labels["status"]: smp.value for smp in status_samples
                       if smp.labels["check"] == check_id}
            self.assertEqual(sorted(one_hot), ["error", "fail", "pass", "skip", "warn"])
            self.assertEqual(sum(one_hot.values()), 1.0, check_id)
        self.assertIn("pycheck_check_duration_seconds", families)
        self.assertIn("pycheck_last_run_timestamp_seconds", families)
        build = families["pycheck_build_info"].samples
        self.assertEqual(len(build), 1)
        self.assertRegex(build[0].labels["version"], r"^\d+\.\d+\.\d+")

    def test_head_methods_and_unknown_paths(self):
        s = self.serve()
        s.wait_ready()
        for path in ENDPOINTS:
            with self.subTest(path=path):
                get_status, get_headers, get_body = s.get(path)
                status, headers, body = s.request("HEAD", path)
                self.assertEqual(status, get_status)
                self.assertEqual(body, "")
                self.assertEqual(int(headers["content-length"]), len(get_body.encode()))
                self.assertEqual(headers["content-type"], get_headers["content-type"])
                self.assertEqual(headers["cache-control"], "no-store")
                self.assertEqual(get_headers["cache-control"], "no-store")
                for method in ("POST", "PUT", "DELETE", "OPTIONS"):
                    status, headers, _ = s.request(method, path)
                    self.assertEqual(status, 405, method)
                    self.assertEqual(headers["allow"], "GET, HEAD")
        for path in ("/", "/healthz", "/readyz/", "/metrics/x", "/report.json"):
            with self.subTest(path=path):
                self.assertEqual(s.get(path)[0], 404)

    def test_a_request_body_is_refused_with_413(self):
        s = self.serve()
        s.wait_ready()
        status, headers, _ = s.request("GET", "/readyz", body="hello",
                                       headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 413)
        self.assertEqual(headers["connection"], "close")
        # Chunked bodies too, and the server is fine afterwards.
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n")
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 413 "))
        self.assertEqual(s.get("/readyz")[0], 200)

    def test_an_oversized_header_is_refused(self):
        s = self.serve()
        s.wait_ready()
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 431 "))

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        s = self.serve()
        s.wait_ready()
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        try:
            for path in ENDPOINTS * 3:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                self.assertEqual(resp.status, 200, path)
                self.assertNotEqual(resp.getheader("Connection"), "close")
        finally:
            conn.close()

    # --- failures, exclusions and background runs ------------------------------

    def test_readyz_fails_on_a_failed_check_and_exclude_leaves_it_out(self):
        self.root.remove("/etc/ssl/certs/ca-certificates.crt")
        s = self.serve()
        self.assertEqual(s.wait_ready(), 503)
        status, _, body = s.get("/readyz")
        self.assertEqual(status, 503)
        lines = body.splitlines()
        self.assertEqual(lines[-1], "readyz check failed")
        failed = [line for line in lines if line.startswith("[-]")]
        self.assertEqual(len(failed), 1, body)
        self.assertTrue(failed[0].startswith("[-]tls.ca-certificates failed: "), body)
        self.assertGreater(len(failed[0]), len("[-]tls.ca-certificates failed: "))
        self.assertEqual(s.get("/readyz?exclude=tls.ca-certificates")[::2], (200, "ok"))
        status, _, body = s.get("/readyz?verbose&exclude=tls.ca-certificates&exclude=nope")
        self.assertEqual(status, 200)
        self.assertIn("[+]tls.ca-certificates excluded: ok\n", body)
        self.assertIn('no matches for "nope"', body)
        self.assertTrue(body.endswith("readyz check passed\n"))
        self.assertEqual(s.get("/readyz/tls.ca-certificates")[0], 503)
        self.assertEqual(s.get("/readyz/python.path")[0], 200)
        self.assertEqual(s.get("/livez")[0], 200, "liveness must not depend on the checks")
        families = {f.name: f for f in text_string_to_metric_families(s.get("/metrics")[2])}
        success = {smp.labels["check"]: smp.value for smp in families["pycheck_check_success"].samples}
        self.assertEqual(success["tls.ca-certificates"], 0.0)
        report = json.loads(s.get("/report")[2])
        self.assertEqual(report["status"], "fail")

    def test_checks_run_in_the_background_and_log_one_line_per_run(self):
        s = self.serve("--interval", "1s")
        self.assertEqual(s.wait_ready(), 200)
        self.root.remove("/etc/ssl/certs/ca-certificates.crt")
        for _ in range(200):  # requests never run checks, and are not logged
            s.get("/readyz")
        deadline = time.monotonic() + 30  # only against a hang: runs come every second
        while s.get("/readyz")[0] != 503 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(s.get("/readyz")[0], 503, "a later run did not see the change")
        runs = s.run_lines()
        self.assertGreaterEqual(len(runs), 2)
        # Far fewer than the requests (a run per request would make 200 or more)
        # however slow the machine: one run a second.
        self.assertLess(len(runs), 100)
        self.assertEqual(len(s.lines), len(runs) + 1, s.lines)  # + the "listening on" line
        self.assertRegex(runs[-1], r"^pycheck serve: offline run in \d+ ms: FAIL — ")

    def test_fail_on_warn_and_check_selection_apply_to_the_runs(self):
        self.root.env["LANG"] = "C"  # the locale check warns on LANG=C
        s = self.serve("--fail-on", "warn", "--skip", "python.eol")
        s.wait_ready()
        status, _, body = s.get("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("[-]locale failed: ", body)
        self.assertNotIn("python.eol", body)
        self.assertEqual(s.get("/readyz/python.eol")[0], 404)

    # --- robustness -------------------------------------------------------------

    def test_a_slow_client_does_not_block_others(self):
        s = self.serve()
        s.wait_ready()
        # Half a header, never finished, one more byte every 0.2 s: never idle
        # for the server's 3 s, so a server that waited for it would answer
        # nobody else (the requests below would time out), whatever the speed.
        slow = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        slow.sendall(b"GET /readyz HTTP/1.1\r\nHo")
        done = threading.Event()

        def trickle():
            while not done.wait(0.2):
                slow.sendall(b"o")

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            for _ in range(20):
                self.assertEqual(s.get("/readyz")[0], 200)
            done.set()
            trickler.join()
            # Idle now: the server drops it after its timeout (3 s; the socket's
            # 30 s only bound a server that never does).
            self.assertEqual(slow.recv(100), b"")
        finally:
            done.set()
            slow.close()

    def test_sigterm_stops_it_within_a_second_with_status_0(self):
        s = self.serve()
        s.wait_ready()
        idle = socket.create_connection(("127.0.0.1", s.port), timeout=5)  # must not delay the stop
        try:
            start = time.monotonic()
            s.proc.send_signal(signal.SIGTERM)
            code = s.proc.wait(5)
            took = time.monotonic() - start
        finally:
            idle.close()
        self.assertEqual(code, 0)
        self.assertLess(took, 1.0)
        s.drainer.join(2)
        self.assertIn("pycheck serve: SIGTERM, stopping", s.lines)
        # SIGINT (Ctrl-C) as well.
        s2 = self.serve()
        s2.wait_ready()
        s2.proc.send_signal(signal.SIGINT)
        self.assertEqual(s2.proc.wait(5), 0)

    def test_ipv6_loopback(self):
        s = self.serve(host="::1")
        s.wait_ready()
        self.assertEqual(s.get("/livez")[::2], (200, "ok"))

    def test_usage_errors_exit_2(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        try:
            taken = f"127.0.0.1:{busy.getsockname()[1]}"
            cases = [(["--listen", "localhost:8079"], "no name lookup"),
                     (["--listen", "127.0.0.1:99999"], "port"),
                     (["--listen", taken], "Address already in use"),
                     (["--interval", "30"], "--interval"),
                     (["--online-interval", "x"], "--online-interval"),
                     (["--format", "json"], "do not apply to serve"),
                     (["--check", "no.such.check"], "unknown check id"),
                     (["--cache-dir", self.tmp], "needs --online")]
            for args, message in cases:
                with self.subTest(args=args):
                    proc = subprocess.run([PYCHECK, "serve", "--root", self.root.dir, *args],
                                          capture_output=True, text=True, timeout=10)
                    self.assertEqual(proc.returncode, 2, proc.stderr)
                    self.assertIn(message, proc.stderr)
        finally:
            busy.close()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"], verbosity=2)
