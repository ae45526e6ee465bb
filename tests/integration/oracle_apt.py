"""The apt side of the InRelease oracle (openpgp_oracle.py): apt's clearsigned
split, armor, gpg key making, and the verdicts of apt 2.6 (gpgv) and apt 3.0
(sqv), emulated and through apt's own methods."""
import base64
import dataclasses
import email.utils
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request

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
