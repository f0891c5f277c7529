#!/usr/bin/env bash
# The public portal under load with a large ledger: fill a demo hub's ledger with ENTRIES logged
# decisions (POST /v1/requests, limits off; no page is read meanwhile, so the hub's count rests), read
# one page and time the count catching up with the checkpoint, then measure GET /,
# /agencies/oc-sheriff and /transparency with wrk at CONNS connections (p50/p99 from wrk --latency),
# /healthz alongside as the baseline of the same server. Last, writes go on for DURATION while the count's lag behind the checkpoint is sampled every
# second (from /metrics), and the entries the count read are compared with the ledger's size.
# Usage: crates/hub/bench/portal.sh [BIN] [ENTRIES] [DURATION]   (from the repository root; needs wrk)
# Env: CONNS (64), THREADS (2), FILL_CONNS (64).
set -euo pipefail
BIN=${1:-target/release/fusionguard}
ENTRIES=${2:-1000000}
DUR=${3:-15s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
FILL_CONNS=${FILL_CONNS:-64}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(mktemp -d "${BENCH_DIR:-$PWD}/portal-bench.XXXXXX")
"$BIN" demo --data "$DATA" --listen 127.0.0.1:0 --limits off > "$DATA/demo.out" 2>&1 &
PID=$!
trap 'kill -INT $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$DATA/demo.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$DATA/demo.out" | head -1)
export TOKEN=$(grep -o 'T_DET_RAMOS=.*' "$DATA/demo.out" | cut -d= -f2)
export BODY_FILE="$DATA/examples/8-sheriff-alpr.json"
size() { curl -s "$URL/ledger/checkpoint" | sed -n 2p; }
echo "hub at $URL, $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
while [ "$(size)" -lt "$ENTRIES" ]; do
  wrk -t"$THREADS" -c"$FILL_CONNS" -d10s -s "$HERE/post.lua" "$URL/v1/requests" > /dev/null
  echo "  ledger: $(size) entries after $(( $(date +%s) - start )) s"
done
echo "filled: $(size) entries in $(( $(date +%s) - start )) s; ledger on disk: $(du -sh "$DATA/ledger" | cut -f1)"
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# No page was read during the fill, so the count rested; the first page view starts it catching up.
t0=$(date +%s.%N)
curl -s -o /dev/null "$URL/"
while [ "$(metric fusionguard_transparency_counted_size)" != "$(size)" ]; do sleep 0.1; done
echo "count caught up with the checkpoint $(echo "$(date +%s.%N) - $t0" | bc) s after the first page view; entries read by the count: $(metric fusionguard_transparency_entries_counted_total)"
for path in /healthz / /agencies/oc-sheriff /transparency /healthz; do
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$URL$path")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  printf '%-22s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$path" "$rps" "$p50" "$p99" "${non2xx:-0}"
done
echo "hub RSS: $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$PID/status)"
# The count under a steady write load: lag = checkpoint size - counted size, sampled each second.
wrk -t"$THREADS" -c"$FILL_CONNS" -d"$DUR" -s "$HERE/post.lua" "$URL/v1/requests" > "$DATA/follow.out" &
WRK=$!
lags=()
while kill -0 $WRK 2>/dev/null; do
  lags+=($(( $(metric fusionguard_ledger_checkpoint_size) - $(metric fusionguard_transparency_counted_size) )))
  sleep 1
done
wait $WRK || true
posts=$(awk '/Requests\/sec/ {print $2}' "$DATA/follow.out")
max=$(printf '%s\n' "${lags[@]}" | sort -n | tail -1)
mean=$(printf '%s\n' "${lags[@]}" | awk '{s += $1} END {printf "%.0f", s / NR}')
echo "following writes ($posts POST/s for $DUR): count lag behind the checkpoint, entries: mean $mean, max $max (${#lags[@]} samples)"
while [ "$(metric fusionguard_transparency_counted_size)" != "$(size)" ]; do sleep 0.1; done
echo "ledger $(size) entries; entries read by the count since start: $(metric fusionguard_transparency_entries_counted_total); count failures: $(metric fusionguard_transparency_count_failures_total)"
echo "hub RSS: $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$PID/status)"
