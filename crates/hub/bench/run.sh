#!/usr/bin/env bash
# Hub throughput: logged POST /v1/requests vs bare GET /healthz, same server, same run.
# Usage: crates/hub/bench/run.sh [BIN] [DURATION]   (from the repository root; needs wrk)
# Env: CONNS (64), THREADS (2), SOAK=1 for the 10-minute mixed soak instead.
set -euo pipefail
BIN=${1:-target/release/fusionguard}
DUR=${2:-20s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(mktemp -d "${BENCH_DIR:-$PWD}/hub-bench.XXXXXX")   # on the real disk: fsync is real
"$BIN" demo --data "$DATA" --listen 127.0.0.1:0 > "$DATA/demo.out" 2>&1 &
PID=$!
trap 'kill -INT $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$DATA/demo.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$DATA/demo.out" | head -1)
export T_DET=$(grep -o 'T_DET_RAMOS=.*' "$DATA/demo.out" | cut -d= -f2)
export T_ERO=$(grep -o 'T_ERO_OFFICER=.*' "$DATA/demo.out" | cut -d= -f2)
export EXAMPLES="$DATA/examples" BODY_FILE="$DATA/examples/8-sheriff-alpr.json" TOKEN="$T_DET"
echo "hub at $URL, data in $DATA, $(nproc) cores, wrk -t$THREADS -c$CONNS"
cpu() { awk '{print ($14 + $15) / 100}' /proc/$PID/stat; }   # hub CPU seconds (USER_HZ 100)
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$PID/status; }
size() { curl -s "$URL/metrics" | awk '/^fusionguard_ledger_size / {print $2}'; }
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -d @"$BODY_FILE" "$URL/v1/requests"   # warm up   # (so that ledger index 0 exists)
if [ "${SOAK:-0}" = 1 ]; then
  echo "RSS before: $(rss), ledger size $(size)"
  wrk -t"$THREADS" -c"$CONNS" -d"${SOAK_DUR:-600s}" --latency -s "$HERE/mixed.lua" "$URL" &
  W=$!
  while kill -0 $W 2>/dev/null; do sleep 60; echo "t+60s RSS $(rss), ledger size $(size)"; done
  wait $W
  echo "RSS after: $(rss), ledger size $(size)"
  curl -s "$URL/metrics" | grep -E '^fusionguard_(http_responses_total|decisions_total|ledger_)'
  exit 0
fi
echo "== GET /healthz (bare)"
c0=$(cpu)
wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$URL/healthz"
echo "hub CPU: $(echo "$(cpu) - $c0" | bc) s"
echo "== POST /v1/requests (permit, durably logged, data released)"
before=$(size); c0=$(cpu); g0=$(curl -s "$URL/metrics" | awk '/^fusionguard_ledger_group_commits_total/ {print $2}')
wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$HERE/post.lua" "$URL/v1/requests"
g1=$(curl -s "$URL/metrics" | awk '/^fusionguard_ledger_group_commits_total/ {print $2}')
echo "ledger entries added: $(( $(size) - before )) in $(( g1 - g0 )) group commits; hub CPU: $(echo "$(cpu) - $c0" | bc) s"
echo "== GET /healthz (bare, again)"
wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$URL/healthz"
curl -s "$URL/metrics" | grep -E '^fusionguard_(http_responses_total|ledger_)'
