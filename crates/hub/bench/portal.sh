#!/usr/bin/env bash
# The public portal under load with a large ledger: fill a demo hub's ledger with ENTRIES logged
# decisions (POST /v1/requests, limits off), wait for the checkpoint to cover them and for the first
# count of the ledger, then measure GET /, /agencies/oc-sheriff and /transparency with wrk at CONNS
# connections (p50/p99 from wrk --latency), /healthz alongside as the baseline of the same server.
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
t0=$(date +%s.%N)
curl -s -o /dev/null "$URL/"
echo "first count of the ledger (one pass, the first page view waits for it): $(echo "$(date +%s.%N) - $t0" | bc) s"
for path in /healthz / /agencies/oc-sheriff /transparency /healthz; do
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$URL$path")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  printf '%-22s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$path" "$rps" "$p50" "$p99" "${non2xx:-0}"
done
echo "hub RSS: $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$PID/status)"
