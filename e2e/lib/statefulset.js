// @ts-check
'use strict';
// The StatefulSet topology (issue 11) on the pod emulator, as the e2e test
// (e2e/statefulset.e2e.test.ts) and the failover benchmark (bench/failover-bench.js) both drive it:
// brought up by `kubectl apply` alone once the auth Secret exists, judged healthy by its
// StatefulSets' ready pods, rolled to a new pod template, restarted whole. Either sentinel
// placement: sidecars in the Redis pods (dist/statefulset/) or a StatefulSet of their own
// (synthesize()).

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const YAML = require('yaml');
const { DEFAULT_NODES, CLIENT_NODE } = require('./harness');
const s = require('./scenario');
const f = require('./faults');

/** @typedef {import('./harness').Emulator} Emulator */

/** The ready app's StatefulSet topology (instance redis-ha), beside the classic dist/. */
const DIST = path.join(s.DIST, 'statefulset');
/** The client pod of instance redis-ha: its names, the label its NetworkPolicy admits. */
const CLIENT_MANIFEST = path.join(__dirname, '..', 'fixtures', 'redis-ha-client-pod.yaml');
/** The Secret the pods wait for (not in the manifests: a GitOps setup provides it). */
const SECRET = 'redis-ha-auth';
const SECRET_KEYS = ['client-password', 'replication-password', 'sentinel-password', 'admin-password'];

/** A new emulator run with this topology's client pod ready, on a node of its own (out of the way of node faults). */
function start() {
  return s.startWithClient({ nodes: [...DEFAULT_NODES, CLIENT_NODE], manifest: CLIENT_MANIFEST });
}

/**
 * The compiled library (lib/, as `npm run build` makes it), typed from its sources: lib/ is absent
 * on a fresh clone until the build, and the lint runs before it.
 */
function library() {
  const dir = path.join(s.ROOT, 'lib', 'src');
  return {
    main: /** @type {typeof import('../../src/main')} */ (require(path.join(dir, 'main'))),
    props: /** @type {typeof import('../../src/props')} */ (require(path.join(dir, 'props'))),
  };
}

/**
 * Synthesizes the topology with other props (e.g. the sentinels in a StatefulSet of their own) into
 * a new temporary folder, with the ready app's own function (buildStatefulSetApp: instance redis-ha).
 * @param {import('../../src/props').RedisSentinelStatefulSetProps} props
 * @returns {string} the folder
 */
function synthesize(props) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8e-sts-synth-'));
  library().main.buildStatefulSetApp(props, outdir).app.synth();
  return outdir;
}

/**
 * The StatefulSets the manifests in `dist` make: the Redis pods' one and, when the sentinels run
 * apart, theirs; how to count their ready pods and wait for their rollouts.
 * @param {string} dist
 */
function topology(dist) {
  /** @type {any[]} */
  const sets = fs.readdirSync(dist).filter((file) => file.endsWith('.k8s.yaml'))
    .flatMap((file) => YAML.parseAllDocuments(fs.readFileSync(path.join(dist, file), 'utf8'), { version: '1.1' }).map((d) => d.toJS()))
    .filter((d) => d && d.kind === 'StatefulSet');
  /** @param {string} container */
  const withContainer = (container) => sets.find((d) => d.spec.template.spec.containers.some((/** @type {any} */ c) => c.name === container));
  const redisSet = withContainer('redis');
  if (!redisSet) throw new Error(`no StatefulSet with a container 'redis' in ${dist}`);
  const sentinelSet = withContainer('sentinel');
  /** @type {string} */
  const redis = redisSet.metadata.name;
  /** @type {string | null} sidecars: null */
  const sentinels = sentinelSet && sentinelSet !== redisSet ? sentinelSet.metadata.name : null;
  const names = sentinels ? [redis, sentinels] : [redis];
  /** @param {Emulator} emu @param {string} name */
  const readyOf = async (emu, name) => Number((await emu.kubectl(['get', 'sts', name, '-o', 'jsonpath={.status.readyReplicas}'])).stdout || 0);
  return {
    dist,
    redis,
    sentinels,
    /**
     * How the faults' health check (scenario.judge) sees this topology: the ready pods of the Redis
     * StatefulSet (key `redis`) and of the sentinels' own, when they have one.
     * @param {Emulator} emu
     * @returns {Promise<Record<string, number>>}
     */
    ready: async (emu) => ({ redis: await readyOf(emu, redis), ...(sentinels ? { [sentinels]: await readyOf(emu, sentinels) } : {}) }),
    /**
     * Until every pod of each StatefulSet is ready again (a replaced pod, a new revision).
     * @param {Emulator} emu @param {number} timeoutMs
     */
    settled: async (emu, timeoutMs) => {
      for (const name of names) {
        const r = await emu.kubectl(['rollout', 'status', `statefulset/${name}`, `--timeout=${Math.round(timeoutMs / 1000)}s`], { timeoutMs: timeoutMs + 30000 });
        if (r.code !== 0) throw new Error(`rollout status: ${r.stdout}${r.stderr}`);
      }
    },
  };
}
/** @typedef {ReturnType<typeof topology>} Topology */

/**
 * Creates the auth Secret from files of random passwords, as a GitOps setup provides it (sealed or
 * external secrets): the passwords reach no argv and no log. Resolves with kubectl's result.
 * @param {Emulator} emu
 */
async function createSecret(emu) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8e-sts-secret-'));
  try {
    for (const key of SECRET_KEYS) fs.writeFileSync(path.join(dir, key), crypto.randomBytes(18).toString('base64url'));
    return await emu.kubectl(['create', 'secret', 'generic', SECRET, ...SECRET_KEYS.map((key) => `--from-file=${key}=${path.join(dir, key)}`)], { timeoutMs: 180000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A copy of the manifests in a new temporary folder with an annotation on the Redis pods' template:
 * a new revision, as an image or config change makes.
 * @param {Topology} topo
 * @param {string} revision
 * @returns {string} the folder
 */
function changedTemplate(topo, revision) {
  const changed = fs.mkdtempSync(path.join(os.tmpdir(), 'k8e-sts-update-'));
  for (const file of fs.readdirSync(topo.dist)) {
    const docs = fs.readFileSync(path.join(topo.dist, file), 'utf8').split('\n---\n');
    // Only the Redis StatefulSet's document: a sentinel StatefulSet has a pod template too.
    const i = docs.findIndex((d) => /^kind: StatefulSet$/m.test(d) && new RegExp(`^  name: ${topo.redis}$`, 'm').test(d));
    if (i >= 0) docs[i] = docs[i].replace(/(  template:\n    metadata:\n)/, `$1      annotations:\n        k8e.io/revision: "${revision}"\n`);
    fs.writeFileSync(path.join(changed, file), docs.join('\n---\n'));
  }
  return changed;
}

/**
 * A rolling update: a changed pod template (changedTemplate) applied, until every pod runs it and is
 * ready. Resolves with when it began and ended, the master it began with, kubectl apply's result and
 * the order in which the pods were replaced (the StatefulSet controller goes from the highest
 * ordinal down).
 * @param {Emulator} emu
 * @param {Topology} topo
 * @param {string} revision the new template's annotation k8e.io/revision
 */
async function rollingUpdate(emu, topo, revision) {
  const changed = changedTemplate(topo, revision);
  try {
    const { master } = await f.roles(emu);
    const redisPods = (await f.redisPods(emu)).length;
    const t0 = Date.now();
    const applied = await emu.kubectl(['apply', '-f', changed], { timeoutMs: 180000 });
    /** @type {string[]} */
    const order = [];
    const seen = new Set();
    /** @type {Record<string, unknown>} */
    const created = {};
    for (const p of await emu.pods()) created[p.name] = p.created;
    for (let i = 0; i < 600 && seen.size < redisPods; i++) {
      for (const p of await emu.pods()) {
        if (created[p.name] && p.created !== created[p.name] && !seen.has(p.name)) {
          seen.add(p.name);
          order.push(`${p.name}${p.name === master.pod ? ' (master)' : ''} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        }
      }
      await s.sleep(250);
    }
    await topo.settled(emu, 180000);
    return { t0, tEnd: Date.now(), master, applied, order };
  } finally {
    fs.rmSync(changed, { recursive: true, force: true });
  }
}

/**
 * Until the master is on its home pod (MASTER_HOME_POD of cluster.env: ordinal 0 with
 * masterOnFirstPod), at most timeoutMs; resolves with the time it took, or rejects with where the
 * master is. Resolves with null at once when the topology has no home.
 * @param {Emulator} emu @param {import('./faults').ClusterSettings} cs @param {number} timeoutMs
 * @returns {Promise<number | null>}
 */
async function masterHome(emu, cs, timeoutMs) {
  const home = cs.env.MASTER_HOME_POD;
  if (!home) return null;
  const t0 = Date.now();
  let last = 'unknown';
  for (;;) {
    try {
      const { master } = await f.roles(emu);
      if (master.pod === home) return Date.now() - t0;
      last = master.pod;
    } catch (e) {
      last = /** @type {Error} */ (e).message.slice(0, 300);
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`the master is not on its home pod ${home} after ${timeoutMs} ms: ${last}`);
    await s.sleep(500);
  }
}

/**
 * The handovers the data plane saw between from and to, each with its write-unavailability window.
 * A handover: another pod than the last one became the one pod that accepts writes (the
 * two-masters monitor's timeline, polled every 200 ms; Sentinel's +switch-master would count each
 * handover once per sentinel). Its window: the writer's gap that ends nearest to it, up to 1 s
 * before the monitor saw the new master (null: no gap above the writer's threshold). Gaps that no
 * handover explains are returned apart.
 * @param {import('./faults').MasterChange[]} timeline
 * @param {import('./faults').Gap[]} gaps the writer's gaps in that time (writeWindows)
 * @param {number} from @param {number} to
 * @returns {{ handovers: Array<{ t: number, pod: string, windowMs: number | null }>, otherGapsMs: number[] }}
 */
function handoverWindows(timeline, gaps, from, to) {
  /** @type {Array<{ t: number, pod: string }>} */
  const changes = [];
  /** @type {string | null} */
  let last = null;
  for (const c of timeline) {
    if (c.t > to || c.accepting.length !== 1) continue;
    const pod = c.accepting[0].split('@')[0];
    if (last !== null && pod !== last && c.t >= from) changes.push({ t: c.t, pod });
    last = pod;
  }
  const free = new Set(gaps);
  const handovers = changes.map(({ t, pod }) => {
    const near = [...free].filter((g) => g.from <= t && t <= g.to + 1000).sort((a, b) => Math.abs(a.to - t) - Math.abs(b.to - t))[0];
    if (near) free.delete(near);
    return { t, pod, windowMs: near ? near.ms : null };
  });
  return { handovers, otherGapsMs: [...free].map((g) => g.ms) };
}

/**
 * What the writer's client did in one of its gaps: its connection events (fault-agent.js trace)
 * from 200 ms before the gap to its end, as "+ms event" from the gap's start.
 * @param {{ trace?: Array<[number, string]> }} writer @param {import('./faults').Gap} gap
 */
function gapEvents(writer, gap) {
  const events = (writer.trace || []).filter(([t]) => t >= gap.from - 200 && t <= gap.to);
  return events.map(([t, e]) => `+${t - gap.from} ms ${e}`).join('; ') || 'none';
}

/**
 * The write-unavailability windows of a fault: the writer's gaps (fault-agent.js: no write
 * acknowledged for longer than its gap threshold) that overlap the fault's time [t0, tEnd].
 * @param {{ gaps: import('./faults').Gap[] }} writer the fault-agent writer's result
 * @param {{ t0: number, tEnd: number }} inj
 */
function writeWindows(writer, inj) {
  return writer.gaps.filter((g) => g.to > inj.t0 && g.from < inj.tEnd);
}

/** Every Redis and sentinel pod running now (the same pods when the sentinels are sidecars), sorted. @param {Emulator} emu */
async function clusterPodNames(emu) {
  return [...new Set([...await f.redisPods(emu), ...await f.sentinelPods(emu)].map((p) => p.name))].sort();
}

/**
 * The fault 'restart-all': every Redis and sentinel pod deleted in one instant with grace 0, the
 * volumes kept (a whole-cluster restart). With freezeBehind, the replica with the lowest ordinal is
 * frozen for 2 s first, so that it falls behind while the writer's writes are acknowledged by the
 * other: the ordinal alone would pick it to found the cluster again, and its data lacks
 * acknowledged writes.
 * @param {{ freezeBehind?: boolean }} [opts]
 * @returns {import('./faults').Fault}
 */
function restartAll({ freezeBehind = false } = {}) {
  return {
    name: 'restart-all',
    what: 'restart-all',
    settleMs: (b) => b.foundMs,
    inject: async (emu) => {
      const pods = await clusterPodNames(emu);
      let frozen = '';
      if (freezeBehind) {
        const { replicas } = await f.roles(emu);
        const behind = replicas.map((r) => r.pod).sort()[0];
        await emu.freeze(behind);
        await s.sleep(2000);
        frozen = `froze ${behind} for 2 s, then `;
      }
      const t0 = Date.now();
      await emu.deletePods(pods, { gracePeriod: 0 });
      return { t0, tEnd: t0, failover: false, detail: `${frozen}deleted ${pods.join(', ')} with grace 0` };
    },
  };
}

module.exports = { DIST, CLIENT_MANIFEST, SECRET, start, library, synthesize, topology, createSecret, changedTemplate, rollingUpdate, masterHome, handoverWindows, gapEvents, writeWindows, clusterPodNames, restartAll };
