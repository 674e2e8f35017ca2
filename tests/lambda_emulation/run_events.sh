#!/usr/bin/env bash
# run_events.sh — every event in events/ through the release binaries under `cargo lambda watch`.
#
# Usage: scripts/with-services.sh tests/lambda_emulation/run_events.sh
#
# Needs the services' environment (DATABASE_URL, AWS_ENDPOINT_URL_S3, ...: with-services.sh sets
# it) and target/release/{ingest,rollup} (built here with `cargo build --release --bins -p ingest
# -p rollup` only if missing). cargo-lambda comes from PATH, $CARGO_LAMBDA, .work/venv-sam or
# .work/venv-cargo-lambda; if none has it, it is pip-installed into .work/venv-cargo-lambda (PyPI
# package cargo-lambda: one binary, plus ziglang that the emulator does not use).
# Ends with the line `N passed, M failed`; exits non-zero on failure. See run_events.py.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
WORK_DIR=${WORK_DIR:-$ROOT/.work}
PYTHON=${PYTHON:-python3}

find_cargo_lambda() {
    local c
    for c in "${CARGO_LAMBDA:-}" "$(command -v cargo-lambda 2>/dev/null || true)" \
             "$ROOT/.work/venv-sam/bin/cargo-lambda" "$WORK_DIR/venv-cargo-lambda/bin/cargo-lambda"; do
        if [ -n "$c" ] && [ -x "$c" ] && "$c" lambda --version >/dev/null 2>&1; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

if ! CARGO_LAMBDA=$(find_cargo_lambda); then
    echo "run_events.sh: installing cargo-lambda into $WORK_DIR/venv-cargo-lambda" >&2
    mkdir -p "$WORK_DIR"
    "$PYTHON" -m venv "$WORK_DIR/venv-cargo-lambda"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$WORK_DIR/venv-cargo-lambda/bin/pip" install --quiet cargo-lambda
    CARGO_LAMBDA=$(find_cargo_lambda) || { echo "run_events.sh: cargo-lambda install failed" >&2; exit 2; }
fi
export CARGO_LAMBDA

if [ ! -x "$ROOT/target/release/ingest" ] || [ ! -x "$ROOT/target/release/rollup" ]; then
    (cd "$ROOT" && cargo build --release --bins -p ingest -p rollup)
fi

exec "$PYTHON" "$HERE/run_events.py" "$@"
