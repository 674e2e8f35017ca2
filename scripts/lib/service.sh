# service.sh — the preamble scripts/pg.sh and scripts/s3.sh share (sourced, not run).
#
# Before sourcing, the script sets PROG (its name, for messages), NOUN (what DIR holds: "cluster",
# "server") and DEFAULT_PORT; then calls `service_args "$@"`, which checks the arguments
# (`start|stop|status|env DIR`) and sets CMD and DIR (the state directory: absolute, created on
# start; `stop`/`status` of a missing DIR succeed at once, `env` fails).

die() { echo "$PROG: error: $*" >&2; exit 1; }
usage() { echo "usage: $PROG start|stop|status|env DIR" >&2; exit 2; }

service_args() {
    [ $# -eq 2 ] || usage
    CMD=$1
    case $CMD in start|stop|status|env) ;; *) usage ;; esac
    [ -n "$2" ] || usage
    if [ ! -d "$2" ]; then
        case $CMD in
            start) mkdir -p -- "$2" || die "cannot create directory $2" ;;
            stop) exit 0 ;;
            status) echo "not running"; exit 3 ;;
            env) die "no $NOUN in $2 (run: $PROG start $2)" ;;
        esac
    fi
    DIR=$(cd -- "$2" && pwd -P)
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The digits in FILE (a port or pid), or nothing.
read_digits() {
    local v=""
    [ -f "$1" ] && v=$(tr -dc '0-9' <"$1")
    echo "$v"
}

# The first free port from PREFERRED (else the one remembered in DIR/port, else DEFAULT_PORT).
# VAR names the environment variable PREFERRED came from, for the error message.
choose_port() {
    local p=$1 var=$2
    [ -n "$p" ] || p=$(read_digits "$DIR/port")
    [ -n "$p" ] || p=$DEFAULT_PORT
    [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65335 ] || die "invalid port '$p' ($var?)"
    for _ in $(seq 0 200); do
        if ! port_busy "$p"; then echo "$p"; return 0; fi
        p=$((p + 1))
    done
    die "no free TCP port found near ${1:-$DEFAULT_PORT}"
}

# One start/stop at a time per DIR (fd 9; close it in children that outlive us: 9>&-).
lock() {
    exec 9>>"$DIR/.lock"
    flock -w 120 9 || die "timed out waiting for lock $DIR/.lock"
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
