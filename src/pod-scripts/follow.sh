# shellcheck shell=sh
# follow.sh: the state machine beside every redis-server (docs/state-machine.md): DISCOVER, FOUND?,
# FOLLOW, MASTER, the follow rule, the fence and the hand-back home. Needs common.sh, auth.sh,
# discovery.sh, founding.sh and handover.sh.
#
# redis-server starts at once as a replica of port 0 (WAITING_PORT: it follows nobody, but peers
# can see it and what data it loaded), and keep_role moves it: REPLICAOF a master, or REPLICAOF NO
# ONE to be one. Its state lives in shell variables of the keep_role process.

WAITING_PORT=0

# HOME_HOST: the stable name of the master's home pod (MASTER_HOME_POD: ordinal 0 of the
# StatefulSet with masterOnFirstPod), to which a master elsewhere hands back (keep_home); empty:
# none.
HOME_HOST=
[ -z "${MASTER_HOME_POD:-}" ] || HOME_HOST=$MASTER_HOME_POD.$HEADLESS_SERVICE.$POD_NAMESPACE.svc

# keep_role: runs beside redis-server (in the background) for as long as it runs; checks every
# FOLLOW_INTERVAL_SECONDS (RETRY_SECONDS while it waits), each check on the answers of that moment.
keep_role() {
  set +e # every step handles its own failure; one that fails is tried again at the next check
  _waiting_since=$(now)
  _streak=0        # checks in a row with no master anywhere (FOUND?)
  _confirmed=      # now_ms of the last check in which a sentinel majority named this master
  _fenced=         # set while this master refuses writes
  _known=          # the sentinels the last survey listed
  _said=           # the last state line logged, so that a state that lasts is logged once
  _failover_asked= # now_ms when this pod last asked the sentinels to fail over from it
  _stranded=       # set by a check that found no live master anywhere: the next one comes RETRY_SECONDS later
  _preferred_since= # now_ms of the first check that found this replica's priority not REPLICA_PRIORITY
  _home_since=     # now_ms of the first check in a row that found the home pod ready for the master
  handover_unlock  # left by a preStop of this pod's last container: no handover of it runs now
  poll "$STARTUP_POLLS" "$STARTUP_POLL_SECONDS" redis_answers
  while :; do
    _tick=$(now_ms)
    _stranded=
    keep_role_once
    if [ -n "$_stranded" ]; then
      sleep_until $((_tick + $(ms_of "$RETRY_SECONDS")))
    else
      sleep_until $((_tick + $(ms_of "$FOLLOW_INTERVAL_SECONDS")))
    fi
  done
}

redis_answers() {
  [ -n "$(redis_role "$LOCAL_ADDR" "$REDIS_PORT")" ]
}

# say LINE: logs LINE unless it is the state logged last.
say() {
  [ "$*" = "$_said" ] || log "$*"
  _said=$*
}

keep_role_once() {
  _info=$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)
  _role=$(printf '%s\n' "$_info" | info_field role)
  _current=$(master_of "$_info")
  [ -n "$_role" ] || return 0
  record_position "$_info"
  _self=$(addr_of "$SELF_HOST" "$REDIS_PORT")
  _ask=$_known
  [ "$_role" != master ] || _ask=$(printf '%s\n' "$_known" "$(connected_sentinels)")
  _survey=$(sentinel_survey "$_ask")
  _listed=$(printf '%s\n' "$_survey" | awk '$1 == "K" { print $2, $3 }')
  [ -z "$_listed" ] || _known=$_listed
  _authority=$(authority "$_survey")
  _epoch=${_authority%% *}
  _named=${_authority#* }
  _naming=$(naming "$_survey")
  case $_role in
    master) keep_master ;;
    slave) keep_replica ;;
  esac
}

# named_text: how the sentinels name the authoritative master, for logs.
named_text() {
  echo "$(addr_text "$_named") (config epoch $_epoch, the highest of the $_naming sentinel(s) that answered)"
}

# keep_master: the follow rule for a master. It steps down at once when the authoritative master is
# another live master of ours, unless a sentinel is promoting a replica (it may be this one, which
# the sentinels name only once it reports itself master); it fences itself when no sentinel
# majority has named it for FENCE_AFTER_MS, and unfences when one does again.
keep_master() {
  _waiting_since=
  _streak=0
  [ -n "$_confirmed" ] || _confirmed=$_tick # a new master gets FENCE_AFTER_MS to be named
  if [ -n "$_authority" ] && [ "$_named" != "$_self" ]; then
    if promoting "$_survey"; then
      say "the sentinels name $(named_text), but one of them is promoting a replica: not stepping down while it does"
      return 0
    elif is_live_master "$_named"; then
      step_down "$_named"
      return 0
    fi
  fi
  if [ "$_named" = "$_self" ] && [ "$_naming" -ge "$(majority "$SENTINEL_REPLICAS")" ]; then
    _confirmed=$_tick
    unfence
    keep_home
    return 0
  fi
  # the survey tells the state at the start of this check: the fence counts from there, and a
  # fresh survey must agree right before it
  [ $((_tick - _confirmed)) -ge "$FENCE_AFTER_MS" ] || return 0
  [ -n "$_fenced" ] || ! confirmed_now || return 0
  fence
}

# keep_home: a master that is not on its home pod (HOME_HOST) hands the master back to it
# (hand_back, handover.sh: a planned handover, writes paused for well under a second) once the
# home pod has been ready for it for HOME_AFTER_SECONDS in a row. A rolling update replaces a
# StatefulSet's pods from the highest ordinal down, so with the master home it replaces the
# replicas first and the master last, with one handover. The wait keeps the master off a pod that
# comes back and goes again (a crash loop): such a pod is never ready that long.
keep_home() {
  if [ -z "$HOME_HOST" ] || [ "$SELF_HOST" = "$HOME_HOST" ] || ! home_ready; then
    _home_since=
    return 0
  fi
  [ -n "$_home_since" ] || _home_since=$_tick
  [ $((_tick - _home_since)) -ge "$(ms_of "$HOME_AFTER_SECONDS")" ] || return 0
  _home_since=
  hand_back "$(addr_of "$HOME_HOST" "$REDIS_PORT")"
}

# home_ready: the home pod is an online replica of this master, acknowledging (lag 0 or 1 s), every
# sentinel (SENTINEL_REPLICAS) answered and names this master, and no failover is in progress.
home_ready() {
  case $_survey in *failover_in_progress*) return 1 ;; esac
  [ "$(printf '%s\n' "$_survey" | awk -v addr="$_self" '$1 == "S" && $4 " " $5 == addr { n++ } END { print n + 0 }')" -ge "$SENTINEL_REPLICAS" ] || return 1
  printf '%s\n' "$_info" | awk -v host="$HOME_HOST" -v port="$REDIS_PORT" -F'[:,=]' '
    /^slave[0-9]+:/ { ip = ""; p = ""; st = ""; lag = ""
      for (i = 2; i < NF; i += 2) {
        if ($i == "ip") ip = $(i + 1); else if ($i == "port") p = $(i + 1)
        else if ($i == "state") st = $(i + 1); else if ($i == "lag") lag = $(i + 1)
      }
      if (ip == host && p == port && st == "online" && lag != "" && lag <= 1) found = 1 }
    END { exit !found }'
}

# confirmed_now: a fresh survey finds a sentinel majority naming this master.
confirmed_now() {
  _fresh=$(sentinel_survey "$_ask")
  _fresh_auth=$(authority "$_fresh")
  [ "${_fresh_auth#* }" = "$_self" ] && [ "$(naming "$_fresh")" -ge "$(majority "$SENTINEL_REPLICAS")" ] || return 1
  _confirmed=$(now_ms)
}

# keep_replica: the follow rule for a replica, and DISCOVER for a pod that still waits.
keep_replica() {
  _confirmed=
  keep_priority
  if [ "$(addr_port "$_current")" = "$WAITING_PORT" ]; then
    discover_once
    return 0
  fi
  _waiting_since=
  [ "$_named" != "$_current" ] || return 0
  if [ -n "$_authority" ] && [ "$_named" != "$_self" ] && is_live_master "$_named"; then
    log "the sentinels name the live master $(named_text); this replica follows $(addr_text "$_current") (link $(printf '%s\n' "$_info" | info_field master_link_status)): replicating from $(addr_text "$_named")"
    replicate_from "$_named"
    return 0
  fi
  # No live master named: a replica keeps a master that works (the sentinels may all be new).
  printf '%s\n' "$_info" | grep -q -x -e 'master_link_status:up' -e 'master_sync_in_progress:1' && return 0
  is_live_master "$_current" && return 0
  stranded_once
}

# keep_priority: a planned handover lowers its successor's replica-priority and puts it back
# (handover.sh); one whose pod was killed mid-way cannot. A replica that still has another priority
# after HANDOVER_SECONDS puts REPLICA_PRIORITY back itself: Sentinel must pick by offset again.
keep_priority() {
  _priority=$(printf '%s\n' "$_info" | info_field slave_priority)
  if [ -z "$_priority" ] || [ "$_priority" = "$REPLICA_PRIORITY" ]; then
    _preferred_since=
    return 0
  fi
  [ -n "$_preferred_since" ] || _preferred_since=$_tick
  [ $((_tick - _preferred_since)) -ge "$(ms_of "$HANDOVER_SECONDS")" ] || return 0
  [ "$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" CONFIG SET replica-priority "$REPLICA_PRIORITY")" = OK ] || return 0
  log "this replica's replica-priority was $_priority for ${HANDOVER_SECONDS}s, longer than a handover lasts: back to $REPLICA_PRIORITY"
  _preferred_since=
}

# discover_once: DISCOVER for a pod that waits: follow the master the sentinels name, resume as the
# master they name, or look at the peers; give up after DISCOVERY_TIMEOUT_SECONDS.
discover_once() {
  [ -n "$_waiting_since" ] || _waiting_since=$(now)
  if [ -n "$_authority" ] && [ "$_named" = "$_self" ]; then
    resume_once
    return 0
  fi
  if [ -n "$_authority" ] && is_live_master "$_named"; then
    if [ "$ROLE" = master ]; then
      log "the sentinels already know a live master of $MASTER_NAME at $(addr_text "$_named"): joining it as a replica instead of starting a second master"
    else
      log "replicating from master $(addr_text "$_named") (found through the sentinels: config epoch $_epoch, $_naming answered)"
    fi
    replicate_from "$_named"
    return 0
  fi
  stranded_once
  [ "$(redis_role "$LOCAL_ADDR" "$REDIS_PORT")" = slave ] || return 0
  [ $(($(now) - _waiting_since)) -ge "$DISCOVERY_TIMEOUT_SECONDS" ] || return 0
  log "giving up after ${DISCOVERY_TIMEOUT_SECONDS}s: found no live master of $MASTER_NAME and founded none (${_said:-no answer}); look at the sentinels and the Redis pods: kubectl logs -l $SENTINEL_LABEL -c sentinel; kubectl logs -l $REDIS_LABEL"
  # $$ is redis-server, which replaced the entry shell: stopping it ends the container, and
  # Kubernetes restarts it.
  kill "$$"
}

# resume_once: the sentinels name this pod as master, but its Redis waits: its container
# restarted faster than a failover. With appendfsync everysec its append-only file may lack the
# last second of writes, which a replica acknowledged (WAIT), and the sentinels still ping the
# address they resolved before the restart (redis/redis#9103): after down-after they fail it over
# anyway. So while a replica could take over (a sentinel knows a live one, or a Redis pod still
# follows this one) it asks them to fail over now, again every FAILOVER_ASK_SECONDS while none is
# in progress: a failover they accept can still abort (Sentinel's -failover-abort-no-good-slave
# when its links to the replicas were just reset by its own +fix-slave-config, which the new
# address of this pod's name sets off), and an automatic one waits down-after. It never resumes
# while a replica follows it: the sentinels would fail over from it and drop what it took. With
# no replica anywhere it resumes with what it has.
resume_once() {
  _following=$(followers "$(peer_survey)" "$SELF_HOST" "$REDIS_PORT")
  if [ "$_following" -gt 0 ] || live_replica_known "$_survey"; then
    case $_survey in
      *failover_in_progress*)
        say "the sentinels name this pod ($(addr_text "$_self")) as master of $MASTER_NAME and are failing over from it: waiting"
        return 0
        ;;
    esac
    if [ -z "$_failover_asked" ] || [ $(($(now_ms) - _failover_asked)) -ge "$(ms_of "$FAILOVER_ASK_SECONDS")" ]; then
      _failover_asked=$(now_ms)
      _asked=$(namer_of "$_survey" "$_self")
      log "the sentinels name this pod ($(addr_text "$_self")) as master of $MASTER_NAME, but its Redis restarted and its append-only file may lack writes that a replica acknowledged ($_following Redis pod(s) follow it): asking the sentinel at $(addr_text "$_asked") to fail over to a replica instead of resuming (SENTINEL FAILOVER: $(redis_at "$(addr_host "$_asked")" "$(addr_port "$_asked")" SENTINEL failover "$MASTER_NAME"))"
    fi
    return 0
  fi
  _keys=$(own_keys)
  if [ "$_keys" -gt 0 ]; then
    log "the sentinels name this pod ($(addr_text "$_self")) as master of $MASTER_NAME, no replica is known or follows it, and its data ($_keys keys) is here: resuming as master"
  else
    log "the sentinels name this pod as master, its data is empty and no replica is known or follows it: starting as master"
  fi
  become_master
}

# stranded_once: no sentinel names a live master. Follow the best master the Redis pods show; with
# none, and sentinels that cannot fail over, found a cluster by founding_verdict, after
# FOUND_CHECKS checks in a row (BOOTSTRAP_QUERIES for the bootstrap pod on a new cluster).
stranded_once() {
  _stranded=1
  _peers=$(peer_survey)
  _best=$(best_peer_master "$_peers" "$SELF_HOST")
  if [ -n "$_best" ] && is_live_master "$_best"; then
    log "no sentinel names a live master of $MASTER_NAME; the Redis pods show the live master $(addr_text "$_best"): replicating from it"
    replicate_from "$_best"
    _streak=0
    return 0
  fi
  if [ "$_naming" -gt 0 ] && sentinels_can_recover "$_survey"; then
    _streak=0
    say "waiting for the sentinels to fail over: no master of ours answers where they point (${_authority:-they disagree}), and they know a live replica to promote"
    return 0
  fi
  _seed=
  [ "$_naming" -gt 0 ] || _seed=1
  _verdict=$(founding_verdict "$_peers" "$_seed")
  # Founding is a promotion that Sentinel did not make: never while some sentinels answer but fewer
  # than a majority. The others may be cut off from this pod, not gone, and Sentinel itself fails
  # over only with a majority (a master killed while 2 of 3 sentinels were cut off: a replica
  # founded within 4 s, in the e2e "no quorum, no failover" test). When none answers, the pods
  # found only if none of them still follows a master (every pod lost: they all start waiting, and
  # a sentinel starts only once it knows a master).
  case $_verdict in
    seed:*) ;;
    *) _answered=$(printf '%s\n' "$_survey" | awk '$1 == "S" { n++ } END { print n + 0 }')
      _following=$(followers "$_peers")
      if [ "$_answered" -gt 0 ] && [ "$_answered" -lt "$(majority "$SENTINEL_REPLICAS")" ]; then
        _verdict="wait: only $_answered of the $SENTINEL_REPLICAS sentinels answer, fewer than a majority: a failover is theirs once a majority answers"
      elif [ "$_answered" -eq 0 ] && [ "$_following" -gt 0 ]; then
        _verdict="wait: no sentinel answers, and $_following Redis pod(s) still follow the master they had: the sentinels may be cut off, not gone"
      fi ;;
  esac
  case $_verdict in
    wait:*)
      _streak=0
      say "not founding a cluster: ${_verdict#wait: }"
      return 0
      ;;
  esac
  _streak=$((_streak + 1))
  _needed=$FOUND_CHECKS
  case $_verdict in seed:*) _needed=$BOOTSTRAP_QUERIES ;; esac
  if [ "$_streak" -lt "$_needed" ]; then
    say "no master anywhere and this pod is the one to found a cluster (check $_streak of $_needed): ${_verdict#*: }"
    return 0
  fi
  case $_verdict in
    seed:*) log "no sentinel answered at $SENTINEL_HOST:$SENTINEL_PORT ($_streak tries): this is a new cluster, starting as its first master" ;;
    empty:*) log "no master anywhere and no Redis pod holds data: the data of $MASTER_NAME, if it had any, is gone (emptyDir volumes end with their pods). Founding a new, empty cluster on this pod, the first by rank; ${_verdict#empty: }" ;;
    data:*) log "no master anywhere: founding the cluster again on this pod's data, the newest; ${_verdict#data: }" ;;
  esac
  become_master
}

# own_keys: how many keys this pod's Redis holds.
own_keys() {
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO keyspace | awk -F'[:=,]' '/^db[0-9]+:keys=/ { n += $3 } END { print n + 0 }'
}

become_master() {
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" REPLICAOF NO ONE >/dev/null
  _streak=0
  _confirmed=$(now_ms)
}

# step_down ADDR: this master becomes a replica of ADDR at once (writes are refused from then on),
# then drops its normal clients, so that they ask the sentinels again, and lifts its fence.
step_down() {
  log "this Redis is a master but the sentinels name the live master $(named_text): stepping down to its replica and disconnecting its clients, which ask the sentinels again"
  printf '%s\n' "REPLICAOF $(addr_host "$1") $(addr_port "$1")" 'CLIENT KILL TYPE normal' \
    "CONFIG SET min-replicas-to-write $MIN_REPLICAS_TO_WRITE" | session "$CLI_TIMEOUT_SECONDS" "$LOCAL_ADDR" "$REDIS_PORT" >/dev/null
  _fenced=
  _confirmed=
}

# fence: this master refuses writes: min-replicas-to-write out of reach.
fence() {
  [ -z "$_fenced" ] || return 0
  [ "$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" CONFIG SET min-replicas-to-write "$FENCED_MIN_REPLICAS")" = OK ] || return 0
  _fenced=1
  log "fenced: for ${FENCE_AFTER_MS}ms no majority ($(majority "$SENTINEL_REPLICAS") of $SENTINEL_REPLICAS) of the sentinels named this master ($_naming named a master, the authoritative one: ${_authority:-none}): refusing writes until a majority names it again"
}

unfence() {
  [ -n "$_fenced" ] || return 0
  [ "$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" CONFIG SET min-replicas-to-write "$MIN_REPLICAS_TO_WRITE")" = OK ] || return 0
  _fenced=
  log "unfenced: $_naming sentinel(s) name this master again: accepting writes (min-replicas-to-write $MIN_REPLICAS_TO_WRITE)"
}

# replicate_from ADDR: makes this pod's Redis a replica of the master at ADDR.
replicate_from() {
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" REPLICAOF "$(addr_host "$1")" "$(addr_port "$1")" >/dev/null
}
