#!/usr/bin/env bash
# The oversight benchmark: `fusionguard audit searches` against DuckDB running the same
# regular-expression classification over the same CSV, and against DuckDB counting the rows whose
# reason matches one immigration regular expression, alternating, in one run.
# Usage: crates/oversight/bench/run.sh [BIN] [WORKDIR]   (BIN defaults to target/release/fusionguard)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${1:-target/release/fusionguard}
WORK=${2:-target/oversight-bench}
REAL=../shared/data/flock/okaloosa-fl-org-audit-2025-11.csv
mkdir -p "$WORK"
for mb in 25 250; do
  [ -f "$WORK/audit-$mb.csv" ] || python3 crates/oversight/bench/gen_audit.py "$REAL" "$WORK/audit-$mb.csv" "$mb"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for mb in 25 250; do
  echo "input: $WORK/audit-$mb.csv ($(du -m "$WORK/audit-$mb.csv" | cut -f1) MB, $(($(wc -l < "$WORK/audit-$mb.csv") - 1)) rows)"
  for round in 1 2 3; do
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "fusionguard round $round: %e s wall, %U s user + %S s sys, %M KB peak RSS" \
      "$BIN" audit searches "$WORK/audit-$mb.csv" --format jsonl --no-progress > "$WORK/findings-$mb.jsonl"
    python3 crates/oversight/bench/duckdb_audit.py "$WORK/audit-$mb.csv" "$WORK/duckdb-$mb.csv" | sed "s/^/duckdb (same classification) round $round: /"
    python3 crates/oversight/bench/duckdb_count.py "$WORK/audit-$mb.csv" | sed "s/^/duckdb (one regex, count) round $round: /"
  done
  echo "fusionguard findings: $(wc -l < "$WORK/findings-$mb.jsonl") lines, $(du -m "$WORK/findings-$mb.jsonl" | cut -f1) MB"
done
