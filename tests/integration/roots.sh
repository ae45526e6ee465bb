# Sourced helper: where the build's and the tests' caches are, and where
# tests/integration/build-roots.sh keeps its root folders.
#   source tests/integration/roots.sh
#   root_path base        -> $PYCHECK_CACHE_DIR/roots/base
#   root_env  no-netbase  -> $PYCHECK_CACHE_DIR/roots/no-netbase.env  (the image's ENV)
#   root_ready venv && echo built
#   root_exec base python3 -B -c 'import ssl'   (needs root)
# shellcheck shell=bash

# The one cache setting: deps/ (packaging/build-deps.sh), roots/ (here) and
# fuzz/ (tests/fuzz/run.sh) all live under it.
export PYCHECK_CACHE_DIR="${PYCHECK_CACHE_DIR:-/var/cache/pycheck}"
export ROOTS_DIR="$PYCHECK_CACHE_DIR/roots"

# shellcheck disable=SC2034  # used by scripts that source this file
# "base" stands in for python:3.11-slim-bookworm; the others are variants of it,
# except "trixie", python:3.13-slim-trixie (today's default base of the image).
ROOT_NAMES=(base debian-python3 no-ca-certificates no-netbase missing-locale
            with-locales venv no-sqlite no-libssl apt-lists trixie)

root_path() { printf '%s/%s\n' "$ROOTS_DIR" "$1"; }
root_env()  { printf '%s/%s.env\n' "$ROOTS_DIR" "$1"; }
# A root is complete only once its .key is written (build-roots.sh writes it last).
root_ready() { [ -d "$ROOTS_DIR/$1" ] && [ -s "$ROOTS_DIR/$1.key" ] && [ -s "$ROOTS_DIR/$1.env" ]; }

# Runs CMD inside root NAME with the image's ENV, as `docker run` would. Keep the
# cached roots unchanged: no .pyc (python -I/-E ignores the env var, so pass -B too).
root_exec() {
  local name=$1 envs=(); shift
  mapfile -t envs <"$(root_env "$name")"
  chroot "$(root_path "$name")" /usr/bin/env -i "${envs[@]}" PYTHONDONTWRITEBYTECODE=1 "$@"
}
