#!/usr/bin/env bash
# venv.sh — a Python virtual environment made from pinned requirements files, remade when they change.
#
# Usage: scripts/venv.sh DIR REQUIREMENTS [MORE_REQUIREMENTS ...]
#   e.g. scripts/venv.sh .work/venv requirements.txt
#        scripts/venv.sh .work/venv-sam requirements-sam.txt
#
# DIR is current when DIR/.requirements.sha256 holds the SHA-256 of the requirements files' text
# and of the base interpreter's version: then this prints nothing and takes well under a second.
# Otherwise DIR is created afresh (`python3 -m venv --clear`: no system site-packages) and the
# files are installed into it with pip; the stamp is written last, so an interrupted install is
# redone next time. Nothing is installed outside DIR. The Python tools of the Makefile and scripts
# (moto, pyarrow, duckdb, boto3, the SAM CLI, cargo-lambda) all run from such environments.
#
# Environment: PYTHON (base interpreter, default python3; Debian needs python3-venv for it,
# which scripts/install-deps.sh installs).
set -euo pipefail

PROG=venv.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -ge 2 ] || { echo "usage: $PROG DIR REQUIREMENTS [MORE_REQUIREMENTS ...]" >&2; exit 2; }

dir=$1
shift
for f in "$@"; do
    [ -f "$f" ] || die "requirements file $f not found"
done
python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 \
    || die "$python not found (Debian: apt-get install python3 python3-venv; scripts/install-deps.sh does)"

stamp=$({ "$python" -c 'import sys; print(sys.version)'; cat -- "$@"; } | sha256sum | cut -d' ' -f1)
current() { [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$stamp" ]; }
current && exit 0

mkdir -p -- "$(dirname -- "$dir")"
exec 9>>"$dir.lock"
flock -w 900 9 || die "timed out waiting for $dir.lock"
current && exit 0   # made by another process meanwhile

echo "$PROG: creating $dir from $* (pinned versions; a minute or two the first time)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$python" -m venv --clear "$dir" >"$log" 2>&1 || {
    cat "$log" >&2
    die "$python -m venv failed (Debian: apt-get install python3-venv; scripts/install-deps.sh does)"
}
pip_args=()
for f in "$@"; do pip_args+=(-r "$f"); done
if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$dir/bin/python" -m pip install --quiet \
        "${pip_args[@]}" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "pip install into $dir failed (needs PyPI reachable; see the lines above)"
fi
echo "$stamp" >"$dir/.requirements.sha256"
