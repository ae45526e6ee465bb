#!/usr/bin/env bash
# Benchmark (not a test) of apt.security-updates, on a copy of the base root from
# tests/integration/build-roots.sh (python:3.11-slim-bookworm stand-in). Prints:
#  (a) CPU time of the offline check on the real security Packages index: the
#      process's user+sys (wait4) and the check's duration_ms, median of N runs, with
#      the list stored as apt keeps it in images (.lz4), as --online downloads it
#      (.xz: the CPU spent after the download) and uncompressed (parse + compare);
#  (b) wall time of the whole online check (`pycheck --online --root COPY`) next to
#      `apt-get update && apt-get -s upgrade` in the same copy (chroot), and the ratio.
# Goals: (a) <= 100 ms CPU after download; (b) >= 10x faster than apt end to end.
# It only prints figures: exit 0 when goals are missed, 1 when something broke.
#
# Usage (as root, online): tests/bench/apt-security.sh [PYCHECK]   (default build-static/pycheck)
#   BENCH_RUNS   runs per offline figure (default 7)   BENCH_ONLINE_RUNS (default 3)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../integration/roots.sh
source "$HERE/../integration/roots.sh"
PYCHECK="$(realpath "${1:-$HERE/../../build-static/pycheck}")"
[ -x "$PYCHECK" ] || { echo "$0: no pycheck binary at $PYCHECK" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root (cp -a of a root, chroot)" >&2; exit 1; }
root_ready base || { echo "$0: run tests/integration/build-roots.sh first" >&2; exit 1; }

TMP="$(mktemp -d /var/tmp/pycheck-bench-apt-XXXXXX)"
trap 'rm -rf --one-file-system "$TMP"' EXIT
cp -a --reflink=auto "$(root_path base)" "$TMP/root"
cp /etc/resolv.conf "$TMP/root/etc/resolv.conf"   # apt in the chroot resolves like the host

python3 - "$PYCHECK" "$TMP/root" "${BENCH_RUNS:-7}" "${BENCH_ONLINE_RUNS:-3}" <<'EOF'
import glob, json, lzma, os, resource, statistics, subprocess, sys, time, urllib.request

pycheck, root, runs, online_runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
       **{k: v for k, v in os.environ.items() if k.lower() in ("http_proxy", "no_proxy")}}
lists = os.path.join(root, "var/lib/apt/lists")


def cpu_ms():
    """user+sys of this script's finished children (getrusage: microseconds, not ticks)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def measured(cmd, n):
    """n runs of a pycheck command: medians of wall, CPU and the check's duration_ms."""
    walls, cpus, durations, check = [], [], [], None
    for _ in range(n):
        cpu, start = cpu_ms(), time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        walls.append((time.monotonic() - start) * 1000)
        cpus.append(cpu_ms() - cpu)
        if r.returncode not in (0, 1):
            sys.exit(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
        check = json.loads(r.stdout)["checks"][0]
        if check["status"] not in ("pass", "warn", "skip"):
            sys.exit(f"{' '.join(cmd)}: {check['status']}: {check['summary']}")
        durations.append(check["duration_ms"])
    return statistics.median(walls), statistics.median(cpus), statistics.median(durations), check


def ms(x):
    return f"{x:7.1f} ms"


check_args = ["--check", "apt.security-updates", "--format", "json", "--timeout", "60s"]
print(f"pycheck: {pycheck}\nroot: copy of the base root at {root}")

# (b) end to end, pycheck first (the copy has no lists yet), apt right after.
wall_p, cpu_p, dur_p, online = measured([pycheck, "--online", "--root", root, *check_args],
                                        online_runs)
index = online["details"]["sources"][0]["indexes"][0]
print(f"\n(b) end to end, online ({online['summary']}; index {index['path']}, "
      f"{index['packages']} packages)")
print(f"  pycheck --online --check apt.security-updates --root COPY   wall {ms(wall_p)}  "
      f"(median of {online_runs}; CPU {ms(cpu_p)})")
cpu, start = cpu_ms(), time.monotonic()
apt = subprocess.run(["chroot", root, "sh", "-c", "apt-get -q update && apt-get -s upgrade"],
                     capture_output=True, text=True, env=env)
wall_a, cpu_a = (time.monotonic() - start) * 1000, cpu_ms() - cpu
if apt.returncode != 0:
    sys.exit("apt-get update && apt-get -s upgrade failed:\n" + apt.stdout + apt.stderr)
upgrades = sum(line.startswith("Inst ") for line in apt.stdout.splitlines())
print(f"  chroot COPY apt-get update && apt-get -s upgrade             wall {ms(wall_a)}  "
      f"(CPU {ms(cpu_a)}; {upgrades} upgrades, all suites)")
ratio = wall_a / wall_p
print(f"  ratio apt / pycheck: {ratio:.1f}x  (goal >= 10x: {'met' if ratio >= 10 else 'MISSED'})")

# (a) offline, on the lists apt-get update just wrote: .lz4 as apt keeps them in images,
# then the archive's .xz in its place (what --online decompresses), then uncompressed.
stored = glob.glob(os.path.join(lists, "*-security_main_binary-*_Packages.*"))
if len(stored) != 1:
    sys.exit(f"expected one security Packages list in {lists}, found {stored}")
stored = stored[0]
base = stored.rsplit(".", 1)[0]
with urllib.request.urlopen(index["url"], timeout=60) as response:
    xz = response.read()
plain = lzma.decompress(xz)
print(f"\n(a) offline parse and compare of the security index "
      f"({len(plain) / 1e6:.2f} MB uncompressed, {len(xz) / 1e3:.0f} kB .xz); "
      f"median of {runs} runs")
print(f"  {'list as stored':34} {'process CPU':>12} {'duration_ms':>12} {'wall':>11}")
figures = {}
for label, path, data in (("lz4 (apt's GzipIndexes)", stored, None),
                          ("xz (as --online downloads it)", base + ".xz", xz),
                          ("uncompressed", base, plain)):
    for f in glob.glob(base + "*"):
        if f != path:
            os.rename(f, f + ".bench-off")
    if data is not None:
        with open(path, "wb") as f:
            f.write(data)
    wall, cpu, dur, check = measured([pycheck, "--root", root, *check_args], runs)
    if check["details"]["sources"][0]["indexes"][0]["path"] != path[len(root):]:
        sys.exit(f"pycheck read {check['details']['sources'][0]['indexes']}, not {path}")
    figures[label] = cpu
    print(f"  {label:34} {ms(cpu):>12} {dur:9.1f} ms {ms(wall):>11}")
    if data is not None:
        os.remove(path)
    for f in glob.glob(base + "*.bench-off"):
        os.rename(f, f[:-len(".bench-off")])
for f in os.listdir(lists):  # no lists: what is left is startup, dpkg status, sources
    if f.endswith("Release") or "_Packages" in f:
        os.remove(os.path.join(lists, f))
_, cpu_floor, dur_floor, check = measured([pycheck, "--root", root, *check_args], runs)
print(f"  {'no lists (startup, dpkg, sources)':34} {ms(cpu_floor):>12} {dur_floor:9.1f} ms"
      f"   ({check['status']})")
after_download = figures["xz (as --online downloads it)"]
print(f"  CPU after download (xz): {after_download:.1f} ms, whole process "
      f"(goal <= 100 ms: {'met' if after_download <= 100 else 'MISSED'})")
EOF
