"""Hostile roots on disk: links, special files, huge, unreadable, non-UTF-8 and deep
trees; stuck filesystems (FUSE); unprivileged read-only runs."""
import os
import select
import shutil
import subprocess
import time

from hostile_lib import (ALL_IDS, DEADLINE_SLACK, HERE, NOBODY, NOT_PASS, CanaryWatch, expect,
                         strace_wrap, strace_writes, validated)

AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
STATUS = "/var/lib/dpkg/status"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PYTHON3 = "/usr/local/bin/python3"
OS_RELEASE = "/etc/os-release"
SITE = "/usr/local/lib/python3.11/site-packages"
DYNLOAD = "/usr/local/lib/python3.11/lib-dynload"
BASELINE = {}  # check id -> status on the unbroken copy (filled by the first case)


def no_timeouts(run):
    late = [c["id"] for c in run.report["checks"] if c["summary"].startswith("timed out")]
    assert not late, f"checks timed out: {late}"


def baseline(s):
    root = s.work.root("baseline")
    r = s.run(root)
    BASELINE.update(r.statuses())
    no_timeouts(r)
    want = {"python.path": {"pass"}, "python.installs": {"pass"}, "locale": {"pass"},
            "tls.ca-certificates": {"pass"}, "net.services": {"pass"}, "os.eol": {"pass"}}
    expect(r, want)
    s.note(" ".join(f"{k}={v}" for k, v in BASELINE.items()))


def symlink_loops(s):
    root = s.work.root("loops")
    root.symlink(PYTHON3, "python3")                      # self
    root.symlink(CA_BUNDLE, "loop-b")                     # mutual
    root.symlink("/etc/ssl/certs/loop-b", "ca-certificates.crt")
    chain = 60                                            # longer than MAXSYMLINKS (40)
    root.remove(OS_RELEASE)
    for i in range(chain):
        target = f"os-release.{i + 1}" if i + 1 < chain else "../usr/lib/os-release"
        root.symlink("/etc/os-release" + (f".{i}" if i else ""), target)
    root.symlink(SITE + "/selfloop", ".")                 # folder loops for walkers
    root.symlink(DYNLOAD + "/up", "../..")
    root.symlink("/usr/lib/locale/loop", "/usr/lib/locale")
    root.symlink("/opt/a", "/opt/b")
    root.symlink("/opt/b", "/opt/a")
    root.symlink("/opt/self", "/opt/self")
    root.env[b"PATH"] = b"/opt/a:/opt/self:" + root.env[b"PATH"]
    r = s.run(root)
    no_timeouts(r)
    expect(r, {"python.path": NOT_PASS, "tls.ca-certificates": NOT_PASS})
    s.note(f"python.path {r.status('python.path')}, tls {r.status('tls.ca-certificates')}, "
           f"os.eol {r.status('os.eol')} ({r.check('os.eol')['summary'][:80]})")


def escape_links(s):
    """Links out of the root, absolute and ../.., to a canary that would make the
    checks pass if it were read. inotify on the canary inodes proves no open or
    read happened, whatever path was used; strace shows no call naming it."""
    canary = s.work.sub("canary-outside-the-root")
    marker = "CANARY-9f2c"
    files = {CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt", STATUS: "/var/lib/dpkg/status",
             "/etc/os-release": "/usr/lib/os-release", "/etc/services": "/etc/services",
             PYTHON3: "/usr/local/bin/python3.11"}
    root = s.work.root("escape")
    targets = {}
    for i, (inside, source) in enumerate(files.items()):
        dst = os.path.join(canary, f"{marker}-{i}")
        shutil.copy2(os.path.join(s.work.template, source.lstrip("/")), dst)
        targets[inside] = dst
    locale_dir = os.path.join(canary, f"{marker}-locale")
    shutil.copytree(root.path("/usr/lib/locale/C.utf8").decode(), locale_dir, symlinks=True)
    depth = "../" * 12
    root.symlink(CA_BUNDLE, targets[CA_BUNDLE])                                # absolute
    root.symlink(STATUS, depth + targets[STATUS].lstrip("/"))                  # ../..
    root.symlink("/etc/os-release", targets["/etc/os-release"])
    root.symlink("/etc/services", depth + targets["/etc/services"].lstrip("/"))
    root.symlink(PYTHON3, depth + targets[PYTHON3].lstrip("/"))
    root.symlink("/usr/lib/locale/C.utf8", locale_dir)
    root.symlink("/usr/lib/locale/C.UTF-8", depth + locale_dir.lstrip("/"))
    root.env[b"PATH"] = canary.encode() + b":" + root.env[b"PATH"]
    watched = [canary, locale_dir, *targets.values()] + [
        os.path.join(dp, n) for dp, dns, fns in os.walk(locale_dir) for n in dns + fns]
    watch = CanaryWatch(watched)
    try:
        with open(targets[CA_BUNDLE], "rb") as f:  # the watcher sees an open and a read
            f.read(1)
        assert watch.events(), "inotify saw no event for a control read of the canary"
        trace = os.path.join(s.work.dir, "escape.trace")
        r = s.run(root, wrap=strace_wrap(trace, "%file,%desc"), deadline=False)
        r2 = s.run(root)
        seen = watch.events()
    finally:
        watch.close()
    assert not seen, f"the canary outside the root was opened or read: {seen[:5]}"
    with open(trace, errors="replace") as f:
        # readlink returns the link's text, and the report quotes it (in write()s,
        # and in the parent's read()s of the worker's pipe); anything else naming
        # the canary would be an attempt to reach it.
        named = [ln for ln in f if marker in ln and "readlink" not in ln
                 and " write(" not in ln and " read(" not in ln]
    assert not named, f"a call other than readlink names the canary: {named[:3]}"
    for run in (r, r2):
        # os.eol may pass: a dangling /etc/os-release falls back to /usr/lib/os-release
        # (os-release(5)), as every reader in the container does.
        expect(run, {"tls.ca-certificates": NOT_PASS, "net.services": NOT_PASS,
                     "python.path": NOT_PASS, "apt.security-updates": NOT_PASS})
    s.note(f"{len(watched)} canary inodes: no open/read; {len(open(trace).readlines())} "
           "traced calls, none names the canary")


def special_files(kind):
    def case(s):
        root = s.work.root(kind)
        for inside, dev in ((STATUS, ("c", 1, 5)), (CA_BUNDLE, ("c", 1, 5)),
                            (PYTHON3, ("c", 1, 3)), (OS_RELEASE, ("b", 7, 0))):
            if kind == "fifo":
                root.fifo(inside)
            else:
                root.device(inside, *dev)
        r = s.run(root)
        no_timeouts(r)
        expect(r, {"apt.security-updates": NOT_PASS,
                   "tls.ca-certificates": NOT_PASS, "python.path": NOT_PASS,
                   "os.eol": NOT_PASS})
        s.note(", ".join(f"{i}={r.status(i)}" for i in
                         ("apt.security-updates", "python.installs", "tls.ca-certificates",
                          "python.path", "os.eol")))
    return case


def sparse_status(s):
    root = s.work.root("sparse")
    p = root.write(STATUS, root.read(STATUS))
    os.truncate(p, 2 << 30)  # 2 GiB, nearly all a hole
    r = s.run(root)
    no_timeouts(r)
    # python.installs takes the image's version from patchlevel.h, not from dpkg.
    expect(r, {"apt.security-updates": NOT_PASS})
    s.note(f"apt {r.status('apt.security-updates')}: {r.check('apt.security-updates')['summary'][:90]}")


def unreadable(s):
    """chmod 000 files and folders, run as uid 65534 (root would read them anyway)."""
    root = s.work.root("unreadable")
    broken = {CA_BUNDLE: "tls.ca-certificates", "/etc/services": "net.services",
              "/var/lib/dpkg": "apt.security-updates", SITE: "pip.version",
              "/usr/lib/locale/C.utf8": "locale"}
    for inside in broken:
        root.own(inside)
        os.chmod(root.path(inside), 0)
    r_root = s.run(root)  # root ignores the modes: the same as the baseline
    r = s.run(root, wrap=AS_NOBODY)
    no_timeouts(r)
    expect(r, {check: NOT_PASS for check in broken.values()})
    diff = {i: (r_root.status(i), r.status(i)) for i in ALL_IDS if r_root.status(i) != r.status(i)}
    s.note("root->nobody: " + ", ".join(f"{i} {a}->{b}" for i, (a, b) in diff.items()))


def non_utf8(s):
    root = s.work.root("non-utf8")
    root.write(STATUS, root.read(STATUS) + b"Package: caf\xe9\nStatus: install ok installed\n"
               b"Architecture: amd64\nVersion: 1.0\xff-1\nDescription: \xff\xfe bytes\n\n")
    module = root.read(DYNLOAD + "/_json.cpython-311-x86_64-linux-gnu.so")
    root.write(DYNLOAD.encode() + b"/_bad\xff.cpython-311-x86_64-linux-gnu.so", module, 0o755)
    root.write(SITE.encode() + b"/caf\xe9-1.0.dist-info/METADATA",
               b"Metadata-Version: 2.1\nName: caf\xe9\nVersion: 1.0\n")
    shutil.copytree(root.path("/usr/lib/locale/C.utf8"),
                    root.path(b"/usr/lib/locale/\xe9t\xe9.utf8"), symlinks=True)
    os_release = root.read("/usr/lib/os-release").replace(b"PRETTY_NAME=\"", b"PRETTY_NAME=\"\xff ")
    root.write("/usr/lib/os-release", os_release)
    root.env[b"PATH"] = b"/usr/\xff\xfe/bin:/caf\xe9:" + root.env[b"PATH"]
    root.env[b"LANG"] = b"\xe9t\xe9.UTF-8"
    root.env[b"LC_CTYPE"] = b"xx_\xff.UTF-8"
    r = s.run(root)
    no_timeouts(r)
    expect(r, {"python.path": {"pass", "warn"}, "locale": NOT_PASS})
    s.note(f"locale {r.status('locale')}: {r.check('locale')['summary'][:90]}")


def make_deep(top, levels):
    """`levels` nested folders named d below `top` (paths far past PATH_MAX)."""
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(levels):
        os.mkdir("d", dir_fd=fd)
        nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)


def deep_folders(s):
    root = s.work.root("deep")
    for inside in (SITE + "/deep", DYNLOAD + "/deep", "/usr/lib/locale/deep"):
        make_deep(root.path(inside), 5000)
    # Each lookup walks a PATH entry one component at a time: 500 levels (a path
    # of 1,000 bytes) keeps the run well inside its deadline on a loaded machine.
    make_deep(root.path("/deep"), 500)
    root.env[b"PATH"] = b"/deep/" + b"d/" * 500 + b":" + root.env[b"PATH"]
    r = s.run(root)
    no_timeouts(r)
    expect(r, {i: {BASELINE.get(i, "pass")} for i in
               ("python.path", "locale", "tls.ca-certificates", "net.services", "pip.version")})


def long_path(s):
    root = s.work.root("long-path")
    entries = [f"/nonexistent/{i}".encode() for i in range(9990)]
    entries += [b"/usr/sbin", b"/usr/bin", b"/sbin", b"/bin", b"/etc", b"/tmp", b"",
                b".", b"/usr/lib", b"/usr/local/bin"]
    root.env[b"PATH"] = b":".join(entries)
    assert len(entries) == 10000
    r = s.run(root)
    no_timeouts(r)
    expect(r, {"python.path": {"pass", "warn"}})
    s.note(f"python.path {r.status('python.path')} in {r.check('python.path')['duration_ms']:.0f} ms")


# --- deadlines: a filesystem that stops answering -----------------------------

class StuckMount:
    def __init__(self, s, mountpoint, mode, files):
        args = [f"{name}={src}" for name, src in files.items()]
        self.mountpoint = mountpoint
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "stuck_fs.py"),
                                      mountpoint, mode, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if line.strip() != b"MOUNTED":
            self.close()
            raise RuntimeError(f"FUSE mount failed: {self.proc.stderr.read()[-400:]!r}")

    def close(self):
        subprocess.run(["umount", "-l", self.mountpoint], capture_output=True)
        if self.proc.poll() is None:
            self.proc.kill()  # its stuck request threads never end by themselves
        self.proc.wait()


def run_until_report(s, root, timeout_ms):
    """Runs pycheck and reads its stdout until the JSON report is complete.
    Returns (report, seconds until the report was complete, seconds until the
    process exited or None when it had not exited 1 s after the report)."""
    argv = [s.binary, "--root", root.dir, "--env-file", root.env_file(), "--now", "2026-11-28",
            "--timeout", f"{timeout_ms}ms", "--format", "json"]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fd, data, t_report = proc.stdout.fileno(), b"", None
    limit = start + timeout_ms / 1000 + 5
    while t_report is None and time.monotonic() < limit:
        ready, _, _ = select.select([fd], [], [], max(0, limit - time.monotonic()))
        chunk = os.read(fd, 1 << 16) if ready else b""
        if not chunk:
            break
        data += chunk
        if data.endswith(b"}\n"):
            try:
                validated(data)
                t_report = time.monotonic() - start
            except ValueError:
                pass
    try:
        proc.wait(timeout=max(0.0, start + timeout_ms / 1000 + 1 - time.monotonic()))
        t_exit = time.monotonic() - start
    except subprocess.TimeoutExpired:
        t_exit = None
    assert t_report is not None, f"no complete report within 5 s: {data[-300:]!r}"
    return proc, validated(data), t_report, t_exit


def stuck_fs(mode, inside, stuck_check, runs=6, timeout_ms=500):
    """Mounts stuck_fs.py over folder `inside` of a root copy, serving its regular
    files (sizes and modes as they are) with requests that never get an answer."""
    def case(s):
        root = s.work.root(f"stuck-{mode}")
        saved = s.work.sub(f"stuck-{mode}-src")
        folder = root.path(inside).decode()
        files = {}
        for name in os.listdir(folder):
            src = os.path.join(folder, name)
            if os.path.isfile(src) and not os.path.islink(src):
                files[name] = shutil.copy2(src, os.path.join(saved, name))
        over = s.overshoot.setdefault(f"stuck {mode} in {inside} (report)", [])
        exits = []
        for _ in range(runs):
            mount = StuckMount(s, folder, mode, files)
            try:
                proc, report, t_report, t_exit = run_until_report(s, root, timeout_ms)
            finally:
                mount.close()  # aborts the FUSE connection: a process stuck in it ends
            proc.wait()
            assert proc.returncode in (0, 1), f"exit code {proc.returncode}"
            s.walls.append(t_report)
            over.append(t_report - timeout_ms / 1000)
            exits.append(t_exit)
            late = {c["id"]: c["summary"] for c in report["checks"]
                    if c["status"] == "error" and c["summary"].startswith("timed out")}
            assert stuck_check in late, f"{stuck_check} did not time out"
            limit = timeout_ms / 1000 + DEADLINE_SLACK + s.start_overhead
            assert t_report <= limit, f"report complete after {t_report * 1000:.0f} ms"
        stuck_exits = [e for e in exits if e is None]
        s.note(f"timed out: {', '.join(late)}; report complete by the deadline in "
               f"{runs}/{runs} runs; process exited by then in {runs - len(stuck_exits)}/{runs}")
        assert not stuck_exits, (
            "BUG (routed: agent/run/runner.cpp, agent/cli/cli.cpp): the report is complete at the "
            "deadline but the process does not exit: _Exit leaves a thread in an "
            "uninterruptible FUSE request (the kernel waits out requests the daemon already "
            "read), so the process stays a zombie with stdout open until the filesystem "
            f"answers ({len(stuck_exits)}/{runs} runs)")
    return case


# --- unprivileged, read-only root, no writable /tmp ------------------------

def ro_namespace_run(s, root, name, extra=(), writable=None):
    """Runs pycheck as uid 65534 under strace in a new mount namespace where the
    root is a read-only bind mount and /tmp is a read-only tmpfs."""
    mnt = s.work.sub(f"mnt-{name}")
    trace = os.path.join(s.work.dir, f"ro-{name}.trace")
    script = (f"set -e; mount --bind '{root.dir}' '{mnt}'; "
              f"mount -o remount,bind,ro '{mnt}'; mount -t tmpfs -o ro,size=64k tmpfs /tmp; "
              f"if touch /tmp/.probe '{mnt}/.probe' 2>/dev/null; then echo WRITABLE >&2; exit 99; fi; "
              'exec "$@"')
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "ro-run",
            *strace_wrap(trace), *AS_NOBODY]
    r = s.run(mnt, *extra, env_file=root.env_file(), wrap=wrap, deadline=False)
    writes = strace_writes(trace)
    allowed = [w for w in writes if writable and writable in w]
    return r, [w for w in writes if w not in allowed], allowed


def unprivileged_read_only(s):
    root = s.work.root("ro")
    as_root = s.run(root)
    r, writes, _ = ro_namespace_run(s, root, "plain")
    assert not writes, f"writes in a read-only, unprivileged run: {writes[:5]}"
    diff = {i: (as_root.status(i), r.status(i)) for i in ALL_IDS
            if as_root.status(i) != r.status(i)}
    for check_id, (a, b) in diff.items():
        s.note(f"{check_id}: root {a}, nobody {b} ({r.check(check_id)['summary'][:100]})")
    assert not diff, "verdicts differ between root and uid 65534: " + "; ".join(s.notes)
    s.note(f"same verdicts as root for all {len(ALL_IDS)} checks; no write calls")


def read_only_with_output(s):
    root = s.work.root("ro-out")
    out_dir = s.work.sub("ro-output", 0o777)
    out = os.path.join(out_dir, "report.json")
    r, writes, allowed = ro_namespace_run(s, root, "output", ("--output", out), writable=out_dir)
    assert not writes, f"writes outside the --output folder: {writes[:5]}"
    calls = sorted({w.split("(")[0].split()[-1] for w in allowed})
    assert calls == ["openat", "rename"], f"unexpected calls in the output folder: {allowed}"
    assert os.listdir(out_dir) == ["report.json"], os.listdir(out_dir)
    with open(out, "rb") as f:
        validated(f.read())
    s.note(f"only {', '.join(calls)} in {os.path.basename(out_dir)}/ (temp + rename)")


CASES = [
    ("baseline (unbroken copy)", baseline),
    ("symlink loops", symlink_loops),
    ("links out of the root (canary)", escape_links),
    ("FIFOs where files are expected", special_files("fifo")),
    ("devices where files are expected", special_files("device")),
    ("2 GiB sparse dpkg status", sparse_status),
    ("unreadable files, uid 65534", unreadable),
    ("non-UTF-8 names and contents", non_utf8),
    ("5,000-level folders", deep_folders),
    ("PATH of 10,000 entries", long_path),
    ("stuck read(2): FUSE dpkg folder", stuck_fs("read", "/var/lib/dpkg",
                                                  "apt.security-updates")),
    ("stuck open(2): FUSE pip dist-info", stuck_fs("open", SITE + "/pip-22.3.1.dist-info",
                                                   "pip.version")),
    ("stuck lookup: FUSE /etc/ssl/certs", stuck_fs("lookup", "/etc/ssl/certs",
                                                   "tls.ca-certificates")),
    ("uid 65534, ro root, ro /tmp", unprivileged_read_only),
    ("uid 65534, ro root, --output", read_only_with_output),
]
