#!/usr/bin/env bash
# pycheck benchmarks: prints one table of figures (no thresholds, never fails on
# a figure) — the machine, the full offline run next to the floor and what a
# shell HEALTHCHECK would cost (and the single-run ratio: python3 -c pass's own
# cost over pycheck's, each minus the no-op through the same launcher; issue 17
# asks ≥ 2.5), the cost of each check, how costs grow with
# their inputs, and what the binary is made of.
#
#   bash tests/bench/run.sh [path/to/static/pycheck]   (default build-static/pycheck)
#
# As root, after tests/integration/build-roots.sh (uses the cached base root,
# read only). BENCH_QUICK=1 (CI, ~2-4 min) takes fewer samples and judges how
# costs grow from wall times; the default full mode (local, ~15 min) also counts
# instructions with callgrind there. Needs hyperfine, valgrind, time, strace,
# gcc (static glibc: libc6-dev), binutils, ninja-build, util-linux, python3.
# Figures are for the binary given; size by origin relinks it with a map in
# its build directory (read only), so give a binary inside its build dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="$(realpath "${1:-build-static/pycheck}")"
# shellcheck source=tests/integration/roots.sh
source tests/integration/roots.sh
roots="$ROOTS_DIR"

die() {
  echo "bench: error: $*" >&2
  exit 2
}
[[ $EUID -eq 0 ]] || die "run as root (chroot, mounts)"
[[ -x "$binary" ]] || die "no pycheck at $binary (bash packaging/build-static.sh)"
[[ -s "$roots/base.key" && -d "$roots/base" ]] ||
  die "no base root in $roots (bash tests/integration/build-roots.sh)"
for tool in hyperfine valgrind callgrind_annotate strace gcc nm size c++filt unshare mount; do
  command -v "$tool" >/dev/null || die "$tool is missing (see the packages in this file's header)"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian package: time)"

tmp="$(mktemp -d /tmp/pycheck-bench.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
# The floor and the launcher that runs a command inside a root as `docker exec` does.
gcc -static -O2 -o "$tmp/noop" tests/bench/noop.c
gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/inroot" tests/bench/inroot.c

export BENCH_TMP="$tmp"  # and PYCHECK_CACHE_DIR (roots.sh), for bench.py
# A private mount namespace: the overlays over the cached root (and /proc, /dev
# inside it) exist only for this run and vanish with it, whatever happens.
if unshare -m --propagation private true 2>/dev/null; then
  BENCH_PRIVATE_MOUNTS=1 unshare -m --propagation private \
    /usr/bin/python3 -B tests/bench/bench.py "$binary" "$tmp"
else
  echo "bench: no private mount namespace here; working on copies in /var/tmp" >&2
  /usr/bin/python3 -B tests/bench/bench.py "$binary" "$tmp"
fi
