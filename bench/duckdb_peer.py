#!/usr/bin/env python3
"""duckdb_peer.py: the DuckDB peer of the ingest benchmark.

Reads one koku raw hourly pod_usage Parquet file (e.g. from `kokugen --pod-rows N`),
projecting only the columns it needs, and runs the two GROUP BYs that the ingest does
(spec shared/spec/koku-ocp-daily-summary.md §2.2 and §4.4):

  (a) pod daily roll-up: per (day of interval_start, namespace, node, pod, pod_labels):
      sum of pod usage/request/limit/effective cpu core-seconds and memory byte-seconds,
      max resource_id, max node_capacity_cpu_cores, max node_capacity_memory_bytes, max node_role;
  (b) node capacity per hour: per (interval_start, node): max node_capacity_cpu_core_seconds
      and max node_capacity_memory_byte_seconds.

Both results are materialised as temp tables. `seconds` covers connect -> both tables
materialised (counting the rows of the results included); reading the input's row count and
VmHWM are outside it. Prints one JSON line:

  {"engine":"duckdb","threads":1,"rows_in":...,"pod_groups":...,"node_hours":...,
   "seconds":...,"vmhwm_kib":...,  + extra detail fields}

`vmhwm_kib` is VmHWM (peak RSS of this process) from /proc/self/status at the end, so it
includes the Python interpreter and the duckdb module (`vmhwm_import_kib` is the level after
import, before any query). With --copy-to-postgres DSN, result (a) is also COPYed into a
PostgreSQL temp table with psycopg (3); that step is timed separately (`copy_seconds`) and
runs after `vmhwm_kib` is read.

Usage: python3 bench/duckdb_peer.py FILE [--threads 1] [--copy-to-postgres DSN]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

POD_DAILY_SQL = """
CREATE TEMP TABLE pod_daily AS
SELECT
    date_trunc('day', interval_start)            AS interval_start,
    namespace,
    node,
    pod,
    pod_labels,
    sum(pod_usage_cpu_core_seconds)              AS pod_usage_cpu_core_seconds,
    sum(pod_request_cpu_core_seconds)            AS pod_request_cpu_core_seconds,
    sum(pod_effective_usage_cpu_core_seconds)    AS pod_effective_usage_cpu_core_seconds,
    sum(pod_limit_cpu_core_seconds)              AS pod_limit_cpu_core_seconds,
    sum(pod_usage_memory_byte_seconds)           AS pod_usage_memory_byte_seconds,
    sum(pod_request_memory_byte_seconds)         AS pod_request_memory_byte_seconds,
    sum(pod_effective_usage_memory_byte_seconds) AS pod_effective_usage_memory_byte_seconds,
    sum(pod_limit_memory_byte_seconds)           AS pod_limit_memory_byte_seconds,
    max(resource_id)                             AS resource_id,
    max(node_capacity_cpu_cores)                 AS node_capacity_cpu_cores,
    max(node_capacity_memory_bytes)              AS node_capacity_memory_bytes,
    max(node_role)                               AS node_role
FROM read_parquet({src}, hive_partitioning = false)
GROUP BY 1, 2, 3, 4, 5
"""

NODE_HOUR_SQL = """
CREATE TEMP TABLE node_hour AS
SELECT
    interval_start,
    node,
    max(node_capacity_cpu_core_seconds)    AS node_capacity_cpu_core_seconds,
    max(node_capacity_memory_byte_seconds) AS node_capacity_memory_byte_seconds
FROM read_parquet({src}, hive_partitioning = false)
GROUP BY 1, 2
"""

POD_DAILY_COLUMNS = [
    ("interval_start", "timestamp"),
    ("namespace", "text"),
    ("node", "text"),
    ("pod", "text"),
    ("pod_labels", "jsonb"),
    ("pod_usage_cpu_core_seconds", "double precision"),
    ("pod_request_cpu_core_seconds", "double precision"),
    ("pod_effective_usage_cpu_core_seconds", "double precision"),
    ("pod_limit_cpu_core_seconds", "double precision"),
    ("pod_usage_memory_byte_seconds", "double precision"),
    ("pod_request_memory_byte_seconds", "double precision"),
    ("pod_effective_usage_memory_byte_seconds", "double precision"),
    ("pod_limit_memory_byte_seconds", "double precision"),
    ("resource_id", "text"),
    ("node_capacity_cpu_cores", "double precision"),
    ("node_capacity_memory_bytes", "double precision"),
    ("node_role", "text"),
]


def vm_kib(field: str) -> int | None:
    """A Vm* field of /proc/self/status in KiB (None where /proc is not available)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def copy_to_postgres(con, dsn: str) -> dict:
    try:
        import psycopg  # noqa: PLC0415 (optional dependency)
    except ImportError:
        print("duckdb_peer: --copy-to-postgres needs psycopg (pip install 'psycopg[binary]')", file=sys.stderr)
        raise SystemExit(2)
    names = ", ".join(n for n, _ in POD_DAILY_COLUMNS)
    ddl = ", ".join(f"{n} {t}" for n, t in POD_DAILY_COLUMNS)
    started = time.perf_counter()
    rows = con.execute("SELECT count(*) FROM pod_daily").fetchone()[0]
    # DuckDB writes CSV in PostgreSQL's CSV dialect: '' is "", NULL is an empty field, doubles
    # in shortest round-trip form. Stream it to COPY FROM STDIN in 1 MiB pieces.
    fd, csv_path = tempfile.mkstemp(prefix="duckdb_peer_", suffix=".csv")
    os.close(fd)
    try:
        con.execute(f"COPY (SELECT {names} FROM pod_daily) TO {sql_string(csv_path)} (FORMAT csv, HEADER false)")
        with psycopg.connect(dsn) as pg:
            with pg.cursor() as cur:
                cur.execute(f"CREATE TEMP TABLE pod_daily ({ddl})")
                with cur.copy(f"COPY pod_daily ({names}) FROM STDIN WITH (FORMAT csv)") as copy, \
                        open(csv_path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
                cur.execute("SELECT count(*) FROM pod_daily")
                copied = cur.fetchone()[0]
            pg.rollback()  # the temp table is only for timing; nothing to keep
    finally:
        os.unlink(csv_path)
    if copied != rows:
        raise SystemExit(f"duckdb_peer: copied {copied} rows, expected {rows}")
    return {"copy_rows": rows, "copy_seconds": round(time.perf_counter() - started, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="DuckDB peer for the pod_usage ingest benchmark.")
    ap.add_argument("file", help="a koku raw hourly pod_usage Parquet file")
    ap.add_argument("--threads", type=int, default=1, help="DuckDB threads (default %(default)s)")
    ap.add_argument("--copy-to-postgres", metavar="DSN",
                    help="also COPY result (a) into a PostgreSQL temp table (needs psycopg)")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.file):
        ap.error(f"no such file: {args.file}")

    import duckdb  # noqa: PLC0415 (imported here so the import level can be reported)

    vmhwm_import = vm_kib("VmHWM")
    src = sql_string(args.file)

    started = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(args.threads)}")
    t = time.perf_counter()
    con.execute(POD_DAILY_SQL.format(src=src))
    pod_groups = con.execute("SELECT count(*) FROM pod_daily").fetchone()[0]
    pod_seconds = time.perf_counter() - t
    t = time.perf_counter()
    con.execute(NODE_HOUR_SQL.format(src=src))
    node_hours = con.execute("SELECT count(*) FROM node_hour").fetchone()[0]
    node_seconds = time.perf_counter() - t
    seconds = time.perf_counter() - started

    rows_in = con.execute(f"SELECT count(*) FROM read_parquet({src}, hive_partitioning = false)").fetchone()[0]
    out = {
        "engine": "duckdb",
        "threads": int(args.threads),
        "rows_in": rows_in,
        "pod_groups": pod_groups,
        "node_hours": node_hours,
        "seconds": round(seconds, 3),
        "vmhwm_kib": vm_kib("VmHWM"),
        "seconds_pod_daily": round(pod_seconds, 3),
        "seconds_node_hour": round(node_seconds, 3),
        "vmhwm_import_kib": vmhwm_import,
        "duckdb_version": duckdb.__version__,
        "file_bytes": os.path.getsize(args.file),
    }
    if args.copy_to_postgres:
        out.update(copy_to_postgres(con, args.copy_to_postgres))
    con.close()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
