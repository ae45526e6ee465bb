"""Helpers for the hostile-root suite: root copies, pycheck runs, report checks,
a canary watcher (inotify), strace parsing and local servers."""
import ctypes
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import time

import jsonschema  # Debian: python3-jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
ROOTS = os.path.join(os.environ.get("PYCHECK_CACHE_DIR") or "/var/cache/pycheck", "roots")
with open(os.path.join(SOURCE_DIR, "agent", "report", "report.schema.json")) as f:
    SCHEMA = json.load(f)
ALL_IDS = ["python.path", "python.installs", "python.shared-libraries", "locale",
           "tls.ca-certificates", "net.services", "apt.security-updates", "pip.version",
           "python.venv", "python.eol", "os.eol", "python.bytecode"]
NOW = "2026-11-28"
NOBODY = 65534
DEADLINE_GOAL = 0.050  # the goal, printed with the overshoot figures: at most 50 ms past --timeout
# What a run may take past --timeout before it counts as hung. Generous: how far
# past the deadline a run ends depends on the machine's load (an ASan build, a
# busy CI host); that is a figure to print, not a verdict (tests never depend
# on how fast the machine is). A hung probe takes forever, not 2 s.
DEADLINE_SLACK = 2.0


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, capture_output=True, **kw)


def read_env(path):
    env = {}
    with open(path, "rb") as f:
        for line in f.read().splitlines():
            if line and not line.startswith(b"#"):
                key, _, value = line.partition(b"=")
                env[key] = value
    return env


class Root:
    """A writable copy of a cached real root. The copy hard-links the suite's
    own template copy (never the cache), so every change here first unlinks:
    call own() before changing a file's mode or content in place."""

    def __init__(self, dir, env):
        self.dir = dir
        self.env = dict(env)  # bytes -> bytes, the image's environment

    def path(self, inside):
        inside = inside if isinstance(inside, bytes) else inside.encode()
        return os.path.join(os.fsencode(self.dir), inside.lstrip(b"/"))

    def remove(self, inside):
        p = self.path(inside)
        if os.path.isdir(p) and not os.path.islink(p):
            subprocess.run(["rm", "-rf", "--", p], check=True)  # copes with 5,000 levels
        elif os.path.lexists(p):
            os.unlink(p)
        return p

    def write(self, inside, content, mode=0o644):
        p = self.remove(inside)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        os.chmod(p, mode)
        return p

    def read(self, inside):
        with open(self.path(inside), "rb") as f:
            return f.read()

    def own(self, inside):
        """Gives a file its own inode (breaks the hard link to the template)."""
        p = self.path(inside)
        st = os.lstat(p)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            tmp = p + b".own"
            shutil.copy2(p, tmp)
            os.rename(tmp, p)
        return p

    def symlink(self, inside, target):
        p = self.remove(inside)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)
        return p

    def fifo(self, inside):
        p = self.remove(inside)
        os.mkfifo(p, 0o644)
        return p

    def device(self, inside, kind, major, minor):
        p = self.remove(inside)
        os.mknod(p, (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | 0o644,
                 os.makedev(major, minor))
        return p

    def env_file(self, env=None, name="env"):
        p = os.path.join(os.path.dirname(self.dir), os.path.basename(self.dir) + "." + name)
        with open(p, "wb") as f:
            for k, v in (env or self.env).items():
                f.write(k + b"=" + v + b"\n")
        return p


class Workdir:
    """The suite's scratch space, outside /tmp (the read-only runs hide /tmp)
    and traversable by uid 65534."""

    def __init__(self, base_root="base"):
        self.dir = __import__("tempfile").mkdtemp(prefix="pycheck-hostile-", dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        self.base = os.path.join(ROOTS, base_root)
        if not os.path.isfile(os.path.join(self.base, "usr/local/bin/python3")):
            raise SystemExit(f"hostile: no cached root at {self.base}: run "
                             "tests/integration/build-roots.sh first")
        self.base_env = read_env(self.base + ".env")
        self.template = os.path.join(self.dir, "template")
        sh("cp", "-a", self.base, self.template)
        os.makedirs(os.path.join(self.dir, "roots"))
        self.cleanups = []

    def root(self, name):
        d = os.path.join(self.dir, "roots", name)
        sh("cp", "-al", self.template, d)
        return Root(d, self.base_env)

    def sub(self, name, mode=0o755):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, mode)
        return d

    def close(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # keep cleaning up
                print(f"hostile: cleanup: {e}")
        subprocess.run(["rm", "-rf", "--", self.dir])


class Run:
    def __init__(self, argv, proc, wall, timeout_s):
        self.argv = argv
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr.decode(errors="replace")
        self.wall = wall
        self.timeout_s = timeout_s
        self.report = None

    def status(self, check_id):
        return self.check(check_id)["status"]

    def check(self, check_id):
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def statuses(self):
        return {c["id"]: c["status"] for c in self.report["checks"]}


def parse_duration(text):
    m = re.fullmatch(r"(\d+)(ms|s)", text)
    return int(m.group(1)) / (1000 if m.group(2) == "ms" else 1)


def run_pycheck(binary, root, env_file, *extra, timeout="3s", wrap=(), json_out=True,
                kill_after=30):
    """Runs pycheck on `root`; returns a Run with the parsed, schema-checked report."""
    argv = [*wrap, binary, "--root", root, "--env-file", env_file, "--now", NOW,
            "--timeout", timeout, *(["--format", "json"] if json_out else []), *extra]
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, timeout=kill_after)
    run = Run(argv, proc, time.monotonic() - start, parse_duration(timeout))
    if run.code < 0:
        raise AssertionError(f"pycheck died of signal {signal.Signals(-run.code).name}: "
                             f"{run.stderr[-500:]}")
    if run.code not in (0, 1):
        raise AssertionError(f"exit code {run.code} (want 0 or 1): {run.stderr[-500:]}")
    if json_out and "--output" not in extra:  # with --output, stdout holds the verdict line
        only = [extra[i + 1] for i, a in enumerate(extra) if a == "--check"]
        run.report = validated(run.stdout, [i for i in ALL_IDS if not only or i in only])
    return run


def validated(raw, ids_wanted=ALL_IDS):
    """The report: strict UTF-8, valid JSON, valid against the schema, every check once."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"report is not UTF-8: {e}")
    report = json.loads(text)
    jsonschema.validate(report, SCHEMA)
    ids = [c["id"] for c in report["checks"]]
    if ids != ids_wanted:
        raise AssertionError(f"report lists {ids}, want {ids_wanted}")
    return report


def within_deadline(run, start_overhead):
    limit = run.timeout_s + DEADLINE_SLACK + start_overhead
    if run.wall > limit:
        raise AssertionError(f"took {run.wall * 1000:.0f} ms, over the deadline "
                             f"{run.timeout_s * 1000:.0f} ms + {DEADLINE_SLACK * 1000:.0f} ms + start "
                             f"{start_overhead * 1000:.0f} ms")


def expect(run, rules):
    """rules: {check_id: set of allowed statuses | ("not", set of refused statuses)}."""
    problems = []
    for check_id, rule in rules.items():
        got = run.status(check_id)
        refused = rule[1] if isinstance(rule, tuple) else None
        if (refused is not None and got in refused) or (refused is None and got not in rule):
            summary = run.check(check_id)["summary"]
            problems.append(f"{check_id}: {got} ({summary[:160]}), want "
                            f"{'not ' + '/'.join(sorted(refused)) if refused else '/'.join(sorted(rule))}")
    if problems:
        raise AssertionError("; ".join(problems))


NOT_PASS = ("not", {"pass"})
NOT_PASS_OR_SKIP = ("not", {"pass", "skip"})


class Server:
    """A Python test server that prints "PORT <n>" when it listens."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(["/usr/bin/python3", *argv], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"server {argv} did not start: {line!r}")
        self.port = int(line.split()[1])

    def url(self, path, scheme="http"):
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# --- inotify: did anything open or read the canary? ---------------------------
IN_ACCESS, IN_OPEN, IN_CLOSE_NOWRITE = 0x1, 0x20, 0x10


class CanaryWatch:
    """Watches files and folders with inotify for opens and reads by anyone,
    whatever path or mount they were reached through (the inode is watched)."""

    def __init__(self, paths):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.names = {}
        for p in paths:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(p),
                                             IN_ACCESS | IN_OPEN | IN_CLOSE_NOWRITE)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {p}")
            self.names[wd] = p

    def events(self):
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            i = 0
            while i < len(buf):
                wd, mask, _cookie, length = struct.unpack_from("iIII", buf, i)
                name = buf[i + 16:i + 16 + length].rstrip(b"\0").decode(errors="replace")
                out.append((self.names.get(wd, "?"), name, mask))
                i += 16 + length

    def close(self):
        os.close(self.fd)


# --- strace -------------------------------------------------------------------
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE")
MUTATING_CALLS = ("creat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir",
                  "mkdirat", "rmdir", "truncate", "ftruncate", "link", "linkat", "symlink",
                  "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
                  "fchownat", "utimensat", "mknod", "mknodat")
TRACED = ("open,openat,openat2," + ",".join(MUTATING_CALLS))


def strace_wrap(trace_file, traced=TRACED):
    return ["strace", "-f", "-qq", "-s", "4096", "-o", trace_file, "-e", f"trace={traced}"]


def strace_writes(trace_file):
    """Lines of the trace that write or change the filesystem (attempted, even if they failed)."""
    found = []
    with open(trace_file, errors="replace") as f:
        for line in f:
            call = re.match(r"^\d+\s+(\w+)\(", line)
            if not call:
                continue
            name = call.group(1)
            if name in ("open", "openat", "openat2"):
                if any(flag in line for flag in WRITE_FLAGS):
                    found.append(line.rstrip())
            elif name in MUTATING_CALLS:
                found.append(line.rstrip())
    return found
