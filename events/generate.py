#!/usr/bin/env python3
"""Writes the sample events in events/ and knows which objects they refer to.

    python3 events/generate.py            # regenerate events/*.json (runs the kokugen generator)
    python3 events/generate.py --check    # exit 1 if the committed events differ from a fresh run

The ingest events name objects that `kokugen --days 2` writes (tools/kokugen; seed 42, defaults),
so their eTag (MD5 of the bytes; single-part upload) and size are those of the generated files.
The emulation test (tests/lambda_emulation/run_events.py) generates and uploads the same files with
`objects()` below; if the generator writes different bytes (a changed generator or parquet crate),
it patches eTag/size in copies of the events and says so.

Every key is form-urlencoded as S3 does in notifications (`=` -> %3D, space -> +).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The generator: the release binary `make build` makes with the workspace's other binaries (built
# here when missing; `cargo run -p kokugen` would rebuild the Arrow crates with the features of
# that one package). cargo's messages go to stderr.
KOKUGEN = [str(ROOT / "target" / "release" / "kokugen")]


def build_kokugen_if_missing() -> None:
    if not Path(KOKUGEN[0]).is_file():
        subprocess.run(["cargo", "build", "--release", "--workspace", "--bins", "--quiet"],
                       check=True, cwd=ROOT)


BUCKET = "koku-bucket"
ORG = "org1234567"
SOURCE = "5235154c-2132-56b5-8b3d-2a3a00f342f5"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = f"data/parquet/{ORG}/OCP"
GEN_FLAGS = ["--days", "2", "--seed", "42"]


def raw_key(report_type: str, file_name: str) -> str:
    return f"{PREFIX}/{report_type}/source={SOURCE}/year=2025/month=11/{file_name}"


def gen_key(report_type: str, day: str) -> str:
    """The key kokugen writes for a report type and day."""
    return raw_key(report_type, f"{report_type}.{day}.1.0_0.parquet")


# The object whose key needs URL encoding: day 2 of pod_usage uploaded under a name with a space
# and '=' in it.
ENCODED_KEY = raw_key("pod_usage", "pod_usage 2025-11-02 manifest=1.parquet")
# A koku daily roll-up file: matches the notification filter, but ingest must skip it.
DAILY_KEY = (
    f"data/parquet/daily/{ORG}/OCP/pod_usage/source={SOURCE}/year=2025/month=11/"
    "pod_usage.2025-11-01.1.0_daily_0.parquet"
)

# (event file, S3 eventName, object key, kokugen key of its content or None, sequencer, eventTime)
INGEST_EVENTS = [
    ("ingest-put-pod_usage.json", "ObjectCreated:Put", gen_key("pod_usage", "2025-11-01"),
     gen_key("pod_usage", "2025-11-01"), "00690A3C1B2E4F5001", "2025-11-02T01:05:11.101Z"),
    ("ingest-put-storage_usage.json", "ObjectCreated:Put", gen_key("storage_usage", "2025-11-01"),
     gen_key("storage_usage", "2025-11-01"), "00690A3C1B2E4F5002", "2025-11-02T01:05:11.202Z"),
    ("ingest-put-node_labels.json", "ObjectCreated:Put", gen_key("node_labels", "2025-11-01"),
     gen_key("node_labels", "2025-11-01"), "00690A3C1B2E4F5003", "2025-11-02T01:05:11.303Z"),
    ("ingest-put-namespace_labels.json", "ObjectCreated:Put", gen_key("namespace_labels", "2025-11-01"),
     gen_key("namespace_labels", "2025-11-01"), "00690A3C1B2E4F5004", "2025-11-02T01:05:11.404Z"),
    ("ingest-put-encoded-key.json", "ObjectCreated:Put", ENCODED_KEY,
     gen_key("pod_usage", "2025-11-02"), "00690A3C1B2E4F5005", "2025-11-03T01:05:11.505Z"),
    ("ingest-delete.json", "ObjectRemoved:Delete", ENCODED_KEY,
     None, "00690A3C1B2E4F5F06", "2025-11-03T02:10:00.000Z"),
    ("ingest-put-daily-skipped.json", "ObjectCreated:Put", DAILY_KEY,
     None, "00690A3C1B2E4F5007", "2025-11-02T01:06:00.000Z"),
]

ROLLUP_EVENTS = {
    # An EventBridge rule (schedule expression) event.
    "rollup-eventbridge-scheduled.json": {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2025-11-03T03:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ocp-summary-rollup"],
        "detail": {},
    },
    # What the template's EventBridge Scheduler schedule sends (Input with
    # <aws.scheduler.scheduled-time> substituted).
    "rollup-scheduler-input.json": {"scheduled_time": "2025-11-03T03:00:00Z"},
    # An operator's re-summarize of a whole month (backfill, after enabling tag keys).
    "rollup-manual-month.json": {"source_uuid": SOURCE, "month": "2025-11"},
    # ... or of a date range (both ends inclusive).
    "rollup-manual-range.json": {
        "source_uuid": SOURCE,
        "start_date": "2025-11-01",
        "end_date": "2025-11-02",
    },
}


def encode_key(key: str) -> str:
    """S3 notifications form-urlencode keys ('/' kept, space as '+')."""
    return urllib.parse.quote_plus(key, safe="/")


def s3_event(name: str, key: str, seq: str, when: str, etag: str | None, size: int | None) -> dict:
    obj: dict = {"key": encode_key(key)}
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag
    obj["sequencer"] = seq
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": when,
                "eventName": name,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLEKOKU:koku-worker"},
                "requestParameters": {"sourceIPAddress": "10.0.12.34"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "ocp-summary-ingest",
                    "bucket": {
                        "name": BUCKET,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{BUCKET}",
                    },
                    "object": obj,
                },
            }
        ]
    }


def generate_objects(out_dir: Path) -> None:
    """Runs kokugen with the flags the events were made from."""
    build_kokugen_if_missing()
    subprocess.run(
        [*KOKUGEN, "--out", str(out_dir), *GEN_FLAGS],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )


def objects(gen_dir: Path) -> list[tuple[str, Path]]:
    """(S3 key, local file) for every object the ingest events create, in upload order."""
    return [
        (key, gen_dir / content)
        for (_, name, key, content, _, _) in INGEST_EVENTS
        if content is not None and name.startswith("ObjectCreated")
    ]


def md5_and_size(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.md5(data).hexdigest(), len(data)


def build(gen_dir: Path) -> dict[str, dict]:
    events: dict[str, dict] = {}
    for file, name, key, content, seq, when in INGEST_EVENTS:
        etag = size = None
        if content is not None:
            etag, size = md5_and_size(gen_dir / content)
        elif name.startswith("ObjectCreated"):
            etag, size = "9b2cf535f27731c974343645a3985328", 61440  # never read (skipped key)
        events[file] = s3_event(name, key, seq, when, etag, size)
    events.update(ROLLUP_EVENTS)
    return events


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed events")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate_objects(Path(tmp))
        events = build(Path(tmp))
    stale = []
    for file, body in events.items():
        text = json.dumps(body, indent=2) + "\n"
        path = HERE / file
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(file)
        else:
            path.write_text(text)
            print(f"wrote {os.path.relpath(path)}")
    if stale:
        print("differ from a fresh run: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
