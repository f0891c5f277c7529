#!/usr/bin/env bash
# Two builds of `fusionguard audit searches` and DuckDB's count (the issue's baseline) on one
# file, alternating, round by round: wall and CPU seconds of each, and whether the two builds'
# findings are byte for byte the same. Outputs are removed before each run, so that no run pays
# for truncating the last one's.
# Usage: crates/oversight/bench/compare.sh BEFORE_BIN AFTER_BIN AUDIT_CSV [ROUNDS] [WORKDIR]
set -euo pipefail
BEFORE=${1:?usage: compare.sh BEFORE_BIN AFTER_BIN AUDIT_CSV [ROUNDS] [WORKDIR]}
AFTER=${2:?usage: compare.sh BEFORE_BIN AFTER_BIN AUDIT_CSV [ROUNDS] [WORKDIR]}
CSV=${3:?usage: compare.sh BEFORE_BIN AFTER_BIN AUDIT_CSV [ROUNDS] [WORKDIR]}
ROUNDS=${4:-5}
WORK=${5:-$(dirname "$CSV")}
HERE=$(cd "$(dirname "$0")" && pwd)
for f in "$BEFORE" "$AFTER" "$CSV"; do
  [ -e "$f" ] || { echo "compare.sh: $f does not exist" >&2; exit 2; }
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $CSV ($(du -m "$CSV" | cut -f1) MB)"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
  for which in before after; do
    bin=$BEFORE; [ "$which" = after ] && bin=$AFTER
    rm -f "$WORK/findings-$which.jsonl"
    sync
    /usr/bin/time -f "  $which: %e s wall, %U s user + %S s sys, %M KB peak RSS" \
      "$bin" audit searches "$CSV" --format jsonl --no-progress > "$WORK/findings-$which.jsonl"
  done
  # The query's own seconds (what the issue's target compares with), and the whole process
  # (Python, `import duckdb`, the query) for reference.
  /usr/bin/time -f "  duckdb count (whole process): %e s wall, %U s user + %S s sys" \
    python3 "$HERE/duckdb_count.py" "$CSV" 2>&1 | sed 's/^\([0-9]\)/  duckdb count (query): \1/'
  cmp -s "$WORK/findings-before.jsonl" "$WORK/findings-after.jsonl" && echo "  findings: identical" || echo "  findings: DIFFER"
done
echo "findings: $(wc -l < "$WORK/findings-after.jsonl") lines, $(du -m "$WORK/findings-after.jsonl" | cut -f1) MB"
