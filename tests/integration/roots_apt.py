"""apt.security-updates compared with apt itself: the helpers that restrict a root's
apt sources to its security suites and read `apt-get -s upgrade` (the offline
comparison in roots_compare.py uses them too), and the online comparison in a copy
of the base root."""
import glob
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

from roots_lib import INSIDE, PYCHECK, ROOTS_DIR, strip_volatile

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
    # apt 2.6 (bookworm) says "have been kept back"; apt 3.0 (trixie) lists them under
    # "Not upgrading:" and counts them in its Summary ("Not Upgrading: N").
    kept = "kept back" in r.stdout or re.search(r"^Not upgrading:|Not Upgrading: [1-9]", r.stdout, re.M)
    assert not kept, "apt kept packages back; the sets would differ:\n" + r.stdout
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


def signed_by_of(root):
    """{URI: the Signed-By keyring path} of the root's deb822 security sources."""
    out = {}
    for name in glob.glob(os.path.join(root, "etc/apt/sources.list.d/*.sources")):
        with open(name) as f:
            for stanza in deb822_stanzas(f.read()):
                if "Signed-By" in stanza and any(is_security_suite(s) for s in stanza.get("Suites", "").split()):
                    for uri in stanza.get("URIs", "").split():
                        out[uri.rstrip("/") + "/"] = stanza["Signed-By"].strip()
    return out


def assert_signatures_verified(test, root, check):
    """Every security Release pycheck used was verified, with the root's own Signed-By keyring
    (the real archive's InRelease against the image's debian-archive-keyring)."""
    details = check["details"]
    test.assertTrue(details["signature_verified"], check["summary"])
    keyrings = signed_by_of(root)
    test.assertTrue(keyrings, "no Signed-By in the root's security sources")
    for source in details["sources"]:
        sig = source["signature"]
        test.assertTrue(sig["verified"], sig)
        test.assertEqual(sig["keyrings_from"], "Signed-By", sig)
        uri = source["uri"].rstrip("/") + "/"
        test.assertEqual(sig["keyring"], keyrings[uri], sig)
        test.assertRegex(sig["signer_fingerprint"], "^[0-9A-F]{40}$")
        test.assertIn("Debian", sig["user_id"], sig)


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


# The roots compared online, with their test's name (test_roots.py picks by root).
ONLINE_TESTS = {"base": "test_online_pending_set_is_apts",
                "trixie": "test_online_pending_set_is_apts_on_trixie"}


class AptSecurityOnlineTests(unittest.TestCase):
    """apt.security-updates --online on a copy of a root without lists (base, and
    trixie: bookworm's apt 2.6 and trixie's apt 3.0) against `apt-get update` +
    `apt-get -s upgrade` restricted to the root's own security sources, right after,
    in the same copy: the pending sets must be identical. Twice: the root as built,
    and with 3 packages set back in the dpkg status so that the comparison cannot
    pass on two empty sets."""
    maxDiff = None

    def test_online_pending_set_is_apts(self):
        self.compare_online("base")

    def test_online_pending_set_is_apts_on_trixie(self):
        self.compare_online("trixie")

    def compare_online(self, name):
        built = os.path.join(ROOTS_DIR, name)
        for attempt in (1, 2):
            with tempfile.TemporaryDirectory(prefix="pycheck-aptsec-online-", dir="/var/tmp") as tmp:
                root = os.path.join(tmp, "root")
                subprocess.run(["cp", "-a", built, root], check=True)
                if self.compare_once(root, last=attempt == 2):
                    return

    def compare_once(self, root, last):
        status_path = os.path.join(root, "var/lib/dpkg/status")
        # trixie's `apt-get dist-clean` keeps the Release files: no Packages list is what counts.
        lists = os.path.join(root, "var/lib/apt/lists")
        self.assertEqual([n for n in os.listdir(lists) if "_Packages" in n], [],
                         "the root has apt lists; the online check must run without them")
        # pycheck first (inside and outside agree), then apt right after.
        as_built = pycheck_online(root, inside=True)
        self.assertEqual(strip_volatile(as_built), strip_volatile(pycheck_online(root, inside=False)))
        assert_signatures_verified(self, root, as_built)
        with open(status_path) as f:
            status = f.read()
        shutil.copy2(status_path, status_path + ".pycheck-orig")
        picks = pick_downgrades(status, fetch_security_index(as_built))
        self.assertEqual(len(picks), 3, "the security index offers too few installed packages")
        with open(status_path, "w") as f:
            f.write(set_status_versions(status, picks))
        downgraded = pycheck_online(root, inside=False)

        shutil.copy2("/etc/resolv.conf", os.path.join(root, "etc/resolv.conf"))
        self.assertGreater(write_security_sources(root), 0, "no security source in the root")
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
