# shellcheck shell=sh
# janitor.sh: the janitor beside every sentinel, and its checks. Needs common.sh, auth.sh,
# discovery.sh, founding.sh and sentinel.sh (its restart request).
#
# Sentinel never forgets an instance. Pods of a controller come back with new IPs, so dead
# replicas and sentinels pile up: past a point a majority of the known sentinels can no longer be
# reached (kubernetes/kubernetes#18193), and a failover leader spends its parallel-syncs on
# replicas that are gone. SENTINEL RESET forgets them, but also forgets the live replicas until the
# master's next INFO, which never comes when the master has just died: a leader without replicas
# aborts the failover (-failover-abort-no-good-slave). So the janitor never resets. It prunes: it
# has the sentinel write its state (SENTINEL FLUSHCONFIG), and the supervisor restart it on that
# file without the known-replica and known-sentinel lines of the instances down for longer than
# PRUNE_AFTER_SECONDS. The restarted sentinel keeps its id, its epochs and its live replicas, so it
# is never blind; it is down for a moment, one sentinel at a time, only while the master is
# healthy and no failover is in progress, checked again right before.

# janitor: runs beside the supervised redis-sentinel (in the background).
janitor() {
  set +e # every step handles its own failure; one that fails is tried again in the next round
  _stuck=0
  while sleep "$JANITOR_INTERVAL_SECONDS"; do
    if stuck_on_dead_master; then _stuck=$((_stuck + 1)); else _stuck=0; fi
    if [ "$_stuck" -ge "$JANITOR_STUCK_ROUNDS" ]; then
      log "the master this sentinel monitors has been down for over $((JANITOR_STUCK_ROUNDS * JANITOR_INTERVAL_SECONDS))s while $_stuck_because: restarting the sentinel with a fresh discovery"
      request_restart fresh
      _stuck=0
      continue
    fi
    _gone=$(prunable "$LOCAL_ADDR")
    [ -n "$_gone" ] || continue
    prune_safe || continue
    [ "$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL flushconfig)" = OK ] || continue
    prune_safe || continue
    log "pruning $(printf '%s\n' "$_gone" | awk '{ printf "%s%s %s:%s", (NR > 1 ? ", " : ""), $1, $2, $3 }'), down for over ${PRUNE_AFTER_SECONDS}s: restarting redis-sentinel on its config without them (it keeps its id, epoch and live replicas)"
    # shellcheck disable=SC2046 # one word per address
    request_restart prune $(printf '%s\n' "$_gone" | awk '{ print $2 ":" $3 }')
    poll "$RESTART_POLLS" "$RESTART_POLL_SECONDS" restarted || continue
    log "redis-sentinel is back: $(local_master_field num-slaves) replica(s), $(local_master_field num-other-sentinels) other sentinel(s), config epoch $(local_master_field config-epoch)"
  done
}

# request_restart fresh | request_restart prune IP:PORT...: asks the supervisor (the entry shell,
# $$) to restart redis-sentinel: on a new discovery, or without the known-replica and
# known-sentinel lines of those instances.
request_restart() {
  {
    echo "$1"
    shift
    for _ra in "$@"; do printf '%s %s\n' "${_ra%:*}" "${_ra##*:}"; done
  } >"$RESTART_REQUEST.tmp"
  mv "$RESTART_REQUEST.tmp" "$RESTART_REQUEST"
  kill -HUP "$$"
}

# restarted: the supervisor has carried out the restart request, and the new redis-sentinel answers.
restarted() {
  [ ! -f "$RESTART_REQUEST" ] && [ -n "$(local_master_field flags)" ]
}

# stuck_on_dead_master: this sentinel's master is down, and a live master of ours exists that a
# fresh discovery would find: another sentinel names it with a higher config epoch, or (when the
# sentinels cannot fail over) the Redis pods show it. A sentinel can miss a failover (it was cut
# off, or restarted while the master died), and with a dead master it has no instance left to
# hear the new configuration from. Sets _stuck_because.
stuck_on_dead_master() {
  case $(local_master_field flags) in *s_down*) ;; *) return 1 ;; esac
  _mine=$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | paste -sd' ' -)
  # what the other sentinels say: this one's own answer is the stuck view
  _myid=$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL myid)
  _jsurvey=$(sentinel_survey | awk -v me="$_myid" '!($1 == "S" && $2 == me)')
  _jauth=$(authority "$_jsurvey")
  if [ -n "$_jauth" ] && [ "${_jauth#* }" != "$_mine" ] && is_live_master "${_jauth#* }"; then
    _stuck_because="the sentinels name the live master $(addr_text "${_jauth#* }") (config epoch ${_jauth%% *})"
    return 0
  fi
  sentinels_can_recover "$_jsurvey" && return 1
  _jbest=$(best_peer_master "$(peer_survey)")
  [ -n "$_jbest" ] && [ "$_jbest" != "$_mine" ] && is_live_master "$_jbest" || return 1
  _stuck_because="no sentinel can fail over and the Redis pods show the live master $(addr_text "$_jbest")"
}

# local_master_field KEY: KEY of SENTINEL MASTER from this pod's sentinel.
local_master_field() {
  redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME" | field "$1"
}

# prunable IP: the replicas and sentinels that the sentinel at IP has not had a reply from for
# longer than PRUNE_AFTER_SECONDS, as "replica|sentinel <ip> <port>" lines.
prunable() {
  printf '%s\n' "SENTINEL replicas $MASTER_NAME" 'PING ~' "SENTINEL sentinels $MASTER_NAME" |
    session "$CLI_TIMEOUT_SECONDS" "$1" "$SENTINEL_PORT" |
    awk -v limit="$(ms_of "$PRUNE_AFTER_SECONDS")" '
      $0 == "~" { kind = "sentinel"; n = 0; next }
      n % 2 == 0 { key = $0 }
      n % 2 == 1 && key == "ip" { ip = $0 }
      n % 2 == 1 && key == "port" { port = $0 }
      n % 2 == 1 && key == "last-ok-ping-reply" && $0 + 0 > limit { print (kind == "" ? "replica" : kind), ip, port }
      { n++ }'
}

# prune_safe: the master is healthy and no failover is in progress in the view of this sentinel
# and of every live sentinel it knows, none of those with a lower address (IP, or stable name)
# has anything to prune (one sentinel restarts at a time), and the master answers this janitor
# itself, last. The sentinels call a master down only after down-after, so one that died a moment
# ago still looks healthy to them; a restarted sentinel counts down-after again from its start, and
# a restart just after the master died held the failover back by up to down-after (3 s, in 2 of 5
# trials of npm run bench:failover, docs/benchmarks.md).
prune_safe() {
  for _pip in $(live_sentinel_ips); do
    [ "$(redis_at "$_pip" "$SENTINEL_PORT" SENTINEL master "$MASTER_NAME" | field flags)" = master ] || return 1
    if [ "$_pip" != "$SELF_HOST" ] && [ "$(printf '%s\n%s\n' "$_pip" "$SELF_HOST" | sort | head -n 1)" = "$_pip" ]; then
      [ -z "$(prunable "$_pip")" ] || return 1
    fi
  done
  master_answers
}

# master_answers: the master this sentinel monitors answers as a live master of ours now.
master_answers() {
  is_live_master "$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | paste -sd' ' -)"
}

# live_sentinel_ips: this sentinel's address (SELF_HOST) and those of the sentinels it knows that
# are not down.
live_sentinel_ips() {
  echo "$SELF_HOST"
  redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL sentinels "$MASTER_NAME" |
    awk 'NR % 2 == 1 { k = $0; next } k == "ip" { ip = $0 } k == "flags" && $0 !~ /s_down/ { print ip }'
}
