/**
 * The emulator's StatefulSets, PersistentVolumeClaims, nodes, scheduler, node faults and drain
 * (issue 11 §3), on small fixture manifests (e2e/fixtures/statefulset/, e2e/fixtures/nodes/).
 * See e2e/README.md.
 */

export {}; // a module, not a global script: its names stay its own
const fs = require('fs');
const os = require('os');
const path = require('path');
const { canRun, Emulator, CLIENT_NODE } = require('./lib/harness');
const { sleep, eventually } = require('./lib/polling');

const skipReason: string | null = canRun();
const describeE2E = skipReason ? describe.skip : describe;
if (skipReason) test.skip(`emulator workload tests skipped: ${skipReason}`, () => undefined);

const FIXTURES = path.join(__dirname, 'fixtures');
/** The temporary directories of fixture variants, removed at the end. */
const variantDirs: string[] = [];
afterAll(() => { for (const d of variantDirs) fs.rmSync(d, { recursive: true, force: true }); });

/** The commands of one emulator run, for the tests below. */
function kubectlOf(emu: any) {
  const k = (...args: string[]) => emu.kubectl(args, { cwd: FIXTURES });
  const jsonpath = async (what: string, tpl: string): Promise<string> => (await k('get', ...what.split(' '), '-o', `jsonpath=${tpl}`)).stdout;
  /** name → a field, for every pod matching a label selector, e.g. podsBy('app=ord', '{.spec.nodeName}'). */
  const podsBy = async (selector: string, field: string): Promise<Record<string, string>> => Object.fromEntries(
    (await jsonpath(`pods -l ${selector}`, `{range .items[*]}{.metadata.name}={${field.slice(1, -1)}}{"\\n"}{end}`))
      .split('\n').filter(Boolean).map((l: string) => l.split('=')));
  const names = async (what: string) => (await k('get', ...what.split(' '), '-o', 'name')).stdout.split('\n').filter(Boolean);
  const inPod = async (pod: string, script: string) => (await k('exec', pod, '--', 'sh', '-c', script)).stdout;
  const ready = (...pods: string[]) => Promise.all(pods.map(async (p) => expect((await k('wait', '--for=condition=Ready', `pod/${p}`, '--timeout=30s')).code).toBe(0)));
  /** A copy of a fixture with some text replaced (a new template, strategy, …), in a temporary file. */
  const variant = (fixture: string, edit: (text: string) => string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8e-variant-'));
    variantDirs.push(dir);
    const file = path.join(dir, path.basename(fixture));
    const text = fs.readFileSync(path.join(FIXTURES, fixture), 'utf8');
    fs.writeFileSync(file, edit(text));
    return file;
  };
  /** events.log lines without their time stamp. */
  const events = (): string[] => fs.readFileSync(path.join(emu.stateDir, 'events.log'), 'utf8').split('\n').map((l: string) => l.replace(/^\S+ /, ''));
  return { k, jsonpath, podsBy, names, inPod, ready, variant, events };
}

/** Whether a process still exists. */
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describeE2E('the pod emulator: StatefulSets, claims, nodes', () => {
  let emu: any;
  let kc: ReturnType<typeof kubectlOf>;
  const k = (...args: string[]) => kc.k(...args);

  beforeAll(async () => { emu = await Emulator.start(); kc = kubectlOf(emu); }, 30000);
  afterAll(async () => { if (emu) await emu.stop(); }, 30000);

  test('OrderedReady: one pod at a time, each once the last is ready; stable names, hostname and labels; a claim each; a replaced pod keeps its name and claim with a new IP; scale-down highest first, claims kept', async () => {
    expect((await k('apply', '-f', 'statefulset/ordered.yaml')).stdout).toBe('service/ord created\nstatefulset.apps/ord created\n');
    // ord-1 waits for ord-0 to be ready (the test makes each pod ready by touching /tmp/ready).
    expect(await eventually(10000, async () => (await kc.jsonpath('pod ord-0', '{.status.phase}')) === 'Running')).toBe(true);
    await sleep(1500);
    expect(await kc.names('pods -l app=ord')).toEqual(['pod/ord-0']);
    for (const [pod, next] of [['ord-0', 'ord-1'], ['ord-1', 'ord-2']]) {
      await kc.inPod(pod, 'touch /tmp/ready');
      expect(await eventually(10000, async () => (await kc.names('pods -l app=ord')).includes(`pod/${next}`))).toBe(true);
      if (next === 'ord-1') expect(await kc.names('pods -l app=ord')).toEqual(['pod/ord-0', 'pod/ord-1']);
    }
    await kc.inPod('ord-2', 'touch /tmp/ready');
    await kc.ready('ord-0', 'ord-1', 'ord-2');

    const rev = await kc.jsonpath('sts ord', '{.status.updateRevision}');
    expect(rev).toMatch(/^ord-[a-z0-9]{10}$/);
    expect(await kc.jsonpath('pod ord-1', '{.spec.hostname} {.spec.subdomain} {.metadata.labels.statefulset\\.kubernetes\\.io/pod-name} {.metadata.labels.apps\\.kubernetes\\.io/pod-index} {.metadata.labels.controller-revision-hash} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}'))
      .toBe(`ord-1 ord ord-1 1 ${rev} StatefulSet/ord data-ord-1`);
    expect((await k('get', 'sts')).stdout).toMatch(/^NAME\s+READY\s+AGE\nord\s+3\/3\s+\d+s\n$/);
    expect(await kc.jsonpath('sts ord', '{.status.readyReplicas} {.status.currentRevision} {.status.updatedReplicas} {.spec.podManagementPolicy} {.spec.updateStrategy.rollingUpdate.partition}'))
      .toBe(`3 ${rev} 3 OrderedReady 0`);
    // The claims: one per pod, labelled by the template and the set's selector, bound.
    expect(await kc.names('pvc')).toEqual(['persistentvolumeclaim/data-ord-0', 'persistentvolumeclaim/data-ord-1', 'persistentvolumeclaim/data-ord-2']);
    expect(await kc.jsonpath('pvc data-ord-0', '{.metadata.labels.claim-of} {.metadata.labels.app} {.status.phase} {.spec.storageClassName} {.status.capacity.storage}')).toBe('ord ord Bound standard 1Gi');
    expect((await k('get', 'pvc', 'data-ord-0')).stdout).toMatch(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+AGE\ndata-ord-0\s+Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+standard\s+\d+s\n$/);
    // The name server knows each ready pod by its stable name.
    const ip0 = await kc.jsonpath('pod ord-0', '{.status.podIP}');
    expect((await kc.inPod('ord-1', 'hostname; getent hosts ord-0.ord | cut -d" " -f1')).trim().split(/\s+/)).toEqual(['ord-1', ip0]);

    // A deleted pod comes back with its name and its claim, a new uid and a new IP; its preStop ran.
    await kc.inPod('ord-1', 'echo kept > /run/k8e-data/file');
    const before = await kc.jsonpath('pod ord-1', '{.metadata.uid} {.status.podIP}');
    expect((await k('delete', 'pod', 'ord-1')).code).toBe(0);
    const after = await eventually(10000, async () => {
      const now = await kc.jsonpath('pod ord-1 --ignore-not-found', '{.metadata.uid} {.status.podIP}');
      return now.includes('10.') && now;
    });
    expect(after && after.split(' ').map((x: string, i: number) => x !== before.split(' ')[i])).toEqual([true, true]);
    expect(await kc.inPod('ord-1', 'cat /run/k8e-data/file /run/k8e-data/prestop')).toBe('kept\nord-1\n');
    await kc.inPod('ord-1', 'touch /tmp/ready');
    await kc.ready('ord-1');

    // Scale-down: ord-2 goes first (its preStop takes a second); ord-1 only once ord-2 is gone.
    expect((await k('scale', 'statefulset', 'ord', '--replicas=1')).stdout).toBe('statefulset.apps/ord scaled\n');
    expect(await eventually(15000, async () => (await kc.names('pods -l app=ord')).join() === 'pod/ord-0')).toBe(true);
    const log = kc.events();
    const at = (line: string) => log.lastIndexOf(line);
    expect(at('deleting pod ord-2 (grace 5000 ms)')).toBeGreaterThan(-1);
    expect([at('deleting pod ord-2 (grace 5000 ms)') < at('pod ord-2 deleted'), at('pod ord-2 deleted') < at('deleting pod ord-1 (grace 5000 ms)')]).toEqual([true, true]);
    // Retain (the default): the claims stay, and a pod that comes back finds its data.
    expect(await kc.names('pvc')).toHaveLength(3);
    expect((await k('scale', 'sts', 'ord', '--replicas=2')).code).toBe(0);
    expect(await eventually(10000, async () => (await kc.jsonpath('pod ord-1 --ignore-not-found', '{.status.phase}')) === 'Running')).toBe(true);
    expect(await kc.inPod('ord-1', 'cat /run/k8e-data/file')).toBe('kept\n');
  }, 120000);

  test('claims: a deleted claim waits for its pod (pvc-protection); a pod that comes back then gets a new, empty volume; the wipe control empties one', async () => {
    const uid = await kc.jsonpath('pvc data-ord-1', '{.metadata.uid}');
    const d = await k('delete', 'pvc', 'data-ord-1', '--wait=false');
    expect(d.stdout).toBe('persistentvolumeclaim "data-ord-1" deleted\n');
    // In use by ord-1: terminating, still there, its data too.
    await sleep(500);
    expect((await k('get', 'pvc', 'data-ord-1')).stdout).toMatch(/\ndata-ord-1\s+Terminating\s/);
    expect(await kc.jsonpath('pvc data-ord-1', '{.metadata.finalizers[0]}')).toBe('kubernetes.io/pvc-protection');
    expect(await kc.inPod('ord-1', 'cat /run/k8e-data/file')).toBe('kept\n');
    // The pod goes: so does the claim; the set makes a new claim and the pod starts on it, empty.
    expect((await k('delete', 'pod', 'ord-1', '--grace-period=0')).code).toBe(0);
    const fresh = await eventually(15000, async () => {
      const u = await kc.jsonpath('pvc data-ord-1 --ignore-not-found', '{.metadata.uid}');
      return u && u !== uid && (await kc.jsonpath('pod ord-1 --ignore-not-found', '{.status.phase}')) === 'Running' && u;
    });
    expect(fresh).toBeTruthy();
    expect(await kc.inPod('ord-1', 'ls -A /run/k8e-data; echo end')).toBe('end\n');
    // The wipe control empties a claim under a running pod.
    await kc.inPod('ord-0', 'echo x > /run/k8e-data/a; mkdir -p /run/k8e-data/b');
    expect((await emu.wipeClaim('data-ord-0')).sort()).toEqual(['a', 'b']);
    expect(await kc.inPod('ord-0', 'ls -A /run/k8e-data; echo end')).toBe('end\n');
    expect((await k('delete', '-f', 'statefulset/ordered.yaml')).code).toBe(0);
    expect((await k('delete', 'pvc', 'data-ord-0', 'data-ord-1', 'data-ord-2')).code).toBe(0);
    expect(await kc.names('pvc')).toEqual([]);
  }, 60000);

  test('Parallel: every pod at once; RollingUpdate highest ordinal first, each replacement ready before the next; partition; OnDelete; rollout status; the retention policy deletes claims; fixed fields refused', async () => {
    expect((await k('apply', '-f', 'statefulset/parallel.yaml')).code).toBe(0);
    expect(await kc.names('pods -l app=par')).toEqual(['pod/par-0', 'pod/par-1', 'pod/par-2']);
    const status = await k('rollout', 'status', 'statefulset/par', '--timeout=30s');
    expect({ code: status.code, last: status.stdout.trim().split('\n').pop() }).toEqual({ code: 0, last: 'partitioned roll out complete: 3 new pods have been updated...' });
    const rev1 = await kc.jsonpath('sts par', '{.status.updateRevision}');

    // A new template: a new revision, rolled out from par-2 down, one pod at a time.
    const v2 = kc.variant('statefulset/parallel.yaml', (t) => t.replace('value: "1"', 'value: "2"'));
    expect((await k('apply', '-f', v2)).stdout).toBe('service/par unchanged\nstatefulset.apps/par configured\n');
    const rev2 = await kc.jsonpath('sts par', '{.status.updateRevision}');
    expect(rev2).not.toBe(rev1);
    expect((await k('rollout', 'status', 'statefulset/par', '--timeout=30s')).code).toBe(0);
    const log = kc.events();
    const deletions = log.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('statefulset par rolling update: deleting'));
    expect(deletions.map(([l]) => l.split(' ')[5])).toEqual(['par-2', 'par-1', 'par-0']);
    // Each replacement was ready before the next pod went.
    for (let j = 0; j < 2; j++) {
      const pod = deletions[j][0].split(' ')[5];
      const readyAt = log.findIndex((l, i) => i > deletions[j][1] && l === `${pod}/main ready`);
      expect({ pod, readyBeforeNext: readyAt > deletions[j][1] && readyAt < deletions[j + 1][1] }).toEqual({ pod, readyBeforeNext: true });
    }
    expect(await kc.jsonpath('sts par', '{.status.currentRevision} {.status.updatedReplicas} {.status.readyReplicas} {.metadata.generation} {.status.observedGeneration}')).toBe(`${rev2} 3 3 2 2`);

    // partition 2: only par-2 moves on.
    const v3 = kc.variant('statefulset/parallel.yaml', (t) => t.replace('value: "1"', 'value: "3"').replace('type: RollingUpdate', 'type: RollingUpdate\n    rollingUpdate: {partition: 2}'));
    expect((await k('apply', '-f', v3)).code).toBe(0);
    const partitioned = await k('rollout', 'status', 'statefulset/par', '--timeout=30s');
    expect(partitioned.stdout.trim().split('\n').pop()).toBe('partitioned roll out complete: 1 new pods have been updated...');
    const rev3 = await kc.jsonpath('sts par', '{.status.updateRevision}');
    expect(await kc.podsBy('app=par', '{.metadata.labels.controller-revision-hash}')).toEqual({ 'par-0': rev2, 'par-1': rev2, 'par-2': rev3 });
    expect(await kc.jsonpath('sts par', '{.status.currentRevision} {.status.currentReplicas} {.status.updatedReplicas}')).toBe(`${rev2} 2 1`);

    // OnDelete: nothing moves until a pod is deleted; that one comes back at the update revision.
    const v4 = kc.variant('statefulset/parallel.yaml', (t) => t.replace('value: "1"', 'value: "4"').replace('type: RollingUpdate', 'type: OnDelete'));
    expect((await k('apply', '-f', v4)).code).toBe(0);
    const rev4 = await kc.jsonpath('sts par', '{.status.updateRevision}');
    await sleep(1500);
    expect(await kc.podsBy('app=par', '{.metadata.labels.controller-revision-hash}')).toEqual({ 'par-0': rev2, 'par-1': rev2, 'par-2': rev3 });
    expect((await k('delete', 'pod', 'par-1')).code).toBe(0);
    expect(await eventually(10000, async () => (await kc.podsBy('app=par', '{.metadata.labels.controller-revision-hash}'))['par-1'] === rev4)).toBe(true);
    const onDelete = await k('rollout', 'status', 'sts/par', '--timeout=5s');
    expect({ code: onDelete.code, err: onDelete.stderr }).toEqual({ code: 1, err: 'error: rollout status is only available for RollingUpdate strategy type\n' });

    // Fields the API server does not let an update change.
    const fixed = await k('apply', '-f', kc.variant('statefulset/parallel.yaml', (t) => t.replace('storage: 64Mi', 'storage: 128Mi')));
    expect(fixed.code).toBe(1);
    expect(fixed.stderr).toContain('StatefulSet.apps "par" is invalid: spec: Forbidden: updates to statefulset spec for fields other than');

    // whenScaled: Delete: the claims of the pods a scale-down removes go with them; whenDeleted:
    // Delete: the rest go with the set.
    expect(await kc.names('pvc')).toEqual(['persistentvolumeclaim/data-par-0', 'persistentvolumeclaim/data-par-1', 'persistentvolumeclaim/data-par-2']);
    expect(await kc.jsonpath('pvc data-par-0', '{.spec.storageClassName} {.metadata.ownerReferences[0].kind}')).toBe('fast StatefulSet');
    expect((await k('scale', 'sts', 'par', '--replicas=1')).code).toBe(0);
    expect(await eventually(10000, async () => (await kc.names('pvc')).join() === 'persistentvolumeclaim/data-par-0')).toBe(true);
    expect(await kc.names('pods -l app=par')).toEqual(['pod/par-0']);
    expect((await k('delete', 'statefulset', 'par')).stdout).toBe('statefulset.apps "par" deleted\n');
    expect(await eventually(10000, async () => (await kc.names('pvc')).length === 0 && (await kc.names('pods -l app=par')).length === 0)).toBe(true);
    expect((await k('delete', 'svc', 'par')).code).toBe(0);
  }, 120000);

  test('nodes and the scheduler: three nodes; required anti-affinity, a controller\'s pods spread, nodeSelector, taints and tolerations; the downward API names the node', async () => {
    expect((await k('get', 'nodes')).stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nk8e-node-a\s+Ready\s+<none>\s+\d+s\s+v1\.28\.0-k8e\nk8e-node-b\s+Ready\s.*\nk8e-node-c\s+Ready\s.*\n$/);
    expect(await kc.jsonpath('nodes', '{range .items[*]}{.metadata.labels.kubernetes\\.io/hostname} {.metadata.labels.topology\\.kubernetes\\.io/zone} {.status.addresses[0].address};{end}'))
      .toBe('k8e-node-a k8e-zone-a 10.243.0.10;k8e-node-b k8e-zone-b 10.243.0.11;k8e-node-c k8e-zone-c 10.243.0.12;');
    expect((await k('apply', '-f', 'nodes/spread.yaml')).code).toBe(0);
    const placed = async (sel: string) => Object.values(await kc.podsBy(sel, '{.spec.nodeName}')).sort();
    const all = ['k8e-node-a', 'k8e-node-b', 'k8e-node-c'];
    expect(await placed('app=spread')).toEqual(all);
    expect(await placed('app=spread-rc')).toEqual(all);
    const rcPod = Object.keys(await kc.podsBy('app=spread-rc', '{.spec.nodeName}'))[0];
    await kc.ready(rcPod);
    const where = await kc.jsonpath(`pod ${rcPod}`, '{.spec.nodeName} {.status.hostIP}');
    expect(await eventually(3000, async () => (await kc.inPod(rcPod, 'cat /tmp/node')).trim())).toBe(where);
    // A fourth pod that may share no node with the others fits nowhere.
    expect((await k('scale', 'sts', 'spread', '--replicas=4')).code).toBe(0);
    expect(await eventually(5000, async () => (await kc.jsonpath('pod spread-3 --ignore-not-found', '{.status.phase}')) === 'Pending')).toBe(true);
    expect(await kc.jsonpath('pod spread-3', '{.status.conditions[?(@.type=="PodScheduled")].reason}: {.status.conditions[?(@.type=="PodScheduled")].message}'))
      .toBe("Unschedulable: 0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    expect((await k('scale', 'sts', 'spread', '--replicas=3')).code).toBe(0);

    // The node lost: its pods die at once and leave; nothing lands on it while it is NotReady.
    const onC = Object.entries({ ...(await kc.podsBy('app=spread', '{.spec.nodeName}')), ...(await kc.podsBy('app=spread-rc', '{.spec.nodeName}')) })
      .filter(([, n]) => n === 'k8e-node-c').map(([p]) => p).sort();
    const pids = (await emu.pods()).filter((p: any) => onC.includes(p.name)).flatMap((p: any) => p.containers.map((c: any) => c.pid));
    const killed = await emu.nodeLost('k8e-node-c');
    expect([...killed].sort()).toEqual(onC);
    expect(await eventually(2000, async () => pids.every((pid: number) => !alive(pid)))).toBe(true);
    expect((await k('get', 'node', 'k8e-node-c')).stdout).toMatch(/\nk8e-node-c\s+NotReady\s/);
    // spread-2 comes back but may share a node with no other spread pod: it waits for node-c.
    const spread2 = async () => kc.jsonpath('pod spread-2 --ignore-not-found', '{.status.phase} {.status.conditions[?(@.type=="PodScheduled")].message}');
    expect(await eventually(5000, async () => (await spread2()).startsWith('Pending'))).toBe(true);
    expect(await spread2()).toBe("Pending 0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) didn't match pod anti-affinity rules.");
    expect((await placed('app=spread-rc')).filter((n) => n === 'k8e-node-c')).toEqual([]);
    await emu.nodeBack('k8e-node-c');
    expect(await eventually(5000, async () => (await kc.jsonpath('pod spread-2', '{.status.phase} {.spec.nodeName}')) === 'Running k8e-node-c')).toBe(true);
    expect((await k('delete', '-f', 'nodes/spread.yaml', '--grace-period=0')).code).toBe(0);

    // Taints: node-c refuses pods that do not tolerate its taint; NoExecute evicts them.
    await emu.taint('k8e-node-c', [{ key: 'k8e-test', value: 'on', effect: 'NoSchedule' }]);
    expect((await k('apply', '-f', 'nodes/placement.yaml')).code).toBe(0);
    expect(await kc.podsBy('app=placement', '{.spec.nodeName}')).toEqual({ 'zone-b': 'k8e-node-b', tolerant: 'k8e-node-c', intolerant: '' });
    expect(await kc.jsonpath('pod intolerant', '{.status.conditions[0].message}'))
      .toBe("0/3 nodes are available: 1 node(s) had untolerated taint {k8e-test: on}, 2 node(s) didn't match Pod's node affinity/selector.");
    await emu.taint('k8e-node-c', []);
    expect(await eventually(5000, async () => (await kc.jsonpath('pod intolerant', '{.spec.nodeName}')) === 'k8e-node-c')).toBe(true);
    await emu.taint('k8e-node-c', [{ key: 'k8e-test', value: 'on', effect: 'NoExecute' }]);
    expect(await eventually(5000, async () => (await kc.names('pods -l app=placement')).join() === 'pod/zone-b')).toBe(true);
    await emu.taint('k8e-node-c', []);
    expect((await k('delete', '-f', 'nodes/placement.yaml', '--grace-period=0', '--ignore-not-found')).code).toBe(0);
  }, 90000);

  test('drain: cordon; pods without a controller or with an emptyDir refused without the flags; evictions through the PodDisruptionBudget (429, retried after 5 s) with preStop and grace; --timeout; uncordon; a lost node\'s pod comes back elsewhere with its claim', async () => {
    expect((await k('apply', '-f', 'nodes/drain.yaml')).code).toBe(0);
    expect((await k('apply', '-f', 'nodes/bare.yaml')).code).toBe(0);
    await kc.ready('drn-0', 'drn-1', 'drn-2', 'bare');
    const nodeOf = async () => kc.podsBy('app=drn', '{.spec.nodeName}');
    expect(Object.values(await nodeOf()).sort()).toEqual(['k8e-node-a', 'k8e-node-b', 'k8e-node-c']);
    const onA = Object.entries(await nodeOf()).find(([, n]) => n === 'k8e-node-a')![0];

    const refused = await k('drain', 'k8e-node-a', '--ignore-daemonsets');
    expect({ code: refused.code, out: refused.stdout }).toEqual({ code: 1, out: 'node/k8e-node-a cordoned\n' });
    expect(refused.stderr).toBe(`error: unable to drain node "k8e-node-a" due to error: [cannot delete Pods with local storage (use --delete-emptydir-data to override): default/${onA}, cannot delete Pods that declare no controller (use --force to override): default/bare], continuing command...\n`
      + `There are pending nodes to be drained:\n k8e-node-a\ncannot delete Pods with local storage (use --delete-emptydir-data to override): default/${onA}\ncannot delete Pods that declare no controller (use --force to override): default/bare\n`);
    expect((await k('get', 'node', 'k8e-node-a')).stdout).toMatch(/\nk8e-node-a\s+Ready,SchedulingDisabled\s/);

    // The pod on node-a is evicted: its preStop runs (1 s), and it comes back on another node.
    const t0 = Date.now();
    const drained = await k('drain', 'k8e-node-a', '--ignore-daemonsets', '--delete-emptydir-data', '--pod-selector=app=drn');
    expect({ code: drained.code, out: drained.stdout, err: drained.stderr }).toEqual({
      code: 0, err: '', out: `node/k8e-node-a already cordoned\nevicting pod default/${onA}\npod/${onA} evicted\nnode/k8e-node-a drained\n`,
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(await eventually(10000, async () => { const n = (await nodeOf())[onA]; return n && n !== 'k8e-node-a'; })).toBe(true);
    await kc.ready(onA);
    expect(await kc.inPod(onA, 'cat /run/k8e-data/prestop')).toBe(`${onA}\n`);
    expect((await k('uncordon', 'k8e-node-a')).stdout).toBe('node/k8e-node-a uncordoned\n');
    expect((await k('delete', 'pod', 'bare', '--grace-period=0')).code).toBe(0);

    // A budget that allows no disruption: a pod of another node is not ready.
    const nodes = await nodeOf();
    const counts = Object.values(nodes).reduce((m: Record<string, number>, n) => ({ ...m, [n]: (m[n] || 0) + 1 }), {});
    const [target, node] = Object.entries(nodes).find(([, n]) => counts[n] === 1)!;
    const unready = Object.keys(nodes).find((p) => nodes[p] !== node)!;
    await kc.inPod(unready, 'touch /tmp/unready');
    expect(await eventually(10000, async () => (await kc.jsonpath('pdb drn', '{.status.disruptionsAllowed}')) === '0')).toBe(true);
    const line = `error when evicting pods/"${target}" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.\n`;
    const timedOut = await k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=2s');
    expect({ code: timedOut.code, out: timedOut.stdout }).toEqual({ code: 1, out: `node/${node} cordoned\nevicting pod default/${target}\nevicting pod default/${target}\n` });
    expect(timedOut.stderr).toBe(`${line}error: unable to drain node "${node}" due to error: error when evicting pods/"${target}" -n "default": global timeout reached: 2s, continuing command...\n`
      + `There are pending nodes to be drained:\n ${node}\nerror when evicting pods/"${target}" -n "default": global timeout reached: 2s\n`);
    expect(await nodeOf()).toEqual(nodes);
    // Retried every 5 s: once the other pod is ready again, the eviction goes through.
    const refusals = () => kc.events().filter((l) => l.startsWith(`eviction of pod ${target} refused (429)`)).length;
    const refusedBefore = refusals();
    const drain = k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=30s');
    expect(await eventually(5000, async () => refusals() > refusedBefore)).toBe(true);
    await kc.inPod(unready, 'rm /tmp/unready');
    const r = await drain;
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: line });
    expect(r.stdout).toBe(`node/${node} already cordoned\nevicting pod default/${target}\nevicting pod default/${target}\npod/${target} evicted\nnode/${node} drained\n`);
    expect((await k('uncordon', node)).code).toBe(0);

    // The node of a pod is lost: the pod comes back on another node with its claim's data.
    await kc.ready('drn-0', 'drn-1', 'drn-2');
    const victim = 'drn-1';
    const lostNode = (await nodeOf())[victim];
    await kc.inPod(victim, 'echo survived > /run/k8e-data/file');
    expect(await emu.nodeLost(lostNode)).toContain(victim);
    expect(await eventually(10000, async () => { const n = (await nodeOf())[victim]; return !!n && n !== lostNode; })).toBe(true);
    await kc.ready(victim);
    expect(await kc.inPod(victim, 'cat /run/k8e-data/file')).toBe('survived\n');
    const view = (await emu.nodes()).find((n: any) => n.name === lostNode);
    expect({ ready: view.ready, pods: view.pods, taints: view.taints.map((t: any) => `${t.key}:${t.effect}`) })
      .toEqual({ ready: false, pods: [], taints: ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute'] });
    await emu.nodeBack(lostNode);
    expect((await k('get', 'node', lostNode)).stdout).toMatch(new RegExp(`\\n${lostNode}\\s+Ready\\s`));
    expect((await k('delete', '-f', 'nodes/drain.yaml', '--grace-period=0')).code).toBe(0);
    expect((await k('delete', 'pvc', 'data-drn-0', 'data-drn-1', 'data-drn-2')).code).toBe(0);
  }, 120000);
});

describeE2E('the pod emulator: four nodes in two zones, and a client node', () => {
  let emu: any;
  let kc: ReturnType<typeof kubectlOf>;

  beforeAll(async () => {
    emu = await Emulator.start({ nodes: [{ name: 'n1', zone: 'z1' }, { name: 'n2', zone: 'z1' }, { name: 'n3', zone: 'z2' }, { name: 'n4', zone: 'z2' }, { ...CLIENT_NODE, zone: 'z1' }] });
    kc = kubectlOf(emu);
  }, 30000);
  afterAll(async () => { if (emu) await emu.stop(); }, 30000);

  test('the client pod prefers the client node and tolerates its taint (the spread test below: the taint keeps other pods off)', async () => {
    expect((await kc.k('apply', '-f', 'client-pod.yaml')).code).toBe(0);
    expect(await kc.jsonpath('pod k8e-client', '{.spec.nodeName}')).toBe('k8e-node-client');
    expect(await kc.jsonpath('node k8e-node-client', '{.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect} {.metadata.labels.k8e\\.io/test-client}'))
      .toBe('k8e.io/test-client=true:NoSchedule true');
  });

  test('a run chooses its nodes; topology spread over zones with DoNotSchedule: evenly, and Pending past maxSkew', async () => {
    expect(await kc.jsonpath('nodes', '{range .items[*]}{.metadata.name}/{.metadata.labels.topology\\.kubernetes\\.io/zone} {end}')).toBe('k8e-node-client/z1 n1/z1 n2/z1 n3/z2 n4/z2 ');
    expect((await kc.k('apply', '-f', 'nodes/zones.yaml')).code).toBe(0);
    const zoneCounts = async () => {
      const zone: Record<string, string> = { n1: 'z1', n2: 'z1', n3: 'z2', n4: 'z2' };
      const counts: Record<string, number> = {};
      for (const n of Object.values(await kc.podsBy('app=zs', '{.spec.nodeName}'))) if (n) counts[zone[n]] = (counts[zone[n]] || 0) + 1;
      return counts;
    };
    expect(await zoneCounts()).toEqual({ z1: 2, z2: 2 });
    // z2 cordoned: a fifth pod goes to z1 (skew 1), a sixth would make it 2.
    expect((await kc.k('cordon', 'n3')).code).toBe(0);
    expect((await kc.k('cordon', 'n4')).code).toBe(0);
    expect((await kc.k('scale', 'sts', 'zs', '--replicas=6')).code).toBe(0);
    expect(await eventually(5000, async () => (await kc.jsonpath('pod zs-5 --ignore-not-found', '{.status.phase}')) === 'Pending')).toBe(true);
    expect(await zoneCounts()).toEqual({ z1: 3, z2: 2 });
    expect(await kc.jsonpath('pod zs-5', '{.status.conditions[0].message}'))
      .toBe("0/5 nodes are available: 1 node(s) had untolerated taint {k8e.io/test-client: true}, 2 node(s) didn't match pod topology spread constraints, 2 node(s) were unschedulable.");
    expect((await kc.k('uncordon', 'n3')).code).toBe(0);
    expect(await eventually(5000, async () => (await kc.jsonpath('pod zs-5', '{.spec.nodeName}')) === 'n3')).toBe(true);
  }, 60000);
});
