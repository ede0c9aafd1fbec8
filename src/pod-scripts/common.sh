# shellcheck shell=sh
# common.sh: what every entry script shares. POSIX sh: the official Redis image has dash (Debian)
# or busybox sh (Alpine). Sourced first by every entry script; the modules expect it loaded.
# Settings come from cluster.env, written at synth time from the construct's props; README.md
# beside this file maps the modules.

CONFIG_DIR=${CONFIG_DIR:-/etc/redis-sentinel}
# shellcheck source=/dev/null
. "$CONFIG_DIR/cluster.env"

# The role, as in the classic example's env: SENTINEL=true a sentinel, MASTER=true the bootstrap
# pod's Redis (first master of a new cluster), neither a Redis of the redis controller. A script
# that is no container's own (probe, cli) names itself instead.
if [ -n "${ROLE:-}" ]; then
  :
elif [ "${SENTINEL:-}" = true ]; then
  ROLE=sentinel
elif [ "${MASTER:-}" = true ]; then
  ROLE=master
else
  ROLE=redis
fi
# This pod's own Redis and Sentinel: every container of a pod shares its network.
# shellcheck disable=SC2034 # used by the scripts that source this file
LOCAL_ADDR=${POD_IP:-127.0.0.1}

# stable_names SET COUNT: the stable DNS name of each pod of StatefulSet SET, ordinals 0 to COUNT-1,
# one a line: <SET>-<ordinal>.<headless Service>.<namespace>.svc. A name outlives its pod's IP, and
# resolves from every namespace (the search path adds the cluster domain); with
# publishNotReadyAddresses it resolves as soon as the pod runs, ready or not.
stable_names() {
  _sn=0
  while [ "$_sn" -lt "$2" ]; do
    printf '%s-%s.%s.%s.svc\n' "$1" "$_sn" "$HEADLESS_SERVICE" "$POD_NAMESPACE"
    _sn=$((_sn + 1))
  done
}

# The order of pods (founders, masters, a handover's successor), in awk: rank(host, bootstrap) is 0
# for the bootstrap pod, then an IPv4 address in numeric order; a stable name <set>-<ordinal>.<...>
# ranks by its ordinal.
# shellcheck disable=SC2034 # used by the scripts that source this file
RANK_AWK='function rank(ip, boot,   o) {
  if (boot) return 0
  if (ip !~ /^[0-9.]+$/) { sub(/\..*/, "", ip); sub(/.*-/, "", ip); return ip + 0 }
  split(ip, o, "."); return 1 + ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4] }'

# SELF_HOST: what this pod is known by: the address its Redis announces to its master
# (replica-announce-ip) and its sentinel to the others, so the one the sentinels and peers name it
# by. In the classic topology the pod IP; in the StatefulSet topology (cluster.env sets
# REDIS_STATEFULSET) the pod's stable DNS name, which a replacement pod keeps with a new IP.
# shellcheck disable=SC2034 # used by the scripts that source this file
if [ -n "${REDIS_STATEFULSET:-}" ]; then
  SELF_HOST=$POD_NAME.$HEADLESS_SERVICE.$POD_NAMESPACE.svc
else
  SELF_HOST=$LOCAL_ADDR
fi

log() {
  printf '%s %s[%s]: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$ROLE" "${POD_NAME:-$(hostname)}" "$*" >&2
}

# redis_at HOST PORT ARGS...: one redis-cli call to the Redis or Sentinel at HOST:PORT, bounded by
# CLI_TIMEOUT_SECONDS. Prints the reply, or nothing when the server does not answer (redis-cli's
# stderr is dropped). With auth it logs in as the admin user: the password reaches redis-cli on its
# stdin (--askpass reads it), never on its command line or in its environment.
redis_at() {
  _host=$1
  _port=$2
  shift 2
  if [ -z "${AUTH_SECRET:-}" ]; then
    timeout "$CLI_TIMEOUT_SECONDS" redis-cli -h "$_host" -p "$_port" "$@" 2>/dev/null | tr -d '\r'
    return 0
  fi
  admin_reply "$_host" "$_port" "$(timeout "$CLI_TIMEOUT_SECONDS" redis-cli --user "$ADMIN_USER" --askpass -h "$_host" -p "$_port" "$@" \
    2>/dev/null <"$AUTH_DIR/$ADMIN_PASSWORD_KEY" | tr -d '\r')"
}

# session SECONDS HOST PORT: runs the commands on stdin, one a line, on one connection to HOST:PORT
# (as the admin user, with auth: the password goes first on stdin), bounded by SECONDS; prints the
# replies, or nothing. Several questions to one server cost one redis-cli call; a script that
# asks many servers at once runs one session per server in the background.
session() {
  if [ -z "${AUTH_SECRET:-}" ]; then
    timeout "$1" redis-cli -h "$2" -p "$3" 2>/dev/null | tr -d '\r'
    return 0
  fi
  admin_reply "$2" "$3" "$({ cat "$AUTH_DIR/$ADMIN_PASSWORD_KEY"; echo; cat; } |
    timeout "$1" redis-cli --user "$ADMIN_USER" --askpass -h "$2" -p "$3" 2>/dev/null | tr -d '\r')"
}

# admin_reply HOST PORT REPLY: prints REPLY (nothing when empty). A server that refused the admin
# password is logged instead: redis-cli itself exits 0 and runs the commands unauthenticated,
# which get NOAUTH.
admin_reply() {
  case $3 in
    NOAUTH* | WRONGPASS*)
      log "$1:$2 refused user $ADMIN_USER with the password in key $ADMIN_PASSWORD_KEY of Secret $AUTH_SECRET: a rotation skipped a step (docs/security.md), or this is not one of our servers"
      return 0
      ;;
  esac
  [ -z "$3" ] || printf '%s\n' "$3"
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

# now_ms: milliseconds on a clock that only goes forward (the kernel's uptime), for the bounds
# that are shorter than a second or must not jump with the wall clock.
now_ms() {
  awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# ms_of SECONDS: SECONDS (maybe fractional) in whole milliseconds.
ms_of() {
  awk -v s="$1" 'BEGIN { printf "%d\n", s * 1000 }'
}

# sleep_until MS: sleeps until now_ms reaches MS (at once when it has).
sleep_until() {
  _sleep_for=$(($1 - $(now_ms)))
  [ "$_sleep_for" -le 0 ] || sleep "$(awk -v ms="$_sleep_for" 'BEGIN { printf "%.3f\n", ms / 1000 }')"
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
