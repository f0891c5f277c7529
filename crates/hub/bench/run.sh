#!/usr/bin/env bash
# Hub throughput: logged POST /v1/requests vs bare GET /healthz, same server, same run.
# Usage: crates/hub/bench/run.sh [BIN] [DURATION]   (from the repository root; needs wrk, bc)
# Env: CONNS (64), THREADS (2), ROUNDS (3: healthz, POST, healthz per round, alternating),
#      SOAK=1 for the mixed soak instead (SOAK_DUR, default 600s; RSS sampled every RSS_EVERY s,
#      default 5, into $RSS_LOG, default ./hub-soak-rss.tsv).
#      LIMITS=on (default: the seed world's [limits] raised far above the offered load, so every
#      request passes through the rate limiter and is counted), LIMITS=off (`demo --limits off`), or
#      LIMITS=none (no flag: for a binary from before the limits, to compare side by side).
set -euo pipefail
BIN=${1:-target/release/fusionguard}
DUR=${2:-20s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(mktemp -d "${BENCH_DIR:-$PWD}/hub-bench.XXXXXX")   # on the real disk: fsync is real
LIMITS=${LIMITS:-on}
if [ "$LIMITS" = off ]; then
  LIMIT_ARGS=(--limits off)
elif [ "$LIMITS" = none ]; then
  LIMIT_ARGS=()
else
  mkdir -p "$DATA/config"
  { cat examples/seed-world/deployment.toml
    printf '\n[limits]\ntoken_per_second = 1000000\ntoken_burst = 1000000\nagency_per_second = 1000000\nagency_burst = 1000000\n'
  } > "$DATA/config/deployment.toml"
  LIMIT_ARGS=(--config "$DATA/config")
fi
"$BIN" demo --data "$DATA" --listen 127.0.0.1:0 "${LIMIT_ARGS[@]}" > "$DATA/demo.out" 2>&1 &
PID=$!
trap 'kill -INT $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$DATA/demo.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$DATA/demo.out" | head -1)
export T_DET=$(grep -o 'T_DET_RAMOS=.*' "$DATA/demo.out" | cut -d= -f2)
export T_ERO=$(grep -o 'T_ERO_OFFICER=.*' "$DATA/demo.out" | cut -d= -f2)
export EXAMPLES="$DATA/examples" BODY_FILE="$DATA/examples/8-sheriff-alpr.json" TOKEN="$T_DET"
echo "hub at $URL (limits $LIMITS), data in $DATA, $(nproc) cores, wrk -t$THREADS -c$CONNS, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
cpu() { awk '{print ($14 + $15) / 100}' /proc/$PID/stat; }   # hub CPU seconds (USER_HZ 100)
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
size() { metric fusionguard_ledger_size; }
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -d @"$BODY_FILE" "$URL/v1/requests"   # warm up   # (so that ledger index 0 exists)
if [ "${SOAK:-0}" = 1 ]; then
  RSS_LOG=${RSS_LOG:-$PWD/hub-soak-rss.tsv}
  EVERY=${RSS_EVERY:-5}
  echo "RSS before: $(rss_kb) kB, ledger size $(size)"
  printf 'seconds\trss_kb\tledger_size\n' > "$RSS_LOG"
  start=$(date +%s)
  wrk -t"$THREADS" -c"$CONNS" -d"${SOAK_DUR:-600s}" --timeout 10s --latency -s "$HERE/mixed.lua" "$URL" > "$DATA/wrk.out" &
  W=$!
  while kill -0 $W 2>/dev/null; do
    printf '%s\t%s\t%s\n' "$(( $(date +%s) - start ))" "$(rss_kb)" "$(size)" >> "$RSS_LOG"
    sleep "$EVERY"
  done
  wait $W
  cat "$DATA/wrk.out"
  echo "RSS after: $(rss_kb) kB, ledger size $(size); samples in $RSS_LOG"
  # First/last/max RSS, and the least-squares slope over the second half (after warm-up).
  awk -F'\t' 'BEGIN { n = 0 } NR > 1 { t[n] = $1; r[n] = $2; n++ } END {
    max = 0; for (i = 0; i < n; i++) if (r[i] > max) max = r[i]
    h = int(n / 2); sx = sy = sxy = sxx = 0; m = n - h
    for (i = h; i < n; i++) { sx += t[i]; sy += r[i]; sxy += t[i] * r[i]; sxx += t[i] * t[i] }
    slope = (m > 1) ? (m * sxy - sx * sy) / (m * sxx - sx * sx) : 0
    printf "RSS samples: %d, first %.1f MB, last %.1f MB, max %.1f MB, slope over the second half %.1f kB/min\n",
      n, r[0] / 1024, r[n - 1] / 1024, max / 1024, slope * 60 }' "$RSS_LOG"
  curl -s "$URL/metrics" | grep -E '^fusionguard_(http_responses_total|decisions_total|ledger_)'
  exit 0
fi
# Requests/s, p50 and p99 (in ms) from a wrk --latency report.
parse() {
  awk '/Requests\/sec/ {rps = $2}
       function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)}
       /Non-2xx/ {bad = $NF}
       END {printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad}' "$1"
}
printf 'round\tload1\thealthz/s\tPOST/s\tratio\tPOST p50 ms\tPOST p99 ms\thealthz p99 ms\tPOST non-2xx\tentries added\tgroup commits\thub CPU us/POST\n' > "$DATA/summary.tsv"
for round in $(seq 1 "$ROUNDS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "== round $round: GET /healthz (bare)"
  wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$URL/healthz" | tee "$DATA/h1.out"
  echo "== round $round: POST /v1/requests (permit, durably logged, data released)"
  before=$(size); c0=$(cpu); g0=$(metric fusionguard_ledger_group_commits_total)
  wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s "$HERE/post.lua" "$URL/v1/requests" | tee "$DATA/p.out"
  g1=$(metric fusionguard_ledger_group_commits_total); c1=$(cpu); added=$(( $(size) - before ))
  echo "== round $round: GET /healthz (bare, again)"
  wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$URL/healthz" | tee "$DATA/h2.out"
  read -r h1 _ h1p99 _ < <(parse "$DATA/h1.out")
  read -r h2 _ h2p99 _ < <(parse "$DATA/h2.out")
  read -r p p50 p99 bad < <(parse "$DATA/p.out")
  h=$(( (h1 + h2) / 2 ))
  printf '%s\t%s\t%s\t%s\t%.1f%%\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\n' "$round" "$load" "$h" "$p" "$(echo "100 * $p / $h" | bc -l)" \
    "$p50" "$p99" "$(echo "if ($h1p99 > $h2p99) $h1p99 else $h2p99" | bc -l)" "$bad" "$added" "$(( g1 - g0 ))" \
    "$(echo "1000000 * ($c1 - $c0) / $added" | bc -l)" >> "$DATA/summary.tsv"
done
curl -s "$URL/metrics" | grep -E '^fusionguard_(http_responses_total|ledger_)'
echo "== summary (healthz/s: mean of the runs before and after the POST run; load1 at the round's start; now $(cut -d' ' -f1-3 /proc/loadavg))"
column -t -s $'\t' "$DATA/summary.tsv"
