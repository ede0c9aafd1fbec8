# shellcheck shell=sh
# founding.sh: the Redis pods themselves, for when no sentinel names a live master: who is a
# master, and who founds a cluster when nobody is (docs/state-machine.md, "FOUND?"). Needs
# common.sh and auth.sh.
#
# The seam between topologies is small: peer_addrs (who the peers are: the addresses behind the
# headless Service, or each ordinal's stable name), the bootstrap marker in peer_survey (the classic
# topology's rank 0) and the rank (RANK_AWK: IP order, or the StatefulSet ordinal). A peer survey is
# lines of text, one per Redis pod that answered and is ours, this pod included, each named by what
# it is known by (SELF_HOST in that pod: its IP, or its stable name):
#   P <host> <role> <master host> <master port> <master_repl_offset> <keys> <bootstrap 0|1> <connected replicas>
# A pod that is still deciding runs its Redis as a replica of port 0 (WAITING_PORT, follow.sh): it
# answers, holds whatever data it loaded, and follows nobody.

# A Redis says in its process title (redis-server's proc-title-template), which peers read with
# CONFIG GET, what its INFO cannot: that it is the bootstrap pod (rank 0), and the replication
# offset its data had reached before it restarted ("position=N"). Redis does not keep its offset
# in the append-only file: a restarted Redis reports master_repl_offset 0, so after every pod was
# lost the offsets could not tell the newest data without it.
TITLE='{title} {listen-addr} {server-mode}'

# POSITION_FILE: the last replication offset of this pod's data, "<replid> <offset>", written at
# every check while it replicates or is master (record_position); read at start (title_of).
POSITION_FILE=$DATA_DIR/replication-position

# title_of ROLE: the proc-title-template of this pod's redis-server: the bootstrap marker for the
# bootstrap Redis, and the position its data reached before this start, if it has one.
title_of() {
  _title=$TITLE
  [ "$1" != master ] || _title="$_title bootstrap"
  _position=
  [ ! -f "$POSITION_FILE" ] || _position=$(awk 'NR == 1 && $2 ~ /^[0-9]+$/ { print $2 }' "$POSITION_FILE")
  [ -z "$_position" ] || _title="$_title position=$_position"
  printf '%s\n' "$_title"
}

# record_position INFO: keeps POSITION_FILE at the offset of the INFO replication text, when this
# Redis is a master or follows one (a waiting Redis reports 0, which must not replace the last
# position of its data), and the offset moved.
record_position() {
  _roffset=$(printf '%s\n' "$1" | info_field master_repl_offset)
  case $_roffset in '' | 0 | *[!0-9]*) return 0 ;; esac
  [ "$(addr_port "$(master_of "$1")")" != "$WAITING_PORT" ] || return 0
  [ "$_roffset" != "${_recorded:-}" ] || return 0
  printf '%s %s\n' "$(printf '%s\n' "$1" | info_field master_replid)" "$_roffset" >"$POSITION_FILE.tmp" &&
    mv "$POSITION_FILE.tmp" "$POSITION_FILE" && _recorded=$_roffset
}

# peer_addrs: every Redis pod, one a line, this pod first. Classic: each name of PEER_HOSTS
# resolved (the headless Service lists every Redis pod, ready or not; an address resolves to
# itself), each lookup bounded like a redis-cli call (a resolver whose first packets are lost waits
# 5 s per try and search domain: 20 s seen in the e2e runs). StatefulSet: the stable name of each
# ordinal of the StatefulSet's expected replicas (a pod that is away, its DNS record gone, does not
# answer).
peer_addrs() {
  printf '%s\n' "$SELF_HOST"
  if [ -n "${REDIS_STATEFULSET:-}" ]; then
    stable_names "$REDIS_STATEFULSET" "$REDIS_REPLICAS"
  else
    for _ph in $PEER_HOSTS; do
      timeout "$CLI_TIMEOUT_SECONDS" getent ahostsv4 "$_ph" 2>/dev/null | awk '{ print $1 }'
    done
  fi | sort -u | grep -v -x -F "$SELF_HOST"
}

# peer_survey: asks every Redis pod at once (each bounded by ASK_TIMEOUT_SECONDS); prints the P
# lines of those that answer and are ours.
peer_survey() {
  peer_addrs | {
    while read -r _pa; do
      ask_peer "$_pa" &
    done
    wait
  }
}

# ask_peer HOST: the P line of the Redis at HOST (this pod's own at LOCAL_ADDR), from one session.
ask_peer() {
  _pdial=$1
  if [ "$1" = "$SELF_HOST" ]; then _pdial=$LOCAL_ADDR; else is_ours "$(addr_of "$1" "$REDIS_PORT")" || return 0; fi
  printf '%s\n' 'INFO replication' 'PING ~' 'INFO keyspace' 'PING ~' 'CONFIG GET proc-title-template' |
    session "$ASK_TIMEOUT_SECONDS" "$_pdial" "$REDIS_PORT" |
    awk -F: -v ip="$1" '
      $0 == "~" { part++; next }
      part == 0 && NF == 2 { v[$1] = $2 }
      part == 1 && /^db[0-9]+:keys=/ { split($2, kv, /[=,]/); keys += kv[2] }
      part == 2 && / bootstrap( |$)/ { boot = 1 }
      part == 2 && match($0, / position=[0-9]+/) { position = substr($0, RSTART + 10, RLENGTH - 10) + 0 }
      END {
        if (v["role"] == "") exit
        # the offset its data reached: the live one, or the one before its restart
        offset = v["master_repl_offset"] + 0
        if (position > offset) offset = position
        print "P", ip, v["role"], v["master_host"] == "" ? "-" : v["master_host"], v["master_port"] == "" ? "-" : v["master_port"],
          offset, keys + 0, boot + 0, v["connected_slaves"] + 0
      }'
}

# followers SURVEY [HOST PORT]: how many Redis pods of a peer survey follow a master (the one at
# HOST PORT when given, any other than the waiting port 0 when not).
followers() {
  printf '%s\n' "$1" | awk -v h="${2:-}" -v p="${3:-}" '
    $1 == "P" && $3 == "slave" && (h == "" ? $5 != "-" && $5 != 0 : $4 == h && $5 == p) { n++ }
    END { print n + 0 }'
}

# best_peer_master SURVEY [EXCEPT]: "ip port" of the best master among the pods (but the one at
# EXCEPT), by (connected replicas, master_repl_offset, lowest rank); nothing when none is a master.
best_peer_master() {
  printf '%s\n' "$1" | awk -v except="${2:-}" "$RANK_AWK"'
    $1 == "P" && $3 == "master" && $2 != except {
      r = rank($2, $8)
      if (!n || $9 > reps || ($9 == reps && ($6 > off || ($6 == off && r < rk)))) { best = $2; reps = $9; off = $6; rk = r; n = 1 }
    }
    END { if (n) print best }' | while read -r _bm; do addr_of "$_bm" "$REDIS_PORT"; done
}

# founding_verdict SURVEY SEED: whether this pod founds a cluster, now that no sentinel names a live
# master, the sentinels cannot fail over and no pod is a master (the caller checked), as one line:
#   seed ...   the bootstrap pod (classic topology) with SEED set (no sentinel names any master): a
#              new cluster, as in the seed tutorial,
#   data ...   this pod holds the newest data of a majority of the expected pods it sees,
#   empty ...  every expected pod answers, none holds data, and this pod is first by rank,
#   wait ...   not this pod, and why.
# The rest of the line lists the pods seen. The best founder is the best by (holds data,
# master_repl_offset, lowest rank), the same order in every pod: an empty pod never founds over a
# pod with data, and two pods that cannot see each other cannot both see a majority.
founding_verdict() {
  printf '%s\n' "$1" | awk -v me="$SELF_HOST" -v expected="$REDIS_REPLICAS" -v seed="$2" "$RANK_AWK"'
    function better(i, j) {
      if ((keys[i] > 0) != (keys[j] > 0)) return keys[i] > 0
      if (off[i] != off[j]) return off[i] > off[j]
      return rk[i] < rk[j]
    }
    $1 == "P" {
      n++; ip[n] = $2; off[n] = $6 + 0; keys[n] = $7 + 0; rk[n] = rank($2, $8); boot[n] = $8 + 0
      if ($2 == me) self = n
      if ($7 > 0) holders++
      seen = seen (n > 1 ? ", " : "") $2 ($8 ? " (bootstrap)" : "") ($7 > 0 ? " (" $7 " keys, offset " $6 ")" : " (empty)")
    }
    END {
      if (!self) { print "wait: its own Redis does not answer"; exit }
      best = self
      for (i = 1; i <= n; i++) if (better(i, best)) best = i
      need = int(expected / 2) + 1
      if (best != self) print "wait: " ip[best] " is the better founder; pods seen: " seen
      else if (seed && boot[self]) print "seed: pods seen: " seen
      else if (n < need) print "wait: it sees " n " of the " expected " expected Redis pods, fewer than a majority (" need "); pods seen: " seen
      else if (!holders && n < expected) print "wait: no pod it sees holds data, but only " n " of the " expected " expected Redis pods answer, and one with data may be away; pods seen: " seen
      else print (holders ? "data" : "empty") ": " n " of the " expected " expected Redis pods seen: " seen
    }'
}
