#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/CMakeLists.txt, clang + ASan +
# UBSan), gathers seed corpora (seeds.sh), replays the committed regression
# inputs (tests/fuzz/regressions/<target>/*), then fuzzes every target for
# FUZZ_SECONDS and prints a table: target | executions | exec/s | corpus | result.
# Exits non-zero on any crash, leak, timeout or out-of-memory; the input that
# caused it is saved as build-fuzz/artifacts/<target>-<kind>-<sha1>.
#
#   bash tests/fuzz/run.sh                              # CI: ~20 s per target, 2 at a time
#   FUZZ_SECONDS=600 bash tests/fuzz/run.sh             # a longer local run
#   FUZZ_TARGETS="elf ld_so_cache" FUZZ_SECONDS=300 bash tests/fuzz/run.sh
#   build-fuzz/fuzz_elf build-fuzz/artifacts/elf-crash-...   # reproduce one input
#
# Settings (environment): FUZZ_SECONDS (20), FUZZ_JOBS (2 targets at a time),
# FUZZ_TARGETS (default: all), FUZZ_BUILD_DIR (build-fuzz), PYCHECK_CACHE_DIR
# (default /var/cache/pycheck): the seeds come from the integration roots in
# roots/ there, and the corpus is kept in fuzz/corpus/<target> there, so each
# run, CI's included, starts from what the earlier ones found.
# Needs: clang, libclang-rt-14-dev (libFuzzer), cmake, ninja, and the -dev
# packages the main build uses (mbedTLS, zlib, liblzma, liblz4, libzstd, nlohmann-json).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-2}
build=${FUZZ_BUILD_DIR:-build-fuzz}
fuzz_dir=tests/fuzz
# shellcheck source=tests/integration/roots.sh
source tests/integration/roots.sh
corpus_dir=$PYCHECK_CACHE_DIR/fuzz/corpus

echo "== building fuzz targets in $build"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$fuzz_dir" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  "${launcher[@]}" >/dev/null
if ! ninja -C "$build" >"$build/build.log" 2>&1; then
  tail -n 40 "$build/build.log" >&2  # ninja reports compile and link errors on stdout
  exit 1
fi

targets=${FUZZ_TARGETS:-$(cat "$build/targets.txt")}

echo "== seeds"
bash "$fuzz_dir/seeds.sh" "$build/seeds" >"$build/seeds.log"
grep -E '^  [a-z_0-9]+ +[0-9]+ seeds' "$build/seeds.log" | sed 's/^/  /' || true

# Per-target options: how long an input may be, and the dictionary.
max_len() {
  case $1 in
    duration) echo 64 ;;
    debian_version | apt_list_files) echo 512 ;;
    shebang) echo 1024 ;;
    cpython_layout) echo 2048 ;;
    config | environment | os_release | pip_config | pyvenv_cfg) echo 4096 ;;
    locale_name | health_endpoints) echo 8192 ;;
    apt_packages | apt_sources | deb822 | dist_info | dpkg_status | netdb | pem_bundle | pip_index) echo 16384 ;;
    apt_release | decompress | elf | ld_so_cache) echo 65536 ;;
    locale_archive) echo 262144 ;;
    *) echo 16384 ;;
  esac
}
dict_for() {
  local d
  case $1 in
    apt_packages | apt_release | apt_sources | deb822 | dpkg_status) d=deb822 ;;
    *) d=$1 ;;
  esac
  [ -f "$fuzz_dir/dict/$d.dict" ] && echo "-dict=$fuzz_dir/dict/$d.dict"
  return 0
}

mkdir -p "$build/artifacts" "$build/logs" "$build/results"
rm -f "$build"/results/*

# Replays the committed regression inputs: each must now run clean.
echo "== regression inputs"
failed_replay=0
for t in $targets; do
  dir=$fuzz_dir/regressions/$t
  [ -d "$dir" ] || continue
  files=("$dir"/*)
  [ -e "${files[0]}" ] || continue
  if "$build/fuzz_$t" -rss_limit_mb=2048 -timeout=10 "${files[@]}" >"$build/logs/$t.replay.log" 2>&1; then
    echo "  $t: ${#files[@]} inputs ok"
  else
    echo "  $t: FAILED (see $build/logs/$t.replay.log)"
    failed_replay=1
  fi
done

run_target() {
  local t=$1 log=$build/logs/$t.log corpus=$corpus_dir/$t rc=0 result
  mkdir -p "$corpus" "$build/seeds/$t"
  # shellcheck disable=SC2046
  timeout --kill-after=10 $((seconds + 120)) "$build/fuzz_$t" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" $(dict_for "$t") \
    "$corpus" "$build/seeds/$t" >"$log" 2>&1 || rc=$?
  local execs rate
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then  # crashed before the final stats: the last status line
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    rate=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  fi
  if ((rc == 0)); then
    result=ok
  elif grep -q 'ERROR: LeakSanitizer' "$log"; then
    result=LEAK
  elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then
    result=TIMEOUT
  elif grep -q 'out-of-memory' "$log"; then
    result=OOM
  elif grep -q 'invariant failed' "$log"; then
    result=INVARIANT
  else
    result=CRASH
  fi
  local artifact
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${execs:-0}" "${rate:-0}" \
    "$(find "$corpus" -type f | wc -l)" "$result" "$artifact" >"$build/results/$t.tsv"
}

count=$(wc -w <<<"$targets")
echo "== fuzzing $count targets, ${seconds} s each, $jobs at a time"
started=$SECONDS
running=0
for t in $targets; do
  run_target "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

status=$failed_replay
printf '\n%-18s %12s %8s %8s  %s\n' target executions exec/s corpus result
for t in $targets; do
  if [ ! -f "$build/results/$t.tsv" ]; then
    printf '%-18s %12s %8s %8s  %s\n' "$t" - - - "NOT RUN"
    status=1
    continue
  fi
  IFS=$'\t' read -r name execs rate corpus result artifact <"$build/results/$t.tsv"
  printf '%-18s %12s %8s %8s  %s\n' "$name" "$execs" "$rate" "$corpus" "$result"
  if [ "$result" != ok ]; then
    status=1
    echo "    log: $build/logs/$t.log${artifact:+; input: $artifact}"
    grep -m3 -E 'ERROR:|runtime error|invariant failed|SUMMARY' "$build/logs/$t.log" | sed 's/^/    /' || true
  fi
done
echo "fuzzing took $((SECONDS - started)) s"
exit "$status"
