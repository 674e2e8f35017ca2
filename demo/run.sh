#!/usr/bin/env bash
# demo/run.sh — `make demo`: the whole pipeline on this machine, no Docker, no AWS account.
#
#   koku uploads hourly Parquet ──S3 notification──▶ ingest (one process per object)
#        ──partials + dirty days in PostgreSQL──▶ roll-up (as the nightly schedule would)
#        ──▶ reporting_ocpusagelineitem_daily_summary, printed with psql
#
# What stands in for AWS here:
#   S3, SQS          moto server on 127.0.0.1 (scripts/s3.sh)
#   RDS PostgreSQL   a throwaway cluster on 127.0.0.1 (scripts/pg.sh)
#   S3 -> Lambda     demo/dispatcher.py: the bucket notifies an SQS queue, the dispatcher polls it and
#                    runs target/release/ingest --event per message (the handler Lambda would call)
#   the schedule     target/release/rollup --event with the EventBridge Scheduler input
#
# Environment: WORK_DIR (default .work), DEMO_SCHEMA (default demo), DEMO_BUCKET (koku-demo),
#   SKIP_INSTALL=1 (skip scripts/install-deps.sh), DEMO_GEN_FLAGS (kokugen flags; default below).
# Leaves PostgreSQL and moto running and prints how to query and how to stop them.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
WORK_DIR=${WORK_DIR:-$ROOT/.work}
mkdir -p "$WORK_DIR"
WORK_DIR=$(cd -- "$WORK_DIR" && pwd -P)
SCHEMA=${DEMO_SCHEMA:-demo}
BUCKET=${DEMO_BUCKET:-koku-demo}
QUEUE=${DEMO_QUEUE:-koku-demo-ingest}
SOURCE=5235154c-2132-56b5-8b3d-2a3a00f342f5
# A small cluster: 5 nodes (a master, an infra node, 3 workers), 10 namespaces (platform and user),
# 12 pods per node with labels, 6 PVCs (one RWX shared by two nodes), 3 days of November 2025.
GEN_FLAGS=${DEMO_GEN_FLAGS:---days 3 --nodes 5 --namespaces 10 --pods-per-node 12 --pvcs 6 --seed 7}
PYTHON=${PYTHON:-python3}

step() { printf '\n\033[1m▶ %s\033[0m\n' "$*"; }

step "Services: PostgreSQL and moto (S3 + SQS) on 127.0.0.1"
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    scripts/install-deps.sh
fi
# The Python tools run from the project's own environment, pinned (fast when current).
scripts/venv.sh "$WORK_DIR/venv" requirements.txt
export PATH="$WORK_DIR/venv/bin:$PATH"
scripts/pg.sh start "$WORK_DIR/pg"
scripts/s3.sh start "$WORK_DIR/s3"
eval "$(scripts/pg.sh env "$WORK_DIR/pg")"
eval "$(scripts/s3.sh env "$WORK_DIR/s3")"
echo "PostgreSQL: $(scripts/pg.sh status "$WORK_DIR/pg")"
echo "moto:       $(scripts/s3.sh status "$WORK_DIR/s3")"

if [ ! -x target/release/ingest ] || [ ! -x target/release/rollup ] || [ ! -x target/release/kokugen ]; then
    step "Building the release binaries (missing)"
    cargo build --release --bins
fi

step "Database schema \"$SCHEMA\" (fresh)"
# Created here rather than by the first ingest, so the demo starts from an empty schema.
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" \
    -c "SET client_min_messages = warning" \
    -c "DROP SCHEMA IF EXISTS \"$SCHEMA\" CASCADE" \
    -c "CREATE SCHEMA \"$SCHEMA\""
export DB_SCHEMA=$SCHEMA
export RUST_LOG=${RUST_LOG:-warn}

step "Bucket s3://$BUCKET notifying SQS queue $QUEUE (ObjectCreated/ObjectRemoved, data/parquet/*.parquet)"
QUEUE_URL=$("$PYTHON" demo/bucket.py setup --bucket "$BUCKET" --queue "$QUEUE")
echo "queue: $QUEUE_URL"

step "Dispatcher (LOCAL STAND-IN for S3 -> Lambda) and koku's uploads"
GEN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/koku-demo.XXXXXX")
dispatcher_pid=
cleanup() {
    if [ -n "$dispatcher_pid" ] && kill -0 "$dispatcher_pid" 2>/dev/null; then
        kill "$dispatcher_pid" 2>/dev/null || true
    fi
    rm -rf -- "$GEN_DIR"
}
trap cleanup EXIT
# shellcheck disable=SC2086  # GEN_FLAGS is a list of flags
expected=$(target/release/kokugen --out "$GEN_DIR/count" $GEN_FLAGS | wc -l)
rm -rf -- "$GEN_DIR/count"
"$PYTHON" demo/dispatcher.py --queue-url "$QUEUE_URL" --expect "$expected" --idle-exit 60 &
dispatcher_pid=$!
sleep 0.5
# shellcheck disable=SC2086
"$PYTHON" demo/bucket.py upload --bucket "$BUCKET" --out "$GEN_DIR/gen" $GEN_FLAGS
rc=0
wait "$dispatcher_pid" || rc=$?
dispatcher_pid=
[ "$rc" -eq 0 ] || { echo "demo: the dispatcher reported failures (exit $rc)" >&2; exit 1; }

step "Roll-up, as the nightly schedule invokes it (EventBridge Scheduler input)"
event=$GEN_DIR/scheduler-input.json
printf '{"scheduled_time": "%s"}\n' "$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)" >"$event"
echo "event: $(cat "$event")"
result=$(target/release/rollup --event "$event" | tail -n 1)
echo "result: $result"

step "The summary table: $SCHEMA.reporting_ocpusagelineitem_daily_summary"
PGOPTIONS="-c search_path=$SCHEMA" psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -f demo/report.sql

step "Operator: enable tag keys app and environment, then re-summarize November (manual request)"
# koku keeps only enabled keys in pod_labels (plus vm_kubevirt_io_name); rows already summarized
# keep the old label sets until the month is rolled up again.
PGOPTIONS="-c search_path=$SCHEMA" psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "
    INSERT INTO reporting_enabledtagkeys (key, enabled, provider_type)
    VALUES ('app', true, 'OCP'), ('environment', true, 'OCP')
    ON CONFLICT (key, provider_type) DO UPDATE SET enabled = true"
event=$GEN_DIR/resummarize.json
printf '{"source_uuid": "%s", "month": "2025-11"}\n' "$SOURCE" >"$event"
echo "event: $(cat "$event")"
result=$(target/release/rollup --event "$event" | tail -n 1)
echo "result: $result"
PGOPTIONS="-c search_path=$SCHEMA" psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -P footer=off -c "
    SELECT namespace, pod_labels AS pod_labels_after, count(*) AS rows,
           round(sum(pod_usage_cpu_core_hours), 2) AS cpu_usage
    FROM reporting_ocpusagelineitem_daily_summary
    WHERE data_source = 'Pod' AND usage_start = '2025-11-01'
      AND namespace IN ('analytics', 'frontend', 'koku', 'vm-workloads')
    GROUP BY 1, 2 ORDER BY 1, 2"

step "Done. PostgreSQL and moto are still running."
cat <<EOF
Query the table:
  PGOPTIONS='-c search_path=$SCHEMA' psql '$DATABASE_URL'
  e.g.  SELECT usage_start, namespace, node, pod_labels, pod_usage_cpu_core_hours
          FROM reporting_ocpusagelineitem_daily_summary WHERE data_source = 'Pod' LIMIT 10;

Re-summarize the month again (after changing reporting_enabledtagkeys):
  echo '{"source_uuid": "$SOURCE", "month": "2025-11"}' > /tmp/resummarize.json
  (eval "\$(scripts/pg.sh env $WORK_DIR/pg)"; DB_SCHEMA=$SCHEMA target/release/rollup --event /tmp/resummarize.json)

Stop the servers:
  scripts/s3.sh stop $WORK_DIR/s3; scripts/pg.sh stop $WORK_DIR/pg
EOF
