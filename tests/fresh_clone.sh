#!/usr/bin/env bash
# fresh_clone.sh — the fast part of `make test` from a fresh clone in a directory only root can enter.
#
# Usage: tests/fresh_clone.sh          (run by `make test`; needs `make build` done)
#
# Clones this repository's committed HEAD into `mktemp -d`/repo (the parent is mode 0700, as /root
# is, where a root user clones by default), gives the clone this checkout's release binaries
# (ingest, rollup and the kokugen generator, copied into its target/release: no second build) and runs there
#     scripts/with-services.sh tests/lambda_emulation/run_events.sh
# i.e. the Debian-package check, PostgreSQL and moto started for the clone's own .work (the server
# user cannot enter the clone, so the cluster must live where it can: scripts/pg.sh), and every
# file in events/ through cargo-lambda's emulation. The clone uses this checkout's virtual
# environments (PY_VENV, SAM_VENV: made from the same pinned files, so nothing is downloaded
# again). The temporary directory is removed at the end; on failure it is kept and named.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
WORK_DIR=${WORK_DIR:-$ROOT/.work}
die() { echo "fresh_clone.sh: error: $*" >&2; exit 1; }

for f in ingest rollup kokugen; do
    [ -x "$ROOT/target/release/$f" ] || die "$ROOT/target/release/$f is missing; run make build first"
done
tmp=$(mktemp -d)
[ "$(stat -c %a "$tmp")" = 700 ] || die "mktemp -d gave $tmp a mode other than 0700"
keep=0
trap '[ "$keep" = 1 ] || rm -rf -- "$tmp"' EXIT
started=$SECONDS
git clone --quiet --no-hardlinks -- "$ROOT" "$tmp/repo" || die "git clone $ROOT failed"
mkdir -p "$tmp/repo/target/release"
cp -p "$ROOT/target/release/ingest" "$ROOT/target/release/rollup" "$ROOT/target/release/kokugen" \
    "$tmp/repo/target/release/"
echo "fresh_clone.sh: clone of $(git -C "$tmp/repo" rev-parse --short HEAD) in $tmp/repo (parent mode 0700)"
if ! (cd "$tmp/repo" && env -u WORK_DIR PY_VENV="$WORK_DIR/venv" SAM_VENV="$WORK_DIR/venv-sam" \
        scripts/with-services.sh tests/lambda_emulation/run_events.sh); then
    keep=1
    die "the emulation failed in the fresh clone (kept: $tmp/repo)"
fi
echo "fresh_clone.sh: passed in $((SECONDS - started)) s"
