"""The cases of the InRelease oracle (openpgp_oracle.py): generated keys and
signatures, tampered copies, the archive's real InRelease files, and the
verdict of each side on them."""
import base64
import dataclasses
import email.utils
import glob
import json
import os
import re
import time
import urllib.request

from oracle_apt import *  # noqa: F401,F403  (the apt side and its constants)


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
