#!/usr/bin/env python3
"""The apt-faithful oracle for pycheck's InRelease verifier (issue 16).

Usage (as root, after tests/integration/build-roots.sh):
    openpgp_oracle.py OPENPGP_VERDICT [--trixie-root DIR] [--bookworm-root DIR]
                      [--repeat N] [--keep]

OPENPGP_VERDICT is tests/tools/openpgp_verdict (built with the tests). For
every case this computes what apt itself would say, two ways:

  apt 2.6  apt's SplitClearSignedFile (shared notes inrelease-signatures.md §3),
           then gpgv as apt-key runs it (--ignore-time-conflict --status-fd),
           judged as apt's gpgv method does: success iff at least one GOODSIG
           whose VALIDSIG digest apt trusts (MD5, SHA-1, RIPEMD-160 are
           untrusted) and no BADSIG; EXPKEYSIG, EXPSIG, REVKEYSIG, ERRSIG are
           never good. The host's gpgv (Debian 12, 2.2.40: what apt 2.6 runs).
  apt 3.0  the same split, then trixie's sqv run inside a trixie root (chroot),
           with the crypto policy file apt 3.0's sqv method picks
           (SEQUOIA_CRYPTO_POLICY, /usr/share/apt/default-sequoia.config in a
           plain root); success iff sqv exits 0. Bookworm's sqv (1.1.0) is not
           what apt 3.0 runs, so it is not used.

The policy column accepts iff both do; pycheck (openpgp_verdict) must say
verified exactly then, and a refused case must name apt's reason class
(no_public_key, bad_signature, weak_algorithm, ...). A verified message must be
apt's own split of the file. The cases: keys generated here with gpg (rsa4096
with a signing subkey, ed25519, rsa1024, SHA-1 and SHA-224 digests, an expired
key, a revoked key and subkey, a future signature, BAD + good, unknown + good),
tampered copies of a good file, and the real InRelease files of bookworm,
bookworm-security, trixie, trixie-security from the machine's configured
mirror, verified with each root's own keyring. A missing oracle tool (gpg,
gpgv, the trixie root, its sqv) fails the run, never skips it.

Where an oracle disagrees with the notes' verdict table (§5) the run prints it
(NOTES DIFFER); that is a finding about the tools, not a failure. Each column
is also checked against apt's own method (the host's /usr/lib/apt/methods/gpgv,
the root's /usr/lib/apt/methods/sqv, fed one "600 URI Acquire"): if the
emulation and apt disagree, the oracle is wrong and the run fails.

Found this way (apt 2.6.1 + gpgv 2.2.40, apt 3.0.4 + sqv 1.3.0): apt refuses
only armor headers that start with a dash; any other header line (Comment:,
even a line with no colon) is dropped by its split, so both accept the file.
A wrong armor CRC24: gpgv refuses it (NODATA), sqv ignores it (policy: refuse).

--trixie-root defaults to $ORACLE_TRIXIE_ROOT, else $PYCHECK_CACHE_DIR/roots/trixie;
--bookworm-root to $PYCHECK_CACHE_DIR/roots/base (PYCHECK_CACHE_DIR defaults
to /var/cache/pycheck, as in roots.sh).
"""
import argparse
import base64
import dataclasses
import email.utils
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True

CACHE = os.environ.get("PYCHECK_CACHE_DIR") or "/var/cache/pycheck"
ROOTS = os.path.join(CACHE, "roots")
DAY = 86400

# apt's methods/gpgv.cc digest table: these make a VALIDSIG worthless.
APT_UNTRUSTED_DIGESTS = {"1": "MD5", "2": "SHA1", "3": "RIPE-MD/160"}
# Where apt 3.0's sqv method looks for its crypto policy, in order (strings of
# /usr/lib/apt/methods/sqv, apt 3.0.x); the first that exists is used.
APT_SEQUOIA_POLICIES = [
    "/etc/crypto-policies/back-ends/apt-sequoia.config",
    "/var/lib/crypto-config/profiles/current/apt-sequoia.config",
    "/etc/crypto-policies/back-ends/sequoia.config",
    "/var/lib/crypto-config/profiles/current/sequoia.config",
    "/usr/share/apt/default-sequoia.config",
]


class OracleError(Exception):
    """A tool the oracle needs is missing or broke: the run fails."""


# ---------------------------------------------------------------------------
# apt's SplitClearSignedFile (apt-pkg/contrib/gpgv.cc), on bytes
# ---------------------------------------------------------------------------
class SplitError(Exception):
    pass


BEGIN_MESSAGE = b"-----BEGIN PGP SIGNED MESSAGE-----"
BEGIN_SIGNATURE = b"-----BEGIN PGP SIGNATURE-----"
END_SIGNATURE = b"-----END PGP SIGNATURE-----"


def apt_lines(data):
    """getline() lines with apt's getline_no_eol: the line end, then trailing blanks go."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.rstrip(b"\r\n").rstrip(b" \t") for line in lines]


def apt_split(data):
    """(message, signature) as apt writes them to its two temporary files.

    apt's SplitClearSignedFile: the first line must be the BEGIN line; armor
    headers up to the first empty line, any but one starting with a dash
    ("Hash: " is only collected, other keys are not refused); body lines with
    "- " unescaped, any other dash line but BEGIN SIGNATURE refused; after it
    only signature blocks. Each line loses its line end, then trailing blanks.
    """
    lines = iter(apt_lines(data))

    def next_line():
        line = next(lines, None)
        if line is None:
            raise SplitError("doesn't contain all expected parts")
        return line

    if next_line() != BEGIN_MESSAGE:
        raise SplitError("does not start with a signed message block")
    while True:  # armor headers up to the first empty line
        line = next_line()
        if line == b"":
            break
        if line.startswith(b"-"):
            raise SplitError("unexpected line starting with a dash (armor)")
    message = []
    while True:
        line = next_line()
        if line.startswith(b"-"):
            if line == BEGIN_SIGNATURE:
                break
            if not line.startswith(b"- "):
                raise SplitError("unexpected line starting with a dash (msg)")
            message.append(line[2:])
        else:
            message.append(line)
    signature = [BEGIN_SIGNATURE]
    open_block = True
    for line in lines:
        if open_block:
            if line == END_SIGNATURE:
                open_block = False
            elif line.startswith(b"-"):
                raise SplitError("unexpected line starting with a dash (sig)")
        elif line == BEGIN_SIGNATURE:
            open_block = True
        else:
            raise SplitError("contains unsigned lines")
        signature.append(line)
    if open_block:
        raise SplitError("signature wasn't closed")
    return b"\n".join(message), b"".join(line + b"\n" for line in signature)


# ---------------------------------------------------------------------------
# ASCII armor, for building multi-signature blocks and a wrong CRC
# ---------------------------------------------------------------------------
def crc24(data):
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x864CFB
    return crc & 0xFFFFFF


def dearmor_signature(block):
    """The packets of the first signature block in BLOCK (a clearsigned file or a .asc)."""
    text = block.decode("ascii")
    body = text.split("-----BEGIN PGP SIGNATURE-----", 1)[1].split("-----END PGP SIGNATURE-----", 1)[0]
    lines = body.strip("\n").split("\n")
    while lines and ":" in lines[0]:
        lines.pop(0)  # armor headers
    b64 = "".join(line.strip() for line in lines if line.strip() and not line.startswith("="))
    return base64.b64decode(b64)


def armor_signature(packets, crc=None):
    b64 = base64.b64encode(packets).decode("ascii")
    crc = crc24(packets) if crc is None else crc
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    out = ["-----BEGIN PGP SIGNATURE-----", ""] + lines
    out += ["=" + base64.b64encode(crc.to_bytes(3, "big")).decode("ascii"), "-----END PGP SIGNATURE-----"]
    return ("\n".join(out) + "\n").encode("ascii")


def clearsigned_head(clearsigned):
    """Everything before the signature block (header, body and the line end before it)."""
    head, sep, _ = clearsigned.partition(b"-----BEGIN PGP SIGNATURE-----")
    assert sep, "no signature block"
    return head


# ---------------------------------------------------------------------------
# Running things
# ---------------------------------------------------------------------------
def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, **kw)


def need_tool(name):
    path = shutil.which(name)
    if not path:
        raise OracleError(f"{name} is not installed: the oracle needs it (apt-get install gpg gpgv)")
    return path


class Gpg:
    """One gpg home holding one generated key."""

    def __init__(self, workdir, name):
        self.home = os.path.join(workdir, "gnupg-" + name)
        os.makedirs(self.home, mode=0o700)
        self.name = name
        self.fpr = None

    def __call__(self, *args, faked=None, stdin=None):
        cmd = ["gpg", "--homedir", self.home, "--batch", "--yes", "--no-tty",
               "--pinentry-mode", "loopback", "--passphrase", ""]
        if faked is not None:
            cmd += ["--faked-system-time", f"{int(faked)}!"]
        result = run(cmd + list(args), input=stdin)
        if result.returncode != 0:
            raise OracleError(f"gpg {' '.join(args)} (home {self.name}) failed:\n"
                              + result.stderr.decode(errors="replace"))
        return result.stdout

    def generate(self, algo, usage, expire="0", faked=None, subkey=None):
        uid = f"pycheck oracle {self.name} <{self.name}@oracle.invalid>"
        self("--quick-gen-key", uid, algo, usage, expire, faked=faked)
        colons = self("--list-keys", "--with-colons", "--fixed-list-mode").decode()
        self.fpr = re.search(r"^fpr:+([0-9A-F]{40}):", colons, re.M).group(1)
        if subkey:
            self("--quick-add-key", self.fpr, subkey, "sign", "0", faked=faked)
        return self

    def clearsign(self, message, digest="SHA512", faked=None, user=None):
        return self("--local-user", user or self.fpr, "--digest-algo", digest, "--clearsign",
                    faked=faked, stdin=message)

    def detach_sign(self, data, digest="SHA512"):
        return self("--local-user", self.fpr, "--digest-algo", digest, "--armor", "--detach-sign",
                    stdin=data)

    def export(self):
        return self("--export", self.fpr)

    def revoke_key(self):
        rev = open(os.path.join(self.home, "openpgp-revocs.d", self.fpr + ".rev"), "rb").read()
        self("--import", stdin=rev.replace(b":-----BEGIN PGP PUBLIC KEY BLOCK-----",
                                           b"-----BEGIN PGP PUBLIC KEY BLOCK-----"))

    def revoke_subkey(self):
        answers = b"key 1\nrevkey\ny\n0\n\ny\nsave\n"
        self("--command-fd", "0", "--status-fd", "2", "--edit-key", self.fpr, stdin=answers)
        colons = self("--list-keys", "--with-colons", "--fixed-list-mode").decode()
        if not re.search(r"^sub:r:", colons, re.M):
            raise OracleError("gpg did not revoke the subkey:\n" + colons)

    def close(self):
        run(["gpgconf", "--homedir", self.home, "--kill", "gpg-agent"])


# ---------------------------------------------------------------------------
# The three verdicts
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class Verdict:
    ok: bool
    why: str
    missing_keys: tuple = ()  # gpgv's NO_PUBKEY key ids

    def cell(self):
        return ("A " if self.ok else "R ") + self.why


def gpgv_verdict(keyrings, signature, data, workdir):
    """apt 2.6: apt-key verify = gpgv --ignore-time-conflict, judged by apt's gpgv method."""
    home = tempfile.mkdtemp(dir=workdir, prefix="gpgv-home-")
    cmd = ["gpgv", "--homedir", home]
    for keyring in keyrings:
        cmd += ["--keyring", keyring]
    cmd += ["--ignore-time-conflict", "--status-fd", "1", signature, data]
    result = run(cmd)
    status = [line.split()[1:] for line in result.stdout.decode(errors="replace").splitlines()
              if line.startswith("[GNUPG:] ") and len(line.split()) > 1]
    good = [s[1] for s in status if s[0] == "GOODSIG"]
    valid = [s for s in status if s[0] == "VALIDSIG"]
    trusted = [s for s in valid if len(s) > 8 and s[8] not in APT_UNTRUSTED_DIGESTS]
    bad = [s[1] for s in status if s[0] == "BADSIG"]
    others = sorted({s[0] for s in status if s[0] in ("EXPKEYSIG", "EXPSIG", "REVKEYSIG", "ERRSIG",
                                                       "NO_PUBKEY", "NODATA", "BADARMOR", "KEYEXPIRED",
                                                       "KEYREVOKED")})
    words = [w for w in [f"GOODSIG×{len(good)}" if good else "", f"BADSIG×{len(bad)}" if bad else ""] if w]
    words += others
    if valid and not trusted:
        words.append("digest " + "/".join(sorted({APT_UNTRUSTED_DIGESTS[s[8]] for s in valid
                                                 if s[8] in APT_UNTRUSTED_DIGESTS})))
    why = " ".join(words) or f"gpgv exit {result.returncode}, no status"
    missing = tuple(s[1] for s in status if s[0] == "NO_PUBKEY" and len(s) > 1)
    return Verdict(bool(good) and bool(trusted) and not bad, why, missing)


def apt_method(prefix, signature, data, keyrings):
    """apt's own verification method (one 600 URI Acquire, as the acquire system sends it).

    URI gpgv:SIGNATURE, Filename DATA: the same path for a clearsigned file,
    Release.gpg and Release for a detached signature. As root, no sandbox user.
    """
    request = ("601 Configuration\nConfig-Item: APT::Sandbox::User=root\n"
               "Config-Item: APT::Sandbox::Seccomp=false\n\n"
               f"600 URI Acquire\nURI: gpgv:{signature}\nFilename: {data}\n"
               f"Signed-By: {','.join(keyrings)}\n\n")
    try:
        result = run(prefix, input=request.encode(), timeout=120)
    except subprocess.TimeoutExpired:
        raise OracleError(f"{' '.join(prefix)} did not answer within 120 s")
    out = result.stdout.decode(errors="replace")
    if re.search(r"^201 URI Done$", out, re.M):
        return Verdict(True, "201 URI Done")
    failure = re.search(r"^400 URI Failure\n(?:[^\n]+\n)*?Message: ([^\n]*)", out, re.M)
    if failure:
        return Verdict(False, failure.group(1).strip())
    raise OracleError(f"{' '.join(prefix)} gave no verdict:\n{out}\n{result.stderr.decode(errors='replace')}")


class Sqv:
    """apt 3.0: trixie's sqv inside a trixie root, with apt's crypto policy."""

    def __init__(self, root):
        if not os.path.isdir(root):
            raise OracleError(f"no trixie root at {root}: build it (tests/integration/build-roots.sh "
                              "builds 'trixie'), or point --trixie-root / ORACLE_TRIXIE_ROOT at a "
                              "debootstrap --variant=minbase trixie")
        if not os.access(os.path.join(root, "usr/bin/sqv"), os.X_OK):
            raise OracleError(f"{root} has no /usr/bin/sqv: apt 3.0's verifier is missing from the trixie root")
        if not os.access(os.path.join(root, "usr/lib/apt/methods/sqv"), os.X_OK):
            raise OracleError(f"{root} has no /usr/lib/apt/methods/sqv: not apt 3.0")
        self.root = root
        self.policy = next((p for p in APT_SEQUOIA_POLICIES if os.path.isfile(root + p)), None)
        if self.policy is None:
            raise OracleError(f"{root}: none of apt 3.0's sequoia policy files exist "
                              f"({', '.join(APT_SEQUOIA_POLICIES)})")
        self.scratch = tempfile.mkdtemp(dir=os.path.join(root, "tmp"), prefix="pycheck-oracle-")
        self.inside = "/" + os.path.relpath(self.scratch, root)
        self.count = 0
        version = self.run(["--version"])
        if version.returncode != 0:
            raise OracleError(f"sqv --version in {root} failed: {version.stderr.decode(errors='replace')}")
        self.version = version.stdout.decode().strip()

    def run(self, args):
        env = ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "SEQUOIA_CRYPTO_POLICY=" + self.policy]
        return run(["chroot", self.root] + env + ["/usr/bin/sqv"] + args)

    def place(self, path):
        """PATH as seen inside the root: files already in it stay, others are copied in."""
        real = os.path.realpath(path)
        root = os.path.realpath(self.root)
        if real.startswith(root + "/"):
            return real[len(root):]
        self.count += 1
        name = f"{self.count}-{os.path.basename(path)}"
        shutil.copyfile(path, os.path.join(self.scratch, name))
        return f"{self.inside}/{name}"

    def verdict(self, keyrings, signature, data):
        args = []
        for keyring in keyrings:
            args += ["--keyring", self.place(keyring)]
        args += ["--signature-file", self.place(signature), self.place(data)]
        result = self.run(args)
        if result.returncode == 0:
            signers = result.stdout.decode().split()
            return Verdict(True, "good " + ",".join(s[-16:] for s in signers))
        err = result.stderr.decode(errors="replace").strip().splitlines()
        detail = next((line.strip() for line in reversed(err) if line.strip()), f"exit {result.returncode}")
        return Verdict(False, detail[:90])

    def method_verdict(self, keyrings, signature, data):
        """apt 3.0's own sqv method, inside the root."""
        inside_signature = self.place(signature)
        inside_data = inside_signature if data == signature else self.place(data)
        prefix = ["chroot", self.root, "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "/usr/lib/apt/methods/sqv"]
        return apt_method(prefix, inside_signature, inside_data, [self.place(k) for k in keyrings])

    def close(self):
        shutil.rmtree(self.scratch, ignore_errors=True)


@dataclasses.dataclass
class Case:
    name: str
    keyrings: list
    inrelease: str = None  # a clearsigned file
    release: str = None    # or a Release + detached Release.gpg
    release_gpg: str = None
    expect: object = None  # pycheck's verdict when the policy refuses (apt's reason class): a str or a set
    notes: tuple = None    # (apt 2.6, apt 3.0) as the notes' table §5 has them: "A"/"R"
    real: bool = False


def oracle_verdicts(case, workdir, sqv):
    """(apt 2.6, apt 3.0, apt's split message or None) for CASE."""
    if case.inrelease:
        data = open(case.inrelease, "rb").read()
        try:
            message, signature = apt_split(data)
        except SplitError as e:
            refused = Verdict(False, "split: " + str(e))
            return refused, refused, None
        base = case.inrelease + ".apt"
        open(base + ".data", "wb").write(message)
        open(base + ".sig", "wb").write(signature)
        sig_path, data_path = base + ".sig", base + ".data"
    else:
        sig_path, data_path = case.release_gpg, case.release
        message = open(case.release, "rb").read()
    return (gpgv_verdict(case.keyrings, sig_path, data_path, workdir),
            sqv.verdict(case.keyrings, sig_path, data_path), message)


def method_verdicts(case, sqv):
    """(apt 2.6, apt 3.0) from apt's own methods: the host's gpgv method, the root's sqv method."""
    if case.inrelease:
        signature = data = case.inrelease
    else:
        signature, data = case.release_gpg, case.release
    return (apt_method(["/usr/lib/apt/methods/gpgv"], signature, data, case.keyrings),
            sqv.method_verdict(case.keyrings, signature, data))


def pycheck_verdict(tool, case, workdir, repeat=1):
    # gpgv and sqv judge with the clock, so pycheck does too (a signature made
    # a second ago is not in the future).
    cmd = [tool, "--keyring", *case.keyrings, "--now", str(int(time.time()))]
    if case.inrelease:
        cmd += ["--inrelease", case.inrelease]
    else:
        cmd += ["--release", case.release, "--release-gpg", case.release_gpg]
    message_path = os.path.join(workdir, "message.out")
    cmd += ["--message-out", message_path]
    if repeat > 1:
        cmd += ["--repeat", str(repeat)]
    result = run(cmd)
    if result.returncode != 0:
        raise OracleError(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                          + result.stderr.decode(errors="replace"))
    out = json.loads(result.stdout)
    out["message"] = open(message_path, "rb").read()
    return out


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------
def release_text(now, label="pycheck oracle"):
    date = email.utils.formatdate(now, usegmt=True)
    until = email.utils.formatdate(now + 7 * DAY, usegmt=True)
    return (f"Origin: {label}\nLabel: {label}\nSuite: oracle\nCodename: oracle\nDate: {date}\n"
            f"Valid-Until: {until}\nArchitectures: amd64\nComponents: main\n"
            "Description: the apt-faithful oracle of pycheck's InRelease verifier\n"
            "-dash: a field whose line needs a dash-escape\n"
            "SHA256:\n e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 "
            "main/binary-amd64/Packages\n").encode()


def generated_cases(workdir, now):
    def path(name):
        return os.path.join(workdir, name)

    def write(name, data):
        open(path(name), "wb").write(data)
        return path(name)

    print("generating keys with gpg (rsa4096 takes a while) ...", flush=True)
    started = time.monotonic()
    rsa_sub = Gpg(workdir, "rsa4096-subkey").generate("rsa4096", "cert", subkey="rsa4096")
    ed = Gpg(workdir, "ed25519").generate("ed25519", "sign")
    rsa1024 = Gpg(workdir, "rsa1024").generate("rsa1024", "sign")
    # Created two years ago, expired a year ago; its signature was made while it was valid.
    expired = Gpg(workdir, "expired").generate("rsa3072", "sign", "1y", faked=now - 730 * DAY)
    revoked = Gpg(workdir, "revoked").generate("rsa3072", "sign")
    revoked_sub = Gpg(workdir, "revoked-subkey").generate("rsa3072", "cert", subkey="rsa3072")
    stranger = Gpg(workdir, "stranger").generate("ed25519", "sign")
    keys = [rsa_sub, ed, rsa1024, expired, revoked, revoked_sub, stranger]
    print(f"  {len(keys)} keys in {time.monotonic() - started:.0f} s", flush=True)

    message = release_text(now)
    other = message.replace(b"Origin: pycheck oracle", b"Origin: pycheck 0racle")
    good = write("good.InRelease", rsa_sub.clearsign(message))
    signed = {
        "ed": ed.clearsign(message),
        "rsa1024": rsa1024.clearsign(message),
        "sha1": rsa_sub.clearsign(message, digest="SHA1"),
        "sha224": rsa_sub.clearsign(message, digest="SHA224"),
        "sha256": rsa_sub.clearsign(message, digest="SHA256"),
        "expired": expired.clearsign(message, faked=now - 700 * DAY),
        "revoked": revoked.clearsign(message),
        "revoked_sub": revoked_sub.clearsign(message),
        "future": ed.clearsign(message, faked=now + 2 * DAY),
        "future10m": ed.clearsign(message, faked=now + 600),
        "stranger": stranger.clearsign(message),
        "bad_ed": ed.clearsign(other),
    }
    revoked.revoke_key()
    revoked_sub.revoke_subkey()

    # keyrings: every key but the stranger; and one without the good file's signer
    trusted = write("trusted.gpg", b"".join(k.export() for k in keys if k is not stranger))
    without = write("without-signer.gpg", b"".join(k.export() for k in (ed, rsa1024, stranger)))
    for key in keys:
        key.close()

    good_bytes = open(good, "rb").read()
    head = clearsigned_head(good_bytes)
    good_packets = dearmor_signature(good_bytes)
    two = lambda extra: head + armor_signature(good_packets + dearmor_signature(extra))  # noqa: E731
    crc_line = re.search(rb"\n(=[A-Za-z0-9+/]{4})\n", good_bytes)
    wrong_crc = base64.b64encode((int.from_bytes(base64.b64decode(crc_line.group(1)[1:]), "big") ^ 1)
                                 .to_bytes(3, "big"))
    body_lines = good_bytes.split(b"\n")
    label_at = next(i for i, line in enumerate(body_lines) if line.startswith(b"Label: "))

    def with_line(index, text):
        lines = list(body_lines)
        lines[index] = text
        return b"\n".join(lines)

    release = write("Release", message)
    release_bad = write("Release.tampered", other)
    release_gpg = write("Release.gpg", rsa_sub.detach_sign(message))

    c = []

    def add(name, content, expect=None, notes=None, keyring=trusted):
        c.append(Case(name, [keyring], inrelease=write(re.sub(r"[^a-z0-9]+", "-", name.lower()) + ".InRelease",
                                                          content), expect=expect, notes=notes))

    # signing keys and digests
    add("rsa4096 signing subkey, SHA-512", good_bytes, notes=("A", "A"))
    add("rsa4096 signing subkey, SHA-256", signed["sha256"], notes=("A", "A"))
    add("ed25519, SHA-512", signed["ed"], notes=("A", "A"))
    add("rsa1024", signed["rsa1024"], "weak_algorithm", ("A", "R"))
    add("SHA-1 digest", signed["sha1"], "weak_algorithm", ("R", "R"))
    add("SHA-224 digest", signed["sha224"], "weak_algorithm", ("A", "R"))
    add("key expired, signed before expiry", signed["expired"], "expired_key", ("R", "A"))
    add("revoked key", signed["revoked"], "revoked_key", ("R", "R"))
    add("revoked signing subkey", signed["revoked_sub"], "revoked_key", ("R", "R"))
    add("signature dated in the future", signed["future"], "not_yet_valid", ("A", "R"))
    add("signature dated 10 minutes ahead", signed["future10m"], "not_yet_valid", ("A", "R"))
    add("one BAD + one good signature", two(signed["bad_ed"]), "bad_signature", ("R", "A"))
    add("one unknown signer + one good", two(signed["stranger"]), notes=("A", "A"))
    add("unknown signer only", signed["stranger"], "no_public_key", ("R", "R"))
    # tampered copies of the good file
    add("tampered: one body byte", good_bytes.replace(b"Label: pycheck oracle", b"Label: pycheck Oracle"),
        "bad_signature", ("R", "R"))
    add("trailing spaces and tabs", re.sub(rb"(\n(?:Origin|Suite|SHA256):[^\n]*)", rb"\1 \t ", good_bytes),
        notes=("A", "A"))
    add("CRLF line ends", good_bytes.replace(b"\n", b"\r\n"), notes=("A", "A"))
    add("needless dash-escape", with_line(label_at, b"- " + body_lines[label_at]), notes=("A", "A"))
    add("dash-escape removed", good_bytes.replace(b"\n- -dash:", b"\n-dash:"), "malformed", ("R", "R"))
    add("unknown armor header", good_bytes.replace(b"Hash: SHA512\n", b"Hash: SHA512\nComment: x\n"),
        "malformed", ("R", "R"))
    add("a line that is no header among the armor headers",
        good_bytes.replace(b"Hash: SHA512\n", b"Hash: SHA512\nnot a header at all\n"), notes=("R", "R"))
    add("Hash header names another digest", good_bytes.replace(b"Hash: SHA512\n", b"Hash: SHA1\n"),
        notes=("A", "A"))
    add("dash line in the armor headers", good_bytes.replace(b"Hash: SHA512\n", b"Hash: SHA512\n-x: y\n"),
        "malformed", ("R", "R"))
    add("Version header in the signature block",
        good_bytes.replace(b"-----BEGIN PGP SIGNATURE-----\n", b"-----BEGIN PGP SIGNATURE-----\nVersion: x\n"),
        notes=("A", "A"))
    add("a second signature block (unknown signer)",
        good_bytes + signed["stranger"][signed["stranger"].index(b"-----BEGIN PGP SIGNATURE-----"):],
        notes=("A", "A"))
    add("garbage before", b"garbage\n" + good_bytes, "malformed", ("R", "R"))
    add("garbage after", good_bytes + b"garbage\n", "malformed", ("R", "R"))
    add("wrong CRC", good_bytes.replace(crc_line.group(1), b"=" + wrong_crc), "malformed", ("R", "R"))
    # apt: "Splitting up FILE into data and signature failed"; the header says unsigned_file
    add("signature removed", head.rstrip(b"\n") + b"\n", {"unsigned_file", "malformed"}, ("R", "R"))
    add("keyring without the signer", good_bytes, "no_public_key", ("R", "R"), keyring=without)
    # Release + Release.gpg
    c.append(Case("detached: Release + Release.gpg", [trusted], release=release, release_gpg=release_gpg,
                  notes=("A", "A")))
    c.append(Case("detached: Release tampered", [trusted], release=release_bad, release_gpg=release_gpg,
                  expect="bad_signature", notes=("R", "R")))
    return c


# ---------------------------------------------------------------------------
# The real files
# ---------------------------------------------------------------------------
def configured_mirrors():
    """(archive URI, security URI) from the machine's deb822 sources, as build-roots.sh finds them."""
    archive = security = None
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", open(path).read()):
            fields = {}
            for line in stanza.splitlines():
                m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
                if m:
                    fields[m.group(1).lower()] = m.group(2).split()
            if "deb" not in fields.get("types", []) or not fields.get("uris"):
                continue
            suites = fields.get("suites", [])
            if any(s.endswith("-security") for s in suites):
                security = security or fields["uris"][0].rstrip("/")
            elif suites:
                archive = archive or fields["uris"][0].rstrip("/")
    if not archive or not security:
        raise OracleError("no Debian archive and security URIs in /etc/apt/sources.list.d/*.sources")
    return archive, security


def real_cases(workdir, bookworm_root, trixie_root):
    keyrings = {
        "bookworm": os.path.join(bookworm_root, "usr/share/keyrings/debian-archive-keyring.gpg"),
        "trixie": os.path.join(trixie_root, "usr/share/keyrings/debian-archive-keyring.pgp"),
    }
    for name, keyring in keyrings.items():
        if not os.path.isfile(keyring):
            raise OracleError(f"the {name} root has no {keyring}")
    archive, security = configured_mirrors()
    cases = []
    for uri, suite in [(security, "bookworm-security"), (archive, "bookworm"),
                       (security, "trixie-security"), (archive, "trixie")]:
        url = f"{uri}/dists/{suite}/InRelease"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except OSError as e:
            raise OracleError(f"cannot fetch {url}: {e}")
        path = os.path.join(workdir, f"{suite}.InRelease")
        open(path, "wb").write(data)
        for root, keyring in keyrings.items():
            cases.append(Case(f"real {suite}, {root} keyring", [keyring], inrelease=path,
                              notes=("A", "A"), real=True))
    return cases


# ---------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", help="the openpgp_verdict binary")
    parser.add_argument("--trixie-root", default=os.environ.get("ORACLE_TRIXIE_ROOT")
                        or os.path.join(ROOTS, "trixie"))
    parser.add_argument("--bookworm-root", default=os.path.join(ROOTS, "base"))
    parser.add_argument("--repeat", type=int, default=50, help="verifications per real file for the timing")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    failures = []
    workdir = tempfile.mkdtemp(prefix="pycheck-openpgp-oracle-")
    os.chmod(workdir, 0o700)
    sqv = None
    try:
        for tool in ("gpg", "gpgv", "gpgconf", "chroot"):
            need_tool(tool)
        if not os.access("/usr/lib/apt/methods/gpgv", os.X_OK):
            raise OracleError("no /usr/lib/apt/methods/gpgv: the host's apt is needed for the cross-check")
        if not os.access(args.tool, os.X_OK):
            raise OracleError(f"{args.tool} is not an executable (build the openpgp_verdict target)")
        sqv = Sqv(args.trixie_root)
        gpgv_version = run(["gpgv", "--version"]).stdout.decode().splitlines()[0]
        apt_host = run(["dpkg-query", "-W", "-f", "${Version}", "apt"]).stdout.decode()
        apt_root = run(["chroot", args.trixie_root, "dpkg-query", "-W", "-f", "${Version}", "apt"]).stdout.decode()
        print(f"apt 2.6 column: {gpgv_version} (host, apt {apt_host}); apt 3.0 column: {sqv.version} "
              f"in {args.trixie_root} (apt {apt_root}), SEQUOIA_CRYPTO_POLICY={sqv.policy}.\n"
              "Each column is checked against apt's own method (host gpgv method, the root's sqv method).")
        now = int(time.time())  # the keys' and signatures' dates are relative to it
        cases = generated_cases(workdir, now) + real_cases(workdir, args.bookworm_root, args.trixie_root)

        rows, differ = [], []
        for case in cases:
            apt26, apt30, message = oracle_verdicts(case, workdir, sqv)
            policy = apt26.ok and apt30.ok
            for column, ours, method in zip(("apt 2.6", "apt 3.0"), (apt26, apt30), method_verdicts(case, sqv)):
                if ours.ok != method.ok:
                    failures.append(f"{case.name}: the oracle's {column} column ({ours.cell()}) disagrees "
                                    f"with apt's own method ({method.cell()}): the oracle is not apt")
            out = pycheck_verdict(args.tool, case, workdir)
            rows.append((case.name, apt26.cell(), apt30.cell(), "A" if policy else "R",
                         out["verdict"] + (f" ({out['reason']})" if out["reason"] and not out["ok"] else "")))
            if case.notes and (("A" if apt26.ok else "R"), ("A" if apt30.ok else "R")) != case.notes:
                differ.append(f"{case.name}: notes say apt 2.6 {case.notes[0]}, apt 3.0 {case.notes[1]}; "
                              f"observed apt 2.6 {apt26.cell()}, apt 3.0 {apt30.cell()}")
            if out["ok"] != policy:
                failures.append(f"{case.name}: pycheck says {out['verdict']} ({out['reason']}), "
                                f"the policy {'accepts' if policy else 'refuses'} "
                                f"(apt 2.6: {apt26.cell()}; apt 3.0: {apt30.cell()})")
            elif not policy and case.expect and out["verdict"] not in (
                    case.expect if isinstance(case.expect, set) else {case.expect}):
                failures.append(f"{case.name}: refused as {out['verdict']} ({out['reason']}); "
                                f"apt's reason class is {' or '.join(sorted(case.expect)) if isinstance(case.expect, set) else case.expect}")
            if (not policy and case.expect == "no_public_key" and apt26.missing_keys
                    and not any(k.upper() in out["reason"].upper() for k in apt26.missing_keys)):
                failures.append(f"{case.name}: the reason ({out['reason']}) does not name the missing key "
                                f"as apt does (NO_PUBKEY {' '.join(apt26.missing_keys)})")
            if case.real and not out["ok"]:
                failures.append(f"{case.name}: the real file must verify; pycheck: {out['verdict']} "
                                f"({out['reason']})")
            if out["ok"] and message is not None:
                expected = message + b"\n" if case.inrelease else message
                if out["message"] != expected:
                    failures.append(f"{case.name}: the verified message is not apt's split of the file "
                                    f"({len(out['message'])} bytes, apt {len(expected)})")

        widths = [max(len(r[i]) for r in rows + [("case", "apt 2.6", "apt 3.0", "policy", "pycheck")])
                  for i in range(5)]
        widths = [min(w, 60) for w in widths]
        line = lambda r: " | ".join(str(v)[:w].ljust(w) for v, w in zip(r, widths))  # noqa: E731
        print()
        print(line(("case", "apt 2.6", "apt 3.0", "policy", "pycheck")))
        print("-+-".join("-" * w for w in widths))
        for row in rows:
            print(line(row))
        print()
        for d in differ:
            print("NOTES DIFFER: " + d)

        print("\nverification time (openpgp_verdict --repeat, figures only):")
        for case in cases:
            if case.real and case.name.endswith("bookworm keyring"):
                out = pycheck_verdict(args.tool, case, workdir, repeat=args.repeat)
                print(f"  {os.path.basename(case.inrelease):28} {out['file_bytes']:7} bytes  "
                      f"{out['seconds_per_verification'] * 1e3:8.3f} ms per verification "
                      f"({args.repeat} runs, {out['verdict']}, {len(out['issuers'])} signatures)")
    except OracleError as e:
        failures.append(str(e))
    finally:
        if sqv:
            sqv.close()
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    for f in failures:
        print("FAIL: " + f)
    print(f"openpgp oracle: {'FAILED, ' + str(len(failures)) + ' failure(s)' if failures else 'passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
