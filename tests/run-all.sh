#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs every test: unit and
# end-to-end tests (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-deps.sh

echo "== build and unit/e2e tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
ctest --test-dir build --output-on-failure
