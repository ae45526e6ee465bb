#!/usr/bin/env python3
"""Integration tests: pycheck on real root filesystems, compared with the real tools.

Usage (as root, after tests/integration/build-roots.sh):
    test_roots.py STATIC_PYCHECK [ROOT_NAME ...]

For every root built by build-roots.sh (a python:3.11-slim-bookworm stand-in
and variants a user would plausibly produce), this runs the static pycheck
binary twice: inside the root with chroot and the image's environment (as
`docker exec` would), and from outside with --root/--env-file. Both reports
must agree, and every fact pycheck reports is compared with what the real
tools say inside the same root: `command -v`, `readlink -f`, `python3 -c`,
`pip --version`, `locale -a`, `dpkg -S`.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

PYCHECK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build-static/pycheck"
ROOTS_DIR = os.environ.get("PYCHECK_ROOTS_DIR", "/var/cache/pycheck/roots")
ONLY = sys.argv[2:]
INSIDE = "/.pycheck-test/pycheck"

# What each root must give, check by check (the verdicts under test).
EXPECTED = {
    "base": {"python.path": "pass", "python.installs": "pass", "locale": "pass",
             "tls.ca-certificates": "pass", "net.services": "pass"},
    "debian-python3": {"python.path": "pass", "python.installs": "warn", "locale": "pass",
                       "tls.ca-certificates": "pass", "net.services": "pass"},
    "no-ca-certificates": {"tls.ca-certificates": "fail"},
    "no-netbase": {"net.services": "fail"},
    "missing-locale": {"locale": "fail"},
    "with-locales": {"locale": "pass"},
    "venv": {"python.path": "pass", "python.installs": "pass"},
    "no-sqlite": {"python.path": "pass"},
    "apt-lists": {"python.path": "pass"},
}


def read_env(name):
    env = {}
    with open(os.path.join(ROOTS_DIR, name + ".env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                env[key] = value
    return env


class RootUnderTest:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(ROOTS_DIR, name)
        self.env = read_env(name)

    def sh(self, script):
        """Runs a shell command inside the root with the image's environment."""
        # -B semantics: the real tools must not leave .pyc files in the cached roots.
        return subprocess.run(["chroot", self.dir, "/bin/sh", "-c", script],
                              env=dict(self.env, PYTHONDONTWRITEBYTECODE="1"),
                              capture_output=True, text=True, timeout=60)

    def out(self, script):
        r = self.sh(script)
        return r.stdout.strip() if r.returncode == 0 else None

    def pycheck_inside(self):
        os.makedirs(os.path.join(self.dir, ".pycheck-test"), exist_ok=True)
        shutil.copy2(PYCHECK, self.dir + INSIDE)
        try:
            r = subprocess.run(["chroot", self.dir, INSIDE, "--format", "json", "--timeout", "5s"],
                               env=self.env, capture_output=True, text=True, timeout=30)
        finally:
            shutil.rmtree(os.path.join(self.dir, ".pycheck-test"))
        assert r.returncode in (0, 1), r.stderr
        return json.loads(r.stdout)

    def pycheck_outside(self):
        r = subprocess.run([PYCHECK, "--root", self.dir, "--env-file",
                            os.path.join(ROOTS_DIR, self.name + ".env"), "--format", "json",
                            "--timeout", "5s"], capture_output=True, text=True, timeout=30)
        assert r.returncode in (0, 1), r.stderr
        return json.loads(r.stdout)


def by_id(report):
    return {c["id"]: c for c in report["checks"]}


def strip_volatile(check):
    c = dict(check)
    c.pop("duration_ms")
    return c


class RootTests(unittest.TestCase):
    maxDiff = None

    def compare(self, name):
        root = RootUnderTest(name)
        inside = by_id(root.pycheck_inside())
        outside = by_id(root.pycheck_outside())

        # Inside with chroot and outside with --root must say the same thing.
        self.assertEqual({k: strip_volatile(v) for k, v in inside.items()},
                         {k: strip_volatile(v) for k, v in outside.items()})
        for check_id, status in EXPECTED[name].items():
            self.assertEqual(inside[check_id]["status"], status,
                             f"{name}: {check_id}: {inside[check_id]['summary']}")
        self.compare_python_path(root, inside["python.path"])
        self.compare_installs(root, inside["python.installs"])
        self.compare_locale(root, inside["locale"])
        self.compare_tls(root, inside["tls.ca-certificates"])
        self.compare_netbase(root, inside["net.services"])
        self.compare_pip(root, inside["pip.version"])

    def compare_python_path(self, root, check):
        commands = check["details"]["commands"]
        for name in ("python3", "python"):
            found = root.out(f"command -v {name}")
            cmd = commands[name]
            self.assertEqual(cmd.get("path"), found, f"{root.name}: command -v {name}")
            if found is None:
                continue
            self.assertEqual(cmd["real_path"], root.out(f"readlink -f {found}"))
            facts = root.out(f"{name} -c 'import sys,platform; print(platform.python_version()); "
                             "print(sys.base_prefix); print(sys.prefix)'").splitlines()
            python = cmd["python"]
            self.assertEqual(python["version"], facts[0], f"{root.name}: {name} version")
            self.assertEqual(python["base"]["prefix"], facts[1])
            venv = python.get("venv")
            self.assertEqual(venv["prefix"] if venv else facts[1], facts[2])

    def compare_installs(self, root, check):
        # Base interpreters: python3.X executables in the bin folders python's own
        # sys.base_prefix would report, found by listing the root.
        real = set()
        for prefix in ("/usr/local", "/usr"):
            listing = root.out(f"ls {prefix}/bin 2>/dev/null") or ""
            for entry in listing.split():
                if re.fullmatch(r"python3\.\d+", entry):
                    real.add(f"{prefix}/bin/{entry}")
        reported = {i["interpreter"] for i in check["details"]["installations"]}
        self.assertEqual(reported, real, root.name)
        for install in check["details"]["installations"]:
            version = root.out(f"{install['interpreter']} -c 'import platform; print(platform.python_version())'")
            self.assertEqual(install["version"], version, install["interpreter"])
            if install["prefix"] == "/usr":
                owner = root.out(f"dpkg -S {install['interpreter']}")
                self.assertIsNotNone(owner)
                self.assertEqual(install["owner_package"], owner.split(":")[0])

    def compare_locale(self, root, check):
        r = root.sh("python3 -c 'import locale; locale.setlocale(locale.LC_ALL, \"\")'")
        if r.returncode == 0:
            self.assertIn(check["status"], ("pass", "warn"), check["summary"])
        else:
            self.assertIn("locale.Error", r.stderr)
            self.assertEqual(check["status"], "fail", check["summary"])
        listed = (root.out("locale -a") or "").split()
        effective = check["details"].get("effective_locale")
        for entry in check["details"].get("locales", []):
            if entry.get("status") == "found" and entry.get("found_in") == "archive":
                self.assertIn(entry["entry"], listed)
        self.assertTrue(effective is None or isinstance(effective, str))

    def compare_tls(self, root, check):
        cafile = root.out("python3 -c 'import ssl; print(ssl.get_default_verify_paths().cafile)'")
        details = check["details"]
        if cafile in (None, "None"):
            self.assertEqual(check["status"], "fail", check["summary"])
            return
        # Python's default is OpenSSL's OPENSSLDIR/cert.pem (/usr/lib/ssl/cert.pem on
        # Debian), a link to the bundle pycheck reads.
        self.assertEqual(details["bundle"]["path"], root.out(f"readlink -f {cafile}"))
        count = root.out("python3 -c 'import ssl; c=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); "
                         f"c.load_verify_locations(\"{cafile}\"); print(len(c.get_ca_certs()))'")
        self.assertEqual(details["bundle"]["certificates"], int(count))

    def compare_netbase(self, root, check):
        r = root.sh("python3 -c 'import socket; socket.getservbyname(\"https\", \"tcp\"); "
                    "socket.getprotobyname(\"udp\")'")
        self.assertEqual(check["status"] == "pass", r.returncode == 0, check["summary"])

    def compare_pip(self, root, check):
        # pip.version judges python3's own pip: what `python3 -m pip` runs.
        version = root.out("python3 -m pip --version")
        details = check["details"]
        if version is None:
            self.assertEqual(check["status"], "warn")
            return
        m = re.match(r"pip (\S+) from (\S+)/pip \(python (\S+)\)", version)
        self.assertIsNotNone(m, version)
        self.assertEqual(details["pip"]["version"], m.group(1))
        self.assertEqual(details["pip"]["site_packages"], m.group(2))
        # And every pip command on PATH that starts python3 is listed as bound to it.
        for name in ("pip", "pip3"):
            if root.out(f"head -1 $(command -v {name})") == "#!" + details["python3"]["invoked"] or \
                    root.out(f"readlink -f $(sed -n '1s/^#!//p' $(command -v {name}))") == details["python3"]["real_path"]:
                self.assertIn(name, details["pip_commands_starting_python3"],
                                f"{name} not listed as bound to python3")


def make_test(name):
    def test(self):
        self.compare(name)
    return test


for _name in EXPECTED:
    if not ONLY or _name in ONLY:
        setattr(RootTests, "test_" + _name.replace("-", "_"), make_test(_name))


if __name__ == "__main__":
    missing = [n for n in EXPECTED if (not ONLY or n in ONLY) and not os.path.isdir(os.path.join(ROOTS_DIR, n))]
    if missing:
        sys.exit(f"roots not built: {missing}; run tests/integration/build-roots.sh first")
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    failed = len(result.failures) + len(result.errors)
    print(f"integration: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)
