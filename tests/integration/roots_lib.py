"""What the integration tests share: the command line, the roots built by
build-roots.sh, the verdicts each root must give, and pycheck run inside a root
(chroot, as `docker exec` would) and from outside (--root/--env-file).

PYCHECK and ONLY come from test_roots.py's command line: STATIC_PYCHECK [ROOT_NAME ...].
"""
import json
import os
import shutil
import subprocess
import sys

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
    # python:3.13-slim-trixie, today's default base: no LANG in its ENV (3.13+), no lists.
    "trixie": {"apt.security-updates": "skip", "python.path": "pass", "python.installs": "pass",
               "locale": "pass", "tls.ca-certificates": "pass", "net.services": "pass",
               "python.shared-libraries": "pass"},
}

# python.venv: skipped where python3 is not in a venv, whole in the venv root.
# python.bytecode, python.eol and os.eol are judged in their compare methods:
# bytecode accumulates when python3 runs in a root, the EOL verdicts depend on the day.
for _name, _checks in {"base": {"python.venv": "skip"}, "trixie": {"python.venv": "skip"},
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
