#!/usr/bin/env python3
"""LOCAL STAND-IN FOR S3 -> LAMBDA. Not part of the deployed system.

In AWS the bucket's notification configuration invokes the ingest function asynchronously, with
retries and a failure queue (template.yaml). Locally there is no Lambda service, so the demo's bucket
(moto) sends its notifications to an SQS queue (moto), and this process:

  * long-polls the queue;
  * skips moto's initial `s3:TestEvent` message;
  * normalises each notification into the S3Event that Lambda would deliver: moto leaves out
    `userIdentity`, `requestParameters` and `s3.object.sequencer`, and writes `eventTime` without a
    time zone ('2026-11-25T13:35:38.887074'); a sequencer is made up from a monotonic clock so that
    later events of a key sort after earlier ones, as S3's do;
  * runs the real ingest binary once per message (`target/release/ingest --event FILE`, the same
    handler the Lambda runtime calls) and prints one line per arrival: key -> outcome;
  * deletes the message when ingest succeeded; on failure leaves it, so SQS delivers it again after
    the visibility timeout (as Lambda retries an asynchronous invocation), at most --max-attempts
    times.

    python3 demo/dispatcher.py --queue-url URL [--expect N] [--idle-exit SECONDS]

Needs the services' environment (AWS_ENDPOINT_URL_SQS/S3, DATABASE_URL, DB_SCHEMA, ...), which is
passed on to ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
INGEST = ROOT / "target" / "release" / "ingest"

_last_seq = 0


def next_sequencer() -> str:
    """Strictly increasing, fixed-width hex, like S3's per-key sequencers."""
    global _last_seq
    _last_seq = max(time.time_ns(), _last_seq + 1)
    return f"{_last_seq:020X}"


def normalise(record: dict) -> dict:
    """A moto notification record -> the S3EventRecord Lambda delivers."""
    rec = json.loads(json.dumps(record))
    t = rec.get("eventTime", "")
    if t and not (t.endswith("Z") or "+" in t[10:]):
        rec["eventTime"] = t + "Z"
    rec.setdefault("userIdentity", {"principalId": "AWS:LOCAL-DEMO"})
    rec.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    rec.setdefault("responseElements", {})
    obj = rec["s3"]["object"]
    obj.setdefault("sequencer", next_sequencer())
    if rec.get("eventName", "").startswith("ObjectRemoved"):
        # S3 sends neither size nor eTag for a removal.
        obj.pop("size", None)
        obj.pop("eTag", None)
    return rec


def invoke_ingest(event: dict, env: dict[str, str]) -> tuple[bool, str]:
    """Runs ingest on one event; (succeeded, outcome text)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(event, f)
        path = f.name
    try:
        out = subprocess.run([str(INGEST), "--event", path], env=env, capture_output=True, text=True)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        lines = (out.stderr.strip() or out.stdout.strip()).splitlines()
        return False, "error: " + (lines[-1] if lines else f"exit {out.returncode}")
    # The result is the last stdout line that is a JSON array (log and metric lines come before).
    for line in reversed(out.stdout.splitlines()):
        line = line.strip()
        if line.startswith("["):
            try:
                outcomes = json.loads(line)
            except json.JSONDecodeError:
                continue
            parts = []
            for o in outcomes:
                parts.append(o["outcome"] + (f" ({o['detail']})" if o.get("detail") else ""))
            return True, ", ".join(parts) or "no records"
    return True, "(no result line)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queue-url", required=True)
    ap.add_argument("--expect", type=int, default=0,
                    help="exit once this many object records were handled (0: run until idle-exit)")
    ap.add_argument("--idle-exit", type=float, default=0,
                    help="exit after this many seconds without a message (0: never)")
    ap.add_argument("--max-attempts", type=int, default=3)
    args = ap.parse_args()

    if not INGEST.exists():
        print(f"dispatcher: {INGEST} is missing (cargo build --release --bins)", file=sys.stderr)
        return 2
    sqs = boto3.client("sqs")
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "warn")
    handled = 0
    failures = 0
    last_message = time.monotonic()
    print("dispatcher: waiting for S3 notifications (local stand-in for S3 -> Lambda)", flush=True)
    while True:
        resp = sqs.receive_message(
            QueueUrl=args.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=2,
            VisibilityTimeout=5, AttributeNames=["ApproximateReceiveCount"],
        )
        messages = resp.get("Messages", [])
        if not messages:
            if args.idle_exit and time.monotonic() - last_message > args.idle_exit:
                print(f"dispatcher: idle for {args.idle_exit:.0f}s; exiting", flush=True)
                break
            continue
        last_message = time.monotonic()
        for msg in messages:
            body = json.loads(msg["Body"])
            if body.get("Event") == "s3:TestEvent":
                print(f"dispatcher: skipped s3:TestEvent for bucket {body.get('Bucket')}", flush=True)
                sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=msg["ReceiptHandle"])
                continue
            records = [normalise(r) for r in body.get("Records", [])]
            attempt = int(msg.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            t0 = time.monotonic()
            ok, outcome = invoke_ingest({"Records": records}, env)
            ms = (time.monotonic() - t0) * 1000
            for r in records:
                key = urllib.parse.unquote_plus(r["s3"]["object"]["key"])
                print(f"  {r['eventName']:<21} {key} -> {outcome}  [{ms:.0f} ms]", flush=True)
            if ok:
                sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=msg["ReceiptHandle"])
                handled += len(records)
            elif attempt >= args.max_attempts:
                print(f"  giving up after {attempt} attempts (in AWS: the failure queue)", flush=True)
                sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=msg["ReceiptHandle"])
                handled += len(records)
                failures += len(records)
        if args.expect and handled >= args.expect:
            break
    if args.expect and handled < args.expect:
        print(f"dispatcher: only {handled} of {args.expect} expected records arrived", flush=True)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
