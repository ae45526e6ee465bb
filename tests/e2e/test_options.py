#!/usr/bin/env python3
"""End-to-end tests of the defaults and judgments around what the user gives
pycheck: the run's deadline with and without --online, config parameters
checked when the config loads, the index pip.version compares with when none
is configured, pipes as --env-file and --config, and the exact message and
exit code of each option pycheck cannot use.

Usage: test_options.py PYCHECK_BINARY SOURCE_DIR

The built binary runs on fixture roots (from test_e2e.py); the package index
it talks to is a small server in this process on 127.0.0.1.
"""
import json
import os
import pty
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_e2e import ALL_IDS, PYCHECK, FixtureRoot, run_pycheck  # noqa: E402

PIP_PAGE = (b"<!DOCTYPE html><html><body>\n"
            b'<a href="/files/pip-26.2.1-py3-none-any.whl">pip-26.2.1-py3-none-any.whl</a>\n'
            b"</body></html>\n")



def said(check):
    """A check's headline and its findings' messages: what the report tells a person."""
    return "\n".join([check["summary"]] + [f["message"] for f in check.get("findings", [])])

class SlowIndex:
    """A PEP 503 index on 127.0.0.1 whose pip page (pip 26.2.1) answers after
    `delay` seconds: longer than the offline deadline, well within the online one."""

    def __init__(self, delay):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                threading.Event().wait(delay)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(PIP_PAGE)))
                    self.end_headers()
                    self.wfile.write(PIP_PAGE)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # pycheck gave up at its deadline, as it should

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Options(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pycheck-e2e-options-")
        self.root = FixtureRoot(self.tmp)
        self.root.official_image(pip="26.2.1")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_config(self, doc):
        path = os.path.join(self.tmp, "config.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def pip_version(self, *extra):
        """pip.version alone (apt.security-updates would go to mirror.invalid), as JSON."""
        run = run_pycheck("--root", self.root.dir, "--env-file", self.root.env_file(),
                          "--format", "json", "--check", "pip.version", *extra, timeout=30)
        self.assertIn(run.code, (0, 1), run.stderr)
        return run, json.loads(run.stdout)["checks"][0]

    # --- the run's deadline -------------------------------------------------

    def test_online_runs_default_to_a_deadline_that_fits_the_network(self):
        index = SlowIndex(delay=1.5)
        self.addCleanup(index.close)
        self.root.env["PIP_INDEX_URL"] = index.url
        # --online without --timeout: 10 s, so a 1.5 s answer arrives in time.
        run, check = self.pip_version("--online")
        self.assertEqual(check["status"], "pass", check)
        self.assertIn("is the latest on", check["summary"])
        self.assertGreater(run.took, 1.5)
        # The same when the config file turns the network on.
        run, check = self.pip_version("--config", self.write_config({"online": True}))
        self.assertEqual(check["status"], "pass", check)
        # An explicit deadline always wins: on the command line, or in the config.
        for extra in (["--online", "--timeout", "800ms"],
                      ["--config", self.write_config({"online": True, "timeout": "800ms"})]):
            with self.subTest(extra=extra):
                run, check = self.pip_version(*extra)
                self.assertEqual(check["status"], "error", check)
                self.assertIn("timed out", said(check))

    # --- config parameters ------------------------------------------------

    def test_a_bad_parameter_value_is_a_config_error_not_a_failing_check(self):
        config = self.write_config({"checks": {"apt.security-updates":
                                               {"params": {"pending_is": "fial"}}}})
        for command in ([], ["serve", "--listen", "127.0.0.1:0"]):
            with self.subTest(command=command):
                run = run_pycheck(*command, "--root", self.root.dir, "--config", config)
                self.assertEqual(run.code, 2, run.stdout + run.stderr)
                self.assertEqual(run.stdout, "")
                self.assertIn('checks."apt.security-updates".params.pending_is: "fial" is not '
                              'one of "warn", "fail"', run.stderr)

    def test_explain_lists_each_parameter_with_what_it_accepts_and_its_default(self):
        run = run_pycheck("explain", "apt.security-updates")
        self.assertEqual(run.code, 0)
        self.assertIn('  pending_is: one of "warn", "fail"; default "warn"\n', run.stdout)
        self.assertIn("  fail_above: a whole number, -1 or more; default -1\n", run.stdout)
        run = run_pycheck("explain", "net.services")
        self.assertIn('  required_services: a list of strings, each "name port/protocol"; '
                      'default ["http 80/tcp", "https 443/tcp"]\n', run.stdout)

    # --- pip's default index ------------------------------------------------

    def test_online_without_an_index_asks_pips_default_and_says_so(self):
        try:
            socket.getaddrinfo("pypi.org", 443)
            self.skipTest("pypi.org resolves here: tests do not contact it")
        except socket.gaierror:
            pass
        run, check = self.pip_version("--online")
        self.assertEqual(run.code, 1)  # an error, never "up to date"
        self.assertEqual(check["status"], "error", check)
        self.assertIn("https://pypi.org/simple/pip/", said(check))
        self.assertIn("(pip's default)", said(check))
        self.assertNotIn("latest", said(check))
        self.assertEqual(check["details"]["index"]["index_url_source"], "pip's default")

    # --- pipes named on the command line ----------------------------------

    def env_text(self, **changes):
        env = dict(self.root.env, **changes)
        return "".join(f"{k}={v}\n" for k, v in env.items())

    def test_env_file_may_be_a_pipe(self):
        # os.pipe: what `--env-file <(docker inspect ... | jq ...)` hands over.
        r, w = os.pipe()
        with os.fdopen(w, "w") as f:
            f.write(self.env_text(LANG="C"))
        try:
            proc = subprocess.run([PYCHECK, "--root", self.root.dir, "--env-file", f"/dev/fd/{r}",
                                   "--format", "json", "--check", "locale"],
                                  pass_fds=(r,), capture_output=True, text=True, timeout=10)
        finally:
            os.close(r)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        check = json.loads(proc.stdout)["checks"][0]
        self.assertEqual(check["status"], "warn", check)  # LANG=C came from the pipe
        self.assertIn("LANG=C", check["summary"])
        # bash's process substitution, as a user types it.
        script = ('exec "$0" --root "$1" --format json --check locale '
                  '--env-file <(printf "PATH=/usr/bin\\nLANG=C\\n")')
        proc = subprocess.run(["bash", "-c", script, PYCHECK, self.root.dir],
                              capture_output=True, text=True, timeout=10)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["checks"][0]["status"], "warn", proc.stdout)

    def test_config_may_be_stdin_fed_by_a_pipe(self):
        self.root.remove("/etc/services")  # net.services fails ...
        config = json.dumps({"checks": {"net.services": {"severity": "warn"},  # ... is a warning
                                        "locale": {"enabled": False}}})
        proc = subprocess.run([PYCHECK, "--root", self.root.dir, "--env-file", self.root.env_file(),
                               "--format", "json", "--config", "/dev/stdin"],
                              input=config, capture_output=True, text=True, timeout=10)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        checks = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}
        self.assertNotIn("locale", checks)
        self.assertEqual(checks["net.services"]["status"], "warn")

    def test_serve_reads_a_piped_env_file_once_and_judges_it_in_every_run(self):
        # With --pid too the root is re-opened for each run; the environment
        # from the pipe must stay (a second read would find it empty).
        sleeper = subprocess.Popen(["sleep", "60"])
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        r, w = os.pipe()
        with os.fdopen(w, "w") as f:
            f.write("LANG=xx_XX.UTF-8\n")  # not installed: locale fails
        proc = subprocess.Popen([PYCHECK, "serve", "--listen", "127.0.0.1:0", "--interval", "100ms",
                                 "--pid", str(sleeper.pid), "--env-file", f"/dev/fd/{r}",
                                 "--check", "locale"],
                                pass_fds=(r,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        os.close(r)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        port, runs = None, 0
        for line in proc.stderr:  # one line when listening, then one per run
            m = re.search(r"listening on http://\S*:(\d+) ", line)
            port = int(m.group(1)) if m else port
            runs += line.startswith("pycheck serve: offline run ")
            if runs == 3:
                break
        self.assertEqual(runs, 3, "serve ended early")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/report", timeout=5) as resp:
            locale = json.load(resp)["checks"][0]
        self.assertEqual(locale["status"], "fail", locale)
        self.assertIn("xx_XX.UTF-8", locale["summary"])

    def test_a_pipe_larger_than_the_cap_is_a_usage_error(self):
        big = "# " + "x" * (5 << 20) + "\n"  # 5 MiB: over the 4 MiB cap
        proc = subprocess.run([PYCHECK, "--root", self.root.dir, "--config", "/dev/stdin"],
                              input=big, capture_output=True, text=True, timeout=10)
        self.assertEqual(proc.returncode, 2, proc.stdout)
        self.assertIn("--config: /dev/stdin: more than 4 MiB", proc.stderr)
        r, w = os.pipe()
        writer = threading.Thread(target=write_until_closed, args=(w, big.encode()))
        writer.start()
        try:
            proc = subprocess.run([PYCHECK, "--root", self.root.dir, "--env-file", f"/dev/fd/{r}"],
                                  pass_fds=(r,), capture_output=True, text=True, timeout=10)
        finally:
            os.close(r)
            writer.join()
        self.assertEqual(proc.returncode, 2, proc.stdout)
        self.assertIn("--env-file: /dev/fd/", proc.stderr)
        self.assertIn("more than 4 MiB", proc.stderr)

    def test_a_terminal_is_refused_at_once_not_read(self):
        # `--config /dev/stdin` typed without a redirection: reading would wait
        # for Ctrl-D, and a probe would hang.
        leader, follower = pty.openpty()
        try:
            proc = subprocess.run([PYCHECK, "--root", self.root.dir, "--config", "/dev/stdin"],
                                  stdin=follower, capture_output=True, text=True, timeout=10)
        finally:
            os.close(leader)
            os.close(follower)
        self.assertEqual(proc.returncode, 2, proc.stdout)
        self.assertIn("/dev/stdin: is a terminal", proc.stderr)
        for not_a_file in (self.tmp, "/dev/zero"):
            run = run_pycheck("--root", self.root.dir, "--env-file", not_a_file)
            self.assertEqual(run.code, 2, run.stdout)
            self.assertIn("not a regular file or a pipe", run.stderr)


class UsageMessages(unittest.TestCase):
    """What pycheck says, word for word, about each option it cannot use: on
    stderr, nothing on stdout, exit code 2 (as pycheck 0.1.0 at 0a7c6eb said)."""

    NO_PID = "4194305"  # above the kernel's largest pid_max: never a process
    BAD_DURATION = 'invalid duration "{}": expected a number with a unit, e.g. 800ms, 2s, 5m, 6h'
    NOW = "--now: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"{}\""
    CACHE_DIR = "--cache-dir needs --online: offline runs make no requests"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pycheck-e2e-usage-")
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
        self.env = self.write("good.env", "PATH=/usr/bin\n")
        self.given = ["--root", self.root, "--env-file", self.env]

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def said(self, *args):
        run = run_pycheck(*args)
        self.assertEqual((run.code, run.stdout), (2, ""), run.stderr)
        return run.stderr

    def assert_says(self, cases):
        for args, message in cases:
            with self.subTest(args=args):
                self.assertEqual(self.said(*args), "pycheck: " + message + "\n")

    def test_run_options(self):
        t = self.tmp
        unknown = 'unknown check id "nope"; known ids:' + "".join("\n  " + i for i in ALL_IDS)
        root_of_no_pid = f"--root: /proc/{self.NO_PID}/root: cannot open root directory: "
        self.assert_says([
            (["--pid", self.NO_PID], root_of_no_pid + "No such file or directory"),
            ([*self.given, "--now", "2026-13"], self.NOW.format("2026-13")),
            ([*self.given, "--now", "2026-11-28T12:00"], self.NOW.format("2026-11-28T12:00")),
            ([*self.given, "--timeout", "5"], "--timeout: " + self.BAD_DURATION.format("5")),
            ([*self.given, "--timeout", "0ms"],
             '--timeout: duration "0ms" is out of range (1ms to 365 days)'),
            (["--root", self.root, "--env-file", f"{t}/no.env"],
             f"--env-file: {t}/no.env: No such file or directory"),
            (["--root", self.root, "--env-file", self.write("bad.env", "A=1\nnot a line\n")],
             f'--env-file {t}/bad.env: line 2: expected KEY=VALUE, got "not a line"'),
            ([*self.given, "--config", f"{t}/no.json"],
             f"--config: {t}/no.json: No such file or directory"),
            ([*self.given, "--config", t], f"--config: {t}: not a regular file or a pipe"),
            ([*self.given, "--config", self.write("bad.json", "{bad")],
             f"{t}/bad.json: config: not valid JSON"),
            ([*self.given, "--config", self.write("key.json", '{"fial_on": "warn"}')],
             f'{t}/key.json: config: unknown key "fial_on" '
             "(known: fail_on, timeout, online, checks)"),
            ([*self.given, "--check", "nope"], unknown),
            ([*self.given, "--skip", "nope"], unknown),
            (["explain", "nope"], unknown),
            ([*self.given, "--cache-dir", t], self.CACHE_DIR),
        ])

    def test_serve_options(self):
        serve = ["serve", *self.given]
        self.assert_says([
            ([*serve, "--format", "json"],
             "--format and --output do not apply to serve: it serves /report (JSON) and /metrics"),
            ([*serve, "--listen", "nonsense"],
             '--listen "nonsense": expected ADDR:PORT, e.g. 127.0.0.1:8079, [::1]:8079 or :8079'),
            ([*serve, "--listen", "127.0.0.1:99999"],
             '--listen "127.0.0.1:99999": the port must be a number from 0 to 65535'),
            ([*serve, "--interval", "abc"], "--interval: " + self.BAD_DURATION.format("abc")),
            ([*serve, "--online-interval", "0s"],
             '--online-interval: duration "0s" is out of range (1ms to 365 days)'),
            ([*serve, "--timeout", "abc"], "--timeout: " + self.BAD_DURATION.format("abc")),
            ([*serve, "--cache-dir", self.tmp], self.CACHE_DIR),
            ([*serve, "--now", "nope"], self.NOW.format("nope")),
            (["serve", "--pid", self.NO_PID],
             f"--root: /proc/{self.NO_PID}/root: cannot open root directory: "
             "No such file or directory"),
        ])

    def test_an_output_that_cannot_be_written_after_the_run(self):
        stderr = self.said(*self.given, "--check", "locale", "--output", f"{self.tmp}/no/r.txt")
        self.assertRegex(stderr, r"^pycheck: --output: cannot create " + re.escape(self.tmp) +
                         r"/no/\.r\.txt\.tmp\.\d+: No such file or directory\n$")

    def test_cli11_parse_errors(self):
        self.assertEqual(self.said("--root", f"{self.tmp}/no"),
                         f"--root: Directory does not exist: {self.tmp}/no\n"
                         "Run with --help for more information.\n")
        self.assertEqual(self.said(*self.given, "--fail-on", "never"),
                         "--fail-on: never not in {warn,fail}\n"
                         "Run with --help for more information.\n")


def write_until_closed(fd, data):
    with os.fdopen(fd, "wb") as f:
        try:
            f.write(data)
        except BrokenPipeError:
            pass  # pycheck stopped reading at its cap


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"], verbosity=2)
