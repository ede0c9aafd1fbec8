#!/bin/sh
# probe.sh redis-ready|redis-started|redis-alive|sentinel-ready: the probes.
# - redis-ready: the server answers, and a replica is in sync with its master (an empty or
#   half-synced replica must not count as ready, or a launch could delete the master too early).
# - sentinel-ready: the sentinel answers and monitors a master. The sentinel Service selects only
#   ready sentinels, so a sentinel that is still starting never answers "no master" to a pod that
#   asks, which would make a re-applied bootstrap pod start a second master.
# - redis-started (startup probe, StatefulSet topology): the server answers PING with PONG, so it has
#   loaded its data; a large append-only file may take minutes, and LOADING keeps it starting.
# - redis-alive (liveness): the server answers at all. LOADING, MASTERDOWN and a refused login are
#   answers: a Redis that is busy loading, waits for its master, or is mid-rotation is not restarted.
set -eu
ROLE=probe
# shellcheck source=common.sh
. "${CONFIG_DIR:-/etc/redis-sentinel}/common.sh"

case ${1:-} in
  redis-ready)
    info=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
    role=$(printf '%s\n' "$info" | info_field role)
    case $role in
      master) exit 0 ;;
      slave)
        printf '%s\n' "$info" | grep -q '^master_link_status:up$' || { echo "replica not linked to its master"; exit 1; }
        printf '%s\n' "$info" | grep -q '^master_sync_in_progress:0$' || { echo "replica still syncing"; exit 1; }
        exit 0
        ;;
      *) echo "redis does not answer on port $REDIS_PORT"; exit 1 ;;
    esac
    ;;
  redis-started)
    reply=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" PING)
    [ "$reply" = PONG ] || { echo "redis has not started yet: ${reply:-no answer} on port $REDIS_PORT"; exit 1; }
    ;;
  redis-alive)
    # No login: any reply, an error one included, shows that the server's event loop runs.
    reply=$(timeout "$CLI_TIMEOUT_SECONDS" redis-cli -h "$LOCAL_ADDR" -p "$REDIS_PORT" PING 2>/dev/null) || true
    [ -n "$reply" ] || { echo "redis does not answer on port $REDIS_PORT"; exit 1; }
    ;;
  sentinel-ready)
    addr=$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed -n 1p)
    valid_addr "$addr" || { echo "sentinel does not monitor $MASTER_NAME yet"; exit 1; }
    ;;
  *)
    echo "usage: probe.sh redis-ready|redis-started|redis-alive|sentinel-ready" >&2
    exit 2
    ;;
esac
