// dist/launch/launch.sh against a recording stand-in kubectl: the order of its calls, what a second
// run skips, and what a wait that times out says. (The e2e suite runs it against the emulator.)
import { spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const DIST = join(__dirname, '..', 'dist');

/** A kubectl that logs each call and answers from $KUBECTL_STATE: "new" or "launched". */
const STAND_IN = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$KUBECTL_LOG"
case "$*" in
  "apply -f "*) echo "applied \${3##*/}" ;;
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
    writeFileSync(log, '');
    const r = spawnSync('bash', [join(DIST, 'launch', 'launch.sh')], {
      env: { PATH: `${dir}:${process.env.PATH}`, KUBECTL_LOG: log, KUBECTL_STATE: state, LAUNCH_MAX_WAIT_SECONDS: '1', LAUNCH_POLL_SECONDS: '0.2' },
      encoding: 'utf8',
      timeout: 30000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('launch.sh', () => {
  test('a first launch applies the files in order, then a wait that times out says what did not hold and what to look at', () => {
    const r = launch('new');
    expect(r.status).toBe(1);
    expect(r.calls).toEqual([
      'get rc redis -o jsonpath={.spec.replicas} --ignore-not-found',
      `apply -f ${DIST}/00-config.k8s.yaml`,
      `apply -f ${DIST}/01-master-pod.k8s.yaml`,
      `apply -f ${DIST}/02-sentinel-service.k8s.yaml`,
      `apply -f ${DIST}/03-redis-controller.k8s.yaml`,
      `apply -f ${DIST}/04-sentinel-controller.k8s.yaml`,
      ...r.calls.slice(6).map(() => 'get pod redis-master -o jsonpath={.status.podIP} --ignore-not-found'),
    ]);
    expect(r.calls.length).toBeGreaterThan(6);
    expect(r.stdout).toMatch(/^\[ {3}0s\] step 1\/7: Apply the manifests in order$/m);
    expect(r.stdout).toMatch(/^\[ {3}\ds\] step 2\/7: Wait for the bootstrap master and its sentinel$/m);
    expect(r.stdout).toContain('waiting (up to 1s) until pod/redis-master runs a master and its sentinel monitors it');
    expect(r.stdout).not.toContain('step 3/7');
    expect(r.stderr).toMatch(/FAILED: timed out after 1s waiting until pod\/redis-master runs a master and its sentinel monitors it\n/);
    expect(r.stderr).toContain('last check: pod/redis-master has no IP yet');
    expect(r.stderr).toContain('look at: kubectl describe pod redis-master; kubectl logs redis-master -c master; kubectl logs redis-master -c sentinel');
  });

  test('a run after a completed launch does not re-create the bootstrap pod nor scale, and only verifies', () => {
    const r = launch('launched');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('rc/redis is already scaled to 3: redis was launched before; verifying only');
    expect(r.stdout).toContain('skipping 01-master-pod.k8s.yaml: the bootstrap pod belongs to the first launch only');
    expect(r.stdout.match(/skipped: the cluster is already launched/g)).toHaveLength(2);
    expect(r.calls.filter((c) => c.startsWith('apply'))).toEqual([
      `apply -f ${DIST}/00-config.k8s.yaml`,
      `apply -f ${DIST}/02-sentinel-service.k8s.yaml`,
      `apply -f ${DIST}/03-redis-controller.k8s.yaml`,
      `apply -f ${DIST}/04-sentinel-controller.k8s.yaml`,
    ]);
    expect(r.calls.filter((c) => /^(scale|delete)/.test(c))).toEqual([]);
    // With no pods at all, step 4's first wait fails and names what it saw.
    expect(r.stderr).toContain('FAILED: timed out after 1s waiting until at least 3 redis pods run and every replica is in sync with the master');
    expect(r.stderr).toContain('last check: no sentinel pod is running');
  });
});
