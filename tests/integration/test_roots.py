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
import datetime
import gzip
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

PYCHECK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build-static/pycheck"
ROOTS_DIR = os.path.join(os.environ.get("PYCHECK_CACHE_DIR") or "/var/cache/pycheck", "roots")
ONLY = sys.argv[2:]
INSIDE = "/.pycheck-test/pycheck"

# What each root must give, check by check (the verdicts under test).
EXPECTED = {
    "base": {"apt.security-updates": "skip", "python.path": "pass", "python.installs": "pass", "locale": "pass",
             "tls.ca-certificates": "pass", "net.services": "pass",
             "python.shared-libraries": "pass"},
    "debian-python3": {"python.path": "pass", "python.installs": "warn", "locale": "pass",
                       "tls.ca-certificates": "pass", "net.services": "pass",
                       "python.shared-libraries": "pass"},
    "no-ca-certificates": {"tls.ca-certificates": "fail"},
    "no-netbase": {"net.services": "fail"},
    "missing-locale": {"locale": "fail"},
    "with-locales": {"locale": "pass"},
    "venv": {"python.path": "pass", "python.installs": "pass", "python.shared-libraries": "pass"},
    "no-sqlite": {"python.path": "pass", "python.shared-libraries": "warn"},
    # _ssl is a critical module (critical_modules): without it pip and https break.
    "no-libssl": {"python.path": "pass", "python.shared-libraries": "fail"},
    # apt.security-updates on apt-lists: pass or warn depending on the day the
    # lists were fetched; compare_apt_security checks the pending set against apt.
    "apt-lists": {"python.path": "pass"},
}

# python.venv: skipped where python3 is not in a venv, whole in the venv root.
# python.bytecode, python.eol and os.eol are judged in their compare methods:
# bytecode accumulates when python3 runs in a root, the EOL verdicts depend on the day.
for _name, _checks in {"base": {"python.venv": "skip"},
                       "debian-python3": {"python.venv": "skip"},
                       "venv": {"python.venv": "pass"}}.items():
    EXPECTED[_name].update(_checks)


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
        self.compare_shared_libraries(root, inside["python.shared-libraries"])
        self.compare_locale(root, inside["locale"])
        self.compare_tls(root, inside["tls.ca-certificates"])
        self.compare_netbase(root, inside["net.services"])
        self.compare_pip(root, inside["pip.version"])
        self.compare_apt_security(root, inside["apt.security-updates"])
        self.compare_venv(root, inside["python.venv"])
        self.compare_bytecode(root, inside["python.bytecode"])
        self.compare_python_eol(root, inside["python.eol"])
        self.compare_os_eol(root, inside["os.eol"])

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

    def compare_shared_libraries(self, root, check):
        # Every file the check inspects resolves to what `ldd` says inside the root, and
        # a module it says cannot load is one python3 cannot import (and the reverse).
        details = check["details"]
        self.assertLess(check["duration_ms"], 2000, "python.shared-libraries is too slow")
        print(f"\n  {root.name}: python.shared-libraries took {check['duration_ms']:.1f} ms: "
              f"{check['summary']}", file=sys.stderr)
        # ldd runs ld.so on the path it is given, and takes $ORIGIN from that path; a
        # program the kernel starts gets it from /proc/self/exe, its real path (a venv's
        # bin/python3 is a link to the base's python3.X). Trace the program as it runs.
        objects = [(details["python3"]["real_path"], details["python3"]["libraries"])]
        objects += [(m["file"], m.get("libraries")) for m in details["modules"]]
        self.assertGreater(len(details["modules"]), 50, root.name)
        for path, libraries in objects:
            found, not_found = {}, set()
            for line in root.sh(f"ldd {path}").stdout.splitlines():
                m = re.match(r"\s+(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$", line)
                if m and m.group(2) == "not found":
                    not_found.add(m.group(1))
                elif m:
                    found[m.group(1)] = m.group(2)
            self.assertIsNotNone(libraries, f"{root.name}: {path} was not resolved")
            ours = {lib["name"]: lib["path"] for lib in libraries
                    if "path" in lib and lib["via"] != "interpreter"}
            ours_missing = {lib["name"] for lib in libraries if lib.get("status") == "not found"}
            self.assertEqual(ours, found, f"{root.name}: ldd {path}")
            self.assertEqual(ours_missing, not_found, f"{root.name}: ldd {path}")

        failing = sorted(m["module"] for m in details["modules"] if m["status"] != "loads")
        script = ("import importlib, sys\n"
                  "for name in sys.argv[1:]:\n"
                  "    try:\n"
                  "        importlib.import_module(name)\n"
                  "    except ImportError as e:\n"
                  "        print(name, e)\n")
        r = subprocess.run(["chroot", root.dir, "python3", "-B", "-c", script,
                            *[m["module"] for m in details["modules"]]],
                           env=root.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        cannot_import = sorted(line.split()[0] for line in r.stdout.splitlines())
        self.assertEqual(failing, cannot_import, f"{root.name}: {r.stdout}")
        if root.name == "no-sqlite":
            warned = [m["module"] for m in details["modules"] if m["status"] == "cannot load"]
            self.assertEqual(warned, ["_sqlite3"])
            self.assertIn("_sqlite3", check["summary"])
            self.assertEqual([f["cause"] for f in check["findings"]],
                             ["libsqlite3-0 is purged or was never installed"])
            r = root.sh("python3 -B -c 'import sqlite3'")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("libsqlite3.so.0", r.stderr)
        if root.name == "no-libssl":
            # Every module that needs libssl3 is named under one cause; _ssl fails the check.
            severities = {f["message"].split()[0]: f["severity"] for f in check["findings"]}
            self.assertEqual(severities.get("_ssl"), "fail", check["findings"])
            self.assertEqual({f["cause"] for f in check["findings"]},
                             {"libssl3 is purged or was never installed"})
            r = root.sh("python3 -B -c 'import ssl'")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("libssl.so.3", r.stderr)

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
        if root.sh("python3 -B -c 'import ssl'").returncode != 0:
            return  # no ssl module to compare with (no-libssl): python.shared-libraries says so
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


    def compare_apt_security(self, root, check):
        # Offline, pycheck's pending set must be what `apt-get -s upgrade` would
        # take from a -security suite. apt-get writes logs, so it runs on a copy.
        lists = os.path.join(root.dir, "var/lib/apt/lists")
        has_lists = os.path.isdir(lists) and any(
            n.endswith("-security_InRelease") or n.endswith("-security_Release")
            for n in os.listdir(lists))
        if not has_lists:
            self.assertEqual(check["status"], "skip", check["summary"])
            return
        self.assertIn(check["status"], ("pass", "warn"), check["summary"])
        # Restricted to the root's security sources: with every suite, apt's candidate can
        # come from the point release and its Inst line may name several releases.
        with tempfile.TemporaryDirectory(prefix="pycheck-aptsec-", dir="/var/tmp") as tmp:
            copy = os.path.join(tmp, "root")
            subprocess.run(["cp", "-a", root.dir, copy], check=True)
            self.assertGreater(write_security_sources(copy), 0)
            expected = apt_security_pending(copy)
        print(f"\n  {root.name}: apt.security-updates from lists: pycheck {len(pending_of(check))}, "
              f"apt {len(expected)} pending", file=sys.stderr)
        self.assertEqual(pending_of(check), expected)

    def compare_venv(self, root, check):
        # The venv pycheck judged is the one python3 really runs in: sys.prefix,
        # sys.base_prefix and the version, asked from the venv's own python.
        in_venv = root.out("python3 -B -c 'import sys; print(sys.prefix != sys.base_prefix)'")
        if check["status"] == "skip":
            self.assertEqual(in_venv, "False", check["summary"])
            self.assertNotIn("VIRTUAL_ENV", root.env)
            return
        details = check["details"]
        venv = details["venv"]
        facts = root.out(f"{venv}/bin/python3 -B -c 'import sys, platform; "
                         "print(sys.prefix); print(sys.base_prefix); "
                         "print(platform.python_version())'").splitlines()
        self.assertEqual(venv, facts[0])
        self.assertEqual(os.path.dirname(os.path.dirname(details["home_interpreter"]["real_path"])),
                         facts[1])
        self.assertEqual(details["home_interpreter"]["version"], facts[2])
        self.assertEqual(details["pyvenv_cfg"]["version"], facts[2])
        with open(os.path.join(root.dir, venv.lstrip("/"), "pyvenv.cfg")) as f:
            cfg = dict(line.split("=", 1) for line in f if "=" in line)
        self.assertEqual(details["pyvenv_cfg"]["home"], cfg["home "].strip())
        for pip in details["pip"]:
            self.assertTrue(pip["bound_to_venv"], pip)
            self.assertEqual(root.out(f"head -1 {pip['path']}"), "#!" + pip["starts"])

    def compare_bytecode(self, root, check):
        # The counts must be `find`'s. pycheck runs again here because the other
        # comparisons ran python3 in the root, which writes .pyc on import.
        self.assertIn(check["status"], ("pass", "skip"), check["summary"])
        r = subprocess.run([PYCHECK, "--root", root.dir, "--env-file",
                            os.path.join(ROOTS_DIR, root.name + ".env"), "--format", "json",
                            "--check", "python.bytecode"], capture_output=True, text=True,
                           timeout=30)
        check = json.loads(r.stdout)["checks"][0]
        details = check["details"]
        stdlib, tag = details["stdlib"], details["cache_tag"]
        modules = [os.path.basename(p)[:-3] for p in root.out(
            f"find {stdlib} -maxdepth 1 -type f -name '*.py'").split()]
        packages = [p.split("/")[-2] for p in root.out(
            f"find {stdlib} -mindepth 2 -maxdepth 2 -type f -name __init__.py").split()]
        compiled = set(root.out(
            f"find {stdlib} -maxdepth 3 -type f -path '*/__pycache__/*.{tag}.pyc'").split())
        top = sum(f"{stdlib}/__pycache__/{m}.{tag}.pyc" in compiled for m in modules)
        inits = sum(f"{stdlib}/{p}/__pycache__/__init__.{tag}.pyc" in compiled for p in packages)
        self.assertEqual(details["modules"], len(modules) + len(packages), root.name)
        self.assertEqual(details["compiled"], top + inits, root.name)
        self.assertEqual(check["status"], "pass" if top + inits else "skip", check["summary"])

    def expected_eol_status(self, details, end):
        today = details["today"]
        self.assertEqual(today, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"))
        return "fail" if today >= end else "warn" if today >= details["warn_from"] else "pass"

    def compare_python_eol(self, root, check):
        details = check["details"]
        version = root.out("python3 -B -c 'import platform; print(platform.python_version())'")
        self.assertEqual(details["python3"]["version"], version)
        self.assertEqual(check["status"],
                         self.expected_eol_status(details, details["lifecycle"]["end_of_life"]),
                         check["summary"])

    def compare_os_eol(self, root, check):
        # os-release as the shell reads it: the format is shell assignments.
        details = check["details"]
        said = root.out(". /etc/os-release && printf '%s|%s|%s' \"$ID\" \"$VERSION_ID\" "
                        "\"$VERSION_CODENAME\"")
        os_release = details["os_release"]
        self.assertEqual(f"{os_release['id']}|{os_release['version_id']}|"
                         f"{os_release['version_codename']}", said)
        self.assertEqual(details["debian_version"], root.out("cat /etc/debian_version"))
        self.assertEqual(check["status"], self.expected_eol_status(details, details["end_used"]),
                         check["summary"])


class StaticBinaryTests(unittest.TestCase):
    """The release binary needs nothing from the root it runs in: no libc, no NSS."""

    def test_runs_in_a_root_holding_only_itself(self):
        import tempfile
        with tempfile.TemporaryDirectory(prefix="pycheck-empty-") as root:
            shutil.copy2(PYCHECK, os.path.join(root, "pycheck"))
            r = subprocess.run(["chroot", root, "/pycheck", "--version"], capture_output=True,
                               text=True, timeout=10, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^pycheck \d+\.\d+\.\d+")
            os.makedirs(os.path.join(root, "etc"))
            for f in ("/etc/services", "/etc/protocols"):
                shutil.copyfile(f, root + f)
            # strace records every file the binary opens: nothing but what it was asked to read.
            trace = os.path.join(root, "trace")
            r = subprocess.run(["strace", "-f", "-e", "trace=open,openat,execve", "-o", trace,
                                "chroot", root, "/pycheck", "--format", "json"],
                               capture_output=True, text=True, timeout=10,
                               env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
            self.assertEqual(r.returncode, 1, r.stderr)  # no python3 in this root
            report = {c["id"]: c for c in json.loads(r.stdout)["checks"]}
            self.assertEqual(report["net.services"]["status"], "pass")
            self.assertEqual(report["python.path"]["status"], "fail")
            with open(trace) as f:
                lines = f.readlines()
            # Only what happens after chroot has exec'ed pycheck counts (chroot itself is dynamic).
            start = max(i for i, line in enumerate(lines) if 'execve("/pycheck"' in line)
            after = "".join(lines[start + 1:])
            self.assertIn('"services"', after)  # read component by component through RootFs
            for forbidden in ("libnss", "ld.so", "libc.so", "gconv", "nsswitch", "/etc/passwd"):
                self.assertNotIn(forbidden, after, "the static binary tried to load " + forbidden)


# --- apt.security-updates online, compared with apt in a copy of the base root --------

# The machine's proxy settings, if any, reach both pycheck and apt.
APT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
           **{k: v for k, v in os.environ.items() if k.lower() in ("http_proxy", "no_proxy")}}
SECURITY_PARTS = "/tmp/pycheck-security-sources"  # inside the copy: the security stanzas only
# apt-get -s prints "Inst NAME [OLD] (NEW RELEASE[, RELEASE...] [ARCH])"; OLD is absent for new packages.
INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) (.+?) \[(\S+)\]\)")


def deb822_stanzas(text):
    """Blank-line separated stanzas as dicts; continuation lines joined with newlines."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        fields, last = {}, None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and last:
                fields[last] += "\n" + line.strip()
            elif ":" in line:
                last, _, value = line.partition(":")
                fields[last] = value.strip()
        if fields:
            stanzas.append(fields)
    return stanzas


def is_security_suite(suite):
    return suite.endswith("-security") or suite.endswith("/updates")


def write_security_sources(root):
    """Copies the security entries of the root's own apt sources into SECURITY_PARTS,
    so that `apt-get -s upgrade` can be restricted to them (Dir::Etc::SourceParts)."""
    stanzas, lines = [], []
    apt = os.path.join(root, "etc/apt")
    files = [os.path.join(apt, "sources.list")] + sorted(
        os.path.join(apt, "sources.list.d", n) for n in os.listdir(os.path.join(apt, "sources.list.d")))
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            text = f.read()
        if path.endswith(".sources"):
            for s in deb822_stanzas(text):
                suites = [x for x in s.get("Suites", "").split() if is_security_suite(x)]
                if suites and "deb" in s.get("Types", "").split() and s.get("Enabled", "yes") != "no":
                    s["Suites"] = " ".join(suites)  # continuation lines (an inline key) re-indented
                    stanzas.append("".join(f"{k}: {v}\n".replace("\n", "\n ").rstrip(" ")
                                           for k, v in s.items()))
        elif path.endswith(".list"):
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
                if len(words) >= 3 and words[0] == "deb" and is_security_suite(words[2]):
                    lines.append(line)
    parts = root + SECURITY_PARTS
    os.makedirs(parts)
    with open(os.path.join(parts, "security.sources"), "w") as f:
        f.write("\n".join(stanzas))
    with open(os.path.join(parts, "security.list"), "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return len(stanzas) + len(lines)


def apt_get(root, *args, timeout=300):
    return subprocess.run(["chroot", root, "apt-get", "-q", *args], capture_output=True,
                          text=True, timeout=timeout, env=APT_ENV)


def apt_security_pending(root, status=None):
    """What `apt-get -s upgrade` takes from the security suites, with only those suites
    as sources: {(package, arch, installed, candidate)}. Kept-back packages fail."""
    options = ["-o", "Debug::NoLocking=1", "-o", "Dir::Etc::SourceList=/dev/null",
               "-o", "Dir::Etc::SourceParts=" + SECURITY_PARTS]
    if status:
        options += ["-o", "Dir::State::status=" + status]
    r = apt_get(root, "-s", *options, "upgrade", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "kept back" not in r.stdout, "apt kept packages back; the sets would differ:\n" + r.stdout
    pending = set()
    for line in r.stdout.splitlines():
        m = INST.match(line)
        if m:
            assert "-security" in m.group(4), line  # only security sources are configured
            pending.add((m.group(1).split(":")[0], m.group(5), m.group(2), m.group(3)))
    return pending


def pycheck_online(root, inside):
    """pycheck's apt.security-updates check, online, from inside (chroot) or outside (--root)."""
    args = ["--online", "--check", "apt.security-updates", "--format", "json", "--timeout", "60s"]
    if inside:
        os.makedirs(os.path.join(root, ".pycheck-test"), exist_ok=True)
        shutil.copy2(PYCHECK, root + INSIDE)
        cmd = ["chroot", root, INSIDE, *args]
    else:
        cmd = [PYCHECK, "--root", root, *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=APT_ENV)
    finally:
        shutil.rmtree(os.path.join(root, ".pycheck-test"), ignore_errors=True)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    check = json.loads(r.stdout)["checks"][0]
    # Unreachable archive: pycheck says error, and so must this test (no skip).
    assert check["status"] in ("pass", "warn"), f"{check['status']}: {check['summary']}"
    assert check["details"]["mode"] == "online", check["details"]
    return check


def pending_of(check):
    return {(p["package"], p["architecture"], p["installed"], p["candidate"])
            for p in check["details"]["pending"]}


def release_dates_of(check):
    return sorted(s["release"]["date"] for s in check["details"]["sources"] if s.get("security"))


def release_dates_in_lists(root):
    lists = os.path.join(root, "var/lib/apt/lists")
    dates = []
    for name in sorted(os.listdir(lists)) if os.path.isdir(lists) else []:
        if name.endswith("_InRelease") and any(is_security_suite(x) for x in name.split("_")):
            with open(os.path.join(lists, name), errors="replace") as f:
                dates += re.findall(r"(?m)^Date: (.*)$", f.read())[:1]
    return sorted(dates)


def fetch_security_index(check):
    """The Packages index pycheck used, fetched again (same by-hash URL), as stanzas."""
    stanzas = []
    for source in check["details"]["sources"]:
        for index in source.get("indexes", []):
            with urllib.request.urlopen(index["url"], timeout=60) as response:
                body = response.read()
            if "/by-hash/SHA256/" in index["url"]:
                assert hashlib.sha256(body).hexdigest() == index["url"].rsplit("/", 1)[1]
            if index["path"].endswith(".xz"):
                body = lzma.decompress(body)
            elif index["path"].endswith(".gz"):
                body = gzip.decompress(body)
            stanzas += deb822_stanzas(body.decode())
    return stanzas


def pick_downgrades(status_text, index, count=3):
    """COUNT installed packages that the security index has, with a version just below the
    index's, preferring packages no installed package names with a version relation (so
    apt still sees a consistent system). {(package, arch): new version}."""
    offered = {}
    for s in index:
        offered.setdefault((s["Package"], s["Architecture"]), []).append(s["Version"])
    installed = [s for s in deb822_stanzas(status_text)
                 if "installed" in s.get("Status", "").split()]
    constrained = set()
    for s in installed:
        for field in ("Depends", "Pre-Depends", "Breaks", "Conflicts"):
            for alt in re.split(r"[,|]", s.get(field, "")):
                m = re.match(r"\s*([^\s(:]+)(?::\S+)?\s*\(", alt)
                if m:
                    constrained.add(m.group(1))
    picks = sorted(((s["Package"] in constrained, s["Package"], s["Architecture"]) for s in installed
                    if len(offered.get((s["Package"], s["Architecture"]), [])) == 1))
    # "~" sorts before the end of a version: V~pycheck1 < V for dpkg and apt alike.
    return {(name, arch): offered[(name, arch)][0] + "~pycheck1" for _, name, arch in picks[:count]}


def set_status_versions(status_text, versions):
    out = []
    for block in status_text.split("\n\n"):
        fields = deb822_stanzas(block)
        key = (fields[0].get("Package"), fields[0].get("Architecture")) if fields else None
        if key in versions and "installed" in fields[0].get("Status", "").split():
            block = re.sub(r"(?m)^Version: .*$", "Version: " + versions[key], block, count=1)
        out.append(block)
    return "\n\n".join(out)


class AptSecurityOnlineTests(unittest.TestCase):
    """apt.security-updates --online on a copy of the base root (no lists) against
    `apt-get update` + `apt-get -s upgrade` restricted to the root's own security
    sources, right after, in the same copy: the pending sets must be identical. Twice:
    the root as built, and with 3 packages set back in the dpkg status so that the
    comparison cannot pass on two empty sets."""
    maxDiff = None

    def test_online_pending_set_is_apts(self):
        base = os.path.join(ROOTS_DIR, "base")
        for attempt in (1, 2):
            with tempfile.TemporaryDirectory(prefix="pycheck-aptsec-online-", dir="/var/tmp") as tmp:
                root = os.path.join(tmp, "root")
                subprocess.run(["cp", "-a", base, root], check=True)
                if self.compare_once(root, last=attempt == 2):
                    return

    def compare_once(self, root, last):
        status_path = os.path.join(root, "var/lib/dpkg/status")
        self.assertEqual(release_dates_in_lists(root), [],
                         "the base root has apt lists; the online check must run without them")
        # pycheck first (inside and outside agree), then apt right after.
        as_built = pycheck_online(root, inside=True)
        self.assertEqual(strip_volatile(as_built), strip_volatile(pycheck_online(root, inside=False)))
        with open(status_path) as f:
            status = f.read()
        shutil.copy2(status_path, status_path + ".pycheck-orig")
        picks = pick_downgrades(status, fetch_security_index(as_built))
        self.assertEqual(len(picks), 3, "the security index offers too few installed packages")
        with open(status_path, "w") as f:
            f.write(set_status_versions(status, picks))
        downgraded = pycheck_online(root, inside=False)

        shutil.copy2("/etc/resolv.conf", os.path.join(root, "etc/resolv.conf"))
        self.assertGreater(write_security_sources(root), 0, "no security source in the base root")
        r = apt_get(root, "update")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("\nW:", "\n" + r.stderr, r.stderr)
        apt_as_built = apt_security_pending(root, status="/var/lib/dpkg/status.pycheck-orig")
        apt_downgraded = apt_security_pending(root)

        print(f"\n  apt.security-updates online: as built: pycheck {len(pending_of(as_built))}, "
              f"apt {len(apt_as_built)}; 3 set back ({', '.join(n for n, _ in picks)}): "
              f"pycheck {len(pending_of(downgraded))}, apt {len(apt_downgraded)}; "
              f"took {as_built['duration_ms']:.0f} ms", file=sys.stderr)
        for (name, arch), version in picks.items():
            self.assertIn(name, {p[0] for p in apt_downgraded if p[1] == arch and p[2] == version})
        same = (pending_of(as_built) == apt_as_built and pending_of(downgraded) == apt_downgraded)
        ours, apts = release_dates_of(as_built), release_dates_in_lists(root)
        if not same and ours != apts and not last:
            print(f"  the archive changed between the runs (InRelease Date {ours} -> {apts}): "
                  "retrying once", file=sys.stderr)
            return False
        self.assertEqual(ours, apts, "pycheck and apt read different InRelease files")
        self.assertEqual(pending_of(as_built), apt_as_built)
        self.assertEqual(pending_of(downgraded), apt_downgraded)
        return True


GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
GOLDEN_NOW = "2026-12-06"
# The text report a person reads, on roots where something is wrong, kept as
# golden files (tests/integration/golden/NAME.txt): read them as a user would.
# PYCHECK_UPDATE_GOLDEN=1 rewrites them. Each case: a root and changes to its ENV.
GOLDEN_CASES = {
    "slim": ("base", {}),
    "no-libssl": ("no-libssl", {}),
    "debian-python3-first": ("debian-python3",
                             {"PATH": "/usr/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/sbin:/bin"}),
    "missing-locale": ("missing-locale", {}),
}


def normalise_report(text):
    """What the archive may change between two builds of the same root: the
    Debian point release and the number of CA certificates."""
    text = re.sub(r"\(bookworm, 12\.\d+\)", "(bookworm, 12.N)", text)
    text = re.sub(r"\b\d+ CA certificates", "N CA certificates", text)
    return re.sub(r"\b\d+ expired\b", "N expired", text)


class GoldenTextTests(unittest.TestCase):
    maxDiff = None

    def report(self, root_name, env_changes):
        env = dict(read_env(root_name), **env_changes)
        with tempfile.NamedTemporaryFile("w", suffix=".env") as env_file:
            env_file.write("".join(f"{k}={v}\n" for k, v in env.items()))
            env_file.flush()
            r = subprocess.run([PYCHECK, "--root", os.path.join(ROOTS_DIR, root_name), "--env-file",
                                env_file.name, "--now", GOLDEN_NOW, "--timeout", "5s"],
                               capture_output=True, text=True, timeout=30)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return normalise_report(r.stdout)

    def test_text_reports_match_the_golden_files(self):
        for case, (root_name, env_changes) in GOLDEN_CASES.items():
            with self.subTest(case=case):
                text = self.report(root_name, env_changes)
                path = os.path.join(GOLDEN_DIR, case + ".txt")
                if os.environ.get("PYCHECK_UPDATE_GOLDEN") == "1":
                    os.makedirs(GOLDEN_DIR, exist_ok=True)
                    with open(path, "w") as f:
                        f.write(text)
                with open(path) as f:
                    self.assertEqual(text, f.read(), f"{case}: PYCHECK_UPDATE_GOLDEN=1 rewrites {path}")
                # For people: short lines, and each fix command said once.
                commands, in_fix = [], False  # the lines under "fix:" at the commands' indent
                for line in text.splitlines():
                    in_fix = line.startswith(" " * 8 + "fix:") or (in_fix and line.startswith(" " * 12))
                    if in_fix and re.match(r" {12}\S", line):
                        commands.append(line.strip())
                for line in text.splitlines()[1:]:
                    if line.strip() not in commands:  # a command stays whole, however long
                        self.assertLessEqual(len(line), 100, line)
                self.assertEqual(len(commands), len(set(commands)), commands)


def make_test(name):
    def test(self):
        self.compare(name)
    return test


for _name in EXPECTED:
    if not ONLY or _name in ONLY:
        setattr(RootTests, "test_" + _name.replace("-", "_"), make_test(_name))
if ONLY and not {"base", "apt-security-online"} & set(ONLY):
    del AptSecurityOnlineTests  # runs with the base root, or when named alone


if __name__ == "__main__":
    missing = [n for n in EXPECTED if (not ONLY or n in ONLY) and not os.path.isdir(os.path.join(ROOTS_DIR, n))]
    if missing:
        sys.exit(f"roots not built: {missing}; run tests/integration/build-roots.sh first")
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    failed = len(result.failures) + len(result.errors)
    print(f"integration: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)
