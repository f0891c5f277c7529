#!/usr/bin/env python3
"""The issue's baseline: DuckDB counting the rows of a search audit whose reason matches one
immigration regular expression (`read_csv(..., all_varchar=true)` and
`regexp_matches(lower(Reason), ...)`). Prints the count, the query's wall seconds and its CPU
seconds (all threads).

Usage: duckdb_count.py AUDIT_CSV
"""
import os
import sys
import time

import duckdb

PATTERN = r"(^|[^a-z0-9])(ice|immigration|deport[a-z]*|hsi|ero|removal|287 ?g|detainer|cbp|border patrol)([^a-z0-9]|$)"


def main():
    src = sys.argv[1]
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count()}")
    cpu0, t0 = time.process_time(), time.perf_counter()
    (n,) = con.execute(
        f"SELECT count(*) FROM read_csv('{src}', header = true, all_varchar = true) "
        f"WHERE regexp_matches(lower(Reason), '{PATTERN}')"
    ).fetchone()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"{n} rows, {wall:.2f} s wall, {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
