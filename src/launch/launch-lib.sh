# shellcheck shell=bash
# The launch script's functions. The renderer puts this text into dist/launch/launch.sh after the
# plan's settings (the variables checked below) and before the plan's steps. Each check prints what does not
# hold yet and returns non-zero, or returns 0; wait_until polls one until it holds or times out.
: "${INSTANCE:?}" "${MANIFEST_PATH:?}" "${PASSWORD_BYTES:?}" "${BOOTSTRAP_POD:?}" "${REDIS_RC:?}" "${SENTINEL_RC:?}" "${REDIS_SELECTOR:?}" \
  "${SENTINEL_SELECTOR:?}" "${MASTER_NAME:?}" "${REDIS_PORT:?}" "${SENTINEL_PORT:?}" "${CLI:?}" \
  "${REDIS_REPLICAS:?}" "${SENTINEL_REPLICAS:?}" "${STEP_COUNT:?}" "${SENTINEL_SERVICE:?}" \
  "${BOOTSTRAP_REDIS_CONTAINER:?}" "${REDIS_CONTAINER:?}" "${SENTINEL_CONTAINER:?}" "${DATA_DIR:?}"

KUBECTL=${KUBECTL:-kubectl}
POLL_SECONDS=${LAUNCH_POLL_SECONDS:-2}
MANIFEST_DIR=${MANIFEST_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/$MANIFEST_PATH" && pwd)}
NS_ARGS=()
if [[ -n "${NAMESPACE:-}" ]]; then NS_ARGS=(--namespace "$NAMESPACE"); fi
STARTED=$SECONDS
LAUNCHED=no
START_AFRESH=no
DELETED_POD_IP=
RANDOM_FILES=

k() { "$KUBECTL" "${NS_ARGS[@]}" "$@"; }

say() { printf '[%4ds] %s\n' "$((SECONDS - STARTED))" "$*"; }

step() { printf '\n[%4ds] step %s/%s: %s\n' "$((SECONDS - STARTED))" "$1" "$STEP_COUNT" "$2"; }

die() {
  printf '[%4ds] FAILED: %s\n' "$((SECONDS - STARTED))" "$1" >&2
  shift
  local line
  for line in "$@"; do printf '         %s\n' "$line" >&2; done
  exit 1
}

# pod_cli POD CONTAINER PORT ARGS...: redis-cli inside a pod, against its own Redis or Sentinel.
pod_cli() {
  local pod=$1 container=$2 port=$3
  shift 3
  k exec "$pod" -c "$container" -- sh "$CLI" "$port" "$@" 2>/dev/null | tr -d '\r'
}

# field KEY: the value of KEY in redis-cli's flat key/value output.
field() { awk -v key="$1" 'NR % 2 == 1 { k = $0; next } k == key { print; exit }'; }

# running_pods SELECTOR: "name ip" of each running pod that is not being deleted.
running_pods() {
  k get pods -l "$1" --field-selector=status.phase=Running \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.podIP}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' |
    awk 'NF == 2 { print $1, $2 }'
}

# wait_until TIMEOUT WHAT HINT CHECK [ARGS...]. LAUNCH_MAX_WAIT_SECONDS caps every wait.
wait_until() {
  local timeout=$1 what=$2 hint=$3 last='' deadline
  shift 3
  if [[ -n "${LAUNCH_MAX_WAIT_SECONDS:-}" ]] && ((LAUNCH_MAX_WAIT_SECONDS < timeout)); then timeout=$LAUNCH_MAX_WAIT_SECONDS; fi
  deadline=$((SECONDS + timeout))
  say "waiting (up to ${timeout}s) until $what"
  while true; do
    if last=$("$@" 2>&1); then
      say "ok: $what${last:+ ($last)}"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      die "timed out after ${timeout}s waiting until $what" "last check: ${last:-no output}" "look at: $hint"
    fi
    sleep "$POLL_SECONDS"
  done
}

# detect_launched: a launch that got past its scale step leaves rc/$REDIS_RC above the one pod the
# manifest starts it with. Then the script must not create the bootstrap pod again nor change the
# scale someone may have chosen since: it applies everything but the bootstrap pod, skips the steps
# marked first-launch-only, and the rest only verify (and delete a bootstrap pod that a
# `kubectl apply -f dist` re-created).
detect_launched() {
  local replicas
  replicas=$(k get rc "$REDIS_RC" -o jsonpath='{.spec.replicas}' --ignore-not-found)
  if [[ "$replicas" =~ ^[0-9]+$ ]] && ((replicas > 1)); then
    LAUNCHED=yes
    say "rc/$REDIS_RC is already scaled to $replicas: $INSTANCE was launched before; surveying, applying all but the bootstrap pod, then verifying"
  fi
}

# on_first_launch COMMAND...: runs COMMAND on a first launch only.
on_first_launch() { if [[ "$LAUNCHED" == no ]]; then "$@"; fi; }

# on_relaunch COMMAND...: runs COMMAND only on a cluster that was launched before.
on_relaunch() { if [[ "$LAUNCHED" == yes ]]; then "$@"; fi; }

# starting_afresh: true when relaunch_survey found the cluster lost.
starting_afresh() { [[ "$START_AFRESH" == yes ]]; }

# launch_afresh: after the survey found the cluster lost and the controllers were deleted, the steps
# of a first launch follow: the manifest makes the bootstrap pod the new Redis controller's one pod.
launch_afresh() {
  LAUNCHED=no
  say "rc/$REDIS_RC, rc/$SENTINEL_RC and their pods are gone: launching afresh, as a first launch"
}

# secret_missing NAME: true when the Secret does not exist; says so when it does (it is never replaced).
secret_missing() {
  if [[ -n "$(k get secret "$1" -o name --ignore-not-found)" ]]; then
    say "secret/$1 exists: keeping it"
    return 1
  fi
}

# make_random_files KEY...: a private folder $RANDOM_FILES with one file per KEY, each holding a
# password of $PASSWORD_BYTES bytes from the kernel's CSPRNG as hex. The passwords never reach the terminal,
# argv or the environment; remove_random_files (or the exit trap) deletes them.
make_random_files() {
  local key
  RANDOM_FILES=$(umask 077 && mktemp -d)
  trap remove_random_files EXIT
  for key in "$@"; do
    (umask 077 && od -An -v -tx1 -N"$PASSWORD_BYTES" /dev/urandom | tr -d ' \n' >"$RANDOM_FILES/$key")
  done
}

remove_random_files() {
  if [[ -n "$RANDOM_FILES" ]]; then rm -rf "$RANDOM_FILES"; fi
  RANDOM_FILES=
}

# note_deleted_pod_ip POD: remembers the IP of a pod about to be deleted, so that a later check can
# tell that the sentinels no longer name it.
note_deleted_pod_ip() { DELETED_POD_IP=$(k get pod "$1" -o jsonpath='{.status.podIP}' --ignore-not-found); }

# master_ip: the master address every running sentinel reports, when they all agree.
master_ip() {
  local pods name ip addr first='' n=0
  pods=$(running_pods "$SENTINEL_SELECTOR")
  while read -r name ip; do
    [[ -n "$name" ]] || continue
    addr=$(pod_cli "$name" "$SENTINEL_CONTAINER" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed -n 1p)
    if [[ -z "$addr" ]]; then echo "sentinel $name ($ip) names no master"; return 1; fi
    if [[ -n "$first" && "$addr" != "$first" ]]; then echo "sentinels disagree: $addr vs $first"; return 1; fi
    first=$addr
    n=$((n + 1))
  done <<<"$pods"
  if ((n == 0)); then echo "no sentinel pod is running"; return 1; fi
  echo "$first"
}

# pod_with_ip IP: the running redis pod that has this IP.
pod_with_ip() { running_pods "$REDIS_SELECTOR" | awk -v ip="$1" '$2 == ip { print $1; exit }'; }

check_bootstrap_master() {
  local ip role addr
  ip=$(k get pod "$BOOTSTRAP_POD" -o jsonpath='{.status.podIP}' --ignore-not-found)
  if [[ -z "$ip" ]]; then echo "pod/$BOOTSTRAP_POD has no IP yet"; return 1; fi
  role=$(role_of "$BOOTSTRAP_POD")
  if [[ "$role" != master ]]; then echo "the bootstrap Redis reports role '${role:-none}'"; return 1; fi
  addr=$(pod_cli "$BOOTSTRAP_POD" "$SENTINEL_CONTAINER" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed -n 1p)
  if [[ "$addr" != "$ip" ]]; then echo "the bootstrap sentinel monitors '${addr:-nothing}', not $ip"; return 1; fi
  echo "master $ip:$REDIS_PORT, monitored by its sentinel"
}

check_replicas_in_sync() {
  local want=$1 ip pod info online count
  ip=$(master_ip) || { echo "$ip"; return 1; }
  pod=$(pod_with_ip "$ip")
  if [[ -z "$pod" ]]; then echo "no running redis pod has the master's IP $ip"; return 1; fi
  count=$(running_pods "$REDIS_SELECTOR" | grep -c . || true)
  if ((count < want)); then echo "$count of $want redis pods running"; return 1; fi
  info=$(pod_cli "$pod" "$(redis_container "$pod")" "$REDIS_PORT" INFO replication)
  if [[ "$(sed -n 's/^role://p' <<<"$info")" != master ]]; then echo "$pod ($ip) does not answer as master"; return 1; fi
  online=$(grep -c '^slave[0-9]*:.*state=online' <<<"$info" || true)
  if ((online < count - 1)); then echo "master $pod has $online of $((count - 1)) replicas online"; return 1; fi
  echo "master $pod ($ip) with $online replicas in sync"
}

check_sentinels_agree() {
  local want=$1 pods name ip count ck ip_master
  pods=$(running_pods "$SENTINEL_SELECTOR")
  count=$(grep -c . <<<"$pods" || true)
  if ((count < want)); then echo "$count of $want sentinel pods running"; return 1; fi
  ip_master=$(master_ip) || { echo "$ip_master"; return 1; }
  while read -r name ip; do
    ck=$(pod_cli "$name" "$SENTINEL_CONTAINER" "$SENTINEL_PORT" SENTINEL ckquorum "$MASTER_NAME")
    if [[ "$ck" != OK* ]]; then echo "CKQUORUM on $name ($ip): ${ck:-no answer}"; return 1; fi
    if [[ "$ck" =~ OK\ ([0-9]+)\ usable ]] && ((BASH_REMATCH[1] < count)); then
      echo "sentinel $name sees ${BASH_REMATCH[1]} of $count sentinels"; return 1
    fi
  done <<<"$pods"
  echo "$count sentinels agree on master $ip_master, CKQUORUM OK"
}

check_new_master() {
  local ip pod
  ip=$(master_ip) || { echo "$ip"; return 1; }
  if [[ -n "$DELETED_POD_IP" && "$ip" == "$DELETED_POD_IP" ]]; then echo "the sentinels still name the deleted pod ($ip)"; return 1; fi
  pod=$(pod_with_ip "$ip")
  if [[ -z "$pod" || "$pod" == "$BOOTSTRAP_POD" ]]; then echo "the master $ip is not a pod of rc/$REDIS_RC"; return 1; fi
  if [[ "$(role_of "$pod")" != master ]]; then
    echo "$pod ($ip) does not answer as master"; return 1
  fi
  echo "master $pod ($ip)"
}

# controller_ready RC TARGET: scaled to at least TARGET, and every pod it wants is ready.
controller_ready() {
  local spec ready
  spec=$(k get rc "$1" -o jsonpath='{.spec.replicas}')
  ready=$(k get rc "$1" -o jsonpath='{.status.readyReplicas}')
  if ((${spec:-0} < $2 || ${ready:-0} != ${spec:-0})); then
    echo "rc/$1: ${ready:-0} ready of ${spec:-0} (target $2)"
    return 1
  fi
  echo "rc/$1 $ready/$spec ready"
}

check_controllers_ready() {
  local a b
  a=$(controller_ready "$REDIS_RC" "$REDIS_REPLICAS") || { echo "$a"; return 1; }
  b=$(controller_ready "$SENTINEL_RC" "$SENTINEL_REPLICAS") || { echo "$b"; return 1; }
  echo "$a, $b"
}

# redis_container POD: the Redis container of the bootstrap pod or of a redis controller's pod.
redis_container() { if [[ "$1" == "$BOOTSTRAP_POD" ]]; then echo "$BOOTSTRAP_REDIS_CONTAINER"; else echo "$REDIS_CONTAINER"; fi; }

# role_of POD: the role its Redis reports (master, slave), or nothing.
role_of() { pod_cli "$1" "$(redis_container "$1")" "$REDIS_PORT" INFO replication | sed -n 's/^role://p'; }

report_master() {
  local ip pod
  ip=$(master_ip) || die "could not read the master from the sentinels: $ip" "look at: kubectl logs -l $SENTINEL_SELECTOR -c $SENTINEL_CONTAINER"
  pod=$(pod_with_ip "$ip")
  say "master of $MASTER_NAME: pod ${pod:-?} at $ip:$REDIS_PORT"
  say "clients: ask the sentinels at $SENTINEL_SERVICE:$SENTINEL_PORT for master '$MASTER_NAME'"
  say "launch complete in $((SECONDS - STARTED))s"
}

# survey [quiet]: asks every running Redis pod for its role, its master and its keys (or, when its
# Redis does not answer, looks for data files in $DATA_DIR), and every sentinel for the master it
# names. Sets SURVEY_MASTERS ("pod ip" of each Redis that answers as master), SURVEY_DATA (the pods
# that hold data) and SURVEY_NAMED (each sentinel's answer, "" for none); prints a line per pod
# unless quiet.
survey() {
  local quiet=${1:-} name ip container info role keys files line addr pod
  SURVEY_MASTERS=() SURVEY_DATA=() SURVEY_NAMED=()
  while read -r name ip; do
    [[ -n "$name" ]] || continue
    container=$(redis_container "$name")
    # Called outside wait_until too, where set -e would end the script on a pod that does not answer.
    info=$(pod_cli "$name" "$container" "$REDIS_PORT" INFO replication) || true
    role=$(sed -n 's/^role://p' <<<"$info")
    if [[ -n "$role" ]]; then
      keys=$(pod_cli "$name" "$container" "$REDIS_PORT" DBSIZE) || true
      if [[ "$role" == master ]]; then
        SURVEY_MASTERS+=("$name $ip")
        line="master with $(grep -c '^slave[0-9]*:' <<<"$info" || true) replica(s)"
      else
        line="replica of $(sed -n 's/^master_host://p' <<<"$info") (link $(sed -n 's/^master_link_status://p' <<<"$info"))"
      fi
      if [[ "$keys" =~ ^[0-9]+$ ]] && ((keys > 0)); then
        SURVEY_DATA+=("$name")
        line+=", $keys keys"
      else
        line+=", no keys"
      fi
    else
      # A Redis that does not answer may still have data on disk: counted as data, never overruled.
      files=$(k exec "$name" -c "$container" -- ls -A "$DATA_DIR" 2>/dev/null | tr '\n' ' ' || true)
      line="Redis does not answer"
      if [[ -n "${files// /}" ]]; then
        SURVEY_DATA+=("$name")
        line+=", data files in $DATA_DIR: ${files% }"
      else
        line+=", no data files"
      fi
    fi
    [[ -n "$quiet" ]] || say "  redis pod $name ($ip): $line"
  done <<<"$(running_pods "$REDIS_SELECTOR")"
  while read -r name ip; do
    [[ -n "$name" ]] || continue
    addr=$(pod_cli "$name" "$SENTINEL_CONTAINER" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed -n 1p) || true
    SURVEY_NAMED+=("$addr")
    [[ -z "$quiet" ]] || continue
    if [[ -z "$addr" ]]; then
      line="names no master (not monitoring, or not answering)"
    else
      pod=$(pod_with_ip "$addr")
      if [[ -z "$pod" ]]; then line="names $addr: no running Redis pod has this IP (a pod that is gone)"
      elif [[ " ${SURVEY_MASTERS[*]} " == *" $pod $addr "* ]]; then line="names $addr ($pod, a master)"
      else line="names $addr ($pod, which is not a master)"
      fi
    fi
    say "  sentinel pod $name ($ip): $line"
  done <<<"$(running_pods "$SENTINEL_SELECTOR")"
}

# lost: true when the last survey found no master and no pod holding data.
lost() { ((${#SURVEY_MASTERS[@]} == 0 && ${#SURVEY_DATA[@]} == 0)); }

# survey_verdict: what the last survey means, and what to do when it is not one master.
survey_verdict() {
  local cli="kubectl${NAMESPACE:+ -n $NAMESPACE} exec POD -c $REDIS_CONTAINER -- sh $CLI $REDIS_PORT"
  if ((${#SURVEY_MASTERS[@]} == 1)); then
    say "one master: ${SURVEY_MASTERS[0]}; verifying the rest"
  elif ((${#SURVEY_MASTERS[@]} > 1)); then
    say "${#SURVEY_MASTERS[@]} Redis pods answer as master: ${SURVEY_MASTERS[*]}. The launch changes none of them."
    say "  A Redis master steps down when the sentinels name another master. If one does not, make it a replica of the"
    say "  master the sentinels name (its writes since the split are lost): $cli REPLICAOF <master ip> $REDIS_PORT"
  elif ((${#SURVEY_DATA[@]} > 0)); then
    say "no Redis pod is a master, but ${SURVEY_DATA[*]} hold data: the launch does not bootstrap an empty cluster over them."
    say "  The sentinels promote the replica with the newest data once a majority of them sees the master down"
    say "  (kubectl logs -l $SENTINEL_SELECTOR -c $SENTINEL_CONTAINER). If none is promoted, promote the replica with the"
    say "  highest master_repl_offset (INFO replication) by hand: $cli REPLICAOF NO ONE"
  else
    say 'no Redis pod is a master and none holds data'
  fi
}

# relaunch_survey FOUND_SECONDS: prints what the pods say and what it means. When no Redis pod is a
# master and none holds data, the pods get FOUND_SECONDS (their discovery timeout: within it a pod
# founds, follows, or exits; docs/state-machine.md) to found a cluster themselves; only if they
# have not, and a last survey still finds no master and no data, START_AFRESH=yes: the bootstrap
# pod starts a new, empty cluster. A cluster with a master or with data never starts afresh.
relaunch_survey() {
  local wait=$1 deadline
  if [[ -n "${LAUNCH_MAX_WAIT_SECONDS:-}" ]] && ((LAUNCH_MAX_WAIT_SECONDS < wait)); then wait=$LAUNCH_MAX_WAIT_SECONDS; fi
  say 'what the pods say:'
  survey
  survey_verdict
  lost || return 0
  say "waiting up to ${wait}s for the Redis pods to found a new cluster themselves"
  deadline=$((SECONDS + wait))
  while ((SECONDS < deadline)); do
    sleep "$POLL_SECONDS"
    survey quiet
    lost || break
  done
  say 'what the pods say now:'
  survey
  survey_verdict
  if lost; then
    START_AFRESH=yes
    say "starting afresh: no master anywhere and no pod holds data, so rc/$REDIS_RC and rc/$SENTINEL_RC (with their pods) are"
    say '  deleted and the bootstrap pod starts a new, empty cluster. The data of the lost pods is gone (emptyDir volumes).'
  fi
}

check_one_master() {
  local master named
  survey quiet
  if ((${#SURVEY_MASTERS[@]} != 1)); then
    echo "${#SURVEY_MASTERS[@]} Redis pods answer as master${SURVEY_MASTERS[*]:+: ${SURVEY_MASTERS[*]}}; pods holding data: ${SURVEY_DATA[*]:-none}"
    return 1
  fi
  master=${SURVEY_MASTERS[0]}
  if ((${#SURVEY_NAMED[@]} == 0)); then echo "the master is $master; no sentinel pod is running"; return 1; fi
  for named in "${SURVEY_NAMED[@]}"; do
    if [[ "$named" != "${master#* }" ]]; then echo "the master is $master; a sentinel names ${named:-no master}"; return 1; fi
  done
  echo "master $master, named by ${#SURVEY_NAMED[@]} sentinels"
}
