#!/usr/bin/env bash
# s3.sh — local S3/SQS-compatible HTTP server (moto_server from moto[server]) for tests.
#
# Usage: scripts/s3.sh start|stop|status|env DIR        (e.g. DIR=/work/main/.work/s3)
#
#   start   starts moto in server mode on 127.0.0.1 in the background (pid in DIR/pid,
#           output in DIR/log, port in DIR/port) and waits until it answers HTTP.
#           No-op if already running. State is in memory: every start is empty.
#   stop    stops it (SIGTERM, then SIGKILL after 10 s); no-op if not running.
#   status  exit 0 if running, 3 if not.
#   env     prints `export ...` lines for eval: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS,
#           AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_DEFAULT_REGION,
#           S3_FORCE_PATH_STYLE, AWS_EC2_METADATA_DISABLED.
#
# One moto process serves every AWS service (S3, SQS, ...) on the same port.
#
# Environment:
#   S3_PORT=N    preferred port (default: the one remembered in DIR/port, else 54330);
#                if busy, the next free one is used and remembered in DIR/port.
#   PYTHON=...   interpreter that has moto[server] (default: python3 from PATH, which
#                with-services.sh and demo/run.sh make the project's environment, .work/venv).
set -euo pipefail

PROG=s3.sh
NOUN=server
DEFAULT_PORT=54330
# shellcheck source=lib/service.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib/service.sh"
service_args "$@"

# ---------------------------------------------------------------- helpers
# Alive, not a zombie, and really our moto (guards against pid reuse).
pid_is_moto() {
    local pid=$1 state
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] && [ "$state" != X ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'moto' || return 1
}

is_running() { pid_is_moto "$(read_digits "$DIR/pid")"; }

# Any HTTP response to GET / counts (moto answers with an S3 ListBuckets document).
http_ok() (
    port=$1 line=""
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$port" >&3 || exit 1
    IFS= read -r -t 5 line <&3 || true
    [[ $line == HTTP/* ]]
)

# ---------------------------------------------------------------- commands
cmd_start() {
    lock
    local port pid
    if is_running; then
        port=$(read_digits "$DIR/port")
        [ -n "$port" ] || die "moto is running (pid $(cat "$DIR/pid")) but $DIR/port is missing"
        http_ok "$port" 2>/dev/null || die "moto (pid $(cat "$DIR/pid")) is running but not answering on 127.0.0.1:$port"
        return 0
    fi
    local python=${PYTHON:-python3} py
    command -v "$python" >/dev/null 2>&1 || die "$python not found; run scripts/install-deps.sh, then scripts/venv.sh .work/venv requirements.txt"
    # Resolve the real interpreter (e.g. behind pyenv shims) so that DIR/pid is the server's pid.
    local rc=0
    py=$("$python" -c 'import sys, importlib.util as u
print(sys.executable)
sys.exit(0 if all(u.find_spec(m) for m in ("moto", "flask", "flask_cors")) else 3)') || rc=$?
    [ "$rc" -ne 3 ] || die "moto[server] is not installed for $py; make the project's environment (scripts/venv.sh .work/venv requirements.txt) and put .work/venv/bin first on PATH, as scripts/with-services.sh does"
    [ "$rc" -eq 0 ] && [ -x "$py" ] || die "cannot run $python"
    port=$(choose_port "${S3_PORT:-}" S3_PORT)
    echo "$port" >"$DIR/port"
    rm -f "$DIR/pid"
    {
        echo "---- $(date -u +%FT%TZ) starting moto server on 127.0.0.1:$port"
    } >>"$DIR/log"
    # Own session: a Ctrl-C aimed at the caller does not kill it; lock fd 9 not inherited.
    setsid "$py" -m moto.server -H 127.0.0.1 -p "$port" </dev/null >>"$DIR/log" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$DIR/pid"
    for _ in $(seq 1 120); do
        if ! kill -0 "$pid" 2>/dev/null || ! pid_is_moto "$pid"; then
            echo "---- last lines of $DIR/log ----" >&2
            tail -n 20 "$DIR/log" >&2 || true
            rm -f "$DIR/pid"
            die "moto server exited during startup (port $port)"
        fi
        if http_ok "$port" 2>/dev/null; then return 0; fi
        sleep 0.25
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$DIR/pid"
    die "moto server did not answer HTTP on 127.0.0.1:$port within 30 s (see $DIR/log)"
}

cmd_stop() {
    [ -f "$DIR/pid" ] || return 0
    lock
    local pid
    pid=$(read_digits "$DIR/pid")
    if pid_is_moto "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            pid_is_moto "$pid" || break
            sleep 0.1
        done
        if pid_is_moto "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            ! pid_is_moto "$pid" || die "could not stop moto server (pid $pid)"
        fi
    fi
    rm -f "$DIR/pid"
}

cmd_status() {
    if is_running; then
        echo "running on 127.0.0.1:$(read_digits "$DIR/port") (pid $(read_digits "$DIR/pid"))"
    else
        echo "not running"
        exit 3
    fi
}

cmd_env() {
    local port
    port=$(read_digits "$DIR/port")
    [ -n "$port" ] || die "no server in $DIR (run: $PROG start $DIR)"
    emit AWS_ENDPOINT_URL_S3 "http://127.0.0.1:$port"
    emit AWS_ENDPOINT_URL_SQS "http://127.0.0.1:$port"
    emit AWS_ACCESS_KEY_ID test
    emit AWS_SECRET_ACCESS_KEY test
    emit AWS_REGION us-east-1
    emit AWS_DEFAULT_REGION us-east-1
    emit S3_FORCE_PATH_STYLE true
    emit AWS_EC2_METADATA_DISABLED true
}

"cmd_$CMD"   # start, stop, status or env (service_args checked it)
