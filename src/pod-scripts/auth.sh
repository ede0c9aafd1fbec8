# shellcheck shell=sh
# auth.sh: the auth Secret's passwords, for the servers and for our own checks. Needs common.sh.
# Without auth (`auth: false` renders no AUTH_SECRET) nothing here is called, except is_ours, which
# then says yes.
#
# The Secret holds each user's password under its key (the second column of the ACL rules files,
# and *_PASSWORD_KEY in cluster.env); a key <key>-<suffix> adds a password that is accepted as
# well, so that two passwords work while a rotation is under way (docs/security.md). A password is
# its file's bytes, without a newline: redis-cli --askpass reads one line, and a client sends the
# bytes of its env variable as they are. Passwords travel only through files, pipes and shell
# builtins (printf), never on a command line or in the environment.

# auth_on: authentication is on.
auth_on() {
  [ -n "${AUTH_SECRET:-}" ]
}

# secret_keys: every Secret key that the ACL rules files name, one a line.
secret_keys() {
  awk '!/^#/ && NF { print $2 }' "$CONFIG_DIR/redis-users.acl" "$CONFIG_DIR/sentinel-users.acl" | sort -u
}

# password_files KEY: the file of every password accepted for KEY, one a line: KEY itself, then
# each KEY-<suffix>. (Secret keys are [-._a-zA-Z0-9]+: no space or newline in a name.)
password_files() {
  for _pf in "$AUTH_DIR/$1" "$AUTH_DIR/$1"-*; do
    [ ! -f "$_pf" ] || printf '%s\n' "$_pf"
  done
}

# secret_problem: what keeps the Secret's passwords from being used, or nothing when they can be.
secret_problem() {
  for _key in $(secret_keys); do
    if [ ! -f "$AUTH_DIR/$_key" ]; then
      printf 'key %s is missing\n' "$_key"
      return 0
    fi
    for _pf in $(password_files "$_key"); do
      if [ ! -s "$_pf" ]; then
        printf 'key %s is empty\n' "${_pf##*/}"
        return 0
      fi
      if [ "$(($(wc -l <"$_pf")))" -ne 0 ]; then
        printf 'key %s holds a newline (write each password without one, e.g. with printf %%s)\n' "${_pf##*/}"
        return 0
      fi
    done
  done
}

# password_counts: how many passwords each key has, for the logs.
password_counts() {
  for _key in $(secret_keys); do
    printf '%s %s\n' "$_key" "$(password_files "$_key" | grep -c .)"
  done | paste -sd, - | sed 's/,/, /g'
}

# wait_for_secret: returns once the Secret's passwords can be used. The Secret is mounted as
# optional, so a pod starts before it exists: the pod says once which Secret it waits for and how
# to create it, checks again every RETRY_SECONDS without a word (no crash loop), and says when it
# found it.
wait_for_secret() {
  _problem=$(secret_problem)
  while [ -n "$_problem" ]; do
    if [ "$_problem" != "${_told:-}" ]; then
      log "waiting for Secret $AUTH_SECRET: $_problem in $AUTH_DIR. To create it, $AUTH_SECRET_HINT"
      _told=$_problem
    fi
    sleep "$RETRY_SECONDS"
    _problem=$(secret_problem)
  done
  if [ -n "${_told:-}" ]; then log "found Secret $AUTH_SECRET"; fi
}

# secret_fingerprint: a checksum of the password files' names and contents; it changes when the
# kubelet updates the mounted Secret.
secret_fingerprint() {
  for _key in $(secret_keys); do
    for _pf in $(password_files "$_key"); do
      printf '%s\n' "$_pf"
      cat "$_pf"
      echo
    done
  done | cksum
}

# quoted_secret FILE: the file's bytes as one double-quoted string of \xHH escapes, which Redis
# and Sentinel config files and redis-cli's command lines read back byte for byte, whatever the
# password holds.
quoted_secret() {
  printf '"%s"' "$(od -An -v -tx1 <"$1" | tr -d ' \n' | sed 's/../\\x&/g')"
}

# password_hashes KEY: `#<sha256>` of every password accepted for KEY, each followed by a space.
password_hashes() {
  for _pf in $(password_files "$1"); do
    printf '#%s ' "$(sha256sum <"$_pf" | cut -d' ' -f1)"
  done
}

# acl_users RULES_FILE: each user of an ACL rules file of the ConfigMap as
# `<user> on <hashes of its passwords> <rules>`, which follows `user` in an ACL file and
# `ACL SETUSER` in a command.
acl_users() {
  while read -r _user _key _rules; do
    case $_user in '' | '#'*) continue ;; esac
    printf '%s on %s%s\n' "$_user" "$(password_hashes "$_key")" "$_rules"
  done <"$1"
}

# setuser_commands RULES_FILE: `ACL SETUSER <user> reset on ...` for each user, which replaces the
# user's passwords and rules in a running server.
setuser_commands() {
  acl_users "$1" | sed 's/^\([^ ]*\) /ACL SETUSER \1 reset /'
}

# write_redis_auth: writes RUN_DIR/users.acl (each user with the hashes of its passwords) and
# RUN_DIR/auth.conf (that ACL file, and the user and password this Redis replicates with), which
# redis.conf includes: mode 0600, each replaced whole by a rename.
write_redis_auth() {
  (
    umask 077
    rm -f "$RUN_DIR/users.acl.tmp" "$RUN_DIR/auth.conf.tmp"
    acl_users "$CONFIG_DIR/redis-users.acl" | sed 's/^/user /' >"$RUN_DIR/users.acl.tmp"
    {
      printf 'aclfile "%s"\n' "$RUN_DIR/users.acl"
      printf 'masteruser %s\n' "$REPLICATION_USER"
      printf 'masterauth %s\n' "$(quoted_secret "$AUTH_DIR/$REPLICATION_PASSWORD_KEY")"
    } >"$RUN_DIR/auth.conf.tmp"
    mv "$RUN_DIR/users.acl.tmp" "$RUN_DIR/users.acl"
    mv "$RUN_DIR/auth.conf.tmp" "$RUN_DIR/auth.conf"
  )
}

# sentinel_auth_lines: what a sentinel's config gets with auth: its users with the hashes of their
# passwords, and the user and password it logs in with to the Redis servers and to the other
# sentinels.
sentinel_auth_lines() {
  acl_users "$CONFIG_DIR/sentinel-users.acl" | sed 's/^/user /'
  _pass=$(quoted_secret "$AUTH_DIR/$SENTINEL_PASSWORD_KEY")
  printf 'sentinel auth-user %s %s\n' "$MASTER_NAME" "$SENTINEL_USER"
  printf 'sentinel auth-pass %s %s\n' "$MASTER_NAME" "$_pass"
  printf 'sentinel sentinel-user %s\n' "$SENTINEL_USER"
  printf 'sentinel sentinel-pass %s\n' "$_pass"
}

# without_auth_lines: sentinel.conf on stdin without the lines of sentinel_auth_lines (which
# Sentinel rewrites in a form of its own), so that a restarted sentinel gets the current passwords.
without_auth_lines() {
  grep -v -E '^(user|sentinel (auth-user|auth-pass|sentinel-user|sentinel-pass)) ' || true
}

# admin_session HOST PORT: runs the commands on stdin, one a line, on one connection to HOST:PORT
# as the admin user, and prints the replies. The commands may hold passwords (quoted_secret): they
# travel on stdin, after the admin password.
admin_session() {
  session "$CLI_TIMEOUT_SECONDS" "$1" "$2"
}

# apply HOST PORT: runs the commands on stdin (admin_session); when one did not reply OK, prints
# what failed, by error code only (an error may quote an argument), and fails.
apply() {
  _replies=$(admin_session "$1" "$2")
  _failed=$(printf '%s\n' "$_replies" | awk 'NF && $0 != "OK" { print $1 }' | sort -u | paste -sd' ' -)
  if [ -z "$_replies" ]; then
    echo "$1:$2 did not answer"
    return 1
  elif [ -n "$_failed" ]; then
    echo "$1:$2 replied $_failed"
    return 1
  fi
}

# apply_redis_auth: applies the Secret's passwords to this pod's running Redis: rewrites its auth
# files, replaces each user with ACL SETUSER, and sets the password it replicates with. Not ACL
# LOAD: on Redis 7.0 that disconnects every client of a named user, replicas and sentinels too, and
# min-replicas-to-write then refuses writes until a replica is back.
apply_redis_auth() {
  write_redis_auth
  {
    setuser_commands "$CONFIG_DIR/redis-users.acl"
    printf 'CONFIG SET masterauth %s\n' "$(quoted_secret "$AUTH_DIR/$REPLICATION_PASSWORD_KEY")"
  } | apply "$LOCAL_ADDR" "$REDIS_PORT"
}

# apply_sentinel_auth: applies the Secret's passwords to this pod's running sentinel: its users,
# the password it logs in to the Redis servers with and the one for the other sentinels; then
# saves its config (mode 0600: the entry script's umask).
apply_sentinel_auth() {
  _pass=$(quoted_secret "$AUTH_DIR/$SENTINEL_PASSWORD_KEY")
  {
    setuser_commands "$CONFIG_DIR/sentinel-users.acl"
    printf 'SENTINEL SET %s auth-pass %s\n' "$MASTER_NAME" "$_pass"
    printf 'SENTINEL CONFIG SET sentinel-pass %s\n' "$_pass"
    echo 'SENTINEL FLUSHCONFIG'
  } | apply "$LOCAL_ADDR" "$SENTINEL_PORT"
}

# watch_secret redis|sentinel FINGERPRINT: runs beside the server (in the background). When the
# Secret's files change (the kubelet updates a mounted Secret in place), it applies the new
# passwords to the running server, without a restart, and logs it: during a rotation, each pod's
# line says it accepts the new password. FINGERPRINT is the secret_fingerprint of the passwords the
# server started with. A failed attempt is tried again every AUTH_WATCH_SECONDS, logged once.
watch_secret() {
  _applied=$2
  while sleep "$AUTH_WATCH_SECONDS"; do
    _now=$(secret_fingerprint)
    [ "$_now" != "$_applied" ] || continue
    _problem=$(secret_problem)
    if [ -z "$_problem" ] && _problem=$("apply_$1_auth"); then
      _applied=$_now
      log "loaded the passwords of Secret $AUTH_SECRET into the running $1 (passwords per key: $(password_counts))"
    elif [ "$_now" != "${_failed_on:-}" ]; then
      log "Secret $AUTH_SECRET changed, but the $1 keeps its passwords: $_problem"
      _failed_on=$_now
    fi
  done
}

# is_ours ADDR: the Redis at ADDR is one of ours: it accepts our admin password and refuses a
# random wrong one (so a server that takes any password fails too). Fails silently when nothing
# answers; logs a server that answers and fails, which is then never followed. The admin password
# goes to ADDR: a host that records it passes the next challenge (Redis has no challenge-response),
# so this stops foreign servers, not an active impostor; the ACLs keep others from making the
# sentinels name one, and the NetworkPolicy keeps the pods from reaching one.
is_ours() {
  auth_on || return 0
  _wrong=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  _answer=$({
    printf 'AUTH %s %s\n' "$ADMIN_USER" "$(quoted_secret "$AUTH_DIR/$ADMIN_PASSWORD_KEY")"
    printf 'AUTH %s %s\n' "$ADMIN_USER" "$_wrong"
  } | timeout "$ASK_TIMEOUT_SECONDS" redis-cli -h "$(addr_host "$1")" -p "$(addr_port "$1")" 2>/dev/null | tr -d '\r')
  [ -n "$_answer" ] || return 1
  if [ "$(printf '%s\n' "$_answer" | sed -n 1p)" = OK ]; then
    case $(printf '%s\n' "$_answer" | sed -n 2p) in WRONGPASS*) return 0 ;; esac
  fi
  log "$(addr_text "$1") answers but is not one of ours (it must accept the admin password of Secret $AUTH_SECRET and refuse a wrong one): not following it"
  return 1
}
