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
# shellcheck source=auth.sh
. "$CONFIG_DIR/auth.sh"
# shellcheck source=discovery.sh
. "$CONFIG_DIR/discovery.sh"
# shellcheck source=follow.sh
. "$CONFIG_DIR/follow.sh"
# shellcheck source=janitor.sh
. "$CONFIG_DIR/janitor.sh"

: "${POD_IP:?POD_IP must be set (downward API status.podIP)}"

if auth_on; then
  # Every file written from here on, by this script or the servers (Sentinel rewrites its config
  # with the passwords in it), is readable by its owner alone.
  umask 077
  wait_for_secret
fi

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

# run_redis_server [ARGS...]: redis-server in place of this shell, with follow_sentinels beside it
# and, with auth, its auth files written from the Secret and watch_secret beside it.
run_redis_server() {
  follow_sentinels &
  if auth_on; then
    # Taken before the files are written: a change in between is applied once the server is up.
    auth_started=$(secret_fingerprint)
    write_redis_auth
    log "using the passwords of Secret $AUTH_SECRET (passwords per key: $(password_counts))"
    watch_secret redis "$auth_started" &
  fi
  exec redis-server "$CONFIG_DIR/redis.conf" --replica-announce-ip "$POD_IP" "$@"
}

# start_sentinel: starts redis-sentinel on the master it found, or on its own config from an earlier
# run of this pod (which keeps its sentinel id and known peers); the janitor runs beside it. With
# auth, the config gets the users and passwords of the Secret as they are now, and watch_secret
# runs beside it too.
start_sentinel() {
  conf=$SENTINEL_STATE_DIR/sentinel.conf
  if auth_on; then auth_started=$(secret_fingerprint); fi
  if [ -s "$conf" ] && grep -q '^sentinel monitor ' "$conf"; then
    log "reusing $conf from this pod's earlier run: it keeps its sentinel id and known peers"
    if auth_on; then
      { without_auth_lines <"$conf"; sentinel_auth_lines; } >"$conf.tmp"
      mv "$conf.tmp" "$conf"
    fi
  else
    master=$(find_master_for_sentinel) || exit 1
    log "monitoring master $MASTER_NAME at $(addr_text "$master") with quorum $QUORUM"
    {
      sed -e "s/%MASTER_HOST%/$(addr_host "$master")/" -e "s/%MASTER_PORT%/$(addr_port "$master")/" -e "s/%ANNOUNCE_IP%/$POD_IP/" \
        "$CONFIG_DIR/sentinel.conf"
      if auth_on; then sentinel_auth_lines; fi
    } >"$conf.tmp"
    mv "$conf.tmp" "$conf"
  fi
  # exec keeps this shell's PID: $$ is the PID of redis-sentinel, the container's main process, which
  # the janitor stops to restart the container.
  janitor "$$" "$conf" &
  if auth_on; then
    log "using the passwords of Secret $AUTH_SECRET (passwords per key: $(password_counts))"
    watch_secret sentinel "$auth_started" &
  fi
  exec redis-sentinel "$conf"
}

case $ROLE in
  sentinel) start_sentinel ;;
  master) start_redis first ;;
  *) start_redis replica ;;
esac
