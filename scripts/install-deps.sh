#!/usr/bin/env bash
# install-deps.sh — install the Debian packages the tests, demo and bench need, only when missing.
#
#   postgresql, postgresql-client   initdb, pg_ctl, psql, pg_isready (scripts/pg.sh)
#   openssl                         the test cluster's TLS certificates
#   python3, python3-venv           the base interpreter of the project's virtual environments
#   debootstrap                     the local Lambda base image for `sam local invoke`
#                                   (scripts/lambda-base-image.sh)
#
# Python packages are not installed here, and never into the system interpreter: scripts/venv.sh
# makes the project's virtual environments under .work/ from the pinned requirements*.txt.
# A Docker engine is not installed either: `make test` needs one running (for `sam local invoke`)
# and says so when there is none.
#
# Usage: scripts/install-deps.sh
#   env PYTHON=...   base interpreter the virtual environments are made with (default: python3)
#
# Everything is checked first; when all is present this takes well under a second
# and prints nothing. `apt-get update` runs at most once, and only if a Debian
# package has to be installed. Needs root (or sudo) only when something is missing.
set -euo pipefail

PYTHON=${PYTHON:-python3}

die() { echo "install-deps.sh: error: $*" >&2; exit 1; }

# Run a command quietly; show its output only if it fails.
quiet() {
    local out rc=0
    out=$(mktemp)
    "$@" >"$out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "install-deps.sh: command failed (exit $rc): $*" >&2
        tail -n 40 "$out" >&2
        rm -f "$out"
        return "$rc"
    fi
    rm -f "$out"
}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); fi
fi

deb_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# Any usable server installation: initdb + pg_ctl in pg_config's bindir or /usr/lib/postgresql/*/bin.
have_pg_server() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then return 0; fi
    fi
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then return 0; fi
    done
    return 1
}

have_pg_client() {
    local d
    command -v psql >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1 && return 0
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/psql" ] && [ -x "$d/pg_isready" ]; then return 0; fi
    done
    return 1
}

# ---------------------------------------------------------------- Debian packages
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "missing $* and apt-get is not available"
    if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
        die "missing Debian packages ($*); run as root"
    fi
    # Don't let the postgresql package create/start a 'main' cluster on port 5432:
    # our clusters are throwaway ones made by scripts/pg.sh. (Kept by --force-confold.)
    if ! deb_installed postgresql-common && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        "${SUDO[@]}" mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | "${SUDO[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=1
    fi
    quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "$@" || die "apt-get install $* failed"
}

apt_pkgs=()
have_pg_server || apt_pkgs+=(postgresql)
have_pg_client || apt_pkgs+=(postgresql-client)
command -v openssl >/dev/null 2>&1 || apt_pkgs+=(openssl)
command -v debootstrap >/dev/null 2>&1 || apt_pkgs+=(debootstrap)
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    [ "$PYTHON" = python3 ] || die "PYTHON=$PYTHON not found"
    apt_pkgs+=(python3 python3-venv)
elif ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    # Debian's python3 makes virtual environments only with python3-venv (ensurepip).
    [ "$(command -v "$PYTHON")" = /usr/bin/python3 ] \
        || die "$PYTHON cannot create virtual environments (no venv/ensurepip module)"
    apt_pkgs+=(python3-venv)
fi
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
    apt_install "${apt_pkgs[@]}"
    have_pg_server || die "postgresql installed but initdb/pg_ctl not found"
fi
exit 0
