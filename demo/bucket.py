#!/usr/bin/env python3
"""The demo's local S3 side (moto): a bucket that notifies an SQS queue, and koku's uploads.

    python3 demo/bucket.py setup  --bucket B --queue Q        # prints the queue URL
    python3 demo/bucket.py upload --bucket B --out DIR [kokugen flags...]

`setup` creates (or reuses) the bucket and the queue, empties the queue, and gives the bucket the
notification configuration that template.yaml gives the real one (s3:ObjectCreated:* and
s3:ObjectRemoved:*, prefix data/parquet/, suffix .parquet), pointed at the queue instead of the
ingest function (demo/dispatcher.py plays Lambda).

`upload` generates a small cluster with the kokugen generator (tools/kokugen, the release binary
`make demo` builds) and uploads its files one at a
time, as koku does, with the object metadata koku sets (reportdatestart, reportnumhours).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
# The generator: the release binary `make build` makes with the workspace's other binaries (built
# here when missing; `cargo run -p kokugen` would rebuild the Arrow crates with the features of
# that one package). cargo's messages go to stderr.
KOKUGEN = [str(ROOT / "target" / "release" / "kokugen")]


def build_kokugen_if_missing() -> None:
    if not Path(KOKUGEN[0]).is_file():
        subprocess.run(["cargo", "build", "--release", "--workspace", "--bins", "--quiet"],
                       check=True, cwd=ROOT)


def setup(bucket: str, queue: str) -> None:
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    rules = [{"Name": "prefix", "Value": "data/parquet/"}, {"Name": "suffix", "Value": ".parquet"}]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{
                "Id": "ocp-summary-ingest",
                "QueueArn": arn,
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                "Filter": {"Key": {"FilterRules": rules}},
            }]
        },
    )
    print(url)


def upload(bucket: str, out: str, gen_flags: list[str], pause: float) -> None:
    build_kokugen_if_missing()
    proc = subprocess.run(
        [*KOKUGEN, "--out", out, *gen_flags],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    files = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    s3 = boto3.client("s3")
    for f in files:
        body = Path(f["path"]).read_bytes()
        s3.put_object(
            Bucket=bucket, Key=f["key"], Body=body,
            Metadata={"reportdatestart": f["reportdatestart"], "reportnumhours": str(f["reportnumhours"])},
        )
        print(f"uploaded s3://{bucket}/{f['key']} ({f['rows']} rows, {len(body)} bytes)", flush=True)
        time.sleep(pause)
    print(f"uploaded {len(files)} files", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--bucket", required=True)
    s.add_argument("--queue", required=True)
    u = sub.add_parser("upload")
    u.add_argument("--bucket", required=True)
    u.add_argument("--out", required=True)
    u.add_argument("--pause", type=float, default=0.2, help="seconds between uploads")
    args, rest = ap.parse_known_args()
    if args.cmd == "setup":
        setup(args.bucket, args.queue)
    else:
        upload(args.bucket, args.out, rest, args.pause)
    return 0


if __name__ == "__main__":
    sys.exit(main())
