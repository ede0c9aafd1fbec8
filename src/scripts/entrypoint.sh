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
  exec redis-server "$CONFIG_DIR/redis.conf" --replica-announce-ip "$POD_IP" "$@"
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
        info=$(rcli "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
        mhost=$(printf '%s\n' "$info" | sed -n 's/^master_host://p')
        mport=$(printf '%s\n' "$info" | sed -n 's/^master_port://p')
        if valid_addr "$mhost" && [ "$(redis_role "$mhost" "$mport")" = master ]; then
          echo "$mhost $mport"
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

# janitor: Sentinel never forgets a peer. Pods of a controller come back with new IPs, so dead
# sentinels and replicas pile up and, past a point, a majority of the known sentinels can no longer
# be reached (kubernetes/kubernetes#18193). While the master is healthy, a sentinel that sees
# entries down for longer than down-after forgets them with SENTINEL RESET and relearns the live
# ones within seconds. The sentinels take turns, ordered by IP, so that at most one relearns at a
# time.
janitor() {
  while sleep "$JANITOR_INTERVAL_SECONDS"; do
    stale=$(stale_entries)
    [ "${stale:-0}" -gt 0 ] || continue
    rank=$(live_sentinel_ips | sort | grep -n -x -F "$POD_IP" | cut -d: -f1)
    sleep $(((${rank:-1} - 1) * JANITOR_STAGGER_SECONDS + $(random_below 3)))
    stale=$(stale_entries)
    [ "${stale:-0}" -gt 0 ] || continue
    log "forgetting $stale sentinel/replica entries that have been down for over ${DOWN_AFTER_MS}ms: SENTINEL RESET $MASTER_NAME"
    rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL reset "$MASTER_NAME" >/dev/null || true
  done
}

# stale_entries: how many known sentinels and replicas are down, or nothing while the master
# itself is not healthy (a reset then could leave this sentinel blind to the replicas).
stale_entries() {
  flags=$(rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME" | field flags)
  [ "$flags" = master ] || return 0
  {
    rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL sentinels "$MASTER_NAME"
    rcli "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL replicas "$MASTER_NAME"
  } | awk 'NR % 2 == 1 { k = $0; next } k == "flags" && $0 ~ /s_down/ { n++ } END { print n + 0 }'
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
