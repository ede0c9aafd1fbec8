# shellcheck shell=sh
# follow.sh: keeping a running Redis on the master the sentinels name. Needs common.sh and
# discovery.sh.

# follow_sentinels: runs beside redis-server (in the background) and checks every
# FOLLOW_INTERVAL_SECONDS that it follows the master the sentinels name.
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
    [ "$(addr_host "$addr")" != "$POD_IP" ] || { strikes=0; continue; }
    info=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
    case $(printf '%s\n' "$info" | info_field role) in
      slave)
        strikes=0
        current=$(master_of "$info")
        [ "$current" != "$addr" ] || continue
        printf '%s\n' "$info" | grep -q '^master_link_status:down$' || continue
        is_live_master "$addr" || continue
        log "master $(addr_text "$current") is unreachable and the sentinels name $(addr_text "$addr"): replicating from it"
        replicate_from "$addr"
        ;;
      master)
        if is_live_master "$addr" && [ "$addr" = "${named:-$addr}" ]; then
          strikes=$((strikes + 1))
        else
          strikes=0
        fi
        named=$addr
        [ "$strikes" -ge "$FOLLOW_STRIKES" ] || continue
        log "this Redis is a master but the sentinels name the live master $(addr_text "$addr"): stepping down to its replica"
        replicate_from "$addr"
        strikes=0
        ;;
    esac
  done
}

# replicate_from ADDR: makes this pod's Redis a replica of the master at ADDR.
replicate_from() {
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" REPLICAOF "$(addr_host "$1")" "$(addr_port "$1")" >/dev/null || true
}
