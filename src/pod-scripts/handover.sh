# shellcheck shell=sh
# handover.sh: a planned handover of the master. Needs common.sh, auth.sh and discovery.sh. Two
# callers: the preStop hook (prestop.sh) when a pod is deleted, before its containers get SIGTERM,
# and follow.sh's keep_home, which hands the master back to its home pod. Everything is bounded by
# HANDOVER_SECONDS, which terminationGracePeriodSeconds leaves room for.

# redis_leaving: a replica leaves at once, and so does a master with no online replica (no
# promotion could end its pause). The master hands over first (hand_over), to its successor
# (below). A hand-back that runs when the pod is deleted ends first.
redis_leaving() {
  _hwhy=preStop
  _hdeadline=$(($(now_ms) + $(ms_of "$HANDOVER_SECONDS")))
  until_deadline handover_lock || log "preStop: a hand-back still runs after ${HANDOVER_SECONDS}s: leaving anyway"
  _hinfo=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
  if [ "$(printf '%s\n' "$_hinfo" | info_field role)" != master ]; then
    log "preStop: this Redis is not the master: leaving at once"
    return 0
  fi
  _hreplicas=$(online_replicas)
  if [ -z "$_hreplicas" ]; then
    log "preStop: this Redis is the master and has no online replica to hand over to: leaving at once (it keeps its data; the sentinels have no replica to promote)"
    return 0
  fi
  log "preStop: this Redis is the master: handing over (writes paused for at most ${HANDOVER_SECONDS}s)"
  hand_over "$(successor "$_hreplicas")" leaving
  # The lock stays taken: this container ends now, and the next one clears it (keep_role).
}

# hand_back HOME: this master hands over to HOME ("host port"), an online replica, and goes on as
# its replica (follow.sh's keep_home). Nothing when another handover of this container runs.
hand_back() {
  handover_lock || return 0
  _hwhy=hand-back
  _hdeadline=$(($(now_ms) + $(ms_of "$HANDOVER_SECONDS")))
  _hinfo=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
  _hreplicas=$(online_replicas)
  if [ "$(printf '%s\n' "$_hinfo" | info_field role)" = master ] && printf '%s\n' "$_hreplicas" | grep -q -x -F "$1"; then
    log "hand-back: $(addr_text "$1"), the master's home pod, has been an online replica for ${HOME_AFTER_SECONDS}s with every sentinel naming this master: handing the master back to it (writes paused for at most ${HANDOVER_SECONDS}s)"
    hand_over "$1" "staying as its replica"
  fi
  handover_unlock
}

# handover_lock: one handover at a time in this container (a hand-back when the pod is deleted):
# takes the lock, or fails while another handover holds it. The lock is a directory on the data
# volume (writable in every topology); keep_role removes it when the container starts, since no
# handover of an earlier container runs then.
handover_lock() {
  mkdir "$DATA_DIR/handover.lock" 2>/dev/null
}

handover_unlock() {
  rmdir "$DATA_DIR/handover.lock" 2>/dev/null || :
}

# online_replicas: "host port" of each online replica in _hinfo (this master's INFO replication).
online_replicas() {
  printf '%s\n' "$_hinfo" | sed -n 's/^slave[0-9]*:ip=\([^,]*\),port=\([0-9]*\),state=online,.*/\1 \2/p'
}

# hand_over SUCCESSOR THEN: the master's handover, logged as _hwhy; THEN ends its last line. Before
# it pauses anything it picks the sentinel to ask and makes that sentinel prefer SUCCESSOR ("host
# port", one of _hreplicas: a lower replica-priority, which the sentinel reads in its next INFO) and
# waits for the moment to pause (align_with_info). Then it pauses writes (CLIENT PAUSE WRITE:
# clients wait, nothing is refused), waits until the successor has its replication offset, asks for
# SENTINEL FAILOVER, waits until the sentinels name another master that answers as one, then steps
# down to it and disconnects its clients, which ask the sentinels again and resend their writes to
# the new master. It then stays until a majority of the sentinels name the new master: the failover
# leader tells the others in its hellos, and a leader that goes with this pod before then leaves
# them naming a master that is gone, and they fail over a second time. When a step cannot be done
# in time it lifts the pause and gives up: a leaving pod then leaves, and the sentinels fail over
# after down-after, as for a crash.
# The caller sets _hdeadline: the whole preStop hook, waiting for a hand-back included, stays
# within HANDOVER_SECONDS.
hand_over() {
  _hstart=$(now_ms)
  _hself=$(addr_of "$SELF_HOST" "$REDIS_PORT")
  # Ask the sentinels connected to this master by address, beside the Service.
  _hknown=$(connected_sentinels)
  _hasked=
  _hpreferred=
  until_deadline sentinel_chosen || { abandon_handover "no sentinel names this master (last survey: $(survey_text "$_hlast"), asked through the Service and $(printf '%s\n' "$_hknown" | grep -c .) connected sentinel(s))"; return 0; }
  _hpreferred=$1
  prefer_successor
  # A hand-back goes to its home pod or not at all: to another replica it would move the master
  # for nothing.
  [ -n "$_hpreferred" ] || [ "$_hwhy" = preStop ] || { abandon_handover "no sentinel saw $(addr_text "$1") up and preferred"; return 0; }
  align_with_info
  _hpaused=$(now_ms)
  # Writes wait; so do the replication pings, which Redis 7.0 sends during a CLIENT PAUSE: one sent
  # after the promotion would put the other replicas ahead of the new master, and a replica that
  # is ahead needs a full sync, with writes refused (min-replicas-to-write) until it is done.
  [ "$(printf '%s\n' "CLIENT PAUSE $(ms_of "$HANDOVER_SECONDS") WRITE" "CONFIG SET repl-ping-replica-period $PAUSED_PING_SECONDS" |
    session "$CLI_TIMEOUT_SECONDS" "$LOCAL_ADDR" "$REDIS_PORT" | paste -sd' ' -)" = 'OK OK' ] ||
    { abandon_handover "CLIENT PAUSE or CONFIG SET failed"; return 0; }
  until_deadline replica_caught_up || { abandon_handover "the replica to promote did not reach the master's replication offset"; return 0; }
  until_deadline failover_asked || { abandon_handover "no sentinel accepted SENTINEL FAILOVER (last reply: ${_hreply:-none}; last survey: $(survey_text "$_hlast"), asked through the Service and $(printf '%s\n' "$_hknown" | grep -c .) connected sentinel(s))"; return 0; }
  _hfailover=$(now_ms)
  until_deadline replica_promoted || { abandon_handover "no replica became master"; return 0; }
  _hpromoted=$(now_ms)
  restore_priority
  # The promoted replica has no replica of its own until the sentinels reconfigure the others, and
  # min-replicas-to-write refuses writes meanwhile: this master moves them, and itself, at once
  # (none is ahead of it: partial resyncs). Its clients stay paused until the sentinels name it.
  printf '%s\n' "$_hreplicas" | while read -r _rip _rport; do
    [ "$(addr_of "$_rip" "$_rport")" = "$_hnew" ] || redis_at "$_rip" "$_rport" REPLICAOF "$(addr_host "$_hnew")" "$(addr_port "$_hnew")" >/dev/null
  done
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" REPLICAOF "$(addr_host "$_hnew")" "$(addr_port "$_hnew")" >/dev/null
  until_deadline new_master_named || log "$_hwhy: the sentinels do not name $(addr_text "$_hnew") yet"
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" CLIENT KILL TYPE normal >/dev/null
  # Its paused clients are gone, so no write of theirs runs here: lift the pause, so that this
  # replica applies the new master's stream (and acknowledges its writes) at once.
  lift_pause
  _hnow=$(now_ms)
  log "$_hwhy: handed over to $(addr_text "$_hnew") in $((_hnow - _hpaused))ms of paused writes (SENTINEL FAILOVER at $(addr_text "$_hasked") +$((_hfailover - _hpaused))ms, promotion seen +$((_hpromoted - _hpaused))ms, named +$((_hnow - _hpaused))ms; $(preferred_text); $((_hpaused - _hstart))ms of preparation before the pause); this Redis and the other replicas follow it, and its clients were disconnected"
  if until_deadline new_master_agreed; then
    log "$_hwhy: $(naming "$_hsurvey") sentinel(s) name $(addr_text "$_hnew") $(($(now_ms) - _hpaused))ms after the pause: $2"
  else
    log "$_hwhy: only $(naming "$_hsurvey") sentinel(s) name $(addr_text "$_hnew") after ${HANDOVER_SECONDS}s: $2 anyway"
  fi
}

# successor REPLICAS: "host port" of the replica a leaving master hands over to: the next by rank
# after this pod, round the ring (the lowest rank above its own, else the lowest). A rolling update
# replaces a StatefulSet's pods from the highest ordinal down, so the pods above this one's ordinal
# run the new revision already: the new master is replaced no more in this update, or (when this
# pod is the first replaced) once more, last. With the master at home (ordinal 0, keep_home in
# follow.sh) an update replaces it last and hands over once. The classic topology ranks by IP,
# which means no more than a fixed choice.
successor() {
  printf '%s\n' "$1" | awk -v me="$SELF_HOST" "$RANK_AWK"'
    BEGIN { mine = rank(me, 0) }
    NF == 2 {
      r = rank($1, 0)
      if (r > mine && (above == "" || r < ra)) { above = $0; ra = r }
      if (low == "" || r < rl) { low = $0; rl = r }
    }
    END { print (above != "" ? above : low) }'
}

# sentinel_chosen: a sentinel that names this master, one of another pod first when there is one
# (namers); sets _hasked.
sentinel_chosen() {
  _hlocal=$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL myid)
  _hlast=$(sentinel_survey "$_hknown")
  _hasked=$(namers | head -n 1)
  [ -n "$_hasked" ]
}

# namers: "host port" of each sentinel of the last survey that names this master, this pod's own
# last, and the one asked through the sentinel Service after all: each connection to the Service
# may reach another sentinel, and the handover asks one sentinel several things.
namers() {
  printf '%s\n' "$_hlast" | awk -v addr="$_hself" -v local_id="${_hlocal:--}" -v service="$SENTINEL_HOST $SENTINEL_PORT" '
    $1 == "S" && $4 " " $5 == addr { print ($7 " " $8 == service) * 2 + ($2 == local_id), $7, $8 }' | sort -n -k1,1 | cut -d' ' -f2-
}

# prefer_successor: Sentinel promotes the replica with the lowest replica-priority first (offsets
# are equal once writes pause): the successor gets PREFERRED_REPLICA_PRIORITY until the handover
# ends, and the sentinel to ask becomes one that has read it in an INFO (every
# SENTINEL_INFO_PERIOD_MS) and sees the successor up. A sentinel started before the successor's pod
# was replaced may still dial its old IP for 10 to 25 s (redis/redis#9103) and call it down, so
# not every sentinel will do: in a rolling update the sentinels of the pods replaced last see every
# pod. When none does within three INFO periods, or the successor refuses, the handover goes on
# without a preference (the first sentinel picks a replica it sees up; restore_priority puts the
# successor's value back); a hand-back does not go on.
prefer_successor() {
  [ -n "$_hpreferred" ] || return 0
  _hperiod=$SENTINEL_INFO_PERIOD_MS
  _hwait_until=$(($(now_ms) + 3 * _hperiod))
  if [ "$(redis_at "$(addr_host "$_hpreferred")" "$(addr_port "$_hpreferred")" CONFIG SET replica-priority "$PREFERRED_REPLICA_PRIORITY")" = OK ]; then
    while [ "$(now_ms)" -lt "$_hwait_until" ]; do
      preferring_sentinel && return 0
      sleep "$HANDOVER_POLL_SECONDS"
    done
  fi
  [ "$_hwhy" != preStop ] || log "preStop: no sentinel saw $(addr_text "$_hpreferred") up and preferred within $((3 * _hperiod))ms: handing over to the replica that the sentinel at $(addr_text "$_hasked") picks"
  restore_priority
  _hpreferred=
}

# preferring_sentinel: a sentinel that names this master sees the successor up, with the preferred
# priority; sets _hasked to it.
preferring_sentinel() {
  _hfound=$(namers | while read -r _sh _sp; do
    replica_views "$_sh" "$_sp" | awk -v addr="$_hpreferred" -v pri="$PREFERRED_REPLICA_PRIORITY" -v at="$_sh $_sp" '
      $1 " " $2 == addr && $3 == pri && $5 !~ /s_down|o_down|disconnected/ { print at; found = 1; exit }
      END { exit !found }' && break
  done)
  [ -n "$_hfound" ] || return 1
  _hasked=$_hfound
}

# preferred_view: the asked sentinel's "priority info-refresh-ms" of the successor.
preferred_view() {
  replica_views "$(addr_host "$_hasked")" "$(addr_port "$_hasked")" | awk -v addr="$_hpreferred" '$1 " " $2 == addr { print $3, $4; exit }'
}

# align_with_info: waits for the moment to pause. The failover leader sees its promotion only in
# its next INFO of the promoted replica (each SENTINEL_INFO_PERIOD_MS, which Sentinel keeps at
# 1000 ms during a failover), and the clients wait paused until then: a promotion just after an
# INFO waits a whole period, one just before it none. The asked sentinel's info-refresh of the
# successor tells when its next INFO is due; the pause starts HANDOVER_INFO_LEAD_MS before that,
# the time the pause, the offset check, SENTINEL FAILOVER and the leader's steps to SLAVEOF NO ONE
# take. Without a successor it pauses at once.
align_with_info() {
  [ -n "$_hpreferred" ] || return 0
  _hrefresh=$(preferred_view | cut -d' ' -f2)
  case $_hrefresh in '' | *[!0-9]*) return 0 ;; esac
  _hperiod=$SENTINEL_INFO_PERIOD_MS
  _hlead=$HANDOVER_INFO_LEAD_MS
  _hwait=$((_hperiod - _hrefresh - _hlead))
  while [ "$_hwait" -lt 0 ]; do _hwait=$((_hwait + _hperiod)); done
  sleep_until $(($(now_ms) + _hwait))
}

# restore_priority: the successor's replica-priority back to REPLICA_PRIORITY (an unplanned
# failover must pick by offset). A handover that cannot run this (its pod killed mid-way) leaves it
# to the successor's own follow check (keep_priority).
restore_priority() {
  [ -n "$_hpreferred" ] || return 0
  redis_at "$(addr_host "$_hpreferred")" "$(addr_port "$_hpreferred")" CONFIG SET replica-priority "$REPLICA_PRIORITY" >/dev/null
}

# preferred_text: whom the handover preferred, for its log line.
preferred_text() {
  if [ -z "$_hpreferred" ]; then
    echo "no preferred replica"
  elif [ "$_hpreferred" = "$_hnew" ]; then
    echo "the successor, as preferred"
  else
    echo "not the preferred successor $(addr_text "$_hpreferred")"
  fi
}

# lift_pause: ends this Redis' pause and puts its replication pings back. A pause holds back the
# replication stream of a replica too (Redis postpones its master's writes like a client's), and
# with its pings stopped a master's replicas time out: a Redis that stays (a hand-back, or a
# handover that gave up) must not keep either.
lift_pause() {
  printf '%s\n' 'CLIENT UNPAUSE' "CONFIG SET repl-ping-replica-period $REPL_PING_SECONDS" |
    session "$CLI_TIMEOUT_SECONDS" "$LOCAL_ADDR" "$REDIS_PORT" >/dev/null
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

# replica_caught_up: the replica Sentinel will promote has processed this master's whole
# replication stream (asked directly: the master's own view of a replica's offset is up to a second
# old): the successor, or without one every online replica (Sentinel then picks by its own view of
# their offsets, up to an INFO period old). No replica behind the master is promoted.
replica_caught_up() {
  _hoffset=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication | info_field master_repl_offset)
  [ -n "$_hoffset" ] || return 1
  _hcandidates=$_hreplicas
  [ -z "$_hpreferred" ] || _hcandidates=$_hpreferred
  printf '%s\n' "$_hcandidates" | {
    while read -r _rip _rport; do
      [ "$(redis_at "$_rip" "$_rport" INFO replication | info_field slave_repl_offset)" = "$_hoffset" ] || exit 1
    done
    exit 0
  }
}

# failover_asked: the chosen sentinel accepted SENTINEL FAILOVER; after a refusal the next try
# chooses again.
failover_asked() {
  [ -n "$_hasked" ] || sentinel_chosen || return 1
  _hreply=$(redis_at "$(addr_host "$_hasked")" "$(addr_port "$_hasked")" SENTINEL failover "$MASTER_NAME")
  [ "$_hreply" = OK ] && return 0
  _hasked=
  return 1
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
  restore_priority
  lift_pause
  if [ "$_hwhy" = preStop ]; then
    log "preStop: no handover after $(($(now_ms) - _hstart))ms: $1; writes resumed, leaving (the sentinels fail over after down-after)"
  else
    log "$_hwhy: no handover after $(($(now_ms) - _hstart))ms: $1; writes resumed, this Redis stays the master"
  fi
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
