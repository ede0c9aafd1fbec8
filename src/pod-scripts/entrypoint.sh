#!/bin/sh
# entrypoint.sh: the one entry script of every container, as in the classic example:
#   MASTER=true    the bootstrap pod's Redis (first master of a new cluster),
#   SENTINEL=true  a sentinel,
#   neither        a Redis of the redis controller (a replica, until a failover promotes it).
# Pods find the master by asking the sentinel Service by its DNS name, so discovery works whatever
# the order in which the objects were created.
set -eu
if [ "${SENTINEL:-}" = true ]; then
  ROLE=sentinel
elif [ "${MASTER:-}" = true ]; then
  ROLE=master
else
  ROLE=redis
fi
# shellcheck source=common.sh
. "${CONFIG_DIR:-/etc/redis-sentinel}/common.sh"

: "${POD_IP:?POD_IP must be set (downward API status.podIP)}"

run_redis_server() {
  follow_sentinels &
  exec redis-server "$CONFIG_DIR/redis.conf" --replica-announce-ip "$POD_IP" "$@"
}

# follow_sentinels: runs beside redis-server and keeps it on the master the sentinels name.
# - A replica whose master link is down while the sentinels name another live master follows them.
#   This catches a replica that joined a master just before it went away (a controller starts the
#   replacement pod while the deleted pod is still shutting down): the new master never listed it,
#   so the sentinels cannot reconfigure it.
# - A master that the sentinels do not name steps down after FOLLOW_STRIKES checks in a row that all
#   name the same other master, answering as one: a cut-off old master that the sentinels forgot
#   must not stay a second master.
follow_sentinels() {
  strikes=0
  while sleep "$FOLLOW_INTERVAL_SECONDS"; do
    addr=$(sentinel_master_addr) || continue
    host=${addr% *}
    port=${addr#* }
    [ "$host" != "$POD_IP" ] || { strikes=0; continue; }
    info=$(rcli "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
    case $(printf '%s\n' "$info" | info_field role) in
      slave)
        strikes=0
        current=$(master_of "$info")
        [ "$current" != "$host $port" ] || continue
        printf '%s\n' "$info" | grep -q '^master_link_status:down$' || continue
        [ "$(redis_role "$host" "$port")" = master ] || continue
        log "master ${current% *}:${current#* } is unreachable and the sentinels name $host:$port: replicating from it"
        rcli "$LOCAL_ADDR" "$REDIS_PORT" REPLICAOF "$host" "$port" >/dev/null || true
        ;;
      master)
        if [ "$(redis_role "$host" "$port")" = master ] && [ "$addr" = "${named:-$addr}" ]; then
          strikes=$((strikes + 1))
        else
          strikes=0
        fi
        named=$addr
        [ "$strikes" -ge "$FOLLOW_STRIKES" ] || continue
        log "this Redis is a master but the sentinels name the live master $host:$port: stepping down to its replica"
        rcli "$LOCAL_ADDR" "$REDIS_PORT" REPLICAOF "$host" "$port" >/dev/null || true
        strikes=0
        ;;
    esac
  done
}

# start_redis first|replica: finds the master through the sentinels and starts Redis.
# - first (bootstrap pod): when no sentinel answers, this is a new cluster: start as its first
#   master. When the sentinels know a master, join it: re-applying dist/ must never make a second,
#   empty master.
# - replica: wait, with a bound, until the sentinels name a master that answers as one.
# In both, when the sentinels name this very pod, its container restarted: it resumes as master
# only with its data on disk; empty, it asks the sentinels to promote a replica instead, so that an
# empty master never wipes its replicas.
start_redis() {
  mode=$1
  deadline=$(($(now) + DISCOVERY_TIMEOUT_SECONDS))
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    if addr=$(sentinel_master_addr); then
      host=${addr% *}
      port=${addr#* }
      if [ "$host" = "$POD_IP" ]; then
        if has_persisted_data; then
          log "the sentinels name this pod ($POD_IP:$port) as master of $MASTER_NAME and its data is in $DATA_DIR: resuming as master"
          run_redis_server
        fi
        replicas=$(rcli "$SENTINEL_HOST" "$SENTINEL_PORT" SENTINEL replicas "$MASTER_NAME" | grep -c '^name$' || true)
        if [ "$replicas" -eq 0 ]; then
          log "the sentinels name this pod as master, its data directory is empty and no replica is known: starting as master"
          run_redis_server
        fi
        log "the sentinels name this pod as master but its data directory $DATA_DIR is empty: refusing to start an empty master that would wipe its $replicas replica(s); asking the sentinels to fail over"
        rcli "$SENTINEL_HOST" "$SENTINEL_PORT" SENTINEL failover "$MASTER_NAME" >/dev/null || true
      elif [ "$(redis_role "$host" "$port")" = master ]; then
        if [ "$mode" = first ]; then
          log "the sentinels already know a live master of $MASTER_NAME at $host:$port: joining it as a replica instead of starting a second master"
        else
          log "replicating from master $host:$port (found through $SENTINEL_HOST:$SENTINEL_PORT)"
        fi
        run_redis_server --replicaof "$host" "$port"
      else
        log "the sentinels name $host:$port as master of $MASTER_NAME but it does not answer as a master (attempt $attempt); retrying"
      fi
    elif [ "$mode" = first ] && [ "$attempt" -ge "$BOOTSTRAP_QUERIES" ]; then
      log "no sentinel answered at $SENTINEL_HOST:$SENTINEL_PORT ($attempt tries): this is a new cluster, starting as its first master"
      run_redis_server
    else
      log "no sentinel answered at $SENTINEL_HOST:$SENTINEL_PORT for master $MASTER_NAME (attempt $attempt); retrying in ${RETRY_SECONDS}s"
    fi
    if [ "$(now)" -ge "$deadline" ]; then
      log "giving up after ${DISCOVERY_TIMEOUT_SECONDS}s: found no live master of $MASTER_NAME through $SENTINEL_HOST:$SENTINEL_PORT; look at the sentinels: kubectl logs -l $SENTINEL_LABEL -c sentinel"
      exit 1
    fi
    sleep "$RETRY_SECONDS"
  done
}

# find_master_for_sentinel: prints "host port" of a master that answers as one. The sentinel
# Service's answer comes first; the local Redis (only the bootstrap pod has one) is the fallback
# for the very first sentinel of a new cluster, as in the classic example.
find_master_for_sentinel() {
  deadline=$(($(now) + DISCOVERY_TIMEOUT_SECONDS))
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    if addr=$(sentinel_master_addr) && [ "$(redis_role "${addr% *}" "${addr#* }")" = master ]; then
      echo "$addr"
      return 0
    fi
    case $(redis_role "$LOCAL_ADDR" "$REDIS_PORT") in
      master)
        echo "$POD_IP $REDIS_PORT"
        return 0
        ;;
      slave)
        local_master=$(master_of "$(rcli "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)")
        if valid_addr "${local_master% *}" && [ "$(redis_role "${local_master% *}" "${local_master#* }")" = master ]; then
          echo "$local_master"
          return 0
        fi
        ;;
    esac
    log "no live master of $MASTER_NAME found through $SENTINEL_HOST:$SENTINEL_PORT or a local Redis (attempt $attempt); retrying in ${RETRY_SECONDS}s"
    if [ "$(now)" -ge "$deadline" ]; then
      log "giving up after ${DISCOVERY_TIMEOUT_SECONDS}s; look at the Redis pods: kubectl logs -l $REDIS_LABEL"
      return 1
    fi
    sleep "$RETRY_SECONDS"
  done
}

# janitor: Sentinel never forgets a peer. Sentinel pods of a controller come back with new IPs, so
# dead sentinels pile up and, past a point, a majority of the known sentinels can no longer be
# reached (kubernetes/kubernetes#18193). A sentinel that knows sentinels down for longer than
# down-after forgets them with SENTINEL RESET and relearns the live ones. A reset also forgets the
# replicas until the next INFO of the master, and a sentinel without replicas that leads a failover
# aborts it; so the janitor resets
# - only for dead sentinels: dead replica entries follow every failover, and resetting for them
#   would often coincide with the next failure (follow_sentinels covers the replicas instead),
# - only while the master is healthy and every live sentinel, itself included, knows its replicas,
# - only when every live sentinel with a lower IP knows no dead sentinel, so that one sentinel at a
#   time resets: two blind sentinels are a majority that cannot fail over,
# - right before its next INFO of the master is due, so it relearns the replicas within a second,
#   with the rules checked again just before the reset,
# and it waits until it has relearned the replicas before it looks again.
janitor() {
  stuck=0
  while sleep "$JANITOR_INTERVAL_SECONDS"; do
    if stuck_on_dead_master; then stuck=$((stuck + 1)); else stuck=0; fi
    if [ "$stuck" -ge 2 ]; then
      log "the master this sentinel monitors has been down for over $((2 * JANITOR_INTERVAL_SECONDS))s while the sentinel Service names the live master $(sentinel_master_addr): restarting with a fresh configuration"
      rm -f "$SENTINEL_STATE_DIR/sentinel.conf"
      kill "$$"
      exit 0
    fi
    reset_safe || continue
    sleep "$(random_below 3)"
    wait_for_info_due
    reset_safe || continue
    log "forgetting $(dead_sentinels "$LOCAL_ADDR") sentinel(s) down for over ${DOWN_AFTER_MS}ms: SENTINEL RESET $MASTER_NAME"
    rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL reset "$MASTER_NAME" >/dev/null || true
    waited=0
    while [ "$waited" -lt 30 ] && [ "$(local_master_field num-slaves)" = 0 ]; do
      sleep 1
      waited=$((waited + 1))
    done
    log "relearned $(local_master_field num-slaves) replica(s) and $(local_master_field num-other-sentinels) sentinel(s) after the reset"
  done
}

# stuck_on_dead_master: this sentinel's master is down, and the sentinel Service names another
# master that answers as one. A sentinel can miss a failover (it was cut off, or restarted while the
# master died); with a dead master it has no instance left to hear the new configuration from.
stuck_on_dead_master() {
  case $(local_master_field flags) in *s_down*) ;; *) return 1 ;; esac
  mine=$(rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed -n 1p)
  addr=$(sentinel_master_addr) || return 1
  [ "${addr% *}" != "$mine" ] && [ "$(redis_role "${addr% *}" "${addr#* }")" = master ]
}

local_master_field() {
  rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME" | field "$1"
}

# dead_sentinels IP: how many sentinels the sentinel at IP knows as down.
dead_sentinels() {
  rcli "$1" "$SENTINEL_PORT" SENTINEL sentinels "$MASTER_NAME" |
    awk 'NR % 2 == 1 { k = $0; next } k == "flags" && $0 ~ /s_down/ { n++ } END { print n + 0 }'
}

# reset_safe: this sentinel knows dead sentinels, the master is healthy, every live sentinel knows
# at least one replica (none is relearning after a reset of its own), and none with a lower IP
# still has dead sentinels to forget.
reset_safe() {
  [ "$(dead_sentinels "$LOCAL_ADDR")" -gt 0 ] || return 1
  for ip in $(live_sentinel_ips); do
    reply=$(rcli "$ip" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME")
    [ "$(printf '%s\n' "$reply" | field flags)" = master ] || return 1
    [ "$(printf '%s\n' "$reply" | field num-slaves)" -gt 0 ] 2>/dev/null || return 1
    if [ "$ip" != "$POD_IP" ] && [ "$(printf '%s\n%s\n' "$ip" "$POD_IP" | sort | head -n 1)" = "$ip" ]; then
      [ "$(dead_sentinels "$ip")" -eq 0 ] || return 1
    fi
  done
}

# wait_for_info_due: until this sentinel's last INFO of the master is about INFO_PERIOD old.
wait_for_info_due() {
  waited=0
  while [ "$waited" -lt 60 ]; do
    [ "$(local_master_field info-refresh)" -ge "$INFO_DUE_MS" ] 2>/dev/null && return 0
    sleep 0.2
    waited=$((waited + 1))
  done
}

live_sentinel_ips() {
  echo "$POD_IP"
  rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL sentinels "$MASTER_NAME" |
    awk 'NR % 2 == 1 { k = $0; next } k == "ip" { ip = $0 } k == "flags" && $0 !~ /s_down/ { print ip }'
}

run_sentinel() {
  conf=$SENTINEL_STATE_DIR/sentinel.conf
  if [ -s "$conf" ] && grep -q '^sentinel monitor ' "$conf"; then
    log "reusing $conf from this pod's earlier run: it keeps its sentinel id and known peers"
  else
    addr=$(find_master_for_sentinel) || exit 1
    log "monitoring master $MASTER_NAME at ${addr% *}:${addr#* } with quorum $QUORUM"
    sed -e "s/%MASTER_HOST%/${addr% *}/" -e "s/%MASTER_PORT%/${addr#* }/" -e "s/%ANNOUNCE_IP%/$POD_IP/" \
      "$CONFIG_DIR/sentinel.conf" >"$conf.tmp"
    mv "$conf.tmp" "$conf"
  fi
  janitor &
  exec redis-sentinel "$conf"
}

case $ROLE in
  sentinel) run_sentinel ;;
  master) start_redis first ;;
  *) start_redis replica ;;
esac
