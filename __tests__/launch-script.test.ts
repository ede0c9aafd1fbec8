// dist/launch/launch.sh against a recording stand-in kubectl: the order of its calls, what a second
// run skips, how it makes the Secret, what a wait that times out says, and what a relaunch does on a
// broken cluster (issue 8 §3): it says what it finds, re-bootstraps only a cluster with no master
// and no data, and never makes a second master. (The e2e suites run it against the emulator.)
import { spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const DIST = join(__dirname, '..', 'dist');
const MANIFEST = join(DIST, 'redis-sentinel.k8s.yaml');
const SELECTOR = 'app.kubernetes.io/name=redis,app.kubernetes.io/instance=redis';
const FIRST_APPLY = `apply -f ${MANIFEST} -l ${SELECTOR}`;
const START_AFRESH = 'delete rc redis redis-sentinel --ignore-not-found --wait=true --timeout=120s';

/** A pod as the stand-in shows it: its Redis (null: does not answer) and its sentinel's answer. */
interface FakePod {
  name: string;
  ip: string;
  labels: string[];
  redis?: { role: 'master' | 'slave'; masterHost?: string; link?: 'up' | 'down'; keys: number; replicas?: string[] } | null;
  /** The Redis answers only from its Nth INFO on (a pod that founds while the launch waits). */
  answersFrom?: number;
  files?: string[];
  /** The master its sentinel names ('' for none); no sentinel container when undefined. */
  names?: string;
}

interface FakeCluster {
  rcReplicas?: number;
  secret?: boolean;
  pods: FakePod[];
  /** What applying the whole manifest brings: the bootstrap pod, as a master, and its sentinel. */
  bootstrapIp?: string;
}

/**
 * A kubectl that logs each call to $KUBECTL_LOG and answers from the cluster in $KUBECTL_STATE
 * (JSON, updated in place: applying the whole manifest adds the bootstrap pod, deleting the
 * controllers their pods). For `create secret` it records
 * each key's file: its mode and whether it holds 64 hex characters, never the text.
 */
const STAND_IN = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
const line = args.join(' ');
fs.appendFileSync(process.env.KUBECTL_LOG, line + '\\n');
const st = JSON.parse(fs.readFileSync(process.env.KUBECTL_STATE, 'utf8'));
const save = () => fs.writeFileSync(process.env.KUBECTL_STATE, JSON.stringify(st));
const out = (s) => { if (s !== '') process.stdout.write(s + '\\n'); };
const fail = () => { process.stderr.write('stand-in kubectl: unexpected: ' + line + '\\n'); process.exit(1); };
const pod = (n) => st.pods.find((p) => p.name === n);
const sel = (s) => st.pods.filter((p) => s.split(',').every((l) => p.labels.includes(l)));
let m;
if (line.startsWith('apply -f ')) {
  out('applied ' + args[2].split('/').pop() + ' -l ' + args[4]);
  if (!/component/.test(args[4]) && st.bootstrapIp) {
    st.pods.push({ name: 'redis-master', ip: st.bootstrapIp, labels: ['name=redis', 'redis-sentinel=true'], redis: { role: 'master', keys: 0, replicas: [] }, names: st.bootstrapIp });
    save();
  }
} else if (line === 'get secret redis-auth -o name --ignore-not-found') { if (st.secret) out('secret/redis-auth'); }
else if (line.startsWith('create secret generic redis-auth ')) {
  for (const a of args.slice(4)) {
    const [, key, file] = /^--from-file=([^=]+)=(.*)$/.exec(a);
    const mode = (fs.statSync(file).mode & 0o777).toString(8);
    const hex = /^[0-9a-f]{64}$/.test(fs.readFileSync(file, 'utf8')) ? 1 : 0;
    fs.appendFileSync(process.env.KUBECTL_LOG, 'file ' + key + ' mode ' + mode + ' hex64 ' + hex + '\\n');
    fs.appendFileSync(process.env.KUBECTL_FILES, file + '\\n');
  }
  out('secret/redis-auth created');
} else if (line === 'get rc redis -o jsonpath={.spec.replicas} --ignore-not-found') { if (st.rcReplicas) out(String(st.rcReplicas)); }
else if ((m = /^get rc (\\S+) -o jsonpath=\\{\\.(spec\\.replicas|status\\.readyReplicas)\\}$/.exec(line))) {
  out(String(sel(m[1] === 'redis' ? 'name=redis' : 'redis-sentinel=true').filter((p) => p.name !== 'redis-master').length));
} else if ((m = /^get pod (\\S+) -o jsonpath=\\{\\.status\\.podIP\\} --ignore-not-found$/.exec(line))) { out(pod(m[1]) ? pod(m[1]).ip : ''); }
else if ((m = /^get pods -l (\\S+) --field-selector=status\\.phase=Running -o jsonpath=/.exec(line))) {
  out(sel(m[1]).map((p) => p.name + ' ' + p.ip + ' ').join('\\n'));
} else if ((m = /^exec (\\S+) -c (\\S+) -- ls -A (\\S+)$/.exec(line))) { out((pod(m[1]).files || []).join('\\n')); }
else if ((m = /^exec (\\S+) -c (\\S+) -- sh \\S+ (\\d+) (.*)$/.exec(line))) {
  const p = pod(m[1]);
  const cmd = m[4];
  if (m[3] === '26379') {
    if (p.names === undefined) process.exit(1);
    if (cmd === 'SENTINEL get-master-addr-by-name mymaster') { if (p.names) out(p.names + '\\n6379'); }
    else if (cmd === 'SENTINEL ckquorum mymaster') out('OK ' + sel('redis-sentinel=true').length + ' usable Sentinels. Quorum and failover authorization can be reached');
    else fail();
  } else {
    if (cmd === 'INFO replication') { p.infoCalls = (p.infoCalls || 0) + 1; save(); }
    if (!p.redis || (p.infoCalls || 0) < (p.answersFrom || 0)) process.exit(1);
    const r = p.redis;
    if (cmd === 'INFO replication') {
      out(r.role === 'master'
        ? ['role:master', 'connected_slaves:' + (r.replicas || []).length, ...(r.replicas || []).map((ip, i) => 'slave' + i + ':ip=' + ip + ',port=6379,state=online,offset=1,lag=0')].join('\\r\\n')
        : ['role:slave', 'master_host:' + r.masterHost, 'master_port:6379', 'master_link_status:' + r.link].join('\\r\\n'));
    } else if (cmd === 'DBSIZE') out(String(r.keys));
    else fail();
  }
} else if (line.startsWith('delete pod redis-master ')) { st.pods = st.pods.filter((p) => p.name !== 'redis-master'); save(); }
else if (line.startsWith('delete rc redis redis-sentinel ')) { st.pods = []; delete st.rcReplicas; save(); }
else if (/^scale rc \\S+ --replicas=\\d+$/.test(line)) out(args[2] + ' scaled');
else fail();
`;

function launch(cluster: FakeCluster) {
  const dir = mkdtempSync(join(tmpdir(), 'launch-'));
  try {
    writeFileSync(join(dir, 'kubectl'), STAND_IN);
    chmodSync(join(dir, 'kubectl'), 0o755);
    const log = join(dir, 'calls.log');
    const files = join(dir, 'files.log');
    const state = join(dir, 'cluster.json');
    writeFileSync(log, '');
    writeFileSync(files, '');
    writeFileSync(state, JSON.stringify(cluster));
    const r = spawnSync('bash', [join(DIST, 'launch', 'launch.sh')], {
      env: { PATH: `${dir}:${process.env.PATH}`, KUBECTL_LOG: log, KUBECTL_FILES: files, KUBECTL_STATE: state, LAUNCH_MAX_WAIT_SECONDS: '1', LAUNCH_POLL_SECONDS: '0.2' },
      encoding: 'utf8',
      timeout: 60000,
    });
    const passwordFiles = readFileSync(files, 'utf8').split('\n').filter(Boolean);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    return {
      status: r.status, stdout: r.stdout, stderr: r.stderr, calls,
      changes: calls.filter((c) => /^(apply|create|scale|delete|exec \S+ -c \S+ -- sh \S+ \d+ (REPLICAOF|SLAVEOF|SENTINEL (failover|monitor|remove|reset)))/i.test(c)),
      passwordFilesLeft: passwordFiles.filter((f) => spawnSync('test', ['-e', f]).status === 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const RELAUNCH_APPLY = `apply -f ${MANIFEST} -l ${SELECTOR},app.kubernetes.io/component!=bootstrap`;

/** A launched instance: three Redis pods and three sentinels, by the controllers' labels. */
function redisPod(name: string, ip: string, redis: FakePod['redis'], extra: Partial<FakePod> = {}): FakePod {
  return { name, ip, labels: ['name=redis'], redis, ...extra };
}
function sentinelPod(name: string, ip: string, names: string): FakePod {
  return { name, ip, labels: ['redis-sentinel=true'], names };
}
const sentinels = (names: string) => [sentinelPod('redis-sentinel-aaaaa', '10.0.0.21', names), sentinelPod('redis-sentinel-bbbbb', '10.0.0.22', names), sentinelPod('redis-sentinel-ccccc', '10.0.0.23', names)];
const launched = (pods: FakePod[], extra: Partial<FakeCluster> = {}): FakeCluster => ({ rcReplicas: 3, secret: true, pods, ...extra });

describe('launch.sh', () => {
  test('a first launch makes the Secret, applies the manifest, then a wait that times out says what did not hold and what to look at', () => {
    const r = launch({ pods: [] });
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
    expect(r.stdout).toMatch(/^\[ {3}\ds\] step 1\/10: Create the Secret redis-auth with random passwords, unless it exists$/m);
    expect(r.stdout.match(/skipped: a first launch/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/^\[ {3}\ds\] step 5\/10: Wait for the bootstrap master and its sentinel$/m);
    expect(r.stdout).toContain('waiting (up to 1s) until pod/redis-master runs a master and its sentinel monitors it');
    expect(r.stdout).not.toContain('step 6/10');
    expect(r.stderr).toMatch(/FAILED: timed out after 1s waiting until pod\/redis-master runs a master and its sentinel monitors it\n/);
    expect(r.stderr).toContain('last check: pod/redis-master has no IP yet');
    expect(r.stderr).toContain('look at: kubectl describe pod redis-master; kubectl logs redis-master -c master; kubectl logs redis-master -c sentinel');
    // The passwords went to kubectl as files only: nothing of them on the terminal.
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/[0-9a-f]{64}/);
  });

  test('a run after a completed launch keeps the Secret, re-creates neither the bootstrap pod nor the scale, says what it finds, and verifies', () => {
    const r = launch(launched([
      redisPod('redis-aaaaa', '10.0.0.11', { role: 'master', keys: 42, replicas: ['10.0.0.12', '10.0.0.13'] }),
      redisPod('redis-bbbbb', '10.0.0.12', { role: 'slave', masterHost: '10.0.0.11', link: 'up', keys: 42 }),
      redisPod('redis-ccccc', '10.0.0.13', { role: 'slave', masterHost: '10.0.0.11', link: 'up', keys: 42 }),
      ...sentinels('10.0.0.11'),
    ]));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('secret/redis-auth exists: keeping it');
    expect(r.stdout).toContain('rc/redis is already scaled to 3: redis was launched before; surveying, applying all but the bootstrap pod, then verifying');
    expect(r.stdout.match(/skipped: the cluster is already launched/g)).toHaveLength(2);
    expect(r.stdout).toContain('redis pod redis-aaaaa (10.0.0.11): master with 2 replica(s), 42 keys');
    expect(r.stdout).toContain('redis pod redis-bbbbb (10.0.0.12): replica of 10.0.0.11 (link up), 42 keys');
    expect(r.stdout).toContain('sentinel pod redis-sentinel-aaaaa (10.0.0.21): names 10.0.0.11 (redis-aaaaa, a master)');
    expect(r.stdout).toContain('one master: redis-aaaaa 10.0.0.11; verifying the rest');
    expect(r.stdout).toContain('master of mymaster: pod redis-aaaaa at 10.0.0.11:6379');
    // The one change: the manifests again, without the bootstrap pod (and the delete of a bootstrap pod that is not there).
    expect(r.changes).toEqual([RELAUNCH_APPLY, 'delete pod redis-master --ignore-not-found --wait=true --timeout=120s']);
  });

  test('every pod lost: it gives the pods time to found a cluster, then starts afresh as a first launch and says the data is gone', () => {
    const r = launch(launched([
      redisPod('redis-aaaaa', '10.0.0.11', null),
      // A sentinel that still names the lost master would keep a new bootstrap pod from founding.
      ...sentinels('10.0.0.9'),
    ], { bootstrapIp: '10.0.0.30' }));
    expect(r.stdout).toContain('redis pod redis-aaaaa (10.0.0.11): Redis does not answer, no data files');
    expect(r.stdout).toContain('no Redis pod is a master and none holds data');
    expect(r.stdout).toContain('waiting up to 1s for the Redis pods to found a new cluster themselves');
    expect(r.stdout).toContain('starting afresh: no master anywhere and no pod holds data, so rc/redis and rc/redis-sentinel (with their pods) are');
    expect(r.stdout).toContain('The data of the lost pods is gone (emptyDir volumes).');
    expect(r.stdout).toContain('rc/redis, rc/redis-sentinel and their pods are gone: launching afresh, as a first launch');
    // The first launch's steps: the whole manifest (the bootstrap pod first), its master, the scale.
    expect(r.changes).toEqual([START_AFRESH, FIRST_APPLY, 'scale rc redis --replicas=3', 'scale rc redis-sentinel --replicas=3']);
    expect(r.stdout).toContain('ok: pod/redis-master runs a master and its sentinel monitors it (master 10.0.0.30:6379, monitored by its sentinel)');
    expect(r.stderr).toContain('FAILED: timed out after 1s waiting until at least 3 redis pods run and every replica is in sync with the master');
    expect(r.stderr).toContain('last check: 1 of 3 redis pods running');
  });

  test('no master anywhere, but the pods found one while it waits: no re-bootstrap', () => {
    const r = launch(launched([
      redisPod('redis-aaaaa', '10.0.0.11', { role: 'master', keys: 0, replicas: [] }, { answersFrom: 2 }),
      redisPod('redis-bbbbb', '10.0.0.12', null),
      redisPod('redis-ccccc', '10.0.0.13', null),
      ...sentinels(''),
    ], { bootstrapIp: '10.0.0.30' }));
    expect(r.stdout).toContain('redis pod redis-bbbbb (10.0.0.12): Redis does not answer, no data files');
    expect(r.stdout).toContain('waiting up to 1s for the Redis pods to found a new cluster themselves');
    expect(r.stdout).toContain('one master: redis-aaaaa 10.0.0.11; verifying the rest');
    expect(r.stdout).not.toContain('starting afresh');
    expect(r.changes).toEqual([RELAUNCH_APPLY]);
    expect(r.stderr).toContain('last check: the master is redis-aaaaa 10.0.0.11; a sentinel names no master');
  });

  test('no master, but a replica holds data: it does not bootstrap over it and says how to promote it', () => {
    const r = launch(launched([
      redisPod('redis-bbbbb', '10.0.0.12', { role: 'slave', masterHost: '10.0.0.11', link: 'down', keys: 42 }),
      redisPod('redis-ccccc', '10.0.0.13', { role: 'slave', masterHost: '10.0.0.11', link: 'down', keys: 0 }),
      ...sentinels('10.0.0.11'),
    ], { bootstrapIp: '10.0.0.30' }));
    expect(r.stdout).toContain('sentinel pod redis-sentinel-aaaaa (10.0.0.21): names 10.0.0.11: no running Redis pod has this IP (a pod that is gone)');
    expect(r.stdout).toContain('no Redis pod is a master, but redis-bbbbb hold data: the launch does not bootstrap an empty cluster over them.');
    expect(r.stdout).toContain('kubectl exec POD -c redis -- sh /etc/redis-sentinel/cli.sh 6379 REPLICAOF NO ONE');
    expect(r.stdout).not.toContain('waiting up to');
    expect(r.changes).toEqual([RELAUNCH_APPLY]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('FAILED: timed out after 1s waiting until exactly one Redis pod is a master and every sentinel names it');
    expect(r.stderr).toContain('last check: 0 Redis pods answer as master; pods holding data: redis-bbbbb');
  });

  test('a Redis that does not answer but has data files counts as holding data', () => {
    const r = launch(launched([
      redisPod('redis-bbbbb', '10.0.0.12', null, { files: ['appendonlydir', 'dump.rdb'] }),
      ...sentinels(''),
    ], { bootstrapIp: '10.0.0.30' }));
    expect(r.stdout).toContain('redis pod redis-bbbbb (10.0.0.12): Redis does not answer, data files in /redis-master-data: appendonlydir dump.rdb');
    expect(r.stdout).toContain('no Redis pod is a master, but redis-bbbbb hold data');
    expect(r.changes).toEqual([RELAUNCH_APPLY]);
  });

  test('two masters: it names both and what the sentinels say, changes neither, and fails saying so', () => {
    const r = launch(launched([
      redisPod('redis-aaaaa', '10.0.0.11', { role: 'master', keys: 42, replicas: ['10.0.0.13'] }),
      redisPod('redis-bbbbb', '10.0.0.12', { role: 'master', keys: 40, replicas: [] }),
      redisPod('redis-ccccc', '10.0.0.13', { role: 'slave', masterHost: '10.0.0.11', link: 'up', keys: 42 }),
      ...sentinels('10.0.0.11'),
    ], { bootstrapIp: '10.0.0.30' }));
    expect(r.stdout).toContain('2 Redis pods answer as master: redis-aaaaa 10.0.0.11 redis-bbbbb 10.0.0.12. The launch changes none of them.');
    expect(r.stdout).toContain('REPLICAOF <master ip> 6379');
    expect(r.changes).toEqual([RELAUNCH_APPLY]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('last check: 2 Redis pods answer as master: redis-aaaaa 10.0.0.11 redis-bbbbb 10.0.0.12');
  });
});
