#!/usr/bin/env python3
"""s3-smoke.py — probe the local S3/SQS server started by scripts/s3.sh.

Usage:  eval "$(scripts/s3.sh env DIR)"; python3 scripts/s3-smoke.py [-v]

Checks (exit 1 if any fails): create bucket, put object, ranged GET (206 + exact
bytes), GET with If-Match (matching etag -> 200, wrong etag -> 412), and S3 bucket
notifications delivered to an SQS queue (put_bucket_notification_configuration with
QueueConfigurations, put_object, receive_message). With -v, prints one notification
message body.

Observed with moto 5.x: Range and If-Match are honoured (206 / 412); notifications are
delivered to SQS in server mode; the configuration call first enqueues an
s3:TestEvent message; object keys in events are quote_plus-encoded ('/' -> %2F,
'=' -> %3D, ' ' -> '+', '+' -> %2B); eventTime has no timezone suffix.
"""
import json
import os
import sys
import time
import uuid
from urllib.parse import unquote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

verbose = "-v" in sys.argv[1:]
failures = []


def check(name, ok, detail=""):
    if not ok:
        failures.append(name)
        print(f"FAIL {name} {detail}", file=sys.stderr)
    elif verbose:
        print(f"ok   {name} {detail}")


cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"], config=cfg)
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"])

suffix = uuid.uuid4().hex[:8]
bucket = f"smoke-{suffix}"
key = "cur/2024/01/part-0000.parquet"
body = bytes(range(256)) * 4  # 1024 bytes

s3.create_bucket(Bucket=bucket)
put = s3.put_object(Bucket=bucket, Key=key, Body=body)
etag = put["ETag"]
check("put_object", bool(etag), etag)

# Ranged GET
r = s3.get_object(Bucket=bucket, Key=key, Range="bytes=100-199")
data = r["Body"].read()
check("range: status 206", r["ResponseMetadata"]["HTTPStatusCode"] == 206,
      str(r["ResponseMetadata"]["HTTPStatusCode"]))
check("range: bytes", data == body[100:200], f"len={len(data)}")
check("range: Content-Range", r.get("ContentRange") == "bytes 100-199/1024", str(r.get("ContentRange")))
r = s3.get_object(Bucket=bucket, Key=key, Range="bytes=-10")
check("range: suffix bytes=-10", r["Body"].read() == body[-10:])

# If-Match
r = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)
check("if-match: matching etag -> 200", r["ResponseMetadata"]["HTTPStatusCode"] == 200)
try:
    s3.get_object(Bucket=bucket, Key=key, IfMatch='"0123456789abcdef0123456789abcdef"')
    check("if-match: wrong etag -> 412", False, "no error raised")
except ClientError as e:
    code = e.response["ResponseMetadata"]["HTTPStatusCode"]
    check("if-match: wrong etag -> 412", code == 412, f"{code} {e.response['Error'].get('Code')}")
r = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, Range="bytes=0-9")
check("if-match + range -> 206", r["ResponseMetadata"]["HTTPStatusCode"] == 206
      and r["Body"].read() == body[:10])

# Notifications S3 -> SQS
queue_url = sqs.create_queue(QueueName=f"smoke-{suffix}")["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
    "Attributes"]["QueueArn"]
s3.put_bucket_notification_configuration(
    Bucket=bucket,
    NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": queue_arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".parquet"}]}},
    }]},
)
# Draining the s3:TestEvent that moto sends when the configuration is set.
msgs = []
deadline = time.time() + 5
while time.time() < deadline:
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    msgs += got.get("Messages", [])
    if msgs:
        break
test_events = [m for m in msgs if "TestEvent" in m["Body"]]
if verbose:
    print(f"info messages after put_bucket_notification_configuration: {len(msgs)}")
    for m in test_events:
        print("info test event body: " + m["Body"])
for m in msgs:
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

key2 = "cur/year=2024/month=02/part 0001+a.parquet"
s3.put_object(Bucket=bucket, Key=key2, Body=b"x" * 42)
s3.put_object(Bucket=bucket, Key="ignored.txt", Body=b"not matching the suffix filter")
msgs = []
deadline = time.time() + 10
while time.time() < deadline and not msgs:
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                              AttributeNames=["All"], MessageAttributeNames=["All"])
    msgs += got.get("Messages", [])
time.sleep(0.5)
got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
msgs += got.get("Messages", [])
check("notification: one message for the .parquet put", len(msgs) == 1, f"got {len(msgs)}")
if msgs:
    m = msgs[0]
    try:
        ev = json.loads(m["Body"])
        rec = ev["Records"][0]
        check("notification: eventName", rec["eventName"].startswith("ObjectCreated:"), rec["eventName"])
        # Keys in S3 events are form-urlencoded (moto: urllib.parse.quote_plus, so '/'
        # becomes %2F too); consumers must unquote_plus them.
        check("notification: bucket/key (after unquote_plus)", rec["s3"]["bucket"]["name"] == bucket
              and unquote_plus(rec["s3"]["object"]["key"]) == key2, rec["s3"]["object"]["key"])
        check("notification: size", rec["s3"]["object"].get("size") == 42, str(rec["s3"]["object"].get("size")))
    except (ValueError, KeyError, IndexError) as e:
        check("notification: body is an S3 event", False, repr(e))
    if verbose:
        print("info notification message body:")
        print(json.dumps(json.loads(m["Body"]), indent=2))
        print("info raw body: " + m["Body"])
        print("info message attributes: " + json.dumps({k: v for k, v in m.items() if k not in ("Body",)}))

if failures:
    print(f"s3-smoke: {len(failures)} check(s) failed: {', '.join(failures)}", file=sys.stderr)
    sys.exit(1)
