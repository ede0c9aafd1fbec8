# shellcheck shell=bash
# Shared by launch and teardown: settings, preflight checks and the cluster's status.
# Sourced, never run. Plain indexed arrays only, so that macOS's bash 3.2 copes too.

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_DIR=$(cd "$DEMO_DIR/../.." && pwd)
PROG=$(basename "$0")

SETTING_FLAGS=()
SETTING_VARS=()
SETTING_KINDS=()
SETTING_DEFAULTS=()
SETTING_HELP=()

# setting FLAG VAR KIND DEFAULT HELP
# Declares one setting. A flag beats the environment variable, which beats the default.
# KIND is how the value is checked: name, text, count (>= 1), seconds (>= 0), interval
# (seconds, may be fractional), file (empty or an existing file) or any.
setting() {
  SETTING_FLAGS+=("$1")
  SETTING_VARS+=("$2")
  SETTING_KINDS+=("$3")
  SETTING_DEFAULTS+=("$4")
  SETTING_HELP+=("$5")
}

# The settings both scripts share: what the cluster is, where its kubeconfig goes, how to wait.
setting --template-name MAGNUM_TEMPLATE_NAME name testbaymodel \
  "name of the cluster template (the seed's baymodel)"
setting --cluster-name MAGNUM_CLUSTER_NAME name testbay \
  "name of the cluster (the seed's bay)"
setting --kubeconfig-dir MAGNUM_KUBECONFIG_DIR any '' \
  "directory for the cluster's kubeconfig; default demos/magnum/.kube/<cluster name>"
setting --poll-interval MAGNUM_POLL_INTERVAL interval 10 \
  'seconds between two status polls'
setting --wait-timeout MAGNUM_WAIT_TIMEOUT seconds 3600 \
  'seconds to wait for the cluster before giving up (Magnum itself gives up after 60 min)'

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

usage() {
  local i default
  printf 'usage: %s [options]\n\n%s\n\noptions (each also read from the environment variable shown):\n' \
    "$PROG" "$PURPOSE"
  for i in "${!SETTING_FLAGS[@]}"; do
    default=${SETTING_DEFAULTS[i]}
    printf '  %-26s %s\n  %-26s [%s%s]\n' "${SETTING_FLAGS[i]} VALUE" "${SETTING_HELP[i]}" '' \
      "${SETTING_VARS[i]}" "${default:+, default $default}"
  done
  printf '  %-26s %s\n' '-h, --help' 'show this help'
}

usage_error() {
  printf '%s: %s\n\n' "$PROG" "$*" >&2
  usage >&2
  exit 2
}

setting_index() {
  local i
  for i in "${!SETTING_FLAGS[@]}"; do
    if [ "${SETTING_FLAGS[i]}" = "$1" ]; then
      echo "$i"
      return 0
    fi
  done
  return 1
}

# parse_settings "$@": applies flags, then defaults to what is still unset, then checks every value.
parse_settings() {
  local arg flag value i var
  while [ $# -gt 0 ]; do
    arg=$1
    shift
    case $arg in
      -h | --help)
        usage
        exit 0
        ;;
      --*=*)
        flag=${arg%%=*}
        value=${arg#*=}
        ;;
      --*)
        flag=$arg
        [ $# -gt 0 ] || usage_error "option $flag needs a value"
        value=$1
        shift
        ;;
      *) usage_error "unexpected argument: $arg" ;;
    esac
    i=$(setting_index "$flag") || usage_error "unknown option: $flag"
    printf -v "${SETTING_VARS[i]}" '%s' "$value"
  done
  for i in "${!SETTING_VARS[@]}"; do
    var=${SETTING_VARS[i]}
    if [ -z "${!var+set}" ]; then
      printf -v "$var" '%s' "${SETTING_DEFAULTS[i]}"
    fi
    check_setting "${SETTING_FLAGS[i]} ($var)" "${SETTING_KINDS[i]}" "${!var}"
  done
  # Local to the demo, one directory per cluster; .gitignore keeps it out of commits.
  : "${MAGNUM_KUBECONFIG_DIR:=$DEMO_DIR/.kube/$MAGNUM_CLUSTER_NAME}"
}

check_setting() {
  local what=$1 kind=$2 value=$3
  case $kind in
    name)
      [[ $value =~ ^[A-Za-z][A-Za-z0-9_.-]*$ ]] ||
        usage_error "$what must start with a letter and hold only letters, digits, '_', '.' and '-'; got '$value'"
      ;;
    text) [ -n "$value" ] || usage_error "$what is required and is empty" ;;
    count)
      [[ $value =~ ^[1-9][0-9]*$ ]] || usage_error "$what must be a whole number of at least 1; got '$value'"
      ;;
    seconds)
      [[ $value =~ ^[0-9]+$ ]] || usage_error "$what must be a whole number of seconds; got '$value'"
      ;;
    interval)
      [[ $value =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_error "$what must be a number of seconds; got '$value'"
      ;;
    file)
      [ -z "$value" ] || [ -f "$value" ] || usage_error "$what: no such file: $value"
      ;;
    any) ;;
  esac
}

# The openstack CLI with Magnum's coe commands, kubectl, and credentials that Keystone accepts.
check_clients() {
  command -v openstack >/dev/null 2>&1 ||
    die "the openstack CLI is not on PATH; install it with: pip install python-openstackclient python-magnumclient"
  # 'help' needs no credentials, and fails for a command no installed plugin provides.
  openstack help coe cluster create >/dev/null 2>&1 ||
    die "the openstack CLI has no 'coe' commands; install Magnum's plugin with: pip install python-magnumclient"
  command -v kubectl >/dev/null 2>&1 ||
    die "kubectl is not on PATH; install it (https://kubernetes.io/docs/tasks/tools/)"
  if [ -z "${OS_CLOUD:-}" ] && [ -z "${OS_AUTH_URL:-}" ]; then
    die "no OpenStack credentials: set OS_CLOUD to a cloud in clouds.yaml, or source an openrc file (OS_AUTH_URL, OS_USERNAME, ...)"
  fi
  openstack token issue -f value -c expires >/dev/null ||
    die "OpenStack did not accept the credentials ('openstack token issue' failed; see above)"
}

# Sets CLUSTER_STATUS to the cluster's status, or to '' when there is no such cluster.
# A listing, not 'show', so that an error of the cloud is never mistaken for "gone".
cluster_status() {
  local listing
  listing=$(openstack coe cluster list -f value -c name -c status) || die "could not list the Magnum clusters"
  CLUSTER_STATUS=$(awk -v name="$MAGNUM_CLUSTER_NAME" '$1 == name { print $2; exit }' <<<"$listing")
}

template_exists() {
  local listing
  listing=$(openstack coe cluster template list -f value -c name) || die "could not list the Magnum cluster templates"
  grep -qxF -- "$MAGNUM_TEMPLATE_NAME" <<<"$listing"
}

# wait_for_cluster ready|gone: polls until the cluster is usable, or until it no longer exists.
# Any *_FAILED status ends the wait with Magnum's reason.
wait_for_cluster() {
  local goal=$1 start=$SECONDS elapsed reason
  while :; do
    cluster_status
    elapsed=$((SECONDS - start))
    say "[$(printf '%dm%02ds' $((elapsed / 60)) $((elapsed % 60)))] cluster $MAGNUM_CLUSTER_NAME: ${CLUSTER_STATUS:-gone}"
    case $goal:$CLUSTER_STATUS in
      gone:) return 0 ;;
      ready:) die "cluster $MAGNUM_CLUSTER_NAME disappeared while waiting for it" ;;
      ready:DELETE_*) die "cluster $MAGNUM_CLUSTER_NAME is being deleted; wait for that to finish, then run launch again" ;;
      ready:*_COMPLETE) return 0 ;;
      *:*_FAILED)
        reason=$(openstack coe cluster show "$MAGNUM_CLUSTER_NAME" -f value -c status_reason) || reason='(no reason available)'
        die "cluster $MAGNUM_CLUSTER_NAME is $CLUSTER_STATUS: ${reason:-(Magnum gave no reason)}"$'\n'"  more detail: openstack coe cluster show $MAGNUM_CLUSTER_NAME -c faults"
        ;;
    esac
    [ "$elapsed" -lt "$MAGNUM_WAIT_TIMEOUT" ] ||
      die "timed out after ${elapsed}s waiting for cluster $MAGNUM_CLUSTER_NAME (still $CLUSTER_STATUS); raise --wait-timeout (MAGNUM_WAIT_TIMEOUT) to wait longer"
    sleep "$MAGNUM_POLL_INTERVAL"
  done
}

# Writes the cluster's kubeconfig (and, for TLS clusters, its client certificates) to
# MAGNUM_KUBECONFIG_DIR and sets KUBECONFIG_FILE.
fetch_kubeconfig() {
  mkdir -p "$MAGNUM_KUBECONFIG_DIR"
  chmod 700 "$MAGNUM_KUBECONFIG_DIR"
  openstack coe cluster config "$MAGNUM_CLUSTER_NAME" --dir "$MAGNUM_KUBECONFIG_DIR" --force >/dev/null ||
    die "could not fetch the kubeconfig of cluster $MAGNUM_CLUSTER_NAME"
  KUBECONFIG_FILE=$MAGNUM_KUBECONFIG_DIR/config
  [ -f "$KUBECONFIG_FILE" ] || die "'openstack coe cluster config' wrote no $KUBECONFIG_FILE"
  say "kubeconfig: $KUBECONFIG_FILE"
}
