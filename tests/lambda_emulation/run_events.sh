#!/usr/bin/env bash
# run_events.sh — every event in events/ through the release binaries under a Lambda runtime
# emulation: `cargo lambda watch` (default), or `sam local invoke` in containers (--via sam).
#
# Usage: scripts/with-services.sh tests/lambda_emulation/run_events.sh [--via cargo-lambda|sam]
#
# Needs the services' environment (DATABASE_URL, AWS_ENDPOINT_URL_S3, ...: with-services.sh sets
# it, and puts the project's Python environment first on PATH) and target/release/{ingest,rollup}
# (built here with `cargo build --release --bins -p ingest -p rollup` only if missing).
# cargo-lambda and the SAM CLI come from the pinned environment SAM_VENV (default
# $WORK_DIR/venv-sam, made from requirements-sam.txt by scripts/venv.sh when missing or stale).
# --via sam also needs a running Docker engine and the local Lambda base image
# (scripts/lambda-base-image.sh: built once, then cached); without an engine it stops, saying so.
# Ends with the line `N passed, M failed`; exits non-zero on failure. See run_events.py.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
WORK_DIR=${WORK_DIR:-$ROOT/.work}
SAM_VENV=${SAM_VENV:-$WORK_DIR/venv-sam}
PYTHON=${PYTHON:-python3}

(cd "$ROOT" && scripts/venv.sh "$SAM_VENV" requirements-sam.txt)
export CARGO_LAMBDA=$SAM_VENV/bin/cargo-lambda SAM=$SAM_VENV/bin/sam
if [ "${1:-}" = --via ] && [ "${2:-}" = sam ] || [ "${1:-}" = --via=sam ]; then
    WORK_DIR=$WORK_DIR "$ROOT/scripts/lambda-base-image.sh" >/dev/null
fi

if [ ! -x "$ROOT/target/release/ingest" ] || [ ! -x "$ROOT/target/release/rollup" ]; then
    (cd "$ROOT" && cargo build --release --bins -p ingest -p rollup)
fi

exec "$PYTHON" "$HERE/run_events.py" "$@"
