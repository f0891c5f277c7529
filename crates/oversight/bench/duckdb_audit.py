#!/usr/bin/env python3
"""The DuckDB side of the oversight benchmark: the same classification as `fusionguard audit
searches` (immigration vocabulary, protected activity, vague reason without an identifier, wide
search; the three time columns parsed) as regular expressions in one SQL query over the CSV,
written to OUT_CSV. Prints the rows written, the seconds taken and the CPU seconds (all threads)
of the query.

Usage: duckdb_audit.py AUDIT_CSV OUT_CSV

The vocabularies are read from the Rust sources (policy's justification.rs, oversight's vocab.rs)
so both sides look for the same phrases. Differences, all in DuckDB's favour: no negation handling,
one flag per class instead of a finding with evidence and citation, and no per-row rejection report.
"""
import os
import re
import sys
import time

import duckdb

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def phrases(path, pattern):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return re.findall(pattern, f.read())


def alternation(words):
    body = "|".join(sorted({w.replace(" ", "[^a-z0-9]+") for w in words}, key=len, reverse=True))
    return f"(^|[^a-z0-9])({body})([^a-z0-9]|$)"


def main():
    src, out = sys.argv[1], sys.argv[2]
    immigration = phrases("crates/policy/src/justification.rs", r'\("([a-z0-9 ]+)", Signal::(?:Strong|Weak)\)')
    vocab_rs = "crates/oversight/src/vocab.rs"
    protected = phrases(vocab_rs, r'\("([a-z0-9 ]+)", "[a-z -]+"\)')
    with open(os.path.join(ROOT, vocab_rs), encoding="utf-8") as f:
        text = f.read()
    vague_block = text[text.index("pub const VAGUE"):text.index("];", text.index("pub const VAGUE"))]
    vague = re.findall(r'"([a-z]+)"', vague_block)
    vague_re = "^[^a-z0-9]*((" + "|".join(vague) + "|inv[a-z0-9]*)([^a-z0-9]+|$))*$"
    fmt = "%m/%d/%Y, %I:%M:%S %p UTC"
    sql = f"""
    COPY (
      SELECT ID, imm, prot, vague, wide FROM (
        SELECT ID,
          regexp_matches(lower(coalesce(Reason, '')), '{alternation(immigration)}') AS imm,
          regexp_matches(lower(coalesce(Reason, '')), '{alternation(protected)}') AS prot,
          regexp_full_match(lower(coalesce(Reason, '')), '{vague_re}')
            AND NOT regexp_matches(lower(coalesce(Reason, '')), '[0-9][a-z]*[0-9][a-z]*[0-9]') AS vague,
          (Total_Networks_Searched >= 100 OR Total_Devices_Searched >= 1000) AS wide,
          strptime(Search_Time, '{fmt}') AS t0,
          strptime(Time_Frame_Start, '{fmt}') AS t1,
          strptime(Time_Frame_End, '{fmt}') AS t2
        FROM read_csv('{src}', header = true, columns = {{
          'ID': 'VARCHAR', 'Org_Name': 'VARCHAR', 'Total_Networks_Searched': 'BIGINT',
          'Total_Devices_Searched': 'BIGINT', 'Time_Frame_Start': 'VARCHAR', 'Time_Frame_End': 'VARCHAR',
          'Reason': 'VARCHAR', 'Search_Time': 'VARCHAR', 'Search_Type': 'VARCHAR', 'Moderation': 'VARCHAR'}})
      ) WHERE imm OR prot OR vague OR wide
    ) TO '{out}' (HEADER, DELIMITER ',')
    """
    con = duckdb.connect()
    start, cpu = time.perf_counter(), time.process_time()
    con.execute(sql)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows = con.execute(f"SELECT count(*), sum(imm::INT), sum(prot::INT), sum(vague::INT), sum(wide::INT) FROM read_csv('{out}')").fetchone()
    print(f"duckdb {duckdb.__version__} threads={con.execute('SELECT current_setting(' + chr(39) + 'threads' + chr(39) + ')').fetchone()[0]}: "
          f"{elapsed:.2f} s ({cpu:.2f} s CPU); rows flagged {rows[0]}, immigration {rows[1]}, protected {rows[2]}, vague {rows[3]}, wide {rows[4]}")


if __name__ == "__main__":
    main()
