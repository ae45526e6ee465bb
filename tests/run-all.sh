#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs every test:
#   1. the static release build (its size is printed), with the unit and
#      end-to-end tests run against it;
#   2. the same unit and end-to-end tests under ASan+UBSan;
#   3. the integration tests: the static binary inside real root filesystems
#      (debootstrap + upstream CPython, cached) compared with the real tools,
#      the InRelease verifier compared with apt's gpgv and sqv, and pycheck
#      scan on a simulated node (namespaces, cgroups, a real Prometheus);
#   4. hostile roots, stuck filesystems, unprivileged read-only runs, network
#      faults; a short fuzzing run of every reader;
#   5. the benchmarks, which print figures and judge nothing.
# Every cache (the static build's dependencies, the integration roots, the fuzz
# corpora) lives under PYCHECK_CACHE_DIR (default /var/cache/pycheck), so
#   git clone . /tmp/x && cd /tmp/x && PYCHECK_CACHE_DIR=$(mktemp -d) bash .ci/run
# shows that everything works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
bash tests/install-deps.sh

echo "== static release build"
bash packaging/build-static.sh

echo "== .deb package"
(cd build-static && cpack -G DEB >/dev/null && dpkg-deb -c pycheck_*_amd64.deb | grep -E ' \./usr/bin/pycheck$')

echo "== unit and end-to-end tests, static build"
ctest --test-dir build-static --output-on-failure

echo "== unit and end-to-end tests, ASan+UBSan build"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPYCHECK_SANITIZE=ON >/dev/null
cmake --build build-asan
ctest --test-dir build-asan --output-on-failure

echo "== integration tests on real root filesystems"
bash tests/integration/build-roots.sh
python3 tests/integration/test_roots.py build-static/pycheck
# The unit run leaves this hidden test out: it needs the roots just built.
build-static/tests/pycheck_tests "[.python-integration]"
# pycheck scan on a simulated node: containers in real namespaces and runtime
# cgroup paths, each checked as `pycheck --pid` checks it; a real Prometheus
# scraping serve --scan.
/usr/bin/python3 tests/integration/test_scan.py build-static/pycheck
/usr/bin/python3 tests/integration/test_scan_prometheus.py build-static/pycheck
# The InRelease verifier against apt itself: apt 2.6's gpgv pipeline on this
# machine, apt 3.0's sqv inside the trixie root, generated keys, tampered copies
# and the archive's real InRelease files (prints the table and the time per file).
ninja -C build-static openpgp_verdict >/dev/null
python3 tests/integration/openpgp_oracle.py build-static/tests/openpgp_verdict

echo "== hostile roots, deadlines, read-only and unprivileged runs"
/usr/bin/python3 tests/hostile/test_hostile.py build-static/pycheck

echo "== fuzzing every reader (short run; FUZZ_SECONDS=600 for a long one)"
FUZZ_SECONDS=20 bash tests/fuzz/run.sh

echo "== benchmarks (figures only, no thresholds)"
BENCH_QUICK=1 bash tests/bench/run.sh build-static/pycheck
bash tests/bench/apt-security.sh build-static/pycheck
SERVE_BENCH_SECONDS=3 bash tests/bench/serve-load.sh build-static/pycheck
bash tests/bench/scan.sh build-static/pycheck

echo "== all tests passed in $((SECONDS - started)) s"
