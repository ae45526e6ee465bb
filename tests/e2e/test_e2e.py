#!/usr/bin/env python3
"""End-to-end tests: the built pycheck binary on fixture roots.

Usage: test_e2e.py PYCHECK_BINARY SOURCE_DIR

Each test builds a root filesystem in a temporary folder that looks like the
official python image (or a broken variant of it), runs the binary with
--root and --env-file, and checks the exit code, the text verdict and the JSON
report, which is validated against agent/report/report.schema.json every time.
"""
import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import jsonschema

PYCHECK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/pycheck"
SOURCE_DIR = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else "."
with open(os.path.join(SOURCE_DIR, "agent", "report", "report.schema.json")) as f:
    SCHEMA = json.load(f)
ALL_IDS = ["python.path", "python.installs", "python.shared-libraries", "locale",
           "tls.ca-certificates", "net.services", "apt.security-updates", "pip.version",
           "python.venv", "python.eol", "os.eol", "python.bytecode"]
# On the official image these have nothing to judge: no venv in use, and no .pyc
# (the image deletes them on purpose).
# apt.security-updates: the image's security source is configured but the
# fixture has no apt lists and the run is offline, so pending updates are unknown.
SKIPPED_ON_OFFICIAL_IMAGE = {"python.venv", "python.bytecode", "apt.security-updates"}
IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DPKG_STANZA = """Package: {name}
Status: install ok installed
Priority: optional
Architecture: {arch}
Version: {version}
Description: {name}

"""


_BUILT = {}


def built_python(minor):
    """A real python{minor} program, its libpython and a lib-dynload module, compiled here
    once per minor, plus this machine's libc and dynamic loader: what
    python.shared-libraries needs to see the image's layout load."""
    if minor in _BUILT:
        return _BUILT[minor]
    d = tempfile.mkdtemp(prefix="pycheck-e2e-elf-")
    atexit.register(shutil.rmtree, d, True)
    sources = {"py.c": "int Py_BytesMain(int c, char **v) { (void)v; return c - 1; }\n",
               "main.c": "int Py_BytesMain(int, char **);\n"
                         "int main(int c, char **v) { return Py_BytesMain(c, v); }\n",
               "mod.c": "int PyInit__json(void) { return 0; }\n"}
    for name, text in sources.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    lib = f"libpython{minor}.so.1.0"
    tag = "cpython-" + minor.replace(".", "")
    triplet = subprocess.run(["cc", "-dumpmachine"], capture_output=True, text=True,
                             check=True).stdout.strip()
    module = f"_json.{tag}-{triplet}.so"
    for args in (["-shared", "-fPIC", "py.c", f"-Wl,-soname,{lib}", "-o", lib],
                 ["main.c", f"./{lib}", "-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib",
                  "-o", f"python{minor}"],
                 ["-shared", "-fPIC", "mod.c", "-o", module]):
        subprocess.run(["cc", *args], cwd=d, check=True)
    headers = subprocess.run(["readelf", "-lW", os.path.join(d, f"python{minor}")],
                             capture_output=True, text=True, check=True).stdout
    interpreter = re.search(r"interpreter: (\S+)\]", headers).group(1)
    _BUILT[minor] = {"dir": d, "lib": lib, "module": module, "triplet": triplet,
                     "interpreter": interpreter}
    return _BUILT[minor]


class FixtureRoot:
    """A root filesystem laid out like python:3.11-slim, built from small files."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "root")
        os.makedirs(self.dir)
        self.env = {"PATH": IMAGE_PATH, "LANG": "C.UTF-8", "PYTHON_VERSION": "3.11.15"}
        self.packages = [("ca-certificates", "all", "20230311"), ("netbase", "all", "6.4"),
                         ("libc-bin", "amd64", "2.36-9+deb12u13")]

    def path(self, inside):
        return os.path.join(self.dir, inside.lstrip("/"))

    def write(self, inside, content, mode=0o644):
        p = self.path(inside)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
        os.chmod(p, mode)

    def symlink(self, inside, target):
        p = self.path(inside)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.lexists(p):
            os.remove(p)
        os.symlink(target, p)

    def remove(self, inside):
        p = self.path(inside)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.remove(p)

    def official_image(self, version="3.11.15", pip="26.2.1"):
        minor = ".".join(version.split(".")[:2])
        exe = f"/usr/local/bin/python{minor}"
        built = built_python(minor)
        self.write(exe, read_bytes(os.path.join(built["dir"], f"python{minor}")), 0o755)
        self.symlink("/usr/local/bin/python3", f"python{minor}")
        self.symlink("/usr/local/bin/python", "python3")
        pip_script = f"#!{exe}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom pip._internal.cli.main import main\n"
        for name in ("pip3", f"pip{minor}"):
            self.write(f"/usr/local/bin/{name}", pip_script, 0o755)
        self.symlink("/usr/local/bin/pip", "pip3")
        self.write(f"/usr/local/include/python{minor}/patchlevel.h",
                   f'#define PY_MAJOR_VERSION 3\n#define PY_VERSION "{version}"\n')
        self.write(f"/usr/local/lib/python{minor}/os.py", "# os\n")
        self.write(f"/usr/local/lib/{built['lib']}",
                   read_bytes(os.path.join(built["dir"], built["lib"])), 0o755)
        self.write(f"/usr/local/lib/python{minor}/lib-dynload/{built['module']}",
                   read_bytes(os.path.join(built["dir"], built["module"])), 0o755)
        # glibc and its dynamic loader, from this machine, in the Debian multiarch layout.
        multiarch = f"/lib/{built['triplet']}"
        loader = os.path.basename(built["interpreter"])
        for name in ("libc.so.6", loader):
            self.write(f"{multiarch}/{name}",
                       read_bytes(os.path.realpath(f"{multiarch}/{name}")), 0o755)
        if built["interpreter"] != f"{multiarch}/{loader}":
            self.symlink(built["interpreter"], f"{multiarch}/{loader}")
        self.write(f"/usr/local/lib/python{minor}/site-packages/pip/__init__.py", f'__version__ = "{pip}"\n')
        self.write(f"/usr/local/lib/python{minor}/site-packages/pip-{pip}.dist-info/METADATA",
                   f"Metadata-Version: 2.1\nName: pip\nVersion: {pip}\nSummary: The PyPA recommended tool\n")
        # netbase, ca-certificates and the C.UTF-8 locale, from this machine's real files.
        os.makedirs(self.path("/etc"), exist_ok=True)
        for f in ("/etc/services", "/etc/protocols"):
            shutil.copyfile(f, self.path(f))
        self.write("/etc/ssl/certs/ca-certificates.crt",
                   open("/etc/ssl/certs/ca-certificates.crt").read())
        shutil.copytree("/usr/lib/locale/C.utf8", self.path("/usr/lib/locale/C.utf8"), symlinks=True)
        self.write("/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
        # The image's apt sources (debuerreotype layout); apt-get update never ran, so no lists.
        self.write("/etc/apt/sources.list.d/debian.sources",
                   "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
                   "Components: main\n\nTypes: deb\nURIs: http://mirror.invalid/debian-security\n"
                   "Suites: bookworm-security\nComponents: main\n")
        self.write_dpkg()
        return self

    def write_dpkg(self):
        self.write("/var/lib/dpkg/status", "".join(
            DPKG_STANZA.format(name=n, arch=a, version=v) for n, a, v in self.packages))

    def drop_package(self, name):
        self.packages = [p for p in self.packages if p[0] != name]
        self.write_dpkg()

    def env_file(self):
        p = self.dir + ".env"
        with open(p, "w") as f:
            for k, v in self.env.items():
                f.write(f"{k}={v}\n")
        return p


class Run:
    def __init__(self, proc, took):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.took = took
        self.report = None

    def status(self, check_id):
        for c in self.report["checks"]:
            if c["id"] == check_id:
                return c["status"]
        raise KeyError(check_id)

    def check(self, check_id):
        return next(c for c in self.report["checks"] if c["id"] == check_id)


def run_pycheck(*args, timeout=10):
    start = time.monotonic()
    proc = subprocess.run([PYCHECK, *args], capture_output=True, text=True, timeout=timeout)
    return Run(proc, time.monotonic() - start)


class E2E(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pycheck-e2e-")
        self.root = FixtureRoot(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def json_run(self, *extra, timeout=10):
        run = run_pycheck("--root", self.root.dir, "--env-file", self.root.env_file(),
                          "--format", "json", "--now", "2026-11-28", *extra, timeout=timeout)
        self.assertIn(run.code, (0, 1), run.stderr)
        run.report = json.loads(run.stdout)
        jsonschema.validate(run.report, SCHEMA)
        return run

    def text_run(self, *extra):
        return run_pycheck("--root", self.root.dir, "--env-file", self.root.env_file(),
                           "--now", "2026-11-28", *extra)

    # --- the command line -------------------------------------------------

    def test_version_list_explain(self):
        run = run_pycheck("--version")
        self.assertEqual(run.code, 0)
        self.assertRegex(run.stdout, r"^pycheck \d+\.\d+\.\d+")
        run = run_pycheck("list")
        self.assertEqual(run.code, 0)
        self.assertEqual([line.split()[0] for line in run.stdout.splitlines()], ALL_IDS)
        for check_id in ALL_IDS:
            run = run_pycheck("explain", check_id)
            self.assertEqual(run.code, 0, check_id)
            self.assertGreater(len(run.stdout), 300, f"explain {check_id} is too thin")

    def test_usage_errors_exit_2_with_a_message(self):
        cases = [
            ["--check", "no.such.check"],
            ["--skip", "nope"],
            ["explain", "nope"],
            ["--timeout", "800"],
            ["--format", "yaml"],
            ["--root", os.path.join(self.tmp, "missing")],
            ["--env-file", os.path.join(self.tmp, "missing.env")],
            ["--bogus-flag"],
        ]
        for args in cases:
            with self.subTest(args=args):
                run = run_pycheck("--root", self.root.dir, *args) if args[0] != "--root" else run_pycheck(*args)
                self.assertEqual(run.code, 2, run.stdout + run.stderr)
                self.assertTrue(run.stderr.strip(), "no message on stderr")
        run = run_pycheck("--check", "no.such.check")
        self.assertIn("python.path", run.stderr, "unknown id must list the known ids")

    def test_config_unknown_key_is_named(self):
        cfg = os.path.join(self.tmp, "cfg.json")
        with open(cfg, "w") as f:
            json.dump({"checks": {"locale": {"enabeld": False}}}, f)
        run = run_pycheck("--root", self.root.dir, "--config", cfg)
        self.assertEqual(run.code, 2)
        self.assertIn("enabeld", run.stderr)

    def test_bad_env_file_is_a_usage_error(self):
        bad = os.path.join(self.tmp, "bad.env")
        with open(bad, "w") as f:
            f.write("PATH=/usr/bin\nnot an assignment\n")
        run = run_pycheck("--root", self.root.dir, "--env-file", bad)
        self.assertEqual(run.code, 2)
        self.assertIn("line 2", run.stderr)

    # --- healthy image ------------------------------------------------------

    def test_official_image_passes(self):
        self.root.official_image()
        run = self.json_run()
        self.assertEqual(run.code, 0, run.stdout)
        self.assertEqual([c["id"] for c in run.report["checks"]], ALL_IDS)
        for check_id in ALL_IDS:
            expected = "skip" if check_id in SKIPPED_ON_OFFICIAL_IMAGE else "pass"
            self.assertEqual(run.status(check_id), expected, run.check(check_id))
        self.assertEqual(run.report["status"], "pass")
        self.assertEqual(run.report["root"], self.root.dir)
        text = self.text_run()
        self.assertEqual(text.code, 0)
        self.assertTrue(text.stdout.startswith("pycheck: PASS — 9 passed, 3 skipped\n"), text.stdout)
        self.assertNotIn("\033[", text.stdout)

    def test_descriptor_table_is_grown_before_the_check_threads_start(self):
        # Started with only fds 0-2 (as docker exec and exec probes start it), a
        # process has a 64-descriptor table; growing it once threads share it
        # waits for an RCU grace period (10-25 ms). The worker must grow it first.
        self.root.official_image()
        trace = os.path.join(self.tmp, "trace")
        # The ASan build's LeakSanitizer cannot work under ptrace and fails the run.
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") + "detect_leaks=0")
        # -ff: one file per thread, so no call is split by another's lines.
        proc = subprocess.run(["strace", "-ff", "-qq", "-e", "trace=dup2,clone,clone3", "-o", trace,
                               PYCHECK, "--root", self.root.dir, "--env-file",
                               self.root.env_file()], capture_output=True, text=True,
                              timeout=30, close_fds=True, env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        starters = {}  # trace file of each thread that started threads -> its events in order
        for name in os.listdir(self.tmp):
            if not name.startswith("trace."):
                continue
            events = []
            for line in open(os.path.join(self.tmp, name)):
                m = re.match(r"dup2\(\d+, (\d+)\)\s+= (\d+)", line)
                if m and int(m.group(1)) >= 64 and m.group(1) == m.group(2):
                    events.append("grow")
                elif line.startswith("clone3(") or (line.startswith("clone(") and
                                                     "CLONE_THREAD" in line):
                    events.append("thread")
            if "thread" in events:
                starters[name] = events
        self.assertEqual(len(starters), 1, starters)  # the worker's main thread
        self.assertEqual(next(iter(starters.values()))[0], "grow", starters)

    def test_check_and_skip_select_checks(self):
        self.root.official_image()
        run = self.json_run("--check", "locale", "--check", "net.services")
        self.assertEqual([c["id"] for c in run.report["checks"]], ["locale", "net.services"])
        run = self.json_run("--skip", "locale")
        self.assertNotIn("locale", [c["id"] for c in run.report["checks"]])

    def test_output_file_is_written_and_verdict_printed(self):
        self.root.official_image()
        out = os.path.join(self.tmp, "report.json")
        run = self.text_run("--format", "json", "--output", out)
        self.assertEqual(run.code, 0)
        self.assertTrue(run.stdout.startswith("pycheck: PASS"))
        with open(out) as f:
            jsonschema.validate(json.load(f), SCHEMA)
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [])

    def test_nothing_is_written_to_the_root(self):
        self.root.official_image()
        before = snapshot(self.root.dir)
        self.json_run()
        self.text_run()
        self.assertEqual(snapshot(self.root.dir), before)

    # --- what users break ---------------------------------------------------

    def test_missing_ca_bundle_fails_and_is_named_in_the_verdict(self):
        self.root.official_image()
        self.root.remove("/etc/ssl/certs")
        self.root.drop_package("ca-certificates")
        run = self.text_run()
        self.assertEqual(run.code, 1)
        first = run.stdout.splitlines()[0]
        self.assertTrue(first.startswith("pycheck: FAIL — 1 failed"), first)
        self.assertIn("tls.ca-certificates", first)

    def test_fail_on_warn(self):
        self.root.official_image()
        self.root.env["LANG"] = "C"
        run = self.json_run()
        self.assertEqual(run.status("locale"), "warn")
        self.assertEqual(run.code, 0)
        run = self.json_run("--fail-on", "warn")
        self.assertEqual(run.code, 1)

    def test_severity_override_from_config(self):
        self.root.official_image()
        self.root.remove("/etc/services")
        cfg = os.path.join(self.tmp, "cfg.json")
        with open(cfg, "w") as f:
            json.dump({"checks": {"net.services": {"severity": "warn"}}}, f)
        run = self.json_run("--config", cfg)
        self.assertEqual(run.status("net.services"), "warn")
        self.assertEqual(run.code, 0)
        self.assertEqual(run.check("net.services")["details"]["severity_override"]["original_status"], "fail")

    def test_fifo_in_place_of_a_file_does_not_hang(self):
        self.root.official_image()
        self.root.remove("/etc/services")
        os.mkfifo(self.root.path("/etc/services"))
        # A read that blocked would hold the run until its deadline and show
        # as "timed out"; the deadline is far off, so a slow machine never does.
        run = self.json_run("--timeout", "20s", timeout=60)
        self.assertLess(run.took, 20)
        self.assertIn(run.status("net.services"), ("fail", "error"))
        self.assertNotIn("timed out", run.check("net.services")["summary"])
        self.assertIn("/etc/services", json.dumps(run.check("net.services")))

    def test_garbage_in_every_file_gives_clear_results(self):
        self.root.official_image()
        garbage = bytes(range(256)) * 8
        for f in ("/etc/services", "/etc/protocols", "/etc/ssl/certs/ca-certificates.crt",
                  "/usr/local/include/python3.11/patchlevel.h",
                  "/usr/local/lib/python3.11/site-packages/pip-26.2.1.dist-info/METADATA",
                  "/var/lib/dpkg/status", "/usr/local/bin/pip3"):
            self.root.write(f, garbage, 0o755 if "bin" in f else 0o644)
        run = self.json_run()
        self.assertEqual(run.code, 1)
        for check_id in ("tls.ca-certificates", "net.services"):
            self.assertIn(run.status(check_id), ("fail", "error"), run.check(check_id))
            self.assertTrue(run.check(check_id)["summary"])

    def test_empty_root(self):
        run = self.json_run()
        self.assertEqual(run.code, 1)
        self.assertEqual(run.status("python.path"), "fail")
        self.assertIn(run.status("tls.ca-certificates"), ("fail",))
        self.assertIn(run.status("net.services"), ("fail",))

    def test_pid_mode_reads_the_process_root_and_environment(self):
        env = dict(os.environ, PYCHECK_E2E_MARKER="1", LANG="C")
        proc = subprocess.Popen(["sleep", "30"], env=env)
        try:
            run = run_pycheck("--pid", str(proc.pid), "--format", "json", "--check", "locale")
            self.assertIn(run.code, (0, 1), run.stderr)
            report = json.loads(run.stdout)
            jsonschema.validate(report, SCHEMA)
            self.assertEqual(report["root"], f"/proc/{proc.pid}/root")
            self.assertEqual(report["checks"][0]["status"], "warn", "LANG=C of the process was not judged")
        finally:
            proc.kill()
            proc.wait()
        run = run_pycheck("--pid", "999999999")
        self.assertEqual(run.code, 2)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def snapshot(top):
    """Every path under top with its type, size and mtime."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            entries[p] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return entries


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"], verbosity=2)
