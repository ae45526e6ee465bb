"""Measurement helpers for tests/bench: hyperfine, peak RSS, callgrind, strace,
root variants (copy-on-write views of a cached root) and the printed table."""
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(argv, timeout=600, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)


def percentile(values, fraction):
    """Nearest-rank percentile (p90 of 20 runs is the 18th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def hyperfine(commands, runs, warmup):
    """Times commands (name -> argv) in one hyperfine run, no shell in between.

    Returns name -> {"median_ms", "mean_ms", "stddev_ms", "min_ms", "max_ms",
    "exit_codes"}; a non-zero exit does not stop the run (pycheck exits 1 when
    a check fails, which is a verdict, not a broken measurement)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        argv = ["hyperfine", "-N", "-i", "--style", "none", "--warmup", str(warmup),
                "--runs", str(runs), "--export-json", export.name]
        for name, command in commands.items():
            argv += ["--command-name", name, shlex.join(command)]
        result = run(argv, timeout=3600)
        if result.returncode != 0:
            raise RuntimeError(f"hyperfine failed: {result.stderr.strip()}")
        data = json.load(open(export.name))
    out = {}
    for entry in data["results"]:
        ms = [t * 1000 for t in entry["times"]]
        out[entry["command"]] = {
            "median_ms": statistics.median(ms), "mean_ms": statistics.mean(ms),
            "stddev_ms": statistics.pstdev(ms), "min_ms": min(ms), "max_ms": max(ms),
            "exit_codes": sorted(set(entry.get("exit_codes") or [])),
        }
    return out


def peak_rss_kib(command, runs):
    """Peak resident set size (KiB, GNU time's %M) of `runs` runs of command."""
    values = []
    with tempfile.NamedTemporaryFile(suffix=".rss") as out:
        for _ in range(runs):
            run(["/usr/bin/time", "-f", "%M", "-o", out.name] + command)
            values.append(int(open(out.name).read().split()[-1]))
    return values


def callgrind(command, timeout, out_file=None):
    """Instructions executed in user space (callgrind's Ir), all threads and
    processes summed: `pycheck run` does its checks in a forked worker, so
    children are traced (one profile per process). Checks run one thread each;
    valgrind serialises threads, which changes timing but not what each thread
    executes. With out_file, the profile of the process that executed the most
    (the worker) is kept there. None when valgrind failed or ran out of time."""
    out_dir = tempfile.mkdtemp(prefix="pycheck-bench-callgrind.")
    try:
        try:
            result = run(["valgrind", "--tool=callgrind", "--trace-children=yes",
                          f"--callgrind-out-file={out_dir}/callgrind.out.%p"] + command,
                         timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        totals = {}
        for name in os.listdir(out_dir):
            with open(os.path.join(out_dir, name)) as f:
                for line in f:
                    if line.startswith(("totals:", "summary:")):
                        totals[name] = int(line.split()[1])
        if result.returncode not in (0, 1) or not totals:
            log(f"callgrind: {shlex.join(command)} exited {result.returncode}: "
                f"{result.stderr[-300:]}")
            return None
        if out_file is not None:
            shutil.copyfile(os.path.join(out_dir, max(totals, key=totals.get)), out_file)
        return sum(totals.values())
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def callgrind_top_functions(out_file, count):
    """The `count` functions with the most self Ir: [(ir, name)]."""
    result = run(["callgrind_annotate", "--threshold=100", out_file])
    rows = []
    for line in result.stdout.splitlines():
        match = re.match(r"^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$", line)
        if match and "PROGRAM TOTALS" not in line:
            name = re.sub(r" \[[^\]]*\]$", "", match.group(2))
            rows.append((int(match.group(1).replace(",", "")), re.sub(r"^\?\?\?:", "", name)))
    return rows[:count]


def strace_paths(command):
    """The file-system calls of command and its threads, with each directory
    fd shown as its path (strace -y), as one text."""
    with tempfile.NamedTemporaryFile(suffix=".strace") as out:
        run(["strace", "-f", "-qq", "-y", "-e", "trace=%file,getdents64", "-o", out.name] + command)
        return open(out.name, errors="replace").read()


class RootVariant:
    """A writable view of a cached root that leaves the cache untouched.

    Inside a private mount namespace (run.sh starts one with unshare -m) it is
    an overlay: the cached root as the lower layer, changes in an upper layer
    under /var/tmp. Without one it is a `cp -a` copy in /var/tmp."""

    def __init__(self, lower, name):
        self.workdir = tempfile.mkdtemp(prefix=f"pycheck-bench-{name}.", dir="/var/tmp")
        self.path = os.path.join(self.workdir, "root")
        self.mounts = []
        self.overlay = False
        if os.environ.get("BENCH_PRIVATE_MOUNTS") == "1":
            upper, work = os.path.join(self.workdir, "upper"), os.path.join(self.workdir, "work")
            for d in (upper, work, self.path):
                os.mkdir(d)
            options = f"lowerdir={lower},upperdir={upper},workdir={work}"
            if run(["mount", "-t", "overlay", "overlay", "-o", options, self.path]).returncode == 0:
                self.mounts.append(self.path)
                self.overlay = True
            else:
                os.rmdir(self.path)
        if not self.overlay:
            result = run(["cp", "-a", "--reflink=auto", lower, self.path])
            if result.returncode != 0:
                raise RuntimeError(f"cp -a {lower}: {result.stderr.strip()}")

    def mount_proc_and_dev(self):
        """/proc and /dev as a container has them (only in a private namespace)."""
        if os.environ.get("BENCH_PRIVATE_MOUNTS") != "1":
            return False
        ok = True
        for argv, target in ((["mount", "-t", "proc", "proc"], "proc"),
                             (["mount", "--bind", "/dev"], "dev")):
            where = os.path.join(self.path, target)
            if os.path.isdir(where) and run(argv + [where]).returncode == 0:
                self.mounts.append(where)
            else:
                ok = False
        return ok

    def file(self, relative):
        return os.path.join(self.path, relative.lstrip("/"))

    def close(self):
        for where in reversed(self.mounts):
            run(["umount", "-l", where])
        self.mounts = []
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_env_file(path):
    env = {}
    for line in open(path):
        line = line.rstrip("\n")
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key] = value
    return env


def write_env_file(path, env):
    with open(path, "w") as f:
        for key, value in env.items():
            f.write(f"{key}={value}\n")


class Table:
    """The printed report: sections of aligned rows under one header."""

    def __init__(self):
        self.sections = []

    def section(self, title, header, rows, notes=()):
        self.sections.append((title, header, [[str(c) for c in r] for r in rows], list(notes)))

    def render(self):
        lines = []
        for title, header, rows, notes in self.sections:
            lines.append("")
            lines.append(f"== {title}")
            all_rows = ([header] if header else []) + rows
            if all_rows:
                widths = [max(len(r[i]) for r in all_rows if i < len(r))
                          for i in range(max(len(r) for r in all_rows))]
                for index, row in enumerate(all_rows):
                    cells = []
                    for i, cell in enumerate(row):
                        # Figures line up on the right, under a header; key: value sections do not.
                        numeric = header and index > 0 and i > 0 and \
                            re.match(r"^[-+]?[\d.,]+( ?[%×a-zA-Z]+)?$", cell)
                        last = i == len(row) - 1
                        cells.append(cell.rjust(widths[i]) if numeric else
                                     (cell if last else cell.ljust(widths[i])))
                    lines.append("  " + "  ".join(cells).rstrip())
            for note in notes:
                lines.append(f"  note: {note}")
        return "\n".join(lines[1:]) + "\n"


def fmt_ms(value):
    return "—" if value is None else f"{value:.2f} ms"


def fmt_ir(value):
    return "—" if value is None else f"{value:,}"


def fmt_mib(kib):
    return f"{kib / 1024:.2f} MiB"
