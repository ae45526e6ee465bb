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
import email.utils
import os
import shutil
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_apt import *  # noqa: E402,F401,F403
from oracle_cases import *  # noqa: E402,F401,F403


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
