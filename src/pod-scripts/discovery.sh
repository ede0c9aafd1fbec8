# shellcheck shell=sh
# discovery.sh: what the sentinels say, and which master is authoritative (docs/state-machine.md,
# "Inputs"). Needs common.sh and auth.sh. Finders print what they found and start nothing, so
# that any role can decide how to act on it.
#
# A survey is lines of text, one per answer, so that a caller keeps it in a variable and asks
# several questions of one survey:
#   S <id> <config-epoch> <master host> <master port> <flags of the master> <host> <port> <failover-state>
#       a sentinel that answered at <host> <port> (its master "-" when it names none; its
#       failover-state "-" when no failover is in progress),
#   K <ip> <port>
#       a sentinel that an answering sentinel lists (SENTINEL sentinels).
# The classic topology asks the sentinel Service; the StatefulSet topology also asks each of its
# sentinels by stable name (stable_sentinels), ready or not.

# sentinel_survey [KNOWN]: asks the sentinel Service, every sentinel of KNOWN ("host port" lines,
# e.g. the K lines of an earlier survey) and every stable_sentinels, all at once, each bounded by
# ASK_TIMEOUT_SECONDS; prints the survey. Without KNOWN it asks the Service first, for the
# sentinels it lists. A sentinel reached twice (through the Service and by address) counts once.
sentinel_survey() {
  _sv_known=${1:-}
  if [ -z "$_sv_known" ]; then
    _sv_known=$(ask_sentinels "$(addr_of "$SENTINEL_HOST" "$SENTINEL_PORT")" | awk '$1 == "K" { print $2, $3 }')
  fi
  ask_sentinels "$(addr_of "$SENTINEL_HOST" "$SENTINEL_PORT")
$_sv_known
$(stable_sentinels)"
}

# stable_sentinels: "host port" of each sentinel by its stable name (StatefulSet topology: in the
# sentinels' own StatefulSet, or beside each Redis); nothing in the classic topology.
stable_sentinels() {
  [ -n "${REDIS_STATEFULSET:-}" ] || return 0
  stable_names "${SENTINEL_STATEFULSET:-$REDIS_STATEFULSET}" "$SENTINEL_REPLICAS" | sed "s/\$/ $SENTINEL_PORT/"
}

# connected_sentinels: "host port" of each sentinel with a command link to the local Redis (Sentinel
# names its links sentinel-<id>-cmd; every sentinel of the instance listens on SENTINEL_PORT). The
# sentinels that monitor a master are connected to it: a master asks them by address, beside the
# Service, so it finds sentinels that are new (before they are ready behind the Service, or know
# each other) or that the Service cannot reach, and its survey does not hang on one name lookup.
connected_sentinels() {
  redis_at "$LOCAL_ADDR" "$REDIS_PORT" CLIENT LIST TYPE normal |
    sed -n 's/^.* addr=\([^ ]*\):[0-9]* .* name=sentinel-[0-9a-f]*-cmd .*$/\1/p' | sort -u |
    while read -r _cip; do addr_of "$_cip" "$SENTINEL_PORT"; done
}

# ask_sentinels ADDRS: ask_sentinel for each "host port" line of ADDRS, all at once. A sentinel
# that answered at two addresses counts once, by the address of its own rather than the sentinel
# Service's (the next connection to the Service may reach another sentinel).
ask_sentinels() {
  printf '%s\n' "$1" | sort -u |
    {
      while read -r _sh _sp; do
        [ -z "$_sh" ] || ask_sentinel "$_sh" "$_sp" &
      done
      wait
    } | awk -v service="$SENTINEL_HOST $SENTINEL_PORT" '
      $1 == "S" {
        via = ($7 " " $8 == service)
        if (!($2 in line) || (shared[$2] && !via)) { line[$2] = $0; shared[$2] = via }
        next
      }
      $1 == "K" && listed[$2 " " $3]++ { next }
      { print }
      END { for (id in line) print line[id] }'
}

# ask_sentinel HOST PORT: one sentinel's S line and its K lines, from one session.
ask_sentinel() {
  printf '%s\n' 'SENTINEL myid' 'PING ~' "SENTINEL get-master-addr-by-name $MASTER_NAME" 'PING ~' \
    "SENTINEL master $MASTER_NAME" 'PING ~' "SENTINEL sentinels $MASTER_NAME" |
    session "$ASK_TIMEOUT_SECONDS" "$1" "$2" |
    awk -v host="$1" -v port="$2" '
      $0 == "~" { part++; n = 0; next }
      part == 0 { id = $0 }
      part == 1 && n == 0 { mhost = $0 }
      part == 1 && n == 1 { mport = $0 }
      part >= 2 && n % 2 == 0 { key = $0 }
      part == 2 && n % 2 == 1 && key == "config-epoch" { epoch = $0 }
      part == 2 && n % 2 == 1 && key == "flags" { flags = $0 }
      part == 2 && n % 2 == 1 && key == "failover-state" { state = $0 }
      part == 3 && n % 2 == 1 && key == "ip" { ip = $0 }
      part == 3 && n % 2 == 1 && key == "port" { print "K", ip, $0 }
      { n++ }
      END {
        if (id !~ /^[0-9a-f]+$/) exit
        named = mhost ~ /^[0-9A-Za-z.:-]+$/ && mport ~ /^[0-9]+$/ && epoch ~ /^[0-9]+$/
        print "S", id, named ? epoch : "-", named ? mhost : "-", named ? mport : "-", flags == "" ? "-" : flags, host, port, state == "" ? "-" : state
      }'
}

# authority SURVEY: "<config-epoch> <host> <port>" of the authoritative master: the one named with
# the highest config-epoch among the sentinels that answered. Nothing when no sentinel names a
# master, or when sentinels at that epoch disagree. (During a failover the leader names the
# promoted replica with the new epoch before the others do; a sentinel still answering from
# before has the older epoch and is outvoted.)
authority() {
  printf '%s\n' "$1" | awk '
    $1 == "S" && $4 != "-" {
      if (!n || $3 + 0 > top) { top = $3 + 0; who = $4 " " $5; torn = 0; n = 1 }
      else if ($3 + 0 == top && $4 " " $5 != who) torn = 1
    }
    END { if (n && !torn) print top, who }'
}

# promoting SURVEY: a sentinel is promoting a replica and has not named it yet (from the choice
# of the replica until the replica reports itself master, every sentinel still names the old
# master, with the old config epoch).
promoting() {
  printf '%s\n' "$1" | awk '$1 == "S" && $9 ~ /^(select_slave|send_slaveof_noone|wait_promotion)$/ { found = 1 } END { exit !found }'
}

# naming SURVEY: how many sentinels answered and named a master.
naming() {
  printf '%s\n' "$1" | awk '$1 == "S" && $4 != "-" { n++ } END { print n + 0 }'
}

# majority N: the smallest number that is more than half of N.
majority() {
  echo $(($1 / 2 + 1))
}

# namer_of SURVEY ADDR: "host port" of a sentinel that names ADDR as master.
namer_of() {
  printf '%s\n' "$1" | awk -v addr="$2" '$1 == "S" && $4 " " $5 == addr { print $7, $8; exit }'
}

# live_replica_known SURVEY: a sentinel that names a master knows a replica of it that is neither
# down nor disconnected: the sentinels have a replica to promote.
live_replica_known() {
  printf '%s\n' "$1" | awk '$1 == "S" && $4 != "-" { print $7, $8 }' | {
    while read -r _rh _rp; do
      replica_views "$_rh" "$_rp" | awk '$5 !~ /s_down|o_down|disconnected/ { live = 1 } END { exit !live }' && exit 0
    done
    exit 1
  }
}

# replica_views HOST PORT: "host port priority info-refresh-ms flags" of each replica that the
# sentinel at HOST:PORT knows.
replica_views() {
  redis_at "$1" "$2" SENTINEL replicas "$MASTER_NAME" | awk '
    NR % 2 == 1 { k = $0; next }
    k == "name" && n++ { print ip, port, pri, ref, flags }
    k == "ip" { ip = $0 } k == "port" { port = $0 } k == "slave-priority" { pri = $0 }
    k == "info-refresh" { ref = $0 } k == "flags" { flags = $0 }
    END { if (n) print ip, port, pri, ref, flags }'
}

# sentinels_can_recover SURVEY: the sentinels are failing over, or have a replica to promote: a
# master that is down is theirs to replace, not the Redis pods'.
sentinels_can_recover() {
  case $1 in *failover_in_progress*) return 0 ;; esac
  live_replica_known "$1"
}

# is_live_master ADDR: the Redis at ADDR is one of ours (is_ours) and answers as a master, each
# question bounded by ASK_TIMEOUT_SECONDS (a frozen master must not stall a check). Every master
# that a pod follows or monitors passes this first.
is_live_master() {
  is_ours "$1" && [ "$(echo 'INFO replication' | session "$ASK_TIMEOUT_SECONDS" "$(addr_host "$1")" "$(addr_port "$1")" | info_field role)" = master ]
}
