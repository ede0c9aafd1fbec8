# shellcheck shell=sh
# sentinel.sh: the sentinel container's main process, which supervises redis-sentinel, and the
# sentinel's config. Needs common.sh, auth.sh, discovery.sh and founding.sh.
#
# The entry shell stays the container's main process and runs redis-sentinel as its child, so that
# the janitor can have the child restarted on a changed config file without the container
# restarting (no kubelet back-off, no lost emptyDir): it writes a request file and sends SIGHUP.
# SIGTERM (the pod is deleted) is passed to the child; when the child ends by itself, so does the
# container, as before.

SENTINEL_CONF=$SENTINEL_STATE_DIR/sentinel.conf
# The janitor's request: `prune` and then the "<ip> <port>" of each instance to forget, one a
# line, or `fresh` (forget everything and discover the master again).
RESTART_REQUEST=$SENTINEL_STATE_DIR/restart-request

# supervise_sentinel: prepares the config (sentinel_conf_ready), runs redis-sentinel, and restarts
# it on the janitor's request; returns (for the container to end) when it stops otherwise.
supervise_sentinel() {
  _stopping=
  _child=
  trap '_stopping=1; [ -z "$_child" ] || kill -TERM "$_child" 2>/dev/null' TERM INT
  trap ':' HUP
  while :; do
    sentinel_conf_ready || return 1
    redis-sentinel "$SENTINEL_CONF" &
    _child=$!
    poll "$STARTUP_POLLS" "$STARTUP_POLL_SECONDS" periods_set ||
      log "could not set the sentinel's INFO period to ${SENTINEL_INFO_PERIOD_MS}ms and its link reconnect period to ${SENTINEL_LINK_RECONNECT_MS}ms: a failover may find no replica with a recent INFO, and a pod back with a new IP may be called down for 15 s more"
    while :; do
      _status=0
      wait "$_child" || _status=$? # under set -e: a wait that a signal ends returns above 128
      kill -0 "$_child" 2>/dev/null || break
      # a signal woke wait; the child still runs
      if [ -z "$_stopping" ] && [ -f "$RESTART_REQUEST" ]; then kill -TERM "$_child" 2>/dev/null; fi
    done
    _child=
    [ -z "$_stopping" ] || return 0
    [ -f "$RESTART_REQUEST" ] || return "$_status"
    apply_restart_request
  done
}

# periods_set: two runtime settings of the running redis-sentinel (SENTINEL DEBUG), not saved in
# its config, so set on every start.
# - It asks every instance for INFO every SENTINEL_INFO_PERIOD_MS. Sentinel's own period is 10 s,
#   but once a master is down it promotes only a replica whose last INFO is under 5 s old: with a
#   down-after of seconds, a failover that starts right after the master goes finds no good replica
#   about half the time (-failover-abort-no-good-slave) and the next attempt waits twice
#   failover-timeout.
# - It may drop a link whose pings go unanswered once the link is SENTINEL_LINK_RECONNECT_MS old
#   (its own minimum is 15 s). Sentinel resolves an instance's name again only when it reconnects;
#   a pod replaced under its name is first dialled at the old IP (its new record is not there yet),
#   and that link hung 15 s before the next try: the pod was called down for 12 to 25 s after it
#   was back (redis/redis#9103), and no failover could pick it.
periods_set() {
  [ "$(redis_at "$LOCAL_ADDR" "$SENTINEL_PORT" SENTINEL debug info-period "$SENTINEL_INFO_PERIOD_MS" min-link-reconnect-period "$SENTINEL_LINK_RECONNECT_MS")" = OK ]
}

# apply_restart_request: carries out the janitor's request on the stopped sentinel's config file.
apply_restart_request() {
  if [ "$(sed -n 1p "$RESTART_REQUEST")" = fresh ]; then
    rm -f "$SENTINEL_CONF"
  else
    _gone=$(sed 1d "$RESTART_REQUEST" | tr '\n' ';')
    awk -v name="$MASTER_NAME" -v gone=";$_gone" '
      $1 == "sentinel" && ($2 == "known-replica" || $2 == "known-sentinel") && $3 == name && index(gone, ";" $4 " " $5 ";") { next }
      { print }' "$SENTINEL_CONF" >"$SENTINEL_CONF.tmp" && mv "$SENTINEL_CONF.tmp" "$SENTINEL_CONF"
  fi
  rm -f "$RESTART_REQUEST"
}

# sentinel_conf_ready: the sentinel's config file from this pod's earlier run (its id, epoch and
# known peers), with the Secret's current passwords; or, without one, a new one on the master
# that find_master_for_sentinel finds.
sentinel_conf_ready() {
  if [ -s "$SENTINEL_CONF" ] && grep -q '^sentinel monitor ' "$SENTINEL_CONF"; then
    log "reusing $SENTINEL_CONF: it keeps the sentinel's id, epoch and known peers"
    if auth_on; then
      { without_auth_lines <"$SENTINEL_CONF"; sentinel_auth_lines; } >"$SENTINEL_CONF.tmp"
      mv "$SENTINEL_CONF.tmp" "$SENTINEL_CONF"
    fi
    return 0
  fi
  _sfound=$(find_master_for_sentinel) || return 1
  _sepoch=${_sfound%% *}
  _smaster=${_sfound#* }
  log "monitoring master $MASTER_NAME at $(addr_text "$_smaster") with quorum $QUORUM (config epoch $_sepoch)"
  {
    sed -e "s/%MASTER_HOST%/$(addr_host "$_smaster")/" -e "s/%MASTER_PORT%/$(addr_port "$_smaster")/" -e "s/%ANNOUNCE_IP%/$SELF_HOST/" \
      -e "s/%SENTINEL_ID%/$(sentinel_id)/" "$CONFIG_DIR/sentinel.conf"
    if [ "$_sepoch" -gt 0 ]; then
      printf 'sentinel current-epoch %s\nsentinel config-epoch %s %s\n' "$_sepoch" "$MASTER_NAME" "$_sepoch"
    fi
    if auth_on; then sentinel_auth_lines; fi
  } >"$SENTINEL_CONF.tmp"
  mv "$SENTINEL_CONF.tmp" "$SENTINEL_CONF"
}

# sentinel_id: the sentinel's id in the StatefulSet topology (sentinel.conf's `sentinel myid`): the
# SHA-1 of the pod's stable name, 40 hex digits as Sentinel wants. A replaced pod's sentinel comes
# back with the id and the name the others know, instead of as a second sentinel beside a dead one
# that counts against the majority until it is pruned.
sentinel_id() {
  printf '%s' "$SELF_HOST" | sha1sum | cut -d' ' -f1
}

# find_master_for_sentinel: prints "<config epoch> <host> <port>" of the master to monitor; fails
# after DISCOVERY_TIMEOUT_SECONDS. A sentinel never makes a master.
find_master_for_sentinel() {
  retry "found no live master of $MASTER_NAME; look at the Redis pods: kubectl logs -l $REDIS_LABEL" \
    try_master_for_sentinel || return 1
  printf '%s\n' "$_found"
}

# try_master_for_sentinel ATTEMPT: one attempt; sets _found.
# - The authoritative master of the sentinels that answer, when it is a live master of ours: the
#   new sentinel takes its epoch from their hellos.
# - Else, when the sentinels cannot fail over (none answers: all were replaced at once; or they
#   name a master that is gone and know no live replica), the best live master the Redis pods show.
#   Its config epoch is one above any the sentinels answered with, so that sentinels still naming
#   the master that is gone adopt this one from its hellos.
try_master_for_sentinel() {
  _tsurvey=$(sentinel_survey)
  _tauth=$(authority "$_tsurvey")
  if [ -n "$_tauth" ] && is_live_master "${_tauth#* }"; then
    _found=$_tauth
    return 0
  fi
  if [ "$(naming "$_tsurvey")" -gt 0 ] && sentinels_can_recover "$_tsurvey"; then
    retry_later "the sentinels name ${_tauth:-no single master} for $MASTER_NAME, which does not answer as a master, and can fail over to a live replica: waiting for them"
    return 1
  fi
  _tbest=$(best_peer_master "$(peer_survey)")
  if [ -n "$_tbest" ] && is_live_master "$_tbest"; then
    _tepoch=$(printf '%s\n' "$_tsurvey" | awk '$1 == "S" && $3 ~ /^[0-9]+$/ { if ($3 + 1 > e) e = $3 + 1 } END { print e + 0 }')
    log "no sentinel names a live master of $MASTER_NAME (${_tauth:-none answered with one}); the Redis pods show the live master $(addr_text "$_tbest")"
    _found="$_tepoch $_tbest"
    return 0
  fi
  retry_later "no live master of $MASTER_NAME found through the sentinels ($SENTINEL_HOST:$SENTINEL_PORT) or the Redis pods (${PEER_HOSTS:-none but this pod})"
}
