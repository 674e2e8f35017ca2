#!/usr/bin/env bash
# install-deps.sh — install what the tests, demo and bench need, only when missing.
#
#   Debian packages : postgresql, postgresql-client (initdb/pg_ctl/psql/pg_isready), openssl
#   PyPI packages   : moto[server] 5.x (+ flask, flask-cors), pyarrow, duckdb, boto3
#
# Usage: scripts/install-deps.sh
#   env PYTHON=...   python interpreter to install into (default: python3)
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
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    [ "$PYTHON" = python3 ] || die "PYTHON=$PYTHON not found"
    apt_pkgs+=(python3 python3-pip)
fi
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
    apt_install "${apt_pkgs[@]}"
    have_pg_server || die "postgresql installed but initdb/pg_ctl not found"
fi

# ---------------------------------------------------------------- Python packages
# One interpreter start; find_spec/metadata avoid importing the (slow) packages.
py_out=$("$PYTHON" - <<'PY'
import importlib.util as u, importlib.metadata as m
def ver(dist):
    try:
        return m.version(dist)
    except m.PackageNotFoundError:
        return None
missing = []
v = ver("moto")
if (v is None or int(v.split(".")[0]) != 5
        or not all(u.find_spec(x) for x in ("moto", "flask", "flask_cors", "werkzeug"))):
    missing.append("moto[server]>=5,<6")
for mod, req in (("pyarrow", "pyarrow"), ("duckdb", "duckdb"), ("boto3", "boto3")):
    if u.find_spec(mod) is None:
        missing.append(req)
print("\n".join(missing))
PY
) || die "$PYTHON failed to check installed packages"
py_missing=()
[ -z "$py_out" ] || mapfile -t py_missing <<<"$py_out"
if [ "${#py_missing[@]}" -gt 0 ]; then
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        [ "$(command -v "$PYTHON")" = /usr/bin/python3 ] || die "$PYTHON has no pip (try: $PYTHON -m ensurepip)"
        apt_install python3-pip
    fi
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
    # Debian's system python is "externally managed" (PEP 668); we are a throwaway test box.
    if "$PYTHON" -c 'import os,sys,sysconfig; sys.exit(0 if sys.prefix==sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"],"EXTERNALLY-MANAGED")) else 1)'; then
        export PIP_BREAK_SYSTEM_PACKAGES=1
    fi
    pip_cmd=("$PYTHON" -m pip install --quiet)
    if [ "$(id -u)" -ne 0 ] && ! "$PYTHON" -c 'import os,sys,sysconfig; sys.exit(0 if os.access(sysconfig.get_paths()["purelib"], os.W_OK) else 1)'; then
        pip_cmd+=(--user)
    fi
    # flask/flask-cors come with the [server] extra; listed explicitly to be sure.
    extra=()
    for p in "${py_missing[@]}"; do
        case $p in moto*) extra+=(flask flask-cors) ;; esac
    done
    quiet "${pip_cmd[@]}" "${py_missing[@]}" "${extra[@]}" || die "pip install ${py_missing[*]} failed"
    # pyenv: make newly installed console scripts (moto_server) visible as shims.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
fi
exit 0
