#!/usr/bin/env bash
# pg.sh — throwaway PostgreSQL cluster for tests/demo/bench.
#
# Usage: scripts/pg.sh start|stop|status|env DIR        (e.g. DIR=.work/pg)
#
#   start   creates the cluster (initdb) + starts it; waits for pg_isready; ensures role
#           `koku` (LOGIN SUPERUSER, password koku-test-password) and database `koku`.
#           No-op if already running.
#   stop    pg_ctl stop -m fast, then removes the cluster; no-op if not running.
#   status  exit 0 if running, 3 if not.
#   env     prints `export ...` lines for eval: DATABASE_URL, PGHOST, PGPORT, PGUSER,
#           PGPASSWORD, PGDATABASE, PG_TEST_CA, PG_TEST_TLS_URL.
#
# DIR is the caller's state directory: rundir (the path of the cluster's run directory), port
# (the chosen TCP port), log (the server log of the last cluster, kept on stop), .lock.
# The cluster itself lives in a run directory of its own, RUN = a fresh `mktemp -d` under
# PG_RUN_PARENT (default /tmp, world-traversable), owned by the server user: data/ (the cluster,
# 0700), tls/ (ca.crt, ca.key, server.crt, server.key), log, .s.PGSQL.<port> (socket). As root the
# server runs as an unprivileged user who may be unable to enter DIR (a checkout under /root or a
# `mktemp -d` directory is 0700), so nothing of the server's is kept there, and no permission of
# the caller's directories is changed. `stop` removes RUN; a RUN left by a crash or a reboot is
# replaced on the next start. Each start is a fresh, empty cluster.
#
# The server listens on 127.0.0.1 only, auth is `trust` for local/loopback connections,
# TLS is on but not required (plain and TLS connections are both accepted); the server
# cert is issued by RUN/tls/ca.crt for DNS:localhost, DNS:host.docker.internal (the host as
# containers see it: tests/lambda_emulation's `sam local invoke`) and IP:127.0.0.1, so
#   psql "host=localhost port=$PGPORT sslmode=verify-full sslrootcert=$PG_TEST_CA ..."
# works. Durability is switched off (fsync, synchronous_commit, full_page_writes).
#
# Environment:
#   PG_PORT=N          preferred port (default: the one remembered in DIR/port, else 54329);
#                      if busy, the next free one is used and remembered in DIR/port.
#   PG_TLS=0           don't enable TLS (default: enabled).
#   PG_AUTH=...        pg_hba method for TCP loopback connections (default: trust;
#                      e.g. scram-sha-256 to make the password matter).
#   PG_USER=...        OS user that runs the server when invoked as root (default: pgtest,
#                      created as a system user if missing).
#   PG_RUN_PARENT=...  where run directories are made (default: /tmp); PG_USER must be able
#                      to traverse it.
set -euo pipefail

PROG=pg.sh
NOUN=cluster
DB_NAME=koku
DB_ROLE=koku
DB_PASSWORD=koku-test-password
DEFAULT_PORT=54329
RUN_MARK=.ocp-summary-pg   # in RUN: the DIR it belongs to (checked before RUN is removed)
# shellcheck source=lib/service.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib/service.sh"
service_args "$@"

# Keep the caller's libpq settings (PGHOST, PGSSLMODE, ...) out of our internal psql calls.
for v in $(compgen -e); do
    case $v in PG[A-Z]*) unset "$v" ;; esac
done

# ---------------------------------------------------------------- helpers
find_bindir() {
    local d best=""
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    fi
    best=$(for d in /usr/lib/postgresql/*/bin; do
               [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
           done | sort -V | tail -n 1)
    if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
        best=$(dirname -- "$(command -v initdb)")
    fi
    [ -n "$best" ] || die "PostgreSQL server binaries (initdb, pg_ctl) not found; run scripts/install-deps.sh"
    echo "$best"
}

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
RUN_USER=${PG_USER:-pgtest}

ensure_user() {
    [ "$IS_ROOT" -eq 1 ] || return 0
    if ! id -u "$RUN_USER" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$RUN_USER" 2>/dev/null \
            || id -u "$RUN_USER" >/dev/null 2>&1 \
            || die "cannot create system user $RUN_USER"
    fi
}

# Run a command as the cluster owner (pgtest when we are root), from inside RUN.
# fd 9 (our lock) is closed so the postmaster does not inherit it.
as_pg() {
    if [ "$IS_ROOT" -eq 1 ]; then
        (cd "$RUN" && runuser -u "$RUN_USER" -- "$@") 9>&-
    else
        (cd "$RUN" && "$@") 9>&-
    fi
}

is_running() {
    [ -n "$RUN" ] && [ -f "$DATA/PG_VERSION" ] && [ -f "$DATA/postmaster.pid" ] || return 1
    as_pg "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

# ---------------------------------------------------------------- the run directory
# RUN, DATA and TLS of the cluster recorded in DIR/rundir, if that is still ours (else all empty).
load_run() {
    RUN="" DATA="" TLS=""
    local r=""
    [ -f "$DIR/rundir" ] && r=$(cat "$DIR/rundir")
    [[ $r == /* ]] && [ -d "$r" ] && [ "$(cat "$r/$RUN_MARK" 2>/dev/null)" = "$DIR" ] || return 0
    RUN=$r DATA=$r/data TLS=$r/tls
}

# A fresh run directory for the server user, recorded in DIR/rundir.
new_run() {
    local parent=${PG_RUN_PARENT:-/tmp}
    [ -d "$parent" ] || die "PG_RUN_PARENT=$parent is not a directory"
    RUN=$(mktemp -d "$parent/ocp-summary-pg.XXXXXX") || die "cannot create a directory in $parent"
    echo "$DIR" >"$RUN/$RUN_MARK"
    echo "$RUN" >"$DIR/rundir"   # first, so that whatever fails below, the next start removes it
    chmod 755 "$RUN"   # data/ itself is 0700; tls/ca.crt stays readable for clients
    if [ "$IS_ROOT" -eq 1 ]; then
        chown -R "$RUN_USER:" "$RUN"
        runuser -u "$RUN_USER" -- test -w "$RUN" -a -x "$RUN" \
            || die "user $RUN_USER cannot use $RUN (every directory above it must be traversable by others; set PG_RUN_PARENT)"
    fi
    DATA=$RUN/data TLS=$RUN/tls
}

# Removes RUN (the cluster is stopped), keeping its server log as DIR/log.
drop_run() {
    [ -n "$RUN" ] || return 0
    if [ -f "$RUN/log" ]; then cp -f -- "$RUN/log" "$DIR/log" 2>/dev/null || true; fi
    rm -rf -- "$RUN"
    rm -f -- "$DIR/rundir"
    RUN="" DATA="" TLS=""
}

conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# ---------------------------------------------------------------- TLS material
# A CA and a server certificate it issued, fresh for each cluster (in RUN/tls).
make_tls() {
    command -v openssl >/dev/null 2>&1 || die "openssl not found; run scripts/install-deps.sh"
    mkdir -p "$TLS"
    chmod 755 "$TLS"
    local ext=$TLS/server.ext
    cat >"$ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,DNS:host.docker.internal,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$TLS/ca.key" -out "$TLS/ca.crt" -subj "/CN=koku test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1) \
        || die "openssl: cannot create CA in $TLS"
    (umask 077 && openssl req -new -newkey rsa:2048 -nodes -sha256 \
        -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=localhost" >/dev/null 2>&1 \
        && openssl x509 -req -sha256 -days 825 -in "$TLS/server.csr" \
            -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
            -extfile "$ext" -out "$TLS/server.crt" >/dev/null 2>&1) \
        || die "openssl: cannot create server certificate in $TLS"
    rm -f "$ext" "$TLS/server.csr"
    chmod 600 "$TLS/server.key" "$TLS/ca.key"
    chmod 644 "$TLS/ca.crt" "$TLS/server.crt"
    if [ "$IS_ROOT" -eq 1 ]; then chown -R "$RUN_USER:" "$TLS"; fi
}

# ---------------------------------------------------------------- cluster setup
init_cluster() {
    local out
    out=$(as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C \
              --no-sync --no-instructions 2>&1) \
        || { echo "$out" >&2; die "initdb failed"; }
    echo "include_if_exists = 'koku_test.conf'" >>"$DATA/postgresql.conf"
}

write_config() {
    local port=$1 auth=${PG_AUTH:-trust} f
    f=$DATA/koku_test.conf
    {
        echo "# Written by scripts/pg.sh on every start; throwaway test cluster."
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = $(conf_quote "$RUN")"
        echo "max_connections = 200"
        echo "shared_buffers = 256MB"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "timezone = 'UTC'"
        echo "log_timezone = 'UTC'"
        if [ "${PG_TLS:-1}" != 0 ]; then
            echo "ssl = on"
            echo "ssl_cert_file = $(conf_quote "$TLS/server.crt")"
            echo "ssl_key_file = $(conf_quote "$TLS/server.key")"
        else
            echo "ssl = off"
        fi
    } >"$f"
    # Loopback only; TLS accepted but not enforced (plain `host` lines match both).
    cat >"$DATA/pg_hba.conf" <<EOF
# Written by scripts/pg.sh on every start.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
host    all          all   127.0.0.1/32   $auth
host    all          all   ::1/128        $auth
local   replication  all                  trust
host    replication  all   127.0.0.1/32   $auth
EOF
    if [ "$IS_ROOT" -eq 1 ]; then chown "$RUN_USER:" "$f" "$DATA/pg_hba.conf"; fi
    chmod 600 "$f" "$DATA/pg_hba.conf"
}

ensure_db() {
    local port=$1 out
    out=$("$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$port" -U postgres -d postgres 2>&1 <<SQL
SET client_min_messages = warning;
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE') THEN
    CREATE ROLE "$DB_ROLE" LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
  ELSIF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE' AND rolcanlogin AND rolsuper) THEN
    ALTER ROLE "$DB_ROLE" LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE "$DB_NAME" OWNER "$DB_ROLE"'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')
\gexec
SQL
) || { echo "$out" >&2; die "could not create role/database $DB_NAME"; }
}

# ---------------------------------------------------------------- commands
BIN=$(find_bindir)
PSQL=$BIN/psql
[ -x "$PSQL" ] || PSQL=$(command -v psql || true)
PG_ISREADY=$BIN/pg_isready
[ -x "$PG_ISREADY" ] || PG_ISREADY=$(command -v pg_isready || true)

cmd_start() {
    ensure_user
    lock
    load_run
    local port
    if is_running; then
        port=$(read_digits "$DIR/port")
        [ -n "$port" ] || die "cluster in $DATA is running but $DIR/port is missing"
    else
        drop_run   # a cluster that is not running (a crash, or gone with a reboot) is not reused
        new_run
        init_cluster
        if [ "${PG_TLS:-1}" != 0 ]; then make_tls; fi
        port=$(choose_port "${PG_PORT:-}" PG_PORT)
        write_config "$port"
        echo "$port" >"$DIR/port"
        if ! as_pg "$BIN/pg_ctl" start -D "$DATA" -l "$RUN/log" -w -t 60 -s >/dev/null 2>&1; then
            echo "---- last lines of $RUN/log ----" >&2
            tail -n 20 "$RUN/log" >&2 || true
            die "PostgreSQL failed to start (port $port)"
        fi
    fi
    local i
    for i in $(seq 1 120); do
        "$PG_ISREADY" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 && break
        [ "$i" -lt 120 ] || die "pg_isready never succeeded on 127.0.0.1:$port (see $RUN/log)"
        sleep 0.25
    done
    ensure_db "$port"
}

cmd_stop() {
    [ -f "$DIR/rundir" ] || return 0
    lock
    load_run
    if is_running; then
        as_pg "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 -s >/dev/null 2>&1 \
            || die "pg_ctl stop failed (see $RUN/log)"
    fi
    drop_run
}

cmd_status() {
    load_run
    if is_running; then
        echo "running on 127.0.0.1:$(read_digits "$DIR/port") (data $DATA)"
    else
        echo "not running"
        exit 3
    fi
}

cmd_env() {
    local port
    load_run
    port=$(read_digits "$DIR/port")
    [ -n "$RUN" ] && [ -n "$port" ] || die "no cluster in $DIR (run: $PROG start $DIR)"
    local url="postgres://$DB_ROLE:$DB_PASSWORD@127.0.0.1:$port/$DB_NAME"
    emit DATABASE_URL "$url"
    emit PGHOST 127.0.0.1
    emit PGPORT "$port"
    emit PGUSER "$DB_ROLE"
    emit PGPASSWORD "$DB_PASSWORD"
    emit PGDATABASE "$DB_NAME"
    if [ -s "$TLS/ca.crt" ]; then
        emit PG_TEST_CA "$TLS/ca.crt"
        emit PG_TEST_TLS_URL \
            "postgres://$DB_ROLE:$DB_PASSWORD@localhost:$port/$DB_NAME?sslmode=verify-full&sslrootcert=$TLS/ca.crt"
    fi
}

"cmd_$CMD"   # start, stop, status or env (service_args checked it)
