#!/usr/bin/env bash
# Scan bench (issue 17): `pycheck scan --format json` on a simulated node of
# 10, 50 and 100 containers (tests/integration/sim_node.py: real processes in
# real mount/pid namespaces and kubepods cgroups, all on the cached "base"
# root, named by containerd state files and /var/log/pods under --node-root).
# Prints, per run: wall time, CPU time (user+sys of pycheck and its children),
# peak RSS (/usr/bin/time's %M: the largest single process of the tree, not
# their sum) and containers checked per second. Figures only, no thresholds.
#
#   bash tests/bench/scan.sh PYCHECK     (as root, after build-roots.sh)
#   SCAN_BENCH_RUNS=5 (default 3; one uncounted warm-up run per size first)
#
# Other simulations running on this machine at the same time are scanned too:
# the "checked" column says how many containers a run really checked.
set -euo pipefail
pycheck=$(realpath "${1:?usage: scan.sh PYCHECK}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/roots.sh
source "$here/../integration/roots.sh"
die() { echo "scan.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (namespaces, cgroups, /proc/PID/root)"
root_ready base || die "root 'base' not built in $ROOTS_DIR (tests/integration/build-roots.sh)"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (Debian package time)"
# (`scan --help` alone exits 0 on a binary without scan: CLI11 prints the main help.)
"$pycheck" scan --help | grep -q -- --node-root || die "$pycheck has no scan"

runs=${SCAN_BENCH_RUNS:-3}
exec /usr/bin/python3 - "$pycheck" "$here/../integration" "$ROOTS_DIR" "$runs" <<'PY'
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

pycheck, integration, roots_dir, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.dont_write_bytecode = True
sys.path.insert(0, integration)
from sim_node import SimNode  # noqa: E402

SIZES = (10, 50, 100)


def scan(node):
    """One `pycheck scan --format json`: (wall s, cpu s, peak RSS KiB, totals)."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as timing:
        argv = ["/usr/bin/time", "-f", "%U %S %M", "-o", timing.name,
                pycheck, "scan", "--format", "json", "--node-root", node.node_root]
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if proc.returncode not in (0, 1):  # 1: some container fails a check
            sys.exit(f"scan.sh: pycheck scan exited {proc.returncode}: {proc.stderr.decode()}")
        user, system, rss = timing.read().split()[-3:]
        out.seek(0)
        totals = json.load(out)["totals"]
    return wall, float(user) + float(system), int(rss), totals


print(f"pycheck scan bench: {os.cpu_count()} CPUs online (--jobs default), "
      f"{runs} runs per size after one warm-up run")
print("goal: 100 containers <= 1 s wall, peak RSS <= 64 MiB")
print(f"{'containers':>10} {'run':>4} {'wall s':>8} {'cpu s':>7} {'RSS MiB':>8} "
      f"{'checked':>8} {'other':>6} {'checked/s':>10}")
with SimNode(roots_dir) as node:
    summary = []
    for size in SIZES:
        while len(node.containers) < size:
            i = len(node.containers)
            node.start(f"c{i}", runtime="containerd", driver="systemd", root="base",
                       namespace="bench", pod=f"app-{i}", container="app",
                       image="python:3.11-slim", names=("containerd state", "/var/log/pods"))
        scan(node)  # warm-up: the first run reads the root from disk
        results = []
        for run in range(1, runs + 1):
            wall, cpu, rss, totals = scan(node)
            checked = totals["checked"]
            results.append((wall, cpu, rss, checked))
            print(f"{size:>10} {run:>4} {wall:>8.3f} {cpu:>7.2f} {rss / 1024:>8.1f} "
                  f"{checked:>8} {totals['containers'] - checked:>6} {checked / wall:>10.1f}")
        summary.append((size, [statistics.median(r[k] for r in results) for k in range(4)]))
    print("medians:")
    for size, (wall, cpu, rss, checked) in summary:
        print(f"  {size:>3} containers: wall {wall:.3f} s, cpu {cpu:.2f} s, "
              f"peak RSS {rss / 1024:.1f} MiB, {checked / wall:.1f} containers/s")
left = node.leftovers()
if left:
    sys.exit(f"scan.sh: left behind: {left}")
PY
