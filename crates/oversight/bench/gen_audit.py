#!/usr/bin/env python3
"""Writes a synthetic Flock organization audit in the Okaloosa schema, for the benchmark.

Usage: gen_audit.py REAL_OKALOOSA_CSV OUT_CSV TARGET_MB [SEED]

Rows are drawn from the real export's rows (reasons, network and device counts, search types,
moderation) with fresh ids and shifted times, so the text the detectors read has the real
distribution; one row in 2,000 gets an immigration reason and one in 5,000 a protest reason, so
those detectors have something to find. Deterministic for a given seed.
"""
import csv
import random
import sys
import uuid
from datetime import datetime, timedelta

FMT = "%m/%d/%Y, %I:%M:%S %p UTC"
IMMIGRATION = ["ICE+ERO", "ICE WARRANT", "assist HSI", "CBP request", "287g task force", "removal order",
               "Immigration (civil/administrative)"]
PROTEST = ["protest at courthouse", "No Kings rally", "church vigil"]


def main():
    src, out, target_mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    with open(src, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    target = int(target_mb * 1024 * 1024)
    written = 0
    n = 0
    base = datetime(2025, 1, 1)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        while written < target:
            r = list(rng.choice(rows))
            n += 1
            t = base + timedelta(seconds=n * 20 + rng.randrange(20))
            r[0] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            r[4] = (t - timedelta(hours=12)).strftime(FMT)
            r[5] = (t + timedelta(hours=12)).strftime(FMT)
            r[7] = t.strftime(FMT)
            x = rng.random()
            if x < 1 / 2000:
                r[6] = rng.choice(IMMIGRATION)
            elif x < 1 / 2000 + 1 / 5000:
                r[6] = rng.choice(PROTEST)
            line = ",".join(r)
            written += len(line) + 1
            w.writerow(r)
    print(f"{out}: {n} rows, {written / 1048576:.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
