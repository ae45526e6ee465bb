#!/usr/bin/env bash
# Load benchmark of `pycheck serve` (not a test): wrk on /readyz and /metrics
# against the base integration root, with the server's RSS before and after.
#
#   tests/bench/serve-load.sh [PYCHECK_BINARY]     (default: build-static/pycheck)
#
# Environment:
#   SERVE_BENCH_SECONDS      wrk duration per endpoint (default 15: about 1M requests
#                            in all at 30k req/s); e.g. 3 for a quick CI run
#   SERVE_BENCH_CONNECTIONS  wrk connections (default 64); wrk uses 2 threads
#   SERVE_BENCH_STRICT=1     exit 1 when a goal is missed (default: report only;
#                            a busy 2-core machine makes the figures noisy)
#   PYCHECK_CACHE_DIR        caches (default /var/cache/pycheck); the integration
#                            roots are in roots/ there (tests/integration/build-roots.sh)
#
# Goals: >= 20000 req/s and p99 <= 5 ms per endpoint, RSS flat: it grows by at
# most 2 MiB from after a warm-up to the end (a background run in between moves
# it by about that much; a leak of even a small allocation per request would
# add tens of MiB over 1M requests). Needs the Debian package wrk.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BINARY="${1:-$SRC/build-static/pycheck}"
SECONDS_PER_ENDPOINT="${SERVE_BENCH_SECONDS:-15}"
CONNECTIONS="${SERVE_BENCH_CONNECTIONS:-64}"
# shellcheck source=tests/integration/roots.sh
source "$SRC/tests/integration/roots.sh"
ROOTS="$ROOTS_DIR"
MIN_RPS=20000
MAX_P99_MS=5
MAX_RSS_GROWTH_KB=2048

die() {
  echo "serve-load: error: $*" >&2
  exit 1
}
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
[[ -x "$BINARY" ]] || die "no pycheck binary at $BINARY"
[[ -d "$ROOTS/base" && -f "$ROOTS/base.env" ]] ||
  die "no base root in $ROOTS (run tests/integration/build-roots.sh)"

work="$(mktemp -d /tmp/pycheck-serve-bench.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$BINARY" serve --listen 127.0.0.1:0 --root "$ROOTS/base" --env-file "$ROOTS/base.env" \
  2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 100); do
  port="$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/server.log")"
  [[ -n "$port" ]] && grep -q "offline run in " "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || die "server exited: $(cat "$work/server.log")"
  sleep 0.1
done
[[ -n "$port" ]] || die "server did not start: $(cat "$work/server.log")"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status"; }
# wrk's latency figures come with a unit: 850.00us, 1.23ms, 1.01s.
to_ms() { awk -v v="$1" 'BEGIN {
  if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
  else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
  else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
  else print "nan" }'; }

missed=0
total_requests=0
run_wrk() {  # $1 = path, $2 = seconds; sets rps, p50_ms, p99_ms, requests
  local out="$work/wrk.out"
  wrk -t2 -c"$CONNECTIONS" -d"${2}s" --latency "http://127.0.0.1:$port$1" >"$out" 2>&1 ||
    die "wrk failed: $(cat "$out")"
  if grep -qE 'Non-2xx or 3xx responses|Socket errors' "$out"; then
    cat "$out" >&2
    die "errors under load on $1"
  fi
  rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")"
  p50_ms="$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")"
  p99_ms="$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
  requests="$(awk '/requests in/ {print $1}' "$out")"
}

echo "serve-load: $BINARY on 127.0.0.1:$port, root $ROOTS/base, wrk -t2 -c$CONNECTIONS," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm-up: worker threads, connection pools, allocator arenas.
run_wrk /readyz 2
run_wrk /metrics 2
rss_before="$(rss_kb)"
printf '%-10s %10s %10s %10s %10s %12s\n' endpoint requests "req/s" "p50 ms" "p99 ms" "RSS KiB"
printf '%-10s %10s %10s %10s %10s %12s\n' "(start)" - - - - "$rss_before"
for path in /readyz /metrics; do
  run_wrk "$path" "$SECONDS_PER_ENDPOINT"
  total_requests=$((total_requests + requests))
  printf '%-10s %10s %10s %10s %10s %12s\n' "$path" "$requests" "$rps" "$p50_ms" "$p99_ms" "$(rss_kb)"
  if ((rps < MIN_RPS)); then
    echo "  MISSED: $path $rps req/s < $MIN_RPS"
    missed=1
  fi
  if awk -v p="$p99_ms" -v max="$MAX_P99_MS" 'BEGIN {exit !(p > max)}'; then
    echo "  MISSED: $path p99 $p99_ms ms > $MAX_P99_MS ms"
    missed=1
  fi
done
rss_after="$(rss_kb)"
growth=$((rss_after - rss_before))
echo "RSS: $rss_before KiB before, $rss_after KiB after $total_requests requests" \
  "(growth $growth KiB, peak $(hwm_kb) KiB)"
if ((growth > MAX_RSS_GROWTH_KB)); then
  echo "  MISSED: RSS grew $growth KiB > $MAX_RSS_GROWTH_KB KiB"
  missed=1
fi
runs="$(grep -cE '(offline|online) run in ' "$work/server.log" || true)"
echo "server log: $runs run line(s), $(wc -l <"$work/server.log") line(s) in all (none per request)"

kill -TERM "$server_pid"
stop_start=$(date +%s%N)
code=0
wait "$server_pid" || code=$?
server_pid=""
echo "SIGTERM: exit $code in $((($(date +%s%N) - stop_start) / 1000000)) ms"
((code == 0)) || die "serve exited $code on SIGTERM"

if ((missed)); then
  echo "serve-load: some goals missed (>= $MIN_RPS req/s, p99 <= $MAX_P99_MS ms, RSS flat)"
  if [[ "${SERVE_BENCH_STRICT:-0}" == 1 ]]; then exit 1; fi
else
  echo "serve-load: all goals met (>= $MIN_RPS req/s, p99 <= $MAX_P99_MS ms, RSS flat)"
fi
