"""Each root's report, inside (chroot) and outside (--root), compared with what the
real tools say inside the same root: `command -v`, `readlink -f`, `python3 -c`,
`pip --version`, `locale -a`, `dpkg -S`, `ldd`, `find`, `apt-get -s upgrade`.

test_roots.py adds one test_NAME method per root it is asked to run."""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

from roots_apt import (apt_security_pending, assert_signatures_verified, pending_of,
                       write_security_sources)
from roots_lib import EXPECTED, PYCHECK, ROOTS_DIR, RootUnderTest, by_id, strip_volatile


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
        # Lists means a security Release and its Packages: trixie's `apt-get dist-clean` keeps
        # the Release files alone, as good as no lists (apt then knows no candidate either).
        lists = os.path.join(root.dir, "var/lib/apt/lists")
        names = os.listdir(lists) if os.path.isdir(lists) else []
        has_lists = any(n.endswith("-security_InRelease") or n.endswith("-security_Release")
                        for n in names) and any("-security_" in n and "_Packages" in n for n in names)
        if not has_lists:
            self.assertEqual(check["status"], "skip", check["summary"])
            return
        self.assertIn(check["status"], ("pass", "warn"), check["summary"])
        assert_signatures_verified(self, root.dir, check)
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
