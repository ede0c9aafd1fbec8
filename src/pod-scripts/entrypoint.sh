#!/bin/sh
# entrypoint.sh: the one entry script of every container, as in the classic example. It picks the
# role from the env and starts the server; the modules it sources do the rest (README.md):
#   MASTER=true    the bootstrap pod's Redis (first master of a new cluster),
#   SENTINEL=true  a sentinel,
#   neither        a Redis of the redis controller (a replica, until a failover promotes it).
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
# shellcheck source=discovery.sh
. "$CONFIG_DIR/discovery.sh"
# shellcheck source=follow.sh
. "$CONFIG_DIR/follow.sh"
# shellcheck source=janitor.sh
. "$CONFIG_DIR/janitor.sh"

: "${POD_IP:?POD_IP must be set (downward API status.podIP)}"

# start_redis first|replica: finds the master (find_master_for_redis) and starts redis-server as its
# replica, or as master.
start_redis() {
  master=$(find_master_for_redis "$1") || exit 1
  if [ -z "$master" ]; then
    run_redis_server
  else
    run_redis_server --replicaof "$(addr_host "$master")" "$(addr_port "$master")"
  fi
}

# run_redis_server [ARGS...]: redis-server in place of this shell, with follow_sentinels beside it.
run_redis_server() {
  follow_sentinels &
  exec redis-server "$CONFIG_DIR/redis.conf" --replica-announce-ip "$POD_IP" "$@"
}

# start_sentinel: starts redis-sentinel on the master it found, or on its own config from an earlier
# run of this pod (which keeps its sentinel id and known peers); the janitor runs beside it.
start_sentinel() {
  conf=$SENTINEL_STATE_DIR/sentinel.conf
  if [ -s "$conf" ] && grep -q '^sentinel monitor ' "$conf"; then
    log "reusing $conf from this pod's earlier run: it keeps its sentinel id and known peers"
  else
    master=$(find_master_for_sentinel) || exit 1
    log "monitoring master $MASTER_NAME at $(addr_text "$master") with quorum $QUORUM"
    sed -e "s/%MASTER_HOST%/$(addr_host "$master")/" -e "s/%MASTER_PORT%/$(addr_port "$master")/" -e "s/%ANNOUNCE_IP%/$POD_IP/" \
      "$CONFIG_DIR/sentinel.conf" >"$conf.tmp"
    mv "$conf.tmp" "$conf"
  fi
  # exec keeps this shell's PID: $$ is the PID of redis-sentinel, the container's main process, which
  # the janitor stops to restart the container.
  janitor "$$" "$conf" &
  exec redis-sentinel "$conf"
}

case $ROLE in
  sentinel) start_sentinel ;;
  master) start_redis first ;;
  *) start_redis replica ;;
esac
