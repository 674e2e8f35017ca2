#!/usr/bin/env bash
# with-services.sh — run a command with a throwaway PostgreSQL and a local S3/SQS (moto).
#
# Usage: scripts/with-services.sh CMD [ARGS...]
#   e.g. scripts/with-services.sh cargo test --workspace
#        scripts/with-services.sh bash -c 'psql "$DATABASE_URL" -c "select 1"'
#
# Steps: scripts/install-deps.sh (Debian packages; fast when all present), scripts/venv.sh
# $PY_VENV (the project's Python tools from the pinned requirements; fast when current) put
# first on PATH, scripts/pg.sh start $WORK_DIR/pg, scripts/s3.sh start $WORK_DIR/s3, eval both
# `env` outputs (DATABASE_URL, PG*, PG_TEST_CA, PG_TEST_TLS_URL, AWS_ENDPOINT_URL_S3/SQS, AWS_*
# credentials, ...), run CMD, then stop both services (also on error/Ctrl-C) and exit with
# CMD's status.
#
# Environment:
#   WORK_DIR=...       state directory (default: <repo>/.work)
#   KEEP_SERVICES=1    leave both services running afterwards (stop them later with
#                      scripts/pg.sh stop $WORK_DIR/pg; scripts/s3.sh stop $WORK_DIR/s3)
#   SKIP_INSTALL=1     don't run install-deps.sh
#   PY_VENV=...        the virtual environment (default: $WORK_DIR/venv)
#   PY_REQUIREMENTS=.. its requirements files, space-separated, relative to the checkout
#                      (default: requirements.txt; `make bench` adds requirements-bench.txt,
#                      in its own environment)
#   PG_PORT, S3_PORT, PG_TLS, PG_AUTH, PYTHON   passed through to pg.sh / s3.sh
set -euo pipefail

SCRIPTS=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$SCRIPTS")
WORK_DIR=${WORK_DIR:-$ROOT/.work}

die() { echo "with-services.sh: error: $*" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: with-services.sh CMD [ARGS...]" >&2; exit 2; }

mkdir -p -- "$WORK_DIR" || die "cannot create $WORK_DIR"
WORK_DIR=$(cd -- "$WORK_DIR" && pwd -P)
PG_DIR=$WORK_DIR/pg
S3_DIR=$WORK_DIR/s3

stopped=0
stop_services() {
    [ "$stopped" -eq 0 ] || return 0
    stopped=1
    [ "${KEEP_SERVICES:-0}" = 1 ] && return 0
    local rc=0
    "$SCRIPTS/s3.sh" stop "$S3_DIR" || rc=1
    "$SCRIPTS/pg.sh" stop "$PG_DIR" || rc=1
    return "$rc"
}
trap 'stop_services || true' EXIT
# Before CMD runs: a signal stops the services and exits.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    "$SCRIPTS/install-deps.sh"
fi
PY_VENV=${PY_VENV:-$WORK_DIR/venv}
case $PY_VENV in /*) ;; *) PY_VENV=$PWD/$PY_VENV ;; esac
read -r -a requirements <<<"${PY_REQUIREMENTS:-requirements.txt}"
(cd "$ROOT" && "$SCRIPTS/venv.sh" "$PY_VENV" "${requirements[@]}")
export PATH="$PY_VENV/bin:$PATH" PY_VENV
"$SCRIPTS/pg.sh" start "$PG_DIR"
"$SCRIPTS/s3.sh" start "$S3_DIR"
pg_env=$("$SCRIPTS/pg.sh" env "$PG_DIR")
s3_env=$("$SCRIPTS/s3.sh" env "$S3_DIR")
eval "$pg_env"
eval "$s3_env"
export WORK_DIR

# CMD runs as a background child (stdin passed through explicitly) so that signals sent
# to this script are handled at once: they are forwarded to CMD, then we clean up.
child=
# shellcheck disable=SC2329  # used by the traps below
forward() { [ -z "$child" ] || kill "-$1" "$child" 2>/dev/null || true; }
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP
set +e
"$@" <&0 &
child=$!
wait "$child"
rc=$?
while kill -0 "$child" 2>/dev/null; do   # wait was interrupted by a trapped signal
    wait "$child"
    rc=$?
done
set -e
trap - INT TERM HUP

if ! stop_services; then
    echo "with-services.sh: warning: stopping services failed" >&2
    [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
