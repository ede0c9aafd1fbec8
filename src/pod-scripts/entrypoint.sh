#!/bin/sh
# entrypoint.sh: the one entry script of every container, as in the classic example. The role comes
# from the env (common.sh): the bootstrap pod's Redis (MASTER=true), a sentinel (SENTINEL=true), or
# a Redis of the redis controller. The modules it sources do the rest (README.md).
set -eu
# shellcheck source=common.sh
. "${CONFIG_DIR:-/etc/redis-sentinel}/common.sh"
# shellcheck source=auth.sh
. "$CONFIG_DIR/auth.sh"
# shellcheck source=discovery.sh
. "$CONFIG_DIR/discovery.sh"
# shellcheck source=founding.sh
. "$CONFIG_DIR/founding.sh"
# shellcheck source=handover.sh
. "$CONFIG_DIR/handover.sh"
# shellcheck source=follow.sh
. "$CONFIG_DIR/follow.sh"
# shellcheck source=sentinel.sh
. "$CONFIG_DIR/sentinel.sh"
# shellcheck source=janitor.sh
. "$CONFIG_DIR/janitor.sh"

: "${POD_IP:?POD_IP must be set (downward API status.podIP)}"

if auth_on; then
  # Every file written from here on, by this script or the servers (Sentinel rewrites its config
  # with the passwords in it), is readable by its owner alone.
  umask 077
  wait_for_secret
  auth_started=$(secret_fingerprint) # taken before the files are written: a change in between is applied once the server is up
fi

# run_redis: redis-server in place of this shell, waiting (a replica of port 0) until keep_role,
# beside it, decides whom it follows or whether it is the master; with auth, its auth files
# written from the Secret and watch_secret beside it.
run_redis() {
  keep_role &
  if auth_on; then
    write_redis_auth
    log "using the passwords of Secret $AUTH_SECRET (passwords per key: $(password_counts))"
    watch_secret redis "$auth_started" &
  fi
  exec redis-server "$CONFIG_DIR/redis.conf" --replica-announce-ip "$SELF_HOST" --replicaof "$LOCAL_ADDR" "$WAITING_PORT" \
    --proc-title-template "$(title_of "$ROLE")"
}

# run_sentinel: this shell supervises redis-sentinel (sentinel.sh), with the janitor beside it
# and, with auth, watch_secret.
run_sentinel() {
  janitor &
  if auth_on; then
    log "using the passwords of Secret $AUTH_SECRET (passwords per key: $(password_counts))"
    watch_secret sentinel "$auth_started" &
  fi
  supervise_sentinel
}

case $ROLE in
  sentinel) run_sentinel ;;
  *) run_redis ;;
esac
