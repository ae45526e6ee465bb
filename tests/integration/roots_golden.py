"""The text reports a person reads, compared with golden files."""
import os
import re
import subprocess
import tempfile
import unittest

from roots_lib import PYCHECK, ROOTS_DIR, read_env

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
    "slim-trixie": ("trixie", {}),
}


def normalise_report(text):
    """What the archive may change between two builds of the same root: the
    Debian point release and the number of CA certificates."""
    text = re.sub(r"\(bookworm, 12\.\d+\)", "(bookworm, 12.N)", text)
    text = re.sub(r"\(trixie, 13\.\d+\)", "(trixie, 13.N)", text)
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
