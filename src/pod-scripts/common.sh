# shellcheck shell=sh
# common.sh: what every entry script shares. POSIX sh: the official Redis image has dash (Debian)
# or busybox sh (Alpine). Sourced first by entrypoint.sh, probe.sh and cli.sh; the modules
# (auth.sh, discovery.sh, follow.sh, janitor.sh) expect it loaded. Settings come from cluster.env, written at
# synth time from the construct's props; README.md beside this file maps the modules.

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

# redis_at HOST PORT ARGS...: one redis-cli call to the Redis or Sentinel at HOST:PORT, bounded by
# CLI_TIMEOUT_SECONDS. Prints the reply, or nothing when the server does not answer (redis-cli's
# stderr is dropped). With auth it logs in as the admin user: the password reaches redis-cli on its
# stdin (--askpass reads it), never on its command line or in its environment. A server that
# refuses the password prints nothing here and is logged: redis-cli itself exits 0 and runs the
# command unauthenticated, which gets NOAUTH.
redis_at() {
  _host=$1
  _port=$2
  shift 2
  if [ -z "${AUTH_SECRET:-}" ]; then
    timeout "$CLI_TIMEOUT_SECONDS" redis-cli -h "$_host" -p "$_port" "$@" 2>/dev/null | tr -d '\r'
    return 0
  fi
  _reply=$(timeout "$CLI_TIMEOUT_SECONDS" redis-cli --user "$ADMIN_USER" --askpass -h "$_host" -p "$_port" "$@" \
    2>/dev/null <"$AUTH_DIR/$ADMIN_PASSWORD_KEY" | tr -d '\r')
  case $_reply in
    NOAUTH* | WRONGPASS*)
      log "$_host:$_port refused user $ADMIN_USER with the password in key $ADMIN_PASSWORD_KEY of Secret $AUTH_SECRET: a rotation skipped a step (docs/security.md), or this is not one of our servers"
      return 0
      ;;
  esac
  [ -z "$_reply" ] || printf '%s\n' "$_reply"
}

# An address travels as one "host port" string: the two lines of SENTINEL get-master-addr-by-name,
# or master_host and master_port of INFO, joined by a space (IPv6 hosts have no space either).
# addr_of HOST PORT, addr_host ADDR, addr_port ADDR, and addr_text ADDR (host:port, for logs).
addr_of() {
  printf '%s %s\n' "$1" "$2"
}
addr_host() {
  printf '%s\n' "${1% *}"
}
addr_port() {
  printf '%s\n' "${1#* }"
}
addr_text() {
  printf '%s:%s\n' "${1% *}" "${1#* }"
}

# valid_addr HOST: an IP or host name, not an error reply.
valid_addr() {
  case $1 in
    '' | *[!0-9A-Za-z.:-]*) return 1 ;;
    *) return 0 ;;
  esac
}

# field KEY: from the flat key/value lines that redis-cli prints for a map, the first value of KEY.
field() {
  awk -v key="$1" 'NR % 2 == 1 { k = $0; next } k == key { print; exit }'
}

# info_field KEY: the value of KEY in the INFO text on stdin.
info_field() {
  sed -n "s/^$1://p"
}

# master_of INFO: the address of the master that an INFO replication text names.
master_of() {
  addr_of "$(printf '%s\n' "$1" | info_field master_host)" "$(printf '%s\n' "$1" | info_field master_port)"
}

# redis_role HOST PORT: master, slave, or nothing when it does not answer.
redis_role() {
  redis_at "$1" "$2" INFO replication | info_field role
}

now() {
  date +%s
}

# retry GIVE_UP TRY [ARGS...]: calls TRY ATTEMPT [ARGS...] (ATTEMPT counts from 1) every
# RETRY_SECONDS until it succeeds, for at most DISCOVERY_TIMEOUT_SECONDS; then logs "giving up
# after Ns: GIVE_UP" and fails. A TRY that fails says why with retry_later, or fails silently
# after a log line of its own.
retry() {
  _retry_give_up=$1
  _retry_try=$2
  shift 2
  _retry_deadline=$(($(now) + DISCOVERY_TIMEOUT_SECONDS))
  _retry_attempt=0
  while :; do
    _retry_attempt=$((_retry_attempt + 1))
    "$_retry_try" "$_retry_attempt" "$@" && return 0
    if [ "$(now)" -ge "$_retry_deadline" ]; then
      log "giving up after ${DISCOVERY_TIMEOUT_SECONDS}s: $_retry_give_up"
      return 1
    fi
    sleep "$RETRY_SECONDS"
  done
}

# retry_later REASON: what a TRY of retry says when its attempt fails: logs REASON with the attempt
# number and the pause, and fails.
retry_later() {
  log "$* (attempt $_retry_attempt); retrying in ${RETRY_SECONDS}s"
  return 1
}

# poll TIMES SECONDS CHECK [ARGS...]: runs CHECK until it succeeds, at most TIMES times, SECONDS
# apart; fails when it never did.
poll() {
  _poll_left=$1
  _poll_pause=$2
  shift 2
  while [ "$_poll_left" -gt 0 ]; do
    "$@" && return 0
    sleep "$_poll_pause"
    _poll_left=$((_poll_left - 1))
  done
  return 1
}
