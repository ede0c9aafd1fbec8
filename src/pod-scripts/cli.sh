#!/bin/sh
# cli.sh PORT ARGS...: redis-cli against this pod's own Redis or Sentinel (redis_at: as the admin
# user, with auth). The launch script runs it through `kubectl exec`.
set -eu
ROLE=cli
# shellcheck source=common.sh
. "${CONFIG_DIR:-/etc/redis-sentinel}/common.sh"
port=$1
shift
redis_at "$LOCAL_ADDR" "$port" "$@"
