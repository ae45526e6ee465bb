#!/bin/bash
# Writes every report pycheck gives on every integration root into OUT_DIR, in
# every format, with the date fixed and the run's timings and clock blanked,
# so two builds can be compared byte for byte (a refactor must not change them):
#   tests/integration/report-snapshot.sh BIN OUT_DIR
#   diff -r before/ after/
# Offline only: online reports follow the archive, which changes by the hour.
set -euo pipefail
bin=$(realpath "$1"); out=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=roots.sh
source "$here/roots.sh"
mkdir -p "$out"
now=2026-01-01

# Only what the clock decides is blanked: durations and the run's own timestamps.
blank_clock() {
  sed -E -e 's/("duration_ms": )[-0-9.e+]+/\1D/' \
         -e 's/("started_at": )"[^"]*"/\1"T"/' \
         -e 's/( time=)"[0-9.]+"/\1"D"/g' -e 's/( timestamp=)"[^"]*"/\1"T"/' \
         -e 's/^(pycheck_check_duration_seconds\{[^}]*\}) .*/\1 D/' \
         -e 's/^(pycheck_run_duration_seconds) .*/\1 D/' \
         -e 's/^(pycheck_last_run_timestamp_seconds) .*/\1 T/' \
         -e 's/^(  duration_ms: ).*/\1D/'
}

for name in "${ROOT_NAMES[@]}"; do
  root_ready "$name" || { echo "root $name is not built: run tests/integration/build-roots.sh" >&2; exit 1; }
  for format in text json junit tap prometheus; do
    # Exit codes are part of the report: keep them.
    rc=0
    "$bin" --root "$(root_path "$name")" --env-file "$(root_env "$name")" --now "$now" \
      --timeout 20s --no-color --format "$format" >"$out/$name.$format.raw" 2>"$out/$name.$format.stderr" || rc=$?
    blank_clock <"$out/$name.$format.raw" >"$out/$name.$format"
    echo "exit $rc" >>"$out/$name.$format"
    rm "$out/$name.$format.raw"
  done
  rc=0
  "$bin" --root "$(root_path "$name")" --env-file "$(root_env "$name")" --now "$now" \
    --timeout 20s --no-color --verbose >"$out/$name.text-verbose" 2>&1 || rc=$?
  echo "exit $rc" >>"$out/$name.text-verbose"
done
"$bin" list >"$out/list"
"$bin" list | awk '{print $1}' | while read -r id; do "$bin" explain "$id" >"$out/explain.$id"; done
echo "wrote $(find "$out" -type f | wc -l) files to $out"
