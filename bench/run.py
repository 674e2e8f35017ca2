#!/usr/bin/env python3
"""bench/run.py: the ingest / roll-up benchmark (`make bench`).

Run it with the services up:  scripts/with-services.sh python3 bench/run.py [options]

What it does (details in bench/README.md):
  1. Generates pod_usage inputs with the kokugen generator (tools/kokugen, built here with
     `cargo build --release -p kokugen`), cached under .work/bench/gen (reruns with the same
     generator binary and flags reuse them): 100K, 1M, 2M, 10M rows, 10M rows in ONE row group,
     a one-day file with 100K pods, and 20 one-day files of 100K rows with different seeds
     (distinct pods).
  2. Serves them over S3 (default: bench/s3_fileserver.py on loopback, which sends files with
     sendfile and honours Range and If-Match; `--s3 moto` uses the moto server from the
     environment instead) and, per file, alternates: our ingest binary into a fresh, already
     migrated schema; `bench/duckdb_peer.py FILE --threads 1`; the same with --copy-to-postgres.
     Wall time is perf_counter around the child; peak RSS is ru_maxrss of that child (os.wait4).
     One extra, unreported-in-medians run per file samples pg_stat_activity to time the COPYs.
  3. 2M rows end to end: ingest + roll-up (manual month request).
  4. Roll-up of one day with 100K pods (scheduled request, then reruns as a date range).
  5. 20 concurrent ingests (20 files of the same day) launched at once; checks exit codes,
     outcomes and that the partial sums equal the files' sums.
  6. A 2M comparison of moto vs the file server (how much of our time is the emulator).
Writes bench/results/{results.md,results.json,bench.png} and prints the markdown.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import hashlib
import importlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORK = os.path.join(ROOT, ".work", "bench")
GEN = os.path.join(WORK, "gen")
SRV = os.path.join(WORK, "srv")
RESULTS = os.path.join(BENCH, "results")
KOKUGEN = os.path.join(ROOT, "target", "release", "kokugen")
PEER = os.path.join(BENCH, "duckdb_peer.py")
FILESERVER = os.path.join(BENCH, "s3_fileserver.py")
SPAWN_CHILD = os.path.join(BENCH, "spawn_child.py")
INGEST = os.path.join(ROOT, "target", "release", "ingest")
ROLLUP = os.path.join(ROOT, "target", "release", "rollup")
SOURCE = "5235154c-2132-56b5-8b3d-2a3a00f342f5"
MiB = 1024 * 1024
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# name -> (kokugen flags, label, rows on the x axis)
SIZES = [
    ("pod_100k", ["--pod-rows", "100000"], "100K"),
    ("pod_1m", ["--pod-rows", "1000000"], "1M"),
    ("pod_2m", ["--pod-rows", "2000000"], "2M"),
    ("pod_10m", ["--pod-rows", "10000000"], "10M"),
    ("pod_10m_1rg", ["--pod-rows", "10000000", "--rows-per-row-group", "10000000"], "10M, 1 row group"),
]
DAY_100K_PODS = ("pods_100k_day", ["--pod-rows", "2400000", "--max-pods", "100000"])
CONC_FILES = 20
CONC_ROWS = 100000


def conc_spec(i: int):
    # Same source, same day (Nov 1), same manifest; its own counter (so its own key) and seed.
    return (f"conc_{i:02d}", ["--pod-rows", str(CONC_ROWS), "--seed", str(1000 + i), "--counter", str(i)])


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ----------------------------------------------------------------------------------- dependencies
def ensure_module(module: str, pip_spec: str, required: bool = True):
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    log(f"installing {pip_spec} (python module {module} missing)")
    rc = subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", pip_spec])
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module)
    except ImportError:
        if required:
            sys.exit(f"bench: cannot import {module} after `pip install {pip_spec}` (rc {rc})")
        log(f"{module} unavailable; continuing without it")
        return None


# ------------------------------------------------------------------------------------- processes
class Proc:
    """Outcome of one child: wall seconds, ru_maxrss KiB, CPU seconds, exit code, stamped lines
    (seconds after the child's spawn), and how busy the whole machine was meanwhile."""

    def __init__(self, cmd, wall, rss_kib, cpu, rc, lines, t0, busy):
        self.cmd, self.wall, self.rss_kib, self.cpu, self.rc = cmd, wall, rss_kib, cpu, rc
        self.lines, self.t0, self.busy = lines, t0, busy

    def json_lines(self):
        out = []
        for _, text in self.lines:
            s = text.strip()
            if s.startswith("{") or s.startswith("["):
                try:
                    out.append(json.loads(s))
                except ValueError:
                    pass
        return out

    def stamp(self, needle: str):
        """Seconds after spawn at which the first line containing `needle` arrived."""
        for t, text in self.lines:
            if needle in text:
                return t
        return None

    def tail(self, n=15):
        return "\n".join(text for _, text in self.lines[-n:])


def cpu_jiffies():
    """(busy, total) jiffies of the whole machine from /proc/stat. Niced time (background builds
    run with `nice`) is not counted as busy: it yields to the benchmark's normal-priority processes."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
        return user + system + irq + softirq + steal, sum(v[:8])
    except (OSError, ValueError):
        return 0, 0


def spawn(cmd, env=None):
    """Starts `cmd` through bench/spawn_child.py (see there why) with stdout+stderr piped to us."""
    j0 = cpu_jiffies()
    p = subprocess.Popen([sys.executable, "-S", SPAWN_CHILD, *cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    p.bench_cmd, p.bench_j0 = cmd, j0
    return p


def collect(p) -> Proc:
    arrivals = []
    usage = None
    for raw in p.stdout:
        t = time.perf_counter()
        text = ANSI.sub("", raw.decode("utf-8", "replace").rstrip("\n"))
        if text.startswith("\x1eBENCH-RUSAGE "):
            usage = text.split()[1:]
        else:
            arrivals.append((t, text))
    p.wait()
    p.stdout.close()
    j1 = cpu_jiffies()
    dt_total = j1[1] - p.bench_j0[1]
    busy = (j1[0] - p.bench_j0[0]) / dt_total if dt_total > 0 else None
    if usage is None:
        raise RuntimeError(f"spawn_child gave no usage line for {p.bench_cmd} (rc {p.returncode}):\n"
                           + "\n".join(t for _, t in arrivals[-15:]))
    t0, wall, maxrss, ut, st, code = float(usage[0]), float(usage[1]), int(usage[2]), float(usage[3]), \
        float(usage[4]), int(usage[5])
    lines = [(t - t0, text) for t, text in arrivals]
    return Proc(p.bench_cmd, wall, maxrss, ut + st, code, lines, t0, busy)


def run(cmd, env=None) -> Proc:
    return collect(spawn(cmd, env))


# ------------------------------------------------------------------------------------- generation
def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def md5_file(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def generate(name: str, flags: list[str], gen_sha: str) -> dict:
    """Returns the cached description of dataset `name`, generating it if needed."""
    out = os.path.join(GEN, name)
    meta_path = os.path.join(out, "gen.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        if (meta["flags"] == flags and meta["kokugen_sha256"] == gen_sha
                and os.path.getsize(meta["path"]) == meta["bytes"]):
            return meta
    except (OSError, ValueError, KeyError):
        pass
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    started = time.perf_counter()
    proc = subprocess.run([KOKUGEN, "--out", out, *flags], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"kokugen {name} failed:\n{proc.stderr[-2000:]}")
    files = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    files = [f for f in files if f.get("report_type") == "pod_usage"]
    if len(files) != 1:
        raise RuntimeError(f"kokugen {name}: expected one pod_usage file, got {len(files)}")
    info = files[0]
    path = info["path"] if os.path.isabs(info["path"]) else os.path.join(ROOT, info["path"])
    meta = {
        "name": name, "flags": flags, "kokugen_sha256": gen_sha, "key": info["key"], "path": path,
        "rows": info["rows"], "row_groups": info["row_groups"], "bytes": os.path.getsize(path),
        "md5": md5_file(path), "shape": proc.stderr.strip().splitlines()[-1:] if proc.stderr else [],
        "gen_seconds": round(time.perf_counter() - started, 2),
    }
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(meta_path + ".tmp", meta_path)
    log(f"generated {name}: {meta['rows']:,} rows, {meta['row_groups']} row group(s), "
        f"{meta['bytes'] / MiB:.1f} MiB in {meta['gen_seconds']} s")
    return meta


def generate_all(specs) -> dict:
    # The cache key is the generator binary itself: a rebuilt, changed generator regenerates.
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "kokugen"], cwd=ROOT, check=True)
    gen_sha = sha256_file(KOKUGEN)
    os.makedirs(GEN, exist_ok=True)
    out = {}
    with cf.ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores
        futures = {pool.submit(generate, name, flags, gen_sha): name for name, flags in specs}
        for fut in cf.as_completed(futures):
            out[futures[fut]] = fut.result()
    return out


# ------------------------------------------------------------------------------------- S3 servers
def bucket_of(name: str) -> str:
    return "ocp-bench-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class FileServer:
    """bench/s3_fileserver.py over SRV; datasets are hard-linked in (no copies)."""

    kind = "fileserver"

    def __init__(self):
        os.makedirs(SRV, exist_ok=True)
        self.log_path = os.path.join(WORK, "fileserver-requests.log")
        open(self.log_path, "w").close()
        port_file = os.path.join(WORK, "fileserver.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.stderr = open(os.path.join(WORK, "fileserver.out"), "w")
        self.proc = subprocess.Popen([sys.executable, FILESERVER, SRV, "--port", "0", "--port-file", port_file,
                                      "--log", self.log_path], stdout=self.stderr, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("s3_fileserver did not start; see .work/bench/fileserver.out")
            time.sleep(0.05)
        with open(port_file) as f:
            self.endpoint = f"http://127.0.0.1:{f.read().strip()}"

    def put(self, meta: dict, bucket: str) -> tuple[str, str]:
        """Makes `meta`'s file available as bucket/key; returns (key, etag)."""
        key = meta["key"]
        dst = os.path.join(SRV, bucket, key)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            same = os.path.samefile(dst, meta["path"])
        except OSError:
            same = False
        if not same:
            if os.path.lexists(dst):
                os.unlink(dst)
            try:
                os.link(meta["path"], dst)
            except OSError:
                shutil.copyfile(meta["path"], dst)
        side = os.path.join(SRV, ".etag", bucket, key)
        os.makedirs(os.path.dirname(side), exist_ok=True)
        with open(side + ".tmp", "w") as f:
            f.write(meta["md5"])
        os.replace(side + ".tmp", side)
        return key, meta["md5"]

    def requests_between(self, t0: float, t1: float):
        out = []
        with open(self.log_path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5:
                    s, e = float(parts[0]), float(parts[1])
                    if s >= t0 - 0.001 and s <= t1:
                        out.append({"start": s, "end": e, "method": parts[2], "status": int(parts[3]),
                                    "bytes": int(parts[4])})
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


class MotoServer:
    """The moto server from the environment (scripts/with-services.sh); files are PUT once."""

    kind = "moto"

    def __init__(self, endpoint: str):
        import boto3  # moto[server] brings boto3
        self.endpoint = endpoint
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="test", aws_secret_access_key="test")
        self.buckets = set()

    def put(self, meta: dict, bucket: str) -> tuple[str, str]:
        if bucket not in self.buckets:
            try:
                self.s3.create_bucket(Bucket=bucket)
            except self.s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            except Exception as e:  # noqa: BLE001 (moto: BucketAlreadyExists)
                if "BucketAlready" not in str(e):
                    raise
            self.buckets.add(bucket)
        key = meta["key"]
        try:
            head = self.s3.head_object(Bucket=bucket, Key=key)
            if head["ContentLength"] == meta["bytes"] and head["ETag"].strip('"') == meta["md5"]:
                return key, meta["md5"]
        except Exception:  # noqa: BLE001 (absent)
            pass
        with open(meta["path"], "rb") as f:  # one PUT, so the ETag is the md5
            etag = self.s3.put_object(Bucket=bucket, Key=key, Body=f)["ETag"].strip('"')
        return key, etag

    def requests_between(self, t0, t1):
        return None

    def delete(self, bucket: str) -> None:
        """Frees the emulator's memory (moto keeps objects in RAM)."""
        try:
            for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                self.s3.delete_object(Bucket=bucket, Key=o["Key"])
            self.s3.delete_bucket(Bucket=bucket)
        except Exception as e:  # noqa: BLE001
            log(f"could not delete moto bucket {bucket}: {e}")
        self.buckets.discard(bucket)

    def stop(self):
        for bucket in list(self.buckets):
            self.delete(bucket)


def probe_s3(endpoint: str, bucket: str, key: str, etag: str) -> dict:
    """Does the server honour Range and If-Match on GET? (signed requests, as the ingest sends)"""
    import boto3
    c = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                     aws_secret_access_key="test")

    def status(**kw):
        try:
            r = c.get_object(Bucket=bucket, Key=key, Range="bytes=0-9", **kw)
            n = len(r["Body"].read())
            return r["ResponseMetadata"]["HTTPStatusCode"], n
        except c.exceptions.ClientError as e:
            return e.response["ResponseMetadata"]["HTTPStatusCode"], 0

    st, n = status()
    st_bad, _ = status(IfMatch='"' + "0" * 32 + '"')
    st_good, _ = status(IfMatch=f'"{etag}"')
    rng = st == 206 and n == 10
    return {"range": rng, "if_match_mismatch_status": st_bad, "if_match_match_status": st_good,
            "usable": rng and st_bad == 412 and st_good == 206}


# ------------------------------------------------------------------------------------- the binaries
class Env:
    def __init__(self, database_url: str, tag: str):
        self.database_url = database_url
        self.tag = tag
        self.schemas: list[str] = []
        self.n = 0

    def schema(self, label: str) -> str:
        self.n += 1
        s = re.sub(r"[^a-z0-9_]", "_", f"benchrun_{self.tag}_{self.n:03d}_{label}".lower())[:63]
        self.schemas.append(s)
        return s

    def base(self, schema: str, endpoint: str | None = None, rust_log: str = "info") -> dict:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.database_url, "DB_SCHEMA": schema, "RUST_LOG": rust_log,
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1", "S3_FORCE_PATH_STYLE": "true", "AWS_EC2_METADATA_DISABLED": "true",
        })
        env.pop("AWS_LAMBDA_LOG_FORMAT", None)
        env.pop("AWS_LAMBDA_LOG_LEVEL", None)
        if endpoint:
            env["AWS_ENDPOINT_URL_S3"] = endpoint
        return env


EVENT_TEMPLATE = {
    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
    "eventTime": "2025-11-02T00:00:00.000Z", "eventName": "ObjectCreated:Put",
    "userIdentity": {"principalId": "bench"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
    "responseElements": {},
}


def write_event(path: str, bucket: str, key: str, size: int, etag: str, sequencer: str = "01") -> str:
    record = dict(EVENT_TEMPLATE)
    record["s3"] = {
        "s3SchemaVersion": "1.0", "configurationId": "bench",
        "bucket": {"name": bucket, "ownerIdentity": {"principalId": "bench"}, "arn": f"arn:aws:s3:::{bucket}"},
        "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size, "eTag": etag,
                   "sequencer": sequencer},
    }
    with open(path, "w") as f:
        json.dump({"Records": [record]}, f)
    return path


def premigrate(env: Env, schema: str) -> None:
    """Creates and migrates `schema` outside the timing: the binary migrates on start, and an event
    for a non-raw key is skipped without touching S3."""
    ev = write_event(os.path.join(WORK, "events", "premigrate.json"), "ocp-bench-none", "bench/premigrate.txt", 1,
                     "0" * 32)
    p = run([INGEST, "--event", ev], env.base(schema, "http://127.0.0.1:9"))
    if p.rc != 0:
        raise RuntimeError(f"pre-migration of {schema} failed (rc {p.rc}):\n{p.tail()}")


def ingest_result(p: Proc, server=None) -> dict:
    emf = next((j for j in p.json_lines() if isinstance(j, dict) and "_aws" in j), None)
    outcomes = next((j for j in p.json_lines() if isinstance(j, list)), None)
    r = {"wall_s": p.wall, "rss_kib": p.rss_kib, "cpu_s": p.cpu, "rc": p.rc, "machine_busy": p.busy,
         "outcomes": [o.get("outcome") for o in outcomes] if outcomes else None}
    if emf:
        for k in ("RowsRead", "RowGroups", "BytesFetched", "ObjectSize", "PartialRowsWritten", "PeakRssKiB",
                  "ElapsedMs", "RowsDroppedAnomalous", "RowsOutsideMonth", "FetchWaitMs", "WriteWaitMs"):
            r[k] = emf.get(k)
        r["flushes"] = emf.get("flushes")
    # Phase stamps (seconds after spawn) from the arrival times of the log lines.
    r["t_fetched"] = p.stamp("fetched projected column chunks")
    r["t_emf"] = p.stamp('"_aws"')
    if server is not None:
        reqs = server.requests_between(p.t0, p.t0 + p.wall)
        if reqs:
            r["s3_requests"] = len(reqs)
            r["t_first_get"] = min(q["start"] for q in reqs) - p.t0
            r["t_last_get_done"] = max(q["end"] for q in reqs) - p.t0
            r["s3_bytes_served"] = sum(q["bytes"] for q in reqs)
    if p.rc != 0 or not emf:
        r["error_tail"] = p.tail()
    return r


def check_ingested(r: dict, what: str) -> None:
    if r["rc"] != 0 or r.get("outcomes") != ["ingested"]:
        raise RuntimeError(f"ingest of {what} failed: rc={r['rc']} outcomes={r.get('outcomes')}\n"
                           f"{r.get('error_tail', '')}")


class ActivitySampler:
    """Samples pg_stat_activity every ~10 ms and records COPY statements of backends that started
    after `since_epoch` (the ingest's own connection): start and end, from PostgreSQL's clock."""

    def __init__(self, psycopg, dsn: str, since_epoch: float):
        self.psycopg, self.dsn, self.since = psycopg, dsn, since_epoch
        self.copies: dict = {}
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.ready = threading.Event()
        self.thread.start()
        self.ready.wait(10)

    def _loop(self):
        q = ("SELECT pid, extract(epoch FROM query_start)::float8, state, extract(epoch FROM state_change)::float8, "
             "left(query, 40) FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid() AND extract(epoch FROM backend_start) >= %s "
             "AND query ILIKE 'copy%%'")
        try:
            with self.psycopg.connect(self.dsn, autocommit=True) as c:
                self.ready.set()
                while not self.stop_flag.is_set():
                    for pid, qs, state, sc, text in c.execute(q, (self.since - 1,)).fetchall():
                        rec = self.copies.setdefault((pid, qs), {"start": qs, "end": None, "query": text})
                        if state != "active":
                            rec["end"] = sc
                    time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 (sampling is best effort)
            self.error = str(e)
            self.ready.set()

    def finish(self):
        self.stop_flag.set()
        self.thread.join(5)
        return sorted(self.copies.values(), key=lambda r: r["start"])


# ------------------------------------------------------------------------------------- steps
QUIET = {"budget": 90.0, "per_step": 30.0, "threshold": 0.15, "spent": 0.0, "checks": []}


def wait_quiet(what: str) -> None:
    """Waits until other processes use < 15 % of the machine's CPU (niced time excluded), so that
    builds or tests running beside the benchmark do not skew it; at most QUIET['per_step'] s per step
    and QUIET['budget'] s over the whole run. Records the load it saw before each step."""
    started = time.perf_counter()
    warned = False
    while True:
        a = cpu_jiffies()
        time.sleep(0.5)
        b = cpu_jiffies()
        busy = (b[0] - a[0]) / max(1, b[1] - a[1])
        waited = time.perf_counter() - started
        left = min(QUIET["per_step"], QUIET["budget"] - QUIET["spent"]) - waited
        if busy <= QUIET["threshold"] or left <= 0:
            QUIET["spent"] += waited
            QUIET["checks"].append({"step": what, "busy": round(busy, 3), "waited_s": round(waited, 1),
                                    "quiet": busy <= QUIET["threshold"]})
            if busy > QUIET["threshold"]:
                log(f"warning: other processes use {busy:.0%} of the CPU before {what}; timings will be noisy")
            return
        if not warned:
            log(f"other processes use {busy:.0%} of the CPU; waiting up to {left:.0f} s before {what}")
            warned = True


def bench_sizes(args, env, server, datasets, psycopg, dsn, results):
    rows_out = []
    for name, _flags, label in SIZES:
        if name not in datasets:
            continue
        meta = datasets[name]
        bucket = bucket_of(name)
        key, etag = server.put(meta, bucket)
        ev = write_event(os.path.join(WORK, "events", f"{name}.json"), bucket, key, meta["bytes"], etag)
        n = args.runs_10m if meta["rows"] >= 10_000_000 else args.runs
        wait_quiet(label)
        ours, duck, duck_copy = [], [], []
        log(f"{label}: {n} alternating runs of ingest / duckdb / duckdb+copy")
        for i in range(n):
            schema = env.schema(name)
            premigrate(env, schema)
            p = run([INGEST, "--event", ev], env.base(schema, server.endpoint))
            r = ingest_result(p, server)
            check_ingested(r, name)
            ours.append(r)
            d = run([sys.executable, PEER, meta["path"], "--threads", "1"])
            duck.append(peer_result(d))
            if psycopg is not None and not args.no_copy:
                d = run([sys.executable, PEER, meta["path"], "--threads", "1", "--copy-to-postgres", dsn])
                duck_copy.append(peer_result(d))
            log(f"  run {i + 1}: ours {r['wall_s']:.3f} s {r['rss_kib'] / 1024:.0f} MiB | duckdb "
                f"{duck[-1]['wall_s']:.3f} s (query {duck[-1].get('seconds')}) {duck[-1]['rss_kib'] / 1024:.0f} MiB"
                + (f" | +copy {duck_copy[-1].get('copy_seconds')} s" if duck_copy else ""))
        profile = None
        if not args.no_profile and psycopg is not None:
            schema = env.schema(name + "_prof")
            premigrate(env, schema)
            since = time.time()
            sampler = ActivitySampler(psycopg, dsn, since)
            wall0 = time.time() - time.perf_counter()
            p = run([INGEST, "--event", ev], env.base(schema, server.endpoint))
            copies = sampler.finish()
            profile = ingest_result(p, server)
            check_ingested(profile, name + " (profile)")
            profile["copies"] = [{"start": c["start"] - wall0 - p.t0, "end": (c["end"] - wall0 - p.t0) if c["end"]
                                  else None} for c in copies]
        rows_out.append(summarise_size(name, label, meta, ours, duck, duck_copy, profile))
    results["sizes"] = rows_out


def peer_result(p: Proc) -> dict:
    js = [j for j in p.json_lines() if isinstance(j, dict) and j.get("engine") == "duckdb"]
    if p.rc != 0 or not js:
        raise RuntimeError(f"duckdb_peer failed (rc {p.rc}):\n{p.tail()}")
    r = dict(js[-1])
    r.update({"wall_s": p.wall, "rss_kib": p.rss_kib, "cpu_s": p.cpu, "machine_busy": p.busy})
    return r


def summarise_size(name, label, meta, ours, duck, duck_copy, profile) -> dict:
    m = lambda rs, k: median([r.get(k) for r in rs])  # noqa: E731
    s = {
        "name": name, "label": label, "rows": meta["rows"], "row_groups": meta["row_groups"],
        "object_bytes": meta["bytes"], "runs": len(ours),
        "ours_wall_s": m(ours, "wall_s"), "ours_rss_kib": m(ours, "rss_kib"), "ours_rss_kib_max": max(r["rss_kib"] for r in ours),
        "ours_emf_peak_kib": m(ours, "PeakRssKiB"), "ours_cpu_s": m(ours, "cpu_s"),
        "ours_elapsed_ms": m(ours, "ElapsedMs"), "bytes_fetched": m(ours, "BytesFetched"),
        "partial_rows": m(ours, "PartialRowsWritten"), "rows_read": m(ours, "RowsRead"),
        "ours_t_fetched": m(ours, "t_fetched"), "ours_t_first_get": m(ours, "t_first_get"),
        "ours_t_emf": m(ours, "t_emf"), "machine_busy_ours": m(ours, "machine_busy"),
        "machine_busy_duck": m(duck, "machine_busy"),
        "duck_wall_s": m(duck, "wall_s"), "duck_query_s": m(duck, "seconds"), "duck_rss_kib": m(duck, "rss_kib"),
        "duck_vmhwm_kib": m(duck, "vmhwm_kib"), "duck_pod_groups": m(duck, "pod_groups"),
        "duck_copy_wall_s": m(duck_copy, "wall_s") if duck_copy else None,
        "duck_copy_s": m(duck_copy, "copy_seconds") if duck_copy else None,
        "duck_query_plus_copy_s": median([r["seconds"] + r["copy_seconds"] for r in duck_copy]) if duck_copy else None,
        "raw": {"ours": ours, "duckdb": duck, "duckdb_copy": duck_copy, "profile": profile},
    }
    # Each of our runs against the DuckDB run right after it: the machine's speed drifts, pairs share it.
    s["ratio_wall_paired"] = median([o["wall_s"] / d["wall_s"] for o, d in zip(ours, duck)])
    s["ours_fetch_wait_s"] = (m(ours, "FetchWaitMs") or 0) / 1000
    s["ours_write_wait_s"] = (m(ours, "WriteWaitMs") or 0) / 1000
    s["rows_per_s"] = s["rows"] / s["ours_wall_s"]
    s["fetched_over_size"] = s["bytes_fetched"] / s["object_bytes"] if s["bytes_fetched"] else None
    s["ratio_wall"] = s["ours_wall_s"] / s["duck_wall_s"]
    s["ratio_query"] = s["ours_wall_s"] / s["duck_query_s"]
    if s["duck_query_plus_copy_s"]:
        s["ratio_query_copy"] = s["ours_wall_s"] / s["duck_query_plus_copy_s"]
        s["ratio_wall_copy"] = s["ours_wall_s"] / s["duck_copy_wall_s"]
    if profile:
        s["profile"] = breakdown(profile)
    return s


def breakdown(r: dict) -> dict:
    """Phases of one ingest run (seconds), from line arrival times, the S3 request log, COPY samples
    and the EMF record. Fetching overlaps decoding, and COPYs of finished days overlap it too."""
    b = {"wall": r["wall_s"], "cpu": r["cpu_s"], "partial_rows": r.get("PartialRowsWritten"),
         "flushes": r.get("flushes"), "s3_requests": r.get("s3_requests"), "s3_bytes_served": r.get("s3_bytes_served"),
         "bytes_fetched": r.get("BytesFetched"), "fetch_wait": (r.get("FetchWaitMs") or 0) / 1000,
         "write_wait": (r.get("WriteWaitMs") or 0) / 1000}
    t_get = r.get("t_first_get")
    t_fetched = r.get("t_fetched")
    t_emf = r.get("t_emf")
    copies = [c for c in r.get("copies") or [] if c["end"] is not None]
    if t_get is not None:
        b["startup"] = t_get  # exec, config, PG connect + migration check, object lock/version check
    if t_get is not None and t_fetched is not None:
        b["fetch"] = t_fetched - t_get
    if copies and t_get is not None and t_emf is not None:
        last = copies[-1]
        b["copies"] = len(copies)
        b["copy_total"] = sum(c["end"] - c["start"] for c in copies)
        b["decode"] = last["start"] - t_get
        b["last_copy"] = last["end"] - last["start"]
        b["finish_commit"] = t_emf - last["end"]
    if t_emf is not None:
        b["exit"] = r["wall_s"] - t_emf
    return b


def insert_floor(psycopg, dsn: str, schema: str, first: str, last: str) -> dict:
    """What PostgreSQL alone needs to store the summary rows of days first..last: they are read out
    with a binary COPY, then, in a transaction that is rolled back, deleted and COPYed back into
    koku's table (its indexes and foreign keys as they are). No SQL computation, no numeric casts:
    a floor for any roll-up that must leave these rows in this table."""
    table = f'"{schema}".reporting_ocpusagelineitem_daily_summary'
    with psycopg.connect(dsn) as c:
        with c.cursor() as cur:
            data = bytearray()
            with cur.copy(f"COPY (SELECT * FROM {table} WHERE usage_start BETWEEN %s AND %s) "
                          "TO STDOUT (FORMAT binary)", (first, last)) as cp:
                for piece in cp:
                    data += piece
            rows = c.execute(f"SELECT count(*) FROM {table} WHERE usage_start BETWEEN %s AND %s",
                             (first, last)).fetchone()[0]
            with c.transaction(force_rollback=True):
                c.execute(f"DELETE FROM {table} WHERE usage_start BETWEEN %s AND %s", (first, last))
                t = time.perf_counter()
                with cur.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as cp:
                    cp.write(data)
                seconds = time.perf_counter() - t
    return {"rows": rows, "seconds": seconds}


def bench_end_to_end(args, env, server, datasets, psycopg, dsn, results):
    meta = datasets["pod_2m"]
    bucket = bucket_of("pod_2m")
    key, etag = server.put(meta, bucket)
    ev = write_event(os.path.join(WORK, "events", "e2e_2m.json"), bucket, key, meta["bytes"], etag)
    rev = os.path.join(WORK, "events", "rollup_month.json")
    with open(rev, "w") as f:
        json.dump({"source_uuid": SOURCE, "month": "2025-11"}, f)
    runs = []
    wait_quiet("end to end")
    log(f"end to end 2M: {args.runs} runs of ingest + roll-up (month)")
    for _ in range(args.runs):
        schema = env.schema("e2e")
        premigrate(env, schema)
        p = run([INGEST, "--event", ev], env.base(schema, server.endpoint))
        ri = ingest_result(p)
        check_ingested(ri, "e2e 2M")
        q = run([ROLLUP, "--event", rev], env.base(schema))
        out = [j for j in q.json_lines() if isinstance(j, dict) and "rows_written" in j]
        if q.rc != 0 or not out:
            raise RuntimeError(f"roll-up failed (rc {q.rc}):\n{q.tail()}")
        floor = insert_floor(psycopg, dsn, schema, "2025-11-01", "2025-11-30")
        runs.append({"ingest_s": p.wall, "rollup_s": q.wall, "total_s": p.wall + q.wall,
                     "rollup_rss_kib": q.rss_kib, "insert_floor_s": floor["seconds"],
                     **{f"rollup_{k}": v for k, v in out[-1].items()}})
        log(f"  ingest {p.wall:.3f} s + roll-up {q.wall:.3f} s = {p.wall + q.wall:.3f} s "
            f"({out[-1]['rows_written']} summary rows; storing them alone: {floor['seconds']:.3f} s)")
    results["end_to_end_2m"] = {
        "runs": runs, "ingest_s": median([r["ingest_s"] for r in runs]),
        "rollup_s": median([r["rollup_s"] for r in runs]), "total_s": median([r["total_s"] for r in runs]),
        "insert_floor_s": median([r["insert_floor_s"] for r in runs]),
        "summary_rows": runs[-1]["rollup_rows_written"],
    }


def bench_rollup_day(args, env, server, datasets, psycopg, dsn, results):
    """Roll-up of one day with 100K pods: the ingest writes one partial row per pod and day (its
    default settings; checked), then a scheduled roll-up of the dirty day and manual reruns of it.
    Beside it, the floor: PostgreSQL storing the same summary rows by COPY (see insert_floor)."""
    meta = datasets[DAY_100K_PODS[0]]
    bucket = bucket_of(DAY_100K_PODS[0])
    key, etag = server.put(meta, bucket)
    ev = write_event(os.path.join(WORK, "events", "day_100k_pods.json"), bucket, key, meta["bytes"], etag)
    evr = os.path.join(WORK, "events", "rollup_day.json")
    with open(evr, "w") as f:
        json.dump({"source_uuid": SOURCE, "start_date": "2025-11-01", "end_date": "2025-11-01"}, f)
    schema = env.schema("rollup100k")
    premigrate(env, schema)
    wait_quiet("100K-pod day ingest")
    log("100K-pod day: ingest with default settings")
    p = run([INGEST, "--event", ev], env.base(schema, server.endpoint))
    ri = ingest_result(p)
    check_ingested(ri, "100K-pod day")
    with psycopg.connect(dsn) as c:
        pods, days, prow = c.execute(
            f'SELECT count(DISTINCT namespace || \'/\' || pod), count(DISTINCT usage_start), count(*) '
            f'FROM "{schema}".ocp_pod_usage_partial').fetchone()
    log(f"  ingest {ri['wall_s']:.2f} s, peak RSS {ri['rss_kib'] / 1024:.0f} MiB, {prow:,} pod partial rows "
        f"for {pods:,} pods ({ri.get('flushes')} flushes)")
    runs = []
    wait_quiet("roll-up")
    # The schedule's time must follow the ingest: it rolls up days marked dirty until then.
    evs = os.path.join(WORK, "events", "rollup_scheduled.json")
    with open(evs, "w") as f:
        json.dump({"scheduled_time": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))
                  .strftime("%Y-%m-%dT%H:%M:%SZ")}, f)
    for i in range(1 + max(1, args.runs - 1)):
        kind = "scheduled (dirty day)" if i == 0 else "manual rerun of the day"
        q = run([ROLLUP, "--event", evs if i == 0 else evr], env.base(schema))
        o = [j for j in q.json_lines() if isinstance(j, dict) and "rows_written" in j]
        if q.rc != 0 or not o:
            raise RuntimeError(f"roll-up failed (rc {q.rc}):\n{q.tail()}")
        floor = insert_floor(psycopg, dsn, schema, "2025-11-01", "2025-11-01")
        runs.append({"kind": kind, "wall_s": q.wall, "rss_kib": q.rss_kib, "insert_floor_s": floor["seconds"],
                     **o[-1]})
        log(f"  roll-up {kind}: {q.wall:.3f} s (in handler {o[-1]['elapsed_ms']} ms, {o[-1]['days']} day(s), "
            f"{o[-1]['rows_written']:,} rows); storing those rows alone: {floor['seconds']:.3f} s")
    if runs[0].get("days") != 1:
        raise RuntimeError(f"scheduled roll-up covered {runs[0].get('days')} days, expected 1")
    results["rollup_100k_pods"] = {
        "ingest": {"wall_s": ri["wall_s"], "rss_kib": ri["rss_kib"], "rows": ri.get("RowsRead"),
                   "partial_rows": ri.get("PartialRowsWritten"), "flushes": ri.get("flushes")},
        "pods": pods, "days": days, "pod_partial_rows": prow, "runs": runs,
        "wall_s_median": median([r["wall_s"] for r in runs]), "wall_s_max": max(r["wall_s"] for r in runs),
        "elapsed_ms_median": median([r["elapsed_ms"] for r in runs]),
        "insert_floor_s": median([r["insert_floor_s"] for r in runs]),
        "summary_rows": runs[0]["rows_written"],
    }


def expected_sums(metas) -> dict:
    import numpy as np
    import pyarrow.parquet as pq
    out = {}
    for m in metas:
        col = pq.read_table(m["path"], columns=["pod_usage_cpu_core_seconds"]).column(0)
        arr = col.to_numpy()
        out[m["key"]] = {"fsum": math.fsum(arr.tolist()), "rows": len(arr), "np": float(np.sum(arr))}
    return out


def bench_concurrency(args, env, server, datasets, psycopg, dsn, results):
    metas = [datasets[conc_spec(i)[0]] for i in range(CONC_FILES)]
    bucket = bucket_of("conc")
    evs = []
    for i, m in enumerate(metas):
        key, etag = server.put(m, bucket)
        evs.append(write_event(os.path.join(WORK, "events", f"conc_{i:02d}.json"), bucket, key, m["bytes"], etag))
    if len({m["key"] for m in metas}) != CONC_FILES:
        raise RuntimeError("concurrency files do not have distinct keys")
    import pyarrow.parquet as pq
    pods_per_file = [set(zip(*[pq.read_table(m["path"], columns=["namespace", "pod"]).column(c).to_pylist()
                               for c in ("namespace", "pod")])) for m in metas]
    union = set().union(*pods_per_file)
    expected = expected_sums(metas)
    schema = env.schema("conc")
    premigrate(env, schema)
    log(f"concurrency: {CONC_FILES} ingests of {CONC_ROWS:,} rows each, launched at once")
    base = env.base(schema, server.endpoint)
    wait_quiet("concurrency")
    t0 = time.perf_counter()
    procs = [spawn([INGEST, "--event", ev], base) for ev in evs]
    readers = []
    done = [None] * len(procs)

    def reap(i):
        done[i] = collect(procs[i])

    for i in range(len(procs)):
        th = threading.Thread(target=reap, args=(i,))
        th.start()
        readers.append(th)
    for th in readers:
        th.join()
    driver_total = time.perf_counter() - t0
    total = max(p.t0 + p.wall for p in done) - min(p.t0 for p in done)  # first spawn -> last exit
    per = [ingest_result(p) for p in done]
    failures = [(i, r["rc"], r.get("outcomes"), r.get("error_tail", "")[-500:]) for i, r in enumerate(per)
                if r["rc"] != 0 or r.get("outcomes") != ["ingested"]]
    with psycopg.connect(dsn) as c:
        got_total = c.execute(f'SELECT sum(pod_usage_cpu_core_seconds) FROM "{schema}".ocp_pod_usage_partial').fetchone()[0]
        by_key = dict(c.execute(
            f'SELECT o.object_key, sum(p.pod_usage_cpu_core_seconds) FROM "{schema}".ocp_pod_usage_partial p '
            f'JOIN "{schema}".ocp_ingested_object o USING (object_id) GROUP BY 1').fetchall())
        rows_read = c.execute(f'SELECT sum(rows_read), count(*) FROM "{schema}".ocp_ingested_object '
                              "WHERE state = 'present'").fetchone()
    exp_total = math.fsum(e["fsum"] for e in expected.values())
    rel = abs((got_total or 0) - exp_total) / exp_total
    per_file_rel = max(abs(by_key.get(k, 0.0) - e["fsum"]) / e["fsum"] for k, e in expected.items())
    tol = 1e-9
    results["concurrency"] = {
        "processes": CONC_FILES, "rows_each": CONC_ROWS, "total_wall_s": total, "driver_wall_s": driver_total,
        "failures": failures, "per_process_wall_s": [r["wall_s"] for r in per],
        "per_process_rss_kib": [r["rss_kib"] for r in per],
        "expected_sum": exp_total, "db_sum": got_total, "relative_diff": rel,
        "max_per_file_relative_diff": per_file_rel, "tolerance": tol,
        "rows_read_db": int(rows_read[0] or 0), "objects_db": rows_read[1],
        "rows_expected": sum(e["rows"] for e in expected.values()),
        "distinct_pods_union": len(union), "pods_sum_per_file": sum(len(s) for s in pods_per_file),
        "exact": (not failures and rel <= tol and per_file_rel <= tol
                  and int(rows_read[0] or 0) == sum(e["rows"] for e in expected.values())
                  and rows_read[1] == CONC_FILES and len(by_key) == CONC_FILES),
    }
    log(f"  all done in {total:.3f} s; failures {len(failures)}; sum {got_total!r} vs expected {exp_total!r} "
        f"(rel {rel:.2e}); rows {rows_read[0]}")


def bench_moto_compare(args, env, datasets, results, fast_server):
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3")
    if not endpoint:
        log("moto comparison skipped: AWS_ENDPOINT_URL_S3 not set")
        return
    moto = MotoServer(endpoint)
    meta = datasets["pod_2m"]
    bucket = bucket_of("pod_2m_moto")
    log("moto vs file server, 2M rows")
    key, etag = moto.put(meta, bucket)
    ev = write_event(os.path.join(WORK, "events", "moto_2m.json"), bucket, key, meta["bytes"], etag)
    runs = []
    for _ in range(2):
        schema = env.schema("moto2m")
        premigrate(env, schema)
        p = run([INGEST, "--event", ev], env.base(schema, endpoint))
        r = ingest_result(p)
        check_ingested(r, "2M via moto")
        runs.append(r)
        log(f"  moto: {r['wall_s']:.3f} s, fetched line at {r['t_fetched']:.3f} s")
    moto.delete(bucket)
    size = next((s for s in results.get("sizes") or [] if s["name"] == "pod_2m"), {})
    results["moto_2m"] = {
        "endpoint": endpoint, "runs": runs, "wall_s": median([r["wall_s"] for r in runs]),
        "t_fetched": median([r["t_fetched"] for r in runs]), "t_emf": median([r["t_emf"] for r in runs]),
        "fast_wall_s": size.get("ours_wall_s"), "fast_t_fetched": size.get("ours_t_fetched"),
        "fast_t_emf": size.get("ours_t_emf"), "fast_kind": fast_server,
    }


def free_port() -> int:
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def bench_s3_servers(args, datasets, results, fileserver_endpoint):
    """Which local S3 servers could serve the benchmark: Range and If-Match on GET (the ingest
    relies on both), and the time to GET the whole 2M object with boto3 (same client for all).
    s3s-fs is only probed when installed (`cargo install s3s-fs --version 0.14.1 --features binary`);
    run.py does not install it: 0.14.1 ignores If-Match on GET, so it cannot stand in for S3 here."""
    import boto3
    meta = datasets["pod_2m"]
    servers = []
    tmp_roots = []
    procs = []
    if fileserver_endpoint:
        servers.append(("bench/s3_fileserver.py", fileserver_endpoint, bucket_of("pod_2m"), None))
    if os.environ.get("AWS_ENDPOINT_URL_S3"):
        servers.append(("moto (scripts/s3.sh)", os.environ["AWS_ENDPOINT_URL_S3"], bucket_of("probe_moto"), "put"))
    s3s = shutil.which("s3s-fs") or (os.path.expanduser("~/.cargo/bin/s3s-fs")
                                       if os.access(os.path.expanduser("~/.cargo/bin/s3s-fs"), os.X_OK) else None)
    if s3s:
        root = os.path.join(WORK, "s3s-root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        tmp_roots.append(root)
        port = free_port()
        out = open(os.path.join(WORK, "s3s-fs.out"), "w")
        procs.append((subprocess.Popen([s3s, "--host", "127.0.0.1", "--port", str(port), "--access-key", "test",
                                        "--secret-key", "test", root], stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL), out))
        version = subprocess.run([s3s, "--version"], capture_output=True, text=True).stdout.strip()
        servers.append((f"s3s-fs ({version})", f"http://127.0.0.1:{port}", bucket_of("probe_s3s"), "put"))
        time.sleep(0.5)
    rows = []
    try:
        for name, endpoint, bucket, how in servers:
            c = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                             aws_secret_access_key="test")
            row = {"server": name, "endpoint": endpoint}
            try:
                if how == "put":
                    try:
                        c.create_bucket(Bucket=bucket)
                    except Exception as e:  # noqa: BLE001
                        if "BucketAlready" not in str(e):
                            raise
                    with open(meta["path"], "rb") as f:
                        c.put_object(Bucket=bucket, Key=meta["key"], Body=f)
                key = meta["key"]
                etag = c.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
                r = c.get_object(Bucket=bucket, Key=key, Range="bytes=0-9")
                body = r["Body"].read()
                row["range"] = r["ResponseMetadata"]["HTTPStatusCode"] == 206 and len(body) == 10
                try:
                    r = c.get_object(Bucket=bucket, Key=key, Range="bytes=0-9", IfMatch='"' + "0" * 32 + '"')
                    r["Body"].read()
                    row["if_match_mismatch"] = r["ResponseMetadata"]["HTTPStatusCode"]
                except c.exceptions.ClientError as e:
                    row["if_match_mismatch"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
                r = c.get_object(Bucket=bucket, Key=key, Range="bytes=0-9", IfMatch=f'"{etag}"')
                r["Body"].read()
                row["if_match_match"] = r["ResponseMetadata"]["HTTPStatusCode"]
                times = []
                for _ in range(3):
                    t = time.perf_counter()
                    n = len(c.get_object(Bucket=bucket, Key=key, IfMatch=f'"{etag}"')["Body"].read())
                    times.append(time.perf_counter() - t)
                row["full_get_s"] = median(times)
                row["mib_per_s"] = n / MiB / row["full_get_s"]
                row["usable"] = bool(row["range"]) and row["if_match_mismatch"] == 412 and row["if_match_match"] == 206
            except Exception as e:  # noqa: BLE001
                row["error"] = str(e)[:300]
                row["usable"] = False
            finally:
                if how == "put":
                    try:
                        c.delete_object(Bucket=bucket, Key=meta["key"])
                        c.delete_bucket(Bucket=bucket)
                    except Exception:  # noqa: BLE001
                        pass
            rows.append(row)
            log(f"  S3 server {name}: {row}")
    finally:
        for p, out in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            out.close()
        for root in tmp_roots:
            shutil.rmtree(root, ignore_errors=True)
    results["s3_servers"] = rows


# ------------------------------------------------------------------------------------- reporting
def machine() -> dict:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    osname = platform.platform()
    try:
        with open("/etc/os-release") as f:
            osname = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line).get("PRETTY_NAME", osname).strip('"')
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "os": osname, "python": platform.python_version()}


def fmt(x, nd=3):
    return "–" if x is None else f"{x:.{nd}f}"


def mib(kib):
    return "–" if kib is None else f"{kib / 1024:.0f}"


def targets(results) -> list[tuple[str, str, bool | None]]:
    t = []
    sizes = results.get("sizes") or []
    if sizes:
        worst_wall = max(sizes, key=lambda s: s["ratio_wall_paired"])
        worst_q = max(sizes, key=lambda s: s["ratio_query"])
        t.append(("ingest ≥ 1.5× faster than DuckDB 1-thread, whole process vs whole process "
                  "(median of the paired ratios ours ÷ DuckDB ≤ 0.667 at every size)",
                  ", ".join(f"{s['label']} {s['ratio_wall_paired']:.2f}" for s in sizes),
                  worst_wall["ratio_wall_paired"] <= 1 / 1.5))
        t.append(("(stricter) our whole process vs DuckDB's in-query time only (≤ 0.667 at every size)",
                  ", ".join(f"{s['label']} {s['ratio_query']:.2f}" for s in sizes), worst_q["ratio_query"] <= 1 / 1.5))
        peak = max(s["ours_rss_kib_max"] for s in sizes)
        t.append(("peak RSS ≤ 128 MiB (OS ru_maxrss, every run, every size)", f"max {peak / 1024:.1f} MiB",
                  peak <= 128 * 1024))
        lo = min(s["ours_rss_kib"] for s in sizes)
        hi = max(s["ours_rss_kib"] for s in sizes)
        t.append(("peak RSS flat 100K → 10M incl. 1 row group (median spread ≤ 32 MiB = ¼ of the ceiling)",
                  ", ".join(f"{s['label']} {s['ours_rss_kib'] / 1024:.0f}" for s in sizes) + " MiB",
                  (hi - lo) <= 32 * 1024))
    e2e = results.get("end_to_end_2m")
    if e2e:
        t.append(("2M rows end to end (ingest + month roll-up, two processes) < 2.8 s",
                  f"{e2e['total_s']:.3f} s (ingest {e2e['ingest_s']:.3f} + roll-up {e2e['rollup_s']:.3f}); "
                  f"PostgreSQL alone storing the {e2e['summary_rows']:,} summary rows: {e2e['insert_floor_s']:.3f} s",
                  e2e["total_s"] < 2.8))
    ru = results.get("rollup_100k_pods")
    if ru:
        ing = ru["ingest"]
        t.append(("(extra) peak RSS ≤ 128 MiB on the high-cardinality file: one day, 100K pods, 2.4M rows",
                  f"{ing['rss_kib'] / 1024:.1f} MiB, {ing['wall_s']:.1f} s, {ing['flushes']} chunks",
                  ing["rss_kib"] <= 128 * 1024))
        t.append((f"roll-up of a day with {ru['pods']:,} pods < 1 s ({ru['pod_partial_rows']:,} pod partial rows; "
                  f"process wall, median of {len(ru['runs'])})",
                  f"{ru['wall_s_median']:.3f} s (in handler {ru['elapsed_ms_median']:.0f} ms); PostgreSQL alone "
                  f"storing its {ru['summary_rows']:,} rows in koku's table: {ru['insert_floor_s']:.3f} s",
                  ru["wall_s_median"] < 1.0))
    c = results.get("concurrency")
    if c:
        t.append((f"{c['processes']} concurrent ingests: no failure, exact totals",
                  f"{len(c['failures'])} failed; Σ cpu core-s {c['db_sum']:.6f} vs {c['expected_sum']:.6f} "
                  f"(rel {c['relative_diff']:.1e}); rows {c['rows_read_db']:,}/{c['rows_expected']:,}; "
                  f"{c['total_wall_s']:.2f} s wall", c["exact"]))
    return t


def markdown(results) -> str:
    m = results["machine"]
    L = []
    L.append("# Ingest benchmark results")
    L.append("")
    L.append(f"- date: {results['date']}")
    L.append(f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, {m['os']}, Python {m['python']}")
    L.append(f"- command: `{results['command']}`")
    L.append(f"- S3 server: {results['s3_server']}; DuckDB {results.get('duckdb_version', '?')}, 1 thread; "
             f"ingest binary built {results['ingest_mtime']} (sha256 {results['ingest_sha256']}…)")
    L.append("- times are medians; wall = perf_counter around the child process; peak RSS = the child's "
             "ru_maxrss (os.wait4). DuckDB \"query\" = the peer's own timing (connect → both GROUP BYs "
             "materialised), its process wall adds Python start-up and `import duckdb`. Ours always "
             "includes process start, Postgres connect, S3 fetch, decode, COPY and commit. Children are "
             "started through bench/spawn_child.py so ru_maxrss is not inflated by the driver's memory "
             "(its floor is the launcher's ~8.5 MiB).")
    qc = results.get("quiet_checks") or []
    if qc:
        L.append("- CPU used by other processes just before each step (0.5 s sample of /proc/stat, niced time "
                 f"excluded; the run waits up to {QUIET['budget']:.0f} s in all for < {QUIET['threshold']:.0%}): "
                 + ", ".join(f"{c['step']} {c['busy']:.0%}" + ("" if c["quiet"] else " (noisy)") for c in qc))
    L.append("")
    for e in results.get("errors") or []:
        L.append(f"**Step `{e['step']}` failed:** `{e['error'].splitlines()[0][:300]}` (details in results.json)")
        L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| target | measured | result |")
    L.append("|---|---|---|")
    for name, measured, ok in targets(results):
        L.append(f"| {name} | {measured} | {'**pass**' if ok else '**MISS**'} |")
    L.append("")
    sizes = results.get("sizes") or []
    if sizes:
        L.append("## Ingest vs DuckDB (1 thread), same file, alternating runs")
        L.append("")
        L.append("Ratios are medians of each of our runs over the DuckDB run beside it (the machine's speed "
                 "drifts; pairs share it); the other columns are medians of their own.")
        L.append("")
        L.append("| file | rows | row groups | MiB | fetched ÷ size | runs | ours wall s | ours rows/s | "
                 "ours peak RSS MiB (OS / VmHWM) | DuckDB wall s | DuckDB query s | DuckDB query+COPY s | "
                 "DuckDB peak RSS MiB | ours ÷ DuckDB wall | ours ÷ DuckDB query | ours ÷ DuckDB query+COPY |")
        L.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for s in sizes:
            L.append(
                f"| {s['label']} | {s['rows']:,} | {s['row_groups']} | {s['object_bytes'] / MiB:.1f} | "
                f"{fmt(s['fetched_over_size'], 3)} | {s['runs']} | {fmt(s['ours_wall_s'])} | "
                f"{s['rows_per_s'] / 1e6:.2f} M | {mib(s['ours_rss_kib'])} / {mib(s['ours_emf_peak_kib'])} | "
                f"{fmt(s['duck_wall_s'])} | {fmt(s['duck_query_s'])} | {fmt(s.get('duck_query_plus_copy_s'))} | "
                f"{mib(s['duck_rss_kib'])} | {fmt(s['ratio_wall_paired'], 2)} | {fmt(s['ratio_query'], 2)} | "
                f"{fmt(s.get('ratio_query_copy'), 2)} |")
        L.append("")
        prof = [s for s in sizes if s.get("profile")]
        if prof:
            L.append("## Where our time goes (one extra profiled run per file, seconds)")
            L.append("")
            L.append("startup = spawn → first S3 GET (exec, config, PG connect + migration check, object lock); "
                     "fetch = first GET → `fetched projected column chunks` (all column chunks on local disk; "
                     "decoding runs meanwhile, and waited for bytes still on their way for *fetch wait*); "
                     "decode = first GET → start of the last COPY (the COPYs of finished days overlap it; the "
                     "decoder waited *write wait* for the database to take a chunk before handing over the "
                     "next); last COPY and commit from pg_stat_activity samples (~10 ms resolution); exit = EMF "
                     "line → process exit. CPU = user+sys of the ingest process.")
            L.append("")
            L.append("| file | wall | CPU | startup | fetch | decode | fetch wait | write wait | COPYs (n, Σ s) | "
                     "last COPY | finish+commit | exit | partial rows (chunks) | GETs, bytes served (EMF BytesFetched) |")
            L.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
            for s in prof:
                b = s["profile"]
                L.append(f"| {s['label']} | {fmt(b.get('wall'))} | {fmt(b.get('cpu'))} | {fmt(b.get('startup'))} | "
                         f"{fmt(b.get('fetch'))} | {fmt(b.get('decode'))} | {fmt(b.get('fetch_wait'))} | "
                         f"{fmt(b.get('write_wait'))} | "
                         f"{b.get('copies', '–')}, {fmt(b.get('copy_total'))} | {fmt(b.get('last_copy'))} | "
                         f"{fmt(b.get('finish_commit'))} | {fmt(b.get('exit'))} | "
                         f"{(b.get('partial_rows') or 0):,.0f} ({b.get('flushes')}) | "
                         f"{b.get('s3_requests')}, {(b.get('s3_bytes_served') or 0):,} ({(b.get('bytes_fetched') or 0):,.0f}) |")
            L.append("")
    mc = results.get("moto_2m")
    if mc:
        L.append("## S3 server: moto vs the sendfile file server (2M rows, same binary)")
        L.append("")
        L.append("| server | ingest wall s | `fetched` line at s | EMF line at s |")
        L.append("|---|--:|--:|--:|")
        L.append(f"| moto ({mc['endpoint']}) | {fmt(mc['wall_s'])} | {fmt(mc['t_fetched'])} | {fmt(mc['t_emf'])} |")
        L.append(f"| {mc['fast_kind']} (same file, medians of the size runs) | {fmt(mc['fast_wall_s'])} | "
                 f"{fmt(mc['fast_t_fetched'])} | {fmt(mc.get('fast_t_emf'))} |")
        L.append("")
    sv = results.get("s3_servers")
    if sv:
        L.append("## Local S3 servers: what the ingest needs (Range, If-Match on GET) and GET speed (2M object)")
        L.append("")
        L.append("| server | Range → 206 | wrong If-Match → | right If-Match → | full GET s (boto3) | MiB/s | usable |")
        L.append("|---|---|--:|--:|--:|--:|---|")
        for r in sv:
            if "error" in r:
                L.append(f"| {r['server']} | error: {r['error'][:120]} | | | | | no |")
                continue
            L.append(f"| {r['server']} | {'yes' if r['range'] else 'no'} | {r['if_match_mismatch']} | "
                     f"{r['if_match_match']} | {fmt(r['full_get_s'])} | {r['mib_per_s']:.0f} | "
                     f"{'yes' if r['usable'] else '**no** (If-Match ignored)' if r['if_match_mismatch'] != 412 else 'no'} |")
        L.append("")
    e2e = results.get("end_to_end_2m")
    ru = results.get("rollup_100k_pods")
    c = results.get("concurrency")
    if e2e or ru or c:
        L.append("## End to end, roll-up, concurrency")
        L.append("")
        L.append("| measurement | result |")
        L.append("|---|---|")
        if e2e:
            L.append(f"| 2M rows: ingest + roll-up (month request), median of {len(e2e['runs'])} | "
                     f"{e2e['total_s']:.3f} s = {e2e['ingest_s']:.3f} + {e2e['rollup_s']:.3f}; "
                     f"{e2e['summary_rows']:,} summary rows |")
            L.append(f"| PostgreSQL alone storing those {e2e['summary_rows']:,} rows in koku's table (binary COPY "
                     f"of the finished rows, its indexes and foreign keys as they are) | {e2e['insert_floor_s']:.3f} s |")
        if ru:
            ing = ru["ingest"]
            L.append(f"| 100K-pod day ({ru['pods']:,} pods, {ing['rows']:,.0f} rows), ingest | "
                     f"{ing['wall_s']:.2f} s, peak RSS {ing['rss_kib'] / 1024:.0f} MiB, {ing['flushes']} chunk(s), "
                     f"{ru['pod_partial_rows']:,} pod partial rows ({ing['partial_rows']:,.0f} partial rows in all) |")
            L.append("| roll-up of that day | "
                     + "; ".join(f"{x['kind']}: {x['wall_s']:.3f} s ({x['elapsed_ms']} ms in handler)" for x in ru["runs"])
                     + f"; {ru['summary_rows']:,} summary rows |")
            L.append(f"| PostgreSQL alone storing those {ru['summary_rows']:,} rows in koku's table (as above) | "
                     f"{ru['insert_floor_s']:.3f} s |")
        if c:
            L.append(f"| {c['processes']} concurrent ingests × {c['rows_each']:,} rows (same day, "
                     f"{c['distinct_pods_union']:,} distinct pods of {c['pods_sum_per_file']:,}) | "
                     f"{c['total_wall_s']:.2f} s total; per process median {median(c['per_process_wall_s']):.2f} s, "
                     f"max {max(c['per_process_wall_s']):.2f} s, peak RSS max {max(c['per_process_rss_kib']) / 1024:.0f} MiB; "
                     f"{len(c['failures'])} failures; Σ {c['db_sum']!r} vs expected {c['expected_sum']!r} "
                     f"(math.fsum of the files; rel diff {c['relative_diff']:.1e}, per file max "
                     f"{c['max_per_file_relative_diff']:.1e}, tolerance {c['tolerance']:.0e}) |")
        L.append("")
    return "\n".join(L) + "\n"


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = [s for s in results.get("sizes") or []]
    if not sizes:
        return
    multi = [s for s in sizes if s["name"] != "pod_10m_1rg"]
    one = [s for s in sizes if s["name"] == "pod_10m_1rg"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.8))
    x = [s["rows"] for s in multi]
    a1.plot(x, [s["ours_wall_s"] for s in multi], "o-", label="ours: ingest process (S3→Postgres)")
    a1.plot(x, [s["duck_wall_s"] for s in multi], "s--", label="DuckDB 1 thread: process")
    a1.plot(x, [s["duck_query_s"] for s in multi], "^:", label="DuckDB 1 thread: in-query")
    if any(s.get("duck_query_plus_copy_s") for s in multi):
        a1.plot(x, [s.get("duck_query_plus_copy_s") for s in multi], "v-.", label="DuckDB: query + COPY to PG")
    for s in one:
        a1.plot([s["rows"]], [s["ours_wall_s"]], "D", color="C0", mfc="none", ms=10, label="ours: 10M, 1 row group")
        a1.plot([s["rows"]], [s["duck_wall_s"]], "D", color="C1", mfc="none", ms=10, label="DuckDB: 10M, 1 row group")
    a1.set_xscale("log")
    a1.set_yscale("log")
    a1.set_xlabel("rows")
    a1.set_ylabel("seconds (median)")
    a1.set_title("time")
    a1.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=7)
    a2.plot(x, [s["ours_rss_kib"] / 1024 for s in multi], "o-", label="ours (ru_maxrss)")
    a2.plot(x, [s["duck_rss_kib"] / 1024 for s in multi], "s--", label="DuckDB process (ru_maxrss)")
    for s in one:
        a2.plot([s["rows"]], [s["ours_rss_kib"] / 1024], "D", color="C0", mfc="none", ms=10, label="ours: 1 row group")
        a2.plot([s["rows"]], [s["duck_rss_kib"] / 1024], "D", color="C1", mfc="none", ms=10, label="DuckDB: 1 row group")
    a2.axhline(128, color="red", lw=1, ls=":", label="128 MiB ceiling")
    a2.set_xscale("log")
    a2.set_xlabel("rows")
    a2.set_ylabel("peak RSS, MiB")
    a2.set_title("peak memory")
    a2.grid(True, which="both", alpha=0.3)
    a2.legend(fontsize=7)
    fig.suptitle(f"pod_usage ingest vs DuckDB — {results['machine']['nproc']} CPUs, {results['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="ingest / roll-up benchmark (see bench/README.md)")
    ap.add_argument("--runs", type=int, default=5, help="runs per file below 10M rows (default %(default)s)")
    ap.add_argument("--runs-10m", type=int, default=3, help="runs per 10M-row file (default %(default)s)")
    ap.add_argument("--s3", choices=["fileserver", "moto"], default="fileserver",
                    help="S3 server for the timed runs: bench/s3_fileserver.py (default) or the moto server "
                         "from AWS_ENDPOINT_URL_S3")
    ap.add_argument("--only", default="sizes,e2e,rollup,concurrency,moto,servers",
                    help="comma list of steps: sizes,e2e,rollup,concurrency,moto,servers (default all)")
    ap.add_argument("--max-rows", type=int, default=None, help="skip size files above this many rows")
    ap.add_argument("--no-copy", action="store_true", help="skip the DuckDB --copy-to-postgres runs")
    ap.add_argument("--no-profile", action="store_true", help="skip the profiled (pg_stat_activity) run per file")
    ap.add_argument("--wait-idle", type=float, default=90.0,
                    help="seconds, over the whole run, to wait (at most 30 per step) for other processes to "
                         "leave the CPU idle before a step (default %(default)s; 0 = do not wait)")
    ap.add_argument("--keep-schemas", action="store_true", help="do not drop the benchmark schemas at the end")
    args = ap.parse_args(argv)
    steps = set(args.only.split(","))
    command = "scripts/with-services.sh python3 bench/run.py" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])
                                                                   if (argv if argv is not None else sys.argv[1:]) else "")

    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        sys.exit("bench: DATABASE_URL is not set; run as scripts/with-services.sh python3 bench/run.py")
    for b in (INGEST, ROLLUP):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: {b} missing; run `cargo build --release --bins` (make build) first")
    duckdb = ensure_module("duckdb", "duckdb")
    ensure_module("pyarrow", "pyarrow")
    ensure_module("numpy", "numpy")
    ensure_module("matplotlib", "matplotlib")
    psycopg = ensure_module("psycopg", "psycopg[binary]", required=False)
    if psycopg is None and steps & {"concurrency", "rollup"}:
        sys.exit("bench: psycopg is needed for the roll-up and concurrency checks")
    if "CLOCK_MONOTONIC" not in time.get_clock_info("perf_counter").implementation:
        log("perf_counter is not CLOCK_MONOTONIC here: phase stamps from the file server log will be off")

    QUIET["budget"] = args.wait_idle
    started = time.perf_counter()
    os.makedirs(os.path.join(WORK, "events"), exist_ok=True)
    os.makedirs(RESULTS, exist_ok=True)

    specs = []
    if steps & {"sizes", "e2e", "moto", "servers"}:
        specs += [(n, f) for n, f, _ in SIZES
                  if args.max_rows is None or int(f[1]) <= args.max_rows or n == "pod_2m"]
    if "rollup" in steps:
        specs.append(DAY_100K_PODS)
    if "concurrency" in steps:
        specs += [conc_spec(i) for i in range(CONC_FILES)]
    log(f"generating / reusing {len(specs)} input files under {GEN}")
    datasets = generate_all(specs)

    tag = time.strftime("%m%d%H%M%S")
    env = Env(dsn, tag)
    results = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), "command": command,
        "machine": machine(), "duckdb_version": duckdb.__version__,
        "ingest_mtime": dt.datetime.fromtimestamp(os.path.getmtime(INGEST)).strftime("%Y-%m-%d %H:%M"),
        "ingest_sha256": sha256_file(INGEST)[:16], "rollup_sha256": sha256_file(ROLLUP)[:16],
        "inputs": {k: {kk: v[kk] for kk in ("key", "rows", "row_groups", "bytes", "flags")} for k, v in datasets.items()},
    }
    if args.s3 == "moto":
        if not os.environ.get("AWS_ENDPOINT_URL_S3"):
            sys.exit("bench: --s3 moto needs AWS_ENDPOINT_URL_S3 (scripts/with-services.sh)")
        server = MotoServer(os.environ["AWS_ENDPOINT_URL_S3"])
        results["s3_server"] = f"moto at {server.endpoint}"
    else:
        server = FileServer()
        results["s3_server"] = f"bench/s3_fileserver.py (sendfile, Range + If-Match) at {server.endpoint}"
    try:
        probe_meta = datasets.get("pod_100k") or next(iter(datasets.values()))
        key, etag = server.put(probe_meta, bucket_of(probe_meta["name"]))
        results["s3_probe"] = probe_s3(server.endpoint, bucket_of(probe_meta["name"]), key, etag)
        if not results["s3_probe"]["usable"]:
            log(f"warning: S3 server probe: {results['s3_probe']}")
        ssteps = [("sizes", lambda: bench_sizes(args, env, server, datasets, psycopg, dsn, results)),
                  ("e2e", lambda: bench_end_to_end(args, env, server, datasets, psycopg, dsn, results)),
                  ("rollup", lambda: bench_rollup_day(args, env, server, datasets, psycopg, dsn, results)),
                  ("concurrency", lambda: bench_concurrency(args, env, server, datasets, psycopg, dsn, results)),
                  ("moto", lambda: bench_moto_compare(args, env, datasets, results, server.kind)
                   if args.s3 != "moto" else None),
                  ("servers", lambda: bench_s3_servers(args, datasets, results,
                                                       server.endpoint if server.kind == "fileserver" else None))]
        for name, fn in ssteps:
            if name in steps:
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 (report it, run the other steps)
                    import traceback
                    log(f"step {name} FAILED: {e}")
                    traceback.print_exc()
                    results.setdefault("errors", []).append({"step": name, "error": str(e)[-3000:]})
    finally:
        server.stop()
        if not args.keep_schemas and psycopg is not None and env.schemas:
            try:
                with psycopg.connect(dsn, autocommit=True) as c:
                    for s in env.schemas:
                        c.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
            except Exception as e:  # noqa: BLE001
                log(f"could not drop benchmark schemas: {e}")
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    results["quiet_checks"] = QUIET["checks"]
    md = markdown(results)
    md += f"\nWhole benchmark: {results['bench_seconds']} s (inputs cached in .work/bench/gen).\n"
    with open(os.path.join(RESULTS, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(RESULTS, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    if results.get("sizes"):
        plot(results, os.path.join(RESULTS, "bench.png"))
    print(md)
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
