# shellcheck shell=sh
# discovery.sh: finding the master through the sentinels. Needs common.sh and auth.sh. Each finder
# prints what it found and starts nothing, so that any role can decide how to start on it.
# Pods ask the sentinel Service by its DNS name, so discovery works whatever the order in which the
# objects were created.

# sentinel_master_addr: asks the sentinel Service for the master; prints its address.
sentinel_master_addr() {
  _reply=$(redis_at "$SENTINEL_HOST" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME") || return 1
  _mhost=$(printf '%s\n' "$_reply" | sed -n 1p)
  _mport=$(printf '%s\n' "$_reply" | sed -n 2p)
  valid_addr "$_mhost" || return 1
  case $_mport in '' | *[!0-9]*) return 1 ;; esac
  addr_of "$_mhost" "$_mport"
}

# is_live_master ADDR: the Redis at ADDR is one of ours (is_ours) and answers as a master. Every
# master that a pod follows or monitors passes this first.
is_live_master() {
  is_ours "$1" && [ "$(redis_role "$(addr_host "$1")" "$(addr_port "$1")")" = master ]
}

has_persisted_data() {
  [ -d "$DATA_DIR/appendonlydir" ] || [ -f "$DATA_DIR/dump.rdb" ]
}

# may_resume_as_master ADDR: the sentinels name this very pod (at ADDR) as master, so its container
# restarted. It may resume as master only with its data on disk, or when no replica is known;
# empty, it asks the sentinels to promote a replica instead and fails, so that an empty master
# never wipes its replicas.
may_resume_as_master() {
  if has_persisted_data; then
    log "the sentinels name this pod ($(addr_text "$1")) as master of $MASTER_NAME and its data is in $DATA_DIR: resuming as master"
    return 0
  fi
  replicas=$(redis_at "$SENTINEL_HOST" "$SENTINEL_PORT" SENTINEL replicas "$MASTER_NAME" | grep -c '^name$' || true)
  if [ "$replicas" -eq 0 ]; then
    log "the sentinels name this pod as master, its data directory is empty and no replica is known: starting as master"
    return 0
  fi
  log "the sentinels name this pod as master but its data directory $DATA_DIR is empty: refusing to start an empty master that would wipe its $replicas replica(s); asking the sentinels to fail over"
  redis_at "$SENTINEL_HOST" "$SENTINEL_PORT" SENTINEL failover "$MASTER_NAME" >/dev/null || true
  return 1
}

# find_master_for_redis first|replica: prints the address of the master that this Redis replicates
# from, or nothing when it starts as master; fails after DISCOVERY_TIMEOUT_SECONDS.
# - first (bootstrap pod): when no sentinel answers BOOTSTRAP_QUERIES times, this is a new cluster:
#   start as its first master. When the sentinels know a master, join it: re-applying dist/ must
#   never make a second, empty master.
# - replica: wait until the sentinels name a master that answers as one.
# In both, when the sentinels name this very pod, see may_resume_as_master.
find_master_for_redis() {
  retry "found no live master of $MASTER_NAME through $SENTINEL_HOST:$SENTINEL_PORT; look at the sentinels: kubectl logs -l $SENTINEL_LABEL -c sentinel" \
    try_master_for_redis "$1" || return 1
  [ -z "$_found" ] || printf '%s\n' "$_found"
}

# try_master_for_redis ATTEMPT MODE: one attempt of find_master_for_redis; sets _found.
try_master_for_redis() {
  _found=
  if ! addr=$(sentinel_master_addr); then
    if [ "$2" = first ] && [ "$1" -ge "$BOOTSTRAP_QUERIES" ]; then
      log "no sentinel answered at $SENTINEL_HOST:$SENTINEL_PORT ($1 tries): this is a new cluster, starting as its first master"
      return 0
    fi
    retry_later "no sentinel answered at $SENTINEL_HOST:$SENTINEL_PORT for master $MASTER_NAME"
  elif [ "$(addr_host "$addr")" = "$POD_IP" ]; then
    may_resume_as_master "$addr"
  elif is_live_master "$addr"; then
    if [ "$2" = first ]; then
      log "the sentinels already know a live master of $MASTER_NAME at $(addr_text "$addr"): joining it as a replica instead of starting a second master"
    else
      log "replicating from master $(addr_text "$addr") (found through $SENTINEL_HOST:$SENTINEL_PORT)"
    fi
    _found=$addr
  else
    retry_later "the sentinels name $(addr_text "$addr") as master of $MASTER_NAME but it does not answer as a master"
  fi
}

# find_master_for_sentinel: prints the address of a master that answers as one; fails after
# DISCOVERY_TIMEOUT_SECONDS. The sentinel Service's answer comes first; the local Redis (only the
# bootstrap pod has one) is the fallback for the very first sentinel of a new cluster, as in the
# classic example.
find_master_for_sentinel() {
  retry "found no live master of $MASTER_NAME; look at the Redis pods: kubectl logs -l $REDIS_LABEL" \
    try_master_for_sentinel || return 1
  printf '%s\n' "$_found"
}

# try_master_for_sentinel ATTEMPT: one attempt of find_master_for_sentinel; sets _found.
try_master_for_sentinel() {
  if _found=$(sentinel_master_addr) && is_live_master "$_found"; then
    return 0
  fi
  case $(redis_role "$LOCAL_ADDR" "$REDIS_PORT") in
    master)
      _found=$(addr_of "$POD_IP" "$REDIS_PORT")
      return 0
      ;;
    slave)
      _found=$(master_of "$(redis_at "$LOCAL_ADDR" "$REDIS_PORT" INFO replication)")
      if valid_addr "$(addr_host "$_found")" && is_live_master "$_found"; then
        return 0
      fi
      ;;
  esac
  retry_later "no live master of $MASTER_NAME found through $SENTINEL_HOST:$SENTINEL_PORT or a local Redis"
}
