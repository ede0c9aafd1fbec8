# shellcheck shell=sh
# Shared functions of the entry scripts. POSIX sh: the official Redis image has dash (Debian) or
# busybox sh (Alpine). Sourced by entrypoint.sh, probe.sh and cli.sh; settings come from
# cluster.env, written at synth time from the construct's props.

CONFIG_DIR=${CONFIG_DIR:-/etc/redis-sentinel}
# shellcheck source=/dev/null
. "$CONFIG_DIR/cluster.env"

ROLE=${ROLE:-redis}
# This pod's own Redis and Sentinel: every container of a pod shares its network.
# shellcheck disable=SC2034 # used by the scripts that source this file
LOCAL_ADDR=${POD_IP:-127.0.0.1}

log() {
  printf '%s %s[%s]: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$ROLE" "${POD_NAME:-$(hostname)}" "$*" >&2
}

# A password file, when one is mounted, is handed to redis-cli through the environment, never on
# its command line. (Authentication arrives with a later release; this is its hook.)
if [ -n "${REDIS_PASSWORD_FILE:-}" ] && [ -r "$REDIS_PASSWORD_FILE" ]; then
  REDISCLI_AUTH=$(cat "$REDIS_PASSWORD_FILE")
  export REDISCLI_AUTH
fi

# rcli HOST PORT ARGS...: one redis-cli call that cannot hang.
rcli() {
  _host=$1
  _port=$2
  shift 2
  timeout "$CLI_TIMEOUT_SECONDS" redis-cli --no-auth-warning -h "$_host" -p "$_port" "$@" 2>/dev/null | tr -d '\r'
}

# field KEY: from the flat key/value lines that redis-cli prints for a map, the first value of KEY.
field() {
  awk -v key="$1" 'NR % 2 == 1 { k = $0; next } k == key { print; exit }'
}

# valid_addr HOST: an IP or host name, not an error reply.
valid_addr() {
  case $1 in
    '' | *[!0-9A-Za-z.:-]*) return 1 ;;
    *) return 0 ;;
  esac
}

# sentinel_master_addr: asks the sentinel Service for the master; prints "host port".
sentinel_master_addr() {
  _reply=$(rcli "$SENTINEL_HOST" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME") || return 1
  _mhost=$(printf '%s\n' "$_reply" | sed -n 1p)
  _mport=$(printf '%s\n' "$_reply" | sed -n 2p)
  valid_addr "$_mhost" || return 1
  case $_mport in '' | *[!0-9]*) return 1 ;; esac
  printf '%s %s\n' "$_mhost" "$_mport"
}

# info_field KEY: the value of KEY in the INFO text on stdin.
info_field() {
  sed -n "s/^$1://p"
}

# master_of INFO: "host port" of the master that an INFO replication text names.
master_of() {
  printf '%s %s\n' "$(printf '%s\n' "$1" | info_field master_host)" "$(printf '%s\n' "$1" | info_field master_port)"
}

# redis_role HOST PORT: master, slave, or nothing when it does not answer.
redis_role() {
  rcli "$1" "$2" INFO replication | info_field role
}

has_persisted_data() {
  [ -d "$DATA_DIR/appendonlydir" ] || [ -f "$DATA_DIR/dump.rdb" ]
}

now() {
  date +%s
}

# random_below N: a number from 0 to N-1 (POSIX sh has no $RANDOM).
random_below() {
  _r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
  echo $((_r % $1))
}
