#!/usr/bin/env bash
# pg.sh — throwaway PostgreSQL cluster for tests/demo/bench.
#
# Usage: scripts/pg.sh start|stop|status|env DIR        (e.g. DIR=/work/main/.work/pg)
#
#   start   initdb (first time) + start the cluster; waits for pg_isready; ensures role
#           `koku` (LOGIN SUPERUSER, password koku-test-password) and database `koku`.
#           No-op if already running.
#   stop    pg_ctl stop -m fast; no-op if not running.
#   status  exit 0 if running, 3 if not.
#   env     prints `export ...` lines for eval: DATABASE_URL, PGHOST, PGPORT, PGUSER,
#           PGPASSWORD, PGDATABASE, PG_TEST_CA, PG_TEST_TLS_URL.
#
# Layout of DIR: data/ (cluster), port (chosen TCP port), log (server log),
#                tls/ (ca.crt, ca.key, server.crt, server.key), .s.PGSQL.<port> (socket).
#
# The server listens on 127.0.0.1 only, auth is `trust` for local/loopback connections,
# TLS is on but not required (plain and TLS connections are both accepted); the server
# cert is issued by DIR/tls/ca.crt for DNS:localhost and IP:127.0.0.1, so
#   psql "host=localhost port=$PGPORT sslmode=verify-full sslrootcert=$PG_TEST_CA ..."
# works. Durability is switched off (fsync, synchronous_commit, full_page_writes).
#
# Environment:
#   PG_PORT=N      preferred port (default: the one remembered in DIR/port, else 54329);
#                  if busy, the next free one is used and remembered in DIR/port.
#   PG_TLS=0       don't enable TLS (default: enabled).
#   PG_AUTH=...    pg_hba method for TCP loopback connections (default: trust;
#                  e.g. scram-sha-256 to make the password matter).
#   PG_USER=...    OS user that runs the server when invoked as root (default: pgtest,
#                  created as a system user if missing).
set -euo pipefail

PROG=pg.sh
DB_NAME=koku
DB_ROLE=koku
DB_PASSWORD=koku-test-password
DEFAULT_PORT=54329

die() { echo "$PROG: error: $*" >&2; exit 1; }
usage() { echo "usage: $PROG start|stop|status|env DIR" >&2; exit 2; }

[ $# -eq 2 ] || usage
CMD=$1
case $CMD in start|stop|status|env) ;; *) usage ;; esac
[ -n "$2" ] || usage
if [ ! -d "$2" ]; then
    case $CMD in
        start) mkdir -p -- "$2" || die "cannot create directory $2" ;;
        stop) exit 0 ;;
        status) echo "not running"; exit 3 ;;
        env) die "no cluster in $2 (run: $PROG start $2)" ;;
    esac
fi
DIR=$(cd -- "$2" && pwd -P)
DATA=$DIR/data
TLS=$DIR/tls

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

# Run a command as the cluster owner (pgtest when we are root), from inside DIR.
# fd 9 (our lock) is closed so the postmaster does not inherit it.
as_pg() {
    if [ "$IS_ROOT" -eq 1 ]; then
        (cd "$DIR" && runuser -u "$RUN_USER" -- "$@") 9>&-
    else
        (cd "$DIR" && "$@") 9>&-
    fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

is_running() {
    [ -f "$DATA/PG_VERSION" ] && [ -f "$DATA/postmaster.pid" ] || return 1
    as_pg "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

read_port() {
    local p=""
    [ -f "$DIR/port" ] && p=$(tr -dc '0-9' <"$DIR/port")
    echo "$p"
}

# Shell-quote for `eval`: bare when safe, single-quoted otherwise.
sh_quote() {
    if [[ $1 =~ ^[A-Za-z0-9_./:@%+=,-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "${1//\'/\'\\\'\'}"
    fi
}
emit() { printf 'export %s=%s\n' "$1" "$(sh_quote "$2")"; }

conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

lock() {
    exec 9>>"$DIR/.lock"
    flock -w 120 9 || die "timed out waiting for lock $DIR/.lock"
}

# ---------------------------------------------------------------- TLS material
make_tls() {
    command -v openssl >/dev/null 2>&1 || die "openssl not found; run scripts/install-deps.sh"
    mkdir -p "$TLS"
    chmod 755 "$TLS"
    local regen_server=0
    if [ ! -s "$TLS/ca.crt" ] || [ ! -s "$TLS/ca.key" ] \
        || ! openssl x509 -in "$TLS/ca.crt" -noout -checkend 86400 >/dev/null 2>&1; then
        rm -f "$TLS"/ca.* "$TLS"/server.*
        (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -keyout "$TLS/ca.key" -out "$TLS/ca.crt" -subj "/CN=koku test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1) \
            || die "openssl: cannot create CA in $TLS"
        regen_server=1
    fi
    if [ "$regen_server" -eq 1 ] || [ ! -s "$TLS/server.crt" ] || [ ! -s "$TLS/server.key" ] \
        || ! openssl x509 -in "$TLS/server.crt" -noout -checkend 86400 >/dev/null 2>&1; then
        local ext
        ext=$(mktemp)
        cat >"$ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF
        (umask 077 && openssl req -new -newkey rsa:2048 -nodes -sha256 \
            -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=localhost" >/dev/null 2>&1 \
            && openssl x509 -req -sha256 -days 825 -in "$TLS/server.csr" \
                -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
                -extfile "$ext" -out "$TLS/server.crt" >/dev/null 2>&1) \
            || { rm -f "$ext"; die "openssl: cannot create server certificate in $TLS"; }
        rm -f "$ext" "$TLS/server.csr"
    fi
    chmod 600 "$TLS/server.key" "$TLS/ca.key"
    chmod 644 "$TLS/ca.crt" "$TLS/server.crt"
    if [ "$IS_ROOT" -eq 1 ]; then chown -R "$RUN_USER:" "$TLS"; fi
}

# ---------------------------------------------------------------- cluster setup
init_cluster() {
    local major
    major=$("$BIN/pg_ctl" --version | awk '{print $3}' | cut -d. -f1)
    if [ -f "$DATA/PG_VERSION" ] && [ "$(cat "$DATA/PG_VERSION")" != "$major" ]; then
        echo "$PROG: note: $DATA is for PostgreSQL $(cat "$DATA/PG_VERSION"), server is $major; re-initialising" >&2
        rm -rf -- "$DATA"
    fi
    if [ -d "$DATA" ] && [ ! -f "$DATA/PG_VERSION" ]; then
        rm -rf -- "$DATA"   # leftover of an interrupted initdb
    fi
    if [ ! -d "$DATA" ]; then
        local out
        out=$(as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C \
                  --no-sync --no-instructions 2>&1) \
            || { echo "$out" >&2; rm -rf -- "$DATA"; die "initdb failed"; }
        echo "include_if_exists = 'koku_test.conf'" >>"$DATA/postgresql.conf"
    fi
}

write_config() {
    local port=$1 auth=${PG_AUTH:-trust} f
    f=$DATA/koku_test.conf
    {
        echo "# Written by scripts/pg.sh on every start; throwaway test cluster."
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = $(conf_quote "$DIR")"
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

choose_port() {
    local p=${PG_PORT:-}
    [ -n "$p" ] || p=$(read_port)
    [ -n "$p" ] || p=$DEFAULT_PORT
    [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65335 ] || die "invalid port '$p' (PG_PORT?)"
    for _ in $(seq 0 200); do
        if ! port_busy "$p"; then echo "$p"; return 0; fi
        p=$((p + 1))
    done
    die "no free TCP port found near ${PG_PORT:-$DEFAULT_PORT}"
}

ensure_db() {
    local port=$1 out
    out=$("$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres 2>&1 <<SQL
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
    if [ "$IS_ROOT" -eq 1 ]; then
        chown "$RUN_USER:" "$DIR"
        runuser -u "$RUN_USER" -- test -w "$DIR" -a -x "$DIR" \
            || die "user $RUN_USER cannot access $DIR (check permissions of its parent directories)"
    fi
    chmod 755 "$DIR"   # data/ itself is 0700; tls/ca.crt stays readable for clients
    lock
    local port
    if is_running; then
        port=$(read_port)
        [ -n "$port" ] || die "cluster in $DATA is running but $DIR/port is missing"
    else
        init_cluster
        if [ "${PG_TLS:-1}" = 0 ]; then rm -rf -- "$TLS"; else make_tls; fi
        port=$(choose_port)
        write_config "$port"
        echo "$port" >"$DIR/port"
        if [ "$IS_ROOT" -eq 1 ]; then
            touch "$DIR/log" && chown "$RUN_USER:" "$DIR/log"
        fi
        if ! as_pg "$BIN/pg_ctl" start -D "$DATA" -l "$DIR/log" -w -t 60 -s >/dev/null 2>&1; then
            echo "---- last lines of $DIR/log ----" >&2
            tail -n 20 "$DIR/log" >&2 || true
            die "PostgreSQL failed to start (port $port)"
        fi
    fi
    local i
    for i in $(seq 1 120); do
        "$PG_ISREADY" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 && break
        [ "$i" -lt 120 ] || die "pg_isready never succeeded on 127.0.0.1:$port (see $DIR/log)"
        sleep 0.25
    done
    ensure_db "$port"
}

cmd_stop() {
    [ -f "$DATA/PG_VERSION" ] || return 0
    lock
    is_running || return 0
    as_pg "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 -s >/dev/null 2>&1 \
        || die "pg_ctl stop failed (see $DIR/log)"
}

cmd_status() {
    if is_running; then
        echo "running on 127.0.0.1:$(read_port) (data $DATA)"
    else
        echo "not running"
        exit 3
    fi
}

cmd_env() {
    local port
    port=$(read_port)
    [ -n "$port" ] || die "no cluster in $DIR (run: $PROG start $DIR)"
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

case $CMD in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
esac
