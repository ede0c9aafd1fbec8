# shellcheck shell=sh
# handover.sh: what a pod does when it is deleted, before its containers get SIGTERM (the preStop
# hook, prestop.sh). Needs common.sh, auth.sh and discovery.sh. Everything is bounded by
# HANDOVER_SECONDS, which terminationGracePeriodSeconds leaves room for.

# redis_leaving: a replica leaves at once. The master hands over first: it pauses writes (CLIENT
# PAUSE WRITE: clients wait, nothing is refused), waits until a replica has its replication
# offset, asks a sentinel of another pod for SENTINEL FAILOVER, waits until the sentinels name
# another master that answers as one, then steps down to it and disconnects its clients, which ask
# the sentinels again and resend their writes to the new master. It then stays until a majority of
# the sentinels name the new master: the failover leader tells the others in its hellos, and a
# leader that goes with this pod before then leaves them naming a master that is gone, and they
# fail over a second time. When a step cannot be done in time it lifts the pause and leaves: the
# sentinels then fail over after down-after, as for a crash.
redis_leaving() {
  _hinfo=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
  if [ "$(printf '%s\n' "$_hinfo" | info_field role)" != master ]; then
    log "preStop: this Redis is not the master: leaving at once"
    return 0
  fi
  _hstart=$(now_ms)
  _hdeadline=$((_hstart + $(ms_of "$HANDOVER_SECONDS")))
  _hself=$(addr_of "$SELF_HOST" "$REDIS_PORT")
  # Ask the sentinels connected to this master by address, beside the Service.
  _hknown=$(connected_sentinels)
  # Writes wait; so do the replication pings, which Redis 7.0 sends during a CLIENT PAUSE: one sent
  # after the promotion would put the other replicas ahead of the new master, and a replica that
  # is ahead needs a full sync, with writes refused (min-replicas-to-write) until it is done.
  [ "$(printf '%s\n' "CLIENT PAUSE $(ms_of "$HANDOVER_SECONDS") WRITE" "CONFIG SET repl-ping-replica-period $PAUSED_PING_SECONDS" |
    session "$CLI_TIMEOUT_SECONDS" "$LOCAL_ADDR" "$REDIS_PORT" | paste -sd' ' -)" = 'OK OK' ] ||
    { abandon_handover "CLIENT PAUSE or CONFIG SET failed"; return 0; }
  log "preStop: this Redis is the master: handing over (writes paused for at most ${HANDOVER_SECONDS}s)"
  _hreplicas=$(printf '%s\n' "$_hinfo" | sed -n 's/^slave[0-9]*:ip=\([^,]*\),port=\([0-9]*\),state=online,.*/\1 \2/p')
  until_deadline replica_caught_up || { abandon_handover "no replica reached the master's replication offset"; return 0; }
  until_deadline failover_asked || { abandon_handover "no sentinel accepted SENTINEL FAILOVER (last reply: ${_hreply:-none}; last survey: $(survey_text "$_hlast"), asked through the Service and $(printf '%s\n' "$_hknown" | grep -c .) connected sentinel(s))"; return 0; }
  until_deadline replica_promoted || { abandon_handover "no replica became master"; return 0; }
  # The promoted replica has no replica of its own until the sentinels reconfigure the others, and
  # min-replicas-to-write refuses writes meanwhile: this master moves them, and itself, at once
  # (none is ahead of it: partial resyncs). Its clients stay paused until the sentinels name it.
  printf '%s\n' "$_hreplicas" | while read -r _rip _rport; do
    [ "$(addr_of "$_rip" "$_rport")" = "$_hnew" ] || redis_at "$_rip" "$_rport" REPLICAOF "$(addr_host "$_hnew")" "$(addr_port "$_hnew")" >/dev/null
  done
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" REPLICAOF "$(addr_host "$_hnew")" "$(addr_port "$_hnew")" >/dev/null
  until_deadline new_master_named || log "preStop: the sentinels do not name $(addr_text "$_hnew") yet"
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" CLIENT KILL TYPE normal >/dev/null
  log "preStop: handed over to $(addr_text "$_hnew") in $(($(now_ms) - _hstart))ms (replica caught up, SENTINEL FAILOVER at $(addr_text "$_hasked")); this Redis and the other replicas follow it, and its clients were disconnected"
  if until_deadline new_master_agreed; then
    log "preStop: $(naming "$_hsurvey") sentinel(s) name $(addr_text "$_hnew") $(($(now_ms) - _hstart))ms after the pause: leaving"
  else
    log "preStop: only $(naming "$_hsurvey") sentinel(s) name $(addr_text "$_hnew") after ${HANDOVER_SECONDS}s: leaving anyway"
  fi
}

# survey_text SURVEY: "N answered, naming host:port (epoch E) xK, ..." for a log line.
survey_text() {
  printf '%s\n' "$1" | awk '$1 == "S" { n++; k = ($4 == "-" ? "nothing" : $4 ":" $5 " (epoch " $3 ")"); c[k]++ }
    END { printf "%d answered", n; for (k in c) printf "%s %s x%d", (i++ ? "," : ", naming"), k, c[k] }'
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
  printf '%s\n' "$_hreplicas" | {
    while read -r _rip _rport; do
      [ "$(redis_at "$_rip" "$_rport" INFO replication | info_field slave_repl_offset)" != "$_hoffset" ] || exit 0
    done
    exit 1
  }
}

# failover_asked: a sentinel that names this master accepted SENTINEL FAILOVER, one of another pod
# when there is one (the sentinel in this pod, if any, is leaving too); sets _hasked.
failover_asked() {
  _hlocal=$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL myid)
  _hlast=$(sentinel_survey "$_hknown")
  _hasked=$(printf '%s\n' "$_hlast" | awk -v addr="$_hself" -v local_id="${_hlocal:--}" '
    $1 == "S" && $4 " " $5 == addr { if ($2 != local_id) { print $7, $8; found = 1; exit } fallback = $7 " " $8 }
    END { if (!found && fallback != "") print fallback }')
  [ -n "$_hasked" ] || return 1
  _hreply=$(redis_at "$(addr_host "$_hasked")" "$(addr_port "$_hasked")" SENTINEL failover "$MASTER_NAME")
  [ "$_hreply" = OK ]
}

# replica_promoted: a replica of this master reports itself master (the sentinel's SLAVEOF NO
# ONE); sets _hnew.
replica_promoted() {
  _hnew=$(printf '%s\n' "$_hreplicas" | {
    while read -r _rip _rport; do
      [ "$(redis_role "$_rip" "$_rport")" != master ] || { addr_of "$_rip" "$_rport"; exit 0; }
    done
  })
  [ -n "$_hnew" ]
}

# new_master_named: the authoritative master is _hnew.
new_master_named() {
  [ "$(authority "$(sentinel_survey "$_hknown")" | cut -d' ' -f2-)" = "$_hnew" ]
}

# new_master_agreed: a majority of the sentinels name _hnew.
new_master_agreed() {
  _hsurvey=$(sentinel_survey "$_hknown" | awk -v addr="$_hnew" '$1 != "S" || $4 " " $5 == addr')
  [ "$(naming "$_hsurvey")" -ge "$(majority "$SENTINEL_REPLICAS")" ]
}

abandon_handover() {
  printf '%s\n' 'CLIENT UNPAUSE' "CONFIG SET repl-ping-replica-period $REPL_PING_SECONDS" |
    session "$CLI_TIMEOUT_SECONDS" "$LOCAL_ADDR" "$REDIS_PORT" >/dev/null
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
