// dist/launch/launch.sh against a recording stand-in kubectl: the order of its calls, what a second
// run skips, how it makes the Secret, and what a wait that times out says. (The e2e suite runs it
// against the emulator.)
import { spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const DIST = join(__dirname, '..', 'dist');
const MANIFEST = join(DIST, 'redis-sentinel.k8s.yaml');
const SELECTOR = 'app.kubernetes.io/name=redis,app.kubernetes.io/instance=redis';

/**
 * A kubectl that logs each call and answers from $KUBECTL_STATE: "new" (nothing exists), "launched"
 * (the Secret exists and rc/redis is scaled). For `create secret` it records each key's file: its
 * mode and whether it holds 64 hex characters, never the text.
 */
const STAND_IN = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$KUBECTL_LOG"
case "$*" in
  "apply -f "*) echo "applied \${3##*/}" ;;
  "get secret redis-auth -o name --ignore-not-found") [[ $KUBECTL_STATE == launched ]] && echo secret/redis-auth ;;
  "create secret generic redis-auth "*)
    for arg in "\${@:5}"; do
      file=\${arg#--from-file=*=}; key=\${arg#--from-file=}; key=\${key%%=*}
      printf 'file %s mode %s hex64 %s\\n' "$key" "$(stat -c %a "$file")" "$(grep -cE '^[0-9a-f]{64}$' "$file")" >>"$KUBECTL_LOG"
      echo "$file" >>"$KUBECTL_FILES"
    done
    echo "secret/redis-auth created" ;;
  "get rc redis -o jsonpath={.spec.replicas} --ignore-not-found") [[ $KUBECTL_STATE == launched ]] && echo 3 ;;
  "get pod redis-master -o jsonpath={.status.podIP} --ignore-not-found") ;;
  "get pods -l "*) ;;
  *) echo "stand-in kubectl: unexpected: $*" >&2; exit 1 ;;
esac
exit 0
`;

function launch(state: 'new' | 'launched') {
  const dir = mkdtempSync(join(tmpdir(), 'launch-'));
  try {
    writeFileSync(join(dir, 'kubectl'), STAND_IN);
    chmodSync(join(dir, 'kubectl'), 0o755);
    const log = join(dir, 'calls.log');
    const files = join(dir, 'files.log');
    writeFileSync(log, '');
    writeFileSync(files, '');
    const r = spawnSync('bash', [join(DIST, 'launch', 'launch.sh')], {
      env: { PATH: `${dir}:${process.env.PATH}`, KUBECTL_LOG: log, KUBECTL_FILES: files, KUBECTL_STATE: state, LAUNCH_MAX_WAIT_SECONDS: '1', LAUNCH_POLL_SECONDS: '0.2' },
      encoding: 'utf8',
      timeout: 30000,
    });
    const passwordFiles = readFileSync(files, 'utf8').split('\n').filter(Boolean);
    return {
      status: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n'),
      passwordFilesLeft: passwordFiles.filter((f) => spawnSync('test', ['-e', f]).status === 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('launch.sh', () => {
  test('a first launch makes the Secret, applies the manifest, then a wait that times out says what did not hold and what to look at', () => {
    const r = launch('new');
    expect(r.status).toBe(1);
    const keys = ['client-password', 'replication-password', 'sentinel-password', 'admin-password'];
    expect(r.calls.slice(0, 8)).toEqual([
      'get rc redis -o jsonpath={.spec.replicas} --ignore-not-found',
      'get secret redis-auth -o name --ignore-not-found',
      expect.stringMatching(new RegExp(`^create secret generic redis-auth ${keys.map((k) => `--from-file=${k}=/\\S+/${k}`).join(' ')}$`)),
      ...keys.map((k) => `file ${k} mode 600 hex64 1`),
      `apply -f ${MANIFEST} -l ${SELECTOR}`,
    ]);
    expect(r.calls.slice(8).every((c) => c === 'get pod redis-master -o jsonpath={.status.podIP} --ignore-not-found')).toBe(true);
    expect(r.passwordFilesLeft).toEqual([]);
    expect(r.stdout).toMatch(/^\[ {3}0s\] step 1\/8: Create the Secret redis-auth with random passwords, unless it exists$/m);
    expect(r.stdout).toMatch(/^\[ {3}\ds\] step 3\/8: Wait for the bootstrap master and its sentinel$/m);
    expect(r.stdout).toContain('waiting (up to 1s) until pod/redis-master runs a master and its sentinel monitors it');
    expect(r.stdout).not.toContain('step 4/8');
    expect(r.stderr).toMatch(/FAILED: timed out after 1s waiting until pod\/redis-master runs a master and its sentinel monitors it\n/);
    expect(r.stderr).toContain('last check: pod/redis-master has no IP yet');
    expect(r.stderr).toContain('look at: kubectl describe pod redis-master; kubectl logs redis-master -c master; kubectl logs redis-master -c sentinel');
    // The passwords went to kubectl as files only: nothing of them on the terminal.
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/[0-9a-f]{64}/);
  });

  test('a run after a completed launch keeps the Secret, does not re-create the bootstrap pod nor scale, and only verifies', () => {
    const r = launch('launched');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('secret/redis-auth exists: keeping it');
    expect(r.stdout).toContain('rc/redis is already scaled to 3: redis was launched before; applying all but the bootstrap pod, then verifying only');
    expect(r.stdout.match(/skipped: the cluster is already launched/g)).toHaveLength(2);
    expect(r.calls.filter((c) => /^(apply|create)/.test(c))).toEqual([`apply -f ${MANIFEST} -l ${SELECTOR},app.kubernetes.io/component!=bootstrap`]);
    expect(r.calls.filter((c) => /^(scale|delete)/.test(c))).toEqual([]);
    // With no pods at all, the first wait after the apply fails and names what it saw.
    expect(r.stderr).toContain('FAILED: timed out after 1s waiting until at least 3 redis pods run and every replica is in sync with the master');
    expect(r.stderr).toContain('last check: no sentinel pod is running');
  });
});
