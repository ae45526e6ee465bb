"""The static release binary in a root that holds nothing but itself."""
import json
import os
import shutil
import subprocess
import unittest

from roots_lib import PYCHECK


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
