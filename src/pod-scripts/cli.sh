#!/bin/sh
# cli.sh PORT ARGS...: redis-cli against this pod's own Redis or Sentinel, with the password when
# one is mounted. The launch script runs it through `kubectl exec`.
set -eu
ROLE=cli
# shellcheck source=common.sh
. "${CONFIG_DIR:-/etc/redis-sentinel}/common.sh"
port=$1
shift
exec timeout "$CLI_TIMEOUT_SECONDS" redis-cli --no-auth-warning -h "$LOCAL_ADDR" -p "$port" "$@"
