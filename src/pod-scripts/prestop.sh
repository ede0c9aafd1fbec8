#!/bin/sh
# prestop.sh: the preStop hook of every container (handover.sh): the master hands over before its
# pod goes, a sentinel that leads a failover lets it end, anything else leaves at once. Kubernetes
# runs it in the container, with its env, before SIGTERM; terminationGracePeriodSeconds bounds it.
set -eu
# shellcheck source=common.sh
. "${CONFIG_DIR:-/etc/redis-sentinel}/common.sh"
# shellcheck source=auth.sh
. "$CONFIG_DIR/auth.sh"
# shellcheck source=discovery.sh
. "$CONFIG_DIR/discovery.sh"
# shellcheck source=handover.sh
. "$CONFIG_DIR/handover.sh"

# Kubernetes keeps a hook's output out of the container's log: write to the log of the container's
# main process (PID 1 of its PID namespace) when it is ours.
case $(tr '\0' ' ' </proc/1/cmdline 2>/dev/null) in
  redis-server* | redis-sentinel* | *entrypoint.sh*) [ ! -w /proc/1/fd/2 ] || exec 2>>/proc/1/fd/2 ;;
esac

case $ROLE in
  sentinel) sentinel_leaving ;;
  *) redis_leaving ;;
esac
