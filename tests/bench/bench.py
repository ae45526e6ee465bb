#!/usr/bin/python3
"""pycheck benchmarks: prints one table, never fails on a figure.

Run through tests/bench/run.sh (as root, in a private mount namespace):
    bench.py STATIC_PYCHECK HELPER_DIR
HELPER_DIR holds the static no-op and inroot binaries run.sh compiled.
BENCH_QUICK=1 takes fewer samples (CI); the default is the full local run.
"""
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_tools import (RootVariant, Table, callgrind, callgrind_top_functions, fmt_ir,  # noqa: E402
                         fmt_mib, fmt_ms, hyperfine, log, peak_rss_kib, percentile, run)
import bench_growth  # noqa: E402
import bench_size  # noqa: E402

ROOTS_DIR = os.path.join(os.environ.get("PYCHECK_CACHE_DIR") or "/var/cache/pycheck", "roots")
BASE = os.path.join(ROOTS_DIR, "base")
BASE_ENV = os.path.join(ROOTS_DIR, "base.env")
INSIDE_DIR = "/.pycheck-bench"
# Under valgrind a run is 20-50x slower: give the checks all the time they need,
# so every figure counts the whole work and none is cut by the deadline.
TIMEOUT = ["--timeout", "10s"]
CALLGRIND_TIMEOUT = ["--timeout", "600s"]

GOAL_MEDIAN_MS = 3.0
GOAL_RSS_KIB = 6 * 1024
GOAL_PYTHON_RATIO = 10.0
GOAL_OWN_RATIO = 2.5  # issue 17's single-run goal: python own / pycheck own


class Settings:
    def __init__(self, quick):
        self.quick = quick
        self.runs = 20 if quick else 100
        self.warmup = 3 if quick else 5
        self.rss_runs = 3 if quick else 10
        self.json_runs = 20 if quick else 100
        self.series_runs = 5 if quick else 20


def machine_rows(binary, load_at_start, started):
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    version = run([binary, "--version"]).stdout.strip()
    unstripped = binary + ".unstripped"
    size = os.path.getsize(binary)
    rows = [
        ["CPU", cpu], ["cores", str(os.cpu_count())],
        ["kernel", f"{platform.system()} {platform.release()} {platform.machine()}"],
        ["load average at start", load_at_start], ["date", started.isoformat(timespec="seconds")],
        ["pycheck", f"{version} ({binary})"],
        ["binary size", f"{size:,} bytes ({size / 1048576:.2f} MiB) stripped" +
         (f", {os.path.getsize(unstripped):,} unstripped" if os.path.exists(unstripped) else "")],
    ]
    return rows


def goal(met, text):
    return f"goal {text}: {'met' if met else 'NOT met'}"


def full_run_section(table, settings, binary, helpers, inside):
    """Section 1: pycheck next to the floor and what a shell HEALTHCHECK runs."""
    noop, inroot = os.path.join(helpers, "noop"), os.path.join(helpers, "inroot")
    in_root = [inroot, inside.path, BASE_ENV]
    commands = {
        "floor: static no-op": [noop],
        "floor inside: static no-op": in_root + [f"{INSIDE_DIR}/noop"],
        "pycheck inside (chroot)": in_root + [f"{INSIDE_DIR}/pycheck"] + TIMEOUT,
        "pycheck --root (outside)": [binary, "--root", BASE, "--env-file", BASE_ENV] + TIMEOUT,
        "python3 -c pass inside": in_root + ["python3", "-c", "pass"],
        "pip --version inside": in_root + ["pip", "--version"],
    }
    verdict = run(commands["pycheck inside (chroot)"])
    log(f"full run: hyperfine, {settings.runs} runs of {len(commands)} commands")
    times = hyperfine(commands, settings.runs, settings.warmup)
    log(f"full run: peak RSS, {settings.rss_runs} runs each")
    rss = {name: peak_rss_kib(cmd, settings.rss_runs) for name, cmd in commands.items()}
    rows = []
    for name in commands:
        t, r = times[name], rss[name]
        goals = ""
        if name.startswith("pycheck"):
            goals = "; ".join([goal(t["median_ms"] <= GOAL_MEDIAN_MS, f"≤ {GOAL_MEDIAN_MS:g} ms"),
                               goal(max(r) <= GOAL_RSS_KIB, "≤ 6 MiB")])
        rows.append([name, fmt_ms(t["median_ms"]), f"{t['mean_ms']:.2f} ± {t['stddev_ms']:.2f}",
                     fmt_ms(t["min_ms"]), fmt_ms(t["max_ms"]), fmt_mib(statistics.median(r)),
                     fmt_mib(max(r)), goals])
    pycheck_ms = times["pycheck inside (chroot)"]["median_ms"]
    python_ms = times["python3 -c pass inside"]["median_ms"]
    pip_ms = times["pip --version inside"]["median_ms"]
    floor_ms = times["floor inside: static no-op"]["median_ms"]
    ratio = python_ms / pycheck_ms
    rows.append(["python3 -c pass / pycheck inside", f"{ratio:.1f}×", "", "", "", "", "",
                 goal(ratio >= GOAL_PYTHON_RATIO, f"≥ {GOAL_PYTHON_RATIO:g}×")])
    rows.append(["pip --version / pycheck inside", f"{pip_ms / pycheck_ms:.1f}×"] + [""] * 6)
    rows.append(["pycheck inside minus floor inside", fmt_ms(pycheck_ms - floor_ms)] + [""] * 6)
    # Each one's own cost: its median minus the static no-op's through the same
    # launcher (chroot + execve), so the launcher's share counts for neither.
    python_own, pycheck_own = python_ms - floor_ms, pycheck_ms - floor_ms
    if pycheck_own > 0:
        own_ratio = python_own / pycheck_own
        rows.append(["python own / pycheck own (each minus floor inside)", f"{own_ratio:.2f}×",
                     f"{python_own:.2f} / {pycheck_own:.2f} ms", "", "", "", "",
                     goal(own_ratio >= GOAL_OWN_RATIO, f"≥ {GOAL_OWN_RATIO:g}×")])
    else:
        rows.append(["python own / pycheck own (each minus floor inside)", "—",
                     f"pycheck's median {pycheck_ms:.2f} ms is not above the floor's "
                     f"{floor_ms:.2f} ms", "", "", "", "", f"goal ≥ {GOAL_OWN_RATIO:g}×: unknown"])
    header = ["command (median of runs)", "median", "mean ± sd ms", "min", "max",
              "RSS median", "RSS peak", "goals"]
    first_line = verdict.stdout.splitlines()[0] if verdict.stdout else verdict.stderr.strip()
    notes = [f"{settings.runs} runs after {settings.warmup} warm-up runs (hyperfine -N: no shell); "
             f"peak RSS from /usr/bin/time -f %M over {settings.rss_runs} runs",
             f"root: {BASE} ({'overlay' if inside.overlay else 'copy'}; /proc and /dev "
             f"{'mounted' if inside.proc_mounted else 'NOT mounted'}), env {BASE_ENV}; inside = "
             f"chroot + execve by a static launcher, as `docker exec` does; every pycheck "
             f"run has {' '.join(TIMEOUT)}",
             f"pycheck inside says (exit {verdict.returncode}): {first_line}"]
    table.section("1. full offline run on the python:slim stand-in", header, rows, notes)


def per_check_section(table, settings, cg_binary, helpers, inside, check_ids, workdir):
    """Section 2: wall time per check from the JSON reports; instructions per check."""
    command = [os.path.join(helpers, "inroot"), inside.path, BASE_ENV,
               f"{INSIDE_DIR}/pycheck", "--format", "json"] + TIMEOUT
    log(f"per check: {settings.json_runs} JSON reports")
    durations = {cid: [] for cid in check_ids}
    statuses = {}
    totals = []
    for _ in range(settings.json_runs):
        report = json.loads(run(command).stdout)
        totals.append(report["duration_ms"])
        for check in report["checks"]:
            durations.setdefault(check["id"], []).append(check["duration_ms"])
            statuses[check["id"]] = check["status"]

    # Instructions: each check alone (--check ID) minus the run with every check
    # skipped. A check's cost alone is what it costs, whatever runs beside it: the
    # checks share no cache, and the run functions are all named `run` in
    # anonymous namespaces, which the stripped or symbol-only binary cannot tell
    # apart in callgrind_annotate. The difference also counts rendering the
    # check's result, which is part of its cost.
    base_args = ["--root", BASE, "--env-file", BASE_ENV] + CALLGRIND_TIMEOUT
    log("per check: callgrind, every check alone")
    skip_all = [a for cid in check_ids for a in ("--skip", cid)]
    floor_ir = callgrind([cg_binary] + base_args + skip_all, timeout=600)
    full_out = os.path.join(workdir, "full.callgrind")
    full_ir = callgrind([cg_binary] + base_args, timeout=900, out_file=full_out)
    alone = {}
    for cid in check_ids:
        ir = callgrind([cg_binary] + base_args + ["--check", cid], timeout=600)
        alone[cid] = None if ir is None or floor_ir is None else ir - floor_ir
    rows = []
    order = sorted(durations, key=lambda c: -statistics.median(durations[c]) if durations[c] else 0)
    for cid in order:
        d = durations[cid]
        share = (f"{100 * alone[cid] / (full_ir - floor_ir):.1f} %"
                 if alone.get(cid) is not None and full_ir and full_ir > floor_ir else "—")
        rows.append([cid, statuses.get(cid, "?"), fmt_ms(statistics.median(d)),
                     fmt_ms(percentile(d, 0.9)), fmt_ir(alone.get(cid)), share])
    known = [v for v in alone.values() if v is not None]
    rows.append(["whole run (report duration_ms)", "", fmt_ms(statistics.median(totals)),
                 fmt_ms(percentile(totals, 0.9)), fmt_ir(full_ir), "100 %"])
    rows.append(["floor: every check skipped", "", "", "", fmt_ir(floor_ir), ""])
    rows.append(["sum of the checks alone", "", "", "", fmt_ir(sum(known)), ""])
    header = ["check (slowest first)", "status", "median", "p90", "Ir alone − floor", "of run − floor"]
    notes = [f"wall times: duration_ms of {settings.json_runs} JSON reports inside the root; "
             f"checks run on parallel threads on {os.cpu_count()} cores, so a wall time includes "
             "waiting for a core",
             "Ir: instructions (valgrind --tool=callgrind, --root, threads serialised): "
             "`--check ID` minus the run with every check skipped; stable across machines "
             "and load"]
    table.section("2. per-check cost", header, rows, notes)

    if os.path.exists(full_out):
        top = callgrind_top_functions(full_out, 15)
        title = ("2b. whole run: the functions with the most instructions "
                 f"(self Ir, {os.path.basename(cg_binary)})")
        table.section(title, ["Ir", "function"], [[fmt_ir(ir), name[:150]] for ir, name in top])


def main():
    # Stopped from outside: unwind, so the copies under /var/tmp are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary = os.path.abspath(sys.argv[1])
    helpers = os.path.abspath(sys.argv[2])
    settings = Settings(os.environ.get("BENCH_QUICK") == "1")
    load_at_start = open("/proc/loadavg").read().split()[:3]
    started = datetime.datetime.now().astimezone()
    unstripped = binary + ".unstripped"
    cg_binary = unstripped if os.path.exists(unstripped) else binary
    check_ids = [line.split()[0] for line in run([binary, "list"]).stdout.splitlines() if line.strip()]

    table = Table()
    table.section(f"pycheck benchmarks ({'quick' if settings.quick else 'full'} mode)", None,
                  machine_rows(binary, " ".join(load_at_start), started),
                  ["wall times depend on the machine and its load; the Ir (instruction) "
                   "figures do not"])
    workdir = os.path.join(os.environ.get("BENCH_TMP", "/tmp"), "work")
    os.makedirs(workdir, exist_ok=True)

    with RootVariant(BASE, "inside") as inside:
        os.makedirs(inside.file(INSIDE_DIR))
        shutil.copy2(binary, inside.file(f"{INSIDE_DIR}/pycheck"))
        shutil.copy2(os.path.join(helpers, "noop"), inside.file(f"{INSIDE_DIR}/noop"))
        inside.proc_mounted = inside.mount_proc_and_dev()
        full_run_section(table, settings, binary, helpers, inside)
        per_check_section(table, settings, cg_binary, helpers, inside, check_ids, workdir)

    bench_growth.growth_sections(table, settings, binary, cg_binary, BASE, BASE_ENV, check_ids, workdir)
    bench_size.size_sections(table, binary)

    load_at_end = " ".join(open("/proc/loadavg").read().split()[:3])
    elapsed = datetime.datetime.now().astimezone() - started
    table.section("end", None, [["load average at end", load_at_end],
                                ["benchmark took", f"{elapsed.total_seconds():.0f} s"]])
    sys.stdout.write(table.render())


if __name__ == "__main__":
    main()
