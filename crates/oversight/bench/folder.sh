#!/usr/bin/env bash
# The national-scale figure: `fusionguard audit searches` over a folder of four 250 MB exports
# (about 1 GB, 6.2 million searches, distinct ids), findings written as Parquet: wall time, CPU,
# peak memory, and the Parquet file's size. Then the same folder with one export present twice
# (the duplicate recognised by search ID and counted once).
# Usage: crates/oversight/bench/folder.sh [BIN] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${1:-target/release/fusionguard}
WORK=${2:-target/oversight-bench}
REAL=../shared/data/flock/okaloosa-fl-org-audit-2025-11.csv
DIR="$WORK/folder-1g"
mkdir -p "$DIR"
for seed in 1 2 3 4; do
  [ -f "$DIR/export-$seed.csv" ] || python3 crates/oversight/bench/gen_audit.py "$REAL" "$DIR/export-$seed.csv" 250 "$seed"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $DIR ($(du -cm "$DIR"/*.csv | tail -1 | cut -f1) MB, $(cat "$DIR"/*.csv | wc -l) lines)"
for round in 1 2; do
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "parquet round $round: %e s wall, %U s user + %S s sys, %M KB peak RSS" \
    "$BIN" audit searches "$DIR" --format parquet --out "$WORK/folder.parquet" --no-progress > "$WORK/folder-summary.txt"
  echo "parquet: $(du -m "$WORK/folder.parquet" | cut -f1) MB"
done
head -12 "$WORK/folder-summary.txt"
cp "$DIR/export-1.csv" "$DIR/export-1-again.csv"
/usr/bin/time -f "with a duplicate export: %e s wall, %U s user + %S s sys, %M KB peak RSS" \
  "$BIN" audit searches "$DIR" --format parquet --out "$WORK/folder.parquet" --no-progress | grep -i "copies of a search"
rm "$DIR/export-1-again.csv"
