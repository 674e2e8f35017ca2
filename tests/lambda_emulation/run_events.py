#!/usr/bin/env python3
"""Runs every sample event in events/ through the real release binaries under `cargo lambda watch`
(default) or `sam local invoke` (--via sam: a container per invocation; see sam_local.py).

    scripts/with-services.sh tests/lambda_emulation/run_events.sh [--via cargo-lambda|sam]

The emulator is cargo-lambda's Lambda control plane (`cargo lambda watch --only-lambda-apis`): it
serves the Runtime API and the Invoke API on 127.0.0.1. The functions are target/release/ingest and
target/release/rollup themselves, started with the environment the emulator asks for, so they run
their `lambda_runtime::run` loop exactly as in Lambda (not `--event` mode). Events are sent with
`cargo lambda invoke <function> --data-file <event>`.

Steps:
  1. generate the objects the ingest events name (events/generate.py: the kokugen generator, seed
     42) and upload them to bucket koku-bucket on the local S3 server; if eTag/size differ from the
     committed events (a changed generator), patched copies of the events are used, and it says so;
  2. start the emulator and both functions (DB_SCHEMA=lambda_emulation, dropped first);
  3. invoke the events in a fixed order and check each result:
       puts -> ingested, the same put again -> already_current, the URL-encoded key -> ingested
       under its decoded name, delete (after deleting the object) -> removed, a koku daily file ->
       skipped; EventBridge rule event -> rows_written > 0; Scheduler input -> nothing left dirty;
       manual month / range -> rows_written > 0. The schedule events' `time`/`scheduled_time` are
       set to now (dirty marks carry the wall-clock time; a 2025 time would select none);
  4. query PostgreSQL: summary rows for 2025-11-01 (Pod and Storage), none for 2025-11-02 (its
     only object was removed), no dirty marks left.
Prints `N passed, M failed` last; exits 1 on any failure.

Environment: DATABASE_URL and AWS_ENDPOINT_URL_S3 etc. (scripts/with-services.sh sets them);
LAMBDA_EMULATION_SCHEMA (default lambda_emulation, with --via sam sam_local), LAMBDA_EMULATION_PORT
(default: a free one), CARGO_LAMBDA and SAM (paths of the cargo-lambda and sam commands; run_events.sh
sets them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EVENTS = ROOT / "events"
sys.path.insert(0, str(EVENTS))
import generate as gen  # noqa: E402  (events/generate.py)
from sam_local import SamLocal  # noqa: E402  (tests/lambda_emulation/sam_local.py)

SCHEMA = os.environ.get("LAMBDA_EMULATION_SCHEMA", "lambda_emulation")
# prebuilt: `cargo lambda watch --only-lambda-apis` + target/release/{ingest,rollup} started here
#           (exactly the binaries `cargo build --release` made; nothing is compiled);
# watch:    `cargo lambda watch --release`, which starts them itself via `cargo run --release`.
MODE = os.environ.get("LAMBDA_EMULATION_MODE", "prebuilt")
INVOKE_TIMEOUT = 900 if MODE == "watch" else 180

passed = 0
failed = 0


def log(msg: str) -> None:
    print(msg, flush=True)


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        log(f"PASS {name}")
    else:
        failed += 1
        log(f"FAIL {name}{': ' + detail if detail else ''}")
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cargo lambda watch exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"cargo lambda watch did not listen on 127.0.0.1:{port} in {seconds}s")


def psql(sql: str) -> str:
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", os.environ["DATABASE_URL"], "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


class Emulator:
    """cargo lambda watch (Lambda APIs only) plus the two release binaries as its functions."""

    def __init__(self, cargo_lambda: str, port: int, logdir: Path, env: dict[str, str]):
        self.cargo_lambda = cargo_lambda
        self.port = port
        self.logdir = logdir
        self.env = env
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        watch_log = open(self.logdir / "watch.log", "wb")
        if MODE == "watch":
            # cargo-lambda starts each function itself on its first invocation, with
            # `cargo run --release --bin <function>`: the release build is reused, and whatever
            # changed since is rebuilt first (that can take minutes).
            args = ["--release", "--ignore-changes", "--quiet"]
        else:
            args = ["--only-lambda-apis"]
        watch = subprocess.Popen(
            [self.cargo_lambda, "lambda", "watch", *args,
             "--invoke-address", "127.0.0.1", "--invoke-port", str(self.port),
             "--timeout", str(INVOKE_TIMEOUT)],
            cwd=ROOT, env=self.env, stdout=watch_log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.procs.append(watch)
        wait_port(self.port, watch, 60)
        if MODE == "watch":
            return
        for function in ("ingest", "rollup"):
            binary = ROOT / "target" / "release" / function
            env = dict(self.env)
            env.update({
                # What cargo lambda watch gives the processes it starts itself, and what Lambda
                # gives a provided.al2023 function.
                "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{self.port}/.rt/{function}",
                "AWS_LAMBDA_FUNCTION_NAME": function,
                "AWS_LAMBDA_FUNCTION_VERSION": "1",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128" if function == "ingest" else "256",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            })
            flog = open(self.logdir / f"{function}.log", "wb")
            self.procs.append(subprocess.Popen(
                [str(binary)], cwd=ROOT, env=env, stdout=flog, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            ))
        time.sleep(0.5)
        for p in self.procs[1:]:
            if p.poll() is not None:
                raise RuntimeError(f"{p.args[0]} exited with {p.returncode} at start-up (see {self.logdir})")

    def invoke(self, function: str, event: Path) -> tuple[bool, object]:
        """(succeeded, parsed response or error text)."""
        out = subprocess.run(
            [self.cargo_lambda, "lambda", "invoke", function, "--data-file", str(event),
             "--invoke-address", "127.0.0.1", "--invoke-port", str(self.port), "--output-format", "json"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=INVOKE_TIMEOUT + 30,
        )
        if out.returncode != 0:
            return False, (out.stdout + out.stderr).strip()
        try:
            return True, json.loads(out.stdout)
        except json.JSONDecodeError:
            return False, out.stdout.strip()

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def prepare_events(gen_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Event files to send: the committed ones, or patched copies where eTag/size must differ."""
    paths = {p.name: p for p in sorted(EVENTS.glob("*.json"))}
    fresh = gen.build(gen_dir)
    for name, path in list(paths.items()):
        if name not in fresh or not name.startswith("ingest-"):
            continue
        body = json.loads(path.read_text())
        patched = False
        for rec, new in zip(body["Records"], fresh[name]["Records"]):
            for field in ("eTag", "size"):
                if rec["s3"]["object"].get(field) != new["s3"]["object"].get(field):
                    log(f"note: {name}: {field} of the generated object differs from the committed "
                        f"event (a changed generator?); using {new['s3']['object'].get(field)!r}")
                    rec["s3"]["object"][field] = new["s3"]["object"].get(field)
                    patched = True
        if patched:
            paths[name] = out_dir / name
            paths[name].write_text(json.dumps(body, indent=2))
    return paths


def scheduled_now(path: Path, out_dir: Path) -> Path:
    """A schedule event with its time set to now: the roll-up takes the days marked dirty no later
    than the schedule's time, and the marks carry the wall-clock time of the ingest."""
    body = json.loads(path.read_text())
    # Whole seconds, as EventBridge writes them: round up so that every mark so far is included.
    now = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if "scheduled_time" in body:
        body["scheduled_time"] = now
    elif body.get("detail-type") == "Scheduled Event":
        body["time"] = now
    else:
        return path
    patched = out_dir / ("now-" + path.name)
    patched.write_text(json.dumps(body, indent=2))
    return patched


def outcome_is(result: object, outcome: str, key: str | None = None) -> tuple[bool, str]:
    if not isinstance(result, list) or len(result) != 1:
        return False, f"expected one record outcome, got {result!r}"
    rec = result[0]
    if rec.get("outcome") != outcome:
        return False, f"outcome {rec.get('outcome')!r} (detail {rec.get('detail')!r}), expected {outcome!r}"
    if key is not None and rec.get("key") != key:
        return False, f"key {rec.get('key')!r}, expected {key!r}"
    return True, ""


def main() -> int:
    global SCHEMA
    ap = argparse.ArgumentParser(description="Every file in events/ through a Lambda runtime emulation.")
    ap.add_argument("--via", choices=("cargo-lambda", "sam"), default="cargo-lambda",
                    help="cargo lambda watch with the release binaries (default), or sam local invoke")
    via = ap.parse_args().via
    if via == "sam":
        SCHEMA = os.environ.get("LAMBDA_EMULATION_SCHEMA", "sam_local")
    for var in ("DATABASE_URL", "AWS_ENDPOINT_URL_S3"):
        if not os.environ.get(var):
            log(f"error: {var} is not set; run under scripts/with-services.sh")
            return 2
    tool = "sam" if via == "sam" else "cargo-lambda"
    runner = os.environ.get(tool.upper().replace("-", "_")) or shutil.which(tool)
    if not runner:
        log(f"error: {tool} not found (run via tests/lambda_emulation/run_events.sh)")
        return 2
    for function in ("ingest", "rollup"):
        if not (ROOT / "target" / "release" / function).exists():
            log(f"error: target/release/{function} is missing; run `cargo build --release --bins` first")
            return 2

    import boto3  # scripts/install-deps.sh installs it

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="lambda-emulation-"))
    keep_logs = False
    emulator = None
    try:
        # 1. objects
        gen_dir = work / "gen"
        gen.generate_objects(gen_dir)
        s3 = boto3.client("s3")
        try:
            s3.create_bucket(Bucket=gen.BUCKET)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        for key, path in gen.objects(gen_dir):
            s3.put_object(Bucket=gen.BUCKET, Key=key, Body=path.read_bytes())
        events = prepare_events(gen_dir, work)
        log(f"uploaded {len(gen.objects(gen_dir))} objects to s3://{gen.BUCKET}; "
            f"{len(events)} events in {EVENTS.relative_to(ROOT)}/")

        # 2. emulator + functions, on a fresh schema
        # Created here: the two functions' first connections would both create it, and
        # `CREATE SCHEMA IF NOT EXISTS` run concurrently can fail one of them (see docs/DEPLOY.md).
        psql(f'SET client_min_messages = warning; DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE; '
             f'CREATE SCHEMA "{SCHEMA}"')
        if via == "sam":
            emulator = SamLocal(runner, ROOT, work, SCHEMA)
            emulator.start()
            log(emulator.describe())
        env = dict(os.environ)
        env.update({
            "DB_SCHEMA": SCHEMA,
            "SPILL_DIR": str(work),
            "MEMORY_CEILING_MIB": env.get("MEMORY_CEILING_MIB", "128"),
            # As template.yaml configures them (LoggingConfig LogFormat JSON).
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": env.get("AWS_LAMBDA_LOG_LEVEL", "INFO"),
        })
        if env.get("PG_TEST_CA") and env.get("PGPORT"):
            # As deployed: PG* variables and a verified TLS connection (verify-full against a CA
            # bundle), not a URL. The password stays PGPASSWORD here (no Secrets Manager locally).
            env.pop("DATABASE_URL", None)
            env.update({"PGHOST": "localhost", "PGSSLMODE": "verify-full", "PGSSLROOTCERT": env["PG_TEST_CA"]})
            tls = "verify-full TLS to localhost"
        else:
            tls = "DATABASE_URL"
        if emulator is None:
            port = int(os.environ.get("LAMBDA_EMULATION_PORT") or free_port())
            emulator = Emulator(runner, port, work, env)
            emulator.start()
            log(f"cargo lambda watch ({MODE}) on 127.0.0.1:{port}; functions ingest, rollup "
                f"(target/release); schema {SCHEMA}; database via {tls}")

        def invoke(function: str, name: str):
            t0 = time.monotonic()
            ok, result = emulator.invoke(function, scheduled_now(events[name], work))
            log(f"  {function} <- {name}: {json.dumps(result)[:300]} ({time.monotonic() - t0:.1f}s)")
            return ok, result

        def expect_outcome(name: str, outcome: str, key: str | None = None, label: str | None = None):
            ok, result = invoke("ingest", name)
            if not ok:
                return check(label or f"{name} -> {outcome}", False, str(result))
            good, why = outcome_is(result, outcome, key)
            return check(label or f"{name} -> {outcome}", good, why)

        done: set[str] = set()
        # 3a. ingest
        for name in ("ingest-put-pod_usage.json", "ingest-put-storage_usage.json",
                     "ingest-put-node_labels.json", "ingest-put-namespace_labels.json"):
            expect_outcome(name, "ingested")
            done.add(name)
        expect_outcome("ingest-put-pod_usage.json", "already_current",
                       label="ingest-put-pod_usage.json again (redelivery) -> already_current")
        expect_outcome("ingest-put-encoded-key.json", "ingested", key=gen.ENCODED_KEY,
                       label="ingest-put-encoded-key.json -> ingested under the decoded key")
        s3.delete_object(Bucket=gen.BUCKET, Key=gen.ENCODED_KEY)
        expect_outcome("ingest-delete.json", "removed", key=gen.ENCODED_KEY)
        expect_outcome("ingest-put-daily-skipped.json", "skipped", key=gen.DAILY_KEY)
        done |= {"ingest-put-encoded-key.json", "ingest-delete.json", "ingest-put-daily-skipped.json"}

        # 3b. roll-up
        def rollup(name: str, label: str, test) -> None:
            ok, result = invoke("rollup", name)
            if not ok or not isinstance(result, dict):
                check(label, False, str(result))
                return
            good = test(result)
            check(label, good, "" if good else json.dumps(result))
            done.add(name)

        rollup("rollup-eventbridge-scheduled.json",
               "rollup-eventbridge-scheduled.json -> both dirty days, rows_written > 0",
               lambda r: r.get("days") == 2 and r.get("rows_written", 0) > 0)
        rollup("rollup-scheduler-input.json",
               "rollup-scheduler-input.json -> nothing left dirty (0 days)",
               lambda r: r.get("days") == 0 and r.get("rows_written") == 0)
        rollup("rollup-manual-month.json",
               "rollup-manual-month.json -> 30 days, rows_written > 0",
               lambda r: r.get("days") == 30 and r.get("rows_written", 0) > 0)
        rollup("rollup-manual-range.json",
               "rollup-manual-range.json -> 2 days, rows_written > 0",
               lambda r: r.get("days") == 2 and r.get("rows_written", 0) > 0)

        # Any event file added later without an expectation here must at least succeed.
        for name in sorted(set(events) - done):
            function = "rollup" if name.startswith("rollup-") else "ingest"
            ok, result = invoke(function, name)
            check(f"{name} (no specific expectation) succeeds", ok, str(result))

        # 4. the table
        q = f'SET search_path TO "{SCHEMA}"; '
        by_source = psql(q + "SELECT coalesce(string_agg(data_source || '=' || n, ',' ORDER BY data_source), '') "
                             "FROM (SELECT data_source, count(*) n FROM reporting_ocpusagelineitem_daily_summary "
                             "WHERE usage_start = '2025-11-01' GROUP BY 1) s")
        counts = dict(p.split("=") for p in by_source.split(",") if p)
        check("summary has Pod rows for 2025-11-01", int(counts.get("Pod", 0)) > 0, by_source)
        check("summary has Storage rows for 2025-11-01", int(counts.get("Storage", 0)) > 0, by_source)
        day2 = psql(q + "SELECT count(*) FROM reporting_ocpusagelineitem_daily_summary "
                        "WHERE usage_start = '2025-11-02'")
        check("no summary rows for 2025-11-02 (its only object was removed)", day2 == "0", f"{day2} rows")
        state = psql(q + "SELECT state FROM ocp_ingested_object WHERE object_key = "
                         f"'{gen.ENCODED_KEY}'")
        check("the removed object is a tombstone", state == "removed", repr(state))
        dirty = psql(q + "SELECT count(*) FROM ocp_dirty_day")
        check("no dirty days left", dirty == "0", f"{dirty} dirty")
    except Exception:
        traceback.print_exc()
        check("run completed", False, "exception (see above)")
    finally:
        if emulator is not None:
            emulator.stop()
        if failed:
            keep_logs = True
            for f in sorted(work.glob("*.log")):
                log(f"---- last lines of {f.name} ----")
                log("\n".join(line[:400] for line in f.read_text(errors="replace").splitlines()[-25:]))
        if not keep_logs:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"logs kept in {work}")
    log(f"lambda emulation: {time.monotonic() - started:.1f}s")
    log(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
