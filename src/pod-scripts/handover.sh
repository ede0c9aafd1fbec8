# shellcheck shell=sh
# handover.sh: what a pod does when it is deleted, before its containers get SIGTERM (the preStop
# hook, prestop.sh). Needs common.sh, auth.sh and discovery.sh. Everything is bounded by
# HANDOVER_SECONDS, which terminationGracePeriodSeconds leaves room for.

# redis_leaving: a replica leaves at once. The master hands over first: it pauses writes (CLIENT
# PAUSE WRITE: clients wait, nothing is refused), waits until a replica has its replication
# offset, asks a sentinel for SENTINEL FAILOVER, waits until the sentinels name another master
# that answers as one, then steps down to it and disconnects its clients, which ask the sentinels
# again and resend their writes to the new master. When a step cannot be done in time it lifts the
# pause and leaves: the sentinels then fail over after down-after, as for a crash.
redis_leaving() {
  _hinfo=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
  if [ "$(printf '%s\n' "$_hinfo" | info_field role)" != master ]; then
    log "preStop: this Redis is not the master: leaving at once"
    return 0
  fi
  _hstart=$(now_ms)
  _hdeadline=$((_hstart + $(ms_of "$HANDOVER_SECONDS")))
  _hself=$(addr_of "$POD_IP" "$REDIS_PORT")
  [ "$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" CLIENT PAUSE "$(ms_of "$HANDOVER_SECONDS")" WRITE)" = OK ] ||
    { log "preStop: CLIENT PAUSE failed: leaving without a handover"; return 0; }
  log "preStop: this Redis is the master: handing over (writes paused for at most ${HANDOVER_SECONDS}s)"
  until_deadline replica_caught_up || { abandon_handover "no replica reached the master's replication offset"; return 0; }
  until_deadline failover_asked || { abandon_handover "no sentinel accepted SENTINEL FAILOVER (last reply: ${_hreply:-none})"; return 0; }
  until_deadline new_master_named || { abandon_handover "the sentinels named no other live master"; return 0; }
  printf '%s\n' "REPLICAOF $(addr_host "$_hnew") $(addr_port "$_hnew")" 'CLIENT KILL TYPE normal' |
    session "$CLI_TIMEOUT_SECONDS" "$LOCAL_ADDR" "$REDIS_PORT" >/dev/null
  log "preStop: handed over to $(addr_text "$_hnew") in $(($(now_ms) - _hstart))ms (replica caught up, SENTINEL FAILOVER at $(addr_text "$_hasked")); this Redis is its replica and its clients were disconnected"
}

# until_deadline CHECK: runs CHECK every HANDOVER_POLL_SECONDS until it succeeds or _hdeadline.
until_deadline() {
  while [ "$(now_ms)" -lt "$_hdeadline" ]; do
    "$1" && return 0
    sleep "$HANDOVER_POLL_SECONDS"
  done
  return 1
}

# replica_caught_up: a replica of this master has processed its whole replication stream (asked
# directly: the master's own view of a replica's offset is up to a second old).
replica_caught_up() {
  _hoffset=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication | info_field master_repl_offset)
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication |
    sed -n 's/^slave[0-9]*:ip=\([^,]*\),port=\([0-9]*\),state=online,.*/\1 \2/p' | {
    while read -r _rip _rport; do
      [ "$(redis_at "$_rip" "$_rport" INFO replication | info_field slave_repl_offset)" = "$_hoffset" ] && exit 0
    done
    exit 1
  }
}

# failover_asked: a sentinel that names this master accepted SENTINEL FAILOVER; sets _hasked.
failover_asked() {
  _hasked=$(namer_of "$(sentinel_survey)" "$_hself")
  [ -n "$_hasked" ] || return 1
  _hreply=$(redis_at "$(addr_host "$_hasked")" "$(addr_port "$_hasked")" SENTINEL failover "$MASTER_NAME")
  [ "$_hreply" = OK ]
}

# new_master_named: the authoritative master is another live master of ours; sets _hnew.
new_master_named() {
  _hnew=$(authority "$(sentinel_survey)")
  _hnew=${_hnew#* }
  [ -n "$_hnew" ] && [ "$_hnew" != "$_hself" ] && is_live_master "$_hnew"
}

abandon_handover() {
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" CLIENT UNPAUSE >/dev/null
  log "preStop: no handover after $(($(now_ms) - _hstart))ms: $1; writes resumed, leaving (the sentinels fail over after down-after)"
}

# sentinel_leaving: a sentinel that leads a failover in progress waits for it to end (a failover
# whose leader is gone waits twice failover-timeout before another sentinel may try); any other
# leaves at once.
sentinel_leaving() {
  _hdeadline=$(($(now_ms) + $(ms_of "$HANDOVER_SECONDS")))
  _hflags=$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME" | field flags)
  case $_hflags in
    *failover_in_progress*)
      log "preStop: this sentinel leads a failover in progress: waiting for it to end (at most ${HANDOVER_SECONDS}s)"
      until_deadline failover_over || log "preStop: the failover still runs: leaving anyway"
      ;;
  esac
  log "preStop: leaving"
}

failover_over() {
  case $(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME" | field flags) in
    *failover_in_progress*) return 1 ;;
  esac
}
