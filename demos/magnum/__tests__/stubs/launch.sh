#!/usr/bin/env bash
# Stand-in for dist/launch/launch.sh in the demo's tests: records that it ran, with the
# KUBECONFIG it was given, to $STUB_LOG, and exits with $STUB_LAUNCH_EXIT (default 0).
set -euo pipefail

: "${STUB_LOG:?}"
printf 'KUBECONFIG=%s launch.sh%s\n' "${KUBECONFIG-<unset>}" "${*:+ $*}" >>"$STUB_LOG"
echo "stand-in Redis launch sequence"
exit "${STUB_LAUNCH_EXIT:-0}"
