# shellcheck shell=sh
# janitor.sh: the janitor beside every sentinel, and its checks. Needs common.sh and discovery.sh.

# janitor SENTINEL_PID CONF: runs beside redis-sentinel (in the background); SENTINEL_PID is that
# process, CONF its config file.
# Sentinel never forgets a peer. Sentinel pods of a controller come back with new IPs, so dead
# sentinels pile up and, past a point, a majority of the known sentinels can no longer be reached
# (kubernetes/kubernetes#18193). A sentinel that knows sentinels down for longer than down-after
# forgets them with SENTINEL RESET and relearns the live ones. A reset also forgets the replicas
# until the next INFO of the master, and a sentinel without replicas that leads a failover aborts
# it; so the janitor resets
# - only for dead sentinels: dead replica entries follow every failover, and resetting for them
#   would often coincide with the next failure (follow_sentinels covers the replicas instead),
# - only while the master is healthy and every live sentinel, itself included, knows its replicas,
# - only when every live sentinel with a lower IP knows no dead sentinel, so that one sentinel at a
#   time resets: two blind sentinels are a majority that cannot fail over,
# - right before its next INFO of the master is due, so it relearns the replicas within a second,
#   with the rules checked again just before the reset,
# and it waits until it has relearned the replicas before it looks again.
# A sentinel stuck on a dead master (see stuck_on_dead_master) for JANITOR_STUCK_ROUNDS rounds
# deletes CONF and stops redis-sentinel: the container ends, and Kubernetes restarts it with a fresh
# discovery.
janitor() {
  _sentinel_pid=$1
  _conf=$2
  stuck=0
  while sleep "$JANITOR_INTERVAL_SECONDS"; do
    if stuck_on_dead_master; then stuck=$((stuck + 1)); else stuck=0; fi
    if [ "$stuck" -ge "$JANITOR_STUCK_ROUNDS" ]; then
      log "the master this sentinel monitors has been down for over $((JANITOR_STUCK_ROUNDS * JANITOR_INTERVAL_SECONDS))s while the sentinel Service names the live master $(sentinel_master_addr): restarting with a fresh configuration"
      rm -f "$_conf"
      kill "$_sentinel_pid"
      exit 0
    fi
    reset_safe || continue
    sleep "$(random_below "$JANITOR_JITTER_SECONDS")"
    poll "$INFO_DUE_MAX_POLLS" "$INFO_DUE_POLL_SECONDS" info_due || true
    reset_safe || continue
    log "forgetting $(dead_sentinels "$LOCAL_ADDR") sentinel(s) down for over ${DOWN_AFTER_MS}ms: SENTINEL RESET $MASTER_NAME"
    redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL reset "$MASTER_NAME" >/dev/null || true
    poll "$RELEARN_MAX_POLLS" "$RELEARN_POLL_SECONDS" knows_replicas || true
    log "relearned $(local_master_field num-slaves) replica(s) and $(local_master_field num-other-sentinels) sentinel(s) after the reset"
  done
}

# stuck_on_dead_master: this sentinel's master is down, and the sentinel Service names another
# master that answers as one. A sentinel can miss a failover (it was cut off, or restarted while the
# master died); with a dead master it has no instance left to hear the new configuration from.
stuck_on_dead_master() {
  case $(local_master_field flags) in *s_down*) ;; *) return 1 ;; esac
  mine=$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed -n 1p)
  addr=$(sentinel_master_addr) || return 1
  [ "$(addr_host "$addr")" != "$mine" ] && is_live_master "$addr"
}

# local_master_field KEY: KEY of SENTINEL MASTER from this pod's sentinel.
local_master_field() {
  redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME" | field "$1"
}

# info_due: this sentinel's last INFO of the master is at least INFO_DUE_MS old, so the next one
# (Sentinel asks every 10 s) is about to come.
info_due() {
  [ "$(local_master_field info-refresh)" -ge "$INFO_DUE_MS" ] 2>/dev/null
}

# knows_replicas: this sentinel knows a replica of the master again after a reset (or no longer
# answers).
knows_replicas() {
  [ "$(local_master_field num-slaves)" != 0 ]
}

# dead_sentinels IP: how many sentinels the sentinel at IP knows as down.
dead_sentinels() {
  redis_at "$1" "$SENTINEL_PORT" SENTINEL sentinels "$MASTER_NAME" |
    awk 'NR % 2 == 1 { k = $0; next } k == "flags" && $0 ~ /s_down/ { n++ } END { print n + 0 }'
}

# reset_safe: this sentinel knows dead sentinels, the master is healthy, every live sentinel knows
# at least one replica (none is relearning after a reset of its own), and none with a lower IP
# still has dead sentinels to forget.
reset_safe() {
  [ "$(dead_sentinels "$LOCAL_ADDR")" -gt 0 ] || return 1
  for ip in $(live_sentinel_ips); do
    reply=$(redis_at "$ip" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME")
    [ "$(printf '%s\n' "$reply" | field flags)" = master ] || return 1
    [ "$(printf '%s\n' "$reply" | field num-slaves)" -gt 0 ] 2>/dev/null || return 1
    if [ "$ip" != "$POD_IP" ] && [ "$(printf '%s\n%s\n' "$ip" "$POD_IP" | sort | head -n 1)" = "$ip" ]; then
      [ "$(dead_sentinels "$ip")" -eq 0 ] || return 1
    fi
  done
}

live_sentinel_ips() {
  echo "$POD_IP"
  redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL sentinels "$MASTER_NAME" |
    awk 'NR % 2 == 1 { k = $0; next } k == "ip" { ip = $0 } k == "flags" && $0 !~ /s_down/ { print ip }'
}

# random_below N: a number from 0 to N-1 (POSIX sh has no $RANDOM).
random_below() {
  _r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
  echo $((_r % $1))
}
