#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs every test:
#   1. the static release build (its size is printed), with the unit and
#      end-to-end tests run against it;
#   2. the same unit and end-to-end tests under ASan+UBSan;
#   3. the integration tests: the static binary inside real root filesystems
#      (debootstrap + upstream CPython, cached) compared with the real tools.
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

echo "== all tests passed in $((SECONDS - started)) s"
